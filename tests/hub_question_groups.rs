//! A group reply end to end, on the real hub: three viewers ask the same
//! question (two in French, one in English); the host's console shows one
//! group, Enter replies once, the second send key marks it answered. Each
//! asker's client receives one answer that names them by first name
//! (`reply_to` or `also_to`), all three questions are answered for every
//! client, and an erasure blanks the erased asker's name in the answer, in
//! memory and in the store (a restarted hub serves it blank).

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use regie::console::keymap::Keymap;
use regie::console::net::{self, NetConfig, NetHandle};
use regie::console::state::{Console, Effect, Msg, Session};
use regie::protocol::{ChatEntry, ChatMessage, Command, ErrorCode, Event, MessageId, StaffRole};
use support::client::Client;
use support::console::{code, feed, pump, typed};
use support::hub::{LIVE, TestHub};

async fn ask(viewer: &mut Client, text: &str) -> MessageId {
    let seq = viewer
        .ack(Command::Say {
            text: text.into(),
            question: true,
            announcement: false,
        })
        .await
        .expect("a question is an event");
    match viewer.event_at(seq).await.event {
        Event::Message { message } => message.id,
        other => panic!("not a message: {other:?}"),
    }
}

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
    (
        Console::new(
            session,
            Keymap::default(),
            50_000,
            &format!("{role}-{name}"),
        ),
        handle,
    )
}

fn press(state: &mut Console, handle: &NetHandle, msgs: impl IntoIterator<Item = Msg>) {
    for effect in feed(state, msgs) {
        if let Effect::Send(frame) = effect {
            handle.commands.send(frame).expect("network task alive");
        }
    }
}

fn answered(state: &Console, ids: &[MessageId]) -> bool {
    ids.iter().all(|id| {
        state
            .questions
            .iter()
            .find(|m| m.id == *id)
            .is_some_and(|m| m.answered)
    })
}

