//! Editing one profile of the AWS config file (`AWS_CONFIG_FILE`, else `~/.aws/config`) while
//! keeping every other line, comment and profile as it was, byte for byte.
//!
//! botocore runs what this file says (`credential_process`), so the writer itself refuses what
//! would change the file's structure, whatever its caller checked: a profile name outside
//! [`is_profile_name`], a key that is not a plain name, and a line break or any other control
//! character in a value, or a blank at either end of it.
//!
//! The file is read as botocore reads it ([`reader`]: `=` or `:`, keys in any case, indented
//! keys, continuation lines, `\n`, `\r\n` or `\r` line ends), and the edit changes what botocore
//! reads as the profile: a key already set (in any of those forms) is rewritten in place with its
//! indentation and line end, a missing key goes after the section's last setting with that
//! setting's indentation, and a missing profile is appended as `[profile NAME]` (`[default]`)
//! with the file's own line ends. Before anything is returned, the result is read again and must
//! hold the values written and everything else as before. The file is refused, unchanged, with
//! the line named, when:
//! - botocore cannot read it (a line before the first section, a line that is no setting, a
//!   section or key given twice, a nested `key = value` block line without `=`);
//! - a header looks like the profile's but botocore does not read it as that (`[ profile ci ]`,
//!   `[Profile ci]`), or is indented below a setting, so that botocore reads it as that setting's
//!   value;
//! - two sections are the profile to botocore (`[default]` and `[profile default]`,
//!   `[profile ci]` and `[profile  ci]`): it reads only the last;
//! - a key to be rewritten has continuation lines, which botocore would keep adding to the new
//!   value (to `credential_process`, as more arguments).

pub(crate) mod reader;

use std::collections::BTreeMap;

use reader::{DEFAULTS, Ini, Section, Unreadable, indent, profile_of, py_trim, shell_words};

/// Why a profile cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error(
        "`{}` is not a profile name the AWS CLI can use\n  use 1 to 128 letters, digits and `_.@+,:/-` (--profile or VERCEL_OIDC_AWS_PROFILE)",
        .0.escape_debug()
    )]
    BadProfile(String),
    #[error("`{}` is not a key of the AWS config file", .0.escape_debug())]
    BadKey(String),
    #[error(
        "will not write `{key}` into the AWS config file: its value `{}` holds a line break or another control character, which would end the line and start another\n  remove it from the setting that produced it",
        value.escape_debug()
    )]
    ControlCharacter { key: String, value: String },
    #[error(
        "will not write `{key}` into the AWS config file: its value `{}` holds a space or tab before `#` or `;`, which the Rust, Go and Java SDKs read as the start of a comment\n  remove it from the setting or path that produced it (a session policy can go in a file: --policy @FILE)",
        value.escape_debug()
    )]
    CommentMarker { key: String, value: String },
    #[error(
        "will not write `{key}` into the AWS config file: its value `{}` starts or ends with a blank, which botocore drops\n  remove it from the setting that produced it",
        value.escape_debug()
    )]
    EdgeBlank { key: String, value: String },
    #[error(
        "line {line} {why}, so botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again"
    )]
    Unreadable { line: usize, why: Unreadable },
    #[error(
        "line {line}, `{}`, looks like profile `{profile}`, but botocore does not read it as that profile: {why}\n  write it as `{}`, then run again",
        header.escape_debug(),
        section_header(profile)
    )]
    LookalikeHeader {
        line: usize,
        header: String,
        profile: String,
        why: &'static str,
    },
    #[error(
        "line {line}, `{}`, is indented below `{key}` (line {key_line}), so botocore reads it as part of that value, not as a section\n  remove the blanks before `[`, then run again",
        header.escape_debug()
    )]
    IndentedHeader {
        line: usize,
        header: String,
        key: String,
        key_line: usize,
    },
    #[error(
        "lines {first} and {second} both open profile `{profile}`, and botocore reads only the last\n  merge them into one section, then run again"
    )]
    TwoSections {
        first: usize,
        second: usize,
        profile: String,
    },
    #[error(
        "line {line} is indented below `{key}` (line {key_line}), so botocore reads it as part of that value and would add it to the value written here\n  remove the line, or its indentation if it is a setting of its own, then run again"
    )]
    Continued {
        line: usize,
        key: String,
        key_line: usize,
    },
    #[error(
        "the edit of profile `{0}` would change how botocore reads the rest of the file\n  this is a bug in vercel-oidc: please report it with the layout of the file (not its values)"
    )]
    WouldChange(String),
}

