//! The Azure CLI inside `vercel-oidc exec`, with a stand-in `az` that records how it is run:
//! logged in before its first use and after the token file is renewed, once for concurrent
//! calls, into the run's own config folder, with the token off its command line; left alone when
//! turned off or when there is no `az`. (The real `az` against a stand-in Entra ID is in
//! `tests/interop/test_az.py`.)

mod common;

use std::path::{Path, PathBuf};

use common::*;
use vercel_oidc::vars;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

/// A stand-in `az`: appends `az ARGS` and its config folder to `az.log`, and, for a login, the
/// token it read through `@FILE` to `tokens.out` and the config folder's `config` file to
/// `az.log`. A login prints on stdout and stderr as the real one may; `account show` prints a
/// line on stdout. `$AZ_FAIL_LOGIN` makes the login fail as Entra's refusal does, and
/// `$AZ_FAIL_SET` the choice of subscription; a login leaves `profile.json` in the config folder.
const FAKE_AZ: &str = r#"#!/bin/sh
here=$(dirname "$0")
echo "az $* | $AZURE_CONFIG_DIR" >> "$here/../az.log"
case "$1" in
login)
    [ -n "$AZ_SLOW_LOGIN" ] && sleep 1.5
    for a; do case "$a" in @*) { cat "${a#@}"; echo; } >> "$here/../tokens.out";; esac; done
    [ -f "$AZURE_CONFIG_DIR/config" ] && sed 's/^/  config: /' "$AZURE_CONFIG_DIR/config" >> "$here/../az.log"
    if [ -n "$AZ_FAIL_LOGIN" ]; then
        echo "ERROR: AADSTS70021: No matching federated identity record found for presented assertion." >&2
        exit 1
    fi
    echo '[{"cloudName": "AzureCloud"}]' > "$AZURE_CONFIG_DIR/profile.json"
    echo '[{"cloudName": "AzureCloud"}]'
    echo "WARNING: logged in" >&2;;
account)
    [ "$2" = show ] && echo '{"name": "stand-in"}'
    if [ "$2" = set ] && [ -n "$AZ_FAIL_SET" ]; then
        echo "ERROR: The subscription of '$4' doesn't exist in cloud 'AzureCloud'." >&2
        exit 1
    fi;;
esac
exit 0
"#;

/// A sandbox with Azure configured, and `az` the stand-in, alone on `PATH` with the shell's
/// folders.
fn az_sandbox() -> (Sandbox, String) {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    let bin = sb.path().join("tools/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let az = bin.join("az");
    std::fs::write(&az, FAKE_AZ).unwrap();
    set_mode(&az, 0o755);
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone())
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_CLIENT_ID, CLIENT)
        .set(vars::PATH, format!("{}:/usr/bin:/bin", bin.display()));
    (sb, token)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn exec_sh(sb: &Sandbox, extra: &[&str], script: &str) -> Output {
    let mut args = vec!["exec", "--azure"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "sh", "-c", script]);
    sb.run(&args)
}

/// What the stand-in recorded, with the run's folder written `$RUN`.
fn az_log(sb: &Sandbox) -> String {
    let log = std::fs::read_to_string(sb.path().join("tools/az.log")).unwrap_or_default();
    let run = log
        .split(" | ")
        .nth(1)
        .and_then(|rest| rest.split_once("/azure-cli/"))
        .map(|(run, _)| run.to_string());
    match run {
        Some(run) => log.replace(&run, "$RUN"),
        None => log,
    }
}

