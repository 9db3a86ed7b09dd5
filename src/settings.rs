//! Settings, each described once.
//!
//! Every cloud has one [`Table`], in its folder's `settings.rs` ([`crate::clouds::tables`] lists
//! them). A [`Setting`] names its flag, environment variable, `vercel-oidc.toml` key, default,
//! check and help line; from the table come the command-line flags, the project file's keys and
//! their checks, the merge in precedence order, doctor's listing, whether a cloud is configured,
//! and the flags `configure` writes into a profile line.
//!
//! Precedence, for every setting: a value given in code or by flag ([`Given`]), then its
//! environment variable, then `vercel-oidc.toml` (the section of the token's environment, then
//! the base section), then the variables of other tools it inherits (`AWS_REGION`), then its
//! default. Each [`Value`] keeps the [`Origin`] it was resolved from.

use std::fmt;
use std::path::PathBuf;

use crate::env::Env;
use crate::problem::{Explain, Explanation};

/// A command that takes settings as flags (the command line's, behind the `cli` feature), by
/// the words that follow `vercel-oidc`: `exec`, `aws credential-process`. Each cloud names its
/// own commands beside its settings.
#[cfg(feature = "cli")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command(pub &'static str);

#[cfg(feature = "cli")]
impl Command {
    /// `vercel-oidc exec`, which takes every cloud's settings.
    pub const EXEC: Self = Self("exec");
    /// `vercel-oidc doctor`, which takes every cloud's settings and checks none of them.
    pub const DOCTOR: Self = Self("doctor");

    /// The words that follow `vercel-oidc`: `aws credential-process`.
    pub fn path(self) -> &'static str {
        self.0
    }
}

/// What a setting's value looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One string.
    Text,
    /// A whole number of seconds; an integer in the project file.
    Seconds,
    /// Digits, written as an integer or a string in the project file.
    Number,
    /// Several strings: a repeated flag, a comma-separated variable, an array in the file.
    List,
    /// One of these words.
    Choice(&'static [&'static str]),
}

/// What a setting is when nothing sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenUnset {
    /// Nothing: unset.
    None,
    /// This value; `why` says where it comes from (may be empty). With `only_with`, only when
    /// that other setting of the table has a value.
    Value {
        value: &'static str,
        why: &'static str,
        only_with: Option<&'static str>,
    },
    /// Worked out by the code that uses it (from the token, from other settings); `why` says how.
    Derived(&'static str),
}

/// A setting's own check of a value: what is wrong with it.
pub type Check = fn(&Raw) -> Result<(), String>;

/// One setting.
#[derive(Debug)]
pub struct Setting {
    /// Its name in doctor's report: `role_arn`.
    pub name: &'static str,
    /// Its key in the cloud's section of `vercel-oidc.toml`, when the file may set it.
    pub file_key: Option<&'static str>,
    /// Its long flag, without the dashes.
    pub flag: Option<&'static str>,
    pub value_name: &'static str,
    /// Its own environment variable.
    pub env: Option<&'static str>,
    /// Other tools' variables it falls back on after the project file, in order.
    pub inherits: &'static [&'static str],
    pub kind: Kind,
    pub default: WhenUnset,
    /// The flag's short help: one line, imperative.
    pub help: &'static str,
    /// Further paragraphs of `--help`; empty when none.
    pub long_help: &'static str,
    /// A valid value: shown in `--help`, and used by the tests of every setting.
    pub example: &'static str,
    /// The setting's own check, run on values from the project file as it is read; the message
    /// is what is wrong (the file's error adds where).
    pub check: Option<Check>,
    /// The commands that take its flag.
    #[cfg(feature = "cli")]
    pub commands: &'static [Command],
    /// Set aside when one of these settings has a value from a stronger source (a GCP audience
    /// and the three parts that it would otherwise win over).
    pub yields_to: &'static [&'static str],
    /// `@path` values in the project file are relative to the file's folder.
    pub at_path: bool,
}

impl Setting {
    /// How a derived default is worked out (its [`WhenUnset::Derived`] text); empty for others.
    pub fn derivation(&self) -> &'static str {
        match self.default {
            WhenUnset::Derived(how) => how,
            _ => "",
        }
    }

    /// What most settings leave as it is, for `..Setting::BASE`: a text value with no default,
    /// no inherited variable, no check of its own.
    pub const BASE: Self = Self {
        name: "",
        file_key: None,
        flag: None,
        value_name: "",
        env: None,
        inherits: &[],
        kind: Kind::Text,
        default: WhenUnset::None,
        help: "",
        long_help: "",
        example: "",
        check: None,
        #[cfg(feature = "cli")]
        commands: &[],
        yields_to: &[],
        at_path: false,
    };
}

