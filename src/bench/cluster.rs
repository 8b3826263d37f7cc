//! `regie bench cluster`: hub nodes on one PostgreSQL and one Redis, on
//! this machine. For 1, 2 and 3 nodes (or the counts asked), the same load:
//! senders post on the first node, and the receiving sockets read on the
//! others (on the first when it is alone), so every measured delivery
//! crossed the bus: committed on node 1, published on Redis, followed and
//! fanned out by its node. Prints deliveries a second, what was dropped,
//! publish-to-deliver latency (viewer probes and staff), and each node's
//! CPU.
//!
//! On one machine the nodes share its cores with PostgreSQL, Redis and the
//! load generator, so more nodes cannot mean more capacity here; what the
//! figures show is the cost of the bus per node, and the latency it adds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use super::child::{ServerChild, staff_token};
use super::hub::{bench_config, listen_for_parent, stdin_closed};
use super::load::{self, LoadConfig, LoadResult};
use super::resources::{Process, machine_busy_time};

/// What `regie bench cluster` runs.
#[derive(Debug, Clone)]
pub struct ClusterBench {
    /// `postgres://…`: every node's store (a fresh live per run).
    pub store: String,
    /// `redis://…`: the bus.
    pub bus: String,
    /// Node counts, one run each.
    pub nodes: Vec<usize>,
    /// Receiving viewer sockets, across the reading nodes.
    pub viewers: usize,
    /// Receiving staff sockets (each must get every line).
    pub staff: usize,
    /// Chat lines a second, across the senders.
    pub rate: f64,
    pub senders: usize,
    pub duration: Duration,
}

pub async fn run(bench: ClusterBench) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the regie executable")?;
    println!(
        "bench cluster: {} viewers + {} staff reading, {} lines/s from {} senders for {:?}; \
         store and bus on this machine",
        bench.viewers, bench.staff, bench.rate, bench.senders, bench.duration
    );
    println!(
        "{:>5} {:>14} {:>9} {:>9} {:>13} {:>13} {:>11}  node CPU-s",
        "nodes", "deliveries/s", "dropped", "closed", "viewer p50/99", "staff p50/99", "machine %"
    );
    for &n in &bench.nodes {
        let run = measure(&exe, n.max(1), &bench).await?;
        print_run(n.max(1), &run);
    }
    println!(
        "(latency: the line's send on node 1 to its arrival on a socket of another node; \
         with one node, on that node)"
    );
    Ok(())
}

struct Run {
    load: LoadResult,
    node_cpu: Vec<Duration>,
    machine_share: f64,
}

