//! What every cloud's `doctor` check shares: its settings and where they came from, one real
//! exchange through the code the cloud's own subcommands use (cache bypassed), and the trust
//! set-up that accepts the token when the check does not pass. Each cloud's `cli/doctor.rs`
//! makes its own check with these.

use time::OffsetDateTime;

use super::report::{Check, CloudError, Status};
use crate::cli::Ctx;
use crate::problem::Explain;
use crate::session::ExchangeError;
use crate::settings::{Resolved, Setting};
use crate::timefmt;
use crate::token::{Claims, OidcToken};

/// What every cloud's check needs: the context, the time, and the token.
pub struct Checker<'a> {
    pub ctx: &'a Ctx,
    pub now: OffsetDateTime,
    pub offline: bool,
    /// The token to send; `None` when there is none that can be used.
    pub token: Option<&'a OidcToken>,
    /// The claims of the token found, even an expired one.
    pub claims: Option<&'a Claims>,
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

    /// `t`, and how long from now.
    pub fn until(&self, t: OffsetDateTime) -> String {
        format!(
            "{} ({})",
            timefmt::rfc3339_z(t),
            timefmt::relative(t, self.now)
        )
    }

    /// The check of one cloud: settings, then a token, then the exchange `run`, whose result
    /// `passed` describes; `refused` reads the cloud's own refusals, anything else is reported
    /// as it is.
    pub fn exchange<C, E: Explain, T, X: Explain>(
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

    /// The trust that accepts this token, unless the check passed or there are no claims.
    pub fn trust(
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
pub fn refusal(summary: String, refusal: &crate::refusal::Refusal) -> Check {
    Check::failed(
        summary,
        CloudError {
            service: refusal.service.name.into(),
            status: Some(refusal.status),
            code: Some(refusal.code.clone()),
            message: refusal.message.clone(),
            hint: Some(refusal.hint.diagnosis.clone()),
        },
    )
}

/// The value a trust set-up is made for: the checked one, else `setting` as given, else
/// `placeholder`.
pub fn value_for_trust(
    checked: Option<&str>,
    settings: &Resolved,
    setting: &Setting,
    placeholder: &str,
) -> String {
    checked
        .or_else(|| settings.text(setting))
        .unwrap_or(placeholder)
        .to_string()
}

/// The trust set-up shown as JSON, as the clouds' trust texts show it.
pub use crate::outside::indented_json;

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
    use crate::aws::StsError;

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
