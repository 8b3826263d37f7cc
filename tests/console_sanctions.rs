//! The console's slow mode and sanction prompts: presets, the brand's
//! reason templates, lifting from the viewer card, slow mode in the status
//! bar. `TestBackend` snapshots at 80×24, and the commands each key sends.

mod support;

use std::path::Path;

use crossterm::event::KeyCode;
use regie::console::config::{ConfigFile, sanction_reasons};
use regie::console::state::{ConnStatus, Console, Effect, Msg, Popup};
use regie::protocol::*;
use support::console::*;

fn snap(name: &str, state: &mut Console) {
    let screen = render(state, 80, 24);
    insta::assert_snapshot!(format!("{name}_80x24"), screen);
}

/// Opens the card of the viewer the selected line is by (Inès, once `k`
/// selected her line) and answers it with `sanctions`.
fn card_with(c: &mut Console, sanctions: Vec<Sanction>) {
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
        sanctions,
        contact: None,
        consents: vec![],
        notes: vec![],
    };
    feed(
        c,
        [Msg::Frame(ServerFrame::ViewerCard {
            id: frame.id.clone(),
            card: Box::new(card),
        })],
    );
}

fn banned() -> Sanction {
    Sanction::Banned {
        reason: "insults".into(),
        by: actor("Inès B.", StaffRole::Moderator),
        at: NOON,
    }
}

fn timed_out() -> Sanction {
    Sanction::TimedOut {
        until: NOON + 60 * MIN,
        reason: "spam".into(),
        by: actor("Inès B.", StaffRole::Moderator),
        at: NOON,
    }
}

