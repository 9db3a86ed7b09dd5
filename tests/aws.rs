//! `vercel-oidc aws …` and `vercel-oidc token`, run as the real binary against a local recording
//! stand-in for STS.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use vercel_oidc::vars;

use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/vercel-deploy";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEKnSESSIONTOKENsecret";

fn sts_ok(expires_in: i64) -> Reply {
    register_secret(SECRET_KEY);
    register_secret(SESSION_TOKEN);
    Reply::xml(
        200,
        format!(
            r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIATESTACCESSKEY01</AccessKeyId>
      <SecretAccessKey>{SECRET_KEY}</SecretAccessKey>
      <SessionToken>{SESSION_TOKEN}</SessionToken>
      <Expiration>{}</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/vercel-deploy/vercel-web-production</Arn></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#,
            // Fractional seconds, as real STS and moto may send them.
            rfc3339_in(expires_in).replace('Z', ".123Z")
        ),
    )
}

fn sts_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::xml(
        status,
        format!(
            r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
        ),
    )
}

/// A sandbox pointed at `server` as STS, with a fresh token in VERCEL_OIDC_TOKEN.
fn sandbox(server: &MockServer) -> (Sandbox, String) {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::AWS_ENDPOINT_URL_STS, server.url())
        .set(vars::VERCEL_OIDC_TOKEN, token.clone());
    (sb, token)
}

/// `aws credential-process --role-arn ROLE`, which may print the credentials of [`sts_ok`].
fn credential_process(sb: &Sandbox) -> Output {
    printing_credentials(sb, &["aws", "credential-process", "--role-arn", ROLE])
}

/// A run of the binary with `args` that may print the credentials of [`sts_ok`].
fn printing_credentials(sb: &Sandbox, args: &[&str]) -> Output {
    sb.command(args)
        .reveals(SECRET_KEY)
        .reveals(SESSION_TOKEN)
        .output()
}

/// Checks that `out` succeeded quietly and printed exactly the credential_process document of
/// [`sts_ok`], with its expiry in whole seconds, `expires_in` seconds from now (give or take a
/// minute for the run itself).
#[track_caller]
fn assert_credentials(out: &Output, expires_in: i64) {
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let exp = v["Expiration"].as_str().unwrap_or_default();
    let at = time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp();
    assert!(
        (now() + expires_in - 60..=now() + expires_in).contains(&at),
        "expires at {exp}"
    );
    assert_eq!(
        out.stdout,
        format!(
            "{{\"Version\":1,\"AccessKeyId\":\"ASIATESTACCESSKEY01\",\"SecretAccessKey\":\"{SECRET_KEY}\",\"SessionToken\":\"{SESSION_TOKEN}\",\"Expiration\":\"{}\"}}\n",
            vercel_oidc::timefmt::rfc3339_z(time::OffsetDateTime::from_unix_timestamp(at).unwrap())
        )
    );
}

#[test]
fn sends_exactly_what_sts_expects() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (sb, token) = sandbox(&server);
    let out = credential_process(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        req.header("user-agent")
            .unwrap()
            .starts_with("vercel-oidc/")
    );
    assert!(
        req.header("authorization").is_none(),
        "AssumeRoleWithWebIdentity is unsigned"
    );
    let form = req.form();
    let expected: Vec<(String, String)> = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", ROLE),
        ("RoleSessionName", "vercel-web-production"),
        ("WebIdentityToken", token.as_str()),
        ("DurationSeconds", "3600"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(form, expected);
}

