//! Running applets from cdbg's own binary, by descriptor.
//!
//! In a container cdbg has no file: the process was started from a sealed
//! copy of cdbg and got its descriptor in `CDBG_SELF_FD`. Every further
//! applet (a child of the bundled shell, `exec`) re-executes that descriptor
//! (see [`crate::sys::selfexe`]), so nothing needs /proc or a path inside the
//! container. Without `CDBG_SELF_FD` (on the host, or an applet started
//! through a link in the session's tool directory), `/proc/self/exe` is
//! used, else, with no /proc, the file at the path the process was started
//! by (`AT_EXECFN`).

use std::ffi::OsString;
use std::io;
use std::process::Command;

pub use crate::sys::selfexe::ENV_VAR;

/// Takes `CDBG_SELF_FD` out of the environment and keeps the descriptor
/// (close-on-exec). Call first thing in `main`, before any thread starts.
pub fn init() {
    crate::sys::selfexe::init();
}

/// Replaces the current process with applet `name` run from cdbg's own
/// binary: argv = `name` followed by `args`, environment = exactly `env`
/// plus `CDBG_SELF_FD`. Returns only on failure.
///
/// Security: on the host (no `CDBG_SELF_FD` was given) this re-executes
/// `/proc/self/exe`, i.e. the host binary; code that runs applets inside a
/// container must have set `CDBG_SELF_FD` to the sealed copy first.
pub fn exec_applet(name: &str, args: &[OsString], env: &[(OsString, OsString)]) -> io::Error {
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(OsString::from(name));
    argv.extend(args.iter().cloned());
    crate::sys::selfexe::exec_self(&argv, env)
}

/// A `Command` that, when spawned, runs applet `name` with `args` from
/// cdbg's own binary, with exactly the environment `env` (plus
/// `CDBG_SELF_FD`). Its stdio, cwd and process group may be set as usual;
/// do not add further `pre_exec` hooks after this one.
pub fn applet_command(
    name: &str,
    args: &[OsString],
    env: &[(OsString, OsString)],
) -> io::Result<Command> {
    let mut cmd = Command::new(name);
    cmd.args(args);
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(OsString::from(name));
    argv.extend(args.iter().cloned());
    crate::sys::selfexe::exec_self_in_child(&mut cmd, &argv, env)?;
    Ok(cmd)
}

/// Runs `prog` with `args` as a child and waits: `cdbg-NAME` is always the
/// bundled applet; any other name is looked up on PATH first and falls back
/// to the bundled applet of that name when no program is found (for
/// `find -exec` and `xargs` in a container without tools). The child
/// inherits this process's stdio and environment, optionally running in
/// `dir`.
pub fn run_program(
    prog: &std::ffi::OsStr,
    args: &[OsString],
    dir: Option<&std::path::Path>,
) -> io::Result<std::process::ExitStatus> {
    let applet = prog.to_str().and_then(|p| {
        if p.contains('/') {
            return None;
        }
        let name = p.strip_prefix(super::shell::FORCE_PREFIX);
        let forced = name.is_some();
        let name = name.unwrap_or(p);
        super::find(name).map(|_| (name, forced))
    });
    let bundled = |name: &str| {
        let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        let mut c = applet_command(name, args, &env)?;
        if let Some(d) = dir {
            c.current_dir(d);
        }
        c.status()
    };
    if let Some((name, true)) = applet {
        return bundled(name);
    }
    let mut c = Command::new(prog);
    c.args(args);
    if let Some(d) = dir {
        c.current_dir(d);
    }
    match c.status() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => match applet {
            Some((name, _)) => bundled(name),
            None => Err(e),
        },
        other => other,
    }
}
