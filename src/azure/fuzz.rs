//! The fuzz target of Azure's parser of outside bytes (see [`crate::fuzzing`] for the
//! harnesses): Entra ID token endpoint bodies. Not part of the library's API.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::http;

/// A fixed "now", so that a failure reproduces.
const NOW: OffsetDateTime = datetime!(2026-11-26 12:00:00 UTC);

/// Entra ID token endpoint bodies.
pub fn entra_json(data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    if let Ok(t) = super::entra::parse_success(&body, NOW) {
        assert!(!t.access_token.expose_secret().is_empty());
        let json: serde_json::Value = serde_json::from_str(&t.to_json(NOW)).expect("JSON");
        assert!(json["expires_in"].as_i64().is_some_and(|n| n >= 0));
    }
    if let Some(e) = super::entra::parse_error(&body) {
        let _ = http::server_text(&e.message, &[]);
    }
}
