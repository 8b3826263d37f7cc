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
        announcement: false,
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
                announcement: false,
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
        tls: regie::tls::ClientTls::default(),
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

/// A console's model after its first connection's frames.
async fn late_console(hub: &TestHub, role: StaffRole, name: &str) -> Console {
    let config = NetConfig {
        url: hub.url.clone(),
        live: hub.live.clone(),
        token: hub.token(role, name),
        tls: regie::tls::ClientTls::default(),
    };
    let first = net::connect(&config, None)
        .await
        .expect("the console connects");
    let session = Session {
        role,
        name: String::new(),
        live: String::new(),
    };
    let mut state = Console::new(session, Keymap::default(), 50_000, "snap");
    for frame in first.frames {
        update(&mut state, Msg::Frame(frame));
    }
    state
}

#[tokio::test]
async fn an_early_and_a_late_console_show_the_same_names() {
    let hub = TestHub::start_with(relaxed).await;
    let early = hub.staff(StaffRole::Host, "Hélène").await.spawn_reader();
    let mut early_state = Console::new(
        Session {
            role: StaffRole::Host,
            name: String::new(),
            live: String::new(),
        },
        Keymap::default(),
        50_000,
        "early",
    );
    update(
        &mut early_state,
        Msg::Frame(ServerFrame::Welcome(Box::new(early.welcome.clone()))),
    );
    let mut early = early;

    // Julie asks; another Julie says hello; then enough chat that the
    // second Julie's line is out of a late snapshot's recent chat.
    let mut julie = hub.viewer("Julie").await;
    julie
        .ack(ask("elle existe en 38 ?".into()))
        .await
        .expect("event");
    let mut other_julie = hub.viewer("Julie").await;
    other_julie.say("bonjour").await;
    let mut marc = hub.viewer("Marc").await;
    let mut last = 0;
    for i in 0..150 {
        last = marc.say(&format!("ligne {i}")).await;
    }
    for event in early.until_seq(last).await.to_vec() {
        update(&mut early_state, Msg::Frame(ServerFrame::Event(event)));
    }

    // The hub says which names are shared, in the staff snapshot.
    let raw = hub.staff(StaffRole::Moderator, "Paul").await;
    let snapshot = raw.welcome.snapshot.as_ref().expect("a snapshot");
    assert_eq!(snapshot.shared_names, vec!["Julie".to_string()]);
    assert!(
        snapshot
            .recent
            .iter()
            .all(|e| !matches!(e, regie::protocol::ChatEntry::Message(m) if m.text == "bonjour")),
        "the second Julie's line is not in the late snapshot's chat"
    );

    // Both consoles label Julie's question the same way.
    let late_state = late_console(&hub, StaffRole::Moderator, "Paul").await;
    let question = |c: &Console| {
        c.questions
            .iter()
            .find(|q| q.text == "elle existe en 38 ?")
            .map(|q| q.author.display_name().to_string())
            .expect("the question is listed")
    };
    assert_eq!(question(&early_state), question(&late_state));
    for name in ["Julie", "Marc"] {
        assert_eq!(
            early_state.feed.name_is_shared(name),
            late_state.feed.name_is_shared(name),
            "{name}"
        );
    }
    assert!(late_state.feed.name_is_shared("Julie"));
    assert!(!late_state.feed.name_is_shared("Marc"));
}

