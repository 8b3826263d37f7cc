//! The wire protocol, version 1: the types shared by the hub, the console and
//! the crowd. No I/O lives here, so every frame can be built and parsed in a
//! plain unit test.
//!
//! | file | what it is |
//! |---|---|
//! | `frame` | [`ClientFrame`] and [`ServerFrame`]: what travels, and their parsers |
//! | `claims` | [`Claim`] and [`ViewerFlag`]: staff telling each other who answers what, and about a viewer |
//! | `command` | [`Command`] and [`CommandKind`]: what clients ask, each wire name declared once |
//! | [`permissions`] | the role → [`CommandKind`] table the hub enforces and the console reads |
//! | `event` | [`Event`]: what happened in the live, numbered by the hub |
//! | `delivery` | [`DeliveryPolicy`]: how a live reaches its viewers (coalesced, sampled; the `events` frame's [`Skip`]s are in `frame`) |
//! | `error` | [`ErrorCode`], [`ErrorFrame`] and [`CloseCode`] |
//! | `refusal` | [`Refusal`]: the hub's "no" to a command, code, message and when to retry |
//! | `rights` | [`RightsRequest`] and [`ViewerExport`]: what support gets for data-protection requests |
//! | `rules` | [`RuleView`], [`RuleType`], [`RuleAction`], [`RuleFiring`]: a live's moderation rules, staff only |
//! | `types` | the values frames carry: ids, roles, messages, snapshots |
//! | `live` | [`LiveState`] and [`LiveInfo`]: a live's lifecycle, only forward |
//! | `sms` | [`SmsCounts`], [`SmsProgress`], [`SmsSegment`]: what staff see of the SMS, counts only |
//!
//! Shape of a connection (see `docs/protocol.md` for one example per frame):
//!
//! ```text
//! client                                  hub
//!   ── hello {version, live, auth, resume?} ─▶
//!   ◀─ [reload {reason}]                      (only when a resume is impossible)
//!   ◀─ welcome {session, you, snapshot?}      (snapshot absent on a successful resume)
//!   ◀─ event {epoch, seq, at, event} …        (replayed gap first, then live; staff)
//!   ◀─ events {events, skipped?} …            (viewers, once a tick, after the replay)
//!   ── command {id, command} ─▶
//!   ◀─ ack {id, seq?} | error {id, code, message, temporary, retry_after_ms?} | viewer_card {id, card}
//!      | viewer_export {id, export} | rights_requests {id, requests} | lives {id, lives}
//!      | rules {id, rules} | rule_test {id, firings}
//!      | shield_review {id, seq?, viewers} | sms_segments {id, segments}
//!   ◀─ sms_progress {progress}                (staff only, while a live's SMS counts change)
//! ```
//!
//! Invariants the hub upholds and clients may rely on:
//! - `seq` is strictly increasing within an `epoch`. A role sees a
//!   subsequence (viewers never see staff-only events), so clients check
//!   "strictly greater than the last one", not "exactly +1". A viewer's
//!   `events` frame names the chat lines it sampled out (`skipped`): the
//!   resume point moves past them as past received events.
//! - A resume replays every event after the client's `(epoch, seq)` that its
//!   role may see, in order, or answers `reload` and a fresh snapshot.
//! - A command id is answered exactly once per delivery and takes effect once,
//!   however often it is retried.
//! - Redaction travels as ids and a tombstone, never as text.

mod claims;
mod command;
mod delivery;
mod error;
mod event;
mod frame;
mod live;
pub mod permissions;
mod refusal;
mod rights;
mod rules;
mod sms;
mod types;

pub use claims::{
    Claim, ClaimEndReason, DEFAULT_FLAG_MINUTES, FlagColour, MAX_FLAG_MINUTES,
    MAX_FLAG_NOTE_GRAPHEMES, ViewerFlag,
};
pub use command::{
    Command, CommandFrame, CommandId, CommandKind, DEFAULT_HISTORY_PAGE, MAX_ANSWER_ALSO,
    MAX_HISTORY_PAGE, MAX_HISTORY_QUERY_CHARS, MAX_SLOW_MODE_SECS, MAX_STAFF_LOG_PAGE, SmsScope,
};
pub use delivery::{
    DEFAULT_CHAT_PER_SEC, DEFAULT_TICK_MS, DeliveryPolicy, MAX_CHAT_PER_SEC, MAX_TICK_MS,
    MIN_TICK_MS,
};
pub use error::{CloseCode, ErrorCode, ErrorFrame};
pub use event::{Event, EventFrame, HoldOutcome, LiftedSanction, relabel_all};
pub use frame::{
    Auth, ClientFrame, Hello, Resume, ServerFrame, Skip, Snapshot, SnapshotCounts, SnapshotPage,
    Welcome, WhoAmI, paginate, parse_client_frame, parse_server_frame,
};
pub use live::{
    LiveInfo, LiveState, MAX_LIVE_NAME_BYTES, MAX_LIVE_TITLE_GRAPHEMES, check_live_name,
};
pub use refusal::Refusal;
pub use rights::{PrivacyRequestKind, RightsRequest, ViewerExport};
pub use rules::{RuleAction, RuleFiring, RuleType, RuleView};
pub use sms::{SegmentCount, SmsCounts, SmsProgress, SmsSegment};
pub use types::*;

/// The protocol version this build speaks. A hub refuses a `hello` with any
/// other version with [`ErrorCode::UnsupportedVersion`] and close code
/// [`CloseCode::UnsupportedVersion`].
pub const PROTOCOL_VERSION: u16 = 1;

/// Largest text frame the hub accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Longest chat message, in extended grapheme clusters (what a person counts
/// as characters), after sanitising.
pub const MAX_MESSAGE_GRAPHEMES: usize = 500;

/// Longest command id a client may send.
pub const MAX_COMMAND_ID_BYTES: usize = 64;
