//! One simulated viewer: its own WebSocket, a `hello` as a player would send
//! it, then a loop that reads everything the hub sends (a crowd viewer is
//! never a slow reader) and carries out the actions the scheduler hands it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::audience::{Line, LineKind, ViewerProfile};
use super::report::KindCounts;
use crate::privacy::detect_personal_data;
use crate::protocol::{
    Auth, ClientFrame, CloseCode, Command, CommandFrame, CommandId, CommandKind, ConsentChannel,
    ConsentPurpose, Contact, DrawView, ErrorCode, Event, EventFrame, Hello, Millis,
    PROTOCOL_VERSION, PollView, Resume, Seq, ServerFrame, Settings, Welcome, parse_server_frame,
};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the scheduler asks a viewer to do.
///
/// The scheduler paces chat. Votes and instant-win entries are not paced:
/// a viewer decides them itself when it sees a poll or a draw open, live
/// (`ViewerSession::on_event`) or already running when it joined
/// (`ViewerSession::on_welcome`), see [`super::play`], and sends them at once.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Say(Line),
}

/// A viewer that joined, as the scheduler sees it.
#[derive(Debug)]
pub struct Joined {
    pub index: usize,
    pub actions: mpsc::Sender<Action>,
    pub settings: Settings,
}

/// Why a viewer could not join.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("cannot connect: {0}")]
    Connect(#[source] tokio_tungstenite::tungstenite::Error),
    #[error("the hub refused the hello: {code}: {message}")]
    Refused { code: ErrorCode, message: String },
    #[error("the hub closed the connection before welcome ({0})")]
    Closed(String, Option<u16>),
    #[error("no welcome within {0:?}")]
    Timeout(Duration),
    #[error("unexpected frame before welcome: {0}")]
    Protocol(String),
}

impl JoinError {
    /// A short, stable reason for the report's tally.
    pub fn tally_key(&self) -> String {
        match self {
            JoinError::Connect(_) => "connect".into(),
            JoinError::Refused { code, .. } => format!("refused {code}"),
            JoinError::Closed(why, _) => format!("closed {why}"),
            JoinError::Timeout(_) => "timeout".into(),
            JoinError::Protocol(_) => "protocol".into(),
        }
    }

    /// Whether trying again cannot help: the hub refused this hello for
    /// good (banned, a version or live it refuses), or closed with a
    /// terminal code ([`CloseCode::is_terminal`]). An unreachable hub, a
    /// hub shutting down or full, or a lost connection may come back.
    pub fn is_terminal(&self) -> bool {
        match self {
            JoinError::Refused { code, .. } => !code.is_temporary(),
            JoinError::Closed(_, code) => code
                .and_then(CloseCode::from_code)
                .is_some_and(CloseCode::is_terminal),
            JoinError::Connect(_) | JoinError::Timeout(_) | JoinError::Protocol(_) => false,
        }
    }
}

/// Longest wait for a `welcome`: generous, since a hub under a ramp of
/// hundreds of joins answers late rather than never.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Retries of one line the hub answered `rate_limited`.
const MAX_RATE_LIMIT_RETRIES: u32 = 2;

/// Connects and says hello; returns the socket once `welcome` arrived.
/// With `contact`, the hello carries the viewer's (made-up) phone and
/// e-mail, and a `prize_contact` consent with them follows the welcome;
/// with `resume`, it asks to continue from that point.
pub async fn join(
    url: &str,
    tls: &crate::tls::ClientTls,
    live: &str,
    profile: &ViewerProfile,
    contact: bool,
    resume: Option<Resume>,
) -> Result<(Socket, Box<Welcome>), JoinError> {
    let mut ws = crate::tls::connect(url, tls, None)
        .await
        .map_err(JoinError::Connect)?;
    let hello = ClientFrame::Hello(Hello {
        version: PROTOCOL_VERSION,
        live: live.to_owned(),
        auth: Auth::Viewer {
            first_name: profile.first_name.clone(),
            pseudonym: profile.pseudonym.clone(),
            pass: profile.pass.clone(),
            token: None,
            contact: if contact {
                profile.contact()
            } else {
                Contact::default()
            },
        },
        resume,
    });
    let text = serde_json::to_string(&hello).expect("a hello always serialises");
    ws.send(Message::text(text))
        .await
        .map_err(JoinError::Connect)?;
    let welcome = timeout(JOIN_TIMEOUT, async {
        let mut paged: Option<Box<Welcome>> = None;
        while let Some(msg) = ws.next().await {
            match msg.map_err(JoinError::Connect)? {
                Message::Text(text) => match parse_server_frame(&text) {
                    Ok(ServerFrame::Welcome(w)) if w.expects_pages() => paged = Some(w),
                    Ok(ServerFrame::Welcome(w)) => return Ok(w),
                    // The snapshot's pages, assembled into the welcome.
                    Ok(ServerFrame::SnapshotPage(page)) if paged.is_some() => {
                        if let Some(w) = paged.as_mut() {
                            w.add_page(*page);
                        }
                    }
                    Ok(ServerFrame::SnapshotEnd { .. }) if paged.is_some() => {
                        if let Some(w) = paged.take() {
                            return Ok(w);
                        }
                    }
                    Ok(ServerFrame::Reload { .. }) => {}
                    Ok(ServerFrame::Error(e)) => {
                        return Err(JoinError::Refused {
                            code: e.code,
                            message: e.message,
                        });
                    }
                    Ok(ServerFrame::Bye { code, message }) => {
                        return Err(JoinError::Refused { code, message });
                    }
                    Ok(other) => return Err(JoinError::Protocol(other.name().into())),
                    Err(e) => return Err(JoinError::Protocol(e.to_string())),
                },
                Message::Close(frame) => {
                    let code = frame.map(|f| f.code.into());
                    return Err(JoinError::Closed(close_reason(code), code));
                }
                _ => {}
            }
        }
        Err(JoinError::Closed("connection lost".into(), None))
    })
    .await
    .map_err(|_| JoinError::Timeout(JOIN_TIMEOUT))??;
    if contact {
        // The hub keeps contact data only under a consent it is collected
        // for: the player ticks "contact me if I win" with the same data.
        // The same id on every connect, so a reconnect is a retry; its ack
        // matches no pending line and is ignored.
        let consent = ClientFrame::Command(CommandFrame {
            id: CommandId("consent-prize-contact".into()),
            command: Command::Consent {
                purpose: ConsentPurpose::PrizeContact,
                granted: true,
                channel: ConsentChannel::Player,
                text_sha256: crate::hex(&<sha2::Sha256 as sha2::Digest>::digest(
                    PRIZE_CONTACT_TEXT,
                )),
                contact: profile.contact(),
            },
        });
        let text = serde_json::to_string(&consent).expect("a command always serialises");
        ws.send(Message::text(text))
            .await
            .map_err(JoinError::Connect)?;
    }
    Ok((ws, welcome))
}

