//! GCP: workload identity federation with the Vercel token.
//!
//! Three ways to use it, all from one validated [`GcpConfig`]:
//! - `credfile` writes an `external_account` credential file that google-auth (Python, Node, Go,
//!   Java), gcloud and Terraform read unchanged, with the token either in a file beside it or
//!   fetched by running this binary (`executable`);
//! - `executable` is the response the file's `executable` source prints;
//! - `sts` performs the exchange itself for an access token: Google STS, then IAM Credentials
//!   `generateAccessToken` when a service account is impersonated.
//!
//! Settings, each from a flag or an environment variable (the CLI names them; the defaults are
//! the variables Vercel's GCP guide asks for):
//! - the workload identity provider: the full audience
//!   `//iam.googleapis.com/projects/<NUMBER>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>`,
//!   or its parts `GCP_PROJECT_NUMBER`, `GCP_WORKLOAD_IDENTITY_POOL_ID`,
//!   `GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID`; required;
//! - the service account to impersonate (`GCP_SERVICE_ACCOUNT_EMAIL`), optional, with a token
//!   lifetime of 600–43200 s (default 3600; above 3600 needs the organisation policy
//!   `constraints/iam.allowServiceAccountCredentialLifetimeExtension`);
//! - the STS token URL (default `https://sts.googleapis.com/v1/token`) and the IAM Credentials
//!   URL (default `https://iamcredentials.googleapis.com`), https or loopback http only;
//! - the scopes of an access token (default `https://www.googleapis.com/auth/cloud-platform`);
//! - the project id (`GCP_PROJECT_ID`), printed as `GOOGLE_CLOUD_PROJECT` for clients.
//!
//! Cached access tokens are keyed by everything that changes the result: audience, endpoints,
//! service account, lifetime, scopes and the token's identity (issuer, subject, audience, owner,
//! project, environment), and are bound to the exact token that got them.

#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
pub(crate) mod credfile;
mod exchange;
#[cfg(feature = "cli")]
pub(crate) mod executable;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod fuzz;
pub mod settings;
pub(crate) mod sts;
pub(crate) mod trust;

use crate::vars;
use std::fmt;

use serde::Serialize;
use time::Duration;

pub use exchange::access_token;
pub(crate) use sts::GcpClient;
pub use sts::{AccessToken, GcpError};

use crate::cache;
use crate::settings::{Resolved, Setting};
use crate::token::Claims;

/// What Google STS is asked for when nothing else is said.
pub const DEFAULT_TOKEN_URL: &str = "https://sts.googleapis.com/v1/token";
/// The IAM Service Account Credentials API.
pub const DEFAULT_IAM_CREDENTIALS_URL: &str = "https://iamcredentials.googleapis.com";
/// The scope that lets the access token call every Google Cloud API the principal may.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The subject token type of a Vercel OIDC token.
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const DEFAULT_TOKEN_LIFETIME_SECONDS: u32 = 3600;
/// Google STS hands out federated tokens for an hour.
pub const STS_TOKEN_LIFETIME_SECONDS: u32 = 3600;

const AUDIENCE_PREFIX: &str = "//iam.googleapis.com/";

/// A workload identity pool provider: what the audience names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkloadProvider {
    pub project_number: String,
    pub pool: String,
    pub provider: String,
}

impl WorkloadProvider {
    /// The STS audience: `//iam.googleapis.com/projects/<N>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>`.
    pub fn audience(&self) -> String {
        format!(
            "{AUDIENCE_PREFIX}{}/providers/{}",
            self.pool_name(),
            self.provider
        )
    }

    /// `projects/<N>/locations/global/workloadIdentityPools/<POOL>`, the pool's resource name.
    pub fn pool_name(&self) -> String {
        format!(
            "projects/{}/locations/global/workloadIdentityPools/{}",
            self.project_number, self.pool
        )
    }

