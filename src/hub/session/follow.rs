//! Following another writer: an event that another hub node decided and
//! committed to the shared store (PostgreSQL) applied to this node's
//! session, so that what this node decides next, and the snapshot it gives
//! a joining client, start from the live as every node sees it.
//!
//! What is followed: the chat and its moderation (lines, releases,
//! tombstones, erasures, hides, the pin, answered questions, sanctions,
//! moderation rules added, removed and expired), slow mode, Shield,
//! delivery, corrections, the lifecycle, the showcase (products, now
//! showing, canned answers), and the viewers-online count
//! (every node commits the sum of its own and the others' viewers, so a
//! followed count is taken as published and two nodes with the same sum
//! do not both commit it), and polls and instant wins: a game opened,
//! closed, cleared or drawn elsewhere makes this node read the games again
//! from the store (a draw's seed is in no event), and a tally another node
//! announced is not announced again here (the votes themselves come from
//! the store: [`Session::catch_up_games`]). What stays with the node that
//! decided it: a hold's timer and its claims and flags (staff see them as
//! events all the same), and rate limits (per node).

use super::{History, Session};
use crate::hub::engagement::Engagement;
use crate::protocol::{
    ChatEntry, ChatMessage, Event, EventFrame, LiftedSanction, MessageId, ViewerId, Visibility,
};

impl Session {
    /// Applies `frame`, committed by another writer at the next seq
    /// (`frame.seq == head + 1`; the actor checks). Returns the viewer it
    /// banned, whose connections on this node must close.
    pub fn follow(&mut self, frame: &EventFrame, history: &mut dyn History) -> Option<ViewerId> {
        debug_assert_eq!(frame.seq, self.head + 1, "followed out of order");
        self.head = frame.seq;
        match &frame.event {
            Event::ViewerBanned { viewer_id, .. } => {
                self.sanctions.entry(viewer_id.clone()).or_default().banned = true;
                return Some(viewer_id.clone());
            }
            Event::ViewerTimedOut {
                viewer_id, until, ..
            } => {
                let s = self.sanctions.entry(viewer_id.clone()).or_default();
                s.timed_out_until = s.timed_out_until.max(*until);
            }
            Event::SanctionLifted {
                viewer_id, lifted, ..
            } => {
                if let Some(s) = self.sanctions.get_mut(viewer_id) {
                    match lifted {
                        LiftedSanction::Ban => s.banned = false,
                        LiftedSanction::Timeout => {
                            s.timed_out_until = s.timed_out_until.min(frame.at);
                        }
                    }
                }
            }
            Event::RuleAdded { rule } => {
                // The deciding node compiled it; a build that cannot (a
                // newer regex syntax) runs without it, as on a restart.
                if let Err(error) = self.moderation.add(rule.clone()) {
                    tracing::warn!(?error, rule = rule.rule_id, "followed rule skipped");
                }
            }
            Event::RuleRemoved { rule_id, .. } => {
                self.moderation.remove(*rule_id);
            }
            Event::SlowModeChanged { .. }
            | Event::ShieldChanged { .. }
            | Event::DeliveryChanged { .. }
            | Event::LiveState { .. } => self.follow_settings(frame),
            Event::ProductAdded { .. } | Event::NowShowing { .. } | Event::CannedAdded { .. } => {
                self.follow_showcase(&frame.event);
            }
            Event::PollTally { .. } | Event::InstantWinEntries { .. } => {
                self.games.heard_count(&frame.event, frame.at);
            }
            event if Engagement::reshaped_by(event) => self.reload_games(history),
            _ => self.follow_chat(&frame.event, history),
        }
        None
    }

