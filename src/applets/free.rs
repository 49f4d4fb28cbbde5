//! `free`: memory and swap use in procps-ng 4 format.

use std::collections::HashMap;
use std::ffi::OsString;

use super::procfs::{fail, start};

const HELP: &str = "\
Usage: free [OPTIONS]
Display the amount of free and used memory (from /proc/meminfo).

  -b, --bytes      show output in bytes
  -k, --kibi       show output in kibibytes (default)
  -m, --mebi       show output in mebibytes
  -g, --gibi       show output in gibibytes
      --tebi       show output in tebibytes
      --kilo, --mega, --giga, --tera   powers of 1000
  -h, --human      show human-readable output
      --si         use powers of 1000 not 1024
  -w, --wide       separate buffers and cache columns
  -t, --total      show a line with the column totals
  -s, --seconds N  repeat printing every N seconds
  -c, --count N    repeat printing N times, then exit
      --help       display this help and exit
";

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Shift(u32),
    Human,
}

struct Opts {
    unit: Unit,
    si: bool,
    wide: bool,
    total: bool,
    delay: Option<f64>,
    count: Option<u64>,
}

/// Memory figures in KiB, computed as procps does.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mem {
    /// MemTotal.
    pub total: u64,
    /// total - available.
    pub used: u64,
    /// MemFree.
    pub free: u64,
    /// Shmem.
    pub shared: u64,
    /// Buffers.
    pub buffers: u64,
    /// Cached + SReclaimable.
    pub cache: u64,
    /// MemAvailable (estimated on old kernels).
    pub available: u64,
    /// SwapTotal.
    pub swap_total: u64,
    /// SwapFree.
    pub swap_free: u64,
}

impl Mem {
    /// From /proc/meminfo's fields (kB).
    pub fn from_meminfo(m: &HashMap<String, u64>) -> Mem {
        let g = |k: &str| m.get(k).copied().unwrap_or(0);
        let total = g("MemTotal");
        let free = g("MemFree");
        let cache = g("Cached") + g("SReclaimable");
        let buffers = g("Buffers");
        let available = match m.get("MemAvailable") {
            Some(a) => (*a).min(total),
            None => (free + cache + buffers).min(total),
        };
        Mem {
            total,
            used: total.saturating_sub(available),
            free,
            shared: g("Shmem"),
            buffers,
            cache,
            available,
            swap_total: g("SwapTotal"),
            swap_free: g("SwapFree"),
        }
    }
}

/// `1.1Gi`, `399Mi`, `0B` (with `si`: `1.2G`, `418M`).
fn human(kib: u64, si: bool) -> String {
    let base: f64 = if si { 1000.0 } else { 1024.0 };
    let mut v = kib as f64 * 1024.0;
    if v < base {
        return format!("{}B", v as u64);
    }
    for u in ["K", "M", "G", "T", "P", "E"] {
        v /= base;
        if v < base || u == "E" {
            let suffix = if si { u.to_string() } else { format!("{u}i") };
            return if v < 10.0 {
                format!("{:.1}{suffix}", (v * 10.0).floor() / 10.0)
            } else {
                format!("{}{suffix}", v as u64)
            };
        }
    }
    unreachable!()
}

fn scale(kib: u64, o: &Opts) -> String {
    match o.unit {
        Unit::Human => human(kib, o.si),
        Unit::Shift(0) => (kib * 1024).to_string(),
        Unit::Shift(n) if o.si => ((kib as u128 * 1024) / 1000u128.pow(n)).to_string(),
        Unit::Shift(n) => ((kib as u128 * 1024) >> (10 * n)).to_string(),
    }
}

