//! Themes: every colour the console draws comes from here.
//!
//! A theme is a TOML file (`themes/*.toml`) with an optional `inherit`, an
//! optional `[palette]` of named colours, a `names` list (the colours chat
//! names are hashed into) and a `[styles]` table keyed by the names in
//! [`StyleKey::ALL`]. The shipped themes are embedded in the binary so
//! `regie demo` works from any directory. Loading never takes the console
//! down: an unknown key is a warning, a malformed file is an error naming
//! the file and line, and the caller falls back to the default theme.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// Themes shipped with regie, by name.
pub const BUILTIN: [(&str, &str); 3] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// How deep `inherit` chains may go; a cycle stops here too.
const MAX_INHERIT_DEPTH: usize = 8;

macro_rules! style_keys {
    ($($variant:ident => $name:literal,)*) => {
        /// One themable thing the views draw. The TOML key is its name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum StyleKey { $($variant,)* }

        impl StyleKey {
            pub const ALL: &'static [StyleKey] = &[$(StyleKey::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(StyleKey::$variant => $name,)* }
            }

            pub fn from_name(name: &str) -> Option<StyleKey> {
                match name { $($name => Some(StyleKey::$variant),)* _ => None }
            }
        }
    };
}

style_keys! {
    Base => "base",
    Border => "border",
    BorderFocused => "border.focused",
    Title => "title",
    TitleFocused => "title.focused",
    FeedTime => "feed.time",
    FeedText => "feed.text",
    FeedStaffName => "feed.staff_name",
    FeedStaffText => "feed.staff_text",
    FeedSelected => "feed.selected",
    FeedTombstone => "feed.tombstone",
    FeedHeldText => "feed.held_text",
    FeedHiddenText => "feed.hidden_text",
    FeedSanctionedName => "feed.sanctioned_name",
    FeedNewBelow => "feed.new_below",
    FeedFilter => "feed.filter",
    FeedEmpty => "feed.empty",
    MarkerQuestion => "marker.question",
    MarkerAnswered => "marker.answered",
    MarkerHidden => "marker.hidden",
    MarkerSanctioned => "marker.sanctioned",
    MarkerFlagged => "marker.flagged",
    MarkerHeld => "marker.held",
    MarkerStaffAnswer => "marker.staff_answer",
    MarkerPinned => "marker.pinned",
    MarkerPending => "marker.pending",
    MarkerAnnouncement => "marker.announcement",
    FeedAnnouncement => "feed.announcement",
    Claim => "claim",
    FlagRed => "flag.red",
    FlagOrange => "flag.orange",
    FlagGreen => "flag.green",
    FlagBlue => "flag.blue",
    QuestionsItem => "questions.item",
    QuestionsAnswered => "questions.answered",
    QuestionsAge => "questions.age",
    NowLabel => "now.label",
    NowText => "now.text",
    NowEmpty => "now.empty",
    HoldReason => "hold.reason",
    HoldText => "hold.text",
    ActivityTime => "activity.time",
    ActivityActor => "activity.actor",
    ActivityText => "activity.text",
    StatusBar => "status.bar",
    StatusConnected => "status.connected",
    StatusReconnecting => "status.reconnecting",
    StatusOffline => "status.offline",
    StatusShield => "status.shield",
    StatusRole => "status.role",
    StatusLive => "status.live",
    StatusViewers => "status.viewers",
    StatusSparkline => "status.sparkline",
    StatusQuestions => "status.questions",
    StatusPending => "status.pending",
    StatusError => "status.error",
    StatusInfo => "status.info",
    InputText => "input.text",
    InputPrompt => "input.prompt",
    InputPlaceholder => "input.placeholder",
    InputCounter => "input.counter",
    InputCounterOver => "input.counter_over",
    PopupBorder => "popup.border",
    PopupTitle => "popup.title",
    PopupText => "popup.text",
    PopupLabel => "popup.label",
    PopupWarning => "popup.warning",
    PopupKey => "popup.key",
    PollQuestion => "poll.question",
    PollBar => "poll.bar",
    PollBarTrack => "poll.bar_track",
    PollCount => "poll.count",
    PollMeta => "poll.meta",
    PollFinal => "poll.final",
    DrawPrize => "draw.prize",
    DrawMeta => "draw.meta",
    DrawProof => "draw.proof",
    DrawWinner => "draw.winner",
    FormLabel => "form.label",
    FormLabelFocused => "form.label_focused",
    FormError => "form.error",
    FormNote => "form.note",
    HelpKey => "help.key",
    HelpAction => "help.action",
    TooSmall => "too_small",
}

