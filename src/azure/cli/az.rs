//! The Azure CLI in `vercel-oidc exec`. `az` reads none of the workload identity variables: it
//! must be logged in (`az login --service-principal --federated-token`), and then keeps the
//! token it was given and never reads the file again. So, when `az` is on `PATH`, `exec` puts a
//! folder of the run first on the child's `PATH` holding an `az` of its own: a two-line script
//! that runs `vercel-oidc azure az-shim`, which logs the real `az` in before its first use and
//! again after the run's token file is renewed, then becomes it. Nothing is done for a command
//! that never runs `az`, so a build that does not use it pays nothing.
//!
//! The run's folder (0700, removed with the run) holds, under `azure-cli/`:
//! - `bin/az`, the script;
//! - `login.json`, what the login needs: the real `az`, the config folder, the token file, the
//!   tenant, the client and the subscription (no secret);
//! - `config/`, the private `AZURE_CONFIG_DIR` (the user's `~/.azure` is left alone), with the
//!   cloud chosen from the authority host in its `config` file when it is not the public one
//!   (`az`'s default);
//! - `login.lock` and `logged-in`: which token file the last login read (its inode, size and
//!   time), so that concurrent `az` calls log in once.
//!
//! The token goes to `az` as `--federated-token @FILE`: the file's name, not the token, is on
//! its command line.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::azure::{AzureConfig, Cloud};
use crate::cli::Ctx;
use crate::cli::wiring::{Run, Wiring};
use crate::{fsutil, outside, vars};

/// The folder of the run that holds it all.
const FOLDER: &str = "azure-cli";
/// What the login needs, written by `exec` for the script.
const LOGIN_FILE: &str = "login.json";
/// How long an `az` waits for another one's login.
const LOGIN_WAIT: Duration = Duration::from_secs(120);

/// What `az-shim` needs to log `az` in.
#[derive(Debug, Serialize, Deserialize)]
struct Login {
    az: PathBuf,
    config_dir: PathBuf,
    token_file: PathBuf,
    tenant_id: String,
    client_id: String,
    subscription_id: Option<String>,
}

/// Puts the login step in front of `az` when it is on the child's `PATH`.
pub(super) fn wire(
    ctx: &Ctx,
    config: &AzureConfig,
    run: &Run,
    wiring: &mut Wiring,
) -> anyhow::Result<()> {
    let path = ctx.env().get_os(vars::PATH).unwrap_or_default();
    let Ok(az) = which::which_in("az", Some(path), ctx.env().cwd()) else {
        return Ok(());
    };
    let dir = run.dir.join(FOLDER);
    let login = Login {
        az,
        config_dir: dir.join("config"),
        token_file: run.token_path.to_path_buf(),
        tenant_id: config.tenant_id.clone(),
        client_id: config.client_id.clone(),
        subscription_id: config.subscription_id.clone(),
    };
    let (Some(script), true) = (script(&dir), utf8(&login)) else {
        crate::log::notice!(
            "the Azure CLI is not logged in for the command: the path of `az`, of this program or of the run's folder is not UTF-8"
        );
        return Ok(());
    };
    write_files(&dir, &login, config.authority.cloud(), &script).with_context(|| {
        format!(
            "cannot prepare the Azure CLI's login in `{}`",
            dir.display()
        )
    })?;
    wiring.set.push((
        vars::AZURE_CONFIG_DIR.to_string(),
        login.config_dir.display().to_string(),
    ));
    wiring.path_first.push(dir.join("bin"));
    Ok(())
}

/// Whether the paths of `login` can be written in its JSON.
fn utf8(login: &Login) -> bool {
    [&login.az, &login.config_dir, &login.token_file]
        .iter()
        .all(|p| p.to_str().is_some())
}

/// The `az` script: this program's `azure az-shim` for the folder `dir`.
fn script(dir: &Path) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    Some(format!(
        "#!/bin/sh\n# Put first on PATH by `vercel-oidc exec`: logs the Azure CLI in with the run's token, then runs it.\nexec {} azure az-shim {} -- \"$@\"\n",
        crate::output::sh_quote(exe.to_str()?),
        crate::output::sh_quote(dir.to_str()?),
    ))
}

