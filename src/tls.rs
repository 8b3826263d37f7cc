//! TLS, defined once for the hub and for every client of it.
//!
//! - [`ServerTls`]: the hub's certificate chain and key (`regie serve
//!   --tls-cert --tls-key`), checked at start-up so a bad file is one clear
//!   error naming it, never a failure at the first viewer's handshake.
//! - [`ClientTls`]: what a client trusts (the system's roots, or only the
//!   private CA of `--ca FILE`) and whether it may send a staff token in
//!   clear to a host that is not this machine (`--insecure`). The console,
//!   the crowd, the staff client and the bench all connect through
//!   [`connect`], so `wss://` means the same thing everywhere.
//! - [`check_token_transport`]: a staff token never crosses a network in
//!   clear by accident.
//!
//! rustls runs on the `ring` provider everywhere: it builds with a C
//! compiler alone (aws-lc-rs needs cmake and nasm).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// Why TLS could not be set up. Each names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {} holds no PEM {expected}", path.display())]
    Empty {
        what: &'static str,
        path: PathBuf,
        expected: &'static str,
    },
    #[error("{what} {} is not valid PEM: {reason}", path.display())]
    Pem {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "the certificate {} and the key {} do not go together: {reason}",
        cert.display(),
        key.display()
    )]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("the CA file {} holds no certificate rustls accepts: {reason}", path.display())]
    BadCa { path: PathBuf, reason: String },
    #[error("TLS set-up: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The one crypto provider: `ring`.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The hub's side: a certificate chain and its key, ready to accept.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never reaches a log line.
        f.write_str("ServerTls(<certificate and key>)")
    }
}

impl ServerTls {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1), and checks that the key is the
    /// certificate's.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let cert_pem = read("certificate", cert)?;
        let key_pem = read("key", key)?;
        let chain = certificates("certificate", cert, &cert_pem)?;
        let key_der = private_key(key, &key_pem)?;
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| TlsError::Mismatch {
                cert: cert.to_owned(),
                key: key.to_owned(),
                reason: e.to_string(),
            })?;
        let mut config = config;
        // The hub speaks HTTP/1.1 only (the WebSocket upgrade is HTTP/1.1).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
        })
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
    }
}

/// A client's side: which certificates it trusts, and whether it may send
/// a staff token in clear beyond this machine. Cheap to clone; the
/// system's roots are read once per process.
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<rustls::ClientConfig>,
    /// `--insecure`: a staff token may go over plain `ws://` to any host.
    pub insecure: bool,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

/// The system's roots: what `wss://` trusts without `--ca`.
impl Default for ClientTls {
    fn default() -> Self {
        static SYSTEM: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
        let config = SYSTEM
            .get_or_init(|| {
                let found = rustls_native_certs::load_native_certs();
                for e in &found.errors {
                    tracing::debug!(error = %e, "a system root certificate could not be read");
                }
                let mut roots = rustls::RootCertStore::empty();
                let (added, ignored) = roots.add_parsable_certificates(found.certs);
                tracing::debug!(added, ignored, "system root certificates");
                client_config(roots)
            })
            .clone();
        Self {
            config,
            insecure: false,
        }
    }
}

impl ClientTls {
    /// Trusts only the certificates of the PEM file `ca` (a private CA, or
    /// a self-signed hub certificate), not the system's roots.
    pub fn with_ca(ca: &Path) -> Result<Self, TlsError> {
        let pem = read("CA file", ca)?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in certificates("CA file", ca, &pem)? {
            roots.add(cert).map_err(|e| TlsError::BadCa {
                path: ca.to_owned(),
                reason: e.to_string(),
            })?;
        }
        Ok(Self {
            config: client_config(roots),
            insecure: false,
        })
    }

    /// `--ca` when given (only its certificates), else the system's roots;
    /// `insecure`: `--insecure`.
    pub fn new(ca: Option<&Path>, insecure: bool) -> Result<Self, TlsError> {
        let mut tls = match ca {
            Some(ca) => Self::with_ca(ca)?,
            None => Self::default(),
        };
        tls.insecure = insecure;
        Ok(tls)
    }
}

