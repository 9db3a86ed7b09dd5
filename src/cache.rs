//! The credential cache shared by every process of the user.
//!
//! Directory: `VERCEL_OIDC_CACHE_DIR`, else `$XDG_CACHE_HOME/vercel-oidc`, else
//! `~/.cache/vercel-oidc`; mode 0700. Entries: `<kind>-<sha256 of the key>.json`, mode 0600,
//! `{"expires_at": <unix seconds>, "value": …}`, written to a temporary file and renamed. Locks:
//! `<kind>-<hash>.lock`, held while one process fetches so that concurrent cold callers make one
//! request between them; each holder writes its process id there, and a caller that waits more
//! than a second says on stderr which process it waits for. The key of a cloud's credentials covers the request and the token's
//! identity ([`Key::for_identity`]), and is bound to the exact token that got them
//! ([`Key::bound_to`]), so an entry is never served to an expired token or to another with the
//! same claims.
//!
//! Trust: the directory must belong to the current user and others may not write to it, nor to
//! any folder above it ([`crate::fsutil::check_above`]). The
//! default directory is ours, so a drifted mode is tightened back to 0700; a directory named by
//! `VERCEL_OIDC_CACHE_DIR` is refused instead ([`Cache::check`]). An entry is served only when
//! it is a regular file (not followed through a symlink) owned by the current user that neither
//! group nor others may write, of at most 64 KiB; the lock is opened the same way, without
//! waiting on a FIFO.
//!
//! A missing, corrupt, truncated, untrusted or unreadable entry is a miss, never a failure.

use crate::vars;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::env::Env;
use crate::fsutil::{self, DirError, DirRule, limits};
use crate::token::{Claims, Identity};

/// How long a process waits for another to finish fetching before fetching itself.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    rule: DirRule,
}

/// A cache directory that must not be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "will not use the credential cache: {0}\n  make the directory yours and private (`chmod 700`), point VERCEL_OIDC_CACHE_DIR at a private directory, or pass --no-cache"
)]
pub struct UntrustedCache(DirError);

impl UntrustedCache {
    /// What is wrong with the directory.
    pub fn into_inner(self) -> DirError {
        self.0
    }
}

#[derive(Serialize, Deserialize)]
struct Entry<T> {
    expires_at: i64,
    value: T,
}

/// A cache key: the kind of result and a hash of everything that changes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    kind: &'static str,
    hash: String,
}

impl Key {
    /// Hashes `parts` (serialized as JSON) into a key for results of `kind` (`aws`, `gcp`, ...).
    pub fn new(kind: &'static str, parts: &impl Serialize) -> Self {
        let bytes = serde_json::to_vec(parts).expect("cache key parts serialize");
        let digest = Sha256::digest(&bytes);
        let hash = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
        Self { kind, hash }
    }

    /// The key of what a cloud issues for the request `parts` to a token of `claims`: version
    /// `v` of `kind`'s key, then the fields of `parts`, then the token's [`Identity`], which
    /// leaves out its times, so that a newer token of the same identity finds the entry.
    pub fn for_identity(
        kind: &'static str,
        v: u8,
        parts: &impl Serialize,
        claims: &Claims,
    ) -> Self {
        #[derive(Serialize)]
        struct Keyed<'a, P> {
            v: u8,
            #[serde(flatten)]
            parts: P,
            #[serde(flatten)]
            identity: Identity<'a>,
        }
        let identity = claims.identity();
        Self::new(kind, &Keyed { v, parts, identity })
    }

    /// This key tied to one exact token: what was fetched with `token` is served to that token
    /// alone, never to another carrying the same claims (one that has expired, or whose
    /// signature no cloud has checked). Only a digest of the token goes into the key.
    pub fn bound_to(self, token: &str) -> Self {
        let token_digest: String = Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self::new(self.kind, &(&self.hash, token_digest))
    }
}

/// Holds the fetch lock for one key until dropped.
pub struct Lock {
    _file: Option<File>,
}

