//! `regie bench hub`: the hub under a loopback chat load, next to a bare
//! tokio-tungstenite broadcast of the same frames under the same load.
//!
//! Each server runs in its own child process (`regie bench serve-hub` /
//! `serve-bare`, hidden subcommands of this binary) so that its peak RSS
//! (`VmHWM` from `/proc/PID/status`) and CPU time are its own; the load
//! generator (this process) measures latency and counts deliveries, and its
//! own CPU time is printed beside the server's.
//!
//! The senders are ordinary viewer sockets: the hub's per-viewer rate limit
//! and slow-reader queue are raised in the child's config so the bench
//! measures fan-out, not the limits. Every run is bounded: join timeout,
//! send duration, ack wait, drain.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::load::{self, LoadConfig, LoadResult};
use super::resources::{Memory, Process, open_files_limit};

/// What `regie bench hub` measures.
#[derive(Debug, Clone)]
pub struct HubBench {
    /// Receiving viewer sockets, one run per count.
    pub viewers: Vec<usize>,
    /// Chat lines per second, across all senders.
    pub rate: f64,
    /// How long the senders send, per run.
    pub duration: Duration,
    /// Sender sockets (viewers whose rate limit the bench hub raises).
    pub senders: usize,
    /// Which servers to measure.
    pub target: Targets,
    /// Longest wait for the last deliveries after the last line; what has
    /// not arrived by then counts as dropped.
    pub drain: Duration,
    /// Runs per target and viewer count, alternating bare and hub, so a
    /// noisy neighbour on a shared machine hits both; the verdict uses
    /// the medians.
    pub repeat: usize,
}

/// The servers a bench run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    Both,
    Hub,
    Bare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Bare,
    Hub,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Bare => "bare",
            Target::Hub => "hub",
        }
    }
}

/// One measured run.
struct Run {
    target: Target,
    load: LoadResult,
    server_memory_after_join: Memory,
    /// The most resident memory seen: `VmHWM` at the end, or a `VmRSS`
    /// sample if larger (the kernel updates `VmHWM` lazily).
    server_peak_rss_kib: u64,
    server_cpu: Duration,
    client_cpu: Duration,
    wall: Duration,
    /// `/proc/loadavg`'s one-minute figure when the run started: other
    /// work on the machine, which skews every figure of the run.
    load_average: String,
}

/// Arguments `regie bench hub` refuses before it starts anything (the
/// command line exits 2 on these, as on clap's own usage errors).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HubBenchError {
    #[error("--rate must be a positive number of lines per second, got {0}")]
    Rate(f64),
    #[error("--senders must be at least 1")]
    NoSenders,
    #[error("--viewers needs at least one positive count")]
    NoViewers,
    #[error("--repeat must be at least 1")]
    NoRepeat,
}

impl HubBench {
    /// Checks the arguments alone (no system limits), so a typo is refused
    /// before any server starts.
    pub fn validate(&self) -> Result<(), HubBenchError> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(HubBenchError::Rate(self.rate));
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
        Ok(())
    }
}

