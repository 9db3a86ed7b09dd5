//! Local-development token refresh: a stand-in for the Vercel API and its OAuth token endpoint, a
//! stand-in for the Vercel CLI's login file, and a fake `vercel` on PATH.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use vercel_oidc::vars;

use common::*;

const LOGIN: &str = "{\n  \"// Note\": \"This is your Vercel credentials file. DO NOT SHARE!\",\n  \"token\": \"cli-login-token-value\",\n  \"expiresAt\": EXPIRES,\n  \"refreshToken\": \"cli-refresh-token-value\"\n}\n";

struct Project {
    sb: Sandbox,
    app: PathBuf,
    data: PathBuf,
    /// When the token in `.env.local` expired.
    stale_exp: i64,
}

impl Project {
    /// A linked project whose `.env.local` holds an expired token, no `vercel` on PATH.
    fn new(api: &MockServer) -> Self {
        register_secret("cli-login-token-value");
        register_secret("cli-refresh-token-value");
        register_secret("new-cli-token-value");
        register_secret("new-refresh-token-value");
        let mut sb = Sandbox::new();
        let app = sb.path().join("app");
        std::fs::create_dir_all(app.join(".vercel")).unwrap();
        std::fs::write(
            app.join(".vercel/project.json"),
            r#"{"projectId":"prj_web123","orgId":"team_acme123"}"#,
        )
        .unwrap();
        let stale_exp = now() - 3600;
        let stale = jwt(&claims(stale_exp));
        std::fs::write(
            app.join(".env.local"),
            format!("# Created by Vercel CLI\nVERCEL_OIDC_TOKEN=\"{stale}\"\n"),
        )
        .unwrap();
        let data = sb.path().join("data");
        let bin = sb.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        sb.set(vars::XDG_DATA_HOME, data.display().to_string())
            .set(vars::VERCEL_OIDC_API_URL, api.url())
            .set(vars::VERCEL_OIDC_OAUTH_ISSUER, api.url())
            .set(vars::PATH, format!("{}:/usr/bin:/bin", bin.display()));
        Self {
            sb,
            app,
            data,
            stale_exp,
        }
    }

    /// The error for the expired token in `.env.local`, then `more` lines.
    fn expired(&self, more: &str) -> String {
        let source = format!(
            "VERCEL_OIDC_TOKEN in `{}`",
            self.app.join(".env.local").display()
        );
        expired_error(&source, "1h 0m", self.stale_exp, PULL_HINT) + more
    }

    fn login_path(&self) -> PathBuf {
        self.data.join("com.vercel.cli/auth.json")
    }

    fn write_login(&self, expires_at: i64) -> String {
        let text = LOGIN.replace("EXPIRES", &expires_at.to_string());
        std::fs::create_dir_all(self.login_path().parent().unwrap()).unwrap();
        std::fs::write(self.login_path(), &text).unwrap();
        text
    }

    fn store_path(&self) -> PathBuf {
        self.data.join("com.vercel.token/prj_web123.json")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.sb.run_in(&self.app, args)
    }

    /// `token --print`, asked to print `token`.
    fn print(&self, token: &str) -> Output {
        self.sb
            .command(&["token", "--print"])
            .current_dir(&self.app)
            .reveals(token)
            .output()
    }

    /// Installs a fake `vercel` that logs its arguments and prints `{"token": …}` after `delay`.
    fn fake_cli(&self, token: &str, delay: &str, exit: i32) -> PathBuf {
        let log = self.sb.path().join("vercel-calls.log");
        let script = format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nsleep {delay}\nif [ {exit} -ne 0 ]; then echo 'Error: not logged in' >&2; exit {exit}; fi\nprintf '{{\"token\":\"%s\"}}' '{token}'\n",
            log.display()
        );
        let path = self.sb.path().join("bin/vercel");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        log
    }
}

