//! The baseline the hub is measured against: a bare tokio-tungstenite
//! broadcast. It accepts WebSockets, answers `hello` with a `welcome`, and
//! writes every `say` it receives to every connection as the same `event`
//! frame the hub would send, serialised once. No store, no moderation, no
//! roles, no acks: what is left is the cost of the sockets, which is what
//! the hub's fan-out must come close to.
//!
//! Each connection's writer takes every frame waiting for it, feeds them
//! all, then flushes once, so a busy show costs one write per connection per
//! batch rather than one per frame.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::protocol::{
    Auth, Author, ChatMessage, ClientFrame, Command, Epoch, Event, EventFrame, MessageId,
    PROTOCOL_VERSION, Role, ServerFrame, Settings, Snapshot, ViewerId, Visibility, Welcome, WhoAmI,
};

/// Frames a connection may lag behind before it misses some. At 200 lines
/// a second this is ten seconds of show; a miss is counted by the load
/// generator as a dropped delivery, never hidden.
const BACKLOG: usize = 2048;

/// Serves until `shutdown` resolves. Returns how many frames connections
/// missed by lagging behind the backlog.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<u64> {
    let (frames, _) = broadcast::channel::<Utf8Bytes>(BACKLOG);
    let (says, mut said) = mpsc::unbounded_channel::<(Author, String)>();
    let lagged = Arc::new(AtomicU64::new(0));
    let epoch = Epoch("bare-0123456789abcdef".into());

    let fan_out = {
        let frames = frames.clone();
        let epoch = epoch.clone();
        tokio::spawn(async move {
            let mut seq = 0u64;
            while let Some((author, text)) = said.recv().await {
                seq += 1;
                let at = crate::now_millis();
                let frame = ServerFrame::Event(EventFrame {
                    epoch: epoch.clone(),
                    seq,
                    at,
                    event: Event::Message {
                        message: ChatMessage {
                            id: MessageId(seq),
                            at,
                            author,
                            text,
                            question: false,
                            answered: false,
                            reply_to: None,
                            also_to: Vec::new(),
                            visibility: Visibility::Visible,
                            product: None,
                            announcement: false,
                        },
                    },
                });
                let json = serde_json::to_string(&frame).expect("an event always serialises");
                // No receivers yet is fine: nobody to deliver to.
                let _ = frames.send(Utf8Bytes::from(json));
            }
        })
    };

    tokio::pin!(shutdown);
    let mut next_viewer = 0u64;
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    // Out of file descriptors and the like: keep serving the
                    // connections we have.
                    Err(e) => {
                        tracing::warn!(error = %e, "bare broadcast: accept failed");
                        continue;
                    }
                };
                next_viewer += 1;
                let connection = Connection {
                    frames: frames.subscribe(),
                    says: says.clone(),
                    lagged: Arc::clone(&lagged),
                    epoch: epoch.clone(),
                    viewer: next_viewer,
                };
                tokio::spawn(connection.run(stream));
            }
        }
    }
    fan_out.abort();
    Ok(lagged.load(Ordering::Relaxed))
}

/// Viewers send little, so a 4 KiB read buffer per connection instead of
/// tungstenite's eagerly allocated 128 KiB default: at 5,000 sockets that is
/// the difference between 20 MiB and 640 MiB of buffers. Writes keep the
/// default target so a batch is fed whole before the one flush.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024)
}

struct Connection {
    frames: broadcast::Receiver<Utf8Bytes>,
    says: mpsc::UnboundedSender<(Author, String)>,
    lagged: Arc<AtomicU64>,
    epoch: Epoch,
    viewer: u64,
}

impl Connection {
    async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let Ok(ws) =
            tokio_tungstenite::accept_async_with_config(stream, Some(socket_config())).await
        else {
            return;
        };
        let (mut sink, mut incoming) = ws.split();
        let mut author: Option<Author> = None;
        loop {
            tokio::select! {
                msg = incoming.next() => {
                    let text = match msg {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                        Some(Ok(_)) => continue,
                    };
                    match serde_json::from_str::<ClientFrame>(&text) {
                        Ok(ClientFrame::Hello(hello)) if author.is_none() => {
                            let (first_name, pseudonym) = match hello.auth {
                                Auth::Viewer { first_name, pseudonym, .. } => {
                                    (first_name, pseudonym.unwrap_or_default())
                                }
                                Auth::Staff { .. } => ("Staff".to_owned(), String::new()),
                            };
                            let viewer_id = ViewerId(format!("v{:021}", self.viewer));
                            let welcome = self.welcome(&first_name, viewer_id.clone());
                            author = Some(Author::Viewer { viewer_id, first_name, pseudonym });
                            if sink.send(Message::text(welcome)).await.is_err() {
                                return;
                            }
                            // Deliveries start after the welcome, as with the hub.
                            self.frames = self.frames.resubscribe();
                        }
                        Ok(ClientFrame::Command(c)) => {
                            if let (Command::Say { text, .. }, Some(author)) = (c.command, &author) {
                                let _ = self.says.send((author.clone(), text));
                            }
                        }
                        _ => {}
                    }
                }
                first = self.frames.recv(), if author.is_some() => {
                    let first = match first {
                        Ok(frame) => frame,
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            self.lagged.fetch_add(n, Ordering::Relaxed);
                            continue;
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    if sink.feed(Message::Text(first)).await.is_err() {
                        return;
                    }
                    loop {
                        match self.frames.try_recv() {
                            Ok(frame) => {
                                if sink.feed(Message::Text(frame)).await.is_err() {
                                    return;
                                }
                            }
                            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                                self.lagged.fetch_add(n, Ordering::Relaxed);
                            }
                            Err(_) => break,
                        }
                    }
                    if sink.flush().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    fn welcome(&self, name: &str, viewer_id: ViewerId) -> String {
        let frame = ServerFrame::Welcome(Box::new(Welcome {
            version: PROTOCOL_VERSION,
            live: "bench".into(),
            epoch: self.epoch.clone(),
            seq: 0,
            you: WhoAmI {
                role: Role::Viewer,
                name: name.to_owned(),
                viewer_id: Some(viewer_id),
            },
            resumed: false,
            counts: None,
            snapshot: Some(Snapshot {
                settings: Settings::default(),
                ..Snapshot::default()
            }),
            viewers_online: None,
            live_info: None,
            pass: None,
        }));
        serde_json::to_string(&frame).expect("a welcome always serialises")
    }
}
