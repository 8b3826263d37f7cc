//! The hub's one CRM pusher: each new marketing e-mail opt-in, and each
//! withdrawal of one it pushed, sent to `[crm] push_url` as JSON signed
//! with HMAC-SHA256 (`X-Regie-Signature: sha256=<hex>` over
//! `timestamp.body`, the timestamp in `X-Regie-Timestamp`:
//! [`crate::sms::signature::push_signature`]).
//!
//! The queue (`crm_outbox`) is filled from the consent records themselves,
//! past a cursor: the live's actor only records the consent, as it always
//! did, and never waits for the CRM. A row names the consent, never the
//! address: the address is opened from the sealed store to write the one
//! request, and an opt-in whose consent no longer stands (withdrawn, the
//! address gone) is not pushed. A withdrawal is pushed only if its opt-in
//! was, naming it by live and viewer id, with no address.
//!
//! 429, 5xx and network failures are retried with exponential backoff (a
//! `Retry-After` wins); another 4xx fails the row. Delivery is at least
//! once: a hub stopped mid-call pushes the row again, and the receiver
//! keys on `(live, viewer_id)`.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, header};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::watch;

use super::{CrmError, CrmHub};
use crate::privacy::optins::{OptIn, Withdrawal, push_body, withdrawal_body};
use crate::protocol::Millis;
use crate::sms::provider::SendError;
use crate::sms::signature::{PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER, push_signature};
use crate::store::contact::{ContactField, ContactKeyring};

/// Runs until `stop` turns true.
pub(crate) async fn run(crm: Arc<CrmHub>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = crm.with_store(|store| {
            let (conn, _) = store.sms_parts()?;
            Ok(enqueue_new(conn, crm.now())?)
        }) {
            tracing::warn!(error = %e, "CRM: could not read the new consents");
        }
        loop {
            if *stop.borrow() {
                return;
            }
            let next = crm.with_store(|store| {
                let (conn, keys) = store.sms_parts()?;
                next_due(conn, keys, crm.now())
            });
            let push = match next {
                Ok(Some(push)) => push,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "CRM: could not read the next push");
                    break;
                }
            };
            let sent = tokio::select! {
                sent = send(&crm, &push.body) => sent,
                _ = stop.changed() => return,
            };
            settle(&crm, &push, &sent);
        }
        tokio::select! {
            () = tokio::time::sleep(crm.config.poll_every) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Queues the marketing consents recorded since the cursor that change
/// the viewer's state (a grant after none or a withdrawal, a withdrawal
/// after a grant), and moves the cursor past them; how many.
pub fn enqueue_new(conn: &mut Connection, now: Millis) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let cursor: i64 = tx.query_row("SELECT consent_id FROM crm_cursor WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    let queued = tx.execute(
        "INSERT OR IGNORE INTO crm_outbox (consent_id, live_id, viewer_id, event, state, \
         next_at, updated_at) \
         SELECT c.id, c.live_id, c.viewer_id, \
                CASE WHEN c.granted THEN 'opt_in' ELSE 'opt_out' END, 'queued', ?2, ?2 \
         FROM consents c WHERE c.purpose = 'marketing' AND c.id > ?1 \
         AND c.granted IS NOT coalesce((SELECT p.granted FROM consents p \
             WHERE p.live_id = c.live_id AND p.viewer_id = c.viewer_id \
             AND p.purpose = c.purpose AND p.id < c.id ORDER BY p.id DESC LIMIT 1), 0)",
        params![cursor, now],
    )?;
    // Settled rows go with the consent record they pushed (the sweeper
    // deletes superseded records after the consents period).
    tx.execute(
        "DELETE FROM crm_outbox WHERE consent_id IS NOT NULL AND state != 'queued' \
         AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.id = crm_outbox.consent_id)",
        [],
    )?;
    tx.execute(
        "UPDATE crm_cursor SET consent_id = \
         (SELECT coalesce(max(id), ?1) FROM consents WHERE id > ?1) WHERE id = 1",
        [cursor],
    )?;
    tx.commit()?;
    Ok(queued)
}

/// One push ready to go: its row and its body (which may hold the
/// address: kept in memory for the call only).
pub struct Due {
    pub id: i64,
    pub attempts: u32,
    pub body: String,
}

