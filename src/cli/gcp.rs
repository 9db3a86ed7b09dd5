//! `vercel-oidc gcp …`: external_account credential files, their executable source, and access
//! tokens.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use vercel_oidc::fsutil::{self, DirRule, SecretFileError};
use vercel_oidc::gcp::credfile::{self, CredentialSource};
use vercel_oidc::gcp::executable::{self, ExecutableError};
use vercel_oidc::gcp::{self, AccessToken, GcpClient, GcpConfig, GcpOptions};
use vercel_oidc::http::{self, RetryPolicy};
use vercel_oidc::output::{self, EnvFormat};
use vercel_oidc::project::{self, GcpSource};
use vercel_oidc::timefmt;
use vercel_oidc::token::{OidcToken, TokenError};

use super::{Ctx, print_stdout};

#[derive(Debug, Subcommand)]
pub enum GcpCommand {
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

/// The workload identity provider, the service account and the endpoints.
#[derive(Debug, Clone, Args)]
pub struct ProviderArgs {
    /// Full audience of the workload identity pool provider; wins over the three parts
    ///
    /// Example: --audience //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel
    #[arg(
        long,
        env = "VERCEL_OIDC_GCP_AUDIENCE",
        value_name = "AUDIENCE",
        hide_env_values = true
    )]
    audience: Option<String>,

    /// Project number (digits) of the workload identity pool
    ///
    /// Example: --project-number 123456789012
    #[arg(
        long,
        env = "GCP_PROJECT_NUMBER",
        value_name = "NUMBER",
        hide_env_values = true
    )]
    project_number: Option<String>,

    /// Workload identity pool id
    ///
    /// Example: --pool vercel
    #[arg(
        long,
        env = "GCP_WORKLOAD_IDENTITY_POOL_ID",
        value_name = "ID",
        hide_env_values = true
    )]
    pool: Option<String>,

    /// Workload identity pool provider id
    ///
    /// Example: --provider vercel
    #[arg(
        long,
        env = "GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID",
        value_name = "ID",
        hide_env_values = true
    )]
    provider: Option<String>,

    /// Service account to impersonate [default: none, use the federated identity directly]
    ///
    /// Example: --service-account deploy@my-project.iam.gserviceaccount.com
    #[arg(
        long,
        env = "GCP_SERVICE_ACCOUNT_EMAIL",
        value_name = "EMAIL",
        hide_env_values = true
    )]
    service_account: Option<String>,

    /// Lifetime of the service account's tokens, 600-43200 [default: 3600]
    ///
    /// Above 3600 needs the organisation policy
    /// constraints/iam.allowServiceAccountCredentialLifetimeExtension.
    /// Example: --token-lifetime-seconds 1800
    #[arg(
        long,
        env = "VERCEL_OIDC_GCP_TOKEN_LIFETIME_SECONDS",
        value_name = "SECONDS",
        hide_env_values = true
    )]
    token_lifetime_seconds: Option<u32>,

    /// Google STS token endpoint [default: https://sts.googleapis.com/v1/token]
    ///
    /// Example: --token-url http://127.0.0.1:8080/v1/token
    #[arg(
        long,
        env = "VERCEL_OIDC_GCP_TOKEN_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    token_url: Option<String>,

    /// IAM Credentials base URL, or a full `…:generateAccessToken` URL
    /// [default: https://iamcredentials.googleapis.com]
    ///
    /// Example: --impersonation-url http://127.0.0.1:8080
    #[arg(
        long,
        env = "VERCEL_OIDC_GCP_IMPERSONATION_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    impersonation_url: Option<String>,
}

impl ProviderArgs {
    pub(super) fn options(&self) -> GcpOptions {
        GcpOptions {
            audience: self.audience.clone(),
            project_number: self.project_number.clone(),
            pool: self.pool.clone(),
            provider: self.provider.clone(),
            service_account: self.service_account.clone(),
            token_lifetime_seconds: self.token_lifetime_seconds,
            token_url: self.token_url.clone(),
            impersonation_url: self.impersonation_url.clone(),
            scopes: Vec::new(),
            project_id: None,
        }
    }
}

