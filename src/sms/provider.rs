//! Who carries a message: a small trait ([`Provider`]) and its three
//! adapters, `file` (JSON lines, for the demo), Twilio's REST Messages API
//! and Brevo's transactional SMS API.
//!
//! One message per call, one recipient per message: there is no group
//! send, so no recipient ever sees another's number. HTTP goes through
//! hyper-util's client with hyper-rustls (https with the system's roots,
//! plain http for a loopback stand-in in tests). Credentials are headers,
//! never logged; a provider's error body is not kept (it may echo the
//! number), only its status.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::config::{ProviderConfig, Secret};

/// One SMS to one number.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// E.164.
    pub to: &'a str,
    pub body: &'a str,
    /// regie's own id of the message (the outbox row), sent where the API
    /// takes a reference.
    pub reference: &'a str,
    /// Where the provider reports delivery (Twilio's `StatusCallback`).
    pub status_callback: Option<&'a str>,
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (429, 5xx, the network): after `retry_after` if the
    /// provider said.
    #[error("temporary: {why}")]
    Temporary {
        why: String,
        retry_after: Option<Duration>,
    },
    /// Refused for good (4xx other than 429).
    #[error("refused: {0}")]
    Refused(String),
}

/// A boxed future, so the trait stays object-safe.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<String, SendError>> + Send + 'a>>;

/// A carrier of messages. `send` returns the provider's message id.
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;
    fn send<'a>(&'a self, message: &'a Outgoing<'a>) -> SendFuture<'a>;
}

/// The provider `config` names; `None` when SMS is off.
pub fn from_config(config: &ProviderConfig) -> Option<Box<dyn Provider>> {
    match config {
        ProviderConfig::Off => None,
        ProviderConfig::File { path } => Some(Box::new(FileProvider { path: path.clone() })),
        ProviderConfig::Twilio {
            base_url,
            account_sid,
            auth_token,
            from,
        } => Some(Box::new(Twilio {
            http: Http::new(),
            base_url: base_url.clone(),
            account_sid: account_sid.clone(),
            auth_token: auth_token.clone(),
            from: from.clone(),
        })),
        ProviderConfig::Brevo {
            base_url,
            api_key,
            sender,
        } => Some(Box::new(Brevo {
            http: Http::new(),
            base_url: base_url.clone(),
            api_key: api_key.clone(),
            sender: sender.clone(),
        })),
    }
}

/// Appends `{"to":…,"body":…,"reference":…}` lines to a file (mode 0600).
pub struct FileProvider {
    path: PathBuf,
}

impl Provider for FileProvider {
    fn name(&self) -> &'static str {
        "file"
    }

    fn send<'a>(&'a self, m: &'a Outgoing<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            use tokio::io::AsyncWriteExt;
            let mut line =
                serde_json::json!({"to": m.to, "body": m.body, "reference": m.reference})
                    .to_string();
            line.push('\n');
            let mut options = tokio::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            options.mode(0o600);
            let mut file = options
                .open(&self.path)
                .await
                .map_err(|e| SendError::Temporary {
                    why: format!("cannot open {}: {}", self.path.display(), e.kind()),
                    retry_after: None,
                })?;
            file.write_all(line.as_bytes())
                .await
                .map_err(|e| SendError::Temporary {
                    why: format!("cannot write {}: {}", self.path.display(), e.kind()),
                    retry_after: None,
                })?;
            Ok(format!("file-{}", m.reference))
        })
    }
}

/// The HTTP client the adapters (and the CRM pusher) share: https
/// (system roots) and http.
#[derive(Clone)]
pub(crate) struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// The longest a provider call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

impl Http {
    pub(crate) fn new() -> Self {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let connector = match builder.with_native_roots() {
            Ok(b) => b.https_or_http().enable_http1().build(),
            Err(e) => {
                tracing::warn!(error = %e, "no system TLS roots: SMS providers over https will fail");
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(
                        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                            rustls::crypto::ring::default_provider(),
                        ))
                        .with_safe_default_protocol_versions()
                        .expect("ring supports the default versions")
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth(),
                    )
                    .https_or_http()
                    .enable_http1()
                    .build()
            }
        };
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// POSTs `body`; the answer's status, `Retry-After` and body.
    pub(crate) async fn post(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<(StatusCode, Option<Duration>, Bytes), SendError> {
        let temporary = |why: String| SendError::Temporary {
            why,
            retry_after: None,
        };
        let answer = tokio::time::timeout(CALL_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| temporary("the provider did not answer in time".to_owned()))?
            .map_err(|e| temporary(format!("cannot reach the provider: {e}")))?;
        let status = answer.status();
        let retry_after = answer
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = tokio::time::timeout(CALL_TIMEOUT, answer.into_body().collect())
            .await
            .map_err(|_| temporary("the provider's answer did not finish".to_owned()))?
            .map_err(|e| temporary(format!("reading the provider's answer: {e}")))?
            .to_bytes();
        Ok((status, retry_after, body))
    }
}