/// The next row due with its body; rows that must not be pushed any more
/// are cancelled on the way (an opt-in no longer standing, a withdrawal
/// of an opt-in the CRM never had).
pub fn next_due(
    conn: &Connection,
    keys: &ContactKeyring,
    now: Millis,
) -> Result<Option<Due>, CrmError> {
    loop {
        let row: Option<(i64, Option<i64>, i64, String, String, u32)> = conn
            .prepare_cached(
                "SELECT id, consent_id, live_id, viewer_id, event, attempts \
                 FROM crm_outbox WHERE state = 'queued' AND next_at <= ?1 ORDER BY id LIMIT 1",
            )?
            .query_row([now], |r| TryFrom::try_from(r))
            .optional()?;
        let Some((id, consent_id, live_id, viewer, event, attempts)) = row else {
            return Ok(None);
        };
        let body = match (event.as_str(), consent_id) {
            ("opt_in", Some(consent_id)) => opt_in_body(conn, keys, consent_id, live_id, &viewer)?,
            ("opt_out", Some(consent_id)) => withdrawal(conn, consent_id, live_id, &viewer)?,
            ("erased", _) => erased(conn, live_id, &viewer)?,
            _ => Err("not a push regie knows"),
        };
        match body {
            Ok(body) => return Ok(Some(Due { id, attempts, body })),
            Err(why) => set_state(conn, id, "cancelled", Some(why), now)?,
        }
    }
}

/// An opt-in as read: live, time, channel, text hash, when the text was
/// registered, the sealed e-mail.
type StoredOptIn = (
    String,
    Millis,
    String,
    String,
    Option<Millis>,
    Option<Vec<u8>>,
);

/// The opt-in's body, or why it is not pushed.
fn opt_in_body(
    conn: &Connection,
    keys: &ContactKeyring,
    consent_id: i64,
    live_id: i64,
    viewer: &str,
) -> Result<Result<String, &'static str>, CrmError> {
    let found: Option<StoredOptIn> = conn
        .prepare_cached(
            "SELECT l.name, c.at, c.channel, c.text_sha256, t.first_seen, v.email_sealed \
             FROM consents c JOIN lives l ON l.id = c.live_id \
             LEFT JOIN consent_texts t ON t.sha256 = c.text_sha256 \
             LEFT JOIN viewers v ON v.live_id = c.live_id AND v.viewer_id = c.viewer_id \
                  AND v.email_purpose = 'marketing' \
             WHERE c.id = ?1 AND c.granted = 1 AND c.id = (SELECT max(x.id) FROM consents x \
                  WHERE x.live_id = ?2 AND x.viewer_id = ?3 AND x.purpose = 'marketing')",
        )?
        .query_row(params![consent_id, live_id, viewer], |r| {
            TryFrom::try_from(r)
        })
        .optional()?;
    let Some((live, at, channel, text_sha256, registered, sealed)) = found else {
        return Ok(Err("the consent no longer stands"));
    };
    let Some(sealed) = sealed else {
        return Ok(Err("no e-mail address is held under it"));
    };
    let email = zeroize::Zeroizing::new(keys.open(&live, viewer, ContactField::Email, &sealed)?);
    let optin = OptIn {
        live,
        viewer_id: viewer.to_owned(),
        purpose: "marketing".to_owned(),
        granted_at: at,
        channel,
        text_sha256,
        text_registered_at: registered,
        email: Some(email.to_string()),
        phone: None,
    };
    Ok(Ok(push_body(&optin)))
}

