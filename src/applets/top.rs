//! `top`: a refreshing, full-screen process view sorted by CPU, in procps
//! top's layout; `-b` batch mode for scripts. The terminal is restored on
//! `q`, Ctrl-C, SIGTERM, SIGHUP and panics.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::termios::{LocalModes, OptionalActions, Termios};

use super::procfs::{fail, start, Names, ProcRoot, Process};
use crate::sys::procs::{catch_signals, take_signals};

const HELP: &str = "\
Usage: top [-b] [-n N] [-d SECS] [-p PID,...] [-u USER] [-o FIELD] [-c]
Display processes sorted by CPU use, refreshing every few seconds.

  -b           batch mode: plain text frames on stdout, no keys
  -n N         exit after N frames
  -d SECS      delay between frames (default 3)
  -p LIST      only these PIDs        -u USER   only this user's processes
  -o FIELD     sort by %CPU, %MEM, PID, TIME+, RES or VIRT (default %CPU)
  -c           show command lines instead of names
  --help       this text
Keys: q quit, P sort by CPU, M by memory, N by PID, T by time, c toggle
command lines, space refresh now.
";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Sort {
    Cpu,
    Mem,
    Pid,
    Time,
    Virt,
}

struct Opts {
    batch: bool,
    count: Option<u64>,
    delay: f64,
    pids: Vec<i32>,
    user: Option<String>,
    sort: Sort,
    cmdline: bool,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        batch: false,
        count: None,
        delay: 3.0,
        pids: vec![],
        user: None,
        sort: Sort::Cpu,
        cmdline: false,
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if !a.starts_with('-') || a.len() < 2 {
            return Err(format!("unknown argument {a}"));
        }
        for (j, c) in a[1..].char_indices() {
            let rest = &a[1 + j + 1..];
            let mut value = || -> Result<String, String> {
                if !rest.is_empty() {
                    return Ok(rest.to_string());
                }
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("option -{c} requires an argument"))
            };
            match c {
                'b' => o.batch = true,
                'c' => o.cmdline = true,
                'i' | 'S' | 'H' | 'E' | 'e' | '1' => {}
                'n' => {
                    let v = value()?;
                    o.count = Some(v.parse().map_err(|_| format!("bad iterations: {v}"))?);
                    break;
                }
                'd' => {
                    let v = value()?;
                    o.delay = v
                        .parse::<f64>()
                        .ok()
                        .filter(|d| *d >= 0.0)
                        .ok_or(format!("bad delay: {v}"))?;
                    break;
                }
                'p' => {
                    for p in value()?.split(',').filter(|x| !x.is_empty()) {
                        o.pids.push(p.parse().map_err(|_| format!("bad PID: {p}"))?);
                    }
                    break;
                }
                'u' | 'U' => {
                    o.user = Some(value()?);
                    break;
                }
                'o' => {
                    let v = value()?;
                    o.sort = match v
                        .trim_start_matches(['+', '-'])
                        .to_ascii_uppercase()
                        .as_str()
                    {
                        "%CPU" | "CPU" => Sort::Cpu,
                        "%MEM" | "MEM" | "RES" => Sort::Mem,
                        "PID" => Sort::Pid,
                        "TIME+" | "TIME" => Sort::Time,
                        "VIRT" => Sort::Virt,
                        _ => return Err(format!("unknown sort field: {v}")),
                    };
                    break;
                }
                _ => return Err(format!("unknown option -{c}")),
            }
        }
        i += 1;
    }
    Ok(o)
}

/// One snapshot of the system.
struct Sample {
    at: Instant,
    cpu: Vec<u64>,
    procs: Vec<(Process, u64)>,
}

