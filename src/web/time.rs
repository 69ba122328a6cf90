//! RFC 3339 times (UTC, microseconds, as Tilt's `MicroTime` prints them) for the
//! JSON the API serves, without a date crate. Fixed width, so they sort as text.

use std::time::{SystemTime, UNIX_EPOCH};

/// `2026-11-29T06:31:16.000000Z`; times before 1970 print as the epoch.
pub fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (secs, micros) = (since.as_secs(), since.subsec_micros());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a (year, month, day) of the proleptic Gregorian calendar,
/// counting in 400-year eras of 146,097 days that start on March 1st.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn known_dates_print_as_rfc3339() {
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00.000000Z");
        assert_eq!(rfc3339(at(1_795_933_876)), "2026-11-29T06:31:16.000000Z");
        let later = at(1_795_933_876) + Duration::from_micros(1_250);
        assert_eq!(rfc3339(later), "2026-11-29T06:31:16.001250Z");
    }
}
