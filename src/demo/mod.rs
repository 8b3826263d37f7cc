//! `regie demo`: the newcomer's first command. In one process it starts a
//! hub on a free loopback port with a temporary store, a simulated crowd,
//! and the console in the foreground (as host, or `--as` another role).
//!
//! A second console can attach: the hub's URL, a freshly minted token and
//! the command that attaches (with this binary's real path, see
//! [`attach_command`]) are written to a file (mode 0600) in the temporary
//! directory, and only the file's path is shown. Options the crowd would
//! refuse are refused before anything starts ([`DemoOptions::validate`]).
//! On quit everything stops and the temporary
//! directory — store, keys, token file, logs — is deleted.
//!
//! In steps, so the command line can log and report between them:
//! [`temp_dir`], [`Demo::start`], the console, [`Demo::stop`],
//! [`Stopped::delete`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tempfile::TempDir;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::auth::{Claims, SigningKey, mint};
use crate::catalogue::ConfiguredProduct;
use crate::console::config::{Resolved, load_theme};
use crate::console::keymap::Keymap;
use crate::console::net::NetConfig;
use crate::crowd::{CrowdConfig, CrowdError, CrowdReport, run_crowd};
use crate::hub::{HubConfig, HubError};
use crate::protocol::StaffRole;
use crate::protocol::{CannedAnswer, Product};

/// The live session the demo runs.
pub const LIVE: &str = "demo";

/// What a demo runs: `regie demo`'s choices.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The role the console logs in as.
    pub role: StaffRole,
    /// Simulated viewers (at least one).
    pub viewers: usize,
    /// Chat lines per second across the crowd.
    pub rate: f64,
    /// Theme name or file; the default theme when absent.
    pub theme: Option<String>,
    /// Seed for the crowd's names and lines (random when absent).
    pub seed: Option<u64>,
}

impl DemoOptions {
    /// Refuses what the crowd would refuse (no viewers, a rate that is not
    /// positive), so a bad `regie demo` fails before anything starts.
    pub fn validate(&self) -> Result<(), CrowdError> {
        crowd_config("ws://127.0.0.1:0", self).validate()
    }
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

/// `word` as one shell word: as is when it is plainly safe, else in single
/// quotes, so a path with spaces still pastes into a shell.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@%,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The command that attaches a second console, with this very binary's
/// path: after `cargo run` there is no `regie` on the `PATH`. The token is
/// read from `file`, never written on a command line.
pub fn attach_command(exe: &Path, file: &Path, url: &str) -> String {
    format!(
        "REGIE_TOKEN=$(sed -n 's/^token=//p' {file}) {exe} console --url {url} --live {LIVE}",
        file = shell_word(&file.display().to_string()),
        exe = shell_word(&exe.display().to_string()),
    )
}

/// This process's binary, for the attach command; `regie` (whatever the
/// `PATH` finds) when the operating system cannot say.
fn this_binary() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("regie"))
}

/// Writes the second console's URL and token, readable by this user only,
/// with the command that attaches it.
fn write_second_console(
    path: &Path,
    url: &str,
    role: StaffRole,
    token: &str,
    attach: &str,
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
         #   {attach}"
    )?;
    Ok(())
}

/// The demo's temporary directory (mode 0700): store, keys, the second
/// console's token and the log file. Made first, so logging can start in it
/// before anything else runs.
pub fn temp_dir() -> anyhow::Result<TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("regie-demo-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Store, keys and the second console's token: this user only.
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    builder
        .tempdir()
        .context("cannot create the demo's temporary directory")
}

/// Where the demo logs, inside its temporary directory: the console owns
/// the terminal, so the hub's and crowd's logs go there and are deleted
/// with it.
pub fn log_file(dir: &Path) -> PathBuf {
    dir.join("regie-demo.log")
}

/// A running demo: the hub and the crowd, in tasks of this process.
pub struct Demo {
    temp: TempDir,
    /// The hub's WebSocket URL.
    pub url: String,
    /// The file holding the second console's URL and token.
    pub second_console: PathBuf,
    /// The shell command that attaches a second console (see
    /// [`attach_command`]).
    pub attach: String,
    stop_hub: oneshot::Sender<()>,
    hub: JoinHandle<Result<(), HubError>>,
    stop_crowd: watch::Sender<bool>,
    crowd: JoinHandle<Result<CrowdReport, CrowdError>>,
}

/// What the console in the foreground runs with.
pub struct DemoConsole {
    pub settings: Resolved,
    pub role: StaffRole,
    /// The first note on the status line: the file that says how to attach
    /// a second console (kept short, so the path fits at 120 columns).
    pub intro: String,
}

