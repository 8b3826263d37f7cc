//! The viewers of a live on the other hub nodes, as their heartbeats say.
//! Pure: the actor feeds it what it heard and when, and asks for the sum.
//!
//! Each node counts its own viewer sockets and says the count per live in
//! its heartbeat; a node adds the others' latest counts to its own, so the
//! viewers-online figure every node commits is the live's, not its own
//! share of it. A count not repeated for [`wire::STALE_AFTER`] is dropped:
//! its node is gone, and its viewers are joining other nodes (where they
//! count again).

use std::collections::BTreeMap;

use super::wire;
use crate::protocol::Millis;

/// At most this many other nodes are remembered per live (a cluster is a
/// handful; this bounds what a confused bus could make a node keep).
const MAX_NODES: usize = 256;

/// The other nodes' viewer counts for one live.
#[derive(Debug, Default)]
pub(crate) struct OtherNodes {
    /// Node name → (viewers there, when this node last heard it).
    counts: BTreeMap<String, (u64, Millis)>,
}

impl OtherNodes {
    /// `node` said at `at` that it has `viewers` on this live.
    pub(crate) fn heard(&mut self, node: &str, viewers: u64, at: Millis) {
        self.forget_stale(at);
        if let Some(slot) = self.counts.get_mut(node) {
            *slot = (viewers, at);
        } else if self.counts.len() < MAX_NODES {
            self.counts.insert(node.to_owned(), (viewers, at));
        }
    }

    /// The viewers on every other node still heard from at `now`.
    pub(crate) fn viewers(&self, now: Millis) -> u64 {
        self.counts
            .values()
            .filter(|(_, at)| fresh(*at, now))
            .map(|(viewers, _)| *viewers)
            .fold(0, u64::saturating_add)
    }

    fn forget_stale(&mut self, now: Millis) {
        self.counts.retain(|_, (_, at)| fresh(*at, now));
    }
}

fn fresh(at: Millis, now: Millis) -> bool {
    let stale_after = Millis::try_from(wire::STALE_AFTER.as_millis()).unwrap_or(Millis::MAX);
    now.saturating_sub(at) <= stale_after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_others_counts_add_up_and_a_newer_one_replaces_its_nodes_last() {
        let mut others = OtherNodes::default();
        others.heard("b", 40, 1_000);
        others.heard("c", 2, 1_200);
        assert_eq!(others.viewers(1_500), 42);
        others.heard("b", 30, 2_000);
        assert_eq!(others.viewers(2_100), 32);
    }

    #[test]
    fn a_node_not_heard_for_the_stale_time_no_longer_counts() {
        let mut others = OtherNodes::default();
        others.heard("b", 40, 1_000);
        others.heard("c", 2, 3_500);
        assert_eq!(others.viewers(4_000), 42, "3 s old: still fresh");
        assert_eq!(others.viewers(4_001), 2, "b fell silent");
        others.heard("c", 3, 4_600);
        assert_eq!(others.counts.len(), 1, "b is forgotten, not kept");
    }

    #[test]
    fn a_bus_full_of_strangers_is_bounded() {
        let mut others = OtherNodes::default();
        for i in 0..(MAX_NODES + 10) {
            others.heard(&format!("n{i}"), 1, 1_000);
        }
        assert_eq!(others.viewers(1_000), MAX_NODES as u64);
    }
}
