//! The console against the real hub (127.0.0.1:0, temp store, no mocks): a
//! host launches a poll from the form, viewers vote, the host closes it and
//! the console reads the exact final tally; then an instant win launched
//! from its form is drawn early and the console shows the winners.

mod support;

use std::time::Duration;

use crossterm::event::KeyCode;
use futures_util::{SinkExt, StreamExt};
use regie::console::keymap::Keymap;
use regie::console::net::{self, NetConfig, NetHandle};
use regie::console::state::{Console, Effect, Msg, Session, update};
use regie::protocol::*;
use support::client::{keyed_viewer_hello, text_message};
use support::console::{code as press, ctrl, pump, typed};
use support::hub::{TestHub, as_shipped};
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

const LIVE: &str = "show";
/// Option each viewer votes for: 3 × Red, 2 × Blue.
const VOTES: [usize; 5] = [0, 0, 1, 0, 1];

/// Feeds keys to the console and hands every command to the network task.
fn keys(state: &mut Console, handle: &NetHandle, msgs: Vec<Msg>) -> Vec<Command> {
    let mut sent = Vec::new();
    for m in msgs {
        for effect in update(state, m) {
            if let Effect::Send(frame) = effect {
                sent.push(frame.command.clone());
                handle
                    .commands
                    .send(frame)
                    .expect("the network task takes commands");
            }
        }
    }
    sent
}

/// A viewer that votes `option` in every poll and enters every instant win;
/// `ready` fires once it is welcomed.
async fn viewer(url: String, n: usize, option: usize, ready: oneshot::Sender<()>) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("a viewer connects to the hub");
    let hello = ClientFrame::Hello(keyed_viewer_hello(
        LIVE,
        &format!("Viewer{n}"),
        &format!("viewer-device-key-{n:04}"),
    ));
    ws.send(text_message(&hello))
        .await
        .expect("a viewer sends its hello");
    let mut ready = Some(ready);
    let mut next_id = 0;
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(t) = msg else { continue };
        let events = match parse_server_frame(&t) {
            Ok(ServerFrame::Welcome(_)) => {
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
                continue;
            }
            Ok(ServerFrame::Event(e)) => vec![e],
            // A viewer's tick.
            Ok(ServerFrame::Events { events, .. }) => events,
            _ => continue,
        };
        for EventFrame { event, .. } in events {
            let command = match event {
                Event::PollOpened { poll } => Command::Vote {
                    poll_id: poll.id,
                    option,
                },
                Event::InstantWinOpened { draw } => Command::Enter { draw_id: draw.id },
                _ => continue,
            };
            next_id += 1;
            let frame = ClientFrame::Command(CommandFrame {
                id: CommandId(format!("v{n}-{next_id}")),
                command,
            });
            if ws.send(text_message(&frame)).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_launches_a_poll_and_an_instant_win_from_the_console_and_reads_the_results() {
    let hub = TestHub::start_live(LIVE, as_shipped).await;
    let (mut state, mut handle) = host_console(&hub).await;
    let viewers = welcomed_viewers(&hub.url).await;

    run_a_poll_from_the_console(&mut state, &mut handle).await;
    run_an_instant_win_from_the_console(&mut state, &mut handle).await;
    pump(&mut state, &mut handle, "the acks", |s| {
        s.pending.is_empty()
    })
    .await;

    for v in viewers {
        v.abort();
    }
    drop(handle);
    hub.stop().await;
}

/// A finished poll stays on "Now on screen" until the host clears it with
/// `C`; then it leaves every console: the host's, a second (admin) console,
/// and one that joins afterwards from the snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_poll_cleared_by_the_host_leaves_every_console() {
    let hub = TestHub::start_live(LIVE, as_shipped).await;
    let (mut host, mut host_net) = host_console(&hub).await;
    let (mut admin, mut admin_net) = console_as(&hub, StaffRole::Admin, "Nadia").await;
    let viewers = welcomed_viewers(&hub.url).await;

    run_a_poll_from_the_console(&mut host, &mut host_net).await;
    let poll_id = host.games.polls.last().expect("the poll").poll.id;
    pump(
        &mut admin,
        &mut admin_net,
        "the close on the second console",
        |s| s.games.shown_poll().is_some_and(|p| p.closed_at.is_some()),
    )
    .await;
    assert!(support::console::render(&mut admin, 160, 48).contains(&format!("Poll #{poll_id}")));

    let sent = keys(&mut host, &host_net, vec![press(KeyCode::Char('C'))]);
    assert_eq!(sent, vec![Command::PollClear { poll_id }]);
    pump(
        &mut host,
        &mut host_net,
        "the clear on the host's console",
        |s| s.games.shown_poll().is_none() && s.pending.is_empty(),
    )
    .await;
    pump(
        &mut admin,
        &mut admin_net,
        "the clear on the second console",
        |s| s.games.shown_poll().is_none(),
    )
    .await;
    for (who, state) in [("host", &mut host), ("admin", &mut admin)] {
        let screen = support::console::render(state, 160, 48);
        assert!(
            !screen.contains(&format!("Poll #{poll_id}")),
            "{who}: {screen}"
        );
        assert!(
            screen.contains("took poll #1 off the screen"),
            "{who}: {screen}"
        );
    }
    // Nothing left to clear: said, and nothing sent.
    let sent = keys(&mut host, &host_net, vec![press(KeyCode::Char('C'))]);
    assert!(sent.is_empty(), "{sent:?}");
    assert!(
        host.note
            .as_ref()
            .is_some_and(|n| n.text == "no poll is on screen")
    );

    let (late, late_net) = console_as(&hub, StaffRole::Host, "Léa").await;
    let p = late
        .games
        .poll(poll_id)
        .expect("the poll is in the snapshot");
    assert!(p.cleared_at.is_some(), "{p:?}");
    assert!(late.games.shown_poll().is_none());

    for v in viewers {
        v.abort();
    }
    drop((host_net, admin_net, late_net));
    hub.stop().await;
}

