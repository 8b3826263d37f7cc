//! Hub rules that had no test on a real hub (gaps 6, 7 and 10 of the
//! test-trust issue): the protocol's edges after and before `hello`, the
//! instant-win rules, who sees what on a viewer card, and that staff
//! messages are not moderated.
//!
//! Every wait is on a frame or an event, bounded; game time runs on a
//! clock the test moves by hand.

mod support;

use std::time::Duration;

use regie::hub::{HubConfig, Limits};
use regie::protocol::{
    Auth, ClientFrame, CloseCode, Command, ConsentChannel, ConsentPurpose, Contact, ErrorCode,
    Event, ServerFrame, StaffRole, ViewerId, Visibility,
};
use regie::store::{AuditRecord, SqliteStore, Store};
use support::client::{self, Client, send_json, send_text};
use support::hub::{ManualClock, TestHub};

fn close_code(c: CloseCode) -> u16 {
    c.code()
}

fn viewer_id(c: &Client) -> ViewerId {
    c.welcome.you.viewer_id.clone().expect("viewers have an id")
}

/// The next frame must be an `error` without an id (a frame the hub could
/// not take as a command); returns its code.
async fn unanswerable(c: &mut Client) -> ErrorCode {
    match c.next_frame().await {
        ServerFrame::Error(e) => {
            assert_eq!(e.id, None, "{e:?}");
            e.code
        }
        other => panic!("expected an error frame, got {other:?}"),
    }
}

/// The audit log a stopped hub left in `data_dir`.
fn audit_log(data_dir: &std::path::Path) -> Vec<AuditRecord> {
    let mut store = SqliteStore::open(data_dir).expect("open the hub's store");
    store
        .open_live(support::hub::LIVE)
        .expect("open the hub's live");
    store
        .audit_log(support::hub::LIVE)
        .expect("read the audit log")
}

