//! The process, memory and mount applets, run as busybox-style symlinks to
//! the built binary (as root): ps, top, lsof, free, findmnt, mount.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A directory of symlinks named after the applets.
fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cdbgt-procs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for a in ["ps", "top", "lsof", "free", "findmnt", "mount", "umount"] {
            let l = dir.join(a);
            let _ = std::fs::remove_file(&l);
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cdbg"), &l).unwrap();
        }
        dir
    })
}

fn applet(name: &str) -> PathBuf {
    bin_dir().join(name)
}

fn run(name: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(applet(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {name}: {e}"));
    decode(out)
}

fn decode(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A child process killed when dropped.
struct Kid(Child);

impl Kid {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        // The child leads its own process group: take grandchildren too.
        if let Some(pid) = rustix::process::Pid::from_raw(self.0.id() as i32) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns a command and waits until its `comm` is `comm` (it has exec'd).
fn spawn(cmd: &mut Command, comm: &str) -> Kid {
    let kid = Kid(cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn child"));
    wait_comm(kid.pid(), comm);
    kid
}

fn wait_comm(pid: u32, comm: &str) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {pid} never became {comm}");
}

/// The name of `uid` in the host's /etc/passwd.
fn passwd_name(uid: u32) -> Option<String> {
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
        })
}

/// Lines whose whitespace-split fields contain `pid` at index `col`.
fn line_with_pid(out: &str, col: usize, pid: u32) -> Option<&str> {
    let p = pid.to_string();
    out.lines()
        .find(|l| l.split_whitespace().nth(col) == Some(p.as_str()))
}

/// Runs `sh -c SCRIPT` under `unshare -m --propagation private` (plus
/// `-p -f`, a new PID namespace, with `new_pid_ns`), asserts it exits 0 and
/// returns its stdout.
#[track_caller]
fn unshared_sh(new_pid_ns: bool, script: &str) -> String {
    let mut args = vec!["-m"];
    if new_pid_ns {
        args.extend(["-p", "-f"]);
    }
    args.extend(["--propagation", "private", "sh", "-c", script]);
    let (rc, out, err) = decode(Command::new("unshare").args(&args).output().unwrap());
    assert_eq!(rc, 0, "{out}{err}");
    out
}

/// The words of the first (header) line of `out`.
fn header(out: &str) -> Vec<&str> {
    out.lines().next().unwrap().split_whitespace().collect()
}

fn need_tool(tool: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{tool} is required in CI");
        }
        eprintln!("skipping: {tool} is not installed");
    }
    ok
}

#[test]
fn ps_shows_a_child_with_pid_user_state_command() {
    let sleeper = spawn(Command::new("sleep").arg("12345"), "sleep");
    let pid = sleeper.pid();
    let (rc, out, err) = run(
        "ps",
        &["-o", "pid,ppid,user,stat,comm,args", "-p", &pid.to_string()],
    );
    assert_eq!(rc, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["PID", "PPID", "USER", "STAT", "COMMAND", "COMMAND"]
    );
    let f: Vec<&str> = lines.next().expect("a row").split_whitespace().collect();
    assert_eq!(f[0], pid.to_string());
    assert_eq!(f[1], std::process::id().to_string());
    assert_eq!(f[2], passwd_name(0).unwrap_or("0".into()));
    assert!(f[3].starts_with('S'), "state {}", f[3]);
    assert_eq!(f[4], "sleep");
    assert_eq!(&f[5..], ["sleep", "12345"]);
    assert!(lines.next().is_none(), "only the selected process: {out}");
}

#[test]
fn ps_names_users_from_etc_passwd() {
    let Some(name) = passwd_name(65534) else {
        eprintln!("skipping: no uid 65534 in /etc/passwd");
        return;
    };
    let sleeper = spawn(
        Command::new("sleep").arg("12347").uid(65534).gid(65534),
        "sleep",
    );
    let (rc, out, err) = run("ps", &["aux"]);
    assert_eq!(rc, 0, "{err}");
    let l = line_with_pid(&out, 1, sleeper.pid()).unwrap_or_else(|| panic!("no row: {out}"));
    let short = if name.len() > 8 {
        format!("{}+", &name[..7])
    } else {
        name
    };
    assert!(l.starts_with(&short), "{l}");
    assert!(l.ends_with("sleep 12347"), "{l}");
}

#[test]
fn ps_ef_and_aux_headers_and_rows() {
    let sleeper = spawn(Command::new("sleep").arg("12345"), "sleep");
    let (rc, out, _) = run("ps", &["-ef"]);
    assert_eq!(rc, 0);
    assert_eq!(
        header(&out),
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    );
    let l = line_with_pid(&out, 1, sleeper.pid()).expect("sleep in ps -ef");
    let f: Vec<&str> = l.split_whitespace().collect();
    assert_eq!(f[2], std::process::id().to_string());
    assert_eq!(f[5], "?");
    assert!(l.ends_with("sleep 12345"));
    // Kernel threads show as [name].
    assert!(out.lines().any(|l| l.ends_with("[kthreadd]")), "{out}");

    let (rc, out, _) = run("ps", &["aux"]);
    assert_eq!(rc, 0);
    assert_eq!(
        header(&out),
        ["USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"]
    );
    let l = line_with_pid(&out, 1, sleeper.pid()).expect("sleep in ps aux");
    let f: Vec<&str> = l.split_whitespace().collect();
    let rss: u64 = f[5].parse().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", sleeper.pid())).unwrap();
    let vmrss: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert_eq!(rss, vmrss, "RSS matches VmRSS");
    assert!(f[7].starts_with('S'));
    assert!(f[9].contains(':'), "TIME {}", f[9]);
}

#[test]
fn ps_tree_views_indent_children() {
    let sh = spawn(Command::new("sh").args(["-c", "sleep 12346 & wait"]), "sh");
    // Wait for the grandchild.
    let t = Instant::now();
    let kid = loop {
        let (_, out, _) = run(
            "ps",
            &["-o", "pid,ppid,args", "--ppid", &sh.pid().to_string()],
        );
        if let Some(l) = out.lines().skip(1).find(|l| l.ends_with("sleep 12346")) {
            break l.split_whitespace().next().unwrap().to_string();
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no grandchild: {out}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (rc, out, _) = run("ps", &["-ef", "--forest"]);
    assert_eq!(rc, 0);
    let sh_line = line_with_pid(&out, 1, sh.pid()).expect("sh row");
    let kid_line = out
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(kid.as_str()))
        .expect("sleep row");
    let sh_at = sh_line.find("sh -c").unwrap();
    let kid_at = kid_line.find("\\_ sleep 12346").expect("forest arrow");
    assert!(
        kid_at > sh_at,
        "child deeper than parent:\n{sh_line}\n{kid_line}"
    );
    assert_eq!(&sh_line[sh_at - 3..sh_at], "\\_ ", "sh is the test's child");
    // The child row follows its parent directly.
    let lines: Vec<&str> = out.lines().collect();
    let i = lines.iter().position(|l| *l == sh_line).unwrap();
    assert_eq!(lines[i + 1], kid_line);

    // BSD style f and UNIX -H.
    let (_, out, _) = run("ps", &["axf"]);
    assert!(out.lines().any(|l| l.ends_with("\\_ sleep 12346")), "{out}");
    let (_, out, _) = run("ps", &["-eH", "-o", "pid,args"]);
    let sh_line = line_with_pid(&out, 0, sh.pid()).unwrap();
    let kid_line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(kid.as_str()))
        .unwrap();
    assert_eq!(
        kid_line.find("sleep").unwrap(),
        sh_line.find("sh -c").unwrap() + 2
    );
}

#[test]
fn ps_alone_shows_own_processes_without_a_tty() {
    // No controlling terminal here: procps shows our tty-less processes.
    let (rc, out, _) = run("ps", &[]);
    assert_eq!(rc, 0);
    assert_eq!(header(&out), ["PID", "TTY", "TIME", "CMD"]);
    assert!(out.lines().any(|l| l.ends_with(" ps")), "{out}");
}

#[test]
fn lsof_shows_an_open_file_and_a_listening_socket() {
    let dir = bin_dir();
    let file = dir.join("lsof-target.txt");
    std::fs::write(&file, b"hello").unwrap();
    // A child with fd 7 open on the file.
    let kid = spawn(
        Command::new("sh").args([
            "-c",
            &format!("exec 7<'{}'; exec sleep 12348", file.display()),
        ]),
        "sleep",
    );
    let (rc, out, err) = run("lsof", &["-p", &kid.pid().to_string()]);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(
        header(&out),
        ["COMMAND", "PID", "USER", "FD", "TYPE", "DEVICE", "SIZE/OFF", "NODE", "NAME"]
    );
    let l = out
        .lines()
        .find(|l| l.ends_with(&file.display().to_string()))
        .unwrap_or_else(|| panic!("file not listed: {out}"));
    let f: Vec<&str> = l.split_whitespace().collect();
    assert_eq!(
        f[..5],
        ["sleep", &kid.pid().to_string(), "root", "7r", "REG"]
    );
    assert_eq!(f[6], "5", "size");
    assert!(out
        .lines()
        .any(|l| l.contains(" cwd ") && l.contains(" DIR ")));
    assert!(out.lines().any(|l| l.contains(" txt ")));

    // A child that holds a socket listening on 127.0.0.1.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::empty()).unwrap();
    let server = spawn(Command::new("sleep").arg("12349"), "sleep");
    drop(listener);
    let (rc, out, err) = run("lsof", &["-i", "-a", "-p", &server.pid().to_string()]);
    assert_eq!(rc, 0, "{err}");
    let want = format!("127.0.0.1:{port} (LISTEN)");
    let l = out
        .lines()
        .find(|l| l.ends_with(&want))
        .unwrap_or_else(|| panic!("no listening socket {want}: {out}"));
    let f: Vec<&str> = l.split_whitespace().collect();
    assert_eq!(f[1], server.pid().to_string());
    assert_eq!((f[4], f[7]), ("IPv4", "TCP"));
    // Only network files with -i -a -p.
    assert_eq!(out.lines().count(), 2, "{out}");
    // Selection by port.
    let (_, out, _) = run("lsof", &[&format!("-i:{port}")]);
    assert!(line_with_pid(&out, 1, server.pid()).is_some(), "{out}");
    // -t: PIDs only; a FILE argument selects its holders.
    let (_, out, _) = run("lsof", &["-t", &file.display().to_string()]);
    assert_eq!(out.trim(), kid.pid().to_string());
}

fn meminfo() -> std::collections::HashMap<String, u64> {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.to_string(), v.split_whitespace().next()?.parse().ok()?))
        })
        .collect()
}

