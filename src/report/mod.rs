//! The post-live report (issue 14): anonymous, aggregated figures of one
//! live, computed from what the store holds, that cannot be traced back to
//! a viewer.
//!
//! # Design
//!
//! - [`ReportInput`] is what the store hands over (`Store::report_input`):
//!   facts without names, texts or contact data. A viewer appears only as a
//!   dense index ([`Viewer`]) the store assigns for this computation alone,
//!   so no stored id reaches this module's output.
//! - [`compute::figures`] is pure: the same input gives the same
//!   [`Figures`] (every map is a `BTreeMap`, every ratio is rounded to a
//!   fixed number of decimals), and so the same bytes once rendered.
//! - [`suppress::publish`] turns figures into a [`Report`]: every cell
//!   backed by fewer than k distinct viewers is withheld, and further cells
//!   are withheld so that a withheld one cannot be solved from a total
//!   (complementary suppression).
//! - [`render`] writes the terminal table and the JSON (schema in
//!   `docs/report.md`); [`chart`] the timeline chart (SVG and PNG).
//!
//! A report is *pending* until [`FINAL_AFTER_MS`] after the live ended
//! (late events may still arrive), *final* after.

pub mod chart;
pub mod compute;
pub mod render;
pub mod suppress;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::protocol::Millis;

/// How long after the live's end the report becomes final.
pub const FINAL_AFTER_MS: Millis = 60_000;

/// The smallest and largest k a brand may configure (`[report] k`).
pub const K_RANGE: std::ops::RangeInclusive<u32> = 2..=11;

/// k when the brand sets none.
pub const DEFAULT_K: u32 = 5;

/// One timeline bucket's width.
pub const MINUTE_MS: Millis = 60_000;

/// The attribution rule the commerce figures follow, stated in the report.
pub const ATTRIBUTION: &str = "shop events carrying the pass or viewer token of a viewer of \
     this live, within 30 days of the live's end";

/// How long after the live a shop event still counts (see [`ATTRIBUTION`]).
pub const ATTRIBUTION_WINDOW_MS: Millis = 30 * 24 * 3600 * 1000;

/// A viewer within one computation: an index, not a stored id.
pub type Viewer = u32;

/// A validated k (`[report] k`, 2 to 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct K(u32);

/// A k outside [`K_RANGE`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("report k must be between 2 and 11 (got {0})")]
pub struct BadK(pub u32);

impl K {
    pub fn new(k: u32) -> Result<Self, BadK> {
        if K_RANGE.contains(&k) {
            Ok(Self(k))
        } else {
            Err(BadK(k))
        }
    }

    pub fn get(self) -> u64 {
        u64::from(self.0)
    }
}

impl Default for K {
    fn default() -> Self {
        Self(DEFAULT_K)
    }
}

impl TryFrom<u32> for K {
    type Error = BadK;
    fn try_from(k: u32) -> Result<Self, BadK> {
        Self::new(k)
    }
}

impl From<K> for u32 {
    fn from(k: K) -> u32 {
        k.0
    }
}

/// The live as the report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveWindow {
    pub name: String,
    pub started_at: Option<Millis>,
    pub ended_at: Option<Millis>,
}

/// One stretch of a viewer's presence (a connection from join to leave;
/// `left_at` is `None` when the hub stopped before the leave was stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceSpan {
    pub viewer: Viewer,
    pub joined_at: Millis,
    pub left_at: Option<Millis>,
}

/// One viewer message (staff answers are not chat figures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageFact {
    pub at: Millis,
    pub author: Viewer,
    pub question: bool,
    /// When it was marked answered, for a question that stands answered.
    pub answered_at: Option<Millis>,
}

/// One moderation action, on whom, by which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationFact {
    /// `held`, `flagged`, `approved`, `denied`, `expired`, `hidden`,
    /// `redacted`, `timeout`, `ban`.
    pub action: &'static str,
    /// `rule 3`, or the hold reason when no rule held it (`personal_data`).
    pub rule: Option<String>,
    pub viewer: Option<Viewer>,
}

/// A poll's or an instant win's participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GameFact {
    pub id: u64,
    pub participants: Vec<Viewer>,
}

/// What a shop event was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShopKind {
    ProductView,
    AddToCart,
    Order,
}

/// One attributed shop event (content-free: amount, currency, products).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopFact {
    pub at: Millis,
    pub viewer: Viewer,
    pub kind: ShopKind,
    /// In minor units (cents).
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    pub products: Vec<u32>,
}

/// Everything the report is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    pub live: LiveWindow,
    /// The clock when the report is computed (pending or final).
    pub now: Millis,
    pub presence: Vec<PresenceSpan>,
    pub messages: Vec<MessageFact>,
    pub moderation: Vec<ModerationFact>,
    pub polls: Vec<GameFact>,
    pub instant_wins: Vec<GameFact>,
    pub shop: Vec<ShopFact>,
}

/// A figure with the number of distinct viewers behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cell {
    pub value: u64,
    pub viewers: u64,
}

impl Cell {
    pub fn new(value: u64, viewers: u64) -> Self {
        Self { value, viewers }
    }
}

