//! Command-line parsing and dispatch. Clap structs live here and nowhere else; each subcommand
//! turns its flags into the library's validated configuration before doing any I/O.

mod aws;
mod azure;
mod clouds;
mod doctor;
mod exec;
mod gcp;
mod token;
mod verify;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use time::OffsetDateTime;
use vercel_oidc::Env;
use vercel_oidc::project::ProjectConfig;
use vercel_oidc::refresh;
use vercel_oidc::token::{OidcToken, TokenError, TokenSource};

const EXAMPLES: &str = "\
Examples:
  vercel-oidc exec -- npm run build      # the build, with every configured cloud wired in
  vercel-oidc doctor                     # the set-up, and whether each cloud accepts the token
  vercel-oidc token                      # which token, whose, and for how long
  vercel-oidc aws configure --profile vercel --role-arn arn:aws:iam::123456789012:role/deploy
  aws s3 ls --profile vercel             # the AWS CLI runs vercel-oidc itself
  eval \"$(vercel-oidc aws env --role-arn arn:aws:iam::123456789012:role/deploy)\"
  eval \"$(vercel-oidc gcp configure)\"    # with GCP_PROJECT_NUMBER and the other GCP_* set
  eval \"$(vercel-oidc azure configure)\"  # with AZURE_TENANT_ID and AZURE_CLIENT_ID set
  vercel-oidc verify --issuer https://oidc.vercel.com/acme --audience https://vercel.com/acme -";

/// Trade Vercel's OIDC token for short-lived cloud credentials, handed to tools through their
/// native mechanisms.
#[derive(Debug, Parser)]
#[command(name = "vercel-oidc", version, about, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    /// Read the Vercel OIDC token from this file
    ///
    /// Wins over VERCEL_OIDC_TOKEN_FILE, VERCEL_OIDC_TOKEN and `.env.local`.
    #[arg(long, global = true, value_name = "PATH")]
    token_file: Option<PathBuf>,

    /// Look for `.env.local`, `.vercel/` and vercel-oidc.toml from this folder, not the working one
    ///
    /// `aws configure` writes it into the profile when the token comes from a linked project, so
    /// the profile works from any folder.
    #[arg(
        long,
        global = true,
        env = "VERCEL_OIDC_PROJECT_DIR",
        value_name = "DIR",
        hide_env_values = true
    )]
    project_dir: Option<PathBuf>,

    /// Read cloud settings from this project config instead of the nearest vercel-oidc.toml
    ///
    /// Also VERCEL_OIDC_CONFIG. Flags and environment variables win over the file.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// Never refresh an expired token through the Vercel CLI or API (local development)
    #[arg(long, global = true, env = "VERCEL_OIDC_NO_REFRESH", value_parser = clap::builder::BoolishValueParser::new())]
    no_refresh: bool,

    /// Explain what is happening on stderr (-vv for HTTP detail; or VERCEL_OIDC_VERBOSE=1)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the token that would be used: source, claims, time left
    ///
    /// Example: vercel-oidc token --json
    Token(token::TokenArgs),
    /// Run a command with credentials for every configured cloud wired in
    ///
    /// Example: vercel-oidc exec -- terraform apply -auto-approve
    Exec(exec::ExecArgs),
    /// Explain the whole set-up and check that every configured cloud accepts the token
    ///
    /// Example: vercel-oidc doctor --offline
    Doctor(doctor::DoctorArgs),
    /// AWS: credential_process, profile set-up and environment variables
    #[command(subcommand)]
    Aws(aws::AwsCommand),
    /// GCP: external_account credential files, their executable source, and access tokens
    #[command(subcommand)]
    Gcp(gcp::GcpCommand),
    /// Azure: federated token file for the Azure SDKs, and access tokens
    #[command(subcommand)]
    Azure(azure::AzureCommand),
    /// Verify a token as an API trusting Vercel must: signature, issuer, audience, expiry
    ///
    /// Example: printf %s "$TOKEN" | vercel-oidc verify --issuer https://oidc.vercel.com/acme --audience https://vercel.com/acme -
    Verify(verify::VerifyArgs),
}

/// What every subcommand needs: the environment read once at start, the global flags, a clock.
pub struct Ctx {
    pub env: Env,
    /// `--project-dir`, absolute, when given.
    pub project_dir: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
    pub no_refresh: bool,
    pub config: Option<PathBuf>,
}

impl Ctx {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// The project config (`vercel-oidc.toml`), or an empty one when there is none.
    pub fn project(&self) -> anyhow::Result<ProjectConfig> {
        Ok(ProjectConfig::load(&self.env, self.config.as_deref())?)
    }

    /// The token from the usual sources (see `vercel_oidc::token`); in a linked project, a
    /// refreshed one when none is found. Expiry is not checked: see [`Ctx::fresh`].
    pub fn load_token(&self) -> anyhow::Result<OidcToken> {
        match vercel_oidc::token::load(&self.env, self.token_file.as_deref()) {
            Err(missing @ TokenError::NotFound { .. }) => match self.refresher() {
                Some(refresher) => {
                    let refreshed = refresher.and_then(|r| r.fresh_token(|| self.now()));
                    refreshed
                        .map_err(|e| anyhow::anyhow!("{missing}\n  automatic refresh failed: {e}"))
                }
                None => Err(missing.into()),
            },
            other => Ok(other?),
        }
    }

