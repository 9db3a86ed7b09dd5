//! The Google Cloud set-up that would accept a given token, for error messages: the provider's
//! issuer, allowed audience and attribute mapping, and the IAM binding on a service account.
//!
//! What comes from the token or the settings is shown escaped ([`Text`]); the gcloud commands
//! quote each value ([`PasteCommand`]), and one whose value cannot be shown safely is a comment
//! saying so. The attribute condition quotes the team as a CEL string ([`cel_string`]).
//!
//! gcloud reads `--allowed-audiences` as a list: it splits the value at each `,`, takes a value
//! starting with `^X^` as naming another separator `X`, and an empty value as no audience at
//! all. An audience it would not read as itself ([`list_misread`]) gives no provider command.
//! The other values these commands carry are plain strings to gcloud.

// Some of this serves only the command line (doctor's full trust set-up).
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

use serde::Serialize;

use crate::gcp::WorkloadProvider;
use crate::output::PasteCommand;
use crate::outside::Text;
use crate::refusal::Hint;
use crate::token::Claims;

/// The attribute mapping this tool recommends: the subject, plus the claims worth binding on.
pub const ATTRIBUTE_MAPPING: &str = "google.subject=assertion.sub,attribute.owner=assertion.owner,attribute.project=assertion.project,attribute.environment=assertion.environment";

/// Google's limit on the mapped `google.subject`.
const SUBJECT_LIMIT: usize = 127;

/// The role a federated principal needs on a service account to impersonate it.
pub const WORKLOAD_IDENTITY_USER: &str = "roles/iam.workloadIdentityUser";

/// The whole Google Cloud set-up that accepts one token: the provider's settings, the IAM member
/// to grant, and the gcloud commands that do it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderSetup {
    /// The provider's resource name, `projects/<N>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>`.
    pub provider: Text,
    /// Must equal the token's `iss`.
    pub issuer_uri: Text,
    /// Must include the token's `aud`.
    pub allowed_audience: Text,
    pub attribute_mapping: &'static str,
    /// Keeps the provider to the token's team (most needed with the global issuer).
    pub attribute_condition: Option<Text>,
    /// The IAM member of exactly this token's subject.
    pub principal: Text,
    /// The IAM member of every environment of the token's project.
    pub principal_set: Option<Text>,
    /// What the member needs, and on what: a service account, or the resources themselves.
    pub grant: Grant,
    pub commands: GcloudCommands,
}

/// The gcloud commands of a [`ProviderSetup`], in the order they are run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GcloudCommands {
    pub create_pool: String,
    pub create_provider: String,
    /// The same settings on a provider that exists already.
    pub update_provider: String,
    pub grant: String,
}

impl GcloudCommands {
    /// Each command with its key, in order.
    pub fn list(&self) -> [(&'static str, &str); 4] {
        [
            ("create_pool", &self.create_pool),
            ("create_provider", &self.create_provider),
            ("update_provider", &self.update_provider),
            ("grant", &self.grant),
        ]
    }
}

/// The IAM binding that gives the token's principal its access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub role: String,
    /// A service account email, or `project <PROJECT_ID>` when the principal is granted roles on
    /// resources directly.
    pub on: Text,
}

/// `value` as a CEL string literal in double quotes, `\` and `"` escaped.
pub fn cel_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The set-up that accepts this token through `provider`, impersonating `service_account` when
/// one is given (else granting roles to the principal directly in `project_id`).
pub fn provider_setup(
    claims: &Claims,
    provider: &WorkloadProvider,
    service_account: Option<&str>,
    project_id: Option<&str>,
) -> ProviderSetup {
    let principal = provider.principal(&claims.sub);
    let principal_set = claims
        .project
        .as_deref()
        .map(|p| Text::new(provider.principal_set("project", p)));
    let attribute_condition = claims
        .owner
        .as_deref()
        .map(|owner| format!("assertion.owner == {}", cel_string(owner)));
    let (grant, grant_command) = grant(&principal, service_account, project_id);
    let commands = GcloudCommands {
        create_pool: PasteCommand::new("gcloud iam workload-identity-pools create")
            .arg(&provider.pool)
            .flag("--project", &provider.project_number)
            .words("--location=global")
            .line(),
        create_provider: provider_command(
            "create-oidc",
            claims,
            provider,
            attribute_condition.as_deref(),
        ),
        update_provider: provider_command(
            "update-oidc",
            claims,
            provider,
            attribute_condition.as_deref(),
        ),
        grant: grant_command,
    };
    ProviderSetup {
        provider: Text::new(format!(
            "{}/providers/{}",
            provider.pool_name(),
            provider.provider
        )),
        issuer_uri: claims.iss.clone(),
        allowed_audience: claims.aud.first().clone(),
        attribute_mapping: ATTRIBUTE_MAPPING,
        attribute_condition: attribute_condition.map(Text::from),
        principal: Text::new(principal),
        principal_set,
        grant,
        commands,
    }
}

