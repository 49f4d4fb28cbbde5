//! `mount`, `umount` and `findmnt`, util-linux style, from
//! /proc/self/mountinfo (read through [`ProcRoot`], so they work without a
//! mounted /proc).

use std::collections::HashMap;
use std::ffi::{CString, OsString};

use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

use super::procfs::{fail, forest, MountInfo, ProcRoot};
use super::table::{Align, Table};

const MOUNT_HELP: &str = "\
Usage: mount [-t TYPE] [-o OPTIONS] [SOURCE] TARGET
       mount                      list mounts (from /proc/self/mountinfo)
       mount -t TYPE              list mounts of that type
Mount a filesystem.

  -t, --types TYPE     filesystem type (needed unless binding/remounting)
  -o, --options OPTS   comma-separated options: ro, rw, nosuid, nodev, noexec,
                       noatime, relatime, remount, bind, rbind, … ; unknown
                       ones go to the filesystem (e.g. size=10m)
  -r, --read-only      same as -o ro        -w, --rw   same as -o rw
  -B, --bind           bind mount           -R, --rbind  recursive bind mount
  -M, --move           move a mount
      --make-shared, --make-private, --make-slave, --make-unbindable
      --make-rshared, --make-rprivate, --make-rslave, --make-runbindable
  --help               this text
";

const UMOUNT_HELP: &str = "\
Usage: umount [-l] [-f] TARGET...
Unmount filesystems.

  -l, --lazy     detach now, clean up when no longer busy
  -f, --force    force (e.g. an unreachable NFS server)
  -R, --recursive  unmount TARGET and every mount below it
  --help         this text
";

const FINDMNT_HELP: &str = "\
Usage: findmnt [OPTIONS] [SOURCE|TARGET]
List mounted filesystems as a tree (from /proc/self/mountinfo).

  -t, --types LIST     only these types (a leading 'no' excludes: -t nosysfs,proc)
  -o, --output LIST    columns: TARGET SOURCE FSTYPE OPTIONS VFS-OPTIONS
                       FS-OPTIONS PROPAGATION FSROOT ID PARENT MAJ:MIN
  -l, --list           list instead of tree   -n, --noheadings   no header line
  -a, --ascii          ASCII tree characters  -T, --target PATH  mount holding PATH
  --help               this text
";

fn args_of(argv: Vec<OsString>) -> Vec<String> {
    argv.iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

fn mount_table(applet: &str) -> Result<Vec<MountInfo>, i32> {
    let proc = ProcRoot::open().map_err(|e| fail(applet, format!("cannot open procfs: {e}"), 1))?;
    proc.mountinfo("self")
        .map_err(|e| fail(applet, format!("cannot read mountinfo: {e}"), 1))
}

/// Splits `-oVALUE`, `-o VALUE`, `--opt=VALUE`, `--opt VALUE`.
struct Args {
    v: Vec<String>,
    i: usize,
}

impl Args {
    fn value(&mut self, inline: Option<String>, name: &str) -> Result<String, String> {
        if let Some(v) = inline {
            return Ok(v);
        }
        self.i += 1;
        self.v
            .get(self.i)
            .cloned()
            .ok_or_else(|| format!("option {name} requires an argument"))
    }
}

/// `(name, inline value)`: `--types=x` → (`--types`, x); `-tx` → (`-t`, x).
fn split_opt(a: &str) -> (String, Option<String>) {
    if a.starts_with("--") {
        match a.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (a.to_string(), None),
        }
    } else if a.starts_with('-') && a.len() > 2 {
        (a[..2].to_string(), Some(a[2..].to_string()))
    } else {
        (a.to_string(), None)
    }
}

fn type_filter(spec: &str) -> impl Fn(&str) -> bool {
    let neg = spec.starts_with("no");
    let types: Vec<String> = spec
        .trim_start_matches("no")
        .split(',')
        .map(|t| t.trim_start_matches("no").to_string())
        .collect();
    move |t: &str| types.iter().any(|x| x == t) != neg
}

// ---------------------------------------------------------------- mount

