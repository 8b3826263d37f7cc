//! `regie bench console`: the console's real state and render path under a
//! chat flood, on a 200×50 `TestBackend` with 50,000 retained messages.
//! A benchmark, not a test: it prints figures and asserts nothing.
//!
//! Three phases:
//! 1. fill: `--retained` messages through JSON parsing and `update`, flat out;
//! 2. paced: `--rate` messages a second for `--duration`, drawing at `--fps`
//!    like the real loop does (redraw on the tick, never per message);
//! 3. flat out: messages as fast as they go, still drawing at `--fps`,
//!    which gives the ingest rate the console sustains.
//!
//! Frames are serialised once up front; parsing them is part of the cost
//! measured, as in the real network path.

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::keymap::Keymap;
use super::state::{ConnStatus, Console, Msg, Session, update};
use super::theme::Theme;
use super::view;
use crate::protocol::{
    Actor, Author, ChatMessage, Epoch, Event, EventFrame, HoldReason, MessageId, Millis,
    ServerFrame, StaffRole, Tombstone, ViewerId, Visibility, parse_server_frame,
};

/// What `regie bench console` runs.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleBench {
    /// Messages per second fed in the paced phase.
    pub rate: u64,
    /// Length of the paced and flat-out phases (each).
    pub duration: Duration,
    /// Messages kept in the feed (and pre-filled).
    pub retained: usize,
    pub width: u16,
    pub height: u16,
    /// Redraws per second, as the real loop's tick.
    pub fps: u32,
    /// Skip the flat-out phase (to profile the paced one alone).
    pub no_flat_out: bool,
}

const NAMES: [&str; 24] = [
    "Julie", "Marc", "Inès", "Zoé", "Léa", "Chloé", "Hugo", "Lucas", "Emma", "Jade", "Louis",
    "Manon", "Sarah", "Tom", "Camille", "Noah", "Olivia", "Jack", "Amélie", "Théo", "Grace",
    "Oscar", "Maëlys", "Ethan",
];
const WORDS: [&str; 24] = [
    "dress",
    "size",
    "38",
    "love",
    "this",
    "colour",
    "is",
    "it",
    "available",
    "in",
    "green",
    "😍",
    "delivery",
    "Belgium",
    "fabric",
    "cotton",
    "price",
    "code",
    "tonight",
    "merci",
    "magnifique",
    "la",
    "robe",
    "👗",
];

/// A deterministic stream of realistic frames: mostly chat, some
/// questions, a few held, an occasional redaction of a recent message.
struct FrameSource {
    seq: u64,
    next_id: u64,
    rng: u64,
}

impl FrameSource {
    fn new() -> Self {
        FrameSource {
            seq: 0,
            next_id: 0,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn rand(&mut self) -> u64 {
        // xorshift64*: deterministic, no dependency, good enough for a mix.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn next_json(&mut self, now: i64) -> String {
        self.seq += 1;
        let roll = self.rand() % 1000;
        let event = if roll < 2 && self.next_id > 10 {
            let target = self.next_id - 1 - self.rand() % 10;
            Event::Redacted {
                tombstone: Tombstone {
                    message_id: MessageId(target),
                    posted_at: now,
                    redacted_at: now,
                    author_id: None,
                    reason: "at the viewer's request".into(),
                    by: Actor {
                        name: Some("Sam".into()),
                        role: StaffRole::Support,
                    },
                },
            }
        } else {
            self.next_id += 1;
            let n = self.rand();
            let name = pick(&NAMES, n);
            let words = 3 + (n >> 8) % 30;
            let text = (0..words)
                .map(|i| pick(&WORDS, (n >> (i % 48)) + i))
                .collect::<Vec<_>>()
                .join(" ");
            Event::Message {
                message: ChatMessage {
                    id: MessageId(self.next_id),
                    at: now,
                    author: Author::Viewer {
                        viewer_id: ViewerId(format!("v{}", n % 5_000)),
                        first_name: name.into(),
                        pseudonym: format!("p{}", n % 5_000),
                    },
                    text,
                    question: roll % 20 == 3,
                    answered: false,
                    reply_to: None,
                    also_to: Vec::new(),
                    visibility: if roll % 100 == 7 {
                        Visibility::Held {
                            reason: HoldReason::PersonalData,
                            rule_id: None,
                        }
                    } else {
                        Visibility::Visible
                    },
                    product: None,
                    announcement: false,
                },
            }
        };
        let frame = ServerFrame::Event(EventFrame {
            epoch: Epoch("bench".into()),
            seq: self.seq,
            at: now,
            event,
        });
        serde_json::to_string(&frame).expect("protocol frames serialise")
    }
}

/// The item of `items` a random number lands on.
fn pick<'a>(items: &[&'a str], n: u64) -> &'a str {
    let i = n % items.len() as u64;
    items[usize::try_from(i).expect("below items.len(), a usize")]
}

