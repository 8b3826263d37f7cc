//! Load benchmarks (`regie bench`) that print throughput, latency
//! percentiles and memory. Benchmarks, not tests: nothing here asserts a
//! time; the figures go in the issue notes.
//!
//! - [`hub`] — `regie bench hub`: the hub's fan-out next to a bare
//!   tokio-tungstenite broadcast ([`bare`]) under the same load ([`load`]).
//! - [`latency`] — percentiles without keeping every sample.
//! - [`resources`] — a process's memory and CPU time from `/proc`.

pub mod bare;
pub mod hub;
pub mod latency;
pub mod load;
pub mod resources;

use std::process::ExitCode;

/// `regie bench`
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// The hub under a loopback chat load, next to a bare WebSocket
    /// broadcast of the same frames: deliveries/s, latency, drops, peak RSS.
    Hub(hub::HubBenchArgs),
    /// The console's state and render path under a chat flood (see
    /// `regie bench console --help`).
    Console {
        /// Arguments for the console bench.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Internal: the hub as `bench hub` runs it, in a child process.
    #[command(hide = true)]
    ServeHub(hub::ServeHubArgs),
    /// Internal: the bare broadcast baseline, in a child process.
    #[command(hide = true)]
    ServeBare,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        BenchCommand::Hub(args) => hub::run(args).await,
        BenchCommand::Console { args } => {
            use clap::Parser;
            let args = crate::console::bench::ConsoleBenchArgs::try_parse_from(
                std::iter::once("regie bench console".to_string()).chain(args),
            )
            .unwrap_or_else(|e| e.exit());
            crate::console::bench::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::ServeHub(args) => hub::serve_hub(args).await,
        BenchCommand::ServeBare => hub::serve_bare().await,
    }
}
