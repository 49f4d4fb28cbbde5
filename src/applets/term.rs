//! A tiny full-screen terminal helper shared by the full-screen applets
//! (`vi`, `top`): raw mode on the alternate screen, the window size, and a
//! single-threaded wait for input, resize or a terminating signal.
//!
//! Hand-written over rustix termios and ANSI sequences instead of crossterm:
//! the applets need four escape sequences and one ioctl, and crossterm would
//! bring its own signal thread (signal-hook) and a larger dependency tree into
//! a binary that must stay small and single-threaded before entering
//! namespaces. Signals are taken through a signalfd (nix, safe API), so no
//! handler and no thread is needed.
//!
//! The terminal is restored on every exit path: `Drop` (normal return and
//! unwinding), a panic hook (which also covers `panic = "abort"`), and
//! SIGTERM/SIGHUP/SIGINT/SIGQUIT, which [`RawScreen::wait`] reports as
//! [`Wake::Terminate`] so the caller can return and drop the screen.

use std::io::{self, Write};
use std::sync::{Mutex, Once};
use std::time::Duration;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::termios::{self, OptionalActions, Termios};

/// Sequences that enter the full-screen mode: alternate screen (saving the
/// cursor), no auto-margin surprises, cleared screen.
const ENTER_SEQ: &str = "\x1b[?1049h\x1b[H\x1b[2J";
/// Sequences that leave it: default attributes, visible cursor, normal screen.
const LEAVE_SEQ: &str = "\x1b[0m\x1b[?25h\x1b[?1049l";

/// The termios to restore from the panic hook (set while a screen is active).
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);
static HOOK: Once = Once::new();

/// Why [`RawScreen::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Bytes are ready on standard input.
    Input,
    /// The window size changed (SIGWINCH), or the process was continued
    /// (SIGCONT) and the screen must be redrawn.
    Resize,
    /// The timeout passed.
    Timeout,
    /// A terminating signal (SIGTERM, SIGHUP, SIGINT, SIGQUIT) arrived; the
    /// value is the signal number. The caller should drop the screen and exit
    /// with 128 + number.
    Terminate(i32),
}

/// The terminal in raw mode on the alternate screen. Input is read from
/// standard input, output goes to standard output; both must be terminals.
/// Dropping it restores the terminal and the signal mask.
///
/// While it lives, SIGWINCH, SIGCONT, SIGTERM, SIGHUP, SIGINT and SIGQUIT are
/// blocked (they arrive through [`RawScreen::wait`]); a child spawned
/// meanwhile would inherit that mask, so reset it there. One at a time.
pub struct RawScreen {
    saved: Termios,
    raw: Termios,
    old_mask: SigSet,
    sigfd: SignalFd,
    active: bool,
}

fn restore_terminal(saved: &Termios) {
    let mut out = io::stdout();
    let _ = out.write_all(LEAVE_SEQ.as_bytes());
    let _ = out.flush();
    let _ = termios::tcsetattr(io::stdin(), OptionalActions::Drain, saved);
}

fn install_panic_hook() {
    HOOK.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Restore first so the message lands on the normal screen.
            if let Ok(mut g) = SAVED.lock() {
                if let Some(t) = g.take() {
                    restore_terminal(&t);
                }
            }
            prev(info);
        }));
    });
}

