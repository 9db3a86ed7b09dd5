//! The `external_account` credential file, as `gcloud iam workload-identity-pools
//! create-cred-config` writes it, for google-auth (Python, Node, Go, Java), gcloud and Terraform.
//!
//! ```json
//! {
//!   "type": "external_account",
//!   "audience": "//iam.googleapis.com/projects/<NUMBER>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>",
//!   "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
//!   "token_url": "https://sts.googleapis.com/v1/token",
//!   "token_info_url": "https://sts.googleapis.com/v1/introspect",
//!   "universe_domain": "googleapis.com",
//!   "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/<EMAIL>:generateAccessToken",
//!   "service_account_impersonation": { "token_lifetime_seconds": 3600 },
//!   "credential_source": { "file": "/abs/path/token", "format": { "type": "text" } }
//! }
//! ```
//!
//! - `token_url` is always written, and `token_info_url` beside it (gcloud introspects direct
//!   credentials there, else at the global endpoint whatever `token_url` says);
//!   `universe_domain` as gcloud writes it; the two impersonation keys only with a service account;
//!   numbers are JSON numbers; every path is absolute.
//! - `credential_source` is either a `file` holding the token (written with no trailing
//!   newline, since Python and Node do not strip it) or an `executable`,
//!   `{"command": "<this binary> gcp executable-source", "timeout_millis": 30000}`, that clients
//!   run on every refresh when `GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1`.
//! - The command has no quoting at all: Go splits it on whitespace, Node honours only
//!   whole-word double quotes, Python uses `shlex`. A path with a space, a quote or a backslash
//!   cannot be written so that all three read it alike, and is refused.

use crate::vars;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::env::Env;
use crate::fsutil::{self, ReadError};
use crate::gcp::{GcpConfig, JWT_TOKEN_TYPE};

/// How long clients wait for `executable-source` (they accept 5000–120000).
pub const EXECUTABLE_TIMEOUT_MILLIS: u32 = 30_000;

/// Where clients get the Vercel token from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// A file holding the token, re-read by clients on every refresh.
    File(PathBuf),
    /// A command printing the executable-sourced response; `output_file` is where it also
    /// leaves the response for clients to reuse while unexpired.
    Executable {
        command: String,
        output_file: Option<PathBuf>,
    },
}

#[derive(Serialize)]
struct CredentialFile<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    audience: String,
    subject_token_type: &'static str,
    token_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_info_url: Option<String>,
    universe_domain: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_account_impersonation_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_account_impersonation: Option<ImpersonationOptions>,
    credential_source: SourceJson<'a>,
}

#[derive(Serialize)]
struct ImpersonationOptions {
    token_lifetime_seconds: u32,
}

#[derive(Serialize)]
#[serde(untagged)]
enum SourceJson<'a> {
    File { file: String, format: Format },
    Executable { executable: Executable<'a> },
}

#[derive(Serialize)]
struct Format {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Executable<'a> {
    command: &'a str,
    timeout_millis: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_file: Option<String>,
}

/// The credential file for `config` with its token from `source`, pretty-printed with a final
/// newline. Paths in `source` must be absolute.
pub fn render(config: &GcpConfig, source: &CredentialSource) -> String {
    let credential_source = match source {
        CredentialSource::File(path) => SourceJson::File {
            file: path.display().to_string(),
            format: Format { kind: "text" },
        },
        CredentialSource::Executable {
            command,
            output_file,
        } => SourceJson::Executable {
            executable: Executable {
                command,
                timeout_millis: EXECUTABLE_TIMEOUT_MILLIS,
                output_file: output_file.as_ref().map(|p| p.display().to_string()),
            },
        },
    };
    let file = CredentialFile {
        kind: "external_account",
        audience: config.audience(),
        subject_token_type: JWT_TOKEN_TYPE,
        token_url: &config.token_url,
        token_info_url: token_info_url(&config.token_url),
        universe_domain: UNIVERSE_DOMAIN,
        service_account_impersonation_url: config.impersonation.as_ref().map(|i| i.url.as_str()),
        service_account_impersonation: config.impersonation.as_ref().map(|i| {
            ImpersonationOptions {
                token_lifetime_seconds: i.lifetime_seconds,
            }
        }),
        credential_source,
    };
    let mut text = serde_json::to_string_pretty(&file).expect("credential file serializes");
    text.push('\n');
    text
}

