//! Fan-out: the joined connections, and the task that delivers to them.
//!
//! The session actor hands over, in order, everything that must reach
//! clients: registrations, committed events, replies, closes. Ordering is
//! the whole trick: a connection registered after the events up to its
//! welcome's head receives exactly the events after it — no gap, no
//! duplicate — because the dispatch channel is FIFO.
//!
//! This task runs on the async runtime (not on the actor's thread) so that
//! waking thousands of connection writers goes through the runtime's local
//! run queues, and so that the actor can commit the next batch while this
//! one is being delivered. Each event is serialised once per audience and
//! pushed with `try_send` into each connection's bounded queue; a full
//! queue cuts that connection (4008), it never makes the show wait.
//!
//! Staff get each event at once. Viewers get the live's tick
//! ([`super::delivery`]): the events since the last tick in `events`
//! frames, sampled above the live's chat rate. A batch with a redaction,
//! an erasure or a hidden message ends the tick at once
//! ([`super::delivery::ends_tick`]): what leaves viewers' screens does not
//! wait for it. A viewer answered mid-tick
//! gets the tick so far, then its answer (an ack follows its event and
//! never waits for the tick). A viewer registered during a tick starts
//! after the events its welcome covered.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot};

use super::delivery::{self, Tick};
use super::farewell::Farewell;
use super::mailbox::{ConnId, Dispatch, to_text};
use super::metrics::Metrics;
use crate::protocol::{DeliveryPolicy, Event, EventFrame, Role, ServerFrame, ViewerId};

struct Conn {
    id: ConnId,
    role: Role,
    viewer: Option<ViewerId>,
    outbox: mpsc::Sender<Utf8Bytes>,
    farewell: Option<oneshot::Sender<Farewell>>,
    /// A viewer's first event of the current tick (it registered after
    /// the ones before, which its welcome covered).
    from: usize,
}

/// Joined connections of one audience, in a vector so fan-out is a
/// straight scan.
#[derive(Default)]
struct Registry {
    conns: Vec<Conn>,
    index: HashMap<ConnId, usize>,
}

/// Every joined connection: staff and viewers apart, since every event
/// goes to each staff socket and only the tick to viewers (an event does
/// not look through 20,000 viewers to find a few staff).
#[derive(Default)]
struct Audiences {
    staff: Registry,
    viewers: Registry,
}

impl Audiences {
    fn insert(&mut self, conn: Conn) {
        if conn.role.is_staff() {
            self.staff.insert(conn);
        } else {
            self.viewers.insert(conn);
        }
    }

    fn get_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        let registry = if self.staff.index.contains_key(&id) {
            &mut self.staff
        } else {
            &mut self.viewers
        };
        let i = *registry.index.get(&id)?;
        registry.conns.get_mut(i)
    }

    fn remove(&mut self, id: ConnId) -> Option<Conn> {
        self.staff.remove(id).or_else(|| self.viewers.remove(id))
    }

    fn drain(&mut self) -> impl Iterator<Item = Conn> + '_ {
        self.staff.index.clear();
        self.viewers.index.clear();
        self.staff
            .conns
            .drain(..)
            .chain(self.viewers.conns.drain(..))
    }
}

impl Registry {
    fn insert(&mut self, conn: Conn) {
        self.index.insert(conn.id, self.conns.len());
        self.conns.push(conn);
    }

    fn remove(&mut self, id: ConnId) -> Option<Conn> {
        let i = self.index.remove(&id)?;
        let conn = self.conns.swap_remove(i);
        if let Some(moved) = self.conns.get(i) {
            self.index.insert(moved.id, i);
        }
        Some(conn)
    }
}

/// Delivers until the actor drops its end of the channel; then closes
/// whoever is left as the hub shuts down.
pub(crate) async fn run(
    mut dispatch: mpsc::Receiver<Dispatch>,
    metrics: Arc<Metrics>,
    queue_frames: usize,
    policy: DeliveryPolicy,
) {
    let mut fan = FanOut {
        registry: Audiences::default(),
        metrics,
        queue_frames,
        tick: Tick::new(policy),
    };
    let mut ticks = ticker(policy);
    loop {
        let d = tokio::select! {
            d = dispatch.recv() => d,
            _ = ticks.tick() => {
                fan.flush_viewers();
                continue;
            }
        };
        let Some(d) = d else { break };
        match d {
            Dispatch::Register(r) => {
                let from = if r.role.is_staff() { 0 } else { fan.tick.len() };
                fan.registry.insert(Conn {
                    id: r.conn,
                    role: r.role,
                    viewer: r.viewer,
                    outbox: r.outbox,
                    farewell: Some(r.farewell),
                    from,
                });
            }
            Dispatch::Leave { conn } => {
                fan.registry.remove(conn);
            }
            Dispatch::Batch {
                events,
                replies,
                banned,
            } => {
                let before = fan.tick.policy();
                for event in &events {
                    fan.event(event);
                }
                if events.iter().any(|e| delivery::ends_tick(&e.event)) {
                    // Content leaving viewers' screens does not wait for
                    // the tick (and the replies after it follow it).
                    fan.flush_viewers();
                }
                for (conn, frame) in replies {
                    fan.reply(conn, &to_text(&frame));
                }
                for viewer in banned {
                    fan.close_viewer(&viewer);
                }
                if fan.tick.policy() != before {
                    // A new tick length from now: what waits goes first.
                    fan.flush_viewers();
                    ticks = ticker(fan.tick.policy());
                }
            }
            Dispatch::CloseAll(farewell) => {
                fan.flush_viewers();
                fan.close_all(&farewell);
            }
            Dispatch::Staff(frame) => fan.staff(&to_text(&frame)),
        }
    }
    fan.flush_viewers();
    fan.close_all(&Farewell::shutting_down());
}

