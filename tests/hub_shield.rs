//! Shield end to end: a real hub on 127.0.0.1:0, real WebSocket clients,
//! the hub's clock moved by hand (no sleeps).

mod support;

use std::path::Path;

use regie::hub::shield::ShieldPreset;
use regie::moderation::{Action, LinkPolicy};
use regie::protocol::{
    ChatMessage, Command, ErrorCode, Event, HoldReason, ServerFrame, Settings, ShieldPresetView,
    StaffRole, ViewerId, Visibility,
};
use regie::store::{AuditRecord, SqliteStore, Store};
use support::binary::{Served, run};
use support::client::{Client, close_code, staff_hello, viewer_hello};
use support::hub::{LIVE, ManualClock, TestHub};

const MINUTE: i64 = 60_000;

fn say(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: false,
        announcement: false,
    }
}

fn viewer_id(c: &Client) -> ViewerId {
    c.welcome.you.viewer_id.clone().expect("a viewer has an id")
}

fn preset() -> ShieldPreset {
    ShieldPreset {
        slow_mode_secs: 20,
        hold_first_time_chatters: true,
        terms: vec!["zorglub".into()],
        regexes: vec![r"\bpromo\s*code\b".into()],
        action: Action::Hold,
        links: LinkPolicy::NoLinks,
        ban_recent_terms: Vec::new(),
        ban_recent_minutes: 5,
    }
}

async fn hub_with(clock: &ManualClock, preset: ShieldPreset) -> TestHub {
    let time = clock.clock();
    TestHub::start_with(move |c| {
        c.clock = time;
        c.shield = preset;
    })
    .await
}

/// The settings a viewer joining now is welcomed with.
async fn settings_seen_by_a_new_viewer(hub: &TestHub) -> Settings {
    let v = hub.viewer("Témoin").await;
    v.welcome
        .snapshot
        .expect("a fresh join has a snapshot")
        .settings
}

fn audit_log(data_dir: &Path) -> Vec<AuditRecord> {
    let mut store = SqliteStore::open(data_dir).expect("open the hub's store");
    store.open_live(LIVE).expect("open the hub's live");
    store.audit_log(LIVE).expect("read the audit log")
}

