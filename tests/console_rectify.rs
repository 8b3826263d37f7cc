//! Issue 9, "Rectify" in the console: a `viewer_rectified` event relabels
//! the viewer's lines everywhere the console shows them (feed, questions,
//! the answers addressed to them) and nobody else's, and the screen shows
//! the corrected name (snapshots at 80×24 and 160×48).

mod support;

use crossterm::event::KeyCode;
use regie::console::state::Msg;
use regie::protocol::*;
use support::console::*;

fn rectified(seq: Seq, viewer: &str, first_name: &str) -> Msg {
    Msg::Frame(event(
        seq,
        NOON + 30 * 60_000,
        Event::ViewerRectified {
            viewer_id: ViewerId(viewer.into()),
            first_name: Some(first_name.into()),
            pseudonym: None,
            by: actor("Sam", StaffRole::Support),
        },
    ))
}

fn first_name(author: &Author) -> &str {
    match author {
        Author::Viewer { first_name, .. } => first_name,
        Author::Staff { name, .. } => name,
    }
}

#[test]
fn a_rectification_relabels_the_viewers_lines_and_the_answers_to_them() {
    let mut c = show(StaffRole::Host);
    let seq = c.seq + 1;
    let before = c
        .feed
        .get(MessageId(2))
        .expect("julie's question")
        .revision();
    feed(&mut c, [rectified(seq, "v-julie-1", "Juliette")]);

    let q = c.feed.message(MessageId(2)).expect("julie's question");
    assert_eq!(first_name(&q.author), "Juliette");
    assert_ne!(
        c.feed
            .get(MessageId(2))
            .map(regie::console::feed::FeedEntry::revision),
        Some(before),
        "a relabelled line is wrapped again"
    );
    let answer = c.feed.message(MessageId(10)).expect("the host's answer");
    assert_eq!(
        answer.reply_to.as_ref().map(|r| r.first_name.as_str()),
        Some("Juliette")
    );
    let queued = c.questions.iter().find(|m| m.id == MessageId(2));
    assert_eq!(queued.map(|m| first_name(&m.author)), Some("Juliette"));
    // The other Julie is somebody else.
    let other = c.feed.message(MessageId(4)).expect("the other julie");
    assert_eq!(first_name(&other.author), "Julie");
}

#[test]
fn the_feed_shows_the_corrected_name() {
    let mut c = show(StaffRole::Host);
    let seq = c.seq + 1;
    feed(&mut c, [rectified(seq, "v-marc", "Marc-Antoine")]);
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(&mut c, w, h);
        // The name column may cut it short on a narrow screen.
        assert!(screen.contains("Marc-Ant"), "{screen}");
        assert!(!screen.contains(" Marc "), "{screen}");
        insta::assert_snapshot!(format!("rectified_feed_{w}x{h}"), screen);
    }
}

/// Marc's card as the hub answers it (the show fixture's Marc).
fn marc_card() -> ViewerCard {
    ViewerCard {
        viewer_id: ViewerId("v-marc".into()),
        first_name: "Marc".into(),
        pseudonym: "marc".into(),
        first_seen: NOON,
        recent: vec![ChatEntry::Message(message(
            1,
            NOON,
            viewer("v-marc", "Marc", "marc"),
            "Bonsoir tout le monde !",
        ))],
        sanctions: vec![],
        contact: None,
        consents: vec![],
        notes: vec![],
    }
}

