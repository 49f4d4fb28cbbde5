//! The CLI against real runtimes (issues 3 and 4): for every runtime, a
//! busybox and a scratch container made by scripts/fixtures.sh; `cdbg ls`
//! lists it, `cdbg TARGET ...` runs inside it (the container's programs, or
//! the bundled applets in a scratch image), in the target's namespaces and
//! cgroups; the toolbox bars on scratch images; an interactive shell in a
//! Docker container. With CI=true an unusable runtime fails the test.

mod common;

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;

/// A container of a real runtime, stopped on drop.
struct Fixture {
    rt: &'static str,
    name: String,
    pid: i32,
}

impl Fixture {
    fn start(rt: &'static str, kind: &str) -> Fixture {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "cdbgt-rt-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
            kind
        );
        let o = Command::new(common::fixtures_sh())
            .args(["start", rt, kind, &name])
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "fixtures.sh start {rt} {kind} {name} failed"
        );
        let pid = String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .expect("fixtures.sh prints the init PID");
        Fixture { rt, name, pid }
    }

    /// How a user names this container on the command line.
    fn target(&self) -> String {
        match self.rt {
            "k8s" => format!("default/{}/app", self.name),
            "ctr" => format!("ctr:default/{}", self.name),
            "runc" => format!("runc:{}", self.name),
            _ => self.name.clone(),
        }
    }

    fn cdbg(&self, args: &[&str]) -> Output {
        Command::new(cdbg())
            .arg(self.target())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = Command::new(common::fixtures_sh())
            .args(["stop", self.rt, &self.name])
            .output();
    }
}

