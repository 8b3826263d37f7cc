//! Persistence of live sessions, behind one small synchronous trait.
//!
//! # Design
//!
//! The hub orders every event of a live session in one session actor, then
//! hands the store a *batch* of [`Commit`]s: each is a sequenced event (the
//! thing clients see), plus the audit entry of the staff action that caused
//! it and the command's outcome (so a retried command id has its effect
//! once). A batch is written in **one transaction**: either the whole batch
//! is durable or none of it is, and the session's head sequence number moves
//! with it. The store checks that sequence numbers follow the head without a
//! gap, so a hub bug cannot leave holes in history.
//!
//! The store keeps two views of the same facts:
//!
//! - **the event log** (`events`): what happened, in order, so a reconnecting
//!   client can replay exactly what it missed. An event row never holds user
//!   text: a `message` event references its `messages` row, and replay reads
//!   the text from there. Redaction therefore deletes the text in exactly one
//!   place, and every replay of the old `message` event turns into the
//!   tombstone at its original seq.
//! - **the projection** (`messages`, `pins`, `sanctions`, `tombstones`, `rules`, ...):
//!   the current state, updated by the same transaction, so a snapshot for a
//!   joining client is a few indexed reads instead of a replay from seq 0.
//!
//! The trait is synchronous on purpose: SQLite is a blocking library, and the
//! hub calls the store from its single session actor (through
//! `tokio::task::block_in_place` or a dedicated thread). One owner means no
//! locking inside the store and no interleaving of batches.
//!
//! [`SqliteStore`] is the embedded default (one file in the data dir, no
//! server to install). A PostgreSQL store for large shows will implement the
//! same trait and run the same conformance tests (`tests/store_conformance.rs`).
//!
//! Data protection lives here as much as in the hub:
//! - contact data is encrypted at rest ([`contact`]), under a key that
//!   rotates while the hub serves ([`contact::rotate`]), stored only under
//!   a granted consent its field serves, tagged with that purpose, and
//!   deleted (seal included) in the transaction that withdraws it;
//! - nothing stored is an unkeyed function of personal data: command
//!   outcomes are remembered under keyed fingerprints
//!   (`hub::fingerprint`), and a redaction deletes the outcome of the
//!   command that posted the message;
//! - redaction removes the text, not a flag ([`Store::commit`] with
//!   [`Event::Redacted`](crate::protocol::Event::Redacted)), and [`Store::checkpoint`] makes sure the old page
//!   images leave the write-ahead log too;
//! - the audit log is append-only and hash-chained ([`Store::verify_audit_chain`]);
//! - what is past the brand's retention periods is deleted by a sweep
//!   ([`Store::sweep`], [`retention`]); pruned audit records leave a signed
//!   checkpoint so the chain still verifies.
//! - rights requests: [`SqliteStore::export_viewer`] gathers one viewer's
//!   data (Art. 15/20; the hub reads it through [`Store::viewer_export`]), a `viewer_rectified` event corrects their names
//!   everywhere they are stored (Art. 16), and [`requests`] keeps the
//!   requests log with its Art. 12(3) deadlines.

pub mod audit;
pub mod contact;
pub mod games;
pub mod history;
mod migrations;
mod postgres;
mod report_source;
pub mod requests;
pub mod retention;
mod rows;
mod rules;
mod shop_events;
mod sqlite;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use audit::{AuditEntry, AuditRecord};
pub use games::{
    GameNews, GameWrite, GamesCursor, StoredDraw, StoredGames, StoredPoll, StoredResult,
};
pub use postgres::{PostgresStore, Resealed};
pub use retention::{RetentionPolicy, SweepReport};
pub use sqlite::{DB_FILE, Durability, SqliteStore};

use crate::protocol::{
    Author, ChatEntry, ChatMessage, CommandId, ConsentState, Contact, Epoch, ErrorCode, EventFrame,
    MessageId, Millis, Sanction, SanctionedViewer, Seq, Settings, Snapshot, ViewerCard, ViewerId,
    Visibility,
};

