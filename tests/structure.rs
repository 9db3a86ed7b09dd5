//! The shape of `src/`, read from its text: no module imports one that imports it back, and no
//! function is longer than 60 lines.
//!
//! Each `.rs` file is one module: `src/lib.rs` is the crate root (`crate`), `src/aws/mod.rs` is
//! `aws`, `src/aws/sts.rs` is `aws::sts`. `src/main.rs` is the binary, a crate of its own: its
//! functions are measured, but it is no module of the graph.
//!
//! The text is cut into tokens, leaving out comments and string and character literals, and then
//! every item under `#[cfg(test)]` (the whole `mod tests { ... }`). A module names another when
//! one of its paths does: a path starting at `crate::` (or `$crate::` in a macro), `super::` or
//! `self::`, in a `use` (groups expanded) or written inline in code, names the deepest file that
//! exists along it (`crate::aws::settings::TABLE` is `aws::settings`, `crate::aws::AwsConfig`
//! is `aws`). A macro called as `crate::debug!` names the file whose `#[macro_export]` defines
//! it. A path inside an inline module (`mod diag { use super::Lookup; }`) starts from it. These
//! are no edges: `mod x;`, a module naming itself, and a path relative to the module
//! (`sts::StsError` in `aws`), which only a parent writes of its child. So a parent's
//! `pub use child::X`, which hands a name on, is not counted: the README ("Source layout") names
//! the one loop between folders that this leaves out.
//!
//! A failure lists each group of modules that import each other, then one cycle for each import
//! that some cycle goes through: that import and the shortest way back, `a -> b -> c -> a`, so
//! that a reader sees which import to cut. `cargo test --test structure -- --nocapture` also
//! prints how many modules, edges (one for each pair of modules) and such cycles there are.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// A word of the source (an identifier or `::`), one punctuation character, or [`LITERAL`].
#[derive(Clone, Debug, PartialEq)]
struct Token {
    text: String,
    line: usize,
}

/// What a number, string or character literal becomes: its value is never a path.
const LITERAL: &str = "\"\"";

/// The longest a function may be, from its `fn` line to its closing brace.
const MAX_FUNCTION_LINES: usize = 60;

/// A module's path below the crate root: `["aws", "sts"]`; `[]` is the root.
type ModulePath = Vec<String>;

#[test]
fn no_import_cycle_between_modules() {
    let graph = Graph::of(&sources());
    let (groups, cycles) = (graph.groups(), graph.cycles());
    println!(
        "modules: {}, edges: {}, cycles: {}, groups of modules importing each other: {}",
        graph.edges.len(),
        graph.edges.values().map(BTreeSet::len).sum::<usize>(),
        cycles.len(),
        groups.len()
    );
    let lines = |all: Vec<String>| all.iter().map(|l| format!("\n  {l}")).collect::<String>();
    assert!(
        cycles.is_empty(),
        "modules that import each other:{}\nthrough these cycles (cut one import of each):{}",
        lines(groups.iter().map(|g| g.join(", ")).collect()),
        lines(cycles.iter().map(|c| c.join(" -> ")).collect()),
    );
}

