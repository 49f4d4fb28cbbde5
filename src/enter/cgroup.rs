//! Join the target's cgroups: every v1 hierarchy and the v2 (unified) one.
//! The cgroup.procs files are opened on the host (host mount namespace,
//! before entering); joining writes "0" (= the writing process) to each.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags};

use super::procinfo::ProcInfo;

/// One cgroup mount from /proc/self/mountinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupMount {
    /// Where it is mounted.
    pub mount_point: String,
    /// The cgroup path that is the root of this mount ("/" normally).
    pub root: String,
    /// v1 controllers / `name=` options (empty for cgroup2).
    pub controllers: Vec<String>,
    /// cgroup2?
    pub v2: bool,
}

/// Undo mountinfo's octal escapes (`\040` for space etc.).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse the cgroup and cgroup2 mounts of a mountinfo text.
pub fn parse_mountinfo(text: &str) -> Vec<CgroupMount> {
    let mut v = Vec::new();
    for line in text.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        if pre.len() < 5 || post.len() < 3 {
            continue;
        }
        let (fstype, superopts) = (post[0], post[2]);
        let v2 = match fstype {
            "cgroup2" => true,
            "cgroup" => false,
            _ => continue,
        };
        let controllers = if v2 {
            Vec::new()
        } else {
            superopts
                .split(',')
                .filter(|o| {
                    !matches!(
                        *o,
                        "rw" | "ro" | "noprefix" | "clone_children" | "xattr" | "cpuset_v2_mode"
                    ) && !o.starts_with("release_agent=")
                })
                .map(String::from)
                .collect()
        };
        v.push(CgroupMount {
            mount_point: unescape(pre[4]),
            root: unescape(pre[3]),
            controllers,
            v2,
        });
    }
    v
}

/// Where the cgroup `path` of the /proc/PID/cgroup line with `controllers`
/// lives on the host: the first mount of the matching hierarchy whose root
/// contains `path`.
pub fn host_dir(mounts: &[CgroupMount], controllers: &str, path: &str) -> Option<String> {
    let want: Vec<&str> = controllers.split(',').filter(|c| !c.is_empty()).collect();
    mounts
        .iter()
        .filter(|m| {
            if want.is_empty() {
                m.v2
            } else {
                !m.v2
                    && m.controllers.len() == want.len()
                    && want.iter().all(|w| m.controllers.iter().any(|c| c == w))
            }
        })
        .find_map(|m| {
            let rel = if m.root == "/" {
                path
            } else {
                let r = path.strip_prefix(m.root.as_str())?;
                if !r.is_empty() && !r.starts_with('/') {
                    return None;
                }
                r
            };
            Some(format!("{}{}", m.mount_point.trim_end_matches('/'), rel).replace("//", "/"))
        })
}

/// An opened cgroup of the target, ready to be joined.
#[derive(Debug)]
pub struct CgroupTarget {
    /// For messages: `pids:/docker/abc` or `unified:/docker/abc`.
    pub name: String,
    /// Host directory of the cgroup.
    pub host_path: String,
    /// v2 (unified) or v1.
    pub v2: bool,
    /// The cgroup directory (for limit and freezer checks).
    pub dir: OwnedFd,
    /// cgroup.procs opened for writing.
    pub procs: OwnedFd,
}

/// Open every cgroup of `info` (host side, host mount namespace). Cgroups
/// that cannot be found or opened are reported in the second list, one
/// line each, so the caller can say which ones were skipped.
pub fn open_targets(info: &ProcInfo) -> (Vec<CgroupTarget>, Vec<String>) {
    open_cgroups(&info.cgroups)
}

