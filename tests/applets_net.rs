//! Network applets end to end, through the built binary run via symlinks
//! named after the applets.
//!
//! Nothing leaves this machine: every test that opens a socket runs in a
//! private network namespace. The outer `#[test]` re-runs this test binary
//! under `unshare --net` (plus `--mount` where it bind-mounts a
//! resolv.conf), filtered to one `#[ignore]`d `inner_*` test, which brings
//! `lo` up, starts its servers (threads of its own: HTTP, DNS) and runs the
//! applets. An inner test refuses to run outside that wrapper.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

const APPLETS: &[&str] = &[
    "ss", "netstat", "ip", "nc", "wget", "http", "dig", "nslookup", "ping",
];

/// A per-process scratch directory holding the applet symlinks.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // pid plus time: inner tests may all be pid 2 of a new PID namespace.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let d = std::env::temp_dir().join(format!("cdbgt-net-{}-{nanos}", std::process::id()));
        let bin = d.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for a in APPLETS {
            let _ = std::fs::remove_file(bin.join(a));
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cdbg"), bin.join(a)).unwrap();
        }
        d
    })
}

/// Removes the scratch directory (each inner test runs in its own process).
fn cleanup() {
    let _ = std::fs::remove_dir_all(scratch());
}

fn applet(name: &str) -> Command {
    Command::new(scratch().join("bin").join(name))
}

