//! `regie live create|list|start|end`: the brand's lives, on the data dir
//! or over the wire.
//!
//! - `create` announces a live (`scheduled`, with a title and a start
//!   time) and `list` prints every live with its state and times. Both work
//!   on the data dir by default, also while a hub serves it: a new live is
//!   a row of its own (SQLite's write lock orders it), and the hub finds it
//!   on the first `hello` that names it. With `--hub URL` they go through
//!   the running hub instead (`live_create`, admin; `live_list`, staff),
//!   and with `--store postgres://…` on the lives hub nodes share.
//! - `start` and `end` only go through the running hub (`--hub URL`, a host
//!   or admin token for that live or a brand-wide one): the hub owns the
//!   live's state, numbers the `live_state` event in its stream and tells
//!   every connected viewer at once. On the data dir they are refused
//!   (exit 2) rather than written behind the hub's back.
//!
//! Exit codes: those of [`crate::staff_client::CallError::exit`] over the
//! wire (3 unreachable, 4 token refused, 6 refused, e.g. a taken name or a
//! live that already ended); 2 for bad arguments.

use std::path::PathBuf;

use super::store_choice::{StoreChoice, on_postgres};
use super::{Failed, usage};
use crate::exit::Exit;
use crate::privacy::sanitize;
use crate::protocol::{Command, LiveInfo, LiveState, Millis, check_live_name};
use crate::staff_client::{CallError, StaffCall};
use crate::store::{SqliteStore, Store, StoreError};

/// `regie live`
#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    #[command(subcommand)]
    pub command: LiveCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LiveCommand {
    /// Announce a live: scheduled, with a title and when it starts.
    Create(CreateArgs),
    /// Every live with its state and times, oldest first.
    List(ListArgs),
    /// Put a live on air, through the running hub (host or admin).
    Start(MoveArgs),
    /// End a live, through the running hub (host or admin): its chat
    /// closes for viewers, open polls close, open instant wins are drawn.
    End(MoveArgs),
}

/// Where the command acts: the data dir, or a running hub.
#[derive(Clone, clap::Args)]
pub struct Target {
    /// The hub's data directory (when --hub is not given).
    #[arg(long, default_value = "./regie-data")]
    pub data: PathBuf,
    /// Go through the running hub at this WebSocket URL instead of the
    /// data dir (e.g. `ws://127.0.0.1:7878`).
    #[arg(long)]
    pub hub: Option<String>,
    /// Where the lives are when --hub is not given: `sqlite` (the data
    /// dir's), or the `postgres://…` URL hub nodes share (`regie serve
    /// --store`); the data dir then lends its contact keys.
    #[arg(
        long,
        value_name = "URL",
        default_value = "sqlite",
        conflicts_with = "hub"
    )]
    pub store: String,
    /// Staff token from `regie token` (admin for create; host or admin for
    /// start and end). Prefer `REGIE_TOKEN`: a command line is visible to
    /// other users.
    #[arg(long, env = "REGIE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The live to connect through for create and list over the wire (the
    /// token must admit to it).
    #[arg(long, default_value = "show")]
    pub via: String,
    /// How long to wait for the hub, to join and then for its answer.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub tls: super::ClientTlsFlags,
}

/// Leaves the token out.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("data", &self.data)
            .field("hub", &self.hub)
            .field("via", &self.via)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The live's name, as viewers' and consoles' `hello` give it: ASCII
    /// letters, digits, '-', '_' or '.'.
    pub name: String,
    /// The title the brand shows.
    #[arg(long, default_value = "")]
    pub title: String,
    /// When it is announced to start (RFC 3339, e.g. 2026-12-24T20:00:00Z).
    #[arg(long, value_parser = humantime::parse_rfc3339_weak)]
    pub starts_at: Option<std::time::SystemTime>,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, clap::Args)]
pub struct MoveArgs {
    /// The live to move along.
    pub name: String,
    #[command(flatten)]
    pub target: Target,
}

pub async fn run(args: &LiveArgs) -> Result<Exit, Failed> {
    match &args.command {
        LiveCommand::Create(a) => create(a).await,
        LiveCommand::List(a) => list(&a.target).await,
        LiveCommand::Start(a) => move_live(a, LiveState::OnAir).await,
        LiveCommand::End(a) => move_live(a, LiveState::Ended).await,
    }
}

async fn create(args: &CreateArgs) -> Result<Exit, Failed> {
    check_live_name(&args.name).map_err(|e| usage(anyhow::anyhow!(e)))?;
    let starts_at = args.starts_at.map(millis);
    if let Some(url) = &args.target.hub {
        let call = staff_call(url, &args.target, &args.target.via)?;
        let command = Command::LiveCreate {
            name: args.name.clone(),
            title: args.title.clone(),
            starts_at,
        };
        call.send(command).await.map_err(|e| call_failed(&e))?;
    } else {
        let info = LiveInfo {
            name: args.name.clone(),
            title: sanitize(&args.title).trim().to_owned(),
            state: LiveState::Scheduled,
            starts_at,
            started_at: None,
            ended_at: None,
        };
        on_store(&args.target, true, |store| {
            match store.create_live(&info, crate::now_millis()) {
                Ok(()) => Ok(()),
                Err(e @ StoreError::LiveExists(_)) => Err(usage(e)),
                Err(e) => Err(e.into()),
            }
        })?;
    }
    println!("live {:?} created, scheduled", args.name);
    Ok(Exit::Success)
}

