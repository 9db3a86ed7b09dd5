//! The Azure settings: one entry each (see [`crate::settings`]).

use super::{Authority, DEFAULT_AUTHORITY_HOST, check_client, check_tenant};
use crate::problem::problem_of;
#[cfg(feature = "cli")]
use crate::settings::Command;
use crate::settings::{Setting, Table, WhenUnset};
use crate::vars;

/// `vercel-oidc azure configure`.
#[cfg(feature = "cli")]
pub const CONFIGURE: Command = Command("azure configure");

/// `vercel-oidc azure access-token`.
#[cfg(feature = "cli")]
pub const ACCESS_TOKEN: Command = Command("azure access-token");

/// The commands that exchange the token with Entra ID, or wire it for SDKs that do.
#[cfg(feature = "cli")]
const EXCHANGE: &[Command] = &[CONFIGURE, ACCESS_TOKEN, Command::EXEC, Command::DOCTOR];

pub static TABLE: Table = Table {
    section: "azure",
    title: "Azure",
    settings: &[
        &TENANT_ID,
        &CLIENT_ID,
        &AUTHORITY_HOST,
        &FEDERATED_TOKEN_FILE,
        &SCOPE,
    ],
    configured_when: &[&["tenant_id", "client_id"]],
};

pub static TENANT_ID: Setting = Setting {
    name: "tenant_id",
    file_key: Some("tenant_id"),
    flag: Some("tenant-id"),
    value_name: "ID",
    env: Some(vars::AZURE_TENANT_ID),
    help: "Directory (tenant) ID of the app registration",
    long_help: "A verified domain of the tenant, such as contoso.onmicrosoft.com, works too.",
    example: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    check: Some(|v| check_tenant(v.first().trim()).map_err(problem_of)),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static CLIENT_ID: Setting = Setting {
    name: "client_id",
    file_key: Some("client_id"),
    flag: Some("client-id"),
    value_name: "ID",
    env: Some(vars::AZURE_CLIENT_ID),
    help: "Application (client) ID of the app that trusts the Vercel token",
    example: "11111111-2222-3333-4444-555555555555",
    check: Some(|v| check_client(v.first().trim()).map_err(problem_of)),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static AUTHORITY_HOST: Setting = Setting {
    name: "authority_host",
    file_key: Some("authority_host"),
    flag: Some("authority-host"),
    value_name: "URL",
    env: Some(vars::AZURE_AUTHORITY_HOST),
    default: WhenUnset::Value {
        value: DEFAULT_AUTHORITY_HOST,
        why: "Azure's public cloud",
        only_with: None,
    },
    help: "Entra ID authority host, https only",
    long_help: "The host of another cloud: the example is US Government's.",
    example: "https://login.microsoftonline.us/",
    check: Some(file_authority),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static FEDERATED_TOKEN_FILE: Setting = Setting {
    name: "federated_token_file",
    file_key: None,
    flag: Some("federated-token-file"),
    value_name: "PATH",
    env: Some(vars::VERCEL_OIDC_AZURE_TOKEN_FILE),
    help: "Write the token to this file [default: a private file in the cache directory]",
    long_help: "Not to be confused with the global --token-file, which is where the Vercel token is read from.",
    example: "/run/secrets/azure-token",
    #[cfg(feature = "cli")]
    commands: &[CONFIGURE],
    ..Setting::BASE
};

pub static SCOPE: Setting = Setting {
    name: "scope",
    file_key: None,
    flag: Some("scope"),
    value_name: "SCOPE",
    env: Some(vars::VERCEL_OIDC_AZURE_SCOPE),
    help: "Scope to request: one `<resource>/.default`",
    example: "https://management.azure.com/.default",
    #[cfg(feature = "cli")]
    commands: &[ACCESS_TOKEN],
    ..Setting::BASE
};

/// Entra ID's hosts in Azure's clouds: public, US Government, China.
const ENTRA_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
];

/// An authority a project file may name: an https Entra ID host of one of Azure's clouds, or
/// this machine, since the token is sent there. Another host takes the flag or the variable.
fn file_authority(v: &crate::settings::Raw) -> Result<(), String> {
    let authority = Authority::parse(v.first()).map_err(problem_of)?;
    let url = reqwest::Url::parse(authority.as_str()).map_err(|e| e.to_string())?;
    if crate::http::host_within(&url, ENTRA_HOSTS) {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an Entra ID host: the token is sent there, so vercel-oidc.toml may name only {} or this machine (over https); remove `{}` from the file, and set another host with {}",
            authority.as_str(),
            ENTRA_HOSTS.join(", "),
            AUTHORITY_HOST.file_key.unwrap_or(AUTHORITY_HOST.name),
            crate::settings::flag_or_variable(&AUTHORITY_HOST)
        ))
    }
}
