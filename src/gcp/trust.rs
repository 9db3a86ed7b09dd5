//! The Google Cloud set-up that would accept a given token, for error messages: the provider's
//! issuer, allowed audience and attribute mapping, and the IAM binding on a service account.

use crate::gcp::WorkloadProvider;
use crate::token::Claims;

/// The attribute mapping this tool recommends: the subject, plus the claims worth binding on.
pub const ATTRIBUTE_MAPPING: &str = "google.subject=assertion.sub,attribute.owner=assertion.owner,attribute.project=assertion.project,attribute.environment=assertion.environment";

/// Google's limit on the mapped `google.subject`.
const SUBJECT_LIMIT: usize = 127;

/// What the token carried, indented for an error message.
pub fn token_lines(claims: &Claims) -> String {
    format!(
        "  the token carried:\n    iss: {}\n    sub: {}\n    aud: {}",
        claims.iss, claims.sub, claims.aud
    )
}

/// Why Google STS may have refused the token, and the provider settings that accept it.
pub fn explain_sts(
    error: &str,
    description: &str,
    claims: &Claims,
    provider: &WorkloadProvider,
) -> String {
    let lower = description.to_ascii_lowercase();
    let first = if error == "invalid_target"
        || (error == "invalid_request" && lower.contains("audience"))
    {
        format!(
            "  the audience sent does not name an existing, enabled provider: check the project number ({}, a number, not the project id), the pool id (`{}`) and the provider id (`{}`)",
            provider.project_number, provider.pool, provider.provider
        )
    } else if lower.contains("attribute condition") {
        "  the provider's attribute condition rejected this token's claims; loosen the condition or make it match the claims below".to_string()
    } else if lower.contains("audience") {
        format!(
            "  the provider's allowed audiences must include the token's `aud` (`{}`); a new provider allows only its own resource name by default",
            claims.aud.first()
        )
    } else if lower.contains("issuer") || lower.contains("iss ") {
        format!(
            "  the provider's issuer URI must be exactly the token's `iss` (`{}`)",
            claims.iss
        )
    } else if lower.contains("expired") || lower.contains("stale") {
        format!(
            "  Google says the token is too old; check this machine's clock, then get a fresh token: {}",
            crate::token::fresh_token_hint(false)
        )
    } else if lower.contains("google.subject") || lower.contains("127") {
        format!(
            "  the mapped `google.subject` must be at most {SUBJECT_LIMIT} bytes; this token's `sub` is {} bytes",
            claims.sub.len()
        )
    } else {
        "  Google STS did not accept the token for this provider".to_string()
    };
    format!(
        "{first}\n{}\n  audience sent: {}\n  Google STS accepts it when {provider} has:\n    issuer URI:        {}\n    allowed audience:  {}\n    attribute mapping: google.subject=assertion.sub (and any attribute condition accepts the claims above)\n  for example:\n    gcloud iam workload-identity-pools providers update-oidc {} --project={} --location=global --workload-identity-pool={} --issuer-uri={} --allowed-audiences={} --attribute-mapping={ATTRIBUTE_MAPPING}",
        token_lines(claims),
        provider.audience(),
        claims.iss,
        claims.aud.first(),
        provider.provider,
        provider.project_number,
        provider.pool,
        claims.iss,
        claims.aud.first(),
    )
}

