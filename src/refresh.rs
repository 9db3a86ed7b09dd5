//! Local development: a fresh Vercel OIDC token when the one found is missing or about to expire,
//! the way Vercel's own JavaScript helpers get one, without their faults (no lock, a
//! group-writable token file, and a failed login refresh that logs the user out).
//!
//! Only in a linked project (a `.vercel/project.json` = `{"projectId", "orgId"}` found walking up
//! from the working directory, [`crate::walk`], and only when no other user could have written
//! it) and never inside a Vercel build (`VERCEL=1`). Both ids must have the shapes Vercel issues
//! ([`ids`]) before they reach a path, a URL or an argument list.
//!
//! 1. The shared token store, `<data>/com.vercel.token/<projectId>.json` = `{"token": …}`, which
//!    Vercel's JavaScript helpers read and write too: used while it has more than
//!    [`REFRESH_MARGIN`] left. `<data>` is `$XDG_DATA_HOME`, else `~/.local/share`
//!    (`~/Library/Application Support` on macOS).
//! 2. Otherwise one process at a time (a lock in this tool's cache directory, then a second look
//!    at the store) mints a token:
//!    - with the Vercel CLI when `vercel` is on `PATH`:
//!      `vercel project token --format=json [--scope=<orgId>] -- <projectId>` → `{"token": …}`;
//!    - else (or when the CLI fails) with the CLI's stored login, `<data>/com.vercel.cli/auth.json`
//!      (or `~/.now/auth.json`) = `{"token", "expiresAt", "refreshToken"}`:
//!      `POST <api>/v1/projects/<projectId>/token?source=vercel-oidc-refresh&teamId=<orgId>` with
//!      `Authorization: Bearer <login token>`, no body → `{"token": …}`. An expired login is first
//!      refreshed: `GET <issuer>/.well-known/openid-configuration` for `token_endpoint`, then
//!      `POST` form `client_id=<the Vercel CLI's>&grant_type=refresh_token&refresh_token=…` →
//!      `{"access_token", "token_type": "Bearer", "expires_in", "refresh_token"}`, written back to
//!      `auth.json` atomically (0600), keeping its other fields. On any failure `auth.json` is
//!      left exactly as it was.
//! 3. The new token is stored in the shared store, 0600 in a 0700 directory, atomically.
//!
//! The login and the project link are read as settings files (regular files of at most 1 MiB).
//! No request that carries the login or its refresh token follows a redirect; bodies over 1 MiB
//! are not read; what the Vercel API says is redacted ([`http::server_text`]) before it is
//! shown.
//!
//! Environment: `VERCEL_OIDC_API_URL` (default `https://api.vercel.com`) and
//! `VERCEL_OIDC_OAUTH_ISSUER` (default `https://vercel.com`) move the endpoints (for tests);
//! `PATH` finds `vercel`; `XDG_DATA_HOME` and `HOME` find the files.

// Some of this serves only the command line (doctor's refresh report).
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

use crate::vars;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration as StdDuration, Instant};

use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::cache::{Cache, Key};
use crate::env::Env;
use crate::secret::Secret;
use crate::token::{OidcToken, TokenError, TokenSource};
use crate::walk::Walk;
use crate::{fsutil, http};

/// A token with less than this left is refreshed.
pub const REFRESH_MARGIN: Duration = Duration::minutes(5);
/// The Vercel CLI's public OAuth client id, with which its login is refreshed.
const VERCEL_CLI_CLIENT_ID: &str = "cl_HYyOPBNtFMfHhaUn9L4QPfTZz6TP47bp";
/// How long `vercel project token` may take.
const CLI_TIMEOUT: StdDuration = StdDuration::from_secs(60);

/// A project linked with `vercel link`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectLink {
    pub root: PathBuf,
    pub project_id: String,
    pub org_id: Option<String>,
}

/// Why no fresh token could be had; `Display` is the
/// [`Explanation`](crate::problem::Explanation).
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    Link {
        path: PathBuf,
        error: String,
    },
    NoDataDir,
    Cli(String),
    NoLogin {
        looked: PathBuf,
    },
    LoginRead {
        path: PathBuf,
        error: fsutil::ReadError,
    },
    LoginRefresh {
        path: PathBuf,
        reason: String,
    },
    Mint {
        project_id: String,
        reason: String,
    },
    BadToken(TokenError),
    /// Shown as the HTTP set-up error itself, which is not also its source.
    Http(http::HttpSetupError),
}

impl From<http::HttpSetupError> for RefreshError {
    fn from(error: http::HttpSetupError) -> Self {
        Self::Http(error)
    }
}

