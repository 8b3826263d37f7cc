//! Post-live follow-ups, consent permitting: the segments of an ended live
//! (who asked, voted, entered, won), counted and queued in the outbox as
//! one `follow_up` message per recipient.
//!
//! A recipient holds the `sms_marketing` consent in force, with the phone
//! it collected (a phone given for the start alert, `sms_reminders`, is
//! never used: the viewer gave it for that alone). One follow-up per
//! (live, viewer): the outbox's key, so a viewer in two segments, or a
//! segment sent twice, gets one message. Each row is queued for
//! [`super::quiet_hours::next_send_time`]: a promotional message waits
//! for Monday–Saturday 08:00–20:00 Paris, it is never dropped.

use std::collections::HashSet;

use rusqlite::{Connection, params};

use super::config::SmsConfig;
use super::outbox::{FOLLOW_UP_PURPOSE as PURPOSE, KIND_FOLLOW_UP, OutboxError, live_values};
use super::quiet_hours;
use super::template::{self, AlertValues, TemplateError};
use crate::protocol::{Millis, SegmentCount, SmsSegment};
use crate::store::contact::{ContactField, ContactKeyring};

/// The viewers of live `?1` in `segment` (distinct ids, any order).
fn members(segment: SmsSegment) -> &'static str {
    match segment {
        SmsSegment::Asked => {
            "SELECT viewer_id FROM messages WHERE live_id = ?1 AND question = 1 \
             AND author_kind = 'viewer' AND viewer_id IS NOT NULL"
        }
        SmsSegment::Voted => "SELECT viewer_id FROM votes WHERE live_id = ?1",
        SmsSegment::Entered => "SELECT viewer_id FROM entries WHERE live_id = ?1",
        SmsSegment::Won => {
            "SELECT json_extract(w.value, '$.viewer_id') FROM instant_wins d, \
             json_each(d.winners) w WHERE d.live_id = ?1 AND d.winners IS NOT NULL"
        }
    }
}

/// One recipient: the viewer, their first name, their phone (opened).
struct Recipient {
    viewer: String,
    first_name: String,
    phone: String,
}

/// The members of `segment` who may get a follow-up now: the
/// `sms_marketing` consent in force (the latest record of that purpose
/// grants it) with its phone held, and no follow-up of this live queued
/// for them yet; one per phone.
fn recipients(
    conn: &Connection,
    keys: &ContactKeyring,
    live_id: i64,
    live: &str,
    segment: SmsSegment,
) -> Result<Vec<Recipient>, OutboxError> {
    let sql = format!(
        "SELECT v.viewer_id, v.first_name, v.phone_sealed FROM viewers v \
         WHERE v.live_id = ?1 AND v.viewer_id IN ({members}) \
         AND v.phone_sealed IS NOT NULL AND v.phone_purpose = ?2 \
         AND (SELECT c.granted FROM consents c WHERE c.live_id = v.live_id \
              AND c.viewer_id = v.viewer_id AND c.purpose = ?2 ORDER BY c.id DESC LIMIT 1) = 1 \
         AND NOT EXISTS (SELECT 1 FROM sms_outbox o WHERE o.live_id = v.live_id \
              AND o.viewer_id = v.viewer_id AND o.kind = ?3) \
         ORDER BY v.first_seen, v.viewer_id",
        members = members(segment)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![live_id, PURPOSE, KIND_FOLLOW_UP], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    let mut phones = HashSet::new();
    let mut found = Vec::new();
    for row in rows {
        let (viewer, first_name, sealed) = row?;
        let phone = keys.open(live, &viewer, ContactField::Phone, &sealed)?;
        if phones.insert(phone.clone()) {
            found.push(Recipient {
                viewer,
                first_name,
                phone,
            });
        }
    }
    Ok(found)
}

/// How many each segment of `live` would reach now.
pub fn segment_counts(
    conn: &Connection,
    keys: &ContactKeyring,
    live_id: i64,
    live: &str,
) -> Result<Vec<SegmentCount>, OutboxError> {
    SmsSegment::ALL
        .into_iter()
        .map(|segment| {
            Ok(SegmentCount {
                segment,
                recipients: recipients(conn, keys, live_id, live, segment)?.len() as u64,
            })
        })
        .collect()
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUpQueued {
    pub queued: usize,
    /// Recipients whose own values left a tag empty (failed, not sent).
    pub refused: usize,
    /// When the first may leave (now, or the end of quiet hours).
    pub leaves_at: Millis,
}

/// What [`enqueue`] answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpOutcome {
    Queued(FollowUpQueued),
    /// The admin confirmed another count than the segment has `now`:
    /// nothing queued, they ask again.
    Changed {
        confirmed: u64,
        now: u64,
    },
}

/// Queues the follow-up of `live` for `segment`, in one transaction, when
/// the segment still has the `confirmed` count of recipients: one row per
/// recipient, due at the next allowed instant. A template that cannot be
/// filled at all queues nothing.
pub fn enqueue(
    conn: &mut Connection,
    keys: &ContactKeyring,
    config: &SmsConfig,
    live: &str,
    segment: SmsSegment,
    confirmed: u64,
    now: Millis,
) -> Result<FollowUpOutcome, OutboxError> {
    let tx = conn.transaction()?;
    let live_id: i64 =
        tx.query_row("SELECT id FROM lives WHERE name = ?1", [live], |r| r.get(0))?;
    let found = recipients(&tx, keys, live_id, live, segment)?;
    let count = found.len() as u64;
    if count != confirmed {
        return Ok(FollowUpOutcome::Changed {
            confirmed,
            now: count,
        });
    }
    template::check(&config.follow_up)?;
    let base = live_values(&tx, live_id)?;
    let leaves_at = quiet_hours::next_send_time(now);
    let mut done = FollowUpQueued {
        queued: 0,
        refused: 0,
        leaves_at,
    };
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO sms_outbox (live_id, viewer_id, kind, from_live_id, state, \
             next_at, error, updated_at) VALUES (?1, ?2, ?3, ?1, ?4, ?5, ?6, ?7)",
        )?;
        for r in found {
            // The phone is opened to tell two viewers with one phone apart,
            // and dropped: the sender opens it again to send.
            drop(r.phone);
            let values = AlertValues {
                first_name: r.first_name,
                ..base.clone()
            };
            let (state, error) = match template::follow_up(config, &values) {
                Ok(_) => ("queued", None),
                Err(TemplateError::Missing(tag)) => {
                    ("failed", Some(format!("no value for {{{tag}}}")))
                }
                Err(e) => return Err(e.into()),
            };
            let n = insert.execute(params![
                live_id,
                r.viewer,
                KIND_FOLLOW_UP,
                state,
                leaves_at,
                error,
                now
            ])?;
            match (n, state) {
                (0, _) => {}
                (_, "queued") => done.queued += 1,
                _ => done.refused += 1,
            }
        }
    }
    tx.commit()?;
    Ok(FollowUpOutcome::Queued(done))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purpose_is_the_wire_name_of_sms_marketing() {
        assert_eq!(
            super::PURPOSE,
            crate::privacy::optins::purpose_wire_name(
                crate::protocol::ConsentPurpose::SmsMarketing
            )
        );
    }
}