/// The numbers of one line of `free` output (after its label).
fn free_numbers(line: &str) -> Vec<u64> {
    line.split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect()
}

/// The "total" field of the Mem: line of `free` output.
fn free_mem_total(out: &str) -> &str {
    out.lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
}

#[test]
fn free_matches_proc_meminfo() {
    let (rc, out, err) = run("free", &[]);
    assert_eq!(rc, 0, "{err}");
    let m = meminfo();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "               total        used        free      shared  buff/cache   available"
    );
    let mem = free_numbers(lines[1]);
    assert!(lines[1].starts_with("Mem: "));
    assert_eq!(mem[0], m["MemTotal"]);
    let close = |a: u64, b: u64| a.abs_diff(b) <= m["MemTotal"] / 50;
    assert!(close(mem[1], m["MemTotal"] - m["MemAvailable"]), "used");
    assert!(close(mem[2], m["MemFree"]), "free");
    assert!(close(mem[3], m["Shmem"]), "shared");
    assert!(
        close(mem[4], m["Buffers"] + m["Cached"] + m["SReclaimable"]),
        "buff/cache"
    );
    assert!(close(mem[5], m["MemAvailable"]), "available");
    let swap = free_numbers(lines[2]);
    assert_eq!(swap[0], m["SwapTotal"]);
    // Units.
    let (_, out, _) = run("free", &["-b"]);
    let total: u64 = free_mem_total(&out).parse().unwrap();
    assert_eq!(total, m["MemTotal"] * 1024);
    let (_, out, _) = run("free", &["-m"]);
    let total: u64 = free_mem_total(&out).parse().unwrap();
    assert_eq!(total, m["MemTotal"] / 1024);
    let (_, out, _) = run("free", &["-h"]);
    assert!(free_mem_total(&out).ends_with('i'));
}

