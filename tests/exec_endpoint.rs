//! `vercel-oidc exec` handing AWS credentials to its command through the container-credentials
//! endpoint: what the child sees, who the endpoint answers, renewal, failure, its lifecycle, the
//! choice between `endpoint` and `env`, and a Rust `aws-config` client (default chain) using it.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use vercel_oidc::vars;

use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/vercel-deploy";

/// An STS whose n-th answer (from 1) has the key id `ASIAENDPOINT0000n` and lasts
/// `lifetime(n)` seconds.
fn sts(lifetime: impl Fn(usize) -> i64 + Send + Sync + 'static) -> MockServer {
    MockServer::start(move |i, _| {
        sts_credentials(&format!("ASIAENDPOINT{:05}", i + 1), lifetime(i + 1))
    })
}

/// A local-development sandbox (no VERCEL, no CI, a linked project, so a fresh token could be
/// had) with AWS configured against `server`.
fn sandbox(server: &MockServer) -> Sandbox {
    let mut sb = Sandbox::new();
    std::fs::create_dir_all(sb.path().join(".vercel")).unwrap();
    std::fs::write(
        sb.path().join(".vercel/project.json"),
        r#"{"projectId":"prj_web123","orgId":"team_acme123"}"#,
    )
    .unwrap();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::AWS_ENDPOINT_URL_STS, server.url())
        .set(vars::AWS_ROLE_ARN, ROLE)
        .set(vars::AWS_ACCESS_KEY_ID, "AKIASTALEKEY")
        .set(vars::AWS_PROFILE, "stale");
    sb
}

/// A child that dumps its environment to `env.out` and waits for `done` to appear.
const WAITING_CHILD: &str =
    "env > env.tmp && mv env.tmp env.out; while [ ! -e done ]; do sleep 0.02; done";

/// A running `exec` whose child waits.
struct Running {
    /// Taken when it has been waited for.
    run: Option<common::Running>,
    env: BTreeMap<String, String>,
    dir: PathBuf,
}

impl Running {
    fn start(sb: &Sandbox, extra: &[&str]) -> Self {
        let _ = std::fs::remove_file(sb.path().join("env.out"));
        let _ = std::fs::remove_file(sb.path().join("done"));
        let mut args = vec!["exec"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "sh", "-c", WAITING_CHILD]);
        // From here a failing assertion still ends exec and its child (see Drop).
        let mut run = Self {
            run: Some(sb.command(&args).spawn()),
            env: BTreeMap::new(),
            dir: sb.path().to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sb.path().join("env.out").exists() {
            assert!(Instant::now() < deadline, "the child never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        run.env = std::fs::read_to_string(sb.path().join("env.out"))
            .unwrap()
            .lines()
            .filter_map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        if let Some(token) = run.env.get(vars::AWS_CONTAINER_AUTHORIZATION_TOKEN) {
            register_secret(token.clone());
        }
        run
    }

    fn running(&self) -> &common::Running {
        self.run.as_ref().expect("exec is still running")
    }

    /// Waits for exec to end, failing the test if it takes more than `limit`.
    fn wait_within(&mut self, limit: Duration) -> Output {
        self.run.take().unwrap().wait_within(limit)
    }

    fn port(&self) -> u16 {
        let uri = &self.env[vars::AWS_CONTAINER_CREDENTIALS_FULL_URI];
        uri.trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/credentials")
            .parse()
            .unwrap()
    }

    fn token(&self) -> &str {
        &self.env[vars::AWS_CONTAINER_AUTHORIZATION_TOKEN]
    }

    fn run_dir(&self) -> PathBuf {
        PathBuf::from(&self.env[vars::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE])
            .parent()
            .unwrap()
            .to_path_buf()
    }

    /// Lets the child end and returns exec's exit code and stderr.
    fn finish(&mut self) -> (i32, String) {
        std::fs::write(self.dir.join("done"), "").unwrap();
        let out = self.wait_within(HANG);
        assert_eq!(out.stdout, "");
        (out.code, out.stderr)
    }
}

impl Drop for Running {
    /// A test that failed half-way still ends its child (and exec is killed, its output
    /// checked, as `common::Running` is dropped).
    fn drop(&mut self) {
        let _ = std::fs::write(self.dir.join("done"), "");
    }
}

/// `GET /credentials` with `authorization`, returning the status and body.
fn get(port: u16, authorization: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Generous: a hang fails the test rather than blocking it.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    write!(
        s,
        "GET /credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

fn key_id(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["AccessKeyId"].as_str().unwrap().to_string()
}

fn refused(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn the_child_gets_the_endpoint_and_no_keys() {
    let server = sts(|_| 3600);
    let sb = sandbox(&server);
    let mut run = Running::start(&sb, &[]);
    let env = &run.env;
    assert_eq!(
        env[vars::AWS_CONTAINER_CREDENTIALS_FULL_URI],
        format!("http://127.0.0.1:{}/credentials", run.port())
    );
    let token_file = PathBuf::from(&env[vars::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE]);
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), run.token());
    assert_eq!(run.token().len(), 64, "256 bits as hex");
    assert!(run.token().bytes().all(|b| b.is_ascii_hexdigit()));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&token_file), 0o600);
    assert_eq!(mode(&run.run_dir()), 0o700);
    for gone in [
        vars::AWS_ACCESS_KEY_ID,
        vars::AWS_SECRET_ACCESS_KEY,
        vars::AWS_SESSION_TOKEN,
        vars::AWS_PROFILE,
    ] {
        assert!(
            !env.contains_key(gone),
            "{gone} would win over the endpoint"
        );
    }

    let (status, body) = get(run.port(), Some(run.token()));
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "AccessKeyId",
            "SecretAccessKey",
            "Token",
            "Expiration",
            "RoleArn"
        ]
    );
    assert_eq!(v["AccessKeyId"], "ASIAENDPOINT00001");
    assert_eq!(v["RoleArn"], ROLE);
    assert!(v["Expiration"].as_str().unwrap().ends_with('Z'));
    assert_eq!(server.count(), 1, "fetched once before the child started");

    let port = run.port();
    let run_dir = run.run_dir();
    let (code, stderr) = run.finish();
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(refused(port), "the endpoint stops with the child");
    assert!(!run_dir.exists());
}

