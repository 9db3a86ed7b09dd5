//! The AWS config file as botocore reads it: Python's `configparser.RawConfigParser` with its
//! defaults (what `botocore.configloader.raw_config_parse` uses), then botocore's own steps. The
//! editor in [`super`] finds sections and keys through this reader only, so that what it changes
//! is what botocore reads.
//!
//! - Lines end at `\n`, `\r\n` or a lone `\r` (Python reads the file with universal newlines).
//! - Blanks are what Python's `str.strip` removes: ASCII white space, `\x1c`–`\x1f` and the
//!   Unicode spaces. A line with nothing else is blank; one whose first non-blank is `#` or `;`
//!   is a comment. Nothing after a value is a comment.
//! - A line indented deeper (counted in characters) than the line that started the current
//!   setting continues that setting's value, even after blank lines and comments, and even when
//!   it looks like a section header. A value that starts empty and continues is a nested block
//!   (`s3 =` then `  addressing_style = path`); each of its lines must hold `=`. (botocore checks
//!   a block in `[DEFAULT]` only once a section inherits it; this reader always does, since the
//!   editor is about to add or change one.)
//! - Any other line is `[NAME]` (up to its last `]`, blanks inside kept), which opens section
//!   `NAME` (`[DEFAULT]` holds settings every section inherits), or `KEY = VALUE` /
//!   `KEY : VALUE`, split at the first `=` or `:`, with the key compared in lower case.
//! - A line before the first section, a line that is none of these, an empty key, and a section
//!   or key given twice make botocore refuse the whole file.
//! - Profiles: `[default]` is profile `default`; a section whose name starts with `profile` and
//!   splits as a shell line into two words is the profile the second word names (`[profile ci]`,
//!   `[profile  ci]`, `[profile "ci"]`). `[ profile ci ]` and `[Profile ci]` are no profile.

/// One line of the file, and the line end that follows it (`""` for the last line when the
/// file does not end with one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    pub text: &'a str,
    pub end: &'a str,
}

/// One setting (`key = value`): its key in lower case, its line, its value as botocore reads
/// it, and the lines that continue it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub line: usize,
    pub value: String,
    /// The continuation lines, each with the text it adds (empty for a blank line).
    pub more: Vec<(usize, String)>,
}

impl Setting {
    /// The lines that add text to the value (blank lines in between add only a line break).
    pub fn continued(&self) -> impl Iterator<Item = usize> + '_ {
        self.more
            .iter()
            .filter(|(_, text)| !text.is_empty())
            .map(|(line, _)| *line)
    }
}

/// A section: its name as configparser keeps it, its header line, the line after its last
/// (the next header, or the end of the file), and its settings in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub header: usize,
    pub end: usize,
    pub settings: Vec<Setting>,
}

/// Why botocore refuses the whole file, at one line. Shown after `line N`; the lines it names
/// are shown from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("comes before any `[section]` header")]
    BeforeSection,
    #[error("is not a `[section]` header, a `key = value` setting or a comment")]
    NotASetting,
    #[error("has no key before its `=` or `:`")]
    NoKey,
    #[error("opens `[{}]` again (line {} opened it first)", name.escape_debug(), first + 1)]
    SectionAgain { name: String, first: usize },
    #[error("sets `{}` again in its section (line {} set it first; keys are compared without case)", key.escape_debug(), first + 1)]
    KeyAgain { key: String, first: usize },
    #[error("is indented below `{}` (line {}), which botocore reads as `key = value` lines, but it has no `=`", key.escape_debug(), key_line + 1)]
    NestedWithoutEquals { key: String, key_line: usize },
}

/// The file as botocore reads it. Line numbers are indexes into `lines` (from 0).
#[derive(Debug)]
pub struct Ini<'a> {
    pub lines: Vec<Line<'a>>,
    pub sections: Vec<Section>,
    /// The first line that makes botocore refuse the file; reading stops there.
    pub error: Option<(usize, Unreadable)>,
}

/// The section whose settings every section inherits (configparser's default section).
pub const DEFAULTS: &str = "DEFAULT";

/// Reads `content` as botocore does.
pub fn read(content: &str) -> Ini<'_> {
    let lines = split_lines(content);
    let mut reader = Reader::default();
    let mut error = None;
    for (i, line) in lines.iter().enumerate() {
        if let Err(why) = reader.line(i, line.text) {
            error = Some((i, why));
            break;
        }
    }
    let mut sections = reader.sections;
    let ends: Vec<usize> = sections.iter().skip(1).map(|s| s.header).collect();
    for (i, section) in sections.iter_mut().enumerate() {
        section.end = ends.get(i).copied().unwrap_or(lines.len());
        for setting in &mut section.settings {
            setting.value = joined_value(setting);
        }
    }
    let error = error.or_else(|| nested_error(&sections));
    Ini {
        lines,
        sections,
        error,
    }
}

