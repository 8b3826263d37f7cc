//! The brand's configuration file (`regie serve --config brand.toml`, or
//! `REGIE_CONFIG`, else `<data>/regie.toml`): who runs the show, the
//! defaults every live starts with, the hub's limits, the retention
//! periods and where the contact keys live. `docs/brand.toml` documents
//! every key with its default.
//!
//! The file is read into a [`BrandConfig`] by [`BrandConfig::parse`],
//! which walks TOML's spanned tree so that every finding names the file,
//! the line and the key:
//!
//! - a key regie does not know is a [`Warning`] (a typo must not stop a
//!   show, but it must not pass unseen either);
//! - a value regie cannot use is a [`BrandError`], and `serve` stops
//!   before it binds.
//!
//! Only keys that change what the hub does are read; nothing here is
//! parsed for later.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::catalogue::{ConfiguredProduct, MAX_CANNED, MAX_PRODUCTS};
use crate::hub::config::{Limits, ViewerPolicy, default_blocked_terms};
use crate::hub::consent_texts::{ConsentTexts, MAX_CONSENT_TEXT_CHARS};
use crate::hub::moderation::{DefaultRule, link_policy};
use crate::hub::page::{MAX_CLOSING_CHARS, MAX_MESSAGES_RANGE, PageConfig, check_frame_ancestor};
use crate::hub::shield::{MAX_BAN_RECENT_MINUTES, ShieldPreset};
use crate::moderation::{Action, LinkPolicy, Matcher, Rule, RuleSet};
use crate::protocol::{
    CannedAnswer, MAX_MESSAGE_GRAPHEMES, MAX_SLOW_MODE_SECS, RuleAction, RuleType, Settings,
    check_live_name,
};
use crate::store::RetentionPolicy;

/// The longest brand name: it is printed in one status line.
const MAX_BRAND_CHARS: usize = 80;

/// What a brand file sets; a key left out keeps the default that
/// `regie serve` runs with.
#[derive(Debug, Clone, Default)]
pub struct BrandConfig {
    /// `brand`: the brand's name, said in the line `serve` prints when it
    /// is ready, so an operator sees which brand's file is in force.
    pub brand: Option<String>,
    /// `[live]`: the settings every live starts with; `[collect]` sets
    /// their opt-in switches (`email_opt_in`, `sms_alerts`).
    pub settings: Settings,
    /// `[shield]`: the emergency preset `shield_on` applies.
    pub shield: ShieldPreset,
    /// `[limits]`: the hub's bounds.
    pub limits: Limits,
    /// `[retention]`: how long stored data is kept.
    pub retention: RetentionPolicy,
    /// `[keys] dir`: the contact keys' directory (relative to the file's
    /// own directory); `--keys` wins over it.
    pub keys_dir: Option<PathBuf>,
    /// `[moderation] hold_timeout`: how long a held message waits for a
    /// moderator before the hub denies it; `None` keeps the hub's default
    /// ([`crate::hub::config::DEFAULT_HOLD_TIMEOUT`]).
    pub hold_timeout: Option<Duration>,
    /// `[moderation] claim_timeout`: how long a claim ("Claire is
    /// answering") lasts; `None` keeps the hub's default
    /// ([`crate::hub::config::DEFAULT_CLAIM_TIMEOUT`]).
    pub claim_timeout: Option<Duration>,
    /// `[rules]`: the moderation rules every new live starts with.
    pub rules: BrandRules,
    /// `[page]`: the viewer page (who may frame it, its chat length, the
    /// closing message).
    pub page: PageConfig,
    /// `[consent]`: the texts of the page's opt-ins.
    pub consent: ConsentTexts,
    /// `[viewers]`: brand-signed viewer tokens and the budget of new
    /// identities per address.
    pub viewers: ViewerPolicy,
    /// `[[products]]`: the products each live starts with (numbered from
    /// 1 in file order).
    pub products: Vec<ConfiguredProduct>,
    /// `[[canned]]`: the canned answers every live offers its staff.
    pub canned: Vec<CannedAnswer>,
    /// `[report] k`: the post-live report withholds figures of fewer
    /// viewers (2 to 11, default 5; see [`crate::report`]).
    pub report_k: crate::report::K,
    /// `[sms]`: SMS alerts when a live starts ([`crate::sms::config`]).
    pub sms: crate::sms::SmsConfig,
    /// `[shop] secret_file`: the secret the brand's shop signs its events
    /// with (`POST /shop/events`, [`crate::shop`]); `None` turns the route
    /// off.
    pub shop_secret: Option<crate::shop::ShopSecret>,
    /// `[crm]`: marketing opt-ins pushed to the brand's CRM, and the
    /// e-mail provider's unsubscribe webhook ([`crate::crm`]).
    pub crm: crate::crm::config::CrmConfig,
}

/// The brand file's `[rules]`: terms and regexes per action, and the link
/// policy. A live keeps its own copy from its first start, which
/// moderators then edit live (`rule_add`, `rule_remove`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandRules {
    /// `hold_terms`: held for a moderator. Default: the starter list
    /// ([`default_blocked_terms`]).
    pub hold_terms: Vec<String>,
    /// `block_terms`, `flag_terms`: refused, or delivered and marked.
    pub block_terms: Vec<String>,
    pub flag_terms: Vec<String>,
    /// `hold_regexes`, `block_regexes`, `flag_regexes`.
    pub hold_regexes: Vec<String>,
    pub block_regexes: Vec<String>,
    pub flag_regexes: Vec<String>,
    /// `links`: `"all"` (default), `"none"`, or the allowed domains.
    pub links: String,
    /// `link_action`: what a refused link does. Default: hold.
    pub link_action: RuleAction,
}

impl Default for BrandRules {
    fn default() -> Self {
        BrandRules {
            hold_terms: default_blocked_terms(),
            block_terms: Vec::new(),
            flag_terms: Vec::new(),
            hold_regexes: Vec::new(),
            block_regexes: Vec::new(),
            flag_regexes: Vec::new(),
            links: "all".to_owned(),
            link_action: RuleAction::Hold,
        }
    }
}

