//! The client-credential grant with the Vercel token as a federated client assertion.
//!
//! Request: `POST <authority>/<tenant>/oauth2/v2.0/token`,
//! `Content-Type: application/x-www-form-urlencoded`, fields in this order:
//! `client_id`, `scope`, `grant_type=client_credentials`,
//! `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`,
//! `client_assertion=<the Vercel token>`.
//!
//! Success: `{"token_type":"Bearer","expires_in":3599,"access_token":…}` (`expires_in` is a
//! number, or a string from older endpoints). Error: `{"error","error_description":"AADSTSnnnn:
//! …\r\nTrace ID: …","error_codes":[n],"trace_id","correlation_id"}`; the AADSTS code picks the
//! hint (see [`hint_for`]).
//!
//! HTTP 5xx, 429, `temporarily_unavailable` and network failures are retried under the
//! [`RetryPolicy`]; everything else fails at once. A redirect is not followed (an error naming
//! its `Location`), a body over 1 MiB is not read, what Entra says (in an error, or the
//! `token_type` under `-v`) is shown only after [`http::server_text`] has redacted and escaped
//! it, and an access token that has expired or expires within
//! [`CLOCK_SKEW`](crate::token::CLOCK_SKEW) is an error. Those failures other than Entra's
//! refusal are [`TransportError`]s, worded as [`ENTRA_ID`] says.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::azure::{Authority, trust};
use crate::http::{self, RetryPolicy};
use crate::outside::Text;
use crate::problem::{Explain, Explanation};
use crate::refusal::{Hint, Identity, Refusal};
use crate::secret::Secret;
use crate::timefmt;
use crate::token::{Claims, OidcToken};
use crate::transport::{self, Failure, TokenService, TransportError};

pub const GRANT_TYPE: &str = "client_credentials";
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What to ask Entra for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenRequest {
    pub tenant_id: String,
    pub client_id: String,
    pub scope: String,
}

/// An access token and when it expires.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessToken {
    pub access_token: Secret,
    pub token_type: String,
    /// Unix seconds.
    pub expires_on: i64,
}

impl AccessToken {
    pub fn expires_at(&self) -> OffsetDateTime {
        timefmt::from_unix_saturating(self.expires_on)
    }

    /// `{"access_token","token_type","expires_on","expires_at","expires_in"}`: the token, its
    /// type, its expiry as Unix seconds (azure-identity's `expires_on`) and as RFC 3339, and the
    /// seconds left at `now`.
    pub fn to_json(&self, now: OffsetDateTime) -> String {
        serde_json::json!({
            "access_token": self.access_token.expose_secret(),
            "token_type": self.token_type,
            "expires_on": self.expires_on,
            "expires_at": timefmt::rfc3339_z(self.expires_at()),
            "expires_in": (self.expires_on - now.unix_timestamp()).max(0),
        })
        .to_string()
    }
}

/// The form fields of the token request, in the order they are sent.
pub fn form_fields<'a>(req: &'a TokenRequest, assertion: &'a str) -> [(&'static str, &'a str); 5] {
    [
        ("client_id", &req.client_id),
        ("scope", &req.scope),
        ("grant_type", GRANT_TYPE),
        ("client_assertion_type", CLIENT_ASSERTION_TYPE),
        ("client_assertion", assertion),
    ]
}

#[derive(Deserialize)]
struct SuccessBody {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

/// Reads a success body received at `now`.
pub fn parse_success(body: &str, now: OffsetDateTime) -> Result<AccessToken, String> {
    let parsed: SuccessBody =
        serde_json::from_str(body).map_err(|_| "the response is not a JSON object".to_string())?;
    let access_token = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or("the response has no access_token")?;
    let expires_in = transport::expires_in(parsed.expires_in)
        .ok_or("the response has no positive expires_in")?;
    let expires = now
        .checked_add(time::Duration::seconds(expires_in))
        .ok_or_else(|| format!("the response's expires_in ({expires_in}) is past any date"))?;
    Ok(AccessToken {
        access_token: Secret::new(access_token),
        token_type: parsed.token_type.unwrap_or_else(|| "Bearer".into()),
        expires_on: expires.unix_timestamp(),
    })
}

/// An Entra error body, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: String,
    /// The first line of `error_description`, e.g. `AADSTS70021: No matching …`.
    pub message: String,
    /// The AADSTS number, from `error_codes` or the description.
    pub code: Option<u32>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
}

