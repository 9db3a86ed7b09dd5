//! The federated token file the Azure SDKs read (`AZURE_FEDERATED_TOKEN_FILE`).
//!
//! Content: the Vercel token exactly, with no trailing newline (azure-identity for Python and the
//! Go SDK send the file's bytes unstripped). Mode 0600, written to a temporary file in the same
//! directory and renamed, so an SDK re-reading it sees the old token or the new, never half.
//!
//! Where:
//! - given (`--federated-token-file`, `VERCEL_OIDC_AZURE_TOKEN_FILE`): that path, made absolute
//!   against the working directory. A missing directory is created 0700; an existing one is
//!   kept as it is, unless others may write to it without the sticky bit (they could swap the
//!   file), which is refused;
//! - otherwise: `<cache dir>/azure/<team>-<project>-<environment>-<hash>.jwt`, one file per token
//!   identity (the hash covers `iss`, `sub` and `aud`), in 0700 directories. The cache dir is
//!   `VERCEL_OIDC_CACHE_DIR`, else `$XDG_CACHE_HOME/vercel-oidc`, else `~/.cache/vercel-oidc`.
//!
//! The SDKs cache the file's content (Python and Go for 10 minutes, JavaScript and .NET for 5),
//! so the file must be rewritten with a fresh token well before the one in it expires.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::Duration;

use crate::env::Env;
use crate::fsutil::{self, DirError, DirRule, SecretFileError};
use crate::token::{Claims, OidcToken};

/// How long the SDKs may keep using the file's content after reading it.
pub const SDK_REREAD_INTERVAL: Duration = Duration::minutes(10);

/// Where the file goes, and whether this tool chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// Named by the user.
    Given(PathBuf),
    /// In the per-user cache directory.
    Default(PathBuf),
}

impl Location {
    pub fn path(&self) -> &Path {
        match self {
            Self::Given(p) | Self::Default(p) => p,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(
        "there is no per-user directory for the federated token file: HOME is not set\n  pass --federated-token-file PATH or set VERCEL_OIDC_AZURE_TOKEN_FILE (or HOME, XDG_CACHE_HOME or VERCEL_OIDC_CACHE_DIR)"
    )]
    NoDefaultLocation,
    #[error(
        "`{}` is a directory\n  --federated-token-file (VERCEL_OIDC_AZURE_TOKEN_FILE) names the file to write, such as `{}`",
        path.display(),
        path.join("azure-token").display()
    )]
    IsDirectory { path: PathBuf },
    #[error(
        "will not write the token there: {0}\n  choose a file in a directory only you can write to, or leave --federated-token-file out for the private default"
    )]
    SharedDirectory(DirError),
    #[error("{0}\n  check its permissions, or choose another place with --federated-token-file")]
    Directory(DirError),
    #[error(
        "cannot write the federated token file `{}`: {error}\n  check the directory's permissions and free space, or choose another place with --federated-token-file",
        path.display()
    )]
    Write { path: PathBuf, error: io::Error },
}

/// Chooses where the file goes: `given` made absolute, else the per-user default for a token
/// with these claims.
pub fn locate(env: &Env, given: Option<&Path>, claims: &Claims) -> Result<Location, FileError> {
    if let Some(path) = given {
        return Ok(Location::Given(env.absolute(path)));
    }
    let dir = env.cache_dir().ok_or(FileError::NoDefaultLocation)?;
    Ok(Location::Default(
        dir.join("azure").join(default_file_name(claims)),
    ))
}

