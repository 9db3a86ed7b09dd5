//! Reading `vercel-oidc.toml` into its sections: the parser's spanned document, walked by hand.
//!
//! The top of the file holds sections named after a cloud's table ([`Table::section`]) or after
//! a Vercel environment, which holds sections named after a cloud. Each key of a cloud's section
//! is looked up in its table ([`Setting::file_key`]) and its value read as the setting's
//! [`Kind`] takes it, then passed through the setting's check.
//!
//! The first problem found stops the reading. Tables are walked in the order of their keys'
//! names, as the parser's map keeps them, so of several problems the first by name is reported.
//! A syntax error is the parser's own report, passed on; any other problem is shown the same
//! way: `TOML parse error at line L, column C`, the line, carets under the key or value at fault,
//! then what is wrong, worded as serde words it (``invalid type: integer `1`, expected a
//! string``, ``unknown variant `url`, expected `file` or `executable` ``), as this file's errors
//! always have been.

use std::ops::Range;

use serde::de::Error as _;
use serde::de::Unexpected;
use serde::de::value::Error as Serde;
use toml::Spanned;
use toml::de::{DeFloat, DeInteger, DeTable, DeValue};

use super::{ENVIRONMENTS, Stored};
use crate::settings::{Kind, Raw, Section, Setting, Table, one_of};

/// The clouds' tables: the sections a file may have.
type Clouds<'a> = &'a [&'static Table];

/// The sections of `text`, each checked against its cloud's table; else the error to show.
pub(super) fn sections(text: &str, clouds: Clouds) -> Result<Vec<Stored>, String> {
    let shown = match DeTable::parse(text) {
        Ok(document) => match document_sections(document.get_ref(), clouds) {
            Ok(sections) => return Ok(sections),
            Err(misread) => misread.shown_in(text),
        },
        Err(syntax) => syntax.to_string(),
    };
    Err(shown.trim_end().to_string())
}

/// What is wrong, and the part of the text it is about.
struct Misread {
    at: Range<usize>,
    problem: String,
}

impl Misread {
    fn at<T>(part: &Spanned<T>, problem: String) -> Self {
        Self {
            at: part.span(),
            problem,
        }
    }

    /// The problem as the parser shows its own: the line and column where the part at fault
    /// starts (from 1, the column in characters), the line, a caret per byte of the part (at
    /// least one, none past the line's end), then the problem.
    fn shown_in(&self, text: &str) -> String {
        let start = self.at.start.min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |newline| newline + 1);
        let number = text[..line_start].matches('\n').count() + 1;
        let line = text[line_start..].split('\n').next().unwrap_or_default();
        let column = text[line_start..start].chars().count();
        let carets = self.at.len().min(line.len().saturating_sub(column)).max(1);
        let gutter = " ".repeat(number.to_string().len() + 1);
        format!(
            "TOML parse error at line {number}, column {}\n{gutter}|\n{number} | {line}\n{gutter}|{}{}\n{}",
            column + 1,
            " ".repeat(column + 1),
            "^".repeat(carets),
            self.problem
        )
    }
}

/// The top of the file: the base sections, and those of each Vercel environment.
fn document_sections(document: &DeTable<'_>, clouds: Clouds) -> Result<Vec<Stored>, Misread> {
    let mut sections = Vec::new();
    for (key, value) in document {
        let name = key.get_ref().as_ref();
        if let Some(table) = cloud(clouds, name) {
            sections.push(stored(table, None, value)?);
        } else if let Some(environment) = ENVIRONMENTS.into_iter().find(|e| *e == name) {
            sections.extend(environment_sections(environment, value, clouds)?);
        } else {
            return Err(Misread::at(key, unknown_section(clouds, name, None)));
        }
    }
    Ok(sections)
}

/// The sections of one Vercel environment (`[production.aws]`).
fn environment_sections(
    environment: &'static str,
    value: &Spanned<DeValue<'_>>,
    clouds: Clouds,
) -> Result<Vec<Stored>, Misread> {
    let within = Some(environment);
    let what = || "tables named after a cloud or a Vercel environment".to_string();
    let entries = table_of(value, what, |name| unknown_section(clouds, name, within))?;
    let mut sections = Vec::new();
    for (key, value) in entries {
        let name = key.get_ref().as_ref();
        let table = cloud(clouds, name)
            .ok_or_else(|| Misread::at(key, unknown_section(clouds, name, within)))?;
        sections.push(stored(table, within, value)?);
    }
    Ok(sections)
}

