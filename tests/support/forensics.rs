//! What a forensic look at a data dir finds: every stored value and the raw
//! files, the hash prefixes they could hide, and text as UTF-16 too, for
//! the privacy tests that scan a store as an attacker would.

use std::collections::HashSet;
use std::path::Path;

use regie::store::DB_FILE;

/// `s` as UTF-16LE bytes, the other encoding a scan must try.
pub(crate) fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The raw bytes of the database, its WAL and its shared-memory index.
pub(crate) fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| format!("{DB_FILE}{suffix}"))
        .filter_map(|name| std::fs::read(dir.join(&name)).ok().map(|b| (name, b)))
        .collect()
}

/// Every value of every column of every table (read through SQLite, so the
/// WAL's committed pages count), plus the raw files.
pub(crate) fn everything_stored(dir: &Path) -> Vec<(String, Vec<u8>)> {
    use rusqlite::types::ValueRef;
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| {
            s.query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()
        })
        .expect("list tables");
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = db
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .expect("select a table");
        let columns: Vec<String> = stmt
            .column_names()
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut rows = stmt.query([]).expect("read a table");
        while let Some(row) = rows.next().expect("a row") {
            for (i, column) in columns.iter().enumerate() {
                let bytes = match row.get_ref(i).expect("a value") {
                    ValueRef::Null => continue,
                    ValueRef::Integer(n) => n.to_string().into_bytes(),
                    ValueRef::Real(f) => f.to_string().into_bytes(),
                    ValueRef::Text(t) | ValueRef::Blob(t) => t.to_vec(),
                };
                out.push((format!("{table}.{column}"), bytes));
            }
        }
    }
    out.extend(files(dir));
    out
}

/// Every 8-byte prefix a stored hash could show: each 8-byte window of the
/// raw bytes, and each 16-digit window of hex text decoded.
pub(crate) fn hash_prefixes(stored: &[(String, Vec<u8>)]) -> HashSet<[u8; 8]> {
    let mut set = HashSet::new();
    for (_, bytes) in stored {
        for w in bytes.windows(8) {
            set.insert(<[u8; 8]>::try_from(w).expect("8 bytes"));
        }
        for run in bytes.split(|b| !b.is_ascii_hexdigit()) {
            for w in run.windows(16) {
                let hex = std::str::from_utf8(w).expect("hex digits are ASCII");
                let mut prefix = [0u8; 8];
                for (i, byte) in prefix.iter_mut().enumerate() {
                    *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
                }
                set.insert(prefix);
            }
        }
    }
    set
}