/// How many of a viewer's recent messages a [`ViewerCard`] shows.
pub const VIEWER_CARD_RECENT: usize = 20;

/// A live session's position, as the store knows it on opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveHead {
    /// Random, chosen when the live was first created in this data dir. A new
    /// data dir means a new epoch, which tells resuming clients to reload.
    pub epoch: Epoch,
    /// The last committed event's seq; 0 for a new live (the first event is 1).
    pub head: Seq,
    /// The highest message id ever stored (0 when none), so the hub numbers
    /// new messages after a restart without reusing an id.
    pub last_message_id: u64,
}

/// One unit the hub commits: an event, the audit entry of the staff action
/// behind it, and the outcome of the command that caused it. Any part may be
/// absent: a no-op command (redacting twice) stores only its outcome; a staff
/// read of contact data stores only an audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub frame: Option<EventFrame>,
    pub audit: Option<AuditEntry>,
    pub outcome: Option<RecordedOutcome>,
    /// Poll and instant-win facts to record in the same transaction.
    pub games: Vec<GameWrite>,
    /// A staff note on a viewer to store (`note_add`).
    pub note: Option<NoteWrite>,
}

/// Which page of the staff log (`staff_log`) to read: the `limit` newest
/// records older than index `before`, of one actor and/or one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffLogQuery {
    pub before: Option<u64>,
    pub limit: usize,
    pub actor: Option<String>,
    pub action: Option<String>,
}

impl StaffLogQuery {
    /// The query a `staff_log` command asks; a limit outside 1 to
    /// [`crate::protocol::MAX_STAFF_LOG_PAGE`] is refused.
    pub fn of(command: &crate::protocol::Command) -> Result<Self, crate::protocol::Refusal> {
        use crate::protocol::{Command, MAX_STAFF_LOG_PAGE, Refusal};
        let Command::StaffLog {
            before,
            limit,
            actor,
            action,
        } = command
        else {
            return Err(Refusal::invalid("not a staff_log command"));
        };
        if !(1..=MAX_STAFF_LOG_PAGE).contains(limit) {
            return Err(Refusal::invalid(format!(
                "a staff log page holds 1 to {MAX_STAFF_LOG_PAGE} records"
            )));
        }
        let given = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(Self {
            before: *before,
            limit: usize::try_from(*limit).unwrap_or(usize::MAX),
            actor: given(actor),
            action: given(action),
        })
    }

    /// How many records a store reads for a page: one more than the page,
    /// to know whether an older page exists.
    pub(crate) fn rows_to_read(&self) -> usize {
        self.limit.saturating_add(1)
    }

    /// The page out of what a store read ([`StaffLogQuery::rows_to_read`]
    /// records matching the query, newest first, with their index).
    pub(crate) fn page(&self, mut newest_first: Vec<(u64, AuditEntry)>) -> StaffLogPage {
        let more = newest_first.len() > self.limit;
        newest_first.truncate(self.limit);
        let before = newest_first
            .last()
            .filter(|_| more)
            .map(|(index, _)| *index);
        newest_first.reverse();
        StaffLogPage {
            entries: newest_first.into_iter().map(|(_, e)| e).collect(),
            before,
        }
    }
}

/// One page of the staff log, oldest first, and the index to ask for the
/// next older page with (`None`: this is the oldest).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaffLogPage {
    pub entries: Vec<AuditEntry>,
    pub before: Option<u64>,
}

/// A moderation note to store, on whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteWrite {
    pub viewer_id: crate::protocol::ViewerId,
    pub note: crate::protocol::ModNote,
}

impl Commit {
    /// A commit of one event, with nothing else.
    pub fn event(frame: EventFrame) -> Self {
        Self {
            frame: Some(frame),
            audit: None,
            outcome: None,
            games: Vec::new(),
            note: None,
        }
    }

    /// A commit without an event: only an audit entry and/or an outcome.
    pub fn without_event() -> Self {
        Self {
            frame: None,
            audit: None,
            outcome: None,
            games: Vec::new(),
            note: None,
        }
    }

