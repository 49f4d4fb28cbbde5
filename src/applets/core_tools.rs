//! The shell and the file and text tools (brush, uutils coreutils, grep,
//! find, vi).

use super::Entry;

pub const APPLETS: &[Entry] = &[
    // Until the lead adds `vi::VI_APPLETS` to the registry.
    super::vi::VI_APPLETS[0],
    super::vi::VI_APPLETS[1],
];
