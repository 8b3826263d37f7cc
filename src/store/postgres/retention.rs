//! The retention sweep on PostgreSQL: what `store::retention`'s periods no
//! longer keep is deleted in one transaction, as the SQLite store does
//! (its `sweep_live`), then purged from the table files like a redaction
//! (`VACUUM FULL` at the store's checkpoint: a `DELETE` only marks the
//! tuple dead).
//!
//! The audit log's head goes behind a signed checkpoint
//! ([`super::checkpoints`]). One difference, said in `docs/scale-out.md`: there
//! are no presence records to sweep (this store does not keep them).
//! Several nodes may sweep the same live at once: the deletes are
//! idempotent, each row goes once, and the checkpoint only moves forward.

use std::collections::BTreeSet;

use postgres::Client;

use super::{Statements, deleting_xid};
use crate::protocol::{ConsentPurpose, Millis};
use crate::store::StoreError;
use crate::store::contact::ContactField;
use crate::store::retention::{RetentionPolicy, SweepReport, cutoff};
use crate::store::rows::wire_name;

/// What a sweep deleted, and from which tables (to purge).
pub(super) struct Swept {
    pub(super) report: SweepReport,
    pub(super) tables: BTreeSet<&'static str>,
    /// The sweep's transaction, when it deleted anything (see the purge).
    pub(super) xid: u64,
}

/// One statement of the sweep: the rows it deleted or blanked count in
/// the report, and its table is purged when any did.
struct Sweep<'s, 't, 'c> {
    sql: &'s mut Statements,
    tx: &'t mut postgres::Transaction<'c>,
    live_id: i64,
    tables: BTreeSet<&'static str>,
}

impl Sweep<'_, '_, '_> {
    fn run(&mut self, table: &'static str, sql: &str, before: Millis) -> Result<u64, StoreError> {
        let n = self.sql.exec(self.tx, sql, &[&self.live_id, &before])?;
        if n > 0 {
            self.tables.insert(table);
        }
        Ok(n)
    }
}

/// The chat's clock of a live: its period runs from the live's end, so a
/// live still scheduled or on air keeps its chat, and an ended one loses
/// what is older than `cutoff` once it ended before `cutoff`.
fn chat_cutoff(
    sql: &mut Statements,
    tx: &mut postgres::Transaction<'_>,
    live_id: i64,
    cutoff: Millis,
) -> Result<Millis, StoreError> {
    let ended_at: Option<Millis> = sql
        .query_one(
            tx,
            "SELECT CASE WHEN state = 'ended' THEN ended_at END FROM lives WHERE id = $1",
            &[&live_id],
        )?
        .try_get(0)?;
    Ok(if ended_at.is_some_and(|end| end < cutoff) {
        cutoff
    } else {
        Millis::MIN
    })
}

/// The chat past `chat`: lines, their tombstones, pins and grouped
/// answers, and the log's events of them; the highest id swept is
/// remembered, so none is given again.
fn sweep_chat(
    s: &mut Sweep<'_, '_, '_>,
    chat: Millis,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    s.run(
        "lives",
        "UPDATE lives SET swept_message_id = greatest(swept_message_id, \
         coalesce((SELECT max(id) FROM messages WHERE live_id = $1 AND at < $2), 0), \
         coalesce((SELECT max(message_id) FROM tombstones \
                   WHERE live_id = $1 AND posted_at < $2), 0)) \
         WHERE id = $1",
        chat,
    )?;
    s.run(
        "pins",
        "DELETE FROM pins WHERE live_id = $1 AND message_id IN \
         (SELECT id FROM messages WHERE live_id = $1 AND at < $2)",
        chat,
    )?;
    s.run(
        "answer_also",
        "DELETE FROM answer_also WHERE live_id = $1 AND answer_id IN \
         (SELECT id FROM messages WHERE live_id = $1 AND at < $2)",
        chat,
    )?;
    report.messages = s.run(
        "messages",
        "DELETE FROM messages WHERE live_id = $1 AND at < $2",
        chat,
    )?;
    report.tombstones = s.run(
        "tombstones",
        "DELETE FROM tombstones WHERE live_id = $1 AND posted_at < $2",
        chat,
    )?;
    // Older events go; so does a younger event that carried a message now
    // gone (a release), which replay could not serve.
    report.events = s.run(
        "events",
        "DELETE FROM events WHERE live_id = $1 AND (at < $2 OR (kind IN ('message', 'released') \
         AND message_id IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM messages m \
                         WHERE m.live_id = $1 AND m.id = events.message_id) \
         AND NOT EXISTS (SELECT 1 FROM tombstones t \
                         WHERE t.live_id = $1 AND t.message_id = events.message_id)))",
        chat,
    )?;
    Ok(())
}

