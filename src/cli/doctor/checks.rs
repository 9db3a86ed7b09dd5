//! `doctor`'s check of each cloud: its settings and where they came from, one real exchange
//! through the code the cloud's own subcommands use (cache bypassed), and the trust set-up that
//! accepts the token when the check does not pass.

use time::OffsetDateTime;
use vercel_oidc::aws::container::Delivery;
use vercel_oidc::aws::{self, AwsConfig, AwsOptions, StsError};
use vercel_oidc::azure::{self, AzureConfig, AzureOptions, EntraError};
use vercel_oidc::gcp::{self, GcpConfig, GcpError, GcpOptions, WorkloadProvider};
use vercel_oidc::token::{Claims, OidcToken};
use vercel_oidc::{secret, timefmt};

use super::origins::{Origin, Origins, Setting, SettingList, list};
use super::trust::{aws_trust, azure_trust, gcp_trust};
use super::{AZURE_SCOPE, Check, CloudError, CloudReport, Status};
use crate::cli::Ctx;

pub(super) struct Checker<'a> {
    pub(super) ctx: &'a Ctx,
    pub(super) now: OffsetDateTime,
    pub(super) offline: bool,
    /// The token to send; `None` when there is none that can be used.
    pub(super) token: Option<&'a OidcToken>,
    /// The claims of the token found, even an expired one.
    pub(super) claims: Option<&'a Claims>,
    pub(super) origins: Origins<'a>,
}

