//! When a promotional SMS may leave: Monday to Saturday, 08:00–20:00
//! Europe/Paris, not on a French public holiday. Outside that, it waits
//! for the next allowed instant; it is never dropped.
//!
//! Hand-rolled rather than a time-zone crate: the only zone is
//! Europe/Paris, whose rule since 1996 is the EU's (CEST, UTC+2, from the
//! last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC;
//! CET, UTC+1, otherwise), and the holidays need Easter, which no tz crate
//! gives. Civil dates from day numbers (Howard Hinnant's algorithms) and
//! the Gregorian computus are a few dozen lines, tested below across both
//! switches; `chrono-tz` or `jiff` would add a tz database (hundreds of
//! kilobytes, updated for zones regie never uses) to check two dates a year.
//! Should the EU abolish clock changes, [`utc_offset_ms`] is the one place
//! to change.
//!
//! Everything is a pure function of the instant, in milliseconds since the
//! Unix epoch, so tests pass the clock in.

use crate::calendar::{civil_from_days, days_from_civil};

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// The first allowed local time of day (08:00).
const OPENS_MS: i64 = 8 * MS_PER_HOUR;
/// The first local time of day no longer allowed (20:00).
const CLOSES_MS: i64 = 20 * MS_PER_HOUR;

/// Days ahead searched for an allowed day. The longest closed run is a
/// Sunday between two holidays; a fortnight is far more than enough.
const MAX_DAYS_AHEAD: i64 = 14;

/// `at_ms` if a promotional message may leave then, else the next instant
/// it may: 08:00 Paris later the same day, or 08:00 of the next allowed day.
pub fn next_send_time(at_ms: i64) -> i64 {
    let offset = utc_offset_ms(at_ms);
    let local = at_ms.saturating_add(offset);
    let day = local.div_euclid(MS_PER_DAY);
    let time_of_day = local.rem_euclid(MS_PER_DAY);
    if allowed_day(day) {
        if (OPENS_MS..CLOSES_MS).contains(&time_of_day) {
            return at_ms;
        }
        if time_of_day < OPENS_MS {
            return local_to_utc(day, OPENS_MS).max(at_ms);
        }
    }
    (1..=MAX_DAYS_AHEAD)
        .map(|ahead| day.saturating_add(ahead))
        .find(|&d| allowed_day(d))
        .map_or(at_ms, |d| local_to_utc(d, OPENS_MS))
        .max(at_ms)
}

/// Whether a promotional message may leave at `at_ms`.
pub fn is_allowed(at_ms: i64) -> bool {
    let local = at_ms.saturating_add(utc_offset_ms(at_ms));
    allowed_day(local.div_euclid(MS_PER_DAY))
        && (OPENS_MS..CLOSES_MS).contains(&local.rem_euclid(MS_PER_DAY))
}

/// Paris's offset from UTC at the instant `at_ms`: CEST (+2 h) from the
/// last Sunday of March 01:00 UTC until the last Sunday of October 01:00
/// UTC, CET (+1 h) otherwise.
pub fn utc_offset_ms(at_ms: i64) -> i64 {
    let (year, _, _) = civil_from_days(at_ms.div_euclid(MS_PER_DAY));
    let switch = |month| {
        last_sunday(year, month)
            .saturating_mul(MS_PER_DAY)
            .saturating_add(MS_PER_HOUR)
    };
    let (starts, ends) = (switch(3), switch(10));
    if (starts..ends).contains(&at_ms) {
        2 * MS_PER_HOUR
    } else {
        MS_PER_HOUR
    }
}

/// The UTC instant of Paris local `time_of_day` on local `day`. Only used
/// for 08:00, never inside the switch hour (02:00–03:00 local), so the
/// offset of the instant one offset early is the offset of the result.
fn local_to_utc(day: i64, time_of_day: i64) -> i64 {
    let local = day.saturating_mul(MS_PER_DAY).saturating_add(time_of_day);
    let guess = local.saturating_sub(MS_PER_HOUR);
    local.saturating_sub(utc_offset_ms(guess))
}

