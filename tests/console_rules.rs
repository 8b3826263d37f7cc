//! The rules editor in the console (issue 10): `M` opens, for moderators
//! and admins, the live's moderation rules (kind, pattern sanitised,
//! action, time left), a form to add one with an expiry preset, removal
//! behind a confirmation, and a test line that says which rule would fire,
//! and on what, before anything is saved.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Console, Effect, Msg, Popup};
use regie::protocol::{
    Command, ErrorCode, ErrorFrame, Event, Millis, RuleAction, RuleType, RuleView, ServerFrame,
    StaffRole,
};
use support::console::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
const HOUR: Millis = 3_600_000;

/// The console's clock in the fixtures (`support::console::console`).
const NOW: Millis = NOON + 30 * MIN;

fn rule(rule_id: u32, kind: RuleType, pattern: &str, action: RuleAction) -> RuleView {
    RuleView {
        rule_id,
        kind,
        pattern: pattern.into(),
        action,
        expires_at: None,
        created_by: None,
        created_at: NOW - HOUR,
    }
}

/// A brand default, a moderator's expiring block, a regex, a link
/// policy, and a term typed with terminal escapes.
fn live_rules() -> Vec<RuleView> {
    vec![
        rule(1, RuleType::Term, "idiot", RuleAction::Hold),
        RuleView {
            expires_at: Some(NOW + HOUR - MIN),
            created_by: Some(actor("Inès B.", StaffRole::Moderator)),
            ..rule(2, RuleType::Term, "arnaq*", RuleAction::Block)
        },
        rule(3, RuleType::Regex, r"\bpromo\w*", RuleAction::Flag),
        rule(4, RuleType::LinkPolicy, "ma-marque.fr", RuleAction::Hold),
        RuleView {
            expires_at: Some(NOW + 7 * 24 * HOUR),
            ..rule(
                5,
                RuleType::Term,
                "\u{1b}[31mRED\u{1b}[0m\u{202e}",
                RuleAction::Hold,
            )
        },
    ]
}

/// `role` presses `M`; the hub answers with [`live_rules`].
fn opened(role: StaffRole) -> Console {
    let mut c = show(role);
    let effects = feed(&mut c, [key('M')]);
    let [Effect::Send(asked)] = effects.as_slice() else {
        panic!("one request, got {effects:?}")
    };
    assert_eq!(asked.command, Command::Rules);
    assert!(render(&mut c, 160, 48).contains("loading the rules"));
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Rules {
            id: asked.id.clone(),
            rules: live_rules(),
        })],
    );
    assert!(c.pending.is_empty(), "answered");
    c
}

fn sent(effects: &[Effect]) -> Vec<Command> {
    commands(effects)
}

#[test]
fn a_moderator_sees_the_rules_with_kind_action_and_time_left_sanitised() {
    let mut c = opened(StaffRole::Moderator);
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(screen.contains("Moderation rules"), "{w}x{h}:\n{screen}");
        for needle in ["#1", "idiot", "arnaq*", "59 min", "7 days", "permanent"] {
            assert!(screen.contains(needle), "{needle:?} at {w}x{h}:\n{screen}");
        }
        assert!(screen.contains("link_policy"), "{w}x{h}:\n{screen}");
        assert!(screen.contains("RED"), "{w}x{h}:\n{screen}");
        assert!(
            !screen.contains('\u{1b}') && !screen.contains('\u{202e}'),
            "escapes reached the screen"
        );
        insta::assert_snapshot!(format!("rules_list_{w}x{h}"), screen);
    }
}

#[test]
fn the_test_line_says_which_rule_would_fire_and_on_what() {
    let mut c = opened(StaffRole::Moderator);
    feed(&mut c, typed("c'est une Arnaqué, voir promo"));
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(
            screen.contains("→ block by rule #2 (term) on “Arnaqué”"),
            "{w}x{h}:\n{screen}"
        );
        assert!(
            screen.contains("also flag by rule #3 (regex) on “promo”"),
            "{w}x{h}:\n{screen}"
        );
        insta::assert_snapshot!(format!("rules_test_{w}x{h}"), screen);
    }
    // A clean sentence passes; nothing was sent to test it.
    feed(&mut c, [ctrl('u')]);
    let effects = feed(&mut c, typed("belle robe"));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(render(&mut c, 80, 24).contains("passes: no rule fires"));
}

