//! `regie crowd` against the real hub on 127.0.0.1:0 with a temp store: a
//! moderator and an extra viewer watch while a small seeded crowd chats.
//! What the crowd reports must match what the moderator saw, personal-data
//! lines must reach the moderator held and masked and never reach a viewer.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use regie::crowd::viewer::JoinError;
use regie::crowd::{CrowdConfig, CrowdError, CrowdReport, KindCounts, LineMix, run_crowd};
use regie::protocol::{
    Auth, Author, ChatMessage, ClientFrame, Contact, Event, Hello, HoldReason, MessageId,
    PROTOCOL_VERSION, ServerFrame, StaffRole, Visibility, parse_server_frame,
};
use support::client::text_message;
use support::hub::{ClosedPort, TestHub, as_shipped};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;

const LIVE: &str = "soldes";
/// Every wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(20);

/// The hub every test here runs, with the moderator's token.
struct CrowdHub {
    hub: TestHub,
    url: String,
    token: String,
}

async fn start_hub() -> CrowdHub {
    // An independent viewer is to see every visible line: no sampling
    // (tests/hub_delivery.rs tests it).
    let hub = TestHub::start_live(LIVE, |c| {
        as_shipped(c);
        c.settings.delivery.chat_per_sec = 0;
    })
    .await;
    CrowdHub {
        url: hub.url.clone(),
        token: hub.token(StaffRole::Moderator, "Inès"),
        hub,
    }
}

impl CrowdHub {
    async fn stop(self) {
        self.hub.stop().await;
    }
}

/// Joins with `auth`, then forwards every chat message it receives (new or
/// released) until the socket closes or the receiver is dropped.
async fn watch(url: &str, auth: Auth) -> mpsc::UnboundedReceiver<ChatMessage> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect to the hub");
    let hello = ClientFrame::Hello(Hello {
        version: PROTOCOL_VERSION,
        live: LIVE.into(),
        auth,
        resume: None,
    });
    ws.send(text_message(&hello)).await.expect("send hello");
    let welcome = timeout(WAIT, ws.next())
        .await
        .expect("an answer to hello in time")
        .expect("an answer to hello, not a closed socket")
        .expect("an answer to hello, not a socket error");
    let welcome = parse_server_frame(welcome.to_text().expect("a text frame"))
        .expect("a frame the protocol parses");
    assert!(
        matches!(welcome, ServerFrame::Welcome(_)),
        "expected welcome, got {welcome:?}"
    );
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(text) = msg else { continue };
            let frames = match parse_server_frame(&text) {
                Ok(ServerFrame::Event(frame)) => vec![frame],
                Ok(ServerFrame::Events { events, .. }) => events,
                _ => continue,
            };
            for frame in frames {
                if let Event::Message { message } | Event::Released { message, .. } = frame.event
                    && tx.send(message).is_err()
                {
                    return;
                }
            }
        }
    });
    rx
}

/// Receives until `enough` says so, or fails after [`WAIT`].
async fn collect_until(
    rx: &mut mpsc::UnboundedReceiver<ChatMessage>,
    into: &mut Vec<ChatMessage>,
    enough: impl Fn(&[ChatMessage]) -> bool,
) {
    let deadline = Instant::now() + WAIT;
    while !enough(into) {
        let next = timeout(
            deadline.saturating_duration_since(Instant::now()),
            rx.recv(),
        )
        .await
        .unwrap_or_else(|_| panic!("timed out after {} messages", into.len()));
        match next {
            Some(m) => into.push(m),
            None => panic!("the watching socket closed after {} messages", into.len()),
        }
    }
}

fn from_crowd(m: &ChatMessage) -> bool {
    matches!(&m.author, Author::Viewer { first_name, .. } if first_name != "Watcher")
}

