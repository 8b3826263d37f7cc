//! Shop events: what the brand's shop tells the hub a viewer did after
//! watching (`POST /shop/events`, `hub::shop`), for the report's commerce
//! figures ([`crate::report`]).
//!
//! The shop signs each request like regie signs its own pushes
//! ([`crate::sms::signature::push_signature`]): `X-Regie-Signature:
//! sha256=<hex HMAC-SHA256 of "timestamp.body">` with `X-Regie-Timestamp`
//! in Unix seconds, keyed with the brand's `[shop] secret_file`. A request
//! whose timestamp is more than [`TOLERANCE_SECS`] away from the hub's
//! clock is refused (a captured request replayed later), and an event id
//! seen before is acknowledged as a duplicate and ignored.
//!
//! The body is one event, and nothing else: amount, currency and product
//! ids are all an order may carry. A name, an e-mail address, a postal
//! address or any other field is refused ([`ShopEventError::Body`]), so
//! raw order data never reaches the store. What is stored
//! ([`ShopRecord`]) is content-free: a keyed digest of the shop's event id
//! (for the duplicate check; the shop's own id would be a key into its
//! order database), the kind, the time, the pseudonymous viewer id the
//! viewer's pass or token leads to, the amount, currency and product ids.

use serde::Deserialize;

use crate::protocol::{Millis, ViewerId};
use crate::report::ShopKind;

/// Largest request body read; a real event is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How far the signed timestamp may be from the hub's clock, either way.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Longest event id, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// Most product ids one event names.
pub const MAX_PRODUCTS: usize = 100;

/// Largest order amount, in minor units (ten billion in major units).
pub const MAX_AMOUNT_MINOR: u64 = 1_000_000_000_000;

/// Shortest `[shop]` secret accepted: 256 bits, as for viewer tokens.
pub const MIN_SECRET_BYTES: usize = 32;

/// The label the event-id digest is keyed under.
const EVENT_ID_LABEL: &[u8] = b"regie shop event id v1\0";

/// The secret the brand's shop signs its events with (`[shop] secret_file`).
#[derive(Clone)]
pub struct ShopSecret(zeroize::Zeroizing<Vec<u8>>);

impl std::fmt::Debug for ShopSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShopSecret(..)")
    }
}

impl ShopSecret {
    /// The secret, or why it is unusable (too short).
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the shop secret holds {} bytes; at least {MIN_SECRET_BYTES} are needed",
                bytes.len()
            ));
        }
        Ok(Self(zeroize::Zeroizing::new(bytes)))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The stored digest of a shop's event id: keyed, so the store holds
    /// no key into the shop's own records.
    pub fn event_digest(&self, id: &str) -> String {
        crate::sms::signature::hmac_sha256_hex(&self.0, &[EVENT_ID_LABEL, id.as_bytes()])
    }
}

/// One event as the shop posts it. Any other field is refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopEvent {
    /// The shop's id of the event, unique per event (the duplicate check).
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ShopKind,
    /// When it happened, in milliseconds since the Unix epoch.
    pub at: Millis,
    /// The live the viewer watched.
    pub live: String,
    /// The viewer's pass, or a brand-signed viewer token; absent for a
    /// shopper who did not watch (the event is then not attributed).
    #[serde(default)]
    pub viewer: Option<String>,
    /// An order's total, in minor units (cents).
    #[serde(default)]
    pub amount: Option<u64>,
    /// An order's currency (ISO 4217, three capital letters).
    #[serde(default)]
    pub currency: Option<String>,
    /// The product ids the event is about.
    #[serde(default)]
    pub products: Vec<u32>,
}

/// Why a shop request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShopEventError {
    #[error("shop events are off on this hub (no [shop] secret_file)")]
    Off,
    #[error("missing {0} header: sign each request (see docs/brand.toml, [shop])")]
    Unsigned(&'static str),
    #[error(
        "the X-Regie-Timestamp is more than {TOLERANCE_SECS} s from the hub's clock (or not Unix seconds): refused as a replay"
    )]
    Stale,
    #[error("bad signature: the [shop] secret did not sign this timestamp and body")]
    BadSignature,
    #[error("invalid shop event: {0}")]
    Body(String),
}

