//! The real binary against hostile input, one test per class of issue 8 (items 5, 6, 7 and 9):
//! redirects on token requests, server text that echoes secrets, inputs that are not regular
//! files or are too large (with a timeout, so that a hang fails instead of blocking), oversized
//! HTTP bodies (with the child's peak memory measured), expiries, shell quoting of `env`
//! output, `verify`'s issuer check and its negative cache for unknown key ids; and (issue 15)
//! cached results that go only to the token that got them.
//!
//! Every run goes through [`run_command`], which kills the child after [`TIMEOUT`] and fails
//! the test, samples its peak resident memory, and checks that no registered secret reached
//! stderr. Each case asserts the exit code, an empty stdout and the exact stderr.

mod common;

use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::FileTypeExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use vercel_oidc::vars;

use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/vercel-deploy";
const SA: &str = "deploy@my-project.iam.gserviceaccount.com";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SCOPE: &str = "https://management.azure.com/.default";
/// Credential-shaped values a hostile server might echo, each registered as a secret.
const KEY_ID: &str = "ASIAQWERTYUIOPASDFGH";
const SECRET_KEY: &str = "Xq7vR2mK9pL4sT8wZ1bN6cF3hJ5dG0aYeUiO/+Qk";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD9a8s7d6f5g4h3j2k1l0zXcVbNm1234567890abcdefGHIJKLmnop";

/// Longer than any honest run takes; a run past it is a hang.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The address space each child may use.
const ADDRESS_SPACE_LIMIT: libc::rlim_t = 2 << 30;
/// The most resident memory a run may take, whatever it is fed (a run takes about 10 MiB).
const MAX_RSS_KIB: i64 = 48 * 1024;

/// One run of the binary, bounded in time, with its peak memory.
struct Run {
    out: Output,
    /// The child's peak resident set size in KiB: the highest `VmHWM` of `/proc/<pid>/status`
    /// seen while it ran, sampled every 2 ms. (`ru_maxrss` would not do: it counts the test
    /// process's own size at the fork.)
    max_rss_kib: i64,
}

/// `VmHWM` of a running process, in KiB; 0 once it has exited.
fn vm_hwm_kib(pid: libc::pid_t) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// Runs `run` with `stdin`, killing it after [`TIMEOUT`] (and failing the test), and returns
/// its output and peak memory; its output is checked for secrets as every run's is.
fn run_command(run: common::Run, stdin: Stdin) -> Run {
    // A child that reads without bound fails at 2 GiB of address space instead of taking the
    // machine's memory.
    let mut child = run
        .stdin(stdin)
        .with(|cmd| {
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    let limit = libc::rlimit {
                        rlim_cur: ADDRESS_SPACE_LIMIT,
                        rlim_max: ADDRESS_SPACE_LIMIT,
                    };
                    if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        })
        .spawn();
    // Its memory is sampled while it runs; it is reaped at the first look after it ends.
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut peak = 0;
    while child.is_running() && start.elapsed() < TIMEOUT {
        peak = peak.max(vm_hwm_kib(pid));
        std::thread::sleep(Duration::from_millis(2));
    }
    Run {
        out: child.wait_within(Duration::ZERO),
        max_rss_kib: peak,
    }
}

/// A run of the binary with `args` that may print what the stand-ins here issue: the AWS
/// credentials of [`sts_ok`] (its key id registered too), Google's [`STS_TOKEN`], Entra's `entra-access-token-value`.
fn printing(sb: &Sandbox, args: &[&str]) -> common::Run {
    sb.command(args)
        .reveals(KEY_ID)
        .reveals(SECRET_KEY)
        .reveals(SESSION_TOKEN)
        .reveals(STS_TOKEN)
        .reveals("entra-access-token-value")
}

fn run(sb: &Sandbox, args: &[&str]) -> Run {
    run_command(sb.command(args), Stdin::Null)
}

fn run_in(sb: &Sandbox, dir: &Path, args: &[&str]) -> Run {
    run_command(sb.command(args).current_dir(dir), Stdin::Null)
}

/// The failure every case expects: exit 1, nothing on stdout, exactly `stderr`.
#[track_caller]
fn assert_fails(out: &Output, stderr: &str) {
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (1, "", stderr),
        "\n--- stderr was:\n{}",
        out.stderr
    );
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
}

fn sts_ok_with(key_id: &str, secret: &str, session: &str, expiration: &str) -> Reply {
    Reply::xml(
        200,
        format!(
            r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>{}</AccessKeyId>
      <SecretAccessKey>{}</SecretAccessKey>
      <SessionToken>{}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#,
            xml_escape(key_id),
            xml_escape(secret),
            xml_escape(session)
        ),
    )
}

fn sts_ok(expires_in: i64) -> Reply {
    register_secret(SECRET_KEY);
    register_secret(SESSION_TOKEN);
    sts_ok_with(KEY_ID, SECRET_KEY, SESSION_TOKEN, &rfc3339_in(expires_in))
}

fn sts_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::xml(
        status,
        format!(
            r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>r</RequestId></ErrorResponse>"#,
            xml_escape(message)
        ),
    )
}

/// A sandbox with a fresh token whose AWS STS is `url`.
fn aws_sandbox(url: &str) -> (Sandbox, String) {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::AWS_ENDPOINT_URL_STS, url)
        .set(vars::VERCEL_OIDC_TOKEN, token.clone());
    (sb, token)
}

const AWS: &[&str] = &["aws", "credential-process", "--role-arn", ROLE];

/// A sandbox with a fresh token whose Google STS is `<url>/v1/token` and whose IAM
/// Credentials is `url` (impersonating [`SA`] when `impersonate`).
fn gcp_sandbox(url: &str, impersonate: bool) -> (Sandbox, String) {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone())
        .set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme")
        .set(vars::VERCEL_OIDC_GCP_TOKEN_URL, format!("{url}/v1/token"))
        .set(vars::VERCEL_OIDC_GCP_IMPERSONATION_URL, url);
    if impersonate {
        sb.set(vars::GCP_SERVICE_ACCOUNT_EMAIL, SA);
    }
    (sb, token)
}

const GCP: &[&str] = &["gcp", "access-token"];
const STS_TOKEN: &str = "ya29.c.federated-sts-token-0123456789";

fn gcp_sts_ok(expires_in: i64) -> Reply {
    register_secret(STS_TOKEN);
    Reply::json(
        200,
        format!(
            r#"{{"access_token":"{STS_TOKEN}","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":{expires_in}}}"#
        ),
    )
}

fn iam_path() -> String {
    format!("/v1/projects/-/serviceAccounts/{SA}:generateAccessToken")
}

/// A sandbox with a fresh token for app [`CLIENT`] of [`TENANT`], the authority being the TLS
/// `mock` trusted through SSL_CERT_FILE.
fn azure_sandbox(mock: &MockServer) -> (Sandbox, String) {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    let ca = mock.write_ca(sb.path());
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone())
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_CLIENT_ID, CLIENT)
        .set(vars::AZURE_AUTHORITY_HOST, mock.url())
        .set(vars::SSL_CERT_FILE, ca.display().to_string());
    (sb, token)
}

const AZURE: &[&str] = &["azure", "access-token", "--scope", SCOPE];

fn entra_path() -> String {
    format!("/{TENANT}/oauth2/v2.0/token")
}

/// A linked project with an expired token in `.env.local` and a Vercel CLI login that expires
/// at `login_expires`, `api` standing in for the Vercel API and its OAuth issuer.
fn vercel_project(api: &MockServer, login_expires: i64) -> (Sandbox, PathBuf) {
    let (sb, app) = linked_project(api);
    register_secret("cli-refresh-token-value");
    let login = sb.path().join("data/com.vercel.cli/auth.json");
    std::fs::write(
        &login,
        format!(
            r#"{{"token":"cli-login-token-value","expiresAt":{login_expires},"refreshToken":"cli-refresh-token-value"}}"#
        ),
    )
    .unwrap();
    (sb, app)
}

// --- class 1: redirects ---------------------------------------------------------------------

