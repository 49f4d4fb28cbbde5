//! Cgroup paths: parsing `/proc/PID/cgroup`, recognising the layouts every
//! runtime uses, the freezer state, and reading a cgroup's processes.

use super::Runtime;
use std::path::{Path, PathBuf};

/// Root of the cgroup file systems.
pub(crate) const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One line of `/proc/PID/cgroup`: `ID:CONTROLLERS:PATH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// Hierarchy ID (0 for cgroup v2).
    pub id: &'a str,
    /// Comma-separated controllers (`name=systemd`, `cpu,cpuacct`, empty for v2).
    pub controllers: &'a str,
    /// The cgroup path, always starting with `/`.
    pub path: &'a str,
}

/// Splits `/proc/PID/cgroup` into lines.
pub(crate) fn lines(s: &str) -> impl Iterator<Item = Line<'_>> + Clone {
    s.lines().filter_map(|l| {
        let mut it = l.splitn(3, ':');
        let id = it.next()?;
        let controllers = it.next()?;
        let path = it.next()?;
        Some(Line {
            id,
            controllers,
            path,
        })
    })
}

/// Which line of a cgroup file describes the container best: the
/// name=systemd line (every runtime and nspawn use it on hybrid hosts),
/// then the v2 line, then any other. Returns the first line whose path a
/// runtime pattern recognises, else the v2 (or first) line's path.
pub(crate) fn main_path(s: &str) -> Option<&str> {
    let mut fallback = None;
    let mut v2 = None;
    for l in lines(s) {
        if classify(l.path).is_some() {
            return Some(l.path);
        }
        if l.id == "0" && l.controllers.is_empty() {
            v2 = Some(l.path);
        } else if fallback.is_none() && l.path != "/" {
            fallback = Some(l.path);
        }
    }
    v2.filter(|p| *p != "/").or(fallback).or(v2)
}

/// A container recognised from its cgroup path alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Runtime the layout belongs to.
    pub runtime: Runtime,
    /// Container ID (hex) or name (LXC, nspawn, cdbg demo).
    pub key: String,
    /// The cgroup path of the container itself (a prefix of the input
    /// when the process sits in a sub-cgroup).
    pub cgroup: String,
}

fn is_hex_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Recognises the cgroup layouts of the runtimes that encode the
/// container in the path:
///
/// | layout | runtime |
/// |---|---|
/// | `…/docker-<64hex>.scope`, `/docker/<64hex>` | Docker |
/// | `…/libpod-<64hex>(.scope)`, `…/libpod_parent/libpod-<id>` | Podman |
/// | `…/crio-<64hex>(.scope)` | CRI-O |
/// | `…/cri-containerd-<64hex>.scope` | Kubernetes (containerd CRI, systemd driver) |
/// | `/lxc.payload.<name>`, `/lxc.payload/<name>`, `/lxc/<name>` | LXC |
/// | `…/machine-<escaped>.scope/payload` | systemd-nspawn |
/// | `/cdbg-demo/<name>` | cdbg demo |
///
/// The outermost matching component wins, so a container that creates
/// its own sub-cgroups (systemd inside) still maps to itself. Conmon
/// scopes (`libpod-conmon-…`, `crio-conmon-…`) and the LXC monitor never
/// match. Paths like containerd's `/<ns>/<id>` or kubepods' `…/pod<uid>/<id>`
/// carry no runtime marker; they are matched against runtime state instead.
pub(crate) fn classify(path: &str) -> Option<Hit> {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let upto = |i: usize| -> String {
        let mut s = String::new();
        for c in &comps[..=i] {
            s.push('/');
            s.push_str(c);
        }
        s
    };
    for (i, c) in comps.iter().enumerate() {
        let hit = |runtime, key: &str| {
            Some(Hit {
                runtime,
                key: key.to_string(),
                cgroup: upto(i),
            })
        };
        if i == 0 && *c == "cdbg-demo" {
            if let Some(name) = comps.get(1) {
                return Some(Hit {
                    runtime: Runtime::Cdbg,
                    key: name.to_string(),
                    cgroup: upto(1),
                });
            }
            return None;
        }
        if let Some(id) = c
            .strip_prefix("docker-")
            .and_then(|r| r.strip_suffix(".scope"))
        {
            if is_hex_id(id) {
                return hit(Runtime::Docker, id);
            }
        }
        if *c == "docker" {
            if let Some(id) = comps.get(i + 1).filter(|id| is_hex_id(id)) {
                return Some(Hit {
                    runtime: Runtime::Docker,
                    key: id.to_string(),
                    cgroup: upto(i + 1),
                });
            }
        }
        if let Some(r) = c.strip_prefix("libpod-") {
            let id = r.strip_suffix(".scope").unwrap_or(r);
            if is_hex_id(id) {
                return hit(Runtime::Podman, id);
            }
        }
        if let Some(r) = c.strip_prefix("crio-") {
            let id = r.strip_suffix(".scope").unwrap_or(r);
            if is_hex_id(id) {
                return hit(Runtime::CriO, id);
            }
        }
        if let Some(id) = c
            .strip_prefix("cri-containerd-")
            .and_then(|r| r.strip_suffix(".scope"))
        {
            if is_hex_id(id) {
                return hit(Runtime::Kubernetes, id);
            }
        }
        if let Some(name) = c.strip_prefix("lxc.payload.") {
            if !name.is_empty() {
                return hit(Runtime::Lxc, name);
            }
        }
        if (*c == "lxc.payload" || (i == 0 && *c == "lxc")) && i + 1 < comps.len() {
            return Some(Hit {
                runtime: Runtime::Lxc,
                key: comps[i + 1].to_string(),
                cgroup: upto(i + 1),
            });
        }
        if let Some(esc) = c
            .strip_prefix("machine-")
            .and_then(|r| r.strip_suffix(".scope"))
        {
            // nspawn moves the payload into `payload`; the supervisor
            // stays in the scope itself and is not the container.
            if comps.get(i + 1) == Some(&"payload") {
                return Some(Hit {
                    runtime: Runtime::Nspawn,
                    key: unescape_systemd(esc),
                    cgroup: upto(i + 1),
                });
            }
            if i + 1 == comps.len() {
                return None;
            }
        }
        // nspawn --keep-unit (no machined) makes `payload` and
        // `supervisor` below its own cgroup: the machine's name is only
        // on the supervisor's command line, found later from the parent.
        if *c == "payload" && i + 1 == comps.len() {
            return Some(Hit {
                runtime: Runtime::Nspawn,
                key: format!("{NSPAWN_PAYLOAD}{}", upto(i)),
                cgroup: upto(i),
            });
        }
    }
    None
}

/// Key prefix of an nspawn payload cgroup whose machine is not yet known.
pub(crate) const NSPAWN_PAYLOAD: &str = "payload:";

/// Undoes systemd unit-name escaping (`\x2d` → `-`).
pub(crate) fn unescape_systemd(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            if let Ok(v) = u8::from_str_radix(&s[i + 2..i + 4], 16) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Converts an OCI `linux.cgroupsPath` to a cgroup path. The systemd
/// form `SLICE:PREFIX:NAME` becomes `/<slice hierarchy>/PREFIX-NAME.scope`
/// (`kubepods-besteffort-pod1.slice` expands to
/// `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice`).
pub(crate) fn normalize_oci_path(p: &str) -> String {
    if p.starts_with('/') || !p.contains(':') {
        let mut s = String::from("/");
        s.push_str(p.trim_start_matches('/'));
        return s;
    }
    let mut it = p.splitn(3, ':');
    let slice = it.next().unwrap_or("");
    let prefix = it.next().unwrap_or("");
    let name = it.next().unwrap_or("");
    let mut s = expand_slice(if slice.is_empty() {
        "system.slice"
    } else {
        slice
    });
    s.push('/');
    if name.ends_with(".slice") {
        s.push_str(name);
    } else if prefix.is_empty() {
        s.push_str(name);
        s.push_str(".scope");
    } else {
        s.push_str(prefix);
        s.push('-');
        s.push_str(name);
        s.push_str(".scope");
    }
    s
}

/// `a-b-c.slice` → `/a.slice/a-b.slice/a-b-c.slice` (`-.slice` is the root).
pub(crate) fn expand_slice(slice: &str) -> String {
    let base = slice.strip_suffix(".slice").unwrap_or(slice);
    if base.is_empty() || base == "-" {
        return String::new();
    }
    let mut out = String::new();
    let mut acc = String::new();
    for part in base.split('-') {
        if !acc.is_empty() {
            acc.push('-');
        }
        acc.push_str(part);
        out.push('/');
        out.push_str(&acc);
        out.push_str(".slice");
    }
    out
}

/// Where the cgroup v2 hierarchy is mounted: `/sys/fs/cgroup` on a pure
/// v2 host, `/sys/fs/cgroup/unified` on a hybrid one.
pub(crate) fn v2_root() -> Option<PathBuf> {
    static ROOT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    ROOT.get_or_init(find_v2_root).clone()
}

fn find_v2_root() -> Option<PathBuf> {
    let root = Path::new(CGROUP_ROOT);
    if root.join("cgroup.controllers").exists() {
        return Some(root.to_path_buf());
    }
    let u = root.join("unified");
    u.join("cgroup.procs").exists().then_some(u)
}

/// Freezer state of the container cgroup `path`: v1 `freezer.state`
/// FROZEN/FREEZING where the v1 freezer hierarchy has that cgroup (runtimes
/// use the same path in every hierarchy), else v2 `cgroup.events`
/// `frozen 1`.
pub(crate) fn is_frozen_path(path: &str) -> bool {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() {
        return false;
    }
    let v1 = Path::new(CGROUP_ROOT).join("freezer").join(rel);
    if let Ok(s) = std::fs::read_to_string(v1.join("freezer.state")) {
        let s = s.trim();
        return s == "FROZEN" || s == "FREEZING";
    }
    if let Some(root) = v2_root() {
        if let Ok(s) = std::fs::read_to_string(root.join(rel).join("cgroup.events")) {
            return s.lines().any(|l| l.trim() == "frozen 1");
        }
    }
    false
}

/// Turns a `--cgroup` argument into a cgroup path: either already a path
/// (`/docker/<id>`) or a directory under /sys/fs/cgroup (the controller
/// part is removed on hybrid/v1 hosts).
pub(crate) fn arg_to_path(arg: &str) -> String {
    let p = arg.trim_end_matches('/');
    if let Some(rest) = p.strip_prefix(CGROUP_ROOT) {
        let pure_v2 = Path::new(CGROUP_ROOT).join("cgroup.controllers").exists();
        let rest = rest.trim_start_matches('/');
        let rel = if pure_v2 {
            rest
        } else {
            rest.split_once('/').map(|x| x.1).unwrap_or("")
        };
        return format!("/{rel}");
    }
    if p.is_empty() {
        return "/".into();
    }
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

/// Every directory that holds cgroup `path` in some hierarchy (v2 first,
/// then name=systemd, then v1 controllers).
pub(crate) fn dirs_of(path: &str) -> Vec<PathBuf> {
    let rel = path.trim_start_matches('/');
    let mut out = Vec::new();
    if let Some(v2) = v2_root() {
        out.push(v2.join(rel));
    }
    for c in ["systemd", "pids", "memory", "cpu", "freezer", "devices"] {
        out.push(Path::new(CGROUP_ROOT).join(c).join(rel));
    }
    out.retain(|d| d.is_dir());
    out
}

/// PIDs in cgroup `path` and its descendants (first hierarchy that has
/// the directory and any process wins).
pub(crate) fn procs_of(path: &str) -> Vec<i32> {
    for dir in dirs_of(path) {
        let mut out = Vec::new();
        collect_procs(&dir, &mut out, 0);
        if !out.is_empty() {
            out.sort_unstable();
            out.dedup();
            return out;
        }
    }
    Vec::new()
}

fn collect_procs(dir: &Path, out: &mut Vec<i32>, depth: u32) {
    if let Ok(s) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(s.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    if depth >= 4 {
        return;
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                collect_procs(&e.path(), out, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

    fn hit(p: &str) -> Option<(Runtime, String, String)> {
        classify(p).map(|h| (h.runtime, h.key, h.cgroup))
    }

    #[test]
    fn docker_layouts() {
        let p = format!("/docker/{ID}");
        assert_eq!(hit(&p), Some((Runtime::Docker, ID.into(), p.clone())));
        let s = format!("/system.slice/docker-{ID}.scope");
        assert_eq!(hit(&s), Some((Runtime::Docker, ID.into(), s.clone())));
        // systemd inside the container makes sub-cgroups.
        let n = format!("/system.slice/docker-{ID}.scope/init.scope");
        assert_eq!(hit(&n), Some((Runtime::Docker, ID.into(), s)));
        // --cgroup-parent: no marker, matched against state later.
        assert_eq!(hit(&format!("/myparent/{ID}")), None);
        assert_eq!(hit("/docker"), None);
    }

    #[test]
    fn podman_crio_k8s_layouts() {
        let p = format!("/libpod_parent/libpod-{ID}");
        assert_eq!(hit(&p).unwrap().0, Runtime::Podman);
        let p = format!("/machine.slice/libpod-{ID}.scope/container");
        assert_eq!(
            hit(&p),
            Some((
                Runtime::Podman,
                ID.into(),
                format!("/machine.slice/libpod-{ID}.scope")
            ))
        );
        assert_eq!(
            hit(&format!("/machine.slice/libpod-conmon-{ID}.scope")),
            None
        );
        let c = format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a_b.slice/crio-{ID}.scope");
        assert_eq!(hit(&c).unwrap().0, Runtime::CriO);
        assert_eq!(
            hit(&format!("/kubepods/besteffort/pod0a/crio-conmon-{ID}")),
            None
        );
        let k = format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a_b.slice/cri-containerd-{ID}.scope");
        assert_eq!(hit(&k).unwrap().0, Runtime::Kubernetes);
        assert_eq!(hit(&format!("/kubepods/besteffort/pod0a-b/{ID}")), None);
        assert_eq!(hit(&format!("/default/{ID}")), None);
    }

    #[test]
    fn lxc_nspawn_demo_layouts() {
        assert_eq!(
            hit("/lxc.payload.web"),
            Some((Runtime::Lxc, "web".into(), "/lxc.payload.web".into()))
        );
        assert_eq!(
            hit("/lxc.payload.web/init.scope").unwrap().2,
            "/lxc.payload.web"
        );
        assert_eq!(hit("/lxc.monitor.web"), None);
        assert_eq!(hit("/lxc/old").unwrap().1, "old");
        assert_eq!(hit("/lxc.payload/new").unwrap().1, "new");
        assert_eq!(
            hit("/machine.slice/machine-my\\x2dbox.scope/payload"),
            Some((
                Runtime::Nspawn,
                "my-box".into(),
                "/machine.slice/machine-my\\x2dbox.scope/payload".into()
            ))
        );
        assert_eq!(hit("/machine.slice/machine-box.scope/supervisor"), None);
        assert_eq!(hit("/machine.slice/machine-box.scope"), None);
        // nspawn --keep-unit --register=no (sample from a live machine)
        assert_eq!(
            hit("/payload"),
            Some((
                Runtime::Nspawn,
                "payload:/payload".into(),
                "/payload".into()
            ))
        );
        assert_eq!(hit("/supervisor"), None);
        assert_eq!(
            hit("/cdbg-demo/web"),
            Some((Runtime::Cdbg, "web".into(), "/cdbg-demo/web".into()))
        );
        assert_eq!(hit("/cdbg-demo"), None);
        assert_eq!(hit("/"), None);
        assert_eq!(hit("/user.slice/user-1000.slice/session-1.scope"), None);
    }

    #[test]
    fn oci_paths() {
        assert_eq!(normalize_oci_path("/default/web"), "/default/web");
        assert_eq!(normalize_oci_path("default/web"), "/default/web");
        assert_eq!(
            normalize_oci_path("kubepods-besteffort-pod12_ab.slice:cri-containerd:abc"),
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12_ab.slice/cri-containerd-abc.scope"
        );
        assert_eq!(
            normalize_oci_path("system.slice:docker:abc"),
            "/system.slice/docker-abc.scope"
        );
        assert_eq!(
            normalize_oci_path(":crio:abc"),
            "/system.slice/crio-abc.scope"
        );
        assert_eq!(expand_slice("-.slice"), "");
    }

    #[test]
    fn file_lines() {
        let f =
            "12:freezer:/docker/x\n1:name=systemd:/docker/x\n0::/system.slice/containerd.service\n";
        assert_eq!(lines(f).count(), 3);
        assert_eq!(lines(f).next().unwrap().controllers, "freezer");
        assert_eq!(main_path(f), Some("/system.slice/containerd.service"));
        assert_eq!(main_path("0::/\n"), Some("/"));
        let d = format!("1:name=systemd:/\n0::/system.slice/docker-{ID}.scope\n");
        assert_eq!(
            main_path(&d),
            Some(&*format!("/system.slice/docker-{ID}.scope"))
        );
    }

    #[test]
    fn cgroup_args() {
        assert_eq!(arg_to_path("/docker/abc/"), "/docker/abc");
        assert_eq!(arg_to_path("lxc.payload.x"), "/lxc.payload.x");
        let pure = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let want = if pure {
            "/memory/docker/abc"
        } else {
            "/docker/abc"
        };
        assert_eq!(arg_to_path("/sys/fs/cgroup/memory/docker/abc"), want);
    }
}
