//! Shared fixtures for the integration tests: the binary under test, fixture
//! containers made with `cdbg demo --hold` (new namespaces, pivot_root into
//! a busybox rootfs or a scratch rootfs holding one static program), tmux
//! for driving a real PTY, and process-table helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The cdbg binary under test (`CDBG_BIN` overrides, e.g. the release build).
pub fn cdbg() -> PathBuf {
    std::env::var_os("CDBG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_cdbg")))
}

/// True when running in CI (a missing prerequisite is then a failure).
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Fails in CI, skips (returns false) elsewhere, when `ok` is false.
pub fn require(ok: bool, what: &str) -> bool {
    if !ok {
        assert!(!in_ci(), "CI=true and a prerequisite is missing: {what}");
        eprintln!("SKIP: {what}");
    }
    ok
}

/// scripts/fixtures.sh: fixture containers of the real runtimes.
pub fn fixtures_sh() -> String {
    format!("{}/scripts/fixtures.sh", env!("CARGO_MANIFEST_DIR"))
}

/// Whether runtime `rt` works here, asked once (`fixtures.sh check RT`).
pub fn fixtures_check(rt: &str) -> bool {
    Command::new(fixtures_sh())
        .args(["check", rt])
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether runtime `rt` is usable; a missing one fails under CI (see
/// [`require`]).
pub fn runtime_usable(rt: &str) -> bool {
    require(
        fixtures_check(rt),
        &format!("runtime {rt} (scripts/fixtures.sh check {rt})"),
    )
}

fn scratch_dir(name: &str) -> PathBuf {
    // Fixture directories left by earlier runs (statics are never dropped,
    // so each test process leaves its own behind): by age only, since a
    // test process in a PID namespace of its own cannot tell which owners
    // are alive, and no test run lasts an hour.
    static SWEEP: OnceLock<()> = OnceLock::new();
    SWEEP.get_or_init(|| {
        let old = |e: &std::fs::DirEntry| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(3600))
        };
        for e in std::fs::read_dir(std::env::temp_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            if e.file_name().to_string_lossy().starts_with("cdbgt-") && old(&e) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    });
    let d = std::env::temp_dir().join(format!("cdbgt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles a small static C program (fixtures only).
pub fn cc_static(name: &str, src: &str) -> PathBuf {
    let dir = scratch_dir("cc");
    let c = dir.join(format!("{name}.c"));
    let out = dir.join(name);
    if !out.exists() {
        std::fs::write(&c, src).unwrap();
        let tmp = dir.join(format!("{name}.tmp"));
        let st = Command::new("cc")
            .args(["-static", "-O2", "-o"])
            .arg(&tmp)
            .arg(&c)
            .status()
            .expect("cc");
        assert!(st.success(), "cc -static {name}");
        std::fs::rename(&tmp, &out).unwrap();
    }
    out
}

/// A program that sleeps in pause() and exits 0 on SIGTERM.
pub const PAUSE_C: &str = r#"
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
static void bye(int s) { (void)s; _exit(0); }
int main(void) { signal(SIGTERM, bye); signal(SIGINT, bye); for (;;) pause(); }
"#;

/// Pushes its argument into its terminal's input queue with TIOCSTI.
pub const TIOCSTI_C: &str = r#"
#include <sys/ioctl.h>
#include <stdio.h>
int main(int argc, char **argv) {
  if (argc < 2) return 2;
  for (char *p = argv[1]; *p; p++) {
    char c = (*p == '~') ? '\n' : *p;
    if (ioctl(0, TIOCSTI, &c) < 0) { perror("TIOCSTI"); return 1; }
  }
  return 0;
}
"#;

/// A busybox rootfs (every applet linked, passwd/group with root, app=1000,
/// nobody), built once per test process.
pub fn busybox_rootfs() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let bb = Path::new("/bin/busybox");
        assert!(bb.exists() || !in_ci(), "busybox-static is not installed");
        let root = scratch_dir("bbroot");
        for d in ["bin", "etc", "root", "home/app", "tmp", "mnt"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::copy(bb, root.join("bin/busybox")).unwrap();
        let list = Command::new(bb).arg("--list").output().unwrap();
        for app in String::from_utf8_lossy(&list.stdout).lines() {
            if app != "busybox" {
                let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(app));
            }
        }
        std::fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        )
        .unwrap();
        std::fs::write(root.join("etc/group"), "root:x:0:\ntty:x:5:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n").unwrap();
        let tiocsti = cc_static("tiocsti", TIOCSTI_C);
        std::fs::copy(tiocsti, root.join("bin/tiocsti")).unwrap();
        root
    })
    .clone()
}

