//! The chat feed: bounded scrollback with an id index, so redacting,
//! hiding or answering a message is a lookup, not a scan. Tombstones stay in
//! place of the messages they replace. Each entry carries a revision that
//! changes whenever its text does, so the view's layout cache
//! (`view::FeedView`) knows when to wrap it again.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;

use crate::protocol::{Author, ChatEntry, ChatMessage, MessageId, Tombstone, ViewerId, Visibility};

use super::filter::Filter;
use super::wrap::wrap;

/// Default number of messages kept.
pub const DEFAULT_SCROLLBACK: usize = 50_000;

/// A feed position: a counter that never repeats, so positions stay valid
/// (or clearly stale) while old entries are evicted from the front.
pub type Pos = u64;

#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub entry: ChatEntry,
    revision: u64,
}

/// An entry's text as drawn: sanitised again (defence in depth) and wrapped.
#[derive(Debug, Clone)]
pub struct Layout {
    pub width: u16,
    pub text: Box<str>,
    pub lines: Vec<Range<u32>>,
}

impl Layout {
    /// `text` wrapped to `width` cells.
    pub fn new(text: String, width: u16) -> Layout {
        // Byte offsets in one message, far below 4 GiB (a frame is bounded).
        let offset = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let lines = wrap(&text, usize::from(width))
            .into_iter()
            .map(|r| offset(r.start)..offset(r.end))
            .collect();
        Layout {
            width,
            text: text.into_boxed_str(),
            lines,
        }
    }

    pub fn line(&self, i: usize) -> &str {
        let r = &self.lines[i];
        &self.text[r.start as usize..r.end as usize]
    }
}

impl FeedEntry {
    /// Changes whenever the entry does; unique across the feed's life.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn id(&self) -> MessageId {
        self.entry.id()
    }

    pub fn message(&self) -> Option<&ChatMessage> {
        match &self.entry {
            ChatEntry::Message(m) => Some(m),
            ChatEntry::Redacted(_) => None,
        }
    }
}

/// Who shares a first name, so the feed shows pseudonyms only when needed.
#[derive(Debug, Clone, Default)]
struct NameBook {
    names: HashMap<String, (ViewerId, bool)>,
}

impl NameBook {
    fn note(&mut self, author: &Author) {
        if let Author::Viewer {
            viewer_id,
            first_name,
            ..
        } = author
        {
            match self.names.get_mut(first_name) {
                Some((first, shared)) => {
                    if !*shared && first != viewer_id {
                        *shared = true;
                    }
                }
                None => {
                    self.names
                        .insert(first_name.clone(), (viewer_id.clone(), false));
                }
            }
        }
    }

    /// A first name the hub says is shared (in a snapshot).
    fn mark_shared(&mut self, first_name: &str) {
        match self.names.get_mut(first_name) {
            Some((_, shared)) => *shared = true,
            None => {
                // Any id: a shared name stays shared.
                self.names
                    .insert(first_name.to_owned(), (ViewerId(String::new()), true));
            }
        }
    }

    fn is_shared(&self, first_name: &str) -> bool {
        self.names.get(first_name).is_some_and(|(_, s)| *s)
    }
}

#[derive(Debug, Clone)]
pub struct Feed {
    entries: VecDeque<FeedEntry>,
    /// Position of `entries[0]`.
    first: Pos,
    index: HashMap<MessageId, Pos>,
    capacity: usize,
    filter: Option<Filter>,
    /// Positions matching the filter, ascending. Only kept while filtering.
    matching: Vec<Pos>,
    names: NameBook,
    /// The last revision handed out (never reset, not even by `clear`).
    revision: u64,
}

impl Feed {
    pub fn new(capacity: usize) -> Self {
        Feed {
            entries: VecDeque::new(),
            first: 0,
            index: HashMap::new(),
            capacity: capacity.max(1),
            filter: None,
            matching: Vec::new(),
            names: NameBook::default(),
            revision: 0,
        }
    }

