//! `regie verify-draw` as a viewer would run it on a published record.

use std::process::Command;

use regie::instant_win::{DrawRecord, Seed};
use regie::protocol::ViewerId;

fn record() -> DrawRecord {
    let entrants = (0..40).map(|i| ViewerId(format!("v-{i:03}"))).collect();
    let seed = Seed::generate().expect("OS RNG");
    DrawRecord::close(3, "€50 voucher".into(), 3, &seed, entrants, None).expect("close")
}

fn run(record: &serde_json::Value, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("draw.json");
    let json = serde_json::to_vec_pretty(record).expect("serialise the record");
    std::fs::write(&path, json).expect("write the record");
    let out = Command::new(env!("CARGO_BIN_EXE_regie"))
        .arg("verify-draw")
        .arg(&path)
        .args(extra)
        .output()
        .expect("run regie verify-draw");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_published_record_verifies_and_finds_my_id() {
    let r = serde_json::to_value(record()).unwrap();
    let (code, out) = run(&r, &["--entrant", "v-007"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("verified: draw 3 (3 winners among 40 entrants)"),
        "{out}"
    );
    assert!(out.contains("\"v-007\" is in the entrant list"), "{out}");

    let (code, out) = run(&r, &["--entrant", "v-999"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("\"v-999\" is NOT in the entrant list"),
        "{out}"
    );
}

#[test]
fn tampering_is_reported_precisely() {
    let good = record();

    let mut r = good.clone();
    r.entrants[5] = ViewerId("v-005b".into());
    let (code, out) = run(&serde_json::to_value(&r).unwrap(), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("entrant list hashes to"), "{out}");

    let mut r = good.clone();
    r.seed = Seed::generate().unwrap().to_hex();
    let (code, out) = run(&serde_json::to_value(&r).unwrap(), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("does not match the commitment"), "{out}");

    let mut r = good;
    r.winner_count = 2;
    let (code, out) = run(&serde_json::to_value(&r).unwrap(), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("give winners"), "{out}");
}

#[test]
fn unreadable_input_is_a_clear_error() {
    let (code, _) = run(&serde_json::json!({"draw_id": "nope"}), &[]);
    assert_eq!(code, 2);
    let out = Command::new(env!("CARGO_BIN_EXE_regie"))
        .args(["verify-draw", "/nonexistent/draw.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/draw.json"));
}

#[test]
fn the_commitment_seen_at_launch_is_checked() {
    let good = record();
    let seen = good.commitment.clone();
    let r = serde_json::to_value(&good).unwrap();
    let (code, out) = run(&r, &["--commitment", &seen.to_ascii_uppercase()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "the commitment is the one shown at launch ({seen})"
        )),
        "{out}"
    );

    // Another draw's record verifies on its own, but is not the draw whose
    // commitment this viewer saw.
    let other = serde_json::to_value(record()).unwrap();
    let (code, out) = run(&other, &["--commitment", &seen]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("verified: draw 3"), "{out}");
    assert!(
        out.contains("the commitment is NOT the one shown at launch"),
        "{out}"
    );
    assert!(out.contains(&format!("you saw {seen}")), "{out}");

    // Not a commitment at all: a usage error.
    let (code, out) = run(&r, &["--commitment", "c0ffee"]);
    assert_eq!(code, 2, "{out}");
}
