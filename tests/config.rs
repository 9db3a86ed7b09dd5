//! `vercel-oidc.toml`: precedence (flag, environment variable, file), per-environment sections,
//! and the errors for a broken file, seen through the real binary.

mod common;

use common::*;
use vercel_oidc::vars;

const FILE: &str = r#"
[aws]
role_arn = "arn:aws:iam::123456789012:role/base"
duration_seconds = 1800

[production.aws]
role_arn = "arn:aws:iam::123456789012:role/production"
"#;

fn sts() -> MockServer {
    MockServer::start(|_, _| sts_credentials("ASIACONFIG", 3600))
}

/// A run of the binary, which may print the credentials of [`sts`].
fn run(sb: &Sandbox, args: &[&str]) -> Output {
    sb.command(args)
        .reveals_all(sts_secrets("ASIACONFIG"))
        .output()
}

fn project(server: &MockServer, environment: &str) -> Sandbox {
    let mut sb = Sandbox::new();
    std::fs::write(sb.path().join("vercel-oidc.toml"), FILE).unwrap();
    std::fs::create_dir_all(sb.path().join("web")).unwrap();
    let mut c = claims(now() + 3600);
    c["environment"] = environment.into();
    c["sub"] = format!("owner:acme:project:web:environment:{environment}").into();
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&c))
        .set(vars::AWS_ENDPOINT_URL_STS, server.url())
        .set(vars::VERCEL_OIDC_NO_CACHE, "1");
    sb
}

fn sent(server: &MockServer, field: &str) -> Option<String> {
    server.requests().last().and_then(|r| r.form_value(field))
}

