//! The bundled toolbox, run through the built binary on the host: applets
//! called through symlinks (busybox style), the bundled shell with applet
//! pipelines, the shell in an empty chroot reaching applets through
//! CDBG_SELF_FD only, and an interactive session driven through tmux.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_cdbg");

const LINKS: &[&str] = &[
    "ls", "cat", "grep", "egrep", "find", "xargs", "sort", "wc", "sh", "bash", "seq", "head",
    "tail", "uniq", "echo", "mkdir", "touch", "rm", "cp", "mv", "ln", "stat", "env", "id", "date",
    "basename", "dirname", "tr", "cut", "printf", "test", "[", "true", "false", "cdbg-ls",
];

/// A fresh scratch directory under /tmp.
fn scratch(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "cdbgt-shell-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A directory of symlinks named after applets, pointing at the binary.
fn links() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = scratch("links");
        for l in LINKS {
            std::os::unix::fs::symlink(BIN, d.join(l)).unwrap();
        }
        d
    })
}

fn applet(name: &str) -> Command {
    let mut c = Command::new(links().join(name));
    c.env_remove("CDBG_SELF_FD");
    c
}

fn run(mut c: Command, stdin: &[u8]) -> Output {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut si = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let t = std::thread::spawn(move || {
        let _ = si.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    t.join().unwrap();
    out
}

fn out_of(name: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut c = applet(name);
    c.args(args);
    let o = run(c, stdin.as_bytes());
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn sh(script: &str) -> (i32, String, String) {
    out_of("sh", &["-c", script], "")
}

/// A small tree: d/a.txt d/b.log d/sub/c.txt d/sub/deep/e.txt
fn tree() -> PathBuf {
    let d = scratch("tree");
    std::fs::create_dir_all(d.join("sub/deep")).unwrap();
    std::fs::write(d.join("a.txt"), "alpha\nbeta\ngamma\nAlpha beta\n").unwrap();
    std::fs::write(d.join("b.log"), "one\ntwo\nthree\n").unwrap();
    std::fs::write(d.join("sub/c.txt"), "beta in c\n").unwrap();
    std::fs::write(d.join("sub/deep/e.txt"), vec![b'x'; 3000]).unwrap();
    d
}

#[test]
fn list_and_dispatch_names() {
    let (code, out, _) = out_of("ls", &[links().to_str().unwrap()], "");
    assert_eq!(code, 0);
    assert!(
        out.lines().any(|l| l == "grep") && out.lines().any(|l| l == "sh"),
        "{out}"
    );
    // cdbg-NAME dispatches to NAME.
    let (code, out, _) = out_of("cdbg-ls", &["-d", "/"], "");
    assert_eq!((code, out.as_str()), (0, "/\n"));
    // A missing file: ls exits 2 with a message.
    let (code, _, err) = out_of("ls", &["/nonexistent-cdbg"], "");
    assert_eq!(code, 2);
    assert!(err.contains("No such file"), "{err}");
    // --help works for uutils applets and our own.
    for a in ["ls", "grep", "find", "sh", "sort"] {
        let (code, out, _) = out_of(a, &["--help"], "");
        assert_eq!(code, 0, "{a} --help");
        assert!(out.to_lowercase().contains("usage"), "{a}: {out}");
    }
}

#[test]
fn text_tools() {
    let d = tree();
    let a = d.join("a.txt");
    let a = a.to_str().unwrap();
    assert_eq!(
        out_of("cat", &[a], "").1,
        "alpha\nbeta\ngamma\nAlpha beta\n"
    );
    assert_eq!(out_of("wc", &["-l"], "a\nb\nc\n").1.trim(), "3");
    assert_eq!(out_of("sort", &[], "b\na\nc\n").1, "a\nb\nc\n");
    assert_eq!(out_of("sort", &["-rn"], "2\n10\n1\n").1, "10\n2\n1\n");
    assert_eq!(
        out_of("uniq", &["-c"], "a\na\nb\n").1,
        "      2 a\n      1 b\n"
    );
    assert_eq!(out_of("head", &["-n", "2", a], "").1, "alpha\nbeta\n");
    assert_eq!(out_of("tail", &["-n", "1", a], "").1, "Alpha beta\n");
    assert_eq!(out_of("tr", &["a-z", "A-Z"], "abc\n").1, "ABC\n");
    assert_eq!(out_of("cut", &["-d:", "-f2"], "a:b:c\n").1, "b\n");
    assert_eq!(out_of("seq", &["3"], "").1, "1\n2\n3\n");
    assert_eq!(out_of("basename", &["/x/y.txt", ".txt"], "").1, "y\n");
    assert_eq!(out_of("dirname", &["/x/y.txt"], "").1, "/x\n");
    assert_eq!(out_of("[", &["1", "-lt", "2", "]"], "").0, 0);
    assert_eq!(out_of("false", &[], "").0, 1);
    let (code, out, _) = out_of("id", &["-u"], "");
    assert_eq!((code, out.trim()), (0, "0"));
}

#[test]
fn file_tools() {
    let d = scratch("files");
    let p = |s: &str| d.join(s).to_str().unwrap().to_string();
    assert_eq!(out_of("mkdir", &["-p", &p("x/y")], "").0, 0);
    assert_eq!(out_of("touch", &[&p("x/y/f")], "").0, 0);
    assert_eq!(out_of("cp", &[&p("x/y/f"), &p("g")], "").0, 0);
    assert_eq!(out_of("mv", &[&p("g"), &p("h")], "").0, 0);
    assert_eq!(out_of("ln", &["-s", "h", &p("l")], "").0, 0);
    let (_, out, _) = out_of("ls", &[&p("")], "");
    assert_eq!(out, "h\nl\nx\n");
    let (_, out, _) = out_of("stat", &["-c", "%F", &p("l")], "");
    assert_eq!(out.trim(), "symbolic link");
    assert_eq!(out_of("rm", &["-r", &p("x")], "").0, 0);
    assert!(!d.join("x").exists());
}

#[test]
fn grep_options_and_status() {
    let d = tree();
    let a = d.join("a.txt");
    let a = a.to_str().unwrap();
    let g = |args: &[&str], input: &str| out_of("grep", args, input);
    assert_eq!(
        g(&["beta", a], ""),
        (0, "beta\nAlpha beta\n".into(), String::new())
    );
    assert_eq!(g(&["-i", "alpha", a], "").1, "alpha\nAlpha beta\n");
    assert_eq!(g(&["-v", "a", a], "").1, "");
    assert_eq!(g(&["-c", "a", a], "").1, "4\n");
    assert_eq!(g(&["-n", "gamma", a], "").1, "3:gamma\n");
    assert_eq!(g(&["-o", "b[a-z]*", a], "").1, "beta\nbeta\n");
    assert_eq!(g(&["-w", "alph"], "alpha\nalph a\n").1, "alph a\n");
    assert_eq!(g(&["-x", "beta", a], "").1, "beta\n");
    assert_eq!(
        g(&["-E", "^(one|three)$"], "one\ntwo\nthree\n").1,
        "one\nthree\n"
    );
    assert_eq!(g(&["-F", "a.c"], "abc\na.c\n").1, "a.c\n");
    assert_eq!(g(&[r"\(ab\)\{2\}"], "abab\nab\n").1, "abab\n");
    assert_eq!(
        g(&["-e", "one", "-e", "two"], "one\ntwo\nthree\n").1,
        "one\ntwo\n"
    );
    let (code, out, _) = g(&["-q", "beta", a], "");
    assert_eq!((code, out.as_str()), (0, ""));
    // Exit codes: 1 no match, 2 error.
    assert_eq!(g(&["zzz", a], "").0, 1);
    let (code, _, err) = g(&["x", "/nonexistent-cdbg"], "");
    assert_eq!(code, 2);
    assert!(err.contains("No such file"), "{err}");
    assert_eq!(g(&["-E", "("], "x\n").0, 2);
    // Recursive, names only.
    let (code, out, _) = g(&["-rl", "beta", d.to_str().unwrap()], "");
    assert_eq!(code, 0);
    let mut names: Vec<&str> = out.lines().collect();
    names.sort();
    assert_eq!(
        names,
        [
            a.to_string(),
            d.join("sub/c.txt").to_str().unwrap().to_string()
        ]
    );
    let (_, out, _) = g(&["-r", "in c", d.to_str().unwrap()], "");
    assert_eq!(
        out,
        format!("{}:beta in c\n", d.join("sub/c.txt").display())
    );
    assert_eq!(out_of("egrep", &["a|o"], "a\nb\no\n").1, "a\no\n");
}

#[test]
fn xargs_runs_programs_and_applets() {
    assert_eq!(
        out_of("xargs", &["-n", "2", "echo", "X"], "a b\nc\n").1,
        "X a b\nX c\n"
    );
    assert_eq!(
        out_of("xargs", &["-I{}", "echo", "[{}]"], "a\nb\n").1,
        "[a]\n[b]\n"
    );
    assert_eq!(out_of("xargs", &["-0", "cdbg-echo"], "p\0q\0").1, "p q\n");
    assert_eq!(out_of("xargs", &["-r", "echo", "nothing"], "").1, "");
    assert_eq!(out_of("xargs", &["cdbg-false"], "x\n").0, 123);
    assert_eq!(out_of("xargs", &["no-such-program-cdbg"], "x\n").0, 127);
}

#[test]
fn find_expressions() {
    let d = tree();
    let ds = d.to_str().unwrap();
    let f = |args: &[&str]| {
        let mut v = vec![ds];
        v.extend_from_slice(args);
        let (code, out, err) = out_of("find", &v, "");
        assert_eq!(code, 0, "find {args:?}: {err}");
        let mut l: Vec<String> = out
            .lines()
            .map(|l| l.strip_prefix(ds).unwrap_or(l).to_string())
            .collect();
        l.sort();
        l
    };
    assert_eq!(
        f(&["-name", "*.txt"]),
        ["/a.txt", "/sub/c.txt", "/sub/deep/e.txt"]
    );
    assert_eq!(f(&["-iname", "A.TXT"]), ["/a.txt"]);
    assert_eq!(f(&["-type", "d"]), ["", "/sub", "/sub/deep"]);
    assert_eq!(f(&["-maxdepth", "1", "-type", "f"]), ["/a.txt", "/b.log"]);
    assert_eq!(
        f(&["-mindepth", "2", "-type", "f"]),
        ["/sub/c.txt", "/sub/deep/e.txt"]
    );
    assert_eq!(f(&["-path", "*/deep/*"]), ["/sub/deep/e.txt"]);
    assert_eq!(f(&["-type", "f", "-size", "+2k"]), ["/sub/deep/e.txt"]);
    assert_eq!(
        f(&["-type", "f", "-size", "-3"]),
        ["/a.txt", "/b.log", "/sub/c.txt"]
    );
    assert_eq!(
        f(&["-type", "f", "-mtime", "-1", "-name", "b*"]),
        ["/b.log"]
    );
    assert_eq!(
        f(&["-name", "sub", "-prune", "-o", "-type", "f", "-print"]),
        ["/a.txt", "/b.log"]
    );
    assert_eq!(f(&["!", "-name", "*.txt", "-type", "f"]), ["/b.log"]);
    assert_eq!(
        f(&["(", "-name", "a*", "-o", "-name", "b*", ")"]),
        ["/a.txt", "/b.log"]
    );
    let (_, out, _) = out_of("find", &[ds, "-name", "b.log", "-print0"], "");
    assert_eq!(out, format!("{ds}/b.log\0"));
    // -newer: only the file touched afterwards.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(d.join("new"), "").unwrap();
    assert_eq!(
        f(&["-type", "f", "-newer", d.join("b.log").to_str().unwrap()]),
        ["/new"]
    );
    // -exec with {} ; and + (cat is found on PATH or as an applet).
    assert_eq!(
        f(&["-name", "c.txt", "-exec", "cat", "{}", ";"]),
        ["beta in c"]
    );
    let (_, out, _) = out_of(
        "find",
        &[ds, "-name", "*.log", "-exec", "wc", "-l", "{}", "+"],
        "",
    );
    assert_eq!(out.split_whitespace().next(), Some("3"));
    // -delete removes depth first.
    assert_eq!(f(&["-path", "*/sub*", "-delete"]), Vec::<String>::new());
    assert!(!d.join("sub").exists());
    // Errors: exit 1 and a message.
    let (code, _, err) = out_of("find", &["/nonexistent-cdbg"], "");
    assert_eq!(code, 1);
    assert!(err.contains("No such file"), "{err}");
    assert_eq!(out_of("find", &[ds, "-bogus"], "").0, 1);
}

#[test]
fn shell_pipelines_redirections_status() {
    assert_eq!(sh("seq 1 100 | grep 7 | wc -l").1.trim(), "19");
    // The bundled ones explicitly.
    assert_eq!(
        sh("cdbg-seq 1 100 | cdbg-grep 7 | cdbg-wc -l").1.trim(),
        "19"
    );
    let d = scratch("redir");
    let out = d.join("out");
    let script = format!(
        "cdbg-ls -A / > {o}; cdbg-wc -l < {o} > {o}.n 2>&1; cdbg-cat {o}.n; cdbg-ls /nonexistent 2>> {o}.err; echo st=$?",
        o = out.display()
    );
    let (code, stdout, _) = sh(&script);
    assert_eq!(code, 0);
    let listed = std::fs::read_dir("/").unwrap().count();
    let mut lines = stdout.lines();
    assert_eq!(lines.next().unwrap().trim(), listed.to_string());
    assert_eq!(lines.next(), Some("st=2"));
    let err = std::fs::read_to_string(d.join("out.err")).unwrap();
    assert!(err.contains("nonexistent"), "{err}");
    // Exit status, not found, pipefail-free pipeline status, $? of applets.
    assert_eq!(sh("exit 3").0, 3);
    let (code, _, err) = sh("no-such-command-cdbg");
    assert_eq!(code, 127);
    assert!(err.contains("no-such-command-cdbg"), "{err}");
    assert_eq!(sh("cdbg-false").0, 1);
    assert_eq!(sh("cdbg-false | cdbg-true").0, 0);
    assert_eq!(sh("cdbg-grep -q x </dev/null; echo $?").1, "1\n");
    // Variables, here-strings and command substitution reach applets.
    assert_eq!(
        sh("X=abc; cdbg-echo \"$(cdbg-echo $X | cdbg-tr a-z A-Z)\"").1,
        "ABC\n"
    );
    assert_eq!(
        sh("export FOO=bar; cdbg-env | cdbg-grep ^FOO=").1,
        "FOO=bar\n"
    );
    assert_eq!(sh("cd / && cdbg-pwd").1, "/\n");
    // CDBG_SELF_FD never shows in an applet's environment.
    assert_eq!(sh("cdbg-env | cdbg-grep -c CDBG_SELF_FD").1, "0\n");
    // Background jobs, here-documents, loops, SIGPIPE as in bash.
    let (code, out, err) = sh(
        "cdbg-sleep 0.2 & wait; echo waited; cdbg-seq 2 | while read l; do echo \"l=$l\"; done; \
         cdbg-cat <<EOF\nheredoc\nEOF\n\
         cdbg-yes | cdbg-head -n 1; echo \"${PIPESTATUS[@]}\"",
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "waited\nl=1\nl=2\nheredoc\ny\n141 0\n"),
        "{err}"
    );
    // A script file and stdin commands.
    let s = d.join("script.sh");
    std::fs::write(&s, "echo \"$1-$2\"\nseq 2 | wc -l\nexit 5\n").unwrap();
    let (code, out, _) = out_of("sh", &[s.to_str().unwrap(), "a", "b"], "");
    assert_eq!((code, out.as_str()), (5, "a-b\n2\n"));
    let (code, out, _) = out_of("sh", &[], "cdbg-seq 2\nexit 6\n");
    assert_eq!((code, out.as_str()), (6, "1\n2\n"));
    // A program on PATH wins over the applet of the same name.
    let (_, out, _) = sh(&format!(
        "mkdir -p {d}/bin; printf '#!/bin/sh\\necho system-ls\\n' > {d}/bin/ls; chmod +x {d}/bin/ls; PATH={d}/bin:$PATH; ls; cdbg-ls -d /",
        d = d.display()
    ));
    assert_eq!(out, "system-ls\n/\n");
}

/// The key case: the shell in an empty root (no /proc, no /bin, and even its
/// own file deleted), reaching every applet only through CDBG_SELF_FD, the
/// way the lead's code starts it from the sealed copy.
#[test]
fn shell_in_empty_chroot_via_self_fd() {
    let d = scratch("chroot");
    std::fs::copy(BIN, d.join("sh")).unwrap();
    // bash opens the binary without close-on-exec, then chroot(8) execs the
    // copy inside: the fd survives into the chroot, as the sealed copy would.
    let script = r#"exec 7<"$BIN"; CDBG_SELF_FD=7 exec chroot "$ROOT" /sh -c "$CMD""#;
    let go = |cmd: &str| {
        let o = Command::new("bash")
            .args(["-c", script])
            .env("BIN", BIN)
            .env("ROOT", &d)
            .env("CMD", cmd)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, out, err) = go("seq 3 | wc -l");
    assert_eq!((code, out.as_str()), (0, "3\n"), "{err}");
    let (code, out, err) =
        go("rm /sh; ls -a /; echo x > /f; cat /f | grep -c x; find / -type f; exit 7");
    assert_eq!(code, 7, "{err}");
    assert_eq!(out, ".\n..\n1\n/f\n", "{err}");
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
    // User and group names come from the root's own files (no NSS config).
    std::fs::copy(BIN, d.join("sh")).unwrap();
    std::fs::create_dir(d.join("etc")).unwrap();
    std::fs::write(
        d.join("etc/passwd"),
        "root:x:0:0::/:/sh\nbob:x:1000:1000::/:/sh\n",
    )
    .unwrap();
    std::fs::write(d.join("etc/group"), "root:x:0:\nbobs:x:1000:\n").unwrap();
    std::fs::write(d.join("f"), "").unwrap();
    std::os::unix::fs::chown(d.join("f"), Some(1000), Some(1000)).unwrap();
    let (code, out, err) = go("id -un; stat -c '%U:%G' /f; ls -l /f | cut -d' ' -f3,4");
    assert_eq!(
        (code, out.as_str()),
        (0, "root\nbob:bobs\nbob bobs\n"),
        "{err}"
    );
    // Without the descriptor and without /proc, applets run from the file
    // the shell was started by (AT_EXECFN: e.g. a link in the session's
    // tool directory).
    let o = Command::new("chroot")
        .arg(&d)
        .args([
            "/sh",
            "-c",
            "cdbg-true; echo st=$?; cdbg-seq 2 | cdbg-wc -l",
        ])
        .env_remove("CDBG_SELF_FD")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "st=0\n2\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&d);
}

fn tmux_available() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tmux is required in CI"
        );
        eprintln!("skipping: tmux not installed");
    }
    ok
}

