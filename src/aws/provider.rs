//! An `aws-config` credentials provider backed by the Vercel OIDC token: the Rust counterpart of
//! `@vercel/oidc-aws-credentials-provider`.
//!
//! Each call finds the token afresh (see [`crate::token`]), so a token file that is rewritten is
//! picked up, then calls STS. The SDK's identity cache keeps the result in process; nothing is
//! written to disk.
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
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials};
use time::OffsetDateTime;

use crate::aws::{AwsConfig, AwsOptions, ConfigError, StsClient};
use crate::env::Env;
use crate::http::{self, HttpSetupError, RetryPolicy};
use crate::token::{self, TokenError};

const PROVIDER_NAME: &str = "VercelOidc";

/// Errors from [`Builder::build`].
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Http(#[from] HttpSetupError),
}

/// Supplies AWS credentials by exchanging the Vercel OIDC token with STS.
#[derive(Debug)]
pub struct VercelOidcCredentialsProvider {
    env: Env,
    token_file: Option<PathBuf>,
    config: AwsConfig,
    sts: StsClient,
}

/// Configures a [`VercelOidcCredentialsProvider`]. Unset settings come from the environment as
/// the CLI reads them (`AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`, `AWS_REGION`, ...).
#[derive(Debug, Default)]
pub struct Builder {
    env: Option<Env>,
    token_file: Option<PathBuf>,
    options: AwsOptions,
    http: Option<reqwest::Client>,
    retry: Option<RetryPolicy>,
}

impl VercelOidcCredentialsProvider {
    pub fn builder() -> Builder {
        Builder::default()
    }

    async fn load(&self) -> provider::Result {
        let now = OffsetDateTime::now_utc();
        let token =
            token::load_fresh(&self.env, self.token_file.as_deref(), now).map_err(|e| match e {
                TokenError::NotFound { .. } => CredentialsError::not_loaded(e),
                other => CredentialsError::invalid_configuration(other),
            })?;
        let request = self.config.request(token.claims());
        let creds = self
            .sts
            .assume_role_with_web_identity(&request, &token)
            .await
            .map_err(CredentialsError::provider_error)?;
        Ok(Credentials::new(
            creds.access_key_id,
            creds.secret_access_key.expose_secret(),
            Some(creds.session_token.expose_secret().to_string()),
            Some(SystemTime::from(creds.expiration)),
            PROVIDER_NAME,
        ))
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
    /// The IAM role to assume (default: `AWS_ROLE_ARN`).
    pub fn role_arn(mut self, arn: impl Into<String>) -> Self {
        self.options.role_arn = Some(arn.into());
        self
    }

    /// The STS session name (default: `AWS_ROLE_SESSION_NAME`, else `vercel-<project>-<env>`).
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.options.session_name = Some(name.into());
        self
    }

    /// Credential lifetime in seconds, 900–43200 (default 3600).
    pub fn duration_seconds(mut self, seconds: u32) -> Self {
        self.options.duration_seconds = Some(seconds);
        self
    }

    /// The region whose STS endpoint is called (default: `AWS_REGION`, else the global one).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.options.region = Some(region.into());
        self
    }

    /// Adds a managed session policy.
    pub fn policy_arn(mut self, arn: impl Into<String>) -> Self {
        self.options.policy_arns.push(arn.into());
        self
    }

    /// An inline session policy (JSON).
    pub fn policy(mut self, json: impl Into<String>) -> Self {
        self.options.policy = Some(json.into());
        self
    }

    /// Calls STS at this URL instead of the one the region implies.
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.options.endpoint_url = Some(url.into());
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

    /// Uses this HTTP client instead of one configured from the environment. It must follow no
    /// redirect (build it with `redirect(reqwest::redirect::Policy::none())`, as
    /// [`crate::http::client`] does): STS is sent the token, and a redirect would send it on.
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

    pub fn build(self) -> Result<VercelOidcCredentialsProvider, BuildError> {
        let env = self.env.unwrap_or_else(Env::from_process);
        let mut options = self.options;
        options.role_arn = options
            .role_arn
            .or_else(|| env.get("AWS_ROLE_ARN").map(String::from));
        options.session_name = options
            .session_name
            .or_else(|| env.get("AWS_ROLE_SESSION_NAME").map(String::from));
        let config = AwsConfig::from_options(&options, &env)?;
        let http = match self.http {
            Some(client) => client,
            None => http::client(&env)?,
        };
        let sts = StsClient::new(
            http,
            config.endpoint.clone(),
            self.retry.unwrap_or_default(),
        );
        Ok(VercelOidcCredentialsProvider {
            env,
            token_file: self.token_file,
            config,
            sts,
        })
    }
}
