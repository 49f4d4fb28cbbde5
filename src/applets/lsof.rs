//! `lsof`: open files per process, from /proc/PID/{cwd,root,exe,maps,fd,
//! fdinfo}; sockets resolved through /proc/PID/net/{tcp,tcp6,udp,udp6,unix}
//! (read once per network namespace). Output follows `lsof -nP` (numeric
//! addresses and ports).

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::net::IpAddr;

use rustix::fs::FileType;

use super::net::ss::proc_addr;
use super::procfs::{fail, start, Names, ProcRoot, Process};
use super::table::{Align, Table};

const HELP: &str = "\
Usage: lsof [OPTIONS] [FILE...]
List open files (numeric addresses and ports, like lsof -nP).

  -p LIST      only these PIDs (comma-separated)
  -u LIST      only processes of these users (names or UIDs)
  -c PREFIX    only commands starting with PREFIX
  -i [SPEC]    only Internet sockets; SPEC = [4|6][tcp|udp][:PORT]
  -U           only Unix sockets
  -a           AND the selections (default: OR, as lsof)
  -t           print PIDs only
  -n, -P, -l   accepted (output is always numeric)
  FILE         only processes that have FILE open
  --help       this text
";

/// What a socket inode is, from the net tables.
#[derive(Clone, Debug)]
struct Sock {
    /// TYPE column: IPv4, IPv6, unix.
    kind: &'static str,
    /// NODE column for inet sockets: TCP/UDP; empty for unix.
    proto: &'static str,
    /// DEVICE column (unix: kernel address).
    device: Option<String>,
    /// NAME column.
    name: String,
}

const TCP_STATES: [&str; 12] = [
    "",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "CLOSING",
];

/// `0100007F:1F90` → `127.0.0.1:8080` (`*:8080` for the any address); the
/// address must be of the family `v6` says.
fn inet_addr(s: &str, v6: bool) -> Option<(String, u16, bool)> {
    let (ip, port) = proc_addr(s).filter(|(ip, _)| ip.is_ipv6() == v6)?;
    let text = match ip {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let any = ip.is_unspecified();
    Some((if any { "*".into() } else { text }, port, any && port == 0))
}

/// Parses /proc/net/{tcp,udp}{,6} into inode → socket.
fn parse_inet(text: &str, v6: bool, tcp: bool, out: &mut HashMap<u64, Sock>) {
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let (Some((la, lp, _)), Some((ra, rp, r_any))) = (inet_addr(f[1], v6), inet_addr(f[2], v6))
        else {
            continue;
        };
        let Ok(inode) = f[9].parse::<u64>() else {
            continue;
        };
        let mut name = format!("{la}:{lp}");
        if !r_any {
            name.push_str(&format!("->{ra}:{rp}"));
        }
        if tcp {
            let st = usize::from_str_radix(f[3], 16).unwrap_or(0);
            if let Some(s) = TCP_STATES.get(st).filter(|s| !s.is_empty()) {
                name.push_str(&format!(" ({s})"));
            }
        }
        out.insert(
            inode,
            Sock {
                kind: if v6 { "IPv6" } else { "IPv4" },
                proto: if tcp { "TCP" } else { "UDP" },
                device: None,
                name,
            },
        );
    }
}

/// Parses /proc/net/unix into inode → socket.
fn parse_unix(text: &str, out: &mut HashMap<u64, Sock>) {
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 7 {
            continue;
        }
        let Ok(inode) = f[6].parse::<u64>() else {
            continue;
        };
        let ty = match f[4] {
            "0001" => "STREAM",
            "0002" => "DGRAM",
            "0005" => "SEQPACKET",
            _ => "?",
        };
        let flags = u32::from_str_radix(f[3], 16).unwrap_or(0);
        let state = match (flags & 0x10000 != 0, f[5]) {
            (true, _) => " (LISTEN)",
            (_, "03") => " (CONNECTED)",
            _ => "",
        };
        let path = f.get(7..).map(|p| p.join(" ")).unwrap_or_default();
        let name = if path.is_empty() {
            format!("type={ty}{state}")
        } else {
            format!("{path} type={ty}{state}")
        };
        out.insert(
            inode,
            Sock {
                kind: "unix",
                proto: "",
                device: Some(format!("0x{}", f[0].trim_end_matches(':'))),
                name,
            },
        );
    }
}

