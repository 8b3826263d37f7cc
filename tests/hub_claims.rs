//! Claims, viewer flags and staff announcements against a real hub (issue
//! 12): a claim shows on a second staff console and never on a viewer's,
//! ends when the question is answered or on its own after the time-out (on
//! the hub's clock), and a late console gets the claims and flags in force
//! in its snapshot; an announcement reaches viewers marked as one, which a
//! viewer may not send; erasing a flagged viewer leaves no flag and no
//! note behind, in memory or on disk.

mod support;

use std::time::Duration;

use regie::hub::HubConfig;
use regie::protocol::{
    ClaimEndReason, Command, ErrorCode, Event, FlagColour, MessageId, StaffRole, ViewerId,
};
use support::client::Client;
use support::hub::{ManualClock, TestHub};
use support::store::on_disk;

const CLAIM_TIMEOUT: Duration = Duration::from_secs(120);

fn on(clock: &ManualClock) -> impl FnOnce(&mut HubConfig) {
    let clock = clock.clock();
    move |config| {
        config.clock = clock;
        config.claim_timeout = CLAIM_TIMEOUT;
    }
}

fn ask(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: true,
        announcement: false,
    }
}

/// Asks a question as `viewer`; its id, as `staff` receives it.
async fn question(viewer: &mut Client, staff: &mut Client, text: &str) -> MessageId {
    let seq = viewer.ack(ask(text)).await.expect("a question is an event");
    let Event::Message { message } = staff.event_at(seq).await.event else {
        panic!("expected the question at {seq}");
    };
    message.id
}

fn viewer_id(client: &Client) -> ViewerId {
    client.welcome.you.viewer_id.clone().expect("a viewer id")
}

