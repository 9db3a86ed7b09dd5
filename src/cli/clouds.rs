//! The settings of every cloud at once, for the commands that use several (`exec`, `doctor`),
//! resolved as each cloud's own subcommands resolve them: a flag, then its environment variable
//! (both through clap), then the project config's section for the token's environment.
//!
//! A cloud counts as configured when it has what it cannot do without: AWS a role ARN, GCP a
//! provider audience or a project number, Azure both a tenant and a client id.

use vercel_oidc::aws::AwsOptions;
use vercel_oidc::azure::AzureOptions;
use vercel_oidc::gcp::GcpOptions;
use vercel_oidc::project::{self, ProjectConfig};

use super::{aws, azure, gcp};

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

/// The settings of the three clouds, before checking.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub aws: AwsOptions,
    pub gcp: GcpOptions,
    pub azure: AzureOptions,
}

impl Settings {
    /// The settings as flags and environment variables give them.
    pub fn from_args(
        aws: &aws::AssumeArgs,
        gcp: &gcp::ProviderArgs,
        gcp_project_id: Option<&str>,
        azure: &azure::AppArgs,
    ) -> Self {
        Self {
            aws: aws.options(),
            gcp: GcpOptions {
                project_id: gcp_project_id.map(str::to_string),
                ..gcp.options()
            },
            azure: azure.options(),
        }
    }

    /// Fills every setting that flags and environment variables left out from the project
    /// config's sections for a token of `environment`.
    pub fn fill_from(&mut self, project: &ProjectConfig, environment: Option<&str>) {
        project::fill_aws(&mut self.aws, project.aws(environment));
        project::fill_gcp(&mut self.gcp, project.gcp(environment));
        project::fill_azure(&mut self.azure, project.azure(environment));
    }

    /// The clouds that have what they cannot do without (see the module docs).
    pub fn configured(&self) -> Clouds {
        Clouds {
            aws: self.aws.role_arn.is_some(),
            gcp: self.gcp.audience.is_some() || self.gcp.project_number.is_some(),
            azure: self.azure.tenant_id.is_some() && self.azure.client_id.is_some(),
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
