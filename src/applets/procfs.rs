//! /proc access for the applets, with or without a /proc in the container.
//!
//! Applets run inside containers whose images may have no /proc mounted at
//! all (scratch, distroless). [`ProcRoot::open`] uses /proc when it is a real
//! procfs of our own PID namespace; otherwise it makes a private, detached
//! procfs instance with the new mount API (`fsopen("proc")` + `fsmount`): it
//! has no mount point, so nothing changes in the container's view, and it
//! shows the PID namespace we are in. Every read is an `openat` relative to
//! that directory fd.
//!
//! Why not the `procfs` crate: it addresses everything by path (a root
//! `PathBuf`), and a detached mount has no path — reaching it through
//! `/proc/self/fd/N` would need the very /proc that is missing. The few
//! files the applets need (stat, status, cmdline, statm, meminfo, mountinfo,
//! net/*) have simple, stable formats, so they are parsed here.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};

/// Environment variable that may name an inherited procfs root directory fd.
pub const PROC_FD_ENV: &str = "CDBG_PROC_FD";

/// A handle on a procfs instance: every read is relative to its root fd.
#[derive(Debug)]
pub struct ProcRoot {
    fd: OwnedFd,
    private: bool,
}

impl ProcRoot {
    /// Opens, in order: the procfs directory fd named by `$CDBG_PROC_FD`
    /// (handed down by cdbg, e.g. opened before a seccomp filter that forbids
    /// `fsopen`), /proc if it is a procfs of our PID namespace, else a
    /// private detached procfs instance (needs CAP_SYS_ADMIN).
    pub fn open() -> io::Result<ProcRoot> {
        if let Some(root) = Self::inherited() {
            return Ok(root);
        }
        if let Ok(fd) = rfs::open(
            "/proc",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            let root = ProcRoot { fd, private: false };
            if root.is_usable() {
                return Ok(root);
            }
        }
        Self::open_private()
    }

    /// The fd named by [`PROC_FD_ENV`], if it is a usable procfs root; any
    /// other fd of that number is left alone.
    fn inherited() -> Option<ProcRoot> {
        let n: i32 = std::env::var(PROC_FD_ENV).ok()?.parse().ok()?;
        if n < 3 {
            return None;
        }
        let fd = crate::sys::adopt_fd(n)?;
        let root = ProcRoot { fd, private: true };
        if root.is_usable() {
            Some(root)
        } else {
            // Not ours to close.
            let _ = std::os::fd::IntoRawFd::into_raw_fd(root.fd);
            None
        }
    }

    /// Mounts a fresh procfs instance that is attached nowhere.
    pub fn open_private() -> io::Result<ProcRoot> {
        let fs = rustix::mount::fsopen("proc", FsOpenFlags::FSOPEN_CLOEXEC)
            .map_err(|e| ctx(e, "fsopen(proc)"))?;
        rustix::mount::fsconfig_create(&fs).map_err(|e| ctx(e, "fsconfig(proc)"))?;
        let fd = rustix::mount::fsmount(
            &fs,
            FsMountFlags::FSMOUNT_CLOEXEC,
            MountAttrFlags::MOUNT_ATTR_NOSUID
                | MountAttrFlags::MOUNT_ATTR_NODEV
                | MountAttrFlags::MOUNT_ATTR_NOEXEC,
        )
        .map_err(|e| ctx(e, "fsmount(proc)"))?;
        Ok(ProcRoot { fd, private: true })
    }

    /// Wraps a directory fd of a procfs root opened by the caller (e.g. before
    /// entering a container).
    pub fn from_fd(fd: OwnedFd) -> ProcRoot {
        ProcRoot { fd, private: false }
    }

    /// True when this is a private detached instance.
    pub fn is_private(&self) -> bool {
        self.private
    }

    /// The root directory fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// A procfs whose `self` is us: right filesystem, right PID namespace.
    fn is_usable(&self) -> bool {
        let Ok(st) = rfs::fstatfs(&self.fd) else {
            return false;
        };
        if st.f_type != rfs::PROC_SUPER_MAGIC {
            return false;
        }
        let me = rustix::process::getpid().as_raw_nonzero().get().to_string();
        match rfs::readlinkat(&self.fd, "self", Vec::new()) {
            Ok(l) => l.to_bytes() == me.as_bytes() && self.read("stat").is_ok(),
            Err(_) => false,
        }
    }