impl crate::problem::Explain for RefreshError {
    fn explain(&self) -> crate::problem::Explanation {
        use crate::problem::Explanation as E;
        match self {
            Self::Link { path, error } => E::new(
                format!("cannot read `{}`: {error}", crate::ownership::shown(path)),
                "run `vercel link` again to re-link this project",
            ),
            Self::NoDataDir => E::new(
                "there is no user data directory (neither XDG_DATA_HOME nor HOME is set)",
                "set HOME",
            ),
            Self::Cli(reason) => E::new(
                format!("`vercel project token` failed: {reason}"),
                "run `vercel login`, or `vercel env pull` to write a fresh token to `.env.local`",
            ),
            Self::NoLogin { looked } => E::new(
                format!(
                    "no Vercel CLI login found (looked for `{}`)",
                    crate::ownership::shown(looked)
                ),
                "install the Vercel CLI and run `vercel login`, or run `vercel env pull`",
            ),
            Self::LoginRead { path, error } => E::new(
                format!(
                    "cannot read the Vercel CLI login `{}`: {}",
                    crate::ownership::shown(path),
                    error.reason()
                ),
                "run `vercel login` to write it again, or run `vercel env pull`",
            ),
            Self::LoginRefresh { path, reason } => E::new(
                format!(
                    "the Vercel CLI login in `{}` has expired and could not be refreshed: {reason}",
                    crate::ownership::shown(path)
                ),
                "run `vercel login` (the login file was left as it was)",
            ),
            Self::Mint { project_id, reason } => E::new(
                format!("the Vercel API did not mint a token for project `{project_id}`: {reason}"),
                "check that your login can access the project (`vercel whoami`, `vercel link`), or run `vercel env pull`",
            ),
            Self::BadToken(token) => E::new(
                format!("the Vercel CLI returned a token that is not usable: {token}"),
                "run `vercel env pull` to write a fresh token to `.env.local`",
            ),
            Self::Http(e) => e.explain(),
        }
    }
}

crate::problem::display_as_explained!(RefreshError);

/// The linked project at the top of `walk` (its boundary holds `.vercel/`): its
/// `project.json`, when that is a file no other user could have written ([`Walk::read`]).
/// `None` when the project is not linked (or its link is passed over).
pub fn find_link(walk: &Walk) -> Option<Result<ProjectLink, RefreshError>> {
    let root = walk.linked_root()?;
    let path = root.join(".vercel/project.json");
    let bytes = match walk.read(&path, fsutil::limits::CONFIG)? {
        Ok(bytes) => bytes,
        Err(e) => {
            return Some(Err(RefreshError::Link {
                path,
                error: e.reason(),
            }));
        }
    };
    Some(parse_link(root, &path, &bytes))
}

/// `project.json` = `{"projectId", "orgId"}`, each id checked against the shapes Vercel issues
/// ([`ids`]) before it can reach a path, a URL or an argument list.
fn parse_link(root: &Path, path: &Path, bytes: &[u8]) -> Result<ProjectLink, RefreshError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ProjectJson {
        project_id: Option<String>,
        org_id: Option<String>,
    }
    let link_error = |error: String| RefreshError::Link {
        path: path.to_path_buf(),
        error,
    };
    let json: ProjectJson =
        serde_json::from_slice(bytes).map_err(|e| link_error(format!("it is not JSON ({e})")))?;
    let project_id = json
        .project_id
        .filter(|p| !p.is_empty())
        .ok_or_else(|| link_error("it has no `projectId`".into()))?;
    let project_id = ids::project_id(&project_id).map_err(link_error)?;
    let org_id = match json.org_id.filter(|o| !o.is_empty()) {
        Some(org) => Some(ids::org_id(&org).map_err(link_error)?),
        None => None,
    };
    Ok(ProjectLink {
        root: root.to_path_buf(),
        project_id,
        org_id,
    })
}

/// The shapes of the ids Vercel issues, as its CLI writes them to `.vercel/project.json`:
///
/// - a project id is `prj_` then 1 to 64 ASCII letters and digits (`prj_a1B2c3…`, 28 after the
///   prefix today);
/// - an owner id is a team's, `team_` then 1 to 64 letters and digits, or a personal account's
///   user id, 1 to 64 letters and digits.
///
/// Nothing else is taken: an id never holds `/`, `.`, `?`, `&`, `%`, a blank or a leading `-`.
pub mod ids {
    /// `id` when it is a project id.
    pub fn project_id(id: &str) -> Result<String, String> {
        match id.strip_prefix("prj_") {
            Some(rest) if is_word(rest) => Ok(id.to_string()),
            _ => Err(refusal("projectId", id, "`prj_` then letters and digits")),
        }
    }