struct Tmux(String);

impl Tmux {
    fn keys(&self, keys: &[&str]) {
        let st = Command::new("tmux")
            .args(["send-keys", "-t", &self.0])
            .args(keys)
            .status()
            .unwrap();
        assert!(st.success());
    }
    fn screen(&self) -> String {
        let o = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
    fn wait_for(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let t = Instant::now();
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

fn cpu_ticks(pid: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map_or("", |x| x.1);
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
}

#[test]
fn interactive_shell_through_pty() {
    if !tmux_available() {
        return;
    }
    let home = scratch("home");
    std::fs::write(home.join("uniquefile_qz.txt"), "content-of-file\n").unwrap();
    let name = format!("cdbgt-shell-{}", std::process::id());
    let cmd = format!(
        "cd {h} && HOME={h} PS1='PROMPT$ ' {sh}; echo EXIT=$? > {h}/exit; sleep 60",
        h = home.display(),
        sh = links().join("sh").display()
    );
    let st = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &name,
            "-x",
            "120",
            "-y",
            "40",
            &cmd,
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let t = Tmux(name.clone());
    t.wait_for("prompt", |s| s.contains("PROMPT$"));
    // No busy loop at the prompt.
    let o = Command::new("tmux")
        .args(["list-panes", "-t", &name, "-F", "#{pane_pid}"])
        .output()
        .unwrap();
    let bash_pid = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let kids = std::fs::read_to_string(format!("/proc/{bash_pid}/task/{bash_pid}/children"))
        .unwrap_or_default();
    let sh_pid = kids
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let before = cpu_ticks(&sh_pid);
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        cpu_ticks(&sh_pid) - before < 20,
        "shell spins at the prompt"
    );
    // A command.
    t.keys(&["echo hello-$((6*7))", "Enter"]);
    t.wait_for("command output", |s| s.contains("hello-42"));
    // Tab completion of a file name.
    t.keys(&["cat unique", "Tab"]);
    t.wait_for("completion", |s| s.contains("cat uniquefile_qz.txt"));
    t.keys(&["Enter"]);
    t.wait_for("cat output", |s| s.contains("content-of-file"));
    // History with Up: the echo comes back after two Ups.
    t.keys(&["Up", "Up"]);
    t.wait_for("history", |s| {
        s.lines().last_non_empty().ends_with("echo hello-$((6*7))")
    });
    t.keys(&["C-c"]);
    // Keys typed before the line editor has drawn its next prompt can be
    // lost in the hand-over: wait for it.
    t.wait_for("a fresh prompt", |s| {
        s.lines().last_non_empty() == "PROMPT$"
    });
    // Ctrl-C stops a bundled sleep and a system sleep. With no tool
    // directory on PATH (as here) the shell provides the applet itself, as a
    // job like any program: Ctrl-Z stops it ($? 148) and fg resumes it.
    for sleep in ["cdbg-sleep 100", "sleep 100"] {
        t.keys(&[sleep, "Enter"]);
        std::thread::sleep(Duration::from_millis(700));
        if sleep.starts_with("cdbg-") {
            t.keys(&["C-z"]);
            t.wait_for("stopped job", |s| s.contains("Stopped   cdbg-sleep 100"));
            t.keys(&["echo status=$?", "Enter"]);
            t.wait_for("stopped status", |s| s.contains("status=148"));
            t.keys(&["fg", "Enter"]);
            std::thread::sleep(Duration::from_millis(500));
        }
        t.keys(&["C-c"]);
        t.keys(&["echo status=$?", "Enter"]);
        t.wait_for("interrupted status", |s| {
            s.matches("status=130").count() >= 1
        });
        t.keys(&["clear", "Enter"]);
        t.wait_for("clear", |s| !s.contains("status=130"));
    }
    // Applet pipelines at the prompt; then the exit status.
    t.keys(&["cdbg-seq 1 100 | cdbg-grep 7 | cdbg-wc -l", "Enter"]);
    t.wait_for("pipeline", |s| s.lines().any(|l| l.trim() == "19"));
    t.keys(&["exit 4", "Enter"]);
    let t0 = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(home.join("exit")) {
            assert_eq!(s.trim(), "EXIT=4");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "shell did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
    // History went to $HOME.
    let h = std::fs::read_to_string(home.join(".cdbg_history")).unwrap();
    assert!(h.contains("echo hello-$((6*7))"), "{h}");
}

trait LastNonEmpty<'a> {
    fn last_non_empty(self) -> &'a str;
}

impl<'a, I: DoubleEndedIterator<Item = &'a str>> LastNonEmpty<'a> for I {
    fn last_non_empty(mut self) -> &'a str {
        self.rfind(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim_end()
    }
}

/// State letter of a process (R, S, T, Z...), from the host's /proc.
fn proc_state(pid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s.rsplit_once(')')?.1.trim_start().chars().next()
}

/// The one process whose command line is `cmdline`, waiting for it.
fn one_process(cmdline: &str) -> i32 {
    common::wait_procs(cmdline, 1);
    common::pids_matching(cmdline)[0]
}

/// Runs `cmd` in the shell of `t` (its process's command line is
/// `cmdline`), stops it with Ctrl-Z (`$?` 148, listed as stopped), resumes
/// it with `fg` and ends it with Ctrl-C (`$?` 130).
fn stop_and_interrupt(t: &common::Tmux, cmd: &str, cmdline: &str) {
    t.line(cmd);
    let pid = one_process(cmdline);
    t.keys(&["C-z"]);
    assert!(common::wait_until(Duration::from_secs(5), || {
        proc_state(pid) == Some('T')
    }));
    t.expect(&format!("Stopped   {cmd}"));
    t.line("echo stopped-$?");
    t.expect("stopped-148");
    t.line("fg");
    std::thread::sleep(Duration::from_millis(500));
    t.keys(&["C-c"]);
    common::wait_procs(cmdline, 0);
    t.line("echo interrupted-$?");
    t.expect("interrupted-130");
}

/// Job control for applets in a scratch container (no shell of its own):
/// the session's tool directory is on PATH, so the bundled shell runs
/// applets as ordinary programs and brush's job control covers them.
#[test]
fn applet_job_control_in_scratch_container() {
    if !tmux_available() {
        return;
    }
    let c = common::Demo::scratch();
    let t = common::Tmux::start(
        &format!("{} -it --pid {}", common::cdbg().display(), c.pid),
        100,
        40,
    );
    t.expect("# ");
    t.line("command -v ss");
    t.expect("/.cdbg/bin/ss");
    // Unique durations, so that the host-side search finds our sleeps only.
    let (n1, n2) = (3000 + c.pid % 1000, 5000 + c.pid % 1000);
    let fg = format!("sleep {n1}");
    t.line(&fg);
    let pid = one_process(&fg);
    // Ctrl-Z stops it; $? is 128+SIGTSTP as in bash; jobs lists it.
    t.keys(&["C-z"]);
    assert!(common::wait_until(Duration::from_secs(5), || {
        proc_state(pid) == Some('T')
    }));
    t.expect("Stopped");
    t.line("echo z-$?");
    t.expect("z-148");
    t.line("jobs");
    let stopped = format!("Stopped   {fg}");
    assert!(
        common::wait_until(Duration::from_secs(10), || t
            .screen()
            .matches(&stopped)
            .count()
            >= 2),
        "{}",
        t.screen()
    );
    // bg resumes it in the background, fg brings it back, Ctrl-C ends it.
    t.line("bg");
    assert!(common::wait_until(Duration::from_secs(5), || {
        proc_state(pid) == Some('S')
    }));
    t.line("jobs");
    t.expect(&format!("Running   {fg}"));
    t.line("fg");
    std::thread::sleep(Duration::from_millis(500));
    t.keys(&["C-c"]);
    common::wait_procs(&fg, 0);
    t.line("echo st-$?");
    t.expect("st-130");
    // A full-screen applet: Ctrl-Z gives the terminal back, fg redraws it.
    t.line("clear");
    t.line("top");
    t.expect("Tasks:");
    t.keys(&["C-z"]);
    t.expect("Stopped   top");
    t.line("clear");
    assert!(common::wait_until(Duration::from_secs(5), || !t
        .screen()
        .contains("Tasks:")));
    t.line("fg");
    t.expect("Tasks:");
    t.keys(&["q"]);
    t.line("echo q-$?");
    t.expect("q-0");
    // A background applet runs while the prompt is usable; jobs lists it.
    let bg = format!("sleep {n2}");
    t.line(&format!("{bg} &"));
    let bg_pid = one_process(&bg);
    t.line("jobs");
    t.expect(&format!("Running   {bg}"));
    t.line("echo x-$((6*7))");
    t.expect("x-42");
    assert_ne!(proc_state(bg_pid), Some('T'));
    // Ctrl-Z of a foreground applet while that `&` job runs: the shell
    // gets the terminal back (brush-core 0.5 alone hung here; see
    // vendor/README.md).
    let fg2 = format!("sleep {}", 7000 + c.pid % 1000);
    stop_and_interrupt(&t, &fg2, &fg2);
    // The `&` job has a PID, as in bash: $! is its process, jobs -l shows
    // it, kill %1 sends SIGTERM, wait %1 gives its status.
    t.line("tr '\\0' ' ' < /proc/$!/cmdline; echo bgpid-$!");
    t.expect(&format!("{bg} bgpid-"));
    let bgpid = t
        .screen()
        .split("bgpid-")
        .last()
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    assert!(bgpid.parse::<u32>().is_ok(), "{}", t.screen());
    t.line("jobs -l");
    t.expect(&format!("{bgpid} Running     {bg}"));
    t.line("kill %1");
    common::wait_procs(&bg, 0);
    t.line("wait %1; echo w-$?");
    t.expect("w-143");
    // Ctrl-C ends `wait` (130) and leaves the job running.
    let bg3 = format!("sleep {}", 9000 + c.pid % 1000);
    t.line(&format!("{bg3} & wait"));
    one_process(&bg3);
    // Until the prompt is back: a Ctrl-C that came before `wait` started
    // is taken by the shell and does not end it.
    let prompt_back = || t.screen().lines().last_non_empty().ends_with('#');
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(300));
        t.keys(&["C-c"]);
        if common::wait_until(Duration::from_secs(1), prompt_back) {
            break;
        }
    }
    t.line("echo wc-$?");
    t.expect("wc-130");
    assert_eq!(common::pids_matching(&bg3).len(), 1);
    // The exit status of the session; nothing outlives it.
    t.line("exit 3");
    t.expect("EXIT=3");
    common::wait_procs(&bg3, 0);
}

