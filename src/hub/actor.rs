//! The session actor: the one owner of a live's [`Session`] and store.
//!
//! Every join, command and tick goes through its inbox, so events are
//! ordered by construction and the store needs no locking. It is a task on
//! the runtime. Its synchronous store calls (SQLite) are short — a batch
//! commit takes a fraction of a millisecond — and run inline; the slow,
//! rare ones (checkpoints) run in `block_in_place`. Measured with `regie
//! bench hub` at 1,000 viewers on 2 loaded cores: a dedicated actor thread
//! gave p99 1.6× the bare broadcast's (two extra cross-thread wake-ups per
//! message), `block_in_place` around every commit 1.35×, inline 1.0×.
//!
//! One turn of the loop takes everything queued (up to `max_batch`), then,
//! if the turn is not full, sleeps once for the group-commit window
//! (`Limits::commit_window`, 5 ms) and takes what came meanwhile. A
//! transaction costs about the same for one command as for ten (its WAL
//! frames and their checksums, the `lives` head row, the page writes), so
//! at a chat burst's rate the window halves the hub's CPU per ingested
//! message (`regie bench hub --phases ingest`: 200 → ~100 µs at 1,000
//! msg/s); acks wait for the commit as before, so the window is added to
//! a command's latency, and an idle hub pays nothing (the wait starts with
//! the first item):
//! 1. joins and leaves, against the committed head — so a welcome's snapshot
//!    or replay ends exactly where the live fan-out for that connection
//!    begins (no gap, no duplicate);
//! 2. commands and ticks, decided by the session (events numbered);
//! 3. ONE store transaction for all of it;
//! 4. only then the batch goes to the fan-out task (`fanout`): events, then
//!    replies. Joins are registered there in the same ordered channel, right
//!    after the events their welcome already covers.
//!
//! A retried command id (per principal) is answered from the recorded
//! outcome, first from memory, else from the store, so it survives restarts.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot};

use super::HubConfig;
use super::bus::Publisher;
use super::bus::audience::OtherNodes;
use super::fanout;
use super::farewell::{CLOSE_REPLY_WAIT, Farewell};
use super::fingerprint::CommandFingerprints;
use super::identity::{ViewerIdentity, assigned_pseudonym};
use super::mailbox::{
    ActorHandle, ConnId, Dispatch, Inbox, JoinReply, JoinRequest, Registration, to_text,
};
use super::metrics::Metrics;
use super::moderation::Moderation;
use super::session::{History, Principal, Reply, Session, SessionBounds, ViewerProfile};
use crate::protocol::{
    ChatEntry, Command, CommandFrame, CommandId, Contact, ErrorCode, ErrorFrame, Event, EventFrame,
    MessageId, Millis, PROTOCOL_VERSION, Resume, Role, RuleView, Seq, ServerFrame, ViewerId,
    Welcome, WhoAmI,
};
use crate::store::contact::{ContactField, FieldChange};
use crate::store::{
    AuditEntry, CommandOutcome, Commit, GameNews, GameWrite, GamesCursor, LiveHead, Presence,
    RecordedOutcome, Store, StoreError, StoredGames, ViewerRecord,
};

/// The answer to staff command `id` when the store failed to `could_not`:
/// a feature this store does not keep is refused for good (`not_offered`,
/// saying which), anything else may pass on a retry (`internal`).
fn store_failed(id: &CommandId, e: &StoreError, could_not: &str) -> ServerFrame {
    let (code, message) = match e {
        StoreError::Unsupported(what) => (
            ErrorCode::NotOffered,
            format!("this hub's store cannot {what}"),
        ),
        _ => (
            ErrorCode::Internal,
            format!("the hub could not {could_not}; try again"),
        ),
    };
    ServerFrame::Error(ErrorFrame::new(Some(id.clone()), code, message))
}

/// Recent command outcomes, so most retries cost no store read. Bounded by
/// count and by age: a retry comes within seconds of a reconnect, and an
/// older one is answered from the store, so the outcomes of a crowd that
/// left leave memory on the next tick instead of staying until 50,000 later
/// commands push them out.
struct OutcomeCache {
    map: HashMap<(String, CommandId), CommandOutcome>,
    /// Oldest first, with the time each was remembered.
    order: VecDeque<(Millis, (String, CommandId))>,
    capacity: usize,
    keep_ms: Millis,
}

impl OutcomeCache {
    fn new(capacity: usize, keep: std::time::Duration) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            keep_ms: Millis::try_from(keep.as_millis()).unwrap_or(Millis::MAX),
        }
    }

    fn get(&self, key: &(String, CommandId)) -> Option<&CommandOutcome> {
        self.map.get(key)
    }

    fn insert(&mut self, key: (String, CommandId), outcome: CommandOutcome, now: Millis) {
        if self.map.insert(key.clone(), outcome).is_none() {
            self.order.push_back((now, key));
        }
        while self.order.len() > self.capacity {
            if let Some((_, old)) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }

    /// Forgets outcomes remembered longer ago than the retry window, and
    /// gives back the room a burst of them took.
    fn forget_old(&mut self, now: Millis) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_sub(*at) < self.keep_ms {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        // A map keeps its largest capacity for good: shrink once it is
        // mostly empty, leaving room to grow again without rehashing at once.
        if self.map.capacity() > 64 && self.map.len() < self.map.capacity() / 4 {
            self.map.shrink_to(self.map.len() * 2);
            self.order.shrink_to(self.order.len() * 2);
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }
}

struct StoreHistory<'a> {
    store: &'a mut dyn Store,
    live: &'a str,
    now: Millis,
}

impl History for StoreHistory<'_> {
    fn message(&mut self, id: MessageId) -> Result<Option<ChatEntry>, StoreError> {
        self.store.message(self.live, id)
    }

    fn viewer_known(&mut self, id: &ViewerId) -> Result<bool, StoreError> {
        Ok(self.store.viewer(self.live, id, self.now)?.is_some())
    }

    fn sanctions(&mut self, id: &ViewerId) -> Result<(bool, Option<Millis>), StoreError> {
        Ok(self
            .store
            .viewer(self.live, id, self.now)?
            .map_or((false, None), |v| (v.is_banned(), v.timed_out_until())))
    }

    fn games(&mut self) -> Result<StoredGames, StoreError> {
        self.store.games(self.live)
    }

    fn game_news(&mut self, since: GamesCursor) -> Result<GameNews, StoreError> {
        self.store.game_news(self.live, since)
    }
}

/// A reply to send once the batch is durable.
struct PendingReply {
    conn: ConnId,
    frame: ServerFrame,
    /// Whether the reply depends on the batch's commit (it reports an effect).
    needs_commit: bool,
    command: CommandId,
}

impl PendingReply {
    /// The answer to a retry, from the first attempt's recorded outcome.
    fn retried(conn: ConnId, command: CommandId, outcome: CommandOutcome) -> Self {
        let frame = match outcome {
            CommandOutcome::Ack { seq } => ServerFrame::Ack {
                id: command.clone(),
                seq,
            },
            CommandOutcome::Error { code, message } => {
                ServerFrame::Error(ErrorFrame::new(Some(command.clone()), code, message))
            }
        };
        // The outcome may come from earlier in this very batch (a retry
        // that arrived before the first answer): if the batch is not
        // saved, neither was it, so the retry must not be acked either.
        let needs_commit = matches!(frame, ServerFrame::Ack { .. });
        Self {
            conn,
            frame,
            needs_commit,
            command,
        }
    }

    /// An `internal` error that owes nothing to the batch's commit.
    fn internal(conn: ConnId, command: CommandId, message: &str) -> Self {
        Self {
            conn,
            frame: ServerFrame::Error(ErrorFrame::new(
                Some(command.clone()),
                ErrorCode::Internal,
                message,
            )),
            needs_commit: false,
            command,
        }
    }
}

/// A command as the actor takes it from its inbox.
struct Received {
    conn: ConnId,
    principal: Arc<Principal>,
    frame: CommandFrame,
}

/// What a turn decides, after joins and leaves are sorted out.
enum Work {
    Tick,
    Command(Received),
    Clock,
}

/// One turn's decisions, waiting for their one store transaction.
#[derive(Default)]
struct Batch {
    commits: Vec<Commit>,
    events: Vec<EventFrame>,
    replies: Vec<PendingReply>,
    banned: Vec<ViewerId>,
    /// A viewers-online tick came: trim memory once the batch is saved.
    ticked: bool,
}

