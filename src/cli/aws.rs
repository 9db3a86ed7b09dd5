//! `vercel-oidc aws …`: credential_process, profile set-up, environment variables.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::aws::settings::{POLICY, REGION, ROLE_ARN, TABLE};
use crate::aws::{AwsConfig, AwsCredentials, StsError, config_file};
use crate::output;
use crate::session::ExchangeError;
use crate::settings::{Command, Given, Raw, Resolved, Setting};
use crate::token::{OidcToken, TokenSource};
use crate::{fsutil, vars};
use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::flags::{self, CacheFlag, FormatFlag, SettingFlags};
use super::{Ctx, print_stdout};

#[derive(Debug, Subcommand)]
pub enum AwsCommand {
    /// Print credentials as the AWS CLI and SDKs expect from a `credential_process`
    ///
    /// Example, in ~/.aws/config (written for you by `vercel-oidc aws configure`):
    ///   credential_process = /usr/local/bin/vercel-oidc aws credential-process --role-arn arn:aws:iam::123456789012:role/deploy
    CredentialProcess(CredentialProcessArgs),
    /// Add or update an AWS config profile that runs this tool as its credential_process
    ///
    /// Example: vercel-oidc aws configure --profile vercel --role-arn arn:aws:iam::123456789012:role/deploy --region eu-west-1
    Configure(ConfigureArgs),
    /// Print credentials as environment assignments (sh, fish, dotenv or JSON)
    ///
    /// Example: eval "$(vercel-oidc aws env --role-arn arn:aws:iam::123456789012:role/deploy)"
    Env(EnvArgs),
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    #[command(flatten)]
    settings: SettingFlags<flags::AwsCredentialProcess>,

    #[command(flatten)]
    cache: CacheFlag,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// Profile to add or update in the AWS config file
    ///
    /// Not read from AWS_PROFILE, which names the profile in use, not one to overwrite.
    #[arg(
        long,
        env = vars::VERCEL_OIDC_AWS_PROFILE,
        value_name = "NAME",
        hide_env_values = true
    )]
    profile: String,

    #[command(flatten)]
    settings: SettingFlags<flags::AwsConfigure>,

    #[command(flatten)]
    cache: CacheFlag,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    settings: SettingFlags<flags::AwsEnv>,

    #[command(flatten)]
    cache: CacheFlag,

    #[command(flatten)]
    format: FormatFlag,
}

