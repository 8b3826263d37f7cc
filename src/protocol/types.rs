//! Value types that appear inside frames.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC. Plain integers keep the wire
/// format language-neutral and the ordering obvious.
pub type Millis = i64;

/// Identifies one incarnation of a live session's history. It changes when
/// history was lost (a new data dir, a reset), which tells a resuming client
/// that its `seq` no longer means anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(pub String);

/// Position in a live session's event stream.
pub type Seq = u64;

/// A chat message (viewer message or staff answer), numbered by the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub u64);

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A viewer's pseudonymous id: stable for one viewer within a live, derived by
/// the hub with a keyed hash, and meaningless outside it. Instant-win entrant
/// lists are published with these ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ViewerId(pub String);

impl std::fmt::Display for ViewerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Staff roles, least to most privileged in data access. Permissions are a
/// table in `protocol::permissions`, not an ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Host,
    Moderator,
    Support,
    Admin,
}

impl StaffRole {
    pub const ALL: [StaffRole; 4] = [Self::Host, Self::Moderator, Self::Support, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Moderator => "moderator",
            Self::Support => "support",
            Self::Admin => "admin",
        }
    }
}

impl std::fmt::Display for StaffRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StaffRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown role {s:?}: expected host, moderator, support or admin")
            })
    }
}

/// Who a connection is, as far as delivery is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Staff(StaffRole),
}

impl Role {
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Staff(_))
    }
}

/// Who wrote a chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    Viewer {
        viewer_id: ViewerId,
        first_name: String,
        /// Chosen by the viewer, or assigned by the hub, to tell two Julies apart.
        pseudonym: String,
    },
    Staff {
        name: String,
        role: StaffRole,
    },
}

impl Author {
    /// The name shown in the chat: a viewer's first name, a staff member's name.
    pub fn display_name(&self) -> &str {
        match self {
            Author::Viewer { first_name, .. } => first_name,
            Author::Staff { name, .. } => name,
        }
    }

    pub fn viewer_id(&self) -> Option<&ViewerId> {
        match self {
            Author::Viewer { viewer_id, .. } => Some(viewer_id),
            Author::Staff { .. } => None,
        }
    }
}

/// Why a message waits in the hold queue instead of reaching viewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// A phone number, e-mail, IBAN or card number was detected. The stored
    /// and shown text already has it masked.
    PersonalData,
    /// A `hold` rule's blocked term matched.
    BlockedTerm,
    /// A `hold` rule's regular expression matched.
    RegexRule,
    /// A link the live's link policy does not allow (a `hold` link rule).
    LinkPolicy,
    /// Shield is on and the viewer is a first-time chatter: they had posted
    /// nothing in this live before Shield went on (see `hub/shield.rs`).
    FirstTimeChatter,
    /// Shield is on and one of its preset's stricter rules (a term, a
    /// regex, a link) matched.
    ShieldRule,
}

/// Where a message stands in moderation. Viewers only ever see `Visible`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Visibility {
    Visible,
    Held {
        reason: HoldReason,
        /// Staff only, in effect (viewers never get a held message): the
        /// id of the live's rule that held it (`blocked_term`,
        /// `regex_rule`, `link_policy`), as `rules` lists it. Absent for
        /// personal data, Shield, and messages held before rules had ids.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule_id: Option<u32>,
    },
    Hidden,
}

/// The message a staff answer replies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    pub message_id: MessageId,
    /// The first name the answer addresses ("Julie, yes, it comes in 38").
    pub first_name: String,
}

/// One chat line. Text is already sanitised by the hub; clients sanitise
/// again at render anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: MessageId,
    pub at: Millis,
    pub author: Author,
    pub text: String,
    #[serde(default)]
    pub question: bool,
    #[serde(default)]
    pub answered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyTo>,
    /// A group answer's other askers, one per message (first name each),
    /// beside `reply_to`: a viewer sees the answer as theirs when either
    /// names one of their messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_to: Vec<ReplyTo>,
    pub visibility: Visibility,
    /// A staff announcement (`say` with `announcement`): shown apart from
    /// the chat by every client. Only staff messages carry it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub announcement: bool,
    /// A question asked while a product was showing: that product's id
    /// (consoles show its name beside the question).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<u32>,
}

