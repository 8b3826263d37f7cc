//! Polls: one vote per viewer, exact counts, throttled live tallies.
//!
//! Rules (documented in `docs/protocol.md`):
//! - A host or an admin launches and closes polls; moderators do not (a
//!   poll is part of the show's script, not of keeping the chat clean).
//! - A vote is final: the hub refuses a second vote by the same viewer,
//!   even for another option. Changing votes would make the live tally
//!   jitter and invite ballot stuffing by reconnecting; final votes keep the
//!   count exact and simple to audit.
//! - Live tallies are pushed at most [`TALLY_PUSHES_PER_SEC`] times a
//!   second however many votes arrive; the final tally is exact and stored.

use serde::{Deserialize, Serialize};

use crate::privacy::{grapheme_count, sanitize_name};
use crate::protocol::{Millis, ViewerId};

pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 6;
pub const MAX_QUESTION_GRAPHEMES: usize = 200;
pub const MAX_OPTION_GRAPHEMES: usize = 60;
pub const MIN_DURATION_SECS: u32 = 10;
pub const MAX_DURATION_SECS: u32 = 3_600;
/// Live tally pushes per second, at most.
pub const TALLY_PUSHES_PER_SEC: i64 = 4;

/// What a host fills in to launch a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollSpec {
    pub question: String,
    pub options: Vec<String>,
    /// `None`: open until closed from the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    #[error("the question is empty")]
    EmptyQuestion,
    #[error("the question is longer than {MAX_QUESTION_GRAPHEMES} characters")]
    QuestionTooLong,
    #[error("a poll takes {MIN_OPTIONS} to {MAX_OPTIONS} options, not {0}")]
    OptionCount(usize),
    #[error("option {0} is empty or longer than {MAX_OPTION_GRAPHEMES} characters")]
    BadOption(usize),
    #[error("options {0} and {1} are the same")]
    DuplicateOption(usize, usize),
    #[error("a poll lasts {MIN_DURATION_SECS} s to {MAX_DURATION_SECS} s, or until closed")]
    Duration,
    #[error("this poll is closed")]
    Closed,
    #[error("you already voted in this poll")]
    AlreadyVoted,
    #[error("there is no option {0}")]
    NoSuchOption(usize),
}

impl PollSpec {
    /// Sanitises and checks a launch form. The returned spec is what gets
    /// stored and shown.
    pub fn validated(&self) -> Result<PollSpec, PollError> {
        let question = sanitize_name(&self.question, usize::MAX);
        if question.is_empty() {
            return Err(PollError::EmptyQuestion);
        }
        if grapheme_count(&question) > MAX_QUESTION_GRAPHEMES {
            return Err(PollError::QuestionTooLong);
        }
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&self.options.len()) {
            return Err(PollError::OptionCount(self.options.len()));
        }
        let mut options = Vec::with_capacity(self.options.len());
        for (i, raw) in self.options.iter().enumerate() {
            let o = sanitize_name(raw, usize::MAX);
            if o.is_empty() || grapheme_count(&o) > MAX_OPTION_GRAPHEMES {
                return Err(PollError::BadOption(i + 1));
            }
            if let Some(j) = options
                .iter()
                .position(|p: &String| p.to_lowercase() == o.to_lowercase())
            {
                return Err(PollError::DuplicateOption(j + 1, i + 1));
            }
            options.push(o);
        }
        if let Some(d) = self.duration_secs
            && !(MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(&d)
        {
            return Err(PollError::Duration);
        }
        Ok(PollSpec {
            question,
            options,
            duration_secs: self.duration_secs,
        })
    }
}

/// One poll's state, as the hub keeps it. Pure: time comes in as arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    pub id: u64,
    pub spec: PollSpec,
    pub opened_at: Millis,
    pub closes_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    /// Viewers online at launch: the denominator of the participation rate.
    pub audience_at_launch: u64,
    counts: Vec<u64>,
    voters: std::collections::HashSet<ViewerId>,
}

