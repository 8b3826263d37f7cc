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
//! the head hash elsewhere (a later feature) closes that.
//!
//! The target is an id (message `#12`, viewer `v-…`), never content: the log
//! must outlive redactions without keeping what they removed.

use sha2::{Digest, Sha256};

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
    let mut prev = GENESIS_HASH.to_string();
    for (i, r) in records.iter().enumerate() {
        let expected_index = i as u64 + 1;
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
