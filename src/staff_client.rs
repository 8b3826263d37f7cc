//! A one-shot staff client: connect to a running hub with a staff token,
//! send one command, wait for its answer, close.
//!
//! `regie privacy erase|rectify` and `regie live start|end --hub` act
//! through the hub rather than on the data dir behind its back: the hub holds recent messages in memory and fans the
//! resulting events (`viewer_erased`, `viewer_rectified`) out to every
//! connected client at once. The console keeps a connection for hours, with
//! an outbox and reconnects ([`crate::console::net`]); this is the short
//! path, one command and one answer, every wait bounded by
//! [`StaffCall::within`].
//!
//! The token never appears in an error or in `Debug` output.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::exit::Exit;
use crate::protocol::{
    Auth, ClientFrame, Command, CommandFrame, CommandId, ErrorCode, Hello, LiveInfo,
    PROTOCOL_VERSION, Seq, ServerFrame, parse_server_frame,
};

/// Where, as whom, and how long to wait for each step (the handshake, then
/// the answer).
#[derive(Clone)]
pub struct StaffCall {
    pub url: String,
    pub live: String,
    pub token: String,
    pub within: Duration,
    /// What `wss://` trusts; whether the token may go over plain `ws://`
    /// beyond loopback (`--ca`, `--insecure`).
    pub tls: crate::tls::ClientTls,
}

impl std::fmt::Debug for StaffCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffCall")
            .field("url", &self.url)
            .field("live", &self.live)
            .field("token", &"<redacted>")
            .field("within", &self.within)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Why a call did not end in an `ack`. Every variant names its exit code
/// ([`CallError::exit`]); the hub's messages are its own text, to be
/// sanitised by whoever prints them.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("cannot reach the hub at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the hub refused the token ({code}): {message}")]
    TokenRefused { code: ErrorCode, message: String },
    #[error("the hub does not speak regie protocol version {PROTOCOL_VERSION}: {message}")]
    UnsupportedVersion { message: String },
    /// Sent, and no answer in time: the command may or may not have taken
    /// effect (sending it again with the console is safe to check).
    #[error(
        "the hub at {url} did not answer {what} within {secs}s; it may still have done it: check before retrying"
    )]
    NoAnswer {
        url: String,
        what: &'static str,
        secs: u64,
    },
    #[error("the hub refused {what} ({code}): {message}")]
    Refused {
        what: &'static str,
        code: ErrorCode,
        message: String,
    },
    /// Nothing was sent: the URL would carry the token in clear.
    #[error(transparent)]
    PlainToken(#[from] crate::tls::PlainTokenRefused),
}

impl CallError {
    /// The documented exit code ([`crate::exit`]).
    pub fn exit(&self) -> Exit {
        match self {
            CallError::Unreachable { .. } | CallError::NoAnswer { .. } => Exit::Unreachable,
            CallError::TokenRefused { .. } => Exit::TokenRefused,
            CallError::UnsupportedVersion { .. } => Exit::UnsupportedVersion,
            CallError::Refused { .. } => Exit::Refused,
            CallError::PlainToken(_) => Exit::Usage,
        }
    }
}

/// What the hub answered: the command took effect, producing event `seq`
/// (when it produced one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acked {
    pub seq: Option<Seq>,
}

type Ws = crate::tls::ClientSocket;

/// The answer to a command: an `ack`, or the `lives` frame that answers
/// `live_list`.
enum Answered {
    Ack(Acked),
    Lives(Vec<LiveInfo>),
}

impl StaffCall {
    /// Joins as staff, sends `command` once, and returns its `ack`, or why
    /// there was none. The connection is closed either way.
    pub async fn send(&self, command: Command) -> Result<Acked, CallError> {
        match self.call(command).await? {
            Answered::Ack(acked) => Ok(acked),
            Answered::Lives(_) => Ok(Acked { seq: None }),
        }
    }

    /// Every live of the hub (`live_list`, answered with a `lives` frame).
    pub async fn lives(&self) -> Result<Vec<LiveInfo>, CallError> {
        match self.call(Command::LiveList).await? {
            Answered::Lives(lives) => Ok(lives),
            Answered::Ack(_) => Ok(Vec::new()),
        }
    }

