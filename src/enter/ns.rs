//! Namespaces: which ones to join, and joining them.
//!
//! `setns(pidfd, mask)` joins every namespace at once and in the right order
//! (the user namespace first); kernels before 5.8 fall back to one
//! `/proc/PID/ns/*` descriptor per namespace, opened while the host's /proc
//! is still reachable.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use rustix::thread::{LinkNameSpaceType, ThreadNameSpaceType};

/// Every namespace cdbg knows, in the order the fallback path joins them
/// (user first so that the others are joined with its capabilities; mnt
/// last, since after it the host's /proc is gone).
pub const ALL: &[&str] = &["user", "cgroup", "ipc", "uts", "net", "pid", "time", "mnt"];

fn flag(name: &str) -> Option<ThreadNameSpaceType> {
    Some(match name {
        "user" => ThreadNameSpaceType::USER,
        "mnt" => ThreadNameSpaceType::MOUNT,
        "pid" => ThreadNameSpaceType::PROCESS_ID,
        "net" => ThreadNameSpaceType::NETWORK,
        "ipc" => ThreadNameSpaceType::INTER_PROCESS_COMMUNICATION,
        "uts" => ThreadNameSpaceType::HOST_NAME_AND_NIS_DOMAIN_NAME,
        "cgroup" => ThreadNameSpaceType::CONTROL_GROUP,
        "time" => ThreadNameSpaceType::TIME,
        _ => return None,
    })
}

fn link_type(name: &str) -> Option<LinkNameSpaceType> {
    Some(match name {
        "user" => LinkNameSpaceType::User,
        "mnt" => LinkNameSpaceType::Mount,
        "pid" => LinkNameSpaceType::ProcessID,
        "net" => LinkNameSpaceType::Network,
        "ipc" => LinkNameSpaceType::InterProcessCommunication,
        "uts" => LinkNameSpaceType::HostNameAndNISDomainName,
        "cgroup" => LinkNameSpaceType::ControlGroup,
        "time" => LinkNameSpaceType::Time,
        _ => return None,
    })
}

/// Parses an nsenter-style list (`mnt,pid,net`; `mount` and `ns` suffixes
/// are accepted too) into canonical names in join order.
pub fn parse_list(list: &str) -> Result<Vec<&'static str>, String> {
    let mut want = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let canon = match item {
            "mount" | "mnt" => "mnt",
            "network" | "net" => "net",
            "uts" => "uts",
            "ipc" => "ipc",
            "pid" => "pid",
            "user" => "user",
            "cgroup" => "cgroup",
            "time" => "time",
            "all" => {
                want.extend(ALL.iter().copied());
                continue;
            }
            other => {
                return Err(format!(
                    "unknown namespace {other:?} (use mnt,pid,net,ipc,uts,cgroup,user,time)"
                ))
            }
        };
        want.push(canon);
    }
    Ok(ALL.iter().copied().filter(|n| want.contains(n)).collect())
}

fn ino(path: &str) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// The namespaces of `pid` that differ from cdbg's own (the default set).
pub fn differing(pid: i32) -> Vec<&'static str> {
    ALL.iter()
        .copied()
        .filter(|n| {
            match (
                ino(&format!("/proc/{pid}/ns/{n}")),
                ino(&format!("/proc/self/ns/{n}")),
            ) {
                (Some(a), Some(b)) => a != b,
                _ => false,
            }
        })
        .collect()
}

/// What the enter stage holds to join the target's namespaces.
pub enum Handle {
    /// A pidfd: one atomic `setns` for every namespace.
    Pidfd(OwnedFd),
    /// Kernels without pidfd setns: one descriptor per namespace.
    Files(Vec<(&'static str, File)>),
}

/// Opens what is needed to join `names` of `pid`. Must run while the host's
/// /proc is reachable; `pidfd` is the target's pidfd when the kernel has one.
pub fn open(pid: i32, pidfd: Option<OwnedFd>, names: &[&'static str]) -> io::Result<Handle> {
    if let Some(fd) = pidfd {
        return Ok(Handle::Pidfd(fd));
    }
    let mut files = Vec::new();
    for &n in names {
        files.push((n, File::open(format!("/proc/{pid}/ns/{n}"))?));
    }
    Ok(Handle::Files(files))
}

/// Joins `names`. Called in the single-threaded enter stage.
pub fn join(handle: &Handle, names: &[&'static str]) -> io::Result<()> {
    match handle {
        Handle::Pidfd(fd) => {
            let mut mask = ThreadNameSpaceType::empty();
            for n in names {
                mask |= flag(n).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
            }
            if mask.is_empty() {
                return Ok(());
            }
            match rustix::thread::move_into_thread_name_spaces(fd.as_fd(), mask) {
                Ok(()) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        Handle::Files(files) => {
            for (n, f) in files {
                rustix::thread::move_into_link_name_space(f.as_fd(), link_type(n))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_orders_and_canonicalises() {
        assert_eq!(
            parse_list("net,mount,pid").unwrap(),
            vec!["net", "pid", "mnt"]
        );
        assert_eq!(parse_list("all").unwrap(), ALL.to_vec());
        assert!(parse_list("bogus").is_err());
    }

    #[test]
    fn self_differs_in_nothing() {
        assert!(differing(std::process::id() as i32).is_empty());
    }
}