/// Google's universe, as `gcloud iam workload-identity-pools create-cred-config` writes it.
const UNIVERSE_DOMAIN: &str = "googleapis.com";

/// Where gcloud introspects a federated token: beside `token_url` (`…/v1/token` gives
/// `…/v1/introspect`), so that a regional or Private Service Connect STS endpoint serves both.
/// Without it gcloud asks `https://sts.googleapis.com/v1/introspect`, whatever `token_url` says;
/// `None` for a `token_url` that does not end in `/token`, which then keeps gcloud's default.
fn token_info_url(token_url: &str) -> Option<String> {
    let base = token_url.strip_suffix("/token")?;
    Some(format!("{base}/introspect"))
}

/// The environment that points Google's clients and gcloud at the credential file at `path`.
pub fn env_vars(
    path: &Path,
    config: &GcpConfig,
    source: &CredentialSource,
) -> Vec<(&'static str, String)> {
    let path = path.display().to_string();
    let mut vars = vec![
        (vars::GOOGLE_APPLICATION_CREDENTIALS, path.clone()),
        (vars::CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE, path),
    ];
    if let Some(project) = &config.project_id {
        vars.push((vars::GOOGLE_CLOUD_PROJECT, project.clone()));
        vars.push((vars::CLOUDSDK_CORE_PROJECT, project.clone()));
    }
    if matches!(source, CredentialSource::Executable { .. }) {
        vars.push((
            vars::GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES,
            "1".to_string(),
        ));
    }
    vars
}

/// Why a credential file cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum CredFileError {
    #[error(
        "`{0}` cannot be written into the credential file's command: Go splits the command on whitespace and Node and Python read quotes and backslashes their own ways\n  install vercel-oidc (and keep --token-file) at a path without spaces, quotes or backslashes, or use --source file"
    )]
    UnportableWord(String),

    #[error(
        "`{path}` already holds a `{kind}` credential, not an external_account file; refusing to overwrite it\n  choose another --output (VERCEL_OIDC_GCP_CREDENTIALS_FILE), or move that file away first"
    )]
    WouldOverwrite { path: PathBuf, kind: String },

    #[error(
        "`{0}` exists and is not a JSON credential file; refusing to overwrite it\n  choose another --output (VERCEL_OIDC_GCP_CREDENTIALS_FILE), or move that file away first"
    )]
    NotCredentialFile(PathBuf),

    #[error(
        "there is no HOME or XDG_CONFIG_HOME to put the credential file in\n  pass --output PATH (or set VERCEL_OIDC_GCP_CREDENTIALS_FILE)"
    )]
    NoDefaultLocation,

    #[error(
        "`{}` is {kind}, not a credential file; refusing to write there\n  choose another --output (VERCEL_OIDC_GCP_CREDENTIALS_FILE), or move it away first",
        path.display()
    )]
    NotAFile { path: PathBuf, kind: &'static str },

    #[error(
        "--output `{}` names a directory; it must name the credential file to write\n  add a file name, for example --output {} (or set VERCEL_OIDC_GCP_CREDENTIALS_FILE to a file)",
        given.display(),
        example.display()
    )]
    OutputIsDirectory { given: PathBuf, example: PathBuf },
}

/// Checks that `given` (`--output`, or `VERCEL_OIDC_GCP_CREDENTIALS_FILE`) names a file: not a
/// path ending in `/`, not an existing directory.
pub fn check_output_path(given: &Path, absolute: &Path) -> Result<(), CredFileError> {
    let trailing_slash = given.as_os_str().as_encoded_bytes().ends_with(b"/");
    if trailing_slash || absolute.is_dir() {
        return Err(CredFileError::OutputIsDirectory {
            given: given.to_path_buf(),
            example: given.join("credentials.json"),
        });
    }
    Ok(())
}

