//! Discovery against real runtimes: each test starts a container with
//! scripts/fixtures.sh (which prints its init PID), then checks that
//! `cdbg::target::resolve` finds exactly that PID by name (and the other
//! TARGET forms) and that `cdbg::target::list` shows it with the right
//! runtime, name and image. No runtime CLI or daemon is used by cdbg.
//!
//! A runtime that is not usable makes its test fail when CI=true and skip
//! (with a printed reason) otherwise.

mod common;

use cdbg::target::{list, resolve, Container, Query, ResolveError, Runtime, Status};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tests that need dockerd (docker, and ctr/k8s whose images come from
/// `docker save`) share it; the freeze test must not stall the others.
static DOCKER: Mutex<()> = Mutex::new(());

/// True when `rt` is usable; else fails under CI or prints a skip reason.
fn need(rt: &str) -> bool {
    // Another test (here or another checkout's) may have dockerd frozen
    // for a moment: ask a few times.
    let ok = (0..3).any(|i| {
        if i > 0 {
            std::thread::sleep(Duration::from_secs(2));
        }
        common::fixtures_check(rt)
    });
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("runtime {rt} is not usable (scripts/fixtures.sh check {rt}) and CI=true");
        }
        eprintln!("SKIP: runtime {rt} not usable here (scripts/fixtures.sh check {rt})");
    }
    ok
}

/// A fixture container, removed on drop.
struct Fixture {
    rt: &'static str,
    name: String,
    pid: i32,
}

impl Fixture {
    /// [`Fixture::start`] when runtime `rt` is usable (see [`need`]).
    fn needed(rt: &'static str, kind: &str) -> Option<Fixture> {
        need(rt).then(|| Fixture::start(rt, kind))
    }