/// The outcome of an answer: the message id at `id_field` of its JSON, or
/// the error a status means.
fn outcome(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
    id_field: &str,
) -> Result<String, SendError> {
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(SendError::Temporary {
            why: format!("http {}", status.as_u16()),
            retry_after,
        });
    }
    if !status.is_success() {
        return Err(SendError::Refused(format!("http {}", status.as_u16())));
    }
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| SendError::Refused("the provider's answer is not JSON".to_owned()))?;
    match &json[id_field] {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(SendError::Refused(format!(
            "the provider's answer has no {id_field}"
        ))),
    }
}

/// Twilio: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, a form,
/// Basic auth (account sid, auth token).
struct Twilio {
    http: Http,
    base_url: String,
    account_sid: String,
    auth_token: Secret,
    from: String,
}

impl Provider for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn send<'a>(&'a self, m: &'a Outgoing<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            let form = {
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("To", m.to).append_pair("Body", m.body);
                if self.from.starts_with("MG") {
                    form.append_pair("MessagingServiceSid", &self.from);
                } else {
                    form.append_pair("From", &self.from);
                }
                if let Some(cb) = m.status_callback {
                    form.append_pair("StatusCallback", cb);
                }
                form.finish()
            };
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                self.account_sid,
                self.auth_token.expose()
            ));
            let request = Request::builder()
                .method(Method::POST)
                .uri(format!(
                    "{}/2010-04-01/Accounts/{}/Messages.json",
                    self.base_url, self.account_sid
                ))
                .header(header::AUTHORIZATION, format!("Basic {basic}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from(form)))
                .map_err(|e| SendError::Refused(format!("cannot build the request: {e}")))?;
            let (status, retry_after, body) = self.http.post(request).await?;
            outcome(status, retry_after, &body, "sid")
        })
    }
}

/// Brevo: `POST {base}/v3/transactionalSMS/sms`, JSON, `api-key` header.
struct Brevo {
    http: Http,
    base_url: String,
    api_key: Secret,
    sender: String,
}

impl Provider for Brevo {
    fn name(&self) -> &'static str {
        "brevo"
    }

    fn send<'a>(&'a self, m: &'a Outgoing<'a>) -> SendFuture<'a> {
        Box::pin(async move {
            let body = serde_json::json!({
                "sender": self.sender,
                "recipient": m.to.trim_start_matches('+'),
                "content": m.body,
                "type": "transactional",
                "tag": "regie-alert",
                "webUrl": m.status_callback,
            });
            let request = Request::builder()
                .method(Method::POST)
                .uri(format!("{}/v3/transactionalSMS/sms", self.base_url))
                .header("api-key", self.api_key.expose())
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json")
                .body(Full::new(Bytes::from(body.to_string())))
                .map_err(|e| SendError::Refused(format!("cannot build the request: {e}")))?;
            let (status, retry_after, body) = self.http.post(request).await?;
            outcome(status, retry_after, &body, "messageId")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_decide_retry_or_refusal() {
        let body = br#"{"sid":"SM1"}"#;
        assert_eq!(
            outcome(StatusCode::CREATED, None, body, "sid"),
            Ok("SM1".into())
        );
        assert!(matches!(
            outcome(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(3)), b"", "sid"),
            Err(SendError::Temporary { retry_after: Some(d), .. }) if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            outcome(StatusCode::BAD_GATEWAY, None, b"", "sid"),
            Err(SendError::Temporary { .. })
        ));
        assert!(matches!(
            outcome(StatusCode::BAD_REQUEST, None, b"The number +33612345678 is invalid", "sid"),
            Err(SendError::Refused(why)) if !why.contains("+33")
        ));
    }
}
