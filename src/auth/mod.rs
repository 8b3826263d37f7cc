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
//!
//! [`viewer_token`] checks the other kind: the JWTs a brand's site signs
//! for its logged-in shoppers (viewers, not staff).

pub mod secret_file;
mod token;
pub mod viewer_token;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use token::{ANY_LIVE, Claims, MAX_TOKEN_BYTES, TOKEN_PREFIX, mint, verify};

use crate::protocol::{ErrorCode, Millis};

/// The longest a minted token lives unless the brand sets another cap
/// (`regie token --max-ttl`, or `REGIE_TOKEN_MAX_TTL`): a token is a
/// bearer credential, and a typo such as `10000d` must not mint one for
/// decades.
pub const DEFAULT_MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

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

    /// Loads `<data_dir>/token.key` and never creates it: `regie token`
    /// mints with the key the hub made, so a mistyped `--data` is refused
    /// instead of minting with a new key no hub knows.
    pub fn load(data_dir: &Path) -> Result<SigningKey, AuthError> {
        let path = data_dir.join(TOKEN_KEY_FILE);
        match secret_file::load(&path) {
            Ok(bytes) => Ok(SigningKey(bytes)),
            Err(secret_file::SecretFileError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Err(AuthError::NoKey {
                    path,
                    data_dir: data_dir.to_path_buf(),
                })
            }
            Err(e) => Err(e.into()),
        }
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
    #[error(
        "no token signing key at {}: start `regie serve --data {}` first \
         (it creates the key), or pass the --data of the running hub",
        path.display(),
        data_dir.display()
    )]
    NoKey { path: PathBuf, data_dir: PathBuf },
    #[error(
        "a time to live of {} is longer than the longest allowed, {}",
        humantime::format_duration(*asked),
        humantime::format_duration(*max)
    )]
    TtlTooLong { asked: Duration, max: Duration },
    #[error(transparent)]
    Key(#[from] secret_file::SecretFileError),
}

impl AuthError {
    /// The protocol error code for refusing a `hello` with this token.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Expired { .. } => ErrorCode::TokenExpired,
            AuthError::WrongLive { .. } => ErrorCode::WrongLive,
            AuthError::Malformed(_)
            | AuthError::BadSignature
            | AuthError::InvalidClaims(_)
            | AuthError::TtlTooLong { .. } => ErrorCode::TokenInvalid,
            AuthError::Key(_) | AuthError::NoKey { .. } => ErrorCode::Internal,
        }
    }
}

/// `ttl` in milliseconds, for [`Claims::new`], when it is at most `max`.
pub fn checked_ttl(ttl: Duration, max: Duration) -> Result<Millis, AuthError> {
    if ttl > max {
        return Err(AuthError::TtlTooLong { asked: ttl, max });
    }
    Millis::try_from(ttl.as_millis()).map_err(|_| AuthError::TtlTooLong { asked: ttl, max })
}

/// The live a token says it is for, read *without* checking its signature
/// (`None` when it is not a readable token). For the console, which holds
/// no key, to join the live its token admits to; the hub verifies the
/// token anyway, so a forged claim gains nothing.
pub fn unverified_live(token: &str) -> Option<String> {
    use base64::Engine;
    let token = token.trim();
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let (claims_b64, _signature) = token.strip_prefix(TOKEN_PREFIX)?.split_once('.')?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims_b64)
        .ok()?;
    let claims: Claims = serde_json::from_slice(&json).ok()?;
    Some(claims.live).filter(|live| !live.is_empty())
}

/// "3m 12s": a duration a person reads, to the second.
fn ago(ms: Millis) -> String {
    let secs = ms.max(0).unsigned_abs().div_ceil(1000);
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_is_read_from_a_token_without_its_key() {
        let key = SigningKey::from_bytes([7; secret_file::SECRET_LEN]);
        let claims = Claims::new(
            crate::protocol::StaffRole::Host,
            "Claire",
            "spring-sale",
            0,
            1000,
        )
        .unwrap();
        let token = mint(&key, &claims);
        assert_eq!(unverified_live(&token).as_deref(), Some("spring-sale"));
        assert_eq!(unverified_live("regie1.garbage.sig"), None);
        assert_eq!(unverified_live("not a token"), None);
    }

    #[test]
    fn a_ttl_over_the_cap_is_refused() {
        let max = DEFAULT_MAX_TTL;
        assert_eq!(checked_ttl(Duration::from_secs(60), max).unwrap(), 60_000);
        assert!(checked_ttl(max, max).is_ok());
        assert!(matches!(
            checked_ttl(max + Duration::from_secs(1), max),
            Err(AuthError::TtlTooLong { .. })
        ));
    }
}
