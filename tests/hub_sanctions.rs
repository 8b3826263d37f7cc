//! Slow mode and lifted sanctions end to end: a real hub on 127.0.0.1:0,
//! real WebSocket clients, the hub's clock moved by hand (no sleeps).

mod support;

use std::path::Path;

use regie::protocol::{
    Command, ErrorCode, Event, LiftedSanction, Role, ServerFrame, StaffRole, ViewerId,
};
use regie::store::{AuditRecord, SqliteStore, Store};
use support::client::{Client, close_code, keyed_viewer_hello};
use support::hub::{LIVE, ManualClock, TestHub};

fn say(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: false,
        announcement: false,
    }
}

/// The settings a client's welcome gave it.
fn settings(c: &Client) -> regie::protocol::Settings {
    c.welcome
        .snapshot
        .as_ref()
        .expect("a fresh welcome has a snapshot")
        .settings
        .clone()
}

fn viewer_id(c: &Client) -> ViewerId {
    c.welcome.you.viewer_id.clone().expect("a viewer has an id")
}

/// The audit log a stopped hub left in `data_dir`.
fn audit_log(data_dir: &Path) -> Vec<AuditRecord> {
    let mut store = SqliteStore::open(data_dir).expect("open the hub's store");
    store.open_live(LIVE).expect("open the hub's live");
    store.audit_log(LIVE).expect("read the audit log")
}

fn audited<'a>(log: &'a [AuditRecord], action: &str) -> &'a AuditRecord {
    log.iter()
        .find(|r| r.entry.action == action)
        .unwrap_or_else(|| panic!("no {action} in {log:?}"))
}

