//! The command line: parsing and dispatch, and what every cloud's commands share (the context,
//! the setting flags, `exec`'s running of its child, `doctor`'s report). No cloud is named here:
//! [`main`] is handed the list of clouds ([`crate::clouds::ALL`]), each a [`CloudCli`] that
//! brings its subcommand, its `exec` wiring and its `doctor` check from its own folder. Each
//! subcommand turns its flags into the library's validated configuration before doing any I/O.

// Doc comments here are clap's help text, not rustdoc: URLs in them are examples to copy.
#![allow(rustdoc::bare_urls, rustdoc::invalid_html_tags)]

mod cloud;
mod clouds;
mod ctx;
pub(crate) mod doctor;
pub(crate) mod exec;
pub(crate) mod flags;
mod summary;
mod token;
mod verify;
pub(crate) mod wiring;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::env::Env;
use crate::session::Session;
use crate::{outside, vars};
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

pub use cloud::{CloudCli, Helper, Run, parsed, subcommand};
use clouds::{Choice, Clouds};
pub use ctx::Ctx;

/// The examples under `--help`: these, each cloud's ([`CloudCli::examples`]), then `verify`'s.
const EXAMPLES: &str = "\
Examples:
  vercel-oidc exec -- npm run build      # the build, with every configured cloud wired in
  vercel-oidc doctor                     # the set-up, and whether each cloud accepts the token
  vercel-oidc token                      # which token, whose, and for how long";
const VERIFY_EXAMPLE: &str = "  vercel-oidc verify --issuer https://oidc.vercel.com/acme --audience https://vercel.com/acme -";

/// Trade Vercel's OIDC token for short-lived cloud credentials, handed to tools through their
/// native mechanisms.
#[derive(Debug, Parser)]
#[command(
    name = "vercel-oidc",
    version,
    about,
    max_term_width = 100,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// Read the Vercel OIDC token from this file
    ///
    /// Wins over VERCEL_OIDC_TOKEN_FILE, VERCEL_OIDC_TOKEN and `.env.local`.
    #[arg(long, global = true, value_name = "PATH")]
    token_file: Option<PathBuf>,

    /// Look for `.env.local`, `.vercel/` and vercel-oidc.toml from this folder, not the working one
    ///
    /// `aws configure` writes it into the profile when the token comes from a linked project, so
    /// the profile works from any folder.
    #[arg(
        long,
        global = true,
        env = vars::VERCEL_OIDC_PROJECT_DIR,
        value_name = "DIR",
        hide_env_values = true
    )]
    project_dir: Option<PathBuf>,

    /// Read cloud settings from this project config instead of the nearest vercel-oidc.toml
    ///
    /// Also VERCEL_OIDC_CONFIG. Flags and environment variables win over the file.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// Never refresh an expired token through the Vercel CLI or API (local development)
    #[arg(long, global = true, env = vars::VERCEL_OIDC_NO_REFRESH, value_parser = clap::builder::BoolishValueParser::new())]
    no_refresh: bool,

    /// Explain what is happening on stderr (-vv for HTTP detail; or VERCEL_OIDC_VERBOSE=1)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// The command; `None` for a cloud's, which is not one of these (see [`main`]).
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the token that would be used: source, claims, time left
    ///
    /// Example: vercel-oidc token --json
    Token(token::TokenArgs),
    /// Run a command with credentials for every configured cloud wired in
    ///
    /// Example: vercel-oidc exec -- terraform apply -auto-approve
    Exec,
    /// Explain the whole set-up and check that every configured cloud accepts the token
    ///
    /// Example: vercel-oidc doctor --offline
    Doctor,
    /// Verify a token as an API trusting Vercel must: signature, issuer, audience, expiry
    ///
    /// Example: printf %s "$TOKEN" | vercel-oidc verify --issuer https://oidc.vercel.com/acme --audience https://vercel.com/acme -
    Verify(Box<verify::VerifyArgs>),
}

