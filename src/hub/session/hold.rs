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
    Actor, ChatEntry, ChatMessage, Event, HoldOutcome, MessageId, Millis, StaffRole, Tombstone,
    ViewerId, Visibility,
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

    /// Refuses a held message: a tombstone takes its place, as with
    /// `redact` (the store deletes the text in the same commit), and its
    /// author is told. A message denied or redacted already is a no-op; a
    /// message that is not held is refused, so a stale console never erases
    /// a line everyone saw.
    pub(super) fn deny(
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
        let events = self.erase_held(
            id,
            &item,
            &reason,
            Self::actor(who),
            HoldOutcome::Denied,
            now,
        );
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
                let events = self.erase_held(id, &item, EXPIRED, by, HoldOutcome::Expired, now);
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
