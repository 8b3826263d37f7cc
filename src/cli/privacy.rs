//! `regie privacy`: data-protection duties from the command line.
//!
//! - `register` prints the record of processing (GDPR Art. 30), generated
//!   from [`crate::privacy::register::REGISTER`]: every personal-data field
//!   with its purpose, legal basis, retention and who sees it.
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
//! Each opens the store in the data dir as the hub does (it may be serving:
//! SQLite's write lock orders them, and the audit chain's head is read in
//! the transaction). A data dir or live that is not there exits 2.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{Failed, usage};
use crate::exit::Exit;
use crate::privacy::sanitize;
use crate::protocol::{StaffRole, ViewerId};
use crate::store::requests::{PrivacyRequest, RequestError, RequestKind};
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
    /// its purpose, legal basis, retention and who can see it.
    Register,
    /// Delete, once, what is past its retention period, and print the counts.
    Sweep(SweepArgs),
    /// Write everything held about one viewer as JSON (Art. 15/20), mode 0600.
    Export(ExportArgs),
    /// Register a consent text shown to viewers; prints its SHA-256.
    ConsentText(ConsentTextArgs),
    /// The requests log, soonest due first; add, extend or close a request.
    Requests(RequestsArgs),
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
    /// Log a new request of this kind, received now.
    #[arg(long, value_enum, requires = "subject")]
    pub add: Option<RequestKind>,
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

pub fn run(args: &PrivacyArgs) -> Result<Exit, Failed> {
    match &args.command {
        PrivacyCommand::Register => {
            print!("{}", crate::privacy::register::render());
            Ok(Exit::Success)
        }
        PrivacyCommand::Sweep(args) => sweep(args),
        PrivacyCommand::Export(args) => export(args),
        PrivacyCommand::ConsentText(args) => consent_text(args),
        PrivacyCommand::Requests(args) => requests(args),
    }
}

/// The store in an existing data dir: never creates one (a typo in `--data`
/// must not make an empty store and export nothing).
fn open(data: &Path) -> Result<SqliteStore, Failed> {
    let db = data.join(crate::store::DB_FILE);
    if !db.exists() {
        return Err(usage(anyhow::anyhow!(
            "{} does not exist; is --data the hub's data dir?",
            db.display()
        )));
    }
    SqliteStore::open(data).map_err(|e| {
        anyhow::Error::new(e)
            .context(format!("cannot open the store in {}", data.display()))
            .into()
    })
}

fn export(args: &ExportArgs) -> Result<Exit, Failed> {
    let mut store = open(&args.data)?;
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
    write_private(&args.out, doc.to_json().as_bytes())?;
    // Content-free: who exported whose data, never what it held.
    let audit = AuditEntry {
        actor_name: args.by.clone(),
        actor_role: StaffRole::Admin,
        action: "export_viewer".into(),
        target: viewer.0.clone(),
        reason: "access request (Art. 15/20)".into(),
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

/// Writes a new file readable by its owner only: it holds a person's data.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failed> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            let error = anyhow::Error::new(e).context(format!("cannot create {}", path.display()));
            usage(error)
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot write {}", path.display())))?;
    Ok(())
}

fn consent_text(args: &ConsentTextArgs) -> Result<Exit, Failed> {
    let text = std::fs::read_to_string(&args.file).map_err(|e| {
        usage(anyhow::Error::new(e).context(format!("cannot read {}", args.file.display())))
    })?;
    let mut store = open(&args.data)?;
    println!("{}", store.register_consent_text(&text)?);
    Ok(Exit::Success)
}

fn requests(args: &RequestsArgs) -> Result<Exit, Failed> {
    let mut store = open(&args.data)?;
    let now = crate::now_millis();
    let changed = if let Some(kind) = args.add {
        let subject = args.subject.as_deref().unwrap_or_default().trim();
        if subject.is_empty() {
            return Err(usage(anyhow::anyhow!("--subject must say who asked")));
        }
        Some(store.add_request(kind, subject, now))
    } else if let Some(id) = args.extend {
        Some(store.extend_request(id, args.reason.as_deref().unwrap_or_default()))
    } else {
        args.close.map(|id| store.close_request(id, now))
    };
    match changed {
        Some(Ok(request)) => println!("{}", request_line(&request)),
        Some(Err(RequestError::Store(e))) => return Err(e.into()),
        Some(Err(refused)) => return Err(usage(refused)),
        None => {
            let all = store.requests().map_err(anyhow::Error::new)?;
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
