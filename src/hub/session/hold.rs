//! The hold queue: what waits for a moderator, and what becomes of it.
//!
//! A held message is approved (`release`, in the session), denied (`deny`:
//! erased like a redaction, the same tombstone and store path), or, when
//! nobody handled it within the hold timeout, denied by the hub on the
//! session clock: never kept silently. Its author is told at each step
//! with a [`Event::HoldNotice`] that fan-out delivers to them alone.
//!
//! The queue is kept apart from the message cache, which evicts: the
//! timeout must find every held message, and a tombstone needs only when
//! it was posted and by whom.

use super::{Decision, History, Principal, Refusal, Reply, Session, clean_reason};
use crate::hub::config::DEFAULT_HOLD_TIMEOUT;
use crate::hub::engagement::HUB_ACTOR;
use crate::protocol::{
    Actor, ChatEntry, ChatMessage, ClaimEndReason, Command, Event, HoldOutcome, MessageId, Millis,
    StaffRole, Tombstone, ViewerId, Visibility,
};
use crate::store::AuditEntry;

/// [`DEFAULT_HOLD_TIMEOUT`] in the session's milliseconds.
pub(super) fn default_hold_timeout_ms() -> Millis {
    Millis::try_from(DEFAULT_HOLD_TIMEOUT.as_millis()).unwrap_or(Millis::MAX)
}

/// The reason a denial carries when the moderator typed none.
const DENIED: &str = "denied by a moderator";

/// The reason of the hub's own denial, after the hold timeout.
const EXPIRED: &str = "not handled within the hold timeout";

/// One entry of the hold queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HeldItem {
    /// When it was posted, which is when it was held.
    pub(super) at: Millis,
    /// Its author, for a viewer's message (who is told, and whose erasure
    /// empties their part of the queue).
    pub(super) author: Option<ViewerId>,
}

impl Session {
    /// Sets how long a held message may wait before the hub denies it.
    pub fn set_hold_timeout(&mut self, timeout_ms: Millis) {
        self.hold_timeout_ms = timeout_ms.max(1);
    }

    /// Puts the messages the store holds as held back in the queue (at
    /// start-up), so the timeout counts from when each was posted, across
    /// a restart.
    pub fn note_held(&mut self, held: &[ChatMessage]) {
        for m in held {
            if matches!(m.visibility, Visibility::Held { .. }) {
                self.held.insert(m.id, held_item(m));
            }
        }
    }

    /// A new message entered the queue if it is held; the notice for its
    /// author, if it has one.
    pub(super) fn hold_queued(&mut self, m: &ChatMessage) -> Option<Event> {
        if !matches!(m.visibility, Visibility::Held { .. }) {
            return None;
        }
        let item = held_item(m);
        let notice = item.author.clone().map(|viewer_id| Event::HoldNotice {
            message_id: m.id,
            viewer_id,
            outcome: HoldOutcome::Waiting,
        });
        self.held.insert(m.id, item);
        notice
    }

    /// `m` leaves the queue with `outcome`: when it was held (`None` when
    /// it was not in the queue) and the notice for its author.
    pub(super) fn hold_settled(
        &mut self,
        m: &ChatMessage,
        outcome: HoldOutcome,
    ) -> (Option<Millis>, Option<Event>) {
        let Some(item) = self.held.remove(&m.id) else {
            return (None, None);
        };
        let notice = item.author.map(|viewer_id| Event::HoldNotice {
            message_id: m.id,
            viewer_id,
            outcome,
        });
        (Some(item.at), notice)
    }

    /// `release` or `deny`: what becomes of a held message.
    pub(super) fn settle_hold(
        &mut self,
        who: &Principal,
        command: &Command,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        match command {
            Command::Release { message_id } => self.release(who, *message_id, history, now),
            Command::Deny { message_id, reason } => {
                self.deny(who, *message_id, reason.as_deref(), history, now)
            }
            other => Err(Refusal::invalid(format!(
                "{} settles no held message",
                other.kind().name()
            ))),
        }
    }

