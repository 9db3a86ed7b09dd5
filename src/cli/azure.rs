//! `vercel-oidc azure …`: the federated token file for the Azure SDKs, and access tokens.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use vercel_oidc::azure::{
    self, AccessToken, AzureConfig, AzureOptions, EntraClient, federated_file,
};
use vercel_oidc::http::{self, RetryPolicy};
use vercel_oidc::output::{self, EnvFormat};
use vercel_oidc::token::{self, OidcToken};
use vercel_oidc::{project, timefmt};

use super::{Ctx, print_stdout};

#[derive(Debug, Subcommand)]
pub enum AzureCommand {
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

/// Which app registration, in which tenant and cloud: shared by every Azure subcommand.
#[derive(Debug, Clone, Args)]
pub struct AppArgs {
    /// Directory (tenant) ID of the app registration
    ///
    /// Example: --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 (or a verified domain such as
    /// contoso.onmicrosoft.com)
    #[arg(
        long,
        env = "AZURE_TENANT_ID",
        value_name = "ID",
        hide_env_values = true
    )]
    tenant_id: Option<String>,

    /// Application (client) ID of the app that trusts the Vercel token
    ///
    /// Example: --client-id 11111111-2222-3333-4444-555555555555
    #[arg(
        long,
        env = "AZURE_CLIENT_ID",
        value_name = "ID",
        hide_env_values = true
    )]
    client_id: Option<String>,

    /// Entra ID authority host, https only [default: https://login.microsoftonline.com/]
    ///
    /// Example: --authority-host https://login.microsoftonline.us/ (US Government)
    #[arg(
        long,
        env = "AZURE_AUTHORITY_HOST",
        value_name = "URL",
        hide_env_values = true
    )]
    authority_host: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    #[command(flatten)]
    app: AppArgs,

    /// Write the token to this file [default: a private file in the cache directory]
    ///
    /// Not to be confused with the global --token-file, which is where the Vercel token is read
    /// from. Example: --federated-token-file /run/secrets/azure-token
    #[arg(
        long,
        env = "VERCEL_OIDC_AZURE_TOKEN_FILE",
        value_name = "PATH",
        hide_env_values = true
    )]
    federated_token_file: Option<PathBuf>,

    /// Output format
    ///
    /// Example: vercel-oidc azure configure --format fish | source
    #[arg(long, value_enum, default_value_t = EnvFormat::Sh, env = "VERCEL_OIDC_FORMAT")]
    format: EnvFormat,
}

#[derive(Debug, Args)]
pub struct AccessTokenArgs {
    #[command(flatten)]
    app: AppArgs,

    /// Scope to request: one `<resource>/.default`
    ///
    /// Example: --scope https://management.azure.com/.default
    #[arg(
        long,
        env = "VERCEL_OIDC_AZURE_SCOPE",
        value_name = "SCOPE",
        hide_env_values = true
    )]
    scope: Option<String>,

    /// Print JSON with the token and its expiry instead of the bare token
    ///
    /// Example output: {"access_token":"eyJ0…","token_type":"Bearer","expires_on":1795000000,
    /// "expires_at":"2026-11-19T09:46:40Z","expires_in":3599}
    #[arg(long)]
    json: bool,

    /// Always ask Entra ID; neither read nor write the shared token cache
    ///
    /// Example: VERCEL_OIDC_NO_CACHE=1 vercel-oidc azure access-token --scope …
    #[arg(long, env = "VERCEL_OIDC_NO_CACHE", value_parser = clap::builder::BoolishValueParser::new())]
    no_cache: bool,
}

impl AppArgs {
    /// The settings as given by flags and environment variables.
    pub(super) fn options(&self) -> AzureOptions {
        AzureOptions {
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            authority_host: self.authority_host.clone(),
        }
    }

    /// The settings: a flag, then its environment variable (both through clap), then the
    /// `[azure]` section of `vercel-oidc.toml` for the token's environment.
    fn config(&self, ctx: &Ctx, token: &OidcToken) -> anyhow::Result<AzureConfig> {
        let mut opts = self.options();
        let environment = token.claims().environment.as_deref();
        project::fill_azure(&mut opts, ctx.project()?.azure(environment));
        Ok(AzureConfig::from_options(&opts)?)
    }
}

pub fn run(ctx: &Ctx, cmd: AzureCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AzureCommand::Configure(args) => configure(ctx, &args)?,
        AzureCommand::AccessToken(args) => {
            let scope = azure::check_scope(args.scope.as_deref())?;
            let token = ctx.load_token()?;
            let config = args.app.config(ctx, &token)?;
            let access = access_token(ctx, &config, &scope, token, args.no_cache)?;
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
    let config = args.app.config(ctx, &token)?;
    // In local development an expiring token is refreshed first, so the file gets a long-lived one.
    let token = ctx.fresh(token)?;
    let now = ctx.now();
    let location = federated_file::locate(
        &ctx.env,
        args.federated_token_file.as_deref(),
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
            token::fresh_token_hint(ctx.env.in_build())
        );
    } else {
        eprintln!("  run this again before then to put a fresh token in the file");
    }
    let vars = config.env_vars(location.path());
    print_stdout(&output::render(&vars, args.format))
}

/// An access token for `scope`: from the shared cache while it has long enough left, else from
/// Entra ID (one process at a time per cache key).
pub(super) fn access_token(
    ctx: &Ctx,
    config: &AzureConfig,
    scope: &str,
    token: OidcToken,
    no_cache: bool,
) -> anyhow::Result<AccessToken> {
    let request = config.request(scope);
    ctx.exchange(
        token,
        no_cache,
        azure::MIN_REMAINING,
        |t| azure::cache_key(&request, &config.authority, t.claims()),
        |t| {
            let http = http::client(&ctx.env)?;
            let entra = EntraClient::new(http, config.authority.clone(), RetryPolicy::default())
                .in_build(ctx.env.in_build());
            let access = ctx.runtime()?.block_on(entra.request_token(&request, t))?;
            let expires = access.expires_at();
            Ok((access, expires))
        },
    )
}