/// The viewers' tick; a tick missed while the task was busy is not made
/// up (the next one carries its events).
fn ticker(policy: DeliveryPolicy) -> tokio::time::Interval {
    let every = std::time::Duration::from_millis(u64::from(policy.tick_ms.max(1)));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks
}

struct FanOut {
    registry: Audiences,
    metrics: Arc<Metrics>,
    queue_frames: usize,
    /// What viewers get at the next tick.
    tick: Tick,
}

impl FanOut {
    /// Pushes one event to every staff connection, and keeps it for the
    /// viewers' tick.
    fn event(&mut self, frame: &EventFrame) {
        if let Event::DeliveryChanged { policy, .. } = &frame.event {
            self.tick.set_policy(*policy);
        }
        self.tick.push(frame);
        let staff = to_text(&ServerFrame::Event(frame.clone()));
        let mut delivered = 0u64;
        let mut slow = Vec::new();
        let mut gone = Vec::new();
        for conn in &self.registry.staff.conns {
            match conn.outbox.try_send(staff.clone()) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => slow.push(conn.id),
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push(conn.id),
            }
        }
        self.settle(delivered, gone, slow);
    }

    /// A reply goes at once. A viewer first gets the tick's events so far
    /// (the event its ack names among them), and the tick's end only what
    /// comes after.
    fn reply(&mut self, conn: ConnId, text: &Utf8Bytes) {
        let Some(c) = self.registry.get_mut(conn) else {
            return;
        };
        if !c.role.is_staff() {
            let frames = self.tick.so_far(c.viewer.as_ref(), c.from);
            c.from = self.tick.len();
            for frame in frames {
                self.send_to(conn, &Utf8Bytes::from(frame));
            }
        }
        self.send_to(conn, text);
    }

    /// The tick: each viewer gets the events since the last one (shared
    /// frames, or its own when it has lines or notices of its own among
    /// them, or got part of the tick already).
    fn flush_viewers(&mut self) {
        let plan = self.tick.take();
        if plan.is_empty() {
            return;
        }
        let mut delivered = 0u64;
        let mut slow = Vec::new();
        let mut gone = Vec::new();
        self.metrics
            .viewer_lines_sampled_out
            .inc_by(plan.sampled_out());
        let shared: Vec<Utf8Bytes> = plan
            .frames(None, 0)
            .into_iter()
            .map(Utf8Bytes::from)
            .collect();
        for conn in &mut self.registry.viewers.conns {
            let from = std::mem::take(&mut conn.from);
            let own: Vec<Utf8Bytes>;
            let frames = if plan.is_personal(conn.viewer.as_ref(), from) {
                own = plan
                    .frames(conn.viewer.as_ref(), from)
                    .into_iter()
                    .map(Utf8Bytes::from)
                    .collect();
                &own
            } else {
                &shared
            };
            for text in frames {
                match conn.outbox.try_send(text.clone()) {
                    Ok(()) => delivered += 1,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        slow.push(conn.id);
                        break;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        gone.push(conn.id);
                        break;
                    }
                }
            }
        }
        self.settle(delivered, gone, slow);
    }

    /// Counts deliveries; forgets closed queues, cuts full ones.
    fn settle(&mut self, delivered: u64, gone: Vec<ConnId>, slow: Vec<ConnId>) {
        self.metrics.messages_out.inc_by(delivered);
        for id in gone {
            self.registry.remove(id);
        }
        for id in slow {
            self.cut_slow(id);
        }
    }

    /// Pushes one frame to every staff connection (never a viewer's).
    fn staff(&mut self, text: &Utf8Bytes) {
        let staff: Vec<ConnId> = self.registry.staff.conns.iter().map(|c| c.id).collect();
        for conn in staff {
            self.send_to(conn, text);
        }
    }

    fn send_to(&mut self, conn: ConnId, text: &Utf8Bytes) {
        let Some(c) = self.registry.get_mut(conn) else {
            return;
        };
        match c.outbox.try_send(text.clone()) {
            Ok(()) => {
                self.metrics.messages_out.inc();
            }
            Err(mpsc::error::TrySendError::Full(_)) => self.cut_slow(conn),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.registry.remove(conn);
            }
        }
    }

    fn cut_slow(&mut self, conn: ConnId) {
        self.metrics.slow_disconnects.inc();
        let queue = self.queue_frames;
        tracing::info!(conn, queue, "cutting a slow connection");
        self.close(conn, Farewell::slow(queue));
    }

    fn close_viewer(&mut self, viewer: &ViewerId) {
        let ids: Vec<ConnId> = self
            .registry
            .viewers
            .conns
            .iter()
            .filter(|c| c.viewer.as_ref() == Some(viewer))
            .map(|c| c.id)
            .collect();
        for id in ids {
            self.close(id, Farewell::banned());
        }
    }

    fn close(&mut self, conn: ConnId, farewell: Farewell) {
        if let Some(mut c) = self.registry.remove(conn)
            && let Some(tx) = c.farewell.take()
        {
            let _ = tx.send(farewell);
        }
    }

    fn close_all(&mut self, farewell: &Farewell) {
        for mut c in self.registry.drain() {
            if let Some(tx) = c.farewell.take() {
                let _ = tx.send(farewell.clone());
            }
        }
    }
}