/// Reads `{"error","error_description","error_codes",…}`; `None` when the body is not one.
pub fn parse_error(body: &str) -> Option<ErrorBody> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let error = v.get("error")?.as_str()?.to_string();
    let description = v
        .get("error_description")
        .and_then(|d| d.as_str())
        .unwrap_or("");
    let message = description.lines().next().unwrap_or("").trim().to_string();
    let code = v
        .get("error_codes")
        .and_then(|c| c.get(0))
        .and_then(|c| c.as_u64())
        .and_then(|c| u32::try_from(c).ok())
        .or_else(|| {
            let digits: String = message
                .strip_prefix("AADSTS")?
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        });
    let text = |name: &str| {
        v.get(name)
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .filter(|t| !t.is_empty())
    };
    Some(ErrorBody {
        error,
        message,
        code,
        trace_id: text("trace_id"),
        correlation_id: text("correlation_id"),
    })
}

/// Entra ID, as its transport errors name it and what they tell to check.
pub const ENTRA_ID: TokenService = TokenService {
    name: "Entra ID",
    issues: "an access token",
    foreign_body: "that is not a token response",
    if_unreachable: "check the network, HTTPS_PROXY/NO_PROXY, SSL_CERT_FILE for a TLS-inspecting proxy, and --authority-host",
    if_redirected: "set --authority-host (AZURE_AUTHORITY_HOST) to the authority itself, not to an address that redirects",
    genuine: "--authority-host (AZURE_AUTHORITY_HOST) is a Microsoft Entra authority",
};

/// Why Entra gave no access token; `Display` is the [`Explanation`].
#[derive(Debug, thiserror::Error)]
pub enum EntraError {
    Refused {
        refusal: Box<Refusal>,
        /// The OAuth `error` Entra sent, such as `invalid_client`.
        error: String,
        /// The AADSTS number, when Entra sent one.
        aadsts: Option<u32>,
        trace_id: Option<String>,
        correlation_id: Option<String>,
        client_id: String,
        tenant_id: String,
        endpoint: String,
    },
    /// Entra ID could not be reached, answered oddly or redirected, or issued an expired token.
    Transport(TransportError),
}

impl Explain for EntraError {
    fn explain(&self) -> Explanation {
        match self {
            Self::Refused {
                refusal,
                error,
                trace_id,
                correlation_id,
                client_id,
                tenant_id,
                endpoint,
                ..
            } => Explanation::new(
                format!(
                    "Entra ID refused the token for app `{client_id}` in tenant `{tenant_id}` ({endpoint}): {error}: {}",
                    refusal.message
                ),
                format!(
                    "{}{}",
                    refusal.hint.fix(),
                    support_ids(trace_id.as_deref(), correlation_id.as_deref())
                ),
            ),
            Self::Transport(error) => error.explain(),
        }
    }
}

crate::problem::display_as_explained!(EntraError);

/// The ids Microsoft support asks for, on a line of their own; nothing when Entra sent neither.
fn support_ids(trace: Option<&str>, correlation: Option<&str>) -> String {
    match (trace, correlation) {
        (None, None) => String::new(),
        (trace, correlation) => format!(
            "\n  (for Microsoft support: trace id `{}`, correlation id `{}`)",
            trace.unwrap_or("-"),
            correlation.unwrap_or("-")
        ),
    }
}

/// Whether an answer with HTTP `status` is worth asking again for: 5xx, and 429.
fn retryable(status: u16) -> bool {
    status >= 500 || status == 429
}

impl EntraError {
    /// The refusal Entra answered HTTP `status` with, as read (and redacted) into `body`.
    fn refused(
        body: ErrorBody,
        status: u16,
        req: &TokenRequest,
        endpoint: &str,
        claims: &Claims,
        hint: Hint,
    ) -> Self {
        let code = match body.code {
            Some(n) => format!("AADSTS{n}"),
            None => body.error.clone(),
        };
        Self::Refused {
            refusal: Box::new(Refusal {
                service: &ENTRA_ID,
                status,
                code,
                message: body.message,
                identity: Identity::of(claims),
                hint,
            }),
            error: body.error,
            aadsts: body.code,
            trace_id: body.trace_id,
            correlation_id: body.correlation_id,
            client_id: req.client_id.clone(),
            tenant_id: req.tenant_id.clone(),
            endpoint: endpoint.to_string(),
        }
    }

