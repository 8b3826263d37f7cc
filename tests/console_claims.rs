//! The console's claims, viewer flags and staff messages (issue 12): `c`
//! claims, releases or takes over; a colleague's claim shows on the line
//! ("Claire is answering") and warns before a reply or a hold action; `f`
//! flags a viewer (colour, note), whose lines then carry the colour and
//! whose card the note; `i` and `I` post as staff and announce. Update
//! tests, and `TestBackend` snapshots at 80×24 and 160×48.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Console, Effect, Msg, Popup};
use regie::protocol::*;
use support::console::*;

fn snap(name: &str, state: &mut Console) {
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

/// Feeds the next event of the show, numbered after the last one.
fn next(c: &mut Console, at: Millis, e: Event) {
    let seq = c.seq + 1;
    feed(c, [Msg::Frame(event(seq, at, e))]);
}

fn claimed(id: u64, by: &str, role: StaffRole) -> Event {
    Event::Claimed {
        message_id: MessageId(id),
        by: actor(by, role),
        until: NOON + 32 * MIN,
    }
}

/// The show's Questions pane focused, with Julie~soleil's question (#4)
/// selected.
fn on_question_4(c: &mut Console) {
    feed(c, [code(KeyCode::Tab), key('j')]);
    assert_eq!(c.question_sel, Some(MessageId(4)));
}

fn flag_ines() -> Event {
    Event::ViewerFlagged {
        viewer_id: ViewerId("v-ines".into()),
        colour: FlagColour::Orange,
        note: "asks for a discount code every minute".into(),
        until: NOON + 40 * MIN,
        by: actor("Inès B.", StaffRole::Moderator),
    }
}

#[test]
fn a_colleagues_claim_shows_on_the_question_and_warns_before_a_reply() {
    let mut c = show(StaffRole::Admin);
    next(
        &mut c,
        NOON + 30 * MIN,
        claimed(4, "Claire", StaffRole::Host),
    );
    assert!(render(&mut c, 160, 48).contains("Claire is answering"));
    snap("claimed_question", &mut c);

    // Alex opens the reply line anyway: warned, and the reply still goes.
    on_question_4(&mut c);
    feed(&mut c, [code(KeyCode::Enter)]);
    assert!(c.compose.is_some(), "the reply line opens");
    let note = c.note.clone().expect("a warning");
    assert!(note.error, "{note:?}");
    assert_eq!(
        note.text,
        "Claire is answering Julie's message #4; your reply goes out too"
    );
    snap("claim_warning", &mut c);
    feed(&mut c, typed("free from 50 euros"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::Answer {
            message_id: MessageId(4),
            text: "free from 50 euros".into(),
            also: Vec::new(),
        }]
    );

    // The claim ends: the line says nothing more.
    next(
        &mut c,
        NOON + 31 * MIN,
        Event::ClaimEnded {
            message_id: MessageId(4),
            by: Some(actor("Claire", StaffRole::Host)),
            reason: ClaimEndReason::Released,
        },
    );
    assert!(!render(&mut c, 160, 48).contains("is answering ·"));
}

#[test]
fn c_claims_releases_and_takes_over_and_the_claimer_hears_of_it() {
    let mut c = show(StaffRole::Host);
    on_question_4(&mut c);
    let effects = feed(&mut c, [key('c')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Claim {
            message_id: MessageId(4)
        }]
    );
    next(
        &mut c,
        NOON + 30 * MIN,
        claimed(4, "Claire", StaffRole::Host),
    );
    assert!(render(&mut c, 160, 48).contains("you are answering"));
    // Claire's own claim: `c` lets it go.
    let effects = feed(&mut c, [key('c')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Unclaim {
            message_id: MessageId(4)
        }]
    );
    // Marc takes it over: Claire's console says so.
    next(
        &mut c,
        NOON + 31 * MIN,
        Event::ClaimEnded {
            message_id: MessageId(4),
            by: Some(actor("Marc", StaffRole::Host)),
            reason: ClaimEndReason::Released,
        },
    );
    assert_eq!(
        c.note.as_ref().map(|n| n.text.as_str()),
        Some("Marc took over Julie's message #4")
    );
    next(&mut c, NOON + 31 * MIN, claimed(4, "Marc", StaffRole::Host));
    assert!(render(&mut c, 160, 48).contains("Marc is answering"));
    // Taking it back is a claim, and the pending line says whose it was.
    let effects = feed(&mut c, [key('c')]);
    let [Effect::Send(frame)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        frame.command,
        Command::Claim {
            message_id: MessageId(4)
        }
    );
    assert_eq!(
        c.pending.get(&frame.id).map(|p| p.summary.as_str()),
        Some("take over Marc's claim on Julie's message #4")
    );

    // Only open questions and held messages are claimed.
    feed(&mut c, [code(KeyCode::Tab), code(KeyCode::Tab), key('k')]);
    let effects = feed(&mut c, [key('c')]);
    assert!(commands(&effects).is_empty(), "{effects:?}");
    assert!(c.note.as_ref().is_some_and(|n| n.error));
}

#[test]
fn a_hold_action_on_a_claimed_message_warns_and_goes_ahead() {
    let mut c = show(StaffRole::Moderator);
    next(
        &mut c,
        NOON + 30 * MIN,
        claimed(6, "Marc D.", StaffRole::Moderator),
    );
    // Focus the hold queue: Zoé's held message is selected.
    feed(&mut c, [code(KeyCode::Tab), code(KeyCode::Tab)]);
    assert_eq!(c.held_sel, Some(MessageId(6)));
    assert!(render(&mut c, 160, 48).contains("Marc D. is answering"));
    let effects = feed(&mut c, [key('a')]);
    let [Effect::Send(frame)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        frame.command,
        Command::Release {
            message_id: MessageId(6)
        }
    );
    assert_eq!(
        c.pending.get(&frame.id).map(|p| p.summary.as_str()),
        Some("release Zoé's message #6 (Marc D. was answering it)")
    );
    assert!(
        c.note.as_ref().is_some_and(
            |n| n.error && n.text == "Marc D. is answering Zoé's message #6; going ahead"
        )
    );
}

#[test]
fn the_flag_popup_sends_a_colour_and_a_note() {
    let mut c = show(StaffRole::Moderator);
    // The newest line is Inès's.
    feed(&mut c, [key('k'), key('f')]);
    let Some(Popup::Flag(form)) = &c.popup else {
        panic!("expected the flag popup, got {:?}", c.popup)
    };
    assert_eq!(form.viewer_id, ViewerId("v-ines".into()));
    feed(&mut c, [key('2')]);
    feed(&mut c, typed("asks for codes"));
    snap("flag_popup", &mut c);
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::FlagViewer {
            viewer_id: ViewerId("v-ines".into()),
            colour: FlagColour::Orange,
            note: "asks for codes".into(),
            minutes: Some(10),
        }]
    );
    assert!(c.popup.is_none());
    // Tab goes through the durations: 10 min first, then 30.
    feed(&mut c, [key('f'), code(KeyCode::Tab)]);
    assert!(render(&mut c, 80, 24).contains("30 min"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert!(
        matches!(
            &commands(&effects)[..],
            [Command::FlagViewer {
                minutes: Some(30),
                ..
            }]
        ),
        "{effects:?}"
    );
    // A staff message has no viewer to flag.
    let mut host = show(StaffRole::Host);
    feed(&mut host, [code(KeyCode::Tab), code(KeyCode::Tab)]);
    let effects = feed(&mut host, [key('f')]);
    assert!(effects.is_empty() && host.popup.is_none());
}

#[test]
fn a_flagged_viewers_lines_carry_the_colour_their_card_the_note_until_erased() {
    let mut c = show(StaffRole::Moderator);
    let plain = render(&mut c, 160, 48);
    next(&mut c, NOON + 30 * MIN, flag_ines());
    let flagged = render(&mut c, 160, 48);
    // One mark per line of Inès's on screen: five in the chat (three
    // comments, a compliment, her question), her question in the
    // Questions pane. (The status bar's "● Connected" is there before.)
    let marks = |s: &str| s.matches('●').count();
    assert_eq!(marks(&flagged) - marks(&plain), 6, "{flagged}");
    snap("flagged_viewer_lines", &mut c);
    assert!(c.activity.iter().any(|a| a.what == "flagged Inès orange"));

    // Her card shows the note; `f` again offers to lift the flag.
    feed(&mut c, [key('k'), key('v')]);
    let Some(Popup::ViewerCard(view)) = &c.popup else {
        panic!("expected the card")
    };
    let id = view.request.clone();
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::ViewerCard {
            id,
            card: Box::new(ViewerCard {
                viewer_id: ViewerId("v-ines".into()),
                first_name: "Inès".into(),
                pseudonym: "ines".into(),
                first_seen: NOON,
                recent: vec![],
                sanctions: vec![],
                contact: None,
                consents: vec![],
                notes: vec![],
            }),
        })],
    );
    assert!(
        render(&mut c, 160, 48).contains("asks for a discount code every minute"),
        "the card shows the note"
    );
    snap("flagged_viewer_card", &mut c);
    feed(&mut c, [code(KeyCode::Esc), key('f')]);
    let effects = feed(&mut c, [key('0')]);
    assert_eq!(
        commands(&effects),
        vec![Command::UnflagViewer {
            viewer_id: ViewerId("v-ines".into())
        }]
    );

    // Erased: no mark, no note left anywhere in the console.
    next(
        &mut c,
        NOON + 31 * MIN,
        Event::ViewerErased {
            viewer_id: ViewerId("v-ines".into()),
            reason: "demande RGPD".into(),
            erased_at: NOON + 31 * MIN,
            by: actor("Sam", StaffRole::Support),
        },
    );
    assert!(c.flags.is_empty());
    assert!(!format!("{c:?}").contains("discount code every minute"));
    assert_eq!(marks(&render(&mut c, 160, 48)), marks(&plain));
}

