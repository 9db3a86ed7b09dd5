//! What each cloud hands the child of `vercel-oidc exec`: the variables to set and remove, what
//! expires without renewal, and a service to run beside the child. A cloud's
//! [`CloudCli::plan`](super::CloudCli::plan) checks its settings and returns a [`Wire`]; `exec`
//! wires every planned cloud once the run's folder and token file exist, then runs the child.

use std::path::Path;
use std::thread::Scope;

use time::OffsetDateTime;

use super::Ctx;
use crate::token::OidcToken;

/// The run a cloud is wired into.
pub struct Run<'a> {
    /// The token, fresh at the start.
    pub token: &'a OidcToken,
    /// The run's token file, which `exec` keeps fresh while the child runs.
    pub token_path: &'a Path,
    /// The run's private folder, removed when the child exits.
    pub dir: &'a Path,
    /// `--no-cache`.
    pub no_cache: bool,
}

/// One cloud, planned: its checked settings, wired when the run's files exist.
pub trait Wire {
    fn wire(self: Box<Self>, ctx: &Ctx, run: &Run) -> anyhow::Result<Wiring>;
}

/// One cloud's contribution to the child's environment.
#[derive(Default)]
pub struct Wiring {
    pub set: Vec<(String, String)>,
    pub remove: Vec<&'static str>,
    /// Folders put first on the child's `PATH`, holding commands that stand in front of the
    /// user's (the Azure CLI's login step); the child itself is looked up there too.
    pub path_first: Vec<std::path::PathBuf>,
    /// What the child holds that cannot be renewed while it runs.
    pub expiring: Option<Expiring>,
    /// What serves the child while it runs.
    pub service: Option<Box<dyn Service>>,
}

impl Wiring {
    /// Sets the variables `vars`.
    pub fn set_all<K: ToString>(&mut self, vars: impl IntoIterator<Item = (K, String)>) {
        self.set
            .extend(vars.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
}

/// Credentials in the child's environment that expire at `at`: `exec` warns before then.
pub struct Expiring {
    /// `AWS credentials`.
    pub what: &'static str,
    pub at: OffsetDateTime,
    /// What to do so that they last longer.
    pub fix: &'static str,
}

/// A service the child uses while it runs (the AWS credentials endpoint).
pub trait Service {
    /// Starts serving in `scope`; the function returned stops it. `token_path` is the run's
    /// token file, `program` the child, for messages.
    fn start<'scope, 'env>(
        self: Box<Self>,
        scope: &'scope Scope<'scope, 'env>,
        ctx: &'env Ctx,
        token_path: &'env Path,
        program: &Path,
    ) -> Box<dyn FnOnce() + 'scope>;
}
