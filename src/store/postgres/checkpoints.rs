//! The audit chain's retention on PostgreSQL, as on SQLite: the sweep
//! deletes the chain's head past `[retention] audit` behind a checkpoint
//! (the last pruned record's index and hash) signed with HMAC-SHA256, so
//! whoever can write the database cannot move the chain's start to hide a
//! deletion.
//!
//! SQLite signs with `<data>/audit.key`; nodes have no file in common, so
//! here the key is derived from the contact keys every node holds
//! ([`ContactKeyring::derived`] with [`KEY_LABEL`]): any node can prune and
//! verify, and the database's administrator, who has no contact key, can
//! forge neither. A checkpoint is signed under the active key and checked
//! under each key of the ring; a sweep signs one made under an older key
//! again, so the chain still verifies once that key has left the ring (a
//! rotation given by the secret manager, `REGIE_CONTACT_KEY` and
//! `REGIE_CONTACT_KEY_PREVIOUS`).

use postgres::GenericClient;
use zeroize::Zeroizing;

use super::Statements;
use crate::protocol::Millis;
use crate::store::StoreError;
use crate::store::audit::Checkpoint;
use crate::store::contact::ContactKeyring;
use crate::store::rows::{sql_i64, u64_from_sql};

/// What the checkpoint key is derived under: no other key of regie is.
pub(super) const KEY_LABEL: &str = "regie-audit-checkpoint-v1";

/// The keys a checkpoint may be signed under, the one to sign with first.
pub(super) fn keys(ring: &ContactKeyring) -> Vec<Zeroizing<[u8; 32]>> {
    ring.derived(KEY_LABEL)
}

/// The live's checkpoint, as stored (not verified).
pub(super) fn read(
    sql: &mut Statements,
    conn: &mut impl GenericClient,
    live_id: i64,
) -> Result<Option<Checkpoint>, StoreError> {
    sql.query_opt(
        conn,
        "SELECT idx, hash, mac FROM audit_checkpoints WHERE live_id = $1",
        &[&live_id],
    )?
    .map(|r| {
        Ok(Checkpoint {
            index: u64_from_sql(r.try_get(0)?),
            hash: r.try_get(1)?,
            mac: r.try_get(2)?,
        })
    })
    .transpose()
}

/// Whether `checkpoint` is signed for `live` under one of `keys`.
pub(super) fn verify(
    checkpoint: &Checkpoint,
    live: &str,
    keys: &[Zeroizing<[u8; 32]>],
) -> Result<(), (u64, String)> {
    let mut outcome = Err((
        checkpoint.index,
        "no key to check the checkpoint with".into(),
    ));
    for key in keys {
        outcome = checkpoint.verify(key.as_slice(), live);
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

/// Deletes the records older than `before`, as a prefix of the chain (up
/// to the first record young enough), behind a checkpoint signed with the
/// first of `keys`; how many went. A checkpoint only moves forward, so two
/// nodes sweeping at once leave the furthest one. With nothing to prune, a
/// checkpoint signed under another key of the ring is signed again.
pub(super) fn prune(
    sql: &mut Statements,
    tx: &mut postgres::Transaction<'_>,
    live: &str,
    live_id: i64,
    before: Millis,
    keys: &[Zeroizing<[u8; 32]>],
) -> Result<u64, StoreError> {
    let Some(key) = keys.first() else {
        return Ok(0);
    };
    let Some(last) = sql.query_opt(
        tx,
        "SELECT idx, hash FROM audit WHERE live_id = $1 AND idx < coalesce( \
         (SELECT min(idx) FROM audit WHERE live_id = $1 AND at >= $2), $3) \
         ORDER BY idx DESC LIMIT 1",
        &[&live_id, &before, &i64::MAX],
    )?
    else {
        resign(sql, tx, live, live_id, keys)?;
        return Ok(0);
    };
    let key = key.as_slice();
    let (index, hash): (i64, String) = (last.try_get(0)?, last.try_get(1)?);
    let checkpoint = Checkpoint::sign(key, live, u64_from_sql(index), &hash);
    sql.exec(
        tx,
        "INSERT INTO audit_checkpoints (live_id, idx, hash, mac) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (live_id) DO UPDATE SET idx = excluded.idx, hash = excluded.hash, \
         mac = excluded.mac WHERE audit_checkpoints.idx < excluded.idx",
        &[
            &live_id,
            &sql_i64(checkpoint.index),
            &checkpoint.hash,
            &checkpoint.mac,
        ],
    )?;
    sql.exec(
        tx,
        "DELETE FROM audit WHERE live_id = $1 AND idx <= $2",
        &[&live_id, &index],
    )
}

/// Signs the live's checkpoint again under the active key (the first of
/// `keys`) when it verifies only under an older one; `true` when it did. A
/// forged one is left as it is, for the verification to refuse.
pub(super) fn resign(
    sql: &mut Statements,
    conn: &mut impl GenericClient,
    live: &str,
    live_id: i64,
    keys: &[Zeroizing<[u8; 32]>],
) -> Result<bool, StoreError> {
    let (Some(checkpoint), Some((active, older))) = (read(sql, conn, live_id)?, keys.split_first())
    else {
        return Ok(false);
    };
    if checkpoint.verify(active.as_slice(), live).is_ok()
        || verify(&checkpoint, live, older).is_err()
    {
        return Ok(false);
    }
    let signed = Checkpoint::sign(active.as_slice(), live, checkpoint.index, &checkpoint.hash);
    sql.exec(
        conn,
        "UPDATE audit_checkpoints SET mac = $3 WHERE live_id = $1 AND idx = $2",
        &[&live_id, &sql_i64(signed.index), &signed.mac],
    )?;
    Ok(true)
}
