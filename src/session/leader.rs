//! The session leader and the command.
//!
//! The leader is the first process inside the container's PID namespace. It
//! is a child subreaper, so every process the command starts — even one that
//! double-forks or calls setsid — stays its descendant. When the command
//! ends, or the client's control socket closes (the client exited, was
//! killed, or lost its terminal), it kills every descendant and exits:
//! nothing cdbg started outlives the session.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags};
use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, WaitOptions};

use super::proto::{self, Msg};
use super::seal::SELF_FD_ENV;
use super::stage::die;
use super::Spec;
use crate::enter::env::{Env, DEFAULT_PATH};
use crate::sys;
use crate::tty::{self, pty};

/// The leader (forked by the enter stage after joining the namespaces).
pub fn main(
    spec: &Spec,
    ctl: OwnedFd,
    selfexe: OwnedFd,
    stdio: Option<[OwnedFd; 3]>,
    host_pty: Option<pty::Pty>,
) -> ! {
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
    crate::cli::set_comm("cdbg-session");
    if sys::block_signals(&[libc::SIGCHLD]).is_err() {
        die(125);
    }
    let Ok(sigchld) = sys::signalfd(&[libc::SIGCHLD]) else {
        die(125)
    };
    let procfs = private_procfs();
    match start(spec, &ctl, &selfexe, stdio, host_pty) {
        Ok((child, errpipe)) => supervise(child, errpipe, &ctl, &sigchld, procfs.as_ref()),
        Err((code, msg)) => {
            proto::tell(&ctl, &Msg::Failed { code, msg });
            die(code)
        }
    }
}

