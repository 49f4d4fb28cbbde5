//! The command line: a thin layer over target → enter → session → tty.
//!
//! `cdbg [OPTIONS] TARGET [COMMAND [ARG...]]` and `cdbg [OPTIONS] --pid PID
//! [COMMAND...]` enter a container; `cdbg ls|ps|demo|...` are subcommands;
//! `cdbg APPLET ...` (or a link named after an applet) runs a bundled tool
//! on the host, like busybox.

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::enter::env::Env;
use crate::enter::ns;
use crate::session::{self, Spec};
use crate::target;

/// Options for entering a target (docker exec's flags, nsenter's choice of
/// namespaces).
#[derive(Debug, Args, Default)]
pub struct ExecOpts {
    /// Target a process by PID instead of a container name or ID.
    #[arg(long, value_name = "PID")]
    pub pid: Option<i32>,
    /// Target the container of a cgroup (a path like /docker/ID, or a directory under /sys/fs/cgroup).
    #[arg(long, value_name = "PATH")]
    pub cgroup: Option<String>,
    /// Only look at this runtime's containers (docker, podman, ctr, k8s, crio, runc, crun, lxc, nspawn, cdbg).
    #[arg(long, value_name = "RUNTIME")]
    pub runtime: Option<String>,
    /// Enter a paused (frozen) container anyway (a shell there hangs until it is resumed).
    #[arg(long)]
    pub force: bool,
    /// Kubernetes: the pod's sandbox (pause) container instead of the app container.
    #[arg(long)]
    pub sandbox: bool,
    /// Keep STDIN open (implied when no command is given).
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a PTY (implied with -i when no command is given and stdin is a terminal).
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Set an environment variable (KEY=VAL, or KEY to pass the caller's value).
    #[arg(short = 'e', long = "env", value_name = "KEY[=VAL]")]
    pub env: Vec<String>,
    /// Read environment variables from a file.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container.
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// User: NAME|UID[:GROUP|GID].
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// Namespaces to join (mnt,pid,net,ipc,uts,cgroup,user,time; default: all that differ).
    #[arg(long, value_name = "LIST")]
    pub ns: Option<String>,
    /// Run the bundled applet even if the container has a program of that name.
    #[arg(long)]
    pub tool: bool,
    /// Do not join the target's cgroups.
    #[arg(long = "no-cgroup")]
    pub no_cgroup: bool,
    /// cdbg's full capabilities, no seccomp filter, no LSM label.
    #[arg(long)]
    pub privileged: bool,
    /// Add a capability (docker names: NET_ADMIN, CAP_NET_ADMIN, ALL).
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a capability (docker names, ALL).
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Seccomp: "default" applies the target's filters, "unconfined" none.
    #[arg(long, value_name = "MODE")]
    pub seccomp: Option<String>,
    /// Everything is on fire: privileged, no cgroup join, no seccomp.
    #[arg(long)]
    pub rescue: bool,
    /// Keep the session: start it detached and print its ID (`cdbg attach ID`).
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep the session under this name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Keep the session, with these detach keys (docker syntax: ctrl-p,ctrl-q) and `~.`.
    #[arg(long = "detach-keys", value_name = "KEYS")]
    pub detach_keys: Option<String>,
}

/// cdbg: a daemonless container debugger.
#[derive(Debug, Parser)]
#[command(
    name = "cdbg",
    version,
    about = "Debug any container without its daemon: enter its namespaces with a shell and tools",
    after_help = "Subcommands:\n  ls|ps [-a] [--json]      the containers on this host (no daemon needed)\n  demo [--rootfs DIR]      a throwaway container (no runtime needed)\n  sessions [--json]        the kept sessions (-d, --name, --detach-keys)\n  attach [--steal] SESSION re-attach a kept session\n  kill [--signal SIG] SESSION  end a kept session\n  APPLET [ARGS]            a bundled tool on the host (see --list)\n\nExamples:\n  cdbg web                 a shell inside container \"web\"\n  cdbg --pid 1234 ps aux   a command in the namespaces of PID 1234\n  cdbg web ss -ltnp        the bundled ss, even in a scratch image\n  cdbg --rescue web        root, no cgroup join, no seccomp: for bad days"
)]
pub struct ExecCli {
    #[command(flatten)]
    pub opts: ExecOpts,
    /// List the bundled applets.
    #[arg(long)]
    pub list: bool,
    /// TARGET (container name, ID, or PID) followed by the COMMAND and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "TARGET [COMMAND [ARG...]]"
    )]
    pub args: Vec<OsString>,
}

