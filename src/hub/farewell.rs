//! Why the hub closes a connection: the catalogue of farewells.
//!
//! A farewell is said as a `bye` frame to a joined connection (an `error`
//! frame before `welcome`), then a WebSocket close code. Each reason is
//! defined once here, with its error code, close code and text, so two
//! places can never word or code the same reason differently. Whether the
//! client should come back follows from the close code
//! ([`CloseCode::is_terminal`]).

use std::time::Duration;

use crate::auth::AuthError;
use crate::protocol::{
    CloseCode, ErrorCode, ErrorFrame, MAX_FRAME_BYTES, PROTOCOL_VERSION, ServerFrame,
};

/// How long a closing connection waits for the client's close reply, once
/// its own close frame is written. Short: a client that does not answer is
/// not worth holding a socket for, but most answer within a round trip, and
/// closing after their reply never resets frames still in flight to them.
pub(crate) const CLOSE_REPLY_WAIT: Duration = Duration::from_secs(1);

/// Why a connection is being closed. Built only by the named constructors
/// below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Farewell {
    code: ErrorCode,
    message: String,
    close: CloseCode,
}

impl Farewell {
    fn new(code: ErrorCode, message: impl Into<String>, close: CloseCode) -> Self {
        Self {
            code,
            message: message.into(),
            close,
        }
    }

    pub(crate) fn code(&self) -> ErrorCode {
        self.code
    }

    pub(crate) fn close(&self) -> CloseCode {
        self.close
    }

    /// Said to a joined connection: `bye`.
    pub(crate) fn into_bye(self) -> ServerFrame {
        ServerFrame::Bye {
            code: self.code,
            message: self.message,
        }
    }

    /// Said to a connection refused before `welcome`: an `error` frame
    /// answering no command.
    pub(crate) fn into_error(self) -> ErrorFrame {
        ErrorFrame::new(None, self.code, self.message)
    }

    /// The hub is stopping; the client reconnects and resumes once it is
    /// back.
    pub(crate) fn shutting_down() -> Self {
        Self::new(
            ErrorCode::ShuttingDown,
            "the hub is shutting down; reconnect and resume in a moment",
            CloseCode::GoingAway,
        )
    }

    /// A banned viewer, at `hello` or when the ban is decided.
    pub(crate) fn banned() -> Self {
        Self::new(
            ErrorCode::Banned,
            "you are banned from this live",
            CloseCode::Banned,
        )
    }

    /// The connection's send queue of `queue_frames` overflowed: the show
    /// does not wait for a reader that stopped reading.
    pub(crate) fn slow(queue_frames: usize) -> Self {
        Self::new(
            ErrorCode::SlowConsumer,
            format!(
                "the connection fell {queue_frames} frames behind the live; reconnect and resume"
            ),
            CloseCode::Slow,
        )
    }

    /// Nothing, not even a pong, heard for `after`.
    pub(crate) fn idle(after: Duration) -> Self {
        Self::new(
            ErrorCode::IdleTimeout,
            format!("nothing heard for {} s", after.as_secs()),
            CloseCode::Idle,
        )
    }

    /// A frame over [`MAX_FRAME_BYTES`].
    pub(crate) fn too_big() -> Self {
        Self::new(
            ErrorCode::FrameTooLarge,
            format!("frames are limited to {MAX_FRAME_BYTES} bytes"),
            CloseCode::TooBig,
        )
    }

    /// A text frame whose bytes are not UTF-8. The WebSocket layer cannot
    /// read past it, so unlike a frame that is not a command, one is enough.
    pub(crate) fn invalid_utf8() -> Self {
        Self::new(
            ErrorCode::BadFrame,
            "a text frame was not valid UTF-8",
            CloseCode::ProtocolError,
        )
    }

    /// `count` frames in a row that were not valid commands.
    pub(crate) fn bad_frames(count: u32) -> Self {
        Self::new(
            ErrorCode::BadFrame,
            format!("{count} bad frames in a row"),
            CloseCode::ProtocolError,
        )
    }

    /// The hub is at its connection limit.
    pub(crate) fn full() -> Self {
        Self::new(
            ErrorCode::Full,
            "the hub is at its connection limit; try again later",
            CloseCode::Full,
        )
    }

