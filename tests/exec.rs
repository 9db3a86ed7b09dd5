//! `vercel-oidc exec`: what the child sees, exit codes and signals, the run's private files,
//! and keeping them fresh.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};
use vercel_oidc::vars;

use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/vercel-deploy";
const SECRET_KEY: &str = "execSecretAccessKeyValue/xyz";
const SESSION_TOKEN: &str = "execSessionTokenValue";

fn sts(expires_in: i64) -> MockServer {
    register_secret(SECRET_KEY);
    register_secret(SESSION_TOKEN);
    MockServer::start(move |_, req| {
        let duration: i64 = req.form_value("DurationSeconds").unwrap().parse().unwrap();
        if duration > 3600 {
            return Reply::xml(
                400,
                "<ErrorResponse><Error><Code>ValidationError</Code><Message>The requested DurationSeconds exceeds the MaxSessionDuration set for this role.</Message></Error></ErrorResponse>",
            );
        }
        let exp = time::OffsetDateTime::now_utc() + time::Duration::seconds(expires_in);
        Reply::xml(
            200,
            format!(
                "<R><Credentials><AccessKeyId>ASIAEXECTEST</AccessKeyId><SecretAccessKey>{SECRET_KEY}</SecretAccessKey><SessionToken>{SESSION_TOKEN}</SessionToken><Expiration>{}</Expiration></Credentials></R>",
                exp.format(&time::format_description::well_known::Rfc3339)
                    .unwrap()
            ),
        )
    })
}

/// A sandbox with a fresh token and AWS configured against `server` and handed over as
/// environment keys (the endpoint has tests of its own in `exec_endpoint.rs`); a stray profile
/// and stale keys in the environment that exec must remove or replace.
fn aws_sandbox(server: &MockServer) -> (Sandbox, String) {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_AWS_CREDENTIALS, "env")
        .set(vars::VERCEL_OIDC_TOKEN, token.clone())
        .set(vars::AWS_ENDPOINT_URL_STS, server.url())
        .set(vars::AWS_ROLE_ARN, ROLE)
        .set(vars::AWS_PROFILE, "stale-profile")
        .set(vars::AWS_ACCESS_KEY_ID, "AKIASTALEKEY")
        .set(vars::AWS_SECRET_ACCESS_KEY, "stale-secret");
    register_secret("stale-secret");
    (sb, token)
}

/// A child script that waits (at most 30 seconds) until the token file holds `$WANT`, writing
/// every token it reads there to `reads.out`, one a line, then the last to `after.out`.
const WAIT_FOR_RENEWAL: &str = "i=0; while :; do t=$(cat \"$AZURE_FEDERATED_TOKEN_FILE\"); echo \"$t\" >> reads.out; [ \"$t\" = \"$WANT\" ] && break; i=$((i+1)); [ $i -lt 600 ] || break; sleep 0.05; done; printf %s \"$t\" > after.out";

/// Runs `script` under `sh -c` inside exec, with the child's environment dumped to `env.out`.
fn exec_sh(sb: &Sandbox, extra: &[&str], script: &str) -> Output {
    let mut args = vec!["exec"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "sh", "-c", script]);
    sb.run(&args)
}