/// Socket tables of the network namespace that `pid` is in.
fn net_tables(proc: &ProcRoot, pid: i32) -> HashMap<u64, Sock> {
    let mut m = HashMap::new();
    for (file, v6, tcp) in [
        ("tcp", false, true),
        ("tcp6", true, true),
        ("udp", false, false),
        ("udp6", true, false),
    ] {
        if let Ok(t) = proc.read_string(&format!("{pid}/net/{file}")) {
            parse_inet(&t, v6, tcp, &mut m);
        }
    }
    if let Ok(t) = proc.read_string(&format!("{pid}/net/unix")) {
        parse_unix(&t, &mut m);
    }
    m
}

#[derive(Default)]
struct InetSpec {
    family: Option<&'static str>,
    proto: Option<&'static str>,
    port: Option<u16>,
}

fn parse_inet_spec(s: &str) -> Result<InetSpec, String> {
    let mut sp = InetSpec::default();
    let mut rest = s;
    if let Some(r) = rest.strip_prefix('4') {
        sp.family = Some("IPv4");
        rest = r;
    } else if let Some(r) = rest.strip_prefix('6') {
        sp.family = Some("IPv6");
        rest = r;
    }
    let (proto, port) = match rest.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let proto = proto.split('@').next().unwrap_or("");
    sp.proto = match proto.to_ascii_lowercase().as_str() {
        "" => None,
        "tcp" => Some("TCP"),
        "udp" => Some("UDP"),
        _ => return Err(format!("unsupported -i protocol: {proto}")),
    };
    if let Some(p) = port {
        sp.port = Some(p.parse().map_err(|_| format!("bad -i port: {p}"))?);
    }
    Ok(sp)
}

struct Opts {
    pids: Vec<i32>,
    users: Vec<String>,
    cmds: Vec<String>,
    inet: Option<InetSpec>,
    unix: bool,
    and: bool,
    terse: bool,
    files: Vec<String>,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        pids: vec![],
        users: vec![],
        cmds: vec![],
        inet: None,
        unix: false,
        and: false,
        terse: false,
        files: vec![],
    };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let mut value = |inline: &str| -> Result<String, String> {
            if !inline.is_empty() {
                return Ok(inline.to_string());
            }
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("option {a} needs an argument"))
        };
        match a.as_str() {
            s if s.starts_with("-p") => {
                for p in value(&s[2..])?.split(',').filter(|x| !x.is_empty()) {
                    o.pids.push(p.parse().map_err(|_| format!("bad PID: {p}"))?);
                }
            }
            s if s.starts_with("-u") => {
                o.users.extend(value(&s[2..])?.split(',').map(String::from))
            }
            s if s.starts_with("-c") => o.cmds.push(value(&s[2..])?),
            s if s.starts_with("-i") => {
                // -i takes an optional argument: inline, or the next word
                // when it looks like a spec.
                let spec = if s.len() > 2 {
                    s[2..].to_string()
                } else if args.get(i + 1).is_some_and(|n| {
                    !n.starts_with('-') && !n.starts_with('/') && !n.starts_with('.')
                }) {
                    i += 1;
                    args[i].clone()
                } else {
                    String::new()
                };
                o.inet = Some(parse_inet_spec(&spec)?);
            }
            "-U" => o.unix = true,
            "-a" => o.and = true,
            "-t" => o.terse = true,
            "-n" | "-P" | "-l" | "-nP" | "-Pn" | "-w" | "-b" => {}
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            s => o.files.push(s.to_string()),
        }
        i += 1;
    }
    Ok(o)
}

