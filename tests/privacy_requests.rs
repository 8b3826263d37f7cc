//! Issue 9, "Requests log", on the real binary: requests are listed soonest
//! due first, an extension (once, with a reason) moves the due date by
//! two months, a closed request cannot change, and typed text is
//! sanitised for the terminal.

mod support;

use std::path::Path;

use regie::store::SqliteStore;
use support::binary::{Ran, run};

fn requests(data: &Path, extra: &[&str]) -> Ran {
    let mut args = vec![
        "privacy",
        "requests",
        "--data",
        data.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    run(&args, &[])
}

/// The `due YYYY-MM-DD` of a printed request line.
fn due(line: &str) -> &str {
    let at = line.find("due ").expect("a due date") + 4;
    &line[at..at + 10]
}

/// `YYYY-MM-DD` plus `months` calendar months (the log's days here are
/// never past the 28th when a test runs on day ≤ 28; clamp otherwise).
fn months_later(day: &str, months: u32) -> String {
    let year: u32 = day[..4].parse().expect("year");
    let month: u32 = day[5..7].parse().expect("month");
    let d: u32 = day[8..10].parse().expect("day");
    let index = month - 1 + months;
    let (year, month) = (year + index / 12, index % 12 + 1);
    let last = match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    format!("{year:04}-{month:02}-{:02}", d.min(last))
}

#[test]
fn requests_are_listed_by_due_date_and_extended_once_with_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    drop(SqliteStore::open(dir.path()).expect("a store"));
    let data = dir.path();

    let empty = requests(data, &[]);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert_eq!(empty.stdout.trim(), "no requests");

    let first = requests(data, &["--add", "access", "--subject", "v-aaaa"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let line = first.stdout.trim();
    assert!(line.starts_with("#1  open  access  received "), "{line}");
    let received = &line[line.find("received ").expect("received") + 9..][..10];
    assert_eq!(due(line), months_later(received, 1), "{line}");

    // The hostile subject is logged, and printed harmless.
    let second = requests(data, &["--add", "erase", "--subject", "Zoé\x1b[2J"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(!second.stdout.contains('\x1b'), "{:?}", second.stdout);

    let extended = requests(
        data,
        &["--extend", "1", "--reason", "three lives to search"],
    );
    assert_eq!(extended.code, 0, "{}", extended.stderr);
    assert_eq!(due(extended.stdout.trim()), months_later(received, 3));
    assert!(
        extended
            .stdout
            .contains("extended: \"three lives to search\"")
    );

    // Soonest due first: the erasure (due in a month) before the extended access.
    let listed = requests(data, &[]);
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", listed.stdout);
    assert!(lines[0].starts_with("#2  open  erase"), "{}", listed.stdout);
    assert!(
        lines[1].starts_with("#1  open  access"),
        "{}",
        listed.stdout
    );

    // One extension only; a reason is required; closed is final.
    let again = requests(data, &["--extend", "1", "--reason", "more"]);
    assert_eq!(again.code, 2, "{}", again.stdout);
    assert!(
        again.stderr.contains("already extended"),
        "{}",
        again.stderr
    );
    assert_eq!(requests(data, &["--extend", "2"]).code, 2);
    assert_eq!(requests(data, &["--extend", "2", "--reason", "  "]).code, 2);
    let closed = requests(data, &["--close", "2"]);
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    assert!(
        closed.stdout.starts_with("#2  closed  erase"),
        "{}",
        closed.stdout
    );
    assert_eq!(requests(data, &["--close", "2"]).code, 2);
    assert_eq!(requests(data, &["--close", "9"]).code, 2);
    // Adding and closing at once is a usage error.
    assert_eq!(
        requests(data, &["--add", "access", "--subject", "x", "--close", "1"]).code,
        2
    );
}

#[test]
fn a_missing_data_dir_is_a_usage_error_and_is_not_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("typo");
    let ran = requests(&data, &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(!data.exists());
}