/// The (made-up) consent text a crowd player agrees to with `--contact`.
const PRIZE_CONTACT_TEXT: &str = "J'accepte d'être contacté·e si je gagne un lot.";

/// What one viewer sent and saw; summed into the crowd's report.
#[derive(Debug, Default, Clone)]
pub struct ViewerTally {
    pub sent: KindCounts,
    pub acked: KindCounts,
    pub refused: BTreeMap<String, u64>,
    pub unanswered: u64,
    pub rate_limit_retries: u64,
    pub visible: u64,
    pub held: KindCounts,
    pub unresolved: u64,
    pub events: u64,
    pub messages: u64,
    pub disconnect: Option<String>,
    pub personal_data_seen: u64,
    /// Votes and entries the hub accepted.
    pub votes: u64,
    pub entries: u64,
    /// Reconnects that got a welcome again, and tries at one.
    pub reconnects: u64,
    pub reconnect_attempts: u64,
}

/// A `say` waiting for its answer.
#[derive(Debug)]
struct Pending {
    line: Line,
    attempt: u32,
}

/// How many recent chat-message seqs a viewer remembers, to tell whether
/// the message an ack names already reached it. Acks follow their event
/// closely, so a short window is enough.
const RECENT_SEQS: usize = 512;

/// The state of a joined viewer. Its pure part (`on_frame`) decides what a
/// frame means; [`run`] does the socket I/O around it.
#[derive(Debug)]
pub struct ViewerSession {
    index: usize,
    /// Prepended to command ids, so two runs of the same seed against the
    /// same hub are new commands, not retries of the last run's ids.
    run: String,
    next_command: u64,
    pending: HashMap<String, Pending>,
    retries: VecDeque<(Instant, Line, u32)>,
    retry_spacing: Duration,
    /// Seqs of chat messages this viewer received, most recent last.
    recent_message_seqs: VecDeque<Seq>,
    last_seq: Option<Seq>,
    /// Acked lines whose seq is ahead of what this viewer received so far.
    awaiting_echo: BTreeMap<Seq, LineKind>,
    pub tally: ViewerTally,
    /// How this viewer plays polls and instant wins (none: it does not).
    player: Option<super::play::Player>,
    /// Game commands (vote, enter) waiting for their answer, by id.
    games_pending: HashMap<String, CommandKind>,
    /// Frames to send that the viewer decided on by itself (votes, entries).
    outbox: VecDeque<String>,
    /// The frame of each game command, by id, to resend it after a
    /// reconnect while it is unanswered.
    game_frames: HashMap<String, String>,
}

impl ViewerSession {
    pub fn new(index: usize, settings: &Settings) -> Self {
        Self {
            index,
            run: String::new(),
            next_command: 0,
            pending: HashMap::new(),
            retries: VecDeque::new(),
            retry_spacing: super::schedule::spacing_for(settings),
            recent_message_seqs: VecDeque::with_capacity(RECENT_SEQS),
            last_seq: None,
            awaiting_echo: BTreeMap::new(),
            tally: ViewerTally::default(),
            player: None,
            games_pending: HashMap::new(),
            outbox: VecDeque::new(),
            game_frames: HashMap::new(),
        }
    }

    /// Sets the prefix of this run's command ids.
    #[must_use]
    pub fn with_run(mut self, run: impl Into<String>) -> Self {
        self.run = run.into();
        self
    }

