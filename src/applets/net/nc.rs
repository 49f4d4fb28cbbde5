//! `nc`: connect to or listen on a TCP/UDP port and relay stdin/stdout,
//! or check whether ports are open (`-z`). One thread, poll(2)-driven,
//! with a half-close (shutdown SHUT_WR) when stdin ends.

use std::ffi::OsString;
use std::io::{self, IsTerminal, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket,
};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use clap::Parser;
use rustix::event::{poll, PollFd, PollFlags, Timespec};

use super::{dns, parse_args};

/// nc - TCP/UDP connect, listen and relay (cdbg's bundled netcat)
///
///   nc HOST PORT            connect, relay stdin/stdout
///   nc -l [-p] PORT         listen for one connection
///   nc -z [-v] HOST PORT[-PORT]   check ports without sending data
#[derive(Parser, Debug)]
#[command(name = "nc", disable_version_flag = true)]
struct NcArgs {
    /// Listen for an incoming connection
    #[arg(short = 'l')]
    listen: bool,
    /// Port to listen on (with -l) or to send from
    #[arg(short = 'p', value_name = "PORT")]
    port: Option<u16>,
    /// Local source address to bind
    #[arg(short = 's', value_name = "ADDR")]
    source: Option<IpAddr>,
    /// UDP instead of TCP
    #[arg(short = 'u')]
    udp: bool,
    /// Zero-I/O mode: only report whether ports are open
    #[arg(short = 'z')]
    zero: bool,
    /// Timeout in seconds for connects and for idle connections
    #[arg(short = 'w', value_name = "SECS")]
    wait: Option<f64>,
    /// Verbose: report connections on stderr
    #[arg(short = 'v')]
    verbose: bool,
    /// With -l: accept another connection when one ends
    #[arg(short = 'k')]
    keep: bool,
    /// Quit SECS seconds after stdin ends (0: at once)
    #[arg(short = 'q', value_name = "SECS")]
    quit: Option<f64>,
    /// Numeric addresses only (no DNS)
    #[arg(short = 'n')]
    numeric: bool,
    /// IPv4 only
    #[arg(short = '4')]
    ipv4: bool,
    /// IPv6 only
    #[arg(short = '6')]
    ipv6: bool,
    /// HOST and PORT (or just PORT with -l)
    #[arg(value_name = "HOST PORT")]
    rest: Vec<String>,
}

/// Entry point of `nc`.
pub fn main(args: Vec<OsString>) -> i32 {
    let a: NcArgs = match parse_args(args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let res = if a.listen { listen(&a) } else { connect(&a) };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nc: {e}");
            1
        }
    }
}

fn wait_of(a: &NcArgs) -> Option<Duration> {
    a.wait.filter(|w| *w > 0.0).map(Duration::from_secs_f64)
}

fn resolve(a: &NcArgs, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let addrs = if a.numeric {
        let ip: IpAddr = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| io::Error::other(format!("{host}: not a numeric address (-n)")))?;
        vec![SocketAddr::new(ip, port)]
    } else {
        dns::socket_addrs(host, port)?
    };
    let addrs: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|s| !(a.ipv4 && s.is_ipv6() || a.ipv6 && s.is_ipv4()))
        .collect();
    if addrs.is_empty() {
        return Err(io::Error::other(format!(
            "{host}: no address of the requested family"
        )));
    }
    Ok(addrs)
}

fn parse_ports(spec: &str) -> io::Result<Vec<u16>> {
    let bad = || io::Error::other(format!("invalid port or range: {spec}"));
    match spec.split_once('-') {
        Some((lo, hi)) => {
            let lo: u16 = lo.parse().map_err(|_| bad())?;
            let hi: u16 = hi.parse().map_err(|_| bad())?;
            if lo > hi {
                return Err(bad());
            }
            Ok((lo..=hi).collect())
        }
        None => Ok(vec![spec.parse().map_err(|_| bad())?]),
    }
}

