//! The viewer delivery policy (issue 15 §1) against the real hub: staff get
//! every event at once, viewers one `events` frame per tick, a fair sample
//! of the chat above the live's rate with the rest named as skipped, and a
//! resume after a skip with no gap and no duplicate.

mod support;

use std::collections::BTreeSet;

use regie::hub::HubConfig;
use regie::protocol::{
    Command, CommandId, DeliveryPolicy, ErrorCode, Event, EventFrame, MessageId, Seq, ServerFrame,
    StaffRole,
};
use support::client::{Client, Incoming, read_frame, text_of};
use support::hub::TestHub;

/// A policy whose tick is long enough that one command's events, or a
/// pipelined burst, fall in few ticks; a chat rate of `chat_per_sec`.
fn policy(tick_ms: u32, chat_per_sec: u32) -> impl FnOnce(&mut HubConfig) {
    move |config: &mut HubConfig| {
        config.settings.delivery = DeliveryPolicy {
            tick_ms,
            chat_per_sec,
        };
        // Senders post bursts: the rate limiter is not what is tested.
        config.settings.viewer_rate_per_sec = 1000;
        config.settings.viewer_burst = 1000;
    }
}

/// The next frame off the socket, as sent (no unpacking).
async fn raw_frame(client: &mut Client) -> ServerFrame {
    match read_frame(&mut client.ws).await {
        Incoming::Frame(f) => f,
        Incoming::Closed(code) => panic!("closed ({code:?})"),
    }
}

/// Posts `count` lines from `sender` without waiting between them, then
/// waits for every ack; returns the lines' seqs.
async fn burst(sender: &mut Client, tag: &str, count: usize) -> Vec<Seq> {
    let ids: Vec<String> = (0..count).map(|i| format!("{tag}-{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let say = Command::Say {
            text: format!("{tag} line {i}"),
            question: false,
            announcement: false,
        };
        sender.send_command_with_id(id, say).await;
    }
    let mut seqs = Vec::new();
    for id in &ids {
        match sender.answer_to(id).await {
            ServerFrame::Ack { seq: Some(seq), .. } => seqs.push(seq),
            other => panic!("expected an ack with a seq, got {other:?}"),
        }
    }
    seqs
}

/// Whether `seq` arrived as an event or inside one of the skips.
fn accounted(client: &Client, seq: Seq) -> usize {
    let received = client.events.iter().filter(|e| e.seq == seq).count();
    let skipped = client
        .skipped
        .iter()
        .filter(|s| (s.from..=s.to).contains(&seq))
        .count();
    received + skipped
}