/// The staff answer a viewer receives, and the first name it gives the
/// viewer's own question `mine`.
async fn answer_for(viewer: &mut Client, mine: MessageId) -> (ChatMessage, String) {
    let frame = viewer
        .wait_event(|e| matches!(e, Event::Message { message } if message.reply_to.is_some()))
        .await;
    let Event::Message { message } = frame.event else {
        unreachable!()
    };
    let name = message
        .replies_to()
        .find(|r| r.message_id == mine)
        .map_or_else(
            || panic!("the answer does not name {mine}: {message:?}"),
            |r| r.first_name.clone(),
        );
    (message, name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_reply_reaches_each_asker_by_first_name_and_answers_them_all() {
    let hub = TestHub::start().await;
    let mut lea = hub.viewer("Léa").await;
    let mut sophie = hub.viewer("Sophie").await;
    let mut nina = hub.viewer("Nina").await;
    let q_lea = ask(&mut lea, "Elle existe en 38 ?").await;
    let q_sophie = ask(&mut sophie, "vous l'avez en 38 svp ?").await;
    let q_nina = ask(&mut nina, "Does it come in 38?").await;
    let all = [q_lea, q_sophie, q_nina];

    let (mut claire, mut net) = console(&hub, StaffRole::Host, "Claire").await;
    pump(&mut claire, &mut net, "the three questions", |s| {
        s.questions.len() == 3
    })
    .await;
    let rows = claire.question_rows();
    assert_eq!(rows.len(), 1, "one group: {rows:?}");
    assert_eq!(rows[0].size, 3);

    press(
        &mut claire,
        &net,
        [code(KeyCode::Tab), code(KeyCode::Enter)],
    );
    assert_eq!(
        claire.compose.as_ref().map(|c| c.first_name.as_str()),
        Some("Léa, Sophie +1")
    );
    press(&mut claire, &net, typed("Oui, du 36 au 44 !"));
    press(
        &mut claire,
        &net,
        [Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT))],
    );
    pump(&mut claire, &mut net, "the answer and the marks", |s| {
        s.pending.is_empty() && answered(s, &all)
    })
    .await;

    // One answer, the same message for everyone, naming each asker.
    let mut answer_ids = Vec::new();
    for (viewer, mine, name) in [
        (&mut lea, q_lea, "Léa"),
        (&mut sophie, q_sophie, "Sophie"),
        (&mut nina, q_nina, "Nina"),
    ] {
        let (answer, named) = answer_for(viewer, mine).await;
        assert_eq!(named, name);
        assert_eq!(answer.text, "Oui, du 36 au 44 !");
        answer_ids.push(answer.id);
        for id in all {
            viewer
                .wait_event(|e| matches!(e, Event::QuestionAnswered { message_id, .. } if *message_id == id))
                .await;
        }
    }
    assert!(
        answer_ids.windows(2).all(|w| w[0] == w[1]),
        "{answer_ids:?}"
    );
    let answer_id = answer_ids[0];

    refuses_a_bad_also(&hub, q_lea, q_sophie, answer_id).await;

    // Sophie is erased and Nina's name corrected: the answer loses the one
    // and renames the other, for a late joiner now and from the store
    // after a restart.
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    erase_and_rectify(&mut sam, &sophie, &nina).await;
    let names = |entries: &[ChatEntry]| -> Vec<String> {
        entries
            .iter()
            .find_map(|e| match e {
                ChatEntry::Message(m) if m.id == answer_id => {
                    Some(m.replies_to().map(|r| r.first_name.clone()).collect())
                }
                _ => None,
            })
            .expect("the answer is in the recent chat")
    };
    let late = hub.staff(StaffRole::Admin, "Alex").await;
    let snapshot = late.welcome.snapshot.as_ref().expect("a snapshot");
    assert_eq!(names(&snapshot.recent), ["Léa", "", "Ninon"]);
    drop((lea, sophie, nina, sam, late, claire, net));

    let dir = hub.stop().await.expect("the hub's temp dir");
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let fresh = hub.staff(StaffRole::Admin, "Alex").await;
    let snapshot = fresh.welcome.snapshot.as_ref().expect("a snapshot");
    assert_eq!(names(&snapshot.recent), ["Léa", "", "Ninon"]);
    hub.stop().await;
}

/// The hub checks what `also` names: a repeat, a message that is not a
/// question, too many.
async fn refuses_a_bad_also(
    hub: &TestHub,
    q_lea: MessageId,
    q_sophie: MessageId,
    answer_id: MessageId,
) {
    let mut host = hub.staff(StaffRole::Host, "Claire").await;
    let twice = host
        .refused(Command::Answer {
            message_id: q_lea,
            text: "x".into(),
            also: vec![q_sophie, q_sophie],
        })
        .await;
    assert_eq!(twice.code, ErrorCode::Invalid);
    let not_a_question = host
        .refused(Command::Answer {
            message_id: q_lea,
            text: "x".into(),
            also: vec![answer_id],
        })
        .await;
    assert_eq!(not_a_question.code, ErrorCode::Invalid);
    let too_many = host
        .refused(Command::Answer {
            message_id: q_lea,
            text: "x".into(),
            also: (1000..1101).map(MessageId).collect(),
        })
        .await;
    assert_eq!(too_many.code, ErrorCode::Invalid);
}

async fn erase_and_rectify(sam: &mut Client, erased: &Client, renamed: &Client) {
    let id = |c: &Client| c.welcome.you.viewer_id.clone().expect("a viewer id");
    sam.ack(Command::EraseViewer {
        viewer_id: id(erased),
        reason: "demande RGPD".into(),
    })
    .await
    .expect("viewer_erased");
    sam.ack(Command::RectifyViewer {
        viewer_id: id(renamed),
        first_name: Some("Ninon".into()),
        pseudonym: None,
    })
    .await
    .expect("viewer_rectified");
}
