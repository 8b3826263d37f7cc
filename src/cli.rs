//! The command line. Each subcommand's arguments live in the module that
//! runs it; this file only lists them.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "regie",
    version,
    about = "The control room of a live-commerce show."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the live-session hub (WebSocket server, store, moderation).
    Serve(crate::hub::ServeArgs),
    /// Mint a signed staff token for `regie console`.
    Token(crate::auth::TokenArgs),
    /// Run a simulated audience against a hub.
    Crowd(crate::crowd::CrowdArgs),
    /// Open the moderation console (host, moderator, support).
    Console(crate::console::ConsoleArgs),
    /// Hub + crowd + console in one command, on a temporary store.
    Demo(crate::demo::DemoArgs),
    /// Load benchmarks that print throughput, latency percentiles and memory.
    Bench(crate::bench::BenchArgs),
    /// Recompute an instant win's winners from its published record.
    VerifyDraw(crate::instant_win::VerifyArgs),
}

/// Runs one subcommand. Errors reach `main`, which prints them once.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => crate::hub::run(args).await,
        Command::Token(args) => crate::auth::run(args),
        Command::Crowd(args) => crate::crowd::run(args).await,
        Command::Console(args) => crate::console::run(args).await,
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Bench(args) => crate::bench::run(args).await,
        Command::VerifyDraw(args) => crate::instant_win::run_verify(args),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`). For the
/// commands that do not own the terminal.
pub fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
