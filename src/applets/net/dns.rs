//! `dig` and `nslookup`, and the host-name resolver every network applet
//! uses: /etc/hosts, then the nameservers of /etc/resolv.conf (UDP, TCP
//! when the answer is truncated). Never glibc NSS.
//!
//! The DNS codec is hand-written (RFC 1035, ~200 lines): the lean crates
//! are shaped for mDNS (simple-dns keeps TXT as key=value attributes and
//! loses string boundaries) and hickory-proto pulls a dozen crates into the
//! binary for what is a header, a question and a few record types here.

use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use super::{emit, fail};

/// Record types by name, as dig spells them.
pub const TYPES: &[(&str, u16)] = &[
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("PTR", 12),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
    ("SRV", 33),
    ("ANY", 255),
];

/// The number of a record type name ("TYPE99" works too).
pub fn type_code(name: &str) -> Option<u16> {
    let up = name.to_ascii_uppercase();
    TYPES
        .iter()
        .find(|(n, _)| *n == up)
        .map(|(_, c)| *c)
        .or_else(|| up.strip_prefix("TYPE").and_then(|n| n.parse().ok()))
}

/// The name of a record type.
pub fn type_name(code: u16) -> String {
    TYPES
        .iter()
        .find(|(_, c)| *c == code)
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| format!("TYPE{code}"))
}

fn rcode_name(rcode: u8) -> String {
    match rcode {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        n => format!("RCODE{n}"),
    }
}

/// Record data, decoded for the types dig users read.
#[derive(Clone, Debug, PartialEq)]
pub enum RData {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// A domain name (NS, CNAME, PTR).
    Name(String),
    /// Mail exchanger: preference and host.
    Mx(u16, String),
    /// Character strings.
    Txt(Vec<Vec<u8>>),
    /// Start of authority.
    Soa {
        /// Primary server.
        mname: String,
        /// Responsible mailbox.
        rname: String,
        /// serial, refresh, retry, expire, minimum.
        nums: [u32; 5],
    },
    /// Service: priority, weight, port, target.
    Srv(u16, u16, u16, String),
    /// Anything else, raw.
    Other(Vec<u8>),
}

