//! Podman (rootful and rootless) and CRI-O: containers/storage's
//! `containers.json`, each container's `userdata/config.json` and the
//! `pidfile` under the run root.

use super::{Container, Record, Runtime, Want};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry {
    id: String,
    names: Vec<String>,
    image: String,
    metadata: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Meta {
    #[serde(rename = "image-name")]
    image_name: String,
    name: String,
}

/// One containers/storage store: where the metadata lives and where the
/// run-time files (pidfile) live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Store {
    /// graphroot, e.g. /var/lib/containers/storage
    pub graph: PathBuf,
    /// runroot, e.g. /run/containers/storage
    pub run: PathBuf,
    /// Owner for rootless stores.
    pub uid: Option<u32>,
}

/// Parses `containers.json` of a store's `<driver>-containers` directory.
pub(crate) fn parse_containers_json(b: &[u8]) -> Vec<Record> {
    let Ok(list) = serde_json::from_slice::<Vec<Entry>>(b) else {
        return Vec::new();
    };
    list.into_iter()
        .filter(|e| !e.id.is_empty())
        .map(|e| {
            let meta: Meta = serde_json::from_str(&e.metadata).unwrap_or_default();
            let name = e
                .names
                .first()
                .cloned()
                .or_else(|| (!meta.name.is_empty()).then(|| meta.name.clone()));
            let image = if meta.image_name.is_empty() {
                (!e.image.is_empty()).then(|| e.image.chars().take(12).collect())
            } else {
                Some(meta.image_name)
            };
            let mut r = Record::new(Container {
                id: e.id,
                name,
                image,
                ..Container::blank(Runtime::Podman)
            });
            r.id_in_cgroup = true;
            // CRI-O names its containers k8s_<ctr>_<pod>_<ns>_<uid>_<n>.
            if let Some(k) = r.c.name.as_deref().and_then(parse_crio_name) {
                r.c.runtime = Runtime::CriO;
                r.c.sandbox = k.0 == "POD";
                r.c.name = Some(if r.c.sandbox { k.1.clone() } else { k.0 });
                r.c.pod = Some(k.1);
                r.c.namespace = Some(k.2);
            }
            r
        })
        .collect()
}

/// `k8s_CONTAINER_POD_NAMESPACE_UID_ATTEMPT` → (container, pod, namespace).
pub(crate) fn parse_crio_name(n: &str) -> Option<(String, String, String)> {
    let rest = n.strip_prefix("k8s_")?;
    let parts: Vec<&str> = rest.split('_').collect();
    if parts.len() < 5 {
        return None;
    }
    Some((parts[0].into(), parts[1].into(), parts[2].into()))
}

/// `graphroot`/`runroot` from a storage.conf (simple `key = "value"` lines).
pub(crate) fn parse_storage_conf(s: &str) -> (Option<String>, Option<String>) {
    let mut graph = None;
    let mut run = None;
    for l in s.lines() {
        let l = l.trim();
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "graphroot" if !v.is_empty() => graph = Some(v),
            "runroot" if !v.is_empty() => run = Some(v),
            _ => {}
        }
    }
    (graph, run)
}

