//! `vercel-oidc gcp …`, run as the real binary against a local recording stand-in for Google STS
//! and IAM Credentials.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use vercel_oidc::vars;

use common::*;

const SA: &str = "deploy@my-project.iam.gserviceaccount.com";
const AUDIENCE: &str = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel-acme";
const STS_TOKEN: &str = "ya29.federated-STSSECRET";
const SA_TOKEN: &str = "ya29.service-account-SASECRET";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

fn iam_path() -> String {
    format!("/v1/projects/-/serviceAccounts/{SA}:generateAccessToken")
}

fn sts_ok() -> Reply {
    register_secret(STS_TOKEN);
    Reply::json(
        200,
        format!(
            r#"{{"access_token":"{STS_TOKEN}","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3599}}"#
        ),
    )
}

fn iam_ok(expires_in: i64) -> Reply {
    register_secret(SA_TOKEN);
    Reply::json(
        200,
        format!(
            r#"{{"accessToken":"{SA_TOKEN}","expireTime":"{}"}}"#,
            rfc3339_in(expires_in)
        ),
    )
}

/// Google as the happy path: STS at `/v1/token`, IAM Credentials at the standard path.
fn google() -> MockServer {
    MockServer::start(|_, req| {
        if req.path == "/v1/token" {
            sts_ok()
        } else if req.path == iam_path() {
            iam_ok(3600)
        } else {
            Reply::json(
                404,
                r#"{"error":{"code":404,"message":"no such path","status":"NOT_FOUND"}}"#,
            )
        }
    })
}

/// A sandbox pointed at `server`, with the provider set through Vercel's variable names and a
/// fresh token in VERCEL_OIDC_TOKEN.
fn sandbox(server: &MockServer) -> (Sandbox, String) {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone())
        .set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme")
        .set(
            vars::VERCEL_OIDC_GCP_TOKEN_URL,
            format!("{}/v1/token", server.url()),
        )
        .set(vars::VERCEL_OIDC_GCP_IMPERSONATION_URL, server.url());
    (sb, token)
}

fn impersonating(sb: &mut Sandbox) -> &mut Sandbox {
    sb.set(vars::GCP_SERVICE_ACCOUNT_EMAIL, SA)
}

