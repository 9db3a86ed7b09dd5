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
            SafeDirs::Listed(dirs) if dirs.is_empty() => false,
            // The listed folders are resolved; so is the path, when it was not already.
            SafeDirs::Listed(dirs) => {
                let within = |p: &Path| dirs.iter().any(|d| p.starts_with(d));
                within(path) || path.canonicalize().is_ok_and(|p| within(&p))
            }
        }
    }

    /// Whether what `meta` describes at `path` belongs to a trusted owner, its mode aside.
    pub fn check_owner(&self, path: &Path, meta: &fs::Metadata) -> Result<(), Untrusted> {
        if self.trusts_uid(meta.uid()) || self.vouched_for(path) {
            return Ok(());
        }
        Err(Untrusted {
            path: path.to_path_buf(),
            what: Kind::File,
            owner: meta.uid(),
            mode: meta.mode() & 0o7777,
            why: Why::Owner { me: self.me },
        })
    }

    /// Whether a file or folder with metadata `meta` at `path` is one to trust.
    fn check(&self, path: &Path, meta: &fs::Metadata, what: Kind) -> Result<(), Untrusted> {
        let untrusted = |why| Untrusted {
            path: path.to_path_buf(),
            what,
            owner: meta.uid(),
            mode: meta.mode() & 0o7777,
            why,
        };
        // Vouched for: whoever owns it and whatever its mode (a CI checkout cloned with
        // `umask 0000` is 0777 throughout).
        if self.vouched_for(path) {
            return Ok(());
        }
        if !self.trusts_uid(meta.uid()) {
            return Err(untrusted(Why::Owner { me: self.me }));
        }
        // A symbolic link's own mode means nothing: only its owner can change it.
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        match writers(path, meta) {
            Some(why) => Err(untrusted(why)),
            None => Ok(()),
        }
    }
}

/// Who besides the owner may write what `meta` describes, if anyone: the one rule for a file or
/// folder of ours or one we read. Others' write bit counts unless on a sticky folder (where they
/// may add files but not rename or remove ours); the group's counts unless the group is the
/// owner's own (gid equal to the owner's uid: the user private group that `umask 002` systems
/// give each user) or the folder is sticky.
pub fn writers(path: &Path, meta: &fs::Metadata) -> Option<Why> {
    let mode = meta.mode();
    let sticky = meta.is_dir() && mode & 0o1000 != 0;
    if sticky {
        return None;
    }
    if mode & 0o002 != 0 {
        return Some(Why::OthersWrite);
    }
    // With an access control list the group bits are its mask, not the group: anyone it names
    // may write.
    if mode & 0o020 != 0 && (meta.gid() != meta.uid() || has_acl(path)) {
        return Some(Why::GroupWrite { gid: meta.gid() });
    }
    None
}

