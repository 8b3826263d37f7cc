//! The post-live report (issue 14), on a real store (and the real binary):
//! a generated live whose figures are known, checked exactly; erasure and
//! retention; what the outputs must never hold; the files written; the
//! signed shop events behind the commerce figures; the `report` command
//! staff consoles ask the hub with.
//!
//! The suppression property test lives with the code
//! (`report::suppress::tests`).

mod support;

#[path = "report/generated.rs"]
mod generated;
#[path = "report/hub.rs"]
mod hub;
#[path = "report/outputs.rs"]
mod outputs;
#[path = "report/perf.rs"]
mod perf;
#[path = "report/shop.rs"]
mod shop;
#[path = "report/truth.rs"]
mod truth;
