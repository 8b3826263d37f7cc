//! The Staff activity pane as the staff log (issue 10): the hub's page
//! replaces the pane, scrolling to its oldest entry asks for the page
//! before, and `/` in the pane filters by staff member and action.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Console, Effect, Msg, Pane, Popup};
use regie::protocol::*;
use support::console::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn entry(at: Millis, name: &str, role: StaffRole, action: &str, target: &str) -> StaffAction {
    StaffAction {
        at,
        by: Some(actor(name, role)),
        action: action.into(),
        target: target.into(),
    }
}

fn newest_page() -> Vec<StaffAction> {
    vec![
        entry(
            NOON + 23 * MIN,
            "Inès B.",
            StaffRole::Moderator,
            "timeout",
            "v-marc",
        ),
        entry(
            NOON + 24 * MIN,
            "Inès B.",
            StaffRole::Moderator,
            "ban",
            "v-marc",
        ),
        entry(
            NOON + 25 * MIN,
            "Sam",
            StaffRole::Support,
            "note_add",
            "v-marc",
        ),
        entry(
            NOON + 26 * MIN,
            "Inès B.",
            StaffRole::Moderator,
            "deny",
            "#6",
        ),
    ]
}

fn answer(c: &mut Console, id: CommandId, entries: Vec<StaffAction>, before: Option<u64>) {
    feed(
        c,
        [Msg::Frame(ServerFrame::StaffLog {
            id,
            entries,
            before,
        })],
    );
}

fn focus_activity(c: &mut Console) {
    for _ in 0..8 {
        if c.focus == Pane::Activity {
            return;
        }
        feed(c, [code(KeyCode::Tab)]);
    }
    panic!("tab never reached the staff activity pane");
}

fn staff_log_sent(effects: &[Effect]) -> Vec<(CommandId, Command)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(f) if matches!(f.command, Command::StaffLog { .. }) => {
                Some((f.id.clone(), f.command.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn the_staff_log_pane_shows_the_hubs_page_and_pages_back() {
    let mut c = show(StaffRole::Moderator);
    answer(&mut c, CommandId("w-1".into()), newest_page(), Some(40));
    assert_eq!(
        c.activity.len(),
        4,
        "the page replaced the live-only entries"
    );
    focus_activity(&mut c);
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        insta::assert_snapshot!(format!("staff_log_{w}x{h}"), screen);
    }

    // Scrolling to the oldest entry asks for the page before, once.
    let mut asked = Vec::new();
    for _ in 0..4 {
        asked.extend(staff_log_sent(&feed(&mut c, [key('j')])));
    }
    let [(id, command)] = asked.as_slice() else {
        panic!("expected one older page request, got {asked:?}")
    };
    assert_eq!(
        *command,
        Command::StaffLog {
            before: Some(40),
            limit: MAX_STAFF_LOG_PAGE,
            actor: None,
            action: None,
        }
    );
    let older = vec![entry(
        NOON + 5 * MIN,
        "Claire",
        StaffRole::Host,
        "pin",
        "#2",
    )];
    answer(&mut c, id.clone(), older, None);
    assert_eq!(c.activity.len(), 5);
    assert_eq!(
        c.activity.front().map(|e| e.at),
        Some(NOON + 5 * MIN),
        "older goes first"
    );
    assert!(
        staff_log_sent(&feed(&mut c, [key('j'), key('j')])).is_empty(),
        "nothing older to ask for"
    );
}

#[test]
fn slash_in_the_pane_filters_the_staff_log_by_member_and_action() {
    let mut c = show(StaffRole::Moderator);
    answer(&mut c, CommandId("w-1".into()), newest_page(), None);
    focus_activity(&mut c);
    feed(&mut c, [key('/')]);
    assert!(matches!(c.popup, Some(Popup::Prompt(_))));
    feed(&mut c, typed("by:Inès B. action:ban"));
    let sent = staff_log_sent(&feed(&mut c, [code(KeyCode::Enter)]));
    assert_eq!(
        sent.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
        [Command::StaffLog {
            before: None,
            limit: MAX_STAFF_LOG_PAGE,
            actor: Some("Inès B.".into()),
            action: Some("ban".into()),
        }]
    );
    answer(
        &mut c,
        sent[0].0.clone(),
        vec![entry(
            NOON + 24 * MIN,
            "Inès B.",
            StaffRole::Moderator,
            "ban",
            "v-marc",
        )],
        None,
    );
    assert_eq!(c.activity.len(), 1);
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("Staff activity · by:Inès B. action:ban"),
        "{screen}"
    );
    // The filter stays for the next welcome's request.
    let welcome = resumed_welcome(StaffRole::Moderator, "Inès B.", c.seq, 80);
    let asked = staff_log_sent(&feed(&mut c, [Msg::Frame(welcome)]));
    assert!(
        matches!(&asked[..], [(_, Command::StaffLog { actor: Some(a), .. })] if a == "Inès B."),
        "{asked:?}"
    );
    // A host has no staff log to read: the welcome asks nothing.
    let mut host = console(StaffRole::Host);
    let welcome = resumed_welcome(StaffRole::Host, "Claire", 0, 80);
    assert!(staff_log_sent(&feed(&mut host, [Msg::Frame(welcome)])).is_empty());
}
