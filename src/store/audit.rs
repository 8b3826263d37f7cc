//! The audit log's records and its hash chain.
//!
//! Every staff action (who, role, what, target, why, when) is appended to an
//! audit log that is tamper-evident: each record carries
//! `sha256(previous hash ‖ canonical bytes of the record)`. Changing,
//! removing or reordering a record breaks every hash after it, which
//! [`crate::store::Store::verify_audit_chain`] detects. The database also
//! refuses `UPDATE` and `DELETE` on the table (triggers), so the log is
//! append-only through any ordinary path.
//!
//! What the chain cannot show on its own: someone with write access to the
//! file who drops the *last* records, or rewrites the whole chain. Exporting
//! the head hash elsewhere closes that: `regie audit head` prints an
//! [`Anchor`] (`HASH@INDEX`) to keep outside the hub, and
//! `regie audit verify --anchor` checks the chain still holds it
//! ([`check_anchor`]).
//!
//! The target is an id (message `#12`, viewer `v-…`), never content: the log
//! must outlive redactions without keeping what they removed.
//!
//! Retention prunes the oldest records (`store::retention`). Before it
//! deletes any, it writes a [`Checkpoint`]: the index and hash of the last
//! pruned record, signed with HMAC-SHA256 under `<data>/audit.key`. The
//! chain then starts from the checkpoint instead of the genesis hash
//! ([`verify_from`]): it still verifies after pruning, and fails when the
//! checkpoint is forged or records it covers are put back. The database
//! lets a record be deleted only once a checkpoint covers it (trigger).

use std::path::Path;

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use super::StoreError;
use crate::hex;
use crate::protocol::{Millis, StaffRole};

/// One staff action, as the hub describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor_name: String,
    pub actor_role: StaffRole,
    /// The command's wire name: `redact`, `ban`, `viewer_card`, ...
    pub action: String,
    /// What was acted on, by id (`#12`, a viewer id). Never message text.
    pub target: String,
    /// Why, as the staff member typed it (may be empty).
    pub reason: String,
    pub at: Millis,
}

/// An audit entry as stored: numbered within its live and chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// 1, 2, 3, ... within the live.
    pub index: u64,
    pub entry: AuditEntry,
    /// Hex SHA-256 of the previous record ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of `prev_hash ‖ canonical(record)`.
    pub hash: String,
}

/// The `prev_hash` of a live's first audit record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chained hash of a record. The canonical form is every field
/// length-prefixed, so no choice of field contents can make two different
/// records encode the same bytes.
pub fn chain_hash(prev_hash: &str, live: &str, index: u64, entry: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(prev_hash.as_bytes());
    field(live.as_bytes());
    field(&index.to_be_bytes());
    field(&entry.at.to_be_bytes());
    field(entry.actor_name.as_bytes());
    field(entry.actor_role.as_str().as_bytes());
    field(entry.action.as_bytes());
    field(entry.target.as_bytes());
    field(entry.reason.as_bytes());
    hex(&h.finalize())
}

/// Checks a live's records in order; the error is the index of the first
/// record whose link or hash is wrong, and why.
pub fn verify_chain(live: &str, records: &[AuditRecord]) -> Result<(), (u64, String)> {
    verify_from(live, None, records)
}

/// [`verify_chain`] for a log that may have been pruned: with a
/// (signature-checked) checkpoint, the first record must be the one after
/// it and link to its hash; a record the checkpoint covers is an error.
pub fn verify_from(
    live: &str,
    checkpoint: Option<&Checkpoint>,
    records: &[AuditRecord],
) -> Result<(), (u64, String)> {
    let (start, mut prev) =
        checkpoint.map_or((0, GENESIS_HASH.to_string()), |c| (c.index, c.hash.clone()));
    if let Some(r) = records.iter().find(|r| r.index <= start) {
        return Err((
            r.index,
            format!(
                "record {} was pruned at checkpoint {start}, yet is back",
                r.index
            ),
        ));
    }
    for (i, r) in records.iter().enumerate() {
        let expected_index = start + i as u64 + 1;
        if r.index != expected_index {
            return Err((
                r.index,
                format!("expected record {expected_index}, found {}", r.index),
            ));
        }
        if r.prev_hash != prev {
            return Err((r.index, "does not link to the previous record".into()));
        }
        if chain_hash(&r.prev_hash, live, r.index, &r.entry) != r.hash {
            return Err((r.index, "content does not match its hash".into()));
        }
        prev.clone_from(&r.hash);
    }
    Ok(())
}