    /// The first frame did not arrive within the hello timeout.
    pub(crate) fn no_hello() -> Self {
        Self::new(
            ErrorCode::BadFrame,
            "no hello received in time",
            CloseCode::ProtocolError,
        )
    }

    /// The first frame was binary, not a JSON text `hello`.
    pub(crate) fn binary_hello() -> Self {
        Self::new(
            ErrorCode::BadFrame,
            "the first frame must be a JSON text hello",
            CloseCode::ProtocolError,
        )
    }

    /// `hello` asked for protocol `version`, which this hub does not speak.
    pub(crate) fn unsupported_version(version: u64) -> Self {
        Self::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "this hub speaks protocol version {PROTOCOL_VERSION}; the client sent version {version}"
            ),
            CloseCode::UnsupportedVersion,
        )
    }

    /// `hello` named a live this hub does not hold; `theirs` is already
    /// sanitised. Terminal: retrying the same name cannot succeed until an
    /// admin creates the live (`regie live create`).
    pub(crate) fn unknown_live(theirs: &str) -> Self {
        Self::new(
            ErrorCode::WrongLive,
            format!(
                "this hub has no live {theirs:?} (an admin creates it with `regie live create`)"
            ),
            CloseCode::Unauthorized,
        )
    }

    /// The staff token did not verify.
    pub(crate) fn token_refused(error: &AuthError) -> Self {
        Self::new(error.code(), error.to_string(), CloseCode::Unauthorized)
    }

    /// A viewer's `hello` fields were not acceptable.
    pub(crate) fn invalid_hello(why: &str) -> Self {
        Self::new(ErrorCode::Invalid, why, CloseCode::ProtocolError)
    }

    /// The brand-signed viewer token did not verify (or this hub takes
    /// none).
    pub(crate) fn viewer_token_refused(
        error: &crate::auth::viewer_token::ViewerTokenError,
    ) -> Self {
        Self::new(error.code(), error.to_string(), CloseCode::Unauthorized)
    }

    /// Too many new viewers from one address this minute: the client may
    /// try again later (a reconnect with a pass it got costs nothing).
    pub(crate) fn too_many_newcomers(per_minute: u32) -> Self {
        Self::new(
            ErrorCode::RateLimited,
            format!(
                "too many new viewers from your address ({per_minute} a minute at most); \
                 try again in a minute"
            ),
            CloseCode::GoingAway,
        )
    }

    /// The hub could not issue a viewer pass (no randomness).
    pub(crate) fn no_viewer_id() -> Self {
        Self::new(
            ErrorCode::Internal,
            "the hub could not make a viewer id",
            CloseCode::GoingAway,
        )
    }

    /// A joining viewer could not be read or saved.
    pub(crate) fn store_unreadable() -> Self {
        Self::new(
            ErrorCode::Internal,
            "the hub could not read its store; try again",
            CloseCode::GoingAway,
        )
    }

    /// The store failed and could not be reopened: the hub stops.
    pub(crate) fn store_lost() -> Self {
        Self::new(
            ErrorCode::Internal,
            "the hub lost its store; reconnect later",
            CloseCode::GoingAway,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bans_and_refused_hellos_close_for_good() {
        let terminal = |f: Farewell| f.close().is_terminal();
        assert!(terminal(Farewell::banned()));
        assert!(terminal(Farewell::unsupported_version(7)));
        assert!(terminal(Farewell::unknown_live("other")));
        for f in [
            Farewell::shutting_down(),
            Farewell::slow(1024),
            Farewell::idle(Duration::from_secs(45)),
            Farewell::too_big(),
            Farewell::bad_frames(17),
            Farewell::invalid_utf8(),
            Farewell::full(),
            Farewell::no_hello(),
            Farewell::store_lost(),
        ] {
            assert!(!f.close().is_terminal(), "{f:?}");
        }
    }

    #[test]
    fn a_farewell_is_a_bye_when_joined_and_an_error_before() {
        let bye = Farewell::slow(8).into_bye();
        assert!(matches!(
            bye,
            ServerFrame::Bye { code: ErrorCode::SlowConsumer, ref message } if message.contains("8 frames")
        ));
        let error = Farewell::full().into_error();
        assert_eq!(error.id, None);
        assert_eq!(error.code, ErrorCode::Full);
        assert!(error.temporary);
    }
}