/// Runs the command line with `clouds`, every cloud's commands, wiring and checks.
pub fn main(clouds: Clouds) -> ExitCode {
    if let Some(code) = run_helper(clouds) {
        return code;
    }
    // Before the command line, whose setting flags clap also reads from their variables (and
    // would refuse one that is not UTF-8 without naming it).
    let env = Env::from_process();
    if let Err(err) = env.check_text() {
        eprintln!("error: {err}");
        return ExitCode::FAILURE;
    }
    let (cli, action) = read(clouds);
    crate::log::set_level(cli.verbose.max(verbose_from(&env)));
    crate::log::set_notices(true);
    let project_dir = cli.project_dir.map(|d| env.absolute(d));
    let env = match &project_dir {
        Some(dir) if !dir.is_dir() => {
            eprintln!(
                "error: --project-dir `{}` is not a folder\n  name the folder that holds `.vercel/` and `.env.local`",
                dir.display()
            );
            return ExitCode::FAILURE;
        }
        Some(dir) => env.with_cwd(dir),
        None => env,
    };
    let ctx = Ctx {
        session: Session::new(env)
            .token_file(cli.token_file)
            .refresh(!cli.no_refresh),
        project_dir,
        config: cli.config,
        tables: clouds::tables(clouds),
    };
    match run(&ctx, clouds, action) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Outside text in errors is escaped where it is put in; this also covers the rest
            // (a path, a setting), keeping the message's own line breaks.
            eprintln!("error: {}", outside::escaped_lines(&format!("{err:#}")));
            ExitCode::FAILURE
        }
    }
}

/// A cloud's [`Helper`], when the command line names one: run before anything else is read.
fn run_helper(clouds: Clouds) -> Option<ExitCode> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let [section, name, rest @ ..] = args.as_slice() else {
        return None;
    };
    let cloud = clouds.iter().find(|c| section == c.table().section)?;
    let helper = cloud.helper().filter(|h| name == h.name)?;
    Some((helper.run)(rest))
}

/// `VERCEL_OIDC_VERBOSE`: a level, or any word that turns it on.
fn verbose_from(env: &Env) -> u8 {
    match env.get(vars::VERCEL_OIDC_VERBOSE) {
        Some(v) => v
            .parse::<u8>()
            .unwrap_or(u8::from(env.flag(vars::VERCEL_OIDC_VERBOSE))),
        None => 0,
    }
}

/// What the command line asks for, read whole (and refused as clap refuses, with status 2,
/// when it is not right) before anything runs.
enum Action {
    Token(token::TokenArgs),
    Exec(exec::ExecArgs, flags::CacheFlag, Choice),
    Doctor(doctor::DoctorArgs, Choice),
    Verify(Box<verify::VerifyArgs>),
    Cloud(Box<dyn Run>),
}

/// The command line: its global flags and what it asks for.
fn read(clouds: Clouds) -> (Cli, Action) {
    let matches = matches(clouds);
    let read = || -> Result<(Cli, Action), clap::Error> {
        let mut cli = Cli::from_arg_matches(&matches)?;
        let Some((name, sub)) = matches.subcommand() else {
            return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand));
        };
        let action = match cli.command.take() {
            Some(Command::Token(args)) => Action::Token(args),
            Some(Command::Exec) => Action::Exec(
                exec::ExecArgs::from_arg_matches(sub)?,
                flags::CacheFlag::from_arg_matches(sub)?,
                Choice::read(sub, clouds, crate::settings::Command::EXEC)?,
            ),
            Some(Command::Doctor) => Action::Doctor(
                doctor::DoctorArgs::from_arg_matches(sub)?,
                Choice::read(sub, clouds, crate::settings::Command::DOCTOR)?,
            ),
            Some(Command::Verify(args)) => Action::Verify(args),
            None => match clouds.iter().find(|c| c.table().section == name) {
                Some(cloud) => Action::Cloud(cloud.parse(sub)?),
                None => return Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
            },
        };
        Ok((cli, action))
    };
    read().unwrap_or_else(|e| e.format(&mut command(clouds)).exit())
}