    fn next_id(&mut self) -> String {
        self.next_command += 1;
        format!("{}v{}-{}", self.run, self.index, self.next_command)
    }

    /// Lets this viewer vote and enter instant wins.
    #[must_use]
    pub fn with_player(mut self, player: super::play::Player) -> Self {
        self.player = Some(player);
        self
    }

    /// The next frame this viewer decided to send by itself.
    pub fn next_outgoing(&mut self) -> Option<String> {
        self.outbox.pop_front()
    }

    fn game_command(&mut self, command: Command) {
        let id = self.next_id();
        let kind = command.kind();
        let frame = ClientFrame::Command(CommandFrame {
            id: CommandId(id.clone()),
            command,
        });
        let text = serde_json::to_string(&frame).expect("a command always serialises");
        self.games_pending.insert(id.clone(), kind);
        self.game_frames.insert(id, text.clone());
        self.outbox.push_back(text);
    }

    /// The commands sent but not answered, under their ids, oldest first:
    /// what a reconnected viewer sends again. The hub answers a command it
    /// already decided with the same answer, so nothing is posted twice.
    fn unanswered_frames(&mut self) -> Vec<String> {
        let games = &self.games_pending;
        self.game_frames.retain(|id, _| games.contains_key(id));
        // Frames still in the outbox are sent anyway.
        let queued: std::collections::HashSet<&String> = self.outbox.iter().collect();
        let mut frames: Vec<(u64, String)> = self
            .pending
            .iter()
            .map(|(id, p)| (command_number(id), say_frame(id, &p.line)))
            .chain(
                self.game_frames
                    .iter()
                    .filter(|(_, text)| !queued.contains(text))
                    .map(|(id, text)| (command_number(id), text.clone())),
            )
            .collect();
        frames.sort_by_key(|(n, _)| *n);
        frames.into_iter().map(|(_, text)| text).collect()
    }

    /// Turns an action into the frame to send.
    fn command_for(&mut self, action: Action, attempt: u32) -> String {
        match action {
            Action::Say(line) => {
                let id = self.next_id();
                let text = say_frame(&id, &line);
                if attempt == 0 {
                    self.tally.sent.add(line.kind, 1);
                }
                self.pending.insert(id, Pending { line, attempt });
                text
            }
        }
    }

    /// Handles one frame from the hub. Returns a reason when the hub is
    /// ending this connection.
    pub fn on_frame(&mut self, frame: ServerFrame, now: Instant) -> Option<String> {
        match frame {
            ServerFrame::Event(event) => self.on_event(&event),
            ServerFrame::Events { events, skipped } => {
                for event in &events {
                    self.on_event(event);
                }
                // Lines sampled out: seen, as far as resuming goes (never
                // this viewer's own, which always arrive).
                if let Some(to) = skipped.iter().map(|s| s.to).max() {
                    self.last_seq = Some(self.last_seq.map_or(to, |last| last.max(to)));
                }
            }
            ServerFrame::Ack { id, seq } => {
                match self.games_pending.remove(&id.0) {
                    Some(CommandKind::Vote) => self.tally.votes += 1,
                    Some(CommandKind::Enter) => self.tally.entries += 1,
                    _ => {}
                }
                if let Some(p) = self.pending.remove(&id.0) {
                    self.tally.acked.add(p.line.kind, 1);
                    match seq {
                        Some(seq) => self.place(seq, p.line.kind),
                        None => self.tally.unresolved += 1,
                    }
                }
            }
            ServerFrame::Error(e)
                if e.id
                    .as_ref()
                    .is_some_and(|id| self.games_pending.contains_key(&id.0)) =>
            {
                let kind = e.id.and_then(|id| self.games_pending.remove(&id.0));
                let what = kind.unwrap_or(CommandKind::Enter).name();
                *self
                    .tally
                    .refused
                    .entry(format!("{what}: {}", e.code))
                    .or_default() += 1;
            }
            ServerFrame::Error(e) => match e.id.and_then(|id| self.pending.remove(&id.0)) {
                Some(p)
                    if e.code == ErrorCode::RateLimited && p.attempt < MAX_RATE_LIMIT_RETRIES =>
                {
                    self.tally.rate_limit_retries += 1;
                    let at = now + self.retry_spacing * (p.attempt + 1);
                    self.retries.push_back((at, p.line, p.attempt + 1));
                }
                Some(_) => *self.tally.refused.entry(e.code.to_string()).or_default() += 1,
                None => {
                    *self
                        .tally
                        .refused
                        .entry(format!("{} (connection)", e.code))
                        .or_default() += 1;
                }
            },
            ServerFrame::Bye { code, .. } => return Some(code.to_string()),
            ServerFrame::Welcome(_)
            | ServerFrame::SnapshotPage(_)
            | ServerFrame::SnapshotEnd { .. }
            | ServerFrame::Reload { .. }
            | ServerFrame::ViewerCard { .. }
            | ServerFrame::Rules { .. }
            | ServerFrame::RuleTest { .. }
            | ServerFrame::ViewerExport { .. }
            | ServerFrame::RightsRequests { .. }
            | ServerFrame::StaffLog { .. }
            | ServerFrame::HistorySearch { .. }
            | ServerFrame::ShieldReview { .. }
            | ServerFrame::Lives { .. }
            | ServerFrame::Report { .. }
            | ServerFrame::SmsSegments { .. }
            | ServerFrame::SmsProgress { .. } => {}
        }
        None
    }

