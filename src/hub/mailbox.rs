//! The hub's internal messages, and the typed handle to the session actor.
//!
//! Two FIFO channels carry everything. Connections and timers reach the
//! actor through its inbox, behind [`ActorHandle`], so every join, command
//! and tick is ordered by construction. The actor hands its work to the
//! fan-out task as [`Dispatch`]es, and that channel's order is the hub's
//! delivery guarantee: a [`Registration`] travels in the same channel as the
//! committed events, right after the events its welcome already covers, so
//! the connection gets every later event and none twice. Registrations and
//! batches must stay in that one channel.
//!
//! This module names the messages, not the tasks that send or handle them:
//! `actor`, `fanout` and `connection` depend on it, never on each other.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot};

use super::farewell::Farewell;
use super::session::Principal;
use crate::instant_win::DrawRecord;
use crate::protocol::{
    CommandFrame, Contact, EventFrame, Resume, Role, Seq, ServerFrame, ViewerId,
};

/// A connection, as the actor and the fan-out know it.
pub(crate) type ConnId = u64;

/// What connections (and the hub's timers) ask of the actor.
pub(crate) enum Inbox {
    Join {
        request: Box<JoinRequest>,
        reply: oneshot::Sender<JoinReply>,
    },
    Command {
        conn: ConnId,
        principal: Arc<Principal>,
        frame: CommandFrame,
    },
    Leave {
        conn: ConnId,
    },
    /// Time to publish the viewers-online count and trim memory.
    Tick,
    /// Time for polls and instant wins: deadlines and throttled tallies.
    Clock,
    /// Time to delete what is past its retention period.
    Sweep,
    /// The live's SMS counts may have changed: staff get them if they did.
    SmsProgress,
    /// The published record of an instant win, for `/draws/{id}.json`.
    DrawRecord {
        draw_id: u64,
        reply: oneshot::Sender<Option<DrawRecord>>,
    },
    Shutdown,
    /// What another hub node committed on this live (in seq order), or
    /// that it committed up to a seq (`None`: check the store, the bus
    /// subscription was made again). See `bus`.
    Followed {
        frames: Vec<EventFrame>,
        head: Option<Seq>,
    },
    /// Another hub node has `count` viewer sockets on this live (its
    /// heartbeat; see `bus::audience`).
    OthersOnline {
        node: String,
        count: u64,
    },
}

/// A connection that said a valid `hello` and wants in.
pub(crate) struct JoinRequest {
    pub conn: ConnId,
    pub principal: Principal,
    pub contact: Contact,
    pub resume: Option<Resume>,
    /// A viewer pass issued for this join: the welcome carries it.
    pub pass: Option<String>,
    /// The connection's bounded send queue.
    pub outbox: mpsc::Sender<Utf8Bytes>,
    /// How the fan-out tells the connection to close (slow, banned,
    /// shutdown).
    pub farewell: oneshot::Sender<Farewell>,
}

pub(crate) enum JoinReply {
    /// Frames to write before anything from the queue: `[reload]`,
    /// `welcome`, then the replayed gap.
    Joined {
        frames: Vec<Utf8Bytes>,
        principal: Arc<Principal>,
    },
    Refused(Farewell),
}

/// What the actor asks the fan-out task to do, in the order it must be done.
pub(crate) enum Dispatch {
    /// A connection joined at the current head: deliver what comes next.
    Register(Registration),
    /// A connection ended; forget it.
    Leave { conn: ConnId },
    /// One committed batch: events (in seq order), then replies, then the
    /// connections of banned viewers to close.
    Batch {
        events: Vec<EventFrame>,
        replies: Vec<(ConnId, ServerFrame)>,
        banned: Vec<ViewerId>,
    },
    /// A frame for every staff connection, none for viewers (the SMS
    /// counts: not an event of the live's stream, never stored).
    Staff(Box<ServerFrame>),
    /// Close every connection (shutdown, or the store is gone).
    CloseAll(Farewell),
}

/// A joined connection, handed to the fan-out right after the events its
/// welcome covers.
pub(crate) struct Registration {
    pub conn: ConnId,
    pub role: Role,
    pub viewer: Option<ViewerId>,
    pub outbox: mpsc::Sender<Utf8Bytes>,
    pub farewell: oneshot::Sender<Farewell>,
}

