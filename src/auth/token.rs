//! The token format: `regie1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{AuthError, MAX_STAFF_NAME_GRAPHEMES, SigningKey, secret_file};
use crate::privacy::sanitize_name;
use crate::protocol::{Millis, StaffRole};

/// The format tag every token starts with. A future format gets `regie2.`.
pub const TOKEN_PREFIX: &str = "regie1.";

/// Longest token `verify` looks at. Real ones are ~250 bytes; anything far
/// longer is refused before any decoding work.
pub const MAX_TOKEN_BYTES: usize = 2048;

/// Longest live name kept in a token, in graphemes.
const MAX_LIVE_GRAPHEMES: usize = 128;

/// The live of a brand-wide token: admitted to every live of the hub (a
/// console that switches between lives). No live can have this name
/// ([`crate::protocol::check_live_name`]).
pub const ANY_LIVE: &str = "*";

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub role: StaffRole,
    /// Display name, sanitised.
    pub name: String,
    /// The live session the token admits to; [`ANY_LIVE`] for every live
    /// of the hub.
    pub live: String,
    pub expires_at: Millis,
    pub issued_at: Millis,
    /// Random, so two tokens minted in the same millisecond differ and a
    /// token can be named (and, later, revoked) without quoting it.
    pub token_id: String,
}

impl Claims {
    /// Claims for a token valid from `now` for `ttl_ms`. The name and live
    /// are sanitised; an empty one (after sanitising) is refused.
    pub fn new(
        role: StaffRole,
        name: &str,
        live: &str,
        now: Millis,
        ttl_ms: Millis,
    ) -> Result<Claims, AuthError> {
        let name = sanitize_name(name, MAX_STAFF_NAME_GRAPHEMES);
        if name.is_empty() {
            return Err(AuthError::InvalidClaims(
                "the staff name is empty (after removing control characters)".into(),
            ));
        }
        let live = sanitize_name(live, MAX_LIVE_GRAPHEMES);
        if live.is_empty() {
            return Err(AuthError::InvalidClaims("the live name is empty".into()));
        }
        if ttl_ms <= 0 {
            return Err(AuthError::InvalidClaims(
                "the time to live must be positive".into(),
            ));
        }
        let mut id = [0u8; 12];
        secret_file::os_random(&mut id)?;
        Ok(Claims {
            role,
            name,
            live,
            expires_at: now.saturating_add(ttl_ms),
            issued_at: now,
            token_id: B64.encode(id),
        })
    }
}

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &SigningKey, signed_part: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key.bytes()).expect("HMAC takes keys of any length");
    mac.update(signed_part.as_bytes());
    mac
}

/// Signs the claims into a token.
pub fn mint(key: &SigningKey, claims: &Claims) -> String {
    let json = serde_json::to_vec(claims).expect("claims always serialise");
    let signed = format!("{TOKEN_PREFIX}{}", B64.encode(json));
    let tag = mac(key, &signed).finalize().into_bytes();
    format!("{signed}.{}", B64.encode(tag))
}

