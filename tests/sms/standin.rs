//! A loopback stand-in for Twilio's REST Messages API (and Brevo's
//! transactional SMS API on the same port): it checks the credentials
//! (Basic; Brevo's `api-key` header), keeps every message it accepted, can
//! answer "busy" (429, 503) first and can hold one request open, as a slow
//! provider would.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::{Notify, Semaphore};

use crate::support::hub::TIMEOUT;

pub(crate) const ACCOUNT: &str = "AC0123456789";
pub(crate) const AUTH_TOKEN: &str = "twilio-test-auth-token";
pub(crate) const BREVO_KEY: &str = "xkeysib-brevo-test-key";

/// One message as the provider received it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub to: String,
    pub body: String,
    pub from: String,
    /// Every `To` parameter of the request (exactly one each).
    pub recipients: usize,
}

#[derive(Default)]
struct Inner {
    accepted: Vec<Received>,
    /// Every request, answered or not.
    requests: usize,
    /// Answers to give before accepting: 429, 503...
    busy: VecDeque<u16>,
    /// The request number (1-based) to hold until [`StandIn::release`].
    hold: Option<usize>,
}

struct Shared {
    inner: Mutex<Inner>,
    changed: Notify,
    gate: Semaphore,
}

pub(crate) struct StandIn {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    pub(crate) async fn start() -> StandIn {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            changed: Notify::new(),
            gate: Semaphore::new(0),
        });
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(messages))
            .route("/v3/transactionalSMS/sms", post(brevo))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stand-in");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn { addr, shared, task }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `statuses` to the next requests, in order, before accepting.
    pub(crate) fn busy_first(&self, statuses: &[u16]) {
        self.shared
            .inner
            .lock()
            .expect("the stand-in lock")
            .busy
            .extend(statuses);
    }

    /// Holds request number `n` (1-based) open until [`StandIn::release`].
    pub(crate) fn hold(&self, n: usize) {
        self.shared.inner.lock().expect("the stand-in lock").hold = Some(n);
    }

    pub(crate) fn release(&self) {
        self.shared.gate.add_permits(1000);
    }

    pub(crate) fn accepted(&self) -> Vec<Received> {
        self.shared
            .inner
            .lock()
            .expect("the stand-in lock")
            .accepted
            .clone()
    }

    pub(crate) fn requests(&self) -> usize {
        self.shared
            .inner
            .lock()
            .expect("the stand-in lock")
            .requests
    }

    /// The messages accepted for `to`.
    pub(crate) fn to(&self, to: &str) -> Vec<Received> {
        self.accepted().into_iter().filter(|r| r.to == to).collect()
    }

    /// Waits until `done` holds of the stand-in's state (woken by each
    /// request, bounded by [`TIMEOUT`]).
    pub(crate) async fn wait(&self, what: &str, done: impl Fn(&StandIn) -> bool) {
        let give_up = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(self) {
                return;
            }
            let left = give_up.saturating_duration_since(tokio::time::Instant::now());
            assert!(
                tokio::time::timeout(left, changed).await.is_ok(),
                "timed out waiting for the provider to see {what}"
            );
        }
    }
}

async fn messages(
    State(shared): State<Arc<Shared>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{AUTH_TOKEN}"))
    );
    let authorised = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == expected.as_bytes());
    if sid != ACCOUNT || !authorised {
        return (StatusCode::UNAUTHORIZED, "bad credentials").into_response();
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (number, busy, hold) = {
        let mut inner = shared.inner.lock().expect("the stand-in lock");
        inner.requests += 1;
        let number = inner.requests;
        let busy = inner.busy.pop_front();
        (number, busy, inner.hold == Some(number))
    };
    if let Some(status) = busy {
        shared.changed.notify_waiters();
        let status = StatusCode::from_u16(status).expect("a status");
        return (status, [(header::RETRY_AFTER, "0")], "busy").into_response();
    }
    let received = Received {
        to: get("To"),
        body: get("Body"),
        from: get("From"),
        recipients: params.iter().filter(|(n, _)| n == "To").count(),
    };
    shared
        .inner
        .lock()
        .expect("the stand-in lock")
        .accepted
        .push(received);
    shared.changed.notify_waiters();
    if hold {
        // Received, and not answered until released: the hub may stop
        // meanwhile, as if it crashed mid-call.
        let _ = shared.gate.acquire().await;
    }
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"sid":"SM{number:032}","status":"queued"}}"#),
    )
        .into_response()
}

/// Brevo's `POST /v3/transactionalSMS/sms`: JSON, the `api-key` header;
/// the recipient without its `+`, the answer's `messageId` a number.
async fn brevo(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorised = headers
        .get("api-key")
        .is_some_and(|v| v.as_bytes() == BREVO_KEY.as_bytes());
    if !authorised {
        return (StatusCode::UNAUTHORIZED, "bad api-key").into_response();
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let text = |k: &str| json[k].as_str().unwrap_or_default().to_owned();
    let number = {
        let mut inner = shared.inner.lock().expect("the stand-in lock");
        inner.requests += 1;
        let received = Received {
            to: format!("+{}", text("recipient")),
            body: text("content"),
            from: text("sender"),
            recipients: usize::from(json["recipient"].is_string()),
        };
        inner.accepted.push(received);
        inner.requests
    };
    shared.changed.notify_waiters();
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"reference":"ref-{number}","messageId":{number}}}"#),
    )
        .into_response()
}