    /// Reads a whole file, e.g. `"meminfo"` or `"42/stat"`.
    pub fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        let fd = rfs::openat(
            &self.fd,
            rel,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        )?;
        // Small proc files come whole in the first read; read_to_end stops
        // at the next one, which returns 0.
        let mut buf = Vec::with_capacity(4096);
        std::fs::File::from(fd).read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// Reads a whole file as (lossy) UTF-8.
    pub fn read_string(&self, rel: &str) -> io::Result<String> {
        Ok(String::from_utf8_lossy(&self.read(rel)?).into_owned())
    }

    /// Reads a symlink, e.g. `"42/fd/3"` or `"42/exe"`.
    pub fn readlink(&self, rel: &str) -> io::Result<OsString> {
        Ok(OsString::from_vec(
            rfs::readlinkat(&self.fd, rel, Vec::new())?.into_bytes(),
        ))
    }

    /// stat(2) of what `rel` points at (follows the fd magic links).
    pub fn stat(&self, rel: &str) -> io::Result<rfs::Stat> {
        Ok(rfs::statat(&self.fd, rel, rfs::AtFlags::empty())?)
    }

    /// Names in a directory, e.g. `"42/fd"`.
    pub fn list(&self, rel: &str) -> io::Result<Vec<String>> {
        let fd = rfs::openat(
            &self.fd,
            rel,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut out = Vec::new();
        for e in rfs::Dir::read_from(&fd)? {
            let e = e?;
            let name = e.file_name().to_string_lossy();
            if name != "." && name != ".." {
                out.push(name.into_owned());
            }
        }
        Ok(out)
    }

    /// Every PID visible in this procfs, ascending.
    pub fn pids(&self) -> io::Result<Vec<i32>> {
        self.numbers_in(".")
    }

    /// The numeric names in directory `rel`, ascending.
    fn numbers_in(&self, rel: &str) -> io::Result<Vec<i32>> {
        let mut v: Vec<i32> = self
            .list(rel)?
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// The open file descriptor numbers of `pid` (from /proc/PID/fd),
    /// sorted; empty when they cannot be listed.
    pub fn fds(&self, pid: i32) -> Vec<i32> {
        self.numbers_in(&format!("{pid}/fd")).unwrap_or_default()
    }

    /// One process: stat, status and cmdline.
    pub fn process(&self, pid: i32) -> io::Result<Process> {
        let stat = self.read(&format!("{pid}/stat"))?;
        let mut p = parse_stat(&String::from_utf8_lossy(&stat))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad stat"))?;
        if let Ok(st) = self.read_string(&format!("{pid}/status")) {
            for line in st.lines() {
                let mut it = line.split_whitespace();
                match it.next() {
                    Some("Uid:") => {
                        let v: Vec<u32> = it.filter_map(|x| x.parse().ok()).collect();
                        p.ruid = v.first().copied().unwrap_or(0);
                        p.euid = v.get(1).copied().unwrap_or(p.ruid);
                    }
                    Some("Gid:") => {
                        let v: Vec<u32> = it.filter_map(|x| x.parse().ok()).collect();
                        p.rgid = v.first().copied().unwrap_or(0);
                        p.egid = v.get(1).copied().unwrap_or(p.rgid);
                    }
                    Some("VmRSS:") => {
                        // Same counter as stat's rss, but in kB and what
                        // procps prints.
                        if let Some(kb) = it.next().and_then(|x| x.parse::<u64>().ok()) {
                            p.rss_pages = kb * 1024 / rustix::param::page_size() as u64;
                        }
                    }
                    Some("VmLck:") => {
                        p.locked_kb = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
                    }
                    _ => {}
                }
            }
        }
        if let Ok(c) = self.read(&format!("{pid}/cmdline")) {
            p.cmdline = c
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            while p.cmdline.last().is_some_and(|a| a.is_empty()) {
                p.cmdline.pop();
            }
        }
        Ok(p)
    }

    /// Every process that could be read (processes that exit meanwhile are
    /// skipped).
    pub fn processes(&self) -> io::Result<Vec<Process>> {
        Ok(self
            .pids()?
            .into_iter()
            .filter_map(|pid| self.process(pid).ok())
            .collect())
    }

    /// /proc/meminfo in kB (keys without the colon, e.g. `"MemTotal"`).
    pub fn meminfo(&self) -> io::Result<HashMap<String, u64>> {
        let s = self.read_string("meminfo")?;
        Ok(s.lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                let n = v.split_whitespace().next()?.parse().ok()?;
                Some((k.trim().to_string(), n))
            })
            .collect())
    }