/// Runs what the command line asked for.
fn run(ctx: &Ctx, clouds: Clouds, action: Action) -> anyhow::Result<ExitCode> {
    match action {
        Action::Token(args) => token::run(ctx, &args),
        Action::Exec(args, cache, choice) => exec::run(ctx, &args, cache.no_cache, clouds, &choice),
        Action::Doctor(args, choice) => doctor::run(ctx, &args, clouds, &choice),
        Action::Verify(args) => verify::run(ctx, &args),
        Action::Cloud(command) => command.run(ctx),
    }
}

/// The command line with every cloud's subcommand, and the flags of each cloud's settings and
/// choice on `exec` and `doctor`.
fn command(clouds: Clouds) -> clap::Command {
    let mut examples = EXAMPLES.to_string();
    for cloud in clouds {
        examples.push('\n');
        examples.push_str(cloud.examples());
    }
    examples.push('\n');
    examples.push_str(VERIFY_EXAMPLE);
    let mut cmd = Cli::command()
        .after_help(examples)
        .mut_subcommand("exec", |c| exec::args(c, clouds))
        .mut_subcommand("doctor", |c| doctor::args(c, clouds));
    // The clouds after `doctor`, `verify` after them, as the help lists the commands.
    let doctor = cmd
        .find_subcommand("doctor")
        .map_or(0, |c| c.get_display_order());
    for (i, cloud) in clouds.iter().enumerate() {
        cmd = cmd.subcommand(cloud.command().display_order(doctor + 1 + i));
    }
    cmd.mut_subcommand("verify", |c| c.display_order(doctor + 1 + clouds.len()))
}

/// The command line's matches; when it asks for help (`-h`, `--help`, `help`, or a command that
/// needs a subcommand), parsed again with every setting's help put together, which only help
/// needs.
fn matches(clouds: Clouds) -> ArgMatches {
    use clap::error::ErrorKind;
    match command(clouds).try_get_matches() {
        Ok(matches) => matches,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            flags::HELP_WANTED.store(true, std::sync::atomic::Ordering::Relaxed);
            command(clouds).get_matches()
        }
        Err(e) => e.exit(),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes `text` to stdout in one go, so a reader never sees half of it.
pub(crate) fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod readme {
    //! The README's flag tables agree with the commands, whose setting flags come from the
    //! settings tables: each table lists, in order, every flag of its command (global flags
    //! aside) with its environment variable and `vercel-oidc.toml` key.

    /// `(flag, variable, toml key)` rows.
    type Rows = Vec<(String, Option<String>, Option<String>)>;

    /// Each `### \`vercel-oidc …\`` section's command and the rows of its flag table.
    fn readme_tables() -> Vec<(String, Rows)> {
        let text = include_str!("../../README.md");
        let mut tables = Vec::new();
        for section in text.split("\n### `vercel-oidc ").skip(1) {
            let command = section.split('`').next().unwrap_or_default().to_string();
            let rows: Rows = section
                .lines()
                .take_while(|l| !l.starts_with("## "))
                .filter(|l| l.starts_with("| `--"))
                .map(|l| {
                    let cells = cells(l);
                    let cell = |i: usize| cells.get(i).and_then(|c| backticked(c));
                    let flag = cell(0).map(|f| {
                        f.split([' ', '='])
                            .next()
                            .unwrap_or_default()
                            .trim_start_matches("--")
                            .to_string()
                    });
                    let var = cell(1).map(|v| v.split('=').next().unwrap_or_default().to_string());
                    (flag.unwrap_or_default(), var, cell(2))
                })
                .collect();
            if !rows.is_empty() {
                tables.push((command, rows));
            }
        }
        tables
    }

    /// A table row's cells, split at each `|` that is not escaped as `\|`.
    fn cells(row: &str) -> Vec<String> {
        let mut cells = vec![String::new()];
        let mut chars = row.trim().trim_matches('|').chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => {
                    cells.last_mut().unwrap().push('|');
                    chars.next();
                }
                '|' => cells.push(String::new()),
                c => cells.last_mut().unwrap().push(c),
            }
        }
        cells
    }

    /// The first `…` of a cell.
    fn backticked(cell: &str) -> Option<String> {
        let start = cell.find('`')? + 1;
        let len = cell[start..].find('`')?;
        Some(cell[start..start + len].to_string())
    }

    /// The rows the command `path` (`aws credential-process`) really has.
    fn command_rows(path: &str) -> Rows {
        let mut cmd = super::command(crate::clouds::ALL);
        cmd.build();
        let mut sub = &cmd;
        for word in path.split(' ') {
            sub = sub
                .find_subcommand(word)
                .unwrap_or_else(|| panic!("README names `{path}`, which is not a command"));
        }
        let tables = crate::clouds::tables();
        // The settings' name for the command: its words (a test may leak them).
        let command = crate::settings::Command(Box::leak(path.to_string().into_boxed_str()));
        sub.get_arguments()
            .filter(|a| !a.is_global_set() && a.get_id() != "help")
            .filter_map(|a| {
                let long = a.get_long()?;
                let var = a.get_env().map(|v| v.to_string_lossy().into_owned());
                let id = a.get_id().as_str();
                let key = tables.iter().find_map(|t| {
                    let setting = t.setting(id)?;
                    setting.commands.contains(&command).then_some(())?;
                    setting.file_key
                });
                Some((long.to_string(), var, key.map(str::to_string)))
            })
            .collect()
    }

    #[test]
    fn every_flag_table_lists_its_commands_flags_variables_and_keys() {
        let tables = readme_tables();
        let commands: Vec<&str> = tables.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            commands,
            [
                "aws credential-process",
                "aws configure",
                "aws env",
                "gcp configure",
                "gcp access-token",
                "azure configure",
                "azure access-token",
                "verify",
            ],
            "the README's flag tables"
        );
        for (command, rows) in tables {
            assert_eq!(rows, command_rows(&command), "README table of `{command}`");
        }
    }
}

