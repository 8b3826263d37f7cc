//! Staff messages (issue 12): `i` opens the input line to post in the chat
//! as staff, `I` to post an announcement, which every client shows apart
//! (and which `p` pins like any line). The hub permits staff `say`; an
//! announcement is a `say` with `announcement` set, refused to viewers.

use crossterm::event::KeyEvent;

use super::{Console, Effect};
use crate::console::input::{Edit, LineEditor};
use crate::protocol::Command;

/// A staff message being typed in the input line (no reply target).
#[derive(Debug, Clone)]
pub struct StaffPost {
    pub announcement: bool,
    pub editor: LineEditor,
}

/// Opens the input line for a staff message or an announcement.
pub(super) fn open(state: &mut Console, announcement: bool) -> Vec<Effect> {
    state.compose = None;
    state.staff_post = Some(StaffPost {
        announcement,
        editor: LineEditor::default(),
    });
    Vec::new()
}

/// The line editor's keys: Enter posts, Esc cancels, ↑/↓ the history.
pub(super) fn on_key(state: &mut Console, key: KeyEvent) -> Vec<Effect> {
    let Some(post) = state.staff_post.as_mut() else {
        return Vec::new();
    };
    match post.editor.handle_key(&key) {
        Edit::Submit => send(state),
        Edit::Cancel => {
            state.staff_post = None;
            Vec::new()
        }
        Edit::HistoryPrev => {
            state.history.prev(&mut post.editor);
            Vec::new()
        }
        Edit::HistoryNext => {
            state.history.next(&mut post.editor);
            Vec::new()
        }
        Edit::Changed | Edit::Ignored => Vec::new(),
    }
}

fn send(state: &mut Console) -> Vec<Effect> {
    let Some(post) = state.staff_post.as_ref() else {
        return Vec::new();
    };
    let text = post.editor.text().trim().to_string();
    let announcement = post.announcement;
    if text.is_empty() {
        state.staff_post = None;
        return Vec::new();
    }
    if super::refuse_too_long(state, &text) {
        return Vec::new();
    }
    state.history.push(&text);
    state.staff_post = None;
    let summary = if announcement {
        "post the announcement"
    } else {
        "post in the chat as staff"
    };
    vec![state.send(
        Command::Say {
            text,
            question: false,
            announcement,
        },
        summary.to_string(),
    )]
}