    /// Seconds since boot.
    pub fn uptime(&self) -> io::Result<f64> {
        let s = self.read_string("uptime")?;
        s.split_whitespace()
            .next()
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad uptime"))
    }

    /// Boot time in seconds since the epoch (`btime` of /proc/stat).
    pub fn boot_time(&self) -> io::Result<u64> {
        let s = self.read_string("stat")?;
        s.lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no btime"))
    }

    /// The mount table of process `who` (`"self"` or a PID).
    pub fn mountinfo(&self, who: &str) -> io::Result<Vec<MountInfo>> {
        let s = self.read_string(&format!("{who}/mountinfo"))?;
        Ok(s.lines().filter_map(parse_mountinfo_line).collect())
    }
}

fn ctx(e: rustix::io::Errno, what: &str) -> io::Error {
    io::Error::new(io::Error::from(e).kind(), format!("{what}: {e}"))
}

/// What the applets know about one process.
#[derive(Clone, Debug, Default)]
pub struct Process {
    /// Process ID.
    pub pid: i32,
    /// `comm` (the kernel's 15-byte name).
    pub comm: String,
    /// State letter: R, S, D, Z, T, t, X, I, …
    pub state: char,
    /// Parent PID.
    pub ppid: i32,
    /// Process group.
    pub pgrp: i32,
    /// Session ID.
    pub session: i32,
    /// Controlling terminal device number (0: none).
    pub tty_nr: u64,
    /// Foreground process group of the terminal.
    pub tpgid: i32,
    /// Kernel flags (PF_*).
    pub flags: u64,
    /// User-mode CPU time in clock ticks.
    pub utime: u64,
    /// Kernel-mode CPU time in clock ticks.
    pub stime: u64,
    /// Kernel priority.
    pub priority: i64,
    /// Nice value.
    pub nice: i64,
    /// Thread count.
    pub num_threads: i64,
    /// Start time in clock ticks after boot.
    pub starttime: u64,
    /// Virtual size in bytes.
    pub vsize: u64,
    /// Resident set in pages.
    pub rss_pages: u64,
    /// Real and effective user and group IDs.
    pub ruid: u32,
    /// Effective UID.
    pub euid: u32,
    /// Real GID.
    pub rgid: u32,
    /// Effective GID.
    pub egid: u32,
    /// Locked memory (VmLck) in kB.
    pub locked_kb: u64,
    /// argv (empty for kernel threads and zombies).
    pub cmdline: Vec<String>,
}

/// PF_KTHREAD: the process is a kernel thread.
pub const PF_KTHREAD: u64 = 0x0020_0000;

impl Process {
    /// True for kernel threads.
    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }

    /// The command line as ps shows it: argv joined, or `[comm]` when
    /// there is none.
    pub fn command(&self) -> String {
        if self.cmdline.is_empty() {
            format!("[{}]", self.comm)
        } else {
            self.cmdline.join(" ")
        }
    }
}

/// Parses /proc/PID/stat (the comm field may hold spaces and parentheses).
pub fn parse_stat(s: &str) -> Option<Process> {
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let pid = s[..open].trim().parse().ok()?;
    let comm = s[open + 1..close].to_string();
    let f: Vec<&str> = s[close + 1..].split_whitespace().collect();
    // f[0] is field 3 (state).
    let n = |i: usize| -> Option<i64> { f.get(i)?.parse().ok() };
    let u = |i: usize| -> Option<u64> { f.get(i)?.parse().ok() };
    Some(Process {
        pid,
        comm,
        state: f.first()?.chars().next()?,
        ppid: n(1)? as i32,
        pgrp: n(2)? as i32,
        session: n(3)? as i32,
        tty_nr: u(4)?,
        tpgid: n(5)? as i32,
        flags: u(6)?,
        utime: u(11)?,
        stime: u(12)?,
        priority: n(15)?,
        nice: n(16)?,
        num_threads: n(17)?,
        starttime: u(19)?,
        vsize: u(20)?,
        rss_pages: n(21)?.max(0) as u64,
        ..Default::default()
    })
}

/// A terminal's name from its device number: `pts/3`, `tty1`, `ttyS0`, or
/// `?` for none.
pub fn tty_name(dev: u64) -> String {
    if dev == 0 {
        return "?".into();
    }
    let major = rustix::fs::major(dev);
    let minor = rustix::fs::minor(dev);
    match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        5 if minor == 1 => "console".into(),
        _ => format!("{major}:{minor}"),
    }
}

