//! Diagnostic output on stderr, switched on by `-v` / `VERCEL_OIDC_VERBOSE`, and notices that
//! a person would otherwise miss (a wait behind another process), which the command line turns
//! on ([`set_notices`]) except where stderr must stay empty; the library leaves them off.
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
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(0);
static NOTICES: AtomicBool = AtomicBool::new(false);

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

/// Whether [`notice!`](crate::log::notice) lines reach stderr.
pub fn set_notices(on: bool) {
    NOTICES.store(on, Ordering::Relaxed);
}

pub fn notices() -> bool {
    NOTICES.load(Ordering::Relaxed)
}

/// Says something on stderr that a person should not have to ask for with `-v` (that this
/// process waits for another), when notices are on; escaped as `log::shown`.
macro_rules! notice {
    ($($arg:tt)*) => {
        if $crate::log::notices() {
            $crate::log::write(format_args!($($arg)*));
        }
    };
}

/// Logs a line to stderr when the verbosity is at least 1.
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::level() >= 1 {
            $crate::log::write(format_args!($($arg)*));
        }
    };
}

/// Logs a line to stderr when the verbosity is at least 2.
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::log::level() >= 2 {
            $crate::log::write(format_args!($($arg)*));
        }
    };
}

pub(crate) use {debug, notice, trace};

/// A warning on stderr, `vercel-oidc: warning: {line}`, escaped as [`shown`], when notices are
/// on ([`set_notices`]).
pub fn warn(line: &str) {
    if notices() {
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
