//! `regie privacy`: data-protection duties from the command line.
//!
//! - `register` prints the record of processing (GDPR Art. 30), generated
//!   from [`crate::privacy::register::REGISTER`]: every personal-data field
//!   with its purpose, legal basis, retention (the periods in force, read
//!   as `serve` reads them) and who sees it.
//! - `sweep` runs one retention sweep over a data dir's every live
//!   ([`crate::store::Store::sweep`], periods as `serve` reads them) and
//!   prints what went, as counts.
//! - `export` writes everything held about one viewer as one JSON document
//!   (Art. 15/20, [`crate::privacy::export`]), mode 0600, and appends a
//!   content-free audit record (action `export_viewer`, the viewer's id).
//! - `consent-text` registers a consent text the brand shows viewers and
//!   prints its SHA-256, the hash `consent` commands name; an export gives
//!   the text back word for word.
//! - `requests` lists the requests log soonest due first, and adds, extends
//!   (once, two months, with a reason) or closes a request
//!   ([`crate::store::requests`]).
//!
//! - `export-optins` writes the opt-ins in force for one purpose across
//!   every live, with the proof per row and the contact value opened, for
//!   the brand's CRM (CSV or JSON, mode 0600), audited without content
//!   (`privacy_optins.rs`).
//!
//! - `erase` and `rectify` go through the running hub instead
//!   ([`crate::staff_client`]): one `erase_viewer` / `rectify_viewer`
//!   command as support or admin, one line printed, and the exit codes of
//!   [`crate::staff_client::CallError::exit`] (3 unreachable or no answer,
//!   4 token refused, 6 command refused; 2 without a token or, for
//!   `erase`, without confirmation).
//!
//! The others open the store in the data dir as the hub does (it may be
//! serving: SQLite's write lock orders them, and the audit chain's head is
//! read in the transaction), with the contact keys where `serve` takes
//! them. A data dir or live that is not there exits 2.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::store_choice::{StoreChoice, on_postgres};
use super::{Failed, usage};

#[path = "privacy_optins.rs"]
pub mod optins;
use crate::exit::Exit;
use crate::privacy::sanitize;
use crate::protocol::{Command, StaffRole, ViewerId};
use crate::staff_client::{Acked, CallError, StaffCall};
use crate::store::requests::{PrivacyRequest, RequestError, RequestKind, RequestsTable};
use crate::store::{AuditEntry, Commit, SqliteStore, Store};

/// `regie privacy`
#[derive(Debug, clap::Args)]
pub struct PrivacyArgs {
    #[command(subcommand)]
    pub command: PrivacyCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PrivacyCommand {
    /// Print the record of processing (Art. 30): every personal-data field,
    /// its purpose, legal basis, retention (the periods in force) and who
    /// can see it.
    Register(RegisterArgs),
    /// Delete, once, what is past its retention period, and print the counts.
    Sweep(SweepArgs),
    /// Write everything held about one viewer as JSON (Art. 15/20), mode 0600.
    Export(ExportArgs),
    /// Register a consent text shown to viewers; prints its SHA-256.
    ConsentText(ConsentTextArgs),
    /// The requests log, soonest due first; add, extend or close a request.
    Requests(RequestsArgs),
    /// Erase a viewer (Art. 17) through the running hub; asks to confirm.
    Erase(EraseArgs),
    /// Correct a viewer's first name and/or pseudonym (Art. 16) through the hub.
    Rectify(RectifyArgs),
    /// Write the opt-ins for one purpose, with their proof, for the CRM
    /// (CSV or JSON, mode 0600, audited).
    ExportOptins(optins::ExportOptinsArgs),
}

/// How `erase` and `rectify` reach the hub: as a support or admin staff
/// member, like `regie console`.
#[derive(Clone, clap::Args)]
pub struct HubArgs {
    /// The hub's WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:7878")]
    pub url: String,
    /// Staff token (support or admin) minted by `regie token`. Prefer
    /// `REGIE_TOKEN`: a command line is visible to other users.
    #[arg(long, env = "REGIE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The live session the viewer joined.
    #[arg(long, default_value = "show")]
    pub live: String,
    /// How long to wait for the hub, to join and then for its answer.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub tls: super::ClientTlsFlags,
}

/// Leaves the token out.
impl std::fmt::Debug for HubArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubArgs")
            .field("url", &self.url)
            .field("live", &self.live)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// `regie privacy erase`
#[derive(Debug, clap::Args)]
pub struct EraseArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The viewer's id (as on their card).
    #[arg(long)]
    pub viewer: String,
    /// Why (kept in the audit log and shown to staff); must not be blank.
    #[arg(long)]
    pub reason: String,
    /// Do not ask: erase at once (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
}

