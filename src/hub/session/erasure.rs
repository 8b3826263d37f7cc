//! Erasing a viewer (GDPR Art. 17): the session's side of `erase_viewer`.
//!
//! The session forgets what it holds in memory (messages become
//! tombstones, a reply quoting the viewer drops the name, the pin and the
//! open questions go, sanctions go) and emits one `viewer_erased` event.
//! The store applies the same event to everything it holds, in the batch's
//! one transaction (`store::sqlite`, `erase_viewer`), so memory and disk
//! never disagree and a failed commit rolls both back (the actor restores
//! the session from the store).

use super::{Decision, History, Principal, Refusal, Session, required_reason};
use crate::protocol::{
    Actor, ChatEntry, ClaimEndReason, ErrorCode, Event, MessageId, Millis, Tombstone, ViewerId,
};

impl Session {
    /// A connection of an erased viewer is refused everything: what it
    /// sent would be stored under an id that no longer exists.
    pub(super) fn refuse_erased(&self, who: &Principal) -> Option<Refusal> {
        match who {
            Principal::Viewer(v) if self.erased.contains(&v.id) => Some(Refusal::new(
                ErrorCode::Forbidden,
                "you were erased from this live; reconnect to join as a new viewer",
            )),
            _ => None,
        }
    }

    pub(super) fn erase_viewer(
        &mut self,
        who: &Principal,
        viewer: &ViewerId,
        reason: &str,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let reason = required_reason(reason, "an erasure")?;
        self.known_viewer(viewer, history)?;
        let by = Self::actor(who);
        let erased = self.forget_viewer(viewer, &reason, &by, history, now);
        let mut events = vec![Event::ViewerErased {
            viewer_id: viewer.clone(),
            reason: reason.clone(),
            erased_at: now,
            by: by.clone(),
        }];
        // Their flag goes with them (every console drops it on
        // `viewer_erased`), and so do the claims on their messages.
        self.forget_flag(viewer);
        for id in &erased {
            events.extend(self.claim_ends(*id, ClaimEndReason::Released, Some(by.clone())));
        }
        if let Some(pinned) = self.pinned.filter(|p| erased.contains(p)) {
            self.pinned = None;
            events.push(Event::Unpinned {
                message_id: pinned,
                by,
            });
        }
        let mut d = self.emit(events, now);
        // The one record of the request: who, when, why; no name, no text.
        d.audit = Self::audit(who, "erase_viewer", &viewer.0, &reason, now);
        Ok(d)
    }

    /// The in-memory side of an erasure, for `erase_viewer` and for an
    /// erasure another hub node committed (`follow`): the viewer's cached
    /// lines become tombstones, replies quoting them drop the name, their
    /// open questions, sanctions, corrections and held lines go, and draws
    /// announce them by id only. Returns
    /// the ids of their lines that were tombstoned or held.
    pub(super) fn forget_viewer(
        &mut self,
        viewer: &ViewerId,
        reason: &str,
        by: &Actor,
        history: &mut dyn History,
        now: Millis,
    ) -> Vec<MessageId> {
        let mut erased = Vec::new();
        for entry in self.messages.values_mut() {
            if let ChatEntry::Message(m) = entry
                && m.author.viewer_id() == Some(viewer)
            {
                erased.push(m.id);
                *entry = ChatEntry::Redacted(Tombstone {
                    message_id: m.id,
                    posted_at: m.at,
                    redacted_at: now,
                    // The id no longer resolves to anyone; the tombstone
                    // does not keep it either.
                    author_id: None,
                    reason: reason.to_owned(),
                    by: by.clone(),
                });
            }
        }
        // Replies in memory whose quoted message is the viewer's, even one
        // evicted from memory (history still has it until the commit).
        // A group answer names several askers (`also_to`): each is checked.
        let replies: Vec<_> = self
            .messages
            .iter()
            .flat_map(|(id, e)| match e {
                ChatEntry::Message(m) => m
                    .replies_to()
                    .map(|r| (*id, r.message_id))
                    .collect::<Vec<_>>(),
                ChatEntry::Redacted(_) => Vec::new(),
            })
            .collect();
        for (id, target) in replies {
            let quotes_viewer = erased.contains(&target)
                || matches!(
                    history.message(target),
                    Ok(Some(ChatEntry::Message(t))) if t.author.viewer_id() == Some(viewer)
                );
            if quotes_viewer && let Some(ChatEntry::Message(m)) = self.messages.get_mut(&id) {
                for r in m.replies_to_mut().filter(|r| r.message_id == target) {
                    r.first_name.clear();
                }
            }
        }
        for id in &erased {
            self.open_questions.remove(id);
        }
        self.sanctions.remove(viewer);
        self.rectified.remove(viewer);
        // Their held messages are tombstones now: nothing left to deny.
        let held_theirs: Vec<_> = self
            .held
            .iter()
            .filter(|(id, h)| h.author.as_ref() == Some(viewer) && !erased.contains(id))
            .map(|(id, _)| *id)
            .collect();
        erased.extend(held_theirs);
        self.held.retain(|_, h| h.author.as_ref() != Some(viewer));
        self.erased.insert(viewer.clone());
        self.shield.forget(viewer);
        // Draws keep the id (the records stay verifiable), not the names.
        self.games.rename(viewer, Some(""), Some(""));
        erased
    }
}