impl std::fmt::Display for RData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RData::A(a) => write!(f, "{a}"),
            RData::Aaaa(a) => write!(f, "{a}"),
            RData::Name(n) => write!(f, "{n}"),
            RData::Mx(p, n) => write!(f, "{p} {n}"),
            RData::Txt(strings) => {
                for (i, s) in strings.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    f.write_str("\"")?;
                    for &b in s {
                        match b {
                            b'"' | b'\\' => write!(f, "\\{}", b as char)?,
                            0x20..=0x7e => write!(f, "{}", b as char)?,
                            _ => write!(f, "\\{b:03}")?,
                        }
                    }
                    f.write_str("\"")?;
                }
                Ok(())
            }
            RData::Soa { mname, rname, nums } => write!(
                f,
                "{mname} {rname} {} {} {} {} {}",
                nums[0], nums[1], nums[2], nums[3], nums[4]
            ),
            RData::Srv(p, w, port, t) => write!(f, "{p} {w} {port} {t}"),
            RData::Other(raw) => {
                write!(f, "\\# {}", raw.len())?;
                if !raw.is_empty() {
                    f.write_str(" ")?;
                    for b in raw {
                        write!(f, "{b:02X}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// One resource record.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Owner name, fully qualified ("example.com.").
    pub name: String,
    /// Type code.
    pub rtype: u16,
    /// Class (1 = IN).
    pub class: u16,
    /// Time to live.
    pub ttl: u32,
    /// Data.
    pub data: RData,
}

/// A decoded DNS message.
#[derive(Clone, Debug, Default)]
pub struct Message {
    /// Query id.
    pub id: u16,
    /// The flag word of the header (QR, opcode, AA, TC, RD, RA, ..., rcode).
    pub flags: u16,
    /// Questions: name, type, class.
    pub questions: Vec<(String, u16, u16)>,
    /// Answer section.
    pub answers: Vec<Record>,
    /// Authority section.
    pub authority: Vec<Record>,
    /// Additional section.
    pub additional: Vec<Record>,
    /// Size on the wire.
    pub size: usize,
}

impl Message {
    /// The response code.
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
    /// The TC (truncated) bit.
    pub fn truncated(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    /// The AA (authoritative) bit.
    pub fn authoritative(&self) -> bool {
        self.flags & 0x0400 != 0
    }
}

/// Encodes a standard query for `name`/`qtype` (class IN, RD set).
pub fn build_query(id: u16, name: &str, qtype: u16) -> io::Result<Vec<u8>> {
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        if label.len() > 63 {
            return Err(io::Error::other(format!("label too long in '{name}'")));
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    Ok(q)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed DNS message: {what}"),
    )
}

fn u16_at(buf: &[u8], pos: usize) -> io::Result<u16> {
    buf.get(pos..pos + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| bad("short"))
}

fn u32_at(buf: &[u8], pos: usize) -> io::Result<u32> {
    buf.get(pos..pos + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| bad("short"))
}

/// Reads a (possibly compressed) name at `pos`; returns it and the
/// position after it in the original stream.
fn read_name(buf: &[u8], mut pos: usize) -> io::Result<(String, usize)> {
    let mut name = String::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *buf.get(pos).ok_or_else(|| bad("name"))? as usize;
        if len & 0xc0 == 0xc0 {
            let ptr = (u16_at(buf, pos)? & 0x3fff) as usize;
            end.get_or_insert(pos + 2);
            pos = ptr;
            continue;
        }
        if len == 0 {
            if name.is_empty() {
                name.push('.');
            }
            return Ok((name, end.unwrap_or(pos + 1)));
        }
        let label = buf
            .get(pos + 1..pos + 1 + len)
            .ok_or_else(|| bad("label"))?;
        for &b in label {
            match b {
                b'.' | b'\\' => {
                    name.push('\\');
                    name.push(b as char);
                }
                0x21..=0x7e => name.push(b as char),
                _ => {
                    let _ = write!(name, "\\{b:03}");
                }
            }
        }
        name.push('.');
        pos += 1 + len;
    }
    Err(bad("compression loop"))
}

fn read_record(buf: &[u8], pos: usize) -> io::Result<(Record, usize)> {
    let (name, p) = read_name(buf, pos)?;
    let rtype = u16_at(buf, p)?;
    let class = u16_at(buf, p + 2)?;
    let ttl = u32_at(buf, p + 4)?;
    let rdlen = u16_at(buf, p + 8)? as usize;
    let start = p + 10;
    let rdata = buf.get(start..start + rdlen).ok_or_else(|| bad("rdata"))?;
    let data = match rtype {
        1 if rdlen == 4 => RData::A(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3])),
        28 if rdlen == 16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(rdata);
            RData::Aaaa(Ipv6Addr::from(a))
        }
        2 | 5 | 12 => RData::Name(read_name(buf, start)?.0),
        15 => RData::Mx(u16_at(buf, start)?, read_name(buf, start + 2)?.0),
        16 => {
            let mut strings = Vec::new();
            let mut i = 0;
            while i < rdata.len() {
                let l = rdata[i] as usize;
                strings.push(
                    rdata
                        .get(i + 1..i + 1 + l)
                        .ok_or_else(|| bad("txt"))?
                        .to_vec(),
                );
                i += 1 + l;
            }
            RData::Txt(strings)
        }
        6 => {
            let (mname, p1) = read_name(buf, start)?;
            let (rname, p2) = read_name(buf, p1)?;
            let mut nums = [0u32; 5];
            for (k, n) in nums.iter_mut().enumerate() {
                *n = u32_at(buf, p2 + 4 * k)?;
            }
            RData::Soa { mname, rname, nums }
        }
        33 => RData::Srv(
            u16_at(buf, start)?,
            u16_at(buf, start + 2)?,
            u16_at(buf, start + 4)?,
            read_name(buf, start + 6)?.0,
        ),
        _ => RData::Other(rdata.to_vec()),
    };
    Ok((
        Record {
            name,
            rtype,
            class,
            ttl,
            data,
        },
        start + rdlen,
    ))
}

