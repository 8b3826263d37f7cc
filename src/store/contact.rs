//! Contact data (phone, e-mail) encrypted at rest, under a rotatable keyring.
//!
//! A viewer's phone and e-mail are opt-in and never shown in clear, so the
//! store never holds them in clear either: each value is sealed with
//! ChaCha20-Poly1305 under the contact key. A copy of `regie.db` alone
//! reveals no contact data. Each value gets a fresh random nonce, and the
//! live and viewer id are bound as associated data, so a sealed value moved
//! to another viewer's row fails to open instead of leaking.
//!
//! # Keys and rotation
//!
//! Every sealed value names the key that sealed it: `0x02 ‖ key id (4) ‖
//! nonce (12) ‖ ciphertext+tag`, the key id being the first 4 bytes of
//! `SHA-256("regie-contact-key-id" ‖ key)` (values from before key ids,
//! `nonce ‖ ciphertext+tag`, still open: every key is tried). So old and new
//! keys coexist while `regie keys rotate contact` ([`rotate`]) re-seals the
//! rows in batches, with the hub serving:
//!
//! 1. holding the database's write lock, the active key is copied to
//!    `contact.retired-<id>.key` and `contact.key` is replaced by a new key;
//! 2. the rows still sealed under another key are re-sealed, a batch per
//!    transaction, until none is left;
//! 3. the retired key files are removed.
//!
//! The running hub learns the new key without a signal: before it seals or
//! opens a value, [`ContactKeyring::refresh`] compares the key files' stamp
//! (size, mtime, inode of `contact.key`, names of the retired files) with
//! the one it loaded and reloads on a change. It seals inside its own write
//! transaction, so a value is sealed either before step 1 (and step 2
//! re-seals it) or after (under the new key): none is left under a key
//! that step 3 removes. After step 3, its next refresh drops the old key
//! from memory too.
//!
//! Keys can live outside the data dir: a directory (`--keys DIR`), or the
//! environment (`REGIE_CONTACT_KEY`, 32 bytes in hex or base64, for a secret
//! manager; `REGIE_CONTACT_KEY_PREVIOUS` lists older keys, comma-separated,
//! while values sealed under them remain). An environment keyring never
//! changes under a running hub: rotate it in the secret manager (new key in
//! `REGIE_CONTACT_KEY`, old one in `..._PREVIOUS`), restart, then run
//! `regie keys rotate contact` with the same environment to re-seal.
//!
//! Every copy of a key is held in a [`Zeroizing`] buffer, wiped on drop; the
//! cipher is built from it for each operation, not kept.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::auth::secret_file::{self, SECRET_LEN};
use crate::protocol::{ConsentPurpose, ConsentState, Contact};

/// The active key file's name in the keys dir (the data dir by default).
pub const CONTACT_KEY_FILE: &str = "contact.key";
/// The environment variable holding the contact key (hex or base64).
pub const CONTACT_KEY_ENV: &str = "REGIE_CONTACT_KEY";
/// Older keys still needed, comma-separated (hex or base64 each).
pub const PREVIOUS_KEYS_ENV: &str = "REGIE_CONTACT_KEY_PREVIOUS";

/// The label phone lookups are derived for (`sms_subscriptions.lookup`,
/// `sms_stopped.lookup`): an inbound SMS finds its sender's rows.
pub const PHONE_LOOKUP_LABEL: &str = "regie-sms-lookup-v1";
/// The label e-mail lookups are derived for (`email_lookups.lookup`): an
/// e-mail provider's unsubscribe finds the viewer who gave that address.
pub const EMAIL_LOOKUP_LABEL: &str = "regie-email-lookup-v1";

/// The form of an e-mail address its lookup is taken over: trimmed, lower
/// case (providers report `Lea@Example.fr` as they like).
pub fn email_lookup_form(email: &str) -> String {
    email.trim().to_lowercase()
}

const RETIRED_PREFIX: &str = "contact.retired-";
const NONCE_LEN: usize = 12;
const VERSION_KEYED: u8 = 2;
const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = 1 + KEY_ID_LEN;

