//! Who did it, end to end on the real hub: a host's manual poll close, a
//! host's early draw and a moderator's release carry that staff member (and
//! only their role for viewers), a console credits them in Staff activity,
//! and what the hub does by itself at a deadline stays the hub's. The
//! viewer count a console shows is refreshed by every welcome and unknown
//! while the hub is away.

mod support;

use std::path::Path;
use std::time::Duration;

use regie::console::keymap::Keymap;
use regie::console::net::{self, NetConfig, NetHandle};
use regie::console::state::{ConnStatus, Console, Session};
use regie::protocol::{Actor, Command, Event, Resume, StaffRole};
use regie::store::{AuditRecord, SqliteStore, Store};
use support::client::Client;
use support::console::{pump, render};
use support::hub::{KeptPort, LIVE, TestHub};

const RULES: &str = "No purchase necessary. Règlement : https://example.com/jeu";

fn staff(name: &str, role: StaffRole) -> Actor {
    Actor {
        name: Some(name.into()),
        role,
    }
}

fn role_only(role: StaffRole) -> Actor {
    Actor { name: None, role }
}

/// A real console (network task and state) signed in as `role` `name`.
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
    (
        Console::new(session, Keymap::default(), 50_000, "rc"),
        handle,
    )
}

/// The actor of the console's activity row whose text starts with `what`
/// (`None`: the hub).
fn credited(state: &Console, what: &str) -> Option<Actor> {
    state
        .activity
        .iter()
        .find(|a| a.what.starts_with(what))
        .unwrap_or_else(|| panic!("no activity row {what:?}"))
        .actor
        .clone()
}

fn by_of(event: &Event) -> Option<Actor> {
    match event {
        Event::PollClosed { by, .. }
        | Event::InstantWinDrawn { by, .. }
        | Event::Released { by, .. } => by.clone(),
        other => panic!("not a credited event: {other:?}"),
    }
}

/// The audit log a stopped hub left in `data_dir`.
fn audit_log(data_dir: &Path) -> Vec<AuditRecord> {
    let mut store = SqliteStore::open(data_dir).expect("open the hub's store");
    store.open_live(LIVE).expect("open the hub's live");
    store.audit_log(LIVE).expect("read the audit log")
}

fn audited(log: &[AuditRecord], action: &str) -> String {
    log.iter()
        .find(|r| r.entry.action == action)
        .unwrap_or_else(|| panic!("no {action} in {log:?}"))
        .entry
        .actor_name
        .clone()
}

async fn open_poll(host: &mut Client, duration_secs: Option<u32>) -> u64 {
    let seq = host
        .ack(Command::PollOpen {
            question: "Quelle couleur ensuite ?".into(),
            options: vec!["Rouge".into(), "Bleu".into()],
            duration_secs,
        })
        .await
        .expect("poll_opened");
    let Event::PollOpened { poll } = host.event_at(seq).await.event else {
        panic!("not a poll_opened")
    };
    poll.id
}

