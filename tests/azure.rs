//! `vercel-oidc azure …` against a local HTTPS stand-in for Entra ID, trusted through
//! `SSL_CERT_FILE` with a throwaway CA (`MockServer::start_tls`).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use vercel_oidc::vars;

use common::{
    MockServer, Output, PULL_HINT, Reply, Sandbox, assert_one_of, claims, expired_error,
    fresh_token, jwt, now, register_secret,
};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SCOPE: &str = "https://management.azure.com/.default";

const FIXED_ACCESS: &str = "eyJ0eXAi.fixed-access-token";

/// Entra's success body with `access` valid for `expires_in` seconds.
fn access_reply(access: &str, expires_in: u32) -> Reply {
    Reply::json(
        200,
        format!(
            r#"{{"token_type":"Bearer","expires_in":{expires_in},"ext_expires_in":{expires_in},"access_token":"{access}"}}"#
        ),
    )
}

/// Entra's success body with a new access token each time, registered as a secret.
fn token_reply() -> Reply {
    let access = format!("eyJ0eXAi.access-{}", fastrand::u64(..));
    register_secret(access.clone());
    access_reply(&access, 3599)
}

/// Entra's error body for `code`.
fn aadsts(status: u16, error: &str, code: u32, text: &str) -> Reply {
    Reply::json(
        status,
        serde_json::json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: trace-1\r\nCorrelation ID: corr-1\r\nTimestamp: 2026-11-26 12:00:00Z"),
            "error_codes": [code],
            "timestamp": "2026-11-26 12:00:00Z",
            "trace_id": "trace-1",
            "correlation_id": "corr-1",
        })
        .to_string(),
    )
}

/// A sandbox with a token, the app's ids, and the mock authority trusted through SSL_CERT_FILE.
fn sandbox_for(mock: &MockServer, token: &str) -> Sandbox {
    let mut sb = Sandbox::new();
    let ca = mock.write_ca(sb.path());
    sb.set(vars::VERCEL_OIDC_TOKEN, token)
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_CLIENT_ID, CLIENT)
        .set(vars::AZURE_AUTHORITY_HOST, mock.url())
        .set(vars::SSL_CERT_FILE, ca.display().to_string());
    sb
}

