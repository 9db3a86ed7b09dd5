//! The executable-sourced response that `vercel-oidc gcp executable-source` prints for Google's
//! client libraries.
//!
//! Environment read (set by the client that runs it): `GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE` (the
//! type to report; only the two OIDC types are served), `GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE`
//! (where to leave a copy of a successful response), `GOOGLE_EXTERNAL_ACCOUNT_REVOKE` (`1`: forget
//! that copy). `GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE`, `_INTERACTIVE` and `_IMPERSONATED_EMAIL` are
//! not needed.
//!
//! Success, one line on stdout:
//! `{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:jwt","id_token":"…","expiration_time":<unix seconds>}`.
//! `expiration_time` is the token's `exp` less [`CLOCK_SKEW`], so that clients reusing the
//! output file stop before STS would call the token expired.
//!
//! Failure: `{"version":1,"success":false,"code":"…","message":"…"}` and a non-zero exit.
//!
//! Output file: the success response, 0600, written to a temporary file and renamed. Its
//! directory is created 0700 when missing.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::fsutil;
use crate::gcp::JWT_TOKEN_TYPE;
use crate::token::{CLOCK_SKEW, OidcToken, TokenError};

/// The other OIDC token type clients may ask for.
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";

#[derive(Serialize)]
struct Success<'a> {
    version: u8,
    success: bool,
    token_type: &'a str,
    id_token: &'a str,
    expiration_time: i64,
}

#[derive(Serialize)]
struct Failure<'a> {
    version: u8,
    success: bool,
    code: &'a str,
    message: &'a str,
}

/// Why no token could be handed to the client: a machine-readable code and a message.
#[derive(Debug, thiserror::Error)]
pub enum ExecutableError {
    #[error(transparent)]
    Token(#[from] TokenError),

    /// A token problem with more to say than the token error alone, such as a failed refresh.
    #[error("{message}")]
    Described { code: &'static str, message: String },

    #[error(
        "the client asked for a `{0}` subject token, but the Vercel token is an OIDC JWT\n  set \"subject_token_type\": \"urn:ietf:params:oauth:token-type:jwt\" in the credential file (`vercel-oidc gcp configure` writes it so)"
    )]
    UnsupportedTokenType(String),

    #[error(
        "cannot write the output file `{}` (GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE): {error}\n  fix the path or its permissions, or remove `output_file` from the credential file",
        path.display()
    )]
    OutputFile {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl ExecutableError {
    /// The `code` of the failure response.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Token(e) => token_code(e),
            Self::Described { code, .. } => code,
            Self::UnsupportedTokenType(_) => "UNSUPPORTED_TOKEN_TYPE",
            Self::OutputFile { .. } => "OUTPUT_FILE_UNWRITABLE",
        }
    }
}

/// The failure code for a token that could not be had.
pub fn token_code(error: &TokenError) -> &'static str {
    match error {
        TokenError::NotFound { .. } => "TOKEN_NOT_FOUND",
        TokenError::Read { .. } => "TOKEN_UNREADABLE",
        TokenError::Empty { .. } | TokenError::Malformed { .. } => "TOKEN_INVALID",
        TokenError::Expired { .. } => "TOKEN_EXPIRED",
        TokenError::Untrusted { .. } => "TOKEN_UNTRUSTED",
    }
}

/// The token type to report for a client that asked for `requested` (unset: the JWT type).
pub fn token_type(requested: Option<&str>) -> Result<&'static str, ExecutableError> {
    match requested {
        None => Ok(JWT_TOKEN_TYPE),
        Some(t) if t == JWT_TOKEN_TYPE => Ok(JWT_TOKEN_TYPE),
        Some(t) if t == ID_TOKEN_TYPE => Ok(ID_TOKEN_TYPE),
        Some(other) => Err(ExecutableError::UnsupportedTokenType(other.to_string())),
    }
}

/// The success response for `token`, one line with a final newline.
pub fn success(token: &OidcToken, token_type: &str) -> String {
    let response = Success {
        version: 1,
        success: true,
        token_type,
        id_token: token.expose_secret(),
        expiration_time: (token.claims().expires_at() - CLOCK_SKEW).unix_timestamp(),
    };
    serde_json::to_string(&response).expect("response serializes") + "\n"
}

