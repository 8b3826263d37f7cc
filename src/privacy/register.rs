//! The record of processing (GDPR Art. 30), declared once, in code.
//!
//! [`REGISTER`] names every stored column that holds personal data, with
//! why it is held, on which legal basis, for how long and who sees it;
//! `regie privacy register` prints it ([`render`]). [`NOT_PERSONAL`] names
//! every other column, with the reason it is not personal. A test reads the
//! real schema of a fresh store (`PRAGMA table_info`) and fails when a
//! column is in neither list, or in both: a new column forces a decision,
//! and the printed register cannot fall behind the database.
//!
//! Pseudonymous viewer ids and staff names are personal data too (Recital
//! 26: pseudonymised data still relates to a person), so they are listed.

use std::time::Duration;

use crate::store::retention::RetentionPolicy;

/// Why processing is lawful (Art. 6(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalBasis {
    /// Art. 6(1)(a): the viewer said yes to this purpose, and can withdraw.
    Consent,
    /// Art. 6(1)(b): needed to give the viewer what they joined for
    /// (chatting, voting, entering a draw).
    Contract,
    /// Art. 6(1)(c): a legal obligation (proof of consent, accountability).
    LegalObligation,
    /// Art. 6(1)(f): the brand's legitimate interest (keeping the chat
    /// safe), weighed against the viewer's.
    LegitimateInterest,
}

impl LegalBasis {
    pub fn describe(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent, Art. 6(1)(a)",
            LegalBasis::Contract => "performance of the service asked for, Art. 6(1)(b)",
            LegalBasis::LegalObligation => "legal obligation, Art. 6(1)(c)",
            LegalBasis::LegitimateInterest => "legitimate interest, Art. 6(1)(f)",
        }
    }
}

/// One personal-data column.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub table: &'static str,
    pub column: &'static str,
    /// What it holds, in a sentence.
    pub holds: &'static str,
    pub purpose: &'static str,
    pub basis: LegalBasis,
    pub retention: Retention,
    /// Who can see it, and how.
    pub seen_by: &'static str,
}

/// How long a field is kept: one of the brand's periods, printed as it is
/// in force, or a rule that is not a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// A `[retention]` period of the hub's configuration, after which the
    /// sweeper deletes it; the note says what else ends it (may be empty).
    Period(Period, &'static str),
    /// Not a configurable period: what ends it, in words.
    Fixed(&'static str),
}

/// The `[retention]` periods the register names (see
/// [`crate::store::retention`] for what each measures from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Chat,
    /// `contact.prize_contact`, `contact.sms_reminders` and
    /// `contact.sms_marketing`: the purposes a phone is collected for.
    Phone,
    /// `contact.prize_contact` and `contact.marketing`.
    Email,
    Consents,
    ModerationNotes,
    CommandOutcomes,
    Audit,
    Draws,
}

impl Retention {
    /// The retention as `regie privacy register` prints it, with the
    /// periods of `policy`: `90 days ([retention] chat); erased on request`.
    pub fn describe(self, policy: &RetentionPolicy) -> String {
        let (period, note) = match self {
            Retention::Fixed(text) => return text.to_owned(),
            Retention::Period(period, note) => (period, note),
        };
        let (key, periods) = match period {
            Period::Chat => ("chat", span(policy.chat)),
            Period::Phone => (
                "contact",
                format!(
                    "prize_contact {}, sms_reminders {}, sms_marketing {} after the viewer was last seen",
                    span(policy.prize_contact),
                    span(policy.sms_reminders),
                    span(policy.sms_marketing)
                ),
            ),
            Period::Email => (
                "contact",
                format!(
                    "prize_contact {}, marketing {} after the viewer was last seen",
                    span(policy.prize_contact),
                    span(policy.marketing)
                ),
            ),
            Period::Consents => ("consents", span(policy.consents)),
            Period::ModerationNotes => ("moderation_notes", span(policy.moderation_notes)),
            Period::CommandOutcomes => ("command_outcomes", span(policy.command_outcomes)),
            Period::Audit => ("audit", span(policy.audit)),
            Period::Draws => ("draws", span(policy.draws)),
        };
        if note.is_empty() {
            format!("{periods} ([retention] {key})")
        } else {
            format!("{periods} ([retention] {key}); {note}")
        }
    }
}