/// A procfs instance of the container's PID namespace that nobody else can
/// see (a detached mount), to find every descendant at the end. Falls back
/// to the container's /proc when it is a real procfs.
fn private_procfs() -> Option<OwnedFd> {
    use rustix::mount::{
        fsconfig_create, fsmount, fsopen, FsMountFlags, FsOpenFlags, MountAttrFlags,
    };
    let detached = fsopen("proc", FsOpenFlags::FSOPEN_CLOEXEC).and_then(|fs| {
        fsconfig_create(&fs)?;
        fsmount(
            &fs,
            FsMountFlags::FSMOUNT_CLOEXEC,
            MountAttrFlags::MOUNT_ATTR_NOSUID
                | MountAttrFlags::MOUNT_ATTR_NODEV
                | MountAttrFlags::MOUNT_ATTR_NOEXEC,
        )
    });
    if let Ok(fd) = detached {
        return Some(fd);
    }
    let fd = rustix::fs::open(
        "/proc",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let is_proc = rustix::fs::fstatfs(&fd)
        .map(|s| s.f_type == 0x9fa0)
        .unwrap_or(false);
    is_proc.then_some(fd)
}

type Failure = (i32, String);

/// Whether the command is a shell (the container's, the default shell, or
/// the bundled one), whose users expect the bundled applets by name.
fn wants_tools(spec: &Spec) -> bool {
    let Some(a0) = spec.argv.first() else {
        return true;
    };
    let base = a0
        .as_bytes()
        .rsplit(|&b| b == b'/')
        .next()
        .unwrap_or_default();
    let base = base
        .strip_prefix(crate::applets::shell::FORCE_PREFIX.as_bytes())
        .unwrap_or(base);
    matches!(
        base,
        b"sh" | b"bash" | b"ash" | b"dash" | b"zsh" | b"ksh" | b"mksh"
    )
}

/// Where the tool directory may go: directories that are EMPTY in the
/// container (checked), so that shadowing them in the session's private
/// mount namespace hides nothing. The familiar ones first; then ones that
/// exist and are empty in most containers, even a scratch image: kernel
/// directories runtimes mask with an empty read-only tmpfs (Docker, Podman
/// and containerd mask /proc/acpi, /proc/scsi, /proc/asound, /sys/firmware)
/// and mount points of filesystems a container does not mount.
const TOOL_MOUNTPOINTS: &[&str] = &[
    "/mnt",
    "/media",
    "/srv",
    "/opt",
    "/var/empty",
    "/proc/acpi",
    "/proc/scsi",
    "/proc/asound",
    "/sys/firmware",
    "/sys/kernel/debug",
    "/sys/fs/pstore",
    "/proc/sys/fs/binfmt_misc",
];

/// Opens `path` as a directory without following any symlink on the way
/// (a container's symlink must not move the tool directory elsewhere), if
/// it is empty.
fn empty_dir(path: &str) -> Option<OwnedFd> {
    use rustix::fs::{openat2, ResolveFlags, CWD};
    let fd = openat2(
        CWD,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::NO_SYMLINKS,
    )
    .ok()?;
    let mut dir = rustix::fs::Dir::read_from(&fd).ok()?;
    let empty = dir.all(|e| e.is_ok_and(|e| matches!(e.file_name().to_bytes(), b"." | b"..")));
    empty.then_some(fd)
}

/// Fills the (still private) tool filesystem: `.cdbg/bin/cdbg`, a copy of
/// the sealed binary, and links `NAME` and `cdbg-NAME` to it per applet.
fn fill_tools(root: BorrowedFd<'_>, selfexe: BorrowedFd<'_>) -> Option<()> {
    use rustix::fs::{mkdirat, openat, symlinkat};
    let dir_mode = Mode::from_raw_mode(0o755);
    mkdirat(root, ".cdbg", dir_mode).ok()?;
    mkdirat(root, ".cdbg/bin", dir_mode).ok()?;
    let bin = openat(
        root,
        ".cdbg/bin",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let out = openat(
        &bin,
        "cdbg",
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
        dir_mode,
    )
    .ok()?;
    let mut src = std::fs::File::from(rustix::io::fcntl_dupfd_cloexec(selfexe, 3).ok()?);
    let _ = std::io::Seek::rewind(&mut src);
    std::io::copy(&mut src, &mut std::fs::File::from(out)).ok()?;
    for (name, _, _) in crate::applets::list() {
        let _ = symlinkat("cdbg", &bin, *name);
        let forced = format!("{}{name}", crate::applets::shell::FORCE_PREFIX);
        let _ = symlinkat("cdbg", &bin, forced);
    }
    Some(())
}

/// [`fill_tools`] in a child process that, when cdbg's own uid has no
/// mapping in the container's user namespace (rootless containers, where
/// creating a file would fail with EOVERFLOW), first becomes the
/// namespace's root, which owns the tool filesystem.
fn fill_tools_as_owner(root: BorrowedFd<'_>, selfexe: BorrowedFd<'_>) -> Option<()> {
    use rustix::process::{Gid, Uid};
    match sys::fork().ok()? {
        sys::Fork::Child => {
            // Readable by every user of the session, whatever the caller's umask.
            rustix::process::umask(Mode::from_raw_mode(0o022));
            if !rustix::process::getuid().is_root() {
                let _ = rustix::thread::set_thread_res_gid(Gid::ROOT, Gid::ROOT, Gid::ROOT);
                let _ = rustix::thread::set_thread_res_uid(Uid::ROOT, Uid::ROOT, Uid::ROOT);
                // A credential change resets "dumpable" to fs.suid_dumpable;
                // stay out of reach of ptrace by the container's root.
                let _ = rustix::process::set_dumpable_behavior(
                    rustix::process::DumpableBehavior::NotDumpable,
                );
            }
            die(if fill_tools(root, selfexe).is_some() {
                0
            } else {
                1
            })
        }
        sys::Fork::Parent(pid) => {
            let (_, st) =
                rustix::process::waitpid(Pid::from_raw(pid), WaitOptions::empty()).ok()??;
            (st.exit_status() == Some(0)).then_some(())
        }
    }
}

/// Puts the bundled applets on the session's PATH without changing the
/// container's files as the container sees them: the leader moves into a
/// private copy of the container's mount namespace (slave, so the
/// container's own mount changes still show), fills a small tmpfs that is
/// not yet attached anywhere (a copy of the sealed binary, one link per
/// applet and per `cdbg-APPLET`), makes it read-only and mounts it on the
/// first EMPTY directory of [`TOOL_MOUNTPOINTS`] (nothing is hidden).
/// Returns the directory to append to PATH.
fn tool_dir(selfexe: BorrowedFd<'_>) -> Option<String> {
    use rustix::mount::{
        fsconfig_create, fsconfig_reconfigure, fsconfig_set_flag, fsconfig_set_string, fsmount,
        fsopen, fspick, mount_change, move_mount, FsMountFlags, FsOpenFlags, FsPickFlags,
        MountAttrFlags, MountPropagationFlags, MoveMountFlags,
    };
    // Only leave the container's mount namespace when there is a place.
    TOOL_MOUNTPOINTS.iter().find(|d| empty_dir(d).is_some())?;
    sys::unshare(libc::CLONE_NEWNS).ok()?;
    mount_change(
        "/",
        MountPropagationFlags::REC | MountPropagationFlags::DOWNSTREAM,
    )
    .ok()?;
    let len = rustix::fs::fstat(selfexe).ok()?.st_size as u64;
    let fs = fsopen("tmpfs", FsOpenFlags::FSOPEN_CLOEXEC).ok()?;
    fsconfig_set_string(&fs, "source", "cdbg-tools").ok()?;
    fsconfig_set_string(&fs, "mode", "755").ok()?;
    // Owned by the root of the container's user namespace, if any.
    fsconfig_set_string(&fs, "uid", "0").ok()?;
    fsconfig_set_string(&fs, "gid", "0").ok()?;
    fsconfig_set_string(&fs, "size", (len + (1 << 20)).to_string()).ok()?;
    fsconfig_create(&fs).ok()?;
    let mnt = fsmount(
        &fs,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV,
    )
    .ok()?;
    fill_tools_as_owner(mnt.as_fd(), selfexe)?;
    // Read-only for good: the superblock itself, not just this mount.
    let sb = fspick(
        &mnt,
        "",
        FsPickFlags::FSPICK_EMPTY_PATH | FsPickFlags::FSPICK_CLOEXEC,
    )
    .ok()?;
    fsconfig_set_flag(&sb, "ro").ok()?;
    fsconfig_reconfigure(&sb).ok()?;
    // Checked again in the new namespace, and mounted on the very
    // directory checked (by descriptor, not by path).
    TOOL_MOUNTPOINTS.iter().find_map(|d| {
        let target = empty_dir(d)?;
        move_mount(
            &mnt,
            "",
            &target,
            "",
            MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
        )
        .ok()?;
        Some(format!("{d}/.cdbg/bin"))
    })
}

use crate::enter::user::Creds;

fn resolve_creds(spec: &Spec, root: BorrowedFd<'_>) -> Result<Creds, Failure> {
    crate::enter::user::resolve_user(
        root,
        spec.user.as_deref(),
        spec.default_uid,
        spec.default_gid,
        Some(&spec.default_groups),
    )
    .map_err(|e| (125, e))
}

fn build_env(spec: &Spec, creds: &Creds) -> Env {
    let mut env = Env(spec.env.clone());
    let explicit = |k: &str| spec.explicit_env.iter().any(|e| e == k);
    let mut put = |k: &str, v: &str| {
        if !explicit(k) {
            env.set(k, v);
        }
    };
    put("HOME", &creds.home);
    if let Some(n) = &creds.name {
        put("USER", n);
        put("LOGNAME", n);
    }
    if let Some(s) = &creds.shell {
        put("SHELL", s);
    }
    if env.get("PATH").is_none() {
        env.set("PATH", DEFAULT_PATH);
    }
    env
}

fn start(
    spec: &Spec,
    ctl: &OwnedFd,
    selfexe: &OwnedFd,
    stdio: Option<[OwnedFd; 3]>,
    host_pty: Option<pty::Pty>,
) -> Result<(i32, OwnedFd), Failure> {
    let root = rustix::fs::open(
        "/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| (125, format!("cannot open the container's root: {e}")))?;
    let creds = resolve_creds(spec, root.as_fd())?;
    let mut env = build_env(spec, &creds);
    if wants_tools(spec) {
        if let Some(dir) = tool_dir(selfexe.as_fd()) {
            let path = env.get("PATH").map(|p| p.to_owned()).unwrap_or_default();
            let mut p = path.into_encoded_bytes();
            p.extend_from_slice(b":");
            p.extend_from_slice(dir.as_bytes());
            // SAFETY-free: bytes came from an OsString plus ASCII.
            env.set("PATH", OsStr::from_bytes(&p));
        }
    }
    let pty = if spec.tty {
        // The container's own devpts; a host PTY (opened by the enter stage
        // before it joined the container) only when there is none.
        let p = match (pty::open_in(&root), host_pty) {
            (Ok(p), _) => p,
            (Err(_), Some(h)) => h,
            (Err(e), None) => {
                return Err((125, format!("cannot allocate a PTY in the container: {e}")))
            }
        };
        if let Some((r, c)) = spec.winsize {
            tty::set_winsize(&p.master, r, c);
        }
        Some(p)
    } else {
        None
    };
    drop(root);
    let (err_r, err_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| (125, format!("pipe: {e}")))?;
    let child = match sys::fork() {
        Ok(sys::Fork::Child) => {
            drop(err_r);
            let peer = pty.as_ref().map(|p| p.peer.as_fd());
            let err = exec_command(spec, &creds, &env, selfexe.as_fd(), peer, stdio.as_ref());
            let (code, msg) = err;
            let mut buf = code.to_le_bytes().to_vec();
            buf.extend_from_slice(msg.as_bytes());
            let _ = rustix::io::write(&err_w, &buf);
            die(code)
        }
        Ok(sys::Fork::Parent(pid)) => pid,
        Err(e) => return Err((125, format!("fork: {e}"))),
    };
    drop(err_w);
    drop(stdio);
    if let Some(p) = pty {
        drop(p.peer);
        proto::send(ctl.as_fd(), &Msg::Pty, &[p.master.as_fd()])
            .map_err(|e| (125, format!("control: {e}")))?;
    }
    proto::tell(ctl, &Msg::Started { pid: child });
    Ok((child, err_r))
}

/// In the command's process: set up its terminal, directory and
/// credentials, then exec. Returns only on failure, with the docker-style
/// status and message.
fn exec_command(
    spec: &Spec,
    creds: &Creds,
    env: &Env,
    selfexe: BorrowedFd<'_>,
    peer: Option<BorrowedFd<'_>>,
    stdio: Option<&[OwnedFd; 3]>,
) -> Failure {
    let _ = rustix::process::setsid();
    let fail = |what: &str, e: io::Error| (125, format!("{what}: {e}"));
    if let Some(peer) = peer {
        // The fresh PTY becomes our controlling terminal; the container
        // never sees the user's terminal.
        if let Err(e) = rustix::process::ioctl_tiocsctty(peer) {
            return fail("cannot make the PTY the controlling terminal", e.into());
        }
        for n in 0..3 {
            if let Ok(fd) = sys::dup2_raw(peer, n) {
                std::mem::forget(fd);
            }
        }
    } else if let Some(pipes) = stdio {
        for (n, p) in pipes.iter().enumerate() {
            if let Ok(fd) = sys::dup2_raw(p.as_fd(), n as i32) {
                std::mem::forget(fd);
            }
        }
    }
    let wd = spec.workdir.as_deref().unwrap_or("/");
    if let Err(e) = rustix::process::chdir(wd) {
        if spec.workdir_explicit {
            return (
                126,
                format!("cannot change to working directory {wd:?}: {e}"),
            );
        }
        let _ = rustix::process::chdir("/");
    }
    // Only 0, 1 and 2 cross the exec.
    let _ = sys::cloexec_from(3);
    sys::reset_signals();
    // Credentials, capabilities, no_new_privs, LSM label, seccomp: the
    // filter may forbid anything but execve from here on.
    if let Err(e) = crate::enter::confine::apply(&spec.confine, creds, None) {
        return (125, e);
    }
    let argv: Vec<OsString> = spec.argv.clone();
    let envv = env.to_vec();
    if argv.is_empty() {
        return exec_shell(spec, env, &envv, selfexe);
    }
    let name = argv[0].as_bytes();
    if spec.force_tool || name.starts_with(b"cdbg-") {
        let app = name.strip_prefix(b"cdbg-").unwrap_or(name);
        let app = String::from_utf8_lossy(app).into_owned();
        return exec_bundled(&app, &argv, &envv, selfexe);
    }
    let err = exec_path(&argv, env, &envv);
    if err.0 == 127 {
        let app = String::from_utf8_lossy(name).into_owned();
        if crate::applets::find(&app).is_some() {
            return exec_bundled(&app, &argv, &envv, selfexe);
        }
    }
    err
}

/// Searches PATH inside the container and execs; returns 126/127 failures.
fn exec_path(argv: &[OsString], env: &Env, envv: &[OsString]) -> Failure {
    let name = argv[0].as_bytes();
    let shown = String::from_utf8_lossy(name).into_owned();
    if name.contains(&b'/') {
        let e = sys::execve(&argv[0], argv, envv);
        return exec_error(&shown, e);
    }
    let path = env
        .get("PATH")
        .map(|p| p.as_bytes().to_vec())
        .unwrap_or_else(|| DEFAULT_PATH.into());
    let mut denied: Option<io::Error> = None;
    for dir in path.split(|&b| b == b':') {
        let dir = if dir.is_empty() { &b"."[..] } else { dir };
        let mut full = dir.to_vec();
        full.push(b'/');
        full.extend_from_slice(name);
        let e = sys::execve(OsStr::from_bytes(&full), argv, envv);
        match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::ENOTDIR) => continue,
            _ => {
                denied.get_or_insert(e);
            }
        }
    }
    match denied {
        Some(e) => exec_error(&shown, e),
        None => (
            127,
            format!("exec: {shown:?}: executable file not found in $PATH"),
        ),
    }
}

fn exec_error(shown: &str, e: io::Error) -> Failure {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENOTDIR) => {
            (127, format!("exec: {shown:?}: no such file or directory"))
        }
        _ => (126, format!("exec: {shown:?}: {e}")),
    }
}

