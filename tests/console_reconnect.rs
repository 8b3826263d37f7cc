//! Faults: the hub is restarted mid-feed on the same data dir. The
//! console's network task reconnects and resumes from its last
//! `(epoch, seq)`; a command typed while the hub was down is sent once on
//! reconnect; and the console's feed ends up equal to what a fresh client
//! gets, with no gap and no duplicate. Real hub on 127.0.0.1:0, no mocks.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use regie::console::keymap::Keymap;
use regie::console::net::{self, NetConfig, NetEvent, NetHandle};
use regie::console::state::{ConnStatus, Console, Effect, Msg, Session, update};
use regie::hub::HubConfig;
use regie::protocol::*;
use support::client::{keyed_viewer_hello, staff_hello, text_message};
use support::hub::{KeptPort, TestHub, as_shipped};
use tokio::sync::oneshot;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;

const LIVE: &str = "show";
const MESSAGES: usize = 300;

fn hub_config(config: &mut HubConfig) {
    as_shipped(config);
    // One test viewer sends the whole feed: lift its rate limit.
    config.settings.viewer_rate_per_sec = 10_000;
    config.settings.viewer_burst = 10_000;
    config.limits.recent_in_snapshot = 5_000;
}

/// A viewer that says `MESSAGES` numbered lines. Only an acked line is
/// accepted by the hub, so when the hub goes away the viewer reconnects and
/// resends from its first unacked line, with the same command ids: lines the
/// hub had already taken are acked again, not posted twice.
async fn viewer_feed(url: String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    'connect: while acked.load(Ordering::SeqCst) < MESSAGES {
        assert!(Instant::now() < deadline, "the viewer could not finish");
        let Ok((ws, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (mut tx, mut rx) = ws.split();
        let hello = ClientFrame::Hello(keyed_viewer_hello(LIVE, "Julie", "julie-device-key-0001"));
        if tx.send(text_message(&hello)).await.is_err() {
            continue;
        }
        // Wait for the welcome, then count acks in the background.
        loop {
            match rx.next().await {
                Some(Ok(Message::Text(t))) => {
                    if matches!(parse_server_frame(&t), Ok(ServerFrame::Welcome(_))) {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                _ => continue 'connect,
            }
        }
        let (closed_tx, mut closed) = oneshot::channel::<()>();
        let counter = acked.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(msg)) = rx.next().await {
                if let Message::Text(t) = msg
                    && let Ok(ServerFrame::Ack { id, .. }) = parse_server_frame(&t)
                    && let Some(n) =
                        id.0.strip_prefix("say-")
                            .and_then(|n| n.parse::<usize>().ok())
                    && counter.fetch_max(n + 1, Ordering::SeqCst).max(n + 1) == MESSAGES
                {
                    break;
                }
            }
            let _ = closed_tx.send(());
        });
        let mut n = acked.load(Ordering::SeqCst);
        while n < MESSAGES {
            let frame = ClientFrame::Command(CommandFrame {
                id: CommandId(format!("say-{n}")),
                command: Command::Say {
                    text: format!("line {n} of the feed"),
                    question: n.is_multiple_of(10),
                    announcement: false,
                },
            });
            if tx.send(text_message(&frame)).await.is_err() {
                reader.abort();
                continue 'connect;
            }
            n += 1;
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        // Everything is sent: wait until the last ack, or the hub goes away.
        let _ = timeout(Duration::from_secs(30), &mut closed).await;
        reader.abort();
    }
}

/// What the console saw, beyond its state.
#[derive(Default)]
struct Seen {
    reconnecting: usize,
    reloads: usize,
    welcomes: usize,
}

/// Applies the network task's events to the console until `done` holds,
/// counting reconnects, reloads and welcomes on the way.
async fn pump(
    state: &mut Console,
    handle: &mut NetHandle,
    seen: &mut Seen,
    what: &str,
    done: impl Fn(&Console) -> bool,
) {
    let observe = |ev: &NetEvent| match ev {
        NetEvent::Frame(ServerFrame::Reload { .. }) => seen.reloads += 1,
        NetEvent::Frame(ServerFrame::Welcome(_)) => seen.welcomes += 1,
        NetEvent::Status(ConnStatus::Reconnecting { .. }) => seen.reconnecting += 1,
        _ => {}
    };
    support::console::pump_observing(state, handle, what, observe, done).await;
}

/// A fresh staff client: the hub's current head and snapshot.
async fn fresh_snapshot(addr: SocketAddr, token: &str) -> (Seq, Snapshot) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}"))
        .await
        .expect("a fresh client connects to the hub");
    let hello = ClientFrame::Hello(staff_hello(LIVE, token));
    ws.send(text_message(&hello)).await.expect("send hello");
    let mut welcome = None;
    loop {
        let msg = timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame from the hub in time")
            .expect("a frame, not a closed socket")
            .expect("a frame, not a socket error");
        let Message::Text(t) = msg else { continue };
        // The snapshot's lists follow the welcome in pages.
        match parse_server_frame(&t) {
            Ok(ServerFrame::Welcome(w)) => welcome = Some(w),
            Ok(ServerFrame::SnapshotPage(page)) => {
                if let Some(w) = welcome.as_mut() {
                    w.add_page(*page);
                }
            }
            Ok(ServerFrame::SnapshotEnd { .. }) => {
                let w = welcome.expect("the welcome comes before its pages");
                return (w.seq, w.snapshot.expect("a fresh client gets a snapshot"));
            }
            _ => {}
        }
    }
}