    async fn call(&self, command: Command) -> Result<Answered, CallError> {
        let what = command.kind().name();
        crate::tls::check_token_transport(&self.url, self.tls.insecure)?;
        let mut ws = tokio::time::timeout(self.within, self.join())
            .await
            .unwrap_or_else(|_| {
                Err(self.unreachable(format!("no welcome within {}s", self.within.as_secs())))
            })?;
        let id = CommandId(format!(
            "cli-{}-{}",
            std::process::id(),
            crate::now_millis()
        ));
        let frame = ClientFrame::Command(CommandFrame {
            id: id.clone(),
            command,
        });
        let answer = match serde_json::to_string(&frame) {
            Ok(text) => match ws.send(Message::text(text)).await {
                Ok(()) => tokio::time::timeout(self.within, self.answer(&mut ws, &id, what))
                    .await
                    .unwrap_or_else(|_| Err(self.no_answer(what))),
                Err(e) => Err(self.unreachable(e.to_string())),
            },
            Err(e) => Err(self.unreachable(e.to_string())),
        };
        let _ = ws.close(None).await;
        answer
    }

    /// Reads frames until the one answering `id`; events and other answers
    /// (the hub's fan-out reaches this connection too) are skipped. A
    /// connection that ends first is no answer: the hub may have acted.
    async fn answer(
        &self,
        ws: &mut Ws,
        id: &CommandId,
        what: &'static str,
    ) -> Result<Answered, CallError> {
        while let Some(msg) = ws.next().await {
            let Ok(Message::Text(text)) = msg else {
                if matches!(msg, Ok(Message::Close(_)) | Err(_)) {
                    break;
                }
                continue;
            };
            match parse_server_frame(&text) {
                Ok(ServerFrame::Ack { id: acked, seq }) if acked == *id => {
                    return Ok(Answered::Ack(Acked { seq }));
                }
                Ok(ServerFrame::Lives { id: asked, lives }) if asked == *id => {
                    return Ok(Answered::Lives(lives));
                }
                Ok(ServerFrame::Error(e)) if e.id.as_ref() == Some(id) => {
                    return Err(CallError::Refused {
                        what,
                        code: e.code,
                        message: e.message,
                    });
                }
                _ => {}
            }
        }
        Err(self.no_answer(what))
    }

    /// WebSocket, `hello`, and every frame up to the end of the snapshot.
    async fn join(&self) -> Result<Ws, CallError> {
        let mut ws = crate::tls::connect(&self.url, &self.tls, None)
            .await
            .map_err(|e| self.unreachable(e.to_string()))?;
        let hello = ClientFrame::Hello(Hello {
            version: PROTOCOL_VERSION,
            live: self.live.clone(),
            auth: Auth::Staff {
                token: self.token.clone(),
            },
            resume: None,
        });
        let text = serde_json::to_string(&hello).map_err(|e| self.unreachable(e.to_string()))?;
        ws.send(Message::text(text))
            .await
            .map_err(|e| self.unreachable(e.to_string()))?;
        let mut refusal: Option<(ErrorCode, String)> = None;
        let mut paged = false;
        loop {
            let msg = match ws.next().await {
                Some(Ok(msg)) => msg,
                Some(Err(e)) if refusal.is_none() => return Err(self.unreachable(e.to_string())),
                Some(Err(_)) | None => return Err(self.refused_join(refusal)),
            };
            let Message::Text(text) = msg else {
                if matches!(msg, Message::Close(_)) {
                    return Err(self.refused_join(refusal));
                }
                continue;
            };
            match parse_server_frame(&text) {
                // A paged snapshot: commands go after its last page.
                Ok(ServerFrame::Welcome(w)) if w.expects_pages() => paged = true,
                Ok(ServerFrame::Welcome(_)) => return Ok(ws),
                Ok(ServerFrame::SnapshotEnd { .. }) if paged => return Ok(ws),
                Ok(ServerFrame::Error(e)) if e.id.is_none() => refusal = Some((e.code, e.message)),
                Ok(ServerFrame::Bye { code, message }) => refusal = Some((code, message)),
                Ok(_) => {}
                Err(e) => {
                    return Err(
                        self.unreachable(format!("not a regie hub (unreadable frame: {e})"))
                    );
                }
            }
        }
    }

    /// A connection that ended before `welcome`: the token, the version, or
    /// anything else the hub said.
    fn refused_join(&self, refusal: Option<(ErrorCode, String)>) -> CallError {
        match refusal {
            Some((
                code @ (ErrorCode::TokenInvalid | ErrorCode::TokenExpired | ErrorCode::WrongLive),
                message,
            )) => CallError::TokenRefused { code, message },
            Some((ErrorCode::UnsupportedVersion, message)) => {
                CallError::UnsupportedVersion { message }
            }
            Some((code, message)) => self.unreachable(format!("{message} ({code})")),
            None => self.unreachable("closed before welcome".into()),
        }
    }

    fn unreachable(&self, reason: String) -> CallError {
        CallError::Unreachable {
            url: self.url.clone(),
            reason,
        }
    }

    fn no_answer(&self, what: &'static str) -> CallError {
        CallError::NoAnswer {
            url: self.url.clone(),
            what,
            secs: self.within.as_secs(),
        }
    }
}
