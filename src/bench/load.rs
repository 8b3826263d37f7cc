//! The load generator shared by every hub bench target: N viewer sockets
//! that join and read everything, and a few sender sockets that post chat
//! lines at a fixed total rate, each line at a random moment of its own
//! slot ([`send_time`]), as a real chat's lines are not in step with the
//! hub's delivery tick. Each line carries its number and its send
//! time, so every receiving socket measures the end-to-end latency of every
//! delivery and counts what never arrived.
//!
//! Receivers are one tokio task each: the cost per socket is one small
//! future, and the client's own CPU time is measured and printed next to
//! the server's so a reader can tell when the client is the bottleneck.
//!
//! The generator is kept cheap so that it is not the bottleneck: most
//! viewer sockets only count the bench lines in each frame (a substring
//! count, no JSON, no per-line bookkeeping); staff sockets and one viewer
//! socket in [`LoadConfig::probe_every`] are probes that read each line's
//! number and send time, for duplicates, gaps and latency. Counting the
//! marker, not the frames, keeps the tally right if the hub coalesces
//! several events into one frame.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::latency::LatencyHistogram;
use crate::crowd::viewer::Socket;
use crate::protocol::{
    Auth, ClientFrame, Command, CommandFrame, CommandId, Contact, Hello, PROTOCOL_VERSION,
    ServerFrame, parse_server_frame,
};

#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The server, on loopback: the senders' (and the receivers', unless
    /// `receivers_on` names others).
    pub server: SocketAddr,
    /// Hub nodes the receiving sockets are spread over, in turn (empty:
    /// `server`): `bench cluster` sends on one node and reads on others.
    pub receivers_on: Vec<SocketAddr>,
    pub live: String,
    /// Receiving viewer sockets.
    pub viewers: usize,
    /// Receiving staff sockets, with this token (the bare broadcast
    /// takes any); every one of them is a probe.
    pub staff: usize,
    pub staff_token: String,
    /// One viewer socket in this many is a latency probe; the others count.
    pub probe_every: usize,
    /// Client sockets per loopback source address (127.0.0.1, .2, …): one
    /// address has about 28,000 ephemeral ports.
    pub sockets_per_source: usize,
    /// Sending sockets (they receive too, but are not measured): viewers,
    /// or staff with `staff_token` when `staff_senders`.
    pub senders: usize,
    /// The senders are staff (a console's staff lines), not viewers.
    pub staff_senders: bool,
    /// Chat lines per second, across all senders.
    pub rate: f64,
    /// How long the senders send.
    pub duration: Duration,
    /// At most this many lines in all (the senders stop earlier when they
    /// reach it); `None`: as many as the rate gives in `duration`.
    pub lines: Option<u64>,
    /// Handshakes in flight at once while joining.
    pub max_joining: usize,
    /// After the last line, how long receivers may take to get everything.
    pub drain: Duration,
    /// Whether the server answers each line (the hub acks; the bare
    /// broadcast does not), so senders wait for the answers before the
    /// expected count is fixed.
    pub expect_acks: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("only {joined} of {wanted} sockets joined {url} ({failures})")]
    Join {
        url: String,
        joined: usize,
        wanted: usize,
        failures: String,
    },
}

/// What one run measured, client side.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    pub viewers: usize,
    pub staff: usize,
    pub sent: u64,
    /// Lines the server answered with an error (rate limits…).
    pub refused: u64,
    /// Lines the server neither acked nor refused in time.
    pub unanswered: u64,
    /// Accepted lines × receiving sockets (viewers and staff).
    pub expected_deliveries: u64,
    pub delivered: u64,
    /// Seen twice by a probe (counting sockets cannot tell).
    pub duplicates: u64,
    /// Frames that carried a bench line, and their total size.
    pub frames: u64,
    pub frame_bytes: u64,
    /// Viewer probes' latency.
    pub latency: LatencyHistogram,
    /// Staff sockets' latency.
    pub staff_latency: LatencyHistogram,
    /// First send to last send.
    pub send_window: Duration,
    /// First send to last delivery.
    pub delivery_window: Duration,
    /// Receiving sockets the server closed, by reason.
    pub disconnects: BTreeMap<String, u64>,
    /// Receiving viewer sockets that missed at least one line.
    pub short_receivers: u64,
    /// Staff sockets that missed at least one line.
    pub short_staff: u64,
    /// Receiving viewer sockets that ended before the run did (closed by
    /// the server, or an error).
    pub viewers_closed: u64,
    pub staff_closed: u64,
    /// Redactions seen by viewer sockets, by message id: how many sockets
    /// got the tombstone, and when the last of them did (since the run's
    /// origin, [`Joined::origin`]).
    pub tombstones: HashMap<u64, Reach>,
    /// The same for staff sockets: when the first of them got each
    /// tombstone (staff get events at once, so this is the hub's own
    /// decide-and-commit time, before any viewer fan-out).
    pub staff_tombstones: HashMap<u64, Duration>,
}