/// What one decision saves once, with its first commit.
struct Once {
    note: Option<crate::store::NoteWrite>,
    games: Vec<GameWrite>,
    audit: Option<AuditEntry>,
    outcome: Option<RecordedOutcome>,
}

/// The commits of one decision (a command's or a clock step's): one per
/// event, in order, the first also carrying what the decision saves once.
/// A decision without events that has an audit record or a command outcome
/// saves them in a commit of their own; game facts alone make no commit.
fn decision_commits(events: &[EventFrame], once: Once) -> Vec<Commit> {
    let mut commits: Vec<Commit> = events.iter().cloned().map(Commit::event).collect();
    if commits.is_empty() && (once.audit.is_some() || once.outcome.is_some() || once.note.is_some())
    {
        commits.push(Commit::without_event());
    }
    if let Some(first) = commits.first_mut() {
        first.games = once.games;
        first.audit = once.audit;
        first.outcome = once.outcome;
        first.note = once.note;
    }
    commits
}

/// An audit entry as a late console's Staff activity shows it: the hub's
/// own actions (deadlines) carry no staff member.
fn staff_action(entry: AuditEntry) -> crate::protocol::StaffAction {
    let by = if entry.actor_name == super::engagement::HUB_ACTOR {
        None
    } else {
        Some(crate::protocol::Actor {
            name: Some(entry.actor_name),
            role: entry.actor_role,
        })
    };
    crate::protocol::StaffAction {
        at: entry.at,
        by,
        action: entry.action,
        target: entry.target,
    }
}

/// Reading contact data is a staff action worth an audit record, and so is
/// an export (it holds everything, contact data in clear): who, whose, why,
/// never what it held, as `regie privacy export` records it.
fn contact_audit(frame: &ServerFrame, principal: &Principal, now: Millis) -> Option<AuditEntry> {
    match (frame, principal) {
        (ServerFrame::ViewerExport { export, .. }, Principal::Staff { role, name }) => {
            Some(AuditEntry {
                actor_name: name.clone(),
                actor_role: *role,
                action: "export_viewer".into(),
                target: export.profile.viewer_id.clone(),
                reason: crate::privacy::export::EXPORT_AUDIT_REASON.into(),
                at: now,
            })
        }
        (ServerFrame::ViewerCard { card, .. }, Principal::Staff { role, name })
            if card.contact.is_some() =>
        {
            Some(AuditEntry {
                actor_name: name.clone(),
                actor_role: *role,
                action: "viewer_card".into(),
                target: card.viewer_id.0.clone(),
                reason: "contact data shown".into(),
                at: now,
            })
        }
        _ => None,
    }
}

/// Batches the actor may hand to the fan-out task ahead of delivery before
/// it waits (backpressure from a fan-out that falls behind).
const DISPATCH_BATCHES: usize = 1024;

/// Opens the live in `store`, builds its session, and starts the actor and
/// the fan-out task on the runtime. Returns the actor's handle and a future
/// that resolves when the actor has checkpointed the store and every
/// connection has been handed its farewell.
pub(crate) fn start(
    mut store: Box<dyn Store>,
    config: Arc<HubConfig>,
    metrics: Arc<Metrics>,
    fingerprints: CommandFingerprints,
    identity: ViewerIdentity,
    publisher: Option<Publisher>,
) -> Result<
    (
        ActorHandle,
        impl std::future::Future<Output = ()> + Send + 'static,
        LiveHead,
    ),
    StoreError,
> {
    let prepared = off_the_runtime(|| {
        let head = store.open_live(&config.live)?;
        // The start-up sweep: data past its time goes before anyone joins
        // (a store that keeps no retention periods has nothing to sweep).
        match store.sweep(&config.live, &config.retention, config.clock.now()) {
            Ok(_) | Err(StoreError::Unsupported(_)) => {}
            Err(e) => return Err(e),
        }
        let session = restore_session(&mut *store, &config, &head)?;
        Ok::<_, StoreError>((head, session))
    });
    let (head, session) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            off_the_runtime(move || drop(store));
            return Err(e);
        }
    };
    let (handle, rx) = ActorHandle::channel(config.limits.inbox_frames);
    let (dispatch, dispatched) = mpsc::channel(DISPATCH_BATCHES);
    let fan_out = tokio::spawn(fanout::run(
        dispatched,
        metrics.clone(),
        config.limits.send_queue_frames,
        session.settings().delivery,
    ));
    let actor = SessionActor {
        stale: false,
        delivered_head: head.head,
        publisher,
        others: OtherNodes::default(),
        outcomes: OutcomeCache::new(config.limits.outcome_cache, config.limits.outcome_memory),
        fingerprints,
        identity,
        store,
        session,
        config,
        metrics,
        dispatch,
        out: Vec::new(),
        checkpoint_due: false,
        conns: HashMap::new(),
        presence: Vec::new(),
        stopping: false,
        sms_shown: None,
    };
    let actor = tokio::spawn(actor.run(rx));
    let done = async move {
        let _ = actor.await;
        // The fan-out task ends once the actor dropped its dispatch sender,
        // after handing every connection its farewell.
        let _ = fan_out.await;
    };
    Ok((handle, done, head))
}

fn restore_session(
    store: &mut dyn Store,
    config: &HubConfig,
    head: &LiveHead,
) -> Result<Session, StoreError> {
    let stored = store.snapshot(&config.live, config.limits.recent_in_snapshot)?;
    let games = store.games(&config.live)?;
    let rules = live_rules(store, config)?;
    // A slow mode staff set survives a restart; Shield resumes over it.
    let mut settings = config.settings.clone();
    if let Some(secs) = store.slow_mode(&config.live)? {
        settings.slow_mode_secs = secs;
    }
    if let Some(policy) = store.delivery(&config.live)? {
        settings.delivery = policy;
    }
    let mut session = Session::restore(
        head,
        stored,
        settings,
        Moderation::from_views(rules),
        SessionBounds {
            recent: config.limits.recent_in_snapshot,
            open_questions_in_snapshot: config.limits.open_questions_in_snapshot,
            message_cache: config.limits.message_cache,
        },
    );
    let second_ms =
        Millis::try_from(config.limits.game_second.as_millis().max(1)).unwrap_or(Millis::MAX);
    session.restore_games(games, second_ms);
    session
        .set_hold_timeout(Millis::try_from(config.hold_timeout.as_millis()).unwrap_or(Millis::MAX));
    // Claims and viewer flags are memory only: a restart (or a rebuild
    // after a failed commit) starts with none.
    session.set_claim_timeout(
        Millis::try_from(config.claim_timeout.as_millis()).unwrap_or(Millis::MAX),
    );
    // The hold queue survives a restart: the timeout still denies each.
    session.note_held(&store.working_set(&config.live)?.held);
    session.set_shield(config.shield.clone());
    session.set_consent_texts(config.consent.accepted());
    // Shield: on before a restart (or a rebuild), on again.
    if store.shield_on(&config.live)? {
        session.resume_shield();
    }
    // A store that keeps no lifecycle runs the live on air.
    let mut live = store
        .live_info(&config.live)?
        .unwrap_or_else(|| session.live_info().clone());
    config.live.clone_into(&mut live.name);
    session.set_live_info(live);
    // Products and canned answers: the brand file's, then the live log's.
    session.set_showcase(
        crate::catalogue::products_for(&config.products, &config.live),
        config.canned.clone(),
        store.showcase(&config.live)?,
    );
    Ok(session)
}

/// The live's rules as stored; a live that never had any starts on the
/// brand's defaults, stored now so that what moderators change later is
/// what a restart finds.
fn live_rules(store: &mut dyn Store, config: &HubConfig) -> Result<Vec<RuleView>, StoreError> {
    if let Some(rules) = store.rules(&config.live)? {
        return Ok(rules);
    }
    let defaults = Moderation::defaults(
        &config.blocked_terms,
        &config.default_rules,
        config.clock.now(),
    );
    store.seed_rules(&config.live, &defaults)?;
    // On a shared store another node may have seeded it first: its rows.
    Ok(store.rules(&config.live)?.unwrap_or(defaults))
}

