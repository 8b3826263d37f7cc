//! The PostgreSQL store: the source of truth when a show outgrows one box.
//!
//! # Why the `postgres` crate
//!
//! [`Store`] is synchronous (`&mut self`) and each live's actor owns its
//! store: one owner, one batch at a time. The synchronous `postgres` client
//! (a thin blocking wrapper over `tokio-postgres`, on a private
//! current-thread runtime) fits that as it is: one connection per store, no
//! pool (a store never runs two statements at once, so a pool would only
//! hold idle connections), no `block_on` glue in every method. `sqlx` would
//! bring an async pool, its macros and a second SQL layer for nothing the
//! trait can use. The price: a `postgres::Client` must not be driven from a
//! tokio worker thread, so the hub calls this store through
//! `block_in_place` (or from a thread of its own), as it already does for
//! SQLite checkpoints.
//!
//! # Any node can write
//!
//! The hub numbers events; the store checks them. A commit locks the live's
//! counter row (`SELECT head FROM lives ... FOR UPDATE`), checks that the
//! batch follows that head — the one in the database, not a cached one — and
//! moves it in the same transaction as the events. Two nodes writing one live
//! queue on that row lock; the one whose numbering went stale gets
//! [`StoreError::SeqGap`] and nothing of its batch is written. Audit records
//! chain under the same lock.
//!
//! # Redaction and erasure purge the row — and what MVCC leaves behind
//!
//! A `DELETE` in PostgreSQL only marks the tuple dead: the bytes stay in the
//! table's file until the space is reused. Plain `VACUUM` prunes dead tuples
//! and compacts each page, but does not zero the freed space: a dead tuple
//! that sat at the low end of a page's tuple area stays readable in the
//! page's hole (measured: see `docs/privacy.md`). TOAST'ed values (over
//! ~2 kB) live in the table's TOAST relation, with the same behaviour. So
//! after a batch that redacted or erased, [`Store::checkpoint`] (which the
//! hub calls right after such a batch) runs `VACUUM FULL` on the tables that
//! held the deleted data: it rewrites them (and their TOAST) into new files
//! and truncates the old ones at once; then `CHECKPOINT`, so the write-ahead
//! log segments holding the old text can be recycled. What remains, said in
//! `docs/privacy.md`: WAL segments until they are overwritten, and anything
//! outside this server (replicas, WAL archives, base backups).
//!
//! `VACUUM FULL` takes an exclusive lock on each table it rewrites, for a
//! time proportional to the table's size; the figures are in the issue
//! notes (`tests/store_postgres.rs` measures nothing; `benches/store.rs`
//! does).
//!
//! # Not kept here (yet)
//!
//! Reports, presence and SMS: their
//! methods and events are refused with [`StoreError::Unsupported`] (or keep
//! the trait's defaults where those say "nothing stored"), never silently
//! dropped. A contact-key rotation re-seals here too
//! ([`PostgresStore::reseal_contact`]), with keys given by the environment.

mod checkpoints;
mod export;
mod games;
mod lives;
mod log_state;
mod requests;
mod retention;
mod rotation;
mod rules;
mod schema;
mod staff;

pub use rotation::Resealed;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Statement};

use super::audit::{self, AuditEntry, AuditRecord, GENESIS_HASH};
use super::contact::{ContactCipher, ContactField, FieldChange, KeySource, purpose_in_force};
use super::rows::{
    MessageRef, log_payload, message_event, parse_wire_name, refers_to_message, sql_i64, sql_len,
    u64_from_sql, wire_name,
};
use super::sqlite::{OUTCOME_RETENTION_MS, SNAPSHOT_MAX_OPEN_QUESTIONS};
use super::{
    CommandOutcome, Commit, GameNews, GamesCursor, LiveHead, NoteWrite, RECENT_STAFF_ACTIONS,
    Store, StoreError, StoredGames, StoredSnapshot, StoredViewer, VIEWER_CARD_RECENT, ViewerRecord,
    WorkingSet,
};
use crate::auth::secret_file;
use crate::privacy::{mask_contact_email, mask_contact_phone};
use crate::protocol::{
    Actor, Author, ChatEntry, ChatMessage, CommandId, ConsentPurpose, ConsentState, Contact, Epoch,
    Event, EventFrame, LiftedSanction, LiveState as Lifecycle, MaskedContact, MessageId, Millis,
    ModNote, ReplyTo, Sanction, SanctionedViewer, Seq, StaffRole, Tombstone, ViewerCard, ViewerId,
    Visibility,
};

/// How long connecting may take when the URL does not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the purge's `VACUUM FULL` waits for its table lock.
const PURGE_LOCK_TIMEOUT: Duration = Duration::from_millis(500);

/// Prune old command outcomes once every this many committed batches.
const PRUNE_EVERY_BATCHES: u32 = 512;

/// The tables a redaction deletes from (text, names, the posting command's outcome).
const REDACTION_TABLES: [&str; 3] = ["messages", "answer_also", "command_outcomes"];

/// The tables a rectification rewrites names in.
const RECTIFICATION_TABLES: [&str; 5] = [
    "viewers",
    "messages",
    "answer_also",
    "events",
    "instant_wins",
];

/// The tables an erasure deletes from or rewrites rows of.
const ERASURE_TABLES: [&str; 11] = [
    "messages",
    "answer_also",
    "command_outcomes",
    "tombstones",
    "sanctions",
    "mod_notes",
    "consents",
    "viewers",
    "events",
    "votes",
    "instant_wins",
];

/// The first key of the turn locks (`pg_advisory_lock(class, live)`), so
/// they cannot meet another application's advisory locks on the same
/// database that use the one-key form. "RG".
const TURN_LOCK_CLASS: i32 = 0x5247;

/// A live's row id as the second key of its turn lock (ids are small:
/// one a live; a wrap would only make two lives share a lock).
fn turn_lock_key(live_id: i64) -> i32 {
    i32::try_from(live_id.rem_euclid(i64::from(i32::MAX))).unwrap_or_default()
}

/// What the store keeps about an open live: its row and epoch. The head is
/// read from the counter row in each commit, since another node may move it.
#[derive(Debug, Clone)]
struct OpenLive {
    id: i64,
    epoch: Epoch,
}

/// Prepared statements by SQL text, for the store's one connection (each
/// statement is parsed once, then only bound and executed).
/// It also notes when the connection was lost, so the next call makes a
/// new one (the client alone does not always know yet).
#[derive(Default)]
struct Statements {
    prepared: HashMap<String, Statement>,
    lost: bool,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Statements {
    /// `result`, noting a lost connection.
    fn note<T>(&mut self, result: Result<T, postgres::Error>) -> Result<T, StoreError> {
        result.map_err(|e| {
            self.lost |= connection_lost(&e);
            e.into()
        })
    }

    fn get(&mut self, conn: &mut impl GenericClient, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.note(conn.prepare(sql))?;
        self.prepared.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    fn begin<'c>(
        &mut self,
        client: &'c mut Client,
    ) -> Result<postgres::Transaction<'c>, StoreError> {
        self.note(client.transaction())
    }

    fn finish(&mut self, tx: postgres::Transaction<'_>) -> Result<(), StoreError> {
        self.note(tx.commit())
    }

    fn exec(
        &mut self,
        conn: &mut impl GenericClient,
        sql: &str,
        params: Params<'_>,
    ) -> Result<u64, StoreError> {
        let s = self.get(conn, sql)?;
        self.note(conn.execute(&s, params))
    }