/// A profile name that botocore finds again: `[profile NAME]` is split like a shell line, so a
/// name with spaces, quotes or brackets names another profile or none.
pub fn is_profile_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@+,:/-".contains(c))
}

fn check_entries(profile: &str, entries: &[(&str, &str)]) -> Result<(), ConfigFileError> {
    if !is_profile_name(profile) {
        return Err(ConfigFileError::BadProfile(profile.to_string()));
    }
    for &(key, value) in entries {
        let (key, value) = (key.to_string(), value.to_string());
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(ConfigFileError::BadKey(key));
        }
        if value.chars().any(char::is_control) {
            return Err(ConfigFileError::ControlCharacter { key, value });
        }
        if [" #", " ;"].iter().any(|m| value.contains(m)) {
            return Err(ConfigFileError::CommentMarker { key, value });
        }
        if py_trim(&value) != value {
            return Err(ConfigFileError::EdgeBlank { key, value });
        }
    }
    Ok(())
}

/// The section header botocore expects: `[default]` or `[profile NAME]`.
pub fn section_header(profile: &str) -> String {
    format!("[{}]", section_name(profile))
}

fn section_name(profile: &str) -> String {
    if profile == "default" {
        "default".into()
    } else {
        format!("profile {profile}")
    }
}

/// Sets `entries` (key, value) in `profile`'s section of `content`: updates keys in place,
/// adds missing ones after the section's last setting, or appends a new section. Returns the
/// new content; unchanged content means nothing needed doing.
pub fn upsert_profile(
    content: &str,
    profile: &str,
    entries: &[(&str, &str)],
) -> Result<String, ConfigFileError> {
    check_entries(profile, entries)?;
    let ini = reader::read(content);
    let (name, edit) = match find_section(&ini, profile)? {
        Some(section) => (section.name.clone(), update(&ini, section, entries)?),
        None => (section_name(profile), append(&ini, profile, entries)),
    };
    let text = edit.apply(&ini);
    check_reads_back(&ini, &text, &name, entries)
        .then_some(text)
        .ok_or_else(|| ConfigFileError::WouldChange(profile.to_string()))
}

/// Whether `content` has a section botocore reads as `profile`.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub fn has_profile(content: &str, profile: &str) -> bool {
    let ini = reader::read(content);
    ini.sections.iter().any(|s| is_section_of(s, profile))
}

fn is_section_of(section: &Section, profile: &str) -> bool {
    profile_of(&section.name).is_some_and(|p| p == profile)
}

/// The one section botocore reads as `profile`, none, or why the file is not to be edited.
fn find_section<'i>(ini: &'i Ini, profile: &str) -> Result<Option<&'i Section>, ConfigFileError> {
    if let Some((line, why)) = &ini.error {
        let (line, why) = (line + 1, why.clone());
        return Err(ConfigFileError::Unreadable { line, why });
    }
    refuse_lookalikes(ini, profile)?;
    let mut found = ini.sections.iter().filter(|s| is_section_of(s, profile));
    let first = found.next();
    match (first, found.next_back()) {
        (Some(first), Some(last)) => Err(ConfigFileError::TwoSections {
            first: first.header + 1,
            second: last.header + 1,
            profile: profile.to_string(),
        }),
        (first, _) => Ok(first),
    }
}

/// Refuses a header meant for `profile` that botocore reads otherwise: a lookalike, or one
/// indented below a setting, which makes it part of that setting's value.
fn refuse_lookalikes(ini: &Ini, profile: &str) -> Result<(), ConfigFileError> {
    for section in &ini.sections {
        if let Some(why) = lookalike(&section.name, profile) {
            return Err(ConfigFileError::LookalikeHeader {
                line: section.header + 1,
                header: py_trim(ini.lines[section.header].text).to_string(),
                profile: profile.to_string(),
                why,
            });
        }
    }
    let settings = ini.sections.iter().flat_map(|s| &s.settings);
    for (setting, line) in settings.flat_map(|s| s.continued().map(move |l| (s, l))) {
        let text = py_trim(ini.lines[line].text);
        let Some(name) = reader::header_name(text) else {
            continue;
        };
        if profile_of(name).is_some_and(|p| p == profile) || lookalike(name, profile).is_some() {
            return Err(ConfigFileError::IndentedHeader {
                line: line + 1,
                header: text.to_string(),
                key: setting.key.clone(),
                key_line: setting.line + 1,
            });
        }
    }
    Ok(())
}

