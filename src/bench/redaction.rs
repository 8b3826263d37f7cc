//! `regie bench hub`'s redaction phase: how long a redaction takes to
//! reach the last viewer socket of a busy show.
//!
//! Thousands of viewer sockets read the live on the production delivery
//! policy (a tick, viewer chat sampled above its rate) while viewer
//! senders keep the chat going. A support member posts a staff line,
//! which every viewer is sent, and redacts it a moment later; the time
//! from sending `redact` to the tombstone's arrival on the last viewer
//! socket is that redaction's reach. Each viewer socket notes when each
//! tombstone arrived (a substring scan, [`super::load::tombstones`]); the
//! reach is computed once everything is over.

use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;

use super::child::{ChildOptions, ServerChild, Target, staff_token};
use super::latency::LatencyHistogram;
use super::load::{self, LoadConfig};
use super::resources::Process;
use crate::crowd::viewer::Socket;
use crate::protocol::{
    Auth, ClientFrame, Command, CommandFrame, CommandId, Event, MessageId, ServerFrame, StaffRole,
    parse_server_frame,
};

/// What the redaction phase offers.
#[derive(Debug, Clone)]
pub struct RedactionBench {
    /// Viewer sockets that must each get every tombstone.
    pub viewers: usize,
    /// Viewer chat lines a second, across the senders.
    pub rate: f64,
    /// Viewer sender sockets.
    pub senders: usize,
    /// Redactions to time.
    pub redactions: usize,
    /// One redaction every this long.
    pub every: Duration,
}

/// What it measured.
pub(super) struct Reached {
    /// Per redaction: send to the last viewer socket's receipt.
    reach: LatencyHistogram,
    /// Send to the first viewer socket's receipt.
    first_viewer: LatencyHistogram,
    /// Send to the staff reader's receipt: the hub's decide and commit,
    /// before any fan-out to viewers.
    staff: LatencyHistogram,
    /// Redactions that did not reach every viewer socket.
    short: usize,
    /// Redactions the hub did not ack.
    refused: usize,
    chat_per_sec: f64,
    viewers_closed: u64,
    hub_cpu_share: f64,
    generator_cpu_share: f64,
}

/// One redaction as the redactor did it.
struct Redaction {
    message: MessageId,
    /// Since the run's origin.
    sent: Duration,
    acked: bool,
}