/// The Vercel API and OAuth stand-in. `mint` answers the project-token call; `oauth` the login
/// refresh.
fn vercel_api(minted: String, oauth: Reply, mint_status: u16) -> MockServer {
    let base: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
    let base2 = base.clone();
    let server = MockServer::start(move |_, req| {
        match (req.method.as_str(), req.path.split('?').next().unwrap()) {
            ("GET", "/.well-known/openid-configuration") => Reply::json(
                200,
                format!(
                    r#"{{"issuer":"x","token_endpoint":"{}/login/oauth/token"}}"#,
                    base2.get().unwrap()
                ),
            ),
            ("POST", "/login/oauth/token") => oauth.clone(),
            ("POST", "/v1/projects/prj_web123/token") if mint_status == 200 => {
                Reply::json(200, format!(r#"{{"token":"{minted}"}}"#))
            }
            ("POST", "/v1/projects/prj_web123/token") => Reply::json(
                mint_status,
                r#"{"error":{"code":"forbidden","message":"You don't have access"}}"#,
            ),
            _ => Reply::json(404, "{}"),
        }
    });
    base.set(server.url()).unwrap();
    server
}

fn oauth_ok() -> Reply {
    Reply::json(
        200,
        r#"{"access_token":"new-cli-token-value","token_type":"Bearer","expires_in":86400,"refresh_token":"new-refresh-token-value"}"#,
    )
}

fn fresh_project_token() -> String {
    let mut c = claims(now() + 12 * 3600);
    c["environment"] = "development".into();
    c["sub"] = "owner:acme:project:web:environment:development".into();
    jwt(&c)
}

#[test]
fn an_expired_token_is_refreshed_through_the_api_and_shared() {
    let minted = fresh_project_token();
    let api = vercel_api(minted.clone(), oauth_ok(), 200);
    let project = Project::new(&api);
    let login = project.write_login(now() + 3600);

    let out = project.run(&["token", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["source"]["kind"], "refreshed");
    assert_eq!(v["source"]["via"], "the Vercel API");
    assert_eq!(v["environment"], "development");
    let reqs = api.requests();
    assert_eq!(reqs.len(), 1, "a valid login needs no OAuth refresh");
    assert_eq!(
        reqs[0].path,
        "/v1/projects/prj_web123/token?source=vercel-oidc-refresh&teamId=team_acme123"
    );
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Bearer cli-login-token-value")
    );
    assert_eq!(reqs[0].body, "");

    // Stored where Vercel's JavaScript helpers look, privately.
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.store_path()).unwrap()).unwrap();
    assert_eq!(stored["token"], minted.as_str());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&project.store_path()), 0o600);
    assert_eq!(mode(project.store_path().parent().unwrap()), 0o700);
    assert_eq!(
        std::fs::read_to_string(project.login_path()).unwrap(),
        login,
        "a valid login is left alone"
    );

    // The next caller uses the stored token: no new mint.
    let human = project.run(&["token"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("a token refreshed through the shared token store"),
        "{}",
        human.stdout
    );
    assert_eq!(api.count(), 1);
}