/// Runs synchronous store work from the actor task. On a multi-threaded
/// runtime the worker hands its other tasks to another thread first
/// (`block_in_place`), so a slow commit or checkpoint never stalls
/// connections; on a current-thread runtime (some tests) it runs inline.
fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// Waits for the next inbox item (until `drain_until`, when shutting
/// down), then takes whatever else is queued, up to `max_batch`. With a
/// commit `window`, a turn that is not full yet then sleeps that long once
/// and takes what came meanwhile (group commit: one transaction for a
/// burst's commands instead of one each); one sleep, not a wake-up per
/// item. `false` when nothing more will come.
async fn next_items(
    inbox: &mut mpsc::Receiver<Inbox>,
    items: &mut Vec<Inbox>,
    drain_until: Option<tokio::time::Instant>,
    max_batch: usize,
    window: std::time::Duration,
) -> bool {
    let next = match drain_until {
        None => inbox.recv().await,
        Some(deadline) => tokio::time::timeout_at(deadline, inbox.recv())
            .await
            .ok()
            .flatten(),
    };
    let Some(first) = next else {
        return false;
    };
    items.push(first);
    take_queued(inbox, items, max_batch);
    if !window.is_zero() && items.len() < max_batch {
        tokio::time::sleep(window).await;
        take_queued(inbox, items, max_batch);
    }
    true
}

/// Takes what is queued, without waiting, until `items` holds `max_batch`.
fn take_queued(inbox: &mut mpsc::Receiver<Inbox>, items: &mut Vec<Inbox>, max_batch: usize) {
    while items.len() < max_batch {
        match inbox.try_recv() {
            Ok(item) => items.push(item),
            Err(_) => break,
        }
    }
}

/// Whether a viewer's contact fields remove a stored value (an emptied
/// field), which then must leave the write-ahead log as well.
fn removes_contact(contact: &Contact) -> bool {
    ContactField::ALL
        .into_iter()
        .any(|f| FieldChange::of(f, contact) == FieldChange::Remove)
}

struct SessionActor {
    store: Box<dyn Store>,
    /// The store was unreachable when the session had to be rebuilt from
    /// it: the next turn tries again before deciding anything.
    stale: bool,
    /// The last seq handed to the fan-out: after a rebuild, what the store
    /// holds beyond it (another node's) still goes out.
    delivered_head: Seq,
    /// Tells the other hub nodes what this one committed (`bus`).
    publisher: Option<Publisher>,
    /// The viewers of this live on the other hub nodes.
    others: OtherNodes,
    session: Session,
    config: Arc<HubConfig>,
    metrics: Arc<Metrics>,
    /// In order: registrations, committed batches, closes.
    dispatch: mpsc::Sender<Dispatch>,
    /// What this turn will hand to the fan-out task.
    out: Vec<Dispatch>,
    /// A redaction or rectification was committed: checkpoint once the
    /// batch is handed over, so the old text or name leaves the WAL.
    checkpoint_due: bool,
    /// Joined connections, with the viewer id for viewers (for the
    /// viewers-online count, to reload sanctions after a failed commit, and
    /// to know when everyone has left at shutdown).
    conns: HashMap<ConnId, Option<ViewerId>>,
    /// This turn's viewer joins and leaves, stored together at its end (one
    /// transaction a turn, not one a connection: a crowd joins in bursts).
    presence: Vec<(ViewerId, Presence)>,
    /// Shutting down: joins are refused, ticks ignored, commands still
    /// processed until every connection has left.
    stopping: bool,
    /// The live's SMS counts as staff last got them (`None`: not read yet).
    sms_shown: Option<crate::protocol::SmsProgress>,
    outcomes: OutcomeCache,
    /// Keys the retry keys of `outcomes` (see `fingerprint`).
    fingerprints: CommandFingerprints,
    /// Gives the device of an erased viewer a new id (see `erasure`).
    identity: ViewerIdentity,
}

impl SessionActor {
    async fn run(mut self, mut inbox: mpsc::Receiver<Inbox>) {
        let max_batch = self.config.limits.max_batch.max(1);
        let window = self.config.limits.commit_window;
        let mut items = Vec::with_capacity(max_batch);
        // Set once shutting down: how long to wait for connections to leave.
        let mut drain_until: Option<tokio::time::Instant> = None;
        // Polls and draws whose window ended while the hub was down are
        // closed now, before anyone is served.
        items.push(Inbox::Clock);
        if let Err(e) = self.turn_off_the_runtime(&mut items) {
            tracing::error!(error = %e, "closing what ended during downtime failed");
        }
        self.hand_over().await;
        loop {
            if drain_until.is_some() && self.conns.is_empty() {
                break;
            }
            if !next_items(&mut inbox, &mut items, drain_until, max_batch, window).await {
                break;
            }
            // SQLite commits run inline: they take a fraction of a
            // millisecond, and handing the worker's other tasks to another
            // thread for each one (`block_in_place`) cost more latency than
            // it saved. A shared store's turns go off the runtime.
            let turn = self.turn_off_the_runtime(&mut items);
            if matches!(turn, Ok(true)) && drain_until.is_none() {
                // Shutting down: everyone is told to go, and whatever they
                // already sent is still decided and saved (so a retry after
                // the restart gets its ack) until the last one has left.
                self.stopping = true;
                self.send(Dispatch::CloseAll(Farewell::shutting_down()));
                let limits = &self.config.limits;
                drain_until =
                    Some(tokio::time::Instant::now() + limits.close_grace + CLOSE_REPLY_WAIT);
            }
            self.hand_over().await;
            if std::mem::take(&mut self.checkpoint_due) {
                // A redaction's old page images must leave the write-ahead
                // log; a checkpoint can take milliseconds, so it runs off
                // the runtime, after the batch is on its way to clients.
                if let Err(e) = off_the_runtime(|| self.store.checkpoint()) {
                    tracing::warn!(error = %e, "checkpoint after a redaction failed");
                }
            }
            if let Err(e) = turn {
                tracing::error!(error = %e, "the store failed and could not be reopened; stopping the hub");
                self.send(Dispatch::CloseAll(Farewell::store_lost()));
                self.hand_over().await;
                self.end();
                return;
            }
        }
        self.close(inbox).await;
    }

    /// The end of a shutdown: refuses whatever is still queued (joins
    /// waiting for a welcome), closes whoever is left, checkpoints.
    async fn close(mut self, mut inbox: mpsc::Receiver<Inbox>) {
        inbox.close();
        while let Ok(item) = inbox.try_recv() {
            if let Inbox::Join { reply, .. } = item {
                let _ = reply.send(JoinReply::Refused(Farewell::shutting_down()));
            }
        }
        self.send(Dispatch::CloseAll(Farewell::shutting_down()));
        self.hand_over().await;
        let head = self.session.head();
        match off_the_runtime(|| self.store.checkpoint()) {
            Ok(()) => tracing::info!(head, "store checkpointed"),
            Err(e) => tracing::error!(error = %e, "final store checkpoint failed"),
        }
        self.end();
    }

    /// The actor's last act: the store is closed off the runtime (a
    /// network client's close waits on its server).
    fn end(self) {
        if let Some(publisher) = &self.publisher {
            publisher.forget(&self.config.live);
        }
        let store = self.store;
        off_the_runtime(move || drop(store));
    }

    /// Hands this turn's work to the fan-out task, in order, waiting if it
    /// is a full channel behind (backpressure). If the task is gone the hub
    /// is stopping: there is nobody left to deliver to.
    async fn hand_over(&mut self) {
        for d in self.out.drain(..) {
            if self.dispatch.send(d).await.is_err() {
                break;
            }
        }
    }

    /// [`Self::turn`]: inline on SQLite (see the module docs), off the
    /// runtime on a shared store, whose client waits on the network.
    fn turn_off_the_runtime(&mut self, items: &mut Vec<Inbox>) -> Result<bool, StoreError> {
        if self.store.shared() {
            off_the_runtime(|| self.turn(items))
        } else {
            self.turn(items)
        }
    }

