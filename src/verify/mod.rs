//! Verify a Vercel OIDC token completely, for an API that trusts Vercel's tokens.
//!
//! Checks, in this order; the first that fails is the answer:
//! 1. shape: three base64url parts, a JSON header;
//! 2. algorithm: the header's `alg` must be `RS256`. `none`, the HMAC family (including an HS256
//!    token keyed with the issuer's public key) and every other algorithm are refused here, before
//!    any key is looked up or fetched. A `crit` header is refused too: no extension is understood;
//! 3. key: the header's `kid` must name a key in the issuer's JWKS;
//! 4. signature: RS256 over the first two parts (`jsonwebtoken`, RustCrypto backend);
//! 5. claims: `iss` equals the trusted issuer exactly (one trailing slash on either side is
//!    ignored; surrounding blanks, a doubled slash or any other difference are not) and `aud`
//!    holds the audience; `exp` has not passed and `nbf` has, each within the leeway (default
//!    60 s, at most 300 s); then each optional constraint: `sub`, `owner_id`, `owner`,
//!    `project_id`, `project`, `environment`, each met by any one of its given values.
//!
//! Requests: `GET`, `Accept: application/json`, through `crate::http::fetch` (give the
//! verifier a client from `crate::http::document_client`); network errors, HTTP 429 and 5xx
//! are retried with backoff for at most 5 seconds. No token is ever sent.
//! - `<issuer>/.well-known/openid-configuration`: its `issuer` must equal the trusted issuer, and
//!   its `jwks_uri` (https, or http to this machine) is where the keys are;
//! - `<jwks_uri>`: the signing keys. Only RSA keys with a `kid`, meant for signatures (`use` absent
//!   or `sig`, `alg` absent or `RS256`), of 2048 to 4096 bits, are kept.
//!
//! Responses over 1 MiB, or that end up (after redirects) on plain http off this machine, are
//! refused; so is a redirect the client did not follow (its `Location` is named).
//!
//! File: the discovered `jwks_uri` and the keys are cached in the shared cache directory
//! (`crate::cache`) as `jwks-<hash of the issuer>.json`, for as long as the JWKS response's
//! `Cache-Control: max-age` says, bounded to 1 minute – 1 hour (10 minutes without one). While it
//! is fresh, verifying makes no request at all. A token whose `kid` is not among the cached keys
//! makes one refetch of the JWKS that bypasses the cache (Vercel rotated its keys); a `kid` missing
//! from keys fetched in the same run fails at once. Such refetches are bounded: at most one per
//! issuer every [`UNKNOWN_KID_REFETCH_INTERVAL`] (30 s); an unknown `kid` within 30 s of the last
//! refetch fails at once from the cached keys (a negative cache), so tokens naming random key
//! ids cannot make every check a request, and a real rotation is seen at most 30 s late.
//! Processes that miss the cache together fetch once between them. A corrupt entry is a miss.
//!
//! Environment variables, read by the CLI and passed here as [`VerifyOptions`]:
//! `VERCEL_OIDC_VERIFY_ISSUER` and `VERCEL_OIDC_VERIFY_AUDIENCE` (required),
//! `VERCEL_OIDC_VERIFY_LEEWAY`, and the optional constraints `VERCEL_OIDC_VERIFY_SUB`,
//! `VERCEL_OIDC_VERIFY_OWNER_ID`, `VERCEL_OIDC_VERIFY_OWNER`, `VERCEL_OIDC_VERIFY_PROJECT_ID`,
//! `VERCEL_OIDC_VERIFY_PROJECT`, `VERCEL_OIDC_VERIFY_ENVIRONMENT` (comma-separated lists);
//! `VERCEL_OIDC_NO_CACHE`. The cache directory comes from `VERCEL_OIDC_CACHE_DIR`,
//! `XDG_CACHE_HOME` or `HOME`, the HTTP set-up from `SSL_CERT_FILE` and the proxy variables.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::cache::{self, Cache};
use crate::http::HttpSetupError;
use crate::http::RetryPolicy;
use crate::timefmt;
use crate::token::Claims;

/// The only signature algorithm Vercel uses, and the only one accepted.
pub const ALGORITHM: &str = "RS256";
pub const DEFAULT_LEEWAY_SECONDS: u64 = 60;
/// A larger leeway would quietly accept tokens that expired minutes ago.
pub const MAX_LEEWAY_SECONDS: u64 = 300;
/// How long keys stay cached when the JWKS response says nothing.
pub const DEFAULT_JWKS_TTL: Duration = Duration::minutes(10);
pub const MIN_JWKS_TTL: Duration = Duration::minutes(1);
/// Bounds how long a key the issuer has withdrawn can still be trusted.
pub const MAX_JWKS_TTL: Duration = Duration::hours(1);
/// A `kid` not in the cached keys refetches the JWKS at most this often per issuer.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::seconds(30);

const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 4096;
const DISCOVERY: &str = "the OpenID configuration";
const JWKS: &str = "the JWKS";

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
    fn label(self) -> &'static str {
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

    fn value(self, claims: &Claims) -> Option<&str> {
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
        let issuer = non_empty(opts.issuer.as_deref()).ok_or(ConfigError::MissingIssuer)?;
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
        let audience = non_empty(opts.audience.as_deref())
            .ok_or(ConfigError::MissingAudience)?
            .to_string();
        let leeway = opts.leeway_seconds.unwrap_or(DEFAULT_LEEWAY_SECONDS);
        if leeway > MAX_LEEWAY_SECONDS {
            return Err(ConfigError::BadLeeway(leeway));
        }
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
        Ok(Self {
            issuer,
            audience,
            leeway: Duration::seconds(leeway as i64),
            constraints,
        })
    }

    /// Where the issuer publishes its OpenID configuration.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }
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