async fn hub_on(clock: &ManualClock) -> TestHub {
    let time = clock.clock();
    TestHub::start_with(move |c| c.clock = time).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_mode_refuses_a_second_message_with_the_wait_and_off_allows_it() {
    let clock = ManualClock::new();
    let t0 = clock.now();
    let hub = hub_on(&clock).await;
    let mut sophie = hub.staff(StaffRole::Host, "Sophie").await;
    let mut julie = hub.viewer("Julie").await;
    let before = julie.position();

    let seq = sophie
        .ack(Command::SlowMode { secs: 30 })
        .await
        .expect("an event");
    // Every client is told, viewers without the staff member's name.
    match julie.event_at(seq).await.event {
        Event::SlowModeChanged { secs, by } => {
            assert_eq!(secs, 30);
            assert_eq!((by.name, by.role), (None, StaffRole::Host));
        }
        other => panic!("expected slow_mode_changed, got {other:?}"),
    }

    julie.say("première").await;
    let refused = julie.refused(say("deuxième")).await;
    assert_eq!(refused.code, ErrorCode::RateLimited);
    assert!(refused.temporary);
    assert_eq!(refused.retry_after_ms, Some(30_000));
    assert!(
        refused.message.contains("30 s"),
        "the wait is in the message: {}",
        refused.message
    );
    clock.set(t0 + 29_000);
    let refused = julie.refused(say("deuxième")).await;
    assert_eq!(refused.retry_after_ms, Some(1_000));
    assert!(refused.message.contains("1 s"), "{}", refused.message);
    clock.set(t0 + 30_000);
    julie.say("deuxième").await;

    // A console joining late, and a viewer resuming, learn the setting.
    let late = hub.staff(StaffRole::Moderator, "Inès").await;
    let snapshot = late.welcome.snapshot.as_ref().expect("a snapshot");
    assert_eq!(snapshot.settings.slow_mode_secs, 30);
    let mut hello = hub.viewer_hello("Marc");
    hello.resume = Some(before);
    let mut marc = hub.join(hello).await;
    assert!(matches!(
        marc.event_at(seq).await.event,
        Event::SlowModeChanged { secs: 30, .. }
    ));

    // Off: the rate limit's burst is all that applies again.
    sophie.ack(Command::SlowMode { secs: 0 }).await;
    julie.say("troisième").await;
    julie.say("quatrième").await;

    // Out of bounds is refused and changes nothing.
    let e = sophie.refused(Command::SlowMode { secs: 3_601 }).await;
    assert_eq!(e.code, ErrorCode::Invalid);
    julie.say("cinquième").await;

    let dir = hub.stop().await.expect("the hub owned its temp dir");
    let log = audit_log(dir.path());
    let on = audited(&log, "slow_mode");
    assert_eq!(on.entry.actor_name, "Sophie");
    assert_eq!(on.entry.target, "30", "the new gap, in seconds");
    assert_eq!(
        log.iter().filter(|r| r.entry.action == "slow_mode").count(),
        2,
        "on and off are audited, the refused one is not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unban_restores_chat_and_tells_only_that_viewer() {
    let hub = TestHub::start().await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let julie = hub.viewer_with_key("Julie", "julie-device").await;
    let mut marc = hub.viewer("Marc").await;
    let id = viewer_id(&julie);

    let e = ines
        .refused(Command::Unban {
            viewer_id: id.clone(),
            reason: String::new(),
        })
        .await;
    assert_eq!(
        e.code,
        ErrorCode::NotFound,
        "nothing to lift: {}",
        e.message
    );

    ines.ack(Command::Ban {
        viewer_id: id.clone(),
        reason: "insults".into(),
    })
    .await;
    let closed = julie.closed().await;
    assert_eq!(
        closed.code,
        Some(close_code(regie::protocol::CloseCode::Banned))
    );
    let refused = hub
        .try_join(keyed_viewer_hello(&hub.live, "Julie", "julie-device"))
        .await;
    assert!(refused.is_err(), "still banned");

    let seq = ines
        .ack(Command::Unban {
            viewer_id: id.clone(),
            reason: "appeal accepted".into(),
        })
        .await
        .expect("an event");
    match ines.event_at(seq).await.event {
        Event::SanctionLifted {
            viewer_id,
            lifted,
            reason,
            by,
        } => {
            assert_eq!(viewer_id, id);
            assert_eq!(lifted, LiftedSanction::Ban);
            assert_eq!(reason, "appeal accepted");
            assert_eq!(by.name.as_deref(), Some("Inès"));
        }
        other => panic!("expected sanction_lifted, got {other:?}"),
    }

    let mut julie = hub.viewer_with_key("Julie", "julie-device").await;
    assert_eq!(viewer_id(&julie), id, "the same viewer is back");
    let said = julie.say("merci !").await;
    // Another viewer never learns of it.
    marc.event_at(said).await;
    assert!(
        !marc
            .events
            .iter()
            .any(|e| matches!(e.event, Event::SanctionLifted { .. })),
        "{:?}",
        marc.events
    );

    let dir = hub.stop().await.expect("the hub owned its temp dir");
    let log = audit_log(dir.path());
    let unban = audited(&log, "unban");
    assert_eq!(unban.entry.target, id.0);
    assert_eq!(unban.entry.reason, "appeal accepted");
    assert_eq!(unban.entry.actor_name, "Inès");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_from_before_a_restart_can_be_lifted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let julie = hub.viewer_with_key("Julie", "julie-device").await;
    let id = viewer_id(&julie);
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    ines.ack(Command::Ban {
        viewer_id: id.clone(),
        reason: "spam".into(),
    })
    .await;
    julie.closed().await;
    hub.stop().await;

    // A new hub on the same store: the viewer has not joined since.
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    ines.ack(Command::Unban {
        viewer_id: id.clone(),
        reason: "mistake".into(),
    })
    .await;
    let mut julie = hub.viewer_with_key("Julie", "julie-device").await;
    julie.say("me revoilà").await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifting_a_timeout_restores_chat_and_the_viewer_is_told_neutrally() {
    let hub = TestHub::start().await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer_with_key("Julie", "julie-device").await;
    let id = viewer_id(&julie);

    ines.ack(Command::Timeout {
        viewer_id: id.clone(),
        seconds: 600,
        reason: "spam".into(),
    })
    .await;
    assert_eq!(julie.refused(say("hé")).await.code, ErrorCode::TimedOut);

    let seq = ines
        .ack(Command::LiftTimeout {
            viewer_id: id.clone(),
            reason: "wrong viewer".into(),
        })
        .await
        .expect("an event");
    match julie.event_at(seq).await.event {
        Event::SanctionLifted {
            viewer_id,
            lifted,
            reason,
            by,
        } => {
            assert_eq!(viewer_id, id);
            assert_eq!(lifted, LiftedSanction::Timeout);
            assert_eq!(reason, "", "viewers get a neutral notice");
            assert_eq!((by.name, by.role), (None, StaffRole::Moderator));
        }
        other => panic!("expected sanction_lifted, got {other:?}"),
    }
    julie.say("merci").await;
    let e = ines
        .refused(Command::LiftTimeout {
            viewer_id: id.clone(),
            reason: String::new(),
        })
        .await;
    assert_eq!(e.code, ErrorCode::NotFound);

    // The store agrees: a reconnect is not timed out again.
    drop(julie);
    let mut julie = hub.viewer_with_key("Julie", "julie-device").await;
    julie.say("toujours là").await;

    let dir = hub.stop().await.expect("the hub owned its temp dir");
    let log = audit_log(dir.path());
    assert_eq!(audited(&log, "lift_timeout").entry.reason, "wrong viewer");
}

/// Who may turn slow mode on and lift sanctions, as the issue asks:
/// moderators and admins lift; hosts, moderators and admins pace the chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_permission_matrix_for_slow_mode_and_lifting() {
    let hub = TestHub::start().await;
    let target = hub.viewer("Julie").await;
    let id = viewer_id(&target);
    // (role, may set slow mode, may lift)
    let matrix = [
        (StaffRole::Host, true, false),
        (StaffRole::Moderator, true, true),
        (StaffRole::Support, false, false),
        (StaffRole::Admin, true, true),
    ];
    for (i, (role, paces, lifts)) in matrix.into_iter().enumerate() {
        let mut staff = hub.staff(role, &format!("staff{i}")).await;
        let secs = u32::try_from(i).unwrap() + 1;
        let answer = staff.command(Command::SlowMode { secs }).await;
        match (paces, answer) {
            (true, ServerFrame::Ack { .. }) => {}
            (false, ServerFrame::Error(e)) => assert_eq!(e.code, ErrorCode::Forbidden),
            (_, other) => panic!("{role:?} slow_mode: {other:?}"),
        }
        for command in [
            Command::Unban {
                viewer_id: id.clone(),
                reason: String::new(),
            },
            Command::LiftTimeout {
                viewer_id: id.clone(),
                reason: String::new(),
            },
        ] {
            let name = command.name();
            let e = staff.refused(command).await;
            // Allowed, but there is nothing to lift.
            let expected = if lifts {
                ErrorCode::NotFound
            } else {
                ErrorCode::Forbidden
            };
            assert_eq!(e.code, expected, "{role:?} {name}: {}", e.message);
        }
    }
    let mut viewer = hub.viewer("Marc").await;
    assert_eq!(viewer.welcome.you.role, Role::Viewer);
    for command in [
        Command::SlowMode { secs: 0 },
        Command::Unban {
            viewer_id: id.clone(),
            reason: String::new(),
        },
        Command::LiftTimeout {
            viewer_id: id.clone(),
            reason: String::new(),
        },
    ] {
        assert_eq!(viewer.refused(command).await.code, ErrorCode::Forbidden);
    }
    hub.stop().await;
}

/// A console that joins late learns who is sanctioned, so it can mark all
/// their lines: bans and timeouts still running, not a lifted ban nor a
/// timeout that has run out. Viewers are never told who is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_staff_snapshot_lists_who_is_sanctioned_now() {
    let clock = ManualClock::new();
    let t0 = clock.now();
    let hub = hub_on(&clock).await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let (julie, marc, lea, noe) = (
        hub.viewer("Julie").await,
        hub.viewer("Marc").await,
        hub.viewer("Léa").await,
        hub.viewer("Noé").await,
    );
    let sanction = |viewer: &Client, seconds: Option<u32>| {
        let viewer_id = viewer_id(viewer);
        match seconds {
            Some(seconds) => Command::Timeout {
                viewer_id,
                seconds,
                reason: String::new(),
            },
            None => Command::Ban {
                viewer_id,
                reason: String::new(),
            },
        }
    };
    ines.ack(sanction(&julie, None)).await;
    ines.ack(sanction(&marc, Some(600))).await;
    ines.ack(sanction(&lea, Some(10))).await;
    ines.ack(sanction(&noe, None)).await;
    ines.ack(Command::Unban {
        viewer_id: viewer_id(&noe),
        reason: String::new(),
    })
    .await;
    clock.set(t0 + 11_000);

    let late = hub.staff(StaffRole::Host, "Sophie").await;
    let snapshot = late.welcome.snapshot.as_ref().expect("a snapshot");
    let mut listed: Vec<_> = snapshot
        .sanctioned
        .iter()
        .map(|s| (s.viewer_id.clone(), s.until))
        .collect();
    listed.sort();
    let mut expected = vec![
        (viewer_id(&julie), None),
        (viewer_id(&marc), Some(t0 + 600_000)),
    ];
    expected.sort();
    assert_eq!(listed, expected, "only who is sanctioned now");

    let viewer = hub.viewer("Anna").await;
    let seen = viewer.welcome.snapshot.as_ref().expect("a snapshot");
    assert!(seen.sanctioned.is_empty(), "{:?}", seen.sanctioned);
}

/// Slow mode set by staff survives a restart, and so does the slow mode
/// Shield will restore: on again with Shield's, back to the staff's when
/// Shield is lifted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_mode_survives_a_restart_also_under_shield() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    ines.ack(Command::SlowMode { secs: 10 }).await;
    hub.stop().await;

    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let julie = hub.viewer("Julie").await;
    assert_eq!(settings(&julie).slow_mode_secs, 10);
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    ines.ack(Command::ShieldOn).await;
    hub.stop().await;

    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let shielded = settings(&hub.viewer("Marc").await);
    assert!(shielded.shield, "Shield is on again");
    let preset = regie::hub::shield::ShieldPreset::default().slow_mode_secs;
    assert_eq!(shielded.slow_mode_secs, preset);
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    ines.ack(Command::ShieldOff).await;
    let after = settings(&hub.viewer("Léa").await);
    assert_eq!(after.slow_mode_secs, 10, "the staff's slow mode is back");
    ines.ack(Command::SlowMode { secs: 0 }).await;
    hub.stop().await;

    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let off = settings(&hub.viewer("Noé").await);
    assert_eq!(off.slow_mode_secs, 0, "turned off stays off");
    hub.stop().await;
}
