//! A contact-key rotation on PostgreSQL (`regie keys rotate contact --store
//! postgres://…`): every sealed value not under the ring's active key is
//! opened and sealed again under it, a batch of viewers per transaction,
//! while the nodes keep serving; then every audit checkpoint signed under
//! an older key is signed again ([`super::checkpoints`]).
//!
//! Nodes share no key file, so the new key comes from the secret manager to
//! every node (`REGIE_CONTACT_KEY` the new one, `REGIE_CONTACT_KEY_PREVIOUS`
//! the old one, nodes restarted), and only then is the rotation run with
//! the same two; the old key may leave the nodes once it is done. A value
//! no key of the ring opens stops the rotation, its batch rolled back.

use super::{PostgresStore, checkpoints};
use crate::store::StoreError;
use crate::store::contact::{ContactError, ContactField, sealed_key_id};
use crate::store::rows::sql_len;

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resealed {
    /// Sealed values sealed again under the active key.
    pub values: usize,
    /// Transactions it took.
    pub batches: usize,
    /// Audit checkpoints signed again.
    pub checkpoints: usize,
}

impl PostgresStore {
    /// Seals every contact value under the active key, `batch` viewers per
    /// transaction, then signs older checkpoints again (see the module
    /// docs).
    pub fn reseal_contact(&mut self, batch: usize) -> Result<Resealed, StoreError> {
        self.reconnect_if_lost()?;
        let active = self.cipher.active_id();
        let mut done = Resealed::default();
        let mut after = (0_i64, String::new());
        loop {
            let Self {
                client,
                statements,
                cipher,
                ..
            } = self;
            let mut tx = statements.begin(client)?;
            let rows = statements.query(
                &mut tx,
                "SELECT v.live_id, l.name, v.viewer_id, v.phone_sealed, v.email_sealed \
                 FROM viewers v JOIN lives l ON l.id = v.live_id \
                 WHERE (v.live_id, v.viewer_id) > ($1, $2) \
                 AND (v.phone_sealed IS NOT NULL OR v.email_sealed IS NOT NULL) \
                 ORDER BY v.live_id, v.viewer_id LIMIT $3 FOR UPDATE OF v",
                &[&after.0, &after.1, &sql_len(batch.max(1))],
            )?;
            let Some(last) = rows.last() else {
                break;
            };
            after = (last.try_get(0)?, last.try_get(2)?);
            let mut unopenable = 0;
            for row in &rows {
                let (live_id, live, viewer): (i64, String, String) =
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                let mut reseal = |field, at: usize| -> Result<Option<Vec<u8>>, StoreError> {
                    let Some(sealed) = row.try_get::<_, Option<Vec<u8>>>(at)? else {
                        return Ok(None);
                    };
                    if sealed_key_id(&sealed) == Some(active) {
                        return Ok(None);
                    }
                    let Ok(plain) = cipher.open(&live, &viewer, field, &sealed) else {
                        unopenable += 1;
                        return Ok(None);
                    };
                    let plain = zeroize::Zeroizing::new(plain);
                    Ok(Some(cipher.seal(&live, &viewer, field, &plain)?))
                };
                let phone = reseal(ContactField::Phone, 3)?;
                let email = reseal(ContactField::Email, 4)?;
                if phone.is_none() && email.is_none() {
                    continue;
                }
                done.values += usize::from(phone.is_some()) + usize::from(email.is_some());
                statements.exec(
                    &mut tx,
                    "UPDATE viewers SET phone_sealed = coalesce($3, phone_sealed), \
                     email_sealed = coalesce($4, email_sealed) \
                     WHERE live_id = $1 AND viewer_id = $2",
                    &[&live_id, &viewer, &phone, &email],
                )?;
            }
            if unopenable > 0 {
                // Dropped without a commit: rolled back, nothing half-done.
                return Err(ContactError::Unopenable(unopenable).into());
            }
            statements.finish(tx)?;
            done.batches += 1;
        }
        done.checkpoints = self.resign_checkpoints()?;
        Ok(done)
    }

    /// Signs every checkpoint that verifies only under an older key of the
    /// ring again under the active one; how many.
    fn resign_checkpoints(&mut self) -> Result<usize, StoreError> {
        let keys = checkpoints::keys(&self.cipher);
        let lives = self.statements.query(
            &mut self.client,
            "SELECT c.live_id, l.name FROM audit_checkpoints c JOIN lives l ON l.id = c.live_id \
             ORDER BY c.live_id",
            &[],
        )?;
        let mut signed = 0;
        for row in &lives {
            let (live_id, live): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
            if checkpoints::resign(
                &mut self.statements,
                &mut self.client,
                &live,
                live_id,
                &keys,
            )? {
                signed += 1;
            }
        }
        Ok(signed)
    }
}