fn sample(proc: &ProcRoot, page_kb: u64) -> Sample {
    let at = Instant::now();
    let cpu = proc
        .read_string("stat")
        .ok()
        .and_then(|s| {
            s.lines().next().map(|l| {
                l.split_whitespace()
                    .skip(1)
                    .filter_map(|x| x.parse().ok())
                    .collect()
            })
        })
        .unwrap_or_default();
    let procs = proc
        .processes()
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let shr = proc
                .read_string(&format!("{}/statm", p.pid))
                .ok()
                .and_then(|s| s.split_whitespace().nth(2)?.parse::<u64>().ok())
                .unwrap_or(0)
                * page_kb;
            (p, shr)
        })
        .collect();
    Sample { at, cpu, procs }
}

/// `KiB` figure in `width` columns, scaled to m/g/t when it does not fit.
fn scaled(kib: u64, width: usize) -> String {
    let s = kib.to_string();
    if s.len() <= width {
        return s;
    }
    let mut v = kib as f64;
    for u in ["m", "g", "t", "p"] {
        v /= 1024.0;
        let s = format!("{v:.1}{u}");
        if s.len() <= width {
            return s;
        }
        let s = format!("{}{u}", v as u64);
        if s.len() <= width {
            return s;
        }
    }
    s
}

fn uptime_text(secs: u64) -> String {
    let days = secs / 86400;
    let (h, m) = (secs / 3600 % 24, secs / 60 % 60);
    let mut s = String::from("up ");
    if days > 0 {
        s.push_str(&format!("{days} day{}, ", if days > 1 { "s" } else { "" }));
    }
    if h > 0 {
        s.push_str(&format!("{h:2}:{m:02}"));
    } else {
        s.push_str(&format!("{m} min"));
    }
    s
}

struct View<'a> {
    o: &'a Opts,
    names: &'a Names,
    hz: u64,
    page_kb: u64,
    pid_width: usize,
    uid: Option<u32>,
}