/// Whether `path` (not followed if it is a link) carries a POSIX access control list.
#[cfg(target_os = "linux")]
fn has_acl(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return true;
    };
    // SAFETY: both strings are NUL-terminated; a null buffer of size 0 asks for the size only.
    let size = unsafe {
        libc::lgetxattr(
            c_path.as_ptr(),
            c"system.posix_acl_access".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    size >= 0
}

#[cfg(not(target_os = "linux"))]
fn has_acl(_path: &Path) -> bool {
    false
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    Owner {
        me: u32,
    },
    OthersWrite,
    GroupWrite {
        gid: u32,
    },
    /// The path could not be checked (the reason): it is not trusted either.
    Unverified(String),
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
    /// `path` (a file or a folder above it) could not be checked, for `reason`.
    pub fn unverified(path: &Path, reason: String) -> Self {
        Self {
            path: path.to_path_buf(),
            what: Kind::File,
            owner: 0,
            mode: 0,
            why: Why::Unverified(reason),
        }
    }

    /// `` `/tmp/vercel-oidc.toml` belongs to uid 1001, not to you (uid 1000) or root ``.
    pub fn describe(&self) -> String {
        let what = match self.what {
            Kind::File => "",
            Kind::Folder => "the folder ",
        };
        self.describe_as(&format!("{what}`{}`", shown(&self.path)))
    }

    /// [`Untrusted::describe`] of a file already named: `it belongs to uid 1001, …` when the
    /// fault is `file` itself, the full description when it is a folder above.
    pub fn describe_for(&self, file: &Path) -> String {
        if self.path == file {
            self.describe_as("it")
        } else {
            self.describe()
        }
    }

    fn describe_as(&self, subject: &str) -> String {
        match &self.why {
            Why::Owner { me } => format!(
                "{subject} belongs to uid {}, not to you (uid {me}) or root",
                self.owner
            ),
            Why::OthersWrite => format!(
                "{subject} may be written by other users (mode {:04o})",
                self.mode
            ),
            Why::GroupWrite { gid } => format!(
                "{subject} may be written by group {gid} (mode {:04o})",
                self.mode
            ),
            Why::Unverified(reason) => format!("{subject} cannot be checked ({reason})"),
        }
    }

    /// The owner of the file or folder at fault; `None` when it could not be checked.
    pub fn known_owner(&self) -> Option<u32> {
        (!matches!(self.why, Why::Unverified(_))).then_some(self.owner)
    }

    /// How to trust it: close its mode, or vouch for its owner's folder; never a folder that
    /// others share, where vouching would trust every neighbour.
    pub fn fix(&self) -> String {
        let folder = match self.what {
            Kind::Folder => self.path.clone(),
            Kind::File => self
                .path
                .parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
        };
        let vouch = format!(
            "where no other user can reach these files (a CI container), set {}={}",
            vars::VERCEL_OIDC_SAFE_DIRS,
            shown(&folder)
        );
        match &self.why {
            Why::Owner { .. } if is_shared(&folder) => format!(
                "it is not yours and lies in `{}`, which others share: delete it if you did not put it there, and keep your own files in a folder only you can write",
                shown(&folder)
            ),
            Why::Owner { .. } => format!(
                "if you trust uid {}, set {}={}",
                self.owner,
                vars::VERCEL_OIDC_SAFE_DIRS,
                shown(&folder)
            ),
            Why::OthersWrite | Why::GroupWrite { .. } if is_shared(&folder) => format!(
                "make it writable by its owner alone (`chmod go-w {}`)",
                shown(&self.path)
            ),
            Why::OthersWrite | Why::GroupWrite { .. } => format!(
                "make it writable by its owner alone (`chmod go-w {}`), or, {vouch}",
                shown(&self.path)
            ),
            Why::Unverified(_) => "check the path and the folders above it".into(),
        }
    }
}

/// A folder every user may add files to by design: sticky and writable by others (`/tmp`).
/// Vouching for one would trust every neighbour, so no message suggests it.
fn is_shared(folder: &Path) -> bool {
    fs::metadata(folder).is_ok_and(|m| m.mode() & 0o1002 == 0o1002)
}

/// Checks where the name `path` lives before it is opened: every folder above it, and the link
/// itself when it is one (a link's target is checked once open, by [`check_opened`]). A missing
/// path is `Io` with `NotFound`.
pub fn check_name(path: &Path, owners: &Owners) -> Result<(), CheckError> {
    let link_meta = fs::symlink_metadata(path).map_err(|e| CheckError::Io(path.into(), e))?;
    check_ancestors(path, owners)?;
    if link_meta.file_type().is_symlink() {
        owners.check(path, &link_meta, Kind::File)?;
    }
    Ok(())
}

/// Checks a file already open (its metadata `meta`, opened as `path`): where it really is (found
/// from the open handle, not from the name, so that a rename after the open changes nothing),
/// every folder above that place, and the file itself. Whatever cannot be checked is untrusted.
pub fn check_opened(
    file: &fs::File,
    meta: &fs::Metadata,
    path: &Path,
    owners: &Owners,
) -> Result<(), Untrusted> {
    let unverified = |reason: String| Untrusted {
        path: path.to_path_buf(),
        what: Kind::File,
        owner: meta.uid(),
        mode: meta.mode() & 0o7777,
        why: Why::Unverified(reason),
    };
    let real = real_path(file, path).map_err(|e| unverified(e.to_string()))?;
    let named = fs::metadata(&real).map_err(|e| unverified(e.to_string()))?;
    if (named.dev(), named.ino()) != (meta.dev(), meta.ino()) {
        return Err(unverified("it was moved while it was read".into()));
    }
    check_ancestors(&real, owners).map_err(|e| match e {
        CheckError::Untrusted(u) => u,
        CheckError::Io(_, error) => unverified(error.to_string()),
    })?;
    owners.check(&real, meta, Kind::File)
}

/// Where an open file is: the kernel's name for its descriptor where there is one (Linux's
/// `/proc/self/fd`), else the path with its links resolved.
fn real_path(file: &fs::File, path: &Path) -> std::io::Result<PathBuf> {
    use std::os::fd::AsRawFd;
    let by_fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    match fs::read_link(&by_fd) {
        Ok(real) if real.is_absolute() => Ok(real),
        _ => path.canonicalize(),
    }
}

/// Checks every existing folder above `path` up to `/`, after resolving symlinks in them.
pub fn check_ancestors(path: &Path, owners: &Owners) -> Result<(), CheckError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    // `path` itself too, when it is a link: whoever owns it decides where it leads.
    check_links(path, owners, MAX_LINKS)?;
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

/// How many links a path may go through, as the kernel allows.
const MAX_LINKS: u32 = 40;

/// Every link among `dir` and the folders above it, as they are named (before any is
/// resolved), and every link on the way to where each leads, belongs to a trusted owner:
/// whoever owns a link decides where it leads, whatever lies there now.
fn check_links(dir: &Path, owners: &Owners, hops: u32) -> Result<(), CheckError> {
    for at in dir.ancestors() {
        let meta = match fs::symlink_metadata(at) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(CheckError::Io(at.into(), e)),
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        owners.check(at, &meta, Kind::Folder)?;
        if hops == 0 {
            return Err(Untrusted::unverified(at, "too many links on the way".into()).into());
        }
        let target = fs::read_link(at).map_err(|e| CheckError::Io(at.into(), e))?;
        let target = at.parent().map_or(target.clone(), |p| p.join(&target));
        check_links(&target, owners, hops - 1)?;
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

    /// The file `f` in `dir`, written with `mode`.
    fn file_in(dir: &Path, mode: u32) -> PathBuf {
        let file = dir.join("f");
        fs::write(&file, "x").unwrap();
        set_mode(&file, mode);
        file
    }

    fn untrusted(path: &Path, owners: &Owners) -> Option<Untrusted> {
        use crate::fsutil::{Refused, limits, read_checked};
        match read_checked(path, limits::CONFIG, owners) {
            Ok(_) => None,
            Err(Refused::Untrusted(u)) => Some(u),
            Err(Refused::Read(e)) => panic!("{e}"),
        }
    }

    #[test]
    fn files_of_mine_in_closed_folders_are_trusted() {
        let root = tempfile::tempdir().unwrap();
        let file = file_in(root.path(), 0o644);
        assert_eq!(untrusted(&file, &Owners::strict()), None);
    }

    #[test]
    fn a_loose_file_or_folder_on_the_way_is_named() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("open");
        fs::create_dir(&dir).unwrap();
        let file = file_in(&dir, 0o666);
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
        let file = file_in(root.path(), 0o666);
        let real = root.path().canonicalize().unwrap();
        let listed = Env::from_pairs(
            [(
                vars::VERCEL_OIDC_SAFE_DIRS,
                format!("/nowhere:{}", real.display()),
            )],
            "/",
        );
        let all = Env::from_pairs([(vars::VERCEL_OIDC_SAFE_DIRS, "*")], "/");
        let relative = Env::from_pairs([(vars::VERCEL_OIDC_SAFE_DIRS, "tmp")], "/");
        // A checkout cloned with `umask 0000` in a CI container: vouched for, mode and all.
        assert_eq!(untrusted(&file, &Owners::for_env(&listed)), None);
        assert_eq!(untrusted(&file, &Owners::for_env(&all)), None);
        let u = untrusted(&file, &Owners::for_env(&relative)).unwrap();
        assert_eq!(u.why, Why::OthersWrite);
        assert_eq!(
            u.fix(),
            format!(
                "make it writable by its owner alone (`chmod go-w {0}`), or, where no other user can reach these files (a CI container), set VERCEL_OIDC_SAFE_DIRS={1}",
                file.display(),
                root.path().display()
            )
        );
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