/// A run of the binary with `args` that may print the access tokens of the Google stand-in.
fn access_token(sb: &Sandbox, args: &[&str]) -> Output {
    sb.command(args)
        .reveals(STS_TOKEN)
        .reveals(SA_TOKEN)
        .output()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

#[test]
fn access_token_sends_the_exact_sts_form() {
    let server = google();
    let (sb, token) = sandbox(&server);
    let out = access_token(&sb, &["gcp", "access-token"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{STS_TOKEN}\n"));
    assert_eq!(out.stderr, "");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/token")
    );
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = req.form();
    let want: Vec<(String, String)> = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("audience", AUDIENCE),
        ("scope", CLOUD_PLATFORM),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
        ("subject_token", token.as_str()),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(form, want);
}

#[test]
fn access_token_impersonates_with_the_exact_json_body() {
    let server = google();
    let (mut sb, _) = sandbox(&server);
    impersonating(&mut sb);
    let out = access_token(
        &sb,
        &[
            "gcp",
            "access-token",
            "--scope",
            "https://www.googleapis.com/auth/devstorage.read_only",
            "--scope",
            "https://www.googleapis.com/auth/bigquery",
            "--token-lifetime-seconds",
            "1800",
            "--json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    // STS is asked for what IAM Credentials needs; the service account token gets the scopes.
    assert_eq!(reqs[0].form_value("scope").as_deref(), Some(CLOUD_PLATFORM));
    let iam = &reqs[1];
    assert_eq!(
        (iam.method.as_str(), iam.path.clone()),
        ("POST", iam_path())
    );
    assert_eq!(
        iam.header("authorization"),
        Some(format!("Bearer {STS_TOKEN}").as_str())
    );
    assert_eq!(iam.header("content-type"), Some("application/json"));
    assert_eq!(
        json(&iam.body),
        serde_json::json!({
            "scope": [
                "https://www.googleapis.com/auth/devstorage.read_only",
                "https://www.googleapis.com/auth/bigquery"
            ],
            "lifetime": "1800s"
        })
    );
    let v = json(&out.stdout);
    assert_eq!(v["access_token"], SA_TOKEN);
    assert_eq!(v["token_type"], "Bearer");
    let expires_in = v["expires_in"].as_i64().unwrap();
    assert!((3590..=3600).contains(&expires_in), "{expires_in}");
    assert!(v["expires_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn access_token_is_cached_for_every_process() {
    let server = google();
    let (mut sb, _) = sandbox(&server);
    impersonating(&mut sb);
    let first = access_token(&sb, &["gcp", "access-token"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(server.count(), 2);
    let second = access_token(&sb, &["gcp", "access-token"]);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(
        server.count(),
        2,
        "the second call is served from the cache"
    );

    let dir = sb.cache_dir();
    assert_eq!(mode(&dir), 0o700);
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("gcp-")
    );
    assert_eq!(mode(&entries[0]), 0o600);

    // Opting out, by flag or by variable, goes to Google every time.
    assert_eq!(
        access_token(&sb, &["gcp", "access-token", "--no-cache"]).code,
        0
    );
    assert_eq!(server.count(), 4);
    let mut no_cache = Sandbox::new();
    no_cache.env = sb.env.clone();
    no_cache.set(vars::VERCEL_OIDC_NO_CACHE, "1");
    assert_eq!(access_token(&no_cache, &["gcp", "access-token"]).code, 0);
    assert_eq!(server.count(), 6);

    // Another scope, or a token of another environment, is another entry.
    assert_eq!(
        access_token(
            &sb,
            &[
                "gcp",
                "access-token",
                "--scope",
                "https://www.googleapis.com/auth/bigquery"
            ]
        )
        .code,
        0
    );
    assert_eq!(server.count(), 8);
    let mut preview = claims(now() + 3600);
    preview["environment"] = "preview".into();
    preview["sub"] = "owner:acme:project:web:environment:preview".into();
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&preview));
    assert_eq!(access_token(&sb, &["gcp", "access-token"]).code, 0);
    assert_eq!(server.count(), 10);
}

#[test]
fn sts_refusals_explain_the_provider_set_up() {
    let cases = [
        (
            r#"{"error":"invalid_grant","error_description":"The audience in ID Token [https://vercel.com/acme] does not match the expected audience."}"#,
            "the provider's allowed audiences must include the token's `aud` (`https://vercel.com/acme`)",
        ),
        (
            r#"{"error":"invalid_request","error_description":"Invalid value for \"audience\". This value should be the full resource name of the Identity Provider."}"#,
            "the audience sent does not name an existing, enabled provider: check the project number (123456789012",
        ),
    ];
    for (body, first) in cases {
        let server = MockServer::start(move |_, _| Reply::json(400, body));
        let (sb, _) = sandbox(&server);
        let out = access_token(&sb, &["gcp", "access-token"]);
        assert_eq!(out.code, 1);
        assert_eq!(out.stdout, "");
        assert_eq!(server.count(), 1, "a refusal is not retried");
        for needed in [
            "error: Google STS (`http://127.0.0.1:",
            "refused the token: HTTP 400 ",
            first,
            "    iss: https://oidc.vercel.com/acme",
            "    sub: owner:acme:project:web:environment:production",
            "    aud: https://vercel.com/acme",
            &format!("  audience sent: {AUDIENCE}"),
            "    allowed audience:  https://vercel.com/acme",
            "    attribute mapping: google.subject=assertion.sub",
            "gcloud iam workload-identity-pools providers update-oidc vercel-acme --project=123456789012 --location=global --workload-identity-pool=vercel --issuer-uri=https://oidc.vercel.com/acme --allowed-audiences=https://vercel.com/acme",
        ] {
            assert!(
                out.stderr.contains(needed),
                "missing {needed:?} in\n{}",
                out.stderr
            );
        }
    }
}

#[test]
fn impersonation_refusal_names_the_binding_and_principal() {
    let server = MockServer::start(|_, req| {
        if req.path == "/v1/token" {
            sts_ok()
        } else {
            Reply::json(
                403,
                r#"{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}}"#,
            )
        }
    });
    let (mut sb, _) = sandbox(&server);
    impersonating(&mut sb);
    let out = access_token(&sb, &["gcp", "access-token"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(server.count(), 2);
    for needed in [
        "error: IAM Credentials refused to impersonate `deploy@my-project.iam.gserviceaccount.com`",
        "HTTP 403 PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied",
        "must grant roles/iam.workloadIdentityUser to this token's principal:",
        "    principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/subject/owner:acme:project:web:environment:production",
        "gcloud iam service-accounts add-iam-policy-binding deploy@my-project.iam.gserviceaccount.com --role=roles/iam.workloadIdentityUser --member=principal://",
    ] {
        assert!(
            out.stderr.contains(needed),
            "missing {needed:?} in\n{}",
            out.stderr
        );
    }
    let cached = std::fs::read_dir(sb.cache_dir())
        .map(|dir| {
            dir.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
        })
        .unwrap_or(0);
    assert_eq!(cached, 0, "nothing is cached after a failure");
}

#[test]
fn transient_failures_are_retried() {
    let server = MockServer::start(|i, _| {
        if i == 0 {
            Reply::json(503, r#"{"error":"temporarily_unavailable"}"#)
        } else {
            sts_ok()
        }
    });
    let (sb, _) = sandbox(&server);
    let out = access_token(&sb, &["gcp", "access-token"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.count(), 2);
    assert_eq!(out.stdout, format!("{STS_TOKEN}\n"));
}

#[test]
fn a_body_that_is_not_google_is_reported() {
    let server = MockServer::start(|_, _| Reply::new(502, "text/html", "<html>bad gateway</html>"));
    let (sb, _) = sandbox(&server);
    let out = access_token(&sb, &["gcp", "access-token", "--no-cache"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("answered HTTP 502 with a body it does not send: `<html>bad gateway</html>`")
            && out.stderr.contains(
                "check that --token-url (VERCEL_OIDC_GCP_TOKEN_URL) points at Google STS"
            ),
        "{}",
        out.stderr
    );
}

#[test]
fn expired_token_makes_no_request() {
    let server = google();
    let (mut sb, _) = sandbox(&server);
    let exp = now() - 3600;
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(exp)));
    let out = access_token(&sb, &["gcp", "access-token"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        expired_error("VERCEL_OIDC_TOKEN", "1h 0m", exp, PULL_HINT)
    );
    assert_eq!(server.count(), 0);
}

#[test]
fn configuration_errors_say_what_to_do() {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = access_token(&sb, &["gcp", "access-token"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("error: no GCP workload identity provider given\n  pass --project-number"),
        "{}",
        out.stderr
    );
    sb.set(vars::GCP_PROJECT_NUMBER, "my-project");
    let out = sb.run(&[
        "gcp",
        "configure",
        "--pool",
        "vercel",
        "--provider",
        "vercel",
    ]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("project number `my-project` is not a number"),
        "{}",
        out.stderr
    );
    assert!(!sb.home().join(".config").exists(), "nothing is written");
}

#[test]
fn executable_source_prints_the_response_and_nothing_on_stderr() {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone())
        .set(vars::VERCEL_OIDC_VERBOSE, "2")
        .set("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE", AUDIENCE)
        .set(
            vars::GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE,
            "urn:ietf:params:oauth:token-type:jwt",
        )
        .set("GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE", "0");
    let out = sb
        .command(&["-vv", "gcp", "executable-source"])
        .reveals(token.clone())
        .output();
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "", "clients parse stderr with stdout");
    assert_eq!(out.stdout.lines().count(), 1);
    let v = json(&out.stdout);
    let token_exp = json(
        &String::from_utf8(
            base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                token.split('.').nth(1).unwrap(),
            )
            .unwrap(),
        )
        .unwrap(),
    )["exp"]
        .as_i64()
        .unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "version": 1,
            "success": true,
            "token_type": "urn:ietf:params:oauth:token-type:jwt",
            "id_token": token,
            "expiration_time": token_exp - 30,
        })
    );
}

#[test]
fn executable_source_writes_the_output_file() {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone());
    let out_file = sb.path().join("run/gcp/response.json");
    sb.set(
        vars::GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE,
        out_file.display().to_string(),
    );
    let out = sb
        .command(&["gcp", "executable-source"])
        .reveals(token)
        .output();
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), out.stdout);
    assert_eq!(mode(&out_file), 0o600);
    assert_eq!(mode(out_file.parent().unwrap()), 0o700);

    // A failure leaves the last good response in place, whole.
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(now() - 60)));
    let failed = sb.run(&["gcp", "executable-source"]);
    assert_eq!(failed.code, 1);
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), out.stdout);

    // Revocation forgets it.
    sb.set(vars::GOOGLE_EXTERNAL_ACCOUNT_REVOKE, "1");
    let revoked = sb.run(&["gcp", "executable-source"]);
    assert_eq!(revoked.code, 0);
    assert_eq!(
        json(&revoked.stdout),
        serde_json::json!({"version": 1, "success": true})
    );
    assert!(!out_file.exists());
}