#[test]
fn an_expired_login_is_refreshed_and_saved() {
    let minted = fresh_project_token();
    let api = vercel_api(minted.clone(), oauth_ok(), 200);
    let project = Project::new(&api);
    project.write_login(now() - 60);
    let out = project.run(&["token", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = api.requests();
    let paths: Vec<&str> = reqs
        .iter()
        .map(|r| r.path.split('?').next().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/.well-known/openid-configuration",
            "/login/oauth/token",
            "/v1/projects/prj_web123/token"
        ]
    );
    let form = reqs[1].form();
    assert_eq!(
        form,
        vec![
            (
                "client_id".to_string(),
                "cl_HYyOPBNtFMfHhaUn9L4QPfTZz6TP47bp".to_string()
            ),
            ("grant_type".to_string(), "refresh_token".to_string()),
            (
                "refresh_token".to_string(),
                "cli-refresh-token-value".to_string()
            ),
        ]
    );
    assert_eq!(
        reqs[2].header("authorization"),
        Some("Bearer new-cli-token-value")
    );
    let login: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.login_path()).unwrap()).unwrap();
    assert_eq!(login["token"], "new-cli-token-value");
    assert_eq!(login["refreshToken"], "new-refresh-token-value");
    let expires = login["expiresAt"].as_i64().unwrap();
    assert!(
        (now() + 86000..=now() + 86400).contains(&expires),
        "{expires}"
    );
    assert!(login["// Note"].is_string(), "other fields are kept");
    // The token refreshed is the one minted, and is used from the store from then on.
    let printed = project.print(&minted);
    assert_eq!(
        (printed.stdout, printed.stderr),
        (format!("{minted}\n"), String::new())
    );
    assert_eq!(api.count(), 3);
    assert_eq!(
        std::fs::metadata(project.login_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn a_failed_login_refresh_leaves_the_login_file_byte_for_byte() {
    let api = vercel_api(
        fresh_project_token(),
        Reply::json(400, r#"{"error":"invalid_grant"}"#),
        200,
    );
    let project = Project::new(&api);
    let before = project.write_login(now() - 60);
    let out = project.run(&["token", "--json"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert_eq!(
        out.stderr,
        project.expired(&format!(
            "  automatic refresh failed: the Vercel CLI login in `{}` has expired and could not be refreshed: HTTP 400 (invalid_grant)\n  run `vercel login` (the login file was left as it was)\n",
            project.login_path().display()
        ))
    );
    assert_eq!(
        std::fs::read_to_string(project.login_path()).unwrap(),
        before
    );
    assert!(!project.store_path().exists());
}

#[test]
fn a_refused_mint_leaves_the_login_alone_and_says_why() {
    let api = vercel_api(String::new(), oauth_ok(), 403);
    let project = Project::new(&api);
    let before = project.write_login(now() + 3600);
    let out = project.run(&["token"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("did not mint a token for project `prj_web123`: HTTP 403"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("You don't have access"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(project.login_path()).unwrap(),
        before
    );
}

#[test]
fn no_login_and_no_cli_says_what_to_do() {
    let api = vercel_api(String::new(), oauth_ok(), 200);
    let project = Project::new(&api);
    let out = project.run(&["token"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("no Vercel CLI login found"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("vercel login"), "{}", out.stderr);
    assert_eq!(api.count(), 0);
}

#[test]
fn the_vercel_cli_is_used_when_on_path() {
    let api = vercel_api(String::new(), oauth_ok(), 200);
    let project = Project::new(&api);
    let minted = fresh_project_token();
    let log = project.fake_cli(&minted, "0", 0);
    let out = project.run(&["token", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["source"]["via"], "`vercel project token`");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "project token --format=json --scope=team_acme123 -- prj_web123\n"
    );
    assert_eq!(api.count(), 0);
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.store_path()).unwrap()).unwrap();
    assert_eq!(stored["token"], minted.as_str());
    let printed = project.print(&minted);
    assert_eq!(
        (printed.stdout, printed.stderr),
        (format!("{minted}\n"), String::new())
    );
}

#[test]
fn a_failing_cli_falls_back_to_the_login_and_reports_the_cli_when_both_fail() {
    let minted = fresh_project_token();
    let api = vercel_api(minted, oauth_ok(), 200);
    let project = Project::new(&api);
    project.fake_cli("unused", "0", 1);
    let out = project.run(&["token"]);
    assert_eq!(out.code, 1, "no login file either");
    assert!(
        out.stderr.contains("`vercel project token` failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Error: not logged in"),
        "{}",
        out.stderr
    );
    project.write_login(now() + 3600);
    let out = project.run(&["token"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.count(), 1);
}

#[test]
fn sixteen_concurrent_callers_mint_one_token() {
    let api = vercel_api(String::new(), oauth_ok(), 200);
    let project = Project::new(&api);
    let minted = fresh_project_token();
    let log = project.fake_cli(&minted, "0.3", 0);
    let runs: Vec<Running> = (0..16)
        .map(|_| {
            let print = project.sb.command(&["token", "--print"]);
            print
                .current_dir(&project.app)
                .reveals(minted.clone())
                .spawn()
        })
        .collect();
    for out in runs.into_iter().map(Running::wait) {
        assert_eq!(
            (out.code, out.stdout, out.stderr),
            (0, format!("{minted}\n"), String::new())
        );
    }
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
}

#[test]
fn no_refresh_flag_unlinked_projects_and_builds_never_refresh() {
    let api = vercel_api(fresh_project_token(), oauth_ok(), 200);
    let project = Project::new(&api);
    project.write_login(now() + 3600);
    let out = project.run(&["--no-refresh", "token"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, project.expired(""));
    let mut in_build = Project::new(&api);
    in_build.write_login(now() + 3600);
    in_build.sb.set(vars::VERCEL, "1");
    assert_eq!(in_build.run(&["token"]).code, 1);
    let mut env_off = Project::new(&api);
    env_off.write_login(now() + 3600);
    env_off.sb.set(vars::VERCEL_OIDC_NO_REFRESH, "1");
    assert_eq!(env_off.run(&["token"]).code, 1);
    assert_eq!(api.count(), 0);
    std::fs::remove_file(project.app.join(".vercel/project.json")).unwrap();
    let unlinked = project.run(&["token"]);
    assert_eq!(unlinked.code, 1);
    assert!(
        !unlinked.stderr.contains("automatic refresh"),
        "{}",
        unlinked.stderr
    );
    assert_eq!(api.count(), 0);
}

#[test]
fn a_missing_token_in_a_linked_project_is_fetched() {
    let api = vercel_api(fresh_project_token(), oauth_ok(), 200);
    let project = Project::new(&api);
    std::fs::remove_file(project.app.join(".env.local")).unwrap();
    project.write_login(now() + 3600);
    let out = project.run(&["token", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.count(), 1);
}

#[test]
fn credential_process_exchanges_the_refreshed_token() {
    let minted = fresh_project_token();
    let api = vercel_api(minted.clone(), oauth_ok(), 200);
    let sts = MockServer::start(|_, _| sts_credentials("ASIAREFRESHED", 3600));
    let mut project = Project::new(&api);
    project.write_login(now() + 3600);
    project.sb.set(vars::AWS_ENDPOINT_URL_STS, sts.url());
    let out = project
        .sb
        .command(&[
            "aws",
            "credential-process",
            "--role-arn",
            "arn:aws:iam::123456789012:role/r",
        ])
        .current_dir(&project.app)
        .reveals_all(sts_secrets("ASIAREFRESHED"))
        .output();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        sts.requests()[0].form_value("WebIdentityToken"),
        Some(minted)
    );
    assert_eq!(
        sts.requests()[0].form_value("RoleSessionName").as_deref(),
        Some("vercel-web-development")
    );
}

#[test]
fn a_stored_token_we_cannot_trust_is_minted_anew() {
    let mut other_project = claims(now() + 12 * 3600);
    other_project["project_id"] = "prj_attacker".into();
    let other_project = jwt(&other_project);
    let planted = fresh_project_token();
    register_secret(planted.clone());
    register_secret(other_project.clone());
    type Plant = fn(&Path, &str, &str);
    let mut cases: Vec<(&str, Plant)> = vec![
        ("others may write it", |store, planted, _| {
            std::fs::write(store, format!(r#"{{"token":"{planted}"}}"#)).unwrap();
            std::fs::set_permissions(store, std::fs::Permissions::from_mode(0o666)).unwrap();
        }),
        ("a symlink", |store, planted, _| {
            let theirs = store.with_file_name("elsewhere.json");
            std::fs::write(&theirs, format!(r#"{{"token":"{planted}"}}"#)).unwrap();
            std::os::unix::fs::symlink(&theirs, store).unwrap();
        }),
        ("a token of another project", |store, _, other| {
            std::fs::write(store, format!(r#"{{"token":"{other}"}}"#)).unwrap();
        }),
        ("a FIFO", |store, _, _| {
            let c = std::ffi::CString::new(store.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }),
    ];
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cases.push(("owned by another user", |store, planted, _| {
            std::fs::write(store, format!(r#"{{"token":"{planted}"}}"#)).unwrap();
            std::os::unix::fs::chown(store, Some(4242), None).unwrap();
        }));
    }
    for (case, plant) in cases {
        let minted = fresh_project_token();
        let api = vercel_api(minted.clone(), oauth_ok(), 200);
        let project = Project::new(&api);
        project.write_login(now() + 3600);
        std::fs::create_dir_all(project.store_path().parent().unwrap()).unwrap();
        plant(&project.store_path(), &planted, &other_project);
        let out = project
            .sb
            .command(&["token", "--print"])
            .current_dir(&project.app)
            .reveals(minted.clone())
            .output_within(Duration::from_secs(20));
        assert_eq!(out.code, 0, "{case}: {}", out.stderr);
        assert_eq!(out.stdout, format!("{minted}\n"), "{case}");
        assert_eq!(api.count(), 1, "{case}: minted anew");
    }
}

#[test]
fn the_store_vercels_own_helper_writes_group_writable_is_used() {
    let api = vercel_api(fresh_project_token(), oauth_ok(), 200);
    let project = Project::new(&api);
    let stored = fresh_project_token();
    register_secret(stored.clone());
    let store = project.store_path();
    std::fs::create_dir_all(store.parent().unwrap()).unwrap();
    std::fs::write(&store, format!(r#"{{"token":"{stored}"}}"#)).unwrap();
    // As @vercel/oidc leaves it: 0660 in a 0770 directory less the umask.
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o660)).unwrap();
    std::fs::set_permissions(
        store.parent().unwrap(),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    let out = project.print(&stored);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{stored}\n"));
    assert_eq!(api.count(), 0);
}

/// Installs `script` as the fake `vercel` on PATH.
fn fake_cli_script(project: &Project, script: &str) {
    let path = project.sb.path().join("bin/vercel");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn what_a_failing_cli_says_is_redacted_and_escaped() {
    let api = vercel_api(fresh_project_token(), oauth_ok(), 200);
    let project = Project::new(&api);
    register_secret("vca_SuperSecretLoginToken1");
    fake_cli_script(
        &project,
        "#!/bin/sh\nprintf 'Error: Bearer vca_SuperSecretLoginToken1 refused \\033[31mred\\033[0m\\n' >&2\nexit 1\n",
    );
    let out = project.run(&["token"]);
    assert_eq!(out.code, 1, "no login file either");
    assert!(
        !out.stderr.contains('\u{1b}'),
        "no raw escape: {:?}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("it exited with exit status: 1: Error: Bearer [redacted] refused "),
        "{}",
        out.stderr
    );
}

#[test]
fn a_cli_that_leaves_a_process_holding_its_output_does_not_hold_us() {
    let minted = fresh_project_token();
    let api = vercel_api(minted.clone(), oauth_ok(), 200);
    let project = Project::new(&api);
    project.write_login(now() + 3600);
    fake_cli_script(
        &project,
        &format!("#!/bin/sh\n(sleep 8) &\nprintf '{{\"token\":\"%s\"}}' '{minted}'\n"),
    );
    let started = Instant::now();
    let out = project.print(&minted);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!("{minted}\n"),
        "the login's mint took over"
    );
    assert_eq!(api.count(), 1);
}

#[test]
fn a_redirect_that_echoes_the_login_token_does_not_show_it() {
    let api = MockServer::start(|_, req| {
        if req.path.starts_with("/v1/projects/") {
            Reply::redirect(307, "https://elsewhere.example/login/cli-login-token-value")
        } else {
            Reply::json(404, "{}")
        }
    });
    let project = Project::new(&api);
    project.write_login(now() + 3600);
    // Sandbox::run fails the test if the login token reaches stderr.
    let out = project.run(&["token"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("`https://elsewhere.example/login/[redacted]`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_wait_for_another_refresh_is_said_except_where_stderr_must_stay_empty() {
    let api = vercel_api(String::new(), oauth_ok(), 200);
    let mut project = Project::new(&api);
    project
        .sb
        .set(
            vars::GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE,
            "urn:ietf:params:oauth:token-type:jwt",
        )
        .set("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE", "//iam.googleapis.com/x");
    let spawn = |args: &[&str], minted: &str| {
        project
            .sb
            .command(args)
            .current_dir(&project.app)
            .reveals(minted)
            .spawn()
    };
    for (args, silent) in [
        (&["token", "--json"][..], false),
        (&["gcp", "executable-source"], true),
    ] {
        let _ = std::fs::remove_file(project.store_path());
        let minted = fresh_project_token();
        let log = project.fake_cli(&minted, "3", 0);
        let _ = std::fs::remove_file(&log);
        // The holder has the refresh lock once it runs `vercel`, which takes 3 seconds.
        let holder = spawn(&["token", "--json"], &minted);
        let holder_pid = holder.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !log.exists() {
            assert!(Instant::now() < deadline, "`vercel` never ran");
            std::thread::sleep(Duration::from_millis(10));
        }
        let waiter = spawn(args, &minted);
        let (held, waited) = (holder.wait(), waiter.wait());
        assert_eq!(held.code, 0);
        assert_eq!(waited.code, 0, "{args:?}: {}", waited.stderr);
        let lock = std::fs::read_dir(project.sb.cache_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("refresh-")
            })
            .unwrap();
        let want = if silent {
            String::new()
        } else {
            format!(
                "vercel-oidc: waiting for process {}, which holds `{}` (at most 30 seconds)\n",
                holder_pid,
                lock.display()
            )
        };
        assert_eq!(waited.stderr, want, "{args:?}");
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
    }
}
