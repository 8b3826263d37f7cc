//! `regie bench hub`: a capacity search. For each socket count, the
//! highest chat rate the hub carries, and the same search on a bare
//! tokio-tungstenite broadcast of the same frames in the same run; the
//! ratio of the two is the hub's cost.
//!
//! A rate is carried when every staff socket got every line, no viewer
//! socket was closed, every viewer got every line (unless
//! `--sampled-viewers`: a hub that samples viewer chat), the senders
//! achieved the rate, and the viewer probes' p99 stayed within
//! `--p99-limit`. The search doubles the rate from `--rate` until a trial
//! fails (or `--max-rate`), then bisects `--steps` times between the last
//! carried and the first failed rate.
//!
//! Each trial runs a fresh server in its own child process (`regie bench
//! serve-hub` / `serve-bare`, hidden subcommands of this binary) so that
//! its peak RSS (`VmHWM` from `/proc/PID/status`) and CPU time are its own;
//! the load generator (this process) measures latency and counts
//! deliveries, and its own CPU time is printed beside the server's, with
//! which of the two was the bottleneck.
//!
//! The hub runs its production send queue (1,024 frames) unless
//! `--send-queue` says otherwise; its senders are ordinary viewer sockets
//! whose per-viewer rate limit the child's config raises, so the bench
//! measures fan-out, not the limiter.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::child::{ChildOptions, ServerChild, Target, staff_token};

use super::ingest::{self, IngestBench};
use super::load::{self, LoadConfig, LoadResult};
use super::redaction::{self, RedactionBench};
use super::resources::{Memory, Process, machine_busy_time, raise_open_files_limit};

/// What `regie bench hub` measures.
#[derive(Debug, Clone)]
pub struct HubBench {
    /// Receiving viewer sockets, one search per count.
    pub viewers: Vec<usize>,
    /// Receiving staff sockets (each must get every line).
    pub staff: usize,
    /// The search's first rate, in chat lines per second across all senders.
    pub rate: f64,
    /// The search never tries above this rate.
    pub max_rate: f64,
    /// Bisection steps after the first failed rate.
    pub steps: usize,
    /// How long the senders send, per trial.
    pub duration: Duration,
    /// Sender sockets (viewers whose rate limit the bench hub raises).
    pub senders: usize,
    /// Which servers to measure.
    pub target: Targets,
    /// Longest wait for the last deliveries after the last line; what has
    /// not arrived by then counts as missed.
    pub drain: Duration,
    /// Trials per rate; a rate is carried only if every one of them passes.
    pub repeat: usize,
    /// The highest viewer p99 a carried rate may have.
    pub p99_limit: Duration,
    /// The hub's per-connection send queue, in frames; `None` is the
    /// production default.
    pub send_queue: Option<usize>,
    /// Viewers may miss lines (a hub that samples viewer chat): only staff
    /// must get every line.
    pub sampled_viewers: bool,
    /// One viewer socket in this many reads every line for latency; the
    /// others count lines.
    pub probe_every: usize,
    /// What to run, in this order.
    pub phases: Vec<Phase>,
    /// The ingest phase's load.
    pub ingest: IngestBench,
    /// The redaction phase's load.
    pub redaction: RedactionBench,
    /// The hub's group-commit window; `None` is the production default.
    pub commit_window: Option<Duration>,
    /// The viewers' delivery tick; `None` is the live's default.
    pub viewer_tick: Option<Duration>,
}

/// The parts of a `regie bench hub` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The capacity search, hub and bare broadcast.
    Capacity,
    /// CPU per ingested message ([`super::ingest`]).
    Ingest,
    /// Redaction reach ([`super::redaction`]).
    Redaction,
}

/// The servers a bench run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    Both,
    Hub,
    Bare,
}

/// One measured trial.
struct Run {
    target: Target,
    rate: f64,
    load: LoadResult,
    server_memory_after_join: Memory,
    /// The most resident memory seen: `VmHWM` at the end, or a `VmRSS`
    /// sample if larger (the kernel updates `VmHWM` lazily).
    server_peak_rss_kib: u64,
    server_cpu: Duration,
    client_cpu: Duration,
    /// CPU time the rest of the machine used meanwhile (other processes:
    /// on a shared machine, other people's builds).
    others_cpu: Duration,
    wall: Duration,
    /// `/proc/loadavg`'s one-minute figure when the run started: other
    /// work on the machine, which skews every figure of the run.
    load_average: String,
    /// Why the rate was not carried; empty when it was.
    failures: Vec<String>,
}