fn write_files(
    dir: &Path,
    login: &Login,
    cloud: Option<Cloud>,
    script: &str,
) -> std::io::Result<()> {
    let private = |path: &Path| fs::DirBuilder::new().mode(0o700).create(path);
    private(dir)?;
    private(&dir.join("bin"))?;
    private(&login.config_dir)?;
    if let Some(cloud) = cloud.filter(|c| *c != Cloud::Public) {
        let config = format!("[cloud]\nname = {}\n", cloud.cli_name());
        fsutil::write_private(&login.config_dir.join("config"), config.as_bytes())?;
    }
    let json = serde_json::to_vec(login).expect("strings serialize");
    fsutil::write_private(&dir.join(LOGIN_FILE), &json)?;
    fsutil::write_atomic(&dir.join("bin/az"), script.as_bytes(), 0o700)
}

/// `vercel-oidc azure az-shim DIR -- ARGS…`: logs `az` in if the run's token file changed
/// since the last login, then runs `az ARGS…` in this process's place. A failed login is said
/// on stderr, and `az` runs all the same (commands that need no login still work).
pub(super) fn shim(dir: &Path, args: &[std::ffi::OsString]) -> anyhow::Result<ExitCode> {
    let login = Login::read(dir)?;
    if let Err(e) = login.ensure(dir) {
        eprintln!(
            "vercel-oidc: could not log the Azure CLI in with the run's token: {e:#}\n  check the app's federated credential with `vercel-oidc doctor --azure`, or pass --azure-cli-login off to `exec` to leave `az` alone"
        );
    }
    let err = std::process::Command::new(&login.az).args(args).exec();
    Err(anyhow::anyhow!(
        "cannot run `{}`: {err}",
        login.az.display()
    ))
}

impl Login {
    fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(LOGIN_FILE);
        let raw = fsutil::read_owned(&path, fsutil::limits::CONFIG, 0o077).with_context(|| {
            "this `az` was put on PATH by `vercel-oidc exec`, whose run has ended; run `az` outside it, or inside a new `vercel-oidc exec`"
        })?;
        serde_json::from_slice(&raw)
            .with_context(|| format!("`{}` was not written by vercel-oidc", path.display()))
    }

    /// Logs `az` in unless the last login read the token file as it is now.
    fn ensure(&self, dir: &Path) -> anyhow::Result<()> {
        let lock_path = dir.join("login.lock");
        let lock = fsutil::open_lock_file(&lock_path)?;
        fsutil::wait_for_lock(&lock, &lock_path, LOGIN_WAIT)
            .map_err(|e| anyhow::anyhow!("cannot take `{}`: {e}", lock_path.display()))?;
        let stamp = stamp(&self.token_file)?;
        let stamp_path = dir.join("logged-in");
        if fs::read_to_string(&stamp_path).is_ok_and(|last| last == stamp) {
            return Ok(());
        }
        let federated_token = format!("@{}", self.token_file.display());
        self.az(&[
            "login",
            "--service-principal",
            "--username",
            &self.client_id,
            "--tenant",
            &self.tenant_id,
            "--federated-token",
            &federated_token,
            "--allow-no-subscriptions",
        ])?;
        if let Some(subscription) = &self.subscription_id {
            self.az(&["account", "set", "--subscription", subscription])?;
        }
        crate::log::debug!("logged the Azure CLI in as app {}", self.client_id);
        fsutil::write_private(&stamp_path, stamp.as_bytes())?;
        Ok(())
    }

    /// Runs `az ARGS --output none` in the private config folder; its stderr is the error.
    fn az(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = std::process::Command::new(&self.az)
            .args(args)
            .args(["--output", "none"])
            .env(vars::AZURE_CONFIG_DIR, &self.config_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("cannot run `{}`", self.az.display()))?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = self.without_token(stderr.trim());
        anyhow::bail!(
            "`az {}` failed ({}): {}",
            args[..2].join(" "),
            out.status,
            outside::escaped_within(&stderr, 2000)
        )
    }

    /// `text` with the token, should `az` ever repeat it, cut out.
    fn without_token(&self, text: &str) -> String {
        match fs::read_to_string(&self.token_file) {
            Ok(token) if !token.trim().is_empty() => text.replace(token.trim(), "[redacted]"),
            _ => text.to_string(),
        }
    }
}

/// Which token file is there now: its inode, size and modification time. `exec` renews the file
/// by replacing it, so a renewal changes the inode.
fn stamp(token_file: &Path) -> anyhow::Result<String> {
    let meta = fs::metadata(token_file)
        .with_context(|| format!("cannot read `{}`", token_file.display()))?;
    Ok(format!(
        "{} {} {}.{:09}",
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec()
    ))
}
