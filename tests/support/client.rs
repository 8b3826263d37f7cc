//! A small WebSocket client that speaks protocol v1 to a hub, and the
//! hello frames tests join with.

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex};

use futures_util::{SinkExt, StreamExt};
use regie::protocol::{
    Auth, ClientFrame, Command, CommandFrame, CommandId, Contact, ErrorCode, ErrorFrame, Event,
    EventFrame, Hello, PROTOCOL_VERSION, Resume, Seq, ServerFrame, Skip, Welcome,
    parse_server_frame,
};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::hub::TIMEOUT;

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a plain WebSocket to `url`, without saying hello.
pub(crate) async fn connect(url: &str) -> Ws {
    let (ws, _) = tokio::time::timeout(TIMEOUT, tokio_tungstenite::connect_async(url))
        .await
        .expect("connect in time")
        .expect("connect");
    ws
}

/// A viewer's hello for `live`: no pass, no contact data.
pub(crate) fn viewer_hello(live: &str, first_name: &str) -> Hello {
    Hello {
        version: PROTOCOL_VERSION,
        live: live.into(),
        auth: Auth::Viewer {
            first_name: first_name.into(),
            pseudonym: None,
            pass: None,
            token: None,
            contact: Contact::default(),
        },
        resume: None,
    }
}

/// What a [`keyed_viewer_hello`] carries as its pass until [`Client::try_join`]
/// puts the real one in: the hub takes it for no pass.
const TEST_KEY: &str = "test-key:";

/// The pass each (hub, test key) was issued by its first join; a hub is
/// named by its data dir, or its URL.
static PASSES: LazyLock<Mutex<HashMap<(String, String), String>>> = LazyLock::new(Mutex::default);

/// A viewer's hello with a test key: the same viewer on every join through
/// [`Client::try_join`] to one hub. The first join with `key` remembers the
/// pass the hub issued, later joins present it. (Sent raw, it is a join
/// without a valid pass: a new viewer every time.)
pub(crate) fn keyed_viewer_hello(live: &str, first_name: &str, key: &str) -> Hello {
    let mut hello = viewer_hello(live, first_name);
    if let Auth::Viewer { pass, .. } = &mut hello.auth {
        *pass = Some(format!("{TEST_KEY}{key}"));
    }
    hello
}

/// The pass field of a hello with test key `key` (see [`keyed_viewer_hello`]).
pub(crate) fn test_key(key: &str) -> String {
    format!("{TEST_KEY}{key}")
}

/// The test key of `hello`, its remembered pass (at hub `scope`) put in.
fn present_pass(scope: &str, hello: &mut Hello) -> Option<String> {
    let Auth::Viewer {
        pass: Some(pass), ..
    } = &mut hello.auth
    else {
        return None;
    };
    let key = pass.strip_prefix(TEST_KEY)?.to_owned();
    if let Some(known) = PASSES
        .lock()
        .expect("passes")
        .get(&(scope.to_owned(), key.clone()))
    {
        pass.clone_from(known);
    }
    Some(key)
}

/// Remembers the pass hub `scope` issued to the test key `key`.
fn remember_pass(scope: &str, key: Option<String>, welcome: &Welcome) {
    if let (Some(key), Some(pass)) = (key, &welcome.pass) {
        PASSES
            .lock()
            .expect("passes")
            .insert((scope.to_owned(), key), pass.clone());
    }
}

/// A staff member's hello for `live` with `token`.
pub(crate) fn staff_hello(live: &str, token: &str) -> Hello {
    Hello {
        version: PROTOCOL_VERSION,
        live: live.into(),
        auth: Auth::Staff {
            token: token.into(),
        },
        resume: None,
    }
}

/// `frame` as the text message a client sends.
pub(crate) fn text_message(frame: &ClientFrame) -> Message {
    Message::text(serde_json::to_string(frame).expect("serialise"))
}

/// What a client saw before its connection closed.
#[derive(Debug, Default)]
pub(crate) struct Closed {
    pub(crate) frames: Vec<ServerFrame>,
    /// The close frame's code; `None` when the socket ended without one.
    pub(crate) code: Option<u16>,
}

impl Closed {
    /// The code of the `error` or `bye` frame the hub sent.
    pub(crate) fn error_code(&self) -> Option<ErrorCode> {
        self.frames.iter().rev().find_map(|f| match f {
            ServerFrame::Error(e) => Some(e.code),
            ServerFrame::Bye { code, .. } => Some(*code),
            _ => None,
        })
    }