/// What a case needs: the sandbox, the working directory (when not the sandbox's), the
/// arguments and the expected stderr (with `{status}` for the redirect's status).
type Setup = (Sandbox, Option<PathBuf>, Vec<&'static str>, String);

/// The expiry of the stale token that [`linked_project`] writes to `app/.env.local`, as the
/// expired-token message shows it.
fn stale_expiry(app: &Path) -> String {
    let text = std::fs::read_to_string(app.join(".env.local")).unwrap();
    let token = text.split('"').nth(1).unwrap();
    let claims = vercel_oidc::token::decode_claims(token).unwrap();
    vercel_oidc::timefmt::rfc3339_z(claims.expires_at())
}

fn stale_token_error(app: &Path, refresh: &str) -> String {
    format!(
        "error: the Vercel OIDC token from VERCEL_OIDC_TOKEN in `{}` expired 1h 0m ago (at {})\n  locally, run `vercel link` once and then `vercel env pull` to write a fresh token (valid about 12 hours) to `.env.local`\n  automatic refresh failed: {refresh}\n",
        app.join(".env.local").display(),
        stale_expiry(app)
    )
}

const NOT_FOLLOWED: &str = "which is not followed: a token is sent only to the endpoint configured";

fn redirect_aws(from: &MockServer, to: &str) -> Setup {
    let (sb, _) = aws_sandbox(&from.url());
    let err = format!(
        "error: STS at `{}` answered HTTP {{status}} with a redirect to `{to}`, {NOT_FOLLOWED}\n  point the endpoint (--region, AWS_ENDPOINT_URL_STS) at STS itself, not at an address that redirects\n",
        from.url()
    );
    (sb, None, AWS.to_vec(), err)
}

fn redirect_gcp_sts(from: &MockServer, to: &str) -> Setup {
    let (sb, _) = gcp_sandbox(&from.url(), false);
    let err = format!(
        "error: Google STS at `{}/v1/token` answered HTTP {{status}} with a redirect to `{to}`, {NOT_FOLLOWED}\n  set --token-url (VERCEL_OIDC_GCP_TOKEN_URL) to Google STS itself, not to an address that redirects\n",
        from.url()
    );
    (sb, None, GCP.to_vec(), err)
}

fn redirect_gcp_iam(from: &MockServer, to: &str) -> Setup {
    let (sb, _) = gcp_sandbox(&from.url(), true);
    let err = format!(
        "error: IAM Credentials at `{}{}` answered HTTP {{status}} with a redirect to `{to}`, {NOT_FOLLOWED}\n  set --impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL) to IAM Credentials itself, not to an address that redirects\n",
        from.url(),
        iam_path()
    );
    (sb, None, GCP.to_vec(), err)
}

fn redirect_azure(from: &MockServer, to: &str) -> Setup {
    let (sb, _) = azure_sandbox(from);
    let err = format!(
        "error: Entra ID at `{}{}` answered HTTP {{status}} with a redirect to `{to}`, {NOT_FOLLOWED}\n  set --authority-host (AZURE_AUTHORITY_HOST) to the authority itself, not to an address that redirects\n",
        from.url(),
        entra_path()
    );
    (sb, None, AZURE.to_vec(), err)
}

fn redirect_vercel_mint(from: &MockServer, to: &str) -> Setup {
    let (sb, app) = vercel_project(from, now() + 3600);
    let err = stale_token_error(
        &app,
        &format!(
            "the Vercel API did not mint a token for project `prj_web123`: it answered HTTP {{status}} with a redirect to `{to}`, {NOT_FOLLOWED}\n  check that your login can access the project (`vercel whoami`, `vercel link`), or run `vercel env pull`"
        ),
    );
    (sb, Some(app), vec!["token", "--json"], err)
}

fn redirect_vercel_login_refresh(from: &MockServer, to: &str) -> Setup {
    let (sb, app) = vercel_project(from, now() - 60);
    let login = sb.path().join("data/com.vercel.cli/auth.json");
    let err = stale_token_error(
        &app,
        &format!(
            "the Vercel CLI login in `{}` has expired and could not be refreshed: it answered HTTP {{status}} with a redirect to `{to}`, {NOT_FOLLOWED}\n  run `vercel login` (the login file was left as it was)",
            login.display()
        ),
    );
    (sb, Some(app), vec!["token", "--json"], err)
}

/// Every token request answered with a redirect to another loopback server: an error naming
/// the location, and not one request reaches that server. Requests before the one under test
/// (Google STS before IAM Credentials, the OAuth discovery before the login refresh) are
/// answered as the real service would.
#[test]
fn token_requests_never_follow_a_redirect() {
    type SetupFn = fn(&MockServer, &str) -> Setup;
    // (name, status, set-up, TLS, whether Google STS answers first)
    let cases: &[(&str, u16, SetupFn, bool, bool)] = &[
        ("AWS STS, 307", 307, redirect_aws, false, false),
        ("AWS STS, 308", 308, redirect_aws, false, false),
        ("AWS STS, 302", 302, redirect_aws, false, false),
        ("AWS STS, 303", 303, redirect_aws, false, false),
        ("Google STS, 307", 307, redirect_gcp_sts, false, false),
        ("IAM Credentials, 307", 307, redirect_gcp_iam, false, true),
        ("Entra ID, 307", 307, redirect_azure, true, false),
        (
            "Vercel API mint, 307",
            307,
            redirect_vercel_mint,
            false,
            false,
        ),
        (
            "Vercel OAuth login refresh, 307",
            307,
            redirect_vercel_login_refresh,
            false,
            false,
        ),
    ];
    for &(name, status, setup, tls, sts_first) in cases {
        let thief = MockServer::start(|_, _| Reply::json(200, "{}"));
        let to = format!("{}/stolen", thief.url());
        let location = to.clone();
        let handler = move |_: usize, req: &Recorded| {
            let path = req.path.split('?').next().unwrap();
            match (req.method.as_str(), path) {
                ("POST", "/v1/token") if sts_first => gcp_sts_ok(3600),
                ("GET", "/.well-known/openid-configuration") => Reply::json(
                    200,
                    format!(
                        r#"{{"token_endpoint":"http://{}/login/oauth/token"}}"#,
                        req.header("host").unwrap()
                    ),
                ),
                _ => Reply::redirect(status, location.clone()),
            }
        };
        let from = if tls {
            MockServer::start_tls(handler)
        } else {
            MockServer::start(handler)
        };
        let (sb, dir, args, want) = setup(&from, &to);
        let out = match &dir {
            Some(d) => run_in(&sb, d, &args).out,
            None => run(&sb, &args).out,
        };
        assert_fails(&out, &want.replace("{status}", &status.to_string()));
        assert_eq!(thief.count(), 0, "{name}: the redirect was followed");
        assert!(from.count() >= 1, "{name}");
    }
}

// --- class 2: server text that echoes secrets -----------------------------------------------

/// Which command a case runs, against which kind of stand-in.
#[derive(Clone, Copy)]
enum Cloud {
    Aws,
    GcpSts,
    GcpIam,
    Azure,
    VercelMint,
    VercelRefresh,
}

/// The secret a request carried: the Vercel token in the form, or the bearer credential.
fn carried(req: &Recorded) -> String {
    for field in [
        "WebIdentityToken",
        "subject_token",
        "client_assertion",
        "refresh_token",
    ] {
        if let Some(v) = req.form_value(field) {
            return v;
        }
    }
    req.header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string()
}

/// What a case expects on stderr, given the stand-in's URL and the linked project's folder.
type Want = fn(&str, Option<&Path>) -> String;

/// Runs `cloud`'s command against a stand-in that answers the request under test with
/// `reply(<what the request carried>)` (and everything before it as the real service would);
/// returns the output and what `want` expects of it.
fn against(cloud: Cloud, reply: fn(&str) -> Reply, want: Want) -> (Output, String) {
    let handler = move |_: usize, req: &Recorded| {
        let path = req.path.split('?').next().unwrap();
        match (cloud, req.method.as_str(), path) {
            (Cloud::GcpIam, "POST", "/v1/token") => gcp_sts_ok(3600),
            (Cloud::VercelRefresh, "GET", "/.well-known/openid-configuration") => Reply::json(
                200,
                format!(
                    r#"{{"token_endpoint":"http://{}/login/oauth/token"}}"#,
                    req.header("host").unwrap()
                ),
            ),
            _ => reply(&carried(req)),
        }
    };
    let server = match cloud {
        Cloud::Azure => MockServer::start_tls(handler),
        _ => MockServer::start(handler),
    };
    let url = server.url();
    match cloud {
        Cloud::Aws => (run(&aws_sandbox(&url).0, AWS).out, want(&url, None)),
        Cloud::GcpSts => (run(&gcp_sandbox(&url, false).0, GCP).out, want(&url, None)),
        Cloud::GcpIam => (run(&gcp_sandbox(&url, true).0, GCP).out, want(&url, None)),
        Cloud::Azure => (run(&azure_sandbox(&server).0, AZURE).out, want(&url, None)),
        Cloud::VercelMint | Cloud::VercelRefresh => {
            let expires = match cloud {
                Cloud::VercelMint => now() + 3600,
                _ => now() - 60,
            };
            let (sb, app) = vercel_project(&server, expires);
            let out = run_in(&sb, &app, &["token", "--json"]).out;
            (out, want(&url, Some(&app)))
        }
    }
}

/// Every error path of every cloud, with a server that puts the token it was sent (or the
/// bearer credential, or credential-shaped values) in its error text: the message shows
/// `[redacted]` in their place, and [`run_command`] fails the test if any registered secret
/// reaches stderr.
#[test]
fn echoed_secrets_are_redacted_from_every_error() {
    for s in [
        KEY_ID,
        SECRET_KEY,
        SESSION_TOKEN,
        OTHER_JWT,
        STS_TOKEN,
        "hunter2-client-secret",
    ] {
        register_secret(s);
    }
    type Case = (&'static str, Cloud, fn(&str) -> Reply, Want);
    let cases: &[Case] = &[
        (
            "STS <Message> echoes the token",
            Cloud::Aws,
            |t| sts_error(400, "SomethingNew", &format!("token {t} is not welcome")),
            |url, _| {
                format!(
                    "error: STS refused to let the token assume `{ROLE}` ({url}): SomethingNew: token [redacted] is not welcome\n  see the AWS STS AssumeRoleWithWebIdentity documentation for this error code\n"
                )
            },
        ),
        (
            "STS <Message> holds credential-shaped values",
            Cloud::Aws,
            |_| {
                sts_error(
                    400,
                    "SomethingNew",
                    &format!(
                        "key {KEY_ID} secret {SECRET_KEY} session {SESSION_TOKEN} other {OTHER_JWT}"
                    ),
                )
            },
            |url, _| {
                format!(
                    "error: STS refused to let the token assume `{ROLE}` ({url}): SomethingNew: key [redacted] secret [redacted] session [redacted] other [redacted]\n  see the AWS STS AssumeRoleWithWebIdentity documentation for this error code\n"
                )
            },
        ),
        (
            "STS <Code> echoes the token",
            Cloud::Aws,
            |t| sts_error(400, t, "bad"),
            |url, _| {
                format!(
                    "error: STS refused to let the token assume `{ROLE}` ({url}): [redacted]: bad\n  see the AWS STS AssumeRoleWithWebIdentity documentation for this error code\n"
                )
            },
        ),
        (
            "STS answers a body that is not STS's, with the token and a key id in it",
            Cloud::Aws,
            |t| {
                Reply::new(
                    400,
                    "text/html",
                    format!("<html>you sent {t} as {KEY_ID}</html>"),
                )
            },
            |url, _| {
                format!(
                    "error: STS at `{url}` answered HTTP 400 with a body that is not an STS response: `<html>you sent [redacted] as [redacted]</html>`\n  check that the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS\n"
                )
            },
        ),
        (
            "Google STS error_description echoes the token",
            Cloud::GcpSts,
            |t| {
                Reply::json(400, serde_json::json!({"error": "invalid_grant", "error_description": format!("subject_token {t} rejected")}).to_string())
            },
            |url, _| gcp_sts_refusal(url, "invalid_grant: subject_token [redacted] rejected"),
        ),
        (
            "Google STS error holds an id_token value",
            Cloud::GcpSts,
            |_| {
                Reply::json(400, serde_json::json!({"error": "invalid_grant", "error_description": "bad {\"id_token\":\"opaque-value-1\"}"}).to_string())
            },
            |url, _| gcp_sts_refusal(url, "invalid_grant: bad {\"id_token\":\"[redacted]\"}"),
        ),
        (
            "Google STS answers a body that is not STS's, with the token and a secret key in it",
            Cloud::GcpSts,
            |t| {
                Reply::new(
                    502,
                    "text/plain",
                    format!("upstream saw {t} and {SECRET_KEY}"),
                )
            },
            |url, _| {
                format!(
                    "error: Google STS at `{url}/v1/token` answered HTTP 502 with a body it does not send: `upstream saw [redacted] and [redacted]`\n  check that --token-url (VERCEL_OIDC_GCP_TOKEN_URL) points at Google STS\n"
                )
            },
        ),
        (
            "IAM Credentials message echoes the bearer STS token",
            Cloud::GcpIam,
            |t| {
                Reply::json(400, serde_json::json!({"error": {"code": 400, "message": format!("Bearer {t} not accepted; raw {t}"), "status": "INVALID_ARGUMENT"}}).to_string())
            },
            |url, _| {
                format!(
                    "error: IAM Credentials refused to impersonate `{SA}` (`{url}{}`): HTTP 400 INVALID_ARGUMENT: Bearer [redacted] not accepted; raw [redacted]\n  IAM Credentials refused the request; see the message above\n",
                    iam_path()
                )
            },
        ),
        (
            "IAM Credentials answers a body that is not its own, with an access_token in it",
            Cloud::GcpIam,
            |t| Reply::new(400, "text/plain", format!("access_token={t}&x=1")),
            |url, _| {
                format!(
                    "error: IAM Credentials at `{url}{}` answered HTTP 400 with a body it does not send: `access_token=[redacted]&x=1`\n  check that --impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL) points at IAM Credentials\n",
                    iam_path()
                )
            },
        ),
        (
            "Entra error_description and ids echo the assertion",
            Cloud::Azure,
            |t| {
                Reply::json(400, serde_json::json!({
                "error": "invalid_client",
                "error_description": format!("AADSTS9999999: assertion {t} refused.\r\nTrace ID: t-1"),
                "error_codes": [9999999],
                "trace_id": format!("trace {t}"),
                "correlation_id": "corr-1",
            }).to_string())
            },
            |url, _| {
                format!(
                    "error: Entra ID refused the token for app `{CLIENT}` in tenant `{TENANT}` ({url}{}): invalid_client: AADSTS9999999: assertion [redacted] refused.\n  look the code up at {url}/error?code=9999999, and check --tenant-id, --client-id and --scope\n  (for Microsoft support: trace id `trace [redacted]`, correlation id `corr-1`)\n",
                    entra_path()
                )
            },
        ),
        (
            "Entra answers a body that is not a token response, with the token and a client secret in it",
            Cloud::Azure,
            |t| {
                Reply::new(
                    400,
                    "text/plain",
                    format!("client_assertion={t}&client_secret=hunter2-client-secret"),
                )
            },
            |url, _| {
                format!(
                    "error: Entra ID at `{url}{}` answered HTTP 400 with a body that is not a token response: `client_assertion=[redacted]&client_secret=[redacted]`\n  check that --authority-host (AZURE_AUTHORITY_HOST) is a Microsoft Entra authority\n",
                    entra_path()
                )
            },
        ),
        (
            "Vercel API error message echoes the login token",
            Cloud::VercelMint,
            |t| {
                Reply::json(403, serde_json::json!({"error": {"code": "forbidden", "message": format!("login {t} may not mint")}}).to_string())
            },
            |_, app| {
                stale_token_error(
                    app.unwrap(),
                    "the Vercel API did not mint a token for project `prj_web123`: HTTP 403 (login [redacted] may not mint)\n  check that your login can access the project (`vercel whoami`, `vercel link`), or run `vercel env pull`",
                )
            },
        ),
        (
            "Vercel OAuth error_description echoes the refresh token",
            Cloud::VercelRefresh,
            |t| {
                Reply::json(400, serde_json::json!({"error": "invalid_grant", "error_description": format!("refresh token {t} was revoked")}).to_string())
            },
            |_, app| {
                let login = app
                    .unwrap()
                    .parent()
                    .unwrap()
                    .join("data/com.vercel.cli/auth.json");
                stale_token_error(
                    app.unwrap(),
                    &format!(
                        "the Vercel CLI login in `{}` has expired and could not be refreshed: HTTP 400 (refresh token [redacted] was revoked)\n  run `vercel login` (the login file was left as it was)",
                        login.display()
                    ),
                )
            },
        ),
    ];
    for (name, cloud, reply, want) in cases {
        let (out, want) = against(*cloud, *reply, *want);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (1, "", want.as_str()),
            "{name}\n--- stderr was:\n{}",
            out.stderr
        );
    }
}

const OTHER_JWT: &str =
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzb21lb25lLWVsc2UifQ.c2lnbmF0dXJlLW9mLWFub3RoZXI";

/// Google STS's refusal of the standard test token, `error: description` being what it said.
fn gcp_sts_refusal(url: &str, said: &str) -> String {
    let provider =
        "projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel-acme";
    format!(
        "error: Google STS (`{url}/v1/token`) refused the token: HTTP 400 {said}\n  Google STS did not accept the token for this provider\n  the token carried:\n    iss: https://oidc.vercel.com/acme\n    sub: owner:acme:project:web:environment:production\n    aud: https://vercel.com/acme\n  audience sent: //iam.googleapis.com/{provider}\n  Google STS accepts it when provider `vercel-acme` of pool `vercel` in project 123456789012 has:\n    issuer URI:        https://oidc.vercel.com/acme\n    allowed audience:  https://vercel.com/acme\n    attribute mapping: google.subject=assertion.sub (and any attribute condition accepts the claims above)\n  for example:\n    gcloud iam workload-identity-pools providers update-oidc vercel-acme --project=123456789012 --location=global --workload-identity-pool=vercel --issuer-uri=https://oidc.vercel.com/acme --allowed-audiences=https://vercel.com/acme --attribute-mapping=google.subject=assertion.sub,attribute.owner=assertion.owner,attribute.project=assertion.project,attribute.environment=assertion.environment\n"
    )
}

// --- class 3: inputs that are not small regular files ---------------------------------------

/// Every file read from outside, pointed at a FIFO (which would block a plain open), a device
/// (which never ends), a directory or an oversized file: refused at once, naming the file,
/// what it is or which limit it passed, and what to do; with little memory.
#[test]
fn files_that_are_not_small_regular_files_are_refused_at_once() {
    struct Files {
        fifo: PathBuf,
        big_token: PathBuf,
        dir: PathBuf,
    }
    type Case = (
        &'static str,
        fn(&mut Sandbox, &Files) -> (PathBuf, Vec<String>, String),
    );
    const REGULAR: &str =
        "name a regular file that holds the token; a FIFO, device or directory is never read";
    let cases: &[Case] = &[
        ("--token-file /dev/zero", |_, _| {
            (
                PathBuf::new(),
                args(&["--token-file", "/dev/zero", "token", "--json"]),
                format!(
                    "error: cannot read the Vercel OIDC token from --token-file `/dev/zero`: it is a character device, not a regular file\n  {REGULAR}\n"
                ),
            )
        }),
        ("--token-file FIFO", |_, f| {
            let p = f.fifo.display().to_string();
            (
                PathBuf::new(),
                args(&["--token-file", &p, "token", "--json"]),
                format!(
                    "error: cannot read the Vercel OIDC token from --token-file `{p}`: it is a FIFO, not a regular file\n  {REGULAR}\n"
                ),
            )
        }),
        ("--token-file directory", |_, f| {
            let p = f.dir.display().to_string();
            (
                PathBuf::new(),
                args(&["--token-file", &p, "token", "--print"]),
                format!(
                    "error: cannot read the Vercel OIDC token from --token-file `{p}`: it is a directory, not a regular file\n  {REGULAR}\n"
                ),
            )
        }),
        ("--token-file of 64 KiB and one byte", |_, f| {
            let p = f.big_token.display().to_string();
            (
                PathBuf::new(),
                args(&["--token-file", &p, "token", "--json"]),
                format!(
                    "error: cannot read the Vercel OIDC token from --token-file `{p}`: it is larger than 64 KiB, the limit for a token file\n  a Vercel token is about 1 KiB: name a file that holds the token alone\n"
                ),
            )
        }),
        (
            "VERCEL_OIDC_TOKEN_FILE FIFO, credential-process",
            |sb, f| {
                sb.set(vars::VERCEL_OIDC_TOKEN_FILE, f.fifo.display().to_string());
                (
                    PathBuf::new(),
                    args(AWS),
                    format!(
                        "error: cannot read the Vercel OIDC token from VERCEL_OIDC_TOKEN_FILE (`{}`): it is a FIFO, not a regular file\n  {REGULAR}\n",
                        f.fifo.display()
                    ),
                )
            },
        ),
        ("VERCEL_OIDC_TOKEN_FILE /dev/zero, verify", |sb, _| {
            sb.set(vars::VERCEL_OIDC_TOKEN_FILE, "/dev/zero");
            (
                PathBuf::new(),
                args(&[
                    "verify",
                    "--issuer",
                    "https://oidc.vercel.com/acme",
                    "--audience",
                    "https://vercel.com/acme",
                ]),
                format!(
                    "error: cannot read the Vercel OIDC token from VERCEL_OIDC_TOKEN_FILE (`/dev/zero`): it is a character device, not a regular file\n  {REGULAR}\n"
                ),
            )
        }),
        ("--policy @/dev/zero", |sb, _| {
            sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
            (PathBuf::new(), args(&["aws", "credential-process", "--role-arn", ROLE, "--policy", "@/dev/zero"]), "error: cannot read the session policy file `/dev/zero`: it is a character device, not a regular file\n  pass --policy @FILE with a regular file holding the policy JSON (STS takes at most 2,048 characters of it once packed)\n".into())
        }),
        ("--policy @FIFO", |sb, f| {
            sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
            let p = f.fifo.display().to_string();
            (
                PathBuf::new(),
                args(&[
                    "aws",
                    "credential-process",
                    "--role-arn",
                    ROLE,
                    "--policy",
                    &format!("@{p}"),
                ]),
                format!(
                    "error: cannot read the session policy file `{p}`: it is a FIFO, not a regular file\n  pass --policy @FILE with a regular file holding the policy JSON (STS takes at most 2,048 characters of it once packed)\n"
                ),
            )
        }),
        ("--config FIFO", |sb, f| {
            sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
            let p = f.fifo.display().to_string();
            (
                PathBuf::new(),
                args(&["--config", &p, "aws", "credential-process"]),
                format!(
                    "error: cannot read the project config `{p}`: it is a FIFO, not a regular file\n  check the path given to --config or VERCEL_OIDC_CONFIG (a regular file of at most 1 MiB)\n"
                ),
            )
        }),
        ("VERCEL_OIDC_CONFIG /dev/zero", |sb, _| {
            sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
                .set(vars::VERCEL_OIDC_CONFIG, "/dev/zero");
            (
                PathBuf::new(),
                args(&["doctor", "--offline"]),
                String::new(),
            )
        }),
        (".env.local FIFO", |sb, f| {
            sb.unset(vars::VERCEL_OIDC_TOKEN);
            let app = sb.path().join("app");
            std::fs::create_dir_all(app.join(".vercel")).unwrap();
            mkfifo(&app.join(".env.local"));
            let _ = f;
            (
                app.clone(),
                args(&["--no-refresh", "token", "--json"]),
                format!(
                    "error: cannot read the Vercel OIDC token from VERCEL_OIDC_TOKEN in `{}`: it is a FIFO, not a regular file\n  `.env.local` must be a regular file: remove it and run `vercel env pull` again\n",
                    app.join(".env.local").display()
                ),
            )
        }),
        (".env.local over 1 MiB", |sb, _| {
            sb.unset(vars::VERCEL_OIDC_TOKEN);
            let app = sb.path().join("app");
            std::fs::create_dir_all(app.join(".vercel")).unwrap();
            // A token on its first line, which the refusal must not show.
            let mut text = format!("VERCEL_OIDC_TOKEN=\"{}\"\n", fresh_token()).into_bytes();
            text.resize(1024 * 1024 + 1, b'#');
            std::fs::write(app.join(".env.local"), text).unwrap();
            (
                app.clone(),
                args(&["--no-refresh", "token", "--json"]),
                format!(
                    "error: cannot read the Vercel OIDC token from VERCEL_OIDC_TOKEN in `{}`: it is larger than 1 MiB, the limit for a settings file\n  `vercel env pull` writes a small `.env.local`: check what else went into it, or run `vercel env pull` again\n",
                    app.join(".env.local").display()
                ),
            )
        }),
        ("SSL_CERT_FILE /dev/zero", |sb, _| {
            sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
                .set(vars::SSL_CERT_FILE, "/dev/zero")
                .set(vars::AWS_ENDPOINT_URL_STS, "http://127.0.0.1:9");
            (PathBuf::new(), args(AWS), "error: cannot read SSL_CERT_FILE `/dev/zero`: it is a character device, not a regular file\n  point SSL_CERT_FILE at a PEM bundle (a regular file of at most 8 MiB), or unset it\n".into())
        }),
        ("SSL_CERT_FILE FIFO", |sb, f| {
            sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
                .set(vars::SSL_CERT_FILE, f.fifo.display().to_string())
                .set(vars::AWS_ENDPOINT_URL_STS, "http://127.0.0.1:9");
            (
                PathBuf::new(),
                args(AWS),
                format!(
                    "error: cannot read SSL_CERT_FILE `{}`: it is a FIFO, not a regular file\n  point SSL_CERT_FILE at a PEM bundle (a regular file of at most 8 MiB), or unset it\n",
                    f.fifo.display()
                ),
            )
        }),
        ("the Vercel CLI login is a FIFO", |sb, _| {
            let (project, app) = linked_project(&MockServer::start(|_, _| Reply::json(500, "{}")));
            let login = project.path().join("data/com.vercel.cli/auth.json");
            std::fs::remove_file(&login).unwrap();
            mkfifo(&login);
            let want = stale_token_error(
                &app,
                &format!(
                    "cannot read the Vercel CLI login `{}`: it is a FIFO, not a regular file\n  run `vercel login` to write it again, or run `vercel env pull`",
                    login.display()
                ),
            );
            *sb = project;
            (app, args(&["token", "--json"]), want)
        }),
        ("the project link is a FIFO", |sb, _| {
            let (project, app) = linked_project(&MockServer::start(|_, _| Reply::json(500, "{}")));
            let link = app.join(".vercel/project.json");
            std::fs::remove_file(&link).unwrap();
            mkfifo(&link);
            let want = stale_token_error(
                &app,
                &format!(
                    "cannot read `{}`: it is a FIFO, not a regular file\n  run `vercel link` again to re-link this project",
                    link.display()
                ),
            );
            *sb = project;
            (app, args(&["token", "--json"]), want)
        }),
        ("gcp configure --output FIFO", |sb, f| {
            sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
                .set(vars::GCP_PROJECT_NUMBER, "123456789012")
                .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
                .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme");
            let p = f.fifo.display().to_string();
            (
                PathBuf::new(),
                args(&["gcp", "configure", "--output", &p]),
                format!(
                    "error: `{p}` is a FIFO, not a credential file; refusing to write there\n  choose another --output (VERCEL_OIDC_GCP_CREDENTIALS_FILE), or move it away first\n"
                ),
            )
        }),
    ];
    for (name, setup) in cases {
        // A token at hand, which no refusal may show; the cases that need another set theirs.
        let mut sb = Sandbox::new();
        sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
        let files = Files {
            fifo: sb.path().join("fifo"),
            big_token: sb.path().join("big-token"),
            dir: sb.path().join("a-directory"),
        };
        mkfifo(&files.fifo);
        std::fs::write(&files.big_token, vec![b'a'; 64 * 1024 + 1]).unwrap();
        std::fs::create_dir(&files.dir).unwrap();
        let (dir, argv, want) = setup(&mut sb, &files);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let start = Instant::now();
        let r = if dir.as_os_str().is_empty() {
            run(&sb, &argv)
        } else {
            run_in(&sb, &dir, &argv)
        };
        if want.is_empty() {
            // doctor reports the problem in its own layout; the line naming it is what counts.
            assert_eq!(r.out.code, 1, "{name}: {}", r.out.stderr);
            assert!(
                r.out.stdout.contains("cannot read the project config `/dev/zero`: it is a character device, not a regular file"),
                "{name}:\n{}",
                r.out.stdout
            );
        } else {
            assert_eq!(
                (r.out.code, r.out.stdout.as_str(), r.out.stderr.as_str()),
                (1, "", want.as_str()),
                "{name}\n--- stderr was:\n{}",
                r.out.stderr
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{name}: took {:?}",
            start.elapsed()
        );
        assert!(
            r.max_rss_kib < MAX_RSS_KIB,
            "{name}: peak RSS {} KiB",
            r.max_rss_kib
        );
        if files.fifo.exists() {
            assert!(
                files.fifo.metadata().unwrap().file_type().is_fifo(),
                "{name}: the FIFO was replaced"
            );
        }
    }
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

// --- class 4: oversized HTTP bodies ---------------------------------------------------------

/// How a streaming stand-in sends its endless body.
#[derive(Clone, Copy)]
enum Framing {
    /// `Content-Length: 300 MiB`, then as much as the client takes.
    Declared,
    /// `Transfer-Encoding: chunked`, no length, 64 KiB chunks until the client stops reading.
    Chunked,
}

/// A stand-in that answers every request with `status` and a 300 MiB body it writes as fast
/// as the client reads, counting the bytes it managed to send; requests for `passthrough`
/// paths get `ok` instead.
struct Flood {
    addr: std::net::SocketAddr,
    sent: Arc<AtomicU64>,
}

const FLOOD_BYTES: u64 = 300 << 20;

impl Flood {
    fn start(status: u16, framing: Framing, passthrough: Option<(&'static str, Reply)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (counter, passthrough) = (counter.clone(), passthrough.clone());
                std::thread::spawn(move || {
                    let Some(req) = read_request(&mut stream) else {
                        return;
                    };
                    if let Some((path, reply)) = &passthrough
                        && req.path == *path
                    {
                        write_reply(&mut stream, reply);
                        return;
                    }
                    let head = match framing {
                        Framing::Declared => format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {FLOOD_BYTES}\r\nConnection: close\r\n\r\n"
                        ),
                        Framing::Chunked => format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                        ),
                    };
                    if stream.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    let chunk = vec![b'x'; 64 * 1024];
                    let mut total = 0;
                    while total < FLOOD_BYTES {
                        let ok = match framing {
                            Framing::Declared => stream.write_all(&chunk),
                            Framing::Chunked => stream
                                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                                .and_then(|()| stream.write_all(&chunk))
                                .and_then(|()| stream.write_all(b"\r\n")),
                        };
                        if ok.is_err() {
                            break;
                        }
                        total += chunk.len() as u64;
                        counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                    }
                });
            }
        });
        Self { addr, sent }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

/// A 300 MiB answer (declared, or chunked without a length) to every kind of request: refused
/// once past 1 MiB, with the client's memory staying small and most of the body never read.
#[test]
fn oversized_bodies_are_refused_without_being_read() {
    const TOO_LARGE: &str =
        "it is larger than 1 MiB, the limit for an HTTP response; the rest was not read";
    type Case = (
        &'static str,
        u16,
        Framing,
        Option<(&'static str, Reply)>,
        fn(&str) -> (Sandbox, Vec<&'static str>, String),
    );
    let cases: Vec<Case> = vec![
        (
            "AWS STS, 200, declared length",
            200,
            Framing::Declared,
            None,
            |url| {
                (
                    aws_sandbox(url).0,
                    AWS.to_vec(),
                    format!(
                        "error: STS at `{url}` answered HTTP 200 with a body that is not an STS response: {TOO_LARGE}\n  check that the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS\n"
                    ),
                )
            },
        ),
        (
            "AWS STS, 200, chunked",
            200,
            Framing::Chunked,
            None,
            |url| {
                (
                    aws_sandbox(url).0,
                    AWS.to_vec(),
                    format!(
                        "error: STS at `{url}` answered HTTP 200 with a body that is not an STS response: {TOO_LARGE}\n  check that the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS\n"
                    ),
                )
            },
        ),
        (
            "AWS STS, 403, chunked",
            403,
            Framing::Chunked,
            None,
            |url| {
                (
                    aws_sandbox(url).0,
                    AWS.to_vec(),
                    format!(
                        "error: STS at `{url}` answered HTTP 403 with a body that is not an STS response: {TOO_LARGE}\n  check that the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS\n"
                    ),
                )
            },
        ),
        (
            "Google STS, 200, chunked",
            200,
            Framing::Chunked,
            None,
            |url| {
                (
                    gcp_sandbox(url, false).0,
                    GCP.to_vec(),
                    format!(
                        "error: Google STS at `{url}/v1/token` answered HTTP 200 with a body it does not send: {TOO_LARGE}\n  check that --token-url (VERCEL_OIDC_GCP_TOKEN_URL) points at Google STS\n"
                    ),
                )
            },
        ),
        (
            "IAM Credentials, 200, declared length",
            200,
            Framing::Declared,
            Some(("/v1/token", gcp_sts_ok(3600))),
            |url| {
                (
                    gcp_sandbox(url, true).0,
                    GCP.to_vec(),
                    format!(
                        "error: IAM Credentials at `{url}{}` answered HTTP 200 with a body it does not send: {TOO_LARGE}\n  check that --impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL) points at IAM Credentials\n",
                        iam_path()
                    ),
                )
            },
        ),
    ];
    for (name, status, framing, passthrough, setup) in cases {
        let flood = Flood::start(status, framing, passthrough);
        let (sb, argv, want) = setup(&flood.url());
        let r = run(&sb, &argv);
        eprintln!(
            "{name}: peak RSS {} KiB, {} bytes sent",
            r.max_rss_kib,
            flood.sent()
        );
        assert_fails(&r.out, &want);
        assert!(
            r.max_rss_kib < MAX_RSS_KIB,
            "{name}: peak RSS {} KiB",
            r.max_rss_kib
        );
        // What the kernel buffers aside, the client stopped reading at the cap.
        assert!(
            flood.sent() < 32 << 20,
            "{name}: {} bytes were read",
            flood.sent()
        );
    }
}

/// The same for the Vercel API (the refresh's token mint) and for Entra ID (over TLS, with a
/// 2 MiB body held by the stand-in).
#[test]
fn oversized_bodies_from_vercel_and_entra_are_refused() {
    let flood = Flood::start(200, Framing::Chunked, None);
    let api = MockServer::start(|_, _| Reply::json(500, "{}"));
    let (mut sb, app) = vercel_project(&api, now() + 3600);
    sb.set(vars::VERCEL_OIDC_API_URL, flood.url());
    let r = run_in(&sb, &app, &["token", "--json"]);
    assert_fails(
        &r.out,
        &stale_token_error(
            &app,
            "the Vercel API did not mint a token for project `prj_web123`: it answered HTTP 200 with a body larger than 1 MiB, the limit for an HTTP response; the rest was not read\n  check that your login can access the project (`vercel whoami`, `vercel link`), or run `vercel env pull`",
        ),
    );
    assert!(
        r.max_rss_kib < MAX_RSS_KIB,
        "peak RSS {} KiB",
        r.max_rss_kib
    );
    assert!(flood.sent() < 32 << 20, "{} bytes were read", flood.sent());

    let entra = MockServer::start_tls(|_, _| Reply::json(200, "x".repeat(2 << 20)));
    let (sb, _) = azure_sandbox(&entra);
    let r = run(&sb, AZURE);
    assert_fails(
        &r.out,
        &format!(
            "error: Entra ID at `{}{}` answered HTTP 200 with a body that is not a token response: it is larger than 1 MiB, the limit for an HTTP response; the rest was not read\n  check that --authority-host (AZURE_AUTHORITY_HOST) is a Microsoft Entra authority\n",
            entra.url(),
            entra_path()
        ),
    );
}

// --- class 5: verify's standard input -------------------------------------------------------

/// `verify -` reads at most 64 KiB and says so when there is more, instead of verifying the
/// first 64 KiB; `/dev/zero` on stdin ends at once with little memory.
#[test]
fn verify_stdin_past_the_cap_is_refused() {
    const OVER: &str = "error: standard input holds more than 64 KiB, the limit for a token on stdin; nothing was verified\n  pipe in the token alone (a Vercel token is about 1 KiB), e.g. `printf %s \"$TOKEN\" | vercel-oidc verify … -`\n";
    let verify = [
        "verify",
        "--issuer",
        "https://oidc.vercel.com/acme",
        "--audience",
        "https://vercel.com/acme",
        "-",
    ];
    let sb = Sandbox::new();
    // A real token padded past the cap with blanks, which would be trimmed away if cut.
    let padded = format!("{}{}", fresh_token(), " ".repeat(64 * 1024));
    let cases: Vec<(&str, Stdin, &str)> = vec![
        (
            "a token padded past 64 KiB",
            Stdin::Bytes(padded.into_bytes()),
            OVER,
        ),
        (
            "64 KiB and one byte",
            Stdin::Bytes(vec![b'a'; 64 * 1024 + 1]),
            OVER,
        ),
        ("/dev/zero", Stdin::File("/dev/zero".into()), OVER),
        (
            "exactly 64 KiB is read, and judged",
            Stdin::Bytes(vec![b'a'; 64 * 1024]),
            "error: malformed token: it has 1 part(s), not 3\n  pass the JWT exactly as Vercel issued it: three base64url parts joined by dots\n",
        ),
    ];
    for (name, stdin, want) in cases {
        let r = run_command(sb.command(&verify), stdin);
        assert_eq!(
            (r.out.code, r.out.stdout.as_str(), r.out.stderr.as_str()),
            (1, "", want),
            "{name}"
        );
        assert!(
            r.max_rss_kib < MAX_RSS_KIB,
            "{name}: peak RSS {} KiB",
            r.max_rss_kib
        );
    }
}

// --- class 6: expiries ----------------------------------------------------------------------

/// `stderr` is one of `candidates` (messages that hold a time in seconds, which a slow run can
/// move by one).
#[track_caller]
fn assert_fails_with_one_of(out: &Output, candidates: &[String]) {
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
    assert!(
        candidates.iter().any(|c| c == &out.stderr),
        "stderr:\n{}\nis none of:\n{}",
        out.stderr,
        candidates.join("\n")
    );
}

/// Credentials or access tokens that a server issues already expired, or expiring within the
/// 30 s kept for clock skew, are an error (never printed, never cached), for every cloud.
#[test]
fn issued_credentials_that_expire_at_once_are_errors() {
    const CLOCK: &str = "check this machine's clock (`date -u`)";
    // AWS: expired an hour ago.
    let expired = rfc3339_in(-3600);
    let exp = expired.clone();
    let sts = MockServer::start(move |_, _| {
        register_secret(SECRET_KEY);
        register_secret(SESSION_TOKEN);
        sts_ok_with(KEY_ID, SECRET_KEY, SESSION_TOKEN, &exp)
    });
    let (sb, _) = aws_sandbox(&sts.url());
    for _ in 0..2 {
        assert_fails(
            &run(&sb, AWS).out,
            &format!(
                "error: STS at `{}` issued credentials that cannot be used: it expired 1h 0m ago (at {expired})\n  {CLOCK}, and that the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS\n",
                sts.url()
            ),
        );
    }
    assert_eq!(sts.count(), 2, "nothing was cached");

    // AWS: expires in 20 s, inside the skew.
    let soon = rfc3339_in(20);
    let exp = soon.clone();
    let sts = MockServer::start(move |_, _| sts_ok_with(KEY_ID, SECRET_KEY, SESSION_TOKEN, &exp));
    let (sb, _) = aws_sandbox(&sts.url());
    let candidates: Vec<String> = (17..=20)
        .map(|s| format!(
            "error: STS at `{}` issued credentials that cannot be used: it expires in {s}s (at {soon}), within the 30s kept for clock skew\n  {CLOCK}, and that the endpoint (--region, AWS_ENDPOINT_URL_STS) is really STS\n",
            sts.url()
        ))
        .collect();
    assert_fails_with_one_of(&run(&sb, AWS).out, &candidates);

    // Google STS: `expires_in` of 10 s. The expiry is counted from the binary's clock.
    let google = MockServer::start(|_, _| gcp_sts_ok(10));
    let (sb, _) = gcp_sandbox(&google.url(), false);
    let before = now();
    let out = run(&sb, GCP).out;
    let candidates: Vec<String> = (before..=now())
        .flat_map(|t| [9, 10].map(move |left| (t, left)))
        .map(|(t, left)| format!(
            "error: Google STS at `{}/v1/token` issued an access token that cannot be used: it expires in {left}s (at {}), within the 30s kept for clock skew\n  {CLOCK}, and that --token-url (VERCEL_OIDC_GCP_TOKEN_URL) points at Google STS\n",
            google.url(),
            vercel_oidc::timefmt::rfc3339_z(vercel_oidc::timefmt::from_unix_saturating(t + 10))
        ))
        .collect();
    assert_fails_with_one_of(&out, &candidates);

    // IAM Credentials: `expireTime` an hour ago.
    let expired = rfc3339_in(-3600);
    let exp = expired.clone();
    let google = MockServer::start(move |_, req| {
        if req.path == "/v1/token" {
            gcp_sts_ok(3600)
        } else {
            Reply::json(
                200,
                format!(r#"{{"accessToken":"ya29.service-account-token","expireTime":"{exp}"}}"#),
            )
        }
    });
    register_secret("ya29.service-account-token");
    let (sb, _) = gcp_sandbox(&google.url(), true);
    assert_fails(
        &run(&sb, GCP).out,
        &format!(
            "error: IAM Credentials at `{}{}` issued an access token that cannot be used: it expired 1h 0m ago (at {expired})\n  {CLOCK}, and that --impersonation-url (VERCEL_OIDC_GCP_IMPERSONATION_URL) points at IAM Credentials\n",
            google.url(),
            iam_path()
        ),
    );

    // Entra ID: `expires_in` of 5 s.
    register_secret("entra-access-token-value");
    let entra = MockServer::start_tls(|_, _| {
        Reply::json(
            200,
            r#"{"token_type":"Bearer","expires_in":5,"access_token":"entra-access-token-value"}"#,
        )
    });
    let (sb, _) = azure_sandbox(&entra);
    let before = now();
    let out = run(&sb, AZURE).out;
    let candidates: Vec<String> = (before..=now())
        .flat_map(|t| [4, 5].map(move |left| (t, left)))
        .map(|(t, left)| format!(
            "error: Entra ID at `{}{}` issued an access token that cannot be used: it expires in {left}s (at {}), within the 30s kept for clock skew\n  {CLOCK}, and that --authority-host (AZURE_AUTHORITY_HOST) is a Microsoft Entra authority\n",
            entra.url(),
            entra_path(),
            vercel_oidc::timefmt::rfc3339_z(vercel_oidc::timefmt::from_unix_saturating(t + 5))
        ))
        .collect();
    assert_fails_with_one_of(&out, &candidates);
}

/// Each cloud's cached result goes only to the token that got it: the same token is served
/// from the cache, an expired token with the same claims gets the expiry error (not the cached
/// result), and a token with the same claims but another signature is sent to the cloud.
#[test]
fn cached_results_go_only_to_the_token_that_got_them() {
    let google = MockServer::start(|_, _| gcp_sts_ok(3600));
    register_secret("entra-access-token-value");
    let entra = MockServer::start_tls(|_, _| {
        Reply::json(
            200,
            r#"{"token_type":"Bearer","expires_in":3600,"access_token":"entra-access-token-value"}"#,
        )
    });
    let sts = MockServer::start(|_, _| sts_ok(3600));
    let clouds: [(&str, Sandbox, &MockServer, &[&str]); 3] = [
        ("aws", aws_sandbox(&sts.url()).0, &sts, AWS),
        ("gcp", gcp_sandbox(&google.url(), false).0, &google, GCP),
        ("azure", azure_sandbox(&entra).0, &entra, AZURE),
    ];
    let live = claims(now() + 3600);
    let expired = now() - 3600;
    for (cloud, mut sb, server, args) in clouds {
        sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&live));
        for _ in 0..2 {
            let out = run_command(printing(&sb, args), Stdin::Null).out;
            assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{cloud}");
        }
        assert_eq!(
            server.count(),
            1,
            "{cloud}: the same token is served from the cache"
        );

        sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&claims(expired)));
        let at = vercel_oidc::timefmt::from_unix_saturating(expired);
        assert_fails(
            &run(&sb, args).out,
            &format!(
                "error: the Vercel OIDC token from VERCEL_OIDC_TOKEN expired 1h 0m ago (at {})\n  locally, run `vercel link` once and then `vercel env pull` to write a fresh token (valid about 12 hours) to `.env.local`\n",
                vercel_oidc::timefmt::rfc3339_z(at)
            ),
        );
        assert_eq!(
            server.count(),
            1,
            "{cloud}: an expired token is neither served nor sent"
        );

        sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&live));
        let out = run_command(printing(&sb, args), Stdin::Null).out;
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{cloud}");
        assert_eq!(
            server.count(),
            2,
            "{cloud}: the same claims with another signature go to the cloud"
        );
    }
}

