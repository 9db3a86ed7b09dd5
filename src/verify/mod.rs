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
//!
//! Where each part lives: `config` checks the settings, `signature` the header and the RS256
//! signature, `claims` the claims and the constraints, `discovery` makes the two requests,
//! `keys` reads the JWKS, `key_cache` keeps it and picks the signing key, and `error` holds
//! [`VerifyError`] and how values from a token or a server are shown.

mod claims;
mod config;
mod discovery;
mod document;
mod error;
mod key_cache;
mod keys;
mod signature;

use time::{Duration, OffsetDateTime};

use crate::cache::Cache;
use crate::http::HttpSetupError;
use crate::http::RetryPolicy;
use crate::token::Claims;

pub use config::{ConfigError, VerifyConfig, VerifyOptions, issuer_matches, normalize_issuer};
pub use config::{ConstrainedClaim, Constraint};
pub use error::VerifyError;
pub use key_cache::jwks_ttl;

use claims::{check_claims, parse_claims};
use error::shown;
use signature::{check_signature, parse_header};

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

/// A token whose signature and claims all held.
#[derive(Clone, Debug)]
pub struct VerifiedToken {
    /// Every claim of the token, as signed.
    pub payload: serde_json::Value,
    pub claims: Claims,
    /// The key that signed it.
    pub kid: String,
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
    pub fn for_env(config: VerifyConfig, env: &crate::env::Env) -> Result<Self, HttpSetupError> {
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
        crate::log::debug!(
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
}

/// Drives the document and header parsers on any bytes, for [`crate::fuzzing::jwks`]: they
/// never panic, kept keys are usable RS256 keys, and a `jwks_uri` accepted is an endpoint that
/// may be fetched.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub(crate) fn fuzz_documents(data: &[u8]) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use discovery::parse_discovery;
    use keys::{MAX_RSA_BITS, MIN_RSA_BITS, bit_length, parse_jwks};

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
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::Algorithm;

    use super::keys::{KeySet, RsaKey};
    use super::*;
    use crate::timefmt;

    pub(super) fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    pub(super) fn opts() -> VerifyOptions {
        VerifyOptions {
            issuer: Some("https://oidc.vercel.com/acme".into()),
            audience: Some("https://vercel.com/acme".into()),
            ..VerifyOptions::default()
        }
    }

    pub(super) fn config() -> VerifyConfig {
        VerifyConfig::from_options(&opts()).unwrap()
    }

    pub(super) fn claims() -> Claims {
        serde_json::from_value(crate::token::tests::claims_json(2_000_000_000)).unwrap()
    }

    pub(super) fn at(secs: i64) -> OffsetDateTime {
        timefmt::from_unix(secs).unwrap()
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