/// The failure response, one line with a final newline.
pub fn failure(code: &str, message: &str) -> String {
    let response = Failure {
        version: 1,
        success: false,
        code,
        message,
    };
    serde_json::to_string(&response).expect("response serializes") + "\n"
}

/// The revocation response (`GOOGLE_EXTERNAL_ACCOUNT_REVOKE=1`): there is nothing to revoke
/// but the output file.
pub fn revoked() -> String {
    "{\"version\":1,\"success\":true}\n".to_string()
}

/// Leaves `response` at `path`: 0600, atomically, creating a missing directory 0700, and only
/// where no other user could replace it: the clients read the file before they run us, so it
/// takes the rule of every file another program trusts ([`fsutil::write_secret`]).
pub fn write_output_file(path: &Path, response: &str) -> Result<(), ExecutableError> {
    fsutil::write_secret(path, response.as_bytes(), fsutil::DirRule::Shared).map_err(|e| {
        ExecutableError::OutputFile {
            path: path.to_path_buf(),
            error: match e {
                fsutil::SecretFileError::Write { error, .. } => error,
                other => std::io::Error::other(other.to_string()),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenSource;
    use crate::token::tests::{claims_json, jwt};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn success_shape() {
        let raw = jwt(&claims_json(2_000_000_000));
        let token = OidcToken::parse(&raw, TokenSource::Env).unwrap();
        let text = success(&token, JWT_TOKEN_TYPE);
        assert!(text.ends_with("}\n") && text.lines().count() == 1);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "version": 1,
                "success": true,
                "token_type": "urn:ietf:params:oauth:token-type:jwt",
                "id_token": raw,
                "expiration_time": 2_000_000_000 - 30,
            })
        );
    }

    #[test]
    fn failure_shape() {
        let v: serde_json::Value =
            serde_json::from_str(&failure("TOKEN_EXPIRED", "it \"expired\"\n  do x")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"version": 1, "success": false, "code": "TOKEN_EXPIRED", "message": "it \"expired\"\n  do x"})
        );
        let v: serde_json::Value = serde_json::from_str(&revoked()).unwrap();
        assert_eq!(v, serde_json::json!({"version": 1, "success": true}));
    }

    #[test]
    fn token_types() {
        assert_eq!(token_type(None).unwrap(), JWT_TOKEN_TYPE);
        assert_eq!(token_type(Some(JWT_TOKEN_TYPE)).unwrap(), JWT_TOKEN_TYPE);
        assert_eq!(token_type(Some(ID_TOKEN_TYPE)).unwrap(), ID_TOKEN_TYPE);
        let err = token_type(Some("urn:ietf:params:oauth:token-type:saml2")).unwrap_err();
        assert_eq!(err.code(), "UNSUPPORTED_TOKEN_TYPE");
        assert!(err.to_string().starts_with(
            "the client asked for a `urn:ietf:params:oauth:token-type:saml2` subject token"
        ));
    }

    #[test]
    fn error_codes() {
        let cases: Vec<(TokenError, &str)> = vec![
            (
                TokenError::NotFound {
                    searched_from: "/".into(),
                    in_build: false,
                },
                "TOKEN_NOT_FOUND",
            ),
            (
                TokenError::Read {
                    origin: TokenSource::Env,
                    error: crate::fsutil::ReadError::Io {
                        path: "/t".into(),
                        error: std::io::Error::other("x"),
                    },
                },
                "TOKEN_UNREADABLE",
            ),
            (
                TokenError::Empty {
                    origin: TokenSource::Env,
                },
                "TOKEN_INVALID",
            ),
            (
                TokenError::Malformed {
                    origin: TokenSource::Env,
                    reason: "x".into(),
                },
                "TOKEN_INVALID",
            ),
            (
                TokenError::Expired {
                    origin: TokenSource::Env,
                    expired: "x".into(),
                    when: "y".into(),
                    in_build: true,
                },
                "TOKEN_EXPIRED",
            ),
        ];
        for (err, code) in cases {
            assert_eq!(ExecutableError::from(err).code(), code);
        }
    }

    #[test]
    fn output_file_is_private_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/out.json");
        write_output_file(&path, "{\"a\":1}\n").unwrap();
        write_output_file(&path, "{\"a\":2}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":2}\n");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, "").unwrap();
        let err = write_output_file(&blocked.join("out.json"), "{}").unwrap_err();
        assert_eq!(err.code(), "OUTPUT_FILE_UNWRITABLE");
    }
}
