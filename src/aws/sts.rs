//! STS `AssumeRoleWithWebIdentity`: the request, the response, and errors a person can act on.
//!
//! Request: unsigned `POST /` to the endpoint, `Content-Type: application/x-www-form-urlencoded`,
//! body `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=…&RoleSessionName=…&
//! WebIdentityToken=…&DurationSeconds=…`, plus `Policy` and `PolicyArns.member.N.arn` when given.
//! No `ProviderId` (that is for OAuth 2.0 providers, not OIDC).
//!
//! Retried: `IDPCommunicationError`, `Throttling`, HTTP 5xx, timeouts and connection failures.
//! Everything else fails at once. A redirect is not followed (it is an error naming its
//! `Location`), a body over 1 MiB is not read, the server's code and message are shown only
//! after [`http::server_text`] has redacted them, and credentials that have expired or expire
//! within [`CLOCK_SKEW`](crate::token::CLOCK_SKEW) are an error, never printed. Those failures
//! other than STS's refusal are [`TransportError`]s, worded as [`STS`] says.

use crate::vars;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aws::endpoint::StsEndpoint;
use crate::aws::trust;
use crate::http::{self, RetryPolicy};
use crate::problem::{Explain, Explanation};
use crate::refusal::{Hint, Identity, Refusal};
use crate::secret::Secret;
use crate::timefmt;
use crate::token::{Claims, OidcToken};
use crate::transport::{self, Failure, TokenService, TransportError};

/// What to ask STS for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: u32,
    pub policy_arns: Vec<String>,
    /// Inline session policy, minified JSON.
    pub policy: Option<String>,
}

/// Temporary credentials, serialized exactly as `credential_process` prints them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AwsCredentials {
    pub version: u8,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    #[serde(with = "expiration_z")]
    pub expiration: OffsetDateTime,
}

mod expiration_z {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::timefmt::rfc3339_z(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        crate::timefmt::parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom("bad Expiration"))
    }
}

impl AwsCredentials {
    /// The environment variables every AWS tool and SDK reads these from, with the region when
    /// one is known.
    pub fn env_vars(&self, region: Option<&str>) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            (vars::AWS_ACCESS_KEY_ID, self.access_key_id.clone()),
            (
                vars::AWS_SECRET_ACCESS_KEY,
                self.secret_access_key.expose_secret().to_string(),
            ),
            (
                vars::AWS_SESSION_TOKEN,
                self.session_token.expose_secret().to_string(),
            ),
            (
                vars::AWS_CREDENTIAL_EXPIRATION,
                timefmt::rfc3339_z(self.expiration),
            ),
        ];
        vars.extend(region_env_vars(region));
        vars
    }

    /// The one-line JSON object `credential_process` must print.
    pub fn to_process_json(&self) -> String {
        serde_json::to_string(self).expect("credentials serialize")
    }
}

/// The body of the request, in order.
pub fn form_fields(req: &AssumeRoleRequest, token: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", req.role_arn.as_str()),
        ("RoleSessionName", req.session_name.as_str()),
        ("WebIdentityToken", token),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    fields.push(("DurationSeconds".into(), req.duration_seconds.to_string()));
    for (i, arn) in req.policy_arns.iter().enumerate() {
        fields.push((format!("PolicyArns.member.{}.arn", i + 1), arn.clone()));
    }
    if let Some(policy) = &req.policy {
        fields.push(("Policy".into(), policy.clone()));
    }
    fields
}

/// Reads a successful response. Element order and the optional elements vary (moto omits
/// `SubjectFromWebIdentityToken`, `Audience` and `Provider`); `Expiration` may have fractions.
pub fn parse_success(xml: &str) -> Result<AwsCredentials, String> {
    let doc =
        roxmltree::Document::parse(xml).map_err(|e| format!("the response is not XML ({e})"))?;
    let creds = doc
        .descendants()
        .find(|n| n.has_tag_name_local("Credentials"))
        .ok_or("the response has no Credentials element")?;
    let field = |name: &str| -> Result<String, String> {
        creds
            .children()
            .find(|n| n.has_tag_name_local(name))
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("the response has no {name}"))
    };
    let expiration_text = field("Expiration")?;
    let expiration = timefmt::parse_rfc3339(&expiration_text).ok_or_else(|| {
        format!("the response's Expiration `{expiration_text}` is not a timestamp")
    })?;
    Ok(AwsCredentials {
        version: 1,
        access_key_id: field("AccessKeyId")?,
        secret_access_key: Secret::new(field("SecretAccessKey")?),
        session_token: Secret::new(field("SessionToken")?),
        expiration,
    })
}

