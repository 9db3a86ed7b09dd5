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
//! as the file is read.
//! The file must be a regular file of at most 1 MiB, in UTF-8.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};

use crate::env::Env;
use crate::fsutil::{self, Refused};
use crate::ownership::{Owners, Untrusted};
use crate::settings::{FileLayers, Section, SectionSeed, Table};
use crate::walk::Walk;

pub const FILE_NAME: &str = "vercel-oidc.toml";

/// The Vercel environments that may have sections of their own.
const ENVIRONMENTS: [&str; 3] = ["production", "preview", "development"];

/// The clouds, each with its section and its settings.
pub fn tables() -> [&'static Table; 3] {
    [
        &crate::aws::settings::TABLE,
        &crate::gcp::settings::TABLE,
        &crate::azure::settings::TABLE,
    ]
}

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

/// The file's sections, checked against each cloud's table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct FileShape(Vec<Stored>);

/// A parsed `vercel-oidc.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectConfig {
    pub path: Option<PathBuf>,
    shape: FileShape,
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
    /// `vercel-oidc.toml` walking up from the working directory to the project's root
    /// ([`crate::walk`]); an empty config when none. Either way only a file that no other user
    /// could have written is read ([`crate::ownership`]): a named one that fails the rule is an
    /// error, a found one is passed over with a warning.
    pub fn load(env: &Env, explicit: Option<&Path>) -> Result<Self, ProjectConfigError> {
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
        crate::debug!("using the project config `{}`", path.display());
        Self::parse(&text, &path)
    }

    /// The sections that hold `table`'s settings for a token of `environment`: the
    /// environment's own (`[production.aws]`) over the base one (`[aws]`).
    pub fn layers(&self, table: &Table, environment: Option<&str>) -> FileLayers<'_> {
        let find = |env: Option<&str>| {
            self.shape
                .0
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

impl<'de> Deserialize<'de> for FileShape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ShapeVisitor(None))
    }
}

/// Visits the top of the file (`None`), or an environment's table of clouds.
struct ShapeVisitor(Option<&'static str>);

impl<'de> serde::de::DeserializeSeed<'de> for ShapeVisitor {
    type Value = FileShape;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<FileShape, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = FileShape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tables named after a cloud or a Vercel environment")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FileShape, A::Error> {
        let mut shape = FileShape::default();
        while let Some(key) = map.next_key_seed(TopKeySeed(self.0))? {
            match key {
                TopKey::Cloud(table) => {
                    let section = map.next_value_seed(SectionSeed(table))?;
                    let name = match self.0 {
                        Some(env) => format!("{env}.{}", table.section),
                        None => table.section.to_string(),
                    };
                    shape.0.push(Stored {
                        name,
                        environment: self.0,
                        cloud: table.section,
                        section,
                    });
                }
                TopKey::Environment(env) => {
                    let inner = map.next_value_seed(ShapeVisitor(Some(env)))?;
                    shape.0.extend(inner.0);
                }
            }
        }
        Ok(shape)
    }
}