impl Run {
    fn carried(&self) -> bool {
        self.failures.is_empty()
    }

    fn cpu_share(&self, cpu: Duration) -> f64 {
        100.0 * cpu.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }

    /// What used the most CPU during the trial: the server, the generator,
    /// or the other processes of the machine (on a machine with a few
    /// cores, the one that ran out first, or crowded both out).
    fn bottleneck(&self) -> &'static str {
        if self.others_cpu > self.server_cpu.max(self.client_cpu) {
            "other processes"
        } else if self.server_cpu >= self.client_cpu {
            "server"
        } else {
            "generator"
        }
    }

    /// CPU-seconds per million deliveries.
    fn cpu_per_million(&self, cpu: Duration) -> f64 {
        if self.load.delivered == 0 {
            0.0
        } else {
            cpu.as_secs_f64() * 1e6 / self.load.delivered as f64
        }
    }
}

/// Arguments `regie bench hub` refuses before it starts anything (the
/// command line exits 2 on these, as on clap's own usage errors).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HubBenchError {
    #[error("--rate must be a positive number of lines per second, got {0}")]
    Rate(f64),
    #[error("--max-rate must be at least --rate ({rate}), got {max}")]
    MaxRate { rate: f64, max: f64 },
    #[error("--senders must be at least 1")]
    NoSenders,
    #[error("--viewers needs at least one positive count")]
    NoViewers,
    #[error("--repeat must be at least 1")]
    NoRepeat,
    #[error("--send-queue must be at least 1 frame")]
    SendQueue,
    #[error(
        "--viewer-tick must be {}ms to {}ms",
        crate::protocol::MIN_TICK_MS,
        crate::protocol::MAX_TICK_MS
    )]
    ViewerTick,
    #[error("--phases needs at least one phase")]
    NoPhases,
    #[error("--ingest-messages, --ingest-rate and --ingest-senders must be positive")]
    Ingest,
    #[error(
        "--redaction-viewers, --redaction-rate, --redactions and --redaction-every must be positive"
    )]
    Redaction,
}

impl HubBench {
    /// Checks the arguments alone (no system limits), so a typo is refused
    /// before any server starts.
    pub fn validate(&self) -> Result<(), HubBenchError> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(HubBenchError::Rate(self.rate));
        }
        if !(self.max_rate.is_finite() && self.max_rate >= self.rate) {
            return Err(HubBenchError::MaxRate {
                rate: self.rate,
                max: self.max_rate,
            });
        }
        if self.senders == 0 {
            return Err(HubBenchError::NoSenders);
        }
        if self.viewers.is_empty() || self.viewers.contains(&0) {
            return Err(HubBenchError::NoViewers);
        }
        if self.repeat == 0 {
            return Err(HubBenchError::NoRepeat);
        }
        if self.send_queue == Some(0) {
            return Err(HubBenchError::SendQueue);
        }
        let tick_range =
            u128::from(crate::protocol::MIN_TICK_MS)..=u128::from(crate::protocol::MAX_TICK_MS);
        if self
            .viewer_tick
            .is_some_and(|tick| !tick_range.contains(&tick.as_millis()))
        {
            return Err(HubBenchError::ViewerTick);
        }
        if self.phases.is_empty() {
            return Err(HubBenchError::NoPhases);
        }
        let i = &self.ingest;
        if i.messages == 0 || !(i.rate.is_finite() && i.rate > 0.0) || i.senders == 0 {
            return Err(HubBenchError::Ingest);
        }
        let r = &self.redaction;
        if r.viewers == 0
            || !(r.rate.is_finite() && r.rate > 0.0)
            || r.senders == 0
            || r.redactions == 0
            || r.every.is_zero()
        {
            return Err(HubBenchError::Redaction);
        }
        Ok(())
    }
}

/// Client sockets per loopback source address: below the ~28,000
/// ephemeral ports of one address.
const SOCKETS_PER_SOURCE: usize = 20_000;