#[test]
fn sends_policies_session_name_and_duration() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (sb, _) = sandbox(&server);
    std::fs::write(
        sb.path().join("policy.json"),
        "{\n \"Version\": \"2012-10-17\", \"Statement\": []\n}",
    )
    .unwrap();
    let out = printing_credentials(
        &sb,
        &[
            "aws",
            "credential-process",
            "--role-arn",
            ROLE,
            "--session-name",
            "deploy@ci",
            "--duration-seconds",
            "7200",
            "--policy-arn",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "--policy-arn",
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            "--policy",
            "@policy.json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let req = &server.requests()[0];
    assert_eq!(
        req.form_value("RoleSessionName").as_deref(),
        Some("deploy@ci")
    );
    assert_eq!(req.form_value("DurationSeconds").as_deref(), Some("7200"));
    assert_eq!(
        req.form_value("PolicyArns.member.1.arn").as_deref(),
        Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
    );
    assert_eq!(
        req.form_value("PolicyArns.member.2.arn").as_deref(),
        Some("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    );
    assert_eq!(
        req.form_value("Policy").as_deref(),
        Some(r#"{"Version":"2012-10-17","Statement":[]}"#)
    );
    assert!(req.form_value("ProviderId").is_none());
}

#[test]
fn prints_credential_process_json() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (sb, _) = sandbox(&server);
    let out = credential_process(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "quiet by default: {}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1, "one JSON object on one line");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["Version"], 1);
    assert_eq!(v["AccessKeyId"], "ASIATESTACCESSKEY01");
    assert_eq!(v["SecretAccessKey"], SECRET_KEY);
    assert_eq!(v["SessionToken"], SESSION_TOKEN);
    let exp = v["Expiration"].as_str().unwrap();
    assert!(
        exp.ends_with('Z') && exp.len() == 20,
        "whole seconds with Z: {exp}"
    );
    assert!(
        time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339).is_ok()
    );
    assert_eq!(v.as_object().unwrap().len(), 5);
    assert_credentials(&out, 3600);
}

#[test]
fn every_sts_error_code_has_an_actionable_message() {
    let cases: &[(&str, u16, &[&str])] = &[
        (
            "AccessDenied",
            403,
            &[
                "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity",
                "iss: https://oidc.vercel.com/acme",
                "sub: owner:acme:project:web:environment:production",
                "aud: https://vercel.com/acme",
                "arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme",
                "\"oidc.vercel.com/acme:sub\": \"owner:acme:project:web:environment:production\"",
                "\"oidc.vercel.com/acme:aud\": \"https://vercel.com/acme\"",
            ],
        ),
        (
            "InvalidIdentityToken",
            400,
            &[
                "InvalidIdentityToken",
                "IAM OIDC provider",
                "oidc.vercel.com/acme:aud",
                "sub: owner:acme",
            ],
        ),
        (
            "IDPRejectedClaim",
            403,
            &["audience list must include", "aud: https://vercel.com/acme"],
        ),
        (
            "ExpiredTokenException",
            400,
            &["STS says the token has expired", "clock", "vercel env pull"],
        ),
        (
            "MalformedPolicyDocument",
            400,
            &["--policy is not a valid IAM policy"],
        ),
        ("PackedPolicyTooLarge", 400, &["too large", "--policy-arn"]),
        (
            "RegionDisabledException",
            403,
            &["not activated", "--region"],
        ),
        (
            "ValidationError",
            400,
            &["--duration-seconds (3600)", "maximum session duration"],
        ),
        (
            "SomethingNew",
            400,
            &["SomethingNew: detail", "documentation"],
        ),
    ];
    for (code, status, wants) in cases {
        let (code, status) = (code.to_string(), *status);
        let message = if code == "AccessDenied" {
            "Not authorized to perform sts:AssumeRoleWithWebIdentity".to_string()
        } else {
            "detail".to_string()
        };
        let server = MockServer::start(move |_, _| sts_error(status, &code, &message));
        let (sb, _) = sandbox(&server);
        let out = credential_process(&sb);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stdout.is_empty(),
            "stdout must stay empty on failure: {}",
            out.stdout
        );
        assert!(
            out.stderr
                .starts_with("error: STS refused to let the token assume"),
            "{}",
            out.stderr
        );
        for want in *wants {
            assert!(
                out.stderr.contains(want),
                "missing {want:?} in:\n{}",
                out.stderr
            );
        }
        assert_eq!(server.count(), 1, "permanent errors are not retried");
    }
}

#[test]
fn transient_errors_are_retried_a_bounded_number_of_times() {
    for (status, code) in [
        (400, "IDPCommunicationError"),
        (400, "Throttling"),
        (503, "ServiceUnavailable"),
    ] {
        let server = MockServer::start(move |_, _| sts_error(status, code, "try later"));
        let (sb, _) = sandbox(&server);
        let out = credential_process(&sb);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stdout.is_empty());
        assert!(out.stderr.contains(code), "{}", out.stderr);
        assert_eq!(server.count(), 4, "{code}: 4 attempts in all");
    }
}

#[test]
fn transient_error_then_success() {
    let server = MockServer::start(|i, _| {
        if i < 2 {
            sts_error(500, "InternalFailure", "oops")
        } else {
            sts_ok(3600)
        }
    });
    let (sb, _) = sandbox(&server);
    let out = credential_process(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.count(), 3);
}

#[test]
fn a_non_sts_answer_is_reported_not_retried() {
    let server = MockServer::start(|_, _| Reply::new(404, "text/html", "<html>not found</html>"));
    let (sb, _) = sandbox(&server);
    let out = credential_process(&sb);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("HTTP 404 with a body that is not an STS response"),
        "{}",
        out.stderr
    );
    assert_eq!(server.count(), 1);
}