/// Runs a bundled applet from the sealed copy, handing it the copy's fd so
/// that it can run further applets without any file in the container.
fn exec_bundled(
    applet: &str,
    argv: &[OsString],
    envv: &[OsString],
    selfexe: BorrowedFd<'_>,
) -> Failure {
    if crate::applets::find(applet).is_none() {
        return (
            127,
            format!("exec: {applet:?}: not a bundled applet (see cdbg --list)"),
        );
    }
    let Ok(fd) = rustix::io::fcntl_dupfd_cloexec(selfexe, 3) else {
        return (125, "cannot pass the sealed copy".into());
    };
    let _ = sys::clear_cloexec(fd.as_fd());
    let mut env: Vec<OsString> = envv.to_vec();
    env.push(format!("{SELF_FD_ENV}={}", std::os::fd::AsRawFd::as_raw_fd(&fd)).into());
    let mut av = argv.to_vec();
    av[0] = applet.into();
    let e = sys::execveat_fd(selfexe, &av, &env);
    (126, format!("exec: bundled {applet:?}: {e}"))
}

fn exec_shell(spec: &Spec, env: &Env, envv: &[OsString], selfexe: BorrowedFd<'_>) -> Failure {
    let mut candidates: Vec<OsString> = Vec::new();
    if let Some(s) = &spec.target_shell {
        candidates.push(s.clone());
    }
    candidates.push("/bin/bash".into());
    candidates.push("/bin/sh".into());
    for sh in candidates {
        if sh.as_bytes().first() != Some(&b'/') {
            continue;
        }
        let argv0 = OsStr::from_bytes(sh.as_bytes().rsplit(|&b| b == b'/').next().unwrap_or(b"sh"))
            .to_owned();
        let _ = sys::execve(&sh, &[argv0], envv);
    }
    let _ = env;
    exec_bundled("sh", &["sh".into()], envv, selfexe)
}

