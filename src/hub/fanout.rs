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

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot};

use super::farewell::Farewell;
use super::mailbox::{ConnId, Dispatch, to_text};
use super::metrics::Metrics;
use crate::protocol::{EventFrame, Role, ServerFrame, ViewerId};

struct Conn {
    id: ConnId,
    role: Role,
    viewer: Option<ViewerId>,
    outbox: mpsc::Sender<Utf8Bytes>,
    farewell: Option<oneshot::Sender<Farewell>>,
}

/// The joined connections, in a vector so fan-out is a straight scan.
#[derive(Default)]
struct Registry {
    conns: Vec<Conn>,
    index: HashMap<ConnId, usize>,
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
) {
    let mut fan = FanOut {
        registry: Registry::default(),
        metrics,
        queue_frames,
    };
    while let Some(d) = dispatch.recv().await {
        match d {
            Dispatch::Register(r) => fan.registry.insert(Conn {
                id: r.conn,
                role: r.role,
                viewer: r.viewer,
                outbox: r.outbox,
                farewell: Some(r.farewell),
            }),
            Dispatch::Leave { conn } => {
                fan.registry.remove(conn);
            }
            Dispatch::Batch {
                events,
                replies,
                banned,
            } => {
                for event in &events {
                    fan.event(event);
                }
                for (conn, frame) in replies {
                    fan.send_to(conn, &to_text(&frame));
                }
                for viewer in banned {
                    fan.close_viewer(&viewer);
                }
            }
            Dispatch::Staff(frame) => fan.staff(&to_text(&frame)),
            Dispatch::CloseAll(farewell) => fan.close_all(&farewell),
        }
    }
    fan.close_all(&Farewell::shutting_down());
}

struct FanOut {
    registry: Registry,
    metrics: Arc<Metrics>,
    queue_frames: usize,
}

impl FanOut {
    /// Pushes one event to every connection whose role may see it.
    fn event(&mut self, frame: &EventFrame) {
        let staff = to_text(&ServerFrame::Event(frame.clone()));
        let viewer = frame.event.for_role(Role::Viewer).map(|event| {
            if event == frame.event {
                staff.clone()
            } else {
                to_text(&ServerFrame::Event(EventFrame {
                    event,
                    ..frame.clone()
                }))
            }
        });
        let mut delivered = 0u64;
        let mut slow = Vec::new();
        let mut gone = Vec::new();
        let only_for = frame.event.only_for_viewer();
        for conn in &self.registry.conns {
            let text = if conn.role.is_staff() {
                &staff
            } else if only_for.is_some() && conn.viewer.as_ref() != only_for {
                continue;
            } else {
                match &viewer {
                    Some(t) => t,
                    None => continue,
                }
            };
            match conn.outbox.try_send(text.clone()) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => slow.push(conn.id),
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push(conn.id),
            }
        }
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
        let staff: Vec<ConnId> = self
            .registry
            .conns
            .iter()
            .filter(|c| c.role.is_staff())
            .map(|c| c.id)
            .collect();
        for conn in staff {
            self.send_to(conn, text);
        }
    }

    fn send_to(&mut self, conn: ConnId, text: &Utf8Bytes) {
        let Some(&i) = self.registry.index.get(&conn) else {
            return;
        };
        match self.registry.conns[i].outbox.try_send(text.clone()) {
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
        for mut c in self.registry.conns.drain(..) {
            if let Some(tx) = c.farewell.take() {
                let _ = tx.send(farewell.clone());
            }
        }
        self.registry.index.clear();
    }
}