/// A period in the largest whole unit that divides it, exactly: `30 days`,
/// `6 hours`, `2 years`. Years and months are humantime's (365.25 and
/// 30.44 days), the units the configuration's `"2y"` and `"6months"` mean;
/// anything else as humantime writes it.
fn span(period: Duration) -> String {
    const UNITS: [(u64, &str); 6] = [
        (31_557_600, "year"),
        (2_630_016, "month"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let secs = period.as_secs();
    if period.subsec_nanos() == 0 && secs > 0 {
        for (unit, name) in UNITS {
            if secs.is_multiple_of(unit) {
                let n = secs / unit;
                return format!("{n} {name}{}", if n == 1 { "" } else { "s" });
            }
        }
    }
    humantime::format_duration(period).to_string()
}

/// A column that holds no personal data, and why not.
#[derive(Debug, Clone, Copy)]
pub struct NotPersonal {
    pub table: &'static str,
    pub column: &'static str,
    pub why: &'static str,
}

const VIEWER_ID: &str = "the viewer's pseudonymous id (keyed hash of the device id in their viewer pass, or of their brand account)";
const CHAT_RETENTION: Retention = Retention::Period(Period::Chat, "erased on request (Art. 17)");
/// The report's attribution window: what shop events count against.
const ATTRIBUTION_RETENTION: Retention = Retention::Fixed(
    "until the report's attribution window closes, 30 days after the live's end (with the chat if that is kept longer); erased on request (Art. 17)",
);
/// A viewer's profile row: swept a chat period after they were last seen,
/// once nothing else about them is kept (see `sweep_live`).
const PROFILE_RETENTION: Retention = Retention::Period(
    Period::Chat,
    "after the viewer was last seen, once nothing else about them is kept; erased on request (Art. 17)",
);
const EVERYONE: &str = "everyone in the live (viewers and staff)";
const STAFF: &str = "staff in the console (host, moderator, support, admin)";
const MODERATION: Retention = Retention::Period(Period::ModerationNotes, "erased with the viewer");
const SMS_ALERT: Retention = Retention::Period(
    Period::Phone,
    "deleted with the phone: right after the live's alert unless the viewer asked for the brand's next lives; at an SMS STOP",
);
const SMS_OUTBOX: Retention = Retention::Period(
    Period::Phone,
    "the message rows of an alert, after they are sent or failed",
);
const SMS_NOBODY: &str = "nobody: the hub's SMS sender only";
const SMS_COUNTS: &str = "staff as counts only (`regie sms status`)";
const OPERATOR: &str = "the operator, with the data dir (`regie audit show`)";
const SMS_STOPPED: Retention = Retention::Period(
    Period::Phone,
    "kept the phone period after the STOP (`contact.sms_reminders`), then deleted; deleted at a START, with the viewer, and when the key it was made under is rotated out",
);
const EMAIL_LOOKUP: Retention = Retention::Period(
    Period::Email,
    "deleted with the e-mail address it was made from (withdrawal, retention, erasure)",
);

/// Every personal-data column, in schema order.
pub const REGISTER: &[Field] = &[
    // viewers
    Field {
        table: "viewers",
        column: "viewer_id",
        holds: VIEWER_ID,
        purpose: "recognise a returning viewer; link their messages, votes and entries",
        basis: LegalBasis::Contract,
        retention: PROFILE_RETENTION,
        seen_by: STAFF,
    },
    Field {
        table: "viewers",
        column: "first_name",
        holds: "the first name the viewer gave",
        purpose: "hosts answer viewers by first name",
        basis: LegalBasis::Contract,
        retention: PROFILE_RETENTION,
        seen_by: EVERYONE,
    },
    Field {
        table: "viewers",
        column: "pseudonym",
        holds: "the viewer's chat pseudonym",
        purpose: "tell viewers with the same first name apart in chat",
        basis: LegalBasis::Contract,
        retention: PROFILE_RETENTION,
        seen_by: EVERYONE,
    },
    Field {
        table: "viewers",
        column: "first_seen",
        holds: "when the viewer first joined",
        purpose: "the viewer card (newcomer or regular), moderation context",
        basis: LegalBasis::LegitimateInterest,
        retention: PROFILE_RETENTION,
        seen_by: STAFF,
    },
    Field {
        table: "viewers",
        column: "last_seen",
        holds: "when the viewer was last connected",
        purpose: "retention: what is past its time is swept",
        basis: LegalBasis::LegitimateInterest,
        retention: PROFILE_RETENTION,
        seen_by: "nobody on screen; the sweeper",
    },
    Field {
        table: "viewers",
        column: "phone_sealed",
        holds: "the viewer's phone number, encrypted (contact.key)",
        purpose: "the purpose consented to (live-start SMS, prize contact)",
        basis: LegalBasis::Consent,
        retention: Retention::Period(Period::Phone, "or until consent is withdrawn"),
        seen_by: "support and admin, masked, on the viewer card (audited)",
    },
    Field {
        table: "viewers",
        column: "email_sealed",
        holds: "the viewer's e-mail address, encrypted (contact.key)",
        purpose: "the purpose consented to (newsletter, prize contact)",
        basis: LegalBasis::Consent,
        retention: Retention::Period(Period::Email, "or until consent is withdrawn"),
        seen_by: "support and admin, masked, on the viewer card (audited)",
    },
    Field {
        table: "viewers",
        column: "phone_purpose",
        holds: "which consent the stored phone was collected under",
        purpose: "delete the phone when that consent is withdrawn",
        basis: LegalBasis::Consent,
        retention: Retention::Fixed("with the phone it describes"),
        seen_by: "nobody on screen; the hub",
    },
    Field {
        table: "viewers",
        column: "email_purpose",
        holds: "which consent the stored e-mail was collected under",
        purpose: "delete the e-mail when that consent is withdrawn",
        basis: LegalBasis::Consent,
        retention: Retention::Fixed("with the e-mail it describes"),
        seen_by: "nobody on screen; the hub",
    },
    Field {
        table: "viewers",
        column: "first_name_rectified",
        holds: "whether support corrected the first name (Art. 16)",
        purpose: "keep the correction: the viewer's device does not overwrite it",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Fixed("with the first name it describes; erased with the viewer"),
        seen_by: "nobody on screen; the hub",
    },
    Field {
        table: "viewers",
        column: "pseudonym_rectified",
        holds: "whether support corrected the pseudonym (Art. 16)",
        purpose: "keep the correction: the viewer's device does not overwrite it",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Fixed("with the pseudonym it describes; erased with the viewer"),
        seen_by: "nobody on screen; the hub",
    },
    // messages
    Field {
        table: "messages",
        column: "viewer_id",
        holds: VIEWER_ID,
        purpose: "who wrote a message: moderation, the viewer card, rights requests",
        basis: LegalBasis::Contract,
        retention: CHAT_RETENTION,
        seen_by: STAFF,
    },
    Field {
        table: "messages",
        column: "author_name",
        holds: "the author's first name (a viewer) or name (staff)",
        purpose: "show who wrote each line",
        basis: LegalBasis::Contract,
        retention: CHAT_RETENTION,
        seen_by: EVERYONE,
    },
    Field {
        table: "messages",
        column: "author_pseudonym",
        holds: "the author's pseudonym",
        purpose: "show who wrote each line",
        basis: LegalBasis::Contract,
        retention: CHAT_RETENTION,
        seen_by: EVERYONE,
    },
    Field {
        table: "messages",
        column: "text",
        holds: "chat text, personal data detected in it masked",
        purpose: "the live chat",
        basis: LegalBasis::Contract,
        retention: Retention::Period(Period::Chat, "or until redacted or erased"),
        seen_by: "everyone when visible; staff when held or hidden",
    },
    Field {
        table: "messages",
        column: "reply_to_name",
        holds: "the first name of the viewer a reply answers",
        purpose: "show whom an answer is for",
        basis: LegalBasis::Contract,
        retention: CHAT_RETENTION,
        seen_by: EVERYONE,
    },
    Field {
        table: "answer_also",
        column: "first_name",
        holds: "the first name of another viewer a group answer answers",
        purpose: "show each asker of a grouped question that the answer is theirs",
        basis: LegalBasis::Contract,
        retention: CHAT_RETENTION,
        seen_by: EVERYONE,
    },
    // sms (issue 13): the phone itself stays sealed in viewers.phone_sealed
    Field {
        table: "sms_subscriptions",
        column: "viewer_id",
        holds: VIEWER_ID,
        purpose: "send the SMS alert the viewer asked for",
        basis: LegalBasis::Consent,
        retention: SMS_ALERT,
        seen_by: SMS_NOBODY,
    },
    Field {
        table: "sms_subscriptions",
        column: "lookup",
        holds: "a keyed HMAC of the phone number (key derived from the contact key), never an unkeyed hash",
        purpose: "find the subscription an inbound STOP withdraws",
        basis: LegalBasis::Consent,
        retention: SMS_ALERT,
        seen_by: SMS_NOBODY,
    },
    Field {
        table: "sms_subscriptions",
        column: "scope",
        holds: "whether the viewer asked for one live's alert or the brand's next lives",
        purpose: "send the alerts the viewer asked for, and no others",
        basis: LegalBasis::Consent,
        retention: SMS_ALERT,
        seen_by: SMS_NOBODY,
    },
    Field {
        table: "sms_subscriptions",
        column: "at",
        holds: "when the viewer subscribed",
        purpose: "send a brand-wide alert only for lives after it",
        basis: LegalBasis::Consent,
        retention: SMS_ALERT,
        seen_by: SMS_NOBODY,
    },
    Field {
        table: "sms_outbox",
        column: "viewer_id",
        holds: VIEWER_ID,
        purpose: "send each recipient one message, once (idempotency key)",
        basis: LegalBasis::Consent,
        retention: SMS_OUTBOX,
        seen_by: SMS_COUNTS,
    },
    Field {
        table: "sms_outbox",
        column: "provider_id",
        holds: "the provider's id of the message sent to the viewer",
        purpose: "match the provider's delivery reports to the message, not the phone",
        basis: LegalBasis::Consent,
        retention: SMS_OUTBOX,
        seen_by: SMS_COUNTS,
    },
    Field {
        table: "sms_outbox",
        column: "delivery",
        holds: "the provider's last delivery status of that message",
        purpose: "sent / delivered / failed counts",
        basis: LegalBasis::Consent,
        retention: SMS_OUTBOX,
        seen_by: SMS_COUNTS,
    },
    Field {
        table: "sms_inbound",
        column: "message_id",
        holds: "the provider's id of an SMS a viewer sent (STOP, HELP…), or of an e-mail unsubscribe event",
        purpose: "handle a provider's retried webhook once",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Fixed("deleted 48 hours after it arrived"),
        seen_by: SMS_NOBODY,
    },
    Field {
        table: "sms_stopped",
        column: "viewer_id",
        holds: VIEWER_ID,
        purpose: "restore the subscription an SMS STOP ended when the same number texts START",
        basis: LegalBasis::Consent,
        retention: SMS_STOPPED,
        seen_by: SMS_NOBODY,
    },
    Field {
        table: "sms_stopped",
        column: "lookup",
        holds: "a keyed HMAC of the number that sent STOP (key derived from the contact key), never the number nor an unkeyed hash",
        purpose: "recognise a START from the number that sent STOP, and no other",
        basis: LegalBasis::Consent,
        retention: SMS_STOPPED,
        seen_by: SMS_NOBODY,
    },
    Field {
        table: "sms_stopped",
        column: "at",
        holds: "when the viewer sent STOP",
        purpose: "end the START window with the phone period",
        basis: LegalBasis::Consent,
        retention: SMS_STOPPED,
        seen_by: SMS_NOBODY,
    },
    // email_lookups (issue 13: e-mail providers' unsubscribe webhooks)
    Field {
        table: "email_lookups",
        column: "viewer_id",
        holds: VIEWER_ID,
        purpose: "find the viewer an e-mail provider's unsubscribe is about",
        basis: LegalBasis::Consent,
        retention: EMAIL_LOOKUP,
        seen_by: "nobody: the hub's unsubscribe webhooks only",
    },
    Field {
        table: "email_lookups",
        column: "lookup",
        holds: "a keyed HMAC of the e-mail address held (key derived from the contact key), never an unkeyed hash",
        purpose: "find the viewer an e-mail provider's unsubscribe is about",
        basis: LegalBasis::Consent,
        retention: EMAIL_LOOKUP,
        seen_by: "nobody: the hub's unsubscribe webhooks only",
    },
    // crm_outbox (issue 13: opt-ins pushed to the brand's CRM)
    Field {
        table: "crm_outbox",
        column: "viewer_id",
        holds: VIEWER_ID,
        purpose: "push each marketing opt-in and withdrawal to the brand's CRM once (the address is read from the sealed store when pushed, never copied here)",
        basis: LegalBasis::Consent,
        retention: Retention::Period(
            Period::Consents,
            "deleted with the viewer; a row is kept as long as the consent it pushes; an erasure's notice until it is sent",
        ),
        seen_by: "nobody: the hub's CRM pusher only",
    },
    // tombstones
    Field {
        table: "tombstones",
        column: "author_id",
        holds: "the redacted message's author (pseudonymous id)",
        purpose: "answer a rights request about that viewer; moderation history",
        basis: LegalBasis::LegitimateInterest,
        retention: MODERATION,
        seen_by: STAFF,
    },
    Field {
        table: "tombstones",
        column: "reason",
        holds: "why a message was redacted, as staff typed it",
        purpose: "accountability for removals",
        basis: LegalBasis::LegitimateInterest,
        retention: MODERATION,
        seen_by: STAFF,
    },
    Field {
        table: "tombstones",
        column: "by_name",
        holds: "the staff member who redacted",
        purpose: "accountability for removals",
        basis: LegalBasis::LegitimateInterest,
        retention: MODERATION,
        seen_by: STAFF,
    },
    // events
    Field {
        table: "events",
        column: "payload",
        holds: "the event as replayed: viewer ids and staff names of moderation events (never chat text)",
        purpose: "replay what a reconnecting client missed",
        basis: LegalBasis::Contract,
        retention: CHAT_RETENTION,
        seen_by: "every client, as the event it was",
    },
    // pins
    Field {
        table: "pins",
        column: "by_name",
        holds: "the staff member who pinned",
        purpose: "show who pinned",
        basis: LegalBasis::LegitimateInterest,
        retention: Retention::Fixed("until unpinned"),
        seen_by: STAFF,
    },
    // rules (a live's moderation rules)
    Field {
        table: "rules",
        column: "created_by_name",
        holds: "the staff member who added a moderation rule",
        purpose: "show who added a rule to the live's rules",
        basis: LegalBasis::LegitimateInterest,
        retention: Retention::Fixed("while the live keeps its rules"),
        seen_by: STAFF,
    },
    // sanctions
    Field {
        table: "sanctions",
        column: "viewer_id",
        holds: "the sanctioned viewer (pseudonymous id)",
        purpose: "enforce timeouts and bans",
        basis: LegalBasis::LegitimateInterest,
        retention: MODERATION,
        seen_by: "moderators, support and admin, on the viewer card",
    },
    Field {
        table: "sanctions",
        column: "reason",
        holds: "why the viewer was sanctioned, as staff typed it",
        purpose: "moderation context for the next moderator",
        basis: LegalBasis::LegitimateInterest,
        retention: MODERATION,
        seen_by: "moderators, support and admin, on the viewer card",
    },
    Field {
        table: "sanctions",
        column: "by_name",
        holds: "the staff member who sanctioned",
        purpose: "accountability for sanctions",
        basis: LegalBasis::LegitimateInterest,
        retention: MODERATION,
        seen_by: STAFF,
    },
    // mod_notes
    Field {
        table: "mod_notes",
        column: "viewer_id",
        holds: "the viewer a staff note is about (pseudonymous id)",
        purpose: "moderation context for the next moderator",
        basis: LegalBasis::LegitimateInterest,
        retention: MODERATION,
        seen_by: "moderators, support and admin, on the viewer card",
    },
    Field {
        table: "mod_notes",
        column: "text",
        holds: "a note staff wrote about the viewer",
        purpose: "moderation context for the next moderator",
        basis: LegalBasis::LegitimateInterest,
        retention: MODERATION,
        seen_by: "moderators, support and admin, on the viewer card",
    },
    Field {
        table: "mod_notes",
        column: "by_name",
        holds: "the staff member who wrote the note",
        purpose: "accountability for notes",
        basis: LegalBasis::LegitimateInterest,
        retention: MODERATION,
        seen_by: "moderators, support and admin, on the viewer card",
    },
    // consents
    Field {
        table: "consents",
        column: "viewer_id",
        holds: "who gave or withdrew a consent (pseudonymous id)",
        purpose: "prove consent (Art. 7(1)); stop processing on withdrawal",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Period(Period::Consents, ""),
        seen_by: "support and admin, on the viewer card",
    },
    Field {
        table: "consents",
        column: "granted",
        holds: "whether the viewer said yes or no",
        purpose: "prove consent (Art. 7(1))",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Period(Period::Consents, ""),
        seen_by: "support and admin, on the viewer card",
    },
    Field {
        table: "consents",
        column: "at",
        holds: "when the viewer answered",
        purpose: "prove consent (Art. 7(1))",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Period(Period::Consents, ""),
        seen_by: "support and admin, on the viewer card",
    },
    // command outcomes
    Field {
        table: "command_outcomes",
        column: "principal",
        holds: "who sent a command: a viewer id or a staff name",
        purpose: "apply a retried command once",
        basis: LegalBasis::Contract,
        retention: Retention::Period(Period::CommandOutcomes, "deleted with a redaction"),
        seen_by: "nobody; the hub",
    },
    // audit
    Field {
        table: "audit",
        column: "actor_name",
        holds: "the staff member who acted",
        purpose: "accountability of staff actions (Art. 5(2))",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Period(Period::Audit, "pruning keeps a signed checkpoint"),
        seen_by: OPERATOR,
    },
    Field {
        table: "audit",
        column: "target",
        holds: "what was acted on, by id: a message number or a viewer id",
        purpose: "accountability of staff actions (Art. 5(2))",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Period(Period::Audit, ""),
        seen_by: OPERATOR,
    },
    Field {
        table: "audit",
        column: "reason",
        holds: "why, as staff typed it (no message content)",
        purpose: "accountability of staff actions (Art. 5(2))",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Period(Period::Audit, ""),
        seen_by: OPERATOR,
    },
    // games
    Field {
        table: "votes",
        column: "viewer_id",
        holds: "who voted (pseudonymous id)",
        purpose: "one vote per viewer",
        basis: LegalBasis::Contract,
        retention: Retention::Period(Period::Draws, "unlinked on erasure"),
        seen_by: "nobody; only counts are shown",
    },
    Field {
        table: "votes",
        column: "option",
        holds: "what the viewer voted for",
        purpose: "count the poll",
        basis: LegalBasis::Contract,
        retention: Retention::Period(Period::Draws, "unlinked on erasure"),
        seen_by: "nobody; only counts are shown",
    },
    Field {
        table: "instant_wins",
        column: "record",
        holds: "the published draw record: entrants' pseudonymous draw ids, winners",
        purpose: "anyone can verify the draw was fair",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Period(Period::Draws, ""),
        seen_by: "the public, at /draws/{id}.json",
    },
    Field {
        table: "instant_wins",
        column: "winners",
        holds: "the winners by first name and viewer id",
        purpose: "announce and contact the winners",
        basis: LegalBasis::Contract,
        retention: Retention::Period(Period::Draws, ""),
        seen_by: "everyone in the live (first names); staff (ids)",
    },
    Field {
        table: "entries",
        column: "viewer_id",
        holds: "who entered an instant win (pseudonymous id)",
        purpose: "draw among the entrants",
        basis: LegalBasis::Contract,
        retention: Retention::Period(Period::Draws, ""),
        seen_by: "nobody; the draw",
    },
    // rights requests
    Field {
        table: "privacy_requests",
        column: "subject",
        holds: "who made a data-protection request (a viewer id or how to reach them)",
        purpose: "answer the request within its deadline (Art. 12(3))",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Fixed(
            "three years after the request is closed (proof it was answered)",
        ),
        seen_by: "support and admin (`regie privacy requests`)",
    },
    Field {
        table: "privacy_requests",
        column: "extension",
        holds: "why the deadline was extended, as support wrote it",
        purpose: "tell the viewer why their answer takes longer (Art. 12(3))",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Fixed("with the request"),
        seen_by: "support and admin (`regie privacy requests`)",
    },
    // presence (the post-live report, issue 14)
    Field {
        table: "presence",
        column: "viewer_id",
        holds: "who watched (pseudonymous id), one row per connection",
        purpose: "audience figures of the post-live report (watch time, concurrency), aggregated with k-anonymity",
        basis: LegalBasis::LegitimateInterest,
        retention: CHAT_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    Field {
        table: "presence",
        column: "joined_at",
        holds: "when a viewer's connection joined",
        purpose: "audience figures of the post-live report",
        basis: LegalBasis::LegitimateInterest,
        retention: CHAT_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    Field {
        table: "presence",
        column: "left_at",
        holds: "when a viewer's connection left",
        purpose: "audience figures of the post-live report",
        basis: LegalBasis::LegitimateInterest,
        retention: CHAT_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    // shop_events (the post-live report's commerce figures, issue 14)
    Field {
        table: "shop_events",
        column: "viewer_id",
        holds: "who the shop event was about (pseudonymous id, from their pass or viewer token); blanked on erasure",
        purpose: "commerce figures of the post-live report (views, carts, orders, revenue), aggregated with k-anonymity",
        basis: LegalBasis::LegitimateInterest,
        retention: ATTRIBUTION_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    Field {
        table: "shop_events",
        column: "event_kind",
        holds: "what a viewer did at the shop (product view, add to cart, order)",
        purpose: "commerce figures of the post-live report (views, carts, orders, revenue), aggregated with k-anonymity",
        basis: LegalBasis::LegitimateInterest,
        retention: ATTRIBUTION_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    Field {
        table: "shop_events",
        column: "happened_at",
        holds: "when a viewer did it",
        purpose: "commerce figures of the post-live report (views, carts, orders, revenue), aggregated with k-anonymity",
        basis: LegalBasis::LegitimateInterest,
        retention: ATTRIBUTION_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    Field {
        table: "shop_events",
        column: "amount",
        holds: "an order's total (minor units)",
        purpose: "commerce figures of the post-live report (views, carts, orders, revenue), aggregated with k-anonymity",
        basis: LegalBasis::LegitimateInterest,
        retention: ATTRIBUTION_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    Field {
        table: "shop_events",
        column: "currency",
        holds: "an order's currency",
        purpose: "commerce figures of the post-live report (views, carts, orders, revenue), aggregated with k-anonymity",
        basis: LegalBasis::LegitimateInterest,
        retention: ATTRIBUTION_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    Field {
        table: "shop_events",
        column: "products",
        holds: "the product ids of the event (the brand's catalogue numbers)",
        purpose: "commerce figures of the post-live report (views, carts, orders, revenue), aggregated with k-anonymity",
        basis: LegalBasis::LegitimateInterest,
        retention: ATTRIBUTION_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    // report_audience (the post-live report's attribution window, issue 14)
    Field {
        table: "report_audience",
        column: "viewer_id",
        holds: "who watched or chatted in an ended live (pseudonymous id), once its presence records are gone",
        purpose: "count a later shop event for a viewer of the live, within the report's attribution window (30 days)",
        basis: LegalBasis::LegitimateInterest,
        retention: ATTRIBUTION_RETENTION,
        seen_by: "no one: only aggregated into the report",
    },
    // erasures (Art. 17)
    Field {
        table: "erasures",
        column: "viewer_id",
        holds: "an erased viewer's former pseudonymous id, resolving to no one",
        purpose: "prove the erasure was honoured; the same viewer pass joins as a new viewer",
        basis: LegalBasis::LegalObligation,
        retention: Retention::Period(Period::Consents, ""),
        seen_by: OPERATOR,
    },
];

const KEY: &str = "a key or number the store assigns";
const SMS_AGGREGATE: &str = "a count of messages, about nobody";
const SMS_ERROR: &str = "why a send failed: an HTTP status or regie's own words, never the provider's text (which may echo the number)";
const STATE: &str = "state of a message or action, not about a person";
const CRM_ERROR: &str =
    "why a CRM push failed: an HTTP status or regie's own words, never the CRM's answer";

/// Every other column, and why it is not personal data.
pub const NOT_PERSONAL: &[NotPersonal] = &[
    NotPersonal {
        table: "presence",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "shop_events",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "shop_events",
        column: "digest",
        why: "a keyed digest of the shop's event id, for the duplicate check (no key into the shop's records without the secret)",
    },
    NotPersonal {
        table: "report_figures",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "report_audience",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "report_figures",
        column: "computed_at",
        why: "when the figures were frozen",
    },
    NotPersonal {
        table: "report_figures",
        column: "figures",
        why: "a live's aggregated counts (no id, name or text), suppressed below k when published",
    },
    NotPersonal {
        table: "erasures",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "erasures",
        column: "at",
        why: "when an erasure was done; personal only through viewer_id, listed",
    },
    NotPersonal {
        table: "erasures",
        column: "seq",
        why: KEY,
    },
    NotPersonal {
        table: "lives",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "lives",
        column: "name",
        why: "the show's name",
    },
    NotPersonal {
        table: "lives",
        column: "epoch",
        why: "a random id of the store",
    },
    NotPersonal {
        table: "lives",
        column: "title",
        why: "the show's title, set by the brand",
    },
    NotPersonal {
        table: "lives",
        column: "starts_at",
        why: "when the show is announced to start",
    },
    NotPersonal {
        table: "lives",
        column: "state",
        why: "the show's lifecycle state (scheduled, on air, ended)",
    },
    NotPersonal {
        table: "lives",
        column: "started_at",
        why: "when the show went on air",
    },
    NotPersonal {
        table: "lives",
        column: "ended_at",
        why: "when the show ended; the chat's retention clock starts there",
    },
    NotPersonal {
        table: "lives",
        column: "head",
        why: KEY,
    },
    NotPersonal {
        table: "lives",
        column: "created_at",
        why: "when the show was created",
    },
    NotPersonal {
        table: "lives",
        column: "swept_message_id",
        why: "the highest message id retention deleted: a counter",
    },
    NotPersonal {
        table: "viewers",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "messages",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "messages",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "messages",
        column: "at",
        why: "when; personal only through viewer_id, listed",
    },
    NotPersonal {
        table: "messages",
        column: "author_kind",
        why: "viewer or staff",
    },
    NotPersonal {
        table: "messages",
        column: "author_role",
        why: "a staff role, not a person",
    },
    NotPersonal {
        table: "messages",
        column: "question",
        why: STATE,
    },
    NotPersonal {
        table: "messages",
        column: "answered",
        why: STATE,
    },
    NotPersonal {
        table: "messages",
        column: "visibility",
        why: STATE,
    },
    NotPersonal {
        table: "messages",
        column: "product",
        why: "the id of the product on screen when a question was asked: the brand's catalogue, not about a person",
    },
    NotPersonal {
        table: "messages",
        column: "announcement",
        why: "whether a staff message is an announcement: a flag on staff text, not about a person",
    },
    NotPersonal {
        table: "messages",
        column: "reply_to_id",
        why: KEY,
    },
    NotPersonal {
        table: "tombstones",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "tombstones",
        column: "message_id",
        why: KEY,
    },
    NotPersonal {
        table: "tombstones",
        column: "posted_at",
        why: "when; personal only through author_id, listed",
    },
    NotPersonal {
        table: "tombstones",
        column: "redacted_at",
        why: STATE,
    },
    NotPersonal {
        table: "tombstones",
        column: "by_role",
        why: "a staff role, not a person",
    },
    NotPersonal {
        table: "events",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "events",
        column: "seq",
        why: KEY,
    },
    NotPersonal {
        table: "events",
        column: "at",
        why: STATE,
    },
    NotPersonal {
        table: "events",
        column: "kind",
        why: STATE,
    },
    NotPersonal {
        table: "events",
        column: "message_id",
        why: KEY,
    },
    NotPersonal {
        table: "pins",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "pins",
        column: "message_id",
        why: KEY,
    },
    NotPersonal {
        table: "pins",
        column: "at",
        why: STATE,
    },
    NotPersonal {
        table: "pins",
        column: "by_role",
        why: "a staff role, not a person",
    },
    NotPersonal {
        table: "rules",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "rules",
        column: "rule_id",
        why: KEY,
    },
    NotPersonal {
        table: "rules",
        column: "kind",
        why: STATE,
    },
    NotPersonal {
        table: "rules",
        column: "pattern",
        why: "a term, regex or link policy staff wrote about words, not people; never sent to viewers",
    },
    NotPersonal {
        table: "rules",
        column: "action",
        why: STATE,
    },
    NotPersonal {
        table: "rules",
        column: "expires_at",
        why: STATE,
    },
    NotPersonal {
        table: "rules",
        column: "created_at",
        why: STATE,
    },
    NotPersonal {
        table: "rules",
        column: "removed_at",
        why: STATE,
    },
    NotPersonal {
        table: "rules",
        column: "created_by_role",
        why: "a staff role, not a person",
    },
    NotPersonal {
        table: "sanctions",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "sanctions",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "sanctions",
        column: "kind",
        why: "timeout or ban; personal only through viewer_id, listed",
    },
    NotPersonal {
        table: "sanctions",
        column: "until",
        why: STATE,
    },
    NotPersonal {
        table: "sanctions",
        column: "by_role",
        why: "a staff role, not a person",
    },
    NotPersonal {
        table: "sanctions",
        column: "at",
        why: STATE,
    },
    NotPersonal {
        table: "sanctions",
        column: "seq",
        why: KEY,
    },
    NotPersonal {
        table: "sms_subscriptions",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "sms_alerts",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "sms_alerts",
        column: "queued_at",
        why: STATE,
    },
    NotPersonal {
        table: "sms_alerts",
        column: "recipients",
        why: SMS_AGGREGATE,
    },
    NotPersonal {
        table: "sms_alerts",
        column: "error",
        why: SMS_ERROR,
    },
    NotPersonal {
        table: "sms_alerts",
        column: "phones_released",
        why: STATE,
    },
    NotPersonal {
        table: "sms_outbox",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "sms_outbox",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "sms_outbox",
        column: "kind",
        why: STATE,
    },
    NotPersonal {
        table: "sms_outbox",
        column: "from_live_id",
        why: KEY,
    },
    NotPersonal {
        table: "sms_outbox",
        column: "state",
        why: STATE,
    },
    NotPersonal {
        table: "sms_outbox",
        column: "attempts",
        why: STATE,
    },
    NotPersonal {
        table: "sms_outbox",
        column: "next_at",
        why: STATE,
    },
    NotPersonal {
        table: "sms_outbox",
        column: "error",
        why: SMS_ERROR,
    },
    NotPersonal {
        table: "sms_outbox",
        column: "updated_at",
        why: STATE,
    },
    NotPersonal {
        table: "sms_inbound",
        column: "provider",
        why: STATE,
    },
    NotPersonal {
        table: "sms_inbound",
        column: "at",
        why: STATE,
    },
    NotPersonal {
        table: "sms_stopped",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "sms_stopped",
        column: "key_id",
        why: KEY,
    },
    NotPersonal {
        table: "email_lookups",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "crm_outbox",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "crm_outbox",
        column: "consent_id",
        why: KEY,
    },
    NotPersonal {
        table: "crm_outbox",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "crm_outbox",
        column: "event",
        why: STATE,
    },
    NotPersonal {
        table: "crm_outbox",
        column: "state",
        why: STATE,
    },
    NotPersonal {
        table: "crm_outbox",
        column: "attempts",
        why: STATE,
    },
    NotPersonal {
        table: "crm_outbox",
        column: "next_at",
        why: STATE,
    },
    NotPersonal {
        table: "crm_outbox",
        column: "error",
        why: CRM_ERROR,
    },
    NotPersonal {
        table: "crm_outbox",
        column: "updated_at",
        why: STATE,
    },
    NotPersonal {
        table: "crm_cursor",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "crm_cursor",
        column: "consent_id",
        why: KEY,
    },
    NotPersonal {
        table: "answer_also",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "answer_also",
        column: "answer_id",
        why: KEY,
    },
    NotPersonal {
        table: "answer_also",
        column: "position",
        why: KEY,
    },
    NotPersonal {
        table: "answer_also",
        column: "message_id",
        why: KEY,
    },
    NotPersonal {
        table: "mod_notes",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "mod_notes",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "mod_notes",
        column: "by_role",
        why: "a staff role, not a person",
    },
    NotPersonal {
        table: "mod_notes",
        column: "at",
        why: STATE,
    },
    NotPersonal {
        table: "consents",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "consents",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "consents",
        column: "purpose",
        why: "what was asked, the same for everyone",
    },
    NotPersonal {
        table: "consents",
        column: "channel",
        why: "where it was asked, the same for everyone",
    },
    NotPersonal {
        table: "consents",
        column: "text_sha256",
        why: "hash of the text shown, the same for everyone",
    },
    NotPersonal {
        table: "command_outcomes",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "command_outcomes",
        column: "command_id",
        why: "the client's random command id plus a keyed (HMAC) fingerprint of the command",
    },
    NotPersonal {
        table: "command_outcomes",
        column: "at",
        why: STATE,
    },
    NotPersonal {
        table: "command_outcomes",
        column: "outcome",
        why: "ack or error code, no content",
    },
    NotPersonal {
        table: "command_outcomes",
        column: "seq",
        why: "the event a command produced, so a redaction can delete its outcome",
    },
    NotPersonal {
        table: "audit",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "audit",
        column: "idx",
        why: KEY,
    },
    NotPersonal {
        table: "audit",
        column: "at",
        why: STATE,
    },
    NotPersonal {
        table: "audit",
        column: "actor_role",
        why: "a staff role, not a person",
    },
    NotPersonal {
        table: "audit",
        column: "action",
        why: "a command's name",
    },
    NotPersonal {
        table: "audit",
        column: "prev_hash",
        why: "a hash of the chain",
    },
    NotPersonal {
        table: "audit",
        column: "hash",
        why: "a hash of the chain",
    },
    NotPersonal {
        table: "audit_checkpoints",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "audit_checkpoints",
        column: "idx",
        why: "the index of the last audit record retention pruned",
    },
    NotPersonal {
        table: "audit_checkpoints",
        column: "hash",
        why: "a hash of the chain",
    },
    NotPersonal {
        table: "audit_checkpoints",
        column: "mac",
        why: "the hub's signature over the checkpoint",
    },
    NotPersonal {
        table: "polls",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "polls",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "polls",
        column: "view",
        why: "the poll's question and options, as launched",
    },
    NotPersonal {
        table: "polls",
        column: "closed_at",
        why: STATE,
    },
    NotPersonal {
        table: "votes",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "votes",
        column: "poll_id",
        why: KEY,
    },
    NotPersonal {
        table: "instant_wins",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "instant_wins",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "instant_wins",
        column: "view",
        why: "the prize and rules, as launched",
    },
    NotPersonal {
        table: "instant_wins",
        column: "seed",
        why: "the draw's random seed",
    },
    NotPersonal {
        table: "instant_wins",
        column: "drawn_at",
        why: STATE,
    },
    NotPersonal {
        table: "entries",
        column: "live_id",
        why: KEY,
    },
    NotPersonal {
        table: "entries",
        column: "draw_id",
        why: KEY,
    },
    NotPersonal {
        table: "consent_texts",
        column: "sha256",
        why: "hash of a consent text, the same for everyone",
    },
    NotPersonal {
        table: "consent_texts",
        column: "text",
        why: "the words of a consent as the brand wrote them, the same for everyone",
    },
    NotPersonal {
        table: "consent_texts",
        column: "first_seen",
        why: STATE,
    },
    NotPersonal {
        table: "privacy_requests",
        column: "id",
        why: KEY,
    },
    NotPersonal {
        table: "privacy_requests",
        column: "kind",
        why: "which right was exercised",
    },
    NotPersonal {
        table: "privacy_requests",
        column: "received_at",
        why: "when a request arrived: a deadline, not about the person",
    },
    NotPersonal {
        table: "privacy_requests",
        column: "due_at",
        why: "a deadline",
    },
    NotPersonal {
        table: "privacy_requests",
        column: "status",
        why: STATE,
    },
    NotPersonal {
        table: "privacy_requests",
        column: "closed_at",
        why: STATE,
    },
];

/// The register as `regie privacy register` prints it: one block per
/// field, grouped by table, all text from [`REGISTER`], retention with the
/// periods of `policy` (the hub's configuration, named by `periods_from`).
pub fn render(policy: &RetentionPolicy, periods_from: &str) -> String {
    use std::fmt::Write;
    let mut out = String::from(
        "Record of processing (GDPR Art. 30): every personal-data field regie stores\n",
    );
    let _ = writeln!(out, "Retention periods: {periods_from}");
    let mut table = "";
    for f in REGISTER {
        if f.table != table {
            table = f.table;
            let _ = write!(out, "\n[{table}]\n");
        }
        let _ = writeln!(out, "{}.{}: {}", f.table, f.column, f.holds);
        let _ = writeln!(out, "  purpose:     {}", f.purpose);
        let _ = writeln!(out, "  legal basis: {}", f.basis.describe());
        let _ = writeln!(out, "  retention:   {}", f.retention.describe(policy));
        let _ = writeln!(out, "  seen by:     {}", f.seen_by);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::span;

    #[test]
    fn a_period_is_written_in_its_largest_exact_unit() {
        let day = 86_400;
        for (secs, text) in [
            (90 * day, "90 days"),
            (day, "1 day"),
            (365 * day, "365 days"),
            (6 * 3600, "6 hours"),
            (90 * 60, "90 minutes"),
            (61, "61 seconds"),
        ] {
            assert_eq!(span(Duration::from_secs(secs)), text);
        }
        // What the configuration's "2y" and "6months" mean.
        let from = |s| span(humantime::parse_duration(s).expect("a period"));
        assert_eq!(from("2y"), "2 years");
        assert_eq!(from("1y"), "1 year");
        assert_eq!(from("6months"), "6 months");
        assert_eq!(span(Duration::from_millis(1500)), "1s 500ms");
    }
}
