//! Pause and position: `z` freezes the chat from any pane (the selected line
//! stays still while the feed floods, the "N new ↓ G" badge counts what came
//! since), `z` again or `G` follows again. The feed's title shows where the
//! selection is (`1,204/50,000`); every pane not focused counts what arrived
//! since it last had the focus.
//!
//! Memory stays bounded as before: pausing keeps no copy of anything, the
//! feed still evicts its oldest lines past the scrollback (a paused
//! selection that is evicted moves to the oldest line kept).

use super::{Console, FeedScroll, Pane, follow};
use crate::console::notify::{Reason, mentions};
use crate::console::permissions;
use crate::protocol::{Author, ChatMessage, Visibility};

/// What arrived in each pane since it last had the focus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unread {
    pub feed: u64,
    pub questions: u64,
    pub hold: u64,
    pub activity: u64,
}

impl Unread {
    /// The count a pane's title shows (0 shows nothing).
    pub fn of(&self, pane: Pane) -> u64 {
        match pane {
            Pane::Feed => self.feed,
            Pane::Questions => self.questions,
            Pane::Hold => self.hold,
            Pane::Activity => self.activity,
        }
    }

    fn slot(&mut self, pane: Pane) -> &mut u64 {
        match pane {
            Pane::Feed => &mut self.feed,
            Pane::Questions => &mut self.questions,
            Pane::Hold => &mut self.hold,
            Pane::Activity => &mut self.activity,
        }
    }

    /// One more in `pane`, unless it has the focus (its user sees it come).
    pub fn bump(&mut self, pane: Pane, focus: Pane) {
        if pane != focus {
            let n = self.slot(pane);
            *n = n.saturating_add(1);
        }
    }

    /// The focused pane's count starts again from zero.
    pub fn seen(&mut self, pane: Pane) {
        *self.slot(pane) = 0;
    }
}

/// `z`: pauses the chat on its newest line, or follows it again.
pub(super) fn toggle(state: &mut Console) {
    if !state.scroll.follow {
        follow(state);
        return;
    }
    let Some(last) = state.feed.last_view_pos() else {
        state.note("nothing to pause yet: the chat is empty", false);
        return;
    };
    state.scroll = FeedScroll {
        follow: false,
        selected: Some(last),
        bottom: Some(last),
    };
}

/// Where the feed's view stands, for its title: the selected line's place
/// (1-based) and the lines in the view. `None` while following.
pub fn position(state: &Console) -> Option<(usize, usize)> {
    if state.scroll.follow {
        return None;
    }
    let len = state.feed.view_len();
    let at = state
        .scroll
        .selected
        .or(state.scroll.bottom)
        .map_or(len, |p| state.feed.view_index(p) + 1);
    Some((at.min(len), len))
}

/// A new message from the hub: counted in the panes it lands in, and
/// perhaps a notification.
pub(super) fn on_message(state: &mut Console, m: &ChatMessage, new_in_feed: bool) {
    if !new_in_feed {
        return;
    }
    let focus = state.focus;
    let held = matches!(m.visibility, Visibility::Held { .. });
    let question = m.question && !m.answered;
    let sees_hold = permissions::sees_hold_queue(state.role());
    state.unread.bump(Pane::Feed, focus);
    if question {
        state.unread.bump(Pane::Questions, focus);
    }
    if held && sees_hold {
        state.unread.bump(Pane::Hold, focus);
    }
    // The mention check reads the text: only when something may notify.
    if !state.notify.enabled() {
        return;
    }
    let own = matches!(&m.author, Author::Staff { name, .. } if *name == state.session.name);
    let reason = if held && sees_hold {
        Some(Reason::Held)
    } else if question && !held {
        Some(Reason::Question)
    } else if !own && !held && mentions(&m.text, &state.session.name) {
        Some(Reason::Mention)
    } else {
        None
    };
    if let Some(reason) = reason {
        let (live, now) = (state.session.live.clone(), state.now);
        state.notify.note(reason, &live, now);
    }
}