async fn list(target: &Target) -> Result<Exit, Failed> {
    let lives = if let Some(url) = &target.hub {
        let call = staff_call(url, target, &target.via)?;
        call.lives().await.map_err(|e| call_failed(&e))?
    } else {
        on_store(target, false, |store| Ok(store.lives()?))?
    };
    print!("{}", table(&lives));
    Ok(Exit::Success)
}

async fn move_live(args: &MoveArgs, to: LiveState) -> Result<Exit, Failed> {
    let verb = match to {
        LiveState::Ended => "end",
        LiveState::OnAir | LiveState::Scheduled => "start",
    };
    let Some(url) = &args.target.hub else {
        return Err(usage(anyhow::anyhow!(
            "`regie live {verb}` goes through the running hub (--hub URL, with a host or admin \
             token): the hub owns the live's state and tells its viewers"
        )));
    };
    check_live_name(&args.name).map_err(|e| usage(anyhow::anyhow!(e)))?;
    let call = staff_call(url, &args.target, &args.name)?;
    let command = match to {
        LiveState::Ended => Command::LiveEnd,
        LiveState::OnAir | LiveState::Scheduled => Command::LiveStart,
    };
    let acked = call.send(command).await.map_err(|e| call_failed(&e))?;
    let note = acked
        .seq
        .map(|seq| format!(" (event {seq})"))
        .unwrap_or_default();
    println!("live {:?} is {to}{note}", args.name);
    Ok(Exit::Success)
}

/// The lives as a table: name, state, title (sanitised), times (UTC).
fn table(lives: &[LiveInfo]) -> String {
    use std::fmt::Write as _;
    let when = |t: Option<Millis>| {
        t.and_then(|ms| u64::try_from(ms).ok()).map_or_else(
            || "-".to_string(),
            |ms| {
                humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms),
                )
                .to_string()
            },
        )
    };
    let mut out = format!(
        "{:<24} {:<9} {:<20} {:<20} {:<20} title\n",
        "name", "state", "starts", "started", "ended"
    );
    for l in lives {
        let _ = writeln!(
            out,
            "{:<24} {:<9} {:<20} {:<20} {:<20} {}",
            sanitize(&l.name),
            l.state,
            when(l.starts_at),
            when(l.started_at),
            when(l.ended_at),
            sanitize(&l.title)
        );
    }
    out
}

fn millis(t: std::time::SystemTime) -> Millis {
    t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| {
        Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
    })
}

/// Runs `work` on the store `target` names: the PostgreSQL one hub nodes
/// share (`--store postgres://…`), else the data dir's ([`open`]).
fn on_store<T: Send>(
    target: &Target,
    create: bool,
    work: impl FnOnce(&mut dyn Store) -> Result<T, Failed> + Send,
) -> Result<T, Failed> {
    match StoreChoice::parse(&target.store)? {
        StoreChoice::Sqlite => work(&mut open(target, create)?),
        StoreChoice::Postgres(url) => {
            let keys = super::keys::key_source(&target.data, None)?;
            on_postgres(&url, keys, |store| work(store))
        }
    }
}

/// The data dir's store. `create` may make it (as `serve` would); `list`
/// needs it to exist (a typo in `--data` must not list an empty store).
fn open(target: &Target, create: bool) -> Result<SqliteStore, Failed> {
    let data = &target.data;
    if !create && !data.join(crate::store::DB_FILE).exists() {
        return Err(usage(anyhow::anyhow!(
            "{} holds no store; is --data the hub's data dir?",
            data.display()
        )));
    }
    let keys = super::keys::key_source(data, None)?;
    SqliteStore::open_with_keys(data, crate::store::Durability::Normal, keys).map_err(|e| {
        anyhow::Error::new(e)
            .context(format!("cannot open the store in {}", data.display()))
            .into()
    })
}

/// The call over the wire, joining `live`; no token is a usage error.
fn staff_call(url: &str, target: &Target, live: &str) -> Result<StaffCall, Failed> {
    let token = target.token.as_deref().map(str::trim).unwrap_or_default();
    if token.is_empty() {
        return Err(usage(anyhow::anyhow!(
            "no staff token: set REGIE_TOKEN (or pass --token) to a token from `regie token`"
        )));
    }
    crate::tls::check_token_transport(url, target.tls.insecure).map_err(usage)?;
    Ok(StaffCall {
        url: url.to_owned(),
        live: live.to_owned(),
        token: token.to_owned(),
        within: target.timeout,
        tls: target.tls.client_tls()?,
    })
}

/// Why the hub did not do it, with its exit code; the hub's words are
/// sanitised, they reach a terminal.
fn call_failed(error: &CallError) -> Failed {
    Failed {
        exit: error.exit(),
        error: anyhow::anyhow!(sanitize(&error.to_string()).into_owned()),
    }
}