    /// The IAM principal of one subject of the pool.
    pub fn principal(&self, subject: &str) -> String {
        format!(
            "principal://iam.googleapis.com/{}/subject/{subject}",
            self.pool_name()
        )
    }

    /// The IAM principal set of every identity of the pool whose `attribute` is `value`.
    pub fn principal_set(&self, attribute: &str, value: &str) -> String {
        format!(
            "principalSet://iam.googleapis.com/{}/attribute.{attribute}/{value}",
            self.pool_name()
        )
    }

    /// Reads an audience, also accepting the `https://iam.googleapis.com/...` spelling that the
    /// console shows as the provider's default allowed audience.
    pub fn parse_audience(audience: &str) -> Result<Self, ConfigError> {
        let bad = |reason: &str| ConfigError::BadAudience {
            audience: audience.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = audience.trim();
        let rest = trimmed
            .strip_prefix(AUDIENCE_PREFIX)
            .or_else(|| trimmed.strip_prefix("https://iam.googleapis.com/"))
            .ok_or_else(|| bad("it does not start with `//iam.googleapis.com/`"))?;
        if rest.starts_with("locations/") && rest.contains("/workforcePools/") {
            return Err(ConfigError::WorkforceAudience(audience.to_string()));
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let [
            "projects",
            number,
            "locations",
            location,
            "workloadIdentityPools",
            pool,
            "providers",
            provider,
        ] = parts.as_slice()
        else {
            return Err(bad(
                "it should name `projects/<NUMBER>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>`",
            ));
        };
        if *location != "global" {
            return Err(bad(
                "workload identity pools live in location `global` only",
            ));
        }
        let provider = Self {
            project_number: check_project_number(number)?,
            pool: check_id(IdKind::Pool, pool)?,
            provider: check_id(IdKind::Provider, provider)?,
        };
        Ok(provider)
    }
}

impl fmt::Display for WorkloadProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "provider `{}` of pool `{}` in project {}",
            self.provider, self.pool, self.project_number
        )
    }
}

/// Service account impersonation: who, through which URL, for how long.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Impersonation {
    pub service_account: String,
    /// The full `.../serviceAccounts/<EMAIL>:generateAccessToken` URL.
    pub url: String,
    pub lifetime_seconds: u32,
}

/// Checked settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcpConfig {
    pub provider: WorkloadProvider,
    pub token_url: String,
    pub impersonation: Option<Impersonation>,
    /// Scopes of an access token; never empty.
    pub scopes: Vec<String>,
    pub project_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    Pool,
    Provider,
}

impl IdKind {
    fn describe(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Pool => (
                "workload identity pool",
                "--pool",
                vars::GCP_WORKLOAD_IDENTITY_POOL_ID,
            ),
            Self::Provider => (
                "workload identity pool provider",
                "--provider",
                vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID,
            ),
        }
    }
}

/// Why the GCP settings cannot be used; `Display` is the
/// [`Explanation`](crate::problem::Explanation).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    MissingProvider,
    IncompleteProvider(Vec<&'static str>),
    BadAudience {
        audience: String,
        reason: String,
    },
    WorkforceAudience(String),
    BadProjectNumber(String),
    BadId {
        kind: IdKind,
        value: String,
    },
    BadServiceAccount(String),
    BadLifetime(u32),
    /// A lifetime set (as `--token-lifetime-seconds`, its variable, or its key in the project
    /// file) with no service account.
    NeedsServiceAccount(String),
    ImpersonationUrlMismatch {
        url: String,
        found: String,
        service_account: String,
    },
    Endpoint {
        what: &'static str,
        flag: &'static str,
        reason: String,
    },
    BadScope(String),
    BadProjectId(String),

    /// A value that is not what its setting takes (a number that is not one); shown as itself,
    /// which is not also its source.
    Value(crate::settings::BadValue),
}

impl crate::problem::Explain for ConfigError {
    fn explain(&self) -> crate::problem::Explanation {
        crate::problem::Explanation {
            problem: self.what_is_wrong(),
            fix: self.what_to_do(),
        }
    }
}

