//! `vercel-oidc.toml`: the settings of each cloud, committed with the project so that build
//! commands need no flags.
//!
//! Found by walking up from the working directory (or named with `--config PATH` /
//! `VERCEL_OIDC_CONFIG`). Every key is optional; sections named after a Vercel environment
//! override the base sections for tokens of that environment (the token's `environment` claim):
//!
//! ```toml
//! [aws]
//! role_arn = "arn:aws:iam::123456789012:role/vercel-preview"
//! region = "eu-west-1"
//!
//! [gcp]
//! project_number = 123456789012
//! pool = "vercel"
//! provider = "vercel"
//! service_account = "deploy@my-project.iam.gserviceaccount.com"
//!
//! [azure]
//! tenant_id = "00000000-0000-0000-0000-000000000000"
//! client_id = "11111111-1111-1111-1111-111111111111"
//!
//! [production.aws]
//! role_arn = "arn:aws:iam::123456789012:role/vercel-production"
//! ```
//!
//! Precedence, for every setting: a flag, then its environment variable, then this file.
//! Unknown keys, wrong types and values that fail their setting's own check (a role ARN, a
//! region, a tenant id...) are errors naming the file, line and key, found as the file is read.
//! The file must be a regular file of at most 1 MiB, in UTF-8.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::aws::{self, AwsOptions};
use crate::azure::{self, AzureOptions};
use crate::env::Env;
use crate::gcp::{self, GcpOptions, IdKind};

pub const FILE_NAME: &str = "vercel-oidc.toml";

#[derive(Debug, thiserror::Error)]
pub enum ProjectConfigError {
    #[error("cannot read the project config `{}`: {}\n  check the path given to --config or VERCEL_OIDC_CONFIG (a regular file of at most 1 MiB)", path.display(), error.reason())]
    Read {
        path: PathBuf,
        error: crate::fsutil::ReadError,
    },
    #[error("invalid project config `{}`: {message}\n  see the `vercel-oidc.toml` section of the README for the keys each section takes", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// AWS keys: the same settings as `vercel-oidc aws credential-process`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AwsSection {
    #[serde(default, deserialize_with = "aws_role_arn")]
    pub role_arn: Option<String>,
    #[serde(default, deserialize_with = "aws_session_name")]
    pub session_name: Option<String>,
    #[serde(default, deserialize_with = "aws_duration")]
    pub duration_seconds: Option<u32>,
    #[serde(default, deserialize_with = "aws_region")]
    pub region: Option<String>,
    #[serde(default, deserialize_with = "aws_policy_arns")]
    pub policy_arns: Option<Vec<String>>,
    #[serde(default, deserialize_with = "aws_policy")]
    pub policy: Option<String>,
    /// How `exec` hands AWS credentials to its command: `endpoint` or `env`.
    pub credentials: Option<aws::container::Delivery>,
}

/// GCP keys: the same settings as `vercel-oidc gcp configure`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GcpSection {
    #[serde(default, deserialize_with = "gcp_audience")]
    pub audience: Option<String>,
    #[serde(default, deserialize_with = "gcp_project_number")]
    pub project_number: Option<NumberOrString>,
    #[serde(default, deserialize_with = "gcp_pool")]
    pub pool: Option<String>,
    #[serde(default, deserialize_with = "gcp_provider")]
    pub provider: Option<String>,
    #[serde(default, deserialize_with = "gcp_service_account")]
    pub service_account: Option<String>,
    #[serde(default, deserialize_with = "gcp_lifetime")]
    pub token_lifetime_seconds: Option<u32>,
    #[serde(default, deserialize_with = "endpoint_url")]
    pub token_url: Option<String>,
    #[serde(default, deserialize_with = "endpoint_url")]
    pub impersonation_url: Option<String>,
    #[serde(default, deserialize_with = "gcp_scopes")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "gcp_project_id")]
    pub project_id: Option<String>,
    /// `file` (default) or `executable`.
    pub source: Option<GcpSource>,
}

