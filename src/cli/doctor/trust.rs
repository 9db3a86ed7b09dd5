//! The trust set-up that accepts a token, for `doctor`: as JSON (from the library's trust
//! modules) and as the report's lines, where values from the token are shown escaped (they are
//! [`crate::outside::Text`]) and JSON with [`outside::shown_json`].

use crate::gcp::WorkloadProvider;
use crate::outside;
use crate::token::{self, Claims};
use crate::{aws, azure, gcp};
use serde::Serialize;

/// `value` as pretty JSON fit to show, each line after `indent`.
fn indented_json(value: &impl Serialize, indent: &str) -> Vec<String> {
    let json = serde_json::to_string_pretty(value).expect("json");
    outside::shown_json(&json)
        .lines()
        .map(|l| format!("{indent}{l}"))
        .collect()
}

pub(super) fn aws_trust(claims: &Claims, role_arn: &str) -> (serde_json::Value, Vec<String>) {
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

pub(super) fn gcp_trust(
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

pub(super) fn azure_trust(claims: &Claims, client_id: &str) -> (serde_json::Value, Vec<String>) {
    let credential = azure::trust::federated_credential(claims);
    let command = azure::trust::create_command(client_id);
    let aud = claims.aud.first();
    let note = (aud != azure::AZURE_DEFAULT_AUDIENCE).then(|| {
        format!(
            "Azure proposes the audience `{}` for new credentials, but this token's is `{aud}`: the credential must list `{aud}`",
            azure::AZURE_DEFAULT_AUDIENCE
        )
    });
    let json = serde_json::json!({
        "client_id": client_id,
        "federated_credential": credential,
        "credential_file": azure::trust::CREDENTIAL_FILE,
        "command": command,
        "note": note,
    });
    let mut text = vec![format!(
        "federated credential on app `{client_id}` (issuer and subject must match exactly, case-sensitive; save as {}):",
        azure::trust::CREDENTIAL_FILE
    )];
    text.extend(indented_json(&credential, "  "));
    text.push("command:".into());
    text.push(format!("  {command}"));
    if let Some(note) = note {
        text.push(format!("note: {note}"));
    }
    (json, text)
}
