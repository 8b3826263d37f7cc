//! Answering questions in the console: `x` marks, `u` takes the mark back
//! (and `x`'s confirmation says so), and the reply line's second send key
//! replies and then marks the question answered, the mark going out only
//! once the hub accepted the reply. Update tests on the show fixture, and
//! snapshots of the reply line's footer and of a question back in the
//! queue, at 80×24 and 160×48.

mod support;

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use regie::console::keymap::Keymap;
use regie::console::state::{Console, Effect, Msg, Pane};
use regie::protocol::{
    Command, CommandId, ErrorCode, ErrorFrame, Event, MessageId, ServerFrame, StaffRole,
};
use support::console::{MIN, NOON, actor, code, commands, event, feed, key, render, show, typed};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn snap(name: &str, state: &mut Console) {
    for (w, h) in SIZES {
        let screen = render(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

fn sent_id(effects: &[Effect]) -> CommandId {
    match effects {
        [Effect::Send(frame)] => frame.id.clone(),
        other => panic!("expected one command, got {other:?}"),
    }
}

fn ack(id: CommandId) -> Msg {
    Msg::Frame(ServerFrame::Ack { id, seq: None })
}

fn alt_enter() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT))
}

/// The hub's event `what` on the console's next seq.
fn next_event(c: &mut Console, what: Event) {
    let seq = c.seq + 1;
    feed(c, [Msg::Frame(event(seq, NOON + 30 * MIN, what))]);
}

fn reopened(id: u64) -> Event {
    Event::QuestionReopened {
        message_id: MessageId(id),
        by: actor("Claire", StaffRole::Host),
    }
}

fn answered(id: u64) -> Event {
    Event::QuestionAnswered {
        message_id: MessageId(id),
        by: actor("Claire", StaffRole::Host),
    }
}

fn question_ids(c: &Console) -> Vec<u64> {
    c.questions.iter().map(|m| m.id.0).collect()
}

fn note(c: &Console) -> &str {
    c.note.as_ref().map_or("", |n| n.text.as_str())
}

/// Selects message `id` in the chat, going up from the newest line.
fn select_in_chat(c: &mut Console, id: u64) {
    for _ in 0..40 {
        if c.target().is_some_and(|m| m.id.0 == id) {
            return;
        }
        feed(c, [key('k')]);
    }
    panic!("message {id} is not in the chat");
}

#[test]
fn x_then_u_reopens_the_question_in_its_place() {
    let mut c = show(StaffRole::Host);
    let marked = feed(&mut c, [code(KeyCode::Tab), key('x')]);
    assert_eq!(
        commands(&marked),
        [Command::MarkAnswered {
            message_id: MessageId(2)
        }]
    );
    feed(&mut c, [ack(sent_id(&marked))]);
    assert_eq!(
        note(&c),
        "Done (u reopens it): mark Julie's message #2 answered"
    );
    next_event(&mut c, answered(2));
    assert_eq!(c.open_questions(), 2);
    assert_eq!(c.question_sel, Some(MessageId(2)), "still on the question");

    let reopening = feed(&mut c, [key('u')]);
    assert_eq!(
        commands(&reopening),
        [Command::ReopenQuestion {
            message_id: MessageId(2)
        }]
    );
    feed(&mut c, [ack(sent_id(&reopening))]);
    assert_eq!(note(&c), "Done: reopen Julie's message #2");
    next_event(&mut c, reopened(2));
    assert_eq!(question_ids(&c), [2, 4, 8], "in its place, not at the end");
    assert_eq!(c.open_questions(), 3);
    assert!(c.feed.message(MessageId(2)).is_some_and(|m| !m.answered));
    assert!(
        c.pinned
            .as_ref()
            .and_then(|p| p.message.as_ref())
            .is_some_and(|m| !m.answered),
        "the pinned card shows it open too"
    );
    let last = c.activity.back().expect("an activity row");
    assert_eq!(last.what, "reopened Julie's message #2");
    assert_eq!(last.actor, Some(actor("Claire", StaffRole::Host)));
}

#[test]
fn u_on_an_open_question_or_a_chat_line_says_why_and_sends_nothing() {
    let mut c = show(StaffRole::Host);
    let effects = feed(&mut c, [code(KeyCode::Tab), key('u')]);
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(note(&c), "Julie's message #2 is already open");
    assert!(!c.note.as_ref().is_some_and(|n| n.error));

    feed(&mut c, [code(KeyCode::BackTab)]);
    select_in_chat(&mut c, 1);
    let effects = feed(&mut c, [key('u')]);
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(note(&c), "Marc's message #1 is not a question");
}

#[test]
fn a_question_the_queue_no_longer_lists_comes_back_when_reopened() {
    // Marc's #9 was answered before this console joined: the queue does
    // not list it, the chat does. u on it in the chat reopens it.
    let mut c = show(StaffRole::Host);
    assert_eq!(question_ids(&c), [2, 4, 8]);
    select_in_chat(&mut c, 9);
    let effects = feed(&mut c, [key('u')]);
    assert_eq!(
        commands(&effects),
        [Command::ReopenQuestion {
            message_id: MessageId(9)
        }]
    );
    next_event(&mut c, reopened(9));
    assert_eq!(question_ids(&c), [2, 4, 8, 9]);
    assert_eq!(c.open_questions(), 4);
    feed(&mut c, [code(KeyCode::Tab)]);
    assert_eq!(c.focus, Pane::Questions);
    snap("reopened_question_back_in_the_queue", &mut c);
}

#[test]
fn reopening_is_not_offered_to_a_moderator() {
    let mut c = show(StaffRole::Moderator);
    select_in_chat(&mut c, 9);
    let effects = feed(&mut c, [key('u')]);
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(
        note(&c),
        "A moderator can't reopen the selected answered question."
    );
}

