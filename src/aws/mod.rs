//! AWS: trade the Vercel token for temporary credentials with STS `AssumeRoleWithWebIdentity`.
//!
//! Settings, each from a flag or an environment variable (the CLI names them):
//! - role ARN (`AWS_ROLE_ARN`, the name Vercel's AWS guide uses), required;
//! - session name, default `vercel-<project>-<environment>` from the token, sanitised to STS's
//!   `[\w+=,.@-]{2,64}`;
//! - duration (900–43200 s, default 3600), session policy ARNs (up to 10), an inline session
//!   policy (JSON, or `@file`);
//! - the STS endpoint: see [`StsEndpoint`].
//!
//! The cache key covers everything that changes the result: role, session name, duration,
//! policies, endpoint, and the token's identity (issuer, subject, audience, owner, project,
//! environment), so a token for another project or environment never gets old credentials; the
//! session binds it to the exact token, so only the token that got them gets them again.

#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
pub(crate) mod config_file;
#[cfg(feature = "cli")]
pub(crate) mod container;
pub(crate) mod endpoint;
mod exchange;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod fuzz;
pub mod provider;
pub mod settings;
pub(crate) mod sts;
pub(crate) mod trust;

use std::path::PathBuf;

use serde::Serialize;
use time::Duration;

pub use endpoint::{EndpointError, StsEndpoint};
pub use exchange::{credentials, credentials_lasting};
pub use provider::VercelOidcCredentialsProvider;
pub(crate) use sts::StsClient;
#[cfg(feature = "cli")]
pub(crate) use sts::region_env_vars;
pub use sts::{AssumeRoleRequest, AwsCredentials, StsError};

use crate::cache;
use crate::env::Env;
use crate::settings::{Origin, Resolved};
use crate::token::Claims;

pub const DEFAULT_DURATION_SECONDS: u32 = 3600;

/// Checked settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsConfig {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub duration_seconds: u32,
    pub policy_arns: Vec<String>,
    pub policy: Option<String>,
    pub endpoint: StsEndpoint,
}

/// Why the AWS settings cannot be used; `Display` is the [`Explanation`](crate::problem::Explanation).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    MissingRole,
    BadRoleArn(String),
    BadSessionName(String),
    BadDuration(u32),
    TooManyPolicyArns(usize),
    BadPolicyArn(String),
    PolicyFile {
        path: PathBuf,
        error: crate::fsutil::ReadError,
    },
    PolicyJson {
        origin: String,
        error: serde_json::Error,
    },
    /// Shown as the region error itself, which is not also its source.
    Region(endpoint::EndpointError),
    Endpoint(String),
    /// A value that is not what its setting takes (a number that is not one); shown as itself,
    /// which is not also its source.
    Value(crate::settings::BadValue),
}

impl crate::problem::Explain for ConfigError {
    fn explain(&self) -> crate::problem::Explanation {
        use crate::problem::Explanation as E;
        match self {
            Self::Value(bad) => bad.explain(),
            Self::MissingRole => E::new(
                "no role to assume",
                "pass --role-arn or set AWS_ROLE_ARN to the IAM role whose trust policy names the Vercel OIDC provider",
            ),
            Self::BadRoleArn(arn) => E::new(
                format!("`{}` is not an IAM role ARN", arn.escape_debug()),
                "it should look like `arn:aws:iam::123456789012:role/NAME` (--role-arn or AWS_ROLE_ARN)",
            ),
            Self::BadSessionName(name) => E::new(
                format!(
                    "session name `{}` is not allowed by STS",
                    name.escape_debug()
                ),
                "use 2 to 64 characters of letters, digits and `+=,.@_-` (--session-name or AWS_ROLE_SESSION_NAME), or leave it out for the default",
            ),
            Self::BadDuration(seconds) => E::new(
                format!("duration {seconds}s is out of range"),
                "--duration-seconds must be between 900 and 43200 (and at most the role's maximum session duration)",
            ),
            Self::TooManyPolicyArns(n) => E::new(
                format!("{n} session policy ARNs given, STS takes at most 10"),
                "combine them into fewer managed policies",
            ),
            Self::BadPolicyArn(arn) => E::new(
                format!("`{}` is not an IAM policy ARN", arn.escape_debug()),
                "it should look like `arn:aws:iam::aws:policy/ReadOnlyAccess` (--policy-arn)",
            ),
            Self::PolicyFile { path, error } => E::new(
                format!(
                    "cannot read the session policy file `{}`: {}",
                    path.display(),
                    error.reason()
                ),
                "pass --policy @FILE with a regular file holding the policy JSON (STS takes at most 2,048 characters of it once packed)",
            ),
            Self::PolicyJson { origin, error } => E::new(
                format!("the session policy from {origin} is not valid JSON: {error}"),
                "pass an IAM policy document, inline or as --policy @FILE",
            ),
            Self::Region(error) => error.explain(),
            Self::Endpoint(reason) => E::new(
                format!("cannot use the STS endpoint: {reason}"),
                "fix --region, AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL",
            ),
        }
    }
}

