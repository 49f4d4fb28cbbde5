//! Turning a TARGET into one live container.

use super::cgroup;
use super::procfs::Proc;
use super::scan::{self, finish_live, make_live, pick_init, verify_recorded, Index, Opts, Target};
use super::{short_id, Container, Query, Record, Runtime, Status, Want};
use std::fmt;

/// Why a TARGET did not lead to exactly one live container. `Display`
/// is one line naming the target and what failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Nothing matched.
    NotFound {
        /// The TARGET as given.
        target: String,
        /// What was searched (runtimes, cgroups).
        searched: String,
        /// Close names (edit distance), best first.
        suggestions: Vec<String>,
    },
    /// An ID prefix or name matched more than one container.
    Ambiguous {
        /// The TARGET as given.
        target: String,
        /// `RUNTIME SHORTID (NAME)` of each candidate.
        candidates: Vec<String>,
    },
    /// The container exists but its init is not running.
    Stopped {
        /// The TARGET as given.
        target: String,
        /// `RUNTIME SHORTID (NAME)`.
        container: String,
    },
    /// `--pid`: no such process.
    NoProcess(i32),
    /// `--cgroup`: no process in that cgroup.
    EmptyCgroup(String),
    /// The query itself is unusable.
    Invalid(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotFound {
                target,
                searched,
                suggestions,
            } => {
                write!(f, "no container matches {target:?} (searched {searched})")?;
                if !suggestions.is_empty() {
                    write!(f, "; did you mean {}?", suggestions.join(", "))?;
                }
                Ok(())
            }
            ResolveError::Ambiguous { target, candidates } => write!(
                f,
                "{target:?} matches {} containers: {} (use a longer ID or RUNTIME:NAME)",
                candidates.len(),
                candidates.join(", ")
            ),
            ResolveError::Stopped { target, container } => {
                write!(f, "container {target:?} ({container}) is not running")
            }
            ResolveError::NoProcess(pid) => write!(f, "no process with PID {pid}"),
            ResolveError::EmptyCgroup(cg) => write!(f, "no process in cgroup {cg}"),
            ResolveError::Invalid(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for ResolveError {}

fn describe(c: &Container) -> String {
    let name = c.display_name();
    let id = short_id(&c.id);
    if name == id {
        format!("{} {id}", c.runtime)
    } else {
        format!("{} {id} ({name})", c.runtime)
    }
}

/// Resolves a query to one container whose `pid` is its live init
/// (or, for `--pid`, the given process; for `--cgroup`, the init of that
/// cgroup). A paused (frozen) container is returned with
/// [`Status::Paused`]; the caller decides whether to refuse.
///
/// Search order for a text TARGET: `NS/ID` (containerd) and Kubernetes
/// forms when it contains `/`; else exact name, exact ID, unique ID
/// prefix. Among matches, running containers win over stopped ones.
/// Runtime state is read first and recorded PIDs are verified, so a
/// typical lookup reads a few files; the full /proc pass only runs when
/// that fails.
pub fn resolve(q: &Query) -> Result<Container, ResolveError> {
    let mut proc = Proc::open().ok_or_else(|| ResolveError::Invalid("cannot open /proc".into()))?;
    if let Some(pid) = q.pid {
        let st = proc.stat(pid).ok_or(ResolveError::NoProcess(pid))?;
        return describe_pid(&mut proc, pid, st.start).ok_or(ResolveError::NoProcess(pid));
    }
    if let Some(arg) = &q.cgroup {
        let path = cgroup::arg_to_path(arg);
        let pids = cgroup::procs_of(&path);
        let (pid, start) = pick_init(&mut proc, &pids, None, None)
            .ok_or_else(|| ResolveError::EmptyCgroup(path.clone()))?;
        return describe_pid(&mut proc, pid, start).ok_or(ResolveError::EmptyCgroup(path));
    }
    let text = q
        .text
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ResolveError::Invalid("no target given".into()))?;
    let (rt, body) = split_prefix(text, q.runtime);
    if body.is_empty() {
        return Err(ResolveError::Invalid(format!(
            "empty name in target {text:?}"
        )));
    }
    // Fast path: state files plus verification of the candidates only.
    let mut recs = scan::records(
        Opts {
            runtime: rt,
            dockerd_roots: false,
            // Kubernetes forms need every pod's annotations.
            want: if body.contains('/') {
                Want::All
            } else {
                Want::IdOrName(body)
            },
        },
        &mut proc,
    );
    let cands = matches(&mut recs, body, rt, q.sandbox);
    if !cands.is_empty() {
        let mut live = Vec::new();
        for &i in &cands {
            if quick_live(&mut proc, &mut recs[i]) {
                live.push(i);
            }
        }
        if live.len() == 1 {
            return Ok(recs[live[0]].c.clone());
        }
        if live.len() > 1 {
            return Err(ambiguous(text, live.iter().map(|&i| &recs[i].c)));
        }
    }
    // Slow path: all state and the process pass (live containers of a
    // second dockerd are found there); then, for stopped ones, every
    // running dockerd's --data-root too.
    let mut all = Vec::new();
    let mut cands = Vec::new();
    for dockerd_roots in [false, true] {
        let (recs, extra) = scan::world(Opts {
            runtime: rt,
            dockerd_roots,
            want: Want::All,
        });
        all = recs;
        all.extend(extra.into_iter().map(Record::new));
        cands = matches(&mut all, body, rt, q.sandbox);
        if !cands.is_empty() {
            break;
        }
    }
    let live: Vec<usize> = cands
        .iter()
        .copied()
        .filter(|&i| all[i].c.status != Status::Stopped)
        .collect();
    match (live.len(), cands.len()) {
        (1, _) => Ok(all[live[0]].c.clone()),
        (0, 0) => Err(not_found(text, rt, body, &all)),
        (0, 1) => Err(ResolveError::Stopped {
            target: text.to_string(),
            container: describe(&all[cands[0]].c),
        }),
        (0, _) => Err(ambiguous(text, cands.iter().map(|&i| &all[i].c))),
        _ => Err(ambiguous(text, live.iter().map(|&i| &all[i].c))),
    }
}

fn ambiguous<'a>(text: &str, cs: impl Iterator<Item = &'a Container>) -> ResolveError {
    ResolveError::Ambiguous {
        target: text.to_string(),
        candidates: cs.map(describe).collect(),
    }
}

