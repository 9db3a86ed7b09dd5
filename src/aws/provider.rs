//! An `aws-config` credentials provider backed by the Vercel OIDC token: the Rust counterpart of
//! `@vercel/oidc-aws-credentials-provider`, doing what `vercel-oidc aws credential-process`
//! does.
//!
//! Each call finds the token afresh (see [`crate::token`]; in local development an expiring one
//! is refreshed), and resolves the AWS settings as the CLI does: the builder's values, then the
//! environment variables, then `vercel-oidc.toml` for the token's environment (see
//! [`crate::aws::settings`]). Credentials come from the on-disk cache the binary shares while
//! they have 20 minutes left and were fetched with the same token, else from STS. Each of the cache, the refresh and the project
//! file can be turned off on the builder.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use vercel_oidc::aws::VercelOidcCredentialsProvider;
//!
//! let provider = VercelOidcCredentialsProvider::builder()
//!     .role_arn("arn:aws:iam::123456789012:role/vercel-deploy")
//!     .region("eu-west-1")
//!     .build()?;
//! let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
//!     .credentials_provider(provider)
//!     .load()
//!     .await;
//! # let _ = config; Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials};

use crate::aws::settings::{self as table, TABLE};
use crate::aws::{AwsConfig, ConfigError};
use crate::env::Env;
use crate::http::{HttpSetupError, RetryPolicy};
use crate::project::{ProjectConfig, ProjectConfigError};
use crate::session::{self, ExchangeError, Session};
use crate::settings::{Given, Origin, Raw, Setting};
use crate::token::OidcToken;
use crate::vars;

const PROVIDER_NAME: &str = "VercelOidc";

