//! The console's network task: one WebSocket to the hub, kept alive.
//!
//! - It says `hello` with the staff token and the last `(epoch, seq)` it
//!   delivered, so a reconnect replays exactly the gap (or the hub answers
//!   `reload` and a fresh snapshot).
//! - It reconnects with exponential backoff and jitter, reporting each
//!   attempt, for as long as the console runs: a show must not lose its
//!   moderators to a hub restart.
//! - **Commands typed while the hub is unreachable are held, visibly
//!   pending, and sent once the connection is back.** Every command sent
//!   and not yet answered stays in an outbox; after each reconnect the whole
//!   outbox is sent again with the same ids, which the hub answers without
//!   acting twice. The console shows the pending count in its status bar
//!   until each ack or error arrives, so nothing is silently lost.
//! - Token refusals and version mismatches end the task with a
//!   [`NetFatal`]; everything else is worth retrying.
//!
//! The token never appears in a log line or an error message.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::protocol::{
    Auth, ClientFrame, CloseCode, CommandFrame, CommandId, ErrorCode, ErrorFrame, Hello, Millis,
    PROTOCOL_VERSION, Resume, ServerFrame, parse_server_frame,
};

use super::state::ConnStatus;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long the connect + hello + welcome exchange may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A ping goes out when the hub has been quiet this long…
const PING_AFTER: Duration = Duration::from_secs(10);
/// …and the connection is considered dead after this much silence.
const DEAD_AFTER: Duration = Duration::from_secs(30);
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Frames buffered towards the UI. When full, the task stops reading the
/// socket (the hub cuts a reader that falls too far behind; we then resume).
pub const EVENT_QUEUE: usize = 8_192;

/// Where and who to connect as. `Debug` leaves the token out.
#[derive(Clone)]
pub struct NetConfig {
    pub url: String,
    pub live: String,
    pub token: String,
    /// What `wss://` trusts, and whether the token may go over plain
    /// `ws://` beyond loopback (`--ca`, `--insecure`).
    pub tls: crate::tls::ClientTls,
}

impl std::fmt::Debug for NetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetConfig")
            .field("url", &self.url)
            .field("live", &self.live)
            .field("token", &"<redacted>")
            .field("tls", &self.tls)
            .finish()
    }
}

/// What the task tells the UI.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "almost every event is a frame: boxing it would allocate once per message"
)]
pub enum NetEvent {
    Status(ConnStatus),
    Frame(ServerFrame),
    Fatal(NetFatal),
}

/// Reasons to stop for good; each maps to an exit code of `regie console`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetFatal {
    #[error("cannot reach the hub at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the hub refused the token ({code}): {message}")]
    TokenRefused { code: ErrorCode, message: String },
    #[error("the hub does not speak regie protocol version {PROTOCOL_VERSION}: {message}")]
    UnsupportedVersion { message: String },
    /// Never retried: the URL would carry the token in clear.
    #[error(transparent)]
    PlainToken(#[from] crate::tls::PlainTokenRefused),
}

impl NetFatal {
    pub fn exit_code(&self) -> crate::exit::Exit {
        use crate::exit::Exit;
        match self {
            NetFatal::Unreachable { .. } => Exit::Unreachable,
            NetFatal::TokenRefused { .. } => Exit::TokenRefused,
            NetFatal::UnsupportedVersion { .. } => Exit::UnsupportedVersion,
            NetFatal::PlainToken(_) => Exit::Usage,
        }
    }
}

/// One failed attempt: worth retrying, or not.
#[derive(Debug)]
enum AttemptError {
    Retry(String),
    Fatal(NetFatal),
}

/// An open connection after `welcome`, with the frames received up to and
/// including it (a `reload`, then the `welcome`), to hand to the UI first.
pub struct Established {
    ws: Ws,
    pub frames: Vec<ServerFrame>,
}

/// Connects once: WebSocket, hello, and every frame up to `welcome`.
pub async fn connect(config: &NetConfig, resume: Option<Resume>) -> Result<Established, NetFatal> {
    match attempt(config, resume).await {
        Ok(e) => Ok(e),
        Err(AttemptError::Fatal(f)) => Err(f),
        Err(AttemptError::Retry(reason)) => Err(NetFatal::Unreachable {
            url: config.url.clone(),
            reason,
        }),
    }
}

async fn attempt(config: &NetConfig, resume: Option<Resume>) -> Result<Established, AttemptError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(config, resume))
        .await
        .unwrap_or_else(|_| {
            Err(AttemptError::Retry(format!(
                "no welcome within {}s",
                HANDSHAKE_TIMEOUT.as_secs()
            )))
        })
}

