//! The token's header and signature: the shape and the algorithm are checked before any key is
//! looked up, then the RS256 signature over the first two parts with the issuer's key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::ALGORITHM;
use super::error::{VerifyError, shown};
use super::keys::RsaKey;

/// Checks the header and returns the key id. The algorithm is checked first, so that a token
/// with any other algorithm is refused before a key is looked up.
pub(super) fn parse_header(token: &str) -> Result<String, VerifyError> {
    let malformed = |reason: &str| VerifyError::Malformed(reason.to_string());
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(VerifyError::Malformed(format!(
            "it has {} part(s), not 3",
            parts.len()
        )));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(parts[0])
        .map_err(|_| malformed("its header is not base64url"))?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| malformed("its header is not a JSON object"))?;
    let alg = match header.get("alg") {
        Some(serde_json::Value::String(alg)) => alg,
        Some(_) => return Err(malformed("its header's `alg` is not a string")),
        None => return Err(malformed("its header has no `alg`")),
    };
    if alg != ALGORITHM {
        return Err(VerifyError::Algorithm { found: shown(alg) });
    }
    if let Some(crit) = header.get("crit") {
        return Err(VerifyError::Malformed(format!(
            "its header marks extensions critical (`crit`: {}), and none is supported",
            shown(&crit.to_string())
        )));
    }
    match header.get("kid") {
        Some(serde_json::Value::String(kid)) if !kid.is_empty() => Ok(kid.clone()),
        _ => Err(VerifyError::MissingKeyId),
    }
}

/// Checks the RS256 signature with `key` and returns the payload it covers.
pub(super) fn check_signature(
    token: &str,
    key: &RsaKey,
    issuer: &str,
) -> Result<serde_json::Value, VerifyError> {
    let decoding = DecodingKey::from_rsa_components(&key.n, &key.e)
        .map_err(|e| VerifyError::Malformed(format!("the issuer's key is unusable ({e})")))?;
    // Only the signature here: the claims are checked by `check_claims`, against an injectable
    // clock and with messages that say what was expected.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    match jsonwebtoken::decode::<serde_json::Value>(token, &decoding, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(match e.kind() {
            JwtErrorKind::InvalidSignature => VerifyError::Signature {
                kid: shown(&key.kid),
                issuer: issuer.to_string(),
            },
            JwtErrorKind::Base64(_) => {
                VerifyError::Malformed("its payload or signature is not base64url".into())
            }
            JwtErrorKind::Json(_) | JwtErrorKind::Utf8(_) => {
                VerifyError::Malformed("its payload is not JSON".into())
            }
            other => VerifyError::Malformed(format!("{other:?}")),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::tests::b64;

    #[test]
    fn headers() {
        let token = |header: serde_json::Value| format!("{}.e30.c2ln", b64(&header));
        let cases: Vec<(String, Result<&str, &str>)> = vec![
            (
                token(serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})),
                Ok("k1"),
            ),
            (
                token(serde_json::json!({"alg": "none", "kid": "k1"})),
                Err("algorithm not allowed: expected `RS256` (found `none`)"),
            ),
            (
                token(serde_json::json!({"alg": "HS256", "kid": "k1"})),
                Err("algorithm not allowed: expected `RS256` (found `HS256`)"),
            ),
            (
                token(serde_json::json!({"alg": "RS512", "kid": "k1"})),
                Err("(found `RS512`)"),
            ),
            (
                token(serde_json::json!({"alg": "rs256", "kid": "k1"})),
                Err("(found `rs256`)"),
            ),
            (
                token(serde_json::json!({"alg": "HS256\u{1b}[2J"})),
                Err("(found `HS256\\x1b[2J`)"),
            ),
            (
                token(serde_json::json!({"kid": "k1"})),
                Err("malformed token: its header has no `alg`"),
            ),
            (
                token(serde_json::json!({"alg": 256})),
                Err("its header's `alg` is not a string"),
            ),
            (
                token(serde_json::json!({"alg": "RS256"})),
                Err("no key id: the token's header has no `kid`"),
            ),
            (
                token(serde_json::json!({"alg": "RS256", "kid": ""})),
                Err("no key id"),
            ),
            (
                token(serde_json::json!({"alg": "RS256", "kid": 7})),
                Err("no key id"),
            ),
            (
                token(serde_json::json!({"alg": "RS256", "kid": "k1", "crit": ["b64"]})),
                Err("its header marks extensions critical"),
            ),
            (
                format!("{}.e30", b64(&serde_json::json!({"alg": "RS256"}))),
                Err("malformed token: it has 2 part(s), not 3"),
            ),
            ("a.b.c.d".into(), Err("it has 4 part(s), not 3")),
            ("!!.e30.c2ln".into(), Err("its header is not base64url")),
            (
                format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode("[1]")),
                Err("its header is not a JSON object"),
            ),
        ];
        for (token, want) in cases {
            match (parse_header(&token), want) {
                (Ok(kid), Ok(want)) => assert_eq!(kid, want),
                (Err(err), Err(want)) => {
                    let err = err.to_string();
                    assert!(err.contains(want), "want {want:?}, got {err:?}");
                }
                (got, want) => panic!("{token}: got {got:?}, want {want:?}"),
            }
        }
    }
}
