//! The SMS tables (`sms_subscriptions`, `sms_alerts`, `sms_outbox`,
//! `sms_inbound`): subscriptions, the alert queued once per live, one row
//! per message, the inbound messages already handled.
//!
//! The phone itself is never copied here: it stays sealed in `viewers`
//! under the consent that collected it, and is opened only to write one
//! message. A row is claimed (`sending`) in its own transaction before the
//! provider is called; a row a stopped hub left `sending` becomes
//! `uncertain` and is never sent again (at most once beats twice).

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::config::SmsConfig;
use super::template::{self, AlertValues, TemplateError};
use crate::protocol::{Millis, SmsCounts, SmsScope, ViewerId};
use crate::store::contact::{ContactError, ContactField, ContactKeyring};

/// The label the phone lookups are derived for.
pub use crate::store::contact::PHONE_LOOKUP_LABEL as LOOKUP_LABEL;

/// What a message is: the idempotency key is (live, viewer, kind).
pub const KIND_ALERT: &str = "alert";
/// A post-live follow-up to a segment ([`super::follow_up`]): promotional,
/// held for quiet hours.
pub const KIND_FOLLOW_UP: &str = "follow_up";
/// The consent purpose a follow-up's phone is held under
/// (`ConsentPurpose::SmsMarketing`, as consent rows and `phone_purpose`
/// store it).
pub const FOLLOW_UP_PURPOSE: &str = "sms_marketing";

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("contact data: {0}")]
    Contact(#[from] ContactError),
    #[error("the SMS template: {0}")]
    Template(#[from] TemplateError),
}

/// An erased viewer (Art. 17): their subscription and message rows go
/// with them.
pub fn erase(conn: &Connection, live_id: i64, viewer: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM sms_subscriptions WHERE live_id = ?1 AND viewer_id = ?2",
        params![live_id, viewer],
    )?;
    conn.execute(
        "DELETE FROM sms_outbox WHERE viewer_id = ?2 AND (live_id = ?1 OR from_live_id = ?1)",
        params![live_id, viewer],
    )?;
    Ok(())
}

/// Records (or replaces) the subscription of `viewer` in live `live_id`
/// with the keyed lookup of its phone (E.164).
pub fn subscribe(
    conn: &Connection,
    keys: &ContactKeyring,
    live_id: i64,
    viewer: &ViewerId,
    scope: SmsScope,
    phone: &str,
    at: Millis,
) -> rusqlite::Result<()> {
    let lookup = keys
        .lookups(LOOKUP_LABEL, phone)
        .into_iter()
        .next()
        .expect("a ring has an active key");
    conn.prepare_cached(
        "INSERT INTO sms_subscriptions (live_id, viewer_id, scope, lookup, at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (live_id, viewer_id) \
         DO UPDATE SET scope = ?3, lookup = ?4, at = ?5",
    )?
    .execute(params![
        live_id,
        viewer.0,
        scope.as_str(),
        lookup.as_slice(),
        at
    ])?;
    Ok(())
}

/// Forgets a subscription (its consent withdrawn, its phone gone), and
/// cancels what was queued for it.
pub fn forget(conn: &Connection, live_id: i64, viewer: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM sms_subscriptions WHERE live_id = ?1 AND viewer_id = ?2")?
        .execute(params![live_id, viewer])?;
    conn.prepare_cached(
        "UPDATE sms_outbox SET state = 'cancelled' \
         WHERE from_live_id = ?1 AND viewer_id = ?2 AND state = 'queued'",
    )?
    .execute(params![live_id, viewer])?;
    Ok(())
}

/// The subscriptions whose phone is `phone` (E.164): (live name, viewer).
pub fn find_by_phone(
    conn: &Connection,
    keys: &ContactKeyring,
    phone: &str,
) -> rusqlite::Result<Vec<(String, ViewerId)>> {
    let mut found = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT l.name, s.viewer_id FROM sms_subscriptions s JOIN lives l ON l.id = s.live_id \
         WHERE s.lookup = ?1",
    )?;
    for lookup in keys.lookups(LOOKUP_LABEL, phone) {
        let rows = stmt.query_map([lookup.as_slice()], |r| {
            Ok((r.get::<_, String>(0)?, ViewerId(r.get(1)?)))
        })?;
        for row in rows {
            found.push(row?);
        }
    }
    Ok(found)
}