/// `regie privacy rectify`
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("names").args(["first_name", "pseudonym"]).required(true).multiple(true)))]
pub struct RectifyArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The viewer's id (as on their card).
    #[arg(long)]
    pub viewer: String,
    /// The corrected first name.
    #[arg(long)]
    pub first_name: Option<String>,
    /// The corrected pseudonym.
    #[arg(long)]
    pub pseudonym: Option<String>,
}

/// `regie privacy register`
#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// The hub's data directory, for its `regie.toml` (if any).
    #[arg(long, default_value = "./regie-data")]
    pub data: PathBuf,
    /// The hub's TOML configuration; default `<data>/regie.toml` if present.
    #[arg(long)]
    pub config: Option<PathBuf>,
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

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The hub's data directory.
    #[arg(long, default_value = "./regie-data")]
    pub data: PathBuf,
    /// The live session the viewer joined.
    #[arg(long, default_value = "show")]
    pub live: String,
    /// The viewer's id (as on their card).
    #[arg(long)]
    pub viewer: String,
    /// Where to write the JSON document; must not exist yet.
    #[arg(long)]
    pub out: PathBuf,
    /// Who ran the export, for the audit log.
    #[arg(long, default_value = "operator")]
    pub by: String,
    /// Directory of the contact key files, when not the data dir (as
    /// `serve --keys`); `REGIE_CONTACT_KEY` overrides both.
    #[arg(long)]
    pub keys: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ConsentTextArgs {
    /// The hub's data directory.
    #[arg(long, default_value = "./regie-data")]
    pub data: PathBuf,
    /// A file holding the text exactly as shown (UTF-8, taken byte for byte).
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("change").args(["add", "extend", "close"])))]
pub struct RequestsArgs {
    /// The hub's data directory.
    #[arg(long, default_value = "./regie-data")]
    pub data: PathBuf,
    /// Where the log is: `sqlite` (the data dir's), or the
    /// `postgres://…` URL hub nodes share (`regie serve --store`).
    #[arg(long, value_name = "URL", default_value = "sqlite")]
    pub store: String,
    /// Log a new request of this kind, received now.
    #[arg(long, value_enum, requires = "subject")]
    pub add: Option<KindArg>,
    /// Who asked (a viewer id, or how to reach them); with `--add`.
    #[arg(long)]
    pub subject: Option<String>,
    /// Extend request ID by two months (once); needs `--reason`.
    #[arg(long, value_name = "ID", requires = "reason")]
    pub extend: Option<i64>,
    /// Why the extension (told to the person who asked).
    #[arg(long)]
    pub reason: Option<String>,
    /// Close request ID: answered.
    #[arg(long, value_name = "ID")]
    pub close: Option<i64>,
}

/// A request's kind as `--add` spells it. The store's
/// [`RequestKind`] stays free of clap (domain modules never import the
/// command line's crates); this maps onto it one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Art. 15/20: a copy of their data.
    Access,
    /// Art. 16: correct their data.
    Rectify,
    /// Art. 17: erase their data.
    Erase,
    /// Art. 21: object to processing.
    Object,
}

impl From<KindArg> for RequestKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Access => RequestKind::Access,
            KindArg::Rectify => RequestKind::Rectify,
            KindArg::Erase => RequestKind::Erase,
            KindArg::Object => RequestKind::Object,
        }
    }
}

pub async fn run(args: &PrivacyArgs) -> Result<Exit, Failed> {
    match &args.command {
        PrivacyCommand::Register(args) => register(args),
        PrivacyCommand::Sweep(args) => sweep(args),
        PrivacyCommand::Export(args) => export(args),
        PrivacyCommand::ConsentText(args) => consent_text(args),
        PrivacyCommand::Requests(args) => requests(args),
        PrivacyCommand::Erase(args) => erase(args).await,
        PrivacyCommand::Rectify(args) => rectify(args).await,
        PrivacyCommand::ExportOptins(args) => optins::export_optins(args),
    }
}

/// The register with the retention periods in force: those `serve` reads
/// from the same flags, else the defaults.
fn register(args: &RegisterArgs) -> Result<Exit, Failed> {
    let policy = super::serve::retention_policy(&args.data, args.config.as_deref())?;
    let default_path = args.data.join(super::serve::CONFIG_FILE);
    let from = match &args.config {
        Some(path) => format!("from {}", path.display()),
        None if default_path.exists() => format!("from {}", default_path.display()),
        None => "the defaults (no configuration file)".to_owned(),
    };
    print!("{}", crate::privacy::register::render(&policy, &from));
    Ok(Exit::Success)
}