/// Monday to Saturday and not a French public holiday (`day`: days since
/// 1970-01-01, in Paris local time).
fn allowed_day(day: i64) -> bool {
    weekday(day) != Weekday::Sunday && !is_public_holiday(day)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weekday {
    Monday,
    Sunday,
    Other,
}

fn weekday(day: i64) -> Weekday {
    // 1970-01-01 was a Thursday: day 4 counting from Sunday = 0.
    match (day + 4).rem_euclid(7) {
        0 => Weekday::Sunday,
        1 => Weekday::Monday,
        _ => Weekday::Other,
    }
}

/// The eleven French public holidays (metropolitan; Alsace-Moselle's two
/// extra days are not included).
pub fn is_public_holiday_on(year: i64, month: u32, dom: u32) -> bool {
    is_public_holiday(days_from_civil(year, month, dom))
}

/// (month, day) of the holidays on a fixed date: New Year, Labour Day,
/// Victory in Europe, Bastille Day, Assumption, All Saints, Armistice,
/// Christmas.
const FIXED_HOLIDAYS: [(u32, u32); 8] = [
    (1, 1),
    (5, 1),
    (5, 8),
    (7, 14),
    (8, 15),
    (11, 1),
    (11, 11),
    (12, 25),
];

fn is_public_holiday(day: i64) -> bool {
    let (year, month, dom) = civil_from_days(day);
    let fixed = FIXED_HOLIDAYS.contains(&(month, dom));
    if fixed {
        return true;
    }
    let easter = easter_sunday(year);
    // Easter Monday, Ascension Thursday, Whit Monday.
    [1, 39, 50].iter().any(|after| easter + after == day)
}

/// Easter Sunday of `year` (Gregorian), as days since 1970-01-01: the
/// anonymous Gregorian algorithm (Meeus/Jones/Butcher).
#[expect(
    clippy::many_single_char_names,
    reason = "the algorithm's own names, as published"
)]
fn easter_sunday(year: i64) -> i64 {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let dom = (h + l - 7 * m + 114) % 31 + 1;
    days_from_civil(
        year,
        u32::try_from(month).unwrap_or(3),
        u32::try_from(dom).unwrap_or(1),
    )
}

