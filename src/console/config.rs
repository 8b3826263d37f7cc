//! `regie console`: arguments, the config file, and the run from start to
//! exit code. The token may come from `--token`, `REGIE_TOKEN` or the config
//! file's `token` key; it is never printed or logged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;

use super::feed::DEFAULT_SCROLLBACK;
use super::keymap::Keymap;
use super::net::{self, NetConfig};
use super::state::{Console, Msg, Session, update};
use super::terminal::{self, Outcome};
use super::theme::{self, Theme};
use crate::protocol::StaffRole;

/// Exit codes (documented in the README and `console` module docs).
pub mod exit {
    pub const USAGE: u8 = 2;
    pub const UNREACHABLE: u8 = 3;
}

/// `regie console`
#[derive(Clone, clap::Args)]
pub struct ConsoleArgs {
    /// The hub's WebSocket URL [default: ws://127.0.0.1:7878].
    #[arg(long)]
    pub url: Option<String>,
    /// Staff token minted by `regie token`. Prefer REGIE_TOKEN or the config
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
}

impl std::fmt::Debug for ConsoleArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleArgs")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("live", &self.live)
            .field("theme", &self.theme)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The config file. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub url: Option<String>,
    pub token: Option<String>,
    pub live: Option<String>,
    pub theme: Option<String>,
    pub scrollback: Option<usize>,
    pub log_file: Option<PathBuf>,
    pub fps: Option<u32>,
    /// Key spec → action name (or "none").
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl ConfigFile {
    pub fn parse(path: &Path, source: &str) -> Result<ConfigFile, ConfigError> {
        toml::from_str(source).map_err(|e| ConfigError::Malformed {
            path: path.to_path_buf(),
            line: e
                .span()
                .map(|s| source[..s.start.min(source.len())].matches('\n').count() + 1)
                .unwrap_or(1),
            message: e.message().to_string(),
        })
    }

    /// Reads `explicit`, or the default location when it exists.
    pub fn load(explicit: Option<&Path>) -> Result<ConfigFile, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match default_path() {
                Some(p) if p.exists() => p,
                _ => return Ok(ConfigFile::default()),
            },
        };
        let source = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        ConfigFile::parse(&path, &source)
    }
}

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("regie").join("console.toml"))
}

/// Loads the theme, falling back to the default with a warning when the
/// named one is missing or malformed: a typo in a theme must not keep a
/// moderator out of the show.
pub fn load_theme(name: &str, warnings: &mut Vec<String>) -> Theme {
    match theme::load(name) {
        Ok(loaded) => {
            warnings.extend(loaded.warnings);
            loaded.theme
        }
        Err(e) => {
            warnings.push(format!("{e}; using the default theme"));
            Theme::builtin_default()
        }
    }
}

/// Writes logs to a file: the terminal belongs to the console.
pub fn init_file_logging(path: &Path) {
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

/// Everything the console needs, resolved from arguments, environment and
/// config file.
pub struct Resolved {
    pub net: NetConfig,
    pub theme: Theme,
    pub keymap: Keymap,
    pub scrollback: usize,
    pub log_file: PathBuf,
    pub frame_interval: Duration,
    pub warnings: Vec<String>,
}

/// Resolves settings; `Err` carries the message and exit code.
pub fn resolve(args: ConsoleArgs) -> Result<Resolved, (String, u8)> {
    let config =
        ConfigFile::load(args.config.as_deref()).map_err(|e| (e.to_string(), exit::USAGE))?;
    let mut warnings = Vec::new();
    let token = args
        .token
        .or(config.token)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            (
                "no staff token: pass --token, set REGIE_TOKEN, or put `token` in the config file \
                 (mint one with `regie token --role host --name NAME`)"
                    .to_string(),
                exit::USAGE,
            )
        })?;
    let url = args
        .url
        .or(config.url)
        .unwrap_or_else(|| "ws://127.0.0.1:7878".to_string());
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        return Err((
            format!("not a WebSocket URL: {url:?} (expected ws://HOST:PORT)"),
            exit::UNREACHABLE,
        ));
    }
    let theme_name = args
        .theme
        .or(config.theme)
        .unwrap_or_else(|| "default".into());
    let theme = load_theme(&theme_name, &mut warnings);
    let (keymap, key_warnings) = Keymap::with_overrides(&config.keys);
    warnings.extend(key_warnings);
    let fps = args.fps.or(config.fps).unwrap_or(30).clamp(1, 60);
    Ok(Resolved {
        net: NetConfig {
            url,
            live: args.live.or(config.live).unwrap_or_else(|| "show".into()),
            token,
        },
        theme,
        keymap,
        scrollback: args
            .scrollback
            .or(config.scrollback)
            .unwrap_or(DEFAULT_SCROLLBACK)
            .max(100),
        log_file: args
            .log_file
            .or(config.log_file)
            .unwrap_or_else(|| std::env::temp_dir().join("regie-console.log")),
        frame_interval: Duration::from_micros(1_000_000 / u64::from(fps)),
        warnings,
    })
}

