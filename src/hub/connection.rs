//! One WebSocket connection: the `hello` handshake, then one task that reads
//! client frames into the session actor's inbox and writes the connection's
//! queue to the socket.
//!
//! Writes are batched: everything queued is fed to the socket, then flushed
//! once. At thousands of sockets the cost is in socket writes, not in JSON,
//! so one flush per batch instead of one per frame is what keeps up with the
//! show. While a batch is being written, the task still listens for the
//! actor's farewell and keeps the idle deadline: a reader that stopped
//! reading is cut even if its socket write is stuck.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::SinkExt;
use tokio::sync::{mpsc, oneshot, watch};

use super::HubConfig;
use super::farewell::{CLOSE_REPLY_WAIT, Farewell};
use super::identity::{MAX_NAME_GRAPHEMES, Subject, ViewerIdentity, assigned_pseudonym};
use super::mailbox::{ActorHandle, ConnId, JoinReply, JoinRequest, Stopped, to_text};
use super::metrics::Metrics;
use super::session::{Principal, ViewerProfile};
use crate::auth::SigningKey;
use crate::privacy::sanitize_name;
use crate::protocol::{
    Auth, ClientFrame, CloseCode, CommandId, Contact, ErrorCode, ErrorFrame, Hello,
    MAX_FRAME_BYTES, PROTOCOL_VERSION, Resume, ServerFrame, parse_client_frame,
};

/// Frames taken from the queue per socket flush.
const WRITE_BATCH: usize = 256;

/// Bytes read from a socket at a time. Clients send little (commands of a
/// few hundred bytes), and the library's 128 KiB default per connection
/// would cost 640 MiB at 5,000 viewers; bigger frames still arrive whole.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Bytes buffered before a write reaches the socket mid-batch. A batch is
/// flushed at its end anyway; this only caps what one connection keeps.
const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// What every connection task shares.
pub(crate) struct Shared {
    pub config: Arc<HubConfig>,
    /// Who owns each live: a `hello` is routed to its live's actor.
    pub lives: Arc<super::lives::Lives>,
    pub key: SigningKey,
    pub identity: ViewerIdentity,
    /// Passes issued per source address this minute.
    pub newcomers: std::sync::Mutex<super::newcomers::Newcomers>,
    pub metrics: Arc<Metrics>,
    /// Whether this node still hears the other nodes (`bus`), for `/healthz`.
    pub bus_health: Option<Arc<super::bus::Health>>,
    pub next_conn: AtomicU64,
    pub open: AtomicUsize,
    /// Flips to true when the hub starts shutting down, for connections
    /// that have not joined yet (joined ones hear it from the actor).
    pub stopping: watch::Receiver<bool>,
    /// Held (through `Shared`) by every connection task; the hub waits for
    /// the last one to drop before returning from `serve`.
    pub _alive: mpsc::Sender<()>,
}

/// `GET /` with a WebSocket upgrade.
///
/// The peer's address is read from the request's extensions rather than
/// required: a server that does not attach `ConnectInfo` still serves, its
/// connections sharing one budget of new identities.
pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(shared): State<Arc<Shared>>,
    headers: axum::http::HeaderMap,
    extensions: axum::http::Extensions,
) -> Response {
    let peer = extensions
        .get::<axum::extract::ConnectInfo<super::listener::Peer>>()
        .map(|c| c.0.0);
    let source =
        super::newcomers::source_address(peer, &headers, &shared.config.viewers.trusted_proxies);
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| connection(socket, shared, source))
}

/// Counts open sockets; the count drops with the guard whatever the exit.
struct OpenGuard<'a>(&'a AtomicUsize);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A refusal before joining: an `error` frame, then a close code.
type Refusal = (ErrorFrame, CloseCode);

fn refused(farewell: Farewell) -> Refusal {
    let close = farewell.close();
    (farewell.into_error(), close)
}

