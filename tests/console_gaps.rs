//! Console behaviour that had no test (gaps 5 and 10 of the test-trust
//! issue): an open viewer card forgets a redacted message, `o` orders the
//! questions, and `PgUp` / `PgDn` move a page in the feed and the list panes.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Console, Effect, Msg, Popup};
use regie::protocol::{
    ChatEntry, ChatMessage, Command, Event, MaskedContact, MessageId, Snapshot, StaffRole,
    Tombstone, ViewerCard, ViewerId,
};
use support::console::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

// ── gap 5: an open viewer card ──────────────────────────────────────────

/// Marc's three messages in the show fixture, newest first, as the hub's
/// card lists them.
fn marc_card() -> ViewerCard {
    let marc = || viewer("v-marc", "Marc", "marc");
    ViewerCard {
        viewer_id: ViewerId("v-marc".into()),
        first_name: "Marc".into(),
        pseudonym: "marc".into(),
        first_seen: NOON,
        recent: vec![
            ChatEntry::Message(message(
                15,
                NOON + 15 * MIN,
                marc(),
                "comment number 4 about the collection",
            )),
            ChatEntry::Message(message(
                13,
                NOON + 13 * MIN,
                marc(),
                "comment number 2 about the collection",
            )),
            ChatEntry::Message(message(1, NOON, marc(), "Bonsoir tout le monde !")),
        ],
        sanctions: vec![],
        contact: Some(MaskedContact {
            phone: Some("+33 6 •• •• •• 78".into()),
            email: Some("m•••@e•••.fr".into()),
        }),
        consents: vec![],
        notes: vec![],
    }
}

/// Support opens Marc's card from the feed and the hub answers it.
fn support_with_marcs_card() -> Console {
    let mut c = show(StaffRole::Support);
    // From the newest line up to Marc's "comment number 4" (id 15).
    let effects = feed(&mut c, [key('k'), key('k'), key('k'), key('k'), key('v')]);
    let [Effect::Send(request)] = effects.as_slice() else {
        panic!("one card request, got {effects:?}")
    };
    assert_eq!(
        request.command,
        Command::ViewerCard {
            viewer_id: ViewerId("v-marc".into())
        }
    );
    feed(
        &mut c,
        [Msg::Frame(regie::protocol::ServerFrame::ViewerCard {
            id: request.id.clone(),
            card: Box::new(marc_card()),
        })],
    );
    c
}

fn open_card(c: &Console) -> &ViewerCard {
    match &c.popup {
        Some(Popup::ViewerCard(view)) => view.card.as_deref().expect("the card arrived"),
        other => panic!("the viewer card is open, got {other:?}"),
    }
}

#[test]
fn an_open_viewer_card_drops_a_message_redacted_meanwhile() {
    let mut c = support_with_marcs_card();
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(
            screen.contains("comment number 2"),
            "the card shows it before ({w}x{h}):\n{screen}"
        );
    }

    // Redacted by someone else while the card is open.
    let next = c.seq + 1;
    feed(
        &mut c,
        [Msg::Frame(event(
            next,
            NOON + 29 * MIN,
            Event::Redacted {
                tombstone: Tombstone {
                    message_id: MessageId(13),
                    posted_at: NOON + 13 * MIN,
                    redacted_at: NOON + 29 * MIN,
                    author_id: Some(ViewerId("v-marc".into())),
                    reason: "at the viewer's request".into(),
                    by: actor("Alex", StaffRole::Admin),
                },
            },
        ))],
    );

    // The card holds the tombstone in its place, and the others as they were.
    let card = open_card(&c);
    let ids: Vec<(u64, bool)> = card
        .recent
        .iter()
        .map(|e| (e.id().0, matches!(e, ChatEntry::Redacted(_))))
        .collect();
    assert_eq!(ids, [(15, false), (13, true), (1, false)]);
    let json = serde_json::to_string(card).expect("serialise");
    assert!(!json.contains("comment number 2"), "{json}");

    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(!screen.contains("comment number 2"), "{w}x{h}:\n{screen}");
        assert!(screen.contains("comment number 4"), "{w}x{h}:\n{screen}");
        insta::assert_snapshot!(format!("card_after_redaction_{w}x{h}"), screen);
    }
}

#[test]
fn a_card_of_another_viewer_is_untouched_by_a_redaction() {
    let mut c = support_with_marcs_card();
    let before = open_card(&c).clone();
    let next = c.seq + 1;
    // Julie's question (id 2) is redacted: Marc's card has nothing of hers.
    feed(
        &mut c,
        [Msg::Frame(event(
            next,
            NOON + 29 * MIN,
            Event::Redacted {
                tombstone: Tombstone {
                    message_id: MessageId(2),
                    posted_at: NOON + MIN,
                    redacted_at: NOON + 29 * MIN,
                    author_id: Some(ViewerId("v-julie-1".into())),
                    reason: "at the viewer's request".into(),
                    by: actor("Alex", StaffRole::Admin),
                },
            },
        ))],
    );
    assert_eq!(open_card(&c), &before);
}

// ── gap 10: `o` and PgUp / PgDn ─────────────────────────────────────────