/// Waits for the command, forwards signals, and ends the session.
fn supervise(
    child: i32,
    mut errpipe: OwnedFd,
    ctl: &OwnedFd,
    sigchld: &OwnedFd,
    procfs: Option<&OwnedFd>,
) -> ! {
    let mut exec_failed = false;
    let mut err_open = true;
    loop {
        let mut fds = vec![
            PollFd::new(ctl, PollFlags::IN),
            PollFd::new(sigchld, PollFlags::IN),
        ];
        if err_open {
            fds.push(PollFd::new(&errpipe, PollFlags::IN));
        }
        if let Err(e) = poll(&mut fds, None) {
            if e != rustix::io::Errno::INTR {
                kill_tree(child, procfs);
                die(125);
            }
            continue;
        }
        let (rc, rs) = (fds[0].revents(), fds[1].revents());
        let re = fds
            .get(2)
            .map(|f| f.revents())
            .unwrap_or(PollFlags::empty());
        drop(fds);
        if !re.is_empty() {
            err_open = false;
            exec_failed |= report_exec_error(&mut errpipe, ctl);
        }
        if !rc.is_empty() {
            match proto::recv(ctl.as_fd()) {
                Ok(Some((Msg::Signal(sig), _))) => {
                    let _ = sys::kill(child, sig);
                }
                Ok(Some(_)) => {}
                // The client is gone: end everything.
                Ok(None) | Err(_) => {
                    kill_tree(child, procfs);
                    die(0);
                }
            }
        }
        if !rs.is_empty() {
            while sys::read_signalfd(sigchld.as_fd()).is_some() {}
            let mut status = None;
            while let Ok(Some((pid, st))) = rustix::process::wait(WaitOptions::NOHANG) {
                if pid.as_raw_nonzero().get() == child {
                    status = Some(st);
                }
            }
            if let Some(st) = status {
                let code = if let Some(c) = st.exit_status() {
                    c
                } else if let Some(s) = st.terminating_signal() {
                    128 + s
                } else {
                    125
                };
                // Collect a pending exec error before reporting.
                if err_open {
                    exec_failed |= report_exec_error(&mut errpipe, ctl);
                }
                kill_tree(child, procfs);
                if !exec_failed {
                    proto::tell(ctl, &Msg::Exit { code });
                }
                die(0);
            }
        }
    }
}