impl View<'_> {
    /// Renders a frame as lines (header, blank, column titles, processes).
    fn frame(&self, proc: &ProcRoot, prev: &Sample, cur: &Sample) -> Vec<String> {
        let mut lines = Vec::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let up = proc.uptime().unwrap_or(0.0) as u64;
        let load = proc.read_string("loadavg").unwrap_or_default();
        let l: Vec<&str> = load.split_whitespace().collect();
        lines.push(format!(
            "top - {:02}:{:02}:{:02} {},  load average: {}, {}, {}",
            now / 3600 % 24,
            now / 60 % 60,
            now % 60,
            uptime_text(up),
            l.first().unwrap_or(&"0.00"),
            l.get(1).unwrap_or(&"0.00"),
            l.get(2).unwrap_or(&"0.00"),
        ));
        let procs: Vec<&(Process, u64)> = cur
            .procs
            .iter()
            .filter(|(p, _)| self.o.pids.is_empty() || self.o.pids.contains(&p.pid))
            .filter(|(p, _)| self.uid.is_none_or(|u| p.euid == u))
            .collect();
        let count = |f: &dyn Fn(char) -> bool| procs.iter().filter(|(p, _)| f(p.state)).count();
        lines.push(format!(
            "Tasks: {:3} total, {:3} running, {:3} sleeping, {:3} stopped, {:3} zombie",
            procs.len(),
            count(&|s| s == 'R'),
            count(&|s| matches!(s, 'S' | 'D' | 'I')),
            count(&|s| matches!(s, 'T' | 't')),
            count(&|s| s == 'Z'),
        ));
        let d: Vec<f64> = (0..8)
            .map(|i| {
                cur.cpu.get(i).copied().unwrap_or(0) as f64
                    - prev.cpu.get(i).copied().unwrap_or(0) as f64
            })
            .collect();
        let total: f64 = d.iter().sum::<f64>().max(1.0);
        let pc = |i: usize| d[i].max(0.0) * 100.0 / total;
        lines.push(format!(
            "%Cpu(s):{:5.1} us,{:5.1} sy,{:5.1} ni,{:5.1} id,{:5.1} wa,{:5.1} hi,{:5.1} si,{:5.1} st",
            pc(0), pc(2), pc(1), pc(3), pc(4), pc(5), pc(6), pc(7)
        ));
        let mi = proc.meminfo().unwrap_or_default();
        let g = |k: &str| mi.get(k).copied().unwrap_or(0) as f64 / 1024.0;
        let avail = mi
            .get("MemAvailable")
            .map(|v| *v as f64 / 1024.0)
            .unwrap_or(g("MemFree"));
        let cache = g("Buffers") + g("Cached") + g("SReclaimable");
        lines.push(format!(
            "MiB Mem : {:8.1} total, {:8.1} free, {:8.1} used, {:8.1} buff/cache",
            g("MemTotal"),
            g("MemFree"),
            g("MemTotal") - avail,
            cache
        ));
        lines.push(format!(
            "MiB Swap: {:8.1} total, {:8.1} free, {:8.1} used. {:8.1} avail Mem",
            g("SwapTotal"),
            g("SwapFree"),
            g("SwapTotal") - g("SwapFree"),
            avail
        ));
        lines.push(String::new());
        let pw = self.pid_width;
        lines.push(format!(
            "{:>pw$} {:<8} {:>3} {:>3} {:>7} {:>6} {:>6} S {:>5} {:>5} {:>9} COMMAND",
            "PID", "USER", "PR", "NI", "VIRT", "RES", "SHR", "%CPU", "%MEM", "TIME+"
        ));

        let before: HashMap<(i32, u64), u64> = prev
            .procs
            .iter()
            .map(|(p, _)| ((p.pid, p.starttime), p.utime + p.stime))
            .collect();
        let secs = cur.at.duration_since(prev.at).as_secs_f64().max(0.001);
        let mem_total = mi.get("MemTotal").copied().unwrap_or(1).max(1) as f64;
        let mut rows: Vec<(f64, &Process, u64)> = procs
            .iter()
            .map(|(p, shr)| {
                let t = p.utime + p.stime;
                let dt = t.saturating_sub(*before.get(&(p.pid, p.starttime)).unwrap_or(&t));
                (dt as f64 * 100.0 / self.hz as f64 / secs, p, *shr)
            })
            .collect();
        rows.sort_by(|a, b| {
            let k = match self.o.sort {
                Sort::Cpu => b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal),
                Sort::Mem => b.1.rss_pages.cmp(&a.1.rss_pages),
                Sort::Pid => a.1.pid.cmp(&b.1.pid),
                Sort::Time => (b.1.utime + b.1.stime).cmp(&(a.1.utime + a.1.stime)),
                Sort::Virt => b.1.vsize.cmp(&a.1.vsize),
            };
            k.then(a.1.pid.cmp(&b.1.pid))
        });
        for (cpu, p, shr) in rows {
            let mut user = self.names.user(p.euid);
            if user.chars().count() > 8 {
                user = user.chars().take(7).collect::<String>() + "+";
            }
            let pr = if p.priority < -99 {
                "rt".to_string()
            } else {
                p.priority.to_string()
            };
            let res = p.rss_pages * self.page_kb;
            let hund = (p.utime + p.stime) * 100 / self.hz;
            let time = format!("{}:{:02}.{:02}", hund / 6000, hund / 100 % 60, hund % 100);
            let cmd = if self.o.cmdline {
                p.command()
            } else {
                p.comm.clone()
            };
            lines.push(format!(
                "{:>pw$} {:<8} {:>3} {:>3} {:>7} {:>6} {:>6} {} {:>5.1} {:>5.1} {:>9} {}",
                p.pid,
                user,
                pr,
                p.nice,
                scaled(p.vsize / 1024, 7),
                scaled(res, 6),
                scaled(shr, 6),
                p.state,
                cpu,
                res as f64 * 100.0 / mem_total,
                time,
                cmd
            ));
        }
        lines
    }
}

