//! The hub against peers that misbehave below the protocol: text frames
//! that are not UTF-8, and readers that stop reading with a full socket.
//! Each client here is a raw socket the test shapes itself (a 4 KiB
//! receive buffer, hand-built frames); the hub is the real one.

mod support;

use std::time::Duration;

use futures_util::SinkExt;
use regie::protocol::{ClientFrame, CloseCode, Command, ErrorCode, ServerFrame, StaffRole};
use support::client::{Client, Incoming, Ws, close_code, read_frame, read_until_close, send_json};
use support::hub::{TIMEOUT, TestHub};
use tokio::net::TcpSocket;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// The receive buffer of a reader that never reads (the kernel doubles it).
const SMALL_RECV_BUFFER: u32 = 4 * 1024;

/// A WebSocket to the hub over a socket whose receive buffer is `recv_buffer`
/// bytes, set before connecting so the TCP window is small from the start.
async fn connect_with_recv_buffer(hub: &TestHub, recv_buffer: u32) -> Ws {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(recv_buffer)
        .expect("set SO_RCVBUF");
    let tcp = tokio::time::timeout(TIMEOUT, socket.connect(hub.addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let (ws, _) = tokio::time::timeout(
        TIMEOUT,
        tokio_tungstenite::client_async(hub.url.as_str(), MaybeTlsStream::Plain(tcp)),
    )
    .await
    .expect("handshake in time")
    .expect("handshake");
    ws
}

/// A viewer that joined over a socket with a 4 KiB receive buffer and will
/// never read again: its welcome is the last thing it takes.
async fn non_reader(hub: &TestHub, first_name: &str) -> Ws {
    let mut ws = connect_with_recv_buffer(hub, SMALL_RECV_BUFFER).await;
    send_json(&mut ws, &ClientFrame::Hello(hub.viewer_hello(first_name))).await;
    match read_frame(&mut ws).await {
        Incoming::Frame(ServerFrame::Welcome(_)) => ws,
        Incoming::Frame(other) => panic!("expected a welcome, got {other:?}"),
        Incoming::Closed(code) => panic!("refused ({code:?})"),
    }
}

/// A text frame carrying `payload` as is: tungstenite only builds text
/// messages from a `str`, so the raw frame API sends the invalid bytes.
fn raw_text_frame(payload: &[u8]) -> Message {
    Message::Frame(Frame::message(
        payload.to_vec(),
        OpCode::Data(Data::Text),
        true,
    ))
}

/// The command frame from issue 8, with bytes that are not UTF-8 in its text.
const INVALID_UTF8_COMMAND: &[u8] =
    b"{\"type\":\"command\",\"id\":\"u8-1\",\"command\":{\"type\":\"say\",\"text\":\"\xff\xfe\xc3\"}}";

/// A counter read from `/metrics` (a float in the exposition) is `expected`.
fn assert_count(value: f64, expected: u32) {
    assert!(
        (value - f64::from(expected)).abs() < 0.5,
        "the counter is {value}, not {expected}"
    );
}

const BAD_FRAME_METRIC: &str = "regie_rejected_frames_total{reason=\"bad_frame\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_before_hello_gets_bad_frame_and_4000() {
    let hub = TestHub::start().await;
    let mut ws = hub.raw().await;
    tokio::time::timeout(TIMEOUT, ws.send(raw_text_frame(INVALID_UTF8_COMMAND)))
        .await
        .expect("send in time")
        .expect("send");
    let closed = read_until_close(&mut ws).await;
    assert_eq!(closed.error_code(), Some(ErrorCode::BadFrame), "{closed:?}");
    assert!(
        matches!(closed.frames.as_slice(), [ServerFrame::Error(e)] if e.id.is_none()),
        "one error frame, answering no command: {closed:?}"
    );
    assert!(closed.message().contains("UTF-8"), "{}", closed.message());
    assert_eq!(closed.code, Some(close_code(CloseCode::ProtocolError)));
    assert_count(hub.metric(BAD_FRAME_METRIC).await, 1);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_after_hello_gets_bye_bad_frame_and_4000() {
    let hub = TestHub::start().await;
    let mut julie = hub.viewer("Julie").await;
    tokio::time::timeout(TIMEOUT, julie.ws.send(raw_text_frame(INVALID_UTF8_COMMAND)))
        .await
        .expect("send in time")
        .expect("send");
    let closed = julie.closed().await;
    assert!(
        matches!(
            closed.frames.last(),
            Some(ServerFrame::Bye { code: ErrorCode::BadFrame, message }) if message.contains("UTF-8")
        ),
        "{closed:?}"
    );
    assert_eq!(closed.code, Some(close_code(CloseCode::ProtocolError)));
    assert_count(hub.metric(BAD_FRAME_METRIC).await, 1);
    // The hub is fine: the next viewer joins and talks.
    let mut sophie = hub.viewer("Sophie").await;
    assert!(sophie.say("bonjour").await > 0);
    hub.stop().await;
}

/// A message big enough to fill small socket buffers in a few frames.
fn big_say() -> Command {
    Command::Say {
        text: "😀".repeat(500),
        question: false,
        announcement: false,
    }
}

/// Has `staff` post big messages, `burst` at a time, until the metric
/// `series` reaches 1 or [`TIMEOUT`] passes. Returns how many were posted
/// before the metric moved, `None` if it never did.
async fn post_until(
    hub: &TestHub,
    staff: &mut Client,
    series: &str,
    burst: usize,
) -> Option<usize> {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut posted = 0;
    while tokio::time::Instant::now() < deadline {
        if hub.metric(series).await >= 1.0 {
            return Some(posted);
        }
        for _ in 0..burst {
            staff.ack(big_say()).await;
            posted += 1;
        }
        // The staff client reads its own copy of the show; keep it small.
        staff.events.clear();
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_stuck_in_a_blocked_write_is_still_closed_as_idle() {
    let hub = TestHub::start_with(|c| {
        c.limits.idle_timeout = Duration::from_secs(2);
        // Only the idle rule can close the non-reader: its queue never fills.
        c.limits.send_queue_frames = 1_000_000;
        c.limits.close_grace = Duration::from_millis(200);
        c.limits.send_buffer_bytes = Some(16 * 1024);
    })
    .await;
    // Never reads, never answers a ping: silent from its welcome on.
    let _stuck = non_reader(&hub, "Stuck").await;
    let mut ada = hub.staff(StaffRole::Admin, "Ada").await;
    // A few frames block the hub's write to the non-reader; then the show
    // keeps posting while the idle deadline passes.
    let posted = post_until(&hub, &mut ada, "regie_idle_disconnects_total", 5).await;
    assert!(
        posted.is_some(),
        "a silent reader with a blocked write was never closed as idle"
    );
    assert_count(hub.metric("regie_slow_disconnects_total").await, 0);
    // Ada, who reads and whose pings are answered, is still there.
    assert!(ada.ack(big_say()).await.is_some());
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_reader_is_cut_as_slow_after_a_bounded_amount_of_data() {
    const QUEUE: usize = 8;
    const SEND_BUFFER: usize = 16 * 1024;
    let hub = TestHub::start_with(|c| {
        c.limits.send_queue_frames = QUEUE;
        c.limits.send_buffer_bytes = Some(SEND_BUFFER);
        c.limits.close_grace = Duration::from_millis(200);
    })
    .await;
    let _stuck = non_reader(&hub, "Stuck").await;
    let mut ada = hub.staff(StaffRole::Admin, "Ada").await;
    let posted = post_until(&hub, &mut ada, "regie_slow_disconnects_total", 1)
        .await
        .expect("the non-reader was never cut as slow");
    // What a non-reader can take before it is cut: its queue, the batch
    // being written (at most a queue's worth), and the bytes that fit in
    // the socket: the capped send buffer (doubled by Linux), its own
    // receive buffer (doubled), the WebSocket write buffer, and a frame of
    // slack for TCP's rounding. Each message is over 2,000 bytes. A
    // viewer's frame is a tick's events (`events`), at most 64 KiB, so a
    // queued frame holds up to 32 of these messages.
    let socket_bytes = 2 * SEND_BUFFER + 2 * SMALL_RECV_BUFFER as usize + 16 * 1024 + 64 * 1024;
    let per_frame = regie::protocol::MAX_FRAME_BYTES / 2_000;
    let bound = 2 * QUEUE * per_frame + socket_bytes / 2_000 + 1;
    eprintln!("non-reader cut after {posted} frames (bound {bound})");
    assert!(
        posted <= bound,
        "the non-reader took {posted} frames before it was cut; the kernel buffered more than its cap"
    );
    hub.stop().await;
}
