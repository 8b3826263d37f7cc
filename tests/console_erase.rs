//! Erasing a viewer from the console (issue 9, Art. 17): one key on the
//! viewer card for support and admin, a confirmation naming what goes, and
//! a console that forgets an erased viewer everywhere when the hub says so.

mod support;

use regie::console::popups::confirm::ERASE_REASON;
use regie::console::state::{Console, Effect, Msg, Popup};
use regie::protocol::{
    ChatEntry, Command, Event, MaskedContact, MessageId, ServerFrame, StaffRole, ViewerCard,
    ViewerId,
};
use support::console::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

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

/// `role` opens Marc's card from the feed and the hub answers it.
fn with_marcs_card(role: StaffRole) -> Console {
    let mut c = show(role);
    // From the newest line up to Marc's "comment number 4" (id 15).
    let effects = feed(&mut c, [key('k'), key('k'), key('k'), key('k'), key('v')]);
    let [Effect::Send(request)] = effects.as_slice() else {
        panic!("one card request, got {effects:?}")
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::ViewerCard {
            id: request.id.clone(),
            card: Box::new(marc_card()),
        })],
    );
    c
}

#[test]
fn support_erases_a_viewer_from_the_card_after_a_confirmation_naming_what_goes() {
    let mut c = with_marcs_card(StaffRole::Support);
    assert!(
        render(&mut c, 160, 48).contains("E erase"),
        "the card offers it"
    );
    let effects = feed(&mut c, [key('E')]);
    assert!(
        effects.is_empty(),
        "nothing is sent before the confirmation"
    );
    assert!(
        matches!(&c.popup, Some(Popup::Confirm(_))),
        "a confirmation opens, got {:?}",
        c.popup
    );
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(screen.contains("Erase Marc · marc"), "{w}x{h}:\n{screen}");
        insta::assert_snapshot!(format!("erase_confirm_{w}x{h}"), screen);
    }
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(
        commands(&effects),
        [Command::EraseViewer {
            viewer_id: ViewerId("v-marc".into()),
            reason: ERASE_REASON.into(),
        }]
    );
}

#[test]
fn a_role_that_may_not_erase_gets_no_erase_key() {
    for role in [StaffRole::Host, StaffRole::Moderator] {
        let mut c = with_marcs_card(role);
        assert!(!render(&mut c, 160, 48).contains("erase"), "{role}");
        let effects = feed(&mut c, [key('E')]);
        assert!(effects.is_empty(), "{role}");
        assert!(matches!(&c.popup, Some(Popup::ViewerCard(_))), "{role}");
    }
}

#[test]
fn an_erasure_purges_the_viewer_from_feed_questions_pin_replies_and_card() {
    let mut c = show(StaffRole::Support);
    let julie = ViewerId("v-julie-1".into());
    assert!(c.questions.iter().any(|q| q.id == MessageId(2)));
    let before = render(&mut c, 160, 48);
    assert!(before.contains("green dress"), "{before}");
    let next = c.seq + 1;
    feed(
        &mut c,
        [Msg::Frame(event(
            next,
            NOON + 29 * MIN,
            Event::ViewerErased {
                viewer_id: julie.clone(),
                reason: ERASE_REASON.into(),
                erased_at: NOON + 29 * MIN,
                by: actor("Alex", StaffRole::Admin),
            },
        ))],
    );
    assert!(c.questions.iter().all(|q| q.id != MessageId(2)));
    assert!(c.pinned.as_ref().is_none_or(|p| p.message.is_none()));
    assert!(matches!(
        c.feed.get(MessageId(2)).map(|e| &e.entry),
        Some(ChatEntry::Redacted(t)) if t.author_id.is_none()
    ));
    let reply = c.feed.message(MessageId(10)).expect("the answer stays");
    assert_eq!(
        reply.reply_to.as_ref().map(|r| r.first_name.as_str()),
        Some("")
    );
    // The other Julie is untouched.
    assert!(c.questions.iter().any(|q| q.id == MessageId(4)));
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(!screen.contains("green dress"), "{w}x{h}:\n{screen}");
        assert!(!screen.contains("lune"), "{w}x{h}:\n{screen}");
    }

    // An open card of the erased viewer closes.
    let mut c = with_marcs_card(StaffRole::Support);
    let next = c.seq + 1;
    feed(
        &mut c,
        [Msg::Frame(event(
            next,
            NOON + 29 * MIN,
            Event::ViewerErased {
                viewer_id: ViewerId("v-marc".into()),
                reason: ERASE_REASON.into(),
                erased_at: NOON + 29 * MIN,
                by: actor("Alex", StaffRole::Admin),
            },
        ))],
    );
    assert!(
        c.popup.is_none(),
        "the erased viewer's card closed: {:?}",
        c.popup
    );
    let screen = render(&mut c, 160, 48);
    assert!(!screen.contains("comment number 4"), "{screen}");
    assert!(!screen.contains("Bonsoir tout le monde"), "{screen}");
}
