//! The JWKS cache: which key signs a token, from the cached keys while they are fresh, else from
//! the issuer; an unknown `kid` refetches the keys at most once per
//! [`UNKNOWN_KID_REFETCH_INTERVAL`], and processes that miss together fetch once between them.

use time::Duration;

use super::error::{VerifyError, shown};
use super::keys::{KeySet, RsaKey};
use super::{DEFAULT_JWKS_TTL, MAX_JWKS_TTL, MIN_JWKS_TTL, UNKNOWN_KID_REFETCH_INTERVAL, Verifier};
use crate::cache::{self, Cache};

impl Verifier {
    pub(super) fn cache_key(&self) -> cache::Key {
        cache::Key::new("jwks", &(1u8, &self.config.issuer))
    }

    /// The key named `kid`: from the cache when it holds it, else from the issuer (see the
    /// module docs for when a fetch happens).
    pub(super) async fn signing_key(&self, kid: &str) -> Result<RsaKey, VerifyError> {
        let Some(cache) = &self.cache else {
            let (set, _) = self.fetch_key_set().await?;
            return set.key(kid);
        };
        let key = self.cache_key();
        match cache.get::<KeySet>(&key, (self.clock)(), Duration::ZERO) {
            Some(cached) => self.key_from_cached(cache, &key, cached, kid).await,
            None => self.key_after_miss(cache, &key, kid).await,
        }
    }

    /// The key named `kid` from fresh cached keys. One they do not hold fetches the JWKS again,
    /// unless that was done within [`UNKNOWN_KID_REFETCH_INTERVAL`] or another process has just
    /// done it.
    async fn key_from_cached(
        &self,
        cache: &Cache,
        key: &cache::Key,
        cached: KeySet,
        kid: &str,
    ) -> Result<RsaKey, VerifyError> {
        if let Some(found) = cached.find(kid) {
            crate::log::debug!("key `{}` found in the cached JWKS", shown(kid));
            return Ok(found.clone());
        }
        let now = (self.clock)().unix_timestamp();
        if let Some(at) = cached.refetched_at
            && (at..at + UNKNOWN_KID_REFETCH_INTERVAL.whole_seconds()).contains(&now)
        {
            crate::log::debug!(
                "key `{}` is not in the JWKS fetched again {}s ago; it is fetched again at most every {}s",
                shown(kid),
                now - at,
                UNKNOWN_KID_REFETCH_INTERVAL.whole_seconds()
            );
            return Err(cached.unknown(kid));
        }
        crate::log::debug!(
            "key `{}` is not in the cached JWKS; fetching `{}` again in case the keys rotated",
            shown(kid),
            cached.jwks_uri
        );
        let _lock = cache.lock(key);
        if let Some(newer) = cache.get::<KeySet>(key, (self.clock)(), Duration::ZERO)
            && newer.fetch_id != cached.fetch_id
        {
            crate::log::debug!("another process has just fetched the JWKS again");
            return newer.key(kid);
        }
        let (keys, ttl) = self.fetch_jwks(&cached.jwks_uri).await?;
        let set = self.store(cache, key, cached.jwks_uri, keys, ttl, Some(now));
        set.key(kid)
    }

    /// The key named `kid` when no fresh keys are cached: discovery and the JWKS, fetched under
    /// the cache's lock unless another process has just fetched them.
    async fn key_after_miss(
        &self,
        cache: &Cache,
        key: &cache::Key,
        kid: &str,
    ) -> Result<RsaKey, VerifyError> {
        let _lock = cache.lock(key);
        let set = match cache.get::<KeySet>(key, (self.clock)(), Duration::ZERO) {
            Some(set) => {
                crate::log::debug!("another process has just fetched the JWKS");
                set
            }
            None => {
                let (set, ttl) = self.fetch_key_set().await?;
                self.store(cache, key, set.jwks_uri, set.keys, ttl, None)
            }
        };
        set.key(kid)
    }

    fn store(
        &self,
        cache: &Cache,
        key: &cache::Key,
        jwks_uri: String,
        keys: Vec<RsaKey>,
        ttl: Duration,
        refetched_at: Option<i64>,
    ) -> KeySet {
        let set = KeySet {
            jwks_uri,
            fetch_id: fastrand::u64(..),
            keys,
            refetched_at,
        };
        if let Err(e) = cache.put(key, &set, (self.clock)() + ttl) {
            crate::log::debug!(
                "could not cache the JWKS in `{}`: {e}",
                cache.dir().display()
            );
        }
        set
    }
}

/// How long to keep keys, from the JWKS response's `Cache-Control`: its `max-age` (`no-store`
/// and `no-cache` count as 0), within [`MIN_JWKS_TTL`] and [`MAX_JWKS_TTL`];
/// [`DEFAULT_JWKS_TTL`] without one.
pub fn jwks_ttl(cache_control: Option<&str>) -> Duration {
    let mut max_age = None;
    for directive in cache_control.unwrap_or("").split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-store" || directive == "no-cache" {
            max_age = Some(0);
            break;
        }
        if let Some(value) = directive.strip_prefix("max-age=") {
            max_age = value.trim_matches('"').parse::<i64>().ok().or(max_age);
        }
    }
    max_age
        .map(Duration::seconds)
        .unwrap_or(DEFAULT_JWKS_TTL)
        .clamp(MIN_JWKS_TTL, MAX_JWKS_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_cache_lifetime() {
        let cases = [
            (None, 600),
            (Some(""), 600),
            (Some("public, max-age=300"), 300),
            (Some("max-age=\"120\", must-revalidate"), 120),
            (Some("MAX-AGE=900"), 900),
            (Some("max-age=5"), 60),
            (Some("max-age=86400"), 3600),
            (Some("no-store"), 60),
            (Some("max-age=900, no-cache"), 60),
            (Some("s-maxage=900"), 600),
            (Some("max-age=soon"), 600),
            (Some("max-age=-5"), 60),
        ];
        for (header, seconds) in cases {
            assert_eq!(jwks_ttl(header), Duration::seconds(seconds), "{header:?}");
        }
    }
}