fn tokens_read(sb: &Sandbox) -> Vec<String> {
    std::fs::read_to_string(sb.path().join("tools/tokens.out"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn login_line(config_dir: &str) -> String {
    format!(
        "az login --service-principal --username {CLIENT} --tenant {TENANT} --federated-token @$RUN/token --allow-no-subscriptions --output none | {config_dir}\n"
    )
}

const CONFIG: &str = "$RUN/azure-cli/config";

#[test]
fn az_is_logged_in_before_its_first_use_only() {
    let (mut sb, token) = az_sandbox();
    sb.set(vars::AZURE_SUBSCRIPTION_ID, SUBSCRIPTION);
    let out = exec_sh(
        &sb,
        &[],
        "az group list && az version && echo \"$PATH\" > path.out",
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(
        az_log(&sb),
        format!(
            "{}az account set --subscription {SUBSCRIPTION} --output none | {CONFIG}\naz group list | {CONFIG}\naz version | {CONFIG}\n",
            login_line(CONFIG)
        )
    );
    assert_eq!(tokens_read(&sb), [token]);
    let path = std::fs::read_to_string(sb.path().join("path.out")).unwrap();
    let (first, rest) = path.trim_end().split_once(':').unwrap();
    assert!(first.ends_with("/azure-cli/bin"), "{first}");
    assert_eq!(
        rest,
        format!("{}:/usr/bin:/bin", sb.path().join("tools/bin").display())
    );
}

#[test]
fn exec_of_az_itself_goes_through_the_login_and_keeps_its_output() {
    let (sb, token) = az_sandbox();
    let out = sb.run(&["exec", "--azure", "--", "az", "account", "show"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "{\"name\": \"stand-in\"}\n", "")
    );
    assert_eq!(
        az_log(&sb),
        format!("{}az account show | {CONFIG}\n", login_line(CONFIG))
    );
    assert_eq!(tokens_read(&sb), [token]);
}

#[test]
fn a_renewed_token_file_logs_az_in_again() {
    let (mut sb, first) = az_sandbox();
    let second = fresh_token();
    sb.set("SECOND", second.clone());
    // The run's token file replaced as exec renews it: a new file moved over the old.
    let out = exec_sh(
        &sb,
        &[],
        "az one && printf %s \"$SECOND\" > \"$VERCEL_OIDC_TOKEN_FILE.new\" && mv \"$VERCEL_OIDC_TOKEN_FILE.new\" \"$VERCEL_OIDC_TOKEN_FILE\" && az two && az three",
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let login = login_line(CONFIG);
    assert_eq!(
        az_log(&sb),
        format!("{login}az one | {CONFIG}\n{login}az two | {CONFIG}\naz three | {CONFIG}\n")
    );
    assert_eq!(tokens_read(&sb), [first, second]);
}

#[test]
fn concurrent_calls_log_in_once() {
    let (mut sb, token) = az_sandbox();
    sb.set("AZ_SLOW_LOGIN", "1");
    let out = exec_sh(&sb, &[], "az a & az b & az c & wait");
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let log = az_log(&sb);
    assert_eq!(log.matches("az login ").count(), 1, "{log}");
    assert!(log.starts_with(&login_line(CONFIG)), "{log}");
    assert_eq!(log.lines().count(), 4, "{log}");
    assert_eq!(tokens_read(&sb), [token]);
}

#[test]
fn the_cloud_follows_the_authority_host() {
    let (mut sb, _) = az_sandbox();
    sb.set(vars::AZURE_AUTHORITY_HOST, "login.microsoftonline.us");
    let out = exec_sh(&sb, &[], "az version");
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        az_log(&sb),
        format!(
            "{}  config: [cloud]\n  config: name = AzureUSGovernment\naz version | {CONFIG}\n",
            login_line(CONFIG)
        )
    );
}

const NOT_RUN_LOGIN: &str = "vercel-oidc: error: could not log the Azure CLI in with the run's token, so `az` was not run: `az login --service-principal` failed (exit status: 1): ERROR: AADSTS70021: No matching federated identity record found for presented assertion.\n  check the app's federated credential with `vercel-oidc doctor --azure`, or pass --azure-cli-login off to `exec` to leave `az` alone\n";

#[test]
fn a_failed_login_is_said_and_az_is_not_run() {
    let (mut sb, _) = az_sandbox();
    sb.set("AZ_FAIL_LOGIN", "1");
    let out = exec_sh(&sb, &[], "az version; echo \"az exited $?\"; az version");
    assert_eq!((out.code, out.stdout.as_str()), (1, "az exited 1\n"));
    assert_eq!(
        out.stderr,
        format!("{NOT_RUN_LOGIN}{NOT_RUN_LOGIN}"),
        "tried again at the next call"
    );
    let login = login_line(CONFIG);
    assert_eq!(az_log(&sb), format!("{login}{login}"));
}

#[test]
fn a_failed_choice_of_subscription_leaves_az_logged_out_and_not_run() {
    let (mut sb, _) = az_sandbox();
    sb.set(vars::AZURE_SUBSCRIPTION_ID, SUBSCRIPTION)
        .set("AZ_FAIL_SET", "1");
    let out = exec_sh(
        &sb,
        &[],
        "az group create; echo \"az exited $?\"; ls -A \"$AZURE_CONFIG_DIR\"; echo listed",
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "az exited 1\nlisted\n"),
        "the login's profile.json was removed"
    );
    assert_eq!(
        out.stderr,
        format!(
            "vercel-oidc: error: could not choose the subscription `{SUBSCRIPTION}` for the Azure CLI, so `az` was not run: `az account set` failed (exit status: 1): ERROR: The subscription of '{SUBSCRIPTION}' doesn't exist in cloud 'AzureCloud'.\n  check the subscription id (--subscription-id, AZURE_SUBSCRIPTION_ID), and that the app has a role on that subscription\n"
        )
    );
    assert_eq!(
        az_log(&sb),
        format!(
            "{}az account set --subscription {SUBSCRIPTION} --output none | {CONFIG}\n",
            login_line(CONFIG)
        )
    );
}

#[test]
fn the_az_on_path_when_it_is_called_is_the_one_logged_in_and_run() {
    let (mut sb, token) = az_sandbox();
    // Another az, in a folder the command puts on PATH after exec's own, in place of the first.
    let other = sb.path().join("other/bin");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("az"),
        FAKE_AZ
            .replace("az.log", "other-az.log")
            .replace("tokens.out", "other-tokens.out"),
    )
    .unwrap();
    set_mode(&other.join("az"), 0o755);
    sb.set("OTHER", other.display().to_string());
    let out = exec_sh(
        &sb,
        &[],
        "PATH=\"${PATH%%:*}:$OTHER:/usr/bin:/bin\" az version",
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(az_log(&sb), "", "the first az is not on PATH any more");
    let log = std::fs::read_to_string(sb.path().join("other/other-az.log")).unwrap();
    let run = log
        .split(" | ")
        .nth(1)
        .unwrap()
        .split("/azure-cli/")
        .next()
        .unwrap();
    assert_eq!(
        log.replace(run, "$RUN"),
        format!("{}az version | {CONFIG}\n", login_line(CONFIG))
    );
    assert_eq!(
        std::fs::read_to_string(sb.path().join("other/other-tokens.out")).unwrap(),
        format!("{token}\n")
    );
}

#[test]
fn the_command_s_environment_cannot_stop_az() {
    // Settings exec checked, changed by the command: the az step reads none of them.
    let (mut sb, _) = az_sandbox();
    std::fs::create_dir_all(sb.path().join("app/sub")).unwrap();
    sb.set(vars::VERCEL_OIDC_PROJECT_DIR, "app");
    let out = exec_sh(
        &sb,
        &[],
        "cd app/sub && VERCEL_OIDC_NO_REFRESH=sometimes VERCEL_OIDC_VERBOSE=x az account show",
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "{\"name\": \"stand-in\"}\n", "")
    );
}

#[test]
fn a_command_with_its_own_config_folder_is_not_logged_in() {
    let (sb, _) = az_sandbox();
    let out = exec_sh(&sb, &[], "AZURE_CONFIG_DIR=\"$PWD/mine\" az version");
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        az_log(&sb),
        format!("az version | {}\n", sb.path().join("mine").display())
    );
}

#[test]
fn an_authority_of_no_azure_cloud_leaves_az_alone_and_says_so() {
    let (mut sb, _) = az_sandbox();
    sb.set(vars::AZURE_AUTHORITY_HOST, "https://127.0.0.1:8443/");
    let out = exec_sh(&sb, &[], "az version && echo \"${AZURE_CONFIG_DIR-unset}\"");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "unset\n",
            "vercel-oidc: warning: the Azure CLI is not logged in for the command: `https://127.0.0.1:8443/` is not the authority host of one of Azure's clouds, and `az` would send the token to its cloud's own\n  pass --azure-cli-login off to say nothing of it\n"
        )
    );
    assert_eq!(az_log(&sb), "az version | \n");
}