    /// `id` when it is a team's id or a user's.
    pub fn org_id(id: &str) -> Result<String, String> {
        if is_word(id.strip_prefix("team_").unwrap_or(id)) {
            Ok(id.to_string())
        } else {
            Err(refusal(
                "orgId",
                id,
                "`team_` then letters and digits, or a user id of letters and digits",
            ))
        }
    }

    fn is_word(s: &str) -> bool {
        (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    fn refusal(key: &str, id: &str, shape: &str) -> String {
        format!(
            "its `{key}` `{}` is not an id Vercel issues ({shape})",
            crate::outside::escaped(id)
        )
    }
}

/// `$XDG_DATA_HOME`, else `~/.local/share` (`~/Library/Application Support` on macOS).
pub fn data_dir(env: &Env) -> Option<PathBuf> {
    if let Some(xdg) = env
        .get(vars::XDG_DATA_HOME)
        .filter(|p| Path::new(p).is_absolute())
    {
        return Some(PathBuf::from(xdg));
    }
    let home = env.home()?;
    Some(if cfg!(target_os = "macos") {
        home.join("Library/Application Support")
    } else {
        home.join(".local/share")
    })
}

/// `<data>/com.vercel.token/<projectId>.json`, where the name must be one plain file name
/// ([`fsutil::file_in`] refuses anything else, whatever the link held).
fn store_path(data: &Path, link: &ProjectLink) -> Result<PathBuf, RefreshError> {
    let dir = data.join("com.vercel.token");
    fsutil::file_in(&dir, &format!("{}.json", link.project_id)).map_err(|e| RefreshError::Link {
        path: link.root.join(".vercel/project.json"),
        error: e.to_string(),
    })
}

/// Whether a token with these claims should be replaced.
pub fn needs_refresh(token: &OidcToken, now: OffsetDateTime) -> bool {
    token.claims().expires_at() - REFRESH_MARGIN <= now
}

/// Gets fresh tokens for one linked project.
pub struct Refresher<'a> {
    env: &'a Env,
    link: ProjectLink,
    data: PathBuf,
    /// `<data>/com.vercel.token/<projectId>.json`.
    store: PathBuf,
    cache: Option<Cache>,
}

/// The shared store's file, read as a file we trust: not through a symlink, a regular file of
/// ours of at most 64 KiB in a directory of ours that others may not write to. Unlike our cache,
/// group write is allowed: Vercel's own helper writes the file 0660. What the file holds is then
/// bound to the linked project by the token's `project_id`.
fn read_store(path: &Path) -> Result<Vec<u8>, fsutil::ReadError> {
    if let Some(dir) = path.parent()
        && let Ok(meta) = std::fs::metadata(dir)
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != fsutil::my_uid() {
            return Err(fsutil::ReadError::NotOwned {
                path: dir.into(),
                owner: meta.uid(),
                me: fsutil::my_uid(),
            });
        }
        if meta.mode() & 0o002 != 0 {
            return Err(fsutil::ReadError::OthersMayWrite {
                path: dir.into(),
                mode: meta.mode() & 0o7777,
            });
        }
    }
    fsutil::read_owned(path, fsutil::limits::CACHE_ENTRY, 0o002)
}

impl<'a> Refresher<'a> {
    /// A refresher for the project linked at or above the working directory; `None` when there is
    /// nothing to refresh from (not linked, or inside a Vercel build).
    pub fn for_env(env: &'a Env) -> Option<Result<Self, RefreshError>> {
        if env.flag(vars::VERCEL) {
            return None;
        }
        let link = match find_link(&Walk::for_env(env))? {
            Ok(link) => link,
            Err(e) => return Some(Err(e)),
        };
        let Some(data) = data_dir(env) else {
            return Some(Err(RefreshError::NoDataDir));
        };
        let store = match store_path(&data, &link) {
            Ok(store) => store,
            Err(e) => return Some(Err(e)),
        };
        let cache = Cache::for_env(env);
        Some(Ok(Self {
            env,
            link,
            data,
            store,
            cache,
        }))
    }

    pub fn link(&self) -> &ProjectLink {
        &self.link
    }

    /// `<data>/com.vercel.token/<projectId>.json`.
    pub fn store_path(&self) -> PathBuf {
        self.store.clone()
    }

