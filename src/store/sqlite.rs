//! The embedded store: one SQLite file (`<data>/regie.db`) and its WAL.
//!
//! # Settings, and why
//!
//! - `journal_mode=WAL`: readers never block the writer, and a commit is one
//!   sequential append to the log, which is what a chat firehose needs.
//! - `synchronous=NORMAL` by default ([`Durability::Normal`]): in WAL mode a
//!   commit is written to the log before it returns, so **a crash of the hub
//!   process loses nothing**; the log is fsynced at checkpoints, not at every
//!   commit, so **a power cut or kernel crash may lose the last commits since
//!   the last checkpoint** (never corrupting the file). That trade buys an
//!   order of magnitude in commit rate. A brand that must survive power cuts
//!   without a resumed client ever seeing a re-used seq opens the store with
//!   [`Durability::Full`] (an fsync per batch).
//! - `secure_delete=ON`: deleted content (a redacted message) is overwritten
//!   with zeros in the page, not merely unlinked, so it is gone from the
//!   file's free space. The WAL still holds older page images until a
//!   checkpoint, which is why [`Store::checkpoint`] truncates it.
//! - `cache_size` 32 MiB: see [`PAGE_CACHE_KIB`].
//! - `temp_store=MEMORY`: sorts and temporary tables never spill user text
//!   to temporary files outside the data dir.
//! - `foreign_keys=ON`, and migrations through `PRAGMA user_version`
//!   ([`super::migrations`]).
//!
//! The database file is created with mode 0600 (SQLite gives its WAL and
//! shared-memory files the same mode): it holds viewers' names and chat.

use super::NoteWrite;
use crate::protocol::ModNote;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};

use super::audit::{self, AuditEntry, AuditRecord, GENESIS_HASH};
use super::contact::{
    ContactCipher, ContactError, ContactField, FieldChange, KeySource, purpose_in_force,
};
use super::games::{GameWrite, StoredDraw, StoredGames, StoredPoll, StoredResult};
use super::migrations;
use super::retention::{RetentionPolicy, SweepReport, cutoff};
use super::rows::{
    MessageRef, log_payload, message_event, parse_wire_name, refers_to_message, sql_i64, sql_len,
    u64_from_sql, wire_name,
};
use super::rules::{insert_rule, remove_rule};
use super::{
    CommandOutcome, Commit, LiveHead, NameCorrection, RECENT_STAFF_ACTIONS, Store, StoreError,
    StoredSnapshot, StoredViewer, VIEWER_CARD_RECENT, ViewerRecord, WorkingSet,
};
use crate::auth::secret_file::{self, SecretFileError};
use crate::privacy::{mask_contact_email, mask_contact_phone};
use crate::protocol::{
    Actor, Author, ChatEntry, ChatMessage, CommandId, ConsentPurpose, ConsentState, Contact, Epoch,
    Event, EventFrame, LiftedSanction, LiveInfo, LiveState as Lifecycle, MaskedContact, MessageId,
    Millis, ReplyTo, Sanction, SanctionedViewer, Seq, StaffRole, Tombstone, ViewerCard, ViewerId,
    Visibility,
};

// The CRM's opt-in export reads the store's connection and keyring.
#[path = "optins.rs"]
mod optins;

/// The database file's name in the data dir.
pub const DB_FILE: &str = "regie.db";

/// How long a command's outcome is remembered for retries. A client retries
/// within seconds; a show lasts hours. Older outcomes are pruned as the
/// store writes, so the table stays small on a long show.
pub(crate) const OUTCOME_RETENTION_MS: Millis = 6 * 3_600_000;

/// Most open questions a snapshot carries (the oldest ones: the queue's head).
pub(crate) const SNAPSHOT_MAX_OPEN_QUESTIONS: usize = 200;

/// SQLite's page cache for the store's connection.
const PAGE_CACHE_KIB: i64 = 32 * 1024;

/// Prune old command outcomes once every this many committed batches.
const PRUNE_EVERY_BATCHES: u32 = 512;

/// How hard a commit is made durable. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL`: survives a process crash; a power cut may lose
    /// the commits since the last checkpoint.
    #[default]
    Normal,
    /// `synchronous=FULL`: an fsync per committed batch.
    Full,
}

/// What the store keeps in memory about an open live, so a commit needs no
/// read before its writes.
#[derive(Debug, Clone)]
struct LiveState {
    id: i64,
    epoch: Epoch,
    head: Seq,
    last_message_id: u64,
    audit_index: u64,
    audit_hash: String,
}

/// The embedded default [`Store`].
pub struct SqliteStore {
    conn: Connection,
    cipher: ContactCipher,
    lives: HashMap<String, LiveState>,
    path: PathBuf,
    batches_since_prune: u32,
    /// A sweep deleted rows but could not checkpoint: the next one does.
    sweep_checkpoint_due: bool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) `<data_dir>/regie.db` with [`Durability::Normal`].
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, Durability::Normal)
    }

    pub fn open_with(data_dir: &Path, durability: Durability) -> Result<Self, StoreError> {
        Self::open_with_keys(data_dir, durability, KeySource::Dir(data_dir.to_path_buf()))
    }

    /// Opens the store with its contact keys from `keys` (a directory
    /// outside the data dir, or the environment); see [`super::contact`].
    pub fn open_with_keys(
        data_dir: &Path,
        durability: Durability,
        keys: KeySource,
    ) -> Result<Self, StoreError> {
        secret_file::ensure_data_dir(data_dir).map_err(key_error)?;
        let path = data_dir.join(DB_FILE);
        create_private_file(&path)?;
        let mut conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Every transaction takes the write lock when it begins, where the
        // busy timeout waits for it. A deferred one that reads, then writes
        // after another connection (the hub, a CLI command) wrote, fails at
        // once (SQLITE_BUSY_SNAPSHOT): no wait can make its snapshot current.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        let mode = migrations::switch_to_wal(&conn)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt(format!(
                "could not switch {} to WAL (journal mode is {mode})",
                path.display()
            )));
        }
        let secure: i64 = conn.pragma_update_and_check(None, "secure_delete", 1, |r| r.get(0))?;
        if secure != 1 {
            return Err(StoreError::Corrupt(
                "secure_delete could not be enabled".into(),
            ));
        }
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Negative: KiB. The indexes a chat insert touches (per viewer, per
        // command id) grow with the show; keeping them in SQLite's own cache
        // instead of re-reading pages from the OS doubles the commit rate.
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
        conn.set_prepared_statement_cache_capacity(64);
        migrations::migrate(&mut conn)?;
        // A migration may have deleted personal data (unkeyed fingerprints,
        // contact without consent): its old pages leave the WAL now.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let cipher = ContactCipher::load(keys, true)?;
        Ok(Self {
            conn,
            cipher,
            lives: HashMap::new(),
            path,
            batches_since_prune: 0,
            sweep_checkpoint_due: false,
        })
    }

    /// The database file (its WAL is this path plus `-wal`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The durability the connection really runs with, read back from
    /// SQLite (`PRAGMA synchronous`), not from what was asked for.
    pub fn durability(&self) -> Result<Durability, StoreError> {
        let level: i64 = self
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))?;
        match level {
            1 => Ok(Durability::Normal),
            2 => Ok(Durability::Full),
            other => Err(StoreError::Corrupt(format!(
                "the store runs with synchronous level {other}, neither NORMAL nor FULL"
            ))),
        }
    }

    fn live(&self, live: &str) -> Result<&LiveState, StoreError> {
        self.lives
            .get(live)
            .ok_or_else(|| StoreError::UnknownLive(live.to_string()))
    }

    fn live_id(&self, live: &str) -> Result<i64, StoreError> {
        Ok(self.live(live)?.id)
    }

    /// Stores a checked shop event once (`POST /shop/events`, see
    /// `store::shop_events`): [`crate::shop::Recorded::Duplicate`] when its
    /// id was seen before. `successor` gives an erased viewer's new id.
    pub fn shop_event(
        &mut self,
        event: &crate::shop::ShopRecord,
        successor: &dyn Fn(&ViewerId) -> ViewerId,
    ) -> Result<crate::shop::Recorded, StoreError> {
        super::shop_events::record(&mut self.conn, event, successor)
    }
}

/// Creates the database file with mode 0600 if it does not exist yet, so it
/// is never readable by others, not even for a moment.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn key_error(e: SecretFileError) -> StoreError {
    match e {
        SecretFileError::Io { path, source } => StoreError::Io { path, source },
        other => StoreError::Contact(ContactError::Key(other)),
    }
}

/// Picks up a key rotation (see [`super::contact`]); a ring that cannot be
/// reloaded keeps the keys it has, said in the log.
/// A write transaction for a change that may seal contact values. It takes
/// the write lock first, then looks at the key files: a key rotation swaps
/// keys holding that lock, so a value is sealed under the key the rotation
/// will re-seal or under the new one, never under a key about to go.
fn sealing_transaction<'c>(
    conn: &'c mut Connection,
    cipher: &mut ContactCipher,
    contact: &Contact,
) -> rusqlite::Result<rusqlite::Transaction<'c>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if !contact.is_empty() {
        refresh_keys(cipher);
    }
    Ok(tx)
}

fn refresh_keys(cipher: &mut ContactCipher) {
    if let Err(e) = cipher.refresh() {
        tracing::warn!(error = %e, "contact keys changed on disk but cannot be reloaded");
    }
}

/// A viewer's sealed phone and e-mail, as stored.
type SealedContact = (Option<Vec<u8>>, Option<Vec<u8>>);

// ── row mapping ─────────────────────────────────────────────────────────

/// The columns [`read_message`] expects, in order, on alias `m`.
const MESSAGE_COLUMNS: &str = "m.id, m.at, m.author_kind, m.viewer_id, m.author_name, \
     m.author_pseudonym, m.author_role, m.text, m.question, m.answered, m.visibility, \
     m.reply_to_id, m.reply_to_name, \
     (SELECT json_group_array(json_object('message_id', x.message_id, 'first_name', x.first_name)) \
      FROM answer_also x WHERE x.live_id = m.live_id AND x.answer_id = m.id), \
     m.product, m.announcement";
const MESSAGE_COLUMN_COUNT: usize = 16;

/// The columns [`read_tombstone`] expects, in order, on alias `t`.
const TOMBSTONE_COLUMNS: &str =
    "t.message_id, t.posted_at, t.redacted_at, t.author_id, t.reason, t.by_name, t.by_role";

fn conversion(
    idx: usize,
    why: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, why.into())
}

fn role_at(row: &Row, idx: usize) -> rusqlite::Result<StaffRole> {
    let s: String = row.get(idx)?;
    s.parse().map_err(|e: String| conversion(idx, e))
}

fn json_at<T: for<'de> Deserialize<'de>>(row: &Row, idx: usize) -> rusqlite::Result<T> {
    let s: String = row.get(idx)?;
    serde_json::from_str(&s).map_err(|e| conversion(idx, e))
}

/// A message from [`MESSAGE_COLUMNS`] starting at `base`; `None` when the
/// (outer-joined) row is absent.
fn read_message(row: &Row, base: usize) -> rusqlite::Result<Option<ChatMessage>> {
    let Some(id) = row.get::<_, Option<i64>>(base)? else {
        return Ok(None);
    };
    let kind: String = row.get(base + 2)?;
    let author = match kind.as_str() {
        "viewer" => Author::Viewer {
            viewer_id: ViewerId(row.get::<_, Option<String>>(base + 3)?.unwrap_or_default()),
            first_name: row.get(base + 4)?,
            pseudonym: row.get::<_, Option<String>>(base + 5)?.unwrap_or_default(),
        },
        _ => Author::Staff {
            name: row.get(base + 4)?,
            role: role_at(row, base + 6)?,
        },
    };
    let reply_to = match row.get::<_, Option<i64>>(base + 11)? {
        Some(rid) => Some(ReplyTo {
            message_id: MessageId(u64_from_sql(rid)),
            first_name: row.get::<_, Option<String>>(base + 12)?.unwrap_or_default(),
        }),
        None => None,
    };
    let also_to = match row.get::<_, Option<String>>(base + 13)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| conversion(base + 13, e))?,
        None => Vec::new(),
    };
    Ok(Some(ChatMessage {
        id: MessageId(u64_from_sql(id)),
        at: row.get(base + 1)?,
        author,
        text: row.get(base + 7)?,
        question: row.get(base + 8)?,
        answered: row.get(base + 9)?,
        reply_to,
        also_to,
        visibility: json_at(row, base + 10)?,
        product: row.get(base + 14)?,
        announcement: row.get(base + 15)?,
    }))
}

