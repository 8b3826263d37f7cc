//! Viewer identity: a pseudonymous id per viewer and live, the signed
//! viewer pass that keeps it, and a pseudonym to tell two viewers with the
//! same first name apart.
//!
//! A viewer who joins without a valid pass is issued one: a random device
//! id and the time it was issued, signed (HMAC-SHA256) under a key derived
//! from the data dir's viewer-id secret. The device presents it on every
//! later `hello`, so it gets the same id on every reconnect and after a hub
//! restart: sanctions stick and votes count once. A logged-in shopper is
//! known by the account a brand-signed token names instead
//! ([`crate::auth::viewer_token`]). Either way the id is an HMAC of the
//! device id or the account under the secret: it means nothing outside
//! this hub, and neither is stored.
//!
//! The pass key is derived from the viewer-id secret with its own label
//! rather than kept in a second key file: a pass is only worth the ids it
//! leads to, so the two must live and die together (losing one file, or
//! restoring only one from a backup, would otherwise give every device a
//! new identity anyway), and the label keeps a pass's MAC from ever being
//! an id's.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::secret_file::{self, SECRET_LEN, SecretFileError};
use crate::protocol::{Millis, ViewerId};

/// The viewer-id secret's file name in the data dir.
pub const VIEWER_ID_KEY_FILE: &str = "viewer-id.key";

/// Longest first name or pseudonym kept, in graphemes.
pub const MAX_NAME_GRAPHEMES: usize = 40;

/// Longest pass looked at; a real one is 80 bytes. Longer is no pass.
pub const MAX_PASS_BYTES: usize = 128;

/// The pass format's version tag, the start of every pass.
const PASS_PREFIX: &str = "p1.";

/// The label the pass key is derived under (see the module comment).
const PASS_KEY_LABEL: &[u8] = b"regie viewer pass v1";

/// Bytes of a pass's random device id.
const DEVICE_ID_LEN: usize = 16;

/// A checked pass: the device it names and when the hub issued it (the
/// session's clock), which tells whether the identity existed before a
/// poll or an instant win opened.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    device: [u8; DEVICE_ID_LEN],
    pub issued_at: Millis,
}

impl std::fmt::Debug for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The device id is as good as the pass in a log: never shown.
        write!(f, "Pass(issued_at: {})", self.issued_at)
    }
}

/// Whom a viewer id is derived from.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// The device of a pass.
    Device(&'a Pass),
    /// A shopper account named by a brand-signed token.
    Account(&'a str),
}

/// Derives viewer ids and issues and checks passes for one data dir.
#[derive(Clone)]
pub struct ViewerIdentity {
    secret: [u8; SECRET_LEN],
    pass_key: [u8; 32],
}

impl std::fmt::Debug for ViewerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ViewerIdentity(..)")
    }
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length")
}