/// Contact data, by the purpose it was collected for: every purpose a
/// field serves.
fn sweep_contact(
    s: &mut Sweep<'_, '_, '_>,
    policy: &RetentionPolicy,
    now: Millis,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    for purpose in ConsentPurpose::ALL {
        let before = cutoff(now, policy.contact(purpose));
        let name = wire_name(&purpose);
        for field in ContactField::ALL.into_iter().filter(|f| f.serves(purpose)) {
            let (value, seal_purpose) = field.columns();
            let n = s.sql.exec(
                s.tx,
                &format!(
                    "UPDATE viewers SET {value} = NULL, {seal_purpose} = NULL \
                     WHERE live_id = $1 AND {seal_purpose} = $2 AND last_seen < $3 \
                     AND {value} IS NOT NULL"
                ),
                &[&s.live_id, &name, &before],
            )?;
            if n > 0 {
                s.tables.insert("viewers");
            }
            report.contact_values += n;
        }
    }
    Ok(())
}

/// Finished polls and drawn instant wins, with their votes and entries.
fn sweep_games(
    s: &mut Sweep<'_, '_, '_>,
    draws: Millis,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    s.run(
        "entries",
        "DELETE FROM entries WHERE live_id = $1 AND draw_id IN \
         (SELECT id FROM instant_wins WHERE live_id = $1 AND drawn_at < $2)",
        draws,
    )?;
    report.draws = s.run(
        "instant_wins",
        "DELETE FROM instant_wins WHERE live_id = $1 AND drawn_at < $2",
        draws,
    )?;
    s.run(
        "votes",
        "DELETE FROM votes WHERE live_id = $1 AND poll_id IN \
         (SELECT id FROM polls WHERE live_id = $1 AND closed_at < $2)",
        draws,
    )?;
    report.draws += s.run(
        "polls",
        "DELETE FROM polls WHERE live_id = $1 AND closed_at < $2",
        draws,
    )?;
    Ok(())
}

/// Deletes, in one transaction, what `policy` no longer keeps at `now`.
pub(super) fn sweep(
    sql: &mut Statements,
    client: &mut Client,
    (live, live_id): (&str, i64),
    policy: &RetentionPolicy,
    now: Millis,
    audit_keys: &[zeroize::Zeroizing<[u8; 32]>],
) -> Result<Swept, StoreError> {
    let mut tx = sql.begin(client)?;
    let chat = chat_cutoff(sql, &mut tx, live_id, cutoff(now, policy.chat))?;
    let mut s = Sweep {
        sql,
        tx: &mut tx,
        live_id,
        tables: BTreeSet::new(),
    };
    let mut report = SweepReport::default();

    if chat > Millis::MIN {
        sweep_chat(&mut s, chat, &mut report)?;
    }

    sweep_contact(&mut s, policy, now, &mut report)?;

    // Consents: history goes, the grant in force stays (it is the proof
    // for what is still held).
    report.consents = s.run(
        "consents",
        "DELETE FROM consents WHERE live_id = $1 AND at < $2 AND NOT (granted AND id = \
         (SELECT max(l.id) FROM consents l WHERE l.live_id = consents.live_id \
          AND l.viewer_id = consents.viewer_id AND l.purpose = consents.purpose))",
        cutoff(now, policy.consents),
    )?;
    let notes = cutoff(now, policy.moderation_notes);
    report.moderation_notes = s.run(
        "sanctions",
        "DELETE FROM sanctions WHERE live_id = $1 AND coalesce(until, at) < $2",
        notes,
    )? + s.run(
        "mod_notes",
        "DELETE FROM mod_notes WHERE live_id = $1 AND at < $2",
        notes,
    )?;
    report.command_outcomes = s.run(
        "command_outcomes",
        "DELETE FROM command_outcomes WHERE live_id = $1 AND at < $2",
        cutoff(now, policy.command_outcomes),
    )?;

    sweep_games(&mut s, cutoff(now, policy.draws), &mut report)?;

    // Last, once the rest has gone: a profile with nothing left to
    // describe, not seen for a chat period.
    report.viewers = s.run(
        "viewers",
        "DELETE FROM viewers WHERE live_id = $1 AND last_seen < $2 \
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
        cutoff(now, policy.chat),
    )?;
    let mut tables = std::mem::take(&mut s.tables);
    report.audit_records = super::checkpoints::prune(
        sql,
        &mut tx,
        live,
        live_id,
        cutoff(now, policy.audit),
        audit_keys,
    )?;
    if report.audit_records > 0 {
        tables.insert("audit");
    }
    // Only a counter moved there: nothing personal to purge.
    tables.remove("lives");
    let xid = if tables.is_empty() {
        0
    } else {
        deleting_xid(sql, &mut tx)?
    };
    sql.finish(tx)?;
    Ok(Swept {
        report,
        tables,
        xid,
    })
}
