//! Who could have written a file: the rule behind every file this tool trusts, whether it found
//! the file by walking up from the project, was told its path, or wrote it for another program.
//!
//! A file, and every folder from it up to `/`, must belong to a trusted owner and be writable
//! by no one else (OpenSSH's `safe_path` rule, applied to the whole path, since whoever can
//! write any folder on the way can rename what lies below it and put their own in its place):
//!
//! - **Trusted owners** are the current user and root. Two more cases trust the owner of the
//!   starting folder (the working directory, or `--project-dir`), since there the checkout's
//!   owner is already trusted with everything the build runs: a process running as root (a
//!   container over a checkout owned by the uid that cloned it), and a Vercel build (`VERCEL=1`),
//!   whose machine has no other users.
//! - **Writable by no one else**: no write bit for others, unless the folder is sticky (as
//!   `/tmp` is: others may add files there but not rename or remove ours); no write bit for the
//!   group, unless the group is the owner's own (gid equal to the owner's uid, the user private
//!   group that `umask 002` systems give each user).
//! - **Opting in**: `VERCEL_OIDC_SAFE_DIRS`, a `:`-separated list of absolute folders (or `*` for
//!   all), trusts whatever lies in those folders and below them, whoever owns it, as git's
//!   `safe.directory` does. Only the environment can set it; `vercel-oidc.toml` cannot.
//!
//! Writing uses the same walk over the folders above a file ([`check_ancestors`]), with only the
//! current user and root trusted: a file of ours that another program trusts or runs (a GCP
//! credential file, an Azure token file, `~/.aws/config`) is never put where another user could
//! swap a folder above it.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::vars;

/// The effective user id of this process.
pub fn my_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whose files are trusted, and which folders the user vouched for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owners {
    me: u32,
    /// A third trusted owner: the starting folder's, as a root process or in a Vercel build.
    checkout: Option<u32>,
    safe: SafeDirs,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SafeDirs {
    All,
    Listed(Vec<PathBuf>),
}

impl Owners {
    /// The current user and root only: the rule for the files this tool writes.
    pub fn strict() -> Self {
        Self {
            me: my_uid(),
            checkout: None,
            safe: SafeDirs::Listed(Vec::new()),
        }
    }

    /// The owners trusted for files read on behalf of `env` (see the module docs).
    pub fn for_env(env: &Env) -> Self {
        let me = my_uid();
        let checkout = (me == 0 || env.flag(vars::VERCEL))
            .then(|| fs::metadata(env.cwd()).ok().map(|m| m.uid()))
            .flatten()
            .filter(|&uid| uid != me && uid != 0);
        Self {
            me,
            checkout,
            safe: SafeDirs::parse(env.get(vars::VERCEL_OIDC_SAFE_DIRS)),
        }
    }

    fn trusts_uid(&self, uid: u32) -> bool {
        uid == self.me || uid == 0 || Some(uid) == self.checkout
    }

    fn vouched_for(&self, path: &Path) -> bool {
        match &self.safe {
            SafeDirs::All => true,
            SafeDirs::Listed(dirs) => dirs.iter().any(|d| path.starts_with(d)),
        }
    }

    /// Whether a file or folder with metadata `meta` at `path` is one to trust.
    fn check(&self, path: &Path, meta: &fs::Metadata, what: Kind) -> Result<(), Untrusted> {
        if self.vouched_for(path) {
            return Ok(());
        }
        let untrusted = |why| Untrusted {
            path: path.to_path_buf(),
            what,
            owner: meta.uid(),
            mode: meta.mode() & 0o7777,
            why,
        };
        if !self.trusts_uid(meta.uid()) {
            return Err(untrusted(Why::Owner { me: self.me }));
        }
        // A symbolic link's own mode means nothing: only its owner can change it.
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        let mode = meta.mode();
        let sticky = meta.is_dir() && mode & 0o1000 != 0;
        if mode & 0o002 != 0 && !sticky {
            return Err(untrusted(Why::OthersWrite));
        }
        // The owner's own group (`umask 002` with user private groups) adds no writer.
        if mode & 0o020 != 0 && meta.gid() != meta.uid() && !sticky {
            return Err(untrusted(Why::GroupWrite { gid: meta.gid() }));
        }
        Ok(())
    }
}

impl SafeDirs {
    fn parse(value: Option<&str>) -> Self {
        let Some(value) = value else {
            return Self::Listed(Vec::new());
        };
        if value.split(':').any(|d| d.trim() == "*") {
            return Self::All;
        }
        Self::Listed(
            value
                .split(':')
                .map(str::trim)
                .filter(|d| Path::new(d).is_absolute())
                .map(|d| {
                    let d = Path::new(d);
                    d.canonicalize().unwrap_or_else(|_| d.to_path_buf())
                })
                .collect(),
        )
    }
}

/// A file or a folder on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
}

