//! UTC timestamps as ISO 8601 text with milliseconds ("2026-11-23T00:11:32.123Z").
//!
//! Owns: the one textual time form receipts carry, in the proleptic Gregorian calendar, UTC,
//! always exactly 24 characters `YYYY-MM-DDTHH:MM:SS.mmmZ`. The domain is
//! 1970-01-01T00:00:00.000Z ..= 9999-12-31T23:59:59.999Z (milliseconds 0 ..= `MAX_MS`).
//! Must never: read a clock, know about time zones or leap seconds, or accept any other shape.
//!
//! Why hand-written: this exact shape is part of the receipts' hashed bytes, and the calendar
//! crates (chrono, time) bring their formatting machinery (`core::fmt`) into the `.wasm` for the
//! two small functions below, which are tested against every day of several centuries.
/// 9999-12-31T23:59:59.999Z, the last instant the four-digit year can write.
pub const MAX_MS: i64 = 253_402_300_799_999;

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date (year >= 0). Counts in 400-year eras of 146 097 days,
/// with years starting on 1 March so the leap day is the last day of the year.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // 0..=399
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // 0..=365
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // 0..=146096
    era * 146_097 + doe - 719_468 // 719 468 = days from 0000-03-01 to 1970-01-01
}

/// The civil date (year, month, day) of a day count since 1970-01-01; the inverse of the above.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats milliseconds since the Unix epoch. Values outside the domain are clamped to it (a
/// clock before 1970 is wrong anyway), so the output always parses.
pub fn format_utc_iso(ms: i64) -> String {
    let ms = ms.clamp(0, MAX_MS);
    let (y, mo, d) = civil_from_days(ms / DAY_MS);
    let in_day = ms % DAY_MS;
    let mut s = String::with_capacity(24);
    for (v, width, sep) in [
        (y, 4, '-'),
        (mo, 2, '-'),
        (d, 2, 'T'),
        (in_day / 3_600_000, 2, ':'),
        (in_day / 60_000 % 60, 2, ':'),
        (in_day / 1000 % 60, 2, '.'),
        (in_day % 1000, 3, 'Z'),
    ] {
        let mut div = 10u64.pow(width - 1);
        while div > 0 {
            s.push((b'0' + (v as u64 / div % 10) as u8) as char);
            div /= 10;
        }
        s.push(sep);
    }
    s
}

/// `format_utc_iso` for a whole number of milliseconds held in a double (tests of `Now`).
#[cfg(test)]
pub fn format_utc_iso_f64(ms: f64) -> String {
    format_utc_iso(ms as i64)
}

/// Parses what `format_utc_iso` writes (exactly that shape, every field in range, year 1970 or
/// later); None otherwise.
pub fn parse_utc_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 24 {
        return None;
    }
    // (start, width, separator after it) of each number.
    let mut n = [0i64; 7];
    for (field, (at, width, sep)) in
        n.iter_mut().zip([(0, 4, b'-'), (5, 2, b'-'), (8, 2, b'T'), (11, 2, b':'), (14, 2, b':'), (17, 2, b'.'), (20, 3, b'Z')])
    {
        for &c in b.get(at..at + width)? {
            if !c.is_ascii_digit() {
                return None;
            }
            *field = *field * 10 + (c - b'0') as i64;
        }
        if b.get(at + width) != Some(&sep) {
            return None;
        }
    }
    let [y, mo, d, h, mi, sec, ms] = n;
    if y < 1970 || !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * DAY_MS + ((h * 60 + mi) * 60 + sec) * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // Each checked with `date -u -d @SECONDS +%FT%T`.
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1, "1970-01-01T00:00:00.001Z"),
            (86_399_999, "1970-01-01T23:59:59.999Z"),
            (68_169_600_000, "1972-02-29T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
            (1_795_393_892_123, "2026-11-23T00:31:32.123Z"),
            (4_107_456_000_000, "2100-02-28T00:00:00.000Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (MAX_MS, "9999-12-31T23:59:59.999Z"),
        ] {
            assert_eq!(format_utc_iso(ms), text);
            assert_eq!(parse_utc_iso(text), Some(ms), "{text}");
        }
    }

    #[test]
    fn every_day_agrees_with_a_naive_calendar() {
        // Walk day by day from 1970 to 2500 with the plain leap-year rule.
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for day in 0..194_000i64 {
            assert_eq!(days_from_civil(y, m, d), day);
            assert_eq!(civil_from_days(day), (y, m, d));
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        assert!(y >= 2500);
    }

    #[test]
    fn round_trips_across_the_domain() {
        let mut ms = 0i64;
        while ms <= MAX_MS {
            let t = format_utc_iso(ms);
            assert_eq!(t.len(), 24);
            assert_eq!(parse_utc_iso(&t), Some(ms), "{t}");
            ms += 2_534_023_007; // an odd stride (about 29 days and a bit) that lands on varied fields
        }
    }

    #[test]
    fn clamps_out_of_domain_values() {
        assert_eq!(format_utc_iso(-1), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc_iso(i64::MIN), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc_iso(i64::MAX), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn rejects_other_shapes_and_out_of_range_fields() {
        for bad in [
            "",
            "1969-12-31T23:59:59.999Z", // before the epoch: negative
            "-001-01-01T00:00:00.000Z",
            "2026-11-23T00:11:32.123",
            "2026-11-23T00:11:32.123+00:00",
            "2026-11-23 00:11:32.123Z",
            "2026-11-23T00:11:32Z",
            "2026-11-23T00:11:32.1234Z",
            "2026-11-23t00:11:32.123Z",
            "2026-11-23T00:11:32.123z",
            "2026-00-23T00:11:32.123Z",
            "2026-13-23T00:11:32.123Z",
            "2026-11-00T00:11:32.123Z",
            "2026-11-31T00:11:32.123Z",
            "2026-02-29T00:00:00.000Z", // not a leap year
            "2100-02-29T00:00:00.000Z", // divisible by 100, not by 400
            "2026-11-23T24:00:00.000Z",
            "2026-11-23T23:60:00.000Z",
            "2026-11-23T23:59:60.000Z", // no leap seconds
            "2026-11-23T0a:11:32.123Z",
            "２026-11-23T00:11:32.123Z",
        ] {
            assert_eq!(parse_utc_iso(bad), None, "{bad}");
        }
        assert!(parse_utc_iso("2000-02-29T00:00:00.000Z").is_some());
    }
}
