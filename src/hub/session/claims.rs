//! Claims (issue 12): a staff member says "I am answering this" on an open
//! question or a held message, so two people do not answer the same one.
//!
//! A claim is staff only and lives in memory: the `claimed` and
//! `claim_ended` events are numbered like any other (so a resuming console
//! replays them in order), but the session does not rebuild claims from the
//! store after a restart: a claim lasts two minutes, and a restarted hub
//! starts with none (a console that reloads gets the empty list).
//!
//! A claim ends when the work is done (the question answered, the held
//! message released or denied: `answered`), when the claimer lets it go or
//! another staff member takes it over, or the message leaves (hidden,
//! redacted, erased: `released`), or after the claim time-out (`expired`).
//! Taking over is a plain `claim` on a claimed message: the console warns
//! first, and the one who had it sees who took it.

use super::{Decision, History, Principal, Refusal, Reply, Session};
use crate::hub::config::DEFAULT_CLAIM_TIMEOUT;
use crate::protocol::{
    Actor, Claim, ClaimEndReason, Command, CommandKind, ErrorCode, Event, MessageId, Millis,
    Visibility, permissions,
};

/// [`DEFAULT_CLAIM_TIMEOUT`] in the session's milliseconds.
pub(super) fn default_claim_timeout_ms() -> Millis {
    Millis::try_from(DEFAULT_CLAIM_TIMEOUT.as_millis()).unwrap_or(Millis::MAX)
}

impl Session {
    /// Sets how long a claim lasts when nothing ends it sooner.
    pub fn set_claim_timeout(&mut self, timeout_ms: Millis) {
        self.claim_timeout_ms = timeout_ms.max(1);
    }

    /// The claims in force, by message id (a staff snapshot lists them).
    pub(super) fn claims_in_force(&self) -> Vec<Claim> {
        self.claims.values().cloned().collect()
    }

    /// `claim` and `unclaim`.
    pub(super) fn claim_command(
        &mut self,
        who: &Principal,
        command: &Command,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        match command {
            Command::Claim { message_id } => self.claim(who, *message_id, history, now),
            Command::Unclaim { message_id } => self.unclaim(who, *message_id, now),
            other => Err(Refusal::invalid(format!(
                "{} is not a claim",
                other.kind().name()
            ))),
        }
    }

