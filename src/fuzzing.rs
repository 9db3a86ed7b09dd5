//! Entry points for fuzzing every parser that reads outside bytes, shared by the property tests
//! (`tests/fuzz_props.rs`, stable, bounded, in CI) and the cargo-fuzz targets (`tests/fuzz/`,
//! nightly, by hand). Not part of the library's API. Those of one cloud's parsers live in its
//! folder (`aws::fuzz`, `gcp::fuzz`, `azure::fuzz`); these are the others.
//!
//! Each function takes any bytes, must never panic on them, and panics only when an invariant
//! of the parser it drives breaks (so that both harnesses report it as a crash):
//!
//! | target | parser | invariants beyond "no panic" |
//! | --- | --- | --- |
//! | [`token`] | JWT claims ([`crate::token::decode_claims`], [`OidcToken::parse`]) | the expiry is a time, never 1970 for a huge `exp`; the freshness check answers |
//! | [`dotenv`] | `.env.local` ([`crate::token::dotenv_value_bytes`]) | a leading BOM changes nothing; a line appended last wins |
//! | `aws::fuzz::sts_xml` | STS responses (`crate::aws::sts::parse_success`, `parse_error`) | credentials print as the 5-key `credential_process` JSON and read back equal |
//! | `gcp::fuzz::gcp_json` | Google STS and IAM Credentials bodies | a token is never empty; its expiry formats |
//! | `azure::fuzz::entra_json` | Entra ID bodies | a token is never empty; `to_json` is JSON |
//! | [`cache_entry`] | a cache entry file, through `crate::cache::Cache::get` | a miss or a value, never an error; served exactly when the file is a well-formed entry (`{"expires_at", "value"}`, at most 64 KiB) good for longer than asked, with the value it holds; what is served, stored again, is served the same |
//! | [`project_toml`] | `vercel-oidc.toml` ([`crate::project::ProjectConfig::parse`]) | every environment's sections resolve; a file accepted, written out again from its sections, parses to the same sections; a refusal names the file, the line and what is wrong |
//! | `aws::fuzz::aws_config` | the AWS config file editor (`crate::aws::config_file`) | a refusal names a line; botocore's reader finds the entries; other lines kept in order with their line ends; a second edit changes nothing |
//! | [`jwks`] | `verify`'s discovery document, JWKS and token header | kept keys have a `kid` and 2048–4096 bits; a usable `jwks_uri` |
//! | [`redaction`] | `crate::http::redact` and `crate::http::server_text` of server text | no secret sent, no `eyJ`, no control character left |
//! | [`env_output`] | [`crate::output::render`] of any value | a POSIX shell reads back exactly the value (sh) or the escaped value (dotenv) |

use crate::vars;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::token::{OidcToken, TokenSource};
use crate::{aws, cache, clouds, http, output, project, timefmt, token};

/// A fixed "now", so that a failure reproduces.
const NOW: OffsetDateTime = datetime!(2026-11-26 12:00:00 UTC);

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// A JWT's claims, as every command decodes them.
pub fn token(data: &[u8]) {
    let raw = text(data);
    if let Ok(claims) = token::decode_claims(&raw) {
        let exp = claims.expires_at();
        if claims.exp > 253_402_300_799 {
            assert!(exp.year() >= 9999, "a huge exp became {exp}");
        }
        let _ = timefmt::rfc3339_z(exp);
        let _ = timefmt::relative(exp, NOW);
        let _ = claims.issued_at().map(timefmt::rfc3339_z);
        let _ = claims.label();
        let _ = claims.issuer_mode();
    }
    if let Ok(t) = OidcToken::parse(&raw, TokenSource::Env) {
        let _ = t.ensure_fresh(NOW, false).map_err(|e| e.to_string());
        let _ = crate::refresh::needs_refresh(&t, NOW);
    }
}

/// `.env.local`, as the token loader reads it.
pub fn dotenv(data: &[u8]) {
    const KEY: &str = vars::VERCEL_OIDC_TOKEN;
    let found = token::dotenv_value_bytes(data, KEY);
    if let Some(v) = &found {
        assert!(!v.is_empty());
    }
    if !data.starts_with(b"\xEF\xBB\xBF") {
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(data);
        assert_eq!(
            token::dotenv_value_bytes(&with_bom, KEY),
            found,
            "a BOM changed the value"
        );
    }
    let mut appended = data.to_vec();
    appended.extend_from_slice(b"\nVERCEL_OIDC_TOKEN=\"last.one.wins\"\n");
    assert_eq!(
        token::dotenv_value_bytes(&appended, KEY).as_deref(),
        Some("last.one.wins"),
        "the last assignment did not win"
    );
}