    /// `token` when it has comfortably long left; otherwise, in local development, a refreshed
    /// one; otherwise `token` while it is still valid, or the error saying it expired.
    pub fn fresh(&self, token: OidcToken) -> anyhow::Result<OidcToken> {
        let now = self.now();
        let refreshable = matches!(
            token.source(),
            TokenSource::Env | TokenSource::DotEnv(_) | TokenSource::Refreshed { .. }
        );
        if !refresh::needs_refresh(&token, now) || !refreshable {
            token.ensure_fresh(now, self.env.in_build())?;
            return Ok(token);
        }
        let Some(refresher) = self.refresher() else {
            token.ensure_fresh(now, self.env.in_build())?;
            return Ok(token);
        };
        match refresher.and_then(|r| r.fresh_token(|| self.now())) {
            Ok(fresh) => {
                vercel_oidc::debug!(
                    "the token from {} was about to expire; using {}",
                    token.source(),
                    fresh.source()
                );
                Ok(fresh)
            }
            Err(e) => match token.ensure_fresh(now, self.env.in_build()) {
                Ok(()) => {
                    vercel_oidc::debug!("refresh failed ({e}); the current token is still valid");
                    Ok(token)
                }
                Err(expired) => Err(anyhow::anyhow!(
                    "{expired}\n  automatic refresh failed: {e}"
                )),
            },
        }
    }

    /// Whether a fresh token can be had here: local development in a linked project, refresh
    /// not turned off.
    pub fn can_refresh(&self) -> bool {
        matches!(self.refresher(), Some(Ok(_)))
    }

    fn refresher(&self) -> Option<Result<refresh::Refresher<'_>, refresh::RefreshError>> {
        if self.no_refresh {
            return None;
        }
        refresh::Refresher::for_env(&self.env)
    }

    /// A single-threaded runtime, made only when something must go over the network.
    pub fn runtime(&self) -> anyhow::Result<tokio::runtime::Runtime> {
        Ok(tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?)
    }

    /// The result of an exchange with a cloud: from the shared cache while it has more than
    /// `min_remaining` left (looked up before insisting on a live token, since a cached result
    /// may outlive the token that got it, as in a long build), else from `fetch` with a live
    /// token, refreshed in local development, one process at a time per key. The key follows the
    /// token actually sent.
    pub fn exchange<T>(
        &self,
        token: OidcToken,
        no_cache: bool,
        min_remaining: time::Duration,
        key: impl Fn(&OidcToken) -> vercel_oidc::cache::Key,
        fetch: impl FnOnce(&OidcToken) -> anyhow::Result<(T, OffsetDateTime)>,
    ) -> anyhow::Result<T>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        vercel_oidc::debug!("using the token from {}", token.source());
        let cache = self.cache(no_cache)?;
        if let Some(cache) = &cache
            && let Some(hit) = cache.get(&key(&token), self.now(), min_remaining)
        {
            return Ok(hit);
        }
        let token = self.fresh(token)?;
        match cache {
            Some(cache) => {
                cache.get_or_fetch(&key(&token), || self.now(), min_remaining, || fetch(&token))
            }
            None => Ok(fetch(&token)?.0),
        }
    }

    /// The shared cache, unless disabled or there is nowhere to put it; an error when its
    /// directory is not one to trust.
    pub fn cache(&self, no_cache: bool) -> anyhow::Result<Option<vercel_oidc::cache::Cache>> {
        if no_cache {
            vercel_oidc::debug!("cache disabled");
            return Ok(None);
        }
        let Some(cache) = vercel_oidc::cache::Cache::for_env(&self.env) else {
            vercel_oidc::debug!("no HOME or XDG_CACHE_HOME: not caching");
            return Ok(None);
        };
        cache.check()?;
        Ok(Some(cache))
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Env::from_process();
    let from_env = match env.get("VERCEL_OIDC_VERBOSE") {
        Some(v) => v
            .parse::<u8>()
            .unwrap_or(if env.flag("VERCEL_OIDC_VERBOSE") {
                1
            } else {
                0
            }),
        None => 0,
    };
    vercel_oidc::log::set_level(cli.verbose.max(from_env));
    let project_dir = cli.project_dir.map(|d| env.absolute(d));
    let env = match &project_dir {
        Some(dir) if !dir.is_dir() => {
            eprintln!(
                "error: --project-dir `{}` is not a folder\n  name the folder that holds `.vercel/` and `.env.local`",
                dir.display()
            );
            return ExitCode::FAILURE;
        }
        Some(dir) => env.with_cwd(dir),
        None => env,
    };
    let ctx = Ctx {
        env,
        project_dir,
        token_file: cli.token_file,
        no_refresh: cli.no_refresh,
        config: cli.config,
    };
    let result = match cli.command {
        Command::Token(args) => token::run(&ctx, &args),
        Command::Aws(cmd) => aws::run(&ctx, cmd),
        Command::Gcp(cmd) => gcp::run(&ctx, cmd),
        Command::Azure(cmd) => azure::run(&ctx, cmd),
        Command::Exec(args) => exec::run(&ctx, &args),
        Command::Doctor(args) => doctor::run(&ctx, &args),
        Command::Verify(args) => verify::run(&ctx, &args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes `text` to stdout in one go, so a reader never sees half of it.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
