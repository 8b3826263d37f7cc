//! Viewer flags (issue 12): a colour and an optional note on a viewer,
//! shared by every staff console until it expires (10 minutes unless the
//! flag says otherwise), as Chatterino's moderators asked.
//!
//! Flags are staff only and live in memory: a restarted hub starts with
//! none. The events are numbered and stored like any other staff-only
//! event, so the store's erasure blanks their note (`store::sqlite`,
//! `erase_viewer`), and the viewer's erasure drops the flag here without
//! an event of its own: every console drops it on `viewer_erased`.

use super::{Decision, History, Principal, Refusal, Session};
use crate::privacy::{grapheme_count, sanitize_name};
use crate::protocol::{
    Command, DEFAULT_FLAG_MINUTES, Event, FlagColour, MAX_FLAG_MINUTES, MAX_FLAG_NOTE_GRAPHEMES,
    Millis, ViewerFlag, ViewerId,
};

impl Session {
    /// The flags in force, by viewer id (a staff snapshot lists them).
    pub(super) fn flags_in_force(&self) -> Vec<ViewerFlag> {
        self.flags.values().cloned().collect()
    }

    /// The viewer was erased: their flag goes, note and all.
    pub(super) fn forget_flag(&mut self, viewer: &ViewerId) {
        self.flags.remove(viewer);
    }

    /// `flag_viewer` and `unflag_viewer`.
    pub(super) fn flag_command(
        &mut self,
        who: &Principal,
        command: &Command,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        match command {
            Command::FlagViewer {
                viewer_id,
                colour,
                note,
                minutes,
            } => self.flag_viewer(who, viewer_id, *colour, note, *minutes, history, now),
            Command::UnflagViewer { viewer_id } => self.unflag_viewer(who, viewer_id, now),
            other => Err(Refusal::invalid(format!(
                "{} is not a viewer flag",
                other.kind().name()
            ))),
        }
    }

