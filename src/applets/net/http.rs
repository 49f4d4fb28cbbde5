//! `wget` and `http`: plain HTTP/1.1 GET (or HEAD) over a TcpStream, to
//! check a service from inside a container. No TLS: cdbg links no C crypto
//! and carries no certificate store, so https:// says so clearly.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use clap::Parser;

use super::{dns, parse_args};

/// A parsed http:// URL.
#[derive(Clone, Debug, PartialEq)]
pub struct Url {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path and query, starting with '/'.
    pub path: String,
}

impl Url {
    /// Parses `http://host[:port][/path]`; a missing scheme means http,
    /// a leading ':' means localhost (as HTTPie). https is refused.
    pub fn parse(s: &str, applet: &str) -> Result<Url, String> {
        let rest = if let Some(r) = s.strip_prefix("http://") {
            r
        } else if s.starts_with("https://") {
            return Err(format!(
                "{s}: TLS not supported in the bundled {applet} (cdbg carries no TLS stack); \
                 use an http:// endpoint"
            ));
        } else if s.contains("://") {
            return Err(format!(
                "{s}: unsupported scheme (only http:// is supported)"
            ));
        } else {
            s
        };
        let (hostport, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{s}: bad IPv6 host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| format!("{s}: bad port"))?,
                None => 80,
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse().map_err(|_| format!("{s}: bad port"))?,
                ),
                None => (hostport.to_string(), 80),
            }
        };
        let host = if host.is_empty() {
            "localhost".to_string()
        } else {
            host
        };
        Ok(Url { host, port, path })
    }

    /// Resolves a Location header against this URL: absolute URLs as
    /// they are, `/path` on the same server, `path` beside the current one.
    pub fn join(&self, loc: &str) -> Result<Url, String> {
        if loc.contains("://") {
            return Url::parse(loc, "wget");
        }
        let path = if loc.starts_with('/') {
            loc.to_string()
        } else {
            let base = self.path.split('?').next().unwrap_or("/");
            let dir = &base[..base.rfind('/').map(|i| i + 1).unwrap_or(0)];
            format!("{dir}{loc}")
        };
        Ok(Url {
            path,
            ..self.clone()
        })
    }

    fn host_header(&self) -> String {
        let h = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            h
        } else {
            format!("{h}:{}", self.port)
        }
    }
}

/// The status line and headers of a response.
#[derive(Clone, Debug, Default)]
pub struct Head {
    /// The status line as received ("HTTP/1.1 200 OK").
    pub status_line: String,
    /// The status code.
    pub status: u16,
    /// Header lines, in order.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An open response: head read, body still on the connection.
pub struct Response {
    /// Status line and headers.
    pub head: Head,
    reader: Box<dyn BufRead>,
    head_only: bool,
}

/// Connects to `url` (trying each resolved address) and sends a request.
/// `headers` ("Name: value") are sent as given and replace the defaults
/// of the same name (Host, User-Agent, Accept).
pub fn request(
    url: &Url,
    method: &str,
    headers: &[String],
    timeout: Duration,
) -> io::Result<Response> {
    let addrs = dns::socket_addrs(&url.host, url.port)?;
    let mut last = io::Error::other(format!("no address for {}", url.host));
    let mut stream = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = io::Error::new(e.kind(), format!("connect to {a}: {e}")),
        }
    }
    let mut stream = stream.ok_or(last)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(request_text(url, method, headers).as_bytes())?;
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader)?;
    let head_only = method == "HEAD" || head.status / 100 == 1 || matches!(head.status, 204 | 304);
    Ok(Response {
        head,
        reader: Box::new(reader),
        head_only,
    })
}

fn request_text(url: &Url, method: &str, headers: &[String]) -> String {
    let given = |name: &str| {
        headers.iter().any(|h| {
            h.split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        })
    };
    let mut req = format!("{method} {} HTTP/1.1\r\n", url.path);
    let defaults = [
        ("Host", url.host_header()),
        ("User-Agent", format!("cdbg/{}", env!("CARGO_PKG_VERSION"))),
        ("Accept", "*/*".to_string()),
    ];
    for (k, v) in defaults {
        if !given(k) {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    for h in headers {
        req.push_str(h.trim());
        req.push_str("\r\n");
    }
    req.push_str("Connection: close\r\n\r\n");
    req
}

fn read_head(r: &mut impl BufRead) -> io::Result<Head> {
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before a response",
            ));
        }
        let status_line = line.trim_end().to_string();
        let mut parts = status_line.splitn(3, ' ');
        let (Some(v), Some(code)) = (parts.next(), parts.next()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line: {status_line:?}"),
            ));
        };
        if !v.starts_with("HTTP/") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not an HTTP response: {status_line:?}"),
            ));
        }
        let status: u16 = code
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad status code"))?;
        let mut head = Head {
            status_line,
            status,
            headers: Vec::new(),
        };
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 {
                break;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                head.headers
                    .push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        // Skip interim 100 Continue responses.
        if status == 100 {
            continue;
        }
        return Ok(head);
    }
}