/// What the endpoint answers a request with another token.
const DENIED: &str = r#"{"Code":"AccessDenied","Message":"the Authorization header is not this endpoint's token: it answers only the command vercel-oidc exec started"}"#;

#[test]
fn only_this_runs_token_is_answered() {
    let server = sts(|_| 3600);
    let sb = sandbox(&server);
    let mut first = Running::start(&sb, &[]);
    let other = sandbox(&server);
    let mut second = Running::start(&other, &[]);
    assert_ne!(first.token(), second.token());
    // The last digit changed (to `0`, or to `1` where it was `0`).
    let last = if first.token().ends_with('0') {
        '1'
    } else {
        '0'
    };
    let wrong = format!("{}{last}", &first.token()[..63]);
    // Refused in the shape every SDK shows (the Go SDK reports only "failed to decode error
    // message" for an empty body), and naming no token.
    let unauthorized = r#"{"Code":"Unauthorized","Message":"the request has no Authorization header: send the token of AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"}"#;
    let denied = DENIED;
    for (auth, want) in [
        (None, (401, unauthorized)),
        (Some(""), (403, denied)),
        (Some(wrong.as_str()), (403, denied)),
        (Some(second.token()), (403, denied)),
        (Some(&first.token()[..32]), (403, denied)),
    ] {
        let (status, body) = get(first.port(), auth);
        assert_eq!((status, body.as_str()), want, "{auth:?}");
    }
    // Bound to 127.0.0.1 alone: another loopback address does not reach it.
    assert!(TcpStream::connect(("127.0.0.2", first.port())).is_err());
    assert_eq!(get(first.port(), Some(first.token())).0, 200);
    assert_eq!(first.finish().0, 0);
    assert_eq!(second.finish().0, 0);
}

#[test]
fn renewal_keeps_the_cache_rule_and_concurrent_requests_make_one_call() {
    // 900-second credentials are handed out while more than 14 minutes remain; these have 6
    // seconds more than that (5 to 6, as Expiration has whole seconds).
    let server = sts(|_| 14 * 60 + 6);
    let sb = sandbox(&server);
    let mut run = Running::start(&sb, &["--duration-seconds", "900"]);
    assert_eq!(
        key_id(&get(run.port(), Some(run.token())).1),
        "ASIAENDPOINT00001"
    );
    assert_eq!(server.count(), 1, "served from what was fetched at start");
    std::thread::sleep(Duration::from_millis(6500));
    let port = run.port();
    let token = run.token().to_string();
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| s.spawn(|| get(port, Some(&token))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(key_id(body), "ASIAENDPOINT00002");
    }
    assert_eq!(server.count(), 2, "16 concurrent requests, one renewal");
    assert_eq!(run.finish().0, 0);
}

