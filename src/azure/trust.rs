//! The federated identity credential that would accept a given token, for error messages.
//!
//! What comes from the token is shown escaped ([`Text`]), the credential's JSON with
//! [`outside::shown_json`]; the Azure CLI command quotes its value ([`PasteCommand`]). That
//! value is the app's client id, a GUID checked where it is set (so it cannot start with the
//! `@` that makes `az` load a file); the audiences go in the credential's JSON file, which no
//! list syntax of `az` touches.

use crate::azure::AZURE_DEFAULT_AUDIENCE;
use crate::output::PasteCommand;
use crate::outside::{self, Text};
use crate::token::Claims;

/// A credential name Entra accepts (letters, digits, `-` and `_`, 3 to 120 characters), made
/// from the token: `vercel-<project>-<environment>`.
pub fn credential_name(claims: &Claims) -> String {
    claims
        .label()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(120)
        .collect()
}

/// A federated identity credential as `az ad app federated-credential create --parameters`
/// takes it (fields in the order the portal shows them).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FederatedCredential {
    pub name: String,
    pub issuer: Text,
    pub subject: Text,
    pub audiences: Vec<Text>,
}

/// The credential whose issuer, subject and audience equal the token's.
pub fn federated_credential(claims: &Claims) -> FederatedCredential {
    FederatedCredential {
        name: credential_name(claims),
        issuer: claims.iss.clone(),
        subject: claims.sub.clone(),
        audiences: vec![claims.aud.first().clone()],
    }
}

/// The file name [`create_command`] reads the credential of [`federated_credential`] from.
pub const CREDENTIAL_FILE: &str = "credential.json";

/// The Azure CLI command that adds the credential, saved as [`CREDENTIAL_FILE`], to app
/// `client_id`, quoted for the shell (see [`PasteCommand::line`]).
pub fn create_command(client_id: &str) -> String {
    PasteCommand::new("az ad app federated-credential create --id")
        .arg(client_id)
        .words(&format!("--parameters {CREDENTIAL_FILE}"))
        .line()
}

/// A few lines naming what the token carried and the federated credential that matches it.
pub fn explain(claims: &Claims, client_id: &str) -> String {
    let json = outside::indented_json(&federated_credential(claims), "    ").join("\n");
    let aud = claims.aud.first();
    let mut text = format!(
        "  the token carried:\n    iss: {iss}\n    sub: {sub}\n    aud: {aud}\n  \
         a federated credential on app `{client_id}` matches it when its issuer and subject equal these \
         exactly (subject matching is case-sensitive, no wildcards) and its audiences include the token's `aud`, \
         for example (save as {CREDENTIAL_FILE}, then `{command}`):\n{json}",
        iss = claims.iss,
        sub = claims.sub,
        command = create_command(client_id),
    );
    if aud != AZURE_DEFAULT_AUDIENCE {
        text.push_str(&format!(
            "\n  note: Azure proposes the audience `{AZURE_DEFAULT_AUDIENCE}` for new credentials, \
             but this token's audience is `{aud}`; the credential must list `{aud}`"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::decode_claims;
    use crate::token::tests::{claims_json, jwt};

    #[test]
    fn credential_matches_the_token() {
        let claims = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        assert_eq!(
            serde_json::to_value(federated_credential(&claims)).unwrap(),
            serde_json::json!({
                "name": "vercel-web-production",
                "issuer": "https://oidc.vercel.com/acme",
                "subject": "owner:acme:project:web:environment:production",
                "audiences": ["https://vercel.com/acme"],
            })
        );
        let text = explain(&claims, "c-id");
        let name = text.find("\"name\"").unwrap();
        let issuer = text.find("\"issuer\"").unwrap();
        let subject = text.find("\"subject\"").unwrap();
        let audiences = text.find("\"audiences\"").unwrap();
        assert!(
            name < issuer && issuer < subject && subject < audiences,
            "{text}"
        );
        assert!(text.contains("sub: owner:acme:project:web:environment:production"));
        assert!(text.contains("case-sensitive"));
        assert!(text.contains("--id c-id"));
        assert!(text.contains("note: Azure proposes the audience `api://AzureADTokenExchange`"));
    }

    #[test]
    fn custom_audience_needs_no_note() {
        let mut c = claims_json(2_000_000_000);
        c["aud"] = serde_json::json!("api://AzureADTokenExchange");
        c["project"] = serde_json::json!("my app.v2");
        let claims = decode_claims(&jwt(&c)).unwrap();
        assert!(!explain(&claims, "c").contains("note:"));
        assert_eq!(credential_name(&claims), "vercel-my-app-v2-production");
    }
}