/// The command line of the `executable` source: `exe` by absolute path, the token file when
/// one was named, then `gcp executable-source`.
pub fn executable_command(exe: &Path, token_file: Option<&Path>) -> Result<String, CredFileError> {
    let mut words = vec![exe.display().to_string()];
    if let Some(file) = token_file {
        words.push("--token-file".into());
        words.push(file.display().to_string());
    }
    words.push("gcp".into());
    words.push("executable-source".into());
    for word in &words {
        if word.is_empty()
            || word
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"'\\".contains(c))
        {
            return Err(CredFileError::UnportableWord(word.clone()));
        }
    }
    Ok(words.join(" "))
}

/// Where the file goes when `--output` is not given: `$XDG_CONFIG_HOME/vercel-oidc/gcp/credentials.json`,
/// else `~/.config/vercel-oidc/gcp/credentials.json`. Its directory is kept at 0700.
pub fn default_path(env: &Env) -> Result<PathBuf, CredFileError> {
    let base = match env
        .get(vars::XDG_CONFIG_HOME)
        .filter(|p| Path::new(p).is_absolute())
    {
        Some(dir) => PathBuf::from(dir),
        None => env
            .home()
            .ok_or(CredFileError::NoDefaultLocation)?
            .join(".config"),
    };
    Ok(base
        .join("vercel-oidc")
        .join("gcp")
        .join("credentials.json"))
}

/// The token file of the `file` source, beside the credential file: `credentials.json` →
/// `credentials-token.jwt`. Never the credential file itself.
pub fn token_path(credential_file: &Path) -> PathBuf {
    let stem = credential_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "credentials".into());
    credential_file.with_file_name(format!("{stem}-token.jwt"))
}

/// Checks that `path` may be replaced: missing, or an `external_account` file already (a
/// regular file of at most 1 MiB). A FIFO, a device or a directory there is refused without
/// being opened for long.
pub fn check_overwrite(path: &Path) -> Result<(), CredFileError> {
    let bytes = match fsutil::read_capped(path, fsutil::limits::CONFIG) {
        Ok(bytes) => bytes,
        Err(ReadError::NotRegular { kind, .. }) => {
            return Err(CredFileError::NotAFile {
                path: path.to_path_buf(),
                kind,
            });
        }
        Err(ReadError::TooLarge { .. }) => {
            return Err(CredFileError::NotCredentialFile(path.to_path_buf()));
        }
        // Missing, or unreadable: the write itself will say what is wrong.
        Err(_) => return Ok(()),
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|_| CredFileError::NotCredentialFile(path.to_path_buf()))?;
    match value.get("type").and_then(|t| t.as_str()) {
        Some("external_account") => Ok(()),
        Some(kind) => Err(CredFileError::WouldOverwrite {
            path: path.to_path_buf(),
            kind: kind.to_string(),
        }),
        None => Err(CredFileError::NotCredentialFile(path.to_path_buf())),
    }
}

