//! The Azure settings: one entry each (see [`crate::settings`]).

use super::{
    Authority, DEFAULT_AUTHORITY_HOST, ENTRA_HOSTS, check_client, check_subscription, check_tenant,
};
use crate::problem::problem_of;
#[cfg(feature = "cli")]
use crate::settings::Command;
use crate::settings::{Kind, Setting, Table, WhenUnset};
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
        &SUBSCRIPTION_ID,
        &FEDERATED_TOKEN_FILE,
        &SCOPE,
        &CLI_LOGIN,
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

pub static SUBSCRIPTION_ID: Setting = Setting {
    name: "subscription_id",
    file_key: Some("subscription_id"),
    flag: Some("subscription-id"),
    value_name: "ID",
    env: Some(vars::AZURE_SUBSCRIPTION_ID),
    inherits: &[vars::ARM_SUBSCRIPTION_ID],
    help: "Subscription ID for Terraform's azurerm provider (ARM_SUBSCRIPTION_ID) and the Azure CLI",
    long_help: "A GUID, as `az account list` shows it. azurerm 4 requires one.",
    example: "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
    check: Some(|v| check_subscription(v.first().trim()).map_err(problem_of)),
    #[cfg(feature = "cli")]
    commands: &[CONFIGURE, Command::EXEC, Command::DOCTOR],
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

pub static CLI_LOGIN: Setting = Setting {
    name: "cli_login",
    file_key: Some("cli_login"),
    flag: Some("azure-cli-login"),
    value_name: "WHEN",
    env: Some(vars::VERCEL_OIDC_AZURE_CLI_LOGIN),
    kind: Kind::Choice(&["auto", "off"]),
    default: WhenUnset::Value {
        value: "auto",
        why: "",
        only_with: None,
    },
    help: "Log the Azure CLI in for the command: `auto` (when `az` is on PATH) or `off`",
    long_help: "`auto` puts an `az` first on the command's PATH that logs the Azure CLI in with the run's token, into a private AZURE_CONFIG_DIR, before its first use and again after the token is renewed; `off` leaves `az` as it is.",
    example: "off",
    #[cfg(feature = "cli")]
    commands: &[Command::EXEC, Command::DOCTOR],
    ..Setting::BASE
};

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