    #[must_use]
    pub fn with_game(mut self, write: GameWrite) -> Self {
        self.games.push(write);
        self
    }

    #[must_use]
    pub fn with_audit(mut self, audit: AuditEntry) -> Self {
        self.audit = Some(audit);
        self
    }

    #[must_use]
    pub fn with_outcome(
        mut self,
        principal: impl Into<String>,
        id: CommandId,
        outcome: CommandOutcome,
    ) -> Self {
        self.outcome = Some(RecordedOutcome {
            principal: principal.into(),
            id,
            outcome,
        });
        self
    }
}

/// A command's outcome, remembered under `(principal, id)`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedOutcome {
    /// Who sent the command: a viewer id, or a staff member's name.
    pub principal: String,
    pub id: CommandId,
    pub outcome: CommandOutcome,
}

/// What the hub answered to a command, so a retry gets the same answer
/// instead of a second effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandOutcome {
    /// Acknowledged; `seq` is the event the command produced, if any.
    Ack { seq: Option<Seq> },
    /// Refused for good (a temporary error is worth retrying, so the hub
    /// should not remember it).
    Error { code: ErrorCode, message: String },
}

/// The current state of a live as staff see it. The hub filters it for
/// viewers (held and hidden messages removed) and adds what only it knows.
/// What [`Store::showcase`] reads back, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredShowcase {
    pub added: Vec<crate::protocol::Product>,
    pub now_showing: Option<crate::protocol::Product>,
    pub canned: Vec<crate::protocol::CannedAnswer>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredSnapshot {
    /// The pinned message; never a redacted one (redaction drops the pin).
    pub pinned: Option<ChatMessage>,
    /// Unanswered, unredacted questions, oldest first, whatever their
    /// visibility.
    pub open_questions: Vec<ChatMessage>,
    /// The last chat entries (messages and answers), oldest first,
    /// tombstones in place of redacted messages.
    pub recent: Vec<ChatEntry>,
}

/// Staff actions a working set carries from the audit log, the latest.
pub const RECENT_STAFF_ACTIONS: usize = 200;

/// A staff console's complete working set (see [`Store::working_set`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkingSet {
    /// Unanswered, unredacted questions, oldest first, whatever their
    /// visibility.
    pub open_questions: Vec<ChatMessage>,
    /// Held messages, oldest first.
    pub held: Vec<ChatMessage>,
    /// The last [`RECENT_STAFF_ACTIONS`] audit entries, oldest first.
    pub activity: Vec<AuditEntry>,
    /// First names two or more viewers posted under (a message, or a
    /// tombstone whose author joined under that name), sorted.
    pub shared_names: Vec<String>,
    /// Every viewer with a ban that stands or a timeout not lifted, with
    /// the timeout's end (which may be past: the hub, knowing the time,
    /// keeps those that still run).
    pub sanctioned: Vec<SanctionedViewer>,
}

/// The first names two or more distinct viewers wrote under.
fn shared_names<'a>(authors: impl Iterator<Item = &'a Author>) -> Vec<String> {
    let mut seen: BTreeMap<&str, (&ViewerId, bool)> = BTreeMap::new();
    for a in authors {
        if let Author::Viewer {
            viewer_id,
            first_name,
            ..
        } = a
        {
            let entry = seen.entry(first_name).or_insert((viewer_id, false));
            entry.1 |= entry.0 != viewer_id;
        }
    }
    seen.into_iter()
        .filter(|(_, (_, shared))| *shared)
        .map(|(name, _)| name.to_owned())
        .collect()
}

impl StoredSnapshot {
    /// The wire snapshot, with what the hub knows and the store does not.
    pub fn into_snapshot(self, viewers_online: u64, settings: Settings) -> Snapshot {
        Snapshot {
            pinned: self.pinned,
            open_questions: self.open_questions,
            recent: self.recent,
            viewers_online,
            settings,
            ..Snapshot::default()
        }
    }
}

