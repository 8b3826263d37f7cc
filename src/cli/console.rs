//! `regie console`: resolves the settings, logs to a file (never to the
//! terminal the console draws on), runs [`crate::console::app::run`] and
//! reports how it ended with the console's documented exit code.

use std::path::PathBuf;

use super::{Failed, usage};
use crate::console::app::{self, Ended, NoTerminal};
use crate::console::config::{self, Overrides};
use crate::console::terminal::Outcome;
use crate::exit::Exit;

/// `regie console`
#[derive(Clone, clap::Args)]
pub struct ConsoleArgs {
    /// The hub's WebSocket URL [default: ws://127.0.0.1:7878].
    #[expect(
        clippy::doc_markdown,
        reason = "clap prints this as --help, where [default: …] reads like clap's own defaults"
    )]
    #[arg(long)]
    pub url: Option<String>,
    /// Staff token minted by `regie token`. Prefer `REGIE_TOKEN` or the config
    /// file: a command line is visible to other users of the machine.
    #[arg(long, env = "REGIE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Live session to join [default: show].
    #[arg(long)]
    pub live: Option<String>,
    /// Theme: a built-in name (default, light, high-contrast) or a file path.
    #[arg(long)]
    pub theme: Option<String>,
    /// Config file [default: $XDG_CONFIG_HOME/regie/console.toml if present].
    #[expect(
        clippy::doc_markdown,
        reason = "clap prints this as --help, where [default: …] reads like clap's own defaults"
    )]
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Messages kept in the chat feed [default: 50000].
    #[arg(long)]
    pub scrollback: Option<usize>,
    /// Where logs go (never the terminal) [default: <tmp>/regie-console.log].
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// Most redraws per second [default: 30].
    #[arg(long)]
    pub fps: Option<u32>,
    /// Where viewer exports (support, `X` on a card) are written; an
    /// existing directory [default: the current directory].
    #[arg(long)]
    pub export_dir: Option<PathBuf>,
    #[command(flatten)]
    pub tls: super::ClientTlsFlags,
}

/// The same view as [`Overrides`]' `Debug`, which is the one place that
/// keeps the token out of debug output.
impl std::fmt::Debug for ConsoleArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&Overrides::from(self.clone()), f)
    }
}

impl From<ConsoleArgs> for Overrides {
    fn from(args: ConsoleArgs) -> Self {
        Overrides {
            url: args.url,
            token: args.token,
            live: args.live,
            theme: args.theme,
            config: args.config,
            scrollback: args.scrollback,
            log_file: args.log_file,
            fps: args.fps,
            export_dir: args.export_dir,
            ca: args.tls.trust.ca,
            insecure: args.tls.insecure,
        }
    }
}

/// Connects, runs the terminal UI, exits with a documented code.
pub async fn run(args: ConsoleArgs) -> Result<Exit, Failed> {
    let resolved = match config::resolve(args.into()) {
        Ok(r) => r,
        Err(refused) => {
            eprintln!("regie console: {refused}");
            return Ok(refused.exit());
        }
    };
    crate::telemetry::to_file(&resolved.log_file);
    report(app::run(resolved, None, None).await)
}

/// Tells the user, once the terminal is theirs again, what the console
/// could not while it drew: the settings' warnings, the commands the hub
/// never confirmed, and why it stopped. An error goes back to `main`, which
/// prints it last: no terminal to draw on exits [`Exit::Usage`], anything
/// else [`Exit::Failure`].
pub(super) fn report(ended: Ended) -> Result<Exit, Failed> {
    for w in &ended.warnings {
        eprintln!("regie console: warning: {w}");
    }
    if !ended.unconfirmed.is_empty() {
        eprintln!(
            "regie console: {} command(s) were not confirmed by the hub before quitting:",
            ended.unconfirmed.len()
        );
        for summary in &ended.unconfirmed {
            eprintln!("  - {summary}");
        }
    }
    let outcome = ended.outcome.map_err(|e| {
        if e.is::<NoTerminal>() {
            usage(e)
        } else {
            Failed::from(e)
        }
    })?;
    match outcome {
        Outcome::Quit => Ok(Exit::Success),
        Outcome::Fatal(fatal) => {
            eprintln!("regie console: {fatal}");
            Ok(fatal.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows_in_debug() {
        let args = ConsoleArgs {
            url: None,
            token: Some("s3cret".into()),
            live: None,
            theme: None,
            config: None,
            scrollback: None,
            log_file: None,
            fps: None,
            export_dir: None,
            tls: crate::cli::ClientTlsFlags::default(),
        };
        assert!(!format!("{args:?}").contains("s3cret"));
        let overrides = Overrides::from(args);
        assert!(!format!("{overrides:?}").contains("s3cret"));
        assert_eq!(overrides.token.as_deref(), Some("s3cret"));
    }
}