impl From<crate::settings::BadValue> for ConfigError {
    fn from(bad: crate::settings::BadValue) -> Self {
        Self::Value(bad)
    }
}

crate::problem::display_as_explained!(ConfigError);

impl From<endpoint::EndpointError> for ConfigError {
    fn from(error: endpoint::EndpointError) -> Self {
        Self::Region(error)
    }
}

impl AwsConfig {
    /// Checks the resolved settings, reading an `@file` policy and resolving the endpoint from
    /// `env`.
    pub fn from_settings(r: &Resolved, env: &Env) -> Result<Self, ConfigError> {
        let role_arn = r
            .text(&settings::ROLE_ARN)
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or(ConfigError::MissingRole)?
            .to_string();
        check_role_arn(&role_arn)?;
        let session_name = r.text(&settings::SESSION_NAME).map(str::to_string);
        if let Some(name) = &session_name {
            check_session_name(name)?;
        }
        let duration_seconds = r
            .number(&settings::DURATION_SECONDS)?
            .unwrap_or(DEFAULT_DURATION_SECONDS);
        check_duration(duration_seconds)?;
        let policy_arns = r.list(&settings::POLICY_ARNS).to_vec();
        check_policy_arns(&policy_arns)?;
        let policy = r
            .get(&settings::POLICY)
            .map(|p| read_policy(p, env))
            .transpose()?;
        let endpoint = endpoint::resolve(env, r.get(&settings::REGION))?;
        crate::http::check_endpoint(&endpoint.url).map_err(ConfigError::Endpoint)?;
        Ok(Self {
            role_arn,
            session_name,
            duration_seconds,
            policy_arns,
            policy,
            endpoint,
        })
    }

    /// Calls STS at `url` instead of the endpoint the settings resolve to.
    pub fn with_endpoint_url(mut self, url: &str) -> Result<Self, ConfigError> {
        crate::http::check_endpoint(url).map_err(ConfigError::Endpoint)?;
        self.endpoint.url = url.to_string();
        self.endpoint.origin = Origin::Given;
        Ok(self)
    }

    /// The request for a token with these claims.
    pub fn request(&self, claims: &Claims) -> AssumeRoleRequest {
        AssumeRoleRequest {
            role_arn: self.role_arn.clone(),
            session_name: self
                .session_name
                .clone()
                .unwrap_or_else(|| default_session_name(claims)),
            duration_seconds: self.duration_seconds,
            policy_arns: self.policy_arns.clone(),
            policy: self.policy.clone(),
        }
    }

    /// How long before expiry cached credentials stop being handed out.
    pub fn min_remaining(&self) -> Duration {
        cache::min_remaining_for(Duration::seconds(self.duration_seconds.into()))
    }
}

/// The cache key for `req` at `endpoint` with a token of these claims.
pub(crate) fn cache_key(
    req: &AssumeRoleRequest,
    endpoint: &StsEndpoint,
    claims: &Claims,
) -> cache::Key {
    #[derive(Serialize)]
    struct Parts<'a> {
        req: &'a AssumeRoleRequest,
        endpoint: &'a str,
    }
    let endpoint = &endpoint.url;
    cache::Key::for_identity("aws", 1, &Parts { req, endpoint }, claims)
}

/// The policy `value` names, packed: inline JSON, or `@file`.
fn read_policy(value: &crate::settings::Value, env: &Env) -> Result<String, ConfigError> {
    let raw = value.raw.text();
    let (text, origin) = match raw.strip_prefix('@') {
        Some(path) => {
            let path = env.absolute(path);
            let bytes = crate::fsutil::read_capped(&path, crate::fsutil::limits::POLICY).map_err(
                |error| ConfigError::PolicyFile {
                    path: path.clone(),
                    error,
                },
            )?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            (text, format!("`{}`", path.display()))
        }
        None => (raw.clone(), value.origin.to_string()),
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| ConfigError::PolicyJson { origin, error })?;
    Ok(json.to_string())
}

/// Each setting's own check, as [`AwsConfig::from_settings`] makes it; `vercel-oidc.toml` runs
/// the same checks as it is read, so that its errors point at the file's line.
pub fn check_role_arn(arn: &str) -> Result<(), ConfigError> {
    if is_role_arn(arn) {
        Ok(())
    } else {
        Err(ConfigError::BadRoleArn(arn.to_string()))
    }
}

pub fn check_session_name(name: &str) -> Result<(), ConfigError> {
    if is_session_name(name) {
        Ok(())
    } else {
        Err(ConfigError::BadSessionName(name.to_string()))
    }
}

