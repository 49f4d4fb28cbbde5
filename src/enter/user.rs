//! Users and groups from the CONTAINER's /etc/passwd and /etc/group, never
//! through glibc NSS. Both files are opened with openat2(RESOLVE_IN_ROOT |
//! RESOLVE_NO_MAGICLINKS) relative to a dir fd of the container's root, so a
//! symlink (absolute, `..`-laden, or through /proc/*/root) cannot lead to a
//! host file, even when the root fd is the host's /proc/PID/root.

use std::io::Read;
use std::os::fd::BorrowedFd;

use rustix::fs::{Mode, OFlags, ResolveFlags};
use serde::{Deserialize, Serialize};

/// Resolved credentials for the command.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creds {
    /// uid (container view).
    pub uid: u32,
    /// Primary gid.
    pub gid: u32,
    /// Supplementary groups to set (setgroups).
    pub groups: Vec<u32>,
    /// Login name, when /etc/passwd has an entry.
    pub name: Option<String>,
    /// Home directory ("/" without an entry, like docker exec).
    pub home: String,
    /// Login shell, when the entry names one.
    pub shell: Option<String>,
}

impl Creds {
    /// HOME, USER, LOGNAME and SHELL for the command's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut v = vec![("HOME".to_string(), self.home.clone())];
        if let Some(n) = &self.name {
            v.push(("USER".into(), n.clone()));
            v.push(("LOGNAME".into(), n.clone()));
        }
        if let Some(s) = &self.shell {
            v.push(("SHELL".into(), s.clone()));
        }
        v
    }
}

/// One /etc/passwd entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Name.
    pub name: String,
    /// uid.
    pub uid: u32,
    /// gid.
    pub gid: u32,
    /// Home directory.
    pub home: String,
    /// Shell.
    pub shell: String,
}

/// One /etc/group entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupEntry {
    /// Name.
    pub name: String,
    /// gid.
    pub gid: u32,
    /// Member names.
    pub members: Vec<String>,
}

/// The colon-separated fields of each entry of an /etc/passwd-style file
/// that has at least `min_fields` fields and a name; comments, blank lines
/// and NIS `+`/`-` lines are skipped.
fn records(text: &str, min_fields: usize) -> impl Iterator<Item = Vec<&str>> {
    text.lines().filter_map(move |l| {
        let l = l.trim_end_matches('\r');
        if l.is_empty() || l.starts_with('#') || l.starts_with('+') || l.starts_with('-') {
            return None;
        }
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= min_fields && !f[0].is_empty()).then_some(f)
    })
}