impl Checker<'_> {
    /// The token to exchange, or why no exchange is made.
    fn sendable(&self) -> Result<&OidcToken, &'static str> {
        match self.token {
            None => Err("there is no usable token to exchange"),
            Some(_) if self.offline => Err("--offline, so no request was made"),
            Some(token) => Ok(token),
        }
    }

    fn until(&self, t: OffsetDateTime) -> String {
        format!(
            "{} ({})",
            timefmt::rfc3339_z(t),
            timefmt::relative(t, self.now)
        )
    }

    /// The check of one cloud: settings, then a token, then the exchange `run`, whose result
    /// `passed` describes; `refused` reads the cloud's own refusals, anything else is reported
    /// as it is.
    fn exchange<C, E: vercel_oidc::problem::Explain, T>(
        &self,
        config: &Result<C, E>,
        run: impl FnOnce(&C, OidcToken) -> anyhow::Result<T>,
        passed: impl FnOnce(&C, T) -> Check,
        refused: fn(&anyhow::Error) -> Option<Check>,
        service: &str,
    ) -> Check {
        let config = match config {
            Ok(config) => config,
            Err(e) => return Check::bad_settings(e),
        };
        let token = match self.sendable() {
            Ok(token) => token.clone(),
            Err(reason) => return Check::skipped(reason),
        };
        match run(config, token) {
            Ok(result) => passed(config, result),
            Err(e) => refused(&e).unwrap_or_else(|| other_failure(service, &e)),
        }
    }

    /// How `exec` would hand AWS credentials to its command, and why.
    fn exec_credentials(&self) -> Setting {
        const VAR: &str = "VERCEL_OIDC_AWS_CREDENTIALS";
        let project = self.ctx.project().unwrap_or_default();
        let environment = self.claims.and_then(|c| c.environment.as_deref());
        let given = self
            .ctx
            .env
            .get(VAR)
            .map(|v| Delivery::parse(v).ok_or(v))
            .transpose();
        let given = match given {
            Ok(given) => given,
            Err(bad) => {
                return Setting {
                    name: "exec_credentials",
                    value: Some(format!(
                        "`{}` is neither `endpoint` nor `env`",
                        bad.escape_debug()
                    )),
                    origin: Origin::Env(VAR.into()),
                };
            }
        };
        let (delivery, chosen) = crate::cli::exec::choose_delivery(
            &self.ctx.env,
            given,
            self.ctx.can_refresh(),
            &project,
            environment,
        );
        Setting {
            name: "exec_credentials",
            value: Some(delivery.as_str().to_string()),
            origin: match chosen {
                crate::cli::exec::Chosen::Given => Origin::Env(VAR.into()),
                crate::cli::exec::Chosen::File(path) => Origin::File(path.unwrap_or_default()),
                crate::cli::exec::Chosen::Default(why) => Origin::Default(why),
            },
        }
    }

    pub(super) fn aws(&self, given: &AwsOptions, opts: &AwsOptions) -> CloudReport {
        let env = &self.ctx.env;
        let o = &self.origins;
        let config = AwsConfig::from_options(opts, env);
        let mut region = o.plain("region", "region", &given.region, &opts.region);
        if region.value.is_none()
            && let Some(var) = ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .into_iter()
                .find(|v| env.get(v).is_some())
        {
            region.value = env.get(var).map(str::to_string);
            region.origin = Origin::Env(var.to_string());
        }
        let endpoint_var = ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"]
            .into_iter()
            .find(|v| env.get(v).is_some())
            .filter(|_| !env.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"));
        let endpoint = aws::endpoint::resolve(env, opts.region.as_deref())
            .ok()
            .map(|e| e.url);
        let endpoint = Setting {
            name: "sts_endpoint",
            origin: match (endpoint_var, &endpoint) {
                (_, None) => Origin::Unset,
                (Some(var), Some(_)) => Origin::Env(var.to_string()),
                (None, Some(_)) if region.value.is_some() => Origin::Default("the region's"),
                (None, Some(_)) => Origin::Default("no region: the global one"),
            },
            value: endpoint,
        };
        let number = |n: Option<u32>| n.map(|n| n.to_string());
        let settings = SettingList(vec![
            o.plain("role_arn", "role-arn", &given.role_arn, &opts.role_arn),
            o.setting(
                "session_name",
                "session-name",
                given.session_name.clone(),
                opts.session_name.clone(),
                self.claims
                    .map(|c| (aws::default_session_name(c), "from the token")),
            ),
            o.setting(
                "duration_seconds",
                "duration-seconds",
                number(given.duration_seconds),
                number(opts.duration_seconds),
                Some((aws::DEFAULT_DURATION_SECONDS.to_string(), "")),
            ),
            region,
            endpoint,
            o.setting(
                "policy_arns",
                "policy-arn",
                list(&given.policy_arns),
                list(&opts.policy_arns),
                None,
            ),
            o.plain("policy", "policy", &given.policy, &opts.policy),
            self.exec_credentials(),
        ]);
        let check = self.exchange(
            &config,
            |config, token| crate::cli::aws::credentials(self.ctx, config, token, true),
            |config, creds| {
                let key = secret::masked(&creds.access_key_id);
                let summary = format!(
                    "STS issued credentials {key} for `{}`, valid until {}",
                    config.role_arn,
                    self.until(creds.expiration)
                );
                Check {
                    access_key_id: Some(key),
                    ..Check::passed(summary, creds.expiration)
                }
            },
            sts_refusal,
            "STS",
        );
        let role_arn = config
            .as_ref()
            .map(|c| c.role_arn.clone())
            .ok()
            .or_else(|| opts.role_arn.clone())
            .unwrap_or_else(|| "arn:aws:iam::<ACCOUNT_ID>:role/<ROLE_NAME>".into());
        let (trust, trust_text) = self.trust(&check, |claims| aws_trust(claims, &role_arn));
        CloudReport {
            configured: opts.role_arn.is_some(),
            settings,
            check,
            trust,
            trust_text,
        }
    }

    pub(super) fn gcp(&self, given: &GcpOptions, opts: &GcpOptions) -> CloudReport {
        let o = &self.origins;
        let config = GcpConfig::from_options(opts);
        let by_parts = given.audience.is_none() && opts.audience.is_none();
        let made = "made from the project number, pool and provider";
        let impersonating = opts.service_account.is_some();
        let default = |value: &str| Some((value.to_string(), ""));
        let settings = SettingList(vec![
            o.setting(
                "audience",
                "audience",
                given.audience.clone(),
                opts.audience.clone(),
                config
                    .as_ref()
                    .ok()
                    .filter(|_| by_parts)
                    .map(|c| (c.audience(), made)),
            ),
            o.plain(
                "project_number",
                "project-number",
                &given.project_number,
                &opts.project_number,
            ),
            o.plain("pool", "pool", &given.pool, &opts.pool),
            o.plain("provider", "provider", &given.provider, &opts.provider),
            o.plain(
                "service_account",
                "service-account",
                &given.service_account,
                &opts.service_account,
            ),
            o.setting(
                "token_lifetime_seconds",
                "token-lifetime-seconds",
                given.token_lifetime_seconds.map(|s| s.to_string()),
                opts.token_lifetime_seconds.map(|s| s.to_string()),
                default(&gcp::DEFAULT_TOKEN_LIFETIME_SECONDS.to_string()).filter(|_| impersonating),
            ),
            o.setting(
                "token_url",
                "token-url",
                given.token_url.clone(),
                opts.token_url.clone(),
                default(gcp::DEFAULT_TOKEN_URL),
            ),
            o.setting(
                "impersonation_url",
                "impersonation-url",
                given.impersonation_url.clone(),
                opts.impersonation_url.clone(),
                default(gcp::DEFAULT_IAM_CREDENTIALS_URL).filter(|_| impersonating),
            ),
            // Scopes have no flag here: the project config, or the default.
            o.setting(
                "scopes",
                "",
                None,
                list(&opts.scopes),
                default(gcp::CLOUD_PLATFORM_SCOPE),
            ),
            o.plain(
                "project_id",
                "project-id",
                &given.project_id,
                &opts.project_id,
            ),
        ]);
        let check = self.exchange(
            &config,
            |config, token| crate::cli::gcp::access_token(self.ctx, config, token, true),
            |config, access| {
                let who = match &config.impersonation {
                    Some(imp) => format!("for `{}`", imp.service_account),
                    None => "for the federated identity".into(),
                };
                let expires = access.expires_at();
                let summary = format!(
                    "Google issued an access token {who}, valid until {}",
                    self.until(expires)
                );
                Check::passed(summary, expires)
            },
            google_refusal,
            "Google",
        );
        // Without a valid provider, the parts that were given, and placeholders for the rest.
        let part = |value: &Option<String>, placeholder: &str| {
            value.clone().unwrap_or_else(|| placeholder.to_string())
        };
        let provider = match &config {
            Ok(c) => c.provider.clone(),
            Err(_) => opts
                .audience
                .as_deref()
                .and_then(|a| WorkloadProvider::parse_audience(a).ok())
                .unwrap_or_else(|| WorkloadProvider {
                    project_number: part(&opts.project_number, "<PROJECT_NUMBER>"),
                    pool: part(&opts.pool, "<POOL>"),
                    provider: part(&opts.provider, "<PROVIDER>"),
                }),
        };
        let (trust, trust_text) = self.trust(&check, |claims| {
            let sa = opts.service_account.as_deref();
            gcp_trust(claims, &provider, sa, opts.project_id.as_deref())
        });
        CloudReport {
            configured: opts.audience.is_some() || opts.project_number.is_some(),
            settings,
            check,
            trust,
            trust_text,
        }
    }

    pub(super) fn azure(&self, given: &AzureOptions, opts: &AzureOptions) -> CloudReport {
        let o = &self.origins;
        let config = AzureConfig::from_options(opts);
        let settings = SettingList(vec![
            o.plain("tenant_id", "tenant-id", &given.tenant_id, &opts.tenant_id),
            o.plain("client_id", "client-id", &given.client_id, &opts.client_id),
            o.setting(
                "authority_host",
                "authority-host",
                given.authority_host.clone(),
                opts.authority_host.clone(),
                Some((azure::DEFAULT_AUTHORITY_HOST.into(), "Azure's public cloud")),
            ),
            o.setting(
                "scope",
                "",
                None,
                None,
                Some((AZURE_SCOPE.to_string(), "what doctor asks for")),
            ),
        ]);
        let check = self.exchange(
            &config,
            |config, token| {
                crate::cli::azure::access_token(self.ctx, config, AZURE_SCOPE, token, true)
            },
            |config, access| {
                let expires = access.expires_at();
                let summary = format!(
                    "Entra ID issued an access token for app `{}`, valid until {}",
                    config.client_id,
                    self.until(expires)
                );
                Check::passed(summary, expires)
            },
            entra_refusal,
            "Entra ID",
        );
        let client_id = config
            .as_ref()
            .map(|c| c.client_id.clone())
            .ok()
            .or_else(|| opts.client_id.clone())
            .unwrap_or_else(|| "<CLIENT_ID>".into());
        let (trust, trust_text) = self.trust(&check, |claims| azure_trust(claims, &client_id));
        CloudReport {
            configured: opts.tenant_id.is_some() && opts.client_id.is_some(),
            settings,
            check,
            trust,
            trust_text,
        }
    }

    /// The trust that accepts this token, unless the check passed or there are no claims.
    fn trust(
        &self,
        check: &Check,
        make: impl FnOnce(&Claims) -> (serde_json::Value, Vec<String>),
    ) -> (Option<serde_json::Value>, Vec<String>) {
        match self.claims {
            Some(claims) if check.status != Status::Passed => {
                let (json, text) = make(claims);
                (Some(json), text)
            }
            _ => (None, Vec::new()),
        }
    }
}