fn connect(a: &NcArgs) -> io::Result<i32> {
    let (Some(host), Some(port_spec)) = (a.rest.first(), a.rest.get(1)) else {
        return Err(io::Error::other(
            "usage: nc [options] HOST PORT (see nc --help)",
        ));
    };
    let ports = parse_ports(port_spec)?;
    if a.zero {
        return scan(a, host, &ports);
    }
    if ports.len() != 1 {
        return Err(io::Error::other("a port range needs -z"));
    }
    let port = ports[0];
    let addrs = resolve(a, host, port)?;
    let proto = if a.udp { "udp" } else { "tcp" };
    if a.udp {
        let target = addrs[0];
        let sock = UdpSocket::bind(bind_addr(a, target.is_ipv6()))?;
        sock.connect(target)?;
        if a.verbose {
            eprintln!("Connection to {host} {port} port [{proto}/*] succeeded!");
        }
        return relay(Conn::Udp(sock), a, false);
    }
    let mut last = None;
    for addr in &addrs {
        match tcp_connect(a, *addr) {
            Ok(s) => {
                if a.verbose {
                    eprintln!("Connection to {host} {port} port [{proto}/*] succeeded!");
                }
                return relay(Conn::Tcp(s), a, false);
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    let (addr, e) = last.expect("at least one address");
    Err(io::Error::new(
        e.kind(),
        format!(
            "connect to {} port {} ({proto}) failed: {e}",
            addr.ip(),
            port
        ),
    ))
}

fn bind_addr(a: &NcArgs, v6: bool) -> SocketAddr {
    let ip = a.source.unwrap_or(if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    });
    SocketAddr::new(ip, a.port.unwrap_or(0))
}

fn tcp_connect(a: &NcArgs, addr: SocketAddr) -> io::Result<TcpStream> {
    if a.source.is_some() || a.port.is_some() {
        // std cannot bind before connect; a source address needs rustix.
        use rustix::net::{bind, connect, socket, AddressFamily, SocketType};
        let fam = if addr.is_ipv6() {
            AddressFamily::INET6
        } else {
            AddressFamily::INET
        };
        let fd = socket(fam, SocketType::STREAM, None)?;
        rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
        bind(&fd, &bind_addr(a, addr.is_ipv6()))?;
        connect(&fd, &addr)?;
        return Ok(TcpStream::from(fd));
    }
    match wait_of(a) {
        Some(w) => TcpStream::connect_timeout(&addr, w),
        None => TcpStream::connect(addr),
    }
}

fn scan(a: &NcArgs, host: &str, ports: &[u16]) -> io::Result<i32> {
    let proto = if a.udp { "udp" } else { "tcp" };
    let timeout = wait_of(a).unwrap_or(Duration::from_secs(5));
    let mut any_open = false;
    for &port in ports {
        let addrs = resolve(a, host, port)?;
        let mut result = Err(io::Error::other("no address"));
        for addr in &addrs {
            result = if a.udp {
                udp_probe(*addr, timeout)
            } else {
                TcpStream::connect_timeout(addr, timeout).map(|_| ())
            };
            if result.is_ok() {
                break;
            }
        }
        match result {
            Ok(()) => {
                any_open = true;
                if a.verbose {
                    eprintln!("Connection to {host} {port} port [{proto}/*] succeeded!");
                }
            }
            Err(e) => {
                if a.verbose || ports.len() == 1 {
                    eprintln!("nc: connect to {host} port {port} ({proto}) failed: {e}");
                }
            }
        }
    }
    Ok(if any_open { 0 } else { 1 })
}

/// A UDP port counts as open unless an ICMP port-unreachable comes back
/// (as ECONNREFUSED) within the timeout.
fn udp_probe(addr: SocketAddr, timeout: Duration) -> io::Result<()> {
    let bind: SocketAddr = if addr.is_ipv6() {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let s = UdpSocket::bind(bind)?;
    s.connect(addr)?;
    s.send(&[])?;
    s.set_read_timeout(Some(timeout.min(Duration::from_secs(1))))?;
    let mut buf = [0u8; 1];
    match s.recv(&mut buf) {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn listen(a: &NcArgs) -> io::Result<i32> {
    // Forms: -l -p PORT, -l PORT, -l ADDR PORT.
    let (addr_s, port) = match (a.rest.as_slice(), a.port) {
        ([], Some(p)) => (None, p),
        ([p], None) => (
            None,
            p.parse()
                .map_err(|_| io::Error::other(format!("invalid port {p}")))?,
        ),
        ([h], Some(p)) => (Some(h.clone()), p),
        ([h, p], None) => (
            Some(h.clone()),
            p.parse()
                .map_err(|_| io::Error::other(format!("invalid port {p}")))?,
        ),
        _ => return Err(io::Error::other("usage: nc -l [-p] PORT (see nc --help)")),
    };
    let ip = match (&addr_s, a.source) {
        (Some(h), _) => resolve(a, h, port)?[0].ip(),
        (None, Some(s)) => s,
        (None, None) if a.ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        (None, None) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    let local = SocketAddr::new(ip, port);
    if a.udp {
        let sock = UdpSocket::bind(local)
            .map_err(|e| io::Error::new(e.kind(), format!("bind to {local} (udp): {e}")))?;
        if a.verbose {
            eprintln!("Bound on {} {}", local.ip(), sock.local_addr()?.port());
        }
        let mut buf = vec![0u8; 65536];
        let (n, peer) = sock.recv_from(&mut buf)?;
        sock.connect(peer)?;
        if a.verbose {
            eprintln!("Connection received on {} {}", peer.ip(), peer.port());
        }
        let mut out = io::stdout().lock();
        out.write_all(&buf[..n])?;
        out.flush()?;
        drop(out);
        return relay(Conn::Udp(sock), a, true);
    }
    let l = TcpListener::bind(local)
        .map_err(|e| io::Error::new(e.kind(), format!("bind to {local} (tcp): {e}")))?;
    if a.verbose {
        eprintln!("Listening on {} {}", local.ip(), l.local_addr()?.port());
    }
    loop {
        let (s, peer) = l.accept()?;
        if a.verbose {
            eprintln!("Connection received on {} {}", peer.ip(), peer.port());
        }
        let code = relay(Conn::Tcp(s), a, true)?;
        if !a.keep {
            return Ok(code);
        }
    }
}

enum Conn {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

impl Conn {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Conn::Tcp(s) => s.as_fd(),
            Conn::Udp(s) => s.as_fd(),
        }
    }
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).read(buf),
            Conn::Udp(s) => s.recv(buf),
        }
    }
    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).write(buf),
            Conn::Udp(s) => s.send(buf),
        }
    }
    fn shutdown_write(&self) {
        if let Conn::Tcp(s) = self {
            let _ = s.shutdown(Shutdown::Write);
        }
    }
}

