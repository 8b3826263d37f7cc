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
use crate::protocol::{ConsentPurpose, ConsentState, Contact};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactField {
    Phone,
    Email,
}

impl ContactField {
    pub const ALL: [ContactField; 2] = [ContactField::Phone, ContactField::Email];

    /// Whether a value of this field may be collected for `purpose`: the
    /// one list of which consent can stand behind which contact value.
    /// Prize contact takes either; SMS reminders need a phone; marketing
    /// is by e-mail.
    pub fn serves(self, purpose: ConsentPurpose) -> bool {
        matches!(
            (self, purpose),
            (_, ConsentPurpose::PrizeContact)
                | (ContactField::Phone, ConsentPurpose::SmsReminders)
                | (ContactField::Email, ConsentPurpose::Marketing)
        )
    }

    /// This field's value in `contact`.
    pub fn of(self, contact: &Contact) -> Option<&str> {
        match self {
            ContactField::Phone => contact.phone.as_deref(),
            ContactField::Email => contact.email.as_deref(),
        }
    }
}

/// What a contact field given by a viewer asks of the store: an empty
/// value is the viewer removing what they gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldChange<'a> {
    Keep,
    Remove,
    Set(&'a str),
}

impl<'a> FieldChange<'a> {
    pub fn of(field: ContactField, contact: &'a Contact) -> Self {
        match field.of(contact).map(str::trim) {
            None => FieldChange::Keep,
            Some("") => FieldChange::Remove,
            Some(v) => FieldChange::Set(v),
        }
    }
}

/// The purpose a value given at `hello` is stored under: the one it was
/// collected for while that consent stays granted, else the most recent
/// granted purpose its field serves. `None`: no consent stands behind it,
/// so it is not stored.
pub fn purpose_in_force(
    field: ContactField,
    collected_for: Option<ConsentPurpose>,
    latest: &[ConsentState],
) -> Option<ConsentPurpose> {
    let granted = |p: ConsentPurpose| latest.iter().any(|c| c.purpose == p && c.granted);
    if let Some(p) = collected_for.filter(|&p| field.serves(p) && granted(p)) {
        return Some(p);
    }
    latest
        .iter()
        .filter(|c| c.granted && field.serves(c.purpose))
        .max_by_key(|c| c.at)
        .map(|c| c.purpose)
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

    fn consent(purpose: ConsentPurpose, granted: bool, at: i64) -> ConsentState {
        ConsentState {
            purpose,
            granted,
            at,
            channel: crate::protocol::ConsentChannel::Player,
            text_sha256: "0".repeat(64),
        }
    }

    #[test]
    fn a_value_at_hello_needs_a_granted_consent_its_field_serves() {
        use ConsentPurpose::{Marketing, PrizeContact, SmsReminders};
        let phone = ContactField::Phone;
        assert_eq!(purpose_in_force(phone, None, &[]), None);
        let marketing = [consent(Marketing, true, 1)];
        assert_eq!(purpose_in_force(phone, None, &marketing), None);
        assert_eq!(
            purpose_in_force(ContactField::Email, None, &marketing),
            Some(Marketing)
        );
        let both = [
            consent(SmsReminders, true, 1),
            consent(PrizeContact, true, 2),
        ];
        assert_eq!(purpose_in_force(phone, None, &both), Some(PrizeContact));
        assert_eq!(
            purpose_in_force(phone, Some(SmsReminders), &both),
            Some(SmsReminders),
            "the purpose it was collected for stays while granted"
        );
        let withdrawn = [consent(PrizeContact, false, 3)];
        assert_eq!(
            purpose_in_force(phone, Some(PrizeContact), &withdrawn),
            None
        );
    }

    #[test]
    fn an_empty_field_removes_and_an_absent_one_keeps() {
        let c = Contact {
            phone: Some("  ".into()),
            email: None,
        };
        assert_eq!(
            FieldChange::of(ContactField::Phone, &c),
            FieldChange::Remove
        );
        assert_eq!(FieldChange::of(ContactField::Email, &c), FieldChange::Keep);
        let c = Contact {
            phone: Some(" 06 12 ".into()),
            email: None,
        };
        assert_eq!(
            FieldChange::of(ContactField::Phone, &c),
            FieldChange::Set("06 12")
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