/// Without a tool directory (here: the shell on the host) the applets are
/// programs the shell provides: they are jobs like any program, so Ctrl-Z
/// stops one and `fg` resumes it, and `&` gives it a PID.
#[test]
fn applet_job_control_without_tool_dir() {
    if !tmux_available() {
        return;
    }
    let t = common::Tmux::start(&format!("{} sh", common::cdbg().display()), 100, 40);
    t.expect("# ");
    t.line("type cdbg-sleep");
    t.expect("cdbg-sleep is a shell builtin");
    let n = 3000 + std::process::id() % 1000;
    stop_and_interrupt(&t, &format!("cdbg-sleep {n}"), &format!("sleep {n}"));
    t.line(&format!("cdbg-sleep {} &", n + 1));
    let bg = one_process(&format!("sleep {}", n + 1));
    t.line("echo bgpid-$!");
    t.expect(&format!("bgpid-{bg}"));
    t.line("kill $!; wait $!; echo w-$?");
    t.expect("w-143");
    t.line("exit 4");
    t.expect("EXIT=4");
}

/// A busybox root with a few applets linked, changed by `extra`.
fn bb_root(tag: &str, extra: impl Fn(&Path)) -> Option<PathBuf> {
    let bb = Path::new("/bin/busybox");
    if !common::require(bb.exists(), "busybox-static (/bin/busybox)") {
        return None;
    }
    let root = scratch(tag);
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(bb, root.join("bin/busybox")).unwrap();
    for app in ["sh", "ls", "head", "sleep", "cat"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(app)).unwrap();
    }
    extra(&root);
    Some(root)
}

