//! The shell and the file and text tools (brush, uutils coreutils, grep,
//! find, vi).

use super::Entry;

pub const APPLETS: &[Entry] = &[];
