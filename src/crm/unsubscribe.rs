//! `POST /webhooks/email/…`: an unsubscribe withdraws the viewer's
//! marketing consent, as giving it was (channel `email`).
//!
//! Two ways in:
//!
//! - `POST /webhooks/email/{provider}/{secret}` with Basic credentials,
//!   for a provider that does not sign its webhooks: Brevo's events
//!   (`{"event":"unsubscribed","email":…,"message-id":…}`; `spam`, a
//!   complaint, withdraws too; other events are acknowledged and ignored);
//! - `POST /webhooks/email/unsubscribe`, signed like regie's own pushes
//!   (`X-Regie-Signature` over `timestamp.body` with `[crm] secret_file`,
//!   five minutes' tolerance): `{"email":…,"id":…}`, for a CRM that handles
//!   the one-click `List-Unsubscribe` (RFC 8058) itself.
//!
//! Anything unsigned or badly signed gets 403 and changes nothing. The
//! viewer is found by the keyed lookup of the address (`email_lookups`,
//! never an unkeyed hash); the withdrawal deletes the address, is audited
//! with the viewer id and never the address, and a delivery seen before
//! (same event id, providers retry) changes nothing twice. An address the
//! hub does not hold is answered 200 like any other: the webhook tells a
//! caller nothing about who is known.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{CrmError, CrmHub};
use crate::protocol::{
    ConsentChannel, ConsentPurpose, ConsentState, Contact, Millis, StaffRole, ViewerId,
};
use crate::sms::signature::{PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER, push_signature_valid};
use crate::sms::webhook::{basic_ok, constant_time_eq};
use crate::store::audit::AuditEntry;
use crate::store::contact::{ContactField, EMAIL_LOOKUP_LABEL, email_lookup_form};
use crate::store::{Commit, Store};

/// The router's state: `None` when `[crm]` is off.
pub type UnsubscribeState = Option<Arc<CrmHub>>;

/// The audit action of an unsubscribe.
pub const UNSUBSCRIBE_ACTION: &str = "email_unsubscribe";

/// How far a signed unsubscribe's timestamp may be from the hub's clock.
pub const SIGNED_TOLERANCE_SECS: i64 = 300;

/// The longest body read (a provider's event is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "forbidden\n").into_response()
}

fn bad(why: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, why).into_response()
}