#[test]
fn findmnt_and_mount_list_root_and_proc() {
    let (rc, out, err) = run("findmnt", &[]);
    assert_eq!(rc, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["TARGET", "SOURCE", "FSTYPE", "OPTIONS"]
    );
    assert!(
        lines.iter().any(|l| l.starts_with("/ ")),
        "root at the top of the tree: {out}"
    );
    let proc_line = lines
        .iter()
        .find(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.first().is_some_and(|t| t.ends_with("─/proc")) && f.get(2) == Some(&"proc")
        })
        .unwrap_or_else(|| panic!("/proc as a child of /: {out}"));
    assert!(proc_line.starts_with("├─/proc") || proc_line.starts_with("└─/proc"));

    let (rc, out, _) = run("findmnt", &["-t", "proc", "-o", "TARGET,FSTYPE", "-n"]);
    assert_eq!(rc, 0);
    assert!(out
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["/proc", "proc"]));
    let (rc, _, _) = run("findmnt", &["/no/such/mount"]);
    assert_eq!(rc, 1);
    // -T: the mount holding a path.
    let (rc, out, _) = run("findmnt", &["-n", "-o", "TARGET", "-T", "/proc/self/fd"]);
    assert_eq!((rc, out.as_str()), (0, "/proc\n"));

    let (rc, out, _) = run("mount", &[]);
    assert_eq!(rc, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("proc on /proc type proc (")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.contains(" on / type ")), "{out}");
}

