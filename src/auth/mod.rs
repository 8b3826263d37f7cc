//! Staff tokens. Placeholder: being built.

use std::process::ExitCode;

/// `regie token`
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// host, moderator, support or admin.
    #[arg(long)]
    pub role: crate::protocol::StaffRole,
    /// The staff member's display name.
    #[arg(long)]
    pub name: String,
    /// How long the token stays valid (e.g. 8h, 30m).
    #[arg(long, default_value = "8h")]
    pub ttl: humantime::Duration,
    /// The hub's data directory (holds the signing key).
    #[arg(long, default_value = "./regie-data")]
    pub data: std::path::PathBuf,
    /// The live session the token is for.
    #[arg(long, default_value = "show")]
    pub live: String,
}

pub fn run(_args: TokenArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("regie token is not built yet")
}
