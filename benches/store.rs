//! Store write and read costs on the hub's hot path.
//!
//! `cargo bench --bench store`. The hub ingests up to ~1,000 messages/s and
//! commits them in batches; these measure one batch of 1 and of 100 message
//! events (one transaction each, `synchronous=NORMAL`), and replaying 100.
//!
//! With `REGIE_TEST_POSTGRES` naming a server (`source .ci/postgres.sh`
//! starts one), the same commits on the PostgreSQL store, and the purge a
//! redaction costs there (`VACUUM FULL` of `messages` holding 10,000 and
//! 100,000 messages, then `CHECKPOINT`), in a schema of the bench's own.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use regie::protocol::{
    Author, ChatMessage, Epoch, Event, EventFrame, MessageId, Millis, ViewerId, Visibility,
};
use regie::store::{CommandOutcome, Commit, PostgresStore, SqliteStore, Store};

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
        question: id.is_multiple_of(5),
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
    let w = Writer::of(&mut store);
    (store, w)
}

/// A schema of the bench's own on the `REGIE_TEST_POSTGRES` server, dropped
/// with it; `None` (said) without a server.
struct PgSchema {
    url: String,
    schema: String,
    keys: tempfile::TempDir,
}

impl PgSchema {
    fn new(tag: &str) -> Option<Self> {
        let url = std::env::var("REGIE_TEST_POSTGRES").ok()?;
        let mut admin = match postgres::Client::connect(&url, postgres::NoTls) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("no PostgreSQL at REGIE_TEST_POSTGRES ({e}): PostgreSQL cases skipped");
                return None;
            }
        };
        let schema = format!("regie_bench_{tag}_{}", std::process::id());
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .expect("create the bench schema");
        Some(Self {
            url,
            schema,
            keys: tempfile::tempdir().expect("temp dir"),
        })
    }

    fn store(&self) -> (PostgresStore, Writer) {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}options=-csearch_path%3D{}", self.url, self.schema);
        let keys = regie::store::contact::KeySource::Dir(self.keys.path().to_path_buf());
        let mut store = PostgresStore::open(&url, keys).expect("open the PostgreSQL store");
        let w = Writer::of(&mut store);
        (store, w)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

impl Writer {
    fn of(store: &mut impl Store) -> Self {
        let head = store.open_live(LIVE).expect("open live");
        Self {
            epoch: head.epoch,
            next: head.head + 1,
        }
    }

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
        if let Some(pg) = PgSchema::new(&format!("commit{n}")) {
            let (mut store, mut w) = pg.store();
            group.bench_with_input(BenchmarkId::new("postgres_messages", n), &n, |b, &n| {
                b.iter_batched(
                    || w.batch(n),
                    |batch| store.commit(LIVE, &batch).expect("commit"),
                    criterion::BatchSize::SmallInput,
                );
            });
        }
    }
    group.finish();
}

/// Posts one message and redacts it, as the hub commits them.
fn redact_one(store: &mut PostgresStore, w: &mut Writer) {
    let batch = w.batch(1);
    let Some(Event::Message { message }) = batch[0].frame.as_ref().map(|f| f.event.clone()) else {
        unreachable!("the batch holds a message")
    };
    store.commit(LIVE, &batch).expect("say");
    let redaction = EventFrame {
        epoch: w.epoch.clone(),
        seq: w.next,
        at: message.at,
        event: Event::Redacted {
            tombstone: regie::protocol::Tombstone {
                message_id: message.id,
                posted_at: message.at,
                redacted_at: message.at,
                author_id: message.author.viewer_id().cloned(),
                reason: "bench".into(),
                by: regie::protocol::Actor {
                    name: None,
                    role: regie::protocol::StaffRole::Moderator,
                },
            },
        },
    };
    w.next += 1;
    store
        .commit(LIVE, &[Commit::event(redaction)])
        .expect("redact");
}

/// The PostgreSQL purge after one redaction: `VACUUM FULL` of the tables a
/// redaction deletes from, with `rows` messages in the live, then `CHECKPOINT`.
fn purge(c: &mut Criterion) {
    let mut group = c.benchmark_group("postgres_purge");
    group.sample_size(10);
    for rows in [10_000usize, 100_000] {
        let Some(pg) = PgSchema::new(&format!("purge{rows}")) else {
            return;
        };
        let (mut store, mut w) = pg.store();
        for _ in 0..rows / 1_000 {
            store.commit(LIVE, &w.batch(1_000)).expect("fill");
        }
        group.bench_with_input(BenchmarkId::new("redaction", rows), &rows, |b, _| {
            b.iter_custom(|iters| {
                let mut spent = std::time::Duration::ZERO;
                for _ in 0..iters {
                    redact_one(&mut store, &mut w);
                    let start = std::time::Instant::now();
                    // A held purge (autovacuum's analyze of the freshly
                    // filled table holds a snapshot) is retried: the
                    // figure is the time until the text is gone.
                    loop {
                        match store.checkpoint() {
                            Ok(()) => break,
                            Err(regie::store::StoreError::PurgeHeld { .. }) => {}
                            Err(e) => panic!("purge: {e}"),
                        }
                    }
                    spent += start.elapsed();
                }
                spent
            });
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

criterion_group!(benches, commit, replay, purge);
criterion_main!(benches);
