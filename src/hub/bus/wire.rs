//! What hub nodes say to each other over Redis pub/sub: the channels and
//! the two messages, as JSON. Pure: no I/O here.
//!
//! A node publishes each batch it committed on the live's channel, and a
//! heartbeat every [`BEAT_EVERY`] on the heartbeat channel with the last
//! seq it committed on each live it runs. A receiver behind that seq fills
//! the gap from PostgreSQL, so a lost publish costs one heartbeat of delay,
//! never a lost event. Redis holds nothing: pub/sub, not streams, so a
//! redacted line's text never outlives its delivery.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::protocol::{EventFrame, Seq};

/// Every channel regie uses starts with this.
const PREFIX: &str = "regie";

/// How often a node says it is alive (and what it committed).
pub(crate) const BEAT_EVERY: Duration = Duration::from_secs(1);

/// A node that has not seen its own heartbeat come back for this long is
/// unhealthy (`/healthz`): its subscription is wedged, lagging or gone.
/// Three beats: one late beat is not an outage, and a wedge shows within
/// `STALE_AFTER + BEAT_EVERY` (4 s).
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(3);

/// The heartbeat channel.
pub(crate) fn heartbeat_channel() -> String {
    format!("{PREFIX}:heartbeat")
}

/// The channel of one live's committed events.
pub(crate) fn live_channel(live: &str) -> String {
    format!("{PREFIX}:live:{live}")
}

/// The pattern of every live's channel.
pub(crate) fn lives_pattern() -> String {
    format!("{PREFIX}:live:*")
}

/// The live a channel name belongs to, if it is a live's channel.
pub(crate) fn live_of(channel: &str) -> Option<&str> {
    channel
        .strip_prefix(PREFIX)?
        .strip_prefix(":live:")
        .filter(|live| !live.is_empty())
}

/// One committed batch of one live, in seq order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Committed {
    /// The node that committed it (its own are ignored on the way back).
    pub node: String,
    pub frames: Vec<EventFrame>,
}

/// A node's heartbeat: a counter, the last seq it committed per live, and
/// its viewer sockets per live it runs (see `audience`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Beat {
    pub node: String,
    pub count: u64,
    #[serde(default)]
    pub heads: BTreeMap<String, Seq>,
    #[serde(default)]
    pub viewers: BTreeMap<String, u64>,
}

/// A message as it came off a channel, checked.
#[derive(Debug, PartialEq)]
pub(crate) enum Heard {
    Committed { live: String, batch: Committed },
    Beat(Beat),
}

/// Why a message from Redis was dropped (logged; nothing is lost by it:
/// the next heartbeat's heads bring the gap back from PostgreSQL).
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error("a message on a channel regie does not use: {0:?}")]
    UnknownChannel(String),
    #[error("a message that is not regie's: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// Reads a message of `channel`.
pub(crate) fn hear(channel: &str, payload: &[u8]) -> Result<Heard, WireError> {
    if channel == heartbeat_channel() {
        return Ok(Heard::Beat(serde_json::from_slice(payload)?));
    }
    let live = live_of(channel)
        .ok_or_else(|| WireError::UnknownChannel(crate::privacy::sanitize_name(channel, 64)))?;
    Ok(Heard::Committed {
        live: live.to_owned(),
        batch: serde_json::from_slice(payload)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Epoch, Event};

    fn frame(seq: Seq) -> EventFrame {
        EventFrame {
            epoch: Epoch("e1".into()),
            seq,
            at: 1,
            event: Event::ViewersOnline { count: seq },
        }
    }

    #[test]
    fn a_batch_and_a_beat_come_back_as_they_were_sent() {
        let batch = Committed {
            node: "a".into(),
            frames: vec![frame(7), frame(8)],
        };
        let payload = serde_json::to_vec(&batch).expect("serialises");
        assert_eq!(
            hear(&live_channel("show"), &payload).expect("heard"),
            Heard::Committed {
                live: "show".into(),
                batch
            }
        );
        let beat = Beat {
            node: "b".into(),
            count: 3,
            heads: [("show".to_owned(), 8)].into(),
            viewers: [("show".to_owned(), 120)].into(),
        };
        let payload = serde_json::to_vec(&beat).expect("serialises");
        assert_eq!(
            hear(&heartbeat_channel(), &payload).expect("heard"),
            Heard::Beat(beat)
        );
    }

    #[test]
    fn strangers_and_garbage_are_refused() {
        assert!(matches!(
            hear("other:thing", b"{}"),
            Err(WireError::UnknownChannel(_))
        ));
        assert!(matches!(
            hear(&live_channel("show"), b"\xff not json"),
            Err(WireError::Malformed(_))
        ));
        assert_eq!(live_of("regie:live:"), None);
        assert_eq!(live_of("regie:live:a:b"), Some("a:b"));
    }
}
