//! `regie bench`: the load benchmarks ([`crate::bench`] and
//! [`crate::console::bench`]) and the hidden servers `bench hub` starts in
//! child processes.

use std::path::PathBuf;

use super::{Failed, usage};
use crate::bench::flood::{Attach, FloodBench};
use crate::bench::hub::{self, HubBench, Phase, Targets};
use crate::bench::ingest::IngestBench;
use crate::bench::redaction::RedactionBench;
use crate::console::bench::ConsoleBench;
use crate::exit::Exit;

/// `regie bench`
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Capacity: the highest chat rate the hub carries (every staff socket
    /// gets every line, no viewer is dropped, viewer p99 within the limit),
    /// next to a bare WebSocket broadcast's, with peak RSS and CPU; then
    /// the hub's CPU per ingested message, and (`--phases`) how long a
    /// redaction takes to reach the last viewer socket.
    Hub(HubBenchArgs),
    /// The hub's memory after rounds of viewers joining and leaving: RSS
    /// at baseline, with each round's viewers and after they left.
    Flood(FloodBenchArgs),
    /// The console's state and render path under a chat flood: messages/s
    /// absorbed, frame times, memory.
    Console(ConsoleBenchArgs),
    /// Hub nodes on one PostgreSQL and Redis (1, 2, 3): deliveries a
    /// second and publish-to-deliver latency across nodes.
    Cluster(ClusterBenchArgs),
    /// Internal: the hub as `bench hub` runs it, in a child process.
    #[command(hide = true)]
    ServeHub(ServeHubArgs),
    /// Internal: one node of `bench cluster`, in a child process.
    #[command(hide = true)]
    ServeNode(ServeNodeArgs),
    /// Internal: the bare broadcast baseline, in a child process.
    #[command(hide = true)]
    ServeBare,
}

/// `regie bench hub`
#[derive(Debug, clap::Args)]
pub struct HubBenchArgs {
    /// Receiving viewer sockets, one capacity search per count
    /// (comma-separated; e.g. 1000,5000,20000,50000).
    #[arg(long, value_delimiter = ',', default_value = "1000,5000")]
    pub viewers: Vec<usize>,
    /// Receiving staff sockets; each must get every line.
    #[arg(long, default_value_t = 2)]
    pub staff: usize,
    /// The search's first rate, in chat lines per second across all senders.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// The highest rate the search tries.
    #[arg(long, default_value_t = 6400.0)]
    pub max_rate: f64,
    /// Bisection steps between the last carried and the first failed rate.
    #[arg(long, default_value_t = 2)]
    pub steps: usize,
    /// How long the senders send, per trial.
    #[arg(long, default_value = "3s")]
    pub duration: humantime::Duration,
    /// Sender sockets (viewers whose rate limit the bench hub raises).
    #[arg(long, default_value_t = 4)]
    pub senders: usize,
    /// Which servers to measure.
    #[arg(long, value_enum, default_value_t = TargetArg::Both)]
    pub target: TargetArg,
    /// Longest wait for the last deliveries after the last line; what has
    /// not arrived by then counts as missed.
    #[arg(long, default_value = "3s")]
    pub drain: humantime::Duration,
    /// Trials per rate; a rate is carried only if all of them pass.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// The highest viewer p99 latency a carried rate may have.
    #[arg(long, default_value = "250ms")]
    pub p99_limit: humantime::Duration,
    /// The hub's send queue per connection, in frames (default: the
    /// production value, 1,024).
    #[arg(long)]
    pub send_queue: Option<usize>,
    /// Keep the hub's default viewer sampling on, so viewers may miss
    /// lines and only staff sockets must get every line (without it, the
    /// bench hub sends every line to every viewer).
    #[arg(long)]
    pub sampled_viewers: bool,
    /// One viewer socket in this many reads every line for latency; the
    /// others only count lines, to keep the generator cheap.
    #[arg(long, default_value_t = 25)]
    pub probe_every: usize,
    /// What to run, in order: `capacity` (the search), `ingest` (hub
    /// CPU-seconds per 100,000 ingested messages, and µs per message, from
    /// staff senders to one staff reader), `redaction` (send → tombstone
    /// on the last viewer socket, p50/p99/max, on the production delivery
    /// policy).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "capacity,ingest"
    )]
    pub phases: Vec<PhaseArg>,
    /// Ingest phase: chat lines in all.
    #[arg(long, default_value_t = 30_000)]
    pub ingest_messages: u64,
    /// Ingest phase: lines a second, across the staff senders.
    #[arg(long, default_value_t = 1000.0)]
    pub ingest_rate: f64,
    /// Ingest phase: staff sender sockets.
    #[arg(long, default_value_t = 4)]
    pub ingest_senders: usize,
    /// Redaction phase: viewer sockets, each of which must get every
    /// tombstone.
    #[arg(long, default_value_t = 5000)]
    pub redaction_viewers: usize,
    /// Redaction phase: viewer chat lines a second meanwhile.
    #[arg(long, default_value_t = 200.0)]
    pub redaction_rate: f64,
    /// Redaction phase: redactions timed.
    #[arg(long, default_value_t = 40)]
    pub redactions: usize,
    /// Redaction phase: one redaction every this long.
    #[arg(long, default_value = "1s")]
    pub redaction_every: humantime::Duration,
    /// The hub's group-commit window (how long its actor gathers commands
    /// into one transaction; 0 commits what is queued at once). Default:
    /// the production value.
    #[arg(long)]
    pub commit_window: Option<humantime::Duration>,
    /// The viewers' delivery tick (10 ms to the policy's most; default:
    /// the live's, 100 ms): a longer tick sends each viewer fewer, larger
    /// frames.
    #[arg(long)]
    pub viewer_tick: Option<humantime::Duration>,
}