fn errno(e: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

impl RawScreen {
    /// Switches the terminal on stdin/stdout to raw mode and the alternate
    /// screen, and starts taking SIGWINCH, SIGCONT and the terminating
    /// signals through a signalfd.
    pub fn enter() -> io::Result<RawScreen> {
        let stdin = io::stdin();
        if !termios::isatty(&stdin) || !termios::isatty(io::stdout()) {
            return Err(io::Error::other("standard input/output is not a terminal"));
        }
        let saved = termios::tcgetattr(&stdin)?;
        let mut raw = saved.clone();
        raw.make_raw();
        raw.special_codes[termios::SpecialCodeIndex::VMIN] = 1;
        raw.special_codes[termios::SpecialCodeIndex::VTIME] = 0;

        let mut mask = SigSet::empty();
        for s in [
            Signal::SIGWINCH,
            Signal::SIGCONT,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGINT,
            Signal::SIGQUIT,
        ] {
            mask.add(s);
        }
        let old_mask = mask
            .thread_swap_mask(SigmaskHow::SIG_BLOCK)
            .map_err(errno)?;
        let sigfd =
            match SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC) {
                Ok(fd) => fd,
                Err(e) => {
                    let _ = old_mask.thread_set_mask();
                    return Err(errno(e));
                }
            };

        install_panic_hook();
        *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved.clone());
        // TCSANOW (not TCSAFLUSH): keep keys typed ahead of the start.
        if let Err(e) = termios::tcsetattr(&stdin, OptionalActions::Now, &raw) {
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = None;
            let _ = old_mask.thread_set_mask();
            return Err(e.into());
        }
        let screen = RawScreen {
            saved,
            raw,
            old_mask,
            sigfd,
            active: true,
        };
        let mut out = io::stdout();
        out.write_all(ENTER_SEQ.as_bytes())?;
        out.flush()?;
        Ok(screen)
    }

    /// The window size as (rows, cols); see [`size`].
    pub fn size(&self) -> (u16, u16) {
        size()
    }

    /// Waits until input is ready, the window is resized, a terminating
    /// signal arrives, or `timeout` passes (`None`: no timeout).
    pub fn wait(&mut self, timeout: Option<Duration>) -> io::Result<Wake> {
        loop {
            // Signals first: a pending resize or termination wins over input.
            let mut wake = None;
            while let Some(info) = self.sigfd.read_signal().map_err(errno)? {
                let sig = info.ssi_signo as i32;
                if sig == Signal::SIGWINCH as i32 {
                    wake.get_or_insert(Wake::Resize);
                } else if sig == Signal::SIGCONT as i32 {
                    // A stop may have let the shell reset the terminal.
                    let _ = termios::tcsetattr(io::stdin(), OptionalActions::Now, &self.raw);
                    wake.get_or_insert(Wake::Resize);
                } else {
                    wake = Some(Wake::Terminate(sig));
                }
            }
            if let Some(w) = wake {
                return Ok(w);
            }
            let stdin = io::stdin();
            let mut fds = [
                PollFd::new(&stdin, PollFlags::IN),
                PollFd::new(&self.sigfd, PollFlags::IN),
            ];
            let ts = timeout.map(|d| Timespec {
                tv_sec: d.as_secs() as _,
                tv_nsec: d.subsec_nanos() as _,
            });
            match poll(&mut fds, ts.as_ref()) {
                Ok(0) => return Ok(Wake::Timeout),
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
            let r_in = fds[0].revents();
            let r_sig = fds[1].revents();
            if r_sig.contains(PollFlags::IN) {
                continue;
            }
            if !r_in.is_empty() {
                // IN, or HUP/ERR: the read that follows reports EOF/error.
                return Ok(Wake::Input);
            }
        }
    }

    /// Job-control stop (Ctrl-Z): restores the terminal, stops the process
    /// with SIGTSTP and, once continued, takes the screen back. In an
    /// orphaned process group (no job-control shell) the kernel ignores the
    /// stop and this returns at once. Redraw everything afterwards.
    pub fn suspend(&mut self) -> io::Result<()> {
        restore_terminal(&self.saved);
        let _ = nix::sys::signal::raise(Signal::SIGTSTP);
        // Continued: SIGCONT waits in the signalfd; drop it, we redraw anyway.
        termios::tcsetattr(io::stdin(), OptionalActions::Now, &self.raw)?;
        let mut out = io::stdout();
        out.write_all(ENTER_SEQ.as_bytes())?;
        out.flush()
    }

    fn restore(&mut self) {
        if self.active {
            self.active = false;
            // The panic hook may have restored the terminal already: leaving
            // the alternate screen twice would move the cursor back up.
            let pending = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take();
            if pending.is_some() {
                restore_terminal(&self.saved);
            }
            // Drain signals that arrived meanwhile, then unblock.
            while let Ok(Some(_)) = self.sigfd.read_signal() {}
            let _ = self.old_mask.thread_set_mask();
        }
    }
}

impl Drop for RawScreen {
    fn drop(&mut self) {
        self.restore();
    }
}

/// The window size of the terminal on stdout (else stdin) as (rows, cols);
/// falls back to $LINES/$COLUMNS, then 24×80. Never returns a zero.
pub fn size() -> (u16, u16) {
    let ws = termios::tcgetwinsize(io::stdout())
        .or_else(|_| termios::tcgetwinsize(io::stdin()))
        .ok();
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u16>().ok());
    let rows = ws
        .map(|w| w.ws_row)
        .filter(|&r| r > 0)
        .or_else(|| env("LINES"))
        .unwrap_or(24);
    let cols = ws
        .map(|w| w.ws_col)
        .filter(|&c| c > 0)
        .or_else(|| env("COLUMNS"))
        .unwrap_or(80);
    (rows.max(1), cols.max(1))
}
