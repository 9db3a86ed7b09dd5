//! Errors a person can act on, kept as data: what is wrong, and what to do about it.
//!
//! The settings errors ([`crate::aws::ConfigError`], [`crate::aws::endpoint::EndpointError`],
//! [`crate::gcp::ConfigError`], [`crate::azure::ConfigError`]) and the cloud errors
//! ([`crate::aws::StsError`], [`crate::gcp::GcpError`], [`crate::azure::EntraError`]) implement
//! [`Explain`], and their `Display` is their [`Explanation`]'s: the problem, then the fix on the
//! next line, indented two spaces. Each message and each fix is written once, and a caller that
//! needs one of them (doctor's report, the project config's diagnostics) asks for it instead of
//! reading it back out of the text.

use std::error::Error;
use std::fmt;

/// What is wrong, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// One line: lowercase, user values in backticks, the cause appended.
    pub problem: String,
    /// What to do. It may run over several lines; those after the first carry the indentation
    /// they are shown with.
    pub fix: Option<String>,
}

impl Explanation {
    pub fn new(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            problem: problem.into(),
            fix: Some(fix.into()),
        }
    }
}

/// `problem`, then `\n  fix` when there is one: how every error that explains itself is shown.
impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n  {fix}")?;
        }
        Ok(())
    }
}

/// Implements `Display` for error types as their [`Explanation`]: one line for each, so that
/// every such error is shown the same way.
macro_rules! display_as_explained {
    ($($ty:ty),+ $(,)?) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&$crate::problem::Explain::explain(self), f)
            }
        }
    )+};
}
pub(crate) use display_as_explained;

/// An error that can say what is wrong and what to do, apart.
pub trait Explain {
    fn explain(&self) -> Explanation;

    /// What is wrong, one line.
    fn problem(&self) -> String {
        self.explain().problem
    }

    /// What to do about it.
    fn fix(&self) -> Option<String> {
        self.explain().fix
    }
}

impl<T: Explain + ?Sized> Explain for &T {
    fn explain(&self) -> Explanation {
        (**self).explain()
    }
}

/// What is wrong, without what to do: `check_role_arn(v).map_err(problem_of)`.
pub fn problem_of<E: Explain>(error: E) -> String {
    error.problem()
}

/// `error` as an [`Explain`], when it is one of this crate's errors that explain themselves.
/// For walking an [`anyhow::Error::chain`] or a [`std::error::Error::source`] chain.
pub fn explained<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a dyn Explain> {
    macro_rules! first_of {
        ($($ty:ty),+ $(,)?) => {
            $(if let Some(e) = error.downcast_ref::<$ty>() {
                return Some(e);
            })+
        };
    }
    first_of!(
        crate::aws::StsError,
        crate::aws::ConfigError,
        crate::aws::endpoint::EndpointError,
        crate::gcp::GcpError,
        crate::gcp::ConfigError,
        crate::azure::EntraError,
        crate::azure::ConfigError,
        crate::token::TokenError,
        crate::refresh::RefreshError,
        crate::http::HttpSetupError,
        crate::settings::BadValue,
        crate::session::Error,
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_problem_then_indented_fix() {
        for (explanation, shown) in [
            (Explanation::new("a is wrong", "do b"), "a is wrong\n  do b"),
            (
                Explanation::new("a is wrong", "do b:\n    c"),
                "a is wrong\n  do b:\n    c",
            ),
            (
                Explanation {
                    problem: "a is wrong".into(),
                    fix: None,
                },
                "a is wrong",
            ),
        ] {
            assert_eq!(explanation.to_string(), shown);
        }
    }

    #[test]
    fn explained_finds_the_errors_of_this_crate() {
        let region = crate::aws::endpoint::check_region("Not A Region").unwrap_err();
        let found = explained(&region).expect("an EndpointError explains itself");
        assert_eq!(found.problem(), "`Not A Region` is not an AWS region name");
        assert_eq!(problem_of(&region), found.problem());
        let io = std::io::Error::other("disk on fire");
        assert!(explained(&io).is_none());
    }
}
