//! Hostile input through a live connection: whatever a client sends, the
//! hub answers each frame exactly once (an ack, an error, a card), never
//! crashes, never closes a connection for one bad frame, and a redacted or
//! audited action keeps no content in the audit log.

mod support;

use futures_util::SinkExt;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use regie::protocol::{Command, ServerFrame, StaffRole};
use regie::store::{SqliteStore, Store};
use support::client::send_text;
use support::hub::TestHub;

/// Strings that look like frames, half-broken frames, and plain noise.
fn hostile() -> impl Strategy<Value = String> {
    proptest::prop_oneof![
        proptest::arbitrary::any::<String>(),
        "[\\x00-\\x7f]{0,200}",
        r#"\{"type":"command","id":"[a-z0-9\-]{0,80}","command":\{"type":"(say|pin|ban|redact|answer|consent|dance|hello)"(,"[a-z_]{1,12}":("[^"\\]{0,40}"|-?[0-9]{1,25}|true|null|\[\]|\{\}))\{0,3\}\}\}"#,
        r#"\{"type":"(hello|command|event|welcome|ack)","version":[0-9]{1,6}(,"[a-z]{1,8}":[0-9]{1,3})\{0,2\}\}"#,
        r#"\{"type":"command","id":"x","command":\{"type":"say","text":"[\x00-\x1f\u{200b}-\u{202e}\u{1b}a-z ]{0,60}"\}\}"#,
    ]
}

/// The command id a frame carries, if it is a JSON object with one.
fn sent_id(frame: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(frame).ok()?;
    value.get("id")?.as_str().map(String::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_frame_gets_exactly_one_answer_and_the_hub_stays_up() {
    let hub = TestHub::start_with(|c| {
        c.limits.max_bad_frames = 10_000;
        c.settings.viewer_burst = 10_000;
        c.settings.viewer_rate_per_sec = 10_000;
    })
    .await;
    let mut viewer = hub.viewer("Julie").await;
    let mut staff = hub.staff(StaffRole::Admin, "Ada").await;
    let mut runner = TestRunner::deterministic();
    let strategy = hostile();
    for i in 0..300 {
        let frame = strategy.new_tree(&mut runner).unwrap().current();
        let client = if i % 2 == 0 { &mut viewer } else { &mut staff };
        send_text(&mut client.ws, &frame).await;
        // A probe after it, answered by its own id: everything answered
        // before the probe's answer answers the hostile frame. The probe is
        // a line of chat, so its ack takes the slowest path a hostile frame
        // can take (the session, then the store's commit): a probe refused
        // by the connection itself could overtake the answer to a hostile
        // command still waiting for its commit.
        let probe = format!("probe-{i}");
        send_text(
            &mut client.ws,
            &format!(r#"{{"type":"command","id":"{probe}","command":{{"type":"say","text":"probe {i}"}}}}"#),
        )
        .await;
        let mut answers = Vec::new();
        loop {
            match client.next_frame().await {
                ServerFrame::Event(e) => client.events.push(e),
                ServerFrame::Ack { id, .. } if id.0 == probe => break,
                answer @ (ServerFrame::Ack { .. }
                | ServerFrame::Error(_)
                | ServerFrame::ViewerCard { .. }) => answers.push(answer),
                other => panic!("unexpected answer to {frame:?}: {other:?}"),
            }
        }
        assert_eq!(answers.len(), 1, "answers to {frame:?}: {answers:?}");
        // An answer that names a command names the frame's own.
        let named = match &answers[0] {
            ServerFrame::Ack { id, .. } | ServerFrame::ViewerCard { id, .. } => Some(&id.0),
            ServerFrame::Error(e) => e.id.as_ref().map(|id| &id.0),
            _ => None,
        };
        if let Some(named) = named {
            assert_eq!(
                Some(named.as_str()),
                sent_id(&frame).as_deref(),
                "the answer to {frame:?} names another command"
            );
        }
    }
    // Binary frames too.
    viewer
        .ws
        .send(tokio_tungstenite::tungstenite::Message::binary(vec![
            0xff;
            100
        ]))
        .await
        .unwrap();
    // (The staff's probe lines reach the viewer as events meanwhile.)
    let answer = loop {
        match viewer.next_frame().await {
            ServerFrame::Event(e) => viewer.events.push(e),
            other => break other,
        }
    };
    assert!(matches!(answer, ServerFrame::Error(_)), "{answer:?}");
    // Both connections are still joined and working, and so is the hub.
    viewer.say("encore là").await;
    staff.say("moi aussi").await;
    hub.viewer("Léa").await;
    for e in viewer.events.iter().chain(staff.events.iter()) {
        if let Some(text) = support::client::text_of(&e.event) {
            assert!(!text.chars().any(char::is_control), "{text:?}");
        }
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_actions_are_audited_without_content() {
    let hub = TestHub::start().await;
    let marker = "audit-content-marker-5150";
    let mut julie = hub.viewer("Julie").await;
    let mut sophie = hub.staff(StaffRole::Host, "Sophie").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let seq = julie.say(&format!("question {marker} ?")).await;
    let id = match sophie.event_at(seq).await.event {
        regie::protocol::Event::Message { message } => message.id,
        other => panic!("{other:?}"),
    };
    let viewer_id = julie.welcome.you.viewer_id.clone().unwrap();
    sophie.ack(Command::Pin { message_id: id }).await;
    ines.ack(Command::Timeout {
        viewer_id: viewer_id.clone(),
        seconds: 60,
        reason: "calme-toi".into(),
    })
    .await;
    sam.ack(Command::Redact {
        message_id: id,
        reason: "demande RGPD".into(),
    })
    .await;
    sam.command(Command::ViewerCard {
        viewer_id: viewer_id.clone(),
    })
    .await;
    // A moderator's card has no contact data: not an audited read.
    ines.command(Command::ViewerCard {
        viewer_id: viewer_id.clone(),
    })
    .await;
    drop((julie, sophie, ines, sam));
    let dir = hub.stop().await.unwrap();

    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.open_live(support::hub::LIVE).unwrap();
    store.verify_audit_chain(support::hub::LIVE).unwrap();
    let log = store.audit_log(support::hub::LIVE).unwrap();
    let actions: Vec<(String, String, String, String)> = log
        .iter()
        .map(|r| {
            (
                r.entry.actor_name.clone(),
                r.entry.action.clone(),
                r.entry.target.clone(),
                r.entry.reason.clone(),
            )
        })
        .collect();
    let expect = |who: &str, what: &str, target: &str, why: &str| {
        (
            who.to_string(),
            what.to_string(),
            target.to_string(),
            why.to_string(),
        )
    };
    assert_eq!(
        actions,
        vec![
            expect("Sophie", "pin", &id.to_string(), ""),
            expect("Inès", "timeout", &viewer_id.0, "calme-toi"),
            expect("Sam", "redact", &id.to_string(), "demande RGPD"),
            expect("Sam", "viewer_card", &viewer_id.0, "contact data shown"),
        ]
    );
    let all = format!("{log:?}");
    assert!(!all.contains(marker));
}
