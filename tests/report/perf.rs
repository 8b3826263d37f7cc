//! The report of a 3-hour live with 50,000 viewers and 500,000 messages,
//! timed (aim: ≤ 10 s). Ignored by default (it takes a while to write):
//! `cargo test --release --locked --test report perf -- --ignored --nocapture`.

use std::time::Instant;

use regie::protocol::{
    Author, ChatMessage, Event, EventFrame, LiveInfo, LiveState, MessageId, Millis, ViewerId,
    Visibility,
};
use regie::report::{K, chart, render, suppress};
use regie::store::{Commit, Durability, Presence, SqliteStore, Store};

use crate::generated::Lcg;

const HOURS: i64 = 3;
const VIEWERS: u32 = 50_000;
const MESSAGES: u64 = 500_000;

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "writing the live, then timing its report"
)]
#[ignore = "writes a 500,000-message live first; run with --ignored --nocapture"]
fn perf_report_of_a_three_hour_live() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open_with(dir.path(), Durability::Normal).expect("open");
    let start: Millis = 1_750_000_000_000;
    let end = start + HOURS * 3_600_000;
    store
        .create_live(
            &LiveInfo {
                name: "big".into(),
                title: String::new(),
                state: LiveState::Scheduled,
                starts_at: None,
                started_at: None,
                ended_at: None,
            },
            start,
        )
        .expect("create");
    let head = store.open_live("big").expect("open the live");
    let written = Instant::now();
    let mut rng = Lcg(1);
    for v in 0..VIEWERS {
        let id = ViewerId(format!("v{v}"));
        let joined = start + Millis::try_from(rng.below(10_000_000)).expect("small");
        let left = joined + Millis::try_from(rng.below(3_600_000)).expect("small");
        store
            .presence("big", joined, &[(id.clone(), Presence::Joined)])
            .expect("join");
        store
            .presence("big", left, &[(id.clone(), Presence::Left)])
            .expect("leave");
    }
    let mut seq = head.head;
    let mut frame = |at: Millis, event: Event| {
        seq += 1;
        Commit::event(EventFrame {
            epoch: head.epoch.clone(),
            seq,
            at,
            event,
        })
    };
    store
        .commit(
            "big",
            &[frame(
                start,
                Event::LiveState {
                    state: LiveState::OnAir,
                },
            )],
        )
        .expect("start");
    let step = (end - start) / Millis::try_from(MESSAGES).expect("small");
    let mut batch = Vec::with_capacity(1000);
    for i in 0..MESSAGES {
        let author = u32::try_from(rng.below(u64::from(VIEWERS) / 5)).expect("small");
        let at = start + step * Millis::try_from(i).expect("small");
        batch.push(frame(
            at,
            Event::Message {
                message: ChatMessage {
                    id: MessageId(i + 1),
                    at,
                    author: Author::Viewer {
                        viewer_id: ViewerId(format!("v{author}")),
                        first_name: "Julie".into(),
                        pseudonym: format!("j{author}"),
                    },
                    text: "une question sur la robe ?".into(),
                    question: i % 7 == 0,
                    answered: false,
                    reply_to: None,
                    also_to: Vec::new(),
                    visibility: Visibility::Visible,
                    product: None,
                    announcement: false,
                },
            },
        ));
        if batch.len() == 1000 {
            store.commit("big", &batch).expect("commit a batch");
            batch.clear();
        }
    }
    batch.push(frame(
        end,
        Event::LiveState {
            state: LiveState::Ended,
        },
    ));
    store.commit("big", &batch).expect("commit the rest");
    println!("wrote the live in {:.1} s", written.elapsed().as_secs_f64());

    let timed = Instant::now();
    let source = store
        .report_source("big", end + 120_000)
        .expect("read")
        .expect("the live");
    let read = timed.elapsed();
    let figures = source.figures().expect("figures");
    let report = suppress::publish(&figures, K::default());
    let json = render::json(&report);
    let computed = timed.elapsed();
    let svg = chart::svg(&report).expect("the SVG chart");
    let png = chart::png(&report).expect("the PNG chart");
    let total = timed.elapsed();
    println!(
        "report of {HOURS} h, {VIEWERS} viewers, {MESSAGES} messages: {:.2} s \
         (reading the store {:.2} s, up to the JSON {:.2} s, the two charts {:.2} s), \
         JSON {} bytes, SVG {} bytes, PNG {} bytes",
        total.as_secs_f64(),
        read.as_secs_f64(),
        computed.as_secs_f64(),
        total.saturating_sub(computed).as_secs_f64(),
        json.len(),
        svg.len(),
        png.len()
    );
    assert_eq!(figures.messages.value, MESSAGES);
    assert_eq!(figures.timeline.len(), 180);
    assert!(total.as_secs() <= 10, "{total:?}");
}
