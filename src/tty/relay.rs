//! The relay: one single-threaded poll loop on the host side that moves
//! bytes between the user's stdio and the session (a PTY master, or three
//! pipes), reads control messages and handles signals.
//!
//! The user's own descriptors are never made non-blocking (they are shared
//! with the user's shell); reads happen only after poll reports them ready
//! and writes to them block. Descriptors that belong to the session are
//! non-blocking and buffered, so a command that does not read its input can
//! never stall its output.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::Errno;

use crate::session::proto::{self, Msg};

const BUF: usize = 128 * 1024;

/// Where a pump writes: a descriptor owned elsewhere, or one the pump owns
/// and closes when it is dropped (how stdin EOF reaches the command).
enum Dst<'a> {
    Borrowed(BorrowedFd<'a>),
    Owned(OwnedFd),
}

impl Dst<'_> {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Dst::Borrowed(b) => *b,
            Dst::Owned(o) => o.as_fd(),
        }
    }
}

/// A one-way byte stream with a bounded buffer.
struct Pump<'a> {
    src: Option<BorrowedFd<'a>>,
    dst: Option<Dst<'a>>,
    /// Allocated (once) at the first read; `start..end` is pending.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Close `dst` (drop the owned copy) once `src` is at EOF and the buffer
    /// is flushed: how stdin EOF reaches the command.
    close_dst_at_eof: bool,
    eof: bool,
    /// Move data with splice(2) instead of read+write (pipe → the user's
    /// stdout); turned off at the first EINVAL (a destination splice
    /// cannot write to).
    splice: bool,
}

impl<'a> Pump<'a> {
    fn new(src: Option<BorrowedFd<'a>>, dst: Option<Dst<'a>>) -> Self {
        Pump {
            src,
            dst,
            buf: Vec::new(),
            start: 0,
            end: 0,
            close_dst_at_eof: false,
            splice: false,
            eof: src.is_none(),
        }
    }

    fn pending(&self) -> bool {
        self.start < self.end
    }

    fn wants_read(&self) -> bool {
        !self.eof && self.src.is_some() && !self.pending()
    }

    fn done(&self) -> bool {
        self.eof && !self.pending()
    }

    /// Reads once; returns false at EOF or on an error that ends the stream.
    fn fill(&mut self) {
        let Some(src) = self.src else { return };
        if self.buf.is_empty() {
            self.buf = vec![0; BUF];
        }
        self.clear();
        match rustix::io::read(src, &mut self.buf[..]) {
            Ok(0) => self.eof = true,
            Ok(n) => self.end = n,
            // EIO: the PTY's last peer is gone; treat as EOF.
            Err(Errno::AGAIN) | Err(Errno::INTR) => {}
            Err(_) => self.eof = true,
        }
    }

    fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Moves what is ready from a pipe straight to the destination with
    /// splice (no copy through user space); falls back to read+write.
    /// Returns Err when the destination is gone.
    fn pump(&mut self) -> io::Result<()> {
        if self.splice {
            if let (Some(src), Some(dst)) = (self.src, self.dst.as_ref().map(Dst::fd)) {
                let flags = rustix::pipe::SpliceFlags::NONBLOCK | rustix::pipe::SpliceFlags::MOVE;
                match rustix::pipe::splice(src, None, dst, None, 1 << 20, flags) {
                    Ok(0) => {
                        self.eof = true;
                        return Ok(());
                    }
                    Ok(_) | Err(Errno::AGAIN) | Err(Errno::INTR) => return Ok(()),
                    Err(Errno::INVAL) => self.splice = false,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.fill();
        self.flush()
    }

    /// Writes what it can; returns Err when the destination is gone.
    fn flush(&mut self) -> io::Result<()> {
        let Some(dst) = self.dst.as_ref().map(Dst::fd) else {
            self.clear();
            return Ok(());
        };
        while self.pending() {
            match rustix::io::write(dst, &self.buf[self.start..self.end]) {
                Ok(n) => self.start += n,
                Err(Errno::AGAIN) => return Ok(()),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        self.clear();
        Ok(())
    }
}

/// What the relay is connected to on the session side.
pub enum Session {
    /// A PTY master: input goes in, all output comes out of it.
    Pty(OwnedFd),
    /// Pipes: the write end of the command's stdin, the read ends of its
    /// stdout and stderr.
    Pipes {
        stdin: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
}

/// What the caller wants from the relay.
pub struct Options {
    /// Relay the user's stdin.
    pub interactive: bool,
    /// The control socket to the session leader.
    pub ctl: OwnedFd,
    /// A signalfd for the signals cdbg handles.
    pub signals: OwnedFd,
}

/// How the relay ended.
pub enum Outcome {
    /// The command ended with this docker-style status.
    Exit(i32),
    /// The session failed to start or broke (status, message).
    Failed(i32, String),
    /// cdbg was told to stop by a signal (the number).
    Signalled(i32),
}

fn set_nonblocking(fd: BorrowedFd<'_>) {
    if let Ok(fl) = rustix::fs::fcntl_getfl(fd) {
        let _ = rustix::fs::fcntl_setfl(fd, fl | rustix::fs::OFlags::NONBLOCK);
    }
}

/// Waits for the PTY master (when the session has one) or the start of the
/// command; returns the messages before that as an early outcome.
pub fn await_pty(ctl: BorrowedFd<'_>) -> Result<OwnedFd, Outcome> {
    loop {
        match proto::recv(ctl) {
            Ok(Some((Msg::Pty, mut fds))) if !fds.is_empty() => return Ok(fds.remove(0)),
            Ok(Some((Msg::Failed { code, msg }, _))) => return Err(Outcome::Failed(code, msg)),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => {
                return Err(Outcome::Failed(
                    125,
                    "the session ended before it started".into(),
                ))
            }
        }
    }
}

/// Runs the relay until the command has ended and its output is drained.
///
/// `on_winch` is called on SIGWINCH with the PTY master; `on_cont` on
/// SIGCONT (to re-apply raw mode).
pub fn run(
    session: Session,
    opts: Options,
    on_winch: &dyn Fn(BorrowedFd<'_>),
    on_cont: &dyn Fn(),
) -> Outcome {
    let stdin = rustix::stdio::stdin();
    let stdout = rustix::stdio::stdout();
    let stderr = rustix::stdio::stderr();
    let (master_owned, in_pipe, out_pipe, err_pipe) = match session {
        Session::Pty(m) => (Some(m), None, None, None),
        Session::Pipes {
            stdin,
            stdout,
            stderr,
        } => (None, stdin, Some(stdout), Some(stderr)),
    };
    let is_pty = master_owned.is_some();
    let master = master_owned.as_ref().map(|m| m.as_fd());
    let Some(out_fd) = master.or(out_pipe.as_ref().map(|f| f.as_fd())) else {
        return Outcome::Failed(125, "no output stream".into());
    };
    let err_fd = err_pipe.as_ref().map(|f| f.as_fd());
    let in_dst = match (master, in_pipe) {
        (Some(m), _) => Some(Dst::Borrowed(m)),
        (None, Some(p)) => Some(Dst::Owned(p)),
        (None, None) => None,
    };
    if let Some(d) = &in_dst {
        set_nonblocking(d.fd());
    }
    set_nonblocking(out_fd);
    if let Some(e) = err_fd {
        set_nonblocking(e);
    }
    let mut input = Pump::new(opts.interactive.then_some(stdin), in_dst);
    input.close_dst_at_eof = !is_pty;
    if !opts.interactive && !is_pty {
        // No input: the command's stdin is at EOF from the start.
        input.dst = None;
    }
    let mut out = Pump::new(Some(out_fd), Some(Dst::Borrowed(stdout)));
    let mut err = Pump::new(err_fd, Some(Dst::Borrowed(stderr)));
    // Pipes from the command: splice them to the user's stdout and stderr.
    out.splice = !is_pty;
    err.splice = !is_pty;
    let mut exit: Option<Outcome> = None;
    let mut ctl_open = true;
    let mut deadline: Option<Instant> = None;

    loop {
        // stdin EOF: close the command's stdin once everything is written.
        if input.done() && input.close_dst_at_eof && input.dst.is_some() {
            input.dst = None;
        }
        let out_done = out.done() && err.done();
        if out_done {
            if let Some(o) = exit.take() {
                return o;
            }
            if !ctl_open {
                return Outcome::Failed(125, "the session ended without an exit status".into());
            }
        }
        if exit.is_some() || !ctl_open {
            // The command is gone: drain what is left, but never hang on a
            // descendant that will not let go of the output.
            let d = *deadline.get_or_insert_with(|| Instant::now() + Duration::from_secs(2));
            if Instant::now() >= d {
                return exit
                    .take()
                    .unwrap_or(Outcome::Failed(125, "the session leader vanished".into()));
            }
        }

        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(6);
        let mut roles: Vec<u8> = Vec::with_capacity(6);
        fn add<'f>(
            fd: BorrowedFd<'f>,
            ev: PollFlags,
            role: u8,
            fds: &mut Vec<PollFd<'f>>,
            roles: &mut Vec<u8>,
        ) {
            fds.push(PollFd::from_borrowed_fd(fd, ev));
            roles.push(role);
        }
        if input.wants_read() {
            add(stdin, PollFlags::IN, 0, &mut fds, &mut roles);
        }
        if input.pending() {
            if let Some(d) = input.dst.as_ref().map(Dst::fd) {
                add(d, PollFlags::OUT, 1, &mut fds, &mut roles);
            }
        }
        if out.wants_read() {
            add(out_fd, PollFlags::IN, 2, &mut fds, &mut roles);
        }
        if let (true, Some(e)) = (err.wants_read(), err_fd) {
            add(e, PollFlags::IN, 3, &mut fds, &mut roles);
        }
        if ctl_open {
            add(opts.ctl.as_fd(), PollFlags::IN, 4, &mut fds, &mut roles);
        }
        add(opts.signals.as_fd(), PollFlags::IN, 5, &mut fds, &mut roles);
        let timeout = deadline.map(|_| rustix::time::Timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        });
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Outcome::Failed(125, format!("poll: {e}")),
        }
        let ready: Vec<(u8, PollFlags)> = fds
            .iter()
            .zip(&roles)
            .map(|(f, r)| (*r, f.revents()))
            .collect();
        drop(fds);
        for (role, rev) in ready {
            if rev.is_empty() {
                continue;
            }
            match role {
                0 => {
                    input.fill();
                    if input.flush().is_err() {
                        input.clear();
                    }
                }
                1 => {
                    if input.flush().is_err() {
                        input.clear();
                        input.eof = true;
                    }
                }
                2 => {
                    if out.pump().is_err() {
                        // The user's stdout is gone (ssh dropped): end.
                        return Outcome::Signalled(libc::SIGPIPE);
                    }
                }
                3 => {
                    let _ = err.pump();
                }
                4 => match proto::recv(opts.ctl.as_fd()) {
                    Ok(Some((Msg::Exit { code }, _))) => exit = Some(Outcome::Exit(code)),
                    Ok(Some((Msg::Failed { code, msg }, _))) => {
                        exit = Some(Outcome::Failed(code, msg))
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => ctl_open = false,
                },
                _ => {
                    while let Some(sig) = crate::sys::read_signalfd(opts.signals.as_fd()) {
                        match sig {
                            libc::SIGWINCH => {
                                if let Some(m) = master {
                                    on_winch(m);
                                }
                            }
                            libc::SIGCONT => on_cont(),
                            libc::SIGCHLD => {}
                            libc::SIGHUP | libc::SIGTERM if is_pty => {
                                return Outcome::Signalled(sig)
                            }
                            _ if ctl_open => proto::tell(&opts.ctl, &Msg::Signal(sig)),
                            _ => return Outcome::Signalled(sig),
                        }
                    }
                }
            }
        }
    }
}
