//! `ps`: a procps-like process list, UNIX (`-ef`, `-o`) and BSD (`aux`)
//! styles, tree views (`--forest`/`f`, `-H`).
//!
//! Reads through [`ProcRoot`], so it works where the container has no /proc.
//! Times print in UTC (no time-zone database is consulted).

use std::ffi::OsString;
use std::io::Write;

use super::procfs::{fail, forest, start, tty_name, Names, ProcRoot, Process};
use super::table::{Align, Column, Table};

const HELP: &str = "\
Usage: ps [OPTIONS]
Report a snapshot of the current processes (procps-compatible subset).

With no options, shows the processes of the current user on the current
terminal. Selection (lists are OR'ed):
  -e, -A           every process          a x (BSD)   all with a tty / also without
  -a               all with a tty except session leaders
  -p, p, --pid LIST    by PID (also a bare PID list: ps 1,2)
  --ppid LIST      by parent PID          -C LIST     by command name
  -u, -U, U, --user LIST   by effective user (name or UID)
Format:
  -f               full (UID PID PPID C STIME TTY TIME CMD)
  u                user-oriented (USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND)
  -o, o, --format LIST  columns, e.g. -o pid,user,stat,rss,args; pid=TITLE renames
                   keys: pid ppid pgid sid user ruser uid group tty stat s rss vsz
                         %cpu %mem c ni pri nlwp start stime etime etimes time
                         bsdtime comm args cmd command
  --forest, f      ASCII-art process tree   -H  indented hierarchy
  --sort LIST      sort keys, - for descending, e.g. --sort=-%cpu,pid
  h, --no-headers  no header line           w, -w  do not cut long lines
  --help           this text
";

/// One output column kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Pid,
    Ppid,
    Pgid,
    Sid,
    User,
    Ruser,
    UidName,
    Uid,
    Group,
    Tty,
    Stat,
    State,
    Rss,
    Vsz,
    Pcpu,
    Pmem,
    C,
    Ni,
    Pri,
    Nlwp,
    Start,
    Etime,
    Etimes,
    Time,
    BsdTime,
    Comm,
    Args,
}

/// key name → (key, default header)
fn key_of(name: &str) -> Option<(Key, &'static str)> {
    use Key::*;
    Some(match name {
        "pid" | "tgid" => (Pid, "PID"),
        "ppid" => (Ppid, "PPID"),
        "pgid" | "pgrp" => (Pgid, "PGID"),
        "sid" | "sess" | "session" => (Sid, "SID"),
        "user" | "euser" | "uname" => (User, "USER"),
        "ruser" => (Ruser, "RUSER"),
        "uid" | "euid" => (Uid, "UID"),
        "group" | "egroup" => (Group, "GROUP"),
        "tty" | "tt" => (Tty, "TT"),
        "tname" => (Tty, "TTY"),
        "stat" => (Stat, "STAT"),
        "s" | "state" => (State, "S"),
        "rss" | "rssize" | "rsz" => (Rss, "RSS"),
        "vsz" | "vsize" => (Vsz, "VSZ"),
        "%cpu" | "pcpu" => (Pcpu, "%CPU"),
        "%mem" | "pmem" => (Pmem, "%MEM"),
        "c" => (C, "C"),
        "ni" | "nice" => (Ni, "NI"),
        "pri" => (Pri, "PRI"),
        "nlwp" | "thcount" => (Nlwp, "NLWP"),
        "start" | "start_time" | "bsdstart" => (Start, "START"),
        "stime" => (Start, "STIME"),
        "etime" => (Etime, "ELAPSED"),
        "etimes" => (Etimes, "ELAPSED"),
        "time" | "cputime" => (Time, "TIME"),
        "bsdtime" => (BsdTime, "TIME"),
        "comm" | "ucomm" | "ucmd" => (Comm, "COMMAND"),
        "args" | "command" => (Args, "COMMAND"),
        "cmd" => (Args, "CMD"),
        _ => return None,
    })
}

#[derive(Clone, Debug)]
struct Field {
    key: Key,
    header: String,
}

fn field(name: &str) -> Field {
    let (key, header) = key_of(name).expect("built-in key");
    Field {
        key,
        header: header.into(),
    }
}

