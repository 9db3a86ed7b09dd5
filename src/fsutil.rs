//! Files from outside and private files of ours.
//!
//! Reading: every file is read with a size cap suited to what it holds ([`limits`]), and only
//! when it is a regular file; a FIFO or device is refused without blocking on it (it is opened
//! with `O_NONBLOCK`). Files we wrote ourselves and later trust (cache entries, the stored
//! Vercel token) are opened without following symlinks and served only when they are regular
//! files owned by the current user that no one else may write ([`read_trusted`]).
//!
//! Writing: 0600 in a 0700 directory, written to a temporary file beside the target and
//! renamed over it, so a reader sees the old content or the new, never half of either. A file
//! that other processes of ours may edit at once is edited under [`FileLock::beside`] it. A
//! wait for a lock of ours that another process holds is said on stderr after a second, naming
//! that process ([`wait_for_lock`]).

// Some of this serves only the command line (the files configure and exec write).
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A size cap for one kind of input, with the words that name it in an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub bytes: u64,
    pub what: &'static str,
}

/// The cap for each kind of input this tool reads. Each is far above any real value and far
/// below what would hurt.
pub mod limits {
    use super::Limit;

    /// A Vercel OIDC token (about 1 KiB) in a token file.
    pub const TOKEN: Limit = Limit {
        bytes: 64 * 1024,
        what: "a token file",
    };
    /// An inline session policy (`--policy @file`); STS takes at most 2,048 packed characters.
    pub const POLICY: Limit = Limit {
        bytes: 64 * 1024,
        what: "a policy file",
    };
    /// A settings file: `vercel-oidc.toml`, `.env.local`, `~/.aws/config`, a GCP credential
    /// file, the Vercel CLI's login.
    pub const CONFIG: Limit = Limit {
        bytes: 1024 * 1024,
        what: "a settings file",
    };
    /// A cache entry or the stored Vercel token, both written by us.
    pub const CACHE_ENTRY: Limit = Limit {
        bytes: 64 * 1024,
        what: "a cache entry",
    };
    /// A certificate bundle (`SSL_CERT_FILE`); the Mozilla bundle is about 220 KiB.
    pub const CERT_FILE: Limit = Limit {
        bytes: 8 * 1024 * 1024,
        what: "a certificate file",
    };
    /// Standard input read as one value (`verify`).
    pub const STDIN: Limit = Limit {
        bytes: 64 * 1024,
        what: "standard input",
    };
    /// The body of an HTTP response from a cloud or from Vercel.
    pub const HTTP_BODY: Limit = Limit {
        bytes: 1024 * 1024,
        what: "an HTTP response",
    };
}

/// Why a file could not be read. Display names the path and what is wrong with it; the caller
/// adds what the file was for and what to do.
#[derive(Debug)]
pub enum ReadError {
    NotFound { path: PathBuf },
    NotRegular { path: PathBuf, kind: &'static str },
    TooLarge { path: PathBuf, limit: Limit },
    Symlink { path: PathBuf },
    NotOwned { path: PathBuf, owner: u32, me: u32 },
    OthersMayWrite { path: PathBuf, mode: u32 },
    Io { path: PathBuf, error: io::Error },
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// What is wrong, without the path, for a message that names the file already:
    /// `it is a FIFO, not a regular file`.
    pub fn reason(&self) -> String {
        match self {
            Self::Io { error, .. } => error.to_string(),
            other => format!("it {}", other.predicate()),
        }
    }

    fn path(&self) -> &Path {
        match self {
            Self::NotFound { path }
            | Self::NotRegular { path, .. }
            | Self::TooLarge { path, .. }
            | Self::Symlink { path }
            | Self::NotOwned { path, .. }
            | Self::OthersMayWrite { path, .. }
            | Self::Io { path, .. } => path,
        }
    }

    /// What is said of the file: `is a FIFO, not a regular file`.
    fn predicate(&self) -> String {
        match self {
            Self::NotFound { .. } => "does not exist".into(),
            Self::NotRegular { kind, .. } => format!("is {kind}, not a regular file"),
            Self::TooLarge { limit, .. } => format!(
                "is larger than {}, the limit for {}",
                human_bytes(limit.bytes),
                limit.what
            ),
            Self::Symlink { .. } => "is a symbolic link, which is not followed here".into(),
            Self::NotOwned { owner, me, .. } => {
                format!("belongs to uid {owner}, not to you (uid {me})")
            }
            Self::OthersMayWrite { mode, .. } => {
                format!("may be written by others (mode {mode:04o})")
            }
            Self::Io { error, .. } => format!("cannot be read: {error}"),
        }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io { path, error } => write!(
                f,
                "cannot read `{}`: {error}",
                crate::ownership::shown(path)
            ),
            other => write!(
                f,
                "`{}` {}",
                crate::ownership::shown(other.path()),
                other.predicate()
            ),
        }
    }
}