impl Response {
    /// Copies the body to `out` (decoding chunked transfer); returns its size.
    pub fn copy_body(mut self, out: &mut dyn Write) -> io::Result<u64> {
        if self.head_only {
            return Ok(0);
        }
        let chunked = self
            .head
            .header("Transfer-Encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
        if chunked {
            let mut total = 0;
            let mut line = String::new();
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size_str = line.trim().split(';').next().unwrap_or("");
                let size = u64::from_str_radix(size_str, 16)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
                if size == 0 {
                    // trailers
                    loop {
                        line.clear();
                        if self.reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                            return Ok(total);
                        }
                    }
                }
                let n = io::copy(&mut (&mut self.reader).take(size), out)?;
                if n < size {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed in a chunk",
                    ));
                }
                total += n;
                line.clear();
                self.reader.read_line(&mut line)?;
            }
        }
        match self
            .head
            .header("Content-Length")
            .and_then(|l| l.parse::<u64>().ok())
        {
            Some(len) => {
                let n = io::copy(&mut (&mut self.reader).take(len), out)?;
                if n < len {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("connection closed after {n} of {len} bytes"),
                    ));
                }
                Ok(n)
            }
            None => io::copy(&mut self.reader, out),
        }
    }
}

/// wget - download a URL over plain HTTP (cdbg's bundled version)
#[derive(Parser, Debug)]
#[command(name = "wget", disable_version_flag = true)]
struct WgetArgs {
    /// Write the document to FILE ('-' for standard output)
    #[arg(short = 'O', long = "output-document", value_name = "FILE")]
    output: Option<String>,
    /// Quiet: no progress messages
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Print the server's response headers
    #[arg(short = 'S', long = "server-response")]
    server_response: bool,
    /// Network timeout in seconds
    #[arg(short = 'T', long = "timeout", default_value_t = 30)]
    timeout: u64,
    /// Check that the URL answers, download nothing
    #[arg(long = "spider")]
    spider: bool,
    /// Send an extra header ("Name: value"; a Host header picks the vhost)
    #[arg(long = "header", value_name = "HEADER")]
    header: Vec<String>,
    /// User-Agent to send
    #[arg(short = 'U', long = "user-agent", value_name = "AGENT")]
    user_agent: Option<String>,
    /// The URL (http:// only)
    url: String,
}

fn file_name_of(url: &Url) -> String {
    let path = url.path.split('?').next().unwrap_or("");
    match path.rsplit('/').next() {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => "index.html".to_string(),
    }
}

