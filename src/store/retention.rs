//! How long each kind of stored data is kept, and the sweep that deletes
//! what is past its time.
//!
//! The brand sets the periods ([`RetentionPolicy`], read from the
//! `[retention]` table of the brand's configuration by [`crate::brand`],
//! key by key through [`RetentionPolicy::set_period`]); the hub sweeps at start-up and every
//! [`RetentionPolicy::sweep_every`] (`Store::sweep`), and `regie privacy
//! sweep` runs one sweep from the command line. What is past its time is
//! **deleted**, not flagged: `secure_delete` zeroes the freed cells and a
//! WAL checkpoint lets go of the old page images. The [`SweepReport`]
//! counts what went, and nothing else.
//!
//! What each period measures from:
//!
//! | key | deleted when | default |
//! |---|---|---|
//! | `chat` | the live ended longer ago, and the message (with its tombstone, pin and log events) is older; a live still scheduled or on air keeps its chat | 90 days |
//! | `contact.<purpose>` | the viewer was last seen longer ago (the viewer's last presence, not the live's end: one viewer's contact is not another's) | `prize_contact` 30 days, `sms_reminders` 1 day, `marketing` 3 years, `sms_marketing` 3 years |
//! | `consents` | a consent record is older **and** is not the one in force for a value still held (a withdrawal, or a superseded record) | 3 years |
//! | `moderation_notes` | a sanction ended (a ban: was imposed) longer ago; a staff note on a viewer (`note_add`) was written longer ago | 1 year |
//! | `command_outcomes` | a remembered outcome is older | 6 hours |
//! | `audit` | an audit record is older; a signed checkpoint keeps the chain verifiable ([`super::audit::Checkpoint`]) | 1 year |
//! | `draws` | an instant win was drawn, or a poll closed, longer ago (with its entries or votes) | 1 year |
//!
//! `sweep_every` (default 1 hour) is how often the hub sweeps.

use std::time::Duration;

use crate::protocol::{ConsentPurpose, Millis};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// The retention periods of a hub. See the module docs for what each
/// period measures from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub chat: Duration,
    pub prize_contact: Duration,
    pub sms_reminders: Duration,
    pub marketing: Duration,
    /// The phone given for promotional SMS after a live (`sms_marketing`).
    pub sms_marketing: Duration,
    pub consents: Duration,
    pub moderation_notes: Duration,
    pub command_outcomes: Duration,
    pub audit: Duration,
    pub draws: Duration,
    /// How often the hub sweeps (it also sweeps once at start-up).
    pub sweep_every: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            chat: 90 * DAY,
            prize_contact: 30 * DAY,
            sms_reminders: DAY,
            marketing: 3 * 365 * DAY,
            sms_marketing: 3 * 365 * DAY,
            consents: 3 * 365 * DAY,
            moderation_notes: 365 * DAY,
            command_outcomes: Duration::from_secs(6 * 3600),
            audit: 365 * DAY,
            draws: 365 * DAY,
            sweep_every: Duration::from_secs(3600),
        }
    }
}

/// A configuration the hub refuses, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum RetentionConfigError {
    #[error(
        "retention.{key}: {value:?} is not a period (write e.g. \"90d\", \"6h\", \"1y\"): {why}"
    )]
    Period {
        key: String,
        value: String,
        why: String,
    },
    #[error("retention.{key}: a period must be longer than zero")]
    Zero { key: String },
}

/// One period, or the error naming its key.
fn period(key: &str, value: &str) -> Result<Duration, RetentionConfigError> {
    let parsed =
        humantime::parse_duration(value.trim()).map_err(|e| RetentionConfigError::Period {
            key: key.to_string(),
            value: value.to_owned(),
            why: e.to_string(),
        })?;
    if parsed.is_zero() {
        return Err(RetentionConfigError::Zero {
            key: key.to_string(),
        });
    }
    Ok(parsed)
}

impl RetentionPolicy {
    /// Sets the period named `key` (as in the `[retention]` table:
    /// `chat`, `contact.marketing`, …) from its text. `Ok(false)`: no
    /// period has that name, so the caller can warn about it; a text that
    /// is not a period, or is zero, is refused naming the key.
    pub fn set_period(&mut self, key: &str, value: &str) -> Result<bool, RetentionConfigError> {
        let field = match key {
            "chat" => &mut self.chat,
            "contact.prize_contact" => &mut self.prize_contact,
            "contact.sms_reminders" => &mut self.sms_reminders,
            "contact.marketing" => &mut self.marketing,
            "contact.sms_marketing" => &mut self.sms_marketing,
            "consents" => &mut self.consents,
            "moderation_notes" => &mut self.moderation_notes,
            "command_outcomes" => &mut self.command_outcomes,
            "audit" => &mut self.audit,
            "draws" => &mut self.draws,
            "sweep_every" => &mut self.sweep_every,
            _ => return Ok(false),
        };
        *field = period(key, value)?;
        Ok(true)
    }

