//! Which viewers are under a sanction, so every line they wrote is marked,
//! however far back it is: the mark is looked up when a line is drawn,
//! never stamped on the lines a console happens to hold (lines loaded
//! later, from further back than the scrollback, are marked too).
//!
//! A staff snapshot lists the viewers sanctioned when it was taken; the
//! events keep the list current after that.

use std::collections::HashMap;

use crate::protocol::{LiftedSanction, Millis, SanctionedViewer, ViewerId};

/// What a viewer is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Banned,
    TimedOut { until: Millis },
}

/// The sanctioned viewers of the live this console watches.
#[derive(Debug, Clone, Default)]
pub struct Sanctioned {
    marks: HashMap<ViewerId, Mark>,
}

impl Sanctioned {
    /// Starts over from a snapshot's list.
    pub fn reset(&mut self, list: Vec<SanctionedViewer>) {
        self.marks = list
            .into_iter()
            .map(|v| {
                let mark = v
                    .until
                    .map_or(Mark::Banned, |until| Mark::TimedOut { until });
                (v.viewer_id, mark)
            })
            .collect();
    }

    pub fn clear(&mut self) {
        self.marks.clear();
    }

    /// A ban wins over any timeout.
    pub fn ban(&mut self, viewer: ViewerId) {
        self.marks.insert(viewer, Mark::Banned);
    }

    /// A timeout marks the viewer until it runs out; a ban stays a ban.
    pub fn time_out(&mut self, viewer: ViewerId, until: Millis) {
        let mark = self.marks.entry(viewer).or_insert(Mark::TimedOut { until });
        if let Mark::TimedOut { until: end } = mark {
            *end = until;
        }
    }

    /// A lifted ban or timeout unmarks the viewer (lifting a timeout
    /// leaves a ban alone).
    pub fn lift(&mut self, viewer: &ViewerId, lifted: LiftedSanction) {
        let unmark = matches!(
            (self.marks.get(viewer), lifted),
            (Some(Mark::Banned), LiftedSanction::Ban)
                | (Some(Mark::TimedOut { .. }), LiftedSanction::Timeout)
        );
        if unmark {
            self.marks.remove(viewer);
        }
    }

    /// An erased viewer has no lines left to mark.
    pub fn forget(&mut self, viewer: &ViewerId) {
        self.marks.remove(viewer);
    }

    pub fn is_banned(&self, viewer: &ViewerId) -> bool {
        self.marks.get(viewer) == Some(&Mark::Banned)
    }

    /// Whether `viewer`'s lines are marked at `now`: banned, or timed out
    /// until later than `now`.
    pub fn marks(&self, viewer: &ViewerId, now: Millis) -> bool {
        match self.marks.get(viewer) {
            Some(Mark::Banned) => true,
            Some(Mark::TimedOut { until }) => *until > now,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ViewerId {
        ViewerId(s.to_owned())
    }

    #[test]
    fn a_timeout_marks_until_it_runs_out_and_a_ban_for_good() {
        let mut s = Sanctioned::default();
        s.time_out(id("v1"), 1_000);
        s.ban(id("v2"));
        assert!(s.marks(&id("v1"), 999));
        assert!(!s.marks(&id("v1"), 1_000));
        assert!(s.marks(&id("v2"), i64::MAX));
        assert!(!s.marks(&id("v3"), 0));
    }

    #[test]
    fn lifting_unmarks_only_what_it_lifts() {
        let mut s = Sanctioned::default();
        s.ban(id("v1"));
        s.time_out(id("v1"), 5_000);
        assert!(s.is_banned(&id("v1")), "a timeout does not soften a ban");
        s.lift(&id("v1"), LiftedSanction::Timeout);
        assert!(s.marks(&id("v1"), 0), "lifting a timeout leaves the ban");
        s.lift(&id("v1"), LiftedSanction::Ban);
        assert!(!s.marks(&id("v1"), 0));
    }

    #[test]
    fn a_snapshot_replaces_what_was_known() {
        let mut s = Sanctioned::default();
        s.ban(id("old"));
        s.reset(vec![
            SanctionedViewer {
                viewer_id: id("b"),
                until: None,
            },
            SanctionedViewer {
                viewer_id: id("t"),
                until: Some(10),
            },
        ]);
        assert!(!s.marks(&id("old"), 0));
        assert!(s.is_banned(&id("b")));
        assert!(s.marks(&id("t"), 9) && !s.is_banned(&id("t")));
    }
}