#[test]
fn mount_umount_in_a_private_namespace() {
    if !need_tool("unshare") {
        return;
    }
    let d = bin_dir();
    let mnt = d.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let script = format!(
        "set -e; D='{d}'; M='{m}'
         $D/mount -t tmpfs -o size=1m,nosuid cdbgt-tmp $M
         $D/findmnt -n -o SOURCE,FSTYPE,OPTIONS $M
         $D/mount -o remount,ro $M
         $D/findmnt -n -o OPTIONS $M
         $D/umount $M
         $D/findmnt $M || echo gone",
        d = d.display(),
        m = mnt.display()
    );
    let out = unshared_sh(false, &script);
    let l: Vec<&str> = out.lines().collect();
    let f: Vec<&str> = l[0].split_whitespace().collect();
    assert_eq!(f[..2], ["cdbgt-tmp", "tmpfs"], "{out}");
    assert!(f[2].starts_with("rw,nosuid"), "{out}");
    assert!(l[0].contains("size=1024k"), "{out}");
    assert!(l[1].starts_with("ro,nosuid"), "remount keeps nosuid: {out}");
    assert_eq!(l[2], "gone");
}

#[test]
fn applets_work_without_proc() {
    if !need_tool("unshare") {
        return;
    }
    let d = bin_dir().display().to_string();
    // A fresh PID namespace whose /proc is an empty tmpfs: ps must mount its
    // own private procfs and see the new namespace (itself as PID 1).
    let out = unshared_sh(
        true,
        &format!(
            "mount -t tmpfs none /proc; test -z \"$(ls /proc)\" || exit 9; exec {d}/ps -e -o pid,comm"
        ),
    );
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows, vec![vec!["1", "ps"]], "{out}");

    // Same PID namespace, /proc hidden: our own child is still found, and
    // free, findmnt and lsof work.
    let sleeper = spawn(Command::new("sleep").arg("12350"), "sleep");
    let pid = sleeper.pid();
    let out = unshared_sh(
        false,
        &format!(
            "mount -t tmpfs none /proc; test -z \"$(ls /proc)\" || exit 9
             {d}/ps -o pid,args -p {pid} && {d}/free && {d}/findmnt -n -o TARGET,FSTYPE /proc \
             && {d}/lsof -p {pid} && {d}/top -b -n 1 -p {pid}"
        ),
    );
    assert!(
        line_with_pid(&out, 0, pid).is_some_and(|l| l.ends_with("sleep 12350")),
        "{out}"
    );
    assert!(out.contains("\nMem: "), "{out}");
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["/proc", "tmpfs"]),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("sleep") && l.contains(" txt ")),
        "{out}"
    );
    assert!(out.contains("Tasks:   1 total"), "{out}");
    // Nothing was left mounted where the container could see it.
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mi.contains("cdbgt-tmp"));
}

#[test]
fn top_batch_mode() {
    let sleeper = spawn(Command::new("sleep").arg("12351"), "sleep");
    let (rc, out, err) = run("top", &["-b", "-n", "1"]);
    assert_eq!(rc, 0, "{err}");
    let l: Vec<&str> = out.lines().collect();
    assert!(
        l[0].starts_with("top - ") && l[0].contains("load average:"),
        "{out}"
    );
    assert!(l[1].starts_with("Tasks: "), "{out}");
    assert!(l[2].starts_with("%Cpu(s):"), "{out}");
    assert!(l[3].starts_with("MiB Mem :"), "{out}");
    assert!(l[4].starts_with("MiB Swap:"), "{out}");
    assert_eq!(
        l[6].split_whitespace().collect::<Vec<_>>(),
        [
            "PID", "USER", "PR", "NI", "VIRT", "RES", "SHR", "S", "%CPU", "%MEM", "TIME+",
            "COMMAND"
        ]
    );
    let row = line_with_pid(&out, 0, sleeper.pid()).expect("sleep row");
    let f: Vec<&str> = row.split_whitespace().collect();
    assert_eq!((f[1], f[7], f[11]), ("root", "S", "sleep"));
    // Two frames with -n 2.
    let (_, out, _) = run("top", &["-b", "-n", "2", "-d", "0.2"]);
    assert_eq!(out.lines().filter(|l| l.starts_with("top - ")).count(), 2);
}