    /// Whether trying again may help.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Refused { refusal, error, .. } => {
                retryable(refusal.status) || error == "temporarily_unavailable"
            }
            Self::Transport(error) => error.is_transient(retryable),
        }
    }

    /// The AADSTS code, when Entra sent one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Refused { aadsts, .. } => *aadsts,
            _ => None,
        }
    }
}

/// What a hint needs to know besides the code.
pub struct HintContext<'a> {
    pub claims: &'a Claims,
    pub req: &'a TokenRequest,
    pub authority: &'a Authority,
    pub in_build: bool,
}

/// What to do about each AADSTS code: a diagnosis, and for the codes that are about the
/// federated credential, the one that matches the token ([`trust::explain`]).
pub(crate) fn hint_for(code: Option<u32>, cx: &HintContext<'_>) -> Hint {
    let client = &cx.req.client_id;
    let tenant = &cx.req.tenant_id;
    let explain = || trust::explain(cx.claims, client);
    let Some(code) = code else {
        return Hint::new(
            "Entra ID sent no AADSTS code; check --tenant-id, --client-id and --scope",
        );
    };
    match code {
        700024 => Hint::new(format!(
            "the token is outside its valid time (it expires at {}): check this machine's clock, then get a fresh token: {}",
            timefmt::rfc3339_z(cx.claims.expires_at()),
            crate::token::fresh_token_hint(cx.in_build)
        )),
        70021 | 700210..=700219 => Hint::new(format!(
            "no federated credential on app `{client}` matches the token{}.",
            what_differs(code)
        ))
        .then(explain()),
        70025 => Hint::new(format!(
            "app `{client}` has no federated credential yet; add one for the token."
        ))
        .then(explain()),
        700016 => Hint::new(format!(
            "no app with client id `{client}` exists in tenant `{tenant}`: check --client-id (AZURE_CLIENT_ID) is the Application (client) ID, not the object id, and that --tenant-id (AZURE_TENANT_ID) is the tenant the app is registered in"
        )),
        90002 => Hint::new(format!(
            "tenant `{tenant}` does not exist at `{}`: check --tenant-id (AZURE_TENANT_ID) is the Directory (tenant) ID, and that --authority-host is your cloud's (https://login.microsoftonline.us/ for US Government, https://login.chinacloudapi.cn/ for China)",
            cx.authority.as_str()
        )),
        900021..=900023 => Hint::new(format!(
            "`{tenant}` is not a valid tenant: pass the Directory (tenant) ID, a GUID, or a verified domain of the tenant (--tenant-id or AZURE_TENANT_ID)"
        )),
        70011 | 1002012 => Hint::new(format!(
            "Entra ID does not accept the scope `{}`: check the resource's URI (its address or app ID URI) and pass it with `/.default`, for example `https://management.azure.com/.default`",
            cx.req.scope
        )),
        500011 => Hint::new(format!(
            "the resource of scope `{}` has no service principal in tenant `{tenant}`: check the scope's resource URI, or have an administrator add or consent to that resource in the tenant",
            cx.req.scope
        )),
        7000112 => Hint::new(format!(
            "app `{client}` is disabled in tenant `{tenant}`: an administrator must enable its service principal (Enterprise applications > Properties)"
        )),
        700027 | 50027 => Hint::new(format!(
            "Entra ID could not verify the token's signature with the issuer's keys (`{}/.well-known/jwks`): pass the token exactly as Vercel issued it; {}",
            Text::from(cx.claims.iss.trim_end_matches('/')),
            crate::token::fresh_token_hint(cx.in_build)
        )),
        other => Hint::new(format!(
            "look the code up at {}, and check --tenant-id, --client-id and --scope",
            cx.authority.error_page(other)
        )),
    }
}

/// The claim Entra names as the one no federated credential matched, for the codes that name
/// one.
fn what_differs(code: u32) -> &'static str {
    match code {
        700211 => "; Entra ID names its issuer (`iss`) as what differs",
        700212 => "; Entra ID names its audience (`aud`) as what differs",
        700213 => "; Entra ID names its subject (`sub`) as what differs",
        _ => "",
    }
}

