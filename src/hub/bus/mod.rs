//! Fan-out between hub nodes over Redis pub/sub, for a live served by
//! several nodes on one PostgreSQL (the source of truth).
//!
//! A node commits a batch to PostgreSQL, then publishes it on the live's
//! channel ([`wire`]); every other node running that live hands it to the
//! live's actor, which follows it (`Session::follow`) and delivers it to
//! its own connections. Every node keeps its head per live (the session's):
//! an event at `head + 1` is followed, an older one is a duplicate and
//! dropped, a newer one means publishes were lost, and the actor fills the
//! gap from PostgreSQL first — as Matrix Synapse's workers fill theirs from
//! the database with their stream positions. Heartbeats carry each node's
//! last committed seq per live, so a gap is found within a beat even when
//! no later event comes (the last message before Redis restarted).
//!
//! # Why the `redis` crate
//!
//! `redis` (redis-rs) is the maintained, widely used client, already on
//! tokio; `fred` would bring its own connection pool and reconnect policy,
//! but the part that needs care here is the same in both: after a
//! reconnect, a subscription must be made again, and what was published
//! meanwhile is gone. redis-rs's pub/sub connection does not resubscribe on
//! its own (the caveat its users hit), so this module owns that loop: a
//! subscription that ends is made again with a backoff, and every live then
//! checks PostgreSQL for what it missed ([`Incoming::Resubscribed`]).
//! Publishing goes through a `ConnectionManager`, which reconnects by
//! itself; a publish that fails is dropped (the heartbeat's heads bring it
//! back from PostgreSQL).
//!
//! # Health that tells the truth
//!
//! A node publishes a heartbeat every [`wire::BEAT_EVERY`] and listens for
//! its own. `/healthz` says unhealthy when its own beat has not come back
//! for [`wire::STALE_AFTER`]: a wedged subscription (the socket open, no
//! data), a lagging one (beats queued behind a backlog) and a dead one look
//! the same from here, and all mean this node's viewers may be missing
//! other nodes' events. A green health on a silent subscription is what
//! Centrifugo's users met after Redis failovers.

pub(crate) mod audience;
pub(crate) mod wire;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::protocol::{EventFrame, Seq};
use wire::{Beat, Committed, Heard};

/// The key files every node of a cluster must hold the same (copied from
/// the first node's data dir, or from a secret manager): staff tokens,
/// viewer passes, retry keys and sealed contact data mean the same on
/// every node.
pub const SHARED_KEY_FILES: [&str; 4] = [
    crate::auth::TOKEN_KEY_FILE,
    super::identity::VIEWER_ID_KEY_FILE,
    super::fingerprint::FINGERPRINT_KEY_FILE,
    crate::store::contact::CONTACT_KEY_FILE,
];

/// Batches waiting to be published; beyond this they are dropped (and the
/// heartbeat's heads make receivers fetch them from PostgreSQL).
const PUBLISH_QUEUE: usize = 4096;

/// What the bus heard for this node's lives, in order.
const INCOMING_QUEUE: usize = 4096;

/// The longest wait between two tries to subscribe again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Why the bus could not start.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the bus address is not a Redis URL: {0}")]
    Url(redis::RedisError),
    #[error("cannot reach Redis at {url}: {source}")]
    Unreachable {
        url: String,
        source: redis::RedisError,
    },
}

/// What another node committed, for a live this node may run.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A batch another node committed, in seq order.
    Followed {
        live: String,
        frames: Vec<EventFrame>,
    },
    /// Another node committed up to `head` on `live`.
    CatchUp { live: String, head: Seq },
    /// Another node has `count` viewer sockets on `live` (its heartbeat).
    Viewers {
        live: String,
        node: String,
        count: u64,
    },
    /// The subscription was made (again): anything published meanwhile
    /// is lost, so every live checks PostgreSQL.
    Resubscribed,
}

