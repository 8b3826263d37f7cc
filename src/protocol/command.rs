//! Commands: what clients ask the hub to do. Each travels in a
//! [`CommandFrame`] with a client-chosen id, so a retry has its effect once.

use serde::{Deserialize, Serialize};

use super::claims::FlagColour;
use super::rights::PrivacyRequestKind;
use super::rules::{RuleAction, RuleType};
use super::types::{ConsentChannel, ConsentPurpose, Contact, MessageId, ViewerId};

/// The longest slow mode gap a `slow_mode` command may set: an hour. A
/// longer wait is a closed chat, not a slow one.
pub const MAX_SLOW_MODE_SECS: u32 = 3600;

/// The most other messages one group `answer` is bound to (`also`).
pub const MAX_ANSWER_ALSO: usize = 100;

/// The most records one `staff_log` page carries.
pub const MAX_STAFF_LOG_PAGE: u32 = 200;

/// The most messages one `history_search` page carries (and the page size
/// when the command names none: [`DEFAULT_HISTORY_PAGE`]).
pub const MAX_HISTORY_PAGE: u32 = 100;
/// The page size of a `history_search` that names no `limit`.
pub const DEFAULT_HISTORY_PAGE: u32 = 50;
/// The longest `history_search` query, in characters: a few words, not a
/// message (longer is refused, not cut).
pub const MAX_HISTORY_QUERY_CHARS: usize = 100;

/// Which SMS alerts a viewer asks for (`sms_subscribe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsScope {
    /// This live's alert only: the phone is deleted right after it.
    Live,
    /// This live's and the brand's next lives' (the phone is kept, within
    /// the retention period).
    Brand,
}

impl SmsScope {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsScope::Live => "live",
            SmsScope::Brand => "brand",
        }
    }
}

/// A client-chosen command id, unique per client (a counter, a UUID...).
/// The hub remembers recent ids per principal and answers a retry with the
/// first answer instead of acting again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommandId(pub String);