/// Entry point of `wget`. Exit codes as GNU wget: 4 network failure,
/// 8 server error response, 1 other errors.
pub fn wget_main(args: Vec<OsString>) -> i32 {
    let a: WgetArgs = match parse_args(args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let mut url = match Url::parse(&a.url, "wget") {
        Ok(u) => u,
        Err(e) => {
            eprintln!("wget: {e}");
            return 1;
        }
    };
    let timeout = Duration::from_secs(a.timeout.max(1));
    let say = |s: String| {
        if !a.quiet {
            eprintln!("{s}");
        }
    };
    let method = if a.spider { "HEAD" } else { "GET" };
    let mut redirects = 0;
    let resp = loop {
        say(format!("Connecting to {}:{}...", url.host, url.port));
        let mut headers = a.header.clone();
        if let Some(ua) = &a.user_agent {
            headers.push(format!("User-Agent: {ua}"));
        }
        let resp = match request(&url, method, &headers, timeout) {
            Ok(r) => r,
            Err(e) => {
                eprintln!(
                    "wget: cannot get http://{}{}: {e}",
                    url.host_header(),
                    url.path
                );
                return 4;
            }
        };
        // "200 OK", as GNU wget puts it (the status line minus its version).
        let reason = resp.head.status_line.split_once(' ').map_or("", |(_, r)| r);
        say(format!("HTTP request sent, awaiting response... {reason}"));
        if a.server_response {
            eprintln!("  {}", resp.head.status_line);
            for (k, v) in &resp.head.headers {
                eprintln!("  {k}: {v}");
            }
        }
        let st = resp.head.status;
        if matches!(st, 301 | 302 | 303 | 307 | 308) {
            if let Some(loc) = resp.head.header("Location") {
                redirects += 1;
                if redirects > 20 {
                    eprintln!("wget: 20 redirections exceeded.");
                    return 1;
                }
                let next = url.join(loc);
                match next {
                    Ok(n) => {
                        say(format!("Location: {loc} [following]"));
                        url = n;
                        continue;
                    }
                    Err(e) => {
                        eprintln!("wget: {e}");
                        return 1;
                    }
                }
            }
        }
        break resp;
    };
    if resp.head.status >= 400 {
        eprintln!("wget: server returned error: {}", resp.head.status_line);
        return 8;
    }
    if a.spider {
        say("Remote file exists.".into());
        return 0;
    }
    if let Some(len) = resp.head.header("Content-Length") {
        let ct = resp.head.header("Content-Type").unwrap_or("");
        say(format!("Length: {len} [{ct}]"));
    }
    let target = a.output.clone().unwrap_or_else(|| file_name_of(&url));
    let res = if target == "-" {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        let r = resp.copy_body(&mut lock);
        let _ = lock.flush();
        r
    } else {
        say(format!("Saving to: '{target}'"));
        match File::create(&target) {
            Ok(mut f) => resp.copy_body(&mut f),
            Err(e) => {
                eprintln!("wget: cannot create '{target}': {e}");
                return 1;
            }
        }
    };
    match res {
        Ok(n) => {
            if target != "-" {
                say(format!("'{target}' saved [{n}]"));
            }
            0
        }
        Err(e) => {
            eprintln!(
                "wget: download of http://{}{} failed: {e}",
                url.host_header(),
                url.path
            );
            4
        }
    }
}

/// http - print an HTTP response: status line, headers and body
///
/// Exit status: 0 for a 1xx-3xx response, 1 for 4xx/5xx, 4 when no response.
#[derive(Parser, Debug)]
#[command(name = "http", disable_version_flag = true)]
struct HttpArgs {
    /// Send HEAD instead of GET (status line and headers only)
    #[arg(short = 'I', long = "head")]
    head: bool,
    /// Print the body only
    #[arg(short = 'b', long = "body")]
    body_only: bool,
    /// Send an extra header ("Name: value"), repeatable
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    header: Vec<String>,
    /// Network timeout in seconds
    #[arg(short = 'T', long = "timeout", default_value_t = 30)]
    timeout: u64,
    /// URL: http://host[:port]/path, host:port/path or :port/path
    url: String,
}

/// Entry point of `http`.
pub fn http_main(args: Vec<OsString>) -> i32 {
    let a: HttpArgs = match parse_args(args) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let url = match Url::parse(&a.url, "http") {
        Ok(u) => u,
        Err(e) => {
            eprintln!("http: {e}");
            return 1;
        }
    };
    let method = if a.head { "HEAD" } else { "GET" };
    let resp = match request(
        &url,
        method,
        &a.header,
        Duration::from_secs(a.timeout.max(1)),
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "http: cannot get http://{}{}: {e}",
                url.host_header(),
                url.path
            );
            return 4;
        }
    };
    let status = resp.head.status;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if !a.body_only {
        let mut h = format!("{}\n", resp.head.status_line);
        for (k, v) in &resp.head.headers {
            h.push_str(&format!("{k}: {v}\n"));
        }
        h.push('\n');
        let _ = out.write_all(h.as_bytes());
    }
    if let Err(e) = resp.copy_body(&mut out) {
        let _ = out.flush();
        eprintln!("http: reading the body failed: {e}");
        return 4;
    }
    let _ = out.flush();
    if status >= 400 {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("http://example.com:8080/a/b?c=1", "wget").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("example.com", 8080, "/a/b?c=1")
        );
        let u = Url::parse("http://[::1]/x", "wget").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 80, "/x")
        );
        assert_eq!(u.host_header(), "[::1]");
        let u = Url::parse(":8000/p", "http").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("localhost", 8000));
        let e = Url::parse("https://example.com/", "wget").unwrap_err();
        assert!(e.contains("TLS not supported in the bundled wget"), "{e}");
        let base = Url::parse("http://h:81/a/b?x", "wget").unwrap();
        assert_eq!(base.join("c").unwrap().path, "/a/c");
        assert_eq!(base.join("/d").unwrap().path, "/d");
        assert_eq!(base.join("http://o/e").unwrap().host, "o");
        assert_eq!(
            file_name_of(&Url::parse("http://h/dir/", "wget").unwrap()),
            "index.html"
        );
        assert_eq!(
            file_name_of(&Url::parse("http://h/f.txt?x", "wget").unwrap()),
            "f.txt"
        );
    }

    #[test]
    fn request_headers() {
        let u = Url::parse("http://h:8080/p", "wget").unwrap();
        let r = request_text(&u, "GET", &[]);
        assert!(
            r.starts_with("GET /p HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: cdbg/"),
            "{r}"
        );
        assert!(
            r.ends_with("Accept: */*\r\nConnection: close\r\n\r\n"),
            "{r}"
        );
        let r = request_text(&u, "HEAD", &["host: api.local".into(), "X-A: 1".into()]);
        assert!(
            !r.contains("Host: h:8080") && r.contains("\r\nhost: api.local\r\nX-A: 1\r\n"),
            "{r}"
        );
    }

    #[test]
    fn chunked_body_is_decoded() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let mut r = BufReader::new(&raw[..]);
        let head = read_head(&mut r).unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("transfer-encoding"), Some("chunked"));
        let resp = Response {
            head,
            reader: Box::new(r),
            head_only: false,
        };
        let mut body = Vec::new();
        assert_eq!(resp.copy_body(&mut body).unwrap(), 11);
        assert_eq!(body, b"hello world");
    }
}
