//! Where a process's logs go, set up once at start by the command line.
//! A leaf: it imports nothing from the crate.
//!
//! Both initialisers filter by `RUST_LOG` (default `info`). Commands that do
//! not own the terminal (`serve`, `crowd`, `bench`) log to stderr; the
//! console (and `demo`, which runs it) logs to a file, because it draws on
//! the terminal and a log line would tear the screen.

use std::io::IsTerminal;
use std::path::Path;

use tracing_subscriber::EnvFilter;

/// `RUST_LOG`, or `info` when it is unset or unreadable.
fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Logs to stderr. For the commands that do not own the terminal. In
/// colour only when stderr is a terminal: a log redirected to a file or a
/// pipe gets plain text, not escape codes.
pub fn to_stderr() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Appends logs to `path`, without colours. When the file cannot be opened
/// nothing is logged: the terminal belongs to the console, so there is no
/// better place to say so.
pub fn to_file(path: &Path) {
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}