/// What `principal` needs and the gcloud command that grants it: [`WORKLOAD_IDENTITY_USER`] on
/// `service_account` when one is given, else roles on the project `project_id` (a placeholder
/// when not given, left bare for a person to replace).
fn grant(
    principal: &str,
    service_account: Option<&str>,
    project_id: Option<&str>,
) -> (Grant, String) {
    if let Some(sa) = service_account {
        let grant = Grant {
            role: WORKLOAD_IDENTITY_USER.to_string(),
            on: sa.into(),
        };
        return (grant, grant_command(sa, principal));
    }
    let command = PasteCommand::new("gcloud projects add-iam-policy-binding");
    let (project, command) = match project_id {
        Some(project) => (project, command.arg(project)),
        None => ("<PROJECT_ID>", command.words("<PROJECT_ID>")),
    };
    let grant = Grant {
        role: "<ROLE>".to_string(),
        on: Text::new(format!("project {project}")),
    };
    let command = command
        .words("--role=<ROLE>")
        .flag("--member", principal)
        .line();
    (grant, command)
}

/// The gcloud command that grants [`WORKLOAD_IDENTITY_USER`] on `service_account` to
/// `principal`.
fn grant_command(service_account: &str, principal: &str) -> String {
    PasteCommand::new("gcloud iam service-accounts add-iam-policy-binding")
        .arg(service_account)
        .words(&format!("--role={WORKLOAD_IDENTITY_USER}"))
        .flag("--member", principal)
        .line()
}

/// `gcloud iam workload-identity-pools providers <verb> …` with the settings that accept the
/// token, and the attribute condition when given.
fn provider_command(
    verb: &str,
    claims: &Claims,
    provider: &WorkloadProvider,
    condition: Option<&str>,
) -> String {
    let mut command = PasteCommand::new(&format!(
        "gcloud iam workload-identity-pools providers {verb}"
    ))
    .arg(&provider.provider)
    .flag("--project", &provider.project_number)
    .words("--location=global")
    .flag("--workload-identity-pool", &provider.pool)
    .flag("--issuer-uri", &claims.iss)
    .flag("--allowed-audiences", claims.aud.first())
    .unless_misread(claims.aud.first(), list_misread)
    .flag("--attribute-mapping", ATTRIBUTE_MAPPING);
    if let Some(condition) = condition {
        command = command.flag("--attribute-condition", condition);
    }
    command.line()
}

/// Why gcloud would not read `value`, given to a list flag, as that one item.
fn list_misread(value: &str) -> Option<&'static str> {
    if value.contains(',') {
        Some("holds `,`, where gcloud splits a list flag's value into several")
    } else if value.starts_with('^') {
        Some("starts with `^`, with which gcloud names another separator for a list flag's value")
    } else if value.is_empty() {
        Some("is empty, which gcloud reads as a list of no value")
    } else {
        None
    }
}

/// What the token carried, indented for an error message.
pub fn token_lines(claims: &Claims) -> String {
    format!(
        "  the token carried:\n    iss: {}\n    sub: {}\n    aud: {}",
        claims.iss, claims.sub, claims.aud
    )
}

