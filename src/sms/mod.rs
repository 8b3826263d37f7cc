//! SMS alerts: the pure parts the sender and the webhooks rely on.
//!
//! - [`keywords`]: what an inbound text means (STOP, START, HELP), read
//!   the way a phone user types it (any case, accents or not, a full stop
//!   after it), and nothing more: "stop please" is a message, not a keyword.
//! - [`signature`]: Twilio's `X-Twilio-Signature` (HMAC-SHA1 over the URL
//!   and the sorted POST parameters) and the HMAC-SHA256 regie signs its
//!   own pushes with, both checked in constant time.
//! - [`quiet_hours`]: when a promotional message may leave — Monday to
//!   Saturday, 08:00–20:00 Europe/Paris, not on a French public holiday —
//!   as a pure function of the instant, so tests inject the clock.

pub mod keywords;
pub mod quiet_hours;
pub mod signature;
