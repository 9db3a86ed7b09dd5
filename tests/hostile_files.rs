//! Hostile input that reaches files: values that would inject lines into the AWS config file,
//! concurrent editors of one file, files or directories on disk that someone else planted, and
//! waits behind a lock that another process holds.
//! Each case runs the real binary and checks the exit code, stdout, the error and what is left
//! on disk.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vercel_oidc::vars;

use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/vercel-deploy";

/// An AWS config file with comments and other profiles, and a sandbox pointed at it.
fn aws_config_sandbox() -> (Sandbox, PathBuf, String) {
    let mut sb = Sandbox::new();
    let config = sb.home().join(".aws/config");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let before = "# managed by hand\n[default]\nregion = us-east-1\n\n; other tools\n[profile other]\noutput = json\n".to_string();
    std::fs::write(&config, &before).unwrap();
    sb.set(vars::AWS_CONFIG_FILE, config.display().to_string())
        .set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    (sb, config, before)
}

/// The first line of `stderr`.
fn first_line(stderr: &str) -> &str {
    stderr.lines().next().unwrap_or("")
}

#[test]
fn concurrent_aws_configure_keeps_every_profile_and_line() {
    let (sb, config, before) = aws_config_sandbox();
    let children: Vec<Running> = (0..32)
        .map(|i| {
            sb.command(&[
                "aws",
                "configure",
                "--profile",
                &format!("p{i:02}"),
                "--role-arn",
                ROLE,
            ])
            .spawn()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            first_line(&out.stderr),
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
                sb.set(vars::AWS_ROLE_ARN, evil);
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
            sb.set(vars::AWS_ENDPOINT_URL_STS, server.url());
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
    sb.unset(vars::VERCEL_OIDC_TOKEN);
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

/// Runs `aws configure --profile ci` on a config file holding `before`; returns the run, the
/// file's path, and the sandbox that holds it.
fn configure_ci(before: &str) -> (Output, PathBuf, Sandbox) {
    let (sb, config, _) = aws_config_sandbox();
    std::fs::write(&config, before).unwrap();
    let out = sb.run(&["aws", "configure", "--profile", "ci", "--role-arn", ROLE]);
    (out, config, sb)
}

/// The `credential_process` line that `configure` reported writing.
fn written_command(stderr: &str) -> &str {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("  credential_process = "))
        .unwrap_or_else(|| panic!("no credential_process in:\n{stderr}"))
}

#[test]
fn aws_configure_edits_the_profile_botocore_reads_in_every_shape() {
    // {cp} stands for the credential_process line written.
    for (shape, before, verb, after) in [
        (
            "CR-only line ends",
            "[default]\rregion = a\r[profile ci]\rcredential_process = old\r",
            "updated",
            "[default]\rregion = a\r[profile ci]\rcredential_process = {cp}\r",
        ),
        (
            "CRLF line ends, a new profile",
            "[default]\r\nregion = a\r\n",
            "added",
            "[default]\r\nregion = a\r\n\r\n[profile ci]\r\ncredential_process = {cp}\r\n",
        ),
        (
            "`:`, upper case and indentation",
            "[profile ci]\n  output = json\n  CREDENTIAL_PROCESS: old\n  region = a\n[profile x]\n",
            "updated",
            "[profile ci]\n  output = json\n  credential_process = {cp}\n  region = a\n[profile x]\n",
        ),
        (
            "blanks between the words of the header",
            "[profile  ci ]\nregion = a\n\n[default]\n",
            "updated",
            "[profile  ci ]\nregion = a\ncredential_process = {cp}\n\n[default]\n",
        ),
    ] {
        let (out, config, _sb) = configure_ci(before);
        assert_eq!(out.code, 0, "{shape}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{shape}");
        assert_eq!(
            first_line(&out.stderr),
            format!("{verb} profile `ci` in `{}`", config.display()),
            "{shape}"
        );
        let want = after.replace("{cp}", written_command(&out.stderr));
        assert_eq!(std::fs::read_to_string(&config).unwrap(), want, "{shape}");
    }
}

#[test]
fn aws_configure_refuses_files_botocore_reads_otherwise_and_changes_nothing() {
    for (shape, before, message) in [
        (
            "blanks inside the brackets",
            "[default]\nregion = a\n\n[ profile ci ]\ncredential_process = /bin/old\n",
            "line 4, `[ profile ci ]`, looks like profile `ci`, but botocore does not read it as that profile: it keeps the blanks inside the brackets as part of the name\n  write it as `[profile ci]`, then run again",
        ),
        (
            "a continuation line after credential_process",
            "[profile ci]\r\ncredential_process = /bin/old\r\n  --really-old\r\n",
            "line 3 is indented below `credential_process` (line 2), so botocore reads it as part of that value and would add it to the value written here\n  remove the line, or its indentation if it is a setting of its own, then run again",
        ),
        (
            "a line botocore cannot read, CR-only",
            "[default]\rregion = a\rnot a setting\r",
            "line 3 is not a `[section]` header, a `key = value` setting or a comment, so botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again",
        ),
        (
            "two sections for the profile",
            "[profile ci]\nregion = a\n[profile\tci]\n",
            "lines 1 and 3 both open profile `ci`, and botocore reads only the last\n  merge them into one section, then run again",
        ),
    ] {
        let (out, config, _sb) = configure_ci(before);
        assert_eq!(out.code, 1, "{shape}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{shape}");
        assert_eq!(
            out.stderr,
            format!(
                "error: the AWS config file `{}` is left as it is: {message}\n",
                config.display()
            ),
            "{shape}"
        );
        assert_eq!(std::fs::read_to_string(&config).unwrap(), before, "{shape}");
        assert_eq!(
            file_names(config.parent().unwrap()),
            [".config.vercel-oidc.lock", "config"],
            "{shape}: no temporary file left"
        );
    }
}

#[test]
fn gcp_configure_refuses_a_directory_others_may_write_to() {
    let server = MockServer::start(|_, _| Reply::json(500, "{}"));
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel");
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

/// A sandbox whose STS hands out `ASIAREALKEY000001` and whose cache holds that answer; returns
/// the path of the one cache entry.
fn cached_sandbox(server: &MockServer) -> (Sandbox, PathBuf) {
    let mut sb = Sandbox::new();
    sb.set(vars::AWS_ENDPOINT_URL_STS, server.url())
        .set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = credential_process(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let entry = std::fs::read_dir(sb.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    (sb, entry)
}

/// The cache entry at `entry` with the attacker's key id in place of the real one.
fn planted(entry: &Path) -> String {
    std::fs::read_to_string(entry)
        .unwrap()
        .replace("ASIAREALKEY000001", "ASIAATTACKER00001")
}

fn key_id(out: &Output) -> String {
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect(&out.stderr);
    v["AccessKeyId"].as_str().unwrap().to_string()
}

fn credential_process(sb: &Sandbox) -> Output {
    revealing(sb, &["aws", "credential-process", "--role-arn", ROLE]).output()
}

/// A run of the binary with `args` that may print the credentials of `ASIAREALKEY000001`.
fn revealing(sb: &Sandbox, args: &[&str]) -> Run {
    sb.command(args)
        .reveals_all(sts_secrets("ASIAREALKEY000001"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn cache_entries_we_did_not_write_are_never_served() {
    type Plant = fn(&Path, &str);
    let mut cases: Vec<(&str, Plant)> = vec![
        ("group and others may write it", |entry, text| {
            std::fs::write(entry, text).unwrap();
            std::fs::set_permissions(entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        }),
        ("a symlink to the attacker's file", |entry, text| {
            let theirs = entry.with_file_name("attacker.json");
            std::fs::write(&theirs, text).unwrap();
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::fs::remove_file(entry).unwrap();
            std::os::unix::fs::symlink(&theirs, entry).unwrap();
        }),
    ];
    if is_root() {
        cases.push(("owned by another user", |entry, text| {
            std::fs::write(entry, text).unwrap();
            std::os::unix::fs::chown(entry, Some(4242), Some(4242)).unwrap();
        }));
    }
    for (case, plant) in cases {
        let server = MockServer::start(|_, _| sts_credentials("ASIAREALKEY000001", 3600));
        let (sb, entry) = cached_sandbox(&server);
        plant(&entry, &planted(&entry));
        let out = credential_process(&sb);
        assert_eq!(out.code, 0, "{case}: {}", out.stderr);
        assert_eq!(key_id(&out), "ASIAREALKEY000001", "{case}");
        assert_eq!(server.count(), 2, "{case}: fetched again instead");
        // The fetch replaced what was planted with an entry of ours, served from then on.
        let meta = std::fs::symlink_metadata(&entry).unwrap();
        assert!(meta.is_file(), "{case}");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{case}");
        assert_eq!(key_id(&credential_process(&sb)), "ASIAREALKEY000001");
        assert_eq!(server.count(), 2, "{case}");
    }
}

#[test]
fn a_cache_directory_others_may_write_to_is_refused() {
    let server = MockServer::start(|_, _| sts_credentials("ASIAREALKEY000001", 3600));
    let (mut sb, entry) = cached_sandbox(&server);
    let shared = sb.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let planted_entry = shared.join(entry.file_name().unwrap());
    std::fs::write(&planted_entry, planted(&entry)).unwrap();
    std::fs::set_permissions(&planted_entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    sb.set(vars::VERCEL_OIDC_CACHE_DIR, shared.display().to_string());
    let out = credential_process(&sb);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "error: will not use the credential cache: other users may write to the directory `{}` (mode 0777) and could replace what is in it\n  make the directory yours and private (`chmod 700`), point VERCEL_OIDC_CACHE_DIR at a private directory, or pass --no-cache\n",
            shared.display()
        )
    );
    assert_eq!(
        std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777,
        0o777,
        "a directory the user chose is not changed"
    );
    let out = revealing(
        &sb,
        &[
            "aws",
            "credential-process",
            "--role-arn",
            ROLE,
            "--no-cache",
        ],
    )
    .output();
    assert_eq!(
        key_id(&out),
        "ASIAREALKEY000001",
        "--no-cache gets around it"
    );
    if is_root() {
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(&shared, Some(4242), None).unwrap();
        let out = credential_process(&sb);
        assert_eq!(out.code, 1);
        assert_eq!(out.stdout, "");
        assert_eq!(
            first_line(&out.stderr),
            format!(
                "error: will not use the credential cache: the directory `{}` belongs to uid 4242, not to you (uid 0), so its owner could replace what is in it",
                shared.display()
            )
        );
    }
}

#[test]
fn our_default_cache_directory_is_tightened_when_its_mode_drifts() {
    let server = MockServer::start(|_, _| sts_credentials("ASIAREALKEY000001", 3600));
    let (sb, entry) = cached_sandbox(&server);
    std::fs::write(&entry, planted(&entry)).unwrap();
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::set_permissions(sb.cache_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = credential_process(&sb);
    assert_eq!(key_id(&out), "ASIAREALKEY000001");
    assert_eq!(
        std::fs::metadata(sb.cache_dir())
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o700
    );
}

#[test]
fn fifos_and_links_in_the_cache_never_hang_or_redirect() {
    let server = MockServer::start(|_, _| sts_credentials("ASIAREALKEY000001", 3600));
    let (sb, entry) = cached_sandbox(&server);
    let lock = entry.with_extension("lock");
    std::fs::remove_file(&entry).unwrap();
    mkfifo(&entry);
    let _ = std::fs::remove_file(&lock);
    let elsewhere = sb.path().join("elsewhere");
    std::os::unix::fs::symlink(&elsewhere, &lock).unwrap();
    let args = ["aws", "credential-process", "--role-arn", ROLE];
    let out = revealing(&sb, &args).output_within(Duration::from_secs(20));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(key_id(&out), "ASIAREALKEY000001");
    assert!(!elsewhere.exists(), "the lock's symlink was not followed");
    // A FIFO at the lock path does not hang either.
    std::fs::remove_file(&lock).unwrap();
    mkfifo(&lock);
    std::fs::remove_file(&entry).unwrap();
    let out = revealing(&sb, &args).output_within(Duration::from_secs(20));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn temporary_files_that_killed_writers_left_are_removed() {
    let server = MockServer::start(|_, _| sts_credentials("ASIAREALKEY000001", 3600));
    let (sb, _) = cached_sandbox(&server);
    let stale = sb.cache_dir().join(".vercel-oidc-killed.tmp");
    let young = sb.cache_dir().join(".vercel-oidc-writing.tmp");
    let foreign = sb.cache_dir().join("notes.tmp");
    for p in [&stale, &young, &foreign] {
        std::fs::write(p, "{\"half\":").unwrap();
    }
    let old = std::time::SystemTime::now() - Duration::from_secs(120);
    for p in [&stale, &foreign] {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    // A cold exchange writes the cache, and clears up after the writers that were killed.
    let out = revealing(
        &sb,
        &[
            "aws",
            "credential-process",
            "--role-arn",
            ROLE,
            "--session-name",
            "other",
        ],
    )
    .output();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!stale.exists());
    assert!(
        young.exists(),
        "a file another writer may still be writing stays"
    );
    assert!(foreign.exists(), "what is not ours stays");
}

#[test]
fn temporary_files_dated_in_the_future_are_removed_too() {
    let server = MockServer::start(|_, _| sts_credentials("ASIAREALKEY000001", 3600));
    let (sb, _) = cached_sandbox(&server);
    // A clock set back a day leaves a killed writer's file dated a day ahead; a file system
    // whose clock runs a few seconds ahead dates a live writer's file a little ahead.
    let ahead = sb
        .cache_dir()
        .join(".vercel-oidc-killed-before-the-clock-went-back.tmp");
    let skewed = sb.cache_dir().join(".vercel-oidc-writing-on-nfs.tmp");
    let now = std::time::SystemTime::now();
    for (p, by) in [(&ahead, 86_400), (&skewed, 3)] {
        std::fs::write(p, "{\"half\":").unwrap();
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(now + Duration::from_secs(by))
            .unwrap();
    }
    let out = revealing(
        &sb,
        &[
            "aws",
            "credential-process",
            "--role-arn",
            ROLE,
            "--session-name",
            "other",
        ],
    )
    .output();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!ahead.exists(), "a day ahead is as stale as a day old");
    assert!(skewed.exists(), "a few seconds ahead is young");
}

#[test]
fn a_caller_behind_a_stopped_lock_holder_says_once_which_process_it_waits_for() {
    let gate = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let open = gate.clone();
    let server = MockServer::start(move |_, _| {
        while !open.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        sts_credentials("ASIAREALKEY000001", 3600)
    });
    let mut sb = Sandbox::new();
    sb.set(vars::AWS_ENDPOINT_URL_STS, server.url())
        .set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let args = ["aws", "credential-process", "--role-arn", ROLE];
    // The holder takes the cache's lock, asks STS, and is stopped before the answer comes.
    let holder = revealing(&sb, &args).spawn();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.count() == 0 {
        assert!(std::time::Instant::now() < deadline, "no request to STS");
        std::thread::sleep(Duration::from_millis(10));
    }
    holder.signal(libc::SIGSTOP);
    gate.store(true, std::sync::atomic::Ordering::SeqCst);
    let lock = std::fs::read_dir(sb.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "lock"))
        .unwrap();

    // The waiter says once which process it waits for; still stopped a while after that, the
    // holder is let go, and the waiter is served what the holder fetched.
    let waiter = revealing(&sb, &args).spawn();
    let said = format!(
        "vercel-oidc: waiting for process {}, which holds `{}` (at most 30 seconds)\n",
        holder.id(),
        lock.display()
    );
    assert_eq!(waiter.wait_for_stderr(&said, HANG), said);
    std::thread::sleep(Duration::from_secs(2));
    holder.signal(libc::SIGCONT);
    let held = holder.wait();
    assert_eq!((held.code, held.stderr.as_str()), (0, ""));
    let out = waiter.wait();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, held.stdout.as_str(), said.as_str()),
        "served from the cache, said once"
    );
    assert_eq!(server.count(), 1);
}

#[test]
fn aws_configure_behind_a_held_config_lock_says_which_process_and_goes_on() {
    use std::os::unix::fs::OpenOptionsExt as _;
    let (sb, config, _) = aws_config_sandbox();
    let lock = config.parent().unwrap().join(".config.vercel-oidc.lock");
    // Held here, with this process's id written in it, as every holder of ours does.
    let held = std::fs::File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .mode(0o600)
        .open(&lock)
        .unwrap();
    held.lock().unwrap();
    std::io::Write::write_all(&mut &held, format!("{}\n", std::process::id()).as_bytes()).unwrap();
    let mut child = sb
        .command(&["aws", "configure", "--profile", "ci", "--role-arn", ROLE])
        .spawn();
    let waiting = format!(
        "vercel-oidc: waiting for process {}, which holds `{}` (at most 30 seconds)\n",
        std::process::id(),
        lock.display(),
    );
    assert_eq!(child.wait_for_stderr(&waiting, HANG), waiting);
    assert!(child.is_running(), "it waits for the lock");
    assert!(
        !std::fs::read_to_string(&config)
            .unwrap()
            .contains("[profile ci]"),
        "nothing is written while another holds the lock"
    );
    drop(held);
    let out = child.wait();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr),
        (
            0,
            "",
            format!(
                "{waiting}added profile `ci` in `{}`\n  credential_process = {BIN} aws credential-process --role-arn {ROLE}\ntry: aws sts get-caller-identity --profile ci\n",
                config.display()
            )
        )
    );
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("[profile ci]")
    );
}