async fn connection(mut ws: WebSocket, shared: Arc<Shared>, source: Option<std::net::IpAddr>) {
    let conn: ConnId = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let open = shared.open.fetch_add(1, Ordering::Relaxed) + 1;
    let _open = OpenGuard(&shared.open);
    let grace = shared.config.limits.close_grace;
    if open > shared.config.limits.max_connections {
        shared.metrics.rejected(ErrorCode::Full.as_str());
        refuse(&mut ws, refused(Farewell::full()), grace).await;
        return;
    }
    let Some((inbox, admitted)) = hello(&mut ws, &shared, conn, source).await else {
        return;
    };
    let Admitted {
        principal,
        contact,
        resume,
        pass,
        ..
    } = admitted;

    let (outbox, mut queue) = mpsc::channel(shared.config.limits.send_queue_frames.max(1));
    let (farewell_tx, mut farewell) = oneshot::channel();
    let request = JoinRequest {
        conn,
        principal,
        contact,
        resume,
        pass,
        outbox,
        farewell: farewell_tx,
    };
    let (frames, principal) = match inbox.join(request).await {
        Ok(JoinReply::Joined { frames, principal }) => (frames, principal),
        Ok(JoinReply::Refused(f)) => {
            tracing::info!(conn, code = %f.code(), "join refused");
            refuse(&mut ws, refused(f), grace).await;
            return;
        }
        Err(Stopped) => {
            refuse(&mut ws, refused(Farewell::shutting_down()), grace).await;
            return;
        }
    };
    let role = principal.role();
    shared.metrics.connection_opened(role);
    tracing::debug!(
        conn,
        role = crate::protocol::permissions::role_name(role),
        "joined"
    );

    let joined = Joined::new(&shared, &inbox, conn, principal);
    let end = joined
        .live(&mut ws, frames, &mut queue, &mut farewell)
        .await;
    // Frames still queued will never be written: drop them before the goodbye.
    drop(queue);
    if let Some(f) = end {
        tracing::debug!(conn, code = %f.code(), "closing");
        if f.code() == ErrorCode::IdleTimeout {
            shared.metrics.idle_disconnects.inc();
        }
        let close = f.close();
        goodbye(&mut ws, f.into_bye(), close, grace).await;
    }
    shared.metrics.connection_closed(role);
    inbox.leave(conn).await;
}

/// The `hello` phase: the first frame, checked, and the actor of the live
/// it names. `None` when the connection was refused (and told why) or is
/// already gone.
async fn hello(
    ws: &mut WebSocket,
    shared: &Shared,
    conn: ConnId,
    source: Option<std::net::IpAddr>,
) -> Option<(ActorHandle, Admitted)> {
    let grace = shared.config.limits.close_grace;
    let hello = match read_hello(ws, shared, conn).await {
        Ok(hello) => hello,
        Err(Some(refusal)) => {
            shared.metrics.rejected(refusal.0.code.as_str());
            refuse(ws, refusal, grace).await;
            return None;
        }
        Err(None) => return None,
    };
    let admitted = match admit(hello, shared, source) {
        Ok(admitted) => shared
            .lives
            .owner(&admitted.live)
            .await
            .map(|inbox| (inbox, admitted))
            .map_err(refused),
        Err(refusal) => Err(refusal),
    };
    match admitted {
        Ok(joining) => Some(joining),
        Err(refusal) => {
            shared.metrics.rejected(refusal.0.code.as_str());
            tracing::info!(conn, code = %refusal.0.code, "hello refused");
            refuse(ws, refusal, grace).await;
            None
        }
    }
}

/// Says a refusal before `welcome`: its `error` frame, then its close code.
async fn refuse(ws: &mut WebSocket, (frame, close): Refusal, grace: Duration) {
    goodbye(ws, ServerFrame::Error(frame), close, grace).await;
}

/// One joined connection, between its `welcome` and its goodbye.
struct Joined<'a> {
    shared: &'a Shared,
    /// The actor of the live this connection joined.
    inbox: &'a ActorHandle,
    conn: ConnId,
    principal: Arc<Principal>,
    /// Frames the task itself answers with (errors, pings): written before
    /// the next queued batch, under the same watch for a farewell, so no
    /// write can get stuck out of the actor's reach.
    own: Vec<Message>,
    bad_frames: u32,
    last_heard: tokio::time::Instant,
    last_ping: tokio::time::Instant,
}