/// The settings of one cloud.
#[derive(Debug)]
pub struct Table {
    /// The section name in `vercel-oidc.toml`: `aws`.
    pub section: &'static str,
    /// `AWS`.
    pub title: &'static str,
    pub settings: &'static [&'static Setting],
    /// The cloud counts as configured when every setting of one of these groups has a value.
    pub configured_when: &'static [&'static [&'static str]],
}

impl Table {
    pub fn setting(&self, name: &str) -> Option<&'static Setting> {
        self.settings.iter().copied().find(|s| s.name == name)
    }

    /// The settings whose flag `command` takes.
    #[cfg(feature = "cli")]
    pub fn for_command(&self, command: Command) -> impl Iterator<Item = &'static Setting> + '_ {
        self.settings
            .iter()
            .copied()
            .filter(move |s| s.flag.is_some() && s.commands.contains(&command))
    }

    pub fn file_keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.settings.iter().filter_map(|s| s.file_key)
    }

    /// The setting whose key in the project file is `key`.
    pub(crate) fn by_file_key(&self, key: &str) -> Option<&'static Setting> {
        self.settings
            .iter()
            .copied()
            .find(|s| s.file_key == Some(key))
    }
}

/// A setting's value as given, before its typed use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Raw {
    One(String),
    List(Vec<String>),
}

impl Raw {
    /// The value as one string: a list joined with commas.
    pub fn text(&self) -> String {
        match self {
            Self::One(v) => v.clone(),
            Self::List(items) => items.join(","),
        }
    }

    /// The value, or a list's first item.
    pub fn first(&self) -> &str {
        match self {
            Self::One(v) => v,
            Self::List(items) => items.first().map_or("", String::as_str),
        }
    }

    fn from_env(kind: Kind, value: &str) -> Self {
        match kind {
            Kind::List => Self::List(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            _ => Self::One(value.to_string()),
        }
    }
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The command line: the flag's long name, without the dashes.
    Flag(&'static str),
    /// Set in code, as the Rust provider's builder does.
    Given,
    /// This environment variable.
    Env(&'static str),
    /// `vercel-oidc.toml` at `path`, in `section` (`aws` or `production.aws`).
    File { path: PathBuf, section: String },
    /// The default; what it is, or how it was worked out (may be empty).
    Default(&'static str),
}

impl Origin {
    /// How strong the source is, for [`Setting::yields_to`]: given and the setting's own
    /// variable alike, then the file's environment section, then its base section, then the
    /// variables of other tools it inherits, then the default.
    fn tier(&self, setting: &Setting, base_section: &str) -> u8 {
        match self {
            Self::Flag(_) | Self::Given => 0,
            Self::Env(var) if setting.env == Some(*var) => 0,
            Self::File { section, .. } if section != base_section => 1,
            Self::File { .. } => 2,
            Self::Env(_) => 3,
            Self::Default(_) => 4,
        }
    }

    /// `setting` as it was set here, for a message: `--flag`, the variable, or its key in the
    /// project file (`` `key` in vercel-oidc.toml [section] ``).
    pub fn naming(&self, setting: &Setting) -> String {
        match self {
            Self::Flag(flag) => format!("--{flag}"),
            Self::Env(var) => (*var).to_string(),
            Self::File { .. } => {
                format!("`{}` in {self}", setting.file_key.unwrap_or(setting.name))
            }
            Self::Given | Self::Default(_) => format!("`{}`", setting.name),
        }
    }

    /// `flag`, `env`, `file`, `default`: its kind, for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Flag(_) => "flag",
            Self::Given => "code",
            Self::Env(_) => "env",
            Self::File { .. } => "file",
            Self::Default(_) => "default",
        }
    }
}

impl fmt::Display for Origin {
    /// `--role-arn`, `env AWS_ROLE_ARN`, `vercel-oidc.toml [production.aws]`, `default: why`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => write!(f, "--{flag}"),
            Self::Given => f.write_str("set in code"),
            Self::Env(var) => write!(f, "env {var}"),
            Self::File { path, section } => {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into(),
                );
                write!(f, "{name} [{section}]")
            }
            Self::Default("") => f.write_str("default"),
            Self::Default(why) => write!(f, "default: {why}"),
        }
    }
}