/// Checks a token: format, signature (constant time), live, expiry — in that
/// order, so claims are only read once the key is known to have signed them.
pub fn verify(
    key: &SigningKey,
    token: &str,
    expected_live: &str,
    now: Millis,
) -> Result<Claims, AuthError> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed(format!(
            "{} bytes, longer than any token ({MAX_TOKEN_BYTES})",
            token.len()
        )));
    }
    let Some(rest) = token.strip_prefix(TOKEN_PREFIX) else {
        return Err(AuthError::Malformed(format!(
            "it does not start with {TOKEN_PREFIX:?} (copy the whole line `regie token` printed)"
        )));
    };
    let Some((claims_b64, tag_b64)) = rest.split_once('.') else {
        return Err(AuthError::Malformed(
            "the signature part is missing (truncated?)".into(),
        ));
    };
    let tag = B64
        .decode(tag_b64)
        .map_err(|_| AuthError::Malformed("the signature is not base64url".into()))?;
    let signed = &token[..TOKEN_PREFIX.len() + claims_b64.len()];
    mac(key, signed)
        .verify_slice(&tag)
        .map_err(|_| AuthError::BadSignature)?;

    let json = B64
        .decode(claims_b64)
        .map_err(|_| AuthError::Malformed("the claims are not base64url".into()))?;
    let mut claims: Claims = serde_json::from_slice(&json)
        .map_err(|e| AuthError::Malformed(format!("the claims do not parse: {e}")))?;
    // Signed, so trusted; sanitised again anyway, since the name reaches
    // staff terminals and another tool may have minted it.
    claims.name = sanitize_name(&claims.name, MAX_STAFF_NAME_GRAPHEMES);
    if claims.name.is_empty() {
        return Err(AuthError::InvalidClaims("the staff name is empty".into()));
    }
    if claims.live != expected_live && claims.live != ANY_LIVE {
        return Err(AuthError::WrongLive {
            token_live: claims.live,
            hub_live: expected_live.to_string(),
        });
    }
    if now >= claims.expires_at {
        return Err(AuthError::Expired {
            ago_ms: now - claims.expires_at,
        });
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorCode;
    use proptest::prelude::*;

    const NOW: Millis = 1_750_000_000_000;
    const HOUR: Millis = 3_600_000;

    fn key() -> SigningKey {
        SigningKey::from_bytes([42; 32])
    }

    fn claims() -> Claims {
        Claims::new(StaffRole::Moderator, "Inès", "show", NOW, 8 * HOUR).unwrap()
    }

    #[test]
    fn mint_then_verify_round_trips() {
        let c = claims();
        let t = mint(&key(), &c);
        assert!(t.starts_with("regie1."));
        assert_eq!(verify(&key(), &t, "show", NOW + HOUR).unwrap(), c);
        assert_eq!(c.name, "Inès");
        assert_eq!(c.expires_at, NOW + 8 * HOUR);
    }

    #[test]
    fn surrounding_whitespace_from_a_file_is_accepted() {
        let t = format!("{}\n", mint(&key(), &claims()));
        assert!(verify(&key(), &t, "show", NOW).is_ok());
    }

    #[test]
    fn an_expired_token_says_how_long_ago() {
        let t = mint(&key(), &claims());
        let err = verify(&key(), &t, "show", NOW + 8 * HOUR + 3 * 60_000).unwrap_err();
        assert!(matches!(err, AuthError::Expired { ago_ms: 180_000 }));
        assert_eq!(err.code(), ErrorCode::TokenExpired);
        assert_eq!(err.to_string(), "staff token expired 3m ago");
        // Exactly at expiry it is already expired.
        assert!(verify(&key(), &t, "show", NOW + 8 * HOUR).is_err());
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let t = mint(&SigningKey::from_bytes([1; 32]), &claims());
        let err = verify(&key(), &t, "show", NOW).unwrap_err();
        assert!(matches!(err, AuthError::BadSignature));
        assert_eq!(err.code(), ErrorCode::TokenInvalid);
    }

    #[test]
    fn tampered_claims_are_refused() {
        let t = mint(&key(), &claims());
        let parts: Vec<&str> = t.split('.').collect();
        let mut c = claims();
        c.role = StaffRole::Admin;
        let forged_claims = B64.encode(serde_json::to_vec(&c).unwrap());
        let forged = format!("regie1.{forged_claims}.{}", parts[2]);
        assert!(matches!(
            verify(&key(), &forged, "show", NOW),
            Err(AuthError::BadSignature)
        ));
        // A flipped bit in the signature, too.
        let mut sig = B64.decode(parts[2]).unwrap();
        sig[0] ^= 1;
        let flipped = format!("regie1.{}.{}", parts[1], B64.encode(sig));
        assert!(matches!(
            verify(&key(), &flipped, "show", NOW),
            Err(AuthError::BadSignature)
        ));
    }

    #[test]
    fn a_brand_wide_token_is_admitted_to_every_live_and_a_bound_one_stays_bound() {
        let mut wide = claims();
        wide.live = ANY_LIVE.into();
        let t = mint(&key(), &wide);
        for live in ["show", "soldes", "next-week"] {
            assert_eq!(verify(&key(), &t, live, NOW).unwrap().live, ANY_LIVE);
        }
        let bound = mint(&key(), &claims());
        assert!(verify(&key(), &bound, "soldes", NOW).is_err());
    }

    #[test]
    fn a_token_for_another_live_is_refused_naming_both() {
        let t = mint(&key(), &claims());
        let err = verify(&key(), &t, "soldes", NOW).unwrap_err();
        assert_eq!(err.code(), ErrorCode::WrongLive);
        assert_eq!(
            err.to_string(),
            "staff token was minted for live \"show\", this hub runs \"soldes\""
        );
    }

    #[test]
    fn malformed_tokens_say_what_is_wrong() {
        for (token, why) in [
            ("", "does not start"),
            ("hello", "does not start"),
            ("regie1.abc", "signature part is missing"),
            ("regie1.abc.!!!", "not base64url"),
        ] {
            let err = verify(&key(), token, "show", NOW).unwrap_err();
            assert_eq!(err.code(), ErrorCode::TokenInvalid, "{token}");
            assert!(err.to_string().contains(why), "{token}: {err}");
        }
        let huge = format!("regie1.{}", "a".repeat(MAX_TOKEN_BYTES));
        assert!(matches!(
            verify(&key(), &huge, "show", NOW),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn a_signed_but_unparseable_payload_is_malformed() {
        let signed = format!("{TOKEN_PREFIX}{}", B64.encode(b"not json"));
        let tag = mac(&key(), &signed).finalize().into_bytes();
        let t = format!("{signed}.{}", B64.encode(tag));
        assert!(matches!(
            verify(&key(), &t, "show", NOW),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn names_are_sanitised_and_empty_ones_refused() {
        let c = Claims::new(
            StaffRole::Host,
            "  Zoé\u{1b}[31m \u{202e}X ",
            "show",
            NOW,
            HOUR,
        )
        .unwrap();
        assert!(!c.name.contains('\u{1b}') && !c.name.contains('\u{202e}'));
        assert!(c.name.starts_with("Zoé"));
        assert!(Claims::new(StaffRole::Host, " \u{200b} ", "show", NOW, HOUR).is_err());
        assert!(Claims::new(StaffRole::Host, "Zoé", "", NOW, HOUR).is_err());
        assert!(Claims::new(StaffRole::Host, "Zoé", "show", NOW, 0).is_err());
    }

    #[test]
    fn two_tokens_minted_alike_differ() {
        assert_ne!(mint(&key(), &claims()), mint(&key(), &claims()));
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic_verify(s in ".{0,300}") {
            let _ = verify(&key(), &s, "show", NOW);
            let _ = verify(&key(), &format!("regie1.{s}"), "show", NOW);
        }

        #[test]
        fn arbitrary_edits_of_a_real_token_are_refused(pos in 0usize..400, byte in 0u8..128) {
            let t = mint(&key(), &claims());
            let mut bytes = t.into_bytes();
            let i = pos % bytes.len();
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            if let Ok(s) = String::from_utf8(bytes) {
                prop_assert!(verify(&key(), &s, "show", NOW).is_err());
            }
        }
    }
}
