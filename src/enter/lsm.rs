//! Linux security modules: read the target's AppArmor profile or SELinux
//! label on the host, and ask the kernel to put the command under the same
//! one at its execve (the "exec" attribute, like runc does).
//!
//! Untested live on the development machines (no LSM enabled there): the
//! parsers are unit-tested, the write path is tested only for its failure
//! handling.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags};
use serde::{Deserialize, Serialize};

/// A confinement label of the target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LsmLabel {
    /// AppArmor profile name, e.g. `docker-default` (mode suffix removed).
    AppArmor(String),
    /// SELinux context, e.g. `system_u:system_r:container_t:s0:c1,c2`.
    SELinux(String),
}

impl std::fmt::Display for LsmLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LsmLabel::AppArmor(p) => write!(f, "AppArmor profile {p}"),
            LsmLabel::SELinux(l) => write!(f, "SELinux label {l}"),
        }
    }
}

fn clean(text: &str) -> &str {
    text.trim_end_matches(['\0', '\n']).trim()
}

/// Parse AppArmor's `current` attribute: `PROFILE (MODE)` or `unconfined`.
/// Unconfined yields `None` (nothing to apply).
pub fn parse_apparmor(text: &str) -> Option<String> {
    let t = clean(text);
    let profile = match t.rsplit_once(" (") {
        Some((p, mode)) if mode.ends_with(')') => p,
        _ => t,
    };
    (!profile.is_empty() && profile != "unconfined").then(|| profile.to_string())
}

/// Classify the generic `attr/current` text when the LSM is not known:
/// an SELinux context has `user:role:type[:level]`; AppArmor shows
/// `PROFILE (MODE)` or `unconfined`.
pub fn parse_generic(text: &str) -> Option<LsmLabel> {
    let t = clean(text);
    if t.is_empty() {
        return None;
    }
    if t.ends_with(')') && t.contains(" (") || t == "unconfined" {
        return parse_apparmor(t).map(LsmLabel::AppArmor);
    }
    if t.split(':').count() >= 3 && !t.contains(char::is_whitespace) {
        // "kernel" and "unconfined_t" labels are still labels: apply them.
        return Some(LsmLabel::SELinux(t.to_string()));
    }
    None
}

fn read_small(dir: BorrowedFd<'_>, name: &str) -> Option<String> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut s = String::new();
    std::fs::File::from(fd)
        .take(4096)
        .read_to_string(&mut s)
        .ok()?;
    Some(s)
}

/// Read the label of the process whose /proc/PID directory is `pid_dir`.
/// Errors (no LSM: EINVAL) mean "no label".
pub fn read_label(pid_dir: &OwnedFd) -> Option<LsmLabel> {
    let d = pid_dir.as_fd();
    if let Some(t) = read_small(d, "attr/apparmor/current") {
        if !clean(&t).is_empty() {
            return parse_apparmor(&t).map(LsmLabel::AppArmor);
        }
    }
    let t = read_small(d, "attr/current")?;
    parse_generic(&t)
}

/// The bytes to write to the exec attribute file, and the files to try.
pub fn exec_request(label: &LsmLabel) -> (Vec<u8>, &'static [&'static str]) {
    match label {
        LsmLabel::AppArmor(p) => (
            format!("exec {p}").into_bytes(),
            &["thread-self/attr/apparmor/exec", "thread-self/attr/exec"],
        ),
        LsmLabel::SELinux(l) => (l.as_bytes().to_vec(), &["thread-self/attr/exec"]),
    }
}

