//! What the report's outputs hold (counts, never a name, id or text), the
//! files `regie report` writes, the terminal table, and the hub's presence
//! records that feed the audience figures.

use regie::report::{K, Status, render, suppress};
use regie::store::{SqliteStore, Store};

use crate::generated::{self, END, LIVE, first_name, viewer};
use crate::support::binary::run;
use crate::support::hub::TestHub;

fn published(w: &mut generated::Written, k: u32) -> regie::report::Report {
    let f = w
        .store
        .report_source(LIVE, END + 61_000)
        .expect("read")
        .expect("the live exists")
        .figures()
        .expect("figures");
    suppress::publish(&f, K::new(k).expect("valid k"))
}

#[test]
fn outputs_hold_no_name_id_or_text() {
    let mut w = generated::live(7, 60, 30, 600);
    // The smallest k publishes the most.
    let report = published(&mut w, 2);
    let outputs = [
        render::table(&report),
        render::json(&report),
        render::svg(&report),
    ];
    let mut needles: Vec<String> = Vec::new();
    for v in 0..60 {
        needles.push(viewer(v).0);
        needles.push(first_name(v));
        needles.push(format!("pseudo{v}"));
    }
    needles.extend(w.truth.messages.iter().map(|m| m.text.clone()));
    needles.extend(["secret", "Ines", "spam", "Soldes"].map(str::to_owned));
    for out in &outputs {
        for needle in &needles {
            assert!(!out.contains(needle.as_str()), "{needle:?} in the output");
        }
    }
    // And it did publish figures (k = 2 hides little here).
    assert!(report.chat.messages.is_some() && report.audience.unique_viewers.is_some());
}

#[test]
fn a_larger_k_withholds_more_and_marks_it() {
    let mut w = generated::live(7, 60, 30, 600);
    let small = published(&mut w, 2);
    let large = published(&mut w, 11);
    let shown = |r: &regie::report::Report| {
        r.timeline
            .iter()
            .flat_map(|m| [m.viewers, m.messages, m.questions])
            .flatten()
            .count()
    };
    assert!(shown(&large) < shown(&small));
    assert!(render::table(&large).contains("<k"));
}

/// Every tag closed in order, attributes quoted: enough to call it XML.
fn well_formed(svg: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack.pop().ok_or("close without open")?;
            if top != name.trim() {
                return Err(format!("</{name}> closes <{top}>"));
            }
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().ok_or("empty tag")?;
            stack.push(name.to_owned());
        }
        if tag.matches('"').count() % 2 != 0 {
            return Err(format!("unbalanced quotes in <{tag}>"));
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {stack:?}"))
    }
}

#[test]
fn regie_report_prints_json_and_writes_the_chart_next_to_it() {
    let w = generated::live(9, 40, 20, 300);
    let data = w.dir.path().to_str().expect("utf-8").to_owned();
    let out = tempfile::tempdir().expect("temp dir");
    let out_dir = out.path().to_str().expect("utf-8");
    let ran = run(
        &[
            "report",
            "--live",
            LIVE,
            "--data-dir",
            &data,
            "--format",
            "json",
            "--out",
            out_dir,
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON on stdout");
    assert_eq!(json["schema"], 1);
    assert_eq!(json["status"]["state"], "final");
    assert_eq!(json["k"], 5);
    assert!(json["audience"]["unique_viewers"].is_u64(), "{json}");
    assert!(json["commerce"]["attribution"].is_string());
    let file = std::fs::read_to_string(out.path().join("report.json")).expect("report.json");
    assert_eq!(file, ran.stdout, "the file is what was printed");
    let svg = std::fs::read_to_string(out.path().join("timeline.svg")).expect("timeline.svg");
    assert!(svg.contains("<svg") && svg.contains("<path"));
    well_formed(&svg).expect("the SVG is well-formed");

    // The table, with k from the brand file.
    let brand = out.path().join("brand.toml");
    std::fs::write(&brand, "[report]\nk = 11\n").expect("write the brand file");
    let brand = brand.to_str().expect("utf-8");
    let ran = run(
        &[
            "report",
            "--live",
            LIVE,
            "--data-dir",
            &data,
            "--config",
            brand,
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout
            .lines()
            .any(|l| l.starts_with("  k (smallest group shown)") && l.ends_with(" 11")),
        "{}",
        ran.stdout
    );

    // Refused, with a reason: k out of range, in the file or the flag; no such live.
    std::fs::write(out.path().join("bad.toml"), "[report]\nk = 12\n").expect("write");
    let bad = out.path().join("bad.toml");
    let ran = run(
        &[
            "report",
            "--live",
            LIVE,
            "--data-dir",
            &data,
            "--config",
            bad.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("report.k"), "{}", ran.stderr);
    let ran = run(
        &["report", "--live", LIVE, "--data-dir", &data, "--k", "1"],
        &[],
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("between 2 and 11"), "{}", ran.stderr);
    let ran = run(&["report", "--live", "nope", "--data-dir", &data], &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("no live named"), "{}", ran.stderr);
}

#[test]
fn the_terminal_table() {
    let mut w = generated::live(21, 40, 25, 400);
    let report = published(&mut w, 5);
    insta::assert_snapshot!("report_table", render::table(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_records_who_watched_and_the_report_counts_them() {
    let hub = TestHub::start().await;
    let mut viewers = Vec::new();
    for name in ["Anna", "Berta", "Carla"] {
        let mut v = hub.viewer(name).await;
        v.say(&format!("hello from {name}")).await;
        viewers.push(v);
    }
    let left = viewers.pop().expect("three");
    let _ = left.drop_connection();
    let dir = hub.stop().await.expect("the hub's temp dir");
    drop(viewers);

    let mut store = SqliteStore::open(dir.path()).expect("open");
    let f = store
        .report_source(regie_live(), regie::now_millis())
        .expect("read")
        .expect("the live exists")
        .figures()
        .expect("the live is on air");
    assert_eq!(f.unique_viewers.value, 3);
    assert_eq!(f.chatters.value, 3);
    assert_eq!(f.messages.value, 3);
    assert!(f.total_watch_ms.value > 0 || f.length_ms == 0);
    assert!(matches!(f.status, Some(Status::Pending { final_at: None })));
    // Every connection's leave was recorded (the hub stopped cleanly).
    let conn = rusqlite::Connection::open(dir.path().join(regie::store::DB_FILE)).expect("open");
    let open: i64 = conn
        .query_row(
            "SELECT count(*) FROM presence WHERE left_at IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM presence", [], |r| r.get(0))
        .expect("count");
    assert_eq!((rows, open), (3, 0));
}

fn regie_live() -> &'static str {
    crate::support::store::LIVE
}