    /// Counts an event and settles acked lines it proves visible or held.
    ///
    /// Votes and instant-win entries (issue 4) hook in here: a viewer that
    /// sees a poll open returns the vote to send.
    fn on_event(&mut self, frame: &EventFrame) {
        self.tally.events += 1;
        match &frame.event {
            Event::PollOpened { poll } => self.poll_open(poll),
            Event::InstantWinOpened { draw } => self.draw_open(draw),
            _ => {}
        }
        if let Event::Message { message } | Event::Released { message, .. } = &frame.event {
            self.tally.messages += 1;
            if !detect_personal_data(&message.text).is_empty() {
                self.tally.personal_data_seen += 1;
            }
            if self.recent_message_seqs.len() == RECENT_SEQS {
                self.recent_message_seqs.pop_front();
            }
            self.recent_message_seqs.push_back(frame.seq);
        }
        self.last_seq = Some(frame.seq);
        // Events arrive in seq order: anything acked below this seq that
        // never arrived was not for viewers.
        while let Some(entry) = self.awaiting_echo.first_entry() {
            match (*entry.key()).cmp(&frame.seq) {
                std::cmp::Ordering::Less => {
                    let kind = entry.remove();
                    self.tally.held.add(kind, 1);
                }
                std::cmp::Ordering::Equal => {
                    entry.remove();
                    self.tally.visible += 1;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
    }

    /// Takes part in the games already running when this viewer joined, as
    /// if it had seen them open: a poll not closed, an instant win not
    /// drawn whose entries close after `now`. Later games arrive as events.
    pub fn on_welcome(&mut self, welcome: &Welcome, now: Millis) {
        let Some(snapshot) = &welcome.snapshot else {
            return;
        };
        for state in &snapshot.polls {
            if state.closed_at.is_none() {
                self.poll_open(&state.poll);
            }
        }
        for state in &snapshot.instant_wins {
            if state.result.is_none() && state.draw.closes_at > now {
                self.draw_open(&state.draw);
            }
        }
    }

    /// A poll this viewer can vote in: votes or abstains, as its player decides.
    fn poll_open(&mut self, poll: &PollView) {
        if let Some(option) = self
            .player
            .as_mut()
            .and_then(|p| p.vote(poll.options.len()))
        {
            self.game_command(Command::Vote {
                poll_id: poll.id,
                option,
            });
        }
    }

    /// An instant win taking entries: enters or not, as its player decides.
    /// Re-draws are drawn at once among earlier entrants: no entry.
    fn draw_open(&mut self, draw: &DrawView) {
        if draw.redraw_of.is_none()
            && self
                .player
                .as_mut()
                .is_some_and(super::play::Player::enters)
        {
            self.game_command(Command::Enter { draw_id: draw.id });
        }
    }

    /// Decides, for an acked line with its seq, whether viewers got it.
    fn place(&mut self, seq: Seq, kind: LineKind) {
        if self.recent_message_seqs.contains(&seq) {
            self.tally.visible += 1;
        } else if self.last_seq.is_some_and(|last| last >= seq) {
            self.tally.held.add(kind, 1);
        } else {
            self.awaiting_echo.insert(seq, kind);
        }
    }

    /// Whether nothing this viewer sent is still undecided.
    fn settled(&self) -> bool {
        self.pending.is_empty()
            && self.retries.is_empty()
            && self.awaiting_echo.is_empty()
            && self.games_pending.is_empty()
            && self.outbox.is_empty()
    }

    /// Counts what the run's end left undecided.
    fn finish(&mut self) {
        self.tally.unanswered += self.pending.len() as u64;
        self.tally.unanswered += self.retries.len() as u64;
        self.tally.unresolved += self.awaiting_echo.len() as u64;
        self.tally.unanswered += self.games_pending.len() as u64;
        self.games_pending.clear();
        self.outbox.clear();
        self.pending.clear();
        self.retries.clear();
        self.awaiting_echo.clear();
    }
}

/// Where a viewer reconnects to, and as whom.
#[derive(Debug, Clone)]
pub struct Link {
    pub url: String,
    pub tls: crate::tls::ClientTls,
    pub live: String,
    pub profile: ViewerProfile,
    /// Whether the hello carries contact data.
    pub contact: bool,
    /// Reconnects after a close worth one, at most this many in a row
    /// without a welcome (0: the viewer ends when its connection does).
    pub max_reconnects: u32,
}

/// First wait before a reconnect; doubles per failed try, up to
/// [`RECONNECT_MAX_BACKOFF`], each wait jittered to between half and all of it
/// so a crowd cut at once does not come back at once.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(100);
const RECONNECT_MAX_BACKOFF: Duration = Duration::from_secs(3);

/// The wait before reconnect try `attempt` (0-based), jittered.
fn backoff(attempt: u32) -> Duration {
    let full = RECONNECT_BACKOFF
        .saturating_mul(1 << attempt.min(16))
        .min(RECONNECT_MAX_BACKOFF);
    full.mul_f64(rand::Rng::random_range(&mut rand::rng(), 0.5..=1.0))
}

/// How one connection of a viewer ended.
enum Ended {
    /// The run is over for this viewer (drained, or its last lines settled).
    Done,
    /// The connection closed or was lost: `close` is the close code, if any;
    /// `bye` the hub's `bye` code, if one came first.
    Lost {
        why: String,
        close: Option<u16>,
        bye: Option<ErrorCode>,
    },
}

impl Ended {
    /// A close that ends the viewer: a terminal close code, or, when the
    /// socket went before its close frame, a `bye` saying banned.
    fn is_terminal(close: Option<u16>, bye: Option<ErrorCode>) -> bool {
        match close.and_then(CloseCode::from_code) {
            Some(code) => code.is_terminal(),
            None => bye == Some(ErrorCode::Banned),
        }
    }
}

/// Runs a joined viewer until the scheduler lets go of it (its action
/// channel closes) and its last lines are settled, or `drain` passes.
///
/// When its connection closes with a close worth a reconnect (anything but
/// [`CloseCode::is_terminal`]), the viewer reconnects with a jittered,
/// bounded backoff as the same viewer (the pass it was issued), resumes from the last
/// `(epoch, seq)` it saw, and resends its unanswered commands under their
/// ids, so the hub acks them once and posts nothing twice.
pub async fn run(
    ws: Socket,
    welcome: &Welcome,
    mut session: ViewerSession,
    mut actions: mpsc::Receiver<Action>,
    drain: Duration,
    mut link: Link,
) -> ViewerTally {
    let mut draining_until: Option<Instant> = None;
    let mut epoch = welcome.epoch.clone();
    let mut base_seq = welcome.seq;
    let mut ws = ws;
    let mut resent = Vec::new();
    loop {
        let ended = connection(
            &mut ws,
            &mut session,
            &mut actions,
            &mut draining_until,
            drain,
            std::mem::take(&mut resent),
        )
        .await;
        let Ended::Lost { why, close, bye } = ended else {
            break;
        };
        if Ended::is_terminal(close, bye) || link.max_reconnects == 0 {
            session.tally.disconnect = Some(why);
            break;
        }
        let resume = Resume {
            epoch: epoch.clone(),
            seq: session.last_seq.map_or(base_seq, |s| s.max(base_seq)),
        };
        match reconnect(
            &link,
            resume,
            &mut session,
            &mut actions,
            &mut draining_until,
            drain,
        )
        .await
        {
            Ok((socket, welcome)) => {
                session.tally.reconnects += 1;
                // A hub that no longer knows the pass (another data dir)
                // issued a new one: the viewer keeps that one now.
                if welcome.pass.is_some() {
                    link.profile.pass.clone_from(&welcome.pass);
                }
                if welcome.epoch != epoch || !welcome.resumed {
                    // History reset or too far behind: a fresh start.
                    base_seq = welcome.seq;
                    session.last_seq = None;
                }
                epoch = welcome.epoch.clone();
                ws = socket;
                resent = session.unanswered_frames();
            }
            Err(gave_up) => {
                session.tally.disconnect = Some(gave_up.unwrap_or(why));
                break;
            }
        }
    }
    session.finish();
    if session.tally.disconnect.is_none() {
        // A polite close, bounded: the hub may already be gone.
        let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
    }
    session.tally
}

/// Reconnects `link`'s viewer with backoff. Lines the scheduler hands it
/// meanwhile are taken (and sent once it is back). Fails with the reason to
/// report when the hub refuses it for good (`Some`), or when the tries run
/// out or the run's drain passes (`None`: the original reason stands).
async fn reconnect(
    link: &Link,
    resume: Resume,
    session: &mut ViewerSession,
    actions: &mut mpsc::Receiver<Action>,
    draining_until: &mut Option<Instant>,
    drain: Duration,
) -> Result<(Socket, Box<Welcome>), Option<String>> {
    for attempt in 0..link.max_reconnects {
        session.tally.reconnect_attempts += 1;
        let wake = Instant::now() + backoff(attempt);
        loop {
            tokio::select! {
                () = sleep_until(wake) => break,
                action = actions.recv(), if draining_until.is_none() => match action {
                    // Pending until the viewer is back; resent then.
                    Some(action) => { let _ = session.command_for(action, 0); }
                    None => *draining_until = Some(Instant::now() + drain),
                },
                () = sleep_until(draining_until.unwrap_or_else(Instant::now)), if draining_until.is_some() => return Err(None),
            }
        }
        let joined = join(
            &link.url,
            &link.tls,
            &link.live,
            &link.profile,
            link.contact,
            Some(resume.clone()),
        )
        .await;
        match joined {
            Ok(joined) => return Ok(joined),
            Err(e) if e.is_terminal() => return Err(Some(format!("reconnect {}", e.tally_key()))),
            Err(e) => tracing::debug!(viewer = link.profile.index, error = %e, "reconnect failed"),
        }
    }
    Err(None)
}

/// One connection of a viewer: sends `first` (commands resent after a
/// reconnect) and what the viewer decided on by itself, then reads and acts
/// until the connection ends or the run does.
async fn connection(
    ws: &mut Socket,
    session: &mut ViewerSession,
    actions: &mut mpsc::Receiver<Action>,
    draining_until: &mut Option<Instant>,
    drain: Duration,
    first: Vec<String>,
) -> Ended {
    let lost = || Ended::Lost {
        why: "connection lost".into(),
        close: None,
        bye: None,
    };
    let mut bye: Option<ErrorCode> = None;
    // Resent commands, then votes and entries decided from the welcome,
    // before any frame arrives.
    for text in first {
        if ws.send(Message::text(text)).await.is_err() {
            return lost();
        }
    }
    while let Some(text) = session.next_outgoing() {
        if ws.send(Message::text(text)).await.is_err() {
            return lost();
        }
    }
    loop {
        if draining_until.is_some() && session.settled() {
            return Ended::Done;
        }
        let retry_at = session.retries.front().map(|(at, _, _)| *at);
        // Not biased: a busy show must not starve the actions, nor the
        // reverse.
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => match parse_server_frame(&text) {
                    Ok(frame) => {
                        let bye_code = match &frame {
                            ServerFrame::Bye { code, .. } => Some(*code),
                            _ => None,
                        };
                        if session.on_frame(frame, Instant::now()).is_some() {
                            // The close frame follows the bye and says
                            // whether to come back; keep reading for it.
                            bye = bye_code;
                            continue;
                        }
                        while let Some(text) = session.next_outgoing() {
                            if ws.send(Message::text(text)).await.is_err() {
                                return lost();
                            }
                        }
                    }
                    Err(_) => *session.tally.refused.entry("unparsable frame".into()).or_default() += 1,
                },
                Some(Ok(Message::Close(frame))) => {
                    let close = frame.map(|f| f.code.into());
                    let why = bye.map_or_else(|| close_reason(close), |b| b.to_string());
                    return Ended::Lost { why, close, bye };
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    let why = bye.map_or_else(|| "connection lost".into(), |b| b.to_string());
                    return Ended::Lost { why, close: None, bye };
                }
            },
            action = actions.recv(), if draining_until.is_none() => match action {
                Some(action) => {
                    let text = session.command_for(action, 0);
                    if ws.send(Message::text(text)).await.is_err() {
                        return lost();
                    }
                }
                None => *draining_until = Some(Instant::now() + drain),
            },
            () = sleep_until(retry_at.unwrap_or_else(Instant::now)), if retry_at.is_some() => {
                if let Some((_, line, attempt)) = session.retries.pop_front() {
                    let text = session.command_for(Action::Say(line), attempt);
                    if ws.send(Message::text(text)).await.is_err() {
                        return lost();
                    }
                }
            },
            () = sleep_until(draining_until.unwrap_or_else(Instant::now)), if draining_until.is_some() => return Ended::Done,
        }
    }
}

#[cfg(test)]
mod reconnect_tests {
    use super::*;