/// Why a token was not accepted, or could not be checked. Each names the failing check.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "malformed token: {0}\n  pass the JWT exactly as Vercel issued it: three base64url parts joined by dots"
    )]
    Malformed(String),

    #[error(
        "algorithm not allowed: expected `RS256` (found `{found}`)\n  Vercel signs every token with RS256; this token was not issued by Vercel, or was forged"
    )]
    Algorithm { found: String },

    #[error(
        "no key id: the token's header has no `kid`\n  Vercel names its signing key in every token; this token was not issued by Vercel"
    )]
    MissingKeyId,

    #[error(
        "unknown signing key: expected a `kid` of the JWKS at `{jwks_uri}`, one of {known} (found `{kid}`)\n  the token was not signed by this issuer's keys: check --issuer against the token's `iss` claim"
    )]
    UnknownKey {
        kid: String,
        jwks_uri: String,
        known: String,
    },

    #[error(
        "bad signature: expected a signature by key `{kid}` of `{issuer}` (found one that does not match the token)\n  the token was altered after it was issued, or signed by another key; use it exactly as Vercel issued it"
    )]
    Signature { kid: String, issuer: String },

    #[error("invalid claims: {0}\n  the token is signed but not shaped like a Vercel OIDC token")]
    Claims(String),

    #[error("issuer mismatch: expected `{expected}` (found `{found}`)\n  {hint}")]
    Issuer {
        expected: String,
        found: String,
        hint: &'static str,
    },

    #[error(
        "audience mismatch: expected `{expected}` (found {found})\n  pass the audience the token carries with --audience (Vercel's default is `https://vercel.com/<team>`)"
    )]
    Audience { expected: String, found: String },

    #[error(
        "token expired: `exp` is {at} ({when}), beyond the {leeway}s leeway\n  get a fresh token: build and function tokens last about an hour, `vercel env pull` ones about 12 hours"
    )]
    Expired {
        at: String,
        when: String,
        leeway: i64,
    },

    #[error(
        "token not yet valid: `nbf` is {at} ({when}), beyond the {leeway}s leeway\n  check this machine's clock; --leeway allows for a little skew"
    )]
    NotYetValid {
        at: String,
        when: String,
        leeway: i64,
    },

    #[error(
        "{label} mismatch: expected {expected} (found {found})\n  the token is for another {label}; {flag} names the ones to accept"
    )]
    Constraint {
        label: &'static str,
        flag: &'static str,
        expected: String,
        found: String,
    },

    #[error(
        "discovery issuer mismatch: expected `{expected}` (found `{found}` in `{url}`)\n  pass --issuer exactly as the issuer names itself"
    )]
    DiscoveryIssuer {
        expected: String,
        found: String,
        url: String,
    },

    #[error("cannot fetch {what} from `{url}`: {detail}\n  {hint}")]
    Fetch {
        what: &'static str,
        url: String,
        detail: String,
        transient: bool,
        hint: &'static str,
    },

    #[error(
        "{what} at `{url}` is unusable: {detail}\n  check that --issuer names a Vercel OIDC issuer, e.g. `https://oidc.vercel.com/acme`"
    )]
    BadDocument {
        what: &'static str,
        url: String,
        detail: String,
    },
}

impl VerifyError {
    /// Whether trying the same request again may help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Fetch {
                transient: true,
                ..
            }
        )
    }
}

/// A token whose signature and claims all held.
#[derive(Clone, Debug)]
pub struct VerifiedToken {
    /// Every claim of the token, as signed.
    pub payload: serde_json::Value,
    pub claims: Claims,
    /// The key that signed it.
    pub kid: String,
}

/// An RSA public key from the issuer's JWKS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct RsaKey {
    kid: String,
    /// Modulus and exponent, base64url as in the JWKS.
    n: String,
    e: String,
}

/// What is cached per issuer.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct KeySet {
    jwks_uri: String,
    /// Tells one fetch from another, so that a process that waited on the lock can see that
    /// another has just fetched the keys again.
    fetch_id: u64,
    keys: Vec<RsaKey>,
    /// When (Unix seconds) these keys were last fetched again for an unknown `kid`; none after
    /// a plain fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refetched_at: Option<i64>,
}

impl KeySet {
    fn find(&self, kid: &str) -> Option<&RsaKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    fn unknown(&self, kid: &str) -> VerifyError {
        VerifyError::UnknownKey {
            kid: shown(kid),
            jwks_uri: self.jwks_uri.clone(),
            known: backticked(self.keys.iter().map(|k| k.kid.as_str())),
        }
    }
}

/// Verifies tokens against one issuer, with the HTTP client, cache and clock it is given.
pub struct Verifier {
    config: VerifyConfig,
    http: reqwest::Client,
    cache: Option<Cache>,
    retry: RetryPolicy,
    clock: Box<dyn Fn() -> OffsetDateTime + Send + Sync>,
}

impl Verifier {
    /// A verifier configured from `env`: its proxy and CA settings, and the shared key cache
    /// when there is one to trust (else keys are fetched on every call).
    pub fn for_env(config: VerifyConfig, env: &crate::Env) -> Result<Self, HttpSetupError> {
        let http = crate::http::document_client(env)?;
        let cache = Cache::for_env(env).filter(|c| c.check().is_ok());
        Ok(Self::new(config, http, cache))
    }

    /// A verifier that caches keys in `cache` (none: fetch them on every call) and reads the
    /// system clock.
    pub(crate) fn new(config: VerifyConfig, http: reqwest::Client, cache: Option<Cache>) -> Self {
        Self {
            config,
            http,
            cache,
            retry: RetryPolicy::default(),
            clock: Box::new(OffsetDateTime::now_utc),
        }
    }

    /// Uses `clock` for `exp`, `nbf` and cache freshness.
    pub fn with_clock(
        mut self,
        clock: impl Fn() -> OffsetDateTime + Send + Sync + 'static,
    ) -> Self {
        self.clock = Box::new(clock);
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn config(&self) -> &VerifyConfig {
        &self.config
    }

    /// Runs every check of the module docs on `token`.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let token = token.trim();
        let kid = parse_header(token)?;
        let key = self.signing_key(&kid).await?;
        let payload = check_signature(token, &key, &self.config.issuer)?;
        let claims = parse_claims(&payload)?;
        check_claims(&self.config, &claims, (self.clock)())?;
        crate::debug!(
            "verified: signed by key `{}` of {}; every claim holds",
            shown(&kid),
            self.config.issuer
        );
        Ok(VerifiedToken {
            payload,
            claims,
            kid,
        })
    }

