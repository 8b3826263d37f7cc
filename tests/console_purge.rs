//! The console forgets a redacted message everywhere it kept it (issue 16,
//! item 5): the pinned card, the questions queue and a reply bound to it.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::Msg;
use regie::protocol::{Event, MessageId, StaffRole, Tombstone, ViewerId};
use support::console::*;

#[test]
fn a_redaction_purges_the_pinned_card_the_questions_queue_and_a_bound_reply() {
    let mut c = show(StaffRole::Host);
    let target = MessageId(2);
    let next = c.seq + 1;
    feed(
        &mut c,
        [Msg::Frame(event(
            next,
            NOON + 10 * MIN,
            Event::Pinned {
                message_id: target,
                by: actor("Claire", StaffRole::Host),
            },
        ))],
    );
    assert!(
        c.pinned
            .as_ref()
            .is_some_and(|p| p.message_id == target && p.message.is_some())
    );
    assert!(c.questions.iter().any(|q| q.id == target));
    // A reply to it is being typed.
    feed(&mut c, [code(KeyCode::Tab), code(KeyCode::Enter)]);
    assert_eq!(c.compose.as_ref().map(|k| k.target), Some(target));
    feed(&mut c, typed("yes, it comes in 38"));

    let next = c.seq + 1;
    feed(
        &mut c,
        [Msg::Frame(event(
            next,
            NOON + 11 * MIN,
            Event::Redacted {
                tombstone: Tombstone {
                    message_id: target,
                    posted_at: NOON + MIN,
                    redacted_at: NOON + 11 * MIN,
                    author_id: Some(ViewerId("v-julie-1".into())),
                    reason: "demande RGPD".into(),
                    by: actor("Sam", StaffRole::Support),
                },
            },
        ))],
    );
    // The hub's `unpinned` follows; until then the card keeps no content.
    assert!(
        c.pinned.as_ref().is_none_or(|p| p.message.is_none()),
        "the pinned card lost the message"
    );
    assert!(
        c.questions.iter().all(|q| q.id != target),
        "the question left the queue"
    );
    assert!(
        c.compose.as_ref().is_none_or(|k| k.target != target),
        "no reply stays bound to a redacted message"
    );
    let screen = render(&mut c, 160, 48);
    assert!(!screen.contains("green dress"), "{screen}");
}
