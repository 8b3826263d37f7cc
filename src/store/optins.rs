//! The opt-ins in force for one purpose, across every live of the store,
//! with their proof and their contact value opened
//! ([`crate::privacy::optins`] writes them out).
//!
//! A child of the SQLite store (declared in `sqlite.rs`) so it reads the
//! connection and opens sealed values with the store's keyring.

use rusqlite::params;

use super::{SqliteStore, refresh_keys, wire_name};
use crate::privacy::optins::OptIn;
use crate::protocol::ConsentPurpose;
use crate::store::StoreError;
use crate::store::contact::ContactField;

/// One consent row as read, contact still sealed.
type Stored = (
    String,
    String,
    i64,
    String,
    String,
    Option<i64>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

impl SqliteStore {
    /// Every viewer, in every live, whose latest consent for `purpose` is
    /// a grant: oldest live first, then in the order they consented. The
    /// contact values that serve `purpose` are opened; a value that does
    /// not open (a key gone) is an error, never a row silently without it.
    pub fn opt_ins(&mut self, purpose: ConsentPurpose) -> Result<Vec<OptIn>, StoreError> {
        refresh_keys(&mut self.cipher);
        let purpose_name = wire_name(&purpose);
        let stored = self
            .conn
            .prepare(
                "SELECT l.name, c.viewer_id, c.at, c.channel, c.text_sha256, t.first_seen, \
                        v.email_sealed, v.phone_sealed \
                 FROM consents c \
                 JOIN lives l ON l.id = c.live_id \
                 LEFT JOIN consent_texts t ON t.sha256 = c.text_sha256 \
                 LEFT JOIN viewers v ON v.live_id = c.live_id AND v.viewer_id = c.viewer_id \
                 WHERE c.purpose = ?1 AND c.granted = 1 \
                   AND c.id = (SELECT max(x.id) FROM consents x \
                               WHERE x.live_id = c.live_id AND x.viewer_id = c.viewer_id \
                                 AND x.purpose = c.purpose) \
                 ORDER BY c.live_id, c.id",
            )?
            .query_map(params![purpose_name], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<Stored>>>()?;
        stored
            .into_iter()
            .map(
                |(live, viewer, at, channel, sha, registered, email, phone)| {
                    let open = |field: ContactField, sealed: Option<Vec<u8>>| {
                        sealed
                            .filter(|_| field.serves(purpose))
                            .map(|s| self.cipher.open(&live, &viewer, field, &s))
                            .transpose()
                            .map_err(StoreError::from)
                    };
                    Ok(OptIn {
                        email: open(ContactField::Email, email)?,
                        phone: open(ContactField::Phone, phone)?,
                        purpose: purpose_name.clone(),
                        granted_at: at,
                        channel,
                        text_sha256: sha,
                        text_registered_at: registered,
                        live,
                        viewer_id: viewer,
                    })
                },
            )
            .collect()
    }
}
