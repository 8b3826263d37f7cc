//! SMS alerts when a live starts (issue 13): the viewer's subscription,
//! the outbox and its sender, the providers, the inbound webhook.
//!
//! | file | what it is |
//! |---|---|
//! | [`config`] | `[sms]` of the brand file: provider, rate, template, credentials (never logged) |
//! | [`tags`] | the merge tags a template may hold (pure) |
//! | [`template`] | the alert's text: merge tags per recipient, the brand first, the opt-out last (pure) |
//! | [`follow_up`] | post-live segments (asked, voted, entered, won), consent permitting: counted, queued for after quiet hours |
//! | [`outbox`] | the SMS tables: subscriptions (keyed phone lookup), the alert queued once, one row per message |
//! | [`sender`] | the hub's one sender task: queue due alerts, send paced, retry, delete the phones after |
//! | [`provider`] | the [`provider::Provider`] trait and its adapters: `file`, Twilio, Brevo |
//! | [`webhook`] | `POST /webhooks/sms/{provider}`: signed inbound keywords and delivery reports |
//! | [`keywords`] | STOP / START / HELP in an inbound message (pure) |
//! | [`resubscribe`] | START after a STOP: the keyed tombstone, the new consent (channel `sms`) |
//! | [`signature`] | Twilio's `X-Twilio-Signature`, and the HMAC-SHA256 of regie's own signed pushes (pure) |
//! | [`quiet_hours`] | when a promotional follow-up may leave (pure; alerts do not wait) |
//!
//! A subscription is a consent (`sms_reminders`) with the phone, sealed in
//! `viewers` like all contact data; the phone is opened only to write one
//! message, and deleted after the live's alert unless the viewer asked for
//! the brand's next lives.

pub mod config;
pub mod follow_up;
pub mod keywords;
pub mod outbox;
pub mod provider;
pub mod quiet_hours;
pub mod resubscribe;
pub(crate) mod sender;
pub mod signature;
pub mod tags;
pub mod template;
pub mod webhook;

use std::sync::{Arc, Mutex};

use rusqlite::Connection;

pub use config::{ProviderConfig, Secret, SmsConfig};

use crate::hub::config::{Clock, HubConfig};
use crate::protocol::Millis;
use crate::store::contact::ContactKeyring;
use crate::store::{Durability, SqliteStore, StoreError};

/// Why an SMS step failed (logged; the next poll tries again).
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{0}")]
    Outbox(#[from] outbox::OutboxError),
}

/// What the sender and the webhook share: the configuration, the
/// provider, and one store connection of their own.
pub struct SmsHub {
    pub config: SmsConfig,
    clock: Clock,
    /// How long an alert's message rows are kept once done (the phone
    /// period for SMS reminders).
    keep: std::time::Duration,
    provider: Box<dyn provider::Provider>,
    store: Mutex<SqliteStore>,
    /// Bumped when the counts of some live's messages may have changed
    /// (queued, sent, failed, delivered): the hub tells staff.
    changed: tokio::sync::watch::Sender<u64>,
}

impl SmsHub {
    /// The SMS side of a hub, when `[sms]` names a provider.
    pub fn open(hub: &HubConfig) -> Result<Option<Arc<Self>>, StoreError> {
        let Some(provider) = provider::from_config(&hub.sms.provider) else {
            return Ok(None);
        };
        let store = SqliteStore::open_with_keys(
            &hub.data_dir,
            Durability::Normal,
            hub.contact_keys.clone(),
        )?;
        Ok(Some(Arc::new(Self {
            config: hub.sms.clone(),
            clock: hub.clock.clone(),
            keep: hub.retention.sms_reminders,
            provider,
            store: Mutex::new(store),
            changed: tokio::sync::watch::Sender::new(0),
        })))
    }

    /// Something the counts show happened (a message queued, sent, failed,
    /// a delivery report).
    pub(crate) fn progress_changed(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Wakes when [`SmsHub::progress_changed`] was called since last seen
    /// (many calls coalesce into one wake).
    pub fn watch_progress(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Runs `work` on the store connection (off the async workers).
    fn with_db<T>(
        &self,
        work: impl FnOnce(&mut Connection, &ContactKeyring) -> Result<T, SmsError>,
    ) -> Result<T, SmsError> {
        self.with_store(|store| {
            let (conn, keys) = store.sms_parts()?;
            work(conn, keys)
        })
    }

    /// Runs `work` on the store as a [`crate::store::Store`].
    fn with_store<T>(
        &self,
        work: impl FnOnce(&mut SqliteStore) -> Result<T, SmsError>,
    ) -> Result<T, SmsError> {
        locked_blocking(&self.store, "SMS", work)
    }

    /// Where Twilio reports delivery: the webhook, when the hub's public
    /// URL is known.
    fn status_callback(&self) -> Option<String> {
        self.config
            .public_url
            .as_ref()
            .map(|u| format!("{u}/webhooks/sms/{}", self.provider.name()))
    }

    /// Starts the sender; it stops when `stop` turns true.
    pub fn spawn_sender(
        self: &Arc<Self>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(sender::run(self.clone(), stop))
    }
}

/// Runs `work` on a side task's own store connection (the SMS sender's,
/// the CRM pusher's), off the async workers when the runtime has others.
pub(crate) fn locked_blocking<T, E: From<StoreError>>(
    store: &Mutex<SqliteStore>,
    whose: &str,
    work: impl FnOnce(&mut SqliteStore) -> Result<T, E>,
) -> Result<T, E> {
    let run = || {
        let mut store = store
            .lock()
            .map_err(|_| StoreError::Corrupt(format!("the {whose} store lock is poisoned")))?;
        work(&mut store)
    };
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
        _ => run(),
    }
}

/// Queues `live`'s alert now on `store`, as the sender does when the live
/// is due (the bench, tools).
pub fn enqueue_alert(
    store: &mut SqliteStore,
    config: &SmsConfig,
    live: &str,
    now: Millis,
) -> Result<outbox::Queued, SmsError> {
    let (conn, keys) = store.sms_parts()?;
    let id: i64 = conn.query_row("SELECT id FROM lives WHERE name = ?1", [live], |r| r.get(0))?;
    let due = outbox::DueLive {
        id,
        name: live.to_owned(),
    };
    Ok(outbox::enqueue(conn, keys, config, &due, now)?)
}

/// Counts of `live`'s alert, read from the data dir (`regie sms status`).
pub fn progress(
    data_dir: &std::path::Path,
    keys: crate::store::contact::KeySource,
    live: &str,
) -> Result<Option<outbox::Progress>, SmsError> {
    let mut store = SqliteStore::open_with_keys(data_dir, Durability::Normal, keys)?;
    let (conn, _) = store.sms_parts()?;
    Ok(outbox::progress(conn, live)?)
}
