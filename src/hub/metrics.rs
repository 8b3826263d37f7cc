//! The hub's Prometheus metrics, served at `/metrics` on the hub's port.
//! Labels are fixed words (roles, reasons), never user data.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::protocol::Role;
use crate::protocol::permissions::role_name;

type Labels = [(&'static str, &'static str); 1];

/// Every metric the hub keeps. Cheap to update from any task: atomics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    connections: Family<Labels, Gauge>,
    /// Commands received from clients.
    pub messages_in: Counter,
    /// Frames queued to clients (events, acks, errors, welcomes).
    pub messages_out: Counter,
    /// Connections cut because their send queue overflowed.
    pub slow_disconnects: Counter,
    /// Viewer chat lines left out of a tick's shared frames by the live's
    /// delivery policy (their authors still got them).
    pub viewer_lines_sampled_out: Counter,
    /// Connections closed because nothing was heard from them in time
    /// (close 4009), including readers whose socket write stayed blocked.
    pub idle_disconnects: Counter,
    rejected_frames: Family<Labels, Counter>,
    /// Seconds one batch commit took (one transaction).
    pub store_write_seconds: Histogram,
    /// Events appended to the live.
    pub events: Counter,
    /// Command outcomes the hub keeps in memory to answer retries.
    pub remembered_outcomes: Gauge,
    /// Events other hub nodes committed, followed here, by how they came:
    /// `bus` (Redis, as published) or `store` (fetched from PostgreSQL to
    /// fill a gap: a lost publish, a Redis restart).
    followed: Family<Labels, Counter>,
    /// This node's heartbeats heard back through Redis (`bus`): one a
    /// second while its subscription is alive.
    pub heartbeats_back: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("regie");
        let connections = Family::<Labels, Gauge>::default();
        let messages_in = Counter::default();
        let messages_out = Counter::default();
        let slow_disconnects = Counter::default();
        let viewer_lines_sampled_out = Counter::default();
        let idle_disconnects = Counter::default();
        let rejected_frames = Family::<Labels, Counter>::default();
        let store_write_seconds = Histogram::new(exponential_buckets(0.000_1, 2.0, 16));
        let events = Counter::default();
        let remembered_outcomes = Gauge::default();
        let followed = Family::<Labels, Counter>::default();
        let heartbeats_back = Counter::default();
        registry.register(
            "connections",
            "Open WebSocket connections that joined, by role",
            connections.clone(),
        );
        registry.register(
            "messages_in",
            "Commands received from clients",
            messages_in.clone(),
        );
        registry.register(
            "messages_out",
            "Frames queued to clients",
            messages_out.clone(),
        );
        registry.register(
            "slow_disconnects",
            "Connections cut because they could not keep up (close 4008)",
            slow_disconnects.clone(),
        );
        registry.register(
            "viewer_lines_sampled_out",
            "Viewer chat lines the live's delivery policy left out of viewers' frames",
            viewer_lines_sampled_out.clone(),
        );
        registry.register(
            "idle_disconnects",
            "Connections closed because nothing was heard from them in time (close 4009)",
            idle_disconnects.clone(),
        );
        registry.register(
            "rejected_frames",
            "Client frames refused, by reason",
            rejected_frames.clone(),
        );
        registry.register(
            "store_write_seconds",
            "Time to commit one batch to the store",
            store_write_seconds.clone(),
        );
        registry.register("events", "Events appended to the live", events.clone());
        registry.register(
            "remembered_outcomes",
            "Command outcomes kept in memory to answer retries (older ones are read from the store)",
            remembered_outcomes.clone(),
        );
        registry.register(
            "events_followed",
            "Events other hub nodes committed, followed here, by way (bus: Redis; store: a gap filled from PostgreSQL)",
            followed.clone(),
        );
        registry.register(
            "heartbeats_back",
            "This node's heartbeats heard back through Redis, one a second while its subscription lives",
            heartbeats_back.clone(),
        );
        Self {
            registry,
            connections,
            messages_in,
            messages_out,
            slow_disconnects,
            viewer_lines_sampled_out,
            idle_disconnects,
            rejected_frames,
            store_write_seconds,
            events,
            remembered_outcomes,
            followed,
            heartbeats_back,
        }
    }

    /// Counts events another node committed that this one followed,
    /// `via` the bus or the store.
    pub fn followed(&self, via: &'static str, events: u64) {
        self.followed.get_or_create(&[("via", via)]).inc_by(events);
    }

    pub fn connection_opened(&self, role: Role) {
        self.connections
            .get_or_create(&[("role", role_name(role))])
            .inc();
    }

    pub fn connection_closed(&self, role: Role) {
        self.connections
            .get_or_create(&[("role", role_name(role))])
            .dec();
    }

    /// Counts a refused frame; `reason` is an error code's wire name.
    pub fn rejected(&self, reason: &'static str) {
        self.rejected_frames
            .get_or_create(&[("reason", reason)])
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::StaffRole;

    #[test]
    fn renders_every_metric_with_role_labels() {
        let m = Metrics::new();
        m.connection_opened(Role::Viewer);
        m.connection_opened(Role::Staff(StaffRole::Moderator));
        m.slow_disconnects.inc();
        m.idle_disconnects.inc();
        m.rejected("bad_frame");
        m.store_write_seconds.observe(0.002);
        let text = m.render();
        for needle in [
            "regie_connections{role=\"viewer\"} 1",
            "regie_connections{role=\"moderator\"} 1",
            "regie_slow_disconnects_total 1",
            "regie_idle_disconnects_total 1",
            "regie_rejected_frames_total{reason=\"bad_frame\"} 1",
            "regie_store_write_seconds_count 1",
            "regie_messages_in_total 0",
            "regie_messages_out_total 0",
            "regie_viewer_lines_sampled_out_total 0",
            "regie_remembered_outcomes 0",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }
}
