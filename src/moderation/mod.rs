//! The moderation rules engine: pure, no I/O. A brand's rules (blocked
//! terms with wildcards, regexes, a link policy), each with an action and
//! an optional expiry, compiled once into a [`RuleSet`] that judges one
//! chat line in microseconds and says which rule fired, and where.
//!
//! | module | what it does |
//! |---|---|
//! | [`rule`] | [`Rule`], [`Matcher`], [`Action`], [`RuleError`]: what a brand writes |
//! | [`engine`] | [`RuleSet`]: the compiled rules; [`Verdict`]: which rule fired and why |
//! | [`links`] | [`LinkPolicy`]: URLs and bare domains, with an allow-list |
//! | `fold` | the view terms match on: case, accents, width and leetspeak folded |
//!
//! The hub's use of it (a live's rules from the brand's defaults, edited
//! live; block over personal data over hold and flag) is `hub::moderation`.

pub mod engine;
mod fold;
pub mod links;
pub mod rule;

pub use engine::{RuleSet, Verdict};
pub use links::LinkPolicy;
pub use rule::{Action, Matcher, Rule, RuleError, RuleId, RuleKind};
