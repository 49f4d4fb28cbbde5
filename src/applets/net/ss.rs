//! `ss` (iproute2 style) and `netstat` (net-tools style).
//!
//! Sockets come from NETLINK_SOCK_DIAG, which needs no /proc and sees the
//! caller's network namespace. Owning processes (`-p`) come from the
//! socket inodes behind /proc/PID/fd links, read through [`proc_root`].

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;

use clap::Parser;
use netlink_packet_sock_diag::{
    constants::*,
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
    unix::{nlas::UnixDiagName, ShowFlags, StateFlags as UnixStateFlags, UnixRequest},
    SockDiagMessage,
};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;

use super::{emit, fail, netlink, parse_args};
use crate::applets::procfs::ProcRoot;
use crate::applets::table::{Align, Table};

/// The kind of a socket, as in ss's Netid column.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// Unix stream.
    UnixStream,
    /// Unix datagram.
    UnixDgram,
    /// Unix seqpacket.
    UnixSeq,
}

impl Kind {
    fn netid(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Udp => "udp",
            Kind::UnixStream => "u_str",
            Kind::UnixDgram => "u_dgr",
            Kind::UnixSeq => "u_seq",
        }
    }
    fn is_unix(self) -> bool {
        !matches!(self, Kind::Tcp | Kind::Udp)
    }
}

/// The local or peer end of a socket.
#[derive(Clone, Debug)]
pub enum End {
    /// An inet address and port.
    Inet(IpAddr, u16),
    /// A unix socket: path ("@name" for abstract, "*" for none) and inode.
    Unix(String, u32),
}

/// One socket as reported by sock_diag.
#[derive(Clone, Debug)]
pub struct Sock {
    /// Socket kind.
    pub kind: Kind,
    /// TCP state number (TCP_ESTABLISHED = 1 ... TCP_CLOSING = 11).
    pub state: u8,
    /// Receive queue (accept queue length for listeners).
    pub recv_q: u32,
    /// Send queue (backlog limit for listeners).
    pub send_q: u32,
    /// Local end.
    pub local: End,
    /// Peer end.
    pub peer: End,
    /// Socket inode, the key to its owning processes.
    pub inode: u32,
    /// IPV6_V6ONLY for inet6 sockets.
    pub v6only: bool,
}

/// Where socket lists come from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    /// NETLINK_SOCK_DIAG, falling back to /proc/net per family when a
    /// diag module is missing.
    Auto,
    /// /proc/net/{tcp,tcp6,udp,udp6,unix} only.
    Proc,
}

/// Lists the TCP, UDP and unix sockets of the caller's network namespace.
pub fn list_sockets(kinds: &[Kind], v4: bool, v6: bool) -> io::Result<Vec<Sock>> {
    list_sockets_from(kinds, v4, v6, Source::Auto)
}

