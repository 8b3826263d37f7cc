//! Which actions the console offers a staff role. The hub enforces the
//! permission table ([`crate::protocol::permissions`]); the console maps each
//! action to the [`CommandKind`] it sends and asks the same table, so it only
//! ever hides what the hub would refuse.

use crate::protocol::{CommandKind, Role, StaffRole, permissions as table};

use super::keymap::Action;

/// Whether `role` may send commands of `kind`.
pub fn may_send(role: StaffRole, kind: CommandKind) -> bool {
    table::allows(Role::Staff(role), kind)
}

/// The kind of command an action sends, for actions that send one. The
/// match names every action, so a new one must say whether it sends a
/// command (and so whether a role may see it).
pub fn command_of(action: Action) -> Option<CommandKind> {
    Some(match action {
        // The picker fills the reply line: whoever may answer.
        Action::Reply | Action::ReplyAnswered | Action::Canned => CommandKind::Answer,
        Action::Pin => CommandKind::Pin,
        Action::MarkAnswered => CommandKind::MarkAnswered,
        Action::ReopenQuestion => CommandKind::ReopenQuestion,
        Action::Hide => CommandKind::Hide,
        // Marking is for a batch release; approving sends releases.
        Action::Release | Action::HoldMark | Action::ApproveMarked => CommandKind::Release,
        Action::Timeout => CommandKind::Timeout,
        Action::Ban => CommandKind::Ban,
        Action::SlowMode => CommandKind::SlowMode,
        // One key for both lifts; they have the same roles.
        Action::LiftSanction => CommandKind::Unban,
        Action::Redact => CommandKind::Redact,
        // One key for both; they have the same roles.
        Action::Shield => CommandKind::ShieldOn,
        Action::ViewerCard => CommandKind::ViewerCard,
        Action::Erase => CommandKind::EraseViewer,
        Action::Rectify => CommandKind::RectifyViewer,
        Action::Poll => CommandKind::PollOpen,
        Action::ClosePoll => CommandKind::PollClose,
        Action::InstantWin => CommandKind::InstantWinOpen,
        Action::DrawNow => CommandKind::InstantWinClose,
        Action::Redraw => CommandKind::Redraw,
        Action::Export => CommandKind::ExportViewer,
        Action::Requests => CommandKind::RightsRequests,
        Action::Rules => CommandKind::Rules,
        Action::Deny => CommandKind::Deny,
        Action::AddNote => CommandKind::NoteAdd,
        Action::Lives => CommandKind::LiveList,
        Action::HistorySearch => CommandKind::HistorySearch,
        Action::LiveStart => CommandKind::LiveStart,
        Action::LiveEnd => CommandKind::LiveEnd,
        Action::LiveReport => CommandKind::Report,
        Action::SmsFollowUp => CommandKind::SmsSegments,
        Action::CannedSave => CommandKind::CannedAdd,
        Action::Products => CommandKind::NowShowing,
        Action::Claim => CommandKind::Claim,
        Action::FlagViewer => CommandKind::FlagViewer,
        // A staff post and an announcement are both a `say`.
        Action::StaffSay | Action::Announce => CommandKind::Say,
        Action::FocusNext
        | Action::FocusPrev
        | Action::MoveDown
        | Action::MoveUp
        | Action::PageDown
        | Action::PageUp
        | Action::JumpTop
        | Action::JumpBottom
        | Action::Pause
        | Action::SearchNext
        | Action::SearchPrev
        | Action::Filter
        | Action::SortQuestions
        | Action::GroupExpand
        | Action::GroupSplit
        | Action::GroupMerge
        | Action::Games
        | Action::Messages
        | Action::Help
        | Action::Quit => return None,
    })
}

/// Whether `role` sees `action` at all (in help, hints, and on its key).
pub fn allows(role: StaffRole, action: Action) -> bool {
    // Reply-and-mark sends two commands; the role needs both.
    let marks = action != Action::ReplyAnswered || may_send(role, CommandKind::MarkAnswered);
    marks && command_of(action).is_none_or(|kind| may_send(role, kind))
}

/// Whether the role works the hold queue (and so sees its pane).
pub fn sees_hold_queue(role: StaffRole) -> bool {
    may_send(role, CommandKind::Release) || may_send(role, CommandKind::Redact)
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
        assert!(allows(StaffRole::Moderator, Action::Rules));
        assert!(
            !allows(StaffRole::Host, Action::Rules) && !allows(StaffRole::Support, Action::Rules)
        );
        assert!(!sees_hold_queue(StaffRole::Host));
        assert!(sees_contact(StaffRole::Support) && !sees_contact(StaffRole::Moderator));
    }
}
