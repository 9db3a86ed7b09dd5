//! Diagnostic output on stderr, switched on by `-v` / `VERCEL_OIDC_VERBOSE`.
//!
//! Lines name things (sources, paths, env var names, masked key ids), never show secrets.

// Some of this serves only the command line (`-v`).
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(0);

/// Sets how much is logged: 0 nothing, 1 decisions (`-v`), 2 and more also HTTP traffic (`-vv`).
pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// Logs a line to stderr when the verbosity is at least 1.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::level() >= 1 {
            eprintln!("vercel-oidc: {}", format_args!($($arg)*));
        }
    };
}

/// Logs a line to stderr when the verbosity is at least 2.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::log::level() >= 2 {
            eprintln!("vercel-oidc: {}", format_args!($($arg)*));
        }
    };
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Silences [`warn`]: for modes whose caller reads stderr as part of the answer (a GCP
/// executable source, whose clients merge stderr into the JSON they parse).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A warning on stderr: `vercel-oidc: warning: {line}`, unless [`set_quiet`].
pub fn warn(line: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("vercel-oidc: warning: {line}");
    }
}