impl Cache {
    /// A cache in `dir`, a directory of this tool's own (tightened to 0700 when it drifts).
    #[cfg(any(test, feature = "cli"))]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            rule: DirRule::Own,
        }
    }

    /// The cache `env` names: `VERCEL_OIDC_CACHE_DIR` (a directory the user chose, refused
    /// rather than changed when others may write to it), else the per-user default.
    pub fn for_env(env: &Env) -> Option<Self> {
        let dir = env.cache_dir()?;
        let rule = if env.get(vars::VERCEL_OIDC_CACHE_DIR).is_some() {
            DirRule::Chosen
        } else {
            DirRule::Own
        };
        Some(Self { dir, rule })
    }

    /// Checks that the directory, when it exists, is one to trust (see the module docs),
    /// tightening our own default directory when its mode has drifted.
    pub fn check(&self) -> Result<(), UntrustedCache> {
        // Missing (made on the first write) or unusable (then every write fails and every read
        // misses, which is slower but still correct): nothing to refuse.
        let Ok(meta) = std::fs::metadata(&self.dir) else {
            return Ok(());
        };
        if !meta.is_dir() {
            return Ok(());
        }
        match fsutil::check_above(&self.dir)
            .and_then(|()| fsutil::check_dir(&self.dir, &meta, self.rule))
        {
            Err(
                e @ (DirError::NotOwned { .. }
                | DirError::OthersMayWrite { .. }
                | DirError::Above { .. }),
            ) => Err(UntrustedCache(e)),
            _ => Ok(()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn entry_path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}-{}.json", key.kind, key.hash))
    }

    fn lock_path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}-{}.lock", key.kind, key.hash))
    }

    /// The cached value for `key` if it is still good for more than `min_remaining`.
    pub fn get<T: DeserializeOwned>(
        &self,
        key: &Key,
        now: OffsetDateTime,
        min_remaining: Duration,
    ) -> Option<T> {
        let path = self.entry_path(key);
        let bytes = match fsutil::read_trusted(&path, limits::CACHE_ENTRY) {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => return None,
            Err(e) => {
                crate::log::debug!("not serving the cache entry: {e}");
                return None;
            }
        };
        let entry: Entry<T> = match serde_json::from_slice(&bytes) {
            Ok(entry) => entry,
            Err(_) => {
                crate::log::debug!("ignoring the unreadable cache entry `{}`", path.display());
                return None;
            }
        };
        let left = entry.expires_at.saturating_sub(now.unix_timestamp());
        if left > min_remaining.whole_seconds() {
            crate::log::debug!("cache hit `{}` ({}s left)", path.display(), left);
            Some(entry.value)
        } else {
            crate::log::debug!(
                "cache entry `{}` too close to expiry ({}s left)",
                path.display(),
                left
            );
            None
        }
    }

    /// Stores `value` for `key` until `expires_at`.
    pub fn put<T: Serialize>(
        &self,
        key: &Key,
        value: &T,
        expires_at: OffsetDateTime,
    ) -> io::Result<()> {
        self.prepare_dir()?;
        let entry = Entry {
            expires_at: expires_at.unix_timestamp(),
            value,
        };
        let bytes = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        fsutil::write_private(&self.entry_path(key), &bytes)
    }

    /// Takes the fetch lock for `key`, waiting for another process that holds it (and saying
    /// so, after a second, naming the process: [`fsutil::wait_for_lock`]). When the lock cannot
    /// be had (read-only cache, a holder stuck for `LOCK_WAIT` (30 s)), returns a lock that
    /// holds nothing: the caller fetches anyway, which is correct, only less thrifty.
    pub fn lock(&self, key: &Key) -> Lock {
        if let Err(e) = self.prepare_dir() {
            crate::log::debug!("cache directory `{}` unusable: {e}", self.dir.display());
            return Lock { _file: None };
        }
        let path = self.lock_path(key);
        let file = match fsutil::open_lock_file(&path) {
            Ok(f) => f,
            Err(e) => {
                crate::log::debug!("cannot open lock `{}`: {e}", path.display());
                return Lock { _file: None };
            }
        };
        match fsutil::wait_for_lock(&file, &path, LOCK_WAIT) {
            Ok(()) => Lock { _file: Some(file) },
            Err(e) => {
                crate::log::debug!("going on without lock `{}`: {e:?}", path.display());
                Lock { _file: None }
            }
        }
    }

    /// Returns the cached value when good for more than `min_remaining`; otherwise takes the
    /// lock, checks again (another process may have just fetched), and calls `fetch`, whose
    /// result is stored. A failure to store is logged, not returned: the result is still good.
    pub fn get_or_fetch<T, E>(
        &self,
        key: &Key,
        now: impl Fn() -> OffsetDateTime,
        min_remaining: Duration,
        fetch: impl FnOnce() -> Result<(T, OffsetDateTime), E>,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
    {
        if let Some(hit) = self.get(key, now(), min_remaining) {
            return Ok(hit);
        }
        let _lock = self.lock(key);
        if let Some(hit) = self.get(key, now(), min_remaining) {
            return Ok(hit);
        }
        let (value, expires_at) = fetch()?;
        if let Err(e) = self.put(key, &value, expires_at) {
            crate::log::debug!(
                "could not write the cache entry in `{}`: {e}",
                self.dir.display()
            );
        }
        Ok(value)
    }
}

