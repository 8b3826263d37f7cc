//! Per-viewer message rate: a token bucket (sustained rate plus a burst) and
//! the optional slow mode (a minimum gap between two messages). Pure: time
//! is passed in, so the rules are tested without waiting.

use std::collections::HashMap;

use crate::protocol::{Millis, Settings, ViewerId};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Tokens available, in thousandths, so integer math stays exact.
    milli_tokens: u64,
    refilled_at: Millis,
    last_sent: Millis,
}

/// The buckets of every viewer who spoke recently.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<ViewerId, Bucket>,
}

impl RateLimiter {
    /// Takes one token for `viewer` at `now`, or says how many milliseconds
    /// to wait before a message would be accepted.
    pub fn take(&mut self, viewer: &ViewerId, settings: &Settings, now: Millis) -> Result<(), u64> {
        let capacity = u64::from(settings.viewer_burst.max(1)) * 1000;
        let rate = u64::from(settings.viewer_rate_per_sec);
        let bucket = self.buckets.entry(viewer.clone()).or_insert(Bucket {
            milli_tokens: capacity,
            refilled_at: now,
            last_sent: Millis::MIN,
        });
        let elapsed = u64::try_from(now.saturating_sub(bucket.refilled_at)).unwrap_or(0);
        // rate tokens per second = rate milli-tokens per millisecond.
        bucket.milli_tokens = (bucket.milli_tokens + elapsed.saturating_mul(rate)).min(capacity);
        bucket.refilled_at = now.max(bucket.refilled_at);

        let gap = i64::from(settings.slow_mode_secs) * 1000;
        if gap > 0 && bucket.last_sent != Millis::MIN {
            let next = bucket.last_sent.saturating_add(gap);
            if now < next {
                return Err(u64::try_from(next - now).unwrap_or(0));
            }
        }
        if bucket.milli_tokens < 1000 {
            let missing = 1000 - bucket.milli_tokens;
            return Err(if rate == 0 {
                u64::from(settings.slow_mode_secs.max(1)) * 1000
            } else {
                missing.div_ceil(rate)
            });
        }
        bucket.milli_tokens -= 1000;
        bucket.last_sent = now;
        Ok(())
    }

    /// Forgets viewers whose bucket is full again and whose slow-mode gap
    /// has passed: they are indistinguishable from newcomers, so keeping
    /// them would only grow memory with the audience.
    pub fn forget_idle(&mut self, settings: &Settings, now: Millis) {
        let capacity = u64::from(settings.viewer_burst.max(1)) * 1000;
        let rate = u64::from(settings.viewer_rate_per_sec);
        let gap = i64::from(settings.slow_mode_secs) * 1000;
        self.buckets.retain(|_, b| {
            let elapsed = u64::try_from(now.saturating_sub(b.refilled_at)).unwrap_or(0);
            let full = b.milli_tokens + elapsed.saturating_mul(rate) >= capacity;
            let gap_over = now >= b.last_sent.saturating_add(gap);
            !(full && gap_over)
        });
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rate: u32, burst: u32, slow: u32) -> Settings {
        Settings {
            viewer_rate_per_sec: rate,
            viewer_burst: burst,
            slow_mode_secs: slow,
            ..Settings::default()
        }
    }

    #[test]
    fn burst_then_sustained_rate() {
        let s = settings(2, 3, 0);
        let v = ViewerId("v".into());
        let mut r = RateLimiter::default();
        for _ in 0..3 {
            assert_eq!(r.take(&v, &s, 1_000), Ok(()));
        }
        assert_eq!(r.take(&v, &s, 1_000), Err(500));
        assert_eq!(r.take(&v, &s, 1_499), Err(1));
        assert_eq!(r.take(&v, &s, 1_500), Ok(()));
        assert!(r.take(&v, &s, 1_500).is_err());
    }

    #[test]
    fn viewers_have_separate_buckets() {
        let s = settings(1, 1, 0);
        let mut r = RateLimiter::default();
        assert!(r.take(&ViewerId("a".into()), &s, 0).is_ok());
        assert!(r.take(&ViewerId("b".into()), &s, 0).is_ok());
        assert!(r.take(&ViewerId("a".into()), &s, 0).is_err());
    }

    #[test]
    fn slow_mode_enforces_a_gap() {
        let s = settings(100, 100, 10);
        let v = ViewerId("v".into());
        let mut r = RateLimiter::default();
        assert!(r.take(&v, &s, 0).is_ok());
        assert_eq!(r.take(&v, &s, 4_000), Err(6_000));
        assert!(r.take(&v, &s, 10_000).is_ok());
    }

    #[test]
    fn a_clock_going_backwards_does_not_mint_tokens() {
        let s = settings(1, 1, 0);
        let v = ViewerId("v".into());
        let mut r = RateLimiter::default();
        assert!(r.take(&v, &s, 10_000).is_ok());
        assert!(r.take(&v, &s, 0).is_err());
        assert!(r.take(&v, &s, 10_500).is_err());
        assert!(r.take(&v, &s, 11_000).is_ok());
    }

    #[test]
    fn idle_viewers_are_forgotten() {
        let s = settings(1, 2, 0);
        let mut r = RateLimiter::default();
        r.take(&ViewerId("a".into()), &s, 0).unwrap();
        r.take(&ViewerId("b".into()), &s, 5_000).unwrap();
        r.forget_idle(&s, 5_500);
        assert_eq!(r.len(), 1);
    }
}