/// Renders one report.
fn render(m: &Mem, o: &Opts) -> String {
    let mut s = String::new();
    let line = |s: &mut String, label: &str, vals: &[u64]| {
        s.push_str(&format!("{label:<9}"));
        for (i, v) in vals.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(&format!("{:>11}", scale(*v, o)));
        }
        s.push('\n');
    };
    let (header, buff_cache) = if o.wide {
        (
            "               total        used        free      shared     buffers       cache   available\n",
            vec![m.buffers, m.cache],
        )
    } else {
        (
            "               total        used        free      shared  buff/cache   available\n",
            vec![m.buffers + m.cache],
        )
    };
    s.push_str(header);
    let mut mem = vec![m.total, m.used, m.free, m.shared];
    mem.extend(buff_cache);
    mem.push(m.available);
    line(&mut s, "Mem:", &mem);
    let swap_used = m.swap_total.saturating_sub(m.swap_free);
    line(&mut s, "Swap:", &[m.swap_total, swap_used, m.swap_free]);
    if o.total {
        line(
            &mut s,
            "Total:",
            &[
                m.total + m.swap_total,
                m.used + swap_used,
                m.free + m.swap_free,
            ],
        );
    }
    s
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        unit: Unit::Shift(1),
        si: false,
        wide: false,
        total: false,
        delay: None,
        count: None,
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if a.starts_with("--") => (n, Some(v.to_string())),
            _ => (a, None),
        };
        let mut value = || -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("option {name} needs an argument"))
        };
        match name {
            "-b" | "--bytes" => o.unit = Unit::Shift(0),
            "-k" | "--kibi" => o.unit = Unit::Shift(1),
            "-m" | "--mebi" => o.unit = Unit::Shift(2),
            "-g" | "--gibi" => o.unit = Unit::Shift(3),
            "--tebi" => o.unit = Unit::Shift(4),
            "--pebi" => o.unit = Unit::Shift(5),
            "--kilo" | "--mega" | "--giga" | "--tera" | "--peta" => {
                o.si = true;
                o.unit = Unit::Shift(match name {
                    "--kilo" => 1,
                    "--mega" => 2,
                    "--giga" => 3,
                    "--tera" => 4,
                    _ => 5,
                })
            }
            "-h" | "--human" => o.unit = Unit::Human,
            "--si" => o.si = true,
            "-w" | "--wide" => o.wide = true,
            "-t" | "--total" => o.total = true,
            "-s" | "--seconds" => {
                let v = value()?;
                o.delay = Some(
                    v.parse()
                        .ok()
                        .filter(|d: &f64| *d > 0.0)
                        .ok_or(format!("seconds argument '{v}' failed"))?,
                )
            }
            "-c" | "--count" => {
                let v = value()?;
                o.count = Some(
                    v.parse()
                        .ok()
                        .filter(|c| *c > 0)
                        .ok_or(format!("failed to parse count argument: '{v}'"))?,
                )
            }
            _ => return Err(format!("invalid option -- '{a}'")),
        }
        i += 1;
    }
    Ok(o)
}

/// Entry point of the `free` applet.
pub fn main(argv: Vec<OsString>) -> i32 {
    let (o, proc) = match start(
        &argv,
        "free",
        HELP,
        &["--help"],
        parse,
        "cannot open procfs",
    ) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let count = o
        .count
        .unwrap_or(if o.delay.is_some() { u64::MAX } else { 1 });
    for n in 0..count {
        if n > 0 {
            println!();
            std::thread::sleep(std::time::Duration::from_secs_f64(o.delay.unwrap_or(1.0)));
        }
        let m = match proc.meminfo() {
            Ok(m) => Mem::from_meminfo(&m),
            Err(e) => return fail("free", format!("cannot read /proc/meminfo: {e}"), 1),
        };
        print!("{}", render(&m, &o));
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procps_layout() {
        let mi: HashMap<String, u64> = [
            ("MemTotal", 24683772),
            ("MemFree", 23379372),
            ("MemAvailable", 24274220),
            ("Buffers", 1000),
            ("Cached", 1100000),
            ("SReclaimable", 52756),
            ("Shmem", 10304),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
        let m = Mem::from_meminfo(&mi);
        let o = parse(&[]).unwrap();
        assert_eq!(
            render(&m, &o),
            "               total        used        free      shared  buff/cache   available\n\
             Mem:        24683772      409552    23379372       10304     1153756    24274220\n\
             Swap:              0           0           0\n"
        );
        let o = parse(&["-h".into()]).unwrap();
        let r = render(&m, &o);
        assert!(
            r.contains(
                "Mem:            23Gi       399Mi        22Gi        10Mi       1.1Gi        23Gi"
            ),
            "{r}"
        );
        assert!(
            r.contains("Swap:             0B          0B          0B"),
            "{r}"
        );
        assert_eq!(human(1, false), "1.0Ki");
    }
}