/// A resolved value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub raw: Raw,
    pub origin: Origin,
}

/// Values given ahead of the environment: flags, or a builder's calls.
#[derive(Clone, Debug, Default)]
pub struct Given(Vec<(&'static str, &'static str, Value)>);

impl Given {
    /// Gives `setting` of `table` this value.
    pub fn set(&mut self, table: &Table, setting: &Setting, raw: Raw, origin: Origin) {
        self.0
            .retain(|(t, s, _)| !(*t == table.section && *s == setting.name));
        self.0
            .push((table.section, setting.name, Value { raw, origin }));
    }

    /// Adds one item to a list setting given in code.
    pub fn push(&mut self, table: &Table, setting: &Setting, item: String) {
        let mut items = match self.get(table, setting).map(|v| &v.raw) {
            Some(Raw::List(items)) => items.clone(),
            _ => Vec::new(),
        };
        items.push(item);
        self.set(table, setting, Raw::List(items), Origin::Given);
    }

    fn get(&self, table: &Table, setting: &Setting) -> Option<&Value> {
        self.0
            .iter()
            .find(|(t, s, _)| *t == table.section && *s == setting.name)
            .map(|(_, _, v)| v)
    }
}

/// The project file's sections that apply to one cloud for a token of one environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileLayers<'a> {
    pub path: Option<&'a std::path::Path>,
    /// `production.aws` and its values.
    pub environment: Option<(&'a str, &'a Section)>,
    /// `aws` and its values.
    pub base: Option<&'a Section>,
}

/// One section of `vercel-oidc.toml`, its values checked as the file was read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section(pub(crate) Vec<(&'static str, Raw)>);

impl Section {
    fn get(&self, setting: &Setting) -> Option<&Raw> {
        self.0
            .iter()
            .find(|(name, _)| *name == setting.name)
            .map(|(_, raw)| raw)
    }
}

/// The settings of one cloud, each with its value and origin.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub table: &'static Table,
    values: Vec<Option<Value>>,
}

/// A value that is not what its setting takes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.explain())]
pub struct BadValue {
    pub problem: String,
    pub fix: String,
}

impl Explain for BadValue {
    fn explain(&self) -> Explanation {
        Explanation::new(&self.problem, &self.fix)
    }
}

impl Resolved {
    /// Resolves every setting of `table` in precedence order (see the module docs).
    pub fn resolve(table: &'static Table, given: &Given, env: &Env, file: FileLayers<'_>) -> Self {
        let mut values: Vec<Option<Value>> = table
            .settings
            .iter()
            .map(|s| Self::strongest(table, s, given, env, &file))
            .collect();
        for (i, setting) in table.settings.iter().enumerate() {
            let tier_of = |j: usize| {
                let other = table.settings[j];
                values[j]
                    .as_ref()
                    .map(|v| v.origin.tier(other, table.section))
            };
            let Some(tier) = tier_of(i) else {
                continue;
            };
            let outranked = setting.yields_to.iter().any(|other| {
                table
                    .settings
                    .iter()
                    .position(|s| s.name == *other)
                    .and_then(tier_of)
                    .is_some_and(|t| t < tier)
            });
            if outranked {
                values[i] = None;
            }
        }
        let mut resolved = Self { table, values };
        resolved.fill_defaults();
        resolved
    }

