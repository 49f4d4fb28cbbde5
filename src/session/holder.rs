//! Kept (detachable) sessions, without a daemon: one holder process per
//! session, on the host.
//!
//! ```text
//! cdbg -d web                (client: starts the holder, prints the ID, exits)
//!   └╌ holder (host; setsid, double-forked, no terminal)
//!        owns: ctl socket to the leader, PTY master, listening socket
//!        /run/cdbg/sessions/<ID>.sock, 64 KiB ring of output
//!        └─ enter stage → leader (container) → command   (as in `session::run`)
//! cdbg attach <ID>           (client: connects, relays the user's terminal)
//! ```
//!
//! The holder owns the control socket, so the core lifetime rule holds: when
//! the holder dies, for any reason, the leader kills the session's processes.
//! When the command ends (or the leader dies with its container) the holder
//! writes a tombstone into the session's metadata, removes its socket and
//! exits.
//!
//! Files in the runtime directory (`/run/cdbg/sessions`, mode 0700; the
//! `CDBG_RUN_DIR` environment variable moves `/run/cdbg`, for tests):
//! `<ID>.sock` (0600), `<ID>.json` ([`Meta`], replaced atomically), and
//! `name.<NAME>` (created O_EXCL: the name's claim, holding the ID).
//!
//! # Protocol between a client and the holder
//!
//! Frames on the Unix stream socket: a type byte, a little-endian u32
//! length, the payload. The holder checks SO_PEERCRED: only its own uid may
//! connect. A connection starts with `H` (attach) or `K` (kill).
//!
//! | type | direction       | payload                                         |
//! |------|-----------------|-------------------------------------------------|
//! | `H`  | client → holder | rows u16, cols u16, flags u8 (1 = steal)        |
//! | `K`  | client → holder | signal i32 (0 = end the session)                |
//! | `D`  | both            | terminal bytes                                  |
//! | `R`  | client → holder | rows u16, cols u16 (window resized)             |
//! | `A`  | holder → client | nothing: attach accepted / kill done            |
//! | `E`  | holder → client | message: refused (then the holder closes)       |
//! | `S`  | holder → client | nothing: another client took the session over   |
//! | `X`  | holder → client | code i32, reason: the session ended             |
//!
//! After `A` the holder sends the ring buffer as `D` frames, then applies the
//! client's window size (nudging it, so full-screen programs repaint), then
//! relays live.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

use super::proto::{self, Msg};
use super::{launch, Launched, Spec};
use crate::sys;
use crate::tty::{self, relay};

/// Output kept for a re-attaching client.
pub const RING: usize = 64 * 1024;

/// What `cdbg sessions` shows, and the tombstone once the session ended.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    pub name: Option<String>,
    /// The target as the user named it ("pid 1234", "web").
    pub target: String,
    pub target_pid: i32,
    pub command: String,
    /// Unix time (seconds) the session started.
    pub started: u64,
    pub holder_pid: i32,
    /// The holder's start time (/proc/PID/stat field 22), against PID reuse.
    pub holder_start: u64,
    /// The command's PID on the host, and inside the container.
    pub pid: Option<i32>,
    pub container_pid: Option<i32>,
    pub attached: bool,
    pub ended: Option<Ended>,
}

/// Why and how a session ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ended {
    pub reason: String,
    /// docker-style status (128+N for signal N).
    pub code: i32,
    pub at: u64,
}

/// The directory of session sockets and metadata.
pub fn dir() -> PathBuf {
    let base = std::env::var_os("CDBG_RUN_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/cdbg"));
    base.join("sessions")
}