    /// How long contact data collected for `purpose` is kept.
    pub fn contact(&self, purpose: ConsentPurpose) -> Duration {
        match purpose {
            ConsentPurpose::PrizeContact => self.prize_contact,
            ConsentPurpose::SmsReminders => self.sms_reminders,
            ConsentPurpose::Marketing => self.marketing,
            ConsentPurpose::SmsMarketing => self.sms_marketing,
        }
    }
}

/// `now - period`, in the store's milliseconds (saturating: a period of a
/// thousand years deletes nothing rather than wrapping).
pub(crate) fn cutoff(now: Millis, period: Duration) -> Millis {
    now.saturating_sub(i64::try_from(period.as_millis()).unwrap_or(i64::MAX))
}

/// What one sweep deleted: counts only, never content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Chat messages (text and author) deleted.
    pub messages: u64,
    /// Tombstones of redacted messages deleted with the chat.
    pub tombstones: u64,
    /// Event-log rows deleted with the chat.
    pub events: u64,
    /// Contact values (a phone or an e-mail, with their seals) deleted.
    pub contact_values: u64,
    pub consents: u64,
    /// Sanctions (timeouts, bans) and their reasons.
    pub moderation_notes: u64,
    pub command_outcomes: u64,
    pub audit_records: u64,
    /// Instant wins and polls, with their entries and votes.
    pub draws: u64,
    /// Viewer profiles (first name, pseudonym) with nothing else left:
    /// no chat, contact, consent, sanction, vote or entry, and not seen
    /// for a chat period.
    pub viewers: u64,
    /// Presence records (who watched when) and shop events, once the
    /// live's figures are frozen for the report (`store::report_source`).
    pub presence: u64,
}

impl SweepReport {
    /// Everything deleted, in rows.
    pub fn total(&self) -> u64 {
        self.messages
            + self.tombstones
            + self.events
            + self.contact_values
            + self.consents
            + self.moderation_notes
            + self.command_outcomes
            + self.audit_records
            + self.draws
            + self.viewers
            + self.presence
    }

    /// Logs the counts (and only them).
    pub fn log(&self) {
        tracing::info!(
            messages = self.messages,
            tombstones = self.tombstones,
            events = self.events,
            contact_values = self.contact_values,
            consents = self.consents,
            moderation_notes = self.moderation_notes,
            command_outcomes = self.command_outcomes,
            audit_records = self.audit_records,
            draws = self.draws,
            viewers = self.viewers,
            presence = self.presence,
            "retention sweep"
        );
    }
}

impl std::fmt::Display for SweepReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "messages          {}", self.messages)?;
        writeln!(f, "tombstones        {}", self.tombstones)?;
        writeln!(f, "events            {}", self.events)?;
        writeln!(f, "contact values    {}", self.contact_values)?;
        writeln!(f, "consents          {}", self.consents)?;
        writeln!(f, "moderation notes  {}", self.moderation_notes)?;
        writeln!(f, "command outcomes  {}", self.command_outcomes)?;
        writeln!(f, "audit records     {}", self.audit_records)?;
        writeln!(f, "draws             {}", self.draws)?;
        write!(f, "viewers           {}", self.viewers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_set_by_key() {
        let mut p = RetentionPolicy::default();
        assert!(p.set_period("chat", "7d").unwrap());
        assert!(p.set_period("sweep_every", "5m").unwrap());
        assert!(p.set_period("contact.sms_reminders", "2h").unwrap());
        assert_eq!(p.chat, 7 * DAY);
        assert_eq!(p.sweep_every, Duration::from_secs(300));
        assert_eq!(
            p.contact(ConsentPurpose::SmsReminders),
            Duration::from_secs(7200)
        );
        assert_eq!(p.audit, RetentionPolicy::default().audit);
    }

    #[test]
    fn hostile_values_name_their_key_and_unknown_keys_are_told_apart() {
        for (key, value) in [
            ("chat", "soon"),
            ("audit", "0s"),
            ("contact.marketing", "-1d"),
        ] {
            let err = RetentionPolicy::default()
                .set_period(key, value)
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("retention.{key}")), "{key}: {err}");
        }
        for key in ["chats", "contact.fax"] {
            assert!(!RetentionPolicy::default().set_period(key, "1d").unwrap());
        }
    }

    #[test]
    fn a_huge_period_cuts_off_nothing() {
        assert!(cutoff(1_000, Duration::from_secs(u64::MAX)) < 0);
        assert_eq!(cutoff(10_000, Duration::from_secs(3)), 7_000);
    }
}