/// Runs the bench and prints each run, then a table of them all.
pub async fn run(args: HubBench) -> anyhow::Result<()> {
    args.validate()?;
    let largest = args.viewers.iter().copied().max().unwrap_or(0);
    let needed = (largest + args.senders + 256) as u64;
    let limit = open_files_limit()?;
    anyhow::ensure!(
        limit >= needed,
        "{largest} viewer sockets need about {needed} open files, the limit is {limit}: \
         raise it in the shell first (`ulimit -n 65536`, or as high as `ulimit -Hn` allows)"
    );
    let targets: &[Target] = match args.target {
        Targets::Both => &[Target::Bare, Target::Hub],
        Targets::Hub => &[Target::Hub],
        Targets::Bare => &[Target::Bare],
    };
    let exe = std::env::current_exe().context("cannot find this program to start the servers")?;
    println!(
        "regie bench hub: {} lines/s for {} per run, {} sender sockets, loopback, {} cores",
        args.rate,
        humantime::format_duration(args.duration),
        args.senders,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    let mut runs: Vec<(usize, Run)> = Vec::new();
    for &viewers in &args.viewers {
        for _ in 0..args.repeat.max(1) {
            for &target in targets {
                let run = measure(&exe, target, viewers, &args)
                    .await
                    .with_context(|| format!("{} run at {viewers} viewers", target.name()))?;
                print_run(viewers, &run);
                runs.push((viewers, run));
            }
        }
    }
    println!();
    print_table(&runs);
    Ok(())
}

async fn measure(
    exe: &std::path::Path,
    target: Target,
    viewers: usize,
    args: &HubBench,
) -> anyhow::Result<Run> {
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    let data = tempfile::tempdir().context("cannot create a temporary data dir")?;
    let mut child = ServerChild::start(exe, target, data.path()).await?;
    let config = LoadConfig {
        url: format!("ws://{}/", child.addr),
        live: "bench".into(),
        viewers,
        senders: args.senders,
        rate: args.rate,
        duration: args.duration,
        max_joining: 128,
        drain: args.drain,
        expect_acks: target == Target::Hub,
    };
    let joined = load::join(config).await?;
    let server = Process::Pid(child.pid);
    let server_memory_after_join = server.memory()?;
    let server_cpu0 = server.cpu_time()?;
    let client_cpu0 = Process::Current.cpu_time()?;
    let t0 = tokio::time::Instant::now();
    let load = joined.run().await;
    let wall = t0.elapsed();
    let server_cpu = server.cpu_time()?.saturating_sub(server_cpu0);
    let client_cpu = Process::Current.cpu_time()?.saturating_sub(client_cpu0);
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
    Ok(Run {
        target,
        load,
        server_memory_after_join,
        server_peak_rss_kib,
        server_cpu,
        client_cpu,
        wall,
        load_average,
    })
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
        "{:>4} {viewers:>5} viewers: sent {} (refused {}, unanswered {}), delivered {}/{} \
         (dropped {} on {} sockets, dup {}), {:.0} deliveries/s, latency p50 {:.2} ms p99 {:.2} ms max {:.2} ms, \
         frame {} B, server RSS {:.1} MiB after join / peak {:.1} MiB, CPU server {:.0}% client {:.0}% of one core, load average {}{}",
        r.target.name(),
        l.sent,
        l.refused,
        l.unanswered,
        l.delivered,
        l.expected_deliveries,
        l.dropped(),
        l.short_receivers,
        l.duplicates,
        l.deliveries_per_sec(),
        ms(l.latency.quantile(0.50)),
        ms(l.latency.quantile(0.99)),
        ms(l.latency.max()),
        l.mean_frame_bytes(),
        mib(r.server_memory_after_join.rss_kib),
        mib(r.server_peak_rss_kib),
        100.0 * r.server_cpu.as_secs_f64() / r.wall.as_secs_f64(),
        100.0 * r.client_cpu.as_secs_f64() / r.wall.as_secs_f64(),
        r.load_average,
        if l.disconnects.is_empty() {
            String::new()
        } else {
            format!(", disconnects {:?}", l.disconnects)
        }
    );
}

fn print_table(runs: &[(usize, Run)]) {
    println!(
        "| viewers | server | deliveries/s | p50 ms | p99 ms | max ms | dropped | peak RSS MiB | server CPU | client CPU | load avg |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (viewers, r) in runs {
        let l = &r.load;
        println!(
            "| {viewers} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.1} | {:.0}% | {:.0}% | {} |",
            r.target.name(),
            l.deliveries_per_sec(),
            ms(l.latency.quantile(0.50)),
            ms(l.latency.quantile(0.99)),
            ms(l.latency.max()),
            l.dropped(),
            mib(r.server_peak_rss_kib),
            100.0 * r.server_cpu.as_secs_f64() / r.wall.as_secs_f64(),
            100.0 * r.client_cpu.as_secs_f64() / r.wall.as_secs_f64(),
            r.load_average,
        );
    }
    let mut counts: Vec<usize> = runs.iter().map(|(v, _)| *v).collect();
    counts.dedup();
    for viewers in counts {
        let of = |target: Target| -> Vec<&Run> {
            runs.iter()
                .filter(|(v, r)| *v == viewers && r.target == target)
                .map(|(_, r)| r)
                .collect()
        };
        let (hub, bare) = (of(Target::Hub), of(Target::Bare));
        if hub.is_empty() || bare.is_empty() {
            continue;
        }
        let rate = |rs: &[&Run]| median(rs.iter().map(|r| r.load.deliveries_per_sec()));
        let p99 = |rs: &[&Run]| median(rs.iter().map(|r| ms(r.load.latency.quantile(0.99))));
        let throughput = rate(&hub) / rate(&bare).max(1.0);
        let latency = p99(&hub) / p99(&bare).max(0.001);
        let dropped: u64 = hub.iter().map(|r| r.load.dropped()).sum();
        let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
        println!(
            "\n{viewers} viewers ({} runs each, medians): hub/bare deliveries/s {:.2} (aim ≥ 0.70: {}), \
             p99 {:.2} ms / {:.2} ms = {:.2}× (aim ≤ 1.5×: {}), hub dropped {} (aim 0: {})",
            hub.len().min(bare.len()),
            throughput,
            verdict(throughput >= 0.70),
            p99(&hub),
            p99(&bare),
            latency,
            verdict(latency <= 1.5),
            dropped,
            verdict(dropped == 0),
        );
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
    }
}