async fn handshake(
    config: &NetConfig,
    resume: Option<Resume>,
) -> Result<Established, AttemptError> {
    crate::tls::check_token_transport(&config.url, config.tls.insecure)
        .map_err(|refused| AttemptError::Fatal(refused.into()))?;
    let mut ws = crate::tls::connect(&config.url, &config.tls, None)
        .await
        .map_err(|e| AttemptError::Retry(e.to_string()))?;
    let hello = ClientFrame::Hello(Hello {
        version: PROTOCOL_VERSION,
        live: config.live.clone(),
        auth: Auth::Staff {
            token: config.token.clone(),
        },
        resume,
    });
    let text = serde_json::to_string(&hello).map_err(|e| AttemptError::Retry(e.to_string()))?;
    ws.send(Message::text(text))
        .await
        .map_err(|e| AttemptError::Retry(e.to_string()))?;
    let mut frames = Vec::new();
    let mut refusal: Option<(ErrorCode, String)> = None;
    let mut paged = None;
    loop {
        let Some(msg) = ws.next().await else {
            return Err(closed_before_welcome(refusal, None));
        };
        let msg = msg.map_err(|e| match refusal.take() {
            Some(r) => closed_before_welcome(Some(r), None),
            None => AttemptError::Retry(e.to_string()),
        })?;
        match msg {
            Message::Text(text) => match parse_server_frame(&text) {
                Ok(ServerFrame::Welcome(w)) if w.expects_pages() => paged = Some(w),
                Ok(ServerFrame::Welcome(w)) => {
                    frames.push(ServerFrame::Welcome(w));
                    return Ok(Established { ws, frames });
                }
                // A paged snapshot is assembled here: the UI sees one whole
                // welcome.
                Ok(ServerFrame::SnapshotPage(page)) if paged.is_some() => {
                    if let Some(w) = paged.as_mut() {
                        w.add_page(*page);
                    }
                }
                Ok(ServerFrame::SnapshotEnd { .. }) if paged.is_some() => {
                    if let Some(w) = paged.take() {
                        frames.push(ServerFrame::Welcome(w));
                    }
                    return Ok(Established { ws, frames });
                }
                Ok(ServerFrame::Error(e)) if e.id.is_none() => {
                    refusal = Some((e.code, e.message));
                }
                Ok(ServerFrame::Bye { code, message }) => refusal = Some((code, message)),
                Ok(frame) => frames.push(frame),
                Err(e) => {
                    return Err(AttemptError::Retry(format!(
                        "not a regie hub (unreadable frame: {e})"
                    )));
                }
            },
            Message::Close(close) => {
                let code = close.map(|c| u16::from(c.code));
                return Err(closed_before_welcome(refusal, code));
            }
            _ => {}
        }
    }
}

/// Classifies a connection that ended before `welcome`.
fn closed_before_welcome(refusal: Option<(ErrorCode, String)>, close: Option<u16>) -> AttemptError {
    if let Some(fatal) = fatal_for(refusal.as_ref().map(|(c, _)| *c), close) {
        let message = refusal.map_or_else(|| "closed by the hub".to_string(), |(_, m)| m);
        return AttemptError::Fatal(match fatal {
            FatalKind::Token(code) => NetFatal::TokenRefused { code, message },
            FatalKind::Version => NetFatal::UnsupportedVersion { message },
        });
    }
    AttemptError::Retry(match refusal {
        Some((code, message)) => format!("{message} ({code})"),
        None => "closed before welcome".to_string(),
    })
}

enum FatalKind {
    Token(ErrorCode),
    Version,
}

fn fatal_for(code: Option<ErrorCode>, close: Option<u16>) -> Option<FatalKind> {
    match code {
        Some(c @ (ErrorCode::TokenInvalid | ErrorCode::TokenExpired | ErrorCode::WrongLive)) => {
            Some(FatalKind::Token(c))
        }
        Some(ErrorCode::UnsupportedVersion) => Some(FatalKind::Version),
        _ => match close
            .and_then(CloseCode::from_code)
            .filter(|c| c.is_terminal())
        {
            Some(CloseCode::Unauthorized) => Some(FatalKind::Token(ErrorCode::TokenInvalid)),
            Some(CloseCode::UnsupportedVersion) => Some(FatalKind::Version),
            // The other terminal close, 4004, bans viewers: a console is
            // staff and never banned, so it retries it like any other close.
            _ => None,
        },
    }
}

/// The delay before reconnect attempt `attempt` (1-based): exponential,
/// capped, with "equal jitter" so a hub restart is not met by every
/// console at the same instant.
pub fn backoff(attempt: u32, rng: &mut impl Rng) -> Duration {
    let exp = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_MAX);
    let half = exp / 2;
    half + half.mul_f64(rng.random::<f64>())
}