/// [`list_sockets`] from a chosen source.
pub fn list_sockets_from(
    kinds: &[Kind],
    v4: bool,
    v6: bool,
    source: Source,
) -> io::Result<Vec<Sock>> {
    // ss's order: unix, then udp, then tcp.
    let mut proc = None;
    let mut out = Vec::new();
    if kinds.iter().any(|k| k.is_unix()) {
        let diag = if source == Source::Auto {
            unix_dump(kinds, &mut out)
        } else {
            Err(io::ErrorKind::Unsupported.into())
        };
        if let Err(e) = diag {
            let text = lazy_proc(&mut proc)?
                .read_string("net/unix")
                .map_err(|pe| {
                    io::Error::new(pe.kind(), format!("sock_diag: {e}; /proc/net/unix: {pe}"))
                })?;
            out.extend(
                parse_proc_unix(&text)
                    .into_iter()
                    .filter(|s| kinds.contains(&s.kind)),
            );
        }
    }
    for (kind, proto) in [(Kind::Udp, IPPROTO_UDP), (Kind::Tcp, IPPROTO_TCP)] {
        if !kinds.contains(&kind) {
            continue;
        }
        for (fam, want) in [(AF_INET, v4), (AF_INET6, v6)] {
            if !want {
                continue;
            }
            let diag = if source == Source::Auto {
                inet_dump(kind, fam, proto, &mut out)
            } else {
                Err(io::ErrorKind::Unsupported.into())
            };
            if let Err(e) = diag {
                let file = format!(
                    "net/{}{}",
                    if kind == Kind::Tcp { "tcp" } else { "udp" },
                    if fam == AF_INET6 { "6" } else { "" }
                );
                match lazy_proc(&mut proc)?.read_string(&file) {
                    Ok(text) => out.extend(parse_proc_inet(kind, &text)),
                    // No IPv6 in this kernel or namespace: nothing to list.
                    Err(pe) if fam == AF_INET6 && pe.kind() == io::ErrorKind::NotFound => {}
                    Err(pe) => {
                        return Err(io::Error::new(
                            pe.kind(),
                            format!("sock_diag: {e}; /proc/{file}: {pe}"),
                        ))
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Opens the proc root on first use.
fn lazy_proc(slot: &mut Option<ProcRoot>) -> io::Result<&ProcRoot> {
    if slot.is_none() {
        *slot = Some(ProcRoot::open()?);
    }
    Ok(slot.as_ref().expect("just set"))
}

/// Parses an address of /proc/net/{tcp,udp}{,6}: hex words in host order
/// (`0100007F:1F90` is 127.0.0.1 port 8080).
pub(crate) fn proc_addr(s: &str) -> Option<(IpAddr, u16)> {
    let (a, p) = s.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    let ip = match a.len() {
        8 => IpAddr::V4(u32::from_str_radix(a, 16).ok()?.swap_bytes().into()),
        32 => {
            let mut b = [0u8; 16];
            for w in 0..4 {
                let word = u32::from_str_radix(a.get(w * 8..w * 8 + 8)?, 16).ok()?;
                b[w * 4..w * 4 + 4].copy_from_slice(&word.to_le_bytes());
            }
            IpAddr::V6(b.into())
        }
        _ => return None,
    };
    Some((ip, port))
}

/// Parses /proc/net/{tcp,udp}{,6}.
fn parse_proc_inet(kind: Kind, text: &str) -> Vec<Sock> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let (Some(local), Some(peer)) = (proc_addr(f[1]), proc_addr(f[2])) else {
            continue;
        };
        let state = u8::from_str_radix(f[3], 16).unwrap_or(0);
        let (tx, rx) = f[4].split_once(':').unwrap_or(("0", "0"));
        out.push(Sock {
            kind,
            state,
            recv_q: u32::from_str_radix(rx, 16).unwrap_or(0),
            send_q: u32::from_str_radix(tx, 16).unwrap_or(0),
            local: End::Inet(local.0, local.1),
            peer: End::Inet(peer.0, peer.1),
            inode: f[9].parse().unwrap_or(0),
            v6only: false,
        });
    }
    out
}

/// Parses /proc/net/unix (no peers or queues there: shown as 0).
fn parse_proc_unix(text: &str) -> Vec<Sock> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 7 {
            continue;
        }
        let flags = u32::from_str_radix(f[3], 16).unwrap_or(0);
        let kind = match f[4] {
            "0001" => Kind::UnixStream,
            "0002" => Kind::UnixDgram,
            "0005" => Kind::UnixSeq,
            _ => continue,
        };
        // __SO_ACCEPTCON marks a listener; SS_CONNECTED (03) a connection.
        let state = if flags & 0x10000 != 0 {
            10
        } else if f[5] == "03" {
            1
        } else {
            7
        };
        let inode = f[6].parse().unwrap_or(0);
        let path = f
            .get(7)
            .map(|p| p.to_string())
            .unwrap_or_else(|| "*".into());
        out.push(Sock {
            kind,
            state,
            recv_q: 0,
            send_q: 0,
            local: End::Unix(path, inode),
            peer: End::Unix("*".into(), 0),
            inode,
            v6only: false,
        });
    }
    out
}

fn inet_dump(kind: Kind, family: u8, protocol: u8, out: &mut Vec<Sock>) -> io::Result<()> {
    let req = SockDiagMessage::InetRequest(InetRequest {
        family,
        protocol,
        extensions: ExtensionFlags::empty(),
        states: StateFlags::all(),
        socket_id: if family == AF_INET {
            SocketId::new_v4()
        } else {
            SocketId::new_v6()
        },
    });
    for msg in netlink::dump(NETLINK_SOCK_DIAG, req)? {
        let SockDiagMessage::InetResponse(r) = msg else {
            continue;
        };
        let h = &r.header;
        let v6only = r
            .nlas
            .iter()
            .any(|n| matches!(n, netlink_packet_sock_diag::inet::nlas::Nla::SkV6Only(true)));
        out.push(Sock {
            kind,
            state: h.state,
            recv_q: h.recv_queue,
            send_q: h.send_queue,
            local: End::Inet(h.socket_id.source_address, h.socket_id.source_port),
            peer: End::Inet(
                h.socket_id.destination_address,
                h.socket_id.destination_port,
            ),
            inode: h.inode,
            v6only,
        });
    }
    Ok(())
}

fn unix_dump(kinds: &[Kind], out: &mut Vec<Sock>) -> io::Result<()> {
    let req = SockDiagMessage::UnixRequest(UnixRequest {
        state_flags: UnixStateFlags::from_bits_retain(u32::MAX),
        inode: 0,
        show_flags: ShowFlags::NAME | ShowFlags::PEER | ShowFlags::RQLEN,
        cookie: [0xff; 8],
    });
    for msg in netlink::dump(NETLINK_SOCK_DIAG, req)? {
        let SockDiagMessage::UnixResponse(r) = msg else {
            continue;
        };
        let kind = match r.header.kind {
            1 => Kind::UnixStream,
            2 => Kind::UnixDgram,
            5 => Kind::UnixSeq,
            _ => continue,
        };
        if !kinds.contains(&kind) {
            continue;
        }
        let name = match r.name() {
            Some(UnixDiagName::Pathname(p)) => p.to_string_lossy().into_owned(),
            Some(UnixDiagName::Abstract(a)) => format!("@{}", String::from_utf8_lossy(a)),
            None => "*".to_string(),
        };
        let (recv_q, send_q) = r
            .nlas
            .iter()
            .find_map(|n| match n {
                netlink_packet_sock_diag::unix::nlas::Nla::ReceiveQueueLength(a, b) => {
                    Some((*a, *b))
                }
                _ => None,
            })
            .unwrap_or((0, 0));
        out.push(Sock {
            kind,
            state: r.header.state,
            recv_q,
            send_q,
            local: End::Unix(name, r.header.inode),
            peer: End::Unix("*".into(), r.peer().unwrap_or(0)),
            inode: r.header.inode,
            v6only: false,
        });
    }
    Ok(())
}

/// The processes holding a socket: (command name, pid, fd).
pub type Owners = HashMap<u32, Vec<(String, u32, u32)>>;

/// Opens the proc root used for `-p`: the container's /proc, or a private
/// detached procfs when it has none.
fn proc_root() -> io::Result<ProcRoot> {
    ProcRoot::open()
}

/// Maps socket inodes to the processes that hold them, by reading every
/// PID/fd link ("socket:[INODE]") under the proc root `proc`.
pub fn socket_owners(proc: &ProcRoot) -> Owners {
    let mut owners: Owners = HashMap::new();
    for pid in proc.pids().unwrap_or_default() {
        let comm = proc
            .read_string(&format!("{pid}/comm"))
            .map(|s| s.trim_end().to_string())
            .unwrap_or_default();
        for fdn in proc.fds(pid) {
            let Ok(link) = proc.readlink(&format!("{pid}/fd/{fdn}")) else {
                continue;
            };
            let link = link.to_string_lossy();
            if let Some(ino) = link
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
            {
                if let Ok(ino) = ino.parse::<u32>() {
                    owners
                        .entry(ino)
                        .or_default()
                        .push((comm.clone(), pid as u32, fdn as u32));
                }
            }
        }
    }
    owners
}

/// ss's name for a TCP state number.
pub fn state_name(kind: Kind, state: u8) -> &'static str {
    match state {
        1 => "ESTAB",
        2 => "SYN-SENT",
        3 => "SYN-RECV",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "UNCONN",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 if kind == Kind::Udp => "UNCONN",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
}

/// Port names from the container's /etc/services (empty when it has none).
fn services() -> HashMap<(u16, &'static str), String> {
    let mut map = HashMap::new();
    let Ok(text) = std::fs::read_to_string("/etc/services") else {
        return map;
    };
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut it = line.split_whitespace();
        let (Some(name), Some(pp)) = (it.next(), it.next()) else {
            continue;
        };
        let Some((port, proto)) = pp.split_once('/') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        let proto = match proto {
            "tcp" => "tcp",
            "udp" => "udp",
            _ => continue,
        };
        map.entry((port, proto)).or_insert_with(|| name.to_string());
    }
    map
}

struct Names {
    numeric: bool,
    services: HashMap<(u16, &'static str), String>,
}

impl Names {
    fn new(numeric: bool) -> Self {
        Names {
            numeric,
            services: if numeric { HashMap::new() } else { services() },
        }
    }
    fn port(&self, kind: Kind, port: u16) -> String {
        if port == 0 {
            return "*".into();
        }
        if !self.numeric {
            let proto = if kind == Kind::Udp { "udp" } else { "tcp" };
            if let Some(n) = self.services.get(&(port, proto)) {
                return n.clone();
            }
        }
        port.to_string()
    }
}

/// ss's spelling of an address: "*" for the v6 wildcard of a dual-stack
/// socket, "[v6]" otherwise for IPv6.
fn ss_addr(ip: IpAddr, v6only: bool) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) if a.is_unspecified() && !v6only => "*".into(),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => format!("[::ffff:{v4}]"),
            None => format!("[{a}]"),
        },
    }
}