#[test]
fn the_second_send_key_replies_then_marks_answered_on_the_replys_ack() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [code(KeyCode::Tab), code(KeyCode::Enter)]);
    feed(&mut c, typed("Oui, du 36 au 44"));
    let reply = feed(&mut c, [alt_enter()]);
    assert_eq!(
        commands(&reply),
        [Command::Answer {
            message_id: MessageId(2),
            text: "Oui, du 36 au 44".into(),
            also: Vec::new(),
        }],
        "the reply alone first"
    );
    assert!(c.compose.is_none(), "the reply line closes");
    let mark = feed(&mut c, [ack(sent_id(&reply))]);
    assert_eq!(
        commands(&mark),
        [Command::MarkAnswered {
            message_id: MessageId(2)
        }],
        "the mark goes on the reply's ack"
    );
    feed(&mut c, [ack(sent_id(&mark))]);
    assert!(c.pending.is_empty());
    assert_eq!(
        note(&c),
        "Done (u reopens it): mark Julie's message #2 answered"
    );
}

#[test]
fn a_refused_reply_marks_nothing_and_says_so() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [code(KeyCode::Tab), code(KeyCode::Enter)]);
    feed(&mut c, typed("Oui"));
    let reply = feed(&mut c, [alt_enter()]);
    let refusal = ServerFrame::Error(ErrorFrame {
        id: Some(sent_id(&reply)),
        code: ErrorCode::NotFound,
        message: "message 2 was redacted".into(),
        temporary: false,
        retry_after_ms: None,
    });
    let after = feed(&mut c, [Msg::Frame(refusal)]);
    assert!(after.is_empty(), "no mark after a refused reply: {after:?}");
    assert!(c.pending.is_empty());
    let n = c.note.as_ref().expect("a note");
    assert!(n.error);
    assert_eq!(
        n.text,
        "answer to Julie: message 2 was redacted (not_found); not marked answered"
    );
}

#[test]
fn the_second_send_key_on_a_chat_line_says_enter_sends_it_alone() {
    let mut c = show(StaffRole::Host);
    select_in_chat(&mut c, 1);
    feed(&mut c, [code(KeyCode::Enter)]);
    feed(&mut c, typed("Bonsoir Marc"));
    let effects = feed(&mut c, [alt_enter()]);
    assert!(effects.is_empty(), "{effects:?}");
    assert!(c.compose.is_some(), "the reply is still being typed");
    assert_eq!(
        note(&c),
        "Marc's message #1 is not a question; Enter sends the reply alone"
    );
    let reply = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(commands(&reply).len(), 1);
    let after = feed(&mut c, [ack(sent_id(&reply))]);
    assert!(after.is_empty(), "a plain reply has no second step");
    assert_eq!(note(&c), "Done: answer to Marc");
}

#[test]
fn the_reply_lines_footer_names_the_keys_that_apply() {
    // On a chat line only Enter and Esc; on an open question both send keys
    // (the question case is `console_views`' reply_line snapshots).
    let mut c = show(StaffRole::Host);
    select_in_chat(&mut c, 1);
    feed(&mut c, [code(KeyCode::Enter)]);
    feed(&mut c, typed("Bonsoir Marc"));
    snap("reply_footer_chat_line", &mut c);
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(screen.contains(" Enter send · Esc cancel "), "{screen}");
        assert!(!screen.contains("alt-Enter"), "{screen}");
    }

    let mut c = show(StaffRole::Host);
    feed(&mut c, [code(KeyCode::Tab), code(KeyCode::Enter)]);
    let wide = render(&mut c, 160, 48);
    assert!(
        wide.contains(" Enter send · alt-Enter send + mark answered · Esc cancel "),
        "{wide}"
    );
    let narrow = render(&mut c, 80, 24);
    assert!(
        narrow.contains(" Enter send · alt-Enter + answered · Esc cancel "),
        "{narrow}"
    );
}

#[test]
fn the_footer_leaves_the_chat_panes_own_note_alone() {
    // Replying to a question from a scrolled-back chat: the border's right
    // says "paused · G follows" or "2 new ↓ G"; the keys shorten to fit
    // left of it.
    let mut c = show(StaffRole::Host);
    select_in_chat(&mut c, 4);
    feed(&mut c, [code(KeyCode::Enter)]);
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        let border = screen
            .lines()
            .find(|l| l.starts_with("\"└"))
            .expect("the chat's bottom border");
        assert!(
            border.contains("paused · G follows") || border.contains(" new ↓ G "),
            "{border}"
        );
        assert!(border.contains("alt-Enter"), "{border}");
    }
    snap("reply_footer_scrolled_back", &mut c);
}

#[test]
fn the_second_send_key_is_rebindable_and_the_footer_follows() {
    let overrides = BTreeMap::from([
        ("ctrl-s".to_string(), "reply_answered".to_string()),
        ("alt-enter".to_string(), "none".to_string()),
    ]);
    let (keymap, warnings) = Keymap::with_overrides(&overrides);
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut c = show(StaffRole::Host);
    c.keymap = keymap;
    feed(&mut c, [code(KeyCode::Tab), code(KeyCode::Enter)]);
    feed(&mut c, typed("Oui"));
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("ctrl-s send + mark answered"), "{screen}");
    assert!(!screen.contains("alt-Enter"), "{screen}");
    let reply = feed(&mut c, [ctrl_s()]);
    let mark = feed(&mut c, [ack(sent_id(&reply))]);
    assert_eq!(
        commands(&mark),
        [Command::MarkAnswered {
            message_id: MessageId(2)
        }]
    );
}

fn ctrl_s() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
}