/// A refusal: who refused, its status, code and message, and this tool's diagnosis as the hint
/// (the trust set-up it goes on with is shown apart, in full).
fn refusal(summary: String, refusal: &vercel_oidc::refusal::Refusal) -> Check {
    Check::failed(
        summary,
        CloudError {
            service: refusal.service.name().into(),
            status: Some(refusal.status),
            code: Some(refusal.code.clone()),
            message: refusal.message.clone(),
            hint: Some(refusal.hint.diagnosis.clone()),
        },
    )
}

fn sts_refusal(error: &anyhow::Error) -> Option<Check> {
    match error.downcast_ref::<StsError>()? {
        StsError::Refused { refusal: r, .. } => Some(refusal(
            format!("STS refused the token: {}: {}", r.code, r.message),
            r,
        )),
        _ => None,
    }
}

fn google_refusal(error: &anyhow::Error) -> Option<Check> {
    match error.downcast_ref::<GcpError>()? {
        GcpError::StsRefused { refusal: r, .. } => Some(refusal(
            format!("Google STS refused the token: {}: {}", r.code, r.message),
            r,
        )),
        GcpError::ImpersonationRefused {
            service_account,
            refusal: r,
            ..
        } => Some(refusal(
            format!(
                "IAM Credentials refused to let the token impersonate `{service_account}`: HTTP {} {}: {}",
                r.status, r.code, r.message
            ),
            r,
        )),
        _ => None,
    }
}

