//! Simulated viewers. Placeholder: being built.

use std::process::ExitCode;

/// `regie crowd`
#[derive(Debug, clap::Args)]
pub struct CrowdArgs {
    /// The hub's WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:7878")]
    pub url: String,
}

pub async fn run(_args: CrowdArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("regie crowd is not built yet")
}