/// Why Google STS may have refused the token, and the provider settings that accept it.
pub fn explain_sts(
    error: &str,
    description: &str,
    claims: &Claims,
    provider: &WorkloadProvider,
) -> Hint {
    let lower = description.to_ascii_lowercase();
    let diagnosis = if error == "invalid_target"
        || (error == "invalid_request" && lower.contains("audience"))
    {
        format!(
            "the audience sent does not name an existing, enabled provider: check the project number ({}, a number, not the project id), the pool id (`{}`) and the provider id (`{}`)",
            provider.project_number, provider.pool, provider.provider
        )
    } else if lower.contains("attribute condition") {
        "the provider's attribute condition rejected this token's claims; loosen the condition or make it match the claims below".to_string()
    } else if lower.contains("audience") {
        format!(
            "the provider's allowed audiences must include the token's `aud` (`{}`); a new provider allows only its own resource name by default",
            claims.aud.first()
        )
    } else if lower.contains("issuer") || lower.contains("iss ") {
        format!(
            "the provider's issuer URI must be exactly the token's `iss` (`{}`)",
            claims.iss
        )
    } else if lower.contains("expired") || lower.contains("stale") {
        format!(
            "Google says the token is too old; check this machine's clock, then get a fresh token: {}",
            crate::token::fresh_token_hint(false)
        )
    } else if lower.contains("google.subject") || lower.contains("127") {
        format!(
            "the mapped `google.subject` must be at most {SUBJECT_LIMIT} bytes; this token's `sub` is {} bytes",
            claims.sub.len()
        )
    } else {
        "Google STS did not accept the token for this provider".to_string()
    };
    Hint::new(diagnosis).then(format!(
        "{}\n  audience sent: {}\n  Google STS accepts it when {provider} has:\n    issuer URI:        {}\n    allowed audience:  {}\n    attribute mapping: google.subject=assertion.sub (and any attribute condition accepts the claims above)\n  for example:\n    {}",
        token_lines(claims),
        provider.audience(),
        claims.iss,
        claims.aud.first(),
        provider_command("update-oidc", claims, provider, None),
    ))
}

