//! Resume at its edges (issue 16, item 1): the replay/live boundary while
//! others keep posting, a resume point ahead of the head, and a staff
//! resume over held messages. Every comparison is of whole event frames
//! (content, not just seqs) against a client that never left.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use regie::protocol::{
    Auth, ChatEntry, Event, EventFrame, HoldReason, Resume, StaffRole, Visibility,
};
use support::client::{Client, text_of};
use support::hub::TestHub;

/// No periodic `viewers_online` traffic: every event is one the test made.
fn quiet(config: &mut regie::hub::HubConfig) {
    config.limits.viewers_online_interval = Duration::from_secs(3600);
}

fn with_key(
    hub: &TestHub,
    first_name: &str,
    key: &str,
    resume: Option<Resume>,
) -> regie::protocol::Hello {
    let mut hello = hub.viewer_hello(first_name);
    if let Auth::Viewer { pass: k, .. } = &mut hello.auth {
        *k = Some(support::client::test_key(key));
    }
    hello.resume = resume;
    hello
}

/// The frames of `events` with a seq in `(after, upto]`.
fn window(events: &[EventFrame], after: u64, upto: u64) -> Vec<EventFrame> {
    events
        .iter()
        .filter(|e| e.seq > after && e.seq <= upto)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_while_staff_keep_posting_has_no_gap_and_no_duplicate_at_the_boundary() {
    let hub = TestHub::start_with(quiet).await;
    let mut witness = hub.viewer("Witness").await.spawn_reader();
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer_with_key("Julie", "julie-device").await;
    let mut last = 0;
    for i in 0..3 {
        last = ines.say(&format!("before {i}")).await;
    }
    julie.event_at(last).await;
    let from = julie.position();
    let before = julie.drop_connection();

    // Ada posts without pause until told to stop.
    let mut ada = hub.staff(StaffRole::Admin, "Ada").await;
    let stop = Arc::new(AtomicBool::new(false));
    let poster = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut i = 0u32;
            let mut last = 0;
            while !stop.load(Ordering::SeqCst) {
                last = ada.say(&format!("flow {i}")).await;
                i += 1;
            }
            last
        }
    });
    // Julie comes back while Ada is posting: some of the flow is replayed,
    // the rest arrives live.
    witness.until_seq(from.seq + 20).await;
    let mut back = hub
        .join(with_key(&hub, "Julie", "julie-device", Some(from.clone())))
        .await;
    assert!(back.welcome.resumed, "reload: {:?}", back.reload);
    let boundary = back.welcome.seq;
    witness.until_seq(boundary + 20).await;
    stop.store(true, Ordering::SeqCst);
    let last = poster.await.expect("the poster ran");
    back.event_at(last).await;
    witness.until_seq(last).await;

    let mut julie_all = before;
    julie_all.extend(back.events.iter().cloned());
    let julie_seqs: Vec<u64> = julie_all.iter().map(|e| e.seq).collect();
    assert!(
        julie_seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "every seq once, in order: {julie_seqs:?}"
    );
    assert_eq!(
        window(&julie_all, witness.welcome.seq, last),
        window(&witness.events, witness.welcome.seq, last),
        "the resumed viewer got exactly the frames a connected viewer got"
    );
    // The boundary was crossed by the flow: part replayed, part live, and
    // the event right after the head of the welcome is there once.
    let flow = |e: &&EventFrame| text_of(&e.event).is_some_and(|t| t.starts_with("flow "));
    assert!(
        back.events
            .iter()
            .filter(|e| e.seq <= boundary)
            .any(|e| flow(&e))
    );
    assert!(
        back.events
            .iter()
            .filter(|e| e.seq > boundary)
            .any(|e| flow(&e))
    );
    assert_eq!(
        back.events.iter().filter(|e| e.seq == boundary + 1).count(),
        1
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_point_ahead_of_the_head_reloads_the_current_snapshot() {
    let hub = TestHub::start_with(quiet).await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut head = 0;
    for i in 0..3 {
        head = ines.say(&format!("m{i}")).await;
    }
    let epoch = ines.welcome.epoch.clone();
    let back = hub
        .join(with_key(
            &hub,
            "Julie",
            "julie-device",
            Some(Resume {
                epoch,
                seq: head + 5,
            }),
        ))
        .await;
    let reason = back.reload.as_deref().expect("a reload");
    assert!(reason.contains("ahead"), "{reason}");
    assert!(!back.welcome.resumed);
    assert_eq!(back.welcome.seq, head);
    let snapshot = back.welcome.snapshot.as_ref().expect("a fresh snapshot");
    let texts: Vec<&str> = snapshot
        .recent
        .iter()
        .filter_map(|e| match e {
            ChatEntry::Message(m) => Some(m.text.as_str()),
            ChatEntry::Redacted(_) => None,
        })
        .collect();
    assert_eq!(texts, ["m0", "m1", "m2"]);
    assert!(back.events.is_empty(), "nothing replayed after a reload");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_resume_replays_held_messages_as_staff_saw_them_and_a_viewer_resume_does_not() {
    let hub = TestHub::start_with(quiet).await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await.spawn_reader();
    let sam = hub.staff(StaffRole::Support, "Sam").await;
    let julie = hub.viewer_with_key("Julie", "julie-device").await;
    let sam_from = sam.position();
    let julie_from = julie.position();
    drop(sam.drop_connection());
    drop(julie.drop_connection());

    let mut marc = hub.viewer("Marc").await;
    let held_phone = marc.say("appelez-moi au 06 12 34 56 78").await;
    let visible = marc.say("elle existe en 38 ?").await;
    let held_mail = marc.say("écrivez à marc.d@example.fr").await;
    ines.until_seq(held_mail).await;

    let mut token_hello = hub.staff_hello(StaffRole::Support, "Sam");
    token_hello.resume = Some(sam_from.clone());
    let mut sam = hub.join(token_hello).await;
    assert!(sam.welcome.resumed, "reload: {:?}", sam.reload);
    sam.event_at(held_mail).await;
    assert_eq!(
        window(&sam.events, sam_from.seq, held_mail),
        window(&ines.events, sam_from.seq, held_mail),
        "the resumed staff member got the frames a connected one got"
    );
    for seq in [held_phone, held_mail] {
        let frame = sam.events.iter().find(|e| e.seq == seq).expect("replayed");
        let Event::Message { message } = &frame.event else {
            panic!("expected a message at {seq}, got {frame:?}");
        };
        assert_eq!(
            message.visibility,
            Visibility::Held {
                reason: HoldReason::PersonalData,
                rule_id: None,
            }
        );
        assert!(!message.text.contains("56 78") && !message.text.contains("example.fr"));
    }

    let mut julie: Client = hub
        .join(with_key(&hub, "Julie", "julie-device", Some(julie_from)))
        .await;
    assert!(julie.welcome.resumed);
    julie.event_at(visible).await;
    let marker = hub
        .staff(StaffRole::Moderator, "Zoé")
        .await
        .say("fin")
        .await;
    julie.event_at(marker).await;
    let seen: Vec<u64> = julie.events.iter().map(|e| e.seq).collect();
    assert!(seen.contains(&visible), "{seen:?}");
    assert!(
        !seen.contains(&held_phone) && !seen.contains(&held_mail),
        "{seen:?}"
    );
    hub.stop().await;
}