    fn cache_key(&self) -> cache::Key {
        cache::Key::new("jwks", &(1u8, &self.config.issuer))
    }

    /// The key named `kid`: from the cache when it holds it, else from the issuer (see the
    /// module docs for when a fetch happens).
    async fn signing_key(&self, kid: &str) -> Result<RsaKey, VerifyError> {
        let Some(cache) = &self.cache else {
            let (set, _) = self.fetch_key_set().await?;
            return set.find(kid).cloned().ok_or_else(|| set.unknown(kid));
        };
        let key = self.cache_key();
        if let Some(cached) = cache.get::<KeySet>(&key, (self.clock)(), Duration::ZERO) {
            if let Some(found) = cached.find(kid) {
                crate::debug!("key `{}` found in the cached JWKS", shown(kid));
                return Ok(found.clone());
            }
            let now = (self.clock)().unix_timestamp();
            if let Some(at) = cached.refetched_at
                && (at..at + UNKNOWN_KID_REFETCH_INTERVAL.whole_seconds()).contains(&now)
            {
                crate::debug!(
                    "key `{}` is not in the JWKS fetched again {}s ago; it is fetched again at most every {}s",
                    shown(kid),
                    now - at,
                    UNKNOWN_KID_REFETCH_INTERVAL.whole_seconds()
                );
                return Err(cached.unknown(kid));
            }
            crate::debug!(
                "key `{}` is not in the cached JWKS; fetching `{}` again in case the keys rotated",
                shown(kid),
                cached.jwks_uri
            );
            let _lock = cache.lock(&key);
            if let Some(newer) = cache.get::<KeySet>(&key, (self.clock)(), Duration::ZERO)
                && newer.fetch_id != cached.fetch_id
            {
                crate::debug!("another process has just fetched the JWKS again");
                return newer.find(kid).cloned().ok_or_else(|| newer.unknown(kid));
            }
            let (keys, ttl) = self.fetch_jwks(&cached.jwks_uri).await?;
            let set = self.store(cache, &key, cached.jwks_uri, keys, ttl, Some(now));
            return set.find(kid).cloned().ok_or_else(|| set.unknown(kid));
        }
        let _lock = cache.lock(&key);
        let set = match cache.get::<KeySet>(&key, (self.clock)(), Duration::ZERO) {
            Some(set) => {
                crate::debug!("another process has just fetched the JWKS");
                set
            }
            None => {
                let (set, ttl) = self.fetch_key_set().await?;
                self.store(cache, &key, set.jwks_uri, set.keys, ttl, None)
            }
        };
        set.find(kid).cloned().ok_or_else(|| set.unknown(kid))
    }

    fn store(
        &self,
        cache: &Cache,
        key: &cache::Key,
        jwks_uri: String,
        keys: Vec<RsaKey>,
        ttl: Duration,
        refetched_at: Option<i64>,
    ) -> KeySet {
        let set = KeySet {
            jwks_uri,
            fetch_id: fastrand::u64(..),
            keys,
            refetched_at,
        };
        if let Err(e) = cache.put(key, &set, (self.clock)() + ttl) {
            crate::debug!(
                "could not cache the JWKS in `{}`: {e}",
                cache.dir().display()
            );
        }
        set
    }

    /// Discovery, then the JWKS it names.
    async fn fetch_key_set(&self) -> Result<(KeySet, Duration), VerifyError> {
        let url = self.config.discovery_url();
        let (body, _) = self.get(DISCOVERY, &url).await?;
        let jwks_uri = parse_discovery(&body, &url, &self.config.issuer)?;
        let (keys, ttl) = self.fetch_jwks(&jwks_uri).await?;
        let set = KeySet {
            jwks_uri,
            fetch_id: 0,
            keys,
            refetched_at: None,
        };
        Ok((set, ttl))
    }

    async fn fetch_jwks(&self, url: &str) -> Result<(Vec<RsaKey>, Duration), VerifyError> {
        let (body, cache_control) = self.get(JWKS, url).await?;
        let keys = parse_jwks(&body, url)?;
        let ttl = jwks_ttl(cache_control.as_deref());
        crate::debug!(
            "{} usable key(s) in the JWKS ({}), kept for {}",
            keys.len(),
            backticked(keys.iter().map(|k| k.kid.as_str())),
            timefmt::human(ttl)
        );
        Ok((keys, ttl))
    }

    /// The body and `Cache-Control` of a successful `GET url`, retried when transient.
    async fn get(
        &self,
        what: &'static str,
        url: &str,
    ) -> Result<(Vec<u8>, Option<String>), VerifyError> {
        crate::debug!("fetching {what} from {url}");
        self.retry
            .run(VerifyError::is_transient, |attempt| async move {
                crate::trace!("{what}: attempt {attempt}");
                self.get_once(what, url, attempt.time_left).await
            })
            .await
    }

    async fn get_once(
        &self,
        what: &'static str,
        url: &str,
        time_left: std::time::Duration,
    ) -> Result<(Vec<u8>, Option<String>), VerifyError> {
        let fetch_error = |detail: String, transient: bool| VerifyError::Fetch {
            what,
            url: url.to_string(),
            detail,
            transient,
            hint: fetch_hint(what, None),
        };
        let request = self
            .http
            .get(url)
            .timeout(time_left)
            .header(reqwest::header::ACCEPT, "application/json");
        let received = match crate::http::fetch(request).await {
            Ok(received) => received,
            Err(crate::http::ReceiveError::Network { detail, transient }) => {
                return Err(fetch_error(detail, transient));
            }
            Err(crate::http::ReceiveError::TooLarge { .. }) => {
                return Err(VerifyError::BadDocument {
                    what,
                    url: url.to_string(),
                    detail: "it is larger than 1 MiB".into(),
                });
            }
            Err(redirect @ crate::http::ReceiveError::Redirect { .. }) => {
                return Err(fetch_error(redirect.to_string(), false));
            }
        };
        let status = reqwest::StatusCode::from_u16(received.status)
            .unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR);
        crate::trace!("{what}: HTTP {status}");
        if !status.is_success() {
            return Err(VerifyError::Fetch {
                what,
                url: url.to_string(),
                detail: format!("HTTP {status}"),
                transient: status.is_server_error() || status.as_u16() == 429,
                hint: fetch_hint(what, Some(status.as_u16())),
            });
        }
        if let Err(e) = crate::http::check_endpoint(received.url.as_str()) {
            return Err(fetch_error(format!("redirected: {e}"), false));
        }
        let cache_control = received
            .headers
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok((received.body, cache_control))
    }
}

