//! The enter stage: the first process of a session, forked by the client.
//! Its first part joins the target's cgroups, overlapping the making of the
//! sealed copy; then it re-executes itself from the sealed copy, with an
//! empty environment, and its second part joins the target's namespaces and
//! root and forks the session leader into the container. It is never
//! visible inside the container (it stays in the host's PID namespace).

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags};
use rustix::process::{DumpableBehavior, Pid, PidfdFlags, Signal, WaitOptions};

use super::proto::{self, Msg};
use super::{fds, leader, Spec};
use crate::enter::ns;
use crate::sys;

/// Ends the process at once, without running destructors or atexit hooks
/// (used between fork and exec, and in stages that must not unwind).
pub fn die(code: i32) -> ! {
    sys::exit_now(code)
}

/// The enter stage's second part, after its re-execution from the sealed
/// copy: the descriptors the first part placed at fixed numbers.
pub struct Inherited {
    pub ctl: OwnedFd,
    pub selfexe: OwnedFd,
    pub stdio: Option<[OwnedFd; 3]>,
}

fn adopt() -> Option<Inherited> {
    let ctl = sys::adopt_fd(fds::CTL)?;
    let selfexe = sys::adopt_fd(fds::SELF)?;
    let pipes = match (
        sys::adopt_fd(fds::STDIN),
        sys::adopt_fd(fds::STDOUT),
        sys::adopt_fd(fds::STDERR),
    ) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        _ => None,
    };
    for fd in [&ctl, &selfexe].into_iter().chain(pipes.iter().flatten()) {
        let _ = rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC);
    }
    Some(Inherited {
        ctl,
        selfexe,
        stdio: pipes,
    })
}

/// Hardening every enter stage process starts with: nobody inside the
/// container may ptrace it or open its /proc files (CVE-2016-9962 class),
/// it dies with the client, and it has its own session, so the user's
/// terminal can never signal (SIGHUP, SIGINT) the processes of a session,
/// nor become their terminal.
fn harden(client: Option<u32>) {
    let _ = rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable);
    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
    // The client may have died before the death signal was armed.
    if client.is_some_and(|c| {
        rustix::process::getppid().map(|p| p.as_raw_nonzero().get() as u32) != Some(c)
    }) {
        die(125);
    }
    crate::cli::set_comm("cdbg-enter");
    let _ = rustix::process::setsid();
    sys::reset_signals();
}

/// The enter stage's first part, in the child the client forked (still
/// the client's image; single-threaded). The client placed its descriptors
/// at the fixed numbers of [`fds`] and closed every other one. Joins the
/// target's cgroups (on cgroup v1 a migration waits for an RCU grace
/// period, often longer than the copy) while the copier finishes the
/// sealed copy, then re-executes itself from that copy. It joins no
/// namespace: a process that joined a user namespace without being its
/// root would lose its capabilities in that exec.
pub fn first(spec: &Spec, client: u32, pending: bool) -> ! {
    harden(Some(client));
    let (Some(ctl), Some(selfexe)) = (sys::adopt_fd(fds::CTL), sys::adopt_fd(fds::SELF)) else {
        die(125)
    };
    let done = pending.then(|| sys::adopt_fd(fds::DONE)).flatten();
    let fail = |msg: String| -> ! {
        proto::tell(&ctl, &Msg::Failed { code: 125, msg });
        die(125)
    };
    let oom = match join_cgroups(spec) {
        Ok(oom) => oom,
        Err(msg) => fail(msg),
    };
    let sealed = match done {
        Some(done) => std::fs::File::open("/proc/self/exe")
            .and_then(|exe| super::seal::finish(&selfexe, &done, &exe)),
        None => Ok(None),
    };
    match sealed {
        Ok(None) => {}
        // The copier failed: our own copy goes where the client put its.
        Ok(Some(copy)) => {
            if let Err(e) = super::place_fds(&[(fds::SELF, copy.as_fd())]) {
                fail(format!("cannot place the sealed copy of cdbg: {e}"));
            }
        }
        Err(e) => fail(format!("cannot make the sealed copy of cdbg: {e}")),
    }
    let argv = [
        OsString::from("cdbg"),
        OsString::from(super::ENTER_STAGE),
        OsString::from(if oom { OOM_ARG } else { "-" }),
    ];
    let e = sys::execveat_fd(selfexe.as_fd(), &argv, &[]);
    fail(format!("cannot execute the sealed copy of cdbg: {e}"))
}

/// argv[2] of the second part: a memory limit among the joined cgroups
/// (the command gets oom_score_adj 1000).
const OOM_ARG: &str = "oom";