/// A scratch rootfs: one static program (/pause) and nothing else.
pub fn scratch_rootfs() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = scratch_dir("scratch");
        let pause = cc_static("pause", PAUSE_C);
        std::fs::copy(pause, root.join("pause")).unwrap();
        root
    })
    .clone()
}

/// A fixture container made by `cdbg demo --hold`; removed on drop.
pub struct Demo {
    child: Child,
    pub pid: i32,
    pub name: String,
}

impl Demo {
    /// A busybox container whose init is `sleep`.
    pub fn busybox() -> Demo {
        Demo::start(Some(&busybox_rootfs()), Some("/bin/sleep 100000"))
    }

    /// A scratch container whose init is the one static program.
    pub fn scratch() -> Demo {
        Demo::start(Some(&scratch_rootfs()), Some("/pause"))
    }

    /// An empty-root container whose init is cdbg's sealed copy.
    pub fn empty() -> Demo {
        Demo::start(None, None)
    }

    /// The PID of the `cdbg demo --hold` process.
    pub fn holder_pid(&self) -> u32 {
        self.child.id()
    }

    pub fn start(root: Option<&Path>, init: Option<&str>) -> Demo {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "t{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        Demo::named(&name, root, init)
    }

    /// A demo container called `name`.
    pub fn named(name: &str, root: Option<&Path>, init: Option<&str>) -> Demo {
        let name = name.to_string();
        let mut cmd = Command::new(cdbg());
        cmd.args(["demo", "--hold", "--name", &name]);
        if let Some(r) = root {
            cmd.arg("--rootfs").arg(r);
        }
        if let Some(i) = init {
            cmd.args(["--init", i]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pid: i32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("demo did not start: {line:?}"));
        // Wait until the init has exec'd its program.
        let want = init.map(|i| i.split_whitespace().next().unwrap().to_string());
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let first =
                String::from_utf8_lossy(cmdline.split(|&b| b == 0).next().unwrap_or_default())
                    .into_owned();
            if want
                .as_deref()
                .map(|w| first == w)
                .unwrap_or(!first.is_empty())
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Demo { child, pid, name }
    }

    /// `cdbg --pid PID args...` with stdin closed.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(cdbg())
            .arg("--pid")
            .arg(self.pid.to_string())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Like `run`, with bytes on stdin.
    pub fn run_input(&self, args: &[&str], input: &[u8]) -> Output {
        let mut c = Command::new(cdbg())
            .arg("--pid")
            .arg(self.pid.to_string())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = c.stdin.take().unwrap();
        let data = input.to_vec();
        let w = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let out = c.wait_with_output().unwrap();
        w.join().unwrap();
        out
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        // Closing its stdin ends the demo cleanly (cgroups removed); kill
        // it if it does not go in time.
        drop(self.child.stdin.take());
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// stdout as a String.
/// Issue 4's bars on a scratch container whose only program is `/pause`:
/// `ps`, `ss -ltnp`, `ip addr`, `ls -l /` and a pipeline in the bundled
/// shell, each through `run` (a cdbg invocation with these arguments).
/// Returns `ps`'s output for further checks. `what` labels failures.
pub fn toolbox_bars(what: &str, run: impl Fn(&[&str]) -> Output) -> String {
    let o = run(&["ps"]);
    assert!(
        stdout(&o).contains("pause"),
        "{what} ps: {} {}",
        stdout(&o),
        stderr(&o)
    );
    let ps = stdout(&o);
    let o = run(&["ss", "-ltnp"]);
    assert!(
        o.status.success() && stdout(&o).contains("Local Address"),
        "{what} ss: {}",
        stderr(&o)
    );
    let o = run(&["ip", "addr"]);
    assert!(
        stdout(&o).contains("lo"),
        "{what} ip: {} {}",
        stdout(&o),
        stderr(&o)
    );
    let o = run(&["ls", "-l", "/"]);
    assert!(stdout(&o).contains("pause"), "{what} ls: {}", stderr(&o));
    let o = run(&["sh", "-c", "ps | grep pause | grep -v grep | wc -l"]);
    assert_eq!(stdout(&o).trim(), "1", "{what}: {}", stderr(&o));
    ps
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as a String.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Host PIDs whose command line starts with `needle` (zombies excluded).
/// Waits (up to 5 s: generous for a loaded CI machine; the product's own
/// deadline is a second) until exactly `n` live processes match `needle`
/// (see [`pids_matching`]), and says how many there were if not.
pub fn wait_procs(needle: &str, n: usize) {
    let ok = wait_until(Duration::from_secs(5), || pids_matching(needle).len() == n);
    let now = pids_matching(needle);
    assert!(
        ok,
        "expected {n} processes matching {needle:?}, found {now:?}"
    );
}

pub fn pids_matching(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = state
            .rsplit_once(')')
            .map(|(_, r)| r.trim_start().starts_with('Z'))
            .unwrap_or(false);
        if cmd.starts_with(needle) && !zombie {
            out.push(pid);
        }
    }
    out
}

/// Waits up to `limit` for `f` to hold.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// A tmux session running one command in a real PTY.
pub struct Tmux {
    pub name: String,
}

impl Tmux {
    pub fn start(cmd: &str, cols: u16, rows: u16) -> Tmux {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "cdbgt{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let t = Tmux { name };
        let st = t
            .tmux()
            .args(["new-session", "-d", "-s", &t.name, "-x", &cols.to_string(), "-y", &rows.to_string()])
            .arg(format!(
                "{cmd}; echo EXIT=$?; echo MODE=$(stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?icanon\\|-\\?echo' | paste -sd,); sleep 600"
            ))
            .env("TERM", "xterm")
            .status()
            .expect("tmux");
        assert!(st.success(), "tmux new-session failed");
        t
    }

    /// A tmux command on this session's own server (`-L`): one server per
    /// session, so a server exiting after another test's last session
    /// cannot race a new session.
    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.name]);
        c
    }