/// Decodes a DNS message.
pub fn parse(buf: &[u8]) -> io::Result<Message> {
    if buf.len() < 12 {
        return Err(bad("shorter than a header"));
    }
    let mut m = Message {
        id: u16_at(buf, 0)?,
        flags: u16_at(buf, 2)?,
        size: buf.len(),
        ..Default::default()
    };
    let counts = [
        u16_at(buf, 4)?,
        u16_at(buf, 6)?,
        u16_at(buf, 8)?,
        u16_at(buf, 10)?,
    ];
    let mut pos = 12;
    for _ in 0..counts[0] {
        let (name, p) = read_name(buf, pos)?;
        m.questions
            .push((name, u16_at(buf, p)?, u16_at(buf, p + 2)?));
        pos = p + 4;
    }
    for (section, count) in [(0, counts[1]), (1, counts[2]), (2, counts[3])] {
        for _ in 0..count {
            let (r, p) = read_record(buf, pos)?;
            pos = p;
            match section {
                0 => m.answers.push(r),
                1 => m.authority.push(r),
                _ => m.additional.push(r),
            }
        }
    }
    Ok(m)
}

/// The resolver settings of /etc/resolv.conf.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvConf {
    /// Nameservers, in order.
    pub nameservers: Vec<IpAddr>,
    /// Search domains.
    pub search: Vec<String>,
    /// options ndots.
    pub ndots: usize,
    /// options timeout (per try).
    pub timeout: Duration,
    /// options attempts.
    pub attempts: u32,
}

impl ResolvConf {
    /// Parses resolv.conf text; with no nameserver line, 127.0.0.1 (as libc).
    pub fn parse(text: &str) -> Self {
        let mut c = ResolvConf {
            nameservers: Vec::new(),
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
        };
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut it = line.split_whitespace();
            match it.next() {
                Some("nameserver") => {
                    if let Some(ip) = it.next().and_then(|a| a.split('%').next()?.parse().ok()) {
                        c.nameservers.push(ip);
                    }
                }
                Some("search") | Some("domain") => {
                    c.search = it.map(|s| s.trim_end_matches('.').to_string()).collect()
                }
                Some("options") => {
                    for o in it {
                        if let Some(v) = o.strip_prefix("ndots:").and_then(|v| v.parse().ok()) {
                            c.ndots = v;
                        } else if let Some(v) =
                            o.strip_prefix("timeout:").and_then(|v| v.parse().ok())
                        {
                            c.timeout = Duration::from_secs(v);
                        } else if let Some(v) =
                            o.strip_prefix("attempts:").and_then(|v| v.parse().ok())
                        {
                            c.attempts = v;
                        }
                    }
                }
                _ => {}
            }
        }
        if c.nameservers.is_empty() {
            c.nameservers.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        c
    }

    /// Reads /etc/resolv.conf (of the namespace the applet runs in).
    pub fn load() -> Self {
        Self::parse(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
    }

    /// The names to try for `name`, search domains applied as libc does.
    pub fn candidates(&self, name: &str) -> Vec<String> {
        if name.ends_with('.') {
            return vec![name.to_string()];
        }
        let dots = name.matches('.').count();
        let searched = self.search.iter().map(|d| format!("{name}.{d}"));
        if dots >= self.ndots {
            std::iter::once(name.to_string()).chain(searched).collect()
        } else {
            searched.chain(std::iter::once(name.to_string())).collect()
        }
    }
}

fn random_id() -> u16 {
    RandomState::new().build_hasher().finish() as u16
}

/// Sends `query` to `server` over UDP (or TCP when `tcp`), falling back to
/// TCP when the UDP answer is truncated. Returns the raw answer and whether
/// TCP carried it.
pub fn exchange(
    server: SocketAddr,
    query: &[u8],
    timeout: Duration,
    tcp: bool,
) -> io::Result<(Vec<u8>, bool)> {
    if !tcp {
        let bind: SocketAddr = if server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let sock = UdpSocket::bind(bind)?;
        sock.connect(server)?;
        sock.send(query)?;
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 65535];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
            }
            sock.set_read_timeout(Some(left))?;
            let n = match sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
                }
                Err(e) => return Err(e),
            };
            // Ignore stray datagrams: the id must match ours.
            if n < 12 || buf[..2] != query[..2] {
                continue;
            }
            if buf[2] & 0x02 != 0 {
                break; // TC: retry over TCP
            }
            buf.truncate(n);
            return Ok((buf, false));
        }
    }
    let mut s = TcpStream::connect_timeout(&server, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    s.write_all(&framed)?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf)?;
    Ok((buf, true))
}

