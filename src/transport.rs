//! What can go wrong between this tool and a token service other than the service refusing the
//! token, written once for every token service: it cannot be reached, it answers with a body it
//! does not send, it redirects, or what it issues is already expired.
//!
//! A token service (AWS STS, Google STS, IAM Credentials, Entra ID) describes itself as a
//! [`TokenService`]: its name, what it issues, and what to check when something goes wrong.
//! Each cloud's error ([`crate::aws::StsError`], [`crate::gcp::GcpError`],
//! [`crate::azure::EntraError`]) holds its own refusal and hint ([`crate::refusal`]) beside a
//! [`TransportError`], whose `Display` is its [`Explanation`]:
//!
//! - ``cannot reach <name> at `<endpoint>`: <detail>``, then [`TokenService::if_unreachable`];
//! - ``<name> at `<endpoint>` answered HTTP <status> with a body <foreign_body>: <detail>``,
//!   then `check that <genuine>` (a body over 1 MiB is one, unread);
//! - ``<name> at `<endpoint>` answered HTTP <status> with a redirect to …, which is not
//!   followed: …``, then [`TokenService::if_redirected`];
//! - ``<name> at `<endpoint>` issued <issues> that cannot be used: <why>``, then
//!   ``check this machine's clock (`date -u`), and that <genuine>``: what was issued has expired
//!   or expires within [`CLOCK_SKEW`].
//!
//! The request goes through `post_form` (a form, as STS, Google STS and Entra ID take) or
//! `send`, both `http::send`: no redirect followed, the body capped; `answer` reads what came
//! back and traces it (`-vv`), and `expires_in` reads the lifetime an OAuth 2.0 token response
//! gives.

use std::time::Duration;

use time::OffsetDateTime;

use crate::http::{self, ReceiveError, Received};
use crate::problem::{Explain, Explanation};
use crate::timefmt;
use crate::token::CLOCK_SKEW;

/// A token service, as its transport errors describe it. Each cloud defines its own as a
/// constant.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenService {
    /// `STS`, `Google STS`, `IAM Credentials`, `Entra ID`.
    pub name: &'static str,
    /// What it issues: `credentials`, `an access token`.
    pub issues: &'static str,
    /// What a body it would not send is, after `with a body `: `that is not an STS response`.
    pub foreign_body: &'static str,
    /// The fix when it cannot be reached.
    pub if_unreachable: &'static str,
    /// The fix when it redirects.
    pub if_redirected: &'static str,
    /// What to check when it answers oddly, after `check that `: that the address is really it
    /// (`the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS`).
    pub genuine: &'static str,
}

/// A token service at an endpoint failed other than by refusing the token; `Display` is the
/// [`Explanation`].
#[derive(Debug, thiserror::Error)]
pub struct TransportError {
    pub service: &'static TokenService,
    pub endpoint: String,
    pub failure: Failure,
}

/// How a token service failed, short of refusing the token.
#[derive(Debug)]
pub enum Failure {
    /// No answer: the network, the proxy, TLS, a timeout.
    Network { detail: String, transient: bool },
    /// An answer that is not one the service sends, or one too large to read.
    BadResponse { status: u16, detail: String },
    /// A redirect, not followed: an [`ReceiveError::Redirect`].
    Redirected(ReceiveError),
    /// Something issued that has expired or is about to.
    Expired { why: String },
}

impl Explain for TransportError {
    fn explain(&self) -> Explanation {
        let (s, endpoint) = (self.service, &self.endpoint);
        let name = s.name;
        match &self.failure {
            Failure::Network { detail, .. } => Explanation::new(
                format!("cannot reach {name} at `{endpoint}`: {detail}"),
                s.if_unreachable,
            ),
            Failure::BadResponse { status, detail } => Explanation::new(
                format!(
                    "{name} at `{endpoint}` answered HTTP {status} with a body {}: {detail}",
                    s.foreign_body
                ),
                format!("check that {}", s.genuine),
            ),
            Failure::Redirected(error) => {
                Explanation::new(format!("{name} at `{endpoint}` {error}"), s.if_redirected)
            }
            Failure::Expired { why } => Explanation::new(
                format!(
                    "{name} at `{endpoint}` issued {} that cannot be used: {why}",
                    s.issues
                ),
                format!(
                    "check this machine's clock (`date -u`), and that {}",
                    s.genuine
                ),
            ),
        }
    }
}