/// A loaded theme: one style per key, and the palette names are hashed into.
#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    styles: BTreeMap<StyleKey, Style>,
    names: Vec<Color>,
}

impl Theme {
    /// The style for `key`. Keys the theme left out draw in the terminal's
    /// own colours.
    pub fn style(&self, key: StyleKey) -> Style {
        self.styles.get(&key).copied().unwrap_or_default()
    }

    /// The stable colour for a chat name: a hash of `seed` (a viewer id)
    /// into the theme's name palette, so a viewer keeps one colour all show.
    pub fn name_color(&self, seed: &str) -> Style {
        if self.names.is_empty() {
            return self.style(StyleKey::FeedText);
        }
        // FNV-1a: stable across runs and platforms, unlike `DefaultHasher`.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        let i = hash % self.names.len() as u64;
        let color = self.names[usize::try_from(i).expect("below names.len(), a usize")];
        Style::default().fg(color)
    }

    /// The embedded default (dark) theme. It is tested to load cleanly.
    pub fn builtin_default() -> Theme {
        load_builtin("default")
            .and_then(Result::ok)
            .map(|l| l.theme)
            .expect("the embedded default theme parses (tested)")
    }
}

/// A theme and the warnings met while loading it.
#[derive(Debug)]
pub struct LoadedTheme {
    pub theme: Theme,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("theme {name:?} not found: not a built-in theme ({builtins}) nor a readable file")]
    NotFound { name: String, builtins: String },
    #[error("cannot read theme file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Malformed {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: inherit chain deeper than {MAX_INHERIT_DEPTH} (a cycle?)")]
    InheritTooDeep { file: String },
}

#[derive(Deserialize)]
struct ThemeFile {
    #[serde(default)]
    inherit: Option<toml::Spanned<String>>,
    #[serde(default)]
    palette: BTreeMap<String, toml::Spanned<String>>,
    #[serde(default)]
    names: Option<toml::Spanned<Vec<String>>>,
    #[serde(default)]
    styles: BTreeMap<toml::Spanned<String>, toml::Spanned<StyleSpec>>,
    #[serde(flatten)]
    unknown: BTreeMap<String, toml::Value>,
}

/// `"red"` (foreground only) or a table.
#[derive(Deserialize)]
#[serde(untagged)]
enum StyleSpec {
    Fg(String),
    Full {
        #[serde(default)]
        fg: Option<String>,
        #[serde(default)]
        bg: Option<String>,
        #[serde(default)]
        modifiers: Vec<String>,
    },
}

/// Loads a theme by built-in name or by file path.
pub fn load(name_or_path: &str) -> Result<LoadedTheme, ThemeError> {
    if let Some(found) = load_builtin(name_or_path) {
        return found;
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        return Err(ThemeError::NotFound {
            name: name_or_path.to_string(),
            builtins: BUILTIN.map(|(n, _)| n).join(", "),
        });
    }
    load_file(path)
}

/// Loads a theme file from disk; `inherit` may name a built-in theme or a
/// file next to it.
pub fn load_file(path: &Path) -> Result<LoadedTheme, ThemeError> {
    let source = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut warnings = Vec::new();
    let theme = parse(
        &path.display().to_string(),
        &source,
        path.parent(),
        0,
        &mut warnings,
    )?;
    Ok(LoadedTheme { theme, warnings })
}

fn load_builtin(name: &str) -> Option<Result<LoadedTheme, ThemeError>> {
    let (n, source) = BUILTIN.iter().find(|(n, _)| *n == name)?;
    let mut warnings = Vec::new();
    Some(
        parse(&format!("themes/{n}.toml"), source, None, 0, &mut warnings)
            .map(|theme| LoadedTheme { theme, warnings }),
    )
}

