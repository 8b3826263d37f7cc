//! Fixtures shared by the console tests: a show with a fixed clock, frames
//! as the hub sends them, key sequences.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use regie::console::keymap::Keymap;
use regie::console::state::{ConnStatus, Console, Effect, Msg, Session, update};
use regie::console::theme::Theme;
use regie::protocol::*;

/// 2026-11-26 12:00:00 UTC: every timestamp in the fixtures is near it, so
/// snapshots show fixed times.
pub(crate) const NOON: Millis = 1_795_694_400_000;
pub(crate) const MIN: Millis = 60_000;

pub(crate) fn epoch() -> Epoch {
    Epoch("ep-1".into())
}

pub(crate) fn viewer(vid: &str, name: &str, pseudonym: &str) -> Author {
    Author::Viewer {
        viewer_id: ViewerId(vid.into()),
        first_name: name.into(),
        pseudonym: pseudonym.into(),
    }
}

pub(crate) fn staff(name: &str, role: StaffRole) -> Author {
    Author::Staff {
        name: name.into(),
        role,
    }
}

pub(crate) fn actor(name: &str, role: StaffRole) -> Actor {
    Actor {
        name: Some(name.into()),
        role,
    }
}

pub(crate) fn message(id: u64, at: Millis, author: Author, text: &str) -> ChatMessage {
    ChatMessage {
        id: MessageId(id),
        at,
        author,
        text: text.into(),
        question: false,
        answered: false,
        reply_to: None,
        also_to: Vec::new(),
        visibility: Visibility::Visible,
        product: None,
        announcement: false,
    }
}

pub(crate) fn question(id: u64, at: Millis, author: Author, text: &str) -> ChatMessage {
    ChatMessage {
        question: true,
        ..message(id, at, author, text)
    }
}

pub(crate) fn event(seq: Seq, at: Millis, event: Event) -> ServerFrame {
    ServerFrame::Event(EventFrame {
        epoch: epoch(),
        seq,
        at,
        event,
    })
}

pub(crate) fn welcome(role: StaffRole, name: &str, seq: Seq, snapshot: Snapshot) -> ServerFrame {
    staff_welcome(role, name, seq, Some(snapshot), None)
}

/// A resuming welcome (no snapshot) that tells the viewer count now.
pub(crate) fn resumed_welcome(role: StaffRole, name: &str, seq: Seq, online: u64) -> ServerFrame {
    staff_welcome(role, name, seq, None, Some(online))
}

/// A welcome to a staff member of the fixture's live: with a snapshot
/// (a fresh join) or without (a resume).
fn staff_welcome(
    role: StaffRole,
    name: &str,
    seq: Seq,
    snapshot: Option<Snapshot>,
    viewers_online: Option<u64>,
) -> ServerFrame {
    ServerFrame::Welcome(Box::new(Welcome {
        version: PROTOCOL_VERSION,
        live: "spring-show".into(),
        epoch: epoch(),
        seq,
        you: WhoAmI {
            role: Role::Staff(role),
            name: name.into(),
            viewer_id: None,
        },
        resumed: snapshot.is_none(),
        snapshot,
        viewers_online,
        counts: None,
        live_info: None,
        pass: None,
    }))
}

pub(crate) fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub(crate) fn code(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(crate) fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Feeds messages and collects every effect.
pub(crate) fn feed(state: &mut Console, msgs: impl IntoIterator<Item = Msg>) -> Vec<Effect> {
    msgs.into_iter().flat_map(|m| update(state, m)).collect()
}

/// Types text as key presses.
pub(crate) fn typed(text: &str) -> Vec<Msg> {
    text.chars().map(key).collect()
}

/// The commands among effects.
pub(crate) fn commands(effects: &[Effect]) -> Vec<Command> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(f) => Some(f.command.clone()),
            Effect::Quit | Effect::SaveExport(_) | Effect::SwitchLive(_) | Effect::Notify(_) => {
                None
            }
        })
        .collect()
}

pub(crate) fn console(role: StaffRole) -> Console {
    let session = Session {
        role,
        name: String::new(),
        live: String::new(),
    };
    let mut c = Console::new(session, Keymap::default(), 50_000, "t");
    update(&mut c, Msg::Tick(NOON + 30 * MIN));
    c
}

/// A show in progress: two Julies, questions (one answered, one pinned), a
/// held message with masked personal data, a hidden one, a staff answer, a
/// tombstone, and some staff activity.
pub(crate) fn show(role: StaffRole) -> Console {
    let mut c = console(role);
    let name = match role {
        StaffRole::Host => "Claire",
        StaffRole::Moderator => "Inès B.",
        StaffRole::Support => "Sam",
        StaffRole::Admin => "Alex",
    };
    let joined = [
        Msg::Frame(welcome(role, name, 20, show_snapshot(show_chat()))),
        Msg::Connection(ConnStatus::Connected),
    ];
    feed(&mut c, joined.into_iter().chain(show_staff_activity()));
    c
}

