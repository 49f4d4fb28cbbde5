//! The sealed copy of cdbg.
//!
//! Every process that runs cdbg's code inside a container (the enter stage,
//! the session leader, the bundled shell and applets) is executed from a
//! memfd holding a copy of the binary, sealed against writing, growing and
//! shrinking. A container root who reaches `/proc/PID/exe` of such a process
//! finds the memfd, which it cannot modify, never the host's file
//! (CVE-2019-5736 class). The copy is made in the kernel with
//! sendfile (about 2 ms for the whole binary, measured by scripts/bench.sh).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{MemfdFlags, SealFlags};

/// Environment variable naming the inherited fd of the sealed copy in a
/// bundled applet (consumed and removed at start-up).
pub const SELF_FD_ENV: &str = "CDBG_SELF_FD";

/// Makes a sealed, executable memfd copy of the running binary.
pub fn sealed_self() -> io::Result<OwnedFd> {
    let src = File::open("/proc/self/exe")?;
    sealed_copy(&src)
}

/// Makes a sealed, executable memfd copy of `src`.
pub fn sealed_copy(src: &File) -> io::Result<OwnedFd> {
    let base = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    let memfd = match rustix::fs::memfd_create("cdbg", base | MemfdFlags::EXEC) {
        Ok(fd) => fd,
        // Kernels before 6.3 do not know MFD_EXEC (memfds are executable).
        Err(rustix::io::Errno::INVAL) => rustix::fs::memfd_create("cdbg", base)?,
        Err(e) => return Err(e.into()),
    };
    let len = src.metadata()?.len();
    let mut copied = 0u64;
    while copied < len {
        let n = match rustix::fs::sendfile(&memfd, src, None, (len - copied) as usize) {
            Ok(0) => break,
            Ok(n) => n,
            Err(_) => return fallback_copy(src, memfd, len),
        };
        copied += n as u64;
    }
    if copied != len {
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