fn fields(spec: &[(&str, &str)]) -> Vec<Field> {
    spec.iter()
        .map(|(k, h)| Field {
            header: h.to_string(),
            ..field(k)
        })
        .collect()
}

#[derive(Default, Debug)]
struct Opts {
    all: bool,
    bsd_a: bool,
    bsd_x: bool,
    unix_a: bool,
    bsd_style: bool,
    full: bool,
    user_fmt: bool,
    custom: Vec<Field>,
    pids: Vec<i32>,
    ppids: Vec<i32>,
    users: Vec<String>,
    cmds: Vec<String>,
    forest: bool,
    hier: bool,
    no_headers: bool,
    wide: bool,
    sort: Vec<(String, bool)>,
}

fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', ' ']).filter(|x| !x.is_empty())
}

fn pid_list(s: &str) -> Result<Vec<i32>, String> {
    list(s)
        .map(|x| x.parse().map_err(|_| format!("invalid process ID: {x}")))
        .collect()
}

fn parse_format(o: &mut Opts, s: &str) -> Result<(), String> {
    // "pid,comm=NAME" — a header after '=' runs to the end of the item.
    for item in s
        .split(',')
        .flat_map(|x| x.split(' '))
        .filter(|x| !x.is_empty())
    {
        let (name, hdr) = match item.split_once('=') {
            Some((n, h)) => (n, Some(h)),
            None => (item, None),
        };
        let (key, def) = key_of(&name.to_ascii_lowercase())
            .ok_or_else(|| format!("unknown user-defined format specifier \"{name}\""))?;
        o.custom.push(Field {
            key,
            header: hdr.unwrap_or(def).to_string(),
        });
    }
    Ok(())
}

fn parse_args(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut i = 0;
    let need = |i: &mut usize, opt: &str| -> Result<String, String> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| format!("option {opt} needs an argument"))
    };
    while i < args.len() {
        let a = args[i].as_str();
        if let Some(long) = a.strip_prefix("--") {
            let (name, val) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let value = |i: &mut usize| match &val {
                Some(v) => Ok(v.clone()),
                None => need(i, a),
            };
            match name {
                "forest" => o.forest = true,
                "no-headers" | "no-heading" | "noheaders" | "noheading" => o.no_headers = true,
                "sort" => {
                    for k in list(&value(&mut i)?) {
                        match k.strip_prefix('-') {
                            Some(k) => o.sort.push((k.to_string(), true)),
                            None => o.sort.push((k.trim_start_matches('+').to_string(), false)),
                        }
                    }
                }
                "pid" => o.pids.extend(pid_list(&value(&mut i)?)?),
                "ppid" => o.ppids.extend(pid_list(&value(&mut i)?)?),
                "user" | "User" => o.users.extend(list(&value(&mut i)?).map(String::from)),
                "format" => parse_format(&mut o, &value(&mut i)?)?,
                "cols" | "columns" | "width" => {
                    value(&mut i)?;
                    o.wide = true
                }
                _ => return Err(format!("unknown option {a}")),
            }
        } else if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (j, c) in cluster.char_indices() {
                let rest = &cluster[j + c.len_utf8()..];
                let arg = |i: &mut usize| {
                    if rest.is_empty() {
                        need(i, &format!("-{c}"))
                    } else {
                        Ok(rest.to_string())
                    }
                };
                match c {
                    'e' | 'A' => o.all = true,
                    'f' | 'F' => o.full = true,
                    'H' => o.hier = true,
                    'a' => o.unix_a = true,
                    'x' => o.bsd_x = true,
                    'w' => o.wide = true,
                    'h' => o.no_headers = true,
                    'p' | 'q' => {
                        o.pids.extend(pid_list(&arg(&mut i)?)?);
                        break;
                    }
                    'o' => {
                        parse_format(&mut o, &arg(&mut i)?)?;
                        break;
                    }
                    'u' | 'U' => {
                        o.users.extend(list(&arg(&mut i)?).map(String::from));
                        break;
                    }
                    'C' => {
                        o.cmds.extend(list(&arg(&mut i)?).map(String::from));
                        break;
                    }
                    _ => return Err(format!("unknown option -{c}")),
                }
            }
        } else if a.chars().all(|c| c.is_ascii_digit() || c == ',') && !a.is_empty() {
            o.pids.extend(pid_list(a)?);
        } else {
            // BSD options, no dash.
            o.bsd_style = true;
            for (j, c) in a.char_indices() {
                let rest = &a[j + c.len_utf8()..];
                let arg = |i: &mut usize| {
                    if rest.is_empty() {
                        need(i, &c.to_string())
                    } else {
                        Ok(rest.to_string())
                    }
                };
                match c {
                    'a' => o.bsd_a = true,
                    'x' => o.bsd_x = true,
                    'u' => o.user_fmt = true,
                    'f' => o.forest = true,
                    'w' => o.wide = true,
                    'h' => o.no_headers = true,
                    'e' | 'c' => {}
                    'p' => {
                        o.pids.extend(pid_list(&arg(&mut i)?)?);
                        break;
                    }
                    'o' | 'O' => {
                        parse_format(&mut o, &arg(&mut i)?)?;
                        break;
                    }
                    'U' => {
                        o.users.extend(list(&arg(&mut i)?).map(String::from));
                        break;
                    }
                    _ => return Err(format!("unknown BSD option {c}")),
                }
            }
        }
        i += 1;
    }
    Ok(o)
}

