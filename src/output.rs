//! What is printed for a shell to read: environment assignments (`sh`, `fish`, `dotenv`,
//! `json`), and commands for a person to paste ([`PasteCommand`], each argument a
//! [`shell_word`]). Quoting makes a value one word for the shell; the program given it may
//! still read it as more or other than that one value (a list it splits at `,`, a file it
//! loads), so a command refuses such a value too, by the program's own rule
//! ([`PasteCommand::unless_misread`]), or writes it in a form the program reads as exactly it
//! ([`PasteCommand::arg_as`]).

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::outside;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum EnvFormat {
    /// `export NAME='value'` for sh, bash and zsh (`eval "$(…)"`).
    #[default]
    Sh,
    /// `set -gx NAME 'value';` for fish (`… | source`).
    Fish,
    /// `NAME="value"` lines, as `.env` files and `docker --env-file` read them.
    ///
    /// Safe to source with `set -a; . ./file`: `\`, `"`, `$` and `` ` `` are escaped with a
    /// backslash, newlines and carriage returns written as `\n` and `\r`.
    Dotenv,
    /// One JSON object of names to values.
    Json,
}

/// Renders `vars` in `format`, quoting every value so that no content is interpreted.
pub fn render<K: AsRef<str>, V: AsRef<str>>(vars: &[(K, V)], format: EnvFormat) -> String {
    let mut out = String::new();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    match format {
        EnvFormat::Sh => {
            for (k, v) in &vars {
                let _ = writeln!(out, "export {k}={}", sh_quote(v));
            }
        }
        EnvFormat::Fish => {
            for (k, v) in &vars {
                let _ = writeln!(out, "set -gx {k} {};", fish_quote(v));
            }
        }
        EnvFormat::Dotenv => {
            for (k, v) in &vars {
                let _ = writeln!(out, "{k}={}", dotenv_quote(v));
            }
        }
        EnvFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect();
            out = serde_json::to_string_pretty(&map).expect("strings serialize");
            out.push('\n');
        }
    }
    out
}

/// POSIX single quotes: everything literal; a `'` becomes `'\''`.
pub fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// Why a value cannot be put into a command to paste. `Display` names the value, escaped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unquotable {
    /// It holds a character of [`outside::is_hidden`]: a person could not see what they paste.
    #[error(
        "`{}` holds a control or invisible character, which cannot be shown in a command to paste",
        outside::escaped(.0)
    )]
    Hidden(String),
    /// A value standing alone that starts with `-`: the command would read it as an option.
    #[error("`{}` starts with `-`, which the command would read as an option", outside::escaped(.0))]
    Dash(String),
    /// The program would read the value as something other than itself, for the reason given
    /// (`holds `,`, where gcloud splits a list`).
    #[error("`{}` {}", outside::escaped(.0), .1)]
    Misread(String, &'static str),
}

/// A word as both POSIX `sh` (and bash, zsh) and Python's `shlex.split` read it: bare when it
/// holds only `[A-Za-z0-9_@%+=:,./-]` (and does not start with `=`, which zsh expands), else in
/// single quotes ([`sh_quote`]). Refused when it holds a character of [`outside::is_hidden`].
pub fn shell_word(word: &str) -> Result<Cow<'_, str>, Unquotable> {
    if word.chars().any(outside::is_hidden) {
        return Err(Unquotable::Hidden(word.to_string()));
    }
    let bare = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !word.is_empty() && !word.starts_with('=') && word.chars().all(bare) {
        Ok(Cow::Borrowed(word))
    } else {
        Ok(Cow::Owned(sh_quote(word)))
    }
}

/// A command line for a person to paste, put together word by word: this program's own words
/// as they are, every other value quoted as a [`shell_word`]. A value that cannot be quoted
/// turns the whole line into a shell comment saying why ([`PasteCommand::line`]), so that
/// nothing runs if it is pasted.
#[derive(Clone, Debug)]
pub struct PasteCommand {
    line: String,
    refused: Option<Unquotable>,
}

