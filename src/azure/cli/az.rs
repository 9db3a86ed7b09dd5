//! The Azure CLI in `vercel-oidc exec`. `az` reads none of the workload identity variables: it
//! must be logged in (`az login --service-principal --federated-token`), and then keeps the
//! token it was given and never reads the file again. So, when `az` is on `PATH` and the
//! authority is one of Azure's clouds, `exec` puts a folder of the run first on the child's
//! `PATH` holding an `az` of its own: a two-line script that runs `vercel-oidc azure az-shim`
//! ([`shim`]), which logs the real `az` in before its first use and again after the run's token
//! file is renewed, then becomes it. Nothing is done for a command that never runs `az`, so a
//! build that does not use it pays nothing.
//!
//! The run's folder (0700, removed with the run) holds, under `azure-cli/`:
//! - `bin/az`, the script;
//! - `login.json`, what the login needs: the config folder, the token file, the tenant, the
//!   client and the subscription (no secret);
//! - `config/`, the private `AZURE_CONFIG_DIR` (the user's `~/.azure` is left alone), with the
//!   cloud chosen from the authority host in its `config` file when it is not the public one
//!   (`az`'s default);
//! - `login.lock` and `logged-in`: which token file the last login read (its inode, size and
//!   time), so that concurrent `az` calls log in once.
//!
//! The token goes to `az` as `--federated-token @FILE`: the file's name, not the token, is on
//! its command line. A login or a choice of subscription that fails leaves `az` logged out and
//! is not followed by the command: an `az` on the wrong subscription, or on the token before
//! the renewal, must not go on as if nothing happened.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::azure::{AzureConfig, Cloud};
use crate::cli::Ctx;
use crate::cli::wiring::{Run, Wiring};
use crate::fsutil::{self, limits};
use crate::{outside, vars};

/// The folder of the run that holds it all.
const FOLDER: &str = "azure-cli";
/// What the login needs, written by `exec` for the script.
const LOGIN_FILE: &str = "login.json";
/// The file in the config folder that says which cloud `az` is on.
const CLOUD_FILE: &str = "config";
/// How long an `az` waits for another one's login.
const LOGIN_WAIT: Duration = Duration::from_secs(120);