#[test]
fn off_leaves_az_alone() {
    let (mut sb, _) = az_sandbox();
    let path = sb.env[vars::PATH].clone();
    let script = "az version && echo \"$PATH|${AZURE_CONFIG_DIR-unset}\" > path.out";
    let check = |sb: &Sandbox, out: Output| {
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
        assert_eq!(az_log(sb), "az version | \n");
        assert_eq!(
            std::fs::read_to_string(sb.path().join("path.out")).unwrap(),
            format!("{path}|unset\n")
        );
        std::fs::remove_file(sb.path().join("tools/az.log")).unwrap();
    };
    check(&sb, exec_sh(&sb, &["--azure-cli-login", "off"], script));
    sb.set(vars::VERCEL_OIDC_AZURE_CLI_LOGIN, "off");
    check(&sb, exec_sh(&sb, &[], script));
    sb.unset(vars::VERCEL_OIDC_AZURE_CLI_LOGIN);
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        "[azure]\ncli_login = \"off\"\n",
    )
    .unwrap();
    check(&sb, exec_sh(&sb, &[], script));
}

#[test]
fn no_az_on_path_changes_nothing() {
    let (mut sb, _) = az_sandbox();
    // A folder with a shell and no `az` (on merged-/usr systems /bin is /usr/bin, az and all).
    let only_sh = sb.path().join("only-sh");
    std::fs::create_dir(&only_sh).unwrap();
    std::os::unix::fs::symlink("/bin/sh", only_sh.join("sh")).unwrap();
    sb.set(vars::PATH, only_sh.display().to_string());
    let out = exec_sh(
        &sb,
        &[],
        "echo \"$PATH|${AZURE_CONFIG_DIR-unset}\" > path.out",
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        std::fs::read_to_string(sb.path().join("path.out")).unwrap(),
        format!("{}|unset\n", only_sh.display())
    );
}