pub fn check_duration(seconds: u32) -> Result<(), ConfigError> {
    if (900..=43200).contains(&seconds) {
        Ok(())
    } else {
        Err(ConfigError::BadDuration(seconds))
    }
}

pub fn check_policy_arns(arns: &[String]) -> Result<(), ConfigError> {
    if arns.len() > 10 {
        return Err(ConfigError::TooManyPolicyArns(arns.len()));
    }
    match arns.iter().find(|a| !is_policy_arn(a)) {
        Some(bad) => Err(ConfigError::BadPolicyArn(bad.clone())),
        None => Ok(()),
    }
}

/// The partitions an IAM ARN may name.
const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// `arn:<partition>:iam::<12 digits>:role/<path/><name>`, as IAM allows it: a path of printable
/// ASCII between slashes, a name of 1 to 64 of `[\w+=,.@-]`, at most 2,048 characters in all.
pub fn is_role_arn(arn: &str) -> bool {
    iam_resource(arn, "role/", false).is_some_and(|name| (1..=64).contains(&name.len()))
}

/// `arn:<partition>:iam::<12 digits or aws>:policy/<path/><name>`, a name of 1 to 128 of
/// `[\w+=,.@-]`.
pub fn is_policy_arn(arn: &str) -> bool {
    iam_resource(arn, "policy/", true).is_some_and(|name| (1..=128).contains(&name.len()))
}

/// The resource name of an IAM ARN of resource type `kind` (`role/`), after its path.
fn iam_resource<'a>(arn: &'a str, kind: &str, aws_account: bool) -> Option<&'a str> {
    if arn.len() > 2048 {
        return None;
    }
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let account_ok = (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        || (aws_account && account == "aws");
    if !PARTITIONS.contains(&partition) || !account_ok {
        return None;
    }
    let rest = resource.strip_prefix(kind)?;
    let (path, name) = rest.rsplit_once('/').map_or(("", rest), |(p, n)| (p, n));
    let path_ok = path.is_empty()
        || path
            .split('/')
            .all(|seg| !seg.is_empty() && seg.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    (path_ok && name.chars().all(is_session_char)).then_some(name)
}

fn is_session_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn is_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len()) && name.chars().all(is_session_char)
}

/// Replaces what STS does not allow with `-`, and cuts to 64 characters.
pub fn sanitize_session_name(raw: &str) -> String {
    let mut name: String = raw
        .chars()
        .map(|c| if is_session_char(c) { c } else { '-' })
        .take(64)
        .collect();
    while name.len() < 2 {
        name.push('-');
    }
    name
}

/// `vercel-<project>-<environment>`, from the token's claims.
pub fn default_session_name(claims: &Claims) -> String {
    sanitize_session_name(&claims.label())
}

/// AWS in the list of clouds ([`crate::clouds`]).
pub struct Aws;

impl crate::cloud::Cloud for Aws {
    fn table(&self) -> &'static crate::settings::Table {
        &settings::TABLE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::decode_claims;
    use crate::token::tests::{claims_json, jwt, key_follows_identity};
    use crate::vars;

    const ROLE: &str = "arn:aws:iam::123456789012:role/deploy";

    fn env() -> Env {
        Env::from_pairs([(vars::AWS_REGION, "eu-west-1")], "/")
    }

    /// The role, and `pairs` as if given by flags.
    fn config(pairs: &[(&str, &str)], env: &Env) -> Result<AwsConfig, ConfigError> {
        let mut all = vec![("role_arn", ROLE)];
        all.extend_from_slice(pairs);
        let r = crate::settings::resolved_from(&settings::TABLE, &all, env);
        AwsConfig::from_settings(&r, env)
    }

    #[test]
    fn session_names() {
        for (raw, want) in [
            ("vercel-web-production", "vercel-web-production"),
            ("vercel-my app/x-preview", "vercel-my-app-x-preview"),
            ("vercel-ünï", "vercel--n-"),
            ("a", "a-"),
            (&"x".repeat(80), &"x".repeat(64)),
        ] {
            assert_eq!(sanitize_session_name(raw), want, "{raw}");
        }
        let claims = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        assert_eq!(default_session_name(&claims), "vercel-web-production");
    }

