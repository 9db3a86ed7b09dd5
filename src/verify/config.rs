//! The verifier's settings: [`VerifyOptions`] as given, checked into a [`VerifyConfig`] before
//! any request, or refused with a [`ConfigError`] that tells a missing setting from a wrong one.

use time::Duration;

use super::{DEFAULT_LEEWAY_SECONDS, MAX_LEEWAY_SECONDS};
use crate::token::Claims;

/// Settings as given, before checking.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway_seconds: Option<u64>,
    pub subjects: Vec<String>,
    pub owner_ids: Vec<String>,
    pub owners: Vec<String>,
    pub project_ids: Vec<String>,
    pub projects: Vec<String>,
    pub environments: Vec<String>,
}

/// Checked settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyConfig {
    /// The trusted issuer, without a trailing slash.
    pub issuer: String,
    pub audience: String,
    pub leeway: Duration,
    pub constraints: Vec<Constraint>,
}

/// Settings that cannot be used: missing (not configured) or wrong (configured wrongly).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no issuer to trust\n  pass --issuer or set VERCEL_OIDC_VERIFY_ISSUER to your team's issuer, e.g. `https://oidc.vercel.com/acme` (or the global `https://oidc.vercel.com`)"
    )]
    MissingIssuer,
    #[error(
        "cannot use the issuer {0}\n  pass the issuer exactly as the token's `iss` claim names it (`vercel-oidc token` shows it), e.g. `https://oidc.vercel.com/acme`"
    )]
    BadIssuer(String),
    #[error(
        "no audience to require\n  pass --audience or set VERCEL_OIDC_VERIFY_AUDIENCE to the audience your tokens carry; Vercel's default is `https://vercel.com/<team>`"
    )]
    MissingAudience,
    #[error(
        "leeway {0}s is too large\n  --leeway (VERCEL_OIDC_VERIFY_LEEWAY) takes 0 to 300 seconds; more would accept tokens long expired"
    )]
    BadLeeway(u64),
    #[error("{flag} was given an empty value\n  pass a value, or leave {flag} out to allow any")]
    EmptyConstraint { flag: &'static str },
}

impl VerifyConfig {
    /// Checks `opts`. Does no I/O.
    pub fn from_options(opts: &VerifyOptions) -> Result<Self, ConfigError> {
        let issuer = trusted_issuer(opts.issuer.as_deref())?;
        let audience = non_empty(opts.audience.as_deref())
            .ok_or(ConfigError::MissingAudience)?
            .to_string();
        let leeway = opts.leeway_seconds.unwrap_or(DEFAULT_LEEWAY_SECONDS);
        if leeway > MAX_LEEWAY_SECONDS {
            return Err(ConfigError::BadLeeway(leeway));
        }
        Ok(Self {
            issuer,
            audience,
            leeway: Duration::seconds(leeway as i64),
            constraints: constraints(opts)?,
        })
    }

    /// Where the issuer publishes its OpenID configuration.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }
}

/// The issuer as given, normalized: an https URL (or http to this machine) with no empty path
/// segment, query, fragment or `/.well-known/` document path.
fn trusted_issuer(given: Option<&str>) -> Result<String, ConfigError> {
    let issuer = non_empty(given).ok_or(ConfigError::MissingIssuer)?;
    let issuer = normalize_issuer(issuer).to_string();
    let parsed = crate::http::check_endpoint(&issuer).map_err(ConfigError::BadIssuer)?;
    if issuer.ends_with('/') || parsed.path().contains("//") {
        return Err(ConfigError::BadIssuer(format!(
            "`{issuer}`: an issuer has no empty path segment (`//`)"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ConfigError::BadIssuer(format!(
            "`{issuer}`: an issuer has no query or fragment"
        )));
    }
    if issuer.contains("/.well-known/") {
        return Err(ConfigError::BadIssuer(format!(
            "`{issuer}`: that is a document's address, not the issuer; drop `/.well-known/…`"
        )));
    }
    Ok(issuer)
}

/// The constraints given, in the order of [`ConstrainedClaim`], each value trimmed; an empty
/// value is refused.
fn constraints(opts: &VerifyOptions) -> Result<Vec<Constraint>, ConfigError> {
    let mut constraints = Vec::new();
    for (claim, given) in [
        (ConstrainedClaim::Subject, &opts.subjects),
        (ConstrainedClaim::OwnerId, &opts.owner_ids),
        (ConstrainedClaim::Owner, &opts.owners),
        (ConstrainedClaim::ProjectId, &opts.project_ids),
        (ConstrainedClaim::Project, &opts.projects),
        (ConstrainedClaim::Environment, &opts.environments),
    ] {
        if given.is_empty() {
            continue;
        }
        let allowed: Vec<String> = given.iter().map(|v| v.trim().to_string()).collect();
        if allowed.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyConstraint { flag: claim.flag() });
        }
        constraints.push(Constraint { claim, allowed });
    }
    Ok(constraints)
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// A configured issuer without surrounding blanks or one trailing slash, the form compared.
pub fn normalize_issuer(issuer: &str) -> &str {
    let issuer = issuer.trim();
    issuer.strip_suffix('/').unwrap_or(issuer)
}

/// Whether an issuer named by a token or a discovery document is `trusted` (normalized): the
/// same string, or the same with one trailing slash. Nothing is trimmed from what was found.
pub fn issuer_matches(found: &str, trusted: &str) -> bool {
    found == trusted || found.strip_suffix('/') == Some(trusted)
}

/// A claim that must hold one of `allowed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub claim: ConstrainedClaim,
    pub allowed: Vec<String>,
}