/// A live whose alert is due and not queued yet.
#[derive(Debug, Clone)]
pub struct DueLive {
    pub id: i64,
    pub name: String,
}

/// The lives to alert now: on air, or scheduled to start within
/// `lead_minutes`, with no alert queued yet. Only lives announced with
/// `live_create` (they have a title): the hub's default live and the
/// lives a `hello` opens are on air from their creation, before anyone
/// could subscribe to them.
pub fn lives_due(
    conn: &Connection,
    now: Millis,
    lead_minutes: u32,
) -> rusqlite::Result<Vec<DueLive>> {
    let lead = i64::from(lead_minutes) * 60_000;
    let mut stmt = conn.prepare_cached(
        "SELECT id, name FROM lives l WHERE title != '' AND NOT EXISTS \
         (SELECT 1 FROM sms_alerts a WHERE a.live_id = l.id) \
         AND (state = 'on_air' OR (?2 > 0 AND state = 'scheduled' AND starts_at IS NOT NULL \
              AND starts_at - ?2 <= ?1))",
    )?;
    stmt.query_map(params![now, lead], |r| {
        Ok(DueLive {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?
    .collect()
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Queued {
    pub queued: usize,
    /// Recipients whose own values left a tag empty (failed, not sent).
    pub refused: usize,
}

/// One recipient as [`enqueue`] and [`claim_next`] read them.
struct Recipient {
    from_live_id: i64,
    from_live: String,
    viewer: String,
    first_name: String,
    sealed: Vec<u8>,
}

/// The live's title, name and start, for the merge tags.
pub(super) fn live_values(conn: &Connection, live_id: i64) -> rusqlite::Result<AlertValues> {
    conn.prepare_cached(
        "SELECT name, title, COALESCE(starts_at, started_at) FROM lives WHERE id = ?1",
    )?
    .query_row([live_id], |r| {
        Ok(AlertValues {
            live: r.get(0)?,
            live_title: r.get(1)?,
            start_time: r.get(2)?,
            first_name: String::new(),
        })
    })
}

/// Queues the alert of `live`: one row per consenting subscriber (this
/// live's, and the brand-wide ones), one per phone, in one transaction
/// with the alert's own row, so it is queued once. A template that cannot
/// be filled queues nothing: the error is kept on the alert's row.
pub fn enqueue(
    conn: &mut Connection,
    keys: &ContactKeyring,
    config: &SmsConfig,
    live: &DueLive,
    now: Millis,
) -> Result<Queued, OutboxError> {
    let tx = conn.transaction()?;
    let base = live_values(&tx, live.id)?;
    let mut queued = Queued::default();
    let result = (|| -> Result<(), OutboxError> {
        template::check(&config.template)?;
        let recipients = recipients(&tx, live.id)?;
        let mut phones = HashSet::with_capacity(recipients.len());
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO sms_outbox (live_id, viewer_id, kind, from_live_id, state, \
             next_at, error, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6)",
        )?;
        for r in recipients {
            let phone = keys.open(&r.from_live, &r.viewer, ContactField::Phone, &r.sealed)?;
            if !phones.insert(phone) {
                continue;
            }
            let values = AlertValues {
                first_name: r.first_name,
                ..base.clone()
            };
            let (state, error) = match template::alert(config, &values) {
                Ok(_) => ("queued", None),
                Err(TemplateError::Missing(tag)) => {
                    ("failed", Some(format!("no value for {{{tag}}}")))
                }
                Err(e) => return Err(e.into()),
            };
            let n = insert.execute(params![
                live.id,
                r.viewer,
                KIND_ALERT,
                r.from_live_id,
                state,
                now,
                error
            ])?;
            if n > 0 && state == "queued" {
                queued.queued += 1;
            } else if n > 0 {
                queued.refused += 1;
            }
        }
        Ok(())
    })();
    let error = result.as_ref().err().map(ToString::to_string);
    if error.is_some() {
        tx.execute("DELETE FROM sms_outbox WHERE live_id = ?1", [live.id])?;
        queued = Queued::default();
    }
    tx.execute(
        "INSERT OR IGNORE INTO sms_alerts (live_id, queued_at, recipients, error) \
         VALUES (?1, ?2, ?3, ?4)",
        params![
            live.id,
            now,
            i64::try_from(queued.queued).unwrap_or(i64::MAX),
            error
        ],
    )?;
    tx.commit()?;
    result.map(|()| queued)
}

/// This live's subscribers and the brand-wide ones of other lives, with
/// their phone still held (a withdrawal or the sweeper deletes it).
fn recipients(conn: &Connection, live_id: i64) -> rusqlite::Result<Vec<Recipient>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.live_id, l.name, s.viewer_id, v.first_name, v.phone_sealed \
         FROM sms_subscriptions s JOIN lives l ON l.id = s.live_id \
         JOIN viewers v ON v.live_id = s.live_id AND v.viewer_id = s.viewer_id \
         WHERE (s.live_id = ?1 OR s.scope = 'brand') \
         AND v.phone_sealed IS NOT NULL AND v.phone_purpose = 'sms_reminders' \
         ORDER BY s.live_id = ?1 DESC, s.at",
    )?;
    stmt.query_map([live_id], |r| {
        Ok(Recipient {
            from_live_id: r.get(0)?,
            from_live: r.get(1)?,
            viewer: r.get(2)?,
            first_name: r.get(3)?,
            sealed: r.get(4)?,
        })
    })?
    .collect()
}

/// One message claimed for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub attempts: u32,
    pub to: String,
    pub body: String,
}

/// Claims the next message due (`queued` → `sending`, committed before
/// anything leaves) with its phone and text; `None` when none is due. A
/// row whose phone is gone since (STOP, erasure) is cancelled instead.
pub fn claim_next(
    conn: &mut Connection,
    keys: &ContactKeyring,
    config: &SmsConfig,
    now: Millis,
) -> Result<Option<Claimed>, OutboxError> {
    let tx = conn.transaction()?;
    loop {
        let row: Option<(i64, i64, i64, String, u32, String)> = tx
            .prepare_cached(
                "SELECT id, live_id, from_live_id, viewer_id, attempts, kind FROM sms_outbox \
                 WHERE state = 'queued' AND next_at <= ?1 ORDER BY next_at, id LIMIT 1",
            )?
            .query_row([now], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()?;
        let Some((id, live_id, from_live_id, viewer, attempts, kind)) = row else {
            tx.commit()?;
            return Ok(None);
        };
        let promotional = kind == KIND_FOLLOW_UP;
        if promotional && !super::quiet_hours::is_allowed(now) {
            // Due, but quiet hours began meanwhile (a retry's backoff, a
            // queue that ran late): deferred again, never dropped.
            tx.prepare_cached("UPDATE sms_outbox SET next_at = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![id, super::quiet_hours::next_send_time(now), now])?;
            continue;
        }
        let held: Option<(String, String, Vec<u8>)> = if promotional {
            // The phone the viewer gave for promotional SMS, under that
            // consent (a withdrawal deletes it: the row is cancelled).
            tx.prepare_cached(
                "SELECT l.name, v.first_name, v.phone_sealed FROM viewers v \
                 JOIN lives l ON l.id = v.live_id \
                 WHERE v.live_id = ?1 AND v.viewer_id = ?2 AND v.phone_sealed IS NOT NULL \
                 AND v.phone_purpose = ?3",
            )?
            .query_row(params![from_live_id, viewer, FOLLOW_UP_PURPOSE], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
        } else {
            tx.prepare_cached(
                "SELECT l.name, v.first_name, v.phone_sealed FROM viewers v \
                 JOIN lives l ON l.id = v.live_id JOIN sms_subscriptions s \
                 ON s.live_id = v.live_id AND s.viewer_id = v.viewer_id \
                 WHERE v.live_id = ?1 AND v.viewer_id = ?2 AND v.phone_sealed IS NOT NULL \
                 AND v.phone_purpose = 'sms_reminders'",
            )?
            .query_row(params![from_live_id, viewer], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
        };
        let Some((from_live, first_name, sealed)) = held else {
            set_state(&tx, id, "cancelled", None, now)?;
            continue;
        };
        let to = keys.open(&from_live, &viewer, ContactField::Phone, &sealed)?;
        let values = AlertValues {
            first_name,
            ..live_values(&tx, live_id)?
        };
        let written = if promotional {
            template::follow_up(config, &values)
        } else {
            template::alert(config, &values)
        };
        let body = match written {
            Ok(body) => body,
            Err(e) => {
                set_state(&tx, id, "failed", Some(&e.to_string()), now)?;
                continue;
            }
        };
        tx.prepare_cached(
            "UPDATE sms_outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?2 \
             WHERE id = ?1",
        )?
        .execute(params![id, now])?;
        tx.commit()?;
        return Ok(Some(Claimed {
            id,
            attempts: attempts + 1,
            to,
            body,
        }));
    }
}

fn set_state(
    conn: &Connection,
    id: i64,
    state: &str,
    error: Option<&str>,
    now: Millis,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE sms_outbox SET state = ?2, error = COALESCE(?3, error), updated_at = ?4 \
         WHERE id = ?1",
    )?
    .execute(params![id, state, error, now])?;
    Ok(())
}

/// The provider took the message.
pub fn mark_sent(
    conn: &Connection,
    id: i64,
    provider_id: &str,
    now: Millis,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE sms_outbox SET state = 'sent', provider_id = ?2, delivery = 'sent', \
         updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, provider_id, now])?;
    Ok(())
}

/// The provider said "later" (429, 5xx): queued again for `next_at`.
pub fn mark_retry(
    conn: &Connection,
    id: i64,
    next_at: Millis,
    why: &str,
    now: Millis,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE sms_outbox SET state = 'queued', next_at = ?2, error = ?3, updated_at = ?4 \
         WHERE id = ?1",
    )?
    .execute(params![id, next_at, why, now])?;
    Ok(())
}

/// The provider refused it for good, or it ran out of attempts.
pub fn mark_failed(conn: &Connection, id: i64, why: &str, now: Millis) -> rusqlite::Result<()> {
    set_state(conn, id, "failed", Some(why), now)
}

/// At start-up: rows a stopped hub left `sending` may have left; they are
/// never sent again.
pub fn settle_interrupted(conn: &Connection, now: Millis) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE sms_outbox SET state = 'uncertain', error = 'the hub stopped while sending', \
         updated_at = ?1 WHERE state = 'sending'",
        [now],
    )
}

