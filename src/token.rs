//! The Vercel OIDC token: where it comes from, what it says, and whether it can still be used.
//!
//! Sources, first found wins:
//! 1. the global flag `--token-file PATH`;
//! 2. `VERCEL_OIDC_TOKEN_FILE`, a file holding the token (newer Vercel libraries read it first);
//! 3. `VERCEL_OIDC_TOKEN`, the token itself (what every Vercel build gets);
//! 4. `VERCEL_OIDC_TOKEN` in `.env.local`, as `vercel env pull` writes it, found by walking up from
//!    the working directory to the project's root ([`crate::walk`]).
//!
//! A file, found or named, is read only when no other user could have written it
//! ([`crate::ownership`]): a token file named by a flag or variable that fails the rule is an
//! error, a `.env.local` found on the walk is passed over with a warning.
//!
//! A token file must be a regular file of at most 64 KiB, `.env.local` one of at most 1 MiB: a
//! FIFO or a device is refused without waiting on it. `.env.local` is read as bytes and each
//! line decoded on its own, so a byte-order mark, CRLF line ends, `export<TAB>` or bytes that
//! are not UTF-8 on another line do not hide the token.
//!
//! Claims are decoded without checking the signature: the cloud checks it. They serve for expiry,
//! messages, session names and cache keys. Their strings are [`Text`]: shown in a message, they
//! are escaped ([`crate::outside`]); used, they are what the token says. Where a token was found
//! ([`TokenSource`]) is shown with its path escaped the same way.

use crate::vars;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::env::Env;
use crate::fsutil::{self, ReadError, Refused, limits};
use crate::outside::{self, Text};
use crate::ownership::{Owners, Untrusted};
use crate::secret::Secret;
use crate::timefmt;
use crate::walk::Walk;

/// How close to its expiry a token is treated as expired, for clock skew between here and the
/// cloud, and for the time the exchange itself takes.
pub const CLOCK_SKEW: Duration = Duration::seconds(30);

/// Where a token was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// The global `--token-file` flag.
    Flag(PathBuf),
    /// The file named by `VERCEL_OIDC_TOKEN_FILE`.
    EnvFile(PathBuf),
    /// The `VERCEL_OIDC_TOKEN` environment variable.
    Env,
    /// `VERCEL_OIDC_TOKEN` in a `.env.local` file.
    DotEnv(PathBuf),
    /// A token refreshed for local development, and where it is kept (see `crate::refresh`).
    Refreshed { via: String, path: PathBuf },
}

/// Paths [`outside::escaped`].
impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |p: &Path| outside::escaped(&p.display().to_string()).into_owned();
        match self {
            Self::Flag(p) => write!(f, "--token-file `{}`", shown(p)),
            Self::EnvFile(p) => write!(f, "VERCEL_OIDC_TOKEN_FILE (`{}`)", shown(p)),
            Self::Env => f.write_str(vars::VERCEL_OIDC_TOKEN),
            Self::DotEnv(p) => write!(f, "VERCEL_OIDC_TOKEN in `{}`", shown(p)),
            Self::Refreshed { via, path } => write!(
                f,
                "a token refreshed through {via} (kept in `{}`)",
                shown(path)
            ),
        }
    }
}

/// As JSON: `{"kind": "flag" | "env_file" | "env" | "dot_env" | "refreshed", "path"?, "via"?}`.
impl Serialize for TokenSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (kind, path, via) = match self {
            Self::Flag(p) => ("flag", Some(p), None),
            Self::EnvFile(p) => ("env_file", Some(p), None),
            Self::Env => ("env", None, None),
            Self::DotEnv(p) => ("dot_env", Some(p), None),
            Self::Refreshed { via, path } => ("refreshed", Some(path), Some(via)),
        };
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("kind", kind)?;
        if let Some(p) = path {
            map.serialize_entry("path", p)?;
        }
        if let Some(v) = via {
            map.serialize_entry("via", v)?;
        }
        map.end()
    }
}

/// `aud` is a string or a list of strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(Text),
    Many(Vec<Text>),
}

impl Audience {
    /// Every audience, as the token says.
    pub fn values(&self) -> Vec<&str> {
        self.texts().into_iter().map(Text::as_str).collect()
    }

