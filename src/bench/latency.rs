//! Latency percentiles without keeping every sample: a log-linear
//! histogram of microseconds (exact below 64 µs, then 32 buckets per
//! doubling, so any value is known to within about 3%). Small enough that
//! each of thousands of receiving sockets keeps its own and they are merged
//! at the end, with no lock on the hot path.

use std::time::Duration;

/// Values below this are counted exactly.
const LINEAR: u64 = 64;
/// Buckets per doubling above [`LINEAR`]: log2 of it is `SUB_BITS`.
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Doublings covered above [`LINEAR`]: 64 µs · 2^22 ≈ 268 s. Slower
/// samples land in the last bucket (and `max` stays exact).
const OCTAVES: u64 = 22;
#[expect(clippy::cast_possible_truncation, reason = "768 buckets, in a const")]
const BUCKETS: usize = (LINEAR + OCTAVES * SUB) as usize;

#[derive(Clone)]
pub struct LatencyHistogram {
    counts: Vec<u32>,
    total: u64,
    max: u64,
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("total", &self.total)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

fn bucket_of(micros: u64) -> usize {
    let index = if micros < LINEAR {
        micros
    } else {
        let octave = u64::from(micros.ilog2()); // ≥ 6
        let first = u64::from(LINEAR.trailing_zeros());
        if octave - first >= OCTAVES {
            return BUCKETS - 1;
        }
        let sub = (micros >> (octave - u64::from(SUB_BITS))) & (SUB - 1);
        LINEAR + (octave - first) * SUB + sub
    };
    // Below `BUCKETS` by construction.
    usize::try_from(index).unwrap_or(BUCKETS - 1)
}

/// The smallest value of a bucket and its width.
fn bucket_range(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < LINEAR {
        return (index, 1);
    }
    let first = u64::from(LINEAR.trailing_zeros());
    let octave = (index - LINEAR) / SUB + first;
    let sub = (index - LINEAR) % SUB;
    let width = 1u64 << (octave - u64::from(SUB_BITS));
    ((1u64 << octave) + sub * width, width)
}

impl LatencyHistogram {
    pub fn record(&mut self, latency: Duration) {
        self.record_micros(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn record_micros(&mut self, micros: u64) {
        let b = bucket_of(micros);
        self.counts[b] = self.counts[b].saturating_add(1);
        self.total += 1;
        self.max = self.max.max(micros);
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max)
    }

    /// The value below which a share `q` (0..=1) of samples lie, as the
    /// middle of its bucket (never above the exact maximum).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "q is clamped to 0..=1, so the rank is within 0..=total"
        )]
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                let (low, width) = bucket_range(i);
                return Duration::from_micros((low + width / 2).min(self.max));
            }
        }
        Duration::from_micros(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for v in (0..5_000u64).chain((5_000..100_000_000).step_by(997)) {
            let b = bucket_of(v);
            assert!(b >= last, "bucket order broke at {v}");
            last = b;
            let (low, width) = bucket_range(b);
            if b < BUCKETS - 1 {
                assert!(
                    low <= v && v < low + width,
                    "{v} not in bucket {b} [{low}, +{width})"
                );
                // 3% precision above the linear range.
                assert!(width as f64 <= (low as f64 / 32.0).max(1.0));
            }
        }
    }

    #[test]
    fn quantiles_are_within_the_bucket_precision() {
        let mut h = LatencyHistogram::default();
        for v in 1..=10_000u64 {
            h.record_micros(v);
        }
        let near = |d: Duration, expected: f64| {
            let got = d.as_micros() as f64;
            (got - expected).abs() <= expected * 0.035
        };
        assert!(near(h.quantile(0.5), 5_000.0), "{:?}", h.quantile(0.5));
        assert!(near(h.quantile(0.99), 9_900.0), "{:?}", h.quantile(0.99));
        assert_eq!(h.max(), Duration::from_millis(10));
        assert!(h.quantile(1.0) <= h.max());
        assert_eq!(h.count(), 10_000);
    }

    #[test]
    fn merging_equals_recording_everything_in_one() {
        let mut a = LatencyHistogram::default();
        let mut b = LatencyHistogram::default();
        let mut all = LatencyHistogram::default();
        for v in 0..3_000u64 {
            let micros = v * v % 77_777;
            if v % 3 == 0 { &mut a } else { &mut b }.record_micros(micros);
            all.record_micros(micros);
        }
        a.merge(&b);
        assert_eq!(a.counts, all.counts);
        assert_eq!(a.quantile(0.99), all.quantile(0.99));
        assert_eq!(a.max(), all.max());
    }

    #[test]
    fn an_empty_histogram_and_huge_values_do_not_panic() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), Duration::ZERO);
        h.record(Duration::from_secs(100_000));
        h.record_micros(u64::MAX);
        // Both land in the last bucket, [64 µs · 2^22 − 2^22 µs, 64 µs · 2^22):
        // its middle, 266 338 304 µs, is what the percentiles say; the
        // maximum stays exact.
        assert_eq!(h.quantile(0.5), Duration::from_micros(266_338_304));
        assert_eq!(h.quantile(1.0), Duration::from_micros(266_338_304));
        assert_eq!(h.max(), Duration::from_micros(u64::MAX));
        assert_eq!(h.count(), 2);
    }
}
