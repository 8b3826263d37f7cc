//! The console's configuration: the config file, and the settings resolved
//! from it and from what the command line or environment overrides. The
//! token may come from `--token`, `REGIE_TOKEN` or the config file's `token`
//! key; it is never printed or logged. The live is `--live`, else the one
//! the token was minted for, else the config file's, else `show`.
//! Exports (a viewer's data, written by support from a card) go to
//! `--export-dir`, else the config file's `export_dir`, else the directory
//! the console was started in. [`super::app`] runs the console with
//! the [`Resolved`] settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::feed::DEFAULT_SCROLLBACK;
use super::keymap::Keymap;
use super::net::NetConfig;
use super::popups::sanction::DEFAULT_SANCTION_REASONS;
use super::theme::{self, Theme};
use crate::exit::Exit;

/// Settings given on the command line or in the environment; each one
/// given wins over the config file's. `None` leaves the file's or the
/// default. `config` names the file itself.
#[derive(Clone, Default)]
pub struct Overrides {
    pub url: Option<String>,
    pub token: Option<String>,
    pub live: Option<String>,
    pub theme: Option<String>,
    pub config: Option<PathBuf>,
    pub scrollback: Option<usize>,
    pub log_file: Option<PathBuf>,
    pub fps: Option<u32>,
    pub export_dir: Option<PathBuf>,
    /// `--ca`: the PEM file `wss://` trusts instead of the system's roots.
    pub ca: Option<PathBuf>,
    /// `--insecure`: the token may go over plain `ws://` beyond loopback.
    pub insecure: bool,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
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
    /// Where viewer exports are written (it must exist).
    pub export_dir: Option<PathBuf>,
    /// The reasons a timeout, a ban or a lift offers (the brand's
    /// templates); typed reasons stay possible.
    pub sanction_reasons: Option<Vec<String>>,
    /// Bell and desktop notifications (off unless `bell` or `desktop`).
    #[serde(default)]
    pub notify: super::notify::NotifyConfig,
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
            line: e.span().map_or(1, |s| {
                source[..s.start.min(source.len())].matches('\n').count() + 1
            }),
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

/// The directory the console was started in, as an absolute path so the
/// export result names the file unambiguously.
pub fn default_export_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
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

/// Everything the console needs, resolved from arguments, environment and
/// config file.
pub struct Resolved {
    pub net: NetConfig,
    pub theme: Theme,
    pub keymap: Keymap,
    pub scrollback: usize,
    pub log_file: PathBuf,
    pub frame_interval: Duration,
    /// Where viewer exports are written: an existing directory, never
    /// created (a typo must fail, not scatter personal data).
    pub export_dir: PathBuf,
    pub warnings: Vec<String>,
    /// `regie demo`'s console: quitting it also stops the hub and the crowd.
    pub demo: bool,
    /// In `regie demo`: the command that attaches a second console (with
    /// the binary's real path), shown in the help popup.
    pub attach: Option<String>,
    /// The reasons a sanction offers ([`sanction_reasons`]).
    pub sanction_reasons: Vec<String>,
    /// The config file's `[notify]` (off by default).
    pub notify: super::notify::NotifyConfig,
}

/// The config file's `sanction_reasons`, trimmed, without blanks or
/// repeats; the defaults when it names none (a warning if it was given
/// but held nothing usable).
pub fn sanction_reasons(given: Option<Vec<String>>, warnings: &mut Vec<String>) -> Vec<String> {
    let defaults = || DEFAULT_SANCTION_REASONS.map(String::from).to_vec();
    let Some(given) = given else {
        return defaults();
    };
    let mut reasons: Vec<String> = Vec::new();
    for r in given {
        let r = crate::privacy::sanitize_name(&r, 60);
        if !r.is_empty() && !reasons.contains(&r) {
            reasons.push(r);
        }
    }
    if reasons.is_empty() {
        warnings.push("sanction_reasons names no reason; using the defaults".into());
        return defaults();
    }
    reasons
}

/// Why the console cannot start with these settings.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "no staff token: pass --token, set REGIE_TOKEN, or put `token` in the config file \
         (mint one with `regie token --role host --name NAME`)"
    )]
    NoToken,
    #[error("not a WebSocket URL: {0:?} (expected ws://HOST:PORT or wss://HOST)")]
    NotWebSocket(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    PlainToken(#[from] crate::tls::PlainTokenRefused),
}

impl ResolveError {
    /// The console's documented exit code for this refusal.
    pub fn exit(&self) -> Exit {
        match self {
            ResolveError::Config(_)
            | ResolveError::NoToken
            | ResolveError::Tls(_)
            | ResolveError::PlainToken(_) => Exit::Usage,
            // A URL that is not a WebSocket's cannot reach a hub.
            ResolveError::NotWebSocket(_) => Exit::Unreachable,
        }
    }
}

/// Resolves settings: `args` first, then the config file, then defaults.
pub fn resolve(args: Overrides) -> Result<Resolved, ResolveError> {
    let config = ConfigFile::load(args.config.as_deref())?;
    let mut warnings = Vec::new();
    let token = args
        .token
        .or(config.token)
        .filter(|t| !t.trim().is_empty())
        .ok_or(ResolveError::NoToken)?;
    let url = args
        .url
        .or(config.url)
        .unwrap_or_else(|| "ws://127.0.0.1:7878".to_string());
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        return Err(ResolveError::NotWebSocket(url));
    }
    // Refused before anything connects, and before the terminal is taken.
    crate::tls::check_token_transport(&url, args.insecure)?;
    let tls = crate::tls::ClientTls::new(args.ca.as_deref(), args.insecure)?;
    let theme_name = args
        .theme
        .or(config.theme)
        .unwrap_or_else(|| "default".into());
    let theme = load_theme(&theme_name, &mut warnings);
    let (keymap, key_warnings) = Keymap::with_overrides(&config.keys);
    warnings.extend(key_warnings);
    let fps = args.fps.or(config.fps).unwrap_or(30).clamp(1, 60);
    let reasons = sanction_reasons(config.sanction_reasons, &mut warnings);
    let export_dir = args
        .export_dir
        .or(config.export_dir)
        .unwrap_or_else(default_export_dir);
    // Said at start, not at the first export in the middle of a show.
    if !export_dir.is_dir() {
        warnings.push(format!(
            "export_dir {} is not a directory; viewer exports will fail until it exists",
            export_dir.display()
        ));
    }
    // A token admits to one live, so unless `--live` says otherwise the
    // console joins the token's, not the config file's or "show".
    let live = args
        .live
        .or_else(|| crate::auth::unverified_live(&token))
        .or(config.live)
        .unwrap_or_else(|| "show".into());
    Ok(Resolved {
        net: NetConfig {
            url,
            live,
            token,
            tls,
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
        export_dir,
        warnings,
        demo: false,
        attach: None,
        sanction_reasons: reasons,
        notify: config.notify,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_comes_from_the_token_unless_given() {
        let key = crate::auth::SigningKey::from_bytes([3; 32]);
        let claims = crate::auth::Claims::new(
            crate::protocol::StaffRole::Host,
            "Claire",
            "spring-sale",
            0,
            1000,
        )
        .unwrap();
        let args = Overrides {
            url: Some("ws://127.0.0.1:1".into()),
            token: Some(crate::auth::mint(&key, &claims)),
            ..Overrides::default()
        };
        let resolved = resolve(args.clone()).ok().unwrap();
        assert_eq!(resolved.net.live, "spring-sale");
        let given = Overrides {
            live: Some("other".into()),
            ..args.clone()
        };
        assert_eq!(resolve(given).ok().unwrap().net.live, "other");
        let unreadable = Overrides {
            token: Some("not-a-regie-token".into()),
            ..args
        };
        assert_eq!(resolve(unreadable).ok().unwrap().net.live, "show");
    }

    #[test]
    fn the_export_dir_comes_from_the_flag_then_the_file_then_the_current_dir() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("console.toml");
        let from_file = dir.path().join("from-file");
        std::fs::create_dir(&from_file).unwrap();
        std::fs::write(
            &file,
            format!("export_dir = {:?}\n", from_file.to_str().unwrap()),
        )
        .unwrap();
        let args = Overrides {
            url: Some("ws://127.0.0.1:1".into()),
            token: Some("t".into()),
            config: Some(file),
            ..Overrides::default()
        };
        let resolved = resolve(args.clone()).ok().unwrap();
        assert_eq!(resolved.export_dir, from_file);
        assert!(resolved.warnings.is_empty(), "{:?}", resolved.warnings);
        let missing = dir.path().join("missing");
        let flag = Overrides {
            export_dir: Some(missing.clone()),
            ..args.clone()
        };
        let resolved = resolve(flag).ok().unwrap();
        assert_eq!(resolved.export_dir, missing);
        assert!(
            resolved.warnings[0].contains("is not a directory"),
            "{:?}",
            resolved.warnings
        );
        assert!(!missing.exists(), "never created");
        let neither = Overrides {
            config: None,
            ..args
        };
        assert_eq!(
            resolve(neither).ok().unwrap().export_dir,
            std::env::current_dir().unwrap()
        );
    }

    #[test]
    fn config_errors_name_file_and_line() {
        let err =
            ConfigFile::parse(Path::new("c.toml"), "url = \"ws://x\"\ncolour = 1\n").unwrap_err();
        assert!(err.to_string().starts_with("c.toml:2:"), "{err}");
    }

    #[test]
    fn token_is_required_and_never_in_debug() {
        let args = Overrides {
            url: Some("ws://127.0.0.1:1".into()),
            token: Some("s3cret".into()),
            live: None,
            theme: Some("no-such-theme".into()),
            config: None,
            scrollback: None,
            log_file: None,
            fps: None,
            export_dir: None,
            ca: None,
            insecure: false,
        };
        assert!(!format!("{args:?}").contains("s3cret"));
        let resolved = resolve(args.clone()).ok().unwrap();
        assert_eq!(
            resolved.warnings.len(),
            1,
            "missing theme falls back with a warning"
        );
        let bad_url = Overrides {
            url: Some("http://x".into()),
            ..args.clone()
        };
        assert_eq!(resolve(bad_url).err().unwrap().exit(), Exit::Unreachable);
        let no_token = Overrides {
            token: None,
            ..args.clone()
        };
        assert_eq!(resolve(no_token).err().unwrap().exit(), Exit::Usage);
    }
}