/// One output line.
struct Row {
    fd: String,
    ty: String,
    device: String,
    size: String,
    node: String,
    name: String,
    /// For selections.
    dev_ino: Option<(u64, u64)>,
    sock: Option<Sock>,
    port: Option<u16>,
}

fn devno(d: u64) -> String {
    format!("{},{}", rustix::fs::major(d), rustix::fs::minor(d))
}

fn type_name(ft: FileType) -> &'static str {
    match ft {
        FileType::RegularFile => "REG",
        FileType::Directory => "DIR",
        FileType::CharacterDevice => "CHR",
        FileType::BlockDevice => "BLK",
        FileType::Fifo => "FIFO",
        FileType::Socket => "sock",
        FileType::Symlink => "LINK",
        _ => "unknown",
    }
}

/// A row for a path-like entry (cwd, rtd, txt, numbered fds).
fn file_row(
    proc: &ProcRoot,
    pid: i32,
    rel: &str,
    fd: String,
    offset: Option<u64>,
    socks: &HashMap<u64, Sock>,
) -> Option<Row> {
    let link = proc.readlink(&format!("{pid}/{rel}")).ok()?;
    let link = link.to_string_lossy().into_owned();
    let st = proc.stat(&format!("{pid}/{rel}"));
    let Ok(st) = st else {
        // e.g. anon inodes we may not stat, or a vanished fd.
        let (ty, name) = match link.strip_prefix("anon_inode:") {
            Some(n) => ("a_inode", n.to_string()),
            None => ("unknown", link),
        };
        return Some(Row {
            fd,
            ty: ty.into(),
            device: String::new(),
            size: String::new(),
            node: String::new(),
            name,
            dev_ino: None,
            sock: None,
            port: None,
        });
    };
    let ft = FileType::from_raw_mode(st.st_mode);
    let ino = st.st_ino;
    let mut r = Row {
        fd,
        ty: type_name(ft).into(),
        device: devno(st.st_dev),
        size: String::new(),
        node: ino.to_string(),
        name: link.clone(),
        dev_ino: Some((st.st_dev, ino)),
        sock: None,
        port: None,
    };
    match ft {
        FileType::RegularFile | FileType::Directory => r.size = st.st_size.to_string(),
        FileType::CharacterDevice | FileType::BlockDevice => {
            r.device = devno(st.st_rdev);
            r.size = format!("0t{}", offset.unwrap_or(0));
        }
        _ => r.size = format!("0t{}", offset.unwrap_or(0)),
    }
    if link.starts_with("pipe:[") {
        r.name = "pipe".into();
    }
    if let Some(n) = link.strip_prefix("anon_inode:") {
        r.ty = "a_inode".into();
        r.name = n.to_string();
    }
    if ft == FileType::Socket {
        r.size = "0t0".into();
        if let Some(s) = socks.get(&ino) {
            r.ty = s.kind.into();
            r.device = s.device.clone().unwrap_or_else(|| ino.to_string());
            if !s.proto.is_empty() {
                r.node = s.proto.into();
            }
            r.name = s.name.clone();
            r.port = s
                .name
                .split(['-', ' '])
                .next()
                .and_then(|l| l.rsplit(':').next())
                .and_then(|p| p.parse().ok());
            r.sock = Some(s.clone());
        } else {
            r.device = ino.to_string();
            r.name = format!("protocol: {}", link.trim_start_matches("socket:"));
        }
    }
    Some(r)
}

