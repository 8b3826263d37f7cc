//! The console's side of the live's moderation rules (issue 10): the
//! transitions `update` makes for the rules editor popup (opened, listed,
//! refused) and for the staff-only rule events. The popup itself is
//! [`crate::console::popups::rules`].

use super::{Console, Effect};
use crate::console::popups::Popup;
use crate::console::popups::rules::RulesEditor;
use crate::protocol::{Command, CommandId, ErrorFrame, Event, Millis, RuleView};

/// Opens the editor and asks the hub for the live's rules.
pub(super) fn open_rules(state: &mut Console) -> Vec<Effect> {
    let effect = state.send(Command::Rules, "the moderation rules".into());
    if let Effect::Send(frame) = &effect {
        state.popup = Some(Popup::Rules(RulesEditor::loading(frame.id.clone())));
    }
    vec![effect]
}

/// The hub's list, for the editor that asked for it.
pub(super) fn on_rules(state: &mut Console, id: &CommandId, rules: Vec<RuleView>) {
    state.pending.remove(id);
    if let Some(Popup::Rules(view)) = state.popup.as_mut()
        && view.request == *id
    {
        view.rules = Some(rules);
    }
}

/// A refused list; `true` when `err` answered the open editor's request.
pub(super) fn on_error(state: &mut Console, err: &ErrorFrame) -> bool {
    let Some(id) = err.id.as_ref() else {
        return false;
    };
    if let Some(Popup::Rules(view)) = state.popup.as_mut()
        && view.request == *id
    {
        state.pending.remove(id);
        view.failed = Some(format!("{} ({})", err.message, err.code));
        return true;
    }
    false
}

/// `rule_added`, `rule_removed`, `message_flagged`: the open editor follows
/// them, and the staff activity says who changed what (by id, kind and
/// action: the pattern stays in the editor).
pub(super) fn on_rule_event(state: &mut Console, at: Millis, event: Event) {
    match event {
        Event::RuleAdded { rule } => {
            let what = format!(
                "added rule #{} ({}, {})",
                rule.rule_id,
                rule.kind.as_str(),
                rule.action.as_str()
            );
            let by = rule.created_by.clone();
            if let Some(Popup::Rules(view)) = state.popup.as_mut() {
                view.added(rule);
            }
            state.log_activity(at, by, what);
        }
        Event::RuleRemoved { rule_id, by } => {
            if let Some(Popup::Rules(view)) = state.popup.as_mut() {
                view.removed(rule_id);
            }
            let what = if by.is_some() {
                format!("removed rule #{rule_id}")
            } else {
                format!("rule #{rule_id} expired")
            };
            state.log_activity(at, by, what);
        }
        Event::MessageFlagged {
            message_id,
            rule_id,
            ..
        } => {
            let what = format!("rule #{rule_id} flagged message #{message_id}");
            state.log_activity(at, None, what);
            state.flagged.insert(message_id);
            while state.flagged.len() > state.feed.capacity() {
                state.flagged.pop_first();
            }
        }
        _ => {}
    }
    state.dirty = true;
}
