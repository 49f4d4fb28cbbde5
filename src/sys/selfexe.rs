//! Re-executing cdbg itself from a file descriptor.
//!
//! Inside a container cdbg has no file of its own: the process that runs an
//! applet was started from a sealed copy of cdbg and received a descriptor of
//! that copy in the environment variable [`ENV_VAR`]. To run another applet
//! (a child of the bundled shell, or `exec`), cdbg re-executes that descriptor
//! with `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`, which needs neither a
//! path nor /proc. std and rustix have no safe `execveat`, and an exec inside
//! `Command::pre_exec` must not allocate, hence the hand-written code here.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::OnceLock;

/// The environment variable that carries the descriptor of cdbg's own binary.
pub const ENV_VAR: &str = "CDBG_SELF_FD";

/// Lowest descriptor number used for the kept descriptor, so that shell
/// redirections of low fds (`3>file`) never overwrite it.
const HIGH_FD: RawFd = 100;

static SELF_FD: OnceLock<OwnedFd> = OnceLock::new();

/// Reads and removes [`ENV_VAR`] from the environment and keeps the
/// descriptor it names (close-on-exec, moved to a high number). Must run
/// first thing in `main`, while the process is single-threaded. Invalid
/// values are ignored (the variable is still removed).
pub fn init() {
    let Some(value) = std::env::var_os(ENV_VAR) else {
        return;
    };
    // SAFETY: called at the start of main, before any other thread exists,
    // so nothing reads the environment concurrently.
    #[allow(unused_unsafe)]
    unsafe {
        std::env::remove_var(ENV_VAR)
    };
    let Some(raw) = value.to_str().and_then(|s| s.parse::<RawFd>().ok()) else {
        return;
    };
    if raw < 0 {
        return;
    }
    // SAFETY: the descriptor number comes from our parent, which handed it to
    // us for exactly this purpose; we only borrow it to check it is open.
    let borrowed = unsafe { BorrowedFd::borrow_raw(raw) };
    if rustix::io::fcntl_getfd(borrowed).is_err() {
        return;
    }
    let Ok(stat) = rustix::fs::fstat(borrowed) else {
        return;
    };
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return;
    }
    let Ok(high) = rustix::io::fcntl_dupfd_cloexec(borrowed, HIGH_FD) else {
        return;
    };
    // SAFETY: `raw` is open (checked above) and owned by this process from
    // now on; nothing else refers to it, so closing it here is sound.
    drop(unsafe { OwnedFd::from_raw_fd(raw) });
    let _ = SELF_FD.set(high);
}

/// The descriptor of cdbg's own binary: the one from [`ENV_VAR`], else
/// `/proc/self/exe` opened `O_PATH` (host use; the first call needs /proc),
/// else, with no /proc, the regular file at the path this program was
/// started by (`AT_EXECFN`: e.g. an applet link in the session's read-only
/// tool directory, run by a shell through PATH).
pub fn self_fd() -> io::Result<BorrowedFd<'static>> {
    use rustix::fs::{Mode, OFlags};
    if SELF_FD.get().is_none() {
        let open =
            |p: &std::ffi::CStr| rustix::fs::open(p, OFlags::PATH | OFlags::CLOEXEC, Mode::empty());
        let fd = open(c"/proc/self/exe")
            .or_else(|e| {
                let execfn = rustix::param::linux_execfn();
                let fd = open(execfn).map_err(|_| e)?;
                let st = rustix::fs::fstat(&fd)?;
                match rustix::fs::FileType::from_raw_mode(st.st_mode) {
                    rustix::fs::FileType::RegularFile => Ok(fd),
                    _ => Err(e),
                }
            })
            .map_err(|e| io::Error::new(e.kind(), format!("open /proc/self/exe: {e}")))?;
        let high = rustix::io::fcntl_dupfd_cloexec(&fd, HIGH_FD)?;
        let _ = SELF_FD.set(high);
    }
    let fd = SELF_FD.get().expect("set above");
    // SAFETY: the OwnedFd lives in a static that is never cleared.
    Ok(unsafe { BorrowedFd::borrow_raw(fd.as_raw_fd()) })
}

