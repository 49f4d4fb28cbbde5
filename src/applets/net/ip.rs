//! `ip addr`, `ip link` and `ip route` in iproute2's output formats, read
//! through rtnetlink (no /proc, no /sys). Read-only: nothing is changed.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;

use netlink_packet_route::{
    address::{AddressAttribute, AddressMessage},
    link::{LinkAttribute, LinkMessage},
    neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage},
    route::{RouteAddress, RouteAttribute, RouteMessage, RoutePreference},
    AddressFamily, RouteNetlinkMessage,
};
use netlink_sys::protocols::NETLINK_ROUTE;

use super::{emit, fail, netlink};

const HELP: &str = "\
Usage: ip [ OPTIONS ] OBJECT [ COMMAND [ ARGS ] ]
OBJECT := { address | link | route | neighbour }
COMMAND := { show | list } [ dev NAME | NAME ]   (route: [ table main|local|all|N ])
           ip route get ADDRESS
OPTIONS := { -4 | -6 | -br[ief] | -o[neline] | -s[tatistics] }

cdbg's bundled ip shows addresses, links and routes of the current network
namespace through rtnetlink, in iproute2's formats. It changes nothing.
";

/// One network interface.
#[derive(Clone, Debug, Default)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// IFF_* flags.
    pub flags: u32,
    /// ARPHRD_* type.
    pub link_type: u16,
    /// MTU.
    pub mtu: u32,
    /// Queueing discipline name.
    pub qdisc: Option<String>,
    /// IF_OPER_* state.
    pub operstate: u8,
    /// 0 default, 1 dormant.
    pub mode: u8,
    /// Interface group.
    pub group: u32,
    /// Transmit queue length.
    pub txqlen: Option<u32>,
    /// Hardware address.
    pub address: Vec<u8>,
    /// Hardware broadcast address.
    pub broadcast: Vec<u8>,
    /// IFLA_LINK: the lower/peer device.
    pub link: Option<u32>,
    /// IFLA_LINK_NETNSID: the peer lives in another namespace.
    pub link_netnsid: Option<i32>,
    /// IFLA_MASTER.
    pub master: Option<u32>,
    /// Counters: rx bytes, packets, errors, dropped, missed, multicast,
    /// compressed; tx bytes, packets, errors, dropped, carrier, collisions,
    /// compressed.
    pub stats: Option<[u64; 14]>,
}

/// One interface address.
#[derive(Clone, Debug)]
pub struct Addr {
    /// Interface index.
    pub index: u32,
    /// The address (IFA_LOCAL for IPv4 when present).
    pub local: IpAddr,
    /// The peer (IFA_ADDRESS) when it differs from the local address.
    pub peer: Option<IpAddr>,
    /// Prefix length.
    pub prefix_len: u8,
    /// Broadcast address.
    pub broadcast: Option<IpAddr>,
    /// RT_SCOPE_* scope.
    pub scope: u8,
    /// IFA_F_* flags.
    pub flags: u32,
    /// Label (IPv4).
    pub label: Option<String>,
    /// Valid and preferred lifetimes in seconds (u32::MAX = forever).
    pub lifetimes: Option<(u32, u32)>,
}

/// One route.
#[derive(Clone, Debug, Default)]
pub struct Route {
    /// AF_INET or AF_INET6.
    pub family: u8,
    /// Destination, None for the default route.
    pub dst: Option<IpAddr>,
    /// Destination prefix length.
    pub dst_len: u8,
    /// Gateway.
    pub gateway: Option<IpAddr>,
    /// Output interface index.
    pub oif: Option<u32>,
    /// Routing protocol (RTPROT_*).
    pub protocol: u8,
    /// Scope (RT_SCOPE_*).
    pub scope: u8,
    /// Route type (RTN_*).
    pub kind: u8,
    /// Table id.
    pub table: u32,
    /// Preferred source.
    pub prefsrc: Option<IpAddr>,
    /// Metric.
    pub metric: Option<u32>,
    /// RTNH_F_* / RTM_F_* flags.
    pub flags: u32,
    /// IPv6 router preference.
    pub pref: Option<&'static str>,
}

fn request(msg: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
    netlink::dump(NETLINK_ROUTE, msg)
}

