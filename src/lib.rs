//! `vercel-oidc`: trade Vercel's OIDC token for short-lived cloud credentials.
//!
//! The binary is the main product; this library exposes the pieces a Rust program needs to do the
//! same in process:
//!
//! - [`token`]: find and decode the Vercel OIDC token (`VERCEL_OIDC_TOKEN`, a token file, or
//!   `.env.local` written by `vercel env pull`).
//! - [`aws`]: STS `AssumeRoleWithWebIdentity`, and [`aws::VercelOidcCredentialsProvider`], an
//!   `aws-config` credentials provider backed by the Vercel token.
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
pub mod gcp;
pub mod http;
pub mod log;
pub mod output;
pub mod project;
pub mod refresh;
pub mod secret;
pub mod timefmt;
pub mod token;
pub mod verify;

pub use env::Env;
pub use secret::Secret;