impl ConfigError {
    /// What is wrong, in one line, the value given in backticks.
    fn what_is_wrong(&self) -> String {
        match self {
            Self::Value(bad) => crate::problem::Explain::problem(bad),
            Self::MissingProvider => "no GCP workload identity provider given".into(),
            Self::IncompleteProvider(missing) => format!(
                "the GCP workload identity provider is incomplete: missing {}",
                missing.join(", ")
            ),
            Self::BadAudience { audience, reason } => format!(
                "`{}` is not a workload identity provider audience: {reason}",
                audience.escape_debug()
            ),
            Self::WorkforceAudience(audience) => format!(
                "`{}` names a workforce pool, which is for people signing in, not for workloads",
                audience.escape_debug()
            ),
            Self::BadProjectNumber(value) => {
                format!("project number `{}` is not a number", value.escape_debug())
            }
            Self::BadId { kind, value } => {
                format!(
                    "{} id `{}` is not valid",
                    kind.describe().0,
                    value.escape_debug()
                )
            }
            Self::BadServiceAccount(value) => {
                format!("`{}` is not a service account email", value.escape_debug())
            }
            Self::BadLifetime(seconds) => format!("a token lifetime of {seconds}s is out of range"),
            Self::NeedsServiceAccount(flag) => {
                format!("{flag} only applies when impersonating a service account")
            }
            Self::ImpersonationUrlMismatch {
                url,
                found,
                service_account,
            } => format!(
                "the impersonation URL `{url}` is for `{found}`, not for the service account `{service_account}`"
            ),
            Self::Endpoint { what, reason, .. } => format!("cannot use the {what}: {reason}"),
            Self::BadScope(scope) => format!("scope `{}` is not valid", scope.escape_debug()),
            Self::BadProjectId(id) => format!("project id `{}` is not valid", id.escape_debug()),
        }
    }

    /// What to do: which flag (and variable) to set, and what it takes.
    fn what_to_do(&self) -> Option<String> {
        let fix: &str = match self {
            Self::Value(bad) => return crate::problem::Explain::fix(bad),
            Self::MissingProvider => {
                "pass --project-number, --pool and --provider (or set GCP_PROJECT_NUMBER, GCP_WORKLOAD_IDENTITY_POOL_ID and GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID), or the full --audience //iam.googleapis.com/projects/<NUMBER>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>"
            }
            Self::IncompleteProvider(_) => {
                "give all three of --project-number, --pool and --provider, or the full --audience"
            }
            Self::BadAudience { .. } => {
                "pass --audience //iam.googleapis.com/projects/<NUMBER>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER> (or VERCEL_OIDC_GCP_AUDIENCE)"
            }
            Self::WorkforceAudience(_) => {
                "create a workload identity pool and pass its provider's audience"
            }
            Self::BadProjectNumber(_) => {
                "--project-number (GCP_PROJECT_NUMBER) is the numeric id; find it with `gcloud projects describe <PROJECT_ID> --format='value(projectNumber)'`"
            }
            Self::BadId { kind, .. } => {
                let (_, flag, var) = kind.describe();
                return Some(format!(
                    "{flag} ({var}) takes the id (4 to 32 lowercase letters, digits and hyphens), not the display name or the resource path"
                ));
            }
            Self::BadServiceAccount(_) => {
                "--service-account (GCP_SERVICE_ACCOUNT_EMAIL) looks like `NAME@PROJECT_ID.iam.gserviceaccount.com`"
            }
            Self::BadLifetime(_) => {
                "--token-lifetime-seconds must be between 600 and 43200 (above 3600 needs the organisation policy constraints/iam.allowServiceAccountCredentialLifetimeExtension)"
            }
            Self::NeedsServiceAccount(flag) => {
                return Some(format!(
                    "pass --service-account (or GCP_SERVICE_ACCOUNT_EMAIL), or drop {flag}"
                ));
            }
            Self::ImpersonationUrlMismatch { .. } => {
                "pass a base URL (such as https://iamcredentials.googleapis.com) to --impersonation-url, or make the two agree"
            }
            Self::Endpoint { flag, .. } => return Some(format!("fix {flag}")),
            Self::BadScope(_) => {
                "--scope takes one OAuth scope per flag, such as https://www.googleapis.com/auth/cloud-platform"
            }
            Self::BadProjectId(_) => {
                "--project-id (GCP_PROJECT_ID) is the project's id, such as `my-project-123`"
            }
        };
        Some(fix.to_string())
    }
}