/// Whether any event a viewer received is about claims or flags.
fn saw_staff_only(client: &Client) -> bool {
    client.events.iter().any(|f| {
        matches!(
            f.event,
            Event::Claimed { .. }
                | Event::ClaimEnded { .. }
                | Event::ViewerFlagged { .. }
                | Event::ViewerUnflagged { .. }
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_shows_on_a_second_console_and_ends_with_the_answer() {
    let clock = ManualClock::new();
    let hub = TestHub::start_with(on(&clock)).await;
    let mut julie = hub.viewer("Julie").await;
    let mut claire = hub.staff(StaffRole::Host, "Claire").await;
    let mut marc = hub.staff(StaffRole::Host, "Marc").await;
    let id = question(&mut julie, &mut claire, "Elle existe en 38 ?").await;

    let seq = claire
        .ack(Command::Claim { message_id: id })
        .await
        .expect("a claim is an event");
    let frame = marc.event_at(seq).await;
    let Event::Claimed {
        message_id,
        by,
        until,
    } = &frame.event
    else {
        panic!("expected the claim, got {frame:?}");
    };
    assert_eq!(*message_id, id);
    assert_eq!(by.name.as_deref(), Some("Claire"));
    assert_eq!(*until, frame.at + 120_000, "the hub's claim time-out");
    // Marc may not drop Claire's claim, only take it over.
    let refused = marc.refused(Command::Unclaim { message_id: id }).await;
    assert_eq!(refused.code, ErrorCode::Invalid, "{refused:?}");

    let answered = claire
        .ack(Command::Answer {
            message_id: id,
            text: "Oui, du 36 au 44 !".into(),
            also: Vec::new(),
        })
        .await
        .expect("an answer is an event");
    let ended = marc
        .wait_event(|e| matches!(e, Event::ClaimEnded { message_id, .. } if *message_id == id))
        .await;
    assert!(ended.seq > answered, "the end follows the answer");
    assert!(
        matches!(&ended.event, Event::ClaimEnded { reason: ClaimEndReason::Answered, by: Some(by), .. }
            if by.name.as_deref() == Some("Claire")),
        "{ended:?}"
    );

    // Julie got the answer, and nothing of the claim.
    let marker = julie.say("merci !").await;
    julie.event_at(marker).await;
    assert!(julie.events.iter().any(|f| f.seq == answered));
    assert!(!saw_staff_only(&julie), "{:?}", julie.events);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_nobody_acts_on_expires_on_the_hubs_clock() {
    let clock = ManualClock::new();
    let hub = TestHub::start_with(on(&clock)).await;
    let mut julie = hub.viewer("Julie").await;
    let mut claire = hub.staff(StaffRole::Host, "Claire").await;
    let mut marc = hub.staff(StaffRole::Host, "Marc").await;
    let id = question(&mut julie, &mut claire, "C'est combien la livraison ?").await;
    let claimed_at = clock.now();
    let seq = claire
        .ack(Command::Claim { message_id: id })
        .await
        .expect("a claim is an event");
    marc.event_at(seq).await;

    // The hub's clock passes the time-out: its next tick ends the claim.
    clock.set(claimed_at + 120_000);
    let ended = marc
        .wait_event(|e| matches!(e, Event::ClaimEnded { message_id, .. } if *message_id == id))
        .await;
    assert!(
        matches!(
            ended.event,
            Event::ClaimEnded {
                reason: ClaimEndReason::Expired,
                by: None,
                ..
            }
        ),
        "{ended:?}"
    );
    // Gone for a late console too.
    let late = hub.staff(StaffRole::Host, "Léa").await;
    let snapshot = late.welcome.snapshot.expect("a snapshot");
    assert!(snapshot.claims.is_empty(), "{:?}", snapshot.claims);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_console_gets_the_claims_and_flags_in_force_and_a_viewer_gets_none() {
    let clock = ManualClock::new();
    let hub = TestHub::start_with(on(&clock)).await;
    let mut julie = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let mut claire = hub.staff(StaffRole::Host, "Claire").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let id = question(&mut julie, &mut claire, "Livraison en Belgique ?").await;
    claire.ack(Command::Claim { message_id: id }).await;
    let marc_id = viewer_id(&marc);
    let flagged = ines
        .ack(Command::FlagViewer {
            viewer_id: marc_id.clone(),
            colour: FlagColour::Orange,
            note: "zq-flag-note demande un code promo".into(),
            minutes: None,
        })
        .await
        .expect("a flag is an event");
    let frame = claire.event_at(flagged).await;
    let Event::ViewerFlagged { until, note, .. } = &frame.event else {
        panic!("expected the flag, got {frame:?}");
    };
    assert_eq!(*until, frame.at + 10 * 60_000, "ten minutes by default");
    assert_eq!(note, "zq-flag-note demande un code promo");

    let late = hub.staff(StaffRole::Admin, "Ada").await;
    let snapshot = late.welcome.snapshot.expect("a snapshot");
    assert_eq!(snapshot.claims.len(), 1, "{:?}", snapshot.claims);
    assert_eq!(snapshot.claims[0].message_id, id);
    assert_eq!(snapshot.claims[0].by.name.as_deref(), Some("Claire"));
    assert_eq!(snapshot.flags.len(), 1, "{:?}", snapshot.flags);
    assert_eq!(snapshot.flags[0].viewer_id, marc_id);
    assert_eq!(snapshot.flags[0].colour, FlagColour::Orange);

    // Viewers: no claim, no flag, in the stream or in a snapshot.
    let marker = julie.say("et en noir ?").await;
    marc.event_at(marker).await;
    assert!(!saw_staff_only(&marc), "{:?}", marc.events);
    let newcomer = hub.viewer("Sophie").await;
    let seen = serde_json::to_string(&newcomer.welcome).unwrap();
    assert!(
        !seen.contains("zq-flag-note") && !seen.contains("claims"),
        "{seen}"
    );

    // Lifted early: every console hears it, by whom.
    let lifted = claire
        .ack(Command::UnflagViewer { viewer_id: marc_id })
        .await
        .expect("an event");
    let frame = ines.event_at(lifted).await;
    assert!(
        matches!(&frame.event, Event::ViewerUnflagged { by: Some(by), .. } if by.name.as_deref() == Some("Claire")),
        "{frame:?}"
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcements_reach_viewers_marked_and_a_viewer_cannot_announce() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let mut sophie = hub.staff(StaffRole::Host, "Sophie").await;
    let seq = sophie
        .ack(Command::Say {
            text: "Livraison offerte ce soir !".into(),
            question: false,
            announcement: true,
        })
        .await
        .expect("an announcement is an event");
    let Event::Message { message } = julie.event_at(seq).await.event else {
        panic!("expected the announcement at {seq}");
    };
    assert!(message.announcement);
    assert_eq!(message.text, "Livraison offerte ce soir !");
    assert_eq!(message.author.display_name(), "Sophie");
    // A plain staff message is not one.
    let plain = sophie.say("Bonsoir à toutes !").await;
    let Event::Message { message: plain } = julie.event_at(plain).await.event else {
        panic!("expected the staff message");
    };
    assert!(!plain.announcement);
    // Pinned, it stays an announcement, also for a viewer who joins later.
    sophie
        .ack(Command::Pin {
            message_id: message.id,
        })
        .await;
    let late = hub.viewer("Marc").await;
    let pinned = late
        .welcome
        .snapshot
        .and_then(|s| s.pinned)
        .expect("pinned");
    assert!(pinned.announcement, "{pinned:?}");

    let refused = julie
        .refused(Command::Say {
            text: "ANNONCE : tout est gratuit".into(),
            question: false,
            announcement: true,
        })
        .await;
    assert_eq!(refused.code, ErrorCode::Forbidden, "{refused:?}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_a_flagged_viewer_drops_the_flag_and_its_note_everywhere() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut marc = hub.viewer("Marc").await;
    let marc_id = viewer_id(&marc);
    marc.say("coucou").await;
    let before_flag = ines.position();
    let flagged = ines
        .ack(Command::FlagViewer {
            viewer_id: marc_id.clone(),
            colour: FlagColour::Red,
            note: "zq-erase-note-marc".into(),
            minutes: Some(30),
        })
        .await
        .expect("a flag is an event");
    sam.event_at(flagged).await;
    let erased = sam
        .ack(Command::EraseViewer {
            viewer_id: marc_id.clone(),
            reason: "demande RGPD".into(),
        })
        .await
        .expect("an erasure is an event");
    ines.event_at(erased).await;
    // The checkpoint runs at the end of the erasure's turn: a later
    // command is decided after it.
    let mut julie = hub.viewer("Julie").await;
    julie.say("suite du live").await;

    let late = hub.staff(StaffRole::Admin, "Ada").await;
    let snapshot = late.welcome.snapshot.expect("a snapshot");
    assert!(snapshot.flags.is_empty(), "{:?}", snapshot.flags);
    let gone = ines
        .refused(Command::UnflagViewer { viewer_id: marc_id })
        .await;
    assert_eq!(gone.code, ErrorCode::NotFound, "{gone:?}");
    // A console resuming from before the flag replays its event, without
    // the note.
    let mut hello = hub.staff_hello(StaffRole::Moderator, "Inès");
    hello.resume = Some(before_flag);
    let mut resumed = hub.join(hello).await;
    assert!(resumed.welcome.resumed, "a replay, not a snapshot");
    let replayed = resumed.event_at(flagged).await;
    assert!(
        matches!(&replayed.event, Event::ViewerFlagged { note, .. } if note.is_empty()),
        "{replayed:?}"
    );
    assert!(
        !on_disk(&dir, "zq-erase-note-marc"),
        "the flag's note is still in the store's files"
    );
    hub.stop().await;
}

/// Claims and flags are the hub's memory only (docs/protocol.md, "Claims
/// and viewer flags"): a restarted hub has none, while the question and
/// the viewer are still there to claim and flag again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_hub_starts_with_no_claims_and_no_flags() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let mut claire = hub.staff(StaffRole::Host, "Claire").await;
    let id = question(&mut julie, &mut claire, "Et en 42 ?").await;
    claire.ack(Command::Claim { message_id: id }).await;
    let julie_id = viewer_id(&julie);
    claire
        .ack(Command::FlagViewer {
            viewer_id: julie_id.clone(),
            colour: FlagColour::Blue,
            note: String::new(),
            minutes: None,
        })
        .await;
    drop((julie, claire));
    let dir = hub.stop().await.expect("the hub's temp dir");

    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let mut late = hub.staff(StaffRole::Host, "Claire").await;
    let snapshot = late.welcome.snapshot.clone().expect("a snapshot");
    assert!(snapshot.claims.is_empty() && snapshot.flags.is_empty());
    assert!(snapshot.open_questions.iter().any(|q| q.id == id));
    assert!(late.ack(Command::Claim { message_id: id }).await.is_some());
    let again = late
        .ack(Command::FlagViewer {
            viewer_id: julie_id,
            colour: FlagColour::Green,
            note: String::new(),
            minutes: Some(1),
        })
        .await;
    assert!(again.is_some(), "a known viewer is flagged again");
    hub.stop().await;
}
