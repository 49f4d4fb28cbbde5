//! The core (issue 2): entering a PID, batch and PTY sessions, exit codes,
//! lifetime and hardening — on fixture containers made by `cdbg demo`.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

#[test]
fn batch_command_output_and_status() {
    let c = Demo::busybox();
    let o = c.run(&["sh", "-c", "echo out; echo err >&2; hostname; exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(stdout(&o), format!("out\n{}\n", c.name));
    assert_eq!(stderr(&o), "err\n");
}

#[test]
fn exit_codes_follow_docker_exec() {
    let c = Demo::busybox();
    let o = c.run(&["no-such-program"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-program"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "one line: {}", stderr(&o));
    let o = c.run(&["/etc/passwd"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    let o = c.run(&["sh", "-c", "kill -9 $$"]);
    assert_eq!(o.status.code(), Some(137));
    let o = c.run(&["true"]);
    assert_eq!(o.status.code(), Some(0));
    let o = Command::new(cdbg())
        .args(["--pid", "999999999", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("999999999"), "{}", stderr(&o));
}

#[test]
fn stdin_100mb_checksum() {
    let c = Demo::busybox();
    let data: Vec<u8> = (0..100u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let o = c.run_input(&["-i", "md5sum"], &data);
    assert!(o.status.success(), "{}", stderr(&o));
    let host = Command::new("md5sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut ch| {
            use std::io::Write;
            let mut i = ch.stdin.take().unwrap();
            let d = data.clone();
            let t = std::thread::spawn(move || i.write_all(&d));
            let out = ch.wait_with_output();
            t.join().unwrap().unwrap();
            out
        })
        .unwrap();
    let want = stdout(&host);
    assert_eq!(
        stdout(&o).split_whitespace().next(),
        want.split_whitespace().next()
    );
}

#[test]
fn large_binary_stdout() {
    let c = Demo::busybox();
    let o = c.run(&["sh", "-c", "seq 1 3000000"]);
    assert!(o.status.success());
    let host = Command::new("seq").args(["1", "3000000"]).output().unwrap();
    assert_eq!(o.stdout.len(), host.stdout.len());
    assert!(o.stdout == host.stdout);
    // Binary data keeps every byte value.
    let o = c.run(&[
        "sh",
        "-c",
        "i=0; while [ $i -lt 256 ]; do printf \"\\\\$(printf %o $i)\"; i=$((i+1)); done",
    ]);
    assert_eq!(o.stdout, (0..=255u8).collect::<Vec<_>>());
}

#[test]
fn stdin_eof_reaches_the_command() {
    let c = Demo::busybox();
    let o = c.run_input(&["-i", "wc", "-l"], b"a\nb\nc\n");
    assert_eq!(stdout(&o).trim(), "3");
    // Without -i the command's stdin is at EOF at once.
    let o = c.run(&["cat"]);
    assert!(o.status.success());
    assert_eq!(o.stdout.len(), 0);
}

#[test]
fn interactive_shell_through_a_pty() {
    let c = Demo::busybox();
    let t = Tmux::start(&format!("{} --pid {}", cdbg().display(), c.pid), 100, 30);
    t.expect("# ");
    t.line("echo typed-$((40+2))");
    t.expect("typed-42");
    t.line("tty; test -e $(tty) && echo TTY-E$((1+1))");
    let s = t.expect("TTY-E2");
    assert!(s.contains("/dev/pts/"), "{s}");
    t.expect_size(30, 100);
    t.resize(120, 40);
    t.expect_size(40, 120);
    t.line("sleep 1009");
    wait_procs("sleep 1009", 1);
    t.keys(&["C-c"]);
    t.line("echo after-$?");
    t.expect("after-130");
    // Ctrl-Z stops the foreground job as in a local terminal; fg resumes it.
    t.line("sleep 1010");
    wait_procs("sleep 1010", 1);
    let sleeper = pids_matching("sleep 1010")[0];
    let state = || {
        let st = std::fs::read_to_string(format!("/proc/{sleeper}/stat")).unwrap_or_default();
        st.rsplit_once(')')
            .and_then(|(_, r)| r.trim_start().chars().next())
            .unwrap_or('?')
    };
    t.keys(&["C-z"]);
    assert!(wait_until(Duration::from_secs(5), || state() == 'T'));
    t.line("echo stopped-$((6*7))");
    t.expect("stopped-42");
    t.line("fg");
    assert!(wait_until(Duration::from_secs(5), || state() == 'S'));
    t.keys(&["C-c"]);
    wait_procs("sleep 1010", 0);
    t.line("echo fg-$?");
    t.expect("fg-130");
    t.keys(&["C-d"]);
    t.expect("EXIT=0");
    // The user's terminal is back in cooked mode.
    t.expect("MODE=icanon,echo");
}

#[test]
fn exit_status_of_an_interactive_session() {
    let c = Demo::busybox();
    let t = Tmux::start(
        &format!("{} -it --pid {} sh", cdbg().display(), c.pid),
        80,
        24,
    );
    t.expect("# ");
    t.line("exit 3");
    t.expect("EXIT=3");
}

fn assert_all_gone(tag: &str) {
    wait_procs(tag, 0);
}

const SPAWN_TREE: &str = "trap '' HUP; (setsid sleep 7771 &); (sleep 7772 &); sh -c 'trap \"\" HUP; exec sleep 7773' & sleep 7774";

#[test]
fn lifetime_kill_9_of_cdbg() {
    let c = Demo::busybox();
    let tag = format!("{}", 7000 + c.pid % 500);
    let script = SPAWN_TREE.replace("777", &tag);
    let mut child = Command::new(cdbg())
        .args(["--pid", &c.pid.to_string(), "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_procs(&format!("sleep {tag}"), 4);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_all_gone(&format!("sleep {tag}"));
}

/// kill -9 of cdbg at any point while the session starts (the copier
/// filling the sealed copy, the enter stage joining the cgroups or waiting
/// for the copy, the leader starting the command): the command never
/// survives it.
#[test]
fn lifetime_kill_9_while_starting() {
    let c = Demo::busybox();
    let tag = format!("sleep {}", 5000 + c.pid % 500);
    for delay_ms in 0..=20 {
        let mut child = Command::new(cdbg())
            .args(["--pid", &c.pid.to_string(), "sh", "-c"])
            .arg(format!("{tag}; true"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert_all_gone(&tag);
}

/// Under a tiny RLIMIT_NOFILE cdbg fails with one line naming the target
/// and what ran out (no bare "session ended"); with a modest one it works.
#[test]
fn low_open_file_limit() {
    let c = Demo::busybox();
    let run = |limit: u32| {
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n {limit} && exec {} --pid {} echo in",
                cdbg().display(),
                c.pid
            ))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for limit in [16, 20, 24] {
        let o = run(limit);
        assert_eq!(o.status.code(), Some(125), "limit {limit}");
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "limit {limit}: {e}");
        assert!(
            e.starts_with(&format!("cdbg: pid {}: ", c.pid)) && e.contains("(os error 24)"),
            "limit {limit}: {e}"
        );
    }
    let o = run(64);
    assert_eq!(stdout(&o), "in\n", "{}", stderr(&o));
}

#[test]
fn lifetime_normal_exit_kills_leftovers() {
    let c = Demo::busybox();
    let tag = format!("{}", 8000 + c.pid % 500);
    let o = c.run(&[
        "sh",
        "-c",
        &format!("(setsid sleep {tag}1 &); sleep {tag}2 & echo started"),
    ]);
    assert_eq!(stdout(&o).trim(), "started");
    assert_all_gone(&format!("sleep {tag}"));
}

#[test]
fn lifetime_terminal_hangup() {
    let c = Demo::busybox();
    let tag = format!("{}", 6000 + c.pid % 500);
    let script = SPAWN_TREE.replace("777", &tag);
    let t = Tmux::start(
        &format!(
            "{} -it --pid {} sh -c \"{script}\"",
            cdbg().display(),
            c.pid
        ),
        80,
        24,
    );
    wait_procs(&format!("sleep {tag}"), 4);
    t.kill();
    assert_all_gone(&format!("sleep {tag}"));
}

#[test]
fn only_stdio_reaches_the_command() {
    let c = Demo::busybox();
    let tag = 5000 + c.pid % 500;
    let mut child = Command::new(cdbg())
        .args(["--pid", &c.pid.to_string(), "sleep", &tag.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut pids = vec![];
    assert!(wait_until(Duration::from_secs(5), || {
        pids = pids_matching(&format!("sleep {tag}"));
        !pids.is_empty()
    }));
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", pids[0]))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut fds_sorted = fds.clone();
    fds_sorted.sort();
    assert_eq!(fds_sorted, vec!["0", "1", "2"]);
    for fd in 0..3 {
        let l = std::fs::read_link(format!("/proc/{}/fd/{fd}", pids[0])).unwrap();
        assert!(l.to_string_lossy().starts_with("pipe:"), "fd {fd} -> {l:?}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn caller_environment_does_not_leak() {
    let c = Demo::busybox();
    let o = Command::new(cdbg())
        .args([
            "--pid",
            &c.pid.to_string(),
            "-e",
            "PASSED=yes",
            "-e",
            "NAMED",
            "env",
        ])
        .env("CDBG_SECRET_TEST", "leak")
        .env("NAMED", "from-caller")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let env = stdout(&o);
    assert!(!env.contains("CDBG_SECRET_TEST"), "{env}");
    assert!(env.contains("PASSED=yes"), "{env}");
    assert!(env.contains("NAMED=from-caller"), "{env}");
    assert!(env.contains("PATH="), "{env}");
    assert!(!env.contains("CDBG_SELF_FD"), "{env}");
}

#[test]
fn workdir_and_user_flags() {
    let c = Demo::busybox();
    let o = c.run(&[
        "-w",
        "/etc",
        "-u",
        "1000:1000",
        "sh",
        "-c",
        "pwd; id -u; id -g",
    ]);
    assert_eq!(stdout(&o), "/etc\n1000\n1000\n", "{}", stderr(&o));
    let o = c.run(&["-w", "/nonexistent", "true"]);
    assert_eq!(o.status.code(), Some(126));
}

/// `cdbg --pid PID sh -c SCRIPT` without a PTY, once SCRIPT has printed
/// `ready` (the rest of its output stays on the child's stdout).
fn sh_until_ready(pid: i32, script: &str) -> std::process::Child {
    let mut child = Command::new(cdbg())
        .args(["--pid", &pid.to_string(), "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = [0u8; 6];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut ready)
        .unwrap();
    assert_eq!(&ready, b"ready\n");
    child
}

#[test]
fn signals_are_forwarded_without_a_pty() {
    let c = Demo::busybox();
    let mut child = sh_until_ready(
        c.pid,
        "trap 'echo got-usr1; exit 9' USR1; echo ready; while :; do sleep 0.1; done",
    );
    let mut out = child.stdout.take().unwrap();
    Command::new("kill")
        .args(["-USR1", &child.id().to_string()])
        .status()
        .unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-usr1\n");
    assert_eq!(child.wait().unwrap().code(), Some(9));
}

#[test]
fn runs_in_a_scratch_container() {
    let c = Demo::scratch();
    let o = c.run(&["cdbg-no-such-applet"]);
    assert_eq!(o.status.code(), Some(127));
}

#[test]
fn namespace_choice() {
    let c = Demo::busybox();
    // Only the UTS namespace: the hostname is the container's, the files are the host's.
    let o = Command::new(cdbg())
        .args(["--pid", &c.pid.to_string(), "--ns", "uts", "hostname"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(stdout(&o).trim(), c.name);
    let o = Command::new(cdbg())
        .args(["--pid", &c.pid.to_string(), "--ns", "bogus", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
}

#[test]
fn tiocsti_never_reaches_the_users_terminal() {
    let c = Demo::busybox();
    let marker = std::env::temp_dir().join(format!("cdbgt-tiocsti-{}", c.pid));
    let _ = std::fs::remove_file(&marker);
    // A host shell in tmux runs cdbg; inside, TIOCSTI pushes a command into
    // the terminal. It must land in the container's PTY, not the host's.
    let t = Tmux::start("bash --norc --noprofile", 100, 30);
    t.line(&format!("{} -it --pid {} sh", cdbg().display(), c.pid));
    t.expect("/ # ");
    // Injection works, but into the container's own terminal.
    t.line("tiocsti 'echo INJECTED-$((6*7))~'");
    t.expect("INJECTED-42");
    t.line(&format!("tiocsti 'touch {}~'; exit", marker.display()));
    std::thread::sleep(Duration::from_millis(800));
    t.line("echo host-shell-$((20+1))");
    t.expect("host-shell-21");
    assert!(!marker.exists(), "TIOCSTI reached the host shell");
}

#[test]
fn leader_is_sealed_and_not_dumpable() {
    let c = Demo::busybox();
    let mut child = Command::new(cdbg())
        .args(["--pid", &c.pid.to_string(), "sleep", "4242"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut sleeper = vec![];
    assert!(wait_until(Duration::from_secs(5), || {
        sleeper = pids_matching("sleep 4242");
        !sleeper.is_empty()
    }));
    let parent = |pid: i32| -> i32 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let rest = stat.rsplit_once(')').unwrap().1;
        rest.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let ppid = parent(sleeper[0]);
    // The leader runs from a memfd, never the host binary; so does the
    // enter stage above it (forked by the client, it re-executes from the
    // copy before it forks the leader into the container).
    let exe = std::fs::read_link(format!("/proc/{ppid}/exe")).unwrap();
    assert!(exe.to_string_lossy().starts_with("/memfd:cdbg"), "{exe:?}");
    let stage = parent(ppid);
    let comm = std::fs::read_to_string(format!("/proc/{stage}/comm")).unwrap();
    assert_eq!(comm.trim(), "cdbg-enter");
    let exe = std::fs::read_link(format!("/proc/{stage}/exe")).unwrap();
    assert!(exe.to_string_lossy().starts_with("/memfd:cdbg"), "{exe:?}");
    // Its copy is sealed: it cannot be opened for writing.
    let w = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/{ppid}/exe"));
    assert!(w.is_err(), "the leader's executable is writable");
    // Non-dumpable: root without CAP_SYS_PTRACE (a container's root) can
    // neither follow its /proc/PID/exe nor open its memory, while it can
    // for a dumpable root process (the control).
    let probe = |pid: i32, file: &str| {
        Command::new("setpriv")
            .args([
                "--inh-caps=-sys_ptrace",
                "--bounding-set=-sys_ptrace",
                "head",
                "-c",
                "1",
            ])
            .arg(format!("/proc/{pid}/{file}"))
            .output()
            .unwrap()
            .status
            .success()
    };
    // The control: an ordinary process with the probe's own capabilities.
    let mut control = Command::new("setpriv")
        .args([
            "--inh-caps=-sys_ptrace",
            "--bounding-set=-sys_ptrace",
            "sleep",
            "300",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        probe(control.id() as i32, "exe"),
        "control: an ordinary process's exe is readable"
    );
    let _ = control.kill();
    let _ = control.wait();
    assert!(
        !probe(ppid, "exe"),
        "the leader is dumpable: its exe is readable"
    );
    assert!(!probe(ppid, "mem"), "the leader's memory is readable");
    assert!(!probe(stage, "exe"), "the enter stage is dumpable");
    // And their environment is empty: the stages start with none.
    for p in [ppid, stage] {
        assert_eq!(
            std::fs::read(format!("/proc/{p}/environ")).unwrap_or_default(),
            b""
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn container_cannot_overwrite_the_host_binary() {
    let c = Demo::busybox();
    let before = std::fs::read(cdbg()).unwrap();
    // A container root writes to the executable of every process it sees
    // (CVE-2019-5736) while a cdbg session runs.
    let o = c.run(&["sh", "-c", "for p in /proc/[0-9]*; do echo pwned 2>/dev/null >> $p/exe; echo pwned 2>/dev/null > $p/exe; done; echo done"]);
    assert_eq!(stdout(&o).trim(), "done");
    let after = std::fs::read(cdbg()).unwrap();
    assert!(before == after, "the host binary changed");
}

#[test]
fn static_binary_runs_in_an_empty_chroot() {
    let dir = std::env::temp_dir().join(format!("cdbgt-chroot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(cdbg(), dir.join("cdbg")).unwrap();
    let o = Command::new("chroot")
        .arg(&dir)
        .args(["/cdbg", "--version"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("cdbg "));
    let elf = std::fs::read(dir.join("cdbg")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    // No PT_INTERP program header.
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let phentsize = u16::from_le_bytes(elf[54..56].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(elf[56..58].try_into().unwrap()) as usize;
    for i in 0..phnum {
        let p = phoff + i * phentsize;
        let ptype = u32::from_le_bytes(elf[p..p + 4].try_into().unwrap());
        assert_ne!(ptype, 3, "PT_INTERP present");
    }
}

/// A number is a PID, as for nsenter, unless a container has that name.
#[test]
fn numeric_target_is_a_container_name_first() {
    // Above any pid_max, so it can only be the name.
    let name = format!("{}", 1_900_000_000 + std::process::id() % 100_000_000);
    let c = Demo::named(&name, Some(&busybox_rootfs()), Some("/bin/sleep 100000"));
    let o = Command::new(cdbg())
        .args([&name, "cat", "/proc/1/cmdline"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "/bin/sleep\x00100000\x00"
    );
    // A number that names nothing is a PID.
    let o = Command::new(cdbg())
        .args([&c.pid.to_string(), "cat", "/proc/1/cmdline"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "/bin/sleep\x00100000\x00"
    );
}

#[test]
fn demo_runs_without_any_runtime() {
    let t = Tmux::start(&format!("{} demo", cdbg().display()), 100, 30);
    t.expect("# ");
    t.line("echo in-demo-$((1+1))");
    t.expect("in-demo-2");
    t.line("exit 5");
    t.expect("EXIT=5");
}

/// `cdbg demo`'s root is a tmpfs in the demo's own mount namespace: even a
/// demo killed with SIGKILL leaves no directory behind on the host.
#[test]
fn killed_demo_leaves_nothing_on_the_host() {
    let c = Demo::empty();
    let root = std::fs::read_dir(format!("/proc/{}/root", c.pid))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<std::collections::BTreeSet<_>>();
    assert!(root.contains("proc") && root.contains("dev"), "{root:?}");
    let demo = c.holder_pid();
    let leftover = std::env::temp_dir().join(format!("cdbg-demo-{demo}"));
    assert!(!leftover.exists());
    let _ = Command::new("kill")
        .args(["-KILL", &demo.to_string()])
        .status();
    drop(c);
    assert!(!leftover.exists());
}

#[test]
fn terminal_restored_when_cdbg_is_terminated() {
    let c = Demo::busybox();
    let t = Tmux::start(
        &format!("{} -it --pid {} sh", cdbg().display(), c.pid),
        80,
        24,
    );
    t.expect("/ # ");
    let client = pids_matching(&format!("{} -it --pid {}", cdbg().display(), c.pid));
    assert_eq!(client.len(), 1, "{client:?}");
    Command::new("kill")
        .args(["-TERM", &client[0].to_string()])
        .status()
        .unwrap();
    t.expect("EXIT=143");
    t.expect("MODE=icanon,echo");
}

#[test]
fn applets_on_the_path_of_the_containers_own_shell() {
    let c = Demo::busybox();
    let o = c.run(&[
        "sh",
        "-c",
        "command -v ss; ss -ltn | head -1; cdbg-ps -o pid= -p 1",
    ]);
    let out = stdout(&o);
    assert!(out.contains("/.cdbg/bin/ss"), "{out} {}", stderr(&o));
    assert!(out.contains("Local Address"), "{out}");
    // The container's own programs come first on PATH.
    let o = c.run(&["sh", "-c", "which ls"]);
    assert_eq!(stdout(&o).trim(), "/bin/ls");
    // The container itself sees no change.
    let mnt: Vec<_> = std::fs::read_dir(format!("/proc/{}/root/mnt", c.pid))
        .unwrap()
        .collect();
    assert!(mnt.is_empty(), "{mnt:?}");
}

#[test]
fn vi_edits_a_file_in_a_scratch_container() {
    let c = Demo::scratch();
    let file = format!("/proc/{}/root/note-{}.conf", c.pid, c.pid);
    std::fs::write(&file, "port = 80\n").unwrap();
    let t = Tmux::start(
        &format!(
            "{} -it --pid {} vi /note-{}.conf",
            cdbg().display(),
            c.pid,
            c.pid
        ),
        80,
        24,
    );
    t.expect("port = 80");
    t.keys(&["-l", "A0"]);
    t.keys(&["Escape"]);
    t.keys(&["-l", ":wq"]);
    t.keys(&["Enter"]);
    t.expect("EXIT=0");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "port = 800\n");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn rescue_gets_in_at_pids_max() {
    let c = Demo::busybox();
    let pids_max = format!("/sys/fs/cgroup/pids/cdbg-demo/{}/pids.max", c.name);
    if !require(
        std::path::Path::new(&pids_max).exists(),
        "a v1 pids cgroup for the demo container",
    ) {
        return;
    }
    let current = std::fs::read_to_string(pids_max.replace("pids.max", "pids.current")).unwrap();
    std::fs::write(&pids_max, current.trim()).unwrap();
    let o = c.run(&["true"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("pids"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = c.run(&["--rescue", "sh", "-c", "id -u; echo in"]);
    assert_eq!(stdout(&o), "0\nin\n", "{}", stderr(&o));
    std::fs::write(&pids_max, "max").unwrap();
}

/// The memory controller files of a demo container's cgroup: v1
/// (`memory.limit_in_bytes`, hybrid hosts) or v2 (`memory.max`).
struct MemCg {
    dir: std::path::PathBuf,
    v2: bool,
}

impl MemCg {
    fn of(name: &str) -> Option<MemCg> {
        let v1 = std::path::Path::new("/sys/fs/cgroup/memory/cdbg-demo").join(name);
        if v1.join("memory.limit_in_bytes").exists() {
            return Some(MemCg { dir: v1, v2: false });
        }
        for base in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
            let d = std::path::Path::new(base).join("cdbg-demo").join(name);
            if d.join("memory.max").exists() {
                return Some(MemCg { dir: d, v2: true });
            }
        }
        None
    }

    fn read(&self, f: &str) -> String {
        std::fs::read_to_string(self.dir.join(f)).unwrap_or_default()
    }

    fn usage(&self) -> u64 {
        let f = if self.v2 {
            "memory.current"
        } else {
            "memory.usage_in_bytes"
        };
        self.read(f).trim().parse().unwrap()
    }

    /// How many OOM kills the cgroup has seen.
    fn oom_kills(&self) -> u64 {
        let f = if self.v2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        self.read(f)
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The usage without the file cache the kernel can reclaim (what cdbg's
    /// refusal rule counts).
    fn working(&self) -> u64 {
        let prefix = if self.v2 { "" } else { "total_" };
        let stat = self.read("memory.stat");
        let cache: u64 = ["active_file", "inactive_file"]
            .iter()
            .filter_map(|k| {
                stat.lines()
                    .find_map(|l| l.strip_prefix(&format!("{prefix}{k} ")))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
            .sum();
        self.usage().saturating_sub(cache)
    }

    fn limit_now(&self) -> u64 {
        let f = if self.v2 {
            "memory.max"
        } else {
            "memory.limit_in_bytes"
        };
        self.read(f).trim().parse().unwrap_or(u64::MAX)
    }

    /// For assertion messages.
    fn describe(&self) -> String {
        format!(
            "limit {} usage {} working {}",
            self.limit_now(),
            self.usage(),
            self.working()
        )
    }

    /// Limit memory to the working set + `extra` with swap off (the kernel
    /// reclaims the file cache above it). Retried until the room left is
    /// within a page of `extra`: the usage moves, and the kernel refuses a
    /// limit it cannot reclaim down to (EBUSY).
    fn limit(&self, extra: u64) {
        for _ in 0..50 {
            let l = (self.working() + extra).to_string();
            let ok = if self.v2 {
                std::fs::write(self.dir.join("memory.swap.max"), "0").is_ok()
                    && std::fs::write(self.dir.join("memory.max"), &l).is_ok()
            } else {
                // memsw (memory + swap) must stay >= the memory limit.
                let _ = std::fs::write(self.dir.join("memory.memsw.limit_in_bytes"), "-1");
                std::fs::write(self.dir.join("memory.limit_in_bytes"), &l).is_ok()
                    && (!self.dir.join("memory.memsw.limit_in_bytes").exists()
                        || std::fs::write(self.dir.join("memory.memsw.limit_in_bytes"), &l).is_ok())
            };
            if ok && self.limit_now().saturating_sub(self.working()) <= extra + 4096 {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "cannot set the memory limit of {} ({})",
            self.dir.display(),
            self.describe()
        );
    }

    fn unlimit(&self) {
        if self.v2 {
            let _ = std::fs::write(self.dir.join("memory.max"), "max");
            let _ = std::fs::write(self.dir.join("memory.swap.max"), "max");
        } else {
            let _ = std::fs::write(self.dir.join("memory.memsw.limit_in_bytes"), "-1");
            let _ = std::fs::write(self.dir.join("memory.limit_in_bytes"), "-1");
        }
    }
}

/// `cdbg --pid PID ARGS` that may not take longer than 30 s.
fn run_bounded(pid: i32, args: &[&str]) -> (std::process::Output, Duration) {
    let t = std::time::Instant::now();
    let o = Command::new("timeout")
        .args(["-s", "KILL", "30"])
        .arg(cdbg())
        .arg("--pid")
        .arg(pid.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (o, t.elapsed())
}

/// A container at its memory limit (memory.max = its working set, no
/// swap, a process holding 16 MiB): joining its cgroup would make the kernel
/// OOM-kill one of its processes, so cdbg refuses in one line before
/// joining (the holder lives on); `--rescue` gets a shell-like command in
/// without joining the cgroup. With some room left, a command that
/// outgrows it is the one the OOM killer picks (oom_score_adj 1000), not
/// the container's processes; cdbg exits 128+9 and does not hang.
#[test]
fn rescue_gets_in_at_memory_max() {
    let c = Demo::busybox();
    let Some(mem) = MemCg::of(&c.name) else {
        require(false, "a memory cgroup for the demo container");
        return;
    };
    struct Unlimit<'a>(&'a MemCg);
    impl Drop for Unlimit<'_> {
        fn drop(&mut self) {
            self.0.unlimit();
        }
    }
    let _restore = Unlimit(&mem);
    // The process that holds memory in the container.
    let mut holder = sh_until_ready(
        c.pid,
        "v=$(head -c 16777216 /dev/zero | tr '\\0' x); echo ready; sleep 100000; echo ${#v}",
    );
    assert!(mem.usage() > 16 << 20, "{}", mem.usage());
    let holder_alive = || {
        pids_matching("sh -c v=$(head").iter().any(|p| {
            std::fs::read_link(format!("/proc/{p}/ns/pid")).ok()
                == std::fs::read_link(format!("/proc/{}/ns/pid", c.pid)).ok()
        })
    };
    assert!(holder_alive());
    let kills = mem.oom_kills();
    mem.limit(0);

    // Without --rescue: refused before joining, one line, exit 125.
    let (o, took) = run_bounded(c.pid, &["sh", "-c", "echo in"]);
    assert_eq!(
        o.status.code(),
        Some(125),
        "{} ({})",
        stderr(&o),
        mem.describe()
    );
    assert_eq!(stdout(&o), "");
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains(&format!("memory:/cdbg-demo/{}", c.name)) || e.contains("unified:"),
        "{e}"
    );
    assert!(e.contains("memory limit") && e.contains("--rescue"), "{e}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(mem.oom_kills(), kills, "nothing was OOM-killed");
    assert!(holder_alive());

    // --rescue: in, output, and not in the container's cgroup.
    let (o, _) = run_bounded(
        c.pid,
        &["--rescue", "sh", "-c", "echo in; cat /proc/self/cgroup"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("in\n"), "{out}");
    assert!(
        !out.contains(&format!("/cdbg-demo/{}", c.name)),
        "the rescue command joined the container's cgroup:\n{out}"
    );
    assert_eq!(mem.oom_kills(), kills);
    assert!(holder_alive());

    // Some room (8 MiB): cdbg joins; a command that allocates 32 MiB is
    // the OOM killer's victim, not the holder; exit 128+9, no hang.
    mem.limit(8 << 20);
    let (o, _) = run_bounded(c.pid, &["cat", "/proc/self/oom_score_adj"]);
    assert_eq!(stdout(&o), "1000\n", "{}", stderr(&o));
    let (o, took) = run_bounded(
        c.pid,
        &["dd", "if=/dev/zero", "of=/dev/null", "bs=32M", "count=1"],
    );
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(mem.oom_kills(), kills + 1);
    assert!(holder_alive(), "the container's process was OOM-killed");

    let _ = holder.kill();
    let _ = holder.wait();
}

#[test]
fn toolbox_bars_in_a_scratch_fixture() {
    let c = Demo::scratch();
    let ps = toolbox_bars("fixture", |args| c.run(args));
    assert!(ps.contains("cdbg-session"), "ps: {ps}");
    assert!(!ps.contains("memfd"), "ps: {ps}");
}
