//! GCP in `vercel-oidc exec`: an `external_account` credential file in the run's folder whose
//! source is the run's token file: `GOOGLE_APPLICATION_CREDENTIALS` and
//! `CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE` name it, and `GOOGLE_CLOUD_PROJECT` and
//! `CLOUDSDK_CORE_PROJECT` the project when known.

use anyhow::Context as _;

use crate::cli::Ctx;
use crate::cli::wiring::{Run, Wire, Wiring};
use crate::fsutil;
use crate::gcp::GcpConfig;
use crate::gcp::credfile::{self, CredentialSource};

/// GCP, planned: its checked settings.
pub(super) struct Planned(pub(super) GcpConfig);

impl Wire for Planned {
    fn wire(self: Box<Self>, _: &Ctx, run: &Run) -> anyhow::Result<Wiring> {
        let path = run.dir.join("gcp-credentials.json");
        let source = CredentialSource::File(run.token_path.to_path_buf());
        let text = credfile::render(&self.0, &source);
        fsutil::write_private(&path, text.as_bytes())
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        let mut wiring = Wiring::default();
        wiring.set_all(credfile::env_vars(&path, &self.0, &source));
        Ok(wiring)
    }
}
