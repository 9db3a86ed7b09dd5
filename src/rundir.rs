//! The private directory of one `vercel-oidc exec` run, for the files its child reads (the
//! token, the GCP credential file).
//!
//! Where: `$XDG_RUNTIME_DIR/vercel-oidc/` when `XDG_RUNTIME_DIR` is an absolute path to a
//! directory of the user's that only they can use (as systemd makes it), else `run/` in the
//! cache directory (see [`crate::cache`]); never a shared name in `/tmp`. Each run makes
//! `exec-<random>/` there, 0700, holding `lock`, which the run keeps locked (`flock`) for as
//! long as it lives and removes with the directory when it ends.
//!
//! The lock is inherited by the command `exec` runs (and what it starts), so the directory is
//! held for as long as any process of the run lives, even one orphaned by a killed `exec`.
//!
//! A run killed with `SIGKILL` cannot remove its directory, so each new run first removes every
//! run directory whose lock no process holds and whose time stamp is more than 10 seconds from
//! now (the time a run takes to lock it; a time stamp in the future, left by a clock set back,
//! counts as far), and temporary files of ours left there by killed writers.

use crate::vars;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::env::Env;
use crate::fsutil::{self, DirError, DirRule};

const PREFIX: &str = "exec-";
const LOCK: &str = "lock";

#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error(
        "there is no private directory for this run's files: neither XDG_RUNTIME_DIR nor HOME is set\n  set HOME (or XDG_CACHE_HOME, or VERCEL_OIDC_CACHE_DIR)"
    )]
    NoPlace,
    #[error(
        "will not keep this run's files there: {0}\n  set VERCEL_OIDC_CACHE_DIR to a directory only you can use"
    )]
    Untrusted(DirError),
    #[error("cannot create a private directory for this run's files in `{}`: {error}\n  check that directory's permissions and free space", base.display())]
    Create { base: PathBuf, error: io::Error },
}

/// One run's directory, removed when dropped.
#[derive(Debug)]
pub struct RunDir {
    // Field order: the lock is released before the directory goes.
    _lock: File,
    dir: tempfile::TempDir,
}

