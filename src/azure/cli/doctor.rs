//! Azure in `vercel-oidc doctor`: its settings, one Entra ID token for [`SCOPE`] with the cache
//! left alone, and the federated credential that accepts the token ([`crate::azure::trust`]).

use crate::azure::settings::CLIENT_ID;
use crate::azure::{self, AzureConfig, EntraError};
use crate::cli::doctor::{
    Check, Checker, CloudReport, Row, indented_json, listing, refusal, value_for_trust,
};
use crate::settings::{Origin, Resolved};
use crate::token::Claims;

/// The scope of the Entra ID token the Azure check asks for.
pub const SCOPE: &str = "https://management.azure.com/.default";

/// The Azure part of the report.
pub(super) fn check(checker: &Checker, settings: &Resolved) -> CloudReport {
    let config = AzureConfig::from_settings(settings);
    let mut rows = listing(settings, |_| None);
    rows.push(Row::derived(
        "scope",
        SCOPE.to_string(),
        Origin::Default("what doctor asks for"),
    ));
    let check = checker.exchange(
        &config,
        |config, token| azure::access_token(&checker.ctx.session, config, SCOPE, token, true),
        |config, access| {
            let expires = access.expires_at();
            let summary = format!(
                "Entra ID issued an access token for app `{}`, valid until {}",
                config.client_id,
                checker.until(expires)
            );
            Check::passed(summary, expires)
        },
        entra_refusal,
        "Entra ID",
    );
    let client_id = value_for_trust(
        config.as_ref().ok().map(|c| c.client_id.as_str()),
        settings,
        &CLIENT_ID,
        "<CLIENT_ID>",
    );
    let trust = checker.trust(&check, |claims| trust(claims, &client_id));
    CloudReport::new(settings, rows, check, trust)
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

/// The federated credential on the app that accepts the token, and the command that adds it, as
/// JSON and as the report's lines.
fn trust(claims: &Claims, client_id: &str) -> (serde_json::Value, Vec<String>) {
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
