//! `vercel-oidc.toml`: the settings of each cloud, committed with the project so that build
//! commands need no flags.
//!
//! Found by walking up from the working directory to the project's root, [`crate::walk`] (or
//! named with `--config PATH` / `VERCEL_OIDC_CONFIG`), and read only when no other user could
//! have written it ([`crate::ownership`]). Every key is optional; sections named after a Vercel environment
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
//! The keys of each section are those of its cloud's settings table (`file_key`), each read with
//! its setting's kind and check; [`ProjectConfig::layers`] hands the two sections that apply to
//! a token to [`crate::settings::Resolved::resolve`], which ranks them after flags and
//! environment variables. Unknown keys, wrong types and values that fail their setting's own
//! check (a role ARN, a region, a tenant id...) are errors naming the file, line and key, found
//! as the file is read (`project/read.rs` walks the parsed document). Each is shown as the TOML
//! parser shows a syntax error, the line with carets under the key or value at fault; of several,
//! the first by section and key name is the one reported.
//! The file must be a regular file of at most 1 MiB, in UTF-8.

mod read;

use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::fsutil::{self, Refused};
use crate::ownership::{Owners, Untrusted};
use crate::settings::{FileLayers, Given, Resolved, Section, Table};
use crate::walk::Walk;

pub const FILE_NAME: &str = "vercel-oidc.toml";

/// The Vercel environments that may have sections of their own.
const ENVIRONMENTS: [&str; 3] = ["production", "preview", "development"];

#[derive(Debug, thiserror::Error)]
pub enum ProjectConfigError {
    #[error("cannot read the project config `{}`: {}\n  check the path given to --config or VERCEL_OIDC_CONFIG (a regular file of at most 1 MiB)", crate::ownership::shown(path), error.reason())]
    Read {
        path: PathBuf,
        error: crate::fsutil::ReadError,
    },
    #[error(
        "invalid project config `{}`: {message}\n  see the `vercel-oidc.toml` section of the README for the keys each section takes",
        crate::ownership::shown(path)
    )]
    Invalid { path: PathBuf, message: String },
    #[error("will not read the project config `{}`: {untrusted}, so another user could have written it\n  {}", crate::ownership::shown(path), untrusted.fix())]
    Untrusted { path: PathBuf, untrusted: Untrusted },
}

/// The project config named by `--config` or `VERCEL_OIDC_CONFIG`, read when no other user
/// could have written it.
fn named_file(path: PathBuf, env: &Env) -> Result<(PathBuf, Vec<u8>), ProjectConfigError> {
    match fsutil::read_checked(&path, fsutil::limits::CONFIG, &Owners::for_env(env)) {
        Ok(bytes) => Ok((path, bytes)),
        Err(Refused::Read(error)) => Err(ProjectConfigError::Read { path, error }),
        Err(Refused::Untrusted(untrusted)) => {
            Err(ProjectConfigError::Untrusted { path, untrusted })
        }
    }
}

/// The nearest `vercel-oidc.toml` on the walk from the working directory that is a regular file
/// no other user could have written ([`Walk::read`]), and what it holds.
fn found_file(env: &Env) -> Result<Option<(PathBuf, Vec<u8>)>, ProjectConfigError> {
    let walk = Walk::for_env(env);
    for dir in walk.folders() {
        let path = dir.join(FILE_NAME);
        match walk.read(&path, fsutil::limits::CONFIG) {
            None | Some(Err(fsutil::ReadError::NotRegular { .. })) => {}
            Some(Ok(bytes)) => return Ok(Some((path, bytes))),
            Some(Err(error)) => return Err(ProjectConfigError::Read { path, error }),
        }
    }
    Ok(None)
}

/// One cloud's section: `aws`, or `production.aws` for one environment.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stored {
    name: String,
    environment: Option<&'static str>,
    cloud: &'static str,
    section: Section,
}

