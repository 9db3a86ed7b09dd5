//! `vercel-oidc verify`: check a Vercel OIDC token completely, for an API that trusts Vercel.

use crate::vars;
use std::process::ExitCode;

use crate::fsutil::{self, ReadError, limits};
use crate::http;
use crate::secret::Secret;
use crate::token;
use crate::verify::{Verifier, VerifyConfig, VerifyOptions};
use clap::Args;

use super::{Ctx, print_stdout};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Token to verify, or `-` to read it from stdin [default: the usual token sources]
    ///
    /// Prefer `-`: a command line can be read by other users of the machine. Without either,
    /// the token comes from --token-file, VERCEL_OIDC_TOKEN_FILE, VERCEL_OIDC_TOKEN or
    /// `.env.local`, as for every other command.
    ///
    /// Example: printf %s "$TOKEN" | vercel-oidc verify --issuer … --audience … -
    #[arg(value_name = "TOKEN|-")]
    token: Option<String>,

    /// Issuer to trust: your team's, or the global one
    ///
    /// Exactly as the token's `iss` claim names it (`vercel-oidc token` shows it); a trailing
    /// slash is ignored. https only, except http to this machine.
    ///
    /// Example: --issuer https://oidc.vercel.com/acme (team) or https://oidc.vercel.com (global)
    #[arg(long, env = vars::VERCEL_OIDC_VERIFY_ISSUER, value_name = "URL")]
    issuer: Option<String>,

    /// Audience the token must carry in `aud`
    ///
    /// Vercel's default is https://vercel.com/<team>.
    ///
    /// Example: --audience https://vercel.com/acme
    #[arg(long, env = vars::VERCEL_OIDC_VERIFY_AUDIENCE, value_name = "AUD")]
    audience: Option<String>,

    /// Clock skew to allow on `exp` and `nbf`, in seconds, 0-300 [default: 60]
    ///
    /// Example: --leeway 10
    #[arg(long, env = vars::VERCEL_OIDC_VERIFY_LEEWAY, value_name = "SECONDS")]
    leeway: Option<u64>,

    /// Accept only this project ID (`project_id`); repeat, or separate with commas, for several
    ///
    /// Example: --project-id prj_a1b2c3
    #[arg(
        long = "project-id",
        env = vars::VERCEL_OIDC_VERIFY_PROJECT_ID,
        value_name = "ID",
        value_delimiter = ','
    )]
    project_ids: Vec<String>,

    /// Accept only this project name (`project`); repeat, or separate with commas, for several
    ///
    /// Names can be reused after a project is deleted: --project-id is the safer constraint.
    ///
    /// Example: --project web
    #[arg(
        long = "project",
        env = vars::VERCEL_OIDC_VERIFY_PROJECT,
        value_name = "NAME",
        value_delimiter = ','
    )]
    projects: Vec<String>,

    /// Accept only this environment (`environment`); repeat, or separate with commas, for several
    ///
    /// Vercel's are development, preview and production.
    ///
    /// Example: --environment production,preview
    #[arg(
        long = "environment",
        env = vars::VERCEL_OIDC_VERIFY_ENVIRONMENT,
        value_name = "ENV",
        value_delimiter = ','
    )]
    environments: Vec<String>,

    /// Accept only this team ID (`owner_id`); repeat, or separate with commas, for several
    ///
    /// Example: --owner-id team_a1b2c3
    #[arg(
        long = "owner-id",
        env = vars::VERCEL_OIDC_VERIFY_OWNER_ID,
        value_name = "ID",
        value_delimiter = ','
    )]
    owner_ids: Vec<String>,

    /// Accept only this team slug (`owner`); repeat, or separate with commas, for several
    ///
    /// Slugs can be renamed: --owner-id is the safer constraint.
    ///
    /// Example: --owner acme
    #[arg(
        long = "owner",
        env = vars::VERCEL_OIDC_VERIFY_OWNER,
        value_name = "SLUG",
        value_delimiter = ','
    )]
    owners: Vec<String>,

    /// Accept only this exact subject (`sub`); repeat, or separate with commas, for several
    ///
    /// Example: --sub owner:acme:project:web:environment:production
    #[arg(
        long = "sub",
        env = vars::VERCEL_OIDC_VERIFY_SUB,
        value_name = "SUB",
        value_delimiter = ','
    )]
    subjects: Vec<String>,

    /// Fetch the issuer's keys every time; neither read nor write the shared cache
    ///
    /// VERCEL_OIDC_NO_CACHE takes 1/0, true/false, yes/no or on/off.
    #[arg(
        long,
        env = vars::VERCEL_OIDC_NO_CACHE,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    no_cache: bool,
}

impl VerifyArgs {
    fn options(&self) -> VerifyOptions {
        VerifyOptions {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            leeway_seconds: self.leeway,
            subjects: self.subjects.clone(),
            owner_ids: self.owner_ids.clone(),
            owners: self.owners.clone(),
            project_ids: self.project_ids.clone(),
            projects: self.projects.clone(),
            environments: self.environments.clone(),
        }
    }
}

pub fn run(ctx: &Ctx, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = VerifyConfig::from_options(&args.options())?;
    let token = read_token(ctx, args.token.as_deref())?;
    let http = http::document_client(ctx.env())?;
    let verifier = Verifier::new(config, http, ctx.cache(args.no_cache)?);
    let verified = ctx
        .runtime()?
        .block_on(verifier.verify(token.expose_secret()))?;
    print_stdout(&(serde_json::to_string_pretty(&verified.payload)? + "\n"))?;
    Ok(ExitCode::SUCCESS)
}

/// The token to verify: the argument, stdin for `-`, else the usual sources.
fn read_token(ctx: &Ctx, arg: Option<&str>) -> anyhow::Result<Secret> {
    if arg.is_some() && ctx.token_file().is_some() {
        anyhow::bail!(
            "two tokens given: a TOKEN argument and --token-file\n  pass one of them (`-` reads the token from stdin)"
        );
    }
    match arg {
        Some("-") => {
            // At most 64 KiB (a Vercel token is about 1 KiB); more is refused, not cut.
            let bytes = fsutil::read_stream_capped(std::io::stdin().lock(), "-", limits::STDIN)
                .map_err(|e| match e {
                    ReadError::TooLarge { limit, .. } => anyhow::anyhow!(
                        "standard input holds more than {}, the limit for a token on stdin; nothing was verified\n  pipe in the token alone (a Vercel token is about 1 KiB), e.g. `printf %s \"$TOKEN\" | vercel-oidc verify … -`",
                        fsutil::human_bytes(limit.bytes)
                    ),
                    other => anyhow::anyhow!(
                        "cannot read the token from standard input: {}",
                        other.reason()
                    ),
                })?;
            let raw = String::from_utf8_lossy(&bytes);
            let raw = raw.trim();
            if raw.is_empty() {
                anyhow::bail!(
                    "no token on stdin\n  pipe the token in, e.g. `printf %s \"$TOKEN\" | vercel-oidc verify … -`"
                );
            }
            Ok(Secret::new(raw))
        }
        Some(raw) => Ok(Secret::new(raw.trim())),
        None => {
            let loaded = token::load(ctx.env(), ctx.token_file())?;
            crate::log::debug!("verifying the token from {}", loaded.source());
            Ok(Secret::new(loaded.expose_secret()))
        }
    }
}
