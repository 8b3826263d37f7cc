//! `regie audit verify|show|head` on the real binary, against a store whose
//! SQLite file the test tampers with as an attacker with write access would:
//! drop the append-only triggers, then change, delete, reorder or cut
//! records, or rewrite the whole chain consistently.

mod support;

use std::path::Path;
use std::time::{Duration, SystemTime};

use regie::protocol::{Millis, StaffRole};
use regie::store::audit::chain_hash;
use regie::store::{AuditEntry, Commit, DB_FILE, SqliteStore, Store};
use support::binary::{Ran, run};

const LIVE: &str = "spring-sale";

/// Runs `regie args…` with output captured, no console config and no
/// token from the environment.
fn regie(args: &[&str]) -> Ran {
    run(args, &[])
}

fn audit(sub: &str, data: &Path, extra: &[&str]) -> Ran {
    let mut args = vec![
        "audit",
        sub,
        "--data",
        data.to_str().expect("utf-8 temp path"),
        "--live",
        LIVE,
    ];
    args.extend_from_slice(extra);
    regie(&args)
}

fn now() -> Millis {
    regie::now_millis()
}

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;

/// Four staff actions, oldest three days ago, newest a minute ago.
fn entries() -> Vec<AuditEntry> {
    let now = now();
    let e = |at, name: &str, role, action: &str, target: &str, reason: &str| AuditEntry {
        actor_name: name.into(),
        actor_role: role,
        action: action.into(),
        target: target.into(),
        reason: reason.into(),
        at,
    };
    vec![
        e(
            now - 72 * HOUR,
            "Inès",
            StaffRole::Support,
            "redact",
            "#12",
            "phone posted",
        ),
        e(
            now - 2 * HOUR,
            "Marc",
            StaffRole::Moderator,
            "ban",
            "v-7",
            "spam",
        ),
        e(
            now - 30 * MINUTE,
            "inès",
            StaffRole::Support,
            "viewer_card",
            "v-9",
            "asked \u{1b}[31mby\u{1b}]0;owned\u{7} viewer",
        ),
        e(now - MINUTE, "Marc", StaffRole::Moderator, "ban", "v-8", ""),
    ]
}

/// A data dir holding [`entries`] as the hub writes them.
fn store_with_log() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("test setup");
    let mut store = SqliteStore::open(dir.path()).expect("test setup");
    store.open_live(LIVE).expect("test setup");
    for e in entries() {
        store
            .commit(LIVE, &[Commit::without_event().with_audit(e)])
            .expect("test setup");
    }
    drop(store);
    dir
}

/// The attacker's handle: the file, with the append-only triggers gone.
fn tamper(dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("test setup");
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;",
    )
    .expect("test setup");
    conn
}

/// `(idx, hash)` of every stored record, read straight from the file.
fn stored_hashes(dir: &Path) -> Vec<(u64, String)> {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("test setup");
    let mut stmt = conn
        .prepare("SELECT idx, hash FROM audit ORDER BY idx")
        .expect("test setup");
    stmt.query_map([], |r| Ok((r.get::<_, u64>(0)?, r.get(1)?)))
        .expect("test setup")
        .map(Result::unwrap)
        .collect()
}

