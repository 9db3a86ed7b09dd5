//! AWS: trade the Vercel token for temporary credentials with STS `AssumeRoleWithWebIdentity`.
//!
//! Settings, each from a flag or an environment variable (the CLI names them):
//! - role ARN (`AWS_ROLE_ARN`, the name Vercel's AWS guide uses), required;
//! - session name, default `vercel-<project>-<environment>` from the token, sanitised to STS's
//!   `[\w+=,.@-]{2,64}`;
//! - duration (900–43200 s, default 3600), session policy ARNs (up to 10), an inline session
//!   policy (JSON, or `@file`);
//! - the STS endpoint: see [`endpoint`].
//!
//! The cache key covers everything that changes the result: role, session name, duration,
//! policies, endpoint, and the token's identity (issuer, subject, audience, owner, project,
//! environment), so a token for another project or environment never gets old credentials.

pub mod config_file;
pub mod container;
pub mod endpoint;
pub mod provider;
pub mod sts;
pub mod trust;

use std::path::PathBuf;

use serde::Serialize;
use time::Duration;

pub use endpoint::StsEndpoint;
pub use provider::VercelOidcCredentialsProvider;
pub use sts::{AssumeRoleRequest, AwsCredentials, StsClient, StsError, region_env_vars};

use crate::cache;
use crate::env::Env;
use crate::token::{Claims, Identity};

pub const DEFAULT_DURATION_SECONDS: u32 = 3600;

/// Settings as given, before checking.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    pub duration_seconds: Option<u32>,
    pub region: Option<String>,
    pub policy_arns: Vec<String>,
    /// Inline JSON, or `@path` to read it from a file.
    pub policy: Option<String>,
    /// Overrides the endpoint resolution of [`endpoint::resolve`].
    pub endpoint_url: Option<String>,
}

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
}

impl crate::problem::Explain for ConfigError {
    fn explain(&self) -> crate::problem::Explanation {
        use crate::problem::Explanation as E;
        match self {
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

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&crate::problem::Explain::explain(self), f)
    }
}

impl From<endpoint::EndpointError> for ConfigError {
    fn from(error: endpoint::EndpointError) -> Self {
        Self::Region(error)
    }
}

impl AwsConfig {
    /// Checks `opts`, reading an `@file` policy and resolving the endpoint from `env`.
    pub fn from_options(opts: &AwsOptions, env: &Env) -> Result<Self, ConfigError> {
        let role_arn = opts
            .role_arn
            .clone()
            .filter(|r| !r.trim().is_empty())
            .ok_or(ConfigError::MissingRole)?;
        let role_arn = role_arn.trim().to_string();
        check_role_arn(&role_arn)?;
        if let Some(name) = &opts.session_name {
            check_session_name(name)?;
        }
        let duration_seconds = opts.duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS);
        check_duration(duration_seconds)?;
        check_policy_arns(&opts.policy_arns)?;
        let policy = opts
            .policy
            .as_deref()
            .map(|p| read_policy(p, env))
            .transpose()?;
        let mut endpoint = endpoint::resolve(env, opts.region.as_deref())?;
        if let Some(url) = &opts.endpoint_url {
            endpoint.url = url.clone();
        }
        crate::http::check_endpoint(&endpoint.url).map_err(ConfigError::Endpoint)?;
        Ok(Self {
            role_arn,
            session_name: opts.session_name.clone(),
            duration_seconds,
            policy_arns: opts.policy_arns.clone(),
            policy,
            endpoint,
        })
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
pub fn cache_key(req: &AssumeRoleRequest, endpoint: &StsEndpoint, claims: &Claims) -> cache::Key {
    #[derive(Serialize)]
    struct Parts<'a> {
        v: u8,
        req: &'a AssumeRoleRequest,
        endpoint: &'a str,
        #[serde(flatten)]
        identity: Identity<'a>,
    }
    cache::Key::new(
        "aws",
        &Parts {
            v: 1,
            req,
            endpoint: &endpoint.url,
            identity: claims.identity(),
        },
    )
}

fn read_policy(value: &str, env: &Env) -> Result<String, ConfigError> {
    let (text, origin) = match value.strip_prefix('@') {
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
        None => (value.to_string(), "--policy".to_string()),
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| ConfigError::PolicyJson { origin, error })?;
    Ok(json.to_string())
}

