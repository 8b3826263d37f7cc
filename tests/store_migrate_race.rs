//! Two processes opening a fresh data dir at once (`regie serve` and
//! `regie privacy …`, or two hubs started by a script) both migrate it:
//! each must see the other's steps and none may fail half-way with
//! "table lives already exists". Threads stand in for processes: each
//! opens its own SQLite connection, as a process would.

use std::sync::{Arc, Barrier};

use regie::store::{DB_FILE, SqliteStore};

/// Openers per round, and rounds: enough that, with a deferred
/// transaction, at least one round lets two openers read version 0 before
/// either writes.
const OPENERS: usize = 6;
const ROUNDS: usize = 8;

#[test]
fn openers_racing_on_a_fresh_data_dir_all_succeed() {
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().expect("test setup");
        let start = Arc::new(Barrier::new(OPENERS));
        let openers: Vec<_> = (0..OPENERS)
            .map(|_| {
                let data = dir.path().to_path_buf();
                let start = Arc::clone(&start);
                std::thread::spawn(move || {
                    start.wait();
                    SqliteStore::open(&data)
                        .map(drop)
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        let failures: Vec<String> = openers
            .into_iter()
            .filter_map(|t| t.join().expect("an opener panicked").err())
            .collect();
        assert!(
            failures.is_empty(),
            "round {round}: openers failed on a fresh data dir: {failures:?}"
        );
        // And the schema is whole: one more open finds nothing to do, and
        // the version is the one this build writes.
        drop(SqliteStore::open(dir.path()).expect("reopen"));
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("test setup");
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'lives'",
                [],
                |r| r.get(0),
            )
            .expect("test setup");
        assert_eq!(tables, 1, "round {round}");
    }
}
