//! The command line, the crate's run layer: the only place with clap,
//! process logging and signal set-up, and exit codes. One file per
//! subcommand holds its arguments, turns them into the typed entry point of
//! the module that does the work, prints what the user reads, and picks
//! the exit code. Domain modules never import this one.
//!
//! | file | subcommand | calls |
//! |---|---|---|
//! | [`serve`] | `regie serve` | [`crate::hub::serve`] |
//! | [`token`] | `regie token` | [`crate::auth::mint`] |
//! | [`crowd`] | `regie crowd` | [`crate::crowd::run_crowd`] |
//! | [`console`] | `regie console` | [`crate::console::app::run`] |
//! | [`demo`] | `regie demo` | [`crate::demo::Demo`], then the console |
//! | [`bench`] | `regie bench` | [`crate::bench::hub::run`], [`crate::console::bench::run`] |
//! | [`verify_draw`] | `regie verify-draw` | [`crate::instant_win::verify`] |
//!
//! Shared leaves: [`crate::telemetry`] (logs), [`crate::signals`] (stop
//! signals), [`crate::exit`] (exit codes).

pub mod bench;
pub mod console;
pub mod crowd;
pub mod demo;
pub mod serve;
pub mod token;
pub mod verify_draw;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

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
    Serve(serve::ServeArgs),
    /// Mint a signed staff token for `regie console`.
    Token(token::TokenArgs),
    /// Run a simulated audience against a hub.
    Crowd(crowd::CrowdArgs),
    /// Open the moderation console (host, moderator, support).
    Console(console::ConsoleArgs),
    /// Hub + crowd + console in one command, on a temporary store.
    Demo(demo::DemoArgs),
    /// Load benchmarks that print throughput, latency percentiles and memory.
    Bench(bench::BenchArgs),
    /// Recompute an instant win's winners from its published record.
    VerifyDraw(verify_draw::VerifyArgs),
}

/// Runs one subcommand. Errors reach `main`, which prints them once and
/// exits [`Exit::Failure`].
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Token(args) => token::run(&args),
        Command::Crowd(args) => crowd::run(args).await,
        Command::Console(args) => console::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::VerifyDraw(args) => verify_draw::run(args),
    }
}
