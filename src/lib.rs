//! `vercel-oidc`: trade Vercel's OIDC token for short-lived cloud credentials.
//!
//! The binary is the main product; this library does the same in process. Its public API:
//!
//! - [`token`]: find and decode the Vercel OIDC token (`VERCEL_OIDC_TOKEN`, a token file, or
//!   `.env.local` written by `vercel env pull`).
//! - [`Session`]: what every exchange shares: a local refresh of an expiring token, the shared
//!   on-disk cache (bound to the token), the HTTP client. Each cloud's exchange takes it
//!   ([`aws::credentials`], [`gcp::access_token`], [`azure::access_token`]) with its
//!   configuration ([`aws::AwsConfig`], [`gcp::GcpConfig`], [`azure::AzureConfig`]), checked from its
//!   cloud's [`settings`] table (flags or code, then environment variables, then
//!   `vercel-oidc.toml` through [`project`]).
//! - [`aws::VercelOidcCredentialsProvider`]: an `aws-config` credentials provider doing what
//!   `vercel-oidc aws credential-process` does.
//! - [`verify`]: full verification of a Vercel token (discovery, JWKS, RS256, claims) for APIs
//!   that trust Vercel.
//! - [`vars`]: every environment variable name; [`problem`], [`refusal`] and [`transport`]:
//!   errors as data; [`outside`]: text from a token, a server or a file, shown escaped.
//!
//! Without the default `cli` feature (`default-features = false`) the library builds no command
//! line and does not depend on clap.
//!
//! The token, and who it says it is:
//!
//! ```no_run
//! # fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let env = vercel_oidc::Env::from_process();
//! env.check_text()?; // a variable read as text whose value is not UTF-8, named
//! let token = vercel_oidc::token::load(&env, None)?;
//! println!("{} ({})", token.claims().sub, token.source());
//! # Ok(()) }
//! ```
//!
//! AWS credentials, GCP and Azure access tokens, resolving each cloud's settings as the binary
//! does (here from the environment alone):
//!
//! ```no_run
//! # fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use vercel_oidc::settings::{FileLayers, Given, Resolved};
//! use vercel_oidc::{Env, Session, aws, azure, gcp};
//!
//! let env = Env::from_process();
//! env.check_text()?;
//! let session = Session::new(env.clone());
//! let resolve = |table| Resolved::resolve(table, &Given::default(), &env, FileLayers::default());
//!
//! let config = aws::AwsConfig::from_settings(&resolve(&aws::settings::TABLE), &env)?;
//! let creds = aws::credentials(&session, &config, session.load_token()?, false)?;
//!
//! let config = gcp::GcpConfig::from_settings(&resolve(&gcp::settings::TABLE))?;
//! let google = gcp::access_token(&session, &config, session.load_token()?, false)?;
//!
//! let config = azure::AzureConfig::from_settings(&resolve(&azure::settings::TABLE))?;
//! let scope = "https://management.azure.com/.default";
//! let entra = azure::access_token(&session, &config, scope, session.load_token()?, false)?;
//! # let _ = (creds, google, entra); Ok(()) }
//! ```
//!
//! The provider, for the AWS SDK for Rust:
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use vercel_oidc::aws::VercelOidcCredentialsProvider;
//!
//! let provider = VercelOidcCredentialsProvider::builder()
//!     .role_arn("arn:aws:iam::123456789012:role/vercel-deploy")
//!     .build()?;
//! let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
//!     .credentials_provider(provider)
//!     .load()
//!     .await;
//! # let _ = config; Ok(()) }
//! ```
//!
//! Verifying a token that a request carries, as an API that trusts Vercel:
//!
//! ```no_run
//! # async fn example(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use vercel_oidc::verify::{Verifier, VerifyConfig, VerifyOptions};
//!
//! let config = VerifyConfig::from_options(&VerifyOptions {
//!     issuer: Some("https://oidc.vercel.com/acme".into()),
//!     audience: Some("https://vercel.com/acme".into()),
//!     project_ids: vec!["prj_a1b2c3".into()],
//!     ..VerifyOptions::default()
//! })?;
//! let verifier = Verifier::for_env(config, &vercel_oidc::Env::from_process())?;
//! let verified = verifier.verify(token).await?;
//! println!("{}", verified.payload["sub"]);
//! # Ok(()) }
//! ```

pub mod aws;
pub mod azure;
pub(crate) mod cache;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
pub mod cloud;
pub mod clouds;
pub mod env;
pub(crate) mod fsutil;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod fuzzing;
pub mod gcp;
pub(crate) mod http;
pub(crate) mod log;
#[doc(hidden)]
pub mod output;
pub mod outside;
pub mod ownership;
#[cfg(feature = "cli")]
pub(crate) mod peer;
pub mod problem;
pub mod project;
pub(crate) mod refresh;
pub mod refusal;
#[cfg(feature = "cli")]
pub(crate) mod rundir;
pub mod secret;
pub mod session;
pub mod settings;
#[doc(hidden)]
pub mod timefmt;
pub mod token;
pub mod transport;
pub mod vars;
pub mod verify;
pub mod walk;

pub use cache::UntrustedCache;
pub use env::{Env, NotText};
pub use fsutil::{DirError, Limit, ReadError};
pub use http::ReceiveError;
pub use http::{HttpSetupError, RetryPolicy};
pub use refresh::RefreshError;
pub use secret::Secret;
pub use session::Session;
