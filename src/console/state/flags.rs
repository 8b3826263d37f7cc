//! The console's side of viewer flags (issue 12): `f` on a viewer's line
//! opens the flag popup; every staff console marks the flagged viewer's
//! lines with the flag's colour and shows the note on their card, until
//! the hub lifts or expires the flag. An erased viewer's flag goes.

use super::claims::GRACE_MILLIS;
use super::{Console, Effect, about_viewer, selected_author};
use crate::console::popups::Popup;
use crate::console::popups::flag::FlagForm;
use crate::protocol::{Author, Event, Millis, ViewerFlag, ViewerId};

impl Console {
    /// The flag in force on `viewer`, if any.
    pub fn flag_on(&self, viewer: &ViewerId) -> Option<&ViewerFlag> {
        self.flags
            .get(viewer)
            .filter(|f| self.now == 0 || f.until.saturating_add(GRACE_MILLIS) > self.now)
    }

    /// The flag on the author of a line, if they are a flagged viewer.
    pub fn flag_of(&self, author: &Author) -> Option<&ViewerFlag> {
        author.viewer_id().and_then(|v| self.flag_on(v))
    }

    pub(super) fn forget_stale_flags(&mut self, now: Millis) {
        let before = self.flags.len();
        self.flags
            .retain(|_, f| f.until.saturating_add(GRACE_MILLIS) > now);
        if self.flags.len() != before {
            self.dirty = true;
        }
    }
}

/// `viewer_flagged` and `viewer_unflagged`, logged in Staff activity
/// without the note.
pub(super) fn on_flag_event(state: &mut Console, at: Millis, event: Event) {
    match event {
        Event::ViewerFlagged {
            viewer_id,
            colour,
            note,
            until,
            by,
        } => {
            let what = about_viewer(
                state,
                "flagged",
                &viewer_id,
                &format!(" {}", colour.as_str()),
            );
            state.log_activity(at, Some(by.clone()), what);
            state.flags.insert(
                viewer_id.clone(),
                ViewerFlag {
                    viewer_id,
                    colour,
                    note,
                    until,
                    by,
                },
            );
        }
        Event::ViewerUnflagged { viewer_id, by } => {
            if state.flags.remove(&viewer_id).is_some()
                && let Some(by) = by
            {
                let what = about_viewer(state, "lifted the flag on", &viewer_id, "");
                state.log_activity(at, Some(by), what);
            }
        }
        _ => {}
    }
}

/// `f`: the flag popup for the selected line's author, with the flag in
/// force (which it offers to lift).
pub(super) fn open(state: &mut Console) -> Vec<Effect> {
    if let Some((viewer_id, name)) = selected_author(state) {
        let current = state.flag_on(&viewer_id).cloned();
        state.popup = Some(Popup::Flag(FlagForm::new(viewer_id, name, current)));
    }
    Vec::new()
}
