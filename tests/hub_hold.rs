//! The hold queue against a real hub (issue 10): a held message reaches
//! viewers only after approval, with when it was held; a denied one is
//! erased from the store's bytes and no viewer ever saw it; one nobody
//! handles is denied by the hub after the hold timeout, on the hub's clock;
//! and its author, and nobody else among viewers, is told at each step.

mod support;

use std::time::Duration;

use regie::hub::HubConfig;
use regie::protocol::{
    Command, ErrorCode, Event, EventFrame, HoldOutcome, MessageId, StaffRole, Visibility,
};
use support::client::Client;
use support::hub::{ManualClock, TestHub};
use support::store::on_disk;

const MIN: i64 = 60_000;

fn on(clock: &ManualClock, hold_timeout: Duration) -> impl FnOnce(&mut HubConfig) {
    let clock = clock.clock();
    move |config| {
        config.clock = clock;
        config.hold_timeout = hold_timeout;
    }
}

fn say(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: false,
        announcement: false,
    }
}

/// The held message's id, as staff receive it at `seq`.
async fn held_id(staff: &mut Client, seq: u64) -> MessageId {
    let Event::Message { message } = staff.event_at(seq).await.event else {
        panic!("expected the held message at {seq}");
    };
    assert!(
        matches!(message.visibility, Visibility::Held { .. }),
        "{message:?}"
    );
    message.id
}

/// The hold notices `client` received, in order.
fn notices(client: &Client) -> Vec<(MessageId, HoldOutcome)> {
    client
        .events
        .iter()
        .filter_map(|f| match &f.event {
            Event::HoldNotice {
                message_id,
                outcome,
                ..
            } => Some((*message_id, *outcome)),
            _ => None,
        })
        .collect()
}

