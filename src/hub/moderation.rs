//! The hub's use of the moderation engine on every viewer message, after
//! sanitising and before persisting: the live's rules
//! ([`crate::moderation`]) judge the line, and personal data is masked and
//! held. A **block** rule refuses the message (nobody else sees it), a
//! **hold** rule (or personal data) puts it in the hold queue, a **flag**
//! rule delivers it and marks it for staff.
//!
//! It stays here, thin, rather than in the engine: masking, the wire
//! names of rules ([`RuleView`]) and the protocol's `HoldReason` are the
//! hub's business; the engine is pure rules and knows neither.
//!
//! A live's rules start from the brand's defaults ([`DefaultRule`], the
//! `[rules]` keys of the brand file) and are then edited live
//! (`rule_add`, `rule_remove`); the session owns one [`Moderation`] and
//! the store keeps its rules (`store::rules`).
//!
//! Shield's stricter preset is not evaluated here: `hub::shield` runs its
//! own compiled [`RuleSet`] after this review, so that its holds and blocks
//! say they are Shield's.

use crate::moderation::{Action, LinkPolicy, Matcher, Rule, RuleError, RuleKind, RuleSet, Verdict};
use crate::privacy::{detect_personal_data, mask_detections};
use crate::protocol::{HoldReason, Millis, RuleAction, RuleFiring, RuleType, RuleView};

/// The longest rule pattern, in bytes: a term or a regex a moderator
/// types, or an allow-list of a few dozen domains.
pub const MAX_PATTERN_BYTES: usize = 1000;

/// A rule every new live starts with (the brand file's `[rules]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRule {
    pub kind: RuleType,
    pub pattern: String,
    pub action: RuleAction,
}

/// The outcome of reviewing one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The text to store and show: personal data already masked, so the raw
    /// number or address never reaches the store nor a screen.
    pub text: String,
    /// Why the message waits in the hold queue, if it does.
    pub hold: Option<HoldReason>,
    /// The rule that decided, if one fired: a block refuses the message,
    /// a flag delivers it marked for staff, a hold is `hold` above.
    pub verdict: Option<Verdict>,
}

/// The rules of one live, as written and compiled.
#[derive(Debug, Clone, Default)]
pub struct Moderation {
    views: Vec<RuleView>,
    rules: RuleSet,
}

/// The engine's action for a wire action.
pub fn engine_action(action: RuleAction) -> Action {
    match action {
        RuleAction::Block => Action::Block,
        RuleAction::Hold => Action::Hold,
        RuleAction::Flag => Action::Flag,
    }
}

/// The wire action of an engine action.
pub fn wire_action(action: Action) -> RuleAction {
    match action {
        Action::Block => RuleAction::Block,
        Action::Hold => RuleAction::Hold,
        Action::Flag => RuleAction::Flag,
    }
}

/// The wire kind of an engine rule kind.
pub fn wire_kind(kind: crate::moderation::RuleKind) -> RuleType {
    match kind {
        crate::moderation::RuleKind::Term => RuleType::Term,
        crate::moderation::RuleKind::Regex => RuleType::Regex,
        crate::moderation::RuleKind::Link => RuleType::LinkPolicy,
    }
}