#[test]
fn unreachable_sts_is_retried_within_the_time_budget() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sb = Sandbox::new();
    sb.set(
        vars::AWS_ENDPOINT_URL_STS,
        format!("http://127.0.0.1:{port}"),
    )
    .set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = sb.run(&["-v", "aws", "credential-process", "--role-arn", ROLE]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("cannot reach STS"), "{}", out.stderr);
    // Three retries, then the fourth attempt's error: bounded by count (their pauses add up to
    // well under a second, so no time bound is needed to show it).
    assert_eq!(out.stderr.matches("retrying").count(), 3, "{}", out.stderr);
}

#[test]
fn second_call_is_served_from_the_cache() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (sb, _) = sandbox(&server);
    let first = credential_process(&sb);
    let second = credential_process(&sb);
    assert_eq!((first.code, second.code), (0, 0));
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(server.count(), 1);

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sb.cache_dir()), 0o700);
    let entries: Vec<_> = std::fs::read_dir(sb.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        entries
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "json"))
    );
    for p in entries {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

#[test]
fn no_cache_always_asks_sts_and_writes_nothing() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (sb, _) = sandbox(&server);
    for _ in 0..2 {
        let out = printing_credentials(
            &sb,
            &[
                "aws",
                "credential-process",
                "--role-arn",
                ROLE,
                "--no-cache",
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    assert_eq!(server.count(), 2);
    assert!(!sb.cache_dir().exists());
}

#[test]
fn credentials_close_to_expiry_are_not_handed_out() {
    // 19 minutes left: botocore would refresh at once, so the cache must not serve them.
    let server = MockServer::start(|_, _| sts_ok(19 * 60));
    let (sb, _) = sandbox(&server);
    assert_eq!(credential_process(&sb).code, 0);
    assert_eq!(credential_process(&sb).code, 0);
    assert_eq!(server.count(), 2);
}

#[test]
fn another_environment_never_gets_cached_credentials() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (mut sb, _) = sandbox(&server);
    assert_eq!(credential_process(&sb).code, 0);
    assert_eq!(server.count(), 1);
    // Entries are bound to the token that got them: even a newer token of the same identity
    // is sent to STS.
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(now() + 3000)));
    assert_eq!(credential_process(&sb).code, 0);
    assert_eq!(server.count(), 2);
    let mut preview = claims(now() + 3600);
    preview["environment"] = "preview".into();
    preview["sub"] = "owner:acme:project:web:environment:preview".into();
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&preview));
    assert_eq!(credential_process(&sb).code, 0);
    assert_eq!(server.count(), 3);
    assert_eq!(
        server.requests()[2]
            .form_value("RoleSessionName")
            .as_deref(),
        Some("vercel-web-preview")
    );
}

