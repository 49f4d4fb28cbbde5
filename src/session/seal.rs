//! The sealed copy of cdbg.
//!
//! Every process that runs cdbg's code inside a container (the enter stage,
//! the session leader, the bundled shell and applets) is executed from a
//! memfd holding a copy of the binary, sealed against writing, growing and
//! shrinking. A container root who reaches `/proc/PID/exe` of such a process
//! finds the memfd, which it cannot modify, never the host's file
//! (CVE-2019-5736 class). The copy is made in the kernel with
//! sendfile (about 2 ms for the whole binary, measured by scripts/bench.sh).
//! The CLI starts it early with [`prefetch`], in a short-lived child, so
//! that it overlaps the reading of the target's state.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Mutex;

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::process::{Pid, WaitOptions};

use crate::sys;

/// Environment variable naming the inherited fd of the sealed copy in a
/// bundled applet (consumed and removed at start-up).
pub const SELF_FD_ENV: &str = "CDBG_SELF_FD";

/// A copy of the running binary that a child process is making into an
/// (unsealed) memfd: see [`prefetch`].
struct Pending {
    memfd: OwnedFd,
    len: u64,
    copier: i32,
    /// The process that forked the copier (a forked process must not use or
    /// reap what its parent started).
    owner: u32,
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

/// Starts the sealed copy of the running binary in a short-lived child
/// process, so that its cost (about 2 ms of kernel time) overlaps what this
/// process does meanwhile (reading the target's /proc, stopping it to copy
/// its seccomp filter). The next [`sealed_self`] in this process waits for
/// the child and seals the copy. Best effort: on any failure `sealed_self`
/// makes the copy itself. A second call while one is pending does nothing.
/// The caller must be single-threaded (it forks).
pub fn prefetch() {
    let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    if pending
        .as_ref()
        .is_some_and(|p| p.owner == std::process::id())
    {
        return; // one is on its way already
    }
    let Ok(src) = File::open("/proc/self/exe") else {
        return;
    };
    let Ok(len) = src.metadata().map(|m| m.len()) else {
        return;
    };
    let Ok(memfd) = new_memfd() else {
        return;
    };
    match sys::fork() {
        Ok(sys::Fork::Child) => {
            // Only the copy, then out: no destructors, no atexit hooks.
            let ok = copy_all(&memfd, &src, len);
            sys::exit_now(if ok { 0 } else { 1 })
        }
        Ok(sys::Fork::Parent(copier)) => {
            let p = Pending {
                memfd,
                len,
                copier,
                owner: std::process::id(),
            };
            *pending = Some(p);
        }
        Err(_) => {}
    }
}

/// The prefetched copy, sealed, once its copier has finished it; `None`
/// (the caller copies) when there is none or it failed.
fn take_prefetched() -> Option<OwnedFd> {
    let p = PENDING.lock().unwrap_or_else(|e| e.into_inner()).take()?;
    if p.owner != std::process::id() {
        // A forked process (a kept session's holder) that may have closed
        // its inherited descriptors, and reused the number: never close it.
        std::mem::forget(p);
        return None;
    }
    let status = rustix::process::waitpid(Pid::from_raw(p.copier), WaitOptions::empty());
    let done = matches!(status, Ok(Some((_, st))) if st.exit_status() == Some(0));
    let complete = rustix::fs::fstat(&p.memfd).is_ok_and(|st| st.st_size as u64 == p.len);
    if done && complete {
        seal(p.memfd).ok()
    } else {
        None
    }
}

/// Makes a sealed, executable memfd copy of the running binary (or takes
/// the one [`prefetch`] started).
pub fn sealed_self() -> io::Result<OwnedFd> {
    if let Some(fd) = take_prefetched() {
        return Ok(fd);
    }
    let src = File::open("/proc/self/exe")?;
    sealed_copy(&src)
}

fn new_memfd() -> io::Result<OwnedFd> {
    let base = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    match rustix::fs::memfd_create("cdbg", base | MemfdFlags::EXEC) {
        Ok(fd) => Ok(fd),
        // Kernels before 6.3 do not know MFD_EXEC (memfds are executable).
        Err(rustix::io::Errno::INVAL) => Ok(rustix::fs::memfd_create("cdbg", base)?),
        Err(e) => Err(e.into()),
    }
}

/// Copies `len` bytes of `src` into `memfd` in the kernel (sendfile).
fn copy_all(memfd: &OwnedFd, src: &File, len: u64) -> bool {
    let mut copied = 0u64;
    while copied < len {
        match rustix::fs::sendfile(memfd, src, None, (len - copied) as usize) {
            Ok(0) | Err(_) => return false,
            Ok(n) => copied += n as u64,
        }
    }
    true
}

/// Makes a sealed, executable memfd copy of `src`.
pub fn sealed_copy(src: &File) -> io::Result<OwnedFd> {
    let memfd = new_memfd()?;
    let len = src.metadata()?.len();
    if !copy_all(&memfd, src, len) {
        return fallback_copy(src, memfd, len);
    }
    seal(memfd)
}

fn fallback_copy(src: &File, memfd: OwnedFd, len: u64) -> io::Result<OwnedFd> {
    use std::io::{Read, Seek, Write};
    let mut f = File::from(memfd);
    f.set_len(0)?;
    f.rewind()?;
    let mut s = src.try_clone()?;
    s.rewind()?;
    io::copy(&mut Read::by_ref(&mut s).take(len), &mut f)?;
    f.flush()?;
    seal(OwnedFd::from(f))
}

fn seal(memfd: OwnedFd) -> io::Result<OwnedFd> {
    rustix::fs::fcntl_add_seals(
        memfd.as_fd(),
        SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE,
    )?;
    Ok(memfd)
}

/// Whether `fd` is a memfd carrying every seal cdbg sets.
pub fn is_sealed(fd: impl AsFd) -> bool {
    rustix::fs::fcntl_get_seals(fd)
        .map(|s| {
            s.contains(SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE)
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn contents(fd: OwnedFd) -> Vec<u8> {
        let mut v = Vec::new();
        let mut f = File::from(fd);
        std::io::Seek::rewind(&mut f).unwrap();
        f.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn prefetched_copy_is_whole_and_sealed() {
        let exe = std::fs::read("/proc/self/exe").unwrap();
        prefetch();
        let fd = sealed_self().unwrap();
        assert!(is_sealed(&fd));
        // Writing fails, the copy is byte for byte the binary.
        let dup = rustix::io::fcntl_dupfd_cloexec(&fd, 3).unwrap();
        assert!(rustix::io::write(&dup, b"x").is_err());
        assert!(
            contents(fd) == exe,
            "the prefetched copy differs from the binary"
        );
        // Nothing pending any more: the next copy is made in place.
        assert!(PENDING.lock().unwrap().is_none());
        assert!(is_sealed(sealed_self().unwrap()));
    }
}
