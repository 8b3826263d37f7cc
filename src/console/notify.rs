//! Notifications: a terminal bell and/or a desktop notification (OSC 9 and
//! OSC 777, which terminals that support them turn into a desktop popup)
//! when a question arrives, a message is held, or a viewer names this staff
//! member. Off unless the console config's `[notify]` table turns it on.
//!
//! The decision is pure ([`Notifier::decide`], called from `update`); the
//! terminal loop writes the bytes [`escape`] returns. A notification never
//! carries a viewer's text or name: a desktop notification outlives the
//! show in the OS's notification history, where no erasure or redaction
//! reaches it. It says what happened and in which live, nothing more; the
//! console shows the rest. The live's name is made safe for an OSC string
//! (no control characters, no `;` field separator, bounded).

use std::fmt::Write as _;

use serde::Deserialize;

use crate::protocol::Millis;

/// The shortest gap between two notifications: a flood of questions rings
/// once, not a hundred times.
pub const MIN_GAP_MILLIS: Millis = 5_000;
/// The longest text put in an OSC string, in characters.
pub const MAX_OSC_CHARS: usize = 80;

/// The console config's `[notify]` table. Every key is optional; with
/// neither `bell` nor `desktop`, nothing notifies.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
// A config table of on/off switches, each its own key in the file.
#[allow(clippy::struct_excessive_bools)]
pub struct NotifyConfig {
    /// Ring the terminal bell (BEL).
    pub bell: bool,
    /// Send a desktop notification (OSC 9 and OSC 777).
    pub desktop: bool,
    /// For a new question.
    pub question: bool,
    /// For a newly held message (staff who work the hold queue).
    pub held: bool,
    /// For a chat message naming this staff member.
    pub mention: bool,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            bell: false,
            desktop: false,
            question: true,
            held: true,
            mention: true,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Question,
    Held,
    Mention,
}

impl Reason {
    fn text(self) -> &'static str {
        match self {
            Reason::Question => "new question",
            Reason::Held => "a message is held for review",
            Reason::Mention => "a viewer named you in the chat",
        }
    }
}

/// A notification to give (the edge writes [`escape`]`(n)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub bell: bool,
    pub desktop: bool,
    /// "regie · show" (made safe for an OSC string).
    pub title: String,
    /// What happened ([`Reason`]), never a viewer's words.
    pub body: String,
}

/// The config and when the last notification went out.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    pub config: NotifyConfig,
    last_at: Option<Millis>,
    /// Decided by `update` while applying a frame, handed to the edge as
    /// an effect right after.
    pending: Option<Notification>,
}

impl Notifier {
    pub fn new(config: NotifyConfig) -> Notifier {
        Notifier {
            config,
            ..Notifier::default()
        }
    }

    /// Whether any notification is on (bell or desktop).
    pub fn enabled(&self) -> bool {
        self.config.bell || self.config.desktop
    }

    /// Whether `reason` notifies at `now`: turned on, and the last
    /// notification at least [`MIN_GAP_MILLIS`] ago. Records it if so.
    pub fn decide(&mut self, reason: Reason, live: &str, now: Millis) -> Option<Notification> {
        let c = &self.config;
        let wanted = match reason {
            Reason::Question => c.question,
            Reason::Held => c.held,
            Reason::Mention => c.mention,
        };
        if !(c.bell || c.desktop) || !wanted {
            return None;
        }
        if self.last_at.is_some_and(|at| now - at < MIN_GAP_MILLIS) {
            return None;
        }
        self.last_at = Some(now);
        Some(Notification {
            bell: c.bell,
            desktop: c.desktop,
            title: osc_safe(&format!("regie · {live}")),
            body: osc_safe(reason.text()),
        })
    }

    /// Decides, and keeps the notification for [`Notifier::take`].
    pub fn note(&mut self, reason: Reason, live: &str, now: Millis) {
        if let Some(n) = self.decide(reason, live, now) {
            self.pending = Some(n);
        }
    }

    /// The notification decided since the last call, if any.
    pub fn take(&mut self) -> Option<Notification> {
        self.pending.take()
    }
}

