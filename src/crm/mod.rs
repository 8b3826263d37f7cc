//! The brand's CRM and e-mail provider (issue 13's e-mail opt-ins): what
//! the hub tells them, and what they tell the hub.
//!
//! | file | what it is |
//! |---|---|
//! | [`config`] | `[crm]` of the brand file: push URL, signing secret, the unsubscribe webhook's credentials |
//! | [`queue`] | the notice an erasure queues for the CRM, in the erasure's transaction |
//! | [`push`] | the hub's one pusher task: each new marketing opt-in (and withdrawal) sent to the CRM, signed, retried |
//! | [`unsubscribe`] | `POST /webhooks/email/…`: an e-mail provider's (or the CRM's) unsubscribe withdraws the consent |
//!
//! Both run beside the lives, on a store connection of their own: a push
//! never waits in a live's actor, and the address is read from the sealed
//! store only to write one request (never logged, never copied).

pub mod config;
pub mod push;
pub mod queue;
pub mod unsubscribe;

use std::sync::{Arc, Mutex};

pub use config::CrmConfig;

use crate::hub::config::{Clock, HubConfig};
use crate::protocol::Millis;
use crate::store::{Durability, SqliteStore, StoreError};

/// Why a CRM step failed (logged without any address; the next poll
/// tries again).
#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("contact data: {0}")]
    Contact(#[from] crate::store::contact::ContactError),
}

/// What the pusher and the unsubscribe webhooks share.
pub struct CrmHub {
    pub config: CrmConfig,
    clock: Clock,
    http: crate::sms::provider::Http,
    store: Mutex<SqliteStore>,
}

impl CrmHub {
    /// The CRM side of a hub, when `[crm]` turns any of it on.
    pub fn open(hub: &HubConfig) -> Result<Option<Arc<Self>>, StoreError> {
        if !hub.crm.is_on() {
            return Ok(None);
        }
        let mut store = SqliteStore::open_with_keys(
            &hub.data_dir,
            Durability::Normal,
            hub.contact_keys.clone(),
        )?;
        match unsubscribe::backfill_lookups(&mut store) {
            Ok(0) => {}
            Ok(n) => tracing::info!(addresses = n, "e-mail lookups made for older addresses"),
            Err(e) => tracing::warn!(error = %e, "could not make the older addresses' lookups"),
        }
        Ok(Some(Arc::new(Self {
            config: hub.crm.clone(),
            clock: hub.clock.clone(),
            http: crate::sms::provider::Http::new(),
            store: Mutex::new(store),
        })))
    }

    fn now(&self) -> Millis {
        self.clock.now()
    }

    fn with_store<T>(
        &self,
        work: impl FnOnce(&mut SqliteStore) -> Result<T, CrmError>,
    ) -> Result<T, CrmError> {
        crate::sms::locked_blocking(&self.store, "CRM", work)
    }

    /// Starts the pusher when `push_url` is set; it stops when `stop`
    /// turns true.
    pub fn spawn_pusher(
        self: &Arc<Self>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        self.config.push_url.as_ref()?;
        Some(tokio::spawn(push::run(self.clone(), stop)))
    }
}