    /// A token good for more than [`REFRESH_MARGIN`]: from the shared store, or newly minted.
    pub fn fresh_token(&self, now: impl Fn() -> OffsetDateTime) -> Result<OidcToken, RefreshError> {
        self.fresh_token_within(now, REFRESH_MARGIN)
    }

    /// A token good for more than `margin`: from the shared store, or newly minted.
    pub fn fresh_token_within(
        &self,
        now: impl Fn() -> OffsetDateTime,
        margin: Duration,
    ) -> Result<OidcToken, RefreshError> {
        if let Some(token) = self.stored_token(now(), margin) {
            return Ok(token);
        }
        let _lock = self
            .cache
            .as_ref()
            .map(|c| c.lock(&Key::new("refresh", &self.link.project_id)));
        if let Some(token) = self.stored_token(now(), margin) {
            return Ok(token);
        }
        let (raw, via) = self.mint(now())?;
        let token = OidcToken::parse(
            raw.expose_secret(),
            TokenSource::Refreshed {
                via,
                path: self.store_path(),
            },
        )
        .map_err(RefreshError::BadToken)?;
        token
            .ensure_fresh(now(), false)
            .map_err(RefreshError::BadToken)?;
        self.store(&raw);
        Ok(token)
    }

    fn stored_token(&self, now: OffsetDateTime, margin: Duration) -> Option<OidcToken> {
        #[derive(Deserialize)]
        struct Stored {
            token: String,
        }
        let path = self.store_path();
        let bytes = match read_store(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                if !e.is_not_found() {
                    crate::log::debug!("not using the shared token store: {e}");
                }
                return None;
            }
        };
        let stored: Stored = serde_json::from_slice(&bytes).ok()?;
        let source = TokenSource::Refreshed {
            via: "the shared token store".into(),
            path: path.clone(),
        };
        let token = OidcToken::parse(&stored.token, source).ok()?;
        if token.claims().project_id.as_deref() != Some(self.link.project_id.as_str()) {
            crate::log::debug!(
                "the token in `{}` is for another project than `{}`",
                path.display(),
                self.link.project_id
            );
            return None;
        }
        if token.claims().expires_at() - margin <= now {
            crate::log::debug!("the token in `{}` is about to expire", path.display());
            return None;
        }
        crate::log::debug!("using the refreshed token in `{}`", path.display());
        Some(token)
    }

    fn store(&self, raw: &Secret) {
        let path = self.store_path();
        let body = serde_json::json!({ "token": raw.expose_secret() }).to_string();
        let result = path
            .parent()
            .map_or(Ok(()), fsutil::ensure_private_dir)
            .and_then(|()| fsutil::write_private(&path, body.as_bytes()));
        if let Err(e) = result {
            crate::log::debug!(
                "could not store the refreshed token in `{}`: {e}",
                path.display()
            );
        }
    }

    fn mint(&self, now: OffsetDateTime) -> Result<(Secret, String), RefreshError> {
        let cli_error = match self.vercel_cli() {
            Some(cli) => match self.mint_with_cli(&cli) {
                Ok(raw) => return Ok((raw, "`vercel project token`".into())),
                Err(e) => {
                    crate::log::debug!("{e}");
                    Some(e)
                }
            },
            None => None,
        };
        match self.mint_with_api(now) {
            Ok(raw) => Ok((raw, "the Vercel API".into())),
            // When the CLI was there, its own failure says more than a missing login file.
            Err(RefreshError::NoLogin { .. }) if cli_error.is_some() => {
                Err(cli_error.expect("checked"))
            }
            Err(e) => Err(e),
        }
    }

    /// The `vercel` found on `PATH`, if any.
    pub fn vercel_cli(&self) -> Option<PathBuf> {
        let path = self.env.get_os(vars::PATH)?;
        which::which_in("vercel", Some(path), self.env.cwd()).ok()
    }

    fn mint_with_cli(&self, cli: &Path) -> Result<Secret, RefreshError> {
        let mut child = self.spawn_cli(cli)?;
        let stdout = spawn_reader(child.stdout.take().expect("piped"));
        let stderr = spawn_reader(child.stderr.take().expect("piped"));
        let status = wait_within(&mut child, CLI_TIMEOUT)?;
        // A process the CLI left behind may hold its pipes open: wait a little, not for it.
        let grace = Instant::now() + CLI_PIPE_GRACE;
        let (out, err) = (collect_by(stdout, grace), collect_by(stderr, grace));
        if !status.success() {
            let (err, _) = err.unwrap_or_default();
            return Err(RefreshError::Cli(format!(
                "it exited with {status}: {}",
                http::server_text(&last_lines(&err, 3), &[])
            )));
        }
        let Some((out, out_whole)) = out else {
            return Err(RefreshError::Cli(
                "it exited, but a process it started kept its output open".into(),
            ));
        };
        if !out_whole {
            return Err(RefreshError::Cli(format!(
                "its output is larger than {}, the most read from it",
                fsutil::human_bytes(CLI_OUTPUT_LIMIT)
            )));
        }
        minted(out.trim())
            .ok_or_else(|| RefreshError::Cli("its output is not `{\"token\": …}` JSON".into()))
    }

    /// Starts `<cli> project token --format=json [--scope=<orgId>] -- <projectId>` in the project,
    /// with our environment (byte for byte), no input, and both outputs piped.
    fn spawn_cli(&self, cli: &Path) -> Result<Child, RefreshError> {
        let mut cmd = Command::new(cli);
        cmd.args(["project", "token", "--format=json"]);
        if let Some(org) = &self.link.org_id {
            cmd.arg(format!("--scope={org}"));
        }
        // Whatever an id held, it could never be read as an option.
        cmd.args(["--", &self.link.project_id]);
        crate::log::debug!(
            "running `{} project token {}`",
            cli.display(),
            self.link.project_id
        );
        cmd.env_clear()
            .envs(self.env.vars())
            .current_dir(&self.link.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| RefreshError::Cli(format!("cannot run `{}`: {e}", cli.display())))
    }

    /// The Vercel CLI's login file, when there is one.
    pub fn login_file(&self) -> Option<PathBuf> {
        Some(self.login_path()).filter(|p| p.is_file())
    }

    fn login_path(&self) -> PathBuf {
        let current = self.data.join("com.vercel.cli/auth.json");
        if current.exists() {
            return current;
        }
        match self.env.home().map(|h| h.join(".now/auth.json")) {
            Some(old) if old.exists() => old,
            _ => current,
        }
    }

    fn mint_with_api(&self, now: OffsetDateTime) -> Result<Secret, RefreshError> {
        let login_path = self.login_path();
        let login = read_login(&login_path)?;
        let api = self.api_url()?;
        let clients = Clients {
            token: http::client(self.env)?,
            documents: http::document_client(self.env)?,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| self.mint_error(e.to_string()))?;
        runtime.block_on(async {
            let bearer = self.login_token(&clients, &login_path, login, now).await?;
            self.mint_project_token(&clients.token, &api, &bearer).await
        })
    }

    /// `VERCEL_OIDC_API_URL`, else `https://api.vercel.com`, without a trailing slash.
    fn api_url(&self) -> Result<String, RefreshError> {
        self.base_url(vars::VERCEL_OIDC_API_URL, "https://api.vercel.com")
            .map_err(|reason| self.mint_error(reason))
    }

    /// The URL in `var`, else `default`, without a trailing slash, once
    /// [`http::check_endpoint`] has accepted it; an error is why not.
    fn base_url(&self, var: &str, default: &str) -> Result<String, String> {
        let url = self
            .env
            .get(var)
            .unwrap_or(default)
            .trim_end_matches('/')
            .to_string();
        http::check_endpoint(&url)?;
        Ok(url)
    }

    /// `POST <api>/v1/projects/<projectId>/token?source=vercel-oidc-refresh[&teamId=<orgId>]`
    /// with the login's `bearer` token → `{"token": …}`.
    async fn mint_project_token(
        &self,
        client: &reqwest::Client,
        api: &str,
        bearer: &Secret,
    ) -> Result<Secret, RefreshError> {
        let url = self.mint_url(api)?;
        crate::log::debug!(
            "minting a token with the Vercel API for project `{}`",
            self.link.project_id
        );
        let request = client.post(url).bearer_auth(bearer.expose_secret());
        let received = http::send(request)
            .await
            .map_err(|e| self.mint_error(receive_reason(e)))?;
        let body = received.text();
        if !received.is_success() {
            return Err(self.mint_error(format!(
                "HTTP {}{}",
                received.status,
                api_error_detail(&body, &[bearer.expose_secret()])
            )));
        }
        minted(&body).ok_or_else(|| self.mint_error("the answer has no `token`".into()))
    }

    /// `<api>/v1/projects/<projectId>/token?source=vercel-oidc-refresh[&teamId=<orgId>]`, each
    /// path segment and query value encoded by the URL type.
    fn mint_url(&self, api: &str) -> Result<reqwest::Url, RefreshError> {
        let mut url = reqwest::Url::parse(api).map_err(|e| self.mint_error(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| self.mint_error(format!("`{api}` cannot hold a path")))?
            .pop_if_empty()
            .extend(["v1", "projects", &self.link.project_id, "token"]);
        let mut query = url.query_pairs_mut();
        query.append_pair("source", "vercel-oidc-refresh");
        if let Some(org) = &self.link.org_id {
            query.append_pair("teamId", org);
        }
        drop(query);
        Ok(url)
    }

    fn mint_error(&self, reason: String) -> RefreshError {
        RefreshError::Mint {
            project_id: self.link.project_id.clone(),
            reason,
        }
    }

    /// The login's bearer token, refreshed first when it has expired (or is about to).
    async fn login_token(
        &self,
        clients: &Clients,
        path: &Path,
        mut login: serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<Secret, RefreshError> {
        let token = login_secret(&login, "token");
        let expires_at = login.get("expiresAt").and_then(|e| e.as_i64());
        if let Some(token) = &token
            && expires_at.is_none_or(|e| e > now.unix_timestamp() + 60)
        {
            return Ok(token.clone());
        }
        let fail = |reason: String| RefreshError::LoginRefresh {
            path: path.to_path_buf(),
            reason,
        };
        let refresh_token = login_secret(&login, "refreshToken").ok_or_else(|| {
            if token.is_some() {
                fail("it has no refresh token".into())
            } else {
                RefreshError::NoLogin {
                    looked: path.to_path_buf(),
                }
            }
        })?;
        let tokens = self
            .refresh_login(clients, path, &refresh_token)
            .await
            .map_err(fail)?;
        save_login(path, &mut login, &tokens, now).map_err(fail)?;
        Ok(Secret::new(tokens.access_token))
    }

    /// New tokens for the login from the token endpoint of Vercel's OAuth issuer
    /// (`VERCEL_OIDC_OAUTH_ISSUER`, else `https://vercel.com`); an error is why not.
    async fn refresh_login(
        &self,
        clients: &Clients,
        path: &Path,
        refresh_token: &Secret,
    ) -> Result<LoginTokens, String> {
        let issuer = self.base_url(vars::VERCEL_OIDC_OAUTH_ISSUER, "https://vercel.com")?;
        crate::log::debug!("refreshing the Vercel CLI login in `{}`", path.display());
        let endpoint = token_endpoint(&clients.documents, &issuer).await?;
        redeem(&clients.token, &endpoint, refresh_token).await
    }
}

/// The Vercel CLI's login file as JSON; one that is missing or not JSON is no login.
fn read_login(path: &Path) -> Result<serde_json::Value, RefreshError> {
    let no_login = || RefreshError::NoLogin {
        looked: path.to_path_buf(),
    };
    let bytes = fsutil::read_capped(path, fsutil::limits::CONFIG).map_err(|error| {
        if error.is_not_found() {
            no_login()
        } else {
            RefreshError::LoginRead {
                path: path.to_path_buf(),
                error,
            }
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|_| no_login())
}

/// A non-empty string field of the login.
fn login_secret(login: &serde_json::Value, field: &str) -> Option<Secret> {
    login
        .get(field)
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .map(Secret::new)
}

/// The `token_endpoint` of `issuer`'s OpenID discovery document, checked as an endpoint.
async fn token_endpoint(documents: &reqwest::Client, issuer: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Discovery {
        token_endpoint: String,
    }
    let url = format!("{issuer}/.well-known/openid-configuration");
    let received = http::fetch(documents.get(&url))
        .await
        .map_err(|e| format!("discovery failed: {}", receive_reason(e)))?;
    if !received.is_success() {
        return Err(format!(
            "discovery failed: `{url}` answered HTTP {}",
            received.status
        ));
    }
    let discovery: Discovery = serde_json::from_slice(&received.body)
        .map_err(|_| "the discovery document has no `token_endpoint`".to_string())?;
    http::check_endpoint(&discovery.token_endpoint)?;
    Ok(discovery.token_endpoint)
}

/// What the token endpoint answers a refresh with.
#[derive(Deserialize)]
struct LoginTokens {
    access_token: String,
    token_type: String,
    expires_in: i64,
    refresh_token: Option<String>,
}

/// The `refresh_token` grant for the Vercel CLI's client at `endpoint`; an error is why it
/// failed.
async fn redeem(
    client: &reqwest::Client,
    endpoint: &str,
    refresh_token: &Secret,
) -> Result<LoginTokens, String> {
    let request = client.post(endpoint).form(&[
        ("client_id", VERCEL_CLI_CLIENT_ID),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose_secret()),
    ]);
    let received = http::send(request).await.map_err(receive_reason)?;
    let body = received.text();
    if !received.is_success() {
        return Err(format!(
            "HTTP {}{}",
            received.status,
            api_error_detail(&body, &[refresh_token.expose_secret()])
        ));
    }
    let tokens: LoginTokens = serde_json::from_str(&body)
        .map_err(|_| "the token endpoint's answer is not a token response".to_string())?;
    if !tokens.token_type.eq_ignore_ascii_case("bearer") {
        return Err(format!("unexpected token_type `{}`", tokens.token_type));
    }
    Ok(tokens)
}

/// Puts the refreshed `tokens` into `login`, keeping its other fields, and writes it back to
/// `path` (through a symlink), 0600 and atomically. A login that cannot be saved still serves
/// this run; the old one then stays on disk untouched.
fn save_login(
    path: &Path,
    login: &mut serde_json::Value,
    tokens: &LoginTokens,
    now: OffsetDateTime,
) -> Result<(), String> {
    let obj = login
        .as_object_mut()
        .ok_or("the login file is not a JSON object")?;
    obj.insert("token".into(), tokens.access_token.clone().into());
    obj.insert(
        "expiresAt".into(),
        (now.unix_timestamp() + tokens.expires_in).into(),
    );
    if let Some(r) = &tokens.refresh_token {
        obj.insert("refreshToken".into(), r.clone().into());
    }
    let text = serde_json::to_string_pretty(login).expect("json") + "\n";
    let target = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if let Err(e) = fsutil::write_private(&target, text.as_bytes()) {
        crate::log::debug!(
            "could not save the refreshed login to `{}`: {e}",
            target.display()
        );
    }
    Ok(())
}

/// The token of a `{"token": …}` answer.
fn minted(text: &str) -> Option<Secret> {
    #[derive(Deserialize)]
    struct Minted {
        token: String,
    }
    serde_json::from_str::<Minted>(text)
        .ok()
        .map(|m| Secret::new(m.token))
}

/// The most kept of what `vercel project token` prints on each of stdout and stderr.
const CLI_OUTPUT_LIMIT: u64 = 1024 * 1024;

/// How long the CLI's output may stay open after it exits (a process it started may hold it).
const CLI_PIPE_GRACE: StdDuration = StdDuration::from_secs(2);

/// Reads `stream` to its end on a thread of its own; the receiver gets [`read_output`]'s result.
fn spawn_reader(stream: impl Read + Send + 'static) -> Receiver<(String, bool)> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(read_output(stream)));
    rx
}

/// What a reader of [`spawn_reader`] got, if it finished by `deadline`.
fn collect_by(rx: Receiver<(String, bool)>, deadline: Instant) -> Option<(String, bool)> {
    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .ok()
}

/// How `child` exited; killed, an error, when it has not within `timeout`.
fn wait_within(child: &mut Child, timeout: StdDuration) -> Result<ExitStatus, RefreshError> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if start.elapsed() < timeout => {
                std::thread::sleep(StdDuration::from_millis(20))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RefreshError::Cli(format!(
                    "it did not finish within {}s",
                    timeout.as_secs()
                )));
            }
            Err(e) => return Err(RefreshError::Cli(e.to_string())),
        }
    }
}