crate::problem::display_as_explained!(TransportError);

impl TransportError {
    pub(crate) fn new(service: &'static TokenService, endpoint: &str, failure: Failure) -> Self {
        Self {
            service,
            endpoint: endpoint.to_string(),
            failure,
        }
    }

    /// Why `service` at `endpoint` could not be read, as [`http::send`] said.
    pub(crate) fn received(
        service: &'static TokenService,
        endpoint: &str,
        error: ReceiveError,
    ) -> Self {
        let failure = match error {
            ReceiveError::Network { detail, transient } => Failure::Network { detail, transient },
            error @ ReceiveError::Redirect { .. } => Failure::Redirected(error),
            ReceiveError::TooLarge { status, limit } => Failure::BadResponse {
                status,
                detail: http::too_large(limit),
            },
        };
        Self::new(service, endpoint, failure)
    }

    /// Whether trying again may help: after a transient network failure, or a body the service
    /// does not send with a status the cloud retries (`retryable`: 5xx, and 429 for some).
    pub fn is_transient(&self, retryable: impl Fn(u16) -> bool) -> bool {
        match &self.failure {
            Failure::Network { transient, .. } => *transient,
            Failure::BadResponse { status, .. } => retryable(*status),
            Failure::Redirected(_) | Failure::Expired { .. } => false,
        }
    }
}

/// Sends `request` to `service` at `endpoint` through [`http::send`].
pub(crate) async fn send(
    service: &'static TokenService,
    endpoint: &str,
    request: reqwest::RequestBuilder,
) -> Result<Received, TransportError> {
    http::send(request)
        .await
        .map_err(|error| TransportError::received(service, endpoint, error))
}

/// Posts the form `body` (already encoded) to `service` at `endpoint` with `http`, asking for
/// `accept` and waiting at most `time_left`, through [`http::send`].
pub(crate) async fn post_form(
    service: &'static TokenService,
    http: &reqwest::Client,
    endpoint: &str,
    body: String,
    accept: &str,
    time_left: Duration,
) -> Result<Received, TransportError> {
    let request = http
        .post(endpoint)
        .timeout(time_left)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(reqwest::header::ACCEPT, accept)
        .body(body);
    send(service, endpoint, request).await
}

/// The status and text of what a token service answered, traced (at `-vv`) as `who` answered.
pub(crate) fn answer(received: &Received, who: &str) -> (u16, String) {
    let text = received.text();
    crate::log::trace!(
        "{who} answered HTTP {} ({} bytes)",
        received.status,
        text.len()
    );
    (received.status, text)
}

/// The `expires_in` of an OAuth 2.0 token response (RFC 6749 §5.1), Entra's and Google STS's:
/// a number, or a numeric string as some servers send it; `None` unless a positive count of
/// seconds.
pub(crate) fn expires_in(value: Option<serde_json::Value>) -> Option<i64> {
    match value {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|s| *s > 0)
}