impl std::fmt::Display for CommandId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `{"type":"command","id":"c-17","command":{"type":"say",...}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandFrame {
    pub id: CommandId,
    pub command: Command,
}

/// Declares [`Command`] and [`CommandKind`] from one list, like the console's
/// `actions!` does for keys: each command's wire name is written once and
/// becomes its serde tag and [`CommandKind::name`], so the enum, the names
/// and [`CommandKind::ALL`] cannot disagree, and a misspelt kind does not
/// compile.
macro_rules! commands {
    ($(
        $(#[$meta:meta])*
        $variant:ident = $name:literal $({ $($field:tt)* })?,
    )*) => {
        /// Everything a client can ask. Which role may send which command is
        /// decided by the hub with [`super::permissions`], never by the client.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum Command {
            $(
                $(#[$meta])*
                #[serde(rename = $name)]
                $variant $({ $($field)* })?,
            )*
        }

        /// What a [`Command`] is, without its arguments: the key of the
        /// permission table, of logs and of metrics.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CommandKind {
            $($variant,)*
        }

        impl CommandKind {
            /// Every kind, in declaration order (the order of `docs/protocol.md`).
            pub const ALL: &'static [CommandKind] = &[$(CommandKind::$variant,)*];

            /// The wire name: the command's `"type"` tag.
            pub fn name(self) -> &'static str {
                match self {
                    $(CommandKind::$variant => $name,)*
                }
            }

            /// The kind whose wire name is `name`, if any.
            pub fn from_name(name: &str) -> Option<CommandKind> {
                match name {
                    $($name => Some(CommandKind::$variant),)*
                    _ => None,
                }
            }
        }

        impl Command {
            pub fn kind(&self) -> CommandKind {
                match self {
                    $(Command::$variant { .. } => CommandKind::$variant,)*
                }
            }
        }
    };
}

commands! {
    // ── viewer ──────────────────────────────────────────────────────────
    /// Post a chat message; `question` puts it in the hosts' queue. Staff
    /// (not viewers) may post it as an `announcement`, shown apart.
    Say = "say" {
        text: String,
        #[serde(default)]
        question: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        announcement: bool,
    },
    /// Give or withdraw consent for one purpose. Stored now; used by later
    /// features (prize contact, marketing).
    Consent = "consent" {
        purpose: ConsentPurpose,
        granted: bool,
        channel: ConsentChannel,
        /// Hex SHA-256 of the consent text the viewer was shown.
        text_sha256: String,
        /// Contact data collected under this consent (the phone a prize
        /// winner is called on). Stored only while the consent stands: a
        /// withdrawal deletes it; an empty field removes it.
        #[serde(default, skip_serializing_if = "Contact::is_empty")]
        contact: Contact,
    },
    /// Subscribe to the SMS alert of this live (`scope: live`) or of the
    /// brand's next lives too (`brand`): a `consent` for `sms_reminders`
    /// with the phone (normalised to E.164, stored sealed), and which alerts.
    /// Withdrawn with `consent` (`granted: false`) or an SMS STOP.
    SmsSubscribe = "sms_subscribe" {
        scope: SmsScope,
        phone: String,
        channel: ConsentChannel,
        /// Hex SHA-256 of the consent text the viewer was shown.
        text_sha256: String,
    },
    /// Ask support for a copy of one's data or its erasure: logged in the
    /// data dir's requests log (subject: the viewer's id), then acked. An
    /// open request of the same kind is not logged twice.
    PrivacyRequest = "privacy_request" { kind: PrivacyRequestKind },

    // ── staff ───────────────────────────────────────────────────────────
    /// A staff reply bound to a message; shown with the viewer's first name.
    /// `also` binds the same reply to the other messages of a question
    /// group (at most [`MAX_ANSWER_ALSO`], no duplicates): one answer,
    /// addressed to every asker.
    Answer = "answer" {
        message_id: MessageId,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        also: Vec<MessageId>,
    },
    /// Put a message on screen (replaces the current pin).
    Pin = "pin" { message_id: MessageId },
    /// Take the pinned message off screen.
    Unpin = "unpin",
    /// Mark a question answered.
    MarkAnswered = "mark_answered" { message_id: MessageId },
    /// Undo `mark_answered`: the question goes back to the open queue (a
    /// mark hit by mistake, or an answer that did not satisfy).
    ReopenQuestion = "reopen_question" { message_id: MessageId },
    /// Hide a message from viewers (moderation; the text stays for staff).
    Hide = "hide" {
        message_id: MessageId,
        #[serde(default)]
        reason: String,
    },
    /// Let a held message through to viewers.
    Release = "release" { message_id: MessageId },
    /// Silence a viewer for a while.
    Timeout = "timeout" {
        viewer_id: ViewerId,
        seconds: u32,
        #[serde(default)]
        reason: String,
    },
    /// Remove a viewer from the live for good.
    Ban = "ban" {
        viewer_id: ViewerId,
        #[serde(default)]
        reason: String,
    },
    /// Lift a viewer's ban: they may join and chat again. Refused
    /// (`not_found`) when the viewer is not banned.
    Unban = "unban" {
        viewer_id: ViewerId,
        #[serde(default)]
        reason: String,
    },
    /// End a viewer's timeout now. Refused (`not_found`) when the viewer is
    /// not timed out.
    LiftTimeout = "lift_timeout" {
        viewer_id: ViewerId,
        #[serde(default)]
        reason: String,
    },
    /// Slow mode: each viewer waits `secs` between two messages (at most
    /// [`MAX_SLOW_MODE_SECS`]); 0 turns it off.
    SlowMode = "slow_mode" { secs: u32 },
    /// The live's viewer delivery (see [`super::DeliveryPolicy`]): a frame
    /// every `tick_ms`, chat sampled above `chat_per_sec` lines a second
    /// (0: every line). Staff keep getting everything.
    Delivery = "delivery" { tick_ms: u32, chat_per_sec: u32 },
    /// Shield on (moderator, admin): the brand's emergency preset (slow
    /// mode, first-time chatters held, stricter rules, links off). The
    /// settings before are remembered for `shield_off`; while on, it is a
    /// no-op. With the preset's `ban_recent_terms`, answered with a
    /// `shield_review` frame listing who used them.
    ShieldOn = "shield_on",
    /// Shield off: the settings from before `shield_on` come back exactly.
    ShieldOff = "shield_off",
    /// Remove a message's content everywhere (data-protection request).
    /// Leaves a tombstone and an audit record without the content.
    Redact = "redact" {
        message_id: MessageId,
        reason: String,
    },
    /// Erase a viewer (GDPR Art. 17, support and admin): every message
    /// becomes a tombstone, their names, contact data, consents, sanctions
    /// and command outcomes go, votes and draw entries lose their link. One
    /// audit record without content; every client gets `viewer_erased`.
    EraseViewer = "erase_viewer" {
        viewer_id: ViewerId,
        reason: String,
    },
    /// Ask for a viewer's card; answered with a `viewer_card` frame.
    ViewerCard = "viewer_card" { viewer_id: ViewerId },
    /// Correct a viewer's first name and/or pseudonym (Art. 16, support
    /// and admin): stored, and every client relabels the viewer's lines.
    /// An absent field stays as it is.
    RectifyViewer = "rectify_viewer" {
        viewer_id: ViewerId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pseudonym: Option<String>,
    },
    /// Export everything held about a viewer (Art. 15/20, support and
    /// admin); answered, to the sender only, with a `viewer_export` frame.
    /// Audited without content.
    ExportViewer = "export_viewer" { viewer_id: ViewerId },
    /// The open requests of the requests log (support and admin); answered
    /// with a `rights_requests` frame.
    RightsRequests = "rights_requests",
    /// Refuse a held message (moderator, admin): it is erased like a
    /// redaction (tombstone, content gone from the store, audit without
    /// content) and its author is told. Only a held message can be denied.
    Deny = "deny" {
        message_id: MessageId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Add a staff-only note to a viewer's card (moderator, support,
    /// admin). Stored, shown on the card, audited without its text.
    NoteAdd = "note_add" { viewer_id: ViewerId, text: String },
    /// A page of the staff log (the audit log, content-free as stored),
    /// answered to the sender with a `staff_log` frame: the `limit` (1 to
    /// [`MAX_STAFF_LOG_PAGE`]) newest records older than index `before`,
    /// optionally only one staff member's (`actor`) or one action's.
    StaffLog = "staff_log" {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        limit: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<String>,
    },
    /// Search the live's older chat (staff), beyond a console's scrollback:
    /// answered to the sender with a `history_search` frame, the `limit`
    /// (1 to [`MAX_HISTORY_PAGE`], default [`DEFAULT_HISTORY_PAGE`]) newest
    /// visible messages older than `before` whose text holds every word of
    /// `query` (case and accents aside). Redacted, erased, held and hidden
    /// messages are never found.
    HistorySearch = "history_search" {
        query: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<MessageId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },

    // ── polls and instant wins ──────────────────────────────────────────
    /// Launch a poll (host, admin): 2 to 6 options; no duration = until closed.
    PollOpen = "poll_open" {
        question: String,
        options: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_secs: Option<u32>,
    },
    /// Close a poll early (host, admin).
    PollClose = "poll_close" { poll_id: u64 },
    /// Take a finished poll's result off the screen (host, admin): every
    /// console and player stops showing it.
    PollClear = "poll_clear" { poll_id: u64 },
    /// Vote (viewer): `option` is 0-based. One final vote per viewer.
    Vote = "vote" { poll_id: u64, option: usize },
    /// Launch an instant win (host, admin). The hub commits to a secret
    /// seed now and draws when the entry window ends.
    InstantWinOpen = "instant_win_open" {
        prize: String,
        winners: u32,
        entry_secs: u32,
        /// Rules text or link. The hub adds "No purchase necessary."
        rules: String,
    },
    /// End the entry window early and draw now (host, admin).
    InstantWinClose = "instant_win_close" { draw_id: u64 },
    /// Enter an instant win (viewer): one entry per viewer.
    Enter = "enter" { draw_id: u64 },
    /// A new recorded draw among the same entrants minus `exclude`, with its
    /// own commitment (host, admin). Never replaces a draw silently.
    Redraw = "redraw" {
        draw_id: u64,
        exclude: Vec<ViewerId>,
        reason: String,
    },

    // ── moderation rules (moderator, admin) ─────────────────────────────
    /// Add a rule to the live: it applies from the next message. An
    /// invalid regex is refused with the parser's message. Answered with an
    /// `ack`; staff get `rule_added`.
    RuleAdd = "rule_add" {
        kind: RuleType,
        pattern: String,
        action: RuleAction,
        /// Seconds until it stops applying, on the live's clock; absent is
        /// permanent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_in_secs: Option<u32>,
    },
    /// Remove a rule; staff get `rule_removed`.
    RuleRemove = "rule_remove" { rule_id: u32 },
    /// The live's rules; answered, to the sender only, with a `rules` frame.
    Rules = "rules",
    /// Which rules would fire on `text`, and why; answered, to the sender
    /// only, with a `rule_test` frame. Nothing is posted nor stored.
    RuleTest = "rule_test" { text: String },

    // ── claims and viewer flags (staff only) ────────────────────────────
    /// Claim an open question (host, admin) or a held message (moderator,
    /// admin): staff get `claimed`. Claiming what another staff member
    /// claimed takes it over; claiming one's own again renews the time-out.
    Claim = "claim" { message_id: MessageId },
    /// Let one's own claim go (`claim_ended`, `released`). Refused for a
    /// claim of someone else's: claim it to take it over.
    Unclaim = "unclaim" { message_id: MessageId },
    /// Flag a viewer for every staff console: a colour and an optional
    /// note, for `minutes` (default 10, at most a day). Flagging a flagged
    /// viewer replaces the flag.
    FlagViewer = "flag_viewer" {
        viewer_id: ViewerId,
        colour: FlagColour,
        #[serde(default)]
        note: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<u32>,
    },
    /// Lift a viewer's flag now. Refused (`not_found`) without one.
    UnflagViewer = "unflag_viewer" { viewer_id: ViewerId },

    // ── lives ───────────────────────────────────────────────────────────
    /// Announce a new live of the hub (admin): `scheduled`, with a title
    /// and when it should start. Refused when the name is taken or not a
    /// valid live name ([`super::check_live_name`]).
    LiveCreate = "live_create" {
        name: String,
        #[serde(default)]
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        starts_at: Option<super::Millis>,
    },
    /// Every live of the hub (staff); answered with a `lives` frame.
    LiveList = "live_list",
    /// The anonymous post-live report of `live` (any live of the hub),
    /// computed from the store as `regie report` computes it; answered
    /// with a `report` frame. An unknown live is `not_found`, one that
    /// never started `invalid`.
    Report = "report" { live: String },
    /// Put the live this connection joined on air (host, admin). Only
    /// forward: an ended live cannot start again.
    LiveStart = "live_start",
    /// End the live this connection joined (host, admin): its chat closes
    /// for viewers, open polls close, open instant wins are drawn.
    LiveEnd = "live_end",
    /// How many viewers of this ended live each post-live segment would
    /// reach with a follow-up SMS (admin): only those holding the
    /// `sms_marketing` consent, and not sent one yet. Answered with an
    /// `sms_segments` frame; counts only.
    SmsSegments = "sms_segments",
    /// Queue the follow-up SMS (`[sms] follow_up`) for one segment of this
    /// ended live (admin). `recipients` is the count the admin confirmed:
    /// refused (`invalid`, nothing queued) when the count is not that any more. One
    /// message per recipient, merge tags filled per recipient, held until
    /// quiet hours end (Monday–Saturday 08:00–20:00 Paris, not on a French
    /// public holiday).
    SmsFollowUp = "sms_follow_up" {
        segment: super::SmsSegment,
        recipients: u64,
    },

    // ── products and canned answers ─────────────────────────────────────
    /// Add a product to the live (host, admin); everyone gets
    /// `product_added`. Bounded and checked like the brand file's
    /// `[[products]]` (a link must be http(s)).
    ProductAdd = "product_add" {
        name: String,
        price: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// Put a product of the live on the viewers' screen, or clear it with
    /// no id (host, admin); everyone gets `now_showing`. Questions asked
    /// while it shows carry its id.
    NowShowing = "now_showing" {
        #[serde(default)]
        product_id: Option<u32>,
    },
    /// Save a canned answer (host, admin): its text's merge tags must be
    /// known ones. Staff get `canned_added`; it survives a restart.
    CannedAdd = "canned_add" { title: String, text: String },
}

impl Command {
    /// The wire name of the command, for logs and messages.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

impl std::fmt::Display for CommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One command of every kind, in [`CommandKind::ALL`] order, for tests that
/// must cover them all.
#[cfg(test)]
#[expect(
    clippy::too_many_lines,
    reason = "one example per command, flat on purpose"
)]
pub(crate) fn one_of_each() -> Vec<Command> {
    let viewer = || ViewerId("v".into());
    vec![
        Command::Say {
            text: "hi".into(),
            question: false,
            announcement: false,
        },
        Command::Consent {
            purpose: ConsentPurpose::Marketing,
            granted: true,
            channel: ConsentChannel::Player,
            text_sha256: "00".into(),
            contact: Contact::default(),
        },
        Command::SmsSubscribe {
            scope: SmsScope::Live,
            phone: "06 12 34 56 78".into(),
            channel: ConsentChannel::Player,
            text_sha256: "00".into(),
        },
        Command::PrivacyRequest {
            kind: PrivacyRequestKind::Access,
        },
        Command::Answer {
            message_id: MessageId(1),
            text: "yes".into(),
            also: vec![MessageId(2)],
        },
        Command::Pin {
            message_id: MessageId(1),
        },
        Command::Unpin,
        Command::MarkAnswered {
            message_id: MessageId(1),
        },
        Command::ReopenQuestion {
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
            viewer_id: viewer(),
            seconds: 60,
            reason: String::new(),
        },
        Command::Ban {
            viewer_id: viewer(),
            reason: String::new(),
        },
        Command::Unban {
            viewer_id: viewer(),
            reason: "appeal".into(),
        },
        Command::LiftTimeout {
            viewer_id: viewer(),
            reason: String::new(),
        },
        Command::SlowMode { secs: 10 },
        Command::Delivery {
            tick_ms: 200,
            chat_per_sec: 10,
        },
        Command::ShieldOn,
        Command::ShieldOff,
        Command::Redact {
            message_id: MessageId(1),
            reason: "request".into(),
        },
        Command::EraseViewer {
            viewer_id: viewer(),
            reason: "art. 17 request".into(),
        },
        Command::ViewerCard {
            viewer_id: viewer(),
        },
        Command::RectifyViewer {
            viewer_id: viewer(),
            first_name: Some("Léa".into()),
            pseudonym: None,
        },
        Command::ExportViewer {
            viewer_id: viewer(),
        },
        Command::RightsRequests,
        Command::Deny {
            message_id: MessageId(1),
            reason: None,
        },
        Command::NoteAdd {
            viewer_id: viewer(),
            text: "warned twice about links".into(),
        },
        Command::StaffLog {
            before: None,
            limit: 50,
            actor: None,
            action: Some("ban".into()),
        },
        Command::HistorySearch {
            query: "livraison belgique".into(),
            before: Some(MessageId(120)),
            limit: Some(50),
        },
        Command::PollOpen {
            question: "q".into(),
            options: vec!["a".into(), "b".into()],
            duration_secs: None,
        },
        Command::PollClose { poll_id: 1 },
        Command::PollClear { poll_id: 1 },
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
        Command::RuleAdd {
            kind: RuleType::Term,
            pattern: "arnaq*".into(),
            action: RuleAction::Hold,
            expires_in_secs: Some(3600),
        },
        Command::RuleRemove { rule_id: 1 },
        Command::Rules,
        Command::RuleTest {
            text: "une arnaque".into(),
        },
        Command::Claim {
            message_id: MessageId(1),
        },
        Command::Unclaim {
            message_id: MessageId(1),
        },
        Command::FlagViewer {
            viewer_id: viewer(),
            colour: FlagColour::Orange,
            note: "asks for a discount code".into(),
            minutes: Some(10),
        },
        Command::UnflagViewer {
            viewer_id: viewer(),
        },
        Command::LiveCreate {
            name: "next-show".into(),
            title: "Next show".into(),
            starts_at: Some(1_700_000_000_000),
        },
        Command::LiveList,
        Command::Report {
            live: "hier-soir".into(),
        },
        Command::LiveStart,
        Command::LiveEnd,
        Command::SmsSegments,
        Command::SmsFollowUp {
            segment: super::SmsSegment::Voted,
            recipients: 12,
        },
        Command::ProductAdd {
            name: "Robe Lina".into(),
            price: "49 €".into(),
            link: Some("https://shop.example.com/lina".into()),
        },
        Command::NowShowing {
            product_id: Some(1),
        },
        Command::CannedAdd {
            title: "Livraison".into(),
            text: "{first_name}, la livraison est offerte".into(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_cover_every_kind_in_order() {
        let kinds: Vec<CommandKind> = one_of_each().iter().map(Command::kind).collect();
        assert_eq!(kinds, CommandKind::ALL);
    }

    #[test]
    fn the_wire_name_is_the_serde_tag_and_parses_back() {
        for c in one_of_each() {
            let json = serde_json::to_value(&c).unwrap();
            assert_eq!(json["type"], c.name());
            assert_eq!(CommandKind::from_name(c.name()), Some(c.kind()));
            let back: Command = serde_json::from_value(json).unwrap();
            assert_eq!(back, c);
        }
        assert_eq!(CommandKind::from_name("drop_table"), None);
    }

    #[test]
    fn wire_names_are_unique() {
        let names: std::collections::BTreeSet<&str> =
            CommandKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), CommandKind::ALL.len());
    }
}
