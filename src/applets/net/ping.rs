//! `ping`: ICMP echo with iputils-like output. Uses an unprivileged ICMP
//! datagram socket (SOCK_DGRAM, IPPROTO_ICMP: allowed by
//! net.ipv4.ping_group_range, which Docker opens by default) and falls back
//! to a raw socket (needs CAP_NET_RAW). IPv4 and IPv6.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use clap::Parser;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::net::{connect, ipproto, send, socket, AddressFamily, SendFlags, SocketType};

use super::{dns, parse_args};
use crate::sys::net::{recv_with_ttl, set_recv_ttl};
use crate::sys::procs::{catch_signals, take_signals};

/// ping - send ICMP ECHO_REQUEST to network hosts (cdbg's bundled version)
#[derive(Parser, Debug)]
#[command(name = "ping", disable_version_flag = true)]
struct PingArgs {
    /// Stop after sending COUNT requests
    #[arg(short = 'c', value_name = "COUNT")]
    count: Option<u64>,
    /// Seconds between requests
    #[arg(short = 'i', value_name = "INTERVAL", default_value_t = 1.0)]
    interval: f64,
    /// Seconds to wait for each reply
    #[arg(short = 'W', value_name = "TIMEOUT", default_value_t = 10.0)]
    timeout: f64,
    /// Stop after DEADLINE seconds, whatever was sent
    #[arg(short = 'w', value_name = "DEADLINE")]
    deadline: Option<f64>,
    /// Quiet: only the summary
    #[arg(short = 'q')]
    quiet: bool,
    /// Payload size in bytes
    #[arg(short = 's', value_name = "SIZE", default_value_t = 56)]
    size: usize,
    /// IPv4 only
    #[arg(short = '4')]
    ipv4: bool,
    /// IPv6 only
    #[arg(short = '6')]
    ipv6: bool,
    /// Host name or address
    host: String,
}

/// An ICMP socket and how it frames packets.
struct Pinger {
    fd: OwnedFd,
    raw: bool,
    v6: bool,
    ident: u16,
}

impl Pinger {
    fn open(dest: IpAddr) -> io::Result<Pinger> {
        let v6 = dest.is_ipv6();
        let (fam, proto) = if v6 {
            (AddressFamily::INET6, ipproto::ICMPV6)
        } else {
            (AddressFamily::INET, ipproto::ICMP)
        };
        let (fd, raw) = match socket(fam, SocketType::DGRAM, Some(proto)) {
            Ok(fd) => (fd, false),
            Err(dgram_err) => match socket(fam, SocketType::RAW, Some(proto)) {
                Ok(fd) => (fd, true),
                Err(raw_err) => {
                    return Err(io::Error::other(format!(
                        "cannot open an ICMP socket: datagram: {dgram_err} \
                         (net.ipv4.ping_group_range), raw: {raw_err} (needs CAP_NET_RAW)"
                    )))
                }
            },
        };
        connect(&fd, &SocketAddr::new(dest, 0))?;
        // TTL for the "ttl=" field; raw IPv4 reads it from the IP header.
        let _ = set_recv_ttl(&fd, v6);
        let ident = (std::process::id() & 0xffff) as u16;
        Ok(Pinger { fd, raw, v6, ident })
    }

    fn send(&self, seq: u16, size: usize) -> io::Result<()> {
        let mut pkt = vec![0u8; 8 + size];
        pkt[0] = if self.v6 { 128 } else { 8 };
        pkt[4..6].copy_from_slice(&self.ident.to_be_bytes());
        pkt[6..8].copy_from_slice(&seq.to_be_bytes());
        for (i, b) in pkt[8..].iter_mut().enumerate() {
            *b = (i & 0xff) as u8;
        }
        // The kernel fills the checksum for ICMPv6 and ping sockets; raw
        // ICMPv4 needs it here.
        if !self.v6 {
            let c = checksum(&pkt);
            pkt[2..4].copy_from_slice(&c.to_be_bytes());
        }
        send(&self.fd, &pkt, SendFlags::empty())?;
        Ok(())
    }

    /// Receives one packet; returns (icmp bytes, seq, ttl) for an echo
    /// reply to us, None for anything else.
    fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, u16, Option<u32>)>> {
        let (n, cmsg_ttl) = recv_with_ttl(&self.fd, buf)?;
        let mut icmp = &buf[..n];
        let mut ttl = cmsg_ttl;
        if self.raw && !self.v6 {
            let ihl = ((icmp.first().copied().unwrap_or(0) & 0x0f) as usize) * 4;
            if icmp.len() < ihl + 8 {
                return Ok(None);
            }
            ttl = Some(icmp[8] as u32);
            icmp = &icmp[ihl..];
        }
        if icmp.len() < 8 {
            return Ok(None);
        }
        let reply_type = if self.v6 { 129 } else { 0 };
        if icmp[0] != reply_type {
            return Ok(None);
        }
        let id = u16::from_be_bytes([icmp[4], icmp[5]]);
        // Ping sockets rewrite the id to their port and filter for us.
        if self.raw && id != self.ident {
            return Ok(None);
        }
        Ok(Some((
            icmp.len(),
            u16::from_be_bytes([icmp[6], icmp[7]]),
            ttl,
        )))
    }
}

/// The Internet checksum (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += w as u32;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Round-trip statistics.
#[derive(Default, Debug)]
pub struct Stats {
    /// Requests sent.
    pub sent: u64,
    /// Replies received.
    pub received: u64,
    /// Round-trip times in milliseconds.
    pub rtts: Vec<f64>,
}