/// Parses one theme source, resolving `inherit` first.
pub fn parse(
    file: &str,
    source: &str,
    dir: Option<&Path>,
    depth: usize,
    warnings: &mut Vec<String>,
) -> Result<Theme, ThemeError> {
    if depth > MAX_INHERIT_DEPTH {
        return Err(ThemeError::InheritTooDeep {
            file: file.to_string(),
        });
    }
    let src = ThemeSource { file, source };
    let parsed: ThemeFile =
        toml::from_str(source).map_err(|e| src.malformed(e.span(), e.message().to_string()))?;
    let mut theme = match &parsed.inherit {
        None => Theme {
            name: file.to_string(),
            styles: BTreeMap::new(),
            names: Vec::new(),
        },
        Some(base) => inherited(&src, base, dir, depth, warnings)?,
    };
    theme.name = file.to_string();

    for key in parsed.unknown.keys() {
        warnings.push(format!(
            "{file}:{}: unknown key {key:?} ignored",
            line_of_key(source, key)
        ));
    }
    let palette = &parsed.palette;
    for value in palette.values() {
        src.color(value.get_ref(), palette, Some(value.span()))?;
    }
    if let Some(names) = &parsed.names {
        let mut list = Vec::new();
        for n in names.get_ref() {
            list.push(src.color(n, palette, Some(names.span()))?);
        }
        theme.names = list;
    }
    for (key, spec) in &parsed.styles {
        let Some(style_key) = StyleKey::from_name(key.get_ref()) else {
            warnings.push(format!(
                "{file}:{}: unknown style {:?} ignored",
                line_of(source, key.span().start),
                key.get_ref()
            ));
            continue;
        };
        let style = src.style(spec, palette)?;
        theme.styles.insert(style_key, style);
    }
    Ok(theme)
}

/// The theme a file inherits from: a built-in by name, else a file next
/// to it.
fn inherited(
    src: &ThemeSource<'_>,
    base: &toml::Spanned<String>,
    dir: Option<&Path>,
    depth: usize,
    warnings: &mut Vec<String>,
) -> Result<Theme, ThemeError> {
    let base_name = base.get_ref();
    if let Some((_, builtin)) = BUILTIN.iter().find(|(n, _)| n == base_name) {
        return parse(
            &format!("themes/{base_name}.toml"),
            builtin,
            None,
            depth + 1,
            warnings,
        );
    }
    let base_path = dir.map_or_else(|| base_name.into(), |d| d.join(base_name));
    let base_src = std::fs::read_to_string(&base_path).map_err(|e| {
        src.malformed(
            Some(base.span()),
            format!("cannot inherit {base_name:?}: {e}"),
        )
    })?;
    parse(
        &base_path.display().to_string(),
        &base_src,
        base_path.parent(),
        depth + 1,
        warnings,
    )
}

/// A theme file being parsed, for errors that point at its lines.
struct ThemeSource<'a> {
    file: &'a str,
    source: &'a str,
}

type Palette = BTreeMap<String, toml::Spanned<String>>;

impl ThemeSource<'_> {
    fn malformed(&self, span: Option<std::ops::Range<usize>>, message: String) -> ThemeError {
        ThemeError::Malformed {
            file: self.file.to_string(),
            line: span.map_or(1, |s| line_of(self.source, s.start)),
            message,
        }
    }

    fn color(
        &self,
        value: &str,
        palette: &Palette,
        at: Option<std::ops::Range<usize>>,
    ) -> Result<Color, ThemeError> {
        resolve_color(value, palette)
            .ok_or_else(|| self.malformed(at, format!("not a colour: {value:?}")))
    }

    fn style(
        &self,
        spec: &toml::Spanned<StyleSpec>,
        palette: &Palette,
    ) -> Result<Style, ThemeError> {
        let at = Some(spec.span());
        Ok(match spec.get_ref() {
            StyleSpec::Fg(fg) => Style::default().fg(self.color(fg, palette, at)?),
            StyleSpec::Full { fg, bg, modifiers } => {
                let mut style = Style::default();
                if let Some(fg) = fg {
                    style = style.fg(self.color(fg, palette, at.clone())?);
                }
                if let Some(bg) = bg {
                    style = style.bg(self.color(bg, palette, at.clone())?);
                }
                for m in modifiers {
                    style = style.add_modifier(parse_modifier(m).ok_or_else(|| {
                        self.malformed(
                            at.clone(),
                            format!(
                                "unknown modifier {m:?} (bold, dim, italic, underlined, reversed, crossed_out)"
                            ),
                        )
                    })?);
                }
                style
            }
        })
    }
}

