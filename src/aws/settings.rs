//! The AWS settings: one entry each (see [`crate::settings`]).

use super::{check_duration, check_policy_arns, check_role_arn, check_session_name};
use crate::problem::problem_of;
#[cfg(feature = "cli")]
use crate::settings::Command;
use crate::settings::{Kind, Raw, Setting, Table, WhenUnset};
use crate::vars;

/// `vercel-oidc aws credential-process`.
#[cfg(feature = "cli")]
pub const CREDENTIAL_PROCESS: Command = Command("aws credential-process");

/// `vercel-oidc aws configure`.
#[cfg(feature = "cli")]
pub const CONFIGURE: Command = Command("aws configure");

/// `vercel-oidc aws env`.
#[cfg(feature = "cli")]
pub const ENV: Command = Command("aws env");

/// The commands that exchange the token with STS, and so take every AWS setting.
#[cfg(feature = "cli")]
const EXCHANGE: &[Command] = &[
    CREDENTIAL_PROCESS,
    CONFIGURE,
    ENV,
    Command::EXEC,
    Command::DOCTOR,
];

pub static TABLE: Table = Table {
    section: "aws",
    title: "AWS",
    settings: &[
        &ROLE_ARN,
        &SESSION_NAME,
        &DURATION_SECONDS,
        &REGION,
        &POLICY_ARNS,
        &POLICY,
        &EXEC_CREDENTIALS,
    ],
    configured_when: &[&["role_arn"]],
};

pub static ROLE_ARN: Setting = Setting {
    name: "role_arn",
    file_key: Some("role_arn"),
    flag: Some("role-arn"),
    value_name: "ARN",
    env: Some(vars::AWS_ROLE_ARN),
    help: "IAM role to assume",
    example: "arn:aws:iam::123456789012:role/deploy",
    check: Some(|v| check_role_arn(v.first().trim()).map_err(problem_of)),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static SESSION_NAME: Setting = Setting {
    name: "session_name",
    file_key: Some("session_name"),
    flag: Some("session-name"),
    value_name: "NAME",
    env: Some(vars::AWS_ROLE_SESSION_NAME),
    default: WhenUnset::Derived("from the token"),
    help: "STS session name [default: vercel-<project>-<environment> from the token]",
    example: "vercel-ci",
    check: Some(|v| check_session_name(v.first()).map_err(problem_of)),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static DURATION_SECONDS: Setting = Setting {
    name: "duration_seconds",
    file_key: Some("duration_seconds"),
    flag: Some("duration-seconds"),
    value_name: "SECONDS",
    env: Some(vars::VERCEL_OIDC_AWS_DURATION_SECONDS),
    kind: Kind::Seconds,
    default: WhenUnset::Value {
        value: "3600",
        why: "",
        only_with: None,
    },
    help: "Credential lifetime in seconds, 900-43200",
    example: "1800",
    check: Some(|v| {
        let seconds = v.first().parse().unwrap_or(0);
        check_duration(seconds).map_err(problem_of)
    }),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static REGION: Setting = Setting {
    name: "region",
    file_key: Some("region"),
    flag: Some("region"),
    value_name: "REGION",
    env: Some(vars::VERCEL_OIDC_AWS_REGION),
    inherits: &[vars::AWS_REGION, vars::AWS_DEFAULT_REGION],
    help: "Region whose STS endpoint to call; wins over AWS_REGION [default: AWS_REGION, else global]",
    long_help: "On Vercel, AWS_REGION is the function's execution region, so name the STS region here.",
    example: "eu-west-1",
    check: Some(|v| super::endpoint::check_region(v.first()).map_err(problem_of)),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static POLICY_ARNS: Setting = Setting {
    name: "policy_arns",
    file_key: Some("policy_arns"),
    flag: Some("policy-arn"),
    value_name: "ARN",
    env: Some(vars::VERCEL_OIDC_AWS_POLICY_ARNS),
    kind: Kind::List,
    help: "Managed policy to narrow the session with (repeatable, at most 10)",
    example: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    check: Some(|v| match v {
        Raw::List(arns) => check_policy_arns(arns).map_err(problem_of),
        Raw::One(arn) => check_policy_arns(std::slice::from_ref(arn)).map_err(problem_of),
    }),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    ..Setting::BASE
};

pub static POLICY: Setting = Setting {
    name: "policy",
    file_key: Some("policy"),
    flag: Some("policy"),
    value_name: "JSON|@FILE",
    env: Some(vars::VERCEL_OIDC_AWS_POLICY),
    help: "Inline session policy: JSON, or @FILE to read it from a file",
    example: "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
    check: Some(|v| match v.first().strip_prefix('@') {
        Some(_) => Ok(()),
        None => serde_json::from_str::<serde_json::Value>(v.first())
            .map(drop)
            .map_err(|e| format!("the session policy is not valid JSON: {e}")),
    }),
    #[cfg(feature = "cli")]
    commands: EXCHANGE,
    at_path: true,
    ..Setting::BASE
};

pub static EXEC_CREDENTIALS: Setting = Setting {
    name: "exec_credentials",
    file_key: Some("credentials"),
    flag: Some("aws-credentials"),
    value_name: "HOW",
    env: Some(vars::VERCEL_OIDC_AWS_CREDENTIALS),
    kind: Kind::Choice(&["endpoint", "env"]),
    default: WhenUnset::Derived("env in a build, endpoint in local development"),
    help: "How AWS credentials reach the command: `endpoint` (renewed while it runs) or `env`",
    long_help: "`endpoint` serves them on 127.0.0.1 for the SDKs to renew (the container-credentials protocol); `env` sets AWS_ACCESS_KEY_ID and friends, fixed for the command's life. [default: `endpoint` in local development where a fresh token can be had, `env` in a build (VERCEL or CI set) and wherever none can]",
    example: "env",
    #[cfg(feature = "cli")]
    commands: &[Command::EXEC, Command::DOCTOR],
    ..Setting::BASE
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_duration_default_is_the_one_the_code_falls_back_on() {
        let WhenUnset::Value { value, .. } = DURATION_SECONDS.default else {
            panic!("a plain default");
        };
        assert_eq!(value, super::super::DEFAULT_DURATION_SECONDS.to_string());
    }
}