fn users(owners: &Owners, inode: u32) -> String {
    match owners.get(&inode) {
        Some(list) if !list.is_empty() => {
            let mut s = String::from("users:(");
            for (i, (name, pid, fd)) in list.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                let _ = write!(s, "(\"{name}\",pid={pid},fd={fd})");
            }
            s.push(')');
            s
        }
        _ => String::new(),
    }
}

/// The socket-selection flags ss and netstat share.
#[derive(clap::Args, Debug)]
struct SockFlags {
    /// TCP sockets
    #[arg(short = 't', long = "tcp")]
    tcp: bool,
    /// UDP sockets
    #[arg(short = 'u', long = "udp")]
    udp: bool,
    /// Unix domain sockets
    #[arg(short = 'x', long = "unix")]
    unix: bool,
    /// Only listening sockets
    #[arg(short = 'l', long = "listening")]
    listening: bool,
    /// All sockets (listening and non-listening)
    #[arg(short = 'a', long = "all")]
    all: bool,
    /// Do not resolve names (addresses, ports)
    #[arg(short = 'n', long = "numeric")]
    numeric: bool,
}

/// ss - another utility to investigate sockets (cdbg's bundled version)
#[derive(Parser, Debug)]
#[command(name = "ss", disable_version_flag = true)]
struct SsArgs {
    #[command(flatten)]
    f: SockFlags,
    /// Show the processes using each socket
    #[arg(short = 'p', long = "processes")]
    processes: bool,
    /// Display only IPv4 sockets
    #[arg(short = '4', long = "ipv4")]
    ipv4: bool,
    /// Display only IPv6 sockets
    #[arg(short = '6', long = "ipv6")]
    ipv6: bool,
    /// Suppress the header line
    #[arg(short = 'H', long = "no-header")]
    no_header: bool,
    /// Print a summary of socket counts
    #[arg(short = 's', long = "summary")]
    summary: bool,
    /// Read /proc/net instead of sock_diag netlink (for kernels without the
    /// diag modules; used automatically when they are missing)
    #[arg(long = "proc", hide = true)]
    via_proc: bool,
    /// Filter: `state|exclude NAME`, `sport|dport [=|==|!=] [:]PORT`,
    /// `src|dst ADDR`, joined by `and`
    #[arg(value_name = "FILTER")]
    filter: Vec<String>,
}