/// Which key sealed a value.
pub type KeyId = [u8; KEY_ID_LEN];

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error(transparent)]
    Key(#[from] secret_file::SecretFileError),
    #[error("a sealed contact value does not open (wrong key, or moved between rows)")]
    Unseal,
    #[error("could not seal a contact value")]
    Seal,
    #[error("{CONTACT_KEY_ENV} (or {PREVIOUS_KEYS_ENV}) is not a 32-byte key in hex or base64")]
    BadEnvKey,
    #[error(
        "the contact key comes from {CONTACT_KEY_ENV}: put the new key there and the old one in \
         {PREVIOUS_KEYS_ENV}, restart the hub, then run this again to re-seal"
    )]
    EnvNotRotatable,
    #[error("{0} contact values open under no key; no key was removed")]
    Unopenable(usize),
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
}

/// Where the contact keys come from.
#[derive(Clone)]
pub enum KeySource {
    /// `contact.key` (active) and `contact.retired-*.key` in this directory.
    Dir(PathBuf),
    /// Given by the environment (a secret manager); never changes.
    Env {
        active: Zeroizing<[u8; SECRET_LEN]>,
        previous: Vec<Zeroizing<[u8; SECRET_LEN]>>,
    },
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Dir(dir) => f.debug_tuple("Dir").field(dir).finish(),
            KeySource::Env { .. } => f.write_str("Env(..)"),
        }
    }
}

impl KeySource {
    /// The environment's key if [`CONTACT_KEY_ENV`] is set, else the files
    /// in `keys_dir`.
    pub fn from_env_or(keys_dir: &Path) -> Result<Self, ContactError> {
        match std::env::var(CONTACT_KEY_ENV) {
            Ok(active) => {
                let previous = std::env::var(PREVIOUS_KEYS_ENV).unwrap_or_default();
                Self::from_text(&active, &previous)
            }
            Err(_) => Ok(KeySource::Dir(keys_dir.to_path_buf())),
        }
    }

    /// Keys as the environment spells them.
    pub fn from_text(active: &str, previous: &str) -> Result<Self, ContactError> {
        let previous = previous
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(parse_key)
            .collect::<Result<_, _>>()?;
        Ok(KeySource::Env {
            active: parse_key(active)?,
            previous,
        })
    }
}

/// 64 hex digits or the base64 of 32 bytes.
fn parse_key(text: &str) -> Result<Zeroizing<[u8; SECRET_LEN]>, ContactError> {
    use base64::Engine;
    let text = text.trim();
    let bytes = Zeroizing::new(if text.len() == 2 * SECRET_LEN {
        (0..SECRET_LEN)
            .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2).unwrap_or("x"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| ContactError::BadEnvKey)?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| ContactError::BadEnvKey)?
    });
    let mut key = Zeroizing::new([0u8; SECRET_LEN]);
    if bytes.len() != SECRET_LEN {
        return Err(ContactError::BadEnvKey);
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

/// One key and its id.
#[derive(Clone)]
struct RingKey {
    id: KeyId,
    secret: Zeroizing<[u8; SECRET_LEN]>,
}

impl RingKey {
    fn new(secret: Zeroizing<[u8; SECRET_LEN]>) -> Self {
        Self {
            id: key_id(&secret),
            secret,
        }
    }

    fn aead(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.secret.as_slice()))
    }
}

/// The id a sealed value carries for `key`.
pub fn key_id(key: &[u8; SECRET_LEN]) -> KeyId {
    let digest = Sha256::new()
        .chain_update(b"regie-contact-key-id")
        .chain_update(key)
        .finalize();
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&digest[..KEY_ID_LEN]);
    id
}

/// What the key files looked like when loaded; a change means reload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Stamp {
    active: Option<(u64, i64, i64, u64)>,
    retired: Vec<String>,
}

fn stamp(dir: &Path) -> Stamp {
    let active = std::fs::metadata(dir.join(CONTACT_KEY_FILE)).ok().map(|m| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            (m.len(), m.mtime(), m.mtime_nsec(), m.ino())
        }
        #[cfg(not(unix))]
        {
            (m.len(), 0, 0, 0)
        }
    });
    let mut retired: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| is_retired_name(n))
                .collect()
        })
        .unwrap_or_default();
    retired.sort();
    Stamp { active, retired }
}