impl<'a> Joined<'a> {
    fn new(
        shared: &'a Shared,
        inbox: &'a ActorHandle,
        conn: ConnId,
        principal: Arc<Principal>,
    ) -> Self {
        let now = tokio::time::Instant::now();
        Self {
            shared,
            inbox,
            conn,
            principal,
            own: Vec::new(),
            bad_frames: 0,
            last_heard: now,
            last_ping: now,
        }
    }

    /// The joined phase. Returns the farewell to say, or `None` when the
    /// client is already gone.
    async fn live(
        mut self,
        ws: &mut WebSocket,
        first_frames: Vec<Utf8Bytes>,
        queue: &mut mpsc::Receiver<Utf8Bytes>,
        farewell: &mut oneshot::Receiver<Farewell>,
    ) -> Option<Farewell> {
        let shared = self.shared;
        let limits = &shared.config.limits;
        let mut batch: Vec<Utf8Bytes> = first_frames;
        // One timer for both the ping and the idle check: every wake of this
        // loop polls each branch, and at thousands of sockets a second timer
        // is measurable.
        let beat = limits
            .ping_interval
            .min(limits.idle_timeout / 2)
            .max(Duration::from_millis(10));
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        loop {
            if !batch.is_empty() || !self.own.is_empty() {
                let watch = Watch {
                    farewell: &mut *farewell,
                    heartbeat: &mut heartbeat,
                    last_heard: self.last_heard,
                    idle_timeout: limits.idle_timeout,
                };
                if let ControlFlow::Break(end) = write(ws, &mut self.own, &mut batch, watch).await {
                    return end;
                }
            }
            // Reads first: a busy show must not starve a staff member's
            // commands; then the queue; the heartbeat when both are quiet.
            let step = tokio::select! {
                biased;
                incoming = ws.recv() => self.heard(incoming).await,
                n = queue.recv_many(&mut batch, WRITE_BATCH) => if n == 0 {
                    // The fan-out closed the queue: it left a farewell
                    // (slow, banned, shutting down), or it is gone.
                    ControlFlow::Break(Some(
                        farewell.try_recv().unwrap_or_else(|_| Farewell::shutting_down()),
                    ))
                } else {
                    ControlFlow::Continue(())
                },
                now = heartbeat.tick() => self.beat(now),
            };
            if let ControlFlow::Break(end) = step {
                return end;
            }
        }
    }

    /// A frame (or the end of the stream) from the client.
    async fn heard(
        &mut self,
        incoming: Option<Result<Message, axum::Error>>,
    ) -> ControlFlow<Option<Farewell>> {
        self.last_heard = tokio::time::Instant::now();
        let message = match incoming {
            None => return ControlFlow::Break(None),
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                let end = read_failure(e, self.conn);
                if let Some(f) = &end {
                    self.shared.metrics.rejected(f.code().as_str());
                }
                return ControlFlow::Break(end);
            }
        };
        let error = match message {
            Message::Text(text) => match parse_client_frame(&text) {
                Ok(ClientFrame::Command(frame)) => {
                    self.bad_frames = 0;
                    let principal = self.principal.clone();
                    return match self.inbox.command(self.conn, principal, frame).await {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(Stopped) => ControlFlow::Break(Some(Farewell::shutting_down())),
                    };
                }
                Ok(ClientFrame::Hello(_)) => ErrorFrame::new(
                    None,
                    ErrorCode::NotJoined,
                    "already joined: hello is only the first frame",
                ),
                Err(mut e) => {
                    e.id = command_id_of(&text);
                    e
                }
            },
            Message::Binary(_) => ErrorFrame::new(
                None,
                ErrorCode::BadFrame,
                "binary frames are not part of the protocol; send JSON text",
            ),
            Message::Ping(_) | Message::Pong(_) => return ControlFlow::Continue(()),
            Message::Close(_) => return ControlFlow::Break(None),
        };
        self.bad_frames += 1;
        self.shared.metrics.rejected(error.code.as_str());
        if self.bad_frames > self.shared.config.limits.max_bad_frames {
            return ControlFlow::Break(Some(Farewell::bad_frames(self.bad_frames)));
        }
        self.own
            .push(Message::Text(to_text(&ServerFrame::Error(error))));
        ControlFlow::Continue(())
    }

    /// The heartbeat: cut a silent client, ping a quiet one.
    fn beat(&mut self, now: tokio::time::Instant) -> ControlFlow<Option<Farewell>> {
        let limits = &self.shared.config.limits;
        if now.duration_since(self.last_heard) >= limits.idle_timeout {
            return ControlFlow::Break(Some(Farewell::idle(limits.idle_timeout)));
        }
        if now.duration_since(self.last_ping) >= limits.ping_interval {
            self.last_ping = now;
            self.own.push(Message::Ping(Bytes::default()));
        }
        ControlFlow::Continue(())
    }
}