/// A product of the live: from the brand file's `[[products]]`, or added
/// live by a host (`product_add`). Shown to viewers as the "now showing"
/// card; every field is text, sanitised, and `link` is http(s) only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// The brand file's products are numbered from 1 in file order; those
    /// added live from [`crate::catalogue::FIRST_ADDED_PRODUCT_ID`] on, so a
    /// file edited between two shows never renumbers them.
    pub id: u32,
    pub name: String,
    /// As the brand writes it ("49 €", "2 for 30 €"): shown, never computed.
    pub price: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// A canned answer: a title to find it by and a text with merge tags
/// ([`crate::merge_tags`]), expanded by the console before it is sent.
/// Staff only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedAnswer {
    pub title: String,
    pub text: String,
}

impl ChatMessage {
    /// Every message this answer replies to: `reply_to`, then `also_to`.
    pub fn replies_to(&self) -> impl Iterator<Item = &ReplyTo> {
        self.reply_to.iter().chain(&self.also_to)
    }

    /// Mutable [`ChatMessage::replies_to`], for erasure and rectification.
    pub fn replies_to_mut(&mut self) -> impl Iterator<Item = &mut ReplyTo> {
        self.reply_to.iter_mut().chain(self.also_to.iter_mut())
    }
}

/// What remains of a redacted message: who, when, why, never what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub message_id: MessageId,
    /// When the message was originally posted.
    pub posted_at: Millis,
    pub redacted_at: Millis,
    /// The author's pseudonymous id, for viewer messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<ViewerId>,
    pub reason: String,
    /// Role (and, for staff audiences, name) of who redacted it.
    pub by: Actor,
}

/// A staff member as recorded on an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Absent in what viewers receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role: StaffRole,
}

/// One line of the feed as history serves it: a message, or its tombstone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChatEntry {
    Message(ChatMessage),
    Redacted(Tombstone),
}

impl ChatEntry {
    pub fn id(&self) -> MessageId {
        match self {
            ChatEntry::Message(m) => m.id,
            ChatEntry::Redacted(t) => t.message_id,
        }
    }
}

/// Live-session settings every client needs to behave (and to show counters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub max_message_graphemes: usize,
    /// Seconds a viewer must wait between messages; 0 when slow mode is off.
    pub slow_mode_secs: u32,
    /// Sustained messages per second one viewer may send.
    pub viewer_rate_per_sec: u32,
    /// Burst allowance on top of the sustained rate.
    pub viewer_burst: u32,
    /// Shield, the brand's emergency preset, is on (`shield_on`): the slow
    /// mode above is the preset's, and stricter rules apply. Left out when
    /// off.
    #[serde(default, skip_serializing_if = "is_false")]
    pub shield: bool,
    /// Whether the brand collects marketing e-mail opt-ins (`[collect]
    /// email_opt_in`): a page hides the checkbox when not. A `consent` for
    /// `marketing` is refused (`not_offered`) when false.
    #[serde(default = "offered")]
    pub email_opt_in: bool,
    /// Whether the brand offers SMS alerts (`[collect] sms_alerts`); a
    /// `consent` for `sms_reminders` is refused (`not_offered`) when false.
    #[serde(default = "offered")]
    pub sms_alerts: bool,
    /// How viewers receive the live (`[live] viewer_tick_ms`,
    /// `viewer_chat_per_sec`, or staff's `delivery`). Left out when it is
    /// the default (and absent from older hubs).
    #[serde(default, skip_serializing_if = "super::DeliveryPolicy::is_default")]
    pub delivery: super::DeliveryPolicy,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_false(b: &bool) -> bool {
    !*b
}

/// An opt-in absent from an older hub's settings was offered.
fn offered() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_message_graphemes: super::MAX_MESSAGE_GRAPHEMES,
            slow_mode_secs: 0,
            viewer_rate_per_sec: 1,
            viewer_burst: 5,
            shield: false,
            email_opt_in: true,
            sms_alerts: true,
            delivery: super::DeliveryPolicy::default(),
        }
    }
}

/// A sanction currently applying to a viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sanction {
    TimedOut {
        until: Millis,
        reason: String,
        by: Actor,
        at: Millis,
    },
    Banned {
        reason: String,
        by: Actor,
        at: Millis,
    },
}