fn fetch_hint(what: &'static str, status: Option<u16>) -> &'static str {
    match (what, status) {
        (DISCOVERY, Some(404)) => {
            "no OpenID configuration there: check that --issuer is the issuer itself, e.g. `https://oidc.vercel.com/acme`"
        }
        (DISCOVERY, _) => "check --issuer, the network, and HTTPS_PROXY/NO_PROXY",
        (_, Some(404)) => {
            "the issuer's configuration names a JWKS that does not exist; check --issuer"
        }
        _ => "check the network and HTTPS_PROXY/NO_PROXY",
    }
}

/// Checks the header and returns the key id. The algorithm is checked first, so that a token
/// with any other algorithm is refused before a key is looked up.
fn parse_header(token: &str) -> Result<String, VerifyError> {
    let malformed = |reason: &str| VerifyError::Malformed(reason.to_string());
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(VerifyError::Malformed(format!(
            "it has {} part(s), not 3",
            parts.len()
        )));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(parts[0])
        .map_err(|_| malformed("its header is not base64url"))?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| malformed("its header is not a JSON object"))?;
    let alg = match header.get("alg") {
        Some(serde_json::Value::String(alg)) => alg,
        Some(_) => return Err(malformed("its header's `alg` is not a string")),
        None => return Err(malformed("its header has no `alg`")),
    };
    if alg != ALGORITHM {
        return Err(VerifyError::Algorithm { found: shown(alg) });
    }
    if let Some(crit) = header.get("crit") {
        return Err(VerifyError::Malformed(format!(
            "its header marks extensions critical (`crit`: {}), and none is supported",
            shown(&crit.to_string())
        )));
    }
    match header.get("kid") {
        Some(serde_json::Value::String(kid)) if !kid.is_empty() => Ok(kid.clone()),
        _ => Err(VerifyError::MissingKeyId),
    }
}

/// Checks the RS256 signature with `key` and returns the payload it covers.
fn check_signature(
    token: &str,
    key: &RsaKey,
    issuer: &str,
) -> Result<serde_json::Value, VerifyError> {
    let decoding = DecodingKey::from_rsa_components(&key.n, &key.e)
        .map_err(|e| VerifyError::Malformed(format!("the issuer's key is unusable ({e})")))?;
    // Only the signature here: the claims are checked by `check_claims`, against an injectable
    // clock and with messages that say what was expected.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    match jsonwebtoken::decode::<serde_json::Value>(token, &decoding, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(match e.kind() {
            JwtErrorKind::InvalidSignature => VerifyError::Signature {
                kid: shown(&key.kid),
                issuer: issuer.to_string(),
            },
            JwtErrorKind::Base64(_) => {
                VerifyError::Malformed("its payload or signature is not base64url".into())
            }
            JwtErrorKind::Json(_) | JwtErrorKind::Utf8(_) => {
                VerifyError::Malformed("its payload is not JSON".into())
            }
            other => VerifyError::Malformed(format!("{other:?}")),
        }),
    }
}

/// Reads the signed payload as Vercel claims, with the right types.
fn parse_claims(payload: &serde_json::Value) -> Result<Claims, VerifyError> {
    let object = payload
        .as_object()
        .ok_or_else(|| VerifyError::Claims("the payload is not a JSON object".into()))?;
    for claim in ["iss", "sub", "aud", "exp"] {
        if !object.contains_key(claim) {
            return Err(VerifyError::Claims(format!("there is no `{claim}` claim")));
        }
    }
    serde_json::from_value(payload.clone())
        .map_err(|e| VerifyError::Claims(format!("a claim has the wrong type ({e})")))
}

/// Checks the claims of a signed token against `config` at time `now`.
fn check_claims(
    config: &VerifyConfig,
    claims: &Claims,
    now: OffsetDateTime,
) -> Result<(), VerifyError> {
    if !issuer_matches(&claims.iss, &config.issuer) {
        let near_miss = normalize_issuer(claims.iss.trim_end_matches('/')) == config.issuer;
        return Err(VerifyError::Issuer {
            expected: config.issuer.clone(),
            found: shown(&claims.iss),
            hint: if near_miss {
                "the token's `iss` differs from the issuer only by blanks or slashes, which Vercel never adds: the token was not issued by it"
            } else {
                "pass the issuer the token names with --issuer (team `https://oidc.vercel.com/<team>` or global `https://oidc.vercel.com`, as set in the team's Settings > Security)"
            },
        });
    }
    let audiences = claims.aud.values();
    if !audiences.contains(&config.audience.as_str()) {
        return Err(VerifyError::Audience {
            expected: config.audience.clone(),
            found: backticked(audiences.into_iter()),
        });
    }
    let leeway = config.leeway.whole_seconds();
    let at = |secs: i64| {
        let t = timefmt::from_unix_saturating(secs);
        (timefmt::rfc3339_z(t), timefmt::relative(t, now))
    };
    let now_secs = now.unix_timestamp();
    if now_secs >= claims.exp.saturating_add(leeway) {
        let (at, when) = at(claims.exp);
        return Err(VerifyError::Expired { at, when, leeway });
    }
    if let Some(nbf) = claims.nbf
        && nbf > now_secs.saturating_add(leeway)
    {
        let (at, when) = at(nbf);
        return Err(VerifyError::NotYetValid { at, when, leeway });
    }
    for constraint in &config.constraints {
        let claim = constraint.claim;
        let value = claim.value(claims);
        if value.is_some_and(|v| constraint.allowed.iter().any(|a| a == v)) {
            continue;
        }
        let expected = match constraint.allowed.as_slice() {
            [one] => format!("`{one}`"),
            many => format!("one of {}", backticked(many.iter().map(String::as_str))),
        };
        let found = match value {
            Some(v) => format!("`{}`", shown(v)),
            None => format!("no `{}` claim", claim.name()),
        };
        return Err(VerifyError::Constraint {
            label: claim.label(),
            flag: claim.flag(),
            expected,
            found,
        });
    }
    Ok(())
}