impl GcpSection {
    fn names_provider_parts(&self) -> bool {
        self.project_number.is_some() || self.pool.is_some() || self.provider.is_some()
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum GcpSource {
    File,
    Executable,
}

/// A project number may be written as `123` or `"123"`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum NumberOrString {
    Number(u64),
    String(String),
}

impl NumberOrString {
    fn into_string(self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::String(s) => s,
        }
    }
}

/// Azure keys: the same settings as `vercel-oidc azure configure`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AzureSection {
    #[serde(default, deserialize_with = "azure_tenant")]
    pub tenant_id: Option<String>,
    #[serde(default, deserialize_with = "azure_client")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "azure_authority")]
    pub authority_host: Option<String>,
}

/// A field read with its setting's own check; the check's first line (what is wrong, without
/// the flags that would set it from elsewhere) becomes the file's error at the value.
macro_rules! checked {
    ($($name:ident: $ty:ty => $check:expr;)+) => {$(
        fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
            let value = Option::<$ty>::deserialize(d)?;
            if let Some(v) = &value {
                let check: fn(&$ty) -> Result<(), String> = $check;
                check(v).map_err(serde::de::Error::custom)?;
            }
            Ok(value)
        }
    )+};
}

/// The first line of an error: what is wrong.
fn what(error: impl std::fmt::Display) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

