//! Network applets: `ss`, `netstat`, `ip`, `nc`, `wget`, `http`, `dig`,
//! `nslookup` and `ping`. Their registry entries are in `APPLETS` of
//! `sys_tools`.
//!
//! They read the kernel's view through netlink (sock_diag and rtnetlink)
//! and speak plain sockets, so they work inside a scratch container with no
//! /proc, no /etc/services and no libc resolver (names are resolved from the
//! container's /etc/hosts and /etc/resolv.conf by [`dns`]).

use std::ffi::OsString;

pub mod dns;
pub mod http;
pub mod ip;
pub mod nc;
mod netlink;
pub mod ping;
pub mod ss;

/// Parses `args` (argv[0] included) with clap; on `--help`, `--version` or
/// a usage error prints clap's message and returns the exit status to use.
pub(crate) fn parse_args<T: clap::Parser>(args: Vec<OsString>) -> Result<T, i32> {
    T::try_parse_from(args).map_err(|e| {
        let code = if e.use_stderr() { 2 } else { 0 };
        let _ = e.print();
        code
    })
}

/// Writes a whole listing to stdout. A reader that went away (`ss | head`)
/// is not an error: Rust ignores SIGPIPE, and `print!` would panic there.
pub(crate) fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Prints `applet: message` on stderr and returns 1.
pub(crate) fn fail(applet: &str, msg: impl std::fmt::Display) -> i32 {
    eprintln!("{applet}: {msg}");
    1
}
