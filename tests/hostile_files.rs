//! Hostile input that reaches files: values that would inject lines into the AWS config file,
//! concurrent editors of one file, and files or directories on disk that someone else planted.
//! Each case runs the real binary and checks the exit code, stdout, the error and what is left
//! on disk.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;

use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/vercel-deploy";

/// An AWS config file with comments and other profiles, and a sandbox pointed at it.
fn aws_config_sandbox() -> (Sandbox, PathBuf, String) {
    let mut sb = Sandbox::new();
    let config = sb.home().join(".aws/config");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let before = "# managed by hand\n[default]\nregion = us-east-1\n\n; other tools\n[profile other]\noutput = json\n".to_string();
    std::fs::write(&config, &before).unwrap();
    sb.set("AWS_CONFIG_FILE", config.display().to_string())
        .set("VERCEL_OIDC_TOKEN", fresh_token());
    (sb, config, before)
}

/// The first line of `stderr`.
fn first_line(stderr: &str) -> &str {
    stderr.lines().next().unwrap_or("")
}

#[test]
fn concurrent_aws_configure_keeps_every_profile_and_line() {
    let (sb, config, before) = aws_config_sandbox();
    let children: Vec<_> = (0..32)
        .map(|i| {
            sb.command(&[
                "aws",
                "configure",
                "--profile",
                &format!("p{i:02}"),
                "--role-arn",
                ROLE,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            first_line(&stderr),
            format!("added profile `p{i:02}` in `{}`", config.display())
        );
    }
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(
        after.starts_with(&before),
        "the lines that were there stay first:\n{after}"
    );
    let mut headers: Vec<&str> = after.lines().filter(|l| l.starts_with('[')).collect();
    headers.sort();
    let mut want: Vec<String> = (0..32).map(|i| format!("[profile p{i:02}]")).collect();
    want.extend(["[default]".to_string(), "[profile other]".to_string()]);
    want.sort();
    assert_eq!(headers, want);
    assert_eq!(after.matches("credential_process = ").count(), 32);
    assert_eq!(
        file_names(config.parent().unwrap()),
        [".config.vercel-oidc.lock", "config"],
        "no temporary file left"
    );
}

#[test]
fn injected_role_arns_are_refused_from_every_source() {
    let evil =
        "arn:aws:iam::123456789012:role/x\n[profile default]\ncredential_process = /bin/sh -c id";
    let toml = format!(
        "[aws]\nrole_arn = {}\n",
        serde_json::to_string(evil).unwrap()
    );
    type Setup<'a> = Box<dyn Fn(&mut Sandbox) -> Vec<String> + 'a>;
    let cases: Vec<(&str, Setup)> = vec![
        ("flag", Box::new(|_| vec!["--role-arn".into(), evil.into()])),
        (
            "environment",
            Box::new(|sb| {
                sb.set("AWS_ROLE_ARN", evil);
                vec![]
            }),
        ),
        (
            "vercel-oidc.toml",
            Box::new(move |sb| {
                std::fs::write(sb.path().join("vercel-oidc.toml"), &toml).unwrap();
                vec![]
            }),
        ),
    ];
    for (origin, setup) in cases {
        for command in [
            &["aws", "configure", "--profile", "ci"][..],
            &["aws", "credential-process"],
        ] {
            let server = MockServer::start(|_, _| Reply::xml(500, "unexpected"));
            let (mut sb, config, before) = aws_config_sandbox();
            sb.set("AWS_ENDPOINT_URL_STS", server.url());
            let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
            args.extend(setup(&mut sb));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = sb.run(&args);
            assert_eq!(out.code, 1, "{origin} {command:?}: {}", out.stderr);
            assert_eq!(out.stdout, "", "{origin} {command:?}");
            assert!(
                out.stderr.contains("is not an IAM role ARN"),
                "{origin} {command:?}: {}",
                out.stderr
            );
            assert_eq!(
                std::fs::read_to_string(&config).unwrap(),
                before,
                "{origin}"
            );
            assert_eq!(server.count(), 0, "{origin} {command:?}: no request");
        }
    }
}

#[test]
fn broken_profile_names_are_refused_before_anything_is_written() {
    for profile in [
        "a]b",
        "x\n[default]",
        "",
        "two words",
        "q\"uote",
        "[profile",
    ] {
        let (sb, config, before) = aws_config_sandbox();
        let out = sb.run(&["aws", "configure", "--profile", profile, "--role-arn", ROLE]);
        assert_eq!(out.code, 1, "{profile:?}: {}", out.stderr);
        assert_eq!(out.stdout, "");
        assert_eq!(
            out.stderr,
            format!(
                "error: `{}` is not a profile name the AWS CLI can use\n  use 1 to 128 letters, digits and `_.@+,:/-` (--profile or VERCEL_OIDC_AWS_PROFILE)\n",
                profile.escape_debug()
            ),
            "{profile:?}"
        );
        assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
        assert_eq!(file_names(config.parent().unwrap()), ["config"]);
    }
}

#[test]
fn control_characters_in_paths_never_reach_credential_process() {
    let (mut sb, config, before) = aws_config_sandbox();
    let dir = sb.path().join("proj\nx");
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, fresh_token()).unwrap();
    sb.unset("VERCEL_OIDC_TOKEN");
    let out = sb.run(&[
        "--token-file",
        token_file.to_str().unwrap(),
        "aws",
        "configure",
        "--profile",
        "ci",
        "--role-arn",
        ROLE,
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        first_line(&out.stderr),
        format!(
            "error: `{}` holds a line break or another control character, which cannot be written into credential_process",
            token_file.display().to_string().escape_debug()
        )
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
}

#[test]
fn gcp_configure_refuses_a_directory_others_may_write_to() {
    let server = MockServer::start(|_, _| Reply::json(500, "{}"));
    let mut sb = Sandbox::new();
    sb.set("VERCEL_OIDC_TOKEN", fresh_token())
        .set("GCP_PROJECT_NUMBER", "123456789012")
        .set("GCP_WORKLOAD_IDENTITY_POOL_ID", "vercel")
        .set("GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID", "vercel");
    let shared = sb.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let target = shared.join("creds.json");
    let out = sb.run(&["gcp", "configure", "--output", target.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "error: will not write the credential file: other users may write to the directory `{}` (mode 0777) and could replace what is in it\n  choose --output in a directory only you can write to, or leave --output out for the private default\n",
            shared.display()
        )
    );
    assert!(file_names(&shared).is_empty(), "nothing written");
    // With the sticky bit others can neither remove nor rename the file: allowed, as for Azure.
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let out = sb.run(&["gcp", "configure", "--output", target.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.count(), 0);
}