#[test]
fn a_failed_renewal_is_answered_in_the_sdks_shape_and_said_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let server = MockServer::start(move |i, _| {
        seen.fetch_add(1, Ordering::SeqCst);
        if i == 0 {
            sts_credentials("ASIAENDPOINT00001", 14 * 60 + 1)
        } else {
            Reply::xml(
                403,
                "<ErrorResponse><Error><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>",
            )
        }
    });
    let sb = sandbox(&server);
    let mut run = Running::start(&sb, &["--duration-seconds", "900"]);
    std::thread::sleep(Duration::from_millis(1500));
    let (status, body) = get(run.port(), Some(run.token()));
    assert_eq!(status, 500, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["Code"], "CredentialsUnavailable");
    let message = v["Message"].as_str().unwrap();
    assert!(
        message.starts_with("vercel-oidc could not renew the AWS credentials: STS refused"),
        "{message}"
    );
    assert_eq!(
        get(run.port(), Some(run.token())).1,
        body,
        "held, not retried at once"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let (code, stderr) = run.finish();
    assert_eq!(code, 0);
    assert_eq!(
        stderr
            .matches("warning: cannot renew the AWS credentials for `sh`")
            .count(),
        1,
        "{stderr}"
    );
}

#[test]
fn the_endpoint_goes_with_the_child_however_it_ends() {
    let server = sts(|_| 3600);
    let sb = sandbox(&server);
    // The child is killed with SIGKILL.
    let out = sb.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "env > env.tmp && mv env.tmp env.out; kill -KILL $$",
    ]);
    assert_eq!(
        (out.signal, out.stdout.as_str(), out.stderr.as_str()),
        (Some(9), "", "")
    );
    let env = std::fs::read_to_string(sb.path().join("env.out")).unwrap();
    let line = env
        .lines()
        .find(|l| l.starts_with("AWS_CONTAINER_CREDENTIALS_FULL_URI="))
        .unwrap();
    let port: u16 = line
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/credentials")
        .parse()
        .unwrap();
    assert!(refused(port));

    // exec itself gets SIGTERM: forwarded, the child ends, and so does the endpoint.
    let mut run = Running::start(&sb, &[]);
    let (port, run_dir) = (run.port(), run.run_dir());
    // exec installs its handlers just after starting the child, which has run by now.
    run.running()
        .wait_until_catching(libc::SIGTERM, Duration::from_secs(10));
    run.running().signal(libc::SIGTERM);
    let out = run.wait_within(HANG);
    assert_eq!(
        (out.signal, out.stdout.as_str(), out.stderr.as_str()),
        (Some(libc::SIGTERM), "", "")
    );
    assert!(refused(port));
    assert!(!run_dir.exists());
}

#[test]
fn a_client_holding_a_connection_open_cannot_keep_exec_alive() {
    let server = sts(|_| 3600);
    let sb = sandbox(&server);
    let mut run = Running::start(&sb, &[]);
    let mut slow = TcpStream::connect(("127.0.0.1", run.port())).unwrap();
    slow.write_all(b"GET /credentials HTTP/1.1\r\n").unwrap();
    let run_dir = run.run_dir();
    std::fs::write(run.dir.join("done"), "").unwrap();
    // The client holds its connection for as long as this test lets it: exec ending at all
    // shows that it cannot hold it (it gets one second; the bound leaves a loaded machine room).
    let out = run.wait_within(Duration::from_secs(15));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert!(!run_dir.exists());
    drop(slow);
}

#[test]
fn idle_connections_cannot_crowd_out_the_child() {
    let server = sts(|_| 3600);
    let sb = sandbox(&server);
    let mut run = Running::start(&sb, &[]);
    // More idle connections than the endpoint has handlers, all held open, paced so that each
    // is accepted (none waits in the listen queue).
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(1));
            TcpStream::connect(("127.0.0.1", run.port())).unwrap()
        })
        .collect();
    let (status, body) = get(run.port(), Some(run.token()));
    assert_eq!(status, 200, "{body}");
    assert_eq!(key_id(&body), "ASIAENDPOINT00001");
    drop(idle);
    assert_eq!(run.finish().0, 0);
}

