//! A cloud, as the library knows every one: its settings table, which names its section of
//! `vercel-oidc.toml`, its title and every setting. The command line adds its part
//! (`cli::CloudCli`, behind the `cli` feature); the clouds are listed once, in [`crate::clouds`].

use crate::settings::Table;

/// One cloud. Each cloud's folder has one, registered in [`crate::clouds::ALL`].
pub trait Cloud: Sync {
    /// Its settings: `section` names its `vercel-oidc.toml` section, its subcommand and its
    /// `--aws`-style flag; `title` is how messages name it.
    fn table(&self) -> &'static Table;
}
