//! Simulated viewers (`regie crowd`): a seeded audience that joins a live
//! over WebSocket, one connection per viewer, and chats at a set total rate.
//!
//! - [`audience`] — who the viewers are and what they type (pure, seeded).
//! - [`schedule`] — the crowd's pace and who speaks next (pure).
//! - [`play`] — how viewers vote in polls and enter instant wins (pure, seeded).
//! - [`viewer`] — one viewer's connection: hello, read everything, act.
//! - [`report`] — what the run sent and saw.
//!
//! [`run_crowd`] is the entry point: `regie crowd` and
//! `regie demo` call it, each with its own shutdown future.

pub mod audience;
pub mod play;
pub mod report;
pub mod schedule;
pub mod viewer;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};

pub use audience::{Line, LineKind, LineMix, ViewerProfile};
pub use play::GamePlay;
pub use report::{CrowdReport, KindCounts};
use schedule::{Pacer, SpeakerPool, spacing_for};
use viewer::{Action, JoinError, Joined, ViewerSession, ViewerTally};

/// Everything a crowd run needs. Build it with [`CrowdConfig::new`] and
/// change the fields that matter.
#[derive(Debug, Clone)]
pub struct CrowdConfig {
    /// `ws://host:port` (or `wss://`) of the hub.
    pub url: String,
    /// What `wss://` trusts (`--ca`).
    pub tls: crate::tls::ClientTls,
    pub live: String,
    pub viewers: usize,
    /// Chat lines per second across the crowd.
    pub rate: f64,
    /// Whole run, ramp-up included. The run also ends on the shutdown
    /// future, or after `max_lines`.
    pub duration: Duration,
    pub seed: u64,
    pub mix: LineMix,
    /// Viewers joining per second. Bounded so hundreds of viewers do not
    /// knock on the hub at once.
    pub connect_rate: f64,
    /// Handshakes in flight at once, on top of the rate.
    pub max_joining: usize,
    /// Stop after this many lines were handed to viewers.
    pub max_lines: Option<u64>,
    /// After the last line, how long viewers wait for answers and echoes
    /// before closing.
    pub drain: Duration,
    /// How viewers vote in polls and enter instant wins.
    pub play: GamePlay,
    /// Whether viewers give contact data (a made-up phone and e-mail) in
    /// their hello, so support sees it, masked, on their card.
    pub contact: bool,
    /// Reconnect tries in a row, after a close worth one, before a viewer
    /// gives up (0: viewers do not reconnect).
    pub max_reconnects: u32,
}

