//! `regie privacy`: data-protection duties from the command line.
//!
//! - `register` prints the record of processing (GDPR Art. 30), generated
//!   from [`crate::privacy::register::REGISTER`]: every personal-data field
//!   with its purpose, legal basis, retention and who sees it.

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
}

pub fn run(args: &PrivacyArgs) -> Result<Exit, Failed> {
    match args.command {
        PrivacyCommand::Register => {
            print!("{}", crate::privacy::register::render());
            Ok(Exit::Success)
        }
    }
}
