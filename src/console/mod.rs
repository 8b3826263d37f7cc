//! The moderation console. Placeholder: being built.

use std::process::ExitCode;

/// `regie console`
#[derive(Debug, clap::Args)]
pub struct ConsoleArgs {
    /// The hub's WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:7878")]
    pub url: String,
}

pub async fn run(_args: ConsoleArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("regie console is not built yet")
}
