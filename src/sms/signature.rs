//! Request signatures: Twilio's on inbound webhooks, regie's own on the
//! pushes it sends.
//!
//! - Twilio signs each webhook with `X-Twilio-Signature`: the base64
//!   HMAC-SHA1, keyed with the account's auth token, of the full URL
//!   Twilio called (scheme, host, path, query) followed by every POST
//!   parameter's name and value, parameters sorted by name.
//! - regie signs what it pushes (opt-ins to a CRM) with a hex HMAC-SHA256
//!   over the parts it names: for a push, `timestamp.body`
//!   ([`push_signature`]), sent as `X-Regie-Signature: sha256=<hex>` with
//!   the timestamp in `X-Regie-Timestamp`, so a receiver can refuse a
//!   replay outside its tolerance ([`push_signature_valid`]).
//!
//! Both checks compare in constant time (`hmac`'s `verify_slice`): a
//! forger learns nothing from how long a wrong guess took to refuse.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

type HmacSha1 = Hmac<Sha1>;
type HmacSha256 = Hmac<Sha256>;

/// The `X-Twilio-Signature` Twilio would send for a POST of `params` to
/// `url`, keyed with `auth_token`. The order of `params` does not matter.
pub fn twilio_signature(auth_token: &[u8], url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(twilio_mac(auth_token, url, params).finalize().into_bytes())
}

/// Whether `header` is the signature of this request (constant time).
/// A header that is empty, not base64 or of the wrong length is refused.
pub fn twilio_signature_valid(
    auth_token: &[u8],
    url: &str,
    params: &[(String, String)],
    header: &str,
) -> bool {
    let Ok(claimed) = STANDARD.decode(header.trim()) else {
        return false;
    };
    !claimed.is_empty()
        && twilio_mac(auth_token, url, params)
            .verify_slice(&claimed)
            .is_ok()
}

fn twilio_mac(auth_token: &[u8], url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // By name, as Twilio does (byte order); a name given twice keeps a
    // stable order by value, so the signature never depends on input order.
    sorted.sort_by(|a, b| {
        a.0.as_bytes()
            .cmp(b.0.as_bytes())
            .then_with(|| a.1.cmp(&b.1))
    });
    let mut mac = HmacSha1::new_from_slice(auth_token).expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// Lower-case hex HMAC-SHA256 of `parts` concatenated, keyed with `secret`.
pub fn hmac_sha256_hex(secret: &[u8], parts: &[&[u8]]) -> String {
    crate::hex(&sha256_mac(secret, parts).finalize().into_bytes())
}

/// Whether `hex` is [`hmac_sha256_hex`] of `parts` (constant time; either
/// case of hex digits, surrounding whitespace ignored).
pub fn hmac_sha256_hex_valid(secret: &[u8], parts: &[&[u8]], hex: &str) -> bool {
    let Some(claimed) = unhex(hex.trim()) else {
        return false;
    };
    !claimed.is_empty() && sha256_mac(secret, parts).verify_slice(&claimed).is_ok()
}

/// The header a signed push carries its signature in.
pub const PUSH_SIGNATURE_HEADER: &str = "X-Regie-Signature";
/// The header a signed push carries its timestamp in (Unix seconds).
pub const PUSH_TIMESTAMP_HEADER: &str = "X-Regie-Timestamp";

/// The [`PUSH_SIGNATURE_HEADER`] value of a push of `body` at `timestamp`
/// (Unix seconds): `sha256=` and the hex HMAC-SHA256 of `timestamp.body`.
pub fn push_signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let stamp = timestamp.to_string();
    format!(
        "sha256={}",
        hmac_sha256_hex(secret, &[stamp.as_bytes(), b".", body])
    )
}