    /// One batch. Returns whether the hub is shutting down.
    ///
    /// On a shared store (several hub nodes), the turn first holds the live
    /// in the store and follows what other nodes committed up to its head,
    /// so the batch is decided on the live as every node sees it and its
    /// seqs follow theirs; the hold ends after the commit.
    fn turn(&mut self, items: &mut Vec<Inbox>) -> Result<bool, StoreError> {
        if self.stale {
            match self.recover() {
                Ok(()) => {
                    self.stale = false;
                    tracing::info!("the store is back: the session is rebuilt");
                }
                Err(e) if e.is_temporary() => {}
                Err(e) => return Err(e),
            }
        }
        let live = self.config.live.clone();
        let mut followed = Vec::new();
        let mut check_store = false;
        let mut others_head: Seq = 0;
        items.retain_mut(|item| match item {
            Inbox::Followed { frames, head } => {
                followed.append(frames);
                match head {
                    Some(h) => others_head = others_head.max(*h),
                    None => check_store = true,
                }
                false
            }
            _ => true,
        });
        // Commands are worth the hold, and a game's deadline or tally (so it
        // counts every vote the other nodes stored, and one node decides
        // it). Other timers' turns rarely commit (a changed count, an
        // expiry), and when one loses the race its commit is refused, the
        // session rebuilt and the timer fires again.
        let shared = self.store.shared() && !self.stale;
        let worth_holding = shared
            && (items.iter().any(|i| matches!(i, Inbox::Command { .. }))
                || self.session.games_due(self.config.clock.now()));
        let held = if worth_holding {
            match self.store.begin_turn(&live) {
                Ok(head) => head,
                Err(e) => {
                    tracing::warn!(error = %e, "could not hold the live in the store");
                    None
                }
            }
        } else {
            None
        };
        if let Some(head) = held {
            others_head = others_head.max(head);
        }
        let behind = !followed.is_empty() || check_store || others_head > self.session.head();
        if behind && let Err(e) = self.follow_others(followed, others_head, check_store) {
            tracing::warn!(error = %e, "could not fetch what other nodes committed");
        }
        if self.store.shared() && !self.stale {
            let now = self.config.clock.now();
            let mut history = StoreHistory {
                store: &mut *self.store,
                live: &live,
                now,
            };
            self.session.catch_up_games(&mut history, now);
        }
        let turn = self.decide_and_save(items);
        if held.is_some()
            && let Err(e) = self.store.end_turn(&live)
        {
            tracing::warn!(error = %e, "could not let go of the live in the store");
        }
        turn
    }