#[test]
fn executable_source_failures_are_responses_with_codes() {
    let not_found = Sandbox::new();
    let mut expired = Sandbox::new();
    expired.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(now() - 60)));
    let mut malformed = Sandbox::new();
    malformed.set(vars::VERCEL_OIDC_TOKEN, "not-a-jwt");
    let mut saml = Sandbox::new();
    saml.set(vars::VERCEL_OIDC_TOKEN, fresh_token()).set(
        vars::GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE,
        "urn:ietf:params:oauth:token-type:saml2",
    );
    let mut unwritable = Sandbox::new();
    std::fs::write(unwritable.path().join("blocker"), "").unwrap();
    let blocked = unwritable.path().join("blocker/out.json");
    unwritable.set(vars::VERCEL_OIDC_TOKEN, fresh_token()).set(
        vars::GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE,
        blocked.display().to_string(),
    );
    for (sb, code, message) in [
        (&not_found, "TOKEN_NOT_FOUND", "no Vercel OIDC token found"),
        (
            &expired,
            "TOKEN_EXPIRED",
            "the Vercel OIDC token from VERCEL_OIDC_TOKEN expired",
        ),
        (
            &malformed,
            "TOKEN_INVALID",
            "the Vercel OIDC token from VERCEL_OIDC_TOKEN is not a JWT",
        ),
        (
            &saml,
            "UNSUPPORTED_TOKEN_TYPE",
            "the client asked for a `urn:ietf:params:oauth:token-type:saml2` subject token",
        ),
        (
            &unwritable,
            "OUTPUT_FILE_UNWRITABLE",
            "cannot write the output file",
        ),
    ] {
        let out = sb.run(&["gcp", "executable-source"]);
        assert_eq!(out.code, 1, "{code}");
        assert_eq!(out.stderr, "", "{code}");
        let v = json(&out.stdout);
        assert_eq!(v["version"], 1);
        assert_eq!(v["success"], false);
        assert_eq!(v["code"], code);
        let msg = v["message"].as_str().unwrap();
        assert!(msg.starts_with(message), "{code}: {msg}");
        assert!(
            msg.contains("\n  "),
            "{code}: the message says what to do: {msg}"
        );
    }
}

