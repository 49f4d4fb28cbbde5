//! The container-debugging tools: ps, top, ss, ip, nc, wget, dig, ping, lsof,
//! mount, free.
//!
//! Two helpers add applets here, each in its own table, so their changes do
//! not touch the same lines; `APPLETS` is the two tables joined at compile
//! time.

use super::Entry;

/// Process, memory and mount applets (ps, top, lsof, free, mount, umount,
/// findmnt).
pub const PROCS_APPLETS: &[Entry] = &[
    // procs-applets-begin
    (
        "ps",
        super::ps::main,
        "report a snapshot of the current processes",
    ),
    (
        "free",
        super::free::main,
        "display the amount of free and used memory",
    ),
    (
        "mount",
        super::mounts::mount_main,
        "mount a filesystem or list mounts",
    ),
    ("umount", super::mounts::umount_main, "unmount filesystems"),
    (
        "findmnt",
        super::mounts::findmnt_main,
        "list mounted filesystems as a tree",
    ),
    ("lsof", super::lsof::main, "list open files"),
    (
        "top",
        super::top::main,
        "display processes sorted by CPU use",
    ),
    // procs-applets-end
];

/// Network applets (ss, netstat, ip, nc, wget, http, dig, nslookup, ping).
pub const NET_APPLETS: &[Entry] = &[
    // net-applets-begin
    (
        "dig",
        super::net::dns::dig_main,
        "query DNS servers (A, AAAA, MX, TXT, ...)",
    ),
    (
        "http",
        super::net::http::http_main,
        "HTTP GET: print status line, headers and body",
    ),
    (
        "ip",
        super::net::ip::main,
        "show addresses, links and routes (iproute2 style)",
    ),
    (
        "nc",
        super::net::nc::main,
        "netcat: connect, listen, relay TCP/UDP, port check",
    ),
    (
        "netstat",
        super::net::ss::netstat_main,
        "list sockets (net-tools style)",
    ),
    (
        "nslookup",
        super::net::dns::nslookup_main,
        "look up host names in DNS",
    ),
    ("ping", super::net::ping::main, "send ICMP echo requests"),
    (
        "ss",
        super::net::ss::ss_main,
        "list sockets with their owning processes",
    ),
    (
        "wget",
        super::net::http::wget_main,
        "download a URL over plain HTTP",
    ),
    // net-applets-end
];

/// Every applet of this module.
pub const APPLETS: &[Entry] =
    &concat::<{ PROCS_APPLETS.len() + NET_APPLETS.len() }>([PROCS_APPLETS, NET_APPLETS]);

fn unreachable_applet(_: Vec<std::ffi::OsString>) -> i32 {
    unreachable!("placeholder entry of an applet table")
}

/// Joins tables into one array of length `N` (the sum of their lengths).
const fn concat<const N: usize>(tables: [&[Entry]; 2]) -> [Entry; N] {
    let mut out: [Entry; N] = [("", unreachable_applet as super::Main, ""); N];
    let mut n = 0;
    let mut t = 0;
    while t < tables.len() {
        let mut i = 0;
        while i < tables[t].len() {
            out[n] = tables[t][i];
            n += 1;
            i += 1;
        }
        t += 1;
    }
    out
}
