//! The user's side of kept sessions: `cdbg -d`, `cdbg attach`, `cdbg
//! sessions`, `cdbg kill SESSION`. See [`super::holder`] for the holder and
//! the protocol.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Instant;

use clap::Args;
use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::Errno;

use super::holder::{self, frame, size_payload, Frames, KeepSpec, Meta};
use super::keys::{self, Action, Escapes};
use super::Spec;
use crate::sys;
use crate::tty;

/// The kept-session flags of `cdbg [OPTIONS] TARGET`.
#[derive(Debug, Default, Clone)]
pub struct KeepOpts {
    pub detach: bool,
    pub name: Option<String>,
    pub detach_keys: Option<String>,
}

/// A decision to keep a session.
pub struct Keep {
    detach: bool,
    name: Option<String>,
    keys: Option<Vec<u8>>,
}

/// Whether the session should be kept: with `-d` or `--name`, or with
/// detach keys (the flag or the config file) on an interactive terminal
/// session. `Ok(None)`: a plain session (dies with its client).
pub fn wants_keep(o: &KeepOpts, terminal: bool) -> Result<Option<Keep>, String> {
    let spec = o.detach_keys.clone().or_else(|| {
        if o.detach || o.name.is_some() || terminal {
            keys::from_config()
        } else {
            None
        }
    });
    let keys = spec.as_deref().map(keys::parse).transpose()?;
    if o.detach || o.name.is_some() || (keys.is_some() && terminal) {
        Ok(Some(Keep {
            detach: o.detach,
            name: o.name.clone(),
            keys,
        }))
    } else {
        Ok(None)
    }
}

/// Starts a kept session for `spec`: with `-d` prints its ID and returns;
/// otherwise attaches to it at once.
pub fn run_kept(mut spec: Spec, keep: Keep) -> i32 {
    let label = spec.label.clone();
    spec.tty = true;
    if spec.winsize.is_none() {
        spec.winsize = Some(super::user_winsize().unwrap_or((24, 80)));
    }
    if !spec.env.iter().any(|(k, _)| k == "TERM") {
        let term = std::env::var_os("TERM")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "xterm".into());
        spec.env.push(("TERM".into(), term));
    }
    let id = match holder::start(spec, KeepSpec { name: keep.name }) {
        Ok(id) => id,
        Err((code, msg)) => {
            eprintln!("cdbg: {label}: {msg}");
            return code;
        }
    };
    if keep.detach {
        println!("{id}");
        return 0;
    }
    attach_id(&id, false, keep.keys)
}

/// `cdbg attach`.
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Take the session over from a client that is attached to it.
    #[arg(long)]
    pub steal: bool,
    /// Detach keys (docker syntax, e.g. ctrl-p,ctrl-q); also enables `~.`.
    #[arg(long = "detach-keys", value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// The session: ID, unique ID prefix, name (or its socket's path).
    pub session: String,
}

/// `cdbg sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// JSON (an array of objects, the fields of the table plus holder details).
    #[arg(long)]
    pub json: bool,
    /// Include sessions that ended (with why and their status).
    #[arg(short = 'a', long)]
    pub all: bool,
}

/// `cdbg kill SESSION`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// Deliver this signal to the command instead of ending the session
    /// (name or number: TERM, SIGINT, 9).
    #[arg(short = 's', long, value_name = "SIG")]
    pub signal: Option<String>,
    /// The session: ID, unique ID prefix, or name.
    pub session: String,
}

/// Whether `cdbg kill ARGS` means a session (rather than the `kill` applet):
/// `--signal` was given, or the first operand names a session.
pub fn is_session_kill(args: &[std::ffi::OsString]) -> bool {
    let mut first = None;
    for a in args {
        let a = a.to_string_lossy();
        if a == "--signal" || a.starts_with("--signal=") {
            return true;
        }
        if !a.starts_with('-') && first.is_none() {
            first = Some(a.into_owned());
        }
    }
    // A number is a PID for the applet unless it is a whole ID or a name.
    first.is_some_and(|f| match holder::resolve(&f) {
        Ok(m) => !f.bytes().all(|b| b.is_ascii_digit()) || m.id == f || m.name == Some(f),
        Err(_) => false,
    })
}

fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("cdbg: {msg}");
    125
}

/// `cdbg attach SESSION`.
pub fn attach(a: AttachArgs) -> i32 {
    let keys = match a.detach_keys.or_else(keys::from_config) {
        Some(k) => match keys::parse(&k) {
            Ok(k) => Some(k),
            Err(e) => return fail(e),
        },
        None => None,
    };
    if a.session.contains('/') {
        // A socket path (tests, or a session directory elsewhere).
        return attach_id(&a.session, a.steal, keys);
    }
    let m = match holder::resolve(&a.session) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    attach_id(&m.id, a.steal, keys)
}

fn report_ended(m: &Meta) -> Option<i32> {
    let e = m.ended.as_ref()?;
    eprintln!(
        "cdbg: session {} has ended: {} (exit status {})",
        m.id, e.reason, e.code
    );
    Some(e.code)
}

