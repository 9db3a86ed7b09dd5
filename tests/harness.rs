//! The test harness itself: every run's output is checked against every secret its test's world
//! has issued, in every form a leak could take, and no test starts a process any other way.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;
use vercel_oidc::vars;

use common::*;

const SECRET: &str = "harness/Secret+Key=1 ok";

/// The message of the panic `f` ends in, or `None` when it does not panic.
fn panic_message(f: impl FnOnce()) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(f)).err()?;
    Some(
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

/// `sh -c script`, with `LEAK` set to `value`.
fn sh(script: &str, value: &str) -> Run {
    Run::program("sh").args(["-c", script]).env("LEAK", value)
}

/// The form of [`SECRET`] a check names when `printed` shows: the first that `printed` holds (the
/// padded base64 holds the unpadded one).
fn first_form_in(printed: &str) -> String {
    forms(SECRET)
        .into_iter()
        .find(|f| printed.contains(f.as_str()))
        .expect("a form of the secret")
}

#[test]
fn a_secret_takes_every_form_a_leak_could_take() {
    assert_eq!(
        forms(SECRET),
        [
            "aGFybmVzcy9TZWNyZXQrS2V5PTEgb2s",
            "aGFybmVzcy9TZWNyZXQrS2V5PTEgb2s=",
            "harness%2FSecret%2BKey%3D1%20ok",
            "harness%2FSecret%2BKey%3D1+ok",
            "harness%2fSecret%2bKey%3d1%20ok",
            "harness/Secret+Key=1 ok",
            "harness\\/Secret+Key=1 ok",
        ]
    );
    assert_eq!(
        forms("line\n\"quoted\"\\"),
        [
            "bGluZQoicXVvdGVkIlw",
            "bGluZQoicXVvdGVkIlw=",
            "line\n\"quoted\"\\",
            "line%0A%22quoted%22%5C",
            "line%0a%22quoted%22%5c",
            "line\\n\\\"quoted\\\"\\\\",
        ]
    );
}

#[test]
fn a_secret_on_stderr_fails_the_run_in_every_form() {
    register_secret(SECRET);
    for form in forms(SECRET) {
        let message = panic_message(|| {
            sh("printf '%s' \"$LEAK\" >&2", &form).output();
        });
        let found = first_form_in(&form);
        assert_eq!(
            message,
            Some(format!(
                "`sh`: a secret leaked into stderr as `{found}`:\n{form}"
            ))
        );
    }
}

#[test]
fn a_secret_on_stdout_fails_the_run_unless_it_was_asked_for() {
    register_secret(SECRET);
    for form in forms(SECRET) {
        let message = panic_message(|| {
            sh("printf '%s' \"$LEAK\"", &form).output();
        });
        let found = first_form_in(&form);
        assert_eq!(
            message,
            Some(format!(
                "`sh`: a secret it was not asked for leaked into stdout as `{found}`:\n{form}"
            ))
        );
        let out = sh("printf '%s' \"$LEAK\"", &form).reveals(SECRET).output();
        assert_eq!((out.code, out.stdout, out.stderr), (0, form, String::new()));
    }
    // Asked for on stdout, it is still a leak on stderr.
    let message = panic_message(|| {
        sh("printf '%s' \"$LEAK\" >&2", SECRET)
            .reveals(SECRET)
            .output();
    });
    assert_eq!(
        message,
        Some(format!(
            "`sh`: a secret leaked into stderr as `{SECRET}`:\n{SECRET}"
        ))
    );
}

#[test]
fn a_run_in_a_world_that_issued_no_secret_fails() {
    let message = panic_message(|| {
        Run::program("true").output();
    });
    assert_eq!(
        message.as_deref(),
        Some(
            "`true`: this test has issued no secret, so the leak check of its output proves \
             nothing; give the run something it must keep to itself (a token from fresh_token() \
             or jwt(), credentials from sts_credentials(), or register_secret())"
        )
    );
}

#[test]
fn a_run_dropped_unwaited_is_checked_too() {
    register_secret(SECRET);
    let message = panic_message(|| {
        let run = sh("printf '%s' \"$LEAK\" >&2; exec sleep 30", SECRET).spawn();
        run.wait_for_stderr(SECRET, Duration::from_secs(20));
        drop(run);
    });
    assert_eq!(
        message,
        Some(format!(
            "`sh`: a secret leaked into stderr as `{SECRET}`:\n{SECRET}"
        ))
    );
}

/// What a stand-in server hands out is registered in the test's world before its answer leaves:
/// the credentials that `credential-process` prints count as a leak unless the run was asked
/// for them.
#[test]
fn what_a_stand_in_server_issues_is_registered_before_the_answer_leaves() {
    let server = MockServer::start(|_, _| sts_credentials("ASIAHARNESS00001", 3600));
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::AWS_ENDPOINT_URL_STS, server.url())
        .set(vars::VERCEL_OIDC_NO_CACHE, "1");
    let args = [
        "aws",
        "credential-process",
        "--role-arn",
        "arn:aws:iam::123456789012:role/harness",
    ];
    let secret = "ASIAHARNESS00001/wJalrXUtnFEMIK7MDENGbPxRfiCYSECRET";
    let message = panic_message(|| {
        sb.run(&args);
    })
    .unwrap();
    assert!(
        message.starts_with(&format!(
            "`{BIN}`: a secret it was not asked for leaked into stdout as `{secret}`:\n{{\"Version\":1,"
        )),
        "{message}"
    );
    let out = sb
        .command(&args)
        .reveals(secret)
        .reveals("FwoGZXIvYXdzSESSIONASIAHARNESS00001secret")
        .output();
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// No test file builds a `std::process::Command` or forks: each process goes through `Run`.
#[test]
fn no_test_starts_a_process_but_through_the_runner() {
    let needles = [
        concat!("Command", "::new("),
        concat!("process", "::Command;"),
        concat!("process", "::Command::"),
        concat!("process", "::{Command"),
        concat!("libc::", "fork"),
    ];
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&tests).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if needles.iter().any(|needle| line.contains(needle)) {
                let name = path.file_name().unwrap().to_string_lossy();
                found.push(format!("tests/{name}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert_eq!(
        found,
        Vec::<String>::new(),
        "start processes with Sandbox::command, Sandbox::program or Run::program (tests/common/run.rs)"
    );
}

#[test]
fn a_jwts_signature_alone_is_a_leak() {
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
    register_secret(jwt);
    let signature = "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
    let message = panic_message(|| {
        sh("printf 'sig=%s' \"$LEAK\" >&2", signature).output();
    });
    assert_eq!(
        message,
        Some(format!(
            "`sh`: a secret leaked into stderr as `{signature}`:\nsig={signature}"
        ))
    );
}