/// One term of the small filter language ss users type most.
#[derive(Debug, PartialEq)]
enum Term {
    /// `state NAME` / `exclude NAME`: a set of TCP state numbers (bit n).
    State {
        mask: u32,
        exclude: bool,
    },
    Port {
        local: bool,
        port: u16,
        negate: bool,
    },
    Addr {
        local: bool,
        ip: IpAddr,
    },
}

fn parse_filter(words: &[String]) -> Result<Vec<Term>, String> {
    let words: Vec<&str> = words.iter().flat_map(|w| w.split_whitespace()).collect();
    let mut terms = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        if w == "and" || w == "&&" {
            continue;
        }
        if w == "state" || w == "exclude" {
            let name = *words
                .get(i)
                .ok_or_else(|| format!("'{w}' needs a state name"))?;
            i += 1;
            let mask = state_mask(name).ok_or_else(|| format!("unknown state '{name}'"))?;
            terms.push(Term::State {
                mask,
                exclude: w == "exclude",
            });
            continue;
        }
        let local = match w {
            "sport" | "src" => true,
            "dport" | "dst" => false,
            other => {
                return Err(format!(
                    "unsupported filter word '{other}' (state, exclude, sport, dport, src, dst)"
                ))
            }
        };
        let mut negate = false;
        if let Some(op) = words.get(i) {
            match *op {
                "=" | "==" | "eq" => i += 1,
                "!=" | "ne" | "neq" => {
                    negate = true;
                    i += 1
                }
                _ => {}
            }
        }
        let v = *words.get(i).ok_or_else(|| format!("'{w}' needs a value"))?;
        i += 1;
        if w.ends_with("port") {
            let p = v.trim_start_matches(':');
            let port = p.parse().map_err(|_| format!("bad port '{v}'"))?;
            terms.push(Term::Port {
                local,
                port,
                negate,
            });
        } else {
            let a = v.trim_start_matches('[').trim_end_matches(']');
            let ip = a
                .parse()
                .map_err(|_| format!("bad address '{v}' (numeric only)"))?;
            terms.push(Term::Addr { local, ip });
        }
    }
    Ok(terms)
}

/// The states an ss state name stands for, as a bit mask of state numbers.
fn state_mask(name: &str) -> Option<u32> {
    let bit = |n: u32| 1u32 << n;
    let all = (1..=11).fold(0, |m, n| m | bit(n));
    Some(match name {
        "established" => bit(1),
        "syn-sent" => bit(2),
        "syn-recv" => bit(3),
        "fin-wait-1" => bit(4),
        "fin-wait-2" => bit(5),
        "time-wait" => bit(6),
        "closed" | "unconnected" => bit(7),
        "close-wait" => bit(8),
        "last-ack" => bit(9),
        "listening" | "listen" => bit(10),
        "closing" => bit(11),
        "all" => all,
        "connected" => all & !(bit(10) | bit(7)),
        "synchronized" => all & !(bit(10) | bit(7) | bit(2)),
        "bucket" => bit(3) | bit(6),
        "big" => all & !(bit(3) | bit(6)),
        _ => return None,
    })
}

fn matches_filter(s: &Sock, terms: &[Term]) -> bool {
    terms.iter().all(|t| {
        let (local, want) = match t {
            Term::State { mask, exclude } => return (mask & (1 << s.state) != 0) != *exclude,
            Term::Port { local, .. } | Term::Addr { local, .. } => (*local, t),
        };
        let End::Inet(ip, port) = (if local { &s.local } else { &s.peer }) else {
            return false;
        };
        match want {
            Term::Port {
                port: p, negate, ..
            } => (port == p) != *negate,
            Term::Addr { ip: want, .. } => ip == want,
            Term::State { .. } => unreachable!("handled above"),
        }
    })
}

