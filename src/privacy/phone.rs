//! Whether a run of digits is a telephone number, by the numbering plans
//! of libphonenumber.
//!
//! Two Rust ports were weighed (issue 9):
//!
//! - `phonenumber` (whisperfish): validation and parsing against the full
//!   libphonenumber metadata, built into the binary; builds on our Rust
//!   1.85 floor, light dependencies (`nom`, `quick-xml`, `postcard`).
//! - `rlibphonenumber`: also has the text matcher. It needs Rust 1.88
//!   (the crate promises 1.85), pulls a protobuf compiler in at build time
//!   and a second `thiserror`; its matcher reads plain digits only, so the
//!   obfuscations chat uses (spelled out, zero-width, full-width) would
//!   still need our own candidate pass.
//!
//! Both agreed on every FR and international case we tried, at about 2–3 µs
//! a validation; `phonenumber` was chosen. The candidate pass in
//! [`super::detect`] is cheap and runs on every message; this validation
//! runs only on digit runs long enough to be a number.

use phonenumber::country::Id;

/// Regions tried for a number written in national form (leading `0`):
/// France first, then its neighbours whose viewers write in French or
/// English.
const NATIONAL_REGIONS: [Id; 5] = [Id::FR, Id::BE, Id::CH, Id::LU, Id::GB];

/// Whether `digits` (ASCII digits only), written after a `+` when `plus`,
/// is a valid phone number. A number with neither `+`, `00` nor a national
/// `0` in front is not taken: order numbers and references are bare digits,
/// and a bare nine-digit run would read as a valid French line.
pub(crate) fn is_phone_number(digits: &str, plus: bool) -> bool {
    if !(8..=17).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let international = if plus {
        Some(digits)
    } else {
        digits.strip_prefix("00")
    };
    if let Some(rest) = international {
        return valid(None, &format!("+{rest}"))
            || rest.strip_prefix("33").is_some_and(french_shaped);
    }
    if !digits.starts_with('0') {
        return false;
    }
    NATIONAL_REGIONS.iter().any(|&r| valid(Some(r), digits)) || french_shaped(&digits[1..])
}

/// Whether `national` (the digits after `+33` or the national `0`) has the
/// shape of a French number: nine digits, the first not `0`. A number in
/// a range France has not assigned, or an overseas one (`06 90…`, which
/// libphonenumber files under Guadeloupe), still reads as a phone number
/// to anyone in the chat, and may be one: it is masked and held too. The
/// data-protection side wins over the numbering plan here.
fn french_shaped(national: &str) -> bool {
    national.len() == 9 && !national.starts_with('0')
}

fn valid(region: Option<Id>, number: &str) -> bool {
    phonenumber::parse(region, number).is_ok_and(|n| phonenumber::is_valid(&n))
}

/// A number a viewer typed (`06 12 34 56 78`, `+33 6…`, `0033 6…`) in
/// E.164 (`+33612345678`), read as French unless it says otherwise;
/// `None` when libphonenumber finds it no valid number. SMS alerts store
/// and look up numbers in this one form.
pub fn to_e164(typed: &str) -> Option<String> {
    let typed = typed.trim();
    let typed = typed
        .strip_prefix("00")
        .map_or_else(|| typed.to_owned(), |rest| format!("+{rest}"));
    let number = phonenumber::parse(Some(Id::FR), &typed).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalised_to_e164() {
        assert_eq!(to_e164(" 06 12 34 56 78 ").as_deref(), Some("+33612345678"));
        assert_eq!(
            to_e164("+33 6 12 34 56 78").as_deref(),
            Some("+33612345678")
        );
        assert_eq!(to_e164("0033612345678").as_deref(), Some("+33612345678"));
        assert_eq!(to_e164("+32 470 12 34 56").as_deref(), Some("+32470123456"));
        assert_eq!(to_e164("12"), None);
        assert_eq!(to_e164("call me"), None);
    }

    #[test]
    fn french_numbers_in_every_prefix() {
        assert!(is_phone_number("0612345678", false));
        assert!(is_phone_number("33612345678", true));
        assert!(is_phone_number("0033612345678", false));
        assert!(is_phone_number("0142685300", false));
    }

    #[test]
    fn international_numbers() {
        assert!(is_phone_number("14155552671", true));
        assert!(is_phone_number("4915123456789", true));
        assert!(is_phone_number("32470123456", true));
        assert!(
            is_phone_number("07911123456", false),
            "a UK mobile, national form"
        );
    }

    #[test]
    fn bare_digits_and_impossible_numbers_are_not_phones() {
        assert!(!is_phone_number("123456789", false), "an order number");
        assert!(!is_phone_number("0000000000", false));
        assert!(!is_phone_number("0612345", false));
        assert!(!is_phone_number("33123", true));
    }

    /// Found in the demo: a crowd viewer's "+33 6 90 44 01 10" showed in
    /// clear, because France has not assigned 06 90 (libphonenumber files
    /// it under Guadeloupe). Written like a French number, it is one here.
    #[test]
    fn french_shaped_numbers_outside_the_assigned_ranges_are_phones() {
        assert!(is_phone_number("33690440110", true));
        assert!(is_phone_number("0033690440110", false));
        assert!(
            is_phone_number("0690440110", false),
            "a Guadeloupe mobile, as dialled from France"
        );
        assert!(is_phone_number("0639123456", false));
        assert!(
            !is_phone_number("1690440110", false),
            "no 0, + nor 00 in front: bare digits"
        );
    }
}