/// The crowd's abusive lines, copied by hand: they have no slots, so the
/// hub passes them through word for word.
const ABUSIVE_LINES: &[&str] = &[
    "Arnaque ce live, bande de nuls",
    "T'es vraiment une andouille",
    "Quelle bande de clowns 🤡",
    "You're all idiots",
    "Nul nul nul, rendez l'argent",
    "Ferme-la, espèce de cornichon",
    "Espèce d'idiot, réponds !",
    "Vendeur arnaqueur 🤡",
];

/// Counts what the moderator saw by kind, by rules of this test's own: a
/// line held for personal data, one of [`ABUSIVE_LINES`], a question (every
/// question the crowd asks ends with "?", no other line does), or else a
/// comment.
fn kinds_seen(messages: &[&ChatMessage]) -> KindCounts {
    let mut seen = KindCounts::default();
    for m in messages {
        let held_pd = m.visibility
            == Visibility::Held {
                reason: HoldReason::PersonalData,
                rule_id: None,
            };
        if held_pd {
            seen.personal_data += 1;
        } else if ABUSIVE_LINES.contains(&m.text.as_str()) {
            seen.abusive += 1;
        } else if m.text.ends_with('?') {
            seen.question += 1;
        } else {
            seen.comment += 1;
        }
    }
    seen
}

