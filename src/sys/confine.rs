//! Raw syscalls for confinement that rustix does not wrap: ptrace (to read a
//! target's seccomp filters), seccomp(2) (to install them) and waitpid with
//! `__WALL` (to wait for a ptrace-stop of a process that is not our child).
//!
//! Every function here is a thin, checked wrapper; the logic lives in
//! `crate::enter::seccomp`.

use std::io;

/// `PTRACE_SECCOMP_GET_FILTER` from <linux/ptrace.h> (not in libc's gnu set).
const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
/// `PTRACE_SECCOMP_GET_METADATA` from <linux/ptrace.h>.
const PTRACE_SECCOMP_GET_METADATA: libc::c_uint = 0x420d;

/// One classic-BPF instruction, laid out like the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawSockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Generic field (constant, offset, return value).
    pub k: u32,
}

#[repr(C)]
struct SeccompMetadata {
    filter_off: u64,
    flags: u64,
}

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `ptrace(PTRACE_SEIZE, pid, 0, 0)`: attach without stopping the tracee.
pub fn ptrace_seize(pid: i32) -> io::Result<()> {
    // SAFETY: PTRACE_SEIZE takes no pointers (addr and data are 0).
    check(unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, 0usize) }).map(drop)
}

/// `ptrace(PTRACE_INTERRUPT, pid)`: ask a seized tracee to enter a ptrace-stop.
pub fn ptrace_interrupt(pid: i32) -> io::Result<()> {
    // SAFETY: no pointers are passed.
    check(unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0usize, 0usize) }).map(drop)
}

/// `ptrace(PTRACE_DETACH, pid, 0, sig)`: detach, re-injecting `sig` (0 = none).
pub fn ptrace_detach(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: data is a signal number passed by value, not a pointer.
    check(unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0usize, sig as usize) }).map(drop)
}

/// `PTRACE_SECCOMP_GET_FILTER`: copy filter `index` (0 = the first one
/// installed, see `enter::seccomp`) of a stopped tracee. Returns the whole filter.
pub fn ptrace_seccomp_get_filter(pid: i32, index: u64) -> io::Result<Vec<RawSockFilter>> {
    // SAFETY: with a NULL data pointer the kernel only returns the length.
    let len = check(unsafe {
        libc::ptrace(
            PTRACE_SECCOMP_GET_FILTER as _,
            pid,
            index as usize,
            std::ptr::null_mut::<RawSockFilter>(),
        )
    })? as usize;
    let mut buf = vec![RawSockFilter::default(); len];
    // SAFETY: buf holds `len` instructions, exactly what the kernel reported;
    // a filter attached to a task never changes, so the length cannot grow.
    let got = check(unsafe {
        libc::ptrace(
            PTRACE_SECCOMP_GET_FILTER as _,
            pid,
            index as usize,
            buf.as_mut_ptr(),
        )
    })? as usize;
    buf.truncate(got);
    Ok(buf)
}

/// `PTRACE_SECCOMP_GET_METADATA`: the `SECCOMP_FILTER_FLAG_*` flags filter
/// `index` was installed with (only LOG is reported by current kernels).
pub fn ptrace_seccomp_get_flags(pid: i32, index: u64) -> io::Result<u64> {
    let mut md = SeccompMetadata {
        filter_off: index,
        flags: 0,
    };
    // SAFETY: addr is the size of the struct, data points to a live,
    // properly laid out `struct seccomp_metadata`.
    check(unsafe {
        libc::ptrace(
            PTRACE_SECCOMP_GET_METADATA as _,
            pid,
            std::mem::size_of::<SeccompMetadata>(),
            &mut md as *mut SeccompMetadata,
        )
    })?;
    Ok(md.flags)
}

/// `waitpid(pid, &status, __WALL | WNOHANG)`: `None` while nothing changed.
pub fn waitpid_nohang(pid: i32) -> io::Result<Option<i32>> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: status is a valid out pointer for the duration of the call.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL | libc::WNOHANG) };
        if r > 0 {
            return Ok(Some(status));
        }
        if r == 0 {
            return Ok(None);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`: install one filter on
/// the calling thread. Needs no_new_privs or CAP_SYS_ADMIN.
pub fn seccomp_set_filter(filter: &[RawSockFilter], flags: u64) -> io::Result<()> {
    let len: u16 = filter
        .len()
        .try_into()
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let prog = libc::sock_fprog {
        len,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prog points to `len` instructions that live across the call;
    // RawSockFilter is repr(C) with the same layout as `struct sock_filter`.
    check(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags as libc::c_ulong,
            &prog as *const libc::sock_fprog,
        )
    })
    .map(drop)
}

/// Test support: spawn a command whose child installs no_new_privs and the
/// given seccomp filters (in order) right before exec.
#[cfg(test)]
pub fn spawn_with_filters(
    cmd: &mut std::process::Command,
    filters: Vec<Vec<RawSockFilter>>,
) -> io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure only makes raw prctl/seccomp syscalls on memory
    // allocated before fork (no allocation, no locks): async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            for f in &filters {
                seccomp_set_filter(f, 0)?;
            }
            Ok(())
        })
    }
    .spawn()
}

/// Test support: spawn `cmd` in a new user namespace. The child reports
/// its PID on `report` (4 bytes), waits for one byte on `go` (the parent
/// writes its uid_map/gid_map meanwhile), then becomes root of the new
/// namespace (setresgid, setgroups [0, 5], setresuid) and execs.
/// `Command::spawn` returns only after the exec, so the parent must answer
/// from another thread.
#[cfg(test)]
pub fn spawn_in_new_userns(
    cmd: &mut std::process::Command,
    report: std::os::fd::OwnedFd,
    go: std::os::fd::OwnedFd,
) -> io::Result<std::process::Child> {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let (report, go) = (report.as_raw_fd(), go.as_raw_fd());
    // SAFETY: only raw syscalls on stack memory between fork and exec
    // (async-signal-safe); the fds stay open in the parent until spawn
    // returns because the OwnedFds are moved into the closure.
    unsafe {
        cmd.pre_exec(move || {
            let fail = || Err(io::Error::last_os_error());
            if libc::unshare(libc::CLONE_NEWUSER) != 0 {
                return fail();
            }
            let pid: i32 = libc::getpid();
            if libc::write(report, &pid as *const i32 as *const libc::c_void, 4) != 4 {
                return fail();
            }
            let mut b = 0u8;
            if libc::read(go, &mut b as *mut u8 as *mut libc::c_void, 1) != 1 {
                return fail();
            }
            let groups: [libc::gid_t; 2] = [0, 5];
            if libc::setresgid(0, 0, 0) != 0
                || libc::setgroups(2, groups.as_ptr()) != 0
                || libc::setresuid(0, 0, 0) != 0
            {
                return fail();
            }
            Ok(())
        })
    }
    .spawn()
}
