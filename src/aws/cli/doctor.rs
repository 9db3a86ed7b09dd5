//! AWS in `vercel-oidc doctor`: its settings with the STS endpoint and `exec`'s delivery worked
//! out, one `AssumeRoleWithWebIdentity` with the cache left alone, and the IAM set-up that
//! accepts the token ([`crate::aws::trust`]).

use crate::aws::settings::{EXEC_CREDENTIALS, REGION, ROLE_ARN, SESSION_NAME};
use crate::aws::{self, AwsConfig, StsError};
use crate::cli::doctor::{
    Check, Checker, CloudReport, Row, indented_json, listing, refusal, value_for_trust,
};
use crate::secret;
use crate::settings::{Origin, Resolved};
use crate::token::{self, Claims};

/// The AWS part of the report.
pub(super) fn check(checker: &Checker, settings: &Resolved) -> CloudReport {
    let config = AwsConfig::from_settings(settings, checker.ctx.env());
    let check = checker.exchange(
        &config,
        |config, token| aws::credentials(&checker.ctx.session, config, token, true),
        |config, creds| {
            let key = secret::masked(&creds.access_key_id);
            let summary = format!(
                "STS issued credentials {key} for `{}`, valid until {}",
                config.role_arn,
                checker.until(creds.expiration)
            );
            Check {
                access_key_id: Some(key),
                ..Check::passed(summary, creds.expiration)
            }
        },
        sts_refusal,
        "STS",
    );
    let role_arn = value_for_trust(
        config.as_ref().ok().map(|c| c.role_arn.as_str()),
        settings,
        &ROLE_ARN,
        "arn:aws:iam::<ACCOUNT_ID>:role/<ROLE_NAME>",
    );
    let trust = checker.trust(&check, |claims| trust(claims, &role_arn));
    CloudReport::new(settings, rows(checker, settings), check, trust)
}

/// The settings, with the session name worked out from the token, how `exec` would hand
/// credentials over, and the STS endpoint after the region.
fn rows(checker: &Checker, settings: &Resolved) -> Vec<Row> {
    let mut rows = listing(settings, |setting| match setting.name {
        n if n == SESSION_NAME.name => checker.claims.map(|c| {
            let name = aws::default_session_name(c);
            Row::derived(setting.name, name, Origin::Default(setting.derivation()))
        }),
        _ => None,
    });
    if let Some(exec) = rows.iter_mut().find(|r| r.name == EXEC_CREDENTIALS.name) {
        *exec = exec_credentials(checker, settings);
    }
    let after_region = rows
        .iter()
        .position(|r| r.name == "region")
        .map_or(0, |i| i + 1);
    rows.insert(after_region, sts_endpoint(checker, settings));
    rows
}

/// How `exec` would hand AWS credentials to its command, and why; a value it would refuse is
/// shown as what is wrong with it.
fn exec_credentials(checker: &Checker, settings: &Resolved) -> Row {
    let name = EXEC_CREDENTIALS.name;
    let refreshable = checker.ctx.session.can_refresh();
    match super::exec::choose_delivery(checker.ctx.env(), settings, refreshable) {
        Ok((delivery, origin)) => Row::derived(name, delivery.as_str().into(), origin),
        Err(bad) => Row {
            value: Some(bad.problem),
            ..Row::new(name, settings.get(&EXEC_CREDENTIALS))
        },
    }
}

/// The STS endpoint the settings lead to, after the region.
fn sts_endpoint(checker: &Checker, settings: &Resolved) -> Row {
    let region = settings.get(&REGION);
    match aws::endpoint::resolve(checker.ctx.env(), region) {
        Ok(endpoint) => Row::derived("sts_endpoint", endpoint.url, endpoint.origin),
        Err(_) => Row::new("sts_endpoint", None),
    }
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

/// The IAM OIDC provider, the role's trust policy and the commands that make them, as JSON and
/// as the report's lines.
fn trust(claims: &Claims, role_arn: &str) -> (serde_json::Value, Vec<String>) {
    let provider = aws::trust::oidc_provider(claims, role_arn);
    let policy = aws::trust::trust_policy(claims, role_arn);
    let commands = aws::trust::cli_commands(claims, role_arn);
    let host_path = token::issuer_host_path(&claims.iss);
    let json = serde_json::json!({
        "oidc_provider": provider,
        "role_arn": role_arn,
        "trust_policy": policy,
        "policy_file": aws::trust::POLICY_FILE,
        "commands": commands,
        "condition_keys": {
            "aud": format!("{host_path}:aud"),
            "sub": format!("{host_path}:sub"),
        },
    });
    let (_, account) = aws::trust::role_account(role_arn).unwrap_or(("aws", "<ACCOUNT_ID>"));
    let mut text = vec![
        format!("IAM OIDC provider in account {account}:"),
        format!("  URL       {}", provider.url),
        format!("  audience  {}", provider.audience),
        format!("  ARN       {}", provider.arn),
        format!(
            "trust policy of role `{}` (save as {}):",
            aws::trust::role_name(role_arn),
            aws::trust::POLICY_FILE
        ),
    ];
    text.extend(indented_json(&policy, "  "));
    text.push("commands:".into());
    text.extend(commands.iter().map(|c| format!("  {c}")));
    text.push(format!(
        "(to admit every environment of the project, use `{}` instead)",
        aws::trust::every_environment(claims)
    ));
    (json, text)
}