/// Splits `content` into lines as Python's universal-newline mode does.
pub fn split_lines(content: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let Some(at) = rest.find(['\r', '\n']) else {
            lines.push(Line {
                text: rest,
                end: "",
            });
            break;
        };
        let width = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
        lines.push(Line {
            text: &rest[..at],
            end: &rest[at..at + width],
        });
        rest = &rest[at + width..];
    }
    lines
}

/// A blank to Python (`str.isspace`, the `\s` of its regular expressions).
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// `text` without blanks around it, as Python's `str.strip()`.
pub fn py_trim(text: &str) -> &str {
    text.trim_matches(is_blank)
}

/// The blanks that start `text`.
pub fn indent(text: &str) -> &str {
    &text[..text.len() - text.trim_start_matches(is_blank).len()]
}

/// The section `[NAME]` opens: after the first `[` up to the last `]`, at least one character.
pub fn header_name(line: &str) -> Option<&str> {
    let inner = py_trim(line).strip_prefix('[')?;
    let close = inner.rfind(']').filter(|&at| at > 0)?;
    Some(&inner[..close])
}

/// The profile botocore reads from the section named `section`, if any.
pub fn profile_of(section: &str) -> Option<String> {
    if section == "default" {
        return Some("default".into());
    }
    if !section.starts_with("profile") {
        return None;
    }
    match <[String; 2]>::try_from(shell_words(section)?) {
        Ok([_, name]) => Some(name),
        Err(_) => None,
    }
}

/// Python's `shlex.split` (POSIX rules, no comments), or `None` where it raises (an unclosed
/// quote, a `\` at the end).
pub fn shell_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            '\\' => word.get_or_insert_default().push(chars.next()?),
            '\'' => {
                let word = word.get_or_insert_default();
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                let word = word.get_or_insert_default();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => {
                            let c = chars.next()?;
                            if c != '"' && c != '\\' {
                                word.push('\\');
                            }
                            word.push(c);
                        }
                        c => word.push(c),
                    }
                }
            }
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    Some(words)
}

/// configparser's state between lines.
#[derive(Default)]
struct Reader {
    sections: Vec<Section>,
    /// The setting a deeper-indented line continues: (section, setting) indexes.
    current: Option<(usize, usize)>,
    /// The indentation of the last header or setting line.
    indent_level: usize,
}

impl Reader {
    fn line(&mut self, i: usize, text: &str) -> Result<(), Unreadable> {
        let value = py_trim(text);
        if value.is_empty() {
            self.continue_value(i, "");
            return Ok(());
        }
        if value.starts_with(['#', ';']) {
            return Ok(());
        }
        let indent = text.chars().take_while(|&c| is_blank(c)).count();
        if self.current.is_some() && indent > self.indent_level {
            self.continue_value(i, value);
            return Ok(());
        }
        self.indent_level = indent;
        match header_name(value) {
            Some(name) => self.open(i, name),
            None => self.setting(i, value),
        }
    }

    fn continue_value(&mut self, i: usize, text: &str) {
        if let Some((section, setting)) = self.current {
            let setting = &mut self.sections[section].settings[setting];
            setting.more.push((i, text.to_string()));
        }
    }

    fn open(&mut self, i: usize, name: &str) -> Result<(), Unreadable> {
        if name != DEFAULTS
            && let Some(first) = self.sections.iter().find(|s| s.name == name)
        {
            return Err(Unreadable::SectionAgain {
                name: name.to_string(),
                first: first.header,
            });
        }
        self.sections.push(Section {
            name: name.to_string(),
            header: i,
            end: i + 1,
            settings: Vec::new(),
        });
        self.current = None;
        Ok(())
    }

    fn setting(&mut self, i: usize, text: &str) -> Result<(), Unreadable> {
        let section = self
            .sections
            .len()
            .checked_sub(1)
            .ok_or(Unreadable::BeforeSection)?;
        let at = text.find(['=', ':']).ok_or(Unreadable::NotASetting)?;
        let key = text[..at].trim_end_matches(is_blank).to_lowercase();
        if key.is_empty() {
            return Err(Unreadable::NoKey);
        }
        // `[DEFAULT]` may open more than once; its keys are one set.
        let name = &self.sections[section].name;
        let seen = self.sections.iter().filter(|s| &s.name == name);
        if let Some(first) = seen.flat_map(|s| &s.settings).find(|s| s.key == key) {
            let first = first.line;
            return Err(Unreadable::KeyAgain { key, first });
        }
        let settings = &mut self.sections[section].settings;
        settings.push(Setting {
            key,
            line: i,
            value: py_trim(&text[at + 1..]).to_string(),
            more: Vec::new(),
        });
        self.current = Some((section, settings.len() - 1));
        Ok(())
    }
}

