//! The viewer card and its staff-only moderation notes (`note_add`), and
//! the staff log read (`staff_log`): what staff did to viewers.
//!
//! A note is decided here like any command (cleaned, bounded, on a viewer
//! the live knows) and stored in the decision's commit; it makes no event,
//! since no client but the card's reader needs it. The audit record says
//! who noted whom, never the note's text, so erasing the note (with the
//! viewer, or at the end of its retention period) leaves nothing of it.

use super::{Decision, History, Principal, Refusal, Reply, Session};
use crate::privacy::{grapheme_count, sanitize};
use crate::protocol::{Command, Millis, ModNote, ViewerId, permissions};
use crate::store::NoteWrite;

/// The longest note, in graphemes: a line or two, not a file.
const MAX_NOTE_GRAPHEMES: usize = 500;

impl Session {
    /// `viewer_card` (the actor reads the card), `note_add`, and
    /// `staff_log` (the actor reads the page: what staff did to viewers).
    pub(super) fn viewer_card_work(
        &mut self,
        who: &Principal,
        command: &Command,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        match command {
            Command::ViewerCard { viewer_id } => Ok(Decision::reply(Reply::ViewerCard {
                viewer_id: viewer_id.clone(),
                with_contact: permissions::sees_contact(who.role()),
            })),
            Command::NoteAdd { viewer_id, text } => {
                self.add_note(who, viewer_id, text, history, now)
            }
            Command::StaffLog { .. } => crate::store::StaffLogQuery::of(command)
                .map(|q| Decision::reply(Reply::StaffLog(q))),
            other => Err(Refusal::invalid(format!(
                "{} is not about a viewer card",
                other.kind().name()
            ))),
        }
    }

    fn add_note(
        &mut self,
        who: &Principal,
        viewer: &ViewerId,
        raw: &str,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let clean = sanitize(raw);
        let text = clean.trim();
        if text.is_empty() {
            return Err(Refusal::invalid("a note cannot be empty"));
        }
        let n = grapheme_count(text);
        if n > MAX_NOTE_GRAPHEMES {
            return Err(Refusal::invalid(format!(
                "the note has {n} characters; the limit is {MAX_NOTE_GRAPHEMES}"
            )));
        }
        self.known_viewer(viewer, history)?;
        let mut d = Decision::reply(Reply::Ack { seq: None });
        d.note = Some(NoteWrite {
            viewer_id: viewer.clone(),
            note: ModNote {
                at: now,
                by: Self::actor(who),
                text: text.to_owned(),
            },
        });
        d.audit = Self::audit(who, "note_add", &viewer.0, "", now);
        Ok(d)
    }
}