/// A viewer as stored: identity only. Contact data travels separately
/// ([`Store::upsert_viewer`]) because it is stored encrypted and read back
/// only masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerRecord {
    pub id: ViewerId,
    pub first_name: String,
    pub pseudonym: String,
    /// When the viewer first joined this live. On upsert of a known viewer,
    /// the stored value wins.
    pub first_seen: Millis,
    pub last_seen: Millis,
}

/// A viewer with the sanctions that apply to them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredViewer {
    pub record: ViewerRecord,
    /// Active sanctions: a ban, or a timeout that has not run out.
    pub sanctions: Vec<Sanction>,
    /// The names support corrected, which the viewer's hello cannot change.
    pub corrected: NameCorrection,
}

/// A viewer's names as support corrected them (Art. 16); `None` leaves the
/// viewer's own. A corrected field is staff-owned from then on: the store
/// keeps it over what the viewer's device states at its next `hello`, so a
/// correction survives a reconnect and a hub restart (an erasure removes
/// it with the viewer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameCorrection {
    pub first_name: Option<String>,
    pub pseudonym: Option<String>,
}

impl NameCorrection {
    pub fn is_empty(&self) -> bool {
        self.first_name.is_none() && self.pseudonym.is_none()
    }
}

impl StoredViewer {
    pub fn is_banned(&self) -> bool {
        self.sanctions
            .iter()
            .any(|s| matches!(s, Sanction::Banned { .. }))
    }

    /// The end of the longest running timeout, if any.
    pub fn timed_out_until(&self) -> Option<Millis> {
        self.sanctions
            .iter()
            .filter_map(|s| match s {
                Sanction::TimedOut { until, .. } => Some(*until),
                Sanction::Banned { .. } => None,
            })
            .max()
    }
}