/// The withdrawal's body, or why it is not pushed.
fn withdrawal(
    conn: &Connection,
    consent_id: i64,
    live_id: i64,
    viewer: &str,
) -> Result<Result<String, &'static str>, CrmError> {
    let pushed: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM crm_outbox WHERE live_id = ?1 AND viewer_id = ?2 \
             AND event = 'opt_in' AND state = 'sent' AND consent_id < ?3)",
        )?
        .query_row(params![live_id, viewer, consent_id], |r| r.get(0))?;
    if !pushed {
        return Ok(Err("the CRM was never given this opt-in"));
    }
    let found: Option<(String, Millis, String)> = conn
        .prepare_cached(
            "SELECT l.name, c.at, c.channel FROM consents c JOIN lives l ON l.id = c.live_id \
             WHERE c.id = ?1",
        )?
        .query_row([consent_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((live, at, channel)) = found else {
        return Ok(Err("the withdrawal's record is gone"));
    };
    Ok(Ok(withdrawal_body(&Withdrawal {
        live,
        viewer_id: viewer.to_owned(),
        purpose: "marketing".to_owned(),
        withdrawn_at: at,
        channel,
    })))
}

/// The erasure notice's body: the opt-in named as its push did.
fn erased(
    conn: &Connection,
    live_id: i64,
    viewer: &str,
) -> Result<Result<String, &'static str>, CrmError> {
    let found: Option<(String, Millis)> = conn
        .prepare_cached(
            "SELECT l.name, e.at FROM erasures e JOIN lives l ON l.id = e.live_id \
             WHERE e.live_id = ?1 AND e.viewer_id = ?2",
        )?
        .query_row(params![live_id, viewer], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((live, at)) = found else {
        return Ok(Err("the erasure's record is gone"));
    };
    Ok(Ok(crate::privacy::optins::erasure_body(&live, viewer, at)))
}

fn set_state(
    conn: &Connection,
    id: i64,
    state: &str,
    error: Option<&str>,
    now: Millis,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE crm_outbox SET state = ?2, error = COALESCE(?3, error), updated_at = ?4 \
         WHERE id = ?1",
    )?
    .execute(params![id, state, error, now])?;
    // An erasure's notice keeps the viewer id only until it is settled.
    conn.prepare_cached(
        "DELETE FROM crm_outbox WHERE id = ?1 AND event = 'erased' AND state != 'queued'",
    )?
    .execute([id])?;
    Ok(())
}

/// POSTs one signed body to the push URL.
async fn send(crm: &CrmHub, body: &str) -> Result<(), SendError> {
    let Some(url) = &crm.config.push_url else {
        return Err(SendError::Refused("no push_url".to_owned()));
    };
    let Some(secret) = &crm.config.secret else {
        return Err(SendError::Refused("no secret_file".to_owned()));
    };
    let stamp = crm.now().div_euclid(1000);
    let request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(PUSH_TIMESTAMP_HEADER, stamp.to_string())
        .header(
            PUSH_SIGNATURE_HEADER,
            push_signature(secret.bytes(), stamp, body.as_bytes()),
        )
        .body(Full::new(Bytes::from(body.to_owned())))
        .map_err(|e| SendError::Refused(format!("cannot build the request: {e}")))?;
    let (status, retry_after, _) = crm.http.post(request).await?;
    if status == hyper::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(SendError::Temporary {
            why: format!("http {}", status.as_u16()),
            retry_after,
        });
    }
    if !status.is_success() {
        return Err(SendError::Refused(format!("http {}", status.as_u16())));
    }
    Ok(())
}

/// Records what became of a push: sent, retried later, or failed.
fn settle(crm: &CrmHub, push: &Due, sent: &Result<(), SendError>) {
    let now = crm.now();
    let attempts = push.attempts + 1;
    let result = crm.with_store(|store| {
        let (conn, _) = store.sms_parts()?;
        conn.prepare_cached("UPDATE crm_outbox SET attempts = ?2 WHERE id = ?1")?
            .execute(params![push.id, attempts])?;
        match sent {
            Ok(()) => set_state(conn, push.id, "sent", None, now)?,
            Err(SendError::Temporary { why, retry_after })
                if attempts < crm.config.max_attempts =>
            {
                let wait = retry_after
                    .unwrap_or_else(|| crate::sms::sender::backoff(crm.config.backoff, attempts));
                let next = now.saturating_add(millis(wait));
                conn.prepare_cached(
                    "UPDATE crm_outbox SET next_at = ?2, error = ?3, updated_at = ?4 \
                     WHERE id = ?1",
                )?
                .execute(params![push.id, next, why, now])?;
            }
            Err(e) => set_state(conn, push.id, "failed", Some(&e.to_string()), now)?,
        }
        Ok(())
    });
    match (sent, result) {
        (_, Err(e)) => tracing::warn!(error = %e, "CRM: could not record a push's outcome"),
        (Err(e), Ok(())) => tracing::info!(error = %e, attempts, "CRM: a push did not go through"),
        (Ok(()), Ok(())) => {}
    }
}

fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX / 2)
}