/// Why IAM Credentials refused to impersonate `service_account`, and the binding that allows it.
pub fn explain_impersonation(
    status: u16,
    message: &str,
    claims: &Claims,
    provider: &WorkloadProvider,
    service_account: &str,
) -> String {
    let principal = provider.principal(&claims.sub);
    let project = claims.project.as_deref().unwrap_or("<PROJECT>");
    let principal_set = provider.principal_set("project", project);
    let binding = format!(
        "  the service account `{service_account}` must grant roles/iam.workloadIdentityUser to this token's principal:\n    {principal}\n  or to a set of them, such as every environment of the project (needs the mapping attribute.project=assertion.project):\n    {principal_set}\n  for example:\n    gcloud iam service-accounts add-iam-policy-binding {service_account} --role=roles/iam.workloadIdentityUser --member={principal}"
    );
    let lower = message.to_ascii_lowercase();
    match status {
        403 if lower.contains("api has not been used") || lower.contains("is disabled") => format!(
            "  the IAM Service Account Credentials API is not enabled; enable it: gcloud services enable iamcredentials.googleapis.com --project=<PROJECT_ID>\n{binding}"
        ),
        401 | 403 => format!(
            "{binding}\n  (the binding can take a few minutes to apply)\n{}",
            token_lines(claims)
        ),
        404 => format!(
            "  the service account `{service_account}` does not exist, or this principal cannot see it; check --service-account (GCP_SERVICE_ACCOUNT_EMAIL)\n{binding}"
        ),
        400 if lower.contains("lifetime") => "  the requested lifetime is too long: above 3600s it needs the organisation policy constraints/iam.allowServiceAccountCredentialLifetimeExtension to list the service account; lower --token-lifetime-seconds".to_string(),
        400 if lower.contains("scope") => "  a requested scope is not valid; check --scope".to_string(),
        _ => "  IAM Credentials refused the request; see the message above".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::decode_claims;
    use crate::token::tests::{claims_json, jwt};

    fn provider() -> WorkloadProvider {
        WorkloadProvider {
            project_number: "123456789012".into(),
            pool: "vercel".into(),
            provider: "vercel-acme".into(),
        }
    }

    fn claims() -> Claims {
        decode_claims(&jwt(&claims_json(2_000_000_000))).unwrap()
    }

    /// One row per STS error: the first line the hint must start with.
    #[test]
    fn sts_hints() {
        let cases = [
            (
                "invalid_request",
                "Invalid value for \"audience\". This value should be the full resource name of the Identity Provider.",
                "  the audience sent does not name an existing, enabled provider: check the project number (123456789012",
            ),
            (
                "invalid_target",
                "The target service indicated by the \"audience\" parameters is invalid.",
                "  the audience sent does not name an existing, enabled provider",
            ),
            (
                "invalid_grant",
                "The audience in ID Token [https://vercel.com/acme] does not match the expected audience.",
                "  the provider's allowed audiences must include the token's `aud` (`https://vercel.com/acme`)",
            ),
            (
                "invalid_grant",
                "The issuer in ID Token does not match the expected ones.",
                "  the provider's issuer URI must be exactly the token's `iss` (`https://oidc.vercel.com/acme`)",
            ),
            (
                "invalid_grant",
                "The given credential is rejected by the attribute condition.",
                "  the provider's attribute condition rejected this token's claims",
            ),
            (
                "invalid_grant",
                "ID Token issued at 1 is stale to sign-in.",
                "  Google says the token is too old",
            ),
            (
                "invalid_grant",
                "The size of mapped attribute google.subject exceeds the 127 bytes limit.",
                "  the mapped `google.subject` must be at most 127 bytes; this token's `sub` is 45 bytes",
            ),
            (
                "invalid_grant",
                "Something new.",
                "  Google STS did not accept the token for this provider",
            ),
        ];
        for (error, description, first) in cases {
            let hint = explain_sts(error, description, &claims(), &provider());
            assert!(hint.starts_with(first), "{description}:\n{hint}");
            for needed in [
                "    iss: https://oidc.vercel.com/acme",
                "    sub: owner:acme:project:web:environment:production",
                "    aud: https://vercel.com/acme",
                "  audience sent: //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel-acme",
                "    issuer URI:        https://oidc.vercel.com/acme",
                "    allowed audience:  https://vercel.com/acme",
                "    attribute mapping: google.subject=assertion.sub",
                "gcloud iam workload-identity-pools providers update-oidc vercel-acme --project=123456789012 --location=global --workload-identity-pool=vercel --issuer-uri=https://oidc.vercel.com/acme --allowed-audiences=https://vercel.com/acme --attribute-mapping=google.subject=assertion.sub,",
            ] {
                assert!(
                    hint.contains(needed),
                    "{description}: missing {needed:?} in\n{hint}"
                );
            }
        }
    }

    /// One row per IAM Credentials status: what the hint must say.
    #[test]
    fn impersonation_hints() {
        let sa = "deploy@my-project.iam.gserviceaccount.com";
        let principal = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/subject/owner:acme:project:web:environment:production";
        let cases = [
            (
                403,
                "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
                vec![
                    "  the service account `deploy@my-project.iam.gserviceaccount.com` must grant roles/iam.workloadIdentityUser to this token's principal:",
                    principal,
                    "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/attribute.project/web",
                    "gcloud iam service-accounts add-iam-policy-binding deploy@my-project.iam.gserviceaccount.com --role=roles/iam.workloadIdentityUser --member=principal://",
                    "    sub: owner:acme:project:web:environment:production",
                ],
            ),
            (
                403,
                "IAM Service Account Credentials API has not been used in project 1 before or it is disabled.",
                vec![
                    "  the IAM Service Account Credentials API is not enabled",
                    principal,
                ],
            ),
            (
                404,
                "Not found; Gaia id not found for email x",
                vec![
                    "  the service account `deploy@my-project.iam.gserviceaccount.com` does not exist",
                ],
            ),
            (
                400,
                "Requested lifetime 43200s exceeds the maximum of 3600s.",
                vec!["constraints/iam.allowServiceAccountCredentialLifetimeExtension"],
            ),
        ];
        for (status, message, needed) in cases {
            let hint = explain_impersonation(status, message, &claims(), &provider(), sa);
            for n in needed {
                assert!(
                    hint.contains(n),
                    "{status} {message}: missing {n:?} in\n{hint}"
                );
            }
        }
    }
}
