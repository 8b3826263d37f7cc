//! Schema migrations, applied in order and tracked by `PRAGMA user_version`.
//!
//! Each step is SQL run in its own immediate transaction together with the
//! version bump (re-read under the write lock, so concurrent openers of a
//! fresh data dir run each step once), so a crash mid-migration leaves the
//! previous version intact. Steps are only ever appended: an existing step is never edited once released.
//! A database whose version is newer than this build knows is refused with
//! a clear error rather than misread.

use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// The schema, one entry per version (index 0 brings version 0 to 1).
const STEPS: &[&str] = &[
    // 1: the first schema.
    r"
    CREATE TABLE lives (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        epoch       TEXT NOT NULL,
        head        INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL
    );

    -- Who joined. Contact data only sealed (see store::contact).
    CREATE TABLE viewers (
        live_id       INTEGER NOT NULL REFERENCES lives(id),
        viewer_id     TEXT NOT NULL,
        first_name    TEXT NOT NULL,
        pseudonym     TEXT NOT NULL,
        first_seen    INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        phone_sealed  BLOB,
        email_sealed  BLOB,
        PRIMARY KEY (live_id, viewer_id)
    );

    -- The only place chat text is stored. Redaction deletes the row; its
    -- tombstone takes its place.
    CREATE TABLE messages (
        live_id           INTEGER NOT NULL REFERENCES lives(id),
        id                INTEGER NOT NULL,
        at                INTEGER NOT NULL,
        author_kind       TEXT NOT NULL CHECK (author_kind IN ('viewer', 'staff')),
        viewer_id         TEXT,
        author_name       TEXT NOT NULL,
        author_pseudonym  TEXT,
        author_role       TEXT,
        text              TEXT NOT NULL,
        question          INTEGER NOT NULL,
        answered          INTEGER NOT NULL,
        visibility        TEXT NOT NULL,
        reply_to_id       INTEGER,
        reply_to_name     TEXT,
        PRIMARY KEY (live_id, id)
    );
    CREATE INDEX messages_by_viewer ON messages (live_id, viewer_id, id);
    CREATE INDEX open_questions ON messages (live_id, id) WHERE question = 1 AND answered = 0;

    CREATE TABLE tombstones (
        live_id       INTEGER NOT NULL REFERENCES lives(id),
        message_id    INTEGER NOT NULL,
        posted_at     INTEGER NOT NULL,
        redacted_at   INTEGER NOT NULL,
        author_id     TEXT,
        reason        TEXT NOT NULL,
        by_name       TEXT,
        by_role       TEXT NOT NULL,
        PRIMARY KEY (live_id, message_id)
    );
    CREATE INDEX tombstones_by_author ON tombstones (live_id, author_id, message_id);

    -- The sequenced log. Never holds chat text: message events keep only
    -- the message id and the state at the time (visibility, answered).
    CREATE TABLE events (
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        seq         INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        message_id  INTEGER,
        payload     TEXT NOT NULL,
        PRIMARY KEY (live_id, seq)
    ) WITHOUT ROWID;

    -- At most one pinned message per live.
    CREATE TABLE pins (
        live_id     INTEGER PRIMARY KEY REFERENCES lives(id),
        message_id  INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        by_name     TEXT,
        by_role     TEXT NOT NULL
    );

    CREATE TABLE sanctions (
        id          INTEGER PRIMARY KEY,
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        viewer_id   TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('timeout', 'ban')),
        until       INTEGER,
        reason      TEXT NOT NULL,
        by_name     TEXT,
        by_role     TEXT NOT NULL,
        at          INTEGER NOT NULL,
        seq         INTEGER NOT NULL
    );
    CREATE INDEX sanctions_by_viewer ON sanctions (live_id, viewer_id);

    -- Consent history, append only; the latest per purpose applies.
    CREATE TABLE consents (
        id           INTEGER PRIMARY KEY,
        live_id      INTEGER NOT NULL REFERENCES lives(id),
        viewer_id    TEXT NOT NULL,
        purpose      TEXT NOT NULL,
        granted      INTEGER NOT NULL,
        at           INTEGER NOT NULL,
        channel      TEXT NOT NULL,
        text_sha256  TEXT NOT NULL
    );
    CREATE INDEX consents_by_viewer ON consents (live_id, viewer_id, id);

    -- Answers already given, so a retried command id has its effect once.
    CREATE TABLE command_outcomes (
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        principal   TEXT NOT NULL,
        command_id  TEXT NOT NULL,
        at          INTEGER NOT NULL,
        outcome     TEXT NOT NULL,
        PRIMARY KEY (live_id, principal, command_id)
    ) WITHOUT ROWID;
    CREATE INDEX command_outcomes_by_age ON command_outcomes (live_id, at);

    -- Append-only, hash-chained (see store::audit).
    CREATE TABLE audit (
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        idx         INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        actor_name  TEXT NOT NULL,
        actor_role  TEXT NOT NULL,
        action      TEXT NOT NULL,
        target      TEXT NOT NULL,
        reason      TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL,
        PRIMARY KEY (live_id, idx)
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    ",
    // 2: polls and instant wins (see store::games).
    r"
    CREATE TABLE polls (
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        id          INTEGER NOT NULL,
        view        TEXT NOT NULL,      -- the PollView as launched (JSON)
        closed_at   INTEGER,
        PRIMARY KEY (live_id, id)
    );
    -- One final vote per viewer per poll, enforced here too.
    CREATE TABLE votes (
        live_id     INTEGER NOT NULL,
        poll_id     INTEGER NOT NULL,
        viewer_id   TEXT NOT NULL,
        option      INTEGER NOT NULL,
        PRIMARY KEY (live_id, poll_id, viewer_id),
        FOREIGN KEY (live_id, poll_id) REFERENCES polls(live_id, id)
    ) WITHOUT ROWID;
    CREATE TABLE instant_wins (
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        id          INTEGER NOT NULL,
        view        TEXT NOT NULL,      -- the DrawView as launched (JSON)
        seed        TEXT NOT NULL,      -- secret until drawn; never served before
        record      TEXT,               -- the published DrawRecord (JSON), once drawn
        winners     TEXT,               -- the announced winners (JSON)
        drawn_at    INTEGER,
        PRIMARY KEY (live_id, id)
    );
    CREATE TABLE entries (
        live_id     INTEGER NOT NULL,
        draw_id     INTEGER NOT NULL,
        viewer_id   TEXT NOT NULL,
        PRIMARY KEY (live_id, draw_id, viewer_id),
        FOREIGN KEY (live_id, draw_id) REFERENCES instant_wins(live_id, id)
    ) WITHOUT ROWID;
    ",
    // 3: nothing stored is an unkeyed function of personal data (issue 9).
    r"
    -- Retry keys were the client's id plus an unkeyed SHA-256 prefix of the
    -- raw command ('id#tag'): testable against guesses. They are only worth
    -- seconds, so they go; the hub now writes keyed ones (hub::fingerprint).
    DELETE FROM command_outcomes WHERE command_id LIKE '%#%';
    -- The event an ack acknowledged, so redacting a message deletes the
    -- outcome of the command that posted it, in the same transaction.
    ALTER TABLE command_outcomes ADD COLUMN seq INTEGER;
    UPDATE command_outcomes SET seq = json_extract(outcome, '$.seq')
        WHERE json_extract(outcome, '$.kind') = 'ack';
    CREATE INDEX command_outcomes_by_seq ON command_outcomes (live_id, seq)
        WHERE seq IS NOT NULL;

    -- The consent purpose each contact value was collected for: withdrawing
    -- it deletes the value. A value already stored keeps the latest granted
    -- purpose in force that its field serves (phone: prize_contact,
    -- sms_reminders; e-mail: prize_contact, marketing), else it is deleted.
    ALTER TABLE viewers ADD COLUMN phone_purpose TEXT;
    ALTER TABLE viewers ADD COLUMN email_purpose TEXT;
    CREATE TEMP VIEW consents_in_force AS
        SELECT c.live_id, c.viewer_id, c.purpose, c.id FROM consents c
        WHERE c.granted = 1 AND c.id = (SELECT max(l.id) FROM consents l
            WHERE l.live_id = c.live_id AND l.viewer_id = c.viewer_id
              AND l.purpose = c.purpose);
    UPDATE viewers SET phone_purpose = (SELECT f.purpose FROM consents_in_force f
        WHERE f.live_id = viewers.live_id AND f.viewer_id = viewers.viewer_id
          AND f.purpose IN ('prize_contact', 'sms_reminders')
        ORDER BY f.id DESC LIMIT 1)
        WHERE phone_sealed IS NOT NULL;
    UPDATE viewers SET email_purpose = (SELECT f.purpose FROM consents_in_force f
        WHERE f.live_id = viewers.live_id AND f.viewer_id = viewers.viewer_id
          AND f.purpose IN ('prize_contact', 'marketing')
        ORDER BY f.id DESC LIMIT 1)
        WHERE email_sealed IS NOT NULL;
    UPDATE viewers SET phone_sealed = NULL WHERE phone_purpose IS NULL;
    UPDATE viewers SET email_sealed = NULL WHERE email_purpose IS NULL;
    DROP VIEW consents_in_force;
    ",
    // 4: retention (see store::retention).
    r"
    -- Where a pruned audit chain starts: the last pruned record's index and
    -- hash, HMAC-signed under audit.key (see store::audit::Checkpoint).
    CREATE TABLE audit_checkpoints (
        live_id  INTEGER PRIMARY KEY REFERENCES lives(id),
        idx      INTEGER NOT NULL,
        hash     TEXT NOT NULL,
        mac      TEXT NOT NULL
    );
    -- Records stay undeletable, except those a checkpoint covers.
    DROP TRIGGER audit_no_delete;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    WHEN NOT EXISTS (SELECT 1 FROM audit_checkpoints c
                     WHERE c.live_id = OLD.live_id AND c.idx >= OLD.idx)
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    -- The highest message id retention deleted, so a restarted hub never
    -- numbers a new message with the id of a swept one.
    ALTER TABLE lives ADD COLUMN swept_message_id INTEGER NOT NULL DEFAULT 0;
    ",
    // 5: rights requests (issue 9): the consent texts viewers were shown,
    // by hash, so an export gives the exact text; and the requests log.
    r"
    -- Registered by the brand (`regie privacy consent-text`); a consent
    -- row names its text by hash, this table keeps the words.
    CREATE TABLE consent_texts (
        sha256      TEXT PRIMARY KEY,
        text        TEXT NOT NULL,
        first_seen  INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- Data-protection requests (Art. 15-21) and their deadlines (Art. 12(3)).
    CREATE TABLE privacy_requests (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL,
        subject      TEXT NOT NULL,
        received_at  INTEGER NOT NULL,
        due_at       INTEGER NOT NULL,
        extension    TEXT,
        status       TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        closed_at    INTEGER
    );
    ",
    // 6: erased viewers (Art. 17, see sqlite::erase_viewer).
    r"
    -- The content-free proof that an erasure was honoured, and the erased
    -- pseudonymous id, so the same device key joins as a new viewer.
    CREATE TABLE erasures (
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        viewer_id   TEXT NOT NULL,
        at          INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        PRIMARY KEY (live_id, viewer_id)
    ) WITHOUT ROWID;
    ",
    // 7: names support corrected (Art. 16, see sqlite::rectify) are
    // staff-owned: the viewer's next hello does not overwrite them.
    r"
    ALTER TABLE viewers ADD COLUMN first_name_rectified INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE viewers ADD COLUMN pseudonym_rectified INTEGER NOT NULL DEFAULT 0;
    ",
    // 8: moderation rules per live (issue 10, see store::rules).
    r"
    -- Kept by the rule_added / rule_removed events; a removed or expired
    -- rule keeps its row (removed_at), so defaults are seeded only once.
    CREATE TABLE rules (
        live_id          INTEGER NOT NULL REFERENCES lives(id),
        rule_id          INTEGER NOT NULL,
        kind             TEXT NOT NULL CHECK (kind IN ('term', 'regex', 'link_policy')),
        pattern          TEXT NOT NULL,
        action           TEXT NOT NULL CHECK (action IN ('block', 'hold', 'flag')),
        expires_at       INTEGER,
        created_by_name  TEXT,
        created_by_role  TEXT,
        created_at       INTEGER NOT NULL,
        removed_at       INTEGER,
        PRIMARY KEY (live_id, rule_id)
    ) WITHOUT ROWID;
    ",
    // Staff-only moderation notes on a viewer (`note_add`, see
    // sqlite::insert_note): deleted with the viewer's erasure and after the
    // `moderation_notes` retention period.
    r"
    CREATE TABLE IF NOT EXISTS mod_notes (
        id          INTEGER PRIMARY KEY,
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        viewer_id   TEXT NOT NULL,
        at          INTEGER NOT NULL,
        by_name     TEXT,
        by_role     TEXT NOT NULL,
        text        TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS mod_notes_by_viewer ON mod_notes (live_id, viewer_id, id);
    ",
    // lives with a lifecycle (issue 10, see protocol::LiveState): scheduled,
    // on air, ended, only forward. Lives stored before ran on air from
    // their creation.
    r"
    ALTER TABLE lives ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE lives ADD COLUMN starts_at INTEGER;
    ALTER TABLE lives ADD COLUMN state TEXT NOT NULL DEFAULT 'on_air'
        CHECK (state IN ('scheduled', 'on_air', 'ended'));
    ALTER TABLE lives ADD COLUMN started_at INTEGER;
    ALTER TABLE lives ADD COLUMN ended_at INTEGER;
    UPDATE lives SET started_at = created_at;
    ",
    // A question asked while a product showed keeps that product's id
    // (issue 12, protocol::ChatMessage::product): consoles joining later
    // still tag it. Not personal data; it goes with the message.
    r"
    ALTER TABLE messages ADD COLUMN product INTEGER;
    ",
    // Staff announcements (issue 12, `say` with `announcement`): a line
    // stays an announcement in every later snapshot, pin and replay.
    r"
    ALTER TABLE messages ADD COLUMN announcement INTEGER NOT NULL DEFAULT 0;
    ",
    // A group answer's other askers (issue 12, `also_to`): one row per
    // message the answer is also bound to, with the first name it names.
    // Deleted with the answer (redaction, retention); an erasure blanks
    // the names that point at the erased viewer's messages.
    r"
    CREATE TABLE answer_also (
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        answer_id   INTEGER NOT NULL,
        position    INTEGER NOT NULL,
        message_id  INTEGER NOT NULL,
        first_name  TEXT NOT NULL,
        PRIMARY KEY (live_id, answer_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX answer_also_by_message ON answer_also (live_id, message_id);
    ",
    // The post-live report (issue 14, see store::report_source): a
    // content-free presence record per connection (pseudonymous id, join
    // and leave), deleted on erasure and with the chat by retention, and
    // the figures frozen just before that sweep (counts only).
    r"
    CREATE TABLE presence (
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        viewer_id   TEXT NOT NULL,
        joined_at   INTEGER NOT NULL,
        left_at     INTEGER
    );
    CREATE INDEX presence_by_viewer ON presence (live_id, viewer_id, joined_at);
    CREATE TABLE report_figures (
        live_id      INTEGER PRIMARY KEY REFERENCES lives(id),
        computed_at  INTEGER NOT NULL,
        figures      TEXT NOT NULL
    );
    ",
    // SMS alerts (issue 13, src/sms): who asked for them (the phone stays
    // sealed in `viewers`; `lookup` is keyed, for an inbound STOP), the
    // alerts queued, one outbox row per message (UNIQUE: a restart never
    // queues twice), and the inbound messages already handled.
    r"
    CREATE TABLE sms_subscriptions (
        live_id    INTEGER NOT NULL REFERENCES lives(id),
        viewer_id  TEXT NOT NULL,
        scope      TEXT NOT NULL,
        lookup     BLOB NOT NULL,
        at         INTEGER NOT NULL,
        PRIMARY KEY (live_id, viewer_id)
    ) WITHOUT ROWID;
    CREATE INDEX sms_subscriptions_by_lookup ON sms_subscriptions (lookup);
    CREATE TABLE sms_alerts (
        live_id          INTEGER PRIMARY KEY REFERENCES lives(id),
        queued_at        INTEGER NOT NULL,
        recipients       INTEGER NOT NULL,
        error            TEXT,
        phones_released  INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE sms_outbox (
        id            INTEGER PRIMARY KEY,
        live_id       INTEGER NOT NULL REFERENCES lives(id),
        viewer_id     TEXT NOT NULL,
        kind          TEXT NOT NULL,
        from_live_id  INTEGER NOT NULL REFERENCES lives(id),
        state         TEXT NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_at       INTEGER NOT NULL,
        provider_id   TEXT,
        delivery      TEXT,
        error         TEXT,
        updated_at    INTEGER NOT NULL,
        UNIQUE (live_id, viewer_id, kind)
    );
    CREATE INDEX sms_outbox_due ON sms_outbox (state, next_at);
    CREATE INDEX sms_outbox_by_provider_id ON sms_outbox (provider_id);
    CREATE TABLE sms_inbound (
        provider    TEXT NOT NULL,
        message_id  TEXT NOT NULL,
        at          INTEGER NOT NULL,
        PRIMARY KEY (provider, message_id)
    ) WITHOUT ROWID;
    ",
    // Shop events for the report's commerce figures (issue 14, see
    // store::shop_events): content-free, keyed by a digest of the shop's
    // event id (the duplicate check). The viewer link is blanked on
    // erasure; retention deletes the rows with the presence records.
    r"
    CREATE TABLE shop_events (
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        digest      TEXT NOT NULL UNIQUE,
        event_kind  TEXT NOT NULL,
        happened_at INTEGER NOT NULL,
        viewer_id   TEXT,
        amount      INTEGER,
        currency    TEXT,
        products    TEXT NOT NULL
    );
    CREATE INDEX shop_events_by_live ON shop_events (live_id, viewer_id);
    ",
    // Issue 13's webhooks and CRM push: the keyed lookup of each e-mail
    // held (an unsubscribe finds its viewer; it goes when the e-mail or
    // the viewer does), a STOP's keyed tombstone (a START from the same
    // number restores that subscription, until the phone period ends),
    // and the queue of opt-ins and withdrawals pushed to the brand's CRM
    // (from the consents after this step; the address is never copied),
    // and the erasures of viewers whose opt-in was pushed (Art. 19).
    r"
    CREATE TABLE email_lookups (
        live_id    INTEGER NOT NULL REFERENCES lives(id),
        viewer_id  TEXT NOT NULL,
        lookup     BLOB NOT NULL,
        PRIMARY KEY (live_id, viewer_id)
    ) WITHOUT ROWID;
    CREATE INDEX email_lookups_by_lookup ON email_lookups (lookup);
    CREATE TABLE sms_stopped (
        live_id    INTEGER NOT NULL REFERENCES lives(id),
        viewer_id  TEXT NOT NULL,
        lookup     BLOB NOT NULL,
        key_id     BLOB NOT NULL,
        at         INTEGER NOT NULL,
        PRIMARY KEY (live_id, viewer_id)
    ) WITHOUT ROWID;
    CREATE INDEX sms_stopped_by_lookup ON sms_stopped (lookup);
    CREATE TABLE crm_outbox (
        id          INTEGER PRIMARY KEY,
        consent_id  INTEGER UNIQUE,
        live_id     INTEGER NOT NULL REFERENCES lives(id),
        viewer_id   TEXT NOT NULL,
        event       TEXT NOT NULL,
        state       TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        next_at     INTEGER NOT NULL,
        error       TEXT,
        updated_at  INTEGER NOT NULL
    );
    CREATE INDEX crm_outbox_due ON crm_outbox (state, next_at);
    CREATE TABLE crm_cursor (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        consent_id  INTEGER NOT NULL
    );
    INSERT INTO crm_cursor VALUES (1, (SELECT coalesce(max(id), 0) FROM consents));
    CREATE TRIGGER email_lookup_gone AFTER UPDATE OF email_sealed ON viewers
    WHEN NEW.email_sealed IS NULL BEGIN
        DELETE FROM email_lookups WHERE live_id = NEW.live_id AND viewer_id = NEW.viewer_id;
    END;
    CREATE TRIGGER viewer_gone AFTER DELETE ON viewers BEGIN
        DELETE FROM email_lookups WHERE live_id = OLD.live_id AND viewer_id = OLD.viewer_id;
        DELETE FROM sms_stopped WHERE live_id = OLD.live_id AND viewer_id = OLD.viewer_id;
        DELETE FROM crm_outbox WHERE live_id = OLD.live_id AND viewer_id = OLD.viewer_id;
    END;
    ",
    // The audience of a live whose figures were frozen while its
    // attribution window was still open (store::report_source): who later
    // shop events may count for. Deleted when the window closes, and with
    // the viewer on erasure.
    r"
    CREATE TABLE report_audience (
        live_id    INTEGER NOT NULL REFERENCES lives(id),
        viewer_id  TEXT NOT NULL,
        PRIMARY KEY (live_id, viewer_id)
    ) WITHOUT ROWID;
    ",
];

/// The schema version this build writes.
#[expect(clippy::cast_possible_wrap, reason = "a handful of steps, in a const")]
pub(crate) const SCHEMA_VERSION: i64 = STEPS.len() as i64;

/// How long an opener waits for another to finish switching a fresh
/// database to WAL (the same as the store's busy timeout).
const WAL_SWITCH_WAIT: Duration = Duration::from_secs(5);

/// Switches the database to WAL and returns the journal mode it is in.
///
/// The switch takes an exclusive lock and SQLite answers "database is
/// locked" at once, without its busy handler, to a second connection making
/// the same switch on a fresh file. WAL is then a property of the file: the
/// one that waited finds it set and is done. A bounded retry covers that
/// first-open race; any other error is returned as it is.
pub(crate) fn switch_to_wal(conn: &Connection) -> Result<String, StoreError> {
    let deadline = Instant::now() + WAL_SWITCH_WAIT;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return Ok(result?),
        }
    }
}

/// Brings the database up to [`SCHEMA_VERSION`].
///
/// Each step takes the write lock first (an immediate transaction) and
/// reads `user_version` again under it: two processes opening a fresh data
/// dir at once (a hub and `regie privacy …`) would otherwise both read
/// version 0 and both run step 1, the second failing on "table lives
/// already exists". The one that waited finds the step done and skips it.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        let Some(step) = STEPS.get(usize::try_from(found).unwrap_or(0)) else {
            return Ok(());
        };
        tx.execute_batch(step)?;
        // PRAGMA takes no bound parameters; the value is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", found + 1))?;
        tx.commit()?;
        tracing::info!(version = found + 1, "store schema migrated");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_new_database_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn a_newer_schema_is_refused_clearly() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA user_version = 999").unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found: 999, .. }));
        assert!(err.to_string().contains("newer than this build knows"));
    }

    #[test]
    fn the_audit_table_refuses_update_and_delete() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO lives (id, name, epoch, created_at) VALUES (1, 's', 'e', 0);
             INSERT INTO audit VALUES (1, 1, 0, 'a', 'admin', 'ban', 'v', '', 'p', 'h');",
        )
        .unwrap();
        assert!(conn.execute("UPDATE audit SET reason = 'x'", []).is_err());
        assert!(conn.execute("DELETE FROM audit", []).is_err());
        let n: i64 = conn
            .query_row("SELECT count(*) FROM audit WHERE reason = ''", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn only_audit_records_a_checkpoint_covers_can_be_deleted() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO lives (id, name, epoch, created_at) VALUES (1, 's', 'e', 0);
             INSERT INTO audit VALUES (1, 1, 0, 'a', 'admin', 'ban', 'v', '', 'p', 'h1');
             INSERT INTO audit VALUES (1, 2, 0, 'a', 'admin', 'ban', 'v', '', 'h1', 'h2');
             INSERT INTO audit_checkpoints VALUES (1, 1, 'h1', 'm');",
        )
        .unwrap();
        assert!(conn.execute("DELETE FROM audit WHERE idx = 2", []).is_err());
        assert_eq!(
            conn.execute("DELETE FROM audit WHERE idx = 1", []).unwrap(),
            1
        );
        assert!(conn.execute("UPDATE audit SET reason = 'x'", []).is_err());
    }
}
