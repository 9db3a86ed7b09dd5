//! GCP in `vercel-oidc doctor`: its settings with the audience worked out, one exchange with
//! Google STS (and IAM Credentials with a service account) with the cache left alone, and the
//! workload identity set-up that accepts the token ([`crate::gcp::trust`]).

use crate::cli::doctor::{Check, Checker, CloudReport, Row, listing, refusal};
use crate::gcp::settings::{AUDIENCE, POOL, PROJECT_ID, PROJECT_NUMBER, PROVIDER, SERVICE_ACCOUNT};
use crate::gcp::{self, GcpConfig, GcpError, WorkloadProvider};
use crate::settings::{Origin, Resolved};
use crate::token::Claims;

/// The GCP part of the report.
pub(super) fn check(checker: &Checker, settings: &Resolved) -> CloudReport {
    let config = GcpConfig::from_settings(settings);
    let rows = listing(settings, |setting| match (setting.name, &config) {
        (n, Ok(c)) if n == AUDIENCE.name => Some(Row::derived(
            setting.name,
            c.audience(),
            Origin::Default(setting.derivation()),
        )),
        _ => None,
    });
    let check = checker.exchange(
        &config,
        |config, token| gcp::access_token(&checker.ctx.session, config, token, true),
        |config, access| {
            let who = match &config.impersonation {
                Some(imp) => format!("for `{}`", imp.service_account),
                None => "for the federated identity".into(),
            };
            let expires = access.expires_at();
            let summary = format!(
                "Google issued an access token {who}, valid until {}",
                checker.until(expires)
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
    let trust = checker.trust(&check, |claims| {
        trust(claims, &provider, text(&SERVICE_ACCOUNT), text(&PROJECT_ID))
    });
    CloudReport::new(settings, rows, check, trust)
}

/// Without a valid provider: the one the audience names, else the parts that were given and
/// placeholders for the rest.
fn provider_or_placeholders(settings: &Resolved) -> WorkloadProvider {
    let audience = settings.text(&AUDIENCE);
    if let Some(provider) = audience.and_then(|a| WorkloadProvider::parse_audience(a).ok()) {
        return provider;
    }
    let part = |setting, placeholder: &str| {
        settings
            .text(setting)
            .map_or_else(|| placeholder.to_string(), str::to_string)
    };
    WorkloadProvider {
        project_number: part(&PROJECT_NUMBER, "<PROJECT_NUMBER>"),
        pool: part(&POOL, "<POOL>"),
        provider: part(&PROVIDER, "<PROVIDER>"),
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

/// The workload identity pool provider and the IAM binding that accept the token, with the
/// gcloud commands that make them, as JSON and as the report's lines.
fn trust(
    claims: &Claims,
    provider: &WorkloadProvider,
    service_account: Option<&str>,
    project_id: Option<&str>,
) -> (serde_json::Value, Vec<String>) {
    let setup = gcp::trust::provider_setup(claims, provider, service_account, project_id);
    let json = serde_json::to_value(&setup).expect("json");
    let mut text = vec![
        format!("workload identity pool provider `{}`:", setup.provider),
        format!("  issuer URI           {}", setup.issuer_uri),
        format!("  allowed audience     {}", setup.allowed_audience),
        format!("  attribute mapping    {}", setup.attribute_mapping),
    ];
    if let Some(condition) = &setup.attribute_condition {
        text.push(format!("  attribute condition  {condition}"));
    }
    text.push(format!(
        "IAM binding: {} on {}, for this token's principal:",
        setup.grant.role, setup.grant.on
    ));
    text.push(format!("  {}", setup.principal));
    if let Some(set) = &setup.principal_set {
        text.push("or for every environment of the project:".into());
        text.push(format!("  {set}"));
    }
    text.push("gcloud commands:".into());
    for (key, command) in setup.commands.list() {
        let note = match key {
            "update_provider" => "  # instead of create-oidc, for a provider that exists",
            _ => "",
        };
        text.push(format!("  {command}{note}"));
    }
    (json, text)
}