/// Runs the searches and prints each trial, then the capacities.
pub async fn run(args: HubBench) -> anyhow::Result<()> {
    args.validate()?;
    let capacity = args.phases.contains(&Phase::Capacity);
    let mut largest = if capacity {
        args.viewers.iter().copied().max().unwrap_or(0)
    } else {
        0
    };
    if args.phases.contains(&Phase::Redaction) {
        largest = largest.max(args.redaction.viewers);
    }
    // Both ends of every socket live on this machine: the generator's and
    // the server's (the child inherits the limit raised here).
    let needed = (largest + args.staff + args.senders + 256) as u64;
    let limit = raise_open_files_limit(needed)?;
    anyhow::ensure!(
        limit >= needed,
        "{largest} viewer sockets need about {needed} open files, the limit is {limit} and \
         this process cannot raise it: raise it in the shell first (`ulimit -n {needed}`)"
    );
    let targets: &[Target] = match args.target {
        Targets::Both => &[Target::Bare, Target::Hub],
        Targets::Hub => &[Target::Hub],
        Targets::Bare => &[Target::Bare],
    };
    let exe = std::env::current_exe().context("cannot find this program to start the servers")?;
    let options = ChildOptions {
        send_queue: args.send_queue,
        sampled_viewers: args.sampled_viewers,
        commit_window: args.commit_window,
        viewer_tick: args.viewer_tick,
    };
    for phase in &args.phases {
        match phase {
            Phase::Capacity => capacity_search(&exe, &args, targets, &options).await?,
            Phase::Ingest => {
                let r = ingest::run(&exe, &args.ingest, &options, args.drain)
                    .await
                    .context("ingest phase")?;
                ingest::print(&args.ingest, &options, &r);
            }
            Phase::Redaction => {
                // The production delivery policy: viewer chat sampled.
                let options = ChildOptions {
                    sampled_viewers: true,
                    ..options.clone()
                };
                let r = redaction::run(&exe, &args.redaction, &options, args.drain)
                    .await
                    .context("redaction phase")?;
                redaction::print(&args.redaction, &r);
            }
        }
    }
    Ok(())
}