/// A NULL-terminated argv or envp built ahead of time, so that the exec in a
/// forked child allocates nothing.
struct CArray {
    _strings: Vec<CString>,
    ptrs: Vec<*const libc::c_char>,
}

// SAFETY: the pointers point into the CStrings owned by the same struct,
// which are never mutated or moved (a CString's buffer is on the heap), and
// they are only ever read.
unsafe impl Send for CArray {}
// SAFETY: see above; shared access is read-only.
unsafe impl Sync for CArray {}

impl CArray {
    fn new<I: IntoIterator<Item = Vec<u8>>>(items: I) -> io::Result<Self> {
        let strings = items
            .into_iter()
            .map(|b| CString::new(b).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput)))
            .collect::<io::Result<Vec<_>>>()?;
        let mut ptrs: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        Ok(Self {
            _strings: strings,
            ptrs,
        })
    }
}

fn env_items(env: &[(OsString, OsString)], fd: RawFd) -> impl Iterator<Item = Vec<u8>> + '_ {
    env.iter()
        .filter(|(k, _)| k != ENV_VAR)
        .map(|(k, v)| {
            let mut b = k.as_bytes().to_vec();
            b.push(b'=');
            b.extend_from_slice(v.as_bytes());
            b
        })
        .chain(std::iter::once(format!("{ENV_VAR}={fd}").into_bytes()))
}

fn raw_execveat(fd: RawFd, argv: &CArray, envp: &CArray) -> io::Error {
    // SAFETY: argv and envp are NULL-terminated arrays of valid C strings that
    // outlive the call; the path is an empty C string; execveat only returns
    // on failure.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd,
            c"".as_ptr(),
            argv.ptrs.as_ptr(),
            envp.ptrs.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    io::Error::last_os_error()
}

/// Replaces the current process with cdbg's own binary, running with `argv`
/// (argv[0] names the applet) and exactly the environment `env`, plus
/// [`ENV_VAR`] naming a non-close-on-exec duplicate of the descriptor.
/// Returns only on failure.
pub fn exec_self(argv: &[OsString], env: &[(OsString, OsString)]) -> io::Error {
    let fd = match self_fd() {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    // A plain dup() is not close-on-exec: the new program inherits it.
    let dup = match rustix::io::dup(fd) {
        Ok(d) => d,
        Err(e) => return e.into(),
    };
    let argv = match CArray::new(argv.iter().map(|a| a.as_bytes().to_vec())) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let envp = match CArray::new(env_items(env, dup.as_raw_fd())) {
        Ok(e) => e,
        Err(e) => return e,
    };
    let err = raw_execveat(fd.as_raw_fd(), &argv, &envp);
    drop(dup);
    err
}

/// Arranges for `cmd`, when spawned, to run cdbg's own binary instead of its
/// program: after std has set up the child (stdio, fds, cwd, process group,
/// and any earlier `pre_exec` hooks), the child clears close-on-exec on the
/// kept descriptor (in the child only) and `execveat`s it with `argv` and
/// exactly `env` plus [`ENV_VAR`]. Add this as the LAST `pre_exec` hook.
pub fn exec_self_in_child(
    cmd: &mut Command,
    argv: &[OsString],
    env: &[(OsString, OsString)],
) -> io::Result<()> {
    let fd = self_fd()?.as_raw_fd();
    let argv = CArray::new(argv.iter().map(|a| a.as_bytes().to_vec()))?;
    let envp = CArray::new(env_items(env, fd))?;
    let hook = move || -> io::Result<()> {
        // SAFETY: fcntl is async-signal-safe; `fd` is open in the child
        // (inherited from the parent, which keeps it for its whole life).
        unsafe {
            if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
        }
        Err(raw_execveat(fd, &argv, &envp))
    };
    // SAFETY: the hook only calls async-signal-safe functions (fcntl,
    // execveat) and allocates nothing.
    unsafe { cmd.pre_exec(hook) };
    Ok(())
}

/// The environment a `Command` will pass, when it was built with `env_clear`
/// followed by explicit `env` calls (as brush does for external commands).
pub fn command_env(cmd: &Command) -> Vec<(OsString, OsString)> {
    cmd.get_envs()
        .filter_map(|(k, v)| v.map(|v| (k.to_os_string(), v.to_os_string())))
        .collect()
}