impl Stats {
    /// The iputils summary lines (without the "--- host ---" title).
    pub fn summary(&self, elapsed: Duration) -> String {
        let lost = self.sent - self.received.min(self.sent);
        let loss = (lost * 100).checked_div(self.sent).unwrap_or(0);
        let mut s = format!(
            "{} packets transmitted, {} received, {}% packet loss, time {}ms\n",
            self.sent,
            self.received,
            loss,
            elapsed.as_millis()
        );
        if !self.rtts.is_empty() {
            let n = self.rtts.len() as f64;
            let min = self.rtts.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = self.rtts.iter().cloned().fold(0.0, f64::max);
            let avg = self.rtts.iter().sum::<f64>() / n;
            let sq = self.rtts.iter().map(|t| t * t).sum::<f64>() / n;
            let mdev = (sq - avg * avg).max(0.0).sqrt();
            s.push_str(&format!(
                "rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms\n"
            ));
        }
        s
    }
}

/// Writes to stdout, flushed, reporting a closed reader as an error.
fn say(text: &str) -> io::Result<()> {
    use std::io::Write;
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Entry point of `ping`.
pub fn main(args: Vec<OsString>) -> i32 {
    let a: PingArgs = match parse_args(args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    match run(&a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ping: {e}");
            2
        }
    }
}

fn run(a: &PingArgs) -> io::Result<i32> {
    let ips =
        dns::resolve_host(&a.host).map_err(|e| io::Error::other(format!("{}: {e}", a.host)))?;
    let dest = ips
        .iter()
        .copied()
        .find(|ip| {
            if a.ipv6 {
                ip.is_ipv6()
            } else if a.ipv4 {
                ip.is_ipv4()
            } else {
                true
            }
        })
        .ok_or_else(|| {
            io::Error::other(format!("{}: no address of the requested family", a.host))
        })?;
    let pinger = Pinger::open(dest)?;
    // Ctrl-C ends the run with the summary, as iputils does.
    let _ = catch_signals(&[libc::SIGINT]);
    let hdr = if dest.is_ipv6() { 40 + 8 } else { 20 + 8 };
    println!(
        "PING {} ({dest}) {}({}) bytes of data.",
        a.host,
        a.size,
        a.size + hdr
    );

    let interval = Duration::from_secs_f64(a.interval.max(0.002));
    let wait = Duration::from_secs_f64(a.timeout.max(0.001));
    let start = Instant::now();
    let deadline = a.deadline.map(|d| start + Duration::from_secs_f64(d));
    let mut stats = Stats::default();
    let mut outstanding: HashMap<u16, Instant> = HashMap::new();
    let mut next_send = start;
    let mut last_send = start;
    let mut seq: u16 = 0;
    let mut buf = vec![0u8; 65536];
    loop {
        if take_signals() & (1 << libc::SIGINT) != 0 {
            break;
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            break;
        }
        let all_sent = a.count.is_some_and(|c| stats.sent >= c);
        if all_sent && (outstanding.is_empty() || now >= last_send + wait) {
            break;
        }
        if !all_sent && now >= next_send {
            seq = seq.wrapping_add(1);
            match pinger.send(seq, a.size) {
                Ok(()) => {
                    outstanding.insert(seq, Instant::now());
                }
                Err(e) => eprintln!("ping: sendmsg: {e}"),
            }
            stats.sent += 1;
            last_send = now;
            next_send += interval;
            continue;
        }
        let mut until = if all_sent {
            last_send + wait
        } else {
            next_send
        };
        if let Some(d) = deadline {
            until = until.min(d);
        }
        let left = until.saturating_duration_since(Instant::now());
        let ts = Timespec {
            tv_sec: left.as_secs() as i64,
            tv_nsec: left.subsec_nanos() as i64,
        };
        let mut fds = [PollFd::new(&pinger.fd, PollFlags::IN)];
        match poll(&mut fds, Some(&ts)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        match pinger.recv(&mut buf) {
            Ok(Some((len, rseq, ttl))) => {
                let Some(sent_at) = outstanding.remove(&rseq) else {
                    continue;
                };
                let rtt = sent_at.elapsed().as_secs_f64() * 1000.0;
                stats.received += 1;
                stats.rtts.push(rtt);
                if !a.quiet {
                    let ttl = ttl.map(|t| format!(" ttl={t}")).unwrap_or_default();
                    let time = if rtt >= 100.0 {
                        format!("{rtt:.0}")
                    } else if rtt >= 10.0 {
                        format!("{rtt:.1}")
                    } else {
                        format!("{rtt:.3}")
                    };
                    let line =
                        format!("{len} bytes from {dest}: icmp_seq={rseq}{ttl} time={time} ms\n");
                    // The reader went away (ping | head): stop quietly.
                    if say(&line).is_err() {
                        return Ok(0);
                    }
                }
            }
            Ok(None) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                if !a.quiet && say(&format!("From {dest} icmp_seq={seq}: {e}\n")).is_err() {
                    return Ok(1);
                }
            }
        }
    }
    let _ = say(&format!(
        "\n--- {} ping statistics ---\n{}",
        a.host,
        stats.summary(start.elapsed())
    ));
    Ok(if stats.received > 0 { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_an_echo_request() {
        // type 8, code 0, id 1, seq 1, no payload: sum = 0x0800 + 1 + 1.
        let mut p = [8, 0, 0, 0, 0, 1, 0, 1];
        let c = checksum(&p);
        assert_eq!(c, !0x0802);
        p[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(checksum(&p), 0);
    }

    #[test]
    fn summary_like_iputils() {
        let s = Stats {
            sent: 2,
            received: 2,
            rtts: vec![0.040, 0.060],
        };
        assert_eq!(
            s.summary(Duration::from_millis(1001)),
            "2 packets transmitted, 2 received, 0% packet loss, time 1001ms\n\
             rtt min/avg/max/mdev = 0.040/0.050/0.060/0.010 ms\n"
        );
    }
}
