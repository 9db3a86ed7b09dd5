//! The HTTP clients, the one way responses are read, the redaction of server text, and the
//! retry loop around requests.
//!
//! - rustls with the Mozilla roots compiled in, plus every certificate in the PEM file named by
//!   `SSL_CERT_FILE` (for a corporate proxy or a test CA; a regular file of at most 8 MiB holding
//!   at least one certificate). No OpenSSL.
//! - The proxy from `HTTPS_PROXY` / `https_proxy`, with `NO_PROXY` / `no_proxy` exceptions. The
//!   proxy rule: this machine (127.0.0.0/8, `::1`, `localhost`) is always reached directly,
//!   whatever those variables say, so a local STS or emulator gets its requests and no proxy
//!   sees them; and a token never travels over plain http to another machine
//!   ([`check_endpoint`] refuses such an endpoint where it is set, and [`send`] again before
//!   sending), so a proxy carries a token only inside a TLS tunnel (`CONNECT`). Plain http goes
//!   only to this machine, so `HTTP_PROXY` is not read; nor is `ALL_PROXY`.
//! - Connect timeout 3 s, whole-request timeout 10 s, `User-Agent: vercel-oidc/<version>`.
//! - Redirects. A request that carries a token or a credential ([`client`]: AWS STS, Google STS,
//!   IAM Credentials, Entra ID, the Vercel API) follows none: a 3xx is an error naming its
//!   `Location`, and nothing is sent there (OAuth 2.0 Security BCP: credentials go only to the
//!   endpoint configured; none of these services redirects a token request). A public document
//!   ([`document_client`]: `verify`'s discovery and JWKS, the Vercel OAuth discovery) follows
//!   up to 5 redirects, each to https or to plain http on this machine.
//! - Bodies: every response body is read through [`send`] or [`fetch`], chunk by chunk, and
//!   refused once past [`limits::HTTP_BODY`] (1 MiB), without reading the rest.
//! - Server text: whatever a server says that reaches a message goes through [`server_text`]
//!   (or [`excerpt`]) first: [`redact`]ed, so an endpoint that echoes the request cannot print
//!   the token, and escaped ([`crate::outside::escaped`]), so it cannot drive the terminal.

use crate::vars;
use std::ops::Range;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::env::Env;
use crate::fsutil::{self, Limit, ReadError, limits};

pub const USER_AGENT: &str = concat!("vercel-oidc/", env!("CARGO_PKG_VERSION"));

/// The most redirects a document fetch follows.
const MAX_DOCUMENT_REDIRECTS: usize = 5;

/// Why the HTTP client cannot be set up; `Display` is the
/// [`Explanation`](crate::problem::Explanation).
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    CertFile {
        path: PathBuf,
        error: ReadError,
    },
    CertParse {
        path: PathBuf,
        error: reqwest::Error,
    },
    NoCertificate {
        path: PathBuf,
    },
    Proxy {
        var: &'static str,
        value: String,
        error: reqwest::Error,
    },
    Build(reqwest::Error),
}

impl crate::problem::Explain for HttpSetupError {
    fn explain(&self) -> crate::problem::Explanation {
        use crate::problem::Explanation as E;
        match self {
            Self::CertFile { path, error } => E::new(
                format!(
                    "cannot read SSL_CERT_FILE `{}`: {}",
                    path.display(),
                    error.reason()
                ),
                format!(
                    "point SSL_CERT_FILE at a PEM bundle (a regular file of at most {}), or unset it",
                    fsutil::human_bytes(limits::CERT_FILE.bytes)
                ),
            ),
            Self::CertParse { path, error } => E::new(
                format!(
                    "SSL_CERT_FILE `{}` holds no usable PEM certificate: {error}",
                    path.display()
                ),
                "point SSL_CERT_FILE at a PEM bundle, or unset it",
            ),
            Self::NoCertificate { path } => E::new(
                format!(
                    "SSL_CERT_FILE `{}` holds no certificate (no `-----BEGIN CERTIFICATE-----` block)",
                    path.display()
                ),
                "point SSL_CERT_FILE at a PEM bundle of CA certificates, or unset it",
            ),
            Self::Proxy { var, value, error } => E::new(
                format!("invalid proxy URL in {var} (`{value}`): {error}"),
                format!("fix or unset {var}"),
            ),
            Self::Build(error) => crate::problem::Explanation {
                problem: format!("cannot set up the HTTP client: {error}"),
                fix: None,
            },
        }
    }
}