impl Poll {
    pub fn open(id: u64, spec: PollSpec, now: Millis, audience_at_launch: u64) -> Self {
        let closes_at = spec.duration_secs.map(|d| now + i64::from(d) * 1_000);
        Self {
            id,
            counts: vec![0; spec.options.len()],
            spec,
            opened_at: now,
            closes_at,
            closed_at: None,
            audience_at_launch,
            voters: std::collections::HashSet::default(),
        }
    }

    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Records one vote. `option` is 0-based.
    pub fn vote(&mut self, viewer: &ViewerId, option: usize, now: Millis) -> Result<(), PollError> {
        if !self.is_open() || self.closes_at.is_some_and(|t| now >= t) {
            return Err(PollError::Closed);
        }
        let slot = self
            .counts
            .get_mut(option)
            .ok_or(PollError::NoSuchOption(option + 1))?;
        if !self.voters.insert(viewer.clone()) {
            return Err(PollError::AlreadyVoted);
        }
        *slot += 1;
        Ok(())
    }

    /// Whether the poll's time ran out by `now` (it still needs closing).
    pub fn is_due(&self, now: Millis) -> bool {
        self.is_open() && self.closes_at.is_some_and(|t| now >= t)
    }

    /// Closes the poll; the time is the deadline if it passed, else `now`.
    /// Closing twice keeps the first close.
    pub fn close(&mut self, now: Millis) -> Tally {
        if self.closed_at.is_none() {
            let at = self.closes_at.map_or(now, |t| t.min(now));
            self.closed_at = Some(at);
        }
        self.tally()
    }

    pub fn tally(&self) -> Tally {
        Tally {
            poll_id: self.id,
            counts: self.counts.clone(),
            voters: self.voters.len() as u64,
            audience_at_launch: self.audience_at_launch,
        }
    }

    /// Rebuilds a poll from stored votes (hub restart).
    pub fn restore(
        id: u64,
        spec: PollSpec,
        opened_at: Millis,
        audience_at_launch: u64,
        closed_at: Option<Millis>,
        votes: impl IntoIterator<Item = (ViewerId, usize)>,
    ) -> Self {
        let mut poll = Poll::open(id, spec, opened_at, audience_at_launch);
        for (viewer, option) in votes {
            poll.count_stored(viewer, option);
        }
        poll.closed_at = closed_at;
        poll
    }

    /// Counts a vote the store holds (a restart, or a vote another hub
    /// node took), whatever the poll's state now: the store decided it.
    /// Returns whether it was new here; a viewer counts once.
    pub fn count_stored(&mut self, viewer: ViewerId, option: usize) -> bool {
        if let Some(slot) = self.counts.get_mut(option)
            && self.voters.insert(viewer)
        {
            *slot += 1;
            true
        } else {
            false
        }
    }
}

/// Counts per option, in option order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub poll_id: u64,
    pub counts: Vec<u64>,
    pub voters: u64,
    pub audience_at_launch: u64,
}

impl Tally {
    /// Share of each option in percent (0 when nobody voted).
    pub fn percentages(&self) -> Vec<f64> {
        let total: u64 = self.counts.iter().sum();
        self.counts
            .iter()
            .map(|&c| {
                if total == 0 {
                    0.0
                } else {
                    c as f64 * 100.0 / total as f64
                }
            })
            .collect()
    }

    /// Voters ÷ viewers online at launch, in percent.
    pub fn participation(&self) -> f64 {
        if self.audience_at_launch == 0 {
            0.0
        } else {
            self.voters as f64 * 100.0 / self.audience_at_launch as f64
        }
    }
}

/// Decides when a live tally may be pushed: at most
/// [`TALLY_PUSHES_PER_SEC`] a second, and only when something changed.
#[derive(Debug, Clone, Default)]
pub struct TallyThrottle {
    last_push: Option<Millis>,
    dirty: bool,
}

impl TallyThrottle {
    const INTERVAL_MS: Millis = 1_000 / TALLY_PUSHES_PER_SEC;

    pub fn mark_changed(&mut self) {
        self.dirty = true;
    }

    /// True when a push is due now; records it as done.
    pub fn take_due(&mut self, now: Millis) -> bool {
        let spaced = self.last_push.is_none_or(|t| now - t >= Self::INTERVAL_MS);
        if self.dirty && spaced {
            self.dirty = false;
            self.last_push = Some(now);
            true
        } else {
            false
        }
    }

    /// Another hub node pushed the same counts at `at`: nothing is waiting.
    pub fn pushed_elsewhere(&mut self, at: Millis) {
        self.dirty = false;
        self.last_push = Some(self.last_push.map_or(at, |t| t.max(at)));
    }

