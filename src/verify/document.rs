//! A JSON document fetched for `verify` (the issuer's discovery document, its JWKS), and the
//! errors that say why one cannot be used.

use super::error::VerifyError;

/// What the JWKS is called in messages.
pub(super) const JWKS: &str = "the JWKS";

/// A JSON document fetched from `url`, and the errors that say why it cannot be used.
pub(super) struct Document<'a> {
    what: &'static str,
    url: &'a str,
    pub(super) value: serde_json::Value,
}

impl<'a> Document<'a> {
    /// `body` read as JSON; refused when it is not.
    pub(super) fn parse(
        what: &'static str,
        url: &'a str,
        body: &[u8],
    ) -> Result<Self, VerifyError> {
        let value = serde_json::from_slice(body)
            .map_err(|_| VerifyError::bad_document(what, url, "it is not JSON"))?;
        Ok(Self { what, url, value })
    }

    /// The document cannot be used, for the reason `detail`.
    pub(super) fn bad(&self, detail: &str) -> VerifyError {
        VerifyError::bad_document(self.what, self.url, detail)
    }

    /// Its string field `name`; refused when there is none.
    pub(super) fn str_field(&self, name: &str) -> Result<&str, VerifyError> {
        self.value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| self.bad(&format!("it has no `{name}`")))
    }
}
