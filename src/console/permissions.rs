//! Which actions the console offers a staff role. The hub enforces
//! permissions with its table ([`crate::hub::permissions`]); the console
//! reads the same table, so it only ever hides what the hub would refuse.

use crate::hub::permissions as table;
use crate::protocol::{Role, StaffRole};

use super::keymap::Action;

/// Whether `role` may send the command with wire name `command`.
pub fn may_send(role: StaffRole, command: &str) -> bool {
    table::allows_name(Role::Staff(role), command)
}

/// The command an action sends, for actions that send one.
pub fn command_of(action: Action) -> Option<&'static str> {
    Some(match action {
        Action::Reply => "answer",
        Action::Pin => "pin",
        Action::MarkAnswered => "mark_answered",
        Action::Hide => "hide",
        Action::Release => "release",
        Action::Timeout => "timeout",
        Action::Ban => "ban",
        Action::Redact => "redact",
        Action::ViewerCard => "viewer_card",
        Action::Poll => "poll_open",
        Action::ClosePoll => "poll_close",
        Action::InstantWin => "instant_win_open",
        Action::DrawNow => "instant_win_close",
        Action::Redraw => "redraw",
        _ => return None,
    })
}

/// Whether `role` sees `action` at all (in help, hints, and on its key).
pub fn allows(role: StaffRole, action: Action) -> bool {
    command_of(action).is_none_or(|c| may_send(role, c))
}

/// Whether the role works the hold queue (and so sees its pane).
pub fn sees_hold_queue(role: StaffRole) -> bool {
    may_send(role, "release") || may_send(role, "redact")
}

/// Whether the viewer card shows masked contact data to this role.
pub fn sees_contact(role: StaffRole) -> bool {
    table::sees_contact(Role::Staff(role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_roles() {
        assert!(allows(StaffRole::Host, Action::Reply));
        assert!(!allows(StaffRole::Host, Action::Redact));
        assert!(!allows(StaffRole::Moderator, Action::Reply));
        assert!(allows(StaffRole::Moderator, Action::Ban));
        assert!(allows(StaffRole::Support, Action::Redact));
        assert!(!allows(StaffRole::Support, Action::Hide));
        for a in Action::ALL {
            assert!(allows(StaffRole::Admin, *a));
            assert!(allows(StaffRole::Host, Action::Help));
        }
        assert!(allows(StaffRole::Host, Action::Poll) && allows(StaffRole::Host, Action::Redraw));
        assert!(!allows(StaffRole::Moderator, Action::Poll));
        assert!(!allows(StaffRole::Support, Action::InstantWin));
        assert!(allows(StaffRole::Moderator, Action::Games));
        assert!(!sees_hold_queue(StaffRole::Host));
        assert!(sees_contact(StaffRole::Support) && !sees_contact(StaffRole::Moderator));
    }
}