/// The last `n` non-blank lines of `text`, joined with ` / `.
fn last_lines(text: &str, n: usize) -> String {
    let mut tail: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .rev()
        .take(n)
        .collect();
    tail.reverse();
    tail.join(" / ")
}

/// What a child printed on one stream, up to [`CLI_OUTPUT_LIMIT`], and whether that was all of
/// it; the rest is read and dropped, so that the child never blocks on a full pipe.
fn read_output(mut stream: impl Read) -> (String, bool) {
    let mut kept = Vec::new();
    let _ = (&mut stream)
        .take(CLI_OUTPUT_LIMIT + 1)
        .read_to_end(&mut kept);
    let whole = kept.len() as u64 <= CLI_OUTPUT_LIMIT;
    if !whole {
        kept.truncate(CLI_OUTPUT_LIMIT as usize);
        let _ = std::io::copy(&mut stream, &mut std::io::sink());
    }
    (String::from_utf8_lossy(&kept).into_owned(), whole)
}

/// The two clients of a refresh: one for requests that carry the login or its refresh token
/// (no redirect followed), one for the public OAuth discovery document.
struct Clients {
    token: reqwest::Client,
    documents: reqwest::Client,
}

/// What went wrong with a request, as a clause: `it answered HTTP 307 with a redirect to …`.
fn receive_reason(e: http::ReceiveError) -> String {
    match e {
        http::ReceiveError::Network { detail, .. } => detail,
        other => format!("it {other}"),
    }
}