    fn texts(&self) -> Vec<&Text> {
        match self {
            Self::One(a) => vec![a],
            Self::Many(v) => v.iter().collect(),
        }
    }

    /// Every audience, owned.
    pub fn to_vec(&self) -> Vec<Text> {
        self.texts().into_iter().cloned().collect()
    }

    /// The first audience: the one clouds compare against.
    pub fn first(&self) -> &Text {
        static NONE: Text = Text::EMPTY;
        self.texts().first().copied().unwrap_or(&NONE)
    }
}

/// Each audience escaped, `, ` between them.
impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.texts().iter().map(ToString::to_string).collect();
        f.write_str(&shown.join(", "))
    }
}

/// The claims of a Vercel OIDC token that this tool reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: Text,
    pub sub: Text,
    pub aud: Audience,
    /// Unix seconds; a number of any form (see [`timefmt::lenient_seconds`]).
    #[serde(deserialize_with = "timefmt::lenient_seconds::deserialize")]
    pub exp: i64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "timefmt::lenient_seconds::option::deserialize"
    )]
    pub iat: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "timefmt::lenient_seconds::option::deserialize"
    )]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Text>,
}

/// The claims that say whose token this is, for cache keys: a newer token of the same project
/// and environment shares cached results; a token of another never does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identity<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: Vec<&'a str>,
    pub owner_id: Option<&'a str>,
    pub project_id: Option<&'a str>,
    pub environment: Option<&'a str>,
}

/// Team issuers (`https://oidc.vercel.com/<team>`) or the global one (`https://oidc.vercel.com`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerMode {
    Team,
    Global,
}

impl fmt::Display for IssuerMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Team => "team",
            Self::Global => "global",
        })
    }
}

impl Claims {
    /// When the token expires; an `exp` beyond the years a time can hold is the far future (or
    /// past), never 1970.
    pub fn expires_at(&self) -> OffsetDateTime {
        timefmt::from_unix_saturating(self.exp)
    }

    pub fn issued_at(&self) -> Option<OffsetDateTime> {
        self.iat.map(timefmt::from_unix_saturating)
    }

    /// `vercel-<project>-<environment>` (the parts the token has), unsanitised: the base of
    /// session and credential names.
    pub fn label(&self) -> String {
        [
            Some("vercel"),
            self.project.as_deref(),
            self.environment.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("-")
    }

    pub fn identity(&self) -> Identity<'_> {
        Identity {
            iss: &self.iss,
            sub: &self.sub,
            aud: self.aud.values(),
            owner_id: self.owner_id.as_deref(),
            project_id: self.project_id.as_deref(),
            environment: self.environment.as_deref(),
        }
    }

    pub fn issuer_mode(&self) -> IssuerMode {
        if issuer_host_path(&self.iss).contains('/') {
            IssuerMode::Team
        } else {
            IssuerMode::Global
        }
    }
}

/// The issuer without scheme or trailing slash, as IAM names condition keys:
/// `oidc.vercel.com/acme`.
pub fn issuer_host_path(iss: &str) -> &str {
    iss.trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
}

/// A token that was found and decoded.
#[derive(Clone, Debug)]
pub struct OidcToken {
    raw: Secret,
    claims: Claims,
    source: TokenSource,
}

impl OidcToken {
    /// Decodes `raw`, found at `source`.
    pub fn parse(raw: &str, source: TokenSource) -> Result<Self, TokenError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(TokenError::Empty { origin: source });
        }
        match decode_claims(raw) {
            Ok(claims) => Ok(Self {
                raw: Secret::new(raw),
                claims,
                source,
            }),
            Err(reason) => Err(TokenError::Malformed {
                origin: source,
                reason,
            }),
        }
    }

    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    /// The token itself, to send to a cloud or print on request.
    pub fn expose_secret(&self) -> &str {
        self.raw.expose_secret()
    }

    /// Fails when the token has expired or will within [`CLOCK_SKEW`].
    pub fn ensure_fresh(&self, now: OffsetDateTime, in_build: bool) -> Result<(), TokenError> {
        let expires = self.claims.expires_at();
        if expires <= now + CLOCK_SKEW {
            return Err(TokenError::Expired {
                origin: self.source.clone(),
                expired: timefmt::rfc3339_z(expires),
                when: timefmt::relative(expires, now),
                in_build,
            });
        }
        Ok(())
    }
}