/// Reads the OpenID configuration and returns its `jwks_uri`.
fn parse_discovery(body: &[u8], url: &str, issuer: &str) -> Result<String, VerifyError> {
    let bad = |detail: &str| VerifyError::BadDocument {
        what: DISCOVERY,
        url: url.to_string(),
        detail: detail.to_string(),
    };
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|_| bad("it is not JSON"))?;
    let found = doc
        .get("issuer")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| bad("it has no `issuer`"))?;
    if !issuer_matches(found, issuer) {
        return Err(VerifyError::DiscoveryIssuer {
            expected: issuer.to_string(),
            found: shown(found),
            url: url.to_string(),
        });
    }
    let jwks_uri = doc
        .get("jwks_uri")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| bad("it has no `jwks_uri`"))?;
    crate::http::check_endpoint(jwks_uri)
        .map_err(|e| bad(&format!("its `jwks_uri` cannot be used: {e}")))?;
    Ok(jwks_uri.to_string())
}

/// Reads a JWKS, keeping the keys that can check an RS256 signature.
fn parse_jwks(body: &[u8], url: &str) -> Result<Vec<RsaKey>, VerifyError> {
    let bad = |detail: &str| VerifyError::BadDocument {
        what: JWKS,
        url: url.to_string(),
        detail: detail.to_string(),
    };
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|_| bad("it is not JSON"))?;
    let listed = doc
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| bad("it has no `keys` list"))?;
    let mut keys = Vec::new();
    for (i, jwk) in listed.iter().enumerate() {
        match rsa_key(jwk) {
            Ok(key) => keys.push(key),
            Err(why) => crate::debug!("skipping key {} of the JWKS: {why}", i + 1),
        }
    }
    if keys.is_empty() {
        return Err(bad(
            "it holds no RS256 signing key (RSA, 2048 to 4096 bits, with a `kid`)",
        ));
    }
    Ok(keys)
}

fn rsa_key(jwk: &serde_json::Value) -> Result<RsaKey, String> {
    let field = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
    if field("kty") != Some("RSA") {
        return Err("not an RSA key".into());
    }
    if field("use").is_some_and(|u| u != "sig") {
        return Err("not meant for signatures".into());
    }
    if field("alg").is_some_and(|a| a != ALGORITHM) {
        return Err("meant for another algorithm".into());
    }
    let kid = field("kid").filter(|k| !k.is_empty()).ok_or("no `kid`")?;
    let shown_kid = shown(kid);
    let (Some(n), Some(e)) = (field("n"), field("e")) else {
        return Err(format!("key `{shown_kid}` has no `n` or `e`"));
    };
    let modulus = URL_SAFE_NO_PAD
        .decode(n)
        .map_err(|_| format!("key `{shown_kid}`: `n` is not base64url"))?;
    let exponent = URL_SAFE_NO_PAD
        .decode(e)
        .map_err(|_| format!("key `{shown_kid}`: `e` is not base64url"))?;
    let bits = bit_length(&modulus);
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(format!("key `{shown_kid}` has {bits} bits"));
    }
    if bit_length(&exponent) < 2 {
        return Err(format!("key `{shown_kid}` has no usable exponent"));
    }
    Ok(RsaKey {
        kid: kid.to_string(),
        n: n.to_string(),
        e: e.to_string(),
    })
}

/// The number of significant bits of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        Some(i) => (bytes.len() - i) * 8 - bytes[i].leading_zeros() as usize,
        None => 0,
    }
}

/// How long to keep keys, from the JWKS response's `Cache-Control`: its `max-age` (`no-store`
/// and `no-cache` count as 0), within [`MIN_JWKS_TTL`] and [`MAX_JWKS_TTL`];
/// [`DEFAULT_JWKS_TTL`] without one.
pub fn jwks_ttl(cache_control: Option<&str>) -> Duration {
    let mut max_age = None;
    for directive in cache_control.unwrap_or("").split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-store" || directive == "no-cache" {
            max_age = Some(0);
            break;
        }
        if let Some(value) = directive.strip_prefix("max-age=") {
            max_age = value.trim_matches('"').parse::<i64>().ok().or(max_age);
        }
    }
    max_age
        .map(Duration::seconds)
        .unwrap_or(DEFAULT_JWKS_TTL)
        .clamp(MIN_JWKS_TTL, MAX_JWKS_TTL)
}

/// A value from a token or a server, made safe to print ([`crate::outside::escaped_within`]):
/// control and invisible characters escaped, at most 100 characters of output.
fn shown(value: &str) -> String {
    crate::outside::escaped_within(value, 100)
}

/// `` `a`, `b` `` or `none`.
fn backticked<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<String> = values.map(|v| format!("`{}`", shown(v))).collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

