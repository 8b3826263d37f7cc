//! The feed filter typed after `/`: words are matched in the text (case
//! insensitive), `from:NAME` matches the author's first name or pseudonym,
//! `is:question` and `is:held` match markers. All terms must match.

use crate::protocol::{ChatEntry, Visibility};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Text(String),
    From(String),
    IsQuestion,
    IsHeld,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    raw: String,
    terms: Vec<Term>,
}

impl Filter {
    pub fn parse(raw: &str) -> Filter {
        let terms = raw
            .split_whitespace()
            .map(|word| {
                let lower = word.to_lowercase();
                if let Some(name) = lower.strip_prefix("from:") {
                    Term::From(name.to_string())
                } else if lower == "is:question" {
                    Term::IsQuestion
                } else if lower == "is:held" {
                    Term::IsHeld
                } else {
                    Term::Text(lower)
                }
            })
            .collect();
        Filter {
            raw: raw.trim().to_string(),
            terms,
        }
    }

    /// What the user typed, for the feed's title.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn matches(&self, entry: &ChatEntry) -> bool {
        let ChatEntry::Message(m) = entry else {
            // A tombstone has no text, author name or markers left to match.
            return self.terms.is_empty();
        };
        self.terms.iter().all(|t| match t {
            Term::Text(word) => m.text.to_lowercase().contains(word.as_str()),
            Term::From(name) => {
                let display = m.author.display_name().to_lowercase();
                display.starts_with(name.as_str())
                    || matches!(&m.author, crate::protocol::Author::Viewer { pseudonym, .. }
                        if pseudonym.to_lowercase().starts_with(name.as_str()))
            }
            Term::IsQuestion => m.question,
            Term::IsHeld => matches!(m.visibility, Visibility::Held { .. }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ChatMessage, HoldReason};
    use crate::testing::{chat_message, viewer_author};

    fn m(name: &str, text: &str, question: bool, held: bool) -> ChatEntry {
        ChatEntry::Message(ChatMessage {
            question,
            visibility: if held {
                Visibility::Held {
                    reason: HoldReason::PersonalData,
                    rule_id: None,
                }
            } else {
                Visibility::Visible
            },
            ..chat_message(1, viewer_author("v", name, "lune"), text)
        })
    }

    #[test]
    fn terms_combine() {
        let f = Filter::parse("from:jul is:question taille");
        assert!(f.matches(&m("Julie", "Quelle TAILLE ?", true, false)));
        assert!(!f.matches(&m("Julie", "Quelle taille ?", false, false)));
        assert!(!f.matches(&m("Marc", "Quelle taille ?", true, false)));
        assert!(Filter::parse("from:lune").matches(&m("Julie", "x", false, false)));
        assert!(Filter::parse("is:held").matches(&m("Marc", "x", false, true)));
    }
}