crate::problem::display_as_explained!(HttpSetupError);

/// The client for requests that carry a token or a credential: configured from `env` as the
/// module docs say, and following no redirect.
pub fn client(env: &Env) -> Result<reqwest::Client, HttpSetupError> {
    build(env, reqwest::redirect::Policy::none())
}

/// The client for public documents (`verify`'s discovery and JWKS): follows up to 5 redirects,
/// each to https or to plain http on this machine; any other is left as the 3xx it is, which
/// [`fetch`] reports.
pub fn document_client(env: &Env) -> Result<reqwest::Client, HttpSetupError> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_DOCUMENT_REDIRECTS
            || check_endpoint(attempt.url().as_str()).is_err()
        {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    build(env, policy)
}

fn build(
    env: &Env,
    redirect: reqwest::redirect::Policy,
) -> Result<reqwest::Client, HttpSetupError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .redirect(redirect)
        .no_proxy();
    if let Some(path) = env.get(vars::SSL_CERT_FILE) {
        let path = PathBuf::from(path);
        let pem = fsutil::read_capped(&path, limits::CERT_FILE).map_err(|error| {
            HttpSetupError::CertFile {
                path: path.clone(),
                error,
            }
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
            HttpSetupError::CertParse {
                path: path.clone(),
                error,
            }
        })?;
        if certs.is_empty() {
            return Err(HttpSetupError::NoCertificate { path });
        }
        crate::log::debug!(
            "trusting {} extra certificate(s) from SSL_CERT_FILE",
            certs.len()
        );
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(proxy) = proxy(env)? {
        builder = builder.proxy(proxy);
    }
    builder.build().map_err(HttpSetupError::Build)
}

/// This machine, as a `NO_PROXY` list: what is always reached directly (the proxy rule). The
/// same hosts [`is_loopback`] names, matched by reqwest as address ranges, not as text.
const THIS_MACHINE: &str = "127.0.0.0/8,::1,localhost";

/// The proxy `HTTPS_PROXY` (else `https_proxy`) names, if any, with its exceptions: `NO_PROXY`
/// (else `no_proxy`) and, whatever those say, this machine ([`THIS_MACHINE`]).
fn proxy(env: &Env) -> Result<Option<reqwest::Proxy>, HttpSetupError> {
    let Some((var, value)) = [vars::HTTPS_PROXY, vars::HTTPS_PROXY_LOWER]
        .into_iter()
        .find_map(|v| env.get(v).map(|value| (v, value)))
    else {
        return Ok(None);
    };
    let proxy = reqwest::Proxy::https(value).map_err(|error| HttpSetupError::Proxy {
        var,
        value: without_userinfo(value),
        error,
    })?;
    let user = env
        .get(vars::NO_PROXY)
        .or(env.get(vars::NO_PROXY_LOWER))
        .unwrap_or("");
    let direct = reqwest::NoProxy::from_string(&format!("{user},{THIS_MACHINE}"));
    crate::log::debug!("using the proxy from {var}, except for this machine");
    Ok(Some(proxy.no_proxy(direct)))
}

/// A response read whole, within [`limits::HTTP_BODY`].
#[derive(Debug)]
pub struct Received {
    pub status: u16,
    /// Where the answer came from (after the redirects a document fetch followed).
    pub url: reqwest::Url,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    /// The body as text; bytes that are not UTF-8 become U+FFFD.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a response could not be had or read. Display says what happened, for the caller to put
/// after the service and endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("{detail}")]
    Network { detail: String, transient: bool },
    #[error(
        "answered HTTP {status} with a redirect to {}, which is not followed: {why}",
        shown_location(location.as_deref())
    )]
    Redirect {
        status: u16,
        location: Option<String>,
        why: &'static str,
    },
    #[error(
        "answered HTTP {status} with a body larger than {}, the limit for {}; the rest was not read",
        fsutil::human_bytes(limit.bytes),
        limit.what
    )]
    TooLarge { status: u16, limit: Limit },
}

impl ReceiveError {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Network {
                transient: true,
                ..
            }
        )
    }
}