/// The token file that the credential file at `path` points at, when it is the one this tool
/// writes beside it ([`token_path`]): to remove once the file no longer uses it.
pub fn own_token_file(path: &Path) -> Option<PathBuf> {
    let bytes = fsutil::read_capped(path, fsutil::limits::CONFIG).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let file = value.get("credential_source")?.get("file")?.as_str()?;
    let ours = token_path(path);
    (Path::new(file) == ours).then_some(ours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcp::tests::GcpOptions;
    use serde_json::json;

    const SA: &str = "deploy@my-project.iam.gserviceaccount.com";
    const AUDIENCE: &str = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel-acme";

    fn config(audience_form: &str, sa: Option<&str>, lifetime: Option<u32>) -> GcpConfig {
        let base = match audience_form {
            "parts" => GcpOptions {
                project_number: Some("123456789012".into()),
                pool: Some("vercel".into()),
                provider: Some("vercel-acme".into()),
                ..GcpOptions::default()
            },
            "full" => GcpOptions {
                audience: Some(AUDIENCE.into()),
                ..GcpOptions::default()
            },
            "https" => GcpOptions {
                audience: Some(format!("https:{AUDIENCE}")),
                ..GcpOptions::default()
            },
            other => unreachable!("{other}"),
        };
        GcpConfig::from_options(&GcpOptions {
            service_account: sa.map(Into::into),
            token_lifetime_seconds: lifetime,
            ..base
        })
        .unwrap()
    }

    /// Every combination of audience form, impersonation and source, against the JSON each must
    /// produce.
    #[test]
    fn file_json_for_every_combination() {
        let sources = [
            (
                CredentialSource::File(
                    "/home/me/.config/vercel-oidc/gcp/credentials-token.jwt".into(),
                ),
                json!({"file": "/home/me/.config/vercel-oidc/gcp/credentials-token.jwt", "format": {"type": "text"}}),
            ),
            (
                CredentialSource::Executable {
                    command: "/usr/local/bin/vercel-oidc gcp executable-source".into(),
                    output_file: None,
                },
                json!({"executable": {"command": "/usr/local/bin/vercel-oidc gcp executable-source", "timeout_millis": 30000}}),
            ),
            (
                CredentialSource::Executable {
                    command: "/usr/local/bin/vercel-oidc gcp executable-source".into(),
                    output_file: Some("/run/me/out.json".into()),
                },
                json!({"executable": {"command": "/usr/local/bin/vercel-oidc gcp executable-source", "timeout_millis": 30000, "output_file": "/run/me/out.json"}}),
            ),
        ];
        let impersonations = [
            (None, None, None),
            (Some(SA), None, Some(3600)),
            (Some(SA), Some(900), Some(900)),
            (Some(SA), Some(43200), Some(43200)),
        ];
        for form in ["parts", "full", "https"] {
            for (sa, lifetime, want_lifetime) in impersonations {
                for (source, want_source) in &sources {
                    let cfg = config(form, sa, lifetime);
                    let text = render(&cfg, source);
                    assert!(text.ends_with("}\n"));
                    let got: serde_json::Value = serde_json::from_str(&text).unwrap();
                    let mut want = json!({
                        "type": "external_account",
                        "audience": AUDIENCE,
                        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                        "token_url": "https://sts.googleapis.com/v1/token",
                        "token_info_url": "https://sts.googleapis.com/v1/introspect",
                        "universe_domain": "googleapis.com",
                        "credential_source": want_source,
                    });
                    if let (Some(sa), Some(secs)) = (sa, want_lifetime) {
                        want["service_account_impersonation_url"] = json!(format!(
                            "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{sa}:generateAccessToken"
                        ));
                        want["service_account_impersonation"] =
                            json!({ "token_lifetime_seconds": secs });
                    }
                    assert_eq!(got, want, "{form} {sa:?} {lifetime:?} {source:?}");
                    // Numbers are JSON numbers, never strings.
                    if sa.is_some() {
                        assert!(
                            got["service_account_impersonation"]["token_lifetime_seconds"].is_u64()
                        );
                    }
                    if let Some(ms) = got["credential_source"].get("executable") {
                        assert!(ms["timeout_millis"].is_u64());
                    }
                }
            }
        }
    }

    #[test]
    fn keys_in_gcloud_order() {
        let text = render(
            &config("parts", Some(SA), None),
            &CredentialSource::File("/t".into()),
        );
        let keys: Vec<usize> = [
            "\"type\"",
            "\"audience\"",
            "\"subject_token_type\"",
            "\"token_url\"",
            "\"service_account_impersonation_url\"",
            "\"service_account_impersonation\"",
            "\"credential_source\"",
        ]
        .iter()
        .map(|k| text.find(k).unwrap())
        .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn overridden_endpoints_are_written() {
        let cfg = GcpConfig::from_options(&GcpOptions {
            audience: Some(AUDIENCE.into()),
            service_account: Some(SA.into()),
            token_url: Some("http://127.0.0.1:8080/v1/token".into()),
            impersonation_url: Some("http://127.0.0.1:8080".into()),
            ..GcpOptions::default()
        })
        .unwrap();
        let got: serde_json::Value =
            serde_json::from_str(&render(&cfg, &CredentialSource::File("/t".into()))).unwrap();
        assert_eq!(got["token_url"], "http://127.0.0.1:8080/v1/token");
        assert_eq!(
            got["service_account_impersonation_url"],
            format!("http://127.0.0.1:8080/v1/projects/-/serviceAccounts/{SA}:generateAccessToken")
        );
    }

    #[test]
    fn executable_commands() {
        let exe = Path::new("/usr/local/bin/vercel-oidc");
        assert_eq!(
            executable_command(exe, None).unwrap(),
            "/usr/local/bin/vercel-oidc gcp executable-source"
        );
        assert_eq!(
            executable_command(exe, Some(Path::new("/run/vercel/token"))).unwrap(),
            "/usr/local/bin/vercel-oidc --token-file /run/vercel/token gcp executable-source"
        );
        for (exe, token, bad) in [
            (
                "/Users/Me/My Tools/vercel-oidc",
                None,
                "/Users/Me/My Tools/vercel-oidc",
            ),
            ("/opt/it's/vercel-oidc", None, "/opt/it's/vercel-oidc"),
            ("/opt/a\"b/vercel-oidc", None, "/opt/a\"b/vercel-oidc"),
            (
                "/opt/x/vercel-oidc",
                Some("/tmp/with\\slash"),
                "/tmp/with\\slash",
            ),
            (
                "/opt/x/vercel-oidc",
                Some("/tmp/tab\there"),
                "/tmp/tab\there",
            ),
        ] {
            let err = executable_command(Path::new(exe), token.map(Path::new))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("`{bad}` cannot be written")),
                "{err}"
            );
        }
    }

    #[test]
    fn paths() {
        let env = Env::from_pairs([(vars::HOME, "/home/me")], "/");
        assert_eq!(
            default_path(&env).unwrap(),
            PathBuf::from("/home/me/.config/vercel-oidc/gcp/credentials.json")
        );
        let env = Env::from_pairs(
            [(vars::HOME, "/home/me"), (vars::XDG_CONFIG_HOME, "/cfg")],
            "/",
        );
        assert_eq!(
            default_path(&env).unwrap(),
            PathBuf::from("/cfg/vercel-oidc/gcp/credentials.json")
        );
        let env = Env::from_pairs([(vars::XDG_CONFIG_HOME, "relative")], "/");
        assert!(default_path(&env).is_err());
        for (config, token) in [
            ("/a/credentials.json", "/a/credentials-token.jwt"),
            ("/a/gcp", "/a/gcp-token.jwt"),
            ("/a/x-token.jwt", "/a/x-token-token.jwt"),
        ] {
            assert_eq!(token_path(Path::new(config)), PathBuf::from(token));
        }
    }

    #[test]
    fn own_token_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        assert_eq!(own_token_file(&path), None);
        let cfg = config("parts", None, None);
        let ours = token_path(&path);
        std::fs::write(&path, render(&cfg, &CredentialSource::File(ours.clone()))).unwrap();
        assert_eq!(own_token_file(&path), Some(ours));
        std::fs::write(
            &path,
            render(&cfg, &CredentialSource::File("/elsewhere/token".into())),
        )
        .unwrap();
        assert_eq!(
            own_token_file(&path),
            None,
            "a file the user chose is left alone"
        );
    }

    #[test]
    fn overwrite_checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        assert!(
            check_overwrite(&path).is_ok(),
            "a missing file may be written"
        );
        for (content, want) in [
            (r#"{"type":"external_account"}"#, None),
            (
                r#"{"type":"service_account","private_key":"k"}"#,
                Some("already holds a `service_account` credential"),
            ),
            ("not json", Some("exists and is not a JSON credential file")),
            (
                r#"{"a":1}"#,
                Some("exists and is not a JSON credential file"),
            ),
        ] {
            std::fs::write(&path, content).unwrap();
            match (check_overwrite(&path), want) {
                (Ok(()), None) => {}
                (Err(e), Some(want)) => assert!(e.to_string().contains(want), "{e}"),
                (got, want) => panic!("{content}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn introspection_is_asked_beside_the_token_url() {
        for (token_url, want) in [
            (
                "https://sts.googleapis.com/v1/token",
                Some("https://sts.googleapis.com/v1/introspect"),
            ),
            (
                "https://sts.us-east1.rep.googleapis.com/v1/token",
                Some("https://sts.us-east1.rep.googleapis.com/v1/introspect"),
            ),
            (
                "https://sts-psc1.p.googleapis.com/v1/token",
                Some("https://sts-psc1.p.googleapis.com/v1/introspect"),
            ),
            (
                "http://127.0.0.1:9/v1/token",
                Some("http://127.0.0.1:9/v1/introspect"),
            ),
            ("http://127.0.0.1:9/exchange", None),
        ] {
            assert_eq!(token_info_url(token_url).as_deref(), want, "{token_url}");
        }
    }
}