#[test]
fn slow_mode_prompt_offers_presets_and_sends_the_choice() {
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [key('S')]);
    assert!(matches!(c.popup, Some(Popup::Choice(_))));
    snap("slow_mode_prompt", &mut c);
    // off → 5 s → 10 s → 30 s
    let effects = feed(
        &mut c,
        [
            code(KeyCode::Down),
            code(KeyCode::Down),
            code(KeyCode::Down),
            code(KeyCode::Enter),
        ],
    );
    assert_eq!(commands(&effects), vec![Command::SlowMode { secs: 30 }]);
    assert!(c.popup.is_none());

    // A typed wait wins over the list; a bad one keeps the prompt open.
    feed(&mut c, [key('S')]);
    feed(&mut c, typed("2 hours"));
    assert!(feed(&mut c, [code(KeyCode::Enter)]).is_empty());
    assert!(c.popup.is_some(), "over an hour is refused");
    feed(&mut c, [ctrl('u')]);
    feed(&mut c, typed("45s"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(commands(&effects), vec![Command::SlowMode { secs: 45 }]);

    // Hosts pace the chat too; support does not.
    let mut host = show(StaffRole::Host);
    feed(&mut host, [key('S')]);
    assert!(matches!(host.popup, Some(Popup::Choice(_))));
    let mut support = show(StaffRole::Support);
    feed(&mut support, [key('S')]);
    assert!(support.popup.is_none());
}

#[test]
fn the_status_bar_shows_slow_mode_while_it_is_on() {
    let mut c = show(StaffRole::Host);
    assert!(!render(&mut c, 80, 24).contains("slow mode"));
    let on = Event::SlowModeChanged {
        secs: 30,
        by: actor("Inès B.", StaffRole::Moderator),
    };
    let seq = c.seq;
    feed(&mut c, [Msg::Frame(event(seq + 1, NOON + 30 * MIN, on))]);
    snap("status_slow_mode", &mut c);
    assert!(render(&mut c, 80, 24).contains("slow mode 30 s"));
    // The prompt marks the live's setting.
    feed(&mut c, [key('S')]);
    assert!(render(&mut c, 80, 24).contains("▸ 30 s  (now)"));
    feed(&mut c, [code(KeyCode::Esc)]);

    let off = Event::SlowModeChanged {
        secs: 0,
        by: actor("Inès B.", StaffRole::Moderator),
    };
    feed(&mut c, [Msg::Frame(event(seq + 2, NOON + 31 * MIN, off))]);
    assert!(!render(&mut c, 80, 24).contains("slow mode"));
}

#[test]
fn a_timeout_offers_presets_then_the_brands_reasons() {
    let mut c = show(StaffRole::Moderator);
    c.sanction_reasons = vec!["spam".into(), "propos haineux".into(), "hors sujet".into()];
    feed(&mut c, [key('k'), key('t')]);
    let screen = render(&mut c, 80, 24);
    for preset in ["10 s", "1 min", "5 min", "10 min", "30 min", "24 h"] {
        assert!(screen.contains(preset), "{preset}: {screen}");
    }
    // 10 min is the default; the reason comes next.
    assert!(feed(&mut c, [code(KeyCode::Enter)]).is_empty());
    snap("timeout_reason_prompt", &mut c);
    let effects = feed(&mut c, [code(KeyCode::Down), code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::Timeout {
            viewer_id: ViewerId("v-ines".into()),
            seconds: 600,
            reason: "propos haineux".into(),
        }]
    );

    // A typed reason replaces the templates; 24 h is the last preset.
    feed(&mut c, [key('t')]);
    feed(&mut c, [code(KeyCode::Down), code(KeyCode::Down)]);
    feed(&mut c, [code(KeyCode::Down), code(KeyCode::Enter)]);
    feed(&mut c, typed("liens répétés"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::Timeout {
            viewer_id: ViewerId("v-ines".into()),
            seconds: 86_400,
            reason: "liens répétés".into(),
        }]
    );
}

#[test]
fn the_card_lifts_a_ban_or_a_timeout_only_when_it_shows_one() {
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [key('k')]);
    card_with(&mut c, vec![]);
    let screen = render(&mut c, 160, 48);
    assert!(
        !screen.contains("U unban") && !screen.contains("U lift"),
        "{screen}"
    );
    assert!(feed(&mut c, [key('U')]).is_empty());
    assert!(
        matches!(c.popup, Some(Popup::ViewerCard(_))),
        "nothing to lift"
    );
    feed(&mut c, [code(KeyCode::Esc)]);

    card_with(&mut c, vec![banned()]);
    assert!(render(&mut c, 160, 48).contains("U unban"));
    feed(&mut c, [key('U')]);
    snap("unban_reason_prompt", &mut c);
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::Unban {
            viewer_id: ViewerId("v-ines".into()),
            reason: "appeal accepted".into(),
        }]
    );

    card_with(&mut c, vec![timed_out()]);
    assert!(render(&mut c, 160, 48).contains("U lift timeout"));
    // The hub's event clears the card's sanction (and the key with it).
    let seq = c.seq;
    let lifted = Event::SanctionLifted {
        viewer_id: ViewerId("v-ines".into()),
        lifted: LiftedSanction::Timeout,
        reason: "wrong viewer".into(),
        by: actor("Inès B.", StaffRole::Moderator),
    };
    feed(
        &mut c,
        [Msg::Frame(event(seq + 1, NOON + 31 * MIN, lifted))],
    );
    let screen = render(&mut c, 160, 48);
    assert!(!screen.contains("U lift timeout"), "{screen}");
    assert!(
        screen.contains("lifted the timeout of"),
        "staff activity says it: {screen}"
    );
    feed(&mut c, [code(KeyCode::Esc)]);

    card_with(&mut c, vec![timed_out()]);
    feed(&mut c, [key('U')]);
    feed(&mut c, typed("erreur de cible"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::LiftTimeout {
            viewer_id: ViewerId("v-ines".into()),
            reason: "erreur de cible".into(),
        }]
    );

    // Hosts may not lift: no key, no prompt.
    let mut host = show(StaffRole::Host);
    feed(&mut host, [key('k')]);
    card_with(&mut host, vec![banned()]);
    assert!(!render(&mut host, 160, 48).contains("unban"));
    feed(&mut host, [key('U')]);
    assert!(matches!(host.popup, Some(Popup::ViewerCard(_))));
}

#[test]
fn a_ban_asks_its_reason_before_the_confirmation() {
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [key('k'), key('b')]);
    assert!(
        render(&mut c, 80, 24).contains("Reason: spam"),
        "b opens at the confirmation"
    );
    feed(&mut c, [key('e')]);
    snap("ban_reason_prompt", &mut c);
    feed(&mut c, [code(KeyCode::Down), code(KeyCode::Down)]);
    assert!(feed(&mut c, [code(KeyCode::Enter)]).is_empty());
    assert!(render(&mut c, 80, 24).contains("Reason: off-topic"));
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Ban {
            viewer_id: ViewerId("v-ines".into()),
            reason: "off-topic".into(),
        }]
    );
}

#[test]
fn the_config_file_names_the_brands_reasons() {
    let file = ConfigFile::parse(
        Path::new("console.toml"),
        "sanction_reasons = [\"  spam \", \"\", \"spam\", \"propos haineux\"]\n",
    )
    .expect("sanction_reasons is a known key");
    let mut warnings = Vec::new();
    assert_eq!(
        sanction_reasons(file.sanction_reasons, &mut warnings),
        ["spam", "propos haineux"],
        "trimmed, without blanks or repeats"
    );
    assert!(warnings.is_empty());
    let defaults = sanction_reasons(None, &mut warnings);
    assert!(defaults.contains(&"spam".to_string()) && defaults.len() > 2);
    assert_eq!(
        sanction_reasons(Some(vec![" ".into()]), &mut warnings),
        defaults
    );
    assert_eq!(warnings.len(), 1, "an empty list is said, then ignored");
}