/// A tombstone from [`TOMBSTONE_COLUMNS`] starting at `base`; `None` when absent.
fn read_tombstone(row: &Row, base: usize) -> rusqlite::Result<Option<Tombstone>> {
    let Some(id) = row.get::<_, Option<i64>>(base)? else {
        return Ok(None);
    };
    Ok(Some(Tombstone {
        message_id: MessageId(u64_from_sql(id)),
        posted_at: row.get(base + 1)?,
        redacted_at: row.get(base + 2)?,
        author_id: row.get::<_, Option<String>>(base + 3)?.map(ViewerId),
        reason: row.get(base + 4)?,
        by: Actor {
            name: row.get(base + 5)?,
            role: role_at(row, base + 6)?,
        },
    }))
}

/// An outbox error as the store reports it.
fn outbox_error(e: crate::sms::outbox::OutboxError) -> StoreError {
    use crate::sms::outbox::OutboxError;
    match e {
        OutboxError::Db(e) => StoreError::Db(e),
        OutboxError::Contact(e) => StoreError::Contact(e),
        OutboxError::Template(e) => StoreError::Corrupt(format!("the SMS template: {e}")),
    }
}

fn from_wire_name<T: for<'de> Deserialize<'de>>(row: &Row, idx: usize) -> rusqlite::Result<T> {
    parse_wire_name(row.get(idx)?).map_err(|e| conversion(idx, e))
}

// ── writing ─────────────────────────────────────────────────────────────

/// Whether message `id` exists: `Some(true)` stored, `Some(false)` redacted,
/// `None` never seen.
fn message_state(
    tx: &Transaction,
    live_id: i64,
    id: MessageId,
) -> Result<Option<bool>, StoreError> {
    let stored = tx
        .prepare_cached("SELECT 1 FROM messages WHERE live_id = ?1 AND id = ?2")?
        .exists(params![live_id, sql_i64(id.0)])?;
    if stored {
        return Ok(Some(true));
    }
    let redacted = tx
        .prepare_cached("SELECT 1 FROM tombstones WHERE live_id = ?1 AND message_id = ?2")?
        .exists(params![live_id, sql_i64(id.0)])?;
    Ok(redacted.then_some(false))
}

/// Requires message `id` to exist or to have been redacted; true if stored.
fn require_message(tx: &Transaction, live_id: i64, id: MessageId) -> Result<bool, StoreError> {
    message_state(tx, live_id, id)?.ok_or(StoreError::UnknownMessage(id))
}

fn insert_message(tx: &Transaction, live_id: i64, m: &ChatMessage) -> Result<(), StoreError> {
    let (kind, viewer_id, pseudonym, role) = match &m.author {
        Author::Viewer {
            viewer_id,
            pseudonym,
            ..
        } => (
            "viewer",
            Some(viewer_id.0.as_str()),
            Some(pseudonym.as_str()),
            None,
        ),
        Author::Staff { role, .. } => ("staff", None, None, Some(role.as_str())),
    };
    let visibility = serde_json::to_string(&m.visibility).expect("visibility serialises");
    tx.prepare_cached(
        "INSERT INTO messages (live_id, id, at, author_kind, viewer_id, author_name, \
         author_pseudonym, author_role, text, question, answered, visibility, reply_to_id, \
         reply_to_name, product, announcement) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        live_id,
        sql_i64(m.id.0),
        m.at,
        kind,
        viewer_id,
        m.author.display_name(),
        pseudonym,
        role,
        m.text,
        m.question,
        m.answered,
        visibility,
        m.reply_to.as_ref().map(|r| sql_i64(r.message_id.0)),
        m.reply_to.as_ref().map(|r| r.first_name.as_str()),
        m.product,
        m.announcement,
    ])?;
    for (position, also) in m.also_to.iter().enumerate() {
        tx.prepare_cached(
            "INSERT INTO answer_also (live_id, answer_id, position, message_id, first_name) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            live_id,
            sql_i64(m.id.0),
            sql_len(position),
            sql_i64(also.message_id.0),
            also.first_name,
        ])?;
    }
    Ok(())
}

fn set_visibility(
    tx: &Transaction,
    live_id: i64,
    id: MessageId,
    visibility: Visibility,
) -> Result<(), StoreError> {
    if require_message(tx, live_id, id)? {
        let v = serde_json::to_string(&visibility).expect("visibility serialises");
        tx.prepare_cached("UPDATE messages SET visibility = ?3 WHERE live_id = ?1 AND id = ?2")?
            .execute(params![live_id, sql_i64(id.0), v])?;
    }
    Ok(())
}

/// Marks a question answered, or open again (a `question_reopened`).
fn set_answered(
    tx: &Transaction,
    live_id: i64,
    id: MessageId,
    answered: bool,
) -> Result<(), StoreError> {
    if require_message(tx, live_id, id)? {
        tx.prepare_cached("UPDATE messages SET answered = ?3 WHERE live_id = ?1 AND id = ?2")?
            .execute(params![live_id, sql_i64(id.0), answered])?;
    }
    Ok(())
}

/// Logs one event and applies it to the projection.
fn apply_event(
    tx: &Transaction,
    live: &str,
    state: &mut LiveState,
    frame: &EventFrame,
) -> Result<(), StoreError> {
    if frame.epoch != state.epoch {
        return Err(StoreError::WrongEpoch {
            live: live.to_string(),
            expected: state.epoch.clone(),
            got: frame.epoch.clone(),
        });
    }
    if frame.seq != state.head + 1 {
        return Err(StoreError::SeqGap {
            live: live.to_string(),
            head: state.head,
            got: frame.seq,
        });
    }
    let live_id = state.id;
    let (message_id, payload) = log_payload(frame)?;

    project(tx, state, frame)?;

    tx.prepare_cached(
        "INSERT INTO events (live_id, seq, at, kind, message_id, payload) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        live_id,
        sql_i64(frame.seq),
        frame.at,
        frame.event.name(),
        message_id.map(|m| sql_i64(m.0)),
        payload,
    ])?;
    state.head = frame.seq;
    Ok(())
}

/// Applies one event to the projection: the tables that hold the live's
/// current state (messages, pins, sanctions, tombstones).
/// The pin of a live (one at most): `message_id`, if the store holds it.
fn insert_pin(
    tx: &Transaction,
    live_id: i64,
    message_id: MessageId,
    at: Millis,
    by: &Actor,
) -> Result<(), StoreError> {
    if require_message(tx, live_id, message_id)? {
        tx.prepare_cached(
            "INSERT INTO pins (live_id, message_id, at, by_name, by_role) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (live_id) DO UPDATE SET \
             message_id = excluded.message_id, at = excluded.at, \
             by_name = excluded.by_name, by_role = excluded.by_role",
        )?
        .execute(params![
            live_id,
            sql_i64(message_id.0),
            at,
            by.name,
            by.role.as_str()
        ])?;
    }
    Ok(())
}

fn project(tx: &Transaction, state: &mut LiveState, frame: &EventFrame) -> Result<(), StoreError> {
    let live_id = state.id;
    match &frame.event {
        Event::Message { message } => {
            insert_message(tx, live_id, message)?;
            state.last_message_id = state.last_message_id.max(message.id.0);
        }
        Event::Released { message, .. } => {
            set_visibility(tx, live_id, message.id, Visibility::Visible)?;
        }
        Event::Hidden { message_id, .. } => {
            set_visibility(tx, live_id, *message_id, Visibility::Hidden)?;
        }
        Event::QuestionAnswered { message_id, .. } => {
            set_answered(tx, live_id, *message_id, true)?;
        }
        // The working set (open questions) reads `answered = 0`, so a
        // reopened question is open again in every later snapshot.
        Event::QuestionReopened { message_id, .. } => {
            set_answered(tx, live_id, *message_id, false)?;
        }
        Event::Pinned { message_id, by } => insert_pin(tx, live_id, *message_id, frame.at, by)?,
        Event::Unpinned { message_id, .. } => {
            tx.prepare_cached("DELETE FROM pins WHERE live_id = ?1 AND message_id = ?2")?
                .execute(params![live_id, sql_i64(message_id.0)])?;
        }
        Event::ViewerTimedOut {
            viewer_id,
            until,
            reason,
            by,
        } => insert_sanction(
            tx,
            live_id,
            frame,
            &SanctionRow {
                viewer_id,
                kind: "timeout",
                until: Some(*until),
                reason,
                by,
            },
        )?,
        Event::ViewerBanned {
            viewer_id,
            reason,
            by,
        } => insert_sanction(
            tx,
            live_id,
            frame,
            &SanctionRow {
                viewer_id,
                kind: "ban",
                until: None,
                reason,
                by,
            },
        )?,
        Event::SanctionLifted {
            viewer_id, lifted, ..
        } => lift_sanction(tx, live_id, frame.at, viewer_id, *lifted)?,
        Event::Redacted { tombstone } => redact(tx, live_id, tombstone)?,
        Event::ViewerRectified { .. } | Event::ViewerErased { .. } => {
            project_rights_request(tx, live_id, frame)?;
        }
        Event::ViewersOnline { .. }
        | Event::HoldNotice { .. }
        | Event::SlowModeChanged { .. }
        | Event::ShieldChanged { .. }
        | Event::DeliveryChanged { .. }
        | Event::PollOpened { .. }
        | Event::PollTally { .. }
        | Event::PollClosed { .. }
        | Event::PollCleared { .. }
        | Event::InstantWinOpened { .. }
        | Event::InstantWinEntries { .. }
        | Event::InstantWinDrawn { .. }
        | Event::MessageFlagged { .. }
        | Event::ProductAdded { .. }
        | Event::NowShowing { .. }
        | Event::CannedAdded { .. }
        // Claims and viewer flags are the hub's memory only: the log keeps
        // their events for replay, no table their state.
        | Event::Claimed { .. }
        | Event::ClaimEnded { .. }
        | Event::ViewerFlagged { .. }
        | Event::ViewerUnflagged { .. } => {}
        Event::RuleAdded { rule } => insert_rule(tx, live_id, rule)?,
        Event::RuleRemoved { rule_id, .. } => remove_rule(tx, live_id, *rule_id, frame.at)?,
        Event::LiveState { state: next } => project_live_state(tx, live_id, *next, frame.at)?,
    }
    Ok(())
}

/// A move of the live's lifecycle: its state and the time it went on air
/// or ended (the retention clocks of an ended live run from `ended_at`).
fn project_live_state(
    tx: &Transaction,
    live_id: i64,
    state: Lifecycle,
    at: Millis,
) -> Result<(), StoreError> {
    let column = match state {
        Lifecycle::Scheduled => None,
        Lifecycle::OnAir => Some("started_at"),
        Lifecycle::Ended => Some("ended_at"),
    };
    match column {
        Some(column) => tx
            .prepare_cached(&format!(
                "UPDATE lives SET state = ?2, {column} = ?3 WHERE id = ?1"
            ))?
            .execute(params![live_id, state.as_str(), at])?,
        None => tx
            .prepare_cached("UPDATE lives SET state = ?2 WHERE id = ?1")?
            .execute(params![live_id, state.as_str()])?,
    };
    Ok(())
}

/// The columns [`read_live_info`] reads, in order.
const LIVE_INFO_COLUMNS: &str = "name, title, state, starts_at, started_at, ended_at";

fn read_live_info(row: &Row) -> rusqlite::Result<LiveInfo> {
    let state: String = row.get(2)?;
    let state = Lifecycle::from_name(&state).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Text,
            format!("unknown live state {state:?}").into(),
        )
    })?;
    Ok(LiveInfo {
        name: row.get(0)?,
        title: row.get(1)?,
        state,
        starts_at: row.get(3)?,
        started_at: row.get(4)?,
        ended_at: row.get(5)?,
    })
}

/// A data-protection request in the projection: names corrected (Art. 16)
/// or a viewer erased (Art. 17), each everywhere the store holds them.
fn project_rights_request(
    tx: &Transaction,
    live_id: i64,
    frame: &EventFrame,
) -> Result<(), StoreError> {
    match &frame.event {
        Event::ViewerRectified {
            viewer_id,
            first_name,
            pseudonym,
            ..
        } => rectify(
            tx,
            live_id,
            viewer_id,
            first_name.as_deref(),
            pseudonym.as_deref(),
        ),
        Event::ViewerErased {
            viewer_id,
            reason,
            erased_at,
            by,
        } => erase_viewer(tx, live_id, frame.seq, viewer_id, reason, *erased_at, by),
        _ => Ok(()),
    }
}

/// One row of the `sanctions` table, borrowed from the event that imposed
/// it; the row's time and seq are the event frame's.
struct SanctionRow<'a> {
    viewer_id: &'a ViewerId,
    /// `"timeout"` or `"ban"`, as `active_sanctions` reads it back.
    kind: &'a str,
    /// A timeout's end; a ban has none.
    until: Option<Millis>,
    reason: &'a str,
    by: &'a Actor,
}

