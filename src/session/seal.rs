//! The sealed copy of cdbg.
//!
//! Every process that runs cdbg's code inside a container (the enter stage,
//! the session leader, the bundled shell and applets) is executed from a
//! memfd holding a copy of the binary, sealed against writing, growing and
//! shrinking. A container root who reaches `/proc/PID/exe` of such a process
//! finds the memfd, which it cannot modify, never the host's file
//! (CVE-2019-5736 class). The copy is made in the kernel with
//! sendfile (2-5 ms for the whole binary, measured by scripts/bench.sh).
//! The CLI starts it early with [`prefetch`], in a short-lived child that
//! also seals it, so that it overlaps the reading of the target's state and
//! the enter stage's joining; only the enter stage's re-execution waits
//! for it ([`finish`]).

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

/// A copy of the running binary that a child process (the copier) is
/// making into a memfd and then seals: see [`prefetch`].
pub struct Pending {
    /// The memfd being filled.
    pub memfd: OwnedFd,
    len: u64,
    /// Read end of a pipe whose only write end the copier holds: EOF when
    /// the copier is gone (done, or failed).
    pub done: OwnedFd,
    /// The copier's PID, for its parent to reap.
    copier: i32,
    /// The process that forked the copier (a forked process must not use or
    /// reap what its parent started).
    owner: u32,
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

fn lock() -> std::sync::MutexGuard<'static, Option<Pending>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// In the enter stage: waits until the copier of `memfd` is gone (EOF on
/// `done`, whose only write end it held), then checks the copy. `None`:
/// `memfd` is whole and sealed, use it. Otherwise (the copier failed) a
/// sealed copy made here from `exe`, the running binary.
pub fn finish(memfd: &OwnedFd, done: &OwnedFd, exe: &File) -> io::Result<Option<OwnedFd>> {
    let mut b = [0u8; 1];
    loop {
        match rustix::io::read(done, &mut b) {
            Ok(0) => break,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if whole_and_sealed(memfd, exe.metadata()?.len()) {
        return Ok(None);
    }
    sealed_copy(exe).map(Some)
}

/// Whether a copier's `memfd` holds all `len` bytes and every seal.
fn whole_and_sealed(memfd: &OwnedFd, len: u64) -> bool {
    rustix::fs::fstat(memfd).is_ok_and(|st| st.st_size as u64 == len) && is_sealed(memfd)
}

impl Pending {
    /// Reaps the copier.
    pub fn reap(&self) {
        let _ = rustix::process::waitpid(Pid::from_raw(self.copier), WaitOptions::empty());
    }
}

/// Starts the sealed copy of the running binary in a short-lived child
/// process, so that its cost (2-5 ms) overlaps what this process and the
/// enter stage do meanwhile (reading the target's /proc, stopping it to
/// copy its seccomp filter, joining its cgroups and namespaces). The child
/// seals the copy. [`take`] or [`sealed_self`] collect it. Best effort: on
/// any failure the copy is made where it is needed. A second call while
/// one is pending does nothing. The caller must be single-threaded (it
/// forks).
pub fn prefetch() {
    // (take_own also drops, without closing, a copy our parent started.)
    if let Some(p) = take_own() {
        *lock() = Some(p);
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
    let Ok((done, done_w)) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) else {
        return;
    };
    match sys::fork() {
        Ok(sys::Fork::Child) => {
            // Only the copy and the seals, then out: no destructors, no
            // atexit hooks. Exiting closes the only write end of `done`.
            let ok = copy_all(&memfd, &src, len) && seal(memfd).is_ok();
            sys::exit_now(if ok { 0 } else { 1 })
        }
        Ok(sys::Fork::Parent(copier)) => {
            drop(done_w);
            *lock() = Some(Pending {
                memfd,
                len,
                done,
                copier,
                owner: std::process::id(),
            });
        }
        Err(_) => {}
    }
}

/// The copy [`prefetch`] started in this process (starting one now if
/// there is none), still being made: the enter stage waits for it with
/// [`finish`] and the caller reaps the copier with [`Pending::reap`].
/// `None` when no copier could be started.
pub fn take() -> Option<Pending> {
    prefetch();
    take_own()
}

/// The pending copy, if this very process started it.
fn take_own() -> Option<Pending> {
    let p = lock().take()?;
    if p.owner != std::process::id() {
        // A forked process (a kept session's holder) that may have closed
        // its inherited descriptors, and reused the number: never close it.
        std::mem::forget(p);
        return None;
    }
    Some(p)
}

/// The prefetched copy, sealed, once its copier has finished it; `None`
/// (the caller copies) when there is none or it failed.
fn take_prefetched() -> Option<OwnedFd> {
    let p = take_own()?;
    let status = rustix::process::waitpid(Pid::from_raw(p.copier), WaitOptions::empty());
    let done = matches!(status, Ok(Some((_, st))) if st.exit_status() == Some(0));
    (done && whole_and_sealed(&p.memfd, p.len)).then_some(p.memfd)
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

    /// The tests share the process's one pending copy.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn prefetched_copy_is_whole_and_sealed() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
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

    #[test]
    fn enter_stage_waits_for_the_copier_or_copies_itself() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let exe_bytes = std::fs::read("/proc/self/exe").unwrap();
        let exe = File::open("/proc/self/exe").unwrap();
        // The copier finishes and seals: the stage uses its memfd as is.
        let p = take().expect("a copier");
        assert!(finish(&p.memfd, &p.done, &exe).unwrap().is_none());
        assert!(is_sealed(&p.memfd));
        p.reap();
        let dup = rustix::io::fcntl_dupfd_cloexec(&p.memfd, 3).unwrap();
        assert!(contents(dup) == exe_bytes, "the copier's copy differs");
        // A copier that died without finishing (EOF, short and unsealed
        // memfd): the stage makes a sealed copy of its own.
        let (done, done_w) = rustix::pipe::pipe().unwrap();
        drop(done_w);
        let short = new_memfd().unwrap();
        let own = finish(&short, &done, &exe).unwrap().expect("its own copy");
        assert!(is_sealed(&own) && !is_sealed(&short));
        assert!(contents(own) == exe_bytes, "the stage's copy differs");
    }
}
