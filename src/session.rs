//! The exchange sequence, shared by every cloud's exchange and so by every command, `exec`, `doctor`
//! and the Rust provider: a live token first (refreshed in local development; an expired one is
//! an error, whatever the cache holds), then the shared cache, whose entries are bound to the
//! exact token that got them, then the cache's lock and the fetch, so that concurrent callers
//! make one request between them. A cached result is never handed to a token that has expired,
//! nor to another token carrying the same claims, whose signature only the cloud checks.
//!
//! A [`Session`] holds what that needs: the environment, where the token comes from, whether it
//! may be refreshed, and the HTTP client and retry policy to use.
//!
//! The exchanges block: call them from a thread that drives no async task (a plain thread, or
//! `tokio::task::spawn_blocking` as the Rust provider does). On a thread that does, they panic,
//! as every blocking call into a Tokio runtime does there.
//!
//! Each cloud's exchange lives in the cloud's own folder and takes a session: the session knows
//! no cloud, and an exchange's error keeps both parts as types ([`ExchangeError`]).

use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};

use crate::cache::{self, Cache, UntrustedCache};
use crate::env::Env;
use crate::http::{self, HttpSetupError, RetryPolicy};
use crate::problem::{Explain, Explanation};
use crate::refresh::{self, RefreshError, Refresher};
use crate::token::{self, OidcToken, TokenError, TokenSource};