/// A proxy address as it may be shown: any `user:password@` before the host replaced.
fn without_userinfo(value: &str) -> String {
    let (scheme, rest) = value.split_once("://").unwrap_or(("", value));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let shown = format!("[redacted]@{}", &rest[at + 1..]);
            if scheme.is_empty() {
                shown
            } else {
                format!("{scheme}://{shown}")
            }
        }
        None => value.to_string(),
    }
}

/// `it is larger than 1 MiB, the limit for an HTTP response; …`: the detail of a body refused
/// for its size, for the callers that report it as an unexpected body.
pub fn too_large(limit: Limit) -> String {
    format!(
        "it is larger than {}, the limit for {}; the rest was not read",
        fsutil::human_bytes(limit.bytes),
        limit.what
    )
}

fn shown_location(location: Option<&str>) -> String {
    match location {
        Some(l) => format!("`{}`", shown(&redact(l, &[]), 200)),
        None => "nowhere (no `Location`)".into(),
    }
}

const TOKEN_REDIRECT: &str = "a token is sent only to the endpoint configured";

/// Sends a request that carries a token or a credential and reads the answer: a redirect is an
/// error (and, should the client have followed one, so is an answer from another address), and
/// the body is capped at [`limits::HTTP_BODY`]. Build the client with [`client`]. A request to
/// an address [`check_endpoint`] refuses (plain http to another machine) is not sent at all:
/// every caller checks its endpoint first, and this keeps a token out of the clear, and out of
/// a proxy, should one forget.
pub async fn send(request: reqwest::RequestBuilder) -> Result<Received, ReceiveError> {
    let (client, request) = request.build_split();
    let request = request.map_err(network)?;
    let requested = request.url().clone();
    if let Err(why) = check_endpoint(requested.as_str()) {
        return Err(ReceiveError::Network {
            detail: format!("nothing was sent: {why}"),
            transient: false,
        });
    }
    let sent = sent_secrets(&request);
    let sent: Vec<&str> = sent.iter().map(String::as_str).collect();
    let response = client.execute(request).await.map_err(network)?;
    let status = response.status().as_u16();
    // A server may echo what it was sent into the address it redirects to.
    let redirect = |location: Option<String>| ReceiveError::Redirect {
        status,
        location: location.map(|l| redact(&l, &sent)),
        why: TOKEN_REDIRECT,
    };
    if response.status().is_redirection() {
        return Err(redirect(location(&response)));
    }
    if response.url() != &requested {
        return Err(redirect(Some(response.url().to_string())));
    }
    read_body(response).await
}

/// What a request carries that must never be shown: its `Authorization` credential and the
/// values of its form body.
fn sent_secrets(request: &reqwest::Request) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some(auth) = request
        .headers()
        .get(reqwest::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        secrets.push(auth.to_string());
        if let Some((_, credential)) = auth.split_once(' ') {
            secrets.push(credential.trim().to_string());
        }
    }
    if let Some(body) = request.body().and_then(reqwest::Body::as_bytes) {
        secrets.extend(url::form_urlencoded::parse(body).map(|(_, v)| v.into_owned()));
    }
    secrets
}

/// Fetches a public document with a client from [`document_client`]: the redirects it allows
/// are followed, a 3xx it stopped at is an error naming its `Location`, and the body is capped
/// at [`limits::HTTP_BODY`].
pub async fn fetch(request: reqwest::RequestBuilder) -> Result<Received, ReceiveError> {
    let response = request.send().await.map_err(network)?;
    if response.status().is_redirection() {
        return Err(ReceiveError::Redirect {
            status: response.status().as_u16(),
            location: location(&response),
            why: "a document is fetched only over https (or plain http on this machine), through at most 5 redirects",
        });
    }
    read_body(response).await
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
}

fn network(e: reqwest::Error) -> ReceiveError {
    let (detail, transient) = describe_failure(&e);
    ReceiveError::Network { detail, transient }
}

/// Reads the body chunk by chunk, refusing it once past the cap (at once when its declared
/// length already is).
async fn read_body(mut response: reqwest::Response) -> Result<Received, ReceiveError> {
    let limit = limits::HTTP_BODY;
    let status = response.status().as_u16();
    let too_large = || ReceiveError::TooLarge { status, limit };
    if response.content_length().is_some_and(|n| n > limit.bytes) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if (body.len() + chunk.len()) as u64 > limit.bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received {
        status,
        url: response.url().clone(),
        headers: response.headers().clone(),
        body,
    })
}