/// A server child process: started with a pipe on stdin that is its
/// shutdown signal, so it also ends if this process dies. Plain
/// `std::process` with a reader thread: the child is started twice per run,
/// nothing here is on a hot path.
pub(super) struct ServerChild {
    child: Child,
    pub(super) pid: u32,
    pub(super) addr: String,
}

impl ServerChild {
    pub(super) async fn start(
        exe: &std::path::Path,
        target: Target,
        data: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let mut cmd = Command::new(exe);
        match target {
            Target::Bare => cmd.args(["bench", "serve-bare"]),
            Target::Hub => cmd
                .args(["bench", "serve-hub", "--live", "bench", "--data"])
                .arg(data),
        };
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "warn");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (line_tx, line_rx) = oneshot::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let read = reader.read_line(&mut first).map(|_| first);
            let _ = line_tx.send(read);
            // Keep draining so a chatty child never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Self {
            child,
            pid,
            addr: String::new(),
        };
        let first = match tokio::time::timeout(Duration::from_secs(30), line_rx).await {
            Ok(Ok(Ok(line))) => line,
            Ok(Ok(Err(e))) => {
                server.stop().await;
                return Err(e).context("cannot read the server's first line");
            }
            Ok(Err(_)) | Err(_) => {
                server.stop().await;
                anyhow::bail!("the server did not say where it listens within 30s");
            }
        };
        let Some(addr) = first.trim_end().strip_prefix("listening ") else {
            server.stop().await;
            anyhow::bail!("unexpected first line from the server: {first:?}");
        };
        server.addr = addr.to_owned();
        Ok(server)
    }

    /// Closes stdin (the shutdown signal) and waits a bounded time for the
    /// child to exit, then kills it.
    pub(super) async fn stop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        while tokio::time::Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            tick.tick().await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        // An early return (an error mid-run) must not leave a server behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Resolves when stdin closes: the parent bench is done (or gone). A plain
/// thread, so a blocked read never holds up the runtime's shutdown.
async fn stdin_closed() {
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
async fn listen_for_parent() -> anyhow::Result<TcpListener> {
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
/// throttle the bench's own sockets raised.
pub async fn serve_hub(data: PathBuf, live: String) -> anyhow::Result<()> {
    let mut config = crate::hub::HubConfig::new(live, data);
    // The bench's senders are viewers posting 50 lines/s each: lift the
    // per-viewer rate so the bench measures fan-out, not the limiter.
    config.settings.viewer_rate_per_sec = 100_000;
    config.settings.viewer_burst = 100_000;
    config.settings.slow_mode_secs = 0;
    // Every viewer gets every line (coalesced on the live's tick): the
    // bench counts each line at each socket.
    config.settings.delivery.chat_per_sec = 0;
    // Room for every bench socket, and a deeper send queue so a client
    // that falls briefly behind on this shared machine is not cut as slow
    // (a cut shows up as dropped deliveries and a disconnect count).
    config.limits.max_connections = 200_000;
    config.limits.send_queue_frames = config.limits.send_queue_frames.max(16_384);
    // Every bench socket is a new viewer from loopback.
    config.viewers.exempt_loopback = true;
    let listener = listen_for_parent().await?;
    crate::hub::serve(listener, config, stdin_closed()).await?;
    Ok(())
}
