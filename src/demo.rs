//! `cdbg demo`: a throwaway container made by cdbg itself — new mount, PID,
//! network, IPC and UTS namespaces, a root that is an empty tmpfs (or a
//! directory you give), its own devpts and /proc, and an init that is
//! cdbg's own sealed copy — so that cdbg can be tried, and tested, on a
//! machine with no container runtime at all.
//!
//! With `--hold` it prints the init's PID and keeps the container until its
//! stdin closes or it gets SIGTERM/SIGINT (the tests' fixture containers).
//! The container's processes die with the holder in every case (parent
//! death signals down to the init, whose death ends the PID namespace).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use clap::Args;
use rustix::fs::{Mode, OFlags};
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};
use rustix::process::{Pid, Signal, WaitOptions};

use crate::session::{self, stage::die};
use crate::sys;

/// argv[1] of the demo container's init (the sealed copy).
pub const INIT_STAGE: &str = "__cdbg_demo_init";

/// `cdbg demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Use this directory as the container's root (default: an empty tmpfs).
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,
    /// Keep the container and print its init PID; end when stdin closes or on SIGTERM.
    #[arg(long)]
    pub hold: bool,
    /// The container's name (its hostname and cgroup /cdbg-demo/NAME).
    #[arg(long)]
    pub name: Option<String>,
    /// Program (a path inside the root, with arguments split at spaces) to run as init instead of cdbg's own.
    #[arg(long, value_name = "COMMAND")]
    pub init: Option<String>,
    /// Command for the session (default: a shell).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<OsString>,
}

const INIT_ENV: &[&str] = &[
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
];

fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    let base = Path::new("/sys/fs/cgroup");
    let mut dirs = Vec::new();
    if base.join("unified/cgroup.procs").exists() {
        dirs.push(base.join("unified"));
        for h in ["systemd", "pids", "memory", "cpu"] {
            if base.join(h).join("cgroup.procs").exists() {
                dirs.push(base.join(h));
            }
        }
    } else if base.join("cgroup.procs").exists() {
        dirs.push(base.to_path_buf());
    }
    dirs.into_iter()
        .map(|d| d.join("cdbg-demo").join(name))
        .collect()
}

/// Runs `cdbg demo`.
pub fn run(args: DemoArgs) -> i32 {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cdbg: demo: {e}");
            125
        }
    }
}

