//! The process tree of a session and its lifetime.
//!
//! ```text
//! client (host, the user's cdbg)          relay: user's stdio <-> PTY master / pipes
//!  └─ enter stage (sealed memfd copy)     non-dumpable; pidfd, root fd, cgroups; setns; chroot
//!      └─ leader (container pid ns)       child subreaper; PTY from the container's devpts;
//!          │                              kills every descendant when the command ends or
//!          │                              the client's control socket closes
//!          └─ command                     setsid + TIOCSCTTY; credentials; exec
//! ```
//!
//! See ARCHITECTURE.md for the descriptors each process holds.

pub mod client;
pub mod holder;
pub mod keys;
pub mod leader;
pub mod proto;
pub mod seal;
pub mod stage;

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use serde::{Deserialize, Serialize};

use crate::sys;
use crate::tty::{self, relay};

/// Everything the session's processes need, sent by the client to the enter
/// stage as one JSON frame (the stages start with an empty environment and
/// no arguments of the user's).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Spec {
    /// How to name the target in messages ("web", "pid 1234").
    pub label: String,
    /// The target's PID on the host.
    pub pid: i32,
    /// The target's start time (/proc/PID/stat field 22), checked against
    /// PID reuse once its pidfd is open.
    pub start_time: u64,
    /// Namespaces to join, in join order.
    pub namespaces: Vec<String>,
    /// The command; empty means the target's shell (or the bundled one).
    pub argv: Vec<OsString>,
    /// The environment (target's, then the user's values).
    pub env: Vec<(OsString, OsString)>,
    /// Keys the user set explicitly (never overridden by HOME, USER, ...).
    pub explicit_env: Vec<String>,
    /// Allocate a PTY.
    pub tty: bool,
    /// The user's window size, set on the PTY before the command starts.
    pub winsize: Option<(u16, u16)>,
    /// Working directory inside the container, and whether the user chose it.
    pub workdir: Option<String>,
    pub workdir_explicit: bool,
    /// `-u` as given, and the default credentials (the target's).
    pub user: Option<String>,
    pub default_uid: u32,
    pub default_gid: u32,
    /// The target's $SHELL, tried first for an interactive session.
    pub target_shell: Option<OsString>,
    /// Always run the bundled applet, even if the container has the program.
    pub force_tool: bool,
    /// The target's supplementary groups (container view), used without -u.
    pub default_groups: Vec<u32>,
    /// The target's cgroups as (controllers, path) lines; empty = no join.
    pub cgroups: Vec<(String, String)>,
    /// Capabilities, no_new_privs, LSM label and seccomp for the command.
    pub confine: crate::enter::confine::ConfinePlan,
}

/// Fixed descriptor numbers in the enter stage (set up by the client
/// between fork and exec).
pub mod fds {
    pub const CTL: i32 = 3;
    pub const SELF: i32 = 4;
    pub const STDIN: i32 = 5;
    pub const STDOUT: i32 = 6;
    pub const STDERR: i32 = 7;
    /// The first part only: EOF when the copier of the sealed copy is gone.
    pub const DONE: i32 = 8;
}

