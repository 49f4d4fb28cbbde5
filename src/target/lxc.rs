//! LXC: `<lxcpath>/<name>/config`; the running state comes from the
//! cgroup (`lxc.payload.<name>`), LXC keeps no pid file.

use super::{Container, Record, Runtime, Want};
use std::path::{Path, PathBuf};

/// Parses an LXC `config` into a record named `name`.
pub(crate) fn parse_config(name: &str, s: &str) -> Record {
    let mut r = Record::new(Container {
        id: name.to_string(),
        name: Some(name.to_string()),
        ..Container::blank(Runtime::Lxc)
    });
    let (mut uid, mut gid) = (None, None);
    for l in s.lines() {
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        let v = v.trim().to_string();
        match k.trim() {
            "lxc.rootfs.path" | "lxc.rootfs" => {
                // "dir:/var/lib/lxc/x/rootfs" or a bare path
                let p = v.split_once(':').map(|x| x.1.to_string()).unwrap_or(v);
                r.c.image = Some(p);
            }
            "lxc.init.cmd" | "lxc.init_cmd" => r.c.command = Some(v),
            "lxc.init.cwd" => r.c.workdir = Some(v),
            "lxc.init.uid" => uid = Some(v),
            "lxc.init.gid" => gid = Some(v),
            _ => {}
        }
    }
    if let Some(u) = uid {
        r.c.user = Some(format!("{u}:{}", gid.unwrap_or_else(|| "0".into())));
    }
    r.cgroup_hints.push(format!("/lxc.payload.{name}"));
    r.cgroup_hints.push(format!("/lxc/{name}"));
    r
}

/// LXC container directories: /var/lib/lxc plus `lxc.lxcpath` of
/// /etc/lxc/lxc.conf.
pub(crate) fn paths() -> Vec<PathBuf> {
    let mut v = vec![PathBuf::from("/var/lib/lxc")];
    if let Ok(s) = std::fs::read_to_string("/etc/lxc/lxc.conf") {
        for l in s.lines() {
            if let Some((k, p)) = l.split_once('=') {
                if k.trim() == "lxc.lxcpath" {
                    v.push(PathBuf::from(p.trim()));
                }
            }
        }
    }
    v.dedup();
    v
}

/// Scans one lxcpath.
pub(crate) fn scan(root: &Path, want: Want, out: &mut Vec<Record>) {
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !want.id(&name) {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(e.path().join("config")) {
            let mut r = parse_config(&name, &s);
            r.source = Some(e.path().display().to_string());
            out.push(r);
        }
    }
}
