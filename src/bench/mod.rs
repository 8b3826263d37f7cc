//! Load benchmarks (`regie bench`) that print throughput, latency
//! percentiles and memory. Benchmarks, not tests: nothing here asserts a
//! time; the figures go in the issue notes.
//!
//! - [`hub`] — `regie bench hub`: the hub's fan-out next to a bare
//!   tokio-tungstenite broadcast ([`bare`]) under the same load ([`load`]).
//! - [`cluster`] — `regie bench cluster`: 1, 2 and 3 hub nodes on one
//!   PostgreSQL and Redis: deliveries a second and cross-node latency.
//! - [`flood`] — `regie bench flood`: the hub's memory after rounds of
//!   viewers joining and leaving.
//! - [`latency`] — percentiles without keeping every sample.
//! - [`resources`] — a process's memory and CPU time from `/proc`.

pub mod bare;
pub mod cluster;
pub mod flood;
pub mod hub;
pub mod latency;
pub mod load;
pub mod resources;