/// tmux on this test binary's own server: a shared server that exits after
/// another test's last session would race a new session.
fn tmux_cmd() -> Command {
    let mut c = Command::new("tmux");
    c.args(["-L", &format!("cdbgt-procs-{}", std::process::id())]);
    c
}

fn tmux(args: &[&str]) -> String {
    let out = tmux_cmd().args(args).output().expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_screen(session: &str, what: &str) -> String {
    let t = Instant::now();
    loop {
        let s = tmux(&["capture-pane", "-p", "-t", session]);
        if s.contains(what) {
            return s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "never saw {what:?}:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn top_interactive_through_a_pty() {
    if !need_tool("tmux") {
        return;
    }
    let d = bin_dir();
    let session = format!("cdbgt-procs-top-{}", std::process::id());
    let (g1, g2) = (d.join("stty1"), d.join("stty2"));
    // `q` quits, then Ctrl-C on a second run; the terminal settings must be
    // the same before and after each.
    let script = format!(
        "stty -g > {g1}; {top} -d 1; echo TOPRC=$?; stty -g > {g2}; \
         trap '' INT; {top} -d 1; echo TOPRC2=$?; stty -g >> {g2}; stty -g >> {g1}; sleep 30",
        g1 = g1.display(),
        g2 = g2.display(),
        top = applet("top").display()
    );
    let _ = std::fs::remove_file(&g2);
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "120",
        "-y",
        "30",
        "sh",
        "-c",
        &script,
    ]);
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = tmux_cmd().args(["kill-session", "-t", &self.0]).status();
        }
    }
    let _k = Kill(session.clone());
    let s = wait_screen(&session, "Tasks:");
    assert!(s.starts_with("top - "), "{s}");
    assert!(s.contains("PID USER      PR  NI    VIRT"), "{s}");
    tmux(&["send-keys", "-t", &session, "q"]);
    let s = wait_screen(&session, "TOPRC=0");
    // The alternate screen is gone: top's frame is no longer shown.
    assert!(!s.contains("Tasks:"), "{s}");
    wait_screen(&session, "Tasks:");
    tmux(&["send-keys", "-t", &session, "C-c"]);
    wait_screen(&session, "TOPRC2=0");
    let t = Instant::now();
    while std::fs::read_to_string(&g2)
        .map(|s| s.lines().count())
        .unwrap_or(0)
        < 2
    {
        assert!(t.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        std::fs::read_to_string(&g1).unwrap(),
        std::fs::read_to_string(&g2).unwrap(),
        "terminal settings restored"
    );
}

#[test]
fn every_applet_has_help() {
    for a in ["ps", "top", "lsof", "free", "findmnt", "mount", "umount"] {
        let (rc, out, _) = run(a, &["--help"]);
        assert_eq!(rc, 0, "{a}");
        assert!(out.starts_with("Usage: "), "{a}: {out}");
    }
    let (rc, _, err) = run("ps", &["--bogus"]);
    assert_eq!(rc, 1);
    assert!(err.starts_with("ps: "), "{err}");
    let _ = std::io::stderr().flush();
}

#[test]
fn ps_uses_an_inherited_proc_fd() {
    if !need_tool("strace") || !need_tool("unshare") {
        return;
    }
    let d = bin_dir().display().to_string();
    // Inside a fresh PID namespace whose /proc is covered: a procfs of that
    // namespace opened on fd 5 and detached is handed down through
    // CDBG_PROC_FD, so ps needs no fsopen (which a seccomp filter may deny).
    let script = format!(
        "mount -t tmpfs none /proc; mkdir -p {d}/p; mount -t proc proc {d}/p
         exec 5<{d}/p; umount -l {d}/p
         CDBG_PROC_FD=5 strace -f -e trace=fsopen -o {d}/with-fd.trace {d}/ps -e -o pid,comm || exit 7
         echo ---
         exec 5<&-
         strace -f -e trace=fsopen -o {d}/without-fd.trace {d}/ps -e -o pid,comm || exit 8
         echo ---; cat {d}/with-fd.trace; echo ---; cat {d}/without-fd.trace"
    );
    let out = unshared_sh(true, &script);
    let parts: Vec<&str> = out.split("---\n").collect();
    assert_eq!(parts.len(), 4, "{out}");
    // The same view either way: sh is PID 1 of the new namespace.
    for p in &parts[..2] {
        assert!(
            p.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "sh"]),
            "{out}"
        );
        assert!(p.lines().any(|l| l.trim_end().ends_with(" ps")), "{out}");
    }
    assert!(
        !parts[2].contains("fsopen(\"proc\""),
        "inherited fd used: {out}"
    );
    assert!(
        parts[3].contains("fsopen(\"proc\""),
        "private instance made: {out}"
    );
}
