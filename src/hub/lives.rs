//! Who owns a live: the hub's registry of lives, each run by its own
//! session actor (its own `Session`, ordered sequence, settings, fan-out
//! and store connection; one writer per live).
//!
//! A connection asks [`Lives::owner`] for the live its `hello` names and
//! talks to the handle it gets. The live's actor starts on first use when
//! the store holds the live; a name the store does not hold is refused.
//! On a node that shares its lives with others (PostgreSQL), every live is
//! in the shared store, so a live another node created runs here too.
//! This is the one seam a hub of several nodes replaces: "who owns a live"
//! is this small interface (`owner`, `shutdown`, `sweep`), not the
//! connections' business.
//!
//! Brand-wide timers run once per hub: the retention sweeper asks each
//! running live's actor to sweep its own live (its writer), and sweeps the
//! lives nobody runs now (ended ones, mostly: their chat clock runs from
//! their end) from the registry's own store connection, while holding the
//! registry so that no actor starts on them meanwhile.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::HubConfig;
use super::actor;
use super::bus::{Incoming, Publisher};
use super::farewell::Farewell;
use super::fingerprint::CommandFingerprints;
use super::identity::ViewerIdentity;
use super::mailbox::{ActorHandle, Timer};
use super::metrics::Metrics;
use crate::protocol::check_live_name;
use crate::store::{SqliteStore, Store, StoreError};

/// One running live: its actor's handle, and the tasks that end with it.
struct Owned {
    handle: ActorHandle,
    /// Resolves when the actor has checkpointed and said its goodbyes.
    done: JoinHandle<()>,
    /// The live's own timers (viewers online, the game clock).
    timers: Vec<JoinHandle<()>>,
}

/// What the registry needs to start a live's actor.
pub(crate) struct LiveFactory {
    pub config: Arc<HubConfig>,
    pub metrics: Arc<Metrics>,
    pub fingerprints: CommandFingerprints,
    pub identity: ViewerIdentity,
    /// Other hub nodes hear what these lives commit (`bus`), if any.
    pub publisher: Option<Publisher>,
}

/// The lives of the hub and their owners.
pub(crate) struct Lives {
    factory: LiveFactory,
    running: Mutex<Running>,
    /// The registry's own connection to the data dir's store: which lives
    /// exist, and the sweep of lives nobody runs (on one node), the
    /// consent texts and the shop's events (on every node).
    catalogue: std::sync::Mutex<SqliteStore>,
    /// On a node sharing its lives with others (`HubConfig::shared_store`),
    /// the registry's own connection to that store: which lives exist,
    /// what the page shows of them, and the sweep of those nobody runs.
    directory: Option<std::sync::Mutex<Box<dyn Store>>>,
}

#[derive(Default)]
struct Running {
    lives: HashMap<String, Owned>,
    stopping: bool,
}

impl Lives {
    /// The registry, with `default_live`'s actor started on `store` (the
    /// store `serve_with_store` was given); other lives run on their own
    /// connection to the shared store (`HubConfig::shared_store`), else to
    /// the data dir's SQLite store.
    pub(crate) fn start(
        factory: LiveFactory,
        store: Box<dyn Store>,
    ) -> Result<(Arc<Self>, crate::store::LiveHead), StoreError> {
        let mut catalogue = open_catalogue(&factory.config)?;
        let factory = with_registered_consent_texts(factory, &mut catalogue)?;
        if store.shared() {
            // The live's chat is in the shared store; the node's own
            // registry holds it too, so the shop finds it.
            catalogue.open_live(&factory.config.live)?;
        }
        let directory = match &factory.config.shared_store {
            Some(_) => Some(std::sync::Mutex::new(off_the_runtime(|| {
                open_live_store(&factory.config)
            })?)),
            None => None,
        };
        let lives = Arc::new(Self {
            factory,
            running: Mutex::new(Running::default()),
            catalogue: std::sync::Mutex::new(catalogue),
            directory,
        });
        let name = lives.factory.config.live.clone();
        let (owned, head) = lives.launch(&name, store)?;
        lives
            .running
            .try_lock()
            .expect("nobody else holds a registry being built")
            .lives
            .insert(name, owned);
        Ok((lives, head))
    }