    fn start(rt: &'static str, kind: &str) -> Fixture {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("cdbgt-target-{rt}-{}-{nanos:x}", std::process::id());
        let run = || {
            Command::new(common::fixtures_sh())
                .args(["start", rt, kind, &name])
                .output()
                .expect("run fixtures.sh")
        };
        let mut out = run();
        if !out.status.success() {
            std::thread::sleep(Duration::from_secs(3));
            out = run();
        }
        assert!(
            out.status.success(),
            "fixtures.sh start {rt} {kind} {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pid = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("fixtures.sh prints the init PID");
        Fixture { rt, name, pid }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = Command::new(common::fixtures_sh())
            .args(["stop", self.rt, &self.name])
            .output();
    }
}

fn by_text(t: &str) -> Result<Container, ResolveError> {
    resolve(&Query {
        text: Some(t.to_string()),
        ..Query::default()
    })
}

fn listed(pid: i32) -> Container {
    let all = list(false, None);
    all.into_iter()
        .find(|c| c.pid == Some(pid))
        .unwrap_or_else(|| panic!("pid {pid} not in cdbg ls"))
}

/// The common checks: name resolves to the fixture's PID, `ls` lists it.
fn check_basic(f: &Fixture, rt: Runtime, image: Option<&str>) -> Container {
    let c = by_text(&f.name).unwrap_or_else(|e| panic!("resolve {}: {e}", f.name));
    assert_eq!(c.pid, Some(f.pid), "resolved pid for {}", f.name);
    assert_eq!(c.runtime, rt);
    assert_eq!(c.status, Status::Running);
    assert!(c.pid_start.is_some());
    let l = listed(f.pid);
    assert_eq!(l.runtime, rt, "{l:?}");
    assert_eq!(l.status, Status::Running);
    if let Some(img) = image {
        assert_eq!(l.image.as_deref(), Some(img), "{l:?}");
    }
    assert!(l.started.is_some() && l.command.is_some(), "{l:?}");
    // the runtime filter keeps it, another runtime's drops it
    assert!(list(false, Some(rt)).iter().any(|x| x.pid == Some(f.pid)));
    let other = if rt == Runtime::Lxc {
        Runtime::Docker
    } else {
        Runtime::Lxc
    };
    assert!(!list(false, Some(other))
        .iter()
        .any(|x| x.pid == Some(f.pid)));
    l
}

#[test]
fn docker_busybox_and_target_forms() {
    let _g = DOCKER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(f) = Fixture::needed("docker", "bb") else {
        return;
    };
    let l = check_basic(&f, Runtime::Docker, Some("cdbgt-bb:local"));
    assert_eq!(l.name.as_deref(), Some(f.name.as_str()));
    assert_eq!(l.id.len(), 64);
    // full ID, unique prefix, runtime prefix
    assert_eq!(by_text(&l.id).unwrap().pid, Some(f.pid));
    assert_eq!(by_text(&l.id[..12]).unwrap().pid, Some(f.pid));
    assert_eq!(
        by_text(&format!("docker:{}", f.name)).unwrap().pid,
        Some(f.pid)
    );
    assert!(matches!(
        by_text(&format!("podman:{}", f.name)),
        Err(ResolveError::NotFound { .. })
    ));
    // --pid and --cgroup
    let p = resolve(&Query {
        pid: Some(f.pid),
        ..Query::default()
    })
    .unwrap();
    assert_eq!((p.runtime, p.id.as_str()), (Runtime::Docker, l.id.as_str()));
    let cg = resolve(&Query {
        cgroup: Some(format!("/sys/fs/cgroup/memory/docker/{}", l.id)),
        ..Query::default()
    })
    .unwrap();
    assert_eq!(cg.pid, Some(f.pid));
    // a typo: not found with a suggestion
    let typo = format!("{}x", f.name);
    let e = by_text(&typo).unwrap_err();
    assert!(
        e.to_string().contains(&f.name) && e.to_string().contains("did you mean"),
        "{e}"
    );
}

#[test]
fn docker_scratch_paused_stopped() {
    let _g = DOCKER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(f) = Fixture::needed("docker", "scratch") else {
        return;
    };
    check_basic(&f, Runtime::Docker, Some("cdbgt-scratch:local"));
    let dk = |a: &[&str]| {
        let s = Command::new("docker")
            .args(a)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(s.success(), "docker {a:?}");
    };
    dk(&["pause", &f.name]);
    let c = by_text(&f.name).unwrap();
    dk(&["unpause", &f.name]);
    assert_eq!(c.status, Status::Paused);
    assert_eq!(c.pid, Some(f.pid));
    assert!(c.is_current());
    dk(&["stop", "-t", "1", &f.name]);
    assert!(!c.is_current(), "the init is gone");
    let e = by_text(&f.name).unwrap_err();
    assert!(matches!(e, ResolveError::Stopped { .. }), "{e}");
    assert!(e.to_string().contains("not running"));
    let all = list(true, Some(Runtime::Docker));
    let s = all
        .iter()
        .find(|c| c.name.as_deref() == Some(f.name.as_str()))
        .expect("ls -a shows the stopped container");
    assert_eq!((s.status, s.pid), (Status::Stopped, None));
    assert!(!list(false, None)
        .iter()
        .any(|c| c.name.as_deref() == Some(f.name.as_str())));
}

#[test]
fn docker_second_daemon() {
    let Some(f) = Fixture::needed("docker2", "bb") else {
        return;
    };
    let l = check_basic(&f, Runtime::Docker, Some("cdbgt-bb:local"));
    assert_eq!(l.name.as_deref(), Some(f.name.as_str()));
}

#[test]
fn podman_rootful() {
    let Some(f) = Fixture::needed("podman", "bb") else {
        return;
    };
    let l = check_basic(&f, Runtime::Podman, Some("localhost/cdbgt-bb:local"));
    assert_eq!(l.name.as_deref(), Some(f.name.as_str()));
    assert_eq!(l.user.as_deref(), Some("0:0"));
}

#[test]
fn podman_rootless() {
    let Some(f) = Fixture::needed("podman-rootless", "bb") else {
        return;
    };
    let l = check_basic(&f, Runtime::Podman, Some("localhost/cdbgt-bb:local"));
    assert_eq!(l.name.as_deref(), Some(f.name.as_str()));
}

#[test]
fn containerd_ctr() {
    let _g = DOCKER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(f) = Fixture::needed("ctr", "scratch") else {
        return;
    };
    let l = check_basic(&f, Runtime::Containerd, None);
    assert_eq!(l.id, f.name);
    assert_eq!(l.namespace.as_deref(), Some("default"));
    assert_eq!(
        by_text(&format!("ctr:default/{}", f.name)).unwrap().pid,
        Some(f.pid)
    );
    assert_eq!(
        by_text(&format!("default/{}", f.name)).unwrap().pid,
        Some(f.pid)
    );
}

#[test]
fn kubernetes_pod() {
    let _g = DOCKER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(f) = Fixture::needed("k8s", "bb") else {
        return;
    };
    // the pod's name is f.name; its app container is "app"
    let app = by_text(&format!("default/{}", f.name)).unwrap();
    assert_eq!(app.pid, Some(f.pid));
    assert_eq!(app.runtime, Runtime::Kubernetes);
    assert_eq!(app.name.as_deref(), Some("app"));
    for t in [
        format!("pod/{}", f.name),
        format!("pod/{}/app", f.name),
        format!("k8s:default/{}/app", f.name),
    ] {
        assert_eq!(by_text(&t).unwrap().pid, Some(f.pid), "{t}");
    }
    let sb = resolve(&Query {
        text: Some(format!("pod/{}", f.name)),
        sandbox: true,
        ..Query::default()
    })
    .unwrap();
    assert!(sb.sandbox && sb.pid.is_some() && sb.pid != Some(f.pid));
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", sb.pid.unwrap())).unwrap();
    assert_eq!(comm.trim(), "pause");
    let l = listed(f.pid);
    assert_eq!(l.display_name(), format!("default/{}/app", f.name));
    assert_eq!(l.image.as_deref(), Some("docker.io/library/cdbgt-bb:local"));
    // the sandbox is not listed without -a
    assert!(!list(false, None).iter().any(|c| c.pid == sb.pid));
    assert!(list(true, None).iter().any(|c| c.pid == sb.pid));
}

#[test]
fn runc_alone() {
    let Some(f) = Fixture::needed("runc", "bb") else {
        return;
    };
    let l = check_basic(&f, Runtime::Runc, None);
    assert_eq!(l.id, f.name);
}

#[test]
fn lxc() {
    let Some(f) = Fixture::needed("lxc", "bb") else {
        return;
    };
    let l = check_basic(&f, Runtime::Lxc, None);
    assert_eq!(l.name.as_deref(), Some(f.name.as_str()));
    assert_eq!(
        by_text(&format!("lxc:{}", f.name)).unwrap().pid,
        Some(f.pid)
    );
}

#[test]
fn nspawn() {
    let Some(f) = Fixture::needed("nspawn", "bb") else {
        return;
    };
    let l = check_basic(&f, Runtime::Nspawn, None);
    assert_eq!(l.name.as_deref(), Some(f.name.as_str()));
    assert!(l.image.as_deref().unwrap_or("").contains(&f.name), "{l:?}");
}

/// SIGCONTs the stopped daemons on drop, whatever happens in the test.
struct Frozen(Vec<i32>);

impl Drop for Frozen {
    fn drop(&mut self) {
        for &p in &self.0 {
            if let Some(pid) = rustix::process::Pid::from_raw(p) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::CONT);
            }
        }
    }
}

