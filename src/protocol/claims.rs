//! Claims and viewer flags (issue 12): what staff tell each other about a
//! message ("Claire is answering") and about a viewer (a coloured mark and a
//! note that expire). Both are staff only, kept by the hub in memory, and
//! sent to a late console in its snapshot.

use serde::{Deserialize, Serialize};

use super::types::{Actor, MessageId, Millis, ViewerId};

/// How long a viewer flag lasts when `flag_viewer` names no `minutes`.
pub const DEFAULT_FLAG_MINUTES: u32 = 10;

/// The longest a flag may last: a day. A flag is a note for this show's
/// staff, not a record about the viewer.
pub const MAX_FLAG_MINUTES: u32 = 24 * 60;

/// The longest note a flag carries, in graphemes (after sanitising).
pub const MAX_FLAG_NOTE_GRAPHEMES: usize = 120;

/// A staff member working on a question or a held message, until `until`
/// (on the hub's clock) unless it ends sooner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub message_id: MessageId,
    pub by: Actor,
    pub until: Millis,
}

/// Why a claim ended (`claim_ended`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimEndReason {
    /// The work is done: the question was answered (an `answer` replying
    /// to it, or `mark_answered`), or the held message was settled
    /// (`release`, `deny`).
    Answered,
    /// The claimer let it go (`unclaim`), another staff member took it
    /// over (`claim`), or the message left (hidden, redacted, erased, or
    /// denied by the hub after the hold timeout).
    Released,
    /// Nobody acted within the claim time-out.
    Expired,
}

impl ClaimEndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimEndReason::Answered => "answered",
            ClaimEndReason::Released => "released",
            ClaimEndReason::Expired => "expired",
        }
    }
}

/// The colour of a viewer flag: what it means is the staff's convention
/// (red "watch", orange "warned", green "regular", blue "VIP", say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagColour {
    Red,
    Orange,
    Green,
    Blue,
}

impl FlagColour {
    /// In the order of the flag popup's keys 1 to 4.
    pub const ALL: [FlagColour; 4] = [Self::Red, Self::Orange, Self::Green, Self::Blue];

    pub fn as_str(self) -> &'static str {
        match self {
            FlagColour::Red => "red",
            FlagColour::Orange => "orange",
            FlagColour::Green => "green",
            FlagColour::Blue => "blue",
        }
    }
}

/// A flag on a viewer, shared by every staff console until `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerFlag {
    pub viewer_id: ViewerId,
    pub colour: FlagColour,
    /// Optional, sanitised; empty when none was given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub until: Millis,
    pub by: Actor,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::StaffRole;

    #[test]
    fn a_flag_round_trips_and_an_empty_note_is_left_out() {
        let flag = ViewerFlag {
            viewer_id: ViewerId("v1".into()),
            colour: FlagColour::Orange,
            note: String::new(),
            until: 5,
            by: Actor {
                name: Some("Inès".into()),
                role: StaffRole::Moderator,
            },
        };
        let json = serde_json::to_string(&flag).unwrap();
        assert!(!json.contains("note"), "{json}");
        assert!(json.contains(r#""colour":"orange""#), "{json}");
        assert_eq!(serde_json::from_str::<ViewerFlag>(&json).unwrap(), flag);
    }
}