struct MountReq {
    fstype: Option<String>,
    flags: MountFlags,
    data: Vec<String>,
    remount: bool,
    bind: bool,
    rec: bool,
    mv: bool,
    propagation: Option<MountPropagationFlags>,
    paths: Vec<String>,
    /// The -o options as given, in order.
    raw: Vec<String>,
}

fn args_of_opts(raw: &[String]) -> Vec<String> {
    raw.iter()
        .flat_map(|o| o.split(','))
        .map(String::from)
        .collect()
}

fn apply_option(r: &mut MountReq, o: &str) {
    let set = |r: &mut MountReq, f: MountFlags, on: bool| {
        if on {
            r.flags |= f
        } else {
            r.flags &= !f
        }
    };
    match o {
        "" | "defaults" | "auto" | "noauto" | "user" | "nouser" | "users" | "_netdev"
        | "nofail" => {}
        "ro" => set(r, MountFlags::RDONLY, true),
        "rw" => set(r, MountFlags::RDONLY, false),
        "nosuid" => set(r, MountFlags::NOSUID, true),
        "suid" => set(r, MountFlags::NOSUID, false),
        "nodev" => set(r, MountFlags::NODEV, true),
        "dev" => set(r, MountFlags::NODEV, false),
        "noexec" => set(r, MountFlags::NOEXEC, true),
        "exec" => set(r, MountFlags::NOEXEC, false),
        "sync" => set(r, MountFlags::SYNCHRONOUS, true),
        "async" => set(r, MountFlags::SYNCHRONOUS, false),
        "dirsync" => set(r, MountFlags::DIRSYNC, true),
        "noatime" => set(r, MountFlags::NOATIME, true),
        "atime" => set(r, MountFlags::NOATIME, false),
        "nodiratime" => set(r, MountFlags::NODIRATIME, true),
        "diratime" => set(r, MountFlags::NODIRATIME, false),
        "relatime" => set(r, MountFlags::RELATIME, true),
        "norelatime" => set(r, MountFlags::RELATIME, false),
        "strictatime" => set(r, MountFlags::STRICTATIME, true),
        "lazytime" => set(r, MountFlags::LAZYTIME, true),
        "nosymfollow" => set(r, MountFlags::NOSYMFOLLOW, true),
        "silent" => set(r, MountFlags::SILENT, true),
        "remount" => r.remount = true,
        "bind" => r.bind = true,
        "rbind" => {
            r.bind = true;
            r.rec = true
        }
        "move" => r.mv = true,
        p if propagation(p).is_some() => r.propagation = propagation(p),
        other => r.data.push(other.to_string()),
    }
}

fn propagation(name: &str) -> Option<MountPropagationFlags> {
    let name = name
        .trim_start_matches("--make-")
        .trim_start_matches("make-");
    let (rec, base) = match name.strip_prefix('r') {
        Some(b) if matches!(b, "shared" | "private" | "slave" | "unbindable") => (true, b),
        _ => (false, name),
    };
    let f = match base {
        "shared" => MountPropagationFlags::SHARED,
        "private" => MountPropagationFlags::PRIVATE,
        "slave" => MountPropagationFlags::DOWNSTREAM,
        "unbindable" => MountPropagationFlags::UNBINDABLE,
        _ => return None,
    };
    Some(if rec {
        f | MountPropagationFlags::REC
    } else {
        f
    })
}

