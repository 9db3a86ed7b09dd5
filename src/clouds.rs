//! The clouds: the one list of them. Everything that goes through every cloud (the project
//! file's sections, the commands, `exec`'s wiring, `doctor`'s checks, the fuzz targets) takes
//! them from here; nothing else names them all. A cloud is a folder of `src/` with a
//! [`Cloud`](crate::cloud::Cloud) (and, for the command line, a
//! `cli::CloudCli`), and one line below.

use crate::settings::Table;
use crate::{aws, azure, gcp};

/// What the list holds: the library's view of a cloud, and with the command line, its commands.
#[cfg(feature = "cli")]
pub type Entry = dyn crate::cli::CloudCli;
#[cfg(not(feature = "cli"))]
pub type Entry = dyn crate::cloud::Cloud;

/// Every cloud, in the order commands list them.
pub static ALL: &[&Entry] = &[&aws::Aws, &gcp::Gcp, &azure::Azure];

/// Each cloud's settings table, in the same order.
pub fn tables() -> Vec<&'static Table> {
    ALL.iter().map(|cloud| cloud.table()).collect()
}
