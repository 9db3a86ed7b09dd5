//! `vercel-oidc aws configure`: a profile in the AWS config file that runs this binary as its
//! `credential_process`, with the settings pinned as flags.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use crate::aws::settings::{CREDENTIAL_PROCESS, POLICY, REGION, ROLE_ARN, TABLE};
use crate::aws::{AwsConfig, config_file};
use crate::cli::Ctx;
use crate::cli::flags::{CacheFlag, SettingFlags};
use crate::settings::{Raw, Resolved, Setting};
use crate::token::{OidcToken, TokenSource};
use crate::{fsutil, output, vars};

#[derive(Debug, Args)]
pub(super) struct ConfigureArgs {
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
    settings: SettingFlags<super::ConfigureFlags>,

    #[command(flatten)]
    cache: CacheFlag,
}

pub(super) fn run(ctx: &Ctx, args: &ConfigureArgs) -> anyhow::Result<()> {
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
        .pinned(CREDENTIAL_PROCESS)
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
pub(crate) enum SharedFile {
    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    Config,
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    Credentials,
}

/// Where the SDKs look for `file`; `None` without its variable or HOME.
pub(crate) fn shared_file(ctx: &Ctx, file: SharedFile) -> Option<PathBuf> {
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
    for (setting, value) in settings.pinned(CREDENTIAL_PROCESS) {
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