#[cfg(test)]
mod tests {
    use crate::hub::session::SessionBounds;
    use crate::protocol::{
        ChatEntry, Command, ErrorCode, Event, Role, Settings, StaffRole, ViewerId,
    };
    use crate::testing::{MapHistory, T0, World, fresh_session, refusal, staff, viewer};

    fn world() -> World {
        let mut history = MapHistory::default();
        history.viewers.insert(ViewerId("v-julie".into()));
        history.viewers.insert(ViewerId("v-marc".into()));
        let settings = Settings {
            viewer_burst: 100,
            viewer_rate_per_sec: 100,
            ..Settings::default()
        };
        let bounds = SessionBounds {
            recent: 5,
            open_questions_in_snapshot: 10,
            message_cache: 8,
        };
        World {
            session: fresh_session("e1", settings, &["idiot"], bounds),
            history,
            now: T0,
        }
    }

    fn erase(id: &str) -> Command {
        Command::EraseViewer {
            viewer_id: ViewerId(id.into()),
            reason: "demande RGPD".into(),
        }
    }

    #[test]
    fn an_erasure_tombstones_in_memory_unnames_replies_unpins_and_locks_the_old_id() {
        let mut w = world();
        let julie = viewer("v-julie", "Julie", "#3fa9");
        let marc = viewer("v-marc", "Marc", "#77aa");
        let question = w.posted(&julie, "Elle existe en 38 ?", true);
        let kept = w.posted(&marc, "Bonsoir", false);
        let host = staff(StaffRole::Host);
        w.run(
            &host,
            &Command::Answer {
                message_id: question,
                text: "oui".into(),
                also: Vec::new(),
            },
        );
        w.run(
            &host,
            &Command::Pin {
                message_id: question,
            },
        );
        // Julie won an instant win: its result names her.
        w.run(
            &host,
            &Command::InstantWinOpen {
                prize: "Sac".into(),
                winners: 1,
                entry_secs: 60,
                rules: String::new(),
            },
        );
        assert!(refusal(&w.run(&julie, &Command::Enter { draw_id: 1 })).is_none());
        let drawn = w.run(&host, &Command::InstantWinClose { draw_id: 1 });
        assert!(
            serde_json::to_string(&drawn.events)
                .expect("json")
                .contains("Julie"),
            "the control: {drawn:?}"
        );

        let d = w.run(&staff(StaffRole::Support), &erase("v-julie"));
        assert!(matches!(
            &d.events[0].event,
            Event::ViewerErased { viewer_id, .. } if viewer_id.0 == "v-julie"
        ));
        assert!(
            matches!(&d.events[1].event, Event::Unpinned { message_id, .. } if *message_id == question)
        );
        let audit = d.audit.as_ref().expect("one audit record");
        assert_eq!(
            (audit.action.as_str(), audit.target.as_str()),
            ("erase_viewer", "v-julie")
        );

        let snap = w.session.snapshot_for(Role::Staff(StaffRole::Admin));
        assert!(snap.pinned.is_none() && snap.open_questions.is_empty());
        let json = serde_json::to_string(&snap).expect("json");
        assert!(
            !json.contains("Elle existe") && !json.contains("Julie"),
            "{json}"
        );
        assert!(json.contains("Bonsoir"), "{json}");
        assert!(snap.recent.iter().any(|e| matches!(
            e,
            ChatEntry::Redacted(t) if t.message_id == question && t.author_id.is_none()
        )));
        assert!(snap.recent.iter().any(|e| e.id() == kept));

        // The erased connection can no longer post; others can.
        let d = w.say(&julie, "encore", false);
        assert_eq!(refusal(&d).map(|r| r.code), Some(ErrorCode::Forbidden));
        assert!(refusal(&w.say(&marc, "toujours là", false)).is_none());
    }

    #[test]
    fn only_support_and_admin_erase_and_they_give_a_reason() {
        let mut w = world();
        for role in [StaffRole::Host, StaffRole::Moderator] {
            let d = w.run(&staff(role), &erase("v-marc"));
            assert_eq!(refusal(&d).map(|r| r.code), Some(ErrorCode::Forbidden));
        }
        let d = w.run(
            &staff(StaffRole::Admin),
            &Command::EraseViewer {
                viewer_id: ViewerId("v-marc".into()),
                reason: "  ".into(),
            },
        );
        assert_eq!(refusal(&d).map(|r| r.code), Some(ErrorCode::Invalid));
        let d = w.run(&staff(StaffRole::Admin), &erase("v-nobody"));
        assert_eq!(refusal(&d).map(|r| r.code), Some(ErrorCode::NotFound));
        assert!(refusal(&w.run(&staff(StaffRole::Admin), &erase("v-marc"))).is_none());
    }
}