/// Asks the resolv.conf nameservers (or `server`) one question; returns
/// the decoded answer, the server that gave it and whether TCP was used.
pub fn query(
    conf: &ResolvConf,
    server: Option<SocketAddr>,
    name: &str,
    qtype: u16,
    tcp: bool,
) -> io::Result<(Message, SocketAddr, bool)> {
    let servers: Vec<SocketAddr> = match server {
        Some(s) => vec![s],
        None => conf
            .nameservers
            .iter()
            .map(|ip| SocketAddr::new(*ip, 53))
            .collect(),
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no nameserver");
    for _ in 0..conf.attempts.max(1) {
        for &srv in &servers {
            let id = random_id();
            let q = build_query(id, name, qtype)?;
            match exchange(srv, &q, conf.timeout, tcp) {
                Ok((raw, via_tcp)) => return Ok((parse(&raw)?, srv, via_tcp)),
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

/// Looks `name` up in an /etc/hosts text.
pub fn hosts_lookup(text: &str, name: &str) -> Vec<IpAddr> {
    let name = name.trim_end_matches('.');
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut it = line.split_whitespace();
        let Some(ip) = it.next().and_then(|a| a.parse::<IpAddr>().ok()) else {
            continue;
        };
        if it.any(|n| n.eq_ignore_ascii_case(name)) && !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// Resolves a host name the way a static program must: an IP literal,
/// then /etc/hosts, then A and AAAA queries to the resolv.conf nameservers.
pub fn resolve_host(host: &str) -> io::Result<Vec<IpAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let found = hosts_lookup(&hosts, host);
    if !found.is_empty() {
        return Ok(found);
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]);
    }
    let conf = ResolvConf::load();
    let mut last = None;
    for cand in conf.candidates(host) {
        let mut ips = Vec::new();
        for qtype in [1u16, 28] {
            match query(&conf, None, &cand, qtype, false) {
                Ok((m, _, _)) => ips.extend(m.answers.iter().filter_map(|r| match r.data {
                    RData::A(a) => Some(IpAddr::V4(a)),
                    RData::Aaaa(a) => Some(IpAddr::V6(a)),
                    _ => None,
                })),
                // A silent nameserver will not answer the next question
                // either: fail now rather than after every timeout.
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    last = Some(e);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if last
            .as_ref()
            .is_some_and(|e| e.kind() == io::ErrorKind::TimedOut)
        {
            break;
        }
        if !ips.is_empty() {
            return Ok(ips);
        }
    }
    Err(match last {
        Some(e) if e.kind() == io::ErrorKind::TimedOut => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("cannot resolve '{host}': no answer from the nameservers of /etc/resolv.conf"),
        ),
        _ => io::Error::new(io::ErrorKind::NotFound, format!("unknown host '{host}'")),
    })
}

/// Resolves `host` and pairs every address with `port`.
pub fn socket_addrs(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    Ok(resolve_host(host)?
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

/// The reverse-lookup name of an address (in-addr.arpa / ip6.arpa).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let mut s = String::new();
            for b in a.octets().iter().rev() {
                let _ = write!(s, "{:x}.{:x}.", b & 0xf, b >> 4);
            }
            s.push_str("ip6.arpa.");
            s
        }
    }
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

fn server_addr(spec: &str, port: u16) -> io::Result<SocketAddr> {
    let ips = resolve_host(spec)?;
    ips.first()
        .map(|ip| SocketAddr::new(*ip, port))
        .ok_or_else(|| io::Error::other(format!("cannot resolve server '{spec}'")))
}

const DIG_HELP: &str = "\
Usage: dig [@SERVER] [-p PORT] [-t TYPE] [-x ADDR] [NAME] [TYPE] [+short] [+tcp]
Query a DNS server (default: the nameservers of /etc/resolv.conf).
TYPE: A AAAA CNAME MX NS PTR SOA SRV TXT ANY (default A)
  @SERVER   ask this server          -p PORT   server port (53)
  -x ADDR   reverse lookup (PTR)     +short    print the answer data only
  +tcp      query over TCP           +timeout=N  seconds per try
  +[no]all +[no]comments +[no]question +[no]answer +[no]authority
  +[no]additional +[no]stats   choose what is printed (+noall +answer)
";

/// Entry point of `dig`.
pub fn dig_main(args: Vec<OsString>) -> i32 {
    let argv: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into())
        .collect();
    let mut server = None;
    let mut port = 53u16;
    let mut name = None;
    let mut qtype = None;
    let mut short = false;
    let mut show = DigShow::default();
    let mut tcp = false;
    let mut timeout = None;
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        if a == "-h" || a == "--help" {
            print!("{DIG_HELP}");
            return 0;
        } else if let Some(s) = a.strip_prefix('@') {
            server = Some(s.to_string());
        } else if a == "-p" {
            match it.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => return fail("dig", "-p needs a port number"),
            }
        } else if a == "-t" {
            match it.next().and_then(|t| type_code(t)) {
                Some(t) => qtype = Some(t),
                None => return fail("dig", "-t needs a record type"),
            }
        } else if a == "-x" {
            match it.next().and_then(|x| x.parse::<IpAddr>().ok()) {
                Some(ip) => {
                    name = Some(reverse_name(ip));
                    qtype.get_or_insert(12);
                }
                None => return fail("dig", "-x needs an IP address"),
            }
        } else if let Some(opt) = a.strip_prefix('+') {
            match opt {
                "short" => short = true,
                "tcp" | "vc" => tcp = true,
                "notcp" | "novc" => tcp = false,
                o if o.starts_with("timeout=") || o.starts_with("time=") => {
                    timeout = o.split('=').nth(1).and_then(|v| v.parse().ok())
                }
                o => {
                    // Display toggles; other +options are accepted and ignored.
                    show.apply(o);
                }
            }
        } else if a.starts_with('-') {
            return fail("dig", format!("unknown option {a} (try dig --help)"));
        } else if name.is_some() && qtype.is_none() && type_code(a).is_some() {
            qtype = type_code(a);
        } else if name.is_none() {
            name = Some(a.clone());
        } else if let Some(t) = type_code(a) {
            qtype = Some(t);
        } else {
            return fail("dig", format!("unexpected argument '{a}'"));
        }
    }
    // With no name, dig asks for the root servers (". NS").
    let qtype = qtype.unwrap_or(if name.is_none() { 2 } else { 1 });
    let name = fqdn(&name.unwrap_or_else(|| ".".into()));
    let mut conf = ResolvConf::load();
    if let Some(t) = timeout {
        conf.timeout = Duration::from_secs(t);
    }
    let server_sa = match &server {
        Some(s) => match server_addr(s, port) {
            Ok(sa) => Some(sa),
            Err(e) => return fail("dig", e),
        },
        None if port != 53 => Some(SocketAddr::new(conf.nameservers[0], port)),
        None => None,
    };
    let started = Instant::now();
    let (msg, srv, via_tcp) = match query(&conf, server_sa, &name, qtype, tcp) {
        Ok(r) => r,
        Err(e) => {
            println!(";; communications error: {e}");
            println!(";; no servers could be reached");
            return 9;
        }
    };
    let elapsed = started.elapsed();
    if short {
        for r in &msg.answers {
            println!("{}", r.data);
        }
        return 0;
    }
    emit(&format_dig(&argv, &msg, srv, via_tcp, elapsed, show));
    0
}

/// Which parts of a reply dig prints (`+[no]comments`, `+[no]answer`, ...).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DigShow {
    /// Header and section titles (`+comments`).
    pub comments: bool,
    /// Question section.
    pub question: bool,
    /// Answer section.
    pub answer: bool,
    /// Authority section.
    pub authority: bool,
    /// Additional section.
    pub additional: bool,
    /// Query time, server and size (`+stats`).
    pub stats: bool,
}

