//! Finding containers from procfs, cgroups and the runtimes' files on disk.
//!
//! No daemon socket and no runtime CLI is ever used, so discovery keeps
//! working when dockerd or containerd is wedged. Two entry points:
//!
//! * [`resolve`] turns a user's TARGET (name, ID or prefix, `--pid`,
//!   `--cgroup`, Kubernetes `NS/POD[/CONTAINER]`, optional `RUNTIME:`
//!   prefix) into one [`Container`] whose `pid` is the container's init on
//!   the host, verified against the live process.
//! * [`list`] makes one pass over /proc (one read of `/proc/PID/cgroup`
//!   per process), maps each cgroup to a container and returns every
//!   running container (with `all`, also stopped ones the runtimes still
//!   record). [`print_table`] and [`to_json`] render it for `cdbg ls`.
//!
//! Cost on a busy host: `list` walks the cgroup tree once and reads
//! `cgroup.procs` only for container cgroups, plus each runtime's state
//! files (see `scan::groups` for why not `/proc/PID/cgroup` per process);
//! `resolve` reads only the state files that can match the TARGET (IDs with
//! that prefix, files that mention the name) and verifies recorded PIDs,
//! falling back to the full pass only when that finds nothing live.
//! Measured with scripts/bench-ls.sh (1,000 containers, 20,000 processes,
//! release build): `list` + table ≈ 40 ms on an idle machine, `resolve`
//! by name or by PID ≈ 0.4 ms.
//!
//! Where each runtime keeps its state is described in the submodules.
//! containerd keeps container names, images and labels only in its
//! BoltDB (`meta.db`), which cdbg does not read: containerd containers are
//! found by ID (the ID `ctr run IMAGE ID` was given), optionally as
//! `ctr:NAMESPACE/ID`.

mod cgroup;
mod docker;
mod lxc;
mod nspawn;
mod oci;
mod output;
mod podman;
mod procfs;
mod resolve;
mod runc;
#[cfg(test)]
mod samples_tests;
mod scan;

pub use output::{print_table, to_json};
pub use resolve::{resolve, ResolveError};
pub use scan::list;

use std::path::PathBuf;
use std::time::SystemTime;

/// The runtime that manages a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// Docker (dockerd + its containerd).
    Docker,
    /// Podman, rootful or rootless.
    Podman,
    /// containerd used directly (ctr, nerdctl).
    Containerd,
    /// A Kubernetes container run by containerd's CRI plugin.
    Kubernetes,
    /// A Kubernetes container run by CRI-O.
    CriO,
    /// runc used on its own.
    Runc,
    /// crun used on its own.
    Crun,
    /// LXC.
    Lxc,
    /// systemd-nspawn.
    Nspawn,
    /// A `cdbg demo` container (cgroup `/cdbg-demo/<name>`).
    Cdbg,
    /// Not a container: a plain host process (only from `--pid`).
    Host,
}

impl Runtime {
    /// Lower-case name used in the table, JSON and `RUNTIME:` prefixes.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Containerd => "containerd",
            Runtime::Kubernetes => "k8s",
            Runtime::CriO => "cri-o",
            Runtime::Runc => "runc",
            Runtime::Crun => "crun",
            Runtime::Lxc => "lxc",
            Runtime::Nspawn => "nspawn",
            Runtime::Cdbg => "cdbg",
            Runtime::Host => "host",
        }
    }

    /// Parses a runtime name or `RUNTIME:` prefix word: `docker`, `podman`,
    /// `ctr`/`containerd`/`nerdctl`, `k8s`/`kubernetes`, `crio`/`cri-o`,
    /// `runc`, `crun`, `lxc`, `nspawn`/`systemd-nspawn`, `cdbg`.
    pub fn parse(s: &str) -> Option<Runtime> {
        Some(match s.to_ascii_lowercase().as_str() {
            "docker" => Runtime::Docker,
            "podman" => Runtime::Podman,
            "ctr" | "containerd" | "nerdctl" => Runtime::Containerd,
            "k8s" | "kubernetes" | "kube" => Runtime::Kubernetes,
            "crio" | "cri-o" => Runtime::CriO,
            "runc" => Runtime::Runc,
            "crun" => Runtime::Crun,
            "lxc" => Runtime::Lxc,
            "nspawn" | "systemd-nspawn" | "machine" => Runtime::Nspawn,
            "cdbg" | "demo" => Runtime::Cdbg,
            "host" => Runtime::Host,
            _ => return None,
        })
    }

    /// Whether a container of runtime `c` passes the filter `self`:
    /// `k8s` also selects CRI-O containers and `containerd` also selects
    /// Kubernetes containers run by containerd.
    pub fn selects(self, c: Runtime) -> bool {
        self == c
            || (self == Runtime::Kubernetes && c == Runtime::CriO)
            || (self == Runtime::Containerd && c == Runtime::Kubernetes)
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Runtime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Runtime::parse(s).ok_or_else(|| format!("unknown runtime {s:?}"))
    }
}