impl BrandRules {
    /// The rules after the hold terms (which are the hub's
    /// `blocked_terms`): block, then flag terms; the regexes by action;
    /// the link policy unless it allows every link.
    pub fn defaults(&self) -> Vec<DefaultRule> {
        let of = |kind: RuleType, list: &[String], action: RuleAction| {
            list.iter()
                .map(move |p| DefaultRule {
                    kind,
                    pattern: p.clone(),
                    action,
                })
                .collect::<Vec<_>>()
        };
        let mut rules = of(RuleType::Term, &self.block_terms, RuleAction::Block);
        rules.extend(of(RuleType::Term, &self.flag_terms, RuleAction::Flag));
        rules.extend(of(RuleType::Regex, &self.hold_regexes, RuleAction::Hold));
        rules.extend(of(RuleType::Regex, &self.block_regexes, RuleAction::Block));
        rules.extend(of(RuleType::Regex, &self.flag_regexes, RuleAction::Flag));
        if !self.links.trim().eq_ignore_ascii_case("all") {
            rules.push(DefaultRule {
                kind: RuleType::LinkPolicy,
                pattern: self.links.clone(),
                action: self.link_action,
            });
        }
        rules
    }
}

/// Where in a file something was found: 1-based line and column (in
/// characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A key regie does not know: ignored, and said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub at: Place,
    /// The key's dotted path, e.g. `live.slow_mode`.
    pub key: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: unknown key {:?} is ignored (see docs/brand.toml)",
            self.at, self.key
        )
    }
}

/// A brand file regie refuses.
#[derive(Debug, thiserror::Error)]
pub enum BrandError {
    #[error("cannot read the configuration {}: {source}", file.display())]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{at}: not valid TOML: {why}")]
    Syntax { at: Place, why: String },
    #[error("{at}: {key}: {why}")]
    Value { at: Place, key: String, why: String },
}

/// A file that was read: what is in force, and what was ignored.
#[derive(Debug, Clone)]
pub struct Checked {
    pub config: BrandConfig,
    pub warnings: Vec<Warning>,
}

/// The 1-based line and column (in characters) of byte `offset` in
/// `text`; an offset past the end, or inside a character, counts from the
/// nearest character boundary before it.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The tables regie reads; any other table is an unknown key.
const SECTIONS: &[&str] = &[
    "live",
    "limits",
    "retention",
    "retention.contact",
    "keys",
    "rules",
    "moderation",
    "shield",
    "collect",
    "page",
    "consent",
    "viewers",
    "report",
    "sms",
    "shop",
    "crm",
];

impl BrandConfig {
    /// Reads `file`: see [`BrandConfig::parse`].
    pub fn load(file: &Path) -> Result<Checked, BrandError> {
        let text = std::fs::read_to_string(file).map_err(|source| BrandError::Read {
            file: file.to_owned(),
            source,
        })?;
        Self::parse(file, &text)
    }

    /// The configuration in `text`, read from `file` (named in findings;
    /// a relative `[keys] dir` is taken from its directory).
    pub fn parse(file: &Path, text: &str) -> Result<Checked, BrandError> {
        let place = |span: std::ops::Range<usize>| {
            let (line, column) = line_column(text, span.start);
            Place {
                file: file.to_owned(),
                line,
                column,
            }
        };
        let root = DeTable::parse(text).map_err(|e| BrandError::Syntax {
            at: place(e.span().unwrap_or(0..0)),
            why: e.message().trim().to_owned(),
        })?;
        let mut reader = Reader {
            base: file.parent().unwrap_or(Path::new("")).to_owned(),
            config: Self::default(),
            warnings: Vec::new(),
            ping_at: None,
            sms: crate::sms::config::SmsKeys::default(),
            sms_at: None,
            crm_at: None,
        };
        reader
            .table("", root.get_ref())
            .map_err(|(span, key, why)| BrandError::Value {
                at: place(span),
                key,
                why,
            })?;
        let sms_keys = std::mem::take(&mut reader.sms);
        if let Some(brand) = &reader.config.brand
            && reader.config.sms.sender_name == crate::sms::SmsConfig::default().sender_name
        {
            reader.config.sms.sender_name.clone_from(brand);
        }
        sms_keys
            .finish(&mut reader.config.sms)
            .map_err(|why| BrandError::Value {
                at: place(reader.sms_at.clone().unwrap_or(0..0)),
                key: "sms".to_owned(),
                why,
            })?;
        reader
            .config
            .crm
            .finish()
            .map_err(|why| BrandError::Value {
                at: place(reader.crm_at.clone().unwrap_or(0..0)),
                key: "crm".to_owned(),
                why,
            })?;
        let limits = &reader.config.limits;
        if let Some(span) = reader.ping_at.clone()
            && limits.ping_interval >= limits.idle_timeout
        {
            return Err(BrandError::Value {
                at: place(span),
                key: "limits.ping_interval".to_owned(),
                why: format!(
                    "must be shorter than limits.idle_timeout ({}), or healthy clients are cut as idle",
                    said(limits.idle_timeout)
                ),
            });
        }
        let warnings = reader
            .warnings
            .into_iter()
            .map(|(span, key)| Warning {
                at: place(span),
                key,
            })
            .collect();
        Ok(Checked {
            config: reader.config,
            warnings,
        })
    }

    /// What is in force, on one line, for `regie config check`.
    pub fn summary(&self) -> String {
        let s = &self.settings;
        let l = &self.limits;
        let r = &self.retention;
        let slow = if s.slow_mode_secs == 0 {
            "slow mode off".to_owned()
        } else {
            format!("slow mode {}s", s.slow_mode_secs)
        };
        let brand = self
            .brand
            .as_ref()
            .map_or_else(|| "no brand name".to_owned(), |b| format!("brand {b:?}"));
        let keys = self.keys_dir.as_ref().map_or_else(
            || "keys in the data dir".to_owned(),
            |d| format!("keys in {:?}", d.display().to_string()),
        );
        let shield = &self.shield;
        let links = match &shield.links {
            LinkPolicy::NoLinks => "no links".to_owned(),
            LinkPolicy::AllLinks => "links as the live".to_owned(),
            LinkPolicy::AllowList(d) => format!("links to {} domains", d.len()),
        };
        let yes_no = |b: bool| if b { "on" } else { "off" };
        format!(
            "{brand}; live: {} graphemes, {slow}, {}/s burst {}; limits: {} connections, {} queued frames, idle {}; retention: chat {}, audit {}; {keys}; shield: slow mode {}s, {} terms, {} regexes, {links}; opt-ins: e-mail {}, SMS alerts {}; {} products, {} canned answers",
            s.max_message_graphemes,
            s.viewer_rate_per_sec,
            s.viewer_burst,
            l.max_connections,
            l.send_queue_frames,
            said(l.idle_timeout),
            said(r.chat),
            said(r.audit),
            shield.slow_mode_secs,
            shield.terms.len(),
            shield.regexes.len(),
            yes_no(s.email_opt_in),
            yes_no(s.sms_alerts),
            self.products.len(),
            self.canned.len(),
        )
    }
}