impl PasteCommand {
    /// A command starting with `words`, this program's own (`aws iam create-role`).
    pub fn new(words: &str) -> Self {
        Self {
            line: words.to_string(),
            refused: None,
        }
    }

    /// This program's own words, as they are (`--location=global`).
    pub fn words(mut self, words: &str) -> Self {
        self.line.push(' ');
        self.line.push_str(words);
        self
    }

    /// A value standing alone (a positional argument, or the value after a flag and a space):
    /// quoted, and refused when it starts with `-`.
    pub fn arg(self, value: &str) -> Self {
        if value.starts_with('-') {
            return self.refuse(Unquotable::Dash(value.to_string()));
        }
        self.push("", value)
    }

    /// A value standing alone that the program reads written as `written` (for example a
    /// one-item JSON list, which the AWS CLI reads as exactly that item): `written` quoted,
    /// and refused, naming `value`, when `value` holds a character of [`outside::is_hidden`].
    pub fn arg_as(self, value: &str, written: &str) -> Self {
        if value.chars().any(outside::is_hidden) {
            return self.refuse(Unquotable::Hidden(value.to_string()));
        }
        self.arg(written)
    }

    /// The flag `name` joined to `value` by `=`, the value quoted.
    pub fn flag(self, name: &str, value: &str) -> Self {
        self.push(&format!("{name}="), value)
    }

    /// Refuses the command when `misread` gives a reason why the program would not read
    /// `value`, once it is given, as that one value ([`Unquotable::Misread`]).
    pub fn unless_misread(self, value: &str, misread: fn(&str) -> Option<&'static str>) -> Self {
        match misread(value) {
            Some(why) => self.refuse(Unquotable::Misread(value.to_string(), why)),
            None => self,
        }
    }

    fn push(mut self, prefix: &str, value: &str) -> Self {
        match shell_word(value) {
            Ok(word) => {
                let _ = write!(self.line, " {prefix}{word}");
                self
            }
            Err(why) => self.refuse(why),
        }
    }

    fn refuse(mut self, why: Unquotable) -> Self {
        self.refused.get_or_insert(why);
        self
    }

    /// The command, or `# no command: <why>` when a value could not be quoted.
    pub fn line(self) -> String {
        match self.refused {
            None => self.line,
            Some(why) => format!("# no command: {why}"),
        }
    }
}

/// fish single quotes: only `\` and `'` are special inside them.
fn fish_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', r"\\").replace('\'', r"\'"))
}