/// Hands committed batches to the publisher task (never waits), and this
/// node's viewer counts to the heartbeat.
#[derive(Clone)]
pub(crate) struct Publisher {
    tx: mpsc::Sender<(String, Vec<EventFrame>)>,
    viewers: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl Publisher {
    /// This node has `count` viewer sockets on `live`: the next heartbeats
    /// say so, for the other nodes' viewers-online figure.
    pub(crate) fn count_viewers(&self, live: &str, count: u64) {
        if let Ok(mut viewers) = self.viewers.lock() {
            viewers.insert(live.to_owned(), count);
        }
    }

    /// This node no longer runs `live`: its heartbeats stop counting it.
    pub(crate) fn forget(&self, live: &str) {
        if let Ok(mut viewers) = self.viewers.lock() {
            viewers.remove(live);
        }
    }

    /// Publishes what `live` just committed. A full queue drops it: the
    /// other nodes fetch it from PostgreSQL on the next heartbeat.
    pub(crate) fn publish(&self, live: &str, frames: &[EventFrame]) {
        if frames.is_empty() {
            return;
        }
        if self
            .tx
            .try_send((live.to_owned(), frames.to_vec()))
            .is_err()
        {
            tracing::warn!(
                live,
                "the bus's publish queue is full; other nodes will catch up from the store"
            );
        }
    }
}

/// When this node last heard its own heartbeat come back.
pub(crate) struct Health {
    started: Instant,
    /// Milliseconds since `started` (0: never).
    own_beat_at: AtomicU64,
    /// Every one heard (`/metrics`).
    heard: prometheus_client::metrics::counter::Counter,
}

impl Health {
    fn new(heard: prometheus_client::metrics::counter::Counter) -> Self {
        Self {
            started: Instant::now(),
            own_beat_at: AtomicU64::new(0),
            heard,
        }
    }

    fn saw_own_beat(&self) {
        self.heard.inc();
        let at = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.own_beat_at.store(at.max(1), Ordering::Relaxed);
    }

    /// `Err(why)` when the subscription has been silent too long.
    pub(crate) fn check(&self) -> Result<(), String> {
        let now = self.started.elapsed();
        let last = Duration::from_millis(self.own_beat_at.load(Ordering::Relaxed));
        let silent = now.saturating_sub(last);
        if silent <= wire::STALE_AFTER {
            return Ok(());
        }
        if last.is_zero() {
            Err(format!(
                "no heartbeat of this node has come back from Redis since it started {} ms ago",
                now.as_millis()
            ))
        } else {
            Err(format!(
                "this node's heartbeat has not come back from Redis for {} ms: its subscription is \
                 wedged, lagging or gone, so other nodes' events may not reach its viewers",
                silent.as_millis()
            ))
        }
    }
}

/// A running bus: the publisher, the health, and its three tasks.
pub(crate) struct Bus {
    pub publisher: Publisher,
    pub health: Arc<Health>,
    tasks: Vec<JoinHandle<()>>,
}

impl Bus {
    /// Connects to Redis at `url` as node `node` and starts publishing,
    /// beating and listening. The receiver yields what other nodes
    /// committed, for the hub to hand to its lives.
    /// Each heartbeat heard back counts in `beats_heard`.
    pub(crate) async fn start(
        url: &str,
        node: String,
        beats_heard: prometheus_client::metrics::counter::Counter,
    ) -> Result<(Self, mpsc::Receiver<Incoming>), BusError> {
        let client = redis::Client::open(url).map_err(BusError::Url)?;
        let conn = ConnectionManager::new(client.clone())
            .await
            .map_err(|source| BusError::Unreachable {
                url: redact_url(url),
                source,
            })?;
        let health = Arc::new(Health::new(beats_heard));
        let heads = Arc::new(Mutex::new(BTreeMap::new()));
        let viewers = Arc::new(Mutex::new(BTreeMap::new()));
        let (publish_tx, publish_rx) = mpsc::channel(PUBLISH_QUEUE);
        let (incoming_tx, incoming_rx) = mpsc::channel(INCOMING_QUEUE);
        let tasks = vec![
            tokio::spawn(publish(
                conn.clone(),
                node.clone(),
                publish_rx,
                heads.clone(),
            )),
            tokio::spawn(beat(conn, node.clone(), heads, viewers.clone())),
            tokio::spawn(listen(client, node, health.clone(), incoming_tx)),
        ];
        let bus = Self {
            publisher: Publisher {
                tx: publish_tx,
                viewers,
            },
            health,
            tasks,
        };
        Ok((bus, incoming_rx))
    }