async fn open_draw(host: &mut Client, entry_secs: u32) -> u64 {
    let seq = host
        .ack(Command::InstantWinOpen {
            prize: "Bon d'achat 50 €".into(),
            winners: 1,
            entry_secs,
            rules: RULES.into(),
        })
        .await
        .expect("instant_win_opened");
    let Event::InstantWinOpened { draw } = host.event_at(seq).await.event else {
        panic!("not an instant_win_opened")
    };
    draw.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_close_early_draw_and_release_are_credited_to_who_did_them() {
    let hub = TestHub::start().await;
    let (mut state, mut handle) = console(&hub, StaffRole::Moderator, "Paul").await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer("Julie").await;

    // A poll without a deadline, closed by its host.
    let poll_id = open_poll(&mut host, None).await;
    let closed = host
        .ack(Command::PollClose { poll_id })
        .await
        .expect("poll_closed");
    let sophie = Some(staff("Sophie", StaffRole::Host));
    assert_eq!(by_of(&host.event_at(closed).await.event), sophie);
    assert_eq!(
        by_of(&julie.event_at(closed).await.event),
        Some(role_only(StaffRole::Host)),
        "viewers get the role, never the name"
    );

    // A ten-minute window, drawn early by the host.
    let draw_id = open_draw(&mut host, 600).await;
    julie.ack(Command::Enter { draw_id }).await;
    let drawn = host
        .ack(Command::InstantWinClose { draw_id })
        .await
        .expect("instant_win_drawn");
    assert_eq!(by_of(&host.event_at(drawn).await.event), sophie);
    assert_eq!(
        by_of(&julie.event_at(drawn).await.event),
        Some(role_only(StaffRole::Host))
    );

    // A held message, released by a moderator.
    let held = julie.say("appelle-moi au 06 12 34 56 78").await;
    let Event::Message { message } = ines.event_at(held).await.event else {
        panic!("staff get the held message")
    };
    let released = ines
        .ack(Command::Release {
            message_id: message.id,
        })
        .await
        .expect("released");
    let ines_actor = Some(staff("Inès", StaffRole::Moderator));
    assert_eq!(by_of(&ines.event_at(released).await.event), ines_actor);
    assert_eq!(
        by_of(&julie.event_at(released).await.event),
        Some(role_only(StaffRole::Moderator))
    );

    // The console credits each of them in Staff activity.
    pump(&mut state, &mut handle, "the release", |s| {
        s.seq >= released
    })
    .await;
    assert_eq!(
        credited(&state, &format!("poll #{poll_id} closed")),
        sophie.clone()
    );
    assert_eq!(
        credited(&state, &format!("instant win #{draw_id} drawn")),
        sophie
    );
    assert_eq!(credited(&state, "released"), ines_actor.clone());
    let screen = render(&mut state, 160, 48);
    assert!(
        screen.contains(&format!("Sophie (host) poll #{poll_id} closed")),
        "{screen}"
    );
    assert!(screen.contains("Inès (moderator) released"), "{screen}");

    // The store keeps who released it: a replay from the start says so.
    let mut hello = hub.staff_hello(StaffRole::Admin, "Ana");
    hello.resume = Some(Resume {
        epoch: host.welcome.epoch.clone(),
        seq: 0,
    });
    let mut ana = hub.join(hello).await;
    assert!(ana.welcome.resumed);
    assert_eq!(by_of(&ana.event_at(released).await.event), ines_actor);
    assert_eq!(
        by_of(&ana.event_at(closed).await.event),
        Some(staff("Sophie", StaffRole::Host))
    );

    drop((host, ines, julie, ana, handle));
    let dir = hub.stop().await.expect("the hub owns its data dir");
    let log = audit_log(dir.path());
    assert_eq!(audited(&log, "poll_close"), "Sophie");
    assert_eq!(audited(&log, "instant_win_draw"), "Sophie");
    assert_eq!(audited(&log, "release"), "Inès");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_hub_closes_at_a_deadline_stays_the_hubs() {
    // One game "second" is 20 ms: a 10 s poll lasts 200 ms.
    let hub = TestHub::start_with(|c| c.limits.game_second = Duration::from_millis(20)).await;
    let (mut state, mut handle) = console(&hub, StaffRole::Moderator, "Paul").await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut julie = hub.viewer("Julie").await;

    let poll_id = open_poll(&mut host, Some(10)).await;
    let draw_id = open_draw(&mut host, 10).await;
    julie.ack(Command::Enter { draw_id }).await;
    let closed = host
        .wait_event(|e| matches!(e, Event::PollClosed { .. }))
        .await;
    assert_eq!(by_of(&closed.event), None, "the deadline closed it");
    let drawn = host
        .wait_event(|e| matches!(e, Event::InstantWinDrawn { .. }))
        .await;
    assert_eq!(by_of(&drawn.event), None, "the window's end drew it");

    let last = closed.seq.max(drawn.seq);
    pump(
        &mut state,
        &mut handle,
        "the automatic close and draw",
        |s| s.seq >= last,
    )
    .await;
    assert_eq!(credited(&state, &format!("poll #{poll_id} closed")), None);
    assert_eq!(
        credited(&state, &format!("instant win #{draw_id} drawn")),
        None
    );
    let screen = render(&mut state, 160, 48);
    assert!(
        screen.contains(&format!("hub poll #{poll_id} closed")),
        "{screen}"
    );

    drop((host, julie, handle));
    let dir = hub.stop().await.expect("the hub owns its data dir");
    let log = audit_log(dir.path());
    assert_eq!(audited(&log, "poll_close"), "hub");
    assert_eq!(audited(&log, "instant_win_draw"), "hub");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_count_is_unknown_while_away_and_refreshed_on_welcome() {
    let port = KeptPort::bind();
    let hub = TestHub::start_on(&port, LIVE, |_| {}).await;
    let viewers = [
        hub.viewer("Julie").await,
        hub.viewer("Marc").await,
        hub.viewer("Léa").await,
    ];
    let (mut state, mut handle) = console(&hub, StaffRole::Moderator, "Inès").await;
    pump(&mut state, &mut handle, "the welcome", |s| {
        s.viewers_online.is_some()
    })
    .await;
    assert_eq!(state.viewers_online, Some(3));
    // The staff welcome of a plain client says the same.
    let ana = hub.staff(StaffRole::Admin, "Ana").await;
    assert_eq!(ana.welcome.viewers_online, Some(3));

    drop((viewers, ana));
    let dir = hub.stop().await.expect("the hub owns its data dir");
    pump(&mut state, &mut handle, "the console to notice", |s| {
        matches!(s.conn, ConnStatus::Reconnecting { .. })
    })
    .await;
    assert_eq!(state.viewers_online, None, "a count from before is stale");
    let screen = render(&mut state, 160, 48);
    assert!(screen.contains(" — online "), "{screen}");

    // Nobody watches the restarted hub; the resumed welcome says so.
    let hub = TestHub::restart(&port, LIVE, dir, |_| {}).await;
    pump(&mut state, &mut handle, "the resumed welcome", |s| {
        s.conn == ConnStatus::Connected && s.viewers_online.is_some()
    })
    .await;
    assert_eq!(state.viewers_online, Some(0));
    let screen = render(&mut state, 160, 48);
    assert!(screen.contains(" 0 online "), "{screen}");
    drop(handle);
    hub.stop().await;
}