/// dotenv double quotes with backslash escapes for everything a POSIX shell expands inside
/// double quotes (`\`, `"`, `$`, `` ` ``), and `\n`/`\r` for line breaks, so that a shell
/// sourcing the file runs nothing and dotenv readers see one line per variable.
fn dotenv_quote(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '\\' => s.push_str(r"\\"),
            '"' => s.push_str("\\\""),
            '$' => s.push_str(r"\$"),
            '`' => s.push_str(r"\`"),
            '\n' => s.push_str(r"\n"),
            '\r' => s.push_str(r"\r"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &[(&str, &str)] = &[
        ("A", "plain"),
        ("B", "it's $HOME \\ \"q\"\nx"),
        ("C", "`id`$(id)"),
    ];

    #[test]
    fn sh() {
        assert_eq!(
            render(VARS, EnvFormat::Sh),
            "export A='plain'\nexport B='it'\\''s $HOME \\ \"q\"\nx'\nexport C='`id`$(id)'\n"
        );
    }

    #[test]
    fn fish() {
        assert_eq!(
            render(VARS, EnvFormat::Fish),
            "set -gx A 'plain';\nset -gx B 'it\\'s $HOME \\\\ \"q\"\nx';\nset -gx C '`id`$(id)';\n"
        );
    }

    #[test]
    fn dotenv() {
        assert_eq!(
            render(VARS, EnvFormat::Dotenv),
            "A=\"plain\"\nB=\"it's \\$HOME \\\\ \\\"q\\\"\\nx\"\nC=\"\\`id\\`\\$(id)\"\n"
        );
    }

    /// One row per word: how a pasted command writes it, or why it cannot.
    #[test]
    fn shell_words() {
        let hidden = |w: &str| Err(Unquotable::Hidden(w.to_string()));
        let cases: &[(&str, Result<&str, Unquotable>)] = &[
            (
                "https://oidc.vercel.com/acme",
                Ok("https://oidc.vercel.com/acme"),
            ),
            (
                "--member=principal://x/a:b@c,d%e+f",
                Ok("--member=principal://x/a:b@c,d%e+f"),
            ),
            ("", Ok("''")),
            ("=cmd", Ok("'=cmd'")),
            ("a b", Ok("'a b'")),
            ("$(touch x)", Ok("'$(touch x)'")),
            ("`id`;id|id&", Ok("'`id`;id|id&'")),
            ("it's", Ok(r"'it'\''s'")),
            ("\"q\" \\ ~ * ! {a,b}", Ok("'\"q\" \\ ~ * ! {a,b}'")),
            ("a\nb", hidden("a\nb")),
            ("esc\u{1b}[2J", hidden("esc\u{1b}[2J")),
            ("rtl\u{202e}", hidden("rtl\u{202e}")),
        ];
        for (word, want) in cases {
            let got = shell_word(word).map(Cow::into_owned);
            assert_eq!(got, want.clone().map(str::to_string), "{word:?}");
        }
        assert_eq!(
            hidden("a\u{1b}b").unwrap_err().to_string(),
            "`a\\x1bb` holds a control or invisible character, which cannot be shown in a command to paste"
        );
    }

    #[test]
    fn paste_commands() {
        let ok = PasteCommand::new("tool run")
            .arg("it's")
            .words("--location=global")
            .flag("--member", "$(x)")
            .line();
        assert_eq!(ok, r"tool run 'it'\''s' --location=global --member='$(x)'");
        let refused = PasteCommand::new("tool")
            .arg("--url")
            .flag("--member", "a\nb");
        assert_eq!(
            refused.line(),
            "# no command: `--url` starts with `-`, which the command would read as an option"
        );
        assert_eq!(
            PasteCommand::new("tool").flag("--member", "a\nb").line(),
            "# no command: `a\\nb` holds a control or invisible character, which cannot be shown in a command to paste"
        );
    }

    /// One row per value: how a command that refuses a `,` and writes its list argument as
    /// JSON prints it, or why it cannot.
    #[test]
    fn paste_commands_refuse_what_the_program_would_misread() {
        let comma = |v: &str| {
            v.contains(',')
                .then_some("holds `,`, where the tool splits a list")
        };
        let command = |value: &str| {
            PasteCommand::new("tool --client-id-list")
                .arg_as(value, &serde_json::json!([value]).to_string())
                .flag("--member", value)
                .unless_misread(value, comma)
                .line()
        };
        let cases: &[(&str, &str)] = &[
            ("a b", r#"tool --client-id-list '["a b"]' --member='a b'"#),
            (
                "it's",
                r#"tool --client-id-list '["it'\''s"]' --member='it'\''s'"#,
            ),
            (
                "a,b",
                "# no command: `a,b` holds `,`, where the tool splits a list",
            ),
            (
                "a\u{202e},b",
                "# no command: `a\\u{202e},b` holds a control or invisible character, which cannot be shown in a command to paste",
            ),
            (
                "a\u{1b}b",
                "# no command: `a\\x1bb` holds a control or invisible character, which cannot be shown in a command to paste",
            ),
        ];
        for (value, want) in cases {
            assert_eq!(command(value), *want, "{value:?}");
        }
    }

    #[test]
    fn json() {
        let v: serde_json::Value = serde_json::from_str(&render(VARS, EnvFormat::Json)).unwrap();
        assert_eq!(v["B"], "it's $HOME \\ \"q\"\nx");
    }
}