/// Personal data as the crowd writes it, in clear: a phone's middle digits
/// (two groups of two, side by side) or an address at its example domains.
/// Written here, not asked of the hub's detector.
fn shows_personal_data(text: &str) -> bool {
    let clear_digits = text.as_bytes().windows(5).any(|w| {
        w[0].is_ascii_digit()
            && w[1].is_ascii_digit()
            && w[2] == b' '
            && w[3].is_ascii_digit()
            && w[4].is_ascii_digit()
    });
    clear_digits || text.contains("@example.")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_crowd_reaches_staff_and_its_personal_data_is_held_from_viewers() {
    let hub = start_hub().await;
    let mut staff = watch(
        &hub.url,
        Auth::Staff {
            token: hub.token.clone(),
        },
    )
    .await;
    let mut watcher = watch(
        &hub.url,
        Auth::Viewer {
            first_name: "Watcher".into(),
            pseudonym: None,
            pass: None,
            token: None,
            contact: Contact::default(),
        },
    )
    .await;

    let lines = 60;
    let report = run_seeded_crowd(&hub.url, lines).await;
    let held_ids = staff_saw_every_line_with_personal_data_held(&mut staff, &report, lines).await;
    viewer_saw_every_visible_line_and_none_held(&mut watcher, &report, &held_ids).await;

    hub.stop().await;
}

/// Runs a crowd of 20 with seed 7 until it has sent `lines` lines, and
/// checks its report: exactly the seed's first lines, every one answered.
async fn run_seeded_crowd(url: &str, lines: u64) -> CrowdReport {
    let mix = LineMix {
        question_ratio: 0.3,
        abuse_ratio: 0.1,
        personal_data_ratio: 0.2,
    };
    let config = CrowdConfig {
        viewers: 20,
        rate: 20.0,
        // A bound, not the expected length: the run ends after `lines`.
        duration: Duration::from_secs(60),
        seed: 7,
        mix,
        connect_rate: 100.0,
        max_lines: Some(lines),
        drain: Duration::from_secs(5),
        ..CrowdConfig::new(url.to_string(), LIVE)
    };
    let report = timeout(
        Duration::from_secs(90),
        run_crowd(config, std::future::pending()),
    )
    .await
    .expect("the crowd ends by itself")
    .expect("the crowd runs to its end");
    println!("{report}");

    // The crowd sent the lines asked for, and the hub answered every one.
    // (What kinds they were is checked against what staff saw.)
    assert_eq!(report.viewers_connected, 20);
    assert!(report.connect_failures.is_empty(), "{report}");
    assert_eq!(report.sent.total(), lines, "{report}");
    assert!(
        report.sent.personal_data > 0,
        "the seed must include personal data"
    );
    assert_eq!(report.acked.total(), lines, "{report}");
    assert_eq!(report.refused_total(), 0, "{report}");
    assert_eq!(report.unanswered, 0);
    assert_eq!(report.unresolved, 0, "{report}");
    assert!(report.disconnects.is_empty(), "{report}");
    assert_eq!(report.personal_data_seen_by_viewers, 0);
    assert_eq!(report.visible + report.held.total(), lines);
    report
}

/// The moderator saw every acked line once; what was held there is what
/// the crowd counted as held, and every personal-data line is among it,
/// masked. Returns the held messages' ids.
async fn staff_saw_every_line_with_personal_data_held(
    staff: &mut mpsc::UnboundedReceiver<ChatMessage>,
    report: &CrowdReport,
    lines: u64,
) -> BTreeSet<MessageId> {
    // The moderator saw every acked line, once.
    let mut seen_by_staff = Vec::new();
    collect_until(staff, &mut seen_by_staff, |ms| {
        ms.iter().filter(|m| from_crowd(m)).count() as u64 >= lines
    })
    .await;
    let crowd_at_staff: Vec<&ChatMessage> =
        seen_by_staff.iter().filter(|m| from_crowd(m)).collect();
    let ids: BTreeSet<MessageId> = crowd_at_staff.iter().map(|m| m.id).collect();
    assert_eq!(ids.len() as u64, lines, "no duplicates at staff");
    // The crowd counted the kinds it sent as staff saw them.
    assert_eq!(report.sent, kinds_seen(&crowd_at_staff), "{report}");

    // What was held at staff is what the crowd counted as held, and every
    // personal-data line is among it, masked.
    let held: Vec<&&ChatMessage> = crowd_at_staff
        .iter()
        .filter(|m| matches!(m.visibility, Visibility::Held { .. }))
        .collect();
    assert_eq!(held.len() as u64, report.held.total());
    let held_pd: Vec<&&&ChatMessage> = held
        .iter()
        .filter(|m| {
            m.visibility
                == Visibility::Held {
                    reason: HoldReason::PersonalData,
                    rule_id: None,
                }
        })
        .collect();
    assert_eq!(held_pd.len() as u64, report.sent.personal_data);
    assert_eq!(report.held.personal_data, report.sent.personal_data);
    for m in &held_pd {
        assert!(
            !shows_personal_data(&m.text) && m.text.contains('•'),
            "held text is masked: {:?}",
            m.text
        );
    }
    let visible_at_staff = crowd_at_staff
        .iter()
        .filter(|m| m.visibility == Visibility::Visible)
        .count() as u64;
    assert_eq!(visible_at_staff, report.visible);

    held.iter().map(|m| m.id).collect()
}

/// An independent viewer got every visible line and none of the held.
async fn viewer_saw_every_visible_line_and_none_held(
    watcher: &mut mpsc::UnboundedReceiver<ChatMessage>,
    report: &CrowdReport,
    held_ids: &BTreeSet<MessageId>,
) {
    let mut seen_by_viewer = Vec::new();
    collect_until(watcher, &mut seen_by_viewer, |ms| {
        ms.iter().filter(|m| from_crowd(m)).count() as u64 >= report.visible
    })
    .await;
    for m in seen_by_viewer.iter().filter(|m| from_crowd(m)) {
        assert!(!held_ids.contains(&m.id), "a held message reached a viewer");
        assert!(!shows_personal_data(&m.text), "{:?}", m.text);
        assert_eq!(m.visibility, Visibility::Visible);
    }
}

#[tokio::test]
async fn an_unreachable_hub_is_one_clear_error_naming_the_url() {
    // A loopback port where nothing listens, kept so for the whole test.
    let closed = ClosedPort::bind();
    let url = format!("ws://{}/", closed.addr);
    let config = CrowdConfig {
        viewers: 5,
        duration: Duration::from_secs(5),
        ..CrowdConfig::new(url.clone(), LIVE)
    };
    let err = timeout(WAIT, run_crowd(config, std::future::pending()))
        .await
        .expect("fails fast")
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&url), "{text}");
    assert!(text.contains("cannot reach"), "{text}");
}