    /// How many entries the scrollback keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn next_revision(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    /// Drops everything (a `reload`); the filter stays.
    pub fn clear(&mut self) {
        self.first += self.entries.len() as Pos;
        self.entries.clear();
        self.index.clear();
        self.matching.clear();
        self.names = NameBook::default();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an entry at the end, or replaces it in place when its id is
    /// already here (a replay overlapping what we have). Returns true when
    /// it was new. Evicts the oldest entry past the capacity.
    pub fn push(&mut self, entry: ChatEntry) -> bool {
        if let ChatEntry::Message(m) = &entry {
            self.names.note(&m.author);
        }
        let id = entry.id();
        if let Some(pos) = self.index.get(&id).copied() {
            let revision = self.next_revision();
            if let Some(slot) = self.slot_mut(pos) {
                slot.entry = entry;
                slot.revision = revision;
            }
            return false;
        }
        let pos = self.first + self.entries.len() as Pos;
        let matches = self.filter.as_ref().is_some_and(|f| f.matches(&entry));
        let revision = self.next_revision();
        self.entries.push_back(FeedEntry { entry, revision });
        self.index.insert(id, pos);
        if matches {
            self.matching.push(pos);
        }
        while self.entries.len() > self.capacity {
            if let Some(old) = self.entries.pop_front() {
                self.index.remove(&old.id());
            }
            self.first += 1;
        }
        if self.filter.is_some() && self.matching.first().is_some_and(|&p| p < self.first) {
            let keep_from = self.matching.partition_point(|&p| p < self.first);
            self.matching.drain(..keep_from);
        }
        true
    }

    pub fn pos_of(&self, id: MessageId) -> Option<Pos> {
        self.index.get(&id).copied()
    }

    pub fn get(&self, id: MessageId) -> Option<&FeedEntry> {
        self.pos_of(id).and_then(|p| self.at(p))
    }

    pub fn message(&self, id: MessageId) -> Option<&ChatMessage> {
        self.get(id).and_then(FeedEntry::message)
    }

    pub fn at(&self, pos: Pos) -> Option<&FeedEntry> {
        pos.checked_sub(self.first)
            .and_then(|i| self.entries.get(usize::try_from(i).ok()?))
    }

    fn slot_mut(&mut self, pos: Pos) -> Option<&mut FeedEntry> {
        pos.checked_sub(self.first)
            .and_then(|i| self.entries.get_mut(usize::try_from(i).ok()?))
    }

    /// Relabels a rectified viewer's lines and the answers addressed to
    /// them (each changed line a new revision, so it is wrapped again).
    pub fn relabel(
        &mut self,
        viewer: &crate::protocol::ViewerId,
        first_name: Option<&str>,
        pseudonym: Option<&str>,
    ) {
        let changed = crate::protocol::relabel_all(
            self.entries.iter_mut().filter_map(|e| match &mut e.entry {
                ChatEntry::Message(m) => Some(m),
                ChatEntry::Redacted(_) => None,
            }),
            viewer,
            first_name,
            pseudonym,
        );
        for id in changed {
            let revision = self.next_revision();
            let Some(pos) = self.pos_of(id) else { continue };
            let author = self.slot_mut(pos).and_then(|slot| {
                slot.revision = revision;
                match &slot.entry {
                    ChatEntry::Message(m) => Some(m.author.clone()),
                    ChatEntry::Redacted(_) => None,
                }
            });
            if let Some(author) = author {
                self.names.note(&author);
            }
        }
    }

    /// Changes a message in place (answered, hidden, released) (a new
    /// revision). Returns false when the id is not (or no longer) here.
    pub fn update_message(&mut self, id: MessageId, change: impl FnOnce(&mut ChatMessage)) -> bool {
        let Some(pos) = self.pos_of(id) else {
            return false;
        };
        let revision = self.next_revision();
        let Some(slot) = self.slot_mut(pos) else {
            return false;
        };
        match &mut slot.entry {
            ChatEntry::Message(m) => {
                change(m);
                slot.revision = revision;
                true
            }
            ChatEntry::Redacted(_) => false,
        }
    }

    /// Replaces a message with its tombstone, in place. The text is dropped
    /// here. Redacting twice is a no-op.
    pub fn redact(&mut self, tombstone: &Tombstone) {
        let revision = self.next_revision();
        if let Some(pos) = self.pos_of(tombstone.message_id)
            && let Some(slot) = self.slot_mut(pos)
        {
            slot.entry = ChatEntry::Redacted(tombstone.clone());
            slot.revision = revision;
        }
    }

    /// Replaces every message of an erased viewer with the tombstone
    /// `tombstone` makes for it, and drops the quoted name from replies to
    /// them. Returns the erased messages' ids.
    pub fn erase_author(
        &mut self,
        viewer: &ViewerId,
        tombstone: impl Fn(&ChatMessage) -> Tombstone,
    ) -> Vec<MessageId> {
        let mut erased = Vec::new();
        for slot in &mut self.entries {
            if let ChatEntry::Message(m) = &slot.entry
                && m.author.viewer_id() == Some(viewer)
            {
                erased.push(m.id);
                slot.entry = ChatEntry::Redacted(tombstone(m));
            }
        }
        for slot in &mut self.entries {
            if let ChatEntry::Message(m) = &mut slot.entry {
                for r in m.replies_to_mut() {
                    if erased.contains(&r.message_id) {
                        r.first_name.clear();
                    }
                }
            }
        }
        if !erased.is_empty() {
            let revision = self.next_revision();
            for slot in &mut self.entries {
                slot.revision = revision;
            }
        }
        erased
    }

    /// Whether the feed should show `first_name`'s pseudonym: two viewers
    /// posted under it in this live. The hub's snapshot says which names
    /// were shared when this console joined ([`Feed::mark_shared`]); the
    /// messages since then add to it by the hub's own rule, so every
    /// console decides the same, whenever it joined.
    pub fn name_is_shared(&self, first_name: &str) -> bool {
        self.names.is_shared(first_name)
    }

    /// Notes first names the hub lists as shared (a snapshot's
    /// `shared_names`).
    pub fn mark_shared<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for name in names {
            self.names.mark_shared(name);
        }
    }

