//! `regie console` ends with the documented exit code and a clear message
//! when the hub refuses it for good (gap 8 of the test-trust issue): a hub
//! of another protocol version (5), before the terminal is taken; and a
//! token that expired while the console was away, refused at the
//! reconnect in the middle of a session (4), on the real binary in tmux.

mod support;

use std::process::Command;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use regie::protocol::{CloseCode, ErrorCode, ErrorFrame, ServerFrame, StaffRole};
use support::hub::{KeptPort, LIVE, ManualClock, TestHub};
use support::tmux::{Tmux, tmux_is_installed};
use support::tokens;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;

/// How a hub of another protocol version answers a v1 hello.
#[derive(Clone, Copy)]
enum OtherVersion {
    /// An `unsupported_version` error frame, then close 4001.
    ErrorFrame,
    /// Close 4001 alone, as a hub that cannot even say why.
    CloseOnly,
}

/// A hub that speaks another protocol version: it takes one connection,
/// reads its hello and refuses it as `how` says. Returns its URL.
async fn other_version_hub(how: OtherVersion) -> (String, tokio::task::JoinHandle<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else {
            return false;
        };
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
            return false;
        };
        let hello = match ws.next().await {
            Some(Ok(Message::Text(t))) => t.to_string(),
            _ => return false,
        };
        if let OtherVersion::ErrorFrame = how {
            let refusal = ServerFrame::Error(ErrorFrame::new(
                None,
                ErrorCode::UnsupportedVersion,
                "this hub speaks protocol version 2",
            ));
            let text = serde_json::to_string(&refusal).expect("serialise");
            if ws.send(Message::text(text)).await.is_err() {
                return false;
            }
        }
        let close = CloseFrame {
            code: WsCloseCode::from(CloseCode::UnsupportedVersion.code()),
            reason: "unsupported_version".into(),
        };
        let _ = ws.send(Message::Close(Some(close))).await;
        // Until the console has gone.
        while let Some(Ok(_)) = ws.next().await {}
        hello.contains(r#""version":1"#)
    });
    (url, task)
}

#[test]
fn a_hub_of_another_protocol_version_exits_5_with_the_reason() {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    for how in [OtherVersion::ErrorFrame, OtherVersion::CloseOnly] {
        let (url, hub) = rt.block_on(other_version_hub(how));
        let token = "regie1.some.token-secret-5";
        let out = Command::new(env!("CARGO_BIN_EXE_regie"))
            .args(["console", "--url", &url, "--live", LIVE])
            .env("REGIE_TOKEN", token)
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{stderr}");
        assert!(
            stderr.contains("does not speak regie protocol version 1"),
            "{stderr}"
        );
        if let OtherVersion::ErrorFrame = how {
            assert!(
                stderr.contains("this hub speaks protocol version 2"),
                "the hub's reason is passed on: {stderr}"
            );
        }
        assert!(!stderr.contains(token), "the token was printed: {stderr}");
        assert!(out.stdout.is_empty(), "nothing on stdout");
        let said_v1 = rt
            .block_on(async { tokio::time::timeout(support::hub::TIMEOUT, hub).await })
            .expect("the fake hub ends")
            .expect("the fake hub task");
        assert!(said_v1, "the console said a version-1 hello");
    }
}

/// The token expires while the hub is down; the hub that comes back
/// refuses it at the console's reconnect. The console leaves the screen,
/// says why and exits 4, instead of retrying for ever.
#[test]
fn a_token_that_expired_while_away_ends_the_session_with_exit_4() {
    if !tmux_is_installed() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let port = KeptPort::bind();
    // The hub's own time: the token's expiry is checked against it.
    let clock = ManualClock::new();
    let on_clock = |clock: &ManualClock| {
        let time = clock.clock();
        move |c: &mut regie::hub::HubConfig| c.clock = time
    };
    let hub = rt.block_on(TestHub::start_on(&port, LIVE, on_clock(&clock)));
    let issued = clock.now();
    let token = tokens::token_at(
        &hub.key,
        StaffRole::Host,
        "Claire",
        LIVE,
        issued,
        tokens::HOUR,
    );

    let tmux = Tmux::new("regie-fatal");
    let bin = env!("CARGO_BIN_EXE_regie");
    let log = hub.data_dir.join("console.log");
    // The pane outlives the console so its last words can be read.
    let command = format!(
        "REGIE_TOKEN={token} {bin} console --url ws://{} --live {LIVE} --log-file {}; \
         echo CONSOLE-EXITED $?; sleep 60",
        port.addr,
        log.display()
    );
    tmux.start("console", (100, 30), &command);
    tmux.wait_for("console", "the console", Duration::from_secs(30), |s| {
        s.contains("● Connected")
    });

    // The hub goes away; two hours pass for it; it comes back on the same
    // port and data.
    let dir = rt.block_on(hub.stop()).expect("the hub's temp dir");
    tmux.wait_for(
        "console",
        "the console to notice",
        Duration::from_secs(30),
        |s| !s.contains("● Connected"),
    );
    clock.set(issued + 2 * tokens::HOUR);
    let hub = rt.block_on(TestHub::restart(&port, LIVE, dir, on_clock(&clock)));

    let end = tmux.wait_for(
        "console",
        "the console to exit",
        Duration::from_secs(60),
        |s| s.contains("CONSOLE-EXITED"),
    );
    assert!(end.contains("CONSOLE-EXITED 4"), "{end}");
    assert!(
        end.contains("regie console: the hub refused the token (token_expired)"),
        "{end}"
    );
    assert!(end.contains("expired"), "{end}");
    assert!(!end.contains(&token), "the token was printed: {end}");
    rt.block_on(hub.stop());
}

/// An unexpected error mid-session, here the terminal the console draws
/// on going away under it (its output is another terminal, which is
/// closed; its keys still come from the first): the console restores
/// what it can, says what failed and exits 1.
#[test]
fn a_terminal_that_fails_under_the_console_exits_1_with_the_error() {
    if !tmux_is_installed() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let hub = rt.block_on(TestHub::start());
    let token = hub.token(StaffRole::Moderator, "Inès");
    let tmux = Tmux::new("regie-exit1");
    // The terminal the console draws on: a second session's.
    tmux.start("screen", (100, 30), "sleep 600");
    let screen_tty = tmux.pane_tty("screen");
    assert!(screen_tty.starts_with("/dev/"), "{screen_tty}");
    let bin = env!("CARGO_BIN_EXE_regie");
    let log = hub.data_dir.join("console.log");
    let command = format!(
        "REGIE_TOKEN={token} {bin} console --url {} --live {LIVE} --log-file {} > {screen_tty}; \
         echo CONSOLE-EXITED $?; sleep 60",
        hub.url,
        log.display()
    );
    tmux.start("console", (100, 30), &command);
    tmux.wait_for("screen", "the console", Duration::from_secs(30), |s| {
        s.contains("● Connected")
    });

    tmux.kill_session("screen");
    // Something to draw: a viewer's line.
    let mut julie = rt.block_on(hub.viewer("Julie"));
    rt.block_on(julie.say("bonjour"));

    let end = tmux.wait_for(
        "console",
        "the console to exit",
        Duration::from_secs(60),
        |s| s.contains("CONSOLE-EXITED"),
    );
    assert!(end.contains("CONSOLE-EXITED 1"), "{end}");
    assert!(end.contains("drawing failed"), "{end}");
    assert!(!end.contains(&token), "the token was printed: {end}");
    drop(julie);
    rt.block_on(hub.stop());
}