/// The value as configparser returns it: the lines joined with `\n`, blanks at the end removed.
fn joined_value(setting: &Setting) -> String {
    let mut value = setting.value.clone();
    for (_, text) in &setting.more {
        value.push('\n');
        value.push_str(text);
    }
    value.truncate(value.trim_end_matches(is_blank).len());
    value
}

/// botocore reads a value that starts on the next line as `key = value` lines (split like
/// Python's `str.splitlines`), and refuses the file when one has no `=`.
fn nested_error(sections: &[Section]) -> Option<(usize, Unreadable)> {
    let breaks = |c: char| "\n\r\x0b\x0c\x1c\x1d\x1e\u{85}\u{2028}\u{2029}".contains(c);
    let settings = sections.iter().flat_map(|s| &s.settings);
    let nested = settings.filter(|s| s.value.starts_with('\n'));
    nested
        .flat_map(|s| s.more.iter().map(move |(line, text)| (s, *line, text)))
        .find(|(_, _, text)| {
            text.split(breaks)
                .any(|piece| !py_trim(piece).is_empty() && !piece.contains('='))
        })
        .map(|(s, line, _)| {
            let why = Unreadable::NestedWithoutEquals {
                key: s.key.clone(),
                key_line: s.line,
            };
            (line, why)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_as_python_reads_them() {
        let line = |text, end| Line { text, end };
        for (content, want) in [
            ("", vec![]),
            ("a", vec![line("a", "")]),
            (
                "a\r\nb\rc\nd",
                vec![
                    line("a", "\r\n"),
                    line("b", "\r"),
                    line("c", "\n"),
                    line("d", ""),
                ],
            ),
            (
                "\r\r\n\n",
                vec![line("", "\r"), line("", "\r\n"), line("", "\n")],
            ),
            ("x\u{2028}y\x0b\n", vec![line("x\u{2028}y\x0b", "\n")]),
        ] {
            assert_eq!(split_lines(content), want, "{content:?}");
        }
    }

    /// The words Python's `shlex.split` gives (checked against Python 3.11).
    #[test]
    fn splits_words_as_shlex() {
        for (text, want) in [
            ("profile ci", Some(&["profile", "ci"][..])),
            ("profile  \"c i\"", Some(&["profile", "c i"])),
            ("profile 'a'b", Some(&["profile", "ab"])),
            ("pro\\ file x", Some(&["pro file", "x"])),
            ("profile \"a\\\"b\\x\"", Some(&["profile", "a\"b\\x"])),
            ("profile \"\"", Some(&["profile", ""])),
            ("profile\tci\r", Some(&["profile", "ci"])),
            ("profile \"x", None),
            ("profile x\\", None),
        ] {
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(shell_words(text), want, "{text:?}");
        }
    }

    /// The profile botocore's `build_profile_map` makes of a section name.
    #[test]
    fn names_profiles_as_botocore() {
        for (section, want) in [
            ("default", Some("default")),
            ("profile default", Some("default")),
            ("profile ci", Some("ci")),
            ("profile  ci ", Some("ci")),
            ("profile \"ci\"", Some("ci")),
            ("profilefoo ci", Some("ci")),
            (" profile ci", None),
            ("Profile ci", None),
            ("DEFAULT", None),
            (" default", None),
            ("profile", None),
            ("profile a b", None),
            ("profile \"ci", None),
            ("sso-session ci", None),
        ] {
            assert_eq!(profile_of(section).as_deref(), want, "{section:?}");
        }
    }

    /// What configparser makes of each kind of line (checked against Python 3.11).
    #[test]
    fn reads_sections_settings_and_continuations() {
        let ini = read(
            "[DEFAULT]\nk = d\n[profile ci]\n  Region : a\n\n  # c\n\t  b\nX=1\n [s]\nn =\n  a = b\n",
        );
        assert_eq!(ini.error, None);
        type Seen<'a> = (&'a str, usize, usize, Vec<(&'a str, &'a str)>);
        let seen: Vec<Seen> = ini
            .sections
            .iter()
            .map(|s| {
                let settings = s.settings.iter();
                let settings = settings.map(|s| (s.key.as_str(), s.value.as_str()));
                (s.name.as_str(), s.header, s.end, settings.collect())
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("DEFAULT", 0, 2, vec![("k", "d")]),
                // ` [s]` is indented below `X=1`, so it is more of that value.
                (
                    "profile ci",
                    2,
                    11,
                    vec![("region", "a\n\nb"), ("x", "1\n[s]"), ("n", "\na = b")]
                ),
            ]
        );
        let region = &ini.sections[1].settings[0];
        assert_eq!(region.continued().collect::<Vec<_>>(), vec![6]);
    }
}