impl From<crate::settings::BadValue> for ConfigError {
    fn from(bad: crate::settings::BadValue) -> Self {
        Self::Value(bad)
    }
}

crate::problem::display_as_explained!(ConfigError);

/// A setting's value, trimmed; `None` when unset or blank.
fn given(r: &Resolved, setting: &Setting) -> Option<String> {
    r.text(setting)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl GcpConfig {
    /// Checks the resolved settings. No I/O.
    pub fn from_settings(r: &Resolved) -> Result<Self, ConfigError> {
        let provider = provider_from(r)?;
        let token_url =
            given(r, &settings::TOKEN_URL).unwrap_or_else(|| DEFAULT_TOKEN_URL.to_string());
        crate::http::check_endpoint(&token_url).map_err(|reason| ConfigError::Endpoint {
            what: "STS token URL",
            flag: "--token-url (VERCEL_OIDC_GCP_TOKEN_URL)",
            reason,
        })?;
        let impersonation = impersonation_from(r)?;
        let scopes = scopes_from(r)?;
        let project_id = given(r, &settings::PROJECT_ID);
        if let Some(id) = &project_id {
            check_project_id(id)?;
        }
        Ok(Self {
            provider,
            token_url,
            impersonation,
            scopes,
            project_id,
        })
    }

    pub fn audience(&self) -> String {
        self.provider.audience()
    }

    /// How long the access token this configuration gets is meant to live.
    pub fn lifetime(&self) -> Duration {
        let secs = self
            .impersonation
            .as_ref()
            .map_or(STS_TOKEN_LIFETIME_SECONDS, |i| i.lifetime_seconds);
        Duration::seconds(secs.into())
    }

    /// How long before expiry a cached access token stops being handed out.
    pub fn min_remaining(&self) -> Duration {
        cache::min_remaining_for(self.lifetime())
    }
}

/// The provider: the audience, else all three of its parts.
fn provider_from(r: &Resolved) -> Result<WorkloadProvider, ConfigError> {
    if let Some(audience) = given(r, &settings::AUDIENCE) {
        return WorkloadProvider::parse_audience(&audience);
    }
    let parts = [
        (
            &settings::PROJECT_NUMBER,
            "--project-number (GCP_PROJECT_NUMBER)",
        ),
        (&settings::POOL, "--pool (GCP_WORKLOAD_IDENTITY_POOL_ID)"),
        (
            &settings::PROVIDER,
            "--provider (GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID)",
        ),
    ]
    .map(|(setting, named)| (given(r, setting), named));
    match parts {
        [(Some(number), _), (Some(pool), _), (Some(provider), _)] => Ok(WorkloadProvider {
            project_number: check_project_number(&number)?,
            pool: check_id(IdKind::Pool, &pool)?,
            provider: check_id(IdKind::Provider, &provider)?,
        }),
        [(None, _), (None, _), (None, _)] => Err(ConfigError::MissingProvider),
        parts => Err(ConfigError::IncompleteProvider(
            parts
                .iter()
                .filter(|(value, _)| value.is_none())
                .map(|(_, named)| *named)
                .collect(),
        )),
    }
}

/// The service account to impersonate, through which URL and for how long; `None` without one,
/// where a lifetime is an error.
fn impersonation_from(r: &Resolved) -> Result<Option<Impersonation>, ConfigError> {
    let lifetime = r.number(&settings::TOKEN_LIFETIME_SECONDS)?;
    let Some(email) = given(r, &settings::SERVICE_ACCOUNT) else {
        if let Some(set) = r.get(&settings::TOKEN_LIFETIME_SECONDS) {
            let what = set.origin.naming(&settings::TOKEN_LIFETIME_SECONDS);
            return Err(ConfigError::NeedsServiceAccount(what));
        }
        // An endpoint set for every command is harmless when nothing is impersonated.
        if r.set_value(&settings::IMPERSONATION_URL).is_some() {
            crate::log::debug!("no service account: the IAM Credentials URL is not used");
        }
        return Ok(None);
    };
    let email = check_service_account(&email)?;
    let lifetime_seconds = lifetime.unwrap_or(DEFAULT_TOKEN_LIFETIME_SECONDS);
    check_lifetime(lifetime_seconds)?;
    let url = impersonation_url(given(r, &settings::IMPERSONATION_URL).as_deref(), &email)?;
    Ok(Some(Impersonation {
        service_account: email,
        url,
        lifetime_seconds,
    }))
}

/// The scopes, checked, each once; the cloud-platform scope when none is given.
fn scopes_from(r: &Resolved) -> Result<Vec<String>, ConfigError> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in r.list(&settings::SCOPES) {
        let scope = scope.trim();
        check_scope(scope)?;
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    if scopes.is_empty() {
        scopes.push(CLOUD_PLATFORM_SCOPE.to_string());
    }
    Ok(scopes)
}

/// The cache key for an access token of `config` with a token of these claims.
pub(crate) fn cache_key(config: &GcpConfig, claims: &Claims) -> cache::Key {
    #[derive(Serialize)]
    struct Parts<'a> {
        audience: String,
        token_url: &'a str,
        impersonation: Option<&'a Impersonation>,
        scopes: &'a [String],
    }
    let parts = Parts {
        audience: config.audience(),
        token_url: &config.token_url,
        impersonation: config.impersonation.as_ref(),
        scopes: &config.scopes,
    };
    cache::Key::for_identity("gcp", 1, &parts, claims)
}