/// Why an owner or a mode makes a path untrusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    Owner { me: u32 },
    OthersWrite,
    GroupWrite { gid: u32 },
}

/// A file, or a folder above it, that someone else could have written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct Untrusted {
    /// The file or folder at fault.
    pub path: PathBuf,
    pub what: Kind,
    pub owner: u32,
    pub mode: u32,
    pub why: Why,
}

impl Untrusted {
    /// `` `/tmp/vercel-oidc.toml` belongs to uid 1001, not to you (uid 1000) or root ``.
    pub fn describe(&self) -> String {
        let path = shown(&self.path);
        let what = match self.what {
            Kind::File => "",
            Kind::Folder => "the folder ",
        };
        match self.why {
            Why::Owner { me } => format!(
                "{what}`{path}` belongs to uid {}, not to you (uid {me}) or root",
                self.owner
            ),
            Why::OthersWrite => format!(
                "{what}`{path}` may be written by other users (mode {:04o})",
                self.mode
            ),
            Why::GroupWrite { gid } => format!(
                "{what}`{path}` may be written by group {gid} (mode {:04o})",
                self.mode
            ),
        }
    }

    /// How to trust it: make it yours, close its mode, or vouch for its folder.
    pub fn fix(&self) -> String {
        let folder = match self.what {
            Kind::Folder => self.path.clone(),
            Kind::File => self
                .path
                .parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
        };
        match self.why {
            Why::Owner { .. } => format!(
                "if you trust uid {}, set {}={}",
                self.owner,
                vars::VERCEL_OIDC_SAFE_DIRS,
                shown(&folder)
            ),
            Why::OthersWrite | Why::GroupWrite { .. } => format!(
                "make it writable by its owner alone (`chmod go-w {}`), or set {}={}",
                shown(&self.path),
                vars::VERCEL_OIDC_SAFE_DIRS,
                shown(&folder)
            ),
        }
    }
}

/// Checks the file at `path` (followed through symlinks) and every folder above it, and above
/// the link itself when `path` is one. The file must exist; what is not a regular file passes
/// here, to be refused by the reader.
pub fn check_file(path: &Path, owners: &Owners) -> Result<(), CheckError> {
    let link_meta = fs::symlink_metadata(path).map_err(|e| CheckError::Io(path.into(), e))?;
    if link_meta.file_type().is_symlink() {
        check_ancestors(path, owners)?;
        owners.check(path, &link_meta, Kind::File)?;
    }
    let real = path
        .canonicalize()
        .map_err(|e| CheckError::Io(path.into(), e))?;
    check_ancestors(&real, owners)?;
    let meta = fs::metadata(&real).map_err(|e| CheckError::Io(real.clone(), e))?;
    // What is not a regular file is never read: the reader refuses it in its own words.
    if !meta.is_file() {
        return Ok(());
    }
    Ok(owners.check(&real, &meta, Kind::File)?)
}

/// Checks every existing folder above `path` up to `/`, after resolving symlinks in them.
pub fn check_ancestors(path: &Path, owners: &Owners) -> Result<(), CheckError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    // The nearest folder that exists: a missing one is made by us, 0700.
    let existing = parent.ancestors().find(|d| d.exists()).unwrap_or(parent);
    let real = existing
        .canonicalize()
        .map_err(|e| CheckError::Io(existing.into(), e))?;
    for dir in real.ancestors() {
        let meta = fs::metadata(dir).map_err(|e| CheckError::Io(dir.into(), e))?;
        owners.check(dir, &meta, Kind::Folder)?;
    }
    Ok(())
}