// --- class 7: odd `exp` claims --------------------------------------------------------------

/// `exp` of 2^63-1, past u64, 1e300 or a fraction is the far (or given) future, not 1970 and
/// not a type error; a huge negative one is long expired, said plainly.
#[test]
fn huge_negative_and_fractional_exp_claims() {
    let token_with_exp = |exp: &str| {
        let mut c = claims(now() + 3600);
        c["exp"] = serde_json::from_str(exp).unwrap();
        jwt(&c)
    };
    let far = "9999-12-30T23:59:59Z";
    let soon = now() + 3600;
    let valid: &[(&str, String, String)] = &[
        ("2^63-1", i64::MAX.to_string(), far.into()),
        ("2^64-1", u64::MAX.to_string(), far.into()),
        ("1e300", "1e300".into(), far.into()),
        (
            "a fraction",
            format!("{soon}.75"),
            vercel_oidc::timefmt::rfc3339_z(vercel_oidc::timefmt::from_unix_saturating(soon)),
        ),
    ];
    for (name, exp, want) in valid {
        let mut sb = Sandbox::new();
        sb.set(vars::VERCEL_OIDC_TOKEN, token_with_exp(exp));
        let r = run(&sb, &["token", "--json"]);
        assert_eq!((r.out.code, r.out.stderr.as_str()), (0, ""), "{name}");
        let v: serde_json::Value = serde_json::from_str(&r.out.stdout).unwrap();
        assert_eq!(
            (v["expires_at"].as_str(), &v["expired"]),
            (Some(want.as_str()), &serde_json::json!(false)),
            "{name}"
        );
    }
    for (name, exp) in [("-2^63", i64::MIN.to_string()), ("-1e300", "-1e300".into())] {
        let mut sb = Sandbox::new();
        sb.set(vars::VERCEL_OIDC_TOKEN, token_with_exp(&exp));
        let r = run(&sb, &["token", "--json"]);
        let t = vercel_oidc::timefmt::from_unix_saturating(i64::MIN);
        let when = vercel_oidc::timefmt::relative(t, time::OffsetDateTime::now_utc());
        assert_fails(
            &r.out,
            &format!(
                "error: the Vercel OIDC token from VERCEL_OIDC_TOKEN expired {when} (at {})\n  locally, run `vercel link` once and then `vercel env pull` to write a fresh token (valid about 12 hours) to `.env.local`\n",
                vercel_oidc::timefmt::rfc3339_z(t)
            ),
        );
        let _ = name;
    }
}