/// A point of the chain kept outside the hub: record `index` has `hash`.
/// Written `HASH@INDEX`, the form `regie audit head` prints and
/// `regie audit verify --anchor` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub index: u64,
    /// Lower-case hex SHA-256.
    pub hash: String,
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.hash, self.index)
    }
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (hash, index) = s.rsplit_once('@').ok_or_else(|| {
            "an anchor is HASH@INDEX, as `regie audit head` prints it".to_string()
        })?;
        let index: u64 = index
            .parse()
            .ok()
            .filter(|i| *i > 0)
            .ok_or_else(|| format!("{index:?} is not a record number (1, 2, 3, ...)"))?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the anchor's hash is not 64 hex digits".into());
        }
        Ok(Anchor { index, hash })
    }
}

/// The newest record as an [`Anchor`]; once retention has pruned every
/// record, the checkpoint's (the last pruned one, still the chain's head).
/// `None` only for a log that never held a record.
pub fn head(checkpoint: Option<&Checkpoint>, records: &[AuditRecord]) -> Option<Anchor> {
    records
        .last()
        .map(|r| Anchor {
            index: r.index,
            hash: r.hash.clone(),
        })
        .or_else(|| {
            checkpoint.map(|c| Anchor {
                index: c.index,
                hash: c.hash.clone(),
            })
        })
}

/// Whether a (verified) chain still holds `anchor`: record `anchor.index`
/// exists and has that hash. Dropping the newest records, or rewriting the
/// whole chain, fails here even though the chain itself verifies. An anchor
/// on a pruned record holds only if it is the checkpoint's own record.
pub fn check_anchor(
    checkpoint: Option<&Checkpoint>,
    records: &[AuditRecord],
    anchor: &Anchor,
) -> Result<(), String> {
    if let Some(c) = checkpoint.filter(|c| anchor.index <= c.index) {
        return if anchor.index == c.index && anchor.hash == c.hash {
            Ok(())
        } else if anchor.index == c.index {
            Err(format!(
                "record {} was pruned with hash {}, not the anchored {}",
                c.index, c.hash, anchor.hash
            ))
        } else {
            Err(format!(
                "record {} was pruned by retention (the log starts after record {})",
                anchor.index, c.index
            ))
        };
    }
    let first = records.first().map_or(1, |r| r.index);
    let found = anchor
        .index
        .checked_sub(first)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| records.get(i));
    match found {
        None => Err(format!(
            "record {} is gone: the log ends at record {}",
            anchor.index,
            records.last().map_or(0, |r| r.index)
        )),
        Some(r) if r.hash != anchor.hash => Err(format!(
            "record {} has hash {}, not the anchored {}",
            anchor.index, r.hash, anchor.hash
        )),
        Some(_) => Ok(()),
    }
}

/// The audit-checkpoint key's file in the data dir.
pub const AUDIT_KEY_FILE: &str = "audit.key";

type HmacSha256 = Hmac<Sha256>;

/// Where a pruned chain starts: record `index` (deleted by retention) had
/// `hash`. Signed, so that whoever can write the file cannot move the start
/// of the chain to hide a deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub index: u64,
    /// Lower-case hex SHA-256 of the last pruned record.
    pub hash: String,
    /// Hex HMAC-SHA256 over the live, the index and the hash.
    pub mac: String,
}

impl Checkpoint {
    fn tag(key: &[u8], live: &str, index: u64, hash: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
        for field in [live.as_bytes(), &index.to_be_bytes(), hash.as_bytes()] {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        mac
    }

    /// A checkpoint at `index`/`hash` of `live`, signed under `key`.
    pub fn sign(key: &[u8], live: &str, index: u64, hash: &str) -> Self {
        let mac = hex(&Self::tag(key, live, index, hash).finalize().into_bytes());
        Self {
            index,
            hash: hash.to_string(),
            mac,
        }
    }

    /// Whether the signature is this live's, under `key` (compared in
    /// constant time).
    pub fn verify(&self, key: &[u8], live: &str) -> Result<(), (u64, String)> {
        let forged = || {
            (
                self.index,
                format!(
                    "the retention checkpoint at record {} is not signed by this hub's audit key",
                    self.index
                ),
            )
        };
        let bytes = unhex(&self.mac).ok_or_else(forged)?;
        Self::tag(key, live, self.index, &self.hash)
            .verify_slice(&bytes)
            .map_err(|_| forged())
    }
}

/// Lower-case or upper-case hex to bytes; `None` for anything else.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// A live's checkpoint, if its log was ever pruned.
pub(crate) fn read_checkpoint(
    conn: &Connection,
    live_id: i64,
) -> Result<Option<Checkpoint>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT idx, hash, mac FROM audit_checkpoints WHERE live_id = ?1")?
        .query_row([live_id], |r| {
            Ok(Checkpoint {
                index: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                hash: r.get(1)?,
                mac: r.get(2)?,
            })
        })
        .optional()?)
}