/// The activity lines of a console, as (actor name, text).
fn activity(c: &Console) -> Vec<(String, String)> {
    c.activity
        .iter()
        .map(|a| {
            (
                a.actor
                    .as_ref()
                    .and_then(|x| x.name.clone())
                    .unwrap_or_else(|| "hub".into()),
                a.what.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_late_console_shows_recent_staff_activity_also_after_a_restart() {
    let hub = TestHub::start_with(relaxed).await;
    let mut julie = hub.viewer("Julie").await;
    let question = julie.say("bonjour").await;
    let regie::protocol::Event::Message { message } = julie.event_at(question).await.event else {
        panic!("julie sees her message");
    };
    let mut host = hub.staff(StaffRole::Host, "Hélène").await;
    host.ack(Command::Pin {
        message_id: message.id,
    })
    .await
    .expect("pinned");
    let mut paul = hub.staff(StaffRole::Moderator, "Paul").await;
    paul.ack(Command::Hide {
        message_id: message.id,
        reason: "hors sujet".into(),
    })
    .await
    .expect("hidden");
    let Some(viewer_id) = julie.welcome.you.viewer_id.clone() else {
        panic!("a viewer has an id");
    };
    paul.ack(Command::Ban {
        viewer_id,
        reason: "spam".into(),
    })
    .await
    .expect("banned");

    let check = |c: &Console| {
        let lines = activity(c);
        let id = message.id;
        assert!(
            lines.contains(&("Hélène".into(), format!("pinned Julie's message {id}"))),
            "{lines:?}"
        );
        assert!(
            lines.contains(&("Paul".into(), format!("hid Julie's message {id}"))),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(who, what)| who == "Paul" && what.starts_with("banned ")),
            "{lines:?}"
        );
    };
    let late = late_console(&hub, StaffRole::Support, "Sam").await;
    check(&late);

    drop((julie, host, paul, late));
    let dir = hub.stop().await.expect("the hub owned its data dir");
    let hub = TestHub::start_in(dir.path(), relaxed).await;
    let fresh = late_console(&hub, StaffRole::Support, "Sam").await;
    check(&fresh);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_games_ride_in_pages_that_fit_the_frame_limit() {
    let hub = TestHub::start_with(relaxed).await;
    let mut host = hub.staff(StaffRole::Host, "Hélène").await;
    // The longest poll there is, in 28-byte graphemes.
    let flag = "🏴󠁧󠁢󠁳󠁣󠁴󠁿";
    let seq = host
        .ack(Command::PollOpen {
            question: flag.repeat(200),
            options: (0..6).map(|i| format!("{i}{}", flag.repeat(59))).collect(),
            duration_secs: None,
        })
        .await
        .expect("an event");
    assert!(matches!(
        host.event_at(seq).await.event,
        regie::protocol::Event::PollOpened { .. }
    ));
    // An instant win drawn with 100 winners of 40-flag first names: over
    // 100 KiB of winners alone. The entrants join first: only viewers who
    // were there when it opened may enter.
    let name = flag.repeat(40);
    let mut entrants = Vec::new();
    for _ in 0..100 {
        entrants.push(hub.viewer(&name).await);
    }
    let seq = host
        .ack(Command::InstantWinOpen {
            prize: flag.repeat(80),
            winners: 100,
            entry_secs: 600,
            rules: flag.repeat(400),
        })
        .await
        .expect("an event");
    let regie::protocol::Event::InstantWinOpened { draw } = host.event_at(seq).await.event else {
        panic!("expected instant_win_opened");
    };
    for viewer in &mut entrants {
        viewer.ack(Command::Enter { draw_id: draw.id }).await;
    }
    let seq = host
        .ack(Command::InstantWinClose { draw_id: draw.id })
        .await
        .expect("drawn");
    let drawn = host.event_at(seq).await;
    let regie::protocol::Event::InstantWinDrawn { winners, .. } = &drawn.event else {
        panic!("expected instant_win_drawn, got {}", drawn.event.name());
    };
    assert_eq!(winners.len(), 100);

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
        let ServerFrame::Welcome(welcome) = &frames[0].1 else {
            panic!("welcome first");
        };
        let head = welcome.snapshot.as_ref().expect("a head");
        assert!(head.polls.is_empty() && head.instant_wins.is_empty());
        assert!(
            frames[0].0 < 4096,
            "the welcome stays small: {}",
            frames[0].0
        );
        let counts = welcome.counts.expect("paged");
        assert_eq!((counts.polls, counts.instant_wins), (1, 1));

        let mut assembled = (**welcome).clone();
        for (_, frame) in &frames[1..frames.len() - 1] {
            let ServerFrame::SnapshotPage(page) = frame else {
                panic!("only pages before snapshot_end");
            };
            assembled.add_page((**page).clone());
        }
        let snapshot = assembled.snapshot.expect("a snapshot");
        assert_eq!(snapshot.polls.len(), 1);
        assert_eq!(snapshot.polls[0].poll.options.len(), 6);
        assert_eq!(snapshot.instant_wins.len(), 1, "one draw, however split");
        let result = snapshot.instant_wins[0].result.as_ref().expect("drawn");
        assert_eq!(&result.winners, winners, "every winner, in order");
    }
}