/// One line of /proc/PID/mountinfo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountInfo {
    /// Mount ID.
    pub id: u32,
    /// Parent mount ID.
    pub parent: u32,
    /// Device `major:minor`.
    pub dev: String,
    /// Root of the mount inside its filesystem.
    pub root: String,
    /// Mount point.
    pub target: String,
    /// Per-mount options (rw, nosuid, relatime, …).
    pub vfs_options: String,
    /// Optional fields (shared:N, master:N, …).
    pub optional: Vec<String>,
    /// Filesystem type.
    pub fstype: String,
    /// Mount source.
    pub source: String,
    /// Superblock options.
    pub fs_options: String,
}

impl MountInfo {
    /// Per-mount options followed by the filesystem's own, as mount(8) and
    /// findmnt print them (the superblock's rw/ro is left out).
    pub fn options(&self) -> String {
        let mut v: Vec<&str> = self.vfs_options.split(',').collect();
        for o in self.fs_options.split(',') {
            if o != "rw" && o != "ro" && !o.is_empty() && !v.contains(&o) {
                v.push(o);
            }
        }
        v.join(",")
    }

    /// Propagation as findmnt prints it: shared, private, slave, unbindable.
    pub fn propagation(&self) -> String {
        let mut v = Vec::new();
        if self.optional.iter().any(|o| o.starts_with("shared:")) {
            v.push("shared");
        }
        if self.optional.iter().any(|o| o.starts_with("master:")) {
            v.push("slave");
        }
        if self.optional.iter().any(|o| o == "unbindable") {
            v.push("unbindable");
        }
        if v.is_empty() {
            v.push("private");
        }
        v.join(",")
    }
}

/// Parses one mountinfo line; `None` for a malformed one.
pub fn parse_mountinfo_line(l: &str) -> Option<MountInfo> {
    let (left, right) = l.split_once(" - ")?;
    let mut a = left.split(' ');
    let id = a.next()?.parse().ok()?;
    let parent = a.next()?.parse().ok()?;
    let dev = a.next()?.to_string();
    let root = unescape(a.next()?);
    let target = unescape(a.next()?);
    let vfs_options = a.next()?.to_string();
    let optional = a.filter(|x| !x.is_empty()).map(String::from).collect();
    let mut b = right.split(' ');
    let fstype = b.next()?.to_string();
    let source = unescape(b.next()?);
    let fs_options = b.next().unwrap_or("").to_string();
    Some(MountInfo {
        id,
        parent,
        dev,
        root,
        target,
        vfs_options,
        optional,
        fstype,
        source,
        fs_options,
    })
}

/// Undoes the kernel's octal escapes (`\040` for a space, …).
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            let oct = &b[i + 1..i + 4];
            if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let oct = std::str::from_utf8(oct).unwrap_or("");
                if let Ok(v) = u8::from_str_radix(oct, 8) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// User and group names from the container's own /etc/passwd and
/// /etc/group, read directly (never through NSS).
#[derive(Clone, Debug, Default)]
pub struct Names {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

impl Names {
    /// Loads /etc/passwd and /etc/group; missing files give numeric names.
    pub fn load() -> Names {
        Names {
            users: parse_id_file(&std::fs::read("/etc/passwd").unwrap_or_default()),
            groups: parse_id_file(&std::fs::read("/etc/group").unwrap_or_default()),
        }
    }

    /// Builds the tables from file contents (passwd, group).
    pub fn from_contents(passwd: &[u8], group: &[u8]) -> Names {
        Names {
            users: parse_id_file(passwd),
            groups: parse_id_file(group),
        }
    }

    /// A user's name, or the number.
    pub fn user(&self, uid: u32) -> String {
        self.users
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string())
    }

    /// A group's name, or the number.
    pub fn group(&self, gid: u32) -> String {
        self.groups
            .get(&gid)
            .cloned()
            .unwrap_or_else(|| gid.to_string())
    }

    /// A UID from a name or a number.
    pub fn uid_of(&self, name: &str) -> Option<u32> {
        name.parse().ok().or_else(|| {
            self.users
                .iter()
                .find(|(_, n)| n.as_str() == name)
                .map(|(u, _)| *u)
        })
    }
}

