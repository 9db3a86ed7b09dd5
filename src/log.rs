//! Diagnostic output on stderr, switched on by `-v` / `VERCEL_OIDC_VERBOSE`, and notices that
//! a person would otherwise miss (a wait behind another process), which the command line turns
//! on ([`set_notices`]) except where stderr must stay empty; the library leaves them off.
//!
//! Lines name things (sources, paths, env var names, masked key ids), never show secrets.

// Some of this serves only the command line (`-v`).
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

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

/// Whether [`notice!`](crate::notice) lines reach stderr.
pub fn set_notices(on: bool) {
    NOTICES.store(on, Ordering::Relaxed);
}

pub fn notices() -> bool {
    NOTICES.load(Ordering::Relaxed)
}

/// Says something on stderr that a person should not have to ask for with `-v` (that this
/// process waits for another), when notices are on.
#[macro_export]
macro_rules! notice {
    ($($arg:tt)*) => {
        if $crate::log::notices() {
            eprintln!("vercel-oidc: {}", format_args!($($arg)*));
        }
    };
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