/// Ends a viewer's ban or running timeouts at `at`: the rows stay (the
/// export and retention read them), with their end set to the lift, so
/// `active_sanctions` no longer finds them and retention counts from then.
fn lift_sanction(
    tx: &Transaction,
    live_id: i64,
    at: Millis,
    viewer: &ViewerId,
    lifted: LiftedSanction,
) -> Result<(), StoreError> {
    let sql = match lifted {
        LiftedSanction::Ban => {
            "UPDATE sanctions SET until = ?3 \
             WHERE live_id = ?1 AND viewer_id = ?2 AND kind = 'ban' AND until IS NULL"
        }
        LiftedSanction::Timeout => {
            "UPDATE sanctions SET until = ?3 \
             WHERE live_id = ?1 AND viewer_id = ?2 AND kind = 'timeout' AND until > ?3"
        }
    };
    tx.prepare_cached(sql)?
        .execute(params![live_id, viewer.0, at])?;
    Ok(())
}

fn insert_sanction(
    tx: &Transaction,
    live_id: i64,
    frame: &EventFrame,
    row: &SanctionRow<'_>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO sanctions (live_id, viewer_id, kind, until, reason, by_name, by_role, at, seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        live_id,
        row.viewer_id.0,
        row.kind,
        row.until,
        row.reason,
        row.by.name,
        row.by.role.as_str(),
        frame.at,
        sql_i64(frame.seq),
    ])?;
    Ok(())
}

/// Deletes the message (text, author name) and the outcome of the command
/// that posted it, and writes its tombstone; drops the pin if it pinned
/// this message. A message already redacted keeps its
/// first tombstone: redacting twice changes nothing.
fn redact(tx: &Transaction, live_id: i64, t: &Tombstone) -> Result<(), StoreError> {
    match message_state(tx, live_id, t.message_id)? {
        None => return Err(StoreError::UnknownMessage(t.message_id)),
        Some(false) => return Ok(()),
        Some(true) => {}
    }
    let id = sql_i64(t.message_id.0);
    tx.prepare_cached("DELETE FROM messages WHERE live_id = ?1 AND id = ?2")?
        .execute(params![live_id, id])?;
    tx.prepare_cached("DELETE FROM answer_also WHERE live_id = ?1 AND answer_id = ?2")?
        .execute(params![live_id, id])?;
    tx.prepare_cached(
        "INSERT INTO tombstones (live_id, message_id, posted_at, redacted_at, author_id, reason, \
         by_name, by_role) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        live_id,
        id,
        t.posted_at,
        t.redacted_at,
        t.author_id.as_ref().map(|v| v.0.as_str()),
        t.reason,
        t.by.name,
        t.by.role.as_str(),
    ])?;
    tx.prepare_cached("DELETE FROM pins WHERE live_id = ?1 AND message_id = ?2")?
        .execute(params![live_id, id])?;
    // The outcome of the command that posted (or released) it: its retry
    // key is a fingerprint of the very text being redacted.
    tx.prepare_cached(
        "DELETE FROM command_outcomes WHERE live_id = ?1 AND seq IN \
         (SELECT seq FROM events WHERE live_id = ?1 AND message_id = ?2)",
    )?
    .execute(params![live_id, id])?;
    Ok(())
}

// ── erasure (Art. 17) ────────────────────────────────────────────────────

/// Erases a viewer, inside the batch's transaction: every message becomes
/// a tombstone without author (text and names deleted, `secure_delete`
/// zeroes the pages), replies quoting them drop the name, their pin goes;
/// their contact data, names, consents, sanctions (and the reasons in the
/// sanction events) and the outcomes of their commands go; votes get an
/// unlinked random id (counts stay); draw entries and published records
/// keep the pseudonymous id, which resolves to no one once the viewer row
/// is gone; announced winners lose the name. The `erasures` row is the
/// content-free proof, and makes the same viewer pass join as a new viewer.
/// Stores a staff note on a viewer.
fn insert_note(tx: &Transaction, live_id: i64, n: &NoteWrite) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO mod_notes (live_id, viewer_id, at, by_name, by_role, text) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        live_id,
        n.viewer_id.0,
        n.note.at,
        n.note.by.name,
        n.note.by.role.as_str(),
        n.note.text,
    ])?;
    Ok(())
}

fn erase_viewer(
    tx: &Transaction,
    live_id: i64,
    seq: Seq,
    viewer: &ViewerId,
    reason: &str,
    at: Millis,
    by: &Actor,
) -> Result<(), StoreError> {
    let v = viewer.0.as_str();
    let mine = "SELECT id FROM messages WHERE live_id = ?1 AND viewer_id = ?2";
    tx.execute(
        "INSERT OR IGNORE INTO tombstones (live_id, message_id, posted_at, redacted_at, \
         author_id, reason, by_name, by_role) SELECT live_id, id, at, ?3, NULL, ?4, ?5, ?6 \
         FROM messages WHERE live_id = ?1 AND viewer_id = ?2",
        params![live_id, v, at, reason, by.name, by.role.as_str()],
    )?;
    tx.execute(
        &format!("DELETE FROM pins WHERE live_id = ?1 AND message_id IN ({mine})"),
        params![live_id, v],
    )?;
    tx.execute(
        &format!(
            "UPDATE messages SET reply_to_name = '' WHERE live_id = ?1 AND reply_to_id IN \
             ({mine} UNION SELECT message_id FROM tombstones WHERE live_id = ?1 AND author_id = ?2)"
        ),
        params![live_id, v],
    )?;
    tx.execute(
        &format!(
            "UPDATE answer_also SET first_name = '' WHERE live_id = ?1 AND message_id IN \
             ({mine} UNION SELECT message_id FROM tombstones WHERE live_id = ?1 AND author_id = ?2)"
        ),
        params![live_id, v],
    )?;
    // Outcomes of the commands that posted or released their messages
    // (staff releases included), then every outcome of their own commands.
    tx.execute(
        &format!(
            "DELETE FROM command_outcomes WHERE live_id = ?1 AND seq IN (SELECT seq FROM events \
             WHERE live_id = ?1 AND message_id IN ({mine}))"
        ),
        params![live_id, v],
    )?;
    tx.execute(
        "DELETE FROM command_outcomes WHERE live_id = ?1 AND principal = ?2",
        params![live_id, format!("viewer:{v}")],
    )?;
    tx.execute(
        "DELETE FROM messages WHERE live_id = ?1 AND viewer_id = ?2",
        params![live_id, v],
    )?;
    // Earlier redactions: the tombstone keeps no link either.
    tx.execute(
        "UPDATE tombstones SET author_id = NULL WHERE live_id = ?1 AND author_id = ?2",
        params![live_id, v],
    )?;
    tx.execute(
        "DELETE FROM sanctions WHERE live_id = ?1 AND viewer_id = ?2",
        params![live_id, v],
    )?;
    tx.execute(
        "DELETE FROM mod_notes WHERE live_id = ?1 AND viewer_id = ?2",
        params![live_id, v],
    )?;
    super::report_source::erase(tx, live_id, v)?;
    super::shop_events::erase(tx, live_id, v)?;
    tx.execute(
        "UPDATE events SET payload = json_set(payload, '$.reason', '') WHERE live_id = ?1 \
         AND kind IN ('viewer_timed_out', 'viewer_banned') \
         AND json_extract(payload, '$.viewer_id') = ?2",
        params![live_id, v],
    )?;
    // A viewer flag's note is about them: blanked in the log (the flag
    // itself is memory only, and the hub dropped it).
    tx.execute(
        "UPDATE events SET payload = json_remove(payload, '$.note') WHERE live_id = ?1 \
         AND kind = 'viewer_flagged' AND json_extract(payload, '$.viewer_id') = ?2",
        params![live_id, v],
    )?;
    tx.execute(
        "DELETE FROM consents WHERE live_id = ?1 AND viewer_id = ?2",
        params![live_id, v],
    )?;
    crate::sms::outbox::erase(tx, live_id, v)?;
    let pushed_to_crm = crate::crm::queue::was_pushed(tx, live_id, v)?;
    tx.execute(
        "DELETE FROM viewers WHERE live_id = ?1 AND viewer_id = ?2",
        params![live_id, v],
    )?;
    if pushed_to_crm {
        crate::crm::queue::queue_erasure(tx, live_id, v, at)?;
    }
    tx.execute(
        "UPDATE votes SET viewer_id = 'erased-' || lower(hex(randomblob(8))) \
         WHERE live_id = ?1 AND viewer_id = ?2",
        params![live_id, v],
    )?;
    // Announced winners keep their id (the published record names ids
    // only, so it stays verifiable) but lose their names: as winners, and
    // as a re-draw's kept or excluded.
    rename_winner(tx, live_id, viewer, Some(""), Some(""))?;
    tx.execute(
        "INSERT OR IGNORE INTO erasures (live_id, viewer_id, at, seq) VALUES (?1, ?2, ?3, ?4)",
        params![live_id, v, at, sql_i64(seq)],
    )?;
    Ok(())
}

/// Records one poll or instant-win fact (see `store::games`).
fn apply_game(tx: &Transaction, live_id: i64, write: &GameWrite) -> Result<(), StoreError> {
    match write {
        GameWrite::PollOpened { poll } => {
            tx.prepare_cached("INSERT INTO polls (live_id, id, view) VALUES (?1, ?2, ?3)")?
                .execute(params![live_id, sql_i64(poll.id), json(poll)])?;
        }
        GameWrite::Vote {
            poll_id,
            viewer,
            option,
        } => {
            tx.prepare_cached(
                "INSERT INTO votes (live_id, poll_id, viewer_id, option) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                live_id,
                sql_i64(*poll_id),
                viewer.0,
                sql_len(*option)
            ])?;
        }
        GameWrite::PollClosed { poll_id, closed_at } => {
            tx.prepare_cached(
                "UPDATE polls SET closed_at = ?3 WHERE live_id = ?1 AND id = ?2 AND closed_at IS NULL",
            )?
            .execute(params![live_id, sql_i64(*poll_id), closed_at])?;
        }
        // Kept in the poll's JSON (which readers of `PollView` ignore), so
        // the schema stays as it is.
        GameWrite::PollCleared {
            poll_id,
            cleared_at,
        } => {
            tx.prepare_cached(
                "UPDATE polls SET view = json_set(view, '$.cleared_at', ?3) \
                 WHERE live_id = ?1 AND id = ?2",
            )?
            .execute(params![live_id, sql_i64(*poll_id), cleared_at])?;
        }
        GameWrite::InstantWinOpened { draw, seed_hex } => {
            tx.prepare_cached(
                "INSERT INTO instant_wins (live_id, id, view, seed) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![live_id, sql_i64(draw.id), json(draw), seed_hex])?;
        }
        GameWrite::Entry { draw_id, viewer } => {
            tx.prepare_cached(
                "INSERT INTO entries (live_id, draw_id, viewer_id) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![live_id, sql_i64(*draw_id), viewer.0])?;
        }
        GameWrite::Drawn {
            record,
            winners,
            drawn_at,
        } => {
            tx.prepare_cached(
                "UPDATE instant_wins SET record = ?3, winners = ?4, drawn_at = ?5 \
                 WHERE live_id = ?1 AND id = ?2 AND record IS NULL",
            )?
            .execute(params![
                live_id,
                sql_i64(record.draw_id),
                json(record),
                json(winners),
                drawn_at
            ])?;
        }
    }
    Ok(())
}

/// Our own game types always serialise.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("game records serialise")
}