/// Drives the document and header parsers on any bytes, for [`crate::fuzzing::jwks`]: they
/// never panic, kept keys are usable RS256 keys, and a `jwks_uri` accepted is an endpoint that
/// may be fetched.
#[doc(hidden)]
pub(crate) fn fuzz_documents(data: &[u8]) {
    const URL: &str = "https://oidc.vercel.com/acme/.well-known/jwks";
    if let Ok(keys) = parse_jwks(data, URL) {
        assert!(!keys.is_empty());
        for key in keys {
            assert!(!key.kid.is_empty());
            let n = URL_SAFE_NO_PAD
                .decode(&key.n)
                .expect("a kept key's modulus decodes");
            assert!((MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bit_length(&n)));
        }
    }
    if let Ok(uri) = parse_discovery(data, URL, "https://oidc.vercel.com/acme") {
        assert!(crate::http::check_endpoint(&uri).is_ok());
    }
    let token = String::from_utf8_lossy(data);
    if let Ok(kid) = parse_header(&token) {
        assert!(!kid.is_empty());
    }
    let _ = jwks_ttl(Some(&token));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn opts() -> VerifyOptions {
        VerifyOptions {
            issuer: Some("https://oidc.vercel.com/acme".into()),
            audience: Some("https://vercel.com/acme".into()),
            ..VerifyOptions::default()
        }
    }

    fn config() -> VerifyConfig {
        VerifyConfig::from_options(&opts()).unwrap()
    }

    fn claims() -> Claims {
        serde_json::from_value(crate::token::tests::claims_json(2_000_000_000)).unwrap()
    }

    fn at(secs: i64) -> OffsetDateTime {
        timefmt::from_unix(secs).unwrap()
    }

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

        let cases: Vec<(VerifyOptions, &str)> = vec![
            (
                VerifyOptions {
                    issuer: None,
                    ..opts()
                },
                "no issuer to trust\n  pass --issuer or set VERCEL_OIDC_VERIFY_ISSUER",
            ),
            (
                VerifyOptions {
                    issuer: Some("  ".into()),
                    ..opts()
                },
                "no issuer to trust",
            ),
            (
                VerifyOptions {
                    issuer: Some("http://oidc.example.com/acme".into()),
                    ..opts()
                },
                "cannot use the issuer `http://oidc.example.com/acme` is plain http",
            ),
            (
                VerifyOptions {
                    issuer: Some("oidc.vercel.com/acme".into()),
                    ..opts()
                },
                "cannot use the issuer `oidc.vercel.com/acme` is not a URL",
            ),
            (
                VerifyOptions {
                    issuer: Some("https://oidc.vercel.com/acme?x=1".into()),
                    ..opts()
                },
                "cannot use the issuer `https://oidc.vercel.com/acme?x=1`: an issuer has no query",
            ),
            (
                VerifyOptions {
                    issuer: Some(
                        "https://oidc.vercel.com/acme/.well-known/openid-configuration".into(),
                    ),
                    ..opts()
                },
                "that is a document's address, not the issuer",
            ),
            (
                VerifyOptions {
                    issuer: Some("https://oidc.vercel.com/acme//".into()),
                    ..opts()
                },
                "cannot use the issuer `https://oidc.vercel.com/acme/`: an issuer has no empty path segment (`//`)",
            ),
            (
                VerifyOptions {
                    issuer: Some("https://oidc.vercel.com//acme".into()),
                    ..opts()
                },
                "an issuer has no empty path segment (`//`)",
            ),
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

    #[test]
    fn headers() {
        let token = |header: serde_json::Value| format!("{}.e30.c2ln", b64(&header));
        let cases: Vec<(String, Result<&str, &str>)> = vec![
            (
                token(serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})),
                Ok("k1"),
            ),
            (
                token(serde_json::json!({"alg": "none", "kid": "k1"})),
                Err("algorithm not allowed: expected `RS256` (found `none`)"),
            ),
            (
                token(serde_json::json!({"alg": "HS256", "kid": "k1"})),
                Err("algorithm not allowed: expected `RS256` (found `HS256`)"),
            ),
            (
                token(serde_json::json!({"alg": "RS512", "kid": "k1"})),
                Err("(found `RS512`)"),
            ),
            (
                token(serde_json::json!({"alg": "rs256", "kid": "k1"})),
                Err("(found `rs256`)"),
            ),
            (
                token(serde_json::json!({"alg": "HS256\u{1b}[2J"})),
                Err("(found `HS256\\x1b[2J`)"),
            ),
            (
                token(serde_json::json!({"kid": "k1"})),
                Err("malformed token: its header has no `alg`"),
            ),
            (
                token(serde_json::json!({"alg": 256})),
                Err("its header's `alg` is not a string"),
            ),
            (
                token(serde_json::json!({"alg": "RS256"})),
                Err("no key id: the token's header has no `kid`"),
            ),
            (
                token(serde_json::json!({"alg": "RS256", "kid": ""})),
                Err("no key id"),
            ),
            (
                token(serde_json::json!({"alg": "RS256", "kid": 7})),
                Err("no key id"),
            ),
            (
                token(serde_json::json!({"alg": "RS256", "kid": "k1", "crit": ["b64"]})),
                Err("its header marks extensions critical"),
            ),
            (
                format!("{}.e30", b64(&serde_json::json!({"alg": "RS256"}))),
                Err("malformed token: it has 2 part(s), not 3"),
            ),
            ("a.b.c.d".into(), Err("it has 4 part(s), not 3")),
            ("!!.e30.c2ln".into(), Err("its header is not base64url")),
            (
                format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode("[1]")),
                Err("its header is not a JSON object"),
            ),
        ];
        for (token, want) in cases {
            match (parse_header(&token), want) {
                (Ok(kid), Ok(want)) => assert_eq!(kid, want),
                (Err(err), Err(want)) => {
                    let err = err.to_string();
                    assert!(err.contains(want), "want {want:?}, got {err:?}");
                }
                (got, want) => panic!("{token}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn claim_checks() {
        let now = at(2_000_000_000 - 1800);
        let with = |f: &dyn Fn(&mut Claims)| {
            let mut c = claims();
            f(&mut c);
            c
        };
        let constrained = |o: VerifyOptions| VerifyConfig::from_options(&o).unwrap();
        let cases: Vec<(VerifyConfig, Claims, OffsetDateTime, Option<&str>)> = vec![
            (config(), claims(), now, None),
            (
                config(),
                with(&|c| c.iss = "https://oidc.vercel.com/acme/".into()),
                now,
                None,
            ),
            (
                config(),
                with(&|c| c.iss = "https://oidc.vercel.com/other".into()),
                now,
                Some(
                    "issuer mismatch: expected `https://oidc.vercel.com/acme` (found `https://oidc.vercel.com/other`)",
                ),
            ),
            (
                config(),
                with(&|c| c.iss = "https://oidc.vercel.com".into()),
                now,
                Some(
                    "issuer mismatch: expected `https://oidc.vercel.com/acme` (found `https://oidc.vercel.com`)",
                ),
            ),
            (
                config(),
                with(&|c| c.aud = crate::token::Audience::One("https://vercel.com/other".into())),
                now,
                Some(
                    "audience mismatch: expected `https://vercel.com/acme` (found `https://vercel.com/other`)",
                ),
            ),
            (
                config(),
                with(&|c| {
                    c.aud = crate::token::Audience::Many(vec![
                        "x".into(),
                        "https://vercel.com/acme".into(),
                    ])
                }),
                now,
                None,
            ),
            (
                config(),
                with(&|c| c.aud = crate::token::Audience::Many(vec!["x".into(), "y".into()])),
                now,
                Some("audience mismatch: expected `https://vercel.com/acme` (found `x`, `y`)"),
            ),
            // Expiry: valid until exp + leeway, exclusive.
            (config(), claims(), at(2_000_000_059), None),
            (
                config(),
                claims(),
                at(2_000_000_060),
                Some(
                    "token expired: `exp` is 2033-05-18T03:33:20Z (1m 0s ago), beyond the 60s leeway",
                ),
            ),
            (
                constrained(VerifyOptions {
                    leeway_seconds: Some(0),
                    ..opts()
                }),
                claims(),
                at(2_000_000_000),
                Some("token expired"),
            ),
            // Not before: valid from nbf - leeway.
            (config(), claims(), at(2_000_000_000 - 3600 - 60), None),
            (
                config(),
                claims(),
                at(2_000_000_000 - 3600 - 61),
                Some(
                    "token not yet valid: `nbf` is 2033-05-18T02:33:20Z (in 1m 1s), beyond the 60s leeway",
                ),
            ),
            (
                constrained(VerifyOptions {
                    project_ids: vec!["prj_other".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some("project id mismatch: expected `prj_other` (found `prj_123`)"),
            ),
            (
                constrained(VerifyOptions {
                    environments: vec!["preview".into(), "development".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some(
                    "environment mismatch: expected one of `preview`, `development` (found `production`)",
                ),
            ),
            (
                constrained(VerifyOptions {
                    environments: vec!["preview".into(), "production".into()],
                    project_ids: vec!["prj_123".into()],
                    owner_ids: vec!["team_123".into()],
                    owners: vec!["acme".into()],
                    projects: vec!["web".into()],
                    subjects: vec!["owner:acme:project:web:environment:production".into()],
                    ..opts()
                }),
                claims(),
                now,
                None,
            ),
            (
                constrained(VerifyOptions {
                    owner_ids: vec!["team_other".into()],
                    ..opts()
                }),
                with(&|c| c.owner_id = None),
                now,
                Some("owner id mismatch: expected `team_other` (found no `owner_id` claim)"),
            ),
            (
                constrained(VerifyOptions {
                    subjects: vec!["owner:acme:project:web:environment:preview".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some(
                    "subject mismatch: expected `owner:acme:project:web:environment:preview` (found `owner:acme:project:web:environment:production`)\n  the token is for another subject; --sub names",
                ),
            ),
            (
                constrained(VerifyOptions {
                    owners: vec!["other".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some("owner mismatch: expected `other` (found `acme`)"),
            ),
            (
                constrained(VerifyOptions {
                    projects: vec!["api".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some("project mismatch: expected `api` (found `web`)"),
            ),
        ];
        for (i, (config, claims, now, want)) in cases.into_iter().enumerate() {
            match (check_claims(&config, &claims, now), want) {
                (Ok(()), None) => {}
                (Err(err), Some(want)) => {
                    let err = err.to_string();
                    assert!(
                        err.starts_with(want),
                        "case {i}: want {want:?}, got {err:?}"
                    );
                }
                (got, want) => panic!("case {i}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn claims_must_be_vercel_shaped() {
        let cases = [
            (
                serde_json::json!([1]),
                "invalid claims: the payload is not a JSON object",
            ),
            (
                serde_json::json!({"sub": "s", "aud": "a", "exp": 1}),
                "invalid claims: there is no `iss` claim",
            ),
            (
                serde_json::json!({"iss": "i", "sub": "s", "aud": "a"}),
                "there is no `exp` claim",
            ),
            (
                serde_json::json!({"iss": "i", "sub": "s", "aud": "a", "exp": 1, "nbf": "0"}),
                "a claim has the wrong type",
            ),
            (
                serde_json::json!({"iss": "i", "sub": "s", "aud": "a", "exp": "never"}),
                "a claim has the wrong type",
            ),
        ];
        for (payload, want) in cases {
            let err = parse_claims(&payload).unwrap_err().to_string();
            assert!(err.contains(want), "want {want:?}, got {err:?}");
        }
    }

    fn modulus(bits: usize) -> String {
        let mut bytes = vec![0xffu8; bits / 8];
        bytes.insert(0, 0);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn jwks_keeps_only_usable_rsa_signing_keys() {
        let n = modulus(2048);
        let doc = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "good", "n": n, "e": "AQAB", "use": "sig", "alg": "RS256"},
            {"kty": "RSA", "kid": "bare", "n": n, "e": "AQAB"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "enc", "n": n, "e": "AQAB", "use": "enc"},
            {"kty": "RSA", "kid": "ps", "n": n, "e": "AQAB", "alg": "PS256"},
            {"kty": "RSA", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "weak", "n": modulus(1024), "e": "AQAB"},
            {"kty": "RSA", "kid": "huge", "n": modulus(8192), "e": "AQAB"},
            {"kty": "RSA", "kid": "one", "n": n, "e": "AQ"},
            {"kty": "RSA", "kid": "junk", "n": "!!", "e": "AQAB"},
            {"kty": "RSA", "kid": "no-e", "n": n},
        ]});
        let keys = parse_jwks(doc.to_string().as_bytes(), "https://x/jwks").unwrap();
        let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["good", "bare"]);

        let cases = [
            (
                "not json",
                "the JWKS at `https://x/jwks` is unusable: it is not JSON",
            ),
            (r#"{"kids": []}"#, "it has no `keys` list"),
            (
                r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#,
                "it holds no RS256 signing key",
            ),
        ];
        for (body, want) in cases {
            let err = parse_jwks(body.as_bytes(), "https://x/jwks")
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "want {want:?}, got {err:?}");
        }
    }

    /// Why a key of the JWKS is skipped (shown under `-v`): its `kid`, which the server chose,
    /// escaped.
    #[test]
    fn skipped_keys_show_their_kid_escaped() {
        let key = serde_json::json!({"kty": "RSA", "kid": "k\nvercel-oidc: forged\u{1b}[2J"});
        assert_eq!(
            rsa_key(&key).err().as_deref(),
            Some("key `k\\nvercel-oidc: forged\\x1b[2J` has no `n` or `e`")
        );
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0x00, 0x01]), 17);
    }

    #[test]
    fn discovery_documents() {
        let url = "https://oidc.vercel.com/acme/.well-known/openid-configuration";
        let issuer = "https://oidc.vercel.com/acme";
        let parse =
            |doc: serde_json::Value| parse_discovery(doc.to_string().as_bytes(), url, issuer);
        assert_eq!(
            parse(serde_json::json!({
                "issuer": "https://oidc.vercel.com/acme/",
                "jwks_uri": "https://oidc.vercel.com/acme/.well-known/jwks",
            }))
            .unwrap(),
            "https://oidc.vercel.com/acme/.well-known/jwks"
        );
        let cases = [
            (
                serde_json::json!({"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"}),
                "discovery issuer mismatch: expected `https://oidc.vercel.com/acme` (found `https://evil.example` in `https://oidc.vercel.com/acme/.well-known/openid-configuration`)",
            ),
            (
                serde_json::json!({"jwks_uri": "https://oidc.vercel.com/acme/.well-known/jwks"}),
                "the OpenID configuration at `https://oidc.vercel.com/acme/.well-known/openid-configuration` is unusable: it has no `issuer`",
            ),
            (
                serde_json::json!({"issuer": issuer}),
                "is unusable: it has no `jwks_uri`",
            ),
            (
                serde_json::json!({"issuer": issuer, "jwks_uri": "http://keys.example.com/jwks"}),
                "is unusable: its `jwks_uri` cannot be used: `http://keys.example.com/jwks` is plain http",
            ),
        ];
        for (doc, want) in cases {
            let err = parse(doc).unwrap_err().to_string();
            assert!(err.contains(want), "want {want:?}, got {err:?}");
        }
        let err = parse_discovery(b"<html>", url, issuer)
            .unwrap_err()
            .to_string();
        assert!(err.contains("it is not JSON"), "{err}");
    }

    #[test]
    fn jwks_cache_lifetime() {
        let cases = [
            (None, 600),
            (Some(""), 600),
            (Some("public, max-age=300"), 300),
            (Some("max-age=\"120\", must-revalidate"), 120),
            (Some("MAX-AGE=900"), 900),
            (Some("max-age=5"), 60),
            (Some("max-age=86400"), 3600),
            (Some("no-store"), 60),
            (Some("max-age=900, no-cache"), 60),
            (Some("s-maxage=900"), 600),
            (Some("max-age=soon"), 600),
            (Some("max-age=-5"), 60),
        ];
        for (header, seconds) in cases {
            assert_eq!(jwks_ttl(header), Duration::seconds(seconds), "{header:?}");
        }
    }

    #[test]
    fn shown_escapes_and_truncates() {
        assert_eq!(shown("plain"), "plain");
        assert_eq!(shown("a\nb\u{1b}"), "a\\nb\\x1b");
        let long = "x".repeat(150);
        assert_eq!(shown(&long), format!("{}…", "x".repeat(100)));
        assert_eq!(backticked(["a", "b"].into_iter()), "`a`, `b`");
        assert_eq!(backticked(std::iter::empty()), "none");
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/verify")
                .join(name),
        )
        .unwrap()
    }

    /// A verifier whose cache already holds key `k1` (from the test key), so that it needs no
    /// network, with the clock fixed at `now`.
    fn offline_verifier(dir: &std::path::Path, now: OffsetDateTime) -> Verifier {
        let private = jsonwebtoken::EncodingKey::from_rsa_der(&fixture("key1.der"));
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&private, Algorithm::RS256).unwrap();
        let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = jwk.algorithm else {
            panic!("not an RSA key")
        };
        let verifier = Verifier::new(
            config(),
            reqwest::Client::new(),
            Some(Cache::new(dir.to_path_buf())),
        )
        .with_clock(move || now);
        let set = KeySet {
            jwks_uri: "https://oidc.vercel.com/acme/.well-known/jwks".into(),
            fetch_id: 1,
            keys: vec![RsaKey {
                kid: "k1".into(),
                n: rsa.n,
                e: rsa.e,
            }],
            refetched_at: None,
        };
        let cache = verifier.cache.as_ref().unwrap();
        cache
            .put(&verifier.cache_key(), &set, now + Duration::minutes(5))
            .unwrap();
        verifier
    }

    fn signed(claims: &serde_json::Value) -> String {
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        let key = jsonwebtoken::EncodingKey::from_rsa_der(&fixture("key1.der"));
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    #[tokio::test]
    async fn verifies_against_cached_keys_and_an_injected_clock() {
        let dir = tempfile::tempdir().unwrap();
        let exp = 2_000_000_000;
        let payload = crate::token::tests::claims_json(exp);
        let token = signed(&payload);

        let verifier = offline_verifier(dir.path(), at(exp - 600));
        let verified = verifier.verify(&format!(" {token}\n")).await.unwrap();
        assert_eq!(verified.payload, payload);
        assert_eq!(verified.kid, "k1");
        assert_eq!(verified.claims.project_id.as_deref(), Some("prj_123"));

        let late = offline_verifier(dir.path(), at(exp + 600));
        let err = late.verify(&token).await.unwrap_err().to_string();
        assert!(err.starts_with("token expired"), "{err}");

        // The payload of another token under this token's signature.
        let mut other = payload.clone();
        other["environment"] = "preview".into();
        let forged: Vec<String> = signed(&other).split('.').map(str::to_string).collect();
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], forged[1], parts[2]);
        let err = verifier.verify(&tampered).await.unwrap_err().to_string();
        assert!(
            err.starts_with(
                "bad signature: expected a signature by key `k1` of `https://oidc.vercel.com/acme`"
            ),
            "{err}"
        );
    }
}