fn child_env(sb: &Sandbox) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(sb.path().join("env.out"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// Waits (at most 10 seconds) for the child to have written a whole line to `path`, and
/// returns it without its newline.
#[track_caller]
fn wait_for_line(path: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(line) = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.strip_suffix('\n').map(str::to_string))
        {
            return line;
        }
        assert!(Instant::now() < deadline, "the child never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `exec -- sh -c script` for a child that sets its traps and then prints `ready` on
/// stdout; once the child is ready and exec catches `sig` (it installs its handlers just after
/// starting the child), sends `sig` to exec's pid alone and returns how exec ended.
fn signal_exec(sb: &Sandbox, script: &str, sig: i32) -> Output {
    let run = sb.command(&["exec", "--", "sh", "-c", script]).spawn();
    run.wait_for_stdout("ready\n", Duration::from_secs(10));
    run.wait_until_catching(sig, Duration::from_secs(10));
    run.signal(sig);
    run.wait()
}

#[test]
fn the_child_sees_aws_credentials_and_nothing_that_would_win_over_them() {
    let server = sts(3600);
    let (sb, token) = aws_sandbox(&server);
    let out = exec_sh(
        &sb,
        &[],
        "env > env.out; cat \"$VERCEL_OIDC_TOKEN_FILE\" > token.out",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let env = child_env(&sb);
    assert_eq!(env[vars::AWS_ACCESS_KEY_ID], "ASIAEXECTEST");
    assert_eq!(env[vars::AWS_SECRET_ACCESS_KEY], SECRET_KEY);
    assert_eq!(env[vars::AWS_SESSION_TOKEN], SESSION_TOKEN);
    assert!(env[vars::AWS_CREDENTIAL_EXPIRATION].ends_with('Z'));
    assert!(
        !env.contains_key(vars::AWS_PROFILE),
        "a profile would win over the keys in some SDKs"
    );
    assert_eq!(env[vars::VERCEL_OIDC_EXEC], "1");
    assert_eq!(env[vars::VERCEL_OIDC_TOKEN], token);
    assert_eq!(
        std::fs::read_to_string(sb.path().join("token.out")).unwrap(),
        token,
        "no trailing newline"
    );
    assert!(
        !PathBuf::from(&env[vars::VERCEL_OIDC_TOKEN_FILE]).exists(),
        "the run's directory is removed"
    );
    let durations: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.form_value("DurationSeconds"))
        .collect();
    assert_eq!(
        durations,
        ["43200", "3600"],
        "no fresh token later (not linked): as long as the role allows"
    );
}

#[test]
fn the_run_files_are_private_while_the_child_runs() {
    let server = sts(3600);
    let (sb, _) = aws_sandbox(&server);
    let out = exec_sh(
        &sb,
        &[],
        "stat -c %a \"$(dirname \"$VERCEL_OIDC_TOKEN_FILE\")\" > modes.out; stat -c %a \"$VERCEL_OIDC_TOKEN_FILE\" >> modes.out",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(sb.path().join("modes.out")).unwrap(),
        "700\n600\n"
    );
}

#[test]
fn in_a_build_the_longest_lifetime_the_role_allows_is_requested() {
    let server = sts(3600);
    let (mut sb, _) = aws_sandbox(&server);
    sb.set(vars::VERCEL, "1");
    let out = exec_sh(&sb, &[], "true");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let durations: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.form_value("DurationSeconds"))
        .collect();
    assert_eq!(
        durations,
        ["43200", "3600"],
        "12 hours first, then the default when the role refuses it"
    );
}

#[test]
fn exit_codes_pass_through() {
    let server = sts(3600);
    let (sb, _) = aws_sandbox(&server);
    for code in [0, 1, 7, 255] {
        let out = exec_sh(&sb, &[], &format!("exit {code}"));
        assert_eq!(out.code, code, "{}", out.stderr);
    }
    assert_eq!(
        server.count(),
        2,
        "later runs use the shared cache and remember the role's maximum"
    );
}

#[test]
fn a_child_killed_by_a_signal_ends_exec_the_same_way_and_leaves_nothing() {
    let server = sts(3600);
    let (sb, _) = aws_sandbox(&server);
    let out = sb.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "echo \"$VERCEL_OIDC_TOKEN_FILE\" > path.out; kill -KILL $$",
    ]);
    assert_eq!(
        (out.code, out.signal, out.stderr.as_str()),
        (-1, Some(9), "")
    );
    let path = std::fs::read_to_string(sb.path().join("path.out")).unwrap();
    assert!(
        !PathBuf::from(path.trim()).parent().unwrap().exists(),
        "the run's directory is removed"
    );
}

#[test]
fn sigterm_is_forwarded_and_the_child_decides_the_exit() {
    let server = sts(3600);
    let (sb, _) = aws_sandbox(&server);
    let script = "echo \"$VERCEL_OIDC_TOKEN_FILE\" > path.out; trap 'echo stopping > trap.out; exit 3' TERM; echo ready; while :; do sleep 0.05; done";
    let out = signal_exec(&sb, script, libc::SIGTERM);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (3, "ready\n", "")
    );
    assert_eq!(
        std::fs::read_to_string(sb.path().join("trap.out")).unwrap(),
        "stopping\n"
    );
    let path = std::fs::read_to_string(sb.path().join("path.out")).unwrap();
    assert!(!PathBuf::from(path.trim()).exists());
}

