//! Errors a person can act on, kept as data: what is wrong, and what to do about it.
//!
//! Each cloud's settings errors and exchange errors, and the token's, the refresh's and the
//! session's, implement [`Explain`], and their `Display` is their [`Explanation`]'s: the problem,
//! then the fix on the next line, indented two spaces. Each message and each fix is written once,
//! and a caller that needs one of them (doctor's report, the project config's diagnostics) asks
//! the error it holds, whose type it keeps, instead of reading it back out of the text.

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

/// `error` and each error under it, joined by `: `, as `anyhow` shows an error with `{:#}`.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
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
    fn causes_follow_the_error_as_anyhow_shows_them() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read `f`")]
        struct Outer(#[source] std::io::Error);
        let error = || Outer(std::io::Error::other("disk on fire"));
        assert_eq!(with_causes(&error()), "cannot read `f`: disk on fire");
        assert_eq!(
            with_causes(&error()),
            format!("{:#}", anyhow::Error::new(error()))
        );
    }
}
