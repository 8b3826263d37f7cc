//! The envelopes: every text frame is one JSON object with a `type`.

use serde::{Deserialize, Serialize};

use super::command::{CommandFrame, CommandId};
use super::error::{ErrorCode, ErrorFrame};
use super::event::EventFrame;
use super::types::{Contact, Epoch, Role, Seq, Snapshot, ViewerCard, ViewerId};
use super::{MAX_COMMAND_ID_BYTES, MAX_FRAME_BYTES};

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello(Hello),
    Command(CommandFrame),
}

/// The first frame of every connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub version: u16,
    /// The live session to join.
    pub live: String,
    pub auth: Auth,
    /// Where the client left off, to replay only what it missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Auth {
    Viewer {
        first_name: String,
        /// Shown beside the first name when two viewers share it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pseudonym: Option<String>,
        /// A device secret the player keeps, so a reconnecting viewer stays
        /// the same viewer (one vote, one entry, sanctions that stick).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// Optional, opt-in contact data. Never broadcast.
        #[serde(default, skip_serializing_if = "Contact::is_empty")]
        contact: Contact,
    },
    Staff {
        /// A token minted by `regie token`.
        token: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub epoch: Epoch,
    pub seq: Seq,
}

/// Frames the hub sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Welcome(Box<Welcome>),
    /// The requested resume is impossible (history lost, or too far back);
    /// a `welcome` with a fresh snapshot follows. Drop local state.
    Reload {
        reason: String,
    },
    Event(EventFrame),
    /// The command took effect (or had already, for a retried id).
    Ack {
        id: CommandId,
        /// The event the command produced, when it produced one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
    },
    Error(ErrorFrame),
    ViewerCard {
        id: CommandId,
        card: Box<ViewerCard>,
    },
    /// The hub is about to close this connection, and why.
    Bye {
        code: ErrorCode,
        message: String,
    },
}

impl ServerFrame {
    /// The wire name (`"welcome"`, `"event"`…), for logs and error messages.
    pub fn name(&self) -> &'static str {
        match self {
            ServerFrame::Welcome(_) => "welcome",
            ServerFrame::Reload { .. } => "reload",
            ServerFrame::Event(_) => "event",
            ServerFrame::Ack { .. } => "ack",
            ServerFrame::Error(_) => "error",
            ServerFrame::ViewerCard { .. } => "viewer_card",
            ServerFrame::Bye { .. } => "bye",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub version: u16,
    pub live: String,
    pub epoch: Epoch,
    /// The session's head when this welcome was sent: the snapshot reflects
    /// every event up to it, and the replay (when resuming) ends at it.
    pub seq: Seq,
    pub you: WhoAmI,
    /// True when the hub will replay the gap after the client's resume point
    /// instead of sending a snapshot.
    pub resumed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Snapshot>,
    /// Viewers connected when this welcome was sent, so a resuming client
    /// (no snapshot) does not keep a count from before. Absent from older
    /// hubs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewers_online: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub role: Role,
    /// First name (viewer) or display name (staff).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_id: Option<ViewerId>,
}

/// Parses one client text frame, bounding size first so a hostile frame
/// costs nothing to refuse. The error is ready to send back.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, ErrorFrame> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(ErrorFrame::new(
            None,
            ErrorCode::FrameTooLarge,
            format!(
                "frame of {} bytes exceeds the {MAX_FRAME_BYTES}-byte limit",
                text.len()
            ),
        ));
    }
    let frame: ClientFrame = serde_json::from_str(text).map_err(|e| {
        ErrorFrame::new(None, ErrorCode::BadFrame, format!("not a valid frame: {e}"))
    })?;
    if let ClientFrame::Command(c) = &frame
        && (c.id.0.is_empty() || c.id.0.len() > MAX_COMMAND_ID_BYTES)
    {
        return Err(ErrorFrame::new(
            None,
            ErrorCode::BadFrame,
            format!("a command id must be 1 to {MAX_COMMAND_ID_BYTES} bytes"),
        ));
    }
    Ok(frame)
}

/// Parses one hub text frame (console and crowd side).
pub fn parse_server_frame(text: &str) -> Result<ServerFrame, serde_json::Error> {
    serde_json::from_str(text)
}
