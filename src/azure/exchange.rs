//! The exchange with Entra ID as every caller makes it (the commands, `exec`, `doctor`): a live
//! token, the shared cache bound to it, then Entra ID (see [`crate::session`]).

use crate::session::{ExchangeError, Session};
use crate::token::OidcToken;

use super::{AccessToken, AzureConfig, EntraClient, EntraError, MIN_REMAINING, cache_key};

/// An Entra ID access token for `scope` with `config`'s app.
pub fn access_token(
    session: &Session,
    config: &AzureConfig,
    scope: &str,
    token: OidcToken,
    no_cache: bool,
) -> Result<AccessToken, ExchangeError<EntraError>> {
    let request = config.request(scope);
    session.exchange(
        token,
        no_cache,
        MIN_REMAINING,
        |t| cache_key(&request, &config.authority, t.claims()),
        |t| {
            let entra =
                EntraClient::new(session.http()?, config.authority.clone(), session.retry())
                    .in_build(session.env().in_build())
                    .with_clock(session.clock());
            let access = session
                .block_on(entra.request_token(&request, t))?
                .map_err(ExchangeError::from_cloud)?;
            let expires = access.expires_at();
            Ok((access, expires))
        },
    )
}