// The message already holds the cause; no `source`, so that `{:#}` does not repeat it.
impl std::error::Error for ReadError {}

/// `1 MiB`, `64 KiB`, `512 bytes`.
pub fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1024 * 1024 && n % (1024 * 1024) == 0 => format!("{} MiB", n / (1024 * 1024)),
        n if n >= 1024 && n % 1024 == 0 => format!("{} KiB", n / 1024),
        n => format!("{n} bytes"),
    }
}

pub use crate::ownership::my_uid;

/// Reads `path` whole if it is a regular file of at most `limit` bytes. Symlinks are followed;
/// a FIFO, socket or device is refused without waiting on it.
pub fn read_capped(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let (file, _) = open_regular(path, false)?;
    read_to_limit(file, path, limit)
}

/// Reads a file we wrote and now trust: not through a symlink, a regular file owned by the
/// current user that neither group nor others may write, of at most `limit` bytes.
pub fn read_trusted(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    read_owned(path, limit, 0o022)
}

/// [`read_trusted`] for a file another program of the user's shares with us, refused when any
/// of the mode bits `forbidden` is set (`0o002`: others may write; `0o022`: group or others).
pub fn read_owned(path: &Path, limit: Limit, forbidden: u32) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open_regular(path, true)?;
    check_owned(path, &meta, forbidden)?;
    read_to_limit(file, path, limit)
}

/// Reads at most `limit` bytes from `reader` (standard input, an HTTP body already in hand),
/// refusing more. `name` stands for the path in the error.
pub fn read_stream_capped(
    reader: impl Read,
    name: &str,
    limit: Limit,
) -> Result<Vec<u8>, ReadError> {
    read_to_limit(reader, Path::new(name), limit)
}

/// Why a file was not read by [`read_checked`].
#[derive(Debug)]
pub enum Refused {
    Read(ReadError),
    Untrusted(crate::ownership::Untrusted),
}

impl From<ReadError> for Refused {
    fn from(e: ReadError) -> Self {
        Self::Read(e)
    }
}

/// Reads `path` whole, as [`read_capped`], only when no one but `owners` could have written it
/// ([`crate::ownership`]): the name's folders are checked, then the file is opened once and the
/// open file is checked where it really is, and read through the same handle. A check that
/// cannot be made refuses the file. A missing file is `Read(NotFound)`; another user's FIFO or
/// folder is `Untrusted` before it is `NotRegular`.
pub fn read_checked(
    path: &Path,
    limit: Limit,
    owners: &crate::ownership::Owners,
) -> Result<Vec<u8>, Refused> {
    use crate::ownership::{CheckError, check_name, check_opened};
    match check_name(path, owners) {
        Ok(()) => {}
        Err(CheckError::Io(_, e)) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ReadError::NotFound { path: path.into() }.into());
        }
        Err(CheckError::Io(at, e)) => {
            return Err(Refused::Untrusted(crate::ownership::Untrusted::unverified(
                &at,
                e.to_string(),
            )));
        }
        Err(CheckError::Untrusted(u)) => return Err(Refused::Untrusted(u)),
    }
    let (file, meta) = open_any(path, false)?;
    if !meta.is_file() {
        // Never read: another user's is passed over as theirs, a device of root's is refused.
        owners
            .check_owner(path, &meta)
            .map_err(Refused::Untrusted)?;
        return Err(ensure_regular(path, &meta).unwrap_err().into());
    }
    check_opened(&file, &meta, path, owners).map_err(Refused::Untrusted)?;
    Ok(read_to_limit(file, path, limit)?)
}

