//! Brand-signed viewer tokens: a logged-in shopper joins as their account.
//!
//! The brand's site signs a JWT (RFC 7519, compact form) with a secret it
//! shares with the hub, the way Centrifugo's connection tokens work:
//! `{"viewer":"<account id>","first_name":"…","exp":<unix seconds>}`. The
//! hub derives the viewer id from the account, so one account is one vote,
//! one entry, and a ban follows it across devices.
//!
//! Checked by hand rather than with a JWT library: only HS256 is accepted
//! (the header's `alg` is pinned, so `none` or an RSA/HMAC confusion can
//! never be asked for), the MAC is verified in constant time by `hmac`
//! before the claims are parsed, and the hub needs nothing else of JOSE;
//! `hmac`, `sha2` and `base64` are already in the tree. Tokens are never
//! logged.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::protocol::{ErrorCode, Millis};

/// Longest token looked at.
pub const MAX_VIEWER_TOKEN_BYTES: usize = 4096;

/// Shortest shared secret accepted: 256 bits, as HS256 asks (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// Longest account id kept, in bytes.
pub const MAX_ACCOUNT_BYTES: usize = 256;

/// The secret the brand's site signs viewer tokens with.
#[derive(Clone)]
pub struct ViewerTokenSecret(zeroize::Zeroizing<Vec<u8>>);

impl std::fmt::Debug for ViewerTokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ViewerTokenSecret(..)")
    }
}

impl ViewerTokenSecret {
    /// The secret, or why it is unusable (too short).
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the viewer token secret holds {} bytes; HS256 needs at least {MIN_SECRET_BYTES}",
                bytes.len()
            ));
        }
        Ok(Self(zeroize::Zeroizing::new(bytes)))
    }
}

/// What a checked token says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ViewerClaims {
    /// The shopper's account id at the brand.
    pub viewer: String,
    pub first_name: String,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: i64,
}

/// Why a viewer token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ViewerTokenError {
    #[error("malformed viewer token: {0}")]
    Malformed(String),
    #[error("viewer tokens are HS256; this one says {0:?}")]
    WrongAlgorithm(String),
    #[error("bad viewer token signature: the brand's secret did not sign it")]
    BadSignature,
    #[error("viewer token expired {} s ago; sign a new one", .ago_secs)]
    Expired { ago_secs: i64 },
    #[error("this hub takes no viewer tokens (no [viewers] token_secret_file)")]
    NotAccepted,
}

impl ViewerTokenError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ViewerTokenError::Expired { .. } => ErrorCode::TokenExpired,
            _ => ErrorCode::TokenInvalid,
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Checks `token` against `secret` at `now` (milliseconds).
pub fn verify(
    secret: &ViewerTokenSecret,
    token: &str,
    now: Millis,
) -> Result<ViewerClaims, ViewerTokenError> {
    let malformed = |why: &str| ViewerTokenError::Malformed(why.to_owned());
    if token.len() > MAX_VIEWER_TOKEN_BYTES {
        return Err(malformed("longer than any viewer token"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("a JWT has three parts separated by dots"));
    };
    let header: Header = B64
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or_else(|| malformed("the header is not base64url JSON"))?;
    if header.alg != "HS256" {
        return Err(ViewerTokenError::WrongAlgorithm(
            header.alg.chars().take(16).collect(),
        ));
    }
    let tag = B64
        .decode(tag)
        .map_err(|_| malformed("the signature is not base64url"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.0).expect("HMAC takes keys of any length");
    mac.update(&token.as_bytes()[..token.len() - tag_len(token)]);
    mac.verify_slice(&tag)
        .map_err(|_| ViewerTokenError::BadSignature)?;
    let claims: ViewerClaims = B64
        .decode(claims)
        .ok()
        .and_then(|c| serde_json::from_slice(&c).ok())
        .ok_or_else(|| {
            malformed("the claims are not base64url JSON with viewer, first_name, exp")
        })?;
    if claims.viewer.is_empty() || claims.viewer.len() > MAX_ACCOUNT_BYTES {
        return Err(malformed("the viewer (account id) is empty or too long"));
    }
    let now_secs = now.div_euclid(1000);
    if now_secs >= claims.exp {
        return Err(ViewerTokenError::Expired {
            ago_secs: now_secs - claims.exp,
        });
    }
    Ok(claims)
}

/// Bytes of the signature part and its dot, at the end of `token`.
fn tag_len(token: &str) -> usize {
    token.rsplit_once('.').map_or(0, |(_, tag)| tag.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: Millis = 1_750_000_000_000;

    /// Signs like a brand's JWT library would, independently of `verify`.
    fn sign(header: &str, claims: &str, secret: &[u8]) -> String {
        let signed = format!("{}.{}", B64.encode(header), B64.encode(claims));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(signed.as_bytes());
        format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    fn secret() -> ViewerTokenSecret {
        ViewerTokenSecret::new(SECRET.to_vec()).unwrap()
    }

    const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    fn claims(exp: i64) -> String {
        format!(r#"{{"viewer":"acct-42","first_name":"Léa","exp":{exp}}}"#)
    }

    #[test]
    fn a_signed_token_names_its_account() {
        let token = sign(HS256, &claims(NOW / 1000 + 60), SECRET);
        let c = verify(&secret(), &token, NOW).unwrap();
        assert_eq!(c.viewer, "acct-42");
        assert_eq!(c.first_name, "Léa");
    }

    #[test]
    fn expired_forged_and_other_algorithms_are_refused() {
        let expired = sign(HS256, &claims(NOW / 1000 - 5), SECRET);
        assert_eq!(
            verify(&secret(), &expired, NOW),
            Err(ViewerTokenError::Expired { ago_secs: 5 })
        );
        assert_eq!(
            verify(&secret(), &expired, NOW).unwrap_err().code(),
            ErrorCode::TokenExpired
        );
        let other = sign(
            HS256,
            &claims(NOW / 1000 + 60),
            b"another secret of thirty-two byt",
        );
        assert_eq!(
            verify(&secret(), &other, NOW),
            Err(ViewerTokenError::BadSignature)
        );
        let none = sign(r#"{"alg":"none"}"#, &claims(NOW / 1000 + 60), SECRET);
        assert!(matches!(
            verify(&secret(), &none, NOW),
            Err(ViewerTokenError::WrongAlgorithm(_))
        ));
        let good = sign(HS256, &claims(NOW / 1000 + 60), SECRET);
        for bad in [&good[..good.len() - 2], "a.b", "", "a.b.c.d"] {
            assert_eq!(
                verify(&secret(), bad, NOW).unwrap_err().code(),
                ErrorCode::TokenInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(ViewerTokenSecret::new(b"short".to_vec()).is_err());
    }
}