/// Why no usable token could be had. Each message names the source and what to do; `Display` is
/// the [`Explanation`](crate::problem::Explanation).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    NotFound {
        searched_from: PathBuf,
        in_build: bool,
    },
    Read {
        origin: TokenSource,
        error: ReadError,
    },
    Empty {
        origin: TokenSource,
    },
    Malformed {
        origin: TokenSource,
        reason: String,
    },
    Expired {
        origin: TokenSource,
        expired: String,
        when: String,
        in_build: bool,
    },
    /// A token file named by a flag or a variable that another user could have written.
    Untrusted {
        origin: TokenSource,
        untrusted: Untrusted,
    },
}

impl crate::problem::Explain for TokenError {
    fn explain(&self) -> crate::problem::Explanation {
        use crate::problem::Explanation as E;
        match self {
            Self::NotFound {
                searched_from,
                in_build,
            } => E::new(
                format!(
                    "no Vercel OIDC token found (looked at --token-file, VERCEL_OIDC_TOKEN_FILE, VERCEL_OIDC_TOKEN and `.env.local` from `{}` up to the project root)",
                    searched_from.display()
                ),
                fresh_token_hint(*in_build),
            ),
            Self::Read { origin, error } => E::new(
                format!(
                    "cannot read the Vercel OIDC token from {origin}: {}",
                    error.reason()
                ),
                read_hint(origin, error),
            ),
            Self::Empty { origin } => E::new(
                format!("the Vercel OIDC token from {origin} is empty"),
                fresh_token_hint(false),
            ),
            Self::Malformed { origin, reason } => E::new(
                format!("the Vercel OIDC token from {origin} is not a JWT: {reason}"),
                format!(
                    "it should be three base64url parts joined by dots, as Vercel issues it; {}",
                    fresh_token_hint(false)
                ),
            ),
            Self::Expired {
                origin,
                expired,
                when,
                in_build,
            } => E::new(
                format!("the Vercel OIDC token from {origin} expired {when} (at {expired})"),
                fresh_token_hint(*in_build),
            ),
            Self::Untrusted { origin, untrusted } => E::new(
                format!(
                    "will not read the Vercel OIDC token from {origin}: {untrusted}, so another user could have written it"
                ),
                untrusted.fix(),
            ),
        }
    }
}

crate::problem::display_as_explained!(TokenError);

/// What to do about a token file or `.env.local` that cannot be read.
fn read_hint(origin: &TokenSource, error: &ReadError) -> &'static str {
    let dotenv = matches!(origin, TokenSource::DotEnv(_));
    match error {
        ReadError::TooLarge { .. } if dotenv => {
            "`vercel env pull` writes a small `.env.local`: check what else went into it, or run `vercel env pull` again"
        }
        ReadError::TooLarge { .. } => {
            "a Vercel token is about 1 KiB: name a file that holds the token alone"
        }
        ReadError::NotRegular { .. } if dotenv => {
            "`.env.local` must be a regular file: remove it and run `vercel env pull` again"
        }
        ReadError::NotRegular { .. } => {
            "name a regular file that holds the token; a FIFO, device or directory is never read"
        }
        _ => "check the path, or unset it to use VERCEL_OIDC_TOKEN",
    }
}

/// What to do to get a token, for a build or for a laptop.
pub fn fresh_token_hint(in_build: bool) -> &'static str {
    if in_build {
        "in a Vercel build, enable OIDC Federation in the project settings (Settings > Security); build tokens last about an hour, so fetch credentials early or use `vercel-oidc exec`"
    } else {
        "locally, run `vercel link` once and then `vercel env pull` to write a fresh token (valid about 12 hours) to `.env.local`"
    }
}

/// Decodes the claims of a JWT without checking its signature.
pub fn decode_claims(raw: &str) -> Result<Claims, String> {
    let parts: Vec<&str> = raw.split('.').collect();
    if parts.len() != 3 {
        return Err(format!("it has {} part(s), not 3", parts.len()));
    }
    let header = URL_SAFE_NO_PAD
        .decode(parts[0].trim_end_matches('='))
        .map_err(|_| "its header is not base64url".to_string())?;
    serde_json::from_slice::<serde_json::Value>(&header)
        .ok()
        .filter(serde_json::Value::is_object)
        .ok_or_else(|| "its header is not a JSON object".to_string())?;
    let payload = URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|_| "its payload is not base64url".to_string())?;
    let value: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|_| "its payload is not JSON".to_string())?;
    if !value.is_object() {
        return Err("its payload is not a JSON object".into());
    }
    for claim in ["iss", "sub", "aud", "exp"] {
        if value.get(claim).is_none() {
            return Err(format!("it has no `{claim}` claim"));
        }
    }
    serde_json::from_value(value).map_err(|e| format!("its claims have the wrong types ({e})"))
}

