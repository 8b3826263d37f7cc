//! TLS end to end: a hub serving `https`/`wss` with a certificate made in
//! the test (`rcgen`), clients trusting it through `--ca`, and the rule
//! that keeps a staff token off plain `ws://` beyond loopback.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regie::console::net::{self, NetConfig, NetEvent, NetFatal};
use regie::crowd::{CrowdConfig, run_crowd};
use regie::protocol::{Command, Event, ServerFrame, StaffRole, ViewerId};
use regie::staff_client::{CallError, StaffCall};
use regie::tls::{ClientTls, ServerTls};
use support::binary::{Served, run};
use support::client::{Client, viewer_hello};
use support::hub::{LIVE, TIMEOUT, TestHub};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A self-signed certificate for `127.0.0.1` and `localhost`, as PEM files.
struct Cert {
    dir: tempfile::TempDir,
    chain: PathBuf,
    key: PathBuf,
}

fn self_signed() -> Cert {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("a self-signed certificate");
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, made.cert.pem()).expect("write the certificate");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write the key");
    Cert {
        dir,
        chain: cert,
        key,
    }
}

impl Cert {
    fn server(&self) -> ServerTls {
        ServerTls::from_pem_files(&self.chain, &self.key).expect("the test's PEM files load")
    }

    fn client(&self) -> ClientTls {
        ClientTls::with_ca(&self.chain).expect("the test's certificate is a CA file")
    }
}

async fn tls_hub(cert: &Cert, tweak: impl FnOnce(&mut regie::hub::HubConfig)) -> TestHub {
    let tls = cert.server();
    TestHub::start_with(move |c| {
        c.tls = Some(tls);
        tweak(c);
    })
    .await
}

fn wss(hub: &TestHub) -> String {
    format!("wss://127.0.0.1:{}/", hub.addr.port())
}

async fn wss_viewer(hub: &TestHub, tls: &ClientTls, first_name: &str) -> Client {
    let ws = tokio::time::timeout(TIMEOUT, regie::tls::connect(&wss(hub), tls, None))
        .await
        .expect("the TLS handshake ends in time")
        .expect("a wss connection");
    Client::try_join_on(ws, viewer_hello(LIVE, first_name))
        .await
        .expect("the viewer joins over wss")
}

/// The console's network client and a viewer, both over `wss` with the
/// test's certificate as their CA: the viewer's line reaches the console,
/// and the console's command is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_and_a_viewer_meet_over_wss() {
    let cert = self_signed();
    let hub = tls_hub(&cert, |_| {}).await;
    let config = NetConfig {
        url: wss(&hub),
        live: LIVE.into(),
        token: hub.token(StaffRole::Host, "Nadia"),
        tls: cert.client(),
    };
    let first = net::connect(&config, None)
        .await
        .expect("the console connects over wss");
    let mut console = net::spawn(config, first);

    let mut lea = wss_viewer(&hub, &cert.client(), "Léa").await;
    let seq = lea.say("bonjour, en clair nulle part").await;

    let arrived = tokio::time::timeout(TIMEOUT, async {
        while let Some(event) = console.events.recv().await {
            if let NetEvent::Frame(ServerFrame::Event(frame)) = event
                && frame.seq == seq
                && let Event::Message { message } = frame.event
            {
                return Some(message);
            }
        }
        None
    })
    .await
    .expect("the line reaches the console in time")
    .expect("the network task runs");
    assert_eq!(arrived.text, "bonjour, en clair nulle part");

    console
        .commands
        .send(regie::protocol::CommandFrame {
            id: regie::protocol::CommandId("pin-1".into()),
            command: Command::Pin {
                message_id: arrived.id,
            },
        })
        .expect("the network task runs");
    let pinned = lea.wait_event(|e| matches!(e, Event::Pinned { .. })).await;
    assert!(matches!(pinned.event, Event::Pinned { .. }));
    console.task.abort();
    hub.stop().await;
}

/// A plain `ws://` client on the TLS port fails (the handshake does not
/// parse), and the hub goes on serving `wss` clients.
#[tokio::test]
async fn plain_ws_to_the_tls_port_fails_and_the_hub_keeps_serving() {
    let cert = self_signed();
    let hub = tls_hub(&cert, |_| {}).await;
    let plain = tokio::time::timeout(
        TIMEOUT,
        tokio_tungstenite::connect_async(format!("ws://{}/", hub.addr)),
    )
    .await
    .expect("the plain client is answered in time");
    assert!(plain.is_err(), "plain ws on a TLS port must fail");

    // Trusting the system's roots only, the self-signed hub is refused.
    let untrusted = tokio::time::timeout(
        TIMEOUT,
        regie::tls::connect(&wss(&hub), &ClientTls::default(), None),
    )
    .await
    .expect("answered in time");
    let err = untrusted.expect_err("a self-signed certificate is not in the system's roots");
    assert!(err.to_string().contains("certificate"), "{err}");

    let mut lea = wss_viewer(&hub, &cert.client(), "Léa").await;
    lea.say("toujours là").await;
    hub.stop().await;
}