    /// The value from the strongest source that has one, defaults aside.
    fn strongest(
        table: &Table,
        setting: &'static Setting,
        given: &Given,
        env: &Env,
        file: &FileLayers<'_>,
    ) -> Option<Value> {
        // An empty value given counts as unset, as an empty variable does.
        if let Some(value) = given
            .get(table, setting)
            .filter(|v| !v.raw.text().trim().is_empty())
        {
            return Some(value.clone());
        }
        let from_env = |var: &'static str| {
            env.get(var).map(|v| Value {
                raw: Raw::from_env(setting.kind, v),
                origin: Origin::Env(var),
            })
        };
        if let Some(value) = setting.env.and_then(from_env) {
            return Some(value);
        }
        let base = file.base.map(|s| (table.section, s));
        let sections = file.environment.into_iter().chain(base);
        for (name, section) in sections {
            if let Some(raw) = section.get(setting) {
                return Some(Value {
                    raw: file_relative(setting, raw, file.path),
                    origin: Origin::File {
                        path: file.path.map(PathBuf::from).unwrap_or_default(),
                        section: name.to_string(),
                    },
                });
            }
        }
        setting.inherits.iter().copied().find_map(from_env)
    }

    fn fill_defaults(&mut self) {
        for (i, setting) in self.table.settings.iter().enumerate() {
            if self.values[i].is_some() {
                continue;
            }
            if let WhenUnset::Value {
                value,
                why,
                only_with,
            } = setting.default
                && only_with.is_none_or(|other| self.has(other))
            {
                let raw = match setting.kind {
                    Kind::List => Raw::List(vec![value.to_string()]),
                    _ => Raw::One(value.to_string()),
                };
                self.values[i] = Some(Value {
                    raw,
                    origin: Origin::Default(why),
                });
            }
        }
    }

    fn has(&self, name: &str) -> bool {
        self.table
            .settings
            .iter()
            .zip(&self.values)
            .any(|(s, v)| s.name == name && v.is_some())
    }

    /// Each setting with its value, in the table's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static Setting, Option<&Value>)> + '_ {
        self.table
            .settings
            .iter()
            .copied()
            .zip(self.values.iter().map(Option::as_ref))
    }

    pub fn get(&self, setting: &Setting) -> Option<&Value> {
        self.iter()
            .find(|(s, _)| s.name == setting.name)
            .and_then(|(_, v)| v)
    }

    /// The value, unless it is the default.
    pub fn set_value(&self, setting: &Setting) -> Option<&Value> {
        self.get(setting)
            .filter(|v| !matches!(v.origin, Origin::Default(_)))
    }

    /// A one-string setting's value; `None` when unset.
    pub fn text(&self, setting: &Setting) -> Option<&str> {
        match self.get(setting).map(|v| &v.raw) {
            Some(Raw::One(v)) => Some(v),
            _ => None,
        }
    }

    /// A list setting's items; empty when unset.
    pub fn list(&self, setting: &Setting) -> &[String] {
        match self.get(setting).map(|v| &v.raw) {
            Some(Raw::List(items)) => items,
            _ => &[],
        }
    }

    /// A number setting's value.
    pub fn number(&self, setting: &Setting) -> Result<Option<u32>, BadValue> {
        let Some(value) = self.get(setting) else {
            return Ok(None);
        };
        let text = value.raw.text();
        text.trim().parse::<u32>().map(Some).map_err(|_| BadValue {
            problem: format!(
                "`{}` from {} is not a whole number",
                text.escape_debug(),
                value.origin
            ),
            fix: format!("give {} as digits, such as 3600", describe(setting)),
        })
    }

    /// A choice setting's word.
    pub fn choice(&self, setting: &Setting) -> Result<Option<&'static str>, BadValue> {
        let Kind::Choice(words) = setting.kind else {
            return Ok(None);
        };
        let Some(value) = self.get(setting) else {
            return Ok(None);
        };
        let text = value.raw.text();
        match words.iter().find(|w| **w == text) {
            Some(word) => Ok(Some(word)),
            None => Err(BadValue {
                problem: format!("`{}` is {}", text.escape_debug(), not_one_of(words)),
                fix: format!(
                    "set {} to {} (this one came from {})",
                    describe(setting),
                    one_of(words),
                    value.origin
                ),
            }),
        }
    }

    /// Whether the cloud has what it cannot do without (the table's `configured_when`).
    pub fn configured(&self) -> bool {
        self.table.configured_when.iter().any(|group| {
            group.iter().all(|name| {
                self.table
                    .setting(name)
                    .is_some_and(|s| self.get(s).is_some())
            })
        })
    }

    /// The settings `command` takes as flags that are set here by a flag, a variable of their
    /// own, code or the project file (not defaults, nor other tools' variables): what a profile
    /// line must carry to resolve the same values elsewhere.
    #[cfg(feature = "cli")]
    pub fn pinned(
        &self,
        command: Command,
    ) -> impl Iterator<Item = (&'static Setting, &Value)> + '_ {
        self.iter().filter_map(move |(s, v)| {
            let v = v?;
            let pinned = match &v.origin {
                Origin::Flag(_) | Origin::Given | Origin::File { .. } => true,
                Origin::Env(var) => s.env == Some(*var),
                Origin::Default(_) => false,
            };
            (pinned && s.commands.contains(&command) && s.flag.is_some()).then_some((s, v))
        })
    }
}