    /// The handle of the actor that owns `live`, started on first use when
    /// the store holds the live. Refused: a name that is no live of this
    /// hub, a hub shutting down, a store that cannot open the live.
    pub(crate) async fn owner(&self, live: &str) -> Result<ActorHandle, Farewell> {
        let mut running = self.running.lock().await;
        if running.stopping {
            return Err(Farewell::shutting_down());
        }
        if let Some(owned) = running.lives.get(live) {
            return Ok(owned.handle.clone());
        }
        if check_live_name(live).is_err() || !self.exists(live)? {
            let theirs = crate::privacy::sanitize_name(live, 64);
            return Err(Farewell::unknown_live(&theirs));
        }
        let store = off_the_runtime(|| open_live_store(&self.factory.config)).map_err(|e| {
            tracing::warn!(error = %e, live, "could not open the store for a live");
            Farewell::store_unreadable()
        })?;
        if store.shared() {
            self.note_shared(live)?;
        }
        let (owned, head) = self.launch(live, store).map_err(|e| {
            tracing::warn!(error = %e, live, "could not start a live");
            Farewell::store_unreadable()
        })?;
        tracing::info!(live, epoch = %head.epoch.0, head = head.head, "live session open");
        let handle = owned.handle.clone();
        running.lives.insert(live.to_owned(), owned);
        Ok(handle)
    }

    /// The handle of the hub's default live (`serve --live`), if it runs.
    pub(crate) async fn default_owner(&self) -> Option<ActorHandle> {
        let running = self.running.lock().await;
        running
            .lives
            .get(&self.factory.config.live)
            .map(|o| o.handle.clone())
    }

    /// Whether the store holds `live`.
    fn exists(&self, live: &str) -> Result<bool, Farewell> {
        self.look_up(live).map(|info| info.is_some())
    }

    /// `live`'s title, state and times, from the store that holds the
    /// node's lives (the shared one, if any: another node may have created
    /// or ended it).
    fn look_up(&self, live: &str) -> Result<Option<crate::protocol::LiveInfo>, Farewell> {
        let found = if let Some(directory) = &self.directory {
            let mut directory = directory.lock().map_err(|_| Farewell::store_unreadable())?;
            off_the_runtime(|| directory.live_info(live))
        } else {
            let mut catalogue = self
                .catalogue
                .lock()
                .map_err(|_| Farewell::store_unreadable())?;
            off_the_runtime(|| catalogue.live_info(live))
        };
        found.map_err(|e| {
            tracing::warn!(error = %e, live, "could not look a live up");
            Farewell::store_unreadable()
        })
    }

    /// A shared live about to run here: the node's own registry holds it
    /// too, so the shop's events for it find it.
    fn note_shared(&self, live: &str) -> Result<(), Farewell> {
        let mut catalogue = self
            .catalogue
            .lock()
            .map_err(|_| Farewell::store_unreadable())?;
        off_the_runtime(|| catalogue.open_live(live))
            .map(drop)
            .map_err(|e| {
                tracing::warn!(error = %e, live, "could not register a shared live");
                Farewell::store_unreadable()
            })
    }

    /// Starts the actor of `live` on `store`, with its own timers.
    fn launch(
        &self,
        live: &str,
        store: Box<dyn Store>,
    ) -> Result<(Owned, crate::store::LiveHead), StoreError> {
        let f = &self.factory;
        let mut config = (*f.config).clone();
        live.clone_into(&mut config.live);
        let config = Arc::new(config);
        let (handle, done, head) = actor::start(
            store,
            config.clone(),
            f.metrics.clone(),
            f.fingerprints.clone(),
            f.identity.clone(),
            f.publisher.clone(),
        )?;
        let timers = vec![
            tokio::spawn(tick(
                handle.clone(),
                config.limits.viewers_online_interval,
                Timer::ViewersOnline,
            )),
            tokio::spawn(tick(
                handle.clone(),
                config.limits.game_clock,
                Timer::GameClock,
            )),
        ];
        let owned = Owned {
            handle,
            done: tokio::spawn(done),
            timers,
        };
        Ok((owned, head))
    }

