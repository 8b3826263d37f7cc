//! The live-session hub (`regie serve`). Placeholder: being built.

use std::process::ExitCode;

/// `regie serve`
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (WebSocket at `/`, plus `/healthz` and `/metrics`).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: std::net::SocketAddr,
    /// Data directory: the SQLite store and the token signing key live here.
    #[arg(long, default_value = "./regie-data")]
    pub data: std::path::PathBuf,
    /// Name of the live session this hub runs.
    #[arg(long, default_value = "show")]
    pub live: String,
}

pub async fn run(_args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("regie serve is not built yet")
}