#[test]
fn no_function_longer_than_60_lines() {
    let mut long = Vec::new();
    for (file, text) in sources() {
        for f in functions(&without_tests(tokens(&text))) {
            if f.lines > MAX_FUNCTION_LINES {
                long.push(format!(
                    "{}:{} {} ({} lines)",
                    file, f.line, f.name, f.lines
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions longer than {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// Every `.rs` file under `src/`: its path from the crate (`src/aws/sts.rs`) and its text, in
/// path order.
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    let relative = |p: &PathBuf| p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
    files
        .iter()
        .map(|p| (relative(p), std::fs::read_to_string(p).unwrap()))
        .collect()
}

/// The module a file under `src/` is: `src/aws/mod.rs` is `["aws"]`, `src/lib.rs` `[]`;
/// `None` for `src/main.rs`, the binary.
fn module_of(file: &str) -> Option<ModulePath> {
    let mut path: ModulePath = file
        .trim_start_matches("src/")
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    match path.last().map(String::as_str) {
        Some("main") if path.len() == 1 => return None,
        Some("lib") if path.len() == 1 => path.clear(),
        Some("mod") => {
            path.pop();
        }
        _ => {}
    }
    Some(path)
}

/// How a module is shown: `aws::sts`, or `crate` for the root.
fn shown(module: &[String]) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

// Tokens.

/// `source` as tokens, without comments, whitespace or lifetimes.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let (mut at, mut line, mut out) = (0, 1, Vec::new());
    while at < chars.len() {
        let (end, text) = lexeme(&chars, at);
        if let Some(text) = text {
            out.push(Token { text, line });
        }
        line += chars[at..end].iter().filter(|&&c| c == '\n').count();
        at = end;
    }
    out
}

/// Where the lexeme at `at` ends, and its token (none for a comment, whitespace or lifetime).
fn lexeme(c: &[char], at: usize) -> (usize, Option<String>) {
    let starts = |s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, x)| c.get(at + k) == Some(&x))
    };
    let word = |end: usize| (end, Some(c[at..end].iter().collect::<String>()));
    let literal = |end: usize| (end, Some(LITERAL.to_string()));
    if starts("//") {
        return (end_of_line(c, at), None);
    }
    if starts("/*") {
        return (end_of_block_comment(c, at), None);
    }
    if let Some(end) = end_of_string(c, at) {
        return literal(end);
    }
    match c[at] {
        ch if ch.is_whitespace() => (at + 1, None),
        '\'' => end_of_quote_or_lifetime(c, at),
        ch if ch.is_ascii_digit() => literal(end_of_number(c, at)),
        '$' if c.get(at + 1).is_some_and(|&n| is_word_char(n)) => {
            let (end, text) = word(end_of_word(c, at + 1));
            (
                end,
                text.map(|t| if t == "$crate" { "crate".into() } else { t }),
            )
        }
        ch if is_word_char(ch) => word(end_of_word(c, at)),
        ':' if starts("::") => word(at + 2),
        _ => word(at + 1),
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn end_of_word(c: &[char], at: usize) -> usize {
    (at..c.len())
        .find(|&k| !is_word_char(c[k]))
        .unwrap_or(c.len())
}

fn end_of_line(c: &[char], at: usize) -> usize {
    (at..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len())
}

/// After the `*/` that closes the `/*` at `at`, nested ones included.
fn end_of_block_comment(c: &[char], at: usize) -> usize {
    let (mut depth, mut k) = (0, at);
    while k + 1 < c.len() {
        match (c[k], c[k + 1]) {
            ('/', '*') => depth += 1,
            ('*', '/') => depth -= 1,
            _ => {
                k += 1;
                continue;
            }
        }
        k += 2;
        if depth == 0 {
            return k;
        }
    }
    c.len()
}

/// After the string (`"…"`, `b"…"`, `c"…"`, `r#"…"#`, `br"…"`) or byte (`b'…'`) starting at
/// `at`, if one does.
fn end_of_string(c: &[char], at: usize) -> Option<usize> {
    let prefixed = matches!(c[at], 'b' | 'c');
    let k = at + usize::from(prefixed);
    match c.get(k) {
        Some('"') => Some(end_of_quoted(c, k)),
        Some('\'') if prefixed => Some(end_of_quoted(c, k)),
        Some('r') => {
            let hashes = c[k + 1..].iter().take_while(|&&x| x == '#').count();
            if c.get(k + 1 + hashes) != Some(&'"') {
                return None;
            }
            let close: Vec<char> = std::iter::once('"').chain(vec!['#'; hashes]).collect();
            let body = k + 2 + hashes;
            let found = (body..c.len()).find(|&e| c[e..].starts_with(&close));
            Some(found.map_or(c.len(), |e| e + close.len()))
        }
        _ => None,
    }
}

/// After the quote that closes the one at `at`, skipping escaped characters.
fn end_of_quoted(c: &[char], at: usize) -> usize {
    let mut k = at + 1;
    while k < c.len() {
        match c[k] {
            '\\' => k += 2,
            q if q == c[at] => return k + 1,
            _ => k += 1,
        }
    }
    c.len()
}

/// A character literal (`'a'`, `'\n'`) is a literal; a lifetime (`'a`, `'static`) is dropped.
fn end_of_quote_or_lifetime(c: &[char], at: usize) -> (usize, Option<String>) {
    if c.get(at + 1) == Some(&'\\') || c.get(at + 2) == Some(&'\'') {
        (end_of_quoted(c, at), Some(LITERAL.to_string()))
    } else {
        (end_of_word(c, at + 1), None)
    }
}

/// After a number: digits, letters (`0x1F`, `10u8`, `1e3`) and a `.` followed by a digit.
fn end_of_number(c: &[char], at: usize) -> usize {
    let mut k = at;
    while k < c.len()
        && (is_word_char(c[k]) || c[k] == '.' && c.get(k + 1).is_some_and(char::is_ascii_digit))
    {
        k += 1;
    }
    k
}

/// The text of the token at `i`, or `""` past the end.
fn text(t: &[Token], i: usize) -> &str {
    t.get(i).map_or("", |t| t.text.as_str())
}

/// `t` without the items under `#[cfg(test)]`.
fn without_tests(t: Vec<Token>) -> Vec<Token> {
    const CFG_TEST: [&str; 7] = ["#", "[", "cfg", "(", "test", ")", "]"];
    let mut kept = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if (0..CFG_TEST.len()).all(|k| text(&t, i + k) == CFG_TEST[k]) {
            i = end_of_item(&t, i + CFG_TEST.len());
        } else {
            kept.push(t[i].clone());
            i += 1;
        }
    }
    kept
}

/// After the item at `i` (its other attributes first): its `;`, or the brace closing its body.
fn end_of_item(t: &[Token], mut i: usize) -> usize {
    let mut depth = 0;
    while i < t.len() {
        match text(t, i) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" => depth -= 1,
            "}" if depth == 1 => return i + 1,
            "}" => depth -= 1,
            ";" if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

// Functions.

/// A function with a body: its name, the line of its `fn`, and how many lines it spans.
#[derive(Debug, PartialEq)]
struct Function {
    name: String,
    line: usize,
    lines: usize,
}

/// Every function in `t` that has a body (a trait's declaration has none).
fn functions(t: &[Token]) -> Vec<Function> {
    let named = |i: usize| text(t, i) == "fn" && text(t, i + 1).starts_with(is_word_start);
    (0..t.len())
        .filter(|&i| named(i))
        .filter_map(|i| {
            let end = end_of_body(t, i)?;
            Some(Function {
                name: t[i + 1].text.clone(),
                line: t[i].line,
                lines: t[end].line - t[i].line + 1,
            })
        })
        .collect()
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// The brace closing the body of the `fn` at `i`; `None` when a `;` comes first.
fn end_of_body(t: &[Token], i: usize) -> Option<usize> {
    let mut depth = 0;
    for k in i..t.len() {
        match text(t, k) {
            "(" | "[" => depth += 1,
            ")" | "]" => depth -= 1,
            ";" if depth == 0 => return None,
            "{" if depth == 0 => return Some(end_of_item(t, k) - 1),
            _ => {}
        }
    }
    None
}

// Paths.

/// The modules each `#[macro_export]` macro defined in `t` is called through: `debug` → `log`.
fn exported_macros(t: &[Token], module: &[String]) -> BTreeMap<String, ModulePath> {
    (2..t.len())
        .filter(|&i| text(t, i) == "macro_rules" && text(t, i + 1) == "!")
        .filter(|&i| text(t, i - 2) == "macro_export" && text(t, i - 1) == "]")
        .map(|i| (text(t, i + 2).to_string(), module.to_vec()))
        .collect()
}

/// Every path in `t`, written in `module`, that starts at the crate root, `self` or `super`: as
/// a path from the crate root, `use` groups expanded; a call of an exported macro (`crate::debug!`)
/// as the module that defines it.
fn paths(t: &[Token], module: &[String], macros: &BTreeMap<String, ModulePath>) -> Vec<ModulePath> {
    let mut scope = module.to_vec();
    let (mut inline_at, mut depth, mut found, mut i) = (Vec::new(), 0, Vec::new(), 0);
    while i < t.len() {
        if let Some((base, first)) = path_start(t, i, &scope) {
            let (written, after) = path_at(t, first, base);
            let macro_module = written
                .last()
                .and_then(|p| p.last())
                .and_then(|m| macros.get(m));
            match macro_module {
                Some(defined) if text(t, after) == "!" => found.push(defined.clone()),
                _ => found.extend(written),
            }
            i = after;
            continue;
        }
        match text(t, i) {
            "mod" if text(t, i + 2) == "{" => {
                scope.push(text(t, i + 1).to_string());
                inline_at.push(depth);
            }
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if inline_at.last() == Some(&depth) {
                    inline_at.pop();
                    scope.pop();
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Where the path whose first word is at `i` starts from (the crate root for `crate`, `scope` for
/// `self`, its parent for each `super`), and the index of its next segment; `None` when no such
/// path starts at `i`.
fn path_start(t: &[Token], i: usize, scope: &[String]) -> Option<(ModulePath, usize)> {
    if i > 0 && text(t, i - 1) == "::" || text(t, i + 1) != "::" {
        return None;
    }
    let mut base = match text(t, i) {
        "crate" => Vec::new(),
        "self" => scope.to_vec(),
        "super" => scope[..scope.len().saturating_sub(1)].to_vec(),
        _ => return None,
    };
    let mut next = i + 2;
    while text(t, next) == "super" && text(t, next + 1) == "::" {
        base.pop();
        next += 2;
    }
    Some((base, next))
}

/// The paths written from the segment at `i` on, after `prefix` (one path, or one for each
/// entry of a `{...}` group), and the index after them.
fn path_at(t: &[Token], mut i: usize, mut prefix: ModulePath) -> (Vec<ModulePath>, usize) {
    loop {
        match text(t, i) {
            "{" => return group(t, i + 1, prefix),
            "*" | "self" => {}
            segment => prefix.push(segment.to_string()),
        }
        if text(t, i + 1) != "::" {
            return (vec![prefix], i + 1);
        }
        i += 2;
    }
}

/// The paths of a `use` group's entries from `i` (after its `{`) to its `}`, and the index
/// after that `}`. An entry's `as name` is skipped.
fn group(t: &[Token], mut i: usize, prefix: ModulePath) -> (Vec<ModulePath>, usize) {
    let mut all = Vec::new();
    while i < t.len() && text(t, i) != "}" {
        let (entry, after) = path_at(t, i, prefix.clone());
        all.extend(entry);
        i = after;
        while i < t.len() && !matches!(text(t, i), "," | "}") {
            i += 1;
        }
        if text(t, i) == "," {
            i += 1;
        }
    }
    (all, i + 1)
}

/// The deepest module of `modules` along `path`: `aws::settings::TABLE` is `aws::settings`.
fn resolve<'a>(path: &[String], modules: &'a BTreeSet<ModulePath>) -> &'a ModulePath {
    (0..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]))
        .expect("the crate root is a module")
}

// The graph.

/// Which modules each module names (by [`shown`] name), every module a key.
struct Graph {
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// The graph of `files` (path, text), as [`sources`] gives them.
    fn of(files: &[(String, String)]) -> Self {
        let read: Vec<(ModulePath, Vec<Token>)> = files
            .iter()
            .filter_map(|(file, text)| Some((module_of(file)?, without_tests(tokens(text)))))
            .collect();
        let modules: BTreeSet<ModulePath> = read.iter().map(|(m, _)| m.clone()).collect();
        let macros: BTreeMap<String, ModulePath> = read
            .iter()
            .flat_map(|(m, t)| exported_macros(t, m))
            .collect();
        let mut edges = BTreeMap::new();
        for (module, t) in &read {
            let named: BTreeSet<String> = paths(t, module, &macros)
                .iter()
                .map(|p| resolve(p, &modules))
                .filter(|&target| target != module)
                .map(|target| shown(target))
                .collect();
            edges.insert(shown(module), named);
        }
        Self { edges }
    }

    /// One cycle for each edge that some cycle goes through: the edge, then the shortest way
    /// back; each shown from its first module in name order, ending where it starts.
    fn cycles(&self) -> Vec<Vec<String>> {
        let mut found = BTreeSet::new();
        for (from, targets) in &self.edges {
            for to in targets {
                if let Some(back) = self.shortest_path(to, from) {
                    let mut cycle: Vec<String> =
                        std::iter::once(from.clone()).chain(back).collect();
                    cycle.pop();
                    let first = (0..cycle.len()).min_by_key(|&k| &cycle[k]).unwrap();
                    cycle.rotate_left(first);
                    cycle.push(cycle[0].clone());
                    found.insert(cycle);
                }
            }
        }
        found.into_iter().collect()
    }

    /// The groups of modules that each reach all the others of their group, in name order.
    fn groups(&self) -> Vec<Vec<String>> {
        let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
        for module in self.edges.keys() {
            let both_ways = |other: &&String| {
                self.shortest_path(module, other).is_some()
                    && self.shortest_path(other, module).is_some()
            };
            let group: Vec<String> = self.edges.keys().filter(both_ways).cloned().collect();
            if group.len() > 1 {
                groups.insert(group);
            }
        }
        groups.into_iter().collect()
    }

    /// The modules from `from` to `to` along the fewest edges, both included.
    fn shortest_path(&self, from: &str, to: &str) -> Option<Vec<String>> {
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(at) = queue.pop_front() {
            if at == to {
                let mut path = vec![to.to_string()];
                while let Some(&previous) = came_from.get(path.last().unwrap().as_str()) {
                    path.push(previous.to_string());
                }
                path.reverse();
                return Some(path);
            }
            for next in self.edges.get(at).into_iter().flatten() {
                if next != from && !came_from.contains_key(next.as_str()) {
                    came_from.insert(next, at);
                    queue.push_back(next);
                }
            }
        }
        None
    }
}

// The parser's own cases.

mod parser {
    use super::*;

    /// The paths `source`, the text of `module`, names, as `a::b::C`.
    fn named(source: &str, module: &str) -> Vec<String> {
        let t = without_tests(tokens(source));
        let module: ModulePath = module.split("::").map(str::to_string).collect();
        let macros = BTreeMap::from([("debug".to_string(), vec!["log".to_string()])]);
        paths(&t, &module, &macros)
            .iter()
            .map(|p| shown(p))
            .collect()
    }

    #[test]
    fn paths_a_module_names() {
        for (source, module, expected) in [
            (
                "use crate::aws::{sts::{StsClient, StsError as E}, settings, self};",
                "cli",
                &[
                    "aws::sts::StsClient",
                    "aws::sts::StsError",
                    "aws::settings",
                    "aws",
                ][..],
            ),
            (
                "use super::flags::{self, X};",
                "cli::exec",
                &["cli::flags", "cli::flags::X"],
            ),
            (
                "let t = super::super::DEFAULT;",
                "gcp::settings::x",
                &["gcp::DEFAULT"],
            ),
            (
                "use super::*; use self::a::B;",
                "aws::sts",
                &["aws", "aws::sts::a::B"],
            ),
            (
                "f(&crate::aws::settings::TABLE)",
                "cli",
                &["aws::settings::TABLE"],
            ),
            (
                "crate::debug!(\"x\"); $crate::log::level()",
                "cli",
                &["log", "log::level"],
            ),
            (
                "mod diag { use super::Lookup; } use super::X;",
                "peer",
                &["peer::Lookup", "X"],
            ),
            (
                "mod x; pub(super) fn f() {} use sts::A; std::fmt::Write",
                "aws",
                &[],
            ),
        ] {
            assert_eq!(named(source, module), expected, "{source}");
        }
    }

    #[test]
    fn comments_strings_and_tests_name_nothing() {
        for source in [
            "// crate::aws::A\n/// crate::aws::B\n//! crate::aws::C\n/* crate::aws::D /* */ */",
            "let s = \"crate::aws::A\"; let r = r#\"crate::aws::\"B\"#; let c = '\"';",
            "#[cfg(test)]\nmod tests {\n    use crate::aws::A;\n    fn f() { crate::gcp::B }\n}",
            "#[cfg(test)]\n#[allow(unused)]\nuse crate::aws::A;",
            "fn f<'a>(x: &'a str) -> char { '{' }",
        ] {
            assert_eq!(named(source, "cli"), Vec::<String>::new(), "{source}");
        }
        let after = "#[cfg(test)]\nmod tests { fn f() {} }\nuse crate::gcp::B;";
        assert_eq!(named(after, "cli"), ["gcp::B"]);
    }

    #[test]
    fn a_path_names_the_deepest_file() {
        let modules: BTreeSet<ModulePath> = ["", "aws", "aws::settings"]
            .iter()
            .map(|m| {
                m.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        for (path, file) in [
            ("aws::settings::TABLE", "aws::settings"),
            ("aws::AwsConfig", "aws"),
            ("Env", "crate"),
        ] {
            let path: ModulePath = path.split("::").map(str::to_string).collect();
            assert_eq!(shown(resolve(&path, &modules)), file);
        }
    }

    #[test]
    fn modules_of_files() {
        for (file, module) in [
            ("src/lib.rs", Some("crate")),
            ("src/main.rs", None),
            ("src/aws/mod.rs", Some("aws")),
            ("src/aws/sts.rs", Some("aws::sts")),
            (
                "src/aws/config_file/reader.rs",
                Some("aws::config_file::reader"),
            ),
        ] {
            assert_eq!(module_of(file).map(|m| shown(&m)).as_deref(), module);
        }
    }

    #[test]
    fn function_lengths() {
        let source = "trait T { fn declared(&self); }\n\
                      fn two(x: [u8; 2]) {\n}\n\
                      #[cfg(test)]\nfn skipped() {\n}\n\
                      impl T for () {\n    fn declared(&self) {\n        let s = \"}\";\n    }\n}\n";
        let found = functions(&without_tests(tokens(source)));
        let expected = [("two", 2, 2), ("declared", 8, 3)].map(|(name, line, lines)| Function {
            name: name.into(),
            line,
            lines,
        });
        assert_eq!(found, expected);
    }

    #[test]
    fn cycles_shown_from_their_first_module() {
        let edges = [("b", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")];
        let mut graph = Graph {
            edges: BTreeMap::new(),
        };
        for (from, to) in edges {
            graph
                .edges
                .entry(from.into())
                .or_default()
                .insert(to.into());
        }
        let shown: Vec<String> = graph.cycles().iter().map(|c| c.join(" -> ")).collect();
        assert_eq!(shown, ["a -> b -> a", "a -> b -> c -> a"]);
        assert_eq!(graph.groups(), [["a", "b", "c"]]);
    }
}