    /// Claims an open question (whoever may answer it) or a held message
    /// (whoever may release it). One's own claim is renewed; someone
    /// else's is taken over, and its end is said first.
    fn claim(
        &mut self,
        who: &Principal,
        id: MessageId,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let target = self.live_message(id, history)?;
        let held = matches!(target.visibility, Visibility::Held { .. });
        let needs = if held {
            CommandKind::Release
        } else if target.question && target.visibility == Visibility::Visible {
            if target.answered {
                return Err(Refusal::invalid(format!(
                    "question {id} is already answered: nothing to claim"
                )));
            }
            CommandKind::Answer
        } else {
            return Err(Refusal::invalid(format!(
                "message {id} is neither an open question nor a held message: only those are claimed"
            )));
        };
        let role = who.role();
        if !permissions::allows(role, needs) {
            let what = if held { "held messages" } else { "questions" };
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                format!(
                    "a {} may not claim {what}: they are for whoever may {}",
                    permissions::role_name(role),
                    needs.name()
                ),
            ));
        }
        let by = Self::actor(who);
        let mut events = Vec::new();
        if let Some(before) = self.claims.get(&id)
            && before.by != by
        {
            events.push(Event::ClaimEnded {
                message_id: id,
                by: Some(by.clone()),
                reason: ClaimEndReason::Released,
            });
        }
        let until = now.saturating_add(self.claim_timeout_ms);
        self.claims.insert(
            id,
            Claim {
                message_id: id,
                by: by.clone(),
                until,
            },
        );
        events.push(Event::Claimed {
            message_id: id,
            by,
            until,
        });
        Ok(self.emit(events, now))
    }

    /// Lets one's own claim go. Someone else's is refused: the console
    /// offers to take it over instead, so nobody drops a colleague's
    /// claim by mistake.
    fn unclaim(
        &mut self,
        who: &Principal,
        id: MessageId,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let by = Self::actor(who);
        let Some(claim) = self.claims.get(&id) else {
            return Err(Refusal::not_found(format!("message {id} is not claimed")));
        };
        if claim.by != by {
            let name = claim.by.name.as_deref().unwrap_or("another staff member");
            return Err(Refusal::invalid(format!(
                "message {id} is claimed by {name}: claim it to take it over"
            )));
        }
        match self.claim_ends(id, ClaimEndReason::Released, Some(by)) {
            Some(event) => Ok(self.emit(vec![event], now)),
            None => Ok(Decision::reply(Reply::Ack { seq: None })),
        }
    }

    /// The claim on `id` ends, if there is one: the event that says so.
    pub(super) fn claim_ends(
        &mut self,
        id: MessageId,
        reason: ClaimEndReason,
        by: Option<Actor>,
    ) -> Option<Event> {
        self.claims.remove(&id).map(|_| Event::ClaimEnded {
            message_id: id,
            by,
            reason,
        })
    }

    /// Every claim past its time ends, in one decision.
    pub(super) fn expire_claims(&mut self, now: Millis) -> Option<Decision> {
        let due: Vec<MessageId> = self
            .claims
            .values()
            .filter(|c| c.until <= now)
            .map(|c| c.message_id)
            .collect();
        let events: Vec<Event> = due
            .into_iter()
            .filter_map(|id| self.claim_ends(id, ClaimEndReason::Expired, None))
            .collect();
        (!events.is_empty()).then(|| self.emit(events, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::session::SessionBounds;
    use crate::protocol::{Role, Settings, StaffRole};
    use crate::testing::{MapHistory, T0, World, fresh_session, refusal, viewer};

    const TIMEOUT_MS: Millis = 120_000;

    fn world() -> World {
        let bounds = SessionBounds {
            recent: 5,
            open_questions_in_snapshot: 10,
            message_cache: 5,
        };
        let mut session = fresh_session("e1", Settings::default(), &["idiot"], bounds);
        session.set_claim_timeout(TIMEOUT_MS);
        World {
            session,
            history: MapHistory::default(),
            now: T0,
        }
    }

    fn named(role: StaffRole, name: &str) -> Principal {
        Principal::Staff {
            role,
            name: name.into(),
        }
    }

    fn julie() -> Principal {
        viewer("v-julie", "Julie", "lune")
    }

    fn claim(id: MessageId) -> Command {
        Command::Claim { message_id: id }
    }

    fn events(d: &Decision) -> Vec<Event> {
        d.events.iter().map(|f| f.event.clone()).collect()
    }

    fn code(d: &Decision) -> ErrorCode {
        refusal(d).expect("refused").code
    }

    #[test]
    fn a_claim_is_staff_only_and_ends_when_the_question_is_answered() {
        let mut w = world();
        let id = w.posted(&julie(), "Elle existe en 38 ?", true);
        let claire = named(StaffRole::Host, "Claire");
        let d = w.run(&claire, &claim(id));
        let claimed = events(&d);
        let [Event::Claimed { until, by, .. }] = claimed.as_slice() else {
            panic!("{d:?}");
        };
        assert_eq!(*until, w.now + TIMEOUT_MS);
        assert_eq!(by.name.as_deref(), Some("Claire"));
        assert!(d.events[0].event.for_role(Role::Viewer).is_none());
        let host = Role::Staff(StaffRole::Host);
        assert_eq!(w.session.snapshot_for(host).claims.len(), 1);
        assert!(w.session.snapshot_for(Role::Viewer).claims.is_empty());

        let d = w.run(
            &claire,
            &Command::Answer {
                message_id: id,
                text: "oui !".into(),
                also: Vec::new(),
            },
        );
        assert!(matches!(
            events(&d).last(),
            Some(Event::ClaimEnded { reason: ClaimEndReason::Answered, message_id, .. })
                if *message_id == id
        ));
        assert!(w.session.claims_in_force().is_empty());
    }

    #[test]
    fn mark_answered_and_a_release_end_claims_too() {
        let mut w = world();
        let q = w.posted(&julie(), "Et en 40 ?", true);
        let claire = named(StaffRole::Host, "Claire");
        w.run(&claire, &claim(q));
        let d = w.run(&claire, &Command::MarkAnswered { message_id: q });
        assert!(matches!(
            events(&d).last(),
            Some(Event::ClaimEnded {
                reason: ClaimEndReason::Answered,
                ..
            })
        ));
        let held = w.posted(&julie(), "quel idiot", false);
        let ines = named(StaffRole::Moderator, "Inès");
        w.run(&ines, &claim(held));
        let d = w.run(&ines, &Command::Release { message_id: held });
        assert!(
            events(&d).iter().any(|e| matches!(e,
                Event::ClaimEnded { reason: ClaimEndReason::Answered, message_id, .. }
                    if *message_id == held)),
            "{d:?}"
        );
        assert!(w.session.claims_in_force().is_empty());
    }

    #[test]
    fn another_staff_member_takes_over_and_only_the_claimer_unclaims() {
        let mut w = world();
        let id = w.posted(&julie(), "C'est combien la livraison ?", true);
        let claire = named(StaffRole::Host, "Claire");
        let marc = named(StaffRole::Host, "Marc");
        w.run(&claire, &claim(id));
        let no = refusal(&w.run(&marc, &Command::Unclaim { message_id: id })).expect("refused");
        assert_eq!(no.code, ErrorCode::Invalid);
        assert!(no.message.contains("Claire"), "{no:?}");
        let d = w.run(&marc, &claim(id));
        assert!(matches!(
            events(&d).as_slice(),
            [
                Event::ClaimEnded { reason: ClaimEndReason::Released, .. },
                Event::Claimed { by, .. }
            ] if by.name.as_deref() == Some("Marc")
        ));
        let d = w.run(&marc, &Command::Unclaim { message_id: id });
        assert!(matches!(
            events(&d).as_slice(),
            [Event::ClaimEnded {
                reason: ClaimEndReason::Released,
                ..
            }]
        ));
        assert_eq!(
            code(&w.run(&marc, &Command::Unclaim { message_id: id })),
            ErrorCode::NotFound
        );
    }

    #[test]
    fn only_open_questions_and_held_messages_are_claimed_by_the_right_role() {
        let mut w = world();
        let chat = w.posted(&julie(), "coucou", false);
        let claire = named(StaffRole::Host, "Claire");
        assert_eq!(code(&w.run(&claire, &claim(chat))), ErrorCode::Invalid);
        let q = w.posted(&julie(), "Livraison en Belgique ?", true);
        let ines = named(StaffRole::Moderator, "Inès");
        assert_eq!(code(&w.run(&ines, &claim(q))), ErrorCode::Forbidden);
        let held = w.posted(&julie(), "quel idiot", false);
        assert_eq!(code(&w.run(&claire, &claim(held))), ErrorCode::Forbidden);
        assert_eq!(code(&w.run(&julie(), &claim(q))), ErrorCode::Forbidden);
        assert!(w.session.claims_in_force().is_empty());
    }

    #[test]
    fn a_claim_expires_on_the_clock() {
        let mut w = world();
        let id = w.posted(&julie(), "Et en 42 ?", true);
        w.run(&named(StaffRole::Host, "Claire"), &claim(id));
        assert!(w.session.clock(w.now + TIMEOUT_MS - 1).is_empty());
        let d = w.session.clock(w.now + TIMEOUT_MS);
        let ended: Vec<Event> = d.iter().flat_map(events).collect();
        assert!(matches!(
            ended.as_slice(),
            [Event::ClaimEnded {
                reason: ClaimEndReason::Expired,
                by: None,
                ..
            }]
        ));
        assert!(w.session.claims_in_force().is_empty());
    }
}
