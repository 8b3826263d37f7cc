//! When the crowd speaks, and who: a pacer for the crowd's total rate and a
//! pool of connected viewers that respects the hub's per-viewer rate. Pure
//! (time is passed in as "elapsed since start"), so it is tested without a
//! clock.
//!
//! One scheduler for the whole crowd, rather than a sleep loop per viewer:
//! the total rate stays exact however many viewers are connected, and no
//! viewer is asked to send faster than the hub allows it to.

use std::time::Duration;

use rand::Rng;

/// Spreads `rate` lines a second evenly over time: line `k` (from 0) is due
/// at `k / rate` seconds.
#[derive(Debug, Clone)]
pub struct Pacer {
    rate: f64,
    issued: u64,
}

impl Pacer {
    /// `rate` is lines per second across the whole crowd; must be positive.
    pub fn new(rate: f64) -> Self {
        Self { rate, issued: 0 }
    }

    /// When the next line is due, measured from the start.
    pub fn next_due(&self) -> Duration {
        Duration::from_secs_f64(self.issued as f64 / self.rate)
    }

    /// How many lines are due at `elapsed` that were not issued yet. They
    /// count as issued from now on, sent or not, so a stall never turns into
    /// a burst beyond what was due.
    pub fn take_due(&mut self, elapsed: Duration) -> u64 {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "elapsed and rate are positive; `as` saturates past u64::MAX"
        )]
        let due_total = (elapsed.as_secs_f64() * self.rate).floor() as u64 + 1;
        let n = due_total.saturating_sub(self.issued);
        self.issued += n;
        n
    }
}

/// Connected viewers the scheduler may ask to speak, each with the earliest
/// time it may speak again.
#[derive(Debug)]
pub struct SpeakerPool<H> {
    speakers: Vec<Speaker<H>>,
    /// Least time between two lines of one viewer, from the hub's settings.
    spacing: Duration,
}

#[derive(Debug)]
struct Speaker<H> {
    handle: H,
    free_at: Duration,
}

/// Random probes before falling back to a scan: with a large crowd almost
/// every viewer is free, so one probe nearly always does.
const PROBES: usize = 8;

impl<H> SpeakerPool<H> {
    pub fn new(spacing: Duration) -> Self {
        Self {
            speakers: Vec::new(),
            spacing,
        }
    }

    /// The hub's settings arrive with each viewer's welcome; a change (slow
    /// mode switched on mid-show) applies to every next pick.
    pub fn set_spacing(&mut self, spacing: Duration) {
        self.spacing = spacing;
    }

    pub fn add(&mut self, handle: H) {
        self.speakers.push(Speaker {
            handle,
            free_at: Duration::ZERO,
        });
    }

    pub fn len(&self) -> usize {
        self.speakers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.speakers.is_empty()
    }

    /// Drops viewers for which `gone` says so (disconnected).
    pub fn retain(&mut self, mut keep: impl FnMut(&H) -> bool) {
        self.speakers.retain(|s| keep(&s.handle));
    }

    /// Picks a random viewer free to speak at `now` and marks it busy for
    /// one spacing. `None` when every viewer spoke too recently.
    pub fn pick(&mut self, now: Duration, rng: &mut impl Rng) -> Option<&H> {
        let n = self.speakers.len();
        if n == 0 {
            return None;
        }
        let start = rng.random_range(0..n);
        let probes = (0..PROBES).map(|_| rng.random_range(0..n));
        let scan = (0..n).map(|i| (start + i) % n);
        let found = probes
            .chain(scan)
            .find(|&i| self.speakers[i].free_at <= now)?;
        let speaker = &mut self.speakers[found];
        speaker.free_at = now + self.spacing;
        Some(&speaker.handle)
    }
}

/// The least time between two lines of one viewer that the hub's settings
/// allow: the sustained rate, or slow mode when it is stricter.
pub fn spacing_for(settings: &crate::protocol::Settings) -> Duration {
    let by_rate = Duration::from_secs_f64(1.0 / f64::from(settings.viewer_rate_per_sec.max(1)));
    by_rate.max(Duration::from_secs(u64::from(settings.slow_mode_secs)))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn the_pacer_issues_the_rate_evenly() {
        let mut pacer = Pacer::new(40.0);
        assert_eq!(pacer.take_due(Duration::ZERO), 1);
        assert_eq!(pacer.next_due(), Duration::from_millis(25));
        assert_eq!(pacer.take_due(Duration::from_millis(10)), 0);
        assert_eq!(pacer.take_due(Duration::from_millis(25)), 1);
        // After a stall, exactly what was due, no more.
        assert_eq!(pacer.take_due(Duration::from_secs(1)), 39);
        let mut total = 41;
        let mut t = Duration::from_secs(1);
        while t < Duration::from_secs(10) {
            t += Duration::from_millis(7);
            total += pacer.take_due(t);
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "the pacer's own formula, on a positive time"
        )]
        let expected = (t.as_secs_f64() * 40.0).floor() as u64 + 1;
        assert_eq!(total, expected);
    }

    #[test]
    fn the_pool_never_picks_a_viewer_before_its_spacing_is_over() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut pool = SpeakerPool::new(Duration::from_secs(1));
        for i in 0..3 {
            pool.add(i);
        }
        let now = Duration::from_millis(100);
        let mut picked: Vec<i32> = (0..3).map(|_| *pool.pick(now, &mut rng).unwrap()).collect();
        picked.sort_unstable();
        assert_eq!(picked, vec![0, 1, 2]);
        assert!(pool.pick(now, &mut rng).is_none());
        assert!(pool.pick(Duration::from_millis(1099), &mut rng).is_none());
        assert!(pool.pick(Duration::from_millis(1100), &mut rng).is_some());
    }

    #[test]
    fn the_pool_spreads_lines_across_viewers() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut pool = SpeakerPool::new(Duration::ZERO);
        for i in 0..10usize {
            pool.add(i);
        }
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[*pool.pick(Duration::ZERO, &mut rng).unwrap()] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        pool.retain(|&i| i % 2 == 0);
        assert_eq!(pool.len(), 5);
        assert!((0..100).all(|_| pool.pick(Duration::ZERO, &mut rng).unwrap() % 2 == 0));
    }

    #[test]
    fn spacing_follows_rate_and_slow_mode() {
        let mut s = crate::protocol::Settings {
            viewer_rate_per_sec: 4,
            ..Default::default()
        };
        assert_eq!(spacing_for(&s), Duration::from_millis(250));
        s.slow_mode_secs = 5;
        assert_eq!(spacing_for(&s), Duration::from_secs(5));
        s.viewer_rate_per_sec = 0;
        s.slow_mode_secs = 0;
        assert_eq!(spacing_for(&s), Duration::from_secs(1));
    }
}