fn is_retired_name(name: &str) -> bool {
    name.starts_with(RETIRED_PREFIX)
        && Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("key"))
}

/// Seals with the active key, opens with any key of the ring.
pub struct ContactKeyring {
    source: KeySource,
    active: RingKey,
    others: Vec<RingKey>,
    stamp: Stamp,
}

/// The name [`crate::store::SqliteStore`] has always used.
pub type ContactCipher = ContactKeyring;

impl std::fmt::Debug for ContactKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactKeyring(..)")
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
    /// Prize contact takes either; SMS reminders and SMS offers need a
    /// phone; marketing is by e-mail.
    pub fn serves(self, purpose: ConsentPurpose) -> bool {
        matches!(
            (self, purpose),
            (_, ConsentPurpose::PrizeContact)
                | (
                    ContactField::Phone,
                    ConsentPurpose::SmsReminders | ConsentPurpose::SmsMarketing
                )
                | (ContactField::Email, ConsentPurpose::Marketing)
        )
    }

    /// The store's (sealed value, purpose) columns of this field, in the
    /// `viewers` table of either store.
    pub(crate) fn columns(self) -> (&'static str, &'static str) {
        match self {
            ContactField::Phone => ("phone_sealed", "phone_purpose"),
            ContactField::Email => ("email_sealed", "email_purpose"),
        }
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

impl ContactKeyring {
    /// Loads `<data_dir>/contact.key`, creating it on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, ContactError> {
        Self::load(KeySource::Dir(data_dir.to_path_buf()), true)
    }

    /// Loads the ring from `source`; with `create`, a missing `contact.key`
    /// is made (as `serve` does), else it is an error (as `rotate` wants).
    pub fn load(source: KeySource, create: bool) -> Result<Self, ContactError> {
        match &source {
            KeySource::Env { active, previous } => Ok(Self {
                active: RingKey::new(active.clone()),
                others: previous.iter().cloned().map(RingKey::new).collect(),
                stamp: Stamp::default(),
                source,
            }),
            KeySource::Dir(dir) => {
                let path = dir.join(CONTACT_KEY_FILE);
                let active = Zeroizing::new(if create {
                    secret_file::load_or_create(&path)?
                } else {
                    secret_file::load(&path)?
                });
                let stamp = stamp(dir);
                let others = stamp
                    .retired
                    .iter()
                    .map(|name| {
                        Ok(RingKey::new(Zeroizing::new(secret_file::load(
                            &dir.join(name),
                        )?)))
                    })
                    .collect::<Result<_, ContactError>>()?;
                Ok(Self {
                    active: RingKey::new(active),
                    others,
                    stamp,
                    source,
                })
            }
        }
    }

    /// A ring of one key (tests, tools).
    pub fn from_key(key: &[u8; SECRET_LEN]) -> Self {
        let secret = Zeroizing::new(*key);
        Self {
            source: KeySource::Env {
                active: secret.clone(),
                previous: Vec::new(),
            },
            active: RingKey::new(secret),
            others: Vec::new(),
            stamp: Stamp::default(),
        }
    }

    /// The id new values are sealed under.
    pub fn active_id(&self) -> KeyId {
        self.active.id
    }

    /// Reloads the ring if its key files changed since it was loaded (a
    /// rotation started or finished); `true` if it did. A ring that cannot
    /// be reloaded keeps its keys, and the error says why.
    pub fn refresh(&mut self) -> Result<bool, ContactError> {
        let KeySource::Dir(dir) = &self.source else {
            return Ok(false);
        };
        if stamp(dir) == self.stamp {
            return Ok(false);
        }
        *self = Self::load(self.source.clone(), false)?;
        tracing::info!("contact keys reloaded (key rotation)");
        Ok(true)
    }

    /// Keyed lookups of `value` (an E.164 phone) for `label`, under each
    /// key of the ring, the active key's first: `HMAC-SHA256(HMAC-SHA256(key,
    /// label), value)`. A row found by a contact value (an inbound SMS STOP)
    /// stores one of these, never an unkeyed hash (10^6 guesses undo that).
    pub fn lookups(&self, label: &str, value: &str) -> Vec<[u8; 32]> {
        std::iter::once(&self.active)
            .chain(&self.others)
            .map(|k| lookup_under(k, label, value))
            .collect()
    }

    /// A key for another purpose, derived from each key of the ring, the
    /// active key's first: `HMAC-SHA256(key, label)`. What is made with it
    /// says nothing of the contact keys, and every node holding the ring
    /// derives the same (the PostgreSQL store signs its audit checkpoints
    /// so).
    pub fn derived(&self, label: &str) -> Vec<Zeroizing<[u8; 32]>> {
        std::iter::once(&self.active)
            .chain(&self.others)
            .map(|k| derive_under(k, label))
            .collect()
    }

    /// The lookup of `value` for `label` under the active key: what a row
    /// stores (the first of [`ContactKeyring::lookups`]).
    pub fn active_lookup(&self, label: &str, value: &str) -> [u8; 32] {
        lookup_under(&self.active, label, value)
    }

    /// `0x02 ‖ key id ‖ nonce ‖ ciphertext+tag`, under the active key.
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
            .active
            .aead()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| ContactError::Seal)?;
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + sealed.len());
        out.push(VERSION_KEYED);
        out.extend_from_slice(&self.active.id);
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
        let aad = associated_data(live, viewer, field);
        let keys = || std::iter::once(&self.active).chain(&self.others);
        if let Some(id) = sealed_key_id(sealed)
            && let Some(key) = keys().find(|k| k.id == id)
            && let Some(plain) = open_with(key, &sealed[HEADER_LEN..], &aad)
        {
            return Ok(plain);
        }
        // A value from before key ids: nonce first, any key.
        keys()
            .find_map(|k| open_with(k, sealed, &aad))
            .ok_or(ContactError::Unseal)
    }
}