fn is_empty_dir(p: &str) -> bool {
    std::fs::read_dir(p).is_ok_and(|mut r| r.next().is_none())
}

/// With no empty /mnt, /media, /srv or /opt, the container's own shell
/// still reaches the applets: the tool directory goes on an empty
/// directory of the longer list (here /var/empty). Symlinks are never
/// followed to find it, neither as the last component (/mnt -> /data)
/// nor on the way (/var -> /real).
#[test]
fn tool_dir_without_an_empty_mnt() {
    let Some(root) = bb_root("novmnt", |r| {
        std::fs::create_dir_all(r.join("var/empty")).unwrap();
        std::fs::create_dir_all(r.join("data")).unwrap();
        std::os::unix::fs::symlink("/data", r.join("mnt")).unwrap();
    }) else {
        return;
    };
    let c = common::Demo::start(Some(&root), Some("/bin/sleep 100000"));
    let o = c.run(&[
        "sh",
        "-c",
        "command -v ss; ss -ltn | head -1; cdbg-ps -o comm= -p 1",
    ]);
    let out = common::stdout(&o);
    assert!(
        out.contains("/var/empty/.cdbg/bin/ss"),
        "{out} {}",
        common::stderr(&o)
    );
    assert!(out.contains("Local Address"), "{out}");
    assert!(out.lines().any(|l| l.trim() == "sleep"), "{out}");
    // Usable by another user, whatever the caller's umask.
    let o = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "umask 077; exec {} --pid {} -u 1000 sh -c 'command -v ss; ss -ltn >/dev/null; echo st-$?'",
            common::cdbg().display(),
            c.pid
        ))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = common::stdout(&o);
    assert!(
        out.contains("/var/empty/.cdbg/bin/ss\nst-0"),
        "{out} {}",
        common::stderr(&o)
    );
    // The container sees no change.
    for d in ["var/empty", "data"] {
        assert!(is_empty_dir(&format!("/proc/{}/root/{d}", c.pid)), "{d}");
    }
    drop(c);

    // /var is a symlink: /var/empty is not used (the tool directory may
    // land on a kernel directory of this host, or nowhere).
    let Some(root) = bb_root("varlink", |r| {
        std::fs::create_dir_all(r.join("real/empty")).unwrap();
        std::os::unix::fs::symlink("/real", r.join("var")).unwrap();
    }) else {
        return;
    };
    let c = common::Demo::start(Some(&root), Some("/bin/sleep 100000"));
    let o = c.run(&["sh", "-c", "echo path=$PATH"]);
    let out = common::stdout(&o);
    assert!(out.contains("path="), "{out} {}", common::stderr(&o));
    assert!(!out.contains("/var/empty"), "{out}");
    assert!(is_empty_dir(&format!("/proc/{}/root/real/empty", c.pid)));
}