/// The subcommands (chosen when the first word is one of them).
#[derive(Debug, Parser)]
#[command(name = "cdbg", version)]
pub struct SubCli {
    #[command(subcommand)]
    pub cmd: Sub,
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Make a throwaway container (new namespaces, an empty root) and open a shell in it.
    Demo(crate::demo::DemoArgs),
    /// List the containers on this host (from /proc, cgroups and the runtimes' files; no daemon).
    #[command(visible_alias = "ps")]
    Ls(LsArgs),
    /// Re-attach to a kept session.
    Attach(session::client::AttachArgs),
    /// List kept sessions.
    Sessions(session::client::SessionsArgs),
    /// End a kept session, or signal its command.
    Kill(session::client::KillArgs),
}

/// `cdbg ls` options.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Include stopped containers that the runtimes still record (and Kubernetes sandboxes).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// JSON for scripts (schema: docs/ls-json.md).
    #[arg(long)]
    pub json: bool,
    /// Only this runtime's containers.
    #[arg(long, value_name = "RUNTIME")]
    pub runtime: Option<String>,
}

const SUBCOMMANDS: &[&str] = &["demo", "ls", "ps", "attach", "sessions", "kill"];

/// Flags that take a value (to find the first positional word).
const VALUE_FLAGS: &[&str] = &[
    "--pid",
    "-e",
    "--env",
    "--env-file",
    "-w",
    "--workdir",
    "-u",
    "--user",
    "--ns",
    "--name",
    "--detach-keys",
    "--cgroup",
    "--runtime",
    "--cap-add",
    "--cap-drop",
    "--seccomp",
];

fn first_positional(args: &[OsString]) -> Option<usize> {
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_bytes();
        if a == b"--" {
            return (i + 1 < args.len()).then_some(i + 1);
        }
        if a.starts_with(b"-") && a.len() > 1 {
            if VALUE_FLAGS.iter().any(|f| f.as_bytes() == a) {
                i += 1;
            }
            i += 1;
            continue;
        }
        return Some(i);
    }
    None
}

/// The entry point behind `main`.
pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    // Internal stages run from the sealed copy.
    if args
        .get(1)
        .map(|a| a == session::ENTER_STAGE)
        .unwrap_or(false)
    {
        session::stage::main(args.get(2));
    }
    if args
        .get(1)
        .map(|a| a == crate::demo::INIT_STAGE)
        .unwrap_or(false)
    {
        crate::demo::init_main();
    }
    // busybox-style: a link named after an applet, or `cdbg-NAME`.
    if let Some(code) = applet_by_argv0(&args) {
        return code;
    }
    let pos = first_positional(&args);
    let has_pid = args
        .iter()
        .any(|a| a.as_bytes() == b"--pid" || a.as_bytes().starts_with(b"--pid="));
    if let Some(p) = pos {
        let word = args[p].to_string_lossy();
        // `cdbg kill` is the kill applet unless it names a session.
        let applet_kill = word == "kill" && !session::client::is_session_kill(&args[2..]);
        if !has_pid && p == 1 && SUBCOMMANDS.contains(&word.as_ref()) && !applet_kill {
            let cli = SubCli::parse_from(&args);
            return match cli.cmd {
                Sub::Demo(d) => crate::demo::run(d),
                Sub::Ls(a) => ls(a),
                Sub::Attach(a) => session::client::attach(a),
                Sub::Sessions(a) => session::client::sessions(a),
                Sub::Kill(a) => session::client::kill(a),
            };
        }
        // busybox-style `cdbg APPLET ARGS`, unless a container has that name.
        if let (false, 1, Some(f)) = (has_pid, p, crate::applets::find(&word)) {
            let q = target::Query {
                text: Some(word.to_string()),
                ..Default::default()
            };
            if target::resolve(&q).is_err() {
                return f(args[1..].to_vec());
            }
        }
    }
    let cli = ExecCli::parse_from(&args);
    if cli.list {
        for (name, _, summary) in crate::applets::list() {
            println!("{name:<12} {summary}");
        }
        return 0;
    }
    exec(cli.opts, cli.args)
}

fn applet_by_argv0(args: &[OsString]) -> Option<i32> {
    let argv0 = args.first()?;
    let base = argv0.as_bytes().rsplit(|&b| b == b'/').next()?;
    let name = std::str::from_utf8(base).ok()?;
    let name = name.strip_prefix("cdbg-").unwrap_or(name);
    if name == "cdbg" {
        return None;
    }
    let f = crate::applets::find(name)?;
    let mut av = args.to_vec();
    av[0] = name.into();
    // Run from the sealed memfd, the process would be called "memfd:cdbg"
    // in ps and top: name it after the applet.
    set_comm(name);
    Some(f(av))
}

/// Sets the process name shown by ps and top (/proc/PID/comm).
pub fn set_comm(name: &str) {
    if let Ok(c) = std::ffi::CString::new(name) {
        let _ = rustix::thread::set_name(&c);
    }
}