#[test]
fn an_intact_chain_verifies_and_names_its_head() {
    let dir = store_with_log();
    let ran = audit("verify", dir.path(), &[]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let (idx, hash) = stored_hashes(dir.path()).pop().unwrap();
    assert!(ran.stdout.contains("verified"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains(&format!("{hash}@{idx}")),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_modified_record_is_named() {
    let dir = store_with_log();
    tamper(dir.path())
        .execute("UPDATE audit SET reason = 'routine' WHERE idx = 2", [])
        .unwrap();
    let ran = audit("verify", dir.path(), &[]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("NOT verified") && ran.stdout.contains("record 2:"),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_deleted_record_is_named() {
    let dir = store_with_log();
    tamper(dir.path())
        .execute("DELETE FROM audit WHERE idx = 2", [])
        .unwrap();
    let ran = audit("verify", dir.path(), &[]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("record 3: expected record 2"),
        "{}",
        ran.stdout
    );
}

#[test]
fn reordered_records_are_named() {
    let dir = store_with_log();
    tamper(dir.path())
        .execute_batch(
            "UPDATE audit SET idx = -1 WHERE idx = 2;
             UPDATE audit SET idx = 2 WHERE idx = 3;
             UPDATE audit SET idx = 3 WHERE idx = -1;",
        )
        .unwrap();
    let ran = audit("verify", dir.path(), &[]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("record 2:"), "{}", ran.stdout);
}

#[test]
fn an_exported_head_catches_a_cut_or_rewritten_chain() {
    let dir = store_with_log();
    let head = audit("head", dir.path(), &[]);
    assert_eq!(head.code, 0, "{}", head.stderr);
    let anchor = head.stdout.trim().to_string();
    let (idx, hash) = stored_hashes(dir.path()).pop().unwrap();
    assert_eq!(anchor, format!("{hash}@{idx}"));

    let holds = audit("verify", dir.path(), &["--anchor", &anchor]);
    assert_eq!(holds.code, 0, "{}", holds.stdout);
    assert!(holds.stdout.contains("holds"), "{}", holds.stdout);

    // The newest record dropped: the chain alone still verifies...
    tamper(dir.path())
        .execute("DELETE FROM audit WHERE idx = 4", [])
        .unwrap();
    assert_eq!(audit("verify", dir.path(), &[]).code, 0);
    // ...the anchor does not.
    let cut = audit("verify", dir.path(), &["--anchor", &anchor]);
    assert_eq!(cut.code, 1, "{}", cut.stdout);
    assert!(cut.stdout.contains("record 4 is gone"), "{}", cut.stdout);

    // The whole chain rewritten consistently, with a record 4 again.
    let conn = tamper(dir.path());
    let mut prev = regie::store::audit::GENESIS_HASH.to_string();
    for (i, mut e) in entries().into_iter().enumerate() {
        let index = i as u64 + 1;
        e.reason = "nothing happened".into();
        let hash = chain_hash(&prev, LIVE, index, &e);
        conn.execute(
            "INSERT OR REPLACE INTO audit VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                index,
                e.at,
                e.actor_name,
                e.actor_role.as_str(),
                e.action,
                e.target,
                e.reason,
                prev,
                hash
            ],
        )
        .unwrap();
        prev = hash;
    }
    assert_eq!(audit("verify", dir.path(), &[]).code, 0);
    let rewritten = audit("verify", dir.path(), &["--anchor", &anchor]);
    assert_eq!(rewritten.code, 1, "{}", rewritten.stdout);
    assert!(
        rewritten.stdout.contains("record 4 has hash"),
        "{}",
        rewritten.stdout
    );
}

#[test]
fn head_as_json_names_the_live_index_hash_and_time() {
    let dir = store_with_log();
    let ran = audit("head", dir.path(), &["--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let doc: serde_json::Value = serde_json::from_str(ran.stdout.trim()).unwrap();
    let (idx, hash) = stored_hashes(dir.path()).pop().unwrap();
    assert_eq!(doc["live"], LIVE);
    assert_eq!(doc["index"], idx);
    assert_eq!(doc["hash"], hash);
    assert!(doc["at"].as_str().unwrap().ends_with('Z'), "{doc}");
}

/// The record indexes `regie audit show` printed, in order.
fn shown(ran: &Ran) -> Vec<u64> {
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    ran.stdout
        .lines()
        .map(|l| {
            l.strip_prefix('#')
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("not a record line: {l:?}"))
        })
        .collect()
}

fn rfc3339(at: Millis) -> String {
    let t = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at).expect("test setup"));
    humantime::format_rfc3339_seconds(t).to_string()
}

#[test]
fn show_filters_by_actor_action_and_time() {
    let dir = store_with_log();
    let log = entries();
    let d = dir.path();
    assert_eq!(shown(&audit("show", d, &[])), [1, 2, 3, 4]);
    assert_eq!(shown(&audit("show", d, &["--actor", "INÈS"])), [1, 3]);
    assert_eq!(shown(&audit("show", d, &["--action", "ban"])), [2, 4]);
    assert_eq!(
        shown(&audit(
            "show",
            d,
            &["--action", "redact", "--action", "viewer_card"]
        )),
        [1, 3]
    );
    assert_eq!(
        shown(&audit("show", d, &["--actor", "marc", "--since", "1h"])),
        [4]
    );
    // RFC 3339 bounds around records 2 and 3, in UTC and with an offset.
    let since = rfc3339(log[1].at - MINUTE);
    let until = rfc3339(log[2].at + MINUTE).replace('Z', "+00:00");
    assert_eq!(
        shown(&audit("show", d, &["--since", &since, "--until", &until])),
        [2, 3]
    );
    assert_eq!(shown(&audit("show", d, &["--until", "1d"])), [1]);
    assert_eq!(
        shown(&audit("show", d, &["--actor", "nobody"])),
        [] as [u64; 0]
    );
    let bad = audit("show", d, &["--since", "last tuesday"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("RFC 3339"), "{}", bad.stderr);
}

#[test]
fn show_prints_each_field_and_no_control_characters() {
    let dir = store_with_log();
    let ran = audit("show", dir.path(), &["--action", "viewer_card"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let line = ran.stdout.trim_end();
    assert!(
        !line.chars().any(char::is_control),
        "control characters reached the terminal: {line:?}"
    );
    let at = rfc3339(entries()[2].at);
    for part in ["#3", &at, "support", "inès", "viewer_card", "v-9", "asked"] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
}

#[test]
fn a_missing_store_or_live_is_a_usage_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("regie-dat");
    let ran = audit("verify", &typo, &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("does not exist"), "{}", ran.stderr);
    assert!(!typo.exists(), "verify created the data dir");

    let data = store_with_log();
    let other = regie(&[
        "audit",
        "show",
        "--data",
        data.path().to_str().unwrap(),
        "--live",
        "winter",
    ]);
    assert_eq!(other.code, 2, "{}", other.stderr);
    assert!(
        other.stderr.contains("no live \"winter\""),
        "{}",
        other.stderr
    );
    let bad_anchor = audit("verify", data.path(), &["--anchor", "abc@1"]);
    assert_eq!(bad_anchor.code, 2, "{}", bad_anchor.stderr);
}
