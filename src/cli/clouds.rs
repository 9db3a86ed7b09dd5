//! The settings of every cloud at once, for the commands that use several (`exec`, `doctor`),
//! resolved as each cloud's own subcommands resolve them (see [`crate::settings`]), and the
//! flags that choose among the clouds (`--aws`, `--gcp`, `--azure`: one per cloud).
//!
//! A cloud counts as configured when it has what it cannot do without (its table's
//! `configured_when`): AWS a role ARN, GCP a provider audience or a project number, Azure both a
//! tenant and a client id.

use clap::{Arg, ArgAction, ArgMatches};

use crate::project::ProjectConfig;
use crate::settings::{Command, Given, Resolved, Table};

use super::{CloudCli, Ctx, flags};

/// The clouds, as [`super::main`] is handed them.
pub type Clouds = &'static [&'static dyn CloudCli];

/// Adds a flag per cloud (`--aws`) to `cmd`, which wires or checks the clouds it names.
pub fn choice_flags(mut cmd: clap::Command, clouds: Clouds) -> clap::Command {
    for cloud in clouds {
        let table = cloud.table();
        cmd = cmd.arg(
            Arg::new(table.section)
                .long(table.section)
                .action(ArgAction::SetTrue)
                .help(format!(
                    "Wire or check {} (default: every configured cloud)",
                    table.title
                )),
        );
    }
    cmd
}

/// What `exec` or `doctor` was told of the clouds: their settings given as flags, and the
/// clouds named by their flag (by section).
pub struct Choice {
    pub given: Given,
    pub chosen: Vec<&'static str>,
}

impl Choice {
    /// The choice `matches` holds for `command`; an error for a malformed setting flag.
    pub fn read(
        matches: &ArgMatches,
        clouds: Clouds,
        command: Command,
    ) -> Result<Self, clap::Error> {
        Ok(Self {
            given: flags::given(matches, &tables(clouds), command)?,
            chosen: clouds
                .iter()
                .map(|c| c.table().section)
                .filter(|section| matches.get_flag(section))
                .collect(),
        })
    }
}

/// Each cloud's settings table, in the clouds' order.
pub fn tables(clouds: Clouds) -> Vec<&'static Table> {
    clouds.iter().map(|c| c.table()).collect()
}

/// `a`, `a or b`, `a, b or c` (with `or` as `conjunction`).
pub fn listed(words: &[&str], conjunction: &str) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

/// What to do when no cloud is configured: what configures each.
pub fn how_to_configure(clouds: Clouds) -> String {
    let hints: Vec<&str> = clouds.iter().map(|c| c.configure_hint()).collect();
    format!(
        "set {}, or commit a vercel-oidc.toml (see the README)",
        listed(&hints, "or")
    )
}

/// The flags that name a cloud: `--aws, --gcp or --azure`.
pub fn choice_flag_names(clouds: Clouds) -> String {
    let flags: Vec<String> = clouds
        .iter()
        .map(|c| format!("--{}", c.table().section))
        .collect();
    listed(&flags.iter().map(String::as_str).collect::<Vec<_>>(), "or")
}

/// The settings of every cloud, resolved, before checking, in the clouds' order.
pub struct Settings(pub Vec<(&'static dyn CloudCli, Resolved)>);

impl Settings {
    /// Every cloud's settings from the flags `given`, the environment and `project`'s sections
    /// for a token of `environment`.
    pub fn resolve(
        ctx: &Ctx,
        clouds: Clouds,
        given: &Given,
        project: &ProjectConfig,
        environment: Option<&str>,
    ) -> Self {
        Self(
            clouds
                .iter()
                .map(|&cloud| {
                    let settings = project.resolve(cloud.table(), given, ctx.env(), environment);
                    (cloud, settings)
                })
                .collect(),
        )
    }

    /// The clouds that have what they cannot do without (see the module docs), with their
    /// settings.
    pub fn configured(&self) -> impl Iterator<Item = &(&'static dyn CloudCli, Resolved)> {
        self.0.iter().filter(|(_, settings)| settings.configured())
    }

    /// The clouds to use: those `chosen` by section, or every configured one when none is.
    pub fn wanted(&self, chosen: &[&str]) -> Vec<&(&'static dyn CloudCli, Resolved)> {
        self.0
            .iter()
            .filter(|(cloud, settings)| is_wanted(chosen, *cloud, settings))
            .collect()
    }
}

/// Whether `cloud` is to be used: `chosen` by section, or configured when none is chosen.
pub fn is_wanted(chosen: &[&str], cloud: &dyn CloudCli, settings: &Resolved) -> bool {
    match chosen {
        [] => settings.configured(),
        _ => chosen.contains(&cloud.table().section),
    }
}

#[cfg(test)]
mod tests {
    use super::listed;

    #[test]
    fn choices_read_as_a_sentence() {
        assert_eq!(listed(&[], "or"), "");
        assert_eq!(listed(&["a"], "or"), "a");
        assert_eq!(listed(&["a", "b"], "or"), "a or b");
        assert_eq!(listed(&["a", "b", "c"], "or"), "a, b or c");
        assert_eq!(listed(&["a", "b", "c"], "and"), "a, b and c");
    }
}