impl Default for DigShow {
    fn default() -> Self {
        DigShow::all(true)
    }
}

impl DigShow {
    fn all(on: bool) -> Self {
        DigShow {
            comments: on,
            question: on,
            answer: on,
            authority: on,
            additional: on,
            stats: on,
        }
    }

    /// Applies one `+option` (without the `+`); false when unknown.
    pub fn apply(&mut self, opt: &str) -> bool {
        let (on, name) = match opt.strip_prefix("no") {
            Some(n) => (false, n),
            None => (true, opt),
        };
        match name {
            "all" => *self = DigShow::all(on),
            "comments" | "cmd" => self.comments = on,
            "question" => self.question = on,
            "answer" => self.answer = on,
            "authority" => self.authority = on,
            "additional" => self.additional = on,
            "stats" => self.stats = on,
            _ => return false,
        }
        true
    }
}

fn section(out: &mut String, title: &str, recs: &[Record], comments: bool) {
    if recs.is_empty() {
        return;
    }
    if comments {
        let _ = writeln!(out, "\n;; {title} SECTION:");
    }
    for r in recs {
        let class = if r.class == 1 {
            "IN".to_string()
        } else {
            format!("CLASS{}", r.class)
        };
        let _ = writeln!(
            out,
            "{}\t\t{}\t{}\t{}\t{}",
            r.name,
            r.ttl,
            class,
            type_name(r.rtype),
            r.data
        );
    }
}

