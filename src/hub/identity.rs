//! Viewer identity: a pseudonymous id per viewer and live, and a pseudonym
//! to tell two viewers with the same first name apart.
//!
//! A player that keeps a device secret (`key` in `hello`) gets the same id on
//! every reconnect, so sanctions stick and votes count once. The id is an
//! HMAC of the key under a secret that never leaves the data dir: it means
//! nothing outside this hub, and the key itself is never stored.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::secret_file::{self, SECRET_LEN, SecretFileError};
use crate::protocol::ViewerId;

/// The viewer-id secret's file name in the data dir.
pub const VIEWER_ID_KEY_FILE: &str = "viewer-id.key";

/// Longest first name or pseudonym kept, in graphemes.
pub const MAX_NAME_GRAPHEMES: usize = 40;

/// Longest device key looked at; longer keys are refused.
pub const MAX_VIEWER_KEY_BYTES: usize = 256;

/// Derives viewer ids for one data dir.
#[derive(Clone)]
pub struct ViewerIdentity {
    secret: [u8; SECRET_LEN],
}

impl std::fmt::Debug for ViewerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ViewerIdentity(..)")
    }
}

impl ViewerIdentity {
    /// Loads `<data_dir>/viewer-id.key`, creating it (0600) on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SecretFileError> {
        Ok(Self {
            secret: secret_file::load_or_create(&data_dir.join(VIEWER_ID_KEY_FILE))?,
        })
    }

    pub fn from_secret(secret: [u8; SECRET_LEN]) -> Self {
        Self { secret }
    }

    /// The viewer's id in `live`: stable for a device key, random without.
    pub fn viewer_id(&self, live: &str, key: Option<&str>) -> Result<ViewerId, SecretFileError> {
        let mut digest = [0u8; 8];
        match key {
            Some(key) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
                    .expect("HMAC takes keys of any length");
                mac.update(&(live.len() as u64).to_be_bytes());
                mac.update(live.as_bytes());
                mac.update(key.as_bytes());
                digest.copy_from_slice(&mac.finalize().into_bytes()[..8]);
            }
            None => secret_file::os_random(&mut digest)?,
        }
        Ok(ViewerId(format!("v-{}", crate::hex(&digest))))
    }

    /// The id a device gets after its viewer `erased` was erased (Art. 17):
    /// keyed like every id, so it links to the erased one only for someone
    /// holding this data dir's secret, and stable, so a reconnecting device
    /// keeps its new id. Erased again, the successor's own successor is next.
    pub fn successor(&self, live: &str, erased: &ViewerId) -> ViewerId {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(b"erased\0");
        mac.update(&(live.len() as u64).to_be_bytes());
        mac.update(live.as_bytes());
        mac.update(erased.0.as_bytes());
        ViewerId(format!(
            "v-{}",
            crate::hex(&mac.finalize().into_bytes()[..8])
        ))
    }
}

/// The pseudonym the hub gives a viewer who chose none: a short, stable tag
/// from their id ("Julie · 3fa9"), enough to tell two Julies apart.
pub fn assigned_pseudonym(id: &ViewerId) -> String {
    let tag: String = id.0.trim_start_matches("v-").chars().take(4).collect();
    format!("#{tag}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gives_a_stable_id_per_live() {
        let ids = ViewerIdentity::from_secret([7; SECRET_LEN]);
        let a = ids.viewer_id("show", Some("device-1")).unwrap();
        assert_eq!(a, ids.viewer_id("show", Some("device-1")).unwrap());
        assert_ne!(a, ids.viewer_id("show", Some("device-2")).unwrap());
        assert_ne!(a, ids.viewer_id("other", Some("device-1")).unwrap());
        assert!(a.0.starts_with("v-") && a.0.len() == 18, "{a}");
    }

    #[test]
    fn another_data_dir_gives_other_ids() {
        let a = ViewerIdentity::from_secret([1; SECRET_LEN]);
        let b = ViewerIdentity::from_secret([2; SECRET_LEN]);
        assert_ne!(
            a.viewer_id("show", Some("k")).unwrap(),
            b.viewer_id("show", Some("k")).unwrap()
        );
    }

    #[test]
    fn an_erased_id_has_a_stable_new_successor() {
        let ids = ViewerIdentity::from_secret([7; SECRET_LEN]);
        let a = ids.viewer_id("show", Some("device-1")).unwrap();
        let b = ids.successor("show", &a);
        assert_ne!(a, b);
        assert_eq!(b, ids.successor("show", &a));
        assert_ne!(b, ids.successor("show", &b));
        assert_ne!(b, ids.successor("other", &a));
        assert!(b.0.starts_with("v-") && b.0.len() == 18, "{b}");
    }

    #[test]
    fn no_key_gives_a_fresh_id() {
        let ids = ViewerIdentity::from_secret([7; SECRET_LEN]);
        assert_ne!(
            ids.viewer_id("show", None).unwrap(),
            ids.viewer_id("show", None).unwrap()
        );
    }

    #[test]
    fn pseudonyms_come_from_the_id() {
        assert_eq!(
            assigned_pseudonym(&ViewerId("v-3fa9c0ffee".into())),
            "#3fa9"
        );
    }
}