async fn notice(client: &mut Client, id: MessageId, outcome: HoldOutcome) -> EventFrame {
    client
        .wait_event(|e| {
            matches!(e, Event::HoldNotice { message_id, outcome: o, .. }
                if *message_id == id && *o == outcome)
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_message_reaches_viewers_only_after_approval_with_its_held_time() {
    let clock = ManualClock::new();
    let hub = TestHub::start_with(on(&clock, Duration::from_secs(600))).await;
    let mut julie = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let posted_at = clock.now();

    let seq = julie
        .ack(say("quel arnaqueur ce vendeur"))
        .await
        .expect("a held message is an event for staff");
    let id = held_id(&mut ines, seq).await;
    let waiting = notice(&mut julie, id, HoldOutcome::Waiting).await;
    assert!(
        !serde_json::to_string(&waiting)
            .unwrap()
            .contains("arnaqueur"),
        "the notice never carries the text"
    );

    // Two minutes later a moderator approves it.
    clock.set(posted_at + 2 * MIN);
    let released = ines
        .ack(Command::Release { message_id: id })
        .await
        .expect("a release is an event");
    let frame = marc.event_at(released).await;
    let Event::Released {
        message, held_at, ..
    } = &frame.event
    else {
        panic!("expected the release, got {frame:?}");
    };
    assert_eq!(message.text, "quel arnaqueur ce vendeur");
    assert_eq!(message.visibility, Visibility::Visible);
    assert_eq!(*held_at, Some(posted_at), "the line says when it was held");
    assert_eq!(frame.at - posted_at, 2 * MIN, "held for two minutes");
    notice(&mut julie, id, HoldOutcome::Approved).await;

    // Before the release Marc saw nothing of it: not the line, not a notice.
    let marker = julie.say("merci").await;
    marc.event_at(marker).await;
    let before: Vec<&EventFrame> = marc.events.iter().filter(|f| f.seq < released).collect();
    assert!(
        before
            .iter()
            .all(|f| !serde_json::to_string(f).unwrap().contains("arnaqueur")),
        "{before:?}"
    );
    assert_eq!(notices(&marc), [], "another viewer is told nothing");
    assert_eq!(
        notices(&julie),
        [(id, HoldOutcome::Waiting), (id, HoldOutcome::Approved)]
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_message_is_gone_from_the_store_and_no_viewer_saw_it() {
    let clock = ManualClock::new();
    let hub = TestHub::start_with(on(&clock, Duration::from_secs(600))).await;
    let dir = hub.data_dir.clone();
    let mut julie = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let secret = "arnaqueur zq91-rue-des-lilas";

    let seq = julie.ack(say(secret)).await.expect("an event for staff");
    let id = held_id(&mut ines, seq).await;
    assert!(
        on_disk(&dir, "zq91-rue-des-lilas"),
        "the test proves nothing: the held text is not on disk before the denial"
    );

    // Only a moderator (or an admin) denies, and only a held message.
    let forbidden = marc
        .refused(Command::Deny {
            message_id: id,
            reason: None,
        })
        .await;
    assert_eq!(forbidden.code, ErrorCode::Forbidden);
    let clean = julie.say("pardon").await;
    let Event::Message { message: shown } = ines.event_at(clean).await.event else {
        panic!("expected the clean line");
    };
    let not_held = ines
        .refused(Command::Deny {
            message_id: shown.id,
            reason: None,
        })
        .await;
    assert_eq!(not_held.code, ErrorCode::Invalid, "{not_held:?}");

    let denied = ines
        .ack(Command::Deny {
            message_id: id,
            reason: Some("insulte".into()),
        })
        .await
        .expect("a denial is an event");
    let Event::Redacted { tombstone } = ines.event_at(denied).await.event else {
        panic!("expected the tombstone");
    };
    assert_eq!(tombstone.message_id, id);
    assert_eq!(tombstone.reason, "insulte");
    notice(&mut julie, id, HoldOutcome::Denied).await;
    // Denying twice changes nothing; releasing after is refused.
    assert_eq!(
        ines.ack(Command::Deny {
            message_id: id,
            reason: None,
        })
        .await,
        None
    );
    let gone = ines.refused(Command::Release { message_id: id }).await;
    assert_eq!(gone.code, ErrorCode::NotFound);

    // The denial's turn checkpointed the store: the text is gone from
    // the database, its WAL and shared memory while the hub runs.
    let marker = julie.say("suite du live").await;
    marc.event_at(marker).await;
    assert!(
        !on_disk(&dir, "zq91-rue-des-lilas"),
        "the denied text is still in the store's files"
    );
    assert!(on_disk(&dir, "suite du live"), "the scan sees nothing");
    let seen = serde_json::to_string(&marc.events).unwrap();
    assert!(
        !seen.contains("zq91"),
        "a viewer saw the denied text: {seen}"
    );
    assert_eq!(notices(&marc), []);
    assert_eq!(
        notices(&julie),
        [(id, HoldOutcome::Waiting), (id, HoldOutcome::Denied)]
    );
    let late = hub.viewer("Léa").await;
    let snapshot = serde_json::to_string(&late.welcome.snapshot).unwrap();
    assert!(!snapshot.contains("zq91"), "{snapshot}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_message_nobody_handles_is_denied_after_the_timeout() {
    let clock = ManualClock::new();
    let hub = TestHub::start_with(on(&clock, Duration::from_secs(5 * 60))).await;
    let dir = hub.data_dir.clone();
    let mut julie = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let posted_at = clock.now();

    let seq = julie
        .ack(say("arnaqueur zq92-oublie"))
        .await
        .expect("an event for staff");
    let id = held_id(&mut ines, seq).await;
    notice(&mut julie, id, HoldOutcome::Waiting).await;

    // The hub's clock passes the timeout: its next tick denies it.
    clock.set(posted_at + 5 * MIN);
    let frame = ines
        .wait_event(|e| matches!(e, Event::Redacted { tombstone } if tombstone.message_id == id))
        .await;
    let Event::Redacted { tombstone } = &frame.event else {
        unreachable!()
    };
    assert_eq!(tombstone.by.name.as_deref(), Some("hub"));
    assert_eq!(tombstone.posted_at, posted_at);
    notice(&mut julie, id, HoldOutcome::Expired).await;
    let gone = ines.refused(Command::Release { message_id: id }).await;
    assert_eq!(gone.code, ErrorCode::NotFound, "{gone:?}");

    let marker = julie.say("encore là").await;
    marc.event_at(marker).await;
    assert!(!on_disk(&dir, "zq92-oublie"), "the expired text is stored");
    assert_eq!(notices(&marc), []);
    hub.stop().await;
}
