//! The requests: the issuer's OpenID configuration, then the JWKS it names, each a `GET` retried
//! while the failure is transient, with a hint per document and status.

use time::Duration;

use super::Verifier;
use super::config::issuer_matches;
use super::document::{Document, JWKS};
use super::error::{VerifyError, backticked, shown};
use super::key_cache::jwks_ttl;
use super::keys::{KeySet, RsaKey, parse_jwks};
use crate::timefmt;

pub(super) const DISCOVERY: &str = "the OpenID configuration";

impl Verifier {
    /// Discovery, then the JWKS it names.
    pub(super) async fn fetch_key_set(&self) -> Result<(KeySet, Duration), VerifyError> {
        let url = self.config.discovery_url();
        let (body, _) = self.get(DISCOVERY, &url).await?;
        let jwks_uri = parse_discovery(&body, &url, &self.config.issuer)?;
        let (keys, ttl) = self.fetch_jwks(&jwks_uri).await?;
        let set = KeySet {
            jwks_uri,
            fetch_id: 0,
            keys,
            refetched_at: None,
        };
        Ok((set, ttl))
    }

    pub(super) async fn fetch_jwks(
        &self,
        url: &str,
    ) -> Result<(Vec<RsaKey>, Duration), VerifyError> {
        let (body, cache_control) = self.get(JWKS, url).await?;
        let keys = parse_jwks(&body, url)?;
        let ttl = jwks_ttl(cache_control.as_deref());
        crate::log::debug!(
            "{} usable key(s) in the JWKS ({}), kept for {}",
            keys.len(),
            backticked(keys.iter().map(|k| k.kid.as_str())),
            timefmt::human(ttl)
        );
        Ok((keys, ttl))
    }

    /// The body and `Cache-Control` of a successful `GET url`, retried when transient.
    async fn get(
        &self,
        what: &'static str,
        url: &str,
    ) -> Result<(Vec<u8>, Option<String>), VerifyError> {
        crate::log::debug!("fetching {what} from {url}");
        self.retry
            .run(VerifyError::is_transient, |attempt| async move {
                crate::log::trace!("{what}: attempt {attempt}");
                self.get_once(what, url, attempt.time_left).await
            })
            .await
    }

    async fn get_once(
        &self,
        what: &'static str,
        url: &str,
        time_left: std::time::Duration,
    ) -> Result<(Vec<u8>, Option<String>), VerifyError> {
        let fetch_error = |detail: String, transient: bool| VerifyError::Fetch {
            what,
            url: url.to_string(),
            detail,
            transient,
            hint: fetch_hint(what, None),
        };
        let request = self
            .http
            .get(url)
            .timeout(time_left)
            .header(reqwest::header::ACCEPT, "application/json");
        let received = match crate::http::fetch(request).await {
            Ok(received) => received,
            Err(crate::http::ReceiveError::Network { detail, transient }) => {
                return Err(fetch_error(detail, transient));
            }
            Err(crate::http::ReceiveError::TooLarge { .. }) => {
                return Err(VerifyError::bad_document(
                    what,
                    url,
                    "it is larger than 1 MiB",
                ));
            }
            Err(redirect @ crate::http::ReceiveError::Redirect { .. }) => {
                return Err(fetch_error(redirect.to_string(), false));
            }
        };
        let status = reqwest::StatusCode::from_u16(received.status)
            .unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR);
        crate::log::trace!("{what}: HTTP {status}");
        if !status.is_success() {
            return Err(VerifyError::Fetch {
                what,
                url: url.to_string(),
                detail: format!("HTTP {status}"),
                transient: status.is_server_error() || status.as_u16() == 429,
                hint: fetch_hint(what, Some(status.as_u16())),
            });
        }
        if let Err(e) = crate::http::check_endpoint(received.url.as_str()) {
            return Err(fetch_error(format!("redirected: {e}"), false));
        }
        let cache_control = received
            .headers
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok((received.body, cache_control))
    }
}

fn fetch_hint(what: &'static str, status: Option<u16>) -> &'static str {
    match (what, status) {
        (DISCOVERY, Some(404)) => {
            "no OpenID configuration there: check that --issuer is the issuer itself, e.g. `https://oidc.vercel.com/acme`"
        }
        (DISCOVERY, _) => "check --issuer, the network, and HTTPS_PROXY/NO_PROXY",
        (_, Some(404)) => {
            "the issuer's configuration names a JWKS that does not exist; check --issuer"
        }
        _ => "check the network and HTTPS_PROXY/NO_PROXY",
    }
}

/// Reads the OpenID configuration and returns its `jwks_uri`.
pub(super) fn parse_discovery(body: &[u8], url: &str, issuer: &str) -> Result<String, VerifyError> {
    let doc = Document::parse(DISCOVERY, url, body)?;
    let found = doc.str_field("issuer")?;
    if !issuer_matches(found, issuer) {
        return Err(VerifyError::DiscoveryIssuer {
            expected: issuer.to_string(),
            found: shown(found),
            url: url.to_string(),
        });
    }
    let jwks_uri = doc.str_field("jwks_uri")?;
    crate::http::check_endpoint(jwks_uri)
        .map_err(|e| doc.bad(&format!("its `jwks_uri` cannot be used: {e}")))?;
    Ok(jwks_uri.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_documents() {
        let url = "https://oidc.vercel.com/acme/.well-known/openid-configuration";
        let issuer = "https://oidc.vercel.com/acme";
        let parse =
            |doc: serde_json::Value| parse_discovery(doc.to_string().as_bytes(), url, issuer);
        assert_eq!(
            parse(serde_json::json!({
                "issuer": "https://oidc.vercel.com/acme/",
                "jwks_uri": "https://oidc.vercel.com/acme/.well-known/jwks",
            }))
            .unwrap(),
            "https://oidc.vercel.com/acme/.well-known/jwks"
        );
        let cases = [
            (
                serde_json::json!({"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"}),
                "discovery issuer mismatch: expected `https://oidc.vercel.com/acme` (found `https://evil.example` in `https://oidc.vercel.com/acme/.well-known/openid-configuration`)",
            ),
            (
                serde_json::json!({"jwks_uri": "https://oidc.vercel.com/acme/.well-known/jwks"}),
                "the OpenID configuration at `https://oidc.vercel.com/acme/.well-known/openid-configuration` is unusable: it has no `issuer`",
            ),
            (
                serde_json::json!({"issuer": issuer}),
                "is unusable: it has no `jwks_uri`",
            ),
            (
                serde_json::json!({"issuer": issuer, "jwks_uri": "http://keys.example.com/jwks"}),
                "is unusable: its `jwks_uri` cannot be used: `http://keys.example.com/jwks` is plain http",
            ),
        ];
        for (doc, want) in cases {
            let err = parse(doc).unwrap_err().to_string();
            assert!(err.contains(want), "want {want:?}, got {err:?}");
        }
        let err = parse_discovery(b"<html>", url, issuer)
            .unwrap_err()
            .to_string();
        assert!(err.contains("it is not JSON"), "{err}");
    }
}