/// How the demo's hub ended when asked to stop.
#[derive(Debug)]
pub enum HubEnd {
    Stopped,
    Failed(HubError),
    TaskFailed(tokio::task::JoinError),
    /// It did not stop within [`STOP_WAIT`].
    TimedOut,
}

/// The longest wait for the crowd, then the hub, to stop.
pub const STOP_WAIT: Duration = Duration::from_secs(10);

impl Demo {
    /// Starts the hub on a free loopback port with its store in `temp`, mints
    /// the console's token and the second console's, and starts the crowd.
    /// Refuses options [`DemoOptions::validate`] refuses before starting
    /// anything.
    pub async fn start(
        temp: TempDir,
        options: &DemoOptions,
    ) -> anyhow::Result<(Demo, DemoConsole)> {
        options.validate()?;
        let dir = temp.path().to_path_buf();
        // The key is created before the hub starts, so both use the same one.
        let key = SigningKey::load_or_create(&dir).context("cannot create the demo's token key")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind a loopback port for the hub")?;
        let addr = listener.local_addr()?;
        let url = format!("ws://{addr}");
        let (stop_hub, hub_stopped) = oneshot::channel::<()>();
        // The demo's crowd is hundreds of new viewers from loopback.
        let mut config = HubConfig::new(LIVE, &dir);
        config.viewers.exempt_loopback = true;
        (config.products, config.canned) = showcase();
        let hub = tokio::spawn(crate::hub::serve(listener, config, async move {
            let _ = hub_stopped.await;
        }));

        let now = crate::now_millis();
        let ttl = 12 * 3_600_000;
        let token = mint(&key, &console_claims(options.role, now, ttl)?);
        let second_role = if options.role == StaffRole::Host {
            StaffRole::Moderator
        } else {
            StaffRole::Host
        };
        let second_token = mint(
            &key,
            &Claims::new(second_role, staff_name(second_role), LIVE, now, ttl)?,
        );
        let second_console = dir.join("second-console.txt");
        let attach = attach_command(&this_binary(), &second_console, &url);
        write_second_console(&second_console, &url, second_role, &second_token, &attach)?;
        drop(second_token);

        let (stop_crowd, crowd) = start_crowd(&url, options);
        let mut settings = console_settings(&url, token, options, &dir);
        settings.attach = Some(attach.clone());
        let intro = format!("second console: see {} · ? help", second_console.display());
        let console = DemoConsole {
            settings,
            role: options.role,
            intro,
        };
        let demo = Demo {
            temp,
            url,
            second_console,
            attach,
            stop_hub,
            hub,
            stop_crowd,
            crowd,
        };
        Ok((demo, console))
    }

    /// Stops the crowd, then the hub, each with a bounded wait. The
    /// temporary directory stays until [`Stopped::delete`].
    pub async fn stop(self) -> Stopped {
        let _ = self.stop_crowd.send(true);
        let _ = tokio::time::timeout(STOP_WAIT, self.crowd).await;
        let _ = self.stop_hub.send(());
        let hub = match tokio::time::timeout(STOP_WAIT, self.hub).await {
            Ok(Ok(Ok(()))) => HubEnd::Stopped,
            Ok(Ok(Err(e))) => HubEnd::Failed(e),
            Ok(Err(e)) => HubEnd::TaskFailed(e),
            Err(_) => HubEnd::TimedOut,
        };
        Stopped {
            hub,
            temp: self.temp,
        }
    }
}

/// The demo's crowd against `url`: the options' viewers and rate, for a
/// day (it stops when the demo does).
fn crowd_config(url: &str, options: &DemoOptions) -> CrowdConfig {
    let mut config = CrowdConfig::new(url, LIVE);
    config.viewers = options.viewers;
    config.rate = options.rate;
    config.duration = Duration::from_secs(24 * 3600);
    config.seed = options.seed.unwrap_or_else(rand::random);
    config.connect_rate = 100.0;
    // Support's viewer card (`v`) shows what a viewer gave, masked.
    config.contact = true;
    config
}

/// Starts the demo's crowd against `url`; it runs until told to stop.
fn start_crowd(
    url: &str,
    options: &DemoOptions,
) -> (
    watch::Sender<bool>,
    JoinHandle<Result<CrowdReport, CrowdError>>,
) {
    let (stop_crowd, crowd_stopped) = watch::channel(false);
    let mut crowd_stop = crowd_stopped.clone();
    let crowd = tokio::spawn(run_crowd(crowd_config(url, options), async move {
        let _ = crowd_stop.wait_for(|stop| *stop).await;
    }));
    (stop_crowd, crowd)
}

