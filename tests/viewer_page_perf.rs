//! The viewer page under a flood (issue 11's performance figures): a
//! measurement, not a test, so it is ignored unless asked for; run it with
//!
//! ```text
//! cargo test --release --locked --test viewer_page_perf -- --ignored --nocapture
//! ```
//!
//! Headless Chromium joins a real hub's page while test viewers send 200
//! chat lines a second for 60 s (`REGIE_PERF_SECS` changes the length).
//! In the page, a `PerformanceObserver` collects long tasks and a
//! `requestAnimationFrame` loop the frame times; at the end it prints those,
//! the DOM's node count and the JS heap, and the page's weight from the
//! Resource Timing API (body bytes as transferred, gzip when the browser
//! asks for it, and decoded).

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use regie::protocol::{ClientFrame, Command, CommandFrame, CommandId, Event};
use serde_json::Value;
use support::browser::{Browser, Device, browser_is_installed};
use support::client::text_message;
use support::hub::TestHub;

/// Chat lines a second, all talkers together.
const RATE: u32 = 200;
/// Viewers sending them, each at `RATE / TALKERS` a second.
const TALKERS: u32 = 10;

/// Installed right after the page loads: long tasks and frame times, kept
/// in the page until the end.
const OBSERVE: &str = "
    window.__perf = { long: [], frames: [], flood_at: null };
    new PerformanceObserver(list => {
        for (const e of list.getEntries()) window.__perf.long.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
    let last = null;
    const frame = t => {
        if (last !== null) window.__perf.frames.push(t - last);
        last = t;
        requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    return true;";

/// What the page measured, and what it weighs.
const REPORT: &str = "
    const p = window.__perf;
    const res = performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource'));
    return {
        long: p.long, frames: p.frames, flood_at: p.flood_at,
        nodes: document.getElementsByTagName('*').length,
        messages: document.querySelectorAll('#messages > li').length,
        heap: performance.memory ? performance.memory.usedJSHeapSize : null,
        resources: res.map(r => ({ name: r.name, transfer: r.transferSize,
            encoded: r.encodedBodySize, decoded: r.decodedBodySize })),
    };";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round();
    // A rank within 0..len by construction.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    sorted[rank as usize]
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// The flood: `TALKERS` viewers, each on a timer, for `secs` seconds, their
/// answers drained by a task; returns the lines sent and how long it took.
async fn flood(hub: &TestHub, secs: u64) -> (u64, Duration) {
    let mut talkers = Vec::new();
    for i in 0..TALKERS {
        let client = hub.viewer(&format!("Talker{i}")).await;
        let (mut sink, mut stream) = client.ws.split();
        tokio::spawn(async move { while stream.next().await.is_some() {} });
        let every = Duration::from_secs(1) / (RATE / TALKERS);
        let end = tokio::time::Instant::now() + Duration::from_secs(secs);
        talkers.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            let mut sent = 0u64;
            while tokio::time::Instant::now() < end {
                tick.tick().await;
                let frame = ClientFrame::Command(CommandFrame {
                    id: CommandId(format!("f{i}-{sent}")),
                    command: Command::Say {
                        text: format!("Talker{i} dit la ligne {sent} : elle est trop belle !"),
                        question: false,
                        announcement: false,
                    },
                });
                if sink.send(text_message(&frame)).await.is_err() {
                    break;
                }
                sent += 1;
            }
            sent
        }));
    }
    let started = Instant::now();
    let mut sent = 0;
    for t in talkers {
        sent += t.await.expect("a talker");
    }
    (sent, started.elapsed())
}

/// The long tasks, all of them and those after the flood began.
fn print_long_tasks(report: &Value) {
    let flood_at = report["flood_at"].as_f64().unwrap_or(0.0);
    let long: Vec<(f64, f64)> = report["long"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t[0].as_f64()?, t[1].as_f64()?)))
        .collect();
    let during: Vec<f64> = long
        .iter()
        .filter(|(at, _)| *at >= flood_at)
        .map(|(_, d)| *d)
        .collect();
    println!(
        "long tasks: {} totalling {:.0} ms (longest {:.0} ms); during the flood: {} totalling {:.0} ms (longest {:.0} ms)",
        long.len(),
        long.iter().map(|(_, d)| d).sum::<f64>() + 0.0,
        long.iter().map(|(_, d)| *d).fold(0.0, f64::max),
        during.len(),
        during.iter().sum::<f64>() + 0.0,
        during.iter().copied().fold(0.0, f64::max)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a 60 s measurement: run with --release --ignored --nocapture"]
async fn the_page_under_200_messages_a_second() {
    if !browser_is_installed() {
        return;
    }
    let secs: u64 = std::env::var("REGIE_PERF_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let hub = TestHub::start_with(|c| {
        // The flood's talkers say 20 lines a second each.
        c.settings.viewer_rate_per_sec = RATE;
        c.settings.viewer_burst = RATE;
    })
    .await;
    let browser = Browser::launch(Device::Phone).await;
    browser
        .goto(&format!("http://{}/live/{}", hub.addr, hub.live))
        .await;
    browser.eval(OBSERVE, vec![]).await;
    browser.type_into("#first-name", "Julie").await;
    browser.click("#join-submit").await;
    browser
        .wait_for(
            "the page to be online",
            "document.querySelector('#conn-state').dataset.state === 'online'",
        )
        .await;

    browser
        .eval(
            "window.__perf.flood_at = performance.now(); return true;",
            vec![],
        )
        .await;
    let (sent, flood) = flood(&hub, secs).await;

    // One last line after the flood: once the page shows it, it kept up.
    let mut last = hub.viewer("Marqueur").await;
    let seq = last.say("fin du flot").await;
    let Event::Message { message } = last.event_at(seq).await.event else {
        panic!("not a message")
    };
    let caught_up = Instant::now();
    browser
        .wait_for(
            "the page to show the line after the flood",
            &format!(
                "document.querySelector('#messages li.msg[data-id=\"{}\"]')",
                message.id.0
            ),
        )
        .await;
    let lag = caught_up.elapsed();
    let report = browser.eval(REPORT, vec![]).await;
    browser.close().await;

    let mut frames = numbers(&report["frames"]);
    frames.sort_by(f64::total_cmp);
    let accepted = hub.metric("regie_messages_in_total").await;
    println!(
        "flood: {sent} lines sent in {:.1} s ({:.0}/s), {accepted} accepted by the hub",
        flood.as_secs_f64(),
        sent as f64 / flood.as_secs_f64()
    );
    print_long_tasks(&report);
    println!(
        "frames: {} — p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        frames.len(),
        percentile(&frames, 50.0),
        percentile(&frames, 95.0),
        percentile(&frames, 99.0),
        frames.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "at the end: {} DOM elements, {} chat entries, JS heap {:.1} MB; the line after the flood shown {} ms after its ack",
        report["nodes"],
        report["messages"],
        report["heap"].as_f64().unwrap_or(f64::NAN) / 1e6,
        lag.as_millis()
    );
    let mut encoded = 0.0;
    let mut decoded = 0.0;
    for r in report["resources"].as_array().into_iter().flatten() {
        let e = r["encoded"].as_f64().unwrap_or(0.0);
        let d = r["decoded"].as_f64().unwrap_or(0.0);
        encoded += e;
        decoded += d;
        println!(
            "  {}: {e} B transferred body ({} B with headers), {d} B decoded",
            r["name"].as_str().unwrap_or_default(),
            r["transfer"]
        );
    }
    println!(
        "page weight: {encoded} B compressed, {decoded} B decoded (issue's limit: 60 KB compressed)"
    );
}