/// A link policy as written: `none`, `all`, or domains separated by
/// spaces or commas (a rule's pattern, the brand file's `links` keys).
pub(crate) fn link_policy(pattern: &str) -> LinkPolicy {
    match pattern.trim().to_ascii_lowercase().as_str() {
        "none" => LinkPolicy::NoLinks,
        "all" => LinkPolicy::AllLinks,
        list => LinkPolicy::AllowList(
            list.split([',', ' '])
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    }
}

/// The engine rule a wire rule stands for.
pub fn engine_rule(view: &RuleView) -> Rule {
    let matcher = match view.kind {
        RuleType::Term => Matcher::Term(view.pattern.clone()),
        RuleType::Regex => Matcher::Regex(view.pattern.clone()),
        RuleType::LinkPolicy => Matcher::Links(link_policy(&view.pattern)),
    };
    Rule {
        expires_at: view.expires_at,
        ..Rule::new(view.rule_id, matcher, engine_action(view.action))
    }
}

/// Why a rule does not compile, without the id the engine numbered it
/// with (a rule being added or read from a brand file has none yet): the
/// regex parser's own message, the size limit, the bad domain.
pub fn refusal_text(e: &RuleError) -> String {
    match e {
        RuleError::Regex { message, .. } => format!("invalid regex: {message}"),
        RuleError::EmptyTerm { .. } => "the term is empty".to_owned(),
        RuleError::InnerWildcard { term, .. } => {
            format!("`*` may only start or end a term, as in `arnaq*` or `*naque` (got `{term}`)")
        }
        RuleError::BadDomain { domain, .. } => format!("`{domain}` is not a domain name"),
        other => other.to_string(),
    }
}

impl DefaultRule {
    /// Whether the rule compiles, as [`Moderation::add`] would check it.
    pub fn check(&self) -> Result<(), String> {
        let view = RuleView {
            rule_id: 1,
            kind: self.kind,
            pattern: self.pattern.clone(),
            action: self.action,
            expires_at: None,
            created_by: None,
            created_at: 0,
        };
        RuleSet::compile(vec![engine_rule(&view)])
            .map(drop)
            .map_err(|e| refusal_text(&e))
    }
}

impl Moderation {
    /// Compiles the blocked-terms list into hold rules (what a live starts
    /// with when the brand sets nothing else). Terms match as whole words
    /// (so "idiot" does not hold "idiotproof" and a brand name containing
    /// a short term stays clean), case-, accent-, width- and
    /// leetspeak-insensitively, with `*` wildcards at either end. Blank
    /// entries are ignored; a malformed one (`a*b`) is skipped with a
    /// warning rather than leaving the hub with no rules at all.
    pub fn new(blocked_terms: &[String]) -> Self {
        Self::from_views(Self::defaults(blocked_terms, &[], 0))
    }

    /// The rules a new live starts with: the blocked terms as hold rules,
    /// then the brand's other defaults, numbered from 1.
    pub fn defaults(blocked_terms: &[String], extra: &[DefaultRule], now: Millis) -> Vec<RuleView> {
        let terms = blocked_terms.iter().map(|t| DefaultRule {
            kind: RuleType::Term,
            pattern: t.clone(),
            action: RuleAction::Hold,
        });
        terms
            .chain(extra.iter().cloned())
            .filter(|r| !r.pattern.trim().is_empty())
            .zip(1u32..)
            .map(|(r, rule_id)| RuleView {
                rule_id,
                kind: r.kind,
                pattern: r.pattern,
                action: r.action,
                expires_at: None,
                created_by: None,
                created_at: now,
            })
            .collect()
    }

    /// The live's rules as stored. One that no longer compiles (a stored
    /// regex a newer build refuses) is skipped with a warning, so the
    /// others still apply.
    pub fn from_views(views: Vec<RuleView>) -> Self {
        let all: Vec<Rule> = views.iter().map(engine_rule).collect();
        if let Ok(rules) = RuleSet::compile(all) {
            return Self { views, rules };
        }
        let views: Vec<RuleView> = views
            .into_iter()
            .filter(|v| match RuleSet::compile(vec![engine_rule(v)]) {
                Ok(_) => true,
                Err(error) => {
                    tracing::warn!(%error, rule = v.rule_id, "moderation rule skipped");
                    false
                }
            })
            .collect();
        // Each rule compiled alone and ids are unique, so together they do too.
        let rules = RuleSet::compile(views.iter().map(engine_rule).collect()).unwrap_or_default();
        Self { views, rules }
    }

    /// The live's rules, oldest first (expired ones until [`Self::expire`]).
    pub fn rules(&self) -> &[RuleView] {
        &self.views
    }

    /// The id the next added rule gets.
    pub fn next_id(&self) -> u32 {
        self.views
            .iter()
            .map(|v| v.rule_id)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// Adds a rule: from the next message on, it applies. A rule that does
    /// not compile (an invalid or too large regex, a bad domain) is refused
    /// with the engine's message and changes nothing.
    pub fn add(&mut self, view: RuleView) -> Result<(), RuleError> {
        RuleSet::compile(vec![engine_rule(&view)])?;
        let mut all: Vec<Rule> = self.views.iter().map(engine_rule).collect();
        all.push(engine_rule(&view));
        self.rules = RuleSet::compile(all)?;
        self.views.push(view);
        Ok(())
    }

    /// Removes a rule; `None` when the live has no such rule.
    pub fn remove(&mut self, rule_id: u32) -> Option<RuleView> {
        let at = self.views.iter().position(|v| v.rule_id == rule_id)?;
        let removed = self.views.remove(at);
        self.recompile();
        Some(removed)
    }

    /// Removes and returns the rules that expired by `now`.
    pub fn expire(&mut self, now: Millis) -> Vec<RuleView> {
        let (gone, kept): (Vec<RuleView>, Vec<RuleView>) = std::mem::take(&mut self.views)
            .into_iter()
            .partition(|v| v.expires_at.is_some_and(|end| end <= now));
        self.views = kept;
        if !gone.is_empty() {
            self.recompile();
        }
        gone
    }

    fn recompile(&mut self) {
        // A subset of rules that compiled together compiles too.
        self.rules =
            RuleSet::compile(self.views.iter().map(engine_rule).collect()).unwrap_or_default();
    }

    /// Every rule that fires on `text` at `now`, the one that decides
    /// first, each with what it matched: the rules editor's test line.
    pub fn test(&self, text: &str, now: Millis) -> Vec<RuleFiring> {
        let decides = self.rules.evaluate(text, now);
        let mut all = self.rules.verdicts(text, now);
        all.sort_by_key(|v| (Some(v) != decides.as_ref(), v.span.start, v.rule));
        all.into_iter()
            .map(|v| RuleFiring {
                rule_id: v.rule.0,
                kind: wire_kind(v.kind),
                action: wire_action(v.action),
                matched: text.get(v.span.clone()).unwrap_or_default().to_owned(),
                start: v.span.start,
                end: v.span.end,
            })
            .collect()
    }

    /// Reviews an already sanitised viewer message at `now` (rules can
    /// expire). A block wins over personal data; personal data is held
    /// (masked) over a flag or another hold.
    pub fn review(&self, text: &str, now: Millis) -> Review {
        let verdict = self.rules.evaluate(text, now);
        if verdict.as_ref().is_some_and(|v| v.action == Action::Block) {
            return Review {
                text: text.to_owned(),
                hold: None,
                verdict,
            };
        }
        let detections = detect_personal_data(text);
        if !detections.is_empty() {
            return Review {
                text: mask_detections(text, &detections),
                hold: Some(HoldReason::PersonalData),
                verdict: None,
            };
        }
        let hold = verdict
            .as_ref()
            .filter(|v| v.action == Action::Hold)
            .map(|v| match v.kind {
                RuleKind::Term => HoldReason::BlockedTerm,
                RuleKind::Regex => HoldReason::RegexRule,
                RuleKind::Link => HoldReason::LinkPolicy,
            });
        Review {
            text: text.to_owned(),
            hold,
            verdict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Moderation {
        Moderation::new(&["idiot".to_string(), "enculé".to_string()])
    }

    impl Moderation {
        fn review_now(&self, text: &str) -> Review {
            self.review(text, 0)
        }
    }

    #[test]
    fn clean_text_is_visible_and_unchanged() {
        let r = rules().review_now("Elle existe en 38 ? 😍");
        assert_eq!(r.hold, None);
        assert_eq!(r.text, "Elle existe en 38 ? 😍");
    }

    #[test]
    fn phone_numbers_are_masked_and_held() {
        let r = rules().review_now("appelez moi au 06 12 34 56 78 svp");
        assert_eq!(r.hold, Some(HoldReason::PersonalData));
        assert!(!r.text.contains("12 34 56"), "{}", r.text);
        assert!(r.text.starts_with("appelez moi au "));
    }

    #[test]
    fn emails_are_masked_and_held() {
        let r = rules().review_now("écrivez à julie.martin@gmail.com");
        assert_eq!(r.hold, Some(HoldReason::PersonalData));
        assert!(!r.text.contains("julie.martin"), "{}", r.text);
    }

    #[test]
    fn blocked_terms_hold_whole_words_any_case() {
        assert_eq!(
            rules().review_now("quel IDIOT").hold,
            Some(HoldReason::BlockedTerm)
        );
        assert_eq!(
            rules().review_now("ENCULÉ !").hold,
            Some(HoldReason::BlockedTerm)
        );
        assert_eq!(rules().review_now("idiotproof design").hold, None);
        assert_eq!(rules().review_now("xidiot").hold, None);
        assert_eq!(
            rules().review_now("xidiot idiot").hold,
            Some(HoldReason::BlockedTerm)
        );
    }

    #[test]
    fn blocked_terms_match_folded_spellings_and_wildcards() {
        let rules = Moderation::new(&["arnaq*".to_string(), "idiot".to_string()]);
        for text in [
            "c'est une Arnaque",
            "ARNAQUÉ",
            "ＡＲＮＡＱＵＥ",
            "arn4que",
            "1d10t",
        ] {
            assert_eq!(
                rules.review_now(text).hold,
                Some(HoldReason::BlockedTerm),
                "{text}"
            );
        }
        assert_eq!(
            rules.review_now("pas d'arnaque ici").hold,
            Some(HoldReason::BlockedTerm)
        );
        assert_eq!(rules.review_now("quelle belle robe").hold, None);
    }

    #[test]
    fn a_malformed_term_is_skipped_and_the_others_still_apply() {
        let rules = Moderation::new(&["a*b".to_string(), "idiot".to_string()]);
        assert_eq!(rules.review_now("a*b").hold, None);
        assert_eq!(
            rules.review_now("idiot").hold,
            Some(HoldReason::BlockedTerm)
        );
    }

    fn view(rule_id: u32, kind: RuleType, pattern: &str, action: RuleAction) -> RuleView {
        RuleView {
            rule_id,
            kind,
            pattern: pattern.into(),
            action,
            expires_at: None,
            created_by: None,
            created_at: 0,
        }
    }

    #[test]
    fn block_wins_over_personal_data_and_flag_delivers_with_its_verdict() {
        let rules = Moderation::from_views(vec![
            view(1, RuleType::Term, "arnaque", RuleAction::Block),
            view(2, RuleType::Term, "livraison", RuleAction::Flag),
        ]);
        let r = rules.review_now("arnaque, appelez le 06 12 34 56 78");
        assert_eq!(r.hold, None);
        assert_eq!(
            r.verdict.map(|v| (v.rule.0, v.action)),
            Some((1, Action::Block))
        );
        let r = rules.review_now("la livraison ?");
        assert_eq!(r.hold, None);
        assert_eq!(r.verdict.map(|v| v.action), Some(Action::Flag));
        // Personal data is held over a flag, and masked.
        let r = rules.review_now("livraison au 06 12 34 56 78");
        assert_eq!(r.hold, Some(HoldReason::PersonalData));
        assert!(!r.text.contains("12 34 56"));
    }

    #[test]
    fn rules_are_added_removed_and_expire_and_a_bad_one_changes_nothing() {
        let mut rules = Moderation::default();
        assert_eq!(rules.next_id(), 1);
        rules
            .add(RuleView {
                expires_at: Some(1_000),
                ..view(1, RuleType::Term, "soldes", RuleAction::Block)
            })
            .expect("a valid term");
        assert!(rules.review("soldes", 999).verdict.is_some());
        let err = rules
            .add(view(2, RuleType::Regex, "(x", RuleAction::Hold))
            .expect_err("an invalid regex");
        assert!(refusal_text(&err).starts_with("invalid regex: "), "{err}");
        assert_eq!(rules.rules().len(), 1);
        assert_eq!(rules.next_id(), 2);
        assert_eq!(rules.expire(999), []);
        assert_eq!(rules.expire(1_000).len(), 1);
        assert!(rules.rules().is_empty());
        assert_eq!(rules.review("soldes", 0).verdict, None);
        assert_eq!(rules.remove(1), None);
    }

    #[test]
    fn the_brand_defaults_number_from_one_hold_terms_first() {
        let extra = [DefaultRule {
            kind: RuleType::LinkPolicy,
            pattern: "none".into(),
            action: RuleAction::Block,
        }];
        let views = Moderation::defaults(&["idiot".into(), " ".into()], &extra, 42);
        let got: Vec<(u32, RuleType, RuleAction)> = views
            .iter()
            .map(|v| (v.rule_id, v.kind, v.action))
            .collect();
        assert_eq!(
            got,
            [
                (1, RuleType::Term, RuleAction::Hold),
                (2, RuleType::LinkPolicy, RuleAction::Block)
            ]
        );
        assert!(
            views
                .iter()
                .all(|v| v.created_at == 42 && v.created_by.is_none())
        );
    }

    #[test]
    fn an_empty_list_blocks_nothing() {
        assert_eq!(Moderation::new(&[]).review_now("idiot").hold, None);
        assert_eq!(
            Moderation::new(&[" ".into()]).review_now("idiot").hold,
            None
        );
    }
}