/// The table of the cloud whose section is `name`.
fn cloud(clouds: Clouds, name: &str) -> Option<&'static Table> {
    clouds.iter().copied().find(|t| t.section == name)
}

/// `name` is not a cloud, nor a Vercel environment at the top (`within` none).
fn unknown_section(clouds: Clouds, name: &str, within: Option<&str>) -> String {
    let environments = if within.is_some() {
        &[][..]
    } else {
        &ENVIRONMENTS
    };
    let expected: Vec<String> = clouds
        .iter()
        .map(|t| t.section)
        .chain(environments.iter().copied())
        .map(|k| format!("`{k}`"))
        .collect();
    format!(
        "unknown field `{name}`, expected one of {}",
        expected.join(", ")
    )
}

/// One cloud's section, named `aws` or `production.aws`.
fn stored(
    table: &'static Table,
    environment: Option<&'static str>,
    value: &Spanned<DeValue<'_>>,
) -> Result<Stored, Misread> {
    let name = match environment {
        Some(environment) => format!("{environment}.{}", table.section),
        None => table.section.to_string(),
    };
    Ok(Stored {
        name,
        environment,
        cloud: table.section,
        section: section(table, value)?,
    })
}

/// A cloud's section: each key one of its table's, each value read and checked by its setting.
fn section(table: &'static Table, value: &Spanned<DeValue<'_>>) -> Result<Section, Misread> {
    let what = || format!("a table of {} settings", table.title);
    let entries = table_of(value, what, |name| unknown_key(table, name))?;
    let mut section = Section::default();
    for (key, value) in entries {
        let name = key.get_ref().as_ref();
        let setting = table
            .by_file_key(name)
            .ok_or_else(|| Misread::at(key, unknown_key(table, name)))?;
        section
            .0
            .push((setting.name, setting_value(setting, value)?));
    }
    Ok(section)
}

fn unknown_key(table: &Table, name: &str) -> String {
    let keys: Vec<&str> = table.file_keys().collect();
    format!("unknown field `{name}`, expected {}", one_of(&keys))
}

/// The entries of a value that must be a table: `what` it must be, and the problem of a key it
/// does not take. A date or time reads as the parser hands it to serde: a table of one key,
/// which no table here takes.
fn table_of<'a, 'i>(
    value: &'a Spanned<DeValue<'i>>,
    what: impl FnOnce() -> String,
    unknown: impl FnOnce(&str) -> String,
) -> Result<&'a DeTable<'i>, Misread> {
    match value.get_ref() {
        DeValue::Table(entries) => Ok(entries),
        DeValue::Datetime(_) => Err(Misread::at(value, unknown("$__toml_private_datetime"))),
        other => Err(Misread::at(value, wrong_type(other, &what()))),
    }
}

/// A setting's value, read as its kind takes it, then passed through its check.
fn setting_value(setting: &Setting, value: &Spanned<DeValue<'_>>) -> Result<Raw, Misread> {
    let raw = match (setting.kind, value.get_ref()) {
        (Kind::List, DeValue::Array(items)) => {
            Raw::List(items.iter().map(item).collect::<Result<_, _>>()?)
        }
        (kind, one) => Raw::One(text(kind, one).map_err(|problem| Misread::at(value, problem))?),
    };
    if let Some(check) = setting.check {
        check(&raw).map_err(|problem| Misread::at(value, problem))?;
    }
    Ok(raw)
}

/// A list's item: a string.
fn item(value: &Spanned<DeValue<'_>>) -> Result<String, Misread> {
    match value.get_ref() {
        DeValue::String(text) => Ok(text.to_string()),
        other => Err(Misread::at(value, wrong_type(other, "a string"))),
    }
}

/// A value that is one string: a string for text, a number or a choice (one of its words), or
/// a whole number.
fn text(kind: Kind, value: &DeValue<'_>) -> Result<String, String> {
    match (kind, value) {
        (Kind::Text | Kind::Number, DeValue::String(text)) => Ok(text.to_string()),
        (Kind::Choice(words), DeValue::String(word)) if words.contains(&word.as_ref()) => {
            Ok(word.to_string())
        }
        (Kind::Choice(words), DeValue::String(word)) => {
            Err(Serde::unknown_variant(word, words).to_string())
        }
        (_, DeValue::Integer(integer)) => whole(kind, value, integer),
        _ => Err(wrong_type(value, &expecting(kind))),
    }
}

