//! The one place for `unsafe`: thin wrappers over syscalls that rustix does
//! not cover (or covers only as `unsafe`). Every block carries a `// SAFETY:`
//! comment. Topic files (`sys::<topic>`) hold the wrappers that only one part
//! of cdbg needs.

pub mod confine;
pub mod holder;
pub mod net;
pub mod procs;

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

/// The result of [`fork`].
pub enum Fork {
    /// In the parent: the child's PID (as seen from the parent's PID namespace).
    Parent(i32),
    /// In the child.
    Child,
}

/// `fork(2)`.
///
/// cdbg forks only while single-threaded (before any thread or async runtime
/// exists), which is what makes the child's state consistent.
pub fn fork() -> io::Result<Fork> {
    // SAFETY: every caller in cdbg is single-threaded at this point (no thread
    // is ever spawned before entering namespaces), so the child does not
    // inherit locks held by other threads.
    let r = unsafe { libc::fork() };
    match r {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Fork::Child),
        pid => Ok(Fork::Parent(pid)),
    }
}

fn cstrings(items: &[OsString]) -> io::Result<Vec<CString>> {
    items
        .iter()
        .map(|s| {
            CString::new(s.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
        })
        .collect()
}

fn ptrs(items: &[CString]) -> Vec<*const libc::c_char> {
    items
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// `execve(2)` with an explicit environment. Returns only on failure.
pub fn execve(path: &OsStr, argv: &[OsString], env: &[OsString]) -> io::Error {
    let (Ok(path), Ok(argv), Ok(env)) =
        (CString::new(path.as_bytes()), cstrings(argv), cstrings(env))
    else {
        return io::Error::from(io::ErrorKind::InvalidInput);
    };
    let (argvp, envp) = (ptrs(&argv), ptrs(&env));
    // SAFETY: every pointer refers to a NUL-terminated string owned by the
    // vectors above, and both arrays end with a null pointer.
    unsafe { libc::execve(path.as_ptr(), argvp.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`: executes the file behind
/// `fd` (the sealed copy of cdbg) without any path lookup, so it works in a
/// container that holds no file of ours and has no /proc. Returns only on
/// failure.
pub fn execveat_fd(fd: BorrowedFd<'_>, argv: &[OsString], env: &[OsString]) -> io::Error {
    let (Ok(argv), Ok(env)) = (cstrings(argv), cstrings(env)) else {
        return io::Error::from(io::ErrorKind::InvalidInput);
    };
    let (argvp, envp) = (ptrs(&argv), ptrs(&env));
    let empty = c"";
    // SAFETY: the strings and arrays live until the call returns; the arrays
    // are null-terminated; `fd` is a valid open descriptor.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            empty.as_ptr(),
            argvp.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    io::Error::last_os_error()
}

/// Marks every descriptor from `first` upwards close-on-exec
/// (`close_range(first, ~0, CLOSE_RANGE_CLOEXEC)`), so that an exec hands
/// the new program only what lies below `first`.
pub fn cloexec_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC closes nothing; it only
    // sets a flag on descriptors, so no Rust-owned fd is invalidated.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == 0 {
        return Ok(());
    }
    // Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC: set the flag one by one.
    for fd in first..4096 {
        // SAFETY: F_GETFD/F_SETFD on a number that may not be open only
        // fails with EBADF; it never affects memory.
        unsafe {
            let flags = libc::fcntl(fd as RawFd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd as RawFd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
    Ok(())
}

/// Clears FD_CLOEXEC on `fd` so that it survives the next exec.
pub fn clear_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty())?;
    Ok(())
}

/// `dup2(old, new)`: `new` is closed first if open. Returns `new` as owned.
pub fn dup2_raw(old: BorrowedFd<'_>, new: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: dup2 on a valid `old`; the caller gives up whatever `new`
    // referred to (only used for the fixed numbers 0..=4 right before exec).
    let r = unsafe { libc::dup2(old.as_raw_fd(), new) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `r` is a freshly duplicated descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// Takes ownership of a descriptor number inherited across exec.
///
/// Returns `None` when `fd` is not open.
pub fn adopt_fd(fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: F_GETFD only checks that the number is open.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return None;
    }
    // SAFETY: the descriptor was handed to this process across exec by its
    // parent for exactly this use, and nothing else in the process owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Signals cdbg handles itself (relayed or acted upon).
pub const HANDLED_SIGNALS: &[i32] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCHLD,
    libc::SIGCONT,
    libc::SIGTSTP,
];

fn sigset(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a plain C struct.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks `signals` for the calling thread (to read them from a signalfd).
pub fn block_signals(signals: &[i32]) -> io::Result<()> {
    let set = sigset(signals);
    // SAFETY: `set` is initialised; the old mask is not needed.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(())
}

/// Restores a clean signal state for a program about to be exec'd: an empty
/// mask and the default disposition for every signal (Rust ignores SIGPIPE,
/// and ignored dispositions would otherwise survive exec).
pub fn reset_signals() {
    let empty = sigset(&[]);
    // SAFETY: restoring the default action is always valid for catchable
    // signals; SIGKILL/SIGSTOP just fail with EINVAL, which is ignored.
    unsafe {
        for sig in 1..libc::SIGRTMAX() {
            libc::signal(sig, libc::SIG_DFL);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

/// A signalfd for `signals` (which the caller has blocked).
pub fn signalfd(signals: &[i32]) -> io::Result<OwnedFd> {
    let set = sigset(signals);
    // SAFETY: `set` is initialised; -1 asks for a new descriptor.
    let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads one pending signal number from a signalfd, if any.
pub fn read_signalfd(fd: BorrowedFd<'_>) -> Option<i32> {
    let mut buf = [0u8; std::mem::size_of::<libc::signalfd_siginfo>()];
    match rustix::io::read(fd, &mut buf) {
        Ok(n) if n == buf.len() => {
            Some(u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as i32)
        }
        _ => None,
    }
}

/// Ignores `sig` (e.g. SIGTTOU while cdbg changes terminal modes).
pub fn ignore_signal(sig: i32) {
    // SAFETY: SIG_IGN is a valid disposition for any catchable signal.
    unsafe { libc::signal(sig, libc::SIG_IGN) };
}

/// Sends `sig` to `pid` (or a process group when negative).
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill has no memory effects.
    if unsafe { libc::kill(pid, sig) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `unshare(2)`.
///
/// Only used in a single-threaded process (the session leader), where
/// changing the mount namespace cannot surprise another thread.
pub fn unshare(flags: i32) -> io::Result<()> {
    // SAFETY: the callers are single-threaded; unshare has no memory effects.
    if unsafe { libc::unshare(flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Installs a hook that restores the terminal on panic (the release build
/// aborts on panic, so destructors would not run).
pub fn on_panic(f: fn()) {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        f();
        prev(info);
    }));
}

/// `ioctl(fd, TIOCSTI, &c)`: used only by tests that check that the
/// injection never reaches the user's terminal.
pub fn tiocsti(fd: BorrowedFd<'_>, c: u8) -> io::Result<()> {
    // SAFETY: TIOCSTI reads one byte from the given pointer.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSTI, &c as *const u8) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `_exit(2)`: ends the process without running destructors or atexit
/// handlers (between fork and exec, where those belong to the parent).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

pub mod selfexe;
