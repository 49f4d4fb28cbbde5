//! OCI runtime bundles (`config.json`): containerd task directories,
//! Kubernetes CRI annotations (containerd and CRI-O).

use super::{cgroup, Container, Record, Runtime, Want};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

/// The parts of an OCI `config.json` discovery uses.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub(crate) struct Spec {
    pub process: Process,
    pub annotations: HashMap<String, String>,
    pub linux: Linux,
    pub hostname: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub(crate) struct Process {
    pub args: Vec<String>,
    pub cwd: String,
    pub user: User,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub(crate) struct User {
    pub uid: u32,
    pub gid: u32,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub(crate) struct Linux {
    #[serde(rename = "cgroupsPath")]
    pub cgroups_path: String,
}

impl Spec {
    /// Parses `config.json` bytes.
    pub fn parse(b: &[u8]) -> Option<Spec> {
        serde_json::from_slice(b).ok()
    }

    /// Fills command, user and workdir of `c` from the process section.
    pub fn fill(&self, c: &mut Container) {
        if !self.process.args.is_empty() {
            c.command = Some(self.process.args.join(" "));
        }
        c.user = Some(format!(
            "{}:{}",
            self.process.user.uid, self.process.user.gid
        ));
        if !self.process.cwd.is_empty() {
            c.workdir = Some(self.process.cwd.clone());
        }
    }

    /// The normalized cgroup path, if the spec sets one.
    pub fn cgroup(&self) -> Option<String> {
        (!self.linux.cgroups_path.is_empty())
            .then(|| cgroup::normalize_oci_path(&self.linux.cgroups_path))
    }

    fn ann(&self, k: &str) -> Option<String> {
        self.annotations.get(k).filter(|v| !v.is_empty()).cloned()
    }
}

/// Kubernetes identity from CRI annotations (containerd's
/// `io.kubernetes.cri.*`, CRI-O's `io.kubernetes.cri-o.*` and the
/// kubelet's `io.kubernetes.*` labels).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Cri {
    /// True for the pod sandbox (pause) container.
    pub sandbox: bool,
    pub container: Option<String>,
    pub pod: Option<String>,
    pub namespace: Option<String>,
    pub sandbox_id: Option<String>,
    pub image: Option<String>,
    /// True for CRI-O's annotation set.
    pub crio: bool,
}

/// Reads the CRI annotations of a spec; None for non-Kubernetes bundles.
pub(crate) fn cri(spec: &Spec) -> Option<Cri> {
    if let Some(t) = spec.ann("io.kubernetes.cri.container-type") {
        return Some(Cri {
            sandbox: t == "sandbox",
            container: spec.ann("io.kubernetes.cri.container-name"),
            pod: spec.ann("io.kubernetes.cri.sandbox-name"),
            namespace: spec.ann("io.kubernetes.cri.sandbox-namespace"),
            sandbox_id: spec.ann("io.kubernetes.cri.sandbox-id"),
            image: spec.ann("io.kubernetes.cri.image-name"),
            crio: false,
        });
    }
    if let Some(t) = spec.ann("io.kubernetes.cri-o.ContainerType") {
        return Some(Cri {
            sandbox: t == "sandbox",
            container: spec
                .ann("io.kubernetes.container.name")
                .or_else(|| spec.ann("io.kubernetes.cri-o.ContainerName")),
            pod: spec.ann("io.kubernetes.pod.name"),
            namespace: spec.ann("io.kubernetes.pod.namespace"),
            sandbox_id: spec.ann("io.kubernetes.cri-o.SandboxID"),
            image: spec
                .ann("io.kubernetes.cri-o.ImageName")
                .or_else(|| spec.ann("io.kubernetes.cri-o.Image")),
            crio: true,
        });
    }
    None
}

/// Applies CRI identity to a record (runtime, names, sandbox flag).
pub(crate) fn apply_cri(r: &mut Record, k: Cri) {
    r.c.runtime = if k.crio {
        Runtime::CriO
    } else {
        Runtime::Kubernetes
    };
    r.c.sandbox = k.sandbox;
    r.c.name = if k.sandbox {
        k.pod.clone()
    } else {
        k.container
    };
    r.c.pod = k.pod;
    r.c.namespace = k.namespace;
    if k.image.is_some() {
        r.c.image = k.image;
    }
    r.sandbox_id = if k.sandbox {
        Some(r.c.id.clone())
    } else {
        k.sandbox_id
    };
}

/// Parses one containerd task directory's `config.json` and `init.pid`.
pub(crate) fn containerd_task(ns: &str, id: &str, config: &[u8], init_pid: Option<&str>) -> Record {
    let mut r = Record::new(Container {
        namespace: Some(ns.to_string()),
        ..Container::blank(Runtime::Containerd)
    });
    r.c.id = id.to_string();
    if let Some(spec) = Spec::parse(config) {
        spec.fill(&mut r.c);
        if let Some(p) = spec.cgroup() {
            r.cgroup_hints.push(p);
        }
        if let Some(k) = cri(&spec) {
            apply_cri(&mut r, k);
        }
    }
    r.rec_pid = init_pid
        .and_then(|s| s.trim().parse().ok())
        .filter(|p| *p > 0);
    // A task directory exists only while the task does.
    r.claims_running = true;
    r.id_in_cgroup = true;
    r
}

/// Scans `<root>/<ns>/<id>/` task directories (containerd's v2 shim
/// layout). `skip_ns` lists namespaces another scanner owns (Docker's
/// `moby`).
pub(crate) fn scan_tasks(root: &Path, skip_ns: &[&str], want: Want, out: &mut Vec<Record>) {
    let Ok(nss) = std::fs::read_dir(root) else {
        return;
    };
    for ns in nss.flatten() {
        let ns_name = ns.file_name().to_string_lossy().into_owned();
        if skip_ns.contains(&ns_name.as_str()) {
            continue;
        }
        let Ok(ids) = std::fs::read_dir(ns.path()) else {
            continue;
        };
        for t in ids.flatten() {
            if !want.id(&t.file_name().to_string_lossy()) {
                continue;
            }
            let dir = t.path();
            let Ok(cfg) = std::fs::read(dir.join("config.json")) else {
                continue;
            };
            let pid = std::fs::read_to_string(dir.join("init.pid")).ok();
            let id = t.file_name().to_string_lossy().into_owned();
            let mut r = containerd_task(&ns_name, &id, &cfg, pid.as_deref());
            r.source = Some(dir.display().to_string());
            out.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crio_synthetic() {
        let b = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/samples/crio/config.json"
        ))
        .unwrap();
        let s = Spec::parse(&b).unwrap();
        let k = cri(&s).unwrap();
        assert!(k.crio && !k.sandbox);
        assert_eq!(k.container.as_deref(), Some("app"));
        assert_eq!(k.pod.as_deref(), Some("web-7d9f"));
        assert_eq!(k.namespace.as_deref(), Some("prod"));
        assert_eq!(k.image.as_deref(), Some("docker.io/library/nginx:1.25"));
        assert_eq!(
            s.cgroup().unwrap(),
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3f2a_11.slice/crio-9b1e6ad3c2f04f7e8d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706.scope"
        );
    }
}