#[tokio::test]
async fn a_hub_refusing_the_live_is_reported_with_its_code() {
    let hub = start_hub().await;
    let config = CrowdConfig {
        viewers: 3,
        duration: Duration::from_secs(5),
        ..CrowdConfig::new(hub.url.clone(), "another-live")
    };
    let err = timeout(WAIT, run_crowd(config, std::future::pending()))
        .await
        .expect("fails fast")
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CrowdError::Refused {
                source: JoinError::Refused {
                    code: regie::protocol::ErrorCode::WrongLive,
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("refused the hello: wrong_live"), "{text}");
    assert!(text.contains(&hub.url), "{text}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_future_ends_a_long_crowd_early_with_a_report() {
    let hub = start_hub().await;
    let (stop, stopped) = oneshot::channel::<()>();
    let config = CrowdConfig {
        viewers: 10,
        rate: 10.0,
        duration: Duration::from_secs(3600),
        drain: Duration::from_secs(2),
        ..CrowdConfig::new(hub.url.clone(), LIVE)
    };
    let mut staff = watch(
        &hub.url,
        Auth::Staff {
            token: hub.token.clone(),
        },
    )
    .await;
    let crowd = tokio::spawn(run_crowd(config, async {
        let _ = stopped.await;
    }));
    // Stop once the show has visibly started.
    let mut seen = Vec::new();
    collect_until(&mut staff, &mut seen, |ms| ms.iter().any(from_crowd)).await;
    stop.send(()).unwrap();
    let report = timeout(WAIT, crowd).await.unwrap().unwrap().unwrap();
    // The crowd has left the hub...
    let give_up = Instant::now() + WAIT;
    while hub.hub.metric("regie_connections{role=\"viewer\"}").await > 0.0 {
        assert!(
            Instant::now() < give_up,
            "the crowd's viewers are still connected"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...and its report tells what reached the hub: every acked line, and
    // only those, is at staff. A line from staff after it marks the end.
    let mut host = hub.hub.staff(StaffRole::Host, "Sophie").await;
    host.say("fin du live").await;
    collect_until(&mut staff, &mut seen, |ms| {
        ms.iter().any(|m| m.text == "fin du live")
    })
    .await;
    let from_the_crowd = seen.iter().filter(|m| from_crowd(m)).count() as u64;
    assert_eq!(report.acked.total(), from_the_crowd, "{report}");
    assert_eq!(
        report.sent.total(),
        report.acked.total() + report.unanswered + report.refused_total(),
        "{report}"
    );
    hub.stop().await;
}

/// Command ids are unique per run: a second run with the same seed against
/// the same hub posts its lines again instead of being answered with the
/// first run's acks (the hub remembers outcomes per viewer and id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_twice_posts_every_line_twice() {
    let hub = start_hub().await;
    let mut staff = watch(
        &hub.url,
        Auth::Staff {
            token: hub.token.clone(),
        },
    )
    .await;
    let lines = 12;
    let config = || CrowdConfig {
        viewers: 4,
        rate: 20.0,
        duration: Duration::from_secs(60),
        seed: 11,
        mix: LineMix {
            question_ratio: 0.5,
            abuse_ratio: 0.0,
            personal_data_ratio: 0.0,
        },
        connect_rate: 100.0,
        max_lines: Some(lines),
        drain: Duration::from_secs(5),
        ..CrowdConfig::new(hub.url.clone(), LIVE)
    };
    for run in 1..=2u64 {
        let report = timeout(
            Duration::from_secs(90),
            run_crowd(config(), std::future::pending()),
        )
        .await
        .expect("the crowd ends by itself")
        .unwrap();
        assert_eq!(report.acked.total(), lines, "run {run}: {report}");
        let mut seen = Vec::new();
        collect_until(&mut staff, &mut seen, |ms| {
            ms.iter().filter(|m| from_crowd(m)).count() as u64 >= lines
        })
        .await;
        assert_eq!(
            seen.iter().filter(|m| from_crowd(m)).count() as u64,
            lines,
            "run {run}: every line reached staff as a new message"
        );
    }
    hub.stop().await;
}
