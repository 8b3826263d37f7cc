//! Commands: what clients ask the hub to do. Each travels in a
//! [`CommandFrame`] with a client-chosen id, so a retry has its effect once.

use serde::{Deserialize, Serialize};

use super::types::{ConsentChannel, ConsentPurpose, MessageId, ViewerId};

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

/// Everything a client can ask. Which role may send which command is decided
/// by the hub (`hub::permissions`), never by the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    // ── viewer ──────────────────────────────────────────────────────────
    /// Post a chat message; `question` puts it in the hosts' queue.
    Say {
        text: String,
        #[serde(default)]
        question: bool,
    },
    /// Give or withdraw consent for one purpose. Stored now; used by later
    /// features (prize contact, marketing).
    Consent {
        purpose: ConsentPurpose,
        granted: bool,
        channel: ConsentChannel,
        /// Hex SHA-256 of the consent text the viewer was shown.
        text_sha256: String,
    },

    // ── staff ───────────────────────────────────────────────────────────
    /// A staff reply bound to a message; shown with the viewer's first name.
    Answer { message_id: MessageId, text: String },
    /// Put a message on screen (replaces the current pin).
    Pin { message_id: MessageId },
    /// Take the pinned message off screen.
    Unpin,
    /// Mark a question answered.
    MarkAnswered { message_id: MessageId },
    /// Hide a message from viewers (moderation; the text stays for staff).
    Hide {
        message_id: MessageId,
        #[serde(default)]
        reason: String,
    },
    /// Let a held message through to viewers.
    Release { message_id: MessageId },
    /// Silence a viewer for a while.
    Timeout {
        viewer_id: ViewerId,
        seconds: u32,
        #[serde(default)]
        reason: String,
    },
    /// Remove a viewer from the live for good.
    Ban {
        viewer_id: ViewerId,
        #[serde(default)]
        reason: String,
    },
    /// Remove a message's content everywhere (data-protection request).
    /// Leaves a tombstone and an audit record without the content.
    Redact {
        message_id: MessageId,
        reason: String,
    },
    /// Ask for a viewer's card; answered with a `viewer_card` frame.
    ViewerCard { viewer_id: ViewerId },

    // ── polls and instant wins ──────────────────────────────────────────
    /// Launch a poll (host, admin): 2 to 6 options; no duration = until closed.
    PollOpen {
        question: String,
        options: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_secs: Option<u32>,
    },
    /// Close a poll early (host, admin).
    PollClose { poll_id: u64 },
    /// Vote (viewer): `option` is 0-based. One final vote per viewer.
    Vote { poll_id: u64, option: usize },
    /// Launch an instant win (host, admin). The hub commits to a secret
    /// seed now and draws when the entry window ends.
    InstantWinOpen {
        prize: String,
        winners: u32,
        entry_secs: u32,
        /// Rules text or link. The hub adds "No purchase necessary."
        rules: String,
    },
    /// End the entry window early and draw now (host, admin).
    InstantWinClose { draw_id: u64 },
    /// Enter an instant win (viewer): one entry per viewer.
    Enter { draw_id: u64 },
    /// A new recorded draw among the same entrants minus `exclude`, with its
    /// own commitment (host, admin). Never replaces a draw silently.
    Redraw {
        draw_id: u64,
        exclude: Vec<ViewerId>,
        reason: String,
    },
}

impl Command {
    /// The wire name of the command, for logs, metrics and permission tables.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Say { .. } => "say",
            Command::Consent { .. } => "consent",
            Command::Answer { .. } => "answer",
            Command::Pin { .. } => "pin",
            Command::Unpin => "unpin",
            Command::MarkAnswered { .. } => "mark_answered",
            Command::Hide { .. } => "hide",
            Command::Release { .. } => "release",
            Command::Timeout { .. } => "timeout",
            Command::Ban { .. } => "ban",
            Command::Redact { .. } => "redact",
            Command::ViewerCard { .. } => "viewer_card",
            Command::PollOpen { .. } => "poll_open",
            Command::PollClose { .. } => "poll_close",
            Command::Vote { .. } => "vote",
            Command::InstantWinOpen { .. } => "instant_win_open",
            Command::InstantWinClose { .. } => "instant_win_close",
            Command::Enter { .. } => "enter",
            Command::Redraw { .. } => "redraw",
        }
    }
}