/// The claims a constraint can be put on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstrainedClaim {
    Subject,
    OwnerId,
    Owner,
    ProjectId,
    Project,
    Environment,
}

impl ConstrainedClaim {
    /// The claim's name in the token.
    pub fn name(self) -> &'static str {
        match self {
            Self::Subject => "sub",
            Self::OwnerId => "owner_id",
            Self::Owner => "owner",
            Self::ProjectId => "project_id",
            Self::Project => "project",
            Self::Environment => "environment",
        }
    }

    /// How messages call it.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::OwnerId => "owner id",
            Self::Owner => "owner",
            Self::ProjectId => "project id",
            Self::Project => "project",
            Self::Environment => "environment",
        }
    }

    /// The flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Subject => "--sub",
            Self::OwnerId => "--owner-id",
            Self::Owner => "--owner",
            Self::ProjectId => "--project-id",
            Self::Project => "--project",
            Self::Environment => "--environment",
        }
    }

    pub(super) fn value(self, claims: &Claims) -> Option<&str> {
        match self {
            Self::Subject => Some(claims.sub.as_str()),
            Self::OwnerId => claims.owner_id.as_deref(),
            Self::Owner => claims.owner.as_deref(),
            Self::ProjectId => claims.project_id.as_deref(),
            Self::Project => claims.project.as_deref(),
            Self::Environment => claims.environment.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::tests::{config, opts};

    #[test]
    fn config_checks() {
        let ok = config();
        assert_eq!(ok.issuer, "https://oidc.vercel.com/acme");
        assert_eq!(ok.leeway, Duration::seconds(60));
        assert_eq!(
            ok.discovery_url(),
            "https://oidc.vercel.com/acme/.well-known/openid-configuration"
        );
        let slash = VerifyOptions {
            issuer: Some(" https://oidc.vercel.com/ ".into()),
            ..opts()
        };
        assert_eq!(
            VerifyConfig::from_options(&slash).unwrap().issuer,
            "https://oidc.vercel.com"
        );
        let local = VerifyOptions {
            issuer: Some("http://127.0.0.1:8080/acme".into()),
            ..opts()
        };
        assert!(VerifyConfig::from_options(&local).is_ok());

        // Issuers that are missing or wrong, each with the other options right.
        let by_issuer = [
            (
                None,
                "no issuer to trust\n  pass --issuer or set VERCEL_OIDC_VERIFY_ISSUER",
            ),
            (Some("  "), "no issuer to trust"),
            (
                Some("http://oidc.example.com/acme"),
                "cannot use the issuer `http://oidc.example.com/acme` is plain http",
            ),
            (
                Some("oidc.vercel.com/acme"),
                "cannot use the issuer `oidc.vercel.com/acme` is not a URL",
            ),
            (
                Some("https://oidc.vercel.com/acme?x=1"),
                "cannot use the issuer `https://oidc.vercel.com/acme?x=1`: an issuer has no query",
            ),
            (
                Some("https://oidc.vercel.com/acme/.well-known/openid-configuration"),
                "that is a document's address, not the issuer",
            ),
            (
                Some("https://oidc.vercel.com/acme//"),
                "cannot use the issuer `https://oidc.vercel.com/acme/`: an issuer has no empty path segment (`//`)",
            ),
            (
                Some("https://oidc.vercel.com//acme"),
                "an issuer has no empty path segment (`//`)",
            ),
        ]
        .map(|(issuer, want)| {
            let issuer = issuer.map(String::from);
            (VerifyOptions { issuer, ..opts() }, want)
        });
        let others = [
            (
                VerifyOptions {
                    audience: None,
                    ..opts()
                },
                "no audience to require\n  pass --audience or set VERCEL_OIDC_VERIFY_AUDIENCE",
            ),
            (
                VerifyOptions {
                    leeway_seconds: Some(301),
                    ..opts()
                },
                "leeway 301s is too large",
            ),
            (
                VerifyOptions {
                    environments: vec!["production".into(), " ".into()],
                    ..opts()
                },
                "--environment was given an empty value",
            ),
        ];
        let cases = by_issuer.into_iter().chain(others);
        for (options, want) in cases {
            let err = VerifyConfig::from_options(&options)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "want {want:?}, got {err:?}");
        }
    }

    #[test]
    fn constraints_keep_their_order_and_values() {
        let config = VerifyConfig::from_options(&VerifyOptions {
            environments: vec!["production".into(), " preview ".into()],
            project_ids: vec!["prj_123".into()],
            ..opts()
        })
        .unwrap();
        assert_eq!(
            config.constraints,
            vec![
                Constraint {
                    claim: ConstrainedClaim::ProjectId,
                    allowed: vec!["prj_123".into()],
                },
                Constraint {
                    claim: ConstrainedClaim::Environment,
                    allowed: vec!["production".into(), "preview".into()],
                },
            ]
        );
    }
}