/// The terminal state to put back, also reachable from the panic hook.
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

const ENTER: &str = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
const LEAVE: &str = "\x1b[?25h\x1b[?1049l";

fn restore_terminal() {
    if let Some(t) = SAVED.lock().ok().and_then(|mut g| g.take()) {
        let _ = rustix::termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &t);
        let mut out = std::io::stdout();
        let _ = out.write_all(LEAVE.as_bytes());
        let _ = out.flush();
    }
}

/// Entry point of the `top` applet.
pub fn main(argv: Vec<OsString>) -> i32 {
    let (mut o, proc) = match start(
        &argv,
        "top",
        HELP,
        &["--help", "-h"],
        parse,
        "cannot open procfs",
    ) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let names = Names::load();
    let uid = match &o.user {
        Some(u) => match names.uid_of(u) {
            Some(id) => Some(id),
            None => return fail("top", format!("invalid user: {u}"), 1),
        },
        None => None,
    };
    let stdin = std::io::stdin();
    let interactive =
        !o.batch && rustix::termios::isatty(&stdin) && rustix::termios::isatty(std::io::stdout());
    if !o.batch && !interactive {
        o.batch = true;
    }
    let page_kb = (rustix::param::page_size() / 1024) as u64;
    let pid_width = proc
        .read_string("sys/kernel/pid_max")
        .map(|s| s.trim().len())
        .unwrap_or(7)
        .max(5);
    let mut prev = sample(&proc, page_kb);
    // A short first interval so that the first frame has real %CPU.
    std::thread::sleep(Duration::from_millis(200));
    if interactive {
        run_interactive(&proc, &mut o, &names, uid, page_kb, pid_width, prev)
    } else {
        let mut out = std::io::stdout().lock();
        let mut n = 0u64;
        loop {
            let cur = sample(&proc, page_kb);
            let view = View {
                o: &o,
                names: &names,
                hz: rustix::param::clock_ticks_per_second().max(1),
                page_kb,
                pid_width,
                uid,
            };
            let lines = view.frame(&proc, &prev, &cur);
            if n > 0 {
                let _ = writeln!(out);
            }
            for l in lines {
                if writeln!(out, "{l}").is_err() {
                    return 0;
                }
            }
            let _ = out.flush();
            prev = cur;
            n += 1;
            if o.count.is_some_and(|c| n >= c) {
                return 0;
            }
            std::thread::sleep(Duration::from_secs_f64(o.delay));
        }
    }
}

