//! A late joiner's snapshot: complete for staff (every open question, every
//! held message, exact counts), and sent in pages that each fit the
//! protocol's 64 KiB frame limit, before any live event.

mod support;

use futures_util::StreamExt;
use regie::console::keymap::Keymap;
use regie::console::net::{self, NetConfig};
use regie::console::state::{Console, Msg, Session, update};
use regie::protocol::{
    ClientFrame, Command, Hello, MAX_FRAME_BYTES, ServerFrame, StaffRole, Visibility,
    parse_server_frame,
};
use support::client::{Ws, send_json};
use support::hub::{TIMEOUT, TestHub};
use tokio_tungstenite::tungstenite::Message;

fn relaxed(config: &mut regie::hub::HubConfig) {
    config.settings.viewer_rate_per_sec = 10_000;
    config.settings.viewer_burst = 10_000;
}

fn ask(text: String) -> Command {
    Command::Say {
        text,
        question: true,
    }
}

/// Says hello on a raw socket and reads every frame up to `snapshot_end`,
/// returning their raw sizes and the parsed frames.
async fn raw_join(ws: &mut Ws, hello: Hello) -> Vec<(usize, ServerFrame)> {
    send_json(ws, &ClientFrame::Hello(hello)).await;
    let mut frames = Vec::new();
    loop {
        let msg = tokio::time::timeout(TIMEOUT, ws.next())
            .await
            .expect("a frame in time")
            .expect("the hub keeps the connection open")
            .expect("a readable frame");
        let Message::Text(text) = msg else { continue };
        let frame = parse_server_frame(&text).expect("a protocol frame");
        let end = matches!(frame, ServerFrame::SnapshotEnd { .. });
        frames.push((text.len(), frame));
        if end {
            return frames;
        }
    }
}

const HELD: usize = 520;
const OPEN: usize = 530;

/// Held messages first, then open questions, each more than the old limits
/// (100 in a snapshot, 200 read back after a restart, 500 in a console's
/// queue): every held one is far behind the last 100 chat entries.
async fn held_then_open_questions(hub: &TestHub) {
    let mut julie = hub.viewer("Julie").await;
    for i in 0..HELD {
        julie
            .ack(Command::Say {
                text: format!("quel arnaqueur ce vendeur {i}"),
                question: false,
            })
            .await
            .expect("a held message is an event for staff");
    }
    for i in 0..OPEN {
        julie
            .ack(ask(format!("question {i} ?")))
            .await
            .expect("event");
    }
}

#[tokio::test]
async fn a_late_staff_client_gets_every_held_message_and_open_question() {
    let hub = TestHub::start_with(relaxed).await;
    held_then_open_questions(&hub).await;

    let late = hub.staff(StaffRole::Moderator, "Paul").await;
    let counts = late.welcome.counts.expect("a fresh snapshot is paged");
    assert_eq!(counts.open_questions, OPEN as u64);
    assert_eq!(counts.held, HELD as u64);
    let snapshot = late.welcome.snapshot.as_ref().expect("a snapshot");
    assert_eq!(snapshot.open_questions.len(), OPEN);
    assert_eq!(snapshot.held.len(), HELD);
    assert!(
        snapshot
            .held
            .iter()
            .all(|m| matches!(m.visibility, Visibility::Held { .. }))
    );
    assert!(snapshot.held[0].text.ends_with("vendeur 0"), "oldest first");
    assert!(snapshot.open_questions[0].text.starts_with("question 0 "));

    // A viewer never sees held messages.
    let marc = hub.viewer("Marc").await;
    let viewer_snapshot = marc.welcome.snapshot.as_ref().expect("a snapshot");
    assert!(viewer_snapshot.held.is_empty());
    assert_eq!(marc.welcome.counts.map(|c| c.held), Some(0));

    // After a restart the hub holds less in memory; a fresh console still
    // gets the whole working set.
    drop((late, marc));
    let dir = hub.stop().await.expect("the hub owned its data dir");
    let hub = TestHub::start_in(dir.path(), relaxed).await;
    let fresh = hub.staff(StaffRole::Moderator, "Paul").await;
    let counts = fresh.welcome.counts.expect("paged");
    assert_eq!(
        (counts.open_questions, counts.held),
        (OPEN as u64, HELD as u64)
    );
    let snapshot = fresh.welcome.snapshot.as_ref().expect("a snapshot");
    assert_eq!(
        (snapshot.open_questions.len(), snapshot.held.len()),
        (OPEN, HELD)
    );
}

#[tokio::test]
async fn every_snapshot_frame_fits_the_frame_limit_with_long_emoji_questions() {
    let hub = TestHub::start_with(relaxed).await;
    // 20 viewers, 5 questions each, 500 flags of 28 bytes a grapheme.
    let long = "🏴󠁧󠁢󠁳󠁣󠁴󠁿".repeat(500);
    for v in 0..20 {
        let mut viewer = hub.viewer(&format!("V{v}")).await;
        for _ in 0..5 {
            viewer.ack(ask(long.clone())).await.expect("event");
        }
    }

    for hello in [
        hub.staff_hello(StaffRole::Moderator, "Paul"),
        hub.viewer_hello("Late"),
    ] {
        let mut ws = hub.raw().await;
        let frames = raw_join(&mut ws, hello).await;
        let largest = frames.iter().map(|(n, _)| *n).max().unwrap_or(0);
        assert!(
            largest <= MAX_FRAME_BYTES,
            "a {largest}-byte frame exceeds the {MAX_FRAME_BYTES}-byte limit"
        );
        // welcome, its pages in order, then snapshot_end; nothing live between.
        let ServerFrame::Welcome(welcome) = &frames[0].1 else {
            panic!("welcome first, got {}", frames[0].1.name());
        };
        let counts = welcome.counts.expect("paged");
        let pages: Vec<u32> = frames[1..frames.len() - 1]
            .iter()
            .map(|(_, f)| match f {
                ServerFrame::SnapshotPage(p) => p.page,
                other => panic!("only pages before snapshot_end, got {}", other.name()),
            })
            .collect();
        assert_eq!(pages, (0..counts.pages).collect::<Vec<_>>());
        let questions: usize = frames
            .iter()
            .map(|(_, f)| match f {
                ServerFrame::SnapshotPage(p) => p.open_questions.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(questions as u64, counts.open_questions);
        assert_eq!(counts.open_questions, 100);
        assert!(counts.pages > 1, "2.8 MB of questions take several pages");
    }
}

#[tokio::test]
async fn a_late_console_assembles_the_pages_into_its_queues() {
    let hub = TestHub::start_with(relaxed).await;
    held_then_open_questions(&hub).await;

    let config = NetConfig {
        url: hub.url.clone(),
        live: hub.live.clone(),
        token: hub.token(StaffRole::Moderator, "Paul"),
    };
    let first = net::connect(&config, None)
        .await
        .expect("the console connects");
    let session = Session {
        role: StaffRole::Moderator,
        name: String::new(),
        live: String::new(),
    };
    let mut state = Console::new(session, Keymap::default(), 50_000, "snap");
    for frame in first.frames {
        update(&mut state, Msg::Frame(frame));
    }
    assert_eq!(state.held.len(), HELD, "every held message, however old");
    assert_eq!(state.questions.len(), OPEN, "every open question");
    assert_eq!(state.open_questions(), OPEN, "the count the pane shows");
}
