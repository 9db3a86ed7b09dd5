//! GCP on the command line (behind the `cli` feature): `vercel-oidc gcp …` (external_account
//! credential files, their executable source, and access tokens), its wiring in `exec`
//! ([`exec`]) and its check in `doctor` ([`doctor`]).

mod doctor;
mod exec;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::doctor::{Checker, CloudReport};
use crate::cli::flags::{CacheFlag, FormatFlag, SettingFlags, flagged};
use crate::cli::wiring::Wire;
use crate::cli::{CloudCli, Ctx, Run, parsed, print_stdout, subcommand};
use crate::fsutil::{self, DirRule, SecretFileError};
use crate::gcp::credfile::{self, CredentialSource};
use crate::gcp::executable::{self, ExecutableError};
use crate::gcp::settings::{self, OUTPUT, SOURCE, TABLE};
use crate::gcp::{AccessToken, GcpConfig, access_token};
use crate::output;
use crate::settings::Resolved;
use crate::token::OidcToken;
use crate::{session, timefmt, vars};
use anyhow::Context as _;
use clap::{ArgMatches, Args, Subcommand};

impl CloudCli for super::Gcp {
    fn configure_hint(&self) -> &'static str {
        "the GCP_* variables"
    }

    fn examples(&self) -> &'static str {
        "  eval \"$(vercel-oidc gcp configure)\"    # with GCP_PROJECT_NUMBER and the other GCP_* set"
    }

    fn command(&self) -> clap::Command {
        subcommand::<GcpCommand>(
            &TABLE,
            "GCP: external_account credential files, their executable source, and access tokens",
        )
    }

    fn parse(&self, matches: &ArgMatches) -> Result<Box<dyn Run>, clap::Error> {
        parsed::<GcpCommand>(matches)
    }

    fn plan(&self, _: &Ctx, settings: &Resolved) -> anyhow::Result<Box<dyn Wire>> {
        Ok(Box::new(exec::Planned(GcpConfig::from_settings(settings)?)))
    }

    fn reads_token_file(&self) -> bool {
        true
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
enum GcpCommand {
    /// Write an external_account credential file and print the environment that uses it
    ///
    /// google-auth (Python, Node, Go, Java), gcloud and Terraform read the file unchanged.
    ///
    /// Example: eval "$(vercel-oidc gcp configure --project-number 123456789012 --pool vercel --provider vercel --service-account deploy@my-project.iam.gserviceaccount.com)"
    Configure(ConfigureArgs),
    /// Print the current token as an executable-sourced credential (what the file's
    /// `executable` source runs)
    ///
    /// Nothing is written to stderr on success. With GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE set, the
    /// response is also written there (0600). On failure it prints `"success":false` with a
    /// code and a message, and exits 1.
    ///
    /// Example, in a credential file (written for you by `vercel-oidc gcp configure --source executable`):
    ///   "credential_source": {"executable": {"command": "/usr/local/bin/vercel-oidc gcp executable-source", "timeout_millis": 30000}}
    ExecutableSource,
    /// Exchange the token for a Google access token and print it
    ///
    /// Calls Google STS, then IAM Credentials when a service account is given. Results are
    /// cached like AWS credentials.
    ///
    /// Example: curl -H "Authorization: Bearer $(vercel-oidc gcp access-token --audience //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel)" https://storage.googleapis.com/storage/v1/b?project=my-project
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

    /// Print {"access_token", "token_type", "expires_at", "expires_in"} as JSON
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    cache: CacheFlag,
}

impl Run for GcpCommand {
    fn run(self: Box<Self>, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        run(ctx, *self)
    }
}

fn run(ctx: &Ctx, cmd: GcpCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        GcpCommand::Configure(args) => configure(ctx, &args)?,
        GcpCommand::ExecutableSource => return executable_source(ctx),
        GcpCommand::AccessToken(args) => {
            let token = ctx.load_token()?;
            let settings = ctx.settings(&TABLE, &args.settings.given, Some(&token))?;
            let config = GcpConfig::from_settings(&settings)?;
            let access = access_token(&ctx.session, &config, token, args.cache.no_cache)?;
            print_stdout(&access_token_text(ctx, &access, args.json)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The access token alone, or with `json` as a JSON document.
fn access_token_text(ctx: &Ctx, access: &AccessToken, json: bool) -> anyhow::Result<String> {
    if !json {
        return Ok(format!("{}\n", access.access_token.expose_secret()));
    }
    let expires_at = access.expires_at();
    let json = serde_json::json!({
        "access_token": access.access_token.expose_secret(),
        "token_type": "Bearer",
        "expires_at": timefmt::rfc3339_z(expires_at),
        "expires_in": (expires_at - ctx.now()).whole_seconds().max(0),
    });
    Ok(serde_json::to_string_pretty(&json)? + "\n")
}

/// `executable-source`: the response on stdout and nothing at all on stderr, since Python and
/// Node parse the two together.
fn executable_source(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    // Not a byte on stderr on success, whatever -v or VERCEL_OIDC_VERBOSE say, nor while
    // waiting for another process.
    crate::log::set_level(0);
    crate::log::set_notices(false);
    let output_file = ctx
        .env()
        .get(vars::GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE)
        .map(|p| ctx.env().absolute(p));
    if ctx.env().flag(vars::GOOGLE_EXTERNAL_ACCOUNT_REVOKE) {
        if let Some(path) = &output_file {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    let err = ExecutableError::OutputFile {
                        path: path.clone(),
                        error,
                    };
                    print_stdout(&executable::failure(err.code(), &err.to_string()))?;
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        print_stdout(&executable::revoked())?;
        return Ok(ExitCode::SUCCESS);
    }
    match executable_response(ctx, output_file.as_deref()) {
        Ok(response) => {
            print_stdout(&response)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            let message = with_skipped_files(err.to_string());
            print_stdout(&executable::failure(err.code(), &message))?;
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `message`, and each file the walk passed over as another user's: stderr stays empty here, so
/// the failure is the one place to say why a `.env.local` or `vercel-oidc.toml` was not used.
fn with_skipped_files(message: String) -> String {
    crate::walk::skipped()
        .iter()
        .fold(message, |m, s| format!("{m}\n  {}", s.line()))
}

fn executable_response(ctx: &Ctx, output_file: Option<&Path>) -> Result<String, ExecutableError> {
    let token_type =
        executable::token_type(ctx.env().get(vars::GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE))?;
    // In local development an expired token is refreshed, as for every other command; the
    // refresher captures the output of what it runs, so stderr stays empty.
    let token = ctx
        .load_token()
        .map_err(|e| token_failure(e, "TOKEN_NOT_FOUND"))?;
    let token = ctx
        .fresh(token)
        .map_err(|e| token_failure(e, "TOKEN_EXPIRED"))?;
    let response = executable::success(&token, token_type);
    if let Some(path) = output_file {
        executable::write_output_file(path, &response)?;
    }
    Ok(response)
}

/// A token error as a failure response: typed when it is one; else (a token error with the story
/// of a failed refresh added) under `code`.
fn token_failure(error: session::Error, code: &'static str) -> ExecutableError {
    match error {
        session::Error::Token(e) => ExecutableError::Token(e),
        other => ExecutableError::Described {
            code,
            message: format!("{:#}", anyhow::Error::new(other)),
        },
    }
}

fn configure(ctx: &Ctx, args: &ConfigureArgs) -> anyhow::Result<()> {
    // The token picks the project config's environment section; the file source also needs it
    // live. The executable source needs none yet.
    let token = ctx.load_token();
    let settings = ctx.settings(&TABLE, &args.settings.given, token.as_ref().ok())?;
    let config = GcpConfig::from_settings(&settings)?;
    let executable = settings.choice(&SOURCE)? == Some("executable");
    let (path, rule) = output_path(ctx, &settings)?;
    credfile::check_overwrite(&path)?;
    // Everything that can fail without touching the disk comes first.
    let (source, token) = credential_source(ctx, executable, &path, token)?;
    let text = credfile::render(&config, &source);
    write_credential_files(&path, rule, &source, token.as_ref().ok(), &text)?;
    report_written(ctx, &path, &config, &source, &token);
    let vars = credfile::env_vars(&path, &config, &source);
    print_stdout(&output::render(&vars, args.format.format))
}

/// Where the credential file goes, and the rule its directory must meet: `--output` (a place the
/// user names), else the private default.
fn output_path(ctx: &Ctx, settings: &Resolved) -> anyhow::Result<(PathBuf, DirRule)> {
    match settings.text(&OUTPUT) {
        Some(given) => {
            let path = ctx.env().absolute(given);
            credfile::check_output_path(Path::new(given), &path)?;
            Ok((path, DirRule::Shared))
        }
        None => Ok((credfile::default_path(ctx.env())?, DirRule::Own)),
    }
}

/// Where clients get the token: a file beside the credential file (which needs a live token now),
/// or this binary run as the executable source.
fn credential_source(
    ctx: &Ctx,
    executable: bool,
    path: &Path,
    token: Result<OidcToken, session::Error>,
) -> anyhow::Result<(CredentialSource, Result<OidcToken, session::Error>)> {
    if !executable {
        let token = ctx.fresh(token?)?;
        return Ok((
            CredentialSource::File(credfile::token_path(path)),
            Ok(token),
        ));
    }
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("cannot find the path of this executable to write into the credential file")?;
    let token_file = ctx.token_file().map(|f| ctx.env().absolute(f));
    let command = credfile::executable_command(&exe, token_file.as_deref())?;
    let source = CredentialSource::Executable {
        command,
        output_file: None,
    };
    Ok((source, token))
}

/// Says on stderr what was written, and where the token comes from.
fn report_written(
    ctx: &Ctx,
    path: &Path,
    config: &GcpConfig,
    source: &CredentialSource,
    token: &Result<OidcToken, session::Error>,
) {
    let who = match &config.impersonation {
        Some(imp) => format!("impersonating `{}`", imp.service_account),
        None => "as the federated identity (no service account)".to_string(),
    };
    eprintln!("wrote `{}`: {} {who}", path.display(), config.provider);
    match (source, token) {
        (CredentialSource::File(token_path), Ok(token)) => {
            let expires = token.claims().expires_at();
            eprintln!(
                "  token: `{}` from {}, expires {} ({}); run this again with a fresh token, or use --source executable",
                token_path.display(),
                token.source(),
                timefmt::rfc3339_z(expires),
                timefmt::relative(expires, ctx.now())
            );
        }
        (CredentialSource::Executable { command, .. }, token) => {
            eprintln!("  token: from `{command}` on every refresh");
            if let Err(e) = token {
                eprintln!(
                    "warning: there is no usable token here yet, so clients will fail until there is: {}",
                    e.to_string().lines().next().unwrap_or("")
                );
            }
        }
        _ => {}
    }
}

/// Writes the token file (for the `file` source) and then the credential file, under the lock
/// beside the credential file, checking again under it that the file may be replaced, and
/// removes a token file of ours that the new credential file no longer reads.
fn write_credential_files(
    path: &Path,
    rule: DirRule,
    source: &CredentialSource,
    token: Option<&OidcToken>,
    text: &str,
) -> anyhow::Result<()> {
    let place_error = |e: SecretFileError| {
        anyhow::anyhow!(
            "will not write the credential file: {e}\n  choose --output in a directory only you can write to, or leave --output out for the private default"
        )
    };
    fsutil::prepare_secret_path(path, rule).map_err(place_error)?;
    let _lock = fsutil::FileLock::beside(path)
        .with_context(|| format!("cannot lock the credential file `{}`", path.display()))?;
    credfile::check_overwrite(path)?;
    let old_token_file = credfile::own_token_file(path);
    // The token first, so that the credential file never points at a missing file.
    if let (CredentialSource::File(token_path), Some(token)) = (source, token) {
        fsutil::write_private(token_path, token.expose_secret().as_bytes())
            .with_context(|| format!("cannot write the token file `{}`", token_path.display()))?;
    }
    fsutil::write_private(path, text.as_bytes())
        .with_context(|| format!("cannot write the credential file `{}`", path.display()))?;
    // A token the file no longer reads is a secret left lying about.
    if let (CredentialSource::Executable { .. }, Some(old)) = (source, &old_token_file)
        && let Err(e) = std::fs::remove_file(old)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!(
            "warning: cannot remove the token file `{}` that the credential file used before: {e}",
            old.display()
        );
    }
    Ok(())
}
