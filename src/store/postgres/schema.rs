//! The PostgreSQL store's schema, versioned in `regie_schema` and created in
//! the connection's current schema (`search_path`), so several stores can
//! share one database in schemas of their own.
//!
//! Migrations run in one transaction under an advisory lock keyed by the
//! schema's name, so nodes starting together create it once. A schema newer
//! than this build is refused, as SQLite's is.

use postgres::Client;

use crate::store::StoreError;

/// The version this build writes (the number of [`STEPS`]).
pub(super) const VERSION: i64 = 4;

/// One entry per version (index 0 brings version 0 to 1). Only appended.
const STEPS: &[&str] = &[
    // 1: the first schema: what the conformance suite exercises.
    r"
    CREATE TABLE lives (
        id          BIGSERIAL PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        epoch       TEXT NOT NULL,
        -- The per-live counter row: the last committed seq. A commit locks
        -- it (SELECT ... FOR UPDATE) and moves it in the same transaction
        -- as its events, so any node may write the live.
        head        BIGINT NOT NULL DEFAULT 0,
        created_at  BIGINT NOT NULL,
        state       TEXT NOT NULL DEFAULT 'on_air',
        started_at  BIGINT,
        ended_at    BIGINT
    );

    -- Who joined. Contact data only sealed (see store::contact), tagged
    -- with the purpose of the consent it was collected under.
    CREATE TABLE viewers (
        live_id        BIGINT NOT NULL REFERENCES lives(id),
        viewer_id      TEXT NOT NULL,
        first_name     TEXT NOT NULL,
        pseudonym      TEXT NOT NULL,
        first_seen     BIGINT NOT NULL,
        last_seen      BIGINT NOT NULL,
        phone_sealed   BYTEA,
        phone_purpose  TEXT,
        email_sealed   BYTEA,
        email_purpose  TEXT,
        PRIMARY KEY (live_id, viewer_id)
    );

    -- The only place chat text is stored. Redaction deletes the row (and
    -- the store's checkpoint rewrites the table: see the module docs).
    CREATE TABLE messages (
        live_id           BIGINT NOT NULL REFERENCES lives(id),
        id                BIGINT NOT NULL,
        at                BIGINT NOT NULL,
        author_kind       TEXT NOT NULL CHECK (author_kind IN ('viewer', 'staff')),
        viewer_id         TEXT,
        author_name       TEXT NOT NULL,
        author_pseudonym  TEXT,
        author_role       TEXT,
        text              TEXT NOT NULL,
        question          BOOLEAN NOT NULL,
        answered          BOOLEAN NOT NULL,
        visibility        TEXT NOT NULL,
        reply_to_id       BIGINT,
        reply_to_name     TEXT,
        product           BIGINT,
        announcement      BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (live_id, id)
    );
    CREATE INDEX messages_by_viewer ON messages (live_id, viewer_id, id);
    CREATE INDEX open_questions ON messages (live_id, id) WHERE question AND NOT answered;

    -- An answer addressed to several grouped questions: the others.
    CREATE TABLE answer_also (
        live_id     BIGINT NOT NULL REFERENCES lives(id),
        answer_id   BIGINT NOT NULL,
        position    BIGINT NOT NULL,
        message_id  BIGINT NOT NULL,
        first_name  TEXT NOT NULL,
        PRIMARY KEY (live_id, answer_id, position)
    );

    CREATE TABLE tombstones (
        live_id      BIGINT NOT NULL REFERENCES lives(id),
        message_id   BIGINT NOT NULL,
        posted_at    BIGINT NOT NULL,
        redacted_at  BIGINT NOT NULL,
        author_id    TEXT,
        reason       TEXT NOT NULL,
        by_name      TEXT,
        by_role      TEXT NOT NULL,
        PRIMARY KEY (live_id, message_id)
    );
    CREATE INDEX tombstones_by_author ON tombstones (live_id, author_id, message_id);

    -- The sequenced log. Never holds chat text: message events keep only
    -- the message id and the state at the time (store::rows::MessageRef).
    CREATE TABLE events (
        live_id     BIGINT NOT NULL REFERENCES lives(id),
        seq         BIGINT NOT NULL,
        at          BIGINT NOT NULL,
        kind        TEXT NOT NULL,
        message_id  BIGINT,
        payload     TEXT NOT NULL,
        PRIMARY KEY (live_id, seq)
    );
    CREATE INDEX events_by_message ON events (live_id, message_id) WHERE message_id IS NOT NULL;

    CREATE TABLE pins (
        live_id     BIGINT PRIMARY KEY REFERENCES lives(id),
        message_id  BIGINT NOT NULL,
        at          BIGINT NOT NULL,
        by_name     TEXT,
        by_role     TEXT NOT NULL
    );

    CREATE TABLE sanctions (
        id         BIGSERIAL PRIMARY KEY,
        live_id    BIGINT NOT NULL REFERENCES lives(id),
        viewer_id  TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('timeout', 'ban')),
        until      BIGINT,
        reason     TEXT NOT NULL,
        by_name    TEXT,
        by_role    TEXT NOT NULL,
        at         BIGINT NOT NULL,
        seq        BIGINT NOT NULL
    );
    CREATE INDEX sanctions_by_viewer ON sanctions (live_id, viewer_id);

    CREATE TABLE consents (
        id           BIGSERIAL PRIMARY KEY,
        live_id      BIGINT NOT NULL REFERENCES lives(id),
        viewer_id    TEXT NOT NULL,
        purpose      TEXT NOT NULL,
        granted      BOOLEAN NOT NULL,
        at           BIGINT NOT NULL,
        channel      TEXT NOT NULL,
        text_sha256  TEXT NOT NULL
    );
    CREATE INDEX consents_by_viewer ON consents (live_id, viewer_id);

    CREATE TABLE mod_notes (
        id         BIGSERIAL PRIMARY KEY,
        live_id    BIGINT NOT NULL REFERENCES lives(id),
        viewer_id  TEXT NOT NULL,
        at         BIGINT NOT NULL,
        by_name    TEXT,
        by_role    TEXT NOT NULL,
        text       TEXT NOT NULL
    );
    CREATE INDEX mod_notes_by_viewer ON mod_notes (live_id, viewer_id);

    -- Outcomes under (principal, command id): the hub passes keyed
    -- fingerprints, never the raw values.
    CREATE TABLE command_outcomes (
        live_id     BIGINT NOT NULL REFERENCES lives(id),
        principal   TEXT NOT NULL,
        command_id  TEXT NOT NULL,
        at          BIGINT NOT NULL,
        outcome     TEXT NOT NULL,
        seq         BIGINT,
        PRIMARY KEY (live_id, principal, command_id)
    );
    CREATE INDEX command_outcomes_by_seq ON command_outcomes (live_id, seq);
    CREATE INDEX command_outcomes_by_age ON command_outcomes (live_id, at);

    -- Append-only, hash-chained (store::audit).
    CREATE TABLE audit (
        live_id     BIGINT NOT NULL REFERENCES lives(id),
        idx         BIGINT NOT NULL,
        at          BIGINT NOT NULL,
        actor_name  TEXT NOT NULL,
        actor_role  TEXT NOT NULL,
        action      TEXT NOT NULL,
        target      TEXT NOT NULL,
        reason      TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL,
        PRIMARY KEY (live_id, idx)
    );

    -- The content-free proof of an erasure (Art. 17).
    CREATE TABLE erasures (
        live_id    BIGINT NOT NULL REFERENCES lives(id),
        viewer_id  TEXT NOT NULL,
        at         BIGINT NOT NULL,
        seq        BIGINT NOT NULL,
        PRIMARY KEY (live_id, viewer_id)
    );
    ",
    // 2: moderation rules (store::rules has the SQLite twin). A removed or
    // expired rule keeps its row with `removed_at`: a live with rows was
    // seeded, so no restart puts back a default a moderator removed. And
    // names corrected by support (Art. 16): a corrected field is
    // staff-owned, kept over what the viewer's device says at its next
    // hello.
    r"
    ALTER TABLE viewers
        ADD COLUMN first_name_rectified BOOLEAN NOT NULL DEFAULT FALSE,
        ADD COLUMN pseudonym_rectified BOOLEAN NOT NULL DEFAULT FALSE;

    CREATE TABLE rules (
        live_id          BIGINT NOT NULL REFERENCES lives(id),
        rule_id          BIGINT NOT NULL,
        kind             TEXT NOT NULL,
        pattern          TEXT NOT NULL,
        action           TEXT NOT NULL,
        expires_at       BIGINT,
        created_by_name  TEXT,
        created_by_role  TEXT,
        created_at       BIGINT NOT NULL,
        removed_at       BIGINT,
        PRIMARY KEY (live_id, rule_id)
    );
    ",
    // 3: polls and instant wins (store::games; the SQLite twin is its
    // version 2). Votes and entries are numbered (`n`) so that every node
    // reads those the others stored (see postgres::games). The highest
    // message id the retention sweep deleted, so none is reused. And the
    // data-protection requests log (postgres::requests).
    r"
    ALTER TABLE lives ADD COLUMN swept_message_id BIGINT NOT NULL DEFAULT 0;

    CREATE TABLE polls (
        live_id     BIGINT NOT NULL REFERENCES lives(id),
        id          BIGINT NOT NULL,
        view        TEXT NOT NULL,      -- the PollView as launched (JSON)
        closed_at   BIGINT,
        cleared_at  BIGINT,
        PRIMARY KEY (live_id, id)
    );
    -- One final vote per viewer per poll, enforced here too.
    CREATE TABLE votes (
        live_id     BIGINT NOT NULL,
        poll_id     BIGINT NOT NULL,
        viewer_id   TEXT NOT NULL,
        option      BIGINT NOT NULL,
        n           BIGINT GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (live_id, poll_id, viewer_id),
        FOREIGN KEY (live_id, poll_id) REFERENCES polls(live_id, id)
    );
    CREATE INDEX votes_news ON votes (live_id, n);
    CREATE TABLE instant_wins (
        live_id     BIGINT NOT NULL REFERENCES lives(id),
        id          BIGINT NOT NULL,
        view        TEXT NOT NULL,      -- the DrawView as launched (JSON)
        seed        TEXT NOT NULL,      -- secret until drawn; never served before
        record      TEXT,               -- the published DrawRecord (JSON), once drawn
        winners     TEXT,               -- the announced winners (JSON)
        drawn_at    BIGINT,
        PRIMARY KEY (live_id, id)
    );
    CREATE TABLE entries (
        live_id     BIGINT NOT NULL,
        draw_id     BIGINT NOT NULL,
        viewer_id   TEXT NOT NULL,
        n           BIGINT GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (live_id, draw_id, viewer_id),
        FOREIGN KEY (live_id, draw_id) REFERENCES instant_wins(live_id, id)
    );
    CREATE INDEX entries_news ON entries (live_id, n);

    -- Data-protection requests (store::requests): one log for every node.
    -- One open request per kind and subject, so nodes logging the same
    -- click at once log it once.
    CREATE TABLE privacy_requests (
        id           BIGSERIAL PRIMARY KEY,
        kind         TEXT NOT NULL,
        subject      TEXT NOT NULL,
        received_at  BIGINT NOT NULL,
        due_at       BIGINT NOT NULL,
        extension    TEXT,
        closed_at    BIGINT
    );
    CREATE UNIQUE INDEX privacy_requests_open ON privacy_requests (kind, subject)
        WHERE closed_at IS NULL;
    ",
    // 4: a live's title and announced start (postgres::lives), so lives
    // created ahead (`live_create`) are kept with what was announced; and
    // where a live's audit chain starts once retention pruned its head
    // (store::audit::Checkpoint, signed with a key every node derives).
    r"
    ALTER TABLE lives
        ADD COLUMN title TEXT NOT NULL DEFAULT '',
        ADD COLUMN starts_at BIGINT;

    CREATE TABLE audit_checkpoints (
        live_id  BIGINT PRIMARY KEY REFERENCES lives(id),
        idx      BIGINT NOT NULL,
        hash     TEXT NOT NULL,
        mac      TEXT NOT NULL
    );
    ",
];

/// Brings the schema to [`VERSION`].
pub(super) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('regie_schema:' || current_schema()))",
        &[],
    )?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS regie_schema (version BIGINT NOT NULL)")?;
    let found: i64 = if let Some(row) = tx.query_opt("SELECT version FROM regie_schema", &[])? {
        row.try_get(0)?
    } else {
        tx.execute("INSERT INTO regie_schema (version) VALUES (0)", &[])?;
        0
    };
    if found > VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            known: VERSION,
        });
    }
    let first = usize::try_from(found).unwrap_or(0);
    for step in &STEPS[first..] {
        tx.batch_execute(step)?;
    }
    tx.execute("UPDATE regie_schema SET version = $1", &[&VERSION])?;
    tx.commit()?;
    Ok(())
}