/// How far one tombstone got among the viewer sockets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reach {
    pub sockets: u64,
    pub first: Duration,
    pub last: Duration,
}

impl LoadResult {
    pub fn dropped(&self) -> u64 {
        self.expected_deliveries.saturating_sub(self.delivered)
    }

    pub fn deliveries_per_sec(&self) -> f64 {
        let secs = self.delivery_window.as_secs_f64();
        if secs > 0.0 {
            self.delivered as f64 / secs
        } else {
            0.0
        }
    }

    pub fn mean_frame_bytes(&self) -> u64 {
        self.frame_bytes.checked_div(self.frames).unwrap_or(0)
    }

    /// Bytes of frame payload received per delivered line.
    pub fn bytes_per_delivery(&self) -> f64 {
        if self.delivered == 0 {
            0.0
        } else {
            self.frame_bytes as f64 / self.delivered as f64
        }
    }

    /// Adds one receiving socket's tally (`accepted`: the lines each
    /// should have got).
    fn add(&mut self, t: ReceiverTally, accepted: u64) {
        let short = t.received < accepted;
        let closed = t.disconnect.is_some();
        if t.watch == Watch::Staff {
            self.short_staff += u64::from(short);
            self.staff_closed += u64::from(closed);
            if let Some(l) = &t.latency {
                self.staff_latency.merge(l);
            }
        } else {
            self.short_receivers += u64::from(short);
            self.viewers_closed += u64::from(closed);
            if let Some(l) = &t.latency {
                self.latency.merge(l);
            }
        }
        self.delivered += t.received;
        self.duplicates += t.duplicates;
        self.frames += t.frames;
        self.frame_bytes += t.frame_bytes;
        if let Some(why) = t.disconnect {
            *self.disconnects.entry(why).or_default() += 1;
        }
        for (message, at) in t.tombstones {
            if t.watch == Watch::Staff {
                let first = self.staff_tombstones.entry(message).or_insert(at);
                *first = (*first).min(at);
            } else {
                let reach = self.tombstones.entry(message).or_insert(Reach {
                    sockets: 0,
                    first: at,
                    last: at,
                });
                reach.sockets += 1;
                reach.first = reach.first.min(at);
                reach.last = reach.last.max(at);
            }
        }
    }

    /// Lines sent a second, over the send window: below the asked rate,
    /// the senders (the generator) could not keep up.
    pub fn sent_per_sec(&self) -> f64 {
        let secs = self.send_window.as_secs_f64();
        if secs > 0.0 && self.sent > 1 {
            (self.sent - 1) as f64 / secs
        } else {
            0.0
        }
    }
}

/// The bench line's marker; the numbers after it are written in letters so
/// that no run of digits looks like a phone number to the hub's detector.
const MARKER: &str = "~b~";
/// Padding to the length of a typical chat line.
const FILLER: &str = "Elle existe en 38 ? Et en bleu marine ?";

/// `~b~<line>~<micros>~ Elle existe…`
pub fn bench_text(line: u64, sent_micros: u64) -> String {
    format!(
        "{MARKER}{}~{}~ {FILLER}",
        letters(line),
        letters(sent_micros)
    )
}

/// A time since the run's origin, in the lines' unit (saturating: a run
/// lasts minutes, not 584 000 years).
fn micros(since_origin: Duration) -> u64 {
    u64::try_from(since_origin.as_micros()).unwrap_or(u64::MAX)
}

/// How many bench lines a raw frame carries (one per event; more if the
/// server batches events into one frame). No JSON parse: this runs for
/// every frame of every counting socket.
pub fn count_bench_lines(frame: &str) -> u64 {
    frame.matches(MARKER).count() as u64
}

