//! Hostile neighbours and hostile ids: files another local user planted on the walk up from the
//! project or named for us, ids in `.vercel/project.json` shaped to reach a path, a URL or an
//! argument list, and folders above a file we write that someone else could swap. Each case
//! runs the real binary and checks the exit code, stdout, stderr and what is left on disk.
//!
//! "Another user" is uid 4242: the files are made by this test and handed over with `chown`, so
//! the cases that need it run only as root (as CI does).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use vercel_oidc::vars;

use common::*;

const OTHER: u32 = 4242;
const ROLE: &str = "arn:aws:iam::123456789012:role/victim";
const ATTACKER_ROLE: &str = "arn:aws:iam::999999999999:role/attacker";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Hands `path` to uid 4242 (and its group).
fn give_away(path: &Path) {
    std::os::unix::fs::chown(path, Some(OTHER), Some(OTHER)).unwrap();
}

/// A sandbox with a shared folder (sticky and world-writable, as `/tmp`) holding the victim's
/// project `shared/proj`; returns the sandbox, the shared folder and the project.
fn shared_sandbox() -> (Sandbox, PathBuf, PathBuf) {
    let sb = Sandbox::new();
    let shared = sb.path().join("shared");
    let proj = shared.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    chmod(&shared, 0o1777);
    (sb, shared, proj)
}

/// Writes `content` to `dir/name` as uid 4242 would have.
fn plant(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
        if parent != dir {
            give_away(parent);
        }
    }
    std::fs::write(&path, content).unwrap();
    give_away(&path);
    path
}

/// The one warning about `file`, owned by uid 4242, in the shared folder `folder`.
fn skipped_line(file: &Path, folder: &Path) -> String {
    format!(
        "vercel-oidc: warning: not using `{}`: it belongs to uid {OTHER}, not to you (uid 0) or root; {}\n",
        file.display(),
        shared_fix(folder)
    )
}

/// What to do about another user's file in the shared folder `folder`: never to trust the
/// folder, which would trust every neighbour.
fn shared_fix(folder: &Path) -> String {
    format!(
        "it is not yours and lies in `{}`, which others share: delete it if you did not put it there, and keep your own files in a folder only you can write",
        folder.display()
    )
}

/// A sandbox with a fresh token and the settings `gcp configure` needs.
fn gcp_sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel");
    sb
}

/// A run of the binary in `dir`, which may print the credentials of the victim's STS (key ids
/// `ASIAVICTIM…`).
fn run_in(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    sb.command(args)
        .current_dir(dir)
        .reveals_where(|secret| secret.contains("ASIAVICTIM"))
        .output()
}

fn sts(server: &MockServer) -> String {
    server.url()
}

