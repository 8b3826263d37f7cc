//! Grouped questions in the console: questions that ask the same thing
//! share one row ("Elle existe en 38 ? · Léa, Sophie +3"), kept up to date
//! on ingest (new question, answered, reopened, redacted, erased); `+`
//! expands a group, `-` splits a question out, `=` then `=` merges two
//! groups; Enter on a group replies once to everyone in it, and the second
//! send key marks every question of it answered. Update tests, and
//! snapshots at 80×24 and 160×48 of the groups and of an expanded group.

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use regie::console::state::{Console, Effect, Msg, Pane};
use regie::protocol::*;
use support::console::{
    MIN, NOON, actor, code, commands, console, event, feed, key, question, render, typed, viewer,
    welcome,
};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn snap(name: &str, state: &mut Console) {
    for (w, h) in SIZES {
        let screen = render(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

fn alt_enter() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT))
}

fn ack(effects: &[Effect]) -> Msg {
    match effects {
        [Effect::Send(frame)] => Msg::Frame(ServerFrame::Ack {
            id: frame.id.clone(),
            seq: None,
        }),
        other => panic!("expected one command, got {other:?}"),
    }
}

fn note(c: &Console) -> &str {
    c.note.as_ref().map_or("", |n| n.text.as_str())
}

/// Five askers of "in 38?" (FR and EN), two of delivery, one of 42.
fn asked() -> Vec<ChatMessage> {
    let q = |id: u64, vid: &str, name: &str, text: &str| {
        let at = NOON + i64::try_from(id).expect("a small id") * MIN;
        question(id, at, viewer(vid, name, vid), text)
    };
    vec![
        q(1, "v-lea", "Léa", "Elle existe en 38 ?"),
        q(2, "v-sophie", "Sophie", "vous l'avez en 38 svp ?"),
        q(3, "v-marc", "Marc", "C'est combien la livraison ?"),
        q(4, "v-nina", "Nina", "Does it come in 38?"),
        q(5, "v-ines", "Inès", "Elle existe en 42 ?"),
        q(6, "v-paul", "Paul", "dispo en taille 38 ?"),
        q(7, "v-julie", "Julie", "How much is shipping?"),
        q(8, "v-zoe", "Zoé", "Il y a du 38 ?"),
    ]
}

fn grouped_show() -> Console {
    let mut c = console(StaffRole::Host);
    let open = asked();
    let snapshot = Snapshot {
        recent: open.iter().cloned().map(ChatEntry::Message).collect(),
        open_questions: open,
        viewers_online: 40,
        ..Snapshot::default()
    };
    feed(
        &mut c,
        [
            Msg::Frame(welcome(StaffRole::Host, "Claire", 8, snapshot)),
            Msg::Connection(regie::console::state::ConnStatus::Connected),
            code(KeyCode::Tab),
        ],
    );
    assert_eq!(c.focus, Pane::Questions);
    c
}

fn row_ids(c: &Console) -> Vec<u64> {
    c.question_rows().iter().map(|r| r.id.0).collect()
}

fn next_event(c: &mut Console, what: Event) {
    let seq = c.seq + 1;
    feed(c, [Msg::Frame(event(seq, NOON + 30 * MIN, what))]);
}

#[test]
fn questions_asking_the_same_thing_share_one_row_with_a_count_and_names() {
    let mut c = grouped_show();
    assert_eq!(row_ids(&c), [1, 3, 5], "38 ×5, delivery ×2, 42 alone");
    let sizes: Vec<usize> = c.question_rows().iter().map(|r| r.size).collect();
    assert_eq!(sizes, [5, 2, 1]);
    assert_eq!(
        c.askers_label(&c.question_groups.members_with(MessageId(1))),
        "Léa, Sophie +3"
    );
    assert_eq!(c.open_questions(), 8, "the count is of questions");
    snap("grouped_questions", &mut c);

    // Newest first still sorts, by group.
    feed(&mut c, [key('o')]);
    assert_eq!(row_ids(&c), [5, 3, 1]);
}