/// `--phases`: the command line's spelling of [`Phase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PhaseArg {
    Capacity,
    Ingest,
    Redaction,
}

/// `regie bench flood`
#[derive(Debug, clap::Args)]
pub struct FloodBenchArgs {
    /// Viewers joining, then leaving, per round.
    #[arg(long, default_value_t = 3000)]
    pub viewers: usize,
    /// Rounds of joining and leaving.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Viewers per round that post one chat line before leaving.
    #[arg(long, default_value_t = 50)]
    pub talkers: usize,
    /// The same viewers every round (returning viewers), instead of a new
    /// audience each round.
    #[arg(long)]
    pub same_viewers: bool,
    /// Wait after everyone left before reading the hub's memory (at least
    /// one viewers-online tick, when the hub trims its caches).
    #[arg(long, default_value = "3s")]
    pub settle: humantime::Duration,
    /// Flood a hub that is already running (`regie serve`, or one under a
    /// heap profiler) at this address, instead of starting one.
    #[arg(long, requires = "pid")]
    pub attach: Option<String>,
    /// The attached hub's process id, to read its memory from `/proc`.
    #[arg(long, requires = "attach")]
    pub pid: Option<u32>,
    /// The attached hub's live.
    #[arg(long, default_value = "show", requires = "attach")]
    pub live: String,
}

impl From<FloodBenchArgs> for FloodBench {
    fn from(args: FloodBenchArgs) -> Self {
        FloodBench {
            viewers: args.viewers,
            rounds: args.rounds,
            talkers: args.talkers,
            same_viewers: args.same_viewers,
            settle: args.settle.into(),
            attach: args.attach.zip(args.pid).map(|(addr, pid)| Attach {
                addr,
                pid,
                live: args.live,
            }),
        }
    }
}

/// `--target`: the command line's spelling of [`Targets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetArg {
    Both,
    Hub,
    Bare,
}

impl From<HubBenchArgs> for HubBench {
    fn from(args: HubBenchArgs) -> Self {
        HubBench {
            viewers: args.viewers,
            staff: args.staff,
            rate: args.rate,
            max_rate: args.max_rate,
            steps: args.steps,
            duration: args.duration.into(),
            senders: args.senders,
            target: match args.target {
                TargetArg::Both => Targets::Both,
                TargetArg::Hub => Targets::Hub,
                TargetArg::Bare => Targets::Bare,
            },
            drain: args.drain.into(),
            repeat: args.repeat,
            p99_limit: args.p99_limit.into(),
            send_queue: args.send_queue,
            sampled_viewers: args.sampled_viewers,
            probe_every: args.probe_every,
            phases: args
                .phases
                .iter()
                .map(|p| match p {
                    PhaseArg::Capacity => Phase::Capacity,
                    PhaseArg::Ingest => Phase::Ingest,
                    PhaseArg::Redaction => Phase::Redaction,
                })
                .collect(),
            ingest: IngestBench {
                messages: args.ingest_messages,
                rate: args.ingest_rate,
                senders: args.ingest_senders,
            },
            redaction: RedactionBench {
                viewers: args.redaction_viewers,
                rate: args.redaction_rate,
                senders: args.senders,
                redactions: args.redactions,
                every: args.redaction_every.into(),
            },
            commit_window: args.commit_window.map(Into::into),
            viewer_tick: args.viewer_tick.map(Into::into),
        }
    }
}

