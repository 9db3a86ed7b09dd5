//! Azure in `vercel-oidc exec`: the variables the Azure SDKs' workload identity credential reads
//! (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_AUTHORITY_HOST`, and
//! `AZURE_FEDERATED_TOKEN_FILE`, the run's token file).

use crate::azure::AzureConfig;
use crate::cli::Ctx;
use crate::cli::wiring::{Run, Wire, Wiring};

/// Azure, planned: its checked settings.
pub(super) struct Planned(pub(super) AzureConfig);

impl Wire for Planned {
    fn wire(self: Box<Self>, _: &Ctx, run: &Run) -> anyhow::Result<Wiring> {
        let mut wiring = Wiring::default();
        wiring.set_all(self.0.env_vars(run.token_path));
        Ok(wiring)
    }
}
