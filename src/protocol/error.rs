//! Errors on the wire and WebSocket close codes.

use serde::{Deserialize, Serialize};

use super::command::CommandId;

/// Machine-readable error codes. The human message travels beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not a frame this protocol knows.
    BadFrame,
    /// Larger than [`super::MAX_FRAME_BYTES`].
    FrameTooLarge,
    /// `hello` carried a version this hub does not speak.
    UnsupportedVersion,
    /// A command arrived before `hello`, or a second `hello`.
    NotJoined,
    /// The staff token is malformed or its signature does not verify.
    TokenInvalid,
    TokenExpired,
    /// The token was minted for another live.
    WrongLive,
    /// The role may not send this command.
    Forbidden,
    /// The message, viewer or item does not exist (or no longer does).
    NotFound,
    /// An argument is out of range or malformed.
    Invalid,
    EmptyMessage,
    MessageTooLong,
    /// Too many messages; retry later.
    RateLimited,
    /// The viewer is in a timeout.
    TimedOut,
    Banned,
    /// The connection could not keep up with the show and was cut.
    SlowConsumer,
    /// No frame (nor pong) within the idle timeout.
    IdleTimeout,
    ShuttingDown,
    /// Too many connections.
    Full,
    /// Something failed in the hub; retrying may help.
    Internal,
    /// A moderation rule (the live's, or Shield's) blocks the message: it
    /// was not posted, the sender is told, nobody else saw it.
    Blocked,
    /// The brand does not offer this opt-in (`[collect]` in the brand
    /// file): the consent and its contact data are not stored. Also a
    /// feature this hub does not offer (SMS without a provider; what its
    /// store does not keep, such as reports on a shared live).
    NotOffered,
    /// The live has ended: its chat is closed to viewers.
    LiveEnded,
}

impl ErrorCode {
    /// Whether retrying the same command later may succeed.
    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited
                | ErrorCode::ShuttingDown
                | ErrorCode::Internal
                | ErrorCode::Full
                | ErrorCode::TimedOut
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::WrongLive => "wrong_live",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Invalid => "invalid",
            ErrorCode::EmptyMessage => "empty_message",
            ErrorCode::MessageTooLong => "message_too_long",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TimedOut => "timed_out",
            ErrorCode::Banned => "banned",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::IdleTimeout => "idle_timeout",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::Full => "full",
            ErrorCode::Internal => "internal",
            ErrorCode::Blocked => "blocked",
            ErrorCode::NotOffered => "not_offered",
            ErrorCode::LiveEnded => "live_ended",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"type":"error","id":"c-17","code":"forbidden","message":"…","temporary":false}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    /// The command this answers; absent for errors about the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<CommandId>,
    pub code: ErrorCode,
    pub message: String,
    pub temporary: bool,
    /// Milliseconds before the same command may succeed, when the hub
    /// knows (a `rate_limited` refusal in slow mode or over the rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorFrame {
    pub fn new(id: Option<CommandId>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            id,
            code,
            message: message.into(),
            temporary: code.is_temporary(),
            retry_after_ms: None,
        }
    }

    /// The same frame, saying when a retry may succeed.
    #[must_use]
    pub fn with_retry_after(mut self, ms: Option<u64>) -> Self {
        self.retry_after_ms = ms;
        self
    }
}

/// WebSocket close codes the hub uses. 1000–1015 are the standard ones;
/// 4000–4999 are this protocol's. [`CloseCode::is_terminal`] tells a client
/// whether reconnecting can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum CloseCode {
    Normal = 1000,
    /// The hub is shutting down; reconnect later.
    GoingAway = 1001,
    /// A frame was larger than [`super::MAX_FRAME_BYTES`].
    TooBig = 1009,
    /// The first frame was not a valid `hello`.
    ProtocolError = 4000,
    UnsupportedVersion = 4001,
    /// The staff token was refused (invalid, expired or for another live).
    Unauthorized = 4003,
    Banned = 4004,
    /// The connection's send queue overflowed: a slow reader.
    Slow = 4008,
    /// Nothing heard from the client within the idle timeout.
    Idle = 4009,
    /// The hub is at its connection limit.
    Full = 4013,
}

impl CloseCode {
    pub fn code(self) -> u16 {
        self as u16
    }

    /// Whether a reconnect with the same `hello` is bound to be refused
    /// again, so a client should stop instead of retrying: a protocol
    /// version the hub does not speak, a refused token or live, a banned
    /// viewer. Every other close (shutdown, slow, idle, full, a bad frame)
    /// is worth a reconnect and a resume.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CloseCode::UnsupportedVersion | CloseCode::Unauthorized | CloseCode::Banned
        )
    }

    pub fn from_code(code: u16) -> Option<Self> {
        use CloseCode::{
            Banned, Full, GoingAway, Idle, Normal, ProtocolError, Slow, TooBig, Unauthorized,
            UnsupportedVersion,
        };
        [
            Normal,
            GoingAway,
            TooBig,
            ProtocolError,
            UnsupportedVersion,
            Unauthorized,
            Banned,
            Slow,
            Idle,
            Full,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refused_hellos_and_bans_are_terminal() {
        let terminal: Vec<u16> = (1000..5000)
            .filter_map(CloseCode::from_code)
            .filter(|c| c.is_terminal())
            .map(CloseCode::code)
            .collect();
        assert_eq!(terminal, [4001, 4003, 4004]);
    }
}