/// When to try again: bounded in attempts and in total time, with jittered exponential backoff.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff; each later one doubles, up to `max_backoff`.
    pub base: Duration,
    pub max_backoff: Duration,
    /// No new attempt starts once this much time has passed since the first.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            budget: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The pause before attempt `attempt + 1` (attempts count from 1): full jitter over an
    /// exponentially growing cap.
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .base
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        cap.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    /// Runs `op` until it succeeds, fails with an error `is_transient` rejects, or the attempts
    /// or the time budget run out; returns the last result. Each attempt is told how much of the
    /// budget is left, to use as its request timeout, so that a server that accepts the
    /// connection and never answers cannot hold the caller past the budget.
    pub(crate) async fn run<T, E, F, Fut>(
        &self,
        is_transient: impl Fn(&E) -> bool,
        mut op: F,
    ) -> Result<T, E>
    where
        F: FnMut(Attempt) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let start = Instant::now();
        let mut number = 1;
        loop {
            let time_left = self
                .budget
                .saturating_sub(start.elapsed())
                .max(MIN_ATTEMPT_TIME);
            match op(Attempt { number, time_left }).await {
                Ok(v) => return Ok(v),
                Err(e) if number < self.max_attempts && is_transient(&e) => {
                    let pause = self.backoff(number);
                    if start.elapsed() + pause >= self.budget {
                        crate::log::debug!("attempt {number} failed; out of retry time");
                        return Err(e);
                    }
                    crate::log::debug!(
                        "attempt {number} failed with a transient error; retrying in {pause:?}"
                    );
                    tokio::time::sleep(pause).await;
                    number += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The shortest time an attempt is given, however little of the budget is left.
const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(500);

/// One attempt of [`RetryPolicy::run`]: its number (from 1) and the time it may take.
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    pub number: u32,
    pub time_left: Duration,
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number)
    }
}

/// A network failure as one line (the error and its causes), and whether trying again may
/// help: timeouts and connection failures may pass; a certificate this machine does not trust
/// stays untrusted.
pub fn describe_failure(e: &reqwest::Error) -> (String, bool) {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    let transient = (e.is_timeout() || e.is_connect() || e.is_request() || e.is_body())
        && !detail.contains("certificate");
    (detail, transient)
}

/// The start of a response body that is not what was expected, for an error message:
/// [`redact`]ed (with `sent`, the secrets the request carried), at most 200 characters, in
/// backticks.
pub fn excerpt(text: &str, sent: &[&str]) -> String {
    let t = shown(&redact(text, sent), 200);
    if t.trim().is_empty() {
        "(empty body)".into()
    } else {
        format!("`{}`", t.trim())
    }
}

/// Text a server sent (an error message, a code, an id), made fit to show: [`redact`]ed with
/// `sent`, control and invisible characters escaped ([`crate::outside::escaped`]), at most 1000
/// characters.
pub fn server_text(text: &str, sent: &[&str]) -> String {
    shown(&redact(text, sent), 1000)
}

/// [`crate::outside::escaped_within`]: control and invisible characters escaped, cut to at most
/// `max` characters of output (then `…`).
fn shown(text: &str, max: usize) -> String {
    crate::outside::escaped_within(text, max)
}

/// What replaces a secret in text that is shown.
pub const REDACTED: &str = "[redacted]";

