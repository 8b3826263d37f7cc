//! A live's lifecycle, as the wire carries it: `scheduled`, then `on_air`,
//! then `ended`, only forward ([`LiveState::can_move_to`]). One hub serves
//! every live of a brand; each live has its own stream, and each move is an
//! `Event::LiveState` in it.

use serde::{Deserialize, Serialize};

use super::types::Millis;

/// The longest live name, in bytes. Names are ASCII (see [`check_live_name`]).
pub const MAX_LIVE_NAME_BYTES: usize = 64;

/// The longest live title, in graphemes (titles reach terminals sanitised).
pub const MAX_LIVE_TITLE_GRAPHEMES: usize = 120;

/// Where a live is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveState {
    /// Announced, not started: viewers may wait in the room and consent
    /// to alerts; the chat is open.
    Scheduled,
    OnAir,
    /// Over: viewers may no longer chat; polls and instant wins are closed
    /// and the retention clocks run from `ended_at`.
    Ended,
}

impl LiveState {
    /// The wire name (`scheduled`, `on_air`, `ended`).
    pub fn as_str(self) -> &'static str {
        match self {
            LiveState::Scheduled => "scheduled",
            LiveState::OnAir => "on_air",
            LiveState::Ended => "ended",
        }
    }

    /// The state named `s`, if any.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "scheduled" => Some(LiveState::Scheduled),
            "on_air" => Some(LiveState::OnAir),
            "ended" => Some(LiveState::Ended),
            _ => None,
        }
    }

    /// Only forward, one way: a scheduled live may go on air or end (a show
    /// cancelled before it started), an on-air live may end, an ended live
    /// stays ended.
    pub fn can_move_to(self, next: LiveState) -> bool {
        next > self
    }
}

impl std::fmt::Display for LiveState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One live as `live_list` (the `lives` frame) and the `welcome` give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveInfo {
    pub name: String,
    /// Set by the brand; sanitised before any terminal shows it.
    pub title: String,
    pub state: LiveState,
    /// When the brand announced it would start (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Millis>,
}

impl LiveInfo {
    /// The live after moving to `state` at `at`.
    #[must_use]
    pub fn moved(mut self, state: LiveState, at: Millis) -> Self {
        self.state = state;
        match state {
            LiveState::Scheduled => {}
            LiveState::OnAir => self.started_at = Some(at),
            LiveState::Ended => self.ended_at = Some(at),
        }
        self
    }
}

/// Why a live name is refused, or `Ok`. Names travel in hellos, tokens,
/// URLs and file names: 1 to 64 ASCII letters, digits, `-`, `_` or `.`,
/// starting with a letter or digit (so `*`, the brand-wide token's live,
/// can never be a live).
pub fn check_live_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_LIVE_NAME_BYTES {
        return Err(format!(
            "a live name has 1 to {MAX_LIVE_NAME_BYTES} characters"
        ));
    }
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let all_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !(first_ok && all_ok) {
        return Err(
            "a live name is ASCII letters, digits, '-', '_' or '.', starting with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_only_goes_forward() {
        use LiveState::{Ended, OnAir, Scheduled};
        assert!(Scheduled.can_move_to(OnAir) && Scheduled.can_move_to(Ended));
        assert!(OnAir.can_move_to(Ended));
        for (from, to) in [
            (OnAir, Scheduled),
            (Ended, OnAir),
            (Ended, Scheduled),
            (OnAir, OnAir),
            (Ended, Ended),
        ] {
            assert!(!from.can_move_to(to), "{from} → {to}");
        }
    }

    #[test]
    fn live_names_are_plain_ascii() {
        assert!(check_live_name("show-2026.12_01").is_ok());
        for bad in ["", "*", "-x", "a b", "é", &"x".repeat(65), "a/b"] {
            assert!(check_live_name(bad).is_err(), "{bad:?}");
        }
    }
}