    pub(crate) fn message(&self) -> String {
        self.frames
            .iter()
            .rev()
            .find_map(|f| match f {
                ServerFrame::Error(e) => Some(e.message.clone()),
                ServerFrame::Bye { message, .. } => Some(message.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The events read, a viewer's `events` frames unpacked.
    pub(crate) fn events(&self) -> Vec<&EventFrame> {
        self.frames.iter().flat_map(events_in).collect()
    }
}

/// The events a frame carries: one for `event`, a tick's for `events`.
pub(crate) fn events_in(frame: &ServerFrame) -> Vec<&EventFrame> {
    match frame {
        ServerFrame::Event(e) => vec![e],
        ServerFrame::Events { events, .. } => events.iter().collect(),
        _ => Vec::new(),
    }
}

/// One read off a socket; short-lived, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Incoming {
    Frame(ServerFrame),
    Closed(Option<u16>),
}

pub(crate) async fn send_json(ws: &mut Ws, frame: &ClientFrame) {
    tokio::time::timeout(TIMEOUT, ws.send(text_message(frame)))
        .await
        .expect("send in time")
        .expect("send");
}

pub(crate) async fn send_text(ws: &mut Ws, text: &str) {
    tokio::time::timeout(TIMEOUT, ws.send(Message::text(text)))
        .await
        .expect("send in time")
        .expect("send");
}

/// The next hub frame (pings and pongs skipped), or how the socket closed.
pub(crate) async fn read_frame(ws: &mut Ws) -> Incoming {
    // One deadline for the whole wait: pings must not extend it.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("a frame from the hub in time");
        match next {
            Some(Ok(Message::Text(t))) => {
                let frame = parse_server_frame(&t)
                    .unwrap_or_else(|e| panic!("hub sent an unparseable frame ({e}): {t}"));
                return Incoming::Frame(frame);
            }
            Some(Ok(Message::Close(c))) => return Incoming::Closed(c.map(|c| u16::from(c.code))),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            Some(Ok(Message::Binary(_))) => panic!("the hub never sends binary frames"),
            Some(Err(_)) | None => return Incoming::Closed(None),
        }
    }
}

/// Reads every frame until the hub closes.
pub(crate) async fn read_until_close(ws: &mut Ws) -> Closed {
    let mut closed = Closed::default();
    loop {
        match read_frame(ws).await {
            Incoming::Frame(f) => closed.frames.push(f),
            Incoming::Closed(code) => {
                closed.code = code;
                return closed;
            }
        }
    }
}

/// A joined client. It keeps every event it read, in order.
pub(crate) struct Client {
    pub(crate) ws: Ws,
    pub(crate) welcome: Welcome,
    /// The `reload` reason, when the hub answered a resume with a snapshot.
    pub(crate) reload: Option<String>,
    /// Every event read so far (replayed and live), in arrival order.
    pub(crate) events: Vec<EventFrame>,
    /// The seqs a viewer's `events` frames said it was not sent (sampled
    /// out), in order.
    pub(crate) skipped: Vec<Skip>,
    /// Non-event frames read while waiting for something else.
    pending: VecDeque<ServerFrame>,
    /// The events of an `events` frame not handed out yet, one `event`
    /// frame each.
    unpacked: VecDeque<ServerFrame>,
    next_id: u64,
}

impl Client {
    /// Connects to `url` and says `hello`; a refusal returns what the hub
    /// said before closing.
    pub(crate) async fn try_join(url: &str, hello: Hello) -> Result<Client, Closed> {
        Self::try_join_in(url, url, hello).await
    }

    /// [`Client::try_join`], the passes of test keys remembered under
    /// `scope` (a hub's data dir: it issued them, whatever its port).
    pub(crate) async fn try_join_in(
        url: &str,
        scope: &str,
        hello: Hello,
    ) -> Result<Client, Closed> {
        Self::join_on(connect(url).await, scope, hello).await
    }

    /// [`Client::try_join`] on a WebSocket the test opened (over TLS, say);
    /// test keys' passes are remembered under the scope `"opened"`.
    pub(crate) async fn try_join_on(ws: Ws, hello: Hello) -> Result<Client, Closed> {
        Self::join_on(ws, "opened", hello).await
    }

    async fn join_on(mut ws: Ws, scope: &str, mut hello: Hello) -> Result<Client, Closed> {
        let test_key = present_pass(scope, &mut hello);
        send_json(&mut ws, &ClientFrame::Hello(hello)).await;
        let mut reload = None;
        loop {
            match read_frame(&mut ws).await {
                Incoming::Frame(ServerFrame::Welcome(mut welcome)) => {
                    // A fresh snapshot comes in pages: assemble them.
                    if welcome.expects_pages() {
                        loop {
                            match read_frame(&mut ws).await {
                                Incoming::Frame(ServerFrame::SnapshotPage(page)) => {
                                    welcome.add_page(*page);
                                }
                                Incoming::Frame(ServerFrame::SnapshotEnd { .. }) => break,
                                other => panic!("expected a snapshot page, got {other:?}"),
                            }
                        }
                    }
                    remember_pass(scope, test_key, &welcome);
                    return Ok(Client {
                        ws,
                        welcome: *welcome,
                        reload,
                        events: Vec::new(),
                        skipped: Vec::new(),
                        pending: VecDeque::default(),
                        unpacked: VecDeque::default(),
                        next_id: 0,
                    });
                }
                Incoming::Frame(ServerFrame::Reload { reason }) => reload = Some(reason),
                Incoming::Frame(other) => {
                    let mut closed = read_until_close(&mut ws).await;
                    closed.frames.insert(0, other);
                    return Err(closed);
                }
                Incoming::Closed(code) => {
                    return Err(Closed {
                        frames: Vec::new(),
                        code,
                    });
                }
            }
        }
    }

    /// The resume point: the last event seen or skipped, or the welcome's
    /// head.
    pub(crate) fn position(&self) -> Resume {
        let seen = self.events.last().map(|e| e.seq);
        let skipped = self.skipped.last().map(|s| s.to);
        Resume {
            epoch: self.welcome.epoch.clone(),
            seq: seen.max(skipped).unwrap_or(self.welcome.seq),
        }
    }

    pub(crate) async fn send_command_with_id(&mut self, id: &str, command: Command) {
        let frame = ClientFrame::Command(CommandFrame {
            id: CommandId(id.into()),
            command,
        });
        send_json(&mut self.ws, &frame).await;
    }

    /// Sends a command and returns its answer (ack, error or viewer card),
    /// keeping the events that arrive meanwhile.
    pub(crate) async fn command(&mut self, command: Command) -> ServerFrame {
        self.next_id += 1;
        let id = format!("t-{}", self.next_id);
        self.command_with_id(&id, command).await
    }

    pub(crate) async fn command_with_id(&mut self, id: &str, command: Command) -> ServerFrame {
        self.send_command_with_id(id, command).await;
        self.answer_to(id).await
    }

    /// Waits for the answer to command `id`.
    pub(crate) async fn answer_to(&mut self, id: &str) -> ServerFrame {
        if let Some(i) = self.pending.iter().position(|f| answers(f, id)) {
            return self.pending.remove(i).expect("present");
        }
        loop {
            match self.next_frame().await {
                f if answers(&f, id) => return f,
                ServerFrame::Event(e) => self.events.push(e),
                other => self.pending.push_back(other),
            }
        }
    }

    /// Sends a command and expects an ack; returns its seq.
    pub(crate) async fn ack(&mut self, command: Command) -> Option<Seq> {
        match self.command(command).await {
            ServerFrame::Ack { seq, .. } => seq,
            other => panic!("expected an ack, got {other:?}"),
        }
    }

    /// Sends a command and expects an error.
    pub(crate) async fn refused(&mut self, command: Command) -> ErrorFrame {
        match self.command(command).await {
            ServerFrame::Error(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// Says something; returns the ack's seq.
    pub(crate) async fn say(&mut self, text: &str) -> Seq {
        self.ack(Command::Say {
            text: text.into(),
            question: false,
            announcement: false,
        })
        .await
        .expect("a message produces an event")
    }

    /// The next frame of any kind, a viewer's `events` frame handed out
    /// as one `event` frame per event (its skips kept in `skipped`);
    /// panics if the hub closes.
    pub(crate) async fn next_frame(&mut self) -> ServerFrame {
        loop {
            if let Some(f) = self.unpacked.pop_front() {
                return f;
            }
            match read_frame(&mut self.ws).await {
                Incoming::Frame(ServerFrame::Events { events, skipped }) => {
                    self.skipped.extend(skipped);
                    self.unpacked
                        .extend(events.into_iter().map(ServerFrame::Event));
                }
                Incoming::Frame(f) => return f,
                Incoming::Closed(code) => panic!("the hub closed the connection ({code:?})"),
            }
        }
    }

    /// Reads until the resume point reached `seq` (an event at or after
    /// it, or a skip that covers it).
    pub(crate) async fn until_position(&mut self, seq: Seq) -> Resume {
        while self.position().seq < seq {
            match self.next_frame().await {
                ServerFrame::Event(e) => self.events.push(e),
                other => self.pending.push_back(other),
            }
        }
        self.position()
    }

    /// Reads until a frame that is no event and no answer kept for a
    /// command matches `pred` (or one read already does, oldest first);
    /// takes it out. Events read meanwhile are kept.
    pub(crate) async fn frame_matching(
        &mut self,
        pred: impl Fn(&ServerFrame) -> bool,
    ) -> ServerFrame {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).expect("present");
        }
        loop {
            match self.next_frame().await {
                f if pred(&f) => return f,
                ServerFrame::Event(e) => self.events.push(e),
                other => self.pending.push_back(other),
            }
        }
    }

    /// Reads until an event with `seq` (or later) has arrived; returns it.
    pub(crate) async fn event_at(&mut self, seq: Seq) -> EventFrame {
        if let Some(e) = self.events.iter().find(|e| e.seq >= seq) {
            return e.clone();
        }
        loop {
            match self.next_frame().await {
                ServerFrame::Event(e) => {
                    self.events.push(e.clone());
                    if e.seq >= seq {
                        return e;
                    }
                }
                other => self.pending.push_back(other),
            }
        }
    }

    /// Reads until an event matching `pred` arrives (or was already read
    /// after index `from`).
    pub(crate) async fn wait_event(&mut self, pred: impl Fn(&Event) -> bool) -> EventFrame {
        if let Some(e) = self.events.iter().find(|e| pred(&e.event)) {
            return e.clone();
        }
        loop {
            match self.next_frame().await {
                ServerFrame::Event(e) => {
                    self.events.push(e.clone());
                    if pred(&e.event) {
                        return e;
                    }
                }
                other => self.pending.push_back(other),
            }
        }
    }

    /// Reads everything until the hub closes the connection.
    pub(crate) async fn closed(mut self) -> Closed {
        self.take_unpacked();
        let mut closed = read_until_close(&mut self.ws).await;
        for f in &closed.frames {
            self.events.extend(events_in(f).into_iter().cloned());
        }
        closed.frames.splice(0..0, self.pending.drain(..));
        closed
    }

    /// Hands the socket to a task that reads continuously, so this client
    /// never falls behind; frames arrive on the returned channel.
    pub(crate) fn spawn_reader(mut self) -> Reader {
        self.take_unpacked();
        let (tx, rx) = mpsc::unbounded_channel();
        let mut ws = self.ws;
        let task = tokio::spawn(async move {
            loop {
                let next = ws.next().await;
                match next {
                    Some(Ok(Message::Text(t))) => {
                        let Ok(frame) = parse_server_frame(&t) else {
                            return;
                        };
                        if tx.send(frame).is_err() {
                            return;
                        }
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => {}
                }
            }
        });
        Reader {
            welcome: self.welcome,
            events: self.events,
            rx,
            task,
        }
    }

    /// Drops the connection without a close handshake (a network drop).
    pub(crate) fn drop_connection(mut self) -> Vec<EventFrame> {
        self.take_unpacked();
        self.events
    }

    /// Keeps the events of an `events` frame not handed out yet.
    fn take_unpacked(&mut self) {
        for f in self.unpacked.drain(..) {
            if let ServerFrame::Event(e) = f {
                self.events.push(e);
            }
        }
    }
}

fn answers(frame: &ServerFrame, id: &str) -> bool {
    match frame {
        ServerFrame::Ack { id: a, .. }
        | ServerFrame::ViewerCard { id: a, .. }
        | ServerFrame::ViewerExport { id: a, .. }
        | ServerFrame::Rules { id: a, .. }
        | ServerFrame::RuleTest { id: a, .. }
        | ServerFrame::StaffLog { id: a, .. }
        | ServerFrame::HistorySearch { id: a, .. }
        | ServerFrame::ShieldReview { id: a, .. }
        | ServerFrame::Lives { id: a, .. }
        | ServerFrame::Report { id: a, .. }
        | ServerFrame::SmsSegments { id: a, .. }
        | ServerFrame::RightsRequests { id: a, .. }
        | ServerFrame::Error(ErrorFrame { id: Some(a), .. }) => a.0 == id,
        _ => false,
    }
}

/// A client read by a background task.
pub(crate) struct Reader {
    pub(crate) welcome: Welcome,
    pub(crate) events: Vec<EventFrame>,
    rx: mpsc::UnboundedReceiver<ServerFrame>,
    task: JoinHandle<()>,
}

impl Reader {
    /// Collects events until one with `seq` (or later) has arrived.
    pub(crate) async fn until_seq(&mut self, seq: Seq) -> &[EventFrame] {
        while self.events.last().is_none_or(|e| e.seq < seq) {
            let frame = tokio::time::timeout(TIMEOUT, self.rx.recv())
                .await
                .expect("event in time")
                .expect("reader alive");
            self.events.extend(events_in(&frame).into_iter().cloned());
            if let ServerFrame::Events { skipped, .. } = &frame
                && skipped.iter().any(|s| s.to >= seq)
            {
                break;
            }
        }
        &self.events
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The message event's text, if the event is a message or release.
pub(crate) fn text_of(event: &Event) -> Option<&str> {
    match event {
        Event::Message { message } | Event::Released { message, .. } => Some(&message.text),
        _ => None,
    }
}

/// A close code as the number a socket carries (see [`Closed::code`]).
pub(crate) fn close_code(code: regie::protocol::CloseCode) -> u16 {
    code.code()
}

pub(crate) fn normal_close() -> u16 {
    u16::from(WsCloseCode::Normal)
}