checked! {
    aws_role_arn: String => |v| aws::check_role_arn(v.trim()).map_err(what);
    aws_session_name: String => |v| aws::check_session_name(v).map_err(what);
    aws_duration: u32 => |v| aws::check_duration(*v).map_err(what);
    aws_region: String => |v| aws::endpoint::check_region(v).map_err(what);
    aws_policy_arns: Vec<String> => |v| aws::check_policy_arns(v).map_err(what);
    aws_policy: String => |v| match v.strip_prefix('@') {
        Some(_) => Ok(()),
        None => serde_json::from_str::<serde_json::Value>(v)
            .map(drop)
            .map_err(|e| format!("the session policy is not valid JSON: {e}")),
    };
    gcp_audience: String => |v| gcp::WorkloadProvider::parse_audience(v.trim()).map(drop).map_err(what);
    gcp_project_number: NumberOrString => |v| gcp::check_project_number(&v.clone().into_string()).map(drop).map_err(what);
    gcp_pool: String => |v| gcp::check_id(IdKind::Pool, v.trim()).map(drop).map_err(what);
    gcp_provider: String => |v| gcp::check_id(IdKind::Provider, v.trim()).map(drop).map_err(what);
    gcp_service_account: String => |v| gcp::check_service_account(v.trim()).map(drop).map_err(what);
    gcp_lifetime: u32 => |v| gcp::check_lifetime(*v).map_err(what);
    gcp_scopes: Vec<String> => |v| v.iter().try_for_each(|s| gcp::check_scope(s.trim())).map_err(what);
    gcp_project_id: String => |v| gcp::check_project_id(v.trim()).map_err(what);
    endpoint_url: String => |v| crate::http::check_endpoint(v.trim()).map(drop).map_err(|reason| format!("cannot use `{v}`: {reason}"));
    azure_tenant: String => |v| azure::check_tenant(v.trim()).map_err(what);
    azure_client: String => |v| azure::check_client(v.trim()).map_err(what);
    azure_authority: String => |v| azure::Authority::parse(v).map(drop).map_err(what);
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CloudSections {
    pub aws: Option<AwsSection>,
    pub gcp: Option<GcpSection>,
    pub azure: Option<AzureSection>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct FileShape {
    aws: Option<AwsSection>,
    gcp: Option<GcpSection>,
    azure: Option<AzureSection>,
    production: Option<CloudSections>,
    preview: Option<CloudSections>,
    development: Option<CloudSections>,
}

/// A parsed `vercel-oidc.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectConfig {
    pub path: Option<PathBuf>,
    shape: FileShape,
}

macro_rules! overlay {
    ($base:expr, $over:expr, $($field:ident),+) => {{
        let mut merged = $base.clone().unwrap_or_default();
        if let Some(over) = $over {
            $(if over.$field.is_some() { merged.$field = over.$field.clone(); })+
        }
        if $base.is_none() && $over.is_none() { None } else { Some(merged) }
    }};
}

impl ProjectConfig {
    /// Parses `text`, read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ProjectConfigError> {
        let shape: FileShape = toml::from_str(text).map_err(|e| ProjectConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        Ok(Self {
            path: Some(path.to_path_buf()),
            shape,
        })
    }

    /// The file named by `explicit` (`--config`), else `VERCEL_OIDC_CONFIG`, else the first
    /// `vercel-oidc.toml` walking up from the working directory; an empty config when none.
    pub fn load(env: &Env, explicit: Option<&Path>) -> Result<Self, ProjectConfigError> {
        let named = explicit
            .map(Path::to_path_buf)
            .or_else(|| env.get("VERCEL_OIDC_CONFIG").map(PathBuf::from));
        let path = match named {
            Some(p) => env.absolute(p),
            None => match env
                .cwd()
                .ancestors()
                .map(|d| d.join(FILE_NAME))
                .find(|p| p.is_file())
            {
                Some(p) => p,
                None => return Ok(Self::default()),
            },
        };
        let bytes =
            crate::fsutil::read_capped(&path, crate::fsutil::limits::CONFIG).map_err(|error| {
                ProjectConfigError::Read {
                    path: path.clone(),
                    error,
                }
            })?;
        let text = String::from_utf8(bytes).map_err(|e| ProjectConfigError::Invalid {
            path: path.clone(),
            message: format!(
                "it is not UTF-8 text (the first bad byte is at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        crate::debug!("using the project config `{}`", path.display());
        Self::parse(&text, &path)
    }

    fn env_sections(&self, environment: Option<&str>) -> Option<&CloudSections> {
        match environment? {
            "production" => self.shape.production.as_ref(),
            "preview" => self.shape.preview.as_ref(),
            "development" => self.shape.development.as_ref(),
            _ => None,
        }
    }

    /// The AWS settings for a token of `environment`, the environment's section over the base.
    /// A `policy = "@file"` is relative to the config file's folder.
    pub fn aws(&self, environment: Option<&str>) -> Option<AwsSection> {
        let over = self.env_sections(environment).and_then(|s| s.aws.as_ref());
        let mut aws = overlay!(
            self.shape.aws,
            over,
            role_arn,
            session_name,
            duration_seconds,
            region,
            policy_arns,
            policy,
            credentials
        );
        let dir = self.path.as_deref().and_then(Path::parent);
        if let (Some(section), Some(dir)) = (aws.as_mut(), dir)
            && let Some(file) = section.policy.as_deref().and_then(|p| p.strip_prefix('@'))
            && Path::new(file).is_relative()
        {
            section.policy = Some(format!("@{}", dir.join(file).display()));
        }
        aws
    }

    pub fn gcp(&self, environment: Option<&str>) -> Option<GcpSection> {
        let over = self.env_sections(environment).and_then(|s| s.gcp.as_ref());
        // The audience wins over its three parts, so parts named in the environment's section
        // must also set aside an audience inherited from the base section.
        let base = self.shape.gcp.clone().map(|mut base| {
            if over.is_some_and(|o| o.audience.is_none() && o.names_provider_parts()) {
                base.audience = None;
            }
            base
        });
        overlay!(
            base,
            over,
            audience,
            project_number,
            pool,
            provider,
            service_account,
            token_lifetime_seconds,
            token_url,
            impersonation_url,
            scopes,
            project_id,
            source
        )
    }

    pub fn azure(&self, environment: Option<&str>) -> Option<AzureSection> {
        let over = self
            .env_sections(environment)
            .and_then(|s| s.azure.as_ref());
        overlay!(self.shape.azure, over, tenant_id, client_id, authority_host)
    }
}

/// Fills every setting `opts` lacks (no flag, no environment variable) from the file.
pub fn fill_aws(opts: &mut AwsOptions, file: Option<AwsSection>) {
    let Some(f) = file else { return };
    fill(&mut opts.role_arn, f.role_arn);
    fill(&mut opts.session_name, f.session_name);
    fill(&mut opts.duration_seconds, f.duration_seconds);
    fill(&mut opts.region, f.region);
    fill(&mut opts.policy, f.policy);
    if opts.policy_arns.is_empty() {
        opts.policy_arns = f.policy_arns.unwrap_or_default();
    }
}

pub fn fill_gcp(opts: &mut GcpOptions, file: Option<GcpSection>) {
    let Some(f) = file else { return };
    // A provider part given by flag or environment variable outranks the file's audience, which
    // would otherwise win over every part.
    if opts.project_number.is_none() && opts.pool.is_none() && opts.provider.is_none() {
        fill(&mut opts.audience, f.audience);
    }
    fill(
        &mut opts.project_number,
        f.project_number.map(NumberOrString::into_string),
    );
    fill(&mut opts.pool, f.pool);
    fill(&mut opts.provider, f.provider);
    fill(&mut opts.service_account, f.service_account);
    fill(&mut opts.token_lifetime_seconds, f.token_lifetime_seconds);
    fill(&mut opts.token_url, f.token_url);
    fill(&mut opts.impersonation_url, f.impersonation_url);
    fill(&mut opts.project_id, f.project_id);
    if opts.scopes.is_empty() {
        opts.scopes = f.scopes.unwrap_or_default();
    }
}

pub fn fill_azure(opts: &mut AzureOptions, file: Option<AzureSection>) {
    let Some(f) = file else { return };
    fill(&mut opts.tenant_id, f.tenant_id);
    fill(&mut opts.client_id, f.client_id);
    fill(&mut opts.authority_host, f.authority_host);
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[aws]
role_arn = "arn:aws:iam::123456789012:role/preview"
region = "eu-west-1"
policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]

[gcp]
project_number = 123456789012
pool = "vercel"
provider = "vercel"
source = "executable"

[azure]
tenant_id = "t"
client_id = "00000000-0000-0000-0000-00000000000c"

[production.aws]
role_arn = "arn:aws:iam::123456789012:role/production"

[production.azure]
client_id = "00000000-0000-0000-0000-0000000000cd"
"#;

    fn parse(text: &str) -> Result<ProjectConfig, ProjectConfigError> {
        ProjectConfig::parse(text, Path::new("/p/vercel-oidc.toml"))
    }

    #[test]
    fn environment_sections_override_the_base() {
        let cfg = parse(FULL).unwrap();
        let prod = cfg.aws(Some("production")).unwrap();
        assert_eq!(
            prod.role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/production")
        );
        assert_eq!(
            prod.region.as_deref(),
            Some("eu-west-1"),
            "unset keys come from the base"
        );
        let preview = cfg.aws(Some("preview")).unwrap();
        assert_eq!(
            preview.role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/preview")
        );
        assert_eq!(cfg.aws(None).unwrap().role_arn, preview.role_arn);
        assert_eq!(
            cfg.azure(Some("production")).unwrap().client_id.as_deref(),
            Some("00000000-0000-0000-0000-0000000000cd")
        );
        assert_eq!(
            cfg.azure(Some("development")).unwrap().client_id.as_deref(),
            Some("00000000-0000-0000-0000-00000000000c")
        );
        let gcp = cfg.gcp(Some("production")).unwrap();
        assert_eq!(
            gcp.project_number,
            Some(NumberOrString::Number(123456789012))
        );
        assert_eq!(gcp.source, Some(GcpSource::Executable));
    }

    #[test]
    fn an_environment_section_alone_is_enough() {
        let cfg = parse("[preview.azure]\ntenant_id = \"t\"\n").unwrap();
        assert!(cfg.azure(Some("production")).is_none());
        assert_eq!(
            cfg.azure(Some("preview")).unwrap().tenant_id.as_deref(),
            Some("t")
        );
    }

    #[test]
    fn flags_and_env_win_over_the_file() {
        let cfg = parse(FULL).unwrap();
        let mut opts = AwsOptions {
            region: Some("us-west-2".into()),
            ..AwsOptions::default()
        };
        fill_aws(&mut opts, cfg.aws(Some("production")));
        assert_eq!(opts.region.as_deref(), Some("us-west-2"));
        assert_eq!(
            opts.role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/production")
        );
        assert_eq!(
            opts.policy_arns,
            vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        );
        let mut gcp = GcpOptions::default();
        fill_gcp(&mut gcp, cfg.gcp(None));
        assert_eq!(gcp.project_number.as_deref(), Some("123456789012"));
    }

    #[test]
    fn gcp_provider_parts_outrank_an_audience_from_a_weaker_source() {
        let cfg = parse(
            "[gcp]\naudience = \"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov\"\n\n[production.gcp]\npool = \"prod-pool\"\nproject_number = 2\nprovider = \"prod\"\n",
        )
        .unwrap();
        let prod = cfg.gcp(Some("production")).unwrap();
        assert_eq!(
            prod.audience, None,
            "the environment's parts set the base audience aside"
        );
        assert!(cfg.gcp(Some("preview")).unwrap().audience.is_some());
        let mut flags = GcpOptions {
            pool: Some("flag-pool".into()),
            ..GcpOptions::default()
        };
        fill_gcp(&mut flags, cfg.gcp(Some("preview")));
        assert_eq!(
            flags.audience, None,
            "a part from a flag outranks the file's audience"
        );
        assert_eq!(flags.pool.as_deref(), Some("flag-pool"));
    }

    #[test]
    fn a_policy_file_is_relative_to_the_config_file() {
        let cfg = parse("[aws]\npolicy = \"@policies/build.json\"\n").unwrap();
        assert_eq!(
            cfg.aws(None).unwrap().policy.as_deref(),
            Some("@/p/policies/build.json")
        );
        let cfg = parse("[aws]\npolicy = \"@/abs.json\"\n").unwrap();
        assert_eq!(cfg.aws(None).unwrap().policy.as_deref(), Some("@/abs.json"));
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let cases = [
            (
                "[aws]\nrolearn = \"x\"\n",
                &["line 2", "rolearn", "role_arn"][..],
            ),
            (
                "[aws]\nduration_seconds = \"long\"\n",
                &["line 2", "duration_seconds"][..],
            ),
            (
                "[gcp]\nsource = \"url\"\n",
                &["line 2", "source", "file"][..],
            ),
            (
                "[staging.aws]\nrole_arn = \"x\"\n",
                &["line 1", "staging"][..],
            ),
            ("[aws\n", &["line 1"][..]),
        ];
        for (text, wants) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(
                err.starts_with("invalid project config `/p/vercel-oidc.toml`"),
                "{err}"
            );
            for want in wants {
                assert!(err.contains(want), "{want:?} missing from:\n{err}");
            }
        }
    }

    #[test]
    fn found_walking_up_or_named() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let env = Env::from_pairs::<&str, &str>([], &nested);
        assert_eq!(
            ProjectConfig::load(&env, None).unwrap(),
            ProjectConfig::default()
        );
        std::fs::write(
            dir.path().join("a/vercel-oidc.toml"),
            "[aws]\nregion = \"x\"\n",
        )
        .unwrap();
        let cfg = ProjectConfig::load(&env, None).unwrap();
        assert_eq!(cfg.path, Some(dir.path().join("a/vercel-oidc.toml")));
        let err = ProjectConfig::load(&env, Some(Path::new("missing.toml")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot read the project config") && err.contains("missing.toml"),
            "{err}"
        );
        let named = Env::from_pairs([("VERCEL_OIDC_CONFIG", "../vercel-oidc.toml")], &nested);
        assert_eq!(
            ProjectConfig::load(&named, None)
                .unwrap()
                .aws(None)
                .unwrap()
                .region
                .as_deref(),
            Some("x")
        );
    }
}
