//! Diagnostic output on stderr, switched on by `-v` / `VERCEL_OIDC_VERBOSE`.
//!
//! Lines name things (sources, paths, env var names, masked key ids), never show secrets. A
//! server's value that a line shows goes through [`crate::http::server_text`] first (redacted
//! and escaped, as in error text). Every line is written through [`write`], which escapes
//! control and invisible characters ([`crate::outside::escaped_lines`]) in whatever else it
//! names (a path, a setting), so that nothing in it can drive the terminal. Lines are not
//! redacted as a whole: the redaction's guess at opaque values would take paths for keys.

// Some of this serves only the command line (`-v`).
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(0);

/// Sets how much is logged: 0 nothing, 1 decisions (`-v`), 2 and more also HTTP traffic (`-vv`).
pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// Writes one log line to stderr, as [`shown`].
pub fn write(line: fmt::Arguments<'_>) {
    eprintln!("vercel-oidc: {}", shown(&line.to_string()));
}

/// A log line as it is written: control and invisible characters escaped (line breaks kept: a
/// message may have a second line saying what to do).
pub fn shown(line: &str) -> String {
    crate::outside::escaped_lines(line).into_owned()
}

/// Logs a line to stderr when the verbosity is at least 1.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::level() >= 1 {
            $crate::log::write(format_args!($($arg)*));
        }
    };
}

/// Logs a line to stderr when the verbosity is at least 2.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::log::level() >= 2 {
            $crate::log::write(format_args!($($arg)*));
        }
    };
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Silences [`warn`]: for modes whose caller reads stderr as part of the answer (a GCP
/// executable source, whose clients merge stderr into the JSON they parse).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A warning on stderr: `vercel-oidc: warning: {line}`, escaped as [`shown`], unless
/// [`set_quiet`].
pub fn warn(line: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("vercel-oidc: warning: {}", shown(line));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_are_escaped() {
        assert_eq!(
            super::shown("cache hit `/tmp/ca\u{1b}[2Jche/Ab0\u{202e}.json`\n  then"),
            "cache hit `/tmp/ca\\x1b[2Jche/Ab0\\u{202e}.json`\n  then"
        );
    }
}