#[cfg(test)]
mod names {
    //! Every flag and environment variable that the code's messages and docs name is one this
    //! tool has (or, for flags, one of the other tools' commands it prints): a message cannot go
    //! on naming a flag or a variable after it was renamed.

    /// Flags of gcloud, aws and az that the trust set-ups print.
    const OTHER_TOOLS: &[&str] = &[
        "env-file",
        "allowed-audiences",
        "allow-no-subscriptions",
        "federated-token",
        "service-principal",
        "subscription",
        "tenant",
        "username",
        "output",
        "attribute-condition",
        "attribute-mapping",
        "client-id-list",
        "id",
        "issuer-uri",
        "location",
        "member",
        "parameters",
        "policy-document",
        "role",
        "role-name",
        "url",
        "workload-identity-pool",
    ];

    fn sources() -> Vec<(std::path::PathBuf, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    out.push((path, text));
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut out,
        );
        out
    }

    /// The words of `text` that start with `--` (after a character that is not part of a word).
    fn flags_named(text: &str) -> Vec<String> {
        let bytes = text.as_bytes();
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        let mut found = Vec::new();
        for i in 0..bytes.len().saturating_sub(2) {
            let starts =
                bytes[i] == b'-' && bytes[i + 1] == b'-' && bytes[i + 2].is_ascii_lowercase();
            if starts && (i == 0 || !word(bytes[i - 1])) {
                let end = (i + 2..bytes.len())
                    .find(|&j| {
                        !(bytes[j].is_ascii_lowercase()
                            || bytes[j].is_ascii_digit()
                            || bytes[j] == b'-')
                    })
                    .unwrap_or(bytes.len());
                found.push(text[i + 2..end].trim_end_matches('-').to_string());
            }
        }
        found
    }

    fn every_flag() -> std::collections::BTreeSet<String> {
        fn collect(cmd: &clap::Command, out: &mut std::collections::BTreeSet<String>) {
            out.extend(
                cmd.get_arguments()
                    .filter_map(|a| a.get_long().map(str::to_string)),
            );
            for sub in cmd.get_subcommands() {
                collect(sub, out);
            }
        }
        let mut cmd = super::command(crate::clouds::ALL);
        cmd.build();
        let mut out = std::collections::BTreeSet::from(["help".to_string(), "version".to_string()]);
        collect(&cmd, &mut out);
        out
    }

    #[test]
    fn every_flag_named_in_the_code_exists() {
        let flags = every_flag();
        for (path, text) in sources() {
            for flag in flags_named(&text) {
                assert!(
                    flags.contains(&flag) || OTHER_TOOLS.contains(&flag.as_str()) || flag == "flag",
                    "{} names `--{flag}`, which no command has",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn every_variable_named_in_the_code_is_in_vars() {
        let vars_rs = include_str!("../vars.rs");
        let known: Vec<&str> = vars_rs
            .lines()
            .filter_map(|l| l.strip_prefix("pub const ")?.split(':').next())
            .collect();
        let prefixes = [
            "VERCEL_",
            "AWS_",
            "GCP_",
            "GOOGLE_",
            "AZURE_",
            "CLOUDSDK_",
            "XDG_",
        ];
        let sources = sources();
        // Rust constants of the same shape (`AZURE_DEFAULT_AUDIENCE`) are code, not variables.
        let constants: Vec<&str> = sources
            .iter()
            .flat_map(|(_, text)| text.split("const ").skip(1))
            .filter_map(|rest| rest.split(':').next())
            .collect();
        for (path, text) in &sources {
            let words =
                text.split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
            for word in words.filter(|w| prefixes.iter().any(|p| w.starts_with(p))) {
                // A prefix alone (`AWS_CONTAINER_*`) names a family, not a variable.
                if word.ends_with('_') {
                    continue;
                }
                if constants.contains(&word) {
                    continue;
                }
                assert!(
                    known.contains(&word),
                    "{} names `{word}`, which is not in vars.rs",
                    path.display()
                );
            }
        }
    }

    /// `Env::check_text` refuses a value that is not UTF-8 only for the variables in
    /// `vars::READ`: every variable read as text must be there (each setting's own and inherited
    /// ones, and each one read through `get` or `flag`), and `PATH`, searched byte for byte, not.
    #[test]
    fn every_variable_read_as_text_is_in_vars_read() {
        let settings = crate::clouds::tables().into_iter().flat_map(|t| {
            t.settings
                .iter()
                .flat_map(|s| s.env.into_iter().chain(s.inherits.iter().copied()))
        });
        for var in settings {
            assert!(crate::vars::READ.contains(&var), "setting variable {var}");
        }
        // `NAME: &str = "VALUE"` for each constant of vars.rs.
        let constants: Vec<(&str, &str)> = include_str!("../vars.rs")
            .split("pub const ")
            .skip(1)
            .filter_map(|c| Some((c.split(':').next()?, c.split('"').nth(1)?)))
            .collect();
        for (path, text) in sources() {
            for call in [
                ".get(vars::",
                ".flag(vars::",
                ".get(crate::vars::",
                ".flag(crate::vars::",
            ] {
                for rest in text.split(call).skip(1) {
                    let name = rest.split(')').next().unwrap();
                    // This test's own patterns.
                    if !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                        continue;
                    }
                    let var = constants.iter().find(|(c, _)| *c == name).map(|(_, v)| *v);
                    assert!(
                        var.is_some_and(|v| crate::vars::READ.contains(&v)),
                        "{} reads {name} as text, which is not in vars::READ",
                        path.display()
                    );
                }
            }
        }
        // Flags clap reads from a variable: as text, but for a path it takes as it is.
        for (path, text) in sources() {
            for rest in text.split("env = vars::").skip(1) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                let var = constants.iter().find(|(c, _)| *c == name).map(|(_, v)| *v);
                assert!(
                    var.is_some_and(|v| crate::vars::READ.contains(&v))
                        || name == "VERCEL_OIDC_PROJECT_DIR"
                        || name.is_empty(),
                    "{} gives clap {name}, which is not in vars::READ",
                    path.display()
                );
            }
        }
        assert!(!crate::vars::READ.contains(&crate::vars::PATH));
    }
}