/// Everything needed to turn a [`Process`] into cells.
pub(crate) struct Ctx {
    pub names: Names,
    pub hz: u64,
    pub page_kb: u64,
    pub mem_total_kb: u64,
    pub uptime: f64,
    pub boot: u64,
    pub now: u64,
}

impl Ctx {
    pub fn new(proc: &ProcRoot) -> Ctx {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let uptime = proc.uptime().unwrap_or(0.0);
        Ctx {
            names: Names::load(),
            hz: rustix::param::clock_ticks_per_second().max(1),
            page_kb: (rustix::param::page_size() / 1024) as u64,
            mem_total_kb: proc
                .meminfo()
                .ok()
                .and_then(|m| m.get("MemTotal").copied())
                .unwrap_or(0),
            uptime,
            boot: proc
                .boot_time()
                .unwrap_or(now.saturating_sub(uptime as u64)),
            now,
        }
    }

    /// Lifetime %CPU in tenths, as procps computes it.
    fn pcpu_tenths(&self, p: &Process) -> u64 {
        let secs = self.uptime - p.starttime as f64 / self.hz as f64;
        if secs <= 0.0 {
            return 0;
        }
        let t = (p.utime + p.stime) as f64 * 1000.0 / self.hz as f64 / secs;
        (t as u64).min(9999)
    }

    fn pmem_tenths(&self, p: &Process) -> u64 {
        if self.mem_total_kb == 0 {
            return 0;
        }
        p.rss_pages * self.page_kb * 1000 / self.mem_total_kb
    }

    fn elapsed(&self, p: &Process) -> u64 {
        (self.uptime - p.starttime as f64 / self.hz as f64).max(0.0) as u64
    }

    fn start_epoch(&self, p: &Process) -> u64 {
        self.boot + p.starttime / self.hz
    }
}

/// A user name cut to 8 columns the way procps does (`systemd+`).
fn short_name(s: String) -> String {
    if s.chars().count() > 8 {
        let mut t: String = s.chars().take(7).collect();
        t.push('+');
        t
    } else {
        s
    }
}

/// procps' STAT column: state plus <, N, L, s, l, +.
pub(crate) fn stat_flags(p: &Process) -> String {
    let mut s = p.state.to_string();
    if p.nice < 0 {
        s.push('<');
    } else if p.nice > 0 {
        s.push('N');
    }
    if p.locked_kb > 0 {
        s.push('L');
    }
    if p.session == p.pid {
        s.push('s');
    }
    if p.num_threads > 1 {
        s.push('l');
    }
    if p.tty_nr != 0 && p.pgrp == p.tpgid {
        s.push('+');
    }
    s
}

