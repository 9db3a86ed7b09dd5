//! Flags made from the settings tables, and the few flags several commands share.
//!
//! [`SettingFlags`] adds to a command every setting whose table lists that command, with its
//! help and environment variable, and reads back only what the command line gave: the
//! environment and the project file are read by [`crate::settings::Resolved::resolve`],
//! which records where each value came from.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::output::EnvFormat;
use crate::settings::{Command, Given, Kind, Origin, Raw, Setting, Table, WhenUnset};
use crate::vars;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args};

/// The tables and the command whose flags a [`SettingFlags`] adds.
pub trait Flagged {
    const COMMAND: Command;
    fn tables() -> Vec<&'static Table>;
}

/// Every setting flag of one command, as the command line gave them.
#[derive(Clone, Debug)]
pub struct SettingFlags<C> {
    pub given: Given,
    command: PhantomData<C>,
}

/// The clap id of `setting`: its name, which is unique across the tables (a settings test says
/// so), and static, so that no run pays for making ids.
fn id(setting: &'static Setting) -> &'static str {
    setting.name
}

/// The clap argument of `setting`: its flag, value name, variable (shown in `--help`; the value
/// itself is read with the others, in precedence order, and checked where it is used), and, when
/// help is shown, its help with its default, project-file key and example.
fn argument(table: &Table, setting: &'static Setting) -> Arg {
    let flag = setting.flag.expect("only settings with a flag");
    let mut arg = Arg::new(id(setting))
        .long(flag)
        .value_name(setting.value_name)
        .hide_env_values(true);
    if let Some(var) = setting.env {
        arg = arg.env(var);
    }
    if HELP_WANTED.load(Ordering::Relaxed) {
        arg = with_help(arg, table, setting);
    }
    match setting.kind {
        Kind::List => arg.action(ArgAction::Append).value_delimiter(','),
        _ => arg.action(ArgAction::Set),
    }
}

/// Whether help is being shown: only then is each setting's help put together, which costs a
/// tenth of a millisecond a run that a cache hit does not pay. `cli::main` sets it and parses
/// again when the first parse asks for help.
pub static HELP_WANTED: AtomicBool = AtomicBool::new(false);

/// A flag's value that its setting cannot take, refused as the command line is read, as clap
/// refuses any malformed argument (exit 2). Variables are checked where they are used, and say
/// which variable; doctor takes any value, and says what is wrong with it.
fn check_flag(setting: &Setting, value: &str) -> Result<(), clap::Error> {
    let flag = setting.flag.unwrap_or(setting.name);
    let bad = |why: String| {
        clap::Error::raw(
            clap::error::ErrorKind::InvalidValue,
            format!(
                "invalid value '{}' for '--{flag} <{}>': {why}",
                value.escape_debug(),
                setting.value_name
            ),
        )
    };
    match setting.kind {
        _ if value.trim().is_empty() => Ok(()),
        Kind::Seconds if value.trim().parse::<u32>().is_err() => {
            Err(bad("not a whole number of seconds".into()))
        }
        Kind::Choice(words) if !words.contains(&value) => {
            Err(bad(format!("possible values: {}", words.join(", "))))
        }
        _ => Ok(()),
    }
}

/// `arg` with its help: the line with the setting's default, and the long help with the
/// project-file key and the example.
fn with_help(arg: Arg, table: &Table, setting: &Setting) -> Arg {
    let flag = setting.flag.unwrap_or_default();
    let help = match setting.default {
        WhenUnset::Value { value, .. } => format!("{} [default: {value}]", setting.help),
        _ => setting.help.to_string(),
    };
    let mut long_help = vec![help.clone()];
    if !setting.long_help.is_empty() {
        long_help.push(setting.long_help.to_string());
    }
    if let Some(key) = setting.file_key {
        long_help.push(format!(
            "In vercel-oidc.toml: `{key}` under `[{0}]` (or `[production.{0}]`, `[preview.{0}]`, `[development.{0}]`).",
            table.section
        ));
    }
    long_help.push(format!("Example: --{flag} {}", shell_word(setting.example)));
    if let Kind::Choice(words) = setting.kind {
        long_help.push(format!("[possible values: {}]", words.join(", ")));
    }
    arg.help(help).long_help(long_help.join("\n\n"))
}

/// `word` as a shell reads it back: bare when it has only safe characters, else single-quoted.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-<>".contains(c);
    if word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{word}'")
    }
}

impl<C: Flagged> Args for SettingFlags<C> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        setting_args(cmd, &C::tables(), C::COMMAND)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl<C: Flagged> clap::FromArgMatches for SettingFlags<C> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self {
            given: given(matches, &C::tables(), C::COMMAND)?,
            command: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// Adds to `cmd` the flag of every setting of `tables` that `command` takes.
pub fn setting_args(mut cmd: clap::Command, tables: &[&Table], command: Command) -> clap::Command {
    for table in tables {
        for setting in table.for_command(command) {
            cmd = cmd.arg(argument(table, setting));
        }
    }
    cmd
}

/// The settings of `tables` that the command line gave `command`, each checked (but for
/// `doctor`, which reports a bad value rather than refusing it).
pub fn given(
    matches: &ArgMatches,
    tables: &[&Table],
    command: Command,
) -> Result<Given, clap::Error> {
    let mut given = Given::default();
    for table in tables {
        for setting in table.for_command(command) {
            let id = id(setting);
            if matches.value_source(id) != Some(ValueSource::CommandLine) {
                continue;
            }
            let values: Vec<String> = matches
                .get_many::<String>(id)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            if command != Command::DOCTOR {
                values.iter().try_for_each(|v| check_flag(setting, v))?;
            }
            let raw = match setting.kind {
                Kind::List => Raw::List(values),
                _ => Raw::One(values.into_iter().next().unwrap_or_default()),
            };
            let flag = setting.flag.unwrap_or(setting.name);
            given.set(table, setting, raw, Origin::Flag(flag));
        }
    }
    Ok(given)
}

/// Declares the marker types of the commands whose settings are flags, each with its command and
/// tables: `flagged! { EnvFlags => settings::ENV: [TABLE]; }`.
macro_rules! flagged {
    ($($name:ident => $command:path: [$($table:path),+];)+) => {$(
        #[derive(Clone, Debug)]
        pub struct $name;

        impl $crate::cli::flags::Flagged for $name {
            const COMMAND: $crate::settings::Command = $command;
            fn tables() -> Vec<&'static $crate::settings::Table> {
                vec![$(&$table),+]
            }
        }
    )+};
}
pub(crate) use flagged;

// `--no-cache`, for every command that uses the shared cache. (A plain comment: `exec` adds it
// last, and a doc comment here would become its about line.)
#[derive(Clone, Copy, Debug, Args)]
pub struct CacheFlag {
    /// Always ask again; neither read nor write the shared cache
    ///
    /// VERCEL_OIDC_NO_CACHE takes 1/0, true/false, yes/no or on/off.
    #[arg(
        long,
        env = vars::VERCEL_OIDC_NO_CACHE,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_cache: bool,
}

/// `--format`, for every command that prints environment assignments.
#[derive(Clone, Copy, Debug, Args)]
pub struct FormatFlag {
    /// Format of the printed environment
    ///
    /// Example: --format fish, then read the output with `… | source`
    #[arg(long, value_enum, default_value_t = EnvFormat::Sh, env = vars::VERCEL_OIDC_FORMAT)]
    pub format: EnvFormat,
}