/// Whether a container's processes can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Init is alive and not frozen.
    Running,
    /// Init is alive but its cgroup is frozen (v1 `freezer.state` FROZEN,
    /// v2 `cgroup.events` `frozen 1`): anything started there hangs.
    Paused,
    /// Recorded by a runtime but without a live init.
    Stopped,
}

impl Status {
    /// `running`, `paused` or `stopped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// One container as cdbg sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// Managing runtime.
    pub runtime: Runtime,
    /// Full ID (hex for Docker/Podman/CRI, the name for containerd tasks,
    /// runc/crun IDs, LXC, nspawn and cdbg demo containers; the PID for
    /// `Runtime::Host`).
    pub id: String,
    /// Name (Docker/Podman name, Kubernetes container name, pod name for a
    /// sandbox, LXC/nspawn/demo name). None for containerd (BoltDB only).
    pub name: Option<String>,
    /// containerd namespace or Kubernetes namespace.
    pub namespace: Option<String>,
    /// Kubernetes pod name.
    pub pod: Option<String>,
    /// The container's init on the host, verified live (for `--pid`
    /// queries: the PID the user gave).
    pub pid: Option<i32>,
    /// Start time of `pid` (field 22 of /proc/PID/stat, clock ticks after
    /// boot), to detect PID reuse before acting on it.
    pub pid_start: Option<u64>,
    /// Image reference where the runtime records one (Docker, Podman,
    /// CRI); the root directory for LXC, nspawn, runc and crun.
    pub image: Option<String>,
    /// Command line of the container's init.
    pub command: Option<String>,
    /// Running, paused (frozen) or stopped.
    pub status: Status,
    /// When `pid` started.
    pub started: Option<SystemTime>,
    /// Runtime-configured user: Docker's `Config.User` verbatim, OCI
    /// `process.user` as `"uid:gid"`.
    pub user: Option<String>,
    /// Runtime-configured working directory.
    pub workdir: Option<String>,
    /// The container's cgroup path (as in /proc/PID/cgroup).
    pub cgroup: Option<String>,
    /// True for a Kubernetes pod sandbox (pause) container.
    pub sandbox: bool,
}

impl Container {
    pub(crate) fn blank(runtime: Runtime) -> Container {
        Container {
            runtime,
            id: String::new(),
            name: None,
            namespace: None,
            pod: None,
            pid: None,
            pid_start: None,
            image: None,
            command: None,
            status: Status::Stopped,
            started: None,
            user: None,
            workdir: None,
            cgroup: None,
            sandbox: false,
        }
    }

    /// True while `pid` is still the process discovery found: it exists,
    /// is no zombie and has the same start time (no PID reuse). Check it
    /// right before acting on `pid`.
    pub fn is_current(&self) -> bool {
        let (Some(pid), Some(start)) = (self.pid, self.pid_start) else {
            return false;
        };
        let Some(mut p) = procfs::Proc::open() else {
            return false;
        };
        p.stat(pid)
            .is_some_and(|st| st.start == start && st.state != b'Z')
    }

    /// Name shown to users: `NS/POD/CONTAINER` for Kubernetes,
    /// `NS/ID` for containerd, else the name or the short ID.
    pub fn display_name(&self) -> String {
        match self.runtime {
            Runtime::Kubernetes | Runtime::CriO => {
                let ns = self.namespace.as_deref().unwrap_or("?");
                let pod = self.pod.as_deref().unwrap_or("?");
                if self.sandbox {
                    format!("{ns}/{pod}")
                } else {
                    format!("{ns}/{pod}/{}", self.name.as_deref().unwrap_or("?"))
                }
            }
            Runtime::Containerd => format!(
                "{}/{}",
                self.namespace.as_deref().unwrap_or("default"),
                self.id
            ),
            _ => self
                .name
                .clone()
                .unwrap_or_else(|| short_id(&self.id).to_string()),
        }
    }
}