/// `GET` over TLS on every route the hub serves.
#[tokio::test]
async fn every_route_is_served_over_https() {
    let cert = self_signed();
    let hub = tls_hub(&cert, |_| {}).await;
    let (status, body) = https_get(&hub, &cert.chain, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, body) = https_get(&hub, &cert.chain, "/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains("# EOF"), "{body}");
    let (status, _) = https_get(&hub, &cert.chain, "/draws/1.json").await;
    assert_eq!(status, 404);
    hub.stop().await;
}

/// A socket that opens and says nothing does not hold up the next
/// client: its handshake waits in a task of its own (the hub's
/// `hello_timeout` is an hour here, so only that can let the next one in).
#[tokio::test]
async fn a_silent_socket_does_not_hold_up_the_handshakes_of_others() {
    let cert = self_signed();
    let hub = tls_hub(&cert, |c| {
        c.limits.hello_timeout = Duration::from_secs(3600);
    })
    .await;
    let _silent = TcpStream::connect(hub.addr).await.expect("connect");
    let _silent_too = TcpStream::connect(hub.addr).await.expect("connect");
    let mut lea = wss_viewer(&hub, &cert.client(), "Léa").await;
    lea.say("je passe").await;
    hub.stop().await;
}

/// A handshake is bounded by the hub's `hello_timeout`: a silent socket
/// is closed by the hub.
#[tokio::test]
async fn a_handshake_that_never_comes_is_given_up() {
    let cert = self_signed();
    let hub = tls_hub(&cert, |c| {
        c.limits.hello_timeout = Duration::from_millis(200);
    })
    .await;
    let mut silent = TcpStream::connect(hub.addr).await.expect("connect");
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(TIMEOUT, silent.read(&mut buf))
        .await
        .expect("the hub closes the silent socket");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    hub.stop().await;
}

/// A crowd joins over wss with `--ca`'s trust.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_joins_over_wss() {
    let cert = self_signed();
    let hub = tls_hub(&cert, |_| {}).await;
    let config = CrowdConfig {
        viewers: 3,
        rate: 30.0,
        duration: Duration::from_secs(60),
        max_lines: Some(6),
        tls: cert.client(),
        ..CrowdConfig::new(wss(&hub), LIVE)
    };
    let report = tokio::time::timeout(TIMEOUT, run_crowd(config, std::future::pending()))
        .await
        .expect("the crowd ends after its lines")
        .expect("the crowd runs");
    assert_eq!(report.viewers_connected, 3, "{report:?}");
    assert_eq!(report.sent.total(), 6, "{report:?}");
    hub.stop().await;
}

/// The staff client (`regie privacy`, `regie live --hub`) over wss, from
/// the real binary with `--ca`; without it the self-signed hub is not
/// trusted (exit 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reaches_a_tls_hub_with_ca() {
    let cert = self_signed();
    let hub = tls_hub(&cert, |_| {}).await;
    let url = wss(&hub);
    let admin = hub.token(StaffRole::Admin, "Ada");
    let ca = cert.chain.to_str().expect("utf-8").to_owned();
    let ran = {
        let (url, admin, ca) = (url.clone(), admin.clone(), ca.clone());
        tokio::task::spawn_blocking(move || {
            run(
                &["live", "list", "--hub", &url, "--ca", &ca],
                &[("REGIE_TOKEN", &admin)],
            )
        })
        .await
        .expect("the run ends")
    };
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains(LIVE), "{}", ran.stdout);

    let ran = tokio::task::spawn_blocking(move || {
        run(&["live", "list", "--hub", &url], &[("REGIE_TOKEN", &admin)])
    })
    .await
    .expect("the run ends");
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    assert!(ran.stderr.contains("certificate"), "{}", ran.stderr);
    hub.stop().await;
}

