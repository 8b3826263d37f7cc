//! `regie bench hub`'s ingest phase: what the hub's CPU pays per message
//! it takes in, commits and acks, with no audience to fan out to.
//!
//! One staff socket reads everything (as a console does) and four staff
//! sockets send chat lines at a fixed total rate until a fixed number of
//! lines is sent; each waits for every ack. The hub runs in a child process
//! on the production configuration (its own data dir, SQLite in WAL with
//! `synchronous=NORMAL`), so its CPU time from `/proc` is the ingest
//! path's own: validate, sanitise, moderation rules, decide, commit, ack,
//! and the staff fan-out to the reader.

use std::time::Duration;

use anyhow::Context;

use super::child::{ChildOptions, ServerChild, Target, staff_token};
use super::load::{self, LoadConfig};
use super::resources::Process;
use crate::protocol::StaffRole;

/// What the ingest phase offers.
#[derive(Debug, Clone)]
pub struct IngestBench {
    /// Lines in all.
    pub messages: u64,
    /// Lines a second, across the senders.
    pub rate: f64,
    /// Staff sender sockets.
    pub senders: usize,
}

/// What it measured.
pub(super) struct Ingested {
    accepted: u64,
    refused: u64,
    unanswered: u64,
    /// Lines the reader got (it must get every accepted one).
    read: u64,
    sent_per_sec: f64,
    hub_cpu: Duration,
    generator_cpu: Duration,
    wall: Duration,
    /// The reader's latency, send to receipt: what a commit window adds.
    reader_p50: Duration,
    reader_p99: Duration,
}

impl Ingested {
    /// Hub CPU-seconds per 100,000 ingested lines.
    fn cpu_per_100k(&self) -> f64 {
        self.hub_cpu.as_secs_f64() * 1e5 / self.accepted.max(1) as f64
    }

    /// Microseconds of hub CPU per ingested line.
    fn micros_per_message(&self) -> f64 {
        self.hub_cpu.as_secs_f64() * 1e6 / self.accepted.max(1) as f64
    }
}

/// Runs the phase once against a fresh hub child.
pub(super) async fn run(
    exe: &std::path::Path,
    bench: &IngestBench,
    options: &ChildOptions,
    drain: Duration,
) -> anyhow::Result<Ingested> {
    let data = tempfile::tempdir().context("cannot create a temporary data dir")?;
    let token = staff_token(data.path(), StaffRole::Moderator, "bench")?;
    let mut child = ServerChild::start(exe, Target::Hub, data.path(), options).await?;
    let duration = Duration::from_secs_f64(bench.messages as f64 / bench.rate.max(1e-9));
    let config = LoadConfig {
        server: child.addr,
        receivers_on: Vec::new(),
        live: "bench".into(),
        viewers: 0,
        staff: 1,
        staff_token: token,
        probe_every: 1,
        sockets_per_source: usize::MAX,
        senders: bench.senders,
        staff_senders: true,
        rate: bench.rate,
        // A little past the last line's time, so the count, not the
        // clock, ends the sending.
        duration: duration + Duration::from_secs(1),
        lines: Some(bench.messages),
        max_joining: 8,
        drain,
        expect_acks: true,
    };
    let joined = load::join(config).await?;
    let hub = Process::Pid(child.pid);
    let hub0 = hub.cpu_time()?;
    let generator0 = Process::Current.cpu_time()?;
    let t0 = tokio::time::Instant::now();
    let result = joined.run().await;
    let wall = t0.elapsed();
    let hub_cpu = hub.cpu_time()?.saturating_sub(hub0);
    let generator_cpu = Process::Current.cpu_time()?.saturating_sub(generator0);
    child.stop().await;
    Ok(Ingested {
        accepted: result.sent - result.refused,
        refused: result.refused,
        unanswered: result.unanswered,
        read: result.delivered,
        sent_per_sec: result.sent_per_sec(),
        hub_cpu,
        generator_cpu,
        wall,
        reader_p50: result.staff_latency.quantile(0.50),
        reader_p99: result.staff_latency.quantile(0.99),
    })
}

/// One line of figures.
pub(super) fn print(bench: &IngestBench, options: &ChildOptions, r: &Ingested) {
    println!(
        "ingest: {} lines offered at {:.0}/s by {} staff senders ({:.0}/s achieved), 1 staff \
         reader, commit window {}: {} accepted, {} refused, {} unanswered, reader got {}; \
         hub {:.2} CPU-s = {:.2} CPU-s per 100k ingested messages = {:.1} µs of hub CPU per \
         message ({:.0}% of one core); generator {:.2} CPU-s; reader latency p50 {:.1} ms \
         p99 {:.1} ms",
        bench.messages,
        bench.rate,
        bench.senders,
        r.sent_per_sec,
        options.commit_window.map_or_else(
            || format!(
                "{} (default)",
                humantime::format_duration(crate::hub::Limits::default().commit_window)
            ),
            |w| humantime::format_duration(w).to_string(),
        ),
        r.accepted,
        r.refused,
        r.unanswered,
        r.read,
        r.hub_cpu.as_secs_f64(),
        r.cpu_per_100k(),
        r.micros_per_message(),
        100.0 * r.hub_cpu.as_secs_f64() / r.wall.as_secs_f64().max(1e-9),
        r.generator_cpu.as_secs_f64(),
        r.reader_p50.as_secs_f64() * 1e3,
        r.reader_p99.as_secs_f64() * 1e3,
    );
}