/// A key of the file's top (a cloud or an environment) or of an environment's table (a cloud).
enum TopKey {
    Cloud(&'static Table),
    Environment(&'static str),
}

impl TopKey {
    fn expected(within: Option<&str>) -> Vec<&'static str> {
        let clouds = tables().map(|t| t.section);
        match within {
            Some(_) => clouds.to_vec(),
            None => clouds.into_iter().chain(ENVIRONMENTS).collect(),
        }
    }
}

/// Reads a key, refusing unknown ones as serde's derive does.
struct TopKeySeed(Option<&'static str>);

impl<'de> serde::de::DeserializeSeed<'de> for TopKeySeed {
    type Value = TopKey;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<TopKey, D::Error> {
        let key = String::deserialize(d)?;
        if let Some(table) = tables().into_iter().find(|t| t.section == key) {
            return Ok(TopKey::Cloud(table));
        }
        match ENVIRONMENTS.iter().find(|e| **e == key) {
            Some(env) if self.0.is_none() => Ok(TopKey::Environment(env)),
            _ => Err(serde::de::Error::custom(format!(
                "unknown field `{key}`, expected one of {}",
                TopKey::expected(self.0)
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
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
        ProjectConfig::parse(text, Path::new("/p/vercel-oidc.toml"))
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
        assert_eq!(
            value(&cfg, aws, Some("production"), "role_arn").as_deref(),
            Some("arn:aws:iam::123456789012:role/production")
        );
        assert_eq!(
            value(&cfg, aws, Some("production"), "region").as_deref(),
            Some("eu-west-1"),
            "unset keys come from the base"
        );
        assert_eq!(
            value(&cfg, aws, Some("preview"), "role_arn").as_deref(),
            Some("arn:aws:iam::123456789012:role/preview")
        );
        assert_eq!(
            value(&cfg, aws, None, "role_arn"),
            value(&cfg, aws, Some("preview"), "role_arn")
        );
        let azure = &azure::settings::TABLE;
        assert_eq!(
            value(&cfg, azure, Some("production"), "client_id").as_deref(),
            Some("00000000-0000-0000-0000-0000000000cd")
        );
        assert_eq!(
            value(&cfg, azure, Some("development"), "client_id").as_deref(),
            Some("00000000-0000-0000-0000-00000000000c")
        );
        let gcp = &gcp::settings::TABLE;
        assert_eq!(
            value(&cfg, gcp, Some("production"), "project_number").as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            value(&cfg, gcp, Some("production"), "source").as_deref(),
            Some("executable")
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

    /// Files refused, each with its whole message between `invalid project config `PATH`: ` and
    /// the line that sends the user to the README.
    const REFUSED: &[(&str, &str)] = &[
        // Sections: named after a cloud or a Vercel environment, each a table.
        (
            "[staging]\n",
            "TOML parse error at line 1, column 2\n  |\n1 | [staging]\n  |  ^^^^^^^\nunknown field `staging`, expected one of `aws`, `gcp`, `azure`, `production`, `preview`, `development`",
        ),
        (
            "staging = 1\n",
            "TOML parse error at line 1, column 1\n  |\n1 | staging = 1\n  | ^^^^^^^\nunknown field `staging`, expected one of `aws`, `gcp`, `azure`, `production`, `preview`, `development`",
        ),
        (
            "[staging.aws]\nrole_arn = \"x\"\n",
            "TOML parse error at line 1, column 2\n  |\n1 | [staging.aws]\n  |  ^^^^^^^\nunknown field `staging`, expected one of `aws`, `gcp`, `azure`, `production`, `preview`, `development`",
        ),
        (
            "[production.staging]\n",
            "TOML parse error at line 1, column 13\n  |\n1 | [production.staging]\n  |             ^^^^^^^\nunknown field `staging`, expected one of `aws`, `gcp`, `azure`",
        ),
        (
            "[production.production.aws]\n",
            "TOML parse error at line 1, column 13\n  |\n1 | [production.production.aws]\n  |             ^^^^^^^^^^\nunknown field `production`, expected one of `aws`, `gcp`, `azure`",
        ),
        (
            "[production]\nx = 1\n",
            "TOML parse error at line 2, column 1\n  |\n2 | x = 1\n  | ^\nunknown field `x`, expected one of `aws`, `gcp`, `azure`",
        ),
        (
            "[aws.production]\n",
            "TOML parse error at line 1, column 6\n  |\n1 | [aws.production]\n  |      ^^^^^^^^^^\nunknown field `production`, expected one of `role_arn`, `session_name`, `duration_seconds`, `region`, `policy_arns`, `policy`, `credentials`",
        ),
        (
            "aws = 1\n",
            "TOML parse error at line 1, column 7\n  |\n1 | aws = 1\n  |       ^\ninvalid type: integer `1`, expected a table of AWS settings",
        ),
        (
            "aws = \"x\"\n",
            "TOML parse error at line 1, column 7\n  |\n1 | aws = \"x\"\n  |       ^^^\ninvalid type: string \"x\", expected a table of AWS settings",
        ),
        (
            "[[aws]]\n",
            "TOML parse error at line 1, column 1\n  |\n1 | [[aws]]\n  | ^^^^^^^\ninvalid type: sequence, expected a table of AWS settings",
        ),
        (
            "production = 1\n",
            "TOML parse error at line 1, column 14\n  |\n1 | production = 1\n  |              ^\ninvalid type: integer `1`, expected tables named after a cloud or a Vercel environment",
        ),
        (
            "[[production.aws]]\n",
            "TOML parse error at line 1, column 1\n  |\n1 | [[production.aws]]\n  | ^^^^^^^^^^^^^^^^^^\ninvalid type: sequence, expected a table of AWS settings",
        ),
        (
            "production = { aws = 1 }\n",
            "TOML parse error at line 1, column 22\n  |\n1 | production = { aws = 1 }\n  |                      ^\ninvalid type: integer `1`, expected a table of AWS settings",
        ),
        (
            "aws = 1979-05-27\n",
            "TOML parse error at line 1, column 7\n  |\n1 | aws = 1979-05-27\n  |       ^^^^^^^^^^\nunknown field `$__toml_private_datetime`, expected one of `role_arn`, `session_name`, `duration_seconds`, `region`, `policy_arns`, `policy`, `credentials`",
        ),
        (
            "production = 07:32:00\n",
            "TOML parse error at line 1, column 14\n  |\n1 | production = 07:32:00\n  |              ^^^^^^^^\nunknown field `$__toml_private_datetime`, expected one of `aws`, `gcp`, `azure`",
        ),
        (
            "aws = 99999999999999999999999\n",
            "TOML parse error at line 1, column 7\n  |\n1 | aws = 99999999999999999999999\n  |       ^^^^^^^^^^^^^^^^^^^^^^^\ninvalid type: integer `99999999999999999999999` as i128, expected a table of AWS settings",
        ),
        (
            "aws = 1e400\n",
            "TOML parse error at line 1, column 7\n  |\n1 | aws = 1e400\n  |       ^^^^^\nfloating-point number overflowed",
        ),
        // Keys: those of the cloud's table.
        (
            "[aws]\nrolearn = \"x\"\n",
            "TOML parse error at line 2, column 1\n  |\n2 | rolearn = \"x\"\n  | ^^^^^^^\nunknown field `rolearn`, expected one of `role_arn`, `session_name`, `duration_seconds`, `region`, `policy_arns`, `policy`, `credentials`",
        ),
        (
            "[gcp]\nbogus = 1\n",
            "TOML parse error at line 2, column 1\n  |\n2 | bogus = 1\n  | ^^^^^\nunknown field `bogus`, expected one of `audience`, `project_number`, `pool`, `provider`, `service_account`, `token_lifetime_seconds`, `token_url`, `impersonation_url`, `scopes`, `project_id`, `source`",
        ),
        (
            "[azure]\nbogus = 1\n",
            "TOML parse error at line 2, column 1\n  |\n2 | bogus = 1\n  | ^^^^^\nunknown field `bogus`, expected one of `tenant_id`, `client_id`, `authority_host`",
        ),
        (
            "[aws]\n\"é\" = 1\n",
            "TOML parse error at line 2, column 1\n  |\n2 | \"é\" = 1\n  | ^^^^\nunknown field `é`, expected one of `role_arn`, `session_name`, `duration_seconds`, `region`, `policy_arns`, `policy`, `credentials`",
        ),
        (
            "[aws]\nfoo.bar = 1\n",
            "TOML parse error at line 2, column 1\n  |\n2 | foo.bar = 1\n  | ^^^\nunknown field `foo`, expected one of `role_arn`, `session_name`, `duration_seconds`, `region`, `policy_arns`, `policy`, `credentials`",
        ),
        // Values of each kind: text.
        (
            "[aws]\nregion = 1\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = 1\n  |          ^\ninvalid type: integer `1`, expected a string",
        ),
        (
            "[aws]\nregion = 1.0\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = 1.0\n  |          ^^^\ninvalid type: floating point `1.0`, expected a string",
        ),
        (
            "[aws]\nregion = true\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = true\n  |          ^^^^\ninvalid type: boolean `true`, expected a string",
        ),
        (
            "[aws]\nregion = 1979-05-27T07:32:00Z\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = 1979-05-27T07:32:00Z\n  |          ^^^^^^^^^^^^^^^^^^^^\ninvalid type: map, expected a string",
        ),
        (
            "[aws]\nregion = [\"x\"]\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = [\"x\"]\n  |          ^^^^^\ninvalid type: sequence, expected a string",
        ),
        (
            "[aws]\nregion = {}\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = {}\n  |          ^^\ninvalid type: map, expected a string",
        ),
        (
            "[aws]\nregion = 9223372036854775808\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = 9223372036854775808\n  |          ^^^^^^^^^^^^^^^^^^^\ninvalid value: integer `9223372036854775808`, expected a string",
        ),
        (
            "[aws]\nregion = 200000000000000000000000000000000000000\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = 200000000000000000000000000000000000000\n  |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\ninvalid type: integer `200000000000000000000000000000000000000` as u128, expected a string",
        ),
        (
            "[aws]\nregion = nan\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = nan\n  |          ^^^\ninvalid type: floating point `NaN`, expected a string",
        ),
        (
            "[aws]\nregion = 0b101\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = 0b101\n  |          ^^^^^\ninvalid type: integer `5`, expected a string",
        ),
        // Seconds: a whole number that fits in 32 bits.
        (
            "[aws]\nduration_seconds = \"long\"\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = \"long\"\n  |                    ^^^^^^\ninvalid type: string \"long\", expected a whole number of seconds",
        ),
        (
            "[aws]\nduration_seconds = -1\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = -1\n  |                    ^^\ninvalid value: integer `-1`, expected a whole number of seconds",
        ),
        (
            "[aws]\nduration_seconds = 4294967296\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = 4294967296\n  |                    ^^^^^^^^^^\ninvalid value: integer `4294967296`, expected a whole number of seconds",
        ),
        (
            "[aws]\nduration_seconds = 1.5\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = 1.5\n  |                    ^^^\ninvalid type: floating point `1.5`, expected a whole number of seconds",
        ),
        (
            "[aws]\nduration_seconds = -inf\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = -inf\n  |                    ^^^^\ninvalid type: floating point `-inf`, expected a whole number of seconds",
        ),
        (
            "[aws]\nduration_seconds = 1e400\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = 1e400\n  |                    ^^^^^\nfloating-point number overflowed",
        ),
        (
            "[aws]\nduration_seconds = 99999999999999999999999\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = 99999999999999999999999\n  |                    ^^^^^^^^^^^^^^^^^^^^^^^\ninvalid type: integer `99999999999999999999999` as i128, expected a whole number of seconds",
        ),
        (
            "[aws]\nduration_seconds = 999999999999999999999999999999999999999999999\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = 999999999999999999999999999999999999999999999\n  |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\ninteger number overflowed",
        ),
        (
            "[aws]\nduration_seconds = false\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = false\n  |                    ^^^^^\ninvalid type: boolean `false`, expected a whole number of seconds",
        ),
        (
            "[aws]\nduration_seconds = []\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = []\n  |                    ^^\ninvalid type: sequence, expected a whole number of seconds",
        ),
        // Number: an integer, or digits in a string.
        (
            "[gcp]\nproject_number = 1.5\n",
            "TOML parse error at line 2, column 18\n  |\n2 | project_number = 1.5\n  |                  ^^^\ninvalid type: floating point `1.5`, expected a number, or digits in a string",
        ),
        (
            "[gcp]\nproject_number = -5\n",
            "TOML parse error at line 2, column 18\n  |\n2 | project_number = -5\n  |                  ^^\ninvalid value: integer `-5`, expected a number, or digits in a string",
        ),
        (
            "[gcp]\nproject_number = 9223372036854775808\n",
            "TOML parse error at line 2, column 18\n  |\n2 | project_number = 9223372036854775808\n  |                  ^^^^^^^^^^^^^^^^^^^\ninvalid value: integer `9223372036854775808`, expected a number, or digits in a string",
        ),
        (
            "[gcp]\nproject_number = [1]\n",
            "TOML parse error at line 2, column 18\n  |\n2 | project_number = [1]\n  |                  ^^^\ninvalid type: sequence, expected a number, or digits in a string",
        ),
        (
            "[gcp]\nproject_number = 1979-05-27\n",
            "TOML parse error at line 2, column 18\n  |\n2 | project_number = 1979-05-27\n  |                  ^^^^^^^^^^\ninvalid type: map, expected a number, or digits in a string",
        ),
        // List: an array of strings; a wrong item is pointed at.
        (
            "[gcp]\nscopes = \"x\"\n",
            "TOML parse error at line 2, column 10\n  |\n2 | scopes = \"x\"\n  |          ^^^\ninvalid type: string \"x\", expected an array of strings",
        ),
        (
            "[gcp]\nscopes = 1\n",
            "TOML parse error at line 2, column 10\n  |\n2 | scopes = 1\n  |          ^\ninvalid type: integer `1`, expected an array of strings",
        ),
        (
            "[gcp]\nscopes = [1]\n",
            "TOML parse error at line 2, column 11\n  |\n2 | scopes = [1]\n  |           ^\ninvalid type: integer `1`, expected a string",
        ),
        (
            "[gcp]\nscopes = [\"https://www.googleapis.com/auth/x\", [1]]\n",
            "TOML parse error at line 2, column 48\n  |\n2 | scopes = [\"https://www.googleapis.com/auth/x\", [1]]\n  |                                                ^^^\ninvalid type: sequence, expected a string",
        ),
        (
            "[gcp]\nscopes = [{}]\n",
            "TOML parse error at line 2, column 11\n  |\n2 | scopes = [{}]\n  |           ^^\ninvalid type: map, expected a string",
        ),
        (
            "[gcp]\nscopes = [9223372036854775808]\n",
            "TOML parse error at line 2, column 11\n  |\n2 | scopes = [9223372036854775808]\n  |           ^^^^^^^^^^^^^^^^^^^\ninvalid type: integer `9223372036854775808`, expected a string",
        ),
        (
            "[gcp]\nscopes = [99999999999999999999999]\n",
            "TOML parse error at line 2, column 11\n  |\n2 | scopes = [99999999999999999999999]\n  |           ^^^^^^^^^^^^^^^^^^^^^^^\ninvalid type: integer `99999999999999999999999` as i128, expected a string",
        ),
        (
            "[gcp]\nscopes = [200000000000000000000000000000000000000]\n",
            "TOML parse error at line 2, column 11\n  |\n2 | scopes = [200000000000000000000000000000000000000]\n  |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\ninvalid type: integer `200000000000000000000000000000000000000` as u128, expected a string",
        ),
        (
            "[gcp]\nscopes = [999999999999999999999999999999999999999999999]\n",
            "TOML parse error at line 2, column 11\n  |\n2 | scopes = [999999999999999999999999999999999999999999999]\n  |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\ninteger number overflowed",
        ),
        (
            "[gcp]\nscopes = [1e400]\n",
            "TOML parse error at line 2, column 11\n  |\n2 | scopes = [1e400]\n  |           ^^^^^\nfloating-point number overflowed",
        ),
        (
            "[gcp]\nscopes = [true]\n",
            "TOML parse error at line 2, column 11\n  |\n2 | scopes = [true]\n  |           ^^^^\ninvalid type: boolean `true`, expected a string",
        ),
        (
            "[gcp]\nscopes = [1979-05-27]\n",
            "TOML parse error at line 2, column 11\n  |\n2 | scopes = [1979-05-27]\n  |           ^^^^^^^^^^\ninvalid type: map, expected a string",
        ),
        // Choice: one of its words.
        (
            "[gcp]\nsource = \"url\"\n",
            "TOML parse error at line 2, column 10\n  |\n2 | source = \"url\"\n  |          ^^^^^\nunknown variant `url`, expected `file` or `executable`",
        ),
        (
            "[gcp]\nsource = \"File\"\n",
            "TOML parse error at line 2, column 10\n  |\n2 | source = \"File\"\n  |          ^^^^^^\nunknown variant `File`, expected `file` or `executable`",
        ),
        (
            "[gcp]\nsource = 1\n",
            "TOML parse error at line 2, column 10\n  |\n2 | source = 1\n  |          ^\ninvalid type: integer `1`, expected `file` or `executable`",
        ),
        (
            "[gcp]\nsource = [\"file\"]\n",
            "TOML parse error at line 2, column 10\n  |\n2 | source = [\"file\"]\n  |          ^^^^^^^^\ninvalid type: sequence, expected `file` or `executable`",
        ),
        (
            "[gcp]\nsource = 9223372036854775808\n",
            "TOML parse error at line 2, column 10\n  |\n2 | source = 9223372036854775808\n  |          ^^^^^^^^^^^^^^^^^^^\ninvalid value: integer `9223372036854775808`, expected `file` or `executable`",
        ),
        (
            "[aws]\ncredentials = \"bogus\"\n",
            "TOML parse error at line 2, column 15\n  |\n2 | credentials = \"bogus\"\n  |               ^^^^^^^\nunknown variant `bogus`, expected `endpoint` or `env`",
        ),
        // Each setting's own check, pointed at the value (the carets count bytes, capped at the line).
        (
            "[aws]\nduration_seconds = 4294967295\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = 4294967295\n  |                    ^^^^^^^^^^\nduration 4294967295s is out of range",
        ),
        (
            "[aws]\nduration_seconds = 0x10\n",
            "TOML parse error at line 2, column 20\n  |\n2 | duration_seconds = 0x10\n  |                    ^^^^\nduration 16s is out of range",
        ),
        (
            "[gcp]\nproject_number = \"12a\"\n",
            "TOML parse error at line 2, column 18\n  |\n2 | project_number = \"12a\"\n  |                  ^^^^^\nproject number `12a` is not a number",
        ),
        (
            "[gcp]\nscopes = [\"bad scope\"]\n",
            "TOML parse error at line 2, column 10\n  |\n2 | scopes = [\"bad scope\"]\n  |          ^^^^^^^^^^^^^\nscope `bad scope` is not valid",
        ),
        (
            "[gcp]\nscopes = [\n  \"bad scope\",\n]\n",
            "TOML parse error at line 2, column 10\n  |\n2 | scopes = [\n  |          ^\nscope `bad scope` is not valid",
        ),
        (
            "[aws]\npolicy_arns = [\"x\"]\n",
            "TOML parse error at line 2, column 15\n  |\n2 | policy_arns = [\"x\"]\n  |               ^^^^^\n`x` is not an IAM policy ARN",
        ),
        (
            "[aws]\nrole_arn = \"é/x\"\n",
            "TOML parse error at line 2, column 12\n  |\n2 | role_arn = \"é/x\"\n  |            ^^^^^^\n`é/x` is not an IAM role ARN",
        ),
        (
            "[aws]\nrole_arn = \"\"\"\nééééé\"\"\"\n",
            "TOML parse error at line 2, column 12\n  |\n2 | role_arn = \"\"\"\n  |            ^^^\n`ééééé` is not an IAM role ARN",
        ),
        (
            "[aws]\nrole_arn = \"\"\"é\nx\"\"\"\n",
            "TOML parse error at line 2, column 12\n  |\n2 | role_arn = \"\"\"é\n  |            ^^^^^\n`é\\nx` is not an IAM role ARN",
        ),
        (
            "aws.role_arn = \"x\"\n",
            "TOML parse error at line 1, column 16\n  |\n1 | aws.role_arn = \"x\"\n  |                ^^^\n`x` is not an IAM role ARN",
        ),
        (
            "[preview]\ngcp = { pool = \"Bad\" }\n",
            "TOML parse error at line 2, column 16\n  |\n2 | gcp = { pool = \"Bad\" }\n  |                ^^^^^\nworkload identity pool id `Bad` is not valid",
        ),
        (
            "[aws]\n\tregion = 1\n",
            "TOML parse error at line 2, column 11\n  |\n2 | \tregion = 1\n  |           ^\ninvalid type: integer `1`, expected a string",
        ),
        (
            "[aws]\r\nregion = 1\r\n",
            "TOML parse error at line 2, column 10\n  |\n2 | region = 1\r\n  |          ^\ninvalid type: integer `1`, expected a string",
        ),
        // Sections and keys are checked in name order, so the first error is the first by name.
        (
            "[preview.gcp]\npool = \"Bad\"\n[aws]\nregion = \"bad region\"\n",
            "TOML parse error at line 4, column 10\n  |\n4 | region = \"bad region\"\n  |          ^^^^^^^^^^^^\n`bad region` is not an AWS region name",
        ),
        (
            "[aws]\nrole_arn = \"y\"\nregion = \"bad region\"\n",
            "TOML parse error at line 3, column 10\n  |\n3 | region = \"bad region\"\n  |          ^^^^^^^^^^^^\n`bad region` is not an AWS region name",
        ),
        // TOML syntax, the parser's own words.
        (
            "[aws\n",
            "TOML parse error at line 1, column 5\n  |\n1 | [aws\n  |     ^\nunclosed table, expected `]`",
        ),
        (
            "[aws]\nregion = \"eu-west-1\"\nregion = \"x\"\n",
            "TOML parse error at line 3, column 1\n  |\n3 | region = \"x\"\n  | ^^^^^^\nduplicate key",
        ),
        (
            "[aws]\n[aws]\n",
            "TOML parse error at line 2, column 2\n  |\n2 | [aws]\n  |  ^^^\nduplicate key",
        ),
        (
            "[aws]\nregion = \"x\"\r",
            "TOML parse error at line 2, column 14\n  |\n2 | region = \"x\"\r\n  |              ^\ncarriage return must be followed by newline, expected newline",
        ),
    ];

    #[test]
    fn a_refused_file_gets_an_exact_message() {
        for (text, want) in REFUSED {
            let err = parse(text).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "invalid project config `/p/vercel-oidc.toml`: {want}\n  see the `vercel-oidc.toml` section of the README for the keys each section takes"
                ),
                "{text:?}"
            );
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
        let named = Env::from_pairs([(vars::VERCEL_OIDC_CONFIG, "../vercel-oidc.toml")], &nested);
        let named = ProjectConfig::load(&named, None).unwrap();
        assert_eq!(
            value(&named, &aws::settings::TABLE, None, "region").as_deref(),
            Some("x")
        );
    }
}