/// [`open_targets`] from the (controllers, path) lines alone, for a stage
/// that carries only [`ProcInfo::cgroups`]. Must run in the host's mount
/// namespace (it reads /proc/self/mountinfo and opens host paths).
pub fn open_cgroups(cgroups: &[(String, String)]) -> (Vec<CgroupTarget>, Vec<String>) {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (ctrl, path) in cgroups {
        let label = if ctrl.is_empty() {
            "unified"
        } else {
            ctrl.as_str()
        };
        let name = format!("{label}:{path}");
        let Some(dir_path) = host_dir(&mounts, ctrl, path) else {
            errs.push(format!("cgroup {name}: hierarchy not mounted on the host"));
            continue;
        };
        let open = || -> rustix::io::Result<(OwnedFd, OwnedFd)> {
            let dir = rustix::fs::open(
                &dir_path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let procs = rustix::fs::openat(
                &dir,
                "cgroup.procs",
                OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok((dir, procs))
        };
        match open() {
            Ok((dir, procs)) => out.push(CgroupTarget {
                name,
                host_path: dir_path,
                v2: ctrl.is_empty(),
                dir,
                procs,
            }),
            Err(rustix::io::Errno::NOENT) => errs.push(format!(
                "cgroup {name}: {dir_path} is gone (the container is being removed?)"
            )),
            Err(e) => errs.push(format!("cgroup {name}: open {dir_path}: {e}")),
        }
    }
    (out, errs)
}

fn read_at(dir: &OwnedFd, name: &str) -> Option<String> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut s = String::new();
    std::fs::File::from(fd)
        .take(64 << 10)
        .read_to_string(&mut s)
        .ok()?;
    Some(s)
}

/// How many extra processes cdbg puts into the cgroup (joining process,
/// session leader, command).
pub const PIDS_NEEDED: u64 = 3;

/// Whether any cgroup of the target is frozen (a paused container): the
/// reason, naming the cgroup. Host side; cgroups that cannot be opened are
/// ignored here.
pub fn frozen(cgroups: &[(String, String)]) -> Option<String> {
    open_cgroups(cgroups)
        .0
        .iter()
        .find_map(|t| frozen_reason(t).err())
}

/// Memory a session may need in the target's memory cgroup: cdbg's own
/// processes charge about 0.5 MiB there (measured: `true`, `sh -c true`,
/// `ps`), a shell and a few tools some more.
pub const MEM_HEADROOM: u64 = 4 << 20;

/// Why joining `t` would hang or fail, checked before writing: frozen
/// (v1 freezer.state, v2 cgroup.events), pids.max reached, memory limit
/// reached or the cgroup under OOM.
pub fn precheck(t: &CgroupTarget) -> Result<(), String> {
    frozen_reason(t)?;
    pids_reason(t)?;
    memory_reason(t)
}

/// The memory state of a cgroup with a finite memory limit.
#[derive(Debug, PartialEq, Eq)]
struct MemState {
    /// memory.max (v2) or memory.limit_in_bytes (v1).
    limit: u64,
    /// memory.current (v2) or memory.usage_in_bytes (v1).
    usage: u64,
    /// File-backed page cache, which the kernel reclaims before it
    /// OOM-kills: active_file + inactive_file of memory.stat (v1: the
    /// hierarchical total_* fields). A container's usage is often at its
    /// limit because of cache alone; that must not refuse the join.
    reclaimable: u64,
    /// v1 memory.oom_control `under_oom 1`: its tasks are waiting for
    /// memory (oom_kill_disable) and a newcomer would wait with them.
    under_oom: bool,
}

/// v1 reports "no limit" as a huge page-aligned number (2^63 - 4096).
const V1_UNLIMITED: u64 = 1 << 62;

fn stat_field(stat: &str, key: &str) -> Option<u64> {
    stat.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// active_file + inactive_file (with `prefix` "total_" for v1's
/// hierarchical counts).
fn file_cache(stat: &str, prefix: &str) -> u64 {
    ["active_file", "inactive_file"]
        .iter()
        .filter_map(|k| stat_field(stat, &format!("{prefix}{k}")))
        .sum()
}

fn memory_state(t: &CgroupTarget) -> Option<MemState> {
    let num = |name: &str| read_at(&t.dir, name).and_then(|s| s.trim().parse::<u64>().ok());
    let stat = read_at(&t.dir, "memory.stat").unwrap_or_default();
    if t.v2 {
        // "max" does not parse: no limit.
        let limit = num("memory.max")?;
        Some(MemState {
            limit,
            usage: num("memory.current")?,
            reclaimable: file_cache(&stat, ""),
            under_oom: false,
        })
    } else {
        let limit = num("memory.limit_in_bytes").filter(|l| *l < V1_UNLIMITED)?;
        Some(MemState {
            limit,
            usage: num("memory.usage_in_bytes")?,
            reclaimable: file_cache(&stat, "total_"),
            under_oom: read_at(&t.dir, "memory.oom_control")
                .is_some_and(|s| stat_field(&s, "under_oom") == Some(1)),
        })
    }
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
}

fn memory_reason(t: &CgroupTarget) -> Result<(), String> {
    let Some(m) = memory_state(t) else {
        return Ok(());
    };
    if m.under_oom {
        return Err(format!(
            "cgroup {} is out of memory (under_oom 1: its processes wait for memory); \
             use --no-cgroup or --rescue",
            t.name
        ));
    }
    let working = m.usage.saturating_sub(m.reclaimable);
    let free = m.limit.saturating_sub(working);
    if free < MEM_HEADROOM {
        return Err(format!(
            "cgroup {} is at its memory limit ({} in use of {}): joining it would make \
             the kernel OOM-kill a process of the container; use --no-cgroup or --rescue",
            t.name,
            mib(working),
            mib(m.limit)
        ));
    }
    Ok(())
}

fn frozen_reason(t: &CgroupTarget) -> Result<(), String> {
    if t.v2 {
        if let Some(ev) = read_at(&t.dir, "cgroup.events") {
            if ev.lines().any(|l| l.trim() == "frozen 1") {
                return Err(format!("cgroup {} is frozen (container paused?)", t.name));
            }
        }
        if read_at(&t.dir, "cgroup.freeze").is_some_and(|s| s.trim() == "1") {
            return Err(format!(
                "cgroup {} is being frozen (container paused?)",
                t.name
            ));
        }
    } else if let Some(st) = read_at(&t.dir, "freezer.state") {
        let st = st.trim();
        if st == "FROZEN" || st == "FREEZING" {
            return Err(format!(
                "cgroup {} is {} (container paused?)",
                t.name,
                st.to_lowercase()
            ));
        }
    }
    Ok(())
}

fn pids_reason(t: &CgroupTarget) -> Result<(), String> {
    if let (Some(max), Some(cur)) = (read_at(&t.dir, "pids.max"), read_at(&t.dir, "pids.current")) {
        if let (Ok(max), Ok(cur)) = (max.trim().parse::<u64>(), cur.trim().parse::<u64>()) {
            if cur + PIDS_NEEDED > max {
                return Err(format!(
                    "cgroup {} has reached its process limit (pids.current {cur}, pids.max {max}); \
                     use --no-cgroup or --rescue",
                    t.name
                ));
            }
        }
    }
    Ok(())
}

/// Join every target: check them all (frozen, pids.max, memory limit),
/// then write "0" to each cgroup.procs. The first failure stops and names
/// the cgroup. Returns whether one of them is a memory cgroup with a
/// finite limit (the command then gets a high oom_score_adj).
pub fn join(targets: &[CgroupTarget]) -> Result<bool, String> {
    for t in targets {
        precheck(t)?;
    }
    let memory_limited = targets.iter().any(|t| memory_state(t).is_some());
    for t in targets {
        let mut f = std::fs::File::from(
            t.procs
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| format!("cgroup {}: {e}", t.name))?,
        );
        if let Err(e) = f.write_all(b"0") {
            let why = match e.raw_os_error() {
                Some(libc::EBUSY) => "the cgroup has child cgroups with controllers enabled \
                                      (no internal processes) or is a threaded domain"
                    .to_string(),
                Some(libc::EAGAIN) => "the cgroup refused a new process (pids limit?)".to_string(),
                Some(libc::ENODEV) | Some(libc::ENOENT) => {
                    "the cgroup was removed (the container is stopping?)".to_string()
                }
                _ => e.to_string(),
            };
            return Err(format!(
                "cannot join cgroup {}: {why}; use --no-cgroup or --rescue",
                t.name
            ));
        }
    }
    Ok(memory_limited)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:4 - cgroup cgroup rw,cpu,cpuacct
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
50 23 0:50 /docker/abc /mnt/my\\040cg rw - cgroup cgroup rw,memory
";

    #[test]
    fn mountinfo_hybrid() {
        let m = parse_mountinfo(HYBRID);
        assert_eq!(m.len(), 6);
        assert_eq!(m[1].controllers, ["cpu", "cpuacct"]);
        assert_eq!(m[3].controllers, ["name=systemd"]);
        assert!(m[4].v2);
        assert_eq!(m[5].mount_point, "/mnt/my cg");
        assert_eq!(
            host_dir(&m, "pids", "/docker/abc").unwrap(),
            "/sys/fs/cgroup/pids/docker/abc"
        );
        assert_eq!(host_dir(&m, "cpu", "/x").unwrap(), "/sys/fs/cgroup/cpu/x");
        assert_eq!(
            host_dir(&m, "cpuacct,cpu", "/x").unwrap(),
            "/sys/fs/cgroup/cpu,cpuacct/x"
        );
        assert_eq!(
            host_dir(&m, "name=systemd", "/").unwrap(),
            "/sys/fs/cgroup/systemd/"
        );
        assert_eq!(
            host_dir(&m, "", "/docker/abc").unwrap(),
            "/sys/fs/cgroup/unified/docker/abc"
        );
        // A mount whose root is a sub-cgroup maps only paths below it.
        assert_eq!(
            host_dir(&m, "memory", "/docker/abc/sub").unwrap(),
            "/mnt/my cg/sub"
        );
        assert_eq!(host_dir(&m, "memory", "/docker/abcd"), None);
        assert_eq!(host_dir(&m, "blkio", "/x"), None);
    }

    #[test]
    fn mountinfo_pure_v2() {
        let m = parse_mountinfo("30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n");
        assert_eq!(
            host_dir(&m, "", "/system.slice/docker-1.scope").unwrap(),
            "/sys/fs/cgroup/system.slice/docker-1.scope"
        );
        assert_eq!(host_dir(&m, "pids", "/x"), None);
    }

    /// A throwaway v1 pids cgroup (and the v2 one) holding a sleeper.
    struct Fixture {
        dirs: Vec<String>,
        child: std::process::Child,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            for d in &self.dirs {
                // Move any stragglers out, then remove.
                for _ in 0..50 {
                    if std::fs::remove_dir(d).is_ok() || !std::path::Path::new(d).exists() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    }

    fn fixture(tag: &str) -> Option<Fixture> {
        let base = [
            "/sys/fs/cgroup/pids",
            "/sys/fs/cgroup/unified",
            "/sys/fs/cgroup/freezer",
        ];
        if !base
            .iter()
            .all(|b| std::path::Path::new(b).join("cgroup.procs").exists())
        {
            eprintln!("skip: not the hybrid cgroup layout of the dev machines");
            return None;
        }
        let name = format!("cdbgt-confine-{tag}-{}", std::process::id());
        let dirs: Vec<String> = base.iter().map(|b| format!("{b}/{name}")).collect();
        for d in &dirs {
            std::fs::create_dir(d).unwrap();
        }
        let child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let fx = Fixture { dirs, child };
        for d in &fx.dirs {
            std::fs::write(format!("{d}/cgroup.procs"), fx.child.id().to_string()).unwrap();
        }
        Some(fx)
    }

    fn run_joiner(pid: u32) -> (bool, String) {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "enter::cgroup::tests::joiner",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CDBGT_JOIN_PID", pid.to_string())
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&out.stdout).into_owned();
        (s.contains("JOINED"), s)
    }

    /// Runs in a child process: join the cgroups of CDBGT_JOIN_PID and
    /// print our own /proc/self/cgroup.
    #[test]
    fn joiner() {
        let Ok(pid) = std::env::var("CDBGT_JOIN_PID") else {
            return;
        };
        let info = ProcInfo::read(pid.parse().unwrap()).unwrap();
        let (targets, errs) = open_targets(&info);
        assert!(errs.is_empty(), "{errs:?}");
        match join(&targets) {
            Ok(_) => println!(
                "JOINED\n{}",
                std::fs::read_to_string("/proc/self/cgroup").unwrap()
            ),
            Err(e) => println!("ERROR {e}"),
        }
    }

    #[test]
    fn join_moves_into_every_hierarchy() {
        let Some(fx) = fixture("join") else { return };
        let (ok, out) = run_joiner(fx.child.id());
        assert!(ok, "{out}");
        let name = fx.dirs[0].rsplit('/').next().unwrap().to_string();
        assert!(out.contains(&format!("pids:/{name}")), "{out}");
        assert!(out.contains(&format!("freezer:/{name}")), "{out}");
        assert!(out.contains(&format!("0::/{name}")), "{out}");
    }

    #[test]
    fn join_refuses_full_pids_and_frozen() {
        let Some(fx) = fixture("limits") else { return };
        std::fs::write(format!("{}/pids.max", fx.dirs[0]), "2").unwrap();
        let (ok, out) = run_joiner(fx.child.id());
        assert!(!ok, "{out}");
        assert!(
            out.contains("ERROR cgroup pids:/") && out.contains("pids.max 2"),
            "{out}"
        );
        std::fs::write(format!("{}/pids.max", fx.dirs[0]), "max").unwrap();
        std::fs::write(format!("{}/freezer.state", fx.dirs[2]), "FROZEN").unwrap();
        let (ok, out) = run_joiner(fx.child.id());
        std::fs::write(format!("{}/freezer.state", fx.dirs[2]), "THAWED").unwrap();
        assert!(!ok, "{out}");
        assert!(out.contains("freezer:/") && out.contains("frozen"), "{out}");
        std::fs::write(format!("{}/cgroup.freeze", fx.dirs[1]), "1").unwrap();
        let (ok, out) = run_joiner(fx.child.id());
        std::fs::write(format!("{}/cgroup.freeze", fx.dirs[1]), "0").unwrap();
        assert!(!ok, "{out}");
        assert!(out.contains("unified:/") && out.contains("frozen"), "{out}");
    }

    /// A directory shaped like a memory cgroup (files only), as a target.
    fn fake_cg(v2: bool, files: &[(&str, &str)]) -> (CgroupTarget, std::path::PathBuf) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "cdbgt-memcg-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&d).unwrap();
        for (f, v) in files {
            std::fs::write(d.join(f), v).unwrap();
        }
        std::fs::write(d.join("cgroup.procs"), "").unwrap();
        let dir = rustix::fs::open(&d, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let procs =
            rustix::fs::openat(&dir, "cgroup.procs", OFlags::WRONLY, Mode::empty()).unwrap();
        let label = if v2 { "unified" } else { "memory" };
        let t = CgroupTarget {
            name: format!("{label}:/docker/x"),
            host_path: d.display().to_string(),
            v2,
            dir,
            procs,
        };
        (t, d)
    }

    #[test]
    fn memory_limit_precheck() {
        const MIB: u64 = 1 << 20;
        let m = |n: u64| (n * MIB).to_string();
        // v1 at the limit: refused, naming the cgroup and the way out.
        let (t, d) = fake_cg(
            false,
            &[
                ("memory.limit_in_bytes", &m(64)),
                ("memory.usage_in_bytes", &m(63)),
                ("memory.stat", "cache 0\ntotal_inactive_file 0\n"),
                (
                    "memory.oom_control",
                    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
                ),
            ],
        );
        let e = precheck(&t).unwrap_err();
        assert!(
            e.contains("memory:/docker/x") && e.contains("memory limit") && e.contains("--rescue"),
            "{e}"
        );
        assert!(e.contains("63.0 MiB in use of 64.0 MiB"), "{e}");
        // ... unless the usage is mostly page cache, which the kernel
        // reclaims first (active or not); v1 counts the hierarchical total_*.
        std::fs::write(
            d.join("memory.stat"),
            format!("active_file {}\ntotal_active_file {}\n", m(50), m(2)),
        )
        .unwrap();
        assert!(precheck(&t).is_err());
        std::fs::write(
            d.join("memory.stat"),
            format!("total_active_file {}\ntotal_inactive_file {}\n", m(2), m(2)),
        )
        .unwrap();
        assert_eq!(precheck(&t), Ok(()));
        // Under OOM with the killer disabled: a newcomer would wait forever.
        std::fs::write(
            d.join("memory.oom_control"),
            "oom_kill_disable 1\nunder_oom 1\n",
        )
        .unwrap();
        assert!(precheck(&t).unwrap_err().contains("under_oom"));
        // No limit (v1's huge number): nothing to check.
        std::fs::write(d.join("memory.limit_in_bytes"), "9223372036854771712").unwrap();
        std::fs::write(d.join("memory.oom_control"), "under_oom 0\n").unwrap();
        assert_eq!(precheck(&t), Ok(()));
        assert_eq!(memory_state(&t), None);
        std::fs::remove_dir_all(&d).unwrap();

        // v2: memory.max / memory.current / inactive_file.
        let (t, d) = fake_cg(
            true,
            &[
                ("memory.max", &m(32)),
                ("memory.current", &m(30)),
                ("memory.stat", "anon 1\ninactive_file 0\n"),
            ],
        );
        assert!(precheck(&t).unwrap_err().contains("unified:/docker/x"));
        std::fs::write(d.join("memory.stat"), format!("active_file {}\n", m(8))).unwrap();
        assert_eq!(precheck(&t), Ok(()));
        std::fs::write(d.join("memory.current"), m(16)).unwrap();
        assert_eq!(precheck(&t), Ok(()));
        std::fs::write(d.join("memory.max"), "max\n").unwrap();
        std::fs::write(d.join("memory.current"), m(31)).unwrap();
        assert_eq!(precheck(&t), Ok(()));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn removed_cgroup_is_named() {
        let Some(fx) = fixture("gone") else { return };
        let info = ProcInfo::read(fx.child.id() as i32).unwrap();
        let (targets, errs) = open_targets(&info);
        assert!(errs.is_empty(), "{errs:?}");
        // Empty the pids cgroup and remove it while we hold it open.
        std::fs::write(
            "/sys/fs/cgroup/pids/cgroup.procs",
            fx.child.id().to_string(),
        )
        .unwrap();
        std::fs::remove_dir(&fx.dirs[0]).unwrap();
        let pids_only: Vec<CgroupTarget> = targets
            .into_iter()
            .filter(|t| t.name.starts_with("pids:"))
            .collect();
        let e = join(&pids_only).unwrap_err();
        assert!(
            e.contains("pids:/cdbgt-confine-gone") && e.contains("removed"),
            "{e}"
        );
        // And opening it now says it is gone.
        let (_, errs) = open_targets(&ProcInfo {
            cgroups: vec![(
                "pids".into(),
                format!("/{}", fx.dirs[0].rsplit('/').next().unwrap()),
            )],
            ..Default::default()
        });
        assert!(errs[0].contains("is gone"), "{errs:?}");
    }
}
