//! Text from outside this program — a token's claims, a server's answer, a file, a setting —
//! and how it is shown to a person: every character that a terminal would act on or that cannot
//! be seen is written as a visible escape, so that such text cannot move the cursor, recolour
//! the screen, start a line of its own or reorder what is around it.
//!
//! - [`Text`] holds such a string. Its `Display` is escaped; its value (`Deref` to `str`,
//!   [`Text::as_str`]) and its JSON form are the string as received. The claims of a token
//!   ([`crate::token::Claims`]) and the identity a refusal names ([`crate::refusal::Identity`])
//!   are `Text`, so a message that formats them shows them escaped without having to remember.
//! - [`escaped`] is the one escaping: `\n`, `\r`, `\t`, other ASCII control characters as
//!   `\x1b`, and the other characters of [`is_hidden`] as `\u{202e}`. Backslashes and quotes are
//!   left as they are.
//! - [`escaped_within`] also cuts the result to a length; [`escaped_lines`] keeps line breaks,
//!   for whole messages whose lines are this program's own; [`shown_json`] escapes JSON text
//!   with JSON's own `\uXXXX`, so that what is shown can still be saved and read as JSON;
//!   [`indented_json`] lays a value out that way, indented, for a hint.
//!
//! Commands for a person to paste are quoted by [`crate::output::PasteCommand`], which refuses
//! any value holding a character of [`is_hidden`].

use std::borrow::Cow;
use std::fmt;

/// Whether `c` is shown as an escape: a control character (C0, DEL, C1), or a character that
/// changes how the text around it is laid out or that cannot be seen: the bidirectional
/// embeddings, overrides, isolates and marks, zero-width spaces and joiners, line and
/// paragraph separators, the soft hyphen, invisible operators, the byte order mark, Hangul
/// fillers, interlinear annotation marks and tag characters.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{61c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// Appends `c` to `out` as shown: itself, or its escape when [`is_hidden`].
fn push_shown(out: &mut String, c: char) {
    use fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_ascii_control() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_hidden(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// `text` with every character of [`is_hidden`] written as a visible escape (`\n`, `\x1b`,
/// `\u{202e}`); borrowed when there is none.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_shown(&mut out, c);
    }
    Cow::Owned(out)
}

/// [`escaped`], cut to at most `max` characters of output (then `…`); an escape is never cut
/// in two.
pub fn escaped_within(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut piece = String::new();
    for c in text.chars() {
        piece.clear();
        push_shown(&mut piece, c);
        let len = piece.chars().count();
        if count + len > max {
            out.push('…');
            break;
        }
        count += len;
        out.push_str(&piece);
    }
    out
}

/// [`escaped`], except that line breaks stay: for a whole message whose lines are this
/// program's own and whose outside parts were escaped when they were put in.
pub fn escaped_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_hidden(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push('\n'),
            c => push_shown(&mut out, c),
        }
    }
    Cow::Owned(out)
}

/// JSON text (as `serde_json` writes it) made fit to show: every character of [`is_hidden`]
/// written as JSON's `\uXXXX` (`serde_json` escapes only those below U+0020 in strings, so the
/// line breaks and indents left are its own layout), so that the text means the same when
/// saved and read as JSON.
pub fn shown_json(json: &str) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_hidden(c) && !c.is_ascii_whitespace() {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `value` as pretty JSON fit to show ([`shown_json`]), each line after `indent`: the trust
/// set-up a hint or `doctor` proposes.
pub fn indented_json(value: &impl serde::Serialize, indent: &str) -> Vec<String> {
    let json = serde_json::to_string_pretty(value).expect("json");
    shown_json(&json)
        .lines()
        .map(|l| format!("{indent}{l}"))
        .collect()
}

/// A string from outside this program: shown ([`fmt::Display`]) [`escaped`], used (`Deref` to
/// `str`, [`Text::as_str`], serde) as it is.
#[derive(
    Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    pub const EMPTY: Self = Self(String::new());

    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The string as received, for use rather than for showing.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// [`escaped`], padded as asked.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&escaped(&self.0))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self(text.to_string())
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per kind of character: how it is shown.
    #[test]
    fn escapes_table() {
        let cases: &[(&str, &str)] = &[
            (
                "plain: words, `ticks` 'q' \"dq\" \\ ünïcode ✓",
                "plain: words, `ticks` 'q' \"dq\" \\ ünïcode ✓",
            ),
            ("a\nb\rc\td", "a\\nb\\rc\\td"),
            ("\u{1b}[31mred\u{1b}[0m", "\\x1b[31mred\\x1b[0m"),
            ("nul\0 del\u{7f} bell\u{7}", "nul\\x00 del\\x7f bell\\x07"),
            ("c1 csi\u{9b}2J", "c1 csi\\u{9b}2J"),
            ("rtl \u{202e}gnp.exe", "rtl \\u{202e}gnp.exe"),
            ("isolate \u{2066}x\u{2069}", "isolate \\u{2066}x\\u{2069}"),
            (
                "zero\u{200b}width\u{200d}joiner\u{feff}",
                "zero\\u{200b}width\\u{200d}joiner\\u{feff}",
            ),
            ("line\u{2028}sep", "line\\u{2028}sep"),
            ("soft\u{ad}hyphen", "soft\\u{ad}hyphen"),
            ("tag\u{e0041}", "tag\\u{e0041}"),
            ("$(id) `id` ; | & < > *", "$(id) `id` ; | & < > *"),
        ];
        for (text, shown) in cases {
            assert_eq!(escaped(text), *shown, "{text:?}");
            assert_eq!(Text::from(*text).to_string(), *shown, "{text:?}");
        }
        assert!(matches!(escaped("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_is_used_as_received_and_shown_escaped() {
        let t = Text::from("a\u{1b}b");
        assert_eq!(t, "a\u{1b}b");
        assert_eq!(t.len(), 3);
        assert_eq!(format!("[{t}]"), "[a\\x1bb]");
        assert_eq!(format!("[{t:<8}]"), "[a\\x1bb  ]");
        assert_eq!(serde_json::to_string(&t).unwrap(), r#""a\u001bb""#);
        assert_eq!(serde_json::from_str::<Text>(r#""a\u001bb""#).unwrap(), t);
    }

    #[test]
    fn cut_lines_and_json() {
        assert_eq!(escaped_within("ab\ncd", 4), "ab\\n…");
        assert_eq!(escaped_within("ab\ncd", 3), "ab…");
        assert_eq!(escaped_within("abc", 3), "abc");
        assert_eq!(
            escaped_lines("one\ntwo\u{1b}[2J\r\n"),
            "one\ntwo\\x1b[2J\\r\n"
        );
        let value = serde_json::json!({"s": "a\u{1b}\n\u{202e}\u{9b}\u{e0041}"});
        let shown = shown_json(&serde_json::to_string_pretty(&value).unwrap());
        assert_eq!(
            shown,
            "{\n  \"s\": \"a\\u001b\\n\\u202e\\u009b\\udb40\\udc41\"\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back["s"], "a\u{1b}\n\u{202e}\u{9b}\u{e0041}");
    }
}