/// The first 12 characters of an ID.
pub fn short_id(id: &str) -> &str {
    match id.char_indices().nth(12) {
        Some((i, _)) => &id[..i],
        None => id,
    }
}

/// What the user asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// TARGET text: name, ID or prefix, `NS/POD[/CONTAINER]`,
    /// `pod/POD[/CONTAINER]`, `ctr:NS/ID`, with an optional `RUNTIME:`
    /// prefix. A purely numeric text is NOT treated as a PID here; the CLI
    /// decides that and sets `pid`.
    pub text: Option<String>,
    /// `--pid PID`: that exact process.
    pub pid: Option<i32>,
    /// `--cgroup PATH`: a cgroup path or a directory under /sys/fs/cgroup.
    pub cgroup: Option<String>,
    /// `--runtime` filter.
    pub runtime: Option<Runtime>,
    /// Return the Kubernetes pod sandbox (pause) container instead of the
    /// app container.
    pub sandbox: bool,
}

/// Which runtime state files a scan reads: all of them (`ls`), or only
/// those that can match a TARGET (resolving stays cheap on a host with
/// thousands of containers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Want<'a> {
    /// Every container.
    #[default]
    All,
    /// Containers whose ID starts with this.
    Id(&'a str),
    /// Containers whose ID starts with this or whose state file mentions
    /// it (a name).
    IdOrName(&'a str),
}

impl Want<'_> {
    /// Whether the container with this ID must be read.
    pub(crate) fn id(&self, id: &str) -> bool {
        match self {
            Want::All => true,
            Want::Id(t) | Want::IdOrName(t) => id.starts_with(t),
        }
    }

    /// Whether a state file (of a container whose ID did not match) must
    /// be parsed: it mentions the name.
    pub(crate) fn mentions(&self, raw: &[u8], quoted_prefix: &str) -> bool {
        match self {
            Want::All => true,
            Want::Id(_) => false,
            Want::IdOrName(t) => {
                let needle = format!("{quoted_prefix}{t}\"");
                memchr::memmem::find(raw, needle.as_bytes()).is_some()
            }
        }
    }

    /// Whether any file needs reading to find names (false for `Id`).
    pub(crate) fn names(&self) -> bool {
        !matches!(self, Want::Id(_))
    }
}

/// A container as read from a runtime's state, before it is matched with
/// live processes.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub c: Container,
    /// PID the runtime recorded (unverified).
    pub rec_pid: Option<i32>,
    /// Start time the runtime recorded for `rec_pid` (runc, crun).
    pub rec_start: Option<u64>,
    /// The runtime's own claim that it is running.
    pub claims_running: bool,
    /// Status the runtime recorded (Docker's `State.Paused`).
    pub claimed_status: Option<Status>,
    /// Cgroup paths the container lives in, as recorded or derived.
    pub cgroup_hints: Vec<String>,
    /// The container ID appears in its cgroup path.
    pub id_in_cgroup: bool,
    /// The file or directory the record came from.
    pub source: Option<String>,
    /// OCI config.json read lazily (only for shown containers).
    pub spec_path: Option<PathBuf>,
    /// Kubernetes sandbox ID of the pod.
    pub sandbox_id: Option<String>,
    /// Owner of a rootless container.
    pub rootless_uid: Option<u32>,
    /// The recorded PID's parent must have this comm (rootless Podman).
    pub parent_comm: Option<&'static str>,
    /// Made up from a cgroup directory only: not shown when stopped.
    pub ephemeral: bool,
}

impl Record {
    pub(crate) fn new(c: Container) -> Record {
        Record {
            c,
            rec_pid: None,
            rec_start: None,
            claims_running: false,
            claimed_status: None,
            cgroup_hints: Vec::new(),
            id_in_cgroup: false,
            source: None,
            spec_path: None,
            sandbox_id: None,
            rootless_uid: None,
            parent_comm: None,
            ephemeral: false,
        }
    }

    /// Reads the OCI spec (command, user, cwd, CRI identity) once.
    pub(crate) fn load_spec(&mut self) {
        let Some(p) = self.spec_path.take() else {
            return;
        };
        let Ok(b) = std::fs::read(&p) else {
            return;
        };
        let Some(spec) = oci::Spec::parse(&b) else {
            return;
        };
        spec.fill(&mut self.c);
        if let Some(cg) = spec.cgroup() {
            if !self.cgroup_hints.contains(&cg) {
                self.cgroup_hints.push(cg);
            }
        }
        if let Some(k) = oci::cri(&spec) {
            oci::apply_cri(self, k);
        }
    }
}