mod against_the_hub {
    //! The same keys against a real hub: what the console sends is what
    //! the hub applies, and what the hub says comes back to the screen.

    use super::*;
    use regie::console::keymap::Keymap;
    use regie::console::net::{self, NetConfig, NetHandle};
    use regie::console::state::{Session, update};
    use support::hub::{LIVE, TestHub};

    async fn console(hub: &TestHub, role: StaffRole, name: &str) -> (Console, NetHandle) {
        let config = NetConfig {
            url: hub.url.clone(),
            live: LIVE.into(),
            token: hub.token(role, name),
            tls: regie::tls::ClientTls::default(),
        };
        let first = net::connect(&config, None).await.expect("console connects");
        let handle = net::spawn(config, first);
        let session = Session {
            role,
            name: String::new(),
            live: String::new(),
        };
        let c = Console::new(session, Keymap::default(), 50_000, "cs");
        (c, handle)
    }

    /// Feeds keys and sends what they send.
    fn press(c: &mut Console, handle: &NetHandle, msgs: impl IntoIterator<Item = Msg>) {
        for msg in msgs {
            for effect in update(c, msg) {
                if let Effect::Send(frame) = effect {
                    handle.commands.send(frame).expect("network task alive");
                }
            }
        }
    }

    fn activity(c: &Console, what: &str) -> bool {
        c.activity.iter().any(|a| a.what.contains(what))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_mode_and_a_lifted_timeout_from_the_console_keys() {
        let hub = TestHub::start().await;
        let (mut c, mut handle) = console(&hub, StaffRole::Moderator, "Inès").await;
        pump(&mut c, &mut handle, "the welcome", |c| c.epoch.is_some()).await;
        let mut julie = hub.viewer_with_key("Julie", "julie-device").await;
        let seq = julie.say("bonjour").await;
        pump(&mut c, &mut handle, "Julie's line", |c| c.seq >= seq).await;

        // S, 30 s: the hub's event sets it, the status bar shows it.
        press(&mut c, &handle, [key('S')]);
        press(&mut c, &handle, (0..3).map(|_| code(KeyCode::Down)));
        press(&mut c, &handle, [code(KeyCode::Enter)]);
        pump(&mut c, &mut handle, "slow mode", |c| {
            c.settings.slow_mode_secs == 30
        })
        .await;
        assert!(render(&mut c, 160, 48).contains("slow mode 30 s"));
        let e = julie
            .refused(Command::Say {
                text: "encore".into(),
                question: false,
                announcement: false,
            })
            .await;
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(e.retry_after_ms.is_some(), "{e:?}");

        // t, 10 min, the first reason; then the card's U lifts it.
        press(&mut c, &handle, [key('k'), key('t'), code(KeyCode::Enter)]);
        press(&mut c, &handle, [code(KeyCode::Enter)]);
        pump(&mut c, &mut handle, "the timeout", |c| {
            activity(c, "timed out")
        })
        .await;
        press(&mut c, &handle, [key('v')]);
        pump(
            &mut c,
            &mut handle,
            "the card",
            |c| matches!(&c.popup, Some(Popup::ViewerCard(v)) if v.card.is_some()),
        )
        .await;
        assert!(render(&mut c, 160, 48).contains("U lift timeout"));
        press(&mut c, &handle, [key('U'), code(KeyCode::Enter)]);
        pump(&mut c, &mut handle, "the lift", |c| {
            activity(c, "lifted the timeout of")
        })
        .await;
        assert!(!render(&mut c, 160, 48).contains("U lift timeout"));

        // Slow mode off from the console, and Julie chats again at once.
        press(&mut c, &handle, [code(KeyCode::Esc), key('S')]);
        press(&mut c, &handle, (0..3).map(|_| code(KeyCode::Up)));
        press(&mut c, &handle, [code(KeyCode::Enter)]);
        pump(&mut c, &mut handle, "slow mode off", |c| {
            c.settings.slow_mode_secs == 0
        })
        .await;
        julie.say("merci").await;
        drop(handle);
        hub.stop().await;
    }
}

/// The chat pane's rows by `who` (the first row of each line, where the
/// time, the marker and the name are), cut to the chat pane.
fn rows_of(screen: &str, who: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| l.trim_start_matches('"').strip_prefix('┃'))
        .map(|l| l.split('┃').next().unwrap_or_default().to_owned())
        .filter(|l| l.contains(&format!(" {who} ")) && l.contains(':'))
        .collect()
}

