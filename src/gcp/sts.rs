//! The exchange for an access token of our own: Google STS, then IAM Credentials when a service
//! account is impersonated.
//!
//! 1. `POST <token_url>`, `Content-Type: application/x-www-form-urlencoded`, body
//!    `grant_type=urn:ietf:params:oauth:grant-type:token-exchange&audience=<audience>&scope=<scopes, space-joined>&requested_token_type=urn:ietf:params:oauth:token-type:access_token&subject_token=<token>&subject_token_type=urn:ietf:params:oauth:token-type:jwt`
//!    → `{"access_token","issued_token_type","token_type","expires_in"}`. With impersonation the
//!    scope is `https://www.googleapis.com/auth/cloud-platform` (what IAM Credentials needs),
//!    else the requested scopes.
//! 2. With a service account: `POST <service_account_impersonation_url>`,
//!    `Authorization: Bearer <STS token>`, `Content-Type: application/json`, body
//!    `{"scope":[…],"lifetime":"<N>s"}` → `{"accessToken","expireTime"}`.
//!
//! Errors: STS answers `{"error","error_description"}`, IAM Credentials
//! `{"error":{"code","message","status"}}`; both become [`GcpError`]s with hints naming the
//! token's claims and the set-up that would accept them ([`crate::gcp::trust`]).
//! Retried: HTTP 429 and 5xx, timeouts and connection failures; everything else fails at once.
//! Neither request follows a redirect (an error naming its `Location`); bodies over 1 MiB are
//! not read; what the servers say is shown only after [`http::server_text`] has redacted it
//! (the Vercel token, the STS token sent on to IAM Credentials, anything credential-shaped);
//! an access token that has expired or expires within [`CLOCK_SKEW`](crate::token::CLOCK_SKEW)
//! is an error. Those failures other than a refusal are [`TransportError`]s, worded as
//! [`GOOGLE_STS`] and [`IAM_CREDENTIALS`] say.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::gcp::{CLOUD_PLATFORM_SCOPE, GcpConfig, Impersonation, JWT_TOKEN_TYPE, trust};
use crate::http::{self, RetryPolicy};
use crate::problem::{Explain, Explanation};
use crate::refusal::{Hint, Identity, Refusal};
use crate::secret::Secret;
use crate::timefmt;
use crate::token::OidcToken;
use crate::transport::{self, Failure, TokenService, TransportError};

pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A Google access token and when it expires; cached as is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    pub access_token: Secret,
    /// Unix seconds.
    pub expires_at: i64,
}

impl AccessToken {
    pub fn expires_at(&self) -> OffsetDateTime {
        timefmt::from_unix_saturating(self.expires_at)
    }
}

/// Why no access token was had; `Display` is the [`Explanation`].
#[derive(Debug, thiserror::Error)]
pub enum GcpError {
    StsRefused {
        endpoint: String,
        refusal: Box<Refusal>,
    },
    ImpersonationRefused {
        endpoint: String,
        service_account: String,
        refusal: Box<Refusal>,
    },
    /// Google STS or IAM Credentials could not be reached, answered oddly or redirected, or
    /// issued an expired token.
    Transport(TransportError),
}

impl Explain for GcpError {
    fn explain(&self) -> Explanation {
        match self {
            Self::StsRefused { endpoint, refusal } => Explanation::new(
                format!(
                    "Google STS (`{endpoint}`) refused the token: HTTP {} {}: {}",
                    refusal.status, refusal.code, refusal.message
                ),
                refusal.hint.fix(),
            ),
            Self::ImpersonationRefused {
                endpoint,
                service_account,
                refusal,
            } => Explanation::new(
                format!(
                    "IAM Credentials refused to impersonate `{service_account}` (`{endpoint}`): HTTP {} {}: {}",
                    refusal.status, refusal.code, refusal.message
                ),
                refusal.hint.fix(),
            ),
            Self::Transport(error) => error.explain(),
        }
    }
}

crate::problem::display_as_explained!(GcpError);

impl GcpError {
    /// Whether trying again may help.
    pub fn is_transient(&self) -> bool {
        let retryable = |status: u16| status == 429 || status >= 500;
        match self {
            Self::StsRefused { refusal, .. } | Self::ImpersonationRefused { refusal, .. } => {
                retryable(refusal.status)
            }
            Self::Transport(error) => error.is_transient(retryable),
        }
    }
}