fn run_inner(args: DemoArgs) -> std::io::Result<i32> {
    let memfd = session::seal::sealed_self()?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("demo-{}", std::process::id()));
    // Without --rootfs the root is a tmpfs mounted, in the container's own
    // mount namespace, over the temp directory: nothing is made on the host,
    // so nothing is left behind even when the demo is killed.
    let root = args
        .rootfs
        .as_ref()
        .map(std::fs::canonicalize)
        .transpose()?;
    let cgroups = cgroup_dirs(&name);
    for d in &cgroups {
        // Sweep empty leftovers of demos that were killed without cleaning
        // up; only old ones, never a sibling another demo is starting in.
        if let Some(Ok(rd)) = d.parent().map(std::fs::read_dir) {
            for e in rd.flatten() {
                let stale = e
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.elapsed().ok());
                if e.file_type().is_ok_and(|t| t.is_dir())
                    && stale.is_some_and(|age| age.as_secs() > 60)
                {
                    let _ = std::fs::remove_dir(e.path());
                }
            }
        }
        let _ = std::fs::create_dir_all(d);
    }
    let (pid_r, pid_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let holder = match sys::fork()? {
        sys::Fork::Child => {
            drop(pid_r);
            spawn_init(
                root.as_deref(),
                &name,
                &args,
                &cgroups,
                memfd.as_fd(),
                pid_w,
            )
        }
        sys::Fork::Parent(p) => p,
    };
    drop(pid_w);
    drop(memfd);
    let mut buf = String::new();
    let _ = std::fs::File::from(pid_r).read_to_string(&mut buf);
    let cleanup = || {
        let _ = sys::kill(holder, libc::SIGKILL);
        let _ = rustix::process::waitpid(Pid::from_raw(holder), WaitOptions::empty());
        for d in &cgroups {
            for _ in 0..50 {
                if std::fs::remove_dir(d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    };
    let Ok(init) = buf.trim().parse::<i32>() else {
        cleanup();
        return Err(std::io::Error::other(format!(
            "the container did not start: {}",
            buf.trim()
        )));
    };
    let code = if args.hold {
        println!("{init}");
        let _ = std::io::stdout().flush();
        hold();
        0
    } else {
        eprintln!("cdbg: demo container {name:?} (init PID {init}); the session ends it");
        let opts = crate::cli::ExecOpts::default();
        crate::cli::run_in(
            init,
            &format!("demo {name}"),
            opts,
            args.command.clone(),
            None,
            None,
        )
    };
    cleanup();
    Ok(code)
}

/// Waits until stdin closes or SIGTERM/SIGINT/SIGHUP arrives.
fn hold() {
    let sigs = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];
    let _ = sys::block_signals(&sigs);
    let Ok(sfd) = sys::signalfd(&sigs) else {
        return;
    };
    let stdin = rustix::stdio::stdin();
    let mut watch_stdin = true;
    loop {
        use rustix::event::{poll, PollFd, PollFlags};
        let mut fds = vec![PollFd::new(&sfd, PollFlags::IN)];
        if watch_stdin {
            fds.push(PollFd::from_borrowed_fd(stdin, PollFlags::IN));
        }
        if poll(&mut fds, None).is_err() {
            continue;
        }
        if !fds[0].revents().is_empty() {
            return;
        }
        if fds.len() > 1 && !fds[1].revents().is_empty() {
            let mut b = [0u8; 256];
            match rustix::io::read(stdin, &mut b) {
                Ok(0) => return,
                Ok(_) => {}
                // stdin not readable (closed, /dev/null-like errors): wait for signals only.
                Err(_) => watch_stdin = false,
            }
        }
    }
}

/// In the holder child: join the demo cgroups, unshare, fork the init.
fn spawn_init(
    root: Option<&Path>,
    name: &str,
    args: &DemoArgs,
    cgroups: &[PathBuf],
    memfd: std::os::fd::BorrowedFd<'_>,
    pid_w: OwnedFd,
) -> ! {
    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
    let report = |msg: &str| {
        let _ = rustix::io::write(&pid_w, msg.as_bytes());
    };
    for d in cgroups {
        if std::fs::write(d.join("cgroup.procs"), b"0").is_err() {
            // Removed under us (an older cdbg's sweep): make it again.
            let _ = std::fs::create_dir_all(d);
            let _ = std::fs::write(d.join("cgroup.procs"), b"0");
        }
    }
    let flags = libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS;
    if let Err(e) = sys::unshare(flags) {
        report(&format!("unshare: {e}"));
        die(1);
    }
    let (go_r, go_w) = match rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) {
        Ok(p) => p,
        Err(_) => die(1),
    };
    match sys::fork() {
        Ok(sys::Fork::Child) => {
            drop(go_r);
            let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
            if let Err(e) = setup_root(root, name) {
                let _ = rustix::io::write(&go_w, format!("cannot set up the root: {e}").as_bytes());
                die(1);
            }
            drop(go_w);
            let env: Vec<OsString> = INIT_ENV.iter().map(OsString::from).collect();
            let e = match &args.init {
                Some(cmd) => {
                    let argv: Vec<OsString> = cmd.split_whitespace().map(OsString::from).collect();
                    sys::execve(&argv[0], &argv, &env)
                }
                None => sys::execveat_fd(
                    memfd,
                    &[OsString::from("cdbg-init"), OsString::from(INIT_STAGE)],
                    &env,
                ),
            };
            eprintln!("cdbg: demo: cannot start init: {e}");
            die(1)
        }
        Ok(sys::Fork::Parent(init)) => {
            drop(go_w);
            let mut err = String::new();
            let _ = std::fs::File::from(go_r).read_to_string(&mut err);
            if err.is_empty() {
                // Wait until the init has exec'd (its comm changes), so the
                // PID we report is the container's real init.
                for _ in 0..500 {
                    let exe = std::fs::read_link(format!("/proc/{init}/exe")).unwrap_or_default();
                    if !exe.to_string_lossy().ends_with(
                        std::env::current_exe()
                            .unwrap_or_default()
                            .to_string_lossy()
                            .as_ref(),
                    ) || args.init.is_none() && exe.to_string_lossy().contains("memfd:")
                    {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                report(&init.to_string());
            } else {
                report(&err);
            }
            drop(pid_w);
            let status = rustix::process::waitpid(Pid::from_raw(init), WaitOptions::empty());
            die(status
                .ok()
                .flatten()
                .and_then(|(_, s)| s.exit_status())
                .unwrap_or(0))
        }
        Err(_) => die(1),
    }
}

/// Mounts the container's root (a fresh tmpfs over the temp directory when
/// `root` is None) with /dev, /proc and /tmp, and pivots into it.
fn setup_root(root: Option<&Path>, name: &str) -> std::io::Result<()> {
    use rustix::mount::{mount, mount_bind, mount_bind_recursive, mount_change, unmount};
    mount_change(
        "/",
        MountPropagationFlags::REC | MountPropagationFlags::PRIVATE,
    )?;
    let tmp = std::env::temp_dir();
    // A fresh tmpfs without --rootfs, and over an empty --rootfs in the
    // temp directory; any other --rootfs is used as it is.
    let fresh = match root {
        None => true,
        Some(r) => r.starts_with(&tmp) && std::fs::read_dir(r)?.next().is_none(),
    };
    let root = root.unwrap_or(&tmp);
    if fresh {
        mount(
            "none",
            root,
            "tmpfs",
            MountFlags::empty(),
            Some(c"mode=755"),
        )?;
    } else {
        mount_bind_recursive(root, root)?;
    }
    for d in ["dev", "proc", "tmp", "etc"] {
        // Several demo containers may share one root directory.
        match std::fs::create_dir(root.join(d)) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    let dev = root.join("dev");
    mount("none", &dev, "tmpfs", MountFlags::NOSUID, Some(c"mode=755"))?;
    std::fs::create_dir(dev.join("pts"))?;
    mount(
        "devpts",
        dev.join("pts"),
        "devpts",
        MountFlags::NOSUID | MountFlags::NOEXEC,
        Some(c"newinstance,ptmxmode=0666,mode=620,gid=5"),
    )?;
    std::os::unix::fs::symlink("pts/ptmx", dev.join("ptmx"))?;
    std::fs::create_dir(dev.join("shm"))?;
    for node in ["null", "zero", "full", "random", "urandom", "tty"] {
        let target = dev.join(node);
        std::fs::File::create(&target)?;
        mount_bind(format!("/dev/{node}"), &target)?;
    }
    mount(
        "proc",
        root.join("proc"),
        "proc",
        MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
        None,
    )?;
    // A private /tmp per container, so that containers sharing a root
    // directory do not see each other's files.
    let _ = mount(
        "none",
        root.join("tmp"),
        "tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        Some(c"mode=1777"),
    );
    let _ = rustix::system::sethostname(name.as_bytes());
    // Make the new root the process's root: pivot_root(".", ".") stacks the
    // old root on the new one; detaching it leaves only the container's.
    rustix::process::chdir(root)?;
    rustix::process::pivot_root(".", ".")?;
    unmount(".", UnmountFlags::DETACH)?;
    rustix::process::chdir("/")?;
    let _ = rustix::fs::open("/", OFlags::PATH, Mode::empty());
    Ok(())
}

/// The demo container's init: reaps orphans, ends on SIGTERM/SIGINT.
pub fn init_main() -> ! {
    let sigs = [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP];
    let _ = sys::block_signals(&sigs);
    let Ok(sfd) = sys::signalfd(&sigs) else {
        die(1)
    };
    loop {
        let mut fds = [rustix::event::PollFd::new(
            &sfd,
            rustix::event::PollFlags::IN,
        )];
        let _ = rustix::event::poll(&mut fds, None);
        while let Some(sig) = sys::read_signalfd(sfd.as_fd()) {
            match sig {
                libc::SIGCHLD => {
                    while let Ok(Some(_)) = rustix::process::wait(WaitOptions::NOHANG) {}
                }
                _ => die(0),
            }
        }
    }
}
