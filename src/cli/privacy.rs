//! `regie privacy`: data-protection duties from the command line.
//!
//! - `register` prints the record of processing (GDPR Art. 30), generated
//!   from [`crate::privacy::register::REGISTER`]: every personal-data field
//!   with its purpose, legal basis, retention and who sees it.
//! - `sweep` runs one retention sweep over a data dir's every live
//!   ([`crate::store::Store::sweep`], periods as `serve` reads them) and
//!   prints what went, as counts.

use super::Failed;
use crate::exit::Exit;

/// `regie privacy`
#[derive(Debug, clap::Args)]
pub struct PrivacyArgs {
    #[command(subcommand)]
    pub command: PrivacyCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PrivacyCommand {
    /// Print the record of processing (Art. 30): every personal-data field,
    /// its purpose, legal basis, retention and who can see it.
    Register,
    /// Delete, once, what is past its retention period, and print the counts.
    Sweep(SweepArgs),
}

/// `regie privacy sweep`
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The hub's data directory.
    #[arg(long, default_value = "./regie-data")]
    pub data: std::path::PathBuf,
    /// The hub's TOML configuration; default `<data>/regie.toml` if present.
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
    /// Directory of the contact key files, when not the data dir.
    #[arg(long)]
    pub keys: Option<std::path::PathBuf>,
}

pub fn run(args: &PrivacyArgs) -> Result<Exit, Failed> {
    match &args.command {
        PrivacyCommand::Register => {
            print!("{}", crate::privacy::register::render());
            Ok(Exit::Success)
        }
        PrivacyCommand::Sweep(args) => sweep(args),
    }
}

fn sweep(args: &SweepArgs) -> Result<Exit, Failed> {
    use crate::store::Store;
    let policy = super::serve::retention_policy(&args.data, args.config.as_deref())?;
    let db = args.data.join(crate::store::DB_FILE);
    if !db.exists() {
        return Err(super::usage(anyhow::anyhow!(
            "{} does not exist; is --data the hub's data dir?",
            db.display()
        )));
    }
    let keys = super::keys::key_source(&args.data, args.keys.as_deref())?;
    let mut store = crate::store::SqliteStore::open_with_keys(
        &args.data,
        crate::store::Durability::Normal,
        keys,
    )?;
    let now = crate::now_millis();
    for live in store.live_names()? {
        store.open_live(&live)?;
        let report = store.sweep(&live, &policy, now)?;
        println!(
            "live {:?}: {} row{} deleted",
            crate::privacy::sanitize(&live),
            report.total(),
            if report.total() == 1 { "" } else { "s" }
        );
        println!("{report}");
    }
    Ok(Exit::Success)
}