fn derive_under(key: &RingKey, label: &str) -> Zeroizing<[u8; 32]> {
    use hmac::{Hmac, Mac};
    let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(key.secret.as_slice())
        .expect("HMAC takes any key length");
    derive.update(label.as_bytes());
    Zeroizing::new(derive.finalize().into_bytes().into())
}

fn lookup_under(key: &RingKey, label: &str, value: &str) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    type HmacSha256 = Hmac<Sha256>;
    let derived = derive_under(key, label);
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(derived.as_slice()).expect("HMAC takes any key length");
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The key id a sealed value names, if it has the keyed layout.
pub fn sealed_key_id(sealed: &[u8]) -> Option<KeyId> {
    if sealed.len() < HEADER_LEN + NONCE_LEN || sealed[0] != VERSION_KEYED {
        return None;
    }
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&sealed[1..HEADER_LEN]);
    Some(id)
}

fn open_with(key: &RingKey, sealed: &[u8], aad: &[u8]) -> Option<String> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let plain = Zeroizing::new(
        key.aead()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
            .ok()?,
    );
    String::from_utf8(plain.to_vec()).ok()
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

/// Recomputes, under the ring's active key, the keyed lookups made from a
/// re-sealed value: the SMS subscriptions of a phone, the e-mail's. A
/// lookup left under a key the rotation drops would no longer match its
/// STOP or unsubscribe.
fn relookup(
    tx: &Connection,
    ring: &ContactKeyring,
    live_id: i64,
    viewer: &str,
    field: ContactField,
    plain: &str,
) -> Result<(), ContactError> {
    let (sql, lookup) = match field {
        ContactField::Phone => (
            "UPDATE sms_subscriptions SET lookup = ?3 WHERE live_id = ?1 AND viewer_id = ?2",
            ring.active_lookup(PHONE_LOOKUP_LABEL, plain),
        ),
        ContactField::Email => (
            "UPDATE email_lookups SET lookup = ?3 WHERE live_id = ?1 AND viewer_id = ?2",
            ring.active_lookup(EMAIL_LOOKUP_LABEL, &email_lookup_form(plain)),
        ),
    };
    tx.prepare_cached(sql)?
        .execute(params![live_id, viewer, lookup.as_slice()])?;
    Ok(())
}