/// What a blocked write still answers to: the actor's farewell and the
/// idle rule.
struct Watch<'a> {
    farewell: &'a mut oneshot::Receiver<Farewell>,
    heartbeat: &'a mut tokio::time::Interval,
    last_heard: tokio::time::Instant,
    idle_timeout: Duration,
}

/// Writes the task's own frames, then the queued batch, with one flush.
/// The farewell and the heartbeat are only polled when the write does not
/// complete at once: a reader that stopped reading is cut mid-write, by the
/// actor (its queue overflowed) or by the idle rule (the task reads nothing
/// while it writes, so a write blocked past the idle deadline means nothing
/// was heard in time; no ping is sent, it would queue behind the write).
/// Breaks with the farewell to say, or `None` when the socket failed.
async fn write(
    ws: &mut WebSocket,
    own: &mut Vec<Message>,
    batch: &mut Vec<Utf8Bytes>,
    watch: Watch<'_>,
) -> ControlFlow<Option<Farewell>> {
    let Watch {
        farewell,
        heartbeat,
        last_heard,
        idle_timeout,
    } = watch;
    let write = async {
        for m in own.drain(..) {
            ws.feed(m).await?;
        }
        for text in batch.drain(..) {
            ws.feed(Message::Text(text)).await?;
        }
        ws.flush().await
    };
    let idle = async {
        loop {
            let now = heartbeat.tick().await;
            if now.duration_since(last_heard) >= idle_timeout {
                return Farewell::idle(idle_timeout);
            }
        }
    };
    tokio::select! {
        biased;
        written = write => if written.is_err() { return ControlFlow::Break(None) },
        f = &mut *farewell => {
            return ControlFlow::Break(Some(f.unwrap_or_else(|_| Farewell::shutting_down())));
        }
        f = idle => return ControlFlow::Break(Some(f)),
    }
    batch.clear();
    own.clear();
    ControlFlow::Continue(())
}