/// ` (<message>)` from a Vercel API or OAuth error body, when it has one, redacted with `sent`
/// (the credential the request carried).
fn api_error_detail(body: &str, sent: &[&str]) -> String {
    let v: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return String::new(),
    };
    let msg = v
        .pointer("/error/message")
        .or_else(|| v.get("error_description"))
        .or_else(|| v.get("error"))
        .and_then(|m| m.as_str());
    msg.map(|m| format!(" ({})", http::server_text(m, sent)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_is_found_walking_up() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let find = || find_link(&Walk::new(&nested, crate::ownership::Owners::strict()));
        assert!(find().is_none());
        std::fs::create_dir_all(dir.path().join("a/.vercel")).unwrap();
        assert!(
            find().is_none(),
            "a .vercel folder without project.json is not linked"
        );
        let json = dir.path().join("a/.vercel/project.json");
        std::fs::write(&json, r#"{"projectId":"prj_1","orgId":"team_1"}"#).unwrap();
        let link = find().unwrap().unwrap();
        assert_eq!(link.project_id, "prj_1");
        assert_eq!(link.org_id.as_deref(), Some("team_1"));
        assert_eq!(link.root, dir.path().join("a"));
        std::fs::write(&json, "{").unwrap();
        let err = find().unwrap().unwrap_err().to_string();
        assert!(
            err.contains("is not JSON") && err.contains("vercel link"),
            "{err}"
        );
        std::fs::write(&json, r#"{"orgId":"x"}"#).unwrap();
        assert!(
            find()
                .unwrap()
                .unwrap_err()
                .to_string()
                .contains("no `projectId`")
        );
    }

    #[test]
    fn ids_have_the_shapes_vercel_issues() {
        let project = |id: &str| ids::project_id(id).map_err(|e| e.to_string());
        let org = |id: &str| ids::org_id(id).map_err(|e| e.to_string());
        for good in ["prj_1", "prj_ExTFWgs8imGtKhq3TZZXaYgkWIXd"] {
            assert_eq!(project(good).as_deref(), Ok(good));
        }
        for good in ["team_JQA0H42e2w989PGtnkin3Boi", "AbC123userid", "team_x"] {
            assert_eq!(org(good).as_deref(), Ok(good));
        }
        let shape = "`prj_` then letters and digits";
        for bad in [
            "prj_",
            "prj_../../x",
            "prj_a/b",
            "--help",
            "prj_a?b",
            "prj_a b",
            "PRJ_a",
            "prj_a\n",
            "prj_a.json",
            "x",
            "prj_%2e%2e",
        ] {
            assert_eq!(
                project(bad),
                Err(format!(
                    "its `projectId` `{}` is not an id Vercel issues ({shape})",
                    crate::outside::escaped(bad)
                ))
            );
        }
        let long = format!("prj_{}", "a".repeat(65));
        assert!(project(&long).is_err());
        for bad in [
            "team_a&x=1",
            "--scope",
            "team_",
            "a/b",
            "",
            "-x",
            "team_a\u{1b}[2J",
        ] {
            assert!(org(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_store_path_holds_one_file_name() {
        assert_eq!(
            fsutil::file_in(Path::new("/d"), "prj_1.json").unwrap(),
            Path::new("/d/prj_1.json")
        );
        for bad in ["", ".", "..", "a/b", "../x.json", "a\0b"] {
            let err = fsutil::file_in(Path::new("/d"), bad).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn data_dir_precedence() {
        let env = Env::from_pairs([(vars::XDG_DATA_HOME, "/xdg"), (vars::HOME, "/h")], "/");
        assert_eq!(data_dir(&env), Some(PathBuf::from("/xdg")));
        let env = Env::from_pairs([(vars::HOME, "/h")], "/");
        assert!(data_dir(&env).unwrap().starts_with("/h"));
    }

    #[test]
    fn api_error_details() {
        assert_eq!(
            api_error_detail(
                r#"{"error":{"code":"forbidden","message":"no access"}}"#,
                &[]
            ),
            " (no access)"
        );
        assert_eq!(
            api_error_detail(r#"{"error":"invalid_grant"}"#, &[]),
            " (invalid_grant)"
        );
        assert_eq!(api_error_detail("<html>", &[]), "");
        assert_eq!(
            api_error_detail(
                r#"{"error":{"message":"bad login vca_secret-login-1 for you"}}"#,
                &["vca_secret-login-1"]
            ),
            " (bad login [redacted] for you)"
        );
    }
}