fn parse_mount(args: Vec<String>) -> Result<MountReq, String> {
    let mut r = MountReq {
        fstype: None,
        flags: MountFlags::empty(),
        data: Vec::new(),
        remount: false,
        bind: false,
        rec: false,
        mv: false,
        propagation: None,
        paths: Vec::new(),
        raw: Vec::new(),
    };
    let mut a = Args { v: args, i: 0 };
    while a.i < a.v.len() {
        let arg = a.v[a.i].clone();
        let (name, inline) = split_opt(&arg);
        match name.as_str() {
            "-t" | "--types" => r.fstype = Some(a.value(inline, &name)?),
            "-o" | "--options" => {
                let v = a.value(inline, &name)?;
                for o in v.split(',') {
                    apply_option(&mut r, o)
                }
                r.raw.push(v);
            }
            "-r" | "--read-only" => {
                apply_option(&mut r, "ro");
                r.raw.push("ro".into());
            }
            "-w" | "--rw" | "--read-write" => {
                apply_option(&mut r, "rw");
                r.raw.push("rw".into());
            }
            "-B" | "--bind" => apply_option(&mut r, "bind"),
            "-R" | "--rbind" => apply_option(&mut r, "rbind"),
            "-M" | "--move" => r.mv = true,
            "-n" | "--no-mtab" | "-v" | "--verbose" | "-l" | "--show-labels" => {}
            n if n.starts_with("--make-") => {
                r.propagation = Some(propagation(n).ok_or(format!("unknown option {n}"))?)
            }
            n if n.starts_with('-') && n.len() > 1 => return Err(format!("unknown option {n}")),
            _ => r.paths.push(arg),
        }
        a.i += 1;
    }
    Ok(r)
}

fn do_mount(r: &MountReq) -> Result<(), String> {
    let data = r.data.join(",");
    let err = |what: &str, e: rustix::io::Errno| format!("{what}: {e}");
    match (r.paths.as_slice(), r.propagation) {
        ([target], Some(p)) => {
            rustix::mount::mount_change(target.as_str(), p).map_err(|e| err(target, e))
        }
        ([target], None) if r.remount => {
            let mut f = r.flags;
            if r.bind {
                f |= MountFlags::BIND;
            }
            rustix::mount::mount_remount(target.as_str(), f, data.as_str())
                .map_err(|e| err(target, e))
        }
        ([_], None) => Err("no /etc/fstab lookups: give SOURCE and TARGET".into()),
        ([src, dst], _) => {
            if r.mv {
                rustix::mount::mount_move(src.as_str(), dst.as_str()).map_err(|e| err(dst, e))?;
            } else if r.bind {
                if r.rec {
                    rustix::mount::mount_bind_recursive(src.as_str(), dst.as_str())
                } else {
                    rustix::mount::mount_bind(src.as_str(), dst.as_str())
                }
                .map_err(|e| err(dst, e))?;
                // Per-mount flags only apply through a remount of the bind.
                if !r.flags.is_empty() {
                    rustix::mount::mount_remount(
                        dst.as_str(),
                        r.flags | MountFlags::BIND,
                        data.as_str(),
                    )
                    .map_err(|e| err(dst, e))?;
                }
            } else {
                let fstype = r
                    .fstype
                    .as_deref()
                    .ok_or("give the filesystem type with -t TYPE")?;
                let cdata = CString::new(data.clone()).map_err(|_| "bad options")?;
                rustix::mount::mount(
                    src.as_str(),
                    dst.as_str(),
                    fstype,
                    r.flags,
                    (!data.is_empty()).then_some(cdata.as_c_str()),
                )
                .map_err(|e| format!("{src} on {dst}: {e}"))?;
            }
            if let Some(p) = r.propagation {
                rustix::mount::mount_change(dst.as_str(), p).map_err(|e| err(dst, e))?;
            }
            Ok(())
        }
        _ => Err("bad usage (see mount --help)".into()),
    }
}

/// Entry point of the `mount` applet.
pub fn mount_main(argv: Vec<OsString>) -> i32 {
    let args = args_of(argv);
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{MOUNT_HELP}");
        return 0;
    }
    let r = match parse_mount(args) {
        Ok(r) => r,
        Err(e) => return fail("mount", e, 1),
    };
    if r.paths.is_empty() && r.propagation.is_none() && !r.remount {
        let table = match mount_table("mount") {
            Ok(t) => t,
            Err(c) => return c,
        };
        let keep = r.fstype.as_deref().map(type_filter);
        let mut out = String::new();
        for m in &table {
            if keep.as_ref().is_some_and(|k| !k(&m.fstype)) {
                continue;
            }
            out.push_str(&format!(
                "{} on {} type {} ({})\n",
                m.source,
                m.target,
                m.fstype,
                m.options()
            ));
        }
        print!("{out}");
        return 0;
    }
    if r.remount && r.paths.len() == 1 {
        // Like util-linux: a remount keeps the per-mount flags it does not
        // name (the kernel would reset them).
        if let Ok(table) = mount_table("mount") {
            let t = r.paths[0].trim_end_matches('/');
            let t = if t.is_empty() { "/" } else { t };
            if let Some(m) = table.iter().rev().find(|m| m.target == t) {
                let mut base = MountReq {
                    flags: MountFlags::empty(),
                    ..r
                };
                for o in m.vfs_options.split(',') {
                    apply_option(&mut base, o);
                }
                base.data.clear();
                let user = args_of_opts(&base.raw);
                for o in &user {
                    apply_option(&mut base, o);
                }
                return match do_mount(&base) {
                    Ok(()) => 0,
                    Err(e) => fail("mount", e, 32),
                };
            }
        }
    }
    match do_mount(&r) {
        Ok(()) => 0,
        Err(e) => fail("mount", e, 32),
    }
}