/// The `id` of a command frame that failed to parse, so the error can say
/// which command it answers (and the client stop retrying it).
fn command_id_of(text: &str) -> Option<CommandId> {
    if text.len() > MAX_FRAME_BYTES {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let id = value.get("id")?.as_str()?;
    (!id.is_empty() && id.len() <= crate::protocol::MAX_COMMAND_ID_BYTES)
        .then(|| CommandId(id.to_owned()))
}

/// A read error: the farewell for a frame the client got wrong (over the
/// size limit: 1009; text that is not UTF-8: `bad_frame`, 4000), which the
/// caller counts as a rejected frame; anything else means the client is
/// gone. The WebSocket layer reads nothing more after either.
fn read_failure(e: axum::Error, conn: ConnId) -> Option<Farewell> {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let farewell = match e.into_inner().downcast::<WsError>() {
        Ok(inner) => match *inner {
            WsError::Capacity(_) => Farewell::too_big(),
            WsError::Utf8(_) => Farewell::invalid_utf8(),
            other => {
                tracing::debug!(conn, error = %other, "connection lost");
                return None;
            }
        },
        Err(other) => {
            tracing::debug!(conn, error = %other, "connection lost");
            return None;
        }
    };
    tracing::info!(conn, code = %farewell.code(), close = farewell.close().code(), "frame refused");
    Some(farewell)
}

async fn send_frame(ws: &mut WebSocket, frame: &ServerFrame) -> Result<(), axum::Error> {
    ws.send(Message::Text(to_text(frame))).await
}

/// Says why and closes with `close`. Writing may take up to `grace` (a slow
/// reader has to drain its buffers first); then the client has
/// [`CLOSE_REPLY_WAIT`] to answer the close.
async fn goodbye(ws: &mut WebSocket, frame: ServerFrame, close: CloseCode, grace: Duration) {
    let reason = match &frame {
        ServerFrame::Error(e) => e.code.as_str(),
        ServerFrame::Bye { code, .. } => code.as_str(),
        _ => "",
    };
    let written = tokio::time::timeout(grace, async {
        send_frame(ws, &frame).await?;
        ws.send(Message::Close(Some(CloseFrame {
            code: close.code(),
            reason: Utf8Bytes::from(reason),
        })))
        .await
    })
    .await;
    if !matches!(written, Ok(Ok(()))) {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, async {
        while let Some(Ok(m)) = ws.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Waits for the first frame, which must be a `hello`.
async fn read_hello(
    ws: &mut WebSocket,
    shared: &Shared,
    conn: ConnId,
) -> Result<Hello, Option<Refusal>> {
    let mut stopping = shared.stopping.clone();
    let deadline = tokio::time::Instant::now() + shared.config.limits.hello_timeout;
    loop {
        let incoming = tokio::select! {
            m = tokio::time::timeout_at(deadline, ws.recv()) => m,
            _ = stopping.wait_for(|s| *s) => return Err(Some(refused(Farewell::shutting_down()))),
        };
        let text = match incoming {
            Err(_) => return Err(Some(refused(Farewell::no_hello()))),
            // The client left before saying hello.
            Ok(None | Some(Ok(Message::Close(_)))) => return Err(None),
            Ok(Some(Err(e))) => {
                return Err(read_failure(e, conn).map(refused));
            }
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(Message::Binary(_)))) => {
                return Err(Some(refused(Farewell::binary_hello())));
            }
        };
        return match parse_client_frame(&text) {
            Ok(ClientFrame::Hello(hello)) => Ok(hello),
            Ok(ClientFrame::Command(c)) => {
                let mut e = ErrorFrame::new(
                    Some(c.id),
                    ErrorCode::NotJoined,
                    "send hello before any command",
                );
                e.temporary = false;
                Err(Some((e, CloseCode::ProtocolError)))
            }
            Err(e) => match hello_version(&text) {
                // A hello from another protocol version may not parse as
                // ours; say so instead of "bad frame".
                Some(v) if v != u64::from(PROTOCOL_VERSION) => {
                    Err(Some(refused(Farewell::unsupported_version(v))))
                }
                _ => Err(Some((e, CloseCode::ProtocolError))),
            },
        };
    }
}

/// The `version` of something that looks like a hello.
fn hello_version(text: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    (value.get("type")?.as_str()? == "hello")
        .then(|| value.get("version")?.as_u64())
        .flatten()
}

/// A checked hello: who joins which live.
struct Admitted {
    live: String,
    principal: Principal,
    contact: Contact,
    resume: Option<Resume>,
    /// A pass issued for this join, for the welcome.
    pass: Option<String>,
}

/// Checks a hello and turns it into a principal of the live it names
/// (whether the hub holds that live is the registry's answer).
fn admit(
    hello: Hello,
    shared: &Shared,
    source: Option<std::net::IpAddr>,
) -> Result<Admitted, Refusal> {
    let config = &shared.config;
    if hello.version != PROTOCOL_VERSION {
        return Err(refused(Farewell::unsupported_version(u64::from(
            hello.version,
        ))));
    }
    if crate::protocol::check_live_name(&hello.live).is_err() {
        let theirs = sanitize_name(&hello.live, 64);
        return Err(refused(Farewell::unknown_live(&theirs)));
    }
    let live = hello.live;
    match hello.auth {
        Auth::Staff { token } => {
            // Expiry by the live's own clock, the one its events are
            // stamped with (the system clock, except in tests).
            let claims = crate::auth::verify(&shared.key, &token, &live, config.clock.now())
                .map_err(|e| refused(Farewell::token_refused(&e)))?;
            Ok(Admitted {
                live,
                principal: Principal::Staff {
                    role: claims.role,
                    name: claims.name,
                },
                contact: Contact::default(),
                resume: hello.resume,
                pass: None,
            })
        }
        Auth::Viewer {
            first_name,
            pseudonym,
            pass,
            token,
            contact,
        } => {
            let invalid = |why: &str| refused(Farewell::invalid_hello(why));
            // Refused before a pass is issued: a bad hello spends no budget.
            if token.is_none() && sanitize_name(&first_name, MAX_NAME_GRAPHEMES).is_empty() {
                return Err(invalid("a viewer joins with a first name"));
            }
            let who = viewer_identity(shared, &live, pass.as_deref(), token.as_deref(), source)?;
            // A brand account comes with the name the brand knows.
            let first_name = who.first_name.unwrap_or(first_name);
            let first_name = sanitize_name(&first_name, MAX_NAME_GRAPHEMES);
            if first_name.is_empty() {
                return Err(invalid("a viewer joins with a first name"));
            }
            let pseudonym = pseudonym
                .map(|p| sanitize_name(&p, MAX_NAME_GRAPHEMES))
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| assigned_pseudonym(&who.id));
            let contact = contact.cleaned().map_err(invalid)?;
            Ok(Admitted {
                live,
                principal: Principal::Viewer(ViewerProfile {
                    id: who.id,
                    first_name,
                    pseudonym,
                    known_since: who.known_since,
                }),
                contact,
                resume: hello.resume,
                pass: who.issued,
            })
        }
    }
}

/// Who a joining viewer is, from their token, their pass, or a new pass.
struct ViewerWho {
    id: crate::protocol::ViewerId,
    known_since: Option<crate::protocol::Millis>,
    /// The brand account's first name.
    first_name: Option<String>,
    /// A pass issued now, for the welcome.
    issued: Option<String>,
}

/// A brand token wins (one account, one viewer); else a pass this data dir
/// issued; else a new pass, within the source address's budget.
fn viewer_identity(
    shared: &Shared,
    live: &str,
    pass: Option<&str>,
    token: Option<&str>,
    source: Option<std::net::IpAddr>,
) -> Result<ViewerWho, Refusal> {
    let now = shared.config.clock.now();
    if let Some(token) = token {
        let claims = match &shared.config.viewers.token_secret {
            Some(secret) => crate::auth::viewer_token::verify(secret, token, now),
            None => Err(crate::auth::viewer_token::ViewerTokenError::NotAccepted),
        }
        .map_err(|e| refused(Farewell::viewer_token_refused(&e)))?;
        return Ok(ViewerWho {
            id: shared
                .identity
                .viewer_id(live, Subject::Account(&claims.viewer)),
            known_since: None,
            first_name: Some(claims.first_name),
            issued: None,
        });
    }
    if let Some(text) = pass {
        if let Some(pass) = shared.identity.check_pass(text) {
            return Ok(ViewerWho {
                id: shared.identity.viewer_id(live, Subject::Device(&pass)),
                known_since: Some(pass.issued_at),
                first_name: None,
                issued: None,
            });
        }
        // Never the pass itself: a log is no place for a credential.
        tracing::debug!(
            bytes = text.len(),
            "a viewer pass did not verify; issuing a new one"
        );
    }
    let viewers = &shared.config.viewers;
    let admitted = shared
        .newcomers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .admit(source, now);
    if !admitted {
        return Err(refused(Farewell::too_many_newcomers(
            viewers.new_identities_per_minute,
        )));
    }
    let (pass, text) = shared
        .identity
        .issue_pass(now)
        .map_err(|_| refused(Farewell::no_viewer_id()))?;
    Ok(ViewerWho {
        id: shared.identity.viewer_id(live, Subject::Device(&pass)),
        known_since: Some(pass.issued_at),
        first_name: None,
        issued: Some(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_version_is_read_from_frames_that_do_not_parse() {
        assert_eq!(
            hello_version(r#"{"type":"hello","version":7,"shape":"new"}"#),
            Some(7)
        );
        assert_eq!(hello_version(r#"{"type":"command","version":7}"#), None);
        assert_eq!(hello_version("garbage"), None);
    }

    #[test]
    fn command_ids_are_recovered_from_bad_commands() {
        assert_eq!(
            command_id_of(r#"{"type":"command","id":"c-1","command":{"type":"dance"}}"#),
            Some(CommandId("c-1".into()))
        );
        assert_eq!(command_id_of(r#"{"id":""}"#), None);
        assert_eq!(command_id_of("nope"), None);
    }
}
