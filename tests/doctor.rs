//! `vercel-oidc doctor`, run as the real binary against local stand-ins for AWS STS, Google STS
//! and IAM Credentials, Entra ID (over TLS) and the Vercel API: the report for a working set-up,
//! for each kind of trust mismatch, offline, and without a usable token.
//!
//! Every run checks that no secret the mocks hand out (nor the token) reaches stdout or stderr.

mod common;

use std::path::{Path, PathBuf};
use vercel_oidc::vars;

use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/vercel-deploy";
const ACCESS_KEY_ID: &str = "ASIADOCTORKEY7XYZ";
const SECRET_KEY: &str = "doctorSecretAccessKey/abc";
const SESSION_TOKEN: &str = "doctorSessionTokenValue";
const SA: &str = "deploy@my-project.iam.gserviceaccount.com";
const STS_TOKEN: &str = "ya29.doctor-federated-STSSECRET";
const SA_TOKEN: &str = "ya29.doctor-service-account-SASECRET";
const AZURE_ACCESS: &str = "eyJ0eXAi.doctor-azure-access";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SUB: &str = "owner:acme:project:web:environment:production";
const PRINCIPAL: &str = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/subject/owner:acme:project:web:environment:production";

fn sts_ok() -> Reply {
    register_secret(SECRET_KEY);
    register_secret(SESSION_TOKEN);
    Reply::xml(
        200,
        format!(
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{ACCESS_KEY_ID}</AccessKeyId><SecretAccessKey>{SECRET_KEY}</SecretAccessKey><SessionToken>{SESSION_TOKEN}</SessionToken><Expiration>{}</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
            rfc3339_in(3600)
        ),
    )
}

fn access_denied() -> Reply {
    Reply::xml(
        403,
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
    )
}

fn google_sts_ok() -> Reply {
    register_secret(STS_TOKEN);
    Reply::json(
        200,
        format!(
            r#"{{"access_token":"{STS_TOKEN}","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3599}}"#
        ),
    )
}

fn iam_ok() -> Reply {
    register_secret(SA_TOKEN);
    Reply::json(
        200,
        format!(
            r#"{{"accessToken":"{SA_TOKEN}","expireTime":"{}"}}"#,
            rfc3339_in(3600)
        ),
    )
}

fn iam_path() -> String {
    format!("/v1/projects/-/serviceAccounts/{SA}:generateAccessToken")
}

/// Google: STS at `/v1/token` answering `sts`, IAM Credentials answering `iam`.
fn google(sts: fn() -> Reply, iam: fn() -> Reply) -> MockServer {
    MockServer::start(move |_, req| {
        if req.path == "/v1/token" {
            sts()
        } else if req.path == iam_path() {
            iam()
        } else {
            Reply::json(
                404,
                r#"{"error":{"code":404,"message":"no such path","status":"NOT_FOUND"}}"#,
            )
        }
    })
}

fn entra_ok() -> Reply {
    register_secret(AZURE_ACCESS);
    Reply::json(
        200,
        format!(
            r#"{{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"{AZURE_ACCESS}"}}"#
        ),
    )
}

/// A sandbox with `token` and every cloud configured against the given stand-ins; the Azure
/// client id is left for a flag.
fn sandbox(token: &str, sts: &MockServer, google: &MockServer, entra: &MockServer) -> Sandbox {
    let mut sb = Sandbox::new();
    let ca = entra.write_ca(sb.path());
    sb.set(vars::VERCEL_OIDC_TOKEN, token)
        .set(vars::AWS_ROLE_ARN, ROLE)
        .set(vars::AWS_ENDPOINT_URL_STS, sts.url())
        .set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme")
        .set(vars::GCP_SERVICE_ACCOUNT_EMAIL, SA)
        .set(
            vars::VERCEL_OIDC_GCP_TOKEN_URL,
            format!("{}/v1/token", google.url()),
        )
        .set(vars::VERCEL_OIDC_GCP_IMPERSONATION_URL, google.url())
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_AUTHORITY_HOST, entra.url())
        .set(vars::SSL_CERT_FILE, ca.display().to_string());
    sb
}

/// A sandbox with `token` and only AWS configured, against `sts`.
fn aws_only(token: &str, sts: &MockServer) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, token)
        .set(vars::AWS_ROLE_ARN, ROLE)
        .set(vars::AWS_ENDPOINT_URL_STS, sts.url());
    sb
}