/// Relays stdin → connection and connection → stdout until both
/// directions are done. stdin EOF half-closes the connection; the relay
/// ends when the peer has closed too (or as soon as the peer closes when
/// stdin is a terminal, or with -k, where the next client waits). `-w`
/// ends an idle relay; for UDP, which has no EOF, it (or -q) is the only
/// end once stdin is done.
fn relay(conn: Conn, a: &NcArgs, listening: bool) -> io::Result<i32> {
    let end_on_peer_eof = listening && a.keep;
    let udp = matches!(conn, Conn::Udp(_));
    match &conn {
        Conn::Tcp(s) => s.set_nonblocking(true)?,
        Conn::Udp(s) => s.set_nonblocking(true)?,
    }
    let stdin = io::stdin();
    let stdin_tty = stdin.is_terminal();
    let stdin_fd = stdin.as_fd();
    let mut stdout = io::stdout().lock();
    let idle = wait_of(a);
    let mut stdin_open = true;
    let mut net_in_open = true;
    let mut net_out_open = true;
    let mut pending: Vec<u8> = Vec::new();
    let mut pending_off = 0;
    let mut shut = false;
    let mut buf = vec![0u8; 65536];
    let mut last_activity = Instant::now();
    let quit_after = a.quit.map(|q| Duration::from_secs_f64(q.max(0.0)));
    let mut stdin_done_at: Option<Instant> = None;
    loop {
        if let (Some(q), Some(t)) = (quit_after, stdin_done_at) {
            if t.elapsed() >= q && pending_off == pending.len() {
                break;
            }
        }
        if !net_in_open
            && (!stdin_open || stdin_tty || end_on_peer_eof || !net_out_open)
            && pending_off == pending.len()
        {
            break;
        }
        let mut timeout = idle.map(|w| w.saturating_sub(last_activity.elapsed()));
        if let (Some(q), Some(t)) = (quit_after, stdin_done_at) {
            let left = q.saturating_sub(t.elapsed());
            timeout = Some(timeout.map_or(left, |w| w.min(left)));
        }
        if timeout.is_some_and(|t| t.is_zero()) && stdin_done_at.is_none_or(|_| idle.is_some()) {
            break;
        }
        let want_stdin = stdin_open && net_out_open && pending_off == pending.len();
        let mut net_flags = PollFlags::empty();
        if net_in_open {
            net_flags |= PollFlags::IN;
        }
        if pending_off < pending.len() {
            net_flags |= PollFlags::OUT;
        }
        let mut fds = vec![PollFd::from_borrowed_fd(conn.fd(), net_flags)];
        if want_stdin {
            fds.push(PollFd::from_borrowed_fd(stdin_fd, PollFlags::IN));
        }
        let ts = timeout.map(|t| Timespec {
            tv_sec: t.as_secs() as i64,
            tv_nsec: t.subsec_nanos() as i64,
        });
        match poll(&mut fds, ts.as_ref()) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let net_rev = fds[0].revents();
        let in_rev = fds
            .get(1)
            .map(|f| f.revents())
            .unwrap_or(PollFlags::empty());

        if net_rev.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) && net_in_open {
            match conn.recv(&mut buf) {
                Ok(0) if !udp => net_in_open = false,
                Ok(n) => {
                    stdout.write_all(&buf[..n])?;
                    stdout.flush()?;
                    last_activity = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused && udp => {
                    // ICMP port unreachable from the peer: nothing listens.
                    return Err(io::Error::new(e.kind(), format!("udp peer: {e}")));
                }
                Err(_) => {
                    net_in_open = false;
                    net_out_open = false;
                }
            }
        }
        if net_rev.contains(PollFlags::OUT) && pending_off < pending.len() {
            match conn.send(&pending[pending_off..]) {
                Ok(n) => {
                    pending_off += n;
                    last_activity = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    net_out_open = false;
                    pending_off = pending.len();
                }
            }
        }
        if in_rev.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            // Unbuffered read(2): a buffered reader would hide data from poll.
            match rustix::io::read(stdin_fd, &mut buf[..]).map_err(io::Error::from) {
                Ok(0) => stdin_open = false,
                Ok(n) => {
                    pending.clear();
                    pending.extend_from_slice(&buf[..n]);
                    pending_off = 0;
                    last_activity = Instant::now();
                    // Try right away; poll picks up the rest.
                    match conn.send(&pending) {
                        Ok(m) => pending_off = m,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(_) => {
                            net_out_open = false;
                            pending_off = pending.len();
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => stdin_open = false,
            }
        }
        if !stdin_open && pending_off == pending.len() && !shut {
            conn.shutdown_write();
            shut = true;
            stdin_done_at = Some(Instant::now());
        }
    }
    stdout.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        assert_eq!(parse_ports("80").unwrap(), vec![80]);
        assert_eq!(parse_ports("20-22").unwrap(), vec![20, 21, 22]);
        assert!(parse_ports("22-20").is_err());
        assert!(parse_ports("x").is_err());
    }
}