fn fail(label: &str, msg: impl std::fmt::Display) -> i32 {
    let msg = msg.to_string();
    // Lower layers name the PID they worked on; with `--pid` that is the
    // label itself, so say it once.
    let msg = msg
        .strip_prefix(label)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(&msg);
    eprintln!("cdbg: {label}: {msg}");
    125
}

fn ls(a: LsArgs) -> i32 {
    let rt = match a.runtime.as_deref().map(|r| (r, target::Runtime::parse(r))) {
        Some((r, None)) => {
            eprintln!("cdbg: ls: unknown runtime {r:?}");
            return 125;
        }
        Some((_, rt)) => rt,
        None => None,
    };
    let list = target::list(a.all, rt);
    let out = std::io::stdout();
    let mut out = out.lock();
    let r = if a.json {
        use std::io::Write;
        writeln!(out, "{}", target::to_json(&list))
    } else {
        target::print_table(&list, &mut out)
    };
    match r {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("cdbg: ls: {e}");
            125
        }
    }
}

/// Enter a target and run a command (the default action).
pub fn exec(opts: ExecOpts, mut args: Vec<OsString>) -> i32 {
    // Start the sealed copy now, so that it overlaps finding the target.
    crate::session::seal::prefetch();
    let runtime =
        match opts
            .runtime
            .as_deref()
            .map(|r| (r, target::Runtime::parse(r)))
        {
            Some((r, None)) => return fail(
                r,
                "unknown runtime (docker, podman, ctr, k8s, crio, runc, crun, lxc, nspawn, cdbg)",
            ),
            Some((_, rt)) => rt,
            None => None,
        };
    let mut query = target::Query {
        runtime,
        sandbox: opts.sandbox,
        ..Default::default()
    };
    let mut resolved = None;
    if let Some(p) = opts.pid {
        query.pid = Some(p);
    } else if let Some(c) = &opts.cgroup {
        query.cgroup = Some(c.clone());
    } else {
        if args.is_empty() {
            eprintln!("cdbg: no target given (try `cdbg --help`, `cdbg ls`, or `cdbg demo`)");
            return 125;
        }
        let t = args.remove(0);
        let text = t.to_string_lossy().into_owned();
        // A number is a PID (nsenter's habit), unless it names a container
        // (then that container, resolved once).
        let named = text.parse::<i32>().ok().map(|p| {
            let q = target::Query {
                text: Some(text.clone()),
                ..query.clone()
            };
            (p, target::resolve(&q))
        });
        match named {
            Some((p, Err(_))) => query.pid = Some(p),
            Some((_, Ok(c))) => {
                query.text = Some(text);
                resolved = Some(c);
            }
            None => query.text = Some(text),
        }
    }
    let label = query
        .text
        .clone()
        .or(opts.cgroup.clone())
        .unwrap_or_else(|| format!("pid {}", query.pid.unwrap_or_default()));
    // --pid is nsenter-direct: that process, its own credentials.
    if let (Some(pid), None) = (opts.pid, &query.text) {
        return run_in(pid, &label, opts, args, None, None);
    }
    let c = match resolved.map_or_else(|| target::resolve(&query), Ok) {
        Ok(c) => c,
        Err(e) => return fail(&label, e),
    };
    let label = c.display_name();
    if c.status == target::Status::Paused && !opts.force {
        return fail(
            &label,
            "the container is paused (frozen): a shell there would hang; resume it, or use --force",
        );
    }
    let Some(pid) = c.pid else {
        return fail(
            &label,
            format!(
                "the container is {} (no running process)",
                c.status.as_str()
            ),
        );
    };
    let defaults = (
        c.user.clone().filter(|u| !u.is_empty()),
        c.workdir.clone().filter(|w| !w.is_empty()),
    );
    run_in(pid, &label, opts, args, Some(defaults), c.pid_start)
}

