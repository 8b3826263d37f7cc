//! Personal data posted in chat: phone numbers, e-mail addresses, IBANs and
//! card numbers. Detection holds the message for a moderator; masking
//! replaces the data before the text is stored or shown, so the raw number
//! never sits in the store nor on a screen.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalDataKind {
    Phone,
    Email,
    Iban,
    Card,
}

/// One piece of personal data found in a text, as a byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub kind: PersonalDataKind,
    pub span: Range<usize>,
}

const BULLET: char = '•';

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("static regex")
});
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,3})?\b")
        .expect("static regex")
});
/// Digit runs with the separators people type in numbers.
static DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d(?:[\d \-.()/]*\d)?").expect("static regex"));

/// Finds personal data in `text`, in order, without overlaps.
pub fn detect_personal_data(text: &str) -> Vec<Detection> {
    let mut found: Vec<Detection> = Vec::new();
    let push = |kind, span: Range<usize>, found: &mut Vec<Detection>| {
        if !found
            .iter()
            .any(|d| d.span.start < span.end && span.start < d.span.end)
        {
            found.push(Detection { kind, span });
        }
    };
    for m in EMAIL.find_iter(text) {
        push(PersonalDataKind::Email, m.range(), &mut found);
    }
    for m in IBAN.find_iter(text) {
        if iban_checksum_ok(m.as_str()) {
            push(PersonalDataKind::Iban, m.range(), &mut found);
        }
    }
    for m in DIGITS.find_iter(text) {
        let digits: Vec<u32> = m.as_str().chars().filter_map(|c| c.to_digit(10)).collect();
        let n = digits.len();
        if (13..=19).contains(&n) && luhn_ok(&digits) {
            push(PersonalDataKind::Card, m.range(), &mut found);
        } else if (9..=15).contains(&n) && looks_like_phone(m.as_str()) {
            push(PersonalDataKind::Phone, m.range(), &mut found);
        }
    }
    found.sort_by_key(|d| d.span.start);
    found
}

/// Returns `text` with every detection masked.
pub fn mask_detections(text: &str, detections: &[Detection]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for d in detections {
        out.push_str(&text[last..d.span.start]);
        let raw = &text[d.span.clone()];
        out.push_str(&match d.kind {
            PersonalDataKind::Phone => mask_contact_phone(raw),
            PersonalDataKind::Email => mask_contact_email(raw),
            PersonalDataKind::Iban => mask_keep(raw, 4, 4),
            PersonalDataKind::Card => mask_keep(raw, 0, 4),
        });
        last = d.span.end;
    }
    out.push_str(&text[last..]);
    out
}

/// Masks a phone number for display, keeping its shape, the country code
/// and first digit, and the last two digits: `+33 6•• •• •• 78`.
pub fn mask_contact_phone(phone: &str) -> String {
    let head = if phone.trim_start().starts_with('+') {
        3
    } else {
        2
    };
    mask_digits(phone, head, 2)
}

/// Masks an e-mail address: `julie.m@gmail.com` → `j•••@g•••.com`.
pub fn mask_contact_email(email: &str) -> String {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return BULLET.to_string().repeat(3);
    };
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let tld = domain.rsplit_once('.').map_or("", |(_, t)| t);
    format!("{}•••@{}•••.{}", first(local), first(domain), tld)
}

/// Keeps `head` and `tail` alphanumerics of `raw`, masks the rest, keeps
/// separators so the shape stays recognisable.
fn mask_keep(raw: &str, head: usize, tail: usize) -> String {
    let total = raw.chars().filter(char::is_ascii_alphanumeric).count();
    let mut seen = 0;
    raw.chars()
        .map(|c| {
            if !c.is_ascii_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen <= head || seen > total.saturating_sub(tail) {
                c
            } else {
                BULLET
            }
        })
        .collect()
}

fn mask_digits(raw: &str, head: usize, tail: usize) -> String {
    let total = raw.chars().filter(char::is_ascii_digit).count();
    if total <= head + tail {
        return raw
            .chars()
            .map(|c| if c.is_ascii_digit() { BULLET } else { c })
            .collect();
    }
    let mut seen = 0;
    raw.chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen <= head || seen > total - tail {
                c
            } else {
                BULLET
            }
        })
        .collect()
}

/// Prices, dates and quantities are digit runs too; a phone number either
/// starts with `+`/`0`/`(` or is long and mostly digits.
fn looks_like_phone(s: &str) -> bool {
    let t = s.trim();
    let separators = t.chars().filter(|c| matches!(c, '.' | '/')).count();
    if separators > 0 && !t.starts_with('+') && !t.starts_with('0') {
        return false;
    }
    t.starts_with('+') || t.starts_with('0') || t.starts_with('(') || t.len() >= 10
}

