//! Environment assignments printed for a shell or a tool to read: `sh`, `fish`, `dotenv`, `json`.

use std::fmt::Write as _;

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

    #[test]
    fn json() {
        let v: serde_json::Value = serde_json::from_str(&render(VARS, EnvFormat::Json)).unwrap();
        assert_eq!(v["B"], "it's $HOME \\ \"q\"\nx");
    }
}