    /// Stops the bus's tasks (the hub is stopping).
    pub(crate) fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// A Redis URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match url.split_once('@') {
        Some((scheme_user, host)) => match scheme_user.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…@{host}"),
            None => format!("…@{host}"),
        },
        None => url.to_owned(),
    }
}

/// Publishes committed batches in the order they were committed.
async fn publish(
    mut conn: ConnectionManager,
    node: String,
    mut batches: mpsc::Receiver<(String, Vec<EventFrame>)>,
    heads: Arc<Mutex<BTreeMap<String, Seq>>>,
) {
    let mut failing = false;
    while let Some((live, frames)) = batches.recv().await {
        let last = frames.last().map(|f| f.seq);
        let batch = Committed {
            node: node.clone(),
            frames,
        };
        let Ok(payload) = serde_json::to_vec(&batch) else {
            continue;
        };
        let sent: redis::RedisResult<()> = redis::cmd("PUBLISH")
            .arg(wire::live_channel(&live))
            .arg(payload)
            .query_async(&mut conn)
            .await;
        // After the publish: on the one connection, a beat never says a
        // head before the batch that reached it was published.
        if let (Some(last), Ok(mut heads)) = (last, heads.lock()) {
            heads.insert(live, last);
        }
        match sent {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("publishing to Redis again");
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot publish to Redis; other nodes will catch up from the store");
            }
            _ => {}
        }
    }
}

/// The heartbeat: every beat, this node's last committed seq and its
/// viewer sockets per live.
async fn beat(
    mut conn: ConnectionManager,
    node: String,
    heads: Arc<Mutex<BTreeMap<String, Seq>>>,
    viewers: Arc<Mutex<BTreeMap<String, u64>>>,
) {
    let mut every = tokio::time::interval(wire::BEAT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beat = 0u64;
    loop {
        every.tick().await;
        beat += 1;
        let heads = heads.lock().map(|h| h.clone()).unwrap_or_default();
        let viewers = viewers.lock().map(|v| v.clone()).unwrap_or_default();
        let Ok(payload) = serde_json::to_vec(&Beat {
            node: node.clone(),
            count: beat,
            heads,
            viewers,
        }) else {
            continue;
        };
        let sent: redis::RedisResult<()> = redis::cmd("PUBLISH")
            .arg(wire::heartbeat_channel())
            .arg(payload)
            .query_async(&mut conn)
            .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, "heartbeat not published");
        }
    }
}

/// The subscription, made again whenever it ends.
async fn listen(
    client: redis::Client,
    node: String,
    health: Arc<Health>,
    incoming: mpsc::Sender<Incoming>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match subscribe(&client).await {
            Ok(pubsub) => {
                backoff = Duration::from_millis(100);
                tracing::info!("subscribed to the other nodes' events on Redis");
                if incoming.send(Incoming::Resubscribed).await.is_err() {
                    return;
                }
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    let heard = wire::hear(message.get_channel_name(), message.get_payload_bytes());
                    let item = match heard {
                        Ok(Heard::Beat(b)) if b.node == node => {
                            health.saw_own_beat();
                            continue;
                        }
                        Ok(Heard::Committed { batch, .. }) if batch.node == node => continue,
                        Ok(Heard::Beat(b)) => {
                            let heads = b
                                .heads
                                .into_iter()
                                .map(|(live, head)| Incoming::CatchUp { live, head });
                            let viewers =
                                b.viewers
                                    .into_iter()
                                    .map(|(live, count)| Incoming::Viewers {
                                        live,
                                        node: b.node.clone(),
                                        count,
                                    });
                            for item in heads.chain(viewers) {
                                if incoming.send(item).await.is_err() {
                                    return;
                                }
                            }
                            continue;
                        }
                        Ok(Heard::Committed { live, batch }) => Incoming::Followed {
                            live,
                            frames: batch.frames,
                        },
                        Err(e) => {
                            tracing::warn!(error = %e, "dropped a message from Redis");
                            continue;
                        }
                    };
                    if incoming.send(item).await.is_err() {
                        return;
                    }
                }
                tracing::warn!("the Redis subscription ended; subscribing again");
            }
            Err(e) => tracing::warn!(error = %e, "cannot subscribe on Redis; trying again"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn subscribe(client: &redis::Client) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(wire::lives_pattern()).await?;
    pubsub.subscribe(wire::heartbeat_channel()).await?;
    Ok(pubsub)
}
