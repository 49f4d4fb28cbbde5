//! Minimal readers for the few /proc files discovery needs.
//!
//! Hand-rolled instead of the `procfs` crate on purpose: `cdbg ls` reads
//! `/proc/PID/cgroup` for every process on the host (20,000 on a busy one)
//! and must finish in well under 150 ms. Opening relative to one `/proc`
//! directory fd and reading into a reused buffer avoids the per-file path
//! building, `String` allocation and full parsing that a general crate does.

use rustix::fd::OwnedFd;
use rustix::fs::{openat, Mode, OFlags};
use std::fmt::Write as _;

/// An open `/proc` plus a reusable path and read buffer.
pub(crate) struct Proc {
    dir: OwnedFd,
    path: String,
    /// Contents of the last successful [`Proc::read`].
    pub buf: Vec<u8>,
}

impl Proc {
    /// Opens `/proc` (or another procfs mount, for tests).
    pub fn open_at(root: &str) -> Option<Proc> {
        let dir = openat(
            rustix::fs::CWD,
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        Some(Proc {
            dir,
            path: String::with_capacity(32),
            buf: Vec::with_capacity(4096),
        })
    }

    /// Opens the host's `/proc`.
    pub fn open() -> Option<Proc> {
        Self::open_at("/proc")
    }

    /// Every numeric entry of /proc (process IDs, no threads).
    pub fn pids(&self) -> Vec<i32> {
        let mut out = Vec::with_capacity(1024);
        let Ok(fd) = rustix::io::dup(&self.dir) else {
            return out;
        };
        let Ok(dir) = rustix::fs::Dir::read_from(&fd) else {
            return out;
        };
        for ent in dir.flatten() {
            let name = ent.file_name().to_bytes();
            if let Some(pid) = parse_i32(name) {
                out.push(pid);
            }
        }
        out
    }

    /// Reads `/proc/<pid>/<file>` into `self.buf`; false if it is gone.
    pub fn read(&mut self, pid: i32, file: &str) -> bool {
        self.path.clear();
        let _ = write!(self.path, "{pid}/{file}");
        self.buf.clear();
        let Ok(fd) = openat(
            &self.dir,
            self.path.as_str(),
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return false;
        };
        loop {
            if self.buf.capacity() - self.buf.len() < 1024 {
                self.buf.reserve(4096);
            }
            let len = self.buf.len();
            let cap = self.buf.capacity();
            self.buf.resize(cap, 0);
            match rustix::io::read(&fd, &mut self.buf[len..]) {
                Ok(0) => {
                    self.buf.truncate(len);
                    return true;
                }
                Ok(n) => self.buf.truncate(len + n),
                Err(rustix::io::Errno::INTR) => self.buf.truncate(len),
                Err(_) => {
                    self.buf.truncate(len);
                    return len > 0;
                }
            }
        }
    }

    /// `/proc/PID/stat` fields discovery needs.
    pub fn stat(&mut self, pid: i32) -> Option<Stat> {
        if !self.read(pid, "stat") {
            return None;
        }
        parse_stat(&self.buf)
    }

    /// Innermost PID from the `NSpid:` line of `/proc/PID/status`
    /// (the PID the process has in its own PID namespace).
    pub fn inner_pid(&mut self, pid: i32) -> Option<i32> {
        if !self.read(pid, "status") {
            return None;
        }
        parse_nspid_inner(&self.buf)
    }

    /// The command line, arguments joined by spaces.
    pub fn cmdline(&mut self, pid: i32) -> Option<String> {
        if !self.read(pid, "cmdline") {
            return None;
        }
        Some(join_nul(&self.buf))
    }

    /// The command line as separate arguments.
    pub fn argv(&mut self, pid: i32) -> Option<Vec<String>> {
        if !self.read(pid, "cmdline") {
            return None;
        }
        let b = self.buf.strip_suffix(b"\0").unwrap_or(&self.buf);
        if b.is_empty() {
            return Some(Vec::new());
        }
        Some(
            b.split(|&c| c == 0)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect(),
        )
    }
}

/// The fields of `/proc/PID/stat` discovery uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stat {
    /// `comm`, without the parentheses.
    pub comm: String,
    /// One-letter state (R, S, D, T, Z, ...).
    pub state: u8,
    /// Parent PID.
    pub ppid: i32,
    /// Start time in clock ticks after boot.
    pub start: u64,
}

