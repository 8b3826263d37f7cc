//! regie — the control room ("régie") of a live-commerce video show.
//!
//! One crate, one binary (`regie`) with subcommands. Where things live:
//!
//! | module | what it is |
//! |---|---|
//! | [`protocol`] | wire types shared by hub, console and crowd (serde, no I/O) |
//! | [`privacy`] | sanitising hostile text, detecting and masking personal data |
//! | [`auth`] | staff tokens: minting (`regie token`) and verifying |
//! | [`store`] | persistence behind a small trait; SQLite is the embedded default |
//! | [`hub`] | the live-session server (`regie serve`): sessions, connections, fan-out |
//! | [`console`] | the moderation console TUI (`regie console`) |
//! | [`crowd`] | simulated viewers (`regie crowd`) |
//! | [`demo`] | hub + crowd + console in one command (`regie demo`) |
//! | [`poll`] | polls: one final vote per viewer, exact and throttled tallies |
//! | [`instant_win`] | prize draws by commit–reveal that anyone can verify |
//! | [`bench`] | load commands that print throughput, latency and memory (`regie bench`) |
//! | [`cli`] | the command line: one subcommand per part, thin |
//! | `testing` | fixtures shared by unit tests (`cfg(test)` only) |
//!
//! Data flows one way on the ingest path of a viewer message:
//! `hub::connection` (validate) → `privacy::sanitize` → moderation rules →
//! `store` (persist) → fan-out to every connection, scoped by role.

pub mod auth;
pub mod bench;
pub mod cli;
pub mod console;
pub mod crowd;
pub mod demo;
pub mod hub;
pub mod instant_win;
pub mod poll;
pub mod privacy;
pub mod protocol;
pub mod store;
#[cfg(test)]
mod testing;

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> protocol::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as protocol::Millis)
        .unwrap_or(0)
}
