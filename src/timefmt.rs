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

/// Seconds since the Unix epoch as a time, held to the range a time can have (years -9999 to
/// 9999, less a day at either end so that a margin of hours can still be added or taken away
/// without overflowing): a claim of `2^63-1` is the far future, not 1970.
pub fn from_unix_saturating(secs: i64) -> OffsetDateTime {
    let min = time::PrimitiveDateTime::MIN.assume_utc() + Duration::DAY;
    let max = time::PrimitiveDateTime::MAX.assume_utc() - Duration::DAY;
    from_unix(secs)
        .unwrap_or(if secs < 0 { min } else { max })
        .clamp(min, max)
}

/// Reads a JSON number of seconds (a token's `exp`, `iat`, `nbf`) as whole seconds, whatever
/// its form: an integer beyond `i64` saturates, a fraction is rounded down. Anything but a
/// number is an error.
pub mod lenient_seconds {
    use serde::{Deserialize, Deserializer};

    pub fn to_i64(n: &serde_json::Number) -> i64 {
        if let Some(i) = n.as_i64() {
            i
        } else if n.as_u64().is_some() {
            i64::MAX
        } else {
            // Saturating, as `as` does from a float.
            n.as_f64().map_or(0, |f| f.floor() as i64)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        Ok(to_i64(&n))
    }

    pub mod option {
        use serde::{Deserialize, Deserializer};

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
            Ok(Option::<serde_json::Number>::deserialize(d)?.map(|n| super::to_i64(&n)))
        }
    }
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

/// Why something a server has just issued, expiring at `expires`, cannot be used at `now`: it
/// has expired, or expires within `skew` (the margin kept for clocks that disagree). `None` when
/// it can be used.
pub fn unusable_expiry(
    expires: OffsetDateTime,
    now: OffsetDateTime,
    skew: Duration,
) -> Option<String> {
    if expires <= now {
        Some(format!(
            "it expired {} (at {})",
            relative(expires, now),
            rfc3339_z(expires)
        ))
    } else if expires <= now + skew {
        Some(format!(
            "it expires {} (at {}), within the {} kept for clock skew",
            relative(expires, now),
            rfc3339_z(expires),
            human(skew)
        ))
    } else {
        None
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
    fn unix_seconds_saturate() {
        assert_eq!(
            rfc3339_z(from_unix_saturating(i64::MAX)),
            "9999-12-30T23:59:59Z"
        );
        let _ = from_unix_saturating(i64::MAX) + Duration::hours(1);
        let _ = from_unix_saturating(i64::MIN) - Duration::hours(1);
        assert_eq!(from_unix_saturating(i64::MIN).year(), -9999);
        assert_eq!(from_unix_saturating(0), OffsetDateTime::UNIX_EPOCH);
        #[derive(serde::Deserialize)]
        struct S {
            #[serde(with = "lenient_seconds")]
            t: i64,
        }
        for (json, want) in [
            ("9223372036854775807", i64::MAX),
            ("18446744073709551615", i64::MAX),
            ("1e300", i64::MAX),
            ("-1e300", i64::MIN),
            ("-5", -5),
            ("1795000000.9", 1_795_000_000),
            ("-0.5", -1),
        ] {
            let s: S = serde_json::from_str(&format!("{{\"t\":{json}}}")).unwrap();
            assert_eq!(s.t, want, "{json}");
        }
        assert!(serde_json::from_str::<S>(r#"{"t":"soon"}"#).is_err());
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::seconds(59)), "59s");
        assert_eq!(human(Duration::seconds(250)), "4m 10s");
        assert_eq!(human(Duration::seconds(7500)), "2h 5m");
        assert_eq!(human(Duration::seconds(-90000)), "1d 1h");
    }
}
