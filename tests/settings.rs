//! Every setting of every cloud, generated from the settings tables: where `doctor` says its
//! value came from when a flag, its variable, `vercel-oidc.toml` (the environment's section, then
//! the base one), another tool's variable or nothing sets it. A setting added to a table is
//! tested by being added.

mod common;

use common::*;
use vercel_oidc::settings::{Command, Kind, Setting, Table, WhenUnset};
use vercel_oidc::vars;
use vercel_oidc::{aws, azure, gcp};

fn tables() -> [&'static Table; 3] {
    [
        &aws::settings::TABLE,
        &gcp::settings::TABLE,
        &azure::settings::TABLE,
    ]
}

/// The settings doctor lists: those it takes.
fn listed(table: &'static Table) -> impl Iterator<Item = &'static Setting> {
    table
        .settings
        .iter()
        .copied()
        .filter(|s| s.commands.contains(&Command::DOCTOR))
}

/// `key = example` as TOML.
fn toml_line(setting: &Setting) -> String {
    let key = setting.file_key.unwrap();
    let value = match setting.kind {
        Kind::Seconds | Kind::Number => setting.example.to_string(),
        Kind::List => format!("[{}]", toml_string(setting.example)),
        _ => toml_string(setting.example),
    };
    format!("{key} = {value}\n")
}

fn toml_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The row doctor shows for `setting`, in a sandbox set up by `prepare`, with `args`.
fn row(
    table: &Table,
    setting: &Setting,
    args: &[&str],
    prepare: impl FnOnce(&mut Sandbox),
) -> serde_json::Value {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    prepare(&mut sb);
    let mut all = vec!["doctor", "--offline", "--json", "--aws", "--gcp", "--azure"];
    all.extend_from_slice(args);
    let out = sb.run(&all);
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    assert_eq!(
        report["config"]["error"],
        serde_json::Value::Null,
        "{report:#}"
    );
    report[table.section]["settings"][setting.name].clone()
}

fn write_config(sb: &Sandbox, text: &str) -> String {
    let path = sb.path().join("vercel-oidc.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn every_setting_says_where_its_value_came_from() {
    for table in tables() {
        for setting in listed(table) {
            let name = format!("{}.{}", table.section, setting.name);
            let example = setting.example;
            if setting.file_key.is_some() {
                let line = toml_line(setting);
                let mut path = String::new();
                let got = row(table, setting, &[], |sb| {
                    path = write_config(sb, &format!("[{}]\n{line}", table.section));
                });
                let want = serde_json::json!({"value": example, "from": "file", "origin": path, "section": table.section});
                assert_eq!(got, want, "{name}: the base section");

                let section = format!("production.{}", table.section);
                let got = row(table, setting, &[], |sb| {
                    path = write_config(sb, &format!("[{section}]\n{line}"));
                });
                let want = serde_json::json!({"value": example, "from": "file", "origin": path, "section": section});
                assert_eq!(got, want, "{name}: the environment's section");
            }
            if let Some(var) = setting.env {
                let value = other_value(setting, "from-env");
                let got = row(table, setting, &[], |sb| {
                    sb.set(var, &value);
                    if setting.file_key.is_some() {
                        write_config(sb, &format!("[{}]\n{}", table.section, toml_line(setting)));
                    }
                });
                let want = serde_json::json!({"value": value, "from": "env", "origin": var});
                assert_eq!(got, want, "{name}: its variable, over the file");
            }
            if let Some(flag) = setting
                .flag
                .filter(|_| setting.commands.contains(&Command::DOCTOR))
            {
                let long = format!("--{flag}");
                let value = other_value(setting, "from-flag");
                let got = row(table, setting, &[&long, &value], |sb| {
                    if let Some(var) = setting.env {
                        sb.set(var, example);
                    }
                });
                let want = serde_json::json!({"value": value, "from": "flag", "origin": long});
                assert_eq!(got, want, "{name}: its flag, over its variable");
            }
            for var in setting.inherits {
                let got = row(table, setting, &[], |sb| {
                    sb.set(var, example);
                });
                let want = serde_json::json!({"value": example, "from": "env", "origin": var});
                assert_eq!(got, want, "{name}: {var}");
            }
            let got = row(table, setting, &[], |_| {});
            match setting.default {
                WhenUnset::Value {
                    value,
                    why,
                    only_with: None,
                } => {
                    let why = (!why.is_empty()).then_some(why);
                    let want =
                        serde_json::json!({"value": value, "from": "default", "origin": why});
                    assert_eq!(got, want, "{name}: nothing set");
                }
                WhenUnset::None | WhenUnset::Value { .. } => assert_eq!(
                    got,
                    serde_json::json!({"value": null, "from": "unset", "origin": null}),
                    "{name}: nothing set"
                ),
                // Worked out from the token or the other settings: shown as a default, with
                // why, when it can be.
                WhenUnset::Derived(_) => assert!(
                    got["from"] == "unset"
                        || (got["from"] == "default"
                            && got["origin"].as_str().is_some_and(|o| !o.is_empty())),
                    "{name}: nothing set: {got}"
                ),
            }
        }
    }
}

/// A value that is not the example, so that the stronger source shows: `text`, or for a choice
/// the other word (doctor shows what it would do with it).
fn other_value(setting: &Setting, text: &str) -> String {
    match setting.kind {
        Kind::Choice(words) => words
            .iter()
            .find(|w| **w != setting.example)
            .unwrap()
            .to_string(),
        _ => text.to_string(),
    }
}

/// The words that run `command`.
fn command_path(command: Command) -> Vec<&'static str> {
    command.path().split(' ').collect()
}

#[test]
fn every_command_helps_with_each_of_its_settings_as_the_table_says() {
    // With a token at hand, which help must not show.
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let mut helps = std::collections::HashMap::new();
    for table in tables() {
        for setting in table.settings {
            let Some(flag) = setting.flag else { continue };
            for command in setting.commands {
                let help = helps.entry(command_path(*command)).or_insert_with(|| {
                    let mut args = command_path(*command);
                    args.push("--help");
                    let out = sb.run(&args);
                    assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
                    // Wrapped lines joined, so that a long help line reads as one.
                    out.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
                });
                let name = format!("{:?} {}", command, setting.name);
                let wants = [
                    format!("--{flag} <{}>", setting.value_name),
                    setting.help.to_string(),
                    format!("Example: --{flag} "),
                    format!("[env: {}]", setting.env.unwrap_or("-")),
                ];
                for want in wants {
                    let want = want.split_whitespace().collect::<Vec<_>>().join(" ");
                    assert!(help.contains(&want), "{name}: `{want}` missing from --help");
                }
            }
        }
    }
}

#[test]
fn help_asked_for_among_short_flags_is_whole() {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token());
    let out = sb.run(&["gcp", "access-token", "-vh"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let setting = &gcp::settings::AUDIENCE;
    let line = format!("--{} <{}>", setting.flag.unwrap(), setting.value_name);
    let shown = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        shown.contains(&format!("{line} {}", setting.help)),
        "{}",
        out.stdout
    );
}

#[test]
fn a_malformed_flag_is_refused_as_the_command_line_is_read_and_a_variable_where_it_is_used() {
    let mut sb = Sandbox::new();
    sb.set(vercel_oidc::vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(
            vercel_oidc::vars::AWS_ROLE_ARN,
            aws::settings::ROLE_ARN.example,
        );
    // A flag: before any token is read or request made, as clap refuses any malformed argument.
    let out = sb.run(&["aws", "credential-process", "--duration-seconds", "1h"]);
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert!(
        out.stderr.starts_with(
            "error: invalid value '1h' for '--duration-seconds <SECONDS>': not a whole number of seconds\n"
        ),
        "{}",
        out.stderr
    );
    let out = sb.run(&["exec", "--aws-credentials", "bogus", "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with(
            "error: invalid value 'bogus' for '--aws-credentials <HOW>': possible values: endpoint, env\n"
        ),
        "{}",
        out.stderr
    );
    // A variable: once, naming the variable, when its setting is used.
    sb.set(vercel_oidc::vars::VERCEL_OIDC_AWS_DURATION_SECONDS, "abc");
    let out = sb.run(&["aws", "credential-process"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr,
        "error: `abc` from env VERCEL_OIDC_AWS_DURATION_SECONDS is not a whole number\n  give --duration-seconds, VERCEL_OIDC_AWS_DURATION_SECONDS or `duration_seconds` in vercel-oidc.toml as digits, such as 3600\n"
    );
    // Doctor takes any value and says what is wrong with it and where it came from.
    let out = sb.run(&["doctor", "--offline", "--json"]);
    assert_eq!(out.code, 1);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        report["aws"]["check"]["error"],
        serde_json::json!({
            "service": "settings",
            "status": null,
            "code": null,
            "message": "`abc` from env VERCEL_OIDC_AWS_DURATION_SECONDS is not a whole number",
            "hint": "give --duration-seconds, VERCEL_OIDC_AWS_DURATION_SECONDS or `duration_seconds` in vercel-oidc.toml as digits, such as 3600",
        })
    );
}

#[test]
fn an_empty_variable_or_flag_is_unset_and_an_unused_clouds_is_not_read() {
    let server = MockServer::start(|_, _| sts_credentials("ASIAEMPTY", 3600));
    let mut sb = Sandbox::new();
    sb.set(vercel_oidc::vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(
            vercel_oidc::vars::AWS_ROLE_ARN,
            aws::settings::ROLE_ARN.example,
        )
        .set(vercel_oidc::vars::AWS_ENDPOINT_URL_STS, server.url())
        .set(vercel_oidc::vars::VERCEL_OIDC_AWS_DURATION_SECONDS, "")
        .set(vercel_oidc::vars::VERCEL_OIDC_AWS_CREDENTIALS, "")
        // GCP is not configured, so its settings are never read.
        .set(
            vercel_oidc::vars::VERCEL_OIDC_GCP_TOKEN_LIFETIME_SECONDS,
            "1h",
        );
    let out = sb
        .command(&["aws", "credential-process", "--session-name", ""])
        .reveals_all(sts_secrets("ASIAEMPTY"))
        .output();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sent = &server.requests()[0];
    assert_eq!(sent.form_value("DurationSeconds").as_deref(), Some("3600"));
    assert_eq!(
        sent.form_value("RoleSessionName").as_deref(),
        Some("vercel-web-production")
    );
    let out = sb.run(&["exec", "--", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}
