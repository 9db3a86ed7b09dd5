//! The IAM trust set-up that would accept a given token, for error messages and `doctor`.
//!
//! What comes from the token is shown escaped ([`Text`]); the policy JSON is shown with
//! [`outside::shown_json`]; the AWS CLI commands quote each value ([`PasteCommand`]), and one
//! whose value cannot be shown safely is a comment saying so.
//!
//! The AWS CLI (v1 seen with 1.45, v2 read in its source) reads some values as other than
//! themselves: a parameter value starting with `file://` or `fileb://` is replaced by that
//! file's content (v1 spares `--url` of `create-open-id-connect-provider`, v2 does not), v1
//! also replaces one starting with `http://` or `https://` by what that address serves, and a
//! list parameter's value starting with `[` is read as a JSON list. A `,` splits nothing. So
//! the audience goes to `--client-id-list` as a one-item JSON list
//! (`'["https://vercel.com/acme"]'`), which every version reads as exactly that one client id,
//! and a command whose `--url` starts with `file://` or `fileb://` is refused.

// Some of this serves only the command line (doctor's full trust set-up).
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

use serde::Serialize;

use crate::output::PasteCommand;
use crate::outside::{self, Text};
use crate::token::{Claims, issuer_host_path};

/// The file name the AWS CLI commands of [`cli_commands`] read the trust policy from.
pub const POLICY_FILE: &str = "trust-policy.json";

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

/// The role's name: what follows the last `/` of its ARN (`arn:aws:iam::1:role/ci/deploy` → `deploy`).
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

/// The IAM OIDC identity provider that must exist in the role's account for STS to accept a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OidcProvider {
    /// The provider URL: the token's issuer.
    pub url: Text,
    /// The audience (client id) the provider must list: the token's `aud`.
    pub audience: Text,
    /// `arn:<partition>:iam::<account>:oidc-provider/<issuer host and path>`.
    pub arn: Text,
}

/// The provider for this token's issuer and audience, in the account of `role_arn`.
pub fn oidc_provider(claims: &Claims, role_arn: &str) -> OidcProvider {
    let (partition, account) = role_account(role_arn).unwrap_or(("aws", "<ACCOUNT_ID>"));
    OidcProvider {
        url: claims.iss.clone(),
        audience: claims.aud.first().clone(),
        arn: Text::new(format!(
            "arn:{partition}:iam::{account}:oidc-provider/{}",
            issuer_host_path(&claims.iss)
        )),
    }
}

/// The AWS CLI commands that create the provider and give the role the trust policy of
/// [`trust_policy`], saved as [`POLICY_FILE`], each value quoted for the shell (see
/// [`PasteCommand::line`]). (IAM finds the issuer's certificate itself; no thumbprint is
/// needed.)
pub fn cli_commands(claims: &Claims, role_arn: &str) -> Vec<String> {
    let provider = oidc_provider(claims, role_arn);
    vec![
        PasteCommand::new("aws iam create-open-id-connect-provider --url")
            .arg(&provider.url)
            .unless_misread(&provider.url, loaded_by_aws_cli)
            .words("--client-id-list")
            .arg_as(&provider.audience, &one_item_list(&provider.audience))
            .line(),
        PasteCommand::new("aws iam update-assume-role-policy --role-name")
            .arg(role_name(role_arn))
            .words(&format!("--policy-document file://{POLICY_FILE}"))
            .line(),
    ]
}

/// Why the AWS CLI would not send `value` as it is: it loads a value starting with `file://`
/// or `fileb://` from that file.
fn loaded_by_aws_cli(value: &str) -> Option<&'static str> {
    ["file://", "fileb://"]
        .iter()
        .any(|prefix| value.starts_with(prefix))
        .then_some("starts with `file://` or `fileb://`, which the AWS CLI reads as a file to load")
}

/// `item` as the AWS CLI reads a list of exactly that one item, whatever it holds (a `[`, a
/// `file://` or `https://` at its start): a JSON list.
fn one_item_list(item: &str) -> String {
    serde_json::json!([item]).to_string()
}

/// The condition that admits every environment of the token's project, as the JSON to put in
/// the policy instead of its `StringEquals` (`"StringLike": {"<issuer>:sub": "owner:…:*"}`),
/// fit to show.
pub fn every_environment(claims: &Claims) -> String {
    let owner = claims.owner.as_deref().unwrap_or("<TEAM>");
    let project = claims.project.as_deref().unwrap_or("<PROJECT>");
    let string = |s: &str| serde_json::to_string(s).expect("json");
    let key = string(&format!("{}:sub", issuer_host_path(&claims.iss)));
    let value = string(&format!("owner:{owner}:project:{project}:environment:*"));
    outside::shown_json(&format!("\"StringLike\": {{{key}: {value}}}"))
}