/// Why the section `name`, which reads like `profile`'s, is not that profile to botocore; `None`
/// when it is, or does not read like it.
fn lookalike(name: &str, profile: &str) -> Option<&'static str> {
    if name == DEFAULTS || profile_of(name).is_some_and(|p| p == profile) {
        return None;
    }
    let like = match shell_words(name)?.as_slice() {
        [word] => profile == "default" && word.eq_ignore_ascii_case("default"),
        [word, named] => word.eq_ignore_ascii_case("profile") && named == profile,
        _ => false,
    };
    let why = if py_trim(name) != name {
        "it keeps the blanks inside the brackets as part of the name"
    } else {
        "it reads `profile` and `default` only in lower case"
    };
    like.then_some(why)
}

/// New text for some lines (each keeps its line end), and new lines before line `at`.
#[derive(Default)]
struct Edit {
    replace: BTreeMap<usize, String>,
    at: usize,
    insert: Vec<String>,
}

impl Edit {
    /// The file with the edit made. Inserted lines end as the line before them does (`\n` in an
    /// empty file); after a last line without a line end, that line gets the file's first line
    /// end and the last inserted line goes without, as the file did.
    fn apply(&self, ini: &Ini) -> String {
        let eol = ini.lines.iter().map(|l| l.end).find(|e| !e.is_empty());
        let eol = eol.unwrap_or("\n");
        let (gap, end, last_end) = match self.at.checked_sub(1).map(|i| ini.lines[i].end) {
            Some("") => (eol, eol, ""),
            Some(end) => (end, end, end),
            None => (eol, eol, eol),
        };
        let mut out = String::new();
        let insert = |out: &mut String| {
            for (n, line) in self.insert.iter().enumerate() {
                let last = n + 1 == self.insert.len();
                out.extend([line.as_str(), if last { last_end } else { end }]);
            }
        };
        if self.at == 0 {
            insert(&mut out);
        }
        for (i, line) in ini.lines.iter().enumerate() {
            out.push_str(self.replace.get(&i).map_or(line.text, String::as_str));
            if i + 1 == self.at && !self.insert.is_empty() {
                out.push_str(gap);
                insert(&mut out);
            } else {
                out.push_str(line.end);
            }
        }
        out
    }
}

/// The edit that sets `entries` in `section`: keys already set are rewritten in place (keeping
/// their indentation, so that botocore reads the lines after them as before), missing ones go
/// after the section's last setting.
fn update(ini: &Ini, section: &Section, entries: &[(&str, &str)]) -> Result<Edit, ConfigFileError> {
    let mut edit = Edit::default();
    for &(key, value) in entries {
        let Some(setting) = section.settings.iter().find(|s| s.key == key) else {
            edit.insert.push(format!("{key} = {value}"));
            continue;
        };
        if let Some(line) = setting.continued().next() {
            return Err(ConfigFileError::Continued {
                line: line + 1,
                key: key.to_string(),
                key_line: setting.line + 1,
            });
        }
        if setting.value != value {
            let indent = indent(ini.lines[setting.line].text);
            edit.replace
                .insert(setting.line, format!("{indent}{key} = {value}"));
        }
    }
    let (at, indent) = insertion_point(ini, section);
    edit.at = at;
    edit.insert.iter_mut().for_each(|l| l.insert_str(0, indent));
    Ok(edit)
}