/// Why there is no token to exchange, or no way to exchange it: what every exchange shares,
/// before any cloud is asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The token is missing or expired, and a local refresh failed too.
    #[error("{}", self.explain())]
    Refresh {
        token: Box<TokenError>,
        refresh: Box<RefreshError>,
    },
    #[error(transparent)]
    Cache(#[from] UntrustedCache),
    #[error(transparent)]
    Http(#[from] HttpSetupError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl Explain for Error {
    /// For a failed refresh: the token's problem, then what to do about it and why the refresh
    /// failed.
    fn explain(&self) -> Explanation {
        match self {
            Self::Token(e) => e.explain(),
            Self::Refresh { token, refresh } => {
                let fix = token.fix().unwrap_or_default();
                Explanation::new(
                    token.problem(),
                    format!("{fix}\n  automatic refresh failed: {refresh}"),
                )
            }
            Self::Http(e) => e.explain(),
            Self::Cache(_) | Self::Runtime(_) => Explanation {
                problem: self.to_string(),
                fix: None,
            },
        }
    }
}

impl Error {
    /// Whether there is no token at all (not even one to refresh): a credentials chain may go
    /// on to its next provider.
    pub fn is_missing_token(&self) -> bool {
        match self {
            Self::Token(token) => matches!(token, TokenError::NotFound { .. }),
            Self::Refresh { token, .. } => matches!(**token, TokenError::NotFound { .. }),
            _ => false,
        }
    }
}

/// Why an exchange with a cloud gave nothing: what every exchange shares ([`Error`]), or the
/// cloud's own error `E`, each kept as its type.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError<E> {
    #[error(transparent)]
    Session(#[from] Error),
    #[error(transparent)]
    Cloud(Box<E>),
}

impl<E> ExchangeError<E> {
    /// The cloud's own error `e`.
    pub fn from_cloud(e: E) -> Self {
        Self::Cloud(Box::new(e))
    }

    /// The cloud's own error, when it is one.
    pub fn cloud(&self) -> Option<&E> {
        match self {
            Self::Cloud(e) => Some(e.as_ref()),
            Self::Session(_) => None,
        }
    }
}

impl<E: Explain> Explain for ExchangeError<E> {
    fn explain(&self) -> Explanation {
        match self {
            Self::Session(e) => e.explain(),
            Self::Cloud(e) => e.as_ref().explain(),
        }
    }
}

impl<E> From<HttpSetupError> for ExchangeError<E> {
    fn from(e: HttpSetupError) -> Self {
        Self::Session(e.into())
    }
}

impl<E> From<TokenError> for ExchangeError<E> {
    fn from(e: TokenError) -> Self {
        Self::Session(e.into())
    }
}

/// The environment, the token's source and the network, for exchanges.
#[derive(Clone, Debug)]
pub struct Session {
    env: Env,
    token_file: Option<PathBuf>,
    refresh: bool,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    clock: fn() -> OffsetDateTime,
}

impl Session {
    /// A session reading `env`: the token from its usual sources, refreshed in local
    /// development, over an HTTP client configured from `env`.
    pub fn new(env: Env) -> Self {
        Self {
            env,
            token_file: None,
            refresh: true,
            http: None,
            retry: RetryPolicy::default(),
            clock: OffsetDateTime::now_utc,
        }
    }

    /// Reads the token from this file before the usual sources.
    pub fn token_file(mut self, path: Option<PathBuf>) -> Self {
        self.token_file = path;
        self
    }

    /// Whether an expired token may be refreshed through the Vercel CLI or API.
    pub fn refresh(mut self, on: bool) -> Self {
        self.refresh = on;
        self
    }

    /// Uses this HTTP client: it must follow no redirect (see `http::client`).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn env(&self) -> &Env {
        &self.env
    }

    pub fn token_path(&self) -> Option<&Path> {
        self.token_file.as_deref()
    }

    pub fn refreshes(&self) -> bool {
        self.refresh
    }

    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    /// The retry policy for a fetch.
    pub(crate) fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// The clock, for a client that dates what it receives.
    pub(crate) fn clock(&self) -> fn() -> OffsetDateTime {
        self.clock
    }

    /// The token from the usual sources (see [`crate::token`]); in a linked project, a
    /// refreshed one when none is found. Expiry is not checked: see [`Session::fresh`].
    pub fn load_token(&self) -> Result<OidcToken, Error> {
        match token::load(&self.env, self.token_file.as_deref()) {
            Err(missing @ TokenError::NotFound { .. }) => match self.refresher() {
                Some(refresher) => refresher
                    .and_then(|r| r.fresh_token(|| self.now()))
                    .map_err(|refresh| Error::Refresh {
                        token: Box::new(missing),
                        refresh: Box::new(refresh),
                    }),
                None => Err(missing.into()),
            },
            other => Ok(other?),
        }
    }

    /// `token` when it has comfortably long left; otherwise, in local development, a refreshed
    /// one; otherwise `token` while it is still valid, or the error saying it expired.
    pub fn fresh(&self, token: OidcToken) -> Result<OidcToken, Error> {
        let now = self.now();
        let refreshable = matches!(
            token.source(),
            TokenSource::Env | TokenSource::DotEnv(_) | TokenSource::Refreshed { .. }
        );
        let in_build = self.env.in_build();
        let wanted = refreshable && refresh::needs_refresh(&token, now);
        let Some(refresher) = wanted.then(|| self.refresher()).flatten() else {
            token.ensure_fresh(now, in_build)?;
            return Ok(token);
        };
        match refresher.and_then(|r| r.fresh_token(|| self.now())) {
            Ok(fresh) => {
                crate::log::debug!(
                    "the token from {} was about to expire; using {}",
                    token.source(),
                    fresh.source()
                );
                Ok(fresh)
            }
            Err(refresh) => match token.ensure_fresh(now, in_build) {
                Ok(()) => {
                    crate::log::debug!(
                        "refresh failed ({refresh}); the current token is still valid"
                    );
                    Ok(token)
                }
                Err(expired) => Err(Error::Refresh {
                    token: Box::new(expired),
                    refresh: Box::new(refresh),
                }),
            },
        }
    }

    /// Whether a fresh token can be had here: local development in a linked project, refresh
    /// not turned off.
    pub fn can_refresh(&self) -> bool {
        matches!(self.refresher(), Some(Ok(_)))
    }

    /// What refreshes the token here; `None` when refresh is off or there is nothing to refresh
    /// from.
    pub(crate) fn refresher(&self) -> Option<Result<Refresher<'_>, RefreshError>> {
        if !self.refresh {
            return None;
        }
        Refresher::for_env(&self.env)
    }

    /// The shared cache, unless `no_cache` or there is nowhere to put it; an error when its
    /// directory is not one to trust.
    pub(crate) fn cache(&self, no_cache: bool) -> Result<Option<Cache>, UntrustedCache> {
        if no_cache {
            crate::log::debug!("cache disabled");
            return Ok(None);
        }
        let Some(cache) = Cache::for_env(&self.env) else {
            crate::log::debug!("no HOME or XDG_CACHE_HOME: not caching");
            return Ok(None);
        };
        cache.check()?;
        Ok(Some(cache))
    }

    /// The result of an exchange for a live token (refreshed first when it is about to
    /// expire): from the shared cache while it has more than `min_remaining` left, else from
    /// `fetch`, one process at a time per key. The key is bound to the exact token sent, so an
    /// entry is served only to the token that got it.
    pub(crate) fn exchange<T, E>(
        &self,
        token: OidcToken,
        no_cache: bool,
        min_remaining: Duration,
        key: impl Fn(&OidcToken) -> cache::Key,
        fetch: impl FnOnce(&OidcToken) -> Result<(T, OffsetDateTime), ExchangeError<E>>,
    ) -> Result<T, ExchangeError<E>>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        crate::log::debug!("using the token from {}", token.source());
        let token = self.fresh(token)?;
        let Some(cache) = self.cache(no_cache).map_err(Error::from)? else {
            return Ok(fetch(&token)?.0);
        };
        let key = key(&token).bound_to(token.expose_secret());
        cache.get_or_fetch(&key, || self.now(), min_remaining, || fetch(&token))
    }

    /// The HTTP client for a fetch: the one given, else one configured from the environment.
    pub(crate) fn http(&self) -> Result<reqwest::Client, HttpSetupError> {
        match &self.http {
            Some(client) => Ok(client.clone()),
            None => http::client(&self.env),
        }
    }

    /// Runs `future` to its end: on the runtime of a blocking thread that has one (the Rust
    /// provider calls from `spawn_blocking`), else on a runtime of its own, made only when
    /// something must go over the network. Not for a thread that drives async tasks.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> Result<F::Output, Error> {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            return Ok(handle.block_on(future));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        Ok(runtime.block_on(future))
    }
}