/// `POST /webhooks/email/{provider}/{secret}`: the secret path plus Basic.
pub async fn provider(
    State(crm): State<UnsubscribeState>,
    Path((provider, secret)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(crm) = crm else {
        return (
            StatusCode::NOT_FOUND,
            "the CRM webhooks are off on this hub\n",
        )
            .into_response();
    };
    let c = &crm.config;
    if c.unsubscribe_provider.as_deref() != Some(provider.as_str())
        || c.webhook_secret.is_empty()
        || c.webhook_password.is_empty()
        || !constant_time_eq(secret.as_bytes(), c.webhook_secret.expose().as_bytes())
        || !basic_ok(&headers, &c.webhook_user, c.webhook_password.expose())
    {
        return forbidden();
    }
    if body.len() > MAX_BODY {
        return bad("the body is too large\n");
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return bad("expected a JSON body\n");
    };
    let field = |name: &str| match &json[name] {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let Some(event) = field("event") else {
        return bad("expected an event\n");
    };
    if !matches!(event.as_str(), "unsubscribed" | "spam") {
        return StatusCode::OK.into_response();
    }
    let Some(email) = field("email") else {
        return bad("expected an email\n");
    };
    // Brevo's own id of the delivery: the message id and the event's time.
    let id = match (
        field("message-id").or_else(|| field("id")),
        field("ts_event"),
    ) {
        (Some(m), Some(t)) => format!("{event}:{m}:{t}"),
        (Some(m), None) => format!("{event}:{m}"),
        (None, _) => return bad("expected a message-id\n"),
    };
    answer(&crm, &format!("{provider}-email"), &id, &email)
}

/// `POST /webhooks/email/unsubscribe`: signed with the CRM secret.
pub async fn signed(
    State(crm): State<UnsubscribeState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(crm) = crm else {
        return (
            StatusCode::NOT_FOUND,
            "the CRM webhooks are off on this hub\n",
        )
            .into_response();
    };
    let Some(secret) = &crm.config.secret else {
        return forbidden();
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(stamp), Some(signature)) =
        (header(PUSH_TIMESTAMP_HEADER), header(PUSH_SIGNATURE_HEADER))
    else {
        return forbidden();
    };
    if !push_signature_valid(
        secret.bytes(),
        stamp,
        &body,
        signature,
        crm.now().div_euclid(1000),
        SIGNED_TOLERANCE_SECS,
    ) {
        tracing::warn!("e-mail unsubscribe: a request with a bad signature was refused");
        return forbidden();
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return bad("expected a JSON body\n");
    };
    let (Some(email), Some(id)) = (json["email"].as_str(), json["id"].as_str()) else {
        return bad("expected an email and an id\n");
    };
    answer(&crm, "signed-email", id, email)
}

fn answer(crm: &CrmHub, source: &str, id: &str, email: &str) -> Response {
    match withdraw(crm, source, id, email) {
        Ok(n) => {
            tracing::info!(
                consents = n,
                "e-mail unsubscribe: marketing consent withdrawn"
            );
            StatusCode::OK.into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "e-mail unsubscribe: could not handle a request");
            (StatusCode::SERVICE_UNAVAILABLE, "try again\n").into_response()
        }
    }
}

/// Withdraws the standing marketing consent of every viewer holding
/// `email`, once per delivery `id`; how many.
fn withdraw(crm: &CrmHub, source: &str, id: &str, email: &str) -> Result<usize, CrmError> {
    let now = crm.now();
    crm.with_store(|store| {
        let found = {
            let (conn, keys) = store.sms_parts()?;
            if !crate::sms::outbox::first_delivery(conn, source, id, now)? {
                return Ok(0);
            }
            holders(
                conn,
                &keys.lookups(EMAIL_LOOKUP_LABEL, &email_lookup_form(email)),
            )?
        };
        for (live, viewer, text_sha256) in &found {
            withdraw_one(store, live, viewer, text_sha256, now)?;
        }
        if !found.is_empty() {
            store.checkpoint()?;
        }
        Ok(found.len())
    })
}

/// Makes the lookup of every address stored before lookups were (an
/// older store): opened under the ring, keyed under its active key, in
/// one transaction; how many.
pub(crate) fn backfill_lookups(store: &mut crate::store::SqliteStore) -> Result<usize, CrmError> {
    let (conn, keys) = store.sms_parts()?;
    let tx = conn.transaction()?;
    let missing: Vec<(i64, String, String, Vec<u8>)> = tx
        .prepare(
            "SELECT v.live_id, l.name, v.viewer_id, v.email_sealed FROM viewers v \
             JOIN lives l ON l.id = v.live_id WHERE v.email_sealed IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM email_lookups e \
                 WHERE e.live_id = v.live_id AND e.viewer_id = v.viewer_id)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut made = 0;
    for (live_id, live, viewer, sealed) in missing {
        let Ok(email) = keys.open(&live, &viewer, ContactField::Email, &sealed) else {
            continue;
        };
        let email = zeroize::Zeroizing::new(email);
        let lookup = keys.active_lookup(EMAIL_LOOKUP_LABEL, &email_lookup_form(&email));
        made += tx.execute(
            "INSERT OR IGNORE INTO email_lookups (live_id, viewer_id, lookup) VALUES (?1, ?2, ?3)",
            rusqlite::params![live_id, viewer, lookup.as_slice()],
        )?;
    }
    tx.commit()?;
    Ok(made)
}

/// The viewers a lookup finds whose marketing consent stands: (live,
/// viewer, the text they agreed to).
fn holders(
    conn: &rusqlite::Connection,
    lookups: &[[u8; 32]],
) -> rusqlite::Result<Vec<(String, ViewerId, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.name, e.viewer_id, c.text_sha256 FROM email_lookups e \
         JOIN lives l ON l.id = e.live_id \
         JOIN consents c ON c.id = (SELECT max(x.id) FROM consents x WHERE x.live_id = e.live_id \
              AND x.viewer_id = e.viewer_id AND x.purpose = 'marketing') \
         WHERE e.lookup = ?1 AND c.granted = 1",
    )?;
    let mut found = Vec::new();
    for lookup in lookups {
        for row in stmt.query_map([lookup.as_slice()], |r| {
            Ok((r.get(0)?, ViewerId(r.get(1)?), r.get(2)?))
        })? {
            found.push(row?);
        }
    }
    Ok(found)
}

fn withdraw_one(
    store: &mut crate::store::SqliteStore,
    live: &str,
    viewer: &ViewerId,
    text_sha256: &str,
    now: Millis,
) -> Result<(), CrmError> {
    store.open_live(live)?;
    let withdrawal = ConsentState {
        purpose: ConsentPurpose::Marketing,
        granted: false,
        at: now,
        channel: ConsentChannel::Email,
        text_sha256: text_sha256.to_owned(),
    };
    store.record_consent(live, viewer, &withdrawal, &Contact::default())?;
    let audit = AuditEntry {
        actor_name: crate::hub::engagement::HUB_ACTOR.to_owned(),
        actor_role: StaffRole::Support,
        action: UNSUBSCRIBE_ACTION.to_owned(),
        target: viewer.0.clone(),
        reason: "unsubscribed from the brand's e-mails".to_owned(),
        at: now,
    };
    store.commit(live, &[Commit::without_event().with_audit(audit)])?;
    Ok(())
}