// ---------------------------------------------------------------- umount

/// Entry point of the `umount` applet.
pub fn umount_main(argv: Vec<OsString>) -> i32 {
    let args = args_of(argv);
    let mut flags = UnmountFlags::empty();
    let mut recursive = false;
    let mut targets = Vec::new();
    for a in &args {
        match a.as_str() {
            "--help" | "-h" => {
                print!("{UMOUNT_HELP}");
                return 0;
            }
            "-l" | "--lazy" => flags |= UnmountFlags::DETACH,
            "-f" | "--force" => flags |= UnmountFlags::FORCE,
            "-R" | "--recursive" => recursive = true,
            "-n" | "-v" | "--verbose" | "-i" => {}
            s if s.starts_with('-')
                && s.len() > 1
                && s[1..].chars().all(|c| "lfRnv".contains(c)) =>
            {
                for c in s[1..].chars() {
                    match c {
                        'l' => flags |= UnmountFlags::DETACH,
                        'f' => flags |= UnmountFlags::FORCE,
                        'R' => recursive = true,
                        _ => {}
                    }
                }
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return fail("umount", format!("unknown option {s}"), 1)
            }
            s => targets.push(s.to_string()),
        }
    }
    if targets.is_empty() {
        return fail("umount", "bad usage (see umount --help)", 1);
    }
    let mut rc = 0;
    for t in &targets {
        let mut list = vec![t.trim_end_matches('/').to_string()];
        if list[0].is_empty() {
            list[0] = "/".into();
        }
        if recursive {
            if let Ok(table) = mount_table("umount") {
                let base = list[0].clone();
                let mut below: Vec<String> = table
                    .iter()
                    .map(|m| m.target.clone())
                    .filter(|m| m.starts_with(&format!("{}/", base.trim_end_matches('/'))))
                    .collect();
                below.sort_by_key(|m| std::cmp::Reverse(m.len()));
                below.dedup();
                below.push(base);
                list = below;
            }
        }
        for m in list {
            if let Err(e) = rustix::mount::unmount(m.as_str(), flags) {
                rc = fail("umount", format!("{m}: {e}"), 32);
            }
        }
    }
    rc
}

// ---------------------------------------------------------------- findmnt

#[derive(Clone, Copy, PartialEq)]
enum Col {
    Target,
    Source,
    FsType,
    Options,
    VfsOptions,
    FsOptions,
    Propagation,
    FsRoot,
    Id,
    Parent,
    MajMin,
}

fn col_of(name: &str) -> Option<Col> {
    Some(match name.to_ascii_uppercase().as_str() {
        "TARGET" => Col::Target,
        "SOURCE" => Col::Source,
        "FSTYPE" => Col::FsType,
        "OPTIONS" => Col::Options,
        "VFS-OPTIONS" => Col::VfsOptions,
        "FS-OPTIONS" => Col::FsOptions,
        "PROPAGATION" => Col::Propagation,
        "FSROOT" => Col::FsRoot,
        "ID" => Col::Id,
        "PARENT" => Col::Parent,
        "MAJ:MIN" => Col::MajMin,
        _ => return None,
    })
}