/// A moderator's console on the network task, connected to `url`.
async fn moderator_console(url: &str, token: &str) -> (Console, NetHandle) {
    let config = NetConfig {
        url: url.to_string(),
        live: LIVE.into(),
        token: token.to_string(),
        tls: regie::tls::ClientTls::default(),
    };
    let first = net::connect(&config, None).await.expect("console connects");
    let handle = net::spawn(config, first);
    let session = Session {
        role: StaffRole::Moderator,
        name: String::new(),
        live: String::new(),
    };
    let state = Console::new(session, Keymap::default(), 50_000, "rc");
    (state, handle)
}

/// While the hub is down, the moderator pins a line (k selects the newest,
/// p pins): the command is held as pending, not lost. Returns the line and
/// the command's id.
fn pin_the_newest_line_offline(state: &mut Console, handle: &NetHandle) -> (MessageId, CommandId) {
    let key_press = |c| {
        Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        ))
    };
    update(state, key_press('k'));
    let target = state.target().expect("a line is selected").id;
    let effects = update(state, key_press('p'));
    assert_eq!(effects.len(), 1);
    let mut id = None;
    for effect in effects {
        let Effect::Send(frame) = effect else {
            panic!("{effect:?}")
        };
        assert_eq!(frame.command, Command::Pin { message_id: target });
        id = Some(frame.id.clone());
        handle
            .commands
            .send(frame)
            .expect("the network task takes commands");
    }
    assert_eq!(state.pending.len(), 1);
    assert!(state.pending.values().all(|p| p.sent_offline));
    (target, id.expect("the pin was sent"))
}

/// What the hub's store recorded of staff commands: the client's id of each
/// command it decided (once per id; the store keys it as `id#fingerprint`),
/// and how many pins took effect.
fn staff_commands_at_the_hub(data_dir: &std::path::Path) -> (Vec<String>, i64) {
    let db = rusqlite::Connection::open(data_dir.join(regie::store::DB_FILE))
        .expect("open the hub's database");
    let ids = db
        .prepare("SELECT command_id FROM command_outcomes WHERE principal LIKE 'staff:%'")
        .and_then(|mut q| {
            q.query_map([], |r| {
                let stored: String = r.get(0)?;
                Ok(stored
                    .split_once('#')
                    .map_or(stored.clone(), |(id, _)| id.to_string()))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .expect("read the command outcomes");
    let pins = db
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'pinned'",
            [],
            |r| r.get(0),
        )
        .expect("count the pins");
    (ids, pins)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_resumes_across_a_hub_restart_with_no_gap_and_no_duplicate() {
    // The port stays this test's through the restart: both hubs serve on
    // the listener it keeps.
    let port = KeptPort::bind();
    let hub = TestHub::start_on(&port, LIVE, hub_config).await;
    let token = hub.token(StaffRole::Moderator, "Inès");
    let addr = hub.addr;
    let url = format!("ws://{addr}");

    let (mut state, mut handle) = moderator_console(&url, &token).await;
    let mut seen = Seen::default();

    let feeder = tokio::spawn(viewer_feed(url.clone()));
    pump(
        &mut state,
        &mut handle,
        &mut seen,
        "the first 60 lines",
        |s| s.feed.len() >= 60,
    )
    .await;

    // Restart mid-feed.
    let dir = hub.stop().await.expect("the hub owns its data dir");
    pump(
        &mut state,
        &mut handle,
        &mut seen,
        "the console to notice",
        |s| matches!(s.conn, ConnStatus::Reconnecting { .. }),
    )
    .await;

    let (target, pin_id) = pin_the_newest_line_offline(&mut state, &handle);

    let hub = TestHub::restart(&port, LIVE, dir, hub_config).await;
    timeout(Duration::from_secs(60), feeder)
        .await
        .expect("feeder ends")
        .unwrap();

    // Everything the hub has must reach the console.
    let (head, _) = fresh_snapshot(addr, &token).await;
    pump(&mut state, &mut handle, &mut seen, "the hub's head", |s| {
        s.seq >= head
    })
    .await;
    pump(
        &mut state,
        &mut handle,
        &mut seen,
        "the pin and its ack",
        |s| s.pinned.as_ref().is_some_and(|p| p.message_id == target) && s.pending.is_empty(),
    )
    .await;
    let (head, snapshot) = fresh_snapshot(addr, &token).await;
    pump(&mut state, &mut handle, &mut seen, "the hub's head", |s| {
        s.seq >= head
    })
    .await;

    assert!(
        seen.reconnecting >= 1,
        "the console went through a reconnect"
    );
    assert_eq!(seen.reloads, 0, "same data dir: a resume, not a reload");
    assert!(seen.welcomes >= 2);
    assert_eq!(state.seq, head);

    let console_feed: Vec<ChatEntry> = state.feed.view_iter().map(|e| e.entry.clone()).collect();
    let ids: Vec<MessageId> = console_feed.iter().map(ChatEntry::id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "no duplicate, in order"
    );
    assert_eq!(console_feed.len(), snapshot.recent.len(), "no gap");
    assert_eq!(console_feed, snapshot.recent, "same feed as a fresh client");
    assert!(
        console_feed.len() >= MESSAGES,
        "every line the viewer got through is there"
    );
    assert_eq!(
        snapshot.pinned.map(|m| m.id),
        Some(target),
        "the offline pin took effect"
    );
    assert!(
        state.pending.is_empty(),
        "the hub acked the pin sent on reconnect"
    );

    drop(handle);
    // At the hub: the pin arrived under the id it was given offline, as the
    // only staff command (a resend under a new id would be a second
    // outcome, even though pinning a pinned line changes nothing), and
    // pinned the line once.
    let dir = hub.stop().await.expect("the hub owns its data dir");
    let (ids, pins) = staff_commands_at_the_hub(dir.path());
    assert_eq!(ids, vec![pin_id.0], "the staff commands the hub decided");
    assert_eq!(pins, 1, "one pinned event");
}