/// Where a tombstone's message id starts in a frame (viewers' and staff's
/// forms alike: the tombstone's first field is the message id).
const TOMBSTONE: &str = r#""type":"redacted","tombstone":{"message_id":"#;

/// The message ids of the tombstones a raw frame carries. A plain
/// substring scan: every counting socket runs it on every frame.
pub fn tombstones(frame: &str) -> impl Iterator<Item = u64> + '_ {
    frame.match_indices(TOMBSTONE).filter_map(|(at, _)| {
        let digits = &frame[at + TOMBSTONE.len()..];
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        digits[..end].parse().ok()
    })
}

/// Every bench line in a raw frame: number and send time of each.
pub fn bench_lines(frame: &str) -> impl Iterator<Item = (u64, u64)> + '_ {
    frame
        .match_indices(MARKER)
        .filter_map(|(at, _)| parse_bench_text(&frame[at..]))
}

/// Finds a bench line in a raw frame: its number and send time.
pub fn parse_bench_text(frame: &str) -> Option<(u64, u64)> {
    // Searching for one byte is a vectorised scan; a three-byte pattern is
    // not, and this runs for every delivery the client receives.
    let mut from = 0;
    let at = loop {
        let at = from + frame[from..].find('~')?;
        if frame[at..].starts_with(MARKER) {
            break at;
        }
        from = at + 1;
    };
    let rest = &frame[at + MARKER.len()..];
    let mut parts = rest.splitn(3, '~');
    let line = from_letters(parts.next()?)?;
    let micros = from_letters(parts.next()?)?;
    parts.next()?;
    Some((line, micros))
}

fn letters(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii letters")
}

fn from_letters(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 14 {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        b.is_ascii_lowercase().then(|| n * 26 + u64::from(b - b'a'))
    })
}

/// Sockets joined and reading, ready for [`Joined::run`].
pub struct Joined {
    config: LoadConfig,
    origin: Instant,
    receivers: Vec<JoinHandle<ReceiverTally>>,
    senders: Vec<Socket>,
    finish: watch::Sender<Option<Finish>>,
}

/// Told to receivers when sending is over.
#[derive(Debug, Clone, Copy)]
struct Finish {
    expected_lines: u64,
    deadline: Instant,
}

/// What a receiving socket does with each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// A staff socket: reads every line, must get them all.
    Staff,
    /// A viewer that reads every line (latency, gaps, duplicates).
    Probe,
    /// A viewer that counts the lines.
    Count,
}

#[derive(Debug)]
struct ReceiverTally {
    watch: Watch,
    seen: Vec<u64>,
    received: u64,
    duplicates: u64,
    frames: u64,
    frame_bytes: u64,
    latency: Option<LatencyHistogram>,
    last_receipt: Option<Duration>,
    disconnect: Option<String>,
    /// Tombstones received: message id, when.
    tombstones: Vec<(u64, Duration)>,
}

impl ReceiverTally {
    fn new(watch: Watch) -> Self {
        Self {
            watch,
            seen: Vec::new(),
            received: 0,
            duplicates: 0,
            frames: 0,
            frame_bytes: 0,
            latency: (watch != Watch::Count).then(LatencyHistogram::default),
            last_receipt: None,
            disconnect: None,
            tombstones: Vec::new(),
        }
    }

    /// One text frame: counted, or read line by line by a probe.
    fn frame(&mut self, text: &str, now: Duration) {
        self.tombstones
            .extend(tombstones(text).map(|message| (message, now)));
        if self.watch == Watch::Count {
            let lines = count_bench_lines(text);
            if lines > 0 {
                self.frames += 1;
                self.frame_bytes += text.len() as u64;
                self.received += lines;
                self.last_receipt = Some(now);
            }
            return;
        }
        let mut any = false;
        for (line, sent) in bench_lines(text) {
            any = true;
            let (word, bit) = (
                usize::try_from(line / 64).unwrap_or(usize::MAX),
                1u64 << (line % 64),
            );
            if word == usize::MAX {
                continue;
            }
            if self.seen.len() <= word {
                self.seen.resize(word + 1, 0);
            }
            if self.seen[word] & bit != 0 {
                self.duplicates += 1;
                continue;
            }
            self.seen[word] |= bit;
            self.received += 1;
            if let Some(l) = self.latency.as_mut() {
                l.record_micros(micros(now).saturating_sub(sent));
            }
        }
        if any {
            self.frames += 1;
            self.frame_bytes += text.len() as u64;
            self.last_receipt = Some(now);
        }
    }
}