impl Cache {
    fn prepare_dir(&self) -> io::Result<()> {
        fsutil::prepare_dir(&self.dir, self.rule)
            .map_err(|e| io::Error::new(io::ErrorKind::PermissionDenied, e.to_string()))
    }
}

/// How long before expiry a cached credential stops being handed out, for credentials that
/// live `lifetime`: 20 minutes, since botocore refreshes credentials with less than 15 left and
/// must not be handed ones it would refresh at once. Lifetimes of 20 minutes or less can never
/// leave that much; their entries serve for the first minute only, so a burst of concurrent
/// callers still shares one request.
pub fn min_remaining_for(lifetime: Duration) -> Duration {
    Duration::minutes(20).min(lifetime - Duration::minutes(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap()
    }

    #[test]
    fn round_trip_and_freshness() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        let key = Key::new("t", &("a", 1));
        cache
            .put(&key, &"v".to_string(), now() + Duration::minutes(30))
            .unwrap();
        assert_eq!(
            cache
                .get::<String>(&key, now(), Duration::minutes(20))
                .as_deref(),
            Some("v")
        );
        assert_eq!(
            cache.get::<String>(&key, now() + Duration::minutes(11), Duration::minutes(20)),
            None
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(cache.dir()), 0o700);
        assert_eq!(mode(&cache.entry_path(&key)), 0o600);
    }

    #[test]
    fn keys_differ_by_parts() {
        assert_ne!(Key::new("t", &("a", 1)), Key::new("t", &("a", 2)));
        assert_eq!(Key::new("t", &("a", 1)), Key::new("t", &("a", 1)));
    }

    #[test]
    fn keys_bound_to_tokens_differ_by_token() {
        let key = || Key::new("t", &("a", 1));
        assert_eq!(key().bound_to("h.c.s1"), key().bound_to("h.c.s1"));
        assert_ne!(key().bound_to("h.c.s1"), key().bound_to("h.c.s2"));
        assert_ne!(key().bound_to("h.c.s1"), key());
        assert_eq!(key().bound_to("h.c.s1").kind, "t");
    }

    #[test]
    fn corrupt_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let key = Key::new("t", &1);
        for junk in [&b""[..], b"{", b"{\"expires_at\":\"x\"}", b"\xff\xfe"] {
            std::fs::write(cache.entry_path(&key), junk).unwrap();
            assert_eq!(cache.get::<String>(&key, now(), Duration::ZERO), None);
            let got: Result<String, ()> = cache.get_or_fetch(&key, now, Duration::ZERO, || {
                Ok(("fresh".into(), now() + Duration::hours(1)))
            });
            assert_eq!(got.unwrap(), "fresh");
            assert_eq!(
                cache.get::<String>(&key, now(), Duration::ZERO).as_deref(),
                Some("fresh")
            );
        }
    }

    #[test]
    fn fetch_errors_pass_through_and_store_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let key = Key::new("t", &1);
        let got: Result<String, &str> =
            cache.get_or_fetch(&key, now, Duration::ZERO, || Err("boom"));
        assert_eq!(got.unwrap_err(), "boom");
        assert!(!cache.entry_path(&key).exists());
    }

    /// What the clouds' keys hash: the version, the request's fields, then the identity, and
    /// none of the token's times.
    #[test]
    fn a_key_for_an_identity_hashes_version_request_and_identity() {
        let claims_at = |exp| -> Claims {
            serde_json::from_value(crate::token::tests::claims_json(exp)).unwrap()
        };
        let parts = serde_json::json!({"endpoint": "https://sts.amazonaws.com"});
        let spelled_out = serde_json::json!({
            "v": 1,
            "endpoint": "https://sts.amazonaws.com",
            "iss": "https://oidc.vercel.com/acme",
            "sub": "owner:acme:project:web:environment:production",
            "aud": ["https://vercel.com/acme"],
            "owner_id": "team_123",
            "project_id": "prj_123",
            "environment": "production",
        });
        for exp in [2_000_000_000, 2_000_000_900] {
            assert_eq!(
                Key::for_identity("aws", 1, &parts, &claims_at(exp)),
                Key::new("aws", &spelled_out)
            );
        }
    }

    #[test]
    fn min_remaining_bounds() {
        // (lifetime, minimum remaining), in minutes.
        for (lifetime, min_remaining) in [(60, 20), (12 * 60, 20), (21, 20), (20, 19), (15, 14)] {
            assert_eq!(
                min_remaining_for(Duration::minutes(lifetime)),
                Duration::minutes(min_remaining),
                "lifetime {lifetime} minutes"
            );
        }
    }
}