    fn query(
        &mut self,
        conn: &mut impl GenericClient,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, StoreError> {
        let s = self.get(conn, sql)?;
        self.note(conn.query(&s, params))
    }

    fn query_opt(
        &mut self,
        conn: &mut impl GenericClient,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<Row>, StoreError> {
        let s = self.get(conn, sql)?;
        self.note(conn.query_opt(&s, params))
    }

    fn query_one(
        &mut self,
        conn: &mut impl GenericClient,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Row, StoreError> {
        let s = self.get(conn, sql)?;
        self.note(conn.query_one(&s, params))
    }
}

/// The [`Store`] on a PostgreSQL server. See the module docs.
pub struct PostgresStore {
    config: postgres::Config,
    client: Client,
    statements: Statements,
    cipher: ContactCipher,
    lives: HashMap<String, OpenLive>,
    /// Tables holding deleted personal data that the next
    /// [`Store::checkpoint`] rewrites (`VACUUM FULL`).
    purge_due: BTreeSet<&'static str>,
    /// The newest transaction (its 64-bit id) that deleted what
    /// `purge_due` waits for: a session whose snapshot is older still sees
    /// those rows, and no rewrite can drop them until it ends.
    purge_xid: u64,
    batches_since_prune: u32,
    /// `CHECKPOINT` was refused for want of the privilege: said once.
    checkpoint_refused: bool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("PostgresStore")
            .field("hosts", &self.config.get_hosts())
            .field("dbname", &self.config.get_dbname())
            .finish_non_exhaustive()
    }
}

/// Whether the connection is gone: closed, an I/O error, or the server
/// ending the session (08: connection exception; 57P01-03: shut down,
/// crashed, starting up).
fn connection_lost(e: &postgres::Error) -> bool {
    e.is_closed()
        || match e.code() {
            None => e.as_db_error().is_none(),
            Some(code) => {
                let code = code.code();
                code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
            }
        }
}

/// Whether a PostgreSQL error may pass if retried: the connection or the
/// server went away (it reconnects on the next call), the transaction lost
/// a conflict, the server is short of resources or starting up.
pub(super) fn is_temporary(e: &postgres::Error) -> bool {
    // Else 40: transaction rollback (serialization failure, deadlock);
    // 53: insufficient resources; 55P03: lock not available.
    connection_lost(e)
        || e.code().is_some_and(|code| {
            let code = code.code();
            code.starts_with("40") || code.starts_with("53") || code == "55P03"
        })
}

/// A fresh live's epoch: 128 random bits, in hex.
fn new_epoch() -> Result<String, StoreError> {
    let mut raw = [0u8; 16];
    secret_file::os_random(&mut raw)
        .map_err(|e| StoreError::Contact(super::contact::ContactError::Key(e)))?;
    Ok(crate::hex(&raw))
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?...`),
    /// creates or migrates the schema in the connection's `search_path`,
    /// and loads the contact keys from `keys` (the same keys and sealing as
    /// the SQLite store, [`super::contact`]).
    pub fn open(url: &str, keys: KeySource) -> Result<Self, StoreError> {
        let config: postgres::Config = url.parse()?;
        Self::open_config(config, keys)
    }

    pub fn open_config(mut config: postgres::Config, keys: KeySource) -> Result<Self, StoreError> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("regie");
        }
        let mut client = config.connect(NoTls)?;
        schema::migrate(&mut client)?;
        let cipher = ContactCipher::load(keys, true)?;
        Ok(Self {
            config,
            client,
            statements: Statements::default(),
            cipher,
            lives: HashMap::new(),
            purge_due: BTreeSet::new(),
            purge_xid: 0,
            batches_since_prune: 0,
            checkpoint_refused: false,
        })
    }

    /// The connection, made again if the last one was lost (the server
    /// restarted): the call that saw it go failed as temporary, this one
    /// goes through.
    fn reconnect_if_lost(&mut self) -> Result<(), StoreError> {
        if self.statements.lost || self.client.is_closed() {
            self.client = self.config.connect(NoTls)?;
            self.statements = Statements::default();
            tracing::info!("reconnected to PostgreSQL");
        }
        Ok(())
    }

    fn live(&self, live: &str) -> Result<OpenLive, StoreError> {
        self.lives
            .get(live)
            .cloned()
            .ok_or_else(|| StoreError::UnknownLive(live.to_string()))
    }

    /// The open live's row id, after making sure the connection stands.
    fn live_id(&mut self, live: &str) -> Result<i64, StoreError> {
        let id = self.live(live)?.id;
        self.reconnect_if_lost()?;
        Ok(id)
    }

    /// The tables [`Store::checkpoint`] will rewrite, for tests and tools.
    pub fn purge_due(&self) -> Vec<&'static str> {
        self.purge_due.iter().copied().collect()
    }
}

// ── row mapping ─────────────────────────────────────────────────────────

/// The columns [`read_message`] expects, in order, on alias `m`.
const MESSAGE_COLUMNS: &str = "m.id, m.at, m.author_kind, m.viewer_id, m.author_name, \
     m.author_pseudonym, m.author_role, m.text, m.question, m.answered, m.visibility, \
     m.reply_to_id, m.reply_to_name, \
     (SELECT coalesce(json_agg(json_build_object('message_id', x.message_id, \
        'first_name', x.first_name) ORDER BY x.position), '[]')::text \
      FROM answer_also x WHERE x.live_id = m.live_id AND x.answer_id = m.id), \
     m.product, m.announcement";
const MESSAGE_COLUMN_COUNT: usize = 16;

/// The columns [`read_tombstone`] expects, in order, on alias `t`.
const TOMBSTONE_COLUMNS: &str =
    "t.message_id, t.posted_at, t.redacted_at, t.author_id, t.reason, t.by_name, t.by_role";

fn role(s: &str) -> Result<StaffRole, StoreError> {
    s.parse()
        .map_err(|e: String| corrupt(format!("staff role: {e}")))
}

fn json_text<T: for<'de> serde::Deserialize<'de>>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| corrupt(format!("{what}: {e}")))
}

fn read_message(row: &Row, base: usize) -> Result<Option<ChatMessage>, StoreError> {
    let Some(id) = row.try_get::<_, Option<i64>>(base)? else {
        return Ok(None);
    };
    let kind: String = row.try_get(base + 2)?;
    let author = match kind.as_str() {
        "viewer" => Author::Viewer {
            viewer_id: ViewerId(
                row.try_get::<_, Option<String>>(base + 3)?
                    .unwrap_or_default(),
            ),
            first_name: row.try_get(base + 4)?,
            pseudonym: row
                .try_get::<_, Option<String>>(base + 5)?
                .unwrap_or_default(),
        },
        _ => Author::Staff {
            name: row.try_get(base + 4)?,
            role: role(
                &row.try_get::<_, Option<String>>(base + 6)?
                    .unwrap_or_default(),
            )?,
        },
    };
    let reply_to = row
        .try_get::<_, Option<i64>>(base + 11)?
        .map(|rid| -> Result<ReplyTo, StoreError> {
            Ok(ReplyTo {
                message_id: MessageId(u64_from_sql(rid)),
                first_name: row
                    .try_get::<_, Option<String>>(base + 12)?
                    .unwrap_or_default(),
            })
        })
        .transpose()?;
    let product = row
        .try_get::<_, Option<i64>>(base + 14)?
        .map(|p| u32::try_from(p).map_err(|_| corrupt(format!("product {p}"))))
        .transpose()?;
    Ok(Some(ChatMessage {
        id: MessageId(u64_from_sql(id)),
        at: row.try_get(base + 1)?,
        author,
        text: row.try_get(base + 7)?,
        question: row.try_get(base + 8)?,
        answered: row.try_get(base + 9)?,
        reply_to,
        also_to: json_text(&row.try_get::<_, String>(base + 13)?, "answer_also")?,
        visibility: json_text(&row.try_get::<_, String>(base + 10)?, "visibility")?,
        product,
        announcement: row.try_get(base + 15)?,
    }))
}

fn read_tombstone(row: &Row, base: usize) -> Result<Option<Tombstone>, StoreError> {
    let Some(id) = row.try_get::<_, Option<i64>>(base)? else {
        return Ok(None);
    };
    Ok(Some(Tombstone {
        message_id: MessageId(u64_from_sql(id)),
        posted_at: row.try_get(base + 1)?,
        redacted_at: row.try_get(base + 2)?,
        author_id: row.try_get::<_, Option<String>>(base + 3)?.map(ViewerId),
        reason: row.try_get(base + 4)?,
        by: Actor {
            name: row.try_get(base + 5)?,
            role: role(&row.try_get::<_, String>(base + 6)?)?,
        },
    }))
}

fn wire<T: for<'de> serde::Deserialize<'de>>(row: &Row, idx: usize) -> Result<T, StoreError> {
    parse_wire_name(row.try_get(idx)?).map_err(corrupt)
}

fn read_entry(row: &Row, base: usize) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        at: row.try_get(base)?,
        actor_name: row.try_get(base + 1)?,
        actor_role: role(&row.try_get::<_, String>(base + 2)?)?,
        action: row.try_get(base + 3)?,
        target: row.try_get(base + 4)?,
        reason: row.try_get(base + 5)?,
    })
}

// ── writing ─────────────────────────────────────────────────────────────

/// One commit's work inside its transaction.
struct Batch<'s, 't, 'c> {
    sql: &'s mut Statements,
    tx: &'t mut postgres::Transaction<'c>,
    live: &'s str,
    live_id: i64,
    /// Tables this batch deleted personal data from.
    purge: BTreeSet<&'static str>,
    /// The audit chain's head once this batch read it (index and hash):
    /// from then on it is the one this batch writes.
    audit_head: Option<(u64, String)>,
}

impl Batch<'_, '_, '_> {
    fn exec(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StoreError> {
        self.sql.exec(self.tx, sql, params)
    }

    /// Whether message `id` is stored (`Some(true)`), redacted
    /// (`Some(false)`) or unknown (`None`).
    fn message_state(&mut self, id: MessageId) -> Result<Option<bool>, StoreError> {
        let row = self.sql.query_one(
            self.tx,
            "SELECT EXISTS (SELECT 1 FROM messages WHERE live_id = $1 AND id = $2), \
             EXISTS (SELECT 1 FROM tombstones WHERE live_id = $1 AND message_id = $2)",
            &[&self.live_id, &sql_i64(id.0)],
        )?;
        let (stored, redacted): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
        Ok(if stored {
            Some(true)
        } else {
            redacted.then_some(false)
        })
    }

    fn require_message(&mut self, id: MessageId) -> Result<bool, StoreError> {
        self.message_state(id)?
            .ok_or(StoreError::UnknownMessage(id))
    }

    fn insert_message(&mut self, m: &ChatMessage) -> Result<(), StoreError> {
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
        let id = sql_i64(m.id.0);
        let live_id = self.live_id;
        self.exec(
            "INSERT INTO messages (live_id, id, at, author_kind, viewer_id, author_name, \
             author_pseudonym, author_role, text, question, answered, visibility, reply_to_id, \
             reply_to_name, product, announcement) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            &[
                &live_id,
                &id,
                &m.at,
                &kind,
                &viewer_id,
                &m.author.display_name(),
                &pseudonym,
                &role,
                &m.text,
                &m.question,
                &m.answered,
                &visibility,
                &m.reply_to.as_ref().map(|r| sql_i64(r.message_id.0)),
                &m.reply_to.as_ref().map(|r| r.first_name.as_str()),
                &m.product.map(i64::from),
                &m.announcement,
            ],
        )?;
        for (position, also) in m.also_to.iter().enumerate() {
            self.exec(
                "INSERT INTO answer_also (live_id, answer_id, position, message_id, first_name) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &live_id,
                    &id,
                    &sql_len(position),
                    &sql_i64(also.message_id.0),
                    &also.first_name,
                ],
            )?;
        }
        Ok(())
    }

    fn set_visibility(&mut self, id: MessageId, visibility: Visibility) -> Result<(), StoreError> {
        if self.require_message(id)? {
            let v = serde_json::to_string(&visibility).expect("visibility serialises");
            let live_id = self.live_id;
            self.exec(
                "UPDATE messages SET visibility = $3 WHERE live_id = $1 AND id = $2",
                &[&live_id, &sql_i64(id.0), &v],
            )?;
        }
        Ok(())
    }

    fn set_answered(&mut self, id: MessageId, answered: bool) -> Result<(), StoreError> {
        if self.require_message(id)? {
            let live_id = self.live_id;
            self.exec(
                "UPDATE messages SET answered = $3 WHERE live_id = $1 AND id = $2",
                &[&live_id, &sql_i64(id.0), &answered],
            )?;
        }
        Ok(())
    }

    fn insert_pin(&mut self, id: MessageId, at: Millis, by: &Actor) -> Result<(), StoreError> {
        if self.require_message(id)? {
            let live_id = self.live_id;
            self.exec(
                "INSERT INTO pins (live_id, message_id, at, by_name, by_role) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (live_id) DO UPDATE SET \
                 message_id = excluded.message_id, at = excluded.at, \
                 by_name = excluded.by_name, by_role = excluded.by_role",
                &[&live_id, &sql_i64(id.0), &at, &by.name, &by.role.as_str()],
            )?;
        }
        Ok(())
    }

    fn insert_sanction(
        &mut self,
        frame: &EventFrame,
        viewer: &ViewerId,
        kind: &str,
        until: Option<Millis>,
        reason: &str,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let live_id = self.live_id;
        self.exec(
            "INSERT INTO sanctions (live_id, viewer_id, kind, until, reason, by_name, by_role, \
             at, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &live_id,
                &viewer.0,
                &kind,
                &until,
                &reason,
                &by.name,
                &by.role.as_str(),
                &frame.at,
                &sql_i64(frame.seq),
            ],
        )?;
        Ok(())
    }

    /// Ends a ban or the running timeouts at `at` (the rows stay, ended).
    fn lift_sanction(
        &mut self,
        at: Millis,
        viewer: &ViewerId,
        lifted: LiftedSanction,
    ) -> Result<(), StoreError> {
        let sql = match lifted {
            LiftedSanction::Ban => {
                "UPDATE sanctions SET until = $3 \
                 WHERE live_id = $1 AND viewer_id = $2 AND kind = 'ban' AND until IS NULL"
            }
            LiftedSanction::Timeout => {
                "UPDATE sanctions SET until = $3 \
                 WHERE live_id = $1 AND viewer_id = $2 AND kind = 'timeout' AND until > $3"
            }
        };
        let live_id = self.live_id;
        self.exec(sql, &[&live_id, &viewer.0, &at])?;
        Ok(())
    }

    /// Deletes the message, its answer links, its pin and the outcome of
    /// the command that posted it; writes the tombstone. Redacting twice
    /// keeps the first tombstone.
    fn redact(&mut self, t: &Tombstone) -> Result<(), StoreError> {
        match self.message_state(t.message_id)? {
            None => return Err(StoreError::UnknownMessage(t.message_id)),
            Some(false) => return Ok(()),
            Some(true) => {}
        }
        let (live_id, id) = (self.live_id, sql_i64(t.message_id.0));
        self.exec(
            "DELETE FROM messages WHERE live_id = $1 AND id = $2",
            &[&live_id, &id],
        )?;
        self.exec(
            "DELETE FROM answer_also WHERE live_id = $1 AND answer_id = $2",
            &[&live_id, &id],
        )?;
        self.exec(
            "INSERT INTO tombstones (live_id, message_id, posted_at, redacted_at, author_id, \
             reason, by_name, by_role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &live_id,
                &id,
                &t.posted_at,
                &t.redacted_at,
                &t.author_id.as_ref().map(|v| v.0.as_str()),
                &t.reason,
                &t.by.name,
                &t.by.role.as_str(),
            ],
        )?;
        self.exec(
            "DELETE FROM pins WHERE live_id = $1 AND message_id = $2",
            &[&live_id, &id],
        )?;
        // Its retry key is a fingerprint of the very text being redacted.
        self.exec(
            "DELETE FROM command_outcomes WHERE live_id = $1 AND seq IN \
             (SELECT seq FROM events WHERE live_id = $1 AND message_id = $2)",
            &[&live_id, &id],
        )?;
        self.purge.extend(REDACTION_TABLES);
        Ok(())
    }

    /// Erases a viewer (Art. 17) in the batch's transaction, as the SQLite
    /// store does for what this store keeps: every message becomes a
    /// tombstone without author, replies quoting them lose the name, their
    /// pin goes; names, contact, consents, sanctions (and the reasons in
    /// the sanction events), notes and command outcomes go; their votes
    /// stay counted under an unlinked id, and announced winners lose the
    /// name (see `games`). The `erasures` row is the content-free proof.
    fn erase_viewer(
        &mut self,
        seq: Seq,
        viewer: &ViewerId,
        reason: &str,
        at: Millis,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (live_id, v) = (self.live_id, viewer.0.as_str());
        let mine = "SELECT id FROM messages WHERE live_id = $1 AND viewer_id = $2";
        self.exec(
            "INSERT INTO tombstones (live_id, message_id, posted_at, redacted_at, author_id, \
             reason, by_name, by_role) SELECT live_id, id, at, $3, NULL, $4, $5, $6 \
             FROM messages WHERE live_id = $1 AND viewer_id = $2 ON CONFLICT DO NOTHING",
            &[&live_id, &v, &at, &reason, &by.name, &by.role.as_str()],
        )?;
        for sql in [
            format!("DELETE FROM pins WHERE live_id = $1 AND message_id IN ({mine})"),
            format!(
                "UPDATE messages SET reply_to_name = '' WHERE live_id = $1 AND reply_to_id IN \
                 ({mine} UNION SELECT message_id FROM tombstones \
                  WHERE live_id = $1 AND author_id = $2)"
            ),
            format!(
                "UPDATE answer_also SET first_name = '' WHERE live_id = $1 AND message_id IN \
                 ({mine} UNION SELECT message_id FROM tombstones \
                  WHERE live_id = $1 AND author_id = $2)"
            ),
            format!(
                "DELETE FROM command_outcomes WHERE live_id = $1 AND seq IN (SELECT seq FROM \
                 events WHERE live_id = $1 AND message_id IN ({mine}))"
            ),
            "DELETE FROM command_outcomes WHERE live_id = $1 AND principal = 'viewer:' || $2"
                .to_owned(),
            "DELETE FROM messages WHERE live_id = $1 AND viewer_id = $2".to_owned(),
            "UPDATE tombstones SET author_id = NULL WHERE live_id = $1 AND author_id = $2"
                .to_owned(),
            "DELETE FROM sanctions WHERE live_id = $1 AND viewer_id = $2".to_owned(),
            "DELETE FROM mod_notes WHERE live_id = $1 AND viewer_id = $2".to_owned(),
            "UPDATE events SET payload = jsonb_set(payload::jsonb, '{reason}', '\"\"')::text \
             WHERE live_id = $1 AND kind IN ('viewer_timed_out', 'viewer_banned') \
             AND payload::jsonb ->> 'viewer_id' = $2"
                .to_owned(),
            "UPDATE events SET payload = (payload::jsonb - 'note')::text WHERE live_id = $1 \
             AND kind = 'viewer_flagged' AND payload::jsonb ->> 'viewer_id' = $2"
                .to_owned(),
            "DELETE FROM consents WHERE live_id = $1 AND viewer_id = $2".to_owned(),
            "DELETE FROM viewers WHERE live_id = $1 AND viewer_id = $2".to_owned(),
        ] {
            self.exec(&sql, &[&live_id, &v])?;
        }
        self.unlink_votes(viewer)?;
        // Announced winners keep their id (the published record names ids
        // only, so it stays verifiable) but lose their names.
        self.rename_winner(viewer, Some(""), Some(""))?;
        self.exec(
            "INSERT INTO erasures (live_id, viewer_id, at, seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
            &[&live_id, &v, &at, &sql_i64(seq)],
        )?;
        self.purge.extend(ERASURE_TABLES);
        Ok(())
    }

    /// Rectification (Art. 16): the viewer's row, their lines, the names
    /// replies and grouped answers carry, and the names earlier
    /// `viewer_rectified` events carried, so no older value is kept; the
    /// old tuples are dead, not gone, so the tables are purged as after a
    /// redaction (see the module docs).
    fn rectify(
        &mut self,
        viewer: &ViewerId,
        first_name: Option<&str>,
        pseudonym: Option<&str>,
    ) -> Result<(), StoreError> {
        let (live_id, v) = (self.live_id, viewer.0.as_str());
        self.exec(
            "UPDATE viewers SET first_name = coalesce($3, first_name), \
             pseudonym = coalesce($4, pseudonym), \
             first_name_rectified = first_name_rectified OR $3::TEXT IS NOT NULL, \
             pseudonym_rectified = pseudonym_rectified OR $4::TEXT IS NOT NULL \
             WHERE live_id = $1 AND viewer_id = $2",
            &[&live_id, &v, &first_name, &pseudonym],
        )?;
        self.exec(
            "UPDATE messages SET author_name = coalesce($3, author_name), \
             author_pseudonym = coalesce($4, author_pseudonym) \
             WHERE live_id = $1 AND viewer_id = $2",
            &[&live_id, &v, &first_name, &pseudonym],
        )?;
        if let Some(first_name) = first_name {
            let theirs = "SELECT id FROM messages WHERE live_id = $1 AND viewer_id = $2 \
                          UNION SELECT message_id FROM tombstones \
                          WHERE live_id = $1 AND author_id = $2";
            self.exec(
                &format!(
                    "UPDATE messages SET reply_to_name = $3 WHERE live_id = $1 \
                     AND reply_to_id IN ({theirs})"
                ),
                &[&live_id, &v, &first_name],
            )?;
            self.exec(
                &format!(
                    "UPDATE answer_also SET first_name = $3 WHERE live_id = $1 \
                     AND message_id IN ({theirs})"
                ),
                &[&live_id, &v, &first_name],
            )?;
        }
        for (field, value) in [("first_name", first_name), ("pseudonym", pseudonym)] {
            let Some(value) = value else { continue };
            self.exec(
                "UPDATE events SET payload = jsonb_set(payload::jsonb, ARRAY[$3::TEXT], \
                 to_jsonb($4::TEXT))::text \
                 WHERE live_id = $1 AND kind = 'viewer_rectified' \
                 AND payload::jsonb ->> 'viewer_id' = $2 AND payload::jsonb ? $3",
                &[&live_id, &v, &field, &value],
            )?;
        }
        self.rename_winner(viewer, first_name, pseudonym)?;
        self.purge.extend(RECTIFICATION_TABLES);
        Ok(())
    }

    fn project_live_state(&mut self, state: Lifecycle, at: Millis) -> Result<(), StoreError> {
        let live_id = self.live_id;
        let name = state.as_str();
        match state {
            Lifecycle::Scheduled => self.exec(
                "UPDATE lives SET state = $2 WHERE id = $1",
                &[&live_id, &name],
            )?,
            Lifecycle::OnAir => self.exec(
                "UPDATE lives SET state = $2, started_at = $3 WHERE id = $1",
                &[&live_id, &name, &at],
            )?,
            Lifecycle::Ended => self.exec(
                "UPDATE lives SET state = $2, ended_at = $3 WHERE id = $1",
                &[&live_id, &name, &at],
            )?,
        };
        Ok(())
    }

    /// Applies one event to the projection (see [`Store::commit`]).
    fn project(&mut self, frame: &EventFrame) -> Result<(), StoreError> {
        match &frame.event {
            Event::Message { message } => self.insert_message(message)?,
            Event::Released { message, .. } => {
                self.set_visibility(message.id, Visibility::Visible)?;
            }
            Event::Hidden { message_id, .. } => {
                self.set_visibility(*message_id, Visibility::Hidden)?;
            }
            Event::QuestionAnswered { message_id, .. } => self.set_answered(*message_id, true)?,
            Event::QuestionReopened { message_id, .. } => self.set_answered(*message_id, false)?,
            Event::Pinned { message_id, by } => self.insert_pin(*message_id, frame.at, by)?,
            Event::Unpinned { message_id, .. } => {
                let live_id = self.live_id;
                self.exec(
                    "DELETE FROM pins WHERE live_id = $1 AND message_id = $2",
                    &[&live_id, &sql_i64(message_id.0)],
                )?;
            }
            Event::ViewerTimedOut {
                viewer_id,
                until,
                reason,
                by,
            } => self.insert_sanction(frame, viewer_id, "timeout", Some(*until), reason, by)?,
            Event::ViewerBanned {
                viewer_id,
                reason,
                by,
            } => self.insert_sanction(frame, viewer_id, "ban", None, reason, by)?,
            Event::SanctionLifted {
                viewer_id, lifted, ..
            } => self.lift_sanction(frame.at, viewer_id, *lifted)?,
            Event::Redacted { tombstone } => self.redact(tombstone)?,
            Event::ViewerErased {
                viewer_id,
                reason,
                erased_at,
                by,
            } => self.erase_viewer(frame.seq, viewer_id, reason, *erased_at, by)?,
            Event::ViewerRectified {
                viewer_id,
                first_name,
                pseudonym,
                ..
            } => self.rectify(viewer_id, first_name.as_deref(), pseudonym.as_deref())?,
            Event::RuleAdded { rule } => self.insert_rule(rule)?,
            Event::RuleRemoved { rule_id, .. } => self.remove_rule(*rule_id, frame.at)?,
            Event::LiveState { state } => self.project_live_state(*state, frame.at)?,
            Event::ViewersOnline { .. }
            | Event::HoldNotice { .. }
            | Event::SlowModeChanged { .. }
            | Event::DeliveryChanged { .. }
            | Event::ShieldChanged { .. }
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
            | Event::Claimed { .. }
            | Event::ClaimEnded { .. }
            | Event::ViewerFlagged { .. }
            | Event::ViewerUnflagged { .. } => {}
        }
        Ok(())
    }

    /// Checks `frame` against the locked head, applies and logs it.
    fn apply_event(
        &mut self,
        epoch: &Epoch,
        head: &mut Seq,
        frame: &EventFrame,
    ) -> Result<(), StoreError> {
        if frame.epoch != *epoch {
            return Err(StoreError::WrongEpoch {
                live: self.live.to_string(),
                expected: epoch.clone(),
                got: frame.epoch.clone(),
            });
        }
        if frame.seq != *head + 1 {
            return Err(StoreError::SeqGap {
                live: self.live.to_string(),
                head: *head,
                got: frame.seq,
            });
        }
        let (message_id, payload) = log_payload(frame)?;
        self.project(frame)?;
        let live_id = self.live_id;
        self.exec(
            "INSERT INTO events (live_id, seq, at, kind, message_id, payload) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &live_id,
                &sql_i64(frame.seq),
                &frame.at,
                &frame.event.name(),
                &message_id.map(|m| sql_i64(m.0)),
                &payload,
            ],
        )?;
        *head = frame.seq;
        Ok(())
    }

    /// Appends to the live's audit chain; the head is read here, under the
    /// counter row's lock, so two nodes never fork the chain (once per
    /// batch: the lock is held until its commit).
    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        let live_id = self.live_id;
        let (index, prev) = match self.audit_head.take() {
            Some(head) => head,
            None => match self.sql.query_opt(
                self.tx,
                "SELECT idx, hash FROM audit WHERE live_id = $1 ORDER BY idx DESC LIMIT 1",
                &[&live_id],
            )? {
                Some(row) => (u64_from_sql(row.try_get(0)?), row.try_get(1)?),
                // Once retention pruned every record, the chain goes on
                // from its checkpoint, not from genesis again.
                None => checkpoints::read(self.sql, self.tx, live_id)?
                    .map_or((0, GENESIS_HASH.to_string()), |c| (c.index, c.hash)),
            },
        };
        let index = index + 1;
        let hash = audit::chain_hash(&prev, self.live, index, entry);
        self.exec(
            "INSERT INTO audit (live_id, idx, at, actor_name, actor_role, action, target, \
             reason, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &live_id,
                &sql_i64(index),
                &entry.at,
                &entry.actor_name,
                &entry.actor_role.as_str(),
                &entry.action,
                &entry.target,
                &entry.reason,
                &prev,
                &hash,
            ],
        )?;
        self.audit_head = Some((index, hash));
        Ok(())
    }

    fn insert_note(&mut self, n: &NoteWrite) -> Result<(), StoreError> {
        let live_id = self.live_id;
        self.exec(
            "INSERT INTO mod_notes (live_id, viewer_id, at, by_name, by_role, text) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &live_id,
                &n.viewer_id.0,
                &n.note.at,
                &n.note.by.name,
                &n.note.by.role.as_str(),
                &n.note.text,
            ],
        )?;
        Ok(())
    }

    fn record_outcome(
        &mut self,
        o: &super::RecordedOutcome,
        now: Millis,
    ) -> Result<(), StoreError> {
        let outcome = serde_json::to_string(&o.outcome).expect("outcomes serialise");
        let seq = match o.outcome {
            CommandOutcome::Ack { seq } => seq.map(sql_i64),
            CommandOutcome::Error { .. } => None,
        };
        let live_id = self.live_id;
        self.exec(
            "INSERT INTO command_outcomes (live_id, principal, command_id, at, outcome, seq) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[&live_id, &o.principal, &o.id.0, &now, &outcome, &seq],
        )?;
        Ok(())
    }
}

/// The 64-bit id of the transaction `tx` (which deleted personal data).
fn deleting_xid(
    sql: &mut Statements,
    tx: &mut postgres::Transaction<'_>,
) -> Result<u64, StoreError> {
    let xid: String = sql
        .query_one(tx, "SELECT pg_current_xact_id()::TEXT", &[])?
        .try_get(0)?;
    xid.parse()
        .map_err(|e| corrupt(format!("transaction id {xid:?}: {e}")))
}

/// How many sessions, prepared transactions and replication slots hold a
/// snapshot from before transaction `xid` committed (so they may still see
/// what it deleted, and `VACUUM FULL` keeps it). Every database counts, not
/// only this one: sessions in other databases of the cluster were seen to
/// keep deleted rows in the rewrite too. `age()` compares the 32-bit ids
/// the server shows, wraparound included.
const PURGE_HELD_BY: &str = "WITH d AS (SELECT ($1::BIGINT % 4294967296)::TEXT::xid AS xid)      SELECT (SELECT count(*) FROM pg_stat_activity, d               WHERE pid <> pg_backend_pid()                 AND (datname = current_database() OR datname IS NULL)                 AND ((backend_xmin IS NOT NULL AND age(backend_xmin) >= age(d.xid))                   OR (backend_xid IS NOT NULL AND age(backend_xid) >= age(d.xid))))           + (SELECT count(*) FROM pg_prepared_xacts, d               WHERE database = current_database() AND age(transaction) >= age(d.xid))           + (SELECT count(*) FROM pg_replication_slots, d               WHERE (database = current_database() OR database IS NULL)                 AND ((xmin IS NOT NULL AND age(xmin) >= age(d.xid))                   OR (catalog_xmin IS NOT NULL AND age(catalog_xmin) >= age(d.xid))))";

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
        sql: &mut Statements,
        tx: &mut postgres::Transaction<'_>,
        field: ContactField,
    ) -> Result<Option<ConsentPurpose>, StoreError> {
        let (_, purpose) = field.columns();
        let row = sql.query_opt(
            tx,
            &format!(
                "SELECT {purpose} FROM viewers WHERE live_id = $1 AND viewer_id = $2 \
                 AND {purpose} IS NOT NULL"
            ),
            &[&self.live_id, &self.viewer.0],
        )?;
        row.map(|r| wire(&r, 0)).transpose()
    }

    fn set(
        &self,
        sql: &mut Statements,
        tx: &mut postgres::Transaction<'_>,
        field: ContactField,
        value: &str,
        purpose: ConsentPurpose,
    ) -> Result<(), StoreError> {
        let sealed = self.cipher.seal(self.live, &self.viewer.0, field, value)?;
        let (value_col, purpose_col) = field.columns();
        sql.exec(
            tx,
            &format!(
                "UPDATE viewers SET {value_col} = $3, {purpose_col} = $4 \
                 WHERE live_id = $1 AND viewer_id = $2"
            ),
            &[&self.live_id, &self.viewer.0, &sealed, &wire_name(&purpose)],
        )?;
        Ok(())
    }

    /// Deletes the value and its seal; `true` if there was one (its old
    /// tuple then waits for the checkpoint's rewrite of `viewers`).
    fn clear(
        &self,
        sql: &mut Statements,
        tx: &mut postgres::Transaction<'_>,
        field: ContactField,
    ) -> Result<bool, StoreError> {
        let (value_col, purpose_col) = field.columns();
        let cleared = sql.exec(
            tx,
            &format!(
                "UPDATE viewers SET {value_col} = NULL, {purpose_col} = NULL \
                 WHERE live_id = $1 AND viewer_id = $2 AND {value_col} IS NOT NULL"
            ),
            &[&self.live_id, &self.viewer.0],
        )?;
        Ok(cleared > 0)
    }
}

// ── reading ─────────────────────────────────────────────────────────────

impl PostgresStore {
    /// The `limit` most recent chat entries (all, or one author's), most
    /// recent first, tombstones in place.
    fn recent_entries(
        &mut self,
        live_id: i64,
        author: Option<&ViewerId>,
        limit: usize,
    ) -> Result<Vec<ChatEntry>, StoreError> {
        let author = author.map(|a| a.0.as_str());
        let limit_sql = sql_len(limit);
        let params: Params<'_> = &[&live_id, &author, &limit_sql];
        let mut entries = Vec::new();
        for row in self.statements.query(
            &mut self.client,
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = $1 \
                 AND ($2::TEXT IS NULL OR m.viewer_id = $2) ORDER BY m.id DESC LIMIT $3"
            ),
            params,
        )? {
            entries.extend(read_message(&row, 0)?.map(ChatEntry::Message));
        }
        for row in self.statements.query(
            &mut self.client,
            &format!(
                "SELECT {TOMBSTONE_COLUMNS} FROM tombstones t WHERE t.live_id = $1 \
                 AND ($2::TEXT IS NULL OR t.author_id = $2) ORDER BY t.message_id DESC LIMIT $3"
            ),
            params,
        )? {
            entries.extend(read_tombstone(&row, 0)?.map(ChatEntry::Redacted));
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.id()));
        entries.truncate(limit);
        Ok(entries)
    }

    fn messages_where(
        &mut self,
        live_id: i64,
        filter: &str,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        self.statements
            .query(
                &mut self.client,
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = $1 \
                     AND {filter} ORDER BY m.id"
                ),
                &[&live_id],
            )?
            .iter()
            .filter_map(|r| read_message(r, 0).transpose())
            .collect()
    }

    /// The viewer's row: who they are, and which names support corrected
    /// (Art. 16), in one read.
    fn viewer_record(
        &mut self,
        live_id: i64,
        id: &ViewerId,
    ) -> Result<Option<(ViewerRecord, super::NameCorrection)>, StoreError> {
        self.statements
            .query_opt(
                &mut self.client,
                "SELECT first_name, pseudonym, first_seen, last_seen, first_name_rectified, \
                 pseudonym_rectified FROM viewers WHERE live_id = $1 AND viewer_id = $2",
                &[&live_id, &id.0],
            )?
            .map(|r| {
                let record = ViewerRecord {
                    id: id.clone(),
                    first_name: r.try_get(0)?,
                    pseudonym: r.try_get(1)?,
                    first_seen: r.try_get(2)?,
                    last_seen: r.try_get(3)?,
                };
                let corrected = super::NameCorrection {
                    first_name: r.try_get::<_, bool>(4)?.then(|| record.first_name.clone()),
                    pseudonym: r.try_get::<_, bool>(5)?.then(|| record.pseudonym.clone()),
                };
                Ok((record, corrected))
            })
            .transpose()
    }

    fn active_sanctions(
        &mut self,
        live_id: i64,
        viewer: &ViewerId,
        now: Millis,
    ) -> Result<Vec<Sanction>, StoreError> {
        self.statements
            .query(
                &mut self.client,
                "SELECT kind, until, reason, by_name, by_role, at FROM sanctions \
                 WHERE live_id = $1 AND viewer_id = $2 \
                 AND ((kind = 'ban' AND until IS NULL) OR (kind = 'timeout' AND until > $3)) \
                 ORDER BY id",
                &[&live_id, &viewer.0, &now],
            )?
            .iter()
            .map(|r| {
                let by = Actor {
                    name: r.try_get(3)?,
                    role: role(&r.try_get::<_, String>(4)?)?,
                };
                let (reason, at): (String, Millis) = (r.try_get(2)?, r.try_get(5)?);
                Ok(if r.try_get::<_, String>(0)? == "ban" {
                    Sanction::Banned { reason, by, at }
                } else {
                    Sanction::TimedOut {
                        until: r.try_get::<_, Option<Millis>>(1)?.unwrap_or(0),
                        reason,
                        by,
                        at,
                    }
                })
            })
            .collect()
    }

    fn latest_consents(
        &mut self,
        live_id: i64,
        id: &ViewerId,
    ) -> Result<Vec<ConsentState>, StoreError> {
        let rows = self.statements.query(
            &mut self.client,
            "SELECT purpose, granted, at, channel, text_sha256 FROM consents \
             WHERE live_id = $1 AND viewer_id = $2 ORDER BY id",
            &[&live_id, &id.0],
        )?;
        let mut latest: Vec<ConsentState> = Vec::new();
        for r in rows {
            let c = ConsentState {
                purpose: wire(&r, 0)?,
                granted: r.try_get(1)?,
                at: r.try_get(2)?,
                channel: wire(&r, 3)?,
                text_sha256: r.try_get(4)?,
            };
            match latest.iter_mut().find(|l| l.purpose == c.purpose) {
                Some(l) => *l = c,
                None => latest.push(c),
            }
        }
        Ok(latest)
    }

    fn notes(&mut self, live_id: i64, viewer: &ViewerId) -> Result<Vec<ModNote>, StoreError> {
        self.statements
            .query(
                &mut self.client,
                "SELECT at, by_name, by_role, text FROM mod_notes \
                 WHERE live_id = $1 AND viewer_id = $2 ORDER BY id",
                &[&live_id, &viewer.0],
            )?
            .iter()
            .map(|r| {
                Ok(ModNote {
                    at: r.try_get(0)?,
                    by: Actor {
                        name: r.try_get(1)?,
                        role: role(&r.try_get::<_, String>(2)?)?,
                    },
                    text: r.try_get(3)?,
                })
            })
            .collect()
    }

    fn masked_contact(
        &mut self,
        live: &str,
        live_id: i64,
        id: &ViewerId,
    ) -> Result<MaskedContact, StoreError> {
        let Some(row) = self.statements.query_opt(
            &mut self.client,
            "SELECT phone_sealed, email_sealed FROM viewers WHERE live_id = $1 AND viewer_id = $2",
            &[&live_id, &id.0],
        )?
        else {
            return Ok(MaskedContact::default());
        };
        let (phone, email): (Option<Vec<u8>>, Option<Vec<u8>>) = (row.try_get(0)?, row.try_get(1)?);
        let open = |field, sealed: Option<Vec<u8>>| {
            let sealed = sealed?;
            match self.cipher.open(live, &id.0, field, &sealed) {
                Ok(v) => Some(v),
                Err(e) => {
                    // Never the value; the key was probably replaced.
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

    /// Picks up a key rotation of a key directory before sealing.
    fn refresh_keys(&mut self) {
        if let Err(e) = self.cipher.refresh() {
            tracing::warn!(error = %e, "contact keys changed on disk but cannot be reloaded");
        }
    }
}

/// The requests log (`regie privacy requests --store postgres://…`), as
/// the SQLite store has it.
impl PostgresStore {
    /// The log itself, for [`super::requests`]'s rules.
    pub fn requests_log(&mut self) -> impl super::requests::RequestsTable + '_ {
        requests::PgRequests {
            sql: &mut self.statements,
            client: &mut self.client,
        }
    }
}

impl Store for PostgresStore {
    fn open_live(&mut self, live: &str) -> Result<LiveHead, StoreError> {
        self.reconnect_if_lost()?;
        let Self {
            client, statements, ..
        } = self;
        let mut tx = statements.begin(client)?;
        let existing = statements.query_opt(
            &mut tx,
            "SELECT id, epoch, head FROM lives WHERE name = $1",
            &[&live],
        )?;
        let row = if let Some(row) = existing {
            row
        } else {
            let epoch = new_epoch()?;
            // Another node may create it at the same moment: its row wins.
            statements.query_one(
                &mut tx,
                "INSERT INTO lives (name, epoch, head, created_at, state, started_at) \
                     VALUES ($1, $2, 0, $3, 'on_air', $3) \
                     ON CONFLICT (name) DO UPDATE SET name = excluded.name \
                     RETURNING id, epoch, head",
                &[&live, &epoch, &crate::now_millis()],
            )?
        };
        let (id, epoch, head): (i64, String, i64) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let last: i64 = statements
            .query_one(
                &mut tx,
                "SELECT greatest(\
                   coalesce((SELECT max(id) FROM messages WHERE live_id = $1), 0), \
                   coalesce((SELECT max(message_id) FROM tombstones WHERE live_id = $1), 0), \
                   (SELECT swept_message_id FROM lives WHERE id = $1))",
                &[&id],
            )?
            .try_get(0)?;
        statements.finish(tx)?;
        let epoch = Epoch(epoch);
        self.lives.insert(
            live.to_string(),
            OpenLive {
                id,
                epoch: epoch.clone(),
            },
        );
        Ok(LiveHead {
            epoch,
            head: u64_from_sql(head),
            last_message_id: u64_from_sql(last),
        })
    }

    fn shared(&self) -> bool {
        true
    }

    /// A session-level advisory lock on the live (released by
    /// [`Store::end_turn`], or by the server when the connection drops, so
    /// a node that dies mid-turn holds nobody up), then the head: read
    /// after the lock, so it holds everything the previous holder committed.
    fn begin_turn(&mut self, live: &str) -> Result<Option<Seq>, StoreError> {
        let id = self.live_id(live)?;
        let Self {
            client, statements, ..
        } = self;
        statements.query_one(
            client,
            "SELECT pg_advisory_lock($1, $2)::text",
            &[&TURN_LOCK_CLASS, &turn_lock_key(id)],
        )?;
        let head: i64 = statements
            .query_one(client, "SELECT head FROM lives WHERE id = $1", &[&id])?
            .try_get(0)?;
        Ok(Some(u64_from_sql(head)))
    }

    fn end_turn(&mut self, live: &str) -> Result<(), StoreError> {
        let id = self.live(live)?.id;
        if self.statements.lost || self.client.is_closed() {
            // The server let go of the lock with the connection.
            return Ok(());
        }
        let Self {
            client, statements, ..
        } = self;
        statements.query_one(
            client,
            "SELECT pg_advisory_unlock($1, $2)::text",
            &[&TURN_LOCK_CLASS, &turn_lock_key(id)],
        )?;
        Ok(())
    }

    fn commit(&mut self, live: &str, batch: &[Commit]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let open = self.live(live)?;
        self.reconnect_if_lost()?;
        let now = crate::now_millis();
        let prune = self.batches_since_prune + 1 >= PRUNE_EVERY_BATCHES;
        let Self {
            client, statements, ..
        } = self;
        let mut tx = statements.begin(client)?;
        // The counter row, locked until the commit: the head every node sees.
        let head: i64 = statements
            .query_one(
                &mut tx,
                "SELECT head FROM lives WHERE id = $1 FOR UPDATE",
                &[&open.id],
            )?
            .try_get(0)?;
        let mut head = u64_from_sql(head);
        let start = head;
        let mut b = Batch {
            sql: statements,
            tx: &mut tx,
            live,
            live_id: open.id,
            purge: BTreeSet::new(),
            audit_head: None,
        };
        for c in batch {
            if let Some(frame) = &c.frame {
                b.apply_event(&open.epoch, &mut head, frame)?;
            }
            if let Some(entry) = &c.audit {
                b.append_audit(entry)?;
            }
            for write in &c.games {
                b.apply_game(write)?;
            }
            if let Some(n) = &c.note {
                b.insert_note(n)?;
            }
            if let Some(o) = &c.outcome {
                b.record_outcome(o, now)?;
            }
        }
        if head != start {
            b.exec(
                "UPDATE lives SET head = $2 WHERE id = $1",
                &[&open.id, &sql_i64(head)],
            )?;
        }
        if prune {
            b.exec(
                "DELETE FROM command_outcomes WHERE live_id = $1 AND at < $2",
                &[&open.id, &(now - OUTCOME_RETENTION_MS)],
            )?;
        }
        let purge = std::mem::take(&mut b.purge);
        let purge_xid = if purge.is_empty() {
            None
        } else {
            Some(deleting_xid(b.sql, b.tx)?)
        };
        statements.finish(tx)?;
        self.purge_due.extend(purge);
        if let Some(xid) = purge_xid {
            self.purge_xid = self.purge_xid.max(xid);
        }
        self.batches_since_prune = if prune {
            0
        } else {
            self.batches_since_prune + 1
        };
        Ok(())
    }

    fn replay(
        &mut self,
        live: &str,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<EventFrame>, StoreError> {
        let OpenLive { id, epoch } = self.live(live)?;
        self.reconnect_if_lost()?;
        let rows = self.statements.query(
            &mut self.client,
            &format!(
                "SELECT e.seq, e.at, e.kind, e.payload, {MESSAGE_COLUMNS}, {TOMBSTONE_COLUMNS} \
                 FROM events e \
                 LEFT JOIN messages m ON m.live_id = e.live_id AND m.id = e.message_id \
                 LEFT JOIN tombstones t ON t.live_id = e.live_id AND t.message_id = e.message_id \
                 WHERE e.live_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3"
            ),
            &[&id, &sql_i64(after), &sql_len(limit)],
        )?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get(0)?;
                let kind: String = r.try_get(2)?;
                let payload: String = r.try_get(3)?;
                let event = if refers_to_message(&kind) {
                    let reference: MessageRef = json_text(&payload, "event payload")?;
                    let tombstone = read_tombstone(r, 4 + MESSAGE_COLUMN_COUNT)?;
                    message_event(&kind, reference, tombstone, read_message(r, 4)?).ok_or_else(
                        || corrupt(format!("event {seq} refers to a missing message")),
                    )?
                } else {
                    json_text(&payload, "event payload")?
                };
                Ok(EventFrame {
                    epoch: epoch.clone(),
                    seq: u64_from_sql(seq),
                    at: r.try_get(1)?,
                    event,
                })
            })
            .collect()
    }

    fn snapshot(&mut self, live: &str, recent: usize) -> Result<StoredSnapshot, StoreError> {
        let live_id = self.live_id(live)?;
        let pinned = match self.statements.query_opt(
            &mut self.client,
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM pins p JOIN messages m \
                 ON m.live_id = p.live_id AND m.id = p.message_id WHERE p.live_id = $1"
            ),
            &[&live_id],
        )? {
            Some(row) => read_message(&row, 0)?,
            None => None,
        };
        let open_questions = self
            .statements
            .query(
                &mut self.client,
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = $1 \
                     AND m.question AND NOT m.answered ORDER BY m.id LIMIT $2"
                ),
                &[&live_id, &sql_len(SNAPSHOT_MAX_OPEN_QUESTIONS)],
            )?
            .iter()
            .filter_map(|r| read_message(r, 0).transpose())
            .collect::<Result<Vec<_>, _>>()?;
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
        let open_questions = self.messages_where(live_id, "m.question AND NOT m.answered")?;
        // `visibility` is the JSON of `Visibility`, its tag first.
        let held = self.messages_where(live_id, "m.visibility LIKE '{\"state\":\"held\"%'")?;
        // Redacted messages count under the name their author joined with.
        let shared_names = self
            .statements
            .query(
                &mut self.client,
                "SELECT name FROM ( \
                   SELECT m.author_name AS name, m.viewer_id AS vid FROM messages m \
                   WHERE m.live_id = $1 AND m.author_kind = 'viewer' \
                   UNION \
                   SELECT v.first_name, t.author_id FROM tombstones t \
                   JOIN viewers v ON v.live_id = t.live_id AND v.viewer_id = t.author_id \
                   WHERE t.live_id = $1 \
                 ) names GROUP BY name HAVING COUNT(DISTINCT vid) > 1 ORDER BY name",
                &[&live_id],
            )?
            .iter()
            .map(|r| Ok(r.try_get::<_, String>(0)?))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut activity = self
            .statements
            .query(
                &mut self.client,
                "SELECT at, actor_name, actor_role, action, target, reason FROM audit \
                 WHERE live_id = $1 ORDER BY idx DESC LIMIT $2",
                &[&live_id, &sql_len(RECENT_STAFF_ACTIONS)],
            )?
            .iter()
            .map(|r| read_entry(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        activity.reverse();
        // One row per viewer: a standing ban wins over timeouts, else the
        // latest end of a timeout.
        let sanctioned = self
            .statements
            .query(
                &mut self.client,
                "SELECT viewer_id, \
                   CASE WHEN bool_or(kind = 'ban' AND until IS NULL) THEN NULL \
                        ELSE max(CASE WHEN kind = 'timeout' THEN until END) END \
                 FROM sanctions WHERE live_id = $1 \
                   AND ((kind = 'ban' AND until IS NULL) OR kind = 'timeout') \
                 GROUP BY viewer_id ORDER BY viewer_id",
                &[&live_id],
            )?
            .iter()
            .map(|r| {
                Ok(SanctionedViewer {
                    viewer_id: ViewerId(r.try_get(0)?),
                    until: r.try_get(1)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(WorkingSet {
            open_questions,
            held,
            activity,
            shared_names,
            sanctioned,
        })
    }

    fn message(&mut self, live: &str, id: MessageId) -> Result<Option<ChatEntry>, StoreError> {
        let live_id = self.live_id(live)?;
        let params: Params<'_> = &[&live_id, &sql_i64(id.0)];
        if let Some(row) = self.statements.query_opt(
            &mut self.client,
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = $1 AND m.id = $2"),
            params,
        )? && let Some(m) = read_message(&row, 0)?
        {
            return Ok(Some(ChatEntry::Message(m)));
        }
        match self.statements.query_opt(
            &mut self.client,
            &format!(
                "SELECT {TOMBSTONE_COLUMNS} FROM tombstones t \
                 WHERE t.live_id = $1 AND t.message_id = $2"
            ),
            params,
        )? {
            Some(row) => Ok(read_tombstone(&row, 0)?.map(ChatEntry::Redacted)),
            None => Ok(None),
        }
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
            self.refresh_keys();
            self.latest_consents(live_id, &viewer.id)?
        };
        let Self {
            client,
            statements: sql,
            cipher,
            purge_due,
            purge_xid,
            ..
        } = self;
        let mut tx = sql.begin(client)?;
        sql.exec(
            &mut tx,
            "INSERT INTO viewers (live_id, viewer_id, first_name, pseudonym, first_seen, \
             last_seen) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (live_id, viewer_id) DO UPDATE SET \
             first_name = CASE WHEN viewers.first_name_rectified THEN viewers.first_name \
               ELSE excluded.first_name END, \
             pseudonym = CASE WHEN viewers.pseudonym_rectified THEN viewers.pseudonym \
               ELSE excluded.pseudonym END, \
             last_seen = greatest(viewers.last_seen, excluded.last_seen)",
            &[
                &live_id,
                &viewer.id.0,
                &viewer.first_name,
                &viewer.pseudonym,
                &viewer.first_seen,
                &viewer.last_seen,
            ],
        )?;
        let row = ContactRow {
            cipher,
            live,
            live_id,
            viewer: &viewer.id,
        };
        let mut cleared = false;
        for field in ContactField::ALL {
            match FieldChange::of(field, contact) {
                FieldChange::Keep => {}
                FieldChange::Remove => cleared |= row.clear(sql, &mut tx, field)?,
                FieldChange::Set(value) => {
                    let collected_for = row.purpose(sql, &mut tx, field)?;
                    match purpose_in_force(field, collected_for, &consents) {
                        Some(purpose) => row.set(sql, &mut tx, field, value, purpose)?,
                        // No consent stands behind it: not stored, and
                        // nothing older is kept in its place either.
                        None => cleared |= row.clear(sql, &mut tx, field)?,
                    }
                }
            }
        }
        let xid = if cleared {
            Some(deleting_xid(sql, &mut tx)?)
        } else {
            None
        };
        sql.finish(tx)?;
        if let Some(xid) = xid {
            purge_due.insert("viewers");
            *purge_xid = (*purge_xid).max(xid);
        }
        Ok(())
    }

    fn viewer(
        &mut self,
        live: &str,
        id: &ViewerId,
        now: Millis,
    ) -> Result<Option<StoredViewer>, StoreError> {
        let live_id = self.live_id(live)?;
        let Some((record, corrected)) = self.viewer_record(live_id, id)? else {
            return Ok(None);
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
        let Some((record, _)) = self.viewer_record(live_id, id)? else {
            return Ok(None);
        };
        let contact = if with_contact {
            self.refresh_keys();
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
        if !contact.is_empty() {
            self.refresh_keys();
        }
        let Self {
            client,
            statements: sql,
            cipher,
            purge_due,
            purge_xid,
            ..
        } = self;
        let mut tx = sql.begin(client)?;
        sql.exec(
            &mut tx,
            "INSERT INTO consents (live_id, viewer_id, purpose, granted, at, channel, \
             text_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &live_id,
                &viewer.0,
                &wire_name(&consent.purpose),
                &consent.granted,
                &consent.at,
                &wire_name(&consent.channel),
                &consent.text_sha256,
            ],
        )?;
        let row = ContactRow {
            cipher,
            live,
            live_id,
            viewer,
        };
        let mut cleared = false;
        for field in ContactField::ALL {
            if !consent.granted {
                // Withdrawn: what was collected for this purpose goes with it.
                if row.purpose(sql, &mut tx, field)? == Some(consent.purpose) {
                    cleared |= row.clear(sql, &mut tx, field)?;
                }
                continue;
            }
            match FieldChange::of(field, contact) {
                FieldChange::Remove => cleared |= row.clear(sql, &mut tx, field)?,
                FieldChange::Set(value) if field.serves(consent.purpose) => {
                    row.set(sql, &mut tx, field, value, consent.purpose)?;
                }
                FieldChange::Keep | FieldChange::Set(_) => {}
            }
        }
        let xid = if cleared {
            Some(deleting_xid(sql, &mut tx)?)
        } else {
            None
        };
        sql.finish(tx)?;
        if let Some(xid) = xid {
            purge_due.insert("viewers");
            *purge_xid = (*purge_xid).max(xid);
        }
        Ok(())
    }

    fn command_outcome(
        &mut self,
        live: &str,
        principal: &str,
        id: &CommandId,
    ) -> Result<Option<CommandOutcome>, StoreError> {
        let live_id = self.live_id(live)?;
        self.statements
            .query_opt(
                &mut self.client,
                "SELECT outcome FROM command_outcomes \
                 WHERE live_id = $1 AND principal = $2 AND command_id = $3",
                &[&live_id, &principal, &id.0],
            )?
            .map(|r| json_text(&r.try_get::<_, String>(0)?, "command outcome"))
            .transpose()
    }

    fn erased(&mut self, live: &str, id: &ViewerId) -> Result<bool, StoreError> {
        let live_id = self.live_id(live)?;
        Ok(self
            .statements
            .query_one(
                &mut self.client,
                "SELECT EXISTS (SELECT 1 FROM erasures WHERE live_id = $1 AND viewer_id = $2)",
                &[&live_id, &id.0],
            )?
            .try_get(0)?)
    }

    fn audit_log(&mut self, live: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let live_id = self.live_id(live)?;
        self.statements
            .query(
                &mut self.client,
                "SELECT idx, at, actor_name, actor_role, action, target, reason, prev_hash, hash \
                 FROM audit WHERE live_id = $1 ORDER BY idx",
                &[&live_id],
            )?
            .iter()
            .map(|r| {
                Ok(AuditRecord {
                    index: u64_from_sql(r.try_get(0)?),
                    entry: read_entry(r, 1)?,
                    prev_hash: r.try_get(7)?,
                    hash: r.try_get(8)?,
                })
            })
            .collect()
    }

    fn verify_audit_chain(&mut self, live: &str) -> Result<(), StoreError> {
        // From genesis, or from a checkpoint signed by a node of the brand.
        let live_id = self.live_id(live)?;
        let checkpoint = checkpoints::read(&mut self.statements, &mut self.client, live_id)?;
        let records = self.audit_log(live)?;
        let broken = |(record, why)| StoreError::AuditChainBroken {
            live: live.to_string(),
            record,
            why,
        };
        if let Some(c) = &checkpoint {
            checkpoints::verify(c, live, &checkpoints::keys(&self.cipher)).map_err(broken)?;
        }
        audit::verify_from(live, checkpoint.as_ref(), &records).map_err(broken)
    }

    /// After a redaction or erasure: `VACUUM FULL` of the tables that held
    /// the deleted data, then `CHECKPOINT` (see the module docs). Nothing
    /// to purge: nothing to do (every commit is already durable). While a
    /// session holds a snapshot from before the deletion, PostgreSQL must
    /// keep the rows for it: [`StoreError::PurgeHeld`], and the purge stays
    /// due for the next call.
    fn checkpoint(&mut self) -> Result<(), StoreError> {
        if self.purge_due.is_empty() {
            return Ok(());
        }
        self.reconnect_if_lost()?;
        let xid = sql_i64(self.purge_xid);
        let held: i64 = self
            .statements
            .query_one(&mut self.client, PURGE_HELD_BY, &[&xid])?
            .try_get(0)?;
        if held > 0 {
            // The rewrite would have to keep the rows (and would wait for
            // the holders' table locks): the purge stays due.
            return Err(StoreError::PurgeHeld {
                holders: u64::try_from(held).unwrap_or(0),
            });
        }
        let tables: Vec<&str> = self.purge_due.iter().copied().collect();
        // VACUUM FULL waits for an exclusive lock, and every later reader
        // and writer of the table queues behind it: bounded, so a long
        // reader makes the purge wait for the next checkpoint instead of
        // stopping the show.
        // (VACUUM runs alone: never in a transaction or a multi-statement string.)
        let timeout = format!("SET lock_timeout = '{}ms'", PURGE_LOCK_TIMEOUT.as_millis());
        let set = self.client.batch_execute(&timeout);
        self.statements.note(set)?;
        let vacuum = self
            .client
            .batch_execute(&format!("VACUUM FULL {}", tables.join(", ")));
        let reset = self.client.batch_execute("RESET lock_timeout");
        if let Err(e) = &vacuum
            && e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
        {
            return Err(StoreError::PurgeHeld { holders: 1 });
        }
        self.statements.note(vacuum)?;
        self.statements.note(reset)?;
        self.purge_due.clear();
        match self.client.batch_execute("CHECKPOINT") {
            Err(e) if connection_lost(&e) => self.statements.note(Err(e)),
            Ok(()) => Ok(()),
            // CHECKPOINT needs superuser or pg_checkpoint: without it the
            // table files are clean all the same; the WAL lets go later.
            Err(e) if e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) => {
                if !std::mem::replace(&mut self.checkpoint_refused, true) {
                    tracing::warn!(
                        "the PostgreSQL role may not CHECKPOINT (grant it pg_checkpoint): \
                         redacted text leaves the write-ahead log at the server's own checkpoints"
                    );
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn rules(&mut self, live: &str) -> Result<Option<Vec<crate::protocol::RuleView>>, StoreError> {
        let live_id = self.live_id(live)?;
        rules::load_rules(&mut self.statements, &mut self.client, live_id)
    }

    fn seed_rules(
        &mut self,
        live: &str,
        defaults: &[crate::protocol::RuleView],
    ) -> Result<(), StoreError> {
        let live_id = self.live_id(live)?;
        rules::seed_rules(&mut self.statements, &mut self.client, live_id, defaults)
    }

    fn viewer_export(
        &mut self,
        live: &str,
        id: &ViewerId,
    ) -> Result<Option<crate::privacy::export::ViewerExport>, StoreError> {
        self.export_viewer(live, id)
    }

    fn live_info(&mut self, live: &str) -> Result<Option<crate::protocol::LiveInfo>, StoreError> {
        self.reconnect_if_lost()?;
        lives::live_info(&mut self.statements, &mut self.client, live)
    }

    fn lives(&mut self) -> Result<Vec<crate::protocol::LiveInfo>, StoreError> {
        self.reconnect_if_lost()?;
        lives::lives(&mut self.statements, &mut self.client)
    }

    fn create_live(
        &mut self,
        info: &crate::protocol::LiveInfo,
        now: Millis,
    ) -> Result<(), StoreError> {
        self.reconnect_if_lost()?;
        let epoch = new_epoch()?;
        lives::create_live(&mut self.statements, &mut self.client, info, &epoch, now)
    }

    fn staff_log(
        &mut self,
        live: &str,
        query: &super::StaffLogQuery,
    ) -> Result<super::StaffLogPage, StoreError> {
        let live_id = self.live_id(live)?;
        staff::staff_log(&mut self.statements, &mut self.client, live_id, query)
    }

    fn history_search(
        &mut self,
        live: &str,
        query: &super::history::HistoryQuery,
    ) -> Result<super::history::HistoryPage, StoreError> {
        let live_id = self.live_id(live)?;
        staff::history_search(&mut self.statements, &mut self.client, live_id, query)
    }

    fn shield_on(&mut self, live: &str) -> Result<bool, StoreError> {
        let live_id = self.live_id(live)?;
        log_state::shield_on(&mut self.statements, &mut self.client, live_id)
    }

    fn slow_mode(&mut self, live: &str) -> Result<Option<u32>, StoreError> {
        let live_id = self.live_id(live)?;
        log_state::slow_mode(&mut self.statements, &mut self.client, live_id)
    }

    fn delivery(
        &mut self,
        live: &str,
    ) -> Result<Option<crate::protocol::DeliveryPolicy>, StoreError> {
        let live_id = self.live_id(live)?;
        log_state::delivery(&mut self.statements, &mut self.client, live_id)
    }

    fn showcase(&mut self, live: &str) -> Result<super::StoredShowcase, StoreError> {
        let live_id = self.live_id(live)?;
        log_state::showcase(&mut self.statements, &mut self.client, live_id)
    }

    fn open_requests(&mut self) -> Result<Vec<super::requests::PrivacyRequest>, StoreError> {
        self.reconnect_if_lost()?;
        super::requests::open_requests(&mut self.requests_log())
    }

    fn add_privacy_request(
        &mut self,
        kind: super::requests::RequestKind,
        subject: &str,
        received_at: Millis,
    ) -> Result<bool, StoreError> {
        self.reconnect_if_lost()?;
        super::requests::log_viewer_request(&mut self.requests_log(), kind, subject, received_at)
    }

    fn games(&mut self, live: &str) -> Result<StoredGames, StoreError> {
        let live_id = self.live_id(live)?;
        games::load_games(&mut self.statements, &mut self.client, live_id)
    }

    fn game_news(&mut self, live: &str, since: GamesCursor) -> Result<GameNews, StoreError> {
        let live_id = self.live_id(live)?;
        games::game_news(&mut self.statements, &mut self.client, live_id, since)
    }

    /// The sweep (`retention`), then the purge of what it deleted, as
    /// after a redaction; a purge that must wait (a reader's snapshot, a
    /// table lock) stays due for the next checkpoint, and the sweep's
    /// deletions stand.
    fn sweep(
        &mut self,
        live: &str,
        policy: &super::RetentionPolicy,
        now: Millis,
    ) -> Result<super::SweepReport, StoreError> {
        let live_id = self.live_id(live)?;
        let keys = checkpoints::keys(&self.cipher);
        let swept = retention::sweep(
            &mut self.statements,
            &mut self.client,
            (live, live_id),
            policy,
            now,
            &keys,
        )?;
        if !swept.tables.is_empty() {
            self.purge_due.extend(swept.tables);
            self.purge_xid = self.purge_xid.max(swept.xid);
            match self.checkpoint() {
                Ok(()) => {}
                Err(e @ StoreError::PurgeHeld { .. }) => {
                    tracing::info!(error = %e, "the sweep's purge waits for the next checkpoint");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(swept.report)
    }
}
