//! [`Refusal`]: the hub's "no" to a command, before it becomes an `error`
//! frame. The session's rules return it; the actor sends it as an
//! [`super::ErrorFrame`] with the command's id.

use super::error::ErrorCode;

/// Why a command was refused: a machine-readable code and the sentence the
/// client shows. Whether it is worth retrying follows from the code
/// ([`ErrorCode::is_temporary`]), so it is not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// How long to wait before the same command may succeed, when the hub
    /// knows (slow mode, the rate limit): a client can count down instead
    /// of parsing the sentence.
    pub retry_after_ms: Option<u64>,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The same refusal, saying when a retry may succeed.
    #[must_use]
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    /// An argument is out of range or malformed, or the command makes no
    /// sense in the current state.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    /// The message, viewer, poll or draw does not exist (or no longer does).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
}