/// The hub's timers: each firing wakes the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// [`Inbox::Tick`]: viewers online, memory trim.
    ViewersOnline,
    /// [`Inbox::Clock`]: poll and instant-win deadlines.
    GameClock,
    /// [`Inbox::Sweep`]: the retention sweep.
    Retention,
    /// [`Inbox::SmsProgress`]: the SMS sender did something.
    SmsProgress,
}

/// The actor is gone: the hub is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the hub is stopping")]
pub(crate) struct Stopped;

/// The typed way into the session actor's inbox. Callers ask and get
/// answers; the reply channels stay inside.
#[derive(Clone)]
pub(crate) struct ActorHandle {
    inbox: mpsc::Sender<Inbox>,
}

impl ActorHandle {
    /// A handle and the inbox it feeds, holding at most `capacity` items.
    pub(crate) fn channel(capacity: usize) -> (Self, mpsc::Receiver<Inbox>) {
        let (inbox, rx) = mpsc::channel(capacity.max(1));
        (Self { inbox }, rx)
    }

    /// Asks to join; waits for the welcome's frames or the refusal.
    pub(crate) async fn join(&self, request: JoinRequest) -> Result<JoinReply, Stopped> {
        let (reply, answer) = oneshot::channel();
        let request = Box::new(request);
        self.send(Inbox::Join { request, reply }).await?;
        answer.await.map_err(|_| Stopped)
    }

    /// Queues a command; its answer comes back through the fan-out.
    pub(crate) async fn command(
        &self,
        conn: ConnId,
        principal: Arc<Principal>,
        frame: CommandFrame,
    ) -> Result<(), Stopped> {
        let item = Inbox::Command {
            conn,
            principal,
            frame,
        };
        self.send(item).await
    }

    /// The connection ended. A stopped actor has forgotten it already.
    pub(crate) async fn leave(&self, conn: ConnId) {
        let _ = self.send(Inbox::Leave { conn }).await;
    }

    /// An instant win's published record: `None` before its draw.
    pub(crate) async fn draw_record(&self, draw_id: u64) -> Result<Option<DrawRecord>, Stopped> {
        let (reply, answer) = oneshot::channel();
        self.send(Inbox::DrawRecord { draw_id, reply }).await?;
        answer.await.map_err(|_| Stopped)
    }

    /// Starts the shutdown: the actor says goodbye to everyone.
    pub(crate) async fn shutdown(&self) {
        let _ = self.send(Inbox::Shutdown).await;
    }

    /// A timer fired. Dropped when the inbox is full (the actor is busy;
    /// the next firing will do). Fails once the actor is gone.
    pub(crate) fn wake(&self, timer: Timer) -> Result<(), Stopped> {
        let item = match timer {
            Timer::ViewersOnline => Inbox::Tick,
            Timer::GameClock => Inbox::Clock,
            Timer::Retention => Inbox::Sweep,
            Timer::SmsProgress => Inbox::SmsProgress,
        };
        match self.inbox.try_send(item) {
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Stopped),
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => Ok(()),
        }
    }

    /// What another node committed (see [`Inbox::Followed`]); waits for
    /// room, so the bus slows down rather than dropping it.
    pub(crate) async fn followed(
        &self,
        frames: Vec<EventFrame>,
        head: Option<Seq>,
    ) -> Result<(), Stopped> {
        self.send(Inbox::Followed { frames, head }).await
    }

    /// Another node's viewer count (see [`Inbox::OthersOnline`]).
    pub(crate) async fn others_online(&self, node: String, count: u64) -> Result<(), Stopped> {
        self.send(Inbox::OthersOnline { node, count }).await
    }

    async fn send(&self, item: Inbox) -> Result<(), Stopped> {
        self.inbox.send(item).await.map_err(|_| Stopped)
    }
}

/// Serialises a server frame for a connection's queue. Our own types
/// always serialise.
pub(crate) fn to_text(frame: &ServerFrame) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(frame).expect("server frames always serialise"))
}
