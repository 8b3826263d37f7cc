//! Staff tokens: minting (`regie token`) and verifying (the hub, on `hello`).
//!
//! A token is `regie1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`,
//! signed with a 32-byte key kept in `<data>/token.key` (mode 0600). The hub
//! that owns the data dir is the only verifier, so a symmetric MAC is enough
//! and keeps tokens short enough to paste. The signature is checked (in
//! constant time) before the claims are even parsed: nothing an attacker
//! writes into the claims is looked at unless the key signed it.
//!
//! Refusals say *why* (expired 3 min ago; minted for another live; bad
//! signature; malformed), and map to a protocol [`ErrorCode`] with
//! [`AuthError::code`]. Tokens themselves are never logged.

pub mod secret_file;
mod token;

use std::path::Path;

pub use token::{Claims, MAX_TOKEN_BYTES, TOKEN_PREFIX, mint, verify};

use crate::protocol::{ErrorCode, Millis};

/// The signing key's file name in the data dir.
pub const TOKEN_KEY_FILE: &str = "token.key";

/// Longest staff display name kept, in graphemes.
pub const MAX_STAFF_NAME_GRAPHEMES: usize = 64;

/// The key that signs and verifies staff tokens.
#[derive(Clone)]
pub struct SigningKey([u8; secret_file::SECRET_LEN]);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Loads `<data_dir>/token.key`, creating it (and the dir) on first use,
    /// so `regie token` works before the first `regie serve` and both use the
    /// same key. A key file readable by group or others is refused.
    pub fn load_or_create(data_dir: &Path) -> Result<SigningKey, AuthError> {
        Ok(SigningKey(secret_file::load_or_create(
            &data_dir.join(TOKEN_KEY_FILE),
        )?))
    }

    /// A key from known bytes (tests, and tools that keep keys elsewhere).
    pub fn from_bytes(bytes: [u8; secret_file::SECRET_LEN]) -> Self {
        SigningKey(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Why a token was refused (or could not be made).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("malformed staff token: {0}")]
    Malformed(String),
    #[error("bad staff token signature: it was not minted with this hub's key")]
    BadSignature,
    #[error("staff token expired {} ago", ago(*.ago_ms))]
    Expired { ago_ms: Millis },
    #[error("staff token was minted for live {token_live:?}, this hub runs {hub_live:?}")]
    WrongLive {
        token_live: String,
        hub_live: String,
    },
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
    #[error(transparent)]
    Key(#[from] secret_file::SecretFileError),
}

impl AuthError {
    /// The protocol error code for refusing a `hello` with this token.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Expired { .. } => ErrorCode::TokenExpired,
            AuthError::WrongLive { .. } => ErrorCode::WrongLive,
            AuthError::Malformed(_) | AuthError::BadSignature | AuthError::InvalidClaims(_) => {
                ErrorCode::TokenInvalid
            }
            AuthError::Key(_) => ErrorCode::Internal,
        }
    }
}

/// "3m 12s": a duration a person reads, to the second.
fn ago(ms: Millis) -> String {
    let secs = ms.max(0).unsigned_abs().div_ceil(1000);
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}