/// A viewer row to re-seal: live id, live name, viewer id, phone, e-mail.
type SealedRow = (i64, String, String, Option<Vec<u8>>, Option<Vec<u8>>);

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub new_id: KeyId,
    /// Sealed values re-sealed under the new key.
    pub resealed: usize,
    pub batches: usize,
    /// Retired key files removed at the end.
    pub removed: Vec<PathBuf>,
}

/// Rotates the contact key of the store at `db` (see the module docs):
/// for a [`KeySource::Dir`], a new active key first; then every value not
/// under the active key is re-sealed, `batch` rows per transaction; then
/// the retired key files go. For a [`KeySource::Env`] only the re-sealing
/// is done (the keys are the secret manager's).
pub fn rotate(db: &Path, source: &KeySource, batch: usize) -> Result<Rotation, ContactError> {
    let mut conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "secure_delete", 1)?;
    if let KeySource::Dir(dir) = source {
        let ring = ContactKeyring::load(source.clone(), false)?;
        let mut fresh = Zeroizing::new([0u8; SECRET_LEN]);
        secret_file::os_random(fresh.as_mut_slice())?;
        // Under the write lock, so no hub transaction seals in between
        // (the hub refreshes its ring inside its own write transaction).
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let retired = dir.join(format!(
            "{RETIRED_PREFIX}{}.key",
            crate::hex(&ring.active.id)
        ));
        secret_file::write_new(&retired, &ring.active.secret)?;
        secret_file::replace(&dir.join(CONTACT_KEY_FILE), &fresh)?;
        tx.commit()?;
    }
    let ring = ContactKeyring::load(source.clone(), false)?;
    let mut header = vec![VERSION_KEYED];
    header.extend_from_slice(&ring.active.id);
    let mut resealed = 0;
    let mut batches = 0;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows: Vec<SealedRow> = {
            let mut stmt = tx.prepare(
                "SELECT v.live_id, l.name, v.viewer_id, v.phone_sealed, v.email_sealed \
                 FROM viewers v JOIN lives l ON l.id = v.live_id \
                 WHERE (v.phone_sealed IS NOT NULL AND substr(v.phone_sealed, 1, ?1) != ?2) \
                 OR (v.email_sealed IS NOT NULL AND substr(v.email_sealed, 1, ?1) != ?2) \
                 LIMIT ?3",
            )?;
            stmt.query_map(
                params![
                    HEADER_LEN,
                    header,
                    i64::try_from(batch.max(1)).unwrap_or(i64::MAX)
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?
            .collect::<Result<_, _>>()?
        };
        if rows.is_empty() {
            break;
        }
        let mut unopenable = 0;
        for (live_id, live, viewer, phone, email) in &rows {
            let mut reseal =
                |field, sealed: &Option<Vec<u8>>| -> Result<Option<Vec<u8>>, ContactError> {
                    let Some(sealed) = sealed else {
                        return Ok(None);
                    };
                    if let Ok(plain) = ring.open(live, viewer, field, sealed) {
                        let plain = Zeroizing::new(plain);
                        relookup(&tx, &ring, *live_id, viewer, field, &plain)?;
                        Ok(Some(ring.seal(live, viewer, field, &plain)?))
                    } else {
                        unopenable += 1;
                        Ok(None)
                    }
                };
            let phone = reseal(ContactField::Phone, phone)?;
            let email = reseal(ContactField::Email, email)?;
            tx.execute(
                "UPDATE viewers SET phone_sealed = coalesce(?3, phone_sealed), \
                 email_sealed = coalesce(?4, email_sealed) WHERE live_id = ?1 AND viewer_id = ?2",
                params![live_id, viewer, phone, email],
            )?;
        }
        if unopenable > 0 {
            // Rolled back: nothing half-done, and every key stays.
            return Err(ContactError::Unopenable(unopenable));
        }
        tx.commit()?;
        resealed += rows
            .iter()
            .map(|(.., p, e)| usize::from(p.is_some()) + usize::from(e.is_some()))
            .sum::<usize>();
        batches += 1;
    }
    // A STOP's tombstone holds no phone to recompute its lookup from: one
    // made under a key that is about to go can no longer match, so it goes
    // (the START it allowed is the viewer's to redo on the page).
    conn.execute(
        "DELETE FROM sms_stopped WHERE key_id != ?1",
        [ring.active.id.as_slice()],
    )?;
    let mut removed = Vec::new();
    if let KeySource::Dir(dir) = source {
        for name in stamp(dir).retired {
            let path = dir.join(name);
            std::fs::remove_file(&path).map_err(|source| secret_file::SecretFileError::Io {
                path: path.clone(),
                source,
            })?;
            removed.push(path);
        }
    }
    Ok(Rotation {
        new_id: ring.active.id,
        resealed,
        batches,
        removed,
    })
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

    /// A value as sealed before key ids: `nonce ‖ ciphertext+tag`.
    fn legacy_seal(
        key: &[u8; 32],
        live: &str,
        viewer: &str,
        field: ContactField,
        v: &str,
    ) -> Vec<u8> {
        let nonce = [3u8; NONCE_LEN];
        let aad = associated_data(live, viewer, field);
        let body = ChaCha20Poly1305::new(Key::from_slice(key))
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: v.as_bytes(),
                    aad: &aad,
                },
            )
            .unwrap();
        [nonce.as_slice(), &body].concat()
    }

    #[test]
    fn a_sealed_value_names_its_key_and_opens_after_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let old = ContactKeyring::load_or_create(dir.path()).unwrap();
        let sealed = old
            .seal("show", "v-1", ContactField::Phone, "06 12 34 56 78")
            .unwrap();
        assert_eq!(sealed_key_id(&sealed), Some(old.active_id()));
        let legacy_key = *old.active.secret;
        let legacy = legacy_seal(&legacy_key, "show", "v-1", ContactField::Email, "a@b.fr");

        // Rotated by hand: the old key retired, a new one active.
        let mut ring = ContactKeyring::load(KeySource::Dir(dir.path().into()), false).unwrap();
        assert!(!ring.refresh().unwrap(), "nothing changed yet");
        let retired = dir.path().join(format!(
            "{RETIRED_PREFIX}{}.key",
            crate::hex(&old.active_id())
        ));
        secret_file::write_new(&retired, &legacy_key).unwrap();
        secret_file::replace(&dir.path().join(CONTACT_KEY_FILE), &[9; 32]).unwrap();
        assert!(ring.refresh().unwrap(), "the ring sees the rotation");
        assert_eq!(ring.active_id(), key_id(&[9; 32]));
        assert_ne!(ring.active_id(), old.active_id());
        assert_eq!(
            ring.open("show", "v-1", ContactField::Phone, &sealed)
                .unwrap(),
            "06 12 34 56 78"
        );
        assert_eq!(
            ring.open("show", "v-1", ContactField::Email, &legacy)
                .unwrap(),
            "a@b.fr"
        );
        let new = ring.seal("show", "v-1", ContactField::Phone, "x").unwrap();
        assert_eq!(sealed_key_id(&new), Some(key_id(&[9; 32])));

        // The old key removed: its values no longer open.
        std::fs::remove_file(&retired).unwrap();
        assert!(ring.refresh().unwrap());
        assert!(
            ring.open("show", "v-1", ContactField::Phone, &sealed)
                .is_err()
        );
        assert_eq!(
            ring.open("show", "v-1", ContactField::Phone, &new).unwrap(),
            "x"
        );
    }

    #[test]
    fn an_environment_key_is_hex_or_base64_of_32_bytes() {
        let hex = "07".repeat(32);
        let b64 = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
        for text in [hex.as_str(), b64] {
            let KeySource::Env { active, previous } = KeySource::from_text(text, "").unwrap()
            else {
                panic!()
            };
            assert_eq!(*active, [7; 32]);
            assert!(previous.is_empty());
        }
        let KeySource::Env { previous, .. } =
            KeySource::from_text(&hex, &format!("{b64},{hex}")).unwrap()
        else {
            panic!()
        };
        assert_eq!(previous.len(), 2);
        for bad in ["", "07", &"zz".repeat(32), "BwcH"] {
            assert!(
                matches!(KeySource::from_text(bad, ""), Err(ContactError::BadEnvKey)),
                "{bad:?}"
            );
        }
    }
}