/// A duration in the largest whole unit that states it exactly (`90d`,
/// `6h`, `45s`), as a brand writes it; humantime's months and years are
/// not whole days.
fn said(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 {
        return format!("{}ms", d.as_millis());
    }
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs >= size && secs.is_multiple_of(size) {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// A refused value: its span, its key, why.
type Refusal = (std::ops::Range<usize>, String, String);

/// The walk over one file's tree.
struct Reader {
    base: PathBuf,
    config: BrandConfig,
    warnings: Vec<(std::ops::Range<usize>, String)>,
    /// Where `limits.ping_interval` was set, checked against the idle
    /// timeout once the whole table is read.
    ping_at: Option<std::ops::Range<usize>>,
    /// The `[sms]` keys that make the provider, built once all are read.
    sms: crate::sms::config::SmsKeys,
    /// Where `[sms]` was, for an error about the provider as a whole.
    sms_at: Option<std::ops::Range<usize>>,
    /// Where `[crm]` was, for an error about its keys together.
    crm_at: Option<std::ops::Range<usize>>,
}

impl Reader {
    fn table(&mut self, prefix: &str, table: &DeTable<'_>) -> Result<(), Refusal> {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{prefix}.{}", key.get_ref())
            };
            let is_section = SECTIONS.contains(&path.as_str());
            match value.get_ref() {
                DeValue::Table(inner) if is_section => {
                    if path == "sms" {
                        self.sms_at = Some(key.span());
                    } else if path == "crm" {
                        self.crm_at = Some(key.span());
                    }
                    self.table(&path, inner)?;
                }
                _ if is_section => {
                    return Err((
                        value.span(),
                        path,
                        format!("expected a table, found {}", value.get_ref().type_str()),
                    ));
                }
                _ => {
                    if !self.leaf(&path, value)? {
                        self.warnings.push((key.span(), path));
                    }
                }
            }
        }
        Ok(())
    }

    /// Sets the key at `path`; `Ok(false)` when regie has no such key.
    fn leaf(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Result<bool, Refusal> {
        if path == "products" || path == "canned" {
            self.entries(path, value)?;
            return Ok(true);
        }
        let refuse = |why: String| (value.span(), path.to_owned(), why);
        let v = value.get_ref();
        let c = &mut self.config;
        match path {
            "brand" => c.brand = Some(brand_name(v).map_err(refuse)?),
            _ if path.starts_with("live.") => {
                return live_settings(&mut c.settings, path, v).map_err(refuse);
            }
            "limits.max_connections" => {
                c.limits.max_connections = count(v, 1, 1_000_000).map_err(refuse)?;
            }
            "limits.send_queue_frames" => {
                c.limits.send_queue_frames = count(v, 16, 1_000_000).map_err(refuse)?;
            }
            "limits.inbox_frames" => {
                c.limits.inbox_frames = count(v, 16, 1_000_000).map_err(refuse)?;
            }
            "limits.recent_in_snapshot" => {
                c.limits.recent_in_snapshot = count(v, 0, 10_000).map_err(refuse)?;
            }
            "limits.max_replay_events" => {
                c.limits.max_replay_events = count(v, 0, 10_000_000).map_err(refuse)?;
            }
            "limits.idle_timeout" => c.limits.idle_timeout = period(v).map_err(refuse)?,
            "limits.ping_interval" => {
                c.limits.ping_interval = period(v).map_err(refuse)?;
                self.ping_at = Some(value.span());
            }
            "limits.hello_timeout" => c.limits.hello_timeout = period(v).map_err(refuse)?,
            _ if path.starts_with("rules.") => {
                return rule_lists(&mut c.rules, path, v).map_err(refuse);
            }
            "moderation.hold_timeout" => c.hold_timeout = Some(period(v).map_err(refuse)?),
            "moderation.claim_timeout" => c.claim_timeout = Some(period(v).map_err(refuse)?),
            "report.k" => {
                let k = count(v, 2, 11).map_err(refuse)?;
                c.report_k = crate::report::K::new(k).map_err(|e| refuse(e.to_string()))?;
            }
            _ if path.starts_with("sms.") => {
                let key = &path["sms.".len()..];
                return self.sms.set(&mut c.sms, &self.base, key, v).map_err(refuse);
            }
            _ if path.starts_with("crm.") => {
                let key = &path["crm.".len()..];
                return c.crm.set(&self.base, key, v).map_err(refuse);
            }
            "shop.secret_file" => {
                c.shop_secret = Some(shop_secret(&self.base, v).map_err(refuse)?);
            }
            _ if path.starts_with("viewers.") => {
                return viewers(c, &self.base, path, v).map_err(refuse);
            }
            _ if path.starts_with("shield.") || path.starts_with("collect.") => {
                return shield_or_collect(c, path, v).map_err(refuse);
            }
            _ if path.starts_with("page.") || path.starts_with("consent.") => {
                return page_or_consent(c, path, v).map_err(refuse);
            }
            "keys.dir" => {
                let dir = text(v).map_err(refuse)?;
                if dir.trim().is_empty() {
                    return Err(refuse("must name a directory".to_owned()));
                }
                c.keys_dir = Some(self.base.join(dir));
            }
            _ => {
                let Some(key) = path.strip_prefix("retention.") else {
                    return Ok(false);
                };
                let period = text(v).map_err(refuse)?;
                return c.retention.set_period(key, &period).map_err(|e| {
                    let why = e.to_string();
                    // The retention error starts with its key; said once.
                    let why = why
                        .strip_prefix(&format!("retention.{key}: "))
                        .unwrap_or(&why)
                        .to_owned();
                    refuse(why)
                });
            }
        }
        Ok(true)
    }
}

impl Reader {
    /// `[[products]]` or `[[canned]]`: a list of tables, each checked as
    /// the hub checks `product_add` and `canned_add` ([`crate::catalogue`]),
    /// each finding naming its entry (`products[2].link`).
    fn entries(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Result<(), Refusal> {
        let Some(items) = value.get_ref().as_array() else {
            return Err((
                value.span(),
                path.to_owned(),
                format!(
                    "expected [[{path}]] tables, found {}",
                    value.get_ref().type_str()
                ),
            ));
        };
        let max = if path == "products" {
            MAX_PRODUCTS
        } else {
            MAX_CANNED
        };
        if items.len() > max {
            return Err((
                value.span(),
                path.to_owned(),
                format!("{} entries; at most {max}", items.len()),
            ));
        }
        for (i, item) in items.iter().enumerate() {
            let entry = format!("{path}[{}]", i + 1);
            let Some(table) = item.get_ref().as_table() else {
                return Err((
                    item.span(),
                    entry,
                    format!("expected a table, found {}", item.get_ref().type_str()),
                ));
            };
            let mut fields: std::collections::BTreeMap<String, &Spanned<DeValue<'_>>> =
                std::collections::BTreeMap::new();
            let known: &[&str] = if path == "products" {
                &["name", "price", "link", "live"]
            } else {
                &["title", "text"]
            };
            for (key, v) in table {
                let name: &str = key.get_ref();
                if known.contains(&name) {
                    let field = format!("{entry}.{name}");
                    text(v.get_ref()).map_err(|why| (v.span(), field, why))?;
                    fields.insert(name.to_owned(), v);
                } else {
                    self.warnings.push((key.span(), format!("{entry}.{name}")));
                }
            }
            let entry = Entry {
                name: entry,
                span: item.span(),
                fields,
            };
            if path == "products" {
                let id = u32::try_from(i + 1).unwrap_or(u32::MAX);
                self.config.products.push(entry.product(id)?);
            } else {
                self.config.canned.push(entry.canned()?);
            }
        }
        let products: Vec<crate::protocol::Product> = self
            .config
            .products
            .iter()
            .map(|c| c.product.clone())
            .collect();
        if !crate::catalogue::fits(&products, &self.config.canned) {
            return Err((
                value.span(),
                path.to_owned(),
                format!(
                    "[[products]] and [[canned]] together exceed {} KiB: a console's welcome carries them all",
                    crate::catalogue::MAX_SHOWCASE_BYTES / 1024
                ),
            ));
        }
        Ok(())
    }
}

/// One `[[products]]` or `[[canned]]` table, its string fields by name.
struct Entry<'a, 'de> {
    /// `products[2]`, as findings name it.
    name: String,
    span: std::ops::Range<usize>,
    fields: std::collections::BTreeMap<String, &'a Spanned<DeValue<'de>>>,
}

impl Entry<'_, '_> {
    fn get(&self, key: &str) -> &str {
        self.fields
            .get(key)
            .and_then(|v| v.get_ref().as_str())
            .unwrap_or("")
    }

    /// A finding about `key`: at the field, else at the entry.
    fn refuse(&self, key: &str, why: String) -> Refusal {
        let at = self
            .fields
            .get(key)
            .map_or_else(|| self.span.clone(), |v| v.span());
        (at, format!("{}.{key}", self.name), why)
    }

    fn product(&self, id: u32) -> Result<ConfiguredProduct, Refusal> {
        let live = self.fields.get("live").map(|_| self.get("live").to_owned());
        if let Some(l) = &live {
            check_live_name(l).map_err(|why| self.refuse("live", why))?;
        }
        let link = self.fields.get("link").map(|_| self.get("link"));
        let product = crate::catalogue::product(id, self.get("name"), self.get("price"), link)
            .map_err(|why| {
                let key = if why.contains("link") {
                    "link"
                } else if why.contains("price") {
                    "price"
                } else {
                    "name"
                };
                self.refuse(key, why)
            })?;
        Ok(ConfiguredProduct { live, product })
    }

    fn canned(&self) -> Result<CannedAnswer, Refusal> {
        crate::catalogue::canned(self.get("title"), self.get("text")).map_err(|why| {
            let key = if why.contains("title") {
                "title"
            } else {
                "text"
            };
            self.refuse(key, why)
        })
    }
}

/// A list of terms or regexes, each checked as the hub compiles it (an
/// invalid regex names its item and carries the parser's message).
fn rules(v: &DeValue<'_>, kind: RuleType) -> Result<Vec<String>, String> {
    let DeValue::Array(items) = v else {
        return Err(format!(
            "expected a list of strings, found {}",
            v.type_str()
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let pattern = text(item.get_ref()).map_err(|e| format!("item {}: {e}", i + 1))?;
        if pattern.trim().is_empty() {
            return Err(format!("item {}: must not be empty", i + 1));
        }
        let rule = DefaultRule {
            kind,
            pattern,
            action: RuleAction::Hold,
        };
        rule.check().map_err(|e| format!("item {}: {e}", i + 1))?;
        out.push(rule.pattern);
    }
    Ok(out)
}

/// `"all"`, `"none"`, or a list of allowed domains.
fn links(v: &DeValue<'_>) -> Result<String, String> {
    let policy = match v {
        DeValue::Array(items) => items
            .iter()
            .map(|d| text(d.get_ref()))
            .collect::<Result<Vec<_>, _>>()?
            .join(" "),
        DeValue::String(s) if matches!(s.trim(), "all" | "none") => s.trim().to_owned(),
        _ => {
            return Err(r#"expected "all", "none" or a list of allowed domains"#.to_owned());
        }
    };
    if policy.trim().is_empty() {
        return Err(r#"an empty allow-list: write "none" to refuse every link"#.to_owned());
    }
    DefaultRule {
        kind: RuleType::LinkPolicy,
        pattern: policy.clone(),
        action: RuleAction::Hold,
    }
    .check()?;
    Ok(policy)
}

fn rule_action(v: &DeValue<'_>) -> Result<RuleAction, String> {
    match text(v)?.trim() {
        "block" => Ok(RuleAction::Block),
        "hold" => Ok(RuleAction::Hold),
        "flag" => Ok(RuleAction::Flag),
        other => Err(format!(r#"{other:?} is not "block", "hold" or "flag""#)),
    }
}

fn text(v: &DeValue<'_>) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("expected a string, found {}", v.type_str()))
}

fn boolean(v: &DeValue<'_>) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("expected true or false, found {}", v.type_str()))
}

/// A list of strings, each not blank.
fn strings(v: &DeValue<'_>) -> Result<Vec<String>, String> {
    let Some(items) = v.as_array() else {
        return Err(format!(
            "expected a list of strings, found {}",
            v.type_str()
        ));
    };
    items
        .iter()
        .map(|item| {
            let s = text(item.get_ref())?;
            if s.trim().is_empty() {
                return Err("an entry is empty".to_owned());
            }
            Ok(s)
        })
        .collect()
}

/// Reads `[shop] secret_file` now, so a missing or short secret stops
/// `serve` before it binds; a trailing newline is not part of it.
fn shop_secret(base: &Path, v: &DeValue<'_>) -> Result<crate::shop::ShopSecret, String> {
    let file = base.join(text(v)?);
    let bytes = crate::auth::secret_file::read_trimmed(&file)?;
    crate::shop::ShopSecret::new(bytes).map_err(|why| format!("{}: {why}", file.display()))
}

/// Sets a `[viewers]` key; `Ok(false)` when regie has no such key. The
/// token secret file is read now, so a missing or short secret stops
/// `serve` before it binds, naming the key's line.
fn viewers(c: &mut BrandConfig, base: &Path, path: &str, v: &DeValue<'_>) -> Result<bool, String> {
    let viewers = &mut c.viewers;
    match path {
        "viewers.token_secret_file" => {
            let file = base.join(text(v)?);
            let bytes = crate::auth::secret_file::read_trimmed(&file)?;
            let secret = crate::auth::viewer_token::ViewerTokenSecret::new(bytes)
                .map_err(|why| format!("{}: {why}", file.display()))?;
            viewers.token_secret = Some(secret);
        }
        "viewers.new_identities_per_minute" => {
            viewers.new_identities_per_minute = count(v, 1, 1_000_000)?;
        }
        "viewers.exempt_loopback" => viewers.exempt_loopback = boolean(v)?,
        "viewers.trusted_proxies" => {
            viewers.trusted_proxies = strings(v)?
                .iter()
                .map(|ip| {
                    ip.trim()
                        .parse()
                        .map_err(|_| format!("{ip:?} is not an IP address"))
                })
                .collect::<Result<_, _>>()?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Whether one rule compiles; the engine's own message when not.
fn compiles(matcher: Matcher) -> Result<(), String> {
    RuleSet::compile(vec![Rule::new(0, matcher, Action::Hold)])
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Sets a `[shield]` or `[collect]` key; `Ok(false)` when regie has no
/// such key.
/// `[live]`: a live's chat settings and its viewer delivery;
/// `Ok(false)` for a key it does not have.
fn live_settings(s: &mut Settings, path: &str, v: &DeValue<'_>) -> Result<bool, String> {
    match path {
        "live.max_message_graphemes" => {
            s.max_message_graphemes = count(v, 1, MAX_MESSAGE_GRAPHEMES as u64)?;
        }
        "live.slow_mode_secs" => {
            s.slow_mode_secs = count(v, 0, 86_400)?;
        }
        "live.viewer_rate_per_sec" => {
            s.viewer_rate_per_sec = count(v, 1, 1000)?;
        }
        "live.viewer_burst" => s.viewer_burst = count(v, 1, 10_000)?,
        "live.viewer_tick_ms" => {
            let (min, max) = (crate::protocol::MIN_TICK_MS, crate::protocol::MAX_TICK_MS);
            s.delivery.tick_ms = count(v, u64::from(min), u64::from(max))?;
        }
        "live.viewer_chat_per_sec" => {
            let max = u64::from(crate::protocol::MAX_CHAT_PER_SEC);
            s.delivery.chat_per_sec = count(v, 0, max)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `[rules]`: the term and regex lists per action, and the link policy;
/// `Ok(false)` for a key it does not have.
fn rule_lists(r: &mut BrandRules, path: &str, v: &DeValue<'_>) -> Result<bool, String> {
    match path {
        "rules.hold_terms" => r.hold_terms = rules(v, RuleType::Term)?,
        "rules.block_terms" => {
            r.block_terms = rules(v, RuleType::Term)?;
        }
        "rules.flag_terms" => r.flag_terms = rules(v, RuleType::Term)?,
        "rules.hold_regexes" => {
            r.hold_regexes = rules(v, RuleType::Regex)?;
        }
        "rules.block_regexes" => {
            r.block_regexes = rules(v, RuleType::Regex)?;
        }
        "rules.flag_regexes" => {
            r.flag_regexes = rules(v, RuleType::Regex)?;
        }
        "rules.links" => r.links = links(v)?,
        "rules.link_action" => r.link_action = rule_action(v)?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn shield_or_collect(c: &mut BrandConfig, path: &str, v: &DeValue<'_>) -> Result<bool, String> {
    match path {
        "shield.slow_mode_secs" => {
            c.shield.slow_mode_secs = count(v, 1, u64::from(MAX_SLOW_MODE_SECS))?;
        }
        "shield.hold_first_time_chatters" => {
            c.shield.hold_first_time_chatters = boolean(v)?;
        }
        "shield.terms" | "shield.ban_recent_terms" => {
            let terms = strings(v)?;
            for term in &terms {
                compiles(Matcher::Term(term.clone()))?;
            }
            if path == "shield.terms" {
                c.shield.terms = terms;
            } else {
                c.shield.ban_recent_terms = terms;
            }
        }
        "shield.regexes" => {
            let regexes = strings(v)?;
            for regex in &regexes {
                compiles(Matcher::Regex(regex.clone()))?;
            }
            c.shield.regexes = regexes;
        }
        "shield.action" => {
            c.shield.action = match text(v)?.as_str() {
                "hold" => Action::Hold,
                "block" => Action::Block,
                other => {
                    return Err(format!(
                        "{other:?} is not an action (write \"hold\" or \"block\")"
                    ));
                }
            };
        }
        "shield.links" => c.shield.links = link_policy(&links(v)?),
        "shield.ban_recent_minutes" => {
            c.shield.ban_recent_minutes = count(v, 1, u64::from(MAX_BAN_RECENT_MINUTES))?;
        }
        "collect.email_opt_in" => c.settings.email_opt_in = boolean(v)?,
        "collect.sms_alerts" => c.settings.sms_alerts = boolean(v)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Sets a `[page]` or `[consent]` key; `Ok(false)` when regie has no such
/// key.
fn page_or_consent(c: &mut BrandConfig, path: &str, v: &DeValue<'_>) -> Result<bool, String> {
    match path {
        "page.frame_ancestors" => {
            let sources = strings(v)?;
            if sources.is_empty() {
                return Err(r#"an empty list: write ["'none'"] to forbid every frame"#.to_owned());
            }
            for source in &sources {
                check_frame_ancestor(source.trim())?;
            }
            c.page.frame_ancestors = sources.iter().map(|s| s.trim().to_owned()).collect();
        }
        "page.max_messages" => {
            c.page.max_messages = count(
                v,
                *MAX_MESSAGES_RANGE.start() as u64,
                *MAX_MESSAGES_RANGE.end() as u64,
            )?;
        }
        "page.closing_message" => c.page.closing_message = page_text(v, MAX_CLOSING_CHARS)?,
        "consent.marketing" => c.consent.marketing = page_text(v, MAX_CONSENT_TEXT_CHARS)?,
        "consent.sms_reminders" => {
            c.consent.sms_reminders = page_text(v, MAX_CONSENT_TEXT_CHARS)?;
        }
        "consent.sms_marketing" => {
            c.consent.sms_marketing = page_text(v, MAX_CONSENT_TEXT_CHARS)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A text the page shows a viewer as it is written: not blank, at most
/// `max` characters, and nothing the sanitiser would strip (a consent text
/// must read exactly as its hash says).
fn page_text(v: &DeValue<'_>, max: usize) -> Result<String, String> {
    let written = text(v)?;
    let trimmed = written.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if crate::privacy::sanitize(trimmed) != trimmed {
        return Err("must be plain text (no control, bidi or invisible characters)".to_owned());
    }
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(trimmed.to_owned())
}

/// A name printed on a terminal: not blank, and nothing that
/// [`crate::privacy::sanitize`] would strip (controls, escapes, bidi
/// overrides, invisible characters) — refused rather than quietly changed,
/// so the operator sees the name they wrote.
fn brand_name(v: &DeValue<'_>) -> Result<String, String> {
    let name = text(v)?;
    let name = name.trim();
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if crate::privacy::sanitize(name) != name {
        return Err("must be plain text (no control, bidi or invisible characters)".to_owned());
    }
    if name.chars().count() > MAX_BRAND_CHARS {
        return Err(format!("must be at most {MAX_BRAND_CHARS} characters"));
    }
    Ok(name.to_owned())
}

/// A whole number in `min..=max`, as the field's type.
fn count<T: TryFrom<u64>>(v: &DeValue<'_>, min: u64, max: u64) -> Result<T, String> {
    let Some(n) = v.as_integer() else {
        return Err(format!("expected a whole number, found {}", v.type_str()));
    };
    u64::from_str_radix(n.as_str(), n.radix())
        .ok()
        .filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("{n} is not between {min} and {max}"))
}

/// A duration written like `"45s"` or `"2m"`, longer than zero.
fn period(v: &DeValue<'_>) -> Result<Duration, String> {
    let written = text(v)?;
    let parsed = humantime::parse_duration(written.trim())
        .map_err(|e| format!("{written:?} is not a duration (write e.g. \"45s\", \"2m\"): {e}"))?;
    if parsed.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Checked, BrandError> {
        BrandConfig::parse(Path::new("/etc/regie/brand.toml"), text)
    }

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let text = "a = 1\n\n  bé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 4), (1, 5));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 7), (3, 1));
        // Columns count characters: `=` after "  bé " is the sixth.
        let eq = text.rfind('=').unwrap();
        assert_eq!(line_column(text, eq), (3, 6));
        // Inside `é`, and past the end: the boundary before.
        let e = text.find('é').unwrap();
        assert_eq!(line_column(text, e + 1), (3, 4));
        assert_eq!(line_column(text, 10_000), (4, 1));
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        let checked = parse("").unwrap();
        assert!(checked.warnings.is_empty());
        let c = checked.config;
        assert_eq!(c.settings, Settings::default());
        assert_eq!(c.retention, RetentionPolicy::default());
        assert_eq!(c.limits.max_connections, Limits::default().max_connections);
        assert_eq!(c.brand, None);
        assert_eq!(c.keys_dir, None);
        assert_eq!(c.hold_timeout, None);
        assert_eq!(c.rules, BrandRules::default());
    }

    #[test]
    fn rules_keys_set_the_lives_defaults_and_bad_rules_name_their_line() {
        let checked = parse(
            "[rules]\nhold_terms = [\"idiot\"]\nblock_terms = [\"arnaq*\"]\n\
             flag_regexes = ['\\bpromo\\w*']\nlinks = [\"ma-marque.fr\"]\n\
             link_action = \"block\"\n",
        )
        .unwrap();
        assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
        let r = checked.config.rules;
        assert_eq!(r.hold_terms, ["idiot"]);
        let defaults = r.defaults();
        let defaults: Vec<(RuleType, &str, RuleAction)> = defaults
            .iter()
            .map(|d| (d.kind, d.pattern.as_str(), d.action))
            .collect();
        assert_eq!(
            defaults,
            [
                (RuleType::Term, "arnaq*", RuleAction::Block),
                (RuleType::Regex, r"\bpromo\w*", RuleAction::Flag),
                (RuleType::LinkPolicy, "ma-marque.fr", RuleAction::Block),
            ]
        );
        let err = parse("[rules]\n\nhold_regexes = [\"ok\", \"(abc\"]\n").unwrap_err();
        let BrandError::Value { at, key, why } = &err else {
            panic!("{err}");
        };
        assert_eq!((at.line, key.as_str()), (3, "rules.hold_regexes"));
        let unclosed = String::from("(abc");
        let parser = regex::Regex::new(&unclosed).unwrap_err().to_string();
        assert!(
            why.starts_with("item 2: invalid regex") && why.contains(&parser),
            "{why}"
        );
        for bad in [
            "links = \"some\"",
            "link_action = \"ban\"",
            "block_terms = [\"a*b\"]",
        ] {
            assert!(parse(&format!("[rules]\n{bad}\n")).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_key_sets_its_field() {
        let checked = parse(
            "brand = \" Maison Lumière \"\n\
             [live]\nmax_message_graphemes = 200\nslow_mode_secs = 30\n\
             viewer_rate_per_sec = 2\nviewer_burst = 0x8\n\
             viewer_tick_ms = 250\nviewer_chat_per_sec = 0\n\
             [limits]\nmax_connections = 5_000\nsend_queue_frames = 256\n\
             inbox_frames = 1024\nrecent_in_snapshot = 20\nmax_replay_events = 500\n\
             idle_timeout = \"60s\"\nping_interval = \"20s\"\nhello_timeout = \"3s\"\n\
             [retention]\nchat = \"7d\"\n[retention.contact]\nmarketing = \"1y\"\n\
             [keys]\ndir = \"keys\"\n\
             [moderation]\nhold_timeout = \"3m\"\nclaim_timeout = \"90s\"\n",
        )
        .unwrap();
        assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
        let c = checked.config;
        assert_eq!(c.brand.as_deref(), Some("Maison Lumière"));
        assert_eq!(
            c.settings,
            Settings {
                max_message_graphemes: 200,
                slow_mode_secs: 30,
                viewer_rate_per_sec: 2,
                viewer_burst: 8,
                delivery: crate::protocol::DeliveryPolicy {
                    tick_ms: 250,
                    chat_per_sec: 0,
                },
                ..Settings::default()
            }
        );
        assert_eq!(c.limits.max_connections, 5000);
        assert_eq!(c.limits.send_queue_frames, 256);
        assert_eq!(c.limits.inbox_frames, 1024);
        assert_eq!(c.limits.recent_in_snapshot, 20);
        assert_eq!(c.limits.max_replay_events, 500);
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.limits.ping_interval, Duration::from_secs(20));
        assert_eq!(c.limits.hello_timeout, Duration::from_secs(3));
        assert_eq!(c.retention.chat, Duration::from_secs(7 * 86_400));
        assert_eq!(
            c.retention.marketing,
            humantime::parse_duration("1y").unwrap()
        );
        assert_eq!(c.keys_dir, Some(PathBuf::from("/etc/regie/keys")));
        assert_eq!(c.hold_timeout, Some(Duration::from_secs(180)));
        assert_eq!(c.claim_timeout, Some(Duration::from_secs(90)));
    }

    #[test]
    fn unknown_keys_warn_with_their_line_and_path() {
        let checked = parse(
            "brand = \"B\"\ncolour = \"red\"\n[live]\nslow_mode = 3\n[retention]\nchats = \"1d\"\n[shop]\nurl = \"x\"\n",
        )
        .unwrap();
        let found: Vec<(usize, &str)> = checked
            .warnings
            .iter()
            .map(|w| (w.at.line, w.key.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (2, "colour"),
                (4, "live.slow_mode"),
                (6, "retention.chats"),
                (8, "shop.url")
            ]
        );
        let text = checked.warnings[1].to_string();
        assert!(
            text.starts_with("/etc/regie/brand.toml:4:1: unknown key \"live.slow_mode\""),
            "{text}"
        );
    }

    #[test]
    fn the_shop_secret_is_read_beside_the_file_and_must_be_long_enough() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("shop.secret"),
            format!("{}\n", "k".repeat(32)),
        )
        .unwrap();
        std::fs::write(dir.path().join("short.secret"), "k".repeat(31)).unwrap();
        let file = dir.path().join("brand.toml");
        let checked = BrandConfig::parse(&file, "[shop]\nsecret_file = \"shop.secret\"\n").unwrap();
        assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
        let secret = checked.config.shop_secret.expect("a shop secret");
        assert_eq!(secret.bytes(), "k".repeat(32).as_bytes());
        assert!(parse("").unwrap().config.shop_secret.is_none());
        for (name, want) in [
            ("short.secret", "at least 32"),
            ("missing.secret", "cannot read"),
        ] {
            let err = BrandConfig::parse(&file, &format!("[shop]\nsecret_file = \"{name}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(want) && err.contains("shop.secret_file"),
                "{err}"
            );
        }
    }

    #[test]
    fn viewers_keys_set_the_policy_and_read_the_secret_beside_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("viewer.secret"),
            format!("{}\n", "s".repeat(40)),
        )
        .unwrap();
        let file = dir.path().join("brand.toml");
        let checked = BrandConfig::parse(
            &file,
            "[viewers]\ntoken_secret_file = \"viewer.secret\"\nnew_identities_per_minute = 5\n\
             exempt_loopback = true\ntrusted_proxies = [\"10.0.0.5\", \"::1\"]\n",
        )
        .unwrap();
        assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
        let v = &checked.config.viewers;
        assert!(v.token_secret.is_some());
        assert_eq!(v.new_identities_per_minute, 5);
        assert!(v.exempt_loopback);
        assert_eq!(
            v.trusted_proxies,
            [
                "10.0.0.5".parse::<std::net::IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        // The defaults: no tokens, 30 a minute, loopback not exempt.
        let v = parse("").unwrap().config.viewers;
        assert!(v.token_secret.is_none() && !v.exempt_loopback && v.trusted_proxies.is_empty());
        assert_eq!(v.new_identities_per_minute, 30);

        std::fs::write(dir.path().join("short.secret"), "court\n").unwrap();
        for (text, why) in [
            ("token_secret_file = \"short.secret\"", "at least 32"),
            ("token_secret_file = \"missing.secret\"", "cannot read"),
            ("new_identities_per_minute = 0", "not between 1 and"),
            ("trusted_proxies = [\"proxy.local\"]", "not an IP address"),
        ] {
            let err = BrandConfig::parse(&file, &format!("[viewers]\n\n{text}\n")).unwrap_err();
            let BrandError::Value { at, key, why: said } = &err else {
                panic!("{text}: {err}");
            };
            assert_eq!(at.line, 3, "{err}");
            assert!(key.starts_with("viewers."), "{err}");
            assert!(said.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn bad_values_name_file_line_and_key() {
        for (text, line, key) in [
            (
                "[live]\n\nmax_message_graphemes = 0\n",
                3,
                "live.max_message_graphemes",
            ),
            (
                "[live]\nmax_message_graphemes = 501\n",
                2,
                "live.max_message_graphemes",
            ),
            ("[live]\nslow_mode_secs = -1\n", 2, "live.slow_mode_secs"),
            ("[live]\nviewer_tick_ms = 5\n", 2, "live.viewer_tick_ms"),
            (
                "[live]\nviewer_chat_per_sec = 10001\n",
                2,
                "live.viewer_chat_per_sec",
            ),
            ("[live]\nviewer_burst = \"5\"\n", 2, "live.viewer_burst"),
            (
                "[limits]\nmax_connections = 1.5\n",
                2,
                "limits.max_connections",
            ),
            (
                "[limits]\nidle_timeout = \"soon\"\n",
                2,
                "limits.idle_timeout",
            ),
            (
                "[limits]\nhello_timeout = \"0s\"\n",
                2,
                "limits.hello_timeout",
            ),
            (
                "[limits]\nping_interval = \"1m\"\nidle_timeout = \"30s\"\n",
                2,
                "limits.ping_interval",
            ),
            ("[retention]\nchat = \"soon\"\n", 2, "retention.chat"),
            (
                "[retention.contact]\nmarketing = 3\n",
                2,
                "retention.contact.marketing",
            ),
            ("live = 3\n", 1, "live"),
            ("brand = \"a\\u0007b\"\n", 1, "brand"),
            ("brand = \"a\\u202eb\"\n", 1, "brand"),
            ("brand = \"  \"\n", 1, "brand"),
            ("[keys]\ndir = \"\"\n", 2, "keys.dir"),
        ] {
            let err = parse(text).unwrap_err();
            let BrandError::Value { at, key: k, .. } = &err else {
                panic!("{text:?}: {err}");
            };
            assert_eq!((at.line, k.as_str()), (line, key), "{text:?}: {err}");
            let said = err.to_string();
            assert!(
                said.starts_with(&format!("/etc/regie/brand.toml:{line}:")) && said.contains(key),
                "{said}"
            );
        }
    }

    /// The example in docs states every default; it must stay true.
    #[test]
    fn the_documented_example_states_the_defaults() {
        let checked = parse(include_str!("../docs/brand.toml")).unwrap();
        assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
        let (c, d) = (checked.config, Limits::default());
        assert_eq!(c.settings, Settings::default());
        assert_eq!(c.retention, RetentionPolicy::default());
        let l = &c.limits;
        assert_eq!(
            (l.max_connections, l.send_queue_frames, l.inbox_frames),
            (d.max_connections, d.send_queue_frames, d.inbox_frames)
        );
        assert_eq!(
            (l.recent_in_snapshot, l.max_replay_events),
            (d.recent_in_snapshot, d.max_replay_events)
        );
        assert_eq!(
            (l.idle_timeout, l.ping_interval, l.hello_timeout),
            (d.idle_timeout, d.ping_interval, d.hello_timeout)
        );
        assert_eq!(c.keys_dir, None);
    }

    #[test]
    fn shield_and_collect_keys_set_their_fields() {
        let checked = parse(
            "[shield]\nslow_mode_secs = 45\nhold_first_time_chatters = false\n\
             terms = [\"arnaq*\", \"gratos\"]\nregexes = ['\\bcode\\s*promo\\b']\n\
             action = \"block\"\nlinks = [\"maison.fr\"]\n\
             ban_recent_terms = [\"spam*\"]\nban_recent_minutes = 15\n\
             [collect]\nemail_opt_in = false\nsms_alerts = false\n",
        )
        .unwrap();
        assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
        let c = checked.config;
        assert_eq!(
            c.shield,
            ShieldPreset {
                slow_mode_secs: 45,
                hold_first_time_chatters: false,
                terms: vec!["arnaq*".into(), "gratos".into()],
                regexes: vec![r"\bcode\s*promo\b".into()],
                action: Action::Block,
                links: LinkPolicy::AllowList(vec!["maison.fr".into()]),
                ban_recent_terms: vec!["spam*".into()],
                ban_recent_minutes: 15,
            }
        );
        assert!(!c.settings.email_opt_in && !c.settings.sms_alerts);
        let links = |text: &str| parse(text).unwrap().config.shield.links;
        assert_eq!(links("[shield]\nlinks = \"all\"\n"), LinkPolicy::AllLinks);
        assert_eq!(links("[shield]\nlinks = \"none\"\n"), LinkPolicy::NoLinks);
        let summary = c.summary();
        assert!(
            summary.contains("shield: slow mode 45s, 2 terms, 1 regexes, links to 1 domains")
                && summary.contains("opt-ins: e-mail off, SMS alerts off"),
            "{summary}"
        );
    }

    #[test]
    fn bad_shield_and_collect_values_name_their_line_and_key() {
        for (text, line, key) in [
            ("[shield]\nslow_mode_secs = 0\n", 2, "shield.slow_mode_secs"),
            (
                "[shield]\nslow_mode_secs = 3601\n",
                2,
                "shield.slow_mode_secs",
            ),
            (
                "[shield]\nhold_first_time_chatters = \"yes\"\n",
                2,
                "shield.hold_first_time_chatters",
            ),
            ("[shield]\nterms = \"arnaque\"\n", 2, "shield.terms"),
            ("[shield]\nterms = [\"a*b\"]\n", 2, "shield.terms"),
            ("[shield]\nterms = [\" \"]\n", 2, "shield.terms"),
            ("[shield]\nregexes = [\"(\"]\n", 2, "shield.regexes"),
            ("[shield]\naction = \"flag\"\n", 2, "shield.action"),
            ("[shield]\nlinks = \"some\"\n", 2, "shield.links"),
            ("[shield]\nlinks = [\"not a domain\"]\n", 2, "shield.links"),
            (
                "[shield]\nban_recent_terms = [1]\n",
                2,
                "shield.ban_recent_terms",
            ),
            (
                "[shield]\nban_recent_minutes = 61\n",
                2,
                "shield.ban_recent_minutes",
            ),
            ("[collect]\nemail_opt_in = 1\n", 2, "collect.email_opt_in"),
            (
                "\n[collect]\nsms_alerts = \"no\"\n",
                3,
                "collect.sms_alerts",
            ),
            ("shield = true\n", 1, "shield"),
        ] {
            let err = parse(text).unwrap_err();
            let BrandError::Value { at, key: k, .. } = &err else {
                panic!("{text:?}: {err}");
            };
            assert_eq!((at.line, k.as_str()), (line, key), "{text:?}: {err}");
        }
        let checked = parse("[shield]\nslow_mode = 3\n[collect]\nphone = true\n").unwrap();
        let keys: Vec<&str> = checked.warnings.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["collect.phone", "shield.slow_mode"]);
    }

    #[test]
    fn the_documented_example_states_the_shield_and_collect_defaults() {
        let c = parse(include_str!("../docs/brand.toml")).unwrap().config;
        assert_eq!(c.shield, ShieldPreset::default());
        assert!(c.settings.email_opt_in && c.settings.sms_alerts);
        let (v, d) = (&c.viewers, ViewerPolicy::default());
        assert_eq!(v.new_identities_per_minute, d.new_identities_per_minute);
        assert_eq!(v.exempt_loopback, d.exempt_loopback);
        assert_eq!(v.trusted_proxies, d.trusted_proxies);
        assert!(v.token_secret.is_none());
    }

    #[test]
    fn the_documented_example_states_the_page_and_consent_defaults() {
        let c = parse(include_str!("../docs/brand.toml")).unwrap().config;
        assert_eq!(c.page, PageConfig::default());
        assert_eq!(c.consent, ConsentTexts::default());
    }

    #[test]
    fn durations_are_said_in_whole_units() {
        assert_eq!(said(Duration::from_secs(90 * 86_400)), "90d");
        assert_eq!(said(Duration::from_secs(6 * 3600)), "6h");
        assert_eq!(said(Duration::from_secs(90)), "90s");
        assert_eq!(said(Duration::from_secs(120)), "2m");
        assert_eq!(said(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn broken_toml_names_its_line() {
        let err = parse("[live]\nslow_mode_secs = = 3\n").unwrap_err();
        let BrandError::Syntax { at, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(at.line, 2, "{err}");
    }
}
