//! A fresh PTY from the container's own devpts.
//!
//! The container controls its /dev: `/dev/ptmx` or `/dev/pts` may be
//! symlinks, bind mounts of host files or something else entirely
//! (CVE-2025-52565 class). So the master is opened with `openat2`
//! confined to the container's root with no symlinks at all, checked to be
//! a real ptmx (a devpts filesystem, character device 5:2), and the peer is
//! taken from the master with TIOCGPTPEER instead of a path lookup.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::pty::OpenptFlags;

/// The devpts filesystem magic (`DEVPTS_SUPER_MAGIC`).
const DEVPTS_MAGIC: u64 = 0x1cd1;

/// A PTY pair: the master (for the host side) and the peer (for the
/// command).
pub struct Pty {
    pub master: OwnedFd,
    pub peer: OwnedFd,
}

fn is_ptmx(fd: &OwnedFd, need_devpts: bool) -> bool {
    let Ok(st) = rustix::fs::fstat(fd) else {
        return false;
    };
    let is_chr = (st.st_mode & libc::S_IFMT) == libc::S_IFCHR;
    let dev = st.st_rdev;
    let ok_dev = is_chr && rustix::fs::major(dev) == 5 && rustix::fs::minor(dev) == 2;
    if !ok_dev {
        return false;
    }
    if need_devpts {
        return rustix::fs::fstatfs(fd)
            .map(|s| s.f_type as u64 == DEVPTS_MAGIC)
            .unwrap_or(false);
    }
    true
}

/// Opens a PTY from the devpts mounted at `<root>/dev/pts` (preferred) or
/// through a `<root>/dev/ptmx` device node, where `root` is a directory fd
/// of the container's root.
pub fn open_in(root: impl AsFd) -> io::Result<Pty> {
    let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    let flags = OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC;
    let mut last = io::Error::from(io::ErrorKind::NotFound);
    for (path, need_devpts) in [("dev/pts/ptmx", true), ("dev/ptmx", false)] {
        match rustix::fs::openat2(root.as_fd(), path, flags, Mode::empty(), resolve) {
            Ok(fd) if is_ptmx(&fd, need_devpts) => return finish(fd),
            Ok(_) => last = io::Error::other(format!("/{path} is not a devpts ptmx")),
            Err(e) => last = e.into(),
        }
    }
    Err(last)
}

/// Opens a PTY from the host's /dev/ptmx (the fallback when the container
/// has no usable devpts).
pub fn open_host() -> io::Result<Pty> {
    let fd = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    finish(fd)
}

fn finish(master: OwnedFd) -> io::Result<Pty> {
    rustix::pty::unlockpt(&master)?;
    let peer = rustix::pty::ioctl_tiocgptpeer(
        &master,
        OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC,
    )?;
    Ok(Pty { master, peer })
}