/// Where clients get the token from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Source {
    /// A file beside the credential file holding the current token; run configure again when
    /// the token is renewed
    File,
    /// This binary, run by the client on every refresh (clients need
    /// GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1)
    Executable,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    #[command(flatten)]
    provider: ProviderArgs,

    /// Where clients get the token from [default: file]
    ///
    /// Example: --source executable
    #[arg(long, value_enum, env = "VERCEL_OIDC_GCP_SOURCE")]
    source: Option<Source>,

    /// Credential file to write [default: ~/.config/vercel-oidc/gcp/credentials.json]
    ///
    /// An existing file is replaced only when it is an external_account file.
    /// Example: --output /tmp/gcp-credentials.json
    #[arg(
        long,
        env = "VERCEL_OIDC_GCP_CREDENTIALS_FILE",
        value_name = "PATH",
        hide_env_values = true
    )]
    output: Option<PathBuf>,

    /// Project id to print as GOOGLE_CLOUD_PROJECT
    ///
    /// Example: --project-id my-project
    #[arg(
        long,
        env = "GCP_PROJECT_ID",
        value_name = "ID",
        hide_env_values = true
    )]
    project_id: Option<String>,

    /// Format of the printed environment
    ///
    /// Example: vercel-oidc gcp configure --format fish … | source
    #[arg(long, value_enum, default_value_t = EnvFormat::Sh, env = "VERCEL_OIDC_FORMAT")]
    format: EnvFormat,
}

#[derive(Debug, Args)]
pub struct AccessTokenArgs {
    #[command(flatten)]
    provider: ProviderArgs,

    /// OAuth scope of the access token (repeatable)
    /// [default: https://www.googleapis.com/auth/cloud-platform]
    ///
    /// Example: --scope https://www.googleapis.com/auth/devstorage.read_only
    #[arg(
        long = "scope",
        env = "VERCEL_OIDC_GCP_SCOPES",
        value_name = "SCOPE",
        value_delimiter = ',',
        hide_env_values = true
    )]
    scopes: Vec<String>,

    /// Print {"access_token", "token_type", "expires_at", "expires_in"} as JSON
    #[arg(long)]
    json: bool,

    /// Always call Google; neither read nor write the shared cache
    ///
    /// VERCEL_OIDC_NO_CACHE takes 1/0, true/false, yes/no or on/off.
    #[arg(
        long,
        env = "VERCEL_OIDC_NO_CACHE",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    no_cache: bool,
}