/// A Google service's wording in transport errors, from its name and the flag that sets its
/// address.
macro_rules! google_service {
    ($name:literal, $flag:literal) => {
        TokenService {
            name: $name,
            issues: "an access token",
            foreign_body: "it does not send",
            if_unreachable: concat!("check the network, HTTPS_PROXY/NO_PROXY, and ", $flag),
            if_redirected: concat!(
                "set ",
                $flag,
                " to ",
                $name,
                " itself, not to an address that redirects"
            ),
            genuine: concat!($flag, " points at ", $name),
        }
    };
}

/// Google STS, as its transport errors name it and what they tell to check.
pub const GOOGLE_STS: TokenService =
    google_service!("Google STS", "--token-url (VERCEL_OIDC_GCP_TOKEN_URL)");

/// IAM Credentials, as its transport errors name it and what they tell to check.
pub const IAM_CREDENTIALS: TokenService = google_service!(
    "IAM Credentials",
    "--impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL)"
);

/// Which of the two services, for messages.
#[derive(Clone, Copy)]
enum Service {
    Sts,
    Iam,
}

impl Service {
    /// The service as its transport errors name it.
    fn transport(self) -> &'static TokenService {
        match self {
            Self::Sts => &GOOGLE_STS,
            Self::Iam => &IAM_CREDENTIALS,
        }
    }

    fn name(self) -> &'static str {
        self.transport().name
    }

    /// The refusal of this service, answered with HTTP `status`, `code` and `message` (both
    /// redacted already), to `token`.
    fn refusal(
        self,
        status: u16,
        code: String,
        message: String,
        token: &OidcToken,
        hint: Hint,
    ) -> Box<Refusal> {
        Box::new(Refusal {
            service: self.transport(),
            status,
            code,
            message,
            identity: Identity::of(token.claims()),
            hint,
        })
    }
}

/// The STS form, in order.
pub fn sts_form<'a>(
    audience: &'a str,
    scopes: &[String],
    subject_token: &'a str,
) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", TOKEN_EXCHANGE_GRANT.to_string()),
        ("audience", audience.to_string()),
        ("scope", scopes.join(" ")),
        ("requested_token_type", ACCESS_TOKEN_TYPE.to_string()),
        ("subject_token", subject_token.to_string()),
        ("subject_token_type", JWT_TOKEN_TYPE.to_string()),
    ]
}

/// The `generateAccessToken` body.
pub fn impersonation_body(scopes: &[String], lifetime_seconds: u32) -> serde_json::Value {
    serde_json::json!({
        "scope": scopes,
        "lifetime": format!("{lifetime_seconds}s"),
    })
}