/// Creates `d` (and its parent) mode 0700, owned by us, never through a
/// symlink.
fn ensure_dir(d: &Path) -> io::Result<()> {
    use rustix::fs::Mode;
    if let Some(p) = d.parent() {
        if !p.as_os_str().is_empty() && !p.exists() {
            ensure_dir(p)?;
        }
    }
    match rustix::fs::mkdir(d, Mode::from_raw_mode(0o700)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => {
            return Err(io::Error::other(format!(
                "cannot create {}: {e}",
                d.display()
            )))
        }
    }
    let st = rustix::fs::lstat(d)?;
    let is_dir = rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory;
    if !is_dir || st.st_uid != rustix::process::geteuid().as_raw() {
        return Err(io::Error::other(format!(
            "{} is not a directory owned by this user",
            d.display()
        )));
    }
    if st.st_mode & 0o077 != 0 {
        rustix::fs::chmod(d, Mode::from_raw_mode(0o700))?;
    }
    Ok(())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn new_id() -> io::Result<String> {
    let mut b = [0u8; 6];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The socket path of session `id`.
pub fn sock_path(id: &str) -> PathBuf {
    dir().join(format!("{id}.sock"))
}

fn meta_path(id: &str) -> PathBuf {
    dir().join(format!("{id}.json"))
}

fn name_path(name: &str) -> PathBuf {
    dir().join(format!("name.{name}"))
}

/// Writes `m` atomically (temporary file, then rename).
pub fn write_meta(m: &Meta) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = dir().join(format!(".{}.json.tmp", m.id));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    serde_json::to_writer(&mut f, m).map_err(io::Error::other)?;
    drop(f);
    std::fs::rename(&tmp, meta_path(&m.id))
}

fn read_meta(path: &Path) -> Option<Meta> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Whether the holder of `m` is still running (PID and start time match).
pub fn holder_alive(m: &Meta) -> bool {
    if m.holder_pid <= 0 {
        return false;
    }
    // A zombie holder (its new parent has not reaped it yet) is gone.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", m.holder_pid)).unwrap_or_default();
    let zombie = stat
        .rsplit_once(')')
        .map(|(_, r)| r.trim_start().starts_with(['Z', 'X']))
        .unwrap_or(true);
    !zombie && super::stage::proc_start_time(m.holder_pid).ok() == Some(m.holder_start)
}

fn remove_files(m: &Meta) {
    let _ = std::fs::remove_file(sock_path(&m.id));
    if let Some(n) = &m.name {
        if std::fs::read_to_string(name_path(n)).ok().as_deref() == Some(m.id.as_str()) {
            let _ = std::fs::remove_file(name_path(n));
        }
    }
}

/// Every session on record: running ones and tombstones. Entries whose
/// holder is gone without a tombstone are removed; tombstones older than a
/// day too.
pub fn list() -> Vec<Meta> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir()) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        let fname = e.file_name().to_string_lossy().into_owned();
        if fname.starts_with('.') || !fname.ends_with(".json") {
            continue;
        }
        let Some(m) = read_meta(&p) else { continue };
        match &m.ended {
            None if !holder_alive(&m) => {
                remove_files(&m);
                let _ = std::fs::remove_file(&p);
            }
            Some(end) if now().saturating_sub(end.at) > 86_400 => {
                let _ = std::fs::remove_file(&p);
            }
            _ => out.push(m),
        }
    }
    out.sort_by(|a, b| (a.started, &a.id).cmp(&(b.started, &b.id)));
    out
}

