//! The bundled toolbox: a multi-call registry of applets.
//!
//! Every applet is a plain function taking its argv (argv[0] is the applet
//! name) and returning an exit status. They run on the host (`cdbg APPLET`,
//! or a symlink named after the applet) or inside a container, where they are
//! executed from the sealed copy of cdbg.

use std::ffi::OsString;

pub mod core_tools;
pub mod sys_tools;
pub mod term;
pub mod vi;

/// An applet's entry point: argv (argv[0] = applet name) → exit status.
pub type Main = fn(Vec<OsString>) -> i32;

/// One registry entry: name, entry point, one-line summary for `--list`.
pub type Entry = (&'static str, Main, &'static str);

fn tables() -> [&'static [Entry]; 2] {
    [core_tools::APPLETS, sys_tools::APPLETS]
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