/// A random word that keeps this console's command ids apart from another
/// console's using the same token.
pub fn command_id_prefix() -> String {
    use rand::Rng;
    let n: u32 = rand::rng().random();
    format!("c{n:08x}")
}

/// `regie console`: connect, run the terminal UI, exit with a documented code.
pub async fn run(args: ConsoleArgs) -> anyhow::Result<ExitCode> {
    let resolved = match resolve(args) {
        Ok(r) => r,
        Err((message, code)) => {
            eprintln!("regie console: {message}");
            return Ok(ExitCode::from(code));
        }
    };
    init_file_logging(&resolved.log_file);
    run_resolved(resolved, None, None).await
}

/// Runs the console with resolved settings. `role_hint` is the role shown
/// until the hub's welcome says who we are; `intro` is a first note for the
/// status line (`regie demo` says where the second console's token is).
pub async fn run_resolved(
    resolved: Resolved,
    role_hint: Option<StaffRole>,
    intro: Option<String>,
) -> anyhow::Result<ExitCode> {
    let Resolved {
        net: net_config,
        theme,
        keymap,
        scrollback,
        frame_interval,
        warnings,
        ..
    } = resolved;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    // The first connection is made before the terminal is taken, so a wrong
    // URL or a refused token is a plain message, not a hung screen.
    let first = match net::connect(&net_config, None).await {
        Ok(first) => first,
        Err(fatal) => {
            for w in &warnings {
                eprintln!("regie console: warning: {w}");
            }
            eprintln!("regie console: {fatal}");
            return Ok(ExitCode::from(fatal.exit_code()));
        }
    };
    let session = Session {
        role: role_hint.unwrap_or(StaffRole::Host),
        name: String::new(),
        live: net_config.live.clone(),
    };
    let mut state = Console::new(session, keymap, scrollback, &command_id_prefix());
    update(&mut state, Msg::Tick(crate::now_millis()));
    let first_note = match (warnings.first(), intro) {
        (Some(w), _) => Some((format!("warning: {w}"), true)),
        (None, Some(text)) => Some((text, false)),
        (None, None) => None,
    };
    if let Some((text, error)) = first_note {
        state.note = Some(super::state::Note {
            text,
            error,
            // Startup notes stay a little longer than the usual 8 s.
            at: crate::now_millis() + 12_000,
        });
    }
    let mut handle = net::spawn(net_config, first);
    let outcome = terminal::with_terminal(async |term| {
        let keys = crossterm::event::EventStream::new();
        terminal::event_loop(term, &mut state, &theme, keys, &mut handle, frame_interval).await
    })
    .await;
    handle.task.abort();
    for w in &warnings {
        eprintln!("regie console: warning: {w}");
    }
    if !state.pending.is_empty() {
        eprintln!(
            "regie console: {} command(s) were not confirmed by the hub before quitting:",
            state.pending.len()
        );
        for p in state.pending.values() {
            eprintln!("  - {}", p.summary);
        }
    }
    match outcome? {
        Outcome::Quit => Ok(ExitCode::SUCCESS),
        Outcome::Fatal(fatal) => {
            eprintln!("regie console: {fatal}");
            Ok(ExitCode::from(fatal.exit_code()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_file_and_line() {
        let err =
            ConfigFile::parse(Path::new("c.toml"), "url = \"ws://x\"\ncolour = 1\n").unwrap_err();
        assert!(err.to_string().starts_with("c.toml:2:"), "{err}");
    }

    #[test]
    fn token_is_required_and_never_in_debug() {
        let args = ConsoleArgs {
            url: Some("ws://127.0.0.1:1".into()),
            token: Some("s3cret".into()),
            live: None,
            theme: Some("no-such-theme".into()),
            config: None,
            scrollback: None,
            log_file: None,
            fps: None,
        };
        assert!(!format!("{args:?}").contains("s3cret"));
        let resolved = resolve(args.clone()).ok().unwrap();
        assert_eq!(
            resolved.warnings.len(),
            1,
            "missing theme falls back with a warning"
        );
        let bad_url = ConsoleArgs {
            url: Some("http://x".into()),
            ..args.clone()
        };
        assert_eq!(resolve(bad_url).err().unwrap().1, exit::UNREACHABLE);
    }
}