/// Masked contact data, for support only (`+33 6•• •• •• 78`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MaskedContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A viewer who used one of the Shield preset's `ban_recent_terms` in the
/// minutes before Shield went on: listed, in a `shield_review` frame, for
/// a moderator to ban (or not). Never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShieldSuspect {
    pub viewer_id: ViewerId,
    pub first_name: String,
    pub pseudonym: String,
    /// How many of their messages used one of the terms.
    pub uses: u32,
    /// When they last did.
    pub last_at: Millis,
}

/// A viewer's card, answered to the `viewer_card` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerCard {
    pub viewer_id: ViewerId,
    pub first_name: String,
    pub pseudonym: String,
    pub first_seen: Millis,
    /// Most recent first, tombstones in place of redacted messages.
    pub recent: Vec<ChatEntry>,
    pub sanctions: Vec<Sanction>,
    /// Present only when the asking role is support or admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<MaskedContact>,
    #[serde(default)]
    pub consents: Vec<ConsentState>,
    /// Staff-only moderation notes on the viewer (`note_add`), oldest
    /// first. Never shown to the viewer; gone with an erasure and after the
    /// `moderation_notes` retention period.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<ModNote>,
}

/// One staff note on a viewer: who wrote it, when, and the text (already
/// sanitised by the hub).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModNote {
    pub at: Millis,
    pub by: Actor,
    pub text: String,
}

/// What a viewer consented to. Stored with the hash of the text they were
/// shown, so the record proves what they agreed to without storing prose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentState {
    pub purpose: ConsentPurpose,
    pub granted: bool,
    pub at: Millis,
    pub channel: ConsentChannel,
    /// Hex SHA-256 of the consent text shown.
    pub text_sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    /// Being contacted if they win an instant win.
    PrizeContact,
    /// Marketing messages from the brand.
    Marketing,
    /// SMS reminders for the next show.
    SmsReminders,
    /// Promotional SMS from the brand after a live (the follow-ups an
    /// admin sends to a segment): its own consent, never the alert's.
    SmsMarketing,
}

impl ConsentPurpose {
    pub const ALL: [ConsentPurpose; 4] = [
        ConsentPurpose::PrizeContact,
        ConsentPurpose::Marketing,
        ConsentPurpose::SmsReminders,
        ConsentPurpose::SmsMarketing,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChannel {
    Player,
    Sms,
    Support,
    /// An e-mail provider's (or the CRM's) unsubscribe webhook.
    Email,
}

/// Optional, opt-in contact data a viewer may give when joining. Never
/// broadcast; stored encrypted; shown masked to support only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Longest contact phone number and e-mail address accepted, in bytes.
pub const MAX_CONTACT_BYTES: usize = 254;

impl Contact {
    pub fn is_empty(&self) -> bool {
        self.phone.is_none() && self.email.is_none()
    }

    /// Trims the fields and refuses what cannot be a phone number or an
    /// e-mail address. A field left empty stays, as `Some("")`: it is the
    /// viewer removing what they gave. The values are never logged nor
    /// echoed back.
    pub fn cleaned(self) -> Result<Contact, &'static str> {
        let trim = |s: Option<String>| s.map(|s| s.trim().to_owned());
        let phone = trim(self.phone);
        let email = trim(self.email);
        if let Some(p) = phone.as_deref().filter(|p| !p.is_empty()) {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            if p.len() > MAX_CONTACT_BYTES
                || !(6..=20).contains(&digits)
                || !p
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-.()/".contains(c))
            {
                return Err("the contact phone number is not a phone number");
            }
        }
        if let Some(e) = email.as_deref().filter(|e| !e.is_empty())
            && (e.len() > MAX_CONTACT_BYTES
                || e.chars().any(|c| c.is_whitespace() || c.is_control())
                || !e
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.')))
        {
            return Err("the contact e-mail is not an e-mail address");
        }
        Ok(Contact { phone, email })
    }
}

/// A viewer under a sanction, as a staff snapshot lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanctionedViewer {
    pub viewer_id: ViewerId,
    /// When the timeout runs out; absent for a ban (which wins over a
    /// timeout the viewer also has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Millis>,
}

/// What the brand's Shield preset (`[shield]`) changes, as staff see it:
/// counts of its terms and regexes, never the terms themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShieldPresetView {
    pub slow_mode_secs: u32,
    pub hold_first_time_chatters: bool,
    pub terms: u32,
    pub regexes: u32,
    /// Whether its rules block (`true`) or hold (`false`).
    pub blocks: bool,
    /// `"none"`, `"all"` or `"allow_list"`.
    pub links: String,
    /// Terms whose recent users are listed for review; 0 is no list.
    pub ban_recent_terms: u32,
    pub ban_recent_minutes: u32,
}