/// What a receiver checks: `header` is the signature of `body` at
/// `timestamp_header`, and that timestamp is within `tolerance_secs` of
/// `now_secs` (either way), so a captured push replayed later is refused.
/// Constant time in the signature; anything malformed is refused.
pub fn push_signature_valid(
    secret: &[u8],
    timestamp_header: &str,
    body: &[u8],
    header: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> bool {
    let stamp = timestamp_header.trim();
    let Ok(timestamp) = stamp.parse::<i64>() else {
        return false;
    };
    if stamp.starts_with('+') || now_secs.abs_diff(timestamp) > tolerance_secs.unsigned_abs() {
        return false;
    }
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    hmac_sha256_hex_valid(secret, &[stamp.as_bytes(), b".", body], hex)
}

fn sha256_mac(secret: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The worked example of Twilio's webhook-security page: auth token
    /// `12345`, a voice webhook to `https://mycompany.com/myapp.php?foo=1&bar=2`.
    fn documented_example() -> (Vec<(String, String)>, &'static str) {
        (
            params(&[
                ("CallSid", "CA1234567890ABCDE"),
                ("Caller", "+12349013030"),
                ("Digits", "1234"),
                ("From", "+12349013030"),
                ("To", "+18005551212"),
            ]),
            "https://mycompany.com/myapp.php?foo=1&bar=2",
        )
    }

    const DOCUMENTED_SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    #[test]
    fn twilio_documented_example_matches() {
        let (params, url) = documented_example();
        assert_eq!(
            twilio_signature(b"12345", url, &params),
            DOCUMENTED_SIGNATURE
        );
        assert!(twilio_signature_valid(
            b"12345",
            url,
            &params,
            DOCUMENTED_SIGNATURE
        ));
    }

    /// A recorded voice request from Twilio's own Ruby library's test suite
    /// (27 parameters, some empty).
    #[test]
    fn twilio_recorded_request_matches() {
        let params = params(&[
            ("ToState", "California"),
            ("CalledState", "California"),
            ("Direction", "inbound"),
            ("FromState", "CA"),
            ("AccountSid", "ACba8bc05eacf94afdae398e642c9cc32d"),
            ("Caller", "+14153595711"),
            ("CallerZip", "94108"),
            ("CallerCountry", "US"),
            ("From", "+14153595711"),
            ("FromCity", "SAN FRANCISCO"),
            ("CallerCity", "SAN FRANCISCO"),
            ("To", "+14157669926"),
            ("FromZip", "94108"),
            ("FromCountry", "US"),
            ("ToCity", ""),
            ("CallStatus", "ringing"),
            ("CalledCity", ""),
            ("CallerState", "CA"),
            ("CalledZip", ""),
            ("ToZip", ""),
            ("ToCountry", "US"),
            ("CallSid", "CA136d09cd59a3c0ec8dbff44da5c03f31"),
            ("CalledCountry", "US"),
            ("Called", "+14157669926"),
            ("ApiVersion", "2010-04-01"),
            ("ApplicationSid", "AP44efecad51364e80b133bb7c07eb8204"),
        ]);
        let url = "http://twiliotests.heroku.com/validate/voice";
        let token = b"2bd9e9638872de601313dc77410d3b23";
        assert!(twilio_signature_valid(
            token,
            url,
            &params,
            "oVb2kXoVy8GEfwBDjR8bk/ZZ6eA="
        ));
    }

    #[test]
    fn reordered_params_are_still_valid() {
        let (mut params, url) = documented_example();
        params.reverse();
        assert!(twilio_signature_valid(
            b"12345",
            url,
            &params,
            DOCUMENTED_SIGNATURE
        ));
        params.swap(0, 2);
        assert!(twilio_signature_valid(
            b"12345",
            url,
            &params,
            DOCUMENTED_SIGNATURE
        ));
    }

    #[test]
    fn a_changed_param_is_refused() {
        let (mut params, url) = documented_example();
        params[2].1 = "1235".into();
        assert!(!twilio_signature_valid(
            b"12345",
            url,
            &params,
            DOCUMENTED_SIGNATURE
        ));
        let (mut params, _) = documented_example();
        params.push(("Body".into(), "STOP".into()));
        assert!(!twilio_signature_valid(
            b"12345",
            url,
            &params,
            DOCUMENTED_SIGNATURE
        ));
        let (mut params, _) = documented_example();
        params.pop();
        assert!(!twilio_signature_valid(
            b"12345",
            url,
            &params,
            DOCUMENTED_SIGNATURE
        ));
        // Names are case-sensitive.
        let (mut params, _) = documented_example();
        params[0].0 = "callsid".into();
        assert!(!twilio_signature_valid(
            b"12345",
            url,
            &params,
            DOCUMENTED_SIGNATURE
        ));
    }

    #[test]
    fn a_changed_url_or_token_is_refused() {
        let (params, url) = documented_example();
        for other in [
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            "https://mycompany.com/myapp.php?bar=2&foo=1",
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            "https://mycompany.com/myapp.php",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
        ] {
            assert!(
                !twilio_signature_valid(b"12345", other, &params, DOCUMENTED_SIGNATURE),
                "{other}"
            );
        }
        assert!(!twilio_signature_valid(
            b"12346",
            url,
            &params,
            DOCUMENTED_SIGNATURE
        ));
        assert!(!twilio_signature_valid(
            b"",
            url,
            &params,
            DOCUMENTED_SIGNATURE
        ));
    }

    #[test]
    fn empty_or_malformed_headers_are_refused() {
        let (params, url) = documented_example();
        for header in [
            "",
            "   ",
            "=",
            "not base64!",
            "0/KCTR6DLpKmkAf8muzZqo1nDg", // truncated
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ=0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
            "0/KCTR6DLpKmkAf8muzZqo1nDgA=",
            "0/kctr6dlpkmkaf8muzzqo1ndgq=",
            "\u{200B}",
        ] {
            assert!(
                !twilio_signature_valid(b"12345", url, &params, header),
                "{header:?}"
            );
        }
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        let want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(
            hmac_sha256_hex(b"Jefe", &[b"what do ya want for nothing?"]),
            want
        );
        assert_eq!(
            hmac_sha256_hex(b"Jefe", &[b"what do ya ", b"want for nothing?"]),
            want
        );
        assert!(hmac_sha256_hex_valid(
            b"Jefe",
            &[b"what do ya want for nothing?"],
            want
        ));
        assert!(hmac_sha256_hex_valid(
            b"Jefe",
            &[b"what do ya want for nothing?"],
            &want.to_uppercase()
        ));
    }

    #[test]
    fn a_push_signature_is_over_timestamp_dot_body() {
        let body = br#"{"event":"opt_in","email":"lea@example.fr"}"#;
        let header = push_signature(b"crm-secret", 1_780_000_000, body);
        let want = hmac_sha256_hex(b"crm-secret", &[b"1780000000.", body]);
        assert_eq!(header, format!("sha256={want}"));
        assert!(push_signature_valid(
            b"crm-secret",
            "1780000000",
            body,
            &header,
            1_780_000_100,
            300
        ));
    }

    #[test]
    fn a_push_is_refused_when_tampered_replayed_or_malformed() {
        let body = br#"{"event":"opt_in"}"#;
        let header = push_signature(b"crm-secret", 1_780_000_000, body);
        let valid = |secret: &[u8], stamp: &str, body: &[u8], header: &str, now: i64| {
            push_signature_valid(secret, stamp, body, header, now, 300)
        };
        assert!(valid(
            b"crm-secret",
            "1780000000",
            body,
            &header,
            1_780_000_000
        ));
        // Another body, timestamp or secret.
        assert!(!valid(
            b"crm-secret",
            "1780000000",
            br#"{"event":"opt_out"}"#,
            &header,
            1_780_000_000
        ));
        assert!(!valid(
            b"crm-secret",
            "1780000001",
            body,
            &header,
            1_780_000_000
        ));
        assert!(!valid(b"other", "1780000000", body, &header, 1_780_000_000));
        // Replayed outside the tolerance, either way.
        assert!(!valid(
            b"crm-secret",
            "1780000000",
            body,
            &header,
            1_780_000_301
        ));
        assert!(!valid(
            b"crm-secret",
            "1780000000",
            body,
            &header,
            1_779_999_699
        ));
        // Malformed headers.
        let hex = header.trim_start_matches("sha256=");
        for bad in [
            "",
            "sha256=",
            hex,
            &format!("sha1={hex}"),
            &format!("SHA256={hex}"),
        ] {
            assert!(
                !valid(b"crm-secret", "1780000000", body, bad, 1_780_000_000),
                "{bad:?}"
            );
        }
        for stamp in [
            "",
            "+1780000000",
            "1780000000.0",
            "soon",
            "99999999999999999999",
        ] {
            assert!(
                !valid(b"crm-secret", stamp, body, &header, 1_780_000_000),
                "{stamp:?}"
            );
        }
    }

    #[test]
    fn hmac_sha256_refuses_tampering_and_junk() {
        let good = hmac_sha256_hex(b"secret", &[b"1700000000", b".", b"{\"a\":1}"]);
        assert!(hmac_sha256_hex_valid(
            b"secret",
            &[b"1700000000", b".", b"{\"a\":1}"],
            &good
        ));
        assert!(!hmac_sha256_hex_valid(
            b"secret",
            &[b"1700000001", b".", b"{\"a\":1}"],
            &good
        ));
        assert!(!hmac_sha256_hex_valid(
            b"secreT",
            &[b"1700000000", b".", b"{\"a\":1}"],
            &good
        ));
        for junk in ["", "zz", "abc", &good[..62], "é", &format!("{good}00")] {
            assert!(!hmac_sha256_hex_valid(b"secret", &[b"x"], junk), "{junk:?}");
        }
    }
}
