//! Confinement against real Docker containers, twice for each case: through
//! the library (read the target on the host — ProcInfo, seccomp filters
//! through ptrace, its user through /proc/PID/root —, apply the plan in a
//! fresh process and compare its /proc/self/status with what `docker exec`
//! shows), and end to end (docker exec parity, issue 5: `id` and the
//! Cap*/NoNewPrivs/Seccomp lines inside `cdbg --pid` match `docker exec`).
//!
//! Needs dockerd and the image `cdbgt-bb:local`. With CI=true a missing
//! runtime fails the test; otherwise it is skipped with a reason.

use std::os::fd::AsFd;
use std::process::Command;

use cdbg::enter::confine::{self, ConfineOpts, ConfinePlan};
use cdbg::enter::procinfo::ProcInfo;
use cdbg::enter::user::{self, Creds};

const IMAGE: &str = "cdbgt-bb:local";
const KEYS: &str = "^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)";

fn docker_ready() -> bool {
    let ok = Command::new("docker")
        .args(["image", "inspect", IMAGE])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but docker or the image {IMAGE} is missing"
        );
        eprintln!("skip: docker or {IMAGE} not available");
    }
    ok
}

struct Container(String);

impl Container {
    fn run(opts: &[&str]) -> Container {
        let name = format!(
            "cdbgt-confine-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let out = Command::new("docker")
            .args(["run", "-d", "--name", &name])
            .args(opts)
            .args([IMAGE, "sleep", "300"])
            .output()
            .unwrap();
        assert!(out.status.success(), "docker run {opts:?}: {out:?}");
        Container(name)
    }

    fn pid(&self) -> i32 {
        let out = Command::new("docker")
            .args(["inspect", "-f", "{{.State.Pid}}", &self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    fn exec_status(&self) -> String {
        let out = Command::new("docker")
            .args(["exec", &self.0, "grep", "-E", KEYS, "/proc/self/status"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

/// Host side: the plan and the default user, as the CLI would compute them.
fn host_side(pid: i32, opts: &ConfineOpts, spec: Option<&str>) -> (ConfinePlan, Creds) {
    let info = ProcInfo::read(pid).unwrap();
    let plan = confine::plan(&info, opts).unwrap();
    let root = std::fs::File::open(format!("/proc/{pid}/root")).unwrap();
    let groups = info.container_groups();
    let creds = user::resolve_user(
        root.as_fd(),
        spec,
        info.container_uid(),
        info.container_gid(),
        Some(&groups),
    )
    .unwrap();
    (plan, creds)
}

/// Apply (plan, creds) in a fresh copy of this test binary and return the
/// status lines of the exec'd grep.
fn applied_status(plan: &ConfinePlan, creds: &Creds) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "apply_child", "--nocapture", "--test-threads=1"])
        .env(
            "CDBGT_CONFINE_APPLY",
            serde_json::to_string(&(plan, creds)).unwrap(),
        )
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!s.contains("APPLY-ERROR"), "{s}");
    s.lines()
        .filter(|l| {
            ["Uid:", "Gid:", "Groups:", "Cap", "NoNewPrivs:", "Seccomp"]
                .iter()
                .any(|k| l.starts_with(k))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Runs in the child: apply what the parent computed, exec grep.
#[test]
fn apply_child() {
    use std::os::unix::process::CommandExt;
    let Ok(json) = std::env::var("CDBGT_CONFINE_APPLY") else {
        return;
    };
    let (plan, creds): (ConfinePlan, Creds) = serde_json::from_str(&json).unwrap();
    if let Err(e) = confine::apply(&plan, &creds, None) {
        println!("APPLY-ERROR {e}");
        return;
    }
    // libtest printed "test apply_child ... " without a newline.
    println!();
    let e = Command::new("/bin/grep")
        .args(["-E", KEYS, "/proc/self/status"])
        .exec();
    println!("APPLY-ERROR exec: {e}");
}

fn check(opts: &[&str]) {
    if !docker_ready() {
        return;
    }
    let c = Container::run(opts);
    let want = c.exec_status();
    let (plan, creds) = host_side(
        c.pid(),
        &ConfineOpts {
            seccomp: true,
            ..Default::default()
        },
        None,
    );
    assert_eq!(
        plan.seccomp.len(),
        1,
        "docker's default profile is one filter"
    );
    let got = applied_status(&plan, &creds);
    assert_eq!(got, want, "docker run {opts:?}");
    // End to end, through the CLI.
    const PROBE: &str = r#"id; grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status"#;
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{cmd:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let want = run(Command::new("docker").args(["exec", &c.0, "sh", "-c", PROBE]));
    let cdbg = std::env::var("CDBG_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_cdbg").into());
    let got = run(Command::new(cdbg)
        .args(["--pid", &c.pid().to_string(), "sh", "-c", PROBE])
        .env_remove("CDBG_CONFIG"));
    assert_eq!(got, want, "cdbg vs docker exec, docker run {opts:?}");
}

#[test]
fn docker_default() {
    check(&[]);
}

#[test]
fn docker_user_1000() {
    check(&["--user", "1000"]);
}

#[test]
fn docker_cap_drop_all() {
    check(&["--cap-drop", "ALL"]);
}

#[test]
fn docker_read_only() {
    check(&["--read-only"]);
}

#[test]
fn docker_no_new_privileges() {
    check(&["--security-opt", "no-new-privileges"]);
}

#[test]
fn docker_user_and_cap_add() {
    check(&["--user", "1000:1000", "--cap-add", "NET_ADMIN"]);
}

/// The filter really confines: docker's default profile makes unshare(2)
/// of a user namespace fail for the copy too.
#[test]
fn docker_seccomp_blocks_like_docker() {
    if !docker_ready() {
        return;
    }
    let c = Container::run(&["--cap-drop", "ALL"]);
    // How long the whole seize/interrupt/copy/detach takes (the stop is a
    // part of it).
    let pid = c.pid();
    let t = std::time::Instant::now();
    let f = cdbg::enter::seccomp::fetch_filters(pid, std::time::Duration::from_secs(1)).unwrap();
    let took = t.elapsed();
    eprintln!(
        "fetch of {} filter(s), {} instructions: {took:?}",
        f.len(),
        f[0].prog.len()
    );
    // A liveness bound, not a benchmark: the fetch must not wait on its
    // retry deadline when nobody else traces the target.
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
    let (plan, _) = host_side(
        c.pid(),
        &ConfineOpts {
            seccomp: true,
            ..Default::default()
        },
        None,
    );
    // Apply in a child and try a syscall docker's profile denies:
    // unshare(CLONE_NEWUSER) (through util-linux's unshare on the host).
    let run = |plan: &ConfinePlan| {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "unshare_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(
                "CDBGT_CONFINE_UNSHARE",
                serde_json::to_string(plan).unwrap(),
            )
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let s = run(&plan);
    assert!(s.contains("UNSHARE-FAILED"), "{s}");
    // Control: the same plan without the filter can unshare.
    let mut open = plan.clone();
    open.seccomp.clear();
    let s = run(&open);
    assert!(s.contains("UNSHARE-OK"), "{s}");
    // And with --seccomp=unconfined nothing is read.
    let (plan, _) = host_side(c.pid(), &ConfineOpts::default(), None);
    assert!(plan.seccomp.is_empty());
}

#[test]
fn unshare_child() {
    use std::os::unix::process::CommandExt;
    let Ok(json) = std::env::var("CDBGT_CONFINE_UNSHARE") else {
        return;
    };
    let plan: ConfinePlan = serde_json::from_str(&json).unwrap();
    confine::apply(&plan, &Creds::default(), None).unwrap();
    let e = Command::new("/bin/sh")
        .args([
            "-c",
            "unshare --user true && echo UNSHARE-OK || echo UNSHARE-FAILED",
        ])
        .exec();
    println!("exec: {e}");
}

#[test]
fn docker_user_by_name_from_container_files() {
    if !docker_ready() {
        return;
    }
    let c = Container::run(&[]);
    let pid = c.pid();
    let root = std::fs::File::open(format!("/proc/{pid}/root")).unwrap();
    // The container's /etc/passwd, not the host's.
    let creds = user::resolve_user(root.as_fd(), Some("1000"), 0, 0, None).unwrap();
    let out = Command::new("docker")
        .args(["exec", "-u", "1000", &c.0, "id", "-G"])
        .output()
        .unwrap();
    let mut want: Vec<u32> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|g| g.parse().unwrap())
        .collect();
    let mut got = creds.groups.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let out = Command::new("docker")
        .args([
            "exec",
            "-u",
            "4321",
            &c.0,
            "sh",
            "-c",
            "id -u; id -g; id -G; echo $HOME",
        ])
        .output()
        .unwrap();
    let creds = user::resolve_user(root.as_fd(), Some("4321"), 0, 0, None).unwrap();
    let got = format!(
        "{}\n{}\n{}\n{}\n",
        creds.uid,
        creds.gid,
        creds
            .groups
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        creds.home
    );
    assert_eq!(got, String::from_utf8_lossy(&out.stdout));
}

/// `docker pause` freezes the container: planning says so at once instead
/// of hanging in ptrace; `--seccomp=unconfined` still plans.
#[test]
fn docker_paused_container_is_refused_clearly() {
    if !docker_ready() {
        return;
    }
    let c = Container::run(&[]);
    let pid = c.pid();
    let st = Command::new("docker")
        .args(["pause", &c.0])
        .status()
        .unwrap();
    assert!(st.success());
    let info = ProcInfo::read(pid);
    let t = std::time::Instant::now();
    let r = info.as_ref().map(|i| {
        confine::plan(
            i,
            &ConfineOpts {
                seccomp: true,
                ..Default::default()
            },
        )
    });
    let took = t.elapsed();
    let unconfined = info
        .as_ref()
        .map(|i| confine::plan(i, &ConfineOpts::default()));
    let _ = Command::new("docker").args(["unpause", &c.0]).status();
    let e = r.unwrap().unwrap_err();
    assert!(e.contains("freez") && e.contains("cgroup"), "{e}");
    // Refused at once, without a ptrace wait on the frozen target.
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
    assert!(unconfined.unwrap().is_ok());
}