/// Replaces every secret-looking part of `text` with `[redacted]`: each of `sent` (the token or
/// credential a request carried) wherever it appears; anything shaped like a JWT (`eyJ…`); AWS
/// access key ids (`AKIA`/`ASIA` and 16 or more capitals and digits); the value after a key
/// that names a secret (`access_token`, `id_token`, `refresh_token`, `accessToken`,
/// `SessionToken`, `SecretAccessKey`, `WebIdentityToken`, `client_assertion`, `"token"`, …, in
/// JSON, form, header or XML form); the credential after `Bearer`; and long opaque values: a run
/// of 40 or more base64 characters with both cases (an AWS secret key is 40, a session token
/// hundreds) that is not a path.
pub fn redact(text: &str, sent: &[&str]) -> String {
    let mut ranges = Vec::new();
    for secret in sent.iter().filter(|s| s.len() >= 8) {
        ranges.extend(text.match_indices(secret).map(|(i, m)| i..i + m.len()));
    }
    jwt_ranges(text, &mut ranges);
    key_id_ranges(text, &mut ranges);
    keyed_value_ranges(text, &mut ranges);
    opaque_ranges(text, &mut ranges);
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        if r.end <= at {
            continue;
        }
        if r.start >= at {
            out.push_str(&text[at..r.start]);
            out.push_str(REDACTED);
        }
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The end of the run of bytes from `start` that satisfy `keep`.
fn run_end(text: &str, start: usize, keep: impl Fn(u8) -> bool) -> usize {
    text.as_bytes()[start..]
        .iter()
        .position(|b| !keep(*b))
        .map_or(text.len(), |n| start + n)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn jwt_ranges(text: &str, out: &mut Vec<Range<usize>>) {
    for (i, _) in text.match_indices("eyJ") {
        let end = run_end(text, i, |b| {
            b.is_ascii_alphanumeric() || b"-_.=%".contains(&b)
        });
        out.push(i..end);
    }
}

fn key_id_ranges(text: &str, out: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    for prefix in ["AKIA", "ASIA"] {
        for (i, _) in text.match_indices(prefix) {
            if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
                continue;
            }
            let end = run_end(text, i + 4, |b| {
                b.is_ascii_uppercase() || b.is_ascii_digit()
            });
            if end - (i + 4) >= 16 {
                out.push(i..end);
            }
        }
    }
}

/// Keys whose value is a secret, lowercase. `token` alone counts only when quoted or followed by
/// `=`, so that prose (`invalid token: …`) keeps its words.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "accesstoken",
    "id_token",
    "idtoken",
    "refresh_token",
    "refreshtoken",
    "subject_token",
    "client_assertion",
    "client_secret",
    "assertion",
    "webidentitytoken",
    "sessiontoken",
    "session_token",
    "secretaccesskey",
    "secret_access_key",
    "aws_secret_access_key",
    "aws_session_token",
    "password",
    "token",
];

fn keyed_value_ranges(text: &str, out: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_word_byte(bytes[i]) || (i > 0 && is_word_byte(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let end = run_end(text, i, is_word_byte);
        let word = text[i..end].to_ascii_lowercase();
        if word == "bearer" {
            let value = run_end(text, end, |b| b == b' ');
            if value > end {
                let stop = run_end(text, value, |b| {
                    !b.is_ascii_whitespace() && !b"\"'<,".contains(&b)
                });
                if stop > value {
                    out.push(value..stop);
                }
            }
        } else if SECRET_KEYS.contains(&word.as_str()) {
            let quoted = i > 0 && matches!(bytes[i - 1], b'"' | b'\'');
            let xml = i > 0 && bytes[i - 1] == b'<';
            let mut j = end;
            if j < bytes.len() && matches!(bytes[j], b'"' | b'\'') {
                j += 1;
            }
            j = run_end(text, j, |b| b == b' ');
            let separator = bytes.get(j).copied();
            let accepted = match separator {
                Some(b'=') => true,
                Some(b':') => word != "token" || quoted,
                Some(b'>') => xml,
                _ => false,
            };
            if accepted {
                let mut v = run_end(text, j + 1, |b| b == b' ');
                if v < bytes.len() && matches!(bytes[v], b'"' | b'\'') {
                    v += 1;
                }
                let stop = run_end(text, v, |b| {
                    !b.is_ascii_whitespace() && !b"\"'&,;<>}]".contains(&b)
                });
                if stop > v {
                    out.push(v..stop);
                }
            }
        }
        i = end;
    }
}

/// Runs of base64 (or base64url) characters of 40 or more with upper and lower case: exactly
/// 40 is the shape of an AWS secret key; longer ones must also hold a digit and not read as a
/// path (single `/`s at least every 20 characters, as in `projects/123/locations/global/…`;
/// AWS session tokens hold runs of `/`).
fn opaque_ranges(text: &str, out: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b"+/_-".contains(&b);
    let mut i = 0;
    while i < bytes.len() {
        if !is_b64(bytes[i]) {
            i += 1;
            continue;
        }
        let end = run_end(text, i, is_b64);
        let run = &bytes[i..end];
        let len = run.len();
        let upper = run.iter().any(u8::is_ascii_uppercase);
        let lower = run.iter().any(u8::is_ascii_lowercase);
        let digit = run.iter().any(u8::is_ascii_digit);
        let slashes = run.iter().filter(|b| **b == b'/').count();
        let path_like = slashes * 20 >= len && !run.windows(2).any(|w| w == b"//");
        let secret_key = len == 40 && upper && lower;
        let opaque = len > 40 && upper && lower && digit && !path_like;
        if secret_key || opaque {
            out.push(i..end);
        }
        i = end;
    }
}

/// Whether `url` may carry a token: https anywhere, plain http only to this machine.
pub fn check_endpoint(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL ({e})"))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(format!(
            "`{url}` is plain http; the token would cross the network unencrypted: use https"
        )),
        other => Err(format!("`{url}` has scheme `{other}`; use https")),
    }
}

