//! What the host knows about a target process, read from /proc BEFORE
//! entering any namespace (afterwards /proc belongs to the container).
//!
//! Parsed by hand rather than with the `procfs` crate: we need a handful of
//! raw lines (Cap*, NoNewPrivs, Seccomp, Seccomp_filters) read through one
//! `/proc/PID` directory fd (so a PID reused mid-read fails instead of mixing
//! two processes), and the parsers must be testable on captured samples.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

use rustix::fs::{Mode, OFlags};
use serde::{Deserialize, Serialize};

use super::lsm::LsmLabel;

/// Host-side snapshot of a target process.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcInfo {
    /// PID in the host's PID namespace.
    pub pid: i32,
    /// Start time in clock ticks since boot (field 22 of /proc/PID/stat),
    /// to detect PID reuse.
    pub start_time: u64,
    /// Ids, capabilities, no_new_privs and seccomp mode as the host sees
    /// them (ids through the host's view; see [`ProcInfo::container_uid`]).
    #[serde(flatten)]
    pub status: Status,
    /// The target's environment.
    #[serde(with = "os_vec")]
    pub environ: Vec<OsString>,
    /// (controllers, path) per line of /proc/PID/cgroup: controllers is
    /// "cpu,cpuacct", "name=systemd" or "" for cgroup v2.
    pub cgroups: Vec<(String, String)>,
    /// AppArmor profile or SELinux label, when an LSM confines the target.
    pub lsm: Option<LsmLabel>,
    /// /proc/PID/uid_map as read from the host.
    pub uid_map: String,
    /// /proc/PID/gid_map as read from the host.
    pub gid_map: String,
    /// Whether the target is in a user namespace other than ours.
    pub in_user_ns: bool,
}

mod os_vec {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::ffi::OsString;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};

    pub fn serialize<S: Serializer>(v: &[OsString], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<&[u8]> = v.iter().map(|o| o.as_bytes()).collect();
        bytes.serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OsString>, D::Error> {
        let v: Vec<Vec<u8>> = Vec::deserialize(d)?;
        Ok(v.into_iter().map(OsString::from_vec).collect())
    }
}

/// Fields of /proc/PID/status that confinement needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Real uid.
    pub uid: u32,
    /// Real gid.
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// CapInh.
    pub cap_inh: u64,
    /// CapPrm.
    pub cap_prm: u64,
    /// CapEff.
    pub cap_eff: u64,
    /// CapBnd.
    pub cap_bnd: u64,
    /// CapAmb.
    pub cap_amb: u64,
    /// NoNewPrivs.
    pub no_new_privs: bool,
    /// Seccomp.
    pub seccomp_mode: u32,
    /// Seccomp_filters.
    pub seccomp_filters: Option<u32>,
}

/// Parse the text of /proc/PID/status. Missing Cap/Uid lines are an error;
/// NoNewPrivs, Seccomp and Seccomp_filters are optional (old kernels).
pub fn parse_status(text: &str) -> Result<Status, String> {
    let mut st = Status::default();
    let mut seen = 0u32;
    for line in text.lines() {
        let Some((key, val)) = line.split_once(':') else {
            continue;
        };
        let val = val.trim();
        let hex = |v: &str| {
            u64::from_str_radix(v, 16).map_err(|_| format!("bad {key} line in status: {line:?}"))
        };
        let first_id = |v: &str| {
            v.split_whitespace()
                .next()
                .and_then(|x| x.parse::<u32>().ok())
                .ok_or_else(|| format!("bad {key} line in status: {line:?}"))
        };
        match key {
            "Uid" => {
                st.uid = first_id(val)?;
                seen |= 1;
            }
            "Gid" => {
                st.gid = first_id(val)?;
                seen |= 2;
            }
            "Groups" => {
                st.groups = val
                    .split_whitespace()
                    .map(|g| g.parse::<u32>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("bad Groups line in status: {line:?}"))?;
            }
            "CapInh" => {
                st.cap_inh = hex(val)?;
                seen |= 4;
            }
            "CapPrm" => {
                st.cap_prm = hex(val)?;
                seen |= 8;
            }
            "CapEff" => {
                st.cap_eff = hex(val)?;
                seen |= 16;
            }
            "CapBnd" => {
                st.cap_bnd = hex(val)?;
                seen |= 32;
            }
            "CapAmb" => st.cap_amb = hex(val)?,
            "NoNewPrivs" => st.no_new_privs = val == "1",
            "Seccomp" => {
                st.seccomp_mode = val
                    .parse()
                    .map_err(|_| format!("bad Seccomp line in status: {line:?}"))?
            }
            "Seccomp_filters" => st.seccomp_filters = val.parse().ok(),
            _ => {}
        }
    }
    if seen != 63 {
        return Err("status lacks Uid/Gid/Cap lines".into());
    }
    Ok(st)
}

