//! Signal flags for the full-screen applets (`top`): a handler that only
//! records which signals arrived, so the main loop can restore the terminal
//! on SIGINT/SIGTERM/SIGHUP/SIGQUIT and redraw on SIGWINCH.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bit N set: signal N arrived since the last [`take_signals`].
static PENDING: AtomicU64 = AtomicU64::new(0);

extern "C" fn record(sig: libc::c_int) {
    // An atomic store is async-signal-safe.
    if (0..64).contains(&sig) {
        PENDING.fetch_or(1 << sig, Ordering::SeqCst);
    }
}

/// Installs the recording handler for `signals` (without SA_RESTART, so a
/// blocking poll/read returns EINTR and the loop sees the signal at once).
pub fn catch_signals(signals: &[libc::c_int]) -> io::Result<()> {
    for &sig in signals {
        // SAFETY: a zeroed sigaction is a valid starting value; the handler
        // is an `extern "C" fn(c_int)` that only touches an atomic, which is
        // async-signal-safe; the mask is initialised by sigemptyset and the
        // old action is not requested.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = record as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = 0;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The signals recorded since the last call (bit N = signal N), cleared.
pub fn take_signals() -> u64 {
    PENDING.swap(0, Ordering::SeqCst)
}
