//! The command line, the crate's run layer: the only place with clap,
//! process logging and signal set-up, and exit codes. One file per
//! subcommand holds its arguments, turns them into the typed entry point of
//! the module that does the work, prints what the user reads, and picks
//! the exit code. Domain modules never import this one.
//!
//! | file | subcommand | calls |
//! |---|---|---|
//! | [`serve`] | `regie serve` | [`crate::hub::serve`] |
//! | [`token`] | `regie token` | [`crate::auth::mint`] |
//! | [`crowd`] | `regie crowd` | [`crate::crowd::run_crowd`] |
//! | [`console`] | `regie console` | [`crate::console::app::run`] |
//! | [`demo`] | `regie demo` | [`crate::demo::Demo`], then the console |
//! | [`bench`] | `regie bench` | [`crate::bench::hub::run`], [`crate::console::bench::run`] |
//! | [`verify_draw`] | `regie verify-draw` | [`crate::instant_win::verify`] |
//! | [`privacy`] | `regie privacy register\|sweep\|export\|consent-text\|requests\|erase\|rectify` | [`crate::privacy::register::render`], [`crate::store::Store::sweep`], [`crate::privacy::export`], [`crate::store::requests`], [`crate::staff_client`] (erase, rectify: through the hub) |
//! | [`keys`] | `regie keys rotate contact` | [`crate::store::contact::rotate`] |
//! | [`audit`] | `regie audit verify\|show\|head` | [`crate::store::audit::read_log`] |
//! | [`config`] | `regie config check` | [`crate::brand::BrandConfig::load`] |
//! | [`report`] | `regie report --live NAME` | [`crate::store::Store::report_source`], [`crate::report`] |
//! | [`live`] | `regie live create\|list\|start\|end` | [`crate::store::Store::create_live`], [`crate::store::Store::lives`], [`crate::staff_client`] (`--hub`; start, end: only through the hub) |
//! | [`sms`] | `regie sms status` | [`crate::sms::progress`] |
//!
//! Every error reaches `main` as a [`Failed`]: printed once, as one line
//! ([`describe`]), with its exit code: [`Exit::Usage`] (2) for bad
//! arguments, [`Exit::Failure`] (1) for the unexpected.
//!
//! Shared leaves: [`crate::telemetry`] (logs), [`crate::signals`] (stop
//! signals), [`crate::exit`] (exit codes).

pub mod audit;
pub mod bench;
pub mod config;
pub mod console;
pub mod crowd;
pub mod demo;
pub mod keys;
pub mod live;
pub mod privacy;
pub mod report;
pub mod serve;
pub mod sms;
mod store_choice;
pub mod token;
pub mod verify_draw;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

#[derive(Debug, Parser)]
#[command(
    name = "regie",
    version,
    about = "The control room of a live-commerce show."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the live-session hub (WebSocket server, store, moderation).
    Serve(serve::ServeArgs),
    /// Mint a signed staff token for `regie console`.
    Token(token::TokenArgs),
    /// Run a simulated audience against a hub.
    Crowd(crowd::CrowdArgs),
    /// Open the moderation console (host, moderator, support).
    Console(console::ConsoleArgs),
    /// Hub + crowd + console in one command, on a temporary store.
    Demo(demo::DemoArgs),
    /// Load benchmarks that print throughput, latency percentiles and memory.
    Bench(bench::BenchArgs),
    /// Recompute an instant win's winners from its published record.
    VerifyDraw(verify_draw::VerifyArgs),
    /// Verify, show or anchor a live's audit log (read-only, hub may run).
    Audit(audit::AuditArgs),
    /// Data-protection duties: the record of processing (Art. 30).
    Privacy(privacy::PrivacyArgs),
    /// Rotate a key (`contact`) while the hub serves.
    Keys(keys::KeysArgs),
    /// Check a brand configuration file without serving.
    Config(config::ConfigArgs),
    /// Create, list, start and end the hub's lives.
    Live(live::LiveArgs),
    /// The anonymous post-live report of a live (read-only, hub may run).
    Report(report::ReportArgs),
    /// SMS alerts: where a live's alert stands (`status`).
    Sms(sms::SmsArgs),
}

/// Why a command stopped short: the error to tell the user, and the exit
/// code it means. `?` on any error makes an unexpected one
/// ([`Exit::Failure`]); [`usage`] marks bad arguments ([`Exit::Usage`]).
#[derive(Debug)]
pub struct Failed {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failed {
    fn from(error: E) -> Self {
        Failed {
            exit: Exit::Failure,
            error: error.into(),
        }
    }
}

/// Bad arguments or settings: exits [`Exit::Usage`], as clap's own
/// usage errors do.
pub fn usage(error: impl Into<anyhow::Error>) -> Failed {
    Failed {
        exit: Exit::Usage,
        error: error.into(),
    }
}

/// The error and its causes on one line, each cause said once. Many errors
/// already end with their cause's text (`cannot reach the hub: cannot
/// connect: Connection refused`) and also return it as their `source`; a
/// cause whose text is already in the line is not repeated.
pub fn describe(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Runs one subcommand. Errors reach `main`, which prints them once (see
/// [`describe`]) and exits with their code.
pub async fn run(cli: Cli) -> Result<Exit, Failed> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Token(args) => token::run(&args),
        Command::Crowd(args) => crowd::run(args).await,
        Command::Console(args) => console::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::VerifyDraw(args) => verify_draw::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Privacy(args) => privacy::run(&args).await,
        Command::Keys(args) => keys::run(&args),
        Command::Config(args) => config::run(&args),
        Command::Live(args) => live::run(&args).await,
        Command::Report(args) => report::run(&args),
        Command::Sms(args) => sms::run(&args).await,
    }
}

/// `--ca`, for every command that connects to a hub (`#[command(flatten)]`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CaFlag {
    /// PEM file of the CA (or self-signed certificate) to trust for
    /// `wss://`, instead of the system's roots.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
}

/// `--ca` and `--insecure`, for every command that sends a staff token.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClientTlsFlags {
    #[command(flatten)]
    pub trust: CaFlag,
    /// Allow sending a staff token over plain `ws://` to a host that is
    /// not loopback (anyone on the path can read it; prefer `wss://`).
    #[arg(long)]
    pub insecure: bool,
}

impl ClientTlsFlags {
    /// The client's TLS as these flags ask; an unusable `--ca` is a usage error.
    pub fn client_tls(&self) -> Result<crate::tls::ClientTls, Failed> {
        crate::tls::ClientTls::new(self.trust.ca.as_deref(), self.insecure).map_err(usage)
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot reach the hub: {0}")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot connect: {0}")]
    struct Inner(#[source] std::io::Error);

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = anyhow::Error::new(Outer(Inner(io)));
        assert_eq!(
            describe(&err),
            "cannot reach the hub: cannot connect: refused"
        );
        // A context that does not repeat its cause still shows it.
        let err = err.context("the crowd stopped");
        assert_eq!(
            describe(&err),
            "the crowd stopped: cannot reach the hub: cannot connect: refused"
        );
    }
}