    // ── the view: all entries, or those matching the filter ───────────────

    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    pub fn set_filter(&mut self, filter: Option<Filter>) {
        self.matching.clear();
        if let Some(f) = &filter {
            let first = self.first;
            self.matching = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| f.matches(&e.entry))
                .map(|(i, _)| first + i as Pos)
                .collect();
        }
        self.filter = filter;
    }

    /// Number of entries in the view.
    pub fn view_len(&self) -> usize {
        if self.filter.is_some() {
            self.matching.len()
        } else {
            self.entries.len()
        }
    }

    /// The position of the `k`th entry of the view.
    pub fn view_pos(&self, k: usize) -> Option<Pos> {
        if self.filter.is_some() {
            self.matching.get(k).copied()
        } else if k < self.entries.len() {
            Some(self.first + k as Pos)
        } else {
            None
        }
    }

    /// The view index of `pos`, or of the nearest entry after it when it is
    /// not in the view (evicted, or filtered out).
    pub fn view_index(&self, pos: Pos) -> usize {
        if self.filter.is_some() {
            self.matching.partition_point(|&p| p < pos)
        } else {
            usize::try_from(pos.saturating_sub(self.first)).unwrap_or(usize::MAX)
        }
        .min(self.view_len().saturating_sub(1))
    }

    pub fn last_view_pos(&self) -> Option<Pos> {
        self.view_len()
            .checked_sub(1)
            .and_then(|k| self.view_pos(k))
    }

    /// The nearest entry older (`older`) or newer than `from` that
    /// `matches`, over the whole feed, filtered out or not; from the newest
    /// end when `from` is `None` (then nothing is newer).
    pub fn find(
        &self,
        from: Option<Pos>,
        older: bool,
        matches: impl Fn(&ChatEntry) -> bool,
    ) -> Option<Pos> {
        let len = self.entries.len();
        let at = from.map_or(len, |p| {
            usize::try_from(p.saturating_sub(self.first))
                .unwrap_or(usize::MAX)
                .min(len)
        });
        let hit = |i: &usize| matches(&self.entries[*i].entry);
        let found = if older {
            (0..at).rev().find(hit)
        } else if from.is_none() {
            None
        } else {
            (at.saturating_add(1)..len).find(hit)
        };
        found.map(|i| self.first + i as Pos)
    }

    /// Iterates over the view's entries, oldest first.
    pub fn view_iter(&self) -> impl DoubleEndedIterator<Item = &FeedEntry> + '_ {
        let filtered = self.filter.is_some();
        let all = self.entries.iter().filter(move |_| !filtered);
        let matching = self
            .matching
            .iter()
            .filter(move |_| filtered)
            .filter_map(|&p| self.at(p));
        all.chain(matching)
    }
}

