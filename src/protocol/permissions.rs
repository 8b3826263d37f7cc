//! Who may send which command. The hub enforces this table on every
//! command; the console reads it to hide only what the hub would refuse.
//! It lives in `protocol` because both sides need the same answer, and it
//! is keyed by [`CommandKind`], so every kind appears in exactly one arm (the
//! match is exhaustive) and a misspelt command does not compile. The table in
//! `docs/protocol.md` is checked against it by `tests/hub_protocol_doc.rs`.

use super::command::CommandKind;
use super::types::{Role, StaffRole};

/// The roles allowed to send commands of `kind`.
pub fn roles(kind: CommandKind) -> &'static [Role] {
    use Role::{Staff, Viewer};
    use StaffRole::{Admin, Host, Moderator, Support};
    match kind {
        CommandKind::Say => &[Viewer, Staff(Host), Staff(Moderator), Staff(Admin)],
        // A viewer's own data-protection request: staff log theirs with
        // `regie privacy requests --add`.
        CommandKind::Consent
        | CommandKind::SmsSubscribe
        | CommandKind::Vote
        | CommandKind::Enter
        | CommandKind::PrivacyRequest => &[Viewer],
        // Slow mode (and the viewers' delivery) paces the chat: the host
        // running the show may need it as much as the moderators keeping it
        // clean.
        // A claim says who works on a question (hosts) or a held message
        // (moderators); the session checks the target against the role.
        CommandKind::Pin
        | CommandKind::Unpin
        | CommandKind::SlowMode
        | CommandKind::Delivery
        | CommandKind::Claim
        | CommandKind::Unclaim => &[Staff(Host), Staff(Moderator), Staff(Admin)],
        // Whoever may sanction a viewer may lift the sanction. The live's
        // rules are the moderators' tools too: a host runs the show,
        // support answers requests; neither edits nor reads the rules.
        CommandKind::Hide
        | CommandKind::Release
        | CommandKind::Deny
        | CommandKind::Timeout
        | CommandKind::Ban
        | CommandKind::Unban
        | CommandKind::LiftTimeout
        | CommandKind::RuleAdd
        | CommandKind::RuleRemove
        | CommandKind::Rules
        | CommandKind::RuleTest
        // Shield is the moderators' emergency brake.
        | CommandKind::ShieldOn
        | CommandKind::ShieldOff => &[Staff(Moderator), Staff(Admin)],
        CommandKind::Redact | CommandKind::RectifyViewer | CommandKind::EraseViewer => {
            &[Staff(Support), Staff(Admin)]
        }
        // The people who answer data-protection requests, and no one else:
        // an export holds contact data in clear.
        CommandKind::ExportViewer | CommandKind::RightsRequests => &[Staff(Support), Staff(Admin)],
        // Notes, and the staff log (who did what to whom, no content), are
        // for the people who act on viewers: moderators (who sanction) and
        // support (who answer their requests). A host runs the show and
        // sees the live Staff activity only.
        CommandKind::NoteAdd | CommandKind::StaffLog => {
            &[Staff(Moderator), Staff(Support), Staff(Admin)]
        }
        // Any staff member may see the schedule (the console's Lives popup),
        // and search the live's older chat: what every staff console shows
        // of it anyway (visible messages), beyond its scrollback. A viewer
        // flag is a note between the people on shift, whatever their role:
        // everyone sees the viewer's lines.
        CommandKind::ViewerCard
        | CommandKind::LiveList
        | CommandKind::HistorySearch
        | CommandKind::FlagViewer
        | CommandKind::UnflagViewer => {
            &[Staff(Host), Staff(Moderator), Staff(Support), Staff(Admin)]
        }
        // Answers, polls and draws. A poll or a draw is part of the show's
        // script: hosts run it, admins can step in; moderators keep the
        // chat clean.
        CommandKind::Answer
        | CommandKind::MarkAnswered
        | CommandKind::ReopenQuestion
        | CommandKind::PollOpen
        | CommandKind::PollClose
        | CommandKind::PollClear
        | CommandKind::InstantWinOpen
        | CommandKind::InstantWinClose
        | CommandKind::Redraw
        // The show's clock too: a moderator keeps the chat clean but does
        // not start or end the show.
        | CommandKind::LiveStart
        | CommandKind::LiveEnd
        // What is on screen and what the host says about it.
        | CommandKind::ProductAdd
        | CommandKind::NowShowing
        | CommandKind::CannedAdd
        // The post-live report: the brand's results (revenue, conversion)
        // for the people who run its shows; anonymous and k-suppressed,
        // but business figures moderators and support do not work with.
        | CommandKind::Report => &[Staff(Host), Staff(Admin)],
        // Announcing a live is the brand's business, and so is texting
        // its viewers after it.
        CommandKind::LiveCreate | CommandKind::SmsSegments | CommandKind::SmsFollowUp => {
            &[Staff(Admin)]
        }
    }
}

