//! Known answers for the audit log's hash chain, so an audit log exported
//! today still verifies after any refactor, and an outside auditor can check
//! it with the description in `docs/draws.md` ("The audit chain").
//!
//! The hashes were computed by `tests/fixtures/reference_vectors.py` (Python
//! `hashlib`, written from the doc, sharing no code with the crate) and
//! pinned here as literals; the last test runs that script again.

mod support;

use support::reference::python;

use regie::protocol::{Millis, StaffRole};
use regie::store::audit::{GENESIS_HASH, chain_hash, verify_chain};
use regie::store::{AuditEntry, AuditRecord, Commit, SqliteStore, Store};
use serde_json::json;

struct Row {
    at: Millis,
    actor_name: &'static str,
    actor_role: StaffRole,
    action: &'static str,
    target: &'static str,
    reason: &'static str,
    hash: &'static str,
}

const LIVE: &str = "spring-sale";

/// A show's staff actions, in order. Records 5 and 6 move a byte between
/// `target` and `reason`: only the length prefixes tell them apart.
const SHOW: &[Row] = &[
    Row {
        at: 1_750_000_000_000,
        actor_name: "Inès",
        actor_role: StaffRole::Support,
        action: "redact",
        target: "#12",
        reason: "phone number posted",
        hash: "56a5014b452b88521c74f63c884a9570947cab28425d703158af8056d58920b6",
    },
    Row {
        at: 1_750_000_001_500,
        actor_name: "Marc",
        actor_role: StaffRole::Moderator,
        action: "ban",
        target: "v-3fa9c0ee12d4b7a1",
        reason: "",
        hash: "f7391d636b9cdee974bd588a473b43f40c120e5e6afd38d29a117fb065a34dc8",
    },
    Row {
        at: 1_750_000_116_000,
        actor_name: "Sophie",
        actor_role: StaffRole::Host,
        action: "instant_win_open",
        target: "#2",
        reason: "",
        hash: "5c02937135e81aa5ba83b43ba2defe89b1a4a219bfb3d17d5ae0445ce6b16a22",
    },
    Row {
        at: 1_750_000_236_000,
        actor_name: "hub",
        actor_role: StaffRole::Admin,
        action: "instant_win_draw",
        target: "#2",
        reason: "deadline",
        hash: "652a2448b489bc36523406cffe0cc1ac086daf282b8a8f137a3c43d59554a50f",
    },
    Row {
        at: 1_750_000_300_000,
        actor_name: "Léa",
        actor_role: StaffRole::Host,
        action: "pin",
        target: "#7",
        reason: "ab",
        hash: "54cc613ab588a79a4b269f4910148906fad4c2753cac9f9bf16e5b3ad06d8926",
    },
    Row {
        at: 1_750_000_300_001,
        actor_name: "Léa",
        actor_role: StaffRole::Host,
        action: "pin",
        target: "#7a",
        reason: "b",
        hash: "f07747dc5a8a15b73ce20dc5d5f73f215e79312e49d930f0e0105577ad79af5d",
    },
];

/// The edges: a non-ASCII live name, a negative time (two's complement), an
/// empty name, a line feed in the reason.
const EDGE_LIVE: &str = "démo-été";
const EDGE: Row = Row {
    at: -1,
    actor_name: "",
    actor_role: StaffRole::Admin,
    action: "viewer_card",
    target: "v-😀",
    reason: "été\nhiver",
    hash: "c790cf6d51ce29d69d011028073d94a7e0ac66ee173cfe9cc90cd4420cb1bc69",
};

fn entry(r: &Row) -> AuditEntry {
    AuditEntry {
        actor_name: r.actor_name.into(),
        actor_role: r.actor_role,
        action: r.action.into(),
        target: r.target.into(),
        reason: r.reason.into(),
        at: r.at,
    }
}

/// The records as the pinned hashes say they were stored.
fn records(rows: &[Row]) -> Vec<AuditRecord> {
    let mut prev = GENESIS_HASH;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let record = AuditRecord {
                index: i as u64 + 1,
                entry: entry(r),
                prev_hash: prev.into(),
                hash: r.hash.into(),
            };
            prev = r.hash;
            record
        })
        .collect()
}

#[test]
fn the_chain_matches_its_known_answers() {
    let mut prev = GENESIS_HASH.to_string();
    for (i, r) in SHOW.iter().enumerate() {
        let hash = chain_hash(&prev, LIVE, i as u64 + 1, &entry(r));
        assert_eq!(hash, r.hash, "record {}", i + 1);
        prev = hash;
    }
    assert_eq!(
        chain_hash(GENESIS_HASH, EDGE_LIVE, 1, &entry(&EDGE)),
        EDGE.hash
    );
    assert_eq!(verify_chain(LIVE, &records(SHOW)), Ok(()));
    assert_eq!(
        verify_chain(EDGE_LIVE, &records(std::slice::from_ref(&EDGE))),
        Ok(())
    );
}

/// The store chains what the hub commits the same way: its log of this
/// show, written through `Store::commit`, holds exactly the pinned hashes.
#[test]
fn the_store_writes_the_known_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open(dir.path()).expect("open the store");
    store.open_live(LIVE).expect("open the live");
    for r in &SHOW[..3] {
        store
            .commit(LIVE, &[Commit::without_event().with_audit(entry(r))])
            .expect("commit an audit entry");
    }
    drop(store);

    // Reopened, the chain continues from the stored head; the rest in one
    // batch, as a busy session actor commits.
    let mut store = SqliteStore::open(dir.path()).expect("reopen the store");
    store.open_live(LIVE).expect("open the live");
    let batch: Vec<Commit> = SHOW[3..]
        .iter()
        .map(|r| Commit::without_event().with_audit(entry(r)))
        .collect();
    store.commit(LIVE, &batch).expect("commit a batch");
    assert_eq!(store.audit_log(LIVE).expect("read the log"), records(SHOW));
    store
        .verify_audit_chain(LIVE)
        .expect("the stored chain verifies");
}

#[test]
fn an_independent_python_implementation_agrees() {
    let as_json = |rows: &[Row]| {
        rows.iter()
            .map(|r| {
                json!({
                    "at": r.at, "actor_name": r.actor_name, "actor_role": r.actor_role.as_str(),
                    "action": r.action, "target": r.target, "reason": r.reason,
                })
            })
            .collect::<Vec<_>>()
    };
    let request = json!({"audit": [
        {"live": LIVE, "records": as_json(SHOW)},
        {"live": EDGE_LIVE, "records": as_json(std::slice::from_ref(&EDGE))},
    ]});
    let Some(answer) = python(&request) else {
        eprintln!("SKIPPED: python3 is not installed, so the Python cross-check did not run");
        return;
    };
    let theirs = |chain: usize| -> Vec<(u64, String, String)> {
        answer["audit"][chain]
            .as_array()
            .expect("a chain")
            .iter()
            .map(|r| {
                (
                    r["index"].as_u64().expect("an index"),
                    r["prev_hash"].as_str().expect("hex").to_string(),
                    r["hash"].as_str().expect("hex").to_string(),
                )
            })
            .collect()
    };
    let ours = |rows: &[Row]| -> Vec<(u64, String, String)> {
        records(rows)
            .into_iter()
            .map(|r| (r.index, r.prev_hash, r.hash))
            .collect()
    };
    assert_eq!(theirs(0), ours(SHOW));
    assert_eq!(theirs(1), ours(std::slice::from_ref(&EDGE)));
}