/// The last Sunday of `month` in `year`, as days since 1970-01-01.
fn last_sunday(year: i64, month: u32) -> i64 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let last = days_from_civil(next_year, next_month, 1) - 1;
    // Days since Sunday: 1970-01-01 (day 0) was a Thursday (4).
    last - (last + 4).rem_euclid(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UTC instant of a Paris wall-clock time, written out by hand
    /// with the offset in force (so the tests do not lean on the code's
    /// own conversion): `utc(2026, 3, 30, 6, 0)` is 06:00 UTC.
    fn utc(year: i64, month: u32, dom: u32, hour: i64, minute: i64) -> i64 {
        days_from_civil(year, month, dom) * MS_PER_DAY + hour * MS_PER_HOUR + minute * 60_000
    }

    #[test]
    fn civil_dates_round_trip_and_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for day in [-800_000, -1, 0, 1, 11_016, 20_000, 20_513, 1_000_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        // 2026-05-14 is a Thursday, 2026-07-14 a Tuesday, 2026-03-29 a Sunday.
        assert_eq!(weekday(days_from_civil(2026, 3, 29)), Weekday::Sunday);
        assert_eq!(weekday(days_from_civil(2026, 4, 6)), Weekday::Monday);
    }

    #[test]
    fn easter_dates_match_the_calendar() {
        for (year, month, dom) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(
                easter_sunday(year),
                days_from_civil(year, month, dom),
                "{year}"
            );
        }
    }

    #[test]
    fn the_french_holidays_of_2026() {
        let holidays = [
            (1, 1),
            (4, 6), // Easter Monday
            (5, 1),
            (5, 8),
            (5, 14), // Ascension
            (5, 25), // Whit Monday
            (7, 14),
            (8, 15),
            (11, 1),
            (11, 11),
            (12, 25),
        ];
        let mut found = Vec::new();
        for day in days_from_civil(2026, 1, 1)..days_from_civil(2027, 1, 1) {
            if is_public_holiday(day) {
                let (_, m, d) = civil_from_days(day);
                found.push((m, d));
            }
        }
        assert_eq!(found, holidays);
        assert!(is_public_holiday_on(2026, 5, 14));
        assert!(!is_public_holiday_on(2026, 4, 5)); // Easter Sunday is a Sunday anyway
    }

    #[test]
    fn offsets_switch_at_one_utc_on_the_last_sundays() {
        // 2026: CEST from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(utc_offset_ms(utc(2026, 3, 29, 0, 59)), MS_PER_HOUR);
        assert_eq!(utc_offset_ms(utc(2026, 3, 29, 1, 0)), 2 * MS_PER_HOUR);
        assert_eq!(utc_offset_ms(utc(2026, 10, 25, 0, 59)), 2 * MS_PER_HOUR);
        assert_eq!(utc_offset_ms(utc(2026, 10, 25, 1, 0)), MS_PER_HOUR);
        assert_eq!(utc_offset_ms(utc(2026, 1, 15, 12, 0)), MS_PER_HOUR);
        assert_eq!(utc_offset_ms(utc(2026, 7, 15, 12, 0)), 2 * MS_PER_HOUR);
    }

    #[test]
    fn inside_hours_is_now() {
        // Wednesday 2026-01-14 12:00 Paris (CET) = 11:00 UTC.
        let at = utc(2026, 1, 14, 11, 0);
        assert_eq!(next_send_time(at), at);
        // Saturday 2026-06-13 10:00 Paris (CEST) = 08:00 UTC.
        let at = utc(2026, 6, 13, 8, 0);
        assert_eq!(next_send_time(at), at);
    }

    #[test]
    fn boundaries_in_winter() {
        // Wednesday 2026-01-14, CET.
        let at_0759 = utc(2026, 1, 14, 6, 59);
        let at_0800 = utc(2026, 1, 14, 7, 0);
        let at_1959 = utc(2026, 1, 14, 18, 59);
        let at_2000 = utc(2026, 1, 14, 19, 0);
        assert_eq!(next_send_time(at_0759), at_0800);
        assert_eq!(next_send_time(at_0800), at_0800);
        assert_eq!(next_send_time(at_1959), at_1959);
        assert_eq!(next_send_time(at_1959 + 59_999), at_1959 + 59_999);
        // 20:00 itself is closed: Thursday 08:00.
        assert_eq!(next_send_time(at_2000), utc(2026, 1, 15, 7, 0));
        assert_eq!(next_send_time(at_2000 - 1), at_2000 - 1);
        // Midnight and 23:59 go to 08:00.
        assert_eq!(
            next_send_time(utc(2026, 1, 14, 23, 0)),
            utc(2026, 1, 15, 7, 0)
        );
        assert_eq!(next_send_time(utc(2026, 1, 13, 23, 0)), at_0800);
    }

    #[test]
    fn boundaries_in_summer() {
        // Wednesday 2026-06-17, CEST: 08:00 Paris = 06:00 UTC.
        assert_eq!(
            next_send_time(utc(2026, 6, 17, 5, 59)),
            utc(2026, 6, 17, 6, 0)
        );
        assert_eq!(
            next_send_time(utc(2026, 6, 17, 17, 59)),
            utc(2026, 6, 17, 17, 59)
        );
        assert_eq!(
            next_send_time(utc(2026, 6, 17, 18, 0)),
            utc(2026, 6, 18, 6, 0)
        );
    }

    #[test]
    fn saturday_evening_and_sunday_wait_for_monday() {
        // Saturday 2026-01-17 20:00 Paris → Monday 19 08:00.
        assert_eq!(
            next_send_time(utc(2026, 1, 17, 19, 0)),
            utc(2026, 1, 19, 7, 0)
        );
        // Sunday noon → Monday 08:00.
        assert_eq!(
            next_send_time(utc(2026, 1, 18, 11, 0)),
            utc(2026, 1, 19, 7, 0)
        );
        // Saturday is open.
        assert_eq!(
            next_send_time(utc(2026, 1, 17, 9, 0)),
            utc(2026, 1, 17, 9, 0)
        );
    }

    #[test]
    fn spring_forward_sunday_2026_03_29() {
        // Saturday 28 March 20:30 CET → Sunday closed → Monday 30 08:00 CEST = 06:00 UTC.
        assert_eq!(
            next_send_time(utc(2026, 3, 28, 19, 30)),
            utc(2026, 3, 30, 6, 0)
        );
        // In the hour that does not exist locally (02:xx Paris), still Monday.
        assert_eq!(
            next_send_time(utc(2026, 3, 29, 1, 30)),
            utc(2026, 3, 30, 6, 0)
        );
        // Monday 00:30 CEST (Sunday 22:30 UTC) → 08:00 CEST the same Monday.
        assert_eq!(
            next_send_time(utc(2026, 3, 29, 22, 30)),
            utc(2026, 3, 30, 6, 0)
        );
        // Saturday 28 March 07:30 CET = 06:30 UTC → 08:00 CET = 07:00 UTC.
        assert_eq!(
            next_send_time(utc(2026, 3, 28, 6, 30)),
            utc(2026, 3, 28, 7, 0)
        );
    }

    #[test]
    fn fall_back_sunday_2026_10_25() {
        // Saturday 24 October 19:59 CEST = 17:59 UTC: open.
        assert_eq!(
            next_send_time(utc(2026, 10, 24, 17, 59)),
            utc(2026, 10, 24, 17, 59)
        );
        // Saturday 20:00 CEST = 18:00 UTC → Monday 26 08:00 CET = 07:00 UTC.
        assert_eq!(
            next_send_time(utc(2026, 10, 24, 18, 0)),
            utc(2026, 10, 26, 7, 0)
        );
        // During the repeated hour (02:xx Paris twice), Monday 08:00 CET.
        assert_eq!(
            next_send_time(utc(2026, 10, 25, 0, 30)),
            utc(2026, 10, 26, 7, 0)
        );
        assert_eq!(
            next_send_time(utc(2026, 10, 25, 1, 30)),
            utc(2026, 10, 26, 7, 0)
        );
    }

    #[test]
    fn holidays_wait_for_the_next_working_day() {
        // Ascension, Thursday 2026-05-14: Wednesday 20:00 → Friday 15 08:00 CEST.
        assert_eq!(
            next_send_time(utc(2026, 5, 13, 18, 0)),
            utc(2026, 5, 15, 6, 0)
        );
        assert_eq!(
            next_send_time(utc(2026, 5, 14, 10, 0)),
            utc(2026, 5, 15, 6, 0)
        );
        // 14 July 2026 is a Tuesday: closed all day, Wednesday 08:00.
        assert_eq!(
            next_send_time(utc(2026, 7, 14, 6, 0)),
            utc(2026, 7, 15, 6, 0)
        );
        assert_eq!(
            next_send_time(utc(2026, 7, 13, 17, 59)),
            utc(2026, 7, 13, 17, 59)
        );
        // Easter 2026: Saturday 4 April 20:00 → Sunday → Easter Monday → Tuesday 7.
        assert_eq!(
            next_send_time(utc(2026, 4, 4, 18, 0)),
            utc(2026, 4, 7, 6, 0)
        );
        // Christmas Friday 2026 → Saturday 26 08:00 CET.
        assert_eq!(
            next_send_time(utc(2026, 12, 25, 9, 0)),
            utc(2026, 12, 26, 7, 0)
        );
        // New Year: Thursday 1 January 2026 → Friday 2.
        assert_eq!(
            next_send_time(utc(2025, 12, 31, 20, 0)),
            utc(2026, 1, 2, 7, 0)
        );
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        for at in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
            assert!(next_send_time(at) >= at);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_result_is_later_allowed_and_a_fixed_point(
            // 1970 to 2200, to the millisecond.
            at in 0i64..7_258_118_400_000,
        ) {
            let next = next_send_time(at);
            proptest::prop_assert!(next >= at);
            proptest::prop_assert!(is_allowed(next), "{at} → {next}");
            proptest::prop_assert_eq!(next_send_time(next), next);
            // Nothing allowed was skipped: the instant before is closed,
            // unless the input itself was open.
            if next > at {
                proptest::prop_assert!(!is_allowed(next - 1));
                proptest::prop_assert!(!is_allowed(at));
            }
        }
    }
}