/// Whether `role` may send commands of `kind`.
pub fn allows(role: Role, kind: CommandKind) -> bool {
    roles(kind).contains(&role)
}

/// Whether a viewer card shown to `role` carries the (masked) contact data.
/// Only the people who handle data-protection requests need it.
pub fn sees_contact(role: Role) -> bool {
    matches!(role, Role::Staff(StaffRole::Support | StaffRole::Admin))
}

/// The wire name of a role, as the permission table in the docs spells it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Viewer => "viewer",
        Role::Staff(s) => s.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command::{Command, one_of_each};

    fn staff(role: StaffRole) -> Role {
        Role::Staff(role)
    }

    #[test]
    fn viewers_may_only_say_consent_vote_enter_and_ask_for_their_data() {
        for c in one_of_each() {
            let expected = matches!(
                c,
                Command::Say { .. }
                    | Command::Consent { .. }
                    | Command::SmsSubscribe { .. }
                    | Command::Vote { .. }
                    | Command::Enter { .. }
                    | Command::PrivacyRequest { .. }
            );
            assert_eq!(allows(Role::Viewer, c.kind()), expected, "{}", c.name());
        }
    }

    #[test]
    fn admin_may_do_every_staff_command() {
        use CommandKind::{Consent, Enter, PrivacyRequest, SmsSubscribe, Vote};
        for &kind in CommandKind::ALL {
            if !matches!(kind, Consent | SmsSubscribe | Vote | Enter | PrivacyRequest) {
                assert!(allows(staff(StaffRole::Admin), kind), "{kind}");
            }
        }
    }

    #[test]
    fn every_kind_has_someone_who_may_send_it() {
        for &kind in CommandKind::ALL {
            assert!(!roles(kind).is_empty(), "{kind}");
        }
    }

    #[test]
    fn roles_match_their_jobs() {
        use CommandKind::*;
        let host = staff(StaffRole::Host);
        let moderator = staff(StaffRole::Moderator);
        let support = staff(StaffRole::Support);
        assert!(allows(host, Answer) && allows(host, MarkAnswered));
        // Whoever may mark a question answered may take the mark back.
        assert_eq!(roles(ReopenQuestion), roles(MarkAnswered));
        assert!(!allows(host, Ban) && !allows(host, Redact));
        assert_eq!(roles(Unban), roles(Ban));
        assert_eq!(roles(LiftTimeout), roles(Timeout));
        // Whoever may let a held message through may refuse it.
        assert_eq!(roles(Deny), roles(Release));
        assert!(allows(moderator, NoteAdd) && allows(support, NoteAdd) && !allows(host, NoteAdd));
        assert!(allows(host, SlowMode) && allows(moderator, SlowMode));
        assert!(!allows(support, SlowMode) && !allows(Role::Viewer, SlowMode));
        assert!(allows(moderator, Ban) && allows(moderator, Hide));
        assert!(!allows(moderator, Redact) && !allows(moderator, Answer));
        assert!(allows(support, Redact) && !allows(support, Ban));
        assert!(!allows(support, Say));
        for kind in [ExportViewer, RightsRequests] {
            assert!(allows(support, kind) && !allows(host, kind) && !allows(moderator, kind));
        }
        assert!(sees_contact(support) && !sees_contact(moderator) && !sees_contact(host));
        for kind in [RuleAdd, RuleRemove, Rules, RuleTest] {
            assert!(allows(moderator, kind) && !allows(host, kind) && !allows(support, kind));
        }
        // Hosts claim questions, moderators held messages; support neither.
        assert_eq!(roles(Unclaim), roles(Claim));
        assert!(allows(host, Claim) && allows(moderator, Claim) && !allows(support, Claim));
        assert_eq!(roles(UnflagViewer), roles(FlagViewer));
        assert!(allows(host, FlagViewer) && allows(support, FlagViewer));
    }

    #[test]
    fn role_names_are_the_wire_names() {
        assert_eq!(role_name(Role::Viewer), "viewer");
        assert_eq!(role_name(staff(StaffRole::Support)), "support");
    }
}