pub fn check_project_id(id: &str) -> Result<(), ConfigError> {
    if id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.:".contains(c))
    {
        Ok(())
    } else {
        Err(ConfigError::BadProjectId(id.to_string()))
    }
}

pub fn check_scope(scope: &str) -> Result<(), ConfigError> {
    if scope.is_empty() || scope.chars().any(char::is_whitespace) {
        Err(ConfigError::BadScope(scope.to_string()))
    } else {
        Ok(())
    }
}

pub fn check_lifetime(seconds: u32) -> Result<(), ConfigError> {
    if (600..=43200).contains(&seconds) {
        Ok(())
    } else {
        Err(ConfigError::BadLifetime(seconds))
    }
}

pub fn check_project_number(value: &str) -> Result<String, ConfigError> {
    if !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_string())
    } else {
        Err(ConfigError::BadProjectNumber(value.to_string()))
    }
}

pub fn check_id(kind: IdKind, value: &str) -> Result<String, ConfigError> {
    let ok = (4..=32).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(value.to_string())
    } else {
        Err(ConfigError::BadId {
            kind,
            value: value.to_string(),
        })
    }
}

pub fn check_service_account(value: &str) -> Result<String, ConfigError> {
    let ok = match value.split_once('@') {
        Some((name, domain)) => {
            !name.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
        }
        None => false,
    };
    if ok {
        Ok(value.to_string())
    } else {
        Err(ConfigError::BadServiceAccount(value.to_string()))
    }
}