/// The call `erase` and `rectify` make; no token is a usage error, as in
/// `regie console`.
fn staff_call(hub: &HubArgs) -> Result<StaffCall, Failed> {
    let token = hub.token.as_deref().map(str::trim).unwrap_or_default();
    if token.is_empty() {
        return Err(usage(anyhow::anyhow!(
            "no staff token: set REGIE_TOKEN (or pass --token) to a support or admin token from `regie token`"
        )));
    }
    crate::tls::check_token_transport(&hub.url, hub.tls.insecure).map_err(usage)?;
    Ok(StaffCall {
        url: hub.url.clone(),
        live: hub.live.clone(),
        token: token.to_owned(),
        within: hub.timeout,
        tls: hub.tls.client_tls()?,
    })
}

/// Why the hub did not do it, with its exit code, for `main` to print once.
/// The hub's words are sanitised: they reach a terminal.
fn call_failed(error: &CallError) -> Failed {
    Failed {
        exit: error.exit(),
        error: anyhow::anyhow!(sanitize(&error.to_string()).into_owned()),
    }
}

async fn erase(args: &EraseArgs) -> Result<Exit, Failed> {
    let call = staff_call(&args.hub)?;
    if !args.yes {
        confirm_erase(args)?;
    }
    let command = Command::EraseViewer {
        viewer_id: ViewerId(args.viewer.clone()),
        reason: args.reason.clone(),
    };
    match call.send(command).await {
        Ok(acked) => {
            println!(
                "erased viewer {} of live {:?}{}: every client was told",
                sanitize(&args.viewer),
                sanitize(&args.hub.live),
                event_note(acked)
            );
            Ok(Exit::Success)
        }
        Err(e) => Err(call_failed(&e)),
    }
}

/// Asks on the terminal; without one (a script), `--yes` must say it. Not
/// confirmed is a usage error: nothing was sent.
fn confirm_erase(args: &EraseArgs) -> Result<(), Failed> {
    use std::io::IsTerminal as _;
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(usage(anyhow::anyhow!(
            "erasing cannot be undone and stdin is not a terminal to confirm it: pass --yes"
        )));
    }
    eprint!(
        "Erase viewer {} of live {:?}? Their messages, names, contact data and consents go for good. [y/N] ",
        sanitize(&args.viewer),
        sanitize(&args.hub.live)
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    stdin
        .read_line(&mut line)
        .map_err(|e| anyhow::Error::new(e).context("cannot read the confirmation"))?;
    if matches!(line.trim().to_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(usage(anyhow::anyhow!("not confirmed: nothing erased")))
    }
}

async fn rectify(args: &RectifyArgs) -> Result<Exit, Failed> {
    let call = staff_call(&args.hub)?;
    let command = Command::RectifyViewer {
        viewer_id: ViewerId(args.viewer.clone()),
        first_name: args.first_name.clone(),
        pseudonym: args.pseudonym.clone(),
    };
    match call.send(command).await {
        Ok(acked) => {
            // The fields' names, never their values (as the audit keeps it).
            let fields = [
                args.first_name.as_ref().map(|_| "first name"),
                args.pseudonym.as_ref().map(|_| "pseudonym"),
            ];
            let fields: Vec<&str> = fields.into_iter().flatten().collect();
            println!(
                "rectified the {} of viewer {} of live {:?}{}: every client was told",
                fields.join(" and "),
                sanitize(&args.viewer),
                sanitize(&args.hub.live),
                event_note(acked)
            );
            Ok(Exit::Success)
        }
        Err(e) => Err(call_failed(&e)),
    }
}

/// `(event 42)` when the hub said which event it was.
fn event_note(acked: Acked) -> String {
    acked
        .seq
        .map(|seq| format!(" (event {seq})"))
        .unwrap_or_default()
}

/// The store in an existing data dir: never creates one (a typo in `--data`
/// must not make an empty store and export nothing). The contact keys come
/// from where `serve` takes them (`keys`, else the data dir; the
/// environment first), so sealed values open and no stray key is made.
fn open(data: &Path, keys: Option<&Path>) -> Result<SqliteStore, Failed> {
    let db = data.join(crate::store::DB_FILE);
    if !db.exists() {
        return Err(usage(anyhow::anyhow!(
            "{} does not exist; is --data the hub's data dir?",
            db.display()
        )));
    }
    let keys = super::keys::key_source(data, keys)?;
    SqliteStore::open_with_keys(data, crate::store::Durability::Normal, keys).map_err(|e| {
        anyhow::Error::new(e)
            .context(format!("cannot open the store in {}", data.display()))
            .into()
    })
}