/// A delivery report, stored against the provider's message id.
pub fn record_delivery(
    conn: &Connection,
    provider_id: &str,
    status: &str,
) -> rusqlite::Result<usize> {
    conn.prepare_cached("UPDATE sms_outbox SET delivery = ?2 WHERE provider_id = ?1")?
        .execute(params![provider_id, status])
}

/// Whether the inbound message `message_id` is new (and now recorded).
pub fn first_delivery(
    conn: &Connection,
    provider: &str,
    message_id: &str,
    now: Millis,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO sms_inbound (provider, message_id, at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![provider, message_id, now])?
        > 0)
}

/// Deletes the phones collected for one live's alert once that alert is
/// done (nothing `queued` or `sending` left), except the viewers who asked
/// for the brand's next lives; returns how many. Idempotent per alert.
pub fn release_phones(conn: &mut Connection) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let done: Vec<i64> = tx
        .prepare_cached(
            "SELECT a.live_id FROM sms_alerts a WHERE a.phones_released = 0 AND NOT EXISTS \
             (SELECT 1 FROM sms_outbox o WHERE o.live_id = a.live_id AND o.kind = 'alert' \
              AND o.state IN ('queued', 'sending'))",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut released = 0;
    for live_id in done {
        released += tx.execute(
            "UPDATE viewers SET phone_sealed = NULL, phone_purpose = NULL \
             WHERE live_id = ?1 AND phone_purpose = 'sms_reminders' AND viewer_id IN \
             (SELECT viewer_id FROM sms_subscriptions WHERE live_id = ?1 AND scope = 'live')",
            [live_id],
        )?;
        tx.execute(
            "DELETE FROM sms_subscriptions WHERE live_id = ?1 AND scope = 'live'",
            [live_id],
        )?;
        tx.execute(
            "UPDATE sms_alerts SET phones_released = 1 WHERE live_id = ?1",
            [live_id],
        )?;
    }
    tx.commit()?;
    Ok(released)
}