/// dockerd (from its pid file) and the containerd it manages (its child).
fn docker_daemons() -> Vec<i32> {
    let Ok(s) = std::fs::read_to_string("/var/run/docker.pid") else {
        return Vec::new();
    };
    let Ok(dockerd) = s.trim().parse::<i32>() else {
        return Vec::new();
    };
    let mut v = vec![dockerd];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let rest = &stat[stat.rfind(')').unwrap_or(0) + 2..];
        let ppid: i32 = rest.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if ppid == dockerd && comm.trim() == "containerd" {
            v.push(pid);
        }
    }
    v
}

#[test]
fn dockerd_frozen_rescue() {
    let _g = DOCKER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(f) = Fixture::needed("docker", "bb") else {
        return;
    };
    let daemons = docker_daemons();
    assert!(
        daemons.len() >= 2,
        "dockerd and its containerd: {daemons:?}"
    );
    let t_ok = Instant::now();
    assert_eq!(by_text(&f.name).unwrap().pid, Some(f.pid));
    let healthy = t_ok.elapsed();
    let frozen = Frozen(daemons.clone());
    for &p in &frozen.0 {
        let pid = rustix::process::Pid::from_raw(p).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    }
    // SIGSTOP takes effect asynchronously (every thread must stop).
    let state = |p: i32| {
        let st = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        st.rfind(')')
            .and_then(|i| st[i + 2..].chars().next())
            .unwrap_or('?')
    };
    let t0 = Instant::now();
    while !daemons.iter().all(|&p| state(p) == 'T') && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        daemons.iter().all(|&p| state(p) == 'T'),
        "the daemons did not stop: {:?}",
        daemons.iter().map(|&p| (p, state(p))).collect::<Vec<_>>()
    );
    let t = Instant::now();
    let c = by_text(&f.name).unwrap();
    let during = t.elapsed();
    assert_eq!(c.pid, Some(f.pid));
    assert_eq!(listed(f.pid).name.as_deref(), Some(f.name.as_str()));
    // the daemons really are stopped while we resolved
    for &p in &daemons {
        assert_eq!(state(p), 'T', "daemon {p} should be stopped");
    }
    drop(frozen);
    // Not a benchmark (scripts/bench-ls.sh times it): only proof that
    // nothing waited on the frozen daemons.
    assert!(
        during < Duration::from_secs(5),
        "resolve took {during:?} with dockerd frozen ({healthy:?} healthy)"
    );
}