/// Every store on the host: the rootful one (honouring
/// /etc/containers/storage.conf) and one per user with
/// `~/.local/share/containers/storage` (users from /etc/passwd and /home).
pub(crate) fn stores() -> Vec<Store> {
    let mut out = Vec::new();
    let (g, r) = std::fs::read_to_string("/etc/containers/storage.conf")
        .map(|s| parse_storage_conf(&s))
        .unwrap_or((None, None));
    out.push(Store {
        graph: g
            .unwrap_or_else(|| "/var/lib/containers/storage".into())
            .into(),
        run: r.unwrap_or_else(|| "/run/containers/storage".into()).into(),
        uid: None,
    });
    let mut homes: Vec<(u32, PathBuf)> = Vec::new();
    if let Ok(pw) = std::fs::read_to_string("/etc/passwd") {
        for l in pw.lines() {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() >= 6 {
                if let Ok(uid) = f[2].parse::<u32>() {
                    if uid != 0 && !f[5].is_empty() {
                        homes.push((uid, PathBuf::from(f[5])));
                    }
                }
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir("/home") {
        use std::os::unix::fs::MetadataExt;
        for e in rd.flatten() {
            if let Ok(m) = e.metadata() {
                if !homes.iter().any(|h| h.1 == e.path()) {
                    homes.push((m.uid(), e.path()));
                }
            }
        }
    }
    for (uid, home) in homes {
        let graph = home.join(".local/share/containers/storage");
        if !graph.is_dir() {
            continue;
        }
        let user_conf = home.join(".config/containers/storage.conf");
        let (g, r) = std::fs::read_to_string(user_conf)
            .map(|s| parse_storage_conf(&s))
            .unwrap_or((None, None));
        let run = r.map(PathBuf::from).unwrap_or_else(|| {
            let p = PathBuf::from(format!("/run/user/{uid}/containers"));
            if p.is_dir() {
                p
            } else {
                PathBuf::from(format!("/tmp/containers-user-{uid}/containers"))
            }
        });
        out.push(Store {
            graph: g.map(PathBuf::from).unwrap_or(graph),
            run,
            uid: Some(uid),
        });
    }
    out
}

/// Reads every `<driver>-containers/containers.json` of a store.
pub(crate) fn scan(store: &Store, want: Want, out: &mut Vec<Record>) {
    let Ok(rd) = std::fs::read_dir(&store.graph) else {
        return;
    };
    for e in rd.flatten() {
        let fname = e.file_name();
        let Some(driver_dir) = fname.to_str().filter(|n| n.ends_with("-containers")) else {
            continue;
        };
        let Ok(b) = std::fs::read(e.path().join("containers.json")) else {
            continue;
        };
        let needle = match want {
            Want::All => None,
            Want::Id(t) | Want::IdOrName(t) => Some(t),
        };
        if needle.is_some_and(|t| memchr::memmem::find(&b, t.as_bytes()).is_none()) {
            continue;
        }
        for mut r in parse_containers_json(&b) {
            let name_hit = want.names()
                && needle.is_some_and(|t| r.c.name.as_deref().is_some_and(|n| n.contains(t)));
            if !want.id(&r.c.id) && !name_hit {
                continue;
            }
            let ud = e.path().join(&r.c.id).join("userdata");
            let run_ud = store.run.join(driver_dir).join(&r.c.id).join("userdata");
            r.rec_pid = read_pid(&run_ud.join("pidfile")).or_else(|| read_pid(&ud.join("pidfile")));
            r.spec_path = Some(ud.join("config.json"));
            r.source = Some(ud.display().to_string());
            if let Some(uid) = store.uid {
                r.rootless_uid = Some(uid);
                // Rootless containers on cgroup v1 share the user's cgroup:
                // trust the pidfile only if conmon is the parent.
                r.parent_comm = Some("conmon");
            }
            r.claims_running = r.rec_pid.is_some();
            out.push(r);
        }
    }
}

fn read_pid(p: &Path) -> Option<i32> {
    std::fs::read_to_string(p)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|p| *p > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crio_names() {
        assert_eq!(
            parse_crio_name("k8s_app_web-7d9f_prod_3f2a-11_0"),
            Some(("app".into(), "web-7d9f".into(), "prod".into()))
        );
        assert_eq!(parse_crio_name("web"), None);
    }

    #[test]
    fn storage_conf() {
        let s = "[storage]\ndriver = \"overlay\"\nrunroot = \"/run/x\"\ngraphroot = \"/var/x\"\n";
        assert_eq!(
            parse_storage_conf(s),
            (Some("/var/x".into()), Some("/run/x".into()))
        );
    }
}
