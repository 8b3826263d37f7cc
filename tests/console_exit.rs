//! `regie console` fails fast and clearly, before taking the terminal: a
//! wrong URL, an unreachable hub and a refused token each give a message on
//! stderr and a documented exit code. The token never appears in output.

mod support;

use std::process::Command;

use regie::protocol::StaffRole;
use support::hub::{BlockingHub, ClosedPort, as_shipped};
use support::tokens;

fn console(args: &[&str], token: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_regie"))
        .arg("console")
        .args(args)
        .env("REGIE_TOKEN", token)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains(token) || token.is_empty(),
        "the token was printed: {text}"
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn wrong_url_and_unreachable_hub_exit_3() {
    let (code, text) = console(&["--url", "http://example"], "tok-secret-1");
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("not a WebSocket URL"), "{text}");

    // A port where nothing listens, kept so for the whole test.
    let closed = ClosedPort::bind();
    let (code, text) = console(&["--url", &format!("ws://{}", closed.addr)], "tok-secret-2");
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("cannot reach the hub"), "{text}");
}

#[test]
fn missing_token_exits_2() {
    let (code, text) = console(&["--url", "ws://127.0.0.1:9"], "");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no staff token"), "{text}");
}

#[test]
fn refused_tokens_exit_4_with_the_reason() {
    let hub = BlockingHub::start_with(as_shipped);
    let url = hub.url.clone();

    let other_live = tokens::token(&hub.key, StaffRole::Host, "Claire", "other");
    let (code, text) = console(&["--url", &url, "--live", "show"], &other_live);
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("refused the token (wrong_live)"), "{text}");

    let expired = hub.expired_token(StaffRole::Host, "Claire");
    let (code, text) = console(&["--url", &url], &expired);
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("token_expired"), "{text}");

    let (code, text) = console(&["--url", &url], "regie1.forged.token");
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("token_invalid"), "{text}");

    hub.stop();
}