/// A scratch container of a real runtime (no /mnt at all): the bundled
/// shell of the session has the tool directory on PATH.
fn tool_dir_in_runtime_scratch(rt: &str) {
    if !common::runtime_usable(rt) {
        return;
    }
    let fixtures = common::fixtures_sh();
    let name = format!("cdbgt-jobs-{}-{rt}", std::process::id());
    let o = Command::new(&fixtures)
        .args(["start", rt, "scratch", &name])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    struct Stop<'a>(&'a str, &'a str, &'a str);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = Command::new(self.0).args(["stop", self.1, self.2]).output();
        }
    }
    let _stop = Stop(&fixtures, rt, &name);
    assert!(o.status.success(), "fixtures.sh start {rt} scratch");
    let pid = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let o = Command::new(common::cdbg())
        .args([
            "--pid",
            &pid,
            "sh",
            "-c",
            "command -v ss; ss -ltn >/dev/null; echo st-$?",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = common::stdout(&o);
    assert!(
        out.contains("/.cdbg/bin/ss\nst-0"),
        "{rt}: {out} {}",
        common::stderr(&o)
    );
}

#[test]
fn tool_dir_in_docker_scratch() {
    tool_dir_in_runtime_scratch("docker");
}

/// In a user namespace where cdbg's own uid has no mapping.
#[test]
fn tool_dir_in_rootless_podman_scratch() {
    tool_dir_in_runtime_scratch("podman-rootless");
}
