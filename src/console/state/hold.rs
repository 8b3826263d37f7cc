//! The console's side of the hold queue (issue 10): deny the selected held
//! message, mark several with `space` and approve the marked ones at once.
//!
//! A batch approval sends one `release` per marked message rather than one
//! batch command: each then has its own ack or refusal (a message another
//! moderator handled meanwhile is refused alone, the rest go through), its
//! own audit record, and a retry stays idempotent per message.

use super::{Console, Effect, Pane, selected_message};
use crate::console::keymap::Action;
use crate::protocol::{Command, Visibility};

/// Runs [`Action::Deny`], [`Action::HoldMark`] and [`Action::ApproveMarked`].
pub(super) fn on_action(state: &mut Console, action: Action) -> Vec<Effect> {
    match action {
        Action::Deny => deny(state),
        Action::HoldMark => {
            toggle_mark(state);
            Vec::new()
        }
        Action::ApproveMarked => approve_marked(state),
        _ => Vec::new(),
    }
}

/// Denies the selected message, which must be held: viewers never saw it,
/// so it is erased without asking for a reason (the hub records "denied by
/// a moderator").
fn deny(state: &mut Console) -> Vec<Effect> {
    let Some(m) = selected_message(state) else {
        return Vec::new();
    };
    if !matches!(m.visibility, Visibility::Held { .. }) {
        state.note(
            format!(
                "{} is not held; only held messages are denied",
                state.describe(m.id)
            ),
            true,
        );
        return Vec::new();
    }
    state.hold_marks.remove(&m.id);
    let summary = format!("deny {}{}", state.describe(m.id), state.claim_suffix(m.id));
    vec![state.send(
        Command::Deny {
            message_id: m.id,
            reason: None,
        },
        summary,
    )]
}

fn toggle_mark(state: &mut Console) {
    if state.focus != Pane::Hold {
        state.note("marks are for the hold queue: focus it first (tab)", true);
        return;
    }
    let Some(id) = state.held_sel.or_else(|| state.held.first().map(|m| m.id)) else {
        state.note("nothing held", false);
        return;
    };
    if !state.hold_marks.remove(&id) {
        state.hold_marks.insert(id);
    }
    state.dirty = true;
}

/// One `release` per marked message still in the queue, oldest first.
fn approve_marked(state: &mut Console) -> Vec<Effect> {
    let marked: Vec<_> = state
        .held
        .iter()
        .filter(|m| state.hold_marks.contains(&m.id))
        .map(|m| m.id)
        .collect();
    state.hold_marks.clear();
    if marked.is_empty() {
        state.note(
            "mark held messages with space first, then approve them all",
            true,
        );
        return Vec::new();
    }
    marked
        .into_iter()
        .map(|id| {
            let summary = format!("release {}{}", state.describe(id), state.claim_suffix(id));
            state.send(Command::Release { message_id: id }, summary)
        })
        .collect()
}