/// Finds the token, following the order in the module docs. Does not check expiry.
pub fn load(env: &Env, token_file: Option<&Path>) -> Result<OidcToken, TokenError> {
    if let Some(path) = token_file {
        return read_file(TokenSource::Flag(env.absolute(path)), env);
    }
    if let Some(path) = env.get(vars::VERCEL_OIDC_TOKEN_FILE) {
        return read_file(TokenSource::EnvFile(env.absolute(path)), env);
    }
    if let Some(raw) = env.get(vars::VERCEL_OIDC_TOKEN) {
        return OidcToken::parse(raw, TokenSource::Env);
    }
    if let Some((path, raw)) = find_in_dotenv(&Walk::for_env(env))? {
        return OidcToken::parse(&raw, TokenSource::DotEnv(path));
    }
    Err(TokenError::NotFound {
        searched_from: env.cwd().to_path_buf(),
        in_build: env.in_build(),
    })
}

/// Finds and checks the token: [`load`] then [`OidcToken::ensure_fresh`].
pub fn load_fresh(
    env: &Env,
    token_file: Option<&Path>,
    now: OffsetDateTime,
) -> Result<OidcToken, TokenError> {
    let token = load(env, token_file)?;
    crate::log::debug!("using the token from {}", token.source());
    token.ensure_fresh(now, env.in_build())?;
    Ok(token)
}

/// Reads a token file named by a flag or a variable: only one that no other user could have
/// written ([`crate::ownership`]), as for a file found by walking.
fn read_file(source: TokenSource, env: &Env) -> Result<OidcToken, TokenError> {
    let path = match &source {
        TokenSource::Flag(p) | TokenSource::EnvFile(p) => p.clone(),
        _ => unreachable!("only file sources are read"),
    };
    match fsutil::read_checked(&path, limits::TOKEN, &Owners::for_env(env)) {
        Ok(raw) => OidcToken::parse(&String::from_utf8_lossy(&raw), source),
        Err(Refused::Read(error)) => Err(TokenError::Read {
            origin: source,
            error,
        }),
        Err(Refused::Untrusted(untrusted)) => Err(TokenError::Untrusted {
            origin: source,
            untrusted,
        }),
    }
}

/// Walks up `walk` looking for `VERCEL_OIDC_TOKEN` in `.env.local`, up to the project's root. A
/// `.env.local` that another user could have written is passed over ([`Walk::read`]); one that
/// is there but cannot be read (not a regular file, over 1 MiB) is an error; one that cannot be
/// opened (permissions) is passed over.
pub fn find_in_dotenv(walk: &Walk) -> Result<Option<(PathBuf, String)>, TokenError> {
    for dir in walk.folders() {
        let candidate = dir.join(".env.local");
        let Some(read) = walk.read(&candidate, limits::CONFIG) else {
            continue;
        };
        match read {
            Ok(content) => {
                if let Some(value) = dotenv_value_bytes(&content, vars::VERCEL_OIDC_TOKEN) {
                    return Ok(Some((candidate, value)));
                }
            }
            Err(ReadError::NotFound { .. } | ReadError::Io { .. }) => {}
            Err(error) => {
                return Err(TokenError::Read {
                    origin: TokenSource::DotEnv(candidate),
                    error,
                });
            }
        }
    }
    Ok(None)
}

/// The value of `key` in dotenv-formatted `content` (the last assignment wins). Handles
/// `export`, comments, double quotes with `\n`-style escapes, single quotes and bare values.
pub fn dotenv_value(content: &str, key: &str) -> Option<String> {
    dotenv_value_bytes(content.as_bytes(), key)
}