/// Reads the "KEY: name value name value" lines of /proc/net/sockstat and
/// the header/value line pairs of /proc/net/snmp into "KEY.name" → value.
fn proc_counters(text: &str, into: &mut HashMap<String, i64>) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let Some((key, rest)) = l.split_once(':') else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let next = lines
            .get(i + 1)
            .and_then(|n| n.strip_prefix(&format!("{key}:")[..]));
        match next {
            // snmp: a header line followed by a value line with the same key.
            Some(vals) if words.iter().all(|w| w.parse::<i64>().is_err()) => {
                for (k, v) in words.iter().zip(vals.split_whitespace()) {
                    if let Ok(v) = v.parse() {
                        into.insert(format!("{key}.{k}"), v);
                    }
                }
            }
            _ => {
                for kv in words.chunks(2) {
                    if let [k, v] = kv {
                        if let Ok(v) = v.parse() {
                            into.insert(format!("{key}.{k}"), v);
                        }
                    }
                }
            }
        }
    }
}

/// `ss -s`: socket counts from /proc/net/{sockstat,sockstat6,snmp}.
fn summary(proc: &ProcRoot) -> io::Result<String> {
    let mut c = HashMap::new();
    proc_counters(&proc.read_string("net/sockstat")?, &mut c);
    // No IPv6 in the kernel: no sockstat6, all IPv6 counts are 0.
    if let Ok(t) = proc.read_string("net/sockstat6") {
        proc_counters(&t, &mut c);
    }
    if let Ok(t) = proc.read_string("net/snmp") {
        proc_counters(&t, &mut c);
    }
    let g = |k: &str| c.get(k).copied().unwrap_or(0);
    let tw = g("TCP.tw");
    let (tcp4, tcp6) = (g("TCP.inuse"), g("TCP6.inuse"));
    let mut out = format!("Total: {}\n", g("sockets.used"));
    let _ = writeln!(
        out,
        "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})\n",
        g("TCP.alloc"),
        g("Tcp.CurrEstab"),
        g("TCP.alloc") - (tcp4 + tcp6 - tw),
        g("TCP.orphan"),
        tw
    );
    out.push_str("Transport Total     IP        IPv6\n");
    let rows = [
        ("RAW", g("RAW.inuse"), g("RAW6.inuse")),
        ("UDP", g("UDP.inuse"), g("UDP6.inuse")),
        ("TCP", tcp4 - tw, tcp6),
    ];
    let inet = rows.iter().fold((0, 0), |a, r| (a.0 + r.1, a.1 + r.2));
    for (name, v4, v6) in rows.into_iter().chain([
        ("INET", inet.0, inet.1),
        ("FRAG", g("FRAG.inuse"), g("FRAG6.inuse")),
    ]) {
        let _ = writeln!(out, "{name}\t  {:<9} {:<9} {:<9}", v4 + v6, v4, v6);
    }
    out.push('\n');
    Ok(out)
}

/// Which states a listing shows: listening only, non-listening only, or all.
#[derive(Clone, Copy, PartialEq)]
enum Which {
    Listening,
    Connected,
    All,
}

fn selected(s: &Sock, which: Which) -> bool {
    // LISTEN for stream sockets, UNCONN (TCP_CLOSE) for datagram sockets.
    let listening = match s.kind {
        Kind::Udp | Kind::UnixDgram => s.state == 7 || s.state == 10,
        _ => s.state == 10,
    };
    match which {
        Which::All => true,
        Which::Listening => listening,
        Which::Connected => !(listening || (s.kind == Kind::Tcp && s.state == 7)),
    }
}