/// Housekeeping: subscriptions whose phone is gone (swept, erased), the
/// message rows of alerts done for longer than `keep` (the phone period,
/// `[retention.contact] sms_reminders`), and inbound ids older than 48 hours.
pub fn prune(conn: &Connection, now: Millis, keep: std::time::Duration) -> rusqlite::Result<()> {
    let keep = Millis::try_from(keep.as_millis()).unwrap_or(Millis::MAX / 2);
    conn.execute(
        "DELETE FROM sms_outbox WHERE state NOT IN ('queued', 'sending') AND updated_at < ?1",
        [now.saturating_sub(keep)],
    )?;
    conn.execute(
        "DELETE FROM sms_subscriptions WHERE NOT EXISTS (SELECT 1 FROM viewers v \
         WHERE v.live_id = sms_subscriptions.live_id AND v.viewer_id = sms_subscriptions.viewer_id \
         AND v.phone_sealed IS NOT NULL AND v.phone_purpose = 'sms_reminders')",
        [],
    )?;
    conn.execute(
        "DELETE FROM sms_stopped WHERE at < ?1",
        [now.saturating_sub(keep)],
    )?;
    conn.execute(
        "DELETE FROM sms_inbound WHERE at < ?1",
        [now - 48 * 3_600_000],
    )?;
    Ok(())
}