fn run_interactive(
    proc: &ProcRoot,
    o: &mut Opts,
    names: &Names,
    uid: Option<u32>,
    page_kb: u64,
    pid_width: usize,
    mut prev: Sample,
) -> i32 {
    let stdin = std::io::stdin();
    let Ok(orig) = rustix::termios::tcgetattr(&stdin) else {
        return fail("top", "cannot read the terminal settings", 1);
    };
    let mut raw = orig.clone();
    raw.local_modes &= !(LocalModes::ICANON | LocalModes::ECHO);
    raw.special_codes[rustix::termios::SpecialCodeIndex::VMIN] = 1;
    raw.special_codes[rustix::termios::SpecialCodeIndex::VTIME] = 0;
    if let Ok(mut g) = SAVED.lock() {
        *g = Some(orig.clone());
    }
    let _ = catch_signals(&[
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGWINCH,
        libc::SIGTSTP,
    ]);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        hook(info);
    }));
    if rustix::termios::tcsetattr(&stdin, OptionalActions::Now, &raw).is_err() {
        restore_terminal();
        return fail("top", "cannot set the terminal mode", 1);
    }
    let mut out = std::io::stdout();
    let _ = out.write_all(ENTER.as_bytes());
    let hz = rustix::param::clock_ticks_per_second().max(1);
    let mut n = 0u64;
    let code = 'outer: loop {
        let cur = sample(proc, page_kb);
        let view = View {
            o,
            names,
            hz,
            page_kb,
            pid_width,
            uid,
        };
        let lines = view.frame(proc, &prev, &cur);
        let (rows, cols) = rustix::termios::tcgetwinsize(&out)
            .map(|w| (w.ws_row as usize, w.ws_col as usize))
            .unwrap_or((24, 80));
        let (rows, cols) = (rows.max(1), cols.max(1));
        let mut screen = String::from("\x1b[H");
        for (i, l) in lines.iter().take(rows).enumerate() {
            let l: String = l.chars().take(cols).collect();
            screen.push_str(&l);
            screen.push_str("\x1b[K");
            if i + 1 < rows.min(lines.len()) {
                screen.push_str("\r\n");
            }
        }
        screen.push_str("\x1b[J");
        let _ = out.write_all(screen.as_bytes());
        let _ = out.flush();
        prev = cur;
        n += 1;
        if o.count.is_some_and(|c| n >= c) {
            break 0;
        }
        let deadline = Instant::now() + Duration::from_secs_f64(o.delay);
        loop {
            let sigs = take_signals();
            if sigs & (1 << libc::SIGINT) != 0 {
                break 'outer 0;
            }
            for s in [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                if sigs & (1 << s) != 0 {
                    break 'outer 128 + s;
                }
            }
            if sigs & (1 << libc::SIGTSTP) != 0 {
                // Ctrl-Z: give the terminal back, stop, and take it again
                // when continued (`fg`).
                restore_terminal();
                let _ = rustix::process::kill_process(
                    rustix::process::getpid(),
                    rustix::process::Signal::STOP,
                );
                if let Ok(mut g) = SAVED.lock() {
                    *g = Some(orig.clone());
                }
                let _ = rustix::termios::tcsetattr(&stdin, OptionalActions::Now, &raw);
                let _ = out.write_all(ENTER.as_bytes());
                continue 'outer;
            }
            if sigs & (1 << libc::SIGWINCH) != 0 {
                continue 'outer;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let ts = rustix::time::Timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: left.subsec_nanos() as i64,
            };
            let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
            match rustix::event::poll(&mut fds, Some(&ts)) {
                Ok(0) => break,
                Ok(_) => {
                    let mut buf = [0u8; 64];
                    let k = match rustix::io::read(&stdin, &mut buf) {
                        Ok(0) | Err(_) => break 'outer 0,
                        Ok(k) => k,
                    };
                    let mut redraw = false;
                    for &b in &buf[..k] {
                        match b {
                            b'q' | 3 => break 'outer 0,
                            b'P' => o.sort = Sort::Cpu,
                            b'M' => o.sort = Sort::Mem,
                            b'N' => o.sort = Sort::Pid,
                            b'T' => o.sort = Sort::Time,
                            b'c' => o.cmdline = !o.cmdline,
                            _ => {}
                        }
                        redraw = true;
                    }
                    if redraw {
                        continue 'outer;
                    }
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => break 'outer 1,
            }
        }
    };
    restore_terminal();
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_units() {
        let o = parse(&["-b".into(), "-n".into(), "2".into(), "-d0.5".into()]).unwrap();
        assert!(o.batch);
        assert_eq!(o.count, Some(2));
        assert_eq!(o.delay, 0.5);
        let o = parse(&["-bn1".into(), "-o".into(), "%MEM".into()]).unwrap();
        assert_eq!((o.count, o.sort), (Some(1), Sort::Mem));
        assert_eq!(scaled(1234, 6), "1234");
        assert_eq!(scaled(12_345_678, 6), "12056m");
        assert_eq!(scaled(1_234_567_890, 6), "1177g");
        assert_eq!(uptime_text(420), "up 7 min");
        assert_eq!(uptime_text(3 * 86400 + 2 * 3600 + 180), "up 3 days,  2:03");
    }
}
