//! The requests log in the console (issue 9): `Q` opens, for support and
//! admin, the open data-protection requests soonest due first, with kind,
//! who asked (sanitised), received, due, days left or overdue, and the
//! extension's reason. The hub reads the data dir's log when asked.

mod support;

use crossterm::event::KeyCode;
use regie::console::keymap::Keymap;
use regie::console::net::{self, NetConfig};
use regie::console::popups::requests::time_left;
use regie::console::state::{Console, Effect, Msg, Popup, Session, update};
use regie::console::theme::{StyleKey, Theme};
use regie::protocol::{
    Command, ErrorCode, ErrorFrame, Millis, RightsRequest, ServerFrame, StaffRole,
};
use support::binary::run;
use support::console::*;
use support::hub::TestHub;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
const DAY: Millis = 86_400_000;
const HOUR: Millis = 3_600_000;

/// The console's clock in the fixtures (`support::console::console`).
const NOW: Millis = NOON + 30 * MIN;

fn request(
    id: i64,
    kind: &str,
    subject: &str,
    received_at: Millis,
    due_at: Millis,
) -> RightsRequest {
    RightsRequest {
        id,
        kind: kind.into(),
        subject: subject.into(),
        received_at,
        due_at,
        extension: None,
    }
}

/// Four open requests, in no particular order: one extended, one late,
/// one due today, one whose subject was typed with terminal escapes.
fn open_requests() -> Vec<RightsRequest> {
    vec![
        RightsRequest {
            extension: Some("trois lives à parcourir".into()),
            ..request(
                2,
                "access",
                "lea.b@example.fr",
                NOW - 40 * DAY,
                NOW + 50 * DAY,
            )
        },
        request(
            5,
            "object",
            "\u{1b}[31mRED\u{1b}[0m \u{202e}evil\u{7}",
            NOW - 18 * DAY,
            NOW + 12 * DAY + HOUR,
        ),
        request(
            4,
            "erase",
            "v-8a41c2d90e7b3f15",
            NOW - 33 * DAY,
            NOW - 2 * DAY - HOUR,
        ),
        request(6, "rectify", "v-77aa01", NOW - 30 * DAY, NOW + 5 * HOUR),
    ]
}

/// `role` presses `Q`; returns the console and the command it sent.
fn opened(role: StaffRole) -> (Console, Vec<Effect>) {
    let mut c = show(role);
    let effects = feed(&mut c, [key('Q')]);
    (c, effects)
}

#[test]
fn support_sees_the_open_requests_soonest_due_first_with_days_left_and_overdue() {
    let (mut c, effects) = opened(StaffRole::Support);
    let [Effect::Send(asked)] = effects.as_slice() else {
        panic!("one request, got {effects:?}")
    };
    assert_eq!(asked.command, Command::RightsRequests);
    assert!(render(&mut c, 160, 48).contains("loading the requests log"));
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::RightsRequests {
            id: asked.id.clone(),
            requests: open_requests(),
        })],
    );
    assert!(c.pending.is_empty(), "answered");
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        let at = |needle: &str| {
            screen
                .find(needle)
                .unwrap_or_else(|| panic!("{needle:?} at {w}x{h}:\n{screen}"))
        };
        // Soonest due first: late #4, today's #6, #5, the extended #2.
        assert!(at("#4 ") < at("#6 ") && at("#6 ") < at("#5 ") && at("#5 ") < at("#2 "));
        assert!(
            screen.contains("4 open, soonest due first · 1 overdue"),
            "{screen}"
        );
        assert!(screen.contains("3 days overdue"), "{w}x{h}:\n{screen}");
        assert!(screen.contains("due today"), "{w}x{h}:\n{screen}");
        assert!(screen.contains("12 days left"), "{w}x{h}:\n{screen}");
        assert!(
            screen.contains("extended: trois lives"),
            "{w}x{h}:\n{screen}"
        );
        assert!(screen.contains("received 2026-10-"), "{w}x{h}:\n{screen}");
        for hostile in ['\u{1b}', '\u{202e}', '\u{7}'] {
            assert!(!screen.contains(hostile), "{hostile:?} at {w}x{h}");
        }
        insta::assert_snapshot!(format!("requests_{w}x{h}"), screen);
    }
    // Late is marked, not only said: the warning style, and only there.
    let theme = Theme::builtin_default();
    let buf = buffer(&mut c, 160, 48);
    let fg = |text: &str| {
        let (x, y) = find_text(&buf, text).unwrap_or_else(|| panic!("{text:?} drawn"));
        buf[(x, y)].fg
    };
    let warning = theme.style(StyleKey::PopupWarning).fg.expect("a colour");
    assert_eq!(fg("3 days overdue"), warning);
    assert_ne!(fg("12 days left"), warning);
    feed(&mut c, [code(KeyCode::Esc)]);
    assert!(c.popup.is_none());
}

#[test]
fn an_empty_log_and_a_refusal_say_so_in_the_popup() {
    let (mut c, effects) = opened(StaffRole::Admin);
    let [Effect::Send(asked)] = effects.as_slice() else {
        panic!("one request, got {effects:?}")
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::RightsRequests {
            id: asked.id.clone(),
            requests: Vec::new(),
        })],
    );
    assert!(render(&mut c, 80, 24).contains("No open request."));

    let (mut c, effects) = opened(StaffRole::Support);
    let [Effect::Send(asked)] = effects.as_slice() else {
        panic!("one request, got {effects:?}")
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Error(ErrorFrame::new(
            Some(asked.id.clone()),
            ErrorCode::Internal,
            "the hub could not read the requests log; try again",
        )))],
    );
    assert!(
        matches!(&c.popup, Some(Popup::Requests(_))),
        "it stays open"
    );
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("The hub could not send the requests"),
        "{screen}"
    );
}

