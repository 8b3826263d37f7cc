//! The staff token signing key and tokens minted with it.
//!
//! The key is created *before* a hub starts on the data dir (the hub then
//! loads it), so the test and the hub never race to create it.

use std::path::Path;

use regie::auth::{Claims, SigningKey, mint};
use regie::protocol::{Millis, StaffRole};

pub(crate) const HOUR: Millis = 3_600_000;

/// The data dir's signing key, created if missing.
pub(crate) fn signing_key(data_dir: &Path) -> SigningKey {
    SigningKey::load_or_create(data_dir).expect("signing key")
}

/// A token issued at `issued_at`, valid for `ttl` ms.
pub(crate) fn token_at(
    key: &SigningKey,
    role: StaffRole,
    name: &str,
    live: &str,
    issued_at: Millis,
    ttl: Millis,
) -> String {
    let claims = Claims::new(role, name, live, issued_at, ttl).expect("claims");
    mint(key, &claims)
}

/// A token for `live`, valid for an hour from now.
pub(crate) fn token(key: &SigningKey, role: StaffRole, name: &str, live: &str) -> String {
    token_at(key, role, name, live, regie::now_millis(), HOUR)
}

/// A token that expired an hour ago.
pub(crate) fn expired_token(key: &SigningKey, role: StaffRole, name: &str, live: &str) -> String {
    token_at(key, role, name, live, regie::now_millis() - 2 * HOUR, HOUR)
}

/// A well-formed token signed with some other key.
pub(crate) fn forged_token(role: StaffRole, name: &str, live: &str) -> String {
    token(&SigningKey::from_bytes([42; 32]), role, name, live)
}
