//! The hub's use of the moderation engine on every viewer message, after
//! sanitising and before persisting: personal data is masked and held
//! first, then the live's rules ([`crate::moderation`]) judge the line.
//! Held messages reach staff only, until a moderator releases them.
//!
//! It stays here, thin, rather than in the engine: masking and the
//! protocol's `HoldReason` are the hub's business; the engine is pure
//! rules and knows neither.
//!
//! Today the hub compiles its blocked-terms list into hold rules only.
//! The engine's block and flag actions need protocol frames (a refusal
//! for the sender, a staff-only mark) and are not wired yet.

use crate::moderation::{Action, Matcher, Rule, RuleSet};
use crate::privacy::{detect_personal_data, mask_detections};
use crate::protocol::{HoldReason, Millis};

/// The outcome of reviewing one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The text to store and show: personal data already masked, so the raw
    /// number or address never reaches the store nor a screen.
    pub text: String,
    /// Why the message waits in the hold queue, if it does.
    pub hold: Option<HoldReason>,
}

/// The compiled rules of one hub.
#[derive(Debug, Clone, Default)]
pub struct Moderation {
    rules: RuleSet,
}

impl Moderation {
    /// Compiles the blocked-terms list into hold rules. Terms match as
    /// whole words (so "idiot" does not hold "idiotproof" and a brand name
    /// containing a short term stays clean), case-, accent-, width- and
    /// leetspeak-insensitively, with `*` wildcards at either end. Blank
    /// entries are ignored; a malformed one (`a*b`) is skipped with a
    /// warning rather than leaving the hub with no rules at all.
    pub fn new(blocked_terms: &[String]) -> Self {
        let mut rules = Vec::new();
        for term in blocked_terms.iter().filter(|t| !t.trim().is_empty()) {
            let id = u32::try_from(rules.len()).unwrap_or(u32::MAX);
            let rule = Rule::new(id, Matcher::Term(term.clone()), Action::Hold);
            match RuleSet::compile(vec![rule.clone()]) {
                Ok(_) => rules.push(rule),
                Err(error) => tracing::warn!(%error, "blocked term skipped"),
            }
        }
        // Each rule compiled alone, so together they do too.
        let rules = RuleSet::compile(rules).unwrap_or_default();
        Self { rules }
    }

    /// Reviews an already sanitised viewer message at `now` (rules can
    /// expire).
    pub fn review(&self, text: &str, now: Millis) -> Review {
        let detections = detect_personal_data(text);
        if !detections.is_empty() {
            return Review {
                text: mask_detections(text, &detections),
                hold: Some(HoldReason::PersonalData),
            };
        }
        let hold = self
            .rules
            .evaluate(text, now)
            .map(|verdict| match verdict.action {
                // The hub builds hold rules only (see the module doc).
                Action::Hold | Action::Block | Action::Flag => HoldReason::BlockedTerm,
            });
        Review {
            text: text.to_owned(),
            hold,
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

    #[test]
    fn an_empty_list_blocks_nothing() {
        assert_eq!(Moderation::new(&[]).review_now("idiot").hold, None);
        assert_eq!(
            Moderation::new(&[" ".into()]).review_now("idiot").hold,
            None
        );
    }
}
