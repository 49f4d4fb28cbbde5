//! Docker: `<data-root>/containers/<id>/config.v2.json` and `hostconfig.json`.

use super::{Container, Record, Runtime, Status, Want};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfigV2 {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Path")]
    path: String,
    #[serde(rename = "Args")]
    args: Vec<String>,
    #[serde(rename = "Config")]
    config: Config,
    #[serde(rename = "State")]
    state: State,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Config {
    #[serde(rename = "Image")]
    image: String,
    #[serde(rename = "User")]
    user: String,
    #[serde(rename = "WorkingDir")]
    working_dir: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct State {
    #[serde(rename = "Running")]
    running: bool,
    #[serde(rename = "Paused")]
    paused: bool,
    #[serde(rename = "Pid")]
    pid: i32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HostConfig {
    #[serde(rename = "CgroupParent")]
    cgroup_parent: String,
}

/// Parses a `config.v2.json` (and optionally its `hostconfig.json`).
pub(crate) fn parse(config: &[u8], hostconfig: Option<&[u8]>) -> Option<Record> {
    let c: ConfigV2 = serde_json::from_slice(config).ok()?;
    if c.id.is_empty() {
        return None;
    }
    let parent = hostconfig
        .and_then(|h| serde_json::from_slice::<HostConfig>(h).ok())
        .map(|h| h.cgroup_parent)
        .filter(|p| !p.is_empty());
    let mut command = c.path.clone();
    for a in &c.args {
        command.push(' ');
        command.push_str(a);
    }
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    let mut r = Record::new(Container {
        runtime: Runtime::Docker,
        id: c.id.clone(),
        name: non_empty(c.name.trim_start_matches('/').to_string()),
        image: non_empty(c.config.image),
        command: non_empty(command),
        user: non_empty(c.config.user),
        workdir: non_empty(c.config.working_dir),
        ..Container::blank(Runtime::Docker)
    });
    r.claims_running = c.state.running;
    if c.state.running && c.state.paused {
        r.claimed_status = Some(Status::Paused);
    }
    r.rec_pid = (c.state.pid > 0).then_some(c.state.pid);
    // With --cgroup-parent the cgroup is PARENT/<id> (cgroupfs driver) or
    // PARENT-SLICE/docker-<id>.scope (systemd driver).
    if let Some(p) = parent {
        if p.ends_with(".slice") {
            r.cgroup_hints.push(format!(
                "{}/docker-{}.scope",
                super::cgroup::expand_slice(&p),
                c.id
            ));
        } else {
            r.cgroup_hints
                .push(format!("/{}/{}", p.trim_matches('/'), c.id).replace("//", "/"));
        }
    }
    r.id_in_cgroup = true;
    Some(r)
}

/// Data roots: the default, /etc/docker/daemon.json's `data-root`, and
/// every running dockerd's `--data-root`/`-g` (from `dockerd_cmdlines`).
pub(crate) fn data_roots(dockerd_cmdlines: &[Vec<String>]) -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from("/var/lib/docker")];
    if let Ok(b) = std::fs::read("/etc/docker/daemon.json") {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) {
            if let Some(s) = v.get("data-root").and_then(|x| x.as_str()) {
                roots.push(PathBuf::from(s));
            }
        }
    }
    for argv in dockerd_cmdlines {
        if let Some(r) = data_root_from_argv(argv) {
            roots.push(PathBuf::from(r));
        }
    }
    let mut seen = Vec::new();
    roots.retain(|r| {
        let k = std::fs::canonicalize(r).unwrap_or_else(|_| r.clone());
        if seen.contains(&k) {
            false
        } else {
            seen.push(k);
            true
        }
    });
    roots
}

/// `--data-root X`, `--data-root=X`, `-g X`, `--graph X` from a dockerd argv.
pub(crate) fn data_root_from_argv(argv: &[String]) -> Option<String> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        for flag in ["--data-root", "--graph", "-g"] {
            if a == flag {
                return it.next().cloned();
            }
            if let Some(v) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// The data root of Docker container `id` from its init's
/// `/proc/PID/mountinfo`: the source of its /etc/hostname bind mount
/// (`<root>/containers/<id>/hostname`) or the overlay2 `upperdir=`
/// (`<root>/overlay2/...`). Only roots holding `containers/<id>/config.v2.json`
/// are returned. Cheaper than finding the dockerd that runs it.
pub(crate) fn data_root_from_mountinfo(mountinfo: &str, id: &str) -> Option<PathBuf> {
    let marker = format!("/containers/{id}/");
    let mut cands: Vec<String> = Vec::new();
    for l in mountinfo.lines() {
        for f in l.split([' ', ',']) {
            if let Some(i) = f.find(&marker) {
                cands.push(f[..i].to_string());
            }
            if let Some(p) = f.strip_prefix("upperdir=") {
                if let Some(i) = p.find("/overlay2/") {
                    cands.push(p[..i].to_string());
                }
            }
        }
    }
    cands.into_iter().map(PathBuf::from).find(|r| {
        r.join("containers")
            .join(id)
            .join("config.v2.json")
            .is_file()
    })
}

/// The `containers` directories of one data root: `<root>/containers` and,
/// for a dockerd with `--userns-remap`, `<root>/<uid>.<gid>/containers`
/// (Docker keeps a remapped daemon's whole state under such a directory).
pub(crate) fn container_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("containers")];
    if let Ok(rd) = std::fs::read_dir(root) {
        let mut remapped: Vec<PathBuf> = rd
            .flatten()
            .filter(|e| is_remap_dir(&e.file_name().to_string_lossy()))
            .map(|e| e.path().join("containers"))
            .filter(|d| d.is_dir())
            .collect();
        remapped.sort();
        dirs.extend(remapped);
    }
    dirs
}