/// A sandbox with `token` and only GCP configured (impersonating [`SA`]), against `google`.
fn gcp_only(token: &str, google: &MockServer) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, token)
        .set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme")
        .set(vars::GCP_SERVICE_ACCOUNT_EMAIL, SA)
        .set(
            vars::VERCEL_OIDC_GCP_TOKEN_URL,
            format!("{}/v1/token", google.url()),
        )
        .set(vars::VERCEL_OIDC_GCP_IMPERSONATION_URL, google.url());
    sb
}

/// Runs doctor, and checks that neither stream holds a secret.
fn doctor(sb: &Sandbox, args: &[&str]) -> Output {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    let out = sb.run(&all);
    assert_no_secrets(&out.stdout);
    out
}

fn doctor_json(sb: &Sandbox, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = doctor(sb, &all);
    let v = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", out.stdout));
    (out.code, v)
}

/// The lines of `text` from the one that is exactly `heading` to the next blank line, each with
/// its newline.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading:?} in:\n{text}"))
        + 1;
    let rest = &text[start..];
    &rest[..rest.find("\n\n").map_or(rest.len(), |end| end + 1)]
}

fn assert_contains(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "missing {n:?} in:\n{text}");
    }
}

/// The cache entries that an exchange would have written.
fn cache_entries(sb: &Sandbox) -> Vec<PathBuf> {
    match std::fs::read_dir(sb.cache_dir()) {
        Ok(dir) => dir
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_working_set_up_passes_every_check_without_the_cache() {
    let sts = MockServer::start(|_, _| sts_ok());
    let google = google(google_sts_ok, iam_ok);
    let entra = MockServer::start_tls(|_, _| entra_ok());
    let token = fresh_token();
    let mut sb = sandbox(&token, &sts, &google, &entra);
    // The project id comes from the project config, for a production token.
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        "[gcp]\nproject_id = \"preview-project\"\n\n[production.gcp]\nproject_id = \"my-project\"\n",
    )
    .unwrap();
    sb.set(vars::AWS_REGION, "eu-west-1");

    let out = doctor(&sb, &["--client-id", CLIENT]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.stderr, "");
    assert_contains(
        section(&format!("\n{}", out.stdout), "Token"),
        &[
            "  source       VERCEL_OIDC_TOKEN\n",
            "  issuer       https://oidc.vercel.com/acme (team issuer)\n",
            &format!("  subject      {SUB}\n"),
            "  audience     https://vercel.com/acme\n",
            "  owner        acme (team_acme123)\n",
            "  project      web (prj_web123)\n",
            "  environment  production\n",
            "(in 59m",
            "  status       valid\n",
            "  refresh      not possible: this folder is not in a linked project",
        ],
    );
    assert_contains(
        section(&out.stdout, "Project config"),
        &[
            &format!("`{}`", sb.path().join("vercel-oidc.toml").display()),
            "  configured   AWS, GCP, Azure\n",
        ],
    );
    let aws = section(&out.stdout, "AWS");
    assert_contains(
        aws,
        &[
            &format!("  role_arn               {ROLE}  (env AWS_ROLE_ARN)\n"),
            "  session_name           vercel-web-production  (default: from the token)\n",
            "  region                 eu-west-1  (env AWS_REGION)\n",
            &format!(
                "  sts_endpoint           {}  (env AWS_ENDPOINT_URL_STS)\n",
                sts.url()
            ),
            "  check                  passed: STS issued credentials ****7XYZ for `arn:aws:iam::123456789012:role/vercel-deploy`, valid until ",
        ],
    );
    let gcp = section(&out.stdout, "GCP");
    assert_contains(
        gcp,
        &[
            "  audience               //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel-acme  (default: made from the project number, pool and provider)\n",
            &format!("  service_account        {SA}  (env GCP_SERVICE_ACCOUNT_EMAIL)\n"),
            "  project_id             my-project  (vercel-oidc.toml [production.gcp])\n",
            &format!(
                "  check                  passed: Google issued an access token for `{SA}`, valid until "
            ),
        ],
    );
    let azure = section(&out.stdout, "Azure");
    assert_contains(
        azure,
        &[
            &format!("  client_id              {CLIENT}  (--client-id)\n"),
            &format!("  tenant_id              {TENANT}  (env AZURE_TENANT_ID)\n"),
            &format!(
                "  check                  passed: Entra ID issued an access token for app `{CLIENT}`, valid until "
            ),
        ],
    );
    assert!(
        !out.stdout.contains("trust configuration"),
        "no trust advice when everything works:\n{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("\nResult: all 3 checks passed\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(ACCESS_KEY_ID), "the key id is masked");

    // Each exchange really happened, with this token.
    assert_eq!(sts.count(), 1);
    assert_eq!(
        sts.requests()[0].form_value("WebIdentityToken").as_deref(),
        Some(token.as_str())
    );
    let google_paths: Vec<String> = google.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(google_paths, ["/v1/token".to_string(), iam_path()]);
    assert_eq!(entra.count(), 1);
    assert_eq!(
        entra.requests()[0].form_value("scope").as_deref(),
        Some("https://management.azure.com/.default")
    );
    assert_eq!(
        cache_entries(&sb),
        Vec::<PathBuf>::new(),
        "doctor writes no cache"
    );

    // A second run asks again: the trust is tested, not a cache.
    let (code, v) = doctor_json(&sb, &["--client-id", CLIENT]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!((sts.count(), google.count(), entra.count()), (2, 4, 2));

    assert_eq!(v["ok"], true);
    assert_eq!(v["offline"], false);
    assert_eq!(v["problems"], serde_json::json!([]));
    assert_eq!(v["configured"], serde_json::json!(["aws", "gcp", "azure"]));
    let t = &v["token"];
    assert_eq!(t["status"], "valid");
    assert_eq!(t["error"], serde_json::Value::Null);
    assert_eq!(t["source"], serde_json::json!({"kind": "env"}));
    assert_eq!(t["claims"]["iss"], "https://oidc.vercel.com/acme");
    assert_eq!(t["claims"]["issuer_mode"], "team");
    assert_eq!(t["claims"]["sub"], SUB);
    assert_eq!(
        t["claims"]["aud"],
        serde_json::json!(["https://vercel.com/acme"])
    );
    assert_eq!(t["claims"]["owner"], "acme");
    assert_eq!(t["claims"]["project"], "web");
    assert_eq!(t["claims"]["environment"], "production");
    let left = t["claims"]["expires_in_seconds"].as_i64().unwrap();
    assert!((3500..=3600).contains(&left), "{left}");
    assert_eq!(t["refresh"]["possible"], false);
    assert_eq!(
        v["config"]["path"],
        sb.path().join("vercel-oidc.toml").display().to_string()
    );

    let a = &v["aws"];
    assert_eq!(a["configured"], true);
    assert_eq!(
        a["settings"]["role_arn"],
        serde_json::json!({"value": ROLE, "from": "env", "origin": vars::AWS_ROLE_ARN})
    );
    assert_eq!(a["check"]["status"], "passed");
    assert_eq!(a["check"]["access_key_id"], "****7XYZ");
    assert!(a["check"]["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(a["check"]["error"], serde_json::Value::Null);
    assert_eq!(a["trust"], serde_json::Value::Null);

    let g = &v["gcp"];
    assert_eq!(g["check"]["status"], "passed");
    assert_eq!(g["settings"]["project_id"]["value"], "my-project");
    assert_eq!(g["settings"]["project_id"]["from"], "file");
    assert_eq!(g["settings"]["project_id"]["section"], "production.gcp");
    assert_eq!(g["trust"], serde_json::Value::Null);

    let z = &v["azure"];
    assert_eq!(z["check"]["status"], "passed");
    assert_eq!(
        z["settings"]["client_id"],
        serde_json::json!({"value": CLIENT, "from": "flag", "origin": "--client-id"})
    );
    assert_eq!(z["trust"], serde_json::Value::Null);
    for cloud in ["aws", "gcp", "azure"] {
        let mut keys: Vec<&str> = v[cloud]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["check", "configured", "settings", "trust"],
            "{cloud}"
        );
    }
}

#[test]
fn aws_access_denied_with_a_team_issuer_shows_the_provider_and_trust_policy() {
    let sts = MockServer::start(|_, _| access_denied());
    let sb = aws_only(&fresh_token(), &sts);
    let out = doctor(&sb, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(out.stderr, "");
    assert_eq!(sts.count(), 1, "a refusal is not retried");
    let aws = section(&out.stdout, "AWS");
    assert_contains(
        aws,
        &[
            "  check                  FAILED: STS refused the token: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\n",
            "the role's trust policy does not accept this token (usually its `sub` or `aud` condition).\n",
            "  the trust configuration that accepts this token:\n",
            "    IAM OIDC provider in account 123456789012:\n",
            "      URL       https://oidc.vercel.com/acme\n",
            "      audience  https://vercel.com/acme\n",
            "      ARN       arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme\n",
            "    trust policy of role `vercel-deploy` (save as trust-policy.json):\n",
            "\"Federated\": \"arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme\"",
            "\"oidc.vercel.com/acme:aud\": \"https://vercel.com/acme\"",
            &format!("\"oidc.vercel.com/acme:sub\": \"{SUB}\""),
            "\"Action\": \"sts:AssumeRoleWithWebIdentity\"",
            "      aws iam create-open-id-connect-provider --url https://oidc.vercel.com/acme --client-id-list '[\"https://vercel.com/acme\"]'\n",
            "      aws iam update-assume-role-policy --role-name vercel-deploy --policy-document file://trust-policy.json\n",
            "\"StringLike\": {\"oidc.vercel.com/acme:sub\": \"owner:acme:project:web:environment:*\"}",
        ],
    );
    assert!(
        out.stdout
            .contains("\nResult: 1 problem\n  - AWS: STS refused the token: AccessDenied"),
        "{}",
        out.stdout
    );

    let (code, v) = doctor_json(&sb, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    let check = &v["aws"]["check"];
    assert_eq!(check["status"], "failed");
    assert_eq!(
        check["error"],
        serde_json::json!({
            "service": "STS",
            "status": 403,
            "code": "AccessDenied",
            "message": "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            "hint": "the role's trust policy does not accept this token (usually its `sub` or `aud` condition).",
        })
    );
    let trust = &v["aws"]["trust"];
    assert_eq!(
        trust["oidc_provider"],
        serde_json::json!({
            "url": "https://oidc.vercel.com/acme",
            "audience": "https://vercel.com/acme",
            "arn": "arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme",
        })
    );
    assert_eq!(
        trust["trust_policy"]["Statement"][0]["Condition"]["StringEquals"],
        serde_json::json!({
            "oidc.vercel.com/acme:aud": "https://vercel.com/acme",
            "oidc.vercel.com/acme:sub": SUB,
        })
    );
    assert_eq!(v["problems"].as_array().unwrap().len(), 1);
}

#[test]
fn aws_access_denied_with_the_global_issuer_uses_its_condition_keys() {
    let sts = MockServer::start(|_, _| access_denied());
    let mut c = claims(now() + 3600);
    c["iss"] = serde_json::json!("https://oidc.vercel.com");
    let sb = aws_only(&jwt(&c), &sts);
    let out = doctor(&sb, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_contains(
        &out.stdout,
        &[
            "  issuer       https://oidc.vercel.com (global issuer)\n",
            "      URL       https://oidc.vercel.com\n",
            "      ARN       arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com\n",
            "\"oidc.vercel.com:aud\": \"https://vercel.com/acme\"",
            &format!("\"oidc.vercel.com:sub\": \"{SUB}\""),
            "aws iam create-open-id-connect-provider --url https://oidc.vercel.com --client-id-list '[\"https://vercel.com/acme\"]'\n",
        ],
    );
    assert!(
        !out.stdout.contains("oidc.vercel.com/acme"),
        "no team-issuer key or provider for a global token:\n{}",
        out.stdout
    );
    let (_, v) = doctor_json(&sb, &[]);
    assert_eq!(v["token"]["claims"]["issuer_mode"], "global");
    assert_eq!(
        v["aws"]["trust"]["condition_keys"],
        serde_json::json!({"aud": "oidc.vercel.com:aud", "sub": "oidc.vercel.com:sub"})
    );
}

#[test]
fn gcp_invalid_grant_shows_the_provider_mapping_binding_and_commands() {
    fn refused() -> Reply {
        Reply::json(
            400,
            r#"{"error":"invalid_grant","error_description":"The audience in ID Token [https://vercel.com/acme] does not match the expected audience."}"#,
        )
    }
    let google = google(refused, iam_ok);
    let sb = gcp_only(&fresh_token(), &google);
    let out = doctor(&sb, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(
        google.count(),
        1,
        "no impersonation without a federated token"
    );
    let gcp = section(&out.stdout, "GCP");
    assert_contains(
        gcp,
        &[
            "  check                  FAILED: Google STS refused the token: invalid_grant: The audience in ID Token [https://vercel.com/acme] does not match the expected audience.\n",
            "the provider's allowed audiences must include the token's `aud` (`https://vercel.com/acme`)",
            "    workload identity pool provider `projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel-acme`:\n",
            "      issuer URI           https://oidc.vercel.com/acme\n",
            "      allowed audience     https://vercel.com/acme\n",
            "      attribute mapping    google.subject=assertion.sub,attribute.owner=assertion.owner,attribute.project=assertion.project,attribute.environment=assertion.environment\n",
            "      attribute condition  assertion.owner == \"acme\"\n",
            &format!(
                "    IAM binding: roles/iam.workloadIdentityUser on {SA}, for this token's principal:\n      {PRINCIPAL}\n"
            ),
            "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/attribute.project/web\n",
            "      gcloud iam workload-identity-pools create vercel --project=123456789012 --location=global\n",
            "      gcloud iam workload-identity-pools providers create-oidc vercel-acme --project=123456789012 --location=global --workload-identity-pool=vercel --issuer-uri=https://oidc.vercel.com/acme --allowed-audiences=https://vercel.com/acme --attribute-mapping=google.subject=assertion.sub,",
            "      gcloud iam workload-identity-pools providers update-oidc vercel-acme ",
            &format!(
                "      gcloud iam service-accounts add-iam-policy-binding {SA} --role=roles/iam.workloadIdentityUser --member={PRINCIPAL}\n"
            ),
        ],
    );

    let (code, v) = doctor_json(&sb, &[]);
    assert_eq!(code, 1);
    let g = &v["gcp"];
    assert_eq!(g["check"]["error"]["service"], "Google STS");
    assert_eq!(g["check"]["error"]["status"], 400);
    assert_eq!(g["check"]["error"]["code"], "invalid_grant");
    let trust = &g["trust"];
    assert_eq!(trust["issuer_uri"], "https://oidc.vercel.com/acme");
    assert_eq!(trust["allowed_audience"], "https://vercel.com/acme");
    assert_eq!(trust["principal"], PRINCIPAL);
    assert_eq!(
        trust["grant"],
        serde_json::json!({"role": "roles/iam.workloadIdentityUser", "on": SA})
    );
    assert!(
        trust["commands"]["grant"]
            .as_str()
            .unwrap()
            .ends_with(&format!("--member={PRINCIPAL}"))
    );

    // Without a service account, the principal is granted roles on the project itself.
    let mut direct = gcp_only(&fresh_token(), &google);
    direct.unset(vars::GCP_SERVICE_ACCOUNT_EMAIL);
    let out = doctor(&direct, &["--project-id", "my-project"]);
    assert_eq!(out.code, 1);
    assert_contains(
        &out.stdout,
        &[
            &format!(
                "    IAM binding: <ROLE> on project my-project, for this token's principal:\n      {PRINCIPAL}\n"
            ),
            &format!(
                "      gcloud projects add-iam-policy-binding my-project --role=<ROLE> --member={PRINCIPAL}\n"
            ),
            "  project_id             my-project  (--project-id)\n",
        ],
    );
}

#[test]
fn gcp_impersonation_refused_names_the_workload_identity_user_binding() {
    fn denied() -> Reply {
        Reply::json(
            403,
            r#"{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}}"#,
        )
    }
    let google = google(google_sts_ok, denied);
    let sb = gcp_only(&fresh_token(), &google);
    let out = doctor(&sb, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(google.count(), 2);
    let gcp = section(&out.stdout, "GCP");
    assert_contains(
        gcp,
        &[
            &format!(
                "  check                  FAILED: IAM Credentials refused to let the token impersonate `{SA}`: HTTP 403 PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).\n"
            ),
            &format!(
                "the service account `{SA}` must grant roles/iam.workloadIdentityUser to this token's principal\n"
            ),
            &format!(
                "    IAM binding: roles/iam.workloadIdentityUser on {SA}, for this token's principal:\n      {PRINCIPAL}\n"
            ),
            &format!(
                "gcloud iam service-accounts add-iam-policy-binding {SA} --role=roles/iam.workloadIdentityUser --member={PRINCIPAL}\n"
            ),
        ],
    );
    let (_, v) = doctor_json(&sb, &[]);
    assert_eq!(v["gcp"]["check"]["error"]["service"], "IAM Credentials");
    assert_eq!(v["gcp"]["check"]["error"]["code"], "PERMISSION_DENIED");
    assert_eq!(v["gcp"]["check"]["error"]["status"], 403);
    assert_eq!(
        v["gcp"]["trust"]["grant"]["role"],
        "roles/iam.workloadIdentityUser"
    );
}

#[test]
fn azure_aadsts70021_shows_the_federated_credential_for_this_token() {
    let entra = MockServer::start_tls(|_, _| {
        Reply::json(
            400,
            serde_json::json!({
                "error": "invalid_request",
                "error_description": "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://oidc.vercel.com/acme'.\r\nTrace ID: trace-1\r\nCorrelation ID: corr-1\r\nTimestamp: 2026-11-26 12:00:00Z",
                "error_codes": [70021],
                "trace_id": "trace-1",
                "correlation_id": "corr-1",
            })
            .to_string(),
        )
    });
    // A preview token: the credential must carry this token's subject, not a fixed one.
    let mut c = claims(now() + 3600);
    c["sub"] = serde_json::json!("owner:acme:project:web:environment:preview");
    c["environment"] = serde_json::json!("preview");
    let mut sb = Sandbox::new();
    let ca = entra.write_ca(sb.path());
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&c))
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_CLIENT_ID, CLIENT)
        .set(vars::AZURE_AUTHORITY_HOST, entra.url())
        .set(vars::SSL_CERT_FILE, ca.display().to_string());
    let out = doctor(&sb, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(entra.count(), 1);
    let azure = section(&out.stdout, "Azure");
    assert_contains(
        azure,
        &[
            "  check                  FAILED: Entra ID refused the token: invalid_request: AADSTS70021: No matching federated identity record found for presented assertion.",
            &format!("no federated credential on app `{CLIENT}` matches the token.\n"),
            &format!(
                "    federated credential on app `{CLIENT}` (issuer and subject must match exactly, case-sensitive; save as credential.json):\n"
            ),
            "\"name\": \"vercel-web-preview\"",
            "\"issuer\": \"https://oidc.vercel.com/acme\"",
            "\"subject\": \"owner:acme:project:web:environment:preview\"",
            "\"https://vercel.com/acme\"",
            &format!(
                "      az ad app federated-credential create --id {CLIENT} --parameters credential.json\n"
            ),
            "the credential must list `https://vercel.com/acme`",
        ],
    );
    let (_, v) = doctor_json(&sb, &[]);
    let z = &v["azure"];
    assert_eq!(z["check"]["error"]["service"], "Entra ID");
    assert_eq!(z["check"]["error"]["code"], "AADSTS70021");
    assert_eq!(z["check"]["error"]["status"], 400);
    assert_eq!(
        z["trust"]["federated_credential"],
        serde_json::json!({
            "name": "vercel-web-preview",
            "issuer": "https://oidc.vercel.com/acme",
            "subject": "owner:acme:project:web:environment:preview",
            "audiences": ["https://vercel.com/acme"],
        })
    );
    assert_eq!(
        z["trust"]["command"],
        format!("az ad app federated-credential create --id {CLIENT} --parameters credential.json")
    );
}

#[test]
fn offline_makes_no_request_and_shows_the_trust_each_cloud_needs() {
    let sts = MockServer::start(|_, _| sts_ok());
    let google = google(google_sts_ok, iam_ok);
    let entra = MockServer::start_tls(|_, _| entra_ok());
    let mut sb = sandbox(&fresh_token(), &sts, &google, &entra);
    sb.set(vars::AZURE_CLIENT_ID, CLIENT);
    let out = doctor(&sb, &["--offline"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!((sts.count(), google.count(), entra.count()), (0, 0, 0));
    for cloud in ["AWS", "GCP", "Azure"] {
        assert_contains(
            section(&out.stdout, cloud),
            &[
                "  check                  skipped: --offline, so no request was made\n",
                "  the trust configuration this token needs:\n",
            ],
        );
    }
    assert_contains(
        &out.stdout,
        &[
            &format!("\"oidc.vercel.com/acme:sub\": \"{SUB}\""),
            PRINCIPAL,
            "\"subject\": \"owner:acme:project:web:environment:production\"",
            "\nResult: offline, nothing was called; the settings of 3 clouds are valid, and the trust each needs is shown above\n",
        ],
    );
    let (code, v) = doctor_json(&sb, &["--offline"]);
    assert_eq!(code, 0);
    assert_eq!(
        (v["ok"].clone(), v["offline"].clone()),
        (true.into(), true.into())
    );
    for cloud in ["aws", "gcp", "azure"] {
        assert_eq!(v[cloud]["check"]["status"], "skipped", "{cloud}");
        assert!(v[cloud]["trust"].is_object(), "{cloud}");
    }
    assert_eq!((sts.count(), google.count(), entra.count()), (0, 0, 0));

    // Settings that cannot work fail offline too.
    let out = doctor(&sb, &["--offline", "--role-arn", "deploy"]);
    assert_eq!(out.code, 1);
    assert_contains(
        section(&out.stdout, "AWS"),
        &[
            "  role_arn               deploy  (--role-arn)\n",
            "FAILED: the settings are not valid: ",
        ],
    );
    assert_eq!(sts.count(), 0);
}

fn run_in(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    let out = sb.run_in(dir, args);
    assert_no_secrets(&out.stdout);
    out
}

#[test]
fn an_expired_local_token_is_refreshed_and_the_refreshed_one_is_checked() {
    let minted = jwt(&claims(now() + 12 * 3600));
    let body = serde_json::json!({ "token": minted }).to_string();
    let api = MockServer::start(move |_, req| {
        if req.path.starts_with("/v1/projects/prj_web123/token") {
            Reply::json(200, body.clone())
        } else {
            Reply::json(404, "{}")
        }
    });
    let sts = MockServer::start(|_, _| sts_ok());
    let (mut sb, app) = linked_project(&api);
    sb.set(vars::AWS_ROLE_ARN, ROLE)
        .set(vars::AWS_ENDPOINT_URL_STS, sts.url());

    // Offline: nothing is refreshed, so the token found is expired; the refresh is possible.
    let out = run_in(&sb, &app, &["doctor", "--offline"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!((api.count(), sts.count()), (0, 0));
    assert_contains(
        &out.stdout,
        &[
            &format!(
                "  source       VERCEL_OIDC_TOKEN in `{}`\n",
                app.join(".env.local").display()
            ),
            "  status       expired\n",
            "  refresh      possible: project `prj_web123` is linked at ",
            "through the Vercel API with the CLI login in ",
            "(or run doctor without --offline, which refreshes it)",
        ],
    );

    // Online: the refreshed token is shown and is the one STS gets.
    let out = run_in(&sb, &app, &["doctor"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(api.count(), 1);
    assert_contains(
        &out.stdout,
        &[
            "  source       a token refreshed through the Vercel API (kept in `",
            "  status       valid\n",
            "(in 11h 59m)",
            "passed: STS issued credentials ****7XYZ",
        ],
    );
    assert_eq!(
        sts.requests()[0].form_value("WebIdentityToken").as_deref(),
        Some(minted.as_str())
    );
}

#[test]
fn an_expired_or_missing_token_is_reported_with_what_to_do() {
    let sts = MockServer::start(|_, _| sts_ok());
    let exp = now() - 7200;
    let at = vercel_oidc::timefmt::rfc3339_z(vercel_oidc::timefmt::from_unix_saturating(exp));
    let sb = aws_only(&jwt(&claims(exp)), &sts);
    let out = doctor(&sb, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(out.stderr, "");
    assert_eq!(sts.count(), 0, "an expired token is not sent");
    assert_contains(
        &out.stdout,
        &[
            &format!("  expired      {at} (2h 0m ago)\n"),
            "  status       expired\n",
            &format!(
                "  error        the Vercel OIDC token from VERCEL_OIDC_TOKEN expired 2h 0m ago (at {at})\n"
            ),
            "vercel env pull",
            "  check                  skipped: there is no usable token to exchange\n",
            // The claims are known, so the trust it needs still is.
            "  the trust configuration this token needs:\n",
            "\nResult: 1 problem\n  - the Vercel OIDC token has expired: ",
        ],
    );
    let (code, v) = doctor_json(&sb, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    assert_eq!(v["token"]["status"], "expired");
    assert_eq!(
        v["token"]["error"],
        format!(
            "the Vercel OIDC token from VERCEL_OIDC_TOKEN expired 2h 0m ago (at {at})\n  {PULL_HINT}"
        )
    );
    assert_eq!(v["aws"]["check"]["status"], "skipped");

    let mut missing = aws_only("", &sts);
    missing.unset(vars::VERCEL_OIDC_TOKEN);
    let out = doctor(&missing, &[]);
    assert_eq!(out.code, 1);
    assert_contains(
        &out.stdout,
        &[
            "  status       missing\n",
            "  error        no Vercel OIDC token found",
            "  - the Vercel OIDC token is missing: locally, run `vercel link` once and then `vercel env pull`",
        ],
    );
    let (_, v) = doctor_json(&missing, &[]);
    assert_eq!(v["token"]["status"], "missing");
    assert_eq!(v["token"]["claims"], serde_json::Value::Null);
    assert_eq!(v["aws"]["trust"], serde_json::Value::Null);
    assert_eq!(sts.count(), 0);
}

#[test]
fn nothing_configured_is_reported() {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = doctor(&sb, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(out.stderr, "");
    assert_contains(
        &out.stdout,
        &[
            "  configured   none\n",
            "  file         none (no vercel-oidc.toml from here up",
            "\nResult: 1 problem\n  - no cloud is configured, so there is nothing to check: set AWS_ROLE_ARN, the GCP_* variables or AZURE_TENANT_ID and AZURE_CLIENT_ID",
        ],
    );
    assert!(!out.stdout.contains("\nAWS\n"), "{}", out.stdout);
    let (code, v) = doctor_json(&sb, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["configured"], serde_json::json!([]));
    assert_eq!(
        (&v["aws"], &v["gcp"], &v["azure"]),
        (
            &serde_json::Value::Null,
            &serde_json::Value::Null,
            &serde_json::Value::Null
        )
    );

    // Naming a cloud that is not configured says what is missing.
    let out = doctor(&sb, &["--azure"]);
    assert_eq!(out.code, 1);
    assert_contains(
        &out.stdout,
        &[
            "\nAzure (not configured)\n",
            "  check                  FAILED: the settings are not valid: no Azure tenant id\n",
            "pass --tenant-id or set AZURE_TENANT_ID",
        ],
    );
    assert!(!out.stdout.contains("\nAWS"), "{}", out.stdout);
}

#[test]
fn an_invalid_project_config_is_reported_with_its_file() {
    let sts = MockServer::start(|_, _| sts_ok());
    let sb = aws_only(&fresh_token(), &sts);
    let file = sb.path().join("vercel-oidc.toml");
    std::fs::write(&file, "[aws]\nrole = \"typo\"\n").unwrap();
    let out = doctor(&sb, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_contains(
        section(&out.stdout, "Project config"),
        &[
            &format!("  error        invalid project config `{}`", file.display()),
            "unknown field `role`",
        ],
    );
    assert!(
        out.stdout
            .contains("  - the project config cannot be used: fix the error shown under it\n"),
        "{}",
        out.stdout
    );
    // The settings from flags and environment variables are still checked.
    assert_eq!(sts.count(), 1);
    let (code, v) = doctor_json(&sb, &[]);
    assert_eq!(code, 1);
    assert!(
        v["config"]["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `role`"),
        "{v:#}"
    );
}

#[test]
fn doctor_says_how_exec_hands_aws_credentials_over_and_why() {
    let sts = MockServer::start(|_, _| sts_ok());
    let mut sb = aws_only(&fresh_token(), &sts);
    let setting = |sb: &Sandbox| {
        doctor_json(sb, &["--offline"]).1["aws"]["settings"]["exec_credentials"].clone()
    };
    assert_eq!(
        setting(&sb),
        serde_json::json!({"value": "env", "from": "default", "origin": "where no fresh token can be had (no linked project, or --no-refresh): environment keys, asked for as long as the role allows"})
    );
    std::fs::create_dir_all(sb.path().join(".vercel")).unwrap();
    std::fs::write(
        sb.path().join(".vercel/project.json"),
        r#"{"projectId":"prj_web123","orgId":"team_acme123"}"#,
    )
    .unwrap();
    assert_eq!(
        setting(&sb),
        serde_json::json!({"value": "endpoint", "from": "default", "origin": "in local development: the command may outlive its credentials, and the SDKs renew them from the endpoint"})
    );
    sb.set(vars::VERCEL, "1");
    assert_eq!(
        setting(&sb),
        serde_json::json!({"value": "env", "from": "default", "origin": "in a build (VERCEL or CI is set): the build's token cannot be renewed, and environment keys reach every tool"})
    );
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        "[aws]\ncredentials = \"endpoint\"\n",
    )
    .unwrap();
    assert_eq!(
        setting(&sb),
        serde_json::json!({"value": "endpoint", "from": "file", "origin": sb.path().join("vercel-oidc.toml").display().to_string(), "section": "aws"})
    );
    sb.set(vars::VERCEL_OIDC_AWS_CREDENTIALS, "env");
    assert_eq!(
        setting(&sb),
        serde_json::json!({"value": "env", "from": "env", "origin": vars::VERCEL_OIDC_AWS_CREDENTIALS})
    );
    sb.set(vars::VERCEL_OIDC_AWS_CREDENTIALS, "ENV");
    assert_eq!(
        setting(&sb),
        serde_json::json!({"value": "`ENV` is neither `endpoint` nor `env`", "from": "env", "origin": vars::VERCEL_OIDC_AWS_CREDENTIALS})
    );
}