#[test]
fn the_token_environment_picks_the_section() {
    let server = sts();
    let out = run(
        &project(&server, "production"),
        &["aws", "credential-process"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        sent(&server, "RoleArn").as_deref(),
        Some("arn:aws:iam::123456789012:role/production")
    );
    assert_eq!(
        sent(&server, "DurationSeconds").as_deref(),
        Some("1800"),
        "unset keys come from the base section"
    );
    let out = run(&project(&server, "preview"), &["aws", "credential-process"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        sent(&server, "RoleArn").as_deref(),
        Some("arn:aws:iam::123456789012:role/base")
    );
}

#[test]
fn flags_then_environment_then_file() {
    let server = sts();
    let mut sb = project(&server, "production");
    sb.set(
        vars::AWS_ROLE_ARN,
        "arn:aws:iam::123456789012:role/from-env",
    );
    assert_eq!(run(&sb, &["aws", "credential-process"]).code, 0);
    assert_eq!(
        sent(&server, "RoleArn").as_deref(),
        Some("arn:aws:iam::123456789012:role/from-env")
    );
    let out = run(
        &sb,
        &[
            "aws",
            "credential-process",
            "--role-arn",
            "arn:aws:iam::123456789012:role/from-flag",
        ],
    );
    assert_eq!(out.code, 0);
    assert_eq!(
        sent(&server, "RoleArn").as_deref(),
        Some("arn:aws:iam::123456789012:role/from-flag")
    );
    assert_eq!(sent(&server, "DurationSeconds").as_deref(), Some("1800"));
}

#[test]
fn found_from_a_subfolder_or_named_explicitly() {
    let server = sts();
    let sb = project(&server, "production");
    let out = sb
        .command(&["aws", "credential-process"])
        .current_dir(sb.path().join("web"))
        .reveals_all(sts_secrets("ASIACONFIG"))
        .output();
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    // Found from the subfolder: the production section's role, the base section's duration.
    assert_eq!(
        (
            sent(&server, "RoleArn").as_deref(),
            sent(&server, "DurationSeconds").as_deref()
        ),
        (
            Some("arn:aws:iam::123456789012:role/production"),
            Some("1800")
        )
    );
    std::fs::write(
        sb.path().join("other.toml"),
        "[aws]\nrole_arn = \"arn:aws:iam::123456789012:role/other\"\n",
    )
    .unwrap();
    assert_eq!(
        run(
            &sb,
            &["--config", "other.toml", "aws", "credential-process"]
        )
        .code,
        0
    );
    assert_eq!(
        sent(&server, "RoleArn").as_deref(),
        Some("arn:aws:iam::123456789012:role/other")
    );
    let mut env_named = project(&server, "production");
    std::fs::write(
        env_named.path().join("x.toml"),
        "[aws]\nrole_arn = \"arn:aws:iam::123456789012:role/x\"\n",
    )
    .unwrap();
    env_named.set(vars::VERCEL_OIDC_CONFIG, "x.toml");
    assert_eq!(run(&env_named, &["aws", "credential-process"]).code, 0);
    assert_eq!(
        sent(&server, "RoleArn").as_deref(),
        Some("arn:aws:iam::123456789012:role/x")
    );
}

#[test]
fn a_broken_file_is_an_error_naming_file_line_and_key() {
    let server = sts();
    let cases: &[(&str, &[&str])] = &[
        (
            "[aws]\nrole_arn = \"arn:aws:iam::123456789012:role/x\"\nregoin = \"eu-west-1\"\n",
            &["line 3", "unknown field `regoin`", "region"],
        ),
        (
            "[aws]\nduration_seconds = \"an hour\"\n",
            &["line 2", "duration_seconds"],
        ),
        (
            "[gcp]\nsource = \"url\"\n",
            &["line 2", "unknown variant `url`"],
        ),
        (
            "[staging.aws]\nrole_arn = \"x\"\n",
            &["line 1", "unknown field `staging`", "production"],
        ),
        ("[aws\nrole_arn = 1\n", &["line 1"]),
    ];
    for (text, wants) in cases {
        let sb = project(&server, "production");
        std::fs::write(sb.path().join("vercel-oidc.toml"), text).unwrap();
        let out = run(&sb, &["aws", "credential-process"]);
        assert_eq!(out.code, 1, "{text}");
        assert!(out.stdout.is_empty());
        let path = sb.path().join("vercel-oidc.toml");
        assert!(
            out.stderr
                .contains(&format!("invalid project config `{}`", path.display())),
            "{}",
            out.stderr
        );
        for want in *wants {
            assert!(
                out.stderr.contains(want),
                "{want:?} missing:\n{}",
                out.stderr
            );
        }
    }
    let sb = project(&server, "production");
    let out = run(&sb, &["--config", "nope.toml", "aws", "credential-process"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("cannot read the project config"),
        "{}",
        out.stderr
    );
    assert_eq!(
        server.count(),
        0,
        "nothing is exchanged with a broken config"
    );
}

/// Writes `text` as the sandbox's vercel-oidc.toml and checks that `command` refuses it with
/// `error` (the parser's caret and the problem), printing nothing on stdout.
fn assert_refused(sb: &Sandbox, text: &str, command: &[&str], error: &str) {
    let path = sb.path().join("vercel-oidc.toml");
    std::fs::write(&path, text).unwrap();
    let out = run(sb, command);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "error: invalid project config `{}`: {error}\n  see the `vercel-oidc.toml` section of the README for the keys each section takes\n",
            path.display()
        )
    );
}

#[test]
fn a_bad_value_in_the_file_is_reported_at_its_line_and_key() {
    let server = sts();
    let sb = project(&server, "production");
    for (text, command, problem, caret) in [
        (
            "[aws]\nregion = \"eu-west-1\"\n\n[production.aws]\nrole_arn = \"arn:aws:iam::123:role/x\"\n",
            &["aws", "credential-process"][..],
            "`arn:aws:iam::123:role/x` is not an IAM role ARN",
            "TOML parse error at line 5, column 12\n  |\n5 | role_arn = \"arn:aws:iam::123:role/x\"\n  |            ^^^^^^^^^^^^^^^^^^^^^^^^^",
        ),
        (
            "[azure]\ntenant_id = \"a/b\"\nclient_id = \"00000000-0000-0000-0000-000000000000\"\n",
            &["azure", "configure"][..],
            "`a/b` is not a tenant id",
            "TOML parse error at line 2, column 13\n  |\n2 | tenant_id = \"a/b\"\n  |             ^^^^^",
        ),
        (
            "[aws]\nrole_arn = \"arn:aws:iam::123456789012:role/x\"\npolicy = \"{not json\"\n",
            &["aws", "credential-process"][..],
            "the session policy is not valid JSON: key must be a string at line 1 column 2",
            "TOML parse error at line 3, column 10\n  |\n3 | policy = \"{not json\"\n  |          ^^^^^^^^^^^",
        ),
        (
            "[gcp]\npool = \"My Pool\"\n",
            &["gcp", "configure"][..],
            "workload identity pool id `My Pool` is not valid",
            "TOML parse error at line 2, column 8\n  |\n2 | pool = \"My Pool\"\n  |        ^^^^^^^^^",
        ),
    ] {
        assert_refused(&sb, text, command, &format!("{caret}\n{problem}"));
        assert_eq!(server.count(), 0);
    }
}

#[test]
fn a_committed_file_cannot_send_the_token_to_another_host() {
    // Anyone who can commit vercel-oidc.toml must not be able to point an exchange, and so the
    // token, at a host of theirs: endpoints in the file must be the cloud's own (or this
    // machine's). The user's own flag or variable may still name any https host.
    let server = sts();
    let sb = project(&server, "production");
    let path = sb.path().join("vercel-oidc.toml");
    for (text, command, problem, caret) in [
        (
            "[gcp]\naudience = \"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov\"\ntoken_url = \"https://sts.googleapis.com.evil.example/v1/token\"\n",
            &["gcp", "access-token"][..],
            "`https://sts.googleapis.com.evil.example/v1/token` is not Google's sts endpoint: the token is sent there, so vercel-oidc.toml may name only sts.googleapis.com (or its mTLS, regional or Private Service Connect names) or this machine; remove `token_url` from the file, and set another host with --token-url or VERCEL_OIDC_GCP_TOKEN_URL",
            "TOML parse error at line 3, column 13\n  |\n3 | token_url = \"https://sts.googleapis.com.evil.example/v1/token\"\n  |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        ),
        (
            "[gcp]\nimpersonation_url = \"https://evil.example\"\n",
            &["gcp", "access-token"][..],
            "`https://evil.example` is not Google's iamcredentials endpoint: the token is sent there, so vercel-oidc.toml may name only iamcredentials.googleapis.com (or its mTLS, regional or Private Service Connect names) or this machine; remove `impersonation_url` from the file, and set another host with --impersonation-url or VERCEL_OIDC_GCP_IMPERSONATION_URL",
            "TOML parse error at line 2, column 21\n  |\n2 | impersonation_url = \"https://evil.example\"\n  |                     ^^^^^^^^^^^^^^^^^^^^^^",
        ),
        (
            // Under googleapis.com, but a bucket anyone can own.
            "[gcp]\ntoken_url = \"https://sts.storage.googleapis.com/v1/token\"\n",
            &["gcp", "access-token"][..],
            "`https://sts.storage.googleapis.com/v1/token` is not Google's sts endpoint: the token is sent there, so vercel-oidc.toml may name only sts.googleapis.com (or its mTLS, regional or Private Service Connect names) or this machine; remove `token_url` from the file, and set another host with --token-url or VERCEL_OIDC_GCP_TOKEN_URL",
            "TOML parse error at line 2, column 13\n  |\n2 | token_url = \"https://sts.storage.googleapis.com/v1/token\"\n  |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        ),
        (
            "[production.azure]\nauthority_host = \"login.microsoftonline.com.evil.example\"\n",
            &[
                "azure",
                "access-token",
                "--scope",
                "https://management.azure.com/.default",
            ][..],
            "`https://login.microsoftonline.com.evil.example/` is not an Entra ID host: the token is sent there, so vercel-oidc.toml may name only login.microsoftonline.com, login.microsoftonline.us, login.chinacloudapi.cn, login.partner.microsoftonline.cn or this machine (over https); remove `authority_host` from the file, and set another host with --authority-host or AZURE_AUTHORITY_HOST",
            "TOML parse error at line 2, column 18\n  |\n2 | authority_host = \"login.microsoftonline.com.evil.example\"\n  |                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        ),
    ] {
        assert_refused(&sb, text, command, &format!("{caret}\n{problem}"));
    }
    // The cloud's own hosts, and this machine, are fine.
    std::fs::write(
        &path,
        "[gcp]\ntoken_url = \"https://sts.europe-west1.rep.googleapis.com/v1/token\"\n\n[azure]\nauthority_host = \"login.microsoftonline.us\"\n\n[preview.gcp]\ntoken_url = \"http://127.0.0.1:1/v1/token\"\n",
    )
    .unwrap();
    let out = run(&sb, &["doctor", "--offline", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        report["config"]["error"],
        serde_json::Value::Null,
        "{report:#}"
    );
}