fn socket_config() -> WebSocketConfig {
    // Small read buffers: 5,000 sockets at the 128 KiB default would cost
    // the client 640 MiB before a single frame, and tungstenite zero-fills
    // the whole read buffer before every read attempt.
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

/// The loopback source address of client socket `index` of a run whose
/// block of addresses starts `first` past 127.0.0.1: the first
/// `per_source` sockets on the block's first address, then the next, and
/// so on, so that tens of thousands of sockets to one server port do not
/// run out of ephemeral ports.
fn source_address(first: u32, index: usize, per_source: usize) -> Ipv4Addr {
    let n = index / per_source.max(1);
    let n = u32::try_from(n)
        .unwrap_or(u32::MAX)
        .saturating_add(first)
        .min(0x00ff_fffd);
    Ipv4Addr::from(u32::from(Ipv4Addr::LOCALHOST) + n)
}

/// Where the next run's block of source addresses starts (past 127.0.0.1).
static NEXT_SOURCE_BLOCK: AtomicU32 = AtomicU32::new(0);

/// Takes a block of source addresses no earlier run of this process used:
/// a run's closed sockets keep their ports in `TIME_WAIT` for a minute, and
/// a capacity search's next trial at 20,000 sockets would otherwise find
/// only a few thousand of an address's ~28,000 ports free. The blocks
/// wrap after 127.255.x.x, long after those ports are free again.
pub(super) fn reserve_sources(sockets: usize, per_source: usize) -> u32 {
    let needed = u32::try_from(sockets.div_ceil(per_source.max(1)))
        .unwrap_or(u32::MAX)
        .max(1);
    let first = NEXT_SOURCE_BLOCK.fetch_add(needed, Ordering::Relaxed);
    first % 0x00ff_0000
}

async fn connect_from(server: SocketAddr, source: Ipv4Addr) -> Result<Socket, String> {
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))
        .map_err(|e| format!("bind {source}: {e}"))?;
    let stream = socket
        .connect(server)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let url = format!("ws://{server}/");
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        url,
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
        Some(socket_config()),
    )
    .await
    .map_err(|e| format!("handshake: {e}"))?;
    Ok(ws)
}

pub(super) async fn join_one(
    config: &LoadConfig,
    first_source: u32,
    index: usize,
    auth: Auth,
) -> Result<Socket, String> {
    let receiving = index < config.viewers + config.staff;
    let server = match &config.receivers_on[..] {
        spread if receiving && !spread.is_empty() => spread[index % spread.len()],
        _ => config.server,
    };
    let source = source_address(first_source, index, config.sockets_per_source);
    let mut ws = connect_from(server, source).await?;
    let hello = ClientFrame::Hello(Hello {
        version: PROTOCOL_VERSION,
        live: config.live.clone(),
        auth,
        resume: None,
    });
    let text = serde_json::to_string(&hello).expect("a hello always serialises");
    ws.send(Message::text(text))
        .await
        .map_err(|e| format!("hello: {e}"))?;
    wait_for(&mut ws, |f| matches!(f, ServerFrame::Welcome(_))).await?;
    Ok(ws)
}

fn viewer_auth(name: String) -> Auth {
    Auth::Viewer {
        pseudonym: Some(name.to_lowercase()),
        first_name: name,
        pass: None,
        token: None,
        contact: Contact::default(),
    }
}

/// Reads until a frame `wanted` matches (30 s at most); an error frame or a
/// close is a failure.
pub(super) async fn wait_for(
    ws: &mut Socket,
    wanted: impl Fn(&ServerFrame) -> bool,
) -> Result<(), String> {
    let read = async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Text(text)) => match parse_server_frame(&text) {
                    Ok(f) if wanted(&f) => return Ok(()),
                    Ok(ServerFrame::Error(e)) => return Err(format!("refused: {}", e.code)),
                    Ok(ServerFrame::Bye { code, .. }) => return Err(format!("bye: {code}")),
                    _ => {}
                },
                Ok(Message::Close(_)) => return Err("closed".to_owned()),
                Ok(_) => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
        Err("closed".to_owned())
    };
    timeout(Duration::from_secs(30), read)
        .await
        .unwrap_or_else(|_| Err("no answer in 30s".to_owned()))
}