/// A cache entry file, read as AWS credentials and as any JSON value. A corrupt entry is a
/// miss by design (README), so what a refusal must say is only that it is one: each verdict is
/// held to the entry format (the reason a miss must be a miss is in the assertion), and what is
/// served must survive being stored again.
pub fn cache_entry(data: &[u8]) {
    /// The entry format, as the module documents it.
    #[derive(serde::Deserialize)]
    struct Documented {
        expires_at: i64,
        value: serde_json::Value,
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let cache = cache::Cache::new(dir.path());
    let key = cache::Key::new("fuzz", &"entry");
    cache
        .put(&key, &serde_json::json!({}), NOW)
        .expect("a cache entry can be written");
    std::fs::write(cache.entry_path(&key), data).expect("overwrite the entry");
    let documented = serde_json::from_slice::<Documented>(data).ok();
    let too_large = data.len() as u64 > crate::fsutil::limits::CACHE_ENTRY.bytes;
    for min_remaining in [time::Duration::ZERO, time::Duration::minutes(20)] {
        let fresh = |d: &Documented| {
            d.expires_at.saturating_sub(NOW.unix_timestamp()) > min_remaining.whole_seconds()
        };
        let why_not = match &documented {
            _ if too_large => Some("is larger than 64 KiB"),
            None => Some("is not a `{\"expires_at\": <seconds>, \"value\": …}` entry"),
            Some(d) if !fresh(d) => Some("expires too soon"),
            Some(_) => None,
        };
        let value = cache.get::<serde_json::Value>(&key, NOW, min_remaining);
        match (why_not, &value, &documented) {
            (Some(why), Some(_), _) => panic!("served an entry that {why}"),
            (None, None, _) => panic!("a good entry good for longer than asked was missed"),
            (None, Some(v), Some(d)) => assert_eq!(v, &d.value, "served another value"),
            _ => {}
        }
        if let Some(v) = value {
            assert_eq!(
                stored_again(&cache, &v),
                Some(v),
                "a value changed being stored again"
            );
        }
        // Typed: served only where the format allows, and the same once stored again.
        if let Some(creds) = cache.get::<aws::AwsCredentials>(&key, NOW, min_remaining) {
            assert_eq!(
                why_not, None,
                "served credentials from an entry that should be missed"
            );
            let written = serde_json::to_value(&creds).expect("credentials serialize");
            let again = stored_again(&cache, &creds).expect("stored credentials are served");
            assert_eq!(serde_json::to_value(&again).expect("serialize"), written);
        }
    }
}

/// `value` stored in a cache of its own for an hour, then read back.
fn stored_again<T: serde::Serialize + serde::de::DeserializeOwned>(
    cache: &cache::Cache,
    value: &T,
) -> Option<T> {
    let key = cache::Key::new("fuzz", &"again");
    cache
        .put(&key, value, NOW + time::Duration::hours(1))
        .expect("a cache entry can be written");
    cache.get(&key, NOW, time::Duration::ZERO)
}

/// `vercel-oidc.toml`: a file accepted is written out again from its sections (the only view
/// of it the rest of the program has) and must parse to the same sections; a refusal must name
/// the file, the line, and what is wrong there.
pub fn project_toml(data: &[u8]) {
    let Ok(toml) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::Path::new("vercel-oidc.toml");
    let config = match project::ProjectConfig::parse(toml, path, &clouds::tables()) {
        Ok(config) => config,
        Err(e) => return refusal_says_why(&e.to_string(), toml),
    };
    let rendered = project_file(&config);
    let again = project::ProjectConfig::parse(&rendered, path, &clouds::tables())
        .unwrap_or_else(|e| panic!("the sections written out again are refused: {e}\n{rendered}"));
    for env in [
        None,
        Some("production"),
        Some("preview"),
        Some("development"),
        Some("x"),
    ] {
        let empty = crate::env::Env::default();
        for table in clouds::tables() {
            let (before, after) = (config.layers(table, env), again.layers(table, env));
            assert_eq!(
                (before.environment, before.base),
                (after.environment, after.base),
                "{} for {env:?} changed being written out again as\n{rendered}",
                table.section
            );
            let _ = config.resolve(table, &Default::default(), &empty, env);
        }
    }
}

/// A refused `vercel-oidc.toml`'s message: it names the file, a line of `text` (or its end), and
/// after the excerpt, what is wrong; and ends with what to do.
fn refusal_says_why(message: &str, text: &str) {
    let rest = message
        .strip_prefix("invalid project config `vercel-oidc.toml`: TOML parse error at line ")
        .unwrap_or_else(|| panic!("the refusal names no file and line: {message}"));
    let line: usize = rest
        .split(',')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line number: {message}"));
    assert!(
        (1..=text.lines().count() + 1).contains(&line),
        "line {line} is not in the file: {message}"
    );
    let mut lines: Vec<&str> = message.lines().collect();
    let hint = lines.pop();
    assert_eq!(
        hint,
        Some("  see the `vercel-oidc.toml` section of the README for the keys each section takes"),
        "{message}"
    );
    let why = lines.last().copied().unwrap_or_default();
    assert!(
        !why.trim().is_empty() && !why.starts_with(' ') && !why.contains(" | "),
        "the refusal says where but not what is wrong: {message}"
    );
}

/// `config`'s sections written out as a `vercel-oidc.toml`.
fn project_file(config: &project::ProjectConfig) -> String {
    use crate::settings::{Kind, Raw};
    let quoted = |s: &str| {
        let mut q = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                '\t' => q.push('\t'),
                c if c.is_control() => q.push_str(&format!("\\u{:04X}", u32::from(c))),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    };
    let mut out = String::new();
    for table in clouds::tables() {
        for env in [
            None,
            Some("production"),
            Some("preview"),
            Some("development"),
        ] {
            let layers = config.layers(table, env);
            let (name, section) = match (env, layers.environment, layers.base) {
                (None, _, Some(base)) => (table.section.to_string(), base),
                (Some(_), Some((name, section)), _) => (name.to_string(), section),
                _ => continue,
            };
            out.push_str(&format!("[{name}]\n"));
            for (setting, raw) in &section.0 {
                let setting = table.setting(setting).expect("a setting of the table");
                let key = setting.file_key.expect("a setting the file may hold");
                let value = match (raw, setting.kind) {
                    (Raw::One(v), Kind::Seconds) => v.clone(),
                    (Raw::One(v), _) => quoted(v),
                    (Raw::List(items), _) => {
                        let items: Vec<String> = items.iter().map(|i| quoted(i)).collect();
                        format!("[{}]", items.join(", "))
                    }
                };
                out.push_str(&format!("{key} = {value}\n"));
            }
        }
    }
    out
}

/// `verify`'s documents: the OpenID configuration, the JWKS and a token's header.
pub fn jwks(data: &[u8]) {
    crate::verify::fuzz_documents(data);
}

/// Server text shown in messages, with the secrets a request carried.
pub fn redaction(data: &[u8]) {
    let raw = text(data);
    let (secret, rest) = match raw.split_once('\u{1}') {
        Some((s, r)) if s.len() >= 8 && s.chars().all(|c| c.is_ascii_alphanumeric()) => (s, r),
        _ => ("fuzz-secret-0123456789", raw.as_ref()),
    };
    let with_secret = format!("{rest} {secret} {rest}");
    let out = http::redact(&with_secret, &[secret]);
    assert!(!out.contains(secret), "the secret survived: {out:?}");
    assert!(!out.contains("eyJ"), "a JWT survived: {out:?}");
    let shown = http::server_text(&with_secret, &[secret]);
    assert!(!shown.contains(secret));
    assert!(shown.chars().count() <= 1001);
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    let _ = http::excerpt(rest, &[secret]);
}

/// `env` output of any value, read back by a model of a POSIX shell.
pub fn env_output(data: &[u8]) {
    let value = text(data).replace('\0', "");
    let sh = output::render(&[("V", value.as_str())], output::EnvFormat::Sh);
    let read = posix::assignment(&sh, "export V=").expect("sh output parses");
    assert_eq!(read, value, "sh quoting");
    let dotenv = output::render(&[("V", value.as_str())], output::EnvFormat::Dotenv);
    let read = posix::assignment(&dotenv, "V=").expect("dotenv output parses");
    assert_eq!(
        read,
        value.replace('\n', "\\n").replace('\r', "\\r"),
        "dotenv quoting"
    );
    let json = output::render(&[("V", value.as_str())], output::EnvFormat::Json);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["V"].as_str(), Some(value.as_str()));
}

/// Just enough of POSIX shell word reading to check our quoting: one assignment whose value is
/// a single word of single-quoted, double-quoted and `\`-escaped parts. Anything that would
/// expand or run something (`$`, `` ` ``, an unquoted blank or `;`) is an error.
mod posix {
    pub fn assignment(text: &str, prefix: &str) -> Result<String, String> {
        let line = text
            .strip_prefix(prefix)
            .ok_or("no assignment")?
            .strip_suffix('\n')
            .ok_or("no final newline")?;
        let mut out = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\'' => loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => out.push(c),
                        None => return Err("unterminated single quote".into()),
                    }
                },
                '"' => loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('$' | '`' | '"' | '\\')) => out.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                out.push('\\');
                                out.push(c);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(c @ ('$' | '`')) => return Err(format!("`{c}` expands")),
                        Some(c) => out.push(c),
                        None => return Err("unterminated double quote".into()),
                    }
                },
                '\\' => out.push(chars.next().ok_or("a final backslash")?),
                c if c.is_whitespace() || "$`;&|<>()".contains(c) => {
                    return Err(format!("unquoted `{c}`"));
                }
                c => out.push(c),
            }
        }
        Ok(out)
    }
}