/// The show's chat so far, oldest first, as the welcome's snapshot carries it.
fn show_chat() -> Vec<ChatEntry> {
    let julie1 = || viewer("v-julie-1", "Julie", "lune");
    let julie2 = || viewer("v-julie-2", "Julie", "soleil");
    let marc = || viewer("v-marc", "Marc", "marc");
    let ines = || viewer("v-ines", "Inès", "ines");
    let zoe = || viewer("v-zoe", "Zoé", "zoe");
    let mut recent = vec![
        ChatEntry::Message(message(1, NOON, marc(), "Bonsoir tout le monde !")),
        ChatEntry::Message(question(
            2,
            NOON + MIN,
            julie1(),
            "Does the green dress come in size 38?",
        )),
        ChatEntry::Message(message(
            3,
            NOON + 2 * MIN,
            ines(),
            "Magnifique cette robe 😍",
        )),
        ChatEntry::Message(question(
            4,
            NOON + 3 * MIN,
            julie2(),
            "Is delivery free to Belgium?",
        )),
        ChatEntry::Redacted(Tombstone {
            message_id: MessageId(5),
            posted_at: NOON + 4 * MIN,
            redacted_at: NOON + 9 * MIN,
            author_id: Some(ViewerId("v-zoe".into())),
            reason: "at the viewer's request".into(),
            by: actor("Sam", StaffRole::Support),
        }),
        ChatEntry::Message(ChatMessage {
            visibility: Visibility::Held {
                reason: HoldReason::PersonalData,
                rule_id: None,
            },
            ..message(6, NOON + 5 * MIN, zoe(), "call me on +33 6•• •• •• 78")
        }),
        ChatEntry::Message(ChatMessage {
            visibility: Visibility::Hidden,
            ..message(7, NOON + 6 * MIN, marc(), "this show is a scam")
        }),
        ChatEntry::Message(question(
            8,
            NOON + 7 * MIN,
            ines(),
            "Which fabric is the lining made of? I have sensitive skin and wool itches",
        )),
    ];
    let mut answered = question(9, NOON + 8 * MIN, marc(), "Any discount code tonight?");
    answered.answered = true;
    recent.push(ChatEntry::Message(answered));
    let mut reply = message(
        10,
        NOON + 10 * MIN,
        staff("Claire", StaffRole::Host),
        "yes, it comes in 38 and 40",
    );
    reply.reply_to = Some(ReplyTo {
        message_id: MessageId(2),
        first_name: "Julie".into(),
    });
    recent.push(ChatEntry::Message(reply));
    for i in 0..6_u8 {
        recent.push(ChatEntry::Message(message(
            11 + u64::from(i),
            NOON + (11 + i64::from(i)) * MIN,
            if i % 2 == 0 { marc() } else { ines() },
            &format!("comment number {i} about the collection"),
        )));
    }
    recent
}

/// The welcome's snapshot of `recent`: its open questions, the first pinned.
fn show_snapshot(recent: Vec<ChatEntry>) -> Snapshot {
    let open: Vec<ChatMessage> = recent
        .iter()
        .filter_map(|e| match e {
            ChatEntry::Message(m) if m.question && !m.answered => Some(m.clone()),
            _ => None,
        })
        .collect();
    let pinned = open.first().cloned();
    Snapshot {
        pinned,
        open_questions: open,
        recent,
        viewers_online: 83,
        settings: Settings::default(),
        ..Snapshot::default()
    }
}

/// What the staff did after the snapshot: answered, pinned, hid.
fn show_staff_activity() -> [Msg; 3] {
    [
        Msg::Frame(event(
            21,
            NOON + 20 * MIN,
            Event::QuestionAnswered {
                message_id: MessageId(9),
                by: actor("Claire", StaffRole::Host),
            },
        )),
        Msg::Frame(event(
            22,
            NOON + 21 * MIN,
            Event::Pinned {
                message_id: MessageId(2),
                by: actor("Claire", StaffRole::Host),
            },
        )),
        Msg::Frame(event(
            23,
            NOON + 22 * MIN,
            Event::Hidden {
                message_id: MessageId(7),
                by: actor("Inès B.", StaffRole::Moderator),
            },
        )),
    ]
}

/// Draws the console on a test terminal and returns the screen as text.
pub(crate) fn render(state: &mut Console, width: u16, height: u16) -> String {
    render_with(state, width, height, &Theme::builtin_default())
}

pub(crate) fn render_with(state: &mut Console, width: u16, height: u16, theme: &Theme) -> String {
    draw_on(state, width, height, theme).backend().to_string()
}

pub(crate) fn buffer(state: &mut Console, width: u16, height: u16) -> ratatui::buffer::Buffer {
    buffer_with(state, width, height, &Theme::builtin_default())
}

pub(crate) fn buffer_with(
    state: &mut Console,
    width: u16,
    height: u16,
    theme: &Theme,
) -> ratatui::buffer::Buffer {
    let terminal = draw_on(state, width, height, theme);
    terminal.backend().buffer().clone()
}

