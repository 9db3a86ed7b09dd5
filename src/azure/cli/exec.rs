//! Azure in `vercel-oidc exec`: the variables the Azure SDKs' workload identity credential reads
//! (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_AUTHORITY_HOST`, and
//! `AZURE_FEDERATED_TOKEN_FILE`, the run's token file), those Terraform's azurerm and azuread
//! providers read (`ARM_USE_OIDC`, `ARM_CLIENT_ID`, `ARM_TENANT_ID`, `ARM_OIDC_TOKEN_FILE_PATH`,
//! and `ARM_SUBSCRIPTION_ID` and `ARM_ENVIRONMENT` when known), less the credentials that would
//! win over them; and, when `az` is on `PATH`, its login step ([`super::az`]).

use crate::azure::AzureConfig;
use crate::azure::settings::CLI_LOGIN;
use crate::cli::Ctx;
use crate::cli::wiring::{Run, Wire, Wiring};
use crate::settings::Resolved;
use crate::vars;

/// Credentials the SDKs (`DefaultAzureCredential`'s environment credential) and the Terraform
/// providers use before a federated token, or instead of the token file.
const SHADOWING_AZURE_VARS: [&str; 12] = [
    vars::AZURE_CLIENT_SECRET,
    vars::AZURE_CLIENT_CERTIFICATE_PATH,
    vars::AZURE_CLIENT_CERTIFICATE_PASSWORD,
    vars::AZURE_USERNAME,
    vars::AZURE_PASSWORD,
    vars::ARM_CLIENT_SECRET,
    vars::ARM_CLIENT_SECRET_FILE_PATH,
    vars::ARM_CLIENT_CERTIFICATE,
    vars::ARM_CLIENT_CERTIFICATE_PATH,
    vars::ARM_CLIENT_CERTIFICATE_PASSWORD,
    vars::ARM_CLIENT_ID_FILE_PATH,
    vars::ARM_OIDC_TOKEN,
];

/// Azure, planned: its checked settings, and whether `az` is to be logged in.
pub(super) struct Planned {
    config: AzureConfig,
    cli_login: bool,
}

pub(super) fn plan(settings: &Resolved) -> anyhow::Result<Planned> {
    Ok(Planned {
        config: AzureConfig::from_settings(settings)?,
        cli_login: settings.choice(&CLI_LOGIN)? != Some("off"),
    })
}

impl Wire for Planned {
    fn wire(self: Box<Self>, ctx: &Ctx, run: &Run) -> anyhow::Result<Wiring> {
        let mut wiring = Wiring::default();
        wiring.set_all(self.config.env_vars(run.token_path));
        wiring.remove.extend(SHADOWING_AZURE_VARS);
        if self.cli_login {
            super::az::wire(ctx, &self.config, run, &mut wiring)?;
        }
        Ok(wiring)
    }
}