/// Reads `ErrorResponse/Error/{Code,Message}`.
pub fn parse_error(xml: &str) -> Option<(String, String)> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let error = doc.descendants().find(|n| n.has_tag_name_local("Error"))?;
    let text = |name: &str| {
        error
            .children()
            .find(|n| n.has_tag_name_local(name))
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
    };
    Some((text("Code")?, text("Message").unwrap_or_default()))
}

trait LocalName {
    fn has_tag_name_local(&self, name: &str) -> bool;
}

impl LocalName for roxmltree::Node<'_, '_> {
    fn has_tag_name_local(&self, name: &str) -> bool {
        self.is_element() && self.tag_name().name() == name
    }
}

/// STS, as its transport errors name it and what they tell to check.
pub const STS: TokenService = TokenService {
    name: "STS",
    issues: "credentials",
    foreign_body: "that is not an STS response",
    if_unreachable: "check the network, HTTPS_PROXY/NO_PROXY, and the endpoint (--region, AWS_ENDPOINT_URL_STS)",
    if_redirected: "point the endpoint (--region, AWS_ENDPOINT_URL_STS) at STS itself, not at an address that redirects",
    genuine: "the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS",
};

/// Why STS gave no credentials; `Display` is the [`Explanation`].
#[derive(Debug, thiserror::Error)]
pub enum StsError {
    Refused {
        role_arn: String,
        endpoint: String,
        refusal: Box<Refusal>,
    },
    /// STS could not be reached, answered oddly or redirected, or issued expired credentials.
    Transport(TransportError),
}

impl Explain for StsError {
    fn explain(&self) -> Explanation {
        match self {
            Self::Refused {
                role_arn,
                endpoint,
                refusal,
            } => Explanation::new(
                format!(
                    "STS refused to let the token assume `{role_arn}` ({endpoint}): {}: {}",
                    refusal.code, refusal.message
                ),
                refusal.hint.fix(),
            ),
            Self::Transport(error) => error.explain(),
        }
    }
}

crate::problem::display_as_explained!(StsError);

impl StsError {
    /// Whether trying again may help.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Refused { refusal, .. } => {
                refusal.status >= 500
                    || matches!(
                        refusal.code.as_str(),
                        "IDPCommunicationError"
                            | "Throttling"
                            | "ThrottlingException"
                            | "RequestLimitExceeded"
                    )
            }
            Self::Transport(error) => error.is_transient(|status| status >= 500),
        }
    }

    /// The STS error code, when STS sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { refusal, .. } => Some(&refusal.code),
            _ => None,
        }
    }
}

/// Calls STS with a given HTTP client, endpoint, retry policy and clock.
#[derive(Clone, Debug)]
pub struct StsClient {
    http: reqwest::Client,
    endpoint: StsEndpoint,
    retry: RetryPolicy,
    clock: fn() -> OffsetDateTime,
}

impl StsClient {
    /// `http` must follow no redirect: build it with `http::client`.
    pub fn new(http: reqwest::Client, endpoint: StsEndpoint, retry: RetryPolicy) -> Self {
        Self {
            http,
            endpoint,
            retry,
            clock: OffsetDateTime::now_utc,
        }
    }

    /// Uses `clock` to judge whether issued credentials are already expired.
    pub fn with_clock(mut self, clock: fn() -> OffsetDateTime) -> Self {
        self.clock = clock;
        self
    }