/// What `az-shim` needs to log `az` in.
#[derive(Debug, Serialize, Deserialize)]
struct Login {
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
    if which::which_in("az", Some(path), ctx.env().cwd()).is_err() {
        return Ok(());
    }
    let Some(cloud) = config.authority.cloud() else {
        crate::log::warn(&format!(
            "the Azure CLI is not logged in for the command: `{}` is not the authority host of one of Azure's clouds, and `az` would send the token to its cloud's own\n  pass --azure-cli-login off to say nothing of it",
            config.authority.as_str()
        ));
        return Ok(());
    };
    let dir = run.dir.join(FOLDER);
    let login = Login {
        config_dir: dir.join("config"),
        token_file: run.token_path.to_path_buf(),
        tenant_id: config.tenant_id.clone(),
        client_id: config.client_id.clone(),
        subscription_id: config.subscription_id.clone(),
    };
    let Some(script) = script(&dir).filter(|_| paths_usable(&login, &dir)) else {
        crate::log::warn(&format!(
            "the Azure CLI is not logged in for the command: the path of this program or of the run's folder `{}` is not UTF-8 or holds `:`\n  set VERCEL_OIDC_CACHE_DIR to a plainer folder, or pass --azure-cli-login off",
            dir.display()
        ));
        return Ok(());
    };
    write_files(&dir, &login, cloud, &script).with_context(|| {
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

/// Whether the paths of `login` can be written in its JSON, and `dir`'s `bin` put on `PATH`.
fn paths_usable(login: &Login, dir: &Path) -> bool {
    [&login.config_dir, &login.token_file]
        .iter()
        .all(|p| p.to_str().is_some())
        && std::env::join_paths([dir.join("bin")]).is_ok()
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

fn write_files(dir: &Path, login: &Login, cloud: Cloud, script: &str) -> std::io::Result<()> {
    let private = |path: &Path| fs::DirBuilder::new().mode(0o700).create(path);
    private(dir)?;
    private(&dir.join("bin"))?;
    private(&login.config_dir)?;
    if cloud != Cloud::Public {
        let config = format!("[cloud]\nname = {}\n", cloud.cli_name());
        fsutil::write_private(&login.config_dir.join(CLOUD_FILE), config.as_bytes())?;
    }
    let json = serde_json::to_vec(login).expect("strings serialize");
    fsutil::write_private(&dir.join(LOGIN_FILE), &json)?;
    fsutil::write_atomic(&dir.join("bin/az"), script.as_bytes(), 0o700)
}

/// `vercel-oidc azure az-shim DIR -- ARGS…`, run by the script before the environment and the
/// settings are read (the command's environment is its own): logs `az` in if the run's token
/// file changed since the last login, then runs `az ARGS…` in this process's place.
pub(super) fn shim(args: &[OsString]) -> ExitCode {
    let err = match args {
        [dir, dashes, rest @ ..] if dashes == "--" => run_shim(Path::new(dir), rest),
        _ => anyhow::anyhow!(
            "`azure az-shim` takes the run's folder, `--` and `az`'s arguments\n  it is run by the `az` that `vercel-oidc exec` puts on PATH, not by hand"
        ),
    };
    eprintln!(
        "vercel-oidc: error: {}",
        outside::escaped_lines(&format!("{err:#}"))
    );
    ExitCode::FAILURE
}

/// Logs in when needed and becomes `az`; returns only what stopped it.
fn run_shim(dir: &Path, args: &[OsString]) -> anyhow::Error {
    let login = match Login::read(dir) {
        Ok(login) => login,
        Err(e) => return e,
    };
    let az = match real_az(dir) {
        Ok(az) => az,
        Err(e) => return e,
    };
    // A command that chose its own config folder manages `az` itself.
    let own_config = std::env::var_os(vars::AZURE_CONFIG_DIR).is_none_or(|d| d == login.config_dir);
    if own_config && let Err(e) = login.ensure(dir, &az) {
        return e;
    }
    let err = std::process::Command::new(&az).args(args).exec();
    anyhow::anyhow!("cannot run `{}`: {err}", az.display())
}

/// The first `az` on `PATH` after the run's own folder: the one the command would have run.
fn real_az(dir: &Path) -> anyhow::Result<PathBuf> {
    let ours = dir.join("bin");
    let path = std::env::var_os(vars::PATH).unwrap_or_default();
    let rest = std::env::join_paths(std::env::split_paths(&path).filter(|p| *p != ours))?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    which::which_in("az", Some(rest), cwd).map_err(|_| {
        anyhow::anyhow!(
            "`az` is not on PATH any more (after `{}`)\n  install the Azure CLI, or run the command without it",
            ours.display()
        )
    })
}

impl Login {
    fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(LOGIN_FILE);
        let raw = fsutil::read_owned(&path, limits::CONFIG, 0o077).with_context(|| {
            "this `az` was put on PATH by `vercel-oidc exec`, whose run has ended; run `az` outside it, or inside a new `vercel-oidc exec`"
        })?;
        serde_json::from_slice(&raw)
            .with_context(|| format!("`{}` was not written by vercel-oidc", path.display()))
    }

    /// Logs `az` in unless the last login read the token file as it is now. A failure leaves
    /// it logged out.
    fn ensure(&self, dir: &Path, az: &Path) -> anyhow::Result<()> {
        let lock_path = dir.join("login.lock");
        let lock = fsutil::open_lock_file(&lock_path)?;
        wait_for_login(&lock, &lock_path)?;
        let stamp = stamp(&self.token_file)?;
        let stamp_path = dir.join("logged-in");
        let last = fsutil::read_owned(&stamp_path, limits::CACHE_ENTRY, 0o077);
        if last.is_ok_and(|last| last == stamp.as_bytes()) {
            return Ok(());
        }
        let _ = fs::remove_file(&stamp_path);
        // Read once, to cut it out of what `az` says, should it ever repeat it.
        let token = fsutil::read_capped(&self.token_file, limits::TOKEN)
            .map(|t| String::from_utf8_lossy(&t).trim().to_string())?;
        if let Err(e) = self.log_in(az, &token) {
            self.log_out();
            return Err(e);
        }
        crate::log::debug!("logged the Azure CLI in as app {}", self.client_id);
        fsutil::write_private(&stamp_path, stamp.as_bytes())?;
        Ok(())
    }

    fn log_in(&self, az: &Path, token: &str) -> anyhow::Result<()> {
        let federated_token = format!("@{}", self.token_file.display());
        let args = [
            "login",
            "--service-principal",
            "--username",
            &self.client_id,
            "--tenant",
            &self.tenant_id,
            "--federated-token",
            &federated_token,
            "--allow-no-subscriptions",
        ];
        self.az(az, &args, token).map_err(|e| {
            anyhow::anyhow!(
                "could not log the Azure CLI in with the run's token, so `az` was not run: {e}\n  check the app's federated credential with `vercel-oidc doctor --azure`, or pass --azure-cli-login off to `exec` to leave `az` alone"
            )
        })?;
        let Some(subscription) = &self.subscription_id else {
            return Ok(());
        };
        self.az(az, &["account", "set", "--subscription", subscription], token)
            .map_err(|e| {
                anyhow::anyhow!(
                    "could not choose the subscription `{subscription}` for the Azure CLI, so `az` was not run: {e}\n  check the subscription id (--subscription-id, AZURE_SUBSCRIPTION_ID), and that the app has a role on that subscription"
                )
            })
    }

    /// Runs `az ARGS --output none` in the private config folder; its stderr is the error.
    fn az(&self, az: &Path, args: &[&str], token: &str) -> anyhow::Result<()> {
        let mut command = std::process::Command::new(az);
        command
            .args(args)
            .args(["--output", "none"])
            .env(vars::AZURE_CONFIG_DIR, &self.config_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        end_with_this_process(&mut command);
        let out = command
            .output()
            .with_context(|| format!("cannot run `{}`", az.display()))?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = if token.is_empty() {
            stderr.trim().to_string()
        } else {
            stderr.trim().replace(token, "[redacted]")
        };
        anyhow::bail!(
            "`az {}` failed ({}): {}",
            args[..2].join(" "),
            out.status,
            outside::escaped_within(&stderr, 2000)
        )
    }

    /// Empties the config folder but for its cloud: `az` is logged out.
    fn log_out(&self) {
        let Ok(entries) = fs::read_dir(&self.config_dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name() == CLOUD_FILE {
                continue;
            }
            let path = entry.path();
            let _ = match entry.file_type() {
                Ok(t) if t.is_dir() => fs::remove_dir_all(&path),
                _ => fs::remove_file(&path),
            };
        }
    }
}

/// Waits, quietly, for another `az` of the run that is logging in.
fn wait_for_login(lock: &fs::File, path: &Path) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) if start.elapsed() < LOGIN_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another `az` of this run has been logging in for {} seconds (it holds `{}`), so `az` was not run\n  end the `az login` that hangs, or pass --azure-cli-login off to `exec`",
                LOGIN_WAIT.as_secs(),
                path.display()
            ),
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock `{}`", path.display()));
            }
        }
    }
}

/// On Linux, the login ends with the `az` that started it (ended by a signal `exec` forwarded),
/// rather than finishing into a run folder already removed.
fn end_with_this_process(command: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe, and this closure touches nothing else.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
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
