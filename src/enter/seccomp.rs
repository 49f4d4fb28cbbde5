//! The target's seccomp filters: read them on the host with ptrace
//! (PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_SECCOMP_GET_FILTER,
//! PTRACE_DETACH) and install the same programs, oldest first, on the
//! command right before its execve.

use std::io;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::sys::confine::{self as sys, RawSockFilter};

/// One classic-BPF instruction (serializable form of `struct sock_filter`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump if true.
    pub jt: u8,
    /// Jump if false.
    pub jf: u8,
    /// Generic field.
    pub k: u32,
}

impl From<RawSockFilter> for SockFilter {
    fn from(r: RawSockFilter) -> Self {
        SockFilter {
            code: r.code,
            jt: r.jt,
            jf: r.jf,
            k: r.k,
        }
    }
}

impl From<SockFilter> for RawSockFilter {
    fn from(s: SockFilter) -> Self {
        RawSockFilter {
            code: s.code,
            jt: s.jt,
            jf: s.jf,
            k: s.k,
        }
    }
}

/// One attached filter program and the flags it was installed with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// `SECCOMP_FILTER_FLAG_*` flags reported by the kernel (LOG).
    pub flags: u64,
    /// The BPF program, carried to the enter stage as one hex string of
    /// the kernel's 8-byte records: a Docker profile is about 1,000
    /// instructions, and as JSON objects it took 1 ms to serialize.
    #[serde(with = "prog_hex")]
    pub prog: Vec<SockFilter>,
}

/// A program as the hex string of its `struct sock_filter` records (code
/// u16, jt u8, jf u8, k u32; little-endian).
mod prog_hex {
    use super::SockFilter;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(prog: &[SockFilter], s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(prog.len() * 8);
        for i in prog {
            bytes.extend_from_slice(&i.code.to_le_bytes());
            bytes.extend_from_slice(&[i.jt, i.jf]);
            bytes.extend_from_slice(&i.k.to_le_bytes());
        }
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SockFilter>, D::Error> {
        let bytes = hex::decode(String::deserialize(d)?).map_err(D::Error::custom)?;
        if bytes.len() % 8 != 0 {
            return Err(D::Error::custom("a BPF program is a multiple of 8 bytes"));
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|r| SockFilter {
                code: u16::from_le_bytes([r[0], r[1]]),
                jt: r[2],
                jf: r[3],
                k: u32::from_le_bytes([r[4], r[5], r[6], r[7]]),
            })
            .collect())
    }
}

/// `SECCOMP_RET_USER_NOTIF`: the action a filter uses to defer a syscall
/// to a supervisor listening on a notification fd.
const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
const BPF_RET: u16 = 0x06;
const BPF_K: u16 = 0x00;
/// Flags we may pass back when installing (LOG and SPEC_ALLOW).
const REPLAYABLE_FLAGS: u64 = 0b110; // SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW

impl Filter {
    /// Whether the program can return SECCOMP_RET_USER_NOTIF. Such a
    /// syscall fails with ENOSYS for the copy (no supervisor listens to it).
    pub fn uses_user_notif(&self) -> bool {
        self.prog.iter().any(|i| {
            i.code == BPF_RET | BPF_K && i.k & SECCOMP_RET_ACTION_FULL == SECCOMP_RET_USER_NOTIF
        })
    }
}

/// Read all seccomp filters of `pid` (a thread-group leader), returned
/// oldest first (the order to install them in). The target stays in a
/// ptrace-stop only while the filters are copied. When another tracer
/// holds the target, retries for up to `wait` before failing.
pub fn fetch_filters(pid: i32, wait: Duration) -> Result<Vec<Filter>, String> {
    let deadline = Instant::now() + wait;
    loop {
        match sys::ptrace_seize(pid) {
            Ok(()) => break,
            Err(e) if e.raw_os_error() == Some(libc::EPERM) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                return Err(format!(
                    "pid {pid}: cannot read its seccomp filters: cannot ptrace it ({e}); \
                     is another debugger attached? (or use --seccomp=unconfined)"
                ))
            }
            Err(e) => {
                return Err(format!(
                    "pid {pid}: cannot read its seccomp filters: ptrace: {e}"
                ))
            }
        }
    }
    let res = stopped_copy(pid);
    // Detach whatever happened; re-inject a signal we intercepted.
    let (filters, inject) = match res {
        Ok(x) => x,
        Err((e, alive)) => {
            if alive {
                let _ = sys::ptrace_detach(pid, 0);
            }
            return Err(format!("pid {pid}: cannot read its seccomp filters: {e}"));
        }
    };
    sys::ptrace_detach(pid, inject).map_err(|e| format!("pid {pid}: ptrace detach: {e}"))?;
    Ok(filters)
}

