//! AWS on the command line (behind the `cli` feature): `vercel-oidc aws …` (credential_process,
//! profile set-up, environment variables), its wiring in `exec` ([`exec`]) and its check in
//! `doctor` ([`doctor`]).

mod configure;
mod doctor;
mod exec;

use std::process::ExitCode;

use clap::{ArgMatches, Args, Subcommand};

use crate::aws::settings::{self, TABLE};
use crate::aws::{AwsConfig, credentials};
use crate::cli::doctor::{Checker, CloudReport};
use crate::cli::flags::{CacheFlag, FormatFlag, SettingFlags, flagged};
use crate::cli::wiring::Wire;
use crate::cli::{CloudCli, Ctx, Run, parsed, print_stdout, subcommand};
use crate::settings::{Given, Resolved};
use crate::token::OidcToken;
use crate::{output, vars};

pub(crate) use configure::{SharedFile, shared_file};

impl CloudCli for super::Aws {
    fn configure_hint(&self) -> &'static str {
        vars::AWS_ROLE_ARN
    }

    fn examples(&self) -> &'static str {
        "  vercel-oidc aws configure --profile vercel --role-arn arn:aws:iam::123456789012:role/deploy
  aws s3 ls --profile vercel             # the AWS CLI runs vercel-oidc itself
  eval \"$(vercel-oidc aws env --role-arn arn:aws:iam::123456789012:role/deploy)\""
    }

    fn command(&self) -> clap::Command {
        subcommand::<AwsCommand>(
            &TABLE,
            "AWS: credential_process, profile set-up and environment variables",
        )
    }

    fn parse(&self, matches: &ArgMatches) -> Result<Box<dyn Run>, clap::Error> {
        parsed::<AwsCommand>(matches)
    }

    fn plan(&self, ctx: &Ctx, settings: &Resolved) -> anyhow::Result<Box<dyn Wire>> {
        Ok(Box::new(exec::plan(ctx, settings)?))
    }

    fn check(&self, checker: &Checker, settings: &Resolved) -> CloudReport {
        doctor::check(checker, settings)
    }
}

flagged! {
    CredentialProcessFlags => settings::CREDENTIAL_PROCESS: [TABLE];
    ConfigureFlags => settings::CONFIGURE: [TABLE];
    EnvFlags => settings::ENV: [TABLE];
}

#[derive(Debug, Subcommand)]
enum AwsCommand {
    /// Print credentials as the AWS CLI and SDKs expect from a `credential_process`
    ///
    /// Example, in ~/.aws/config (written for you by `vercel-oidc aws configure`):
    ///   credential_process = /usr/local/bin/vercel-oidc aws credential-process --role-arn arn:aws:iam::123456789012:role/deploy
    CredentialProcess(CredentialProcessArgs),
    /// Add or update an AWS config profile that runs this tool as its credential_process
    ///
    /// Example: vercel-oidc aws configure --profile vercel --role-arn arn:aws:iam::123456789012:role/deploy --region eu-west-1
    Configure(configure::ConfigureArgs),
    /// Print credentials as environment assignments (sh, fish, dotenv or JSON)
    ///
    /// Example: eval "$(vercel-oidc aws env --role-arn arn:aws:iam::123456789012:role/deploy)"
    Env(EnvArgs),
}

#[derive(Debug, Args)]
struct CredentialProcessArgs {
    #[command(flatten)]
    settings: SettingFlags<CredentialProcessFlags>,

    #[command(flatten)]
    cache: CacheFlag,
}

#[derive(Debug, Args)]
struct EnvArgs {
    #[command(flatten)]
    settings: SettingFlags<EnvFlags>,

    #[command(flatten)]
    cache: CacheFlag,

    #[command(flatten)]
    format: FormatFlag,
}

impl Run for AwsCommand {
    fn run(self: Box<Self>, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        run(ctx, *self)
    }
}

fn run(ctx: &Ctx, cmd: AwsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AwsCommand::CredentialProcess(args) => {
            let token = ctx.load_token()?;
            let config = config_for(ctx, &args.settings.given, Some(&token))?;
            let creds = credentials(&ctx.session, &config, token, args.cache.no_cache)?;
            print_stdout(&(creds.to_process_json() + "\n"))?;
        }
        AwsCommand::Env(args) => {
            let token = ctx.load_token()?;
            let config = config_for(ctx, &args.settings.given, Some(&token))?;
            let creds = credentials(&ctx.session, &config, token, args.cache.no_cache)?;
            let vars = creds.env_vars(config.endpoint.region.as_deref());
            print_stdout(&output::render(&vars, args.format.format))?;
        }
        AwsCommand::Configure(args) => configure::run(ctx, &args)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The AWS settings: flags, then environment variables, then the project config (its section for
/// the token's environment), checked.
fn config_for(ctx: &Ctx, given: &Given, token: Option<&OidcToken>) -> anyhow::Result<AwsConfig> {
    let settings = ctx.settings(&TABLE, given, token)?;
    Ok(AwsConfig::from_settings(&settings, ctx.env())?)
}
