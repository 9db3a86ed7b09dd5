//! The claims of a signed token: read with the right types, then checked against the settings
//! (issuer, audience, `exp` and `nbf` within the leeway, then each constraint), each failure
//! with a message that says what was expected and what was found.

use time::OffsetDateTime;

use super::config::{Constraint, VerifyConfig, issuer_matches, normalize_issuer};
use super::error::{VerifyError, backticked, shown};
use crate::timefmt;
use crate::token::Claims;

/// Reads the signed payload as Vercel claims, with the right types.
pub(super) fn parse_claims(payload: &serde_json::Value) -> Result<Claims, VerifyError> {
    let object = payload
        .as_object()
        .ok_or_else(|| VerifyError::Claims("the payload is not a JSON object".into()))?;
    for claim in ["iss", "sub", "aud", "exp"] {
        if !object.contains_key(claim) {
            return Err(VerifyError::Claims(format!("there is no `{claim}` claim")));
        }
    }
    serde_json::from_value(payload.clone())
        .map_err(|e| VerifyError::Claims(format!("a claim has the wrong type ({e})")))
}

/// Checks the claims of a signed token against `config` at time `now`.
pub(super) fn check_claims(
    config: &VerifyConfig,
    claims: &Claims,
    now: OffsetDateTime,
) -> Result<(), VerifyError> {
    check_issuer(&config.issuer, &claims.iss)?;
    check_audience(&config.audience, claims)?;
    check_times(config.leeway.whole_seconds(), claims, now)?;
    config
        .constraints
        .iter()
        .try_for_each(|constraint| constraint.check(claims))
}

/// `iss` names the trusted issuer; a hint tells a near miss (blanks, slashes) from another issuer.
fn check_issuer(trusted: &str, found: &str) -> Result<(), VerifyError> {
    if issuer_matches(found, trusted) {
        return Ok(());
    }
    let near_miss = normalize_issuer(found.trim_end_matches('/')) == trusted;
    Err(VerifyError::Issuer {
        expected: trusted.to_string(),
        found: shown(found),
        hint: if near_miss {
            "the token's `iss` differs from the issuer only by blanks or slashes, which Vercel never adds: the token was not issued by it"
        } else {
            "pass the issuer the token names with --issuer (team `https://oidc.vercel.com/<team>` or global `https://oidc.vercel.com`, as set in the team's Settings > Security)"
        },
    })
}

/// `aud` holds the required audience.
fn check_audience(audience: &str, claims: &Claims) -> Result<(), VerifyError> {
    let audiences = claims.aud.values();
    if audiences.contains(&audience) {
        return Ok(());
    }
    Err(VerifyError::Audience {
        expected: audience.to_string(),
        found: backticked(audiences.into_iter()),
    })
}

/// `exp` has not passed and `nbf` (if any) has, each within `leeway` seconds of `now`.
fn check_times(leeway: i64, claims: &Claims, now: OffsetDateTime) -> Result<(), VerifyError> {
    let at = |secs: i64| {
        let t = timefmt::from_unix_saturating(secs);
        (timefmt::rfc3339_z(t), timefmt::relative(t, now))
    };
    let now_secs = now.unix_timestamp();
    if now_secs >= claims.exp.saturating_add(leeway) {
        let (at, when) = at(claims.exp);
        return Err(VerifyError::Expired { at, when, leeway });
    }
    if let Some(nbf) = claims.nbf
        && nbf > now_secs.saturating_add(leeway)
    {
        let (at, when) = at(nbf);
        return Err(VerifyError::NotYetValid { at, when, leeway });
    }
    Ok(())
}