/// How long to wait for the tracee to reach its ptrace-stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(1);

/// Interrupt the seized tracee, copy its filters. Err carries whether the
/// tracee is still alive (so still needs a detach).
fn stopped_copy(pid: i32) -> Result<(Vec<Filter>, i32), (String, bool)> {
    sys::ptrace_interrupt(pid).map_err(|e| (format!("ptrace interrupt: {e}"), true))?;
    // A frozen task never reaches the stop: give up after a second (the
    // kernel detaches us when cdbg exits, so the target is not left stuck).
    let deadline = Instant::now() + STOP_TIMEOUT;
    let status = loop {
        match sys::waitpid_nohang(pid) {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_micros(50)),
            Ok(None) => {
                return Err((
                    "it did not stop for ptrace within a second (frozen or paused?)".into(),
                    true,
                ))
            }
            Err(e) => return Err((format!("wait for stop: {e}"), true)),
        }
    };
    if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
        return Err(("the process exited".into(), false));
    }
    if !libc::WIFSTOPPED(status) {
        return Err((format!("unexpected wait status {status:#x}"), true));
    }
    // A PTRACE_EVENT_STOP (interrupt or group stop) needs no re-injection;
    // a signal-delivery-stop must pass its signal on at detach.
    let event = (status >> 16) & 0xff;
    let inject = if event == libc::PTRACE_EVENT_STOP {
        0
    } else {
        libc::WSTOPSIG(status)
    };
    // Index 0 is the OLDEST filter (the kernel walks back from the newest
    // `count - index - 1` steps; ptrace(2) says otherwise, the code and this
    // module's test agree), so the list comes out in install order.
    let mut oldest_first = Vec::new();
    for index in 0u64.. {
        match sys::ptrace_seccomp_get_filter(pid, index) {
            Ok(prog) => {
                let flags = sys::ptrace_seccomp_get_flags(pid, index).unwrap_or(0);
                oldest_first.push(Filter {
                    flags,
                    prog: prog.into_iter().map(SockFilter::from).collect(),
                });
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => break,
            // EINVAL at index 0: not in filter mode (no filters at all).
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && index == 0 => break,
            Err(e) => return Err((format!("PTRACE_SECCOMP_GET_FILTER {index}: {e}"), true)),
        }
    }
    Ok((oldest_first, inject))
}

