//! The live-session hub (`regie serve`).
//!
//! | file | what it is |
//! |---|---|
//! | [`config`] | [`HubConfig`] and [`Limits`]: what a hub runs and its bounds |
//! | [`session`] | the pure rules of a live: command → events + reply (`session/erasure.rs`: erasing a viewer, Art. 17; `session/hold.rs`: the hold queue, deny and its timeout; `session/notes.rs`: moderation notes and the staff log read) |
//! | [`engagement`] | polls and instant wins in the live: votes, entries, deadlines, re-draws |
//! | [`moderation`] | a live's rules ([`crate::moderation`]) and personal data → block, hold queue or flag |
//! | [`shield`] | Shield: the brand's emergency preset, an overlay after the live's moderation |
//! | [`rate_limit`] | per-viewer token bucket and slow mode |
//! | [`identity`] | pseudonymous viewer ids, the signed viewer pass, assigned pseudonyms |
//! | `newcomers` | the budget of new viewer identities per source address, and that address |
//! | [`fingerprint`] | keyed retry keys of commands (nothing stored is an unkeyed hash of what a viewer typed) |
//! | `mailbox` | the hub's internal messages and the actor's typed handle |
//! | `farewell` | why a connection is closed: the catalogue of farewells |
//! | `listener` | what the hub accepts on: plain TCP or TLS (handshakes beside the accept loop), sockets tuned |
//! | `lives` | who owns a live: the registry of the hub's lives, one actor each, started on first use; the brand-wide sweeper |
//! | `actor` | the one owner of a live's session and store connection: batches, commits |
//! | `fanout` | the joined connections; delivers committed events in order (staff at once, viewers on the tick) |
//! | `delivery` | the viewers' tick: a tick's events coalesced into `events` frames, sampled fairly above the live's chat rate |
//! | `connection` | one WebSocket: hello (routed to the live it names), then read commands / write the queue |
//! | [`metrics`] | Prometheus counters at `/metrics` |
//! | [`page`] | the viewer page: `/live/{name}`, its `info.json` and assets (`page/`), their security headers |
//! | `shop` | `POST /shop/events`: the brand shop's signed events, stored content-free for the report ([`crate::shop`]) |
//! | [`consent_texts`] | the consent texts the page shows (`[consent]`), registered and the only hashes a `consent` may name |
//!
//! Ingest path of a viewer message: `connection` (frame ≤ 64 KiB, JSON) →
//! actor inbox → `session` (sanitise, validate, sanctions, rate, moderation,
//! number) → store commit (one transaction per batch) → `fanout` (each
//! connection's bounded queue, scoped by role) → the connection's writer.

mod actor;
pub mod bus;
pub mod config;
mod connection;
pub mod consent_texts;
mod delivery;
pub mod engagement;
mod fanout;
mod farewell;
pub mod fingerprint;
pub mod identity;
mod listener;
mod lives;
mod mailbox;
pub mod metrics;
pub mod moderation;
mod newcomers;
pub mod page;
pub mod rate_limit;
pub mod session;
pub mod shield;
mod shop;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};

use axum::Router;
use axum::routing::{any, get, post};
use tokio::sync::{mpsc, watch};

pub use config::{BusConfig, Clock, HubConfig, Limits, SharedStore};

use crate::auth::secret_file::SecretFileError;
use crate::auth::{AuthError, SigningKey};
use crate::store::{SqliteStore, Store, StoreError};