fn open_regular(path: &Path, no_follow: bool) -> Result<(File, fs::Metadata), ReadError> {
    let (file, meta) = open_any(path, no_follow)?;
    ensure_regular(path, &meta)?;
    Ok((file, meta))
}

fn ensure_regular(path: &Path, meta: &fs::Metadata) -> Result<(), ReadError> {
    if meta.is_file() {
        return Ok(());
    }
    Err(ReadError::NotRegular {
        path: path.into(),
        kind: file_kind(meta),
    })
}

/// Opens `path` for reading without waiting on a FIFO, and its metadata.
fn open_any(path: &Path, no_follow: bool) -> Result<(File, fs::Metadata), ReadError> {
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if no_follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound { path: path.into() },
            _ if no_follow && error.raw_os_error() == Some(libc::ELOOP) => {
                ReadError::Symlink { path: path.into() }
            }
            _ => ReadError::Io {
                path: path.into(),
                error,
            },
        })?;
    let meta = file.metadata().map_err(|error| ReadError::Io {
        path: path.into(),
        error,
    })?;
    Ok((file, meta))
}

fn check_owned(path: &Path, meta: &fs::Metadata, forbidden: u32) -> Result<(), ReadError> {
    let me = my_uid();
    if meta.uid() != me {
        return Err(ReadError::NotOwned {
            path: path.into(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & forbidden != 0 {
        return Err(ReadError::OthersMayWrite {
            path: path.into(),
            mode,
        });
    }
    Ok(())
}

fn read_to_limit(reader: impl Read, path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| ReadError::Io {
            path: path.into(),
            error,
        })?;
    if bytes.len() as u64 > limit.bytes {
        return Err(ReadError::TooLarge {
            path: path.into(),
            limit,
        });
    }
    Ok(bytes)
}

/// `a directory`, `a FIFO`, ... for messages.
pub fn file_kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "a regular file"
    }
}

/// Why a directory will not hold secrets of ours.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    #[error("`{}` is {kind}, not a directory", crate::ownership::shown(path))]
    NotDirectory { path: PathBuf, kind: &'static str },
    #[error(
        "the directory `{}` belongs to uid {owner}, not to you (uid {me}), so its owner could replace what is in it",
        crate::ownership::shown(path)
    )]
    NotOwned { path: PathBuf, owner: u32, me: u32 },
    #[error(
        "other users may write to the directory `{}` (mode {mode:04o}) and could replace what is in it",
        crate::ownership::shown(path)
    )]
    OthersMayWrite { path: PathBuf, mode: u32 },
    #[error(
        "{untrusted}, so whoever can write it could replace `{}`",
        crate::ownership::shown(path)
    )]
    Above {
        path: PathBuf,
        untrusted: crate::ownership::Untrusted,
    },
    #[error(
        "cannot prepare the directory `{}`: {error}",
        crate::ownership::shown(path)
    )]
    Io { path: PathBuf, error: io::Error },
}

/// How far a directory must be ours before secrets go in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirRule {
    /// A directory this tool made for itself (the cache, the run directories): created 0700,
    /// and tightened back to 0700 when its mode has drifted. It must be ours.
    Own,
    /// A directory the user chose for one of our files: it must be ours, and others may not
    /// write to it. Its mode is left as it is.
    Chosen,
    /// A directory the user named to hold a file we write (`--output`, a token file): owned by
    /// the user or by root, and writable by others only with the sticky bit (as `/tmp`), where
    /// they can neither remove nor rename our file.
    Shared,
}