#[test]
fn corrupt_cache_entries_are_misses() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (sb, _) = sandbox(&server);
    assert_eq!(credential_process(&sb).code, 0);
    let entry = std::fs::read_dir(sb.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    for junk in [
        "",
        "{\"expires_at\":",
        "not json at all",
        "{\"expires_at\":99999999999,\"value\":{}}",
    ] {
        std::fs::write(&entry, junk).unwrap();
        assert_credentials(&credential_process(&sb), 3600);
    }
    assert_eq!(server.count(), 5);
    // The last fetch repaired the entry.
    assert_eq!(credential_process(&sb).code, 0);
    assert_eq!(server.count(), 5);
}

#[test]
fn unwritable_cache_still_gives_credentials() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (mut sb, _) = sandbox(&server);
    let blocker = sb.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    sb.set(
        vars::VERCEL_OIDC_CACHE_DIR,
        blocker.join("cache").display().to_string(),
    );
    let out = credential_process(&sb);
    assert_credentials(&out, 3600);
}

#[test]
fn concurrent_cold_calls_make_one_request() {
    let server = MockServer::start(|_, _| sts_ok(3600).delayed(Duration::from_millis(300)));
    let (sb, _) = sandbox(&server);
    let runs: Vec<Running> = (0..32)
        .map(|_| {
            sb.command(&["aws", "credential-process", "--role-arn", ROLE])
                .reveals(SECRET_KEY)
                .reveals(SESSION_TOKEN)
                .spawn()
        })
        .collect();
    for out in runs.into_iter().map(Running::wait) {
        assert_credentials(&out, 3600);
    }
    assert_eq!(server.count(), 1);
}

#[test]
fn an_expired_token_is_an_error_even_with_cached_credentials() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (mut sb, _) = sandbox(&server);
    assert_eq!(credential_process(&sb).code, 0);
    let exp = now() - 3600;
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(exp)));
    for no_cache in [&[][..], &["--no-cache"]] {
        let mut args = vec!["aws", "credential-process", "--role-arn", ROLE];
        args.extend_from_slice(no_cache);
        let out = sb.run(&args);
        assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
        assert_eq!(
            out.stderr,
            expired_error("VERCEL_OIDC_TOKEN", "1h 0m", exp, PULL_HINT)
        );
    }
    assert_eq!(server.count(), 1, "an expired token is never sent");
}

#[test]
fn token_problems_fail_before_any_request() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "no Vercel OIDC token found"),
        (
            Some("not-a-jwt".into()),
            "is not a JWT: it has 1 part(s), not 3",
        ),
        (Some(jwt(&claims(now() - 600))), "expired 10m"),
    ];
    for (token, want) in cases {
        let mut sb = Sandbox::new();
        sb.set(vars::AWS_ENDPOINT_URL_STS, server.url());
        if let Some(t) = token {
            sb.set(vars::VERCEL_OIDC_TOKEN, t);
        }
        let out = credential_process(&sb);
        assert_eq!(out.code, 1);
        assert!(out.stdout.is_empty());
        assert!(out.stderr.contains(want), "want {want:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("vercel env pull"),
            "says what to do: {}",
            out.stderr
        );
    }
    assert_eq!(server.count(), 0);
}

#[test]
fn bad_options_fail_with_the_fix() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (sb, _) = sandbox(&server);
    let cases: &[(&[&str], &str)] = &[
        (&[], "no role to assume"),
        (&["--role-arn", "deploy"], "`deploy` is not an IAM role ARN"),
        (
            &["--role-arn", ROLE, "--duration-seconds", "60"],
            "duration 60s is out of range",
        ),
        (
            &["--role-arn", ROLE, "--session-name", "has space"],
            "session name `has space` is not allowed",
        ),
        (&["--role-arn", ROLE, "--policy", "{oops"], "not valid JSON"),
    ];
    for (args, want) in cases {
        let mut all = vec!["aws", "credential-process"];
        all.extend_from_slice(args);
        let out = sb.run(&all);
        assert_eq!(out.code, 1, "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(out.stderr.contains(want), "want {want:?}: {}", out.stderr);
    }
    let mut remote = Sandbox::new();
    remote
        .set(vars::AWS_ENDPOINT_URL_STS, "http://sts.example.com")
        .set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = credential_process(&remote);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("plain http"), "{}", out.stderr);
    assert_eq!(server.count(), 0);
}