/// Reads the exec-error pipe to EOF (closed by a successful exec) and,
/// when the command's process wrote a failure (status, message), passes it
/// to the client. Returns whether there was one.
fn report_exec_error(errpipe: &mut OwnedFd, ctl: &OwnedFd) -> bool {
    let mut buf = Vec::new();
    if let Ok(fd) = errpipe.try_clone() {
        let _ = std::fs::File::from(fd).read_to_end(&mut buf);
    }
    if buf.len() < 4 {
        return false;
    }
    let code = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let msg = String::from_utf8_lossy(&buf[4..]).into_owned();
    proto::tell(ctl, &Msg::Failed { code, msg });
    true
}

fn descendants(procfs: &OwnedFd, of: i32, out: &mut Vec<i32>) {
    let Ok(tasks) = rustix::fs::openat(
        procfs,
        format!("{of}/task"),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return;
    };
    let Ok(dir) = rustix::fs::Dir::read_from(&tasks) else {
        return;
    };
    let mut kids = Vec::new();
    for ent in dir.flatten() {
        let tid = ent.file_name().to_bytes();
        if tid.first().is_none_or(|c| !c.is_ascii_digit()) {
            continue;
        }
        let path = format!("{}/children", String::from_utf8_lossy(tid));
        if let Ok(fd) = rustix::fs::openat(
            &tasks,
            path,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            let mut s = String::new();
            let _ = std::fs::File::from(fd).read_to_string(&mut s);
            kids.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    for k in kids {
        if !out.contains(&k) {
            out.push(k);
            descendants(procfs, k, out);
        }
    }
}

/// Kills every descendant of the leader and reaps them.
fn kill_tree(child: i32, procfs: Option<&OwnedFd>) {
    let me = rustix::process::getpid().as_raw_nonzero().get();
    for round in 0..200 {
        let mut all = Vec::new();
        match procfs {
            Some(p) => descendants(p, me, &mut all),
            None if round == 0 => all.extend([child, -child]),
            None => {}
        }
        while let Ok(Some(_)) = rustix::process::wait(WaitOptions::NOHANG) {}
        if all.is_empty() {
            // Without a procfs, wait for the command's group to go.
            if procfs.is_none() {
                let _ = rustix::process::waitpid(
                    Some(Pid::from_raw(child).unwrap_or(Pid::INIT)),
                    WaitOptions::NOHANG,
                );
            }
            return;
        }
        for pid in all {
            let _ = sys::kill(pid, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(if round < 10 { 2 } else { 10 }));
        while let Ok(Some(_)) = rustix::process::wait(WaitOptions::NOHANG) {}
    }
}