impl ViewerIdentity {
    /// Loads `<data_dir>/viewer-id.key`, creating it (0600) on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SecretFileError> {
        Ok(Self::from_secret(secret_file::load_or_create(
            &data_dir.join(VIEWER_ID_KEY_FILE),
        )?))
    }

    pub fn from_secret(secret: [u8; SECRET_LEN]) -> Self {
        let mut mac = hmac(&secret);
        mac.update(PASS_KEY_LABEL);
        let pass_key = mac.finalize().into_bytes().into();
        Self { secret, pass_key }
    }

    /// A new pass, issued at `now`: the pass and the text the device keeps.
    pub fn issue_pass(&self, now: Millis) -> Result<(Pass, String), SecretFileError> {
        let mut device = [0u8; DEVICE_ID_LEN];
        secret_file::os_random(&mut device)?;
        let pass = Pass {
            device,
            issued_at: now,
        };
        let body = Self::pass_body(&pass);
        let mut mac = hmac(&self.pass_key);
        mac.update(&body);
        let text = format!(
            "{PASS_PREFIX}{}.{}",
            B64.encode(body),
            B64.encode(mac.finalize().into_bytes())
        );
        Ok((pass, text))
    }

    /// The pass `text` stands for, when this data dir issued it unchanged;
    /// `None` for anything else (truncated, forged, re-signed, too long).
    pub fn check_pass(&self, text: &str) -> Option<Pass> {
        if text.len() > MAX_PASS_BYTES {
            return None;
        }
        let (body, tag) = text.strip_prefix(PASS_PREFIX)?.split_once('.')?;
        let body = B64.decode(body).ok()?;
        let tag = B64.decode(tag).ok()?;
        let mut mac = hmac(&self.pass_key);
        mac.update(&body);
        // Constant time: a forger learns nothing from how long it took.
        mac.verify_slice(&tag).ok()?;
        let (device, issued) = body.split_at_checked(DEVICE_ID_LEN)?;
        Some(Pass {
            device: device.try_into().ok()?,
            issued_at: Millis::from_be_bytes(issued.try_into().ok()?),
        })
    }

    fn pass_body(pass: &Pass) -> Vec<u8> {
        let mut body = pass.device.to_vec();
        body.extend_from_slice(&pass.issued_at.to_be_bytes());
        body
    }

    /// The viewer's id in `live`: the same for one device (one pass) or
    /// one account, different in every live and every data dir.
    pub fn viewer_id(&self, live: &str, subject: Subject<'_>) -> ViewerId {
        let mut mac = hmac(&self.secret);
        mac.update(&(live.len() as u64).to_be_bytes());
        mac.update(live.as_bytes());
        match subject {
            Subject::Device(pass) => {
                mac.update(b"device\0");
                mac.update(&pass.device);
            }
            Subject::Account(account) => {
                mac.update(b"account\0");
                mac.update(account.as_bytes());
            }
        }
        ViewerId(format!(
            "v-{}",
            crate::hex(&mac.finalize().into_bytes()[..8])
        ))
    }

    /// The id a device gets after its viewer `erased` was erased (Art. 17):
    /// keyed like every id, so it links to the erased one only for someone
    /// holding this data dir's secret, and stable, so a reconnecting device
    /// keeps its new id. Erased again, the successor's own successor is next.
    pub fn successor(&self, live: &str, erased: &ViewerId) -> ViewerId {
        let mut mac = hmac(&self.secret);
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

    fn ids() -> ViewerIdentity {
        ViewerIdentity::from_secret([7; SECRET_LEN])
    }

    #[test]
    fn a_pass_gives_a_stable_id_per_live() {
        let ids = ids();
        let (one, text) = ids.issue_pass(1_000).unwrap();
        let (two, _) = ids.issue_pass(1_000).unwrap();
        let checked = ids.check_pass(&text).unwrap();
        assert_eq!(checked, one);
        assert_eq!(checked.issued_at, 1_000);
        let a = ids.viewer_id("show", Subject::Device(&checked));
        assert_eq!(a, ids.viewer_id("show", Subject::Device(&one)));
        assert_ne!(a, ids.viewer_id("show", Subject::Device(&two)));
        assert_ne!(a, ids.viewer_id("other", Subject::Device(&one)));
        assert!(a.0.starts_with("v-") && a.0.len() == 18, "{a}");
    }

    #[test]
    fn accounts_and_devices_never_share_an_id() {
        let ids = ids();
        let a = ids.viewer_id("show", Subject::Account("shopper-1"));
        assert_eq!(a, ids.viewer_id("show", Subject::Account("shopper-1")));
        assert_ne!(a, ids.viewer_id("show", Subject::Account("shopper-2")));
        assert_ne!(a, ids.viewer_id("other", Subject::Account("shopper-1")));
    }

    #[test]
    fn a_changed_pass_is_no_pass() {
        let ids = ids();
        let (_, text) = ids.issue_pass(5).unwrap();
        assert!(ids.check_pass(&text).is_some());
        // Truncated, a flipped character, another data dir's, garbage.
        assert!(ids.check_pass(&text[..text.len() - 1]).is_none());
        let mut flipped = text.clone().into_bytes();
        flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
        assert!(
            ids.check_pass(&String::from_utf8(flipped).unwrap())
                .is_none()
        );
        let other = ViewerIdentity::from_secret([8; SECRET_LEN]);
        assert!(other.check_pass(&text).is_none());
        for bad in ["", "p1.", "p1.x.y", "device-1", &"p1.A".repeat(100)] {
            assert!(ids.check_pass(bad).is_none(), "{bad}");
        }
        // Re-signed with the viewer-id secret itself instead of the
        // derived pass key.
        let (body, _) = text
            .strip_prefix(PASS_PREFIX)
            .unwrap()
            .split_once('.')
            .unwrap();
        let mut mac = hmac(&[7; SECRET_LEN]);
        mac.update(&B64.decode(body).unwrap());
        let resigned = format!(
            "{PASS_PREFIX}{body}.{}",
            B64.encode(mac.finalize().into_bytes())
        );
        assert!(ids.check_pass(&resigned).is_none());
    }

    #[test]
    fn another_data_dir_gives_other_ids() {
        let a = ViewerIdentity::from_secret([1; SECRET_LEN]);
        let b = ViewerIdentity::from_secret([2; SECRET_LEN]);
        assert_ne!(
            a.viewer_id("show", Subject::Account("k")),
            b.viewer_id("show", Subject::Account("k"))
        );
    }

    #[test]
    fn an_erased_id_has_a_stable_new_successor() {
        let ids = ids();
        let a = ids.viewer_id("show", Subject::Account("device-1"));
        let b = ids.successor("show", &a);
        assert_ne!(a, b);
        assert_eq!(b, ids.successor("show", &a));
        assert_ne!(b, ids.successor("show", &b));
        assert_ne!(b, ids.successor("other", &a));
        assert!(b.0.starts_with("v-") && b.0.len() == 18, "{b}");
    }

    #[test]
    fn pseudonyms_come_from_the_id() {
        assert_eq!(
            assigned_pseudonym(&ViewerId("v-3fa9c0ffee".into())),
            "#3fa9"
        );
    }
}