    /// Refuses a held message: a tombstone takes its place, as with
    /// `redact` (the store deletes the text in the same commit), and its
    /// author is told. A message denied or redacted already is a no-op; a
    /// message that is not held is refused, so a stale console never erases
    /// a line everyone saw.
    fn deny(
        &mut self,
        who: &Principal,
        id: MessageId,
        reason: Option<&str>,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let target = match self.entry(id, history)? {
            None => return Err(Refusal::not_found(format!("no message {id}"))),
            Some(ChatEntry::Redacted(_)) => return Ok(Decision::reply(Reply::Ack { seq: None })),
            Some(ChatEntry::Message(m)) => m,
        };
        if !matches!(target.visibility, Visibility::Held { .. }) {
            return Err(Refusal::invalid(format!(
                "message {id} is not held; hide or redact it instead"
            )));
        }
        let reason = Some(clean_reason(reason.unwrap_or_default()))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| DENIED.to_owned());
        let item = self
            .held
            .get(&id)
            .cloned()
            .unwrap_or_else(|| held_item(&target));
        let mut events = self.erase_held(
            id,
            &item,
            &reason,
            Self::actor(who),
            HoldOutcome::Denied,
            now,
        );
        events.extend(self.claim_ends(id, ClaimEndReason::Answered, who.actor()));
        let mut d = self.emit(events, now);
        d.audit = Self::audit(who, "deny", &id.to_string(), &reason, now);
        Ok(d)
    }

    /// The hub denies every held message older than the hold timeout: one
    /// decision each, audited under [`HUB_ACTOR`].
    pub(super) fn expire_holds(&mut self, now: Millis) -> Vec<Decision> {
        let due: Vec<(MessageId, HeldItem)> = self
            .held
            .iter()
            .filter(|(_, h)| h.at.saturating_add(self.hold_timeout_ms) <= now)
            .map(|(id, h)| (*id, h.clone()))
            .collect();
        due.into_iter()
            .map(|(id, item)| {
                let by = Actor {
                    name: Some(HUB_ACTOR.to_owned()),
                    role: StaffRole::Moderator,
                };
                let mut events = self.erase_held(id, &item, EXPIRED, by, HoldOutcome::Expired, now);
                events.extend(self.claim_ends(id, ClaimEndReason::Released, None));
                let mut d = self.emit(events, now);
                d.audit = Some(AuditEntry {
                    actor_name: HUB_ACTOR.to_owned(),
                    actor_role: StaffRole::Moderator,
                    action: "deny".to_owned(),
                    target: id.to_string(),
                    reason: EXPIRED.to_owned(),
                    at: now,
                });
                d
            })
            .collect()
    }

    /// Replaces held message `id` by its tombstone, in memory and in the
    /// queue; the events that say so.
    fn erase_held(
        &mut self,
        id: MessageId,
        item: &HeldItem,
        reason: &str,
        by: Actor,
        outcome: HoldOutcome,
        now: Millis,
    ) -> Vec<Event> {
        self.held.remove(&id);
        let tombstone = Tombstone {
            message_id: id,
            posted_at: item.at,
            redacted_at: now,
            author_id: item.author.clone(),
            reason: reason.to_owned(),
            by,
        };
        if self.messages.contains_key(&id) {
            self.messages
                .insert(id, ChatEntry::Redacted(tombstone.clone()));
        }
        self.open_questions.remove(&id);
        let mut events = vec![Event::Redacted { tombstone }];
        if let Some(viewer_id) = item.author.clone() {
            events.push(Event::HoldNotice {
                message_id: id,
                viewer_id,
                outcome,
            });
        }
        events
    }
}