/// Every link of the current network namespace, by index.
pub fn links() -> io::Result<Vec<Link>> {
    let mut out = Vec::new();
    for m in request(RouteNetlinkMessage::GetLink(LinkMessage::default()))? {
        let RouteNetlinkMessage::NewLink(l) = m else {
            continue;
        };
        let mut link = Link {
            index: l.header.index,
            flags: l.header.flags.bits(),
            link_type: u16::from(l.header.link_layer_type),
            ..Default::default()
        };
        for a in l.attributes {
            match a {
                LinkAttribute::IfName(n) => link.name = n,
                LinkAttribute::Mtu(m) => link.mtu = m,
                LinkAttribute::Qdisc(q) => link.qdisc = Some(q),
                LinkAttribute::OperState(s) => link.operstate = u8::from(s),
                LinkAttribute::Mode(m) => link.mode = u8::from(m),
                LinkAttribute::Group(g) => link.group = g,
                LinkAttribute::TxQueueLen(q) => link.txqlen = Some(q),
                LinkAttribute::Address(a) => link.address = a,
                LinkAttribute::Broadcast(b) => link.broadcast = b,
                LinkAttribute::Link(i) => link.link = Some(i),
                LinkAttribute::LinkNetNsId(i) => link.link_netnsid = Some(i),
                LinkAttribute::Controller(i) => link.master = Some(i),
                LinkAttribute::Stats64(st) => {
                    link.stats = Some([
                        st.rx_bytes,
                        st.rx_packets,
                        st.rx_errors,
                        st.rx_dropped,
                        st.rx_missed_errors,
                        st.multicast,
                        st.rx_compressed,
                        st.tx_bytes,
                        st.tx_packets,
                        st.tx_errors,
                        st.tx_dropped,
                        st.tx_carrier_errors,
                        st.collisions,
                        st.tx_compressed,
                    ])
                }
                _ => {}
            }
        }
        out.push(link);
    }
    out.sort_by_key(|l| l.index);
    Ok(out)
}

/// Every address of the current network namespace.
pub fn addresses() -> io::Result<Vec<Addr>> {
    let mut out = Vec::new();
    for m in request(RouteNetlinkMessage::GetAddress(AddressMessage::default()))? {
        let RouteNetlinkMessage::NewAddress(a) = m else {
            continue;
        };
        let mut address = None;
        let mut local = None;
        let mut addr = Addr {
            index: a.header.index,
            local: IpAddr::from([0, 0, 0, 0]),
            peer: None,
            prefix_len: a.header.prefix_len,
            broadcast: None,
            scope: u8::from(a.header.scope),
            flags: a.header.flags.bits() as u32,
            label: None,
            lifetimes: None,
        };
        for attr in a.attributes {
            match attr {
                AddressAttribute::Address(ip) => address = Some(ip),
                AddressAttribute::Local(ip) => local = Some(ip),
                AddressAttribute::Broadcast(b) => addr.broadcast = Some(IpAddr::V4(b)),
                AddressAttribute::Label(l) => addr.label = Some(l),
                AddressAttribute::Flags(f) => addr.flags = f.bits(),
                AddressAttribute::CacheInfo(c) => {
                    addr.lifetimes = Some((c.ifa_valid, c.ifa_preferred))
                }
                _ => {}
            }
        }
        match (local, address) {
            (Some(l), Some(a)) if l != a => {
                addr.local = l;
                addr.peer = Some(a);
            }
            (Some(l), _) => addr.local = l,
            (None, Some(a)) => addr.local = a,
            (None, None) => continue,
        }
        out.push(addr);
    }
    Ok(out)
}

fn route_ip(a: RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(v6)),
        _ => None,
    }
}

