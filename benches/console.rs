//! Hot functions of the console: wrapping, sanitising at render, inserting
//! into a full feed, and drawing one 200×50 frame over 50,000 messages.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use regie::console::feed::Feed;
use regie::console::keymap::Keymap;
use regie::console::state::{Console, Msg, Session, update};
use regie::console::theme::Theme;
use regie::console::wrap::wrap;
use regie::protocol::{
    Author, ChatEntry, ChatMessage, Epoch, Event, EventFrame, MessageId, ServerFrame, StaffRole,
    ViewerId, Visibility,
};

fn message(id: u64, text: &str) -> ChatMessage {
    ChatMessage {
        id: MessageId(id),
        at: 1_795_694_400_000,
        author: Author::Viewer {
            viewer_id: ViewerId(format!("v{}", id % 500)),
            first_name: "Julie".into(),
            pseudonym: format!("p{}", id % 500),
        },
        text: text.into(),
        question: id.is_multiple_of(20),
        answered: false,
        reply_to: None,
        also_to: Vec::new(),
        visibility: Visibility::Visible,
        product: None,
        announcement: false,
    }
}

const SHORT: &str = "Does the green dress come in size 38?";
const LONG: &str = "Magnifique cette robe 😍 est-ce qu'elle existe aussi en bleu marine, et la livraison en Belgique est-elle gratuite ? 👨‍👩‍👧‍👦 日本語のテキスト merci beaucoup pour ce live, vous êtes géniaux";

fn bench(c: &mut Criterion) {
    c.bench_function("wrap short @160", |b| {
        b.iter(|| wrap(black_box(SHORT), 160));
    });
    c.bench_function("wrap long @60", |b| b.iter(|| wrap(black_box(LONG), 60)));
    c.bench_function("sanitize at render (ascii)", |b| {
        b.iter(|| regie::privacy::sanitize(black_box(SHORT)));
    });
    c.bench_function("sanitize at render (unicode)", |b| {
        b.iter(|| regie::privacy::sanitize(black_box(LONG)));
    });

    let mut full = Feed::new(50_000);
    for i in 0..50_000 {
        full.push(ChatEntry::Message(message(i, SHORT)));
    }
    let mut next = 50_000u64;
    c.bench_function("feed insert into full 50k feed", |b| {
        b.iter_batched(
            || {
                next += 1;
                ChatEntry::Message(message(next, SHORT))
            },
            |entry| full.push(entry),
            BatchSize::SmallInput,
        );
    });

    let session = Session {
        role: StaffRole::Moderator,
        name: "bench".into(),
        live: "bench".into(),
    };
    let mut state = Console::new(session, Keymap::default(), 50_000, "b");
    for i in 0..50_000u64 {
        update(
            &mut state,
            Msg::Frame(ServerFrame::Event(EventFrame {
                epoch: Epoch("e".into()),
                seq: i + 1,
                at: 0,
                event: Event::Message {
                    message: message(i, if i % 3 == 0 { LONG } else { SHORT }),
                },
            })),
        );
    }
    let theme = Theme::builtin_default();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    let mut feed_view = regie::console::view::FeedView::default();
    let mut seq = 50_000u64;
    c.bench_function("one message + draw 200x50 over 50k", |b| {
        b.iter(|| {
            seq += 1;
            update(
                &mut state,
                Msg::Frame(ServerFrame::Event(EventFrame {
                    epoch: Epoch("e".into()),
                    seq,
                    at: 0,
                    event: Event::Message {
                        message: message(seq, SHORT),
                    },
                })),
            );
            terminal
                .draw(|f| regie::console::view::draw(f, &state, &mut feed_view, &theme))
                .expect("draw");
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