/// Field 22 (starttime) of /proc/PID/stat; the comm field may hold spaces
/// and parentheses, so fields are counted after the last ')'.
pub fn parse_stat_start_time(text: &str) -> Result<u64, String> {
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or("stat has no comm field")?;
    // After ')' come fields 3.. ; starttime is field 22 → index 19.
    rest.split_whitespace()
        .nth(19)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| "stat lacks a start time".to_string())
}

/// Parse /proc/PID/cgroup: `ID:CONTROLLERS:PATH` per line.
pub fn parse_cgroup(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            let ctrl = it.next()?;
            let path = it.next()?;
            Some((ctrl.to_string(), path.to_string()))
        })
        .collect()
}

/// Map an id through a uid_map/gid_map text as read from the host:
/// "INSIDE OUTSIDE COUNT" lines; `outside` (host view) → inside.
pub fn map_to_inside(map: &str, outside: u32) -> Option<u32> {
    for l in map.lines() {
        let f: Vec<u64> = l
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if let [inside, out, count] = f[..] {
            let o = outside as u64;
            if o >= out && o < out + count {
                return u32::try_from(inside + (o - out)).ok();
            }
        }
    }
    None
}

fn read_at(dir: &OwnedFd, name: &str, limit: u64) -> io::Result<Vec<u8>> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )?;
    let mut v = Vec::new();
    std::fs::File::from(fd).take(limit).read_to_end(&mut v)?;
    Ok(v)
}

impl ProcInfo {
    /// Read everything about `pid` from the host's /proc.
    pub fn read(pid: i32) -> io::Result<Self> {
        Self::read_from(rustix::fs::CWD, "/proc", pid)
    }

