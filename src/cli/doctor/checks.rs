//! `doctor`'s check of each cloud: its settings and where they came from, one real exchange
//! through the code the cloud's own subcommands use (cache bypassed), and the trust set-up that
//! accepts the token when the check does not pass.

use crate::aws::settings as aws_settings;
use crate::aws::{self, AwsConfig, StsError};
use crate::azure::settings as azure_settings;
use crate::azure::{AzureConfig, EntraError};
use crate::gcp::settings as gcp_settings;
use crate::gcp::{GcpConfig, GcpError, WorkloadProvider};
use crate::problem::Explain;
use crate::session::ExchangeError;
use crate::settings::{Origin, Resolved};
use crate::token::{Claims, OidcToken};
use crate::{secret, timefmt};
use time::OffsetDateTime;

use super::origins::{Row, SettingList, listing};
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
    fn exchange<C, E: Explain, T, X: Explain>(
        &self,
        config: &Result<C, E>,
        run: impl FnOnce(&C, OidcToken) -> Result<T, ExchangeError<X>>,
        passed: impl FnOnce(&C, T) -> Check,
        refused: fn(&X) -> Option<Check>,
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
            Err(e) => e
                .cloud()
                .and_then(refused)
                .unwrap_or_else(|| other_failure(service, &e)),
        }
    }

    /// How `exec` would hand AWS credentials to its command, and why; a value it would refuse
    /// is shown as what is wrong with it.
    fn exec_credentials(&self, settings: &Resolved) -> Row {
        let name = aws_settings::EXEC_CREDENTIALS.name;
        let refreshable = self.ctx.session.can_refresh();
        match crate::cli::exec::choose_delivery(self.ctx.env(), settings, refreshable) {
            Ok((delivery, origin)) => Row::derived(name, delivery.as_str().into(), origin),
            Err(bad) => Row {
                value: Some(bad.problem),
                ..Row::new(name, settings.get(&aws_settings::EXEC_CREDENTIALS))
            },
        }
    }

    /// The STS endpoint the settings lead to, after the region.
    fn sts_endpoint(&self, settings: &Resolved) -> Row {
        let region = settings.get(&aws_settings::REGION);
        match aws::endpoint::resolve(self.ctx.env(), region) {
            Ok(endpoint) => Row::derived("sts_endpoint", endpoint.url, endpoint.origin),
            Err(_) => Row::new("sts_endpoint", None),
        }
    }

    pub(super) fn aws(&self, settings: &Resolved) -> CloudReport {
        let config = AwsConfig::from_settings(settings, self.ctx.env());
        let mut rows = listing(settings, |setting| match setting.name {
            n if n == aws_settings::SESSION_NAME.name => self.claims.map(|c| {
                let name = aws::default_session_name(c);
                Row::derived(setting.name, name, Origin::Default(setting.derivation()))
            }),
            _ => None,
        });
        let exec_name = aws_settings::EXEC_CREDENTIALS.name;
        if let Some(exec) = rows.iter_mut().find(|r| r.name == exec_name) {
            *exec = self.exec_credentials(settings);
        }
        let after_region = rows
            .iter()
            .position(|r| r.name == "region")
            .map_or(0, |i| i + 1);
        rows.insert(after_region, self.sts_endpoint(settings));
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
            .or_else(|| settings.text(&aws_settings::ROLE_ARN).map(str::to_string))
            .unwrap_or_else(|| "arn:aws:iam::<ACCOUNT_ID>:role/<ROLE_NAME>".into());
        let (trust, trust_text) = self.trust(&check, |claims| aws_trust(claims, &role_arn));
        CloudReport {
            configured: settings.configured(),
            settings: SettingList(rows),
            check,
            trust,
            trust_text,
        }
    }

    pub(super) fn gcp(&self, settings: &Resolved) -> CloudReport {
        let config = GcpConfig::from_settings(settings);
        let rows = listing(settings, |setting| match (setting.name, &config) {
            (n, Ok(c)) if n == gcp_settings::AUDIENCE.name => Some(Row::derived(
                setting.name,
                c.audience(),
                Origin::Default(setting.derivation()),
            )),
            _ => None,
        });
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
        let provider = match &config {
            Ok(c) => c.provider.clone(),
            Err(_) => provider_or_placeholders(settings),
        };
        let text = |setting| settings.text(setting);
        let (trust, trust_text) = self.trust(&check, |claims| {
            let sa = text(&gcp_settings::SERVICE_ACCOUNT);
            gcp_trust(claims, &provider, sa, text(&gcp_settings::PROJECT_ID))
        });
        CloudReport {
            configured: settings.configured(),
            settings: SettingList(rows),
            check,
            trust,
            trust_text,
        }
    }

    pub(super) fn azure(&self, settings: &Resolved) -> CloudReport {
        let config = AzureConfig::from_settings(settings);
        let mut rows = listing(settings, |_| None);
        rows.push(Row::derived(
            "scope",
            AZURE_SCOPE.to_string(),
            Origin::Default("what doctor asks for"),
        ));
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
            .or_else(|| {
                settings
                    .text(&azure_settings::CLIENT_ID)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "<CLIENT_ID>".into());
        let (trust, trust_text) = self.trust(&check, |claims| azure_trust(claims, &client_id));
        CloudReport {
            configured: settings.configured(),
            settings: SettingList(rows),
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

/// Without a valid provider: the one the audience names, else the parts that were given and
/// placeholders for the rest.
fn provider_or_placeholders(settings: &Resolved) -> WorkloadProvider {
    let audience = settings.text(&gcp_settings::AUDIENCE);
    if let Some(provider) = audience.and_then(|a| WorkloadProvider::parse_audience(a).ok()) {
        return provider;
    }
    let part = |setting, placeholder: &str| {
        settings
            .text(setting)
            .map_or_else(|| placeholder.to_string(), str::to_string)
    };
    WorkloadProvider {
        project_number: part(&gcp_settings::PROJECT_NUMBER, "<PROJECT_NUMBER>"),
        pool: part(&gcp_settings::POOL, "<POOL>"),
        provider: part(&gcp_settings::PROVIDER, "<PROVIDER>"),
    }
}

/// A refusal: who refused, its status, code and message, and this tool's diagnosis as the hint
/// (the trust set-up it goes on with is shown apart, in full).
fn refusal(summary: String, refusal: &crate::refusal::Refusal) -> Check {
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

fn sts_refusal(error: &StsError) -> Option<Check> {
    match error {
        StsError::Refused { refusal: r, .. } => Some(refusal(
            format!("STS refused the token: {}: {}", r.code, r.message),
            r,
        )),
        _ => None,
    }
}

fn google_refusal(error: &GcpError) -> Option<Check> {
    match error {
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

fn entra_refusal(error: &EntraError) -> Option<Check> {
    match error {
        EntraError::Refused {
            refusal: r, error, ..
        } => Some(refusal(
            format!("Entra ID refused the token: {error}: {}", r.message),
            r,
        )),
        _ => None,
    }
}

/// A failure that is not the cloud refusing the token: the network, an odd answer, the token:
/// what is wrong, and what to do as the hint.
fn other_failure(service: &str, error: &dyn Explain) -> Check {
    let message = error.problem();
    Check::failed(
        message.clone(),
        CloudError {
            service: service.into(),
            status: None,
            code: None,
            message,
            hint: error.fix(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable() -> StsError {
        StsError::Transport(crate::transport::TransportError::new(
            &crate::aws::sts::STS,
            "https://sts.example",
            crate::transport::Failure::Network {
                detail: "connection refused".into(),
                transient: false,
            },
        ))
    }

    /// One row per failure: the message and hint doctor reports.
    #[test]
    fn other_failures_keep_the_library_errors_parts() {
        let cases: Vec<(ExchangeError<StsError>, &str, Option<&str>)> = vec![
            (
                ExchangeError::from_cloud(unreachable()),
                "cannot reach STS at `https://sts.example`: connection refused",
                Some(
                    "check the network, HTTPS_PROXY/NO_PROXY, and the endpoint (--region, AWS_ENDPOINT_URL_STS)",
                ),
            ),
            (
                crate::session::Error::Runtime(std::io::Error::other("no threads left")).into(),
                "cannot start the async runtime: no threads left",
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