/// Why a hub could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("staff token key: {0}")]
    Auth(#[from] AuthError),
    #[error("viewer id key: {0}")]
    ViewerIdKey(#[from] SecretFileError),
    #[error("command fingerprint key: {0}")]
    FingerprintKey(SecretFileError),
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
    #[error("the bus between hub nodes: {0}")]
    Bus(#[from] bus::BusError),
}

/// Runs the hub on an already bound listener until `shutdown` resolves;
/// then stops accepting, says `bye {shutting_down}` and closes 1001 to every
/// client, and checkpoints the store. Tests bind `127.0.0.1:0` and call this.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: HubConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    crate::auth::secret_file::ensure_data_dir(&config.data_dir)?;
    let store = SqliteStore::open(&config.data_dir)?;
    serve_with_store(listener, config, Box::new(store), shutdown).await
}

/// [`serve`] on a store of your choice (another backend, a test double)
/// for the default live (`config.live`); the hub's other lives, started
/// when a `hello` names them, run on `config.shared_store` when it is set,
/// else on the data dir's SQLite store.
pub async fn serve_with_store(
    listener: tokio::net::TcpListener,
    config: HubConfig,
    store: Box<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    let key = SigningKey::load_or_create(&config.data_dir)?;
    let identity = identity::ViewerIdentity::load_or_create(&config.data_dir)?;
    let fingerprints = fingerprint::CommandFingerprints::load_or_create(&config.data_dir)
        .map_err(HubError::FingerprintKey)?;
    let config = Arc::new(config);
    let metrics = Arc::new(metrics::Metrics::new());
    // Several nodes: the bus first, so the first commit is heard.
    let bus = match &config.bus {
        Some(b) => {
            Some(bus::Bus::start(&b.url, b.node.clone(), metrics.heartbeats_back.clone()).await?)
        }
        None => None,
    };
    let factory = lives::LiveFactory {
        config: config.clone(),
        metrics: metrics.clone(),
        fingerprints,
        identity: identity.clone(),
        publisher: bus.as_ref().map(|(b, _)| b.publisher.clone()),
    };
    let (lives, head) = lives::Lives::start(factory, store)?;
    let (bus, from_others) = match bus {
        Some((bus, incoming)) => (
            Some(bus),
            Some(tokio::spawn(hear_other_nodes(incoming, lives.clone()))),
        ),
        None => (None, None),
    };
    tracing::info!(
        live = %config.live,
        epoch = %head.epoch.0,
        head = head.head,
        addr = ?listener.local_addr().ok(),
        "live session open"
    );

    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let (stop_tx, stop_rx) = watch::channel(false);
    let shared = Arc::new(connection::Shared {
        config: config.clone(),
        lives: lives.clone(),
        key,
        identity,
        newcomers: std::sync::Mutex::new(newcomers::Newcomers::new(
            config.viewers.new_identities_per_minute,
            config.viewers.exempt_loopback,
        )),
        metrics: metrics.clone(),
        bus_health: bus.as_ref().map(|b| b.health.clone()),
        next_conn: AtomicU64::new(1),
        open: AtomicUsize::new(0),
        stopping: stop_rx,
        _alive: alive_tx,
    });
    page::prepare();
    let (hooks, side, sms_progress) = side_tasks(&config, &shared.stopping, &lives)?;
    let app = Router::new()
        .route("/", any(connection::upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/draws/{file}", get(draw_record))
        .route("/live/{name}", get(page::html))
        .route("/live/{name}/info.json", get(page::info))
        .route("/assets/{file}", get(page::asset))
        .route("/shop/events", shop::route())
        .with_state(shared)
        .merge(hooks);

    // Brand-wide: one sweeper for the whole hub (each live's start-up
    // sweep runs when its actor starts); the lives not running now are
    // swept once at start-up too.
    lives.sweep().await;
    let sweeper = tokio::spawn(sweep_every(lives.clone(), config.retention.sweep_every));
    let stop_lives = lives.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, saying goodbye to clients");
        let _ = stop_tx.send(true);
        stop_lives.shutdown().await;
    };
    // Plain or TLS, every accepted socket is tuned (`listener`).
    let listener = listener::HubListener::new(listener, config.tls.as_ref(), &config.limits)?;
    // The peer's address, for the budget of new viewer identities.
    let app = app.into_make_service_with_connect_info::<listener::Peer>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .await;
    sweeper.abort();
    if let Some(bus) = bus {
        bus.stop();
    }
    if let Some(task) = from_others {
        task.abort();
    }
    if let Some(task) = sms_progress {
        task.abort();
    }
    for task in side {
        let _ = task.await;
    }
    // Each live's actor says goodbye to its joined clients, then checkpoints.
    lives.stopped().await;
    // Wait for connection tasks to deliver their goodbyes (bounded).
    let grace =
        config.limits.close_grace + config.limits.hello_timeout.min(config.limits.close_grace);
    let _ = tokio::time::timeout(grace, alive_rx.recv()).await;
    tracing::info!("hub stopped");
    served.map_err(HubError::Io)
}

/// The side of the hub beside the lives: the webhooks' routes and the
/// tasks that stop with the hub. SMS alerts: the sender and the
/// providers' webhooks (`crate::sms`); the brand's CRM: the opt-in pusher
/// and the e-mail unsubscribe webhooks (`crate::crm`).
/// The third part: the task that shows staff the SMS counts as they move
/// (each change wakes the running lives' actors, which read their own
/// live's counts: `sms_progress`), aborted at the end rather than awaited.
fn side_tasks(
    config: &HubConfig,
    stopping: &watch::Receiver<bool>,
    lives: &Arc<lives::Lives>,
) -> Result<SideTasks, HubError> {
    let sms = crate::sms::SmsHub::open(config)?;
    let crm = crate::crm::CrmHub::open(config)?;
    let progress = sms
        .as_ref()
        .map(|s| tokio::spawn(sms_progress_to_staff(s.watch_progress(), lives.clone())));
    let tasks = sms
        .as_ref()
        .map(|s| s.spawn_sender(stopping.clone()))
        .into_iter()
        .chain(crm.as_ref().and_then(|c| c.spawn_pusher(stopping.clone())))
        .collect();
    let sms_hooks = Router::new()
        .route(
            "/webhooks/sms/{provider}",
            post(crate::sms::webhook::signed),
        )
        .route(
            "/webhooks/sms/{provider}/{secret}",
            post(crate::sms::webhook::secret_path),
        )
        .with_state(sms);
    let email_hooks = Router::new()
        .route(
            "/webhooks/email/unsubscribe",
            post(crate::crm::unsubscribe::signed),
        )
        .route(
            "/webhooks/email/{provider}/{secret}",
            post(crate::crm::unsubscribe::provider),
        )
        .with_state(crm);
    Ok((sms_hooks.merge(email_hooks), tasks, progress))
}

/// What [`side_tasks`] starts: the webhooks' routes, the tasks to await at
/// the end, and the one to abort.
type SideTasks = (
    Router,
    Vec<tokio::task::JoinHandle<()>>,
    Option<tokio::task::JoinHandle<()>>,
);

/// Hands what the other hub nodes committed to this node's lives, in the
/// order the bus heard it.
async fn hear_other_nodes(mut incoming: mpsc::Receiver<bus::Incoming>, lives: Arc<lives::Lives>) {
    while let Some(item) = incoming.recv().await {
        lives.hear_other_node(item).await;
    }
}

/// The hub's one retention sweeper, for all its lives.
async fn sweep_every(lives: Arc<lives::Lives>, every: std::time::Duration) {
    let every = every.max(std::time::Duration::from_millis(10));
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        lives.sweep().await;
    }
}

/// `GET /draws/{id}.json`: an instant win's published record, once drawn,
/// so anyone can run `regie verify-draw` on it. 404 before the draw: the
/// seed is secret until then.
async fn draw_record(
    axum::extract::State(shared): axum::extract::State<Arc<connection::Shared>>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let Some(draw_id) = file
        .strip_suffix(".json")
        .and_then(|id| id.parse::<u64>().ok())
    else {
        return (StatusCode::NOT_FOUND, "no such draw\n").into_response();
    };
    let Some(inbox) = shared.lives.default_owner().await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the hub is stopping\n").into_response();
    };
    match inbox.draw_record(draw_id).await {
        Ok(Some(record)) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            serde_json::to_string_pretty(&record).expect("draw records serialise"),
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such draw, or not drawn yet\n").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the hub is stopping\n").into_response(),
    }
}