fn export(args: &ExportArgs) -> Result<Exit, Failed> {
    let mut store = open(&args.data, args.keys.as_deref())?;
    if !store.has_live(&args.live)? {
        return Err(usage(anyhow::anyhow!(
            "the store in {} has no live {:?}",
            args.data.display(),
            sanitize(&args.live)
        )));
    }
    store.open_live(&args.live)?;
    let viewer = ViewerId(args.viewer.clone());
    let Some(doc) = store.export_viewer(&args.live, &viewer)? else {
        return Err(usage(anyhow::anyhow!(
            "live {:?} has no viewer {:?}",
            sanitize(&args.live),
            sanitize(&args.viewer)
        )));
    };
    doc.write_new(&args.out)
        .map_err(|e| write_failed(e, &args.out))?;
    // Content-free: who exported whose data, never what it held.
    let audit = AuditEntry {
        actor_name: args.by.clone(),
        actor_role: StaffRole::Admin,
        action: "export_viewer".into(),
        target: viewer.0.clone(),
        reason: crate::privacy::export::EXPORT_AUDIT_REASON.into(),
        at: crate::now_millis(),
    };
    store.commit(&args.live, &[Commit::without_event().with_audit(audit)])?;
    println!(
        "exported viewer {} of live {:?} to {} ({} messages, {} consents)",
        sanitize(&viewer.0),
        sanitize(&args.live),
        args.out.display(),
        doc.messages.len(),
        doc.consents.len()
    );
    Ok(Exit::Success)
}

fn consent_text(args: &ConsentTextArgs) -> Result<Exit, Failed> {
    let text = std::fs::read_to_string(&args.file).map_err(|e| {
        usage(anyhow::Error::new(e).context(format!("cannot read {}", args.file.display())))
    })?;
    let mut store = open(&args.data, None)?;
    println!("{}", store.register_consent_text(&text)?);
    Ok(Exit::Success)
}

fn requests(args: &RequestsArgs) -> Result<Exit, Failed> {
    match StoreChoice::parse(&args.store)? {
        StoreChoice::Sqlite => requests_in(&mut open(&args.data, None)?.requests_log(), args),
        StoreChoice::Postgres(url) => {
            let keys = super::keys::key_source(&args.data, None)?;
            on_postgres(&url, keys, |store| {
                requests_in(&mut store.requests_log(), args)
            })
        }
    }
}

fn requests_in(log: &mut dyn RequestsTable, args: &RequestsArgs) -> Result<Exit, Failed> {
    use crate::store::requests::{add, close, extend};
    let now = crate::now_millis();
    let changed = if let Some(kind) = args.add {
        let subject = args.subject.as_deref().unwrap_or_default().trim();
        if subject.is_empty() {
            return Err(usage(anyhow::anyhow!("--subject must say who asked")));
        }
        Some(add(log, kind.into(), subject, now))
    } else if let Some(id) = args.extend {
        Some(extend(log, id, args.reason.as_deref().unwrap_or_default()))
    } else {
        args.close.map(|id| close(log, id, now))
    };
    match changed {
        Some(Ok(request)) => println!("{}", request_line(&request)),
        Some(Err(RequestError::Store(e))) => return Err(e.into()),
        Some(Err(refused)) => return Err(usage(refused)),
        None => {
            let all = log.list().map_err(anyhow::Error::new)?;
            if all.is_empty() {
                println!("no requests");
            }
            for request in &all {
                println!("{}", request_line(request));
            }
        }
    }
    Ok(Exit::Success)
}

/// One request on one line: id, status, kind, received and due (UTC days),
/// who asked, and the extension's reason; typed text sanitised.
fn request_line(r: &PrivacyRequest) -> String {
    let status = if r.is_open() { "open" } else { "closed" };
    let mut line = format!(
        "#{}  {status}  {}  received {}  due {}  {}",
        r.id,
        sanitize(&r.kind),
        day(r.received_at),
        day(r.due_at),
        sanitize(&r.subject),
    );
    if let Some(reason) = &r.extension {
        let _ = write!(line, "  extended: \"{}\"", sanitize(reason));
    }
    line
}

/// The UTC date of a Unix-millisecond time (`2026-05-01`).
fn day(at: crate::protocol::Millis) -> String {
    let at = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(at).unwrap_or(0));
    let mut text = humantime::format_rfc3339_seconds(at).to_string();
    text.truncate(10);
    text
}

fn sweep(args: &SweepArgs) -> Result<Exit, Failed> {
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

/// A private file that could not be written: a path the user can fix is
/// a usage error (exit 2); a failed write (a full disk) is a failure.
fn write_failed(e: std::io::Error, path: &Path) -> Failed {
    if crate::privacy::export::path_refused(&e) {
        usage(anyhow::Error::new(e).context(format!("cannot create {}", path.display())))
    } else {
        anyhow::Error::new(e)
            .context(format!("cannot write {}", path.display()))
            .into()
    }
}
