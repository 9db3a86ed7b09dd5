//! Azure on the command line (behind the `cli` feature): `vercel-oidc azure …` (the federated
//! token file for the Azure SDKs, and access tokens), its wiring in `exec` ([`exec`]) and its
//! check in `doctor` ([`doctor`]).

mod az;
mod doctor;
mod exec;

use std::process::ExitCode;

use crate::azure::settings::{self, FEDERATED_TOKEN_FILE, SCOPE, TABLE};
use crate::azure::{self, AzureConfig, access_token, federated_file};
use crate::cli::doctor::{Checker, CloudReport};
use crate::cli::flags::{CacheFlag, FormatFlag, SettingFlags, flagged};
use crate::cli::wiring::Wire;
use crate::cli::{CloudCli, Ctx, Helper, Run, parsed, print_stdout, subcommand};
use crate::output;
use crate::settings::{FileLayers, Given, Resolved};
use crate::timefmt;
use crate::token::{self, OidcToken};
use clap::{ArgMatches, Args, Subcommand};

impl CloudCli for super::Azure {
    fn configure_hint(&self) -> &'static str {
        "AZURE_TENANT_ID and AZURE_CLIENT_ID"
    }

    fn examples(&self) -> &'static str {
        "  eval \"$(vercel-oidc azure configure)\"  # with AZURE_TENANT_ID and AZURE_CLIENT_ID set"
    }

    fn command(&self) -> clap::Command {
        subcommand::<AzureCommand>(
            &TABLE,
            "Azure: federated token file for the Azure SDKs, and access tokens",
        )
    }

    fn parse(&self, matches: &ArgMatches) -> Result<Box<dyn Run>, clap::Error> {
        parsed::<AzureCommand>(matches)
    }

    fn plan(&self, _: &Ctx, settings: &Resolved) -> anyhow::Result<Box<dyn Wire>> {
        Ok(Box::new(exec::plan(settings)?))
    }

    fn reads_token_file(&self) -> bool {
        true
    }

    fn helper(&self) -> Option<Helper> {
        Some(Helper {
            name: "az-shim",
            run: az::shim,
        })
    }

    fn check(&self, checker: &Checker, settings: &Resolved) -> CloudReport {
        doctor::check(checker, settings)
    }
}

flagged! {
    ConfigureFlags => settings::CONFIGURE: [TABLE];
    AccessTokenFlags => settings::ACCESS_TOKEN: [TABLE];
}

#[derive(Debug, Subcommand)]
enum AzureCommand {
    /// Write the token to a federated token file and print the variables Azure SDKs read
    ///
    /// Prints AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and
    /// AZURE_AUTHORITY_HOST; DefaultAzureCredential and WorkloadIdentityCredential then make the
    /// exchange themselves. Run it again before the token expires to refresh the file.
    ///
    /// Example: eval "$(vercel-oidc azure configure --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 --client-id 11111111-2222-3333-4444-555555555555)"
    Configure(ConfigureArgs),
    /// Print an access token for one scope, got from Entra ID with the Vercel token
    ///
    /// Example: curl -H "Authorization: Bearer $(vercel-oidc azure access-token --scope https://management.azure.com/.default)" https://management.azure.com/subscriptions?api-version=2022-12-01
    AccessToken(AccessTokenArgs),
}

#[derive(Debug, Args)]
struct ConfigureArgs {
    #[command(flatten)]
    settings: SettingFlags<ConfigureFlags>,

    #[command(flatten)]
    format: FormatFlag,
}

#[derive(Debug, Args)]
struct AccessTokenArgs {
    #[command(flatten)]
    settings: SettingFlags<AccessTokenFlags>,

    /// Print JSON with the token and its expiry instead of the bare token
    ///
    /// Example output: {"access_token":"eyJ0…","token_type":"Bearer","expires_on":1795000000,
    /// "expires_at":"2026-11-19T09:46:40Z","expires_in":3599}
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    cache: CacheFlag,
}

/// The settings: a flag, then its environment variable, then the `[azure]` section of
/// `vercel-oidc.toml` for the token's environment.
fn settings(
    ctx: &Ctx,
    given: &Given,
    token: &OidcToken,
) -> anyhow::Result<(Resolved, AzureConfig)> {
    let settings = ctx.settings(&TABLE, given, Some(token))?;
    let config = AzureConfig::from_settings(&settings)?;
    Ok((settings, config))
}

impl Run for AzureCommand {
    fn run(self: Box<Self>, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        run(ctx, *self)
    }
}

fn run(ctx: &Ctx, cmd: AzureCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AzureCommand::Configure(args) => configure(ctx, &args)?,
        AzureCommand::AccessToken(args) => {
            // The scope comes from a flag or its variable alone: checked before anything is read.
            let early = Resolved::resolve(
                &TABLE,
                &args.settings.given,
                ctx.env(),
                FileLayers::default(),
            );
            let scope = azure::check_scope(early.text(&SCOPE))?;
            let token = ctx.load_token()?;
            let (_, config) = settings(ctx, &args.settings.given, &token)?;
            let access = access_token(&ctx.session, &config, &scope, token, args.cache.no_cache)?;
            let text = if args.json {
                access.to_json(ctx.now())
            } else {
                access.access_token.expose_secret().to_string()
            };
            print_stdout(&(text + "\n"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn configure(ctx: &Ctx, args: &ConfigureArgs) -> anyhow::Result<()> {
    let token = ctx.load_token()?;
    let (settings, config) = settings(ctx, &args.settings.given, &token)?;
    // In local development an expiring token is refreshed first, so the file gets a long-lived one.
    let token = ctx.fresh(token)?;
    let now = ctx.now();
    let location = federated_file::locate(
        ctx.env(),
        settings
            .text(&FEDERATED_TOKEN_FILE)
            .map(std::path::Path::new),
        token.claims(),
    )?;
    federated_file::write(&location, &token)?;
    let path = location.path().display().to_string();
    let expires = token.claims().expires_at();
    eprintln!(
        "wrote the token from {} to `{path}`; it expires {} (at {})",
        token.source(),
        timefmt::relative(expires, now),
        timefmt::rfc3339_z(expires)
    );
    if expires - now <= federated_file::SDK_REREAD_INTERVAL {
        eprintln!(
            "warning: the Azure SDKs may keep using a token for up to 10 minutes after reading the file, and this one expires sooner\n  {}, then run this again",
            token::fresh_token_hint(ctx.env().in_build())
        );
    } else {
        eprintln!("  run this again before then to put a fresh token in the file");
    }
    let vars = config.env_vars(location.path());
    print_stdout(&output::render(&vars, args.format.format))
}
