//! Syscall wrappers for processes that must not keep what they inherited:
//! the session holder (`session::holder`) and the enter stage right after
//! the client forks it (`session::launch`).

use std::os::fd::RawFd;

/// Closes every descriptor from 3 upwards except `keep`: what the holder
/// inherited from whoever started cdbg (an ssh channel, a terminal
/// multiplexer's pipes) must not be kept open for the session's lifetime,
/// and the enter stage keeps nothing of the client's.
///
/// Call it right after the fork, before any Rust object owns a descriptor
/// other than those in `keep` (or while those objects are never dropped).
pub fn close_inherited(keep: &[RawFd]) {
    let open: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(rd) => rd
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in open {
        if fd >= 3 && !keep.contains(&fd) {
            // SAFETY: the caller guarantees that no live Rust object owns a
            // descriptor outside `keep`; the directory handle used for the
            // listing above is already closed (closing its old number again
            // only fails with EBADF).
            unsafe { libc::close(fd) };
        }
    }
}