/// Runs the phase once against a fresh hub child.
pub(super) async fn run(
    exe: &std::path::Path,
    bench: &RedactionBench,
    options: &ChildOptions,
    drain: Duration,
) -> anyhow::Result<Reached> {
    let data = tempfile::tempdir().context("cannot create a temporary data dir")?;
    let reader = staff_token(data.path(), StaffRole::Moderator, "bench")?;
    // An admin: support may redact but not post, a host may post but not
    // redact.
    let redactor_token = staff_token(data.path(), StaffRole::Admin, "bench")?;
    let mut child = ServerChild::start(exe, Target::Hub, data.path(), options).await?;
    let config = LoadConfig {
        server: child.addr,
        receivers_on: Vec::new(),
        live: "bench".into(),
        viewers: bench.viewers,
        staff: 1,
        staff_token: reader,
        probe_every: 25,
        sockets_per_source: 20_000,
        senders: bench.senders,
        staff_senders: false,
        rate: bench.rate,
        // The chat goes on a little past the last redaction.
        duration: bench.every * u32::try_from(bench.redactions + 2).unwrap_or(u32::MAX),
        lines: None,
        max_joining: 128,
        drain,
        expect_acks: true,
    };
    let joined = load::join(config.clone()).await?;
    let mut redactor = load::join_one(
        &config,
        load::reserve_sources(1, config.sockets_per_source),
        0,
        Auth::Staff {
            token: redactor_token,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("the redactor could not join: {e}"))?;
    let origin = joined.origin();
    let hub = Process::Pid(child.pid);
    let hub0 = hub.cpu_time()?;
    let generator0 = Process::Current.cpu_time()?;
    let t0 = Instant::now();
    let (result, redactions) = tokio::join!(
        joined.run(),
        redact(&mut redactor, bench, origin, t0 + bench.every)
    );
    let wall = t0.elapsed().as_secs_f64().max(1e-9);
    let hub_cpu = hub.cpu_time()?.saturating_sub(hub0);
    let generator_cpu = Process::Current.cpu_time()?.saturating_sub(generator0);
    drop(redactor);
    child.stop().await;
    let redactions = redactions?;
    let mut reach = LatencyHistogram::default();
    let mut first_viewer = LatencyHistogram::default();
    let mut staff = LatencyHistogram::default();
    let mut short = 0;
    for r in redactions.iter().filter(|r| r.acked) {
        match result.tombstones.get(&r.message.0) {
            Some(got) if got.sockets >= bench.viewers as u64 => {
                reach.record(got.last.saturating_sub(r.sent));
                first_viewer.record(got.first.saturating_sub(r.sent));
            }
            _ => short += 1,
        }
        if let Some(at) = result.staff_tombstones.get(&r.message.0) {
            staff.record(at.saturating_sub(r.sent));
        }
    }
    Ok(Reached {
        reach,
        first_viewer,
        staff,
        short,
        refused: redactions.iter().filter(|r| !r.acked).count(),
        chat_per_sec: result.sent_per_sec(),
        viewers_closed: result.viewers_closed,
        hub_cpu_share: 100.0 * hub_cpu.as_secs_f64() / wall,
        generator_cpu_share: 100.0 * generator_cpu.as_secs_f64() / wall,
    })
}

/// The redacting staff member: every `bench.every`, a staff line, then (half a
/// period later, once viewers have been sent it) its redaction.
async fn redact(
    ws: &mut Socket,
    bench: &RedactionBench,
    origin: Instant,
    start: Instant,
) -> anyhow::Result<Vec<Redaction>> {
    let mut done = Vec::with_capacity(bench.redactions);
    for n in 0..bench.redactions {
        let at = start + bench.every * u32::try_from(n).unwrap_or(u32::MAX);
        sleep_until(at).await;
        let text = format!("Rappel {n} : la livraison est offerte ce soir");
        let say = CommandId(format!("say-{n}"));
        send(
            ws,
            say.clone(),
            Command::Say {
                text: text.clone(),
                question: false,
                announcement: false,
            },
        )
        .await?;
        let message = read_until(ws, |f| match f {
            ServerFrame::Event(e) => match &e.event {
                Event::Message { message } if message.text == text => Some(message.id),
                _ => None,
            },
            _ => None,
        })
        .await
        .with_context(|| format!("staff line {n} never came back"))?;
        sleep_until(at + bench.every / 2).await;
        let id = CommandId(format!("redact-{n}"));
        let sent = origin.elapsed();
        send(
            ws,
            id.clone(),
            Command::Redact {
                message_id: message,
                reason: "bench".into(),
            },
        )
        .await?;
        let acked = read_until(ws, |f| match f {
            ServerFrame::Ack { id: acked, .. } if *acked == id => Some(true),
            ServerFrame::Error(e) if e.id.as_ref() == Some(&id) => Some(false),
            _ => None,
        })
        .await
        .with_context(|| format!("redaction {n} was never answered"))?;
        done.push(Redaction {
            message,
            sent,
            acked,
        });
    }
    Ok(done)
}

async fn send(ws: &mut Socket, id: CommandId, command: Command) -> anyhow::Result<()> {
    let text = serde_json::to_string(&ClientFrame::Command(CommandFrame { id, command }))?;
    ws.send(Message::text(text))
        .await
        .context("the redactor's socket closed")
}

/// Reads the redactor's socket until `pick` finds what it waits for (30 s
/// at most).
async fn read_until<T>(
    ws: &mut Socket,
    pick: impl Fn(&ServerFrame) -> Option<T>,
) -> anyhow::Result<T> {
    let read = async {
        while let Some(msg) = ws.next().await {
            if let Message::Text(text) = msg? {
                // Only frames that can be the answer are parsed: the
                // socket also gets the whole chat.
                if !text.contains("Rappel")
                    && !text.starts_with(r#"{"type":"ack""#)
                    && !text.starts_with(r#"{"type":"error""#)
                {
                    continue;
                }
                if let Some(found) = parse_server_frame(&text).ok().as_ref().and_then(&pick) {
                    return Ok(found);
                }
            }
        }
        anyhow::bail!("the redactor's socket closed")
    };
    timeout(Duration::from_secs(30), read)
        .await
        .context("no answer in 30 s")?
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One line of figures.
pub(super) fn print(bench: &RedactionBench, r: &Reached) {
    println!(
        "redaction reach: {} viewer sockets (production delivery policy), {:.0} viewer chat \
         lines/s ({:.0}/s achieved), {} redactions one every {}: send→tombstone on the last \
         viewer socket p50 {:.1} ms p99 {:.1} ms max {:.1} ms over {} (aim p99 ≤ 100 ms: {}); \
         the first viewer socket p50 {:.1} ms p99 {:.1} ms, the staff reader p50 {:.1} ms \
         p99 {:.1} ms; {} did not reach every socket, {} refused, {} viewer sockets closed; \
         CPU hub {:.0}% generator {:.0}% of one core",
        bench.viewers,
        bench.rate,
        r.chat_per_sec,
        bench.redactions,
        humantime::format_duration(bench.every),
        ms(r.reach.quantile(0.50)),
        ms(r.reach.quantile(0.99)),
        ms(r.reach.max()),
        r.reach.count(),
        if r.reach.quantile(0.99) <= Duration::from_millis(100) && r.short == 0 {
            "ok"
        } else {
            "MISSED"
        },
        ms(r.first_viewer.quantile(0.50)),
        ms(r.first_viewer.quantile(0.99)),
        ms(r.staff.quantile(0.50)),
        ms(r.staff.quantile(0.99)),
        r.short,
        r.refused,
        r.viewers_closed,
        r.hub_cpu_share,
        r.generator_cpu_share,
    );
}