    /// The brand-wide retention sweep, once per firing for the whole hub:
    /// each running live's actor sweeps its own live; the lives nobody runs
    /// are swept from here, the registry held so none of them starts
    /// meanwhile. A failure is logged and the next firing tries again.
    pub(crate) async fn sweep(&self) {
        let running = self.running.lock().await;
        if running.stopping {
            return;
        }
        for owned in running.lives.values() {
            let _ = owned.handle.wake(Timer::Retention);
        }
        let Ok(mut catalogue) = self.catalogue.lock() else {
            return;
        };
        let config = &self.factory.config;
        let swept = off_the_runtime(|| {
            for name in catalogue.live_names()? {
                if running.lives.contains_key(&name) {
                    continue;
                }
                catalogue.open_live(&name)?;
                catalogue.sweep(&name, &config.retention, config.clock.now())?;
            }
            Ok::<_, StoreError>(())
        });
        if let Err(e) = swept {
            tracing::warn!(error = %e, "retention sweep of the lives not running failed");
        }
        drop(catalogue);
        let Some(Ok(mut directory)) = self.directory.as_ref().map(|d| d.lock()) else {
            return;
        };
        // The shared lives nobody runs here: another node may run one, and
        // sweeps of one live by two nodes delete each row once.
        let swept = off_the_runtime(|| {
            for live in directory.lives()? {
                if running.lives.contains_key(&live.name) {
                    continue;
                }
                directory.open_live(&live.name)?;
                directory.sweep(&live.name, &config.retention, config.clock.now())?;
            }
            Ok::<_, StoreError>(())
        });
        if let Err(e) = swept {
            tracing::warn!(error = %e, "retention sweep of the shared lives not running failed");
        }
    }

    /// Hands what another hub node committed to the live's actor here, if
    /// this node runs it (a live nobody joined here has nobody to tell; it
    /// reads the store when it starts).
    pub(crate) async fn hear_other_node(&self, incoming: Incoming) {
        // A batch says how far its node got: frames that do not follow
        // this node's head mean lost publishes, filled from the store.
        let (live, frames, head) = match incoming {
            Incoming::Viewers { live, node, count } => {
                let handle = self
                    .running
                    .lock()
                    .await
                    .lives
                    .get(&live)
                    .map(|o| o.handle.clone());
                if let Some(handle) = handle {
                    let _ = handle.others_online(node, count).await;
                }
                return;
            }
            Incoming::Followed { live, frames } => {
                let head = frames.last().map_or(0, |f| f.seq);
                (Some(live), frames, Some(head))
            }
            Incoming::CatchUp { live, head } => (Some(live), Vec::new(), Some(head)),
            Incoming::Resubscribed => (None, Vec::new(), None),
        };
        let targets: Vec<ActorHandle> = {
            let running = self.running.lock().await;
            match &live {
                Some(live) => running
                    .lives
                    .get(live)
                    .map(|o| o.handle.clone())
                    .into_iter()
                    .collect(),
                None => running.lives.values().map(|o| o.handle.clone()).collect(),
            }
        };
        for handle in targets {
            let _ = handle.followed(frames.clone(), head).await;
        }
    }

    /// Wakes every running live's actor with `timer` (the SMS sender's
    /// news: each actor reads its own live's counts).
    pub(crate) async fn wake_all(&self, timer: Timer) {
        let running = self.running.lock().await;
        for owned in running.lives.values() {
            let _ = owned.handle.wake(timer);
        }
    }

