//! Why a token was refused, as the person running `verify` reads it: each [`VerifyError`] names
//! the check that failed, what was expected and what was found, and what to do; values from a
//! token or a server are escaped before they are shown.

/// Why a token was not accepted, or could not be checked. Each names the failing check.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "malformed token: {0}\n  pass the JWT exactly as Vercel issued it: three base64url parts joined by dots"
    )]
    Malformed(String),

    #[error(
        "algorithm not allowed: expected `RS256` (found `{found}`)\n  Vercel signs every token with RS256; this token was not issued by Vercel, or was forged"
    )]
    Algorithm { found: String },

    #[error(
        "no key id: the token's header has no `kid`\n  Vercel names its signing key in every token; this token was not issued by Vercel"
    )]
    MissingKeyId,

    #[error(
        "unknown signing key: expected a `kid` of the JWKS at `{jwks_uri}`, one of {known} (found `{kid}`)\n  the token was not signed by this issuer's keys: check --issuer against the token's `iss` claim"
    )]
    UnknownKey {
        kid: String,
        jwks_uri: String,
        known: String,
    },

    #[error(
        "bad signature: expected a signature by key `{kid}` of `{issuer}` (found one that does not match the token)\n  the token was altered after it was issued, or signed by another key; use it exactly as Vercel issued it"
    )]
    Signature { kid: String, issuer: String },

    #[error("invalid claims: {0}\n  the token is signed but not shaped like a Vercel OIDC token")]
    Claims(String),

    #[error("issuer mismatch: expected `{expected}` (found `{found}`)\n  {hint}")]
    Issuer {
        expected: String,
        found: String,
        hint: &'static str,
    },

    #[error(
        "audience mismatch: expected `{expected}` (found {found})\n  pass the audience the token carries with --audience (Vercel's default is `https://vercel.com/<team>`)"
    )]
    Audience { expected: String, found: String },

    #[error(
        "token expired: `exp` is {at} ({when}), beyond the {leeway}s leeway\n  get a fresh token: build and function tokens last about an hour, `vercel env pull` ones about 12 hours"
    )]
    Expired {
        at: String,
        when: String,
        leeway: i64,
    },

    #[error(
        "token not yet valid: `nbf` is {at} ({when}), beyond the {leeway}s leeway\n  check this machine's clock; --leeway allows for a little skew"
    )]
    NotYetValid {
        at: String,
        when: String,
        leeway: i64,
    },

    #[error(
        "{label} mismatch: expected {expected} (found {found})\n  the token is for another {label}; {flag} names the ones to accept"
    )]
    Constraint {
        label: &'static str,
        flag: &'static str,
        expected: String,
        found: String,
    },

    #[error(
        "discovery issuer mismatch: expected `{expected}` (found `{found}` in `{url}`)\n  pass --issuer exactly as the issuer names itself"
    )]
    DiscoveryIssuer {
        expected: String,
        found: String,
        url: String,
    },

    #[error("cannot fetch {what} from `{url}`: {detail}\n  {hint}")]
    Fetch {
        what: &'static str,
        url: String,
        detail: String,
        transient: bool,
        hint: &'static str,
    },

    #[error(
        "{what} at `{url}` is unusable: {detail}\n  check that --issuer names a Vercel OIDC issuer, e.g. `https://oidc.vercel.com/acme`"
    )]
    BadDocument {
        what: &'static str,
        url: String,
        detail: String,
    },
}

impl VerifyError {
    /// `what` at `url` cannot be used, for the reason `detail`.
    pub(super) fn bad_document(what: &'static str, url: &str, detail: &str) -> Self {
        Self::BadDocument {
            what,
            url: url.to_string(),
            detail: detail.to_string(),
        }
    }

    /// Whether trying the same request again may help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Fetch {
                transient: true,
                ..
            }
        )
    }
}

/// A value from a token or a server, made safe to print ([`crate::outside::escaped_within`]):
/// control and invisible characters escaped, at most 100 characters of output.
pub(super) fn shown(value: &str) -> String {
    crate::outside::escaped_within(value, 100)
}

/// `` `a`, `b` `` or `none`.
pub(super) fn backticked<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<String> = values.map(|v| format!("`{}`", shown(v))).collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_escapes_and_truncates() {
        assert_eq!(shown("plain"), "plain");
        assert_eq!(shown("a\nb\u{1b}"), "a\\nb\\x1b");
        let long = "x".repeat(150);
        assert_eq!(shown(&long), format!("{}…", "x".repeat(100)));
        assert_eq!(backticked(["a", "b"].into_iter()), "`a`, `b`");
        assert_eq!(backticked(std::iter::empty()), "none");
    }
}