/// An integer, in decimal: any not negative for a number, up to `u32::MAX` for seconds.
fn whole(kind: Kind, value: &DeValue<'_>, integer: &DeInteger<'_>) -> Result<String, String> {
    let invalid = |found| Err(Serde::invalid_value(found, &expecting(kind).as_str()).to_string());
    match (kind, Integer::of(integer)) {
        (Kind::Number, Integer::I64(n)) if n >= 0 => Ok(n.to_string()),
        (Kind::Seconds, Integer::I64(n)) if (0..=u32::MAX.into()).contains(&n) => Ok(n.to_string()),
        (Kind::Number | Kind::Seconds, Integer::I64(n)) => invalid(Unexpected::Signed(n)),
        (_, Integer::U64(n)) => invalid(Unexpected::Unsigned(n)),
        _ => Err(wrong_type(value, &expecting(kind))),
    }
}

/// What a setting's value must be, for messages.
fn expecting(kind: Kind) -> String {
    match kind {
        Kind::Text => "a string".into(),
        Kind::Seconds => "a whole number of seconds".into(),
        Kind::Number => "a number, or digits in a string".into(),
        Kind::List => "an array of strings".into(),
        Kind::Choice(words) => one_of(words),
    }
}

/// `value` is not what was `expected`: serde's words for its type, a date or time being a map.
fn wrong_type(value: &DeValue<'_>, expected: &str) -> String {
    let wide;
    let found = match value {
        DeValue::String(text) => Unexpected::Str(text),
        DeValue::Integer(integer) => match Integer::of(integer) {
            Integer::I64(n) => Unexpected::Signed(n),
            Integer::U64(n) => Unexpected::Unsigned(n),
            Integer::Wide(text) => {
                wide = text;
                Unexpected::Other(&wide)
            }
            Integer::Overflowed => return "integer number overflowed".into(),
        },
        DeValue::Float(float) => match float_of(float) {
            Some(x) => Unexpected::Float(x),
            None => return "floating-point number overflowed".into(),
        },
        DeValue::Boolean(b) => Unexpected::Bool(*b),
        DeValue::Datetime(_) | DeValue::Table(_) => Unexpected::Map,
        DeValue::Array(_) => Unexpected::Seq,
    };
    Serde::invalid_type(found, &expected).to_string()
}

/// A TOML integer as the parser hands it to serde: in the first of `i64`, `u64`, `i128` and
/// `u128` that holds it (the last two named as serde names them), or none.
enum Integer {
    I64(i64),
    U64(u64),
    Wide(String),
    Overflowed,
}

impl Integer {
    fn of(integer: &DeInteger<'_>) -> Self {
        let (digits, radix) = (integer.as_str(), integer.radix());
        if let Ok(n) = i64::from_str_radix(digits, radix) {
            Self::I64(n)
        } else if let Ok(n) = u64::from_str_radix(digits, radix) {
            Self::U64(n)
        } else if let Ok(n) = i128::from_str_radix(digits, radix) {
            Self::Wide(format!("integer `{n}` as i128"))
        } else if let Ok(n) = u128::from_str_radix(digits, radix) {
            Self::Wide(format!("integer `{n}` as u128"))
        } else {
            Self::Overflowed
        }
    }
}

/// A TOML float as the parser hands it to serde; none when too large for an `f64` (`inf` is
/// infinite, `1e400` overflows).
fn float_of(float: &DeFloat<'_>) -> Option<f64> {
    let x: f64 = float.as_str().parse().ok()?;
    (!x.is_infinite() || float.as_str().contains("inf")).then_some(x)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::project::ProjectConfig;

    fn parse(text: &str) -> Result<ProjectConfig, crate::project::ProjectConfigError> {
        ProjectConfig::parse(
            text,
            Path::new("/p/vercel-oidc.toml"),
            &crate::clouds::tables(),
        )
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
            "TOML parse error at line 2, column 1\n  |\n2 | bogus = 1\n  | ^^^^^\nunknown field `bogus`, expected one of `tenant_id`, `client_id`, `authority_host`, `subscription_id`, `cli_login`",
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
}
