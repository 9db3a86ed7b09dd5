//! The IAM trust set-up that would accept a given token, for error messages and `doctor`.

use crate::token::{Claims, issuer_host_path};

/// The account and partition of a role ARN (`arn:<partition>:iam::<account>:role/<name>`).
pub fn role_account(role_arn: &str) -> Option<(&str, &str)> {
    let mut parts = role_arn.splitn(6, ':');
    let (_arn, partition, _iam, _region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    Some((partition, account))
}

/// The trust policy statement that accepts exactly this token's issuer, audience and subject.
pub fn trust_policy(claims: &Claims, role_arn: &str) -> serde_json::Value {
    let host_path = issuer_host_path(&claims.iss);
    let (partition, account) = role_account(role_arn).unwrap_or(("aws", "<ACCOUNT_ID>"));
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": format!("arn:{partition}:iam::{account}:oidc-provider/{host_path}") },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    format!("{host_path}:aud"): claims.aud.first(),
                    format!("{host_path}:sub"): claims.sub,
                }
            }
        }]
    })
}

/// A few lines naming what the token carried and the IAM set-up that accepts it.
pub fn explain(claims: &Claims, role_arn: &str) -> String {
    let host_path = issuer_host_path(&claims.iss);
    let (partition, account) = role_account(role_arn).unwrap_or(("aws", "<ACCOUNT_ID>"));
    let policy = serde_json::to_string_pretty(&trust_policy(claims, role_arn)).expect("json");
    let policy = policy
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "  the token carried:\n    iss: {iss}\n    sub: {sub}\n    aud: {aud}\n  \
         STS accepts it when account {account} has the IAM OIDC provider \
         `arn:{partition}:iam::{account}:oidc-provider/{host_path}` (provider URL `{iss}`, audience `{aud}`)\n  \
         and the trust policy of `{role_arn}` allows it, for example:\n{policy}\n  \
         (a `StringLike` condition on `{host_path}:sub` such as `owner:<team>:project:<project>:environment:*` admits every environment)",
        iss = claims.iss,
        sub = claims.sub,
        aud = claims.aud.first(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::decode_claims;
    use crate::token::tests::{claims_json, jwt};

    #[test]
    fn policy_for_team_issuer() {
        let claims = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        let p = trust_policy(&claims, "arn:aws:iam::123456789012:role/deploy");
        let st = &p["Statement"][0];
        assert_eq!(
            st["Principal"]["Federated"],
            "arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme"
        );
        assert_eq!(
            st["Condition"]["StringEquals"]["oidc.vercel.com/acme:aud"],
            "https://vercel.com/acme"
        );
        assert_eq!(
            st["Condition"]["StringEquals"]["oidc.vercel.com/acme:sub"],
            "owner:acme:project:web:environment:production"
        );
    }

    #[test]
    fn policy_for_global_issuer_and_other_partition() {
        let mut c = claims_json(2_000_000_000);
        c["iss"] = serde_json::json!("https://oidc.vercel.com");
        let claims = decode_claims(&jwt(&c)).unwrap();
        let p = trust_policy(&claims, "arn:aws-us-gov:iam::111122223333:role/x");
        let st = &p["Statement"][0];
        assert_eq!(
            st["Principal"]["Federated"],
            "arn:aws-us-gov:iam::111122223333:oidc-provider/oidc.vercel.com"
        );
        assert!(
            st["Condition"]["StringEquals"]
                .get("oidc.vercel.com:sub")
                .is_some()
        );
    }
}
