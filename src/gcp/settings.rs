//! The GCP settings: one entry each (see [`crate::settings`]).

use super::{
    CLOUD_PLATFORM_SCOPE, DEFAULT_IAM_CREDENTIALS_URL, DEFAULT_TOKEN_URL, IdKind, WorkloadProvider,
    check_id, check_lifetime, check_project_id, check_project_number, check_scope,
    check_service_account,
};
use crate::problem::problem_of;
#[cfg(feature = "cli")]
use crate::settings::Command;
use crate::settings::{Kind, Raw, Setting, Table, WhenUnset};
use crate::vars;

/// `vercel-oidc gcp configure`.
#[cfg(feature = "cli")]
pub const CONFIGURE: Command = Command("gcp configure");

/// `vercel-oidc gcp access-token`.
#[cfg(feature = "cli")]
pub const ACCESS_TOKEN: Command = Command("gcp access-token");

/// The commands that exchange the token with Google, or wire it for clients that do.
#[cfg(feature = "cli")]
const EXCHANGE: &[Command] = &[CONFIGURE, ACCESS_TOKEN, Command::EXEC, Command::DOCTOR];

pub static TABLE: Table = Table {
    section: "gcp",
    title: "GCP",
    settings: &[
        &AUDIENCE,
        &PROJECT_NUMBER,
        &POOL,
        &PROVIDER,
        &SERVICE_ACCOUNT,
        &TOKEN_LIFETIME_SECONDS,
        &TOKEN_URL,
        &IMPERSONATION_URL,
        &SCOPES,
        &PROJECT_ID,
        &SOURCE,
        &OUTPUT,
    ],
    configured_when: &[&["audience"], &["project_number"]],
};

pub static AUDIENCE: Setting = Setting {
    name: "audience",
    file_key: Some("audience"),
    flag: Some("audience"),
    value_name: "AUDIENCE",
    env: Some(vars::VERCEL_OIDC_GCP_AUDIENCE),
    default: WhenUnset::Derived("made from the project number, pool and provider"),
    help: "Full audience of the workload identity pool provider; wins over the three parts",
    example: "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel",
    check: Some(|v| {
        WorkloadProvider::parse_audience(v.first().trim())
            .map(drop)
            .map_err(problem_of)
    }),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    // Parts named by a stronger source set an audience from a weaker one aside.
    yields_to: &["project_number", "pool", "provider"],
    ..Setting::BASE
};