/// `<team>-<project>-<environment>-<8 hex of sha256(iss, sub, aud)>.jwt`, with anything but
/// letters, digits, `.`, `_` and `-` replaced by `-`.
pub fn default_file_name(claims: &Claims) -> String {
    let label: Vec<&str> = [
        claims.owner.as_deref(),
        claims.project.as_deref(),
        claims.environment.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let label: String = if label.is_empty() {
        "token".to_string()
    } else {
        label.join("-")
    };
    let label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    let identity = serde_json::json!([claims.iss, claims.sub, claims.aud.values()]);
    let digest = Sha256::digest(identity.to_string().as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{label}-{hash}.jwt")
}

/// Writes `token` to `location` as described in the module docs.
pub fn write(location: &Location, token: &OidcToken) -> Result<(), FileError> {
    let path = location.path();
    let rule = match location {
        Location::Default(_) => {
            if let Some(cache_dir) = path.parent().and_then(Path::parent) {
                fsutil::prepare_dir(cache_dir, DirRule::Own).map_err(FileError::from_dir)?;
            }
            DirRule::Own
        }
        Location::Given(_) => DirRule::Shared,
    };
    fsutil::write_secret(path, token.expose_secret().as_bytes(), rule).map_err(|e| match e {
        SecretFileError::IsDirectory { path } => FileError::IsDirectory { path },
        SecretFileError::Directory(e) => FileError::from_dir(e),
        SecretFileError::Write { path, error } => FileError::Write { path, error },
    })?;
    crate::log::debug!("wrote the token to `{}`", path.display());
    Ok(())
}

impl FileError {
    fn from_dir(error: DirError) -> Self {
        match error {
            e @ (DirError::OthersMayWrite { .. } | DirError::NotOwned { .. }) => {
                Self::SharedDirectory(e)
            }
            other => Self::Directory(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tests::{claims_json, jwt};
    use crate::token::{TokenSource, decode_claims};
    use crate::vars;
    use std::os::unix::fs::PermissionsExt;

    fn token(c: &serde_json::Value) -> OidcToken {
        OidcToken::parse(&format!("{}\n", jwt(c)), TokenSource::Env).unwrap()
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn default_names_follow_identity() {
        let base = claims_json(2_000_000_000);
        let name = |c: &serde_json::Value| default_file_name(&decode_claims(&jwt(c)).unwrap());
        let n0 = name(&base);
        assert!(n0.starts_with("acme-web-production-"), "{n0}");
        assert!(n0.ends_with(".jwt") && n0.len() == "acme-web-production-".len() + 12);
        assert_eq!(
            name(&claims_json(2_000_009_999)),
            n0,
            "same identity, same file"
        );
        let mut other = base.clone();
        other["aud"] = serde_json::json!("api://AzureADTokenExchange");
        assert_ne!(name(&other), n0);
        let mut odd = base.clone();
        odd["project"] = serde_json::json!("my app/../x");
        assert!(name(&odd).starts_with("acme-my-app-..-x-production-"));
        let bare = serde_json::json!({"iss": "i", "sub": "s", "aud": "a", "exp": 1});
        assert!(name(&bare).starts_with("token-"));
    }

    #[test]
    fn default_location_is_private_and_exact() {
        let root = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([(vars::XDG_CACHE_HOME, root.path().to_str().unwrap())], "/");
        let t = token(&claims_json(2_000_000_000));
        let loc = locate(&env, None, t.claims()).unwrap();
        assert!(matches!(loc, Location::Default(_)));
        assert!(
            loc.path()
                .starts_with(root.path().join("vercel-oidc/azure"))
        );
        write(&loc, &t).unwrap();
        assert_eq!(
            std::fs::read(loc.path()).unwrap(),
            t.expose_secret().as_bytes()
        );
        assert!(!t.expose_secret().ends_with('\n'));
        assert_eq!(mode(loc.path()), 0o600);
        assert_eq!(mode(loc.path().parent().unwrap()), 0o700);
        assert_eq!(mode(&root.path().join("vercel-oidc")), 0o700);
    }

    #[test]
    fn no_home_no_default() {
        let env = Env::from_pairs::<&str, &str>([], "/");
        let claims = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        let err = locate(&env, None, &claims).unwrap_err().to_string();
        assert!(err.contains("HOME is not set") && err.contains("--federated-token-file"));
    }

    #[test]
    fn given_paths() {
        let root = tempfile::tempdir().unwrap();
        let env = Env::from_pairs::<&str, &str>([], root.path());
        let t = token(&claims_json(2_000_000_000));

        let loc = locate(&env, Some(Path::new("new/dir/token")), t.claims()).unwrap();
        assert_eq!(loc, Location::Given(root.path().join("new/dir/token")));
        write(&loc, &t).unwrap();
        assert_eq!(mode(&root.path().join("new/dir")), 0o700);
        assert_eq!(mode(loc.path()), 0o600);

        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        write(&Location::Given(open.join("t")), &t).unwrap();
        assert_eq!(mode(&open), 0o755, "an existing directory is left alone");
        assert_eq!(mode(&open.join("t")), 0o600);

        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = write(&Location::Given(shared.join("t")), &t)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err.lines().next().unwrap(),
            format!(
                "will not write the token there: other users may write to the directory `{}` (mode 0777) and could replace what is in it",
                shared.display()
            )
        );
        assert!(!shared.join("t").exists());

        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        write(&Location::Given(shared.join("t")), &t).unwrap();

        let err = write(&Location::Given(open.clone()), &t)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a directory"), "{err}");
    }
}
