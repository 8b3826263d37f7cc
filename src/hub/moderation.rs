//! Moderation rules applied to every viewer message after sanitising and
//! before persisting: personal data is masked and held, blocked terms are
//! held. Held messages reach staff only, until a moderator releases them.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::privacy::{detect_personal_data, mask_detections};
use crate::protocol::HoldReason;

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
#[derive(Debug, Clone)]
pub struct Moderation {
    blocked: Option<AhoCorasick>,
}

impl Moderation {
    /// Compiles the blocked-terms list. Terms match case-insensitively (for
    /// ASCII letters) and as whole words, so "idiot" does not hold
    /// "idiotproof" and a brand name containing a short term stays clean.
    pub fn new(blocked_terms: &[String]) -> Self {
        let terms: Vec<String> = blocked_terms
            .iter()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        let blocked = if terms.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&terms)
                .ok()
        };
        Self { blocked }
    }

    /// Reviews an already sanitised viewer message.
    pub fn review(&self, text: &str) -> Review {
        let detections = detect_personal_data(text);
        if !detections.is_empty() {
            return Review {
                text: mask_detections(text, &detections),
                hold: Some(HoldReason::PersonalData),
            };
        }
        let hold = self
            .has_blocked_term(text)
            .then_some(HoldReason::BlockedTerm);
        Review {
            text: text.to_owned(),
            hold,
        }
    }

    /// Whether a blocked term occurs as a whole word. After each match the
    /// search restarts one character later, so a term hidden behind a longer
    /// non-word match ("xidiot idiot") is still found.
    fn has_blocked_term(&self, text: &str) -> bool {
        let Some(ac) = &self.blocked else {
            return false;
        };
        // Lower-casing first lets accented capitals ("ENCULÉ") match too;
        // the automaton itself only folds ASCII.
        let lower = text.to_lowercase();
        let mut from = 0;
        while let Some(m) = ac.find(aho_corasick::Input::new(&lower).range(from..)) {
            if is_word_boundary(&lower, m.start(), m.end()) {
                return true;
            }
            from = m.start() + lower[m.start()..].chars().next().map_or(1, char::len_utf8);
        }
        false
    }
}

fn is_word_boundary(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Moderation {
        Moderation::new(&["idiot".to_string(), "enculé".to_string()])
    }

    #[test]
    fn clean_text_is_visible_and_unchanged() {
        let r = rules().review("Elle existe en 38 ? 😍");
        assert_eq!(r.hold, None);
        assert_eq!(r.text, "Elle existe en 38 ? 😍");
    }

    #[test]
    fn phone_numbers_are_masked_and_held() {
        let r = rules().review("appelez moi au 06 12 34 56 78 svp");
        assert_eq!(r.hold, Some(HoldReason::PersonalData));
        assert!(!r.text.contains("12 34 56"), "{}", r.text);
        assert!(r.text.starts_with("appelez moi au "));
    }

    #[test]
    fn emails_are_masked_and_held() {
        let r = rules().review("écrivez à julie.martin@gmail.com");
        assert_eq!(r.hold, Some(HoldReason::PersonalData));
        assert!(!r.text.contains("julie.martin"), "{}", r.text);
    }

    #[test]
    fn blocked_terms_hold_whole_words_any_case() {
        assert_eq!(
            rules().review("quel IDIOT").hold,
            Some(HoldReason::BlockedTerm)
        );
        assert_eq!(
            rules().review("ENCULÉ !").hold,
            Some(HoldReason::BlockedTerm)
        );
        assert_eq!(rules().review("idiotproof design").hold, None);
        assert_eq!(rules().review("xidiot").hold, None);
        assert_eq!(
            rules().review("xidiot idiot").hold,
            Some(HoldReason::BlockedTerm)
        );
    }

    #[test]
    fn an_empty_list_blocks_nothing() {
        assert_eq!(Moderation::new(&[]).review("idiot").hold, None);
        assert_eq!(Moderation::new(&[" ".into()]).review("idiot").hold, None);
    }
}
