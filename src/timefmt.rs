//! Time in the forms the clouds and their clients accept.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// `2026-01-01T00:00:00Z`: RFC 3339, UTC, whole seconds. The form every credential_process reader
/// accepts (Go and Rust reject offsets other than `Z`; Python rejects fractions in some places).
pub fn rfc3339_z(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses an RFC 3339 timestamp, with or without fractional seconds, in any offset.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// Seconds since the Unix epoch as a time, if in range.
pub fn from_unix(secs: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// A short human duration: `59s`, `4m 10s`, `2h 5m`, `3d 4h`.
pub fn human(d: Duration) -> String {
    let secs = d.whole_seconds().unsigned_abs();
    let (days, hours, mins, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {mins}m")
    } else if mins > 0 {
        format!("{mins}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// `in 4m 10s` or `4m 10s ago`, relative to `now`.
pub fn relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let d = t - now;
    if d.is_negative() {
        format!("{} ago", human(d))
    } else {
        format!("in {}", human(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_with_z_and_whole_seconds() {
        assert_eq!(
            rfc3339_z(datetime!(2026-01-02 03:04:05.678 +02:00)),
            "2026-01-02T01:04:05Z"
        );
    }

    #[test]
    fn parses_fractions_and_offsets() {
        for (input, expected) in [
            ("2026-01-02T03:04:05Z", datetime!(2026-01-02 03:04:05 UTC)),
            (
                "2026-01-02T03:04:05.123Z",
                datetime!(2026-01-02 03:04:05.123 UTC),
            ),
            (
                "2026-01-02T05:04:05+02:00",
                datetime!(2026-01-02 03:04:05 UTC),
            ),
        ] {
            assert_eq!(parse_rfc3339(input), Some(expected), "{input}");
        }
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::seconds(59)), "59s");
        assert_eq!(human(Duration::seconds(250)), "4m 10s");
        assert_eq!(human(Duration::seconds(7500)), "2h 5m");
        assert_eq!(human(Duration::seconds(-90000)), "1d 1h");
    }
}
