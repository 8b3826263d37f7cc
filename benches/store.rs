//! Store write and read costs on the hub's hot path.
//!
//! `cargo bench --bench store`. The hub ingests up to ~1,000 messages/s and
//! commits them in batches; these measure one batch of 1 and of 100 message
//! events (one transaction each, `synchronous=NORMAL`), and replaying 100.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use regie::protocol::{
    Author, ChatMessage, Epoch, Event, EventFrame, MessageId, Millis, ViewerId, Visibility,
};
use regie::store::{CommandOutcome, Commit, SqliteStore, Store};

const LIVE: &str = "bench";

fn message(id: u64) -> ChatMessage {
    ChatMessage {
        id: MessageId(id),
        at: 1_750_000_000_000 + Millis::try_from(id).expect("bench ids are small"),
        author: Author::Viewer {
            viewer_id: ViewerId(format!("v-{}", id % 1000)),
            first_name: "Julie".into(),
            pseudonym: format!("julie{}", id % 1000),
        },
        text: format!("Elle taille comment la robe verte ? Je fais du 38 ({id})"),
        question: id % 5 == 0,
        answered: false,
        reply_to: None,
        also_to: Vec::new(),
        visibility: Visibility::Visible,
        product: None,
        announcement: false,
    }
}

/// The next seq and message id, as the hub's session actor holds them.
struct Writer {
    epoch: Epoch,
    next: u64,
}

fn open(dir: &std::path::Path) -> (SqliteStore, Writer) {
    let mut store = SqliteStore::open(dir).expect("open store");
    let head = store.open_live(LIVE).expect("open live");
    let w = Writer {
        epoch: head.epoch,
        next: head.head + 1,
    };
    (store, w)
}

impl Writer {
    /// One batch of `n` message events, each with its command outcome, as
    /// the hub commits a viewer's `say`.
    fn batch(&mut self, n: usize) -> Vec<Commit> {
        (0..n)
            .map(|_| {
                let id = self.next;
                self.next += 1;
                let frame = EventFrame {
                    epoch: self.epoch.clone(),
                    seq: id,
                    at: 1_750_000_000_000 + Millis::try_from(id).expect("bench ids are small"),
                    event: Event::Message {
                        message: message(id),
                    },
                };
                Commit::event(frame).with_outcome(
                    format!("v-{}", id % 1000),
                    regie::protocol::CommandId(format!("c-{id}")),
                    CommandOutcome::Ack { seq: Some(id) },
                )
            })
            .collect()
    }
}

fn commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("store_commit");
    for n in [1usize, 100] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mut store, mut w) = open(dir.path());
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("messages", n), &n, |b, &n| {
            b.iter_batched(
                || w.batch(n),
                |batch| store.commit(LIVE, &batch).expect("commit"),
                criterion::BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn replay(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut store, mut w) = open(dir.path());
    for _ in 0..100 {
        let batch = w.batch(100);
        store.commit(LIVE, &batch).expect("commit");
    }
    let mut group = c.benchmark_group("store_replay");
    group.throughput(Throughput::Elements(100));
    group.bench_function("100_of_10000", |b| {
        b.iter(|| store.replay(LIVE, 5_000, 100).expect("replay"));
    });
    group.bench_function("snapshot_recent_50", |b| {
        b.iter(|| store.snapshot(LIVE, 50).expect("snapshot"));
    });
    group.finish();
}

criterion_group!(benches, commit, replay);
criterion_main!(benches);