#[test]
fn hosts_and_moderators_get_no_requests_key() {
    for role in [StaffRole::Host, StaffRole::Moderator] {
        let (mut c, effects) = opened(role);
        assert!(commands(&effects).is_empty(), "{role}");
        assert!(c.popup.is_none(), "{role}");
        let note = c.note.as_ref().map(|n| n.text.clone()).unwrap_or_default();
        assert!(
            note.contains("can't list data-protection requests"),
            "{role}: {note}"
        );
        feed(&mut c, [key('?')]);
        assert!(
            !help_lines(&mut c).contains("data-protection requests"),
            "{role}"
        );
    }
    let (mut c, _) = opened(StaffRole::Support);
    feed(&mut c, [code(KeyCode::Esc), key('?')]);
    assert!(help_lines(&mut c).contains("data-protection requests"));
}

/// The screen without its two status rows (which may quote a note).
fn help_lines(c: &mut Console) -> String {
    let screen = render(c, 160, 48);
    let rows: Vec<&str> = screen.lines().collect();
    rows[..rows.len() - 2].join("\n")
}

#[test]
fn time_left_counts_whole_days_and_a_late_part_day_is_a_day_late() {
    let now = NOON;
    assert_eq!(
        time_left(now + 12 * DAY + HOUR, now),
        ("12 days left".into(), false)
    );
    assert_eq!(time_left(now + DAY, now), ("1 day left".into(), false));
    assert_eq!(time_left(now + 23 * HOUR, now), ("due today".into(), false));
    assert_eq!(time_left(now, now), ("due today".into(), false));
    assert_eq!(time_left(now - 1, now), ("1 day overdue".into(), true));
    assert_eq!(
        time_left(now - 3 * DAY, now),
        ("3 days overdue".into(), true)
    );
    assert_eq!(
        time_left(now - 3 * DAY - 1, now),
        ("4 days overdue".into(), true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_support_console_reads_the_data_dirs_open_requests_from_the_hub() {
    let hub = TestHub::start().await;
    // Joined first: by then the hub has created (and migrated) the store.
    let mut host = hub.staff(StaffRole::Host, "Nadia").await;
    let data = hub.data_dir.to_str().expect("utf-8").to_owned();
    let cli = |args: &[&str]| {
        let mut all = vec!["privacy", "requests", "--data", data.as_str()];
        all.extend_from_slice(args);
        let ran = run(&all, &[]);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.stderr);
    };
    cli(&["--add", "access", "--subject", "lea.b@example.fr"]);
    cli(&["--add", "erase", "--subject", "v-8a41c2d90e7b3f15"]);
    cli(&["--add", "rectify", "--subject", "v-closed"]);
    cli(&["--extend", "1", "--reason", "trois lives à parcourir"]);
    cli(&["--close", "3"]);

    let config = NetConfig {
        url: hub.url.clone(),
        live: hub.live.clone(),
        token: hub.token(StaffRole::Support, "Sam"),
        tls: regie::tls::ClientTls::default(),
    };
    let first = net::connect(&config, None).await.expect("console connects");
    let mut handle = net::spawn(config, first);
    let session = Session {
        role: StaffRole::Support,
        name: String::new(),
        live: String::new(),
    };
    let mut sam = Console::new(session, Keymap::default(), 50_000, "e2e");
    update(&mut sam, Msg::Tick(regie::now_millis()));
    pump(&mut sam, &mut handle, "the welcome", |s| s.epoch.is_some()).await;
    for effect in update(&mut sam, key('Q')) {
        if let Effect::Send(frame) = effect {
            handle.commands.send(frame).expect("network task alive");
        }
    }
    pump(
        &mut sam,
        &mut handle,
        "the requests",
        |s| matches!(&s.popup, Some(Popup::Requests(v)) if v.requests.is_some()),
    )
    .await;
    let Some(Popup::Requests(view)) = &sam.popup else {
        unreachable!("waited for it")
    };
    let list = view.requests.clone().expect("answered");
    let summary: Vec<(i64, &str, &str, Option<&str>)> = list
        .iter()
        .map(|r| {
            (
                r.id,
                r.kind.as_str(),
                r.subject.as_str(),
                r.extension.as_deref(),
            )
        })
        .collect();
    // Open ones only, soonest due first: the extended one is due last.
    assert_eq!(
        summary,
        [
            (2, "erase", "v-8a41c2d90e7b3f15", None),
            (
                1,
                "access",
                "lea.b@example.fr",
                Some("trois lives à parcourir")
            ),
        ]
    );
    assert!(list[0].due_at < list[1].due_at);
    assert!(list.iter().all(|r| r.received_at < r.due_at));
    let screen = render(&mut sam, 160, 48);
    assert!(screen.contains("2 open, soonest due first"), "{screen}");
    assert!(!screen.contains("v-closed"), "{screen}");

    assert_eq!(
        host.refused(Command::RightsRequests).await.code,
        ErrorCode::Forbidden
    );
    drop(handle);
    hub.stop().await;
}