/// The message event staff got for the line acked at `seq`.
async fn staff_sees(staff: &mut Client, seq: u64) -> ChatMessage {
    match staff.event_at(seq).await.event {
        Event::Message { message } => message,
        other => panic!("expected a message at {seq}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shield_on_then_off_restores_the_previous_settings_exactly() {
    let clock = ManualClock::new();
    let hub = hub_with(&clock, preset()).await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer("Julie").await;
    // Staff are told what the preset changes (counts, not terms); viewers not.
    let view = ines
        .welcome
        .snapshot
        .as_ref()
        .and_then(|s| s.shield_preset.clone());
    assert_eq!(
        view,
        Some(ShieldPresetView {
            slow_mode_secs: 20,
            hold_first_time_chatters: true,
            terms: 1,
            regexes: 1,
            blocks: false,
            links: "none".into(),
            ban_recent_terms: 0,
            ban_recent_minutes: 5,
        })
    );
    assert_eq!(
        julie
            .welcome
            .snapshot
            .as_ref()
            .map(|s| s.shield_preset.is_none()),
        Some(true)
    );
    // Slow mode already on before Shield.
    ines.ack(Command::SlowMode { secs: 7 })
        .await
        .expect("an event");
    let before = settings_seen_by_a_new_viewer(&hub).await;
    assert_eq!((before.slow_mode_secs, before.shield), (7, false));

    let seq = ines.ack(Command::ShieldOn).await.expect("an event");
    match julie.event_at(seq).await.event {
        Event::ShieldChanged {
            on,
            slow_mode_secs,
            by,
        } => {
            assert!(on);
            assert_eq!(slow_mode_secs, 20);
            assert_eq!((by.name, by.role), (None, StaffRole::Moderator));
        }
        other => panic!("expected shield_changed, got {other:?}"),
    }
    match ines.event_at(seq).await.event {
        Event::ShieldChanged { by, .. } => assert_eq!(by.name.as_deref(), Some("Inès")),
        other => panic!("expected shield_changed, got {other:?}"),
    }
    let during = settings_seen_by_a_new_viewer(&hub).await;
    assert_eq!((during.slow_mode_secs, during.shield), (20, true));

    // A second shield_on while on changes nothing and keeps what was
    // remembered (not Shield's own 20 s).
    assert_eq!(ines.ack(Command::ShieldOn).await, None);
    assert_eq!(settings_seen_by_a_new_viewer(&hub).await, during);

    let seq = ines.ack(Command::ShieldOff).await.expect("an event");
    match julie.event_at(seq).await.event {
        Event::ShieldChanged {
            on, slow_mode_secs, ..
        } => assert_eq!((on, slow_mode_secs), (false, 7)),
        other => panic!("expected shield_changed, got {other:?}"),
    }
    assert_eq!(settings_seen_by_a_new_viewer(&hub).await, before);
    assert_eq!(
        ines.ack(Command::ShieldOff).await,
        None,
        "off twice: a no-op"
    );

    let dir = hub.stop().await.expect("the hub's temp dir");
    let log = audit_log(dir.path());
    let actions: Vec<&str> = log
        .iter()
        .map(|r| r.entry.action.as_str())
        .filter(|a| a.starts_with("shield"))
        .collect();
    assert_eq!(actions, ["shield_on", "shield_off"]);
    assert!(
        log.iter()
            .all(|r| !r.entry.action.starts_with("shield") || r.entry.actor_name == "Inès")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_on_the_preset_applies_and_off_it_all_stops() {
    let clock = ManualClock::new();
    let t0 = clock.now();
    let hub = hub_with(&clock, preset()).await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer("Julie").await;
    let mut watcher = hub.viewer("Léo").await;
    // Julie chatted before Shield: she is not a first-time chatter.
    julie.say("bonjour").await;
    let mut marc = hub.viewer("Marc").await;

    ines.ack(Command::ShieldOn).await.expect("an event");

    // Marc's first line in this live comes during Shield: held, and so
    // is his next one.
    let seq = marc.say("salut").await;
    let held = staff_sees(&mut ines, seq).await;
    assert_eq!(
        held.visibility,
        Visibility::Held {
            reason: HoldReason::FirstTimeChatter,
            rule_id: None,
        }
    );
    clock.set(t0 + 21_000);
    let seq = marc.say("encore moi").await;
    assert!(matches!(
        staff_sees(&mut ines, seq).await.visibility,
        Visibility::Held {
            reason: HoldReason::FirstTimeChatter,
            rule_id: None,
        }
    ));

    // Julie, established: a preset term, a preset regex and a link are
    // held by Shield's rules.
    for (step, text) in [
        (2, "c'est du ZORGLUB"),
        (3, "un promo code ?"),
        (4, "voir www.example.com"),
    ] {
        clock.set(t0 + 21_000 * step);
        let seq = julie.say(text).await;
        assert_eq!(
            staff_sees(&mut ines, seq).await.visibility,
            Visibility::Held {
                reason: HoldReason::ShieldRule,
                rule_id: None,
            },
            "{text}"
        );
    }
    // A clean line from Julie passes, then the slow mode refuses with the wait.
    clock.set(t0 + 21_000 * 5);
    let clean = julie.say("joli").await;
    let refused = julie.refused(say("et celle-ci ?")).await;
    assert_eq!(refused.code, ErrorCode::RateLimited);
    assert_eq!(refused.retry_after_ms, Some(20_000));
    assert!(refused.message.contains("20 s"), "{}", refused.message);

    // The other viewer saw none of the held lines: the first thing after
    // Shield's event is Julie's clean line.
    let seen = watcher.event_at(clean).await;
    let texts: Vec<String> = watcher
        .events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Message { message } => Some(message.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["bonjour", "joli"], "{seen:?}");

    ines.ack(Command::ShieldOff).await.expect("an event");
    // Off: no slow mode, no first-time hold, no Shield rules.
    clock.set(t0 + 21_000 * 5 + 1_000);
    let seq = marc.say("merci").await;
    assert_eq!(
        staff_sees(&mut ines, seq).await.visibility,
        Visibility::Visible
    );
    for text in ["zorglub", "www.example.com", "un promo code"] {
        let seq = julie.say(text).await;
        assert_eq!(
            staff_sees(&mut ines, seq).await.visibility,
            Visibility::Visible,
            "{text}"
        );
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_preset_refuses_the_sender_and_shows_nobody() {
    let clock = ManualClock::new();
    let hub = hub_with(
        &clock,
        ShieldPreset {
            action: Action::Block,
            hold_first_time_chatters: false,
            ..preset()
        },
    )
    .await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer("Julie").await;
    // Before Shield, the preset's term is plain chat.
    let seq = julie.say("zorglub").await;
    assert_eq!(
        staff_sees(&mut ines, seq).await.visibility,
        Visibility::Visible
    );
    ines.ack(Command::ShieldOn).await.expect("an event");
    clock.set(clock.now() + 21_000);
    let refused = julie.refused(say("zorglub encore")).await;
    assert_eq!(refused.code, ErrorCode::Blocked);
    assert!(!refused.temporary);
    // Nothing was posted: up to staff's next line, no event carries it.
    let seq = ines.say("on se calme").await;
    ines.event_at(seq).await;
    let texts: Vec<&str> = ines
        .events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Message { message } => Some(message.text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["zorglub", "on se calme"]);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ban_recent_terms_lists_who_used_them_and_bans_can_be_undone() {
    let clock = ManualClock::new();
    let t0 = clock.now();
    let hub = hub_with(
        &clock,
        ShieldPreset {
            ban_recent_terms: vec!["gratos*".into()],
            ban_recent_minutes: 5,
            ..preset()
        },
    )
    .await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut early = hub.viewer_with_key("Anne", "key-anne").await;
    let mut bob = hub.viewer_with_key("Bob", "key-bob").await;
    let mut chloe = hub.viewer_with_key("Chloé", "key-chloe").await;
    early.say("GRATOS pour tous").await;
    clock.set(t0 + 3 * MINUTE);
    bob.say("c'est gratosse ici").await;
    clock.set(t0 + 4 * MINUTE);
    bob.say("gratos gratos").await;
    chloe.say("bonjour, gratuit ?").await;
    // Anne's use is 7 minutes old when Shield goes on: outside the window.
    clock.set(t0 + 7 * MINUTE);

    let (seq, listed) = match ines.command(Command::ShieldOn).await {
        ServerFrame::ShieldReview { seq, viewers, .. } => (seq, viewers),
        other => panic!("expected shield_review, got {other:?}"),
    };
    assert!(seq.is_some(), "Shield went on");
    let ids: Vec<(ViewerId, u32)> = listed
        .iter()
        .map(|s| (s.viewer_id.clone(), s.uses))
        .collect();
    assert_eq!(ids, [(viewer_id(&bob), 2)]);
    assert_eq!(listed[0].first_name, "Bob");
    // The list went to the sender only: another moderator got the event.
    let mut other = hub.staff(StaffRole::Moderator, "Paul").await;

    // The moderator confirms the ban from the list…
    let bob_id = viewer_id(&bob);
    ines.ack(Command::Ban {
        viewer_id: bob_id.clone(),
        reason: "Shield: used a banned term".into(),
    })
    .await
    .expect("an event");
    let closed = bob.closed().await;
    assert_eq!(
        closed.code,
        Some(close_code(regie::protocol::CloseCode::Banned))
    );
    // …and undoes it: Bob may join and chat again.
    ines.ack(Command::Unban {
        viewer_id: bob_id.clone(),
        reason: "Shield: undone".into(),
    })
    .await
    .expect("an event");
    ines.ack(Command::ShieldOff).await.expect("an event");
    let mut bob = hub.viewer_with_key("Bob", "key-bob").await;
    assert_eq!(viewer_id(&bob), bob_id);
    let seq = bob.say("pardon").await;
    assert_eq!(
        staff_sees(&mut other, seq).await.visibility,
        Visibility::Visible
    );

    let dir = hub.stop().await.expect("the hub's temp dir");
    let log = audit_log(dir.path());
    let actions: Vec<&str> = log.iter().map(|r| r.entry.action.as_str()).collect();
    for action in ["shield_on", "ban", "unban", "shield_off"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_moderators_and_admins_raise_the_shield() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    for command in [Command::ShieldOn, Command::ShieldOff] {
        assert_eq!(
            julie.refused(command.clone()).await.code,
            ErrorCode::Forbidden
        );
        for role in [StaffRole::Host, StaffRole::Support] {
            let mut staff = hub.staff(role, "Sam").await;
            assert_eq!(
                staff.refused(command.clone()).await.code,
                ErrorCode::Forbidden,
                "{role:?} {}",
                command.name()
            );
        }
    }
    let mut admin = hub.staff(StaffRole::Admin, "Ada").await;
    assert!(admin.ack(Command::ShieldOn).await.is_some());
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    assert!(moderator.ack(Command::ShieldOff).await.is_some());
    hub.stop().await;
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).expect("the test writes its brand file");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_brand_files_shield_preset_is_what_shield_on_applies() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir.path().join("brand.toml"),
        "[shield]\nslow_mode_secs = 42\nterms = [\"zorglub\"]\naction = \"block\"\n",
    );
    let data = dir.path().join("data");
    let mut serve = Served::start(&data, "warn", &["--config", &file]);
    let serving = loop {
        let line = serve
            .line(support::hub::TIMEOUT)
            .expect("serve says it serves");
        if line.contains("serving") {
            break line;
        }
    };
    let url = serving
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .expect("an address")
        .to_string();
    let data_arg = data.display().to_string();
    let token = run(
        &[
            "token",
            "--role",
            "moderator",
            "--name",
            "Inès",
            "--data",
            &data_arg,
            "--live",
            "show",
        ],
        &[],
    );
    assert_eq!(token.code, 0, "{}", token.stderr);
    let mut ines = Client::try_join(&url, staff_hello("show", token.stdout.trim()))
        .await
        .unwrap_or_else(|c| panic!("refused: {:?}", c.code));
    let mut julie = Client::try_join(&url, viewer_hello("show", "Julie"))
        .await
        .unwrap_or_else(|c| panic!("refused: {:?}", c.code));
    let seq = ines.ack(Command::ShieldOn).await.expect("an event");
    match julie.event_at(seq).await.event {
        Event::ShieldChanged {
            on, slow_mode_secs, ..
        } => assert_eq!((on, slow_mode_secs), (true, 42)),
        other => panic!("expected shield_changed, got {other:?}"),
    }
    // Her first line under the preset: its term blocks (before the slow
    // mode has anything to count).
    let refused = julie.refused(say("zorglub")).await;
    assert_eq!(refused.code, ErrorCode::Blocked);
    drop((ines, julie));
    serve.interrupt();
    let exit = serve.wait(support::hub::TIMEOUT).expect("serve exits");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn config_check_warns_on_unknown_shield_keys_and_refuses_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let typo = write(
        &dir.path().join("typo.toml"),
        "[shield]\nslow_mode_secs = 60\nslow_mode = 3\n",
    );
    let ran = run(&["config", "check", &typo], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("{typo}:3:")) && ran.stderr.contains("shield.slow_mode"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stdout.contains("shield: slow mode 60s"),
        "{}",
        ran.stdout
    );

    for (text, line, key) in [
        ("[shield]\nlinks = \"some\"\n", 2, "shield.links"),
        ("[shield]\n\nterms = [\"a*b\"]\n", 3, "shield.terms"),
        ("[shield]\nregexes = [\"(\"]\n", 2, "shield.regexes"),
        (
            "[shield]\nban_recent_minutes = 0\n",
            2,
            "shield.ban_recent_minutes",
        ),
    ] {
        let bad = write(&dir.path().join("bad.toml"), text);
        let ran = run(&["config", "check", &bad], &[]);
        assert_eq!(ran.code, 2, "{text}: {}", ran.stderr);
        assert!(
            ran.stderr.contains(&format!("{bad}:{line}:")) && ran.stderr.contains(key),
            "{text}: {}",
            ran.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_hub_keeps_shield_on_and_off_restores_the_lives_settings() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let start = || {
        let time = clock.clock();
        TestHub::start_in(dir.path(), move |c| {
            c.clock = time;
            c.shield = preset();
        })
    };
    let hub = start().await;
    let before = settings_seen_by_a_new_viewer(&hub).await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer_with_key("Julie", "key-julie").await;
    julie.say("bonjour").await;
    ines.ack(Command::ShieldOn).await.expect("an event");
    drop((ines, julie));
    hub.stop().await;

    let hub = start().await;
    let during = settings_seen_by_a_new_viewer(&hub).await;
    assert_eq!((during.shield, during.slow_mode_secs), (true, 20));
    // Julie's line is in the restored chat: not a first-time chatter.
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer_with_key("Julie", "key-julie").await;
    let seq = julie.say("re").await;
    assert_eq!(
        staff_sees(&mut ines, seq).await.visibility,
        Visibility::Visible
    );
    let mut marc = hub.viewer("Marc").await;
    let seq = marc.say("salut").await;
    assert_eq!(
        staff_sees(&mut ines, seq).await.visibility,
        Visibility::Held {
            reason: HoldReason::FirstTimeChatter,
            rule_id: None,
        }
    );
    ines.ack(Command::ShieldOff).await.expect("an event");
    assert_eq!(settings_seen_by_a_new_viewer(&hub).await, before);
    drop((ines, julie, marc));
    hub.stop().await;

    // Off is kept too.
    let hub = start().await;
    assert_eq!(settings_seen_by_a_new_viewer(&hub).await, before);
    hub.stop().await;
}
