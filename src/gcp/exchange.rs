//! The exchange with Google as every caller makes it (the commands, `exec`, `doctor`): a live
//! token, the shared cache bound to it, then Google STS and IAM Credentials (see
//! [`crate::session`]).

use crate::session::{ExchangeError, Session};
use crate::token::OidcToken;

use super::{AccessToken, GcpClient, GcpConfig, GcpError, cache_key};

/// A Google access token for `config`.
pub fn access_token(
    session: &Session,
    config: &GcpConfig,
    token: OidcToken,
    no_cache: bool,
) -> Result<AccessToken, ExchangeError<GcpError>> {
    session.exchange(
        token,
        no_cache,
        config.min_remaining(),
        |t| cache_key(config, t.claims()),
        |t| {
            let client =
                GcpClient::new(session.http()?, session.retry()).with_clock(session.clock());
            let access = session
                .block_on(client.access_token(config, t))?
                .map_err(ExchangeError::from_cloud)?;
            let expires = access.expires_at();
            Ok((access, expires))
        },
    )
}
