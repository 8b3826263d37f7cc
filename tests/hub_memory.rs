//! Memory after a crowd leaves (issue 8, "Memory after a connection
//! flood"): what the hub keeps per viewer must go once they are gone, and
//! forgetting it must not change any answer. The RSS figures are a
//! measurement (`regie bench flood`, `docs/memory.md`), not a test.

mod support;

use std::time::Duration;

use regie::protocol::{Command, Event, ServerFrame, StaffRole};
use support::hub::{ManualClock, TestHub, wait_until};

const REMEMBERED: &str = "regie_remembered_outcomes";

/// A metric that counts things, compared as the count it is.
fn counts(value: f64, n: u32) -> bool {
    (value - f64::from(n)).abs() < 0.5
}

fn say(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: false,
        announcement: false,
    }
}

/// Viewers post and leave; once the retry window has passed, the hub keeps
/// none of their command outcomes in memory, and a late retry still gets
/// its first ack (from the store).
#[tokio::test]
async fn outcomes_of_viewers_who_left_leave_memory_after_the_retry_window() {
    let clock = ManualClock::new();
    let hub_clock = clock.clock();
    let hub = TestHub::start_with(|c| {
        c.clock = hub_clock;
        // A tick (when the hub trims its memory) every few milliseconds.
        c.limits.viewers_online_interval = Duration::from_millis(10);
    })
    .await;
    let window = regie::hub::Limits::default().outcome_memory;

    let mut first_acks = Vec::new();
    for i in 0..5 {
        let mut viewer = hub.viewer_with_key("Ana", &format!("device-{i}")).await;
        let id = format!("hello-{i}");
        let ack = viewer.command_with_id(&id, say("bonsoir")).await;
        assert!(matches!(ack, ServerFrame::Ack { .. }), "{ack:?}");
        first_acks.push((i, id, ack));
        drop(viewer);
    }
    wait_until("the hub remembers the five outcomes", || async {
        counts(hub.metric(REMEMBERED).await, 5)
    })
    .await;
    // The actor has seen them leave and published it: the count then
    // changes when the next viewer joins, and that tick is observable.
    wait_until("the hub counts and shows no viewer", || async {
        let staff = hub.staff(StaffRole::Host, "Régie").await;
        let shown = staff.welcome.snapshot.as_ref().map(|s| s.viewers_online);
        staff.welcome.viewers_online == Some(0) && shown == Some(0)
    })
    .await;

    // Just inside the window, they stay; past it, they go.
    let window_ms = i64::try_from(window.as_millis()).expect("a window in range");
    let start = clock.now();
    clock.set(start + window_ms - 1);
    // A viewer joining changes the count: the tick that announces it is
    // the turn that trims, at the time just set.
    let mut ticked = hub.viewer("Tick").await;
    loop {
        if let ServerFrame::Event(e) = ticked.next_frame().await
            && matches!(e.event, Event::ViewersOnline { count: 1 })
        {
            break;
        }
    }
    let remembered = hub.metric(REMEMBERED).await;
    assert!(counts(remembered, 5), "{remembered} outcomes remembered");
    clock.set(start + window_ms);
    wait_until("the outcomes leave memory", || async {
        hub.metric(REMEMBERED).await == 0.0
    })
    .await;

    let (i, id, first) = &first_acks[2];
    let mut back = hub.viewer_with_key("Ana", &format!("device-{i}")).await;
    let retried = back.command_with_id(id, say("bonsoir")).await;
    assert_eq!(
        &retried, first,
        "a retry after the window gets its first ack"
    );
}

/// `regie bench flood`, the measurement's one command, on the real binary
/// against a running hub (`--attach`): every round's viewers join, its
/// talkers' lines reach the hub, everyone leaves, and the table has a row
/// per round.
#[test]
fn bench_flood_runs_its_rounds_against_a_running_hub() {
    let hub = support::hub::BlockingHub::start();
    let ran = std::process::Command::new(env!("CARGO_BIN_EXE_regie"))
        .args(["bench", "flood", "--viewers", "12", "--rounds", "2"])
        .args(["--talkers", "3", "--settle", "10ms", "--live", &hub.live])
        .args(["--attach", &hub.addr.to_string()])
        .args(["--pid", &std::process::id().to_string()])
        .output()
        .expect("regie runs");
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(ran.status.success(), "{stdout}\n{stderr}");
    for row in ["| 0 (baseline) | 0 |", "| 1 | 12 |", "| 2 | 12 |"] {
        assert!(stdout.contains(row), "{row} missing from\n{stdout}");
    }
    assert!(!stdout.contains("| 3 |"), "{stdout}");
    hub.block_on(async {
        // Two rounds of three new lines, each a command the hub decided.
        let commands = hub.metric("regie_messages_in_total").await;
        assert!(counts(commands, 6), "{commands} commands");
        let viewers = hub.metric("regie_connections{role=\"viewer\"}").await;
        assert!(counts(viewers, 0), "{viewers} viewers");
    });
}
