//! `history_search`: staff search the live's older chat, beyond what a
//! console keeps in its scrollback.
//!
//! What it can find is what the store still holds as a visible message:
//! a redaction or an erasure deletes the message's row (only the
//! tombstone, which has no text, stays), so no word of a redacted message
//! can be found again; held and hidden messages are left out too (the hold
//! queue lists the held ones; a hidden one was taken away on purpose).
//!
//! Matching is done here, in Rust, not with SQL `LIKE`: no wildcard to
//! escape, and the same folding as the moderation rules' detector view
//! ([`crate::privacy::normalize`]: accents, full-width forms and invisible
//! characters), then lower case, so "Livraison" finds "livráison" and
//! "ＬＩＶＲＡＩＳＯＮ". Every word of the query must appear in the text.
//!
//! A page reads at most [`SCAN_ROWS`] messages, newest first, so one search
//! never holds the live's session actor for long, whatever the size of the
//! live: a page can come back short (or empty) with a `next_before` to go on
//! from.

use crate::privacy::normalize;
use crate::protocol::{
    ChatMessage, Command, DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE, MAX_HISTORY_QUERY_CHARS,
    MessageId, Refusal, Visibility,
};

/// The most stored messages one page reads.
pub const SCAN_ROWS: usize = 20_000;

/// A `history_search` as the store runs it: folded words, where to start,
/// how many to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// The query's words, folded ([`fold`]); never empty.
    pub words: Vec<String>,
    /// Only messages older than this one (absent: from the newest).
    pub before: Option<MessageId>,
    pub limit: usize,
}

/// One page of results, newest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryPage {
    pub messages: Vec<ChatMessage>,
    /// The `before` of the next older page; `None` when the search reached
    /// the live's oldest message.
    pub next_before: Option<MessageId>,
}

/// The view of a text searches match on: folded, then lower case.
pub fn fold(text: &str) -> String {
    normalize::fold(text).text.to_lowercase()
}

impl HistoryQuery {
    /// The query a `history_search` command asks: an empty query, one over
    /// [`MAX_HISTORY_QUERY_CHARS`] characters or a limit outside 1 to
    /// [`MAX_HISTORY_PAGE`] is refused with a message saying so.
    pub fn of(command: &Command) -> Result<HistoryQuery, Refusal> {
        let Command::HistorySearch {
            query,
            before,
            limit,
        } = command
        else {
            return Err(Refusal::invalid("not a history_search command"));
        };
        let chars = query.chars().count();
        if chars > MAX_HISTORY_QUERY_CHARS {
            return Err(Refusal::invalid(format!(
                "the search has {chars} characters; the limit is {MAX_HISTORY_QUERY_CHARS}"
            )));
        }
        let words: Vec<String> = fold(&crate::privacy::sanitize(query))
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if words.is_empty() {
            return Err(Refusal::invalid("type a word to search for"));
        }
        let limit = limit.unwrap_or(DEFAULT_HISTORY_PAGE);
        if !(1..=MAX_HISTORY_PAGE).contains(&limit) {
            return Err(Refusal::invalid(format!(
                "a search page holds 1 to {MAX_HISTORY_PAGE} messages"
            )));
        }
        Ok(HistoryQuery {
            words,
            before: *before,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        })
    }

    /// Whether `message` is one this search returns: visible, and holding
    /// every word.
    pub fn matches(&self, message: &ChatMessage) -> bool {
        if message.visibility != Visibility::Visible {
            return false;
        }
        let text = fold(&message.text);
        self.words.iter().all(|w| text.contains(w.as_str()))
    }

    /// Runs the search over `scanned`: the stored messages older than
    /// `before`, newest first, of which at most [`SCAN_ROWS`] are read. A
    /// source that ends before the page is full and before the bound is
    /// the live's oldest message: no `next_before` then.
    pub fn page(&self, scanned: impl IntoIterator<Item = ChatMessage>) -> HistoryPage {
        let mut messages = Vec::new();
        let mut read = 0;
        let mut last = None;
        for m in scanned.into_iter().take(SCAN_ROWS) {
            read += 1;
            last = Some(m.id);
            if self.matches(&m) {
                messages.push(m);
                if messages.len() == self.limit {
                    break;
                }
            }
        }
        // A full page, or a bound reached: there may be older matches.
        let more = messages.len() == self.limit || read == SCAN_ROWS;
        HistoryPage {
            messages,
            next_before: last.filter(|_| more),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{chat_message, viewer_author};

    fn search(query: &str, limit: Option<u32>) -> Result<HistoryQuery, Refusal> {
        HistoryQuery::of(&Command::HistorySearch {
            query: query.into(),
            before: None,
            limit,
        })
    }

    fn msg(id: u64, text: &str) -> ChatMessage {
        chat_message(id, viewer_author("v1", "Julie", "lune"), text)
    }

    #[test]
    fn words_fold_case_and_accents_and_all_must_match() {
        let q = search("Livraison  BELGIQUE", None).unwrap();
        assert_eq!(q.words, ["livraison", "belgique"]);
        assert!(q.matches(&msg(1, "la livráison en Belgique ?")));
        assert!(q.matches(&msg(1, "ＬＩＶＲＡＩＳＯＮ belgique")));
        assert!(!q.matches(&msg(1, "livraison en France")));
        // No wildcard: `%` and `_` are letters like any other.
        let q = search("50%", None).unwrap();
        assert!(q.matches(&msg(1, "code -50% ce soir")));
        assert!(!q.matches(&msg(1, "code -500 ce soir")));
        let q = search("a_b", None).unwrap();
        assert!(!q.matches(&msg(1, "axb")));
    }

    #[test]
    fn held_and_hidden_messages_are_not_found() {
        let q = search("robe", None).unwrap();
        let mut hidden = msg(1, "la robe");
        hidden.visibility = Visibility::Hidden;
        assert!(!q.matches(&hidden));
        let mut held = msg(2, "la robe");
        held.visibility = Visibility::Held {
            reason: crate::protocol::HoldReason::PersonalData,
            rule_id: None,
        };
        assert!(!q.matches(&held));
    }

    #[test]
    fn bad_queries_are_refused_with_a_reason() {
        assert!(search("   ", None).is_err());
        assert!(search("\u{200b}\u{202e}", None).is_err(), "invisible only");
        assert!(search(&"a".repeat(MAX_HISTORY_QUERY_CHARS + 1), None).is_err());
        assert!(search("robe", Some(0)).is_err());
        assert!(search("robe", Some(MAX_HISTORY_PAGE + 1)).is_err());
        assert_eq!(
            search("robe", None).unwrap().limit,
            DEFAULT_HISTORY_PAGE as usize
        );
    }

    #[test]
    fn a_page_stops_at_its_limit_and_says_where_to_go_on() {
        let q = search("robe", Some(2)).unwrap();
        let stored: Vec<ChatMessage> = (1..=6)
            .rev()
            .map(|i| msg(i, if i % 2 == 0 { "robe" } else { "autre" }))
            .collect();
        let page = q.page(stored.clone());
        let ids: Vec<u64> = page.messages.iter().map(|m| m.id.0).collect();
        assert_eq!(ids, [6, 4]);
        assert_eq!(page.next_before, Some(MessageId(4)));
        // The last page: the source ended before the limit.
        let rest: Vec<ChatMessage> = stored.into_iter().filter(|m| m.id.0 < 4).collect();
        let page = q.page(rest);
        assert_eq!(page.messages.len(), 1);
        assert_eq!(page.next_before, None);
    }
}