/// Entry point of the enter stage's second part (argv[1] == ENTER_STAGE),
/// running from the sealed copy: reads the Spec, joins the target's
/// namespaces and root, and forks the session leader.
pub fn main(arg: Option<&OsString>) -> ! {
    harden(None);
    let Some(inh) = adopt() else { die(125) };
    let mut spec = match proto::recv(inh.ctl.as_fd()) {
        Ok(Some((Msg::Spec(s), _))) => *s,
        _ => die(125),
    };
    if arg.is_some_and(|a| a == OOM_ARG) {
        spec.confine.oom_score_adj = Some(crate::enter::confine::OOM_SCORE_ADJ);
    }
    match enter(&spec) {
        Ok(host_pty) => die(fork_leader(&spec, inh, host_pty)),
        Err(msg) => {
            proto::tell(&inh.ctl, &Msg::Failed { code: 125, msg });
            die(125)
        }
    }
}

fn start_time(pid: i32) -> io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may contain spaces and parentheses: fields start
    // after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    rest.split_whitespace()
        .nth(19)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other("malformed /proc/PID/stat"))
}

/// Reads the start time of `pid` from the host's /proc.
pub fn proc_start_time(pid: i32) -> io::Result<u64> {
    start_time(pid)
}

/// The target's cgroups, joined through the host's /sys/fs/cgroup (before
/// the mount and user namespaces change what we can see and write). The
/// target must still be the process the client resolved. Returns whether
/// one of them has a memory limit.
fn join_cgroups(spec: &Spec) -> Result<bool, String> {
    check_start_time(spec)?;
    let (targets, errs) = crate::enter::cgroup::open_cgroups(&spec.cgroups);
    if let Some(e) = errs.iter().find(|e| !e.contains("not mounted")) {
        return Err(format!("{e} (use --no-cgroup to enter without joining)"));
    }
    crate::enter::cgroup::join(&targets)
}

fn check_start_time(spec: &Spec) -> Result<(), String> {
    let pid = spec.pid;
    match start_time(pid) {
        Ok(t) if t == spec.start_time => Ok(()),
        _ => Err(format!(
            "PID {pid} is gone or was reused (the container stopped?)"
        )),
    }
}

/// Pins the target (pidfd and start time), opens a host PTY as the
/// fallback, joins its namespaces and its root. Returns the PTY.
fn enter(spec: &Spec) -> Result<Option<crate::tty::pty::Pty>, String> {
    let pid = spec.pid;
    // Pin the target: a pidfd refers to this very process from now on; the
    // start time proves it is still the one the client resolved.
    let pidfd = match rustix::process::pidfd_open(
        Pid::from_raw(pid).unwrap_or(Pid::INIT),
        PidfdFlags::empty(),
    ) {
        Ok(fd) => Some(fd),
        Err(rustix::io::Errno::NOSYS) => None,
        Err(e) => {
            return Err(format!(
                "cannot open PID {pid}: {e} (did the container stop?)"
            ))
        }
    };
    check_start_time(spec)?;
    let root = rustix::fs::open(
        format!("/proc/{pid}/root"),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("cannot open the root directory of PID {pid}: {e}"))?;
    let names: Vec<&'static str> = ns::ALL
        .iter()
        .copied()
        .filter(|n| spec.namespaces.iter().any(|s| s == n))
        .collect();
    let handle = ns::open(pid, pidfd, &names)
        .map_err(|e| format!("cannot open the namespaces of PID {pid}: {e}"))?;
    // A host PTY, opened while /dev is still the host's: the fallback for a
    // container without a usable devpts (never opened through its paths).
    let host_pty = if spec.tty {
        crate::tty::pty::open_host().ok()
    } else {
        None
    };
    ns::join(&handle, &names).map_err(|e| {
        format!(
            "cannot join the namespaces ({}) of PID {pid}: {e}",
            names.join(",")
        )
    })?;
    drop(handle);
    // The target's own root (it may be chrooted inside its mount namespace).
    if rustix::process::fchdir(&root)
        .and_then(|_| rustix::process::chroot("."))
        .is_err()
    {
        return Err(format!("cannot change root to the root of PID {pid}"));
    }
    let _ = rustix::process::chdir("/");
    Ok(host_pty)
}

/// Forks the session leader and waits for it; returns its exit status.
fn fork_leader(spec: &Spec, inh: Inherited, host_pty: Option<crate::tty::pty::Pty>) -> i32 {
    let Inherited {
        ctl,
        selfexe,
        stdio,
    } = inh;
    match sys::fork() {
        Ok(sys::Fork::Child) => leader::main(spec, ctl, selfexe, stdio, host_pty),
        Ok(sys::Fork::Parent(child)) => {
            drop((ctl, selfexe, stdio, host_pty));
            let status = rustix::process::waitpid(Pid::from_raw(child), WaitOptions::empty());
            match status {
                Ok(Some((_, st))) => st.exit_status().unwrap_or(125),
                _ => 125,
            }
        }
        Err(e) => {
            proto::tell(
                &ctl,
                &Msg::Failed {
                    code: 125,
                    msg: format!("fork: {e}"),
                },
            );
            125
        }
    }
}