#[derive(Deserialize)]
struct StsSuccess {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// Reads an STS success: the token and its expiry counted from `now`.
pub fn parse_sts_success(body: &str, now: OffsetDateTime) -> Result<AccessToken, String> {
    let parsed: StsSuccess =
        serde_json::from_str(body).map_err(|e| format!("it is not an STS token response ({e})"))?;
    let expires_in =
        transport::expires_in(parsed.expires_in).ok_or("it has no positive `expires_in`")?;
    if parsed.access_token.is_empty() {
        return Err("its `access_token` is empty".into());
    }
    let expires = now
        .checked_add(Duration::seconds(expires_in))
        .ok_or_else(|| format!("its `expires_in` ({expires_in}) is past any date"))?;
    Ok(AccessToken {
        access_token: Secret::new(parsed.access_token),
        expires_at: expires.unix_timestamp(),
    })
}

/// Reads an STS error: `error` and `error_description`.
pub fn parse_sts_error(body: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let error = v.get("error")?.as_str()?.to_string();
    Some((error, text_or_empty(&v, "error_description")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IamSuccess {
    access_token: String,
    expire_time: String,
}

/// Reads a `generateAccessToken` success.
pub fn parse_iam_success(body: &str) -> Result<AccessToken, String> {
    let parsed: IamSuccess = serde_json::from_str(body)
        .map_err(|e| format!("it is not a generateAccessToken response ({e})"))?;
    let expires = timefmt::parse_rfc3339(&parsed.expire_time).ok_or_else(|| {
        format!(
            "its `expireTime` `{}` is not a timestamp",
            parsed.expire_time
        )
    })?;
    if parsed.access_token.is_empty() {
        return Err("its `accessToken` is empty".into());
    }
    Ok(AccessToken {
        access_token: Secret::new(parsed.access_token),
        expires_at: expires.unix_timestamp(),
    })
}

/// Reads a Google API error: `error.status` (or `error.code`) and `error.message`.
pub fn parse_iam_error(body: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let error = v.get("error")?;
    let code = error
        .get("status")
        .and_then(|s| s.as_str())
        .map(str::to_string)
        .or_else(|| error.get("code").map(|c| c.to_string()))?;
    Some((code, text_or_empty(error, "message")))
}

/// The string `field` of an error body, or an empty one when it has none.
fn text_or_empty(v: &serde_json::Value, field: &str) -> String {
    v.get(field)
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// Calls Google STS and IAM Credentials with a given HTTP client, retry policy and clock.
#[derive(Clone, Debug)]
pub struct GcpClient {
    http: reqwest::Client,
    retry: RetryPolicy,
    clock: fn() -> OffsetDateTime,
}

impl GcpClient {
    pub fn new(http: reqwest::Client, retry: RetryPolicy) -> Self {
        Self {
            http,
            retry,
            clock: OffsetDateTime::now_utc,
        }
    }

    /// Uses `clock` for the expiry of STS tokens (which come with a lifetime, not a time).
    pub fn with_clock(mut self, clock: fn() -> OffsetDateTime) -> Self {
        self.clock = clock;
        self
    }

    /// Exchanges `token` for an access token as `config` says: STS, then impersonation.
    pub async fn access_token(
        &self,
        config: &GcpConfig,
        token: &OidcToken,
    ) -> Result<AccessToken, GcpError> {
        let sts_scopes = match &config.impersonation {
            Some(_) => vec![CLOUD_PLATFORM_SCOPE.to_string()],
            None => config.scopes.clone(),
        };
        let audience = config.audience();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(sts_form(&audience, &sts_scopes, token.expose_secret()))
            .finish();
        crate::log::debug!(
            "calling Google STS at {} for audience `{audience}`",
            config.token_url
        );
        let sts = self
            .retry
            .run(GcpError::is_transient, |attempt| {
                let body = body.clone();
                async move {
                    crate::log::trace!("STS attempt {attempt}");
                    self.sts_once(config, token, body, attempt.time_left).await
                }
            })
            .await?;
        crate::log::debug!(
            "Google STS issued a federated token until {}",
            timefmt::rfc3339_z(sts.expires_at())
        );
        let Some(imp) = &config.impersonation else {
            return Ok(sts);
        };
        let body = impersonation_body(&config.scopes, imp.lifetime_seconds).to_string();
        crate::log::debug!(
            "impersonating `{}` through {}",
            imp.service_account,
            imp.url
        );
        let access = self
            .retry
            .run(GcpError::is_transient, |attempt| {
                let body = body.clone();
                let bearer = sts.access_token.clone();
                async move {
                    crate::log::trace!("IAM Credentials attempt {attempt}");
                    self.iam_once(config, token, &bearer, body, attempt.time_left)
                        .await
                }
            })
            .await?;
        crate::log::debug!(
            "IAM Credentials issued a token for `{}` until {}",
            imp.service_account,
            timefmt::rfc3339_z(access.expires_at())
        );
        Ok(access)
    }

    async fn sts_once(
        &self,
        config: &GcpConfig,
        token: &OidcToken,
        body: String,
        time_left: std::time::Duration,
    ) -> Result<AccessToken, GcpError> {
        let endpoint = config.token_url.clone();
        let accept = "application/json";
        let received =
            transport::post_form(&GOOGLE_STS, &self.http, &endpoint, body, accept, time_left).await;
        let (status, text) = answered(Service::Sts, received)?;
        let sent = [token.expose_secret()];
        if (200..300).contains(&status) {
            let now = (self.clock)();
            let access = parse_sts_success(&text, now).map_err(|detail| {
                bad_response(
                    Service::Sts,
                    &endpoint,
                    status,
                    http::server_text(&detail, &sent),
                )
            })?;
            return usable(access, Service::Sts, endpoint, now);
        }
        match parse_sts_error(&text) {
            Some((error, description)) => {
                let (error, description) = (
                    http::server_text(&error, &sent),
                    http::server_text(&description, &sent),
                );
                let hint =
                    trust::explain_sts(&error, &description, token.claims(), &config.provider);
                Err(GcpError::StsRefused {
                    endpoint,
                    refusal: Service::Sts.refusal(status, error, description, token, hint),
                })
            }
            None => Err(bad_response(
                Service::Sts,
                &endpoint,
                status,
                http::excerpt(&text, &sent),
            )),
        }
    }

    async fn iam_once(
        &self,
        config: &GcpConfig,
        token: &OidcToken,
        bearer: &Secret,
        body: String,
        time_left: std::time::Duration,
    ) -> Result<AccessToken, GcpError> {
        let imp = config
            .impersonation
            .as_ref()
            .expect("called only with impersonation");
        let endpoint = imp.url.clone();
        let request = self
            .http
            .post(&endpoint)
            .bearer_auth(bearer.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        let received =
            transport::send(&IAM_CREDENTIALS, &endpoint, request.timeout(time_left)).await;
        let (status, text) = answered(Service::Iam, received)?;
        let sent = [token.expose_secret(), bearer.expose_secret()];
        if (200..300).contains(&status) {
            let access = parse_iam_success(&text).map_err(|detail| {
                bad_response(
                    Service::Iam,
                    &endpoint,
                    status,
                    http::server_text(&detail, &sent),
                )
            })?;
            return usable(access, Service::Iam, endpoint, (self.clock)());
        }
        Err(iam_refused(config, imp, token, status, &text, &sent))
    }
}

/// What an answer of IAM Credentials other than a token means: its refusal, with a hint naming
/// the token's claims and the set-up that would accept them, or, when `text` is not its error
/// body, a bad response. What the server says is shown with `sent` redacted.
fn iam_refused(
    config: &GcpConfig,
    imp: &Impersonation,
    token: &OidcToken,
    status: u16,
    text: &str,
    sent: &[&str],
) -> GcpError {
    let endpoint = imp.url.clone();
    let Some((code, message)) = parse_iam_error(text) else {
        return bad_response(Service::Iam, &endpoint, status, http::excerpt(text, sent));
    };
    let (code, message) = (
        http::server_text(&code, sent),
        http::server_text(&message, sent),
    );
    let hint = trust::explain_impersonation(
        status,
        &message,
        token.claims(),
        &config.provider,
        &imp.service_account,
    );
    GcpError::ImpersonationRefused {
        endpoint,
        service_account: imp.service_account.clone(),
        refusal: Service::Iam.refusal(status, code, message, token, hint),
    }
}

/// `access`, unless it has expired or expires within
/// [`CLOCK_SKEW`](crate::token::CLOCK_SKEW) of `now`.
fn usable(
    access: AccessToken,
    service: Service,
    endpoint: String,
    now: OffsetDateTime,
) -> Result<AccessToken, GcpError> {
    transport::check_expiry(service.transport(), &endpoint, access.expires_at(), now)
        .map_err(GcpError::Transport)?;
    Ok(access)
}

/// The status and text of what `service` answered, if it did.
fn answered(
    service: Service,
    received: Result<http::Received, TransportError>,
) -> Result<(u16, String), GcpError> {
    let received = received.map_err(GcpError::Transport)?;
    Ok(transport::answer(&received, service.name()))
}

/// `service` at `endpoint` answered HTTP `status` with a body it does not send, as `detail`
/// says.
fn bad_response(service: Service, endpoint: &str, status: u16, detail: String) -> GcpError {
    GcpError::Transport(TransportError::new(
        service.transport(),
        endpoint,
        Failure::BadResponse { status, detail },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-26 12:00:00 UTC);

    #[test]
    fn form_in_order() {
        let form = sts_form("//aud", &["s1".into(), "s2".into()], "tok");
        assert_eq!(
            form,
            [
                ("grant_type", TOKEN_EXCHANGE_GRANT.to_string()),
                ("audience", "//aud".to_string()),
                ("scope", "s1 s2".to_string()),
                ("requested_token_type", ACCESS_TOKEN_TYPE.to_string()),
                ("subject_token", "tok".to_string()),
                ("subject_token_type", JWT_TOKEN_TYPE.to_string()),
            ]
        );
    }

    #[test]
    fn impersonation_body_shape() {
        assert_eq!(
            impersonation_body(&["s".into()], 900),
            serde_json::json!({"scope": ["s"], "lifetime": "900s"})
        );
    }

    #[test]
    fn sts_success() {
        let t = parse_sts_success(
            r#"{"access_token":"ya29.x","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3599}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(t.access_token.expose_secret(), "ya29.x");
        assert_eq!(t.expires_at(), datetime!(2026-11-26 12:59:59 UTC));
        let t = parse_sts_success(r#"{"access_token":"a","expires_in":"60"}"#, NOW).unwrap();
        assert_eq!(t.expires_at(), datetime!(2026-11-26 12:01:00 UTC));
    }

    #[test]
    fn sts_malformed_successes() {
        for (body, want) in [
            ("<html/>", "it is not an STS token response"),
            (r#"{"expires_in":1}"#, "it is not an STS token response"),
            (r#"{"access_token":"a"}"#, "it has no positive `expires_in`"),
            (
                r#"{"access_token":"a","expires_in":0}"#,
                "it has no positive `expires_in`",
            ),
            (
                r#"{"access_token":"","expires_in":5}"#,
                "its `access_token` is empty",
            ),
            (
                r#"{"access_token":"a","expires_in":9223372036854775807}"#,
                "its `expires_in` (9223372036854775807) is past any date",
            ),
        ] {
            let err = parse_sts_success(body, NOW).unwrap_err();
            assert!(err.starts_with(want), "{body}: {err}");
        }
    }

    #[test]
    fn iam_success_and_malformed() {
        let t =
            parse_iam_success(r#"{"accessToken":"ya29.sa","expireTime":"2026-11-26T13:00:00Z"}"#)
                .unwrap();
        assert_eq!(t.access_token.expose_secret(), "ya29.sa");
        assert_eq!(t.expires_at(), datetime!(2026-11-26 13:00:00 UTC));
        for (body, want) in [
            (
                r#"{"accessToken":"a"}"#,
                "it is not a generateAccessToken response",
            ),
            (
                r#"{"accessToken":"a","expireTime":"soon"}"#,
                "its `expireTime` `soon` is not a timestamp",
            ),
        ] {
            let err = parse_iam_success(body).unwrap_err();
            assert!(err.starts_with(want), "{body}: {err}");
        }
    }

    #[test]
    fn errors_parsed() {
        assert_eq!(
            parse_sts_error(
                r#"{"error":"invalid_grant","error_description":"The audience in ID Token does not match."}"#
            ),
            Some((
                "invalid_grant".into(),
                "The audience in ID Token does not match.".into()
            ))
        );
        assert_eq!(
            parse_sts_error(r#"{"error":"invalid_request"}"#),
            Some(("invalid_request".into(), String::new()))
        );
        assert_eq!(parse_sts_error("<html>502</html>"), None);
        assert_eq!(
            parse_iam_error(
                r#"{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}"#
            ),
            Some(("PERMISSION_DENIED".into(), "Permission denied".into()))
        );
        assert_eq!(
            parse_iam_error(r#"{"error":{"code":404,"message":"nope"}}"#),
            Some(("404".into(), "nope".into()))
        );
        assert_eq!(parse_iam_error(r#"{"error":"x"}"#), None);
    }

    #[test]
    fn transient_classification() {
        let refusal = |service, status, code: &str| {
            Box::new(Refusal {
                service,
                status,
                code: code.into(),
                message: String::new(),
                identity: Identity::default(),
                hint: Hint::default(),
            })
        };
        let sts = |status| GcpError::StsRefused {
            endpoint: String::new(),
            refusal: refusal(&GOOGLE_STS, status, "e"),
        };
        assert!(sts(500).is_transient());
        assert!(sts(503).is_transient());
        assert!(sts(429).is_transient());
        assert!(!sts(400).is_transient());
        assert!(!sts(401).is_transient());
        let iam = |status| GcpError::ImpersonationRefused {
            endpoint: String::new(),
            service_account: String::new(),
            refusal: refusal(&IAM_CREDENTIALS, status, ""),
        };
        assert!(!iam(403).is_transient());
        assert!(iam(502).is_transient());
    }
}