#[test]
fn the_form_tests_the_new_rule_before_it_is_saved_then_sends_rule_add() {
    let mut c = opened(StaffRole::Moderator);
    feed(&mut c, [code(KeyCode::Tab)]);
    feed(&mut c, typed("livr*"));
    // Action: block; expiry: 1 h; then the test line.
    feed(
        &mut c,
        [
            code(KeyCode::Tab),
            code(KeyCode::Right),
            code(KeyCode::Tab),
            code(KeyCode::Right),
            code(KeyCode::Tab),
        ],
    );
    feed(&mut c, typed("et la livraison ?"));
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(screen.contains("Add a rule"), "{w}x{h}:\n{screen}");
        assert!(
            screen.contains("→ block by rule #6 (term) on “livraison”"),
            "the draft is rule #6 and fires at {w}x{h}:\n{screen}"
        );
        insta::assert_snapshot!(format!("rules_add_form_{w}x{h}"), screen);
    }
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        sent(&effects),
        [Command::RuleAdd {
            kind: RuleType::Term,
            pattern: "livr*".into(),
            action: RuleAction::Block,
            expires_in_secs: Some(3600),
        }]
    );
    // The editor stays open and shows the rule once the hub announces it.
    assert!(matches!(c.popup, Some(Popup::Rules(_))));
    let added = RuleView {
        expires_at: Some(NOW + HOUR),
        created_by: Some(actor("Inès B.", StaffRole::Moderator)),
        ..rule(6, RuleType::Term, "livr*", RuleAction::Block)
    };
    feed(
        &mut c,
        [Msg::Frame(event(
            900,
            NOW,
            Event::RuleAdded { rule: added },
        ))],
    );
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("#6"), "{screen}");
    assert!(screen.contains("livr*"), "{screen}");
}

#[test]
fn an_invalid_regex_is_shown_with_the_parsers_message_before_sending() {
    let mut c = opened(StaffRole::Moderator);
    feed(&mut c, [code(KeyCode::Tab), code(KeyCode::Up)]);
    // Focus on the kind: term → regex.
    feed(&mut c, [code(KeyCode::Right), code(KeyCode::Tab)]);
    feed(&mut c, typed("(gratuit"));
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("unclosed group"), "{screen}");
    // The hub is the judge: Enter still sends it, and its refusal is said.
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    let [Effect::Send(frame)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert!(matches!(
        &frame.command,
        Command::RuleAdd { kind: RuleType::Regex, pattern, .. } if pattern == "(gratuit"
    ));
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Error(ErrorFrame::new(
            Some(frame.id.clone()),
            ErrorCode::Invalid,
            "invalid regex: unclosed group",
        )))],
    );
    assert!(render(&mut c, 160, 48).contains("invalid regex"));
}

#[test]
fn removing_a_rule_asks_first_and_follows_the_hubs_events() {
    let mut c = opened(StaffRole::Admin);
    feed(&mut c, [code(KeyCode::Down), code(KeyCode::Delete)]);
    let screen = render(&mut c, 80, 24);
    assert!(
        screen.contains("Remove rule #2 (term “arnaq*”, block)?"),
        "{screen}"
    );
    // No goes back to the list, yes sends the removal.
    assert!(feed(&mut c, [key('n')]).is_empty());
    assert!(render(&mut c, 80, 24).contains("expires in"));
    feed(&mut c, [code(KeyCode::Delete)]);
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(sent(&effects), [Command::RuleRemove { rule_id: 2 }]);
    feed(
        &mut c,
        [Msg::Frame(event(
            901,
            NOW,
            Event::RuleRemoved {
                rule_id: 2,
                by: Some(actor("Alex", StaffRole::Admin)),
            },
        ))],
    );
    // An expiry on the hub's clock removes a rule from the list too.
    feed(
        &mut c,
        [Msg::Frame(event(
            902,
            NOW,
            Event::RuleRemoved {
                rule_id: 3,
                by: None,
            },
        ))],
    );
    let screen = render(&mut c, 160, 48);
    assert!(
        !screen.contains("arnaq*") && !screen.contains("promo"),
        "{screen}"
    );
    assert!(screen.contains("idiot"), "{screen}");
}

#[test]
fn hosts_and_support_have_no_rules_editor() {
    for role in [StaffRole::Host, StaffRole::Support] {
        let mut c = show(role);
        let effects = feed(&mut c, [key('M')]);
        assert!(sent(&effects).is_empty(), "{role:?}: {effects:?}");
        assert!(c.popup.is_none(), "{role:?}");
    }
}

/// A flagged line is marked in the feed for staff (`⚑`), the moment the
/// hub's `message_flagged` follows the message; other lines are not.
#[test]
fn a_flagged_message_is_marked_in_the_feed() {
    let mut c = show(StaffRole::Moderator);
    let line = message(
        40,
        NOON + 23 * MIN,
        viewer("v-zoe", "Zoé", "zoe"),
        "promo code FLASH50 here",
    );
    let before = render(&mut c, 160, 48);
    assert!(!before.contains('⚑'), "{before}");
    feed(
        &mut c,
        [
            Msg::Frame(event(24, NOON + 23 * MIN, Event::Message { message: line })),
            Msg::Frame(event(
                25,
                NOON + 23 * MIN,
                Event::MessageFlagged {
                    message_id: regie::protocol::MessageId(40),
                    rule_id: 4,
                    kind: RuleType::Regex,
                },
            )),
        ],
    );
    let screen = render(&mut c, 160, 48);
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains('⚑')).collect();
    assert_eq!(rows.len(), 1, "one line marked:\n{screen}");
    assert!(rows[0].contains("promo code FLASH50"), "{}", rows[0]);
}
