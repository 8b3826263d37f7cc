//! `regie serve`: the hub as a process. Binds, opens the data dir (store
//! and keys), says where it serves, then serves until Ctrl-C or SIGTERM;
//! [`crate::hub::serve_with_store`] does the serving.
//!
//! The brand's configuration file (`--config` or `REGIE_CONFIG`, else
//! `<data>/regie.toml` when present; [`crate::brand`]) is read before
//! anything is bound: an unknown key is a warning naming file, line and
//! key, and serving goes on; a file regie cannot read, or a value it
//! cannot use, stops `serve` with exit 2 naming file, line and key.

use anyhow::Context;

use super::store_choice::StoreChoice;
use super::{Failed, usage};
use crate::auth::SigningKey;
use crate::auth::secret_file::ensure_data_dir;
use crate::brand::BrandConfig;
use crate::exit::Exit;
use crate::hub::HubConfig;
use crate::hub::identity::ViewerIdentity;
use crate::signals::{self, Signal};
use crate::store::{Durability, RetentionPolicy, SqliteStore};
use crate::tls::ServerTls;

/// `regie serve`
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (WebSocket at `/`, plus `/healthz`, `/metrics` and
    /// `/draws/{id}.json`, and the viewer page at `/live/{name}`).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: std::net::SocketAddr,
    /// Data directory: the SQLite store and the token signing key live here.
    #[arg(long, default_value = "./regie-data")]
    pub data: std::path::PathBuf,
    /// The hub's default live, created (on air) if the store does not hold
    /// it yet. The hub serves every live of its store: a `hello` names the
    /// live (see `regie live create`).
    #[arg(long, default_value = "show")]
    pub live: String,
    /// Directory of the contact key files, when not the data dir (or set
    /// `REGIE_CONTACT_KEY`, hex or base64, from a secret manager); wins over
    /// the brand file's `[keys] dir`.
    #[arg(long)]
    pub keys: Option<std::path::PathBuf>,
    /// The brand's TOML configuration: brand name, live defaults, limits,
    /// retention periods, keys dir (every key: docs/brand.toml); default
    /// `<data>/regie.toml` when it exists. `--keys` wins over its `[keys]`.
    #[arg(long, env = "REGIE_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    /// PEM certificate chain (leaf first): serve `https`/`wss` on the same
    /// port and routes, with `--tls-key`.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of `--tls-cert` (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Where the lives are stored: `sqlite` (the default: the data dir's
    /// file), or `postgres://user:password@host:port/db` to share them with
    /// other hub nodes (`--bus`): every live of the brand, `--live` and the
    /// others. The data dir keeps the node's keys, the consent-text
    /// registry and the shop's events.
    #[arg(long, value_name = "URL", default_value = "sqlite")]
    pub store: String,
    /// `redis://host:port/`: hub nodes sharing a PostgreSQL `--store` tell
    /// each other what they commit over Redis pub/sub, and `/healthz` says
    /// unhealthy when this node stops hearing them.
    #[arg(long, value_name = "URL")]
    pub bus: Option<String>,
    /// This node's name on the bus: unique among the nodes (default: made
    /// up at start).
    #[arg(long, value_name = "NAME", requires = "bus")]
    pub node: Option<String>,
}

/// `--store`, checked with `--bus`: nodes meet on the bus only to share a
/// store.
fn store_choice(store: &str, bus: Option<&str>) -> Result<StoreChoice, Failed> {
    let choice = StoreChoice::parse(store)?;
    if let (StoreChoice::Sqlite, Some(_)) = (&choice, bus) {
        return Err(usage(anyhow::anyhow!(
            "--bus joins hub nodes that share a store: it needs --store postgres://…"
        )));
    }
    Ok(choice)
}

/// The configuration file's name in the data dir, read when `--config` is
/// not given.
pub const CONFIG_FILE: &str = "regie.toml";

/// The brand configuration of `--config FILE`, else of `<data>/regie.toml`
/// if present, else the defaults. Each unknown key is said on stderr;
/// unreadable or invalid: a usage error.
pub(crate) fn brand_config(
    data: &std::path::Path,
    config: Option<&std::path::Path>,
) -> Result<BrandConfig, Failed> {
    let default_path = data.join(CONFIG_FILE);
    let path = match config {
        Some(path) => path,
        None if default_path.exists() => &default_path,
        None => return Ok(BrandConfig::default()),
    };
    let checked = BrandConfig::load(path).map_err(usage)?;
    for warning in &checked.warnings {
        eprintln!("regie: warning: {warning}");
    }
    Ok(checked.config)
}

