//! The HTTP client every exchange uses, and the retry loop around it.
//!
//! - rustls with the Mozilla roots compiled in, plus every certificate in the PEM file named by
//!   `SSL_CERT_FILE` (for a corporate proxy or a test CA). No OpenSSL.
//! - Proxies from `HTTPS_PROXY` / `https_proxy` (and `HTTP_PROXY` for plain-http endpoints), with
//!   `NO_PROXY` / `no_proxy` exceptions.
//! - Connect timeout 3 s, whole-request timeout 10 s, `User-Agent: vercel-oidc/<version>`.

use std::time::{Duration, Instant};

use crate::env::Env;

pub const USER_AGENT: &str = concat!("vercel-oidc/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    #[error(
        "cannot read SSL_CERT_FILE `{path}`: {error}\n  point SSL_CERT_FILE at a PEM bundle, or unset it"
    )]
    CertFile { path: String, error: std::io::Error },
    #[error(
        "SSL_CERT_FILE `{path}` holds no usable PEM certificate: {error}\n  point SSL_CERT_FILE at a PEM bundle, or unset it"
    )]
    CertParse { path: String, error: reqwest::Error },
    #[error("invalid proxy URL in {var} (`{value}`): {error}\n  fix or unset {var}")]
    Proxy {
        var: &'static str,
        value: String,
        error: reqwest::Error,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Build(reqwest::Error),
}

/// Builds the client, configured from `env` as described in the module docs.
pub fn client(env: &Env) -> Result<reqwest::Client, HttpSetupError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .no_proxy();
    if let Some(path) = env.get("SSL_CERT_FILE") {
        let pem = std::fs::read(path).map_err(|error| HttpSetupError::CertFile {
            path: path.into(),
            error,
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
            HttpSetupError::CertParse {
                path: path.into(),
                error,
            }
        })?;
        crate::debug!(
            "trusting {} extra certificate(s) from SSL_CERT_FILE",
            certs.len()
        );
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    let no_proxy =
        reqwest::NoProxy::from_string(env.get("NO_PROXY").or(env.get("no_proxy")).unwrap_or(""));
    let https: fn(&str) -> reqwest::Result<reqwest::Proxy> = |u| reqwest::Proxy::https(u);
    let http: fn(&str) -> reqwest::Result<reqwest::Proxy> = |u| reqwest::Proxy::http(u);
    for (vars, make) in [
        (["HTTPS_PROXY", "https_proxy"], https),
        (["HTTP_PROXY", "http_proxy"], http),
    ] {
        let Some((var, value)) = vars.iter().find_map(|v| env.get(v).map(|val| (*v, val))) else {
            continue;
        };
        let proxy = make(value).map_err(|error| HttpSetupError::Proxy {
            var,
            value: value.into(),
            error,
        })?;
        crate::debug!("using the proxy from {var}");
        builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
    }
    builder.build().map_err(HttpSetupError::Build)
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
    pub async fn run<T, E, F, Fut>(
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
                        crate::debug!("attempt {number} failed; out of retry time");
                        return Err(e);
                    }
                    crate::debug!(
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

/// The start of a response body that is not what was expected, for an error message, with
/// anything shaped like a JWT replaced: a misconfigured endpoint may echo the request back.
pub fn excerpt(text: &str) -> String {
    let t: String = redact_jwts(text).chars().take(200).collect();
    if t.trim().is_empty() {
        "(empty body)".into()
    } else {
        format!("`{}`", t.trim())
    }
}

fn redact_jwts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("eyJ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.=%".contains(c)))
            .unwrap_or(tail.len());
        out.push_str("[redacted]");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
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

    #[tokio::test]
    async fn retries_transient_until_attempts_run_out() {
        let calls = AtomicU32::new(0);
        let r: Result<(), &str> = fast()
            .run(
                |_| true,
                |_| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Err("busy") }
                },
            )
            .await;
        assert_eq!(r, Err("busy"));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn permanent_errors_fail_at_once() {
        let calls = AtomicU32::new(0);
        let r: Result<(), &str> = fast()
            .run(
                |_| false,
                |_| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Err("denied") }
                },
            )
            .await;
        assert_eq!(r, Err("denied"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn budget_bounds_total_time() {
        let policy = RetryPolicy {
            max_attempts: 100,
            base: Duration::from_millis(20),
            max_backoff: Duration::from_millis(20),
            budget: Duration::from_millis(100),
        };
        let start = Instant::now();
        let r: Result<(), ()> = policy.run(|_| true, |_| async { Err(()) }).await;
        assert!(r.is_err());
        assert!(start.elapsed() < Duration::from_millis(400));
    }

    #[test]
    fn excerpts_hide_echoed_tokens() {
        let body = "Action=AssumeRoleWithWebIdentity&WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln&X=1";
        assert_eq!(
            excerpt(body),
            "`Action=AssumeRoleWithWebIdentity&WebIdentityToken=[redacted]&X=1`"
        );
        assert_eq!(excerpt("  "), "(empty body)");
        assert_eq!(excerpt(&"a".repeat(300)).len(), 202);
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
