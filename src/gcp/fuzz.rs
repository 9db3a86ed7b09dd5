//! The fuzz target of GCP's parsers of outside bytes (see [`crate::fuzzing`] for the
//! harnesses): Google STS and IAM Credentials bodies. Not part of the library's API.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::{timefmt, token};

/// A fixed "now", so that a failure reproduces.
const NOW: OffsetDateTime = datetime!(2026-11-26 12:00:00 UTC);

/// Google STS and IAM Credentials bodies.
pub fn gcp_json(data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    let parsed = [
        super::sts::parse_sts_success(&body, NOW),
        super::sts::parse_iam_success(&body),
    ];
    for t in parsed.into_iter().flatten() {
        assert!(!t.access_token.expose_secret().is_empty());
        let _ = timefmt::rfc3339_z(t.expires_at());
        let _ = timefmt::unusable_expiry(t.expires_at(), NOW, token::CLOCK_SKEW);
    }
    let _ = super::sts::parse_sts_error(&body);
    let _ = super::sts::parse_iam_error(&body);
}