/// Joins every socket (bounded handshakes in flight); receivers start
/// reading as soon as each joins. Sockets are, in order: viewers, staff,
/// senders.
pub async fn join(config: LoadConfig) -> Result<Joined, LoadError> {
    let origin = Instant::now();
    let (finish, finish_rx) = watch::channel(None);
    let joining = Arc::new(Semaphore::new(config.max_joining.max(1)));
    let shared = Arc::new(config.clone());
    let mut attempts: Vec<JoinHandle<Result<Option<Socket>, String>>> = Vec::new();
    let mut receivers: Vec<JoinHandle<ReceiverTally>> = Vec::new();
    let receiving = config.viewers + config.staff;
    let first_source = reserve_sources(receiving + config.senders, config.sockets_per_source);
    for i in 0..receiving + config.senders {
        let joining = Arc::clone(&joining);
        let config = Arc::clone(&shared);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
        let finish_rx = finish_rx.clone();
        if i >= receiving {
            let auth = if config.staff_senders {
                Auth::Staff {
                    token: config.staff_token.clone(),
                }
            } else {
                viewer_auth(format!("Sender{i}"))
            };
            attempts.push(tokio::spawn(async move {
                let _permit = joining.acquire_owned().await;
                join_one(&config, first_source, i, auth).await.map(Some)
            }));
            continue;
        }
        let (kind, auth) = if i >= config.viewers {
            let token = config.staff_token.clone();
            (Watch::Staff, Auth::Staff { token })
        } else if i % config.probe_every.max(1) == 0 {
            (Watch::Probe, viewer_auth(format!("Viewer{i}")))
        } else {
            (Watch::Count, viewer_auth(format!("Viewer{i}")))
        };
        let handle = tokio::spawn(async move {
            let permit = joining.acquire_owned().await;
            match join_one(&config, first_source, i, auth).await {
                Ok(ws) => {
                    drop(permit);
                    let _ = ready_tx.send(Ok(()));
                    receive(ws, kind, origin, finish_rx).await
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.clone()));
                    let mut t = ReceiverTally::new(kind);
                    t.disconnect = Some(e);
                    t
                }
            }
        });
        attempts.push(tokio::spawn(async move {
            match ready_rx.await {
                Ok(Ok(())) => Ok(None),
                Ok(Err(e)) => Err(e),
                Err(_) => Err("receiver task ended".to_owned()),
            }
        }));
        receivers.push(handle);
    }
    let mut senders = Vec::new();
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut joined = 0;
    for attempt in attempts {
        match attempt.await {
            Ok(Ok(socket)) => {
                joined += 1;
                senders.extend(socket);
            }
            Ok(Err(e)) => *failures.entry(e).or_default() += 1,
            Err(e) => *failures.entry(e.to_string()).or_default() += 1,
        }
    }
    let wanted = receiving + config.senders;
    if joined < wanted {
        for r in &receivers {
            r.abort();
        }
        let failures: Vec<String> = failures.iter().map(|(k, v)| format!("{v}× {k}")).collect();
        return Err(LoadError::Join {
            url: format!("ws://{}/", config.server),
            joined,
            wanted,
            failures: failures.join(", "),
        });
    }
    Ok(Joined {
        config,
        origin,
        receivers,
        senders,
        finish,
    })
}

/// Reads one receiving socket until every expected line arrived, the
/// deadline passed or the server closed it.
async fn receive(
    mut ws: Socket,
    kind: Watch,
    origin: Instant,
    mut finish: watch::Receiver<Option<Finish>>,
) -> ReceiverTally {
    let mut t = ReceiverTally::new(kind);
    let mut finish_at: Option<Finish> = None;
    loop {
        if let Some(f) = finish_at
            && t.received >= f.expected_lines
        {
            break;
        }
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => t.frame(&text, origin.elapsed()),
                Some(Ok(Message::Close(frame))) => {
                    t.disconnect = Some(match frame {
                        Some(f) => format!("close {}", u16::from(f.code)),
                        None => "closed".to_owned(),
                    });
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    t.disconnect = Some(format!("error: {e}"));
                    break;
                }
                None => {
                    t.disconnect = Some("closed".to_owned());
                    break;
                }
            },
            changed = finish.changed(), if finish_at.is_none() => {
                if changed.is_err() {
                    break;
                }
                finish_at = *finish.borrow();
            }
            () = sleep_until(finish_at.map_or_else(Instant::now, |f| f.deadline)), if finish_at.is_some() => break,
        }
    }
    t.seen = Vec::new();
    t
}

