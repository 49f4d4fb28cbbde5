//! runc (`<root>/<id>/state.json`) and crun (`<root>/<id>/status`) used on
//! their own, without a higher-level runtime.

use super::{cgroup, Container, Record, Runtime, Want};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize, Default)]
#[serde(default)]
struct RuncState {
    id: String,
    init_process_pid: i32,
    init_process_start: serde_json::Value,
    config: RuncConfig,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RuncConfig {
    cgroups: RuncCgroups,
    labels: Vec<String>,
    rootfs: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RuncCgroups {
    path: String,
    name: String,
    parent: String,
    #[serde(rename = "Systemd")]
    systemd: bool,
    #[serde(rename = "ScopePrefix")]
    scope_prefix: String,
}

/// runc/crun IDs are names chosen by the user, unless they are the hex
/// IDs a higher-level runtime generated.
fn name_of(id: &str) -> Option<String> {
    let hex = id.len() == 64 && id.bytes().all(|c| c.is_ascii_hexdigit());
    (!hex).then(|| id.to_string())
}

fn num(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Parses runc's `state.json`.
pub(crate) fn parse_state(b: &[u8]) -> Option<Record> {
    let s: RuncState = serde_json::from_slice(b).ok()?;
    if s.id.is_empty() {
        return None;
    }
    let mut r = Record::new(Container {
        id: s.id.clone(),
        name: name_of(&s.id),
        image: (!s.config.rootfs.is_empty()).then(|| s.config.rootfs.clone()),
        ..Container::blank(Runtime::Runc)
    });
    r.rec_pid = (s.init_process_pid > 0).then_some(s.init_process_pid);
    r.rec_start = num(&s.init_process_start);
    r.claims_running = r.rec_pid.is_some();
    // Without a cgroups path runc uses /<id>.
    r.id_in_cgroup = true;
    let cg = &s.config.cgroups;
    if !cg.path.is_empty() {
        r.cgroup_hints.push(cgroup::normalize_oci_path(&cg.path));
    } else if cg.systemd && !cg.name.is_empty() {
        let prefix = if cg.scope_prefix.is_empty() {
            "runc"
        } else {
            &cg.scope_prefix
        };
        r.cgroup_hints.push(cgroup::normalize_oci_path(&format!(
            "{}:{}:{}",
            cg.parent, prefix, cg.name
        )));
    } else if !cg.name.is_empty() {
        r.cgroup_hints
            .push(format!("/{}/{}", cg.parent.trim_matches('/'), cg.name).replace("//", "/"));
    }
    if let Some(b) = s
        .config
        .labels
        .iter()
        .find_map(|l| l.strip_prefix("bundle="))
    {
        r.spec_path = Some(Path::new(b).join("config.json"));
    }
    Some(r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CrunStatus {
    pid: i32,
    #[serde(rename = "process-start-time")]
    start: serde_json::Value,
    #[serde(rename = "cgroup-path")]
    cgroup_path: String,
    bundle: String,
    rootfs: String,
}

/// Parses crun's `status` file (`id` is its directory name).
pub(crate) fn parse_crun_status(id: &str, b: &[u8]) -> Option<Record> {
    let s: CrunStatus = serde_json::from_slice(b).ok()?;
    let mut r = Record::new(Container {
        id: id.to_string(),
        name: name_of(id),
        image: (!s.rootfs.is_empty()).then(|| s.rootfs.clone()),
        ..Container::blank(Runtime::Crun)
    });
    r.rec_pid = (s.pid > 0).then_some(s.pid);
    r.rec_start = num(&s.start);
    r.claims_running = r.rec_pid.is_some();
    r.id_in_cgroup = true;
    if !s.cgroup_path.is_empty() {
        r.cgroup_hints
            .push(cgroup::normalize_oci_path(&s.cgroup_path));
    }
    if !s.bundle.is_empty() {
        r.spec_path = Some(Path::new(&s.bundle).join("config.json"));
    }
    Some(r)
}

/// State roots of runc and crun used directly (not through Docker or
/// containerd, whose state those scanners read).
pub(crate) fn roots() -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut runc = vec![PathBuf::from("/run/runc")];
    let mut crun = vec![PathBuf::from("/run/crun")];
    if let Ok(rd) = std::fs::read_dir("/run/user") {
        for e in rd.flatten() {
            runc.push(e.path().join("runc"));
            crun.push(e.path().join("crun"));
        }
    }
    (runc, crun)
}

/// Scans one runc root.
pub(crate) fn scan_runc(root: &Path, want: Want, out: &mut Vec<Record>) {
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    for e in rd.flatten() {
        if !want.id(&e.file_name().to_string_lossy()) {
            continue;
        }
        if let Ok(b) = std::fs::read(e.path().join("state.json")) {
            if let Some(mut r) = parse_state(&b) {
                r.source = Some(e.path().display().to_string());
                out.push(r);
            }
        }
    }
}

/// Scans one crun root.
pub(crate) fn scan_crun(root: &Path, want: Want, out: &mut Vec<Record>) {
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    for e in rd.flatten() {
        let id = e.file_name().to_string_lossy().into_owned();
        if !want.id(&id) {
            continue;
        }
        if let Ok(b) = std::fs::read(e.path().join("status")) {
            if let Some(mut r) = parse_crun_status(&id, &b) {
                r.source = Some(e.path().display().to_string());
                out.push(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crun_synthetic() {
        let b = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/samples/crun/status"
        ))
        .unwrap();
        let r = parse_crun_status("web", &b).unwrap();
        assert_eq!(r.c.runtime, Runtime::Crun);
        assert_eq!(r.rec_pid, Some(41235));
        assert_eq!(r.rec_start, Some(1234567));
        assert_eq!(r.cgroup_hints, vec!["/system.slice/crun-web.scope"]);
        assert_eq!(
            r.spec_path.as_deref(),
            Some(Path::new("/srv/bundles/web/config.json"))
        );
    }
}
