//! `regie config check FILE`: reads a brand configuration as `serve`
//! would ([`crate::brand::BrandConfig::load`]) without serving. Each
//! unknown key is a warning on stderr (exit 0); a value regie cannot use
//! is an error naming file, line and key (exit 2). On success it prints
//! one line of what is in force.

use super::{Failed, usage};
use crate::brand::BrandConfig;
use crate::exit::Exit;

/// `regie config`
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Check a brand configuration file (every key: docs/brand.toml)
    /// without serving: warnings for unknown keys, exit 2 on a bad value.
    Check {
        /// The brand's TOML file, as given to `regie serve --config`.
        file: std::path::PathBuf,
    },
}

pub fn run(args: &ConfigArgs) -> Result<Exit, Failed> {
    match &args.command {
        ConfigCommand::Check { file } => {
            let checked = BrandConfig::load(file).map_err(usage)?;
            for warning in &checked.warnings {
                eprintln!("regie: warning: {warning}");
            }
            println!("{}: {}", file.display(), checked.config.summary());
            Ok(Exit::Success)
        }
    }
}