    /// Flags a viewer of this live; a new flag replaces the one before.
    /// Audited without the note, like a moderation note.
    #[expect(
        clippy::too_many_arguments,
        reason = "the command's fields, unpacked once"
    )]
    fn flag_viewer(
        &mut self,
        who: &Principal,
        viewer: &ViewerId,
        colour: FlagColour,
        note: &str,
        minutes: Option<u32>,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let minutes = minutes.unwrap_or(DEFAULT_FLAG_MINUTES);
        if minutes == 0 || minutes > MAX_FLAG_MINUTES {
            return Err(Refusal::invalid(format!(
                "a flag lasts 1 to {MAX_FLAG_MINUTES} minutes"
            )));
        }
        let note = sanitize_name(note, MAX_FLAG_NOTE_GRAPHEMES + 1);
        let n = grapheme_count(&note);
        if n > MAX_FLAG_NOTE_GRAPHEMES {
            return Err(Refusal::invalid(format!(
                "a flag's note has at most {MAX_FLAG_NOTE_GRAPHEMES} characters"
            )));
        }
        self.known_viewer(viewer, history)?;
        let by = Self::actor(who);
        let until = now.saturating_add(i64::from(minutes) * 60_000);
        let flag = ViewerFlag {
            viewer_id: viewer.clone(),
            colour,
            note,
            until,
            by,
        };
        self.flags.insert(viewer.clone(), flag.clone());
        let mut d = self.emit(
            vec![Event::ViewerFlagged {
                viewer_id: flag.viewer_id,
                colour: flag.colour,
                note: flag.note,
                until: flag.until,
                by: flag.by,
            }],
            now,
        );
        d.audit = Self::audit(who, "flag_viewer", &viewer.0, colour.as_str(), now);
        Ok(d)
    }

    /// Lifts a viewer's flag now; whoever may flag may lift.
    fn unflag_viewer(
        &mut self,
        who: &Principal,
        viewer: &ViewerId,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        if self.flags.remove(viewer).is_none() {
            return Err(Refusal::not_found(format!("{viewer} is not flagged")));
        }
        let mut d = self.emit(
            vec![Event::ViewerUnflagged {
                viewer_id: viewer.clone(),
                by: Some(Self::actor(who)),
            }],
            now,
        );
        d.audit = Self::audit(who, "unflag_viewer", &viewer.0, "", now);
        Ok(d)
    }

    /// Every flag past its time is lifted, in one decision.
    pub(super) fn expire_flags(&mut self, now: Millis) -> Option<Decision> {
        let due: Vec<ViewerId> = self
            .flags
            .values()
            .filter(|f| f.until <= now)
            .map(|f| f.viewer_id.clone())
            .collect();
        if due.is_empty() {
            return None;
        }
        let events = due
            .into_iter()
            .map(|viewer_id| {
                self.flags.remove(&viewer_id);
                Event::ViewerUnflagged {
                    viewer_id,
                    by: None,
                }
            })
            .collect();
        Some(self.emit(events, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::session::SessionBounds;
    use crate::protocol::{ErrorCode, Role, Settings, StaffRole};
    use crate::testing::{MapHistory, T0, World, fresh_session, refusal, staff};

    fn world() -> World {
        let bounds = SessionBounds {
            recent: 5,
            open_questions_in_snapshot: 10,
            message_cache: 5,
        };
        let mut history = MapHistory::default();
        history.viewers.insert(ViewerId("v-julie".into()));
        World {
            session: fresh_session("e1", Settings::default(), &[], bounds),
            history,
            now: T0,
        }
    }

    fn flag(note: &str, minutes: Option<u32>) -> Command {
        Command::FlagViewer {
            viewer_id: ViewerId("v-julie".into()),
            colour: FlagColour::Red,
            note: note.into(),
            minutes,
        }
    }

    #[test]
    fn a_flag_is_staff_only_sanitised_and_expires_after_ten_minutes() {
        let mut w = world();
        let d = w.run(
            &staff(StaffRole::Moderator),
            &flag("  spams \u{1b}[31mlinks ", None),
        );
        let [frame] = d.events.as_slice() else {
            panic!("{d:?}");
        };
        let Event::ViewerFlagged { note, until, .. } = &frame.event else {
            panic!("{frame:?}");
        };
        assert_eq!(note, "spams links");
        assert_eq!(*until, w.now + 10 * 60_000);
        assert!(frame.event.for_role(Role::Viewer).is_none());
        let audit = d.audit.expect("audited");
        assert!(!audit.reason.contains("spams"), "the audit has no note");
        assert_eq!(
            w.session
                .snapshot_for(Role::Staff(StaffRole::Host))
                .flags
                .len(),
            1
        );
        assert!(w.session.snapshot_for(Role::Viewer).flags.is_empty());

        assert!(w.session.clock(*until - 1).is_empty());
        let lifted = w.session.clock(*until);
        assert!(matches!(
            lifted.as_slice(),
            [Decision { events, .. }] if matches!(
                events.as_slice(),
                [f] if matches!(&f.event, Event::ViewerUnflagged { by: None, .. })
            )
        ));
        assert!(w.session.flags_in_force().is_empty());
    }

    #[test]
    fn bad_flags_are_refused_and_unflag_needs_a_flag() {
        let mut w = world();
        let mod_ = staff(StaffRole::Moderator);
        for bad in [flag("", Some(0)), flag("", Some(MAX_FLAG_MINUTES + 1))] {
            assert_eq!(
                refusal(&w.run(&mod_, &bad)).map(|r| r.code),
                Some(ErrorCode::Invalid)
            );
        }
        let long = "x".repeat(MAX_FLAG_NOTE_GRAPHEMES + 1);
        assert_eq!(
            refusal(&w.run(&mod_, &flag(&long, None))).map(|r| r.code),
            Some(ErrorCode::Invalid)
        );
        let stranger = Command::FlagViewer {
            viewer_id: ViewerId("v-nobody".into()),
            colour: FlagColour::Blue,
            note: String::new(),
            minutes: None,
        };
        assert_eq!(
            refusal(&w.run(&mod_, &stranger)).map(|r| r.code),
            Some(ErrorCode::NotFound)
        );
        let unflag = Command::UnflagViewer {
            viewer_id: ViewerId("v-julie".into()),
        };
        assert_eq!(
            refusal(&w.run(&mod_, &unflag)).map(|r| r.code),
            Some(ErrorCode::NotFound)
        );
        w.run(&mod_, &flag("", Some(5)));
        let d = w.run(&staff(StaffRole::Host), &unflag);
        assert!(matches!(
            d.events.as_slice(),
            [f] if matches!(&f.event, Event::ViewerUnflagged { by: Some(_), .. })
        ));
    }

    #[test]
    fn erasing_the_viewer_drops_the_flag() {
        let mut w = world();
        w.run(
            &staff(StaffRole::Moderator),
            &flag("note about Julie", None),
        );
        w.run(
            &staff(StaffRole::Support),
            &Command::EraseViewer {
                viewer_id: ViewerId("v-julie".into()),
                reason: "art. 17".into(),
            },
        );
        assert!(w.session.flags_in_force().is_empty());
        let snapshot = w.session.snapshot_for(Role::Staff(StaffRole::Admin));
        assert!(!format!("{snapshot:?}").contains("note about Julie"));
    }
}