/// Calls Entra's token endpoint with a given HTTP client, authority and retry policy.
#[derive(Clone, Debug)]
pub struct EntraClient {
    http: reqwest::Client,
    authority: Authority,
    retry: RetryPolicy,
    clock: fn() -> OffsetDateTime,
    in_build: bool,
}

impl EntraClient {
    pub fn new(http: reqwest::Client, authority: Authority, retry: RetryPolicy) -> Self {
        Self {
            http,
            authority,
            retry,
            clock: OffsetDateTime::now_utc,
            in_build: false,
        }
    }

    /// Uses `clock` to turn `expires_in` into an expiry time.
    pub fn with_clock(mut self, clock: fn() -> OffsetDateTime) -> Self {
        self.clock = clock;
        self
    }

    /// Whether hints should speak of a Vercel build rather than a laptop.
    pub fn in_build(mut self, in_build: bool) -> Self {
        self.in_build = in_build;
        self
    }

    /// Exchanges `token` for an access token for `req.scope`.
    pub async fn request_token(
        &self,
        req: &TokenRequest,
        token: &OidcToken,
    ) -> Result<AccessToken, EntraError> {
        let endpoint = self.authority.token_endpoint(&req.tenant_id);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form_fields(req, token.expose_secret()))
            .finish();
        crate::log::debug!(
            "asking Entra ID at {endpoint} for `{}` as app `{}`",
            req.scope,
            req.client_id
        );
        let access = self
            .retry
            .run(EntraError::is_transient, |attempt| {
                let (body, endpoint) = (body.clone(), endpoint.clone());
                async move {
                    crate::log::trace!("Entra attempt {attempt}");
                    self.send_once(&endpoint, body, req, token, attempt.time_left)
                        .await
                }
            })
            .await?;
        crate::log::debug!(
            "Entra ID issued a {} token until {}",
            http::server_text(&access.token_type, &[token.expose_secret()]),
            timefmt::rfc3339_z(access.expires_at())
        );
        Ok(access)
    }

    async fn send_once(
        &self,
        endpoint: &str,
        body: String,
        req: &TokenRequest,
        token: &OidcToken,
        time_left: std::time::Duration,
    ) -> Result<AccessToken, EntraError> {
        let accept = "application/json";
        let received =
            transport::post_form(&ENTRA_ID, &self.http, endpoint, body, accept, time_left)
                .await
                .map_err(EntraError::Transport)?;
        let (status, text) = transport::answer(&received, "Entra");
        let sent = [token.expose_secret()];
        if received.is_success() {
            let now = (self.clock)();
            let access = parse_success(&text, now).map_err(|detail| {
                bad_response(endpoint, status, http::server_text(&detail, &sent))
            })?;
            transport::check_expiry(&ENTRA_ID, endpoint, access.expires_at(), now)
                .map_err(EntraError::Transport)?;
            return Ok(access);
        }
        match parse_error(&text) {
            Some(body) => Err(self.refusal(endpoint, status, redacted(body, &sent), req, token)),
            None => Err(bad_response(endpoint, status, http::excerpt(&text, &sent))),
        }
    }

    /// Entra's refusal `body` of `token`, with the hint its AADSTS code calls for.
    fn refusal(
        &self,
        endpoint: &str,
        status: u16,
        body: ErrorBody,
        req: &TokenRequest,
        token: &OidcToken,
    ) -> EntraError {
        let hint = hint_for(
            body.code,
            &HintContext {
                claims: token.claims(),
                req,
                authority: &self.authority,
                in_build: self.in_build,
            },
        );
        EntraError::refused(body, status, req, endpoint, token.claims(), hint)
    }
}

/// `body` with what the server said redacted of `sent` and anything credential-shaped.
fn redacted(body: ErrorBody, sent: &[&str]) -> ErrorBody {
    let shown = |t: &str| http::server_text(t, sent);
    ErrorBody {
        error: shown(&body.error),
        message: shown(&body.message),
        code: body.code,
        trace_id: body.trace_id.as_deref().map(shown),
        correlation_id: body.correlation_id.as_deref().map(shown),
    }
}