fn ingest(state: &mut Console, json: &str) -> anyhow::Result<()> {
    let frame = parse_server_frame(json)?;
    update(state, Msg::Frame(frame));
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "p is a fraction, so the rank is within 0..len (and clamped below)"
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `VmRSS` and `VmHWM` in MiB, from `/proc/self/status` (Linux).
pub fn memory_mib() -> (Option<f64>, Option<f64>) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (None, None);
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Messages generated per fill chunk and per flat-out batch.
const CHUNK: usize = 5_000;

/// The console under test, drawn on a test terminal like the real loop.
struct Bench {
    state: Console,
    feed_view: view::FeedView,
    terminal: Terminal<TestBackend>,
    theme: Theme,
    source: FrameSource,
    /// The clock the generated frames carry.
    now: Millis,
}

impl Bench {
    fn new(args: &ConsoleBench) -> anyhow::Result<Bench> {
        let session = Session {
            role: StaffRole::Moderator,
            name: "bench".into(),
            live: "bench".into(),
        };
        let mut state = Console::new(session, Keymap::default(), args.retained, "b");
        update(&mut state, Msg::Connection(ConnStatus::Connected));
        let now = crate::now_millis();
        update(&mut state, Msg::Tick(now));
        update(
            &mut state,
            Msg::Resize {
                width: args.width,
                height: args.height,
            },
        );
        Ok(Bench {
            state,
            feed_view: view::FeedView::default(),
            terminal: Terminal::new(TestBackend::new(args.width, args.height))?,
            theme: Theme::builtin_default(),
            source: FrameSource::new(),
            now,
        })
    }

    fn draw(&mut self) -> anyhow::Result<()> {
        let Bench {
            state,
            feed_view,
            terminal,
            theme,
            ..
        } = self;
        terminal.draw(|f| view::draw(f, state, feed_view, theme))?;
        Ok(())
    }

    fn jsons(&mut self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.source.next_json(self.now)).collect()
    }
}

pub fn run(args: ConsoleBench) -> anyhow::Result<()> {
    let mut bench = Bench::new(&args)?;
    let rss_filled = fill(&mut bench, &args)?;
    let rss_paced = paced(&mut bench, &args)?;
    flat_out(&mut bench, &args)?;
    let (rss, hwm) = memory_mib();
    println!(
        "memory: RSS {:.1} MiB after fill, {:.1} MiB after the paced phase, {:.1} MiB at the end, peak {:.1} MiB",
        rss_filled.unwrap_or(f64::NAN),
        rss_paced.unwrap_or(f64::NAN),
        rss.unwrap_or(f64::NAN),
        hwm.unwrap_or(f64::NAN)
    );
    Ok(())
}

/// Phase 1, fill: in chunks so the bench's own JSON does not count as the
/// console's memory. Only parse + update is timed. Returns the RSS after.
fn fill(bench: &mut Bench, args: &ConsoleBench) -> anyhow::Result<Option<f64>> {
    let mut fill = Duration::ZERO;
    let mut filled = 0;
    while filled < args.retained {
        let n = CHUNK.min(args.retained - filled);
        let jsons = bench.jsons(n);
        let started = Instant::now();
        for json in &jsons {
            ingest(&mut bench.state, json)?;
        }
        fill += started.elapsed();
        filled += n;
    }
    bench.draw()?;
    let (rss_filled, _) = memory_mib();
    println!(
        "fill: {} messages in {:.2}s = {:.0} msg/s (parse + update); feed holds {}; RSS {:.1} MiB",
        args.retained,
        fill.as_secs_f64(),
        args.retained as f64 / fill.as_secs_f64(),
        bench.state.feed.len(),
        rss_filled.unwrap_or(f64::NAN)
    );
    Ok(rss_filled)
}