/// Why a store operation failed. The hub maps these to `internal`
/// (temporary) for clients and logs them without user data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("data dir {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the store's schema version is {found}, newer than this build knows ({known}); \
         run a newer regie or use another data dir"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("live {0:?} was not opened (call open_live first)")]
    UnknownLive(String),
    #[error("event for epoch {got:?}, but live {live:?} is in epoch {expected:?}")]
    WrongEpoch {
        live: String,
        expected: Epoch,
        got: Epoch,
    },
    #[error("event seq {got} does not follow the head {head} of live {live:?}")]
    SeqGap { live: String, head: Seq, got: Seq },
    #[error("event refers to message {0}, which is not stored")]
    UnknownMessage(MessageId),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the audit log of live {live:?} is broken at record {record}: {why}")]
    AuditChainBroken {
        live: String,
        record: u64,
        why: String,
    },
    #[error("the write-ahead log could not be checkpointed now (a reader holds it); retry")]
    CheckpointBusy,
    /// PostgreSQL: sessions with a snapshot from before a redaction still
    /// see the deleted rows, so the server keeps them until those end.
    #[error(
        "{holders} PostgreSQL session(s) or slot(s) still see the deleted rows; they stay on \
         disk until those end; retry"
    )]
    PurgeHeld { holders: u64 },
    #[error("contact data: {0}")]
    Contact(#[from] contact::ContactError),
    /// `live_create` named a live the store already holds.
    #[error("a live named {0:?} already exists")]
    LiveExists(String),
    /// A store that does not keep this (a rights request it cannot serve).
    #[error("this store cannot {0}")]
    Unsupported(&'static str),
}

impl StoreError {
    /// Whether retrying may succeed (the database was busy, a disk hiccup).
    pub fn is_temporary(&self) -> bool {
        match self {
            StoreError::Db(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            StoreError::Postgres(e) => postgres::is_temporary(e),
            StoreError::Io { .. } | StoreError::CheckpointBusy | StoreError::PurgeHeld { .. } => {
                true
            }
            _ => false,
        }
    }
}

/// Persistence of live sessions. See the module docs for the design.
///
/// Every method takes the live's name; [`Store::open_live`] must be called
/// once for a live before the others.
pub trait Store: Send + 'static {
    /// Opens or creates the live; returns its epoch, head seq (0 when new)
    /// and last message id. A new data dir means a fresh random epoch.
    fn open_live(&mut self, live: &str) -> Result<LiveHead, StoreError>;

    /// Persists a batch in ONE transaction. Each event must carry the live's
    /// epoch and the next seq (head + 1, then + 2, ...). Each event is
    /// applied to the projection:
    /// `Message` → a messages row (text stored once, there);
    /// `Released`/`Hidden`/`QuestionAnswered`/`QuestionReopened` → that row
    /// updated;
    /// `Pinned`/`Unpinned` → the pin; `ViewerTimedOut`/`ViewerBanned` →
    /// sanctions; `Redacted` → text deleted, tombstone written, pin dropped
    /// (a second `Redacted` for the same message keeps the first tombstone);
    /// `ViewerErased` → the viewer erased everywhere (messages tombstoned,
    /// names, contact, consents, sanctions, outcomes deleted, votes
    /// unlinked; see `docs/privacy.md`);
    /// `ViewersOnline` → only the log. Audit entries and outcomes go in the
    /// same transaction.
    ///
    /// Redacting twice: the hub should answer a second redaction with an ack
    /// and no event (it can tell from [`Store::message`]). If a second
    /// `Redacted` event does arrive, it is logged at its seq but the first
    /// tombstone stays. Either way, an audit entry passed with the attempt
    /// is appended: the audit log records staff actions, including ones that
    /// changed nothing.
    ///
    /// An error leaves the store exactly as before the call (the batch is
    /// rolled back and the head does not move), so the hub may retry it or
    /// drop it.
    fn commit(&mut self, live: &str, batch: &[Commit]) -> Result<(), StoreError>;

    /// Whether other writers share this store's lives: hub nodes on one
    /// PostgreSQL. Then each live's actor calls it off the runtime (its
    /// client blocks on the network), holds the live with
    /// [`Store::begin_turn`] while it decides, and follows what the others
    /// committed before deciding (see `hub::actor`).
    fn shared(&self) -> bool {
        false
    }

    /// A shared store: holds `live` for this writer until
    /// [`Store::end_turn`] (the other writers wait) and returns the head
    /// every writer sees now. A store with one writer has nothing to hold.
    fn begin_turn(&mut self, _live: &str) -> Result<Option<Seq>, StoreError> {
        Ok(None)
    }

    /// Lets the other writers of `live` go on (after the turn's commit,
    /// or when it had nothing to commit).
    fn end_turn(&mut self, _live: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// Events with seq > `after`, in order, at most `limit`. Any event that
    /// carried a message since redacted (`message`, `released`) is served as
    /// `Event::Redacted { tombstone }` at its original seq: history never
    /// holds the text.
    fn replay(
        &mut self,
        live: &str,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<EventFrame>, StoreError>;

    /// The current state: the staff view, at most `recent` chat entries.
    fn snapshot(&mut self, live: &str, recent: usize) -> Result<StoredSnapshot, StoreError>;

    /// What a staff console works on, complete: every open question and
    /// every held message, oldest first (no limit, unlike [`Store::snapshot`]).
    /// The default reads everything; a real store answers with queries.
    fn working_set(&mut self, live: &str) -> Result<WorkingSet, StoreError> {
        let all = self.snapshot(live, usize::MAX)?;
        let shared_names = shared_names(all.recent.iter().filter_map(|e| match e {
            ChatEntry::Message(m) => Some(&m.author),
            ChatEntry::Redacted(_) => None,
        }));
        let held = all
            .recent
            .into_iter()
            .filter_map(|e| match e {
                ChatEntry::Message(m) if matches!(m.visibility, Visibility::Held { .. }) => Some(m),
                _ => None,
            })
            .collect();
        let mut log = self.audit_log(live)?;
        let activity = log
            .drain(log.len().saturating_sub(RECENT_STAFF_ACTIONS)..)
            .map(|r| r.entry)
            .collect();
        Ok(WorkingSet {
            open_questions: all.open_questions,
            held,
            activity,
            shared_names,
            // A store without a sanctions query leaves lines unmarked.
            sanctioned: Vec::new(),
        })
    }

    /// One message as history serves it: the message, or its tombstone.
    fn message(&mut self, live: &str, id: MessageId) -> Result<Option<ChatEntry>, StoreError>;

    /// Joins or refreshes a viewer. A contact field that is `None` keeps the
    /// stored one; empty (or blank) removes it and its seal; a value is
    /// stored only under a granted consent its field serves
    /// ([`contact::purpose_in_force`]), otherwise it is not stored and
    /// the field is cleared. Contact data is stored encrypted, never in
    /// clear.
    fn upsert_viewer(
        &mut self,
        live: &str,
        viewer: &ViewerRecord,
        contact: &Contact,
    ) -> Result<(), StoreError>;

    /// A viewer with their sanctions active at `now`.
    fn viewer(
        &mut self,
        live: &str,
        id: &ViewerId,
        now: Millis,
    ) -> Result<Option<StoredViewer>, StoreError>;

    /// The viewer's card: recent messages (tombstones in place), active
    /// sanctions, latest consent per purpose; `with_contact` adds masked
    /// contact data (support and admin only: the hub decides).
    fn viewer_card(
        &mut self,
        live: &str,
        id: &ViewerId,
        with_contact: bool,
        now: Millis,
    ) -> Result<Option<ViewerCard>, StoreError>;

    /// Appends a consent record (history is kept; the card shows the latest
    /// per purpose), in one transaction with what it does to contact data:
    /// a grant stores the `contact` values given with it (a field its
    /// purpose serves; empty removes), tagged with the purpose; a
    /// withdrawal deletes every value collected for that purpose.
    fn record_consent(
        &mut self,
        live: &str,
        viewer: &ViewerId,
        consent: &ConsentState,
        contact: &Contact,
    ) -> Result<(), StoreError>;

    /// The stored outcome of a command id this principal already sent.
    /// Which SMS alerts `viewer` asked for (`sms_subscribe`), after
    /// [`Store::record_consent`] stored the phone (E.164) under the
    /// consent; a store without SMS alerts ignores it.
    fn record_sms_subscription(
        &mut self,
        live: &str,
        viewer: &ViewerId,
        scope: crate::protocol::SmsScope,
        phone: &str,
        at: crate::protocol::Millis,
    ) -> Result<(), StoreError> {
        let _ = (live, viewer, scope, phone, at);
        Ok(())
    }

    fn command_outcome(
        &mut self,
        live: &str,
        principal: &str,
        id: &CommandId,
    ) -> Result<Option<CommandOutcome>, StoreError>;

    /// The whole audit log of the live, oldest first.
    fn audit_log(&mut self, live: &str) -> Result<Vec<AuditRecord>, StoreError>;

    /// Recomputes the audit log's hash chain; the error names the first
    /// broken record.
    fn verify_audit_chain(&mut self, live: &str) -> Result<(), StoreError>;

    /// Makes everything durable and empties the write-ahead log, so no old
    /// page image (e.g. of a redacted message) survives in it. Call it on
    /// shutdown and after a redaction.
    fn checkpoint(&mut self) -> Result<(), StoreError>;

    /// Whether viewer `id` was erased (`Event::ViewerErased`): the hub then
    /// gives the joining device a new id. A store that cannot erase never
    /// has erased anyone.
    fn erased(&mut self, live: &str, id: &ViewerId) -> Result<bool, StoreError> {
        let _ = (live, id);
        Ok(false)
    }

    /// Every poll (with its votes) and instant win (with its seed, entrants
    /// and record) of the live, oldest first: what a restarted hub continues.
    fn games(&mut self, live: &str) -> Result<StoredGames, StoreError>;

    /// The votes and entries stored after `since` (see [`games`]): on a
    /// shared store, those other nodes took. A store only this hub writes
    /// has no news: the hub already counts every vote it stored.
    fn game_news(&mut self, live: &str, since: GamesCursor) -> Result<GameNews, StoreError> {
        let _ = live;
        Ok(GameNews {
            cursor: since,
            ..GameNews::default()
        })
    }

    /// Whether the live's last `shield_changed` event turned Shield on:
    /// a restarted hub keeps Shield on. Read from the event log, so no
    /// table of its own (a log swept by retention forgets it: Shield off).
    /// The default, for stores without an event log, says off.
    fn shield_on(&mut self, live: &str) -> Result<bool, StoreError> {
        let _ = live;
        Ok(false)
    }

    /// The slow mode staff last set in the live, outside Shield (Shield's
    /// own is the preset's, and lifting Shield restores the one before):
    /// a restarted hub keeps it. Read from the event log like
    /// [`Store::shield_on`]; `None` when staff never set one, or for a
    /// store without an event log (the brand's default applies).
    fn slow_mode(&mut self, live: &str) -> Result<Option<u32>, StoreError> {
        let _ = live;
        Ok(None)
    }

    /// The viewer delivery staff last set in the live (`delivery`), so a
    /// restarted hub keeps it; read from the event log like
    /// [`Store::slow_mode`]. `None` when staff never set one, or for a
    /// store without an event log (the brand's default applies).
    fn delivery(
        &mut self,
        live: &str,
    ) -> Result<Option<crate::protocol::DeliveryPolicy>, StoreError> {
        let _ = live;
        Ok(None)
    }

    /// What the live's log adds to the brand file's showcase: products
    /// added live (`product_added`), the last `now_showing`, canned
    /// answers saved (`canned_added`). Read from the event log like
    /// [`Store::shield_on`], so a restarted hub shows what it showed; a
    /// store without an event log says nothing was added.
    fn showcase(&mut self, live: &str) -> Result<StoredShowcase, StoreError> {
        let _ = live;
        Ok(StoredShowcase::default())
    }

    /// Deletes what `policy` no longer keeps at `now` ([`retention`]), then
    /// checkpoints; the report counts what went. The default deletes
    /// nothing: a store that keeps personal data must implement it.
    fn sweep(
        &mut self,
        live: &str,
        policy: &RetentionPolicy,
        now: Millis,
    ) -> Result<SweepReport, StoreError> {
        let _ = (live, policy, now);
        Ok(SweepReport::default())
    }

    /// Everything held about one viewer of `live` (Art. 15/20, see
    /// [`crate::privacy::export`]); `None` when the live holds no such
    /// viewer. The hub sends it to the support console that asked.
    fn viewer_export(
        &mut self,
        live: &str,
        id: &ViewerId,
    ) -> Result<Option<crate::privacy::export::ViewerExport>, StoreError> {
        let _ = (live, id);
        Err(StoreError::Unsupported("export a viewer"))
    }

    /// The requests log's open entries, soonest due first ([`requests`]:
    /// the log is the data dir's, not a live's).
    fn open_requests(&mut self) -> Result<Vec<requests::PrivacyRequest>, StoreError> {
        Err(StoreError::Unsupported("keep a requests log"))
    }

    /// Logs a viewer's own request in the requests log unless they have an
    /// open one of that kind ([`requests::add_once`]); `true` when new.
    fn add_privacy_request(
        &mut self,
        kind: requests::RequestKind,
        subject: &str,
        received_at: Millis,
    ) -> Result<bool, StoreError> {
        let _ = (kind, subject, received_at);
        Err(StoreError::Unsupported("keep a requests log"))
    }

    /// The live's moderation rules in force (`rule_added` events, minus
    /// `rule_removed` ones), oldest first; `None` when the live never had
    /// one, so the hub starts it on the brand's defaults. A store that
    /// keeps no rules always says `None`.
    fn rules(&mut self, live: &str) -> Result<Option<Vec<crate::protocol::RuleView>>, StoreError> {
        let _ = live;
        Ok(None)
    }

    /// The live's title, lifecycle state and times; `None` when the store
    /// holds no such live, or keeps no lifecycle (then the hub runs it on
    /// air). The state moves with `Event::LiveState` in [`Store::commit`].
    fn live_info(&mut self, live: &str) -> Result<Option<crate::protocol::LiveInfo>, StoreError> {
        let _ = live;
        Ok(None)
    }

    /// Stores the brand's default rules for a live that never had any
    /// ([`Store::rules`] said `None`); a live that has rules keeps them,
    /// so two nodes seeding at once store one set. A store that keeps no
    /// rules ignores them: the hub then runs on the defaults after each
    /// restart.
    fn seed_rules(
        &mut self,
        live: &str,
        defaults: &[crate::protocol::RuleView],
    ) -> Result<(), StoreError> {
        let _ = (live, defaults);
        Ok(())
    }

    /// A page of the live's audit log, as [`StaffLogQuery`] asks.
    fn staff_log(&mut self, live: &str, query: &StaffLogQuery) -> Result<StaffLogPage, StoreError> {
        let _ = (live, query);
        Err(StoreError::Unsupported("read the staff log"))
    }

    /// A page of a `history_search` over the live's stored messages
    /// ([`history`]): never a redacted or erased message (their rows are
    /// gone), never a held or hidden one.
    fn history_search(
        &mut self,
        live: &str,
        query: &history::HistoryQuery,
    ) -> Result<history::HistoryPage, StoreError> {
        let _ = (live, query);
        Err(StoreError::Unsupported("search the chat history"))
    }

    /// Every live the store holds, oldest first.
    fn lives(&mut self) -> Result<Vec<crate::protocol::LiveInfo>, StoreError> {
        Err(StoreError::Unsupported("list lives"))
    }

    /// Creates `live` as announced (`info.state` is `scheduled`), with a
    /// fresh epoch; [`StoreError::LiveExists`] when the name is taken.
    fn create_live(
        &mut self,
        info: &crate::protocol::LiveInfo,
        now: Millis,
    ) -> Result<(), StoreError> {
        let _ = (info, now);
        Err(StoreError::Unsupported("create lives"))
    }

    /// Viewers' connections that joined or left the live at `at`, in one
    /// write: the content-free presence records the report's audience
    /// figures come from (`store::report_source`). A store without them
    /// ignores them.
    fn presence(
        &mut self,
        live: &str,
        at: Millis,
        changes: &[(ViewerId, Presence)],
    ) -> Result<(), StoreError> {
        let _ = (live, at, changes);
        Ok(())
    }

    /// How many viewers of `live` each post-live segment would reach with
    /// a follow-up SMS now (`sms_segments`, [`crate::sms::follow_up`]).
    fn sms_segments(
        &mut self,
        live: &str,
    ) -> Result<Vec<crate::protocol::SegmentCount>, StoreError> {
        let _ = live;
        Err(StoreError::Unsupported("send SMS follow-ups"))
    }

    /// Queues `live`'s follow-up SMS for `segment` when it still has the
    /// `confirmed` count of recipients (`sms_follow_up`).
    fn sms_follow_up(
        &mut self,
        live: &str,
        config: &crate::sms::SmsConfig,
        segment: crate::protocol::SmsSegment,
        confirmed: u64,
        now: Millis,
    ) -> Result<crate::sms::follow_up::FollowUpOutcome, StoreError> {
        let _ = (live, config, segment, confirmed, now);
        Err(StoreError::Unsupported("send SMS follow-ups"))
    }

    /// The counts of `live`'s SMS at `now` (what `sms_progress` carries);
    /// empty for a store that sends none.
    fn sms_progress(
        &mut self,
        live: &str,
        now: Millis,
    ) -> Result<crate::protocol::SmsProgress, StoreError> {
        let _ = (live, now);
        Ok(crate::protocol::SmsProgress::default())
    }

    /// What the post-live report of `live` is computed from at `now`
    /// ([`crate::report`]); `None` when the store holds no such live.
    fn report_source(
        &mut self,
        live: &str,
        now: Millis,
    ) -> Result<Option<crate::report::Source>, StoreError> {
        let _ = (live, now);
        Err(StoreError::Unsupported("compute reports"))
    }
}

/// What a presence record says happened ([`Store::presence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Joined,
    Left,
}