/// Nothing, unless what `service` at `endpoint` issued, expiring at `expires`, has expired or
/// expires within [`CLOCK_SKEW`] of `now`.
pub(crate) fn check_expiry(
    service: &'static TokenService,
    endpoint: &str,
    expires: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), TransportError> {
    match timefmt::unusable_expiry(expires, now, CLOCK_SKEW) {
        Some(why) => Err(TransportError::new(
            service,
            endpoint,
            Failure::Expired { why },
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::sts::STS;
    use crate::azure::entra::ENTRA_ID;
    use crate::gcp::sts::{GOOGLE_STS, IAM_CREDENTIALS};

    /// Each failure of each service, as shown: the wording each cloud had before the four were
    /// written once.
    #[test]
    fn every_failure_of_every_service_as_shown() {
        let failures = || {
            [
                Failure::Network {
                    detail: "connection refused".into(),
                    transient: true,
                },
                Failure::BadResponse {
                    status: 502,
                    detail: "`<html>`".into(),
                },
                Failure::Redirected(ReceiveError::Redirect {
                    status: 307,
                    location: Some("https://elsewhere.example/".into()),
                    why: "a token is sent only to the endpoint configured",
                }),
                Failure::Expired {
                    why: "it expired 1 minute ago".into(),
                },
            ]
        };
        let redirect = "answered HTTP 307 with a redirect to `https://elsewhere.example/`, which is not followed: a token is sent only to the endpoint configured";
        let cases: [(&TokenService, [String; 4]); 4] = [
            (
                &STS,
                [
                    "cannot reach STS at `https://e/`: connection refused\n  check the network, HTTPS_PROXY/NO_PROXY, and the endpoint (--region, AWS_ENDPOINT_URL_STS)".into(),
                    "STS at `https://e/` answered HTTP 502 with a body that is not an STS response: `<html>`\n  check that the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS".into(),
                    format!("STS at `https://e/` {redirect}\n  point the endpoint (--region, AWS_ENDPOINT_URL_STS) at STS itself, not at an address that redirects"),
                    "STS at `https://e/` issued credentials that cannot be used: it expired 1 minute ago\n  check this machine's clock (`date -u`), and that the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS".into(),
                ],
            ),
            (
                &ENTRA_ID,
                [
                    "cannot reach Entra ID at `https://e/`: connection refused\n  check the network, HTTPS_PROXY/NO_PROXY, SSL_CERT_FILE for a TLS-inspecting proxy, and --authority-host".into(),
                    "Entra ID at `https://e/` answered HTTP 502 with a body that is not a token response: `<html>`\n  check that --authority-host (AZURE_AUTHORITY_HOST) is a Microsoft Entra authority".into(),
                    format!("Entra ID at `https://e/` {redirect}\n  set --authority-host (AZURE_AUTHORITY_HOST) to the authority itself, not to an address that redirects"),
                    "Entra ID at `https://e/` issued an access token that cannot be used: it expired 1 minute ago\n  check this machine's clock (`date -u`), and that --authority-host (AZURE_AUTHORITY_HOST) is a Microsoft Entra authority".into(),
                ],
            ),
            (
                &GOOGLE_STS,
                [
                    "cannot reach Google STS at `https://e/`: connection refused\n  check the network, HTTPS_PROXY/NO_PROXY, and --token-url (VERCEL_OIDC_GCP_TOKEN_URL)".into(),
                    "Google STS at `https://e/` answered HTTP 502 with a body it does not send: `<html>`\n  check that --token-url (VERCEL_OIDC_GCP_TOKEN_URL) points at Google STS".into(),
                    format!("Google STS at `https://e/` {redirect}\n  set --token-url (VERCEL_OIDC_GCP_TOKEN_URL) to Google STS itself, not to an address that redirects"),
                    "Google STS at `https://e/` issued an access token that cannot be used: it expired 1 minute ago\n  check this machine's clock (`date -u`), and that --token-url (VERCEL_OIDC_GCP_TOKEN_URL) points at Google STS".into(),
                ],
            ),
            (
                &IAM_CREDENTIALS,
                [
                    "cannot reach IAM Credentials at `https://e/`: connection refused\n  check the network, HTTPS_PROXY/NO_PROXY, and --impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL)".into(),
                    "IAM Credentials at `https://e/` answered HTTP 502 with a body it does not send: `<html>`\n  check that --impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL) points at IAM Credentials".into(),
                    format!("IAM Credentials at `https://e/` {redirect}\n  set --impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL) to IAM Credentials itself, not to an address that redirects"),
                    "IAM Credentials at `https://e/` issued an access token that cannot be used: it expired 1 minute ago\n  check this machine's clock (`date -u`), and that --impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL) points at IAM Credentials".into(),
                ],
            ),
        ];
        for (service, shown) in cases {
            for (failure, want) in failures().into_iter().zip(shown) {
                let error = TransportError::new(service, "https://e/", failure);
                assert_eq!(error.to_string(), want);
            }
        }
    }

    #[test]
    fn transient_when_the_network_or_the_cloud_says_so() {
        let error = |failure| TransportError::new(&STS, "https://e/", failure);
        let network = |transient| {
            error(Failure::Network {
                detail: String::new(),
                transient,
            })
        };
        let bad = |status| {
            error(Failure::BadResponse {
                status,
                detail: String::new(),
            })
        };
        let expired = error(Failure::Expired { why: String::new() });
        let server_error = |status: u16| status >= 500;
        assert!(network(true).is_transient(server_error));
        assert!(!network(false).is_transient(server_error));
        assert!(bad(503).is_transient(server_error));
        assert!(!bad(429).is_transient(server_error));
        assert!(!expired.is_transient(|_| true));
    }
}
