//! The test kit: every integration test gets its hub, tokens and fixtures
//! here (`mod support;`), so there is one way to do each.
//!
//! | module | what it gives |
//! |---|---|
//! | [`hub`] | a real hub on `127.0.0.1:0` and a temp data dir: [`hub::TestHub`] (async), [`hub::BlockingHub`] (for `#[test]`s that run the binary) |
//! | [`tokens`] | the signing key, created before any hub starts, and staff tokens minted with it |
//! | [`binary`] | the real `regie serve` with its stderr read line by line, stopped with Ctrl-C; one-shot `regie …` runs with output captured ([`binary::run`]) |
//! | [`client`] | a protocol-v1 WebSocket client, hello frames, what a closed socket said |
//! | [`cluster`] | hub nodes (`regie serve --store postgres://… --bus redis://…`) on a database and a private Redis of the test's own; missing ones skip, except under CI |
//! | [`postgres`] | a real PostgreSQL: a fresh schema per test on the server `REGIE_TEST_POSTGRES` names, a store on it; no server skips, except under CI |
//! | [`store`] | events, messages and staff as the hub makes them, for store tests; the raw scan of the store's files ([`store::on_disk`]) |
//! | [`forensics`] | what an attacker reading the data dir finds: every stored value and the raw files, hash prefixes, UTF-16 |
//! | [`reference`] | the independent Python reference implementation of draws and the audit chain, run when python3 is present |
//! | [`tmux`] | a person at a terminal: the real binary in tmux on the test's own socket; a missing tmux skips, except under CI |
//! | [`browser`] | a viewer in headless Chromium (chromedriver, a fresh profile each, phone or desktop), DOM waits, screenshots, axe-core; missing ones skip, except under CI |
//! | [`console`] | a console with a fixed clock, frames as the hub sends them, keys, rendering, the event pump |
//!
//! Every wait is bounded ([`hub::TIMEOUT`] or stated); nothing sleeps to
//! synchronise.

// Each test binary compiles the whole kit and uses a subset of it.
#![allow(dead_code)]

pub(crate) mod binary;
pub(crate) mod browser;
pub(crate) mod client;
pub(crate) mod cluster;
pub(crate) mod console;
pub(crate) mod forensics;
pub(crate) mod hub;
pub(crate) mod postgres;
pub(crate) mod reference;
pub(crate) mod store;
pub(crate) mod tmux;
pub(crate) mod tokens;
