//! Moderation notes in the console (issue 10): the viewer card lists the
//! staff's notes (sanitised, with who and when), and `K` on the card opens
//! a one-line prompt that sends `note_add`, for the roles that may.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Console, Effect, Msg, Popup};
use regie::protocol::*;
use support::console::*;

/// Opens the card of Inès (the line `k` selects) and answers it with `notes`.
fn card_with(c: &mut Console, notes: Vec<ModNote>) {
    feed(c, [key('k')]);
    let effects = feed(c, [key('v')]);
    let [Effect::Send(frame)] = effects.as_slice() else {
        panic!("expected the card request, got {effects:?}")
    };
    let card = ViewerCard {
        viewer_id: ViewerId("v-ines".into()),
        first_name: "Inès".into(),
        pseudonym: "ines".into(),
        first_seen: NOON,
        recent: vec![],
        sanctions: vec![],
        contact: None,
        consents: vec![],
        notes,
    };
    feed(
        c,
        [Msg::Frame(ServerFrame::ViewerCard {
            id: frame.id.clone(),
            card: Box::new(card),
        })],
    );
}

#[test]
fn the_card_lists_the_notes_with_who_and_when() {
    let mut c = show(StaffRole::Moderator);
    card_with(
        &mut c,
        vec![
            ModNote {
                at: NOON + 3 * MIN,
                by: actor("Karim", StaffRole::Moderator),
                text: "warned twice about links".into(),
            },
            ModNote {
                at: NOON + 9 * MIN,
                by: actor("Sam", StaffRole::Support),
                text: "asked \u{1b}[2Jfor an export".into(),
            },
        ],
    );
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("notes      12:03 Karim (moderator): warned twice about links"),
        "{screen}"
    );
    assert!(
        screen.contains("12:09 Sam (support): asked for an export"),
        "{screen}"
    );
    assert!(!screen.contains('\u{1b}'));
    assert!(
        screen.contains("K note"),
        "the card names the key: {screen}"
    );
}

#[test]
fn k_on_the_card_asks_a_line_and_sends_note_add() {
    let mut c = show(StaffRole::Moderator);
    card_with(&mut c, vec![]);
    feed(&mut c, [key('K')]);
    assert!(matches!(c.popup, Some(Popup::Prompt(_))), "{:?}", c.popup);
    assert!(render(&mut c, 80, 24).contains("A note on Inès"));
    // Empty is refused and the prompt stays.
    assert!(commands(&feed(&mut c, [code(KeyCode::Enter)])).is_empty());
    assert!(c.popup.is_some());
    feed(&mut c, typed("spams links"));
    let sent = commands(&feed(&mut c, [code(KeyCode::Enter)]));
    assert_eq!(
        sent,
        [Command::NoteAdd {
            viewer_id: ViewerId("v-ines".into()),
            text: "spams links".into(),
        }]
    );
    // A host sees the card but may not note: K does nothing there.
    let mut host = show(StaffRole::Host);
    card_with(&mut host, vec![]);
    feed(&mut host, [key('K')]);
    assert!(matches!(host.popup, Some(Popup::ViewerCard(_))));
}
