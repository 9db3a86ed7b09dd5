//! The exchange with STS as every caller makes it (the commands, `exec`, `doctor`, the Rust
//! provider): a live token, the shared cache bound to it, then STS (see [`crate::session`]).

use time::Duration;

use crate::session::{ExchangeError, Session};
use crate::token::OidcToken;

use super::{AwsConfig, AwsCredentials, StsClient, StsError, cache_key};

/// AWS credentials for `config` that have the cache's margin left.
pub fn credentials(
    session: &Session,
    config: &AwsConfig,
    token: OidcToken,
    no_cache: bool,
) -> Result<AwsCredentials, ExchangeError<StsError>> {
    credentials_lasting(session, config, token, no_cache, config.min_remaining())
}

/// AWS credentials for `config` with more than `min_remaining` left.
pub fn credentials_lasting(
    session: &Session,
    config: &AwsConfig,
    token: OidcToken,
    no_cache: bool,
    min_remaining: Duration,
) -> Result<AwsCredentials, ExchangeError<StsError>> {
    session.exchange(
        token,
        no_cache,
        min_remaining,
        |t| cache_key(&config.request(t.claims()), &config.endpoint, t.claims()),
        |t| {
            let sts = StsClient::new(session.http()?, config.endpoint.clone(), session.retry())
                .with_clock(session.clock());
            let request = config.request(t.claims());
            let creds = session
                .block_on(sts.assume_role_with_web_identity(&request, t))?
                .map_err(ExchangeError::from_cloud)?;
            let expires = creds.expiration;
            Ok((creds, expires))
        },
    )
}
