//! The record of processing (Art. 30) against the real schema: every column
//! of a fresh store is declared either personal (in the register, printed by
//! `regie privacy register`) or not personal, never both, and the register
//! names no column that does not exist. A new column fails here until its
//! author decides which it is.

use std::collections::BTreeSet;
use std::process::Command;

use regie::privacy::register::{NOT_PERSONAL, REGISTER};
use regie::store::retention::RetentionPolicy;
use regie::store::{DB_FILE, SqliteStore};

/// `(table, column)` of every column of a freshly migrated store.
fn schema_columns() -> BTreeSet<(String, String)> {
    let dir = tempfile::tempdir().expect("test setup");
    drop(SqliteStore::open(dir.path()).expect("test setup"));
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("test setup");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("test setup")
        .query_map([], |r| r.get(0))
        .expect("test setup")
        .map(Result::unwrap)
        .collect();
    assert!(tables.len() > 5, "the schema has tables: {tables:?}");
    let mut columns = BTreeSet::new();
    for table in tables {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .expect("test setup");
        for column in stmt
            .query_map([&table], |r| r.get::<_, String>(0))
            .expect("test setup")
        {
            columns.insert((table.clone(), column.expect("test setup")));
        }
    }
    columns
}

#[test]
fn every_column_is_declared_personal_or_not_exactly_once() {
    let schema = schema_columns();
    let mut declared = BTreeSet::new();
    let entries = REGISTER
        .iter()
        .map(|f| (f.table, f.column))
        .chain(NOT_PERSONAL.iter().map(|n| (n.table, n.column)));
    for (table, column) in entries {
        let key = (table.to_string(), column.to_string());
        assert!(
            declared.insert(key.clone()),
            "{table}.{column} is declared twice (personal and not, or twice in one list)"
        );
    }
    let undeclared: Vec<_> = schema.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "columns with no decision: add each to privacy::register::REGISTER (personal data) \
         or NOT_PERSONAL (with why): {undeclared:?}"
    );
    let stale: Vec<_> = declared.difference(&schema).collect();
    assert!(
        stale.is_empty(),
        "declared columns not in the schema: {stale:?}"
    );
}

#[test]
fn every_register_entry_says_purpose_basis_retention_and_who() {
    for f in REGISTER {
        for (what, text) in [
            ("holds", f.holds),
            ("purpose", f.purpose),
            (
                "retention",
                &f.retention.describe(&RetentionPolicy::default()),
            ),
            ("seen_by", f.seen_by),
        ] {
            assert!(
                !text.trim().is_empty(),
                "{}.{} has no {what}",
                f.table,
                f.column
            );
        }
    }
}

#[test]
fn regie_privacy_register_prints_every_field_with_its_details() {
    let out = Command::new(env!("CARGO_BIN_EXE_regie"))
        .args(["privacy", "register"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Art. 30"), "{text}");
    for f in REGISTER {
        let head = format!("{}.{}: {}", f.table, f.column, f.holds);
        let at = text
            .find(&head)
            .unwrap_or_else(|| panic!("{head:?} is not printed:\n{text}"));
        let block: String = text[at..].lines().take(5).collect::<Vec<_>>().join("\n");
        let retention = f.retention.describe(&RetentionPolicy::default());
        for detail in [f.purpose, f.basis.describe(), &retention, f.seen_by] {
            assert!(block.contains(detail), "{detail:?} missing in\n{block}");
        }
    }
    for n in NOT_PERSONAL {
        assert!(
            !text.contains(&format!("{}.{}:", n.table, n.column)),
            "{}.{} is not personal but printed",
            n.table,
            n.column
        );
    }
}