/// The trust policy statement that accepts exactly this token's issuer, audience and subject.
pub fn trust_policy(claims: &Claims, role_arn: &str) -> serde_json::Value {
    let host_path = issuer_host_path(&claims.iss);
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": oidc_provider(claims, role_arn).arn },
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
    let host_path = Text::from(issuer_host_path(&claims.iss));
    let (_, account) = role_account(role_arn).unwrap_or(("aws", "<ACCOUNT_ID>"));
    let provider_arn = oidc_provider(claims, role_arn).arn;
    let policy = outside::indented_json(&trust_policy(claims, role_arn), "    ").join("\n");
    format!(
        "  the token carried:\n    iss: {iss}\n    sub: {sub}\n    aud: {aud}\n  \
         STS accepts it when account {account} has the IAM OIDC provider \
         `{provider_arn}` (provider URL `{iss}`, audience `{aud}`)\n  \
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

    /// A team issuer in the commercial partition, then the global issuer in GovCloud: the
    /// provider's ARN and the condition keys follow both.
    #[test]
    fn policy_follows_the_issuer_and_the_partition() {
        for (iss, role_arn, provider_arn, host_path) in [
            (
                "https://oidc.vercel.com/acme",
                "arn:aws:iam::123456789012:role/deploy",
                "arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme",
                "oidc.vercel.com/acme",
            ),
            (
                "https://oidc.vercel.com",
                "arn:aws-us-gov:iam::111122223333:role/x",
                "arn:aws-us-gov:iam::111122223333:oidc-provider/oidc.vercel.com",
                "oidc.vercel.com",
            ),
        ] {
            let mut c = claims_json(2_000_000_000);
            c["iss"] = serde_json::json!(iss);
            let claims = decode_claims(&jwt(&c)).unwrap();
            let p = trust_policy(&claims, role_arn);
            let st = &p["Statement"][0];
            assert_eq!(st["Principal"]["Federated"], provider_arn);
            let equals = &st["Condition"]["StringEquals"];
            assert_eq!(
                equals[format!("{host_path}:aud")],
                "https://vercel.com/acme"
            );
            assert_eq!(
                equals[format!("{host_path}:sub")],
                "owner:acme:project:web:environment:production"
            );
        }
    }

    #[test]
    fn role_names() {
        for (arn, name) in [
            ("arn:aws:iam::123456789012:role/deploy", "deploy"),
            ("arn:aws:iam::123456789012:role/ci/vercel/deploy", "deploy"),
            ("deploy", "deploy"),
        ] {
            assert_eq!(role_name(arn), name, "{arn}");
        }
    }

    #[test]
    fn provider_and_commands_follow_the_issuer() {
        let claims = decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap();
        let role = "arn:aws:iam::123456789012:role/ci/deploy";
        assert_eq!(
            oidc_provider(&claims, role),
            OidcProvider {
                url: "https://oidc.vercel.com/acme".into(),
                audience: "https://vercel.com/acme".into(),
                arn: "arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme".into(),
            }
        );
        assert_eq!(
            cli_commands(&claims, role),
            [
                "aws iam create-open-id-connect-provider --url https://oidc.vercel.com/acme --client-id-list '[\"https://vercel.com/acme\"]'",
                "aws iam update-assume-role-policy --role-name deploy --policy-document file://trust-policy.json",
            ]
        );
        let mut c = claims_json(2_000_000_000);
        c["iss"] = serde_json::json!("https://oidc.vercel.com");
        let global = decode_claims(&jwt(&c)).unwrap();
        let provider = oidc_provider(&global, "not-an-arn");
        assert_eq!(
            provider.arn,
            "arn:aws:iam::<ACCOUNT_ID>:oidc-provider/oidc.vercel.com"
        );
        assert_eq!(provider.url, "https://oidc.vercel.com");
    }

    /// One row per hostile `aud` or `iss`: the provider command, or why there is none. The
    /// audience is one JSON list item, which the AWS CLI neither splits, loads nor fetches.
    #[test]
    fn the_provider_command_registers_exactly_the_tokens_audience() {
        let hidden =
            "holds a control or invisible character, which cannot be shown in a command to paste";
        let loaded =
            "starts with `file://` or `fileb://`, which the AWS CLI reads as a file to load";
        let cases: &[(&str, &str, String)] = &[
            (
                "https://oidc.vercel.com/acme",
                "https://vercel.com/a,https://evil.example",
                r#"--url https://oidc.vercel.com/acme --client-id-list '["https://vercel.com/a,https://evil.example"]'"#.into(),
            ),
            (
                "https://oidc.vercel.com/acme",
                r#"["https://vercel.com/acme","https://evil.example"]"#,
                r#"--url https://oidc.vercel.com/acme --client-id-list '["[\"https://vercel.com/acme\",\"https://evil.example\"]"]'"#.into(),
            ),
            (
                "https://oidc.vercel.com/acme",
                "file:///home/me/.aws/credentials",
                r#"--url https://oidc.vercel.com/acme --client-id-list '["file:///home/me/.aws/credentials"]'"#.into(),
            ),
            (
                "https://oidc.vercel.com/acme",
                "it's \"q\" \\ $(id)",
                r#"--url https://oidc.vercel.com/acme --client-id-list '["it'\''s \"q\" \\ $(id)"]'"#.into(),
            ),
            (
                "https://oidc.vercel.com/acme",
                "-x",
                r#"--url https://oidc.vercel.com/acme --client-id-list '["-x"]'"#.into(),
            ),
            (
                "https://oidc.vercel.com/acme",
                "https://vercel.com/acme\u{1b}[2J",
                format!("# no command: `https://vercel.com/acme\\x1b[2J` {hidden}"),
            ),
            (
                "file:///home/me/.aws/credentials",
                "https://vercel.com/acme",
                format!("# no command: `file:///home/me/.aws/credentials` {loaded}"),
            ),
            (
                "fileb:///etc/shadow",
                "https://vercel.com/acme",
                format!("# no command: `fileb:///etc/shadow` {loaded}"),
            ),
        ];
        for (iss, aud, want) in cases {
            let mut c = claims_json(2_000_000_000);
            c["iss"] = serde_json::json!(iss);
            c["aud"] = serde_json::json!(aud);
            let claims = decode_claims(&jwt(&c)).unwrap();
            let command = cli_commands(&claims, "arn:aws:iam::123456789012:role/deploy").remove(0);
            let command = command
                .strip_prefix("aws iam create-open-id-connect-provider ")
                .unwrap_or(&command);
            assert_eq!(command, want, "{iss:?} {aud:?}");
        }
    }
}
