//! The hub end to end: a real `regie serve` on 127.0.0.1:0 with a temp
//! store, real WebSocket clients, every wait bounded.

mod support;

use regie::protocol::{
    Auth, ChatEntry, ClientFrame, CloseCode, Command, Contact, ErrorCode, Event, HoldReason,
    MessageId, Resume, Role, ServerFrame, StaffRole, Visibility,
};
use support::client::{Closed, close_code, send_json, send_text, text_of};
use support::hub::TestHub;

fn say(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: false,
        announcement: false,
    }
}

fn ask(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: true,
        announcement: false,
    }
}

/// The message id of the event at `seq` as `client` received it.
async fn message_id_at(client: &mut support::client::Client, seq: u64) -> MessageId {
    match client.event_at(seq).await.event {
        Event::Message { message } => message.id,
        other => panic!("expected a message at seq {seq}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_message_reaches_viewers_and_staff_with_the_same_seq() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    assert_eq!(julie.welcome.you.role, Role::Viewer);
    assert_eq!(ines.welcome.you.role, Role::Staff(StaffRole::Moderator));
    assert_eq!(ines.welcome.you.name, "Inès");
    assert!(julie.welcome.snapshot.is_some());

    let seq = julie.say("Elle existe en 38 ?").await;
    let for_marc = marc.event_at(seq).await;
    let for_ines = ines.event_at(seq).await;
    assert_eq!(for_marc.seq, seq);
    assert_eq!(for_ines.seq, seq);
    assert_eq!(for_marc.epoch, julie.welcome.epoch);
    assert_eq!(text_of(&for_marc.event), Some("Elle existe en 38 ?"));
    assert_eq!(for_marc.event, for_ines.event);
    // The author sees their own message too, before the ack.
    assert_eq!(julie.events.last().map(|e| e.seq), Some(seq));
    let Event::Message { message } = &for_marc.event else {
        panic!()
    };
    assert_eq!(message.author.display_name(), "Julie");
    assert_eq!(
        message.author.viewer_id(),
        julie.welcome.you.viewer_id.as_ref()
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_escapes_never_reach_staff() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Ju\u{1b}]0;pwned\u{7}lie\u{202e}").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    assert_eq!(julie.welcome.you.name, "Julie");
    let seq = julie.say("prix ?\u{1b}[2J\u{1b}[31m rouge\u{9b}31m").await;
    let event = ines.event_at(seq).await;
    let text = text_of(&event.event).unwrap();
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert_eq!(text, "prix ? rouge");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn question_answer_and_mark_answered_reach_everyone() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let mut sophie = hub.staff(StaffRole::Host, "Sophie").await;

    let q_seq = julie
        .ack(ask("Elle existe en 38 ?"))
        .await
        .expect("a question is an event");
    let q = message_id_at(&mut sophie, q_seq).await;
    let Event::Message { message } = sophie.event_at(q_seq).await.event else {
        panic!()
    };
    assert!(message.question && !message.answered);

    let a_seq = sophie
        .ack(Command::Answer {
            message_id: q,
            text: "Oui, du 36 au 44".into(),
            also: Vec::new(),
        })
        .await
        .expect("an answer is an event");
    let Event::Message { message: answer } = julie.event_at(a_seq).await.event else {
        panic!()
    };
    let reply_to = answer.reply_to.expect("an answer replies to the question");
    assert_eq!(
        (reply_to.message_id, reply_to.first_name.as_str()),
        (q, "Julie")
    );
    assert_eq!(answer.author.display_name(), "Sophie");

    let m_seq = sophie
        .ack(Command::MarkAnswered { message_id: q })
        .await
        .expect("an event");
    let marked = julie.event_at(m_seq).await;
    assert!(
        matches!(marked.event, Event::QuestionAnswered { message_id, ref by } if message_id == q && by.name.is_none())
    );
    // Staff see who acted; viewers do not.
    let staff_view = sophie.event_at(m_seq).await;
    assert!(
        matches!(staff_view.event, Event::QuestionAnswered { ref by, .. } if by.name.as_deref() == Some("Sophie"))
    );

    // A newcomer's snapshot has no open question left, and the answer.
    let late = hub.viewer("Léa").await;
    let snapshot = late.welcome.snapshot.expect("snapshot");
    assert!(snapshot.open_questions.is_empty());
    assert!(snapshot.recent.iter().any(
        |e| matches!(e, ChatEntry::Message(m) if m.reply_to.as_ref().is_some_and(|r| r.message_id == q))
    ));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_and_unpin() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let mut sophie = hub.staff(StaffRole::Host, "Sophie").await;
    let seq = julie.say("Code LIVE10 ?").await;
    let id = message_id_at(&mut sophie, seq).await;

    let pin = sophie
        .ack(Command::Pin { message_id: id })
        .await
        .expect("event");
    assert!(
        matches!(julie.event_at(pin).await.event, Event::Pinned { message_id, .. } if message_id == id)
    );
    let late = hub.viewer("Léa").await;
    assert_eq!(
        late.welcome.snapshot.unwrap().pinned.map(|m| m.text),
        Some("Code LIVE10 ?".to_string())
    );

    let unpin = sophie.ack(Command::Unpin).await.expect("event");
    assert!(
        matches!(julie.event_at(unpin).await.event, Event::Unpinned { message_id, .. } if message_id == id)
    );
    let late = hub.viewer("Léo").await;
    assert!(late.welcome.snapshot.unwrap().pinned.is_none());
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redaction_reaches_every_client_and_replays_as_a_tombstone() {
    let hub = TestHub::start().await;
    let marker = "redact-me-xyzzy-marker";
    let mut julie = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    // A client that will resume from before the message.
    let before = marc.position();

    let seq = julie.say(&format!("secret {marker}")).await;
    let id = message_id_at(&mut sam, seq).await;
    marc.event_at(seq).await;
    ines.event_at(seq).await;

    let r_seq = sam
        .ack(Command::Redact {
            message_id: id,
            reason: "viewer asked".into(),
        })
        .await
        .expect("redaction is an event");
    for client in [&mut julie, &mut marc, &mut ines, &mut sam] {
        let e = client.event_at(r_seq).await;
        let Event::Redacted { tombstone } = &e.event else {
            panic!("expected a tombstone, got {:?}", e.event)
        };
        assert_eq!(tombstone.message_id, id);
        assert_eq!(tombstone.reason, "viewer asked");
    }
    // Viewers do not learn who redacted; staff do.
    let Event::Redacted { tombstone } = marc.event_at(r_seq).await.event else {
        panic!()
    };
    assert_eq!(tombstone.by.name, None);
    let Event::Redacted { tombstone } = ines.event_at(r_seq).await.event else {
        panic!()
    };
    assert_eq!(tombstone.by.name.as_deref(), Some("Sam"));

    // Redacting twice is a no-op ack.
    assert_eq!(
        sam.ack(Command::Redact {
            message_id: id,
            reason: "again".into()
        })
        .await,
        None
    );

    // A client resuming from before the message replays the tombstone.
    let mut hello = hub.viewer_hello("Marc");
    hello.resume = Some(before);
    let mut resumed = hub.join(hello).await;
    assert!(resumed.welcome.resumed);
    assert!(resumed.welcome.snapshot.is_none());
    let replayed = resumed.event_at(r_seq).await;
    assert_eq!(replayed.seq, r_seq);
    let at_message = resumed
        .events
        .iter()
        .find(|e| e.seq == seq)
        .expect("the message's seq is replayed");
    assert!(
        matches!(&at_message.event, Event::Redacted { tombstone } if tombstone.message_id == id),
        "{:?}",
        at_message.event
    );
    let all = serde_json::to_string(&resumed.events).unwrap();
    assert!(!all.contains(marker), "replay leaked the text: {all}");

    // A fresh client's snapshot holds the tombstone, never the text.
    for fresh in [
        hub.viewer("Léa").await,
        hub.staff(StaffRole::Admin, "Ada").await,
    ] {
        let snapshot = fresh.welcome.snapshot.expect("snapshot");
        let json = serde_json::to_string(&snapshot).unwrap();
        assert!(!json.contains(marker), "snapshot leaked the text: {json}");
        assert!(
            snapshot
                .recent
                .iter()
                .any(|e| matches!(e, ChatEntry::Redacted(t) if t.message_id == id))
        );
    }
    hub.stop().await;
}

/// The files of the data dir that hold `needle` in their raw bytes, and
/// how many bytes were scanned in all.
fn data_dir_files_holding(dir: &std::path::Path, needle: &str) -> (Vec<std::path::PathBuf>, usize) {
    let mut holding = Vec::new();
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir).expect("list the data dir") {
        let path = entry.expect("a data dir entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read a data dir file");
            scanned += bytes.len();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                holding.push(path);
            }
        }
    }
    (holding, scanned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redacted_text_is_gone_from_the_data_dir_files() {
    let hub = TestHub::start_with(|c| c.settings.viewer_burst = 100).await;
    let marker = "ZQXJ-redaction-file-scan-marker-31337";
    let mut julie = hub.viewer("Julie").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    // Enough other traffic that the message shares pages with live rows.
    for i in 0..20 {
        julie
            .ack(Command::Say {
                text: format!("filler {i}"),
                question: i % 3 == 0,
                announcement: false,
            })
            .await;
    }
    let seq = julie.say(&format!("call me {marker}")).await;
    julie.say("after").await;
    let id = message_id_at(&mut sam, seq).await;
    // The scan can find the text: before the redaction it is on disk.
    let (before, _) = data_dir_files_holding(&hub.data_dir, marker);
    assert!(
        !before.is_empty(),
        "the test proves nothing: the marker is not on disk before the redaction"
    );
    let r = sam
        .ack(Command::Redact {
            message_id: id,
            reason: "erasure request".into(),
        })
        .await;
    assert!(r.is_some());
    let dir = hub.stop().await.expect("the hub owned its temp dir");

    let (after, scanned) = data_dir_files_holding(dir.path(), marker);
    assert!(
        after.is_empty(),
        "still holding the redacted text: {after:?}"
    );
    assert!(scanned > 0, "the data dir holds the store");
    // The store still serves the rest of the history.
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let fresh = hub.staff(StaffRole::Admin, "Ada").await;
    let json = serde_json::to_string(&fresh.welcome.snapshot).unwrap();
    assert!(json.contains("filler 19") && !json.contains(marker));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_is_forbidden_staff_commands() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let seq = julie.say("hello").await;
    let id = message_id_at(&mut julie, seq).await;
    let viewer_id = julie.welcome.you.viewer_id.clone().unwrap();
    let staff_commands = vec![
        Command::Answer {
            message_id: id,
            text: "x".into(),
            also: Vec::new(),
        },
        Command::Pin { message_id: id },
        Command::Unpin,
        Command::MarkAnswered { message_id: id },
        Command::Hide {
            message_id: id,
            reason: String::new(),
        },
        Command::Release { message_id: id },
        Command::Timeout {
            viewer_id: viewer_id.clone(),
            seconds: 60,
            reason: String::new(),
        },
        Command::Ban {
            viewer_id: viewer_id.clone(),
            reason: String::new(),
        },
        Command::Redact {
            message_id: id,
            reason: "x".into(),
        },
        Command::ViewerCard {
            viewer_id: viewer_id.clone(),
        },
    ];
    for command in staff_commands {
        let name = command.name();
        let e = julie.refused(command).await;
        assert_eq!(e.code, ErrorCode::Forbidden, "{name}");
        assert!(!e.temporary);
        assert!(e.message.contains(name), "{}", e.message);
    }
    // Nothing happened: the next event is the viewer's next message.
    let next = julie.say("still here").await;
    assert_eq!(next, seq + 1);
    hub.stop().await;
}

async fn refused_token(hub: &TestHub, token: String) -> Closed {
    let mut hello = hub.viewer_hello("x");
    hello.auth = Auth::Staff { token };
    match hub.try_join(hello).await {
        Ok(_) => panic!("the token was accepted"),
        Err(closed) => closed,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_forged_and_wrong_live_tokens_are_refused_before_joining() {
    let hub = TestHub::start().await;
    let expired = refused_token(&hub, hub.expired_token(StaffRole::Admin, "Ada")).await;
    assert_eq!(expired.error_code(), Some(ErrorCode::TokenExpired));
    assert!(
        expired.message().contains("expired"),
        "{}",
        expired.message()
    );
    assert_eq!(expired.code, Some(close_code(CloseCode::Unauthorized)));

    let forged = refused_token(&hub, hub.forged_token(StaffRole::Admin, "Ada")).await;
    assert_eq!(forged.error_code(), Some(ErrorCode::TokenInvalid));
    assert!(
        forged.message().contains("signature"),
        "{}",
        forged.message()
    );
    assert_eq!(forged.code, Some(close_code(CloseCode::Unauthorized)));

    let garbage = refused_token(&hub, "not a token".into()).await;
    assert_eq!(garbage.error_code(), Some(ErrorCode::TokenInvalid));
    assert_eq!(garbage.code, Some(close_code(CloseCode::Unauthorized)));

    let other_live = regie::auth::Claims::new(
        StaffRole::Admin,
        "Ada",
        "other-show",
        regie::now_millis(),
        3_600_000,
    )
    .unwrap();
    let wrong = refused_token(&hub, regie::auth::mint(&hub.key, &other_live)).await;
    assert_eq!(wrong.error_code(), Some(ErrorCode::WrongLive));
    assert_eq!(wrong.code, Some(close_code(CloseCode::Unauthorized)));

    // No refused client ever saw a welcome or an event.
    for closed in [&expired, &forged, &garbage, &wrong] {
        assert!(closed.events().is_empty());
        assert!(
            !closed
                .frames
                .iter()
                .any(|f| matches!(f, ServerFrame::Welcome(_)))
        );
    }
    // A valid token still works.
    hub.staff(StaffRole::Admin, "Ada").await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_version_gets_an_error_and_close_4001() {
    let hub = TestHub::start().await;
    let mut hello = hub.viewer_hello("Julie");
    hello.version = 9;
    let closed = hub.try_join(hello).await.err().expect("refused");
    assert_eq!(closed.error_code(), Some(ErrorCode::UnsupportedVersion));
    assert!(
        closed.message().contains("version 1"),
        "{}",
        closed.message()
    );
    assert_eq!(closed.code, Some(close_code(CloseCode::UnsupportedVersion)));

    // A future hello whose shape we do not know gets the same answer.
    let mut ws = hub.raw().await;
    send_text(
        &mut ws,
        r#"{"type":"hello","version":2,"session":{"id":"x"}}"#,
    )
    .await;
    let closed = support::client::read_until_close(&mut ws).await;
    assert_eq!(closed.error_code(), Some(ErrorCode::UnsupportedVersion));
    assert_eq!(closed.code, Some(close_code(CloseCode::UnsupportedVersion)));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_frame_must_be_hello() {
    let hub = TestHub::start().await;
    let mut ws = hub.raw().await;
    send_json(
        &mut ws,
        &ClientFrame::Command(regie::protocol::CommandFrame {
            id: regie::protocol::CommandId("c-1".into()),
            command: say("hi"),
        }),
    )
    .await;
    let closed = support::client::read_until_close(&mut ws).await;
    assert_eq!(closed.error_code(), Some(ErrorCode::NotJoined));
    assert_eq!(closed.code, Some(close_code(CloseCode::ProtocolError)));

    let mut ws = hub.raw().await;
    send_text(&mut ws, "{{{ not json").await;
    let closed = support::client::read_until_close(&mut ws).await;
    assert_eq!(closed.error_code(), Some(ErrorCode::BadFrame));
    assert_eq!(closed.code, Some(close_code(CloseCode::ProtocolError)));

    let mut hello = hub.viewer_hello("  \u{200b} ");
    hello.live = "show".into();
    let closed = hub.try_join(hello).await.err().expect("no first name");
    assert_eq!(closed.error_code(), Some(ErrorCode::Invalid));

    let mut hello = hub.viewer_hello("Julie");
    hello.live = "another".into();
    let closed = hub.try_join(hello).await.err().expect("wrong live");
    assert_eq!(closed.error_code(), Some(ErrorCode::WrongLive));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_after_hello_gets_bad_frame_and_the_connection_stays() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let before = julie.say("avant").await;
    send_text(&mut julie.ws, "this is not json").await;
    match julie.next_frame().await {
        ServerFrame::Error(e) => {
            assert_eq!(e.code, ErrorCode::BadFrame);
            assert_eq!(e.id, None);
        }
        other => panic!("expected bad_frame, got {other:?}"),
    }
    // An unknown command still names its id, so the client can stop retrying.
    send_text(
        &mut julie.ws,
        r#"{"type":"command","id":"c-9","command":{"type":"dance"}}"#,
    )
    .await;
    let e = match julie.answer_to("c-9").await {
        ServerFrame::Error(e) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(e.code, ErrorCode::BadFrame);
    julie
        .ws
        .send(tokio_tungstenite::tungstenite::Message::binary(vec![
            0u8, 1, 2,
        ]))
        .await
        .unwrap();
    assert!(
        matches!(julie.next_frame().await, ServerFrame::Error(e) if e.code == ErrorCode::BadFrame)
    );
    // Still joined and working, and the garbage made no event: the next
    // line is the one after the line before it.
    let seq = julie.say("toujours là").await;
    assert_eq!(seq, before + 1);
    assert_eq!(
        text_of(&julie.event_at(seq).await.event),
        Some("toujours là")
    );
    assert!(
        hub.metric("regie_rejected_frames_total{reason=\"bad_frame\"}")
            .await
            >= 3.0
    );
    hub.stop().await;
}

use futures_util::SinkExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_garbage_is_cut_off() {
    let hub = TestHub::start_with(|c| c.limits.max_bad_frames = 3).await;
    let mut julie = hub.viewer("Julie").await;
    for _ in 0..5 {
        send_text(&mut julie.ws, "garbage").await;
    }
    let closed = julie.closed().await;
    assert_eq!(closed.code, Some(close_code(CloseCode::ProtocolError)));
    assert_eq!(closed.error_code(), Some(ErrorCode::BadFrame));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_closed_with_1009() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let huge = format!(
        r#"{{"type":"command","id":"c-1","command":{{"type":"say","text":"{}"}}}}"#,
        "a".repeat(70 * 1024)
    );
    send_text(&mut julie.ws, &huge).await;
    let closed = julie.closed().await;
    assert_eq!(closed.code, Some(close_code(CloseCode::TooBig)));
    assert_eq!(closed.error_code(), Some(ErrorCode::FrameTooLarge));
    // The hub is fine and a message just under the limit in bytes but
    // over it in characters gets the message-length error instead.
    let mut marc = hub.viewer("Marc").await;
    let e = marc.refused(say(&"b".repeat(60 * 1024))).await;
    assert_eq!(e.code, ErrorCode::MessageTooLong);
    let e = marc.refused(say(" \u{1b}[0m ")).await;
    assert_eq!(e.code, ErrorCode::EmptyMessage);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_a_drop_has_no_gap_and_no_duplicate() {
    let hub = TestHub::start().await;
    let watcher = hub.viewer("Witness").await.spawn_reader();
    let mut watcher = watcher;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut julie = hub.viewer_with_key("Julie", "julie-device").await;
    let julie_id = julie.welcome.you.viewer_id.clone().unwrap();

    let mut last = 0;
    for i in 0..5 {
        last = ines.say(&format!("before {i}")).await;
    }
    julie.event_at(last).await;
    let resume_from = julie.position();
    let seen_before = julie.drop_connection();

    // While Julie is away: chat, a hidden message, a redaction, and
    // staff-only events she must not get.
    let mut marc = hub.viewer("Marc").await;
    let hidden = marc.say("to hide").await;
    let hidden_id = message_id_at(&mut ines, hidden).await;
    ines.ack(Command::Hide {
        message_id: hidden_id,
        reason: "off topic".into(),
    })
    .await;
    let redacted = marc.say("to redact").await;
    let redacted_id = message_id_at(&mut sam, redacted).await;
    sam.ack(Command::Redact {
        message_id: redacted_id,
        reason: "request".into(),
    })
    .await;
    let marc_id = marc.welcome.you.viewer_id.clone().unwrap();
    ines.ack(Command::Timeout {
        viewer_id: marc_id,
        seconds: 30,
        reason: String::new(),
    })
    .await;
    for i in 0..5 {
        ines.say(&format!("during {i}")).await;
    }

    let mut hello = hub.viewer_hello("Julie");
    if let Auth::Viewer { pass: key, .. } = &mut hello.auth {
        *key = Some(support::client::test_key("julie-device"));
    }
    hello.resume = Some(resume_from.clone());
    let mut back = hub.join(hello).await;
    assert_eq!(back.welcome.you.viewer_id.as_ref(), Some(&julie_id));
    assert!(back.welcome.resumed, "reload: {:?}", back.reload);
    assert!(back.welcome.snapshot.is_none());
    let head = back.welcome.seq;
    let after = ines.say("after").await;
    back.event_at(after).await;
    watcher.until_seq(after).await;

    let mut julie_seqs: Vec<u64> = seen_before.iter().map(|e| e.seq).collect();
    julie_seqs.extend(back.events.iter().map(|e| e.seq));
    // A message hidden since it was sent is not replayed to viewers: the
    // resumed viewer sees what a connected viewer saw, minus that message.
    let witness: Vec<u64> = watcher
        .events
        .iter()
        .map(|e| e.seq)
        .filter(|s| *s <= after && *s != hidden)
        .collect();
    let julie_tail: Vec<u64> = julie_seqs
        .iter()
        .copied()
        .filter(|s| *s > watcher.welcome.seq)
        .collect();
    assert_eq!(
        julie_tail, witness,
        "the resumed viewer saw exactly what a connected viewer saw"
    );
    assert!(julie_seqs.windows(2).all(|w| w[0] < w[1]), "{julie_seqs:?}");
    assert!(back.events.iter().any(|e| e.seq == head));
    // The replay starts after the resume point, with nothing repeated.
    assert!(back.events.first().is_some_and(|e| e.seq > resume_from.seq));
    // No staff-only event and no hidden message text reached the viewer.
    for e in &back.events {
        assert!(
            !matches!(
                e.event,
                Event::ViewerTimedOut { .. } | Event::ViewerBanned { .. }
            ),
            "{e:?}"
        );
        assert_ne!(text_of(&e.event), Some("to redact"));
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impossible_resume_reloads_a_snapshot() {
    let hub = TestHub::start_with(|c| c.limits.max_replay_events = 3).await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let julie = hub.viewer("Julie").await;
    let old = julie.position();
    for i in 0..5 {
        ines.say(&format!("m{i}")).await;
    }
    // Too far behind.
    let mut hello = hub.viewer_hello("Julie");
    hello.resume = Some(old.clone());
    let back = hub.join(hello).await;
    assert!(back.reload.as_deref().unwrap().contains("at most 3"));
    assert!(!back.welcome.resumed);
    assert_eq!(back.welcome.snapshot.as_ref().unwrap().recent.len(), 5);
    // Another epoch (history reset).
    let mut hello = hub.viewer_hello("Julie");
    hello.resume = Some(Resume {
        epoch: regie::protocol::Epoch("some-other-epoch".into()),
        seq: 1,
    });
    let back = hub.join(hello).await;
    assert!(back.reload.is_some());
    assert!(back.welcome.snapshot.is_some());
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_is_cut_off_while_the_others_keep_receiving() {
    let hub = TestHub::start_with(|c| {
        c.limits.send_queue_frames = 8;
        c.limits.close_grace = std::time::Duration::from_secs(30);
        c.limits.viewers_online_interval = std::time::Duration::from_secs(3600);
    })
    .await;
    let mut fast = hub.viewer("Fast").await.spawn_reader();
    // Joined, then never reads again (until the end of the test).
    let slow = hub.viewer("Slow").await;
    let mut ada = hub.staff(StaffRole::Admin, "Ada").await;

    // Big messages fill the slow reader's socket buffers sooner.
    let text = "😀".repeat(500);
    let mut sent = Vec::new();
    let mut cut = false;
    for round in 0..400 {
        for _ in 0..25 {
            sent.push(ada.say(&text).await);
        }
        // Keep the staff client's own backlog short.
        let last = *sent.last().unwrap();
        ada.event_at(last).await;
        ada.events.clear();
        if hub.metric("regie_slow_disconnects_total").await >= 1.0 {
            cut = true;
            eprintln!(
                "slow reader cut after {} messages (round {round})",
                sent.len()
            );
            break;
        }
    }
    assert!(cut, "the slow reader was never cut");
    let last = ada.say("the show goes on").await;
    sent.push(last);

    // The fast reader got every single event, in order.
    let got: Vec<u64> = fast
        .until_seq(last)
        .await
        .iter()
        .filter(|e| matches!(e.event, Event::Message { .. }))
        .map(|e| e.seq)
        .collect();
    assert!(
        got == sent,
        "the fast reader missed or reordered events: got {} of {}",
        got.len(),
        sent.len()
    );

    // The slow one finds, after what fitted in its buffers, the goodbye.
    let closed = slow.closed().await;
    assert_eq!(closed.code, Some(close_code(CloseCode::Slow)));
    assert_eq!(closed.error_code(), Some(ErrorCode::SlowConsumer));
    let slow_events = closed.events().len();
    assert!(
        slow_events < sent.len(),
        "{slow_events} of {} events",
        sent.len()
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_sequence_numbers_history_and_pins() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer_with_key("Julie", "device-j").await;
    let mut sophie = hub.staff(StaffRole::Host, "Sophie").await;
    julie.say("premier").await;
    let seq = julie.say("à épingler").await;
    let id = message_id_at(&mut sophie, seq).await;
    let head = sophie
        .ack(Command::Pin { message_id: id })
        .await
        .expect("event");
    let epoch = julie.welcome.epoch.clone();
    let resume_from = julie.position();
    drop(julie);
    let dir = hub.stop().await.expect("temp dir");

    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let mut lea = hub.viewer("Léa").await;
    assert_eq!(lea.welcome.epoch, epoch);
    assert_eq!(lea.welcome.seq, head);
    let snapshot = lea.welcome.snapshot.clone().unwrap();
    assert_eq!(snapshot.pinned.map(|m| m.id), Some(id));
    let texts: Vec<String> = snapshot
        .recent
        .iter()
        .filter_map(|e| match e {
            ChatEntry::Message(m) => Some(m.text.clone()),
            ChatEntry::Redacted(_) => None,
        })
        .collect();
    assert_eq!(texts, vec!["premier", "à épingler"]);

    let next = lea.say("après le redémarrage").await;
    assert_eq!(next, head + 1);
    let Event::Message { message } = lea.event_at(next).await.event else {
        panic!()
    };
    assert!(message.id > id, "message ids are not reused");

    // A client from before the restart resumes across it.
    let mut hello = hub.viewer_hello("Julie");
    if let Auth::Viewer { pass: key, .. } = &mut hello.auth {
        *key = Some(support::client::test_key("device-j"));
    }
    hello.resume = Some(resume_from);
    let mut back = hub.join(hello).await;
    assert!(back.welcome.resumed);
    let replayed = back.event_at(next).await;
    assert_eq!(replayed.seq, next);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_command_id_takes_effect_once() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer_with_key("Julie", "device-retry").await;
    let first = julie.command_with_id("c-1", say("une seule fois")).await;
    let ServerFrame::Ack { seq: Some(seq), .. } = first else {
        panic!("{first:?}")
    };
    let again = julie.command_with_id("c-1", say("une seule fois")).await;
    assert!(matches!(again, ServerFrame::Ack { seq: Some(s), .. } if s == seq));

    // After a reconnect (same pass), the retry is still recognised.
    drop(julie);
    let mut julie = hub.viewer_with_key("Julie", "device-retry").await;
    let again = julie.command_with_id("c-1", say("une seule fois")).await;
    assert!(matches!(again, ServerFrame::Ack { seq: Some(s), .. } if s == seq));
    // And the next real message directly follows: no second effect.
    let next = julie.command_with_id("c-2", say("autre")).await;
    assert!(matches!(next, ServerFrame::Ack { seq: Some(s), .. } if s == seq + 1));
    // An id reused for a different command (a client whose counter started
    // over) is not a retry: it is a new command, not the old ack.
    let reused = julie.command_with_id("c-1", say("un autre jour")).await;
    assert!(matches!(reused, ServerFrame::Ack { seq: Some(s), .. } if s == seq + 2));

    // Across a restart too (outcomes live in the store).
    drop(julie);
    let dir = hub.stop().await.unwrap();
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let mut julie = hub.viewer_with_key("Julie", "device-retry").await;
    let again = julie.command_with_id("c-1", say("une seule fois")).await;
    assert!(matches!(again, ServerFrame::Ack { seq: Some(s), .. } if s == seq));
    let snapshot = julie.welcome.snapshot.unwrap();
    let copies = snapshot
        .recent
        .iter()
        .filter(|e| matches!(e, ChatEntry::Message(m) if m.text == "une seule fois"))
        .count();
    assert_eq!(copies, 1);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_held_masked_for_staff_and_never_reaches_viewers() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;

    let held = julie
        .ack(say("appelle-moi au 06 12 34 56 78 ou julie.m@gmail.com"))
        .await
        .expect("a held message is still an event (for staff)");
    let staff_event = ines.event_at(held).await;
    let Event::Message { message } = &staff_event.event else {
        panic!()
    };
    assert_eq!(
        message.visibility,
        Visibility::Held {
            reason: HoldReason::PersonalData,
            rule_id: None,
        }
    );
    assert_eq!(
        message.text,
        "appelle-moi au 06 •• •• •• 78 ou j•••@g•••.com"
    );
    let id = message.id;

    // Viewers skip it: the next event they see is the next message.
    let clean = julie.say("pardon").await;
    let next = marc.event_at(held).await;
    assert_eq!(next.seq, clean);
    assert!(
        !julie.events.iter().any(|e| e.seq == held),
        "the author does not get the held message back either"
    );
    let fresh = hub.viewer("Léa").await;
    let json = serde_json::to_string(&fresh.welcome.snapshot).unwrap();
    assert!(!json.contains("appelle-moi"), "{json}");
    let staff_fresh = hub.staff(StaffRole::Moderator, "Paul").await;
    let json = serde_json::to_string(&staff_fresh.welcome.snapshot).unwrap();
    assert!(json.contains("appelle-moi") && !json.contains("12 34 56"));

    // Release lets it through, masked text only.
    let released = ines
        .ack(Command::Release { message_id: id })
        .await
        .expect("event");
    let Event::Released { message, .. } = marc.event_at(released).await.event else {
        panic!()
    };
    assert_eq!(message.visibility, Visibility::Visible);
    assert_eq!(
        message.text,
        "appelle-moi au 06 •• •• •• 78 ou j•••@g•••.com"
    );

    // A blocked term is held too, for staff only, until released.
    let blocked = julie
        .ack(say("quel arnaqueur ce vendeur"))
        .await
        .expect("a held message is still an event (for staff)");
    let Event::Message { message } = ines.event_at(blocked).await.event else {
        panic!()
    };
    assert!(
        matches!(
            message.visibility,
            Visibility::Held {
                reason: HoldReason::BlockedTerm,
                rule_id: Some(_),
            }
        ),
        "held by a rule, named by its id: {:?}",
        message.visibility
    );
    assert_eq!(message.text, "quel arnaqueur ce vendeur");
    let clean = julie.say("désolée").await;
    assert_eq!(marc.event_at(blocked).await.seq, clean, "viewers skip it");
    let released = ines
        .ack(Command::Release {
            message_id: message.id,
        })
        .await
        .expect("event");
    let Event::Released { message, .. } = marc.event_at(released).await.event else {
        panic!()
    };
    assert_eq!(message.visibility, Visibility::Visible);
    assert_eq!(message.text, "quel arnaqueur ce vendeur");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_viewer_is_disconnected_and_refused_at_hello() {
    let hub = TestHub::start().await;
    let mut troll = hub.viewer_with_key("Troll", "troll-device").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let troll_id = troll.welcome.you.viewer_id.clone().unwrap();
    troll.say("spam").await;

    let timeout_seq = ines
        .ack(Command::Timeout {
            viewer_id: troll_id.clone(),
            seconds: 600,
            reason: "spam".into(),
        })
        .await
        .expect("event");
    assert!(matches!(
        ines.event_at(timeout_seq).await.event,
        Event::ViewerTimedOut { .. }
    ));
    let e = troll.refused(say("more spam")).await;
    assert_eq!(e.code, ErrorCode::TimedOut);
    assert!(e.temporary);

    ines.ack(Command::Ban {
        viewer_id: troll_id.clone(),
        reason: "abuse".into(),
    })
    .await;
    let closed = troll.closed().await;
    assert_eq!(closed.code, Some(close_code(CloseCode::Banned)));
    assert_eq!(closed.error_code(), Some(ErrorCode::Banned));

    let mut hello = hub.viewer_hello("Troll");
    if let Auth::Viewer { pass: key, .. } = &mut hello.auth {
        *key = Some(support::client::test_key("troll-device"));
    }
    let refused = hub.try_join(hello).await.err().expect("banned");
    assert_eq!(refused.error_code(), Some(ErrorCode::Banned));
    assert_eq!(refused.code, Some(close_code(CloseCode::Banned)));

    // The card shows the sanctions; contact only for support.
    let card = ines
        .command(Command::ViewerCard {
            viewer_id: troll_id.clone(),
        })
        .await;
    let ServerFrame::ViewerCard { card, .. } = card else {
        panic!("{card:?}")
    };
    assert_eq!(card.sanctions.len(), 2, "{:?}", card.sanctions);
    assert!(card.contact.is_none());
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_data_is_never_broadcast_and_shown_masked_to_support() {
    let hub = TestHub::start().await;
    let mut hello = hub.viewer_hello("Julie");
    if let Auth::Viewer {
        contact, pass: key, ..
    } = &mut hello.auth
    {
        *contact = Contact {
            phone: Some("+33 6 12 34 56 78".into()),
            email: Some("julie.martin@example.fr".into()),
        };
        *key = Some(support::client::test_key("julie"));
    }
    let mut julie = hub.join(hello).await;
    // Contact data is stored under the consent it is collected for.
    julie
        .ack(Command::Consent {
            purpose: regie::protocol::ConsentPurpose::PrizeContact,
            granted: true,
            channel: regie::protocol::ConsentChannel::Player,
            text_sha256: "9f".repeat(32),
            contact: Contact {
                phone: Some("+33 6 12 34 56 78".into()),
                email: Some("julie.martin@example.fr".into()),
            },
        })
        .await;
    let id = julie.welcome.you.viewer_id.clone().unwrap();
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let seq = julie.say("coucou").await;
    let json = serde_json::to_string(&ines.event_at(seq).await).unwrap();
    assert!(!json.contains("12 34 56") && !json.contains("martin"));

    let ServerFrame::ViewerCard { card, .. } = ines
        .command(Command::ViewerCard {
            viewer_id: id.clone(),
        })
        .await
    else {
        panic!()
    };
    assert!(card.contact.is_none(), "moderators do not see contact data");
    let ServerFrame::ViewerCard { card, .. } = sam
        .command(Command::ViewerCard {
            viewer_id: id.clone(),
        })
        .await
    else {
        panic!()
    };
    let contact = card.contact.expect("support sees masked contact");
    assert_eq!(contact.phone.as_deref(), Some("+33 6 •• •• •• 78"));
    assert_eq!(contact.email.as_deref(), Some("j•••@e•••.fr"));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_online_is_published_periodically_when_it_changes() {
    let hub = TestHub::start_with(|c| {
        c.limits.viewers_online_interval = std::time::Duration::from_millis(50);
    })
    .await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let _stays = hub.viewer("A").await;
    let leaves = hub.viewer("B").await;
    ines.wait_event(|e| matches!(e, Event::ViewersOnline { count: 2 }))
        .await;
    drop(leaves);
    ines.wait_event(|e| matches!(e, Event::ViewersOnline { count: 1 }))
        .await;
    // One event per change, not one per tick.
    let counts: Vec<u64> = ines
        .events
        .iter()
        .filter_map(|e| match e.event {
            Event::ViewersOnline { count } => Some(count),
            _ => None,
        })
        .collect();
    assert!(counts.windows(2).all(|w| w[0] != w[1]), "{counts:?}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_client_is_closed_with_4009() {
    let hub = TestHub::start_with(|c| {
        c.limits.idle_timeout = std::time::Duration::from_millis(300);
        c.limits.ping_interval = std::time::Duration::from_secs(3600);
    })
    .await;
    let julie = hub.viewer("Julie").await;
    let closed = julie.closed().await;
    assert_eq!(closed.code, Some(close_code(CloseCode::Idle)));
    assert_eq!(closed.error_code(), Some(ErrorCode::IdleTimeout));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_limit_answers_full() {
    let hub = TestHub::start_with(|c| c.limits.max_connections = 2).await;
    let _a = hub.viewer("A").await;
    let _b = hub.viewer("B").await;
    let refused = hub
        .try_join(hub.viewer_hello("C"))
        .await
        .err()
        .expect("full");
    assert_eq!(refused.error_code(), Some(ErrorCode::Full));
    assert_eq!(refused.code, Some(close_code(CloseCode::Full)));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_says_goodbye_and_closes_1001() {
    let hub = TestHub::start().await;
    let julie = hub.viewer("Julie").await;
    let ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let (julie_closed, ines_closed, _) = tokio::join!(julie.closed(), ines.closed(), hub.stop());
    for closed in [julie_closed, ines_closed] {
        assert_eq!(closed.code, Some(close_code(CloseCode::GoingAway)));
        assert_eq!(closed.error_code(), Some(ErrorCode::ShuttingDown));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_metrics_are_served_on_the_hub_port() {
    let hub = TestHub::start().await;
    let (status, body) = hub.http_get("/healthz").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    let mut julie = hub.viewer("Julie").await;
    let _ines = hub.staff(StaffRole::Moderator, "Inès").await;
    julie.say("hello").await;
    let (status, body) = hub.http_get("/metrics").await;
    assert_eq!(status, 200);
    for needle in [
        "regie_connections{role=\"viewer\"} 1",
        "regie_connections{role=\"moderator\"} 1",
        "regie_messages_in_total 1",
        "regie_slow_disconnects_total 0",
        "regie_store_write_seconds_count",
    ] {
        assert!(body.contains(needle), "{needle} missing in\n{body}");
    }
    assert!(!body.contains("hello"), "metrics never hold user text");
    assert!(hub.metric("regie_messages_out_total").await >= 3.0);
    hub.stop().await;
}
