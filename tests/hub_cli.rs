//! `regie serve` as a user runs it: it prints where it listens, serves, and
//! on Ctrl-C says goodbye to its clients and exits 0.

mod support;

use regie::protocol::{ClientFrame, CloseCode, ErrorCode, ServerFrame};
use support::binary::Served;
use support::client::{close_code, read_until_close, send_json, viewer_hello};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_until_ctrl_c_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Served::start(dir.path(), "warn", &["--live", "show"]);
    let line = serve
        .line(support::hub::TIMEOUT)
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

    serve.interrupt();
    let closed = read_until_close(&mut ws).await;
    assert_eq!(closed.error_code(), Some(ErrorCode::ShuttingDown));
    assert_eq!(closed.code, Some(close_code(CloseCode::GoingAway)));

    let exit = serve
        .wait(support::hub::TIMEOUT)
        .expect("regie serve exits after Ctrl-C");
    assert!(exit.success(), "{exit:?}");
    // The key files and the store are in the data dir.
    for file in ["token.key", "viewer-id.key", "regie.db"] {
        assert!(dir.path().join(file).exists(), "{file} missing");
    }
}