fn connect(id: &str) -> Result<OwnedFd, String> {
    match holder::connect(id) {
        Ok(s) => Ok(OwnedFd::from(s)),
        Err(e) => Err(format!("cannot connect to session {id}: {e}")),
    }
}

/// Sends a whole buffer on a blocking socket.
fn send_all(fd: &OwnedFd, mut b: &[u8]) -> bool {
    while !b.is_empty() {
        match rustix::net::send(fd, b, rustix::net::SendFlags::NOSIGNAL) {
            Ok(n) => b = &b[n..],
            Err(Errno::INTR) => {}
            Err(_) => return false,
        }
    }
    true
}

/// Reads the next frame (blocking).
fn recv_frame(fd: &OwnedFd, frames: &mut Frames) -> Option<(u8, Vec<u8>)> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match frames.next_frame() {
            Ok(Some(f)) => return Some(f),
            Ok(None) => {}
            Err(_) => return None,
        }
        match rustix::io::read(fd, &mut buf) {
            Ok(0) => return None,
            Ok(n) => frames.push(&buf[..n]),
            Err(Errno::INTR) => {}
            Err(_) => return None,
        }
    }
}

/// Attaches to the session with this ID (or a socket path, containing a
/// `/`, for tests).
pub fn attach_id(id: &str, steal: bool, keys: Option<Vec<u8>>) -> i32 {
    if let Some(code) = holder::list()
        .iter()
        .find(|m| m.id == id)
        .and_then(report_ended)
    {
        return code;
    }
    let sock = if id.contains('/') {
        match std::os::unix::net::UnixStream::connect(id) {
            Ok(s) => OwnedFd::from(s),
            Err(e) => return fail(format!("cannot connect to {id}: {e}")),
        }
    } else {
        match connect(id) {
            Ok(s) => s,
            Err(e) => return fail(e),
        }
    };
    let (rows, cols) = super::user_winsize().unwrap_or((24, 80));
    let mut hello = size_payload(rows, cols).to_vec();
    hello.push(u8::from(steal));
    // A refusal may already be waiting (the holder answers a stranger at
    // once and hangs up): read the answer even when the send failed.
    let _ = send_all(&sock, &frame(b'H', &hello));
    let mut frames = Frames::default();
    match recv_frame(&sock, &mut frames) {
        Some((b'A', _)) => {}
        Some((b'E', msg)) => return fail(String::from_utf8_lossy(&msg)),
        _ => return ended_while(id),
    }
    relay(id, sock, frames, keys)
}

/// The session went away under us: report its tombstone if there is one.
fn ended_while(id: &str) -> i32 {
    for _ in 0..20 {
        if let Some(code) = holder::list()
            .iter()
            .find(|m| m.id == id)
            .and_then(report_ended)
        {
            return code;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    fail(format!("session {id}: the holder is gone"))
}

enum End {
    Exit(i32),
    Detached,
    Quit,
    Stolen,
    Hangup,
    Lost,
}

fn relay(id: &str, sock: OwnedFd, mut frames: Frames, keys: Option<Vec<u8>>) -> i32 {
    let stdin = rustix::stdio::stdin();
    let stdout = rustix::stdio::stdout();
    let sigs = [
        libc::SIGWINCH,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGCONT,
    ];
    let sigfd = match sys::block_signals(&sigs).and_then(|_| sys::signalfd(&sigs)) {
        Ok(f) => f,
        Err(e) => return fail(format!("signals: {e}")),
    };
    let guard = if tty::is_tty(stdin) {
        sys::ignore_signal(libc::SIGTTOU);
        match tty::RawGuard::enter() {
            Ok(g) => Some(g),
            Err(e) => return fail(format!("cannot set the terminal to raw mode: {e}")),
        }
    } else {
        None
    };
    let mut esc = Escapes::new(keys.clone().unwrap_or_default(), keys.is_some());
    let mut stdin_open = true;
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = std::io::stdout().lock();
    let end = 'outer: loop {
        // Frames already buffered (the replay may arrive with `A`).
        loop {
            match frames.next_frame() {
                Ok(Some((b'D', p))) => {
                    if out.write_all(&p).and_then(|_| out.flush()).is_err() {
                        break 'outer End::Hangup;
                    }
                }
                Ok(Some((b'X', p))) if p.len() >= 4 => {
                    let code = i32::from_le_bytes([p[0], p[1], p[2], p[3]]);
                    break 'outer End::Exit(code);
                }
                Ok(Some((b'S', _))) => break 'outer End::Stolen,
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => break 'outer End::Lost,
            }
        }
        let mut fds = vec![
            PollFd::new(&sock, PollFlags::IN),
            PollFd::new(&sigfd, PollFlags::IN),
        ];
        if stdin_open {
            fds.push(PollFd::from_borrowed_fd(stdin, PollFlags::IN));
        }
        let timeout = esc.deadline().map(|d| {
            let left = d.saturating_duration_since(Instant::now());
            rustix::time::Timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: left.subsec_nanos() as i64,
            }
        });
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(_) => break End::Lost,
        }
        let rs = fds[0].revents();
        let rg = fds[1].revents();
        let ri = fds
            .get(2)
            .map(|f| f.revents())
            .unwrap_or(PollFlags::empty());
        drop(fds);
        let held = esc.expire(Instant::now());
        if !held.is_empty() && !send_all(&sock, &frame(b'D', &held)) {
            break End::Lost;
        }
        if !rs.is_empty() {
            match rustix::io::read(&sock, &mut buf) {
                Ok(0) => break End::Lost,
                Ok(n) => frames.push(&buf[..n]),
                Err(Errno::INTR) | Err(Errno::AGAIN) => {}
                Err(_) => break End::Lost,
            }
        }
        if !rg.is_empty() {
            while let Some(sig) = sys::read_signalfd(sigfd.as_fd()) {
                match sig {
                    libc::SIGWINCH => {
                        if let Some((r, c)) = super::user_winsize() {
                            let _ = send_all(&sock, &frame(b'R', &size_payload(r, c)));
                        }
                    }
                    libc::SIGCONT => {
                        if let Some(g) = &guard {
                            g.reapply();
                        }
                    }
                    _ => break 'outer End::Hangup,
                }
            }
        }
        if !ri.is_empty() {
            let n = match rustix::io::read(stdin, &mut buf) {
                Ok(0) => {
                    stdin_open = false;
                    continue;
                }
                Ok(n) => n,
                Err(Errno::INTR) | Err(Errno::AGAIN) => continue,
                Err(_) => {
                    stdin_open = false;
                    continue;
                }
            };
            let mut send = Vec::with_capacity(n);
            let action = esc.feed(&buf[..n], &mut send);
            if !send.is_empty() && !send_all(&sock, &frame(b'D', &send)) {
                break End::Lost;
            }
            match action {
                Some(Action::Detach) => break End::Detached,
                Some(Action::Quit) => break End::Quit,
                None => {}
            }
        }
    };
    drop(out);
    drop(guard);
    let _ = stdout;
    drop(sock);
    match end {
        End::Exit(code) => code,
        End::Detached | End::Quit => {
            eprintln!("cdbg: detached from session {id} (cdbg attach {id})");
            0
        }
        End::Stolen => {
            eprintln!("cdbg: session {id} was taken over by another client");
            0
        }
        End::Hangup => 0,
        End::Lost => ended_while(id),
    }
}

