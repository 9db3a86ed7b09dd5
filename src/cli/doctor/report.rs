//! The parts of `doctor`'s report that each cloud's check fills in: its settings, the check's
//! result, and the trust the token needs.

use serde::Serialize;
use time::OffsetDateTime;

use super::origins::{Row, SettingList};
use crate::settings::Resolved;
use crate::timefmt;

#[derive(Serialize)]
pub struct CloudReport {
    /// Whether its settings are complete (it may be checked without, when named with a flag).
    pub configured: bool,
    pub settings: SettingList,
    pub check: Check,
    /// The trust configuration that accepts this token; `null` when the check passed, or when
    /// there is no token to describe.
    pub trust: Option<serde_json::Value>,
    /// The same as human-readable lines.
    #[serde(skip)]
    pub trust_text: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

#[derive(Serialize)]
pub struct Check {
    pub status: Status,
    /// One line: what happened.
    pub summary: String,
    /// When the credentials or access token got expire.
    pub expires_at: Option<String>,
    /// The AWS access key id, masked.
    pub access_key_id: Option<String>,
    pub error: Option<CloudError>,
}

#[derive(Serialize)]
pub struct CloudError {
    /// `STS`, `Google STS`, `IAM Credentials`, `Entra ID`, or `settings`.
    pub service: String,
    /// The HTTP status, when the service answered.
    pub status: Option<u16>,
    /// The service's error code (`AccessDenied`, `invalid_grant`, `PERMISSION_DENIED`,
    /// `AADSTS70021`…), when it sent one.
    pub code: Option<String>,
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

impl Check {
    pub fn skipped(summary: impl Into<String>) -> Self {
        Self {
            status: Status::Skipped,
            summary: summary.into(),
            expires_at: None,
            access_key_id: None,
            error: None,
        }
    }

    pub fn failed(summary: impl Into<String>, error: CloudError) -> Self {
        Self {
            status: Status::Failed,
            summary: summary.into(),
            expires_at: None,
            access_key_id: None,
            error: Some(error),
        }
    }

    pub fn passed(summary: String, expires_at: OffsetDateTime) -> Self {
        Self {
            status: Status::Passed,
            summary,
            expires_at: Some(timefmt::rfc3339_z(expires_at)),
            access_key_id: None,
            error: None,
        }
    }

    /// A settings error: what is wrong, and what to do as the hint.
    pub fn bad_settings(error: &dyn crate::problem::Explain) -> Self {
        let message = error.problem();
        Self::failed(
            format!("the settings are not valid: {message}"),
            CloudError {
                service: "settings".into(),
                status: None,
                code: None,
                message,
                hint: error.fix(),
            },
        )
    }
}

impl CloudReport {
    /// A cloud's report: whether `settings` are complete, its setting `rows`, its `check`, and
    /// the `trust` (as JSON and as lines) when there is one to show.
    pub fn new(
        settings: &Resolved,
        rows: Vec<Row>,
        check: Check,
        trust: (Option<serde_json::Value>, Vec<String>),
    ) -> Self {
        let (trust, trust_text) = trust;
        Self {
            configured: settings.configured(),
            settings: SettingList(rows),
            check,
            trust,
            trust_text,
        }
    }
}