/// Where one live's alert stands, in counts (nothing about anyone): the
/// wire's [`SmsCounts`], one definition for `regie sms status` and the
/// console.
pub type Progress = SmsCounts;

/// The counts of `live`'s alert; `None` when no alert was queued for it.
pub fn progress(conn: &Connection, live: &str) -> rusqlite::Result<Option<Progress>> {
    let alert: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT a.live_id, a.error FROM sms_alerts a JOIN lives l ON l.id = a.live_id \
             WHERE l.name = ?1",
            [live],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((live_id, error)) = alert else {
        return Ok(None);
    };
    let mut p = counts(conn, live_id, KIND_ALERT, Millis::MIN)?;
    p.error = error;
    Ok(Some(p))
}

/// The counts of `live`'s follow-ups at `now` (those held for quiet
/// hours counted as `deferred` too); `None` when none was queued.
pub fn follow_up_progress(
    conn: &Connection,
    live_id: i64,
    now: Millis,
) -> rusqlite::Result<Option<Progress>> {
    let p = counts(conn, live_id, KIND_FOLLOW_UP, now)?;
    Ok((p.total() > 0).then_some(p))
}

/// The counts of the `kind` messages of `live_id`; `queued` ones due
/// after `now` are also `deferred`.
fn counts(conn: &Connection, live_id: i64, kind: &str, now: Millis) -> rusqlite::Result<Progress> {
    let mut p = Progress::default();
    let mut stmt = conn.prepare_cached(
        "SELECT state, delivery, next_at > ?3, COUNT(*) FROM sms_outbox \
         WHERE live_id = ?1 AND kind = ?2 GROUP BY state, delivery, next_at > ?3",
    )?;
    let rows = stmt.query_map(params![live_id, kind, now], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (state, delivery, later, n) = row?;
        let n = u64::try_from(n).unwrap_or(0);
        match state.as_str() {
            "queued" => {
                p.queued += n;
                if later && kind == KIND_FOLLOW_UP {
                    p.deferred += n;
                }
            }
            "sending" => p.sending += n,
            "sent" => {
                p.sent += n;
                match delivery.as_deref() {
                    Some("delivered") => p.delivered += n,
                    Some("failed" | "undelivered") => p.failed += n,
                    _ => {}
                }
            }
            "uncertain" => p.uncertain += n,
            "cancelled" => p.cancelled += n,
            _ => p.failed += n,
        }
    }
    Ok(p)
}

/// The consent text the viewer agreed to for their SMS alerts in `live`
/// (what a withdrawal names).
pub fn consent_text_of(
    conn: &Connection,
    live: &str,
    viewer: &ViewerId,
) -> rusqlite::Result<String> {
    conn.prepare_cached(
        "SELECT c.text_sha256 FROM consents c JOIN lives l ON l.id = c.live_id \
         WHERE l.name = ?1 AND c.viewer_id = ?2 AND c.purpose = 'sms_reminders' \
         ORDER BY c.id DESC LIMIT 1",
    )?
    .query_row(params![live, viewer.0], |r| r.get(0))
}
