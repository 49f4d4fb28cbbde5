//! The bundled toolbox: a multi-call registry of applets.
//!
//! Every applet is a plain function taking its argv (argv[0] is the applet
//! name) and returning an exit status. They run on the host (`cdbg APPLET`,
//! or a symlink named after the applet) or inside a container, where they are
//! executed from the sealed copy of cdbg.

use std::ffi::{OsStr, OsString};

/// A table of entries, one line each: `"name" => path::to::main, "summary";`.
macro_rules! entries {
    ($($name:literal => $main:path, $help:literal;)*) => {
        &[$(($name, $main as super::Main, $help)),*]
    };
}

pub mod core_tools;
pub mod find;
pub mod grep;
pub mod selfexe;
pub mod shell;
pub mod sys_tools;
pub mod table;

pub mod free;
pub mod lsof;
pub mod mounts;
pub mod procfs;
pub mod ps;
pub mod top;

pub mod net;
pub mod term;
pub mod vi;

/// An applet's entry point: argv (argv[0] = applet name) → exit status.
pub type Main = fn(Vec<OsString>) -> i32;

/// One registry entry: name, entry point, one-line summary for `--list`.
pub type Entry = (&'static str, Main, &'static str);

fn tables() -> [&'static [Entry]; 4] {
    [
        core_tools::APPLETS,
        core_tools::UU_APPLETS,
        sys_tools::APPLETS,
        vi::VI_APPLETS,
    ]
}

/// Looks an applet up by name.
pub fn find(name: &str) -> Option<Main> {
    tables()
        .iter()
        .flat_map(|t| t.iter())
        .find(|(n, _, _)| *n == name)
        .map(|(_, m, _)| *m)
}

/// Every applet, sorted by name.
pub fn list() -> Vec<&'static Entry> {
    let mut v: Vec<&'static Entry> = tables().iter().flat_map(|t| t.iter()).collect();
    v.sort_by_key(|e| e.0);
    v
}

/// The applet an invocation name stands for: `NAME` or `cdbg-NAME`
/// (a path's directories are ignored).
pub fn applet_name(argv0: &OsStr) -> Option<&'static str> {
    let base = std::path::Path::new(argv0).file_name()?.to_str()?;
    let base = base.strip_prefix(shell::FORCE_PREFIX).unwrap_or(base);
    list().into_iter().find(|e| e.0 == base).map(|e| e.0)
}

/// Busybox-style dispatch: when the basename of `argv0` is an applet name
/// (or `cdbg-NAME`), runs that applet with `args` (the arguments after
/// argv[0]) and returns its exit status; otherwise `None`.
pub fn dispatch(argv0: &OsStr, args: Vec<OsString>) -> Option<i32> {
    let name = applet_name(argv0)?;
    run(name, args)
}

/// Runs applet `name` (or `cdbg-NAME`) with `args` (the arguments after the
/// applet name), as for `cdbg NAME ARGS...`; `None` if there is no such
/// applet.
pub fn run(name: &str, args: Vec<OsString>) -> Option<i32> {
    let name = name.strip_prefix(shell::FORCE_PREFIX).unwrap_or(name);
    let main = find(name)?;
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(OsString::from(name));
    argv.extend(args);
    Some(main(argv))
}
