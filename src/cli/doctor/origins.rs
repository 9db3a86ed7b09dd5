//! Where each setting of `doctor`'s report came from: a flag, its environment variable, the
//! project config, or a default.

use std::path::{Path, PathBuf};

use clap::Args as _;
use serde::Serialize;
use serde::ser::SerializeMap;
use vercel_oidc::Env;

use super::DoctorArgs;

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    Flag(String),
    Env(String),
    File(PathBuf),
    /// A default, and what it is derived from.
    Default(&'static str),
    Unset,
}

pub(super) struct Setting {
    pub(super) name: &'static str,
    pub(super) value: Option<String>,
    pub(super) origin: Origin,
}

/// Settings in order; as JSON an object keyed by name, each `{"value", "from", "origin"}`:
/// `from` is `flag`, `env`, `file`, `default` or `unset`; `origin` the flag, the variable, the
/// file or what the default is derived from.
pub(super) struct SettingList(pub(super) Vec<Setting>);

impl Serialize for SettingList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for setting in &self.0 {
            let (from, origin) = match &setting.origin {
                Origin::Flag(f) => ("flag", Some(f.clone())),
                Origin::Env(v) => ("env", Some(v.clone())),
                Origin::File(p) => ("file", Some(p.display().to_string())),
                Origin::Default(why) => {
                    ("default", Some(why.to_string()).filter(|w| !w.is_empty()))
                }
                Origin::Unset => ("unset", None),
            };
            map.serialize_entry(
                setting.name,
                &serde_json::json!({ "value": setting.value, "from": from, "origin": origin }),
            )?;
        }
        map.end()
    }
}

/// Tells a flag from its environment variable, and both from the project config.
pub(super) struct Origins<'a> {
    env: &'a Env,
    file: Option<&'a Path>,
    /// The doctor's own arguments, for the environment variable behind each flag.
    command: clap::Command,
}

impl<'a> Origins<'a> {
    pub(super) fn new(env: &'a Env, file: Option<&'a Path>) -> Self {
        Self {
            env,
            file,
            command: DoctorArgs::augment_args(clap::Command::new("doctor")),
        }
    }

    /// A setting whose value was `given` by a flag or its variable, or else `resolved` from the
    /// project config, or else `default`. A flag with the same value as its variable counts as
    /// the variable: the two cannot be told apart here, and either gives the same result.
    /// A setting with no default, as most are.
    pub(super) fn plain(
        &self,
        name: &'static str,
        long: &str,
        given: &Option<String>,
        resolved: &Option<String>,
    ) -> Setting {
        self.setting(name, long, given.clone(), resolved.clone(), None)
    }

    pub(super) fn setting(
        &self,
        name: &'static str,
        long: &str,
        given: Option<String>,
        resolved: Option<String>,
        default: Option<(String, &'static str)>,
    ) -> Setting {
        let origin = match (&given, &resolved, &default) {
            (Some(value), _, _) => {
                let var = self
                    .command
                    .get_arguments()
                    .find(|a| a.get_long() == Some(long))
                    .and_then(|a| a.get_env())
                    .and_then(|v| v.to_str());
                match var {
                    Some(var) if self.env.get(var).map(str::trim) == Some(value.trim()) => {
                        Origin::Env(var.to_string())
                    }
                    _ => Origin::Flag(format!("--{long}")),
                }
            }
            (None, Some(_), _) => Origin::File(
                self.file
                    .map_or_else(|| PathBuf::from("vercel-oidc.toml"), Path::to_path_buf),
            ),
            (None, None, Some((_, why))) => Origin::Default(why),
            (None, None, None) => Origin::Unset,
        };
        let value = given
            .or(resolved)
            .or_else(|| default.map(|(value, _)| value));
        Setting {
            name,
            value,
            origin,
        }
    }
}

pub(super) fn list(values: &[String]) -> Option<String> {
    (!values.is_empty()).then(|| values.join(","))
}