/// `role` opens Marc's card from the feed and the hub answers it.
fn with_marcs_card(role: StaffRole) -> regie::console::state::Console {
    let mut c = show(role);
    // From the newest line up to Marc's "comment number 4" (id 15).
    let effects = feed(&mut c, [key('k'), key('k'), key('k'), key('k'), key('v')]);
    let [regie::console::state::Effect::Send(request)] = effects.as_slice() else {
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

fn popup_is_form(c: &regie::console::state::Console) -> bool {
    matches!(&c.popup, Some(regie::console::state::Popup::RectifyForm(_)))
}

#[test]
fn support_rectifies_a_viewer_from_the_card_through_a_form_and_a_confirmation() {
    let mut c = with_marcs_card(StaffRole::Support);
    assert!(
        render(&mut c, 160, 48).contains("ctrl-n rectify"),
        "the card offers it"
    );
    let effects = feed(&mut c, [ctrl('n')]);
    assert!(effects.is_empty(), "the form sends nothing yet");
    assert!(popup_is_form(&c), "the form opens, got {:?}", c.popup);

    // Nothing typed: nothing to change, said in the form.
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert!(effects.is_empty());
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("type a new first name"), "{screen}");
    // The name it already has is no correction either.
    let effects = feed(
        &mut c,
        typed("Marc").into_iter().chain([code(KeyCode::Enter)]),
    );
    assert!(effects.is_empty());
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("first name: already Marc"), "{screen}");
    feed(&mut c, (0..4).map(|_| code(KeyCode::Backspace)));

    feed(&mut c, typed("Marc-Antoine"));
    let screen = render(&mut c, 80, 24);
    assert!(
        !screen.contains("already"),
        "the error went once fixed:\n{screen}"
    );
    insta::assert_snapshot!("rectify_form_80x24", screen);

    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert!(effects.is_empty(), "Enter asks to confirm first");
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("Marc → Marc-Antoine"), "{screen}");
    assert!(screen.contains("pseudonym: unchanged"), "{screen}");
    insta::assert_snapshot!("rectify_confirm_80x24", screen);

    // No goes back to the fields as typed; yes sends.
    feed(&mut c, [key('n')]);
    assert!(popup_is_form(&c));
    feed(&mut c, [code(KeyCode::Tab)]);
    feed(&mut c, typed("marco"));
    feed(&mut c, [code(KeyCode::Enter)]);
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(
        commands(&effects),
        [Command::RectifyViewer {
            viewer_id: ViewerId("v-marc".into()),
            first_name: Some("Marc-Antoine".into()),
            pseudonym: Some("marco".into()),
        }]
    );
    assert!(c.popup.is_none(), "{:?}", c.popup);

    // The hub's refusal is shown, naming what was refused.
    let [regie::console::state::Effect::Send(sent)] = effects.as_slice() else {
        panic!("one command")
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Error(ErrorFrame::new(
            Some(sent.id.clone()),
            ErrorCode::NotFound,
            "no viewer v-marc in this live",
        )))],
    );
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("no viewer v-marc in this live"), "{screen}");
    assert!(screen.contains("rectify Marc"), "{screen}");
}

#[test]
fn a_role_that_may_not_rectify_gets_no_rectify_key() {
    for role in [StaffRole::Host, StaffRole::Moderator] {
        let mut c = with_marcs_card(role);
        assert!(!render(&mut c, 160, 48).contains("rectify"), "{role}");
        let effects = feed(&mut c, [ctrl('n')]);
        assert!(effects.is_empty(), "{role}");
        assert!(!popup_is_form(&c), "{role}");
    }
    let mut c = with_marcs_card(StaffRole::Admin);
    feed(&mut c, [ctrl('n')]);
    assert!(popup_is_form(&c), "admin may");
}

fn winner(id: &str, first_name: &str, pseudonym: &str) -> Winner {
    Winner {
        viewer_id: ViewerId(id.into()),
        first_name: first_name.into(),
        pseudonym: pseudonym.into(),
    }
}

/// A draw both Julies win, a re-draw without the first, and her ban.
fn draws_and_a_ban(at: Millis) -> Vec<Event> {
    let draw = DrawView {
        id: 1,
        prize: "€50 voucher".into(),
        winners: 2,
        opened_at: at,
        closes_at: at,
        rules: "No purchase necessary.".into(),
        commitment: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        redraw_of: None,
        replaces: None,
        by: actor("Claire", StaffRole::Host),
    };
    let winners = vec![
        winner("v-julie-1", "Julie", "lune"),
        winner("v-julie-2", "Julie", "soleil"),
    ];
    let redraw = DrawView {
        id: 2,
        winners: 1,
        redraw_of: Some(1),
        replaces: Some(Box::new(Replacement {
            kept: vec![winners[1].clone()],
            excluded: vec![winners[0].clone()],
            reason: "injoignable".into(),
        })),
        ..draw.clone()
    };
    vec![
        Event::InstantWinOpened { draw },
        Event::InstantWinDrawn {
            draw_id: 1,
            seed: "00".repeat(32),
            entrants: 3,
            entrants_hash: "11".repeat(32),
            winners: winners.clone(),
            by: Some(actor("Claire", StaffRole::Host)),
        },
        Event::InstantWinOpened { draw: redraw },
        Event::ViewerBanned {
            viewer_id: ViewerId("v-julie-1".into()),
            reason: "spam".into(),
            by: actor("Inès B.", StaffRole::Moderator),
        },
    ]
}