    /// The chat's lines and what moderation did to them.
    fn follow_chat(&mut self, event: &Event, history: &mut dyn History) {
        match event {
            Event::Message { message } | Event::Released { message, .. } => {
                self.last_message_id = self.last_message_id.max(message.id.0);
                if let Some(viewer) = message.author.viewer_id() {
                    self.shield.note_chatted(viewer);
                }
                if message.question && !message.answered {
                    self.open_questions.insert(message.id);
                }
                let entry = ChatEntry::Message(message.clone());
                match self.messages.get_mut(&message.id) {
                    Some(cached) => *cached = entry,
                    None => self.remember_recent(entry),
                }
            }
            Event::Redacted { tombstone } => {
                let id = tombstone.message_id;
                self.last_message_id = self.last_message_id.max(id.0);
                self.messages
                    .insert(id, ChatEntry::Redacted(tombstone.clone()));
                self.open_questions.remove(&id);
                self.held.remove(&id);
                self.unpin_if(id);
            }
            Event::ViewerErased {
                viewer_id,
                reason,
                erased_at,
                by,
            } => {
                let erased = self.forget_viewer(viewer_id, reason, by, history, *erased_at);
                self.forget_flag(viewer_id);
                if let Some(pinned) = self.pinned.filter(|p| erased.contains(p)) {
                    self.unpin_if(pinned);
                }
            }
            Event::Hidden { message_id, .. } => {
                self.with_cached(*message_id, |m| m.visibility = Visibility::Hidden);
                self.held.remove(message_id);
                self.unpin_if(*message_id);
            }
            Event::Pinned { message_id, .. } => {
                if let std::collections::btree_map::Entry::Vacant(slot) =
                    self.messages.entry(*message_id)
                    && let Ok(Some(entry)) = history.message(*message_id)
                {
                    slot.insert(entry);
                }
                self.pinned = Some(*message_id);
            }
            Event::Unpinned { message_id, .. } => self.unpin_if(*message_id),
            Event::QuestionAnswered { message_id, .. } => {
                self.with_cached(*message_id, |m| m.answered = true);
                self.open_questions.remove(message_id);
            }
            Event::QuestionReopened { message_id, .. } => {
                self.with_cached(*message_id, |m| m.answered = false);
                self.open_questions.insert(*message_id);
            }
            Event::ViewerRectified {
                viewer_id,
                first_name,
                pseudonym,
                ..
            } => self.relabel(viewer_id, first_name.as_deref(), pseudonym.as_deref()),
            // The live's count as another node saw it: this node commits
            // a count only when its own sum differs (`bus::audience`).
            Event::ViewersOnline { count } => self.viewers_online = *count,
            // Staff notices, other counts, games, claims, flags and
            // the showcase: nothing this node decides from (see the module
            // docs).
            _ => {}
        }
    }

    /// Slow mode, Shield, the viewers' delivery and the lifecycle.
    fn follow_settings(&mut self, frame: &EventFrame) {
        match &frame.event {
            Event::SlowModeChanged { secs, .. } => self.settings.slow_mode_secs = *secs,
            Event::ShieldChanged {
                on, slow_mode_secs, ..
            } => {
                let turned = if *on {
                    self.shield.on(&self.settings)
                } else {
                    self.shield.off()
                };
                if let Some(mut settings) = turned {
                    // Delivery is not Shield's to change (`shield_off`).
                    settings.delivery = self.settings.delivery;
                    self.settings = settings;
                }
                self.settings.slow_mode_secs = *slow_mode_secs;
            }
            Event::DeliveryChanged { policy, .. } => self.settings.delivery = *policy,
            Event::LiveState { state } => {
                let current = std::mem::replace(&mut self.live, super::lifecycle::on_air());
                self.live = current.moved(*state, frame.at);
            }
            _ => {}
        }
    }

    fn unpin_if(&mut self, id: MessageId) {
        if self.pinned == Some(id) {
            self.pinned = None;
        }
    }

