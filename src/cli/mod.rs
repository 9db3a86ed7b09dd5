//! Command-line parsing and dispatch. Clap structs live here and nowhere else; each subcommand
//! turns its flags into the library's validated configuration before doing any I/O.

mod aws;
mod token;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use time::OffsetDateTime;
use vercel_oidc::Env;

const EXAMPLES: &str = "\
Examples:
  vercel-oidc token                                  # which token, whose, and for how long
  vercel-oidc aws configure --profile vercel --role-arn arn:aws:iam::123456789012:role/deploy
  aws s3 ls --profile vercel                         # the AWS CLI runs vercel-oidc itself
  eval \"$(vercel-oidc aws env --role-arn arn:aws:iam::123456789012:role/deploy)\"";

/// Trade Vercel's OIDC token for short-lived AWS credentials, handed to tools through their
/// native mechanisms.
#[derive(Debug, Parser)]
#[command(name = "vercel-oidc", version, about, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    /// Read the Vercel OIDC token from this file
    ///
    /// Wins over VERCEL_OIDC_TOKEN_FILE, VERCEL_OIDC_TOKEN and `.env.local`.
    #[arg(long, global = true, value_name = "PATH")]
    token_file: Option<PathBuf>,

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
    /// AWS: credential_process, profile set-up and environment variables
    #[command(subcommand)]
    Aws(aws::AwsCommand),
}

/// What every subcommand needs: the environment read once at start, the global flags, a clock.
pub struct Ctx {
    pub env: Env,
    pub token_file: Option<PathBuf>,
}

impl Ctx {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// A single-threaded runtime, made only when something must go over the network.
    pub fn runtime(&self) -> anyhow::Result<tokio::runtime::Runtime> {
        Ok(tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?)
    }

    /// The shared cache, unless disabled or there is nowhere to put it.
    pub fn cache(&self, no_cache: bool) -> Option<vercel_oidc::cache::Cache> {
        if no_cache {
            vercel_oidc::debug!("cache disabled");
            return None;
        }
        let dir = self.env.cache_dir();
        if dir.is_none() {
            vercel_oidc::debug!("no HOME or XDG_CACHE_HOME: not caching");
        }
        dir.map(vercel_oidc::cache::Cache::new)
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
    let ctx = Ctx {
        env,
        token_file: cli.token_file,
    };
    let result = match cli.command {
        Command::Token(args) => token::run(&ctx, &args),
        Command::Aws(cmd) => aws::run(&ctx, cmd),
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
