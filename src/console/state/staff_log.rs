//! The Staff activity pane as the staff log (issue 10): after every
//! welcome the console asks the hub for the newest page of the audit log
//! (so the pane survives a reconnect), scrolling past the oldest entry
//! asks for the page before it, and `/` in the pane filters by staff
//! member and action (`by:NAME action:ban`). Live events keep appending.

use super::{Console, Effect, Pane, StaffAction};
use crate::console::permissions;
use crate::protocol::{Command, CommandFrame, CommandId, CommandKind, MAX_STAFF_LOG_PAGE};

/// Where the pane's log stands.
#[derive(Debug, Clone, Default)]
pub struct StaffLogView {
    /// The index to ask the next older page with; `None` once the oldest
    /// page is in, or before the first answer.
    pub older: Option<u64>,
    /// The older page asked for and not answered yet.
    pub asking_older: Option<CommandId>,
    /// The filter in force: staff member, action.
    pub by: Option<String>,
    pub action: Option<String>,
}

impl StaffLogView {
    /// "by:Inès action:ban", as the filter prompt shows it.
    pub fn filter_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(by) = &self.by {
            parts.push(format!("by:{by}"));
        }
        if let Some(action) = &self.action {
            parts.push(format!("action:{action}"));
        }
        parts.join(" ")
    }
}

/// Reads `by:NAME action:ACTION` (either, both or none; a name may hold
/// spaces up to the next `action:`).
pub fn parse_filter(text: &str) -> (Option<String>, Option<String>) {
    let (mut by, mut action) = (None, None);
    let mut current: Option<&mut Option<String>> = None;
    for word in text.split_whitespace() {
        if let Some(v) = word.strip_prefix("by:") {
            by = Some(v.to_owned());
            current = Some(&mut by);
        } else if let Some(v) = word.strip_prefix("action:") {
            action = Some(v.to_owned());
            current = None;
        } else if let Some(Some(name)) = current.as_deref_mut() {
            name.push(' ');
            name.push_str(word);
        }
    }
    let keep = |s: Option<String>| s.filter(|s| !s.is_empty());
    (keep(by), keep(action))
}

fn may_read(state: &Console) -> bool {
    permissions::may_send(state.role(), CommandKind::StaffLog)
}

fn ask(state: &mut Console, before: Option<u64>) -> Effect {
    let command = Command::StaffLog {
        before,
        limit: MAX_STAFF_LOG_PAGE,
        actor: state.staff_log.by.clone(),
        action: state.staff_log.action.clone(),
    };
    // A read, not an action: it is not listed as pending (the status
    // bar's count is of what the user asked the hub to do).
    Effect::Send(CommandFrame {
        id: state.next_command_id(),
        command,
    })
}

/// After a welcome: the newest page, with the filter in force.
pub(super) fn after_welcome(state: &mut Console) -> Vec<Effect> {
    if !may_read(state) {
        return Vec::new();
    }
    state.staff_log.asking_older = None;
    vec![ask(state, None)]
}

/// A new filter from the prompt: the pane starts again from the newest.
pub(super) fn filter(state: &mut Console, text: &str) -> Vec<Effect> {
    let (by, action) = parse_filter(text);
    state.staff_log.by = by;
    state.staff_log.action = action;
    state.staff_log.asking_older = None;
    state.activity_scroll = 0;
    vec![ask(state, None)]
}

/// Scrolled to the oldest entry held: ask for the page before it, once.
pub(super) fn maybe_older(state: &mut Console) -> Vec<Effect> {
    if state.focus != Pane::Activity || !may_read(state) {
        return Vec::new();
    }
    let at_end = state.activity_scroll + 1 >= state.activity.len();
    match state.staff_log.older {
        Some(before) if at_end && state.staff_log.asking_older.is_none() => {
            let effect = ask(state, Some(before));
            if let Effect::Send(frame) = &effect {
                state.staff_log.asking_older = Some(frame.id.clone());
            }
            vec![effect]
        }
        _ => Vec::new(),
    }
}

/// A page from the hub: the newest replaces the pane (a reconnect, a new
/// filter); an older one goes below what the pane holds.
pub(super) fn on_page(
    state: &mut Console,
    id: &CommandId,
    entries: Vec<StaffAction>,
    before: Option<u64>,
) {
    state.pending.remove(id);
    let older = state.staff_log.asking_older.as_ref() == Some(id);
    state.staff_log.older = before;
    if older {
        state.staff_log.asking_older = None;
        let newer: Vec<_> = state.activity.drain(..).collect();
        for action in entries {
            let what = state.staff_action_text(&action);
            state.log_activity(action.at, action.by, what);
        }
        state.activity.extend(newer);
    } else {
        state.activity.clear();
        state.activity_scroll = 0;
        for action in entries {
            let what = state.staff_action_text(&action);
            state.log_activity(action.at, action.by, what);
        }
    }
    state.dirty = true;
}