/// `<uid>.<gid>`: the name of a userns-remapped daemon's state directory.
fn is_remap_dir(name: &str) -> bool {
    let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    name.split_once('.').is_some_and(|(u, g)| num(u) && num(g))
}

/// Reads the containers of one data root (and of its userns-remapped
/// subdirectories) that `want` asks for (a name is looked for as
/// `"Name":"/NAME"` in the raw file before parsing).
pub(crate) fn scan(root: &Path, want: Want, out: &mut Vec<Record>) {
    for dir in container_dirs(root) {
        scan_containers(&dir, want, out);
    }
}

fn scan_containers(containers: &Path, want: Want, out: &mut Vec<Record>) {
    let Ok(rd) = std::fs::read_dir(containers) else {
        return;
    };
    for e in rd.flatten() {
        let id_hit = want.id(&e.file_name().to_string_lossy());
        if !id_hit && !want.names() {
            continue;
        }
        let dir = e.path();
        let Ok(cfg) = std::fs::read(dir.join("config.v2.json")) else {
            continue;
        };
        if !id_hit && !want.mentions(&cfg, "\"Name\":\"/") {
            continue;
        }
        let host = std::fs::read(dir.join("hostconfig.json")).ok();
        if let Some(mut r) = parse(&cfg, host.as_deref()) {
            r.source = Some(dir.display().to_string());
            out.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_data_root() {
        let id = "025dd5ce9daf48c15c83eddd8d0c5030c123eda90a042c45d56951284e1d3cbd";
        let root = std::env::temp_dir().join(format!("cdbg-mi-{}", std::process::id()));
        let r = root.display();
        std::fs::create_dir_all(root.join("containers").join(id)).unwrap();
        std::fs::write(
            root.join("containers").join(id).join("config.v2.json"),
            "{}",
        )
        .unwrap();
        // lines as in a live second daemon's container (see RUNTIMES.md)
        let overlay = format!(
            "224 173 0:59 / / rw,relatime master:6 - overlay overlay rw,lowerdir={r}/overlay2/l/3B:{r}/overlay2/l/TF,upperdir={r}/overlay2/6c35/diff,workdir={r}/overlay2/6c35/work\n"
        );
        let bind = format!(
            "242 224 254:0 {r}/containers/{id}/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n"
        );
        assert_eq!(data_root_from_mountinfo(&overlay, id), Some(root.clone()));
        assert_eq!(data_root_from_mountinfo(&bind, id), Some(root.clone()));
        assert_eq!(data_root_from_mountinfo(&bind, &id.replace('0', "1")), None);
        assert_eq!(
            data_root_from_mountinfo("1 2 0:1 / / rw - tmpfs x rw\n", id),
            None
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// A userns-remapped daemon keeps its containers under
    /// `<root>/<uid>.<gid>/containers` (layout seen with dockerd 20.10
    /// `--userns-remap=default`); they are found by name.
    #[test]
    fn remapped_root_is_scanned() {
        let id = "a96c6b9a0c1d58d031450614f0b6172ae133ca86342fbe1c013b3895f81911fb";
        let root = std::env::temp_dir().join(format!("cdbg-remap-{}", std::process::id()));
        let dir = root.join("165536.165536/containers").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(root.join("not.a.remap/containers/x")).unwrap();
        std::fs::write(
            dir.join("config.v2.json"),
            format!(r#"{{"ID":"{id}","Name":"/web","State":{{"Running":true,"Pid":42}}}}"#),
        )
        .unwrap();
        assert_eq!(
            container_dirs(&root),
            vec![
                root.join("containers"),
                root.join("165536.165536/containers")
            ]
        );
        let mut out = Vec::new();
        scan(&root, Want::IdOrName("web"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].c.id, id);
        assert_eq!(out[0].c.name.as_deref(), Some("web"));
        assert!(!is_remap_dir("1.2.3") && !is_remap_dir(".1") && is_remap_dir("0.0"));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn argv_data_root() {
        let v = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            data_root_from_argv(&v("dockerd --data-root /x -H unix:///y")),
            Some("/x".into())
        );
        assert_eq!(
            data_root_from_argv(&v("dockerd --data-root=/z")),
            Some("/z".into())
        );
        assert_eq!(data_root_from_argv(&v("dockerd -g /g")), Some("/g".into()));
        assert_eq!(data_root_from_argv(&v("dockerd --debug")), None);
    }
}