/// A parsed `vercel-oidc.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectConfig {
    pub path: Option<PathBuf>,
    /// The file's sections, checked against each cloud's table.
    sections: Vec<Stored>,
}

impl ProjectConfig {
    /// Parses `text`, read from `path`, whose sections are those of the clouds of `tables`
    /// ([`crate::clouds::tables`]).
    pub fn parse(
        text: &str,
        path: &Path,
        tables: &[&'static Table],
    ) -> Result<Self, ProjectConfigError> {
        let sections =
            read::sections(text, tables).map_err(|message| ProjectConfigError::Invalid {
                path: path.to_path_buf(),
                message,
            })?;
        Ok(Self {
            path: Some(path.to_path_buf()),
            sections,
        })
    }

    /// The file named by `explicit` (`--config`), else `VERCEL_OIDC_CONFIG`, else the first
    /// `vercel-oidc.toml` walking up from the working directory to the project's root
    /// ([`crate::walk`]); an empty config when none. Either way only a file that no other user
    /// could have written is read ([`crate::ownership`]): a named one that fails the rule is an
    /// error, a found one is passed over with a warning. Its sections are those of `tables`.
    pub fn load(
        env: &Env,
        explicit: Option<&Path>,
        tables: &[&'static Table],
    ) -> Result<Self, ProjectConfigError> {
        let named = explicit
            .map(Path::to_path_buf)
            .or_else(|| env.get(crate::vars::VERCEL_OIDC_CONFIG).map(PathBuf::from));
        let (path, bytes) = match named {
            Some(p) => named_file(env.absolute(p), env)?,
            None => match found_file(env)? {
                Some(found) => found,
                None => return Ok(Self::default()),
            },
        };
        let text = String::from_utf8(bytes).map_err(|e| ProjectConfigError::Invalid {
            path: path.clone(),
            message: format!(
                "it is not UTF-8 text (the first bad byte is at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        crate::log::debug!("using the project config `{}`", path.display());
        Self::parse(&text, &path, tables)
    }

    /// One cloud's settings as every command and the Rust provider resolve them: those `given`
    /// (flags, or code), then the environment, then this file's sections for a token of
    /// `environment` (see [`crate::settings`] for the whole order).
    pub fn resolve(
        &self,
        table: &'static Table,
        given: &Given,
        env: &Env,
        environment: Option<&str>,
    ) -> Resolved {
        Resolved::resolve(table, given, env, self.layers(table, environment))
    }

    /// The sections that hold `table`'s settings for a token of `environment`: the
    /// environment's own (`[production.aws]`) over the base one (`[aws]`).
    pub fn layers(&self, table: &Table, environment: Option<&str>) -> FileLayers<'_> {
        let find = |env: Option<&str>| {
            self.sections
                .iter()
                .find(|s| s.cloud == table.section && s.environment == env)
        };
        FileLayers {
            path: self.path.as_deref(),
            environment: environment
                .and_then(|e| find(Some(e)))
                .map(|s| (s.name.as_str(), &s.section)),
            base: find(None).map(|s| &s.section),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vars;

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
        ProjectConfig::parse(
            text,
            Path::new("/p/vercel-oidc.toml"),
            &crate::clouds::tables(),
        )
    }

    use crate::settings::{Given, Origin, Raw, Resolved};
    use crate::{aws, azure, gcp};

    /// `table`'s settings for `environment` with these given by flags, over no environment
    /// variables.
    fn resolve(
        cfg: &ProjectConfig,
        table: &'static Table,
        environment: Option<&str>,
        flags: &[(&str, &str)],
    ) -> Resolved {
        let mut given = Given::default();
        for (name, value) in flags {
            let setting = table.setting(name).unwrap();
            given.set(
                table,
                setting,
                Raw::One(value.to_string()),
                Origin::Flag("x"),
            );
        }
        let env = Env::default();
        Resolved::resolve(table, &given, &env, cfg.layers(table, environment))
    }

    /// One setting's value for `environment`, from the file alone.
    fn value(
        cfg: &ProjectConfig,
        table: &'static Table,
        environment: Option<&str>,
        name: &str,
    ) -> Option<String> {
        let resolved = resolve(cfg, table, environment, &[]);
        resolved
            .get(table.setting(name).unwrap())
            .map(|v| v.raw.text())
    }

    #[test]
    fn environment_sections_override_the_base() {
        let cfg = parse(FULL).unwrap();
        let aws = &aws::settings::TABLE;
        let (azure, gcp) = (&azure::settings::TABLE, &gcp::settings::TABLE);
        for (table, environment, name, want) in [
            (
                aws,
                "production",
                "role_arn",
                "arn:aws:iam::123456789012:role/production",
            ),
            // Unset in `[production.aws]`: from the base.
            (aws, "production", "region", "eu-west-1"),
            (
                aws,
                "preview",
                "role_arn",
                "arn:aws:iam::123456789012:role/preview",
            ),
            (
                azure,
                "production",
                "client_id",
                "00000000-0000-0000-0000-0000000000cd",
            ),
            (
                azure,
                "development",
                "client_id",
                "00000000-0000-0000-0000-00000000000c",
            ),
            (gcp, "production", "project_number", "123456789012"),
            (gcp, "production", "source", "executable"),
        ] {
            assert_eq!(
                value(&cfg, table, Some(environment), name).as_deref(),
                Some(want),
                "`{name}` in [{environment}.{}]",
                table.section
            );
        }
        assert_eq!(
            value(&cfg, aws, None, "role_arn"),
            value(&cfg, aws, Some("preview"), "role_arn")
        );
        let prod = resolve(&cfg, aws, Some("production"), &[]);
        assert_eq!(
            prod.get(&aws::settings::ROLE_ARN).unwrap().origin,
            Origin::File {
                path: "/p/vercel-oidc.toml".into(),
                section: "production.aws".into()
            },
            "the origin names the file and the section"
        );
        assert_eq!(
            prod.get(&aws::settings::REGION).unwrap().origin,
            Origin::File {
                path: "/p/vercel-oidc.toml".into(),
                section: "aws".into()
            }
        );
    }

    #[test]
    fn an_environment_section_alone_is_enough() {
        let cfg = parse("[preview.azure]\ntenant_id = \"t\"\n").unwrap();
        let azure = &azure::settings::TABLE;
        assert_eq!(value(&cfg, azure, Some("production"), "tenant_id"), None);
        assert_eq!(
            value(&cfg, azure, Some("preview"), "tenant_id").as_deref(),
            Some("t")
        );
    }

    #[test]
    fn flags_and_env_win_over_the_file() {
        let cfg = parse(FULL).unwrap();
        let aws = &aws::settings::TABLE;
        let r = resolve(&cfg, aws, Some("production"), &[("region", "us-west-2")]);
        assert_eq!(r.text(&aws::settings::REGION), Some("us-west-2"));
        assert_eq!(
            r.text(&aws::settings::ROLE_ARN),
            Some("arn:aws:iam::123456789012:role/production")
        );
        assert_eq!(
            r.list(&aws::settings::POLICY_ARNS),
            ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        );
        assert_eq!(
            value(&cfg, &gcp::settings::TABLE, None, "project_number").as_deref(),
            Some("123456789012")
        );
    }

    #[test]
    fn gcp_provider_parts_outrank_an_audience_from_a_weaker_source() {
        let cfg = parse(
            "[gcp]\naudience = \"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov\"\n\n[production.gcp]\npool = \"prod-pool\"\nproject_number = 2\nprovider = \"prod\"\n",
        )
        .unwrap();
        let gcp = &gcp::settings::TABLE;
        assert_eq!(
            value(&cfg, gcp, Some("production"), "audience"),
            None,
            "the environment's parts set the base audience aside"
        );
        assert!(value(&cfg, gcp, Some("preview"), "audience").is_some());
        let flags = resolve(&cfg, gcp, Some("preview"), &[("pool", "flag-pool")]);
        assert_eq!(
            flags.text(&gcp::settings::AUDIENCE),
            None,
            "a part from a flag outranks the file's audience"
        );
        assert_eq!(flags.text(&gcp::settings::POOL), Some("flag-pool"));
    }

    #[test]
    fn a_policy_file_is_relative_to_the_config_file() {
        let aws = &aws::settings::TABLE;
        let cfg = parse("[aws]\npolicy = \"@policies/build.json\"\n").unwrap();
        assert_eq!(
            value(&cfg, aws, None, "policy").as_deref(),
            Some("@/p/policies/build.json")
        );
        let cfg = parse("[aws]\npolicy = \"@/abs.json\"\n").unwrap();
        assert_eq!(
            value(&cfg, aws, None, "policy").as_deref(),
            Some("@/abs.json")
        );
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
    fn values_are_read_as_toml_writes_them() {
        let aws = &aws::settings::TABLE;
        let gcp = &gcp::settings::TABLE;
        let cases = [
            (
                "[gcp]\nproject_number = 0o17\n",
                gcp,
                "project_number",
                Some("15"),
            ),
            (
                "[aws]\nduration_seconds = 1_000\n",
                aws,
                "duration_seconds",
                Some("1000"),
            ),
            (
                "[aws]\nduration_seconds = +900\n",
                aws,
                "duration_seconds",
                Some("900"),
            ),
            (
                "[gcp]\nproject_number = \"0042\"\n",
                gcp,
                "project_number",
                Some("0042"),
            ),
            ("[aws]\npolicy_arns = []\n", aws, "policy_arns", Some("")),
            (
                "[aws]\ncredentials = \"env\"\n",
                aws,
                "exec_credentials",
                Some("env"),
            ),
            (
                "aws.region = \"eu-west-1\"\n",
                aws,
                "region",
                Some("eu-west-1"),
            ),
            (
                "aws = { region = \"eu-west-1\" }\n",
                aws,
                "region",
                Some("eu-west-1"),
            ),
            (
                "production = { aws = { region = \"eu-west-1\" } }\n",
                aws,
                "region",
                None,
            ),
            ("[aws]\n[preview]\n[production.aws]\n", aws, "region", None),
            ("", aws, "region", None),
        ];
        for (text, table, name, want) in cases {
            let cfg = parse(text).unwrap();
            assert_eq!(value(&cfg, table, None, name).as_deref(), want, "{text:?}");
        }
        let cfg = parse("production = { aws = { region = \"eu-west-1\" } }\n").unwrap();
        assert_eq!(
            value(&cfg, aws, Some("production"), "region").as_deref(),
            Some("eu-west-1")
        );
    }

    #[test]
    fn found_walking_up_or_named() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let env = Env::from_pairs::<&str, &str>([], &nested);
        assert_eq!(
            ProjectConfig::load(&env, None, &crate::clouds::tables()).unwrap(),
            ProjectConfig::default()
        );
        std::fs::write(
            dir.path().join("a/vercel-oidc.toml"),
            "[aws]\nregion = \"x\"\n",
        )
        .unwrap();
        let cfg = ProjectConfig::load(&env, None, &crate::clouds::tables()).unwrap();
        assert_eq!(cfg.path, Some(dir.path().join("a/vercel-oidc.toml")));
        let err = ProjectConfig::load(
            &env,
            Some(Path::new("missing.toml")),
            &crate::clouds::tables(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("cannot read the project config") && err.contains("missing.toml"),
            "{err}"
        );
        let named = Env::from_pairs([(vars::VERCEL_OIDC_CONFIG, "../vercel-oidc.toml")], &nested);
        let named = ProjectConfig::load(&named, None, &crate::clouds::tables()).unwrap();
        assert_eq!(
            value(&named, &aws::settings::TABLE, None, "region").as_deref(),
            Some("x")
        );
    }
}