/// Errors from [`Builder::build`].
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Http(#[from] HttpSetupError),
    #[error(transparent)]
    Project(#[from] ProjectConfigError),
    #[error(transparent)]
    Env(#[from] crate::env::NotText),
}

/// Supplies AWS credentials by exchanging the Vercel OIDC token with STS.
#[derive(Clone, Debug)]
pub struct VercelOidcCredentialsProvider {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    session: Session,
    given: Given,
    project: ProjectConfig,
    endpoint_url: Option<String>,
    no_cache: bool,
}

/// Configures a [`VercelOidcCredentialsProvider`]. Unset settings come from the environment and
/// `vercel-oidc.toml` as the CLI reads them (`AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`,
/// `VERCEL_OIDC_AWS_REGION`, then `AWS_REGION`, ...).
#[derive(Debug, Default)]
pub struct Builder {
    env: Option<Env>,
    token_file: Option<PathBuf>,
    given: Given,
    endpoint_url: Option<String>,
    http: Option<reqwest::Client>,
    retry: Option<RetryPolicy>,
    no_cache: Option<bool>,
    no_refresh: Option<bool>,
    no_project_config: bool,
}

impl VercelOidcCredentialsProvider {
    pub fn builder() -> Builder {
        Builder::default()
    }

    async fn load(&self) -> provider::Result {
        let inner = Arc::clone(&self.inner);
        let creds = tokio::task::spawn_blocking(move || inner.credentials())
            .await
            .map_err(CredentialsError::unhandled)??;
        Ok(Credentials::new(
            creds.access_key_id,
            creds.secret_access_key.expose_secret(),
            Some(creds.session_token.expose_secret().to_string()),
            Some(SystemTime::from(creds.expiration)),
            PROVIDER_NAME,
        ))
    }
}

impl Inner {
    /// The settings for a token of `environment`, checked.
    fn config(&self, environment: Option<&str>) -> Result<AwsConfig, ConfigError> {
        let settings = self
            .project
            .resolve(&TABLE, &self.given, self.session.env(), environment);
        let config = AwsConfig::from_settings(&settings, self.session.env())?;
        match &self.endpoint_url {
            Some(url) => config.with_endpoint_url(url),
            None => Ok(config),
        }
    }

    fn credentials(&self) -> Result<crate::aws::AwsCredentials, CredentialsError> {
        let token = self.session.load_token().map_err(not_loaded_or_invalid)?;
        let config = self
            .config(token.claims().environment.as_deref())
            .map_err(CredentialsError::invalid_configuration)?;
        super::credentials(&self.session, &config, token, self.no_cache).map_err(|e| match e {
            ExchangeError::Session(
                e @ (session::Error::Token(_) | session::Error::Refresh { .. }),
            ) => not_loaded_or_invalid(e),
            other => CredentialsError::provider_error(other),
        })
    }
}

/// No token at all is "not loaded", so that a chain goes on to the next provider; a token that
/// is there but unusable is a configuration error.
fn not_loaded_or_invalid(e: session::Error) -> CredentialsError {
    if e.is_missing_token() {
        CredentialsError::not_loaded(e)
    } else {
        CredentialsError::invalid_configuration(e)
    }
}

impl ProvideCredentials for VercelOidcCredentialsProvider {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(self.load())
    }
}

impl Builder {
    /// Sets any AWS setting of [`crate::aws::settings`], as its flag would.
    ///
    /// # Panics
    ///
    /// When `setting` is not one of the AWS table's.
    pub fn setting(mut self, setting: &Setting, value: impl Into<String>) -> Self {
        assert!(
            TABLE
                .setting(setting.name)
                .is_some_and(|own| std::ptr::eq(own, setting)),
            "`{}` is not an AWS setting",
            setting.name
        );
        let raw = match setting.kind {
            crate::settings::Kind::List => Raw::List(vec![value.into()]),
            _ => Raw::One(value.into()),
        };
        self.given.set(&TABLE, setting, raw, Origin::Given);
        self
    }

    /// The IAM role to assume (default: `AWS_ROLE_ARN`).
    pub fn role_arn(self, arn: impl Into<String>) -> Self {
        self.setting(&table::ROLE_ARN, arn)
    }

    /// The STS session name (default: `AWS_ROLE_SESSION_NAME`, else `vercel-<project>-<env>`).
    pub fn session_name(self, name: impl Into<String>) -> Self {
        self.setting(&table::SESSION_NAME, name)
    }

    /// Credential lifetime in seconds, 900–43200 (default 3600).
    pub fn duration_seconds(self, seconds: u32) -> Self {
        self.setting(&table::DURATION_SECONDS, seconds.to_string())
    }

    /// The region whose STS endpoint is called (default: `VERCEL_OIDC_AWS_REGION`, the
    /// project file, `AWS_REGION`, else the global one).
    pub fn region(self, region: impl Into<String>) -> Self {
        self.setting(&table::REGION, region)
    }

    /// Adds a managed session policy.
    pub fn policy_arn(mut self, arn: impl Into<String>) -> Self {
        self.given.push(&TABLE, &table::POLICY_ARNS, arn.into());
        self
    }

    /// An inline session policy (JSON).
    pub fn policy(self, json: impl Into<String>) -> Self {
        self.setting(&table::POLICY, json)
    }

    /// Calls STS at this URL instead of the one the region implies.
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Reads the token from this file instead of the usual sources.
    pub fn token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token_file = Some(path.into());
        self
    }

    /// Uses this environment instead of the process's (for tests and embedders).
    pub fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    /// Neither reads nor writes the on-disk cache shared with the binary (default: as
    /// `VERCEL_OIDC_NO_CACHE` says, as for the binary).
    pub fn no_cache(mut self) -> Self {
        self.no_cache = Some(true);
        self
    }

    /// Never refreshes an expired token through the Vercel CLI or API (default: as
    /// `VERCEL_OIDC_NO_REFRESH` says, as for the binary).
    pub fn no_refresh(mut self) -> Self {
        self.no_refresh = Some(true);
        self
    }

    /// Does not read `vercel-oidc.toml`.
    pub fn no_project_config(mut self) -> Self {
        self.no_project_config = true;
        self
    }

    /// Uses this HTTP client instead of one configured from the environment. It must follow no
    /// redirect (build it with `redirect(reqwest::redirect::Policy::none())`, as
    /// `crate::http::client` does): STS is sent the token, and a redirect would send it on.
    /// Should it follow one anyway, the answer is refused.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Uses this retry policy instead of the default (4 attempts within 5 seconds).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Checks the settings (for the environment of the token found now, if any).
    pub fn build(self) -> Result<VercelOidcCredentialsProvider, BuildError> {
        let env = self.env.unwrap_or_else(Env::from_process);
        env.check_text()?;
        let project = if self.no_project_config {
            ProjectConfig::default()
        } else {
            ProjectConfig::load(&env, None, &crate::clouds::tables())?
        };
        let http = match self.http {
            Some(client) => client,
            None => crate::http::client(&env)?,
        };
        let environment = crate::token::load(&env, self.token_file.as_deref())
            .ok()
            .and_then(|t: OidcToken| t.claims().environment.clone());
        let no_cache = self
            .no_cache
            .unwrap_or_else(|| env.flag(vars::VERCEL_OIDC_NO_CACHE));
        let no_refresh = self
            .no_refresh
            .unwrap_or_else(|| env.flag(vars::VERCEL_OIDC_NO_REFRESH));
        let session = Session::new(env)
            .token_file(self.token_file)
            .refresh(!no_refresh)
            .http_client(http)
            .retry_policy(self.retry.unwrap_or_default());
        let inner = Inner {
            session,
            given: self.given,
            project,
            endpoint_url: self.endpoint_url,
            no_cache,
        };
        inner.config(environment.as_deref())?;
        Ok(VercelOidcCredentialsProvider {
            inner: Arc::new(inner),
        })
    }
}