    #[test]
    fn iam_arn_grammar() {
        for (arn, role, policy) in [
            ("arn:aws:iam::123456789012:role/deploy", true, false),
            ("arn:aws:iam::123456789012:role/ci/team/deploy", true, false),
            ("arn:aws-cn:iam::123456789012:role/d+=,.@_-", true, false),
            ("arn:aws-us-gov:iam::123456789012:role/d", true, false),
            ("arn:aws:iam::aws:policy/ReadOnlyAccess", false, true),
            ("arn:aws:iam::123456789012:policy/team/Mine", false, true),
            ("arn:aws:iam::123456789012:role/", false, false),
            (
                "arn:aws:iam::123456789012:role/a\n[profile default]",
                false,
                false,
            ),
            ("arn:aws:iam::123456789012:role/ci\n/deploy", false, false),
            ("arn:aws:iam::123456789012:role/ci//deploy", false, false),
            ("arn:aws:iam::123456789012:role/de ploy", false, false),
            ("arn:aws:iam::123456789012:role/d'x", false, false),
            ("arn:awsx:iam::123456789012:role/d", false, false),
            ("arn:aws:sts::123456789012:role/d", false, false),
            ("arn:aws:iam:us-east-1:123456789012:role/d", false, false),
            ("arn:aws:iam::12345678901:role/d", false, false),
            ("arn:aws:iam::aws:role/d", false, false),
            ("arn:aws:iam::123456789012:user/d", false, false),
            ("arn:aws:iam::123456789012:policy/x\ty", false, false),
        ] {
            assert_eq!(is_role_arn(arn), role, "role {arn:?}");
            assert_eq!(is_policy_arn(arn), policy, "policy {arn:?}");
        }
        let long = format!("arn:aws:iam::123456789012:role/{}", "x".repeat(65));
        assert!(!is_role_arn(&long));
    }

    #[test]
    fn defaults() {
        let cfg = config(&[], &env()).unwrap();
        assert_eq!(cfg.duration_seconds, 3600);
        assert_eq!(cfg.endpoint.url, "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(cfg.min_remaining(), Duration::minutes(20));
    }

    #[test]
    fn option_errors() {
        let no_role = crate::settings::resolved_from(&settings::TABLE, &[], &env());
        let err = AwsConfig::from_settings(&no_role, &env()).unwrap_err();
        assert!(err.to_string().starts_with("no role to assume"), "{err}");
        let many = ["arn:aws:iam::aws:policy/A"; 11].join(",");
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (
                vec![("role_arn", "deploy")],
                "`deploy` is not an IAM role ARN",
            ),
            (
                vec![("role_arn", "arn:aws:iam::123:role/x")],
                "`arn:aws:iam::123:role/x` is not an IAM role ARN",
            ),
            (
                vec![("session_name", "bad name")],
                "session name `bad name` is not allowed",
            ),
            (
                vec![("duration_seconds", "60")],
                "duration 60s is out of range",
            ),
            (
                vec![("duration_seconds", "43201")],
                "duration 43201s is out of range",
            ),
            (
                vec![("policy_arns", many.as_str())],
                "11 session policy ARNs",
            ),
            (
                vec![("policy_arns", "ReadOnly")],
                "`ReadOnly` is not an IAM policy ARN",
            ),
            (
                vec![("policy", "{not json")],
                "the session policy from --policy is not valid JSON",
            ),
            (
                vec![("policy", "@/nonexistent/p.json")],
                "cannot read the session policy file `/nonexistent/p.json`",
            ),
            (
                vec![("region", "Mars 1")],
                "`Mars 1` is not an AWS region name",
            ),
            (
                vec![("duration_seconds", "long")],
                "`long` from --duration-seconds is not a whole number",
            ),
        ];
        for (pairs, want) in cases {
            let err = config(&pairs, &env()).unwrap_err().to_string();
            assert!(err.starts_with(want), "got {err:?}, want {want:?}");
            assert!(
                err.contains('\n'),
                "every message ends with what to do: {err}"
            );
        }
        let err = config(&[], &env())
            .unwrap()
            .with_endpoint_url("http://sts.example.com")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot use the STS endpoint"), "{err}");
    }

    #[test]
    fn policy_from_file_is_minified() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("p.json"),
            "{\n  \"Version\": \"2012-10-17\"\n}\n",
        )
        .unwrap();
        let env = Env::from_pairs::<&str, &str>([], dir.path());
        let cfg = config(&[("policy", "@p.json")], &env).unwrap();
        assert_eq!(cfg.policy.as_deref(), Some(r#"{"Version":"2012-10-17"}"#));
    }

    #[test]
    fn cache_key_covers_identity_and_request() {
        let cfg = config(&[], &env()).unwrap();
        let key = |c: &Claims, cfg: &AwsConfig| cache_key(&cfg.request(c), &cfg.endpoint, c);
        let (base, k0) = key_follows_identity(|c| key(c, &cfg));
        let mut other = cfg.clone();
        other.duration_seconds = 900;
        assert_ne!(key(&base, &other), k0);
        let mut other = cfg.clone();
        other.endpoint.url = "https://sts.us-east-1.amazonaws.com".into();
        assert_ne!(key(&base, &other), k0);
        let mut other = cfg.clone();
        other.policy_arns = vec!["arn:aws:iam::aws:policy/A".into()];
        assert_ne!(key(&base, &other), k0);
    }
}