fn client_config(roots: rustls::RootCertStore) -> Arc<rustls::ClientConfig> {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports rustls' default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

fn certificates(
    what: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what,
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Empty {
            what,
            path: path.to_owned(),
            expected: "certificate",
        });
    }
    Ok(chain)
}

fn private_key(path: &Path, pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    use rustls_pki_types::pem::Error;
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        Error::NoItemsFound => TlsError::Empty {
            what: "key",
            path: path.to_owned(),
            expected: "private key",
        },
        e => TlsError::Pem {
            what: "key",
            path: path.to_owned(),
            reason: e.to_string(),
        },
    })
}

/// The WebSocket of a client: plain or TLS, as the URL says.
pub type ClientSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `url`: `ws://` in clear, `wss://` with `tls`'s
/// trust. `nodelay`: small frames leave at once.
pub async fn connect(
    url: &str,
    tls: &ClientTls,
    socket: Option<WebSocketConfig>,
) -> Result<ClientSocket, tokio_tungstenite::tungstenite::Error> {
    let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        url,
        socket,
        true,
        Some(Connector::Rustls(tls.config.clone())),
    )
    .await?;
    Ok(ws)
}

/// A staff token would cross the network in clear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing to send a staff token over plain ws:// to {host}, which is not this machine: \
     anyone on the path could read it and act as you. Use a wss:// URL (the hub serves TLS with \
     `regie serve --tls-cert/--tls-key`, or behind a TLS reverse proxy), or pass --insecure if \
     this network is trusted"
)]
pub struct PlainTokenRefused {
    pub host: String,
}

/// Checked before any connection that carries a staff token: plain
/// `ws://` is allowed to loopback (`127.0.0.0/8`, `::1`, `localhost`) and,
/// with `insecure`, anywhere. `wss://` always is. A `ws://` URL whose host
/// cannot be read is refused: it cannot be shown to be this machine.
pub fn check_token_transport(url: &str, insecure: bool) -> Result<(), PlainTokenRefused> {
    if insecure {
        return Ok(());
    }
    let Some(rest) = strip_scheme(url, "ws://") else {
        return Ok(());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // user:pass@ before the host, if any.
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if is_loopback(host) {
        Ok(())
    } else {
        Err(PlainTokenRefused {
            host: if host.is_empty() {
                "an unreadable host".to_owned()
            } else {
                host.to_owned()
            },
        })
    }
}

fn strip_scheme<'a>(url: &'a str, scheme: &str) -> Option<&'a str> {
    let head = url.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &url[scheme.len()..])
}

fn is_loopback(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tokens_go_only_to_loopback() {
        for url in [
            "ws://127.0.0.1:7878",
            "ws://127.3.4.5/",
            "ws://[::1]:7878/",
            "ws://localhost:7878",
            "WS://LocalHost./x",
            "ws://[::ffff:127.0.0.1]:1/",
            "wss://192.0.2.1:9/",
            "wss://hub.example",
        ] {
            assert_eq!(check_token_transport(url, false), Ok(()), "{url}");
        }
        for (url, host) in [
            ("ws://192.0.2.1:9/", "192.0.2.1"),
            ("ws://hub.example/", "hub.example"),
            ("ws://localhost.example.com/", "localhost.example.com"),
            ("ws://127.0.0.1@192.0.2.1/", "192.0.2.1"),
            ("ws://[2001:db8::1]:80", "2001:db8::1"),
            ("ws://10.0.0.1", "10.0.0.1"),
        ] {
            assert_eq!(
                check_token_transport(url, false),
                Err(PlainTokenRefused { host: host.into() }),
                "{url}"
            );
            assert_eq!(check_token_transport(url, true), Ok(()), "{url}");
        }
        assert!(check_token_transport("ws://", false).is_err());
    }

    #[test]
    fn the_refusal_says_why_and_what_to_do() {
        let text = check_token_transport("ws://192.0.2.1:9/", false)
            .expect_err("refused")
            .to_string();
        for part in ["192.0.2.1", "wss://", "--insecure", "--tls-cert"] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }
}