/// `text` fit for an OSC string: no control character (C0, C1, DEL: an ESC
/// or a BEL would end the string and start a sequence of its own), no `;`
/// (OSC 777's field separator), bidi and zero-width characters removed,
/// at most [`MAX_OSC_CHARS`] characters.
pub fn osc_safe(text: &str) -> String {
    crate::privacy::sanitize(text)
        .chars()
        .filter(|c| !c.is_control() && *c != ';')
        .take(MAX_OSC_CHARS)
        .collect()
}

/// The bytes to write to the terminal: BEL, then OSC 9 (iTerm2, Windows
/// Terminal, kitty…) and OSC 777 (VTE, foot, urxvt…); a terminal ignores
/// the one it does not know.
pub fn escape(n: &Notification) -> String {
    let mut out = String::new();
    if n.bell {
        out.push('\x07');
    }
    if n.desktop {
        let (title, body) = (osc_safe(&n.title), osc_safe(&n.body));
        // Writing to a String cannot fail.
        let _ = write!(out, "\x1b]9;{title}: {body}\x07");
        let _ = write!(out, "\x1b]777;notify;{title};{body}\x07");
    }
    out
}

/// Whether `text` names `name` as a word (case aside): "merci Claire !"
/// names Claire, "Claireville" does not. A name under two characters
/// names nobody.
pub fn mentions(text: &str, name: &str) -> bool {
    let name = name.trim().to_lowercase();
    if name.chars().count() < 2 {
        return false;
    }
    let text = text.to_lowercase();
    let word_char = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(&name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(word_char) && !after.is_some_and(word_char)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(bell: bool, desktop: bool) -> Notifier {
        Notifier::new(NotifyConfig {
            bell,
            desktop,
            ..NotifyConfig::default()
        })
    }

    #[test]
    fn off_by_default() {
        let mut n = Notifier::default();
        assert_eq!(n.decide(Reason::Question, "show", 0), None);
        assert_eq!(n.decide(Reason::Mention, "show", 60_000), None);
    }

    #[test]
    fn fires_for_each_reason_once_per_gap() {
        let mut n = on(true, false);
        let first = n.decide(Reason::Question, "show", 1_000).unwrap();
        assert!(first.bell && !first.desktop);
        assert_eq!(first.body, "new question");
        assert_eq!(
            n.decide(Reason::Held, "show", 1_000 + MIN_GAP_MILLIS - 1),
            None
        );
        let held = n
            .decide(Reason::Held, "show", 1_000 + MIN_GAP_MILLIS)
            .unwrap();
        assert_eq!(held.body, "a message is held for review");
        let later = 1_000 + 2 * MIN_GAP_MILLIS;
        assert!(n.decide(Reason::Mention, "show", later).is_some());
    }

    #[test]
    fn each_reason_can_be_turned_off() {
        let mut n = Notifier::new(NotifyConfig {
            bell: true,
            question: false,
            ..NotifyConfig::default()
        });
        assert_eq!(n.decide(Reason::Question, "show", 0), None);
        assert!(n.decide(Reason::Held, "show", 0).is_some());
    }

    #[test]
    fn osc_strings_carry_no_control_character_nor_separator() {
        let mut n = on(false, true);
        let live = "sh\x07ow\x1b]0;pwned\x1b\\;x\u{202e}\u{9b}";
        let got = n.decide(Reason::Question, live, 0).unwrap();
        let bytes = escape(&got);
        // Exactly the sequences we write: two OSC strings, each ended by BEL.
        assert_eq!(bytes.matches('\x1b').count(), 2, "{bytes:?}");
        assert_eq!(bytes.matches('\x07').count(), 2, "{bytes:?}");
        assert!(!got.title.contains(';') && !got.title.chars().any(char::is_control));
        assert!(!got.title.contains('\u{202e}'));
        assert!(bytes.starts_with("\x1b]9;regie · "));
        let long = n_long();
        assert!(osc_safe(&long).chars().count() <= MAX_OSC_CHARS);
    }

    fn n_long() -> String {
        "é".repeat(MAX_OSC_CHARS * 3)
    }

    #[test]
    fn mentions_are_whole_words() {
        assert!(mentions("merci Claire !", "Claire"));
        assert!(mentions("@claire tu peux ?", "Claire"));
        assert!(!mentions("Claireville", "Claire"));
        assert!(!mentions("anything", "a"));
        assert!(!mentions("hello", ""));
    }
}