/// Settings of `table` given by name as their flags would give them (a list's items separated by
/// commas), over `env`: for tests.
#[cfg(test)]
pub(crate) fn resolved_from(table: &'static Table, pairs: &[(&str, &str)], env: &Env) -> Resolved {
    let pairs: Vec<(&str, Option<&str>)> = pairs.iter().map(|(k, v)| (*k, Some(*v))).collect();
    resolved_from_options(table, &pairs, env)
}

/// [`resolved_from`] leaving out the settings given `None`.
#[cfg(test)]
pub(crate) fn resolved_from_options(
    table: &'static Table,
    pairs: &[(&str, Option<&str>)],
    env: &Env,
) -> Resolved {
    let mut given = Given::default();
    for (name, value) in pairs.iter().filter_map(|(k, v)| Some((k, (*v)?))) {
        let setting = table.setting(name).expect("a setting of the table");
        let origin = setting.flag.map_or(Origin::Given, Origin::Flag);
        given.set(table, setting, Raw::from_env(setting.kind, value), origin);
    }
    Resolved::resolve(table, &given, env, FileLayers::default())
}

/// A project-file value with `@path` made relative to the file's folder.
fn file_relative(setting: &Setting, raw: &Raw, path: Option<&std::path::Path>) -> Raw {
    let dir = path.and_then(std::path::Path::parent);
    match (raw, dir) {
        (Raw::One(v), Some(dir)) if setting.at_path => match v.strip_prefix('@') {
            Some(file) if std::path::Path::new(file).is_relative() => {
                Raw::One(format!("@{}", dir.join(file).display()))
            }
            _ => raw.clone(),
        },
        _ => raw.clone(),
    }
}

/// `--flag or VAR`, for messages that send the user to the command line.
pub(crate) fn flag_or_variable(setting: &Setting) -> String {
    ways(setting, false)
}

/// `--flag, VAR or `key` in vercel-oidc.toml`, for messages.
fn describe(setting: &Setting) -> String {
    ways(setting, true)
}