fn luhn_ok(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// ISO 13616: move the first four characters to the end, letters become
/// 10..35, and the number mod 97 must be 1.
fn iban_checksum_ok(raw: &str) -> bool {
    let compact: Vec<char> = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let rotated = compact[4..].iter().chain(&compact[..4]);
    let mut rem: u32 = 0;
    for c in rotated {
        let v = match c.to_ascii_uppercase() {
            d @ '0'..='9' => d as u32 - '0' as u32,
            l @ 'A'..='Z' => l as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kinds(text: &str) -> Vec<PersonalDataKind> {
        detect_personal_data(text)
            .into_iter()
            .map(|d| d.kind)
            .collect()
    }

    #[test]
    fn finds_french_and_international_phones() {
        assert_eq!(
            kinds("call me 06 12 34 56 78 please"),
            [PersonalDataKind::Phone]
        );
        assert_eq!(kinds("+33 6 12 34 56 78"), [PersonalDataKind::Phone]);
        assert_eq!(
            kinds("my number is +44 7700 900123"),
            [PersonalDataKind::Phone]
        );
    }

    #[test]
    fn prices_sizes_and_dates_are_not_phones() {
        assert!(kinds("is it 39.90 or 49.90? size 38, 2 pairs").is_empty());
        assert!(kinds("delivery on 12/11/2026").is_empty());
    }

    #[test]
    fn finds_emails_ibans_and_cards() {
        assert_eq!(
            kinds("write to julie.martin@gmail.com"),
            [PersonalDataKind::Email]
        );
        assert_eq!(
            kinds("FR76 3000 6000 0112 3456 7890 189"),
            [PersonalDataKind::Iban]
        );
        assert_eq!(kinds("card 4111 1111 1111 1111"), [PersonalDataKind::Card]);
        assert!(
            kinds("card 4111 1111 1111 1112")
                .iter()
                .all(|k| *k != PersonalDataKind::Card)
        );
    }

    #[test]
    fn masks_keep_shape_not_data() {
        assert_eq!(mask_contact_phone("+33 612 34 56 78"), "+33 6•• •• •• 78");
        assert_eq!(mask_contact_phone("+33 6 12 34 56 78"), "+33 6 •• •• •• 78");
        assert_eq!(mask_contact_phone("06 12 34 56 78"), "06 •• •• •• 78");
        assert_eq!(
            mask_contact_email("julie.martin@gmail.com"),
            "j•••@g•••.com"
        );
        let text = "text me 06 12 34 56 78 or julie@free.fr";
        let masked = mask_detections(text, &detect_personal_data(text));
        assert_eq!(masked, "text me 06 •• •• •• 78 or j•••@f•••.fr");
        assert!(!masked.contains("12 34 56"));
    }

    #[test]
    fn ibans_and_cards_keep_only_their_ends() {
        let mask = |text: &str| mask_detections(text, &detect_personal_data(text));
        assert_eq!(
            mask("FR76 3000 6000 0112 3456 7890 189"),
            "FR76 •••• •••• •••• •••• •••0 189"
        );
        assert_eq!(
            mask("iban GB82 WEST 1234 5698 7654 32 merci"),
            "iban GB82 •••• •••• •••• ••54 32 merci"
        );
        assert_eq!(
            mask("card 4111 1111 1111 1111 thanks"),
            "card •••• •••• •••• 1111 thanks"
        );
        assert_eq!(mask("4111-1111-1111-1111"), "••••-••••-••••-1111");
    }

    /// `digits` followed by its Luhn check digit.
    fn with_luhn_digit(digits: &[u32]) -> Vec<u32> {
        // Doubling every other digit from the right, the check digit being
        // the rightmost: the payload's last digit is doubled.
        let sum: u32 = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| {
                if i % 2 == 0 {
                    (d * 2) % 10 + (d * 2) / 10
                } else {
                    d
                }
            })
            .sum();
        let mut all = digits.to_vec();
        all.push((10 - sum % 10) % 10);
        all
    }

    proptest! {
        #[test]
        fn masking_never_panics_and_leaves_no_card(text in "\\PC{0,200}") {
            let d = detect_personal_data(&text);
            let masked = mask_detections(&text, &d);
            prop_assert!(detect_personal_data(&masked).iter().all(|x| x.kind != PersonalDataKind::Card));
        }

        /// A card number among words is masked to its last four digits,
        /// separators kept, the words around it untouched.
        #[test]
        fn a_planted_card_keeps_only_its_last_four_digits(
            prefix in "[a-z ]{0,20}",
            suffix in "[a-z ]{0,20}",
            payload in prop::collection::vec(0u32..10, 15),
            sep in prop::sample::select(vec!["", " ", "-"]),
        ) {
            let digits = with_luhn_digit(&payload);
            let group = |ds: &[u32], hide: bool| -> String {
                ds.iter()
                    .map(|&d| if hide { '•' } else { char::from_digit(d, 10).unwrap_or('?') })
                    .collect()
            };
            let card: Vec<String> = digits.chunks(4).map(|g| group(g, false)).collect();
            let mut hidden: Vec<String> = digits[..12].chunks(4).map(|g| group(g, true)).collect();
            hidden.push(group(&digits[12..], false));
            let text = format!("{prefix} {} {suffix}", card.join(sep));
            let expected = format!("{prefix} {} {suffix}", hidden.join(sep));
            prop_assert_eq!(mask_detections(&text, &detect_personal_data(&text)), expected);
        }

        #[test]
        fn planted_phone_is_found(prefix in "[a-z ]{0,20}", n in 100_000_000u64..999_999_999) {
            let text = format!("{prefix} 0{n} ");
            prop_assert!(kinds(&text).contains(&PersonalDataKind::Phone));
        }

        /// A phone number keeps its first two and last two digits only.
        #[test]
        fn a_planted_phone_keeps_only_its_ends(prefix in "[a-z ]{0,20}", n in 100_000_000u64..999_999_999) {
            let text = format!("{prefix} 0{n} ");
            let digits = format!("0{n}");
            let expected = format!("{prefix} {}••••••{} ", &digits[..2], &digits[8..]);
            prop_assert_eq!(mask_detections(&text, &detect_personal_data(&text)), expected);
        }
    }
}