/// The namespaces and cgroups of a command started by cdbg equal the
/// target's, and `cdbg ls` lists the target.
fn check_membership(f: &Fixture, sleeper: &[&str], tag: &str) {
    let listed = Command::new(cdbg())
        .args(["ls", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("ls --json");
    let found = json["containers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["pid"].as_i64() == Some(f.pid as i64));
    assert!(
        found,
        "{} not in cdbg ls: {}",
        f.name,
        String::from_utf8_lossy(&listed.stdout)
    );

    let mut child = Command::new(cdbg())
        .arg(f.target())
        .args(sleeper)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut pids = vec![];
    let ok = wait_until(Duration::from_secs(10), || {
        pids = pids_matching(tag);
        !pids.is_empty()
    });
    assert!(ok, "{}: the command did not start", f.name);
    let p = pids[0];
    for ns in ["mnt", "pid", "net", "ipc", "uts", "cgroup", "user"] {
        let a = std::fs::metadata(format!("/proc/{p}/ns/{ns}"))
            .unwrap()
            .ino();
        let b = std::fs::metadata(format!("/proc/{}/ns/{ns}", f.pid))
            .unwrap()
            .ino();
        assert_eq!(a, b, "{}: {ns} namespace differs", f.name);
    }
    let cg = |pid: i32| std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert_eq!(cg(p), cg(f.pid), "{}: cgroups differ", f.name);
    let _ = child.kill();
    let _ = child.wait();
    wait_procs(tag, 0);
}

fn busybox_case(rt: &'static str) {
    if !common::runtime_usable(rt) {
        return;
    }
    let f = Fixture::start(rt, "bb");
    // The container's own files and programs.
    let o = f.cdbg(&["cat", "/etc/passwd"]);
    assert!(
        o.status.success() && stdout(&o).contains("root:"),
        "{}: {}",
        f.name,
        stderr(&o)
    );
    let o = f.cdbg(&["hostname"]);
    assert!(
        o.status.success() && !stdout(&o).trim().is_empty(),
        "{}: {}",
        f.name,
        stderr(&o)
    );
    let o = f.cdbg(&["sh", "-c", "echo $((6*7)); exit 3"]);
    assert_eq!(
        (o.status.code(), stdout(&o).trim()),
        (Some(3), "42"),
        "{}",
        stderr(&o)
    );
    let tag = format!("sleep {}", 30000 + f.pid % 20000);
    check_membership(&f, &["sleep", &tag[6..]], &tag);
}

fn scratch_case(rt: &'static str) {
    if !common::runtime_usable(rt) {
        return;
    }
    let f = Fixture::start(rt, "scratch");
    // No shell, no ls in the image: the bundled ones run.
    let o = f.cdbg(&["ls", "/"]);
    assert!(o.status.success(), "{}: {}", f.name, stderr(&o));
    assert!(stdout(&o).contains("pause"), "{}: {}", f.name, stdout(&o));
    let o = f.cdbg(&["sh", "-c", "echo in-scratch; exit 4"]);
    assert_eq!(
        (o.status.code(), stdout(&o).trim()),
        (Some(4), "in-scratch"),
        "{}",
        stderr(&o)
    );
    let tag = format!("sleep {}", 50000 + f.pid % 10000);
    check_membership(&f, &["cdbg-sleep", &tag[6..]], &tag);
}

#[test]
fn docker_busybox() {
    busybox_case("docker")
}
#[test]
fn docker_scratch() {
    scratch_case("docker")
}
#[test]
fn docker_second_daemon() {
    busybox_case("docker2")
}
#[test]
fn podman_busybox() {
    busybox_case("podman")
}
#[test]
fn podman_scratch() {
    scratch_case("podman")
}
#[test]
fn podman_rootless_busybox() {
    busybox_case("podman-rootless")
}
#[test]
fn containerd_busybox() {
    busybox_case("ctr")
}
#[test]
fn containerd_scratch() {
    scratch_case("ctr")
}
#[test]
fn kubernetes_pod_busybox() {
    busybox_case("k8s")
}
#[test]
fn runc_busybox() {
    busybox_case("runc")
}
#[test]
fn runc_scratch() {
    scratch_case("runc")
}
#[test]
fn lxc_busybox() {
    busybox_case("lxc")
}
#[test]
fn nspawn_busybox() {
    busybox_case("nspawn")
}

/// Issue 4's bars on a scratch image of a real runtime.
fn toolbox_bars(rt: &'static str) {
    if !common::runtime_usable(rt) {
        return;
    }
    let f = Fixture::start(rt, "scratch");
    common::toolbox_bars(rt, |args| f.cdbg(args));
}

#[test]
fn toolbox_bars_docker_scratch() {
    toolbox_bars("docker")
}

#[test]
fn toolbox_bars_podman_scratch() {
    toolbox_bars("podman")
}

#[test]
fn interactive_shell_in_docker() {
    if !common::runtime_usable("docker") {
        return;
    }
    let f = Fixture::start("docker", "bb");
    let t = Tmux::start(&format!("{} {}", cdbg().display(), f.name), 100, 30);
    t.expect("# ");
    t.line("tty; echo in-docker-$((2*21))");
    let s = t.expect("in-docker-42");
    assert!(s.contains("/dev/pts/"), "{s}");
    t.line("exit 6");
    t.expect("EXIT=6");
}

#[test]
fn docker_exec_style_errors() {
    let o = Command::new(cdbg())
        .args(["cdbgt-no-such-container-xyz", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    let e = stderr(&o);
    assert!(
        e.contains("cdbgt-no-such-container-xyz") && e.lines().count() == 1,
        "{e}"
    );
}

#[test]
fn docker_container_by_pid() {
    if !common::runtime_usable("docker") {
        return;
    }
    let f = Fixture::start("docker", "bb");
    let o = Command::new(cdbg())
        .args([
            "--pid",
            &f.pid.to_string(),
            "sh",
            "-c",
            "hostname; cat /proc/1/cmdline",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("sleep"), "{}", stdout(&o));
}

/// SIGCONTs the frozen processes on drop, whatever happens in the test.
struct Thaw(Vec<i32>);

impl Drop for Thaw {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = Command::new("kill")
                .args(["-CONT", &p.to_string()])
                .status();
        }
    }
}

#[test]
fn rescue_with_dockerd_frozen() {
    if !common::runtime_usable("docker") {
        return;
    }
    let f = Fixture::start("docker", "bb");
    let mut daemons: Vec<i32> = pids_matching("dockerd");
    daemons.extend(pids_matching("containerd --config /var/run/docker"));
    assert!(!daemons.is_empty());
    let _thaw = Thaw(daemons.clone());
    for p in &daemons {
        Command::new("kill")
            .args(["-STOP", &p.to_string()])
            .status()
            .unwrap();
    }
    let t = std::time::Instant::now();
    let o = Command::new("timeout")
        .arg("20")
        .arg(cdbg())
        .args([&f.name, "hostname"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = Command::new("timeout")
        .arg("20")
        .arg(cdbg())
        .arg("ls")
        .output()
        .unwrap();
    assert!(stdout(&o).contains(&f.name), "{}", stdout(&o));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn rootless_podman_uids_are_the_containers_view() {
    if !common::runtime_usable("podman-rootless") {
        return;
    }
    let f = Fixture::start("podman-rootless", "bb");
    // Inside, the command is root of the container's user namespace ...
    let o = f.cdbg(&["id"]);
    assert!(
        stdout(&o).starts_with("uid=0(root) gid=0(root)"),
        "{} {}",
        stdout(&o),
        stderr(&o)
    );
    // ... which is the rootless user on the host, like the container's init.
    let tag = format!("sleep {}", 60000 + f.pid % 5000);
    let mut child = Command::new(cdbg())
        .arg(f.target())
        .args(["sleep", &tag[6..]])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut pids = vec![];
    assert!(wait_until(Duration::from_secs(10), || {
        pids = pids_matching(&tag);
        !pids.is_empty()
    }));
    let host_uid = |pid: i32| std::fs::metadata(format!("/proc/{pid}")).unwrap().uid();
    assert_eq!(host_uid(pids[0]), host_uid(f.pid));
    assert_ne!(host_uid(pids[0]), 0);
    let _ = child.kill();
    let _ = child.wait();
    // A user of the container's /etc/passwd maps through the same uid_map.
    let o = Command::new(cdbg())
        .args(["-u", "app"])
        .arg(f.target())
        .args(["id", "-un"])
        .output()
        .unwrap();
    assert_eq!(stdout(&o).trim(), "app", "{}", stderr(&o));
}