    /// Exchanges `token` for credentials of `req.role_arn`.
    pub async fn assume_role_with_web_identity(
        &self,
        req: &AssumeRoleRequest,
        token: &OidcToken,
    ) -> Result<AwsCredentials, StsError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form_fields(req, token.expose_secret()))
            .finish();
        crate::log::debug!(
            "calling STS AssumeRoleWithWebIdentity at {} for `{}` as session `{}`",
            self.endpoint.url,
            req.role_arn,
            req.session_name
        );
        let creds = self
            .retry
            .run(StsError::is_transient, |attempt| {
                let body = body.clone();
                async move {
                    crate::log::trace!("STS attempt {attempt}");
                    self.send_once(body, req, token, attempt.time_left).await
                }
            })
            .await?;
        crate::log::debug!(
            "STS issued {} until {}",
            crate::secret::masked(&creds.access_key_id),
            timefmt::rfc3339_z(creds.expiration)
        );
        Ok(creds)
    }

    async fn send_once(
        &self,
        body: String,
        req: &AssumeRoleRequest,
        token: &OidcToken,
        time_left: std::time::Duration,
    ) -> Result<AwsCredentials, StsError> {
        let endpoint = self.endpoint.url.clone();
        let received =
            transport::post_form(&STS, &self.http, &endpoint, body, "text/xml", time_left)
                .await
                .map_err(StsError::Transport)?;
        let (status, text) = transport::answer(&received, "STS");
        let sent = [token.expose_secret()];
        if received.is_success() {
            let creds = parse_success(&text).map_err(|detail| {
                bad_response(&endpoint, status, http::server_text(&detail, &sent))
            })?;
            transport::check_expiry(&STS, &endpoint, creds.expiration, (self.clock)())
                .map_err(StsError::Transport)?;
            return Ok(creds);
        }
        match parse_error(&text) {
            Some((code, message)) => Err(StsError::Refused {
                role_arn: req.role_arn.clone(),
                endpoint,
                refusal: Box::new(Refusal {
                    service: &STS,
                    status,
                    hint: hint_for(&code, req, token.claims()),
                    code: http::server_text(&code, &sent),
                    message: http::server_text(&message, &sent),
                    identity: Identity::of(token.claims()),
                }),
            }),
            None => Err(bad_response(&endpoint, status, http::excerpt(&text, &sent))),
        }
    }
}

/// STS at `endpoint` answered HTTP `status` with a body it does not send, as `detail` says.
fn bad_response(endpoint: &str, status: u16, detail: String) -> StsError {
    StsError::Transport(TransportError::new(
        &STS,
        endpoint,
        Failure::BadResponse { status, detail },
    ))
}

/// What to do about each STS error code: a diagnosis, and for the codes that are about trust,
/// the set-up that accepts the token ([`trust::explain`]).
pub(crate) fn hint_for(code: &str, req: &AssumeRoleRequest, claims: &Claims) -> Hint {
    let trust = || trust::explain(claims, &req.role_arn);
    match code {
        "AccessDenied" => Hint::new(
            "the role's trust policy does not accept this token (usually its `sub` or `aud` condition).",
        )
        .then(trust()),
        "InvalidIdentityToken" => Hint::new(
            "STS could not validate the token: the account needs an IAM OIDC provider for the token's issuer and audience.",
        )
        .then(trust()),
        "IDPRejectedClaim" => Hint::new(
            "the IAM OIDC provider rejected a claim: its audience list must include the token's `aud`.",
        )
        .then(trust()),
        "ExpiredTokenException" => Hint::new(format!(
            "STS says the token has expired; check this machine's clock, then get a fresh token: {}",
            crate::token::fresh_token_hint(false)
        )),
        "IDPCommunicationError" => Hint::new(
            "STS could not fetch the issuer's signing keys (`<issuer>/.well-known/jwks`); this is usually brief: try again in a minute",
        ),
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => Hint::new(
            "STS is throttling requests from this account; leave the cache on (it is, unless --no-cache) and try again shortly",
        ),
        "MalformedPolicyDocument" => Hint::new(
            "the session policy given with --policy is not a valid IAM policy; check its JSON and actions",
        ),
        "PackedPolicyTooLarge" => Hint::new(
            "the session policies (--policy and --policy-arn) are too large once packed; shorten --policy or pass fewer --policy-arn",
        ),
        "RegionDisabledException" => Hint::new(
            "STS is not activated in this endpoint's region for the account; activate it in IAM > Account settings, or choose another --region",
        ),
        "ValidationError" => Hint::new(format!(
            "a parameter was rejected. Check that --duration-seconds ({}) is at most the role's maximum session duration, that the role ARN is right, and that the session name `{}` fits [\\w+=,.@-]{{2,64}}",
            req.duration_seconds, req.session_name
        )),
        "InvalidParameterValue" | "MissingParameter" => Hint::new(
            "a parameter was rejected; check --role-arn, --session-name and --duration-seconds",
        ),
        _ => Hint::new(
            "see the AWS STS AssumeRoleWithWebIdentity documentation for this error code",
        ),
    }
}