/// `[DD-]HH:MM:SS`
pub(crate) fn fmt_cputime(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// `[[DD-]HH:]MM:SS`
fn fmt_etime(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else if h > 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian).
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `HH:MM` today, `MonDD` this year, else the year (procps START/STIME).
fn fmt_start(t: u64, now: u64) -> String {
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d) = civil((t / 86400) as i64);
    if now.saturating_sub(t) < 86400 {
        format!("{:02}:{:02}", t / 3600 % 24, t / 60 % 60)
    } else if now.saturating_sub(t) < 365 * 86400 {
        format!("{}{:02}", MON[(m - 1) as usize], d)
    } else {
        format!("{y}")
    }
}

fn cell(f: &Field, p: &Process, c: &Ctx) -> String {
    let tenths = |t: u64| format!("{}.{}", t / 10, t % 10);
    match f.key {
        Key::Pid => p.pid.to_string(),
        Key::Ppid => p.ppid.to_string(),
        Key::Pgid => p.pgrp.to_string(),
        Key::Sid => p.session.to_string(),
        Key::User | Key::UidName => short_name(c.names.user(p.euid)),
        Key::Ruser => short_name(c.names.user(p.ruid)),
        Key::Uid => p.euid.to_string(),
        Key::Group => short_name(c.names.group(p.egid)),
        Key::Tty => tty_name(p.tty_nr),
        Key::Stat => stat_flags(p),
        Key::State => p.state.to_string(),
        Key::Rss => (p.rss_pages * c.page_kb).to_string(),
        Key::Vsz => (p.vsize / 1024).to_string(),
        Key::Pcpu => tenths(c.pcpu_tenths(p)),
        Key::Pmem => tenths(c.pmem_tenths(p)),
        Key::C => (c.pcpu_tenths(p) / 10).min(99).to_string(),
        Key::Ni => p.nice.to_string(),
        Key::Pri => (39 - p.priority).to_string(),
        Key::Nlwp => p.num_threads.to_string(),
        Key::Start => fmt_start(c.start_epoch(p), c.now),
        Key::Etime => fmt_etime(c.elapsed(p)),
        Key::Etimes => c.elapsed(p).to_string(),
        Key::Time => fmt_cputime((p.utime + p.stime) / c.hz),
        Key::BsdTime => {
            let s = (p.utime + p.stime) / c.hz;
            format!("{}:{:02}", s / 60, s % 60)
        }
        Key::Comm => p.comm.clone(),
        Key::Args => p.command(),
    }
}

fn column(f: &Field, pid_width: usize) -> Column {
    use Key::*;
    let (align, min) = match f.key {
        Pid | Ppid | Pgid | Sid => (Align::Right, pid_width),
        User | Ruser | UidName | Group => (Align::Left, 8),
        Tty => (Align::Left, 8),
        Stat => (Align::Left, 4),
        State => (Align::Left, 1),
        Rss => (Align::Right, 5),
        Vsz => (Align::Right, 6),
        Pcpu | Pmem | Nlwp => (Align::Right, 4),
        C => (Align::Right, 2),
        Ni | Pri => (Align::Right, 3),
        Start => (
            if f.header == "STIME" {
                Align::Left
            } else {
                Align::Right
            },
            5,
        ),
        Etime => (Align::Right, 11),
        Etimes => (Align::Right, 7),
        Time => (Align::Right, 8),
        BsdTime => (Align::Right, 6),
        Uid => (Align::Right, 5),
        Comm | Args => (Align::Left, 0),
    };
    Column {
        header: f.header.clone(),
        align,
        min_width: min,
        max_width: None,
    }
}