/// A run of the binary with `args` that may print the access tokens the Entra stand-in issues.
fn access_token(sb: &Sandbox, args: &[&str]) -> Output {
    sb.command(args)
        .reveals_where(|secret| secret.starts_with("eyJ0eXAi."))
        .output()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn azure_cache_entries(sb: &Sandbox) -> Vec<PathBuf> {
    match std::fs::read_dir(sb.cache_dir()) {
        Ok(dir) => dir
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with("azure-") && name.ends_with(".json")
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

// --- access-token ---

#[test]
fn access_token_sends_exact_form_over_tls() {
    register_secret(FIXED_ACCESS);
    let mock = MockServer::start_tls(|_, _| access_reply(FIXED_ACCESS, 3599));
    let token = fresh_token();
    let sb = sandbox_for(&mock, &token);
    let out = access_token(&sb, &["azure", "access-token", "--scope", SCOPE]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = req.form();
    let want: Vec<(String, String)> = [
        ("client_id", CLIENT),
        ("scope", SCOPE),
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", token.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(form, want);
    assert_eq!(out.stdout, format!("{FIXED_ACCESS}\n"));
}

#[test]
fn access_token_json_and_flags_win_over_env() {
    let mock = MockServer::start_tls(|_, _| token_reply());
    let mut sb = sandbox_for(&mock, &fresh_token());
    sb.set(vars::AZURE_TENANT_ID, "wrong.example.com")
        .set(
            vars::AZURE_CLIENT_ID,
            "99999999-9999-9999-9999-999999999999",
        )
        .unset(vars::AZURE_AUTHORITY_HOST);
    let url = mock.url();
    let before = now();
    let out = access_token(
        &sb,
        &[
            "azure",
            "access-token",
            "--json",
            "--tenant-id",
            "contoso.onmicrosoft.com",
            "--client-id",
            CLIENT,
            "--authority-host",
            url.trim_end_matches('/'),
            "--scope",
            "api://11111111-2222-3333-4444-555555555555/.default",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        v["access_token"]
            .as_str()
            .unwrap()
            .starts_with("eyJ0eXAi.access-")
    );
    assert_eq!(v["token_type"], "Bearer");
    let expires_on = v["expires_on"].as_i64().unwrap();
    assert!((before + 3599..=now() + 3599).contains(&expires_on), "{v}");
    assert!(v["expires_at"].as_str().unwrap().ends_with('Z'));
    let expires_in = v["expires_in"].as_i64().unwrap();
    assert!((3590..=3599).contains(&expires_in), "{v}");
    assert_eq!(v.as_object().unwrap().len(), 5);
    let req = &mock.requests()[0];
    assert_eq!(req.path, "/contoso.onmicrosoft.com/oauth2/v2.0/token");
    assert_eq!(req.form_value("client_id").as_deref(), Some(CLIENT));
    assert_eq!(
        req.form_value("scope").as_deref(),
        Some("api://11111111-2222-3333-4444-555555555555/.default")
    );
}

#[test]
fn access_token_is_cached_per_identity_and_scope() {
    let mock = MockServer::start_tls(|_, _| token_reply());
    let token = fresh_token();
    let mut sb = sandbox_for(&mock, &token);
    let first = access_token(&sb, &["azure", "access-token", "--scope", SCOPE]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let entries = azure_cache_entries(&sb);
    assert_eq!(entries.len(), 1);
    assert_eq!(mode(&entries[0]), 0o600);
    assert_eq!(mode(&sb.cache_dir()), 0o700);

    let second = access_token(&sb, &["azure", "access-token", "--scope", SCOPE]);
    assert_eq!((second.code, &second.stdout), (0, &first.stdout));
    assert_eq!(mock.count(), 1, "the second call is served from the cache");

    // Entries are bound to the token that got them: a newer token of the same identity is
    // sent to Entra ID.
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(now() + 3000)));
    let third = access_token(&sb, &["azure", "access-token", "--scope", SCOPE]);
    assert_eq!(third.code, 0);
    assert_ne!(third.stdout, first.stdout);
    assert_eq!(mock.count(), 2);

    let no_cache = access_token(
        &sb,
        &["azure", "access-token", "--scope", SCOPE, "--no-cache"],
    );
    assert_eq!(no_cache.code, 0);
    assert_ne!(no_cache.stdout, third.stdout);
    assert_eq!(mock.count(), 3);

    let graph = access_token(
        &sb,
        &[
            "azure",
            "access-token",
            "--scope",
            "https://graph.microsoft.com/.default",
        ],
    );
    assert_eq!(graph.code, 0);
    assert_ne!(graph.stdout, third.stdout);
    assert_eq!(mock.count(), 4);

    let mut preview = claims(now() + 3600);
    preview["sub"] = "owner:acme:project:web:environment:preview".into();
    preview["environment"] = "preview".into();
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&preview));
    let other = access_token(&sb, &["azure", "access-token", "--scope", SCOPE]);
    assert_eq!(other.code, 0);
    assert_ne!(
        other.stdout, first.stdout,
        "another environment never gets the old token"
    );
    assert_eq!(mock.count(), 5);
    assert_eq!(
        mock.requests()[4].form_value("client_assertion").as_deref(),
        Some(sb.env[vars::VERCEL_OIDC_TOKEN].as_str())
    );
}

#[test]
fn access_token_close_to_expiry_is_refetched() {
    // Entra tokens that live 10 minutes are never handed out from the cache (20 minutes are kept).
    let mock = MockServer::start_tls(|_, _| {
        let access = format!("eyJ0eXAi.access-{}", fastrand::u64(..));
        register_secret(access.clone());
        access_reply(&access, 600)
    });
    let sb = sandbox_for(&mock, &fresh_token());
    for _ in 0..2 {
        assert_eq!(
            access_token(&sb, &["azure", "access-token", "--scope", SCOPE]).code,
            0
        );
    }
    assert_eq!(mock.count(), 2);
}

#[test]
fn aadsts_errors_map_to_hints() {
    let no_match = format!("no federated credential on app `{CLIENT}` matches the token");
    let no_tenant = format!("tenant `{TENANT}` does not exist");
    let bad_tenant = format!("`{TENANT}` is not a valid tenant");
    let bad_scope = format!("does not accept the scope `{SCOPE}`");
    let cases: Vec<(Reply, Vec<&str>)> = vec![
        (
            aadsts(
                400,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            ),
            vec![
                "AADSTS700024",
                "outside its valid time",
                "check this machine's clock",
                "vercel env pull",
            ],
        ),
        (
            aadsts(
                400,
                "invalid_client",
                70021,
                "No matching federated identity record found for presented assertion.",
            ),
            vec![
                "AADSTS70021",
                &no_match,
                "    iss: https://oidc.vercel.com/acme",
                "    sub: owner:acme:project:web:environment:production",
                "    aud: https://vercel.com/acme",
                "\"issuer\": \"https://oidc.vercel.com/acme\"",
                "\"subject\": \"owner:acme:project:web:environment:production\"",
                "\"https://vercel.com/acme\"",
                "subject matching is case-sensitive",
                "api://AzureADTokenExchange",
                "az ad app federated-credential create",
            ],
        ),
        (
            aadsts(
                400,
                "invalid_client",
                700213,
                "No matching federated identity record found for presented assertion subject 'owner:acme:project:web:environment:production'.",
            ),
            vec![
                "names its subject (`sub`) as what differs",
                "\"subject\": \"owner:acme:project:web:environment:production\"",
                "case-sensitive",
            ],
        ),
        (
            aadsts(
                400,
                "invalid_client",
                700212,
                "No matching federated identity record found for presented assertion audience 'https://vercel.com/acme'.",
            ),
            vec![
                "names its audience (`aud`) as what differs",
                "\"audiences\": [\n",
            ],
        ),
        (
            aadsts(
                400,
                "unauthorized_client",
                700016,
                "Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory.",
            ),
            vec![
                "no app with client id",
                vars::AZURE_CLIENT_ID,
                "not the object id",
            ],
        ),
        (
            aadsts(
                400,
                "invalid_request",
                90002,
                "Tenant '72f988bf-86f1-41af-91ab-2d7cd011db47' not found.",
            ),
            vec![&no_tenant, vars::AZURE_TENANT_ID, "--authority-host"],
        ),
        (
            aadsts(
                400,
                "invalid_request",
                900023,
                "Specified tenant identifier is neither a valid DNS name, nor a valid external domain.",
            ),
            vec![&bad_tenant, "--tenant-id"],
        ),
        (
            aadsts(
                400,
                "invalid_scope",
                70011,
                "The provided value for the input parameter 'scope' is not valid.",
            ),
            vec![&bad_scope],
        ),
        (
            aadsts(400, "invalid_request", 123456, "Something new."),
            vec!["/error?code=123456"],
        ),
    ];
    for (reply, wants) in cases {
        let mock = MockServer::start_tls(move |_, _| reply.clone());
        let sb = sandbox_for(&mock, &fresh_token());
        let out = access_token(&sb, &["azure", "access-token", "--scope", SCOPE]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_eq!(out.stdout, "", "nothing on stdout on failure");
        assert!(
            out.stderr.starts_with(&format!(
                "error: Entra ID refused the token for app `{CLIENT}` in tenant `{TENANT}`"
            )),
            "{}",
            out.stderr
        );
        for want in wants {
            assert!(
                out.stderr.contains(want),
                "stderr lacks {want:?}:\n{}",
                out.stderr
            );
        }
        assert!(
            out.stderr
                .contains("trace id `trace-1`, correlation id `corr-1`"),
            "{}",
            out.stderr
        );
        assert_eq!(mock.count(), 1, "refusals are not retried");
        assert!(
            azure_cache_entries(&sb).is_empty(),
            "a failure caches nothing"
        );
    }
}

#[test]
fn transient_failures_are_retried() {
    let mock = MockServer::start_tls(|i, _| match i {
        0 => Reply::json(
            503,
            r#"{"error":"temporarily_unavailable","error_description":"AADSTS50196: busy"}"#,
        ),
        1 => Reply::new(502, "text/html", "<html>bad gateway</html>"),
        _ => token_reply(),
    });
    let sb = sandbox_for(&mock, &fresh_token());
    let out = access_token(&sb, &["azure", "access-token", "--scope", SCOPE]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(mock.count(), 3);
}

#[test]
fn expired_token_makes_no_request() {
    let mock = MockServer::start_tls(|_, _| token_reply());
    let exp = now() - 3600;
    let sb = sandbox_for(&mock, &jwt(&claims(exp)));
    let out = access_token(&sb, &["azure", "access-token", "--scope", SCOPE]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        expired_error("VERCEL_OIDC_TOKEN", "1h 0m", exp, PULL_HINT)
    );
    assert_eq!(mock.count(), 0);
}

#[test]
fn untrusted_certificate_is_refused() {
    let mock = MockServer::start_tls(|_, _| token_reply());
    let mut sb = sandbox_for(&mock, &fresh_token());
    sb.unset(vars::SSL_CERT_FILE);
    let out = access_token(&sb, &["azure", "access-token", "--scope", SCOPE]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    let url = format!("{}/{TENANT}/oauth2/v2.0/token", mock.url());
    assert_eq!(
        out.stderr,
        format!(
            "error: cannot reach Entra ID at `{url}`: error sending request for url ({url}): client error (Connect): invalid peer certificate: UnknownIssuer\n  check the network, HTTPS_PROXY/NO_PROXY, SSL_CERT_FILE for a TLS-inspecting proxy, and --authority-host\n"
        )
    );
    assert_eq!(
        mock.count(),
        0,
        "no request crosses an unverified connection"
    );
}

#[test]
fn plain_http_authorities_are_refused() {
    let plain = MockServer::start(|_, _| Reply::json(200, "{}"));
    let sb = {
        let mut sb = Sandbox::new();
        sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
            .set(vars::AZURE_TENANT_ID, TENANT)
            .set(vars::AZURE_CLIENT_ID, CLIENT);
        sb
    };
    for host in ["http://login.example.com/", plain.url().as_str()] {
        for cmd in [
            &["azure", "access-token", "--scope", SCOPE][..],
            &["azure", "configure"][..],
        ] {
            let mut args = cmd.to_vec();
            args.extend(["--authority-host", host]);
            let out = sb.run(&args);
            assert_eq!(out.code, 1, "{host}");
            assert_eq!(out.stdout, "");
            assert!(
                out.stderr.starts_with(&format!(
                    "error: cannot use the authority host `{host}`: it is plain http"
                )),
                "{}",
                out.stderr
            );
            assert!(out.stderr.contains("https://login.microsoftonline.com/"));
        }
    }
    assert_eq!(plain.count(), 0);
    assert!(
        !sb.cache_dir().join("azure").exists(),
        "configure wrote nothing"
    );
}

#[test]
fn settings_errors_say_what_to_do() {
    let sb = {
        let mut sb = Sandbox::new();
        sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
        sb
    };
    let cases: &[(&[&str], &str)] = &[
        (
            &["azure", "configure", "--client-id", CLIENT],
            "error: no Azure tenant id\n  pass --tenant-id or set AZURE_TENANT_ID",
        ),
        (
            &["azure", "configure", "--tenant-id", TENANT],
            "error: no Azure client id\n  pass --client-id or set AZURE_CLIENT_ID",
        ),
        (
            &[
                "azure",
                "configure",
                "--tenant-id",
                TENANT,
                "--client-id",
                "my-app",
            ],
            "error: `my-app` is not a client id",
        ),
        (
            &[
                "azure",
                "configure",
                "--tenant-id",
                "common",
                "--client-id",
                CLIENT,
            ],
            "error: tenant `common` names no single directory",
        ),
        (
            &[
                "azure",
                "access-token",
                "--tenant-id",
                TENANT,
                "--client-id",
                CLIENT,
            ],
            "error: no scope to request\n  pass --scope",
        ),
        (
            &[
                "azure",
                "access-token",
                "--tenant-id",
                TENANT,
                "--client-id",
                CLIENT,
                "--scope",
                "https://management.azure.com",
            ],
            "error: `https://management.azure.com` is not a scope Entra ID accepts here: an app's own token takes the resource's `.default` scope, such as `https://management.azure.com/.default`",
        ),
    ];
    for (args, want) in cases {
        let out = sb.run(args);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(out.stderr.starts_with(want), "{args:?}: {}", out.stderr);
    }
    assert!(!sb.cache_dir().exists(), "nothing written");
}

// --- configure ---

fn configure_sandbox(token: &str) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, token)
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_CLIENT_ID, CLIENT);
    sb
}

#[test]
fn configure_writes_the_token_file_and_prints_the_sdk_variables() {
    let token = fresh_token();
    let sb = configure_sandbox(&token);
    let out = sb.run(&["azure", "configure"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dir = sb.cache_dir().join("azure");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one file, no temporary left: {files:?}");
    let file = &files[0];
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("acme-web-production-") && name.ends_with(".jwt"),
        "{name}"
    );
    assert_eq!(
        std::fs::read(file).unwrap(),
        token.as_bytes(),
        "the token exactly, no newline"
    );
    assert_eq!(mode(file), 0o600);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&sb.cache_dir()), 0o700);
    assert_eq!(
        out.stdout,
        format!(
            "export AZURE_CLIENT_ID='{CLIENT}'\nexport AZURE_TENANT_ID='{TENANT}'\nexport AZURE_FEDERATED_TOKEN_FILE='{file}'\nexport AZURE_AUTHORITY_HOST='https://login.microsoftonline.com/'\nexport ARM_USE_OIDC='true'\nexport ARM_CLIENT_ID='{CLIENT}'\nexport ARM_TENANT_ID='{TENANT}'\nexport ARM_OIDC_TOKEN_FILE_PATH='{file}'\nexport ARM_ENVIRONMENT='public'\n",
            file = file.display()
        )
    );
    assert!(
        out.stderr.starts_with(&format!(
            "wrote the token from VERCEL_OIDC_TOKEN to `{}`; it expires in 59m",
            file.display()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("run this again before then"),
        "{}",
        out.stderr
    );
}

#[test]
fn configure_formats() {
    let sb = configure_sandbox(&fresh_token());
    let json = sb.run(&["azure", "configure", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let obj = v.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            vars::AZURE_CLIENT_ID,
            vars::AZURE_TENANT_ID,
            vars::AZURE_FEDERATED_TOKEN_FILE,
            vars::AZURE_AUTHORITY_HOST,
            vars::ARM_USE_OIDC,
            vars::ARM_CLIENT_ID,
            vars::ARM_TENANT_ID,
            vars::ARM_OIDC_TOKEN_FILE_PATH,
            vars::ARM_ENVIRONMENT,
        ]
    );
    let file = v[vars::AZURE_FEDERATED_TOKEN_FILE]
        .as_str()
        .unwrap()
        .to_string();
    assert!(Path::new(&file).is_absolute());

    let fish = sb.run(&["azure", "configure", "--format", "fish"]);
    assert!(
        fish.stdout
            .contains(&format!("set -gx AZURE_FEDERATED_TOKEN_FILE '{file}';\n")),
        "{}",
        fish.stdout
    );
    let dotenv = sb.run(&["azure", "configure", "--format", "dotenv"]);
    assert!(
        dotenv
            .stdout
            .contains(&format!("AZURE_TENANT_ID=\"{TENANT}\"\n")),
        "{}",
        dotenv.stdout
    );
    assert_eq!(dotenv.stdout.lines().count(), 9);
}

#[test]
fn configure_rewrites_the_same_file_with_the_current_token() {
    let first = fresh_token();
    let mut sb = configure_sandbox(&first);
    let a = sb.run(&["azure", "configure", "--format", "json"]);
    let second = jwt(&claims(now() + 3500));
    sb.set(vars::VERCEL_OIDC_TOKEN, second.clone());
    let b = sb.run(&["azure", "configure", "--format", "json"]);
    assert_eq!((a.code, b.code), (0, 0));
    assert_eq!(a.stdout, b.stdout, "same identity, same file");
    let v: serde_json::Value = serde_json::from_str(&b.stdout).unwrap();
    let file = v[vars::AZURE_FEDERATED_TOKEN_FILE].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(file).unwrap(), second);
}

#[test]
fn configure_to_a_given_file() {
    let token = fresh_token();
    let mut sb = configure_sandbox(&token);
    sb.set(vars::AZURE_AUTHORITY_HOST, "login.microsoftonline.us");
    let out = sb.run(&[
        "azure",
        "configure",
        "--federated-token-file",
        "secrets/azure/token",
        "--format",
        "dotenv",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = sb.path().join("secrets/azure/token");
    assert_eq!(std::fs::read(&file).unwrap(), token.as_bytes());
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&sb.path().join("secrets/azure")), 0o700);
    assert!(
        out.stdout.contains(&format!(
            "AZURE_FEDERATED_TOKEN_FILE=\"{}\"\n",
            file.display()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("AZURE_AUTHORITY_HOST=\"https://login.microsoftonline.us/\"\n"),
        "{}",
        out.stdout
    );

    // The environment variable, and the token source flag alongside it.
    let source = sb.path().join("vercel-token");
    let other = fresh_token();
    std::fs::write(&source, format!("{other}\n")).unwrap();
    let target = sb.path().join("from-env");
    sb.set(
        vars::VERCEL_OIDC_AZURE_TOKEN_FILE,
        target.display().to_string(),
    );
    let out = sb.run(&[
        "--token-file",
        source.to_str().unwrap(),
        "azure",
        "configure",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read(&target).unwrap(),
        other.as_bytes(),
        "trimmed, no newline"
    );
    assert!(out.stderr.contains("--token-file"), "{}", out.stderr);
}

#[test]
fn configure_refuses_a_directory_others_can_write() {
    let sb = configure_sandbox(&fresh_token());
    let shared = sb.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let target = shared.join("token");
    let out = sb.run(&[
        "azure",
        "configure",
        "--federated-token-file",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with(
            "error: will not write the token there: other users may write to the directory"
        ),
        "{}",
        out.stderr
    );
    assert!(!target.exists());
}

#[test]
fn configure_with_an_expired_or_short_lived_token() {
    let exp = now() - 10;
    let sb = configure_sandbox(&jwt(&claims(exp)));
    let out = sb.run(&["azure", "configure"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    let wordings: Vec<String> = (10..=15)
        .map(|s| expired_error("VERCEL_OIDC_TOKEN", &format!("{s}s"), exp, PULL_HINT))
        .collect();
    assert_one_of(&out.stderr, &wordings);
    assert!(
        !sb.cache_dir().join("azure").exists(),
        "nothing half-written"
    );

    let sb = configure_sandbox(&jwt(&claims(now() + 300)));
    let out = sb.run(&["azure", "configure"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 9);
    assert!(
        out.stderr
            .contains("warning: the Azure SDKs may keep using a token for up to 10 minutes"),
        "{}",
        out.stderr
    );
}

#[test]
fn settings_from_the_project_config() {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        format!(
            "[azure]\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\nauthority_host = \"login.microsoftonline.us\"\n\n[preview.azure]\nclient_id = \"22222222-2222-2222-2222-222222222222\"\n"
        ),
    )
    .unwrap();
    let vars = |sb: &Sandbox, extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["azure", "configure", "--format", "json"];
        args.extend(extra);
        let out = sb.run(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        serde_json::from_str(&out.stdout).unwrap()
    };
    let v = vars(&sb, &[]);
    assert_eq!(v[vars::AZURE_TENANT_ID], TENANT);
    assert_eq!(v[vars::AZURE_CLIENT_ID], CLIENT);
    assert_eq!(
        v[vars::AZURE_AUTHORITY_HOST],
        "https://login.microsoftonline.us/"
    );

    let mut preview = claims(now() + 3600);
    preview["sub"] = "owner:acme:project:web:environment:preview".into();
    preview["environment"] = "preview".into();
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&preview));
    let v = vars(&sb, &[]);
    assert_eq!(
        v[vars::AZURE_CLIENT_ID],
        "22222222-2222-2222-2222-222222222222"
    );
    assert_eq!(
        v[vars::AZURE_TENANT_ID],
        TENANT,
        "the base section fills the rest"
    );

    sb.set(
        vars::AZURE_CLIENT_ID,
        "33333333-3333-3333-3333-333333333333",
    );
    assert_eq!(
        vars(&sb, &[])[vars::AZURE_CLIENT_ID],
        "33333333-3333-3333-3333-333333333333",
        "the environment variable wins over the file"
    );
    assert_eq!(
        vars(&sb, &["--client-id", CLIENT])[vars::AZURE_CLIENT_ID],
        CLIENT,
        "the flag wins over both"
    );
}

const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

/// What `azure configure --format dotenv` printed, as name and value.
fn dotenv_vars(out: &Output) -> Vec<(String, String)> {
    out.stdout
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

#[test]
fn configure_prints_what_terraform_reads_with_the_subscription_and_the_cloud() {
    let token = fresh_token();
    let mut sb = configure_sandbox(&token);
    sb.set(vars::AZURE_AUTHORITY_HOST, "login.microsoftonline.us");
    let out = sb.run(&[
        "azure",
        "configure",
        "--subscription-id",
        SUBSCRIPTION,
        "--federated-token-file",
        "azure-token",
        "--format",
        "dotenv",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = sb.path().join("azure-token").display().to_string();
    let want: Vec<(String, String)> = [
        (vars::AZURE_CLIENT_ID, CLIENT),
        (vars::AZURE_TENANT_ID, TENANT),
        (vars::AZURE_FEDERATED_TOKEN_FILE, &file),
        (
            vars::AZURE_AUTHORITY_HOST,
            "https://login.microsoftonline.us/",
        ),
        (vars::AZURE_SUBSCRIPTION_ID, SUBSCRIPTION),
        (vars::ARM_USE_OIDC, "true"),
        (vars::ARM_CLIENT_ID, CLIENT),
        (vars::ARM_TENANT_ID, TENANT),
        (vars::ARM_OIDC_TOKEN_FILE_PATH, &file),
        (vars::ARM_SUBSCRIPTION_ID, SUBSCRIPTION),
        (vars::ARM_ENVIRONMENT, "usgovernment"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(dotenv_vars(&out), want);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), token);
}

#[test]
fn the_cloud_of_each_authority_host() {
    let mut sb = configure_sandbox(&fresh_token());
    for (host, environment) in [
        ("https://login.microsoftonline.com/", Some("public")),
        ("login.microsoftonline.us", Some("usgovernment")),
        ("login.chinacloudapi.cn", Some("china")),
        ("login.partner.microsoftonline.cn", Some("china")),
        // A stand-in or AD FS: the providers' own default stays (ARM_ENVIRONMENT unset).
        ("https://127.0.0.1:8443/", None),
        ("https://adfs.example.com/adfs", None),
    ] {
        sb.set(vars::AZURE_AUTHORITY_HOST, host);
        let out = sb.run(&["azure", "configure", "--format", "dotenv"]);
        assert_eq!(out.code, 0, "{host}: {}", out.stderr);
        let got = dotenv_vars(&out)
            .into_iter()
            .find(|(k, _)| k == vars::ARM_ENVIRONMENT)
            .map(|(_, v)| v);
        assert_eq!(got.as_deref(), environment, "{host}");
    }
}

#[test]
fn the_subscription_from_the_project_file_per_environment() {
    let mut sb = configure_sandbox(&fresh_token());
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        format!(
            "[azure]\nsubscription_id = \"{SUBSCRIPTION}\"\n\n[preview.azure]\nsubscription_id = \"22222222-2222-2222-2222-222222222222\"\n"
        ),
    )
    .unwrap();
    let subscription = |sb: &Sandbox| {
        let out = sb.run(&["azure", "configure", "--format", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v[vars::ARM_SUBSCRIPTION_ID], v[vars::AZURE_SUBSCRIPTION_ID]);
        v[vars::ARM_SUBSCRIPTION_ID].as_str().unwrap().to_string()
    };
    assert_eq!(subscription(&sb), SUBSCRIPTION);
    let mut preview = claims(now() + 3600);
    preview["sub"] = "owner:acme:project:web:environment:preview".into();
    preview["environment"] = "preview".into();
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&preview));
    assert_eq!(subscription(&sb), "22222222-2222-2222-2222-222222222222");
    sb.set(vars::AZURE_SUBSCRIPTION_ID, SUBSCRIPTION);
    assert_eq!(subscription(&sb), SUBSCRIPTION, "the variable wins");
}

#[test]
fn a_subscription_that_is_not_a_guid_is_refused() {
    let mut sb = configure_sandbox(&fresh_token());
    let out = sb.run(&["azure", "configure", "--subscription-id", "Pay-As-You-Go"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr,
        "error: `Pay-As-You-Go` is not a subscription id\n  use the Subscription ID, a GUID like `00000000-0000-0000-0000-000000000000` shown by `az account list` or on the subscription's overview, not its name (--subscription-id or AZURE_SUBSCRIPTION_ID)\n"
    );
    assert!(!sb.cache_dir().join("azure").exists(), "nothing written");

    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        "[azure]\nsubscription_id = \"prod\"\n",
    )
    .unwrap();
    let out = sb.run(&["exec", "--azure", "--", "true"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr,
        format!(
            "error: invalid project config `{}`: TOML parse error at line 2, column 19\n  |\n2 | subscription_id = \"prod\"\n  |                   ^^^^^^\n`prod` is not a subscription id\n  see the `vercel-oidc.toml` section of the README for the keys each section takes\n",
            sb.path().join("vercel-oidc.toml").display()
        )
    );
    std::fs::remove_file(sb.path().join("vercel-oidc.toml")).unwrap();
    sb.set(vars::AZURE_SUBSCRIPTION_ID, "prod");
    let out = sb.run(&["exec", "--azure", "--", "true"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert!(
        out.stderr
            .starts_with("error: `prod` is not a subscription id\n"),
        "{}",
        out.stderr
    );
}
