//! `regie bench flood`: the hub's memory after rounds of viewers joining and
//! leaving. Each round joins N fresh viewers (hello, welcome), lets a few of
//! them post a chat line, closes every socket, waits until the hub's
//! `/metrics` counts no joined connection, lets one viewers-online tick pass
//! (the hub trims its caches on it), then reads the hub child's `VmRSS` and
//! `VmHWM`. A hub that frees what a connection held comes back to about the
//! same RSS after every round; one that retains per-connection state grows
//! round after round. `docs/memory.md` has the figures.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::child::{ChildOptions, ServerChild, Target};
use super::load::wait_for;
use super::resources::{Memory, Process, open_files_limit};
use crate::crowd::viewer::Socket;
use crate::protocol::{
    Auth, ClientFrame, Command, CommandFrame, CommandId, Contact, Hello, PROTOCOL_VERSION,
    ServerFrame,
};

/// What `regie bench flood` does.
#[derive(Debug, Clone)]
pub struct FloodBench {
    /// Viewers joining (then leaving) per round.
    pub viewers: usize,
    pub rounds: usize,
    /// Viewers per round that post one chat line before leaving.
    pub talkers: usize,
    /// The same viewers every round, presenting the passes their first
    /// round was issued (returning viewers), instead of fresh ones (a new
    /// audience each round).
    pub same_viewers: bool,
    /// Wait after everyone left, before reading memory: at least one
    /// viewers-online tick (2 s), on which the hub trims its caches.
    pub settle: Duration,
    /// Flood this running hub instead of starting one: its address, pid
    /// (for `/proc`) and live. A `regie serve` (or one under a heap
    /// profiler) then gets the same rounds.
    pub attach: Option<Attach>,
}

/// A hub the bench did not start.
#[derive(Debug, Clone)]
pub struct Attach {
    pub addr: String,
    pub pid: u32,
    pub live: String,
}

/// One round's figures, server side.
struct Round {
    joined: usize,
    after_join: Memory,
    after_leave: Memory,
}

pub async fn run(args: FloodBench) -> anyhow::Result<()> {
    anyhow::ensure!(args.viewers > 0, "--viewers must be at least 1");
    anyhow::ensure!(args.rounds > 0, "--rounds must be at least 1");
    let needed = (args.viewers + 256) as u64;
    let limit = open_files_limit()?;
    anyhow::ensure!(
        limit >= needed,
        "{} viewer sockets need about {needed} open files, the limit is {limit}: \
         raise it in the shell first (`ulimit -n 65536`)",
        args.viewers
    );
    let data = tempfile::tempdir().context("cannot create a temporary data dir")?;
    let (mut child, hub) = if let Some(a) = &args.attach {
        (None, a.clone())
    } else {
        let exe = std::env::current_exe().context("cannot find this program to start the hub")?;
        let child =
            ServerChild::start(&exe, Target::Hub, data.path(), &ChildOptions::default()).await?;
        let hub = Attach {
            addr: child.addr.to_string(),
            pid: child.pid,
            live: "bench".into(),
        };
        (Some(child), hub)
    };
    let server = Process::Pid(hub.pid);
    println!(
        "regie bench flood: {} rounds of {} {} viewers joining and leaving ({} talk), hub pid {}",
        args.rounds,
        args.viewers,
        if args.same_viewers {
            "returning"
        } else {
            "fresh"
        },
        args.talkers.min(args.viewers),
        hub.pid
    );
    tokio::time::sleep(args.settle).await;
    let baseline = server.memory()?;
    println!("baseline: RSS {:.1} MiB", mib(baseline.rss_kib));
    let mut rounds = Vec::new();
    // Returning viewers present the passes their first round was issued.
    let passes = Arc::new(std::sync::Mutex::new(vec![None; args.viewers]));
    for round in 1..=args.rounds {
        let r = flood_round(&hub, server, round, &args, &passes).await?;
        println!(
            "round {round}: {} joined, RSS {:.1} MiB with them, {:.1} MiB after they left, peak {:.1} MiB",
            r.joined,
            mib(r.after_join.rss_kib),
            mib(r.after_leave.rss_kib),
            mib(r.after_leave.peak_rss_kib)
        );
        rounds.push(r);
    }
    if let Some(child) = &mut child {
        child.stop().await;
    }
    print_table(baseline, &rounds);
    Ok(())
}