fn run(name: &str, args: &[&str]) -> Output {
    applet(name)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout_of(name: &str, args: &[&str]) -> String {
    let o = run(name, args);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{name} {args:?} failed ({}):\nstdout:\n{out}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// Runs the `#[ignore]`d test `inner` of this binary in a new network
/// namespace (and mount namespace when `mount`), and checks that it ran
/// and passed.
fn in_netns(inner: &str, mount: bool) {
    in_namespaces(inner, if mount { &["--mount"] } else { &[] });
}

/// Like [`in_netns`], with more `unshare` options.
fn in_namespaces(inner: &str, extra: &[&str]) {
    let mut cmd = Command::new("unshare");
    cmd.arg("--net").args(extra);
    let out = cmd
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([
            inner,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CDBG_NET_INNER", "1")
        .output()
        .expect("run unshare (util-linux)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{inner} failed in its netns:\n{text}");
    assert!(text.contains("1 passed"), "{inner} did not run:\n{text}");
}

/// Guard of every inner test: only inside `in_netns`; brings `lo` up.
fn inner_setup() {
    assert_eq!(
        std::env::var("CDBG_NET_INNER").as_deref(),
        Ok("1"),
        "inner tests run only through their outer test, in a private netns"
    );
    sh("ip link set lo up");
}

/// Setup through the host's tools (iproute2, mount), never the applets.
fn sh(cmd: &str) {
    let st = Command::new("sh").arg("-c").arg(cmd).status().unwrap();
    assert!(st.success(), "setup command failed: {cmd}");
}

fn retry<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

fn checksum(data: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(data);
    h.finish()
}

/// Deterministic pseudo-random bytes (xorshift), so no /dev/urandom needed.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.extend_from_slice(&seed.to_le_bytes());
    }
    v.truncate(len);
    v
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------- ss/netstat

#[test]
fn ss_and_netstat_show_listeners_with_owners_and_unix_sockets() {
    in_netns("inner_ss_netstat", false);
}

#[test]
#[ignore = "runs inside a private netns through its outer test"]
fn inner_ss_netstat() {
    inner_setup();
    let listener = Killed(
        applet("nc")
            .args(["-l", "-p", "7001"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = listener.0.id();
    let owner = format!("users:((\"nc\",pid={pid},fd=");
    let ss = retry("ss to show the nc listener", || {
        let out = stdout_of("ss", &["-ltnp"]);
        out.contains(":7001").then_some(out)
    });
    let mut lines = ss.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("State  Recv-Q Send-Q Local Address:Port"),
        "{ss}"
    );
    let line = ss.lines().find(|l| l.contains(":7001")).unwrap();
    assert!(line.starts_with("LISTEN "), "{ss}");
    assert!(line.contains("0.0.0.0:7001"), "{ss}");
    assert!(line.contains(&owner), "no owner {owner} in:\n{ss}");
    // The /proc/net fallback (kernels without the diag modules) agrees.
    let via_proc = stdout_of("ss", &["-ltnp", "--proc"]);
    let pline = via_proc
        .lines()
        .find(|l| l.contains(":7001"))
        .unwrap_or_else(|| panic!("{via_proc}"));
    assert!(
        pline.starts_with("LISTEN ") && pline.contains(&owner),
        "{via_proc}"
    );
    let only = stdout_of("ss", &["-ltn", "sport = :7001"]);
    assert_eq!(only.lines().count(), 2, "{only}");
    let none = stdout_of("ss", &["-ltn", "sport", "=", ":7002"]);
    assert_eq!(none.lines().count(), 1, "{none}");

    let ns = stdout_of("netstat", &["-tlnp"]);
    assert!(
        ns.starts_with("Active Internet connections (only servers)\n"),
        "{ns}"
    );
    let line = ns
        .lines()
        .find(|l| l.contains(":7001"))
        .unwrap_or_else(|| panic!("{ns}"));
    assert!(line.starts_with("tcp "), "{ns}");
    assert!(
        line.contains("0.0.0.0:7001") && line.contains("0.0.0.0:*"),
        "{ns}"
    );
    assert!(
        line.contains("LISTEN") && line.contains(&format!("{pid}/nc")),
        "{ns}"
    );
    let plain = stdout_of("netstat", &["-tln"]);
    assert!(
        plain
            .lines()
            .any(|l| l.contains("0.0.0.0:7001") && l.contains("LISTEN")),
        "{plain}"
    );

    // A state filter; with one state the State column goes, as in ss.
    let tl = TcpListener::bind("127.0.0.1:7002").unwrap();
    let _client = std::net::TcpStream::connect("127.0.0.1:7002").unwrap();
    let _server = tl.accept().unwrap();
    let est = stdout_of("ss", &["-tn", "state", "established"]);
    assert!(est.starts_with("Recv-Q Send-Q Local Address:Port"), "{est}");
    assert_eq!(
        est.lines().filter(|l| l.contains(":7002")).count(),
        2,
        "{est}"
    );
    let conn = stdout_of("ss", &["-tn", "state", "connected", "dport = :7002"]);
    assert!(
        conn.lines().nth(1).is_some_and(|l| l.starts_with("ESTAB ")),
        "{conn}"
    );

    let sum = stdout_of("ss", &["-s"]);
    assert!(
        sum.starts_with("Total: ") && sum.contains("\nTransport Total     IP        IPv6\n"),
        "{sum}"
    );
    assert!(
        sum.lines()
            .any(|l| l.starts_with("TCP:   ") && l.contains("(estab ")),
        "{sum}"
    );

    // Unix sockets: a listener, then a connected pair.
    let path = scratch().join("ss-test.sock");
    let _ = std::fs::remove_file(&path);
    let ul = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let p = path.to_str().unwrap();
    let xl = stdout_of("ss", &["-xlp"]);
    let line = xl
        .lines()
        .find(|l| l.contains(p))
        .unwrap_or_else(|| panic!("{xl}"));
    assert!(line.starts_with("u_str LISTEN"), "{xl}");
    assert!(
        line.contains(&format!("pid={}", std::process::id())),
        "{xl}"
    );
    let _c = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let (_s, _) = ul.accept().unwrap();
    let x = stdout_of("ss", &["-x"]);
    assert!(x.starts_with("Netid State"), "{x}");
    assert!(
        x.lines()
            .any(|l| l.starts_with("u_str ESTAB") && l.contains(p)),
        "{x}"
    );
    let nx = stdout_of("netstat", &["-xl"]);
    assert!(
        nx.lines()
            .any(|l| l.contains("LISTENING") && l.ends_with(p)),
        "{nx}"
    );
    let _ = std::fs::remove_file(&path);
    cleanup();
}

// ----------------------------------------------------------------------- ip

#[test]
fn ip_shows_addresses_links_and_routes() {
    in_netns("inner_ip", false);
}

#[test]
#[ignore = "runs inside a private netns through its outer test"]
fn inner_ip() {
    inner_setup();
    sh(
        "ip link add v0 type veth peer name v1 && ip link set v0 up \
        && ip addr add 10.77.0.1/24 dev v0 \
        && ip route add 10.78.0.0/16 via 10.77.0.2 dev v0",
    );

    let a = stdout_of("ip", &["addr"]);
    assert!(a.starts_with("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n"), "{a}");
    assert!(a.contains("    inet 10.77.0.1/24 scope global v0\n"), "{a}");
    assert_eq!(stdout_of("ip", &["a"]), a, "ip a == ip addr");

    let l = stdout_of("ip", &["link"]);
    assert!(l.contains("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n"), "{l}");
    let v0 = l
        .lines()
        .find(|x| x.contains(" v0@v1: "))
        .unwrap_or_else(|| panic!("{l}"));
    assert!(
        v0.contains("<NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN>"),
        "{l}"
    );
    assert!(v0.contains("state LOWERLAYERDOWN"), "{l}");
    assert!(
        l.contains(" v1@v0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN"),
        "{l}"
    );
    assert!(l.contains("    link/ether "), "{l}");

    let r = stdout_of("ip", &["route"]);
    assert!(
        r.contains("10.77.0.0/24 dev v0 proto kernel scope link src 10.77.0.1 linkdown"),
        "{r}"
    );
    assert!(
        r.contains("10.78.0.0/16 via 10.77.0.2 dev v0 linkdown"),
        "{r}"
    );
    assert_eq!(stdout_of("ip", &["r"]), r);

    assert_eq!(
        stdout_of("ip", &["route", "get", "10.78.0.5"]),
        "10.78.0.5 via 10.77.0.2 dev v0 src 10.77.0.1 uid 0 \n    cache \n"
    );
    sh("ip neigh add 10.77.0.2 lladdr 02:00:00:00:00:02 dev v0");
    assert_eq!(
        stdout_of("ip", &["neigh"]),
        "10.77.0.2 dev v0 lladdr 02:00:00:00:00:02 PERMANENT \n"
    );
    let st = stdout_of("ip", &["-s", "link", "show", "lo"]);
    assert!(
        st.contains("\n    RX:  bytes packets errors dropped  missed   mcast           \n"),
        "{st}"
    );
    assert!(
        st.contains("\n    TX:  bytes packets errors dropped carrier collsns           \n"),
        "{st}"
    );
    let nr = stdout_of("netstat", &["-rn"]);
    assert!(nr.starts_with("Kernel IP routing table\nDestination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n"), "{nr}");
    assert!(
        nr.contains(
            "\n10.78.0.0       10.77.0.2       255.255.0.0     UG        0 0          0 v0\n"
        ),
        "{nr}"
    );

    let br = stdout_of("ip", &["-br", "a"]);
    let lo = br.lines().next().unwrap();
    assert!(
        lo.starts_with("lo               UNKNOWN        127.0.0.1/8"),
        "{br}"
    );
    let four = stdout_of("ip", &["-4", "a", "show", "dev", "lo"]);
    assert!(
        four.contains("inet 127.0.0.1/8") && !four.contains("inet6") && !four.contains("link/"),
        "{four}"
    );
    let bad = run("ip", &["link", "show", "nosuchdev"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("\"nosuchdev\" does not exist"));
    cleanup();
}

// ----------------------------------------------------------------------- nc

#[test]
fn nc_transfers_files_both_ways_over_tcp_and_udp() {
    in_netns("inner_nc", false);
}

#[test]
#[ignore = "runs inside a private netns through its outer test"]
fn inner_nc() {
    inner_setup();
    let d = scratch();
    let a = noise(3 << 20, 1);
    let b = noise(2 << 20, 2);
    std::fs::write(d.join("a"), &a).unwrap();
    std::fs::write(d.join("b"), &b).unwrap();

    // TCP: both sides send a file and half-close; both receive the other.
    let server = applet("nc")
        .args(["-l", "-p", "7100"])
        .stdin(std::fs::File::open(d.join("a")).unwrap())
        .stdout(std::fs::File::create(d.join("got-b")).unwrap())
        .spawn()
        .unwrap();
    let server = Killed(server);
    retry("nc -l to listen", || {
        let out = stdout_of("ss", &["-ltn"]);
        out.contains(":7100").then_some(())
    });
    let st = applet("nc")
        .args(["127.0.0.1", "7100"])
        .stdin(std::fs::File::open(d.join("b")).unwrap())
        .stdout(std::fs::File::create(d.join("got-a")).unwrap())
        .status()
        .unwrap();
    assert!(st.success());
    let mut server = server;
    let st = server.0.wait().unwrap();
    assert!(st.success());
    assert_eq!(
        checksum(&std::fs::read(d.join("got-a")).unwrap()),
        checksum(&a)
    );
    assert_eq!(
        checksum(&std::fs::read(d.join("got-b")).unwrap()),
        checksum(&b)
    );

    // -z: an open port and a closed one.
    let _l = TcpListener::bind("127.0.0.1:7101").unwrap();
    let open = run("nc", &["-z", "-v", "127.0.0.1", "7101"]);
    assert!(open.status.success());
    assert!(String::from_utf8_lossy(&open.stderr).contains("succeeded"));
    assert!(!run("nc", &["-z", "127.0.0.1", "7102"]).status.success());

    // -k serves one client after another; -q 0 quits when stdin ends
    // even though the server never closes.
    let keep = Killed(
        applet("nc")
            .args(["-l", "-k", "-p", "7103"])
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(d.join("keep")).unwrap())
            .spawn()
            .unwrap(),
    );
    retry("nc -l -k to listen", || {
        stdout_of("ss", &["-ltn"]).contains(":7103").then_some(())
    });
    for word in ["one", "two"] {
        let mut c = applet("nc")
            .args(["-q", "0", "127.0.0.1", "7103"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin
            .take()
            .unwrap()
            .write_all(format!("{word}\n").as_bytes())
            .unwrap();
        let st = retry("nc -q 0 to quit", || c.try_wait().unwrap());
        assert!(st.success());
    }
    retry("both lines", || {
        (std::fs::read_to_string(d.join("keep")).unwrap() == "one\ntwo\n").then_some(())
    });
    drop(keep);

    // UDP: a datagram each way.
    std::fs::write(d.join("pong"), "pong\n").unwrap();
    let userver = applet("nc")
        .args(["-u", "-l", "-p", "7200", "-w", "4"])
        .stdin(std::fs::File::open(d.join("pong")).unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    retry("nc -u -l to bind", || {
        let out = stdout_of("ss", &["-lun"]);
        out.contains(":7200").then_some(())
    });
    let mut client = applet("nc")
        .args(["-u", "-w", "3", "127.0.0.1", "7200"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    client.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let cout = client.wait_with_output().unwrap();
    let sout = userver.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&sout.stdout), "hello\n");
    assert_eq!(String::from_utf8_lossy(&cout.stdout), "pong\n");
    cleanup();
}

// ---------------------------------------------------------------- wget/http

/// A tiny HTTP/1.1 server on a thread: /file (Content-Length), /chunked,
/// /host (echoes the Host header), /redirect (302 to /file), /missing
/// (404). Returns its port.
fn http_server(body: Vec<u8>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            let mut line = String::new();
            let mut host = String::new();
            while r.read_line(&mut line).unwrap() > 2 {
                if let Some(h) = line
                    .strip_prefix("Host: ")
                    .or_else(|| line.strip_prefix("host: "))
                {
                    host = h.trim().to_string();
                }
                line.clear();
            }
            let mut parts = first.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let mut resp: Vec<u8> = Vec::new();
            match path.as_str() {
                "/file" => {
                    resp.extend_from_slice(
                        format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nX-Test: yes\r\n\r\n", body.len()).as_bytes(),
                    );
                    if method != "HEAD" {
                        resp.extend_from_slice(&body);
                    }
                }
                "/chunked" => {
                    resp.extend_from_slice(
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                    );
                    for c in body.chunks(7000) {
                        resp.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                        resp.extend_from_slice(c);
                        resp.extend_from_slice(b"\r\n");
                    }
                    resp.extend_from_slice(b"0\r\n\r\n");
                }
                "/host" => resp.extend_from_slice(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{host}",
                        host.len()
                    )
                    .as_bytes(),
                ),
                "/redirect" => resp.extend_from_slice(
                    b"HTTP/1.1 302 Found\r\nLocation: /file\r\nContent-Length: 0\r\n\r\n",
                ),
                _ => resp.extend_from_slice(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
                ),
            }
            let _ = s.write_all(&resp);
        }
    });
    port
}

#[test]
fn wget_and_http_fetch_from_a_local_server() {
    in_netns("inner_http", false);
}

#[test]
#[ignore = "runs inside a private netns through its outer test"]
fn inner_http() {
    inner_setup();
    let body = noise(300_000, 7);
    let port = http_server(body.clone());
    let base = format!("http://127.0.0.1:{port}");

    let o = run("wget", &["-q", "-O", "-", &format!("{base}/file")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(checksum(&o.stdout), checksum(&body));
    assert!(o.stderr.is_empty(), "-q prints nothing");

    let dest = scratch().join("wget-out");
    let o = run(
        "wget",
        &[
            "-S",
            "-O",
            dest.to_str().unwrap(),
            &format!("{base}/redirect"),
        ],
    );
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("  HTTP/1.1 302 Found") && err.contains("  X-Test: yes"),
        "{err}"
    );
    assert_eq!(checksum(&std::fs::read(&dest).unwrap()), checksum(&body));

    let o = run("wget", &["-q", "-O", "-", &format!("{base}/chunked")]);
    assert_eq!(checksum(&o.stdout), checksum(&body));
    let o = run("wget", &["-q", "-O", "-", &format!("{base}/missing")]);
    assert_eq!(o.status.code(), Some(8));
    let o = run("wget", &["-O", "-", "https://127.0.0.1/"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("TLS not supported in the bundled wget"));

    let o = run("http", &[&format!("{base}/file")]);
    assert!(o.status.success());
    let head = format!(
        "HTTP/1.1 200 OK\nContent-Type: application/octet-stream\nContent-Length: {}\nX-Test: yes\n\n",
        body.len()
    );
    assert!(
        o.stdout.starts_with(head.as_bytes()),
        "{}",
        String::from_utf8_lossy(&o.stdout[..200])
    );
    assert_eq!(checksum(&o.stdout[head.len()..]), checksum(&body));
    let o = run("http", &["-I", &format!("{base}/file")]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), head);
    // A Host header picks a virtual host.
    let o = run(
        "http",
        &["-b", "-H", "Host: api.local", &format!("{base}/host")],
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "api.local");
    let o = run(
        "wget",
        &[
            "-q",
            "-O",
            "-",
            "--header",
            "Host: w.local",
            &format!("{base}/host"),
        ],
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "w.local");
    let o = run("http", &[&format!(":{port}/missing")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("HTTP/1.1 404 Not Found\n"));
    cleanup();
}

// ------------------------------------------------------------- dig/nslookup

/// Builds the answer to one query: web.test A/TXT, big.test (truncated
/// over UDP, full over TCP), NXDOMAIN for the rest.
fn dns_answer(q: &[u8], tcp: bool) -> Vec<u8> {
    let mut end = 12;
    while q[end] != 0 {
        end += 1 + q[end] as usize;
    }
    let qname: Vec<String> = {
        let mut v = Vec::new();
        let mut i = 12;
        while q[i] != 0 {
            let l = q[i] as usize;
            v.push(String::from_utf8_lossy(&q[i + 1..i + 1 + l]).to_lowercase());
            i += 1 + l;
        }
        v
    };
    let qtype = u16::from_be_bytes([q[end + 1], q[end + 2]]);
    let question = &q[12..end + 5];
    let name = qname.join(".");
    let mut answers: Vec<(u16, Vec<u8>)> = Vec::new();
    let mut rcode = 0u8;
    let mut tc = false;
    match (name.as_str(), qtype) {
        ("web.test", 1) => answers.push((1, vec![10, 1, 2, 3])),
        ("web.test", 16) => {
            let mut t = vec![11];
            t.extend_from_slice(b"hello world");
            t.push(3);
            t.extend_from_slice(b"v=1");
            answers.push((16, t));
        }
        ("web.test", _) => {}
        ("big.test", 1) if !tcp => tc = true,
        ("big.test", 1) => {
            for i in 0..40u8 {
                answers.push((1, vec![10, 9, 0, i]));
            }
        }
        ("big.test", _) => {}
        _ => rcode = 3,
    }
    let mut r = Vec::new();
    r.extend_from_slice(&q[..2]);
    r.push(0x81 | if tc { 0x02 } else { 0 });
    r.push(0x80 | rcode);
    r.extend_from_slice(&[0, 1]);
    r.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(question);
    for (t, data) in answers {
        r.extend_from_slice(&[0xc0, 12]);
        r.extend_from_slice(&t.to_be_bytes());
        r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        r.extend_from_slice(&(data.len() as u16).to_be_bytes());
        r.extend_from_slice(&data);
    }
    r
}

/// A fake DNS server (UDP and TCP) on 127.0.0.1:`port`.
fn dns_server(port: u16) {
    let u = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let t = TcpListener::bind(("127.0.0.1", port)).unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 512];
        loop {
            let (n, peer) = u.recv_from(&mut buf).unwrap();
            let _ = u.send_to(&dns_answer(&buf[..n], false), peer);
        }
    });
    thread::spawn(move || {
        for s in t.incoming() {
            let Ok(mut s) = s else { continue };
            let mut len = [0u8; 2];
            if s.read_exact(&mut len).is_err() {
                continue;
            }
            let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
            if s.read_exact(&mut q).is_err() {
                continue;
            }
            let a = dns_answer(&q, true);
            let mut framed = (a.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&a);
            let _ = s.write_all(&framed);
        }
    });
}

#[test]
fn dig_and_nslookup_query_a_fake_server() {
    in_netns("inner_dns", false);
}

#[test]
#[ignore = "runs inside a private netns through its outer test"]
fn inner_dns() {
    inner_setup();
    dns_server(5300);
    let at = ["@127.0.0.1", "-p", "5300"];
    let q = |extra: &[&str]| {
        let mut v: Vec<&str> = at.to_vec();
        v.extend_from_slice(extra);
        stdout_of("dig", &v)
    };
    assert_eq!(q(&["web.test", "+short"]), "10.1.2.3\n");
    assert_eq!(
        q(&["web.test", "TXT", "+short"]),
        "\"hello world\" \"v=1\"\n"
    );
    let full = q(&["web.test", "A"]);
    assert!(full.contains("status: NOERROR"), "{full}");
    assert!(
        full.contains(";; flags: qr rd ra; QUERY: 1, ANSWER: 1"),
        "{full}"
    );
    assert!(
        full.contains(";; ANSWER SECTION:\nweb.test.\t\t60\tIN\tA\t10.1.2.3\n"),
        "{full}"
    );
    assert!(
        full.contains(";; SERVER: 127.0.0.1#5300(127.0.0.1) (UDP)"),
        "{full}"
    );
    assert_eq!(
        q(&["+noall", "+answer", "web.test"]),
        "web.test.\t\t60\tIN\tA\t10.1.2.3\n"
    );
    // Truncated over UDP: retried over TCP.
    let big = q(&["big.test"]);
    assert!(big.contains("ANSWER: 40") && big.contains("(TCP)"), "{big}");
    let nx = q(&["nope.test"]);
    assert!(nx.contains("status: NXDOMAIN"), "{nx}");

    let ns = stdout_of("nslookup", &["-port=5300", "web.test", "127.0.0.1"]);
    assert!(
        ns.contains("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1#5300\n"),
        "{ns}"
    );
    assert!(ns.contains("Name:\tweb.test\nAddress: 10.1.2.3\n"), "{ns}");
    let txt = stdout_of(
        "nslookup",
        &["-type=TXT", "-port=5300", "web.test", "127.0.0.1"],
    );
    assert!(
        txt.contains("web.test\ttext = \"hello world\" \"v=1\""),
        "{txt}"
    );
    let o = run("nslookup", &["-port=5300", "nope.test", "127.0.0.1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("** server can't find nope.test: NXDOMAIN"));
    cleanup();
}

#[test]
fn names_resolve_through_the_namespace_resolv_conf() {
    in_netns("inner_resolv_conf", true);
}

#[test]
#[ignore = "runs inside private net and mount namespaces through its outer test"]
fn inner_resolv_conf() {
    inner_setup();
    dns_server(53);
    let conf = scratch().join("resolv.conf");
    std::fs::write(&conf, "nameserver 127.0.0.1\noptions timeout:2\n").unwrap();
    sh(&format!("mount --bind {} /etc/resolv.conf", conf.display()));
    assert_eq!(stdout_of("dig", &["web.test", "+short"]), "10.1.2.3\n");
    let ns = stdout_of("nslookup", &["web.test"]);
    assert!(
        ns.contains("Server:\t\t127.0.0.1\n") && ns.contains("Address: 10.1.2.3"),
        "{ns}"
    );

    // wget resolves web.test with that nameserver; 10.1.2.3 is put on lo.
    sh("ip addr add 10.1.2.3/32 dev lo");
    let body = noise(5000, 9);
    let l = TcpListener::bind("10.1.2.3:8080").unwrap();
    let b2 = body.clone();
    thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b2.len()).into_bytes();
        r.extend_from_slice(&b2);
        s.write_all(&r).unwrap();
    });
    let o = run("wget", &["-q", "-O", "-", "http://web.test:8080/"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.stdout, body);
    cleanup();
}

// --------------------------------------------------------------------- ping

#[test]
fn ping_loopback_has_no_loss() {
    in_netns("inner_ping", false);
}

#[test]
#[ignore = "runs inside a private netns through its outer test"]
fn inner_ping() {
    inner_setup();
    let out = stdout_of("ping", &["-c", "2", "-i", "0.2", "127.0.0.1"]);
    assert!(
        out.starts_with("PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n"),
        "{out}"
    );
    assert!(
        out.contains("64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time="),
        "{out}"
    );
    assert!(out.contains("icmp_seq=2"), "{out}");
    assert!(
        out.contains(
            "--- 127.0.0.1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss"
        ),
        "{out}"
    );
    assert!(out.contains("rtt min/avg/max/mdev = "), "{out}");
    let six = stdout_of("ping", &["-6", "-c", "1", "::1"]);
    assert!(
        six.contains("64 bytes from ::1: icmp_seq=1") && six.contains(" 0% packet loss"),
        "{six}"
    );
    // Unprivileged ICMP sockets, where the namespace allows them.
    sh("echo '0 2147483647' > /proc/sys/net/ipv4/ping_group_range");
    let q = stdout_of("ping", &["-q", "-c", "1", "localhost"]);
    assert!(
        q.contains("1 packets transmitted, 1 received, 0% packet loss") && !q.contains("icmp_seq"),
        "{q}"
    );
    // No reply from an address nobody holds: 100% loss, status 1.
    sh(
        "ip link add v9 type veth peer name v8 && ip link set v9 up && ip link set v8 up \
        && ip addr add 10.66.0.1/24 dev v9",
    );
    let o = run("ping", &["-c", "1", "-W", "1", "10.66.0.9"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("1 packets transmitted, 0 received, 100% packet loss"));
    cleanup();
}

// ------------------------------------------------------------------ scratch

#[test]
fn applets_work_in_a_scratch_root_without_proc_or_etc() {
    in_namespaces("inner_scratch", &["--mount", "--pid", "--fork"]);
}

#[test]
#[ignore = "runs inside private namespaces through its outer test"]
fn inner_scratch() {
    inner_setup();
    // A root holding nothing but cdbg (bind-mounted) and applet symlinks:
    // no /proc, no /etc (hosts, resolv.conf, services), no libc.
    let root = scratch().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("cdbg"), b"").unwrap();
    sh(&format!(
        "mount --bind {} {}",
        env!("CARGO_BIN_EXE_cdbg"),
        root.join("cdbg").display()
    ));
    for a in APPLETS {
        std::os::unix::fs::symlink("cdbg", root.join(a)).unwrap();
    }
    let r = root.to_str().unwrap().to_string();
    let chrooted = |args: &[&str]| {
        let o = Command::new("chroot")
            .arg(&r)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{args:?}: {}\n{out}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };
    let nc = Killed(
        Command::new("chroot")
            .args([&r, "/nc", "-l", "-p", "7300"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ss = retry("the nc listener", || {
        let out = chrooted(&["/ss", "-ltnp"]);
        out.contains(":7300").then_some(out)
    });
    assert!(
        ss.contains("users:((\"nc\",pid="),
        "ss -p without /proc:\n{ss}"
    );
    assert!(chrooted(&["/netstat", "-tlnp"]).contains("/nc"));
    assert!(chrooted(&["/ip", "addr"]).contains("    inet 127.0.0.1/8 scope host lo\n"));
    assert!(chrooted(&["/ping", "-c", "1", "127.0.0.1"]).contains("0% packet loss"));
    let body = noise(1000, 3);
    let port = http_server(body.clone());
    let url = format!("http://localhost:{port}/file");
    let o = Command::new("chroot")
        .args([&r, "/wget", "-q", "-O", "-", &url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.stdout, body);
    assert!(!root.join("proc").exists() && !root.join("etc").exists());
    drop(nc);
    sh(&format!("umount -l {}", root.join("cdbg").display()));
    cleanup();
}

// --------------------------------------------------------------------- help

#[test]
fn every_network_applet_has_help() {
    for a in APPLETS {
        let o = run(a, &["--help"]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{a} --help failed");
        assert!(text.contains("Usage"), "{a} --help:\n{text}");
        // It says what the applet is, not what cdbg is.
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.contains(a) && !first.contains("container debugger"),
            "{a} --help begins with {first:?}"
        );
    }
    cleanup();
}