fn sort_value(key: &str, p: &Process, c: &Ctx) -> Result<SortVal, String> {
    Ok(match key {
        "pid" => SortVal::N(p.pid as i64),
        "ppid" => SortVal::N(p.ppid as i64),
        "%cpu" | "pcpu" | "c" => SortVal::N(c.pcpu_tenths(p) as i64),
        "%mem" | "pmem" | "rss" | "rssize" => SortVal::N(p.rss_pages as i64),
        "vsz" | "vsize" => SortVal::N(p.vsize as i64),
        "time" | "cputime" | "bsdtime" => SortVal::N((p.utime + p.stime) as i64),
        "start" | "start_time" | "stime" | "etime" | "etimes" => SortVal::N(p.starttime as i64),
        "ni" | "nice" => SortVal::N(p.nice),
        "uid" | "euid" => SortVal::N(p.euid as i64),
        "user" | "euser" => SortVal::S(c.names.user(p.euid)),
        "comm" | "ucomm" => SortVal::S(p.comm.clone()),
        "args" | "cmd" | "command" => SortVal::S(p.command()),
        "tty" | "tt" => SortVal::N(p.tty_nr as i64),
        "stat" | "s" | "state" => SortVal::S(p.state.to_string()),
        _ => return Err(format!("unknown sort specifier: {key}")),
    })
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortVal {
    N(i64),
    S(String),
}

/// Entry point of the `ps` applet.
pub fn main(argv: Vec<OsString>) -> i32 {
    let (o, proc) = match start(
        &argv,
        "ps",
        HELP,
        &["--help"],
        parse_args,
        "cannot read processes",
    ) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let procs = match proc.processes() {
        Ok(v) => v,
        Err(e) => return fail("ps", format!("cannot list processes: {e}"), 1),
    };
    let ctx = Ctx::new(&proc);
    let me = proc
        .process(rustix::process::getpid().as_raw_nonzero().get())
        .ok();
    let (my_euid, my_tty) = me
        .map(|m| (m.euid, m.tty_nr))
        .unwrap_or((rustix::process::geteuid().as_raw(), 0));

    let uids: Vec<u32> = o.users.iter().filter_map(|u| ctx.names.uid_of(u)).collect();
    let any_list =
        !o.pids.is_empty() || !o.ppids.is_empty() || !o.users.is_empty() || !o.cmds.is_empty();
    let selected = |p: &Process| -> bool {
        if o.all || (o.bsd_a && o.bsd_x) {
            return true;
        }
        if any_list || o.bsd_a || o.bsd_x || o.unix_a {
            o.pids.contains(&p.pid)
                || o.ppids.contains(&p.ppid)
                || uids.contains(&p.euid)
                || o.cmds.contains(&p.comm)
                || (o.bsd_a && p.tty_nr != 0)
                || (o.bsd_x && p.euid == my_euid)
                || (o.unix_a && p.tty_nr != 0 && p.pid != p.session)
        } else {
            p.euid == my_euid && p.tty_nr == my_tty
        }
    };
    let mut procs: Vec<Process> = procs.into_iter().filter(|p| selected(p)).collect();

    let fmt: Vec<Field> = if !o.custom.is_empty() {
        o.custom.clone()
    } else if o.user_fmt {
        fields(&[
            ("user", "USER"),
            ("pid", "PID"),
            ("%cpu", "%CPU"),
            ("%mem", "%MEM"),
            ("vsz", "VSZ"),
            ("rss", "RSS"),
            ("tname", "TTY"),
            ("stat", "STAT"),
            ("start", "START"),
            ("bsdtime", "TIME"),
            ("args", "COMMAND"),
        ])
    } else if o.full {
        let mut f = fields(&[
            ("user", "UID"),
            ("pid", "PID"),
            ("ppid", "PPID"),
            ("c", "C"),
            ("stime", "STIME"),
            ("tname", "TTY"),
            ("time", "TIME"),
            ("args", "CMD"),
        ]);
        f[0].key = Key::UidName;
        f
    } else if o.bsd_style {
        fields(&[
            ("pid", "PID"),
            ("tname", "TTY"),
            ("stat", "STAT"),
            ("bsdtime", "TIME"),
            ("args", "COMMAND"),
        ])
    } else {
        fields(&[
            ("pid", "PID"),
            ("tname", "TTY"),
            ("time", "TIME"),
            ("comm", "CMD"),
        ])
    };

    // Sorting, then the tree order (the tree keeps siblings in sorted order).
    for (k, _) in &o.sort {
        if let Err(e) = sort_value(k, &Process::default(), &ctx) {
            return fail("ps", e, 1);
        }
    }
    if !o.sort.is_empty() {
        procs.sort_by(|a, b| {
            for (k, desc) in &o.sort {
                let (x, y) = (sort_value(k, a, &ctx).ok(), sort_value(k, b, &ctx).ok());
                let ord = if *desc { y.cmp(&x) } else { x.cmp(&y) };
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let depth: Vec<(usize, usize)> = if o.forest || o.hier {
        tree_order(&procs)
    } else {
        (0..procs.len()).map(|i| (i, 0)).collect()
    };

    let pid_width = proc
        .read_string("sys/kernel/pid_max")
        .ok()
        .map(|s| s.trim().len())
        .unwrap_or(7)
        .max(3);
    let mut t = Table::new();
    t.headers = !o.no_headers && fmt.iter().any(|f| !f.header.is_empty());
    for f in &fmt {
        t.push_column(column(f, pid_width));
    }
    let tree_col = fmt
        .iter()
        .rposition(|f| matches!(f.key, Key::Args | Key::Comm));
    for (idx, d) in depth {
        let p = &procs[idx];
        let mut row: Vec<String> = fmt.iter().map(|f| cell(f, p, &ctx)).collect();
        if let (Some(ci), true) = (tree_col, d > 0) {
            let prefix = if o.forest {
                format!("{} \\_ ", "    ".repeat(d - 1))
            } else {
                "  ".repeat(d)
            };
            row[ci] = format!("{prefix}{}", row[ci]);
        }
        t.row(row);
    }
    let mut out = t.render();
    if !o.wide && rustix::termios::isatty(std::io::stdout()) {
        if let Ok(ws) = rustix::termios::tcgetwinsize(std::io::stdout()) {
            out = cut_lines(&out, ws.ws_col as usize);
        }
    }
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(out.as_bytes());
    let _ = so.flush();
    if procs.is_empty() && any_list {
        1
    } else {
        0
    }
}

fn cut_lines(s: &str, cols: usize) -> String {
    if cols == 0 {
        return s.to_string();
    }
    s.lines()
        .map(|l| {
            let mut l: String = l.chars().take(cols).collect();
            l.push('\n');
            l
        })
        .collect()
}

/// Depth-first order of the process tree: (index into `procs`, depth).
/// Roots are processes whose parent is not in the list.
fn tree_order(procs: &[Process]) -> Vec<(usize, usize)> {
    let (roots, kids) = forest(procs.iter().map(|p| (p.pid, p.ppid)));
    let mut out = Vec::with_capacity(procs.len());
    let mut stack: Vec<(usize, usize)> = roots.into_iter().rev().map(|i| (i, 0)).collect();
    while let Some((i, d)) = stack.pop() {
        out.push((i, d));
        if let Some(k) = kids.get(&procs[i].pid) {
            stack.extend(k.iter().rev().map(|&c| (c, d + 1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn styles() {
        let o = parse_args(&argv("aux")).unwrap();
        assert!(o.bsd_a && o.bsd_x && o.user_fmt);
        let o = parse_args(&argv("-ef --forest")).unwrap();
        assert!(o.all && o.full && o.forest);
        let o = parse_args(&argv("-o pid,comm=NAME -p 1,2 --sort=-%cpu")).unwrap();
        assert_eq!(o.custom.len(), 2);
        assert_eq!(o.custom[1].header, "NAME");
        assert_eq!(o.pids, vec![1, 2]);
        assert_eq!(o.sort, vec![("%cpu".to_string(), true)]);
        assert!(parse_args(&argv("-o bogus")).is_err());
        assert_eq!(parse_args(&argv("-p42")).unwrap().pids, vec![42]);
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_cputime(3725), "01:02:05");
        assert_eq!(fmt_cputime(90061), "1-01:01:01");
        assert_eq!(fmt_etime(65), "01:05");
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_428), (2025, 12, 6));
        let now = 20_428 * 86400 + 13 * 3600;
        assert_eq!(fmt_start(now - 3600, now), "12:00");
        assert_eq!(fmt_start(now - 2 * 86400, now), "Dec04");
        assert_eq!(short_name("systemd-network".into()), "systemd+");
    }

    #[test]
    fn tree() {
        let p = |pid, ppid| Process {
            pid,
            ppid,
            ..Default::default()
        };
        let v = vec![p(1, 0), p(2, 1), p(3, 0), p(4, 2), p(5, 1)];
        let o: Vec<(i32, usize)> = tree_order(&v)
            .into_iter()
            .map(|(i, d)| (v[i].pid, d))
            .collect();
        assert_eq!(o, vec![(1, 0), (2, 1), (4, 2), (5, 1), (3, 0)]);
    }
}
