//! The container-debugging tools: ps, top, ss, ip, nc, wget, dig, ping, lsof,
//! mount, free.

use super::Entry;

pub const APPLETS: &[Entry] = &[];