/// Handles to the running network task.
pub struct NetHandle {
    pub commands: mpsc::UnboundedSender<CommandFrame>,
    /// Switches to another live: the task reconnects with a `hello`
    /// naming it (no resume: another stream), and goes back to the live it
    /// was in if the hub refuses the token there.
    pub switch: mpsc::UnboundedSender<String>,
    pub events: mpsc::Receiver<NetEvent>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Starts the task on an established connection. Its first events are the
/// frames of the handshake, then `Status(Connected)`.
pub fn spawn(config: NetConfig, first: Established) -> NetHandle {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (switch_tx, switch_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    let task = tokio::spawn(run(config, first, cmd_rx, switch_rx, ev_tx));
    NetHandle {
        commands: cmd_tx,
        switch: switch_tx,
        events: ev_rx,
        task,
    }
}

/// The resume point: the last event the UI was handed.
#[derive(Debug, Default)]
struct Cursor {
    at: Option<Resume>,
}

impl Cursor {
    fn see(&mut self, frame: &ServerFrame) {
        match frame {
            ServerFrame::Reload { .. } => self.at = None,
            ServerFrame::Welcome(w)
                if w.snapshot.is_some() || self.at.as_ref().is_none_or(|r| r.epoch != w.epoch) =>
            {
                self.at = Some(Resume {
                    epoch: w.epoch.clone(),
                    seq: w.seq,
                });
            }
            ServerFrame::Event(e) => {
                let newer = self
                    .at
                    .as_ref()
                    .is_none_or(|r| r.epoch != e.epoch || e.seq > r.seq);
                if newer {
                    self.at = Some(Resume {
                        epoch: e.epoch.clone(),
                        seq: e.seq,
                    });
                }
            }
            _ => {}
        }
    }
}

/// The id a frame answers, which takes its command out of the outbox.
fn answered_id(frame: &ServerFrame) -> Option<&CommandId> {
    match frame {
        ServerFrame::Ack { id, .. }
        | ServerFrame::ViewerCard { id, .. }
        | ServerFrame::Lives { id, .. }
        | ServerFrame::Report { id, .. }
        | ServerFrame::SmsSegments { id, .. } => Some(id),
        ServerFrame::Error(e) => e.id.as_ref(),
        _ => None,
    }
}

async fn run(
    mut config: NetConfig,
    first: Established,
    mut commands: mpsc::UnboundedReceiver<CommandFrame>,
    mut switch: mpsc::UnboundedReceiver<String>,
    events: mpsc::Sender<NetEvent>,
) {
    let mut cursor = Cursor::default();
    let mut outbox: Vec<CommandFrame> = Vec::new();
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut conn = Some(first);
    loop {
        let Some(Established { mut ws, frames }) = conn.take() else {
            return;
        };
        for frame in frames {
            cursor.see(&frame);
            if events.send(NetEvent::Frame(frame)).await.is_err() {
                return;
            }
        }
        if events
            .send(NetEvent::Status(ConnStatus::Connected))
            .await
            .is_err()
        {
            return;
        }
        tracing::info!(url = %config.url, pending = outbox.len(), "connected to the hub");
        let mut links = Links {
            commands: &mut commands,
            switch: &mut switch,
            events: &events,
        };
        let ended = serve(&mut ws, &mut cursor, &mut outbox, &mut links).await;
        let reason = match ended {
            Ended::Switch(live) => {
                let _ = ws.close(None).await;
                match switch_live(&mut config, live, &mut cursor, &mut outbox, &mut links).await {
                    Some(Ok(est)) => {
                        conn = Some(est);
                        continue;
                    }
                    Some(Err(reason)) => reason,
                    None => return,
                }
            }
            Ended::UiGone => {
                let _ = ws.close(None).await;
                return;
            }
            Ended::Fatal(f) => {
                let _ = events.send(NetEvent::Fatal(f)).await;
                return;
            }
            Ended::Lost(reason) => reason,
        };
        tracing::warn!(%reason, "connection to the hub lost");

        // Reconnect until it works, the UI goes away, or the hub refuses us.
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let delay = backoff(attempt, &mut rng);
            let next_try_at = crate::now_millis()
                .saturating_add(Millis::try_from(delay.as_millis()).unwrap_or(Millis::MAX));
            if events
                .send(NetEvent::Status(ConnStatus::Reconnecting {
                    attempt,
                    next_try_at,
                }))
                .await
                .is_err()
            {
                return;
            }
            let wake = Instant::now() + delay;
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(wake) => break,
                    cmd = commands.recv() => match cmd {
                        Some(c) => outbox.push(c),
                        None => return,
                    },
                }
            }
            match attempt_with_commands(&config, cursor.at.clone(), &mut commands, &mut outbox)
                .await
            {
                Some(Ok(est)) => {
                    conn = Some(est);
                    break;
                }
                Some(Err(AttemptError::Fatal(f))) => {
                    let _ = events.send(NetEvent::Fatal(f)).await;
                    return;
                }
                Some(Err(AttemptError::Retry(reason))) => {
                    tracing::debug!(attempt, %reason, "reconnect failed");
                }
                None => return,
            }
        }
    }
}

