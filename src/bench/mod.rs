//! Load benchmarks. Placeholder: being built.

use std::process::ExitCode;

/// `regie bench`
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

pub async fn run(_args: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("regie bench is not built yet")
}