    /// Starts stopping every live: no new one starts, and each actor says
    /// goodbye to its connections ([`Lives::stopped`] waits for them).
    pub(crate) async fn shutdown(&self) {
        let running = {
            let mut running = self.running.lock().await;
            running.stopping = true;
            running
                .lives
                .values()
                .map(|o| o.handle.clone())
                .collect::<Vec<_>>()
        };
        for handle in running {
            handle.shutdown().await;
        }
    }

    /// Waits until every live's actor has checkpointed its store and its
    /// fan-out handed every connection its farewell.
    pub(crate) async fn stopped(&self) {
        let owned: Vec<Owned> = {
            let mut running = self.running.lock().await;
            running.stopping = true;
            running.lives.drain().map(|(_, o)| o).collect()
        };
        for o in owned {
            for t in &o.timers {
                t.abort();
            }
            // Said already by `shutdown`, unless serving failed first.
            o.handle.shutdown().await;
            let _ = o.done.await;
        }
    }
}

/// Registers the brand's consent texts in the store's registry before any
/// live starts (what a viewer is shown is on record before they can agree
/// to it), and lets every live accept the earlier texts it still holds.
fn with_registered_consent_texts(
    mut factory: LiveFactory,
    catalogue: &mut SqliteStore,
) -> Result<LiveFactory, StoreError> {
    let mut config = (*factory.config).clone();
    for (_, text) in config.consent.current() {
        catalogue.register_consent_text(text)?;
    }
    config.consent.registered = catalogue.consent_text_hashes()?.into_iter().collect();
    factory.config = Arc::new(config);
    Ok(factory)
}

impl Lives {
    /// What the page needs of a live (`GET /live/{name}`): its title, state
    /// and times, from the store; `None` for a name that is no live of the
    /// hub.
    pub(crate) fn info(&self, live: &str) -> Result<Option<crate::protocol::LiveInfo>, Farewell> {
        if check_live_name(live).is_err() {
            return Ok(None);
        }
        self.look_up(live)
    }
}

impl Lives {
    /// Stores a checked shop event (`POST /shop/events`) on the registry's
    /// own connection: the row is no live's session state, so the live's
    /// actor need not run, nor be woken, for it.
    pub(crate) fn shop_event(
        &self,
        event: &crate::shop::ShopRecord,
    ) -> Result<crate::shop::Recorded, StoreError> {
        let identity = &self.factory.identity;
        let successor = |id: &crate::protocol::ViewerId| identity.successor(&event.live, id);
        let mut catalogue = self
            .catalogue
            .lock()
            .map_err(|_| StoreError::Corrupt("the registry's store lock is poisoned".to_owned()))?;
        off_the_runtime(|| catalogue.shop_event(event, &successor))
    }
}

/// A connection to the data dir's SQLite store, with the hub's contact
/// keys.
fn open_catalogue(config: &HubConfig) -> Result<SqliteStore, StoreError> {
    SqliteStore::open_with_keys(
        &config.data_dir,
        crate::store::Durability::Normal,
        config.contact_keys.clone(),
    )
}

/// A new connection to the store the node's lives run on: the shared one,
/// else the data dir's.
fn open_live_store(config: &HubConfig) -> Result<Box<dyn Store>, StoreError> {
    Ok(match &config.shared_store {
        Some(shared) => Box::new(crate::store::PostgresStore::open(
            &shared.url,
            config.contact_keys.clone(),
        )?),
        None => Box::new(open_catalogue(config)?),
    })
}

/// Runs synchronous store work from a task without stalling the other
/// tasks of its worker (see `actor`).
fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// Wakes an actor every `every` until it is gone.
pub(crate) async fn tick(inbox: ActorHandle, every: std::time::Duration, timer: Timer) {
    let every = every.max(std::time::Duration::from_millis(10));
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if inbox.wake(timer).is_err() {
            return;
        }
    }
}
