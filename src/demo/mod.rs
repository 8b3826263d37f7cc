//! `regie demo`: the newcomer's first command. In one process it starts a
//! hub on a free loopback port with a temporary store, a simulated crowd,
//! and the console in the foreground (as host, or `--as` another role).
//!
//! A second console can attach: the hub's URL and a freshly minted token
//! are written to a file (mode 0600) in the temporary directory, and only
//! the file's path is shown. On quit everything stops and the temporary
//! directory — store, keys, token file, logs — is deleted.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::auth::{Claims, SigningKey, mint};
use crate::console::config::{Resolved, init_file_logging, load_theme, run_resolved};
use crate::console::keymap::Keymap;
use crate::console::net::NetConfig;
use crate::crowd::{CrowdConfig, run_crowd};
use crate::hub::HubConfig;
use crate::protocol::StaffRole;

/// The live session the demo runs.
pub const LIVE: &str = "demo";

/// `regie demo`
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The role the console logs in as: host, moderator, support or admin.
    #[arg(long = "as", default_value = "host")]
    pub role: StaffRole,
    /// Simulated viewers.
    #[arg(long, default_value_t = 80)]
    pub viewers: usize,
    /// Chat lines per second across the crowd.
    #[arg(long, default_value_t = 3.0)]
    pub rate: f64,
    /// Theme: default, light, high-contrast, or a file.
    #[arg(long)]
    pub theme: Option<String>,
    /// Seed for the crowd's names and lines (random when absent).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Shows the demo's staff by role, so the activity pane reads naturally.
fn staff_name(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Host => "Claire",
        StaffRole::Moderator => "Inès",
        StaffRole::Support => "Sam",
        StaffRole::Admin => "Alex",
    }
}

/// Writes the second console's URL and token, readable by this user only.
fn write_second_console(
    path: &Path,
    url: &str,
    role: StaffRole,
    token: &str,
) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(
        file,
        "# A second console for the running `regie demo` ({role}).\n\
         # This file and the token in it are deleted when the demo quits.\n\
         url={url}\n\
         live={LIVE}\n\
         token={token}\n\
         # Attach with:\n\
         #   REGIE_TOKEN=$(sed -n 's/^token=//p' {path}) regie console --url {url} --live {LIVE}",
        path = path.display()
    )?;
    Ok(())
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("regie-demo-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Store, keys and the second console's token: this user only.
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    let temp = builder
        .tempdir()
        .context("cannot create the demo's temporary directory")?;
    let dir = temp.path().to_path_buf();
    // The console owns the terminal: the hub's and crowd's logs go to a file
    // in the temporary directory, deleted with it.
    init_file_logging(&dir.join("regie-demo.log"));

    // The key is created before the hub starts, so both use the same one.
    let key = SigningKey::load_or_create(&dir).context("cannot create the demo's token key")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot bind a loopback port for the hub")?;
    let addr = listener.local_addr()?;
    let url = format!("ws://{addr}");
    let (stop_hub, hub_stopped) = tokio::sync::oneshot::channel::<()>();
    let hub = tokio::spawn(crate::hub::serve(
        listener,
        HubConfig::new(LIVE, &dir),
        async move {
            let _ = hub_stopped.await;
        },
    ));

    let now = crate::now_millis();
    let ttl = 12 * 3_600_000;
    let token = mint(
        &key,
        &Claims::new(args.role, staff_name(args.role), LIVE, now, ttl)?,
    );
    let second_role = if args.role == StaffRole::Host {
        StaffRole::Moderator
    } else {
        StaffRole::Host
    };
    let second_token = mint(
        &key,
        &Claims::new(second_role, staff_name(second_role), LIVE, now, ttl)?,
    );
    let second_file = dir.join("second-console.txt");
    write_second_console(&second_file, &url, second_role, &second_token)?;
    drop(second_token);

    let (stop_crowd, crowd_stopped) = tokio::sync::watch::channel(false);
    let mut crowd_config = CrowdConfig::new(url.clone(), LIVE);
    crowd_config.viewers = args.viewers.max(1);
    crowd_config.rate = args.rate;
    crowd_config.duration = Duration::from_secs(24 * 3600);
    crowd_config.seed = args.seed.unwrap_or_else(rand::random);
    crowd_config.connect_rate = 100.0;
    let mut crowd_stop = crowd_stopped.clone();
    let crowd = tokio::spawn(run_crowd(crowd_config, async move {
        let _ = crowd_stop.wait_for(|stop| *stop).await;
    }));

    eprintln!(
        "regie demo: hub on {url}; a second console's URL and token are in {}",
        second_file.display()
    );
    let mut warnings = Vec::new();
    let theme = load_theme(args.theme.as_deref().unwrap_or("default"), &mut warnings);
    let resolved = Resolved {
        net: NetConfig {
            url: url.clone(),
            live: LIVE.to_string(),
            token,
        },
        theme,
        keymap: Keymap::default(),
        scrollback: crate::console::feed::DEFAULT_SCROLLBACK,
        log_file: dir.join("regie-demo.log"),
        frame_interval: Duration::from_micros(1_000_000 / 30),
        warnings,
    };
    let intro = format!(
        "demo: second console's token in {} · ? help",
        second_file.display()
    );
    let outcome = run_resolved(resolved, Some(args.role), Some(intro)).await;

    // Stop the crowd, then the hub, each with a bounded wait.
    let _ = stop_crowd.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), crowd).await;
    let _ = stop_hub.send(());
    match tokio::time::timeout(Duration::from_secs(10), hub).await {
        Ok(Ok(Err(e))) => eprintln!("regie demo: the hub stopped with an error: {e}"),
        Ok(Err(e)) => eprintln!("regie demo: the hub task failed: {e}"),
        Err(_) => eprintln!("regie demo: the hub did not stop within 10 s"),
        Ok(Ok(Ok(()))) => {}
    }
    temp.close()
        .with_context(|| format!("cannot delete the demo's data in {}", dir.display()))?;
    eprintln!("regie demo: stopped; temporary data deleted");
    outcome
}