fn held_item(m: &ChatMessage) -> HeldItem {
    HeldItem {
        at: m.at,
        author: m.author.viewer_id().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::session::SessionBounds;
    use crate::protocol::{ErrorCode, Role, Settings};
    use crate::testing::{MapHistory, T0, World, fresh_session, refusal, staff, viewer};

    const TIMEOUT_MS: Millis = 60_000;

    fn world() -> World {
        let bounds = SessionBounds {
            recent: 5,
            open_questions_in_snapshot: 10,
            message_cache: 5,
        };
        let mut session = fresh_session("e1", Settings::default(), &["idiot"], bounds);
        session.set_hold_timeout(TIMEOUT_MS);
        World {
            session,
            history: MapHistory::default(),
            now: T0,
        }
    }

    fn julie() -> Principal {
        viewer("v-julie", "Julie", "lune")
    }

    fn outcomes(d: &Decision) -> Vec<HoldOutcome> {
        d.events
            .iter()
            .filter_map(|f| match &f.event {
                Event::HoldNotice { outcome, .. } => Some(*outcome),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_held_message_waits_then_the_author_learns_the_approval() {
        let mut w = world();
        let d = w.say(&julie(), "quel idiot", false);
        assert_eq!(outcomes(&d), [HoldOutcome::Waiting]);
        let notice = &d.events[1].event;
        assert_eq!(notice.only_for_viewer(), Some(&ViewerId("v-julie".into())));
        assert!(notice.for_role(Role::Viewer).is_some());
        let id = d.events[0].event.clone();
        let Event::Message { message } = id else {
            panic!()
        };
        let released = w.run(
            &staff(StaffRole::Moderator),
            &Command::Release {
                message_id: message.id,
            },
        );
        let Event::Released { held_at, .. } = &released.events[0].event else {
            panic!("{released:?}")
        };
        assert_eq!(*held_at, Some(message.at));
        assert_eq!(outcomes(&released), [HoldOutcome::Approved]);
    }

    #[test]
    fn the_clock_denies_only_what_waited_the_whole_timeout() {
        let mut w = world();
        let first = w.posted(&julie(), "idiot un", false);
        let posted = w.now;
        w.now += 30_000;
        let second = w.posted(&julie(), "idiot deux", false);
        let second_at = w.now;
        assert!(w.session.clock(posted + TIMEOUT_MS - 1).is_empty());
        let expired = w.session.clock(posted + TIMEOUT_MS);
        assert_eq!(expired.len(), 1, "{expired:?}");
        let Event::Redacted { tombstone } = &expired[0].events[0].event else {
            panic!("{expired:?}")
        };
        assert_eq!(tombstone.message_id, first);
        assert_eq!(tombstone.by.name.as_deref(), Some(HUB_ACTOR));
        assert_eq!(outcomes(&expired[0]), [HoldOutcome::Expired]);
        let audit = expired[0].audit.as_ref().expect("audited");
        assert_eq!(
            (audit.actor_name.as_str(), audit.action.as_str()),
            (HUB_ACTOR, "deny")
        );
        assert!(!audit.reason.contains("idiot"));
        // Denied once: the next tick has nothing more for the first.
        let later = w.session.clock(second_at + TIMEOUT_MS);
        assert_eq!(later.len(), 1);
        assert!(matches!(&later[0].events[0].event,
            Event::Redacted { tombstone } if tombstone.message_id == second));
    }

    #[test]
    fn a_handled_message_leaves_the_queue() {
        let mut w = world();
        let approved = w.posted(&julie(), "idiot a", false);
        let denied = w.posted(&julie(), "idiot b", false);
        let m = staff(StaffRole::Moderator);
        w.run(
            &m,
            &Command::Release {
                message_id: approved,
            },
        );
        let d = w.run(
            &m,
            &Command::Deny {
                message_id: denied,
                reason: None,
            },
        );
        assert!(matches!(&d.events[0].event,
            Event::Redacted { tombstone } if tombstone.reason == DENIED));
        assert_eq!(outcomes(&d), [HoldOutcome::Denied]);
        assert!(w.session.clock(w.now + TIMEOUT_MS).is_empty());
        // A visible line is not denied; a host may not deny.
        let shown = w.posted(&julie(), "bonjour", false);
        let refused = w.run(
            &m,
            &Command::Deny {
                message_id: shown,
                reason: None,
            },
        );
        assert_eq!(refusal(&refused).map(|r| r.code), Some(ErrorCode::Invalid));
        let host = w.run(
            &staff(StaffRole::Host),
            &Command::Deny {
                message_id: shown,
                reason: None,
            },
        );
        assert_eq!(refusal(&host).map(|r| r.code), Some(ErrorCode::Forbidden));
    }
}