/// What a `GET /credentials` with `token` gets back when sent by a shell running as `uid`
/// (through bash's `/dev/tcp`; the token goes in the environment, not in an argument). The
/// answer may hold the credentials of STS answer `n`.
fn get_as(uid: u32, port: u16, token: &str, n: usize) -> String {
    use std::os::unix::process::CommandExt as _;
    let script = r#"exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET /credentials HTTP/1.1\r\nAuthorization: %s\r\n\r\n' "$TOKEN" >&3 && timeout 10 cat <&3"#;
    let out = Run::program("bash")
        .args(["-c", script])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("PORT", port.to_string())
        .env("TOKEN", token)
        .current_dir("/")
        .with(|cmd| {
            cmd.uid(uid).gid(uid);
        })
        .reveals_all(sts_secrets(&format!("ASIAENDPOINT{n:05}")))
        .output();
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    out.stdout
}

/// Another user's shell that opens `n` connections to `port` and holds them, unused, until its
/// stdin closes; it prints `ready` once all are open. Each connection is given 1 ms (a read
/// that times out) before the next, so that each is accepted rather than left in the listen
/// queue.
fn hold_as(uid: u32, port: u16, n: usize) -> common::Running {
    use std::os::unix::process::CommandExt as _;
    let script = r#"for _ in $(seq "$N"); do exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || exit 1; read -t 0.001 -u "$fd"; done; echo ready; read -r _ || true"#;
    let holder = Run::program("bash")
        .args(["-c", script])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("PORT", port.to_string())
        .env("N", n.to_string())
        .current_dir("/")
        .with(|cmd| {
            cmd.uid(uid).gid(uid);
        })
        .stdin(Stdin::Piped)
        .spawn();
    assert_eq!(holder.wait_for_stdout("ready\n", HANG), "ready\n");
    holder
}

/// The token is the gate, whoever connects: a child that switched to another user (`gosu`,
/// `su-exec`, `sudo -u`) is answered; another user without the token is refused as anyone is.
/// And however many connections another user holds open, ours are answered: a connection of
/// ours, opened before 200 of theirs and sending its request only after them, still is.
#[test]
fn another_user_holding_the_token_is_answered_and_cannot_crowd_out_ours() {
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if me != 0 {
        return; // Only root can connect as another user.
    }
    let server = sts(|_| 3600);
    let sb = sandbox(&server);
    let mut run = Running::start(&sb, &[]);
    let theirs = get_as(65534, run.port(), run.token(), 1);
    assert!(theirs.starts_with("HTTP/1.1 200 OK\r\n"), "{theirs:?}");
    assert_eq!(
        key_id(theirs.split_once("\r\n\r\n").unwrap().1),
        "ASIAENDPOINT00001"
    );
    assert_eq!(
        get_as(65534, run.port(), "not-the-token", 1),
        format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{DENIED}",
            DENIED.len()
        )
    );

    // Ours must send its request within the endpoint's one second, after theirs are all open:
    // on a machine too loaded to open 200 connections in 900 ms the case proves nothing, and
    // is set up again (at most five times).
    let mut tries = 0;
    let answer = loop {
        tries += 1;
        let mut ours = TcpStream::connect(("127.0.0.1", run.port())).unwrap();
        let started = Instant::now();
        let mut holder = hold_as(65534, run.port(), 200);
        let waited = started.elapsed();
        ours.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Shut down unanswered, ours would fail here or read nothing.
        let _ = write!(
            ours,
            "GET /credentials HTTP/1.1\r\nAuthorization: {}\r\n\r\n",
            run.token()
        );
        let mut answer = String::new();
        let _ = ours.read_to_string(&mut answer);
        drop(holder.stdin());
        let held = holder.wait();
        assert_eq!((held.code, held.stderr.as_str()), (0, ""));
        if waited < Duration::from_millis(900) {
            break answer;
        }
        assert!(
            tries < 5,
            "200 connections took {waited:?} to open, five times"
        );
    };
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    assert_eq!(get(run.port(), Some(run.token())).0, 200);
    assert_eq!(run.finish().0, 0);
}