/// A checked event, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopRecord {
    /// [`ShopSecret::event_digest`] of the shop's id.
    pub digest: String,
    pub live: String,
    pub kind: ShopKind,
    pub at: Millis,
    /// The viewer's id in the live; `None` when the event carried no pass
    /// or token, or one this hub does not recognise.
    pub viewer: Option<ViewerId>,
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    pub products: Vec<u32>,
}

/// What storing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Accepted,
    /// An event with this id was stored before: nothing changed.
    Duplicate,
}

impl Recorded {
    pub fn as_str(self) -> &'static str {
        match self {
            Recorded::Accepted => "accepted",
            Recorded::Duplicate => "duplicate",
        }
    }
}

/// Checks the signature headers of `body` at `now` (milliseconds).
pub fn check_signature(
    secret: &ShopSecret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: Millis,
) -> Result<(), ShopEventError> {
    use crate::sms::signature::{PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER};
    let stamp = timestamp.ok_or(ShopEventError::Unsigned(PUSH_TIMESTAMP_HEADER))?;
    let signature = signature.ok_or(ShopEventError::Unsigned(PUSH_SIGNATURE_HEADER))?;
    let now_secs = now.div_euclid(1000);
    let fresh = stamp
        .trim()
        .parse::<i64>()
        .is_ok_and(|t| t.abs_diff(now_secs) <= TOLERANCE_SECS.unsigned_abs());
    if !fresh {
        return Err(ShopEventError::Stale);
    }
    if !crate::sms::signature::push_signature_valid(
        secret.bytes(),
        stamp,
        body,
        signature,
        now_secs,
        TOLERANCE_SECS,
    ) {
        return Err(ShopEventError::BadSignature);
    }
    Ok(())
}

