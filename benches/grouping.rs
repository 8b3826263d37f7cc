//! Question grouping on ingest (issue 12): a show at 1,000 questions a
//! minute with 5,000 open questions. What one more question costs: read
//! it ([`Signature::of`]), find its group among 5,000 open questions, and
//! the console's whole `update` for it (which also keeps the Questions
//! pane's selection). At 1,000 a minute the budget is 60 ms a question.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use regie::console::keymap::Keymap;
use regie::console::state::{Console, Msg, Session, update};
use regie::protocol::{
    Author, ChatMessage, Epoch, Event, EventFrame, MessageId, ServerFrame, StaffRole, ViewerId,
    Visibility,
};
use regie::questions::{QuestionGroups, Signature};

const OPEN: u64 = 5_000;

/// Shop questions of every kind, with sizes, colours and products varied
/// so the 5,000 spread over many groups as in a real show.
fn text(i: u64) -> String {
    const TEMPLATES: &[&str] = &[
        "Elle existe en {size} ?",
        "Vous avez {product} en {colour} ?",
        "Does the {product} come in {size}?",
        "C'est combien {product} ?",
        "Livraison en {place} possible ?",
        "How much is shipping to {place}?",
        "{product} en {colour} taille {size} dispo svp ?",
        "Is the {product} machine washable?",
        "Paiement en {n} fois ?",
        "Quelle matière pour {product} ? je fais du {size}",
    ];
    const SIZES: &[&str] = &["34", "36", "38", "40", "42", "44", "S", "M", "L", "XL"];
    const COLOURS: &[&str] = &["rouge", "noir", "blue", "vert", "rose", "beige", "marine"];
    const PRODUCTS: &[&str] = &[
        "la robe",
        "le sac",
        "the jacket",
        "le pull",
        "les bottes",
        "the skirt",
    ];
    const PLACES: &[&str] = &["Belgique", "Suisse", "Canada", "Spain", "Italie"];
    let pick = |list: &[&'static str], k: u64| list[usize::try_from(k).unwrap_or(0) % list.len()];
    pick(TEMPLATES, i)
        .replace("{size}", pick(SIZES, i / 10))
        .replace("{colour}", pick(COLOURS, i / 7))
        .replace("{product}", pick(PRODUCTS, i / 3))
        .replace("{place}", pick(PLACES, i / 11))
        .replace("{n}", &(2 + i % 3).to_string())
}

fn question(id: u64) -> ChatMessage {
    ChatMessage {
        id: MessageId(id),
        at: 1_795_694_400_000,
        author: Author::Viewer {
            viewer_id: ViewerId(format!("v{id}")),
            first_name: "Julie".into(),
            pseudonym: format!("p{id}"),
        },
        text: text(id),
        question: true,
        answered: false,
        reply_to: None,
        also_to: Vec::new(),
        visibility: Visibility::Visible,
        product: None,
        announcement: false,
    }
}

fn frame(seq: u64, message: ChatMessage) -> Msg {
    Msg::Frame(ServerFrame::Event(EventFrame {
        epoch: Epoch("e".into()),
        seq,
        at: 0,
        event: Event::Message { message },
    }))
}

fn bench(c: &mut Criterion) {
    c.bench_function("signature of one question", |b| {
        b.iter(|| Signature::of(black_box("Bonjour, vous l'avez en 38 la robe rouge svp ?")));
    });

    let mut groups = QuestionGroups::default();
    for id in 1..=OPEN {
        groups.insert(MessageId(id), &text(id), false);
    }
    eprintln!("{OPEN} open questions in {} groups", groups.len());
    let mut next = OPEN;
    c.bench_function("group one question among 5k open", |b| {
        b.iter(|| {
            next += 1;
            let id = MessageId(next);
            groups.insert(id, &text(next), false);
            // Keep 5,000 open: the oldest leaves as the new one arrives.
            groups.remove(MessageId(next - OPEN));
        });
    });

    let session = Session {
        role: StaffRole::Host,
        name: "bench".into(),
        live: "bench".into(),
    };
    let mut state = Console::new(session, Keymap::default(), 50_000, "b");
    for id in 1..=OPEN {
        update(&mut state, frame(id, question(id)));
    }
    let mut seq = OPEN;
    c.bench_function("console update: one question with 5k open", |b| {
        b.iter_batched_ref(
            || state.clone(),
            |s| {
                seq += 1;
                update(s, frame(seq, question(seq)));
            },
            BatchSize::LargeInput,
        );
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
