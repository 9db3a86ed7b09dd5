//! The token's claims summarised, as `token` and `doctor` show them: which claims, under which
//! labels, the issuer with its mode (`team` or `global`), `-` for a claim the token lacks, and
//! the expiry worded `expires` or `expired` with the time left or past.
//!
//! Values are kept as the token says them ([`Text`], serialised as they are); the rows for people
//! show them escaped ([`crate::outside`]), and each command writes the rows in its own layout.

use crate::outside::Text;
use crate::timefmt;
use crate::token::{Claims, IssuerMode};
use serde::Serialize;
use time::OffsetDateTime;

/// One row for people: its label and its value, escaped.
pub(super) type Row = (&'static str, String);

/// The claims a person is shown (in `doctor --json` under `token.claims`, as they are).
#[derive(Serialize)]
pub(super) struct ClaimsSummary {
    pub iss: Text,
    pub issuer_mode: IssuerMode,
    pub sub: Text,
    pub aud: Vec<Text>,
    pub owner: Option<Text>,
    pub owner_id: Option<Text>,
    pub project: Option<Text>,
    pub project_id: Option<Text>,
    pub environment: Option<Text>,
    pub issued_at: Option<String>,
    pub expires_at: String,
    pub expires_in_seconds: i64,
    #[serde(skip)]
    issued: Option<OffsetDateTime>,
    #[serde(skip)]
    expires: OffsetDateTime,
}

impl ClaimsSummary {
    pub fn new(claims: &Claims, now: OffsetDateTime) -> Self {
        let (issued, expires) = (claims.issued_at(), claims.expires_at());
        Self {
            iss: claims.iss.clone(),
            issuer_mode: claims.issuer_mode(),
            sub: claims.sub.clone(),
            aud: claims.aud.to_vec(),
            owner: claims.owner.clone(),
            owner_id: claims.owner_id.clone(),
            project: claims.project.clone(),
            project_id: claims.project_id.clone(),
            environment: claims.environment.clone(),
            issued_at: issued.map(timefmt::rfc3339_z),
            expires_at: timefmt::rfc3339_z(expires),
            expires_in_seconds: (expires - now).whole_seconds(),
            issued,
            expires,
        }
    }

    /// Whose token it is: issuer (with its mode), subject, audience, owner, project and
    /// environment, each name with its id in parentheses when the token has both.
    pub fn identity_rows(&self) -> Vec<Row> {
        let audiences: Vec<String> = self.aud.iter().map(Text::to_string).collect();
        vec![
            (
                "issuer",
                format!("{} ({} issuer)", self.iss, self.issuer_mode),
            ),
            ("subject", self.sub.to_string()),
            ("audience", audiences.join(", ")),
            ("owner", with_id(&self.owner, &self.owner_id)),
            ("project", with_id(&self.project, &self.project_id)),
            ("environment", with_id(&self.environment, &None)),
        ]
    }

    /// `issued` and when, if the token says.
    pub fn issued_row(&self, now: OffsetDateTime) -> Option<Row> {
        self.issued.map(|iat| ("issued", when(iat, now)))
    }

    /// `expires` and when, or `expired` and when for a token that can no longer be used.
    pub fn expiry_row(&self, expired: bool, now: OffsetDateTime) -> Row {
        let label = if expired { "expired" } else { "expires" };
        (label, when(self.expires, now))
    }
}

/// `name (id)`, or whichever of the two there is, or `-`.
fn with_id(name: &Option<Text>, id: &Option<Text>) -> String {
    match (name, id) {
        (Some(n), Some(i)) => format!("{n} ({i})"),
        (Some(n), None) => n.to_string(),
        (None, Some(i)) => i.to_string(),
        (None, None) => "-".into(),
    }
}

/// `2026-01-01T00:00:00Z (in 4m 10s)`.
fn when(t: OffsetDateTime, now: OffsetDateTime) -> String {
    format!("{} ({})", timefmt::rfc3339_z(t), timefmt::relative(t, now))
}