#[test]
fn a_missing_command_fetches_nothing() {
    let server = sts(3600);
    let (sb, _) = aws_sandbox(&server);
    let out = sb.run(&["exec", "--", "no-such-command-here", "arg"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr,
        "error: command `no-such-command-here` not found on PATH\n  check its name or install it; no credentials were fetched\n"
    );
    assert_eq!(server.count(), 0);
}

const NESTED: &str = "error: already inside `vercel-oidc exec` (VERCEL_OIDC_EXEC is set): the outer one has wired the credentials\n  run the command directly, or pass --force to wire them again\n";

#[test]
fn nesting_is_refused_unless_forced() {
    let server = sts(3600);
    let (mut sb, _) = aws_sandbox(&server);
    sb.set(vars::VERCEL_OIDC_EXEC, "1");
    let out = exec_sh(&sb, &[], "true");
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(out.stderr, NESTED);
    assert_eq!(server.count(), 0);
    assert_eq!(exec_sh(&sb, &["--force"], "true").code, 0);
    // A real nested call, from inside a first exec, is refused too.
    sb.unset(vars::VERCEL_OIDC_EXEC);
    let nested = exec_sh(&sb, &[], &format!("'{BIN}' exec -- true"));
    assert_eq!((nested.code, nested.stdout.as_str()), (1, ""));
    assert_eq!(nested.stderr, NESTED);
}

#[test]
fn nothing_configured_is_an_error() {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = sb.run(&["exec", "--", "true"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr,
        "error: no cloud is configured, so there is nothing to wire\n  set AWS_ROLE_ARN, the GCP_* variables or AZURE_TENANT_ID and AZURE_CLIENT_ID, or commit a vercel-oidc.toml (see the README)\n"
    );
    let out = sb.run(&["exec", "--aws", "--", "true"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr,
        "error: no role to assume\n  pass --role-arn or set AWS_ROLE_ARN to the IAM role whose trust policy names the Vercel OIDC provider\n"
    );
}

#[test]
fn gcp_and_azure_get_files_made_for_the_run() {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone());
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        "[gcp]\nproject_number = 123456789012\npool = \"vercel\"\nprovider = \"vercel\"\nproject_id = \"my-project\"\n\n[azure]\ntenant_id = \"72f988bf-86f1-41af-91ab-2d7cd011db47\"\nclient_id = \"11111111-2222-3333-4444-555555555555\"\n",
    )
    .unwrap();
    let out = exec_sh(
        &sb,
        &[],
        "env > env.out; cat \"$GOOGLE_APPLICATION_CREDENTIALS\" > gcp.out",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let env = child_env(&sb);
    assert_eq!(
        env[vars::GOOGLE_APPLICATION_CREDENTIALS],
        env[vars::CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE]
    );
    assert_eq!(env[vars::GOOGLE_CLOUD_PROJECT], "my-project");
    let cred: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path().join("gcp.out")).unwrap()).unwrap();
    assert_eq!(cred["type"], "external_account");
    assert_eq!(
        cred["audience"],
        "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel"
    );
    assert_eq!(
        cred["credential_source"]["file"],
        env[vars::VERCEL_OIDC_TOKEN_FILE].as_str()
    );
    assert_eq!(
        env[vars::AZURE_TENANT_ID],
        "72f988bf-86f1-41af-91ab-2d7cd011db47"
    );
    assert_eq!(
        env[vars::AZURE_CLIENT_ID],
        "11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(
        env[vars::AZURE_FEDERATED_TOKEN_FILE],
        env[vars::VERCEL_OIDC_TOKEN_FILE]
    );
    assert_eq!(
        env[vars::AZURE_AUTHORITY_HOST],
        "https://login.microsoftonline.com/"
    );
    assert!(
        !env.contains_key(vars::AWS_ACCESS_KEY_ID),
        "AWS is not configured here"
    );
    // --gcp alone wires only GCP.
    let out = exec_sh(&sb, &["--gcp"], "env > env.out");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!child_env(&sb).contains_key(vars::AZURE_CLIENT_ID));
}

