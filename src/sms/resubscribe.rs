//! START after a STOP: the same number asks for the alerts again.
//!
//! A STOP deletes the phone, so the hub cannot recognise the number from
//! what it holds. It keeps, instead, a keyed tombstone per subscription the
//! STOP ended (`sms_stopped`: live, viewer, the HMAC lookup of the number
//! under the contact key, never the number), for the phone period
//! (`[retention.contact] sms_reminders`) and no longer.
//!
//! A START (or YES, UNSTOP) from a number whose tombstone is found records
//! a new consent for the viewer the most recent one names: purpose
//! `sms_reminders`, channel `sms`, the hash of the same consent text the
//! viewer accepted before, at the time of the START; the phone is the
//! number the START came from, sealed for that viewer as the page's form
//! seals it; the subscription is brand-wide (the brand's next lives: the
//! live the viewer subscribed for has passed). It is consent because the
//! holder of that number, having subscribed to exactly this purpose and
//! been told by the STOP reply how to resume, sends a keyword whose only
//! meaning is "send me your alerts again" (a clear affirmative act,
//! GDPR Art. 4(11)); withdrawing stays one STOP away, and every alert says
//! so. A START from a number without a tombstone restores nothing (the hub
//! never had a consent for it) and is answered with the sign-up hint.
//!
//! The tombstones go at a START, with the viewer (erasure, retention),
//! after the phone period, and when the contact key they were made under
//! is rotated out (they hold no phone to recompute from).

use rusqlite::{Connection, OptionalExtension, params};

use super::{SmsError, SmsHub, outbox};
use crate::protocol::{
    ConsentChannel, ConsentPurpose, ConsentState, Contact, Millis, SmsScope, StaffRole, ViewerId,
};
use crate::store::audit::AuditEntry;
use crate::store::contact::ContactKeyring;
use crate::store::{Commit, Store};

/// The audit action of a START that restored a subscription.
pub const OPT_IN_ACTION: &str = "sms_opt_in";

/// Keeps the tombstone of the subscription of `viewer` in `live` that a
/// STOP from `phone` (E.164) ends.
pub(crate) fn record_stop(
    conn: &Connection,
    keys: &ContactKeyring,
    live: &str,
    viewer: &ViewerId,
    phone: &str,
    now: Millis,
) -> rusqlite::Result<()> {
    let lookup = keys.active_lookup(outbox::LOOKUP_LABEL, phone);
    conn.prepare_cached(
        "INSERT INTO sms_stopped (live_id, viewer_id, lookup, key_id, at) \
         SELECT id, ?2, ?3, ?4, ?5 FROM lives WHERE name = ?1 \
         ON CONFLICT (live_id, viewer_id) DO UPDATE SET lookup = ?3, key_id = ?4, at = ?5",
    )?
    .execute(params![
        live,
        viewer.0,
        lookup.as_slice(),
        keys.active_id().as_slice(),
        now
    ])?;
    Ok(())
}

/// The most recent tombstone of `phone` whose viewer is still there:
/// (live, viewer).
fn latest_stop(
    conn: &Connection,
    keys: &ContactKeyring,
    phone: &str,
) -> rusqlite::Result<Option<(String, ViewerId)>> {
    let mut best: Option<(Millis, String, ViewerId)> = None;
    let mut stmt = conn.prepare_cached(
        "SELECT s.at, l.name, s.viewer_id FROM sms_stopped s JOIN lives l ON l.id = s.live_id \
         JOIN viewers v ON v.live_id = s.live_id AND v.viewer_id = s.viewer_id \
         WHERE s.lookup = ?1 ORDER BY s.at DESC LIMIT 1",
    )?;
    for lookup in keys.lookups(outbox::LOOKUP_LABEL, phone) {
        let found = stmt
            .query_row([lookup.as_slice()], |r| {
                Ok((r.get(0)?, r.get(1)?, ViewerId(r.get(2)?)))
            })
            .optional()?;
        if let Some(f) = found
            && best.as_ref().is_none_or(|b| f.0 > b.0)
        {
            best = Some(f);
        }
    }
    Ok(best.map(|(_, live, viewer)| (live, viewer)))
}

/// A START from `phone` (E.164): restores the subscription its STOP
/// ended, if a tombstone names one; whether it did.
pub(crate) fn restore(sms: &SmsHub, phone: &str, now: Millis) -> Result<bool, SmsError> {
    sms.with_store(|store| {
        let found = {
            let (conn, keys) = store.sms_parts()?;
            latest_stop(conn, keys, phone)?.map(|(live, viewer)| {
                let text = outbox::consent_text_of(conn, &live, &viewer).unwrap_or_default();
                (live, viewer, text)
            })
        };
        let Some((live, viewer, text_sha256)) = found else {
            return Ok(false);
        };
        store.open_live(&live)?;
        let consent = ConsentState {
            purpose: ConsentPurpose::SmsReminders,
            granted: true,
            at: now,
            channel: ConsentChannel::Sms,
            text_sha256,
        };
        let contact = Contact {
            phone: Some(phone.to_owned()),
            email: None,
        };
        store.record_consent(&live, &viewer, &consent, &contact)?;
        store.record_sms_subscription(&live, &viewer, SmsScope::Brand, phone, now)?;
        {
            let (conn, keys) = store.sms_parts()?;
            // Every tombstone of this number goes: it is subscribed again.
            let mut forget = conn.prepare_cached("DELETE FROM sms_stopped WHERE lookup = ?1")?;
            for lookup in keys.lookups(outbox::LOOKUP_LABEL, phone) {
                forget.execute([lookup.as_slice()])?;
            }
        }
        let audit = AuditEntry {
            actor_name: crate::hub::engagement::HUB_ACTOR.to_owned(),
            actor_role: StaffRole::Support,
            action: OPT_IN_ACTION.to_owned(),
            target: viewer.0.clone(),
            reason: "SMS START from the viewer: alerts for the brand's next lives".to_owned(),
            at: now,
        };
        store.commit(&live, &[Commit::without_event().with_audit(audit)])?;
        Ok(true)
    })
}