/// Splits an optional `RUNTIME:` prefix off a TARGET.
pub(crate) fn split_prefix(text: &str, rt: Option<Runtime>) -> (Option<Runtime>, &str) {
    if let Some((p, rest)) = text.split_once(':') {
        if let Some(r) = Runtime::parse(p) {
            return (Some(r), rest);
        }
    }
    (rt, text)
}

/// Indices of the records matching `body`, from the first tier that has
/// any: containerd `NS/ID` and Kubernetes forms; exact name; exact ID;
/// ID prefix.
pub(crate) fn matches(
    recs: &mut [Record],
    body: &str,
    rt: Option<Runtime>,
    sandbox: bool,
) -> Vec<usize> {
    let sel = |r: &Record| rt.is_none_or(|f| f.selects(r.c.runtime));
    let mut out: Vec<usize>;
    if body.contains('/') {
        let parts: Vec<&str> = body.split('/').collect();
        out = Vec::new();
        if parts.len() == 2 {
            out = (0..recs.len())
                .filter(|&i| {
                    let c = &recs[i].c;
                    sel(&recs[i])
                        && matches!(c.runtime, Runtime::Containerd | Runtime::Kubernetes)
                        && c.namespace.as_deref() == Some(parts[0])
                        && c.id == parts[1]
                })
                .collect();
        }
        if out.is_empty() && (parts.len() == 2 || parts.len() == 3) {
            // Kubernetes identity comes from the OCI spec: load it for
            // records that may be Kubernetes ones.
            for r in recs.iter_mut() {
                if matches!(
                    r.c.runtime,
                    Runtime::Kubernetes | Runtime::CriO | Runtime::Podman
                ) && r.c.pod.is_none()
                    && r.spec_path.is_some()
                {
                    r.load_spec();
                }
            }
            let (ns, pod, ctr) = (parts[0], parts[1], parts.get(2).copied());
            let k8s = |i: usize, any_ns: bool| {
                let c = &recs[i].c;
                sel(&recs[i])
                    && matches!(c.runtime, Runtime::Kubernetes | Runtime::CriO)
                    && c.pod.as_deref() == Some(pod)
                    && (any_ns
                        || c.namespace.as_deref() == Some(if ns == "pod" { "default" } else { ns }))
                    && if sandbox {
                        c.sandbox
                    } else {
                        !c.sandbox && ctr.is_none_or(|n| c.name.as_deref() == Some(n))
                    }
            };
            out = (0..recs.len()).filter(|&i| k8s(i, false)).collect();
            if out.is_empty() && ns == "pod" {
                out = (0..recs.len()).filter(|&i| k8s(i, true)).collect();
            }
        }
        return out;
    }
    let pick = |f: &dyn Fn(&Record) -> bool| -> Vec<usize> {
        (0..recs.len())
            .filter(|&i| sel(&recs[i]) && (sandbox || !recs[i].c.sandbox) && f(&recs[i]))
            .collect()
    };
    // Kubernetes container names repeat across pods: those need the pod
    // forms (or an ID).
    out = pick(&|r| {
        r.c.name.as_deref() == Some(body)
            && !matches!(r.c.runtime, Runtime::Kubernetes | Runtime::CriO)
    });
    if out.is_empty() {
        out = pick(&|r| r.c.id == body);
    }
    if out.is_empty() {
        out = pick(&|r| {
            !matches!(r.c.runtime, Runtime::Lxc | Runtime::Nspawn | Runtime::Cdbg)
                && r.c.id.starts_with(body)
        });
    }
    if sandbox {
        // The pod sandbox of a Kubernetes app container.
        for i in out.iter_mut() {
            if let Some(sid) = recs[*i].sandbox_id.clone() {
                if let Some(j) = recs.iter().position(|r| r.c.id == sid) {
                    *i = j;
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
    out
}

/// Default cgroup paths of a runtime, for containers whose state records
/// no cgroup.
fn default_paths(r: &Record) -> Vec<String> {
    let id = &r.c.id;
    let mut v = r.cgroup_hints.clone();
    match r.c.runtime {
        Runtime::Docker => {
            v.push(format!("/docker/{id}"));
            v.push(format!("/system.slice/docker-{id}.scope"));
        }
        Runtime::Podman => {
            v.push(format!("/libpod_parent/libpod-{id}"));
            v.push(format!("/machine.slice/libpod-{id}.scope"));
        }
        Runtime::Containerd => {
            v.push(format!(
                "/{}/{id}",
                r.c.namespace.as_deref().unwrap_or("default")
            ));
        }
        Runtime::Runc | Runtime::Crun => v.push(format!("/{id}")),
        Runtime::CriO => v.push(format!("/system.slice/crio-{id}.scope")),
        _ => {}
    }
    v
}

/// Finds a record's live init cheaply: its recorded PID, verified, else
/// the processes of its known cgroup paths.
fn quick_live(proc: &mut Proc, r: &mut Record) -> bool {
    r.load_spec();
    let claimed = r.claimed_status;
    if let Some((pid, start, file)) = verify_recorded(proc, r) {
        let cg = Index::new(std::slice::from_ref(r))
            .classify(&file)
            .map(|t| match t {
                Target::Rec(_, p) => p,
                Target::Hit(h) => h.cgroup,
            });
        make_live(proc, &mut r.c, pid, start, &file, cg, claimed);
        return finish_live(proc, &mut r.c);
    }
    for path in default_paths(r) {
        let pids = cgroup::procs_of(&path);
        if pids.is_empty() {
            continue;
        }
        let Some((pid, start)) = pick_init(proc, &pids, r.rec_pid, r.rec_start) else {
            continue;
        };
        if !proc.read(pid, "cgroup") {
            continue;
        }
        let file = String::from_utf8_lossy(&proc.buf).into_owned();
        make_live(proc, &mut r.c, pid, start, &file, Some(path), claimed);
        return finish_live(proc, &mut r.c);
    }
    false
}

/// Describes the process `pid`: the container it belongs to (with `pid`
/// as the process), or a `Runtime::Host` pseudo-container.
fn describe_pid(proc: &mut Proc, pid: i32, start: u64) -> Option<Container> {
    if !proc.read(pid, "cgroup") {
        return None;
    }
    let file = String::from_utf8_lossy(&proc.buf).into_owned();
    // Read only the state of the container the cgroup names (its runtime
    // and ID, or the last path component as an ID), else everything.
    let (rt, key) = match Index::new(&[]).classify(&file) {
        Some(Target::Hit(h)) => (Some(h.runtime), Some(h.key)),
        _ => (
            None,
            cgroup::main_path(&file)
                .and_then(|p| p.rsplit('/').next())
                .filter(|k| !k.is_empty())
                .map(String::from),
        ),
    };
    let rt = rt.map(|r| match r {
        Runtime::Kubernetes => Runtime::Containerd,
        Runtime::CriO => Runtime::Podman,
        r => r,
    });
    let mut recs = Vec::new();
    let mut target = None;
    if let Some(k) = key.as_deref() {
        recs = scan::records(
            Opts {
                runtime: rt,
                dockerd_roots: false,
                want: Want::Id(k),
            },
            proc,
        );
        target = Index::new(&recs).classify(&file);
    }
    let at_root = cgroup::main_path(&file).is_none_or(|p| p == "/");
    if !matches!(target, Some(Target::Rec(..))) && !at_root {
        recs = scan::records(
            Opts {
                runtime: rt,
                dockerd_roots: false,
                want: Want::All,
            },
            proc,
        );
        target = Index::new(&recs).classify(&file);
    }
    let (mut c, cg, claimed) = match target {
        Some(Target::Rec(i, cg)) => {
            recs[i].load_spec();
            (recs[i].c.clone(), Some(cg), recs[i].claimed_status)
        }
        Some(Target::Hit(h)) if h.key.starts_with(cgroup::NSPAWN_PAYLOAD) => {
            let (name, dir) = nspawn_ancestor(proc, pid);
            (
                Container {
                    id: name.clone().unwrap_or_else(|| h.key.clone()),
                    name,
                    image: dir,
                    ..Container::blank(Runtime::Nspawn)
                },
                Some(h.cgroup),
                None,
            )
        }
        Some(Target::Hit(h)) => (
            Container {
                id: h.key.clone(),
                name: matches!(h.runtime, Runtime::Lxc | Runtime::Nspawn | Runtime::Cdbg)
                    .then(|| h.key.clone()),
                ..Container::blank(h.runtime)
            },
            Some(h.cgroup),
            None,
        ),
        None => (
            Container {
                id: pid.to_string(),
                ..Container::blank(Runtime::Host)
            },
            None,
            None,
        ),
    };
    // The command of the process the user named, not the container's.
    c.command = None;
    make_live(proc, &mut c, pid, start, &file, cg, claimed);
    Some(c)
}

/// Machine name and directory from the `systemd-nspawn` supervisor
/// above `pid`.
fn nspawn_ancestor(proc: &mut Proc, mut pid: i32) -> (Option<String>, Option<String>) {
    for _ in 0..64 {
        let Some(st) = proc.stat(pid) else { break };
        if st.comm == "systemd-nspawn" {
            let argv = proc.argv(pid).unwrap_or_default();
            let (name, dir) = super::nspawn::parse_argv(&argv);
            let name = name.or_else(|| {
                dir.as_deref()
                    .and_then(|d| std::path::Path::new(d).file_name())
                    .map(|n| n.to_string_lossy().into_owned())
            });
            return (name, dir);
        }
        if st.ppid <= 1 {
            break;
        }
        pid = st.ppid;
    }
    (None, None)
}

fn not_found(text: &str, rt: Option<Runtime>, body: &str, all: &[Record]) -> ResolveError {
    let searched = match rt {
        Some(r) => format!("{r} state and cgroups"),
        None => "docker, podman, containerd, k8s, cri-o, runc, crun, lxc, nspawn and cdbg demo \
                 state and cgroups; containerd containers are found by ID"
            .to_string(),
    };
    let mut scored: Vec<(usize, String)> = Vec::new();
    for r in all {
        let mut names = vec![r.c.display_name()];
        if let Some(n) = &r.c.name {
            names.push(n.clone());
        }
        for n in names {
            let d = strsim::osa_distance(body, &n);
            let close = d <= (body.len() / 3).max(1) || (body.len() >= 3 && n.contains(body));
            if close && !scored.iter().any(|s| s.1 == n) {
                scored.push((d, n));
            }
        }
    }
    scored.sort();
    ResolveError::NotFound {
        target: text.to_string(),
        searched,
        suggestions: scored.into_iter().take(5).map(|s| s.1).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(rt: Runtime, id: &str, name: Option<&str>) -> Record {
        Record::new(Container {
            id: id.into(),
            name: name.map(String::from),
            ..Container::blank(rt)
        })
    }

    fn k8s(id: &str, ns: &str, pod: &str, name: &str, sandbox: bool, sid: &str) -> Record {
        let mut r = rec(Runtime::Kubernetes, id, Some(name));
        r.c.namespace = Some(ns.into());
        r.c.pod = Some(pod.into());
        r.c.sandbox = sandbox;
        r.sandbox_id = Some(sid.into());
        r
    }

    fn set() -> Vec<Record> {
        let mut ctr = rec(Runtime::Containerd, "web", None);
        ctr.c.namespace = Some("default".into());
        vec![
            rec(Runtime::Docker, "abc123def456aaaa", Some("web")),
            rec(Runtime::Docker, "abc999", Some("db")),
            rec(Runtime::Podman, "ffee00", Some("cache")),
            ctr,
            k8s("p1", "default", "nginx", "nginx", true, "p1"),
            k8s("c1", "default", "nginx", "app", false, "p1"),
            k8s("c2", "prod", "api", "api", false, "p2"),
            k8s("c3", "prod", "api", "sidecar", false, "p2"),
            rec(Runtime::Lxc, "box", Some("box")),
        ]
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            split_prefix("docker:web", None),
            (Some(Runtime::Docker), "web")
        );
        assert_eq!(
            split_prefix("ctr:default/web", None),
            (Some(Runtime::Containerd), "default/web")
        );
        assert_eq!(
            split_prefix("web", Some(Runtime::Lxc)),
            (Some(Runtime::Lxc), "web")
        );
        assert_eq!(split_prefix("a:b", None), (None, "a:b"));
    }

    #[test]
    fn tiers() {
        let mut r = set();
        // exact name beats ID prefix; across runtimes
        assert_eq!(matches(&mut r, "web", None, false), vec![0]);
        assert_eq!(
            matches(&mut r, "web", Some(Runtime::Docker), false),
            vec![0]
        );
        assert_eq!(
            matches(&mut r, "web", Some(Runtime::Containerd), false),
            vec![3]
        );
        assert_eq!(matches(&mut r, "abc", None, false), vec![0, 1]);
        assert_eq!(matches(&mut r, "abc1", None, false), vec![0]);
        assert_eq!(matches(&mut r, "ffee00", None, false), vec![2]);
        assert_eq!(matches(&mut r, "bo", None, false), Vec::<usize>::new());
        assert_eq!(matches(&mut r, "box", None, false), vec![8]);
        assert_eq!(matches(&mut r, "default/web", None, false), vec![3]);
    }

    #[test]
    fn kubernetes_forms() {
        let mut r = set();
        assert_eq!(matches(&mut r, "default/nginx", None, false), vec![5]);
        assert_eq!(matches(&mut r, "pod/nginx", None, false), vec![5]);
        assert_eq!(matches(&mut r, "pod/nginx/app", None, false), vec![5]);
        assert_eq!(matches(&mut r, "pod/nginx", None, true), vec![4]);
        assert_eq!(matches(&mut r, "prod/api", None, false), vec![6, 7]);
        assert_eq!(matches(&mut r, "prod/api/sidecar", None, false), vec![7]);
        assert_eq!(matches(&mut r, "pod/api/api", None, false), vec![6]);
        assert_eq!(matches(&mut r, "prod/api", None, true), Vec::<usize>::new());
        assert_eq!(matches(&mut r, "app", None, false), Vec::<usize>::new());
        assert_eq!(matches(&mut r, "c1", None, true), vec![4]);
    }

    #[test]
    fn error_lines() {
        let r = set();
        let e = not_found("wbe", None, "wbe", &r);
        let s = e.to_string();
        assert!(s.ends_with("did you mean web?"), "{s}");
        assert!(!s.contains('\n'));
        let a = ambiguous("abc", [&r[0].c, &r[1].c].into_iter());
        assert_eq!(
            a.to_string(),
            "\"abc\" matches 2 containers: docker abc123def456 (web), docker abc999 (db) \
             (use a longer ID or RUNTIME:NAME)"
        );
    }
}