#[test]
fn expiries_that_cannot_be_helped_are_announced() {
    // In a build the token cannot be renewed; 10 minutes left is within the warning window, and
    // the AWS credentials run out in 5.
    let server = sts(300);
    let (mut sb, _) = aws_sandbox(&server);
    let token_exp = now() + 600;
    sb.set(vars::VERCEL, "1")
        .set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(token_exp)))
        .set(vars::VERCEL_OIDC_AWS_DURATION_SECONDS, "900")
        .set(vars::VERCEL_OIDC_EXEC_CHECK_SECONDS, "1");
    // The child runs until exec has said both (at its first check, as it starts the child).
    let run = sb
        .command(&[
            "exec",
            "--no-cache",
            "--",
            "sh",
            "-c",
            "while [ ! -e done ]; do sleep 0.02; done",
        ])
        .spawn();
    run.wait_for_stderr("the AWS credentials given to `sh` expire in", HANG);
    run.wait_for_stderr("build tokens last about an hour", HANG);
    std::fs::write(sb.path().join("done"), "").unwrap();
    let out = run.wait();
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    // The times left depend on when exec looked; each is checked against what it must be near,
    // then the whole text exactly.
    let token_left = between(&out.stderr, "token expires in ", " (at");
    let aws_at = between(&out.stderr, "AWS credentials last until ", "\n");
    let aws_left = between(&out.stderr, "given to `sh` expire in ", " (at");
    let at = time::OffsetDateTime::parse(aws_at, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp();
    assert!((now() + 300 - 60..=now() + 300).contains(&at), "{aws_at}");
    assert!(
        (540..=600).contains(&seconds(token_left)) && (240..=300).contains(&seconds(aws_left)),
        "{}",
        out.stderr
    );
    let token_at = vercel_oidc::timefmt::rfc3339_z(
        time::OffsetDateTime::from_unix_timestamp(token_exp).unwrap(),
    );
    assert_eq!(
        out.stderr,
        format!(
            "vercel-oidc: warning: the Vercel OIDC token expires in {token_left} (at {token_at}) and no fresh one can be had here (build tokens last about an hour); GCP and Azure clients in `sh` will fail after that, AWS credentials last until {aws_at}\nvercel-oidc: warning: the AWS credentials given to `sh` expire in {aws_left} (at {aws_at}); a running process cannot be handed new ones\n  raise the role's maximum session duration and --duration-seconds\n"
        )
    );
}

/// The text of `text` between the first `start` and the `end` after it.
#[track_caller]
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in {text}"))
        + start.len();
    let len = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("no {end:?} in {text}"));
    &text[from..from + len]
}

/// `9m 58s` in seconds.
#[track_caller]
fn seconds(left: &str) -> i64 {
    let (m, s) = left.split_once("m ").unwrap_or_else(|| panic!("{left}"));
    m.parse::<i64>().unwrap() * 60 + s.trim_end_matches('s').parse::<i64>().unwrap()
}