/// The ways to set `setting`, the project file's key among them when `with_file`.
fn ways(setting: &Setting, with_file: bool) -> String {
    let flag = setting.flag.map(|f| format!("--{f}"));
    let var = setting.env.map(str::to_string);
    let key = setting
        .file_key
        .filter(|_| with_file)
        .map(|k| format!("`{k}` in vercel-oidc.toml"));
    let ways: Vec<String> = [flag, var, key].into_iter().flatten().collect();
    match ways.as_slice() {
        [] => setting.name.to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// `` `a` or `b` ``, or `` one of `a`, `b`, `c` ``.
pub(crate) fn one_of(words: &[&str]) -> String {
    match words {
        [a, b] => format!("`{a}` or `{b}`"),
        _ => format!(
            "one of {}",
            words
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn not_one_of(words: &[&str]) -> String {
    match words {
        [a, b] => format!("neither `{a}` nor `{b}`"),
        _ => format!("not {}", one_of(words)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/p/vercel-oidc.toml";

    fn raw(setting: &Setting, value: &str) -> Raw {
        match setting.kind {
            Kind::List => Raw::List(vec![value.to_string()]),
            _ => Raw::One(value.to_string()),
        }
    }

    /// The sources one setting can have, each with a value of its own, strongest first.
    struct Sources {
        flag: bool,
        env: bool,
        environment_section: bool,
        base_section: bool,
        inherited: bool,
    }

    fn resolve_one(
        table: &'static Table,
        setting: &'static Setting,
        on: &Sources,
    ) -> Option<Value> {
        let mut given = Given::default();
        if on.flag && setting.flag.is_some() {
            let flag = setting.flag.unwrap_or_default();
            given.set(
                table,
                setting,
                raw(setting, "from-flag"),
                Origin::Flag(flag),
            );
        }
        let mut vars = Vec::new();
        if on.env
            && let Some(var) = setting.env
        {
            vars.push((var, "from-env"));
        }
        if on.inherited {
            vars.extend(setting.inherits.iter().map(|v| (*v, "inherited")));
        }
        let env = Env::from_pairs(vars, "/");
        let over = Section(vec![(setting.name, raw(setting, "from-production"))]);
        let base = Section(vec![(setting.name, raw(setting, "from-base"))]);
        let in_file = setting.file_key.is_some();
        let layers = FileLayers {
            path: Some(std::path::Path::new(PATH)),
            environment: (on.environment_section && in_file).then_some(("production.x", &over)),
            base: (on.base_section && in_file).then_some(&base),
        };
        let resolved = Resolved::resolve(table, &given, &env, layers);
        resolved.get(setting).cloned()
    }

    fn file(section: &str) -> Origin {
        Origin::File {
            path: PATH.into(),
            section: section.into(),
        }
    }

    /// With the first `off` sources turned off (flag, variable, environment section, base
    /// section, inherited variable, in that order).
    fn sources(off: usize) -> Sources {
        Sources {
            flag: off < 1,
            env: off < 2,
            environment_section: off < 3,
            base_section: off < 4,
            inherited: off < 5,
        }
    }

    #[test]
    fn every_setting_takes_its_sources_in_precedence_order() {
        for table in crate::clouds::tables() {
            for setting in table.settings {
                // What each source gives, by its place in the order.
                let mut steps: Vec<(usize, String, Origin)> = Vec::new();
                if let Some(flag) = setting.flag {
                    steps.push((0, "from-flag".into(), Origin::Flag(flag)));
                }
                if let Some(var) = setting.env {
                    steps.push((1, "from-env".into(), Origin::Env(var)));
                }
                if setting.file_key.is_some() {
                    steps.push((2, "from-production".into(), file("production.x")));
                    steps.push((3, "from-base".into(), file(table.section)));
                }
                if let Some(var) = setting.inherits.first() {
                    steps.push((4, "inherited".into(), Origin::Env(var)));
                }
                assert!(!steps.is_empty(), "{}: no way to set it", setting.name);
                let default = match setting.default {
                    WhenUnset::Value {
                        value,
                        why,
                        only_with: None,
                    } => Some((raw(setting, value).text(), Origin::Default(why))),
                    _ => None,
                };
                for off in 0..=5 {
                    let want = steps
                        .iter()
                        .find(|(place, _, _)| *place >= off)
                        .map(|(_, value, origin)| (value.clone(), origin.clone()))
                        .or_else(|| default.clone());
                    let got = resolve_one(table, setting, &sources(off))
                        .map(|v| (v.raw.text(), v.origin));
                    assert_eq!(
                        got, want,
                        "{}.{} with the first {off} sources off",
                        table.section, setting.name
                    );
                }
            }
        }
    }

    #[test]
    fn a_setting_yields_to_those_it_names_when_they_come_from_a_stronger_source() {
        for table in crate::clouds::tables() {
            for setting in table.settings.iter().filter(|s| !s.yields_to.is_empty()) {
                for other in setting.yields_to {
                    let other = table
                        .setting(other)
                        .expect("yields to a setting of its table");
                    let base = Section(vec![(setting.name, raw(setting, "base"))]);
                    let over = Section(vec![(other.name, raw(other, "over"))]);
                    let layers = FileLayers {
                        path: Some(std::path::Path::new(PATH)),
                        environment: Some(("production.x", &over)),
                        base: Some(&base),
                    };
                    let env = Env::default();
                    let r = Resolved::resolve(table, &Given::default(), &env, layers);
                    assert_eq!(
                        r.get(setting),
                        None,
                        "{} set aside by {}",
                        setting.name,
                        other.name
                    );
                    let both = Section(vec![
                        (setting.name, raw(setting, "base")),
                        (other.name, raw(other, "base")),
                    ]);
                    let layers = FileLayers {
                        base: Some(&both),
                        environment: None,
                        ..layers
                    };
                    let r = Resolved::resolve(table, &Given::default(), &env, layers);
                    assert!(
                        r.get(setting).is_some(),
                        "{}: same source, kept",
                        setting.name
                    );
                }
            }
        }
    }

    #[test]
    fn examples_pass_their_own_checks_and_names_are_unique() {
        // Unique across the tables, not only within one: a name is also its flag's clap id, and
        // exec and doctor take the three clouds' flags at once.
        let mut names = std::collections::HashSet::new();
        for table in crate::clouds::tables() {
            for setting in table.settings {
                assert!(names.insert(setting.name), "{} twice", setting.name);
                let described = [
                    setting.name,
                    setting.value_name,
                    setting.help,
                    setting.example,
                ];
                assert!(described.iter().all(|f| !f.is_empty()), "{}", setting.name);
                if let Some(check) = setting.check {
                    assert_eq!(
                        check(&raw(setting, setting.example)),
                        Ok(()),
                        "{}",
                        setting.name
                    );
                }
                let help = setting.help;
                assert!(help.chars().count() < 120 && !help.contains('\n'), "{help}");
            }
        }
    }
}
