//! The upward search for the project's files: `.env.local`, `vercel-oidc.toml` and
//! `.vercel/project.json`, in one walk with one boundary.
//!
//! The walk starts at the working directory (or `--project-dir`) and goes up one folder at a
//! time, stopping after the project's root: the first folder that holds `.vercel/` (a linked
//! project) or `.git` (a repository). Without either it goes on to `/`.
//!
//! A file found on the way is used only when no other user could have put it there
//! ([`crate::ownership`]): the file and every folder above it belong to you, root (or, for a
//! root process and in a Vercel build, the owner of the starting folder), and no one else may
//! write them. Anything else is passed over as if it were not there, with one line on stderr
//! naming the file, why, and how to trust it; `doctor` lists the same.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::env::Env;
use crate::fsutil::{self, Limit, ReadError, Refused};
use crate::ownership::{self, Owners, Untrusted};

/// The folder that makes a linked project's root, and the one that makes a repository's.
const LINK_DIR: &str = ".vercel";
const REPO_MARK: &str = ".git";

/// The folders of one walk, from the start up to the boundary, and whose files to trust.
#[derive(Clone, Debug)]
pub struct Walk {
    folders: Vec<PathBuf>,
    owners: Owners,
}

/// A file found on the walk and passed over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub file: PathBuf,
    pub untrusted: Untrusted,
}

impl Skipped {
    /// `not using `/tmp/vercel-oidc.toml`: it belongs to uid 1001, …; if you trust uid 1001, …`
    pub fn line(&self) -> String {
        format!(
            "not using `{}`: {}; {}",
            ownership::shown(&self.file),
            self.untrusted.describe_for(&self.file),
            self.untrusted.fix()
        )
    }
}

/// Every file passed over in this process, in the order found.
static SKIPPED: Mutex<Vec<Skipped>> = Mutex::new(Vec::new());

/// The files passed over so far in this process (for `doctor`).
pub fn skipped() -> Vec<Skipped> {
    SKIPPED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

impl Walk {
    /// The walk from `env`'s working directory, trusting [`Owners::for_env`].
    pub fn for_env(env: &Env) -> Self {
        Self::new(env.cwd(), Owners::for_env(env))
    }

    /// The walk from `start` up to the project's root.
    pub fn new(start: &Path, owners: Owners) -> Self {
        // The real folders above the start, not the parents of a link or a `..` as written.
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        let mut folders = Vec::new();
        for dir in start.ancestors() {
            folders.push(dir.to_path_buf());
            if dir.join(LINK_DIR).is_dir() || dir.join(REPO_MARK).exists() {
                break;
            }
        }
        Self { folders, owners }
    }

    /// The folders walked, nearest first; the last is the boundary.
    pub fn folders(&self) -> &[PathBuf] {
        &self.folders
    }

    pub fn owners(&self) -> &Owners {
        &self.owners
    }

    /// The linked project's root: the last folder walked, when it holds `.vercel/`.
    pub fn linked_root(&self) -> Option<&Path> {
        self.folders
            .last()
            .map(PathBuf::as_path)
            .filter(|d| d.join(LINK_DIR).is_dir())
    }

    /// Reads `file`, found on this walk, when no other user could have written it
    /// (`fsutil::read_checked`). `None` when it is not there, or when it is passed over: then it
    /// is recorded and reported once on stderr.
    pub fn read(&self, file: &Path, limit: Limit) -> Option<Result<Vec<u8>, ReadError>> {
        match fsutil::read_checked(file, limit, &self.owners) {
            Ok(bytes) => Some(Ok(bytes)),
            Err(Refused::Read(e)) if e.is_not_found() => None,
            Err(Refused::Read(e)) => Some(Err(e)),
            Err(Refused::Untrusted(untrusted)) => {
                skip(Skipped {
                    file: file.to_path_buf(),
                    untrusted,
                });
                None
            }
        }
    }
}

fn skip(skipped: Skipped) {
    let mut all = SKIPPED.lock().unwrap_or_else(|e| e.into_inner());
    if all.contains(&skipped) {
        return;
    }
    crate::log::warn(&skipped.line());
    all.push(skipped);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_walk_stops_after_the_linked_root_or_the_repository() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("repo/app/src");
        fs::create_dir_all(&deep).unwrap();
        fs::create_dir(root.path().join("repo/.git")).unwrap();
        let walk = Walk::new(&deep, Owners::strict());
        assert_eq!(
            walk.folders(),
            [
                deep.clone(),
                deep.parent().unwrap().into(),
                root.path().join("repo")
            ]
        );
        assert_eq!(walk.linked_root(), None);
        fs::create_dir(root.path().join("repo/app/.vercel")).unwrap();
        let walk = Walk::new(&deep, Owners::strict());
        assert_eq!(walk.folders().len(), 2);
        assert_eq!(
            walk.linked_root(),
            Some(root.path().join("repo/app").as_path())
        );
    }

    #[test]
    fn a_file_others_may_write_is_passed_over() {
        let root = tempfile::tempdir().unwrap();
        let near = root.path().join("name.toml");
        fs::write(&near, "x").unwrap();
        fs::set_permissions(&near, fs::Permissions::from_mode(0o646)).unwrap();
        let walk = Walk::new(root.path(), Owners::strict());
        let limit = crate::fsutil::limits::CONFIG;
        assert!(walk.read(&near, limit).is_none());
        assert!(walk.read(&root.path().join("none"), limit).is_none());
        let skipped = skipped();
        let it = skipped.iter().find(|s| s.file == near).unwrap();
        assert_eq!(
            it.line(),
            format!(
                "not using `{0}`: it may be written by other users (mode 0646); make it writable by its owner alone (`chmod go-w {0}`), or, where no other user can reach these files (a CI container), set VERCEL_OIDC_SAFE_DIRS={1}",
                near.display(),
                root.path().display()
            )
        );
        fs::set_permissions(&near, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(walk.read(&near, limit).unwrap().unwrap(), b"x");
    }
}