fn append_audit(
    tx: &Transaction,
    live: &str,
    state: &mut LiveState,
    entry: &AuditEntry,
    head_read: &mut bool,
) -> Result<(), StoreError> {
    // The head is read inside the transaction, not trusted from the cache:
    // `regie privacy export` appends to the same chain while the hub
    // serves, and a stale head would fork it. Once per transaction: after
    // this read, the chain's head is the one this transaction writes (a
    // writer that came in between would make its first write fail with
    // SQLITE_BUSY_SNAPSHOT, not fork the chain).
    if !*head_read {
        let newest: Option<(i64, String)> = tx
            .prepare_cached(
                "SELECT idx, hash FROM audit WHERE live_id = ?1 ORDER BY idx DESC LIMIT 1",
            )?
            .query_row([state.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // Once retention pruned every record, the chain goes on from its
        // checkpoint (the last pruned record), not from genesis again.
        (state.audit_index, state.audit_hash) = match newest {
            Some((index, hash)) => (u64_from_sql(index), hash),
            None => audit::read_checkpoint(tx, state.id)?
                .map_or((0, GENESIS_HASH.to_string()), |c| (c.index, c.hash)),
        };
        *head_read = true;
    }
    let index = state.audit_index + 1;
    let hash = audit::chain_hash(&state.audit_hash, live, index, entry);
    tx.prepare_cached(
        "INSERT INTO audit (live_id, idx, at, actor_name, actor_role, action, target, reason, \
         prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        state.id,
        sql_i64(index),
        entry.at,
        entry.actor_name,
        entry.actor_role.as_str(),
        entry.action,
        entry.target,
        entry.reason,
        state.audit_hash,
        hash,
    ])?;
    state.audit_index = index;
    state.audit_hash = hash;
    Ok(())
}

// ── reading ─────────────────────────────────────────────────────────────

impl SqliteStore {
    /// The `limit` most recent chat entries matching `filter` (all, or one
    /// author's), most recent first, tombstones in place.
    fn recent_entries(
        &self,
        live_id: i64,
        author: Option<&ViewerId>,
        limit: usize,
    ) -> Result<Vec<ChatEntry>, StoreError> {
        let limit_sql = i64::try_from(limit).unwrap_or(i64::MAX);
        // Two shapes of query rather than `(?2 IS NULL OR ...)`, so the
        // per-viewer one is planned on the per-viewer index.
        let (message_filter, tombstone_filter) = match author {
            Some(_) => ("m.viewer_id = ?2", "t.author_id = ?2"),
            None => ("?2 IS NULL", "?2 IS NULL"),
        };
        let author = author.map(|a| a.0.as_str());
        let mut entries: Vec<ChatEntry> = Vec::new();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = ?1 \
             AND {message_filter} ORDER BY m.id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![live_id, author, limit_sql], |r| read_message(r, 0))?;
        for m in rows {
            entries.extend(m?.map(ChatEntry::Message));
        }
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TOMBSTONE_COLUMNS} FROM tombstones t WHERE t.live_id = ?1 \
             AND {tombstone_filter} ORDER BY t.message_id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![live_id, author, limit_sql], |r| {
            read_tombstone(r, 0)
        })?;
        for t in rows {
            entries.extend(t?.map(ChatEntry::Redacted));
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.id()));
        entries.truncate(limit);
        Ok(entries)
    }

    /// A viewer's moderation notes as their export lists them: the author
    /// by role only.
    fn export_notes(
        &self,
        live_id: i64,
        viewer: &ViewerId,
    ) -> Result<Vec<crate::privacy::export::ExportedNote>, StoreError> {
        Ok(self
            .notes(live_id, viewer)?
            .into_iter()
            .map(|n| crate::privacy::export::ExportedNote {
                at: n.at,
                by_role: n.by.role.as_str().to_owned(),
                text: n.text,
            })
            .collect())
    }

    /// A viewer's moderation notes, oldest first.
    fn notes(&self, live_id: i64, viewer: &ViewerId) -> Result<Vec<ModNote>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, by_name, by_role, text FROM mod_notes \
             WHERE live_id = ?1 AND viewer_id = ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![live_id, viewer.0], |r| {
            Ok(ModNote {
                at: r.get(0)?,
                by: Actor {
                    name: r.get(1)?,
                    role: role_at(r, 2)?,
                },
                text: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn active_sanctions(
        &self,
        live_id: i64,
        viewer: &ViewerId,
        now: Millis,
    ) -> Result<Vec<Sanction>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, until, reason, by_name, by_role, at FROM sanctions \
             WHERE live_id = ?1 AND viewer_id = ?2 \
             AND ((kind = 'ban' AND until IS NULL) OR (kind = 'timeout' AND until > ?3)) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![live_id, viewer.0, now], |r| {
            let kind: String = r.get(0)?;
            let by = Actor {
                name: r.get(3)?,
                role: role_at(r, 4)?,
            };
            let reason: String = r.get(2)?;
            let at: Millis = r.get(5)?;
            Ok(if kind == "ban" {
                Sanction::Banned { reason, by, at }
            } else {
                Sanction::TimedOut {
                    until: r.get::<_, Option<Millis>>(1)?.unwrap_or(0),
                    reason,
                    by,
                    at,
                }
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn viewer_record(
        &self,
        live_id: i64,
        id: &ViewerId,
    ) -> Result<Option<ViewerRecord>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT first_name, pseudonym, first_seen, last_seen FROM viewers \
                 WHERE live_id = ?1 AND viewer_id = ?2",
            )?
            .query_row(params![live_id, id.0], |r| {
                Ok(ViewerRecord {
                    id: id.clone(),
                    first_name: r.get(0)?,
                    pseudonym: r.get(1)?,
                    first_seen: r.get(2)?,
                    last_seen: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn masked_contact(
        &self,
        live: &str,
        live_id: i64,
        id: &ViewerId,
    ) -> Result<MaskedContact, StoreError> {
        let sealed: Option<SealedContact> = self
            .conn
            .prepare_cached(
                "SELECT phone_sealed, email_sealed FROM viewers WHERE live_id = ?1 AND viewer_id = ?2",
            )?
            .query_row(params![live_id, id.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((phone, email)) = sealed else {
            return Ok(MaskedContact::default());
        };
        let open = |field, sealed: Option<Vec<u8>>| {
            let sealed = sealed?;
            match self.cipher.open(live, &id.0, field, &sealed) {
                Ok(v) => Some(v),
                Err(e) => {
                    // Never the value; the key file was probably replaced.
                    tracing::warn!(viewer = %id, error = %e, "stored contact data does not open");
                    None
                }
            }
        };
        Ok(MaskedContact {
            phone: open(ContactField::Phone, phone).map(|p| mask_contact_phone(&p)),
            email: open(ContactField::Email, email).map(|e| mask_contact_email(&e)),
        })
    }

    fn latest_consents(
        &self,
        live_id: i64,
        id: &ViewerId,
    ) -> Result<Vec<ConsentState>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT purpose, granted, at, channel, text_sha256 FROM consents \
             WHERE live_id = ?1 AND viewer_id = ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![live_id, id.0], |r| {
            Ok(ConsentState {
                purpose: from_wire_name(r, 0)?,
                granted: r.get(1)?,
                at: r.get(2)?,
                channel: from_wire_name(r, 3)?,
                text_sha256: r.get(4)?,
            })
        })?;
        let mut latest: Vec<ConsentState> = Vec::new();
        for c in rows {
            let c = c?;
            match latest.iter_mut().find(|l| l.purpose == c.purpose) {
                Some(l) => *l = c,
                None => latest.push(c),
            }
        }
        Ok(latest)
    }
}

/// One viewer's contact columns, inside a transaction.
struct ContactRow<'a> {
    cipher: &'a ContactCipher,
    live: &'a str,
    live_id: i64,
    viewer: &'a ViewerId,
}

impl ContactRow<'_> {
    /// The purpose the stored value of `field` was collected for.
    fn purpose(
        &self,
        tx: &Transaction,
        field: ContactField,
    ) -> Result<Option<ConsentPurpose>, StoreError> {
        let (_, purpose) = field.columns();
        let sql = format!(
            "SELECT {purpose} FROM viewers WHERE live_id = ?1 AND viewer_id = ?2 \
             AND {purpose} IS NOT NULL"
        );
        Ok(tx
            .prepare_cached(&sql)?
            .query_row(params![self.live_id, self.viewer.0], |r| {
                from_wire_name(r, 0)
            })
            .optional()?)
    }

    fn set(
        &self,
        tx: &Transaction,
        field: ContactField,
        value: &str,
        purpose: ConsentPurpose,
    ) -> Result<(), StoreError> {
        let sealed = self.cipher.seal(self.live, &self.viewer.0, field, value)?;
        let (value_col, purpose_col) = field.columns();
        let sql = format!(
            "UPDATE viewers SET {value_col} = ?3, {purpose_col} = ?4 \
             WHERE live_id = ?1 AND viewer_id = ?2"
        );
        tx.prepare_cached(&sql)?.execute(params![
            self.live_id,
            self.viewer.0,
            sealed,
            wire_name(&purpose)
        ])?;
        if field == ContactField::Email {
            // Keyed, so an unsubscribe can find this viewer (and nothing
            // without the contact key can); it goes with the e-mail.
            let lookup = self.cipher.active_lookup(
                crate::store::contact::EMAIL_LOOKUP_LABEL,
                &crate::store::contact::email_lookup_form(value),
            );
            tx.prepare_cached(
                "INSERT INTO email_lookups (live_id, viewer_id, lookup) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (live_id, viewer_id) DO UPDATE SET lookup = ?3",
            )?
            .execute(params![self.live_id, self.viewer.0, lookup.as_slice()])?;
        }
        Ok(())
    }

    /// Deletes the value and its seal (`secure_delete` zeroes the old
    /// cell; the hub checkpoints so the WAL lets go of it too).
    fn clear(&self, tx: &Transaction, field: ContactField) -> Result<(), StoreError> {
        let (value_col, purpose_col) = field.columns();
        let sql = format!(
            "UPDATE viewers SET {value_col} = NULL, {purpose_col} = NULL \
             WHERE live_id = ?1 AND viewer_id = ?2 AND {value_col} IS NOT NULL"
        );
        tx.prepare_cached(&sql)?
            .execute(params![self.live_id, self.viewer.0])?;
        Ok(())
    }
}

impl SqliteStore {
    /// The connection and the contact keys (refreshed), for the SMS
    /// tables ([`crate::sms::outbox`]).
    pub(crate) fn sms_parts(&mut self) -> Result<(&mut Connection, &ContactCipher), StoreError> {
        self.cipher.refresh()?;
        Ok((&mut self.conn, &self.cipher))
    }
}

impl Store for SqliteStore {
    fn rules(&mut self, live: &str) -> Result<Option<Vec<crate::protocol::RuleView>>, StoreError> {
        let live_id = self.live_id(live)?;
        super::rules::load_rules(&self.conn, live_id)
    }

    fn seed_rules(
        &mut self,
        live: &str,
        defaults: &[crate::protocol::RuleView],
    ) -> Result<(), StoreError> {
        let live_id = self.live_id(live)?;
        super::rules::seed_rules(&mut self.conn, live_id, defaults)
    }

    fn open_live(&mut self, live: &str) -> Result<LiveHead, StoreError> {
        if !self.lives.contains_key(live) {
            let tx = self.conn.transaction()?;
            let existing: Option<(i64, String, i64)> = tx
                .query_row(
                    "SELECT id, epoch, head FROM lives WHERE name = ?1",
                    [live],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (id, epoch, head) = if let Some(row) = existing {
                row
            } else {
                let mut raw = [0u8; 16];
                secret_file::os_random(&mut raw).map_err(key_error)?;
                let epoch = crate::hex(&raw);
                // Opened without `create_live` (`serve --live`, tests): a
                // live on air from now.
                tx.execute(
                    "INSERT INTO lives (name, epoch, head, created_at, state, started_at) \
                     VALUES (?1, ?2, 0, ?3, 'on_air', ?3)",
                    params![live, epoch, crate::now_millis()],
                )?;
                tracing::info!(live, "new live session in the store");
                (tx.last_insert_rowid(), epoch, 0)
            };
            let last_message_id: i64 = tx.query_row(
                "SELECT max(coalesce((SELECT max(id) FROM messages WHERE live_id = ?1), 0), \
                 coalesce((SELECT max(message_id) FROM tombstones WHERE live_id = ?1), 0), \
                 (SELECT swept_message_id FROM lives WHERE id = ?1))",
                [id],
                |r| r.get(0),
            )?;
            let (audit_index, audit_hash): (i64, String) = tx
                .query_row(
                    "SELECT idx, hash FROM audit WHERE live_id = ?1 ORDER BY idx DESC LIMIT 1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .map_or_else(
                    // A log pruned to nothing continues from its checkpoint.
                    || {
                        audit::read_checkpoint(&tx, id).map(|c| {
                            c.map_or((0, GENESIS_HASH.to_string()), |c| {
                                (sql_i64(c.index), c.hash)
                            })
                        })
                    },
                    Ok,
                )?;
            tx.commit()?;
            self.lives.insert(
                live.to_string(),
                LiveState {
                    id,
                    epoch: Epoch(epoch),
                    head: u64_from_sql(head),
                    last_message_id: u64_from_sql(last_message_id),
                    audit_index: u64_from_sql(audit_index),
                    audit_hash,
                },
            );
        }
        let s = self.live(live)?;
        Ok(LiveHead {
            epoch: s.epoch.clone(),
            head: s.head,
            last_message_id: s.last_message_id,
        })
    }

    fn commit(&mut self, live: &str, batch: &[Commit]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // Work on a copy: if the transaction fails, the cached head stays.
        let mut state = self.live(live)?.clone();
        let now = crate::now_millis();
        let prune = self.batches_since_prune + 1 >= PRUNE_EVERY_BATCHES;
        let tx = self.conn.transaction()?;
        let mut audit_head_read = false;
        for c in batch {
            if let Some(frame) = &c.frame {
                apply_event(&tx, live, &mut state, frame)?;
            }
            if let Some(entry) = &c.audit {
                append_audit(&tx, live, &mut state, entry, &mut audit_head_read)?;
            }
            for write in &c.games {
                apply_game(&tx, state.id, write)?;
            }
            if let Some(n) = &c.note {
                insert_note(&tx, state.id, n)?;
            }
            if let Some(o) = &c.outcome {
                let outcome = serde_json::to_string(&o.outcome).expect("outcomes serialise");
                let seq = match o.outcome {
                    CommandOutcome::Ack { seq } => seq.map(sql_i64),
                    CommandOutcome::Error { .. } => None,
                };
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO command_outcomes (live_id, principal, command_id, at, \
                     outcome, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    state.id,
                    o.principal,
                    o.id.0,
                    now,
                    outcome,
                    seq
                ])?;
            }
        }
        tx.prepare_cached("UPDATE lives SET head = ?2 WHERE id = ?1")?
            .execute(params![state.id, sql_i64(state.head)])?;
        if prune {
            tx.prepare_cached("DELETE FROM command_outcomes WHERE live_id = ?1 AND at < ?2")?
                .execute(params![state.id, now - OUTCOME_RETENTION_MS])?;
        }
        tx.commit()?;
        self.batches_since_prune = if prune {
            0
        } else {
            self.batches_since_prune + 1
        };
        self.lives.insert(live.to_string(), state);
        Ok(())
    }

    fn replay(
        &mut self,
        live: &str,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<EventFrame>, StoreError> {
        let s = self.live(live)?;
        let (live_id, epoch) = (s.id, s.epoch.clone());
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT e.seq, e.at, e.kind, e.payload, {MESSAGE_COLUMNS}, {TOMBSTONE_COLUMNS} \
             FROM events e \
             LEFT JOIN messages m ON m.live_id = e.live_id AND m.id = e.message_id \
             LEFT JOIN tombstones t ON t.live_id = e.live_id AND t.message_id = e.message_id \
             WHERE e.live_id = ?1 AND e.seq > ?2 ORDER BY e.seq LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![
                live_id,
                sql_i64(after),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| {
                let seq: i64 = r.get(0)?;
                let at: Millis = r.get(1)?;
                let kind: String = r.get(2)?;
                let event = if refers_to_message(&kind) {
                    let reference: MessageRef = json_at(r, 3)?;
                    let tombstone = read_tombstone(r, 4 + MESSAGE_COLUMN_COUNT)?;
                    message_event(&kind, reference, tombstone, read_message(r, 4)?).ok_or_else(
                        || conversion(3, format!("event {seq} refers to a missing message")),
                    )?
                } else {
                    json_at(r, 3)?
                };
                Ok(EventFrame {
                    epoch: epoch.clone(),
                    seq: u64_from_sql(seq),
                    at,
                    event,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn snapshot(&mut self, live: &str, recent: usize) -> Result<StoredSnapshot, StoreError> {
        let live_id = self.live_id(live)?;
        let pinned = self
            .conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM pins p JOIN messages m \
                 ON m.live_id = p.live_id AND m.id = p.message_id WHERE p.live_id = ?1"
            ))?
            .query_row([live_id], |r| read_message(r, 0))
            .optional()?
            .flatten();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = ?1 \
             AND m.question = 1 AND m.answered = 0 ORDER BY m.id LIMIT ?2"
        ))?;
        let open_questions = stmt
            .query_map(
                params![live_id, sql_len(SNAPSHOT_MAX_OPEN_QUESTIONS)],
                |r| read_message(r, 0),
            )?
            .filter_map(Result::transpose)
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        let mut recent = self.recent_entries(live_id, None, recent)?;
        recent.reverse();
        Ok(StoredSnapshot {
            pinned,
            open_questions,
            recent,
        })
    }

    fn working_set(&mut self, live: &str) -> Result<WorkingSet, StoreError> {
        let live_id = self.live_id(live)?;
        let read = |filter: &str| -> Result<Vec<ChatMessage>, StoreError> {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = ?1 \
                 AND {filter} ORDER BY m.id"
            ))?;
            let rows = stmt
                .query_map([live_id], |r| read_message(r, 0))?
                .filter_map(Result::transpose)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        };
        let open_questions = read("m.question = 1 AND m.answered = 0")?;
        // `visibility` is the JSON of `Visibility`, its tag first.
        let held = read("m.visibility LIKE '{\"state\":\"held\"%'")?;
        // Redacted messages count under the name their author joined with.
        let shared_names = self
            .conn
            .prepare_cached(
                "SELECT name FROM ( \
                   SELECT m.author_name AS name, m.viewer_id AS vid FROM messages m \
                   WHERE m.live_id = ?1 AND m.author_kind = 'viewer' \
                   UNION \
                   SELECT v.first_name, t.author_id FROM tombstones t \
                   JOIN viewers v ON v.live_id = t.live_id AND v.viewer_id = t.author_id \
                   WHERE t.live_id = ?1 \
                 ) GROUP BY name HAVING COUNT(DISTINCT vid) > 1 ORDER BY name",
            )?
            .query_map([live_id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut activity = self
            .conn
            .prepare_cached(
                "SELECT at, actor_name, actor_role, action, target, reason FROM audit \
                 WHERE live_id = ?1 ORDER BY idx DESC LIMIT ?2",
            )?
            .query_map(params![live_id, sql_len(RECENT_STAFF_ACTIONS)], |r| {
                Ok(AuditEntry {
                    at: r.get(0)?,
                    actor_name: r.get(1)?,
                    actor_role: role_at(r, 2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    reason: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        activity.reverse();
        // One row per viewer: a standing ban (no end) wins over timeouts,
        // else the latest end of a timeout.
        let sanctioned = self
            .conn
            .prepare_cached(
                "SELECT viewer_id, \
                   CASE WHEN SUM(kind = 'ban' AND until IS NULL) > 0 THEN NULL \
                        ELSE MAX(CASE WHEN kind = 'timeout' THEN until END) END \
                 FROM sanctions WHERE live_id = ?1 \
                   AND ((kind = 'ban' AND until IS NULL) OR kind = 'timeout') \
                 GROUP BY viewer_id ORDER BY viewer_id",
            )?
            .query_map([live_id], |r| {
                Ok(SanctionedViewer {
                    viewer_id: ViewerId(r.get(0)?),
                    until: r.get(1)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WorkingSet {
            open_questions,
            held,
            activity,
            shared_names,
            sanctioned,
        })
    }

    fn staff_log(
        &mut self,
        live: &str,
        query: &super::StaffLogQuery,
    ) -> Result<super::StaffLogPage, StoreError> {
        let live_id = self.live_id(live)?;
        let before = query.before.map_or(i64::MAX, sql_i64);
        let newest_first = self
            .conn
            .prepare_cached(
                "SELECT idx, at, actor_name, actor_role, action, target, reason FROM audit \
                 WHERE live_id = ?1 AND idx < ?2 AND (?3 IS NULL OR actor_name = ?3) \
                 AND (?4 IS NULL OR action = ?4) ORDER BY idx DESC LIMIT ?5",
            )?
            .query_map(
                params![
                    live_id,
                    before,
                    query.actor,
                    query.action,
                    sql_len(query.rows_to_read())
                ],
                |r| {
                    Ok((
                        u64_from_sql(r.get(0)?),
                        AuditEntry {
                            at: r.get(1)?,
                            actor_name: r.get(2)?,
                            actor_role: role_at(r, 3)?,
                            action: r.get(4)?,
                            target: r.get(5)?,
                            reason: r.get(6)?,
                        },
                    ))
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(query.page(newest_first))
    }

    fn history_search(
        &mut self,
        live: &str,
        query: &super::history::HistoryQuery,
    ) -> Result<super::history::HistoryPage, StoreError> {
        let live_id = self.live_id(live)?;
        let before = query.before.map_or(i64::MAX, |b| sql_i64(b.0));
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = ?1 AND m.id < ?2 \
             ORDER BY m.id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![live_id, before, sql_len(super::history::SCAN_ROWS)],
            |r| read_message(r, 0),
        )?;
        // Rows are read as the search goes, and no further than it needs.
        let mut failed = None;
        let scanned = rows
            .filter_map(Result::transpose)
            .map_while(|r| r.map_err(|e| failed = Some(e)).ok());
        let page = query.page(scanned);
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(page),
        }
    }

    fn message(&mut self, live: &str, id: MessageId) -> Result<Option<ChatEntry>, StoreError> {
        let live_id = self.live_id(live)?;
        let message = self
            .conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = ?1 AND m.id = ?2"
            ))?
            .query_row(params![live_id, sql_i64(id.0)], |r| read_message(r, 0))
            .optional()?
            .flatten();
        if let Some(m) = message {
            return Ok(Some(ChatEntry::Message(m)));
        }
        let tombstone = self
            .conn
            .prepare_cached(&format!(
                "SELECT {TOMBSTONE_COLUMNS} FROM tombstones t WHERE t.live_id = ?1 AND t.message_id = ?2"
            ))?
            .query_row(params![live_id, sql_i64(id.0)], |r| read_tombstone(r, 0))
            .optional()?
            .flatten();
        Ok(tombstone.map(ChatEntry::Redacted))
    }

    fn upsert_viewer(
        &mut self,
        live: &str,
        viewer: &ViewerRecord,
        contact: &Contact,
    ) -> Result<(), StoreError> {
        let live_id = self.live_id(live)?;
        let consents = if contact.is_empty() {
            Vec::new()
        } else {
            self.latest_consents(live_id, &viewer.id)?
        };
        let tx = sealing_transaction(&mut self.conn, &mut self.cipher, contact)?;
        tx.prepare_cached(
            "INSERT INTO viewers (live_id, viewer_id, first_name, pseudonym, first_seen, \
             last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (live_id, viewer_id) DO UPDATE SET \
             first_name = iif(first_name_rectified, first_name, excluded.first_name), \
             pseudonym = iif(pseudonym_rectified, pseudonym, excluded.pseudonym), \
             last_seen = max(last_seen, excluded.last_seen)",
        )?
        .execute(params![
            live_id,
            viewer.id.0,
            viewer.first_name,
            viewer.pseudonym,
            viewer.first_seen,
            viewer.last_seen,
        ])?;
        let row = ContactRow {
            cipher: &self.cipher,
            live,
            live_id,
            viewer: &viewer.id,
        };
        for field in ContactField::ALL {
            match FieldChange::of(field, contact) {
                FieldChange::Keep => {}
                FieldChange::Remove => row.clear(&tx, field)?,
                FieldChange::Set(value) => {
                    let collected_for = row.purpose(&tx, field)?;
                    match purpose_in_force(field, collected_for, &consents) {
                        Some(purpose) => row.set(&tx, field, value, purpose)?,
                        // No consent stands behind it: not stored, and
                        // nothing older is kept in its place either.
                        None => row.clear(&tx, field)?,
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn viewer(
        &mut self,
        live: &str,
        id: &ViewerId,
        now: Millis,
    ) -> Result<Option<StoredViewer>, StoreError> {
        let live_id = self.live_id(live)?;
        let Some(record) = self.viewer_record(live_id, id)? else {
            return Ok(None);
        };
        let (first_name, pseudonym): (bool, bool) = self
            .conn
            .prepare_cached(
                "SELECT first_name_rectified, pseudonym_rectified FROM viewers \
                 WHERE live_id = ?1 AND viewer_id = ?2",
            )?
            .query_row(params![live_id, id.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let corrected = NameCorrection {
            first_name: first_name.then(|| record.first_name.clone()),
            pseudonym: pseudonym.then(|| record.pseudonym.clone()),
        };
        Ok(Some(StoredViewer {
            record,
            sanctions: self.active_sanctions(live_id, id, now)?,
            corrected,
        }))
    }

    fn viewer_card(
        &mut self,
        live: &str,
        id: &ViewerId,
        with_contact: bool,
        now: Millis,
    ) -> Result<Option<ViewerCard>, StoreError> {
        let live_id = self.live_id(live)?;
        let Some(record) = self.viewer_record(live_id, id)? else {
            return Ok(None);
        };
        let contact = if with_contact {
            refresh_keys(&mut self.cipher);
            Some(self.masked_contact(live, live_id, id)?)
        } else {
            None
        };
        Ok(Some(ViewerCard {
            viewer_id: record.id,
            first_name: record.first_name,
            pseudonym: record.pseudonym,
            first_seen: record.first_seen,
            recent: self.recent_entries(live_id, Some(id), VIEWER_CARD_RECENT)?,
            sanctions: self.active_sanctions(live_id, id, now)?,
            contact,
            consents: self.latest_consents(live_id, id)?,
            notes: self.notes(live_id, id)?,
        }))
    }

    fn record_consent(
        &mut self,
        live: &str,
        viewer: &ViewerId,
        consent: &ConsentState,
        contact: &Contact,
    ) -> Result<(), StoreError> {
        let live_id = self.live_id(live)?;
        let tx = sealing_transaction(&mut self.conn, &mut self.cipher, contact)?;
        tx.prepare_cached(
            "INSERT INTO consents (live_id, viewer_id, purpose, granted, at, channel, \
             text_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            live_id,
            viewer.0,
            wire_name(&consent.purpose),
            consent.granted,
            consent.at,
            wire_name(&consent.channel),
            consent.text_sha256,
        ])?;
        let row = ContactRow {
            cipher: &self.cipher,
            live,
            live_id,
            viewer,
        };
        if !consent.granted && consent.purpose == ConsentPurpose::SmsReminders {
            // No alert is sent under a withdrawn consent, nor queued.
            crate::sms::outbox::forget(&tx, live_id, &viewer.0)?;
        }
        for field in ContactField::ALL {
            if !consent.granted {
                // Withdrawn: what was collected for this purpose goes with it.
                if row.purpose(&tx, field)? == Some(consent.purpose) {
                    row.clear(&tx, field)?;
                }
                continue;
            }
            match FieldChange::of(field, contact) {
                FieldChange::Remove => row.clear(&tx, field)?,
                FieldChange::Set(value) if field.serves(consent.purpose) => {
                    row.set(&tx, field, value, consent.purpose)?;
                }
                // Nothing given, or not what this consent is for (the hub
                // refuses that first): nothing is stored.
                FieldChange::Keep | FieldChange::Set(_) => {}
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn record_sms_subscription(
        &mut self,
        live: &str,
        viewer: &ViewerId,
        scope: crate::protocol::SmsScope,
        phone: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        let live_id = self.live_id(live)?;
        self.cipher.refresh()?;
        crate::sms::outbox::subscribe(&self.conn, &self.cipher, live_id, viewer, scope, phone, at)?;
        Ok(())
    }

    fn command_outcome(
        &mut self,
        live: &str,
        principal: &str,
        id: &CommandId,
    ) -> Result<Option<CommandOutcome>, StoreError> {
        let live_id = self.live_id(live)?;
        Ok(self
            .conn
            .prepare_cached(
                "SELECT outcome FROM command_outcomes \
                 WHERE live_id = ?1 AND principal = ?2 AND command_id = ?3",
            )?
            .query_row(params![live_id, principal, id.0], |r| json_at(r, 0))
            .optional()?)
    }

    fn shield_on(&mut self, live: &str) -> Result<bool, StoreError> {
        let live_id = self.live_id(live)?;
        let on: Option<bool> = self
            .conn
            .prepare_cached(
                "SELECT json_extract(payload, '$.on') FROM events \
                 WHERE live_id = ?1 AND kind = 'shield_changed' ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![live_id], |r| r.get(0))
            .optional()?;
        Ok(on.unwrap_or(false))
    }

    fn slow_mode(&mut self, live: &str) -> Result<Option<u32>, StoreError> {
        let live_id = self.live_id(live)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, json_extract(payload, '$.secs'), json_extract(payload, '$.on'), \
                    json_extract(payload, '$.slow_mode_secs') \
             FROM events WHERE live_id = ?1 AND kind IN ('slow_mode_changed', 'shield_changed') \
             ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![live_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<u32>>(1)?,
                r.get::<_, Option<bool>>(2)?,
                r.get::<_, Option<u32>>(3)?,
            ))
        })?;
        // A change while Shield is on is Shield's business: lifting it
        // restores the slow mode from before, which its event carries.
        let (mut shield, mut set) = (false, None);
        for row in rows {
            match row? {
                (kind, Some(secs), _, _) if kind == "slow_mode_changed" && !shield => {
                    set = Some(secs);
                }
                (kind, _, Some(on), restored) if kind == "shield_changed" => {
                    shield = on;
                    if !on {
                        set = restored.or(set);
                    }
                }
                _ => {}
            }
        }
        Ok(set)
    }

    fn delivery(
        &mut self,
        live: &str,
    ) -> Result<Option<crate::protocol::DeliveryPolicy>, StoreError> {
        let live_id = self.live_id(live)?;
        let policy: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT json_extract(payload, '$.policy') FROM events \
                 WHERE live_id = ?1 AND kind = 'delivery_changed' ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![live_id], |r| r.get(0))
            .optional()?;
        // A policy this build cannot read (or check) is the brand's default.
        Ok(policy
            .and_then(|p| serde_json::from_str::<crate::protocol::DeliveryPolicy>(&p).ok())
            .filter(|p| p.check().is_ok()))
    }

    fn showcase(&mut self, live: &str) -> Result<super::StoredShowcase, StoreError> {
        let live_id = self.live_id(live)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT payload FROM events WHERE live_id = ?1 \
             AND kind IN ('product_added', 'now_showing', 'canned_added') ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![live_id], |r| json_at::<Event>(r, 0))?;
        let mut out = super::StoredShowcase::default();
        for event in rows {
            match event? {
                Event::ProductAdded { product } => out.added.push(product),
                Event::NowShowing { product } => out.now_showing = product,
                Event::CannedAdded { canned } => out.canned.push(canned),
                _ => {}
            }
        }
        Ok(out)
    }

    fn erased(&mut self, live: &str, id: &ViewerId) -> Result<bool, StoreError> {
        let live_id = self.live_id(live)?;
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM erasures WHERE live_id = ?1 AND viewer_id = ?2")?
            .exists(params![live_id, id.0])?)
    }

    fn audit_log(&mut self, live: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let live_id = self.live_id(live)?;
        audit::read_records(&self.conn, live_id)
    }

    fn verify_audit_chain(&mut self, live: &str) -> Result<(), StoreError> {
        let checkpoint = self.verified_checkpoint(live)?;
        let records = self.audit_log(live)?;
        audit::verify_from(live, checkpoint.as_ref(), &records).map_err(|(record, why)| {
            StoreError::AuditChainBroken {
                live: live.to_string(),
                record,
                why,
            }
        })
    }

    fn checkpoint(&mut self) -> Result<(), StoreError> {
        let (busy, _log, _done): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        if busy != 0 {
            return Err(StoreError::CheckpointBusy);
        }
        Ok(())
    }

    fn sweep(
        &mut self,
        live: &str,
        policy: &RetentionPolicy,
        now: Millis,
    ) -> Result<SweepReport, StoreError> {
        let report = self.sweep_live(live, policy, now)?;
        if report.total() > 0 || self.sweep_checkpoint_due {
            // The deleted cells are zeroed (secure_delete); their old page
            // images leave the WAL here. Busy (a reader holds it): the next
            // sweep tries again.
            self.sweep_checkpoint_due = false;
            if let Err(e) = self.checkpoint() {
                self.sweep_checkpoint_due = true;
                tracing::warn!(error = %e, "checkpoint after a retention sweep failed");
            }
        }
        report.log();
        Ok(report)
    }

    fn live_info(&mut self, live: &str) -> Result<Option<LiveInfo>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {LIVE_INFO_COLUMNS} FROM lives WHERE name = ?1"),
                [live],
                read_live_info,
            )
            .optional()?)
    }

    fn presence(
        &mut self,
        live: &str,
        at: Millis,
        changes: &[(ViewerId, super::Presence)],
    ) -> Result<(), StoreError> {
        let live_id = self.live_id(live)?;
        let tx = self.conn.transaction()?;
        for (viewer, change) in changes {
            match change {
                super::Presence::Joined => {
                    super::report_source::joined(&tx, live_id, &viewer.0, at)?;
                }
                super::Presence::Left => super::report_source::left(&tx, live_id, &viewer.0, at)?,
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn report_source(
        &mut self,
        live: &str,
        now: Millis,
    ) -> Result<Option<crate::report::Source>, StoreError> {
        let Some(info) = self.live_info(live)? else {
            return Ok(None);
        };
        // Read-only: a live this store did not open (`regie report`) too.
        let live_id: i64 =
            self.conn
                .query_row("SELECT id FROM lives WHERE name = ?1", [live], |r| r.get(0))?;
        super::report_source::read(&self.conn, live_id, &info, now).map(Some)
    }

    fn sms_segments(
        &mut self,
        live: &str,
    ) -> Result<Vec<crate::protocol::SegmentCount>, StoreError> {
        let live_id = self.live_id(live)?;
        self.cipher.refresh()?;
        crate::sms::follow_up::segment_counts(&self.conn, &self.cipher, live_id, live)
            .map_err(outbox_error)
    }

    fn sms_follow_up(
        &mut self,
        live: &str,
        config: &crate::sms::SmsConfig,
        segment: crate::protocol::SmsSegment,
        confirmed: u64,
        now: Millis,
    ) -> Result<crate::sms::follow_up::FollowUpOutcome, StoreError> {
        self.cipher.refresh()?;
        crate::sms::follow_up::enqueue(
            &mut self.conn,
            &self.cipher,
            config,
            live,
            segment,
            confirmed,
            now,
        )
        .map_err(outbox_error)
    }

    fn sms_progress(
        &mut self,
        live: &str,
        now: Millis,
    ) -> Result<crate::protocol::SmsProgress, StoreError> {
        let live_id = self.live_id(live)?;
        Ok(crate::protocol::SmsProgress {
            alert: crate::sms::outbox::progress(&self.conn, live)?,
            follow_up: crate::sms::outbox::follow_up_progress(&self.conn, live_id, now)?,
        })
    }

    fn lives(&mut self) -> Result<Vec<LiveInfo>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {LIVE_INFO_COLUMNS} FROM lives ORDER BY id"
        ))?;
        let lives = stmt.query_map([], read_live_info)?;
        Ok(lives.collect::<Result<_, _>>()?)
    }

    fn create_live(&mut self, info: &LiveInfo, now: Millis) -> Result<(), StoreError> {
        let mut raw = [0u8; 16];
        secret_file::os_random(&mut raw).map_err(key_error)?;
        let epoch = crate::hex(&raw);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM lives WHERE name = ?1)",
            [&info.name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(StoreError::LiveExists(info.name.clone()));
        }
        tx.execute(
            "INSERT INTO lives (name, epoch, head, created_at, title, starts_at, state, \
             started_at, ended_at) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                info.name,
                epoch,
                now,
                info.title,
                info.starts_at,
                info.state.as_str(),
                info.started_at,
                info.ended_at
            ],
        )?;
        tx.commit()?;
        tracing::info!(live = %info.name, state = %info.state, "new live in the store");
        Ok(())
    }

    fn games(&mut self, live: &str) -> Result<StoredGames, StoreError> {
        let live_id = self.live_id(live)?;
        let mut games = StoredGames::default();
        {
            let mut polls = self.conn.prepare_cached(
                "SELECT id, view, closed_at, json_extract(view, '$.cleared_at') FROM polls \
                 WHERE live_id = ?1 ORDER BY id",
            )?;
            let mut votes = self.conn.prepare_cached(
                "SELECT viewer_id, option FROM votes WHERE live_id = ?1 AND poll_id = ?2",
            )?;
            let rows = polls
                .query_map(params![live_id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        json_at::<crate::protocol::PollView>(r, 1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (id, poll, closed_at, cleared_at) in rows {
                let votes = votes
                    .query_map(params![live_id, id], |r| {
                        Ok((
                            ViewerId(r.get(0)?),
                            usize::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                        ))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                games.polls.push(StoredPoll {
                    poll,
                    votes,
                    closed_at,
                    cleared_at,
                });
            }
        }
        let mut draws = self.conn.prepare_cached(
            "SELECT id, view, seed, record, winners, drawn_at FROM instant_wins \
             WHERE live_id = ?1 ORDER BY id",
        )?;
        let mut entries = self.conn.prepare_cached(
            "SELECT e.viewer_id, COALESCE(v.first_name, ''), COALESCE(v.pseudonym, '') \
             FROM entries e \
             LEFT JOIN viewers v ON v.live_id = e.live_id AND v.viewer_id = e.viewer_id \
             WHERE e.live_id = ?1 AND e.draw_id = ?2 ORDER BY e.viewer_id",
        )?;
        let rows = draws
            .query_map(params![live_id], |r| {
                let result = match r.get::<_, Option<String>>(3)? {
                    None => None,
                    Some(_) => Some(StoredResult {
                        record: json_at(r, 3)?,
                        winners: json_at(r, 4)?,
                        drawn_at: r.get::<_, Option<i64>>(5)?.unwrap_or(0),
                    }),
                };
                Ok((
                    r.get::<_, i64>(0)?,
                    json_at::<crate::protocol::DrawView>(r, 1)?,
                    r.get::<_, String>(2)?,
                    result,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (id, draw, seed_hex, result) in rows {
            let entrants = entries
                .query_map(params![live_id, id], |r| {
                    Ok((ViewerId(r.get(0)?), r.get::<_, String>(1)?, r.get(2)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            games.draws.push(StoredDraw {
                draw,
                seed_hex,
                entrants,
                result,
            });
        }
        Ok(games)
    }
    fn viewer_export(
        &mut self,
        live: &str,
        id: &ViewerId,
    ) -> Result<Option<crate::privacy::export::ViewerExport>, StoreError> {
        SqliteStore::export_viewer(self, live, id)
    }

    fn open_requests(&mut self) -> Result<Vec<super::requests::PrivacyRequest>, StoreError> {
        super::requests::open_requests(&mut super::requests::SqliteRequests(&self.conn))
    }

    fn add_privacy_request(
        &mut self,
        kind: super::requests::RequestKind,
        subject: &str,
        received_at: Millis,
    ) -> Result<bool, StoreError> {
        super::requests::log_viewer_request(
            &mut super::requests::SqliteRequests(&self.conn),
            kind,
            subject,
            received_at,
        )
    }
}

// ── retention sweep ─────────────────────────────────────────────────────
// What `store::retention` deletes, and how. Kept in one block: the other
// store code only reads `lives.swept_message_id` and the audit checkpoint.

/// Rows a statement deleted or changed, as a count.
fn rows(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Chat past `chat`: the text, its tombstone and pin, and the log's events
/// of it; the highest id swept is remembered so it is never reused.
fn sweep_chat(
    tx: &Transaction,
    live_id: i64,
    chat: Millis,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE lives SET swept_message_id = max(swept_message_id, \
         coalesce((SELECT max(id) FROM messages WHERE live_id = ?1 AND at < ?2), 0), \
         coalesce((SELECT max(message_id) FROM tombstones WHERE live_id = ?1 AND posted_at < ?2), 0)) \
         WHERE id = ?1",
        params![live_id, chat],
    )?;
    tx.execute(
        "DELETE FROM pins WHERE live_id = ?1 AND message_id IN \
         (SELECT id FROM messages WHERE live_id = ?1 AND at < ?2)",
        params![live_id, chat],
    )?;
    tx.execute(
        "DELETE FROM answer_also WHERE live_id = ?1 AND answer_id IN \
         (SELECT id FROM messages WHERE live_id = ?1 AND at < ?2)",
        params![live_id, chat],
    )?;
    report.messages = rows(tx.execute(
        "DELETE FROM messages WHERE live_id = ?1 AND at < ?2",
        params![live_id, chat],
    )?);
    report.tombstones = rows(tx.execute(
        "DELETE FROM tombstones WHERE live_id = ?1 AND posted_at < ?2",
        params![live_id, chat],
    )?);
    // Older events go; so does a younger event that carried a message
    // now gone (a release), which replay could not serve.
    report.events = rows(tx.execute(
        "DELETE FROM events WHERE live_id = ?1 AND (at < ?2 OR (kind IN ('message', 'released') \
         AND message_id IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.live_id = ?1 AND m.id = events.message_id) \
         AND NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.live_id = ?1 AND t.message_id = events.message_id)))",
        params![live_id, chat],
    )?);
    Ok(())
}

/// Where the chat clock of a live stands: its period runs from the live's
/// end, so a live still scheduled or on air keeps its chat, and an ended
/// one loses what is older than `cutoff` once it ended before `cutoff`
/// (a message's age counts from the later of its time and the end).
fn chat_cutoff(tx: &Transaction, live_id: i64, cutoff: Millis) -> Result<Millis, StoreError> {
    let ended_at: Option<Millis> = tx.query_row(
        "SELECT CASE WHEN state = 'ended' THEN ended_at END FROM lives WHERE id = ?1",
        [live_id],
        |r| r.get(0),
    )?;
    Ok(if ended_at.is_some_and(|end| end < cutoff) {
        cutoff
    } else {
        Millis::MIN
    })
}

/// Audit records older than `before`, as a prefix of the chain (up to the
/// first record young enough), behind a checkpoint signed with `key`.
fn prune_audit(
    tx: &Transaction,
    live: &str,
    live_id: i64,
    before: Millis,
    key: &[u8],
) -> Result<u64, StoreError> {
    let last_pruned: Option<(i64, String)> = tx
        .query_row(
            "SELECT idx, hash FROM audit WHERE live_id = ?1 AND idx < coalesce( \
             (SELECT min(idx) FROM audit WHERE live_id = ?1 AND at >= ?2), ?3) \
             ORDER BY idx DESC LIMIT 1",
            params![live_id, before, i64::MAX],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((index, hash)) = last_pruned {
        let checkpoint = audit::Checkpoint::sign(key, live, u64_from_sql(index), &hash);
        tx.execute(
            "INSERT INTO audit_checkpoints (live_id, idx, hash, mac) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (live_id) DO UPDATE SET idx = ?2, hash = ?3, mac = ?4",
            params![live_id, index, checkpoint.hash, checkpoint.mac],
        )?;
        return Ok(rows(tx.execute(
            "DELETE FROM audit WHERE live_id = ?1 AND idx <= ?2",
            params![live_id, index],
        )?));
    }
    Ok(0)
}

impl SqliteStore {
    /// The names of the lives stored, for a sweep of the whole data dir.
    pub fn live_names(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT name FROM lives ORDER BY id")?;
        let names = stmt.query_map([], |r| r.get(0))?;
        Ok(names.collect::<Result<_, _>>()?)
    }

    /// The key that signs audit checkpoints, made on first use.
    fn audit_key(
        &self,
        create: bool,
    ) -> Result<zeroize::Zeroizing<[u8; secret_file::SECRET_LEN]>, StoreError> {
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        let path = dir.join(audit::AUDIT_KEY_FILE);
        let key = if create {
            secret_file::load_or_create(&path)
        } else {
            secret_file::load(&path)
        };
        key.map(zeroize::Zeroizing::new).map_err(key_error)
    }

    /// Deletes, in one transaction, what `policy` no longer keeps at `now`.
    fn sweep_live(
        &mut self,
        live: &str,
        policy: &RetentionPolicy,
        now: Millis,
    ) -> Result<SweepReport, StoreError> {
        let live_id = self.live_id(live)?;
        let audit_key = self.audit_key(true)?;
        let mut report = SweepReport::default();
        let tx = self.conn.transaction()?;

        let chat = chat_cutoff(&tx, live_id, cutoff(now, policy.chat))?;
        if chat > Millis::MIN
            && let Some(info) = tx
                .query_row(
                    &format!("SELECT {LIVE_INFO_COLUMNS} FROM lives WHERE id = ?1"),
                    [live_id],
                    read_live_info,
                )
                .optional()?
        {
            report.presence = super::report_source::sweep(&tx, live_id, &info, now)?;
        }
        sweep_chat(&tx, live_id, chat, &mut report)?;

        // Contact data, by the purpose it was collected for: every purpose
        // a field serves.
        for purpose in ConsentPurpose::ALL {
            let before = cutoff(now, policy.contact(purpose));
            let name = wire_name(&purpose);
            for field in ContactField::ALL.into_iter().filter(|f| f.serves(purpose)) {
                let (value, seal_purpose) = field.columns();
                report.contact_values += rows(tx.execute(
                    &format!(
                        "UPDATE viewers SET {value} = NULL, {seal_purpose} = NULL \
                         WHERE live_id = ?1 AND {seal_purpose} = ?2 AND last_seen < ?3 \
                         AND {value} IS NOT NULL"
                    ),
                    params![live_id, name, before],
                )?);
            }
        }

        // Consents: history goes, the grant in force stays (it is the
        // proof for what is still held).
        report.consents = rows(tx.execute(
            "DELETE FROM consents WHERE live_id = ?1 AND at < ?2 AND NOT (granted = 1 AND id = \
             (SELECT max(l.id) FROM consents l WHERE l.live_id = consents.live_id \
              AND l.viewer_id = consents.viewer_id AND l.purpose = consents.purpose))",
            params![live_id, cutoff(now, policy.consents)],
        )?);

        report.moderation_notes = rows(tx.execute(
            "DELETE FROM sanctions WHERE live_id = ?1 AND coalesce(until, at) < ?2",
            params![live_id, cutoff(now, policy.moderation_notes)],
        )?) + rows(tx.execute(
            "DELETE FROM mod_notes WHERE live_id = ?1 AND at < ?2",
            params![live_id, cutoff(now, policy.moderation_notes)],
        )?);
        report.command_outcomes = rows(tx.execute(
            "DELETE FROM command_outcomes WHERE live_id = ?1 AND at < ?2",
            params![live_id, cutoff(now, policy.command_outcomes)],
        )?);

        let draws = cutoff(now, policy.draws);
        tx.execute(
            "DELETE FROM entries WHERE live_id = ?1 AND draw_id IN \
             (SELECT id FROM instant_wins WHERE live_id = ?1 AND drawn_at < ?2)",
            params![live_id, draws],
        )?;
        report.draws = rows(tx.execute(
            "DELETE FROM instant_wins WHERE live_id = ?1 AND drawn_at < ?2",
            params![live_id, draws],
        )?);
        tx.execute(
            "DELETE FROM votes WHERE live_id = ?1 AND poll_id IN \
             (SELECT id FROM polls WHERE live_id = ?1 AND closed_at < ?2)",
            params![live_id, draws],
        )?;
        report.draws += rows(tx.execute(
            "DELETE FROM polls WHERE live_id = ?1 AND closed_at < ?2",
            params![live_id, draws],
        )?);

        // Last, once the rest has gone: a profile with nothing left to
        // describe, not seen for a chat period. A name is not kept for its
        // own sake (the register's "as long as anything else is kept").
        report.viewers = rows(tx.execute(
            "DELETE FROM viewers WHERE live_id = ?1 AND last_seen < ?2 \
             AND phone_sealed IS NULL AND email_sealed IS NULL \
             AND NOT EXISTS (SELECT 1 FROM messages x \
                 WHERE x.live_id = viewers.live_id AND x.viewer_id = viewers.viewer_id) \
             AND NOT EXISTS (SELECT 1 FROM tombstones x \
                 WHERE x.live_id = viewers.live_id AND x.author_id = viewers.viewer_id) \
             AND NOT EXISTS (SELECT 1 FROM consents x \
                 WHERE x.live_id = viewers.live_id AND x.viewer_id = viewers.viewer_id) \
             AND NOT EXISTS (SELECT 1 FROM sanctions x \
                 WHERE x.live_id = viewers.live_id AND x.viewer_id = viewers.viewer_id) \
             AND NOT EXISTS (SELECT 1 FROM votes x \
                 WHERE x.live_id = viewers.live_id AND x.viewer_id = viewers.viewer_id) \
             AND NOT EXISTS (SELECT 1 FROM entries x \
                 WHERE x.live_id = viewers.live_id AND x.viewer_id = viewers.viewer_id)",
            params![live_id, cutoff(now, policy.chat)],
        )?);

        report.audit_records = prune_audit(
            &tx,
            live,
            live_id,
            cutoff(now, policy.audit),
            &audit_key[..],
        )?;
        tx.commit()?;
        Ok(report)
    }

    /// The live's audit checkpoint, its signature checked.
    fn verified_checkpoint(&mut self, live: &str) -> Result<Option<audit::Checkpoint>, StoreError> {
        let live_id = self.live_id(live)?;
        let Some(checkpoint) = audit::read_checkpoint(&self.conn, live_id)? else {
            return Ok(None);
        };
        let broken = |(record, why)| StoreError::AuditChainBroken {
            live: live.to_string(),
            record,
            why,
        };
        let key = self.audit_key(false).map_err(|e| {
            broken((
                checkpoint.index,
                format!("the audit key that signs the retention checkpoint cannot be read: {e}"),
            ))
        })?;
        checkpoint.verify(&*key, live).map_err(broken)?;
        Ok(Some(checkpoint))
    }
}

// ── rights requests: export, consent texts (issue 9) ────────────────────

impl SqliteStore {
    /// Registers a consent text the brand shows viewers, and returns its
    /// hex SHA-256: the hash a `consent` command names. Registering the
    /// same text again keeps its first date.
    pub fn register_consent_text(&mut self, text: &str) -> Result<String, StoreError> {
        let sha = crate::hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
        self.conn.execute(
            "INSERT INTO consent_texts (sha256, text, first_seen) VALUES (?1, ?2, ?3) \
             ON CONFLICT (sha256) DO NOTHING",
            params![sha, text, crate::now_millis()],
        )?;
        Ok(sha)
    }

    /// The hashes of every text in the consent-text registry: what a
    /// `consent` may name (see [`crate::hub::consent_texts`]).
    pub fn consent_text_hashes(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .conn
            .prepare("SELECT sha256 FROM consent_texts ORDER BY first_seen")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// One viewer's rows of a query taking `?1` = live id, `?2` = viewer id.
    fn viewer_rows<T>(
        &self,
        sql: &str,
        live_id: i64,
        id: &ViewerId,
        read: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        Ok(self
            .conn
            .prepare(sql)?
            .query_map(params![live_id, id.0], read)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The profile, contact data opened.
    fn export_profile(
        &self,
        live: &str,
        live_id: i64,
        record: ViewerRecord,
    ) -> Result<crate::privacy::export::ExportedProfile, StoreError> {
        type Stored = (
            Option<Vec<u8>>,
            Option<String>,
            Option<Vec<u8>>,
            Option<String>,
        );
        let id = &record.id;
        let (phone, phone_purpose, email, email_purpose): Stored = self.conn.query_row(
            "SELECT phone_sealed, phone_purpose, email_sealed, email_purpose FROM viewers \
             WHERE live_id = ?1 AND viewer_id = ?2",
            params![live_id, id.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let open = |field, sealed: Option<Vec<u8>>| -> Result<Option<String>, StoreError> {
            sealed
                .map(|s| self.cipher.open(live, &id.0, field, &s))
                .transpose()
                .map_err(StoreError::from)
        };
        Ok(crate::privacy::export::ExportedProfile {
            viewer_id: id.0.clone(),
            phone: open(ContactField::Phone, phone)?,
            phone_purpose,
            email: open(ContactField::Email, email)?,
            email_purpose,
            first_name: record.first_name,
            pseudonym: record.pseudonym,
            first_seen: record.first_seen,
            last_seen: record.last_seen,
        })
    }

    /// The viewer's votes and draw entries, and the sanctions against them.
    #[expect(clippy::type_complexity, reason = "three lists of the export, once")]
    fn export_games_and_sanctions(
        &self,
        live_id: i64,
        id: &ViewerId,
    ) -> Result<
        (
            Vec<crate::privacy::export::ExportedVote>,
            Vec<crate::privacy::export::ExportedEntry>,
            Vec<crate::privacy::export::ExportedSanction>,
        ),
        StoreError,
    > {
        use crate::privacy::export::{ExportedEntry, ExportedSanction, ExportedVote};
        let votes = self.viewer_rows(
            "SELECT v.poll_id, v.option, p.view FROM votes v \
             JOIN polls p ON p.live_id = v.live_id AND p.id = v.poll_id \
             WHERE v.live_id = ?1 AND v.viewer_id = ?2 ORDER BY v.poll_id",
            live_id,
            id,
            |r| {
                Ok(ExportedVote {
                    poll_id: u64_from_sql(r.get(0)?),
                    option: u64_from_sql(r.get(1)?),
                    poll: crate::privacy::export::without_staff(json_at(r, 2)?),
                })
            },
        )?;
        let entries = self.viewer_rows(
            "SELECT e.draw_id, w.view FROM entries e \
             JOIN instant_wins w ON w.live_id = e.live_id AND w.id = e.draw_id \
             WHERE e.live_id = ?1 AND e.viewer_id = ?2 ORDER BY e.draw_id",
            live_id,
            id,
            |r| {
                Ok(ExportedEntry {
                    draw_id: u64_from_sql(r.get(0)?),
                    draw: crate::privacy::export::without_staff(json_at(r, 1)?),
                })
            },
        )?;
        let sanctions = self.viewer_rows(
            "SELECT kind, until, reason, at, by_role FROM sanctions \
             WHERE live_id = ?1 AND viewer_id = ?2 ORDER BY id",
            live_id,
            id,
            |r| {
                Ok(ExportedSanction {
                    kind: r.get(0)?,
                    until: r.get(1)?,
                    reason: r.get(2)?,
                    at: r.get(3)?,
                    by_role: r.get(4)?,
                })
            },
        )?;
        Ok((votes, entries, sanctions))
    }

    /// Everything held about one viewer of `live` (see
    /// [`crate::privacy::export`]); `None` when the live holds no such
    /// viewer. Contact data is opened: the document is for the viewer.
    pub fn export_viewer(
        &mut self,
        live: &str,
        id: &ViewerId,
    ) -> Result<Option<crate::privacy::export::ViewerExport>, StoreError> {
        use crate::privacy::export::{
            EXPORT_FORMAT, ExportedConsent, ExportedMessage, ExportedRedaction, ExportedReply,
            ViewerExport,
        };
        let live_id = self.live_id(live)?;
        let Some(record) = self.viewer_record(live_id, id)? else {
            return Ok(None);
        };
        let profile = self.export_profile(live, live_id, record)?;
        let consents = self.viewer_rows(
            "SELECT c.purpose, c.granted, c.at, c.channel, c.text_sha256, t.text \
             FROM consents c LEFT JOIN consent_texts t ON t.sha256 = c.text_sha256 \
             WHERE c.live_id = ?1 AND c.viewer_id = ?2 ORDER BY c.id",
            live_id,
            id,
            |r| {
                Ok(ExportedConsent {
                    purpose: r.get(0)?,
                    granted: r.get(1)?,
                    at: r.get(2)?,
                    channel: r.get(3)?,
                    text_sha256: r.get(4)?,
                    text: r.get(5)?,
                })
            },
        )?;
        let messages = self.viewer_rows(
            "SELECT id, at, text, question, answered, visibility FROM messages \
             WHERE live_id = ?1 AND viewer_id = ?2 ORDER BY id",
            live_id,
            id,
            |r| {
                let visibility =
                    crate::privacy::export::visibility_name(&json_at::<Visibility>(r, 5)?);
                Ok(ExportedMessage {
                    id: u64_from_sql(r.get(0)?),
                    at: r.get(1)?,
                    text: r.get(2)?,
                    question: r.get(3)?,
                    answered: r.get(4)?,
                    visibility: visibility.to_owned(),
                })
            },
        )?;
        let redacted = self.viewer_rows(
            "SELECT message_id, posted_at, redacted_at, reason FROM tombstones \
             WHERE live_id = ?1 AND author_id = ?2 ORDER BY message_id",
            live_id,
            id,
            |r| {
                Ok(ExportedRedaction {
                    message_id: u64_from_sql(r.get(0)?),
                    posted_at: r.get(1)?,
                    redacted_at: r.get(2)?,
                    reason: r.get(3)?,
                })
            },
        )?;
        // Answers to any message of theirs, redacted ones included.
        let replies = self.viewer_rows(
            "SELECT a.id, a.reply_to_id, a.at, a.author_role, a.text FROM messages a \
             WHERE a.live_id = ?1 AND a.author_kind = 'staff' AND a.reply_to_id IN ( \
               SELECT id FROM messages WHERE live_id = ?1 AND viewer_id = ?2 \
               UNION SELECT message_id FROM tombstones WHERE live_id = ?1 AND author_id = ?2) \
             UNION SELECT a.id, x.message_id, a.at, a.author_role, a.text \
             FROM answer_also x JOIN messages a ON a.live_id = x.live_id AND a.id = x.answer_id \
             WHERE x.live_id = ?1 AND x.message_id IN ( \
               SELECT id FROM messages WHERE live_id = ?1 AND viewer_id = ?2 \
               UNION SELECT message_id FROM tombstones WHERE live_id = ?1 AND author_id = ?2) \
             ORDER BY 1",
            live_id,
            id,
            |r| {
                Ok(ExportedReply {
                    id: u64_from_sql(r.get(0)?),
                    reply_to_id: u64_from_sql(r.get(1)?),
                    at: r.get(2)?,
                    by_role: r.get(3)?,
                    text: r.get(4)?,
                })
            },
        )?;
        let (votes, entries, sanctions) = self.export_games_and_sanctions(live_id, id)?;
        Ok(Some(ViewerExport {
            format: EXPORT_FORMAT,
            live: live.to_owned(),
            exported_at: crate::now_millis(),
            profile,
            consents,
            messages,
            redacted,
            replies,
            votes,
            entries,
            sanctions,
            notes: self.export_notes(live_id, id)?,
        }))
    }
}

/// Rectification (Art. 16): the viewer's row, their lines, the answers
/// addressed to them, and the names earlier rectification events carried,
/// so no older value stays behind in the file (`secure_delete` zeroes the
/// old cells; the hub checkpoints after, as after a redaction).
fn rectify(
    tx: &Transaction,
    live_id: i64,
    viewer: &ViewerId,
    first_name: Option<&str>,
    pseudonym: Option<&str>,
) -> Result<(), StoreError> {
    // A corrected field is staff-owned from now on (see `upsert_viewer`).
    tx.prepare_cached(
        "UPDATE viewers SET first_name = coalesce(?3, first_name), \
         pseudonym = coalesce(?4, pseudonym), \
         first_name_rectified = first_name_rectified OR ?3 IS NOT NULL, \
         pseudonym_rectified = pseudonym_rectified OR ?4 IS NOT NULL \
         WHERE live_id = ?1 AND viewer_id = ?2",
    )?
    .execute(params![live_id, viewer.0, first_name, pseudonym])?;
    tx.prepare_cached(
        "UPDATE messages SET author_name = coalesce(?3, author_name), \
         author_pseudonym = coalesce(?4, author_pseudonym) \
         WHERE live_id = ?1 AND viewer_id = ?2",
    )?
    .execute(params![live_id, viewer.0, first_name, pseudonym])?;
    if let Some(first_name) = first_name {
        tx.prepare_cached(
            "UPDATE messages SET reply_to_name = ?3 WHERE live_id = ?1 AND reply_to_id IN ( \
               SELECT id FROM messages WHERE live_id = ?1 AND viewer_id = ?2 \
               UNION SELECT message_id FROM tombstones WHERE live_id = ?1 AND author_id = ?2)",
        )?
        .execute(params![live_id, viewer.0, first_name])?;
        tx.prepare_cached(
            "UPDATE answer_also SET first_name = ?3 WHERE live_id = ?1 AND message_id IN ( \
               SELECT id FROM messages WHERE live_id = ?1 AND viewer_id = ?2 \
               UNION SELECT message_id FROM tombstones WHERE live_id = ?1 AND author_id = ?2)",
        )?
        .execute(params![live_id, viewer.0, first_name])?;
    }
    for (field, value) in [("$.first_name", first_name), ("$.pseudonym", pseudonym)] {
        let Some(value) = value else { continue };
        tx.prepare_cached(
            "UPDATE events SET payload = json_set(payload, ?3, ?4) \
             WHERE live_id = ?1 AND kind = 'viewer_rectified' \
             AND json_extract(payload, '$.viewer_id') = ?2 \
             AND json_extract(payload, ?3) IS NOT NULL",
        )?
        .execute(params![live_id, viewer.0, field, value])?;
    }
    rename_winner(tx, live_id, viewer, first_name, pseudonym)
}

/// The names a drawn or re-drawn instant win announced for `viewer`: in
/// the draw row (winners, and a re-draw's kept and excluded in its view)
/// and in the `instant_win_opened` / `instant_win_drawn` events a late
/// console replays. The published record and its commitment name ids
/// only, so they stay as they are and still verify.
fn rename_winner(
    tx: &Transaction,
    live_id: i64,
    viewer: &ViewerId,
    first_name: Option<&str>,
    pseudonym: Option<&str>,
) -> Result<(), StoreError> {
    let rename = |text: &str, what: &str| -> Result<Option<String>, StoreError> {
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
        Ok(
            super::games::rename_in_json(&mut value, viewer, first_name, pseudonym)
                .then(|| value.to_string()),
        )
    };
    let pattern = format!("%\"{}\"%", viewer.0);
    for column in ["winners", "view"] {
        let rows: Vec<(i64, String)> = tx
            .prepare(&format!(
                "SELECT id, {column} FROM instant_wins WHERE live_id = ?1 AND {column} LIKE ?2"
            ))?
            .query_map(params![live_id, pattern], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (id, text) in rows {
            if let Some(renamed) = rename(&text, &format!("draw {id} {column}"))? {
                tx.execute(
                    &format!(
                        "UPDATE instant_wins SET {column} = ?3 WHERE live_id = ?1 AND id = ?2"
                    ),
                    params![live_id, id, renamed],
                )?;
            }
        }
    }
    let events: Vec<(i64, String)> = tx
        .prepare(
            "SELECT seq, payload FROM events WHERE live_id = ?1 \
             AND kind IN ('instant_win_opened', 'instant_win_drawn') AND payload LIKE ?2",
        )?
        .query_map(params![live_id, pattern], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (seq, payload) in events {
        if let Some(renamed) = rename(&payload, &format!("event {seq}"))? {
            tx.execute(
                "UPDATE events SET payload = ?3 WHERE live_id = ?1 AND seq = ?2",
                params![live_id, seq, renamed],
            )?;
        }
    }
    Ok(())
}

// ── the requests log (issue 9; see super::requests) ─────────────────────

impl SqliteStore {
    /// Whether the store holds a live of this name (without creating it,
    /// as [`Store::open_live`] would).
    pub fn has_live(&self, live: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM lives WHERE name = ?1", [live], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The log itself, for [`super::requests`]'s rules.
    pub fn requests_log(&self) -> impl super::requests::RequestsTable + '_ {
        super::requests::SqliteRequests(&self.conn)
    }
}
