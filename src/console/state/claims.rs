//! The console's side of claims (issue 12): `c` claims the selected open
//! question or held message, or lets one's own claim go; every staff
//! console shows "Claire is answering" on that line; replying to, or
//! settling, a message someone else claimed warns first and goes on.
//!
//! A claim lasts until the hub says it ended (`claim_ended`). A console
//! also drops one a while past its `until`, in case the hub restarted
//! meanwhile (claims are memory only there) and the end never came.

use super::{Console, Effect, selected_message};
use crate::console::keymap::Action;
use crate::console::permissions;
use crate::console::view::text::clean_name;
use crate::protocol::{Actor, Claim, Command, Event, MessageId, Millis, Visibility};

/// How long past its `until` a claim (or a viewer flag) is still shown
/// when no end came: room for the hub's clock tick and the two clocks'
/// difference.
pub(super) const GRACE_MILLIS: Millis = 30_000;

impl Console {
    /// The claim on `id` in force, if any.
    pub fn claim_on(&self, id: MessageId) -> Option<&Claim> {
        self.claims
            .get(&id)
            .filter(|c| self.now == 0 || c.until.saturating_add(GRACE_MILLIS) > self.now)
    }

    /// Whether `by` is this console's staff member.
    pub(super) fn is_me(&self, by: &Actor) -> bool {
        by.name.as_deref() == Some(self.session.name.as_str()) && by.role == self.role()
    }

    /// The claim on `id` by someone else, if any: what a warning names.
    pub fn claimed_by_other(&self, id: MessageId) -> Option<&Claim> {
        self.claim_on(id).filter(|c| !self.is_me(&c.by))
    }

    /// "Claire is answering" (or "you are answering").
    pub fn claim_label(&self, claim: &Claim) -> String {
        if self.is_me(&claim.by) {
            "you are answering".to_string()
        } else {
            format!("{} is answering", claimer(claim))
        }
    }

    /// "Claire" (or "you"): who is answering, where room is short.
    pub fn claim_short_label(&self, claim: &Claim) -> String {
        if self.is_me(&claim.by) {
            "you".to_string()
        } else {
            claimer(claim)
        }
    }

    /// The warning shown before acting on a message someone else claimed,
    /// or `None` when nobody else did.
    pub(super) fn claim_warning(&self, id: MessageId) -> Option<String> {
        self.claimed_by_other(id)
            .map(|c| format!("{} is answering {}", claimer(c), self.describe(id)))
    }

    /// " (Claire was answering it)" after an action's summary on a
    /// message someone else claimed, so its confirmation keeps the
    /// warning; the status line says it at once too.
    pub(super) fn claim_suffix(&mut self, id: MessageId) -> String {
        let Some(warning) = self.claim_warning(id) else {
            return String::new();
        };
        self.note(format!("{warning}; going ahead"), true);
        self.claimed_by_other(id)
            .map(|c| format!(" ({} was answering it)", claimer(c)))
            .unwrap_or_default()
    }

    /// Forgets claims long past their time (see the module docs).
    pub(super) fn forget_stale_claims(&mut self, now: Millis) {
        let before = self.claims.len();
        self.claims
            .retain(|_, c| c.until.saturating_add(GRACE_MILLIS) > now);
        if self.claims.len() != before {
            self.dirty = true;
        }
    }
}

fn claimer(c: &Claim) -> String {
    c.by.name
        .as_deref()
        .map_or_else(|| "another staff member".to_string(), clean_name)
}

/// `claimed` and `claim_ended`: the claim list; the claimer hears when
/// someone else took their claim over.
pub(super) fn on_claim_event(state: &mut Console, event: Event) {
    match event {
        Event::Claimed {
            message_id,
            by,
            until,
        } => {
            state.claims.insert(
                message_id,
                Claim {
                    message_id,
                    by,
                    until,
                },
            );
        }
        Event::ClaimEnded { message_id, by, .. } => {
            let Some(ended) = state.claims.remove(&message_id) else {
                return;
            };
            if let Some(by) = by
                && state.is_me(&ended.by)
                && !state.is_me(&by)
            {
                let who = by.name.as_deref().map_or_else(String::new, clean_name);
                let text = format!("{who} took over {}", state.describe(message_id));
                state.note(text, false);
            }
        }
        _ => {}
    }
}

/// `c`: claims the selected message, lets one's own claim go, or takes
/// someone else's over (the note says whose).
pub(super) fn toggle(state: &mut Console) -> Vec<Effect> {
    let Some(m) = selected_message(state) else {
        return Vec::new();
    };
    let id = m.id;
    let claimable = matches!(m.visibility, Visibility::Held { .. })
        || (m.question && !m.answered && m.visibility == Visibility::Visible);
    if !claimable {
        let why = if m.question {
            "is answered already"
        } else {
            "is neither a question nor held"
        };
        state.note(
            format!(
                "{} {why}: only open questions and held messages are claimed",
                state.describe(id)
            ),
            true,
        );
        return Vec::new();
    }
    // The hub decides; the console says it first, in the same words.
    let held = matches!(m.visibility, Visibility::Held { .. });
    let needs = if held { Action::Release } else { Action::Reply };
    if !permissions::allows(state.role(), needs) {
        let what = if held { "held messages" } else { "questions" };
        state.note(format!("Your role does not claim {what}."), true);
        return Vec::new();
    }
    let command = match state.claim_on(id) {
        Some(c) if state.is_me(&c.by) => {
            let summary = format!("release your claim on {}", state.describe(id));
            return vec![state.send(Command::Unclaim { message_id: id }, summary)];
        }
        Some(c) => format!("take over {}'s claim on {}", claimer(c), state.describe(id)),
        None => format!("claim {}", state.describe(id)),
    };
    vec![state.send(Command::Claim { message_id: id }, command)]
}
