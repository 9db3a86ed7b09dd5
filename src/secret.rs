//! A string that must never be printed by accident.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A token, key or other secret. `Debug` prints `[redacted]`; there is no `Display`, and the value
/// is reached only through [`Secret::expose_secret`], so every place that reveals it says so.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send or print it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A key id shown as `****ABCD`: enough to tell two apart, never enough to use.
pub fn masked(id: &str) -> String {
    let tail: String = id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(s.expose_secret(), "hunter2");
    }

    #[test]
    fn masked_keeps_last_four() {
        assert_eq!(masked("ASIAEXAMPLE1234"), "****1234");
        assert_eq!(masked("ab"), "****ab");
    }
}