/// One staff action as the audit log records it: who, what, on which id.
/// Never message content, nor the reason typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAction {
    pub at: Millis,
    /// Absent when the hub acted on its own (a poll's deadline, a draw at
    /// the end of its window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Actor>,
    /// The command's wire name (`hide`, `ban`, `close_poll`…).
    pub action: String,
    /// What was acted on, by id (`#12`, a viewer id, a poll's number);
    /// empty when nothing was (a staff post).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
}

/// A poll as launched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollView {
    pub id: u64,
    pub question: String,
    pub options: Vec<String>,
    pub opened_at: Millis,
    /// Absent: open until closed from the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<Millis>,
    /// Viewers online at launch: the denominator of the participation rate.
    pub audience_at_launch: u64,
    pub by: Actor,
}

/// A poll with its counts, for snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollState {
    pub poll: PollView,
    pub counts: Vec<u64>,
    pub voters: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Millis>,
    /// When staff took the finished poll off the screen (`poll_clear`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_at: Option<Millis>,
}

/// An instant win as launched: the commitment is public from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawView {
    pub id: u64,
    pub prize: String,
    pub winners: u32,
    pub opened_at: Millis,
    pub closes_at: Millis,
    /// Shown to viewers; always states that no purchase is necessary.
    pub rules: String,
    /// Hex SHA-256 of the secret seed.
    pub commitment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redraw_of: Option<u64>,
    /// On a re-draw: what it changed in the draw `redraw_of`, so every
    /// console shows the whole result. Absent in draws stored before
    /// re-draws carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Box<Replacement>>,
    pub by: Actor,
}

impl DrawView {
    /// The view as viewers get it: the staff member's role only, and no
    /// re-draw reason (it is staff's record, like the audit log).
    #[must_use]
    pub fn for_viewers(&self) -> DrawView {
        DrawView {
            by: Actor {
                name: None,
                role: self.by.role,
            },
            replaces: self.replaces.as_ref().map(|r| {
                Box::new(Replacement {
                    reason: String::new(),
                    ..(**r).clone()
                })
            }),
            ..self.clone()
        }
    }
}

/// What a re-draw changed: the winners of the earlier draw who keep their
/// prize, the ones excluded (with anyone else excluded from the pool), and
/// why. The re-draw's own winners are the new ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    pub kept: Vec<Winner>,
    pub excluded: Vec<Winner>,
    /// Staff only; blank for viewers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// An instant win with its progress, for snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawState {
    pub draw: DrawView,
    pub entrants: u64,
    /// Present once drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<DrawResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawResult {
    pub seed: String,
    pub entrants_hash: String,
    pub winners: Vec<Winner>,
    pub drawn_at: Millis,
}

/// A winner, announced by first name and pseudonym (the pseudonym tells two
/// winners of one first name apart, as in the chat).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Winner {
    pub viewer_id: ViewerId,
    pub first_name: String,
    /// Absent in draws stored before winners carried it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pseudonym: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(phone: Option<&str>, email: Option<&str>) -> Contact {
        Contact {
            phone: phone.map(Into::into),
            email: email.map(Into::into),
        }
    }

    #[test]
    fn contact_data_is_checked_and_trimmed() {
        let ok = contact(Some(" +33 6 12 34 56 78 "), Some("julie@example.fr"))
            .cleaned()
            .unwrap();
        assert_eq!(ok.phone.as_deref(), Some("+33 6 12 34 56 78"));
        assert!(contact(Some("call me"), None).cleaned().is_err());
        assert!(contact(None, Some("julie")).cleaned().is_err());
        assert!(contact(None, Some("a b@c.d")).cleaned().is_err());
    }

    #[test]
    fn an_emptied_contact_field_stays_as_a_removal() {
        assert_eq!(
            contact(Some("  "), None).cleaned().unwrap(),
            contact(Some(""), None)
        );
        assert_eq!(
            contact(None, Some("")).cleaned().unwrap(),
            contact(None, Some(""))
        );
    }
}
