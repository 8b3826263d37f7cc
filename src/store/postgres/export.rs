//! The right of access (Art. 15) and portability (Art. 20) on PostgreSQL:
//! everything this store holds about one viewer of a live, as the SQLite
//! store's `export_viewer` gives it (`crate::privacy::export`), contact
//! data opened since the document is for the viewer.
//!
//! One difference: consent texts are not registered in PostgreSQL (the
//! registry is the SQLite data dir's), so a consent names the hash of the
//! text it was given under, without the text (`text: None`).

use postgres::Row;

use super::{PostgresStore, StoreError, json_text};
use crate::privacy::export::{
    EXPORT_FORMAT, ExportedConsent, ExportedEntry, ExportedMessage, ExportedNote, ExportedProfile,
    ExportedRedaction, ExportedReply, ExportedSanction, ExportedVote, ViewerExport,
    visibility_name, without_staff,
};
use crate::protocol::{ViewerId, Visibility};
use crate::store::ViewerRecord;
use crate::store::contact::ContactField;
use crate::store::rows::u64_from_sql;

/// The viewer's lines and what was redacted of them, as one `IN` list.
const THEIRS: &str = "SELECT id FROM messages WHERE live_id = $1 AND viewer_id = $2 \
                      UNION SELECT message_id FROM tombstones WHERE live_id = $1 AND author_id = $2";

impl PostgresStore {
    /// Every row of `sql` (parameters: the live, the viewer), read by `read`.
    fn viewer_rows<T>(
        &mut self,
        sql: &str,
        live_id: i64,
        id: &ViewerId,
        read: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.statements
            .query(&mut self.client, sql, &[&live_id, &id.0])?
            .iter()
            .map(read)
            .collect()
    }

    fn export_profile(
        &mut self,
        live: &str,
        live_id: i64,
        record: ViewerRecord,
    ) -> Result<ExportedProfile, StoreError> {
        let id = record.id.clone();
        let row = self.statements.query_one(
            &mut self.client,
            "SELECT phone_sealed, phone_purpose, email_sealed, email_purpose FROM viewers \
             WHERE live_id = $1 AND viewer_id = $2",
            &[&live_id, &id.0],
        )?;
        let open = |field, sealed: Option<Vec<u8>>| -> Result<Option<String>, StoreError> {
            sealed
                .map(|s| self.cipher.open(live, &id.0, field, &s))
                .transpose()
                .map_err(StoreError::from)
        };
        Ok(ExportedProfile {
            viewer_id: id.0.clone(),
            phone: open(ContactField::Phone, row.try_get(0)?)?,
            phone_purpose: row.try_get(1)?,
            email: open(ContactField::Email, row.try_get(2)?)?,
            email_purpose: row.try_get(3)?,
            first_name: record.first_name,
            pseudonym: record.pseudonym,
            first_seen: record.first_seen,
            last_seen: record.last_seen,
        })
    }

    /// The viewer's lines, what was redacted of them, and the answers to
    /// them.
    #[expect(clippy::type_complexity, reason = "three lists of the export, once")]
    fn export_chat(
        &mut self,
        live_id: i64,
        id: &ViewerId,
    ) -> Result<
        (
            Vec<ExportedMessage>,
            Vec<ExportedRedaction>,
            Vec<ExportedReply>,
        ),
        StoreError,
    > {
        let messages = self.viewer_rows(
            "SELECT id, at, text, question, answered, visibility FROM messages \
             WHERE live_id = $1 AND viewer_id = $2 ORDER BY id",
            live_id,
            id,
            |r| {
                let visibility: Visibility = json_text(&r.try_get::<_, String>(5)?, "visibility")?;
                Ok(ExportedMessage {
                    id: u64_from_sql(r.try_get(0)?),
                    at: r.try_get(1)?,
                    text: r.try_get(2)?,
                    question: r.try_get(3)?,
                    answered: r.try_get(4)?,
                    visibility: visibility_name(&visibility).to_owned(),
                })
            },
        )?;
        let redacted = self.viewer_rows(
            "SELECT message_id, posted_at, redacted_at, reason FROM tombstones \
             WHERE live_id = $1 AND author_id = $2 ORDER BY message_id",
            live_id,
            id,
            |r| {
                Ok(ExportedRedaction {
                    message_id: u64_from_sql(r.try_get(0)?),
                    posted_at: r.try_get(1)?,
                    redacted_at: r.try_get(2)?,
                    reason: r.try_get(3)?,
                })
            },
        )?;
        // Answers to any message of theirs, redacted ones included, and
        // grouped answers that also answered one of theirs.
        let replies = self.viewer_rows(
            &format!(
                "SELECT a.id, a.reply_to_id, a.at, a.author_role, a.text FROM messages a \
                 WHERE a.live_id = $1 AND a.author_kind = 'staff' AND a.reply_to_id IN ({THEIRS}) \
                 UNION SELECT a.id, x.message_id, a.at, a.author_role, a.text \
                 FROM answer_also x JOIN messages a ON a.live_id = x.live_id AND a.id = x.answer_id \
                 WHERE x.live_id = $1 AND x.message_id IN ({THEIRS}) \
                 ORDER BY 1"
            ),
            live_id,
            id,
            |r| {
                Ok(ExportedReply {
                    id: u64_from_sql(r.try_get(0)?),
                    reply_to_id: u64_from_sql(r.try_get(1)?),
                    at: r.try_get(2)?,
                    by_role: r.try_get(3)?,
                    text: r.try_get(4)?,
                })
            },
        )?;
        Ok((messages, redacted, replies))
    }