/// Where `text` starts in the drawn cells (the cell of its first
/// character), row by row from the top.
pub(crate) fn find_text(buf: &ratatui::buffer::Buffer, text: &str) -> Option<(u16, u16)> {
    let area = buf.area;
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let mut run = String::new();
            for xx in x..area.right() {
                run.push_str(buf[(xx, y)].symbol());
                if run.len() >= text.len() {
                    break;
                }
            }
            if run.starts_with(text) && !buf[(x, y)].symbol().is_empty() {
                return Some((x, y));
            }
        }
    }
    None
}

/// A terminal of `width`×`height` tells the console its size, then draws it.
fn draw_on(state: &mut Console, width: u16, height: u16, theme: &Theme) -> Terminal<TestBackend> {
    update(state, Msg::Resize { width, height });
    let mut feed_view = regie::console::view::FeedView::default();
    let mut terminal =
        Terminal::new(TestBackend::new(width, height)).expect("a terminal on the test backend");
    terminal
        .draw(|f| regie::console::view::draw(f, state, &mut feed_view, theme))
        .expect("draw on the test backend");
    terminal
}

/// Applies the console network task's events to `state` until `done`
/// holds, ticking the clock after each, and sends the commands they
/// release; every wait is bounded (60 s).
/// `observe` sees each event before the console does.
pub(crate) async fn pump_observing(
    state: &mut Console,
    handle: &mut regie::console::net::NetHandle,
    what: &str,
    mut observe: impl FnMut(&regie::console::net::NetEvent),
    done: impl Fn(&Console) -> bool,
) {
    use regie::console::net::NetEvent;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done(state) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let ev = tokio::time::timeout(left, handle.events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}; seq {}", state.seq))
            .expect("network task alive");
        observe(&ev);
        let effects = match ev {
            NetEvent::Frame(frame) => update(state, Msg::Frame(frame)),
            NetEvent::Status(status) => update(state, Msg::Connection(status)),
            NetEvent::Fatal(f) => panic!("fatal: {f}"),
        };
        // As the event loop does: a frame can release a command (the
        // second step of reply-and-mark-answered, sent on the reply's ack).
        for effect in effects {
            if let Effect::Send(frame) = effect {
                handle.commands.send(frame).expect("network task alive");
            }
        }
        update(state, Msg::Tick(regie::now_millis()));
    }
}

/// [`pump_observing`] without an observer.
pub(crate) async fn pump(
    state: &mut Console,
    handle: &mut regie::console::net::NetHandle,
    what: &str,
    done: impl Fn(&Console) -> bool,
) {
    pump_observing(state, handle, what, |_| {}, done).await;
}

/// Appends `count` chat lines full of double-width characters (CJK,
/// emoji) from one viewer with a 7-cell name, half of them one cell
/// further right, so that at both test sizes some row has a wide
/// character straddling the column left of every popup. Event numbers
/// start at `seq`.
pub(crate) fn wide_chat(state: &mut Console, seq: Seq, count: u64) {
    let misaki = || viewer("v-misaki", "美咲子A", "misaki");
    let msgs: Vec<Msg> = (0..count)
        .map(|i| {
            let text = if i % 2 == 0 {
                "日本語のテキスト🎉🎉 中文也可以 😀 한국어"
            } else {
                "a日本語のテキスト🎉🎉 中文也可以 😀 한국어"
            };
            Msg::Frame(event(
                seq + i,
                NOON + 29 * MIN,
                Event::Message {
                    message: message(5_000 + i, NOON + 29 * MIN, misaki(), text),
                },
            ))
        })
        .collect();
    feed(state, msgs);
}

/// The open popup keeps its whole left border: on every row from its
/// top-left corner (`╭`) to its bottom-left one (`╰`), the border cell is
/// there and no wide character just left of it reaches into it (a
/// terminal would draw that character's second half over the border).
pub(crate) fn assert_popup_left_border(buf: &ratatui::buffer::Buffer, what: &str) {
    use unicode_width::UnicodeWidthStr;
    let area = buf.area;
    let (x, top) = (area.top()..area.bottom())
        .flat_map(|y| (area.left()..area.right()).map(move |x| (x, y)))
        .find(|&p| buf[p].symbol() == "╭")
        .unwrap_or_else(|| panic!("{what}: no popup on screen"));
    let bottom = (top + 1..area.bottom())
        .find(|&y| buf[(x, y)].symbol() == "╰")
        .unwrap_or_else(|| panic!("{what}: the popup's bottom-left corner is missing"));
    for y in top..=bottom {
        let border = buf[(x, y)].symbol();
        assert!(
            matches!(border, "╭" | "│" | "╰"),
            "{what}: row {y} has {border:?} for the left border"
        );
        if x > area.left() {
            let left = buf[(x - 1, y)].symbol();
            assert!(
                left.width() <= 1,
                "{what}: {left:?} at row {y} covers the popup's left border"
            );
        }
    }
}
