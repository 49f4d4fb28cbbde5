//! Kept sessions (issue 6): detach keys, `~.`, attach, `sessions`, `kill`,
//! the holder's lifetime and access control — through real PTYs (tmux)
//! against `cdbg demo` fixture containers.
//!
//! Each test uses its own runtime directory (`CDBG_RUN_DIR`) and an empty
//! config directory (`XDG_CONFIG_HOME`), so tests running in parallel never
//! see each other's sessions; one test uses the default /run/cdbg.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use cdbg::session::holder::children;
use common::*;

/// A private runtime and config directory for one test.
struct Env {
    dir: PathBuf,
}

impl Env {
    fn new() -> Env {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = PathBuf::from(format!(
            "/tmp/cdbgt-sess-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir_all(dir.join("cfg")).unwrap();
        Env { dir }
    }

    fn run_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    fn cfg(&self) -> PathBuf {
        self.dir.join("cfg")
    }

    /// `cdbg` with this test's environment.
    fn cmd(&self) -> Command {
        let mut c = Command::new(cdbg());
        c.env("CDBG_RUN_DIR", self.run_dir())
            .env("XDG_CONFIG_HOME", self.cfg())
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// The shell words that run cdbg with this environment (for tmux).
    fn shell(&self, args: &str) -> String {
        format!(
            "env CDBG_RUN_DIR={} XDG_CONFIG_HOME={} {} {args}",
            self.run_dir().display(),
            self.cfg().display(),
            cdbg().display()
        )
    }

    /// `cdbg -d --pid PID args...`: the session's ID.
    fn detach(&self, pid: i32, args: &[&str]) -> String {
        let o = self
            .cmd()
            .args(["-d", "--pid", &pid.to_string()])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "cdbg -d: {}", stderr(&o));
        let id = stdout(&o).trim().to_string();
        assert_eq!(id.len(), 12, "an ID: {id:?}");
        id
    }

    fn sessions(&self) -> Vec<serde_json::Value> {
        let o = self.run(&["sessions", "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    }

    fn session(&self, id: &str) -> Option<serde_json::Value> {
        self.sessions().into_iter().find(|s| s["id"] == id)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // End whatever a failed test left behind.
        for s in self.sessions_quiet() {
            let _ = self
                .cmd()
                .args(["kill", s.as_str()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Env {
    fn sessions_quiet(&self) -> Vec<String> {
        let Ok(o) = self.cmd().args(["sessions", "--json"]).output() else {
            return vec![];
        };
        let v: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap_or_default();
        v.iter()
            .filter_map(|s| s["id"].as_str().map(String::from))
            .collect()
    }
}

fn attached(e: &Env, id: &str) -> bool {
    e.session(id)
        .map(|s| s["attached"] == true)
        .unwrap_or(false)
}

#[test]
fn detach_keys_reattach_and_ctrl_p_still_works() {
    let c = Demo::busybox();
    let e = Env::new();
    // No -d: detach keys make the session kept and attach at once.
    let t = Tmux::start(
        &e.shell(&format!("--detach-keys ctrl-p,ctrl-q --pid {}", c.pid)),
        100,
        30,
    );
    t.expect("#");
    t.line("echo mark-$((40+2))");
    t.expect("mark-42");
    // A lone Ctrl-P reaches the shell's program after the hold time.
    t.line("cat -v");
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["C-p"]);
    std::thread::sleep(Duration::from_millis(800));
    t.keys(&["Enter"]);
    t.expect("^P");
    t.keys(&["C-d"]);
    // Detach.
    t.keys(&["C-p", "C-q"]);
    let screen = t.expect("EXIT=0");
    assert!(screen.contains("detached from session"), "{screen}");
    let list = e.sessions();
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["attached"], false);
    drop(t);
    // Re-attach: the earlier output is replayed and the shell works.
    let t = Tmux::start(&e.shell(&format!("attach {}", &id[..6])), 100, 30);
    t.expect("mark-42");
    assert!(wait_until(Duration::from_secs(10), || attached(&e, &id)));
    t.line("echo again-$((1+1))");
    t.expect("again-2");
    t.line("exit 3");
    t.expect("EXIT=3");
    // The session is over: attach reports why and the status.
    let o = e.run(&["attach", &id]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("exited with status 3"),
        "{}",
        stderr(&o)
    );
    assert!(e.sessions().is_empty());
}

#[test]
fn config_file_turns_detach_keys_on() {
    let c = Demo::busybox();
    let e = Env::new();
    std::fs::create_dir_all(e.cfg().join("cdbg")).unwrap();
    std::fs::write(
        e.cfg().join("cdbg/config.toml"),
        "# cdbg\ndetach-keys = \"ctrl-x,x\"\n",
    )
    .unwrap();
    let t = Tmux::start(&e.shell(&format!("--pid {}", c.pid)), 100, 30);
    t.expect("#");
    t.line("echo cfg-$((6*7))");
    t.expect("cfg-42");
    t.keys(&["C-x", "x"]);
    t.expect("EXIT=0");
    assert_eq!(e.sessions().len(), 1);
}

#[test]
fn tilde_dot_ends_the_client_only() {
    let c = Demo::busybox();
    let e = Env::new();
    let tag = format!("{}", 31000 + c.pid % 1000);
    let id = e.detach(c.pid, &["sh", "-c", &format!("sleep {tag}5 & cat")]);
    let t = Tmux::start(
        &e.shell(&format!("attach --detach-keys ctrl-p,ctrl-q {id}")),
        100,
        30,
    );
    assert!(wait_until(Duration::from_secs(10), || attached(&e, &id)));
    t.line("hello-tilde");
    t.expect("hello-tilde");
    t.keys(&["-l", "~."]);
    t.expect("EXIT=0");
    assert!(wait_until(Duration::from_secs(5), || !attached(&e, &id)));
    assert_eq!(pids_matching(&format!("sleep {tag}5")).len(), 1);
    let o = e.run(&["kill", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    wait_procs(&format!("sleep {tag}5"), 0);
}

#[test]
fn kill_9_of_an_attached_client_then_attach_again() {
    let c = Demo::busybox();
    let e = Env::new();
    let id = e.detach(c.pid, &[]);
    let t = Tmux::start(&e.shell(&format!("attach {id}")), 100, 30);
    assert!(wait_until(Duration::from_secs(10), || attached(&e, &id)));
    t.line("echo before-$((2*50))");
    t.expect("before-100");
    let client = children(t.pane_pid())
        .into_iter()
        .find(|p| {
            std::fs::read_link(format!("/proc/{p}/exe"))
                .map(|x| x.to_string_lossy().contains("cdbg"))
                .unwrap_or(false)
        })
        .expect("the attach client");
    Command::new("kill")
        .args(["-9", &client.to_string()])
        .status()
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || !attached(&e, &id)));
    drop(t);
    let t = Tmux::start(&e.shell(&format!("attach {id}")), 100, 30);
    t.expect("before-100");
    t.line("echo after-$((3*50))");
    t.expect("after-150");
    t.line("exit");
    t.expect("EXIT=0");
}

#[test]
fn detached_start_sessions_json_and_kill() {
    let c = Demo::busybox();
    let e = Env::new();
    let tag = format!("{}", 32000 + c.pid % 1000);
    let id = e.detach(
        c.pid,
        &[
            "--name",
            "worker",
            "sh",
            "-c",
            &format!("echo started-{tag}; sleep {tag}1 & sleep {tag}2"),
        ],
    );
    let s = e.session(&id).expect("listed");
    assert_eq!(s["name"], "worker");
    assert_eq!(s["target"], format!("pid {}", c.pid));
    assert_eq!(s["target_pid"], c.pid);
    assert!(s["command"]
        .as_str()
        .unwrap()
        .starts_with("sh -c echo started"));
    assert_eq!(s["attached"], false);
    assert!(s["started"].as_u64().unwrap() > 1_600_000_000);
    let pid = s["pid"].as_i64().expect("command pid") as i32;
    // sh exec'd its last command: the command's PID now runs `sleep TAG2`.
    // The session is listed as soon as it starts, possibly before sh has
    // got that far: wait for the exec rather than race it.
    let want = format!("sleep\0{tag}2\0");
    let cmdline = || {
        String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default())
            .into_owned()
    };
    assert!(
        wait_until(Duration::from_secs(5), || cmdline() == want),
        "{:?}",
        cmdline()
    );
    assert!(s["holder_pid"].as_i64().unwrap() > 0);
    // The table names it too; a second session with the same name is refused.
    let table = stdout(&e.run(&["sessions"]));
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains(&id) && table.contains("worker"), "{table}");
    let o = e.run(&["-d", "--name", "worker", "--pid", &c.pid.to_string()]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("worker"), "{}", stderr(&o));
    // Output written while detached is replayed on attach (by name).
    let o = e
        .cmd()
        .args(["attach", "worker"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // --signal reaches the command (sh), which ends the session.
    assert_eq!(pids_matching(&format!("sleep {tag}")).len(), 2);
    let k = e.run(&["kill", "--signal", "TERM", "worker"]);
    assert!(k.status.success(), "{}", stderr(&k));
    let out = o.wait_with_output().unwrap();
    assert!(
        stdout(&out).contains(&format!("started-{tag}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(out.status.code(), Some(143));
    wait_procs(&format!("sleep {tag}"), 0);
    // Plain kill of another session.
    let id2 = e.detach(c.pid, &["sleep", &format!("{tag}3")]);
    wait_procs(&format!("sleep {tag}3"), 1);
    let k = e.run(&["kill", &id2]);
    assert!(k.status.success(), "{}", stderr(&k));
    wait_procs(&format!("sleep {tag}3"), 0);
    assert!(e.session(&id2).is_none());
    let o = e.run(&["attach", &id2]);
    assert_eq!(o.status.code(), Some(137));
    assert!(stderr(&o).contains("cdbg kill"), "{}", stderr(&o));
}

#[test]
fn session_ends_with_its_container() {
    let c = Demo::busybox();
    let e = Env::new();
    let id = e.detach(c.pid, &[]);
    let holder = e.session(&id).unwrap()["holder_pid"].as_i64().unwrap() as i32;
    drop(c);
    assert!(wait_until(
        Duration::from_secs(5),
        || !std::path::Path::new(&format!("/proc/{holder}")).exists()
            || std::fs::read_to_string(format!("/proc/{holder}/stat"))
                .map(|s| s.contains(") Z"))
                .unwrap_or(true)
    ));
    assert!(e.session(&id).is_none());
    let o = e.run(&["attach", &id]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("container stopped"),
        "attach says why: {}",
        stderr(&o)
    );
}

#[test]
fn fifty_sessions_into_one_container() {
    let c = Demo::busybox();
    let e = Env::new();
    let tag = format!("{}", 33000 + c.pid % 1000);
    let ids: Vec<String> = (0..50)
        .map(|i| e.detach(c.pid, &["sleep", &format!("{tag}{i:02}")]))
        .collect();
    let list = e.sessions();
    assert_eq!(list.len(), 50);
    wait_procs(&format!("sleep {tag}"), 50);
    let table = stdout(&e.run(&["sessions"]));
    assert_eq!(table.lines().count(), 51, "{table}");
    for id in &ids {
        let o = e.run(&["kill", id]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    wait_procs(&format!("sleep {tag}"), 0);
    assert!(e.sessions().is_empty());
}

#[test]
fn non_owner_cannot_connect() {
    let c = Demo::busybox();
    // The default runtime directory: 0700 directories, 0600 socket.
    let o = Command::new(cdbg())
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("CDBG_RUN_DIR")
        .args(["-d", "--pid", &c.pid.to_string(), "sleep", "34567"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    for d in ["/run/cdbg", "/run/cdbg/sessions"] {
        let m = std::fs::symlink_metadata(d).unwrap();
        assert!(m.is_dir());
        assert_eq!(m.mode() & 0o777, 0o700, "{d}");
    }
    let sock = format!("/run/cdbg/sessions/{id}.sock");
    let m = std::fs::symlink_metadata(&sock).unwrap();
    assert!(m.file_type().is_socket());
    assert_eq!(m.mode() & 0o777, 0o600);
    let nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(cdbg())
            .args(args)
            .env_remove("CDBG_RUN_DIR")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = nobody(&["attach", &id]);
    assert_ne!(o.status.code(), Some(0));
    let o = nobody(&["attach", &sock]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("ermission denied"), "{}", stderr(&o));
    // SO_PEERCRED: even with the file modes opened up, the holder refuses.
    let e = Env::new();
    let id2 = e.detach(c.pid, &["sleep", "34568"]);
    let run = e.run_dir();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        run.join("sessions"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let sock2 = run.join(format!("sessions/{id2}.sock"));
    std::fs::set_permissions(&sock2, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    std::fs::set_permissions(&e.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = nobody(&["attach", sock2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("uid 65534 does not own this session"),
        "{}",
        stderr(&o)
    );
    assert!(!attached(&e, &id2));
    // Both sessions are still alive and usable by root.
    assert!(wait_until(Duration::from_secs(5), || {
        pids_matching("sleep 34567").len() == 1 && pids_matching("sleep 34568").len() == 1
    }));
    let k = Command::new(cdbg())
        .env_remove("CDBG_RUN_DIR")
        .args(["kill", &id])
        .output()
        .unwrap();
    assert!(k.status.success(), "{}", stderr(&k));
    wait_procs("sleep 34567", 0);
    let _ = std::fs::remove_file(format!("/run/cdbg/sessions/{id}.json"));
}

#[test]
fn a_killed_holder_takes_its_session_along_and_is_cleaned_up() {
    let c = Demo::busybox();
    let e = Env::new();
    let tag = format!("{}", 36000 + c.pid % 1000);
    let id = e.detach(
        c.pid,
        &[
            "sh",
            "-c",
            &format!("(setsid sleep {tag}1 &); sleep {tag}2"),
        ],
    );
    wait_procs(&format!("sleep {tag}"), 2);
    let holder = e.session(&id).unwrap()["holder_pid"].as_i64().unwrap();
    Command::new("kill")
        .args(["-9", &holder.to_string()])
        .status()
        .unwrap();
    wait_procs(&format!("sleep {tag}"), 0);
    // The stale entry is removed by the next listing.
    assert!(e.session(&id).is_none());
    let dir = e.run_dir().join("sessions");
    assert!(!dir.join(format!("{id}.sock")).exists());
    assert!(!dir.join(format!("{id}.json")).exists());
    // `cdbg kill` with a number still means the applet (a PID).
    let o = e.run(&["kill", "-0", &std::process::id().to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn steal_takes_over_and_a_second_attach_is_refused() {
    let c = Demo::busybox();
    let e = Env::new();
    let id = e.detach(c.pid, &[]);
    let a = Tmux::start(&e.shell(&format!("attach {id}")), 100, 30);
    assert!(wait_until(Duration::from_secs(10), || attached(&e, &id)));
    a.line("echo first-$((5+5))");
    a.expect("first-10");
    let o = e.run(&["attach", &id]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("--steal"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let b = Tmux::start(&e.shell(&format!("attach --steal {id}")), 100, 30);
    b.expect("first-10");
    let sa = a.expect("EXIT=0");
    assert!(sa.contains("taken over"), "{sa}");
    b.line("echo second-$((10+10))");
    b.expect("second-20");
    b.line("exit 4");
    b.expect("EXIT=4");
}

#[test]
fn resize_on_attach_reaches_the_command() {
    let c = Demo::busybox();
    let e = Env::new();
    let id = e.detach(c.pid, &[]);
    let t = Tmux::start(&e.shell(&format!("attach {id}")), 91, 27);
    assert!(wait_until(Duration::from_secs(10), || attached(&e, &id)));
    t.expect_size(27, 91);
    t.resize(77, 21);
    t.expect_size(21, 77);
    t.line("exit");
    t.expect("EXIT=0");
}

#[test]
fn a_plain_session_still_dies_with_its_client() {
    let c = Demo::busybox();
    let e = Env::new();
    let tag = format!("{}", 35000 + c.pid % 1000);
    let t = Tmux::start(
        &e.shell(&format!(
            "-it --pid {} sh -c \"(setsid sleep {tag}1 &); sleep {tag}2\"",
            c.pid
        )),
        80,
        24,
    );
    wait_procs(&format!("sleep {tag}"), 2);
    assert!(e.sessions().is_empty(), "not a kept session");
    let client = pids_matching(&cdbg().display().to_string());
    let client: Vec<i32> = client
        .into_iter()
        .filter(|p| {
            let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmd).contains(&format!("{tag}2"))
        })
        .collect();
    assert_eq!(client.len(), 1, "{client:?}");
    Command::new("kill")
        .args(["-9", &client[0].to_string()])
        .status()
        .unwrap();
    wait_procs(&format!("sleep {tag}"), 0);
    drop(t);
}

#[test]
fn the_holder_keeps_none_of_the_callers_descriptors() {
    let c = Demo::busybox();
    let e = Env::new();
    // fd 7 is another copy of stdout: if the holder kept it, reading stdout
    // to EOF would wait for the session to end (an ssh channel that hangs).
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec 7>&1; {}",
            e.shell(&format!("-d --pid {} sleep 37001", c.pid))
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        let _ = tx.send(s);
    });
    let id = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("stdout reached EOF while the session runs");
    let id = id.trim();
    assert!(child.wait().unwrap().success());
    let holder = e.session(id).unwrap()["holder_pid"].as_i64().unwrap();
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{holder}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|f| std::fs::read_link(f.path()).ok())
        .map(|p| p.display().to_string())
        .collect();
    assert!(!fds.iter().any(|f| f.contains("pipe:")), "{fds:?}");
    assert!(e.run(&["kill", id]).status.success());
}