async fn measure(exe: &Path, n: usize, bench: &ClusterBench) -> anyhow::Result<Run> {
    let dirs = tempfile::tempdir().context("cannot create the nodes' data dirs")?;
    let live = fresh_live_name(n)?;
    let mut nodes = Vec::new();
    for i in 0..n {
        let data = dirs.path().join(format!("node-{i}"));
        std::fs::create_dir_all(&data)?;
        if i > 0 {
            for key in crate::hub::bus::SHARED_KEY_FILES {
                std::fs::copy(dirs.path().join("node-0").join(key), data.join(key))
                    .with_context(|| format!("cannot share {key} with node {i}"))?;
            }
        }
        let mut cmd = Command::new(exe);
        cmd.args(["bench", "serve-node", "--live", &live, "--data"])
            .arg(&data)
            .args(["--store", &bench.store, "--bus", &bench.bus])
            .args(["--node", &format!("bench-node-{i}")])
            .stdin(Stdio::piped());
        nodes.push(ServerChild::spawn(cmd, exe).await?);
    }
    let token = staff_token(
        &dirs.path().join("node-0"),
        crate::protocol::StaffRole::Moderator,
        &live,
    )?;
    let readers: Vec<_> = if n == 1 {
        vec![nodes[0].addr]
    } else {
        nodes[1..].iter().map(|c| c.addr).collect()
    };
    let config = LoadConfig {
        server: nodes[0].addr,
        receivers_on: readers,
        live: live.clone(),
        viewers: bench.viewers,
        staff: bench.staff,
        staff_token: token,
        // Not a multiple of 2 or 3: probes land on every reading node.
        probe_every: 7,
        sockets_per_source: 20_000,
        senders: bench.senders,
        staff_senders: false,
        rate: bench.rate,
        duration: bench.duration,
        lines: None,
        max_joining: 128,
        drain: Duration::from_secs(5),
        expect_acks: true,
    };
    let joined = load::join(config).await?;
    let processes: Vec<Process> = nodes.iter().map(|c| Process::Pid(c.pid)).collect();
    let cpu0 = processes
        .iter()
        .map(|p| p.cpu_time())
        .collect::<Result<Vec<_>, _>>()?;
    let machine0 = machine_busy_time()?;
    let t0 = tokio::time::Instant::now();
    let load = joined.run().await;
    let wall = t0.elapsed();
    let node_cpu = processes
        .iter()
        .zip(&cpu0)
        .map(|(p, before)| p.cpu_time().map(|t| t.saturating_sub(*before)))
        .collect::<Result<Vec<_>, _>>()?;
    let busy = machine_busy_time()?.saturating_sub(machine0);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as f64;
    let machine_share = 100.0 * busy.as_secs_f64() / (wall.as_secs_f64() * cores).max(1e-9);
    for node in &mut nodes {
        node.stop().await;
    }
    Ok(Run {
        load,
        node_cpu,
        machine_share,
    })
}

/// A live of its own per run, so runs never meet in the shared store.
fn fresh_live_name(n: usize) -> anyhow::Result<String> {
    let mut raw = [0u8; 4];
    crate::auth::secret_file::os_random(&mut raw)?;
    Ok(format!("bench-{n}-nodes-{}", crate::hex(&raw)))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_run(n: usize, run: &Run) {
    let l = &run.load;
    let cpu: Vec<String> = run
        .node_cpu
        .iter()
        .map(|c| format!("{:.1}", c.as_secs_f64()))
        .collect();
    println!(
        "{n:>5} {:>14.0} {:>9} {:>9} {:>6.1}/{:<6.1} {:>6.1}/{:<6.1} {:>10.0}%  {}",
        l.deliveries_per_sec(),
        l.dropped(),
        l.viewers_closed + l.staff_closed,
        ms(l.latency.quantile(0.50)),
        ms(l.latency.quantile(0.99)),
        ms(l.staff_latency.quantile(0.50)),
        ms(l.staff_latency.quantile(0.99)),
        run.machine_share,
        cpu.join(" ")
    );
}

/// `regie bench serve-node`: one hub node of the bench's cluster, with the
/// bench's raised limits, on the shared store and bus.
pub async fn serve_node(
    data: PathBuf,
    live: String,
    store: String,
    bus: String,
    node: String,
) -> anyhow::Result<()> {
    let mut config = bench_config(data.clone(), live, &super::child::ChildOptions::default());
    config.bus = Some(crate::hub::BusConfig { url: bus, node });
    let keys = crate::store::contact::KeySource::Dir(data.clone());
    let opened = tokio::task::spawn_blocking(move || {
        crate::auth::secret_file::ensure_data_dir(&data)?;
        // Every key made before "listening": the next node copies them.
        crate::auth::SigningKey::load_or_create(&data)?;
        crate::hub::identity::ViewerIdentity::load_or_create(&data)?;
        crate::hub::fingerprint::CommandFingerprints::load_or_create(&data)?;
        crate::store::PostgresStore::open(&store, keys).map_err(anyhow::Error::from)
    })
    .await
    .context("opening the store stopped")??;
    let listener = listen_for_parent().await?;
    crate::hub::serve_with_store(listener, config, Box::new(opened), stdin_closed()).await?;
    Ok(())
}