/// Whether `url`'s host is one of `domains` or below one of them, or this machine: what a
/// project file may send a token to.
pub(crate) fn host_within(url: &reqwest::Url, domains: &[&str]) -> bool {
    let within = |host: &str| {
        domains
            .iter()
            .any(|d| host == *d || host.strip_suffix(d).is_some_and(|rest| rest.ends_with('.')))
    };
    is_loopback(url) || url.host_str().is_some_and(within)
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..RetryPolicy::default()
        }
    }

    /// A transient error is tried until the attempts run out; a permanent one fails at once.
    #[tokio::test]
    async fn attempts_made_for_transient_and_permanent_errors() {
        for (transient, error, attempts) in [(true, "busy", 4), (false, "denied", 1)] {
            let calls = AtomicU32::new(0);
            let r: Result<(), &str> = fast()
                .run(
                    |_| transient,
                    |_| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        async move { Err(error) }
                    },
                )
                .await;
            assert_eq!(r, Err(error));
            assert_eq!(calls.load(Ordering::SeqCst), attempts, "{error}");
        }
    }

    /// The budget, not the 100 attempts allowed, ends it: each pause is 10 to 20 ms and all of
    /// them fit in the 100 ms budget, so at most 11 attempts start. Counted, not timed: a loaded
    /// machine only makes fewer.
    #[tokio::test]
    async fn budget_bounds_total_time() {
        let policy = RetryPolicy {
            max_attempts: 100,
            base: Duration::from_millis(20),
            max_backoff: Duration::from_millis(20),
            budget: Duration::from_millis(100),
        };
        let calls = AtomicU32::new(0);
        let r: Result<(), ()> = policy
            .run(
                |_| true,
                |_| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Err(()) }
                },
            )
            .await;
        assert!(r.is_err());
        assert!((1..=11).contains(&calls.load(Ordering::SeqCst)));
    }

    /// A listener standing in for a proxy: whether anything connected to it.
    fn idle_proxy() -> (std::net::TcpListener, String) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        (listener, url)
    }

    /// Even with a client that has a plain-http proxy (the provider takes one from its caller).
    #[tokio::test]
    async fn a_token_is_never_sent_in_the_clear_to_another_machine() {
        let (proxy, proxy_url) = idle_proxy();
        let client = reqwest::Client::builder()
            .proxy(reqwest::Proxy::http(&proxy_url).unwrap())
            .build()
            .unwrap();
        let request = client
            .post("http://sts.example.com/")
            .timeout(Duration::from_secs(2))
            .body("WebIdentityToken=eyJ.x.y");
        let err = send(request).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "nothing was sent: `http://sts.example.com/` is plain http; the token would cross the network unencrypted: use https"
        );
        assert!(!err.is_transient());
        assert!(proxy.accept().is_err(), "the proxy was reached");
    }

    #[test]
    fn proxy_addresses_are_shown_without_their_credentials() {
        assert_eq!(
            without_userinfo("http://me:s3cret@proxy:8080/x"),
            "http://[redacted]@proxy:8080/x"
        );
        assert_eq!(without_userinfo("me:s3cret@proxy"), "[redacted]@proxy");
        assert_eq!(
            without_userinfo("http://proxy:8080/a@b"),
            "http://proxy:8080/a@b"
        );
    }

    #[test]
    fn excerpts_hide_echoed_tokens() {
        let body = "Action=AssumeRoleWithWebIdentity&WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln&X=1";
        assert_eq!(
            excerpt(body, &[]),
            "`Action=AssumeRoleWithWebIdentity&WebIdentityToken=[redacted]&X=1`"
        );
        assert_eq!(excerpt("  ", &[]), "(empty body)");
        assert_eq!(
            excerpt(&"a".repeat(300), &[]),
            format!("`{}…`", "a".repeat(200))
        );
    }

    #[test]
    fn redaction_table() {
        let sent = "my-token-value-0123";
        let cases: &[(&str, &str)] = &[
            ("plain words stay", "plain words stay"),
            ("echo my-token-value-0123 back", "echo [redacted] back"),
            ("jwt eyJhbGciOi.eyJzdWIi.c2ln end", "jwt [redacted] end"),
            ("id ASIAABCDEFGHIJKLMNOP here", "id [redacted] here"),
            ("AKIAABCDEFGHIJKLMNOPQR", "[redacted]"),
            ("ASIA123 is short", "ASIA123 is short"),
            ("XASIAABCDEFGHIJKLMNOP", "XASIAABCDEFGHIJKLMNOP"),
            (
                "key wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY.",
                "key [redacted].",
            ),
            (
                r#"{"access_token":"ya29.a0Af-x_y","token_type":"Bearer"}"#,
                r#"{"access_token":"[redacted]","token_type":"Bearer"}"#,
            ),
            (
                r#"{"accessToken": "ya29.sa", "expireTime": "x"}"#,
                r#"{"accessToken": "[redacted]", "expireTime": "x"}"#,
            ),
            ("id_token=abc.def&x=1", "id_token=[redacted]&x=1"),
            (
                "refresh_token: r-123 next",
                "refresh_token: [redacted] next",
            ),
            (r#"{"token":"vca_123"}"#, r#"{"token":"[redacted]"}"#),
            ("token=vca_123", "token=[redacted]"),
            ("invalid token: it expired", "invalid token: it expired"),
            ("the token has expired", "the token has expired"),
            (
                "<SessionToken>FwoGZXIvYXdz</SessionToken>",
                "<SessionToken>[redacted]</SessionToken>",
            ),
            (
                "WebIdentityToken=abc%2Edef&RoleArn=x",
                "WebIdentityToken=[redacted]&RoleArn=x",
            ),
            (
                "client_assertion=abc&scope=s",
                "client_assertion=[redacted]&scope=s",
            ),
            (
                "Authorization: Bearer vca_LoginToken42 rest",
                "Authorization: Bearer [redacted] rest",
            ),
            (
                "session FwoGZXIvYXdzEKnSESSIONTOKENsecret0123456789abcdefABCDEF+/xyz end",
                "session [redacted] end",
            ),
            (
                "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD9a8s7d6f5g4h3j2k1l0z",
                "[redacted]",
            ),
            (
                "expected audience //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel.",
                "expected audience //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel.",
            ),
            (
                "AADSTS70021: No matching federated identity record found for presented assertion. Trace ID: 0f8b1c2e-1111-2222-3333-444455556666",
                "AADSTS70021: No matching federated identity record found for presented assertion. Trace ID: 0f8b1c2e-1111-2222-3333-444455556666",
            ),
            (
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            ),
            (
                "prj_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9",
                "prj_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9",
            ),
            ("ünïcode my-token-value-0123 ü", "ünïcode [redacted] ü"),
        ];
        for (text, want) in cases {
            assert_eq!(redact(text, &[sent]), *want, "{text}");
        }
    }

    #[test]
    fn server_text_escapes_and_cuts() {
        assert_eq!(
            server_text("a\nb\u{1b}[31m\u{202e}", &[]),
            "a\\nb\\x1b[31m\\u{202e}"
        );
        assert_eq!(server_text(&"x".repeat(1001), &[]).chars().count(), 1001);
        assert_eq!(
            server_text(&"\u{14}".repeat(1000), &[]).chars().count(),
            1001
        );
    }

    #[test]
    fn endpoint_schemes() {
        assert!(check_endpoint("https://sts.amazonaws.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1:5000").is_ok());
        assert!(check_endpoint("http://localhost:5000/").is_ok());
        assert!(check_endpoint("http://[::1]:5000/").is_ok());
        assert!(
            check_endpoint("http://sts.example.com")
                .unwrap_err()
                .contains("plain http")
        );
        assert!(
            check_endpoint("ftp://x")
                .unwrap_err()
                .contains("scheme `ftp`")
        );
        assert!(check_endpoint("not a url").is_err());
    }
}
