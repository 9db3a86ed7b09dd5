//! A cloud as the command line sees it: its subcommand, its part in `exec` and its check in
//! `doctor`. Nothing in `cli/` names a cloud: [`super::main`] is handed the list
//! ([`crate::clouds::ALL`]) and passes it on.

use std::process::ExitCode;

use clap::{ArgMatches, FromArgMatches, Subcommand};

use super::Ctx;
use super::doctor::{Checker, CloudReport};
use super::wiring::Wire;
use crate::settings::{Resolved, Table};

/// A cloud's command, read from the command line, to run.
pub trait Run {
    fn run(self: Box<Self>, ctx: &Ctx) -> anyhow::Result<ExitCode>;
}

/// One cloud's commands, wiring and check.
pub trait CloudCli: crate::cloud::Cloud {
    /// What sets it up, for the message when no cloud is: `AWS_ROLE_ARN`.
    fn configure_hint(&self) -> &'static str;

    /// Its lines of the examples under `vercel-oidc --help`, each indented two spaces.
    fn examples(&self) -> &'static str;

    /// `vercel-oidc <section> …`: its subcommand, holding its own.
    fn command(&self) -> clap::Command;

    /// What the subcommand's `matches` ask for, read whole before anything runs.
    fn parse(&self, matches: &ArgMatches) -> Result<Box<dyn Run>, clap::Error>;

    /// `exec`: `settings` checked, before anything is fetched or written.
    fn plan(&self, ctx: &Ctx, settings: &Resolved) -> anyhow::Result<Box<dyn Wire>>;

    /// Whether the child's clients of this cloud read the run's token file (and so fail once it
    /// expires unrenewed).
    fn reads_token_file(&self) -> bool {
        false
    }

    /// A command of its own that other programs run, not people (the `az` that `exec` puts on
    /// `PATH` runs Azure's); see [`Helper`].
    fn helper(&self) -> Option<Helper> {
        None
    }

    /// `doctor`: the settings and where each came from, the check, and the trust the token
    /// needs.
    fn check(&self, checker: &Checker, settings: &Resolved) -> CloudReport;
}

/// `vercel-oidc <section> <name> ARGS…`, run with `ARGS` before the environment, the settings
/// or the global flags are read: its caller's environment is not one `exec` checked, and must
/// not stop it. Not in `--help`.
pub struct Helper {
    pub name: &'static str,
    pub run: fn(&[std::ffi::OsString]) -> ExitCode,
}

/// The subcommand `vercel-oidc <section> …` of the cloud of `table`, whose commands are `C`.
pub fn subcommand<C: Subcommand>(table: &Table, about: &'static str) -> clap::Command {
    C::augment_subcommands(
        clap::Command::new(table.section)
            .about(about)
            .subcommand_required(true)
            .arg_required_else_help(true),
    )
}

/// The command `C` that `matches` hold, to run.
pub fn parsed<C: FromArgMatches + Run + 'static>(
    matches: &ArgMatches,
) -> Result<Box<dyn Run>, clap::Error> {
    Ok(Box::new(C::from_arg_matches(matches)?))
}