/// Finds a session by ID, name or unique ID prefix.
pub fn resolve(key: &str) -> Result<Meta, String> {
    let all = list();
    if let Some(m) = all
        .iter()
        .find(|m| m.id == key || m.name.as_deref() == Some(key))
    {
        return Ok(m.clone());
    }
    let hits: Vec<&Meta> = all.iter().filter(|m| m.id.starts_with(key)).collect();
    match hits.as_slice() {
        [m] if !key.is_empty() => Ok((*m).clone()),
        [] | [_] => Err(format!("no session {key:?} (see `cdbg sessions`)")),
        many => Err(format!(
            "session {key:?} is ambiguous: {}",
            many.iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

// ---------------------------------------------------------------- frames

/// Encodes one frame.
pub fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 5);
    f.push(kind);
    f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    f.extend_from_slice(payload);
    f
}

/// A size payload (rows, cols).
pub fn size_payload(rows: u16, cols: u16) -> [u8; 4] {
    let (r, c) = (rows.to_le_bytes(), cols.to_le_bytes());
    [r[0], r[1], c[0], c[1]]
}

/// Reads a size payload.
pub fn parse_size(p: &[u8]) -> Option<(u16, u16)> {
    (p.len() >= 4).then(|| {
        (
            u16::from_le_bytes([p[0], p[1]]),
            u16::from_le_bytes([p[2], p[3]]),
        )
    })
}

/// A stream that is not in the frame format (or a frame over the limit).
#[derive(Debug, PartialEq, Eq)]
pub struct BadFrame;

/// Accumulates bytes and yields complete frames.
#[derive(Default)]
pub struct Frames {
    buf: Vec<u8>,
}

const MAX_PAYLOAD: usize = 1 << 20;

impl Frames {
    /// Adds received bytes.
    pub fn push(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Whether a whole frame (or a malformed header) is buffered.
    pub fn complete(&self) -> bool {
        self.buf.len() >= 5 && {
            let len =
                u32::from_le_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
            len > MAX_PAYLOAD || self.buf.len() >= 5 + len
        }
    }

    /// The next complete frame; `Err` on a malformed stream.
    pub fn next_frame(&mut self) -> Result<Option<(u8, Vec<u8>)>, BadFrame> {
        if self.buf.len() < 5 {
            return Ok(None);
        }
        let len = u32::from_le_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
        if len > MAX_PAYLOAD {
            return Err(BadFrame);
        }
        if self.buf.len() < 5 + len {
            return Ok(None);
        }
        let kind = self.buf[0];
        let payload = self.buf[5..5 + len].to_vec();
        self.buf.drain(..5 + len);
        Ok(Some((kind, payload)))
    }
}

/// Reads what is available from a non-blocking descriptor: `None` at EOF
/// or on an error.
pub fn read_avail(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Option<usize> {
    loop {
        match rustix::io::read(fd, &mut *buf) {
            Ok(0) => return None,
            Ok(n) => return Some(n),
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => return Some(0),
            Err(_) => return None,
        }
    }
}

fn set_nonblocking(fd: BorrowedFd<'_>) {
    if let Ok(fl) = rustix::fs::fcntl_getfl(fd) {
        let _ = rustix::fs::fcntl_setfl(fd, fl | rustix::fs::OFlags::NONBLOCK);
    }
}

// ---------------------------------------------------------------- start

/// How a kept session is started.
pub struct KeepSpec {
    pub name: Option<String>,
}

/// Starts the holder for `spec` (which must have a PTY): returns the
/// session's ID once the command runs, or the exit status and message of
/// a session that could not start.
///
/// The caller must be single-threaded (it forks).
pub fn start(spec: Spec, keep: KeepSpec) -> Result<String, (i32, String)> {
    let d = dir();
    ensure_dir(&d).map_err(|e| (125, e.to_string()))?;
    let id = new_id().map_err(|e| (125, format!("cannot make a session ID: {e}")))?;
    if let Some(n) = &keep.name {
        claim_name(n, &id)?;
    }
    let release_name = || {
        if let Some(n) = &keep.name {
            let _ = std::fs::remove_file(name_path(n));
        }
    };
    // The socket is created 0600 (umask), in a 0700 directory; bind fails if
    // the path exists, so two sessions can never share one.
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let listener = UnixListener::bind(sock_path(&id));
    rustix::process::umask(old);
    let listener = match listener {
        Ok(l) => l,
        Err(e) => {
            release_name();
            return Err((125, format!("cannot create the session socket: {e}")));
        }
    };
    let command = if spec.argv.is_empty() {
        "(shell)".to_string()
    } else {
        spec.argv
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let meta = Meta {
        id: id.clone(),
        name: keep.name.clone(),
        target: spec.label.clone(),
        target_pid: spec.pid,
        command,
        started: now(),
        ..Meta::default()
    };
    let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| (125, format!("pipe: {e}")))?;
    let first = match sys::fork() {
        Ok(sys::Fork::Child) => {
            drop(rd);
            let _ = rustix::process::setsid();
            match sys::fork() {
                Ok(sys::Fork::Child) => {
                    let code = holder_main(spec, meta, listener, wr);
                    sys::exit_now(code)
                }
                _ => sys::exit_now(0),
            }
        }
        Ok(sys::Fork::Parent(pid)) => pid,
        Err(e) => {
            release_name();
            let _ = std::fs::remove_file(sock_path(&id));
            return Err((125, format!("fork: {e}")));
        }
    };
    drop(wr);
    drop(listener);
    let _ = rustix::process::waitpid(
        rustix::process::Pid::from_raw(first),
        rustix::process::WaitOptions::empty(),
    );
    let mut report = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::fs::File::from(rd), &mut report);
    let report = String::from_utf8_lossy(&report).into_owned();
    if report == "ok" {
        return Ok(id);
    }
    match report.split_once(' ') {
        Some((code, msg)) => Err((code.parse().unwrap_or(125), msg.to_string())),
        None => Err((125, "the session holder died while starting".into())),
    }
}

fn claim_name(name: &str, id: &str) -> Result<(), (i32, String)> {
    use std::os::unix::fs::OpenOptionsExt;
    if name.is_empty()
        || name.contains('/')
        || name.starts_with('.')
        || !name.chars().all(|c| c.is_ascii_graphic())
    {
        return Err((125, format!("invalid session name {name:?}")));
    }
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(name_path(name))
        {
            Ok(mut f) => {
                let _ = std::io::Write::write_all(&mut f, id.as_bytes());
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Taken, unless its session is gone (list() cleans up).
                let owner = std::fs::read_to_string(name_path(name)).unwrap_or_default();
                let live = list().iter().any(|m| m.id == owner && m.ended.is_none());
                if live {
                    return Err((125, format!("a session named {name:?} exists ({owner})")));
                }
                let _ = std::fs::remove_file(name_path(name));
            }
            Err(e) => return Err((125, format!("cannot claim the name {name:?}: {e}"))),
        }
    }
    Err((125, format!("cannot claim the name {name:?}")))
}

// ---------------------------------------------------------------- holder

struct Conn {
    fd: OwnedFd,
    frames: Frames,
    out: VecDeque<u8>,
    /// Accepted (sent `H`, got `A`); before that only `H`/`K` count.
    attached: bool,
}

impl Conn {
    fn send(&mut self, kind: u8, payload: &[u8]) {
        self.out.extend(frame(kind, payload));
    }

    /// Writes what it can; false when the peer is gone.
    fn flush(&mut self) -> bool {
        while !self.out.is_empty() {
            let (a, _) = self.out.as_slices();
            match rustix::net::send(&self.fd, a, rustix::net::SendFlags::NOSIGNAL) {
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(Errno::AGAIN) => return true,
                Err(Errno::INTR) => continue,
                Err(_) => return false,
            }
        }
        true
    }

    /// Blocking flush with a deadline (for the last words before closing).
    fn flush_for(&mut self, limit: Duration) {
        let end = Instant::now() + limit;
        while !self.out.is_empty() && Instant::now() < end {
            if !self.flush() {
                return;
            }
            let mut p = [PollFd::new(&self.fd, PollFlags::OUT)];
            let t = rustix::time::Timespec {
                tv_sec: 0,
                tv_nsec: 50_000_000,
            };
            let _ = poll(&mut p, Some(&t));
        }
    }
}

struct Holder {
    meta: Meta,
    listener: UnixListener,
    ctl: Option<OwnedFd>,
    master: OwnedFd,
    enter_pid: i32,
    ring: VecDeque<u8>,
    to_master: VecDeque<u8>,
    client: Option<Conn>,
    pending: Vec<Conn>,
    master_eof: bool,
    ended: Option<(i32, String)>,
    deadline: Option<Instant>,
    size: (u16, u16),
    /// `cdbg kill` connections, closed when the holder is done.
    lingering: Vec<Conn>,
}

fn holder_main(spec: Spec, mut meta: Meta, listener: UnixListener, report: OwnedFd) -> i32 {
    let say = |s: &str| {
        let _ = rustix::io::write(&report, s.as_bytes());
    };
    // Away from the user's terminal and working directory.
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for n in 0..3 {
            if let Ok(fd) = sys::dup2_raw(null.as_fd(), n) {
                std::mem::forget(fd);
            }
        }
    }
    {
        use std::os::fd::AsRawFd;
        sys::holder::close_inherited(&[listener.as_raw_fd(), report.as_raw_fd()]);
    }
    let _ = std::env::set_current_dir("/");
    let sigs = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT];
    let sigfd = match sys::block_signals(&sigs).and_then(|_| sys::signalfd(&sigs)) {
        Ok(f) => f,
        Err(e) => {
            say(&format!("125 signals: {e}"));
            return 125;
        }
    };
    sys::ignore_signal(libc::SIGPIPE);
    meta.holder_pid = rustix::process::getpid().as_raw_nonzero().get();
    meta.holder_start = super::stage::proc_start_time(meta.holder_pid).unwrap_or(0);
    let size = spec.winsize.unwrap_or((24, 80));
    let cleanup = |m: &Meta| {
        remove_files(m);
        let _ = std::fs::remove_file(meta_path(&m.id));
    };
    if let Err(e) = write_meta(&meta) {
        cleanup(&meta);
        say(&format!("125 cannot write the session's metadata: {e}"));
        return 125;
    }
    let Launched { ctl, enter_pid, io } = match launch(spec) {
        Ok(Ok(l)) => l,
        Ok(Err(relay::Outcome::Failed(code, msg))) => {
            cleanup(&meta);
            say(&format!("{code} {msg}"));
            return code;
        }
        Ok(Err(_)) => {
            cleanup(&meta);
            say("125 the session did not start");
            return 125;
        }
        Err(e) => {
            cleanup(&meta);
            say(&format!("125 {e}"));
            return 125;
        }
    };
    let relay::Session::Pty(master) = io else {
        cleanup(&meta);
        say("125 a kept session needs a PTY");
        return 125;
    };
    set_nonblocking(master.as_fd());
    let _ = listener.set_nonblocking(true);
    let mut h = Holder {
        meta,
        listener,
        ctl: Some(ctl),
        master,
        enter_pid,
        ring: VecDeque::with_capacity(RING),
        to_master: VecDeque::new(),
        client: None,
        pending: Vec::new(),
        master_eof: false,
        ended: None,
        deadline: None,
        size,
        lingering: Vec::new(),
    };
    // Wait (briefly) for the command's PID, so `cdbg sessions` shows it.
    h.await_started();
    let _ = write_meta(&h.meta);
    say("ok");
    drop(report);
    let code = h.run(&sigfd);
    h.finish(code);
    0
}