/// What one sender socket did.
#[derive(Debug, Default)]
struct SenderTally {
    sent: u64,
    acked: u64,
    refused: u64,
    first_send: Option<Duration>,
    last_send: Option<Duration>,
}

impl Joined {
    /// The run's clock zero: receipt times (latency, tombstones) count
    /// from it.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Sends for the configured duration, waits for deliveries, and returns
    /// the measurements. Bounded: duration + two drains (senders settling,
    /// then receivers).
    pub async fn run(self) -> LoadResult {
        let Joined {
            config,
            origin,
            receivers,
            senders,
            finish,
        } = self;
        let k = senders.len().max(1) as u64;
        let per_sender_rate = config.rate / k as f64;
        let start = Instant::now() + Duration::from_millis(50);
        let end = start + config.duration;
        let sending: Vec<JoinHandle<(SenderTally, Socket)>> = senders
            .into_iter()
            .enumerate()
            .map(|(i, ws)| {
                let offset = Duration::from_secs_f64(i as f64 / config.rate);
                let plan = SendPlan {
                    index: i as u64,
                    k,
                    rate: per_sender_rate,
                    start: start + offset,
                    end,
                    expect_acks: config.expect_acks,
                    settle: config.drain,
                    origin,
                    lines: config.lines,
                };
                tokio::spawn(send(ws, plan))
            })
            .collect();
        let mut result = LoadResult {
            viewers: config.viewers,
            staff: config.staff,
            ..LoadResult::default()
        };
        let mut first_send = None::<Duration>;
        let mut last_send = Duration::ZERO;
        let mut open_senders = Vec::new();
        for s in sending {
            let Ok((s, ws)) = s.await else { continue };
            open_senders.push(ws);
            result.sent += s.sent;
            result.refused += s.refused;
            if config.expect_acks {
                result.unanswered += s.sent - s.acked - s.refused;
            }
            first_send = match (first_send, s.first_send) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            last_send = last_send.max(s.last_send.unwrap_or_default());
        }
        let accepted = result.sent - result.refused;
        let _ = finish.send(Some(Finish {
            expected_lines: accepted,
            deadline: Instant::now() + config.drain,
        }));
        let first_send = first_send.unwrap_or_default();
        let mut last_receipt = first_send;
        for r in receivers {
            let t = match r.await {
                Ok(t) => t,
                Err(e) => {
                    *result
                        .disconnects
                        .entry(format!("receiver task: {e}"))
                        .or_default() += 1;
                    continue;
                }
            };
            last_receipt = last_receipt.max(t.last_receipt.unwrap_or_default());
            result.add(t, accepted);
        }
        // Receivers are done: the senders may go.
        drop(open_senders);
        result.expected_deliveries = accepted * (config.viewers + config.staff) as u64;
        result.send_window = last_send.saturating_sub(first_send);
        result.delivery_window = last_receipt.saturating_sub(first_send);
        result
    }
}

/// When a sender's `n`th line goes: at a moment of its own `1 / rate`
/// slot (`jitter` in `[0, 1)` of it). The count and the rate stay exact,
/// but the lines are not in step with the hub's tick: lines sent exactly
/// every 100 ms would all wait the same part of a 100 ms tick (a whole
/// tick, in an unlucky run), and a trial's latency would be its phase.
fn send_time(start: Instant, n: u64, jitter: f64, rate: f64) -> Instant {
    start + Duration::from_secs_f64((n as f64 + jitter.clamp(0.0, 1.0)) / rate)
}