/// A host's console connected to `hub`, welcomed.
async fn host_console(hub: &TestHub) -> (Console, NetHandle) {
    console_as(hub, StaffRole::Host, "Claire").await
}

/// A console for `role`, signed in as `name`, connected to `hub`, welcomed.
async fn console_as(hub: &TestHub, role: StaffRole, name: &str) -> (Console, NetHandle) {
    let config = NetConfig {
        url: hub.url.clone(),
        live: LIVE.into(),
        token: hub.token(role, name),
        tls: regie::tls::ClientTls::default(),
    };
    let first = net::connect(&config, None).await.expect("console connects");
    let mut handle = net::spawn(config, first);
    let session = Session {
        role,
        name: String::new(),
        live: String::new(),
    };
    let mut state = Console::new(session, Keymap::default(), 50_000, "e2e");
    update(&mut state, Msg::Tick(regie::now_millis()));
    pump(&mut state, &mut handle, "the welcome", |s| {
        s.epoch.is_some()
    })
    .await;
    (state, handle)
}

/// One [`viewer`] task per vote in [`VOTES`], each welcomed before the next
/// connects.
async fn welcomed_viewers(url: &str) -> Vec<tokio::task::JoinHandle<()>> {
    let mut viewers = Vec::new();
    for (n, option) in VOTES.iter().enumerate() {
        let (ready, is_ready) = oneshot::channel();
        viewers.push(tokio::spawn(viewer(url.to_string(), n, *option, ready)));
        timeout(Duration::from_secs(10), is_ready)
            .await
            .expect("viewer welcomed")
            .expect("the viewer task says it was welcomed");
    }
    viewers
}

/// The host opens a poll from its form, the viewers vote, the host closes
/// it and the console reads the exact final tally.
async fn run_a_poll_from_the_console(state: &mut Console, handle: &mut NetHandle) {
    // P, the form, Enter: one poll_open with the typed values.
    let mut msgs = vec![press(KeyCode::Char('P'))];
    msgs.extend(typed("Which colour next?"));
    msgs.push(press(KeyCode::Tab));
    msgs.extend(typed("Red"));
    msgs.push(press(KeyCode::Tab));
    msgs.extend(typed("Blue"));
    msgs.push(press(KeyCode::Tab));
    msgs.push(ctrl('u')); // until closed
    msgs.push(press(KeyCode::Enter));
    let sent = keys(state, handle, msgs);
    assert_eq!(
        sent,
        vec![Command::PollOpen {
            question: "Which colour next?".into(),
            options: vec!["Red".into(), "Blue".into()],
            duration_secs: None,
        }]
    );
    pump(state, handle, "every vote in the live tally", |s| {
        s.games
            .live_poll()
            .is_some_and(|p| p.voters == VOTES.len() as u64)
    })
    .await;

    // C, y: closed; the final tally is exactly the votes sent.
    let poll_id = state.games.live_poll().expect("a live poll").poll.id;
    let sent = keys(
        state,
        handle,
        vec![press(KeyCode::Char('C')), press(KeyCode::Char('y'))],
    );
    assert_eq!(sent, vec![Command::PollClose { poll_id }]);
    pump(state, handle, "the poll's close", |s| {
        s.games.poll(poll_id).is_some_and(|p| p.closed_at.is_some())
    })
    .await;
    let p = state.games.poll(poll_id).expect("the closed poll");
    assert_eq!(p.counts, vec![3, 2]);
    assert_eq!(p.voters, 5);
}

/// The host opens an instant win from its form, the viewers enter, the
/// host draws it early and the console shows the winners.
async fn run_an_instant_win_from_the_console(state: &mut Console, handle: &mut NetHandle) {
    // W, the form, Enter; then D, y draws now.
    let mut msgs = vec![press(KeyCode::Char('W'))];
    msgs.extend(typed("€50 voucher"));
    msgs.push(press(KeyCode::Tab));
    msgs.push(ctrl('u'));
    msgs.extend(typed("2"));
    msgs.push(press(KeyCode::Enter));
    let sent = keys(state, handle, msgs);
    assert!(matches!(
        sent.as_slice(),
        [Command::InstantWinOpen { winners: 2, entry_secs: 120, rules, .. }]
            if rules.starts_with("No purchase necessary.")
    ));
    pump(state, handle, "every entry", |s| {
        s.games
            .live_draw()
            .is_some_and(|d| d.entrants == VOTES.len() as u64)
    })
    .await;
    let draw = state.games.live_draw().expect("a live draw").draw.clone();
    assert_eq!(draw.commitment.len(), 64, "a hex SHA-256 commitment");
    let sent = keys(
        state,
        handle,
        vec![press(KeyCode::Char('D')), press(KeyCode::Char('y'))],
    );
    assert_eq!(sent, vec![Command::InstantWinClose { draw_id: draw.id }]);
    pump(state, handle, "the draw", |s| {
        s.games.last_drawn().is_some_and(|d| d.draw.id == draw.id)
    })
    .await;
    let drawn = state.games.last_drawn().expect("the drawn instant win");
    let result = drawn
        .result
        .as_ref()
        .expect("a drawn instant win has a result");
    assert_eq!(result.winners.len(), 2);
    assert!(
        result
            .winners
            .iter()
            .all(|w| w.first_name.starts_with("Viewer"))
    );
}
