//! Keyed fingerprints of commands: the retry key a command's outcome is
//! stored under (`command_outcomes.command_id`).
//!
//! A retry is recognised by the client's command id *and* the command
//! itself, so a client that reuses an id for a different command gets a
//! new command, not somebody else's old ack. The fingerprint is taken over
//! the raw command, before sanitising and masking, so it is a function of
//! whatever the viewer typed, a phone number included. An unkeyed hash of
//! it would let anyone holding `regie.db` alone test guesses: a masked
//! `06 •• •• •• 78` leaves 10⁶ candidates, a second's work. So the
//! fingerprint is an HMAC-SHA256 under a secret kept beside the database
//! (`<data>/fingerprint.key`, 0600, created like the other keys), never
//! inside it.
//!
//! Why keyed rather than taken over the cleaned, masked command: the
//! lookup happens before the session decides (that is the point of a
//! retry key), so the cleaned form does not exist yet; and a masked text
//! can still hold personal data the detector does not know (an address),
//! which a redaction must not leave behind as a testable hash.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::secret_file::{self, SECRET_LEN, SecretFileError};
use crate::protocol::{Command, CommandId};

/// The fingerprint secret's file name in the data dir.
pub const FINGERPRINT_KEY_FILE: &str = "fingerprint.key";

/// Bytes of the HMAC kept in a retry key: 8 bytes (64 bits) tell a
/// client's commands under one id apart; the key, not the length, is what
/// stops a guess.
const TAG_BYTES: usize = 8;

/// Computes retry keys for one data dir.
#[derive(Clone)]
pub struct CommandFingerprints {
    secret: [u8; SECRET_LEN],
}

impl std::fmt::Debug for CommandFingerprints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommandFingerprints(..)")
    }
}

impl CommandFingerprints {
    /// Loads `<data_dir>/fingerprint.key`, creating it (0600) on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SecretFileError> {
        Ok(Self {
            secret: secret_file::load_or_create(&data_dir.join(FINGERPRINT_KEY_FILE))?,
        })
    }

    pub fn from_secret(secret: [u8; SECRET_LEN]) -> Self {
        Self { secret }
    }

    /// The id a command's outcome is remembered under: the client's id, `#`,
    /// and the keyed fingerprint of the command. A real retry repeats the
    /// command exactly and finds the first outcome.
    pub fn retry_key(&self, id: &CommandId, command: &Command) -> CommandId {
        let bytes = serde_json::to_vec(command).expect("commands always serialise");
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(b"regie-command-fingerprint-v1\0");
        mac.update(&bytes);
        let tag = mac.finalize().into_bytes();
        CommandId(format!("{}#{}", id.0, crate::hex(&tag[..TAG_BYTES])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(text: &str) -> Command {
        Command::Say {
            text: text.into(),
            question: false,
            announcement: false,
        }
    }

    #[test]
    fn a_retry_has_the_same_key_and_another_command_another() {
        let f = CommandFingerprints::from_secret([3; SECRET_LEN]);
        let id = CommandId("c-1".into());
        assert_eq!(f.retry_key(&id, &say("a")), f.retry_key(&id, &say("a")));
        assert_ne!(f.retry_key(&id, &say("a")), f.retry_key(&id, &say("b")));
        assert!(f.retry_key(&id, &say("a")).0.starts_with("c-1#"));
    }

    #[test]
    fn the_key_depends_on_the_secret() {
        let id = CommandId("c-1".into());
        let a = CommandFingerprints::from_secret([3; SECRET_LEN]).retry_key(&id, &say("a"));
        let b = CommandFingerprints::from_secret([4; SECRET_LEN]).retry_key(&id, &say("a"));
        assert_ne!(a, b);
    }
}
