//! `POST /webhooks/sms/{provider}`: what a provider tells the hub, an SMS
//! a viewer sent (keywords) or a delivery report.
//!
//! Twilio signs each request (`X-Twilio-Signature` over the URL it called
//! and the sorted form parameters, [`super::signature`]); a provider that
//! does not sign is called on `/webhooks/sms/{provider}/{secret}` with
//! Basic credentials. Anything else gets 403 and changes nothing. An
//! inbound message is handled once per provider message id (providers
//! retry for up to a day). The sender's number is never logged.
//!
//! A STOP withdraws every SMS subscription of that number (a consent
//! withdrawal, channel `sms`, audited with the viewer id and no number)
//! before the sender's next claim, and is confirmed by one SMS.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::config::ProviderConfig;
use super::keywords::{self, Keyword};
use super::provider::{Outgoing, SendError};
use super::{SmsError, SmsHub, outbox, template};
use crate::protocol::{ConsentChannel, ConsentPurpose, ConsentState, Contact, StaffRole, ViewerId};
use crate::store::audit::AuditEntry;
use crate::store::{Commit, Store};

/// The router's state: `None` when `[sms]` names no provider.
pub type WebhookState = Option<Arc<SmsHub>>;

/// The audit action of an SMS STOP.
pub const OPT_OUT_ACTION: &str = "sms_opt_out";

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "forbidden\n").into_response()
}

fn twiml_ok() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response()
}

/// `POST /webhooks/sms/{provider}`: Twilio, signed.
pub async fn signed(
    State(sms): State<WebhookState>,
    Path(provider): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(sms) = sms else {
        return (StatusCode::NOT_FOUND, "SMS is off on this hub\n").into_response();
    };
    let ProviderConfig::Twilio { auth_token, .. } = &sms.config.provider else {
        return forbidden();
    };
    if provider != "twilio" {
        return forbidden();
    }
    let Some(signature) = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return forbidden();
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let base = sms.config.public_url.clone().or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("http://{h}"))
    });
    let Some(base) = base else {
        return forbidden();
    };
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let url = format!("{base}{path}");
    if !super::signature::twilio_signature_valid(
        auth_token.expose().as_bytes(),
        &url,
        &params,
        signature,
    ) {
        tracing::warn!("SMS webhook: a request with a bad signature was refused");
        return forbidden();
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sid = get("MessageSid").or_else(|| get("SmsSid"));
    let handled = match (get("Body"), get("MessageStatus"), sid, get("From")) {
        (None, Some(status), Some(sid), _) => delivery(&sms, sid, status),
        (Some(text), _, Some(sid), Some(from)) => inbound(&sms, "twilio", sid, from, text),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "not a message or a status report\n",
            )
                .into_response();
        }
    };
    match handled {
        Ok(()) => twiml_ok(),
        Err(e) => {
            tracing::warn!(error = %e, "SMS webhook: could not handle a request");
            (StatusCode::SERVICE_UNAVAILABLE, "try again\n").into_response()
        }
    }
}

/// `POST /webhooks/sms/{provider}/{secret}`: an unsigned provider (Brevo,
/// the file provider's stand-ins), the secret path plus Basic credentials;
/// a JSON body `{"messageId"|"id", "from", "text"}` or a delivery report
/// `{"messageId"|"id", "event"|"status"}`.
pub async fn secret_path(
    State(sms): State<WebhookState>,
    Path((provider, secret)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(sms) = sms else {
        return (StatusCode::NOT_FOUND, "SMS is off on this hub\n").into_response();
    };
    let c = &sms.config;
    if provider != c.provider.name()
        || matches!(c.provider, ProviderConfig::Twilio { .. })
        || c.webhook_secret.is_empty()
        || c.webhook_password.is_empty()
        || !constant_time_eq(secret.as_bytes(), c.webhook_secret.expose().as_bytes())
        || !basic_ok(&headers, &c.webhook_user, c.webhook_password.expose())
    {
        return forbidden();
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected a JSON body\n").into_response();
    };
    let field = |names: &[&str]| {
        names.iter().find_map(|n| match &json[*n] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let id = field(&["messageId", "id"]);
    let handled = match (
        field(&["text", "body"]),
        field(&["event", "status"]),
        id,
        field(&["from"]),
    ) {
        (None, Some(status), Some(id), _) => delivery(&sms, &id, &status),
        (Some(text), _, Some(id), Some(from)) => {
            inbound(&sms, c.provider.name(), &id, &from, &text)
        }
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "not a message or a status report\n",
            )
                .into_response();
        }
    };
    match handled {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "SMS webhook: could not handle a request");
            (StatusCode::SERVICE_UNAVAILABLE, "try again\n").into_response()
        }
    }
}

