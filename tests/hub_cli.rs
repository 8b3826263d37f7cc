//! `regie serve` as a user runs it: it prints where it listens, serves, and
//! on Ctrl-C says goodbye to its clients and exits 0.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use regie::protocol::{ClientFrame, CloseCode, ErrorCode, ServerFrame};
use support::client::{close_code, read_until_close, send_json, viewer_hello};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_until_ctrl_c_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_regie"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--live",
            "show",
            "--data",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("regie serve starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(support::hub::TIMEOUT)
        .expect("serve prints its address");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();

    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let hello = viewer_hello("show", "Julie");
    send_json(&mut ws, &ClientFrame::Hello(hello)).await;
    assert!(matches!(
        support::client::read_frame(&mut ws).await,
        support::client::Incoming::Frame(ServerFrame::Welcome(_))
    ));

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let closed = read_until_close(&mut ws).await;
    assert_eq!(closed.error_code(), Some(ErrorCode::ShuttingDown));
    assert_eq!(closed.code, Some(close_code(CloseCode::GoingAway)));

    let pid = child.id().to_string();
    let waited = tokio::time::timeout(
        support::hub::TIMEOUT,
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await;
    let Ok(exit) = waited else {
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        panic!("regie serve did not exit after Ctrl-C");
    };
    let exit = exit.unwrap().unwrap();
    assert!(exit.success(), "{exit:?}");
    // The key files and the store are in the data dir.
    for file in ["token.key", "viewer-id.key", "regie.db"] {
        assert!(dir.path().join(file).exists(), "{file} missing");
    }
}
