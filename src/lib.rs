//! `vercel-oidc`: trade Vercel's OIDC token for short-lived cloud credentials.
//!
//! The binary is the main product; this library exposes the pieces a Rust program needs to do the
//! same in process:
//!
//! - [`token`]: find and decode the Vercel OIDC token (`VERCEL_OIDC_TOKEN`, a token file, or
//!   `.env.local` written by `vercel env pull`).
//! - [`refresh`]: a fresh token for local development, through the Vercel CLI or its login.
//! - [`aws`]: STS `AssumeRoleWithWebIdentity`, and [`aws::VercelOidcCredentialsProvider`], an
//!   `aws-config` credentials provider backed by the Vercel token.
//! - [`gcp`]: `external_account` credential files, the executable-sourced response, and the
//!   STS / IAM Credentials exchange.
//! - [`azure`]: federated token files and the Entra ID client-assertion exchange.
//! - [`verify`]: full verification of a Vercel token (discovery, JWKS, RS256, claims) for APIs
//!   that trust Vercel.
//! - [`project`]: `vercel-oidc.toml`, the settings of each cloud per Vercel environment.
//! - [`cache`], [`http`], [`fsutil`]: the shared private cache, the HTTP client and retries, and
//!   bounded reads and atomic private files that all of the above use; [`rundir`]: the private
//!   directory of one `exec` run.
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

pub mod aws;
pub mod azure;
pub mod cache;
pub mod env;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod gcp;
pub mod http;
pub mod log;
pub mod output;
pub mod problem;
pub mod project;
pub mod refresh;
pub mod refusal;
pub mod rundir;
pub mod secret;
pub mod session;
pub mod settings;
pub mod timefmt;
pub mod token;
pub mod vars;
pub mod verify;

pub use env::Env;
pub use secret::Secret;
pub use session::Session;