/// How often at most staff get new SMS counts while a send runs.
const SMS_PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Wakes every running live's actor when the SMS sender reports news, at
/// most every [`SMS_PROGRESS_EVERY`] (many sends coalesce into one read).
async fn sms_progress_to_staff(mut changed: watch::Receiver<u64>, lives: Arc<lives::Lives>) {
    let mut pace = tokio::time::interval(SMS_PROGRESS_EVERY);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while changed.changed().await.is_ok() {
        changed.mark_unchanged();
        lives.wake_all(mailbox::Timer::SmsProgress).await;
        pace.tick().await;
    }
}

/// `GET /healthz`: 200 `ok`, or 503 saying why this node should not get
/// viewers: its subscription to the other nodes is silent (`bus`).
async fn healthz(
    axum::extract::State(shared): axum::extract::State<Arc<connection::Shared>>,
) -> (axum::http::StatusCode, String) {
    match shared.bus_health.as_ref().map(|h| h.check()) {
        Some(Err(why)) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: {why}\n"),
        ),
        _ => (axum::http::StatusCode::OK, "ok\n".to_owned()),
    }
}

async fn metrics_text(
    axum::extract::State(shared): axum::extract::State<Arc<connection::Shared>>,
) -> ([(axum::http::header::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.render(),
    )
}