/// Formats a reply as dig does (header, sections, statistics).
pub fn format_dig(
    argv: &[String],
    m: &Message,
    server: SocketAddr,
    tcp: bool,
    elapsed: Duration,
    show: DigShow,
) -> String {
    let mut out = String::new();
    if show.comments {
        let _ = writeln!(out, "\n; <<>> cdbg dig <<>> {}", argv.join(" "));
        out.push_str(";; Got answer:\n");
        let _ = writeln!(
            out,
            ";; ->>HEADER<<- opcode: QUERY, status: {}, id: {}",
            rcode_name(m.rcode()),
            m.id
        );
        let mut flags = Vec::new();
        for (bit, n) in [
            (0x8000, "qr"),
            (0x0400, "aa"),
            (0x0200, "tc"),
            (0x0100, "rd"),
            (0x0080, "ra"),
        ] {
            if m.flags & bit != 0 {
                flags.push(n);
            }
        }
        let _ = writeln!(
            out,
            ";; flags: {}; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}",
            flags.join(" "),
            m.questions.len(),
            m.answers.len(),
            m.authority.len(),
            m.additional.len()
        );
    }
    if show.question && !m.questions.is_empty() {
        if show.comments {
            out.push_str("\n;; QUESTION SECTION:\n");
        }
        for (n, t, _) in &m.questions {
            let _ = writeln!(out, ";{n}\t\t\tIN\t{}", type_name(*t));
        }
    }
    if show.answer {
        section(&mut out, "ANSWER", &m.answers, show.comments);
    }
    if show.authority {
        section(&mut out, "AUTHORITY", &m.authority, show.comments);
    }
    if show.additional {
        section(&mut out, "ADDITIONAL", &m.additional, show.comments);
    }
    if show.stats {
        let _ = writeln!(out, "\n;; Query time: {} msec", elapsed.as_millis());
        let _ = writeln!(
            out,
            ";; SERVER: {}#{}({}) ({})",
            server.ip(),
            server.port(),
            server.ip(),
            if tcp { "TCP" } else { "UDP" }
        );
        let _ = writeln!(out, ";; MSG SIZE  rcvd: {}\n", m.size);
    }
    out
}

const NSLOOKUP_HELP: &str = "\
Usage: nslookup [-type=TYPE] [-port=PORT] [-timeout=SECS] [-vc] NAME|ADDR [SERVER]
Look NAME up (A and AAAA by default; PTR for an address) with the
nameservers of /etc/resolv.conf, or SERVER.
";