#[test]
fn a_new_question_joins_its_group_on_ingest_and_a_different_size_does_not() {
    let mut c = grouped_show();
    let julie = || viewer("v-j2", "Julie", "j2");
    next_event(
        &mut c,
        Event::Message {
            message: question(9, NOON + 20 * MIN, julie(), "Elle existe en 38 ??"),
        },
    );
    next_event(
        &mut c,
        Event::Message {
            message: question(10, NOON + 21 * MIN, julie(), "elle existe en 40 ?"),
        },
    );
    assert_eq!(c.question_groups.group_len(MessageId(9)), 6);
    assert_eq!(row_ids(&c), [1, 3, 5, 10]);
}

#[test]
fn plus_expands_a_group_into_its_members_and_collapses_it_again() {
    let mut c = grouped_show();
    assert_eq!(c.question_sel, Some(MessageId(1)));
    feed(&mut c, [key('+')]);
    assert_eq!(row_ids(&c), [1, 2, 4, 6, 8, 3, 5]);
    feed(&mut c, [key('j'), key('j')]);
    assert_eq!(c.question_sel, Some(MessageId(4)));
    snap("expanded_group", &mut c);
    feed(&mut c, [key('+')]);
    assert_eq!(row_ids(&c), [1, 3, 5]);
    assert_eq!(
        c.question_sel,
        Some(MessageId(1)),
        "back on the group's row"
    );
    feed(&mut c, [key('G'), key('+')]);
    assert_eq!(
        note(&c),
        "that question is alone: there is no group to expand"
    );
}

#[test]
fn enter_on_a_group_sends_one_answer_bound_to_every_question_of_it() {
    let mut c = grouped_show();
    feed(&mut c, [code(KeyCode::Enter)]);
    let compose = c.compose.as_ref().expect("the reply line opens");
    assert_eq!(compose.first_name, "Léa, Sophie +3");
    assert_eq!(compose.target, MessageId(1));
    feed(&mut c, typed("Oui, du 36 au 44 !"));
    snap("group_reply_line", &mut c);
    let sent = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&sent),
        [Command::Answer {
            message_id: MessageId(1),
            text: "Oui, du 36 au 44 !".into(),
            also: [2, 4, 6, 8].map(MessageId).to_vec(),
        }]
    );
    // Enter alone marks nothing.
    assert!(feed(&mut c, [ack(&sent)]).is_empty());
    assert_eq!(note(&c), "Done: answer to Léa, Sophie +3");
}

#[test]
fn the_second_send_key_marks_every_open_question_of_the_group_after_the_answer() {
    let mut c = grouped_show();
    // Sophie's question was answered already: it is not marked again.
    next_event(
        &mut c,
        Event::QuestionAnswered {
            message_id: MessageId(2),
            by: actor("Claire", StaffRole::Host),
        },
    );
    feed(&mut c, [code(KeyCode::Enter)]);
    feed(&mut c, typed("Oui !"));
    let sent = feed(&mut c, [alt_enter()]);
    assert_eq!(commands(&sent).len(), 1, "the answer alone first");
    let marks = feed(&mut c, [ack(&sent)]);
    let ids: Vec<MessageId> = commands(&marks)
        .into_iter()
        .map(|cmd| match cmd {
            Command::MarkAnswered { message_id } => message_id,
            other => panic!("not a mark: {other:?}"),
        })
        .collect();
    assert_eq!(ids, [1, 4, 6, 8].map(MessageId));
    for id in [1, 4, 6, 8] {
        next_event(
            &mut c,
            Event::QuestionAnswered {
                message_id: MessageId(id),
                by: actor("Claire", StaffRole::Host),
            },
        );
    }
    let group = c.question_groups.group_of(MessageId(1)).expect("a group");
    assert!(c.question_groups.group_answered(group));
    snap("answered_group", &mut c);
}

#[test]
fn a_refused_group_answer_marks_nothing() {
    let mut c = grouped_show();
    feed(&mut c, [code(KeyCode::Enter)]);
    feed(&mut c, typed("Oui !"));
    let sent = feed(&mut c, [alt_enter()]);
    let Effect::Send(frame) = &sent[0] else {
        panic!("a command")
    };
    let refused = feed(
        &mut c,
        [Msg::Frame(ServerFrame::Error(ErrorFrame {
            id: Some(frame.id.clone()),
            code: ErrorCode::NotFound,
            message: "message 4 was redacted".into(),
            temporary: false,
            retry_after_ms: None,
        }))],
    );
    assert!(refused.is_empty());
    assert!(note(&c).ends_with("; not marked answered"), "{}", note(&c));
}