impl Holder {
    fn await_started(&mut self) {
        let Some(ctl) = self.ctl.as_ref() else { return };
        let mut p = [PollFd::new(ctl, PollFlags::IN)];
        let t = rustix::time::Timespec {
            tv_sec: 2,
            tv_nsec: 0,
        };
        if matches!(poll(&mut p, Some(&t)), Ok(n) if n > 0) {
            self.on_ctl();
        }
    }

    fn on_ctl(&mut self) {
        let Some(ctl) = self.ctl.as_ref() else { return };
        match proto::recv(ctl.as_fd()) {
            Ok(Some((Msg::Started { pid }, _))) => {
                self.meta.container_pid = Some(pid);
                self.meta.pid = host_pid(self.enter_pid, pid);
                let _ = write_meta(&self.meta);
            }
            Ok(Some((Msg::Exit { code }, _))) => {
                self.ended
                    .get_or_insert((code, format!("the command exited with status {code}")));
            }
            Ok(Some((Msg::Failed { code, msg }, _))) => {
                self.ended.get_or_insert((code, msg));
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => {
                self.ctl = None;
                self.ended.get_or_insert((
                    137,
                    "the session's leader is gone (the container stopped or was killed)".into(),
                ));
            }
        }
    }

    fn push_output(&mut self, data: &[u8]) {
        if data.len() >= RING {
            self.ring.clear();
            self.ring.extend(&data[data.len() - RING..]);
        } else {
            let over = (self.ring.len() + data.len()).saturating_sub(RING);
            self.ring.drain(..over);
            self.ring.extend(data);
        }
        if let Some(c) = self.client.as_mut() {
            for chunk in data.chunks(MAX_PAYLOAD) {
                c.send(b'D', chunk);
            }
        }
    }

    fn set_attached(&mut self, on: bool) {
        if self.meta.attached != on {
            self.meta.attached = on;
            let _ = write_meta(&self.meta);
        }
    }

    fn accept(&mut self) {
        while let Ok((s, _)) = self.listener.accept() {
            let fd = OwnedFd::from(s);
            let me = rustix::process::geteuid().as_raw();
            let uid = rustix::net::sockopt::socket_peercred(&fd)
                .map(|c| c.uid.as_raw())
                .ok();
            set_nonblocking(fd.as_fd());
            let mut c = Conn {
                fd,
                frames: Frames::default(),
                out: VecDeque::new(),
                attached: false,
            };
            if uid != Some(me) {
                let who = uid.map(|u| u.to_string()).unwrap_or("?".into());
                c.send(
                    b'E',
                    format!("permission denied: uid {who} does not own this session").as_bytes(),
                );
                c.flush_for(Duration::from_millis(200));
                continue;
            }
            if self.pending.len() < 16 {
                self.pending.push(c);
            }
        }
    }

    /// Handles a first frame on a new connection. Returns the connection
    /// when it stays open but is not (yet) the client.
    fn hello(&mut self, mut c: Conn, kind: u8, p: &[u8]) -> Option<Conn> {
        match kind {
            b'H' => {
                let steal = p.get(4).copied().unwrap_or(0) & 1 != 0;
                if let Some(old) = self.client.as_mut() {
                    if !steal {
                        c.send(
                            b'E',
                            format!(
                                "session {} is attached elsewhere (use --steal to take it over)",
                                self.meta.id
                            )
                            .as_bytes(),
                        );
                        c.flush_for(Duration::from_millis(200));
                        return None;
                    }
                    old.send(b'S', &[]);
                    old.flush_for(Duration::from_millis(200));
                    self.client = None;
                }
                c.attached = true;
                c.send(b'A', &[]);
                let ring: Vec<u8> = self.ring.iter().copied().collect();
                for chunk in ring.chunks(MAX_PAYLOAD) {
                    c.send(b'D', chunk);
                }
                let _ = c.flush();
                self.client = Some(c);
                if let Some((r, cols)) = parse_size(p).filter(|s| s.0 > 0 && s.1 > 0) {
                    self.resize(r, cols, true);
                } else {
                    let (r, cols) = self.size;
                    self.resize(r, cols, true);
                }
                self.set_attached(true);
                None
            }
            b'K' => {
                let sig = p
                    .get(..4)
                    .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                if sig == 0 {
                    self.ended
                        .get_or_insert((137, "killed with `cdbg kill`".into()));
                    // End now: closing ctl kills the session's processes.
                    self.ctl = None;
                    self.master_eof = true;
                } else if let Some(ctl) = &self.ctl {
                    proto::tell(ctl, &Msg::Signal(sig));
                }
                c.send(b'A', &[]);
                c.flush_for(Duration::from_millis(200));
                // The connection closes when `c` drops (the kill client
                // waits for EOF).
                if sig == 0 {
                    Some(c)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Applies a window size; `nudge` forces a SIGWINCH even when the size
    /// did not change, so full-screen programs repaint.
    fn resize(&mut self, rows: u16, cols: u16, nudge: bool) {
        if nudge {
            let other = if cols > 1 { cols - 1 } else { cols + 1 };
            tty::set_winsize(&self.master, rows, other);
        }
        tty::set_winsize(&self.master, rows, cols);
        self.size = (rows, cols);
    }

    fn run(&mut self, sigfd: &OwnedFd) -> i32 {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Some((code, _)) = &self.ended {
                let d = *self
                    .deadline
                    .get_or_insert_with(|| Instant::now() + Duration::from_secs(2));
                if self.master_eof || Instant::now() >= d {
                    return *code;
                }
            }
            let client_backlog = self.client.as_ref().map(|c| c.out.len()).unwrap_or(0);
            let mut fds: Vec<PollFd<'_>> = Vec::new();
            let mut roles: Vec<(u8, usize)> = Vec::new();
            fds.push(PollFd::new(&self.listener, PollFlags::IN));
            roles.push((0, 0));
            fds.push(PollFd::new(sigfd, PollFlags::IN));
            roles.push((1, 0));
            if let Some(ctl) = &self.ctl {
                fds.push(PollFd::new(ctl, PollFlags::IN));
                roles.push((2, 0));
            }
            let mut mflags = PollFlags::empty();
            if !self.master_eof && client_backlog < (1 << 20) {
                mflags |= PollFlags::IN;
            }
            if !self.to_master.is_empty() {
                mflags |= PollFlags::OUT;
            }
            if !mflags.is_empty() {
                fds.push(PollFd::new(&self.master, mflags));
                roles.push((3, 0));
            }
            if let Some(c) = &self.client {
                let mut f = PollFlags::empty();
                if self.to_master.len() < (1 << 20) {
                    f |= PollFlags::IN;
                }
                if !c.out.is_empty() {
                    f |= PollFlags::OUT;
                }
                fds.push(PollFd::new(&c.fd, f));
                roles.push((4, 0));
            }
            for (i, c) in self.pending.iter().enumerate() {
                fds.push(PollFd::new(&c.fd, PollFlags::IN));
                roles.push((5, i));
            }
            for (i, c) in self.lingering.iter().enumerate() {
                fds.push(PollFd::new(&c.fd, PollFlags::IN));
                roles.push((6, i));
            }
            let timeout = self.deadline.map(|_| rustix::time::Timespec {
                tv_sec: 0,
                tv_nsec: 100_000_000,
            });
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(_) => return 125,
            }
            let ready: Vec<((u8, usize), PollFlags)> = fds
                .iter()
                .zip(roles)
                .map(|(f, r)| (r, f.revents()))
                .filter(|(_, r)| !r.is_empty())
                .collect();
            drop(fds);
            let mut drop_pending: Vec<usize> = Vec::new();
            let mut drop_keep: Vec<usize> = Vec::new();
            for ((role, idx), rev) in ready {
                match role {
                    0 => self.accept(),
                    1 => {
                        while let Some(sig) = sys::read_signalfd(sigfd.as_fd()) {
                            self.ended.get_or_insert((
                                128 + sig,
                                format!("the session holder got signal {sig}"),
                            ));
                            self.ctl = None;
                            self.master_eof = true;
                        }
                    }
                    2 => self.on_ctl(),
                    3 => {
                        if rev.contains(PollFlags::OUT) {
                            self.write_master();
                        }
                        if rev.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
                            match read_avail(self.master.as_fd(), &mut buf) {
                                Some(0) => {}
                                Some(n) => {
                                    let data = buf[..n].to_vec();
                                    self.push_output(&data);
                                }
                                None => self.master_eof = true,
                            }
                        }
                    }
                    4 => self.on_client(rev, &mut buf),
                    5 => {
                        let c = &mut self.pending[idx];
                        match read_avail(c.fd.as_fd(), &mut buf) {
                            Some(n) => c.frames.push(&buf[..n]),
                            None => {
                                drop_pending.push(idx);
                                continue;
                            }
                        }
                        if c.frames.complete() {
                            drop_pending.push(idx);
                        }
                    }
                    _ => {
                        if read_avail(self.lingering[idx].fd.as_fd(), &mut buf).is_none() {
                            drop_keep.push(idx);
                        }
                    }
                }
            }
            // Handle first frames of new connections (in order, once).
            drop_pending.sort_unstable();
            drop_pending.dedup();
            for idx in drop_pending.into_iter().rev() {
                let mut c = self.pending.remove(idx);
                // Re-parse: the frame is still in the buffer.
                if let Ok(Some((kind, p))) = c.frames.next_frame() {
                    if let Some(k) = self.hello(c, kind, &p) {
                        self.lingering.push(k);
                    }
                }
            }
            drop_keep.sort_unstable();
            for idx in drop_keep.into_iter().rev() {
                self.lingering.remove(idx);
            }
            if let Some(c) = self.client.as_mut() {
                if !c.flush() || c.out.len() > (8 << 20) {
                    self.client = None;
                    self.set_attached(false);
                }
            }
        }
    }

    fn write_master(&mut self) {
        while !self.to_master.is_empty() {
            let (a, _) = self.to_master.as_slices();
            match rustix::io::write(&self.master, a) {
                Ok(n) => {
                    self.to_master.drain(..n);
                }
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => return,
                Err(_) => {
                    self.to_master.clear();
                    return;
                }
            }
        }
    }

    fn on_client(&mut self, rev: PollFlags, buf: &mut [u8]) {
        let Some(c) = self.client.as_mut() else {
            return;
        };
        if rev.contains(PollFlags::OUT) && !c.flush() {
            self.client = None;
            self.set_attached(false);
            return;
        }
        if !rev.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            return;
        }
        let gone = match read_avail(c.fd.as_fd(), buf) {
            Some(n) => {
                c.frames.push(&buf[..n]);
                false
            }
            None => true,
        };
        let mut frames = Vec::new();
        let mut bad = false;
        loop {
            match c.frames.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(BadFrame) => {
                    bad = true;
                    break;
                }
            }
        }
        for (kind, p) in frames {
            match kind {
                b'D' => {
                    self.to_master.extend(&p);
                    self.write_master();
                }
                b'R' => {
                    if let Some((r, cols)) = parse_size(&p).filter(|s| s.0 > 0 && s.1 > 0) {
                        self.resize(r, cols, false);
                    }
                }
                _ => {}
            }
        }
        if gone || bad {
            self.client = None;
            self.set_attached(false);
        }
    }

