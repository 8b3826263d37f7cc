//! SMS alerts end to end (issue 13), on the real hub (127.0.0.1:0) with a
//! real HTTP server on loopback standing in for Twilio's Messages API
//! (`sms/standin.rs`):
//!
//! - `alert`: subscribers with and without consent, then the live starts:
//!   each consenting subscriber gets exactly one SMS with the right merge
//!   tags, nobody else; 429/5xx retried; a restart mid-send sends no
//!   duplicate;
//! - `stop`: a signed STOP suppresses the next send and is confirmed once;
//!   a badly signed or unsigned one gets 403 and changes nothing; a
//!   replayed webhook makes no double change;
//! - `follow_up`: after a live, an admin texts a segment (asked, voted,
//!   entered, won): only viewers holding the `sms_marketing` consent are
//!   counted and texted, once each with their merge tags, after confirming
//!   the count; at a quiet time the follow-up is held (Easter weekend, the
//!   clock injected) and sent at the next allowed time, while the alert a
//!   viewer asked for leaves at once; staff see the counts move;
//! - `retention`: the phone collected for one live's alert is gone from
//!   the data dir's files after it (byte scan), a brand-wide one is kept;
//! - `providers`: the alert through Brevo's API (`api-key` checked) and
//!   the `file` provider (its lines, mode 0600);
//! - `start`: START after a STOP restores the brand's next alerts under a
//!   new consent (channel `sms`), and nothing for an unknown number;
//! - `crm`: new marketing opt-ins (and withdrawals) pushed signed to a
//!   stand-in CRM; Brevo's and the signed unsubscribe withdraw the consent.
//!
//! The keyword table, the signature vectors and quiet hours are the pure
//! modules' own tests (`src/sms/`).

mod support;

#[path = "sms/alert.rs"]
mod alert;
#[path = "sms/crm.rs"]
mod crm;
#[path = "sms/follow_up.rs"]
mod follow_up;
#[path = "sms/kit.rs"]
mod kit;
#[path = "sms/providers.rs"]
mod providers;
#[path = "sms/retention.rs"]
mod retention;
#[path = "sms/standin.rs"]
mod standin;
#[path = "sms/start.rs"]
mod start;
#[path = "sms/stop.rs"]
mod stop;