fn entra_refusal(error: &anyhow::Error) -> Option<Check> {
    match error.downcast_ref::<EntraError>()? {
        EntraError::Refused {
            refusal: r, error, ..
        } => Some(refusal(
            format!("Entra ID refused the token: {error}: {}", r.message),
            r,
        )),
        _ => None,
    }
}

/// A failure that is not the cloud refusing the token: the network, an odd answer, the token.
/// An error of the library that explains itself gives the message (after whatever context was
/// put around it) and the hint; anything else is shown whole, without a hint.
fn other_failure(service: &str, error: &anyhow::Error) -> Check {
    let (message, hint) = explained(error).unwrap_or_else(|| (format!("{error:#}"), None));
    Check::failed(
        message.clone(),
        CloudError {
            service: service.into(),
            status: None,
            code: None,
            message,
            hint,
        },
    )
}

/// The problem of the first error in `error`'s chain that explains itself, after the messages
/// of the errors around it, and its fix.
fn explained(error: &anyhow::Error) -> Option<(String, Option<String>)> {
    let mut messages = Vec::new();
    for cause in error.chain() {
        match vercel_oidc::problem::explained(cause) {
            Some(e) => {
                messages.push(e.problem());
                return Some((messages.join(": "), e.fix()));
            }
            None => messages.push(cause.to_string()),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable() -> StsError {
        StsError::Network {
            endpoint: "https://sts.example".into(),
            detail: "connection refused".into(),
            transient: false,
        }
    }

    /// One row per failure: the message and hint doctor reports.
    #[test]
    fn other_failures_keep_the_library_errors_parts() {
        let cases: Vec<(anyhow::Error, &str, Option<&str>)> = vec![
            (
                unreachable().into(),
                "cannot reach STS at `https://sts.example`: connection refused",
                Some(
                    "check the network, HTTPS_PROXY/NO_PROXY, and the endpoint (--region, AWS_ENDPOINT_URL_STS)",
                ),
            ),
            (
                anyhow::Error::from(unreachable()).context("while checking AWS"),
                "while checking AWS: cannot reach STS at `https://sts.example`: connection refused",
                Some(
                    "check the network, HTTPS_PROXY/NO_PROXY, and the endpoint (--region, AWS_ENDPOINT_URL_STS)",
                ),
            ),
            (
                anyhow::anyhow!("something else\n  with a second line"),
                "something else\n  with a second line",
                None,
            ),
        ];
        for (error, message, hint) in cases {
            let check = other_failure("STS", &error);
            let error = check.error.expect("a failure has an error");
            assert_eq!(
                (check.summary.as_str(), error.message.as_str()),
                (message, message)
            );
            assert_eq!(error.hint.as_deref(), hint, "{message}");
            assert_eq!(error.service, "STS");
        }
    }
}