/// Each setting's own check, as [`AwsConfig::from_options`] makes it; `vercel-oidc.toml` runs
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::decode_claims;
    use crate::token::tests::{claims_json, jwt};

    const ROLE: &str = "arn:aws:iam::123456789012:role/deploy";

    fn opts() -> AwsOptions {
        AwsOptions {
            role_arn: Some(ROLE.into()),
            ..AwsOptions::default()
        }
    }

    fn env() -> Env {
        Env::from_pairs([("AWS_REGION", "eu-west-1")], "/")
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
        let cfg = AwsConfig::from_options(&opts(), &env()).unwrap();
        assert_eq!(cfg.duration_seconds, 3600);
        assert_eq!(cfg.endpoint.url, "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(cfg.min_remaining(), Duration::minutes(20));
    }

    #[test]
    fn option_errors() {
        let cases: Vec<(AwsOptions, &str)> = vec![
            (AwsOptions::default(), "no role to assume"),
            (
                AwsOptions {
                    role_arn: Some("deploy".into()),
                    ..opts()
                },
                "`deploy` is not an IAM role ARN",
            ),
            (
                AwsOptions {
                    role_arn: Some("arn:aws:iam::123:role/x".into()),
                    ..opts()
                },
                "`arn:aws:iam::123:role/x` is not an IAM role ARN",
            ),
            (
                AwsOptions {
                    session_name: Some("bad name".into()),
                    ..opts()
                },
                "session name `bad name` is not allowed",
            ),
            (
                AwsOptions {
                    duration_seconds: Some(60),
                    ..opts()
                },
                "duration 60s is out of range",
            ),
            (
                AwsOptions {
                    duration_seconds: Some(43201),
                    ..opts()
                },
                "duration 43201s is out of range",
            ),
            (
                AwsOptions {
                    policy_arns: vec!["arn:aws:iam::aws:policy/A".into(); 11],
                    ..opts()
                },
                "11 session policy ARNs",
            ),
            (
                AwsOptions {
                    policy_arns: vec!["ReadOnly".into()],
                    ..opts()
                },
                "`ReadOnly` is not an IAM policy ARN",
            ),
            (
                AwsOptions {
                    policy: Some("{not json".into()),
                    ..opts()
                },
                "the session policy from --policy is not valid JSON",
            ),
            (
                AwsOptions {
                    policy: Some("@/nonexistent/p.json".into()),
                    ..opts()
                },
                "cannot read the session policy file `/nonexistent/p.json`",
            ),
            (
                AwsOptions {
                    region: Some("Mars 1".into()),
                    ..opts()
                },
                "`Mars 1` is not an AWS region name",
            ),
            (
                AwsOptions {
                    endpoint_url: Some("http://sts.example.com".into()),
                    ..opts()
                },
                "cannot use the STS endpoint",
            ),
        ];
        for (o, want) in cases {
            let err = AwsConfig::from_options(&o, &env()).unwrap_err().to_string();
            assert!(err.starts_with(want), "got {err:?}, want {want:?}");
            assert!(
                err.contains('\n'),
                "every message ends with what to do: {err}"
            );
        }
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
        let cfg = AwsConfig::from_options(
            &AwsOptions {
                policy: Some("@p.json".into()),
                ..opts()
            },
            &env,
        )
        .unwrap();
        assert_eq!(cfg.policy.as_deref(), Some(r#"{"Version":"2012-10-17"}"#));
    }

    #[test]
    fn cache_key_covers_identity_and_request() {
        let cfg = AwsConfig::from_options(&opts(), &env()).unwrap();
        let base = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        let key = |c: &Claims, cfg: &AwsConfig| cache_key(&cfg.request(c), &cfg.endpoint, c);
        let k0 = key(&base, &cfg);
        let later = decode_claims(&jwt(&claims_json(2_000_000_900))).unwrap();
        assert_eq!(
            key(&later, &cfg),
            k0,
            "a newer token of the same identity shares the entry"
        );
        let mut preview = claims_json(2_000_000_000);
        preview["environment"] = serde_json::json!("preview");
        preview["sub"] = serde_json::json!("owner:acme:project:web:environment:preview");
        assert_ne!(key(&decode_claims(&jwt(&preview)).unwrap(), &cfg), k0);
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