/// Parse /etc/passwd. Comments, blank lines, NIS `+`/`-` lines and lines
/// with bad numbers are skipped (as libc does), not fatal.
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    records(text, 4)
        .filter_map(|f| {
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].trim().parse().ok()?,
                gid: f[3].trim().parse().ok()?,
                home: f.get(5).copied().unwrap_or("").to_string(),
                shell: f.get(6).copied().unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// Parse /etc/group, with the same leniency as [`parse_passwd`].
pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    records(text, 3)
        .filter_map(|f| {
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].trim().parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Largest /etc/passwd or /etc/group we read (a hostile container could
/// offer a huge file).
const MAX_DB: u64 = 16 << 20;

/// Read `etc/<name>` of the container. `Ok(None)` when it does not exist.
/// Refuses anything that is not a regular file (FIFO, device) and any
/// path that leaves the root (RESOLVE_IN_ROOT confines `..` and absolute
/// symlinks to it; RESOLVE_NO_MAGICLINKS refuses /proc/*/root and friends).
pub fn read_container_file(root: BorrowedFd<'_>, path: &str) -> Result<Option<String>, String> {
    let fd = match rustix::fs::openat2(
        root,
        path,
        // NONBLOCK: opening a FIFO must not hang us.
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(e) => return Err(format!("cannot open /{path} in the container: {e}")),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| format!("stat /{path}: {e}"))?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(format!("/{path} in the container is not a regular file"));
    }
    let mut buf = Vec::new();
    std::fs::File::from(fd)
        .take(MAX_DB)
        .read_to_end(&mut buf)
        .map_err(|e| format!("read /{path} in the container: {e}"))?;
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Resolve `-u/--user` (`NAME|UID[:GROUP|GID]`) against the container's
/// files, like `docker exec`:
/// - no spec: `default_uid`/`default_gid` and `default_groups` (the target's
///   own; when `None`, computed from /etc/group as for a spec);
/// - a name must exist in /etc/passwd; a numeric uid without an entry works
///   (gid 0, home "/"), as in docker;
/// - with an explicit group, only that group is set; otherwise the primary
///   gid plus every /etc/group entry listing the user's name;
/// - a file that cannot be read safely (symlink leaving the root, magic
///   link, not a regular file) is an error only when a name must be looked
///   up in it; otherwise it counts as absent.
pub fn resolve_user(
    root: BorrowedFd<'_>,
    spec: Option<&str>,
    default_uid: u32,
    default_gid: u32,
    default_groups: Option<&[u32]>,
) -> Result<Creds, String> {
    // An unreadable file (a symlink out of the root, a FIFO...) counts as
    // absent when only numeric ids are involved, and is the error when a
    // name has to be looked up in it.
    let is_name = |s: &str| !s.is_empty() && s.parse::<u32>().is_err();
    let (user_part, group_part) = match spec.and_then(|s| s.split_once(':')) {
        Some((u, g)) => (u, g),
        None => (spec.unwrap_or(""), ""),
    };
    let passwd = match read_container_file(root, "etc/passwd") {
        Ok(t) => parse_passwd(&t.unwrap_or_default()),
        Err(e) if is_name(user_part) => return Err(e),
        Err(_) => Vec::new(),
    };
    let group_text = || -> Result<Vec<GroupEntry>, String> {
        match read_container_file(root, "etc/group") {
            Ok(t) => Ok(parse_group(&t.unwrap_or_default())),
            Err(e) if is_name(group_part) => Err(e),
            Err(_) => Ok(Vec::new()),
        }
    };
    resolve_with(
        &passwd,
        group_text,
        spec,
        default_uid,
        default_gid,
        default_groups,
    )
}

/// [`resolve_user`] on already-parsed files (unit-testable).
pub fn resolve_with(
    passwd: &[PasswdEntry],
    groups: impl FnOnce() -> Result<Vec<GroupEntry>, String>,
    spec: Option<&str>,
    default_uid: u32,
    default_gid: u32,
    default_groups: Option<&[u32]>,
) -> Result<Creds, String> {
    let (user_part, group_part) = match spec.map(str::trim) {
        None | Some("") => (None, None),
        Some(s) => match s.split_once(':') {
            Some((u, g)) => (Some(u), Some(g)),
            None => (Some(s), None),
        },
    };
    if user_part == Some("") {
        return Err(format!(
            "invalid user {:?}: empty user name",
            spec.unwrap_or("")
        ));
    }
    // As runc: a numeric user is always a uid, anything else a name.
    let (uid, entry) = match user_part {
        None => (default_uid, passwd.iter().find(|e| e.uid == default_uid)),
        Some(u) => match u.parse::<u32>() {
            Ok(uid) => (uid, passwd.iter().find(|e| e.uid == uid)),
            Err(_) => {
                let e = passwd.iter().find(|e| e.name == u).ok_or_else(|| {
                    format!("unable to find user {u}: no matching entries in the container's /etc/passwd")
                })?;
                (e.uid, Some(e))
            }
        },
    };
    let mut creds = Creds {
        uid,
        gid: match (user_part, entry) {
            (None, _) => default_gid,
            (Some(_), Some(e)) => e.gid,
            (Some(_), None) => 0,
        },
        groups: Vec::new(),
        name: entry.map(|e| e.name.clone()),
        home: entry
            .map(|e| e.home.clone())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "/".into()),
        shell: entry.map(|e| e.shell.clone()).filter(|s| !s.is_empty()),
    };
    match group_part {
        Some("") => {
            return Err(format!(
                "invalid user {:?}: empty group",
                spec.unwrap_or("")
            ))
        }
        Some(g) => {
            creds.gid = match g.parse::<u32>() {
                Ok(gid) => gid,
                Err(_) => {
                    groups()?
                        .iter()
                        .find(|e| e.name == g)
                        .ok_or_else(|| format!("unable to find group {g}: no matching entries in the container's /etc/group"))?
                        .gid
                }
            };
            creds.groups = vec![creds.gid];
        }
        None => match (user_part, default_groups) {
            (None, Some(dg)) => creds.groups = dg.to_vec(),
            _ => {
                creds.groups.push(creds.gid);
                if let Some(name) = &creds.name {
                    for g in groups()? {
                        if g.members.iter().any(|m| m == name) && !creds.groups.contains(&g.gid) {
                            creds.groups.push(g.gid);
                        }
                    }
                }
            }
        },
    }
    Ok(creds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    const PASSWD: &str = "# comment\n\
root:x:0:0:root:/root:/bin/sh\n\
\n\
daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n\
app:x:1000:1000:App,,,:/home/app:/bin/bash\r\n\
badnum:x:12a:1:::\n\
+nisuser::::::\n\
short:x:5\n\
nohome:x:1001:1001::\n\
2000:x:3000:3000::/num:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nwheel:x:10:root, app\ntty:x:5:\napp:x:1000:app\nstaff:x:50:nohome,app\nbad:x:zz:app\n";

    fn resolve(spec: Option<&str>) -> Result<Creds, String> {
        resolve_with(
            &parse_passwd(PASSWD),
            || Ok(parse_group(GROUP)),
            spec,
            0,
            0,
            None,
        )
    }

    #[test]
    fn passwd_parsing_odd_entries() {
        let p = parse_passwd(PASSWD);
        let names: Vec<&str> = p.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["root", "daemon", "app", "nohome", "2000"]);
        assert_eq!(p[2].shell, "/bin/bash");
        assert_eq!(p[3].home, "");
        let g = parse_group(GROUP);
        assert_eq!(g[1].members, ["root", "app"]);
        assert_eq!(g.len(), 5);
    }

    #[test]
    fn by_name_and_uid() {
        let c = resolve(Some("app")).unwrap();
        assert_eq!((c.uid, c.gid), (1000, 1000));
        assert_eq!(c.groups, vec![1000, 10, 50]);
        assert_eq!(c.home, "/home/app");
        assert_eq!(c.shell.as_deref(), Some("/bin/bash"));
        assert_eq!(resolve(Some("1000")).unwrap(), c);
        let env = c.env();
        assert!(env.contains(&("USER".into(), "app".into())));
        assert!(env.contains(&("LOGNAME".into(), "app".into())));
        assert!(env.contains(&("SHELL".into(), "/bin/bash".into())));
    }

    #[test]
    fn numeric_without_entry_like_docker() {
        let c = resolve(Some("4242")).unwrap();
        assert_eq!((c.uid, c.gid, c.groups.clone()), (4242, 0, vec![0]));
        assert_eq!(c.home, "/");
        assert_eq!(c.name, None);
        assert_eq!(c.env(), vec![("HOME".to_string(), "/".to_string())]);
        let c = resolve(Some("4242:77")).unwrap();
        assert_eq!((c.uid, c.gid, c.groups), (4242, 77, vec![77]));
    }

    #[test]
    fn numeric_is_always_a_uid() {
        // "2000" is a name whose uid is 3000: "2000" still means uid 2000.
        let c = resolve(Some("2000")).unwrap();
        assert_eq!((c.uid, c.name), (2000, None));
        let c = resolve(Some("3000")).unwrap();
        assert_eq!((c.uid, c.name.as_deref()), (3000, Some("2000")));
    }

    #[test]
    fn groups_by_name_and_errors() {
        let c = resolve(Some("app:tty")).unwrap();
        assert_eq!((c.uid, c.gid, c.groups), (1000, 5, vec![5]));
        let c = resolve(Some("nohome")).unwrap();
        assert_eq!(c.home, "/");
        assert_eq!(c.shell, None);
        assert_eq!(c.groups, vec![1001, 50]);
        let e = resolve(Some("nobody")).unwrap_err();
        assert_eq!(
            e,
            "unable to find user nobody: no matching entries in the container's /etc/passwd"
        );
        assert!(!e.contains('\n'));
        let e = resolve(Some("app:nogroup")).unwrap_err();
        assert!(e.contains("unable to find group nogroup"), "{e}");
        assert!(resolve(Some(":5")).is_err());
        assert!(resolve(Some("app:")).is_err());
    }

    #[test]
    fn defaults_are_the_targets() {
        let c = resolve_with(
            &parse_passwd(PASSWD),
            || Ok(parse_group(GROUP)),
            None,
            1000,
            1000,
            Some(&[1000, 4]),
        )
        .unwrap();
        assert_eq!(
            (c.uid, c.gid, c.groups.clone()),
            (1000, 1000, vec![1000, 4])
        );
        assert_eq!(c.name.as_deref(), Some("app"));
        let c = resolve_with(&[], || Ok(vec![]), None, 7, 8, None).unwrap();
        assert_eq!(
            (c.uid, c.gid, c.groups, c.home),
            (7, 8, vec![8], "/".to_string())
        );
    }

    fn scratch_root(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("cdbgt-confine-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("etc")).unwrap();
        d
    }

    #[test]
    fn reads_inside_the_root() {
        let d = scratch_root("ok");
        std::fs::write(d.join("etc/passwd"), "web:x:33:33::/var/www:/bin/sh\n").unwrap();
        std::fs::write(d.join("etc/group"), "www:x:33:\nextra:x:99:web\n").unwrap();
        let root = std::fs::File::open(&d).unwrap();
        let c = resolve_user(root.as_fd(), Some("web"), 0, 0, None).unwrap();
        assert_eq!((c.uid, c.groups.clone()), (33, vec![33, 99]));
        // Missing files: numeric works, names fail clearly.
        std::fs::remove_file(d.join("etc/passwd")).unwrap();
        assert_eq!(
            resolve_user(root.as_fd(), Some("5"), 0, 0, None)
                .unwrap()
                .uid,
            5
        );
        assert!(resolve_user(root.as_fd(), Some("web"), 0, 0, None).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// The CVE-class test: /etc/passwd in the container is a symlink to a
    /// host file. With a host-made secret as the "host" file, nothing of it
    /// may be read, whichever way the link points.
    #[test]
    fn symlinks_never_reach_host_files() {
        let secret_dir = scratch_root("host");
        let secret = secret_dir.join("secret");
        std::fs::write(&secret, "hostuser:x:4444:4444::/hostonly:/bin/sh\n").unwrap();
        let d = scratch_root("evil");
        let root = std::fs::File::open(&d).unwrap();
        let links = [
            secret.to_str().unwrap().to_string(), // absolute host path
            format!("../../../../../..{}", secret.to_str().unwrap()), // climbing out
            format!("/proc/{}/root{}", std::process::id(), secret.display()), // magic link
            "/proc/1/root/etc/shadow".to_string(),
            "/proc/self/root/etc/shadow".to_string(),
            "/etc/shadow".to_string(),
        ];
        for l in &links {
            let _ = std::fs::remove_file(d.join("etc/passwd"));
            std::os::unix::fs::symlink(l, d.join("etc/passwd")).unwrap();
            match resolve_user(root.as_fd(), Some("hostuser"), 0, 0, None) {
                Err(e) => assert!(!e.contains("4444") && !e.contains('\n'), "{l}: {e}"),
                Ok(c) => panic!("{l}: read a host file: {c:?}"),
            }
            // A numeric user must not pick up anything either.
            if let Ok(c) = resolve_user(root.as_fd(), Some("4444"), 0, 0, None) {
                assert_eq!(c.name, None, "{l}");
                assert_eq!(c.home, "/", "{l}");
            }
        }
        std::fs::remove_dir_all(&d).unwrap();
        std::fs::remove_dir_all(&secret_dir).unwrap();
    }

    /// As the host side would do it: the root fd is /proc/PID/root of a
    /// process chrooted into the rootfs, in its own mount namespace with a
    /// procfs of the HOST pid namespace mounted at its /proc. The
    /// container's /etc/passwd links to /proc/<a host pid>/root/<host file>:
    /// without RESOLVE_NO_MAGICLINKS that would read the host's file.
    #[test]
    fn proc_pid_root_with_magic_link_to_host() {
        let host = scratch_root("procroot-host");
        let secret = host.join("passwd");
        std::fs::write(&secret, "hostuser:x:4444:4444::/hostonly:/bin/sh\n").unwrap();
        let d = scratch_root("procroot");
        std::fs::create_dir_all(d.join("proc")).unwrap();
        std::fs::create_dir_all(d.join("bin")).unwrap();
        std::fs::copy("/bin/busybox", d.join("bin/busybox")).unwrap();
        let link = format!("/proc/{}/root{}", std::process::id(), secret.display());
        std::os::unix::fs::symlink(&link, d.join("etc/passwd")).unwrap();
        let mut child = std::process::Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(r#"mount -t proc proc "$0/proc" && exec chroot "$0" /bin/busybox sleep 30"#)
            .arg(&d)
            .spawn()
            .unwrap();
        let pid = child.id();
        let root_path = format!("/proc/{pid}/root");
        let t = std::time::Instant::now();
        // Wait until the chroot happened and proc is mounted inside.
        while std::fs::read_link(&root_path)
            .map(|p| p != d)
            .unwrap_or(true)
            || !std::path::Path::new(&format!("{root_path}/proc/1")).exists()
        {
            assert!(t.elapsed().as_secs() < 10, "fixture did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // Sanity: following the link naively reaches the host's file.
        let naive = std::fs::read_to_string(format!("{root_path}/etc/passwd"));
        let root = std::fs::File::open(&root_path).unwrap();
        let r = resolve_user(root.as_fd(), Some("hostuser"), 0, 0, None);
        let r2 = resolve_user(root.as_fd(), Some("4444"), 0, 0, None);
        child.kill().unwrap();
        child.wait().unwrap();
        std::fs::remove_dir_all(&d).unwrap();
        std::fs::remove_dir_all(&host).unwrap();
        assert!(naive.unwrap().contains("hostuser"), "fixture broken");
        let e = r.unwrap_err();
        assert!(e.contains("/etc/passwd") && !e.contains('\n'), "{e}");
        // A numeric user works, with nothing taken from the host file.
        let c = r2.unwrap();
        assert_eq!((c.uid, c.gid, c.name, c.home), (4444, 0, None, "/".into()));
    }

    #[test]
    fn refuses_fifo_and_devices() {
        let d = scratch_root("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            d.join("etc/passwd"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let root = std::fs::File::open(&d).unwrap();
        let e = resolve_user(root.as_fd(), Some("x"), 0, 0, None).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        std::fs::remove_file(d.join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", d.join("etc/passwd")).unwrap();
        // /dev/zero inside the root does not exist: treated as absent.
        assert_eq!(
            resolve_user(root.as_fd(), Some("7"), 0, 0, None)
                .unwrap()
                .uid,
            7
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
