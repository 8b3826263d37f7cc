//! Contact data (phone, e-mail) encrypted at rest.
//!
//! A viewer's phone and e-mail are opt-in and never shown in clear, so the
//! store never holds them in clear either: each value is sealed with
//! ChaCha20-Poly1305 under a key kept in `<data>/contact.key` (mode 0600,
//! beside the database, not inside it). A copy of `regie.db` alone reveals
//! no contact data. Each value gets a fresh random nonce, and the live and
//! viewer id are bound as associated data, so a sealed value moved to
//! another viewer's row fails to open instead of leaking.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::auth::secret_file;

/// The key file's name in the data dir.
pub const CONTACT_KEY_FILE: &str = "contact.key";

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error(transparent)]
    Key(#[from] secret_file::SecretFileError),
    #[error("a sealed contact value does not open (wrong key, or moved between rows)")]
    Unseal,
    #[error("could not seal a contact value")]
    Seal,
}

/// Seals and opens contact values.
pub struct ContactCipher {
    aead: ChaCha20Poly1305,
}

impl std::fmt::Debug for ContactCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactCipher(..)")
    }
}

/// Which field a value is, bound into the associated data so a phone
/// cannot be swapped into the e-mail column.
#[derive(Debug, Clone, Copy)]
pub enum ContactField {
    Phone,
    Email,
}

impl ContactCipher {
    /// Loads `<data_dir>/contact.key`, creating it on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, ContactError> {
        let key = secret_file::load_or_create(&data_dir.join(CONTACT_KEY_FILE))?;
        Ok(Self::from_key(&key))
    }

    pub fn from_key(key: &[u8; 32]) -> Self {
        Self {
            aead: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// `nonce ‖ ciphertext+tag`.
    pub fn seal(
        &self,
        live: &str,
        viewer: &str,
        field: ContactField,
        value: &str,
    ) -> Result<Vec<u8>, ContactError> {
        let mut nonce = [0u8; NONCE_LEN];
        secret_file::os_random(&mut nonce)?;
        let aad = associated_data(live, viewer, field);
        let sealed = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| ContactError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(
        &self,
        live: &str,
        viewer: &str,
        field: ContactField,
        sealed: &[u8],
    ) -> Result<String, ContactError> {
        if sealed.len() < NONCE_LEN {
            return Err(ContactError::Unseal);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let aad = associated_data(live, viewer, field);
        let plain = self
            .aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| ContactError::Unseal)?;
        String::from_utf8(plain).map_err(|_| ContactError::Unseal)
    }
}

fn associated_data(live: &str, viewer: &str, field: ContactField) -> Vec<u8> {
    let field = match field {
        ContactField::Phone => "phone",
        ContactField::Email => "email",
    };
    let mut aad = Vec::with_capacity(live.len() + viewer.len() + 32);
    for part in ["regie-contact-v1", live, viewer, field] {
        aad.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_hides_the_value() {
        let c = ContactCipher::from_key(&[7; 32]);
        let sealed = c
            .seal("show", "v-1", ContactField::Phone, "+33 6 12 34 56 78")
            .unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"12 34 56"));
        assert_eq!(
            c.open("show", "v-1", ContactField::Phone, &sealed).unwrap(),
            "+33 6 12 34 56 78"
        );
    }

    #[test]
    fn a_value_moved_to_another_viewer_or_field_does_not_open() {
        let c = ContactCipher::from_key(&[7; 32]);
        let sealed = c
            .seal("show", "v-1", ContactField::Email, "a@b.fr")
            .unwrap();
        assert!(c.open("show", "v-2", ContactField::Email, &sealed).is_err());
        assert!(c.open("show", "v-1", ContactField::Phone, &sealed).is_err());
        assert!(
            c.open("other", "v-1", ContactField::Email, &sealed)
                .is_err()
        );
        let other_key = ContactCipher::from_key(&[8; 32]);
        assert!(
            other_key
                .open("show", "v-1", ContactField::Email, &sealed)
                .is_err()
        );
        assert!(
            c.open("show", "v-1", ContactField::Email, &sealed[..5])
                .is_err()
        );
    }
}
