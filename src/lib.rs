//! regie — the control room ("régie") of a live-commerce video show.
//!
//! One crate, one binary (`regie`) with subcommands. Where things live:
//!
//! | module | what it is |
//! |---|---|
//! | [`protocol`] | wire types shared by hub, console and crowd (serde, no I/O) |
//! | [`moderation`] | the moderation rules engine: terms, regexes, links → block / hold / flag (pure) |
//! | [`privacy`] | sanitising hostile text, detecting and masking personal data |
//! | [`auth`] | staff tokens: minting (`regie token`) and verifying |
//! | [`store`] | persistence behind a small trait; SQLite is the embedded default |
//! | [`brand`] | the brand's configuration file (`serve --config`, `regie config check`) |
//! | [`hub`] | the live-session server (`regie serve`): sessions, connections, fan-out |
//! | [`console`] | the moderation console TUI (`regie console`) |
//! | [`crowd`] | simulated viewers (`regie crowd`) |
//! | [`demo`] | hub + crowd + console in one command (`regie demo`) |
//! | [`questions`] | questions that ask the same thing: FR/EN normalisation and the groups the console shows (pure) |
//! | [`poll`] | polls: one final vote per viewer, exact and throttled tallies |
//! | [`instant_win`] | prize draws by commit–reveal that anyone can verify |
//! | [`catalogue`] | a live's products and the canned answers: bounds and checks, one set for file and wire |
//! | [`sms`] | SMS alerts when a live starts: subscriptions, outbox and sender, providers, signed webhooks, STOP |
//! | [`merge_tags`] | `{first_name}`, `{product}`… in canned answers: checked, expanded, never sent raw |
//! | [`sms`] | SMS alerts' pure parts: inbound keywords, webhook signatures, quiet hours |
//! | [`bench`] | load commands that print throughput, latency and memory (`regie bench`) |
//! | [`staff_client`] | one staff command over WebSocket, one answer (`regie privacy erase\|rectify`) |
//! | [`cli`] | the run layer: one file per subcommand (args, run, output, exit code) |
//! | [`tls`] | TLS for the hub (`serve --tls-cert`) and its clients (`--ca`, `--insecure`), and the rule that keeps staff tokens off plain `ws://` |
//! | [`telemetry`] | where logs go: stderr, or a file for the console |
//! | [`signals`] | the signals a process stops on (Ctrl-C, SIGTERM, SIGHUP) |
//! | [`exit`] | every process's exit codes, defined once |
//! | `calendar` | dates as day counts since 1970-01-01, for request deadlines and SMS quiet hours |
//! | `testing` | fixtures shared by unit tests (`cfg(test)` only) |
//!
//! Data flows one way on the ingest path of a viewer message:
//! `hub::connection` (validate) → `privacy::sanitize` → moderation rules →
//! `store` (persist) → fan-out to every connection, scoped by role.

pub mod auth;
pub mod bench;
pub mod brand;
mod calendar;
pub mod catalogue;
pub mod cli;
pub mod console;
pub mod crm;
pub mod crowd;
pub mod demo;
pub mod exit;
pub mod hub;
pub mod instant_win;
pub mod merge_tags;
pub mod moderation;
pub mod poll;
pub mod privacy;
pub mod protocol;
pub mod questions;
pub mod report;
pub mod shop;
pub mod signals;
pub mod sms;
pub mod staff_client;
pub mod store;
pub mod telemetry;
#[cfg(test)]
mod testing;
pub mod tls;

/// Lower-case hex, two digits per byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> protocol::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            protocol::Millis::try_from(d.as_millis()).unwrap_or(protocol::Millis::MAX)
        })
}
