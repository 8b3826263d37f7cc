//! How a live reaches its viewers: the delivery policy (the `events`
//! frame and its [`super::Skip`]s are in `frame`).
//!
//! Staff get every event as it is committed, one `event` frame each.
//! Viewers get one `events` frame per tick holding that tick's events;
//! above the policy's chat rate they get a fair sample of the chat lines,
//! and every line left out is named in the frame's `skipped` ranges, so a
//! viewer can tell a line it was not sent from one it lost.

use serde::{Deserialize, Serialize};

/// A viewer frame every 100 ms unless the brand says otherwise: a tick
/// adds at most its own length to a line's latency, and 100 ms leaves 150
/// of the 250 ms a viewer's p99 may take for the rest, while a busy show
/// (200 lines a second) still packs about 20 events in one frame.
pub const DEFAULT_TICK_MS: u32 = 100;

/// The shortest tick: below it, coalescing saves nothing.
pub const MIN_TICK_MS: u32 = 10;

/// The longest tick: past a second the chat no longer looks live.
pub const MAX_TICK_MS: u32 = 1000;

/// Chat lines a second a viewer receives before sampling starts, unless
/// the brand says otherwise: more than anyone reads (a line every 50 ms),
/// a tenth of a 200-lines-a-second burst.
pub const DEFAULT_CHAT_PER_SEC: u32 = 20;

/// The highest sampling rate a brand may set; 0 turns sampling off.
pub const MAX_CHAT_PER_SEC: u32 = 10_000;

/// A live's viewer delivery: how often viewers get a frame, and how many
/// chat lines a second before they get a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeliveryPolicy {
    /// Milliseconds between two `events` frames to a viewer
    /// ([`MIN_TICK_MS`] to [`MAX_TICK_MS`]).
    pub tick_ms: u32,
    /// Chat lines a second each viewer receives at most, the others
    /// sampled out; 0 sends every line.
    pub chat_per_sec: u32,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            tick_ms: DEFAULT_TICK_MS,
            chat_per_sec: DEFAULT_CHAT_PER_SEC,
        }
    }
}

impl DeliveryPolicy {
    /// Why a policy cannot be used (a tick or a rate out of bounds).
    pub fn check(&self) -> Result<(), String> {
        if !(MIN_TICK_MS..=MAX_TICK_MS).contains(&self.tick_ms) {
            return Err(format!(
                "a tick is {MIN_TICK_MS} to {MAX_TICK_MS} ms, not {}",
                self.tick_ms
            ));
        }
        if self.chat_per_sec > MAX_CHAT_PER_SEC {
            return Err(format!(
                "the chat rate is 0 (every line) to {MAX_CHAT_PER_SEC} lines a second, not {}",
                self.chat_per_sec
            ));
        }
        Ok(())
    }

    /// Whether this is [`DeliveryPolicy::default`] (left out of `settings`).
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Whether chat lines are ever sampled.
    pub fn samples(&self) -> bool {
        self.chat_per_sec > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_is_in_bounds_and_bounds_are_checked() {
        assert!(DeliveryPolicy::default().check().is_ok());
        for (tick_ms, chat_per_sec) in [(9, 20), (1001, 20), (100, MAX_CHAT_PER_SEC + 1)] {
            let p = DeliveryPolicy {
                tick_ms,
                chat_per_sec,
            };
            assert!(p.check().is_err(), "{p:?}");
        }
        let off = DeliveryPolicy {
            tick_ms: MIN_TICK_MS,
            chat_per_sec: 0,
        };
        assert!(off.check().is_ok() && !off.samples());
    }
}