/// One reconnect attempt, still taking commands into the outbox meanwhile.
/// `None` when the UI went away.
async fn attempt_with_commands(
    config: &NetConfig,
    resume: Option<Resume>,
    commands: &mut mpsc::UnboundedReceiver<CommandFrame>,
    outbox: &mut Vec<CommandFrame>,
) -> Option<Result<Established, AttemptError>> {
    let fut = attempt(config, resume);
    tokio::pin!(fut);
    loop {
        tokio::select! {
            r = &mut fut => return Some(r),
            cmd = commands.recv() => match cmd {
                Some(c) => outbox.push(c),
                None => return None,
            },
        }
    }
}

enum Ended {
    UiGone,
    Fatal(NetFatal),
    Lost(String),
    /// The UI asked to switch to this live.
    Switch(String),
}

/// The task's channels to and from the UI.
struct Links<'a> {
    commands: &'a mut mpsc::UnboundedReceiver<CommandFrame>,
    switch: &'a mut mpsc::UnboundedReceiver<String>,
    events: &'a mpsc::Sender<NetEvent>,
}

/// Connects to `live` instead of the current one, from scratch (another
/// stream: no resume, and commands meant for the old live are dropped).
/// A token that does not open `live` is no reason to stop: the UI is told
/// and the task goes back to the live it was in. `Err`: why the first
/// attempt failed (the reconnect loop takes over); `None`: the UI is gone.
async fn switch_live(
    config: &mut NetConfig,
    live: String,
    cursor: &mut Cursor,
    outbox: &mut Vec<CommandFrame>,
    links: &mut Links<'_>,
) -> Option<Result<Established, String>> {
    let previous = std::mem::replace(&mut config.live, live);
    cursor.at = None;
    outbox.clear();
    match attempt_with_commands(config, None, links.commands, outbox).await? {
        Ok(est) => Some(Ok(est)),
        Err(AttemptError::Retry(reason)) => Some(Err(reason)),
        Err(AttemptError::Fatal(f)) => {
            let refused = ErrorFrame::new(
                None,
                ErrorCode::WrongLive,
                format!("cannot switch to live {:?}: {f}", config.live),
            );
            config.live = previous;
            links
                .events
                .send(NetEvent::Frame(ServerFrame::Error(refused)))
                .await
                .ok()?;
            Some(
                match attempt_with_commands(config, None, links.commands, outbox).await? {
                    Ok(est) => Ok(est),
                    Err(
                        AttemptError::Retry(reason)
                        | AttemptError::Fatal(NetFatal::Unreachable { reason, .. }),
                    ) => Err(reason),
                    Err(AttemptError::Fatal(f)) => Err(f.to_string()),
                },
            )
        }
    }
}

async fn send_command(ws: &mut Ws, frame: &CommandFrame) -> Result<(), String> {
    let text =
        serde_json::to_string(&ClientFrame::Command(frame.clone())).map_err(|e| e.to_string())?;
    ws.send(Message::text(text))
        .await
        .map_err(|e| e.to_string())
}