/// Whether an entry is a held message (for `is:held` and the hold queue).
pub fn is_held(entry: &ChatEntry) -> bool {
    matches!(
        entry,
        ChatEntry::Message(ChatMessage {
            visibility: Visibility::Held { .. },
            ..
        })
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Actor, StaffRole};
    use crate::testing::{chat_message, viewer_author};

    fn msg(id: u64, name: &str, vid: &str, text: &str) -> ChatEntry {
        let author = viewer_author(vid, name, &format!("{name}-{vid}"));
        ChatEntry::Message(chat_message(id, author, text))
    }

    #[test]
    fn bounded_and_indexed() {
        let mut feed = Feed::new(3);
        for i in 1..=5 {
            assert!(feed.push(msg(i, "Julie", "v1", "hi")));
        }
        assert_eq!(feed.len(), 3);
        assert!(feed.get(MessageId(2)).is_none());
        assert_eq!(feed.get(MessageId(5)).unwrap().id(), MessageId(5));
        assert!(
            !feed.push(msg(5, "Julie", "v1", "again")),
            "same id replaces"
        );
        assert_eq!(feed.len(), 3);
    }

    #[test]
    fn redaction_replaces_in_place() {
        let mut feed = Feed::new(10);
        feed.push(msg(1, "Julie", "v1", "call me 0612345678"));
        feed.push(msg(2, "Marc", "v2", "nice"));
        let t = Tombstone {
            message_id: MessageId(1),
            posted_at: 0,
            redacted_at: 1,
            author_id: Some(ViewerId("v1".into())),
            reason: "at the viewer's request".into(),
            by: Actor {
                name: Some("Sam".into()),
                role: StaffRole::Support,
            },
        };
        feed.redact(&t);
        feed.redact(&t);
        assert!(matches!(
            feed.at(feed.pos_of(MessageId(1)).unwrap()).unwrap().entry,
            ChatEntry::Redacted(_)
        ));
        assert_eq!(feed.view_pos(0), feed.pos_of(MessageId(1)));
    }

    #[test]
    fn filter_view_follows_pushes_and_evictions() {
        let mut feed = Feed::new(4);
        feed.push(msg(1, "Julie", "v1", "hello"));
        feed.push(msg(2, "Marc", "v2", "hi"));
        feed.set_filter(Some(Filter::parse("from:julie")));
        assert_eq!(feed.view_len(), 1);
        feed.push(msg(3, "Julie", "v1", "again"));
        assert_eq!(feed.view_len(), 2);
        for i in 4..=7 {
            feed.push(msg(i, "Marc", "v2", "x"));
        }
        assert_eq!(feed.view_len(), 0, "julie's lines were evicted");
        feed.set_filter(None);
        assert_eq!(feed.view_len(), 4);
    }

    #[test]
    fn find_walks_the_whole_feed_both_ways() {
        let mut feed = Feed::new(10);
        for (i, text) in ["robe", "x", "robe verte", "y", "z"].iter().enumerate() {
            feed.push(msg(i as u64 + 1, "Julie", "v1", text));
        }
        feed.set_filter(Some(Filter::parse("from:nobody")));
        let robe = Filter::parse("robe");
        let is_robe = |e: &ChatEntry| robe.matches(e);
        let newest = feed.find(None, true, is_robe).unwrap();
        assert_eq!(
            feed.at(newest).unwrap().id(),
            MessageId(3),
            "filtered out, still found"
        );
        let older = feed.find(Some(newest), true, is_robe).unwrap();
        assert_eq!(feed.at(older).unwrap().id(), MessageId(1));
        assert_eq!(feed.find(Some(older), true, is_robe), None);
        assert_eq!(feed.find(Some(older), false, is_robe), Some(newest));
        assert_eq!(feed.find(Some(newest), false, is_robe), None);
        assert_eq!(feed.find(None, false, is_robe), None);
    }

    #[test]
    fn a_name_the_hub_lists_as_shared_stays_shared() {
        let mut feed = Feed::new(10);
        feed.push(msg(1, "Julie", "v1", "a"));
        feed.mark_shared(["Julie", "Marc"]);
        assert!(feed.name_is_shared("Julie"));
        feed.push(msg(2, "Marc", "v2", "b"));
        assert!(feed.name_is_shared("Marc"), "one more Marc keeps it shared");
        assert!(!feed.name_is_shared("Anaïs"));
    }

    #[test]
    fn shared_first_names_are_noticed() {
        let mut feed = Feed::new(10);
        feed.push(msg(1, "Julie", "v1", "a"));
        feed.push(msg(2, "Julie", "v1", "b"));
        assert!(!feed.name_is_shared("Julie"));
        feed.push(msg(3, "Julie", "v9", "c"));
        assert!(feed.name_is_shared("Julie"));
    }
}
