//! The container-debugging tools' registry entries: ps, top, lsof, free,
//! mount, umount, findmnt (process, memory and mount applets) and ss,
//! netstat, ip, nc, wget, http, dig, nslookup, ping (network applets).

use super::Entry;

/// Every applet of this module.
#[rustfmt::skip]
pub const APPLETS: &[Entry] = entries! {
    "ps" => super::ps::main, "report a snapshot of the current processes";
    "free" => super::free::main, "display the amount of free and used memory";
    "mount" => super::mounts::mount_main, "mount a filesystem or list mounts";
    "umount" => super::mounts::umount_main, "unmount filesystems";
    "findmnt" => super::mounts::findmnt_main, "list mounted filesystems as a tree";
    "lsof" => super::lsof::main, "list open files";
    "top" => super::top::main, "display processes sorted by CPU use";
    "dig" => super::net::dns::dig_main, "query DNS servers (A, AAAA, MX, TXT, ...)";
    "http" => super::net::http::http_main, "HTTP GET: print status line, headers and body";
    "ip" => super::net::ip::main, "show addresses, links and routes (iproute2 style)";
    "nc" => super::net::nc::main, "netcat: connect, listen, relay TCP/UDP, port check";
    "netstat" => super::net::ss::netstat_main, "list sockets (net-tools style)";
    "nslookup" => super::net::dns::nslookup_main, "look up host names in DNS";
    "ping" => super::net::ping::main, "send ICMP echo requests";
    "ss" => super::net::ss::ss_main, "list sockets with their owning processes";
    "wget" => super::net::http::wget_main, "download a URL over plain HTTP";
};