async fn flood_round(
    hub: &Attach,
    server: Process,
    round: usize,
    args: &FloodBench,
    passes: &Arc<std::sync::Mutex<Vec<Option<String>>>>,
) -> anyhow::Result<Round> {
    let url = format!("ws://{}/", hub.addr);
    let (leave, leave_rx) = watch::channel(false);
    let joining = Arc::new(Semaphore::new(128));
    let mut tasks = Vec::with_capacity(args.viewers);
    let mut ready = Vec::with_capacity(args.viewers);
    for i in 0..args.viewers {
        let returning = args.same_viewers;
        let passes = Arc::clone(passes);
        // A new command id each round: the same one would be a retry,
        // answered from the recorded outcome.
        let talk = (i < args.talkers).then(|| format!("flood-{round}"));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (url, joining, leave_rx) = (url.clone(), Arc::clone(&joining), leave_rx.clone());
        let live = hub.live.clone();
        tasks.push(tokio::spawn(async move {
            let permit = joining.acquire_owned().await;
            let pass = if returning {
                passes.lock().ok().and_then(|p| p.get(i).cloned().flatten())
            } else {
                None
            };
            match viewer(&url, &live, pass, talk).await {
                Ok((ws, issued)) => {
                    if returning
                        && issued.is_some()
                        && let Ok(mut p) = passes.lock()
                        && let Some(slot) = p.get_mut(i)
                    {
                        *slot = issued;
                    }
                    drop(permit);
                    let _ = ready_tx.send(Ok(()));
                    stay_then_leave(ws, leave_rx).await;
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        }));
        ready.push(ready_rx);
    }
    let mut joined = 0;
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    for r in ready {
        match r.await {
            Ok(Ok(())) => joined += 1,
            Ok(Err(e)) => *failures.entry(e).or_default() += 1,
            Err(_) => *failures.entry("task ended".into()).or_default() += 1,
        }
    }
    if !failures.is_empty() {
        eprintln!("round {round}: join failures {failures:?}");
    }
    let after_join = server.memory()?;
    let _ = leave.send(true);
    for t in tasks {
        let _ = t.await;
    }
    wait_for_no_viewers(&hub.addr).await?;
    tokio::time::sleep(args.settle).await;
    Ok(Round {
        joined,
        after_join,
        after_leave: server.memory()?,
    })
}

/// Joins as a viewer; a talker posts one chat line and waits for its ack.
/// Returns the socket and the pass the hub issued, if it issued one.
async fn viewer(
    url: &str,
    live: &str,
    pass: Option<String>,
    talk: Option<String>,
) -> Result<(Socket, Option<String>), String> {
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let mut ws = crate::tls::connect(url, &crate::tls::ClientTls::default(), Some(config))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let hello = ClientFrame::Hello(Hello {
        version: PROTOCOL_VERSION,
        live: live.to_owned(),
        auth: Auth::Viewer {
            first_name: "Flo".into(),
            pseudonym: None,
            pass,
            token: None,
            contact: Contact::default(),
        },
        resume: None,
    });
    send(&mut ws, &hello).await?;
    let issued = std::sync::Mutex::new(None);
    wait_for(&mut ws, |f| match f {
        ServerFrame::Welcome(w) => {
            if let Ok(mut slot) = issued.lock() {
                slot.clone_from(&w.pass);
            }
            true
        }
        _ => false,
    })
    .await?;
    if let Some(id) = talk {
        let say = ClientFrame::Command(CommandFrame {
            id: CommandId(id),
            command: Command::Say {
                text: "Bonsoir tout le monde, elle existe en bleu ?".into(),
                question: false,
                announcement: false,
            },
        });
        send(&mut ws, &say).await?;
        wait_for(&mut ws, |f| matches!(f, ServerFrame::Ack { .. })).await?;
    }
    Ok((ws, issued.into_inner().ok().flatten()))
}

async fn send(ws: &mut Socket, frame: &ClientFrame) -> Result<(), String> {
    let text = serde_json::to_string(frame).map_err(|e| e.to_string())?;
    ws.send(Message::text(text))
        .await
        .map_err(|e| format!("send: {e}"))
}

/// Reads (and drops) what the hub sends until told to leave, then closes
/// and waits for the hub's close (10 s at most).
async fn stay_then_leave(mut ws: Socket, mut leave: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = leave.wait_for(|l| *l) => break,
            msg = ws.next() => if !matches!(msg, Some(Ok(_))) { return },
        }
    }
    let _ = ws.close(None).await;
    let _ = timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// Polls the hub's `/metrics` until no viewer connection is counted (30 s
/// at most): every connection task has ended and told the actor.
async fn wait_for_no_viewers(addr: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        let text = http_get(addr, "/metrics").await?;
        let viewers = text
            .lines()
            .find_map(|l| l.strip_prefix("regie_connections{role=\"viewer\"} "))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if viewers == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the hub still counts {viewers} viewers 30 s after they left"
        );
    }
}

/// A plain HTTP/1.1 GET, for `/metrics` on loopback.
async fn http_get(addr: &str, path: &str) -> anyhow::Result<String> {
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot reach {addr}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await?;
    let mut body = String::new();
    timeout(Duration::from_secs(10), tcp.read_to_string(&mut body))
        .await
        .context("no answer from /metrics in 10 s")??;
    Ok(body)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn print_table(baseline: Memory, rounds: &[Round]) {
    println!("\n| round | joined | RSS with them MiB | RSS after leaving MiB | peak MiB |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| 0 (baseline) | 0 | | {:.1} | {:.1} |",
        mib(baseline.rss_kib),
        mib(baseline.peak_rss_kib)
    );
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} |",
            i + 1,
            r.joined,
            mib(r.after_join.rss_kib),
            mib(r.after_leave.rss_kib),
            mib(r.after_leave.peak_rss_kib)
        );
    }
    if let (Some(first), Some(last)) = (rounds.first(), rounds.last()) {
        let growth = last.after_leave.rss_kib as f64 - first.after_leave.rss_kib as f64;
        println!(
            "\nafter leaving: round 1 {:.1} MiB, round {} {:.1} MiB ({:+.1} MiB), baseline {:.1} MiB",
            mib(first.after_leave.rss_kib),
            rounds.len(),
            mib(last.after_leave.rss_kib),
            growth / 1024.0,
            mib(baseline.rss_kib)
        );
    }
}