#[test]
fn minus_splits_the_selected_question_out_and_equals_twice_merges_two_groups() {
    let mut c = grouped_show();
    feed(&mut c, [key('+'), key('j')]);
    assert_eq!(c.question_sel, Some(MessageId(2)));
    feed(&mut c, [key('-')]);
    assert_eq!(note(&c), "split Sophie's message #2 out of its group");
    assert_eq!(c.question_groups.group_len(MessageId(1)), 4);
    assert_eq!(c.question_groups.group_len(MessageId(2)), 1);
    assert_eq!(c.question_sel, Some(MessageId(2)), "still on Sophie's");
    feed(&mut c, [key('-')]);
    assert_eq!(
        note(&c),
        "Sophie's message #2 is alone in its group already"
    );

    // = on the 42 question, then = on the 38 group: one group of five.
    feed(&mut c, [key('G'), key('=')]);
    assert_eq!(c.merge_mark, Some(MessageId(5)));
    feed(&mut c, [key('g'), key('=')]);
    assert_eq!(c.merge_mark, None);
    assert_eq!(c.question_groups.group_len(MessageId(5)), 5);
    assert!(note(&c).starts_with("merged: 5 questions"), "{}", note(&c));
}

#[test]
fn redaction_and_erasure_take_questions_out_of_their_group_and_the_reply_line() {
    let mut c = grouped_show();
    feed(&mut c, [code(KeyCode::Enter)]);
    next_event(
        &mut c,
        Event::Redacted {
            tombstone: Tombstone {
                message_id: MessageId(4),
                posted_at: NOON + 4 * MIN,
                redacted_at: NOON + 30 * MIN,
                author_id: None,
                reason: "at the viewer's request".into(),
                by: actor("Sam", StaffRole::Support),
            },
        },
    );
    next_event(
        &mut c,
        Event::ViewerErased {
            viewer_id: ViewerId("v-sophie".into()),
            reason: "Art. 17".into(),
            erased_at: NOON + 30 * MIN,
            by: actor("Sam", StaffRole::Support),
        },
    );
    assert_eq!(
        c.question_groups.members_with(MessageId(1)),
        [1, 6, 8].map(MessageId)
    );
    let compose = c.compose.as_ref().expect("still replying to the group");
    assert_eq!(compose.also, [6, 8].map(MessageId));
    assert_eq!(compose.first_name, "Léa, Paul +1");
    // The lead erased: the next question leads the group.
    next_event(
        &mut c,
        Event::ViewerErased {
            viewer_id: ViewerId("v-lea".into()),
            reason: "Art. 17".into(),
            erased_at: NOON + 31 * MIN,
            by: actor("Sam", StaffRole::Support),
        },
    );
    assert!(c.compose.is_none(), "its target is gone");
    assert_eq!(row_ids(&c), [3, 5, 6]);
    assert_eq!(c.question_sel, Some(MessageId(3)));
}

#[test]
fn a_group_answer_in_the_feed_names_its_askers_and_loses_an_erased_name() {
    let mut c = grouped_show();
    let mut answer = regie::protocol::ChatMessage {
        reply_to: Some(ReplyTo {
            message_id: MessageId(1),
            first_name: "Léa".into(),
        }),
        also_to: vec![
            ReplyTo {
                message_id: MessageId(2),
                first_name: "Sophie".into(),
            },
            ReplyTo {
                message_id: MessageId(4),
                first_name: "Nina".into(),
            },
        ],
        ..support::console::message(
            20,
            NOON + 25 * MIN,
            support::console::staff("Claire", StaffRole::Host),
            "Oui, du 36 au 44 !",
        )
    };
    next_event(
        &mut c,
        Event::Message {
            message: answer.clone(),
        },
    );
    next_event(
        &mut c,
        Event::ViewerErased {
            viewer_id: ViewerId("v-sophie".into()),
            reason: "Art. 17".into(),
            erased_at: NOON + 30 * MIN,
            by: actor("Sam", StaffRole::Support),
        },
    );
    answer.also_to[0].first_name.clear();
    assert_eq!(c.feed.message(MessageId(20)), Some(&answer));
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("@Léa, Nina +1 Oui, du 36 au 44 !"),
        "{screen}"
    );
    assert!(!screen.contains("Sophie"), "{screen}");
}
