//! A cloud's refusal of the token, kept as data: which service refused, what it answered, the
//! identity the token presented, and this tool's reading of it ([`Hint`]: what went wrong, then
//! the trust set-up that would accept the token).
//!
//! Each cloud's error for a refused token holds one (AWS's `StsError::Refused`, GCP's
//! `GcpError::StsRefused` and `ImpersonationRefused`, Azure's `EntraError::Refused`). Their messages show the hint under their first line; `doctor` reads the fields.
//! What the service said ([`Refusal::code`], [`Refusal::message`]) is kept redacted and escaped
//! (`http::server_text`); what the token said is [`Text`], shown escaped.

use std::fmt;

use serde::Serialize;

use crate::outside::Text;
use crate::token::Claims;
use crate::transport::TokenService;

/// The identity the refused token presented: its `iss`, `sub` and `aud`, as sent (shown
/// escaped: they are [`Text`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub iss: Text,
    pub sub: Text,
    pub aud: Vec<Text>,
}

impl Identity {
    pub fn of(claims: &Claims) -> Self {
        Self {
            iss: claims.iss.clone(),
            sub: claims.sub.clone(),
            aud: claims.aud.to_vec(),
        }
    }
}

/// What this tool makes of a refusal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hint {
    /// What went wrong (and, when brief, what to do), one line without indent.
    pub diagnosis: String,
    /// The lines that follow the diagnosis, indented as shown: the trust set-up that would
    /// accept the token, where there is one.
    pub trust: Option<String>,
    /// Whether the diagnosis introduces `trust`, and so is shown ending with a colon.
    pub introduces_trust: bool,
}

impl Hint {
    pub fn new(diagnosis: impl Into<String>) -> Self {
        Self {
            diagnosis: diagnosis.into(),
            trust: None,
            introduces_trust: false,
        }
    }

    /// With `trust` on the lines after the diagnosis.
    pub fn then(self, trust: impl Into<String>) -> Self {
        Self {
            trust: Some(trust.into()),
            ..self
        }
    }

    /// With the diagnosis introducing `trust` (`…to this token's principal:` and the principal).
    pub fn introducing(self, trust: impl Into<String>) -> Self {
        Self {
            introduces_trust: true,
            ..self.then(trust)
        }
    }

    /// The hint as the fix of an [`crate::problem::Explanation`]: the diagnosis, then the trust
    /// lines.
    pub fn fix(&self) -> String {
        let colon = if self.introduces_trust { ":" } else { "" };
        match &self.trust {
            Some(trust) => format!("{}{colon}\n{trust}", self.diagnosis),
            None => format!("{}{colon}", self.diagnosis),
        }
    }
}

/// Indented as under the first line of a message.
impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  {}", self.fix())
    }
}

/// A cloud's refusal of the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The service that refused, as each cloud describes its own ([`TokenService`]).
    pub service: &'static TokenService,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The service's error code, redacted: `AccessDenied`, `invalid_grant`,
    /// `PERMISSION_DENIED`, `AADSTS70021` (Entra's `error` when it sent no AADSTS number).
    pub code: String,
    /// What the service said, redacted.
    pub message: String,
    pub identity: Identity,
    pub hint: Hint,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_as_shown() {
        for (hint, shown) in [
            (Hint::new("try again"), "  try again"),
            (
                Hint::new("the policy rejects it.").then("  the token carried:\n    sub: s"),
                "  the policy rejects it.\n  the token carried:\n    sub: s",
            ),
            (
                Hint::new("grant the role to this principal").introducing("    principal://p"),
                "  grant the role to this principal:\n    principal://p",
            ),
        ] {
            assert_eq!(hint.to_string(), shown);
            assert_eq!(format!("  {}", hint.fix()), shown);
        }
    }

    #[test]
    fn identity_keeps_every_audience() {
        let claims = crate::token::decode_claims(&crate::token::tests::jwt(&serde_json::json!({
            "iss": "https://oidc.vercel.com/acme",
            "sub": "owner:acme:project:web:environment:production",
            "aud": ["https://vercel.com/acme", "api://AzureADTokenExchange"],
            "exp": 2_000_000_000,
        })))
        .unwrap();
        assert_eq!(
            Identity::of(&claims),
            Identity {
                iss: "https://oidc.vercel.com/acme".into(),
                sub: "owner:acme:project:web:environment:production".into(),
                aud: vec![
                    "https://vercel.com/acme".into(),
                    "api://AzureADTokenExchange".into()
                ],
            }
        );
    }
}