/// An expiry before the year 0 reads the same in `doctor` as in `token`: long ago, not `in 0s`.
#[test]
fn doctor_words_a_long_past_expiry_as_token_does() {
    let mut c = claims(now() + 3600);
    c["exp"] = serde_json::json!(i64::MIN);
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, jwt(&c));
    let t = vercel_oidc::timefmt::from_unix_saturating(i64::MIN);
    let when = vercel_oidc::timefmt::relative(t, time::OffsetDateTime::now_utc());
    let line = format!(
        "expired      {} ({when})",
        vercel_oidc::timefmt::rfc3339_z(t)
    );
    let expired_line = |stdout: &str, indent: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(indent).filter(|l| l.starts_with("expired")))
            .map(str::to_string)
    };
    let token = run(&sb, &["token"]).out;
    assert_eq!(expired_line(&token.stdout, ""), Some(line.clone()), "token");
    let doctor = run(&sb, &["doctor", "--offline"]).out;
    assert_eq!(doctor.code, 1, "{}", doctor.stderr);
    assert_eq!(expired_line(&doctor.stdout, "  "), Some(line), "doctor");
}

// --- class 8: env output quoting, judged by real shells -------------------------------------

/// Values that would run a command, expand something or end the quoting if a format got its
/// escaping wrong. NUL cannot be in an environment variable and is left out.
const HOSTILE_VALUES: &[&str] = &[
    "`touch pwned-backtick`",
    "$(touch pwned-dollar-paren)",
    "(touch pwned-fish-paren)",
    "${HOME}",
    "$HOME",
    "'; touch pwned-single; '",
    "\"; touch pwned-double; \"",
    "\\`touch pwned-escaped-backtick\\`",
    "\\$(touch pwned-escaped-dollar)",
    "trailing backslash \\",
    "\\\\ two backslashes",
    "a\\nb (backslash n)",
    "real\nnewline; touch pwned-newline",
    "carriage\rreturn",
    "tab\tinside",
    "it's \"mixed\" `all` $of \\them",
    "*",
    "~",
    "!!",
    "-n",
    "%s %n",
    "{a,b}",
    "ünïcödé ✓",
    "",
];