/// A route of an RTM_NEWROUTE message, and its UID attribute (`ip route
/// get` prints it).
fn route_of(r: RouteMessage) -> (Route, Option<u32>) {
    let h = &r.header;
    let mut route = Route {
        family: u8::from(h.address_family),
        dst_len: h.destination_prefix_length,
        protocol: u8::from(h.protocol),
        scope: u8::from(h.scope),
        kind: u8::from(h.kind),
        table: h.table as u32,
        flags: h.flags.bits(),
        ..Default::default()
    };
    let mut uid = None;
    for a in r.attributes {
        match a {
            RouteAttribute::Destination(d) => route.dst = route_ip(d),
            RouteAttribute::Gateway(g) => route.gateway = route_ip(g),
            RouteAttribute::PrefSource(s) => route.prefsrc = route_ip(s),
            RouteAttribute::Oif(i) => route.oif = Some(i),
            RouteAttribute::Priority(p) => route.metric = Some(p),
            RouteAttribute::Table(t) => route.table = t,
            RouteAttribute::Uid(u) => uid = Some(u),
            RouteAttribute::Preference(p) => {
                route.pref = match p {
                    RoutePreference::Low => Some("low"),
                    RoutePreference::Medium => Some("medium"),
                    RoutePreference::High => Some("high"),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    (route, uid)
}

/// The routes of one address family (AF_INET or AF_INET6), every table.
pub fn routes(family: u8) -> io::Result<Vec<Route>> {
    let mut req = RouteMessage::default();
    req.header.address_family = AddressFamily::from(family);
    let mut out = Vec::new();
    for m in request(RouteNetlinkMessage::GetRoute(req))? {
        let RouteNetlinkMessage::NewRoute(r) = m else {
            continue;
        };
        let (route, _) = route_of(r);
        // Cached clones (RTM_F_CLONED) are not part of the table.
        if route.flags & 0x200 != 0 {
            continue;
        }
        out.push(route);
    }
    Ok(out)
}

const IFF_UP: u32 = 0x1;
const IFF_RUNNING: u32 = 0x40;

/// iproute2's `<...>` flag list.
pub fn link_flags(flags: u32, master_down: bool) -> String {
    const NAMES: &[(u32, &str)] = &[
        (0x8, "LOOPBACK"),
        (0x2, "BROADCAST"),
        (0x10, "POINTOPOINT"),
        (0x1000, "MULTICAST"),
        (0x80, "NOARP"),
        (0x200, "ALLMULTI"),
        (0x100, "PROMISC"),
        (0x400, "MASTER"),
        (0x800, "SLAVE"),
        (0x4, "DEBUG"),
        (0x8000, "DYNAMIC"),
        (0x4000, "AUTOMEDIA"),
        (0x2000, "PORTSEL"),
        (0x20, "NOTRAILERS"),
        (0x1, "UP"),
        (0x10000, "LOWER_UP"),
        (0x20000, "DORMANT"),
        (0x40000, "ECHO"),
    ];
    let mut parts = Vec::new();
    if flags & IFF_UP != 0 && flags & IFF_RUNNING == 0 {
        parts.push("NO-CARRIER");
    }
    for (bit, name) in NAMES {
        if flags & bit != 0 {
            parts.push(name);
        }
    }
    if master_down {
        parts.push("M-DOWN");
    }
    format!("<{}>", parts.join(","))
}

fn oper_state(s: u8) -> String {
    match s {
        0 => "UNKNOWN".into(),
        1 => "NOTPRESENT".into(),
        2 => "DOWN".into(),
        3 => "LOWERLAYERDOWN".into(),
        4 => "TESTING".into(),
        5 => "DORMANT".into(),
        6 => "UP".into(),
        n => n.to_string(),
    }
}

fn link_type_name(t: u16) -> String {
    match t {
        1 => "ether".into(),
        772 => "loopback".into(),
        65534 => "none".into(),
        768 => "ipip".into(),
        769 => "tunnel6".into(),
        776 => "sit".into(),
        778 => "gre".into(),
        823 => "ip6gre".into(),
        512 => "ppp".into(),
        65535 => "void".into(),
        n => format!("[{n}]"),
    }
}

fn mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// iproute2's scope names.
pub fn scope_name(s: u8) -> String {
    match s {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}

fn proto_name(p: u8) -> String {
    match p {
        0 => "unspec".into(),
        1 => "redirect".into(),
        2 => "kernel".into(),
        3 => "boot".into(),
        4 => "static".into(),
        8 => "gated".into(),
        9 => "ra".into(),
        10 => "mrt".into(),
        11 => "zebra".into(),
        12 => "bird".into(),
        13 => "dnrouted".into(),
        14 => "xorp".into(),
        15 => "ntk".into(),
        16 => "dhcp".into(),
        42 => "babel".into(),
        186 => "bgp".into(),
        187 => "isis".into(),
        188 => "ospf".into(),
        189 => "rip".into(),
        192 => "eigrp".into(),
        n => n.to_string(),
    }
}

fn route_type_name(t: u8) -> &'static str {
    match t {
        2 => "local",
        3 => "broadcast",
        4 => "anycast",
        5 => "multicast",
        6 => "blackhole",
        7 => "unreachable",
        8 => "prohibit",
        9 => "throw",
        10 => "nat",
        _ => "",
    }
}

fn table_name(t: u32) -> String {
    match t {
        253 => "default".into(),
        254 => "main".into(),
        255 => "local".into(),
        n => n.to_string(),
    }
}

struct Opts {
    family: Option<u8>,
    brief: bool,
    oneline: bool,
    stats: bool,
}

/// The `-s` counter table of iproute2: columns as wide as their longest
/// header word ("RX errors:", "packets", ...) or value.
fn format_stats(st: &[u64; 14]) -> String {
    let mut cols = [10usize, 7, 6, 7, 7, 7, 10];
    for half in [&st[..7], &st[7..]] {
        for (c, v) in cols.iter_mut().zip(half) {
            *c = (*c).max(v.to_string().len());
        }
    }
    let mut out = String::new();
    for (i, (label, words)) in [
        (
            "RX:",
            [
                "bytes",
                "packets",
                "errors",
                "dropped",
                "missed",
                "mcast",
                "compressed",
            ],
        ),
        (
            "TX:",
            [
                "bytes",
                "packets",
                "errors",
                "dropped",
                "carrier",
                "collsns",
                "compressed",
            ],
        ),
    ]
    .iter()
    .enumerate()
    {
        let vals = &st[i * 7..i * 7 + 7];
        let _ = write!(out, "    {label} {:>w$}", words[0], w = cols[0] - 4);
        for k in 1..6 {
            let _ = write!(out, " {:>w$}", words[k], w = cols[k]);
        }
        let last = if vals[6] != 0 { words[6] } else { "" };
        let _ = writeln!(out, " {last:>w$}", w = cols[6]);
        out.push_str("    ");
        for k in 0..6 {
            let _ = write!(out, "{:>w$} ", vals[k], w = cols[k]);
        }
        if vals[6] != 0 {
            let _ = write!(out, "{:>w$} ", vals[6], w = cols[6]);
        }
        out.push('\n');
    }
    out
}

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Entry point of `ip`.
pub fn main(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into())
        .collect();
    let mut opts = Opts {
        family: None,
        brief: false,
        oneline: false,
        stats: false,
    };
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        match args[i].as_str() {
            "-4" => opts.family = Some(AF_INET),
            "-6" => opts.family = Some(AF_INET6),
            "-br" | "-brief" | "--brief" => opts.brief = true,
            "-o" | "-oneline" | "--oneline" => opts.oneline = true,
            "-s" | "-stats" | "-statistics" | "--stats" => opts.stats = true,
            "-h" | "-help" | "--help" => {
                print!("{HELP}");
                return 0;
            }
            other => {
                eprintln!("Option \"{other}\" is unknown, try \"ip -help\".");
                return 255;
            }
        }
        i += 1;
    }
    let Some(object) = args.get(i) else {
        eprint!("{HELP}");
        return 255;
    };
    let rest = &args[i + 1..];
    let res = if matches_word(object, "address", 1) {
        show_addr(&opts, rest, true)
    } else if matches_word(object, "link", 1) {
        show_addr(&opts, rest, false)
    } else if matches_word(object, "route", 1) {
        if rest.first().is_some_and(|c| matches_word(c, "get", 1)) {
            route_get(rest.get(1).map(String::as_str))
        } else {
            show_route(&opts, rest)
        }
    } else if matches_word(object, "neighbour", 1) || matches_word(object, "neighbor", 5) {
        show_neigh(&opts, rest)
    } else if object == "help" {
        print!("{HELP}");
        return 0;
    } else {
        eprintln!("Object \"{object}\" is unknown, try \"ip help\".");
        return 255;
    };
    match res {
        Ok(text) => {
            emit(&text);
            0
        }
        Err(e) => fail("ip", e),
    }
}

/// True when `arg` is a prefix of `word` at least `min` characters long.
fn matches_word(arg: &str, word: &str, min: usize) -> bool {
    arg.len() >= min && word.starts_with(arg)
}

/// Parses `[show|list] [dev] NAME` (and `table T` for routes).
fn parse_show(rest: &[String]) -> io::Result<(Option<String>, Option<String>)> {
    let mut dev = None;
    let mut table = None;
    let mut it = rest.iter().peekable();
    if let Some(first) = it.peek() {
        if matches_word(first, "show", 1) || matches_word(first, "list", 1) || *first == "ls" {
            it.next();
        } else if first.as_str() != "dev" && first.as_str() != "table" {
            return Err(io::Error::other(format!(
                "command \"{first}\" is not supported by cdbg's ip (read-only: show/list)"
            )));
        }
    }
    while let Some(a) = it.next() {
        match a.as_str() {
            "dev" => dev = it.next().cloned(),
            "table" => table = it.next().cloned(),
            "up" | "scope" => {}
            other => dev = Some(other.to_string()),
        }
    }
    Ok((dev, table))
}

fn link_name_with_peer(l: &Link, by_index: &HashMap<u32, &Link>) -> String {
    match (l.link, l.link_netnsid) {
        (Some(0), _) => format!("{}@NONE", l.name),
        (Some(i), Some(_)) => format!("{}@if{i}", l.name),
        (Some(i), None) => match by_index.get(&i) {
            Some(p) => format!("{}@{}", l.name, p.name),
            None => format!("{}@if{i}", l.name),
        },
        (None, _) => l.name.clone(),
    }
}

fn master_down(l: &Link, by_index: &HashMap<u32, &Link>) -> bool {
    match (l.link, l.link_netnsid) {
        (Some(i), None) if i != 0 => by_index.get(&i).is_some_and(|p| p.flags & IFF_UP == 0),
        _ => false,
    }
}

fn addr_flags(flags: u32, v6: bool) -> String {
    const NAMES: &[(u32, &str)] = &[
        (0x01, "secondary"),
        (0x02, "nodad"),
        (0x04, "optimistic"),
        (0x08, "dadfailed"),
        (0x10, "home"),
        (0x20, "deprecated"),
        (0x40, "tentative"),
        (0x100, "mngtmpaddr"),
        (0x200, "noprefixroute"),
        (0x400, "autojoin"),
        (0x800, "stable-privacy"),
    ];
    let mut s = String::new();
    for (bit, name) in NAMES {
        // IPv4 "secondary" is spelled as such; IPv6 calls it "temporary".
        if flags & bit != 0 {
            let name = if *bit == 0x01 && v6 {
                "temporary"
            } else {
                name
            };
            let _ = write!(s, " {name}");
        }
    }
    if flags & 0x80 == 0 {
        s.insert_str(0, " dynamic");
    }
    s
}

fn lft(v: u32) -> String {
    if v == u32::MAX {
        "forever".into()
    } else {
        format!("{v}sec")
    }
}

fn show_addr(opts: &Opts, rest: &[String], with_addrs: bool) -> io::Result<String> {
    let (dev, _) = parse_show(rest)?;
    let links = links()?;
    let by_index: HashMap<u32, &Link> = links.iter().map(|l| (l.index, l)).collect();
    let addrs = if with_addrs || opts.family.is_some() {
        addresses()?
    } else {
        Vec::new()
    };
    if let Some(d) = &dev {
        if !links.iter().any(|l| &l.name == d) {
            return Err(io::Error::other(format!("Device \"{d}\" does not exist.")));
        }
    }
    let mut out = String::new();
    for l in &links {
        if dev.as_ref().is_some_and(|d| d != &l.name) {
            continue;
        }
        let mine: Vec<&Addr> = addrs
            .iter()
            .filter(|a| a.index == l.index)
            .filter(|a| match opts.family {
                Some(AF_INET) => a.local.is_ipv4(),
                Some(_) => a.local.is_ipv6(),
                None => true,
            })
            .collect();
        if opts.family.is_some() && mine.is_empty() {
            continue;
        }
        let name = link_name_with_peer(l, &by_index);
        if opts.brief {
            let _ = write!(out, "{name:<16} {:<14} ", oper_state(l.operstate));
            if with_addrs {
                for a in &mine {
                    let _ = write!(out, "{}/{} ", a.local, a.prefix_len);
                }
            } else {
                let _ = write!(
                    out,
                    "{:<17} {} ",
                    mac(&l.address),
                    link_flags(l.flags, master_down(l, &by_index))
                );
            }
            out.push('\n');
            continue;
        }
        let sep = if opts.oneline { "\\" } else { "\n" };
        // `ip -o addr` prints address lines only; `-4`/`-6` drop link lines.
        let header = !(with_addrs && (opts.oneline || opts.family.is_some()));
        let mut lt = String::new();
        let _ = write!(
            lt,
            "{}: {}: {} mtu {}",
            l.index,
            name,
            link_flags(l.flags, master_down(l, &by_index)),
            l.mtu
        );
        // An AF_INET6 link dump carries no qdisc or group: iproute2's
        // `ip -6 addr` omits them, and so does this.
        let v6_only = with_addrs && opts.family == Some(AF_INET6);
        if let Some(q) = l.qdisc.as_ref().filter(|_| !v6_only) {
            let _ = write!(lt, " qdisc {q}");
        }
        if let Some(m) = l.master.and_then(|m| by_index.get(&m)) {
            let _ = write!(lt, " master {}", m.name);
        }
        let _ = write!(lt, " state {}", oper_state(l.operstate));
        if !with_addrs {
            let _ = write!(
                lt,
                " mode {}",
                if l.mode == 1 { "DORMANT" } else { "DEFAULT" }
            );
        }
        if v6_only {
        } else if l.group == 0 {
            lt.push_str(" group default");
        } else {
            let _ = write!(lt, " group {}", l.group);
        }
        if let Some(q) = l.txqlen {
            let _ = write!(lt, " qlen {q}");
        }
        let _ = write!(lt, "{sep}    link/{}", link_type_name(l.link_type));
        if !l.address.is_empty() {
            let _ = write!(lt, " {}", mac(&l.address));
        }
        if !l.broadcast.is_empty() {
            let kw = if l.flags & 0x10 != 0 { "peer" } else { "brd" };
            let _ = write!(lt, " {kw} {}", mac(&l.broadcast));
        }
        if let Some(n) = l.link_netnsid {
            let _ = write!(lt, " link-netnsid {n}");
        }
        lt.push('\n');
        if header {
            out.push_str(&lt);
        } else if opts.family.is_some() && !opts.oneline {
            out.push_str(lt.lines().next().unwrap_or(""));
            out.push('\n');
        }
        for a in &mine {
            let v6 = a.local.is_ipv6();
            if opts.oneline {
                let _ = write!(out, "{}: {}", l.index, l.name);
            }
            let _ = write!(out, "    {} {}", if v6 { "inet6" } else { "inet" }, a.local);
            match a.peer {
                Some(p) => {
                    let _ = write!(out, " peer {p}/{}", a.prefix_len);
                }
                None => {
                    let _ = write!(out, "/{}", a.prefix_len);
                }
            }
            if let Some(b) = a.broadcast {
                let _ = write!(out, " brd {b}");
            }
            let _ = write!(out, " scope {}", scope_name(a.scope));
            out.push_str(&addr_flags(a.flags, v6));
            if v6 {
                out.push(' ');
            } else if let Some(lbl) = &a.label {
                let _ = write!(out, " {lbl}");
            }
            let (valid, pref) = a.lifetimes.unwrap_or((u32::MAX, u32::MAX));
            let _ = writeln!(
                out,
                "{sep}       valid_lft {} preferred_lft {}",
                lft(valid),
                lft(pref)
            );
        }
        if opts.stats && !opts.oneline {
            if let Some(st) = &l.stats {
                out.push_str(&format_stats(st));
            }
        }
    }
    Ok(out)
}

fn show_route(opts: &Opts, rest: &[String]) -> io::Result<String> {
    let (dev, table) = parse_show(rest)?;
    let family = opts.family.unwrap_or(AF_INET);
    let table_filter: Option<u32> = match table.as_deref() {
        None | Some("main") => Some(254),
        Some("local") => Some(255),
        Some("default") => Some(253),
        Some("all") => None,
        Some(n) => Some(
            n.parse()
                .map_err(|_| io::Error::other(format!("table id value is invalid: \"{n}\"")))?,
        ),
    };
    let links = links()?;
    let names: HashMap<u32, &str> = links.iter().map(|l| (l.index, l.name.as_str())).collect();
    let dev_index = device_index(&links, dev.as_deref())?;
    let mut out = String::new();
    for r in routes(family)? {
        if table_filter.is_some_and(|t| t != r.table) {
            continue;
        }
        if dev_index.is_some() && r.oif != dev_index {
            continue;
        }
        let _ = writeln!(out, "{}", format_route(&r, &names, table_filter.is_none()));
    }
    Ok(out)
}

/// Formats a route as `ip route` prints it.
pub fn format_route(r: &Route, names: &HashMap<u32, &str>, show_table: bool) -> String {
    let mut s = String::new();
    let t = route_type_name(r.kind);
    if !t.is_empty() {
        let _ = write!(s, "{t} ");
    }
    match r.dst {
        None if r.dst_len == 0 => s.push_str("default"),
        None => {
            let any = if r.family == AF_INET6 {
                "::"
            } else {
                "0.0.0.0"
            };
            let _ = write!(s, "{any}/{}", r.dst_len);
        }
        Some(d) => {
            let host = if d.is_ipv4() { 32 } else { 128 };
            if r.dst_len == host {
                let _ = write!(s, "{d}");
            } else {
                let _ = write!(s, "{d}/{}", r.dst_len);
            }
        }
    }
    if let Some(g) = r.gateway {
        let _ = write!(s, " via {g}");
    }
    if let Some(o) = r.oif {
        match names.get(&o) {
            Some(n) => {
                let _ = write!(s, " dev {n}");
            }
            None => {
                let _ = write!(s, " dev if{o}");
            }
        }
    }
    if show_table && r.table != 254 {
        let _ = write!(s, " table {}", table_name(r.table));
    }
    if r.protocol != 3 {
        let _ = write!(s, " proto {}", proto_name(r.protocol));
    }
    if r.scope != 0 {
        let _ = write!(s, " scope {}", scope_name(r.scope));
    }
    if let Some(p) = r.prefsrc {
        let _ = write!(s, " src {p}");
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    for (bit, name) in [
        (1u32, "dead"),
        (2, "pervasive"),
        (4, "onlink"),
        (8, "offload"),
        (16, "linkdown"),
    ] {
        if r.flags & bit != 0 {
            let _ = write!(s, " {name}");
        }
    }
    match r.pref {
        Some(p) => {
            let _ = write!(s, " pref {p}");
        }
        // iproute2 ends these lines with a space; kept for byte-equal output.
        None => s.push(' '),
    }
    s
}

/// One neighbour (ARP / NDP) entry.
#[derive(Clone, Debug)]
pub struct Neigh {
    /// Interface index.
    pub index: u32,
    /// The neighbour's address.
    pub dst: IpAddr,
    /// Its link-layer address.
    pub lladdr: Option<Vec<u8>>,
    /// NUD_* state bits.
    pub state: u16,
    /// NTF_* flags.
    pub flags: u8,
}

/// The neighbour tables (ARP and NDP) of the current network namespace.
pub fn neighbours() -> io::Result<Vec<Neigh>> {
    let mut out = Vec::new();
    for m in request(RouteNetlinkMessage::GetNeighbour(
        NeighbourMessage::default(),
    ))? {
        let RouteNetlinkMessage::NewNeighbour(n) = m else {
            continue;
        };
        let mut dst = None;
        let mut lladdr = None;
        for a in n.attributes {
            match a {
                NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => {
                    dst = Some(IpAddr::V4(v4))
                }
                NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => {
                    dst = Some(IpAddr::V6(v6))
                }
                NeighbourAttribute::LinkLayerAddress(l) => lladdr = Some(l),
                _ => {}
            }
        }
        let Some(dst) = dst else { continue };
        out.push(Neigh {
            index: n.header.ifindex,
            dst,
            lladdr,
            state: u16::from(n.header.state),
            flags: n.header.flags.bits(),
        });
    }
    Ok(out)
}

fn nud_name(state: u16) -> String {
    const NAMES: &[(u16, &str)] = &[
        (0x01, "INCOMPLETE"),
        (0x02, "REACHABLE"),
        (0x04, "STALE"),
        (0x08, "DELAY"),
        (0x10, "PROBE"),
        (0x20, "FAILED"),
        (0x40, "NOARP"),
        (0x80, "PERMANENT"),
    ];
    let names: Vec<&str> = NAMES
        .iter()
        .filter(|(b, _)| state & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "NONE".into()
    } else {
        names.join(" ")
    }
}

/// The index of the interface named `dev` among `links` (`None` without a
/// name); an unknown name is an error.
fn device_index(links: &[Link], dev: Option<&str>) -> io::Result<Option<u32>> {
    dev.map(|d| {
        links
            .iter()
            .find(|l| l.name == d)
            .map(|l| l.index)
            .ok_or_else(|| io::Error::other(format!("Cannot find device \"{d}\"")))
    })
    .transpose()
}

fn show_neigh(opts: &Opts, rest: &[String]) -> io::Result<String> {
    let (dev, _) = parse_show(rest)?;
    let links = links()?;
    let dev_index = device_index(&links, dev.as_deref())?;
    let mut out = String::new();
    for n in neighbours()? {
        let fam_ok = match opts.family {
            Some(AF_INET) => n.dst.is_ipv4(),
            Some(_) => n.dst.is_ipv6(),
            None => true,
        };
        // NOARP entries (multicast, loopback) are hidden, as iproute2 does.
        if !fam_ok || n.state == 0x40 || dev_index.is_some_and(|i| i != n.index) {
            continue;
        }
        let _ = write!(out, "{}", n.dst);
        if dev_index.is_none() {
            let name = links
                .iter()
                .find(|l| l.index == n.index)
                .map(|l| l.name.as_str());
            let _ = write!(out, " dev {}", name.unwrap_or("?"));
        }
        if let Some(ll) = &n.lladdr {
            let _ = write!(out, " lladdr {}", mac(ll));
        }
        if n.flags & 0x80 != 0 {
            out.push_str(" router");
        }
        if n.flags & 0x08 != 0 {
            out.push_str(" proxy");
        }
        let _ = writeln!(out, " {} ", nud_name(n.state));
    }
    Ok(out)
}

/// `ip route get ADDRESS`: the kernel's route lookup for one destination.
fn route_get(addr: Option<&str>) -> io::Result<String> {
    let addr = addr.ok_or_else(|| io::Error::other("ip route get needs an address"))?;
    let ip: IpAddr = addr
        .split('/')
        .next()
        .unwrap_or(addr)
        .parse()
        .map_err(|_| io::Error::other(format!("invalid address \"{addr}\"")))?;
    let mut req = RouteMessage::default();
    let (fam, len) = if ip.is_ipv4() {
        (AF_INET, 32)
    } else {
        (AF_INET6, 128)
    };
    req.header.address_family = AddressFamily::from(fam);
    req.header.destination_prefix_length = len;
    req.attributes.push(RouteAttribute::Destination(match ip {
        IpAddr::V4(a) => RouteAddress::Inet(a),
        IpAddr::V6(a) => RouteAddress::Inet6(a),
    }));
    let RouteNetlinkMessage::NewRoute(r) =
        netlink::get(NETLINK_ROUTE, RouteNetlinkMessage::GetRoute(req))?
    else {
        return Err(io::Error::other("unexpected rtnetlink answer"));
    };
    let (route, uid) = route_of(r);
    let links = links()?;
    let names: HashMap<u32, &str> = links.iter().map(|l| (l.index, l.name.as_str())).collect();
    // Printed as iproute2 does: no table/proto/scope, then uid and cache.
    let mut line = format_route(
        &Route {
            protocol: 3,
            ..route.clone()
        },
        &names,
        false,
    );
    line.truncate(line.trim_end().len());
    if let Some(u) = uid {
        let _ = write!(line, " uid {u}");
    }
    let local = if route.kind == 2 { "<local> " } else { "" };
    Ok(format!("{line} \n    cache {local}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_table_like_iproute2() {
        let mut st = [0u64; 14];
        st[0] = 504;
        st[1] = 6;
        st[7] = 12345678901;
        // The bytes column widens to the 11 digits of the TX count.
        let want = [
            "    RX:   bytes packets errors dropped  missed   mcast           ",
            "            504       6      0       0       0       0 ",
            "    TX:   bytes packets errors dropped carrier collsns           ",
            "    12345678901       0      0       0       0       0 ",
        ];
        assert_eq!(format_stats(&st), want.join("\n") + "\n");
    }

    #[test]
    fn flags_follow_iproute2_order() {
        assert_eq!(
            link_flags(0x1 | 0x8 | 0x40 | 0x10000, false),
            "<LOOPBACK,UP,LOWER_UP>"
        );
        assert_eq!(
            link_flags(0x1 | 0x2 | 0x1000, true),
            "<NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN>"
        );
    }

    #[test]
    fn routes_print_like_ip_route() {
        let names: HashMap<u32, &str> = [(3, "v0")].into_iter().collect();
        let r = Route {
            family: AF_INET,
            dst: Some("10.9.0.0".parse().unwrap()),
            dst_len: 24,
            oif: Some(3),
            protocol: 2,
            scope: 253,
            kind: 1,
            table: 254,
            prefsrc: Some("10.9.0.1".parse().unwrap()),
            flags: 16,
            ..Default::default()
        };
        assert_eq!(
            format_route(&r, &names, false),
            "10.9.0.0/24 dev v0 proto kernel scope link src 10.9.0.1 linkdown "
        );
        let d = Route {
            family: AF_INET,
            gateway: Some("10.9.0.2".parse().unwrap()),
            oif: Some(3),
            protocol: 3,
            kind: 1,
            table: 254,
            ..Default::default()
        };
        assert_eq!(
            format_route(&d, &names, false),
            "default via 10.9.0.2 dev v0 "
        );
    }
}