/// A host console on a show of `lines` chat lines (ids 1…, a minute
/// apart) of which the first `questions` are open questions.
fn long_show(lines: u64, questions: u64) -> Console {
    let mut c = console(StaffRole::Host);
    let julie = || viewer("v-julie", "Julie", "lune");
    let recent: Vec<ChatEntry> = (1..=lines)
        .map(|i| {
            let at = NOON + i64::try_from(i).expect("small") * MIN;
            ChatEntry::Message(if i <= questions {
                question(i, at, julie(), &format!("question {i:02} about sizes"))
            } else {
                message(i, at, julie(), &format!("line {i:02} of the chat"))
            })
        })
        .collect();
    let open_questions: Vec<ChatMessage> = recent
        .iter()
        .filter_map(|e| match e {
            ChatEntry::Message(m) if m.question => Some(m.clone()),
            ChatEntry::Message(_) | ChatEntry::Redacted(_) => None,
        })
        .collect();
    let snapshot = Snapshot {
        open_questions,
        recent,
        ..Snapshot::default()
    };
    feed(
        &mut c,
        [
            Msg::Frame(welcome(StaffRole::Host, "Claire", lines, snapshot)),
            Msg::Connection(regie::console::state::ConnStatus::Connected),
        ],
    );
    c
}

fn page_up() -> Msg {
    code(KeyCode::PageUp)
}

fn page_down() -> Msg {
    code(KeyCode::PageDown)
}

fn target_id(c: &Console) -> Option<u64> {
    c.target().map(|m| m.id.0)
}

/// Rows of chat inside the feed's border, worked out by hand from the
/// layout: the screen less the input line, the status line and the
/// feed's two border rows.
fn feed_rows(height: u16) -> u64 {
    u64::from(height - 4)
}

#[test]
fn page_keys_move_the_feed_selection_a_page_less_one_row() {
    for (w, h) in SIZES {
        let mut c = long_show(60, 0);
        render(&mut c, w, h);
        let page = feed_rows(h) - 1;
        // PgUp leaves follow mode a page above the newest line (60).
        feed(&mut c, [page_up()]);
        // Index 60 − page of the 60 lines: id 61 − page.
        let first = 61 - page;
        assert_eq!(target_id(&c), Some(first), "{w}x{h}");
        let screen = render(&mut c, w, h);
        assert!(
            screen.contains(&format!("line {first:02} of the chat")),
            "the selected line is on screen ({w}x{h}):\n{screen}"
        );
        // Paging stops at the oldest line.
        for _ in 0..5 {
            feed(&mut c, [page_up()]);
        }
        assert_eq!(target_id(&c), Some(1), "{w}x{h}");
        let screen = render(&mut c, w, h);
        assert!(screen.contains("line 01 of the chat"), "{w}x{h}:\n{screen}");
        feed(&mut c, [page_down()]);
        assert_eq!(target_id(&c), Some(1 + page), "{w}x{h}");
        // Past the newest line, PgDn follows the feed again.
        for _ in 0..5 {
            feed(&mut c, [page_down()]);
        }
        assert_eq!(target_id(&c), None, "following again at {w}x{h}");
        assert!(c.scroll.follow, "{w}x{h}");
    }
}

#[test]
fn o_orders_the_questions_and_page_keys_move_in_that_order() {
    for (w, h) in SIZES {
        let mut c = long_show(40, 30);
        render(&mut c, w, h);
        let page = feed_rows(h) - 1;
        feed(&mut c, [code(KeyCode::Tab)]);
        // Oldest first: the first row is question 1, then 2, …
        let order: Vec<u64> = c.questions_in_order().iter().map(|m| m.id.0).collect();
        assert_eq!(order, (1..=30).collect::<Vec<_>>());
        assert_eq!(target_id(&c), Some(1), "{w}x{h}");
        let screen = render(&mut c, w, h);
        // The Questions pane's row (the chat shows "Julie question …").
        let row_of = |screen: &str, id: u64| {
            screen
                .lines()
                .position(|l| l.contains(&format!("Julie: question {id:02}")))
        };
        assert!(
            row_of(&screen, 1) < row_of(&screen, 2),
            "oldest on top ({w}x{h}):\n{screen}"
        );

        // PgDn moves a page (clamped to the list), PgUp back.
        feed(&mut c, [page_down()]);
        assert_eq!(target_id(&c), Some((1 + page).min(30)), "{w}x{h}");
        feed(&mut c, [page_down()]);
        assert_eq!(target_id(&c), Some(30), "the last question ({w}x{h})");
        feed(&mut c, [page_up()]);
        assert_eq!(target_id(&c), Some(30 - page.min(29)), "{w}x{h}");
        let screen = render(&mut c, w, h);
        assert!(
            row_of(&screen, 30 - page.min(29)).is_some(),
            "the selected question is on screen ({w}x{h}):\n{screen}"
        );

        // `o`: newest first; the selection starts on the newest.
        feed(&mut c, [key('o')]);
        let order: Vec<u64> = c.questions_in_order().iter().map(|m| m.id.0).collect();
        assert_eq!(order, (1..=30).rev().collect::<Vec<_>>());
        assert_eq!(target_id(&c), Some(30), "{w}x{h}");
        let screen = render(&mut c, w, h);
        assert!(
            row_of(&screen, 30) < row_of(&screen, 29),
            "newest on top ({w}x{h}):\n{screen}"
        );
        // PgDn goes back in time now.
        feed(&mut c, [page_down()]);
        assert_eq!(target_id(&c), Some(30 - page.min(29)), "{w}x{h}");
        // `o` again: oldest first, from the oldest.
        feed(&mut c, [key('o')]);
        assert_eq!(target_id(&c), Some(1), "{w}x{h}");
    }
}