/// `name:x:ID:...` lines → ID → name (the first entry for an ID wins).
fn parse_id_file(b: &[u8]) -> HashMap<u32, String> {
    let mut m = HashMap::new();
    for line in String::from_utf8_lossy(b).lines() {
        let mut f = line.split(':');
        let (Some(name), Some(_), Some(id)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if let Ok(id) = id.trim().parse() {
            m.entry(id).or_insert_with(|| name.to_string());
        }
    }
    m
}

/// Splits items into a forest by their `(id, parent id)` pairs: the indexes
/// of the roots (items whose parent is themselves or not among the items)
/// and, per id, the indexes of its children, both in input order.
pub fn forest<K: std::hash::Hash + Eq + Copy>(
    links: impl Iterator<Item = (K, K)> + Clone,
) -> (Vec<usize>, HashMap<K, Vec<usize>>) {
    let ids: std::collections::HashSet<K> = links.clone().map(|(id, _)| id).collect();
    let mut kids: HashMap<K, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, (id, parent)) in links.enumerate() {
        if parent != id && ids.contains(&parent) {
            kids.entry(parent).or_default().push(i);
        } else {
            roots.push(i);
        }
    }
    (roots, kids)
}

/// The common start of the process applets (`free`, `ps`, `top`, `lsof`):
/// takes the arguments after argv[0] as (lossy) UTF-8, prints `help` when
/// one of `help_flags` is among them, parses them with `parse` and opens
/// /proc. `Err` carries the exit status to return: 0 after the help text, 1
/// after printing `APPLET: ERROR (see APPLET --help)` for bad arguments or
/// `APPLET: OPEN_ERR: ERROR` when /proc cannot be opened.
pub fn start<O>(
    argv: &[OsString],
    applet: &str,
    help: &str,
    help_flags: &[&str],
    parse: impl FnOnce(&[String]) -> Result<O, String>,
    open_err: &str,
) -> Result<(O, ProcRoot), i32> {
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if args.iter().any(|a| help_flags.contains(&a.as_str())) {
        print!("{help}");
        return Err(0);
    }
    let o = parse(&args).map_err(|e| fail(applet, format!("{e} (see {applet} --help)"), 1))?;
    let proc = ProcRoot::open().map_err(|e| fail(applet, format!("{open_err}: {e}"), 1))?;
    Ok((o, proc))
}

/// Prints `APPLET: message` on stderr and returns `code` (for the applets'
/// error paths).
pub fn fail(applet: &str, msg: impl std::fmt::Display, code: i32) -> i32 {
    eprintln!("{applet}: {msg}");
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_comm() {
        let s = "42 (a (b) c) S 1 42 42 34816 42 4194560 1 0 0 0 7 3 0 0 20 0 1 0 12345 1000000 250 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";
        let p = parse_stat(s).unwrap();
        assert_eq!(p.pid, 42);
        assert_eq!(p.comm, "a (b) c");
        assert_eq!(p.state, 'S');
        assert_eq!(p.ppid, 1);
        assert_eq!(p.tty_nr, 34816);
        assert_eq!((p.utime, p.stime), (7, 3));
        assert_eq!(p.starttime, 12345);
        assert_eq!(p.vsize, 1000000);
        assert_eq!(p.rss_pages, 250);
        assert_eq!(tty_name(p.tty_nr), "pts/0");
    }

    #[test]
    fn mountinfo_line() {
        let l = "36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue";
        let m = parse_mountinfo_line(l).unwrap();
        assert_eq!(m.target, "/mnt 2");
        assert_eq!(m.root, "/mnt1");
        assert_eq!(m.optional, vec!["master:1", "shared:2"]);
        assert_eq!(m.options(), "rw,noatime,errors=continue");
        assert_eq!(m.propagation(), "shared,slave");
        let l = "22 1 0:21 / /proc rw,nosuid - proc proc rw";
        let m = parse_mountinfo_line(l).unwrap();
        assert!(m.optional.is_empty());
        assert_eq!(m.propagation(), "private");
    }

    #[test]
    fn passwd_names() {
        let n = Names::from_contents(
            b"root:x:0:0:root:/root:/bin/sh\nbad\nnobody:x:65534:65534::/:/sbin/nologin\n",
            b"root:x:0:\n",
        );
        assert_eq!(n.user(0), "root");
        assert_eq!(n.user(65534), "nobody");
        assert_eq!(n.user(7), "7");
        assert_eq!(n.group(0), "root");
        assert_eq!(n.uid_of("nobody"), Some(65534));
        assert_eq!(n.uid_of("12"), Some(12));
    }
}