fn col_name(c: Col) -> &'static str {
    match c {
        Col::Target => "TARGET",
        Col::Source => "SOURCE",
        Col::FsType => "FSTYPE",
        Col::Options => "OPTIONS",
        Col::VfsOptions => "VFS-OPTIONS",
        Col::FsOptions => "FS-OPTIONS",
        Col::Propagation => "PROPAGATION",
        Col::FsRoot => "FSROOT",
        Col::Id => "ID",
        Col::Parent => "PARENT",
        Col::MajMin => "MAJ:MIN",
    }
}

fn findmnt_cell(c: Col, m: &MountInfo) -> String {
    match c {
        Col::Target => m.target.clone(),
        Col::Source => {
            if m.root != "/" && m.source.starts_with('/') {
                format!("{}[{}]", m.source, m.root)
            } else {
                m.source.clone()
            }
        }
        Col::FsType => m.fstype.clone(),
        Col::Options => m.options(),
        Col::VfsOptions => m.vfs_options.clone(),
        Col::FsOptions => m.fs_options.clone(),
        Col::Propagation => m.propagation(),
        Col::FsRoot => m.root.clone(),
        Col::Id => m.id.to_string(),
        Col::Parent => m.parent.to_string(),
        Col::MajMin => m.dev.clone(),
    }
}

/// Tree order with prefixes: (index, prefix such as `│ └─`).
fn mount_tree(ms: &[MountInfo], ascii: bool) -> Vec<(usize, String)> {
    let (roots, kids) = forest(ms.iter().map(|m| (m.id, m.parent)));
    let (branch, last, pipe) = if ascii {
        ("|-", "`-", "| ")
    } else {
        ("├─", "└─", "│ ")
    };
    let mut out = Vec::new();
    fn walk(
        i: usize,
        lead: &str,
        me: &str,
        ms: &[MountInfo],
        kids: &HashMap<u32, Vec<usize>>,
        glyphs: (&str, &str, &str),
        out: &mut Vec<(usize, String)>,
    ) {
        out.push((i, format!("{lead}{me}")));
        let Some(k) = kids.get(&ms[i].id) else {
            return;
        };
        let child_lead = match me {
            "" => lead.to_string(),
            m if m == glyphs.1 => format!("{lead}  "),
            _ => format!("{lead}{}", glyphs.2),
        };
        for (n, &c) in k.iter().enumerate() {
            let g = if n + 1 == k.len() { glyphs.1 } else { glyphs.0 };
            walk(c, &child_lead, g, ms, kids, glyphs, out);
        }
    }
    for r in roots {
        walk(r, "", "", ms, &kids, (branch, last, pipe), &mut out);
    }
    out
}

