//! `POST /shop/events`: the brand's shop reports a product view, an
//! add-to-cart or an order ([`crate::shop`] says what is checked).
//!
//! | answer | when |
//! |---|---|
//! | 404 | no `[shop] secret_file`: the route is off |
//! | 401 | a signature header is missing, the signature is wrong, or the timestamp is more than 5 min from the hub's clock (a replay) |
//! | 413 | the body is larger than [`crate::shop::MAX_BODY_BYTES`] |
//! | 400 | a signed body that is not one event: malformed, or carrying any field beyond id, type, at, live, viewer, amount, currency, products |
//! | 404 | the live named is no live of this hub |
//! | 503 | the store could not take it now (retry) |
//! | 200 `{"status":"accepted"}` | stored |
//! | 200 `{"status":"duplicate"}` | an event with this id was stored before: nothing changed |
//!
//! Nothing is read from the body before the signature is checked, and
//! neither the body, the pass nor the token is ever logged.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};

use super::connection::Shared;
use super::identity::Subject;
use crate::protocol::{Millis, ViewerId};
use crate::shop::{MAX_BODY_BYTES, ShopEvent, ShopEventError, ShopRecord};
use crate::sms::signature::{PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER};
use crate::store::StoreError;

/// The route, with its body cap.
pub(super) fn route() -> MethodRouter<Arc<Shared>> {
    post(events).layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

fn answer(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": text }).to_string(),
    )
        .into_response()
}

async fn events(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &shared.config.shop_secret else {
        return answer(StatusCode::NOT_FOUND, &ShopEventError::Off.to_string());
    };
    let now = shared.config.clock.now();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(e) = crate::shop::check_signature(
        secret,
        header(PUSH_TIMESTAMP_HEADER),
        header(PUSH_SIGNATURE_HEADER),
        &body,
        now,
    ) {
        tracing::debug!(error = %e, "a shop event was refused");
        return answer(StatusCode::UNAUTHORIZED, &e.to_string());
    }
    let event = match crate::shop::parse(&body, now) {
        Ok(event) => event,
        Err(e) => return answer(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let record = ShopRecord {
        digest: secret.event_digest(&event.id),
        viewer: viewer_of(&shared, &event, now),
        live: event.live,
        kind: event.kind,
        at: event.at,
        amount_minor: event.amount,
        currency: event.currency,
        products: event.products,
    };
    match shared.lives.shop_event(&record) {
        Ok(recorded) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            serde_json::json!({ "status": recorded.as_str() }).to_string(),
        )
            .into_response(),
        Err(StoreError::UnknownLive(_)) => answer(
            StatusCode::NOT_FOUND,
            "no such live on this hub: the event names the live the viewer watched",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "could not store a shop event");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store could not take the event now; retry",
            )
        }
    }
}

/// The viewer's id in the event's live, as the hub derives it on `hello`:
/// from a brand-signed token (one account, one viewer) or a pass this data
/// dir issued. Anything else attributes the event to no one.
///
/// A token counts when the brand signed it and it was still valid when
/// the live started (or now, for a live not started yet): shoppers buy
/// days after the live, with the token its page was given, long expired
/// by then. Its expiry bounds when a viewer may join, not whether what
/// they bought later is theirs; the attribution window bounds that
/// ([`crate::report::ATTRIBUTION_WINDOW_MS`]), and the report counts only
/// viewers who watched or chatted. A token that had expired before the
/// live started was never valid during it: no one.
fn viewer_of(shared: &Shared, event: &ShopEvent, now: Millis) -> Option<ViewerId> {
    let text = event.viewer.as_deref()?;
    if let Some(pass) = shared.identity.check_pass(text) {
        return Some(
            shared
                .identity
                .viewer_id(&event.live, Subject::Device(&pass)),
        );
    }
    let secret = shared.config.viewers.token_secret.as_ref()?;
    let started = match shared.lives.info(&event.live) {
        Ok(info) => info.and_then(|l| l.started_at),
        Err(_) => None,
    };
    let valid_at = started.map_or(now, |s| s.min(now));
    let claims = crate::auth::viewer_token::verify(secret, text, valid_at).ok()?;
    Some(
        shared
            .identity
            .viewer_id(&event.live, Subject::Account(&claims.viewer)),
    )
}