pub fn run(ctx: &Ctx, cmd: GcpCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        GcpCommand::Configure(args) => configure(ctx, &args)?,
        GcpCommand::ExecutableSource => return executable_source(ctx),
        GcpCommand::AccessToken(args) => {
            let token = ctx.load_token()?;
            let opts = GcpOptions {
                scopes: args.scopes.clone(),
                ..args.provider.options()
            };
            let config = GcpConfig::from_options(&merged_options(ctx, opts, Some(&token))?)?;
            let access = access_token(ctx, &config, token, args.no_cache)?;
            let text = if args.json {
                let expires_at = access.expires_at();
                let json = serde_json::json!({
                    "access_token": access.access_token.expose_secret(),
                    "token_type": "Bearer",
                    "expires_at": timefmt::rfc3339_z(expires_at),
                    "expires_in": (expires_at - ctx.now()).whole_seconds().max(0),
                });
                serde_json::to_string_pretty(&json)? + "\n"
            } else {
                format!("{}\n", access.access_token.expose_secret())
            };
            print_stdout(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The GCP settings: flags, then environment variables, then the project config (its section
/// for the token's environment).
fn merged_options(
    ctx: &Ctx,
    mut opts: GcpOptions,
    token: Option<&OidcToken>,
) -> anyhow::Result<GcpOptions> {
    project::fill_gcp(&mut opts, ctx.project()?.gcp(environment(token)));
    Ok(opts)
}

fn environment(token: Option<&OidcToken>) -> Option<&str> {
    token.and_then(|t| t.claims().environment.as_deref())
}

/// An access token for `config`: from the shared cache while it has long enough left, else from
/// Google (one process at a time per cache key).
pub(super) fn access_token(
    ctx: &Ctx,
    config: &GcpConfig,
    token: OidcToken,
    no_cache: bool,
) -> anyhow::Result<AccessToken> {
    ctx.exchange(
        token,
        no_cache,
        config.min_remaining(),
        |t| gcp::cache_key(config, t.claims()),
        |t| {
            let client = GcpClient::new(http::client(&ctx.env)?, RetryPolicy::default());
            let access = ctx.runtime()?.block_on(client.access_token(config, t))?;
            let expires = access.expires_at();
            Ok((access, expires))
        },
    )
}

/// `executable-source`: the response on stdout and nothing at all on stderr, since Python and
/// Node parse the two together.
fn executable_source(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    // Not a byte on stderr on success, whatever -v or VERCEL_OIDC_VERBOSE say.
    vercel_oidc::log::set_level(0);
    let output_file = ctx
        .env
        .get("GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE")
        .map(|p| ctx.env.absolute(p));
    if ctx.env.flag("GOOGLE_EXTERNAL_ACCOUNT_REVOKE") {
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
            print_stdout(&executable::failure(err.code(), &err.to_string()))?;
            Ok(ExitCode::FAILURE)
        }
    }
}

fn executable_response(ctx: &Ctx, output_file: Option<&Path>) -> Result<String, ExecutableError> {
    let token_type = executable::token_type(ctx.env.get("GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE"))?;
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
fn token_failure(error: anyhow::Error, code: &'static str) -> ExecutableError {
    match error.downcast::<TokenError>() {
        Ok(e) => ExecutableError::Token(e),
        Err(other) => ExecutableError::Described {
            code,
            message: format!("{other:#}"),
        },
    }
}

fn configure(ctx: &Ctx, args: &ConfigureArgs) -> anyhow::Result<()> {
    // The token picks the project config's environment section; the file source also needs it
    // live. The executable source needs none yet.
    let token = ctx.load_token();
    let opts = GcpOptions {
        project_id: args.project_id.clone(),
        ..args.provider.options()
    };
    let opts = merged_options(ctx, opts, token.as_ref().ok())?;
    let config = GcpConfig::from_options(&opts)?;
    let source = match args.source {
        Some(source) => source,
        None => {
            let section = ctx.project()?.gcp(environment(token.as_ref().ok()));
            match section.and_then(|s| s.source) {
                Some(GcpSource::Executable) => Source::Executable,
                Some(GcpSource::File) | None => Source::File,
            }
        }
    };
    let (path, default_location) = match &args.output {
        Some(p) => {
            let path = ctx.env.absolute(p);
            credfile::check_output_path(p, &path)?;
            (path, false)
        }
        None => (credfile::default_path(&ctx.env)?, true),
    };
    credfile::check_overwrite(&path)?;

    // Everything that can fail without touching the disk comes first.
    let (source, token) = match source {
        Source::File => {
            let token = ctx.fresh(token?)?;
            let source = CredentialSource::File(credfile::token_path(&path));
            (source, Ok(token))
        }
        Source::Executable => {
            let exe = std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .context(
                    "cannot find the path of this executable to write into the credential file",
                )?;
            let token_file = ctx.token_file.as_ref().map(|f| ctx.env.absolute(f));
            let command = credfile::executable_command(&exe, token_file.as_deref())?;
            let source = CredentialSource::Executable {
                command,
                output_file: None,
            };
            (source, token)
        }
    };
    let text = credfile::render(&config, &source);

    let rule = if default_location {
        DirRule::Own
    } else {
        DirRule::Shared
    };
    write_credential_files(&path, rule, &source, token.as_ref().ok(), &text)?;

    let who = match &config.impersonation {
        Some(imp) => format!("impersonating `{}`", imp.service_account),
        None => "as the federated identity (no service account)".to_string(),
    };
    eprintln!("wrote `{}`: {} {who}", path.display(), config.provider);
    match (&source, &token) {
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

    let vars = credfile::env_vars(&path, &config, &source);
    print_stdout(&output::render(&vars, args.format))?;
    Ok(())
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