/// `GET path` over TLS, trusting `ca`; (status, body).
async fn https_get(hub: &TestHub, ca: &Path, path: &str) -> (u16, String) {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca).expect("read the CA") {
        roots.add(cert.expect("a certificate")).expect("a root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let fetch = async {
        let tcp = TcpStream::connect(hub.addr).await.expect("connect");
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("a name");
        let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            hub.addr
        );
        tls.write_all(req.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        // A peer that closes without close_notify is fine here: the body is read.
        let _ = tls.read_to_end(&mut buf).await;
        String::from_utf8_lossy(&buf).into_owned()
    };
    let text = tokio::time::timeout(TIMEOUT, fetch)
        .await
        .expect("answered in time");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

// ---- A staff token never goes over plain ws:// beyond loopback ----

/// TEST-NET-1: never routed, so nothing here needs a network.
const REMOTE_PLAIN: &str = "ws://192.0.2.1:9/";

#[tokio::test]
async fn the_libraries_refuse_a_token_over_plain_ws_before_connecting() {
    let config = NetConfig {
        url: REMOTE_PLAIN.into(),
        live: LIVE.into(),
        token: "a-token".into(),
        tls: ClientTls::default(),
    };
    let Err(refused) = net::connect(&config, None).await else {
        panic!("refused before connecting")
    };
    assert!(matches!(refused, NetFatal::PlainToken(_)), "{refused:?}");
    assert_eq!(refused.exit_code(), regie::exit::Exit::Usage);

    let call = StaffCall {
        url: REMOTE_PLAIN.into(),
        live: LIVE.into(),
        token: "a-token".into(),
        within: Duration::from_secs(5),
        tls: ClientTls::default(),
    };
    let refused = call
        .send(Command::EraseViewer {
            viewer_id: ViewerId("v-1".into()),
            reason: "test".into(),
        })
        .await
        .expect_err("refused before connecting");
    assert!(matches!(refused, CallError::PlainToken(_)), "{refused:?}");
}

#[test]
fn the_console_refuses_a_token_over_plain_ws_and_says_what_to_do() {
    let ran = run(
        &["console", "--url", REMOTE_PLAIN, "--live", LIVE],
        &[("REGIE_TOKEN", "a-token")],
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    for said in ["192.0.2.1", "wss://", "--insecure"] {
        assert!(ran.stderr.contains(said), "{said}: {}", ran.stderr);
    }
}

/// `regie privacy erase` refuses first (exit 2); with `--insecure` it
/// goes on to connect, and (no route to TEST-NET) cannot reach it: exit 3.
#[test]
fn the_staff_cli_refuses_plain_ws_unless_insecure() {
    let erase = |extra: &[&str]| {
        let mut args = vec![
            "privacy",
            "erase",
            "--url",
            REMOTE_PLAIN,
            "--viewer",
            "v-1",
            "--reason",
            "test",
            "--yes",
            "--timeout",
            "2s",
        ];
        args.extend_from_slice(extra);
        run(&args, &[("REGIE_TOKEN", "a-token")])
    };
    let ran = erase(&[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("--insecure"), "{}", ran.stderr);
    let ran = erase(&["--insecure"]);
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    assert!(ran.stderr.contains("cannot reach"), "{}", ran.stderr);

    let ran = run(
        &["live", "start", LIVE, "--hub", REMOTE_PLAIN],
        &[("REGIE_TOKEN", "a-token")],
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("refusing"), "{}", ran.stderr);
}

/// The real `regie serve --tls-cert --tls-key` says `wss://` where it
/// serves, and a viewer joins there.
#[test]
fn the_real_serve_speaks_wss() {
    let cert = self_signed();
    let data = tempfile::tempdir().expect("temp dir");
    let (chain, key) = (
        cert.chain.to_str().expect("utf-8"),
        cert.key.to_str().expect("utf-8"),
    );
    let mut served = Served::start(
        data.path(),
        "warn",
        &["--live", LIVE, "--tls-cert", chain, "--tls-key", key],
    );
    let addr = loop {
        let line = served.line(TIMEOUT).expect("serve says where it serves");
        if let Some((_, rest)) = line.split_once(" on wss://") {
            break rest
                .split_whitespace()
                .next()
                .expect("an address")
                .to_owned();
        }
        assert!(
            !line.contains(" on ws://"),
            "plain despite --tls-cert: {line}"
        );
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let url = format!("wss://{addr}/");
        let ws = tokio::time::timeout(TIMEOUT, regie::tls::connect(&url, &cert.client(), None))
            .await
            .expect("in time")
            .expect("a wss connection to the real serve");
        let mut lea = Client::try_join_on(ws, viewer_hello(LIVE, "Léa"))
            .await
            .expect("joins");
        lea.say("par le vrai binaire").await;
    });
    served.interrupt();
    assert!(
        served.wait(TIMEOUT).is_some_and(|s| s.success()),
        "serve stops on Ctrl-C"
    );
}

// ---- Bad PEM files stop `regie serve` at start-up ----

fn serve_with(cert: &Path, key: &Path) -> support::binary::Ran {
    let data = tempfile::tempdir().expect("temp dir");
    run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data.path().to_str().expect("utf-8"),
            "--tls-cert",
            cert.to_str().expect("utf-8"),
            "--tls-key",
            key.to_str().expect("utf-8"),
        ],
        &[],
    )
}

#[test]
fn bad_pem_files_stop_serve_with_the_file_named() {
    let good = self_signed();
    let other = self_signed();
    let missing = good.dir.path().join("nope.pem");
    let empty = good.dir.path().join("empty.pem");
    std::fs::write(&empty, "").expect("write");
    let garbage = good.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\n!!!!\n").expect("write");

    let cases: [(&Path, &Path, &Path, &str); 5] = [
        (&missing, &good.key, &missing, "cannot read certificate"),
        (&good.chain, &empty, &empty, "holds no PEM private key"),
        (&empty, &good.key, &empty, "holds no PEM certificate"),
        (&garbage, &good.key, &garbage, "not valid PEM"),
        (&good.chain, &other.key, &other.key, "do not go together"),
    ];
    for (cert, key, named, says) in cases {
        let ran = serve_with(cert, key);
        assert_eq!(ran.code, 2, "{says}: {}", ran.stderr);
        assert!(
            ran.stderr.contains(named.to_str().expect("utf-8")),
            "{says}: {}",
            ran.stderr
        );
        assert!(ran.stderr.contains(says), "{says}: {}", ran.stderr);
        assert!(!ran.stderr.contains("serving"), "{}", ran.stderr);
    }
}