/// Makes sure `dir` exists (created 0700 with its missing parents) and satisfies `rule`, and
/// that every folder above it is one no other user may write ([`check_above`]).
pub fn prepare_dir(dir: &Path, rule: DirRule) -> Result<(), DirError> {
    let io_err = |error| DirError::Io {
        path: dir.into(),
        error,
    };
    check_above(dir)?;
    match fs::metadata(dir) {
        Ok(meta) => check_dir(dir, &meta, rule),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_err)?;
            // What is there now must be the folder just made, not a link planted meanwhile.
            let made = fs::symlink_metadata(dir).map_err(io_err)?;
            if !made.is_dir() || made.uid() != my_uid() {
                return Err(DirError::NotDirectory {
                    path: dir.into(),
                    kind: file_kind(&made),
                });
            }
            // `recursive` applies the mode to every created parent, but the umask may narrow
            // it further; the directory itself must be exactly 0700.
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err)
        }
        Err(error) => Err(io_err(error)),
    }
}

/// Checks that every existing folder above `dir` up to `/` belongs to you or root and that no one
/// else may write it unless it is sticky ([`crate::ownership`], with no one else trusted):
/// otherwise whoever may write it could rename `dir` and put their own in its place.
pub fn check_above(dir: &Path) -> Result<(), DirError> {
    use crate::ownership::{CheckError, Owners, check_ancestors};
    let above = |path: &Path| {
        check_ancestors(path, &Owners::strict()).map_err(|e| match e {
            CheckError::Untrusted(untrusted) => DirError::Above {
                path: dir.into(),
                untrusted,
            },
            CheckError::Io(path, error) => DirError::Io { path, error },
        })
    };
    above(dir)?;
    // A folder reached through a link lives where the link points: check above that too. Only
    // a folder still to be made may go unresolved; any other failure refuses.
    match dir.canonicalize() {
        Ok(real) if real != dir => above(&real),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(dir).is_err() => {
            Ok(())
        }
        Err(e) => Err(DirError::Above {
            path: dir.into(),
            untrusted: crate::ownership::Untrusted::unverified(dir, e.to_string()),
        }),
    }
}