/// The shells that judge each format, and how each reads it: (format, shell, script).
fn shell_readers() -> Vec<(&'static str, &'static str, &'static str)> {
    let mut readers = Vec::new();
    for shell in ["dash", "bash", "zsh"] {
        readers.push(("sh", shell, r#"eval "$(cat ./env)"; printf '%s' "$V""#));
        readers.push(("dotenv", shell, r#"set -a; . ./env; printf '%s' "$V""#));
    }
    readers.push(("fish", "fish", "source ./env; printf '%s' $V"));
    readers
        .into_iter()
        .filter(|(_, shell, _)| which::which(shell).is_ok())
        .collect()
}

/// What a shell reading `format` ends up with for `value`: the value itself, except that the
/// dotenv format writes line breaks as `\n` and `\r`, which a shell keeps as written.
fn read_back(format: &str, value: &str) -> String {
    match format {
        "dotenv" => value.replace('\n', "\\n").replace('\r', "\\r"),
        _ => value.to_string(),
    }
}

/// Sources `text` (the output of one format) in `shell` from an empty folder, and returns what
/// `$V` holds, after checking that nothing was created there. `reveals` are the secrets the
/// script prints.
fn source_in(shell: &str, script: &str, text: &str, case: &str, reveals: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("env"), text).unwrap();
    let args: &[&str] = if shell == "fish" {
        &["--no-config", "-c", script]
    } else {
        &["-c", script]
    };
    // fish writes its own files under HOME: keep them out of the folder that is checked.
    let home = tempfile::tempdir().unwrap();
    let out = common::Run::helper(shell)
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env(vars::HOME, home.path())
        .env(vars::PATH, "/usr/bin:/bin")
        .reveals_all(reveals.iter().copied())
        .output();
    assert_eq!(out.code, 0, "{case}: {shell} failed: {}", out.stderr);
    let made: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "env")
        .collect();
    assert!(
        made.is_empty(),
        "{case}: {shell} ran something and made {made:?}"
    );
    out.stdout
}

/// Every hostile value, rendered in every format and read back by every shell that reads it:
/// nothing runs, and the shell gets the value exactly (dotenv line breaks aside). JSON is read
/// back by a JSON parser.
#[test]
fn env_output_runs_nothing_in_any_shell() {
    use vercel_oidc::output::{EnvFormat, render};
    let readers = shell_readers();
    assert!(readers.len() >= 4, "too few shells here: {readers:?}");
    let mut checked = 0;
    for value in HOSTILE_VALUES {
        for (format, shell, script) in &readers {
            let f = match *format {
                "sh" => EnvFormat::Sh,
                "fish" => EnvFormat::Fish,
                _ => EnvFormat::Dotenv,
            };
            let text = render(&[("V", *value)], f);
            let case = format!("{format} in {shell}, value {value:?}");
            assert_eq!(
                source_in(shell, script, &text, &case, &[]),
                read_back(format, value),
                "{case}"
            );
            checked += 1;
        }
        let json: serde_json::Value =
            serde_json::from_str(&render(&[("V", *value)], EnvFormat::Json)).unwrap();
        assert_eq!(json["V"], *value);
    }
    eprintln!("{checked} (value, format, shell) reads checked");
}

/// End to end: STS answers credentials whose fields would run commands; `aws env` in each
/// format is sourced by each shell, and nothing runs.
#[test]
fn hostile_credentials_from_sts_run_nothing_when_sourced() {
    let (key, secret, session) = (
        "ASIA`touch pwned-key`$(touch pwned-key2)",
        "\"; touch pwned-secret; \"\\",
        "'; touch pwned-session; '`id`",
    );
    let sts = MockServer::start(move |_, _| sts_ok_with(key, secret, session, &rfc3339_in(3600)));
    for (format, shell, _) in shell_readers() {
        let (sb, _) = aws_sandbox(&sts.url());
        let args = [
            "aws",
            "env",
            "--format",
            format,
            "--role-arn",
            ROLE,
            "--no-cache",
        ];
        let printing = sb.command(&args).reveals(secret).reveals(session);
        let r = run_command(printing, Stdin::Null);
        assert_eq!((r.out.code, r.out.stderr.as_str()), (0, ""), "{format}");
        let script = match format {
            "sh" => {
                r#"eval "$(cat ./env)"; printf '%s|%s|%s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN""#
            }
            "dotenv" => {
                r#"set -a; . ./env; printf '%s|%s|%s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN""#
            }
            _ => {
                "source ./env; printf '%s|%s|%s' $AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN"
            }
        };
        let case = format!("aws env --format {format} in {shell}");
        assert_eq!(
            source_in(shell, script, &r.out.stdout, &case, &[secret, session]),
            format!("{key}|{secret}|{session}"),
            "{case}"
        );
    }
}

// --- class 9: `.env.local` as editors and tools leave it --------------------------------------

/// A byte-order mark, `export<TAB>` and bytes that are not UTF-8 on another line do not hide
/// the token in `.env.local`.
#[test]
fn env_local_quirks_still_yield_the_token() {
    type Content = fn(&str) -> Vec<u8>;
    let cases: &[(&str, Content)] = &[
        ("a byte-order mark", |t| {
            format!("\u{feff}VERCEL_OIDC_TOKEN=\"{t}\"\n").into_bytes()
        }),
        ("export and a tab", |t| {
            format!("# Created by Vercel CLI\nexport\tVERCEL_OIDC_TOKEN=\"{t}\"\n").into_bytes()
        }),
        ("invalid UTF-8 on another line", |t| {
            let mut b = b"# Created by Vercel CLI\nGREETING=\"caf\xe9 \xff\xfe\"\n".to_vec();
            b.extend_from_slice(format!("VERCEL_OIDC_TOKEN=\"{t}\"\n").as_bytes());
            b
        }),
    ];
    for (name, content) in cases {
        let sb = Sandbox::new();
        let app = sb.path().join("app");
        std::fs::create_dir_all(app.join(".vercel")).unwrap();
        let token = fresh_token();
        std::fs::write(app.join(".env.local"), content(&token)).unwrap();
        let print = sb
            .command(&["--no-refresh", "token", "--print"])
            .current_dir(&app)
            .reveals(token.clone());
        let r = run_command(print, Stdin::Null);
        assert_eq!(
            (r.out.code, r.out.stdout.as_str(), r.out.stderr.as_str()),
            (0, format!("{token}\n").as_str(), ""),
            "{name}"
        );
    }
}

// --- classes 10 and 11: verify's issuer check and unknown key ids -----------------------------

fn fixture_key(name: &str) -> jsonwebtoken::EncodingKey {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/verify/{name}.der"));
    jsonwebtoken::EncodingKey::from_rsa_der(&std::fs::read(path).unwrap())
}

fn jwk(name: &str, kid: &str) -> serde_json::Value {
    let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(
        &fixture_key(name),
        jsonwebtoken::Algorithm::RS256,
    )
    .unwrap();
    let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = jwk.algorithm else {
        panic!("not an RSA key")
    };
    serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": rsa.n, "e": rsa.e})
}

fn sign(name: &str, kid: &str, claims: &serde_json::Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    let token = jsonwebtoken::encode(&header, claims, &fixture_key(name)).unwrap();
    register_secret(token.clone());
    token
}

/// A stand-in issuer at `<server>/acme` whose discovery names itself `claimed` (its own URL
/// when `None`) and whose JWKS is `keys`, changeable between runs.
struct Issuer {
    server: MockServer,
    keys: Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl Issuer {
    fn start(claimed: Option<fn(&str) -> String>, keys: Vec<serde_json::Value>) -> Self {
        let keys = Arc::new(std::sync::Mutex::new(keys));
        let served = keys.clone();
        let server = MockServer::start(move |_, req| {
            let issuer = format!("http://{}/acme", req.header("host").unwrap());
            match req.path.as_str() {
                "/acme/.well-known/openid-configuration" => Reply::json(
                    200,
                    serde_json::json!({
                        "issuer": claimed.map_or(issuer.clone(), |c| c(&issuer)),
                        "jwks_uri": format!("{issuer}/.well-known/jwks"),
                    })
                    .to_string(),
                ),
                "/acme/.well-known/jwks" => Reply::json(
                    200,
                    serde_json::json!({"keys": *served.lock().unwrap()}).to_string(),
                ),
                _ => Reply::json(404, "{}"),
            }
        });
        Self { server, keys }
    }

    fn url(&self) -> String {
        format!("{}/acme", self.server.url())
    }

    fn claims(&self, iss: &str) -> serde_json::Value {
        let mut c = claims(now() + 3600);
        c["iss"] = iss.into();
        c
    }
}

fn verify_run(sb: &Sandbox, issuer: &str, token: &str) -> Output {
    let args = [
        "verify",
        "--issuer",
        issuer,
        "--audience",
        "https://vercel.com/acme",
        "-",
    ];
    run_command(sb.command(&args), Stdin::Bytes(token.as_bytes().to_vec())).out
}

/// `iss` must be the trusted issuer exactly (one trailing slash aside): surrounding blanks and
/// doubled slashes are refused, in the token and in the discovery document.
#[test]
fn verify_refuses_an_iss_that_is_only_nearly_the_issuer() {
    const NEAR: &str = "the token's `iss` differs from the issuer only by blanks or slashes, which Vercel never adds: the token was not issued by it";
    let issuer = Issuer::start(None, vec![jwk("key1", "k1")]);
    let url = issuer.url();
    let sb = Sandbox::new();
    // The control: the issuer itself, and with one trailing slash, are accepted.
    for iss in [url.clone(), format!("{url}/")] {
        let out = verify_run(&sb, &url, &sign("key1", "k1", &issuer.claims(&iss)));
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{iss}");
    }
    for iss in [
        format!(" {url}"),
        format!("{url} "),
        format!("{url}\t"),
        format!("{url}//"),
    ] {
        let out = verify_run(&sb, &url, &sign("key1", "k1", &issuer.claims(&iss)));
        let shown = iss.replace('\t', "\\t");
        assert_fails(
            &out,
            &format!("error: issuer mismatch: expected `{url}` (found `{shown}`)\n  {NEAR}\n"),
        );
    }
    // A discovery document that names the issuer with a blank after it.
    let issuer = Issuer::start(Some(|own| format!("{own} ")), vec![jwk("key1", "k1")]);
    let url = issuer.url();
    let out = verify_run(
        &Sandbox::new(),
        &url,
        &sign("key1", "k1", &issuer.claims(&url)),
    );
    assert_fails(
        &out,
        &format!(
            "error: discovery issuer mismatch: expected `{url}` (found `{url} ` in `{url}/.well-known/openid-configuration`)\n  pass --issuer exactly as the issuer names itself\n"
        ),
    );
}

/// Sets when the cached JWKS of `sb` was last fetched again for an unknown key id, as if that
/// were `ago` seconds back.
fn age_the_refetch(sb: &Sandbox, ago: i64) {
    let entry = std::fs::read_dir(sb.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("jwks-")
                && p.extension().is_some_and(|e| e == "json")
        })
        .expect("a cached JWKS");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
    v["value"]["refetched_at"] = (now() - ago).into();
    std::fs::write(&entry, v.to_string()).unwrap();
}

/// Unknown key ids refetch the JWKS at most once per issuer every 30 s; in between they are
/// refused from the cached keys with no request, and a real rotation is seen once 30 s have
/// passed since the last refetch.
#[test]
fn unknown_key_ids_refetch_the_jwks_at_most_once_per_interval() {
    let issuer = Issuer::start(None, vec![jwk("key1", "k1")]);
    let url = issuer.url();
    let jwks = format!("{url}/.well-known/jwks");
    let sb = Sandbox::new();
    let claims = issuer.claims(&url);
    let stranger = sign("key3", "k9", &claims);
    let unknown = |known: &str| {
        format!(
            "error: unknown signing key: expected a `kid` of the JWKS at `{jwks}`, one of {known} (found `k9`)\n  the token was not signed by this issuer's keys: check --issuer against the token's `iss` claim\n"
        )
    };

    assert_eq!(verify_run(&sb, &url, &sign("key1", "k1", &claims)).code, 0);
    assert_eq!(issuer.server.count(), 2, "discovery and JWKS");
    // The first unknown kid refetches once...
    assert_fails(&verify_run(&sb, &url, &stranger), &unknown("`k1`"));
    assert_eq!(issuer.server.count(), 3);
    // ...and the next ones within 30 s make no request at all.
    for _ in 0..5 {
        assert_fails(&verify_run(&sb, &url, &stranger), &unknown("`k1`"));
    }
    assert_eq!(issuer.server.count(), 3, "the negative cache answered");
    // The issuer rotates in key2 as `k2` right after that refetch: still unknown within 30 s,
    // accepted once they have passed.
    *issuer.keys.lock().unwrap() = vec![jwk("key1", "k1"), jwk("key2", "k2")];
    let rotated = sign("key2", "k2", &claims);
    let out = verify_run(&sb, &url, &rotated);
    assert_fails(
        &out,
        &unknown("`k1`").replace("(found `k9`)", "(found `k2`)"),
    );
    assert_eq!(issuer.server.count(), 3);
    age_the_refetch(&sb, 31);
    let out = verify_run(&sb, &url, &rotated);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(issuer.server.count(), 4, "one refetch after the interval");
    // A stranger again right after: refused from the new keys, no request.
    assert_fails(&verify_run(&sb, &url, &stranger), &unknown("`k1`, `k2`"));
    assert_eq!(issuer.server.count(), 4);
}

/// `verify`'s discovery may be redirected, but never to plain http off this machine: the
/// redirect is not followed and its location is named.
#[test]
fn verify_does_not_follow_a_redirect_to_plain_http() {
    let server = MockServer::start(|_, _| {
        Reply::redirect(
            302,
            "http://keys.example.invalid/acme/.well-known/openid-configuration",
        )
    });
    let url = format!("{}/acme", server.url());
    let token = sign("key1", "k1", &claims(now() + 3600));
    let out = verify_run(&Sandbox::new(), &url, &token);
    assert_fails(
        &out,
        &format!(
            "error: cannot fetch the OpenID configuration from `{url}/.well-known/openid-configuration`: answered HTTP 302 with a redirect to `http://keys.example.invalid/acme/.well-known/openid-configuration`, which is not followed: a document is fetched only over https (or plain http on this machine), through at most 5 redirects\n  check --issuer, the network, and HTTPS_PROXY/NO_PROXY\n"
        ),
    );
    assert_eq!(server.count(), 1, "no retry");
}

// --- classes 12 and 13: SSL_CERT_FILE without a certificate, --output naming a directory ------

/// An `SSL_CERT_FILE` that holds no certificate is an error naming it, before any request.
#[test]
fn ssl_cert_file_without_a_certificate_is_refused() {
    let cases: &[(&str, &str)] = &[
        ("empty", ""),
        ("text", "this is not a certificate\n"),
        (
            "a private key only",
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n",
        ),
    ];
    let sts = MockServer::start(|_, _| sts_ok(3600));
    for (name, content) in cases {
        let (mut sb, _) = aws_sandbox(&sts.url());
        let path = sb.path().join("bundle.pem");
        std::fs::write(&path, content).unwrap();
        sb.set(vars::SSL_CERT_FILE, path.display().to_string());
        assert_fails(
            &run(&sb, AWS).out,
            &format!(
                "error: SSL_CERT_FILE `{}` holds no certificate (no `-----BEGIN CERTIFICATE-----` block)\n  point SSL_CERT_FILE at a PEM bundle of CA certificates, or unset it\n",
                path.display()
            ),
        );
        let _ = name;
    }
    assert_eq!(sts.count(), 0);
}

/// `gcp configure --output` naming a directory says it must name a file, with an example,
/// and writes nothing.
#[test]
fn gcp_configure_output_naming_a_directory() {
    for given in ["out/", "existing", "existing/"] {
        let mut sb = Sandbox::new();
        std::fs::create_dir(sb.path().join("existing")).unwrap();
        sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
            .set(vars::GCP_PROJECT_NUMBER, "123456789012")
            .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
            .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme");
        let out = run(&sb, &["gcp", "configure", "--output", given]).out;
        let example = Path::new(given).join("credentials.json");
        assert_fails(
            &out,
            &format!(
                "error: --output `{given}` names a directory; it must name the credential file to write\n  add a file name, for example --output {} (or set VERCEL_OIDC_GCP_CREDENTIALS_FILE to a file)\n",
                example.display()
            ),
        );
        assert!(!sb.path().join("out").exists(), "{given}");
        assert_eq!(
            std::fs::read_dir(sb.path().join("existing"))
                .unwrap()
                .count(),
            0,
            "{given}"
        );
    }
}

/// An `expires_in` near 2^63 seconds (past any date) is an unusable answer, not an overflow.
#[test]
fn lifetimes_past_any_date_are_refused() {
    const HUGE: &str = "9223372036854775807";
    let google = MockServer::start(|_, _| {
        Reply::json(
            200,
            format!(r#"{{"access_token":"{STS_TOKEN}","expires_in":{HUGE}}}"#),
        )
    });
    register_secret(STS_TOKEN);
    let (sb, _) = gcp_sandbox(&google.url(), false);
    assert_fails(
        &run(&sb, GCP).out,
        &format!(
            "error: Google STS at `{}/v1/token` answered HTTP 200 with a body it does not send: its `expires_in` ({HUGE}) is past any date\n  check that --token-url (VERCEL_OIDC_GCP_TOKEN_URL) points at Google STS\n",
            google.url()
        ),
    );
    register_secret("entra-access-token-value");
    let entra = MockServer::start_tls(|_, _| {
        Reply::json(
            200,
            format!(
                r#"{{"token_type":"Bearer","expires_in":{HUGE},"access_token":"entra-access-token-value"}}"#
            ),
        )
    });
    let (sb, _) = azure_sandbox(&entra);
    assert_fails(
        &run(&sb, AZURE).out,
        &format!(
            "error: Entra ID at `{}{}` answered HTTP 200 with a body that is not a token response: the response's expires_in ({HUGE}) is past any date\n  check that --authority-host (AZURE_AUTHORITY_HOST) is a Microsoft Entra authority\n",
            entra.url(),
            entra_path()
        ),
    );
}