/// Make the next execve of this thread run under `label`.
/// `procfs` is a dir fd of a procfs mount (e.g. a private one the leader
/// mounted); without it "/proc" is used. The opened file must be on procfs,
/// so a fake /proc in the container cannot swallow the request
/// (CVE-2019-16884 class).
pub fn apply_exec_label(label: &LsmLabel, procfs: Option<BorrowedFd<'_>>) -> Result<(), String> {
    let (data, files) = exec_request(label);
    let mut last = String::new();
    for f in files {
        let opened = match procfs {
            Some(d) => rustix::fs::openat(d, *f, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty()),
            None => rustix::fs::open(
                format!("/proc/{f}"),
                OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::empty(),
            ),
        };
        let fd = match opened {
            Ok(fd) => fd,
            Err(e) => {
                last = format!("open {f}: {e}");
                continue;
            }
        };
        match rustix::fs::fstatfs(&fd) {
            Ok(s) if s.f_type == rustix::fs::PROC_SUPER_MAGIC => {}
            _ => return Err(format!("cannot set {label}: {f} is not on procfs")),
        }
        return std::fs::File::from(fd)
            .write_all(&data)
            .map_err(|e| format!("cannot set {label}: write {f}: {e}"));
    }
    Err(format!("cannot set {label}: {last}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apparmor_forms() {
        assert_eq!(
            parse_apparmor("docker-default (enforce)\n").as_deref(),
            Some("docker-default")
        );
        assert_eq!(
            parse_apparmor("/usr/sbin/ntpd (complain)").as_deref(),
            Some("/usr/sbin/ntpd")
        );
        assert_eq!(parse_apparmor("unconfined\n"), None);
        assert_eq!(parse_apparmor(""), None);
        assert_eq!(
            parse_apparmor("cri-containerd.apparmor.d (enforce)").as_deref(),
            Some("cri-containerd.apparmor.d")
        );
    }

    #[test]
    fn generic_forms() {
        assert_eq!(
            parse_generic("system_u:system_r:container_t:s0:c171,c812\0"),
            Some(LsmLabel::SELinux(
                "system_u:system_r:container_t:s0:c171,c812".into()
            ))
        );
        assert_eq!(
            parse_generic("docker-default (enforce)\n"),
            Some(LsmLabel::AppArmor("docker-default".into()))
        );
        assert_eq!(parse_generic("unconfined"), None);
        assert_eq!(parse_generic(""), None);
        assert_eq!(parse_generic("_"), None); // Smack: unsupported
    }

    #[test]
    fn exec_requests() {
        let (d, f) = exec_request(&LsmLabel::AppArmor("docker-default".into()));
        assert_eq!(d, b"exec docker-default");
        assert_eq!(f[0], "thread-self/attr/apparmor/exec");
        let (d, f) = exec_request(&LsmLabel::SELinux("a:b:c:s0".into()));
        assert_eq!(d, b"a:b:c:s0");
        assert_eq!(f, &["thread-self/attr/exec"]);
    }

    #[test]
    fn apply_refuses_non_procfs() {
        // A directory shaped like procfs but on tmpfs/another fs is refused.
        let dir = std::env::temp_dir().join(format!("cdbgt-confine-lsm-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("thread-self/attr/apparmor")).unwrap();
        std::fs::write(dir.join("thread-self/attr/apparmor/exec"), "").unwrap();
        let d = std::fs::File::open(&dir).unwrap();
        let e = apply_exec_label(&LsmLabel::AppArmor("p".into()), Some(d.as_fd())).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.contains("not on procfs"), "{e}");
    }

    #[test]
    fn no_label_without_an_lsm() {
        // Without AppArmor/SELinux the attr files fail (EINVAL): no label,
        // so nothing is requested for the command's execve.
        let active = std::fs::read_to_string("/sys/kernel/security/lsm").unwrap_or_default();
        if active.contains("apparmor") || active.contains("selinux") {
            eprintln!("skip: an LSM is active here");
            return;
        }
        let d = rustix::fs::open(
            "/proc/self",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        assert_eq!(read_label(&d), None);
    }

    #[test]
    fn apply_without_lsm_is_one_clear_error() {
        // These machines run without AppArmor/SELinux: the kernel rejects the
        // request and the error names the label.
        let active = std::fs::read_to_string("/sys/kernel/security/lsm").unwrap_or_default();
        if active.contains("apparmor") {
            eprintln!("skip: AppArmor active here");
            return;
        }
        let e = apply_exec_label(&LsmLabel::AppArmor("cdbgt-none".into()), None).unwrap_err();
        assert!(
            e.starts_with("cannot set AppArmor profile cdbgt-none"),
            "{e}"
        );
    }
}