/// The foreground console's settings: the demo's hub, the default keys,
/// and the chosen theme (a missing one falls back with a warning).
/// The demo console's token: brand-wide, so it can switch lives (key `O`)
/// like a brand's admin console would.
fn console_claims(
    role: StaffRole,
    now: crate::protocol::Millis,
    ttl: crate::protocol::Millis,
) -> Result<Claims, crate::auth::AuthError> {
    Claims::new(role, staff_name(role), crate::auth::ANY_LIVE, now, ttl)
}

fn console_settings(url: &str, token: String, options: &DemoOptions, dir: &Path) -> Resolved {
    let mut warnings = Vec::new();
    let theme = load_theme(options.theme.as_deref().unwrap_or("default"), &mut warnings);
    Resolved {
        net: NetConfig {
            url: url.to_string(),
            live: LIVE.to_string(),
            token,
            tls: crate::tls::ClientTls::default(),
        },
        theme,
        keymap: Keymap::default(),
        scrollback: crate::console::feed::DEFAULT_SCROLLBACK,
        log_file: log_file(dir),
        frame_interval: Duration::from_micros(1_000_000 / 30),
        export_dir: crate::console::config::default_export_dir(),
        warnings,
        demo: true,
        attach: None,
        sanction_reasons: crate::console::config::sanction_reasons(None, &mut Vec::new()),
        notify: crate::console::notify::NotifyConfig::default(),
    }
}

/// A demo whose hub and crowd stopped; its data is still on disk.
pub struct Stopped {
    pub hub: HubEnd,
    temp: TempDir,
}

impl Stopped {
    /// Deletes the temporary directory: store, keys, token file, logs.
    pub fn delete(self) -> anyhow::Result<()> {
        let dir = self.temp.path().to_path_buf();
        self.temp
            .close()
            .with_context(|| format!("cannot delete the demo's data in {}", dir.display()))
    }
}

/// What the demo's host has to show and say: three products (none on
/// screen yet: `w` puts one there) and canned answers to the crowd's
/// usual questions (`ctrl-t` in the reply line), with merge tags.
fn showcase() -> (Vec<ConfiguredProduct>, Vec<CannedAnswer>) {
    let product = |id: u32, name: &str, price: &str, link: Option<&str>| ConfiguredProduct {
        live: None,
        product: Product {
            id,
            name: name.to_owned(),
            price: price.to_owned(),
            link: link.map(str::to_owned),
        },
    };
    let canned = |title: &str, text: &str| CannedAnswer {
        title: title.to_owned(),
        text: text.to_owned(),
    };
    (
        vec![
            product(
                1,
                "Robe portefeuille Lina",
                "59 €",
                Some("https://example.com/lina"),
            ),
            product(
                2,
                "Pull col roulé Iris",
                "45 €",
                Some("https://example.com/iris"),
            ),
            product(3, "Sac cabas Noé", "89 €", None),
        ],
        vec![
            canned(
                "Livraison",
                "{first_name}, la livraison est offerte dès 50 € pendant « {live} » !",
            ),
            canned(
                "Tailles",
                "{first_name}, la {product} existe du 34 au 46 ; elle taille normalement.",
            ),
            canned("Prix", "{first_name}, la {product} est à {price} ce soir."),
            canned(
                "Retours",
                "{first_name}, les retours sont gratuits sous 30 jours.",
            ),
            canned("Merci", "Merci {first_name} ! — {host}"),
        ],
    )
}

#[cfg(test)]
mod crowd_settings_tests {
    use super::*;

    #[test]
    fn the_demo_crowd_gives_contact_data_for_support_s_card() {
        let options = DemoOptions {
            viewers: 3,
            rate: 2.0,
            seed: Some(1),
            role: StaffRole::Support,
            theme: None,
        };
        let config = crowd_config("ws://127.0.0.1:1", &options);
        assert!(config.contact);
        let (products, canned) = showcase();
        for p in &products {
            let p = &p.product;
            assert!(crate::catalogue::product(p.id, &p.name, &p.price, p.link.as_deref()).is_ok());
        }
        for c in &canned {
            assert!(
                crate::catalogue::canned(&c.title, &c.text).is_ok(),
                "{}",
                c.title
            );
        }
        assert!(config.max_reconnects > 0, "the demo crowd comes back");
    }

    #[test]
    fn the_demo_console_token_opens_every_live() {
        let key = crate::auth::SigningKey::from_bytes([7; 32]);
        let token = mint(&key, &console_claims(StaffRole::Host, 0, 60_000).unwrap());
        for live in [LIVE, "another-live"] {
            assert!(crate::auth::verify(&key, &token, live, 1).is_ok(), "{live}");
        }
    }
}