#[test]
fn configure_file_source_writes_private_files_and_prints_the_environment() {
    let server = google();
    let (mut sb, token) = sandbox(&server);
    impersonating(&mut sb).set(vars::GCP_PROJECT_ID, "my-project");
    let out = sb.run(&["gcp", "configure"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dir = sb.home().join(".config/vercel-oidc/gcp");
    let file = dir.join("credentials.json");
    let token_file = dir.join("credentials-token.jwt");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&token_file), 0o600);
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap(),
        token,
        "the token, with no trailing newline"
    );
    assert_eq!(
        json(&std::fs::read_to_string(&file).unwrap()),
        serde_json::json!({
            "type": "external_account",
            "audience": AUDIENCE,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": format!("{}/v1/token", server.url()),
            "token_info_url": format!("{}/v1/introspect", server.url()),
            "universe_domain": "googleapis.com",
            "service_account_impersonation_url": format!("{}{}", server.url(), iam_path()),
            "service_account_impersonation": {"token_lifetime_seconds": 3600},
            "credential_source": {"file": token_file.display().to_string(), "format": {"type": "text"}},
        })
    );
    let f = file.display();
    assert_eq!(
        out.stdout,
        format!(
            "export GOOGLE_APPLICATION_CREDENTIALS='{f}'\nexport CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE='{f}'\nexport GOOGLE_CLOUD_PROJECT='my-project'\nexport CLOUDSDK_CORE_PROJECT='my-project'\n"
        )
    );
    assert!(out.stderr.contains("wrote `"), "{}", out.stderr);
    assert_eq!(server.count(), 0, "configure makes no request");
    // No temporary files left behind; the lock beside the credential file stays.
    assert_eq!(
        file_names(&dir),
        [
            ".credentials.json.vercel-oidc.lock",
            "credentials-token.jwt",
            "credentials.json"
        ]
    );

    // Switching to the executable source removes the token file the old one read.
    let out = sb.run(&["gcp", "configure", "--source", "executable"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!token_file.exists());
    assert_eq!(
        file_names(&dir),
        [".credentials.json.vercel-oidc.lock", "credentials.json"]
    );
}