pub fn run(ctx: &Ctx, cmd: AwsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AwsCommand::CredentialProcess(args) => {
            let token = ctx.load_token()?;
            let config = config_for(ctx, &args.settings.given, Some(&token))?;
            let creds = credentials(ctx, &config, token, args.cache.no_cache)?;
            print_stdout(&(creds.to_process_json() + "\n"))?;
        }
        AwsCommand::Env(args) => {
            let token = ctx.load_token()?;
            let config = config_for(ctx, &args.settings.given, Some(&token))?;
            let creds = credentials(ctx, &config, token, args.cache.no_cache)?;
            let vars = creds.env_vars(config.endpoint.region.as_deref());
            print_stdout(&output::render(&vars, args.format.format))?;
        }
        AwsCommand::Configure(args) => configure(ctx, &args)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The AWS settings: flags, then environment variables, then the project config (its section for
/// the token's environment), checked.
fn config_for(ctx: &Ctx, given: &Given, token: Option<&OidcToken>) -> anyhow::Result<AwsConfig> {
    let settings = ctx.settings(&TABLE, given, token)?;
    Ok(AwsConfig::from_settings(&settings, ctx.env())?)
}

/// Credentials for `config`: from the shared cache while they have long enough left, else from
/// STS (one process at a time per cache key).
pub fn credentials(
    ctx: &Ctx,
    config: &AwsConfig,
    token: OidcToken,
    no_cache: bool,
) -> Result<AwsCredentials, ExchangeError<StsError>> {
    crate::aws::credentials(&ctx.session, config, token, no_cache)
}

fn configure(ctx: &Ctx, args: &ConfigureArgs) -> anyhow::Result<()> {
    if !config_file::is_profile_name(&args.profile) {
        return Err(config_file::ConfigFileError::BadProfile(args.profile.clone()).into());
    }
    // The token only picks the project config's environment section; none is needed yet.
    let token = ctx.load_token().ok();
    let settings = ctx.settings(&TABLE, &args.settings.given, token.as_ref())?;
    let config = AwsConfig::from_settings(&settings, ctx.env())?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("cannot find the path of this executable to write into the profile")?;
    let project_dir = pinned_project_dir(ctx, token.as_ref());
    let command = process_command(
        ctx,
        &exe,
        project_dir.as_deref(),
        &settings,
        args.cache.no_cache,
        &config,
    )?;
    let mut entries = vec![("credential_process", command.as_str())];
    let region = settings
        .pinned(Command::AwsCredentialProcess)
        .find(|(s, _)| s.name == REGION.name)
        .map(|(_, v)| v.raw.text());
    if let Some(region) = region.as_deref() {
        entries.push(("region", region));
    }
    // Write through a symlink (dotfile managers) rather than replacing it.
    let path = config_path(ctx)?;
    let target = path.canonicalize().unwrap_or_else(|_| path.clone());
    let verb = edit_profile(&target, &args.profile, &entries)?;
    report_configured(ctx, verb, &args.profile, &target, &command);
    Ok(())
}

/// Sets `entries` in `profile` of the config file at `target` under the lock beside it, so that
/// concurrent runs each edit what the one before wrote. Returns `added`, `updated`, or `None`
/// when the profile was already up to date.
fn edit_profile(
    target: &Path,
    profile: &str,
    entries: &[(&str, &str)],
) -> anyhow::Result<Option<&'static str>> {
    // The AWS CLI runs what the file says: no other user may be able to swap a folder above it.
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        fsutil::prepare_dir(dir, fsutil::DirRule::Shared).with_context(|| {
            format!("will not write the AWS config file `{}`", target.display())
        })?;
    }
    let _lock = fsutil::FileLock::beside(target).with_context(|| {
        format!(
            "cannot lock the AWS config file `{}` for editing",
            target.display()
        )
    })?;
    let before = read_config_file(target)?;
    let old = before.as_deref().unwrap_or("");
    let after = config_file::upsert_profile(old, profile, entries).with_context(|| {
        format!(
            "the AWS config file `{}` is left as it is",
            target.display()
        )
    })?;
    for key in config_file::conflicting_keys(&after, profile) {
        eprintln!(
            "warning: profile `{profile}` also sets `{key}`, which the AWS CLI prefers over credential_process; remove it from `{}`",
            target.display()
        );
    }
    if after == old && before.is_some() {
        return Ok(None);
    }
    let mode = std::fs::metadata(target)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
        .unwrap_or(0o600);
    fsutil::write_atomic(target, after.as_bytes(), mode)
        .with_context(|| format!("cannot write the AWS config file `{}`", target.display()))?;
    let existed = config_file::has_profile(old, profile);
    Ok(Some(if existed { "updated" } else { "added" }))
}

/// The config file's text, or `None` when there is none yet.
fn read_config_file(target: &Path) -> anyhow::Result<Option<String>> {
    let bytes = match fsutil::read_capped(target, fsutil::limits::CONFIG) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => {
            return Err(anyhow::anyhow!(
                "cannot read the AWS config file: {e}\n  fix the file or point AWS_CONFIG_FILE at another"
            ));
        }
    };
    String::from_utf8(bytes).map(Some).map_err(|_| {
        anyhow::anyhow!(
            "the AWS config file `{}` is not UTF-8 text, so it is left as it is\n  fix the file or point AWS_CONFIG_FILE at another",
            target.display()
        )
    })
}

fn report_configured(ctx: &Ctx, verb: Option<&str>, profile: &str, target: &Path, command: &str) {
    let Some(verb) = verb else {
        eprintln!(
            "profile `{profile}` in `{}` is already up to date",
            target.display()
        );
        return;
    };
    eprintln!("{verb} profile `{profile}` in `{}`", target.display());
    eprintln!("  credential_process = {command}");
    if ctx.env().get(vars::AWS_ACCESS_KEY_ID).is_some() {
        eprintln!(
            "warning: AWS_ACCESS_KEY_ID is set in this environment and wins over any profile; unset it to use `{profile}`"
        );
    }
    let try_it = output::PasteCommand::new("aws sts get-caller-identity --profile").arg(profile);
    eprintln!("try: {}", try_it.line());
}

fn config_path(ctx: &Ctx) -> anyhow::Result<PathBuf> {
    shared_file(ctx, SharedFile::Config).context(
        "HOME is not set, so the AWS config file cannot be found\n  set AWS_CONFIG_FILE or HOME",
    )
}