#[test]
fn env_in_a_build_endpoint_locally_and_the_setting_wins() {
    let server = sts(|_| 3600);
    let mut sb = sandbox(&server);
    let mode = |sb: &Sandbox, extra: &[&str]| {
        let mut run = Running::start(sb, extra);
        let how = if run
            .env
            .contains_key(vars::AWS_CONTAINER_CREDENTIALS_FULL_URI)
        {
            assert!(!run.env.contains_key(vars::AWS_ACCESS_KEY_ID));
            "endpoint"
        } else {
            // The STS stand-in's key, not the stale one of the environment.
            assert!(run.env[vars::AWS_ACCESS_KEY_ID].starts_with("ASIAENDPOINT"));
            assert!(
                !run.env
                    .contains_key(vars::AWS_CONTAINER_AUTHORIZATION_TOKEN)
            );
            "env"
        };
        assert_eq!(run.finish().0, 0);
        how
    };
    assert_eq!(mode(&sb, &[]), "endpoint");
    assert_eq!(mode(&sb, &["--aws-credentials", "env"]), "env");
    assert_eq!(
        mode(&sb, &["--no-refresh"]),
        "env",
        "no fresh token can be had"
    );
    std::fs::rename(sb.path().join(".vercel"), sb.path().join("unlinked")).unwrap();
    assert_eq!(
        mode(&sb, &[]),
        "env",
        "not a linked project: no fresh token"
    );
    std::fs::rename(sb.path().join("unlinked"), sb.path().join(".vercel")).unwrap();
    sb.set(vars::VERCEL, "1");
    assert_eq!(mode(&sb, &[]), "env");
    sb.unset(vars::VERCEL).set(vars::CI, "true");
    assert_eq!(mode(&sb, &[]), "env");
    sb.set(vars::VERCEL_OIDC_AWS_CREDENTIALS, "endpoint");
    assert_eq!(mode(&sb, &[]), "endpoint");
    sb.unset(vars::VERCEL_OIDC_AWS_CREDENTIALS);
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        "[aws]\ncredentials = \"env\"\n\n[production.aws]\ncredentials = \"endpoint\"\n",
    )
    .unwrap();
    assert_eq!(
        mode(&sb, &[]),
        "endpoint",
        "the token's environment section"
    );
    assert_eq!(
        mode(&sb, &["--aws-credentials", "env"]),
        "env",
        "a flag wins over the file"
    );
}

#[test]
fn verbose_says_which_and_why() {
    let server = sts(|_| 3600);
    let mut sb = sandbox(&server);
    let out = sb.run(&["-v", "exec", "--", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.lines().any(|l| l
            == "vercel-oidc: AWS credentials reach the command by endpoint: the default in local development: the command may outlive its credentials, and the SDKs renew them from the endpoint"),
        "{}",
        out.stderr
    );
    sb.set(vars::VERCEL, "1");
    let out = sb.run(&["-v", "exec", "--", "true"]);
    assert!(
        out.stderr.lines().any(|l| l
            == "vercel-oidc: AWS credentials reach the command by env: the default in a build (VERCEL or CI is set): the build's token cannot be renewed, and environment keys reach every tool"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_default_profile_with_keys_is_pointed_out() {
    let server = sts(|_| 3600);
    let sb = sandbox(&server);
    let creds = sb.home().join(".aws/credentials");
    std::fs::create_dir_all(creds.parent().unwrap()).unwrap();
    std::fs::write(
        &creds,
        "[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = x\n",
    )
    .unwrap();
    let out = sb.run(&["exec", "--", "true"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stderr,
        format!(
            "vercel-oidc: warning: the default AWS profile sets `aws_access_key_id` in `{}`, which the AWS SDKs use before the credentials endpoint of `exec`\n  remove it, or pass --aws-credentials env\n",
            creds.display()
        )
    );
}

/// The child side of [`a_rust_sdk_client_takes_the_endpoints_credentials`]: the default chain of
/// `aws-config`, as any Rust program would load it.
fn rust_client() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let key = runtime.block_on(async {
        use aws_credential_types::provider::ProvideCredentials;
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await;
        let provider = config.credentials_provider().unwrap();
        provider
            .provide_credentials()
            .await
            .unwrap()
            .access_key_id()
            .to_string()
    });
    std::fs::write("rust.out", key).unwrap();
}

#[test]
fn a_rust_sdk_client_takes_the_endpoints_credentials() {
    if std::env::var_os("VERCEL_OIDC_TEST_RUST_CLIENT").is_some() {
        return rust_client();
    }
    let server = sts(|_| 3600);
    let mut sb = sandbox(&server);
    sb.set("VERCEL_OIDC_TEST_RUST_CLIENT", "1");
    let me = std::env::current_exe().unwrap();
    let out = sb.run(&[
        "exec",
        "--",
        me.to_str().unwrap(),
        "--exact",
        "a_rust_sdk_client_takes_the_endpoints_credentials",
        "--test-threads=1",
    ]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        std::fs::read_to_string(sb.path().join("rust.out")).unwrap(),
        "ASIAENDPOINT00001"
    );
}