/// Where new keys go in `section`, and their indentation: after its last line that botocore
/// reads (comments and blank lines after it stay with what follows), indented as the last
/// setting, so that neither it nor the next header becomes a continuation line. In a section
/// without settings, indented as the deeper of its header and the next.
fn insertion_point<'a>(ini: &Ini<'a>, section: &Section) -> (usize, &'a str) {
    let read = section.settings.iter();
    let last = read
        .flat_map(|s| std::iter::once(s.line).chain(s.continued()))
        .fold(section.header, usize::max);
    let indent = match section.settings.last() {
        Some(setting) => indent(ini.lines[setting.line].text),
        None => [section.header, section.end]
            .iter()
            .filter_map(|&i| ini.lines.get(i))
            .map(|l| indent(l.text))
            .max_by_key(|i| i.chars().count())
            .unwrap_or(""),
    };
    (last + 1, indent)
}

/// The edit that appends `profile` as a new section at the end, after a blank line.
fn append(ini: &Ini, profile: &str, entries: &[(&str, &str)]) -> Edit {
    let mut insert = Vec::new();
    if ini
        .lines
        .last()
        .is_some_and(|l| !py_trim(l.text).is_empty())
    {
        insert.push(String::new());
    }
    insert.push(section_header(profile));
    insert.extend(entries.iter().map(|(k, v)| format!("{k} = {v}")));
    Edit {
        replace: BTreeMap::new(),
        at: ini.lines.len(),
        insert,
    }
}