/// One sender's share of the load: which lines it sends, how fast, and when.
#[derive(Debug, Clone, Copy)]
struct SendPlan {
    /// Its first line number; it sends `index, index + k, index + 2k…`.
    index: u64,
    /// How many senders share the lines.
    k: u64,
    /// This sender's lines a second.
    rate: f64,
    start: Instant,
    end: Instant,
    /// Whether the server answers each line (an ack or a refusal).
    expect_acks: bool,
    /// The longest wait, after the last line, for the answers or the echo.
    settle: Duration,
    /// The run's clock zero: send times travel in the lines, relative to it.
    origin: Instant,
    /// Lines in all, across senders: this one stops before number `lines`.
    lines: Option<u64>,
}

/// One sender: the lines of its [`SendPlan`] at its rate from `start` to
/// `end`, reading everything in between. Then it settles, up to `settle`:
/// with acks, until every line is answered; without, until its own last
/// line comes back in the broadcast. Closing any earlier could reset the
/// connection and discard lines the server had not read yet. Returns the
/// socket open, to close once receivers are done.
async fn send(mut ws: Socket, plan: SendPlan) -> (SenderTally, Socket) {
    let SendPlan {
        index,
        k,
        rate,
        start,
        end,
        expect_acks,
        settle,
        origin,
        lines,
    } = plan;
    let mut t = SenderTally::default();
    let mut n = 0u64;
    let mut jitter = StdRng::seed_from_u64(index);
    let mut next = send_time(start, 0, jitter.random(), rate);
    let mut last_line: Option<u64> = None;
    let mut echoed = false;
    let mut settle_until: Option<Instant> = None;
    loop {
        if settle_until.is_some() {
            let settled = if expect_acks {
                t.acked + t.refused >= t.sent
            } else {
                last_line.is_none() || echoed
            };
            if settled {
                break;
            }
        }
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    if text.starts_with(r#"{"type":"event""#) {
                        if !expect_acks && !echoed && last_line.is_some() {
                            echoed = parse_bench_text(&text).map(|(line, _)| line) == last_line;
                        }
                    } else if text.starts_with(r#"{"type":"ack""#) {
                        t.acked += 1;
                    } else if text.starts_with(r#"{"type":"error""#) {
                        t.refused += 1;
                    } else {
                        match parse_server_frame(&text) {
                            Ok(ServerFrame::Ack { .. }) => t.acked += 1,
                            Ok(ServerFrame::Error(_)) => t.refused += 1,
                            _ => {}
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            () = sleep_until(next), if settle_until.is_none() => {
                if send_time(start, n, 0.0, rate) >= end || lines.is_some_and(|total| n * k + index >= total) {
                    settle_until = Some(Instant::now() + settle);
                    continue;
                }
                let line = n * k + index;
                let sent_at = origin.elapsed();
                let frame = ClientFrame::Command(CommandFrame {
                    id: CommandId(format!("b{line}")),
                    command: Command::Say { text: bench_text(line, micros(sent_at)), question: false, announcement: false },
                });
                let text = serde_json::to_string(&frame).expect("a command always serialises");
                if ws.send(Message::text(text)).await.is_err() {
                    break;
                }
                t.sent += 1;
                t.first_send.get_or_insert(sent_at);
                t.last_send = Some(sent_at);
                last_line = Some(line);
                echoed = false;
                n += 1;
                next = send_time(start, n, jitter.random(), rate);
            }
            () = sleep_until(settle_until.unwrap_or_else(Instant::now)), if settle_until.is_some() => break,
        }
    }
    if !expect_acks {
        // No answers expected: every line sent counts as accepted.
        t.acked = t.sent;
    }
    (t, ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_round_trip_inside_a_json_frame() {
        for (line, micros) in [
            (0, 0),
            (1, 25),
            (12_345, 9_876_543_210),
            (u64::from(u32::MAX), 1),
        ] {
            let text = bench_text(line, micros);
            let frame = serde_json::json!({"type": "event", "event": {"text": text}}).to_string();
            assert_eq!(parse_bench_text(&frame), Some((line, micros)));
        }
        assert_eq!(parse_bench_text("no marker"), None);
        assert_eq!(parse_bench_text("~b~ab~"), None);
        assert_eq!(parse_bench_text("~b~a1~b~"), None);
        assert_eq!(parse_bench_text("x~y~~b~b~c~ z"), Some((1, 2)));
    }

    #[test]
    fn each_line_goes_in_its_own_slot_at_a_random_moment_of_it() {
        let start = Instant::now();
        let rate = 10.0;
        let mut jitter = StdRng::seed_from_u64(7);
        let mut last = None;
        let mut phases = Vec::new();
        for n in 0..200u64 {
            let at = send_time(start, n, jitter.random(), rate);
            let since = at.duration_since(start).as_secs_f64();
            assert!(
                (n as f64 / rate..(n + 1) as f64 / rate).contains(&since),
                "line {n}"
            );
            assert!(last.is_none_or(|l| at > l), "in order");
            last = Some(at);
            phases.push(since * rate - n as f64);
        }
        // Not in step with anything: the moments spread over the slot.
        let early = phases.iter().filter(|p| **p < 0.5).count();
        assert!(
            (60..=140).contains(&early),
            "{early} of 200 in the first half"
        );
    }

    #[test]
    fn a_batched_frame_counts_and_reads_every_line_in_it() {
        let events: Vec<serde_json::Value> = (0..3)
            .map(|n| serde_json::json!({"seq": n, "event": {"text": bench_text(n, 100 + n)}}))
            .collect();
        let batch = serde_json::json!({"type": "events", "events": events}).to_string();
        assert_eq!(count_bench_lines(&batch), 3);
        let lines: Vec<(u64, u64)> = bench_lines(&batch).collect();
        assert_eq!(lines, vec![(0, 100), (1, 101), (2, 102)]);
        assert_eq!(count_bench_lines(r#"{"type":"viewers_online","n":3}"#), 0);
    }

    #[test]
    fn tombstones_are_found_in_viewer_and_staff_frames() {
        use crate::protocol::{
            Actor, Epoch, Event, EventFrame, MessageId, Role, StaffRole, Tombstone,
        };
        let frame = |id: u64| EventFrame {
            epoch: Epoch("e".into()),
            seq: 9,
            at: 3,
            event: Event::Redacted {
                tombstone: Tombstone {
                    message_id: MessageId(id),
                    posted_at: 1,
                    redacted_at: 2,
                    author_id: None,
                    reason: "request".into(),
                    by: Actor {
                        name: Some("Sam".into()),
                        role: StaffRole::Support,
                    },
                },
            },
        };
        let for_viewers = |id: u64| {
            let f = frame(id);
            let event = f
                .event
                .for_role(Role::Viewer)
                .expect("viewers get tombstones");
            serde_json::to_string(&EventFrame { event, ..f }).expect("serialises")
        };
        let viewers = format!(
            r#"{{"type":"events","events":[{},{}]}}"#,
            for_viewers(41),
            for_viewers(7)
        );
        assert_eq!(tombstones(&viewers).collect::<Vec<_>>(), vec![41, 7]);
        let staff = serde_json::to_string(&ServerFrame::Event(frame(123_456))).expect("serialises");
        assert_eq!(tombstones(&staff).collect::<Vec<_>>(), vec![123_456]);
        assert_eq!(tombstones(&bench_text(3, 4)).count(), 0);
    }

    #[test]
    fn client_sockets_spread_over_loopback_source_addresses() {
        assert_eq!(source_address(0, 0, 20_000), Ipv4Addr::LOCALHOST);
        assert_eq!(source_address(0, 19_999, 20_000), Ipv4Addr::LOCALHOST);
        assert_eq!(
            source_address(0, 20_000, 20_000),
            Ipv4Addr::new(127, 0, 0, 2)
        );
        assert_eq!(
            source_address(0, 49_999, 20_000),
            Ipv4Addr::new(127, 0, 0, 3)
        );
        assert_eq!(source_address(3, 0, 20_000), Ipv4Addr::new(127, 0, 0, 4));
        assert!(source_address(u32::MAX, usize::MAX, 1).is_loopback());
    }

    #[test]
    fn each_run_takes_source_addresses_no_earlier_run_took() {
        let a = reserve_sources(45_000, 20_000);
        let b = reserve_sources(1, 20_000);
        assert!(
            b >= a + 3,
            "a's three addresses are a's alone: {a} then {b}"
        );
    }

    #[test]
    fn bench_lines_do_not_look_like_personal_data() {
        for line in [0u64, 7, 999, 123_456] {
            let text = bench_text(line, 1_234_567_890 + line);
            assert!(
                crate::privacy::detect_personal_data(&text).is_empty(),
                "{text}"
            );
        }
    }
}