    pub fn keys(&self, keys: &[&str]) {
        let st = self
            .tmux()
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Types a line and presses Enter.
    pub fn line(&self, text: &str) {
        self.keys(&["-l", text]);
        self.keys(&["Enter"]);
    }

    pub fn screen(&self) -> String {
        let o = self
            .tmux()
            .args(["capture-pane", "-p", "-J", "-t", &self.name, "-S", "-200"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Waits for `text` on the screen (10 s), returning the screen.
    pub fn expect(&self, text: &str) -> String {
        let mut last = String::new();
        let ok = wait_until(Duration::from_secs(10), || {
            last = self.screen();
            last.contains(text)
        });
        assert!(ok, "expected {text:?} on screen:\n{last}");
        last
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        let _ = self
            .tmux()
            .args([
                "resize-window",
                "-t",
                &self.name,
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
            ])
            .status();
        // The new size travels through SIGWINCH and cdbg's relay.
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Runs `stty size` in the session and waits for `ROWS COLS`.
    pub fn expect_size(&self, rows: u16, cols: u16) {
        self.line("stty size");
        self.expect(&format!("{rows} {cols}"));
    }

    /// The PID of the program running in the pane (the shell tmux started).
    pub fn pane_pid(&self) -> i32 {
        let o = self
            .tmux()
            .args(["display-message", "-p", "-t", &self.name, "#{pane_pid}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
    }

    pub fn kill(&self) {
        let _ = self.tmux().args(["kill-server"]).status();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.kill();
    }
}