/// Why a path could not be checked, or was found untrusted.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Untrusted(#[from] Untrusted),
    #[error("cannot inspect `{path}`: {error}", path = shown(.0), error = .1)]
    Io(PathBuf, std::io::Error),
}

/// A path as shown in a message: control and invisible characters as visible escapes.
pub(crate) fn shown(path: &Path) -> String {
    crate::outside::escaped(&path.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn set_mode(p: &Path, mode: u32) {
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn untrusted(path: &Path, owners: &Owners) -> Option<Untrusted> {
        match check_file(path, owners) {
            Ok(()) => None,
            Err(CheckError::Untrusted(u)) => Some(u),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn files_of_mine_in_closed_folders_are_trusted() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("f");
        fs::write(&file, "x").unwrap();
        set_mode(&file, 0o644);
        assert_eq!(untrusted(&file, &Owners::strict()), None);
    }

    #[test]
    fn a_loose_file_or_folder_on_the_way_is_named() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("open");
        fs::create_dir(&dir).unwrap();
        let file = dir.join("f");
        fs::write(&file, "x").unwrap();
        set_mode(&file, 0o666);
        let u = untrusted(&file, &Owners::strict()).unwrap();
        assert_eq!(
            (u.path.as_path(), u.why),
            (file.as_path(), Why::OthersWrite)
        );
        set_mode(&file, 0o644);
        set_mode(&dir, 0o777);
        let u = untrusted(&file, &Owners::strict()).unwrap();
        assert_eq!((u.what, u.why), (Kind::Folder, Why::OthersWrite));
        assert_eq!(u.path, dir.canonicalize().unwrap());
        set_mode(&dir, 0o1777);
        assert_eq!(untrusted(&file, &Owners::strict()), None, "sticky");
    }

    #[test]
    fn a_symlink_is_checked_at_both_ends() {
        let root = tempfile::tempdir().unwrap();
        let open = root.path().join("open");
        fs::create_dir(&open).unwrap();
        set_mode(&open, 0o777);
        let target = open.join("t");
        fs::write(&target, "x").unwrap();
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let u = untrusted(&link, &Owners::strict()).unwrap();
        assert_eq!(u.path, open.canonicalize().unwrap());
    }

    #[test]
    fn safe_dirs_vouch_for_what_is_below_them() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("f");
        fs::write(&file, "x").unwrap();
        set_mode(&file, 0o666);
        let real = root.path().canonicalize().unwrap();
        let env = Env::from_pairs(
            [(
                vars::VERCEL_OIDC_SAFE_DIRS,
                format!("/nowhere:{}", real.display()),
            )],
            "/",
        );
        assert_eq!(untrusted(&file, &Owners::for_env(&env)), None);
        let all = Env::from_pairs([(vars::VERCEL_OIDC_SAFE_DIRS, "*")], "/");
        assert_eq!(untrusted(&file, &Owners::for_env(&all)), None);
        let relative = Env::from_pairs([(vars::VERCEL_OIDC_SAFE_DIRS, "tmp")], "/");
        assert!(untrusted(&file, &Owners::for_env(&relative)).is_some());
    }

    #[test]
    fn other_owners_are_trusted_only_as_the_checkout_of_root() {
        if my_uid() != 0 {
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let checkout = root.path().join("checkout");
        fs::create_dir(&checkout).unwrap();
        std::os::unix::fs::chown(&checkout, Some(4242), Some(4242)).unwrap();
        let file = checkout.join("f");
        fs::write(&file, "x").unwrap();
        std::os::unix::fs::chown(&file, Some(4242), Some(4242)).unwrap();
        let u = untrusted(&file, &Owners::strict()).unwrap();
        assert_eq!(u.why, Why::Owner { me: 0 });
        assert_eq!(
            u.to_string(),
            format!(
                "the folder `{}` belongs to uid 4242, not to you (uid 0) or root",
                checkout.canonicalize().unwrap().display()
            )
        );
        let env = Env::from_pairs([("X", "1")], &checkout);
        assert_eq!(untrusted(&file, &Owners::for_env(&env)), None);
        // Another user's file in root's own folder is still refused.
        let elsewhere = Env::from_pairs([("X", "1")], root.path());
        assert!(untrusted(&file, &Owners::for_env(&elsewhere)).is_some());
    }
}
