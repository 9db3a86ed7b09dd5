//! The process environment, read once near `main` and passed down.
//!
//! Nothing else in the crate calls `std::env`: tests build an [`Env`] from a list of pairs and a
//! working directory, and never touch the real process environment.

use crate::vars;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A snapshot of environment variables and the working directory.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    cwd: PathBuf,
}

impl Env {
    /// Reads the real process environment and working directory.
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        Self { vars, cwd }
    }

    /// An environment made of the given pairs, for tests and embedders.
    pub fn from_pairs<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
        cwd: impl Into<PathBuf>,
    ) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            cwd: cwd.into(),
        }
    }

    /// The value of `name`, treating an empty value as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
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

    /// All variables, for handing to a child process.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl fmt::Debug for Env {
    /// Names only: values may hold tokens and keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
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

    #[test]
    fn debug_hides_values() {
        let env = Env::from_pairs([(vars::VERCEL_OIDC_TOKEN, "secret-value")], "/");
        let shown = format!("{env:?}");
        assert!(shown.contains(vars::VERCEL_OIDC_TOKEN));
        assert!(!shown.contains("secret-value"));
    }
}