fn chat_seqs(events: &[EventFrame], prefix: &str) -> BTreeSet<Seq> {
    events
        .iter()
        .filter(|e| text_of(&e.event).is_some_and(|t| t.starts_with(prefix)))
        .map(|e| e.seq)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticks_events_reach_a_viewer_in_one_frame_and_staff_one_frame_each() {
    let hub = TestHub::start_with(policy(200, 0)).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut viewer = hub.viewer("Julie").await;
    let seq = host.say("Code LIVE10").await;
    let Event::Message { message } = viewer.event_at(seq).await.event else {
        panic!("a message");
    };
    host.ack(Command::Pin {
        message_id: message.id,
    })
    .await;
    moderator
        .wait_event(|e| matches!(e, Event::Pinned { .. }))
        .await;
    let Event::Pinned { .. } = viewer
        .wait_event(|e| matches!(e, Event::Pinned { .. }))
        .await
        .event
    else {
        unreachable!()
    };

    // Hiding a pinned line commits two events in one batch: `hidden`, then
    // `unpinned`. The viewer gets both in one frame…
    moderator
        .ack(Command::Hide {
            message_id: message.id,
            reason: String::new(),
        })
        .await;
    let ServerFrame::Events { events, skipped } = raw_frame(&mut viewer).await else {
        panic!("viewers get events frames");
    };
    let names: Vec<&str> = events.iter().map(|e| e.event.name()).collect();
    assert_eq!(names, ["hidden", "unpinned"]);
    assert!(skipped.is_empty());
    assert_eq!(events[1].seq, events[0].seq + 1);
    // …staff get one `event` frame each, at once.
    let mut staff_names = Vec::new();
    while staff_names.len() < 2 {
        match raw_frame(&mut host).await {
            ServerFrame::Event(e) => staff_names.push(e.event.name()),
            ServerFrame::Events { .. } => panic!("staff never get events frames"),
            _ => {}
        }
    }
    assert_eq!(staff_names, ["hidden", "unpinned"]);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn above_the_rate_a_viewer_gets_a_sample_but_always_its_own_line_pins_answers_and_tombstones()
{
    // Twenty lines a second, two a 100 ms tick: a burst of 80 lines over a
    // few ticks is mostly sampled out, and every tick it spans keeps two.
    // The reader's own line competes for a tick's budget like any sender's
    // (it always reaches the reader, but the others see it only if it is
    // drawn), so with one line a tick a fast burst could keep only hers.
    let hub = TestHub::start_with(policy(100, 20)).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut support_staff = hub.staff(StaffRole::Support, "Sam").await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut reader = hub.viewer("Julie").await;
    let mut senders = Vec::new();
    for name in ["Marc", "Léa", "Paul"] {
        senders.push(hub.viewer(name).await);
    }
    let mut sent = BTreeSet::new();
    for (i, sender) in senders.iter_mut().enumerate() {
        sent.extend(burst(sender, &format!("flood{i}"), 20).await);
    }
    // Julie's own line in the flood, and a question of hers.
    let own = reader.say("flood-julie ma ligne").await;
    let question = reader
        .ack(Command::Say {
            text: "Elle existe en 38 ?".into(),
            question: true,
            announcement: false,
        })
        .await
        .expect("a question has a seq");
    sent.extend(burst(&mut senders[0], "flood-late", 20).await);
    let end = host.say("fin du flood").await;
    reader.event_at(end).await;

    // Fewer chat lines than were sent…
    let got = chat_seqs(&reader.events, "flood");
    let theirs: BTreeSet<Seq> = got.intersection(&sent).copied().collect();
    assert!(
        theirs.len() < sent.len() / 2,
        "{} of {} lines reached the viewer",
        theirs.len(),
        sent.len()
    );
    // …but its own line and its question, and every line it was not sent
    // is named as skipped: each seq once, received or skipped.
    assert!(got.contains(&own), "the viewer's own line");
    assert!(reader.events.iter().any(|e| e.seq == question));
    for seq in &sent {
        assert_eq!(accounted(&reader, *seq), 1, "seq {seq}");
    }
    assert!(!reader.skipped.is_empty());

    // A pin and a tombstone of a line it saw, and an answer to it.
    let seen = *theirs.iter().next().expect("the sample keeps some lines");
    let seen_id = message_id(&reader, seen);
    host.ack(Command::Pin {
        message_id: seen_id,
    })
    .await;
    host.ack(Command::Answer {
        message_id: message_id(&reader, question),
        text: "Oui, du 36 au 44".into(),
        also: Vec::new(),
    })
    .await;
    support_staff
        .ack(Command::Redact {
            message_id: seen_id,
            reason: "demande".into(),
        })
        .await;
    let tombstone = reader
        .wait_event(
            |e| matches!(e, Event::Redacted { tombstone } if tombstone.message_id == seen_id),
        )
        .await;
    assert!(reader.events.iter().any(|e| matches!(&e.event,
        Event::Pinned { message_id, .. } if *message_id == seen_id)));
    assert!(reader.events.iter().any(|e| matches!(&e.event,
        Event::Message { message } if message.reply_to.as_ref().is_some_and(|r| r.message_id == message_id(&reader, question)))));
    assert!(tombstone.seq > end);

    // Staff got every line.
    moderator.event_at(end).await;
    assert!(
        sent.iter()
            .all(|s| moderator.events.iter().any(|e| e.seq == *s))
    );
    // The live's metrics count what sampling left out.
    assert!(hub.metric("regie_viewer_lines_sampled_out_total").await >= (sent.len() / 2) as f64);
    hub.stop().await;
}

/// The id of the message at `seq` among `client`'s events.
fn message_id(client: &Client, seq: Seq) -> MessageId {
    client
        .events
        .iter()
        .find_map(|e| match &e.event {
            Event::Message { message } if e.seq == seq => Some(message.id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no message at {seq}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_after_skips_has_no_gap_and_no_duplicate() {
    let hub = TestHub::start_with(policy(100, 1)).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut julie = hub.viewer_with_key("Julie", "julie-device").await;
    let mut marc = hub.viewer("Marc").await;
    let mut lea = hub.viewer("Léa").await;
    let start = julie.welcome.seq;
    let mut sent = burst(&mut marc, "a", 15).await;
    sent.extend(burst(&mut lea, "b", 15).await);
    let checkpoint = host.say("marque").await;
    julie.event_at(checkpoint).await;
    assert!(!julie.skipped.is_empty(), "the burst was sampled");
    let at = julie.position();
    assert!(at.seq >= checkpoint);
    let before = julie.events.clone();
    let skipped_before = julie.skipped.clone();
    drop(julie.drop_connection());

    // While Julie is away, more lines; she resumes from her position.
    let away = burst(&mut marc, "c", 10).await;
    let end = host.say("fin").await;
    let mut hello = support::client::keyed_viewer_hello(&hub.live, "Julie", "julie-device");
    hello.resume = Some(at.clone());
    let mut back = hub.join(hello).await;
    assert!(back.welcome.resumed, "reload: {:?}", back.reload);
    back.event_at(end).await;

    // Every seq from her first welcome to the end: once, received or
    // skipped (nothing in this live is staff only).
    let mut all: Vec<Seq> = before.iter().map(|e| e.seq).collect();
    all.extend(back.events.iter().map(|e| e.seq));
    assert!(all.windows(2).all(|w| w[0] < w[1]), "no duplicate: {all:?}");
    for seq in (start + 1)..=end {
        let received = all.iter().filter(|s| **s == seq).count();
        let skipped = skipped_before
            .iter()
            .chain(&back.skipped)
            .filter(|s| (s.from..=s.to).contains(&seq))
            .count();
        assert_eq!(received + skipped, 1, "seq {seq}: no gap, no duplicate");
    }
    // The replay is whole: every line posted while she was away.
    assert!(away.iter().all(|s| back.events.iter().any(|e| e.seq == *s)));
    // No sampled-out line came back with the replay.
    assert!(back.events.iter().all(|e| e.seq > at.seq));
    assert!(sent.iter().all(|s| *s <= at.seq));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_change_the_lives_delivery_and_it_outlives_a_restart() {
    let hub = TestHub::start_with(policy(100, 1)).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut reader = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let sampled = burst(&mut marc, "x", 20).await;
    let checkpoint = host.say("avant").await;
    reader.event_at(checkpoint).await;
    let got = sampled
        .iter()
        .filter(|s| reader.events.iter().any(|e| e.seq == **s))
        .count();
    assert!(got < sampled.len(), "sampled at one line a second");

    // A viewer may not change it; staff may not set a tick out of bounds.
    let refused = marc
        .refused(Command::Delivery {
            tick_ms: 100,
            chat_per_sec: 0,
        })
        .await;
    assert_eq!(refused.code, ErrorCode::Forbidden);
    let refused = host
        .refused(Command::Delivery {
            tick_ms: 5,
            chat_per_sec: 0,
        })
        .await;
    assert_eq!(refused.code, ErrorCode::Invalid);

    // Every line, from now on.
    let changed = host
        .ack(Command::Delivery {
            tick_ms: 50,
            chat_per_sec: 0,
        })
        .await
        .expect("an event");
    let Event::DeliveryChanged { policy, .. } = host.event_at(changed).await.event else {
        panic!("delivery_changed for staff");
    };
    assert_eq!(policy.chat_per_sec, 0);
    let all = burst(&mut marc, "y", 20).await;
    let checkpoint = host.say("après").await;
    reader.event_at(checkpoint).await;
    assert!(
        all.iter()
            .all(|s| reader.events.iter().any(|e| e.seq == *s))
    );
    assert!(
        reader.events.iter().all(|e| e.seq != changed),
        "delivery_changed is staff only"
    );
    // The same again is a no-op ack.
    assert_eq!(
        host.ack(Command::Delivery {
            tick_ms: 50,
            chat_per_sec: 0
        })
        .await,
        None
    );

    // A new viewer's settings, and a restart, keep it.
    let late = hub.viewer("Paul").await;
    let settings = &late.welcome.snapshot.as_ref().expect("a snapshot").settings;
    assert_eq!(settings.delivery, policy);
    let dir = hub.stop().await.expect("the hub's temp dir");
    let hub = TestHub::start_in(dir.path(), |c| {
        c.settings.delivery = DeliveryPolicy::default();
    })
    .await;
    let again = hub.viewer("Paul").await;
    let settings = &again
        .welcome
        .snapshot
        .as_ref()
        .expect("a snapshot")
        .settings;
    assert_eq!(settings.delivery, policy, "kept across a restart");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewers_ack_follows_its_own_line() {
    let hub = TestHub::start_with(policy(200, 1)).await;
    let mut julie = hub.viewer("Julie").await;
    let id = CommandId("j-1".into());
    julie
        .send_command_with_id(
            &id.0,
            Command::Say {
                text: "coucou".into(),
                question: false,
                announcement: false,
            },
        )
        .await;
    // Raw frames: the tick's events first, then the ack that names them.
    let mut saw_line = false;
    loop {
        match raw_frame(&mut julie).await {
            ServerFrame::Events { events, .. } => {
                saw_line |= events.iter().any(|e| text_of(&e.event) == Some("coucou"));
            }
            ServerFrame::Ack { id: acked, seq } if acked == id => {
                assert!(saw_line, "the line arrived before its ack");
                assert!(seq.is_some());
                break;
            }
            _ => {}
        }
    }
    hub.stop().await;
}