/// Whether botocore reads `text` as `before` with `entries` set in section `name`, and nothing
/// else changed.
fn check_reads_back(before: &Ini, text: &str, name: &str, entries: &[(&str, &str)]) -> bool {
    let after = reader::read(text);
    let mut want = settings_by_section(before);
    let section = want.entry(name.to_string()).or_default();
    section.extend(entries.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    after.error.is_none() && settings_by_section(&after) == want
}

type SettingsBySection = BTreeMap<String, BTreeMap<String, String>>;

fn settings_by_section(ini: &Ini) -> SettingsBySection {
    let mut all = SettingsBySection::new();
    for section in &ini.sections {
        let values = section.settings.iter();
        let values = values.map(|s| (s.key.clone(), s.value.clone()));
        all.entry(section.name.clone()).or_default().extend(values);
    }
    all
}

/// Keys of `profile`'s section other than ours that botocore would prefer over
/// `credential_process`, so the user can be warned.
pub fn conflicting_keys(content: &str, profile: &str) -> Vec<String> {
    section_keys(content, profile)
        .into_iter()
        .filter(|k| PREFERRED_SOURCES.contains(&k.as_str()))
        .collect()
}

/// The keys that make a profile a source of credentials that the SDKs prefer over a
/// `credential_process` or a container endpoint.
pub const PREFERRED_SOURCES: [&str; 5] = [
    "role_arn",
    "web_identity_token_file",
    "aws_access_key_id",
    "sso_start_url",
    "sso_session",
];

/// The keys botocore reads for `profile` (`[default]` or `[profile NAME]`; in the shared
/// credentials file, `[NAME]`, which is the same for `default`): those of the last section it
/// reads as the profile, in lower case, then those it inherits from `[DEFAULT]`.
pub fn section_keys(content: &str, profile: &str) -> Vec<String> {
    let ini = reader::read(content);
    let Some(own) = ini.sections.iter().rfind(|s| is_section_of(s, profile)) else {
        return Vec::new();
    };
    let inherited = ini.sections.iter().filter(|s| s.name == DEFAULTS);
    let mut keys: Vec<String> = Vec::new();
    for setting in std::iter::once(own)
        .chain(inherited)
        .flat_map(|s| &s.settings)
    {
        if !keys.contains(&setting.key) {
            keys.push(setting.key.clone());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    const CP: (&str, &str) = (
        "credential_process",
        "/usr/local/bin/vercel-oidc aws credential-process --role-arn arn:aws:iam::1:role/r",
    );
    const REGION: (&str, &str) = ("region", "eu-west-1");

    /// One row per shape of file: what `upsert_profile` makes of it for profile `ci` (or
    /// `default` where the row says so), with `credential_process = /new` and `region = b`.
    #[test]
    fn edits_what_botocore_reads_in_every_shape() {
        let entries = [("credential_process", "/new"), ("region", "b")];
        for (shape, profile, before, after) in [
            (
                "empty file",
                "ci",
                "",
                "[profile ci]\ncredential_process = /new\nregion = b\n",
            ),
            (
                "added after the others, a blank line between",
                "ci",
                "# mine\n[default]\nregion = a\n",
                "# mine\n[default]\nregion = a\n\n[profile ci]\ncredential_process = /new\nregion = b\n",
            ),
            (
                "added to a file without a last line end",
                "ci",
                "[default]\nregion = a",
                "[default]\nregion = a\n\n[profile ci]\ncredential_process = /new\nregion = b",
            ),
            (
                "added with CRLF line ends",
                "ci",
                "[default]\r\nregion = a\r\n",
                "[default]\r\nregion = a\r\n\r\n[profile ci]\r\ncredential_process = /new\r\nregion = b\r\n",
            ),
            (
                "added with CR-only line ends",
                "ci",
                "[default]\rregion = a\r",
                "[default]\rregion = a\r\r[profile ci]\rcredential_process = /new\rregion = b\r",
            ),
            (
                "updated in place, comments and other keys kept",
                "ci",
                "[profile ci]\n# keep me\ncredential_process = old\noutput = json\n  \n[profile other]\nregion = x\n",
                "[profile ci]\n# keep me\ncredential_process = /new\noutput = json\nregion = b\n  \n[profile other]\nregion = x\n",
            ),
            (
                "blanks between the words of the header",
                "ci",
                "[profile   ci ]\nregion=a\n",
                "[profile   ci ]\nregion = b\ncredential_process = /new\n",
            ),
            (
                "a quoted name",
                "ci",
                "[profile \"ci\"]\nregion = b\n",
                "[profile \"ci\"]\nregion = b\ncredential_process = /new\n",
            ),
            (
                "`:` as the delimiter",
                "ci",
                "[profile ci]\ncredential_process: old\nregion : a\n",
                "[profile ci]\ncredential_process = /new\nregion = b\n",
            ),
            (
                "keys in upper case",
                "ci",
                "[profile ci]\nCREDENTIAL_PROCESS = old\nRegion = a\n",
                "[profile ci]\ncredential_process = /new\nregion = b\n",
            ),
            (
                "a key already right, in another form, is left alone",
                "ci",
                "[profile ci]\nREGION: b\n",
                "[profile ci]\nREGION: b\ncredential_process = /new\n",
            ),
            (
                "indented keys keep their indentation, and new ones take it",
                "ci",
                "[profile ci]\n  region = a\n  output = json\n[profile x]\nk = v\n",
                "[profile ci]\n  region = b\n  output = json\n  credential_process = /new\n[profile x]\nk = v\n",
            ),
            (
                "an empty section before an indented header",
                "ci",
                "[profile ci]\n  [profile x]\nk = v\n",
                "[profile ci]\n  credential_process = /new\n  region = b\n  [profile x]\nk = v\n",
            ),
            (
                "updated with CRLF line ends, a key added",
                "ci",
                "[profile ci]\r\nregion = a\r\n[default]\r\n",
                "[profile ci]\r\nregion = b\r\ncredential_process = /new\r\n[default]\r\n",
            ),
            (
                "updated with CR-only line ends",
                "ci",
                "[profile ci]\rcredential_process = old\rregion = a\r[default]\routput = json\r",
                "[profile ci]\rcredential_process = /new\rregion = b\r[default]\routput = json\r",
            ),
            (
                "updated without a last line end",
                "ci",
                "[profile ci]\nregion = a",
                "[profile ci]\nregion = b\ncredential_process = /new",
            ),
            (
                "nested settings are not keys of the profile",
                "ci",
                "[profile ci]\ns3 =\n  region = nested\n",
                "[profile ci]\ns3 =\n  region = nested\ncredential_process = /new\nregion = b\n",
            ),
            (
                "another key's continuation stays with it",
                "ci",
                "[profile ci]\noutput = a\n  more\n\n[profile x]\n",
                "[profile ci]\noutput = a\n  more\ncredential_process = /new\nregion = b\n\n[profile x]\n",
            ),
            (
                "a comment before the next section stays with it",
                "ci",
                "[profile ci]\nregion = a\n# production\n[profile prod]\nregion = c\n",
                "[profile ci]\nregion = b\ncredential_process = /new\n# production\n[profile prod]\nregion = c\n",
            ),
            (
                "[DEFAULT] is not the default profile",
                "default",
                "[DEFAULT]\noutput = json\n",
                "[DEFAULT]\noutput = json\n\n[default]\ncredential_process = /new\nregion = b\n",
            ),
            (
                "[default] beside [profile default]-less neighbours",
                "default",
                "[profile x]\nregion = a\n[default]\nregion = a\n",
                "[profile x]\nregion = a\n[default]\nregion = b\ncredential_process = /new\n",
            ),
            (
                "a text header after it is kept",
                "ci",
                "[profile ci] ; mine\nregion = b\n",
                "[profile ci] ; mine\nregion = b\ncredential_process = /new\n",
            ),
        ] {
            let got = upsert_profile(before, profile, &entries);
            assert_eq!(
                got.as_deref().map_err(|e| e.to_string()),
                Ok(after),
                "{shape}"
            );
            let again = upsert_profile(after, profile, &entries).unwrap();
            assert_eq!(again, after, "{shape}: a second edit changes nothing");
        }
    }

    /// One row per shape botocore would read otherwise, or not at all: the message, for
    /// profile `ci` (or `default` where the row says so).
    #[test]
    fn refuses_what_botocore_reads_otherwise() {
        for (shape, profile, before, message) in [
            (
                "blanks inside the brackets",
                "ci",
                "[ profile ci ]\nregion = a\n",
                "line 1, `[ profile ci ]`, looks like profile `ci`, but botocore does not read it as that profile: it keeps the blanks inside the brackets as part of the name\n  write it as `[profile ci]`, then run again",
            ),
            (
                "`Profile` in upper case",
                "ci",
                "[default]\r[Profile ci]\rregion = a\r",
                "line 2, `[Profile ci]`, looks like profile `ci`, but botocore does not read it as that profile: it reads `profile` and `default` only in lower case\n  write it as `[profile ci]`, then run again",
            ),
            (
                "blanks around default",
                "default",
                "[ default ]\n",
                "line 1, `[ default ]`, looks like profile `default`, but botocore does not read it as that profile: it keeps the blanks inside the brackets as part of the name\n  write it as `[default]`, then run again",
            ),
            (
                "a lookalike beside the real section",
                "ci",
                "[profile ci]\n[PROFILE ci]\n",
                "line 2, `[PROFILE ci]`, looks like profile `ci`, but botocore does not read it as that profile: it reads `profile` and `default` only in lower case\n  write it as `[profile ci]`, then run again",
            ),
            (
                "a continuation line after credential_process",
                "ci",
                "[profile ci]\ncredential_process = /bin/old\n  /tmp/evil\n",
                "line 3 is indented below `credential_process` (line 2), so botocore reads it as part of that value and would add it to the value written here\n  remove the line, or its indentation if it is a setting of its own, then run again",
            ),
            (
                "a continuation line after a blank line and a comment, CRLF",
                "ci",
                "[profile ci]\r\nREGION = a\r\n\r\n  # note\r\n\toutput = json\r\n",
                "line 5 is indented below `region` (line 2), so botocore reads it as part of that value and would add it to the value written here\n  remove the line, or its indentation if it is a setting of its own, then run again",
            ),
            (
                "the header indented below a setting",
                "ci",
                "[default]\nregion = a\n  [profile ci]\ncredential_process = x\n",
                "line 3, `[profile ci]`, is indented below `region` (line 2), so botocore reads it as part of that value, not as a section\n  remove the blanks before `[`, then run again",
            ),
            (
                "[default] and [profile default]",
                "default",
                "[default]\nregion = a\n[profile default]\nregion = b\n",
                "lines 1 and 3 both open profile `default`, and botocore reads only the last\n  merge them into one section, then run again",
            ),
            (
                "two spellings of one profile",
                "ci",
                "[profile ci]\n[x]\n[profile  ci]\n[profile\tci]\n",
                "lines 1 and 4 both open profile `ci`, and botocore reads only the last\n  merge them into one section, then run again",
            ),
            (
                "a setting before any section",
                "ci",
                "region = a\n[profile ci]\n",
                "line 1 comes before any `[section]` header, so botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again",
            ),
            (
                "a byte order mark",
                "ci",
                "\u{feff}[default]\n",
                "line 1 comes before any `[section]` header, so botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again",
            ),
            (
                "a line that is no setting, CR-only",
                "ci",
                "[default]\r\rsecret-looking-line\r",
                "line 3 is not a `[section]` header, a `key = value` setting or a comment, so botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again",
            ),
            (
                "a setting without a key",
                "ci",
                "[default]\n : a\n",
                "line 2 has no key before its `=` or `:`, so botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again",
            ),
            (
                "a section given twice",
                "ci",
                "[profile x]\n[default]\n[profile x]\n",
                "line 3 opens `[profile x]` again (line 1 opened it first), so botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again",
            ),
            (
                "a key given twice, in two cases",
                "ci",
                "[profile x]\nRegion = a\nregion: b\n",
                "line 3 sets `region` again in its section (line 2 set it first; keys are compared without case), so botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again",
            ),
            (
                "a nested line without `=`",
                "ci",
                "[profile x]\ns3 =\n  addressing_style: path\n",
                "line 3 is indented below `s3` (line 2), which botocore reads as `key = value` lines, but it has no `=`, so botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again",
            ),
        ] {
            let got = upsert_profile(before, profile, &[CP, REGION]);
            let got = got.map_err(|e| e.to_string());
            assert_eq!(got, Err(message.to_string()), "{shape}");
        }
    }

    #[test]
    fn refuses_what_would_change_the_file_structure() {
        let before = "[default]\nregion = a\n";
        for (profile, entries, want) in [
            (
                "a]b",
                vec![CP],
                "`a]b` is not a profile name the AWS CLI can use",
            ),
            (
                "a\n[default]",
                vec![CP],
                "`a\\n[default]` is not a profile name the AWS CLI can use",
            ),
            ("", vec![CP], "`` is not a profile name the AWS CLI can use"),
            (
                "two words",
                vec![CP],
                "`two words` is not a profile name the AWS CLI can use",
            ),
            (
                "ci",
                vec![("region\nx", "a")],
                "`region\\nx` is not a key of the AWS config file",
            ),
            (
                "ci",
                vec![(
                    "credential_process",
                    "/bin/x\n[profile default]\ncredential_process = /bin/evil",
                )],
                "will not write `credential_process` into the AWS config file: its value `/bin/x\\n[profile default]\\ncredential_process = /bin/evil` holds a line break",
            ),
            (
                "ci",
                vec![("region", "a\rb")],
                "will not write `region` into the AWS config file: its value `a\\rb` holds a line break",
            ),
            (
                "ci",
                vec![("region", "a\u{7f}")],
                "will not write `region` into the AWS config file",
            ),
            (
                "ci",
                vec![("region", "a\u{a0}")],
                "will not write `region` into the AWS config file: its value `a\\u{a0}` starts or ends with a blank, which botocore drops",
            ),
        ] {
            let err = upsert_profile(before, profile, &entries)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{profile:?}: {err}");
        }
        for ok in [
            "default",
            "ci",
            "org-prod_1",
            "a.b@c+d,e:f/g",
            &"x".repeat(128),
        ] {
            upsert_profile(before, ok, &[CP]).unwrap();
        }
    }

    #[test]
    fn knows_whether_the_profile_is_there() {
        for (content, profile, there) in [
            ("[profile ci]\n", "ci", true),
            ("[profile  ci ]\n", "ci", true),
            ("[ profile ci ]\n", "ci", false),
            ("[default]\n", "default", true),
            ("[DEFAULT]\n", "default", false),
            ("[default]\r[profile ci]", "ci", true),
            ("[profile cix]\n", "ci", false),
        ] {
            assert_eq!(has_profile(content, profile), there, "{content:?}");
        }
    }

    #[test]
    fn finds_conflicts() {
        let c = "[profile ci]\nrole_arn = x\nregion = y\n[profile z]\naws_access_key_id = k\n";
        assert_eq!(conflicting_keys(c, "ci"), vec!["role_arn"]);
        assert!(conflicting_keys(c, "other").is_empty());
        // As botocore reads them: any case, `:`, indented, inherited from [DEFAULT].
        let c = "[DEFAULT]\nsso_session = s\n[profile ci]\r  ROLE_ARN: x\r";
        assert_eq!(conflicting_keys(c, "ci"), vec!["role_arn", "sso_session"]);
        let c = "[profile ci]\nregion = a\n  role_arn = glued onto region\n";
        assert!(conflicting_keys(c, "ci").is_empty());
    }
}