    fn with_cached(&mut self, id: MessageId, change: impl FnOnce(&mut ChatMessage)) {
        if let Some(ChatEntry::Message(m)) = self.messages.get_mut(&id) {
            change(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::hub::session::SessionBounds;
    use crate::protocol::{
        ChatEntry, Command, Event, MessageId, Role, RuleAction, RuleType, Settings, StaffRole,
        ViewerId,
    };
    use crate::testing::{MapHistory, T0, World, fresh_session, staff, viewer};

    /// One node's session of a live (two nodes: two worlds, one epoch).
    fn node() -> World {
        let mut history = MapHistory::default();
        history.viewers.insert(ViewerId("v-julie".into()));
        let bounds = SessionBounds {
            recent: 5,
            open_questions_in_snapshot: 10,
            message_cache: 8,
        };
        World {
            session: fresh_session("e1", Settings::default(), &[], bounds),
            history,
            now: T0,
        }
    }

    fn julie() -> crate::hub::session::Principal {
        viewer("v-julie", "Julie", "#3fa9")
    }

    /// What one node decides, the other follows, and then decides from the
    /// same state: the next seq and message id, the pin and open question
    /// in the snapshot it gives a joining client.
    #[test]
    fn a_follower_continues_where_the_writer_left_off() {
        let mut writer = node();
        let mut follower = node();
        let mut frames = writer.say(&julie(), "Is it waterproof?", true).events;
        let id = MessageId(1);
        frames.extend(
            writer
                .run(&staff(StaffRole::Host), &Command::Pin { message_id: id })
                .events,
        );
        for frame in &frames {
            assert_eq!(follower.session.follow(frame, &mut follower.history), None);
        }
        assert_eq!(follower.session.head(), writer.session.head());
        let next = follower.say(&julie(), "Thanks!", false);
        assert_eq!(next.events[0].seq, writer.session.head() + 1);
        let Event::Message { message } = &next.events[0].event else {
            panic!("a message: {next:?}");
        };
        assert_eq!(message.id, MessageId(2), "no message id is given twice");
        let snap = follower.session.snapshot_for(Role::Staff(StaffRole::Host));
        assert_eq!(snap.pinned.as_ref().map(|p| p.id), Some(id));
        assert!(snap.open_questions.iter().any(|q| q.id == id));
    }

    /// A redaction the writer committed leaves the follower's memory too:
    /// its snapshot holds the tombstone, never the text.
    #[test]
    fn a_followed_redaction_leaves_only_the_tombstone() {
        let mut writer = node();
        let mut follower = node();
        let mut frames = writer.say(&julie(), "call me on 0612", false).events;
        frames.extend(
            writer
                .run(
                    &staff(StaffRole::Support),
                    &Command::Redact {
                        message_id: MessageId(1),
                        reason: "phone number".into(),
                    },
                )
                .events,
        );
        for frame in &frames {
            follower.session.follow(frame, &mut follower.history);
        }
        let snap = follower
            .session
            .snapshot_for(Role::Staff(StaffRole::Moderator));
        let text = serde_json::to_string(&snap).expect("a snapshot serialises");
        assert!(!text.contains("0612"), "the text stayed: {text}");
        assert!(
            snap.recent
                .iter()
                .any(|e| matches!(e, ChatEntry::Redacted(t) if t.message_id == MessageId(1)))
        );
    }

    /// A ban another node decided closes the viewer's connections here.
    #[test]
    fn a_followed_ban_names_the_viewer_to_close() {
        let mut writer = node();
        let mut follower = node();
        let d = writer.run(
            &staff(StaffRole::Moderator),
            &Command::Ban {
                viewer_id: ViewerId("v-julie".into()),
                reason: "spam".into(),
            },
        );
        let banned = follower.session.follow(&d.events[0], &mut follower.history);
        assert_eq!(banned, Some(ViewerId("v-julie".into())));
        assert!(follower.session.is_banned(&ViewerId("v-julie".into())));
    }

    /// A rule another node added applies to what this node decides next,
    /// and numbering goes on after it; its removal lifts it here too.
    #[test]
    fn a_followed_rule_applies_here_until_followed_away() {
        let mut writer = node();
        let mut follower = node();
        let moderator = staff(StaffRole::Moderator);
        let added = writer.run(
            &moderator,
            &Command::RuleAdd {
                kind: RuleType::Term,
                pattern: "arnaq*".into(),
                action: RuleAction::Block,
                expires_in_secs: None,
            },
        );
        for frame in &added.events {
            follower.session.follow(frame, &mut follower.history);
        }
        let rule_id = writer.session.moderation().next_id() - 1;
        assert_eq!(follower.session.moderation().rules().len(), 1);
        assert_eq!(follower.session.moderation().next_id(), rule_id + 1);
        let firings = follower.session.moderation().test("une arnaque", T0);
        assert_eq!(firings.first().map(|f| f.rule_id), Some(rule_id));

        let removed = writer.run(&moderator, &Command::RuleRemove { rule_id });
        for frame in &removed.events {
            follower.session.follow(frame, &mut follower.history);
        }
        assert!(follower.session.moderation().rules().is_empty());
        assert!(
            follower
                .session
                .moderation()
                .test("une arnaque", T0)
                .is_empty()
        );
    }
}
