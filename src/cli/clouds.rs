//! The settings of every cloud at once, for the commands that use several (`exec`, `doctor`),
//! resolved as each cloud's own subcommands resolve them (see [`crate::settings`]).
//!
//! A cloud counts as configured when it has what it cannot do without (its table's
//! `configured_when`): AWS a role ARN, GCP a provider audience or a project number, Azure both a
//! tenant and a client id.

use crate::project::ProjectConfig;
use crate::settings::{Given, Resolved};
use crate::{aws, azure, gcp};

use super::Ctx;
use super::flags::CloudFlags;

/// A set of clouds: chosen with `--aws`, `--gcp` and `--azure`, configured, or wanted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clouds {
    pub aws: bool,
    pub gcp: bool,
    pub azure: bool,
}

impl Clouds {
    pub fn any(self) -> bool {
        self.aws || self.gcp || self.azure
    }

    /// `AWS`, `GCP`, `Azure`, for those in the set.
    pub fn names(self) -> Vec<&'static str> {
        [(self.aws, "AWS"), (self.gcp, "GCP"), (self.azure, "Azure")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect()
    }
}

impl From<CloudFlags> for Clouds {
    fn from(flags: CloudFlags) -> Self {
        Self {
            aws: flags.aws,
            gcp: flags.gcp,
            azure: flags.azure,
        }
    }
}

/// The settings of the three clouds, resolved, before checking.
#[derive(Clone, Debug)]
pub struct Settings {
    pub aws: Resolved,
    pub gcp: Resolved,
    pub azure: Resolved,
}

impl Settings {
    /// Every cloud's settings from the flags `given`, the environment and `project`'s sections
    /// for a token of `environment`.
    pub fn resolve(
        ctx: &Ctx,
        given: &Given,
        project: &ProjectConfig,
        environment: Option<&str>,
    ) -> Self {
        Self {
            aws: ctx.resolve(&aws::settings::TABLE, given, project, environment),
            gcp: ctx.resolve(&gcp::settings::TABLE, given, project, environment),
            azure: ctx.resolve(&azure::settings::TABLE, given, project, environment),
        }
    }

    /// The clouds that have what they cannot do without (see the module docs).
    pub fn configured(&self) -> Clouds {
        Clouds {
            aws: self.aws.configured(),
            gcp: self.gcp.configured(),
            azure: self.azure.configured(),
        }
    }

    /// The clouds to use: those `chosen`, or every configured one when none is.
    pub fn wanted(&self, chosen: Clouds) -> Clouds {
        if chosen.any() {
            chosen
        } else {
            self.configured()
        }
    }
}