#[test]
fn configure_executable_source_runs_this_binary() {
    let mut sb = Sandbox::new();
    let output = sb.path().join("creds/gcp.json");
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = sb.run(&[
        "gcp",
        "configure",
        "--audience",
        AUDIENCE,
        "--source",
        "executable",
        "--output",
        "creds/gcp.json",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(mode(&output), 0o600);
    assert_eq!(
        mode(output.parent().unwrap()),
        0o700,
        "a new directory is private"
    );
    let file = json(&std::fs::read_to_string(&output).unwrap());
    assert!(file.get("service_account_impersonation_url").is_none());
    assert!(file.get("service_account_impersonation").is_none());
    let exe = std::fs::canonicalize(BIN).unwrap();
    let command = file["credential_source"]["executable"]["command"]
        .as_str()
        .unwrap();
    assert_eq!(command, format!("{} gcp executable-source", exe.display()));
    assert_eq!(
        file["credential_source"]["executable"]["timeout_millis"],
        30000
    );
    assert_eq!(
        json(&out.stdout),
        serde_json::json!({
            vars::GOOGLE_APPLICATION_CREDENTIALS: output.display().to_string(),
            vars::CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE: output.display().to_string(),
            vars::GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES: "1",
        })
    );

    // The command, split on whitespace as Go does, gives the token current at run time.
    let later = fresh_token();
    let words: Vec<&str> = command.split_whitespace().collect();
    let run = Run::program(words[0])
        .args(&words[1..])
        .env_clear()
        .env(vars::HOME, sb.home())
        .env(vars::VERCEL_OIDC_TOKEN, &later)
        .reveals(later.clone())
        .output();
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(json(&run.stdout)["id_token"], later);
}

#[test]
fn configure_passes_a_token_file_to_the_command() {
    let mut sb = Sandbox::new();
    std::fs::write(sb.path().join("token"), fresh_token()).unwrap();
    sb.set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme");
    let out = sb.run(&[
        "--token-file",
        "token",
        "gcp",
        "configure",
        "--source",
        "executable",
        "--output",
        "gcp.json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = json(&std::fs::read_to_string(sb.path().join("gcp.json")).unwrap());
    let token_path = std::fs::canonicalize(sb.path()).unwrap().join("token");
    let command = file["credential_source"]["executable"]["command"]
        .as_str()
        .unwrap();
    assert!(
        command.ends_with(&format!(
            " --token-file {} gcp executable-source",
            sb.path().join("token").display()
        )) || command.ends_with(&format!(
            " --token-file {} gcp executable-source",
            token_path.display()
        )),
        "{command}"
    );
}

#[test]
fn configure_never_overwrites_another_kind_of_credential() {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let key = sb.path().join("key.json");
    let content = r#"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----"}"#;
    std::fs::write(&key, content).unwrap();
    let out = sb.run(&[
        "gcp",
        "configure",
        "--audience",
        AUDIENCE,
        "--output",
        "key.json",
    ]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("already holds a `service_account` credential, not an external_account file; refusing to overwrite it"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), content);
    assert!(!sb.path().join("key-token.jwt").exists());
}

#[test]
fn configure_file_source_needs_a_live_token() {
    let mut sb = Sandbox::new();
    let exp = now() - 3600;
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(exp)));
    let out = sb.run(&[
        "gcp",
        "configure",
        "--audience",
        AUDIENCE,
        "--output",
        "gcp.json",
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr,
        expired_error("VERCEL_OIDC_TOKEN", "1h 0m", exp, PULL_HINT)
    );
    assert!(!sb.path().join("gcp.json").exists());
    assert!(!sb.path().join("gcp-token.jwt").exists());
}

#[test]
fn every_flag_has_an_environment_variable() {
    // With a token at hand, which help must not show.
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    for (sub, vars) in [
        (
            "configure",
            &[
                vars::VERCEL_OIDC_GCP_AUDIENCE,
                vars::GCP_PROJECT_NUMBER,
                vars::GCP_WORKLOAD_IDENTITY_POOL_ID,
                vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID,
                vars::GCP_SERVICE_ACCOUNT_EMAIL,
                vars::VERCEL_OIDC_GCP_TOKEN_LIFETIME_SECONDS,
                vars::VERCEL_OIDC_GCP_TOKEN_URL,
                vars::VERCEL_OIDC_GCP_IMPERSONATION_URL,
                vars::VERCEL_OIDC_GCP_SOURCE,
                vars::VERCEL_OIDC_GCP_CREDENTIALS_FILE,
                vars::GCP_PROJECT_ID,
                vars::VERCEL_OIDC_FORMAT,
            ][..],
        ),
        (
            "access-token",
            &[
                vars::GCP_SERVICE_ACCOUNT_EMAIL,
                vars::VERCEL_OIDC_GCP_SCOPES,
                vars::VERCEL_OIDC_NO_CACHE,
            ][..],
        ),
    ] {
        let out = sb.run(&["gcp", sub, "--help"]);
        assert_eq!(out.code, 0);
        for var in vars {
            assert!(
                out.stdout.contains(&format!("[env: {var}")),
                "{sub}: {var}\n{}",
                out.stdout
            );
        }
    }
}

#[test]
fn project_config_supplies_the_settings_per_environment() {
    let server = google();
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        format!(
            "[gcp]\nproject_number = 123456789012\npool = \"vercel\"\nprovider = \"vercel-acme\"\ntoken_url = \"{url}/v1/token\"\n\n[production.gcp]\nservice_account = \"{SA}\"\nimpersonation_url = \"{url}\"\nsource = \"executable\"\n",
            url = server.url()
        ),
    )
    .unwrap();
    // The token is a production one: the base section plus [production.gcp].
    let out = sb.run(&["gcp", "configure", "--output", "gcp.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = json(&std::fs::read_to_string(sb.path().join("gcp.json")).unwrap());
    assert_eq!(file["audience"], AUDIENCE);
    assert_eq!(
        file["service_account_impersonation_url"],
        format!("{}{}", server.url(), iam_path())
    );
    assert!(file["credential_source"].get("executable").is_some());
    // A flag wins over the file.
    let out = sb.run(&[
        "gcp",
        "configure",
        "--output",
        "gcp.json",
        "--source",
        "file",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = json(&std::fs::read_to_string(sb.path().join("gcp.json")).unwrap());
    assert!(file["credential_source"].get("file").is_some());
    // access-token reads the same settings.
    let out = access_token(&sb, &["gcp", "access-token"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{SA_TOKEN}\n"));
    assert_eq!(server.count(), 2);
}

#[test]
fn executable_source_refreshes_an_expired_local_token_silently() {
    let mut c = claims(now() + 12 * 3600);
    c["environment"] = "development".into();
    let minted = jwt(&c);
    let body = format!(r#"{{"token":"{minted}"}}"#);
    let api = MockServer::start(move |_, req| {
        if req.path.starts_with("/v1/projects/prj_web123/token") {
            Reply::json(200, body.clone())
        } else {
            Reply::json(404, "{}")
        }
    });
    let (mut sb, app) = linked_project(&api);
    sb.set(vars::VERCEL_OIDC_VERBOSE, "2");
    let out = sb
        .command(&["gcp", "executable-source"])
        .current_dir(&app)
        .reveals(minted.clone())
        .output();
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, ""),
        "the refresh is silent too"
    );
    let v = json(&out.stdout);
    assert_eq!(v["success"], true);
    assert_eq!(v["id_token"], minted);
    assert_eq!(api.count(), 1);
}

#[test]
fn executable_source_reports_a_failed_refresh_as_expired() {
    let api = MockServer::start(|_, _| {
        Reply::json(
            403,
            r#"{"error":{"code":"forbidden","message":"You don't have access"}}"#,
        )
    });
    let (sb, app) = linked_project(&api);
    let out = sb.run_in(&app, &["gcp", "executable-source"]);
    assert_eq!((out.code, out.stderr.as_str()), (1, ""));
    let v = json(&out.stdout);
    assert_eq!(v["success"], false);
    assert_eq!(v["code"], "TOKEN_EXPIRED");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.starts_with("the Vercel OIDC token from VERCEL_OIDC_TOKEN in `")
            && message.contains("automatic refresh failed"),
        "{message}"
    );
}