/// Whether `a` and `b` are equal, compared in constant time.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    // Equal-length digests, compared without an early exit.
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Whether the request carries these Basic credentials (constant time).
pub(crate) fn basic_ok(headers: &HeaderMap, user: &str, password: &str) -> bool {
    use base64::Engine;
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
        })
    else {
        return false;
    };
    constant_time_eq(&given, format!("{user}:{password}").as_bytes())
}

/// A delivery report: stored against the message id, not the phone.
fn delivery(sms: &SmsHub, provider_id: &str, status: &str) -> Result<(), SmsError> {
    let status = match status.to_ascii_lowercase().as_str() {
        s @ ("queued" | "sent" | "delivered" | "undelivered" | "failed") => s.to_owned(),
        "accepted" | "sending" => "queued".to_owned(),
        "hardbounce" | "softbounce" | "rejected" | "blacklisted" => "failed".to_owned(),
        _ => return Ok(()),
    };
    sms.with_db(|conn, _| Ok(outbox::record_delivery(conn, provider_id, &status)?))?;
    sms.progress_changed();
    Ok(())
}

/// A message a viewer sent: handled once per provider id.
fn inbound(
    sms: &Arc<SmsHub>,
    provider: &str,
    message_id: &str,
    from: &str,
    text: &str,
) -> Result<(), SmsError> {
    let now = sms.now();
    let first =
        sms.with_db(|conn, _| Ok(outbox::first_delivery(conn, provider, message_id, now)?))?;
    if !first {
        return Ok(());
    }
    let Some(keyword) = keywords::classify(text) else {
        return Ok(());
    };
    let Some(phone) = crate::privacy::to_e164(from) else {
        return Ok(());
    };
    let reply = match keyword {
        Keyword::OptOut => {
            let withdrawn = opt_out(sms, &phone, now)?;
            tracing::info!(subscriptions = withdrawn, "SMS STOP: consent withdrawn");
            &sms.config.stop_reply
        }
        Keyword::OptIn => {
            if super::resubscribe::restore(sms, &phone, now)? {
                tracing::info!("SMS START: a stopped subscription restored");
                &sms.config.resubscribed_reply
            } else {
                &sms.config.start_reply
            }
        }
        Keyword::Help => &sms.config.help_reply,
    };
    let body = template::framed(&sms.config, reply);
    let reference = format!("reply-{message_id}");
    tokio::spawn(reply_once(sms.clone(), phone, body, reference));
    Ok(())
}

/// Withdraws every SMS subscription of `phone`: a consent withdrawal
/// (channel `sms`, which deletes the phone and cancels what was queued),
/// audited with the viewer id only.
fn opt_out(sms: &SmsHub, phone: &str, now: crate::protocol::Millis) -> Result<usize, SmsError> {
    sms.with_store(|store| {
        let found: Vec<(String, ViewerId, String)> = {
            let (conn, keys) = store.sms_parts()?;
            outbox::find_by_phone(conn, keys, phone)?
                .into_iter()
                .map(|(live, viewer)| {
                    let text = outbox::consent_text_of(conn, &live, &viewer).unwrap_or_default();
                    (live, viewer, text)
                })
                .collect()
        };
        for (live, viewer, text_sha256) in &found {
            {
                let (conn, keys) = store.sms_parts()?;
                super::resubscribe::record_stop(conn, keys, live, viewer, phone, now)?;
            }
            store.open_live(live)?;
            let withdrawal = ConsentState {
                purpose: ConsentPurpose::SmsReminders,
                granted: false,
                at: now,
                channel: ConsentChannel::Sms,
                text_sha256: text_sha256.clone(),
            };
            store.record_consent(live, viewer, &withdrawal, &Contact::default())?;
            let audit = AuditEntry {
                actor_name: crate::hub::engagement::HUB_ACTOR.to_owned(),
                actor_role: StaffRole::Support,
                action: OPT_OUT_ACTION.to_owned(),
                target: viewer.0.clone(),
                reason: "SMS STOP from the viewer".to_owned(),
                at: now,
            };
            store.commit(live, &[Commit::without_event().with_audit(audit)])?;
        }
        if !found.is_empty() {
            store.checkpoint()?;
        }
        Ok(found.len())
    })
}

/// Sends a keyword's answer, retrying as the sender does; the number is
/// only in memory.
async fn reply_once(sms: Arc<SmsHub>, to: String, body: String, reference: String) {
    let message = Outgoing {
        to: &to,
        body: &body,
        reference: &reference,
        status_callback: None,
    };
    for attempt in 1..=sms.config.max_attempts {
        match sms.provider.send(&message).await {
            Ok(_) => return,
            Err(SendError::Temporary { retry_after, .. }) if attempt < sms.config.max_attempts => {
                let wait = retry_after
                    .unwrap_or_else(|| super::sender::backoff(sms.config.backoff, attempt));
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "SMS: a keyword's answer was not sent");
                return;
            }
        }
    }
}