    /// The session ended: tell the client, write the tombstone, clean up.
    fn finish(&mut self, code: i32) {
        // Closing ctl ends the session's processes (if any are left).
        self.ctl = None;
        let reason = self
            .ended
            .as_ref()
            .map(|e| e.1.clone())
            .unwrap_or_else(|| "the session ended".into());
        self.meta.attached = false;
        self.meta.ended = Some(Ended {
            reason: reason.clone(),
            code,
            at: now(),
        });
        let _ = write_meta(&self.meta);
        remove_files(&self.meta);
        if let Some(mut c) = self.client.take() {
            let mut p = code.to_le_bytes().to_vec();
            p.extend_from_slice(reason.as_bytes());
            c.send(b'X', &p);
            c.flush_for(Duration::from_secs(1));
        }
        let _ = rustix::process::waitpid(
            rustix::process::Pid::from_raw(self.enter_pid),
            rustix::process::WaitOptions::empty(),
        );
        self.lingering.clear();
    }
}

/// The host PID of the command whose PID in the container is `inner`: a
/// descendant of the enter stage whose innermost NSpid is `inner`.
fn host_pid(enter_pid: i32, inner: i32) -> Option<i32> {
    let mut queue = vec![(enter_pid, 0)];
    while let Some((p, depth)) = queue.pop() {
        if depth > 0 {
            let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
            let last = status
                .lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .and_then(|v| v.split_whitespace().last())
                .and_then(|v| v.parse::<i32>().ok());
            if last == Some(inner) && depth >= 2 {
                return Some(p);
            }
        }
        if depth < 3 {
            for c in children(p) {
                queue.push((c, depth + 1));
            }
        }
    }
    None
}

/// The direct children of `pid`, from the host's /proc (every thread's
/// `children` list).
pub fn children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let s = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            out.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    out
}

/// Connects to session `id`'s socket.
pub fn connect(id: &str) -> io::Result<UnixStream> {
    UnixStream::connect(sock_path(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_roundtrip() {
        let mut f = Frames::default();
        let a = frame(b'D', b"hello");
        let b = frame(b'R', &size_payload(24, 80));
        f.push(&a[..3]);
        assert_eq!(f.next_frame(), Ok(None));
        f.push(&a[3..]);
        f.push(&b);
        assert_eq!(f.next_frame(), Ok(Some((b'D', b"hello".to_vec()))));
        let (k, p) = f.next_frame().unwrap().unwrap();
        assert_eq!((k, parse_size(&p)), (b'R', Some((24, 80))));
        assert_eq!(f.next_frame(), Ok(None));
    }
}