/// What is already written names the viewer too: the staff-activity lines
/// (a ban, a draw's winners, a re-draw's excluded) and the winners on the
/// now-on-screen card and in past games. The other Julie, of the same
/// first name, keeps hers.
#[test]
fn a_rectification_relabels_staff_activity_and_announced_winners() {
    let mut c = show(StaffRole::Host);
    let at = NOON + 30 * 60_000;
    let seq = c.seq;
    let frames = draws_and_a_ban(at);
    let n = frames.len() as u64;
    feed(
        &mut c,
        frames
            .into_iter()
            .zip(seq + 1..)
            .map(|(e, s)| Msg::Frame(event(s, at, e))),
    );
    let lines = |c: &regie::console::state::Console| -> Vec<String> {
        c.activity.iter().map(|a| a.what.clone()).collect()
    };
    assert!(
        lines(&c).contains(&"banned Julie".to_string()),
        "{:?}",
        lines(&c)
    );

    let next = seq + n + 1;
    feed(
        &mut c,
        [Msg::Frame(event(
            next,
            at,
            Event::ViewerRectified {
                viewer_id: ViewerId("v-julie-1".into()),
                first_name: Some("Juliette".into()),
                pseudonym: Some("lunaire".into()),
                by: actor("Sam", StaffRole::Support),
            },
        ))],
    );
    let after = lines(&c);
    for line in [
        "instant win #1 drawn: Juliette~lunaire, Julie~soleil (3 entries)",
        "re-draw #2 of instant win #1: excluded Juliette~lunaire (injoignable)",
        "banned Juliette",
        "hid Marc's message #7",
    ] {
        assert!(after.contains(&line.to_string()), "{line:?} in {after:?}");
    }
    assert!(
        after
            .iter()
            .any(|l| l.starts_with("pinned Juliette's message")),
        "the show's earlier lines too: {after:?}"
    );
    let named: Vec<&Winner> = c
        .games
        .draws
        .iter()
        .flat_map(|d| {
            let result = d.result.iter().flat_map(|r| r.winners.iter());
            let replaced = d
                .draw
                .replaces
                .iter()
                .flat_map(|r| r.kept.iter().chain(&r.excluded));
            result.chain(replaced)
        })
        .collect();
    assert_eq!(named.len(), 4);
    for w in named {
        let expected = if w.viewer_id.0 == "v-julie-1" {
            ("Juliette", "lunaire")
        } else {
            ("Julie", "soleil")
        };
        assert_eq!((w.first_name.as_str(), w.pseudonym.as_str()), expected);
    }
    feed(&mut c, [key('L')]);
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("Juliette~lunaire"), "past games:\n{screen}");
    assert!(!screen.contains("Julie~lune"), "past games:\n{screen}");
}

/// The activity a welcome's snapshot carries (from the audit log, by id)
/// names viewers this console holds; a later rectification relabels it too.
#[test]
fn activity_from_the_snapshot_is_relabelled_too() {
    let mut c = console(StaffRole::Support);
    let julie = || viewer("v-julie-1", "Julie", "lune");
    let by = Some(actor("Inès B.", StaffRole::Moderator));
    let snapshot = Snapshot {
        recent: vec![ChatEntry::Message(message(2, NOON, julie(), "size 38?"))],
        activity: vec![
            StaffAction {
                at: NOON + 60_000,
                by: by.clone(),
                action: "hide".into(),
                target: "#2".into(),
            },
            StaffAction {
                at: NOON + 120_000,
                by,
                action: "ban".into(),
                target: "v-julie-1".into(),
            },
        ],
        ..Snapshot::default()
    };
    feed(
        &mut c,
        [Msg::Frame(welcome(StaffRole::Support, "Sam", 2, snapshot))],
    );
    let lines = |c: &regie::console::state::Console| -> Vec<String> {
        c.activity.iter().map(|a| a.what.clone()).collect()
    };
    assert_eq!(lines(&c), ["hid Julie's message #2", "banned Julie"]);
    feed(&mut c, [rectified(3, "v-julie-1", "Juliette")]);
    assert_eq!(
        lines(&c)[..2],
        ["hid Juliette's message #2", "banned Juliette"]
    );
}

/// An open card of the viewer shows the corrected names at once, and so
/// does a rectify form about them (its confirmation closes: it named the
/// change from the old names).
#[test]
fn an_open_card_or_form_of_the_viewer_takes_the_correction() {
    let mut c = with_marcs_card(StaffRole::Support);
    let next = c.seq + 1;
    feed(&mut c, [rectified(next, "v-marc", "Marc-Antoine")]);
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("Marc-Antoine"), "{screen}");
    let Some(regie::console::state::Popup::ViewerCard(view)) = &c.popup else {
        panic!("the card stays open: {:?}", c.popup)
    };
    let card = view.card.as_ref().expect("the card");
    assert_eq!(card.first_name, "Marc-Antoine");
    assert!(card.recent.iter().all(|e| match e {
        ChatEntry::Message(m) => first_name(&m.author) == "Marc-Antoine",
        ChatEntry::Redacted(_) => true,
    }));

    feed(&mut c, [ctrl('n')]);
    feed(
        &mut c,
        typed("marco").into_iter().chain([code(KeyCode::Enter)]),
    );
    let next = c.seq + 1;
    feed(&mut c, [rectified(next, "v-marc", "Marcus")]);
    let Some(regie::console::state::Popup::RectifyForm(form)) = &c.popup else {
        panic!("the form stays open: {:?}", c.popup)
    };
    assert_eq!(form.first_name_now, "Marcus");
    assert!(form.confirming.is_none(), "back to the fields");
}