/// `dir`/`name`, where `name` must be one plain file name: not empty, not `.` or `..`, without
/// `/` or NUL. Whatever a caller passes, the path stays inside `dir`.
pub fn file_in(dir: &Path, name: &str) -> io::Result<PathBuf> {
    let plain = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']);
    if !plain {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{}` is not a plain file name",
                crate::outside::escaped(name)
            ),
        ));
    }
    Ok(dir.join(name))
}

/// Checks an existing directory `dir` (its metadata `meta`) against `rule`.
pub fn check_dir(dir: &Path, meta: &fs::Metadata, rule: DirRule) -> Result<(), DirError> {
    if !meta.is_dir() {
        return Err(DirError::NotDirectory {
            path: dir.into(),
            kind: file_kind(meta),
        });
    }
    let me = my_uid();
    let mode = meta.mode() & 0o7777;
    let owner_ok = meta.uid() == me || (rule == DirRule::Shared && meta.uid() == 0);
    if !owner_ok {
        return Err(DirError::NotOwned {
            path: dir.into(),
            owner: meta.uid(),
            me,
        });
    }
    match rule {
        DirRule::Own if mode & 0o077 != 0 => {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|error| {
                DirError::Io {
                    path: dir.into(),
                    error,
                }
            })
        }
        // Ours alone: not even a sticky folder, where others' files could block our names.
        DirRule::Chosen if mode & 0o002 != 0 || crate::ownership::writers(dir, meta).is_some() => {
            Err(DirError::OthersMayWrite {
                path: dir.into(),
                mode,
            })
        }
        DirRule::Shared if crate::ownership::writers(dir, meta).is_some() => {
            Err(DirError::OthersMayWrite {
                path: dir.into(),
                mode,
            })
        }
        _ => Ok(()),
    }
}

/// Creates `dir` (and missing parents) and makes sure it is readable by its owner only.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    prepare_dir(dir, DirRule::Own).map_err(|e| match e {
        DirError::Io { error, .. } => error,
        other => io::Error::new(io::ErrorKind::PermissionDenied, other.to_string()),
    })
}

/// Why a secret file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error(
        "`{}` is a directory; name the file to write in it",
        crate::ownership::shown(path)
    )]
    IsDirectory { path: PathBuf },
    #[error(transparent)]
    Directory(#[from] DirError),
    #[error("cannot write `{}`: {error}", crate::ownership::shown(path))]
    Write { path: PathBuf, error: io::Error },
}

/// The one rule for a place a secret file goes: `path` is no directory, and its directory is
/// made or checked under `rule` (a default location of ours is [`DirRule::Own`], a place the
/// user named is [`DirRule::Shared`]).
pub fn prepare_secret_path(path: &Path, rule: DirRule) -> Result<(), SecretFileError> {
    if path.is_dir() {
        return Err(SecretFileError::IsDirectory { path: path.into() });
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("/"),
    };
    Ok(prepare_dir(dir, rule)?)
}

/// Writes a secret file whole in a place checked by [`prepare_secret_path`]: 0600, atomically.
/// A writer that reads the file first to decide what to write holds [`FileLock::beside`] it
/// from the read to the rename; one that replaces it whole needs no lock, since every reader
/// sees one writer's complete content.
pub fn write_secret(path: &Path, contents: &[u8], rule: DirRule) -> Result<(), SecretFileError> {
    prepare_secret_path(path, rule)?;
    write_private(path, contents).map_err(|error| SecretFileError::Write {
        path: path.into(),
        error,
    })
}

/// An exclusive lock on a file beside `target`, for a read-edit-rename of `target` that other
/// processes of ours may run at the same time: each holds the lock across its read, edit and
/// rename, so none works from a copy another is about to replace. The lock file
/// (`.<name>.vercel-oidc.lock`, mode 0600) stays, since removing it would race a waiter; it is
/// locked with `flock`, so a killed holder releases it. It holds the process id of its last
/// holder (see [`wait_for_lock`]).
pub struct FileLock {
    _file: File,
}

/// How long [`FileLock::beside`] waits for another holder.
const FILE_LOCK_WAIT: Duration = Duration::from_secs(30);

impl FileLock {
    /// Waits (at most 30 seconds) for the lock beside `target`, whose directory must exist,
    /// saying on stderr which process it waits for ([`wait_for_lock`]). The lock file must be
    /// a regular file of ours: it is opened without following a symlink and without waiting on
    /// a FIFO, so a neighbour in a shared directory cannot hang or redirect it.
    pub fn beside(target: &Path) -> io::Result<Self> {
        let path = lock_path_beside(target);
        let file = open_lock_file(&path)?;
        match wait_for_lock(&file, &path, FILE_LOCK_WAIT) {
            Ok(()) => Ok(Self { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{} has held `{}` for 30 seconds; try again, or find the process (`fuser {}`)",
                    lock_holder(&file),
                    path.display(),
                    path.display()
                ),
            )),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

/// How long a wait for a lock goes unmentioned.
const QUIET_WAIT: Duration = Duration::from_secs(1);

/// Takes the `flock` on `file`, the lock file at `path`, waiting at most `limit` for the
/// process that holds it (`WouldBlock` when it still does). A wait of more than a second is
/// said once on stderr, naming the lock file and the holder: every holder writes its process
/// id into the lock file once it has it. (The id is written, not asked of the kernel: `flock`
/// locks, unlike POSIX record locks, do not report their holder through `fcntl`.)
pub fn wait_for_lock(file: &File, path: &Path, limit: Duration) -> Result<(), fs::TryLockError> {
    let start = Instant::now();
    let mut said = false;
    loop {
        match file.try_lock() {
            Ok(()) => {
                record_holder(file);
                return Ok(());
            }
            Err(fs::TryLockError::WouldBlock) if start.elapsed() < limit => {
                if !said && start.elapsed() >= QUIET_WAIT {
                    said = true;
                    crate::log::notice!(
                        "waiting for {}, which holds `{}` (at most {} seconds)",
                        lock_holder(file),
                        path.display(),
                        limit.as_secs()
                    );
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Writes this process's id into the lock file it has just taken, for waiters to name. A
/// failure only leaves them saying "another process".
fn record_holder(file: &File) {
    use std::os::unix::fs::FileExt;
    let pid = format!("{}\n", std::process::id());
    let _ = file
        .write_all_at(pid.as_bytes(), 0)
        .and_then(|()| file.set_len(pid.len() as u64));
}

/// `process 1234`, as the holder of the lock file wrote itself there, else `another process`.
pub fn lock_holder(file: &File) -> String {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; 16];
    let n = file.read_at(&mut buf, 0).unwrap_or(0);
    std::str::from_utf8(&buf[..n])
        .ok()
        .and_then(|text| text.trim_end().parse::<u32>().ok())
        .map_or_else(|| "another process".into(), |pid| format!("process {pid}"))
}

/// Opens (creating, 0600) the lock file at `path`: not through a symlink, never waiting on a
/// FIFO, and only a regular file of ours, so that no neighbour can hang, redirect or hold it.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("`{}`: {e}", path.display())))?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.uid() != my_uid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the lock `{}` is not a file of yours; remove it, or choose a directory only you can write to",
                path.display()
            ),
        ));
    }
    Ok(file)
}

/// `.<name>.vercel-oidc.lock` in the directory of `target`.
pub fn lock_path_beside(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    dir.join(format!(".{name}.vercel-oidc.lock"))
}

/// Writes `contents` to `path` atomically with mode 0600, creating the file if needed.
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomic(path, contents, 0o600)
}

/// The name of our temporary files: `.vercel-oidc-<random>.tmp`.
const TEMP_PREFIX: &str = ".vercel-oidc-";
const TEMP_SUFFIX: &str = ".tmp";
/// A temporary file of ours this old that no process holds was left by a killed writer.
const STALE_AFTER: Duration = Duration::from_secs(10);

/// Writes `contents` to `path` atomically with the given mode. The parent directory must exist.
/// The temporary file is locked while it is written, and temporary files that killed writers
/// left in the directory are removed afterwards ([`remove_stale_temp_files`]).
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    tmp.as_file().lock()?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    // The umask may have narrowed the mode at creation: set it exactly.
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    tmp.persist(path).map_err(|e| e.error)?;
    remove_stale_temp_files(dir);
    Ok(())
}

/// Removes our temporary files in `dir` that a killed writer left: with a time stamp more than
/// 10 seconds from now (in the past, or in the future after the clock was set back) and locked
/// by no process. Anything else, and any error, is left alone.
pub fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) && is_stale(&entry.path()) {
            crate::log::debug!(
                "removing `{}`, left by a writer that was killed",
                entry.path().display()
            );
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A directory whose time stamp is more than [`STALE_AFTER`] from now, either way.
pub fn is_stale_dir(dir: &Path) -> bool {
    fs::symlink_metadata(dir).is_ok_and(|meta| is_old(&meta))
}

/// Whether `meta`'s time stamp lies more than [`STALE_AFTER`] from now, in the past or in the
/// future: a time stamp ahead of the clock (a clock set back, a file from another machine)
/// would otherwise never grow old, and what it marks would never be cleaned up. A writer on a
/// file system whose server clock runs a few seconds ahead is still young.
fn is_old(meta: &fs::Metadata) -> bool {
    let Ok(modified) = meta.modified() else {
        return false;
    };
    let distance = match modified.elapsed() {
        Ok(age) => age,
        Err(ahead) => ahead.duration(),
    };
    distance > STALE_AFTER
}

/// A regular file of ours, with a time stamp more than [`STALE_AFTER`] from now either way,
/// whose lock no process holds.
pub fn is_stale(path: &Path) -> bool {
    let Ok(file) = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    else {
        return false;
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    meta.is_file() && meta.uid() == my_uid() && is_old(&meta) && file.try_lock().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dir_and_file_modes() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let file = dir.join("f");
        write_private(&file, b"one").unwrap();
        write_private(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // No temporary files left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn loose_dir_is_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("loose");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn capped_reads_refuse_what_is_not_a_small_regular_file() {
        let root = tempfile::tempdir().unwrap();
        let fifo = root.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let big = root.path().join("big");
        fs::write(&big, vec![b'a'; 65 * 1024]).unwrap();
        let exact = root.path().join("exact");
        fs::write(&exact, vec![b'a'; 64 * 1024]).unwrap();
        let msg = |p: &Path| read_capped(p, limits::TOKEN).unwrap_err().to_string();
        assert_eq!(
            msg(&fifo),
            format!("`{}` is a FIFO, not a regular file", fifo.display())
        );
        assert_eq!(
            msg(Path::new("/dev/zero")),
            "`/dev/zero` is a character device, not a regular file"
        );
        assert_eq!(
            msg(root.path()),
            format!(
                "`{}` is a directory, not a regular file",
                root.path().display()
            )
        );
        assert_eq!(
            msg(&big),
            format!(
                "`{}` is larger than 64 KiB, the limit for a token file",
                big.display()
            )
        );
        assert_eq!(read_capped(&exact, limits::TOKEN).unwrap().len(), 64 * 1024);
        assert!(
            read_capped(&root.path().join("none"), limits::TOKEN)
                .unwrap_err()
                .is_not_found()
        );
    }

    #[test]
    fn trusted_reads_refuse_links_foreign_and_loose_files() {
        let root = tempfile::tempdir().unwrap();
        let good = root.path().join("good");
        write_private(&good, b"ok").unwrap();
        assert_eq!(read_trusted(&good, limits::CACHE_ENTRY).unwrap(), b"ok");
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        let loose = root.path().join("loose");
        fs::write(&loose, b"x").unwrap();
        fs::set_permissions(&loose, fs::Permissions::from_mode(0o666)).unwrap();
        let msg = |p: &Path| {
            read_trusted(p, limits::CACHE_ENTRY)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            msg(&link),
            format!(
                "`{}` is a symbolic link, which is not followed here",
                link.display()
            )
        );
        assert_eq!(
            msg(&loose),
            format!("`{}` may be written by others (mode 0666)", loose.display())
        );
        if my_uid() == 0 {
            let foreign = root.path().join("foreign");
            write_private(&foreign, b"x").unwrap();
            std::os::unix::fs::chown(&foreign, Some(4242), None).unwrap();
            assert_eq!(
                msg(&foreign),
                format!(
                    "`{}` belongs to uid 4242, not to you (uid 0)",
                    foreign.display()
                )
            );
        }
    }

    #[test]
    fn directory_rules() {
        let root = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let open = root.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        let err = prepare_dir(&open, DirRule::Chosen).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "other users may write to the directory `{}` (mode 0777) and could replace what is in it",
                open.display()
            )
        );
        assert_eq!(mode(&open), 0o777, "a chosen directory is never changed");
        assert!(prepare_dir(&open, DirRule::Shared).is_err());
        fs::set_permissions(&open, fs::Permissions::from_mode(0o1777)).unwrap();
        prepare_dir(&open, DirRule::Shared).unwrap();
        prepare_dir(&open, DirRule::Own).unwrap();
        assert_eq!(mode(&open), 0o700, "our own directory is tightened");
        let file = root.path().join("file");
        fs::write(&file, b"").unwrap();
        assert_eq!(
            prepare_dir(&file, DirRule::Own).unwrap_err().to_string(),
            format!("`{}` is a regular file, not a directory", file.display())
        );
        if my_uid() == 0 {
            let theirs = root.path().join("theirs");
            fs::create_dir(&theirs).unwrap();
            std::os::unix::fs::chown(&theirs, Some(4242), None).unwrap();
            for rule in [DirRule::Own, DirRule::Chosen, DirRule::Shared] {
                assert!(matches!(
                    prepare_dir(&theirs, rule),
                    Err(DirError::NotOwned { owner: 4242, .. })
                ));
            }
        }
    }

    #[test]
    fn lock_beside_is_exclusive_and_named_after_the_target() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("config");
        assert_eq!(
            lock_path_beside(&target),
            root.path().join(".config.vercel-oidc.lock")
        );
        let held = FileLock::beside(&target).unwrap();
        let other = File::open(lock_path_beside(&target)).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
        assert_eq!(
            lock_holder(&other),
            format!("process {}", std::process::id()),
            "the holder names itself for waiters"
        );
        drop(held);
        other.try_lock().unwrap();
        for junk in ["", "x\n", "12345678901234567890\n", "-1\n"] {
            fs::write(lock_path_beside(&target), junk).unwrap();
            assert_eq!(lock_holder(&other), "another process", "{junk:?}");
        }
    }
}
