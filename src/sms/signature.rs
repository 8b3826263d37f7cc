//! Twilio's request signature (`X-Twilio-Signature`).
//!
//! Placeholder with the agreed interface: the sms-edges work replaces this
//! file (and owns the signature vectors).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

fn mac(auth_token: &[u8], url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = HmacSha1::new_from_slice(auth_token).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a POST of `params` to `url`.
pub fn twilio_signature(auth_token: &[u8], url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Whether `header` is that signature (compared in constant time).
pub fn twilio_signature_valid(
    auth_token: &[u8],
    url: &str,
    params: &[(String, String)],
    header: &str,
) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return false;
    };
    mac(auth_token, url, params).verify_slice(&given).is_ok()
}