/// A live's records in index order, as stored (not verified).
pub(crate) fn read_records(
    conn: &Connection,
    live_id: i64,
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT idx, at, actor_name, actor_role, action, target, reason, prev_hash, hash \
         FROM audit WHERE live_id = ?1 ORDER BY idx",
    )?;
    let rows = stmt.query_map([live_id], |r| {
        let role: String = r.get(3)?;
        Ok(AuditRecord {
            index: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            entry: AuditEntry {
                at: r.get(1)?,
                actor_name: r.get(2)?,
                actor_role: role.parse().map_err(|e: String| {
                    rusqlite::Error::FromSqlConversionFailure(
                        3,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
                })?,
                action: r.get(4)?,
                target: r.get(5)?,
                reason: r.get(6)?,
            },
            prev_hash: r.get(7)?,
            hash: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reads a live's audit log from the store file `db` (`<data>/regie.db`)
/// **read-only**, while
/// a hub may be serving from it: no key is loaded, nothing is created, and
/// a missing store or live is an error rather than a fresh empty one.
pub fn read_log(db: &Path, live: &str) -> Result<Vec<AuditRecord>, StoreError> {
    read_log_and_checkpoint(db, live).map(|(records, _)| records)
}

/// [`read_log`] with the live's retention checkpoint, when it has one
/// (its signature is not checked here: see [`Checkpoint::verify`]).
pub fn read_log_and_checkpoint(
    db: &Path,
    live: &str,
) -> Result<(Vec<AuditRecord>, Option<Checkpoint>), StoreError> {
    let path = db.to_path_buf();
    if !path.exists() {
        return Err(StoreError::Io {
            path,
            source: std::io::ErrorKind::NotFound.into(),
        });
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let live_id: i64 = conn
        .query_row("SELECT id FROM lives WHERE name = ?1", [live], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::UnknownLive(live.to_string()))?;
    let has_checkpoints: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_checkpoints'",
        [],
        |r| r.get(0),
    )?;
    let checkpoint = if has_checkpoints {
        read_checkpoint(&conn, live_id)?
    } else {
        None
    };
    Ok((read_records(&conn, live_id)?, checkpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> AuditEntry {
        AuditEntry {
            actor_name: "Inès".into(),
            actor_role: StaffRole::Support,
            action: action.into(),
            target: "#3".into(),
            reason: "asked by viewer".into(),
            at: 1_700_000_000_000,
        }
    }

    fn chain(live: &str, actions: &[&str]) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_string();
        let mut out = Vec::new();
        for (i, a) in actions.iter().enumerate() {
            let e = entry(a);
            let hash = chain_hash(&prev, live, i as u64 + 1, &e);
            out.push(AuditRecord {
                index: i as u64 + 1,
                entry: e,
                prev_hash: prev,
                hash: hash.clone(),
            });
            prev = hash;
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(
            verify_chain("show", &chain("show", &["redact", "ban", "pin"])),
            Ok(())
        );
    }

    #[test]
    fn a_changed_field_breaks_the_chain_at_that_record() {
        let mut c = chain("show", &["redact", "ban", "pin"]);
        c[1].entry.reason = "nothing to see".into();
        assert_eq!(verify_chain("show", &c).unwrap_err().0, 2);
    }

    #[test]
    fn a_removed_record_breaks_the_chain() {
        let mut c = chain("show", &["redact", "ban", "pin"]);
        c.remove(1);
        assert_eq!(verify_chain("show", &c).unwrap_err().0, 3);
    }

    #[test]
    fn a_recomputed_hash_without_relinking_is_caught() {
        let mut c = chain("show", &["redact", "ban", "pin"]);
        c[0].entry.target = "#4".into();
        c[0].hash = chain_hash(&c[0].prev_hash, "show", 1, &c[0].entry);
        assert_eq!(verify_chain("show", &c).unwrap_err().0, 2);
    }

    #[test]
    fn the_chain_is_bound_to_its_live() {
        let c = chain("show", &["redact"]);
        assert!(verify_chain("other", &c).is_err());
    }

    #[test]
    fn field_boundaries_matter() {
        let mut a = entry("ban");
        a.target = "ab".into();
        a.reason = "c".into();
        let mut b = entry("ban");
        b.target = "a".into();
        b.reason = "bc".into();
        assert_ne!(
            chain_hash(GENESIS_HASH, "show", 1, &a),
            chain_hash(GENESIS_HASH, "show", 1, &b)
        );
    }
}

#[cfg(test)]
mod anchor_tests {
    use super::*;

    #[test]
    fn an_anchor_reads_back_what_it_prints_and_refuses_junk() {
        let a = Anchor {
            index: 7,
            hash: "ab".repeat(32),
        };
        assert_eq!(a.to_string().parse::<Anchor>(), Ok(a));
        for bad in [
            "",
            "abc",
            &format!("{}@0", "ab".repeat(32)),
            &format!("{}@x", "ab".repeat(32)),
            "zz@3",
        ] {
            assert!(bad.parse::<Anchor>().is_err(), "{bad:?}");
        }
    }
}