/// Runs one connection until it ends.
async fn serve(
    ws: &mut Ws,
    cursor: &mut Cursor,
    outbox: &mut Vec<CommandFrame>,
    links: &mut Links<'_>,
) -> Ended {
    let Links {
        commands,
        switch,
        events,
    } = links;
    // Everything unanswered goes again, same ids: the hub acts once.
    for frame in outbox.iter() {
        if let Err(e) = send_command(ws, frame).await {
            return Ended::Lost(e);
        }
    }
    let mut last_heard = Instant::now();
    let mut pinged = false;
    let mut refusal: Option<(ErrorCode, String)> = None;
    let mut check = tokio::time::interval(Duration::from_secs(1));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            msg = ws.next() => {
                let Some(msg) = msg else {
                    return lost_or_fatal(refusal, None, "the hub closed the connection");
                };
                let msg = match msg {
                    Ok(m) => m,
                    Err(e) => return lost_or_fatal(refusal, None, &e.to_string()),
                };
                last_heard = Instant::now();
                pinged = false;
                match msg {
                    Message::Text(text) => {
                        let frame = match parse_server_frame(&text) {
                            Ok(f) => f,
                            Err(e) => {
                                // One unreadable frame is the hub's bug, not a
                                // reason to drop the show; skip it.
                                tracing::warn!(error = %e, "unreadable frame from the hub skipped");
                                continue;
                            }
                        };
                        if let Some(id) = answered_id(&frame) {
                            outbox.retain(|c| &c.id != id);
                        }
                        if let ServerFrame::Error(e) = &frame
                            && e.id.is_none()
                        {
                            refusal = Some((e.code, e.message.clone()));
                        }
                        cursor.see(&frame);
                        if events.send(NetEvent::Frame(frame)).await.is_err() {
                            return Ended::UiGone;
                        }
                    }
                    Message::Close(close) => {
                        let code = close.as_ref().map(|c| u16::from(c.code));
                        let reason = close.map_or_else(
                            || "closed by the hub".to_string(),
                            |c| format!("closed by the hub ({})", u16::from(c.code)),
                        );
                        return lost_or_fatal(refusal, code, &reason);
                    }
                    _ => {}
                }
            }
            live = switch.recv() => {
                let Some(live) = live else { return Ended::UiGone };
                return Ended::Switch(live);
            }
            cmd = commands.recv() => {
                let Some(cmd) = cmd else { return Ended::UiGone };
                let result = send_command(ws, &cmd).await;
                outbox.push(cmd);
                if let Err(e) = result {
                    return Ended::Lost(e);
                }
            }
            _ = check.tick() => {
                let quiet = last_heard.elapsed();
                if quiet >= DEAD_AFTER {
                    return Ended::Lost(format!("no word from the hub for {}s", quiet.as_secs()));
                }
                if quiet >= PING_AFTER && !pinged {
                    pinged = true;
                    if let Err(e) = ws.send(Message::Ping(Bytes::default())).await {
                        return Ended::Lost(e.to_string());
                    }
                }
            }
        }
    }
}

fn lost_or_fatal(refusal: Option<(ErrorCode, String)>, close: Option<u16>, reason: &str) -> Ended {
    match closed_before_welcome(refusal, close) {
        AttemptError::Fatal(f) => Ended::Fatal(f),
        AttemptError::Retry(_) => Ended::Lost(reason.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Epoch, Event, EventFrame};

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let mut rng = rand::rng();
        for attempt in 1..30 {
            let d = backoff(attempt, &mut rng);
            let exp = BACKOFF_BASE
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(BACKOFF_MAX);
            assert!(d >= exp / 2 && d <= exp, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn token_refusals_and_versions_are_fatal() {
        assert!(matches!(
            closed_before_welcome(
                Some((ErrorCode::TokenExpired, "expired".into())),
                Some(4003)
            ),
            AttemptError::Fatal(NetFatal::TokenRefused {
                code: ErrorCode::TokenExpired,
                ..
            })
        ));
        assert!(matches!(
            closed_before_welcome(None, Some(4001)),
            AttemptError::Fatal(NetFatal::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            closed_before_welcome(None, Some(1001)),
            AttemptError::Retry(_)
        ));
    }

    #[test]
    fn every_other_close_is_retried() {
        for code in [1000, 1001, 1009, 4000, 4004, 4008, 4009, 4013, 4999] {
            assert!(
                matches!(
                    closed_before_welcome(None, Some(code)),
                    AttemptError::Retry(_)
                ),
                "{code}"
            );
        }
        assert!(matches!(
            closed_before_welcome(Some((ErrorCode::Full, "full".into())), Some(4013)),
            AttemptError::Retry(_)
        ));
    }

    #[test]
    fn cursor_tracks_the_last_event_and_forgets_on_reload() {
        let mut c = Cursor::default();
        let ev = |seq| {
            ServerFrame::Event(EventFrame {
                epoch: Epoch("e".into()),
                seq,
                at: 0,
                event: Event::ViewersOnline { count: 1 },
            })
        };
        c.see(&ev(5));
        c.see(&ev(3));
        assert_eq!(c.at.as_ref().unwrap().seq, 5);
        c.see(&ServerFrame::Reload { reason: "x".into() });
        assert!(c.at.is_none());
    }

    #[test]
    fn debug_hides_the_token() {
        let c = NetConfig {
            url: "ws://x".into(),
            live: "show".into(),
            token: "secret-token".into(),
            tls: crate::tls::ClientTls::default(),
        };
        assert!(!format!("{c:?}").contains("secret-token"));
    }
}