/// Parses `/proc/PID/stat`. The comm may contain spaces and parentheses,
/// so the fields after it are found from the last `)`.
pub(crate) fn parse_stat(b: &[u8]) -> Option<Stat> {
    let open = b.iter().position(|&c| c == b'(')?;
    let close = b.iter().rposition(|&c| c == b')')?;
    let comm = String::from_utf8_lossy(b.get(open + 1..close)?).into_owned();
    let rest = std::str::from_utf8(b.get(close + 1..)?).ok()?;
    let mut it = rest.split_ascii_whitespace();
    let state = *it.next()?.as_bytes().first()?;
    let ppid = it.next()?.parse().ok()?;
    // Fields 5..=21 sit between ppid (4) and starttime (22).
    let start = it.nth(17)?.parse().ok()?;
    Some(Stat {
        comm,
        state,
        ppid,
        start,
    })
}

/// Innermost PID of the `NSpid:` line of `/proc/PID/status`.
pub(crate) fn parse_nspid_inner(b: &[u8]) -> Option<i32> {
    let s = std::str::from_utf8(b).ok()?;
    let line = s.lines().find(|l| l.starts_with("NSpid:"))?;
    line["NSpid:".len()..]
        .split_ascii_whitespace()
        .last()?
        .parse()
        .ok()
}

/// Joins NUL-separated arguments with spaces.
pub(crate) fn join_nul(b: &[u8]) -> String {
    // Some inits (LXC's busybox init) pad their argv with empty strings.
    let b = b.strip_suffix(b"\0").unwrap_or(b);
    String::from_utf8_lossy(b)
        .replace('\0', " ")
        .trim_end()
        .to_string()
}

/// Parses a decimal PID without allocating.
pub(crate) fn parse_i32(b: &[u8]) -> Option<i32> {
    if b.is_empty() || b.len() > 10 {
        return None;
    }
    let mut n: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    i32::try_from(n).ok()
}

/// Boot time (`btime` of /proc/stat) in seconds since the epoch, read
/// once per process.
pub(crate) fn boot_time() -> Option<u64> {
    static BTIME: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *BTIME.get_or_init(read_boot_time)
}

fn read_boot_time() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// Converts a start time in clock ticks after boot to wall-clock time.
pub(crate) fn start_to_time(start: u64, btime: u64) -> std::time::SystemTime {
    let hz = rustix::param::clock_ticks_per_second().max(1);
    let ms = btime * 1000 + start * 1000 / hz;
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_comm() {
        let s = b"1234 (we(i)rd name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
        let st = parse_stat(s).unwrap();
        assert_eq!(st.comm, "we(i)rd name");
        assert_eq!(st.state, b'S');
        assert_eq!(st.ppid, 1);
        assert_eq!(st.start, 98765);
    }

    #[test]
    fn padded_cmdline() {
        assert_eq!(join_nul(b"init\0\0\0\0"), "init");
        assert_eq!(join_nul(b"/bin/sleep\x009\x00"), "/bin/sleep 9");
    }

    #[test]
    fn nspid() {
        let s = b"Name:\tsleep\nPid:\t4242\nNSpid:\t4242\t17\t1\nThreads:\t1\n";
        assert_eq!(parse_nspid_inner(s), Some(1));
        assert_eq!(parse_nspid_inner(b"Name:\tx\nNSpid:\t55\n"), Some(55));
    }

    #[test]
    fn live_self() {
        let mut p = Proc::open().unwrap();
        let me = std::process::id() as i32;
        assert!(p.pids().contains(&me));
        let st = p.stat(me).unwrap();
        assert!(st.start > 0);
        assert_eq!(p.inner_pid(me), Some(me));
        assert!(p.cmdline(me).unwrap().len() > 1);
        assert!(!p.read(i32::MAX, "stat"));
    }
}