/// The `generateAccessToken` URL for `email`: `given` as is when it is already a full URL
/// (it must then name `email`), else `given` (or the default) plus the standard path.
fn impersonation_url(given: Option<&str>, email: &str) -> Result<String, ConfigError> {
    let endpoint_error = |reason| ConfigError::Endpoint {
        what: "IAM Credentials URL",
        flag: "--impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL)",
        reason,
    };
    let url = match given {
        Some(url) if url.ends_with(":generateAccessToken") => {
            let found = url
                .rsplit_once("/serviceAccounts/")
                .map(|(_, tail)| tail.trim_end_matches(":generateAccessToken"))
                .unwrap_or("");
            if found != email {
                return Err(ConfigError::ImpersonationUrlMismatch {
                    url: url.to_string(),
                    found: found.to_string(),
                    service_account: email.to_string(),
                });
            }
            url.to_string()
        }
        other => format!(
            "{}/v1/projects/-/serviceAccounts/{email}:generateAccessToken",
            other
                .unwrap_or(DEFAULT_IAM_CREDENTIALS_URL)
                .trim_end_matches('/')
        ),
    };
    crate::http::check_endpoint(&url).map_err(endpoint_error)?;
    Ok(url)
}

/// GCP in the list of clouds ([`crate::clouds`]).
pub struct Gcp;

impl crate::cloud::Cloud for Gcp {
    fn table(&self) -> &'static crate::settings::Table {
        &settings::TABLE
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::token::tests::key_follows_identity;

    const AUDIENCE: &str = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel-acme";
    const SA: &str = "deploy@my-project.iam.gserviceaccount.com";

