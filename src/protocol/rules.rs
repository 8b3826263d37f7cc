//! A live's moderation rules as they travel: what `rule_add` asks for, what
//! `rules` lists and what `rule_test` answers. Staff only: no frame a viewer
//! receives carries a rule (see [`super::Event::for_role`]).
//!
//! The engine that applies them is `crate::moderation`; these are its wire
//! names, kept here so the protocol depends on nothing but itself.

use serde::{Deserialize, Serialize};

use super::types::{Actor, Millis};

/// What a rule looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleType {
    /// A blocked term (whole word, `*` opens either end), matched on the
    /// folded text: case, accents, width and leetspeak.
    Term,
    /// A regular expression (the `regex` crate's syntax, case-insensitive).
    Regex,
    /// Links: `none` (no link allowed), `all` (every link allowed) or an
    /// allow-list of domains, separated by spaces or commas.
    LinkPolicy,
}

impl RuleType {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleType::Term => "term",
            RuleType::Regex => "regex",
            RuleType::LinkPolicy => "link_policy",
        }
    }
}

/// What happens to a message a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// The sender is refused (`blocked`); nobody else sees it.
    Block,
    /// It waits in the hold queue for a moderator.
    Hold,
    /// Delivered to everyone; staff also get `message_flagged`.
    Flag,
}

impl RuleAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Block => "block",
            RuleAction::Hold => "hold",
            RuleAction::Flag => "flag",
        }
    }
}

/// One rule of a live, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleView {
    pub rule_id: u32,
    pub kind: RuleType,
    /// As its author wrote it (sanitised when added).
    pub pattern: String,
    pub action: RuleAction,
    /// When it stops applying, on the live's clock; absent is permanent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Millis>,
    /// Who added it; absent for the brand's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Actor>,
    pub created_at: Millis,
}

/// A rule that fires on a tested sentence, and why: what it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFiring {
    pub rule_id: u32,
    pub kind: RuleType,
    pub action: RuleAction,
    /// The matched part of the sentence, and its byte offsets in it.
    pub matched: String,
    pub start: usize,
    pub end: usize,
}