/// [`dotenv_value`] of raw bytes: a leading byte-order mark is skipped, lines end at `\n` (a
/// `\r` before it is dropped), and each line is decoded on its own, bytes that are not UTF-8
/// becoming U+FFFD, so one bad line spoils only itself.
pub fn dotenv_value_bytes(content: &[u8], key: &str) -> Option<String> {
    let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    let mut found = None;
    for raw in content.split(|b| *b == b'\n') {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = String::from_utf8_lossy(raw);
        let line = line.trim_start();
        if line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => line,
        };
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim() != key {
            continue;
        }
        found = Some(dotenv_unquote(v.trim()));
    }
    found.filter(|v| !v.is_empty())
}

fn dotenv_unquote(v: &str) -> String {
    if let Some(rest) = v.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => break,
                },
                c => out.push(c),
            }
        }
        out
    } else if let Some(rest) = v.strip_prefix('\'') {
        rest.split('\'').next().unwrap_or("").to_string()
    } else {
        let v = match v.find(" #") {
            Some(i) => &v[..i],
            None => v,
        };
        v.trim().to_string()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds an unsigned token with the given payload (the signature is never checked here).
    pub(crate) fn jwt(payload: &serde_json::Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap());
        format!("{header}.{body}.c2lnbmF0dXJl")
    }

    pub(crate) fn claims_json(exp: i64) -> serde_json::Value {
        serde_json::json!({
            "iss": "https://oidc.vercel.com/acme",
            "sub": "owner:acme:project:web:environment:production",
            "aud": "https://vercel.com/acme",
            "iat": exp - 3600, "nbf": exp - 3600, "exp": exp,
            "owner": "acme", "owner_id": "team_123",
            "project": "web", "project_id": "prj_123",
            "environment": "production",
        })
    }

    /// Checks that `key`, a cloud's cache key for a token's claims, follows the token's identity:
    /// the same for a newer token of the same identity, another when a claim of [`Identity`]
    /// differs. Returns the claims of `claims_json(2_000_000_000)` and their key.
    pub(crate) fn key_follows_identity<K: PartialEq + std::fmt::Debug>(
        key: impl Fn(&Claims) -> K,
    ) -> (Claims, K) {
        let claims = |json: &serde_json::Value| decode_claims(&jwt(json)).unwrap();
        let base = claims_json(2_000_000_000);
        let k0 = key(&claims(&base));
        assert_eq!(
            key(&claims(&claims_json(2_000_000_900))),
            k0,
            "a newer token of the same identity shares the entry"
        );
        let preview_sub = "owner:acme:project:web:environment:preview";
        for changed in [
            &[("environment", "preview"), ("sub", preview_sub)][..],
            &[("sub", preview_sub)],
            &[("iss", "https://oidc.vercel.com")],
            &[("aud", "api://AzureADTokenExchange")],
            &[("project_id", "prj_other")],
            &[("environment", "preview")],
            &[("owner_id", "team_other")],
        ] {
            let mut other = base.clone();
            for (claim, value) in changed {
                other[*claim] = serde_json::json!(value);
            }
            assert_ne!(key(&claims(&other)), k0, "{changed:?}");
        }
        (claims(&base), k0)
    }

    #[test]
    fn decodes_vercel_claims() {
        let claims = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        assert_eq!(claims.iss, "https://oidc.vercel.com/acme");
        assert_eq!(claims.aud.first(), "https://vercel.com/acme");
        assert_eq!(claims.project.as_deref(), Some("web"));
        assert_eq!(claims.environment.as_deref(), Some("production"));
        assert_eq!(claims.issuer_mode(), IssuerMode::Team);
    }

    #[test]
    fn list_audience_and_global_issuer() {
        let mut c = claims_json(2_000_000_000);
        c["aud"] = serde_json::json!(["a", "b"]);
        c["iss"] = serde_json::json!("https://oidc.vercel.com");
        let claims = decode_claims(&jwt(&c)).unwrap();
        assert_eq!(claims.aud.values(), vec!["a", "b"]);
        assert_eq!(claims.issuer_mode(), IssuerMode::Global);
    }

    #[test]
    fn malformed_tokens() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        let payload = |s: &str| URL_SAFE_NO_PAD.encode(s.as_bytes());
        let good_payload = payload(&claims_json(2_000_000_000).to_string());
        let cases = [
            ("abc".to_string(), "it has 1 part(s), not 3"),
            ("a.b".to_string(), "it has 2 part(s), not 3"),
            ("a.b.c.d".to_string(), "it has 4 part(s), not 3"),
            (
                format!("!!.{good_payload}.s"),
                "its header is not base64url",
            ),
            (
                format!("{}.{good_payload}.s", payload("[1]")),
                "its header is not a JSON object",
            ),
            (format!("{header}.***.s"), "its payload is not base64url"),
            (
                format!("{header}.{}.s", payload("not json")),
                "its payload is not JSON",
            ),
            (
                format!("{header}.{}.s", payload("42")),
                "its payload is not a JSON object",
            ),
            (
                format!("{header}.{}.s", payload(r#"{"sub":"s","aud":"a","exp":1}"#)),
                "it has no `iss` claim",
            ),
            (
                format!("{header}.{}.s", payload(r#"{"iss":"i","aud":"a","exp":1}"#)),
                "it has no `sub` claim",
            ),
            (
                format!("{header}.{}.s", payload(r#"{"iss":"i","sub":"s","exp":1}"#)),
                "it has no `aud` claim",
            ),
            (
                format!(
                    "{header}.{}.s",
                    payload(r#"{"iss":"i","sub":"s","aud":"a"}"#)
                ),
                "it has no `exp` claim",
            ),
            (
                format!(
                    "{header}.{}.s",
                    payload(r#"{"iss":"i","sub":"s","aud":"a","exp":"soon"}"#)
                ),
                "its claims have the wrong types",
            ),
        ];
        for (raw, expected) in cases {
            let err = decode_claims(&raw).unwrap_err();
            assert!(
                err.starts_with(expected),
                "{raw}: got {err:?}, want {expected:?}"
            );
        }
    }

    #[test]
    fn parse_reports_empty_and_malformed_with_source() {
        let err = OidcToken::parse("  \n", TokenSource::Env).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the Vercel OIDC token from VERCEL_OIDC_TOKEN is empty")
        );
        let err = OidcToken::parse("x.y", TokenSource::Flag("/t".into())).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("--token-file `/t`") && msg.contains("not a JWT"),
            "{msg}"
        );
    }

    #[test]
    fn expiry_with_skew() {
        let exp = 2_000_000_000;
        let token = OidcToken::parse(&jwt(&claims_json(exp)), TokenSource::Env).unwrap();
        let at = |s: i64| timefmt::from_unix(s).unwrap();
        assert!(token.ensure_fresh(at(exp - 31), false).is_ok());
        let err = token.ensure_fresh(at(exp - 29), false).unwrap_err();
        assert!(err.to_string().contains("expired in 29s"), "{err}");
        let err = token
            .ensure_fresh(at(exp + 300), true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expired 5m 0s ago") && err.contains("in a Vercel build"),
            "{err}"
        );
        let err = token
            .ensure_fresh(at(exp + 300), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("vercel env pull"), "{err}");
    }

    #[test]
    fn dotenv_values() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "# Created by Vercel CLI\nVERCEL_OIDC_TOKEN=\"a.b.c\"\n",
                Some("a.b.c"),
            ),
            ("VERCEL_OIDC_TOKEN='a.b.c'", Some("a.b.c")),
            ("export VERCEL_OIDC_TOKEN=a.b.c # comment", Some("a.b.c")),
            ("  VERCEL_OIDC_TOKEN = \"a.b.c\"", Some("a.b.c")),
            (
                "VERCEL_OIDC_TOKEN=\"old\"\nVERCEL_OIDC_TOKEN=\"new\"",
                Some("new"),
            ),
            (
                "VERCEL_OIDC_TOKEN=\"line\\nnext\\\"q\\\"\"",
                Some("line\nnext\"q\""),
            ),
            ("#VERCEL_OIDC_TOKEN=\"x\"", None),
            ("VERCEL_OIDC_TOKEN_FILE=\"x\"", None),
            ("VERCEL_OIDC_TOKEN=\"\"", None),
            ("OTHER=1", None),
            ("\u{feff}VERCEL_OIDC_TOKEN=\"a.b.c\"\n", Some("a.b.c")),
            ("export\tVERCEL_OIDC_TOKEN=a.b.c", Some("a.b.c")),
            ("export  VERCEL_OIDC_TOKEN=a.b.c", Some("a.b.c")),
            ("exportVERCEL_OIDC_TOKEN=a.b.c", None),
            ("X=1\r\nVERCEL_OIDC_TOKEN=\"a.b.c\"\r\n", Some("a.b.c")),
        ];
        for (content, expected) in cases {
            assert_eq!(
                dotenv_value(content, vars::VERCEL_OIDC_TOKEN).as_deref(),
                *expected,
                "{content:?}"
            );
        }
    }

    #[test]
    fn dotenv_bytes_survive_stray_invalid_utf8() {
        let content = b"# Created by Vercel CLI\nNAME=\"caf\xe9\"\nVERCEL_OIDC_TOKEN=\"a.b.c\"\nOTHER=\"\xff\xfe\"\n";
        assert_eq!(
            dotenv_value_bytes(content, vars::VERCEL_OIDC_TOKEN).as_deref(),
            Some("a.b.c")
        );
        assert_eq!(
            dotenv_value_bytes(b"VERCEL_OIDC_TOKEN=\"a.b\xff.c\"", vars::VERCEL_OIDC_TOKEN)
                .as_deref(),
            Some("a.b\u{fffd}.c")
        );
    }

    #[test]
    fn dotenv_walk_stops_at_project_root() {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("app");
        let nested = project.join("src/deep");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::create_dir_all(project.join(".vercel")).unwrap();
        std::fs::write(
            root.path().join(".env.local"),
            "VERCEL_OIDC_TOKEN=\"outside\"",
        )
        .unwrap();
        let walk = || Walk::new(&nested, Owners::strict());
        assert_eq!(
            find_in_dotenv(&walk()).unwrap(),
            None,
            "must not look above the .vercel folder"
        );
        std::fs::write(
            project.join(".env.local"),
            "# Created by Vercel CLI\nVERCEL_OIDC_TOKEN=\"inside\"",
        )
        .unwrap();
        let (path, value) = find_in_dotenv(&walk()).unwrap().unwrap();
        assert_eq!(path, project.join(".env.local"));
        assert_eq!(value, "inside");
    }

    #[test]
    fn load_order() {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("flag");
        let file = dir.path().join("file");
        let tok = |p: &str| {
            let mut c = claims_json(2_000_000_000);
            c["project"] = serde_json::json!(p);
            jwt(&c)
        };
        std::fs::write(&flag, tok("from-flag") + "\n").unwrap();
        std::fs::write(&file, tok("from-file")).unwrap();
        std::fs::write(
            dir.path().join(".env.local"),
            format!("VERCEL_OIDC_TOKEN=\"{}\"", tok("from-dotenv")),
        )
        .unwrap();
        let project = |env: &Env, flag: Option<&Path>| {
            let t = load(env, flag).unwrap();
            (t.claims().project.clone().unwrap(), t.source().clone())
        };
        let all = Env::from_pairs(
            [
                (
                    vars::VERCEL_OIDC_TOKEN_FILE,
                    file.to_str().unwrap().to_string(),
                ),
                (vars::VERCEL_OIDC_TOKEN, tok("from-env")),
            ],
            dir.path(),
        );
        assert_eq!(
            project(&all, Some(&flag)),
            ("from-flag".into(), TokenSource::Flag(flag.clone()))
        );
        assert_eq!(
            project(&all, None),
            ("from-file".into(), TokenSource::EnvFile(file.clone()))
        );
        let env_only = Env::from_pairs([(vars::VERCEL_OIDC_TOKEN, tok("from-env"))], dir.path());
        assert_eq!(
            project(&env_only, None),
            ("from-env".into(), TokenSource::Env)
        );
        let none = Env::from_pairs::<&str, &str>([], dir.path());
        assert_eq!(
            project(&none, None),
            (
                "from-dotenv".into(),
                TokenSource::DotEnv(dir.path().join(".env.local"))
            )
        );
        let missing = Env::from_pairs(
            [(vars::VERCEL_OIDC_TOKEN_FILE, "/nonexistent/token")],
            dir.path(),
        );
        let err = load(&missing, None).unwrap_err().to_string();
        assert!(err.starts_with("cannot read the Vercel OIDC token from VERCEL_OIDC_TOKEN_FILE (`/nonexistent/token`)"), "{err}");
    }
}