/// `regie bench cluster`
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterBenchArgs {
    /// The nodes' store: a PostgreSQL URL (each run makes a live of its own).
    #[arg(long, value_name = "URL", env = "REGIE_BENCH_POSTGRES")]
    pub store: String,
    /// The bus: a Redis URL.
    #[arg(long, value_name = "URL", env = "REGIE_BENCH_REDIS")]
    pub bus: String,
    /// Node counts, one run each (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub nodes: Vec<usize>,
    /// Receiving viewer sockets, spread over the nodes that read.
    #[arg(long, default_value_t = 1000)]
    pub viewers: usize,
    /// Receiving staff sockets.
    #[arg(long, default_value_t = 2)]
    pub staff: usize,
    /// Chat lines a second, across the senders (on the first node).
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 4)]
    pub senders: usize,
    /// How long the senders send, per run.
    #[arg(long, default_value = "5s")]
    pub duration: humantime::Duration,
}

impl From<ClusterBenchArgs> for crate::bench::cluster::ClusterBench {
    fn from(a: ClusterBenchArgs) -> Self {
        Self {
            store: a.store,
            bus: a.bus,
            nodes: a.nodes,
            viewers: a.viewers,
            staff: a.staff,
            rate: a.rate,
            senders: a.senders,
            duration: a.duration.into(),
        }
    }
}

/// Hidden: `regie bench serve-node`, one node of `bench cluster`.
#[derive(Debug, clap::Args)]
pub struct ServeNodeArgs {
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long)]
    pub live: String,
    #[arg(long)]
    pub store: String,
    #[arg(long)]
    pub bus: String,
    #[arg(long)]
    pub node: String,
}

/// Hidden: `regie bench serve-hub`, the hub as the bench runs it.
#[derive(Debug, clap::Args)]
pub struct ServeHubArgs {
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, default_value = "bench")]
    pub live: String,
    #[arg(long)]
    pub send_queue: Option<usize>,
    #[arg(long)]
    pub sampled_viewers: bool,
    #[arg(long)]
    pub commit_window: Option<humantime::Duration>,
    #[arg(long)]
    pub viewer_tick: Option<humantime::Duration>,
}

/// `regie bench console`
#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleBenchArgs {
    /// Messages per second fed in the paced phase.
    #[arg(long, default_value_t = 10_000)]
    pub rate: u64,
    /// Length of the paced and flat-out phases (each).
    #[arg(long, default_value = "5s")]
    pub duration: humantime::Duration,
    /// Messages kept in the feed (and pre-filled).
    #[arg(long, default_value_t = 50_000)]
    pub retained: usize,
    /// Width of the simulated terminal, in columns.
    #[arg(long, default_value_t = 200)]
    pub width: u16,
    /// Height of the simulated terminal, in rows.
    #[arg(long, default_value_t = 50)]
    pub height: u16,
    /// Redraws per second, as the real loop's tick.
    #[arg(long, default_value_t = 60)]
    pub fps: u32,
    /// Skip the flat-out phase (to profile the paced one alone).
    #[arg(long)]
    pub no_flat_out: bool,
}

impl From<ConsoleBenchArgs> for ConsoleBench {
    fn from(args: ConsoleBenchArgs) -> Self {
        ConsoleBench {
            rate: args.rate,
            duration: args.duration.into(),
            retained: args.retained,
            width: args.width,
            height: args.height,
            fps: args.fps,
            no_flat_out: args.no_flat_out,
        }
    }
}

pub async fn run(args: BenchArgs) -> Result<Exit, Failed> {
    match args.command {
        BenchCommand::Hub(args) => {
            let bench = HubBench::from(args);
            bench.validate().map_err(usage)?;
            hub::run(bench).await?;
        }
        BenchCommand::Flood(args) => crate::bench::flood::run(args.into()).await?,
        BenchCommand::Console(args) => crate::console::bench::run(args.into())?,
        BenchCommand::ServeHub(args) => {
            crate::telemetry::to_stderr();
            let options = crate::bench::ChildOptions {
                send_queue: args.send_queue,
                sampled_viewers: args.sampled_viewers,
                commit_window: args.commit_window.map(Into::into),
                viewer_tick: args.viewer_tick.map(Into::into),
            };
            hub::serve_hub(args.data, args.live, options).await?;
        }
        BenchCommand::ServeBare => hub::serve_bare().await?,
        BenchCommand::Cluster(args) => crate::bench::cluster::run(args.into()).await?,
        BenchCommand::ServeNode(a) => {
            crate::telemetry::to_stderr();
            crate::bench::cluster::serve_node(a.data, a.live, a.store, a.bus, a.node).await?;
        }
    }
    Ok(Exit::Success)
}