#[test]
fn the_login_files_are_private_and_hold_no_token() {
    let (sb, token) = az_sandbox();
    let out = exec_sh(
        &sb,
        &[],
        "az version && d=$(dirname \"$AZURE_CONFIG_DIR\") && echo \"$d\" > dir.out && stat -c '%n %a' \"$d\" \"$d/bin\" \"$d/bin/az\" \"$d/config\" \"$d/login.json\" > modes.out && cat \"$d/login.json\" > login.out",
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let dir = PathBuf::from(
        std::fs::read_to_string(sb.path().join("dir.out"))
            .unwrap()
            .trim_end(),
    );
    let d = dir.display();
    assert_eq!(
        std::fs::read_to_string(sb.path().join("modes.out")).unwrap(),
        format!("{d} 700\n{d}/bin 700\n{d}/bin/az 700\n{d}/config 700\n{d}/login.json 600\n")
    );
    let login = std::fs::read_to_string(sb.path().join("login.out")).unwrap();
    assert!(!login.contains(&token));
    let run = dir.parent().unwrap().display();
    assert_eq!(
        login,
        format!(
            "{{\"config_dir\":\"{d}/config\",\"token_file\":\"{run}/token\",\"tenant_id\":\"{TENANT}\",\"client_id\":\"{CLIENT}\",\"subscription_id\":null}}"
        )
    );
    assert!(!dir.exists(), "removed with the run");
}

#[test]
fn the_shim_outside_its_run_says_so() {
    let (sb, _) = az_sandbox();
    let gone = sb.path().join("gone");
    let out = sb.run(&["azure", "az-shim", gone.to_str().unwrap(), "--", "version"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr,
        format!(
            "vercel-oidc: error: this `az` was put on PATH by `vercel-oidc exec`, whose run has ended; run `az` outside it, or inside a new `vercel-oidc exec`: `{}` does not exist\n",
            gone.join("login.json").display()
        )
    );
}

#[test]
fn the_child_gets_what_terraform_reads_and_no_competing_credential() {
    let (mut sb, _) = az_sandbox();
    sb.set(vars::AZURE_SUBSCRIPTION_ID, SUBSCRIPTION)
        .set(vars::AZURE_AUTHORITY_HOST, "login.chinacloudapi.cn");
    for stale in [
        vars::AZURE_CLIENT_SECRET,
        vars::AZURE_CLIENT_CERTIFICATE_PATH,
        vars::AZURE_CLIENT_CERTIFICATE_PASSWORD,
        vars::AZURE_USERNAME,
        vars::AZURE_PASSWORD,
        vars::ARM_CLIENT_SECRET,
        vars::ARM_CLIENT_SECRET_FILE_PATH,
        vars::ARM_CLIENT_CERTIFICATE,
        vars::ARM_CLIENT_CERTIFICATE_PATH,
        vars::ARM_CLIENT_CERTIFICATE_PASSWORD,
        vars::ARM_CLIENT_ID_FILE_PATH,
        vars::ARM_OIDC_TOKEN,
    ] {
        sb.set(stale, "stale-azure-credential");
    }
    register_secret("stale-azure-credential");
    sb.set(vars::ARM_CLIENT_ID, "99999999-9999-9999-9999-999999999999")
        .set(vars::ARM_ENVIRONMENT, "public");
    let out = exec_sh(
        &sb,
        &["--azure-cli-login", "off"],
        "env | grep -E '^(ARM|AZURE)_' | sort > env.out",
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let env = std::fs::read_to_string(sb.path().join("env.out")).unwrap();
    let token_file = env
        .lines()
        .find_map(|l| l.strip_prefix("ARM_OIDC_TOKEN_FILE_PATH="))
        .unwrap()
        .to_string();
    assert!(token_file.ends_with("/token"), "{token_file}");
    assert_eq!(
        env,
        format!(
            "ARM_CLIENT_ID={CLIENT}\nARM_ENVIRONMENT=china\nARM_OIDC_TOKEN_FILE_PATH={token_file}\nARM_SUBSCRIPTION_ID={SUBSCRIPTION}\nARM_TENANT_ID={TENANT}\nARM_USE_OIDC=true\nAZURE_AUTHORITY_HOST=https://login.chinacloudapi.cn/\nAZURE_CLIENT_ID={CLIENT}\nAZURE_FEDERATED_TOKEN_FILE={token_file}\nAZURE_SUBSCRIPTION_ID={SUBSCRIPTION}\nAZURE_TENANT_ID={TENANT}\n"
        )
    );

    // One the parent sets for the providers only is the setting: both are set, and az uses it.
    sb.unset(vars::AZURE_SUBSCRIPTION_ID)
        .set(vars::ARM_SUBSCRIPTION_ID, SUBSCRIPTION);
    let out = exec_sh(
        &sb,
        &["--azure-cli-login", "off"],
        "echo \"$ARM_SUBSCRIPTION_ID|${AZURE_SUBSCRIPTION_ID-unset}\" > env.out",
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        std::fs::read_to_string(sb.path().join("env.out")).unwrap(),
        format!("{SUBSCRIPTION}|{SUBSCRIPTION}\n")
    );
}