impl CrowdConfig {
    pub fn new(url: impl Into<String>, live: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            tls: crate::tls::ClientTls::default(),
            live: live.into(),
            viewers: 300,
            rate: 40.0,
            duration: Duration::from_secs(60),
            seed: 0,
            mix: LineMix::default(),
            connect_rate: 200.0,
            max_joining: 64,
            max_lines: None,
            drain: Duration::from_secs(3),
            play: GamePlay::default(),
            contact: false,
            max_reconnects: 20,
        }
    }

    /// Checks the settings [`run_crowd`] checks first, for callers that
    /// want to refuse bad ones before starting anything else.
    pub fn validate(&self) -> Result<(), CrowdError> {
        let bad = |why: String| Err(CrowdError::Config(why));
        if self.viewers == 0 {
            return bad("at least one viewer is needed".into());
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return bad(format!("rate must be a positive number, got {}", self.rate));
        }
        if !(self.connect_rate.is_finite() && self.connect_rate > 0.0) {
            return bad(format!(
                "connect rate must be a positive number, got {}",
                self.connect_rate
            ));
        }
        self.play.validate().map_err(CrowdError::Config)?;
        if self.max_joining == 0 {
            return bad("max_joining must be at least 1".into());
        }
        self.mix
            .validate()
            .map_err(|e| CrowdError::Config(e.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CrowdError {
    #[error("invalid crowd settings: {0}")]
    Config(String),
    #[error("cannot reach the hub at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: JoinError,
    },
    #[error("the hub at {url} refused the first viewer: {source}")]
    Refused {
        url: String,
        #[source]
        source: JoinError,
    },
}

/// How one viewer's run ended.
enum ViewerOutcome {
    Ran {
        tally: Box<ViewerTally>,
        joined_at: Duration,
    },
    Failed(JoinError),
}

/// Runs a crowd until `config.duration` passes, `max_lines` were sent or
/// `shutdown` resolves, then lets every viewer settle and close, and
/// returns what happened. Fails only when the first viewer cannot join
/// (the hub is unreachable or refuses), so a wrong URL is one clear error.
pub async fn run_crowd(
    config: CrowdConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<CrowdReport, CrowdError> {
    config.validate()?;
    let config = Arc::new(config);
    let start = Instant::now();
    let profiles = audience::audience(config.seed, config.viewers);

    // The first viewer joins alone: an unreachable or refusing hub is then
    // one error naming the URL, not three hundred failures.
    let (ws, welcome) = viewer::join(
        &config.url,
        &config.tls,
        &config.live,
        &profiles[0],
        config.contact,
        None,
    )
    .await
    .map_err(|source| match source {
        JoinError::Connect(_) | JoinError::Timeout(_) => CrowdError::Unreachable {
            url: config.url.clone(),
            source,
        },
        _ => CrowdError::Refused {
            url: config.url.clone(),
            source,
        },
    })?;
    tracing::info!(url = %config.url, viewers = config.viewers, "crowd joining");

    let (joined_tx, joined_rx) = mpsc::unbounded_channel::<Joined>();
    let (stop_tx, stop_rx) = watch::channel(false);
    let first = spawn_joined(ws, welcome, &profiles[0], &config, &joined_tx, start);
    let ramp = tokio::spawn(ramp_up(
        profiles.into_iter().skip(1).collect(),
        Arc::clone(&config),
        joined_tx,
        stop_rx,
        start,
    ));

    let not_sent = speak(&config, joined_rx, shutdown, start).await;
    let _ = stop_tx.send(true);

    let mut handles = vec![first];
    match ramp.await {
        Ok(more) => handles.extend(more),
        Err(e) => tracing::error!(error = %e, "crowd ramp-up task failed"),
    }
    let mut report = CrowdReport {
        viewers_requested: config.viewers,
        not_sent_no_viewer_free: not_sent,
        ..CrowdReport::default()
    };
    // Every viewer settles within its drain; the margin covers a join that
    // was still in its handshake when the run ended.
    let deadline = Instant::now() + config.drain + viewer::JOIN_TIMEOUT + Duration::from_secs(2);
    for mut handle in handles {
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            &mut handle,
        )
        .await
        {
            Ok(Ok(ViewerOutcome::Ran { tally, joined_at })) => {
                report.viewers_connected += 1;
                report.ramp_up = report.ramp_up.max(joined_at);
                merge(&mut report, *tally);
            }
            Ok(Ok(ViewerOutcome::Failed(e))) => {
                *report.connect_failures.entry(e.tally_key()).or_default() += 1;
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "crowd viewer task failed");
                *report
                    .connect_failures
                    .entry("task failed".into())
                    .or_default() += 1;
            }
            Err(_) => {
                handle.abort();
                *report.disconnects.entry("stuck at end".into()).or_default() += 1;
            }
        }
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Joins viewers 1.. at `connect_rate`, at most `max_joining` handshakes at
/// once, until all joined or the run stopped. Returns their tasks.
async fn ramp_up(
    profiles: Vec<ViewerProfile>,
    config: Arc<CrowdConfig>,
    joined_tx: mpsc::UnboundedSender<Joined>,
    mut stop: watch::Receiver<bool>,
    start: Instant,
) -> Vec<JoinHandle<ViewerOutcome>> {
    let joining = Arc::new(Semaphore::new(config.max_joining));
    let mut handles = Vec::with_capacity(profiles.len());
    for (i, profile) in profiles.into_iter().enumerate() {
        let at = start + Duration::from_secs_f64((i + 1) as f64 / config.connect_rate);
        let permit = tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => break,
            permit = async {
                sleep_until(at).await;
                Arc::clone(&joining).acquire_owned().await
            } => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let config = Arc::clone(&config);
        let joined_tx = joined_tx.clone();
        handles.push(tokio::spawn(async move {
            let joined = viewer::join(
                &config.url,
                &config.tls,
                &config.live,
                &profile,
                config.contact,
                None,
            )
            .await;
            drop(permit);
            match joined {
                Ok((ws, welcome)) => {
                    let task = spawn_joined(ws, welcome, &profile, &config, &joined_tx, start);
                    match task.await {
                        Ok(outcome) => outcome,
                        Err(e) => ViewerOutcome::Failed(JoinError::Protocol(e.to_string())),
                    }
                }
                Err(e) => ViewerOutcome::Failed(e),
            }
        }));
    }
    handles
}

/// Starts a joined viewer and offers it to the scheduler. The viewer
/// takes part in the games its welcome shows running.
fn spawn_joined(
    ws: viewer::Socket,
    welcome: Box<crate::protocol::Welcome>,
    profile: &ViewerProfile,
    config: &CrowdConfig,
    joined_tx: &mpsc::UnboundedSender<Joined>,
    start: Instant,
) -> JoinHandle<ViewerOutcome> {
    let index = profile.index;
    let player = play::Player::new(config.play, config.seed, index);
    let drain = config.drain;
    // The viewer keeps the pass its first welcome issued, for reconnects.
    let mut profile = profile.clone();
    if welcome.pass.is_some() {
        profile.pass.clone_from(&welcome.pass);
    }
    let link = viewer::Link {
        url: config.url.clone(),
        tls: config.tls.clone(),
        live: config.live.clone(),
        profile,
        contact: config.contact,
        max_reconnects: config.max_reconnects,
    };
    let joined_at = start.elapsed();
    let (actions_tx, actions_rx) = mpsc::channel(ACTION_QUEUE);
    let settings = welcome
        .snapshot
        .as_ref()
        .map(|s| s.settings.clone())
        .unwrap_or_default();
    let mut session = ViewerSession::new(index, &settings)
        .with_run(format!("{:08x}-", rand::random::<u32>()))
        .with_player(player);
    session.on_welcome(&welcome, crate::now_millis());
    // If the scheduler is gone, the handle (and its sender) is dropped here,
    // and the viewer closes as soon as it starts.
    let _ = joined_tx.send(Joined {
        index,
        actions: actions_tx,
        settings,
    });
    tokio::spawn(async move {
        let tally = Box::pin(viewer::run(ws, &welcome, session, actions_rx, drain, link)).await;
        ViewerOutcome::Ran {
            tally: Box::new(tally),
            joined_at,
        }
    })
}

/// Actions waiting for one viewer. Small: a viewer speaks about once a
/// second; a full queue means it is stuck, and the line goes elsewhere.
const ACTION_QUEUE: usize = 4;

/// The crowd's one scheduler: hands lines to free viewers at the total
/// rate until the run ends. Returns how many lines found no free viewer.
async fn speak(
    config: &CrowdConfig,
    mut joined: mpsc::UnboundedReceiver<Joined>,
    shutdown: impl Future<Output = ()>,
    start: Instant,
) -> u64 {
    let mut pacer = Pacer::new(config.rate);
    let mut pool: SpeakerPool<Joined> = SpeakerPool::new(Duration::from_secs(1));
    let mut script = audience::Script::new(config.seed, config.mix);
    let mut rng = StdRng::seed_from_u64(config.seed ^ 0x5BEA_4E55);
    let end = start + config.duration;
    let mut handed: u64 = 0;
    let mut not_sent: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        if config.max_lines.is_some_and(|max| handed >= max) {
            break;
        }
        tokio::select! {
            () = &mut shutdown => break,
            () = sleep_until(end) => break,
            Some(j) = joined.recv() => {
                pool.set_spacing(spacing_for(&j.settings));
                pool.add(j);
            }
            () = sleep_until(start + pacer.next_due()) => {
                let now = start.elapsed();
                for _ in 0..pacer.take_due(now) {
                    if config.max_lines.is_some_and(|max| handed >= max) {
                        break;
                    }
                    let Some(speaker) = pool.pick(now, &mut rng) else {
                        not_sent += 1;
                        continue;
                    };
                    let gone = match speaker.actions.try_reserve() {
                        Ok(permit) => {
                            permit.send(Action::Say(script.next_line()));
                            handed += 1;
                            continue;
                        }
                        Err(mpsc::error::TrySendError::Full(())) => false,
                        Err(mpsc::error::TrySendError::Closed(())) => true,
                    };
                    not_sent += 1;
                    if gone {
                        // The viewer left; forget it and everyone else who did.
                        pool.retain(|j| !j.actions.is_closed());
                    }
                }
            }
        }
    }
    not_sent
}

fn merge(report: &mut CrowdReport, t: ViewerTally) {
    report.sent.merge(&t.sent);
    report.acked.merge(&t.acked);
    for (code, n) in t.refused {
        *report.refused.entry(code).or_default() += n;
    }
    report.unanswered += t.unanswered;
    report.rate_limit_retries += t.rate_limit_retries;
    report.visible += t.visible;
    report.held.merge(&t.held);
    report.unresolved += t.unresolved;
    report.events_received += t.events;
    report.messages_received += t.messages;
    report.votes += t.votes;
    report.entries += t.entries;
    report.reconnects += t.reconnects;
    report.reconnect_attempts += t.reconnect_attempts;
    if let Some(why) = t.disconnect {
        *report.disconnects.entry(why).or_default() += 1;
    }
    report.personal_data_seen_by_viewers += t.personal_data_seen;
}