#[test]
fn role_and_options_come_from_the_environment() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (mut sb, _) = sandbox(&server);
    sb.set(vars::AWS_ROLE_ARN, ROLE)
        .set(vars::AWS_ROLE_SESSION_NAME, "from-env")
        .set(vars::VERCEL_OIDC_AWS_DURATION_SECONDS, "1800")
        .set(
            vars::VERCEL_OIDC_AWS_POLICY_ARNS,
            "arn:aws:iam::aws:policy/A,arn:aws:iam::aws:policy/B",
        );
    let out = printing_credentials(&sb, &["aws", "credential-process"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let req = &server.requests()[0];
    assert_eq!(req.form_value("RoleArn").as_deref(), Some(ROLE));
    assert_eq!(
        req.form_value("RoleSessionName").as_deref(),
        Some("from-env")
    );
    assert_eq!(req.form_value("DurationSeconds").as_deref(), Some("1800"));
    assert_eq!(
        req.form_value("PolicyArns.member.2.arn").as_deref(),
        Some("arn:aws:iam::aws:policy/B")
    );
}

#[test]
fn verbose_output_names_things_without_secrets() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (sb, _) = sandbox(&server);
    let out = printing_credentials(
        &sb,
        &["-vv", "aws", "credential-process", "--role-arn", ROLE],
    );
    assert_eq!(out.code, 0);
    assert!(
        out.stderr
            .contains("using the token from VERCEL_OIDC_TOKEN"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("****EY01"),
        "key ids are masked: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("ASIATESTACCESSKEY01"));
}

#[test]
fn env_prints_quoted_assignments() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (sb, _) = sandbox(&server);
    let out = printing_credentials(
        &sb,
        &["aws", "env", "--role-arn", ROLE, "--region", "eu-west-1"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("export AWS_ACCESS_KEY_ID='ASIATESTACCESSKEY01'\n")
    );
    assert!(
        out.stdout
            .contains(&format!("export AWS_SECRET_ACCESS_KEY='{SECRET_KEY}'\n"))
    );
    assert!(out.stdout.contains("export AWS_REGION='eu-west-1'\n"));
    // The sh output really is read back by a shell as the same values (on its stdin, as it
    // holds secrets).
    let script = format!("{}\nprintf %s \"$AWS_SECRET_ACCESS_KEY\"", out.stdout);
    let check = Run::program("sh")
        .stdin(Stdin::Bytes(script.into_bytes()))
        .reveals(SECRET_KEY)
        .output();
    assert_eq!(
        (check.stdout.as_str(), check.stderr.as_str()),
        (SECRET_KEY, "")
    );

    let json = printing_credentials(&sb, &["aws", "env", "--role-arn", ROLE, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v[vars::AWS_SESSION_TOKEN], SESSION_TOKEN);
    assert!(
        v[vars::AWS_CREDENTIAL_EXPIRATION]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let dotenv = printing_credentials(
        &sb,
        &["aws", "env", "--role-arn", ROLE, "--format", "dotenv"],
    );
    assert!(
        dotenv
            .stdout
            .contains("AWS_ACCESS_KEY_ID=\"ASIATESTACCESSKEY01\"\n")
    );
    let fish = printing_credentials(&sb, &["aws", "env", "--role-arn", ROLE, "--format", "fish"]);
    assert!(
        fish.stdout
            .contains("set -gx AWS_ACCESS_KEY_ID 'ASIATESTACCESSKEY01';\n")
    );
}

#[test]
fn configure_writes_a_runnable_profile_and_keeps_the_rest() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (mut sb, _) = sandbox(&server);
    let config = sb.path().join("aws-config");
    let before = "# my settings\n[default]\nregion = us-east-1\n\n[profile other]\noutput = json\n";
    std::fs::write(&config, before).unwrap();
    sb.set(vars::AWS_CONFIG_FILE, config.display().to_string());
    let args = [
        "aws",
        "configure",
        "--profile",
        "vercel",
        "--role-arn",
        ROLE,
        "--region",
        "eu-west-1",
    ];
    let out = sb.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("added profile `vercel`"),
        "{}",
        out.stderr
    );
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(after.starts_with(before), "{after}");
    let line = after
        .lines()
        .find(|l| l.starts_with("credential_process = "))
        .unwrap();
    let command = line.trim_start_matches("credential_process = ");
    assert!(command.starts_with('/'), "absolute path: {command}");
    assert!(
        command.ends_with(&format!(
            "aws credential-process --role-arn {ROLE} --region eu-west-1"
        )),
        "{command}"
    );
    assert!(after.contains("[profile vercel]\ncredential_process = "));
    assert!(after.contains("\nregion = eu-west-1\n"));

    // Twice changes nothing.
    let again = sb.run(&args);
    assert_eq!(again.code, 0);
    assert!(
        again.stderr.contains("already up to date"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), after);

    // The line runs as SDKs run it (`sh -c`) and prints credentials.
    let run = sb
        .program("sh", &["-c", command])
        .reveals(SECRET_KEY)
        .reveals(SESSION_TOKEN)
        .output();
    assert_credentials(&run, 3600);
}

#[test]
fn configure_updates_in_place_and_warns_about_conflicts() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (mut sb, _) = sandbox(&server);
    let config = sb.home().join(".aws/config");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "[profile vercel]\n# note\ncredential_process = old\nrole_arn = x\n[profile z]\n",
    )
    .unwrap();
    sb.unset(vars::AWS_CONFIG_FILE);
    let out = sb.run(&[
        "aws",
        "configure",
        "--profile",
        "vercel",
        "--role-arn",
        ROLE,
        "--duration-seconds",
        "900",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("updated profile `vercel`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("also sets `role_arn`"),
        "{}",
        out.stderr
    );
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(
        after.starts_with("[profile vercel]\n# note\ncredential_process = /"),
        "{after}"
    );
    assert!(
        after.contains("--duration-seconds 900\nrole_arn = x\n[profile z]\n"),
        "{after}"
    );
}

#[test]
fn configure_quotes_inline_policies_for_every_reader() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let (mut sb, _) = sandbox(&server);
    let config = sb.path().join("cfg");
    sb.set(vars::AWS_CONFIG_FILE, config.display().to_string());
    let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#;
    let out = sb.run(&[
        "aws",
        "configure",
        "--profile",
        "p",
        "--role-arn",
        ROLE,
        "--policy",
        policy,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&config).unwrap();
    let command = text
        .lines()
        .find_map(|l| l.strip_prefix("credential_process = "))
        .unwrap();
    let run = sb
        .program("sh", &["-c", command])
        .reveals(SECRET_KEY)
        .reveals(SESSION_TOKEN)
        .output();
    assert_credentials(&run, 3600);
    let sent = server.requests()[0].form_value("Policy").unwrap();
    let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(
        sent,
        serde_json::from_str::<serde_json::Value>(policy).unwrap()
    );
}

#[test]
fn configure_refuses_bad_input_and_leaves_the_file_alone() {
    let mut sb = Sandbox::new();
    let config = sb.path().join("cfg");
    std::fs::write(&config, "[default]\n").unwrap();
    sb.set(vars::AWS_CONFIG_FILE, config.display().to_string())
        .set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = sb.run(&["aws", "configure", "--profile", "p", "--role-arn", "nope"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("`nope` is not an IAM role ARN"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "[default]\n");
    assert_eq!(
        std::fs::read_dir(sb.path()).unwrap().count(),
        2,
        "no temporary files left: home + cfg"
    );
}

#[test]
fn token_summary_json_and_print() {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone());
    let out = sb.run(&["token"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for want in [
        "source       VERCEL_OIDC_TOKEN",
        "issuer       https://oidc.vercel.com/acme (team issuer)",
        "subject      owner:acme:project:web:environment:production",
        "audience     https://vercel.com/acme",
        "owner        acme (team_acme123)",
        "project      web (prj_web123)",
        "environment  production",
        "expires      ",
    ] {
        assert!(
            out.stdout.contains(want),
            "missing {want:?} in:\n{}",
            out.stdout
        );
    }
    assert!(
        !out.stdout.contains(&token),
        "the summary never shows the token"
    );

    let json = sb.run(&["token", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["issuer_mode"], "team");
    assert_eq!(v["source"]["kind"], "env");
    assert_eq!(v["project_id"], "prj_web123");
    let left = v["expires_in_seconds"].as_i64().unwrap();
    assert!((3500..=3600).contains(&left), "{left}");
    assert!(!json.stdout.contains(&token));

    let print = sb
        .command(&["token", "--print"])
        .reveals(token.clone())
        .output();
    assert_eq!(print.stdout, format!("{token}\n"));
}

#[test]
fn token_from_dotenv_local_in_a_linked_project() {
    let sb = Sandbox::new();
    let project = sb.path().join("app");
    std::fs::create_dir_all(project.join(".vercel")).unwrap();
    std::fs::create_dir_all(project.join("src/pages")).unwrap();
    let token = fresh_token();
    std::fs::write(
        project.join(".env.local"),
        format!("# Created by Vercel CLI\nVERCEL_OIDC_TOKEN=\"{token}\"\n"),
    )
    .unwrap();
    let out = sb.run_in(&project.join("src/pages"), &["token", "--json"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["source"]["kind"], "dot_env");
    assert_eq!(
        v["source"]["path"],
        project.join(".env.local").display().to_string()
    );
}

#[test]
fn token_expired_fails_with_nothing_on_stdout_in_machine_modes() {
    let mut sb = Sandbox::new();
    let exp = now() - 7200;
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(exp)))
        .set(vars::VERCEL, "1");
    for args in [&["token", "--json"][..], &["token", "--print"][..]] {
        let out = sb.run(args);
        assert_eq!(out.code, 1);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert_eq!(
            out.stderr,
            expired_error("VERCEL_OIDC_TOKEN", "2h 0m", exp, BUILD_HINT)
        );
    }
    let human = sb.run(&["token"]);
    assert_eq!(human.code, 1);
    let at =
        |t: i64| vercel_oidc::timefmt::rfc3339_z(vercel_oidc::timefmt::from_unix_saturating(t));
    assert_eq!(
        (human.stdout, human.stderr),
        (
            format!(
                "source       VERCEL_OIDC_TOKEN\nissuer       https://oidc.vercel.com/acme (team issuer)\nsubject      owner:acme:project:web:environment:production\naudience     https://vercel.com/acme\nowner        acme (team_acme123)\nproject      web (prj_web123)\nenvironment  production\nissued       {} (3h 0m ago)\nexpired      {} (2h 0m ago)\n",
                at(exp - 3600),
                at(exp)
            ),
            expired_error("VERCEL_OIDC_TOKEN", "2h 0m", exp, BUILD_HINT)
        )
    );
}

#[test]
fn token_file_flag_wins_and_is_reported() {
    let mut sb = Sandbox::new();
    let file = sb.path().join("tok");
    let mut c = claims(now() + 3600);
    c["project"] = "from-file".into();
    std::fs::write(&file, jwt(&c) + "\n").unwrap();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = sb.run(&["--token-file", "tok", "token", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["project"], "from-file");
    assert_eq!(v["source"]["kind"], "flag");
    let missing = sb.run(&["--token-file", "nope", "token"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("cannot read the Vercel OIDC token from --token-file"),
        "{}",
        missing.stderr
    );
}

#[test]
fn help_and_version() {
    // With a token at hand, which neither may show.
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let help = sb.run(&["--help"]);
    assert_eq!(help.code, 0);
    for want in ["token", "aws", "Examples:"] {
        assert!(help.stdout.contains(want), "{}", help.stdout);
    }
    let version = sb.run(&["--version"]);
    assert_eq!(
        version.stdout.trim(),
        format!("vercel-oidc {}", env!("CARGO_PKG_VERSION"))
    );
}

/// HTTPS_PROXY is honoured for another machine, and NO_PROXY too. The "proxy" records what
/// reaches it (a `CONNECT` naming the target) and refuses the tunnel; the target, 0.0.0.0, is
/// not this machine by name (which would be reached directly: tests/hostile_proxy.rs), and
/// reached directly it is a closed port, failing at once without leaving the machine.
#[test]
fn proxies_from_the_environment_are_honoured() {
    let proxy = MockServer::start(|_, _| Reply::new(502, "text/plain", ""));
    let target = "https://0.0.0.0:9/";
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::AWS_ENDPOINT_URL_STS, target)
        .set(vars::HTTPS_PROXY, proxy.url())
        .set(vars::VERCEL_OIDC_NO_CACHE, "1");
    let out = credential_process(&sb);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    let through = proxy.requests();
    assert!(!through.is_empty());
    for req in &through {
        assert_eq!(
            (req.method.as_str(), req.path.as_str()),
            ("CONNECT", "0.0.0.0:9")
        );
    }
    // NO_PROXY sends it straight to the (unreachable) target instead.
    sb.set(vars::NO_PROXY, "0.0.0.0");
    let out = credential_process(&sb);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("error: cannot reach STS at `https://0.0.0.0:9/`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Connection refused"), "{}", out.stderr);
    assert_eq!(proxy.count(), through.len());
}

#[test]
fn an_sts_that_never_answers_is_given_up_within_the_budget() {
    let server = MockServer::start(|_, _| sts_ok(3600).delayed(Duration::from_secs(30)));
    let (sb, _) = sandbox(&server);
    let out = credential_process(&sb);
    // From the request's arrival, so that the process's start is not counted: the budget (5 s,
    // from before the request) is spent waiting for the answer, and a loaded machine gets 3 s
    // to notice and exit, still far from the 30 s the answer would take.
    let took = server.requests()[0].at.elapsed();
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    let url = server.url();
    assert_eq!(
        out.stderr,
        format!(
            "error: cannot reach STS at `{url}`: error sending request for url ({url}/): operation timed out\n  check the network, HTTPS_PROXY/NO_PROXY, and the endpoint (--region, AWS_ENDPOINT_URL_STS)\n"
        )
    );
    assert!(
        took < Duration::from_secs(8),
        "ended {took:?} after its request; the budget is 5 s"
    );
    assert_eq!(server.count(), 1, "no time was left for another attempt");
}

#[test]
fn an_endpoint_that_echoes_the_request_does_not_leak_the_token() {
    // Sandbox::run fails the test if the token reaches stderr.
    let server = MockServer::start(|_, req| Reply::new(400, "text/plain", req.body.clone()));
    let (sb, _) = sandbox(&server);
    let out = credential_process(&sb);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("WebIdentityToken=[redacted]"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_profile_configured_in_a_project_works_from_any_folder() {
    let server = MockServer::start(|_, _| sts_ok(3600));
    let mut sb = Sandbox::new();
    let project = sb.path().join("app");
    std::fs::create_dir_all(project.join(".vercel")).unwrap();
    std::fs::write(
        project.join(".env.local"),
        format!("VERCEL_OIDC_TOKEN=\"{}\"\n", fresh_token()),
    )
    .unwrap();
    let config = sb.path().join("aws-config");
    sb.set(vars::AWS_CONFIG_FILE, config.display().to_string())
        .set(vars::AWS_ENDPOINT_URL_STS, server.url())
        .set(vars::VERCEL_OIDC_NO_REFRESH, "1");
    let out = sb.run_in(
        &project,
        &["aws", "configure", "--profile", "app", "--role-arn", ROLE],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&config).unwrap();
    let command = text
        .lines()
        .find_map(|l| l.strip_prefix("credential_process = "))
        .unwrap();
    assert!(
        command.contains(&format!("--project-dir {}", project.display())),
        "{command}"
    );
    let elsewhere = sb.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let run = sb
        .program("sh", &["-c", command])
        .current_dir(&elsewhere)
        .reveals(SECRET_KEY)
        .reveals(SESSION_TOKEN)
        .output();
    assert_credentials(&run, 3600);
    assert_eq!(server.count(), 1);

    let missing = sb.run(&["--project-dir", "nope", "token"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("--project-dir"),
        "{}",
        missing.stderr
    );
}
