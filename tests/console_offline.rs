//! The console's offline queue as a person sees it (issue 16, item 4): in
//! an 80-column terminal the pending count stays on the status bar while
//! the hub is away, and quitting with a command the hub never confirmed
//! lists it on stderr.

mod support;

use std::time::Duration;

use regie::console::state::{ConnStatus, Msg, Note};
use regie::protocol::StaffRole;
use support::console::{MIN, NOON, feed, key, render, show};
use support::hub::BlockingHub;
use support::tmux::{Tmux, tmux_is_installed};

#[test]
fn an_unconfirmed_offline_pin_shows_at_80_columns_and_is_listed_on_stderr_at_quit() {
    if !tmux_is_installed() {
        return;
    }
    let hub = BlockingHub::start();
    hub.block_on(async {
        let mut marc = hub.viewer("Marc").await;
        marc.say("OFFLINE-zq85 elle existe en 38 ?").await;
    });
    let addr = hub.addr;
    let token = hub.token(StaffRole::Moderator, "Inès");
    let bin = env!("CARGO_BIN_EXE_regie");
    // Outside the hub's data dir, which goes when the hub stops.
    let files = tempfile::tempdir().expect("a temp dir");
    let log = files.path().join("console.log");
    let err = files.path().join("console.stderr");
    let tmux = Tmux::new("regie-offline");
    let command = format!(
        "REGIE_TOKEN={token} {bin} console --url ws://{addr} --live show --log-file {} 2>{}; echo EXITED-$?; sleep 60",
        log.display(),
        err.display()
    );
    tmux.start("c", (80, 24), &command);
    tmux.wait_for(
        "c",
        "the console and the line",
        Duration::from_secs(30),
        |s| s.contains("● Connected") && s.contains("OFFLINE-zq85"),
    );
    hub.stop();
    tmux.wait_for("c", "the console to notice", Duration::from_secs(30), |s| {
        !s.contains("● Connected")
    });
    // k selects the newest line, p pins it: the hub is away, so it waits.
    tmux.keys("c", &["k"]);
    tmux.keys("c", &["p"]);
    let screen = tmux.wait_for("c", "the pending count", Duration::from_secs(10), |s| {
        s.contains("1 pending")
    });
    let status = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        status.contains("1 pending"),
        "status bar: {status:?}\n{screen}"
    );

    tmux.keys("c", &["q"]);
    tmux.keys("c", &["q"]);
    let end = tmux.wait_for("c", "the console to exit", Duration::from_secs(30), |s| {
        s.contains("EXITED-")
    });
    assert!(end.contains("EXITED-0"), "{end}");
    let stderr = std::fs::read_to_string(&err).expect("the console's stderr");
    assert!(
        stderr.contains("1 command(s) were not confirmed by the hub before quitting"),
        "{stderr}"
    );
    let listed: Vec<&str> = stderr.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(listed.len(), 1, "{stderr}");
    assert!(listed[0] == "  - pin Marc's message #1", "{stderr}");
}

#[test]
fn at_80_columns_a_long_note_never_pushes_the_pending_count_off_the_status_bar() {
    let mut c = show(StaffRole::Moderator);
    feed(
        &mut c,
        [Msg::Connection(ConnStatus::Reconnecting {
            attempt: 12,
            next_try_at: NOON + 30 * MIN + 9_000,
        })],
    );
    feed(&mut c, [key('k'), key('p')]);
    assert_eq!(c.pending.len(), 1);
    c.note = Some(Note {
        text:
            "the hub is closing (shutting down for maintenance); reconnect and resume in a moment"
                .into(),
        error: true,
        at: NOON + 30 * MIN,
    });
    let screen = render(&mut c, 80, 24);
    let status = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(status.contains("Reconnecting"), "{status:?}");
    assert!(status.contains("» 1 pending"), "{status:?}");
    assert!(
        status.contains("the hub is closing"),
        "the note keeps its share: {status:?}"
    );
}