    /// Read from a given procfs (dir fd + path), e.g. a private procfs.
    pub fn read_from(proc_dir: impl AsFd, proc_path: &str, pid: i32) -> io::Result<Self> {
        let ctx =
            |what: &str, e: io::Error| io::Error::new(e.kind(), format!("pid {pid}: {what}: {e}"));
        let dir = rustix::fs::openat(
            proc_dir.as_fd(),
            format!("{proc_path}/{pid}"),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ctx("open /proc entry", e.into()))?;
        let text = |name: &str| -> io::Result<String> {
            read_at(&dir, name, 1 << 20)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| ctx(&format!("read /proc/{pid}/{name}"), e))
        };
        let bad = |e: String| ctx("parse", io::Error::new(io::ErrorKind::InvalidData, e));
        let start_time = parse_stat_start_time(&text("stat")?).map_err(bad)?;
        let st = parse_status(&text("status")?).map_err(bad)?;
        let environ = read_at(&dir, "environ", 4 << 20)
            .map_err(|e| ctx("read environ", e))?
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| OsString::from_vec(s.to_vec()))
            .collect();
        let cgroups = parse_cgroup(&text("cgroup")?);
        let lsm = super::lsm::read_label(&dir);
        let uid_map = text("uid_map").unwrap_or_default();
        let gid_map = text("gid_map").unwrap_or_default();
        let in_user_ns = {
            let theirs = rustix::fs::statat(&dir, "ns/user", rustix::fs::AtFlags::empty());
            let ours = rustix::fs::stat("/proc/self/ns/user");
            match (theirs, ours) {
                (Ok(a), Ok(b)) => a.st_ino != b.st_ino || a.st_dev != b.st_dev,
                _ => false,
            }
        };
        // The directory fd pins the process: if it died and the PID was
        // reused, the reads above fail. Re-check the start time anyway.
        let again = parse_stat_start_time(&text("stat")?).map_err(bad)?;
        if again != start_time {
            return Err(ctx(
                "read",
                io::Error::other("process was replaced while reading"),
            ));
        }
        Ok(ProcInfo {
            pid,
            start_time,
            status: st,
            environ,
            cgroups,
            lsm,
            uid_map,
            gid_map,
            in_user_ns,
        })
    }

    /// The target's uid as the container sees it (through uid_map when the
    /// target is in another user namespace).
    pub fn container_uid(&self) -> u32 {
        self.map_uid(self.status.uid)
    }

    /// The target's gid as the container sees it.
    pub fn container_gid(&self) -> u32 {
        self.map_gid(self.status.gid)
    }

    /// The target's supplementary groups as the container sees them
    /// (unmapped ones dropped).
    pub fn container_groups(&self) -> Vec<u32> {
        if !self.in_user_ns {
            return self.status.groups.clone();
        }
        self.status
            .groups
            .iter()
            .filter_map(|g| map_to_inside(&self.gid_map, *g))
            .collect()
    }

    fn map_uid(&self, id: u32) -> u32 {
        if self.in_user_ns {
            map_to_inside(&self.uid_map, id).unwrap_or(65534)
        } else {
            id
        }
    }

    fn map_gid(&self, id: u32) -> u32 {
        if self.in_user_ns {
            map_to_inside(&self.gid_map, id).unwrap_or(65534)
        } else {
            id
        }
    }

    /// The target's environment variable `key`, if set.
    pub fn env(&self, key: &str) -> Option<&std::ffi::OsStr> {
        use std::os::unix::ffi::OsStrExt;
        self.environ.iter().find_map(|kv| {
            let b = kv.as_bytes();
            (b.len() > key.len() && b.starts_with(key.as_bytes()) && b[key.len()] == b'=')
                .then(|| std::ffi::OsStr::from_bytes(&b[key.len() + 1..]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from a `docker run --user 1000 --security-opt no-new-privileges`
    // busybox container (trimmed to the lines that matter plus neighbours).
    const DOCKER_STATUS: &str = "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\n\
Tgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t4220\nTracerPid:\t0\n\
Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nFDSize:\t64\n\
Groups:\t1000 10 \nNStgid:\t4242\t1\nNSpid:\t4242\t1\n\
CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n\
CapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n\
Seccomp:\t2\nSeccomp_filters:\t1\nSpeculation_Store_Bypass:\tthread force mitigated\n";

    #[test]
    fn status_docker_sample() {
        let st = parse_status(DOCKER_STATUS).unwrap();
        assert_eq!(st.uid, 1000);
        assert_eq!(st.gid, 1000);
        assert_eq!(st.groups, vec![1000, 10]);
        assert_eq!(st.cap_bnd, 0xa80425fb);
        assert_eq!(st.cap_eff, 0);
        assert!(st.no_new_privs);
        assert_eq!(st.seccomp_mode, 2);
        assert_eq!(st.seccomp_filters, Some(1));
    }

    #[test]
    fn status_old_kernel_and_errors() {
        let old = "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n\
CapInh:\t0000000000000000\nCapPrm:\t0000003fffffffff\nCapEff:\t0000003fffffffff\n\
CapBnd:\t0000003fffffffff\n";
        let st = parse_status(old).unwrap();
        assert_eq!(st.groups, Vec::<u32>::new());
        assert_eq!(st.cap_prm, 0x3fffffffff);
        assert_eq!(st.cap_amb, 0);
        assert!(!st.no_new_privs);
        assert_eq!(st.seccomp_filters, None);
        assert!(parse_status("Uid:\t0\t0\t0\t0\n").is_err());
        assert!(parse_status(&old.replace("0000003fffffffff", "zz")).is_err());
    }

    #[test]
    fn stat_comm_with_parens_and_spaces() {
        let s = "123 (a) b (c) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_stat_start_time(s).unwrap(), 987654);
        assert!(parse_stat_start_time("1 (x) S 1").is_err());
    }

    #[test]
    fn cgroup_lines_v1_v2_hybrid() {
        let hybrid = "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/docker/abc\n";
        assert_eq!(
            parse_cgroup(hybrid),
            vec![
                ("pids".into(), "/docker/abc".into()),
                ("cpu,cpuacct".into(), "/docker/abc".into()),
                ("name=systemd".into(), "/docker/abc".into()),
                ("".into(), "/docker/abc".into()),
            ]
        );
        let v2 = "0::/system.slice/docker-abc.scope\n";
        assert_eq!(
            parse_cgroup(v2),
            vec![("".into(), "/system.slice/docker-abc.scope".into())]
        );
        // A path holding ':' stays whole.
        assert_eq!(parse_cgroup("0::/a:b\n")[0].1, "/a:b");
    }

    #[test]
    fn id_maps() {
        let m = "         0       1000          1\n         1     100000      65536\n";
        assert_eq!(map_to_inside(m, 1000), Some(0));
        assert_eq!(map_to_inside(m, 100000), Some(1));
        assert_eq!(map_to_inside(m, 100999), Some(1000));
        assert_eq!(map_to_inside(m, 5), None);
        let info = ProcInfo {
            status: Status {
                uid: 100999,
                gid: 1000,
                groups: vec![1000, 7],
                ..Default::default()
            },
            uid_map: m.into(),
            gid_map: m.into(),
            in_user_ns: true,
            ..Default::default()
        };
        assert_eq!(info.container_uid(), 1000);
        assert_eq!(info.container_gid(), 0);
        assert_eq!(info.container_groups(), vec![0]);
    }

    #[test]
    fn read_self_and_child() {
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .env_clear()
            .env("CDBG_PROBE", "x=y")
            .spawn()
            .unwrap();
        // spawn() returns once close-on-exec fds are closed, which is a
        // moment before the kernel sets up the new environment: poll.
        let t = std::time::Instant::now();
        let info = loop {
            let i = ProcInfo::read(child.id() as i32).unwrap();
            if !i.environ.is_empty() || t.elapsed().as_secs() > 2 {
                break i;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            info.env("CDBG_PROBE"),
            Some(std::ffi::OsStr::new("x=y")),
            "{info:?}"
        );
        assert_eq!(info.environ.len(), 1);
        assert!(!info.in_user_ns);
        assert_eq!(info.status.uid, rustix::process::getuid().as_raw());
        assert!(info.start_time > 0);
        assert!(info.cgroups.iter().any(|(c, _)| c.is_empty()));
        let json = serde_json::to_string(&info).unwrap();
        assert_eq!(serde_json::from_str::<ProcInfo>(&json).unwrap(), info);
        // A dead PID is one clear error naming it.
        let e = ProcInfo::read(child.id() as i32).unwrap_err().to_string();
        assert!(e.contains(&format!("pid {}", child.id())), "{e}");
    }

    /// A process in a user namespace (like rootless podman's): the host
    /// sees uid 100000, the container view is root; caps are relative.
    #[test]
    fn read_user_namespaced_process() {
        use std::io::{Read, Write};
        let (mut report_r, report_w) = std::io::pipe().unwrap();
        let (go_r, mut go_w) = std::io::pipe().unwrap();
        let mapper = std::thread::spawn(move || {
            let mut b = [0u8; 4];
            report_r.read_exact(&mut b).unwrap();
            let pid = i32::from_ne_bytes(b);
            for f in ["uid_map", "gid_map"] {
                std::fs::write(format!("/proc/{pid}/{f}"), "0 100000 65536").unwrap();
            }
            go_w.write_all(b"x").unwrap();
        });
        let mut child = crate::sys::confine::spawn_in_new_userns(
            std::process::Command::new("/bin/sleep").arg("30"),
            report_w.into(),
            go_r.into(),
        )
        .unwrap();
        mapper.join().unwrap();
        let info = ProcInfo::read(child.id() as i32);
        child.kill().unwrap();
        child.wait().unwrap();
        let info = info.unwrap();
        assert!(info.in_user_ns);
        assert_eq!((info.status.uid, info.status.gid), (100000, 100000));
        assert_eq!(info.status.groups, vec![100000, 100005]);
        assert_eq!((info.container_uid(), info.container_gid()), (0, 0));
        assert_eq!(info.container_groups(), vec![0, 5]);
        assert_eq!(
            info.uid_map.split_whitespace().collect::<Vec<_>>(),
            ["0", "100000", "65536"]
        );
        // Full capabilities, relative to its own namespace.
        assert_eq!(info.status.cap_eff, info.status.cap_bnd);
        assert_ne!(info.status.cap_eff, 0);
    }
}