    #[test]
    fn a_reconnected_viewer_resends_what_is_unanswered_under_the_same_ids() {
        let line = |text: &str| Line {
            kind: LineKind::Comment,
            text: text.into(),
            question: false,
        };
        let mut s = ViewerSession::new(2, &Settings::default());
        let sent: Vec<String> = ["a", "b", "c"]
            .into_iter()
            .map(|t| s.command_for(Action::Say(line(t)), 0))
            .collect();
        s.on_frame(
            ServerFrame::Ack {
                id: CommandId("v2-2".into()),
                seq: Some(1),
            },
            Instant::now(),
        );
        // The first and the last, byte for byte: same ids, same lines.
        assert_eq!(
            s.unanswered_frames(),
            vec![sent[0].clone(), sent[2].clone()]
        );
        assert_eq!(s.tally.sent.total(), 3, "a resend is not a new line");
    }

    #[test]
    fn only_terminal_closes_and_refusals_end_a_viewer() {
        assert!(Ended::is_terminal(Some(4004), None));
        assert!(Ended::is_terminal(None, Some(ErrorCode::Banned)));
        assert!(!Ended::is_terminal(
            Some(1001),
            Some(ErrorCode::ShuttingDown)
        ));
        assert!(!Ended::is_terminal(None, None));
        let refused = |code| JoinError::Refused {
            code,
            message: String::new(),
        };
        assert!(refused(ErrorCode::Banned).is_terminal());
        assert!(!refused(ErrorCode::ShuttingDown).is_terminal());
        assert!(JoinError::Closed(String::new(), Some(4001)).is_terminal());
        assert!(!JoinError::Closed(String::new(), Some(4013)).is_terminal());
        assert!(backoff(30) <= RECONNECT_MAX_BACKOFF);
        assert!(backoff(0) >= RECONNECT_BACKOFF / 2);
    }
}

/// The `say` frame of `line` under command id `id`.
fn say_frame(id: &str, line: &Line) -> String {
    let frame = ClientFrame::Command(CommandFrame {
        id: CommandId(id.to_owned()),
        command: Command::Say {
            text: line.text.clone(),
            question: line.question,
            announcement: false,
        },
    });
    serde_json::to_string(&frame).expect("a command always serialises")
}

/// The counter at the end of a command id (`…v3-12` → 12), for ordering.
fn command_number(id: &str) -> u64 {
    id.rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `close 4008 slow`, `close 1001 going away`, or `closed`.
fn close_reason(code: Option<u16>) -> String {
    match code {
        Some(code) => match CloseCode::from_code(code) {
            Some(known) => format!("close {code} {known:?}").to_lowercase(),
            None => format!("close {code}"),
        },
        None => "closed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Epoch;
    use crate::testing::{chat_message, viewer_author};

    fn line(kind: LineKind) -> Line {
        Line {
            kind,
            text: "Elle existe en 38 ?".into(),
            question: false,
        }
    }

    fn message_event(seq: Seq, text: &str) -> ServerFrame {
        ServerFrame::Event(EventFrame {
            epoch: Epoch("e".into()),
            seq,
            at: 0,
            event: Event::Message {
                message: chat_message(seq, viewer_author("v", "Julie", "julie_lyon"), text),
            },
        })
    }

    fn ack(id: &str, seq: Seq) -> ServerFrame {
        ServerFrame::Ack {
            id: CommandId(id.into()),
            seq: Some(seq),
        }
    }

    #[test]
    fn an_acked_line_is_visible_when_it_comes_back_before_or_after_the_ack() {
        let now = Instant::now();
        let mut s = ViewerSession::new(3, &Settings::default());
        s.command_for(Action::Say(line(LineKind::Comment)), 0);
        s.command_for(Action::Say(line(LineKind::Question)), 0);
        // Event before ack…
        s.on_frame(message_event(10, "a"), now);
        s.on_frame(ack("v3-1", 10), now);
        // …and ack before event.
        s.on_frame(ack("v3-2", 11), now);
        assert!(!s.settled());
        s.on_frame(message_event(11, "b"), now);
        assert!(s.settled());
        assert_eq!(s.tally.visible, 2);
        assert_eq!(s.tally.acked.total(), 2);
        assert_eq!(s.tally.held.total(), 0);
    }

    #[test]
    fn an_acked_line_viewers_never_get_counts_as_held() {
        let now = Instant::now();
        let mut s = ViewerSession::new(0, &Settings::default());
        s.command_for(Action::Say(line(LineKind::PersonalData)), 0);
        s.command_for(Action::Say(line(LineKind::PersonalData)), 0);
        s.on_frame(ack("v0-1", 5), now);
        s.on_frame(message_event(6, "someone else"), now);
        assert_eq!(s.tally.held.personal_data, 1);
        // Ack arriving after a later event was already seen.
        s.on_frame(ack("v0-2", 4), now);
        assert_eq!(s.tally.held.personal_data, 2);
        assert!(s.settled());
    }

    #[test]
    fn rate_limited_lines_are_retried_then_refused() {
        let now = Instant::now();
        let mut s = ViewerSession::new(1, &Settings::default());
        let limited = |id: &str| {
            ServerFrame::Error(crate::protocol::ErrorFrame::new(
                Some(CommandId(id.into())),
                ErrorCode::RateLimited,
                "slow down",
            ))
        };
        s.command_for(Action::Say(line(LineKind::Comment)), 0);
        s.on_frame(limited("v1-1"), now);
        assert_eq!(s.retries.len(), 1);
        let (_, l, attempt) = s.retries.pop_front().unwrap();
        s.command_for(Action::Say(l), attempt);
        s.on_frame(limited("v1-2"), now);
        let (_, l, attempt) = s.retries.pop_front().unwrap();
        s.command_for(Action::Say(l), attempt);
        s.on_frame(limited("v1-3"), now);
        assert!(s.retries.is_empty());
        assert_eq!(s.tally.rate_limit_retries, 2);
        assert_eq!(s.tally.refused.get("rate_limited"), Some(&1));
        // Sent once, however often it was retried.
        assert_eq!(s.tally.sent.total(), 1);
    }

    #[test]
    fn personal_data_reaching_a_viewer_is_counted_and_bye_ends_the_session() {
        let now = Instant::now();
        let mut s = ViewerSession::new(0, &Settings::default());
        s.on_frame(message_event(1, "appelez le 06 12 34 56 78"), now);
        s.on_frame(message_event(2, "Trop belle 😍"), now);
        assert_eq!(s.tally.personal_data_seen, 1);
        assert_eq!(s.tally.messages, 2);
        let bye = ServerFrame::Bye {
            code: ErrorCode::SlowConsumer,
            message: "too slow".into(),
        };
        assert_eq!(s.on_frame(bye, now).as_deref(), Some("slow_consumer"));
    }

    #[test]
    fn the_run_end_counts_what_is_undecided() {
        let mut s = ViewerSession::new(0, &Settings::default());
        s.command_for(Action::Say(line(LineKind::Comment)), 0);
        s.command_for(Action::Say(line(LineKind::Comment)), 0);
        s.on_frame(ack("v0-1", 9), Instant::now());
        s.finish();
        assert_eq!(s.tally.unanswered, 1);
        assert_eq!(s.tally.unresolved, 1);
    }

    #[test]
    fn a_viewer_votes_once_when_a_poll_opens_and_counts_the_ack() {
        use crate::protocol::{Actor, PollView, StaffRole};
        let play = super::super::play::GamePlay {
            poll_bias: 1.0,
            vote_ratio: 1.0,
            entry_ratio: 1.0,
        };
        let mut s = ViewerSession::new(3, &Settings::default())
            .with_player(super::super::play::Player::new(play, 1, 3));
        let opened = ServerFrame::Event(EventFrame {
            epoch: crate::protocol::Epoch("e".into()),
            seq: 1,
            at: 0,
            event: Event::PollOpened {
                poll: PollView {
                    id: 4,
                    question: "?".into(),
                    options: vec!["a".into(), "b".into()],
                    opened_at: 0,
                    closes_at: None,
                    audience_at_launch: 1,
                    by: Actor {
                        name: None,
                        role: StaffRole::Host,
                    },
                },
            },
        });
        s.on_frame(opened, Instant::now());
        let text = s.next_outgoing().expect("a vote");
        assert!(s.next_outgoing().is_none(), "one vote");
        let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(frame["command"]["type"], "vote");
        assert_eq!(frame["command"]["poll_id"], 4);
        assert_eq!(frame["command"]["option"], 0, "bias 1: the first option");
        assert!(!s.settled());
        let id = frame["id"].as_str().unwrap();
        s.on_frame(ack(id, 0).with_no_seq(), Instant::now());
        assert_eq!(s.tally.votes, 1);
        assert!(s.settled());
    }

    #[test]
    fn a_viewer_joining_a_running_game_plays_it_as_if_it_had_seen_it_open() {
        use crate::protocol::{
            Actor, DrawResult, DrawState, PollState, Role, Snapshot, StaffRole, WhoAmI,
        };
        let by = Actor {
            name: None,
            role: StaffRole::Host,
        };
        let poll = |id, closed_at| PollState {
            poll: PollView {
                id,
                question: "?".into(),
                options: vec!["a".into(), "b".into()],
                opened_at: 0,
                closes_at: None,
                audience_at_launch: 1,
                by: by.clone(),
            },
            counts: vec![0, 0],
            voters: 0,
            closed_at,
            cleared_at: None,
        };
        let draw = |id, closes_at, redraw_of, drawn: bool| DrawState {
            draw: DrawView {
                id,
                prize: "Sac".into(),
                winners: 1,
                opened_at: 0,
                closes_at,
                rules: "Sans obligation d'achat.".into(),
                commitment: "00".into(),
                redraw_of,
                replaces: None,
                by: by.clone(),
            },
            entrants: 0,
            result: drawn.then(|| DrawResult {
                seed: "00".into(),
                entrants_hash: "00".into(),
                winners: Vec::new(),
                drawn_at: 0,
            }),
        };
        let welcome = Welcome {
            version: PROTOCOL_VERSION,
            live: "live".into(),
            epoch: crate::protocol::Epoch("e".into()),
            seq: 9,
            you: WhoAmI {
                role: Role::Viewer,
                name: "Julie".into(),
                viewer_id: None,
            },
            resumed: false,
            counts: None,
            snapshot: Some(Snapshot {
                polls: vec![poll(2, Some(500)), poll(4, None)],
                instant_wins: vec![
                    draw(5, 2_000, None, true),     // already drawn
                    draw(6, 900, None, false),      // entries closed
                    draw(7, 2_000, None, false),    // taking entries
                    draw(8, 2_000, Some(5), false), // a re-draw
                ],
                ..Snapshot::default()
            }),
            viewers_online: None,
            live_info: None,
            pass: None,
        };
        let play = super::super::play::GamePlay {
            poll_bias: 1.0,
            vote_ratio: 1.0,
            entry_ratio: 1.0,
        };
        let mut s = ViewerSession::new(3, &Settings::default())
            .with_player(super::super::play::Player::new(play, 1, 3));
        s.on_welcome(&welcome, 1_000);
        let sent: Vec<serde_json::Value> = std::iter::from_fn(|| s.next_outgoing())
            .map(|t| serde_json::from_str(&t).unwrap())
            .collect();
        let commands: Vec<_> = sent.iter().map(|f| f["command"].clone()).collect();
        assert_eq!(
            commands,
            vec![
                serde_json::json!({"type": "vote", "poll_id": 4, "option": 0}),
                serde_json::json!({"type": "enter", "draw_id": 7}),
            ]
        );
        for frame in &sent {
            s.on_frame(
                ack(frame["id"].as_str().unwrap(), 0).with_no_seq(),
                Instant::now(),
            );
        }
        assert_eq!((s.tally.votes, s.tally.entries), (1, 1));
        assert!(s.settled());

        // Without a player, nothing is sent.
        let mut quiet = ViewerSession::new(4, &Settings::default());
        quiet.on_welcome(&welcome, 1_000);
        assert!(quiet.next_outgoing().is_none());
    }

    trait NoSeq {
        fn with_no_seq(self) -> ServerFrame;
    }
    impl NoSeq for ServerFrame {
        fn with_no_seq(self) -> ServerFrame {
            match self {
                ServerFrame::Ack { id, .. } => ServerFrame::Ack { id, seq: None },
                other => other,
            }
        }
    }
}