fn rows_of(proc: &ProcRoot, p: &Process, socks: &HashMap<u64, Sock>) -> Vec<Row> {
    let pid = p.pid;
    let mut rows = Vec::new();
    for (rel, fd) in [("cwd", "cwd"), ("root", "rtd"), ("exe", "txt")] {
        if let Some(r) = file_row(proc, pid, rel, fd.into(), None, socks) {
            rows.push(r);
        }
    }
    // Mapped files other than the executable, once each.
    let mut seen: HashSet<(String, u64)> = HashSet::new();
    if let Some(exe) = rows.iter().find(|r| r.fd == "txt") {
        if let Some((_, ino)) = exe.dev_ino {
            seen.insert((exe.name.clone(), ino));
        }
    }
    if let Ok(maps) = proc.read_string(&format!("{pid}/maps")) {
        for line in maps.lines() {
            let f: Vec<&str> = line.splitn(6, char::is_whitespace).collect();
            if f.len() < 6 {
                continue;
            }
            let path = f[5].trim_start();
            if !path.starts_with('/') {
                continue;
            }
            let ino: u64 = f[4].parse().unwrap_or(0);
            if ino == 0 || !seen.insert((path.to_string(), ino)) {
                continue;
            }
            let (ma, mi) = f[3].split_once(':').unwrap_or(("0", "0"));
            let dev = format!(
                "{},{}",
                u32::from_str_radix(ma, 16).unwrap_or(0),
                u32::from_str_radix(mi, 16).unwrap_or(0)
            );
            let size = proc
                .stat(&format!("{pid}/map_files/{}", f[0]))
                .map(|s| s.st_size.to_string())
                .unwrap_or_default();
            let deleted = path.ends_with(" (deleted)");
            rows.push(Row {
                fd: if deleted { "DEL" } else { "mem" }.into(),
                ty: "REG".into(),
                device: dev,
                size,
                node: ino.to_string(),
                name: path.to_string(),
                dev_ino: None,
                sock: None,
                port: None,
            });
        }
    }
    for fd in proc.fds(pid) {
        let info = proc
            .read_string(&format!("{pid}/fdinfo/{fd}"))
            .unwrap_or_default();
        let field = |k: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
        };
        let pos = field("pos:").and_then(|v| v.parse().ok());
        let mode = match field("flags:").and_then(|v| u32::from_str_radix(&v, 8).ok()) {
            Some(f) => match f & 3 {
                0 => "r",
                1 => "w",
                _ => "u",
            },
            None => "",
        };
        if let Some(r) = file_row(
            proc,
            pid,
            &format!("fd/{fd}"),
            format!("{fd}{mode}"),
            pos,
            socks,
        ) {
            rows.push(r);
        }
    }
    rows
}

