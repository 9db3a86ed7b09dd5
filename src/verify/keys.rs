//! The issuer's signing keys: a JWKS read into the RSA keys that can check an RS256 signature,
//! and the set of them that is cached per issuer, where a token's `kid` is looked up.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::ALGORITHM;
use super::document::{Document, JWKS};
use super::error::{VerifyError, backticked, shown};

pub(super) const MIN_RSA_BITS: usize = 2048;
pub(super) const MAX_RSA_BITS: usize = 4096;

/// An RSA public key from the issuer's JWKS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct RsaKey {
    pub(super) kid: String,
    /// Modulus and exponent, base64url as in the JWKS.
    pub(super) n: String,
    pub(super) e: String,
}

/// What is cached per issuer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct KeySet {
    pub(super) jwks_uri: String,
    /// Tells one fetch from another, so that a process that waited on the lock can see that
    /// another has just fetched the keys again.
    pub(super) fetch_id: u64,
    pub(super) keys: Vec<RsaKey>,
    /// When (Unix seconds) these keys were last fetched again for an unknown `kid`; none after
    /// a plain fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) refetched_at: Option<i64>,
}

impl KeySet {
    pub(super) fn find(&self, kid: &str) -> Option<&RsaKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The key named `kid`, or the error that names the keys there are.
    pub(super) fn key(&self, kid: &str) -> Result<RsaKey, VerifyError> {
        self.find(kid).cloned().ok_or_else(|| self.unknown(kid))
    }

    pub(super) fn unknown(&self, kid: &str) -> VerifyError {
        VerifyError::UnknownKey {
            kid: shown(kid),
            jwks_uri: self.jwks_uri.clone(),
            known: backticked(self.keys.iter().map(|k| k.kid.as_str())),
        }
    }
}

/// Reads a JWKS, keeping the keys that can check an RS256 signature.
pub(super) fn parse_jwks(body: &[u8], url: &str) -> Result<Vec<RsaKey>, VerifyError> {
    let doc = Document::parse(JWKS, url, body)?;
    let listed = doc
        .value
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| doc.bad("it has no `keys` list"))?;
    let mut keys = Vec::new();
    for (i, jwk) in listed.iter().enumerate() {
        match rsa_key(jwk) {
            Ok(key) => keys.push(key),
            Err(why) => crate::log::debug!("skipping key {} of the JWKS: {why}", i + 1),
        }
    }
    if keys.is_empty() {
        return Err(doc.bad("it holds no RS256 signing key (RSA, 2048 to 4096 bits, with a `kid`)"));
    }
    Ok(keys)
}

fn rsa_key(jwk: &serde_json::Value) -> Result<RsaKey, String> {
    let field = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
    if field("kty") != Some("RSA") {
        return Err("not an RSA key".into());
    }
    if field("use").is_some_and(|u| u != "sig") {
        return Err("not meant for signatures".into());
    }
    if field("alg").is_some_and(|a| a != ALGORITHM) {
        return Err("meant for another algorithm".into());
    }
    let kid = field("kid").filter(|k| !k.is_empty()).ok_or("no `kid`")?;
    let shown_kid = shown(kid);
    let (Some(n), Some(e)) = (field("n"), field("e")) else {
        return Err(format!("key `{shown_kid}` has no `n` or `e`"));
    };
    let modulus = URL_SAFE_NO_PAD
        .decode(n)
        .map_err(|_| format!("key `{shown_kid}`: `n` is not base64url"))?;
    let exponent = URL_SAFE_NO_PAD
        .decode(e)
        .map_err(|_| format!("key `{shown_kid}`: `e` is not base64url"))?;
    let bits = bit_length(&modulus);
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(format!("key `{shown_kid}` has {bits} bits"));
    }
    if bit_length(&exponent) < 2 {
        return Err(format!("key `{shown_kid}` has no usable exponent"));
    }
    Ok(RsaKey {
        kid: kid.to_string(),
        n: n.to_string(),
        e: e.to_string(),
    })
}

/// The number of significant bits of a big-endian unsigned integer.
pub(super) fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        Some(i) => (bytes.len() - i) * 8 - bytes[i].leading_zeros() as usize,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modulus(bits: usize) -> String {
        let mut bytes = vec![0xffu8; bits / 8];
        bytes.insert(0, 0);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn jwks_keeps_only_usable_rsa_signing_keys() {
        let n = modulus(2048);
        let doc = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "good", "n": n, "e": "AQAB", "use": "sig", "alg": "RS256"},
            {"kty": "RSA", "kid": "bare", "n": n, "e": "AQAB"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "enc", "n": n, "e": "AQAB", "use": "enc"},
            {"kty": "RSA", "kid": "ps", "n": n, "e": "AQAB", "alg": "PS256"},
            {"kty": "RSA", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "weak", "n": modulus(1024), "e": "AQAB"},
            {"kty": "RSA", "kid": "huge", "n": modulus(8192), "e": "AQAB"},
            {"kty": "RSA", "kid": "one", "n": n, "e": "AQ"},
            {"kty": "RSA", "kid": "junk", "n": "!!", "e": "AQAB"},
            {"kty": "RSA", "kid": "no-e", "n": n},
        ]});
        let keys = parse_jwks(doc.to_string().as_bytes(), "https://x/jwks").unwrap();
        let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["good", "bare"]);

        let cases = [
            (
                "not json",
                "the JWKS at `https://x/jwks` is unusable: it is not JSON",
            ),
            (r#"{"kids": []}"#, "it has no `keys` list"),
            (
                r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#,
                "it holds no RS256 signing key",
            ),
        ];
        for (body, want) in cases {
            let err = parse_jwks(body.as_bytes(), "https://x/jwks")
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "want {want:?}, got {err:?}");
        }
    }

    /// Why a key of the JWKS is skipped (shown under `-v`): its `kid`, which the server chose,
    /// escaped.
    #[test]
    fn skipped_keys_show_their_kid_escaped() {
        let key = serde_json::json!({"kty": "RSA", "kid": "k\nvercel-oidc: forged\u{1b}[2J"});
        assert_eq!(
            rsa_key(&key).err().as_deref(),
            Some("key `k\\nvercel-oidc: forged\\x1b[2J` has no `n` or `e`")
        );
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0x00, 0x01]), 17);
    }
}