impl Constraint {
    /// The claim holds one of the allowed values; else a message naming both and the flag.
    fn check(&self, claims: &Claims) -> Result<(), VerifyError> {
        let value = self.claim.value(claims);
        if value.is_some_and(|v| self.allowed.iter().any(|a| a == v)) {
            return Ok(());
        }
        let expected = match self.allowed.as_slice() {
            [one] => format!("`{one}`"),
            many => format!("one of {}", backticked(many.iter().map(String::as_str))),
        };
        let found = match value {
            Some(v) => format!("`{}`", shown(v)),
            None => format!("no `{}` claim", self.claim.name()),
        };
        Err(VerifyError::Constraint {
            label: self.claim.label(),
            flag: self.claim.flag(),
            expected,
            found,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::VerifyOptions;
    use crate::verify::tests::{at, claims, config, opts};

    #[test]
    fn claim_checks() {
        let now = at(2_000_000_000 - 1800);
        let with = |f: &dyn Fn(&mut Claims)| {
            let mut c = claims();
            f(&mut c);
            c
        };
        let constrained = |o: VerifyOptions| VerifyConfig::from_options(&o).unwrap();
        let cases: Vec<(VerifyConfig, Claims, OffsetDateTime, Option<&str>)> = vec![
            (config(), claims(), now, None),
            (
                config(),
                with(&|c| c.iss = "https://oidc.vercel.com/acme/".into()),
                now,
                None,
            ),
            (
                config(),
                with(&|c| c.iss = "https://oidc.vercel.com/other".into()),
                now,
                Some(
                    "issuer mismatch: expected `https://oidc.vercel.com/acme` (found `https://oidc.vercel.com/other`)",
                ),
            ),
            (
                config(),
                with(&|c| c.iss = "https://oidc.vercel.com".into()),
                now,
                Some(
                    "issuer mismatch: expected `https://oidc.vercel.com/acme` (found `https://oidc.vercel.com`)",
                ),
            ),
            (
                config(),
                with(&|c| c.aud = crate::token::Audience::One("https://vercel.com/other".into())),
                now,
                Some(
                    "audience mismatch: expected `https://vercel.com/acme` (found `https://vercel.com/other`)",
                ),
            ),
            (
                config(),
                with(&|c| {
                    c.aud = crate::token::Audience::Many(vec![
                        "x".into(),
                        "https://vercel.com/acme".into(),
                    ])
                }),
                now,
                None,
            ),
            (
                config(),
                with(&|c| c.aud = crate::token::Audience::Many(vec!["x".into(), "y".into()])),
                now,
                Some("audience mismatch: expected `https://vercel.com/acme` (found `x`, `y`)"),
            ),
            // Expiry: valid until exp + leeway, exclusive.
            (config(), claims(), at(2_000_000_059), None),
            (
                config(),
                claims(),
                at(2_000_000_060),
                Some(
                    "token expired: `exp` is 2033-05-18T03:33:20Z (1m 0s ago), beyond the 60s leeway",
                ),
            ),
            (
                constrained(VerifyOptions {
                    leeway_seconds: Some(0),
                    ..opts()
                }),
                claims(),
                at(2_000_000_000),
                Some("token expired"),
            ),
            // Not before: valid from nbf - leeway.
            (config(), claims(), at(2_000_000_000 - 3600 - 60), None),
            (
                config(),
                claims(),
                at(2_000_000_000 - 3600 - 61),
                Some(
                    "token not yet valid: `nbf` is 2033-05-18T02:33:20Z (in 1m 1s), beyond the 60s leeway",
                ),
            ),
            (
                constrained(VerifyOptions {
                    project_ids: vec!["prj_other".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some("project id mismatch: expected `prj_other` (found `prj_123`)"),
            ),
            (
                constrained(VerifyOptions {
                    environments: vec!["preview".into(), "development".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some(
                    "environment mismatch: expected one of `preview`, `development` (found `production`)",
                ),
            ),
            (
                constrained(VerifyOptions {
                    environments: vec!["preview".into(), "production".into()],
                    project_ids: vec!["prj_123".into()],
                    owner_ids: vec!["team_123".into()],
                    owners: vec!["acme".into()],
                    projects: vec!["web".into()],
                    subjects: vec!["owner:acme:project:web:environment:production".into()],
                    ..opts()
                }),
                claims(),
                now,
                None,
            ),
            (
                constrained(VerifyOptions {
                    owner_ids: vec!["team_other".into()],
                    ..opts()
                }),
                with(&|c| c.owner_id = None),
                now,
                Some("owner id mismatch: expected `team_other` (found no `owner_id` claim)"),
            ),
            (
                constrained(VerifyOptions {
                    subjects: vec!["owner:acme:project:web:environment:preview".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some(
                    "subject mismatch: expected `owner:acme:project:web:environment:preview` (found `owner:acme:project:web:environment:production`)\n  the token is for another subject; --sub names",
                ),
            ),
            (
                constrained(VerifyOptions {
                    owners: vec!["other".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some("owner mismatch: expected `other` (found `acme`)"),
            ),
            (
                constrained(VerifyOptions {
                    projects: vec!["api".into()],
                    ..opts()
                }),
                claims(),
                now,
                Some("project mismatch: expected `api` (found `web`)"),
            ),
        ];
        for (i, (config, claims, now, want)) in cases.into_iter().enumerate() {
            match (check_claims(&config, &claims, now), want) {
                (Ok(()), None) => {}
                (Err(err), Some(want)) => {
                    let err = err.to_string();
                    assert!(
                        err.starts_with(want),
                        "case {i}: want {want:?}, got {err:?}"
                    );
                }
                (got, want) => panic!("case {i}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn claims_must_be_vercel_shaped() {
        let cases = [
            (
                serde_json::json!([1]),
                "invalid claims: the payload is not a JSON object",
            ),
            (
                serde_json::json!({"sub": "s", "aud": "a", "exp": 1}),
                "invalid claims: there is no `iss` claim",
            ),
            (
                serde_json::json!({"iss": "i", "sub": "s", "aud": "a"}),
                "there is no `exp` claim",
            ),
            (
                serde_json::json!({"iss": "i", "sub": "s", "aud": "a", "exp": 1, "nbf": "0"}),
                "a claim has the wrong type",
            ),
            (
                serde_json::json!({"iss": "i", "sub": "s", "aud": "a", "exp": "never"}),
                "a claim has the wrong type",
            ),
        ];
        for (payload, want) in cases {
            let err = parse_claims(&payload).unwrap_err().to_string();
            assert!(err.contains(want), "want {want:?}, got {err:?}");
        }
    }
}
