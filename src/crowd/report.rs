//! What a crowd run sent and saw, summed over its viewers.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::audience::LineKind;

/// Counts for one kind of line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub comment: u64,
    pub question: u64,
    pub abusive: u64,
    pub personal_data: u64,
}

impl KindCounts {
    pub fn add(&mut self, kind: LineKind, n: u64) {
        *self.get_mut(kind) += n;
    }

    pub fn get(&self, kind: LineKind) -> u64 {
        match kind {
            LineKind::Comment => self.comment,
            LineKind::Question => self.question,
            LineKind::Abusive => self.abusive,
            LineKind::PersonalData => self.personal_data,
        }
    }

    fn get_mut(&mut self, kind: LineKind) -> &mut u64 {
        match kind {
            LineKind::Comment => &mut self.comment,
            LineKind::Question => &mut self.question,
            LineKind::Abusive => &mut self.abusive,
            LineKind::PersonalData => &mut self.personal_data,
        }
    }

    pub fn total(&self) -> u64 {
        self.comment + self.question + self.abusive + self.personal_data
    }

    pub fn merge(&mut self, other: &KindCounts) {
        for kind in LineKind::ALL {
            self.add(kind, other.get(kind));
        }
    }
}

/// The summary `regie crowd` prints, and what `regie demo` and tests read.
///
/// A line is *sent* when a viewer wrote its `say` command; every sent line
/// ends *acked*, *refused* (with the hub's code) or *unanswered* (the run
/// ended first). An acked line is then *visible* (its sender received it
/// back as a viewer), *held* (viewers never received it: the hub held it for
/// a moderator) or *unresolved* (the run ended before it could tell).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrowdReport {
    pub viewers_requested: usize,
    pub viewers_connected: usize,
    /// Viewers that never joined, by reason (`refused: full`, `io: …`).
    pub connect_failures: BTreeMap<String, u64>,
    /// From the first connection to the last viewer joined.
    pub ramp_up: Duration,
    /// From start to the last viewer closed.
    pub elapsed: Duration,

    pub sent: KindCounts,
    pub acked: KindCounts,
    /// Final refusals by error code (after retries).
    pub refused: BTreeMap<String, u64>,
    pub unanswered: u64,
    /// `rate_limited` answers that were retried later.
    pub rate_limit_retries: u64,
    /// Lines the scheduler could not hand to any viewer because every
    /// connected one had spoken too recently for the hub's per-viewer rate.
    pub not_sent_no_viewer_free: u64,

    pub visible: u64,
    pub held: KindCounts,
    pub unresolved: u64,

    /// Event frames received, summed over viewers.
    pub events_received: u64,
    /// Chat messages among them (new and released).
    pub messages_received: u64,
    /// Poll votes and instant-win entries the hub accepted.
    pub votes: u64,
    pub entries: u64,
    /// Viewers the hub (or the network) disconnected before the end, by
    /// reason (`slow_consumer`, `close 4008`, `lost`…).
    pub disconnects: BTreeMap<String, u64>,
    /// Times a viewer whose connection closed came back (a welcome again),
    /// and tries at it.
    pub reconnects: u64,
    pub reconnect_attempts: u64,
    /// Messages delivered to a viewer whose text still holds a phone number,
    /// e-mail, IBAN or card number. Must be 0: the hub holds those.
    pub personal_data_seen_by_viewers: u64,
}

impl CrowdReport {
    pub fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }
}

impl fmt::Display for CrowdReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed: u64 = self.connect_failures.values().sum();
        writeln!(
            f,
            "crowd: {}/{} viewers connected ({failed} failed{}), ramp-up {:.1}s, ran {:.1}s",
            self.viewers_connected,
            self.viewers_requested,
            listing(&self.connect_failures),
            self.ramp_up.as_secs_f64(),
            self.elapsed.as_secs_f64(),
        )?;
        writeln!(
            f,
            "  sent     {} lines: {} comments, {} questions, {} abusive, {} with personal data",
            self.sent.total(),
            self.sent.comment,
            self.sent.question,
            self.sent.abusive,
            self.sent.personal_data,
        )?;
        writeln!(
            f,
            "  answers  {} acked, {} refused{}, {} unanswered; {} rate-limit retries",
            self.acked.total(),
            self.refused_total(),
            listing(&self.refused),
            self.unanswered,
            self.rate_limit_retries,
        )?;
        if self.not_sent_no_viewer_free > 0 {
            writeln!(
                f,
                "  skipped  {} lines: every viewer had spoken too recently for the hub's rate",
                self.not_sent_no_viewer_free
            )?;
        }
        writeln!(
            f,
            "  outcome  {} visible to viewers, {} held ({} personal data, {} abusive, {} other), {} unresolved",
            self.visible,
            self.held.total(),
            self.held.personal_data,
            self.held.abusive,
            self.held.comment + self.held.question,
            self.unresolved,
        )?;
        writeln!(
            f,
            "  received {} events ({} chat messages) across viewers",
            self.events_received, self.messages_received
        )?;
        writeln!(
            f,
            "  games    {} votes, {} instant-win entries accepted",
            self.votes, self.entries
        )?;
        if self.reconnect_attempts > 0 {
            writeln!(
                f,
                "  resumed  {} reconnects ({} tries) after the hub closed a connection",
                self.reconnects, self.reconnect_attempts
            )?;
        }
        let dropped: u64 = self.disconnects.values().sum();
        writeln!(
            f,
            "  dropped  {dropped} viewers disconnected early{}",
            listing(&self.disconnects)
        )?;
        write!(
            f,
            "  privacy  {} messages with personal data reached viewers",
            self.personal_data_seen_by_viewers
        )
    }
}

/// ` (a 2, b 1)` or nothing.
fn listing(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return String::new();
    }
    let items: Vec<String> = map.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!(" ({})", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_every_count() {
        let mut r = CrowdReport {
            viewers_requested: 300,
            viewers_connected: 298,
            ..CrowdReport::default()
        };
        r.connect_failures.insert("refused: full".into(), 2);
        r.sent.add(LineKind::Comment, 10);
        r.sent.add(LineKind::PersonalData, 2);
        r.acked.add(LineKind::Comment, 9);
        r.acked.add(LineKind::PersonalData, 2);
        r.refused.insert("rate_limited".into(), 1);
        r.held.add(LineKind::PersonalData, 2);
        r.visible = 9;
        let text = r.to_string();
        assert!(text.contains("298/300 viewers connected (2 failed (refused: full 2))"));
        assert!(text.contains("sent     12 lines: 10 comments"));
        assert!(text.contains("11 acked, 1 refused (rate_limited 1)"));
        assert!(text.contains("9 visible to viewers, 2 held (2 personal data"));
        assert!(text.contains("0 messages with personal data reached viewers"));
    }
}