/// Entry point of the `lsof` applet.
pub fn main(argv: Vec<OsString>) -> i32 {
    let (o, proc) = match start(
        &argv,
        "lsof",
        HELP,
        &["--help", "-h"],
        parse,
        "cannot open procfs",
    ) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let names = Names::load();
    let uids: Vec<u32> = o.users.iter().filter_map(|u| names.uid_of(u)).collect();
    let mut files: Vec<(u64, u64)> = Vec::new();
    for f in &o.files {
        match rustix::fs::stat(f.as_str()) {
            Ok(st) => files.push((st.st_dev, st.st_ino)),
            Err(e) => return fail("lsof", format!("status error on {f}: {e}"), 1),
        }
    }
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let mut net_by_ns: HashMap<String, HashMap<u64, Sock>> = HashMap::new();
    let mut t = Table::new();
    t.col("COMMAND", Align::Left)
        .col("PID", Align::Right)
        .col("USER", Align::Left)
        .col("FD", Align::Right)
        .col("TYPE", Align::Left)
        .col("DEVICE", Align::Right)
        .col("SIZE/OFF", Align::Right)
        .col("NODE", Align::Right)
        .col("NAME", Align::Left);
    let mut terse: Vec<i32> = Vec::new();
    for pid in proc.pids().unwrap_or_default() {
        if pid == me {
            continue;
        }
        let Ok(p) = proc.process(pid) else { continue };
        if p.is_kernel_thread() {
            continue;
        }
        // Process-level selections.
        let mut proc_sel = Vec::new();
        if !o.pids.is_empty() {
            proc_sel.push(o.pids.contains(&pid));
        }
        if !o.users.is_empty() {
            proc_sel.push(uids.contains(&p.euid));
        }
        if !o.cmds.is_empty() {
            proc_sel.push(o.cmds.iter().any(|c| p.comm.starts_with(c.as_str())));
        }
        // lsof: selections are OR'ed, or AND'ed with -a.
        let file_sel_given = o.inet.is_some() || o.unix || !files.is_empty();
        if (o.and || !file_sel_given) && !proc_sel.is_empty() {
            let pass = if o.and {
                proc_sel.iter().all(|s| *s)
            } else {
                proc_sel.iter().any(|s| *s)
            };
            if !pass {
                continue;
            }
        }
        let ns = proc
            .readlink(&format!("{pid}/ns/net"))
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_default();
        let socks = net_by_ns
            .entry(ns)
            .or_insert_with(|| net_tables(&proc, pid));
        for r in rows_of(&proc, &p, socks) {
            let mut sel = proc_sel.clone();
            if let Some(sp) = &o.inet {
                sel.push(r.sock.as_ref().is_some_and(|s| {
                    s.kind != "unix"
                        && sp.family.is_none_or(|f| f == s.kind)
                        && sp.proto.is_none_or(|pr| pr == s.proto)
                        && sp.port.is_none_or(|port| {
                            r.port == Some(port) || s.name.contains(&format!(":{port}"))
                        })
                }));
            }
            if o.unix {
                sel.push(r.sock.as_ref().is_some_and(|s| s.kind == "unix"));
            }
            if !files.is_empty() {
                sel.push(r.dev_ino.is_some_and(|d| files.contains(&d)));
            }
            let keep = sel.is_empty()
                || if o.and {
                    sel.iter().all(|s| *s)
                } else {
                    sel.iter().any(|s| *s)
                };
            if !keep {
                continue;
            }
            if o.terse {
                if terse.last() != Some(&pid) {
                    terse.push(pid);
                }
                continue;
            }
            t.row([
                p.comm.chars().take(9).collect::<String>(),
                pid.to_string(),
                names.user(p.euid),
                r.fd,
                r.ty,
                r.device,
                r.size,
                r.node,
                r.name,
            ]);
        }
    }
    if o.terse {
        for p in &terse {
            println!("{p}");
        }
        return if terse.is_empty() { 1 } else { 0 };
    }
    if t.is_empty() {
        return 1;
    }
    print!("{}", t.render());
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_tables() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 14891 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:1F90 0100007F:D6F5 01 00000000:00000000 00:00000000 00000000     0        0 14892 1\n";
        let mut m = HashMap::new();
        parse_inet(tcp, false, true, &mut m);
        assert_eq!(m[&14891].name, "127.0.0.1:8080 (LISTEN)");
        assert_eq!(
            m[&14892].name,
            "127.0.0.1:8080->127.0.0.1:55029 (ESTABLISHED)"
        );
        let tcp6 = "  sl\n   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0 0 0 0 0 777\n   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 0 0 0 0 0 778\n";
        parse_inet(tcp6, true, true, &mut m);
        assert_eq!(m[&777].name, "*:22 (LISTEN)");
        assert_eq!(m[&778].name, "[::1]:80 (LISTEN)");
        let unix = "Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/a b.sock\n";
        parse_unix(unix, &mut m);
        assert_eq!(m[&12345].name, "/run/a b.sock type=STREAM (LISTEN)");
    }

    #[test]
    fn specs() {
        let s = parse_inet_spec("4tcp:80").unwrap();
        assert_eq!(
            (s.family, s.proto, s.port),
            (Some("IPv4"), Some("TCP"), Some(80))
        );
        let s = parse_inet_spec(":53").unwrap();
        assert_eq!((s.family, s.proto, s.port), (None, None, Some(53)));
        assert!(parse_inet_spec("sctp").is_err());
    }
}