fn resolve_color(value: &str, palette: &BTreeMap<String, toml::Spanned<String>>) -> Option<Color> {
    if let Some(named) = palette.get(value) {
        return named.get_ref().parse().ok();
    }
    value.parse().ok()
}

fn parse_modifier(name: &str) -> Option<Modifier> {
    Some(match name {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" => Modifier::UNDERLINED,
        "reversed" => Modifier::REVERSED,
        "crossed_out" => Modifier::CROSSED_OUT,
        _ => return None,
    })
}

/// 1-based line where a top-level `key` is set (serde's flatten loses
/// spans), or 1.
fn line_of_key(source: &str, key: &str) -> usize {
    source
        .lines()
        .position(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix('"').unwrap_or(l);
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start_matches('"').trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

/// 1-based line of a byte offset.
fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_loads_without_warnings_and_styles_every_key() {
        for (name, _) in BUILTIN {
            let loaded = load(name).unwrap();
            assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
            for key in StyleKey::ALL {
                assert!(
                    loaded.theme.styles.contains_key(key),
                    "{name} does not style {}",
                    key.name()
                );
            }
            assert!(loaded.theme.names.len() >= 6, "{name} has a name palette");
        }
    }

    #[test]
    fn inherit_overrides_only_what_it_names() {
        let mut warnings = Vec::new();
        let src = "inherit = \"default\"\n[styles]\n\"marker.question\" = \"#ff0000\"\n";
        let theme = parse("mine.toml", src, None, 0, &mut warnings).unwrap();
        let base = Theme::builtin_default();
        assert_eq!(
            theme.style(StyleKey::MarkerQuestion).fg,
            Some(Color::Rgb(255, 0, 0))
        );
        assert_eq!(
            theme.style(StyleKey::FeedText),
            base.style(StyleKey::FeedText)
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn unknown_keys_warn_with_file_and_line() {
        let mut warnings = Vec::new();
        let src = "inherit = \"default\"\ncolour = 3\n[styles]\n\"feed.sparkles\" = \"red\"\n";
        parse("mine.toml", src, None, 0, &mut warnings).unwrap();
        assert_eq!(
            warnings,
            vec![
                "mine.toml:2: unknown key \"colour\" ignored".to_string(),
                "mine.toml:4: unknown style \"feed.sparkles\" ignored".to_string(),
            ]
        );
    }

    #[test]
    fn malformed_files_name_file_and_line() {
        let mut warnings = Vec::new();
        let err = parse(
            "bad.toml",
            "[styles]\n\"feed.text\" = \n",
            None,
            0,
            &mut warnings,
        )
        .unwrap_err();
        assert!(
            matches!(err, ThemeError::Malformed { line: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().starts_with("bad.toml:2:"), "{err}");
        let err = parse(
            "bad.toml",
            "[styles]\n\"feed.text\" = \"red\"\n\"border\" = \"not-a-colour\"\n",
            None,
            0,
            &mut warnings,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("bad.toml:3:"), "{err}");
    }

    #[test]
    fn inherit_cycles_stop() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "inherit = \"b.toml\"\n").unwrap();
        std::fs::write(dir.path().join("b.toml"), "inherit = \"a.toml\"\n").unwrap();
        let err = load_file(&dir.path().join("a.toml")).unwrap_err();
        assert!(matches!(err, ThemeError::InheritTooDeep { .. }), "{err}");
    }

    #[test]
    fn name_colours_are_stable() {
        // FNV-1a of the viewer id modulo the default theme's ten names,
        // worked out by hand: the same on every run and every platform.
        let theme = Theme::builtin_default();
        let rgb = |r, g, b| Style::default().fg(Color::Rgb(r, g, b));
        assert_eq!(theme.name_color("v-1"), rgb(0xa9, 0xdc, 0x76));
        assert_eq!(theme.name_color("v-2"), rgb(0x78, 0xdc, 0xe8));
        assert_eq!(theme.name_color("v-3"), rgb(0xff, 0x9e, 0x64));
        assert_eq!(theme.name_color("Julie"), rgb(0x98, 0xc3, 0x79));
    }
}