/// Timing of the library calls for scripts/bench-ls.sh (not a test: run
/// with --ignored; needs CDBG_BENCH_NAME and CDBG_BENCH_PID).
#[test]
#[ignore]
fn bench_library() {
    let name = std::env::var("CDBG_BENCH_NAME").expect("CDBG_BENCH_NAME");
    let pid: i32 = std::env::var("CDBG_BENCH_PID").unwrap().parse().unwrap();
    let runs: usize = std::env::var("CDBG_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(21);
    let median = |f: &mut dyn FnMut()| {
        let mut v: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        v.sort();
        v[runs / 2]
    };
    let n = list(false, None).len();
    println!("list: {n} containers");
    let l = median(&mut || {
        let mut out = Vec::new();
        cdbg::target::print_table(&list(false, None), &mut out).unwrap();
    });
    println!("median list + table: {:.1} ms", l.as_secs_f64() * 1e3);
    let r = median(&mut || assert_eq!(by_text(&name).unwrap().pid, Some(pid)));
    println!("median resolve NAME: {:.2} ms", r.as_secs_f64() * 1e3);
    let p = median(&mut || {
        resolve(&Query {
            pid: Some(pid),
            ..Query::default()
        })
        .unwrap();
    });
    println!("median resolve --pid: {:.2} ms", p.as_secs_f64() * 1e3);
}

/// A process in cgroup `/cdbg-demo/NAME` (all hierarchies that exist),
/// moved there by a helper shell; killed and the cgroups removed on drop.
struct DemoCgroup {
    dirs: Vec<std::path::PathBuf>,
    child: std::process::Child,
}

impl DemoCgroup {
    fn start(name: &str, argv0: &str) -> DemoCgroup {
        let mut dirs = Vec::new();
        for h in ["unified", "systemd", "freezer", ""] {
            let base = std::path::Path::new("/sys/fs/cgroup").join(h);
            if base.join("cgroup.procs").exists() {
                dirs.push(base.join("cdbg-demo").join(name));
            }
        }
        for d in &dirs {
            std::fs::create_dir_all(d).unwrap();
        }
        let writes: String = dirs
            .iter()
            .map(|d| format!("echo $$ > {}/cgroup.procs; ", d.display()))
            .collect();
        let child = Command::new("bash")
            .arg("-c")
            .arg(format!("{writes} exec -a {argv0} sleep 1000"))
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        // wait until it is in the cgroup and has exec'd
        for _ in 0..200 {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if cmd.starts_with(argv0.as_bytes()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        DemoCgroup { dirs, child }
    }
}

impl Drop for DemoCgroup {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for d in &self.dirs {
            let _ = std::fs::remove_dir(d);
        }
    }
}

#[test]
fn cdbg_demo_containers() {
    let name = format!("cdbgt-target-demo-{}", std::process::id());
    let demo = DemoCgroup::start(&name, "cdbg-demo-init");
    let pid = demo.child.id() as i32;
    let c = by_text(&name).unwrap();
    assert_eq!((c.runtime, c.pid), (Runtime::Cdbg, Some(pid)));
    assert_eq!(c.cgroup.as_deref(), Some(&*format!("/cdbg-demo/{name}")));
    let l = listed(pid);
    assert_eq!(l.name.as_deref(), Some(name.as_str()));
    assert_eq!(by_text(&format!("cdbg:{name}")).unwrap().pid, Some(pid));
    // frozen through the cgroup freezer (v1 freezer.state, else v2
    // cgroup.freeze): paused
    let v1 = format!("/sys/fs/cgroup/freezer/cdbg-demo/{name}/freezer.state");
    let (file, on, off) = if std::path::Path::new(&v1).exists() {
        (v1, "FROZEN", "THAWED")
    } else {
        (
            format!("/sys/fs/cgroup/cdbg-demo/{name}/cgroup.freeze"),
            "1",
            "0",
        )
    };
    std::fs::write(&file, on).unwrap();
    let frozen = by_text(&name);
    let listed_frozen = listed(pid).status;
    std::fs::write(&file, off).unwrap();
    assert_eq!(frozen.unwrap().status, Status::Paused);
    assert_eq!(listed_frozen, Status::Paused);
    assert_eq!(by_text(&name).unwrap().status, Status::Running);
    // a process in that cgroup layout whose cmdline does not say cdbg is no
    // demo container
    let other = format!("cdbgt-target-notdemo-{}", std::process::id());
    let imp = DemoCgroup::start(&other, "impostor");
    assert!(by_text(&other).is_err());
    assert!(!list(false, None)
        .iter()
        .any(|c| c.pid == Some(imp.child.id() as i32)));
}

/// Prints `cdbg ls` (table and JSON) as the library renders it (not a
/// test: run with --ignored --nocapture).
#[test]
#[ignore]
fn show_ls() {
    let all = std::env::var("ALL").is_ok();
    let l = list(all, None);
    let mut out = Vec::new();
    cdbg::target::print_table(&l, &mut out).unwrap();
    println!("{}", String::from_utf8_lossy(&out));
    println!(
        "{}",
        serde_json::to_string_pretty(&cdbg::target::to_json(&l)).unwrap()
    );
}

/// A real `cdbg demo --hold` container: its holder sits in the demo
/// cgroup above the init, so this checks that the init (PID 1 inside) is
/// picked, not the holder.
#[test]
fn cdbg_demo_real() {
    use std::io::BufRead;
    let name = format!("cdbgt-target-realdemo-{}", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_cdbg"))
        .args(["demo", "--hold", "--name", &name])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            drop(self.0.stdin.take());
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _k = Kill(child);
    let pid: i32 = line
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no PID in {line:?}"));
    let c = by_text(&name).unwrap();
    assert_eq!((c.runtime, c.pid), (Runtime::Cdbg, Some(pid)));
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    assert!(nspid.ends_with("\t1"), "{nspid}");
    assert_eq!(listed(pid).name.as_deref(), Some(name.as_str()));
}

/// `docker run --cgroup-parent`: the cgroup carries no `docker` marker, the
/// record's hostconfig.json (or the ID as last component) maps it.
#[test]
fn docker_cgroup_parent() {
    let _g = DOCKER.lock().unwrap_or_else(|e| e.into_inner());
    if !need("docker") {
        return;
    }
    let name = format!("cdbgt-target-cgparent-{}", std::process::id());
    let run = Command::new("docker")
        .args([
            "run",
            "-d",
            "--name",
            &name,
            "--label",
            "cdbg-test=1",
            "--cgroup-parent",
            "/cdbgt-target-parent",
            "cdbgt-bb:local",
            "/bin/sleep",
            "999999999",
        ])
        .output()
        .unwrap();
    struct Rm(String);
    impl Drop for Rm {
        fn drop(&mut self) {
            let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
        }
    }
    let _rm = Rm(name.clone());
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let id = String::from_utf8_lossy(&run.stdout).trim().to_string();
    let pid: i32 = String::from_utf8_lossy(
        &Command::new("docker")
            .args(["inspect", "-f", "{{.State.Pid}}", &name])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .parse()
    .unwrap();
    let c = by_text(&name).unwrap();
    assert_eq!(c.pid, Some(pid));
    assert_eq!(
        c.cgroup.as_deref(),
        Some(&*format!("/cdbgt-target-parent/{id}"))
    );
    let l = listed(pid);
    assert_eq!(
        (l.runtime, l.name.as_deref()),
        (Runtime::Docker, Some(name.as_str()))
    );
}

/// Scratch images (one static /pause, no shell) for the runtimes not
/// covered above; the PID is still the init and it is still listed.
#[test]
fn scratch_images_other_runtimes() {
    for (rt, want) in [
        ("podman", Runtime::Podman),
        ("runc", Runtime::Runc),
        ("lxc", Runtime::Lxc),
        ("nspawn", Runtime::Nspawn),
    ] {
        if !need(rt) {
            continue;
        }
        let f = Fixture::start(rt, "scratch");
        let c = by_text(&f.name).unwrap_or_else(|e| panic!("{rt}: {e}"));
        assert_eq!((c.runtime, c.pid), (want, Some(f.pid)), "{rt}");
        assert!(c.is_current());
        assert_eq!(listed(f.pid).runtime, want, "{rt}");
    }
}