/// Why IAM Credentials refused to impersonate `service_account`, and the binding that allows it.
pub fn explain_impersonation(
    status: u16,
    message: &str,
    claims: &Claims,
    provider: &WorkloadProvider,
    service_account: &str,
) -> Hint {
    let principal = Text::new(provider.principal(&claims.sub));
    let project = claims.project.as_deref().unwrap_or("<PROJECT>");
    let principal_set = Text::new(provider.principal_set("project", project));
    let grant = format!(
        "the service account `{service_account}` must grant {WORKLOAD_IDENTITY_USER} to this token's principal"
    );
    let members = format!(
        "    {principal}\n  or to a set of them, such as every environment of the project (needs the mapping attribute.project=assertion.project):\n    {principal_set}\n  for example:\n    {}",
        grant_command(service_account, &principal)
    );
    let binding = Hint::new(grant.clone())
        .introducing(members.clone())
        .to_string();
    let lower = message.to_ascii_lowercase();
    match status {
        403 if lower.contains("api has not been used") || lower.contains("is disabled") => Hint::new(
            "the IAM Service Account Credentials API is not enabled; enable it: gcloud services enable iamcredentials.googleapis.com --project=<PROJECT_ID>",
        )
        .then(binding),
        401 | 403 => Hint::new(grant).introducing(format!(
            "{members}\n  (the binding can take a few minutes to apply)\n{}",
            token_lines(claims)
        )),
        404 => Hint::new(format!(
            "the service account `{service_account}` does not exist, or this principal cannot see it; check --service-account (GCP_SERVICE_ACCOUNT_EMAIL)"
        ))
        .then(binding),
        400 if lower.contains("lifetime") => Hint::new("the requested lifetime is too long: above 3600s it needs the organisation policy constraints/iam.allowServiceAccountCredentialLifetimeExtension to list the service account; lower --token-lifetime-seconds"),
        400 if lower.contains("scope") => Hint::new("a requested scope is not valid; check --scope"),
        _ => Hint::new("IAM Credentials refused the request; see the message above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::decode_claims;
    use crate::token::tests::{claims_json, jwt};

    fn provider() -> WorkloadProvider {
        WorkloadProvider {
            project_number: "123456789012".into(),
            pool: "vercel".into(),
            provider: "vercel-acme".into(),
        }
    }

    fn claims() -> Claims {
        decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap()
    }

    /// One row per STS error: the first line the hint must start with.
    #[test]
    fn sts_hints() {
        let cases = [
            (
                "invalid_request",
                "Invalid value for \"audience\". This value should be the full resource name of the Identity Provider.",
                "  the audience sent does not name an existing, enabled provider: check the project number (123456789012",
            ),
            (
                "invalid_target",
                "The target service indicated by the \"audience\" parameters is invalid.",
                "  the audience sent does not name an existing, enabled provider",
            ),
            (
                "invalid_grant",
                "The audience in ID Token [https://vercel.com/acme] does not match the expected audience.",
                "  the provider's allowed audiences must include the token's `aud` (`https://vercel.com/acme`)",
            ),
            (
                "invalid_grant",
                "The issuer in ID Token does not match the expected ones.",
                "  the provider's issuer URI must be exactly the token's `iss` (`https://oidc.vercel.com/acme`)",
            ),
            (
                "invalid_grant",
                "The given credential is rejected by the attribute condition.",
                "  the provider's attribute condition rejected this token's claims",
            ),
            (
                "invalid_grant",
                "ID Token issued at 1 is stale to sign-in.",
                "  Google says the token is too old",
            ),
            (
                "invalid_grant",
                "The size of mapped attribute google.subject exceeds the 127 bytes limit.",
                "  the mapped `google.subject` must be at most 127 bytes; this token's `sub` is 45 bytes",
            ),
            (
                "invalid_grant",
                "Something new.",
                "  Google STS did not accept the token for this provider",
            ),
        ];
        for (error, description, first) in cases {
            let hint = explain_sts(error, description, &claims(), &provider()).to_string();
            assert!(hint.starts_with(first), "{description}:\n{hint}");
            for needed in [
                "    iss: https://oidc.vercel.com/acme",
                "    sub: owner:acme:project:web:environment:production",
                "    aud: https://vercel.com/acme",
                "  audience sent: //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel-acme",
                "    issuer URI:        https://oidc.vercel.com/acme",
                "    allowed audience:  https://vercel.com/acme",
                "    attribute mapping: google.subject=assertion.sub",
                "gcloud iam workload-identity-pools providers update-oidc vercel-acme --project=123456789012 --location=global --workload-identity-pool=vercel --issuer-uri=https://oidc.vercel.com/acme --allowed-audiences=https://vercel.com/acme --attribute-mapping=google.subject=assertion.sub,",
            ] {
                assert!(
                    hint.contains(needed),
                    "{description}: missing {needed:?} in\n{hint}"
                );
            }
        }
    }

    #[test]
    fn setup_with_a_service_account() {
        let sa = "deploy@my-project.iam.gserviceaccount.com";
        let setup = provider_setup(&claims(), &provider(), Some(sa), Some("my-project"));
        let pool = "projects/123456789012/locations/global/workloadIdentityPools/vercel";
        assert_eq!(setup.provider, format!("{pool}/providers/vercel-acme"));
        assert_eq!(setup.issuer_uri, "https://oidc.vercel.com/acme");
        assert_eq!(setup.allowed_audience, "https://vercel.com/acme");
        assert_eq!(
            setup.attribute_condition.as_deref(),
            Some("assertion.owner == \"acme\"")
        );
        assert_eq!(
            setup.principal,
            format!(
                "principal://iam.googleapis.com/{pool}/subject/owner:acme:project:web:environment:production"
            )
        );
        assert_eq!(
            setup.principal_set.as_deref(),
            Some(
                format!("principalSet://iam.googleapis.com/{pool}/attribute.project/web").as_str()
            )
        );
        assert_eq!(
            setup.grant,
            Grant {
                role: "roles/iam.workloadIdentityUser".into(),
                on: sa.into()
            }
        );
        let commands = setup.commands.list();
        let provider_flags = "vercel-acme --project=123456789012 --location=global --workload-identity-pool=vercel --issuer-uri=https://oidc.vercel.com/acme --allowed-audiences=https://vercel.com/acme --attribute-mapping=google.subject=assertion.sub,attribute.owner=assertion.owner,attribute.project=assertion.project,attribute.environment=assertion.environment --attribute-condition='assertion.owner == \"acme\"'";
        assert_eq!(
            commands,
            [
                (
                    "create_pool",
                    "gcloud iam workload-identity-pools create vercel --project=123456789012 --location=global"
                ),
                (
                    "create_provider",
                    format!("gcloud iam workload-identity-pools providers create-oidc {provider_flags}").as_str()
                ),
                (
                    "update_provider",
                    format!("gcloud iam workload-identity-pools providers update-oidc {provider_flags}").as_str()
                ),
                (
                    "grant",
                    format!("gcloud iam service-accounts add-iam-policy-binding {sa} --role=roles/iam.workloadIdentityUser --member={}", setup.principal).as_str()
                ),
            ]
        );
    }

    /// One row per hostile `aud`: the provider command, or why there is none.
    #[test]
    fn an_audience_gcloud_would_split_gives_no_provider_command() {
        let flags = "vercel-acme --project=123456789012 --location=global --workload-identity-pool=vercel --issuer-uri=https://oidc.vercel.com/acme";
        let rest = "--attribute-mapping=google.subject=assertion.sub,attribute.owner=assertion.owner,attribute.project=assertion.project,attribute.environment=assertion.environment --attribute-condition='assertion.owner == \"acme\"'";
        let split = "holds `,`, where gcloud splits a list flag's value into several";
        let cases: &[(&str, String)] = &[
            (
                "https://vercel.com/acme",
                format!("{flags} --allowed-audiences=https://vercel.com/acme {rest}"),
            ),
            (
                "api://AzureADTokenExchange",
                format!("{flags} --allowed-audiences=api://AzureADTokenExchange {rest}"),
            ),
            (
                "https://vercel.com/a b;$(id)",
                format!("{flags} --allowed-audiences='https://vercel.com/a b;$(id)' {rest}"),
            ),
            (
                "https://vercel.com/a,https://evil.example",
                format!("# no command: `https://vercel.com/a,https://evil.example` {split}"),
            ),
            (
                "https://vercel.com/acme,",
                format!("# no command: `https://vercel.com/acme,` {split}"),
            ),
            (
                "^;^https://vercel.com/a;https://evil.example",
                "# no command: `^;^https://vercel.com/a;https://evil.example` starts with `^`, with which gcloud names another separator for a list flag's value".into(),
            ),
            (
                "",
                "# no command: `` is empty, which gcloud reads as a list of no value".into(),
            ),
        ];
        for (aud, want) in cases {
            let mut c = claims_json(2_000_000_000);
            c["aud"] = serde_json::json!(aud);
            let claims = decode_claims(&jwt(&c)).unwrap();
            let commands = provider_setup(&claims, &provider(), None, None).commands;
            for (verb, command) in [
                ("create-oidc", commands.create_provider),
                ("update-oidc", commands.update_provider),
            ] {
                let prefix = format!("gcloud iam workload-identity-pools providers {verb} ");
                assert_eq!(
                    command.strip_prefix(&prefix).unwrap_or(&command),
                    want,
                    "{aud:?}"
                );
            }
        }
    }

    /// The team in the attribute condition is one CEL string, whatever quotes it holds.
    #[test]
    fn cel_strings() {
        for (value, cel) in [
            ("acme", r#""acme""#),
            (r#"a"b"#, r#""a\"b""#),
            (r"a\b", r#""a\\b""#),
            (r#"x" || true || ""#, r#""x\" || true || \"""#),
            ("it's", r#""it's""#),
        ] {
            assert_eq!(cel_string(value), cel, "{value}");
        }
    }

    #[test]
    fn setup_without_a_service_account_grants_roles_directly() {
        let setup = provider_setup(&claims(), &provider(), None, None);
        assert_eq!(setup.grant.role, "<ROLE>");
        assert_eq!(setup.grant.on, "project <PROJECT_ID>");
        assert_eq!(
            setup.commands.grant,
            format!(
                "gcloud projects add-iam-policy-binding <PROJECT_ID> --role=<ROLE> --member={}",
                setup.principal
            )
        );
    }

    /// One row per IAM Credentials status: what the hint must say.
    #[test]
    fn impersonation_hints() {
        let sa = "deploy@my-project.iam.gserviceaccount.com";
        let principal = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/subject/owner:acme:project:web:environment:production";
        let cases = [
            (
                403,
                "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
                vec![
                    "  the service account `deploy@my-project.iam.gserviceaccount.com` must grant roles/iam.workloadIdentityUser to this token's principal:",
                    principal,
                    "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/attribute.project/web",
                    "gcloud iam service-accounts add-iam-policy-binding deploy@my-project.iam.gserviceaccount.com --role=roles/iam.workloadIdentityUser --member=principal://",
                    "    sub: owner:acme:project:web:environment:production",
                ],
            ),
            (
                403,
                "IAM Service Account Credentials API has not been used in project 1 before or it is disabled.",
                vec![
                    "  the IAM Service Account Credentials API is not enabled",
                    principal,
                ],
            ),
            (
                404,
                "Not found; Gaia id not found for email x",
                vec![
                    "  the service account `deploy@my-project.iam.gserviceaccount.com` does not exist",
                ],
            ),
            (
                400,
                "Requested lifetime 43200s exceeds the maximum of 3600s.",
                vec!["constraints/iam.allowServiceAccountCredentialLifetimeExtension"],
            ),
        ];
        for (status, message, needed) in cases {
            let hint =
                explain_impersonation(status, message, &claims(), &provider(), sa).to_string();
            for n in needed {
                assert!(
                    hint.contains(n),
                    "{status} {message}: missing {n:?} in\n{hint}"
                );
            }
        }
    }
}