/// The capacity searches, then their table.
async fn capacity_search(
    exe: &std::path::Path,
    args: &HubBench,
    targets: &[Target],
    options: &ChildOptions,
) -> anyhow::Result<()> {
    println!(
        "regie bench hub: capacity search from {} to at most {} lines/s, {} per trial, \
         {} sender sockets, {} staff sockets, viewer p99 limit {}, hub send queue {}, \
         viewer tick {}, loopback, {} cores",
        args.rate,
        args.max_rate,
        humantime::format_duration(args.duration),
        args.senders,
        args.staff,
        humantime::format_duration(args.p99_limit),
        args.send_queue.map_or_else(
            || format!(
                "{} frames (production)",
                crate::hub::Limits::default().send_queue_frames
            ),
            |n| format!("{n} frames"),
        ),
        args.viewer_tick.map_or_else(
            || format!("{}ms (production)", crate::protocol::DEFAULT_TICK_MS),
            |tick| humantime::format_duration(tick).to_string(),
        ),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    let mut searches: Vec<Search> = Vec::new();
    for &viewers in &args.viewers {
        for &target in targets {
            let search = search(exe, target, viewers, args, options)
                .await
                .with_context(|| format!("{} search at {viewers} viewers", target.name()))?;
            searches.push(search);
        }
    }
    println!();
    print_capacities(&searches);
    Ok(())
}

/// One target's search at one socket count.
struct Search {
    target: Target,
    viewers: usize,
    /// The carried trial at the highest rate, if any rate was carried.
    best: Option<Run>,
    /// The failed trial at the lowest rate, if any failed.
    first_failed: Option<Run>,
}

impl Search {
    fn capacity(&self) -> f64 {
        self.best.as_ref().map_or(0.0, |r| r.rate)
    }
}

async fn search(
    exe: &std::path::Path,
    target: Target,
    viewers: usize,
    args: &HubBench,
    options: &ChildOptions,
) -> anyhow::Result<Search> {
    let mut found = Search {
        target,
        viewers,
        best: None,
        first_failed: None,
    };
    let mut rate = args.rate;
    // Upwards by doubling until a rate fails; if the first fails,
    // downwards by halving (three times at most).
    let mut halvings = 0;
    loop {
        let run = trial(exe, target, viewers, rate, args, options).await?;
        if run.carried() {
            found.best = Some(run);
            if found.first_failed.is_some() || rate >= args.max_rate {
                break;
            }
            rate = (rate * 2.0).min(args.max_rate);
        } else {
            found.first_failed = Some(run);
            if found.best.is_some() || halvings == 3 {
                break;
            }
            halvings += 1;
            rate /= 2.0;
        }
    }
    for _ in 0..args.steps {
        let (Some(lo), Some(hi)) = (&found.best, &found.first_failed) else {
            break;
        };
        let mid = f64::midpoint(lo.rate, hi.rate).round();
        if mid <= lo.rate || mid >= hi.rate {
            break;
        }
        let run = trial(exe, target, viewers, mid, args, options).await?;
        if run.carried() {
            found.best = Some(run);
        } else {
            found.first_failed = Some(run);
        }
    }
    Ok(found)
}

/// One rate, `repeat` times: the worst run stands for the rate.
async fn trial(
    exe: &std::path::Path,
    target: Target,
    viewers: usize,
    rate: f64,
    args: &HubBench,
    options: &ChildOptions,
) -> anyhow::Result<Run> {
    let mut worst: Option<Run> = None;
    for _ in 0..args.repeat {
        let run = measure(exe, target, viewers, rate, args, options)
            .await
            .with_context(|| {
                format!("{} run at {viewers} viewers, {rate} lines/s", target.name())
            })?;
        print_run(viewers, &run);
        let failed = !run.carried();
        if worst.as_ref().is_none_or(|w| w.carried() && failed) {
            worst = Some(run);
        }
        if failed {
            break;
        }
    }
    worst.context("no trial ran")
}

async fn measure(
    exe: &std::path::Path,
    target: Target,
    viewers: usize,
    rate: f64,
    args: &HubBench,
    options: &ChildOptions,
) -> anyhow::Result<Run> {
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    let data = tempfile::tempdir().context("cannot create a temporary data dir")?;
    let staff_token = staff_token(data.path(), crate::protocol::StaffRole::Moderator, "bench")?;
    let mut child = ServerChild::start(exe, target, data.path(), options).await?;
    let config = LoadConfig {
        server: child.addr,
        receivers_on: Vec::new(),
        live: "bench".into(),
        viewers,
        staff: args.staff,
        staff_token,
        probe_every: args.probe_every.max(1),
        sockets_per_source: SOCKETS_PER_SOURCE,
        senders: args.senders,
        staff_senders: false,
        rate,
        duration: args.duration,
        lines: None,
        max_joining: 128,
        drain: args.drain,
        expect_acks: target == Target::Hub,
    };
    let joined = load::join(config).await?;
    let server = Process::Pid(child.pid);
    let server_memory_after_join = server.memory()?;
    let server_cpu0 = server.cpu_time()?;
    let client_cpu0 = Process::Current.cpu_time()?;
    let machine0 = machine_busy_time()?;
    let t0 = tokio::time::Instant::now();
    let load = joined.run().await;
    let wall = t0.elapsed();
    let server_cpu = server.cpu_time()?.saturating_sub(server_cpu0);
    let client_cpu = Process::Current.cpu_time()?.saturating_sub(client_cpu0);
    let others_cpu = machine_busy_time()?
        .saturating_sub(machine0)
        .saturating_sub(server_cpu + client_cpu);
    let server_memory_end = server.memory()?;
    let server_peak_rss_kib = [
        server_memory_after_join.rss_kib,
        server_memory_after_join.peak_rss_kib,
        server_memory_end.rss_kib,
        server_memory_end.peak_rss_kib,
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    child.stop().await;
    let failures = verdict(&load, rate, args);
    Ok(Run {
        target,
        rate,
        load,
        server_memory_after_join,
        server_peak_rss_kib,
        server_cpu,
        client_cpu,
        others_cpu,
        wall,
        load_average,
        failures,
    })
}

/// Why a trial's rate is not carried (empty: carried).
fn verdict(l: &LoadResult, rate: f64, args: &HubBench) -> Vec<String> {
    let mut why = Vec::new();
    if l.refused + l.unanswered > 0 {
        why.push(format!(
            "{} lines refused, {} unanswered",
            l.refused, l.unanswered
        ));
    }
    if l.sent_per_sec() < 0.95 * rate {
        why.push(format!(
            "senders reached only {:.0} lines/s",
            l.sent_per_sec()
        ));
    }
    if l.short_staff + l.staff_closed > 0 {
        why.push(format!(
            "{} staff sockets missed lines, {} closed",
            l.short_staff, l.staff_closed
        ));
    }
    if l.viewers_closed > 0 {
        why.push(format!("{} viewer sockets closed", l.viewers_closed));
    }
    if !args.sampled_viewers && l.short_receivers > 0 {
        why.push(format!("{} viewer sockets missed lines", l.short_receivers));
    }
    let p99 = l.latency.quantile(0.99);
    if p99 > args.p99_limit {
        why.push(format!("viewer p99 {:.0} ms", ms(p99)));
    }
    why
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_run(viewers: usize, r: &Run) {
    let l = &r.load;
    println!(
        "{:>4} {viewers:>5} viewers {:>6.0} lines/s: {}; sent {} ({:.0}/s), delivered {}/{} \
         (viewers short {}, closed {}; staff short {}, closed {}; dup {}), {:.0} deliveries/s, \
         viewer p50 {:.1} ms p99 {:.1} ms max {:.1} ms, staff p99 {:.1} ms, {:.0} B/delivery, \
         server RSS {:.1} MiB after join / peak {:.1} MiB, CPU server {:.0}% generator {:.0}% \
         other processes {:.0}% of one core (bottleneck: {}), server {:.2} CPU-s per million deliveries, load average {}{}",
        r.target.name(),
        r.rate,
        if r.carried() {
            "carried".to_owned()
        } else {
            format!("NOT carried ({})", r.failures.join(", "))
        },
        l.sent,
        l.sent_per_sec(),
        l.delivered,
        l.expected_deliveries,
        l.short_receivers,
        l.viewers_closed,
        l.short_staff,
        l.staff_closed,
        l.duplicates,
        l.deliveries_per_sec(),
        ms(l.latency.quantile(0.50)),
        ms(l.latency.quantile(0.99)),
        ms(l.latency.max()),
        ms(l.staff_latency.quantile(0.99)),
        l.bytes_per_delivery(),
        mib(r.server_memory_after_join.rss_kib),
        mib(r.server_peak_rss_kib),
        r.cpu_share(r.server_cpu),
        r.cpu_share(r.client_cpu),
        r.cpu_share(r.others_cpu),
        r.bottleneck(),
        r.cpu_per_million(r.server_cpu),
        r.load_average,
        if l.disconnects.is_empty() {
            String::new()
        } else {
            format!(", disconnects {:?}", l.disconnects)
        }
    );
}

fn print_capacities(searches: &[Search]) {
    println!("capacity (highest carried rate; figures of the trial at that rate)");
    println!(
        "| viewers | server | capacity lines/s | deliveries/s | viewer p99 ms | peak RSS MiB | \
         server CPU-s per M deliveries | generator CPU-s per M | bytes/delivery | \
         limited by (first failed rate) | load avg |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|");
    for s in searches {
        let limited = match &s.first_failed {
            Some(f) => format!(
                "{:.0}/s: {}; bottleneck {} (server {:.0}%, generator {:.0}%, others {:.0}%)",
                f.rate,
                f.failures.join(", "),
                f.bottleneck(),
                f.cpu_share(f.server_cpu),
                f.cpu_share(f.client_cpu),
                f.cpu_share(f.others_cpu),
            ),
            None => "none up to --max-rate".to_owned(),
        };
        match &s.best {
            Some(r) => println!(
                "| {} | {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} | {:.0} | {limited} | {} |",
                s.viewers,
                s.target.name(),
                r.rate,
                r.load.deliveries_per_sec(),
                ms(r.load.latency.quantile(0.99)),
                mib(r.server_peak_rss_kib),
                r.cpu_per_million(r.server_cpu),
                r.cpu_per_million(r.client_cpu),
                r.load.bytes_per_delivery(),
                r.load_average,
            ),
            None => println!(
                "| {} | {} | below {:.0} | | | | | | | {limited} | |",
                s.viewers,
                s.target.name(),
                s.first_failed.as_ref().map_or(0.0, |f| f.rate),
            ),
        }
    }
    let mut counts: Vec<usize> = searches.iter().map(|s| s.viewers).collect();
    counts.dedup();
    for viewers in counts {
        let of = |target: Target| {
            searches
                .iter()
                .find(|s| s.viewers == viewers && s.target == target)
        };
        let (Some(hub), Some(bare)) = (of(Target::Hub), of(Target::Bare)) else {
            continue;
        };
        let ratio = hub.capacity() / bare.capacity().max(1e-9);
        let capped = |s: &Search| s.first_failed.is_none();
        println!(
            "{viewers} viewers: hub/bare capacity {:.0}/{:.0} lines/s = {:.2} (aim ≥ 0.90: {}){}",
            hub.capacity(),
            bare.capacity(),
            ratio,
            if ratio >= 0.90 { "ok" } else { "MISSED" },
            if capped(hub) || capped(bare) {
                " — a search reached --max-rate: the ratio is a lower bound for that side"
            } else {
                ""
            },
        );
    }
}

/// Resolves when stdin closes: the parent bench is done (or gone). A plain
/// thread, so a blocked read never holds up the runtime's shutdown.
pub(super) async fn stdin_closed() {
    let (tx, rx) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let mut stdin = std::io::stdin();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        let _ = tx.send(());
    });
    let _ = rx.await;
}

/// Binds loopback and tells the parent where, on stdout.
pub(super) async fn listen_for_parent() -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("listening {}", listener.local_addr()?);
    Ok(listener)
}

