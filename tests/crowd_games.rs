//! The crowd plays: it votes in a poll with its configured bias and enters
//! an instant win, against the real hub.

mod support;

use std::time::Duration;

use regie::crowd::{CrowdConfig, GamePlay, run_crowd};
use regie::protocol::{Command, Event, StaffRole};
use support::hub::{ManualClock, TestHub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crowd_votes_with_its_bias_and_enters() {
    let hub = TestHub::start_with(|c| {
        c.limits.viewers_online_interval = Duration::from_millis(50);
    })
    .await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = eager_crowd(&hub.url, 20, 11);
    let crowd = tokio::spawn(run_crowd(config, async {
        let _ = stopped.await;
    }));
    host.wait_event(|e| matches!(e, Event::ViewersOnline { count: 20 }))
        .await;

    host.ack(Command::PollOpen {
        question: "Rouge ou bleu ?".into(),
        options: vec!["Rouge".into(), "Bleu".into()],
        duration_secs: None,
    })
    .await;
    host.wait_event(|e| matches!(e, Event::PollTally { voters: 20, .. }))
        .await;
    host.ack(Command::PollClose { poll_id: 1 }).await;
    let closed = host
        .wait_event(|e| matches!(e, Event::PollClosed { .. }))
        .await;
    assert!(
        matches!(&closed.event, Event::PollClosed { counts, .. } if counts == &vec![20, 0]),
        "a bias of 1 puts every vote on the first option: {closed:?}"
    );

    host.ack(Command::InstantWinOpen {
        prize: "Sac".into(),
        winners: 1,
        entry_secs: 600,
        rules: String::new(),
    })
    .await;
    host.wait_event(|e| matches!(e, Event::InstantWinEntries { entrants: 20, .. }))
        .await;

    let _ = stop.send(());
    let report = tokio::time::timeout(Duration::from_secs(60), crowd)
        .await
        .expect("the crowd ends")
        .unwrap()
        .expect("the crowd ran");
    assert_eq!((report.votes, report.entries), (20, 20), "{report}");
    hub.stop().await;
}

/// Viewers who connect while a poll and an instant win are already running
/// take part in them from their welcome snapshot, as if they had seen them
/// open. Only identities that existed when a game opened may take part: the
/// hub's clock stands still here, so the passes the crowd is issued date
/// from the very moment the games opened, which counts as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_connecting_after_the_games_opened_still_vote_and_enter() {
    let clock = ManualClock::new();
    let hub = TestHub::start_with(|c| c.clock = clock.clock()).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    host.ack(Command::PollOpen {
        question: "Rouge ou bleu ?".into(),
        options: vec!["Rouge".into(), "Bleu".into()],
        duration_secs: None,
    })
    .await;
    host.ack(Command::InstantWinOpen {
        prize: "Sac".into(),
        winners: 1,
        entry_secs: 600,
        rules: String::new(),
    })
    .await;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = eager_crowd(&hub.url, 12, 5);
    let crowd = tokio::spawn(run_crowd(config, async {
        let _ = stopped.await;
    }));
    host.wait_event(|e| matches!(e, Event::PollTally { voters: 12, .. }))
        .await;
    host.wait_event(|e| matches!(e, Event::InstantWinEntries { entrants: 12, .. }))
        .await;
    host.ack(Command::PollClose { poll_id: 1 }).await;
    let closed = host
        .wait_event(|e| matches!(e, Event::PollClosed { .. }))
        .await;
    assert!(
        matches!(&closed.event, Event::PollClosed { counts, .. } if counts == &vec![12, 0]),
        "every late joiner voted, all on the first option: {closed:?}"
    );

    let _ = stop.send(());
    let report = tokio::time::timeout(Duration::from_secs(60), crowd)
        .await
        .expect("the crowd ends")
        .unwrap()
        .expect("the crowd ran");
    assert_eq!((report.votes, report.entries), (12, 12), "{report}");
    hub.stop().await;
}

/// A slow-chatting crowd whose every viewer votes (all for the first option)
/// and enters, and which runs until told to stop.
fn eager_crowd(url: &str, viewers: usize, seed: u64) -> CrowdConfig {
    CrowdConfig {
        viewers,
        rate: 1.0,
        duration: Duration::from_secs(120),
        seed,
        connect_rate: 200.0,
        drain: Duration::from_secs(2),
        play: GamePlay {
            poll_bias: 1.0,
            vote_ratio: 1.0,
            entry_ratio: 1.0,
        },
        ..CrowdConfig::new(url.to_string(), support::hub::LIVE)
    }
}
