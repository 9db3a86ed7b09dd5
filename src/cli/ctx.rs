//! What every subcommand needs: the session and the global flags.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::env::Env;
use crate::project::ProjectConfig;
use crate::session::{self, Session};
use crate::settings::{Given, Resolved, Table};
use crate::token::OidcToken;

/// What every subcommand needs: the session (the environment read once at start, the token's
/// source, refresh on or off) and the global flags.
pub struct Ctx {
    pub session: Session,
    /// `--project-dir`, absolute, when given.
    pub project_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    /// Every cloud's settings table: the sections `vercel-oidc.toml` may have.
    pub tables: Vec<&'static Table>,
}

impl Ctx {
    pub fn env(&self) -> &Env {
        self.session.env()
    }

    pub fn now(&self) -> OffsetDateTime {
        self.session.now()
    }

    /// `--token-file`, when given.
    pub fn token_file(&self) -> Option<&Path> {
        self.session.token_path()
    }

    /// The project config (`vercel-oidc.toml`), or an empty one when there is none.
    pub fn project(&self) -> anyhow::Result<ProjectConfig> {
        Ok(ProjectConfig::load(
            self.env(),
            self.config.as_deref(),
            &self.tables,
        )?)
    }

    /// One cloud's settings: the flags `given`, then the environment, then the project config
    /// found from here, its sections for the token's environment ([`ProjectConfig::resolve`]).
    pub fn settings(
        &self,
        table: &'static Table,
        given: &Given,
        token: Option<&OidcToken>,
    ) -> anyhow::Result<Resolved> {
        let environment = token.and_then(|t| t.claims().environment.as_deref());
        Ok(self
            .project()?
            .resolve(table, given, self.env(), environment))
    }

    /// See [`Session::load_token`].
    pub fn load_token(&self) -> Result<OidcToken, session::Error> {
        self.session.load_token()
    }

    /// See [`Session::fresh`].
    pub fn fresh(&self, token: OidcToken) -> Result<OidcToken, session::Error> {
        self.session.fresh(token)
    }

    /// A single-threaded runtime, made only when something must go over the network.
    pub fn runtime(&self) -> anyhow::Result<tokio::runtime::Runtime> {
        Ok(tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?)
    }

    /// See [`Session::cache`].
    pub fn cache(&self, no_cache: bool) -> anyhow::Result<Option<crate::cache::Cache>> {
        Ok(self.session.cache(no_cache)?)
    }
}
