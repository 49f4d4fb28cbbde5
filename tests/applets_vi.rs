//! The `vi` applet driven through a real PTY (tmux): editing and saving in
//! place, refusing to quit a modified buffer, search, resize, and a sane
//! terminal after every exit.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A scratch directory holding `vi -> cdbg` and the files under test.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = PathBuf::from(format!("/tmp/cdbgt-vi-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cdbg"), d.join("vi")).unwrap();
        Dir(d)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A private tmux server running one window; its socket lives in the
/// test's directory, so nothing is left behind.
struct Tmux {
    sock: PathBuf,
}

fn have_tmux() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("tmux is required for the vi tests (apt-get install tmux)");
        }
        eprintln!("skipping: tmux is not installed");
    }
    ok
}

impl Tmux {
    /// Runs `script` (sh) in a `cols`×`rows` window inside `dir`.
    fn start(dir: &Dir, cols: u16, rows: u16, script: &str) -> Tmux {
        let t = Tmux {
            sock: dir.path("tmux.sock"),
        };
        let cmd = format!("cd {} && {script}", dir.0.display());
        t.run(&[
            "new-session",
            "-d",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            "sh",
            "-c",
            &cmd,
        ]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.sock)
            .args(["-f", "/dev/null"])
            .args(args)
            .env("TERM", "xterm")
            .output()
            .expect("tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types literal text.
    fn text(&self, s: &str) {
        self.run(&["send-keys", "-l", s]);
    }

    /// Sends named keys (Escape, Enter, ...).
    fn key(&self, k: &str) {
        self.run(&["send-keys", k]);
    }

    /// Types literal text, then Enter (an ex command, a search, a shell line).
    fn line(&self, s: &str) {
        self.text(s);
        self.key("Enter");
    }

    fn screen(&self) -> Vec<String> {
        self.run(&["capture-pane", "-p"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Waits until `pred` holds for the screen; panics with the screen after 10 s.
    fn wait(&self, what: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        let t0 = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if t0.elapsed() > Duration::from_secs(10) {
                panic!("timed out waiting for {what}; screen:\n{}", s.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the status line (last row) to contain `s`.
    fn wait_status(&self, s: &str) -> Vec<String> {
        self.wait(&format!("status line with {s:?}"), |scr| {
            scr.last().is_some_and(|l| l.contains(s))
        })
    }

    /// PID of the process the pane's shell is running (vi).
    fn child_pid(&self) -> u32 {
        let pane: u32 = self
            .run(&["display-message", "-p", "#{pane_pid}"])
            .trim()
            .parse()
            .unwrap();
        let kids = fs::read_to_string(format!("/proc/{pane}/task/{pane}/children")).unwrap();
        kids.split_whitespace().next().unwrap().parse().unwrap()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.sock)
            .arg("kill-server")
            .output();
        let _ = fs::remove_file(&self.sock);
    }
}

/// The script that runs vi and records how it ended and the terminal state.
fn vi_script(args: &str) -> String {
    format!("./vi {args}; echo $? > exit.tmp; stty -a > stty.tmp; mv exit.tmp exit; sleep 60")
}

/// `None` without tmux (see [`have_tmux`]); else a new [`Dir`] named `tag`
/// holding `file` (its path is returned) with `contents`, and an 80x24 tmux
/// session running vi on it.
fn vi_session(tag: &str, file: &str, contents: &str) -> Option<(Dir, PathBuf, Tmux)> {
    if !have_tmux() {
        return None;
    }
    let dir = Dir::new(tag);
    let f = dir.path(file);
    fs::write(&f, contents).unwrap();
    let t = Tmux::start(&dir, 80, 24, &vi_script(file));
    Some((dir, f, t))
}

fn wait_exit(dir: &Dir) -> i32 {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if let Ok(s) = fs::read_to_string(dir.path("exit")) {
            return s.trim().parse().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("vi did not exit");
}

fn assert_sane_tty(dir: &Dir) {
    let stty = fs::read_to_string(dir.path("stty.tmp")).unwrap();
    let flags: Vec<&str> = stty.split_whitespace().collect();
    for f in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(flags.contains(&f), "terminal not restored ({f}):\n{stty}");
    }
}

const CONF: &str =
    "# demo config\nlisten 80\nserver_name example.com\nroot /srv/www\nlog_level debug\n";

#[test]
fn edit_and_save_in_place() {
    if !have_tmux() {
        return;
    }
    let dir = Dir::new("edit");
    let f = dir.path("app.conf");
    fs::write(&f, CONF).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(&f, Some(1234), Some(5678)).unwrap();
    let before = fs::metadata(&f).unwrap();

    let t = Tmux::start(&dir, 80, 24, &vi_script("app.conf"));
    t.wait_status(&format!("\"app.conf\" 5L, {}B", CONF.len()));
    t.text("3Gw");
    t.wait_status("3,13");
    t.text("cw");
    t.text("test");
    t.key("Escape");
    t.text("o");
    t.text("index index.html");
    t.key("Escape");
    t.text("jdd");
    t.wait_status("[+]");
    let scr = t.wait("the edited text", |s| {
        s.len() > 4 && s[4] == "log_level debug"
    });
    assert_eq!(scr[2], "server_name test.com");
    assert_eq!(scr[3], "index index.html");
    t.line(":wq");
    assert_eq!(wait_exit(&dir), 0);

    let want =
        "# demo config\nlisten 80\nserver_name test.com\nindex index.html\nlog_level debug\n";
    assert_eq!(fs::read(&f).unwrap(), want.as_bytes());
    let after = fs::metadata(&f).unwrap();
    assert_eq!(
        after.ino(),
        before.ino(),
        "file replaced instead of written in place"
    );
    assert_eq!(after.mode(), before.mode());
    assert_eq!((after.uid(), after.gid()), (1234, 5678));
    assert_sane_tty(&dir);
    // The normal screen is back: the shell's output is visible, not vi's.
    assert!(!t.screen().iter().any(|l| l.contains("index index.html")));
}

#[test]
fn quit_refused_when_modified() {
    let Some((dir, f, t)) = vi_session("quit", "a.conf", CONF) else {
        return;
    };
    t.wait_status("\"a.conf\"");
    t.text("ddx");
    t.line(":q");
    t.wait_status("E37: No write since last change");
    assert!(!dir.path("exit").exists(), "vi quit with unsaved changes");
    // :w to another file leaves the original alone.
    t.line(":w copy.conf");
    t.wait_status("copy.conf\" [New] 4L");
    assert_eq!(
        fs::read_to_string(dir.path("copy.conf")).unwrap(),
        "isten 80\nserver_name example.com\nroot /srv/www\nlog_level debug\n"
    );
    t.line(":q!");
    assert_eq!(wait_exit(&dir), 0);
    assert_eq!(fs::read_to_string(&f).unwrap(), CONF);
    assert_sane_tty(&dir);
}

#[test]
fn search_jumps() {
    let mut s = String::new();
    for i in 1..=200 {
        if i == 150 || i == 40 {
            s.push_str(&format!("key{i} = needle\n"));
        } else {
            s.push_str(&format!("line {i}\n"));
        }
    }
    let Some((dir, _, t)) = vi_session("search", "big.txt", &s) else {
        return;
    };
    t.wait_status("\"big.txt\" 200L");
    t.text("100G");
    t.wait_status("100,1");
    t.line("/needle");
    let scr = t.wait_status("150,10");
    assert!(scr.iter().any(|l| l == "key150 = needle"), "{scr:?}");
    t.text("n");
    t.wait_status("search hit BOTTOM, continuing at TOP");
    t.text("0");
    let scr = t.wait_status("40,1");
    assert!(scr.iter().any(|l| l == "key40 = needle"));
    t.line("?line 7");
    t.wait_status("7,1");
    t.line(":$");
    t.wait_status("200,1");
    t.line(":q");
    assert_eq!(wait_exit(&dir), 0);
    assert_sane_tty(&dir);
}

#[test]
fn resize_redraws_cleanly() {
    let long = "x".repeat(150);
    let Some((dir, _, t)) = vi_session("resize", "r.txt", &format!("first line\n{long}\nthird\n"))
    else {
        return;
    };
    t.wait_status("\"r.txt\" 3L");
    t.text("0"); // any key clears the file message: the plain status remains
    for (cols, rows) in [(40u16, 8u16), (100, 30), (20, 5), (80, 24)] {
        t.run(&[
            "resize-window",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
        ]);
        let scr = t.wait(&format!("a {cols}x{rows} frame"), |s| {
            s.len() == rows as usize && s.last().is_some_and(|l| l.contains("1,1"))
        });
        // Exactly the text, the `~` filler and the status line: no leftovers.
        let w = cols as usize;
        let mut want: Vec<String> = vec![
            "first line".chars().take(w).collect(),
            long.chars().take(w).collect(),
            "third".into(),
        ];
        while want.len() < rows as usize - 1 {
            want.push("~".into());
        }
        assert_eq!(&scr[..rows as usize - 1], &want[..], "{cols}x{rows}");
        let status = scr.last().unwrap();
        assert!(status.starts_with("\"r.txt\""), "status: {status:?}");
    }
    // Horizontal scroll on a long line, then back.
    t.text("j$");
    let scr = t.wait_status("2,150");
    assert!(scr[1].chars().all(|c| c == 'x') && !scr[1].is_empty());
    assert_eq!(scr[0], "", "first line scrolled out to the left");
    t.text("0");
    let scr = t.wait_status("2,1");
    assert_eq!(scr[0], "first line");
    t.text("ZZ");
    assert_eq!(wait_exit(&dir), 0);
    assert_sane_tty(&dir);
}

#[test]
fn terminal_restored_on_sigterm() {
    let Some((dir, f, t)) = vi_session("term", "t.txt", "hello\n") else {
        return;
    };
    t.wait_status("\"t.txt\"");
    t.text("i");
    t.text("typed");
    t.wait_status("-- INSERT --");
    let pid = t.child_pid();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert_eq!(wait_exit(&dir), 128 + 15);
    assert_sane_tty(&dir);
    assert_eq!(fs::read_to_string(&f).unwrap(), "hello\n");
}

#[test]
fn help_and_bad_args() {
    let dir = Dir::new("help");
    let out = Command::new(dir.path("vi")).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: vi"));
    let out = Command::new(dir.path("vi"))
        .arg(Path::new("/"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
    // Not a terminal: a clear error, no escape sequences.
    let out = Command::new(dir.path("vi"))
        .arg(dir.path("x"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a terminal"));
}

/// Run by `terminal_restored_on_panic` inside tmux: enters the raw screen,
/// leaks it (so only the panic hook can restore), then panics.
#[test]
fn panic_helper() {
    if std::env::var_os("CDBGT_VI_PANIC").is_none() {
        return;
    }
    let screen = cdbg::applets::term::RawScreen::enter().unwrap();
    std::mem::forget(screen);
    panic!("deliberate panic inside the raw screen");
}

#[test]
fn terminal_restored_on_panic() {
    if !have_tmux() {
        return;
    }
    let dir = Dir::new("panic");
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "CDBGT_VI_PANIC=1 RUST_BACKTRACE=0 {} --exact panic_helper --nocapture --test-threads=1; \
         echo $? > exit.tmp; stty -a > stty.tmp; mv exit.tmp exit; sleep 60",
        exe.display()
    );
    let t = Tmux::start(&dir, 80, 24, &script);
    assert_ne!(wait_exit(&dir), 0);
    assert_sane_tty(&dir);
    // Back on the normal screen, where the panic message was printed.
    let scr = t.wait("the panic message", |s| {
        s.iter().any(|l| l.contains("deliberate panic"))
    });
    assert!(!scr.is_empty());
}

#[test]
fn suspend_with_ctrl_z_and_resume() {
    if !have_tmux() {
        return;
    }
    let dir = Dir::new("susp");
    fs::write(dir.path("s.txt"), "one\ntwo\n").unwrap();
    // An interactive bash gives job control, as in a real session.
    let t = Tmux::start(&dir, 80, 24, "PS1='$ ' exec bash --norc --noprofile -i");
    t.wait("the prompt", |s| s.iter().any(|l| l.starts_with("$")));
    t.line("./vi s.txt");
    t.wait_status("\"s.txt\" 2L");
    t.text("x");
    t.key("C-z");
    t.wait("the job stopped", |s| {
        s.iter().any(|l| l.contains("Stopped"))
    });
    t.line("stty -a > stty.tmp; fg");
    t.wait_status("\"s.txt\" [+]");
    let scr = t.screen();
    assert_eq!(scr[0], "ne", "{scr:?}");
    t.line(":wq");
    t.wait("the prompt again", |s| {
        s.iter().filter(|l| l.starts_with("$")).count() >= 3
    });
    assert_sane_tty(&dir);
    assert_eq!(fs::read_to_string(dir.path("s.txt")).unwrap(), "ne\ntwo\n");
}
