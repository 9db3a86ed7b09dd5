//! The process environment, read once near `main` and passed down.
//!
//! Nothing else in the crate calls `std::env`: tests build an [`Env`] from a list of pairs and a
//! working directory, and never touch the real process environment.
//!
//! The snapshot keeps every variable byte for byte, names and values that are not UTF-8
//! included, and hands them so to the programs this crate runs ([`Env::vars`]: `exec`'s
//! command, the Vercel CLI). The variables the crate reads itself ([`vars::READ`]) it reads as
//! text; [`Env::check_text`] refuses a value of one of them that is not UTF-8, naming the
//! variable, before anything else happens. (Reading such a value as unset, as before, silently
//! changed what was done: a token file or an STS endpoint ignored, another used instead.)

use crate::problem::{Explain, Explanation};
use crate::vars;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

/// A snapshot of environment variables and the working directory.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<OsString, OsString>,
    cwd: PathBuf,
}

/// A variable this crate reads whose value is not UTF-8; `Display` is the
/// [`Explanation`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct NotText {
    pub var: &'static str,
}

impl Explain for NotText {
    fn explain(&self) -> Explanation {
        let var = self.var;
        Explanation::new(
            format!("the value of {var} is not UTF-8 text, and vercel-oidc reads it as text"),
            format!("set {var} to UTF-8 text, or unset it"),
        )
    }
}

crate::problem::display_as_explained!(NotText);

impl Env {
    /// Reads the real process environment, byte for byte, and the working directory.
    pub fn from_process() -> Self {
        let vars = std::env::vars_os().collect();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        Self { vars, cwd }
    }

    /// An environment made of the given pairs (`&str`, `String` or `OsString`), for tests and
    /// embedders.
    pub fn from_pairs<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
        cwd: impl Into<PathBuf>,
    ) -> Self
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            cwd: cwd.into(),
        }
    }

    /// Refuses the first variable of [`vars::READ`] whose value is not UTF-8: run it before
    /// reading anything, since [`Env::get`] reads such a value as unset.
    pub fn check_text(&self) -> Result<(), NotText> {
        match vars::READ
            .iter()
            .find(|name| self.get_os(name).is_some_and(|v| v.to_str().is_none()))
        {
            Some(var) => Err(NotText { var }),
            None => Ok(()),
        }
    }

    /// The value of `name` as text, treating an empty value as unset (and one that is not
    /// UTF-8 too: [`Env::check_text`] refuses those first).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_os(name).and_then(OsStr::to_str)
    }

    /// The value of `name` byte for byte, treating an empty value as unset: for `PATH`, which
    /// is searched, not read.
    pub fn get_os(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .get(OsStr::new(name))
            .map(OsString::as_os_str)
            .filter(|v| !v.is_empty())
    }

    /// Whether `name` is set to a true-ish value (`1`, `true`, `yes`, `on`).
    pub fn flag(&self, name: &str) -> bool {
        matches!(
            self.get(name)
                .map(|v| v.trim().to_ascii_lowercase())
                .as_deref(),
            Some("1" | "true" | "yes" | "on")
        )
    }

    /// The same environment seen from another folder (`--project-dir`).
    pub fn with_cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = cwd.into();
        self
    }

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.get(vars::HOME).map(PathBuf::from)
    }

    /// Whether this looks like a Vercel build or another CI run rather than a laptop.
    pub fn in_build(&self) -> bool {
        self.flag(vars::VERCEL) || self.flag(vars::CI)
    }

    /// The per-user cache directory for this tool: `VERCEL_OIDC_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/vercel-oidc`, else `~/.cache/vercel-oidc` (`~/Library/Caches` on macOS).
    pub fn cache_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = self.get(vars::VERCEL_OIDC_CACHE_DIR) {
            return Some(self.absolute(dir));
        }
        if let Some(xdg) = self
            .get(vars::XDG_CACHE_HOME)
            .filter(|p| Path::new(p).is_absolute())
        {
            return Some(PathBuf::from(xdg).join("vercel-oidc"));
        }
        let home = self.home()?;
        if cfg!(target_os = "macos") {
            Some(home.join("Library/Caches/vercel-oidc"))
        } else {
            Some(home.join(".cache/vercel-oidc"))
        }
    }

    /// Makes `path` absolute against the snapshot's working directory.
    pub fn absolute(&self, path: impl AsRef<Path>) -> PathBuf {
        let path = path.as_ref();
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        }
    }

    /// All variables, byte for byte, for handing to a child process.
    pub fn vars(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }
}