/// `regie bench serve-bare`
pub async fn serve_bare() -> anyhow::Result<()> {
    let listener = listen_for_parent().await?;
    let lagged = super::bare::serve(listener, stdin_closed()).await?;
    if lagged > 0 {
        eprintln!("bare broadcast: connections missed {lagged} frames by lagging");
    }
    Ok(())
}

/// `regie bench serve-hub`: the real hub, with the limits that would
/// throttle the bench's own sockets raised, and what `options` changes.
pub async fn serve_hub(data: PathBuf, live: String, options: ChildOptions) -> anyhow::Result<()> {
    let config = bench_config(data, live, &options);
    let listener = listen_for_parent().await?;
    crate::hub::serve(listener, config, stdin_closed()).await?;
    Ok(())
}

/// The hub's configuration as the bench runs it: production's, with the
/// limits that would throttle the bench's own sockets raised, and what
/// `options` changes (send queue, sampling, commit window, viewer tick).
pub(super) fn bench_config(
    data: PathBuf,
    live: String,
    options: &ChildOptions,
) -> crate::hub::HubConfig {
    let mut config = crate::hub::HubConfig::new(live, data);
    // The bench's senders are viewers posting 50 lines/s each: lift the
    // per-viewer rate so the bench measures fan-out, not the limiter.
    config.settings.viewer_rate_per_sec = 100_000;
    config.settings.viewer_burst = 100_000;
    config.settings.slow_mode_secs = 0;
    // Every viewer gets every line (coalesced on the live's tick) so the
    // bench can count each line at each socket, unless the run measures
    // the production sampling (`--sampled-viewers`).
    if !options.sampled_viewers {
        config.settings.delivery.chat_per_sec = 0;
    }
    if let Some(tick) = options.viewer_tick {
        config.settings.delivery.tick_ms = u32::try_from(tick.as_millis()).unwrap_or(u32::MAX);
    }
    // Room for every bench socket. The send queue stays production's
    // unless the bench was told otherwise: a viewer the hub cuts as slow
    // shows up as a closed socket, and the rate is not carried.
    config.limits.max_connections = 200_000;
    if let Some(frames) = options.send_queue {
        config.limits.send_queue_frames = frames;
    }
    if let Some(window) = options.commit_window {
        config.limits.commit_window = window;
    }
    // Every bench socket is a new viewer from loopback.
    config.viewers.exempt_loopback = true;
    config
}
