//! "No way out through cdbg" (issue 5's security tests that need the process
//! tree): host directories, planted PTY devices, TIOCLINUX, hostile
//! /etc/passwd symlinks. Others live in tests/core.rs (sealed copy,
//! non-dumpable, fds, TIOCSTI, environment) and src/enter (unit tests).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn no_host_directory_reaches_the_container() {
    let c = Demo::busybox();
    // The working directory is a container path, and climbing out of it
    // through /proc/self/cwd stays in the container's root.
    let o = c.run(&[
        "-w",
        "/etc",
        "sh",
        "-c",
        "readlink /proc/self/cwd; cd /proc/self/cwd/../../../..; pwd; grep -c '^app:' /proc/self/cwd/etc/passwd; ls /proc/self/fd",
    ]);
    assert_eq!(stdout(&o), "/etc\n/\n1\n0\n1\n2\n3\n", "{}", stderr(&o));
    // The root of the command is the container's, not the host's.
    let o = c.run(&[
        "sh",
        "-c",
        "readlink /proc/self/root; cat /etc/hostname 2>/dev/null; hostname",
    ]);
    assert!(stdout(&o).starts_with("/\n"), "{}", stdout(&o));
}

#[test]
fn planted_ptmx_symlink_cannot_redirect_the_pty() {
    let c = Demo::busybox();
    // A hostile root replaces /dev/pts and /dev/ptmx with symlinks to files
    // it controls.
    let o = c.run(&[
        "sh",
        "-c",
        "umount -l /dev/pts && rmdir /dev/pts && mkdir -p /tmp/fake && echo planted > /tmp/fake/ptmx \
         && ln -s /tmp/fake /dev/pts && rm /dev/ptmx && ln -s /tmp/fake/ptmx /dev/ptmx && echo ok",
    ]);
    assert_eq!(stdout(&o).trim(), "ok", "{}", stderr(&o));
    // A session still gets a real PTY (the host fallback, opened before
    // entering), and the planted file is neither used nor changed.
    let o = c.run(&[
        "-t",
        "sh",
        "-c",
        "test -t 0 && test -t 1 && echo is-a-tty; cat /tmp/fake/ptmx",
    ]);
    let out = stdout(&o);
    assert!(out.contains("is-a-tty"), "{out}");
    assert!(out.contains("planted"), "{out}");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

const TIOCLINUX_C: &str = r#"
#include <sys/ioctl.h>
#include <stdio.h>
int main(void) {
  char sub = 3; /* TIOCL_PASTESEL: paste the console selection as input */
  if (ioctl(0, TIOCLINUX, &sub) < 0) { perror("TIOCLINUX"); return 1; }
  printf("TIOCLINUX accepted\n");
  return 0;
}
"#;

#[test]
fn tioclinux_never_reaches_the_users_terminal() {
    let c = Demo::busybox();
    let helper = cc_static("tioclinux", TIOCLINUX_C);
    let inside = format!("/proc/{}/root/tmp/tioclinux", c.pid);
    std::fs::copy(&helper, &inside).unwrap();
    let t = Tmux::start("bash --norc --noprofile", 100, 30);
    t.line(&format!("{} -it --pid {} sh", cdbg().display(), c.pid));
    t.expect("/ # ");
    t.line("/tmp/tioclinux; echo $((3*2))rc$?");
    // The command's terminal is a PTY of the container, not a virtual
    // console: the ioctl is refused there and nothing is pasted.
    let s = t.expect("6rc1");
    assert!(s.contains("TIOCLINUX: "), "{s}");
    assert!(!s.contains("TIOCLINUX accepted"), "{s}");
    t.line("exit");
    std::thread::sleep(Duration::from_millis(500));
    t.line("echo host-$((40+4))");
    t.expect("host-44");
}

#[test]
fn passwd_symlinks_never_reach_host_files() {
    // A root whose /etc/passwd is an absolute symlink to a path that exists
    // only on the host (with a tempting entry), and whose /etc/group points
    // at a magic link.
    let host_dir = std::env::temp_dir().join(format!("cdbgt-hostpw-{}", std::process::id()));
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(
        host_dir.join("passwd"),
        "app:x:4242:4242:host:/host:/bin/sh\n",
    )
    .unwrap();
    let root = std::env::temp_dir().join(format!("cdbgt-pwroot-{}", std::process::id()));
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for app in ["sh", "id", "sleep", "cat"] {
        let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(app));
    }
    let _ = std::os::unix::fs::symlink(host_dir.join("passwd"), root.join("etc/passwd"));
    let _ = std::os::unix::fs::symlink("/proc/1/root/etc/shadow", root.join("etc/group"));
    let c = Demo::start(Some(Path::new(&root)), Some("/bin/sleep 100000"));
    // By name: not found in the container (the host file is never read).
    let o = c.run(&["-u", "app", "id"]);
    assert_eq!(o.status.code(), Some(125), "{} {}", stdout(&o), stderr(&o));
    assert!(!stdout(&o).contains("4242"));
    assert!(stderr(&o).contains("app"), "{}", stderr(&o));
    // Numeric ids still work, as in docker exec.
    let o = c.run(&["-u", "1000:1000", "id", "-u"]);
    assert_eq!(stdout(&o).trim(), "1000", "{}", stderr(&o));
    drop(c);
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&host_dir);
}

#[test]
fn a_frozen_container_is_refused_not_hung() {
    let c = Demo::busybox();
    let freezer = format!("/sys/fs/cgroup/unified/cdbg-demo/{}/cgroup.freeze", c.name);
    let alt = format!("/sys/fs/cgroup/cdbg-demo/{}/cgroup.freeze", c.name);
    let f = if Path::new(&freezer).exists() {
        freezer
    } else {
        alt
    };
    if !require(
        Path::new(&f).exists(),
        "a cgroup v2 freezer for the demo container",
    ) {
        return;
    }
    std::fs::write(&f, "1").unwrap();
    let t = std::time::Instant::now();
    let o = Command::new(cdbg())
        .args(["cdbg:".to_string() + &c.name, "true".into()])
        .output()
        .unwrap();
    std::fs::write(&f, "0").unwrap();
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("paused"), "{}", stderr(&o));
    assert!(t.elapsed() < Duration::from_secs(5));
}