/// Entry point of `nslookup`.
pub fn nslookup_main(args: Vec<OsString>) -> i32 {
    let argv: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into())
        .collect();
    let mut qtype = None;
    let mut port = 53u16;
    let mut tcp = false;
    let mut timeout = None;
    let mut pos = Vec::new();
    for a in &argv {
        if a == "-h" || a == "--help" || a == "-help" {
            print!("{NSLOOKUP_HELP}");
            return 0;
        } else if let Some(t) = a
            .strip_prefix("-type=")
            .or_else(|| a.strip_prefix("-query="))
        {
            match type_code(t) {
                Some(t) => qtype = Some(t),
                None => return fail("nslookup", format!("unknown query type {t}")),
            }
        } else if let Some(p) = a.strip_prefix("-port=") {
            match p.parse() {
                Ok(p) => port = p,
                Err(_) => return fail("nslookup", format!("bad port {p}")),
            }
        } else if let Some(t) = a.strip_prefix("-timeout=") {
            timeout = t.parse().ok();
        } else if a == "-vc" {
            tcp = true;
        } else if a.starts_with('-') {
            return fail(
                "nslookup",
                format!("unknown option {a} (try nslookup --help)"),
            );
        } else {
            pos.push(a.clone());
        }
    }
    let Some(target) = pos.first() else {
        eprint!("{NSLOOKUP_HELP}");
        return 1;
    };
    let mut conf = ResolvConf::load();
    if let Some(t) = timeout {
        conf.timeout = Duration::from_secs(t);
    }
    let server = match pos.get(1) {
        Some(s) => match server_addr(s, port) {
            Ok(sa) => sa,
            Err(e) => return fail("nslookup", e),
        },
        None => SocketAddr::new(conf.nameservers[0], port),
    };
    let (names, types): (Vec<String>, Vec<u16>) = match target.parse::<IpAddr>() {
        Ok(ip) => (vec![reverse_name(ip)], vec![12]),
        Err(_) => {
            let t = qtype.map(|t| vec![t]).unwrap_or_else(|| vec![1, 28]);
            (conf.candidates(target).iter().map(|c| fqdn(c)).collect(), t)
        }
    };
    println!("Server:\t\t{}", server.ip());
    println!("Address:\t{}#{}\n", server.ip(), server.port());
    let mut last_rcode = 0;
    for name in &names {
        let mut answers = Vec::new();
        let mut authoritative = false;
        let mut failed = None;
        for &t in &types {
            match query(&conf, Some(server), name, t, tcp) {
                Ok((m, _, _)) => {
                    last_rcode = m.rcode();
                    authoritative |= m.authoritative();
                    answers.extend(m.answers);
                }
                Err(e) => failed = Some(e),
            }
        }
        if answers.is_empty() {
            if let Some(e) = failed {
                println!(";; connection timed out; no servers could be reached ({e})");
                return 1;
            }
            continue;
        }
        if !authoritative {
            println!("Non-authoritative answer:");
        }
        for r in &answers {
            let owner = r.name.trim_end_matches('.');
            match &r.data {
                RData::A(a) => println!("Name:\t{owner}\nAddress: {a}"),
                RData::Aaaa(a) => println!("Name:\t{owner}\nAddress: {a}"),
                RData::Name(n) if r.rtype == 5 => println!("{owner}\tcanonical name = {n}"),
                RData::Name(n) if r.rtype == 2 => println!("{owner}\tnameserver = {n}"),
                RData::Name(n) => println!("{owner}\tname = {n}"),
                RData::Mx(p, n) => println!("{owner}\tmail exchanger = {p} {n}"),
                RData::Txt(_) => println!("{owner}\ttext = {}", r.data),
                other => println!("{owner}\t{} = {other}", type_name(r.rtype).to_lowercase()),
            }
        }
        println!();
        return 0;
    }
    let status = if last_rcode == 0 {
        "No answer".to_string()
    } else {
        rcode_name(last_rcode)
    };
    println!(
        "** server can't find {}: {status}\n",
        target.trim_end_matches('.')
    );
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_answer_round_trip() {
        let q = build_query(0x1234, "example.com", 16).unwrap();
        let m = parse(&q).unwrap();
        assert_eq!(m.id, 0x1234);
        assert_eq!(m.questions, vec![("example.com.".to_string(), 16, 1)]);

        // An answer with a compressed owner name and two TXT strings.
        let mut a = q.clone();
        a[2] = 0x81;
        a[3] = 0x80;
        a[7] = 2; // ANCOUNT
        a.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 8]);
        a.extend_from_slice(&[3, b'a', b'=', b'b', 3, b'c', b'"', b'd']);
        a.extend_from_slice(&[
            0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 6, 0, 10, 2, b'm', b'x', 0,
        ]);
        let m = parse(&a).unwrap();
        assert_eq!(m.answers.len(), 2);
        assert_eq!(m.answers[0].data.to_string(), "\"a=b\" \"c\\\"d\"");
        assert_eq!(m.answers[1].data.to_string(), "10 mx.");
        assert_eq!(m.answers[1].name, "example.com.");
    }

    #[test]
    fn resolv_conf_and_hosts() {
        let c = ResolvConf::parse(
            "# c\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nsearch svc.local local\noptions ndots:5 timeout:2\n",
        );
        assert_eq!(c.nameservers.len(), 2);
        assert_eq!(c.ndots, 5);
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(c.candidates("db")[0], "db.svc.local");
        assert_eq!(c.candidates("db.").len(), 1);
        let h = "127.0.0.1 localhost\n10.1.2.3 db db.local # x\n";
        assert_eq!(
            hosts_lookup(h, "DB"),
            vec!["10.1.2.3".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            reverse_name("10.1.2.3".parse().unwrap()),
            "3.2.1.10.in-addr.arpa."
        );
    }
}