    /// The settings as a flag would give each, as the tests wrote them before the settings
    /// table.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct GcpOptions {
        pub audience: Option<String>,
        pub project_number: Option<String>,
        pub pool: Option<String>,
        pub provider: Option<String>,
        pub service_account: Option<String>,
        pub token_lifetime_seconds: Option<u32>,
        pub token_url: Option<String>,
        pub impersonation_url: Option<String>,
        pub scopes: Vec<String>,
        pub project_id: Option<String>,
    }

    impl GcpConfig {
        pub(crate) fn from_options(o: &GcpOptions) -> Result<Self, ConfigError> {
            let lifetime = o.token_lifetime_seconds.map(|s| s.to_string());
            let scopes = (!o.scopes.is_empty()).then(|| o.scopes.join(","));
            let pairs = [
                ("audience", o.audience.as_deref()),
                ("project_number", o.project_number.as_deref()),
                ("pool", o.pool.as_deref()),
                ("provider", o.provider.as_deref()),
                ("service_account", o.service_account.as_deref()),
                ("token_lifetime_seconds", lifetime.as_deref()),
                ("token_url", o.token_url.as_deref()),
                ("impersonation_url", o.impersonation_url.as_deref()),
                ("scopes", scopes.as_deref()),
                ("project_id", o.project_id.as_deref()),
            ];
            let env = crate::Env::default();
            Self::from_settings(&crate::settings::resolved_from_options(
                &settings::TABLE,
                &pairs,
                &env,
            ))
        }
    }

    fn parts() -> GcpOptions {
        GcpOptions {
            project_number: Some("123456789012".into()),
            pool: Some("vercel".into()),
            provider: Some("vercel-acme".into()),
            ..GcpOptions::default()
        }
    }

    #[test]
    fn audience_from_parts_or_whole() {
        let from_parts = GcpConfig::from_options(&parts()).unwrap();
        assert_eq!(from_parts.audience(), AUDIENCE);
        for given in [
            AUDIENCE.to_string(),
            format!("https:{AUDIENCE}"),
            format!("  {AUDIENCE} "),
        ] {
            let whole = GcpConfig::from_options(&GcpOptions {
                audience: Some(given.clone()),
                ..GcpOptions::default()
            })
            .unwrap();
            assert_eq!(whole.provider, from_parts.provider, "{given}");
        }
        // The full audience wins over the parts.
        let both = GcpConfig::from_options(&GcpOptions {
            audience: Some(AUDIENCE.replace("vercel-acme", "other")),
            ..parts()
        })
        .unwrap();
        assert_eq!(both.provider.provider, "other");
    }

    #[test]
    fn defaults() {
        let cfg = GcpConfig::from_options(&parts()).unwrap();
        assert_eq!(cfg.token_url, DEFAULT_TOKEN_URL);
        assert_eq!(cfg.impersonation, None);
        assert_eq!(cfg.scopes, [CLOUD_PLATFORM_SCOPE]);
        assert_eq!(cfg.min_remaining(), Duration::minutes(20));
        let cfg = GcpConfig::from_options(&GcpOptions {
            service_account: Some(SA.into()),
            ..parts()
        })
        .unwrap();
        assert_eq!(
            cfg.impersonation,
            Some(Impersonation {
                service_account: SA.into(),
                url: format!(
                    "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{SA}:generateAccessToken"
                ),
                lifetime_seconds: 3600,
            })
        );
    }

    #[test]
    fn impersonation_url_overrides() {
        let with = |url: &str| {
            GcpConfig::from_options(&GcpOptions {
                service_account: Some(SA.into()),
                impersonation_url: Some(url.into()),
                ..parts()
            })
            .map(|c| c.impersonation.unwrap().url)
        };
        let full =
            format!("http://127.0.0.1:9/v1/projects/-/serviceAccounts/{SA}:generateAccessToken");
        assert_eq!(with("http://127.0.0.1:9").unwrap(), full);
        assert_eq!(with("http://127.0.0.1:9/").unwrap(), full);
        assert_eq!(with(&full).unwrap(), full);
        let other = full.replace("deploy@", "other@");
        assert!(
            with(&other)
                .unwrap_err()
                .to_string()
                .contains("is for `other@my-project.iam.gserviceaccount.com`")
        );
    }

    #[test]
    fn option_errors() {
        let cases: Vec<(GcpOptions, &str)> = vec![
            (
                GcpOptions::default(),
                "no GCP workload identity provider given",
            ),
            (
                GcpOptions {
                    pool: None,
                    provider: None,
                    ..parts()
                },
                "the GCP workload identity provider is incomplete: missing --pool (GCP_WORKLOAD_IDENTITY_POOL_ID), --provider",
            ),
            (
                GcpOptions {
                    project_number: Some("my-project".into()),
                    ..parts()
                },
                "project number `my-project` is not a number",
            ),
            (
                GcpOptions {
                    pool: Some("Vercel Pool".into()),
                    ..parts()
                },
                "workload identity pool id `Vercel Pool` is not valid",
            ),
            (
                GcpOptions {
                    provider: Some(
                        "projects/1/locations/global/workloadIdentityPools/p/providers/x".into(),
                    ),
                    ..parts()
                },
                "workload identity pool provider id `projects/1/",
            ),
            (
                GcpOptions {
                    audience: Some("https://vercel.com/acme".into()),
                    ..GcpOptions::default()
                },
                "`https://vercel.com/acme` is not a workload identity provider audience: it does not start with",
            ),
            (
                GcpOptions {
                    audience: Some(AUDIENCE.replace("/providers/vercel-acme", "")),
                    ..GcpOptions::default()
                },
                "`//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel` is not a workload identity provider audience: it should name",
            ),
            (
                GcpOptions {
                    audience: Some(AUDIENCE.replace("global", "europe-west1")),
                    ..GcpOptions::default()
                },
                "`//iam.googleapis.com/projects/123456789012/locations/europe-west1/workloadIdentityPools/vercel/providers/vercel-acme` is not a workload identity provider audience: workload identity pools live in location `global` only",
            ),
            (
                GcpOptions {
                    audience: Some(
                        "//iam.googleapis.com/locations/global/workforcePools/staff/providers/okta"
                            .into(),
                    ),
                    ..GcpOptions::default()
                },
                "`//iam.googleapis.com/locations/global/workforcePools/staff/providers/okta` names a workforce pool",
            ),
            (
                GcpOptions {
                    service_account: Some("deploy".into()),
                    ..parts()
                },
                "`deploy` is not a service account email",
            ),
            (
                GcpOptions {
                    service_account: Some(SA.into()),
                    token_lifetime_seconds: Some(599),
                    ..parts()
                },
                "a token lifetime of 599s is out of range",
            ),
            (
                GcpOptions {
                    service_account: Some(SA.into()),
                    token_lifetime_seconds: Some(43201),
                    ..parts()
                },
                "a token lifetime of 43201s is out of range",
            ),
            (
                GcpOptions {
                    token_lifetime_seconds: Some(3600),
                    ..parts()
                },
                "--token-lifetime-seconds only applies when impersonating a service account",
            ),
            (
                GcpOptions {
                    token_url: Some("http://sts.example.com/v1/token".into()),
                    ..parts()
                },
                "cannot use the STS token URL: `http://sts.example.com/v1/token` is plain http",
            ),
            (
                GcpOptions {
                    service_account: Some(SA.into()),
                    impersonation_url: Some("http://iam.example.com".into()),
                    ..parts()
                },
                "cannot use the IAM Credentials URL: `http://iam.example.com/v1/projects/-/serviceAccounts/",
            ),
            (
                GcpOptions {
                    scopes: vec!["a b".into()],
                    ..parts()
                },
                "scope `a b` is not valid",
            ),
            (
                GcpOptions {
                    project_id: Some("My Project".into()),
                    ..parts()
                },
                "project id `My Project` is not valid",
            ),
        ];
        for (o, want) in cases {
            let err = GcpConfig::from_options(&o).unwrap_err().to_string();
            assert!(err.starts_with(want), "got {err:?}, want {want:?}");
            assert!(
                err.contains("\n  "),
                "every message ends with what to do: {err}"
            );
        }
    }

    #[test]
    fn impersonation_url_alone_is_unused() {
        let cfg = GcpConfig::from_options(&GcpOptions {
            impersonation_url: Some("http://127.0.0.1:1".into()),
            ..parts()
        })
        .unwrap();
        assert_eq!(cfg.impersonation, None);
    }

    #[test]
    fn lifetimes_and_scopes() {
        let cfg = GcpConfig::from_options(&GcpOptions {
            service_account: Some(SA.into()),
            token_lifetime_seconds: Some(900),
            scopes: vec!["s1".into(), "s2".into(), "s1".into()],
            ..parts()
        })
        .unwrap();
        assert_eq!(cfg.lifetime(), Duration::seconds(900));
        assert_eq!(cfg.min_remaining(), Duration::minutes(14));
        assert_eq!(cfg.scopes, ["s1", "s2"]);
    }

    #[test]
    fn principals() {
        let p = GcpConfig::from_options(&parts()).unwrap().provider;
        assert_eq!(
            p.principal("owner:acme:project:web:environment:production"),
            "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/subject/owner:acme:project:web:environment:production"
        );
        assert_eq!(
            p.principal_set("project", "web"),
            "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/attribute.project/web"
        );
    }

    #[test]
    fn cache_key_covers_identity_and_request() {
        let cfg = GcpConfig::from_options(&parts()).unwrap();
        let (base, k0) = key_follows_identity(|c| cache_key(&cfg, c));
        let variants = [
            GcpOptions {
                provider: Some("other".into()),
                ..parts()
            },
            GcpOptions {
                service_account: Some(SA.into()),
                ..parts()
            },
            GcpOptions {
                service_account: Some(SA.into()),
                token_lifetime_seconds: Some(900),
                ..parts()
            },
            GcpOptions {
                scopes: vec!["https://www.googleapis.com/auth/devstorage.read_only".into()],
                ..parts()
            },
            GcpOptions {
                token_url: Some("http://127.0.0.1:1/v1/token".into()),
                ..parts()
            },
        ];
        let mut keys = vec![k0];
        for o in variants {
            let key = cache_key(&GcpConfig::from_options(&o).unwrap(), &base);
            assert!(!keys.contains(&key), "{o:?}");
            keys.push(key);
        }
    }
}