impl fmt::Debug for Env {
    /// Names only: values may hold tokens and keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.vars.keys().map(|k| k.to_string_lossy()).collect();
        names.sort_unstable();
        f.debug_struct("Env")
            .field("cwd", &self.cwd)
            .field("vars", &names)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unset() {
        let env = Env::from_pairs([("A", ""), ("B", "x")], "/");
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), Some("x"));
    }

    #[test]
    fn cache_dir_precedence() {
        let env = Env::from_pairs(
            [
                (vars::VERCEL_OIDC_CACHE_DIR, "rel"),
                (vars::XDG_CACHE_HOME, "/x"),
                (vars::HOME, "/h"),
            ],
            "/work",
        );
        assert_eq!(env.cache_dir().unwrap(), PathBuf::from("/work/rel"));
        let env = Env::from_pairs([(vars::XDG_CACHE_HOME, "/x"), (vars::HOME, "/h")], "/");
        assert_eq!(env.cache_dir().unwrap(), PathBuf::from("/x/vercel-oidc"));
        let env = Env::from_pairs(
            [(vars::XDG_CACHE_HOME, "relative"), (vars::HOME, "/h")],
            "/",
        );
        assert!(env.cache_dir().unwrap().starts_with("/h"));
        assert_eq!(Env::from_pairs::<&str, &str>([], "/").cache_dir(), None);
    }

    fn bytes(b: &[u8]) -> OsString {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(b).to_os_string()
    }

    #[test]
    fn variables_are_kept_byte_for_byte() {
        let env = Env::from_pairs(
            [
                (bytes(b"SRV_DIR"), bytes(b"/srv/caf\xe9")),
                (bytes(b"NAME_\xff"), bytes(b"x")),
                (bytes(b"PATH"), bytes(b"/opt/caf\xe9/bin:/bin")),
            ],
            "/",
        );
        let mut all: Vec<(&OsStr, &OsStr)> = env.vars().collect();
        all.sort();
        assert_eq!(
            all,
            [
                (bytes(b"NAME_\xff").as_os_str(), OsStr::new("x")),
                (OsStr::new("PATH"), &bytes(b"/opt/caf\xe9/bin:/bin")),
                (OsStr::new("SRV_DIR"), &bytes(b"/srv/caf\xe9")),
            ]
        );
        assert_eq!(env.get("SRV_DIR"), None);
        assert_eq!(
            env.get_os(vars::PATH),
            Some(bytes(b"/opt/caf\xe9/bin:/bin").as_os_str())
        );
    }

    #[test]
    fn check_text_refuses_only_variables_read_as_text() {
        let latin1 = || bytes(b"/srv/caf\xe9");
        let cases: &[(&str, Result<(), &str>)] = &[
            ("SRV_DIR", Ok(())),
            (vars::PATH, Ok(())),
            (vars::GOOGLE_APPLICATION_CREDENTIALS, Ok(())),
            (
                vars::HOME,
                Err(
                    "the value of HOME is not UTF-8 text, and vercel-oidc reads it as text\n  set HOME to UTF-8 text, or unset it",
                ),
            ),
            (
                vars::VERCEL_OIDC_TOKEN_FILE,
                Err(
                    "the value of VERCEL_OIDC_TOKEN_FILE is not UTF-8 text, and vercel-oidc reads it as text\n  set VERCEL_OIDC_TOKEN_FILE to UTF-8 text, or unset it",
                ),
            ),
            (
                vars::HTTPS_PROXY_LOWER,
                Err(
                    "the value of https_proxy is not UTF-8 text, and vercel-oidc reads it as text\n  set https_proxy to UTF-8 text, or unset it",
                ),
            ),
        ];
        for (name, want) in cases {
            let env = Env::from_pairs([(OsString::from(name), latin1())], "/");
            let got = env.check_text().map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_string), "{name}");
        }
        let utf8 = Env::from_pairs([(vars::HOME, "/home/café")], "/");
        assert_eq!(utf8.check_text(), Ok(()));
    }

    #[test]
    fn debug_hides_values() {
        let env = Env::from_pairs([(vars::VERCEL_OIDC_TOKEN, "secret-value")], "/");
        let shown = format!("{env:?}");
        assert!(shown.contains(vars::VERCEL_OIDC_TOKEN));
        assert!(!shown.contains("secret-value"));
    }
}