/// Whether the figures may still change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// The live is on air, or ended less than a minute ago: final at `final_at`
    /// (absent while on air).
    Pending {
        #[serde(skip_serializing_if = "Option::is_none")]
        final_at: Option<Millis>,
    },
    Final,
}

/// One minute of the timeline, before suppression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MinuteFigures {
    /// Peak concurrent viewers within the minute.
    pub viewers: Cell,
    pub messages: Cell,
    pub questions: Cell,
    pub add_to_cart: Cell,
}

/// Every figure of a live, before suppression. Holds counts only (no id,
/// name or text): this is what a brand may keep after retention.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Figures {
    pub live: String,
    pub started_at: Millis,
    pub ended_at: Millis,
    pub length_ms: Millis,
    pub status: Option<Status>,

    pub peak_concurrent: Cell,
    /// Time-weighted, rounded to two decimals.
    pub average_concurrent: f64,
    pub unique_viewers: Cell,
    pub total_watch_ms: Cell,
    pub average_watch_ms: u64,

    pub messages: Cell,
    pub chatters: Cell,
    pub questions_asked: Cell,
    pub questions_answered: Cell,
    pub answer_delay_p50_ms: Option<u64>,
    pub answer_delay_p90_ms: Option<u64>,

    /// Every moderation action (the sum of `moderation_by_action`).
    pub moderation_actions: Cell,
    pub moderation_by_action: BTreeMap<String, Cell>,
    pub moderation_by_rule: BTreeMap<String, Cell>,

    /// Voters per poll, by poll id.
    pub polls: BTreeMap<u64, Cell>,
    /// Entrants per instant win, by draw id.
    pub instant_wins: BTreeMap<u64, Cell>,

    pub product_views: Cell,
    pub add_to_cart_viewers: Cell,
    /// Add-to-cart events (items put in a cart).
    pub carts: Cell,
    pub orders: Cell,
    pub buyers: Cell,
    /// Revenue in minor units, by currency.
    pub revenue: BTreeMap<String, Cell>,
    /// Whether the commerce figures may still change: pending until the
    /// attribution window has closed ([`compute::commerce_status`]).
    /// Set when read, like `status`; not frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commerce_status: Option<Status>,
    /// Frozen while the attribution window was still open: the commerce
    /// figures are counted again from the shop events and the audience
    /// kept until it closes (`Store::sweep`). Absent in figures frozen
    /// whole.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub commerce_open: bool,

    pub timeline: Vec<MinuteFigures>,
}

/// A published figure: `None` is withheld (fewer than k viewers, or a
/// complement of one that is).
pub type Shown = Option<u64>;

/// The published report: what leaves the hub. See `docs/report.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    pub live: String,
    pub status: Status,
    pub k: K,
    pub started_at: Millis,
    pub ended_at: Millis,
    pub length_ms: Millis,
    pub audience: Audience,
    pub chat: Chat,
    pub moderation: Moderation,
    pub games: Games,
    pub commerce: Commerce,
    pub timeline: Vec<Minute>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audience {
    pub peak_concurrent: Shown,
    pub average_concurrent: Option<f64>,
    pub unique_viewers: Shown,
    pub total_watch_ms: Shown,
    pub average_watch_ms: Shown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    pub messages: Shown,
    pub chatters: Shown,
    /// Chatters ÷ unique viewers, four decimals.
    pub engagement: Option<f64>,
    pub questions_asked: Shown,
    pub questions_answered: Shown,
    pub answer_delay_p50_ms: Shown,
    pub answer_delay_p90_ms: Shown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moderation {
    pub actions: Shown,
    pub by_action: BTreeMap<String, Shown>,
    pub by_rule: BTreeMap<String, Shown>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Games {
    pub poll_votes: Shown,
    pub polls: BTreeMap<String, Shown>,
    pub instant_win_entries: Shown,
    pub instant_wins: BTreeMap<String, Shown>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commerce {
    pub attribution: String,
    /// Pending until the attribution window has closed (the rest of the
    /// report is final a minute after the end): later orders still count.
    pub status: Status,
    pub product_views: Shown,
    pub add_to_cart_viewers: Shown,
    pub carts: Shown,
    pub orders: Shown,
    /// Minor units, by currency.
    pub revenue: BTreeMap<String, Shown>,
    /// Average order value in minor units, one currency only (else absent).
    pub average_order_value: Shown,
    /// Buyers ÷ unique viewers, four decimals.
    pub conversion: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minute {
    pub minute: u64,
    pub viewers: Shown,
    pub messages: Shown,
    pub questions: Shown,
    pub add_to_cart: Shown,
}

/// Why no report can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("live {0:?} has not started: there is nothing to report yet")]
    NotStarted(String),
}

/// Rounds a ratio to `decimals` places, so the JSON bytes are stable.
pub(crate) fn rounded(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// What the store can compute a report from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The live's facts, from the event log and presence records.
    Log(Box<ReportInput>),
    /// The figures frozen when retention swept the live's chat and
    /// presence (`Store::sweep`): counts only, final.
    Frozen(Box<Figures>),
}

impl Source {
    /// The figures, computed or frozen.
    pub fn figures(&self) -> Result<Figures, ReportError> {
        match self {
            Source::Log(input) => compute::figures(input),
            Source::Frozen(f) => Ok((**f).clone()),
        }
    }
}
