//! `regie demo`. Placeholder: being built.

use std::process::ExitCode;

/// `regie demo`
#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub async fn run(_args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("regie demo is not built yet")
}
