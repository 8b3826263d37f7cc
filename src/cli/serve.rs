//! `regie serve`: the hub as a process. Binds, opens the data dir (store
//! and keys), says where it serves, then serves until Ctrl-C or SIGTERM;
//! [`crate::hub::serve_with_store`] does the serving.
//!
//! The hub's configuration file (`--config`, else `<data>/regie.toml` when
//! present) holds the `[retention]` periods ([`crate::store::retention`]);
//! a file regie cannot read, or a period it does not understand, stops
//! `serve` with exit 2 naming the key.

use anyhow::Context;

use super::{Failed, usage};
use crate::auth::SigningKey;
use crate::auth::secret_file::ensure_data_dir;
use crate::exit::Exit;
use crate::hub::HubConfig;
use crate::hub::identity::ViewerIdentity;
use crate::signals::{self, Signal};
use crate::store::{Durability, RetentionPolicy, SqliteStore};

/// `regie serve`
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (WebSocket at `/`, plus `/healthz`, `/metrics` and
    /// `/draws/{id}.json`).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: std::net::SocketAddr,
    /// Data directory: the SQLite store and the token signing key live here.
    #[arg(long, default_value = "./regie-data")]
    pub data: std::path::PathBuf,
    /// Name of the live session this hub runs.
    #[arg(long, default_value = "show")]
    pub live: String,
    /// Directory of the contact key files, when not the data dir (or set
    /// `REGIE_CONTACT_KEY`, hex or base64, from a secret manager).
    #[arg(long)]
    pub keys: Option<std::path::PathBuf>,
    /// The hub's TOML configuration (`[retention]` periods); default
    /// `<data>/regie.toml` when it exists.
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
}

/// The configuration file's name in the data dir, read when `--config` is
/// not given.
pub const CONFIG_FILE: &str = "regie.toml";

/// The retention periods of `--config FILE`, else of `<data>/regie.toml`
/// if present, else the defaults. Unreadable or invalid: a usage error.
pub(crate) fn retention_policy(
    data: &std::path::Path,
    config: Option<&std::path::Path>,
) -> Result<RetentionPolicy, Failed> {
    let default_path = data.join(CONFIG_FILE);
    let path = match config {
        Some(path) => path,
        None if default_path.exists() => &default_path,
        None => return Ok(RetentionPolicy::default()),
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        usage(anyhow::anyhow!(
            "cannot read the configuration {}: {e}",
            path.display()
        ))
    })?;
    RetentionPolicy::from_toml(&text).map_err(|e| usage(anyhow::anyhow!("{}: {e}", path.display())))
}

/// Ctrl-C at the terminal, SIGTERM from a service manager.
const STOP_ON: &[Signal] = &[Signal::Interrupt, Signal::Terminate];

/// Says "serving" only once the port is bound, the store open and the keys
/// loaded (or made), so the line means the hub is ready; any of those
/// failing is one error, and nothing claimed to serve.
pub async fn run(args: ServeArgs) -> Result<Exit, Failed> {
    crate::telemetry::to_stderr();
    if args.live.trim().is_empty() {
        return Err(usage(anyhow::anyhow!("--live must name a live session")));
    }
    let retention = retention_policy(&args.data, args.config.as_deref())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let data = args.data.clone();
    let keys = super::keys::key_source(&args.data, args.keys.as_deref())?;
    let store = tokio::task::spawn_blocking(move || {
        ensure_data_dir(&data)?;
        // The hub loads both keys again; made here first, a key that cannot
        // be read or written fails before "serving".
        SigningKey::load_or_create(&data)?;
        ViewerIdentity::load_or_create(&data)?;
        anyhow::Ok(SqliteStore::open_with_keys(
            &data,
            Durability::Normal,
            keys,
        )?)
    })
    .await
    .context("opening the data dir stopped")?
    .with_context(|| format!("cannot open the data dir {}", args.data.display()))?;
    eprintln!(
        "regie: serving live {:?} on ws://{} (data in {})",
        args.live,
        listener.local_addr()?,
        args.data.display()
    );
    let mut config = HubConfig::new(args.live, args.data);
    config.retention = retention;
    crate::hub::serve_with_store(listener, config, Box::new(store), async {
        signals::first_of(STOP_ON).await;
    })
    .await
    .context("the hub stopped")?;
    Ok(Exit::Success)
}