/// Parses and checks a signed body at `now`: the event, or why not.
pub fn parse(body: &[u8], now: Millis) -> Result<ShopEvent, ShopEventError> {
    let bad = |why: String| ShopEventError::Body(why);
    let event: ShopEvent = serde_json::from_slice(body).map_err(|e| {
        let why = e.to_string();
        if why.starts_with("unknown field") {
            bad(format!(
                "{why}; an event carries only id, type, at, live, viewer, amount, currency and \
                 products (no customer or order details)"
            ))
        } else {
            bad(why)
        }
    })?;
    if event.id.is_empty() || event.id.len() > MAX_ID_BYTES {
        return Err(bad(format!("id must be 1 to {MAX_ID_BYTES} bytes")));
    }
    if crate::protocol::check_live_name(&event.live).is_err() {
        return Err(bad("live is not a live name".to_owned()));
    }
    if event.at < 0 || event.at > now + TOLERANCE_SECS * 1000 {
        return Err(bad(
            "at must be milliseconds since the Unix epoch, not in the future".to_owned(),
        ));
    }
    if event.products.len() > MAX_PRODUCTS {
        return Err(bad(format!("at most {MAX_PRODUCTS} products per event")));
    }
    match event.kind {
        ShopKind::Order => {
            let (Some(amount), Some(currency)) = (event.amount, &event.currency) else {
                return Err(bad("an order carries amount and currency".to_owned()));
            };
            if amount > MAX_AMOUNT_MINOR {
                return Err(bad(format!(
                    "amount is in minor units, at most {MAX_AMOUNT_MINOR}"
                )));
            }
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(bad(
                    "currency must be an ISO 4217 code (three capital letters, e.g. EUR)"
                        .to_owned(),
                ));
            }
        }
        ShopKind::ProductView | ShopKind::AddToCart => {
            if event.amount.is_some() || event.currency.is_some() {
                return Err(bad("only an order carries amount and currency".to_owned()));
            }
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::signature::push_signature;

    const NOW: Millis = 1_780_000_000_000;

    fn secret() -> ShopSecret {
        ShopSecret::new(vec![9; 32]).unwrap()
    }

    fn order(extra: &str) -> String {
        format!(
            r#"{{"id":"e1","type":"order","at":{NOW},"live":"show","amount":4990,"currency":"EUR","products":[1,2]{extra}}}"#
        )
    }

    #[test]
    fn a_signed_order_parses() {
        let body = order("");
        let sig = push_signature(secret().bytes(), NOW / 1000, body.as_bytes());
        let stamp = (NOW / 1000).to_string();
        check_signature(
            &secret(),
            Some(&stamp),
            Some(&sig),
            body.as_bytes(),
            NOW + 1000,
        )
        .unwrap();
        let e = parse(body.as_bytes(), NOW).unwrap();
        assert_eq!(e.kind, ShopKind::Order);
        assert_eq!((e.amount, e.currency.as_deref()), (Some(4990), Some("EUR")));
        assert_eq!(e.products, [1, 2]);
    }

    #[test]
    fn unsigned_stale_future_or_forged_requests_are_refused() {
        let body = order("");
        let s = secret();
        let stamp = (NOW / 1000).to_string();
        let sig = push_signature(s.bytes(), NOW / 1000, body.as_bytes());
        let check = |stamp: Option<&str>, sig: Option<&str>, body: &str, now: Millis| {
            check_signature(&s, stamp, sig, body.as_bytes(), now)
        };
        assert!(matches!(
            check(None, Some(&sig), &body, NOW),
            Err(ShopEventError::Unsigned(_))
        ));
        assert!(matches!(
            check(Some(&stamp), None, &body, NOW),
            Err(ShopEventError::Unsigned(_))
        ));
        assert_eq!(
            check(Some(&stamp), Some(&sig), &body, NOW + 301_000),
            Err(ShopEventError::Stale)
        );
        assert_eq!(
            check(Some(&stamp), Some(&sig), &body, NOW - 301_000),
            Err(ShopEventError::Stale)
        );
        assert_eq!(
            check(Some("soon"), Some(&sig), &body, NOW),
            Err(ShopEventError::Stale)
        );
        assert_eq!(
            check(Some(&stamp), Some(&sig), &order(",\"x\":1"), NOW),
            Err(ShopEventError::BadSignature)
        );
        let other = push_signature(&[8; 32], NOW / 1000, body.as_bytes());
        assert_eq!(
            check(Some(&stamp), Some(&other), &body, NOW),
            Err(ShopEventError::BadSignature)
        );
    }

    #[test]
    fn raw_order_data_is_refused_by_name() {
        for extra in [
            r#","email":"lea@example.fr""#,
            r#","name":"Léa Martin""#,
            r#","address":"3 rue X""#,
        ] {
            let err = parse(order(extra).as_bytes(), NOW).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("unknown field"), "{text}");
            assert!(text.contains("no customer or order details"), "{text}");
        }
    }

    #[test]
    fn malformed_events_are_refused_with_a_reason() {
        let cases = [
            (r#"{"id":"","type":"order"}"#, "missing field"),
            ("not json", "expected"),
            (
                r#"{"id":"e","type":"refund","at":1,"live":"show"}"#,
                "unknown variant",
            ),
            (
                r#"{"id":"e","type":"order","at":1,"live":"show"}"#,
                "amount and currency",
            ),
            (
                r#"{"id":"e","type":"order","at":1,"live":"show","amount":1,"currency":"eur"}"#,
                "ISO 4217",
            ),
            (
                r#"{"id":"e","type":"order","at":1,"live":"show","amount":-1,"currency":"EUR"}"#,
                "invalid value",
            ),
            (
                r#"{"id":"e","type":"add_to_cart","at":1,"live":"show","amount":1}"#,
                "only an order",
            ),
            (
                r#"{"id":"","type":"product_view","at":1,"live":"show"}"#,
                "id must be",
            ),
            (
                r#"{"id":"e","type":"product_view","at":9999999999999999,"live":"show"}"#,
                "future",
            ),
            (
                r#"{"id":"e","type":"product_view","at":1,"live":"../x y"}"#,
                "live name",
            ),
        ];
        for (body, want) in cases {
            let err = parse(body.as_bytes(), NOW).unwrap_err().to_string();
            assert!(err.contains(want), "{body}: {err}");
        }
    }

    #[test]
    fn the_event_digest_is_keyed_and_stable() {
        let a = secret().event_digest("e1");
        assert_eq!(a, secret().event_digest("e1"));
        assert_ne!(a, secret().event_digest("e2"));
        assert_ne!(a, ShopSecret::new(vec![1; 32]).unwrap().event_digest("e1"));
        assert!(!a.contains("e1"));
        assert!(ShopSecret::new(vec![1; 31]).is_err());
    }
}
