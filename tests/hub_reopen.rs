//! Undoing mark-answered on the real hub: `reopen_question` puts the
//! question back in the open queue of every client, in its place, in the
//! snapshot of a late joiner, in the store (a restarted hub still has it
//! open, a resume replays both steps in order) and in the audit log. And
//! the console end to end: `x`, then `u`, seen by a second console; a reply
//! sent with the second send key reaches the hub as the answer and then
//! the mark.

mod support;

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use regie::console::keymap::Keymap;
use regie::console::net::{self, NetConfig, NetHandle};
use regie::console::state::{Console, Effect, Msg, Session};
use regie::protocol::{Actor, ChatMessage, Command, Event, MessageId, Resume, Snapshot, StaffRole};
use regie::store::{AuditRecord, SqliteStore, Store};
use support::client::Client;
use support::console::{code, feed, key, pump, typed};
use support::hub::{LIVE, TestHub};

fn open_ids(snapshot: &Snapshot) -> Vec<MessageId> {
    snapshot.open_questions.iter().map(|m| m.id).collect()
}

fn snapshot(client: &Client) -> &Snapshot {
    client
        .welcome
        .snapshot
        .as_ref()
        .expect("a fresh join has a snapshot")
}

/// Julie asks; returns the question's id.
async fn ask(julie: &mut Client, text: &str) -> MessageId {
    let seq = julie
        .ack(Command::Say {
            text: text.into(),
            question: true,
            announcement: false,
        })
        .await
        .expect("a question is an event");
    match julie.event_at(seq).await.event {
        Event::Message { message } => message.id,
        other => panic!("not a message: {other:?}"),
    }
}

fn reopened_by(event: &Event, id: MessageId) -> Actor {
    match event {
        Event::QuestionReopened { message_id, by } if *message_id == id => by.clone(),
        other => panic!("not question {id} reopened: {other:?}"),
    }
}

/// The audit log a stopped hub left in `data_dir`.
fn audit_log(data_dir: &Path) -> Vec<AuditRecord> {
    let mut store = SqliteStore::open(data_dir).expect("open the hub's store");
    store.open_live(LIVE).expect("open the hub's live");
    store.audit_log(LIVE).expect("read the audit log")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_question_is_open_again_everywhere_and_after_a_restart() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let first = ask(&mut julie, "Elle existe en 38 ?").await;
    let second = ask(&mut julie, "Livraison en Belgique ?").await;
    let mut claire = hub.staff(StaffRole::Host, "Claire").await;
    let mut alex = hub.staff(StaffRole::Admin, "Alex").await;
    let epoch = claire.welcome.epoch.clone();
    let before_mark = claire.welcome.seq;

    let marked = claire
        .ack(Command::MarkAnswered { message_id: first })
        .await
        .expect("question_answered");
    assert!(matches!(
        alex.event_at(marked).await.event,
        Event::QuestionAnswered { message_id, .. } if message_id == first
    ));
    let late = hub.staff(StaffRole::Moderator, "Inès").await;
    assert_eq!(open_ids(snapshot(&late)), [second]);

    // Reopening an open question is a no-op: an ack without an event.
    assert_eq!(
        claire
            .ack(Command::ReopenQuestion { message_id: second })
            .await,
        None
    );
    let reopened = claire
        .ack(Command::ReopenQuestion { message_id: first })
        .await
        .expect("question_reopened");
    let claire_by = Actor {
        name: Some("Claire".into()),
        role: StaffRole::Host,
    };
    for client in [&mut claire, &mut alex] {
        let by = reopened_by(&client.event_at(reopened).await.event, first);
        assert_eq!(by, claire_by);
    }
    // Viewers see it too, with the role only.
    let by = reopened_by(&julie.event_at(reopened).await.event, first);
    assert_eq!(by.name, None);

    // A late joiner, staff or viewer, has it open, in its place by id.
    let late_staff = hub.staff(StaffRole::Moderator, "Inès").await;
    let late_viewer = hub.viewer("Marc").await;
    for late in [&late_staff, &late_viewer] {
        let snap = snapshot(late);
        assert_eq!(open_ids(snap), [first, second]);
        assert!(snap.open_questions.iter().all(|m| !m.answered));
    }
    drop((julie, claire, alex, late, late_staff, late_viewer));

    // The store agrees: after a restart the question is open, a resume
    // replays the mark and the reopening in order, and both are audited.
    let dir = hub.stop().await.expect("the hub's temp dir");
    Box::pin(the_store_agrees(
        dir.path(),
        epoch,
        before_mark,
        [first, second],
    ))
    .await;
}

