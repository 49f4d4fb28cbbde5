//! The PTY and the I/O relay.
//!
//! `RawGuard` puts the user's terminal in raw mode and restores it on every
//! exit path: drop, panic (hook), and the signal paths of the relay, which
//! end in an ordinary return. `pty` opens a fresh PTY inside the container's
//! own devpts; `relay` moves bytes between the user and the session.

pub mod pty;
pub mod relay;

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Mutex;

use rustix::termios::{self, OptionalActions, Termios, Winsize};

/// The saved terminal state, for the panic hook.
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

fn restore_saved() {
    if let Ok(saved) = SAVED.lock() {
        if let Some(t) = saved.as_ref() {
            let _ = termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Flush, t);
        }
    }
}

/// Raw mode on the user's terminal (fd 0) for as long as it lives.
pub struct RawGuard {
    saved: Termios,
}

impl RawGuard {
    /// Switches stdin's terminal to raw mode.
    pub fn enter() -> io::Result<RawGuard> {
        let stdin = rustix::stdio::stdin();
        let saved = termios::tcgetattr(stdin)?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(stdin, OptionalActions::Flush, &raw)?;
        *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved.clone());
        crate::sys::on_panic(restore_saved);
        Ok(RawGuard { saved })
    }

    /// Re-applies raw mode (after SIGCONT, when a job-control shell may have
    /// reset the terminal).
    pub fn reapply(&self) {
        let mut raw = self.saved.clone();
        raw.make_raw();
        let _ = termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &raw);
    }
}

impl Drop for RawGuard {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Flush, &self.saved);
        *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Whether `fd` is a terminal.
pub fn is_tty(fd: BorrowedFd<'_>) -> bool {
    termios::isatty(fd)
}

/// The window size of the terminal behind `fd`.
pub fn winsize(fd: impl AsFd) -> Option<(u16, u16)> {
    termios::tcgetwinsize(fd)
        .ok()
        .filter(|w| w.ws_row > 0)
        .map(|w| (w.ws_row, w.ws_col))
}

/// Sets the window size of a PTY (the master's side).
pub fn set_winsize(fd: impl AsFd, rows: u16, cols: u16) {
    let ws = Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let _ = termios::tcsetwinsize(fd, ws);
}