    /// Follows what other hub nodes committed (`frames`, from the bus),
    /// and fetches from the store whatever is missing up to `head` (or
    /// everything it holds beyond this node's head, `check_store`), then
    /// hands it all to the fan-out in seq order.
    fn follow_others(
        &mut self,
        mut frames: Vec<EventFrame>,
        head: Seq,
        check_store: bool,
    ) -> Result<(), StoreError> {
        const FILL_PAGE: usize = 512;
        let live = self.config.live.clone();
        let now = self.config.clock.now();
        let mut events = Vec::new();
        let mut banned = Vec::new();
        frames.sort_by_key(|f| f.seq);
        for frame in frames {
            if frame.epoch == *self.session.epoch() && frame.seq == self.session.head() + 1 {
                self.follow_one(frame, &live, now, &mut events, &mut banned);
            }
        }
        let from_bus = events.len();
        let mut result = Ok(());
        while check_store || self.session.head() < head {
            let after = self.session.head();
            let page = match self.store.replay(&live, after, FILL_PAGE) {
                Ok(page) => page,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            let full = page.len() == FILL_PAGE;
            for frame in page {
                if frame.seq == self.session.head() + 1 {
                    self.follow_one(frame, &live, now, &mut events, &mut banned);
                }
            }
            if !full || self.session.head() == after {
                break;
            }
        }
        if !events.is_empty() {
            self.metrics.followed("bus", from_bus as u64);
            self.metrics
                .followed("store", (events.len() - from_bus) as u64);
            self.metrics.events.inc_by(events.len() as u64);
            self.delivered_head = self.session.head();
            self.send(Dispatch::Batch {
                events,
                replies: Vec::new(),
                banned,
            });
        }
        result
    }

    fn follow_one(
        &mut self,
        frame: EventFrame,
        live: &str,
        now: Millis,
        events: &mut Vec<EventFrame>,
        banned: &mut Vec<ViewerId>,
    ) {
        let mut history = StoreHistory {
            store: &mut *self.store,
            live,
            now,
        };
        banned.extend(self.session.follow(&frame, &mut history));
        events.push(frame);
    }

    /// The turn proper: joins and leaves, then decisions, then the commit.
    fn decide_and_save(&mut self, items: &mut Vec<Inbox>) -> Result<bool, StoreError> {
        let now = self.config.clock.now();
        let mut shutdown = false;
        // Joins and leaves first, against the committed head.
        let mut work = Vec::new();
        for item in items.drain(..) {
            match item {
                Inbox::Join { request, reply } => self.join(*request, reply, now),
                Inbox::Leave { conn } => {
                    if let Some(Some(viewer)) = self.conns.remove(&conn) {
                        self.presence.push((viewer, Presence::Left));
                    }
                    self.send(Dispatch::Leave { conn });
                }
                Inbox::Shutdown => shutdown = true,
                // Taken out by `turn` before the joins.
                Inbox::Followed { .. } => {}
                Inbox::OthersOnline { node, count } => self.others.heard(&node, count, now),
                Inbox::DrawRecord { draw_id, reply } => {
                    let _ = reply.send(self.session.draw_record(draw_id));
                }
                Inbox::Tick => work.push(Work::Tick),
                Inbox::Clock => work.push(Work::Clock),
                Inbox::Sweep => self.sweep(now),
                Inbox::SmsProgress => self.sms_progress(now),
                Inbox::Command {
                    conn,
                    principal,
                    frame,
                } => work.push(Work::Command(Received {
                    conn,
                    principal,
                    frame,
                })),
            }
        }
        self.save_presence(now);
        let mut batch = Batch::default();
        for item in work {
            match item {
                Work::Tick => self.tick(&mut batch, now),
                Work::Command(received) => {
                    self.metrics.messages_in.inc();
                    let reply = self.command(&mut batch, received, now);
                    batch.replies.push(reply);
                }
                Work::Clock => self.clock(&mut batch, now),
            }
        }
        let saved = self.save(batch, now);
        let remembered = i64::try_from(self.outcomes.len()).unwrap_or(i64::MAX);
        self.metrics.remembered_outcomes.set(remembered);
        saved?;
        Ok(shutdown)
    }

    /// The periodic retention sweep (the store logs what went). A failure
    /// is logged and the next firing tries again: the live goes on.
    fn sweep(&mut self, now: Millis) {
        let live = self.config.live.clone();
        let retention = self.config.retention.clone();
        if let Err(e) = off_the_runtime(|| self.store.sweep(&live, &retention, now)) {
            tracing::warn!(error = %e, "retention sweep failed");
        }
    }

    /// The live's SMS counts, read from the store: pushed to every staff
    /// connection when they changed since staff last got them.
    fn sms_progress(&mut self, now: Millis) {
        let live = self.config.live.clone();
        let progress = match off_the_runtime(|| self.store.sms_progress(&live, now)) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the SMS counts");
                return;
            }
        };
        if self.sms_shown.as_ref() == Some(&progress) {
            return;
        }
        if !progress.is_empty() {
            self.send(Dispatch::Staff(Box::new(ServerFrame::SmsProgress {
                progress: Box::new(progress.clone()),
            })));
        }
        self.sms_shown = Some(progress);
    }

    /// The viewers-online count, when it changed; and this node's own
    /// share of it for the other nodes (`bus::audience`).
    fn tick(&mut self, batch: &mut Batch, now: Millis) {
        batch.ticked = true;
        if self.stopping {
            return;
        }
        if let Some(publisher) = &self.publisher {
            publisher.count_viewers(&self.config.live, self.viewers_here());
        }
        if let Some(frame) = self.session.viewers_online(self.viewers_online(), now) {
            batch.commits.push(Commit::event(frame.clone()));
            batch.events.push(frame);
        }
    }

    /// Poll and instant-win deadlines and throttled tallies.
    fn clock(&mut self, batch: &mut Batch, now: Millis) {
        if self.stopping {
            return;
        }
        for d in self.session.clock(now) {
            let once = Once {
                note: d.note,
                games: d.games,
                audit: d.audit,
                outcome: None,
            };
            batch.commits.extend(decision_commits(&d.events, once));
            batch.events.extend(d.events);
        }
    }

    /// The live's viewers: this node's, and those the other nodes said
    /// they have.
    fn viewers_online(&self) -> u64 {
        let now = self.config.clock.now();
        self.viewers_here().saturating_add(self.others.viewers(now))
    }

    /// The viewer sockets joined on this node.
    fn viewers_here(&self) -> u64 {
        self.conns.values().filter(|v| v.is_some()).count() as u64
    }

    /// Saves the batch in one transaction, then queues it for the fan-out:
    /// events, then replies, then bans. If the commit fails, nothing of it
    /// goes out: the session is rebuilt from the store and every reply that
    /// reports an effect becomes an `internal` error.
    fn save(&mut self, batch: Batch, now: Millis) -> Result<(), StoreError> {
        let Batch {
            commits,
            events,
            replies,
            banned,
            ticked,
        } = batch;
        if !commits.is_empty() {
            let started = Instant::now();
            let result = self.store.commit(&self.config.live, &commits);
            self.metrics
                .store_write_seconds
                .observe(started.elapsed().as_secs_f64());
            if let Err(e) = result {
                if matches!(e, StoreError::SeqGap { .. }) && self.store.shared() {
                    tracing::info!(error = %e, "another node committed first; following it");
                } else {
                    tracing::error!(error = %e, batch = commits.len(), "store commit failed; the batch is refused");
                }
                match self.recover() {
                    Ok(()) => {}
                    // The store is away (PostgreSQL restarting): commands
                    // are refused as temporary until it is back.
                    Err(e) if e.is_temporary() => {
                        tracing::warn!(error = %e, "the store is unreachable; refusing commands until it is back");
                        self.stale = true;
                    }
                    Err(e) => return Err(e),
                }
                let replies = replies
                    .into_iter()
                    .map(|r| {
                        let frame = if r.needs_commit {
                            ServerFrame::Error(ErrorFrame::new(
                                Some(r.command),
                                ErrorCode::Internal,
                                "the hub could not save this; try again",
                            ))
                        } else {
                            r.frame
                        };
                        (r.conn, frame)
                    })
                    .collect();
                self.send(Dispatch::Batch {
                    events: Vec::new(),
                    replies,
                    banned: Vec::new(),
                });
                return Ok(());
            }
        }
        self.metrics.events.inc_by(events.len() as u64);
        if let Some(last) = events.last() {
            self.delivered_head = last.seq;
        }
        if let Some(publisher) = &self.publisher {
            publisher.publish(&self.config.live, &events);
        }

        let redacted = events.iter().any(|f| {
            matches!(
                f.event,
                Event::Redacted { .. } | Event::ViewerRectified { .. } | Event::ViewerErased { .. }
            )
        });
        self.send(Dispatch::Batch {
            events,
            replies: replies.into_iter().map(|r| (r.conn, r.frame)).collect(),
            banned,
        });
        self.checkpoint_due |= redacted;
        if ticked {
            self.session.trim(now);
            self.outcomes.forget_old(now);
        }
        Ok(())
    }

    /// Decides one command into `batch`; returns its reply, sent once the
    /// batch is saved. A retry is answered from the recorded outcome.
    fn command(&mut self, batch: &mut Batch, received: Received, now: Millis) -> PendingReply {
        let Received {
            conn,
            principal,
            frame: CommandFrame { id, command },
        } = received;
        let key = (
            principal.outcome_key(),
            self.fingerprints.retry_key(&id, &command),
        );
        let config = Arc::clone(&self.config);
        let live = config.live.as_str();
        match self.known_outcome(live, &key) {
            Ok(Some(outcome)) => return PendingReply::retried(conn, id, outcome),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not read a command outcome");
                let message = "the hub could not check this command; try again";
                return PendingReply::internal(conn, id, message);
            }
        }

        if matches!(command, Command::PollOpen { .. }) {
            let online = self.viewers_online();
            self.session.set_audience(online);
        }
        let mut history = StoreHistory {
            store: &mut *self.store,
            live,
            now,
        };
        let decision = self.session.decide(&principal, &command, &mut history, now);
        let mut reply = decision.reply;
        if let (Some(consent), Principal::Viewer(v)) = (&decision.consent, &*principal) {
            let contact = &decision.consent_contact;
            match self.store.record_consent(live, &v.id, consent, contact) {
                // Withdrawn or removed contact data leaves the WAL too.
                Ok(()) => {
                    self.checkpoint_due |= !consent.granted || removes_contact(contact);
                    if let (Some(scope), Some(phone)) = (decision.sms_scope, &contact.phone)
                        && let Err(e) = self
                            .store
                            .record_sms_subscription(live, &v.id, scope, phone, now)
                    {
                        tracing::warn!(error = %e, "could not record an SMS subscription");
                        reply = Reply::Error {
                            code: ErrorCode::Internal,
                            message: "the hub could not record the subscription; try again".into(),
                            retry_after_ms: None,
                        };
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not record a consent");
                    reply = Reply::Error {
                        code: ErrorCode::Internal,
                        message: "the hub could not record the consent; try again".into(),
                        retry_after_ms: None,
                    };
                }
            }
        }
        let acted_only_if_acked = matches!(reply, Reply::SmsFollowUp { .. });
        let (frame, outcome) = self.answer(live, &id, reply, now);
        let decided = if acted_only_if_acked && !matches!(frame, ServerFrame::Ack { .. }) {
            // Refused by the store (the count changed): nothing was done.
            None
        } else {
            decision.audit
        };
        let audit = contact_audit(&frame, &principal, now).or(decided);

        let needs_commit = outcome.is_some()
            || audit.is_some()
            || !decision.events.is_empty()
            || !decision.games.is_empty()
            || decision.note.is_some();
        let once = Once {
            note: decision.note,
            games: decision.games,
            audit,
            outcome: outcome.clone().map(|outcome| RecordedOutcome {
                principal: key.0.clone(),
                id: key.1.clone(),
                outcome,
            }),
        };
        batch
            .commits
            .extend(decision_commits(&decision.events, once));
        batch.events.extend(decision.events);
        batch.banned.extend(decision.banned);
        if let Some(o) = outcome {
            self.outcomes.insert(key, o, now);
        }
        PendingReply {
            conn,
            frame,
            needs_commit,
            command: id,
        }
    }

    /// A command's recorded outcome: from memory, else from the store.
    fn known_outcome(
        &mut self,
        live: &str,
        key: &(String, CommandId),
    ) -> Result<Option<CommandOutcome>, StoreError> {
        match self.outcomes.get(key) {
            Some(o) => Ok(Some(o.clone())),
            None => self.store.command_outcome(live, &key.0, &key.1),
        }
    }

    /// The frame answering command `id`, and the outcome to record for its
    /// retries (acks only: an error may not repeat).
    fn answer(
        &mut self,
        live: &str,
        id: &CommandId,
        reply: Reply,
        now: Millis,
    ) -> (ServerFrame, Option<CommandOutcome>) {
        match reply {
            Reply::Ack { seq } => (
                ServerFrame::Ack {
                    id: id.clone(),
                    seq,
                },
                Some(CommandOutcome::Ack { seq }),
            ),
            Reply::Error {
                code,
                message,
                retry_after_ms,
            } => (
                ServerFrame::Error(
                    ErrorFrame::new(Some(id.clone()), code, message)
                        .with_retry_after(retry_after_ms),
                ),
                None,
            ),
            Reply::ViewerCard {
                viewer_id,
                with_contact,
            } => {
                let frame = match self.store.viewer_card(live, &viewer_id, with_contact, now) {
                    Ok(Some(card)) => ServerFrame::ViewerCard {
                        id: id.clone(),
                        card: Box::new(card),
                    },
                    Ok(None) => ServerFrame::Error(ErrorFrame::new(
                        Some(id.clone()),
                        ErrorCode::NotFound,
                        format!("no viewer {viewer_id} in this live"),
                    )),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read a viewer card");
                        store_failed(id, &e, "read the viewer card")
                    }
                };
                (frame, None)
            }
            // Shield went on; the review list goes to the sender only and
            // is never stored: a retry gets the plain ack.
            Reply::ShieldReview { seq, viewers } => (
                ServerFrame::ShieldReview {
                    id: id.clone(),
                    seq,
                    viewers,
                },
                Some(CommandOutcome::Ack { seq }),
            ),
            Reply::ViewerExport { viewer_id } => (self.viewer_export(live, id, &viewer_id), None),
            Reply::Rules(rules) => (
                ServerFrame::Rules {
                    id: id.clone(),
                    rules,
                },
                None,
            ),
            Reply::RuleTest(firings) => (
                ServerFrame::RuleTest {
                    id: id.clone(),
                    firings,
                },
                None,
            ),
            Reply::StaffLog(query) => (self.staff_log(live, id, &query), None),
            Reply::HistorySearch(query) => (self.history_search(live, id, &query), None),
            Reply::LiveCreate(info) => self.create_live(id, &info, now),
            Reply::LiveList => (self.list_lives(id), None),
            Reply::Report(name) => (self.report(id, &name, now), None),
            Reply::SmsSegments => (self.sms_segments(live, id), None),
            Reply::SmsFollowUp {
                segment,
                recipients,
            } => self.sms_follow_up(live, id, segment, recipients, now),
            Reply::PrivacyRequest { kind, viewer_id: v } => self.privacy_request(id, kind, &v, now),
            Reply::RightsRequests => {
                let frame = match self.store.open_requests() {
                    Ok(open) => ServerFrame::RightsRequests {
                        id: id.clone(),
                        requests: open
                            .into_iter()
                            .map(|r| crate::protocol::RightsRequest {
                                id: r.id,
                                kind: r.kind,
                                subject: r.subject,
                                received_at: r.received_at,
                                due_at: r.due_at,
                                extension: r.extension,
                            })
                            .collect(),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read the requests log");
                        store_failed(id, &e, "read the requests log")
                    }
                };
                (frame, None)
            }
        }
    }

    /// The `staff_log` frame answering command `id`: a page of the audit
    /// log as the store holds it (no content, no reason), or why not.
    fn staff_log(
        &mut self,
        live: &str,
        id: &CommandId,
        query: &crate::store::StaffLogQuery,
    ) -> ServerFrame {
        match self.store.staff_log(live, query) {
            Ok(page) => ServerFrame::StaffLog {
                id: id.clone(),
                entries: page.entries.into_iter().map(staff_action).collect(),
                before: page.before,
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not read the staff log");
                store_failed(id, &e, "read the staff log")
            }
        }
    }

    /// The `history_search` frame answering command `id`: a page of the
    /// live's visible stored messages matching the query, or why not.
    fn history_search(
        &mut self,
        live: &str,
        id: &CommandId,
        query: &crate::store::history::HistoryQuery,
    ) -> ServerFrame {
        match self.store.history_search(live, query) {
            Ok(page) => ServerFrame::HistorySearch {
                id: id.clone(),
                messages: page.messages,
                next_before: page.next_before,
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not search the chat history");
                store_failed(id, &e, "search the chat history")
            }
        }
    }

    /// Announces a new live in the store (`live_create`): acked, and the
    /// ack recorded for retries; a taken name is refused.
    fn create_live(
        &mut self,
        id: &CommandId,
        info: &crate::protocol::LiveInfo,
        now: Millis,
    ) -> (ServerFrame, Option<CommandOutcome>) {
        let error = |code, message: String| {
            ServerFrame::Error(ErrorFrame::new(Some(id.clone()), code, message))
        };
        match self.store.create_live(info, now) {
            Ok(()) => (
                ServerFrame::Ack {
                    id: id.clone(),
                    seq: None,
                },
                Some(CommandOutcome::Ack { seq: None }),
            ),
            Err(e @ StoreError::LiveExists(_)) => (error(ErrorCode::Invalid, e.to_string()), None),
            Err(e) => {
                tracing::warn!(error = %e, "could not create a live");
                (store_failed(id, &e, "create the live"), None)
            }
        }
    }

    /// Logs a viewer's data-protection request in the data dir's requests
    /// log (the subject is their id, which is what support looks up), or
    /// finds the open one they already made; acked either way, and the ack
    /// remembered so a retried command is not logged again.
    fn privacy_request(
        &mut self,
        id: &CommandId,
        kind: crate::protocol::PrivacyRequestKind,
        viewer_id: &ViewerId,
        now: Millis,
    ) -> (ServerFrame, Option<CommandOutcome>) {
        use crate::protocol::PrivacyRequestKind;
        use crate::store::requests::RequestKind;
        let logged = match kind {
            PrivacyRequestKind::Access => RequestKind::Access,
            PrivacyRequestKind::Erase => RequestKind::Erase,
        };
        match self.store.add_privacy_request(logged, &viewer_id.0, now) {
            Ok(added) => {
                tracing::info!(
                    kind = logged.as_str(),
                    added,
                    "a viewer's data-protection request"
                );
                (
                    ServerFrame::Ack {
                        id: id.clone(),
                        seq: None,
                    },
                    Some(CommandOutcome::Ack { seq: None }),
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not log a viewer's data-protection request");
                (
                    ServerFrame::Error(ErrorFrame::new(
                        Some(id.clone()),
                        ErrorCode::Internal,
                        "the hub could not record your request; try again",
                    )),
                    None,
                )
            }
        }
    }

    /// The `report` frame answering command `id`: `live`'s report from the
    /// store, as `regie report` computes it (the brand's k), or why not.
    /// Computed here, on this live's thread: a read, but a long one for a
    /// large live (see docs/report.md).
    fn report(&mut self, id: &CommandId, live: &str, now: Millis) -> ServerFrame {
        let error = |code, message: String| {
            ServerFrame::Error(ErrorFrame::new(Some(id.clone()), code, message))
        };
        let theirs = || crate::privacy::sanitize_name(live, 64);
        match self.store.report_source(live, now) {
            Ok(Some(source)) => match source.figures() {
                Ok(figures) => ServerFrame::Report {
                    id: id.clone(),
                    report: Box::new(crate::report::suppress::publish(
                        &figures,
                        self.config.report_k,
                    )),
                },
                Err(e) => error(ErrorCode::Invalid, e.to_string()),
            },
            Ok(None) => error(
                ErrorCode::NotFound,
                format!("no live named {:?} on this hub", theirs()),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not read a live's report");
                store_failed(id, &e, "compute the report")
            }
        }
    }

    /// Refused when this hub sends no SMS (`[sms] provider` off).
    fn sms_off(&self, id: &CommandId) -> Option<ServerFrame> {
        (self.config.sms.provider == crate::sms::ProviderConfig::Off).then(|| {
            ServerFrame::Error(ErrorFrame::new(
                Some(id.clone()),
                ErrorCode::NotOffered,
                "this hub sends no SMS: [sms] names no provider",
            ))
        })
    }

    /// The `sms_segments` frame: each segment's recipients now.
    fn sms_segments(&mut self, live: &str, id: &CommandId) -> ServerFrame {
        if let Some(off) = self.sms_off(id) {
            return off;
        }
        match off_the_runtime(|| self.store.sms_segments(live)) {
            Ok(segments) => ServerFrame::SmsSegments {
                id: id.clone(),
                segments,
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not count the SMS segments");
                store_failed(id, &e, "count the recipients")
            }
        }
    }

    /// Queues a segment's follow-up when its count is still the one the
    /// admin confirmed; the sender sends it once quiet hours allow.
    fn sms_follow_up(
        &mut self,
        live: &str,
        id: &CommandId,
        segment: crate::protocol::SmsSegment,
        confirmed: u64,
        now: Millis,
    ) -> (ServerFrame, Option<CommandOutcome>) {
        use crate::sms::follow_up::FollowUpOutcome;
        if let Some(off) = self.sms_off(id) {
            return (off, None);
        }
        let error = |code, message: String| {
            ServerFrame::Error(ErrorFrame::new(Some(id.clone()), code, message))
        };
        let sms = self.config.sms.clone();
        match off_the_runtime(|| {
            self.store
                .sms_follow_up(live, &sms, segment, confirmed, now)
        }) {
            Ok(FollowUpOutcome::Queued(q)) => {
                tracing::info!(
                    %segment,
                    queued = q.queued,
                    refused = q.refused,
                    leaves_at = q.leaves_at,
                    "SMS follow-up queued"
                );
                self.sms_shown = None;
                self.sms_progress(now);
                (
                    ServerFrame::Ack {
                        id: id.clone(),
                        seq: None,
                    },
                    Some(CommandOutcome::Ack { seq: None }),
                )
            }
            Ok(FollowUpOutcome::Changed { confirmed, now }) => (
                error(
                    ErrorCode::Invalid,
                    format!(
                        "the {segment} segment now has {now} recipients, not the {confirmed} \
                         you confirmed: nothing was sent, ask for the count again"
                    ),
                ),
                None,
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not queue an SMS follow-up");
                (store_failed(id, &e, "queue the follow-up"), None)
            }
        }
    }

    /// The `lives` frame answering `live_list`, or why not.
    fn list_lives(&mut self, id: &CommandId) -> ServerFrame {
        match self.store.lives() {
            Ok(lives) => ServerFrame::Lives {
                id: id.clone(),
                lives,
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not list the lives");
                store_failed(id, &e, "list its lives")
            }
        }
    }

    /// The `viewer_export` frame answering command `id`, or why not. Only
    /// the sender gets it; the error never names what the export held.
    fn viewer_export(&mut self, live: &str, id: &CommandId, viewer_id: &ViewerId) -> ServerFrame {
        match self.store.viewer_export(live, viewer_id) {
            Ok(Some(export)) => ServerFrame::ViewerExport {
                id: id.clone(),
                export: Box::new(export),
            },
            Ok(None) => ServerFrame::Error(ErrorFrame::new(
                Some(id.clone()),
                ErrorCode::NotFound,
                format!("no viewer {viewer_id} in this live"),
            )),
            Err(e) => {
                tracing::warn!(error = %e, "could not export a viewer");
                store_failed(id, &e, "export the viewer")
            }
        }
    }

    /// After a failed commit: forget what was decided but not saved, and
    /// rebuild the session from the store.
    fn recover(&mut self) -> Result<(), StoreError> {
        self.outcomes.clear();
        let head = self.store.open_live(&self.config.live)?;
        // What another node committed meanwhile, not yet delivered here.
        let missed = if head.head > self.delivered_head {
            self.store
                .replay(&self.config.live, self.delivered_head, usize::MAX)?
        } else {
            Vec::new()
        };
        self.session = restore_session(&mut *self.store, &self.config, &head)?;
        if !missed.is_empty() {
            self.delivered_head = head.head;
            self.send(Dispatch::Batch {
                events: missed,
                replies: Vec::new(),
                banned: Vec::new(),
            });
        }
        let now = self.config.clock.now();
        let mut viewers: Vec<ViewerId> = self.conns.values().flatten().cloned().collect();
        viewers.sort();
        viewers.dedup();
        for v in viewers {
            if let Some(sv) = self.store.viewer(&self.config.live, &v, now)? {
                self.session
                    .note_sanctions(&v, sv.is_banned(), sv.timed_out_until());
                self.session.note_rectified(&v, &sv.corrected);
            }
        }
        Ok(())
    }

    fn join(&mut self, request: JoinRequest, reply: oneshot::Sender<JoinReply>, now: Millis) {
        let JoinRequest {
            conn,
            principal,
            contact,
            resume,
            pass,
            outbox,
            farewell,
        } = request;
        if self.stopping {
            let _ = reply.send(JoinReply::Refused(Farewell::shutting_down()));
            return;
        }
        let mut principal = match principal {
            Principal::Viewer(v) => match self.unerased(v) {
                Ok(v) => Principal::Viewer(v),
                Err(refusal) => {
                    let _ = reply.send(JoinReply::Refused(refusal));
                    return;
                }
            },
            staff @ Principal::Staff { .. } => staff,
        };
        if let Principal::Viewer(v) = &mut principal
            && let Err(refusal) = self.admit_viewer(v, &contact, now)
        {
            let _ = reply.send(JoinReply::Refused(refusal));
            return;
        }

        let role = principal.role();
        let viewer_id = match &principal {
            Principal::Viewer(v) => Some(v.id.clone()),
            Principal::Staff { .. } => None,
        };
        let frames = self.welcome(&principal, resume.as_ref(), pass);
        let sent = frames.len() as u64;
        let principal = Arc::new(principal);
        let joined = JoinReply::Joined {
            frames,
            principal: principal.clone(),
        };
        if reply.send(joined).is_ok() {
            self.metrics.messages_out.inc_by(sent);
            if let Some(viewer) = &viewer_id {
                self.presence.push((viewer.clone(), Presence::Joined));
            }
            self.conns.insert(conn, viewer_id.clone());
            // Every event up to the welcome's head was dispatched in an
            // earlier turn: registering now starts this connection exactly
            // after it.
            self.send(Dispatch::Register(Registration {
                conn,
                role,
                viewer: viewer_id,
                outbox,
                farewell,
            }));
            if role.is_staff() {
                self.sms_to_joined(conn, now);
            }
        }
    }

    /// A staff connection that just joined gets the live's SMS counts, if
    /// it has any (later changes reach it with everyone's).
    fn sms_to_joined(&mut self, conn: ConnId, now: Millis) {
        if self.sms_shown.is_none() {
            self.sms_progress(now);
            // The push above went to the staff already registered,
            // this connection included: nothing more to send.
            return;
        }
        if let Some(progress) = self.sms_shown.clone().filter(|p| !p.is_empty()) {
            self.send(Dispatch::Batch {
                events: Vec::new(),
                replies: vec![(
                    conn,
                    ServerFrame::SmsProgress {
                        progress: Box::new(progress),
                    },
                )],
                banned: Vec::new(),
            });
        }
    }

    /// A joining viewer whose id was erased (Art. 17) joins under its
    /// successor: a new viewer, with nothing of the erased one (an assigned
    /// pseudonym is assigned anew).
    fn unerased(&mut self, mut v: ViewerProfile) -> Result<ViewerProfile, Farewell> {
        let live = self.config.live.clone();
        // Each erasure of the same device adds one step; a handful at most.
        for _ in 0..64 {
            match self.store.erased(&live, &v.id) {
                Ok(false) => return Ok(v),
                Ok(true) => {
                    let next = self.identity.successor(&live, &v.id);
                    if v.pseudonym == assigned_pseudonym(&v.id) {
                        v.pseudonym = assigned_pseudonym(&next);
                    }
                    v.id = next;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read a joining viewer");
                    return Err(Farewell::store_unreadable());
                }
            }
        }
        Err(Farewell::store_unreadable())
    }

    /// Loads a joining viewer's sanctions and saves their record; refuses a
    /// banned viewer. Names support corrected (Art. 16) replace the ones the
    /// device stated: the viewer joins, and posts, under the correction.
    fn admit_viewer(
        &mut self,
        v: &mut ViewerProfile,
        contact: &Contact,
        now: Millis,
    ) -> Result<(), Farewell> {
        let live = &self.config.live;
        match self.store.viewer(live, &v.id, now) {
            Ok(Some(sv)) => {
                self.session
                    .note_sanctions(&v.id, sv.is_banned(), sv.timed_out_until());
                self.session.note_rectified(&v.id, &sv.corrected);
                if let Some(first_name) = sv.corrected.first_name {
                    v.first_name = first_name;
                }
                if let Some(pseudonym) = sv.corrected.pseudonym {
                    v.pseudonym = pseudonym;
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not read a joining viewer");
                return Err(Farewell::store_unreadable());
            }
        }
        if self.session.is_banned(&v.id) {
            return Err(Farewell::banned());
        }
        let record = ViewerRecord {
            id: v.id.clone(),
            first_name: v.first_name.clone(),
            pseudonym: v.pseudonym.clone(),
            first_seen: now,
            last_seen: now,
        };
        if let Err(e) = self.store.upsert_viewer(live, &record, contact) {
            tracing::warn!(error = %e, "could not store a joining viewer");
            return Err(Farewell::store_unreadable());
        }
        self.checkpoint_due |= removes_contact(contact);
        Ok(())
    }

    /// Stores the turn's presence records for the report, in one write; a
    /// failure costs audience figures, not connections, so it is only logged.
    fn save_presence(&mut self, now: Millis) {
        if self.presence.is_empty() {
            return;
        }
        let changes = std::mem::take(&mut self.presence);
        if let Err(e) = self.store.presence(&self.config.live, now, &changes) {
            tracing::warn!(error = %e, records = changes.len(), "could not store presence records");
        }
    }

    /// The frames a joining connection gets first: `[reload]`, `welcome`
    /// at the committed head, then the replayed gap when it resumes.
    fn welcome(
        &mut self,
        principal: &Principal,
        resume: Option<&Resume>,
        pass: Option<String>,
    ) -> Vec<Utf8Bytes> {
        let live = self.config.live.clone();
        let role = principal.role();
        let mut frames = Vec::new();
        let mut replay = None;
        if let Some(r) = resume {
            let viewer = match principal {
                Principal::Viewer(v) => Some(&v.id),
                Principal::Staff { .. } => None,
            };
            match self.replay(&live, r, role, viewer) {
                Ok(gap) => replay = Some(gap),
                Err(reason) => frames.push(to_text(&ServerFrame::Reload { reason })),
            }
        }
        let (name, viewer_id) = match principal {
            Principal::Viewer(v) => (v.first_name.clone(), Some(v.id.clone())),
            Principal::Staff { name, .. } => (name.clone(), None),
        };
        let welcome = Welcome {
            version: PROTOCOL_VERSION,
            live,
            epoch: self.session.epoch().clone(),
            seq: self.session.head(),
            you: WhoAmI {
                role,
                name,
                viewer_id,
            },
            resumed: replay.is_some(),
            snapshot: None,
            viewers_online: Some(self.viewers_online()),
            counts: None,
            live_info: Some(self.session.live_info().clone()),
            pass,
        };
        let Some(replay) = replay else {
            return self.paged_welcome(welcome, role, frames);
        };
        frames.push(to_text(&ServerFrame::Welcome(Box::new(welcome))));
        frames.extend(replay);
        frames
    }

    /// A fresh snapshot: `welcome` with the head and the counts, then the
    /// lists in `snapshot_page` frames of at most 64 KiB, then
    /// `snapshot_end`. Staff get their whole working set from the store
    /// (every open question, every held message), not only what the
    /// session keeps in memory.
    fn paged_welcome(
        &mut self,
        mut welcome: Welcome,
        role: Role,
        mut frames: Vec<Utf8Bytes>,
    ) -> Vec<Utf8Bytes> {
        let mut snapshot = self.session.snapshot_for(role);
        if role.is_staff() {
            match self.store.working_set(&self.config.live) {
                Ok(set) => {
                    snapshot.open_questions = set.open_questions;
                    snapshot.held = set.held;
                    snapshot.activity = set.activity.into_iter().map(staff_action).collect();
                    snapshot.shared_names = set.shared_names;
                    let now = self.config.clock.now();
                    snapshot.sanctioned = set
                        .sanctioned
                        .into_iter()
                        .filter(|v| v.until.is_none_or(|until| until > now))
                        .collect();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the staff working set; sending what the hub holds in memory");
                }
            }
        }
        let (counts, pages) = crate::protocol::paginate(&mut snapshot);
        welcome.snapshot = Some(snapshot);
        welcome.counts = Some(counts);
        frames.push(to_text(&ServerFrame::Welcome(Box::new(welcome))));
        for page in pages {
            frames.push(to_text(&ServerFrame::SnapshotPage(Box::new(page))));
        }
        frames.push(to_text(&ServerFrame::SnapshotEnd {
            pages: counts.pages,
        }));
        frames
    }

    /// The events after `resume` that `role` (and, for a viewer, that
    /// viewer) may see, serialised; or why a
    /// replay is impossible (then the client reloads a snapshot).
    fn replay(
        &mut self,
        live: &str,
        resume: &Resume,
        role: Role,
        viewer: Option<&ViewerId>,
    ) -> Result<Vec<Utf8Bytes>, String> {
        let head = self.session.head();
        if &resume.epoch != self.session.epoch() {
            return Err("the live's history was reset (new epoch); reload the snapshot".into());
        }
        if resume.seq > head {
            return Err(format!(
                "resume point {} is ahead of the live's head {head}",
                resume.seq
            ));
        }
        let missed = head - resume.seq;
        let max = self.config.limits.max_replay_events;
        if missed > max {
            return Err(format!(
                "{missed} events were missed; a resume replays at most {max}"
            ));
        }
        if missed == 0 {
            return Ok(Vec::new());
        }
        let frames = self
            .store
            .replay(
                live,
                resume.seq,
                usize::try_from(missed).unwrap_or(usize::MAX),
            )
            .map_err(|e| {
                tracing::warn!(error = %e, "replay read failed");
                "the hub could not read its history".to_string()
            })?;
        let contiguous = frames.len() as u64 == missed
            && frames
                .iter()
                .zip(resume.seq + 1..)
                .all(|(f, seq)| f.seq == seq);
        if !contiguous {
            tracing::error!(
                after = resume.seq,
                head,
                got = frames.len(),
                "replay was not contiguous"
            );
            return Err("the live's history is incomplete".into());
        }
        Ok(frames
            .into_iter()
            .filter_map(|f| {
                let event = f.event.for_connection(role, viewer)?;
                Some(to_text(&ServerFrame::Event(EventFrame { event, ..f })))
            })
            .collect())
    }

    /// Queues work for the fan-out task; `run` hands it over, in order,
    /// at the end of the turn.
    fn send(&mut self, d: Dispatch) {
        self.out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    /// Sends `item` into `inbox` once `after` of (paused) time has passed.
    fn later(inbox: &mpsc::Sender<Inbox>, after: Duration, item: Inbox) {
        let inbox = inbox.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = inbox.send(item).await;
        });
    }

    #[tokio::test(start_paused = true)]
    async fn a_commit_window_takes_what_comes_within_it_and_no_more() {
        let (tx, mut rx) = mpsc::channel(16);
        tx.send(Inbox::Tick).await.unwrap();
        later(&tx, Duration::from_millis(3), Inbox::Clock);
        later(&tx, Duration::from_millis(9), Inbox::Sweep);
        let mut items = Vec::new();
        assert!(next_items(&mut rx, &mut items, None, 512, Duration::from_millis(5)).await);
        assert!(
            matches!(items[..], [Inbox::Tick, Inbox::Clock]),
            "the first item and the one 3 ms later share a turn, the one at 9 ms waits"
        );
        items.clear();
        assert!(next_items(&mut rx, &mut items, None, 512, Duration::from_millis(5)).await);
        assert!(matches!(items[..], [Inbox::Sweep]));
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_window_or_with_a_full_turn_nothing_waits() {
        let (tx, mut rx) = mpsc::channel(16);
        tx.send(Inbox::Tick).await.unwrap();
        later(&tx, Duration::from_millis(1), Inbox::Clock);
        let mut items = Vec::new();
        assert!(next_items(&mut rx, &mut items, None, 512, Duration::ZERO).await);
        assert!(matches!(items[..], [Inbox::Tick]), "window 0: today's turn");

        items.clear();
        tx.send(Inbox::Tick).await.unwrap();
        tx.send(Inbox::Sweep).await.unwrap();
        let started = tokio::time::Instant::now();
        // A turn that max_batch fills does not wait for the Clock due at
        // 1 ms, whatever the window.
        assert!(next_items(&mut rx, &mut items, None, 2, Duration::from_secs(3600)).await);
        assert!(matches!(items[..], [Inbox::Tick, Inbox::Sweep]));
        assert_eq!(
            tokio::time::Instant::now(),
            started,
            "a full turn does not sleep (virtual clock)"
        );
    }

    fn key(i: u32) -> (String, CommandId) {
        (format!("viewer:v{i}"), CommandId(format!("c-{i}")))
    }

    #[test]
    fn outcomes_leave_after_their_window_and_give_back_their_room() {
        let mut cache = OutcomeCache::new(50_000, std::time::Duration::from_secs(60));
        for i in 0..3_000 {
            cache.insert(key(i), CommandOutcome::Ack { seq: None }, 1_000);
        }
        cache.insert(key(9_999), CommandOutcome::Ack { seq: None }, 30_000);
        let full = cache.map.capacity();
        cache.forget_old(60_999);
        assert_eq!(cache.len(), 3_001, "inside the window, everything stays");
        cache.forget_old(61_000);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&key(9_999)).is_some() && cache.get(&key(0)).is_none());
        assert!(
            cache.map.capacity() < full / 16 && cache.order.capacity() < full / 16,
            "the map kept room for {} of {full}",
            cache.map.capacity()
        );
    }

    #[test]
    fn the_count_bound_still_holds() {
        let mut cache = OutcomeCache::new(2, std::time::Duration::from_secs(60));
        for i in 0..3 {
            cache.insert(key(i), CommandOutcome::Ack { seq: None }, 0);
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&key(0)).is_none());
    }
}