/// Entra ID at `endpoint` answered HTTP `status` with a body it does not send, as `detail` says.
fn bad_response(endpoint: &str, status: u16, detail: String) -> EntraError {
    EntraError::Transport(TransportError::new(
        &ENTRA_ID,
        endpoint,
        Failure::BadResponse { status, detail },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::decode_claims;
    use crate::token::tests::{claims_json, jwt};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-26 12:00:00 UTC);

    fn req() -> TokenRequest {
        TokenRequest {
            tenant_id: "tenant-1".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            scope: "https://management.azure.com/.default".into(),
        }
    }

    #[test]
    fn form_fields_in_order() {
        let r = req();
        let fields = form_fields(&r, "a.b.c");
        assert_eq!(
            fields,
            [
                ("client_id", "11111111-2222-3333-4444-555555555555"),
                ("scope", "https://management.azure.com/.default"),
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                ),
                ("client_assertion", "a.b.c"),
            ]
        );
    }

    #[test]
    fn parses_success_bodies() {
        for (body, expires_in, token_type) in [
            (
                r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0"}"#,
                3599,
                "Bearer",
            ),
            (
                r#"{"token_type":"Bearer","expires_in":"3600","access_token":"eyJ0"}"#,
                3600,
                "Bearer",
            ),
            (r#"{"expires_in":60,"access_token":"eyJ0"}"#, 60, "Bearer"),
            (
                r#"{"token_type":"pop","expires_in":60,"access_token":"eyJ0"}"#,
                60,
                "pop",
            ),
        ] {
            let t = parse_success(body, NOW).unwrap();
            assert_eq!(t.access_token.expose_secret(), "eyJ0", "{body}");
            assert_eq!(t.expires_on, NOW.unix_timestamp() + expires_in, "{body}");
            assert_eq!(t.token_type, token_type, "{body}");
        }
    }

    #[test]
    fn rejects_incomplete_success_bodies() {
        for (body, want) in [
            ("<html>", "the response is not a JSON object"),
            ("[]", "the response is not a JSON object"),
            (r#"{"expires_in":60}"#, "the response has no access_token"),
            (
                r#"{"expires_in":60,"access_token":""}"#,
                "the response has no access_token",
            ),
            (
                r#"{"access_token":"x"}"#,
                "the response has no positive expires_in",
            ),
            (
                r#"{"access_token":"x","expires_in":"soon"}"#,
                "the response has no positive expires_in",
            ),
            (
                r#"{"access_token":"x","expires_in":0}"#,
                "the response has no positive expires_in",
            ),
            (
                r#"{"access_token":"x","expires_in":9223372036854775807}"#,
                "the response's expires_in (9223372036854775807) is past any date",
            ),
        ] {
            assert_eq!(parse_success(body, NOW).unwrap_err(), want, "{body}");
        }
    }

    #[test]
    fn parses_error_bodies() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS700213: No matching federated identity record found for presented assertion subject 'x'.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2026-11-26 12:00:00Z","error_codes":[700213],"timestamp":"2026-11-26 12:00:00Z","trace_id":"t-1","correlation_id":"c-1"}"#;
        assert_eq!(
            parse_error(body).unwrap(),
            ErrorBody {
                error: "invalid_client".into(),
                message: "AADSTS700213: No matching federated identity record found for presented assertion subject 'x'.".into(),
                code: Some(700213),
                trace_id: Some("t-1".into()),
                correlation_id: Some("c-1".into()),
            }
        );
        let no_codes = r#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found."}"#;
        assert_eq!(parse_error(no_codes).unwrap().code, Some(90002));
        let bare = r#"{"error":"temporarily_unavailable"}"#;
        let parsed = parse_error(bare).unwrap();
        assert_eq!((parsed.code, parsed.message.as_str()), (None, ""));
        assert_eq!(parse_error("<html>502</html>"), None);
        assert_eq!(parse_error(r#"{"message":"x"}"#), None);
    }

    #[test]
    fn hints_per_code() {
        let claims = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        let authority = Authority::parse("https://login.microsoftonline.com/").unwrap();
        let r = req();
        let cx = |in_build| HintContext {
            claims: &claims,
            req: &r,
            authority: &authority,
            in_build,
        };
        let cases: &[(Option<u32>, &[&str])] = &[
            (
                Some(700024),
                &[
                    "outside its valid time",
                    "2033-05-18T03:33:20Z",
                    "vercel env pull",
                ],
            ),
            (
                Some(70021),
                &[
                    "no federated credential on app `11111111-2222-3333-4444-555555555555` matches",
                    "\"subject\": \"owner:acme:project:web:environment:production\"",
                    "\"issuer\": \"https://oidc.vercel.com/acme\"",
                    "\"https://vercel.com/acme\"",
                    "case-sensitive",
                ],
            ),
            (
                Some(700211),
                &["names its issuer (`iss`) as what differs", "\"issuer\""],
            ),
            (
                Some(700212),
                &[
                    "names its audience (`aud`) as what differs",
                    "\"audiences\"",
                ],
            ),
            (
                Some(700213),
                &[
                    "names its subject (`sub`) as what differs",
                    "case-sensitive",
                ],
            ),
            (
                Some(70025),
                &["has no federated credential yet", "\"subject\""],
            ),
            (
                Some(700016),
                &["no app with client id", "not the object id"],
            ),
            (
                Some(90002),
                &["tenant `tenant-1` does not exist", "--authority-host"],
            ),
            (Some(900023), &["`tenant-1` is not a valid tenant"]),
            (
                Some(70011),
                &["does not accept the scope `https://management.azure.com/.default`"],
            ),
            (
                Some(500011),
                &["has no service principal in tenant `tenant-1`"],
            ),
            (Some(7000112), &["is disabled"]),
            (
                Some(700027),
                &["https://oidc.vercel.com/acme/.well-known/jwks"],
            ),
            (
                Some(123456),
                &["https://login.microsoftonline.com/error?code=123456"],
            ),
            (None, &["sent no AADSTS code"]),
        ];
        for (code, wants) in cases {
            let hint = hint_for(*code, &cx(false)).to_string();
            assert!(hint.starts_with("  "), "{code:?}: {hint}");
            for want in *wants {
                assert!(hint.contains(want), "{code:?}: {hint:?} lacks {want:?}");
            }
        }
        assert!(
            hint_for(Some(700024), &cx(true))
                .to_string()
                .contains("in a Vercel build")
        );
    }

    #[test]
    fn refused_message_names_app_tenant_and_support_ids() {
        let claims = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        let err = EntraError::refused(
            parse_error(r#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 't' not found.\r\nTrace ID: t-1","trace_id":"t-1"}"#).unwrap(),
            400,
            &TokenRequest {
                tenant_id: "t".into(),
                client_id: "c".into(),
                scope: String::new(),
            },
            "https://login.microsoftonline.com/t/oauth2/v2.0/token",
            &claims,
            Hint::new("do this"),
        );
        assert_eq!(
            err.to_string(),
            "Entra ID refused the token for app `c` in tenant `t` (https://login.microsoftonline.com/t/oauth2/v2.0/token): invalid_request: AADSTS90002: Tenant 't' not found.\n  do this\n  (for Microsoft support: trace id `t-1`, correlation id `-`)"
        );
        assert_eq!(err.code(), Some(90002));
        assert!(!err.is_transient());
    }

    #[test]
    fn transient_classification() {
        let claims = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        let refused = |error: &str, status| {
            let body = ErrorBody {
                error: error.into(),
                ..ErrorBody::default()
            };
            EntraError::refused(body, status, &req(), "", &claims, Hint::default())
        };
        assert!(refused("temporarily_unavailable", 400).is_transient());
        assert!(refused("server_error", 503).is_transient());
        assert!(refused("x", 429).is_transient());
        assert!(!refused("invalid_client", 401).is_transient());
        assert!(!refused("invalid_grant", 400).is_transient());
        let bad = |status| bad_response("", status, String::new());
        assert!(bad(502).is_transient());
        assert!(!bad(404).is_transient());
    }

    #[test]
    fn json_output_shape() {
        let t = parse_success(r#"{"expires_in":3600,"access_token":"at-VALUE-1"}"#, NOW).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&t.to_json(NOW + time::Duration::seconds(600))).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "access_token": "at-VALUE-1",
                "token_type": "Bearer",
                "expires_on": NOW.unix_timestamp() + 3600,
                "expires_at": "2026-11-26T13:00:00Z",
                "expires_in": 3000,
            })
        );
        assert!(!format!("{t:?}").contains("at-VALUE-1"), "Debug redacts");
    }
}