#[test]
fn the_token_file_is_renewed_while_the_child_runs() {
    // A linked project whose token has 10 minutes left: still usable at start, renewed at the
    // first check through a fake `vercel` CLI.
    let mut sb = Sandbox::new();
    let app = sb.path().to_path_buf();
    std::fs::create_dir_all(app.join(".vercel")).unwrap();
    std::fs::write(
        app.join(".vercel/project.json"),
        r#"{"projectId":"prj_web123","orgId":"team_acme123"}"#,
    )
    .unwrap();
    let old = jwt(&claims(now() + 600));
    let new = jwt(&claims(now() + 12 * 3600));
    let bin = app.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        bin.join("vercel"),
        format!("#!/bin/sh\nprintf '{{\"token\":\"%s\"}}' '{new}'\n"),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(bin.join("vercel")).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(
        bin.join("vercel"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    sb.set(vars::VERCEL_OIDC_TOKEN, old.clone())
        .set(vars::PATH, format!("{}:/usr/bin:/bin", bin.display()))
        .set(vars::XDG_DATA_HOME, app.join("data").display().to_string())
        .set(
            vars::AZURE_TENANT_ID,
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
        )
        .set(
            vars::AZURE_CLIENT_ID,
            "11111111-2222-3333-4444-555555555555",
        )
        .set(vars::VERCEL_OIDC_EXEC_CHECK_SECONDS, "1")
        .set("WANT", new.clone());
    let out = exec_sh(&sb, &[], WAIT_FOR_RENEWAL);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(std::fs::read_to_string(app.join("after.out")).unwrap(), new);
    let reads = std::fs::read_to_string(app.join("reads.out")).unwrap();
    assert!(
        reads.lines().all(|t| t == old || t == new),
        "the file always holds a whole token"
    );
}

#[test]
fn the_token_file_is_renewed_through_the_vercel_api_while_the_child_runs() {
    // No `vercel` on PATH: the renewal mints through the Vercel API with the CLI login, which
    // blocks, and must not run on the thread that supervises the child (it used to panic there).
    let minted = jwt(&claims(now() + 12 * 3600));
    let body = format!(r#"{{"token":"{minted}"}}"#);
    let api = MockServer::start(
        move |_, req| match req.path.split('?').next().unwrap_or("") {
            "/v1/projects/prj_web123/token" => Reply::json(200, body.clone()),
            _ => Reply::json(404, "{}"),
        },
    );
    let (mut sb, app) = linked_project(&api);
    std::fs::remove_file(app.join(".env.local")).unwrap();
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(now() + 600)))
        .set(
            vars::AZURE_TENANT_ID,
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
        )
        .set(
            vars::AZURE_CLIENT_ID,
            "11111111-2222-3333-4444-555555555555",
        )
        .set(vars::VERCEL_OIDC_EXEC_CHECK_SECONDS, "1")
        .set("WANT", minted.clone());
    let out = sb.run_in(&app, &["exec", "--", "sh", "-c", WAIT_FOR_RENEWAL]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        std::fs::read_to_string(app.join("after.out")).unwrap(),
        minted
    );
    assert_eq!(api.count(), 1);
}

#[test]
fn the_child_never_gets_cached_credentials_that_are_half_spent() {
    // STS hands out 30-minute credentials: good for the cache (over 20 minutes left), too old
    // for a child that may run for a while.
    let server = sts(1800);
    let (mut sb, _) = aws_sandbox(&server);
    sb.set(vars::VERCEL_OIDC_AWS_DURATION_SECONDS, "3600");
    for _ in 0..2 {
        let out = sb
            .command(&["aws", "credential-process"])
            .reveals(SECRET_KEY)
            .reveals(SESSION_TOKEN)
            .output();
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    }
    assert_eq!(server.count(), 1, "the second call was a cache hit");
    let out = exec_sh(&sb, &[], "true");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        server.count(),
        2,
        "exec fetched instead of handing on the cached entry"
    );
}

#[test]
fn sigint_from_another_process_is_forwarded() {
    // A process manager that stops the build with SIGINT to exec's pid alone: the terminal is not
    // involved, so only exec can pass it on.
    let server = sts(3600);
    let (sb, _) = aws_sandbox(&server);
    let script =
        "trap 'echo interrupted > trap.out; exit 4' INT; echo ready; while :; do sleep 0.05; done";
    let out = signal_exec(&sb, script, libc::SIGINT);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (4, "ready\n", "")
    );
    assert_eq!(
        std::fs::read_to_string(sb.path().join("trap.out")).unwrap(),
        "interrupted\n"
    );
}

#[test]
fn exec_killed_with_sigkill_leaves_a_directory_the_next_run_removes() {
    let server = sts(3600);
    let (sb, _) = aws_sandbox(&server);
    let script = "echo $$ > pid.out; echo \"$VERCEL_OIDC_TOKEN_FILE\" > path.out; while :; do sleep 0.05; done";
    let run = sb.command(&["exec", "--", "sh", "-c", script]).spawn();
    let token_file = PathBuf::from(wait_for_line(&sb.path().join("path.out")));
    let run_dir = token_file.parent().unwrap().to_path_buf();
    assert_eq!(
        run_dir.parent().unwrap(),
        sb.cache_dir().join("run"),
        "in the user's cache directory, not in /tmp"
    );
    run.signal(libc::SIGKILL);
    // End the orphaned child too, as the session around it would.
    let pid: i32 = wait_for_line(&sb.path().join("pid.out")).parse().unwrap();
    // SAFETY: a signal to the child this test's exec started.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    // The wait ends when exec's stdout closes, which every process of the run held: the child
    // and its last `sleep` have ended, and so has their hold on the run's lock (which kept the
    // files while any process of the run lived).
    let out = run.wait();
    assert_eq!(
        (out.signal, out.stdout.as_str(), out.stderr.as_str()),
        (Some(9), "", "")
    );
    assert!(token_file.exists(), "SIGKILL leaves the run's files");
    // Let the directory age past the grace a starting run gets.
    std::fs::File::open(&run_dir)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
        .unwrap();

    let out = exec_sh(&sb, &[], "true");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !run_dir.exists(),
        "the next run removed what the killed one left"
    );
    assert_eq!(
        file_names(&sb.cache_dir().join("run")),
        Vec::<String>::new()
    );
}
