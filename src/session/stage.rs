//! The enter stage: the first process of a session, executed from the
//! sealed copy with an empty environment. It is never visible inside the
//! container (it stays in the host's PID namespace), and it does everything
//! that needs the host's /proc and /sys before joining the target.

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

/// The descriptors the client hands to the enter stage.
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

/// Entry point of the enter stage (argv[1] == ENTER_STAGE).
pub fn main() -> ! {
    // Before anything else: nobody inside the container may ptrace us or
    // open our /proc files (CVE-2016-9962 class), and we die with the client.
    let _ = rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable);
    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
    crate::cli::set_comm("cdbg-enter");
    // Our own session: the user's terminal can never signal (SIGHUP,
    // SIGINT) the processes of a session, nor become their terminal.
    let _ = rustix::process::setsid();
    sys::reset_signals();
    let Some(inh) = adopt() else { die(125) };
    let mut spec = match proto::recv(inh.ctl.as_fd()) {
        Ok(Some((Msg::Spec(s), _))) => *s,
        _ => die(125),
    };
    match enter(&mut spec, inh) {
        Ok(code) => die(code),
        Err((ctl, msg)) => {
            proto::tell(&ctl, &Msg::Failed { code: 125, msg });
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

type StageErr = (OwnedFd, String);

fn enter(spec: &mut Spec, inh: Inherited) -> Result<i32, StageErr> {
    let Inherited {
        ctl,
        selfexe,
        stdio,
    } = inh;
    macro_rules! fail {
        ($($t:tt)*) => { return Err((ctl, format!($($t)*))) };
    }
    let pid = spec.pid;
    // Pin the target: a pidfd refers to this very process from now on; the
    // start time proves it is still the one the client resolved.
    let pidfd = match rustix::process::pidfd_open(
        Pid::from_raw(pid).unwrap_or(Pid::INIT),
        PidfdFlags::empty(),
    ) {
        Ok(fd) => Some(fd),
        Err(rustix::io::Errno::NOSYS) => None,
        Err(e) => fail!("cannot open PID {pid}: {e} (did the container stop?)"),
    };
    match start_time(pid) {
        Ok(t) if t == spec.start_time => {}
        _ => fail!("PID {pid} is gone or was reused (the container stopped?)"),
    }
    let root = match rustix::fs::open(
        format!("/proc/{pid}/root"),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(e) => fail!("cannot open the root directory of PID {pid}: {e}"),
    };
    let names: Vec<&'static str> = ns::ALL
        .iter()
        .copied()
        .filter(|n| spec.namespaces.iter().any(|s| s == n))
        .collect();
    let handle = match ns::open(pid, pidfd, &names) {
        Ok(h) => h,
        Err(e) => fail!("cannot open the namespaces of PID {pid}: {e}"),
    };
    // cgroups are joined through the host's /sys/fs/cgroup, before the
    // mount and user namespaces change what we can see and write.
    let (targets, errs) = crate::enter::cgroup::open_cgroups(&spec.cgroups);
    if let Some(e) = errs.iter().find(|e| !e.contains("not mounted")) {
        fail!("{e} (use --no-cgroup to enter without joining)");
    }
    match crate::enter::cgroup::join(&targets) {
        Ok(true) => spec.confine.oom_score_adj = Some(crate::enter::confine::OOM_SCORE_ADJ),
        Ok(false) => {}
        Err(e) => fail!("{e}"),
    }
    drop(targets);
    // A host PTY, opened while /dev is still the host's: the fallback for a
    // container without a usable devpts (never opened through its paths).
    let host_pty = if spec.tty {
        crate::tty::pty::open_host().ok()
    } else {
        None
    };
    if let Err(e) = ns::join(&handle, &names) {
        fail!(
            "cannot join the namespaces ({}) of PID {pid}: {e}",
            names.join(",")
        );
    }
    drop(handle);
    // The target's own root (it may be chrooted inside its mount namespace).
    if rustix::process::fchdir(&root)
        .and_then(|_| rustix::process::chroot("."))
        .is_err()
    {
        fail!("cannot change root to the root of PID {pid}");
    }
    let _ = rustix::process::chdir("/");
    drop(root);

    match sys::fork() {
        Ok(sys::Fork::Child) => leader::main(spec, ctl, selfexe, stdio, host_pty),
        Ok(sys::Fork::Parent(child)) => {
            drop((ctl, selfexe, stdio, host_pty));
            let status = rustix::process::waitpid(Pid::from_raw(child), WaitOptions::empty());
            let code = match status {
                Ok(Some((_, st))) => st.exit_status().unwrap_or(125),
                _ => 125,
            };
            Ok(code)
        }
        Err(e) => fail!("fork: {e}"),
    }
}