    /// The viewer's votes and draw entries, and the sanctions against them.
    #[expect(clippy::type_complexity, reason = "three lists of the export, once")]
    fn export_games_and_sanctions(
        &mut self,
        live_id: i64,
        id: &ViewerId,
    ) -> Result<(Vec<ExportedVote>, Vec<ExportedEntry>, Vec<ExportedSanction>), StoreError> {
        let votes = self.viewer_rows(
            "SELECT v.poll_id, v.option, p.view FROM votes v \
             JOIN polls p ON p.live_id = v.live_id AND p.id = v.poll_id \
             WHERE v.live_id = $1 AND v.viewer_id = $2 ORDER BY v.poll_id",
            live_id,
            id,
            |r| {
                Ok(ExportedVote {
                    poll_id: u64_from_sql(r.try_get(0)?),
                    option: u64_from_sql(r.try_get(1)?),
                    poll: without_staff(json_text(&r.try_get::<_, String>(2)?, "a poll")?),
                })
            },
        )?;
        let entries = self.viewer_rows(
            "SELECT e.draw_id, w.view FROM entries e \
             JOIN instant_wins w ON w.live_id = e.live_id AND w.id = e.draw_id \
             WHERE e.live_id = $1 AND e.viewer_id = $2 ORDER BY e.draw_id",
            live_id,
            id,
            |r| {
                Ok(ExportedEntry {
                    draw_id: u64_from_sql(r.try_get(0)?),
                    draw: without_staff(json_text(&r.try_get::<_, String>(1)?, "an instant win")?),
                })
            },
        )?;
        let sanctions = self.viewer_rows(
            "SELECT kind, until, reason, at, by_role FROM sanctions \
             WHERE live_id = $1 AND viewer_id = $2 ORDER BY id",
            live_id,
            id,
            |r| {
                Ok(ExportedSanction {
                    kind: r.try_get(0)?,
                    until: r.try_get(1)?,
                    reason: r.try_get(2)?,
                    at: r.try_get(3)?,
                    by_role: r.try_get(4)?,
                })
            },
        )?;
        Ok((votes, entries, sanctions))
    }

    /// Everything held about one viewer of `live`; `None` when the live
    /// holds no such viewer.
    pub(super) fn export_viewer(
        &mut self,
        live: &str,
        id: &ViewerId,
    ) -> Result<Option<ViewerExport>, StoreError> {
        let live_id = self.live_id(live)?;
        self.reconnect_if_lost()?;
        let Some((record, _)) = self.viewer_record(live_id, id)? else {
            return Ok(None);
        };
        let profile = self.export_profile(live, live_id, record)?;
        let consents = self.viewer_rows(
            "SELECT purpose, granted, at, channel, text_sha256 FROM consents \
             WHERE live_id = $1 AND viewer_id = $2 ORDER BY id",
            live_id,
            id,
            |r| {
                Ok(ExportedConsent {
                    purpose: r.try_get(0)?,
                    granted: r.try_get(1)?,
                    at: r.try_get(2)?,
                    channel: r.try_get(3)?,
                    text_sha256: r.try_get(4)?,
                    text: None,
                })
            },
        )?;
        let (messages, redacted, replies) = self.export_chat(live_id, id)?;
        let (votes, entries, sanctions) = self.export_games_and_sanctions(live_id, id)?;
        let notes = self
            .notes(live_id, id)?
            .into_iter()
            .map(|n| ExportedNote {
                at: n.at,
                by_role: n.by.role.as_str().to_owned(),
                text: n.text,
            })
            .collect();
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
            notes,
        }))
    }
}