/// The redraw interval of `--fps`.
fn tick_of(args: &ConsoleBench) -> Duration {
    Duration::from_secs_f64(1.0 / f64::from(args.fps.max(1)))
}

/// Phase 2, paced: each tick takes its share of messages, then draws if dirty.
/// Returns the RSS after.
fn paced(bench: &mut Bench, args: &ConsoleBench) -> anyhow::Result<Option<f64>> {
    let tick = tick_of(args);
    let duration = args.duration;
    let per_tick_exact = args.rate as f64 * tick.as_secs_f64();
    let mut draw_ms = Vec::new();
    let mut busy_ms = Vec::new();
    let mut overruns = 0u64;
    let mut fed = 0usize;
    let mut owed = 0.0f64;
    let started = Instant::now();
    let mut next = started;
    while started.elapsed() < duration {
        owed += per_tick_exact;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "owed is below one tick's share plus one, a small non-negative count"
        )]
        let n = owed.floor() as usize;
        owed -= n as f64;
        // Serialising the hub's frames is the hub's cost: done before the
        // tick's clock starts.
        let jsons = bench.jsons(n);
        let t0 = Instant::now();
        for json in &jsons {
            ingest(&mut bench.state, json)?;
        }
        fed += n;
        update(&mut bench.state, Msg::Tick(crate::now_millis()));
        let d0 = Instant::now();
        if bench.state.dirty {
            bench.state.dirty = false;
            bench.draw()?;
        }
        draw_ms.push(d0.elapsed().as_secs_f64() * 1e3);
        busy_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        next += tick;
        let now = Instant::now();
        if now < next {
            std::thread::sleep(next - now);
        } else {
            overruns += 1;
        }
    }
    let paced = started.elapsed();
    draw_ms.sort_by(f64::total_cmp);
    busy_ms.sort_by(f64::total_cmp);
    println!(
        "paced: {} msg/s target, {:.0} msg/s achieved over {:.1}s at {} fps; \
         draw ms/frame p50 {:.3} p99 {:.3}; frame work (ingest+draw) p50 {:.3} p99 {:.3}; {} of {} ticks overran",
        args.rate,
        fed as f64 / paced.as_secs_f64(),
        paced.as_secs_f64(),
        args.fps,
        percentile(&draw_ms, 0.5),
        percentile(&draw_ms, 0.99),
        percentile(&busy_ms, 0.5),
        percentile(&busy_ms, 0.99),
        overruns,
        busy_ms.len()
    );
    Ok(memory_mib().0)
}

/// Phase 3, flat out: drawing every `tick` of busy time; only ingest and draw
/// are timed.
fn flat_out(bench: &mut Bench, args: &ConsoleBench) -> anyhow::Result<()> {
    let tick = tick_of(args);
    let duration = args.duration;
    let mut busy = Duration::ZERO;
    let mut since_draw = Duration::ZERO;
    let mut frames = 0u64;
    let mut fed = 0usize;
    while busy < duration && !args.no_flat_out {
        let jsons = bench.jsons(CHUNK);
        for json in &jsons {
            let t0 = Instant::now();
            ingest(&mut bench.state, json)?;
            fed += 1;
            if since_draw >= tick {
                since_draw = Duration::ZERO;
                update(&mut bench.state, Msg::Tick(crate::now_millis()));
                bench.draw()?;
                frames += 1;
            }
            let spent = t0.elapsed();
            busy += spent;
            since_draw += spent;
        }
    }
    println!(
        "sustained: {:.0} msg/s ingested flat out (parse + update) with {} redraws in {:.1}s of work; \
         feed holds {} (bound {})",
        fed as f64 / busy.as_secs_f64(),
        frames,
        busy.as_secs_f64(),
        bench.state.feed.len(),
        args.retained
    );
    Ok(())
}