#[test]
fn a_flag_the_hub_lifts_leaves_the_lines() {
    let mut c = show(StaffRole::Host);
    let marks = |c: &mut Console| render(c, 160, 48).matches('●').count();
    let plain = marks(&mut c);
    next(&mut c, NOON + 30 * MIN, flag_ines());
    assert!(marks(&mut c) > plain);
    next(
        &mut c,
        NOON + 40 * MIN,
        Event::ViewerUnflagged {
            viewer_id: ViewerId("v-ines".into()),
            by: None,
        },
    );
    assert_eq!(marks(&mut c), plain);
}

#[test]
fn i_posts_as_staff_and_shift_i_announces() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [key('I')]);
    feed(&mut c, typed("Free delivery tonight from 50 euros!"));
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("announcement › Free delivery"), "{screen}");
    assert!(screen.contains("Enter announce · Esc cancel"), "{screen}");
    snap("announcement_line", &mut c);
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::Say {
            text: "Free delivery tonight from 50 euros!".into(),
            question: false,
            announcement: true,
        }]
    );
    feed(&mut c, [key('i')]);
    feed(&mut c, typed("Bonsoir à toutes !"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::Say {
            text: "Bonsoir à toutes !".into(),
            question: false,
            announcement: false,
        }]
    );
    // Esc leaves the line without sending.
    feed(&mut c, [key('i')]);
    feed(&mut c, typed("oops"));
    assert!(feed(&mut c, [code(KeyCode::Esc)]).is_empty());
    assert!(c.staff_post.is_none());

    // The announcement in the feed, apart from the chat.
    let mut announcement = message(
        30,
        NOON + 30 * MIN,
        staff("Claire", StaffRole::Host),
        "Free delivery tonight from 50 euros!",
    );
    announcement.announcement = true;
    next(
        &mut c,
        NOON + 30 * MIN,
        Event::Message {
            message: announcement,
        },
    );
    assert!(render(&mut c, 160, 48).contains("ANNOUNCEMENT · Free delivery"));
    snap("announcement_in_feed", &mut c);

    // Support does not post in the chat.
    let mut support = show(StaffRole::Support);
    assert!(feed(&mut support, [key('I')]).is_empty());
    assert!(support.staff_post.is_none());
}

#[test]
fn a_moderator_is_told_questions_are_not_theirs_to_claim() {
    let mut c = show(StaffRole::Moderator);
    on_question_4(&mut c);
    assert!(feed(&mut c, [key('c')]).is_empty());
    assert_eq!(
        c.note.as_ref().map(|n| n.text.as_str()),
        Some("Your role does not claim questions.")
    );
    // The held message is theirs.
    feed(&mut c, [code(KeyCode::Tab)]);
    let effects = feed(&mut c, [key('c')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Claim {
            message_id: MessageId(6)
        }]
    );
}