    /// When the next push may happen, if one is waiting.
    pub fn next_due(&self) -> Option<Millis> {
        self.dirty.then(|| {
            self.last_push
                .map_or(Millis::MIN, |t| t + Self::INTERVAL_MS)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(options: &[&str], duration: Option<u32>) -> PollSpec {
        PollSpec {
            question: "Which colour next?".into(),
            options: options.iter().map(ToString::to_string).collect(),
            duration_secs: duration,
        }
    }

    fn v(i: usize) -> ViewerId {
        ViewerId(format!("v{i}"))
    }

    #[test]
    fn launch_form_is_validated() {
        assert!(spec(&["Red", "Blue"], Some(60)).validated().is_ok());
        assert_eq!(
            spec(&["Red"], None).validated(),
            Err(PollError::OptionCount(1))
        );
        assert_eq!(
            spec(&["a", "b", "c", "d", "e", "f", "g"], None).validated(),
            Err(PollError::OptionCount(7))
        );
        assert_eq!(
            spec(&["Red", "red"], None).validated(),
            Err(PollError::DuplicateOption(1, 2))
        );
        assert_eq!(
            spec(&["Red", " \u{1b}[2J"], None).validated(),
            Err(PollError::BadOption(2))
        );
        assert_eq!(
            spec(&["Red", "Blue"], Some(5)).validated(),
            Err(PollError::Duration)
        );
        let clean = spec(&["Re\u{202e}d", "Blue"], None).validated().unwrap();
        assert_eq!(clean.options[0], "Red");
    }

    #[test]
    #[expect(clippy::float_cmp, reason = "2 voters of 10 is exactly 20%")]
    fn one_final_vote_per_viewer() {
        let mut p = Poll::open(1, spec(&["Red", "Blue"], None), 0, 10);
        p.vote(&v(1), 0, 5).unwrap();
        assert_eq!(p.vote(&v(1), 1, 6), Err(PollError::AlreadyVoted));
        assert_eq!(p.vote(&v(2), 2, 6), Err(PollError::NoSuchOption(3)));
        p.vote(&v(2), 1, 7).unwrap();
        assert_eq!(p.tally().counts, vec![1, 1]);
        assert_eq!(p.tally().voters, 2);
        assert_eq!(p.tally().participation(), 20.0);
    }

    #[test]
    fn no_vote_after_close_or_deadline() {
        let mut p = Poll::open(1, spec(&["Red", "Blue"], Some(10)), 1_000, 3);
        assert!(!p.is_due(10_999));
        assert!(p.is_due(11_000));
        assert_eq!(p.vote(&v(1), 0, 11_000), Err(PollError::Closed));
        let t = p.close(50_000);
        assert_eq!(
            p.closed_at,
            Some(11_000),
            "closed at its deadline, not when noticed"
        );
        assert_eq!(t.counts, vec![0, 0]);
        let mut q = Poll::open(2, spec(&["a", "b"], None), 0, 0);
        q.close(5);
        assert_eq!(q.vote(&v(1), 0, 6), Err(PollError::Closed));
    }

    #[test]
    fn throttle_allows_four_pushes_a_second() {
        let mut t = TallyThrottle::default();
        let mut pushes = 0;
        for now in 0..1_000 {
            t.mark_changed();
            if t.take_due(now) {
                pushes += 1;
            }
        }
        assert_eq!(pushes, 4);
        assert!(
            !TallyThrottle::default().take_due(0),
            "nothing changed, nothing pushed"
        );
    }

    #[test]
    fn restore_rebuilds_exact_counts() {
        let votes = vec![(v(1), 0), (v(2), 1), (v(3), 1), (v(3), 0)];
        let p = Poll::restore(1, spec(&["a", "b"], None), 0, 3, None, votes);
        assert_eq!(p.tally().counts, vec![1, 2]);
    }

    proptest! {
        #[test]
        fn tally_equals_accepted_votes(votes in proptest::collection::vec((0usize..50, 0usize..4), 0..400)) {
            let mut p = Poll::open(1, spec(&["a", "b", "c"], None), 0, 50);
            let mut expected = [0u64; 3];
            let mut seen = std::collections::HashSet::new();
            for (viewer, option) in votes {
                let ok = p.vote(&v(viewer), option, 1).is_ok();
                let should = option < 3 && seen.insert(viewer);
                prop_assert_eq!(ok, should);
                if should { expected[option] += 1; }
            }
            prop_assert_eq!(p.tally().counts, expected.to_vec());
        }
    }
}