/// `cdbg sessions`.
pub fn sessions(a: SessionsArgs) -> i32 {
    let all: Vec<Meta> = holder::list()
        .into_iter()
        .filter(|m| a.all || m.ended.is_none())
        .collect();
    if a.json {
        match serde_json::to_string_pretty(&all) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(e),
        }
        return 0;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ago = |t: u64| {
        let s = now.saturating_sub(t);
        match s {
            0..=59 => format!("{s}s ago"),
            60..=3599 => format!("{}m ago", s / 60),
            3600..=86399 => format!("{}h ago", s / 3600),
            _ => format!("{}d ago", s / 86400),
        }
    };
    let mut rows = vec![[
        "ID".to_string(),
        "NAME".into(),
        "TARGET".into(),
        "COMMAND".into(),
        "STARTED".into(),
        "ATTACHED".into(),
        "PID".into(),
    ]];
    for m in &all {
        let attached = match &m.ended {
            Some(e) => format!("ended ({})", e.code),
            None if m.attached => "yes".into(),
            None => "no".into(),
        };
        rows.push([
            m.id.clone(),
            m.name.clone().unwrap_or_else(|| "-".into()),
            m.target.clone(),
            m.command.chars().take(40).collect(),
            ago(m.started),
            attached,
            m.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
        ]);
    }
    let mut w = [0usize; 7];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut o = std::io::stdout().lock();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect();
        let _ = writeln!(o, "{}", line.join("  ").trim_end());
    }
    0
}

/// Parses a signal name or number.
pub fn parse_signal(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..65).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    let n = match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "TERM" => libc::SIGTERM,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        "WINCH" => libc::SIGWINCH,
        "ALRM" => libc::SIGALRM,
        "PIPE" => libc::SIGPIPE,
        _ => return None,
    };
    Some(n)
}

/// `cdbg kill SESSION [--signal SIG]`.
pub fn kill(a: KillArgs) -> i32 {
    let sig = match a.signal.as_deref().map(|s| (s, parse_signal(s))) {
        None => 0,
        Some((_, Some(n))) => n,
        Some((s, None)) => return fail(format!("unknown signal {s:?}")),
    };
    let m = match holder::resolve(&a.session) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    if m.ended.is_some() {
        report_ended(&m);
        return 1;
    }
    let sock = match connect(&m.id) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if !send_all(&sock, &frame(b'K', &sig.to_le_bytes())) {
        return fail(format!("session {}: the holder hung up", m.id));
    }
    let mut frames = Frames::default();
    match recv_frame(&sock, &mut frames) {
        Some((b'A', _)) => {}
        Some((b'E', msg)) => return fail(String::from_utf8_lossy(&msg)),
        _ => return fail(format!("session {}: no answer from its holder", m.id)),
    }
    if sig == 0 {
        // The holder closes the connection once the session is over.
        while recv_frame(&sock, &mut frames).is_some() {}
    }
    0
}