impl RunDir {
    /// Removes what killed runs left, then makes this run's directory and locks it.
    pub fn create(env: &Env) -> Result<Self, RunDirError> {
        let base = base_dir(env)?;
        remove_stale_runs(&base);
        let create_error = |error| RunDirError::Create {
            base: base.clone(),
            error,
        };
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(&base)
            .map_err(create_error)?;
        let lock = OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir.path().join(LOCK))
            .map_err(create_error)?;
        lock.lock().map_err(create_error)?;
        inherit(&lock).map_err(create_error)?;
        Ok(Self { _lock: lock, dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Lets the command `exec` starts inherit `file` (and with it the lock).
fn inherit(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this process owns, with flag arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The directory that holds the runs' directories, made and checked.
pub fn base_dir(env: &Env) -> Result<PathBuf, RunDirError> {
    if let Some(runtime) = private_runtime_dir(env) {
        let base = runtime.join("vercel-oidc");
        fsutil::prepare_dir(&base, DirRule::Own).map_err(RunDirError::Untrusted)?;
        return Ok(base);
    }
    let cache = Cache::for_env(env).ok_or(RunDirError::NoPlace)?;
    cache
        .check()
        .map_err(|e| RunDirError::Untrusted(e.into_inner()))?;
    let base = cache.dir().join("run");
    if !cache.dir().exists() {
        fsutil::prepare_dir(cache.dir(), DirRule::Own).map_err(RunDirError::Untrusted)?;
    }
    fsutil::prepare_dir(&base, DirRule::Own).map_err(RunDirError::Untrusted)?;
    Ok(base)
}

/// `XDG_RUNTIME_DIR` when it is absolute and a directory of ours that no one else may use.
fn private_runtime_dir(env: &Env) -> Option<PathBuf> {
    let dir = PathBuf::from(env.get(vars::XDG_RUNTIME_DIR)?);
    let meta = std::fs::metadata(&dir).ok()?;
    let private = dir.is_absolute()
        && meta.is_dir()
        && meta.uid() == fsutil::my_uid()
        && meta.mode() & 0o077 == 0;
    if !private {
        crate::log::debug!(
            "XDG_RUNTIME_DIR `{}` is not a private directory of yours; using the cache directory",
            dir.display()
        );
    }
    private.then_some(dir)
}

/// Removes the run directories in `base` that no live run holds, and stale temporary files.
fn remove_stale_runs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_run = entry.file_name().to_string_lossy().starts_with(PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if is_run && !held(&path) {
            crate::log::debug!(
                "removing `{}`, left by a run that was killed",
                path.display()
            );
            let _ = std::fs::remove_dir_all(&path);
        }
    }
    fsutil::remove_stale_temp_files(base);
}

/// Whether a live run holds the run directory `dir`, or may be about to.
fn held(dir: &Path) -> bool {
    let lock = dir.join(LOCK);
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&lock)
    {
        // Unlocked: a killed run, or one between making its lock and taking it.
        Ok(file) => file.try_lock().is_err() || !fsutil::is_stale_dir(dir),
        // No lock yet: a run that has just made its directory, unless it is old.
        Err(e) if e.kind() == io::ErrorKind::NotFound => !fsutil::is_stale_dir(dir),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes `dir` look a minute old.
    fn age(dir: &Path) {
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        File::open(dir).unwrap().set_modified(old).unwrap();
    }

    /// Dates `dir` a day ahead, as a clock set back leaves it.
    fn date_ahead(dir: &Path) {
        let ahead = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
        File::open(dir).unwrap().set_modified(ahead).unwrap();
    }

    fn env(root: &Path) -> Env {
        Env::from_pairs(
            [(
                vars::XDG_CACHE_HOME,
                root.join("cache").display().to_string(),
            )],
            root,
        )
    }

    #[test]
    fn lives_in_the_cache_directory_and_goes_when_dropped() {
        let root = tempfile::tempdir().unwrap();
        let run = RunDir::create(&env(root.path())).unwrap();
        let base = root.path().join("cache/vercel-oidc/run");
        assert_eq!(run.path().parent().unwrap(), base);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(run.path()), 0o700);
        assert_eq!(mode(&base), 0o700);
        let path = run.path().to_path_buf();
        drop(run);
        assert!(!path.exists());
    }

    #[test]
    fn a_private_runtime_directory_is_preferred() {
        let root = tempfile::tempdir().unwrap();
        let runtime = root.path().join("runtime");
        std::fs::create_dir(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        let with = |mode| {
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(mode)).unwrap();
            let env = Env::from_pairs(
                [
                    (
                        vars::XDG_CACHE_HOME,
                        root.path().join("cache").display().to_string(),
                    ),
                    (vars::XDG_RUNTIME_DIR, runtime.display().to_string()),
                ],
                root.path(),
            );
            base_dir(&env).unwrap()
        };
        assert_eq!(with(0o700), runtime.join("vercel-oidc"));
        assert_eq!(with(0o1777), root.path().join("cache/vercel-oidc/run"));
    }

    #[test]
    fn runs_no_process_holds_are_removed_and_live_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        let env = env(root.path());
        let live = RunDir::create(&env).unwrap();
        let base = live.path().parent().unwrap().to_path_buf();
        // A killed run: its lock file is there, held by no one.
        let dead = base.join("exec-dead");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join(LOCK), "").unwrap();
        std::fs::write(dead.join("token"), "secret").unwrap();
        age(&dead);
        // A killed run dated a day ahead (the clock was set back since).
        let ahead = base.join("exec-ahead");
        std::fs::create_dir(&ahead).unwrap();
        std::fs::write(ahead.join(LOCK), "").unwrap();
        date_ahead(&ahead);
        // A run that has made its lock and not yet taken it: young, so kept.
        let locking = base.join("exec-locking");
        std::fs::create_dir(&locking).unwrap();
        std::fs::write(locking.join(LOCK), "").unwrap();
        // A run that has just made its directory and not yet locked it.
        let young = base.join("exec-young");
        std::fs::create_dir(&young).unwrap();
        let other = base.join("not-a-run");
        std::fs::create_dir(&other).unwrap();
        let next = RunDir::create(&env).unwrap();
        assert!(!dead.exists());
        assert!(!ahead.exists(), "a day ahead is as stale as a day old");
        assert!(live.path().exists());
        assert!(young.exists());
        assert!(locking.exists());
        assert!(other.exists());
        drop(next);
    }
}
