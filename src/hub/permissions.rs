//! Who may send which command. The hub checks every command against this
//! table; the console only hides what a role cannot do. Kept as data so the
//! table in `docs/protocol.md` is checked against it by a test.

use crate::protocol::{Command, Role, StaffRole};

/// Every command by wire name, with the roles allowed to send it.
pub const TABLE: &[(&str, &[Role])] = {
    use Role::{Staff, Viewer};
    use StaffRole::{Admin, Host, Moderator, Support};
    &[
        (
            "say",
            &[Viewer, Staff(Host), Staff(Moderator), Staff(Admin)],
        ),
        ("consent", &[Viewer]),
        ("answer", &[Staff(Host), Staff(Admin)]),
        ("pin", &[Staff(Host), Staff(Moderator), Staff(Admin)]),
        ("unpin", &[Staff(Host), Staff(Moderator), Staff(Admin)]),
        ("mark_answered", &[Staff(Host), Staff(Admin)]),
        ("hide", &[Staff(Moderator), Staff(Admin)]),
        ("release", &[Staff(Moderator), Staff(Admin)]),
        ("timeout", &[Staff(Moderator), Staff(Admin)]),
        ("ban", &[Staff(Moderator), Staff(Admin)]),
        ("redact", &[Staff(Support), Staff(Admin)]),
        (
            "viewer_card",
            &[Staff(Host), Staff(Moderator), Staff(Support), Staff(Admin)],
        ),
        // A poll or a draw is part of the show's script: hosts run it,
        // admins can step in; moderators keep the chat clean.
        ("poll_open", &[Staff(Host), Staff(Admin)]),
        ("poll_close", &[Staff(Host), Staff(Admin)]),
        ("vote", &[Viewer]),
        ("instant_win_open", &[Staff(Host), Staff(Admin)]),
        ("instant_win_close", &[Staff(Host), Staff(Admin)]),
        ("enter", &[Viewer]),
        ("redraw", &[Staff(Host), Staff(Admin)]),
    ]
};

/// Whether `role` may send `command`.
pub fn allows(role: Role, command: &Command) -> bool {
    allows_name(role, command.name())
}

/// Whether `role` may send the command called `name` on the wire.
pub fn allows_name(role: Role, name: &str) -> bool {
    TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

/// Whether a viewer card shown to `role` carries the (masked) contact data.
/// Only the people who handle data-protection requests need it.
pub fn sees_contact(role: Role) -> bool {
    matches!(
        role,
        Role::Staff(StaffRole::Support) | Role::Staff(StaffRole::Admin)
    )
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
    use crate::protocol::{MessageId, ViewerId};

    fn every_command() -> Vec<Command> {
        vec![
            Command::Say {
                text: "hi".into(),
                question: false,
            },
            Command::Consent {
                purpose: crate::protocol::ConsentPurpose::Marketing,
                granted: true,
                channel: crate::protocol::ConsentChannel::Player,
                text_sha256: "00".into(),
            },
            Command::Answer {
                message_id: MessageId(1),
                text: "yes".into(),
            },
            Command::Pin {
                message_id: MessageId(1),
            },
            Command::Unpin,
            Command::MarkAnswered {
                message_id: MessageId(1),
            },
            Command::Hide {
                message_id: MessageId(1),
                reason: String::new(),
            },
            Command::Release {
                message_id: MessageId(1),
            },
            Command::Timeout {
                viewer_id: ViewerId("v".into()),
                seconds: 60,
                reason: String::new(),
            },
            Command::Ban {
                viewer_id: ViewerId("v".into()),
                reason: String::new(),
            },
            Command::Redact {
                message_id: MessageId(1),
                reason: "request".into(),
            },
            Command::ViewerCard {
                viewer_id: ViewerId("v".into()),
            },
            Command::PollOpen {
                question: "q".into(),
                options: vec!["a".into(), "b".into()],
                duration_secs: None,
            },
            Command::PollClose { poll_id: 1 },
            Command::Vote {
                poll_id: 1,
                option: 0,
            },
            Command::InstantWinOpen {
                prize: "p".into(),
                winners: 1,
                entry_secs: 60,
                rules: String::new(),
            },
            Command::InstantWinClose { draw_id: 1 },
            Command::Enter { draw_id: 1 },
            Command::Redraw {
                draw_id: 1,
                exclude: Vec::new(),
                reason: "r".into(),
            },
        ]
    }

    #[test]
    fn every_command_is_in_the_table_once() {
        for c in every_command() {
            let n = TABLE.iter().filter(|(name, _)| *name == c.name()).count();
            assert_eq!(n, 1, "{} appears {n} times", c.name());
        }
        assert_eq!(TABLE.len(), every_command().len());
    }

    #[test]
    fn viewers_may_only_say_consent_vote_and_enter() {
        for c in every_command() {
            let expected = matches!(c.name(), "say" | "consent" | "vote" | "enter");
            assert_eq!(allows(Role::Viewer, &c), expected, "{}", c.name());
        }
    }

    #[test]
    fn admin_may_do_every_staff_command() {
        for c in every_command() {
            if !matches!(c.name(), "consent" | "vote" | "enter") {
                assert!(allows(Role::Staff(StaffRole::Admin), &c), "{}", c.name());
            }
        }
    }

    #[test]
    fn roles_match_their_jobs() {
        let host = Role::Staff(StaffRole::Host);
        let moderator = Role::Staff(StaffRole::Moderator);
        let support = Role::Staff(StaffRole::Support);
        assert!(allows_name(host, "answer") && allows_name(host, "mark_answered"));
        assert!(!allows_name(host, "ban") && !allows_name(host, "redact"));
        assert!(allows_name(moderator, "ban") && allows_name(moderator, "hide"));
        assert!(!allows_name(moderator, "redact") && !allows_name(moderator, "answer"));
        assert!(allows_name(support, "redact") && !allows_name(support, "ban"));
        assert!(!allows_name(support, "say"));
        assert!(sees_contact(support) && !sees_contact(moderator) && !sees_contact(host));
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!(!allows_name(Role::Staff(StaffRole::Admin), "drop_table"));
    }
}
