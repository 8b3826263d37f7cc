//! Inbound SMS keywords (opt-out, opt-in, help).
//!
//! Placeholder with the agreed interface: the sms-edges work replaces this
//! file (and owns its table test).

/// What a one-word inbound message asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
    Help,
}

/// The keyword `body` is, if it is one word of the lists (case- and
/// accent-insensitive, surrounding whitespace and trailing punctuation
/// ignored).
pub fn classify(body: &str) -> Option<Keyword> {
    let word = body
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_punctuation())
        .to_uppercase()
        .replace('Ê', "E");
    match word.as_str() {
        "STOP" | "ARRET" | "UNSUBSCRIBE" | "END" | "QUIT" | "STOPALL" | "REVOKE" | "OPTOUT"
        | "CANCEL" => Some(Keyword::OptOut),
        "START" | "YES" | "UNSTOP" => Some(Keyword::OptIn),
        "HELP" | "INFO" => Some(Keyword::Help),
        _ => None,
    }
}