/// Entry point of `ss`.
pub fn ss_main(args: Vec<OsString>) -> i32 {
    let a: SsArgs = match parse_args(args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let mut kinds = Vec::new();
    if a.f.tcp {
        kinds.push(Kind::Tcp);
    }
    if a.f.udp {
        kinds.push(Kind::Udp);
    }
    if a.f.unix {
        kinds.extend([Kind::UnixStream, Kind::UnixDgram, Kind::UnixSeq]);
    }
    let explicit = !kinds.is_empty();
    if !explicit {
        kinds = vec![
            Kind::UnixStream,
            Kind::UnixDgram,
            Kind::UnixSeq,
            Kind::Tcp,
            Kind::Udp,
        ];
    }
    let (v4, v6) = match (a.ipv4, a.ipv6) {
        (true, false) => (true, false),
        (false, true) => (false, true),
        _ => (true, true),
    };
    if (a.ipv4 || a.ipv6) && !explicit {
        kinds = vec![Kind::Tcp, Kind::Udp];
    }
    if a.summary {
        return match ProcRoot::open().and_then(|p| summary(&p)) {
            Ok(t) => {
                emit(&t);
                0
            }
            Err(e) => fail("ss", format!("cannot read /proc/net/sockstat: {e}")),
        };
    }
    let terms = match parse_filter(&a.filter) {
        Ok(t) => t,
        Err(e) => return fail("ss", e),
    };
    // A state filter replaces the default choice of states, as in ss.
    let has_state = terms.iter().any(|t| matches!(t, Term::State { .. }));
    let which = if a.f.all || has_state {
        Which::All
    } else if a.f.listening {
        Which::Listening
    } else {
        Which::Connected
    };
    let source = if a.via_proc {
        Source::Proc
    } else {
        Source::Auto
    };
    let socks = match list_sockets_from(&kinds, v4, v6, source) {
        Ok(s) => s,
        Err(e) => {
            return fail(
                "ss",
                format!("cannot list sockets through sock_diag netlink: {e}"),
            )
        }
    };
    let owners = if a.processes {
        match proc_root() {
            Ok(p) => socket_owners(&p),
            Err(e) => {
                eprintln!("ss: cannot open /proc for -p: {e}");
                Owners::new()
            }
        }
    } else {
        Owners::new()
    };
    let names = Names::new(a.f.numeric);
    let show_netid = kinds.len() > 1;
    let mut rows: Vec<([String; 9], char)> = Vec::new();
    for s in socks
        .iter()
        .filter(|s| selected(s, which) && matches_filter(s, &terms))
    {
        let (la, lp) = end_parts(s, &s.local, &names);
        let (pa, pp) = end_parts(s, &s.peer, &names);
        let sep = if s.kind.is_unix() { ' ' } else { ':' };
        rows.push((
            [
                s.kind.netid().into(),
                state_name(s.kind, s.state).into(),
                s.recv_q.to_string(),
                s.send_q.to_string(),
                la,
                lp,
                pa,
                pp,
                users(&owners, s.inode),
            ],
            sep,
        ));
    }
    let single_state = terms
        .iter()
        .any(|t| matches!(t, Term::State { mask, exclude: false } if mask.count_ones() == 1));
    emit(&format_ss(&rows, show_netid, !single_state, !a.no_header));
    0
}

fn end_parts(s: &Sock, e: &End, names: &Names) -> (String, String) {
    match e {
        End::Inet(ip, port) => (ss_addr(*ip, s.v6only), names.port(s.kind, *port)),
        End::Unix(path, ino) => (path.clone(), ino.to_string()),
    }
}

/// Lays the rows out as iproute2's ss does: left-aligned columns, each
/// address right-aligned against its ":port" (" inode" for unix sockets).
/// The shared table has one separator for all columns, so it is set empty
/// and the blanks and colons are columns of their own.
fn format_ss(rows: &[([String; 9], char)], netid: bool, state: bool, header: bool) -> String {
    let mut t = Table::new();
    t.headers = header;
    t.separator = String::new();
    let cols: [(&str, Align); 9] = [
        ("Netid", Align::Left),
        ("State", Align::Left),
        ("Recv-Q", Align::Left),
        ("Send-Q", Align::Left),
        ("Local Address", Align::Right),
        ("Port", Align::Left),
        ("Peer Address", Align::Right),
        ("Port", Align::Left),
        ("Process", Align::Left),
    ];
    let first = if netid { 0 } else { 1 };
    // Column 1 (State) is left out when a filter picks a single state.
    let shown = |i: usize| i >= first && (state || i != 1);
    let mut seen = false;
    for (i, (h, al)) in cols.iter().enumerate() {
        if !shown(i) {
            continue;
        }
        if std::mem::replace(&mut seen, true) {
            t.col(if i == 5 || i == 7 { ":" } else { " " }, Align::Left);
        }
        t.col(*h, *al);
    }
    for (r, sep) in rows {
        let mut cells: Vec<String> = Vec::new();
        let mut seen = false;
        for (i, cell) in r.iter().enumerate() {
            if !shown(i) {
                continue;
            }
            if std::mem::replace(&mut seen, true) {
                cells.push(if i == 5 || i == 7 {
                    sep.to_string()
                } else {
                    " ".into()
                });
            }
            cells.push(cell.clone());
        }
        t.row(cells);
    }
    t.render()
}

/// netstat - print network connections (cdbg's bundled version)
#[derive(Parser, Debug)]
#[command(name = "netstat", disable_version_flag = true)]
struct NetstatArgs {
    #[command(flatten)]
    f: SockFlags,
    /// Show PID/Program name
    #[arg(short = 'p', long = "program")]
    program: bool,
    /// IPv4 only
    #[arg(short = '4')]
    ipv4: bool,
    /// IPv6 only
    #[arg(short = '6')]
    ipv6: bool,
    /// Show the kernel IPv4 routing table
    #[arg(short = 'r', long = "route")]
    route: bool,
}

/// `netstat -r`: the main IPv4 routing table in net-tools' layout.
fn netstat_routes(numeric: bool) -> io::Result<String> {
    let links = super::ip::links()?;
    let mut out = String::from("Kernel IP routing table\n");
    out.push_str(
        "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n",
    );
    for r in super::ip::routes(2)? {
        // Main table, unicast/unreachable-style routes only, like net-tools.
        if r.table != 254 || r.kind == 2 || r.kind == 3 {
            continue;
        }
        let dst = match r.dst {
            Some(d) => d.to_string(),
            None if !numeric && r.dst_len == 0 => "default".into(),
            None => "0.0.0.0".into(),
        };
        let gw = r
            .gateway
            .map(|g| g.to_string())
            .unwrap_or_else(|| "0.0.0.0".into());
        let mask =
            std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - r.dst_len as u32).unwrap_or(0));
        let mut flags = String::from("U");
        if r.gateway.is_some() {
            flags.push('G');
        }
        if r.dst_len == 32 {
            flags.push('H');
        }
        if matches!(r.kind, 6..=8) {
            flags = "!".into();
        }
        let iface = r
            .oif
            .and_then(|i| links.iter().find(|l| l.index == i))
            .map(|l| l.name.clone())
            .unwrap_or_else(|| "*".into());
        let _ = writeln!(
            out,
            "{dst:<15} {gw:<15} {mask:<15} {flags:<5} {:>5} {:<6} {:>5} {iface}",
            0, 0, 0
        );
    }
    Ok(out)
}

