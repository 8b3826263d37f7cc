//! Load benchmarks (`regie bench`) that print throughput, latency
//! percentiles and memory. Benchmarks, not tests: nothing here asserts a
//! time; the figures go in the issue notes.
//!
//! - [`hub`] — `regie bench hub`: the hub's fan-out next to a bare
//!   tokio-tungstenite broadcast ([`bare`]) under the same load ([`load`]).
//! - [`cluster`] — `regie bench cluster`: 1, 2 and 3 hub nodes on one
//!   PostgreSQL and Redis: deliveries a second and cross-node latency.
//!   Its other phases: [`ingest`], hub CPU per ingested message, and
//!   [`redaction`], how long a tombstone takes to reach the last viewer.
//! - [`flood`] — `regie bench flood`: the hub's memory after rounds of
//!   viewers joining and leaving.
//! - `child` — the server child process each bench starts, and its
//!   staff tokens.
//! - [`latency`] — percentiles without keeping every sample.
//! - [`resources`] — a process's memory and CPU time from `/proc`.

pub mod bare;
mod child;
pub mod cluster;
pub mod flood;
pub mod hub;
pub mod ingest;
pub mod latency;
pub mod load;
pub mod redaction;
pub mod resources;

pub use child::ChildOptions;