#[test]
fn every_line_of_a_banned_viewer_is_marked_until_the_ban_is_lifted() {
    let mut c = show(StaffRole::Moderator);
    let ban = Event::ViewerBanned {
        viewer_id: ViewerId("v-marc".into()),
        reason: "insults".into(),
        by: actor("Inès B.", StaffRole::Moderator),
    };
    feed(&mut c, [Msg::Frame(event(24, NOON + 23 * MIN, ban))]);
    let screen = render(&mut c, 160, 48);
    let marc = rows_of(&screen, "Marc");
    assert!(marc.len() >= 3, "Marc's lines are on screen:\n{screen}");
    // A hidden line keeps its own marker, which says more.
    assert!(
        marc.iter()
            .all(|l| l.contains('✕') || l.contains("⊘ ") && l.contains("scam")),
        "every line of Marc's is marked:\n{screen}"
    );
    assert!(
        rows_of(&screen, "Inès").iter().all(|l| !l.contains('✕')),
        "nobody else's:\n{screen}"
    );
    insta::assert_snapshot!("banned_viewer_lines_marked_160x48", screen);

    // A held line of his let through later is marked too.
    let line = message(
        30,
        NOON + 24 * MIN,
        viewer("v-marc", "Marc", "marc"),
        "late line",
    );
    let held = ChatMessage {
        visibility: Visibility::Held {
            reason: HoldReason::BlockedTerm,
            rule_id: None,
        },
        ..line.clone()
    };
    feed(
        &mut c,
        [
            Msg::Frame(event(25, NOON + 24 * MIN, Event::Message { message: held })),
            Msg::Frame(event(
                26,
                NOON + 25 * MIN,
                Event::Released {
                    message: line,
                    by: Some(actor("Inès B.", StaffRole::Moderator)),
                    held_at: Some(NOON + 24 * MIN),
                },
            )),
        ],
    );
    let screen = render(&mut c, 160, 48);
    let late = screen
        .lines()
        .find(|l| l.contains("late line"))
        .expect("the released line is shown");
    assert!(late.contains('✕'), "{late}");

    let lift = Event::SanctionLifted {
        viewer_id: ViewerId("v-marc".into()),
        lifted: LiftedSanction::Ban,
        reason: String::new(),
        by: actor("Inès B.", StaffRole::Moderator),
    };
    feed(&mut c, [Msg::Frame(event(27, NOON + 26 * MIN, lift))]);
    let screen = render(&mut c, 160, 48);
    assert!(!screen.contains('✕'), "unmarked once lifted:\n{screen}");
}

/// A console that joins (or reconnects) after the sanction marks the lines
/// its snapshot brings, from further back than anything it saw happen; a
/// timeout that has run out by the console's clock marks nothing.
#[test]
fn a_late_console_marks_from_the_snapshots_list() {
    let mut c = console(StaffRole::Host);
    let marc = || viewer("v-marc", "Marc", "marc");
    let ines = || viewer("v-ines", "Inès", "ines");
    let zoe = || viewer("v-zoe", "Zoé", "zoe");
    let snapshot = Snapshot {
        recent: vec![
            ChatEntry::Message(message(1, NOON, marc(), "bonsoir")),
            ChatEntry::Message(message(2, NOON + MIN, ines(), "salut")),
            ChatEntry::Message(message(3, NOON + 2 * MIN, zoe(), "coucou")),
        ],
        sanctioned: vec![
            SanctionedViewer {
                viewer_id: ViewerId("v-marc".into()),
                until: Some(NOON + 60 * MIN),
            },
            // Ran out before the console's clock (NOON + 30 min).
            SanctionedViewer {
                viewer_id: ViewerId("v-ines".into()),
                until: Some(NOON + 25 * MIN),
            },
        ],
        ..Snapshot::default()
    };
    feed(
        &mut c,
        [
            Msg::Frame(welcome(StaffRole::Host, "Claire", 3, snapshot)),
            Msg::Connection(ConnStatus::Connected),
        ],
    );
    let screen = render(&mut c, 80, 24);
    let row = |text: &str| {
        screen
            .lines()
            .find(|l| l.contains(text))
            .unwrap_or_else(|| panic!("{text} on screen:\n{screen}"))
            .to_owned()
    };
    assert!(row("bonsoir").contains('✕'), "{screen}");
    assert!(!row("salut").contains('✕'), "{screen}");
    assert!(!row("coucou").contains('✕'), "{screen}");
}