fn netstat_addr(ip: IpAddr, port: String) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("{a}:{port}"),
    }
}

fn netstat_state(s: &Sock) -> &'static str {
    if s.kind == Kind::Udp {
        return if s.state == 1 { "ESTABLISHED" } else { "" };
    }
    match s.state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
}

fn netstat_prog(owners: &Owners, inode: u32) -> String {
    match owners.get(&inode).and_then(|l| l.first()) {
        Some((name, pid, _)) => format!("{pid}/{name}"),
        None => "-".into(),
    }
}

/// Entry point of `netstat`.
pub fn netstat_main(args: Vec<OsString>) -> i32 {
    let a: NetstatArgs = match parse_args(args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    if a.route {
        return match netstat_routes(a.f.numeric) {
            Ok(t) => {
                emit(&t);
                0
            }
            Err(e) => fail("netstat", format!("cannot read the routing table: {e}")),
        };
    }
    let any = a.f.tcp || a.f.udp || a.f.unix;
    let (tcp, udp, unix) = if any {
        (a.f.tcp, a.f.udp, a.f.unix)
    } else {
        (true, true, true)
    };
    let (v4, v6) = match (a.ipv4, a.ipv6) {
        (true, false) => (true, false),
        (false, true) => (false, true),
        _ => (true, true),
    };
    let which = if a.f.all {
        Which::All
    } else if a.f.listening {
        Which::Listening
    } else {
        Which::Connected
    };
    let names = Names::new(a.f.numeric);
    let owners = if a.program {
        proc_root().map(|p| socket_owners(&p)).unwrap_or_default()
    } else {
        Owners::new()
    };
    let mut kinds = Vec::new();
    if tcp {
        kinds.push(Kind::Tcp);
    }
    if udp {
        kinds.push(Kind::Udp);
    }
    let title = match which {
        Which::Listening => "only servers",
        Which::All => "servers and established",
        Which::Connected => "w/o servers",
    };
    let mut out = String::new();
    if tcp || udp {
        let socks = match list_sockets(&kinds, v4, v6) {
            Ok(s) => s,
            Err(e) => return fail("netstat", format!("cannot list sockets: {e}")),
        };
        let _ = writeln!(out, "Active Internet connections ({title})");
        let _ = write!(
            out,
            "Proto Recv-Q Send-Q Local Address           Foreign Address         State      "
        );
        if a.program {
            out.push_str(" PID/Program name");
        }
        out.push('\n');
        for s in socks.iter().filter(|s| selected(s, which)) {
            let (End::Inet(lip, lport), End::Inet(pip, pport)) = (&s.local, &s.peer) else {
                continue;
            };
            let v6 = lip.is_ipv6();
            let proto = format!("{}{}", s.kind.netid(), if v6 { "6" } else { "" });
            let local = netstat_addr(*lip, names.port(s.kind, *lport));
            let peer = netstat_addr(*pip, names.port(s.kind, *pport));
            // net-tools reads /proc/net/*, which shows 0 as a listener's
            // send queue (sock_diag gives its backlog limit there).
            let send_q = if s.state == 10 { 0 } else { s.send_q };
            let mut line = format!(
                "{:<5} {:>6} {:>6} {:<23} {:<23} {:<11}",
                proto,
                s.recv_q,
                send_q,
                local,
                peer,
                netstat_state(s)
            );
            if a.program {
                let _ = write!(line, " {}", netstat_prog(&owners, s.inode));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    if unix {
        let socks = match list_sockets(&[Kind::UnixStream, Kind::UnixDgram, Kind::UnixSeq], v4, v6)
        {
            Ok(s) => s,
            Err(e) => return fail("netstat", format!("cannot list unix sockets: {e}")),
        };
        let _ = writeln!(out, "Active UNIX domain sockets ({title})");
        let _ = write!(
            out,
            "Proto RefCnt Flags       Type       State         I-Node  "
        );
        if a.program {
            out.push_str(" PID/Program name    ");
        }
        out.push_str(" Path\n");
        for s in socks.iter().filter(|s| selected(s, which)) {
            let End::Unix(path, ino) = &s.local else {
                continue;
            };
            let ty = match s.kind {
                Kind::UnixStream => "STREAM",
                Kind::UnixDgram => "DGRAM",
                _ => "SEQPACKET",
            };
            let state = match s.state {
                10 => "LISTENING",
                1 => "CONNECTED",
                _ => "",
            };
            let flags = if s.state == 10 { "[ ACC ]" } else { "[ ]" };
            let mut line = format!(
                "unix  {:<6} {:<11} {:<10} {:<13} {:<8}",
                2, flags, ty, state, ino
            );
            if a.program {
                let _ = write!(line, " {:<20}", netstat_prog(&owners, s.inode));
            }
            if path != "*" {
                let _ = write!(line, " {path}");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    emit(&out);
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn addresses_are_spelled_like_ss() {
        assert_eq!(
            ss_addr(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), false),
            "127.0.0.1"
        );
        assert_eq!(ss_addr(IpAddr::V6(Ipv6Addr::UNSPECIFIED), false), "*");
        assert_eq!(ss_addr(IpAddr::V6(Ipv6Addr::UNSPECIFIED), true), "[::]");
        assert_eq!(ss_addr(IpAddr::V6(Ipv6Addr::LOCALHOST), true), "[::1]");
    }

    #[test]
    fn proc_net_files_parse() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n";
        let s = parse_proc_inet(Kind::Tcp, tcp);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].state, 10);
        assert_eq!(s[0].recv_q, 2);
        assert_eq!(s[0].inode, 4242);
        assert!(matches!(s[0].local, End::Inet(ip, 8080) if ip == IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let v6 = proc_addr("00000000000000000000000001000000:0050").unwrap();
        assert_eq!(v6, (IpAddr::V6(Ipv6Addr::LOCALHOST), 80));
        let unix = "Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00010000 0001 01 138707 /tmp/x.sock\n0000000000000000: 00000003 00000000 00000000 0001 03 138708\n";
        let u = parse_proc_unix(unix);
        assert_eq!(
            (u[0].kind, u[0].state, u[0].inode),
            (Kind::UnixStream, 10, 138707)
        );
        assert!(matches!(&u[0].local, End::Unix(p, _) if p == "/tmp/x.sock"));
        assert_eq!(u[1].state, 1);
    }

    #[test]
    fn counters_of_sockstat_and_snmp() {
        let mut c = HashMap::new();
        proc_counters(
            "sockets: used 57\nTCP: inuse 3 orphan 0 tw 1 alloc 4 mem 89\n\
             Tcp: RtoAlgorithm CurrEstab InSegs\nTcp: 1 2 11466\n",
            &mut c,
        );
        assert_eq!(c["sockets.used"], 57);
        assert_eq!(c["TCP.tw"], 1);
        assert_eq!(c["TCP.alloc"], 4);
        assert_eq!(c["Tcp.CurrEstab"], 2);
    }

    #[test]
    fn filters() {
        let t = parse_filter(&["sport = :8080".to_string()]).unwrap();
        assert_eq!(
            t,
            vec![Term::Port {
                local: true,
                port: 8080,
                negate: false
            }]
        );
        let s = Sock {
            kind: Kind::Tcp,
            state: 10,
            recv_q: 0,
            send_q: 0,
            local: End::Inet(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            peer: End::Inet(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            inode: 1,
            v6only: false,
        };
        assert!(matches_filter(&s, &t));
        let t = parse_filter(&["dport".into(), "!=".into(), "22".into()]).unwrap();
        assert!(matches_filter(&s, &t));
        let t = parse_filter(&["src".into(), "10.0.0.1".into()]).unwrap();
        assert!(!matches_filter(&s, &t));
        let t = parse_filter(&["state".into(), "listening".into()]).unwrap();
        assert!(matches_filter(&s, &t));
        let t = parse_filter(&["state established".into()]).unwrap();
        assert!(!matches_filter(&s, &t));
        let t = parse_filter(&["exclude".into(), "established".into()]).unwrap();
        assert!(matches_filter(&s, &t));
        assert!(parse_filter(&["state".into(), "bogus".into()]).is_err());
        assert!(parse_filter(&["cgroup".into(), "/x".into()]).is_err());
    }

    #[test]
    fn layout_aligns_the_colon() {
        let rows = [(
            [
                "tcp".to_string(),
                "LISTEN".into(),
                "0".into(),
                "128".into(),
                "127.0.0.1".into(),
                "8080".into(),
                "0.0.0.0".into(),
                "*".into(),
                "users:((\"x\",pid=1,fd=3))".into(),
            ],
            ':',
        )];
        let out = format_ss(&rows, false, true, true);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0].find("s:P"), Some(lines[1].find("1:8").unwrap()));
        assert!(lines[1].ends_with("users:((\"x\",pid=1,fd=3))"));
    }
}