/// Duplicates each source onto its number (clearing close-on-exec there).
/// Every source is first moved above the targets, so that no dup2
/// overwrites a source that is still needed. For a forked child before it
/// execs (the high copies are close-on-exec).
pub fn place_fds(srcs: &[(i32, std::os::fd::BorrowedFd<'_>)]) -> io::Result<()> {
    // Just above the highest target, not a fixed 64: a low RLIMIT_NOFILE
    // must not make the copies fail.
    let above = srcs.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
    let high = srcs
        .iter()
        .map(|(n, fd)| Ok((*n, rustix::io::fcntl_dupfd_cloexec(fd, above)?)))
        .collect::<io::Result<Vec<(i32, OwnedFd)>>>()?;
    for (n, h) in &high {
        std::mem::forget(sys::dup2_raw(h.as_fd(), *n)?);
    }
    Ok(())
}

/// The hidden argv[1] that starts the enter stage in the sealed copy.
pub const ENTER_STAGE: &str = "__cdbg_enter";

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// Starts a session for `spec` and relays until it ends; returns cdbg's exit
/// status (the command's, or 125/126/127 with a message printed).
pub fn run(spec: Spec, interactive: bool) -> i32 {
    let label = spec.label.clone();
    match start_and_relay(spec, interactive) {
        Ok(relay::Outcome::Exit(code)) => code,
        Ok(relay::Outcome::Failed(code, msg)) => {
            eprintln!("cdbg: {label}: {msg}");
            code
        }
        Ok(relay::Outcome::Signalled(sig)) => 128 + sig,
        Err(e) => {
            eprintln!("cdbg: {label}: {e}");
            125
        }
    }
}

/// A started session: the control socket to its leader, the enter stage's
/// PID (to reap), and its I/O (a PTY master, or pipes).
pub struct Launched {
    pub ctl: OwnedFd,
    pub enter_pid: i32,
    pub io: relay::Session,
}

/// Starts the session's processes for `spec`: forks the enter stage,
/// which joins the target while the sealed copy is being finished, and
/// hands it the spec; with a PTY, waits for the master.
/// `Ok(Err(outcome))` is a session that failed to start (with its status).
///
/// The caller must be single-threaded (it forks).
pub fn launch(spec: Spec) -> io::Result<Result<Launched, relay::Outcome>> {
    // Encoded now; the enter stage reads it once it runs from the copy.
    let frame = proto::frame(&proto::Msg::Spec(Box::new(spec.clone())))?;
    let pending = seal::take();
    // The copier's memfd, or (it could not be forked) a copy made here.
    let memfd = match &pending {
        Some(p) => p.memfd.try_clone()?,
        None => seal::sealed_self()
            .map_err(|e| io::Error::other(format!("cannot make the sealed copy of cdbg: {e}")))?,
    };
    let (ctl, ctl_child) = proto::pair()?;
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    let pipes = if spec.tty {
        None
    } else {
        Some((pipe()?, pipe()?, pipe()?))
    };
    let client = std::process::id();

    let child = match sys::fork()? {
        sys::Fork::Child => {
            let mut srcs: Vec<(i32, std::os::fd::BorrowedFd<'_>)> = vec![
                (0, devnull.as_fd()),
                (1, devnull.as_fd()),
                (2, devnull.as_fd()),
                (fds::CTL, ctl_child.as_fd()),
                (fds::SELF, memfd.as_fd()),
            ];
            if let Some(p) = &pending {
                srcs.push((fds::DONE, p.done.as_fd()));
            }
            if let Some(((in_r, _), (_, out_w), (_, err_w))) = &pipes {
                srcs.push((fds::STDIN, in_r.as_fd()));
                srcs.push((fds::STDOUT, out_w.as_fd()));
                srcs.push((fds::STDERR, err_w.as_fd()));
            }
            if let Err(e) = place_fds(&srcs) {
                let msg = format!("cannot hand its descriptors to the enter stage: {e}");
                proto::tell(&ctl_child, &proto::Msg::Failed { code: 125, msg });
                stage::die(125);
            }
            // Nothing else of the client's stays open (its user's terminal
            // included); the objects above are never dropped in this child.
            let keep: Vec<i32> = srcs.iter().map(|(n, _)| *n).collect();
            sys::holder::close_inherited(&keep);
            stage::first(&spec, client, pending.is_some())
        }
        sys::Fork::Parent(pid) => pid,
    };
    drop((ctl_child, memfd, devnull));
    let pipes = pipes.map(|((in_r, in_w), (out_r, out_w), (err_r, err_w))| {
        drop((in_r, out_w, err_w));
        (in_w, out_r, err_r)
    });
    let reap = || {
        let _ = rustix::process::waitpid(
            rustix::process::Pid::from_raw(child),
            rustix::process::WaitOptions::empty(),
        );
    };
    let sent = proto::send_frame(ctl.as_fd(), &frame, &[]);
    if let Some(p) = pending {
        p.reap();
    }
    if let Err(e) = sent {
        // The stage may have failed first and said why.
        let failed = match proto::recv(ctl.as_fd()) {
            Ok(Some((proto::Msg::Failed { code, msg }, _))) => {
                Some(relay::Outcome::Failed(code, msg))
            }
            _ => None,
        };
        drop(ctl);
        reap();
        return failed.map(Err).ok_or(e);
    }
    let io = match pipes {
        Some((in_w, out_r, err_r)) => relay::Session::Pipes {
            stdin: Some(in_w),
            stdout: out_r,
            stderr: err_r,
        },
        None => match relay::await_pty(ctl.as_fd()) {
            Ok(master) => relay::Session::Pty(master),
            Err(o) => {
                drop(ctl);
                reap();
                return Ok(Err(o));
            }
        },
    };
    Ok(Ok(Launched {
        ctl,
        enter_pid: child,
        io,
    }))
}

fn start_and_relay(spec: Spec, interactive: bool) -> io::Result<relay::Outcome> {
    let tty_mode = spec.tty;
    let handled: Vec<i32> = sys::HANDLED_SIGNALS
        .iter()
        .copied()
        .filter(|&s| s != libc::SIGCHLD)
        .collect();
    sys::block_signals(&handled)?;
    let sigfd = sys::signalfd(&handled)?;
    let Launched { ctl, enter_pid, io } = match launch(spec)? {
        Ok(l) => l,
        Err(outcome) => return Ok(outcome),
    };
    let outcome = (|| -> io::Result<relay::Outcome> {
        let stdin = rustix::stdio::stdin();
        let guard = if tty_mode && interactive && tty::is_tty(stdin) {
            // Changing terminal modes from a background job would stop us.
            sys::ignore_signal(libc::SIGTTOU);
            Some(tty::RawGuard::enter()?)
        } else {
            None
        };
        let winch = |m: std::os::fd::BorrowedFd<'_>| {
            if let Some((r, c)) = user_winsize() {
                tty::set_winsize(m, r, c);
            }
        };
        let cont = || {
            if let Some(g) = &guard {
                g.reapply();
            }
        };
        let opts = relay::Options {
            interactive,
            ctl: ctl.try_clone()?,
            signals: sigfd,
        };
        let outcome = relay::run(io, opts, &winch, &cont);
        drop(guard);
        Ok(outcome)
    })();
    // Closing the control socket tells the leader to end the session (a
    // no-op when it already ended); then collect the enter stage.
    drop(ctl);
    let _ = rustix::process::waitpid(
        rustix::process::Pid::from_raw(enter_pid),
        rustix::process::WaitOptions::empty(),
    );
    outcome
}

/// The user's window size (from stdout or stdin, whichever is a terminal).
pub fn user_winsize() -> Option<(u16, u16)> {
    tty::winsize(rustix::stdio::stdout()).or_else(|| tty::winsize(rustix::stdio::stdin()))
}