/// The two files every AWS SDK reads profiles from.
#[derive(Clone, Copy)]
pub(super) enum SharedFile {
    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    Config,
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    Credentials,
}

/// Where the SDKs look for `file`; `None` without its variable or HOME.
pub(super) fn shared_file(ctx: &Ctx, file: SharedFile) -> Option<PathBuf> {
    let (var, name) = match file {
        SharedFile::Config => (vars::AWS_CONFIG_FILE, "config"),
        SharedFile::Credentials => (vars::AWS_SHARED_CREDENTIALS_FILE, "credentials"),
    };
    match ctx.env().get(var) {
        Some(p) => Some(ctx.env().absolute(p)),
        None => Some(ctx.env().home()?.join(".aws").join(name)),
    }
}

/// The folder to run the profile's command from, so that a token found through the project
/// (`.env.local`, or refreshed for a linked project) is found again from any working folder.
fn pinned_project_dir(ctx: &Ctx, token: Option<&OidcToken>) -> Option<PathBuf> {
    if let Some(dir) = &ctx.project_dir {
        return Some(dir.clone());
    }
    match token.map(OidcToken::source) {
        Some(TokenSource::DotEnv(path)) => path.parent().map(Path::to_path_buf),
        Some(TokenSource::Refreshed { .. }) => {
            crate::refresh::find_link(&crate::walk::Walk::for_env(ctx.env()))?
                .ok()
                .map(|l| l.root)
        }
        _ => None,
    }
}

/// The credential_process line: this binary by absolute path and the settings pinned here as
/// flags (see [`Resolved::pinned`]), with no shell syntax, so that botocore (no shell) and the
/// Rust, Go and JS SDKs (`sh -c`) read the same.
fn process_command(
    ctx: &Ctx,
    exe: &Path,
    project_dir: Option<&Path>,
    settings: &Resolved,
    no_cache: bool,
    config: &AwsConfig,
) -> anyhow::Result<String> {
    let mut words: Vec<String> = vec![exe.display().to_string()];
    if let Some(dir) = project_dir {
        words.extend(["--project-dir".into(), dir.display().to_string()]);
    }
    if let Some(file) = ctx.token_file() {
        words.extend([
            "--token-file".into(),
            ctx.env().absolute(file).display().to_string(),
        ]);
    }
    words.extend(["aws".into(), "credential-process".into()]);
    for (setting, value) in settings.pinned(Command::AwsCredentialProcess) {
        let flag = format!("--{}", setting.flag.unwrap_or_default());
        for value in pinned_values(ctx, setting, &value.raw, config) {
            words.extend([flag.clone(), value]);
        }
    }
    if no_cache {
        words.push("--no-cache".into());
    }
    words
        .iter()
        .map(|w| quote_word(w))
        .collect::<anyhow::Result<Vec<_>>>()
        .map(|w| w.join(" "))
}

/// The values to write for one setting: as checked (a trimmed role, a packed inline policy, a
/// policy file by absolute path), one per flag for a list.
fn pinned_values(ctx: &Ctx, setting: &Setting, raw: &Raw, config: &AwsConfig) -> Vec<String> {
    match setting.name {
        n if n == ROLE_ARN.name => vec![config.role_arn.clone()],
        n if n == POLICY.name => match raw.first().strip_prefix('@') {
            Some(path) => vec![format!("@{}", ctx.env().absolute(path).display())],
            None => vec![config.policy.clone().unwrap_or_default()],
        },
        _ => match raw {
            Raw::One(v) => vec![v.clone()],
            Raw::List(items) => items.clone(),
        },
    }
}

/// A word as both POSIX `sh` and Python's `shlex.split` read it ([`output::shell_word`]), with
/// no single quote (which not every reader of credential_process takes inside quotes).
fn quote_word(word: &str) -> anyhow::Result<String> {
    let quoted = output::shell_word(word).map_err(|_| {
        anyhow::anyhow!(
            "`{}` holds a line break or another control character, which cannot be written into credential_process\n  remove it from the setting or path that produced it",
            word.escape_debug()
        )
    })?;
    anyhow::ensure!(
        !word.contains('\''),
        "`{word}` contains a single quote, which cannot be written into credential_process portably\n  put the policy in a file and pass --policy @FILE"
    );
    Ok(quoted.into_owned())
}