pub static PROJECT_NUMBER: Setting = Setting {
    name: "project_number",
    file_key: Some("project_number"),
    flag: Some("project-number"),
    value_name: "NUMBER",
    env: Some(vars::GCP_PROJECT_NUMBER),
    kind: Kind::Number,
    help: "Project number (digits) of the workload identity pool",
    example: "123456789012",
    check: Some(|v| {
        check_project_number(v.first())
            .map(drop)
            .map_err(problem_of)
    }),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static POOL: Setting = Setting {
    name: "pool",
    file_key: Some("pool"),
    flag: Some("pool"),
    value_name: "ID",
    env: Some(vars::GCP_WORKLOAD_IDENTITY_POOL_ID),
    help: "Workload identity pool id",
    example: "vercel",
    check: Some(|v| {
        check_id(IdKind::Pool, v.first().trim())
            .map(drop)
            .map_err(problem_of)
    }),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static PROVIDER: Setting = Setting {
    name: "provider",
    file_key: Some("provider"),
    flag: Some("provider"),
    value_name: "ID",
    env: Some(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID),
    help: "Workload identity pool provider id",
    example: "vercel",
    check: Some(|v| {
        check_id(IdKind::Provider, v.first().trim())
            .map(drop)
            .map_err(problem_of)
    }),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static SERVICE_ACCOUNT: Setting = Setting {
    name: "service_account",
    file_key: Some("service_account"),
    flag: Some("service-account"),
    value_name: "EMAIL",
    env: Some(vars::GCP_SERVICE_ACCOUNT_EMAIL),
    help: "Service account to impersonate [default: none, use the federated identity directly]",
    example: "deploy@my-project.iam.gserviceaccount.com",
    check: Some(|v| {
        check_service_account(v.first().trim())
            .map(drop)
            .map_err(problem_of)
    }),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static TOKEN_LIFETIME_SECONDS: Setting = Setting {
    name: "token_lifetime_seconds",
    file_key: Some("token_lifetime_seconds"),
    flag: Some("token-lifetime-seconds"),
    value_name: "SECONDS",
    env: Some(vars::VERCEL_OIDC_GCP_TOKEN_LIFETIME_SECONDS),
    kind: Kind::Seconds,
    default: WhenUnset::Value {
        value: "3600",
        why: "",
        only_with: Some("service_account"),
    },
    help: "Lifetime of the service account's tokens, 600-43200",
    long_help: "Above 3600 needs the organisation policy constraints/iam.allowServiceAccountCredentialLifetimeExtension.",
    example: "1800",
    check: Some(|v| check_lifetime(v.first().parse().unwrap_or(0)).map_err(problem_of)),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static TOKEN_URL: Setting = Setting {
    name: "token_url",
    file_key: Some("token_url"),
    flag: Some("token-url"),
    value_name: "URL",
    env: Some(vars::VERCEL_OIDC_GCP_TOKEN_URL),
    default: WhenUnset::Value {
        value: DEFAULT_TOKEN_URL,
        why: "",
        only_with: None,
    },
    help: "Google STS token endpoint",
    example: "http://127.0.0.1:8080/v1/token",
    check: Some(|v| google_endpoint(v, "sts", &TOKEN_URL)),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static IMPERSONATION_URL: Setting = Setting {
    name: "impersonation_url",
    file_key: Some("impersonation_url"),
    flag: Some("impersonation-url"),
    value_name: "URL",
    env: Some(vars::VERCEL_OIDC_GCP_IMPERSONATION_URL),
    default: WhenUnset::Value {
        value: DEFAULT_IAM_CREDENTIALS_URL,
        why: "",
        only_with: Some("service_account"),
    },
    help: "IAM Credentials base URL, or a full `…:generateAccessToken` URL",
    example: "http://127.0.0.1:8080",
    check: Some(|v| google_endpoint(v, "iamcredentials", &IMPERSONATION_URL)),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static SCOPES: Setting = Setting {
    name: "scopes",
    file_key: Some("scopes"),
    flag: Some("scope"),
    value_name: "SCOPE",
    env: Some(vars::VERCEL_OIDC_GCP_SCOPES),
    kind: Kind::List,
    default: WhenUnset::Value {
        value: CLOUD_PLATFORM_SCOPE,
        why: "",
        only_with: None,
    },
    help: "OAuth scope of the access token (repeatable)",
    example: "https://www.googleapis.com/auth/devstorage.read_only",
    check: Some(|v| match v {
        Raw::List(scopes) => scopes
            .iter()
            .try_for_each(|s| check_scope(s.trim()))
            .map_err(problem_of),
        Raw::One(scope) => check_scope(scope.trim()).map_err(problem_of),
    }),
    // doctor's check asks for an access token with them.
    #[cfg(feature = "cli")]
    commands: &[ACCESS_TOKEN, Command::DOCTOR],
    ..Setting::BASE
};

pub static PROJECT_ID: Setting = Setting {
    name: "project_id",
    file_key: Some("project_id"),
    flag: Some("project-id"),
    value_name: "ID",
    env: Some(vars::GCP_PROJECT_ID),
    help: "GCP project id, for GOOGLE_CLOUD_PROJECT, gcloud and the commands doctor shows",
    example: "my-project",
    check: Some(|v| check_project_id(v.first().trim()).map_err(problem_of)),
    #[cfg(feature = "cli")]
    commands: &[CONFIGURE, Command::EXEC, Command::DOCTOR],
    ..Setting::BASE
};

pub static SOURCE: Setting = Setting {
    name: "source",
    file_key: Some("source"),
    flag: Some("source"),
    value_name: "SOURCE",
    env: Some(vars::VERCEL_OIDC_GCP_SOURCE),
    kind: Kind::Choice(&["file", "executable"]),
    default: WhenUnset::Value {
        value: "file",
        why: "",
        only_with: None,
    },
    help: "Where clients get the token from: `file` or `executable`",
    long_help: "`file`: a file beside the credential file holding the current token; run configure again when the token is renewed. `executable`: this binary, run by the client on every refresh (clients need GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1).",
    example: "executable",
    #[cfg(feature = "cli")]
    commands: &[CONFIGURE],
    ..Setting::BASE
};

pub static OUTPUT: Setting = Setting {
    name: "output",
    file_key: None,
    flag: Some("output"),
    value_name: "PATH",
    env: Some(vars::VERCEL_OIDC_GCP_CREDENTIALS_FILE),
    help: "Credential file to write [default: ~/.config/vercel-oidc/gcp/credentials.json]",
    long_help: "An existing file is replaced only when it is an external_account file.",
    example: "/tmp/gcp-credentials.json",
    #[cfg(feature = "cli")]
    commands: &[CONFIGURE],
    ..Setting::BASE
};

/// An endpoint a project file may name for Google's `service` (`sts`, `iamcredentials`): https
/// (or http to this machine), on one of that service's own hosts or this machine, since the
/// token is sent there. Another host takes the flag or the variable, which the user sets, not a
/// file that anyone with commit access can change.
fn google_endpoint(v: &Raw, service: &str, setting: &Setting) -> Result<(), String> {
    let url = v.first();
    let parsed = crate::http::check_endpoint(url.trim())
        .map_err(|reason| format!("cannot use `{url}`: {reason}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let own = host == format!("{service}.googleapis.com")
        || host == format!("{service}.mtls.googleapis.com")
        || (host.starts_with(&format!("{service}.")) && host.ends_with(".rep.googleapis.com"))
        || (host.starts_with(&format!("{service}-")) && host.ends_with(".p.googleapis.com"));
    if own || crate::http::host_within(&parsed, &[]) {
        return Ok(());
    }
    Err(format!(
        "`{url}` is not Google's {service} endpoint: the token is sent there, so vercel-oidc.toml may name only {service}.googleapis.com (or its mTLS, regional or Private Service Connect names) or this machine; remove `{}` from the file, and set another host with {}",
        setting.file_key.unwrap_or(setting.name),
        crate::settings::flag_or_variable(setting)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifetime_default_is_the_one_the_code_falls_back_on() {
        let WhenUnset::Value { value, .. } = TOKEN_LIFETIME_SECONDS.default else {
            panic!("a plain default");
        };
        assert_eq!(
            value,
            super::super::DEFAULT_TOKEN_LIFETIME_SECONDS.to_string()
        );
    }
}