// ── gap 7: protocol edges ───────────────────────────────────────────────

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_hello_is_refused_and_the_connection_stays() {
    let hub = TestHub::start().await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let before = host.say("avant").await;

    // Another hello, even a valid one for another identity, changes nothing.
    let other = ClientFrame::Hello(hub.staff_hello(StaffRole::Admin, "Ada"));
    send_json(&mut host.ws, &other).await;
    match host.next_frame().await {
        ServerFrame::Error(e) => {
            assert_eq!(e.code, ErrorCode::NotJoined);
            assert_eq!(e.id, None);
            assert!(e.message.contains("already joined"), "{}", e.message);
        }
        other => panic!("expected not_joined, got {other:?}"),
    }

    // Still the same connection, as the same person, and nothing was posted.
    let seq = host.say("toujours là").await;
    assert_eq!(seq, before + 1);
    let Event::Message { message } = host.event_at(seq).await.event else {
        panic!("expected a message")
    };
    assert_eq!(message.author.display_name(), "Sophie");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_says_hello_is_closed_at_the_hello_timeout() {
    let hub = TestHub::start_with(|c| c.limits.hello_timeout = Duration::from_millis(100)).await;
    let mut ws = hub.raw().await;
    // Far less than the 10 s default: it is the configured limit that
    // closes the socket, not the default one.
    let closed = tokio::time::timeout(Duration::from_secs(5), client::read_until_close(&mut ws))
        .await
        .expect("closed well before the default 10 s");
    assert_eq!(closed.error_code(), Some(ErrorCode::BadFrame));
    assert_eq!(closed.message(), "no hello received in time");
    assert_eq!(closed.code, Some(close_code(CloseCode::ProtocolError)));
    assert!(closed.events().is_empty());
    hub.stop().await;
}

/// The value in the row of `docs/protocol.md`'s limits table that starts
/// with `| {limit} |`.
fn documented_limit(limit: &str) -> String {
    let doc = include_str!("../docs/protocol.md");
    let row = doc
        .lines()
        .find(|l| l.starts_with(&format!("| {limit} |")))
        .unwrap_or_else(|| panic!("docs/protocol.md has a `{limit}` limit row"));
    row.split('|').nth(2).expect("a value cell").trim().into()
}

#[test]
fn the_hello_timeout_is_ten_seconds_and_sixteen_bad_frames_by_default() {
    // Known answers: the README's and the protocol doc's numbers.
    let shipped = HubConfig::new("show", "/nonexistent");
    assert_eq!(shipped.limits.hello_timeout, Duration::from_secs(10));
    assert_eq!(
        Limits::default().hello_timeout,
        shipped.limits.hello_timeout
    );
    assert_eq!(documented_limit("hello"), "within 10 s of connecting");
    assert_eq!(shipped.limits.max_bad_frames, 16);
    assert_eq!(documented_limit("bad frames"), "16 in a row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_are_counted_in_a_row_and_a_good_command_starts_the_count_again() {
    let hub = TestHub::start_with(|c| c.limits.max_bad_frames = 3).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;

    // The limit, exactly: each bad frame is answered and the door stays open.
    for round in 0..3 {
        for _ in 0..3 {
            send_text(&mut host.ws, "not json").await;
            assert_eq!(unanswerable(&mut host).await, ErrorCode::BadFrame);
        }
        // A good command ends the run: the next three are a new run.
        host.say(&format!("round {round}")).await;
    }
    // A refused command is still a good frame: it ends a run too.
    for _ in 0..3 {
        send_text(&mut host.ws, "[]").await;
        assert_eq!(unanswerable(&mut host).await, ErrorCode::BadFrame);
    }
    let refused = host
        .refused(Command::Ban {
            viewer_id: ViewerId("v-0000000000000000".into()),
            reason: "x".into(),
        })
        .await;
    assert_eq!(refused.code, ErrorCode::Forbidden);
    for _ in 0..3 {
        send_text(&mut host.ws, "{}").await;
        assert_eq!(unanswerable(&mut host).await, ErrorCode::BadFrame);
    }
    host.say("still joined").await;

    // One over the limit in a row (a second hello among them counts, and
    // does not end the run) closes the connection.
    send_text(&mut host.ws, "garbage").await;
    send_text(&mut host.ws, "garbage").await;
    send_json(
        &mut host.ws,
        &ClientFrame::Hello(hub.staff_hello(StaffRole::Host, "Sophie")),
    )
    .await;
    send_text(&mut host.ws, "garbage").await;
    let closed = host.closed().await;
    let errors: Vec<ErrorCode> = closed
        .frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Error(e) => Some(e.code),
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        [
            ErrorCode::BadFrame,
            ErrorCode::BadFrame,
            ErrorCode::NotJoined
        ],
        "the first three answered, the fourth is the goodbye"
    );
    assert_eq!(closed.error_code(), Some(ErrorCode::BadFrame));
    assert_eq!(closed.message(), "4 bad frames in a row");
    assert_eq!(closed.code, Some(close_code(CloseCode::ProtocolError)));
    hub.stop().await;
}

// ── gap 6: instant-win rules ────────────────────────────────────────────

fn instant_win(entry_secs: u32) -> Command {
    Command::InstantWinOpen {
        prize: "Bon d'achat 50 €".into(),
        winners: 1,
        entry_secs,
        rules: String::new(),
    }
}

/// Opens an instant win; returns its id.
async fn open_draw(host: &mut Client) -> u64 {
    let seq = host.ack(instant_win(600)).await.expect("an event");
    let Event::InstantWinOpened { draw } = host.event_at(seq).await.event else {
        panic!("expected instant_win_opened")
    };
    draw.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_instant_win_takes_entries_at_a_time() {
    let clock = ManualClock::new();
    let time = clock.clock();
    let hub = TestHub::start_with(move |c| c.clock = time).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut admin = hub.staff(StaffRole::Admin, "Ada").await;
    let mut julie = hub.viewer("Julie").await;

    let first = open_draw(&mut host).await;
    // Not by the same host, not by an admin: the first one is still open.
    for staff in [&mut host, &mut admin] {
        let e = staff.refused(instant_win(60)).await;
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(
            e.message,
            format!("instant win {first} is still taking entries; close it first")
        );
    }
    // Entries still go to the first one.
    assert_eq!(julie.ack(Command::Enter { draw_id: first }).await, None);

    // Once it is drawn, the next one opens, and entries go to it.
    host.ack(Command::InstantWinClose { draw_id: first }).await;
    let second = open_draw(&mut admin).await;
    assert_ne!(second, first);
    let late = julie.refused(Command::Enter { draw_id: first }).await;
    assert_eq!(late.code, ErrorCode::Invalid);
    assert_eq!(julie.ack(Command::Enter { draw_id: second }).await, None);
    hub.stop().await;
}

/// The entry counts `c` has read so far: (entrants, event time).
fn entry_counts(c: &Client) -> Vec<(u64, i64)> {
    c.events
        .iter()
        .filter_map(|e| match e.event {
            Event::InstantWinEntries { entrants, .. } => Some((entrants, e.at)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_counts_go_out_at_most_four_times_a_second_of_hub_time() {
    // Hub time stands still until the test moves it, so "a second" is the
    // hub's, however slow the machine.
    let clock = ManualClock::new();
    let time = clock.clock();
    let hub = TestHub::start_with(move |c| c.clock = time).await;
    let t0 = clock.now();
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut viewers = Vec::new();
    for name in ["Julie", "Marc", "Inès", "Léa"] {
        viewers.push(hub.viewer(name).await);
    }
    let seq = host
        .ack(Command::PollOpen {
            question: "Rouge ou bleu ?".into(),
            options: vec!["Rouge".into(), "Bleu".into()],
            duration_secs: None,
        })
        .await
        .expect("an event");
    let Event::PollOpened { poll } = host.event_at(seq).await.event else {
        panic!("expected poll_opened")
    };
    let draw_id = open_draw(&mut host).await;

    // The first entry is announced at once.
    viewers[0].ack(Command::Enter { draw_id }).await;
    host.wait_event(|e| matches!(e, Event::InstantWinEntries { entrants: 1, .. }))
        .await;

    // Two more entries at the same hub instant; then a vote, whose first
    // tally goes out on the hub's next clock step: that step saw both
    // entries and, still at the same instant, must not announce them.
    viewers[1].ack(Command::Enter { draw_id }).await;
    viewers[2].ack(Command::Enter { draw_id }).await;
    viewers[3]
        .ack(Command::Vote {
            poll_id: poll.id,
            option: 0,
        })
        .await;
    host.wait_event(|e| matches!(e, Event::PollTally { voters: 1, .. }))
        .await;

    // A quarter of a second later, both at once.
    clock.set(t0 + 250);
    host.wait_event(|e| matches!(e, Event::InstantWinEntries { entrants: 3, .. }))
        .await;
    assert_eq!(entry_counts(&host), [(1, t0), (3, t0 + 250)]);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entering_does_not_depend_on_marketing_consent_even_withdrawn() {
    let hub = TestHub::start().await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut julie = hub.viewer_with_key("Julie", "julie-device").await;
    let consent = |granted| Command::Consent {
        purpose: ConsentPurpose::Marketing,
        granted,
        channel: ConsentChannel::Player,
        // The marketing text the hub offers: it refuses any other hash.
        text_sha256: regie::hub::consent_texts::ConsentTexts::default()
            .sha256(ConsentPurpose::Marketing)
            .expect("marketing is worded by [consent]"),
        contact: Contact::default(),
    };
    assert_eq!(julie.ack(consent(true)).await, None);
    assert_eq!(julie.ack(consent(false)).await, None);
    // The withdrawal is on record…
    let ServerFrame::ViewerCard { card, .. } = sam
        .command(Command::ViewerCard {
            viewer_id: viewer_id(&julie),
        })
        .await
    else {
        panic!("expected a viewer card")
    };
    let marketing: Vec<bool> = card
        .consents
        .iter()
        .filter(|c| c.purpose == ConsentPurpose::Marketing)
        .map(|c| c.granted)
        .collect();
    assert_eq!(marketing, [false], "{:?}", card.consents);

    // …and the entry is taken all the same ("No purchase necessary", and
    // no consent asked: the documented rule), and counts in the draw.
    let draw_id = open_draw(&mut host).await;
    assert_eq!(julie.ack(Command::Enter { draw_id }).await, None);
    host.ack(Command::InstantWinClose { draw_id }).await;
    let drawn = host
        .wait_event(|e| matches!(e, Event::InstantWinDrawn { .. }))
        .await;
    let Event::InstantWinDrawn {
        entrants, winners, ..
    } = drawn.event
    else {
        unreachable!()
    };
    assert_eq!(entrants, 1);
    assert_eq!(winners.len(), 1);
    assert_eq!(winners[0].viewer_id, viewer_id(&julie));
    hub.stop().await;
}

// ── gap 10: viewer cards by role, staff messages ─────────────────────────

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sees_the_viewer_card_as_support_does_and_the_reading_is_audited() {
    let hub = TestHub::start().await;
    let mut hello = hub.viewer_hello("Julie");
    if let Auth::Viewer { pass: key, .. } = &mut hello.auth {
        *key = Some(support::client::test_key("julie-device"));
    }
    let mut julie = hub.join(hello).await;
    // Contact is stored only under a consent its field serves.
    let consent = Command::Consent {
        purpose: ConsentPurpose::PrizeContact,
        granted: true,
        channel: ConsentChannel::Player,
        text_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        contact: Contact {
            phone: Some("+33 6 12 34 56 78".into()),
            email: Some("julie.martin@example.fr".into()),
        },
    };
    assert_eq!(julie.ack(consent).await, None);
    let julie_id = viewer_id(&julie);
    julie.say("coucou").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    ines.ack(Command::Timeout {
        viewer_id: julie_id.clone(),
        seconds: 60,
        reason: "spam".into(),
    })
    .await;

    let mut cards = Vec::new();
    for (role, name) in [
        (StaffRole::Admin, "Ada"),
        (StaffRole::Support, "Sam"),
        (StaffRole::Moderator, "Inès"),
        (StaffRole::Host, "Sophie"),
    ] {
        let mut staff = hub.staff(role, name).await;
        let ServerFrame::ViewerCard { card, .. } = staff
            .command(Command::ViewerCard {
                viewer_id: julie_id.clone(),
            })
            .await
        else {
            panic!("{role:?} gets a viewer card")
        };
        cards.push((role, card));
    }
    for (role, card) in &cards {
        // Everyone who may ask sees who, what they said and their sanctions.
        assert_eq!(card.viewer_id, julie_id, "{role:?}");
        assert_eq!(card.first_name, "Julie", "{role:?}");
        assert_eq!(card.recent.len(), 1, "{role:?}");
        assert_eq!(card.sanctions.len(), 1, "{role:?}");
        let json = serde_json::to_string(card).expect("serialise");
        assert!(
            !json.contains("12 34 56") && !json.contains("martin"),
            "{role:?} sees the contact data unmasked: {json}"
        );
    }
    let contact = |role: StaffRole| {
        cards
            .iter()
            .find(|(r, _)| *r == role)
            .and_then(|(_, c)| c.contact.clone())
    };
    // Known answers, written out: the masks the README shows.
    let admin = contact(StaffRole::Admin).expect("an admin sees the masked contact data");
    assert_eq!(admin.phone.as_deref(), Some("+33 6 •• •• •• 78"));
    assert_eq!(admin.email.as_deref(), Some("j•••@e•••.fr"));
    assert_eq!(contact(StaffRole::Support), Some(admin));
    assert_eq!(contact(StaffRole::Moderator), None);
    assert_eq!(contact(StaffRole::Host), None);

    // Reading contact data is audited, for the two who saw it only.
    let data = hub.data_dir.clone();
    let dir = hub.stop().await;
    let readers: Vec<(String, StaffRole)> = audit_log(&data)
        .into_iter()
        .filter(|r| r.entry.action == "viewer_card")
        .map(|r| {
            assert_eq!(r.entry.target, julie_id.0);
            (r.entry.actor_name, r.entry.actor_role)
        })
        .collect();
    assert_eq!(
        readers,
        [
            ("Ada".to_string(), StaffRole::Admin),
            ("Sam".to_string(), StaffRole::Support)
        ]
    );
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_messages_are_not_held_for_blocked_terms_or_contact_data() {
    let hub = TestHub::start().await;
    let mut watcher = hub.viewer("Witness").await;
    let mut troll = hub.viewer("Troll").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    // A positive control: the same text from a viewer is held.
    let text = "quel idiot, appelez le 06 12 34 56 78";
    let held = troll.say(text).await;
    let Event::Message { message } = ines.event_at(held).await.event else {
        panic!("expected the held message")
    };
    assert!(
        matches!(message.visibility, Visibility::Held { .. }),
        "{message:?}"
    );

    let mut sophie = hub.staff(StaffRole::Host, "Sophie").await;
    let mut ada = hub.staff(StaffRole::Admin, "Ada").await;
    let mut posted = Vec::new();
    for staff in [&mut ines, &mut sophie, &mut ada] {
        posted.push(staff.say(text).await);
    }
    // An answer is a staff message too.
    let mut question = hub.viewer("Julie").await;
    let asked = question
        .ack(Command::Say {
            text: "Livraison en Belgique ?".into(),
            question: true,
            announcement: false,
        })
        .await
        .expect("an event");
    let Event::Message { message } = sophie.event_at(asked).await.event else {
        panic!("expected the question")
    };
    posted.push(
        sophie
            .ack(Command::Answer {
                message_id: message.id,
                text: "oui, idiot-proof : 06 12 34 56 78".into(),
                also: Vec::new(),
            })
            .await
            .expect("an event"),
    );

    // Viewers get every staff message, visible and as written.
    for seq in posted {
        let frame = watcher.event_at(seq).await;
        assert_eq!(
            frame.seq, seq,
            "the staff message at {seq} reached the viewer"
        );
        let Event::Message { message } = frame.event else {
            panic!("expected a message at {seq}")
        };
        assert_eq!(message.visibility, Visibility::Visible, "{message:?}");
        assert!(message.text.contains("06 12 34 56 78"), "{}", message.text);
    }
    // The viewer's line never reached the witness.
    assert!(
        watcher.events.iter().all(|e| e.seq != held),
        "the held viewer message was broadcast"
    );
    hub.stop().await;
}
