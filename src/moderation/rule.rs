//! What a brand writes: one rule is a matcher, an action and an optional
//! expiry. Parsing is checked here, so a bad rule is refused with a clear,
//! typed error before anything is compiled.

use crate::protocol::Millis;

use super::links::LinkPolicy;

/// A rule's identity, stable across edits, so a verdict can name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);

/// What happens to a message a rule matches.
///
/// Ordered by severity: when several rules fire, the strongest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Delivered, and marked for staff.
    Flag,
    /// Waits for a moderator.
    Hold,
    /// The sender is told; nobody else sees it.
    Block,
}

/// What a rule looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// A blocked term, matched as a whole word on the folded view (case,
    /// accents, width, leetspeak). A `*` at the start and/or the end lets
    /// the word go on that side: `arnaq*`, `*naque`, `*naq*`.
    Term(String),
    /// A regular expression (the `regex` crate's syntax), matched
    /// case-insensitively on the text as the viewer typed it (sanitised),
    /// so it means exactly what its author wrote.
    Regex(String),
    /// Links the policy does not allow.
    Links(LinkPolicy),
}

/// The kind of a matcher, for a verdict to say which sort of rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    Term,
    Regex,
    Link,
}

impl Matcher {
    pub fn kind(&self) -> RuleKind {
        match self {
            Self::Term(_) => RuleKind::Term,
            Self::Regex(_) => RuleKind::Regex,
            Self::Links(_) => RuleKind::Link,
        }
    }
}

/// One moderation rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: RuleId,
    pub matcher: Matcher,
    pub action: Action,
    /// When the rule stops applying (like Twitch's 1 h / 1 day / 7 days);
    /// `None` is permanent. A rule applies while `now < expires_at`.
    pub expires_at: Option<Millis>,
}

impl Rule {
    /// A permanent rule.
    pub fn new(id: u32, matcher: Matcher, action: Action) -> Self {
        Self {
            id: RuleId(id),
            matcher,
            action,
            expires_at: None,
        }
    }

    /// The same rule, ending at `at` (milliseconds since the epoch).
    #[must_use]
    pub fn expiring_at(mut self, at: Millis) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Whether the rule still applies at `now`.
    pub fn is_active(&self, now: Millis) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }
}

/// Why a rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("rule {id}: the term is empty")]
    EmptyTerm { id: u32 },
    #[error(
        "rule {id}: `*` may only start or end a term, as in `arnaq*` or `*naque` (got `{term}`)"
    )]
    InnerWildcard { id: u32, term: String },
    /// The regex parser's own message, or its size-limit message.
    #[error("rule {id}: invalid regex: {message}")]
    Regex { id: u32, message: String },
    #[error("rule {id}: `{domain}` is not a domain name")]
    BadDomain { id: u32, domain: String },
    #[error("rule id {id} is used twice")]
    DuplicateId { id: u32 },
    /// Only past limits no real list reaches (the crates' own message).
    #[error("the rules do not fit in one matcher: {0}")]
    TooLarge(String),
}

/// A term split into its word and its wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TermPattern {
    /// The word, wildcards removed, not yet folded.
    pub(crate) word: String,
    /// `*word`: the word may have letters before it.
    pub(crate) open_start: bool,
    /// `word*`: the word may have letters after it.
    pub(crate) open_end: bool,
}

impl TermPattern {
    pub(crate) fn parse(id: u32, term: &str) -> Result<Self, RuleError> {
        let term = term.trim();
        let (open_start, rest) = term.strip_prefix('*').map_or((false, term), |r| (true, r));
        let (open_end, word) = rest.strip_suffix('*').map_or((false, rest), |r| (true, r));
        if word.contains('*') {
            return Err(RuleError::InnerWildcard {
                id,
                term: term.to_owned(),
            });
        }
        if word.trim().is_empty() {
            return Err(RuleError::EmptyTerm { id });
        }
        Ok(Self {
            word: word.trim().to_owned(),
            open_start,
            open_end,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_open_either_side_and_nowhere_else() {
        let p = TermPattern::parse(1, "arnaq*").expect("prefix");
        assert_eq!(
            (p.word.as_str(), p.open_start, p.open_end),
            ("arnaq", false, true)
        );
        let p = TermPattern::parse(1, "*naq*").expect("infix");
        assert_eq!(
            (p.word.as_str(), p.open_start, p.open_end),
            ("naq", true, true)
        );
        assert!(matches!(
            TermPattern::parse(2, "ar*que"),
            Err(RuleError::InnerWildcard { id: 2, .. })
        ));
        assert_eq!(
            TermPattern::parse(3, " * "),
            Err(RuleError::EmptyTerm { id: 3 })
        );
        assert_eq!(
            TermPattern::parse(3, "**"),
            Err(RuleError::EmptyTerm { id: 3 })
        );
    }

    #[test]
    fn a_rule_applies_until_its_expiry_and_not_after() {
        let rule = Rule::new(1, Matcher::Term("x".into()), Action::Hold).expiring_at(1_000);
        assert!(rule.is_active(999));
        assert!(!rule.is_active(1_000));
        assert!(Rule::new(1, Matcher::Term("x".into()), Action::Hold).is_active(i64::MAX));
    }
}
