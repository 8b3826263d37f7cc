//! The hold queue in the console (issue 10): each held message shows why
//! it is held (the rule, or the kind of personal data with its value
//! masked) and for how long; `space` marks items, `A` approves every marked
//! one (one `release` each), `d` denies the selected one.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Console, Msg, Pane};
use regie::protocol::{ChatMessage, Command, Event, HoldReason, MessageId, StaffRole, Visibility};
use support::console::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn held(id: u64, at_min: i64, name: &str, text: &str, reason: HoldReason) -> ChatMessage {
    ChatMessage {
        // A rule's hold names the rule, by the id the rules editor lists.
        visibility: Visibility::Held {
            reason,
            rule_id: (reason == HoldReason::BlockedTerm).then_some(12),
        },
        ..message(
            id,
            NOON + at_min * MIN,
            viewer(&format!("v-{name}"), name, name),
            text,
        )
    }
}

/// The show, with two more held messages after the snapshot's phone number
/// (#6, held since 12:05): a blocked term and an e-mail address.
fn with_queue() -> Console {
    let mut c = show(StaffRole::Moderator);
    let more = [
        held(
            30,
            24,
            "Paul",
            "quel arnaqueur ce vendeur",
            HoldReason::BlockedTerm,
        ),
        held(
            31,
            28,
            "Léa",
            "écrivez-moi à l•••@e•••.fr merci",
            HoldReason::PersonalData,
        ),
    ];
    let frames = more
        .into_iter()
        .zip(24..)
        .map(|(message, seq)| Msg::Frame(event(seq, message.at, Event::Message { message })));
    feed(&mut c, frames);
    assert_eq!(c.held.len(), 3, "the queue: {:?}", c.held);
    c
}

fn focus_hold(c: &mut Console) {
    for _ in 0..8 {
        if c.focus == Pane::Hold {
            return;
        }
        feed(c, [code(KeyCode::Tab)]);
    }
    panic!("tab never reached the hold queue");
}

#[test]
fn the_hold_queue_shows_why_each_message_is_held_and_the_marks() {
    let mut c = with_queue();
    focus_hold(&mut c);
    // Mark the first and the third, leaving the selection on the third.
    feed(&mut c, [key(' '), key('j'), key('j'), key(' ')]);
    assert_eq!(
        c.hold_marks.iter().copied().collect::<Vec<_>>(),
        [MessageId(6), MessageId(31)]
    );
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        insta::assert_snapshot!(format!("hold_queue_{w}x{h}"), screen);
    }
    let wide = render(&mut c, 160, 48);
    for reason in [
        "phone +33 6•• •• •• 78",
        "rule #12 term",
        "e-mail l•••@e•••.fr",
    ] {
        assert!(wide.contains(reason), "{reason} missing:\n{wide}");
    }
    assert!(wide.contains("Hold queue 3 · 2 marked"), "{wide}");
    assert!(
        wide.contains("d deny"),
        "the hint names the hold keys: {wide}"
    );
}

#[test]
fn approve_marked_sends_one_release_per_marked_message_and_clears_the_marks() {
    let mut c = with_queue();
    focus_hold(&mut c);
    feed(&mut c, [key(' '), key('j'), key('j'), key(' ')]);
    let sent = commands(&feed(&mut c, [key('A')]));
    assert_eq!(
        sent,
        [
            Command::Release {
                message_id: MessageId(6)
            },
            Command::Release {
                message_id: MessageId(31)
            },
        ]
    );
    assert!(c.hold_marks.is_empty());
    // Nothing marked: nothing sent, and the console says how to mark.
    assert_eq!(commands(&feed(&mut c, [key('A')])), []);
    // Space toggles: twice is no mark.
    feed(&mut c, [key(' '), key(' ')]);
    assert!(c.hold_marks.is_empty());
}

#[test]
fn deny_sends_deny_for_a_held_message_only() {
    let mut c = with_queue();
    focus_hold(&mut c);
    feed(&mut c, [key('j')]);
    let sent = commands(&feed(&mut c, [key('d')]));
    assert_eq!(
        sent,
        [Command::Deny {
            message_id: MessageId(30),
            reason: None,
        }]
    );
    // In the chat, a visible line is not denied.
    while c.focus != Pane::Feed {
        feed(&mut c, [code(KeyCode::Tab)]);
    }
    feed(&mut c, [key('g')]);
    assert_eq!(commands(&feed(&mut c, [key('d')])), []);
    // A host may not deny: the key does nothing.
    let mut host = with_queue();
    host.session.role = StaffRole::Host;
    assert_eq!(commands(&feed(&mut host, [key('d')])), []);
}
