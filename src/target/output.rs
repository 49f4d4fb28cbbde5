//! `cdbg ls` output: a table and a stable JSON document.

use super::{short_id, Container};
use serde_json::{json, Value};
use std::io::Write;
use std::time::SystemTime;

/// Version of the JSON document produced by [`to_json`].
pub const JSON_VERSION: u64 = 1;

fn uptime(c: &Container, now: SystemTime) -> Option<u64> {
    c.started
        .and_then(|s| now.duration_since(s).ok())
        .map(|d| d.as_secs())
}

/// `45s`, `12m`, `3h4m`, `5d2h`.
pub(crate) fn human(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Writes the `cdbg ls` table: RUNTIME, ID (12 characters), NAME
/// (`NS/POD/CONTAINER` for Kubernetes, `NS/ID` for containerd), PID,
/// IMAGE, COMMAND, STATUS, UPTIME. Unknown values print as `-`.
pub fn print_table(list: &[Container], out: &mut dyn Write) -> std::io::Result<()> {
    let now = SystemTime::now();
    let head = [
        "RUNTIME", "ID", "NAME", "PID", "IMAGE", "COMMAND", "STATUS", "UPTIME",
    ];
    let rows: Vec<[String; 8]> = list
        .iter()
        .map(|c| {
            let dash = || "-".to_string();
            [
                c.runtime.as_str().to_string(),
                short_id(&c.id).to_string(),
                clip(&c.display_name(), 40),
                c.pid.map(|p| p.to_string()).unwrap_or_else(dash),
                c.image.as_deref().map(|s| clip(s, 30)).unwrap_or_else(dash),
                c.command
                    .as_deref()
                    .map(|s| clip(&format!("{s:?}"), 30))
                    .unwrap_or_else(dash),
                c.status.as_str().to_string(),
                uptime(c, now).map(human).unwrap_or_else(dash),
            ]
        })
        .collect();
    let mut w = head.map(|h| h.chars().count());
    for r in &rows {
        for (i, f) in r.iter().enumerate() {
            w[i] = w[i].max(f.chars().count());
        }
    }
    let mut line = String::with_capacity(160);
    let mut emit = |fields: &[&str], out: &mut dyn Write| {
        line.clear();
        for (i, f) in fields.iter().enumerate() {
            line.push_str(f);
            if i + 1 < fields.len() {
                for _ in f.chars().count()..w[i] + 3 {
                    line.push(' ');
                }
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())
    };
    emit(&head, out)?;
    for r in &rows {
        let f: Vec<&str> = r.iter().map(String::as_str).collect();
        emit(&f, out)?;
    }
    Ok(())
}

/// The `cdbg ls --json` document (schema version 1, also in
/// docs/ls-json.md). Fields are only ever added, never renamed or
/// retyped, without bumping `version`:
///
/// ```text
/// {
///   "version": 1,
///   "containers": [
///     {
///       "runtime":   "docker" | "podman" | "containerd" | "k8s" | "cri-o" |
///                    "runc" | "crun" | "lxc" | "nspawn" | "cdbg",
///       "id":        string,          // full ID
///       "short_id":  string,          // first 12 characters of id
///       "name":      string | null,   // runtime name (k8s: container name)
///       "display_name": string,       // NAME column (k8s: NS/POD/CONTAINER)
///       "namespace": string | null,   // containerd / Kubernetes namespace
///       "pod":       string | null,   // Kubernetes pod name
///       "sandbox":   bool,            // Kubernetes pod sandbox (pause)
///       "pid":       integer | null,  // init on the host; null when stopped
///       "pid_start": integer | null,  // /proc/PID/stat starttime (ticks)
///       "image":     string | null,
///       "command":   string | null,
///       "status":    "running" | "paused" | "stopped",
///       "started":   integer | null,  // Unix seconds when pid started
///       "uptime":    integer | null,  // seconds since started
///       "user":      string | null,   // configured user (Docker: verbatim; OCI: "uid:gid")
///       "workdir":   string | null,
///       "cgroup":    string | null    // cgroup path as in /proc/PID/cgroup
///     }
///   ]
/// }
/// ```
pub fn to_json(list: &[Container]) -> Value {
    let now = SystemTime::now();
    let cs: Vec<Value> = list
        .iter()
        .map(|c| {
            json!({
                "runtime": c.runtime.as_str(),
                "id": c.id,
                "short_id": short_id(&c.id),
                "name": c.name,
                "display_name": c.display_name(),
                "namespace": c.namespace,
                "pod": c.pod,
                "sandbox": c.sandbox,
                "pid": c.pid,
                "pid_start": c.pid_start,
                "image": c.image,
                "command": c.command,
                "status": c.status.as_str(),
                "started": c.started
                    .and_then(|s| s.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs()),
                "uptime": uptime(c, now),
                "user": c.user,
                "workdir": c.workdir,
                "cgroup": c.cgroup,
            })
        })
        .collect();
    json!({ "version": JSON_VERSION, "containers": cs })
}

#[cfg(test)]
mod tests {
    use super::super::{Runtime, Status};
    use super::*;

    fn sample() -> Container {
        Container {
            id: "0123456789abcdef0123".into(),
            name: Some("web".into()),
            pid: Some(42),
            image: Some("t-bb:local".into()),
            command: Some("/bin/sh -c 'sleep 1'".into()),
            status: Status::Running,
            started: Some(SystemTime::now() - std::time::Duration::from_secs(125)),
            ..Container::blank(Runtime::Docker)
        }
    }

    #[test]
    fn table() {
        let mut out = Vec::new();
        print_table(&[sample()], &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        let mut l = s.lines();
        let h = l.next().unwrap();
        assert!(h.starts_with("RUNTIME   ID             NAME"), "{h}");
        let r = l.next().unwrap();
        for want in [
            "docker",
            "0123456789ab ",
            "web",
            "42",
            "t-bb:local",
            "running",
            "2m",
        ] {
            assert!(r.contains(want), "{want} missing in {r}");
        }
        assert!(!r.contains("0123456789abc"));
    }

    #[test]
    fn json_schema() {
        let v = to_json(&[sample()]);
        assert_eq!(v["version"], 1);
        let c = &v["containers"][0];
        assert_eq!(c["runtime"], "docker");
        assert_eq!(c["short_id"], "0123456789ab");
        assert_eq!(c["pid"], 42);
        assert_eq!(c["status"], "running");
        assert!(c["uptime"].as_u64().unwrap() >= 125);
        assert!(c["namespace"].is_null());
        assert_eq!(c.as_object().unwrap().len(), 18);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(5), "5s");
        assert_eq!(human(3725), "1h2m");
        assert_eq!(human(90000), "1d1h");
    }
}