/// After a restart on `dir` the question is open, a resume from
/// `before_mark` replays the mark and the reopening in order, and both are
/// audited as Claire's.
async fn the_store_agrees(
    dir: &Path,
    epoch: regie::protocol::Epoch,
    before_mark: regie::protocol::Seq,
    [first, second]: [MessageId; 2],
) {
    let hub = TestHub::start_in(dir, |_| {}).await;
    let fresh = hub.staff(StaffRole::Host, "Claire").await;
    assert_eq!(open_ids(snapshot(&fresh)), [first, second]);
    let mut hello = hub.staff_hello(StaffRole::Admin, "Alex");
    hello.resume = Some(Resume {
        epoch,
        seq: before_mark,
    });
    let mut resumed = hub.join(hello).await;
    assert!(resumed.welcome.resumed);
    let head = resumed.welcome.seq;
    resumed.event_at(head).await;
    let steps: Vec<&Event> = resumed
        .events
        .iter()
        .map(|e| &e.event)
        .filter(|e| {
            matches!(
                e,
                Event::QuestionAnswered { .. } | Event::QuestionReopened { .. }
            )
        })
        .collect();
    assert!(
        matches!(
            steps.as_slice(),
            [
                Event::QuestionAnswered { message_id: a, .. },
                Event::QuestionReopened { message_id: b, .. },
            ] if *a == first && *b == first
        ),
        "{steps:?}"
    );
    drop((fresh, resumed));
    hub.stop().await;
    let log = audit_log(dir);
    let actions: Vec<(&str, &str, &str)> = log
        .iter()
        .filter(|r| r.entry.action.ends_with("_answered") || r.entry.action.starts_with("reopen"))
        .map(|r| {
            (
                r.entry.action.as_str(),
                r.entry.target.as_str(),
                r.entry.actor_name.as_str(),
            )
        })
        .collect();
    let target = first.to_string();
    assert_eq!(
        actions,
        [
            ("mark_answered", target.as_str(), "Claire"),
            ("reopen_question", target.as_str(), "Claire"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_is_refused_to_whoever_may_not_mark_answered() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let q = ask(&mut julie, "Elle existe en 38 ?").await;
    let mut claire = hub.staff(StaffRole::Host, "Claire").await;
    claire
        .ack(Command::MarkAnswered { message_id: q })
        .await
        .expect("question_answered");
    for role in [StaffRole::Moderator, StaffRole::Support] {
        let mut staff = hub.staff(role, "someone").await;
        let refused = staff
            .refused(Command::ReopenQuestion { message_id: q })
            .await;
        assert_eq!(
            refused.code,
            regie::protocol::ErrorCode::Forbidden,
            "{role}"
        );
    }
    let refused = julie
        .refused(Command::ReopenQuestion { message_id: q })
        .await;
    assert_eq!(refused.code, regie::protocol::ErrorCode::Forbidden);
    let late = hub.staff(StaffRole::Host, "Claire").await;
    assert!(open_ids(snapshot(&late)).is_empty(), "still answered");
    hub.stop().await;
}

// ── the console, end to end ──────────────────────────────────────────────

/// A real console (network task and state) signed in as `role` `name`.
async fn console(hub: &TestHub, role: StaffRole, name: &str) -> (Console, NetHandle) {
    let config = NetConfig {
        url: hub.url.clone(),
        live: LIVE.into(),
        token: hub.token(role, name),
        tls: regie::tls::ClientTls::default(),
    };
    let first = net::connect(&config, None).await.expect("console connects");
    let handle = net::spawn(config, first);
    let session = Session {
        role,
        name: String::new(),
        live: String::new(),
    };
    let id_prefix = format!("{role}-{name}");
    (
        Console::new(session, Keymap::default(), 50_000, &id_prefix),
        handle,
    )
}

/// Keys typed into the console; the commands they produce go to the hub.
fn press(state: &mut Console, handle: &NetHandle, msgs: impl IntoIterator<Item = Msg>) -> usize {
    let mut sent = 0;
    for effect in feed(state, msgs) {
        if let Effect::Send(frame) = effect {
            handle.commands.send(frame).expect("network task alive");
            sent += 1;
        }
    }
    sent
}

fn question(state: &Console, id: MessageId) -> Option<&ChatMessage> {
    state.questions.iter().find(|m| m.id == id)
}

fn is_open(state: &Console, id: MessageId) -> bool {
    question(state, id).is_some_and(|m| !m.answered)
}

fn is_answered(state: &Console, id: MessageId) -> bool {
    question(state, id).is_some_and(|m| m.answered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_then_u_in_one_console_is_seen_in_another() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let first = ask(&mut julie, "Elle existe en 38 ?").await;
    let second = ask(&mut julie, "Livraison en Belgique ?").await;
    let (mut claire, mut claire_net) = console(&hub, StaffRole::Host, "Claire").await;
    let (mut alex, mut alex_net) = console(&hub, StaffRole::Admin, "Alex").await;
    for (state, handle) in [(&mut claire, &mut claire_net), (&mut alex, &mut alex_net)] {
        pump(state, handle, "the snapshot", |s| {
            is_open(s, first) && is_open(s, second)
        })
        .await;
    }

    // Tab to the questions: the oldest is selected; x marks it.
    assert_eq!(
        press(&mut claire, &claire_net, [code(KeyCode::Tab), key('x')]),
        1
    );
    pump(&mut claire, &mut claire_net, "the mark's ack", |s| {
        s.pending.is_empty() && is_answered(s, first)
    })
    .await;
    let note = claire.note.as_ref().expect("a confirmation").text.clone();
    assert!(
        note.starts_with("Done (u reopens it): mark Julie's"),
        "{note}"
    );
    pump(&mut alex, &mut alex_net, "the mark", |s| {
        is_answered(s, first)
    })
    .await;

    // The answered question stays selected; u reopens it, for both.
    assert_eq!(press(&mut claire, &claire_net, [key('u')]), 1);
    pump(&mut claire, &mut claire_net, "the reopening", |s| {
        s.pending.is_empty() && is_open(s, first)
    })
    .await;
    pump(&mut alex, &mut alex_net, "the reopening", |s| {
        is_open(s, first)
    })
    .await;
    let order: Vec<MessageId> = alex.questions.iter().map(|m| m.id).collect();
    assert_eq!(order, [first, second], "back in its place");
    assert!(
        alex.activity
            .iter()
            .any(|a| a.what.starts_with("reopened Julie's")
                && a.actor.as_ref().and_then(|b| b.name.as_deref()) == Some("Claire")),
        "{:?}",
        alex.activity
    );

    // A second u says it is already open and sends nothing.
    assert_eq!(press(&mut claire, &claire_net, [key('u')]), 0);
    let note = claire.note.as_ref().expect("a note").text.clone();
    assert!(note.ends_with("is already open"), "{note}");
    claire_net.task.abort();
    alex_net.task.abort();
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_send_key_replies_then_marks_the_question_answered() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    let q = ask(&mut julie, "Elle existe en 38 ?").await;
    let mut alex = hub.staff(StaffRole::Admin, "Alex").await;
    let (mut claire, mut claire_net) = console(&hub, StaffRole::Host, "Claire").await;
    pump(&mut claire, &mut claire_net, "the snapshot", |s| {
        is_open(s, q)
    })
    .await;

    let alt_enter = Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
    press(
        &mut claire,
        &claire_net,
        [code(KeyCode::Tab), code(KeyCode::Enter)],
    );
    press(&mut claire, &claire_net, typed("Oui, du 36 au 44"));
    assert_eq!(
        press(&mut claire, &claire_net, [alt_enter]),
        1,
        "the reply first"
    );
    // The mark goes out on the reply's ack (through the pump).
    pump(
        &mut claire,
        &mut claire_net,
        "the reply and the mark",
        |s| s.pending.is_empty() && is_answered(s, q),
    )
    .await;

    // Another client saw the reply, then the mark, both by Claire.
    let marked = alex
        .wait_event(|e| matches!(e, Event::QuestionAnswered { message_id, .. } if *message_id == q))
        .await;
    let reply_seq = alex
        .events
        .iter()
        .find_map(|e| match &e.event {
            Event::Message { message }
                if message.reply_to.as_ref().map(|r| r.message_id) == Some(q) =>
            {
                assert_eq!(message.text, "Oui, du 36 au 44");
                Some(e.seq)
            }
            _ => None,
        })
        .expect("the reply reached the hub");
    assert!(reply_seq < marked.seq, "the reply comes before the mark");
    let Event::QuestionAnswered { by, .. } = &marked.event else {
        unreachable!()
    };
    assert_eq!(by.name.as_deref(), Some("Claire"));
    let note = claire.note.as_ref().expect("a confirmation").text.clone();
    assert!(
        note.starts_with("Done (u reopens it): mark Julie's"),
        "{note}"
    );
    claire_net.task.abort();
    hub.stop().await;
}