/// The retention periods of that same configuration.
pub(crate) fn retention_policy(
    data: &std::path::Path,
    config: Option<&std::path::Path>,
) -> Result<RetentionPolicy, Failed> {
    Ok(brand_config(data, config)?.retention)
}

/// Ctrl-C at the terminal, SIGTERM from a service manager.
const STOP_ON: &[Signal] = &[Signal::Interrupt, Signal::Terminate];

/// Says "serving" only once the port is bound, the store open and the keys
/// loaded (or made), so the line means the hub is ready; any of those
/// failing is one error, and nothing claimed to serve.
pub async fn run(args: ServeArgs) -> Result<Exit, Failed> {
    crate::telemetry::to_stderr();
    if let Err(why) = crate::protocol::check_live_name(&args.live) {
        return Err(usage(anyhow::anyhow!(
            "--live must name a live session: {why}"
        )));
    }
    let brand = brand_config(&args.data, args.config.as_deref())?;
    // Checked before anything is bound: a bad file is one clear error.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ServerTls::from_pem_files(cert, key).map_err(usage)?),
        _ => None,
    };
    let choice = store_choice(&args.store, args.bus.as_deref())?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let data = args.data.clone();
    let keys_dir = args.keys.as_deref().or(brand.keys_dir.as_deref());
    let keys = super::keys::key_source(&args.data, keys_dir)?;
    let keys_for_store = keys.clone();
    let shared_store = match &choice {
        StoreChoice::Postgres(url) => Some(crate::hub::SharedStore { url: url.clone() }),
        StoreChoice::Sqlite => None,
    };
    let store = tokio::task::spawn_blocking(move || {
        ensure_data_dir(&data)?;
        // The hub loads both keys again; made here first, a key that cannot
        // be read or written fails before "serving".
        SigningKey::load_or_create(&data)?;
        ViewerIdentity::load_or_create(&data)?;
        let store: Box<dyn crate::store::Store> = match choice {
            StoreChoice::Sqlite => Box::new(SqliteStore::open_with_keys(
                &data,
                Durability::Normal,
                keys_for_store,
            )?),
            StoreChoice::Postgres(url) => Box::new(
                crate::store::PostgresStore::open(&url, keys_for_store)
                    .context("cannot open the PostgreSQL store")?,
            ),
        };
        anyhow::Ok(store)
    })
    .await
    .context("opening the data dir stopped")?
    .with_context(|| format!("cannot open the data dir {}", args.data.display()))?;
    // Watched before "serving" is said: a Ctrl-C right after that line
    // stops the hub gracefully instead of killing it.
    let mut stop = signals::Signals::listen_available(STOP_ON);
    let for_brand = brand
        .brand
        .as_ref()
        .map(|name| format!(" for {name:?}"))
        .unwrap_or_default();
    eprintln!(
        "regie: serving live {:?}{for_brand} on {scheme}://{} (data in {})",
        args.live,
        listener.local_addr()?,
        args.data.display()
    );
    let mut config = HubConfig::new(args.live, args.data);
    config.settings = brand.settings;
    config.limits = brand.limits;
    config.retention = brand.retention;
    config.default_rules = brand.rules.defaults();
    config.blocked_terms = brand.rules.hold_terms;
    if let Some(timeout) = brand.hold_timeout {
        config.hold_timeout = timeout;
    }
    if let Some(timeout) = brand.claim_timeout {
        config.claim_timeout = timeout;
    }
    config.shield = brand.shield;
    config.products = brand.products;
    config.canned = brand.canned;
    config.page = brand.page;
    config.consent = brand.consent;
    config.viewers = brand.viewers;
    config.sms = brand.sms;
    config.shop_secret = brand.shop_secret;
    config.crm = brand.crm;
    config.report_k = brand.report_k;
    config.contact_keys = keys;
    config.tls = tls;
    config.shared_store = shared_store;
    config.bus = args.bus.map(|url| crate::hub::BusConfig {
        url,
        node: args.node.unwrap_or_else(made_up_node_name),
    });
    crate::hub::serve_with_store(listener, config, store, async move {
        stop.recv().await;
    })
    .await
    .context("the hub stopped")?;
    Ok(Exit::Success)
}

/// A node name nobody else has: 8 random bytes.
fn made_up_node_name() -> String {
    let mut raw = [0u8; 8];
    match crate::auth::secret_file::os_random(&mut raw) {
        Ok(()) => format!("node-{}", crate::hex(&raw)),
        Err(_) => format!("node-{}", std::process::id()),
    }
}
