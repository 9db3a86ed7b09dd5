//! `doctor`'s listing of each cloud's settings: the value and origin each was resolved with
//! (see [`crate::settings`]), nothing worked out again here.

use crate::settings::{Command, Origin, Resolved, Setting, Value};
use serde::Serialize;
use serde::ser::SerializeMap;

/// One row: a setting's name, its value, and where it came from (`None`: unset).
pub struct Row {
    pub name: &'static str,
    pub value: Option<String>,
    pub origin: Option<Origin>,
}

impl Row {
    pub fn new(name: &'static str, value: Option<&Value>) -> Self {
        Self {
            name,
            value: value.map(|v| v.raw.text()),
            origin: value.map(|v| v.origin.clone()),
        }
    }

    /// A value worked out here (a default derived from the token or other settings).
    pub fn derived(name: &'static str, value: String, origin: Origin) -> Self {
        Self {
            name,
            value: Some(value),
            origin: Some(origin),
        }
    }

    /// Where the value came from, for the report: `--flag`, `env VAR`, `vercel-oidc.toml
    /// [section]`, `default: why`.
    pub fn origin_label(&self) -> String {
        self.origin
            .as_ref()
            .map(Origin::to_string)
            .unwrap_or_default()
    }
}

/// Settings in order; as JSON an object keyed by name, each `{"value", "from", "origin"}`:
/// `from` is `flag`, `env`, `file`, `default` or `unset`; `origin` the flag, the variable, the
/// file or what the default is derived from; a file's rows also name the `section`.
pub struct SettingList(pub Vec<Row>);

impl Serialize for SettingList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for row in &self.0 {
            let mut entry = serde_json::json!({
                "value": row.value,
                "from": row.origin.as_ref().map_or("unset", Origin::kind),
                "origin": origin_text(row.origin.as_ref()),
            });
            if let Some(Origin::File { section, .. }) = &row.origin {
                entry["section"] = section.clone().into();
            }
            map.serialize_entry(row.name, &entry)?;
        }
        map.end()
    }
}

/// The flag, the variable, the file's path, or why a default is what it is.
fn origin_text(origin: Option<&Origin>) -> Option<String> {
    match origin? {
        Origin::Flag(flag) => Some(format!("--{flag}")),
        Origin::Given => None,
        Origin::Env(var) => Some(var.to_string()),
        Origin::File { path, .. } => Some(path.display().to_string()),
        Origin::Default(why) => Some(why.to_string()).filter(|w| !w.is_empty()),
    }
}

/// The rows of `resolved`: every setting doctor takes (those its checks use), in the table's
/// order. An unset one is asked of `derived`, which works out defaults that depend
/// on the token or on other settings.
pub fn listing(resolved: &Resolved, derived: impl Fn(&'static Setting) -> Option<Row>) -> Vec<Row> {
    resolved
        .iter()
        .filter(|(s, _)| s.commands.contains(&Command::DOCTOR))
        .map(|(setting, value)| match value {
            Some(value) => Row::new(setting.name, Some(value)),
            None => derived(setting).unwrap_or_else(|| Row::new(setting.name, None)),
        })
        .collect()
}
