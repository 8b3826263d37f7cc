//! Shield in the console: the key asks to confirm (saying what changes),
//! sends `shield_on` / `shield_off`; the status bar shows SHIELD while the
//! hub says it is on; the ban-recent-terms review list bans and undoes.
//! `TestBackend` snapshots at 80×24 and 160×48.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Console, Msg, Popup};
use regie::protocol::*;
use support::console::*;

fn snap(name: &str, state: &mut Console) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), render(state, 160, 48));
}

fn shield_changed(c: &mut Console, on: bool, slow_mode_secs: u32) {
    let seq = c.seq + 1;
    let e = Event::ShieldChanged {
        on,
        slow_mode_secs,
        by: actor("Inès B.", StaffRole::Moderator),
    };
    feed(c, [Msg::Frame(event(seq, NOON + 30 * MIN, e))]);
}

fn suspect(id: &str, name: &str, uses: u32) -> ShieldSuspect {
    ShieldSuspect {
        viewer_id: ViewerId(id.into()),
        first_name: name.into(),
        pseudonym: format!("#{}", &id[2..6]),
        uses,
        last_at: NOON + 29 * MIN,
    }
}

#[test]
fn the_shield_key_asks_then_applies_and_the_same_key_lifts() {
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [key('H')]);
    assert!(matches!(c.popup, Some(Popup::ShieldConfirm(_))));
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("first-time chatter"), "{screen}");
    insta::assert_snapshot!("shield_confirm_on_80x24", screen);
    // n cancels, y sends.
    assert!(commands(&feed(&mut c, [key('n')])).is_empty());
    assert!(c.popup.is_none());
    feed(&mut c, [key('H')]);
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(commands(&effects), vec![Command::ShieldOn]);

    // The hub's event turns it on: the key now lifts it.
    shield_changed(&mut c, true, 30);
    feed(&mut c, [key('H')]);
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("Lift Shield"), "{screen}");
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(commands(&effects), vec![Command::ShieldOff]);
}

#[test]
fn the_status_bar_shows_shield_while_on() {
    let mut c = show(StaffRole::Moderator);
    assert!(!render(&mut c, 80, 24).contains("SHIELD"));
    shield_changed(&mut c, true, 30);
    assert!(c.settings.shield);
    snap("status_shield_on", &mut c);
    let screen = render(&mut c, 80, 24);
    let bar = screen.lines().last().unwrap_or_default();
    assert!(
        bar.contains("SHIELD") && bar.contains("slow mode 30 s"),
        "{bar}"
    );
    // Drawn in the theme's own Shield colour, unlike the bar around it.
    let theme = regie::console::theme::Theme::builtin_default();
    let shield = theme.style(regie::console::theme::StyleKey::StatusShield);
    let buf = buffer(&mut c, 80, 24);
    let (x, y) = find_text(&buf, "SHIELD").expect("SHIELD on screen");
    assert_eq!(
        buf[(x, y)].bg,
        shield.bg.expect("status.shield has a background")
    );
    let bar = theme.style(regie::console::theme::StyleKey::StatusBar);
    assert_ne!(shield.bg, bar.bg);
    shield_changed(&mut c, false, 0);
    assert!(!render(&mut c, 80, 24).contains("SHIELD"));
}

#[test]
fn the_status_bar_shows_shield_from_the_welcome_snapshot() {
    let mut c = console(StaffRole::Moderator);
    let snapshot = Snapshot {
        settings: Settings {
            shield: true,
            slow_mode_secs: 30,
            ..Settings::default()
        },
        ..Snapshot::default()
    };
    feed(
        &mut c,
        [Msg::Frame(welcome(
            StaffRole::Moderator,
            "Inès B.",
            9,
            snapshot,
        ))],
    );
    assert!(render(&mut c, 80, 24).contains("SHIELD"));
}

#[test]
fn the_review_list_bans_and_undoes_and_stays_open() {
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [key('H')]);
    let effects = feed(&mut c, [key('y')]);
    let [regie::console::state::Effect::Send(frame)] = effects.as_slice() else {
        panic!("expected shield_on, got {effects:?}")
    };
    shield_changed(&mut c, true, 30);
    let seq = c.seq;
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::ShieldReview {
            id: frame.id.clone(),
            seq: Some(seq),
            viewers: vec![
                suspect("v-8a41c2d9", "Marc", 3),
                suspect("v-3fa9c0ee", "Julie\u{1b}[31m", 1),
            ],
        })],
    );
    assert!(matches!(c.popup, Some(Popup::ShieldReview(_))));
    snap("shield_review", &mut c);

    let ban = |id: &str| Command::Ban {
        viewer_id: ViewerId(id.into()),
        reason: "Shield: used a banned term".into(),
    };
    let effects = feed(&mut c, [key('b')]);
    assert_eq!(commands(&effects), vec![ban("v-8a41c2d9")]);
    assert!(
        matches!(c.popup, Some(Popup::ShieldReview(_))),
        "the list stays"
    );
    // Banning twice is refused in the list; the next row is banned.
    assert!(commands(&feed(&mut c, [key('b')])).is_empty());
    let effects = feed(&mut c, [key('j'), key('b')]);
    assert_eq!(commands(&effects), vec![ban("v-3fa9c0ee")]);
    // Undo the first one.
    let effects = feed(&mut c, [key('k'), key('U')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Unban {
            viewer_id: ViewerId("v-8a41c2d9".into()),
            reason: "Shield: ban undone from the review list".into(),
        }]
    );
    let screen = render(&mut c, 80, 24);
    assert!(!screen.contains('\u{1b}'), "names are sanitised");
    feed(&mut c, [code(KeyCode::Esc)]);
    assert!(c.popup.is_none());
}

#[test]
fn the_confirmation_says_what_the_hubs_preset_changes() {
    let mut c = console(StaffRole::Moderator);
    let snapshot = Snapshot {
        settings: Settings {
            slow_mode_secs: 5,
            ..Settings::default()
        },
        shield_preset: Some(ShieldPresetView {
            slow_mode_secs: 45,
            hold_first_time_chatters: true,
            terms: 2,
            regexes: 1,
            blocks: true,
            links: "none".into(),
            ban_recent_terms: 3,
            ban_recent_minutes: 10,
        }),
        ..Snapshot::default()
    };
    feed(
        &mut c,
        [Msg::Frame(welcome(
            StaffRole::Moderator,
            "Inès B.",
            9,
            snapshot,
        ))],
    );
    feed(&mut c, [key('H')]);
    let screen = render(&mut c, 80, 24);
    for said in [
        "slow mode 45 s (now 5 s)",
        "first-time chatter",
        "2 extra terms and 1 regexes block",
        "links off",
        "3 listed terms in the last 10 min",
    ] {
        assert!(screen.contains(said), "{said}: {screen}");
    }
    snap("shield_confirm_preset", &mut c);
}

#[test]
fn hosts_and_support_do_not_get_the_shield_key() {
    for role in [StaffRole::Host, StaffRole::Support] {
        let mut c = show(role);
        let effects = feed(&mut c, [key('H')]);
        assert!(commands(&effects).is_empty());
        assert!(
            !matches!(c.popup, Some(Popup::ShieldConfirm(_))),
            "{role:?}"
        );
    }
}