/// Builds the session for `pid` and runs it. `defaults` carries what a
/// runtime records for the container (user, working directory).
pub fn run_in(
    pid: i32,
    label: &str,
    opts: ExecOpts,
    argv: Vec<OsString>,
    defaults: Option<(Option<String>, Option<String>)>,
    start_time: Option<u64>,
) -> i32 {
    // The sealed copy of cdbg that the session will run from is made by a
    // child meanwhile (overlapping the reads and the seccomp copy below);
    // `exec` may have started it already.
    crate::session::seal::prefetch();
    // Everything about the target is read once, from the host's /proc.
    let info = match crate::enter::procinfo::ProcInfo::read(pid) {
        Ok(i) => i,
        Err(_) if !std::path::Path::new(&format!("/proc/{pid}")).exists() => {
            return fail(label, format!("no process with PID {pid}"))
        }
        Err(e) => return fail(label, e),
    };
    if start_time.is_some_and(|t| t != info.start_time) {
        return fail(
            label,
            format!("PID {pid} was replaced while cdbg looked at it (did the container restart?)"),
        );
    }
    let environ = Env::from_environ(&info.environ.iter().fold(Vec::new(), |mut block, item| {
        block.extend_from_slice(item.as_bytes());
        block.push(0);
        block
    }));
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd"))
        .ok()
        .and_then(|p| p.to_str().map(String::from));
    let seccomp = match opts.seccomp.as_deref() {
        None | Some("default") => true,
        Some("unconfined") => false,
        Some(o) => return fail(label, format!("--seccomp={o}: use default or unconfined")),
    };
    let copts = crate::enter::confine::ConfineOpts {
        privileged: opts.privileged,
        cap_add: opts.cap_add.clone(),
        cap_drop: opts.cap_drop.clone(),
        seccomp,
        no_cgroup: opts.no_cgroup,
        rescue: opts.rescue,
    };
    let plan = match crate::enter::confine::plan(&info, &copts) {
        Ok(p) => p,
        Err(e) => return fail(label, e),
    };
    let namespaces: Vec<String> = match &opts.ns {
        Some(list) => match ns::parse_list(list) {
            Ok(v) => v.into_iter().map(String::from).collect(),
            Err(e) => return fail(label, e),
        },
        None => ns::differing(pid).into_iter().map(String::from).collect(),
    };
    let stdin_tty = std::io::stdin().is_terminal();
    let no_command = argv.is_empty();
    let interactive = opts.interactive || no_command;
    let tty = opts.tty || (no_command && stdin_tty);
    let mut env = environ.clone();
    let mut explicit = Vec::new();
    let caller = |k: &str| std::env::var_os(k);
    for f in &opts.env_file {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => return fail(label, format!("cannot read env file {}: {e}", f.display())),
        };
        if let Err(e) = env.apply_file(&text, caller) {
            return fail(label, e);
        }
        explicit.extend(
            text.lines()
                .filter_map(|l| l.trim().split('=').next())
                .map(String::from),
        );
    }
    for item in &opts.env {
        if let Err(e) = env.apply_item(item, caller) {
            return fail(label, e);
        }
        explicit.push(item.split('=').next().unwrap_or_default().to_string());
    }
    if tty && !explicit.iter().any(|k| k == "TERM") {
        let term = std::env::var("TERM")
            .ok()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "xterm".into());
        env.set("TERM", term);
    }
    let (rt_user, rt_workdir) = defaults.unwrap_or((None, None));
    let workdir_explicit = opts.workdir.is_some();
    let workdir = opts.workdir.clone().or(rt_workdir).or(cwd);
    let target_shell = environ.get("SHELL").map(OsStr::to_owned);
    let spec = Spec {
        label: label.to_string(),
        pid,
        start_time: info.start_time,
        namespaces,
        argv,
        env: env.0,
        explicit_env: explicit,
        tty,
        winsize: if tty { session::user_winsize() } else { None },
        workdir,
        workdir_explicit,
        // --rescue is for an operator in a hurry: root unless told otherwise.
        user: opts
            .user
            .clone()
            .or(rt_user.filter(|_| !opts.rescue))
            .or(opts.rescue.then(|| "0".to_string())),
        default_uid: info.container_uid(),
        default_gid: info.container_gid(),
        default_groups: info.container_groups(),
        target_shell,
        force_tool: opts.tool,
        cgroups: if plan.join_cgroups {
            info.cgroups.clone()
        } else {
            vec![]
        },
        confine: plan,
    };
    let keep = session::client::KeepOpts {
        detach: opts.detach,
        name: opts.name.clone(),
        detach_keys: opts.detach_keys.clone(),
    };
    match session::client::wants_keep(&keep, tty && stdin_tty) {
        Ok(Some(k)) => return session::client::run_kept(spec, k),
        Ok(None) => {}
        Err(e) => return fail(label, e),
    }
    session::run(spec, interactive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn finds_first_positional() {
        assert_eq!(
            first_positional(&os(&["cdbg", "-it", "web", "sh"])),
            Some(2)
        );
        assert_eq!(
            first_positional(&os(&["cdbg", "-e", "A=1", "--pid", "3", "ls"])),
            Some(5)
        );
        assert_eq!(first_positional(&os(&["cdbg", "-t"])), None);
        assert_eq!(first_positional(&os(&["cdbg", "demo"])), Some(1));
        assert_eq!(
            first_positional(&os(&["cdbg", "--runtime", "docker", "web"])),
            Some(3)
        );
        assert_eq!(
            first_positional(&os(&["cdbg", "--cap-add", "NET_ADMIN", "ls"])),
            Some(3)
        );
    }
}
