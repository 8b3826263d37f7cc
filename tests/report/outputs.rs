//! What the report's outputs hold (counts, never a name, id or text), the
//! files `regie report` writes, the terminal table, and the hub's presence
//! records that feed the audience figures.

use regie::report::{K, Status, chart, render, suppress};
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
        chart::svg(&report).expect("the SVG chart"),
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

/// The SVG read with an XML parser: every element closed in order
/// (quick-xml checks end names), the root an `<svg>`; the element names
/// and the texts it holds.
fn parse_svg(svg: &str) -> Result<(Vec<String>, Vec<String>), String> {
    use quick_xml::events::Event as Xml;
    let mut reader = quick_xml::Reader::from_str(svg);
    let (mut names, mut texts, mut depth) = (Vec::new(), Vec::new(), 0usize);
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Xml::Start(e) => {
                depth += 1;
                names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
            Xml::Empty(e) => names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned()),
            Xml::End(_) => depth = depth.checked_sub(1).ok_or("a close without an open")?,
            Xml::Text(t) => {
                let t = t.decode().map_err(|e| e.to_string())?.trim().to_owned();
                if !t.is_empty() {
                    texts.push(t);
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("{depth} elements left open"));
    }
    if names.first().map(String::as_str) != Some("svg") {
        return Err(format!("the root is {:?}, not svg", names.first()));
    }
    Ok((names, texts))
}

/// A PNG decoded as far as the chart needs: the signature, every chunk's
/// CRC, `IHDR` (8-bit RGB, not interlaced), the `IDAT` data inflated to
/// one filter byte and `3 × width` bytes per row. The hub's encoder
/// writes filter type 0 (none) only; any other is refused here. Returns
/// the width, height and RGB pixels.
fn decode_png(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    use std::io::Read as _;
    let mut rest = bytes
        .strip_prefix(&chart::PNG_SIGNATURE[..])
        .ok_or("no PNG signature")?;
    let (mut header, mut data, mut ended) = (None, Vec::new(), false);
    while !rest.is_empty() {
        let word = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if rest.len() < 12 {
            return Err("a truncated chunk".into());
        }
        let len = word(rest) as usize;
        let (kind, body) = (&rest[4..8], rest.get(8..8 + len).ok_or("a short chunk")?);
        let crc = rest.get(8 + len..12 + len).ok_or("no CRC")?;
        let mut sum = flate2::Crc::new();
        sum.update(kind);
        sum.update(body);
        if sum.sum() != word(crc) {
            return Err(format!("bad CRC on {}", String::from_utf8_lossy(kind)));
        }
        match kind {
            b"IHDR" if body.len() == 13 => {
                if body[8..] != [8, 2, 0, 0, 0] {
                    return Err(format!("not 8-bit RGB: {:?}", &body[8..]));
                }
                header = Some((word(body), word(&body[4..])));
            }
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => ended = true,
            _ => {}
        }
        rest = &rest[12 + len..];
    }
    let (w, h) = header.ok_or("no IHDR")?;
    if !ended {
        return Err("no IEND".into());
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&data[..])
        .read_to_end(&mut raw)
        .map_err(|e| format!("IDAT does not inflate: {e}"))?;
    let stride = w as usize * 3 + 1;
    if raw.len() != stride * h as usize {
        return Err(format!("{} bytes of pixels for {w}×{h}", raw.len()));
    }
    let mut rgb = Vec::with_capacity(raw.len());
    for row in raw.chunks_exact(stride) {
        if row[0] != 0 {
            return Err(format!("filter type {}", row[0]));
        }
        rgb.extend_from_slice(&row[1..]);
    }
    Ok((w, h, rgb))
}

/// How many pixels have exactly this colour.
fn pixels_of(rgb: &[u8], colour: [u8; 3]) -> usize {
    rgb.chunks_exact(3).filter(|p| *p == colour).count()
}

#[test]
fn the_charts_parse_and_recompute_to_the_same_bytes() {
    let mut w = generated::live(7, 60, 30, 600);
    let report = published(&mut w, 2);
    let svg = chart::svg(&report).expect("the SVG chart");
    let png = chart::png(&report).expect("the PNG chart");
    // Recomputed from the store: the same bytes.
    let again = published(&mut w, 2);
    assert_eq!(chart::svg(&again).expect("svg"), svg);
    assert_eq!(chart::png(&again).expect("png"), png);

    let (names, texts) = parse_svg(&svg).expect("the SVG parses");
    assert!(names.iter().any(|n| n == "polyline"), "{names:?}");
    for legend in [
        "viewers",
        "messages",
        "questions",
        "add-to-cart",
        "minute of the live",
    ] {
        assert!(texts.iter().any(|t| t == legend), "{legend:?} in {texts:?}");
    }
    let (width, height, rgb) = decode_png(&png).expect("the PNG decodes");
    assert_eq!((width, height), chart::SIZE);
    // A white picture with the viewers' line (its colour) drawn on it.
    assert!(pixels_of(&rgb, [255, 255, 255]) > rgb.len() / 6);
    assert!(pixels_of(&rgb, [31, 119, 180]) > 100, "the viewers' line");

    // Everything withheld: the charts still draw, with no line at all.
    let mut empty = generated::live(7, 3, 3, 10);
    let withheld = published(&mut empty, 11);
    assert!(withheld.timeline.iter().all(|m| m.viewers.is_none()));
    let (names, _) = parse_svg(&chart::svg(&withheld).expect("svg")).expect("parses");
    let (_, _, rgb) = decode_png(&chart::png(&withheld).expect("png")).expect("decodes");
    assert_eq!(
        pixels_of(&rgb, [31, 119, 180]),
        legend_pixels(&rgb),
        "only the legend"
    );
    assert!(names.iter().any(|n| n == "svg"));
}

/// The viewers' colour in the legend's sample line only (upper right).
fn legend_pixels(rgb: &[u8]) -> usize {
    let (w, h) = chart::SIZE;
    let mut n = 0;
    for y in 0..h as usize / 3 {
        for x in w as usize / 2..w as usize {
            let i = (y * w as usize + x) * 3;
            if rgb[i..i + 3] == [31, 119, 180] {
                n += 1;
            }
        }
    }
    n
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
    // The charts beside it: the ones the printed report draws.
    let report: regie::report::Report = serde_json::from_str(&ran.stdout).expect("a report");
    let svg = std::fs::read_to_string(out.path().join("timeline.svg")).expect("timeline.svg");
    parse_svg(&svg).expect("the SVG parses");
    assert_eq!(svg, chart::svg(&report).expect("svg"));
    let png = std::fs::read(out.path().join("timeline.png")).expect("timeline.png");
    assert_eq!(decode_png(&png).expect("the PNG decodes").0, chart::SIZE.0);
    assert_eq!(png, chart::png(&report).expect("png"));

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