#[test]
fn another_users_env_local_above_the_project_never_supplies_the_token() {
    if !is_root() {
        return;
    }
    let (sb, shared, proj) = shared_sandbox();
    let theirs = jwt(&claims(now() + 3600));
    let planted = plant(
        &shared,
        ".env.local",
        &format!("VERCEL_OIDC_TOKEN=\"{theirs}\"\n"),
    );
    let out = run_in(&sb, &proj, &["token", "--json"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    let (warning, error) = out.stderr.split_at(out.stderr.find("error:").unwrap());
    assert_eq!(warning, skipped_line(&planted, &shared));
    assert!(
        error.starts_with("error: no Vercel OIDC token found"),
        "{error}"
    );

    // Group-writable by a group that is not the owner's own, or writable by others: also
    // passed over, whoever owns it.
    std::os::unix::fs::chown(&planted, Some(0), Some(OTHER)).unwrap();
    chmod(&planted, 0o664);
    let out = run_in(&sb, &proj, &["token", "--json"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with(&format!(
            "vercel-oidc: warning: not using `{0}`: it may be written by group {OTHER} (mode 0664); make it writable by its owner alone (`chmod go-w {0}`)\n",
            planted.display(),
        )),
        "{}",
        out.stderr
    );
    std::os::unix::fs::chown(&planted, Some(0), Some(0)).unwrap();
    chmod(&planted, 0o646);
    let out = run_in(&sb, &proj, &["token", "--json"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("may be written by other users (mode 0646)")
    );

    // Root's own file there, closed to others, is used.
    chmod(&planted, 0o644);
    let out = run_in(&sb, &proj, &["token", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
}

#[test]
fn another_users_config_above_the_project_never_chooses_the_role() {
    if !is_root() {
        return;
    }
    let server = MockServer::start(|_, _| sts_credentials("ASIAVICTIM0000001", 3600));
    let (mut sb, shared, proj) = shared_sandbox();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::AWS_ENDPOINT_URL_STS, sts(&server));
    let planted = plant(
        &shared,
        "vercel-oidc.toml",
        &format!("[aws]\nrole_arn = \"{ATTACKER_ROLE}\"\n"),
    );
    let out = run_in(&sb, &proj, &["aws", "credential-process"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with(&skipped_line(&planted, &shared)),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("no role to assume"), "{}", out.stderr);
    assert_eq!(server.count(), 0, "the token went nowhere");

    // A role of the user's own wins as before; the planted file plays no part.
    let out = run_in(
        &sb,
        &proj,
        &["aws", "credential-process", "--role-arn", ROLE],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sent = &server.requests()[0];
    assert_eq!(sent.form_value("RoleArn").as_deref(), Some(ROLE));

    // Vouching for the folder, as git's safe.directory does, makes the file count.
    sb.set(vars::VERCEL_OIDC_SAFE_DIRS, shared.display().to_string());
    sb.set(vars::VERCEL_OIDC_NO_CACHE, "1");
    let out = run_in(&sb, &proj, &["aws", "credential-process"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    let sent = server.requests().pop().unwrap();
    assert_eq!(sent.form_value("RoleArn").as_deref(), Some(ATTACKER_ROLE));
}

#[test]
fn another_users_link_above_the_project_never_mints_or_writes() {
    if !is_root() {
        return;
    }
    let api = MockServer::start(|_, _| Reply::json(200, r#"{"token":"x"}"#));
    let (mut sb, shared, proj) = linked_in_shared(&api);
    let victim_file = sb.path().join("data/victim.json");
    std::fs::create_dir_all(victim_file.parent().unwrap()).unwrap();
    std::fs::write(&victim_file, "{\"keep\":1}").unwrap();
    let planted = plant(
        &shared,
        ".vercel/project.json",
        r#"{"projectId":"prj_attacker","orgId":"team_attacker"}"#,
    );
    sb.unset(vars::VERCEL_OIDC_TOKEN);
    let out = run_in(&sb, &proj, &["token", "--json"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    let folder = shared.join(".vercel");
    assert!(
        out.stderr.starts_with(&format!(
            "vercel-oidc: warning: not using `{}`: the folder `{1}` belongs to uid {OTHER}, not to you (uid 0) or root; if you trust uid {OTHER}, set VERCEL_OIDC_SAFE_DIRS={1}\n",
            planted.display(),
            folder.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(api.count(), 0, "no token was minted for their project");
    assert_eq!(
        std::fs::read_to_string(&victim_file).unwrap(),
        "{\"keep\":1}"
    );
}

/// A sandbox with a Vercel CLI login whose API is `api`, and a shared folder above the project.
fn linked_in_shared(api: &MockServer) -> (Sandbox, PathBuf, PathBuf) {
    register_secret("cli-login-token-value");
    let (mut sb, shared, proj) = shared_sandbox();
    let data = sb.path().join("data");
    let login = data.join("com.vercel.cli/auth.json");
    std::fs::create_dir_all(login.parent().unwrap()).unwrap();
    std::fs::write(
        &login,
        format!(
            r#"{{"token":"cli-login-token-value","expiresAt":{}}}"#,
            now() + 3600
        ),
    )
    .unwrap();
    sb.set(vars::XDG_DATA_HOME, data.display().to_string())
        .set(vars::VERCEL_OIDC_API_URL, api.url())
        .set(vars::VERCEL_OIDC_OAUTH_ISSUER, api.url())
        .set(vars::PATH, "/usr/bin:/bin");
    (sb, shared, proj)
}

#[test]
fn the_walk_stops_at_the_linked_projects_root_for_every_file() {
    let server = MockServer::start(|_, _| sts_credentials("ASIAVICTIM0000002", 3600));
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::AWS_ENDPOINT_URL_STS, sts(&server));
    let app = sb.path().join("repo/app");
    std::fs::create_dir_all(app.join(".vercel")).unwrap();
    std::fs::write(
        sb.path().join("repo/vercel-oidc.toml"),
        format!("[aws]\nrole_arn = \"{ROLE}\"\n"),
    )
    .unwrap();
    let out = run_in(&sb, &app, &["aws", "credential-process"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("no role to assume"), "{}", out.stderr);
    // The same file beside `.vercel/` is found, from any folder below.
    std::fs::rename(
        sb.path().join("repo/vercel-oidc.toml"),
        app.join("vercel-oidc.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(app.join("src/deep")).unwrap();
    let out = run_in(&sb, &app.join("src/deep"), &["aws", "credential-process"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // A repository's root is a boundary too.
    std::fs::create_dir_all(sb.path().join("mono/.git")).unwrap();
    std::fs::create_dir_all(sb.path().join("mono/pkg")).unwrap();
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        format!("[aws]\nrole_arn = \"{ROLE}\"\n"),
    )
    .unwrap();
    let out = run_in(
        &sb,
        &sb.path().join("mono/pkg"),
        &["aws", "credential-process"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("no role to assume"), "{}", out.stderr);
}

#[test]
fn root_in_a_checkout_of_another_uid_trusts_that_checkout() {
    if !is_root() {
        return;
    }
    // A container run as root over a checkout cloned by uid 4242.
    let server = MockServer::start(|_, _| sts_credentials("ASIAVICTIM0000003", 3600));
    let mut sb = Sandbox::new();
    sb.set(vars::AWS_ENDPOINT_URL_STS, sts(&server));
    let checkout = sb.path().join("checkout");
    std::fs::create_dir_all(checkout.join("src")).unwrap();
    plant(
        &checkout,
        "vercel-oidc.toml",
        &format!("[aws]\nrole_arn = \"{ROLE}\"\n"),
    );
    plant(
        &checkout,
        ".env.local",
        &format!("VERCEL_OIDC_TOKEN=\"{}\"\n", fresh_token()),
    );
    give_away(&checkout.join("src"));
    give_away(&checkout);
    let out = run_in(&sb, &checkout.join("src"), &["aws", "credential-process"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert_eq!(
        server.requests()[0].form_value("RoleArn").as_deref(),
        Some(ROLE)
    );
}

#[test]
fn files_named_for_us_get_the_same_ownership_check() {
    if !is_root() {
        return;
    }
    let (mut sb, shared, proj) = shared_sandbox();
    let config = plant(
        &shared,
        "their.toml",
        &format!("[aws]\nrole_arn = \"{ATTACKER_ROLE}\"\n"),
    );
    let token_file = plant(&shared, "their-token", &fresh_token());
    let config_refused = format!(
        "error: will not read the project config `{0}`: `{0}` belongs to uid {OTHER}, not to you (uid 0) or root, so another user could have written it\n  {1}\n",
        config.display(),
        shared_fix(&shared)
    );
    let path = config.to_str().unwrap();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = run_in(&sb, &proj, &["aws", "credential-process", "--config", path]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(out.stderr, config_refused);
    sb.set(vars::VERCEL_OIDC_CONFIG, path);
    let out = run_in(&sb, &proj, &["aws", "credential-process"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(out.stderr, config_refused);
    sb.unset(vars::VERCEL_OIDC_CONFIG);

    let token_path = token_file.to_str().unwrap();
    let out = run_in(&sb, &proj, &["token", "--json", "--token-file", token_path]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr,
        format!(
            "error: will not read the Vercel OIDC token from --token-file `{0}`: `{0}` belongs to uid {OTHER}, not to you (uid 0) or root, so another user could have written it\n  {1}\n",
            token_file.display(),
            shared_fix(&shared)
        )
    );
    sb.set(vars::VERCEL_OIDC_TOKEN_FILE, token_path);
    let out = run_in(&sb, &proj, &["token", "--json"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert!(
        out.stderr
            .starts_with("error: will not read the Vercel OIDC token from VERCEL_OIDC_TOKEN_FILE"),
        "{}",
        out.stderr
    );
    // The same file of the user's own, in a folder of theirs, is read.
    let mine = proj.join("token");
    std::fs::write(&mine, fresh_token()).unwrap();
    sb.set(vars::VERCEL_OIDC_TOKEN_FILE, mine.display().to_string());
    let out = run_in(&sb, &proj, &["token", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn doctor_names_each_file_it_passed_over() {
    if !is_root() {
        return;
    }
    let (mut sb, shared, proj) = shared_sandbox();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let planted = plant(&shared, "vercel-oidc.toml", "[aws]\n");
    let out = run_in(&sb, &proj, &["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        report["skipped"],
        serde_json::json!([{
            "file": planted.display().to_string(),
            "owner": OTHER,
            "problem": format!("`{}` belongs to uid {OTHER}, not to you (uid 0) or root", planted.display()),
            "fix": shared_fix(&shared),
        }])
    );
    let out = run_in(&sb, &proj, &["doctor"]);
    assert!(
        out.stdout.contains(&format!(
            "passed over `{}` (owner uid {OTHER}): {}",
            planted.display(),
            shared_fix(&shared)
        )),
        "{}",
        out.stdout
    );
}

// --- ids in .vercel/project.json ---

/// A linked project whose `project.json` holds `json`, with a Vercel API stand-in that records
/// every request, a fake `vercel` on PATH that logs its argv, and no token.
fn linked_with(json: &str) -> (Sandbox, MockServer, PathBuf, PathBuf) {
    let api = MockServer::start(|_, _| Reply::json(200, r#"{"token":"x"}"#));
    let (mut sb, app) = linked_project(&api);
    std::fs::write(app.join(".vercel/project.json"), json).unwrap();
    std::fs::remove_file(app.join(".env.local")).unwrap();
    let bin = sb.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = sb.path().join("vercel-argv.log");
    let cli = bin.join("vercel");
    std::fs::write(
        &cli,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\" >> '{}'; done\nexit 1\n",
            log.display()
        ),
    )
    .unwrap();
    chmod(&cli, 0o755);
    sb.set(vars::PATH, format!("{}:/usr/bin:/bin", bin.display()));
    (sb, api, app, log)
}

#[test]
fn ids_that_are_not_vercels_never_reach_a_path_a_url_or_argv() {
    let cases = [
        (
            r#"{"projectId":"prj_x/../../../victim","orgId":"team_a"}"#,
            "its `projectId` `prj_x/../../../victim` is not an id Vercel issues (`prj_` then letters and digits)",
        ),
        (
            r#"{"projectId":"../victim?x=","orgId":"team_a"}"#,
            "its `projectId` `../victim?x=` is not an id Vercel issues (`prj_` then letters and digits)",
        ),
        (
            r#"{"projectId":"--help","orgId":"team_a"}"#,
            "its `projectId` `--help` is not an id Vercel issues (`prj_` then letters and digits)",
        ),
        (
            r#"{"projectId":"prj_ok","orgId":"--token=stolen"}"#,
            "its `orgId` `--token=stolen` is not an id Vercel issues (`team_` then letters and digits, or a user id of letters and digits)",
        ),
        (
            r#"{"projectId":"prj_ok","orgId":"team_a&source=evil"}"#,
            "its `orgId` `team_a&source=evil` is not an id Vercel issues (`team_` then letters and digits, or a user id of letters and digits)",
        ),
        (
            r#"{"projectId":"prj_ok\u001b[2J","orgId":"team_a"}"#,
            "its `projectId` `prj_ok\\x1b[2J` is not an id Vercel issues (`prj_` then letters and digits)",
        ),
    ];
    for (json, problem) in cases {
        let (sb, api, app, log) = linked_with(json);
        let victim = sb.path().join("data/victim.json");
        std::fs::write(&victim, "{\"keep\":1}").unwrap();
        let out = run_in(&sb, &app, &["token", "--json"]);
        assert_eq!(out.code, 1, "{json}");
        assert_eq!(out.stdout, "");
        assert_eq!(
            out.stderr,
            format!(
                "error: no Vercel OIDC token found (looked at --token-file, VERCEL_OIDC_TOKEN_FILE, VERCEL_OIDC_TOKEN and `.env.local` from `{}` up to the project root)\n  locally, run `vercel link` once and then `vercel env pull` to write a fresh token (valid about 12 hours) to `.env.local`\n  automatic refresh failed: cannot read `{}`: {problem}\n  run `vercel link` again to re-link this project\n",
                app.display(),
                app.join(".vercel/project.json").display()
            ),
            "{json}"
        );
        assert_eq!(api.count(), 0, "{json}");
        assert!(!log.exists(), "{json}: the Vercel CLI was not run");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "{\"keep\":1}");
        assert!(!sb.path().join("data/com.vercel.token").exists());
    }
}

#[test]
fn good_ids_reach_the_cli_after_a_double_dash_and_the_api_encoded() {
    let (sb, api, app, log) = linked_with(r#"{"projectId":"prj_web123","orgId":"AbCuser42"}"#);
    let out = run_in(&sb, &app, &["token", "--json"]);
    assert_eq!(out.code, 1, "the stand-ins mint nothing usable");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "[project][token][--format=json][--scope=AbCuser42][--][prj_web123]"
    );
    assert_eq!(
        api.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>(),
        ["POST /v1/projects/prj_web123/token?source=vercel-oidc-refresh&teamId=AbCuser42"]
    );
}

// --- every folder above a file we write ---

/// `<sandbox>/theirs/ours/<name>`: a folder of ours inside a folder of uid 4242's, who could
/// rename `ours` and put their own in its place.
fn inside_theirs(sb: &Sandbox, name: &str) -> (PathBuf, PathBuf) {
    let theirs = sb.path().join("theirs");
    let ours = theirs.join("ours");
    std::fs::create_dir_all(&ours).unwrap();
    chmod(&ours, 0o700);
    give_away(&theirs);
    (theirs, ours.join(name))
}

fn above_refusal(theirs: &Path, target: &Path) -> String {
    format!(
        "the folder `{}` belongs to uid {OTHER}, not to you (uid 0) or root, so whoever can write it could replace `{}`",
        theirs.display(),
        target.parent().unwrap().display()
    )
}

#[test]
fn files_another_program_trusts_are_never_written_below_someone_elses_folder() {
    if !is_root() {
        return;
    }
    let mut sb = gcp_sandbox();
    sb.set(
        vars::AZURE_TENANT_ID,
        "00000000-0000-0000-0000-000000000000",
    )
    .set(
        vars::AZURE_CLIENT_ID,
        "11111111-1111-1111-1111-111111111111",
    );

    let (theirs, creds) = inside_theirs(&sb, "creds.json");
    let out = sb.run(&["gcp", "configure", "--output", creds.to_str().unwrap()]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains(&above_refusal(&theirs, &creds)),
        "{}",
        out.stderr
    );
    assert!(!creds.exists());

    let token_file = creds.with_file_name("azure-token");
    let out = sb.run(&[
        "azure",
        "configure",
        "--federated-token-file",
        token_file.to_str().unwrap(),
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains(&above_refusal(&theirs, &token_file)),
        "{}",
        out.stderr
    );
    assert!(!token_file.exists());

    let response = creds.with_file_name("response.json");
    sb.set(
        vars::GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE,
        response.display().to_string(),
    );
    let out = sb.run(&["gcp", "executable-source"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "");
    let failure: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(failure["code"], "OUTPUT_FILE_UNWRITABLE");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains(&above_refusal(&theirs, &response)),
        "{failure}"
    );
    assert!(!response.exists());
    sb.unset(vars::GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE);

    let aws_config = creds.with_file_name("config");
    sb.set(vars::AWS_CONFIG_FILE, aws_config.display().to_string());
    let out = sb.run(&["aws", "configure", "--profile", "ci", "--role-arn", ROLE]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains(&above_refusal(&theirs, &aws_config)),
        "{}",
        out.stderr
    );
    assert!(!aws_config.exists());
}

#[test]
fn a_folder_others_may_write_anywhere_above_is_refused_and_a_sticky_one_is_not() {
    let sb = gcp_sandbox();
    let open = sb.path().join("open");
    let deep = open.join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    chmod(&open, 0o777);
    let target = deep.join("creds.json");
    let out = sb.run(&["gcp", "configure", "--output", target.to_str().unwrap()]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "the folder `{}` may be written by other users (mode 0777), so whoever can write it could replace `{}`",
            open.display(),
            deep.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!target.exists());
    chmod(&open, 0o1777);
    let out = sb.run(&["gcp", "configure", "--output", target.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(target.exists());
}

// --- review findings: checks that cannot be made, links on the way, ordinary users ---

#[test]
fn a_link_no_check_can_follow_is_never_trusted() {
    if !is_root() {
        return;
    }
    // Their `.vercel` is a link into a folder nested past PATH_MAX: the kernel opens what lies
    // there, but no name for it can be resolved, so nothing about it can be checked.
    let api = MockServer::start(|_, _| Reply::json(200, r#"{"token":"x"}"#));
    let (mut sb, shared, proj) = linked_in_shared(&api);
    let deep = sb.path().join("deep");
    std::fs::create_dir(&deep).unwrap();
    // 21 folders of 200 bytes, reached through two links of 10 and 11 of them: each link is
    // short enough to make, the place they lead to is past PATH_MAX.
    let script = r#"
import os, sys
os.chdir(sys.argv[1])
part = "d" * 200
for i in range(21):
    os.mkdir(part)
    os.chdir(part)
    if i == 9:
        os.symlink("/".join([part] * 11), "L2")
with open("project.json", "w") as f:
    f.write('{"projectId":"prj_attacker"}')
os.chdir(sys.argv[1])
os.symlink("/".join([part] * 10), "L1")
"#;
    let made = Run::helper("python3")
        .args(["-c", script, deep.to_str().unwrap()])
        .output();
    assert_eq!(made.code, 0, "{made:?}");
    let chown = Run::helper("chown")
        .args([
            "-R",
            "-h",
            &format!("{OTHER}:{OTHER}"),
            deep.to_str().unwrap(),
        ])
        .output();
    assert_eq!((chown.code, chown.stderr.as_str()), (0, ""));
    std::os::unix::fs::symlink("../deep/L1/L2", shared.join(".vercel")).unwrap();
    std::os::unix::fs::lchown(shared.join(".vercel"), Some(OTHER), Some(OTHER)).unwrap();
    assert!(
        shared.join(".vercel/project.json").is_file(),
        "the kernel reaches it"
    );
    assert!(
        shared.join(".vercel").canonicalize().is_err(),
        "no name for it resolves"
    );
    sb.unset(vars::VERCEL_OIDC_TOKEN);
    let out = run_in(&sb, &proj, &["token", "--json"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert!(
        out.stderr.starts_with(&format!(
            "vercel-oidc: warning: not using `{}/.vercel/project.json`: ",
            shared.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(api.count(), 0, "no token was minted for their project");
}

#[test]
fn a_folder_we_write_through_a_link_is_checked_where_the_link_points() {
    let sb = gcp_sandbox();
    let team = sb.path().join("team");
    let mine = team.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    chmod(&team, 0o777);
    let link = sb.home().join("creds");
    std::os::unix::fs::symlink(&mine, &link).unwrap();
    let target = link.join("gcp.json");
    let out = sb.run(&["gcp", "configure", "--output", target.to_str().unwrap()]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "the folder `{}` may be written by other users (mode 0777), so whoever can write it could replace `{}`",
            team.display(),
            link.display()
        )),
        "{}",
        out.stderr
    );
    assert!(file_names(&mine).is_empty(), "nothing written");
}

#[test]
fn a_folder_of_the_owners_own_group_is_not_written_by_others() {
    if !is_root() {
        return;
    }
    // `umask 002` with user private groups: ~/.aws is 0775, its group the owner's own.
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let aws = sb.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::os::unix::fs::chown(&aws, Some(0), Some(0)).unwrap();
    chmod(&aws, 0o775);
    chmod(&sb.home(), 0o775);
    let config = aws.join("config");
    sb.set(vars::AWS_CONFIG_FILE, config.display().to_string());
    let out = sb.run(&["aws", "configure", "--profile", "ci", "--role-arn", ROLE]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(config.exists());
    // Another group's write bit is another writer.
    std::fs::remove_file(&config).unwrap();
    std::os::unix::fs::chown(&aws, Some(0), Some(OTHER)).unwrap();
    let out = sb.run(&["aws", "configure", "--profile", "ci", "--role-arn", ROLE]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
    assert!(!config.exists());
}

#[test]
fn a_user_who_is_not_root_gets_the_same_rule() {
    if !is_root() {
        return;
    }
    // A laptop user (uid 4243) whose project sits in a shared folder where uid 4242 planted a
    // config: no checkout owner is trusted for an ordinary user.
    const ME: u32 = 4243;
    let server = MockServer::start(|_, _| sts_credentials("ASIAVICTIM0000009", 3600));
    let (mut sb, shared, proj) = shared_sandbox();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::AWS_ENDPOINT_URL_STS, sts(&server));
    for dir in [sb.path().to_path_buf(), sb.home(), proj.clone()] {
        std::os::unix::fs::chown(&dir, Some(ME), Some(ME)).unwrap();
    }
    let planted = plant(
        &shared,
        "vercel-oidc.toml",
        &format!("[aws]\nrole_arn = \"{ATTACKER_ROLE}\"\n"),
    );
    let mine = proj.join("vercel-oidc.toml");
    std::fs::write(&mine, format!("[aws]\nrole_arn = \"{ROLE}\"\n")).unwrap();
    std::os::unix::fs::chown(&mine, Some(ME), Some(ME)).unwrap();
    let run = |dir: &Path| {
        use std::os::unix::process::CommandExt;
        let out = sb
            .command(&["aws", "credential-process"])
            .current_dir(dir)
            .with(|cmd| {
                cmd.uid(ME).gid(ME);
            })
            .reveals_where(|secret| secret.contains("ASIAVICTIM"))
            .output();
        (out.code, out.stderr)
    };
    // Their file above is passed over, whoever runs the walk from the shared folder.
    let sub = shared.join("other");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::chown(&sub, Some(ME), Some(ME)).unwrap();
    let (code, stderr) = run(&sub);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "vercel-oidc: warning: not using `{}`: it belongs to uid {OTHER}, not to you (uid {ME}) or root; {}\n",
            planted.display(),
            shared_fix(&shared)
        )),
        "{stderr}"
    );
    assert_eq!(server.count(), 0);
    // The user's own file in the project is used.
    let (code, stderr) = run(&proj);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        server.requests()[0].form_value("RoleArn").as_deref(),
        Some(ROLE)
    );
}

#[test]
fn the_executable_source_says_in_its_answer_what_it_passed_over() {
    if !is_root() {
        return;
    }
    let (sb, shared, proj) = shared_sandbox();
    let planted = plant(
        &shared,
        ".env.local",
        &format!("VERCEL_OIDC_TOKEN=\"{}\"\n", fresh_token()),
    );
    let out = run_in(&sb, &proj, &["gcp", "executable-source"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr, "",
        "its clients read stderr as part of the answer"
    );
    let failure: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(failure["code"], "TOKEN_NOT_FOUND");
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.ends_with(&format!(
            "\n  not using `{}`: it belongs to uid {OTHER}, not to you (uid 0) or root; {}",
            planted.display(),
            shared_fix(&shared)
        )),
        "{message}"
    );
}

#[test]
fn a_path_from_outside_cannot_forge_a_line_of_an_error() {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let dir = sb.path().join("x\nerror: all is well");
    std::fs::create_dir(&dir).unwrap();
    let config = dir.join("vercel-oidc.toml");
    std::fs::write(&config, "[aws\n").unwrap();
    let out = sb.run(&["doctor", "--offline", "--config", config.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    let shown = format!(
        "{}/x\\nerror: all is well/vercel-oidc.toml",
        sb.path().display()
    );
    assert!(out.stdout.contains(&shown), "{}", out.stdout);
    assert!(
        !out.stdout
            .lines()
            .any(|l| l.starts_with("error: all is well")),
        "{}",
        out.stdout
    );
    let out = sb.run(&[
        "aws",
        "credential-process",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr.lines().next().unwrap(),
        format!("error: invalid project config `{shown}`: TOML parse error at line 1, column 5")
    );
}

#[test]
fn another_users_link_on_the_way_to_a_file_we_write_is_refused() {
    if !is_root() {
        return;
    }
    // Their link in a shared folder points at a folder of ours today; they can repoint it
    // tomorrow, and the credential file names the path through it.
    let sb = gcp_sandbox();
    let shared = sb.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o1777);
    let mine = sb.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    let link = shared.join("out");
    std::os::unix::fs::symlink(&mine, &link).unwrap();
    std::os::unix::fs::lchown(&link, Some(OTHER), Some(OTHER)).unwrap();
    let target = link.join("creds.json");
    let out = sb.run(&["gcp", "configure", "--output", target.to_str().unwrap()]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "the folder `{}` belongs to uid {OTHER}, not to you (uid 0) or root, so whoever can write it could replace `{}`",
            link.display(),
            link.display()
        )),
        "{}",
        out.stderr
    );
    assert!(file_names(&mine).is_empty(), "nothing written");
    // The same link of the user's own is followed, and checked where it leads.
    std::os::unix::fs::lchown(&link, Some(0), Some(0)).unwrap();
    let out = sb.run(&["gcp", "configure", "--output", target.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn a_checkout_cloned_with_umask_0000_is_used_once_vouched_for() {
    // GitLab's Docker executor clones with umask 0000: every file 0666, every folder 0777.
    let server = MockServer::start(|_, _| sts_credentials("ASIAVICTIM0000010", 3600));
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::AWS_ENDPOINT_URL_STS, sts(&server));
    let checkout = sb.path().join("builds/app");
    std::fs::create_dir_all(&checkout).unwrap();
    chmod(&checkout, 0o777);
    let config = checkout.join("vercel-oidc.toml");
    std::fs::write(&config, format!("[aws]\nrole_arn = \"{ROLE}\"\n")).unwrap();
    chmod(&config, 0o666);
    let out = run_in(&sb, &checkout, &["aws", "credential-process"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with(&format!(
            "vercel-oidc: warning: not using `{0}`: the folder `{1}` may be written by other users (mode 0777); make it writable by its owner alone (`chmod go-w {1}`), or, where no other user can reach these files (a CI container), set VERCEL_OIDC_SAFE_DIRS={1}\n",
            config.display(),
            checkout.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(server.count(), 0);
    sb.set(vars::VERCEL_OIDC_SAFE_DIRS, checkout.display().to_string());
    let out = run_in(&sb, &checkout, &["aws", "credential-process"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert_eq!(
        server.requests()[0].form_value("RoleArn").as_deref(),
        Some(ROLE)
    );
}