/// Entry point of the `findmnt` applet.
pub fn findmnt_main(argv: Vec<OsString>) -> i32 {
    let mut a = Args {
        v: args_of(argv),
        i: 0,
    };
    let mut cols = vec![Col::Target, Col::Source, Col::FsType, Col::Options];
    let mut types: Option<String> = None;
    let (mut list, mut headings, mut ascii) = (false, true, false);
    let mut wanted: Vec<String> = Vec::new();
    let mut containing: Vec<String> = Vec::new();
    while a.i < a.v.len() {
        let arg = a.v[a.i].clone();
        let (name, inline) = split_opt(&arg);
        let r: Result<(), String> = (|| {
            match name.as_str() {
                "--help" | "-h" => {
                    print!("{FINDMNT_HELP}");
                    std::process::exit(0);
                }
                "-t" | "--types" => types = Some(a.value(inline, &name)?),
                "-o" | "--output" => {
                    let v = a.value(inline, &name)?;
                    let v = v.trim_start_matches('+');
                    cols = v
                        .split(',')
                        .map(|c| col_of(c).ok_or(format!("unknown column: {c}")))
                        .collect::<Result<_, _>>()?;
                }
                "-T" | "--target" => containing.push(a.value(inline, &name)?),
                "-l" | "--list" | "-r" | "--raw" => list = true,
                "-n" | "--noheadings" => headings = false,
                "-a" | "--ascii" => ascii = true,
                s if s.starts_with('-')
                    && s.len() > 1
                    && s[1..].chars().all(|c| "lnar".contains(c)) =>
                {
                    for c in s[1..].chars() {
                        match c {
                            'l' | 'r' => list = true,
                            'n' => headings = false,
                            _ => ascii = true,
                        }
                    }
                }
                s if s.starts_with('-') && s.len() > 1 => {
                    return Err(format!("unknown option {s}"))
                }
                _ => wanted.push(arg.clone()),
            }
            Ok(())
        })();
        if let Err(e) = r {
            return fail("findmnt", e, 1);
        }
        a.i += 1;
    }
    let table = match mount_table("findmnt") {
        Ok(t) => t,
        Err(c) => return c,
    };
    // -T PATH: the mount that holds PATH (the last, i.e. topmost, of the
    // longest matching mount point).
    let mut ids: Vec<u32> = Vec::new();
    for path in &containing {
        let p = std::fs::canonicalize(path)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| path.clone());
        let under = |t: &str| t == "/" || p == t || p.starts_with(&format!("{t}/"));
        if let Some(m) = table
            .iter()
            .filter(|m| under(&m.target))
            .max_by_key(|m| m.target.len())
        {
            ids.push(m.id);
        }
    }
    if !containing.is_empty() && ids.is_empty() {
        return 1;
    }
    let keep = types.as_deref().map(type_filter);
    let matches = |m: &MountInfo| -> bool {
        if keep.as_ref().is_some_and(|k| !k(&m.fstype)) {
            return false;
        }
        if !ids.is_empty() {
            return ids.contains(&m.id);
        }
        wanted.is_empty()
            || wanted.iter().any(|w| {
                let w = if w.len() > 1 {
                    w.trim_end_matches('/')
                } else {
                    w
                };
                m.target == w || m.source == w
            })
    };
    let filtered = types.is_some() || !wanted.is_empty() || !ids.is_empty();
    let rows: Vec<(usize, String)> = if list || filtered {
        (0..table.len())
            .filter(|&i| matches(&table[i]))
            .map(|i| (i, String::new()))
            .collect()
    } else {
        mount_tree(&table, ascii)
    };
    if rows.is_empty() {
        return 1;
    }
    let mut t = Table::new();
    t.headers = headings;
    for c in &cols {
        t.col(col_name(*c), Align::Left);
    }
    for (i, prefix) in rows {
        let m = &table[i];
        t.row(cols.iter().map(|c| {
            let v = findmnt_cell(*c, m);
            if *c == Col::Target {
                format!("{prefix}{v}")
            } else {
                v
            }
        }));
    }
    print!("{}", t.render());
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applets::procfs::parse_mountinfo_line;

    #[test]
    fn tree_prefixes() {
        let ms: Vec<MountInfo> = [
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw",
            "2 1 0:5 / /proc rw - proc proc rw",
            "3 2 0:6 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw",
            "4 1 0:7 / /sys rw - sysfs sysfs rw",
        ]
        .iter()
        .map(|l| parse_mountinfo_line(l).unwrap())
        .collect();
        let t: Vec<String> = mount_tree(&ms, false)
            .into_iter()
            .map(|(i, p)| format!("{p}{}", ms[i].target))
            .collect();
        assert_eq!(
            t,
            vec!["/", "├─/proc", "│ └─/proc/sys/fs/binfmt_misc", "└─/sys"]
        );
    }

    #[test]
    fn options() {
        let r = parse_mount(
            "-t tmpfs -o size=1m,ro,nosuid none /mnt"
                .split(' ')
                .map(String::from)
                .collect(),
        )
        .unwrap();
        assert_eq!(r.fstype.as_deref(), Some("tmpfs"));
        assert_eq!(r.flags, MountFlags::RDONLY | MountFlags::NOSUID);
        assert_eq!(r.data, vec!["size=1m"]);
        assert_eq!(r.paths, vec!["none", "/mnt"]);
        assert_eq!(
            propagation("--make-rprivate"),
            Some(MountPropagationFlags::PRIVATE | MountPropagationFlags::REC)
        );
        let f = type_filter("noproc,sysfs");
        assert!(!f("proc") && !f("sysfs") && f("ext4"));
    }
}