/// `AWS_REGION` and `AWS_DEFAULT_REGION` for `region`, when there is one.
pub fn region_env_vars(region: Option<&str>) -> Vec<(&'static str, String)> {
    region
        .map(|r| {
            vec![
                (vars::AWS_REGION, r.to_string()),
                (vars::AWS_DEFAULT_REGION, r.to_string()),
            ]
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const FULL: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>owner:acme:project:web:environment:production</SubjectFromWebIdentityToken>
    <Audience>https://vercel.com/acme</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/deploy/vercel-web-production</Arn>
      <AssumedRoleId>AROA:vercel-web-production</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <Expiration>2026-11-26T13:00:00Z</Expiration>
      <AccessKeyId>ASIAEXAMPLE123456789</AccessKeyId>
    </Credentials>
    <Provider>oidc.vercel.com/acme</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#;

    const MOTO: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIAMOTO</AccessKeyId>
      <SecretAccessKey>secret</SecretAccessKey>
      <SessionToken>session</SessionToken>
      <Expiration>2026-11-26T13:00:00.123456Z</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#;

    #[test]
    fn parses_success_with_optional_elements() {
        let c = parse_success(FULL).unwrap();
        assert_eq!(c.access_key_id, "ASIAEXAMPLE123456789");
        assert_eq!(
            c.secret_access_key.expose_secret(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        assert_eq!(c.session_token.expose_secret(), "FwoGZXIvYXdzEXAMPLE");
        assert_eq!(c.expiration, datetime!(2026-11-26 13:00:00 UTC));
    }

    #[test]
    fn parses_success_without_optional_elements_and_fractional_seconds() {
        let c = parse_success(MOTO).unwrap();
        assert_eq!(c.access_key_id, "ASIAMOTO");
        assert_eq!(timefmt::rfc3339_z(c.expiration), "2026-11-26T13:00:00Z");
    }

    #[test]
    fn rejects_incomplete_success() {
        for (xml, want) in [
            ("<x/>", "the response has no Credentials element"),
            (
                "<a><Credentials><AccessKeyId>A</AccessKeyId></Credentials></a>",
                "the response has no Expiration",
            ),
            (
                "<a><Credentials><Expiration>soon</Expiration></Credentials></a>",
                "the response's Expiration `soon` is not a timestamp",
            ),
            ("not xml", "the response is not XML"),
        ] {
            let err = parse_success(xml).unwrap_err();
            assert!(err.starts_with(want), "{xml}: {err}");
        }
    }

    #[test]
    fn parses_errors() {
        let xml = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>
  <RequestId>x</RequestId></ErrorResponse>"#;
        assert_eq!(
            parse_error(xml),
            Some((
                "AccessDenied".into(),
                "Not authorized to perform sts:AssumeRoleWithWebIdentity".into()
            ))
        );
        assert_eq!(parse_error("<html>502</html>"), None);
    }

    #[test]
    fn process_json_shape() {
        let c = parse_success(MOTO).unwrap();
        let v: serde_json::Value = serde_json::from_str(&c.to_process_json()).unwrap();
        assert_eq!(v["Version"], 1);
        assert_eq!(v["Expiration"], "2026-11-26T13:00:00Z");
        assert_eq!(v["SessionToken"], "session");
        assert_eq!(v.as_object().unwrap().len(), 5);
        let back: AwsCredentials = serde_json::from_value(v).unwrap();
        assert_eq!(back.access_key_id, "ASIAMOTO");
    }

    #[test]
    fn form_field_names() {
        let req = AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            session_name: "s".into(),
            duration_seconds: 900,
            policy_arns: vec![
                "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
                "arn:aws:iam::aws:policy/B".into(),
            ],
            policy: Some("{}".into()),
        };
        let names: Vec<String> = form_fields(&req, "tok")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            names,
            [
                "Action",
                "Version",
                "RoleArn",
                "RoleSessionName",
                "WebIdentityToken",
                "DurationSeconds",
                "PolicyArns.member.1.arn",
                "PolicyArns.member.2.arn",
                "Policy"
            ]
        );
    }

    #[test]
    fn transient_classification() {
        let refused = |code: &str, status| StsError::Refused {
            role_arn: String::new(),
            endpoint: String::new(),
            refusal: Box::new(Refusal {
                service: &STS,
                status,
                code: code.into(),
                message: String::new(),
                identity: Identity::default(),
                hint: Hint::default(),
            }),
        };
        assert!(refused("IDPCommunicationError", 400).is_transient());
        assert!(refused("Throttling", 400).is_transient());
        assert!(refused("InternalFailure", 500).is_transient());
        assert!(!refused("AccessDenied", 403).is_transient());
        assert!(!refused("InvalidIdentityToken", 400).is_transient());
        assert!(!refused("ExpiredTokenException", 400).is_transient());
    }
}