/// Install `filters` on the calling thread, first element first (oldest
/// first). Needs no_new_privs or CAP_SYS_ADMIN in the current user ns.
pub fn install(filters: &[Filter]) -> io::Result<()> {
    for f in filters {
        let prog: Vec<RawSockFilter> = f.prog.iter().map(|i| (*i).into()).collect();
        sys::seccomp_set_filter(&prog, f.flags & REPLAYABLE_FLAGS)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A filter that makes syscall `nr` fail with `errno`, allows the rest.
    pub(crate) fn deny(nr: u32, errno: u32) -> Vec<SockFilter> {
        vec![
            // ld [0] (seccomp_data.nr)
            SockFilter {
                code: 0x20,
                jt: 0,
                jf: 0,
                k: 0,
            },
            // jeq #nr, 0, 1
            SockFilter {
                code: 0x15,
                jt: 0,
                jf: 1,
                k: nr,
            },
            // ret ERRNO|errno
            SockFilter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 0x0005_0000 | errno,
            },
            // ret ALLOW
            SockFilter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 0x7fff_0000,
            },
        ]
    }

    fn raw(f: &[SockFilter]) -> Vec<RawSockFilter> {
        f.iter().map(|i| (*i).into()).collect()
    }

    #[test]
    fn program_travels_as_hex() {
        let f = Filter {
            flags: 2,
            prog: deny(39, 1),
        };
        let json = serde_json::to_string(&f).unwrap();
        // ld [0]: code 0x20, jt 0, jf 0, k 0; then jeq #39, 0, 1.
        assert!(
            json.contains(r#""prog":"20000000000000001500000127000000"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Filter>(&json).unwrap(), f);
        let odd = json.replacen("2000000000000000", "20000000000000", 1);
        assert!(serde_json::from_str::<Filter>(&odd).is_err());
    }

    #[test]
    fn user_notif_detection() {
        let mut f = Filter {
            flags: 0,
            prog: deny(63, 1),
        };
        assert!(!f.uses_user_notif());
        f.prog[2].k = SECCOMP_RET_USER_NOTIF;
        assert!(f.uses_user_notif());
    }

    #[test]
    fn fetch_filters_of_a_confined_process() {
        let a = deny(libc::SYS_uname as u32, 1);
        let b = deny(libc::SYS_sethostname as u32, 13);
        let mut child = sys::spawn_with_filters(
            std::process::Command::new("/bin/sleep").arg("30"),
            vec![raw(&a), raw(&b)],
        )
        .unwrap();
        let pid = child.id() as i32;
        let info = crate::enter::procinfo::ProcInfo::read(pid).unwrap();
        assert_eq!(info.status.seccomp_mode, 2);
        assert!(info.status.no_new_privs);
        let t = Instant::now();
        let got = fetch_filters(pid, Duration::from_millis(500)).unwrap();
        let took = t.elapsed();
        // Still running and untraced afterwards.
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        assert!(status.contains("TracerPid:\t0"), "{status}");
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].prog, a, "oldest first");
        assert_eq!(got[1].prog, b);
        assert!(took < Duration::from_millis(200), "{took:?}");
    }

    #[test]
    fn fetch_filters_of_an_unconfined_process() {
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let got = fetch_filters(child.id() as i32, Duration::from_millis(100));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(got.unwrap(), vec![]);
    }

    #[test]
    fn fetch_filters_while_another_tracer_holds_it() {
        // The tracer is a second thread's seize... simpler: a traced child
        // (strace-like) is emulated by seizing from a helper process.
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let mut holder = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "enter::seccomp::tests::hold_ptrace",
                "--nocapture",
            ])
            .env("CDBGT_HOLD_PID", pid.to_string())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the holder is attached.
        let t = Instant::now();
        loop {
            let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            if !s.contains("TracerPid:\t0") {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "holder never attached"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let e = fetch_filters(pid, Duration::from_millis(100)).unwrap_err();
        assert!(
            e.contains(&format!("pid {pid}")) && e.contains("another debugger"),
            "{e}"
        );
        holder.kill().unwrap();
        holder.wait().unwrap();
        // Once the tracer is gone, the retry loop succeeds.
        assert_eq!(fetch_filters(pid, Duration::from_secs(2)).unwrap(), vec![]);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn fetch_filters_of_a_stopped_process_leaves_it_stopped() {
        let a = deny(libc::SYS_uname as u32, 1);
        let mut child = sys::spawn_with_filters(
            std::process::Command::new("/bin/sleep").arg("30"),
            vec![raw(&a)],
        )
        .unwrap();
        let pid = child.id() as i32;
        let state = || {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap()
                .lines()
                .find(|l| l.starts_with("State:"))
                .unwrap()
                .to_string()
        };
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(pid).unwrap(),
            rustix::process::Signal::STOP,
        )
        .unwrap();
        let t = Instant::now();
        while !state().contains("T (stopped)") {
            assert!(t.elapsed() < Duration::from_secs(5), "{}", state());
            std::thread::sleep(Duration::from_millis(5));
        }
        let got = fetch_filters(pid, Duration::from_millis(500)).unwrap();
        // Detaching kicks the task, which re-enters its group stop.
        let t = Instant::now();
        let mut after = state();
        while !after.contains("T (stopped)") && t.elapsed() < Duration::from_secs(1) {
            std::thread::sleep(Duration::from_millis(5));
            after = state();
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].prog, a);
        assert!(after.contains("T (stopped)"), "{after}");
    }

    /// Helper run in a separate process by the test above.
    #[test]
    fn hold_ptrace() {
        let Ok(pid) = std::env::var("CDBGT_HOLD_PID") else {
            return;
        };
        sys::ptrace_seize(pid.parse().unwrap()).unwrap();
        std::thread::sleep(Duration::from_secs(30));
    }
}
