//! What staff see of the hub's SMS: the counts of a live's messages
//! ([`SmsCounts`], pushed as `sms_progress` while they change), and the
//! post-live segments an admin may send a promotional follow-up to
//! ([`SmsSegment`]). Counts only: no number, no name, nobody's id.

use serde::{Deserialize, Serialize};

/// The viewers of an ended live a follow-up may go to. Only those who
/// hold the `sms_marketing` consent (and its phone) are counted or sent
/// to; a viewer is in each segment they belong to and gets one follow-up
/// per live, whichever segment was sent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsSegment {
    /// Asked a question (still stored: a redacted one no longer counts).
    Asked,
    /// Voted in a poll of the live.
    Voted,
    /// Entered an instant win of the live.
    Entered,
    /// Won an instant win of the live.
    Won,
}

impl SmsSegment {
    pub const ALL: [SmsSegment; 4] = [
        SmsSegment::Asked,
        SmsSegment::Voted,
        SmsSegment::Entered,
        SmsSegment::Won,
    ];

    /// The wire name (`asked`, `voted`, `entered`, `won`).
    pub fn as_str(self) -> &'static str {
        match self {
            SmsSegment::Asked => "asked",
            SmsSegment::Voted => "voted",
            SmsSegment::Entered => "entered",
            SmsSegment::Won => "won",
        }
    }

    /// Who they are, for a person reading a screen.
    pub fn describe(self) -> &'static str {
        match self {
            SmsSegment::Asked => "viewers who asked a question",
            SmsSegment::Voted => "viewers who voted",
            SmsSegment::Entered => "viewers who entered an instant win",
            SmsSegment::Won => "viewers who won an instant win",
        }
    }
}

impl std::fmt::Display for SmsSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One segment's recipients: how many would get the follow-up now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentCount {
    pub segment: SmsSegment,
    pub recipients: u64,
}

/// Where one kind of a live's messages stands, in counts (nothing about
/// anyone): the `regie sms status` figures and what the console shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsCounts {
    /// Waiting: due now, or deferred to the next allowed time.
    pub queued: u64,
    /// Of the queued, those held for quiet hours (promotional only).
    #[serde(default)]
    pub deferred: u64,
    pub sending: u64,
    pub sent: u64,
    /// Of the sent, those the provider reported delivered.
    pub delivered: u64,
    pub failed: u64,
    pub uncertain: u64,
    pub cancelled: u64,
    /// Why the alert was not queued, if it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SmsCounts {
    /// Every message, whatever its state.
    pub fn total(&self) -> u64 {
        self.queued + self.sending + self.sent + self.failed + self.uncertain + self.cancelled
    }
}

/// A live's SMS as staff see it: the start alert's counts and the
/// follow-ups', each absent when none was queued.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsProgress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<SmsCounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<SmsCounts>,
}

impl SmsProgress {
    pub fn is_empty(&self) -> bool {
        self.alert.is_none() && self.follow_up.is_none()
    }
}
