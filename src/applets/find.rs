//! `find`: search for files in a directory hierarchy.
//!
//! Written here because uutils findutils depends on oniguruma (a C library
//! built through a -sys crate), which the static, C-free build rules out.
//! Supports the common GNU expressions: tests -name -iname -path -ipath
//! -wholename -type -size -mtime -mmin -newer -empty -true -false, actions
//! -print -print0 -exec/-execdir ... ; (or +) -delete -prune -quit, operators
//! ( ) ! -not -a -and -o -or, global options -maxdepth -mindepth -depth and
//! -L/-P/-H.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use glob::{MatchOptions, Pattern};

const USAGE: &str = "\
Usage: find [-H] [-L] [-P] [PATH...] [EXPRESSION]
Tests: -name PAT -iname PAT -path PAT -ipath PAT -type [bcdpfls] -size [+-]N[ckMG]
       -mtime [+-]N -mmin [+-]N -newer FILE -empty -true -false
Actions: -print -print0 -exec CMD {} ; -exec CMD {} + -execdir CMD {} ; -delete -prune -quit
Operators: ( EXPR ) ! EXPR -not EXPR EXPR -a EXPR EXPR -o EXPR
Options: -maxdepth N -mindepth N -depth
";

#[derive(Debug)]
enum Cmp {
    Lt(i64),
    Eq(i64),
    Gt(i64),
}

impl Cmp {
    fn parse(s: &str) -> Option<Self> {
        if let Some(n) = s.strip_prefix('+') {
            n.parse().ok().map(Cmp::Gt)
        } else if let Some(n) = s.strip_prefix('-') {
            n.parse().ok().map(Cmp::Lt)
        } else {
            s.parse().ok().map(Cmp::Eq)
        }
    }
    fn test(&self, v: i64) -> bool {
        match *self {
            Cmp::Lt(n) => v < n,
            Cmp::Eq(n) => v == n,
            Cmp::Gt(n) => v > n,
        }
    }
}

#[derive(Debug)]
enum Expr {
    True,
    False,
    Name(Pattern, bool),
    Path(Pattern, bool),
    Type(Vec<char>),
    Size(Cmp, u64),
    Mtime(Cmp, i64),
    Newer(SystemTime),
    Empty,
    Print(u8),
    Exec {
        argv: Vec<String>,
        batch: bool,
        in_dir: bool,
        pending: Vec<PathBuf>,
    },
    Delete,
    Prune,
    Quit,
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    fn has_action(&self) -> bool {
        match self {
            Expr::Print(_) | Expr::Exec { .. } | Expr::Delete | Expr::Quit => true,
            Expr::Not(e) => e.has_action(),
            Expr::And(a, b) | Expr::Or(a, b) => a.has_action() || b.has_action(),
            _ => false,
        }
    }
    fn has_delete(&self) -> bool {
        match self {
            Expr::Delete => true,
            Expr::Not(e) => e.has_delete(),
            Expr::And(a, b) | Expr::Or(a, b) => a.has_delete() || b.has_delete(),
            _ => false,
        }
    }
}

struct Opts {
    follow: bool,
    follow_args: bool,
    maxdepth: Option<usize>,
    mindepth: usize,
    depth_first: bool,
}

struct Parser {
    args: Vec<String>,
    pos: usize,
    opts: Opts,
    now: SystemTime,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.args.get(self.pos).map(String::as_str)
    }
    fn next_arg(&mut self, opt: &str) -> Result<String, String> {
        let v = self
            .args
            .get(self.pos)
            .cloned()
            .ok_or_else(|| format!("missing argument to `{opt}'"))?;
        self.pos += 1;
        Ok(v)
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some("-o" | "-or")) {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                None | Some("-o" | "-or" | ")") => break,
                Some("-a" | "-and") => self.pos += 1,
                _ => {}
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some("!" | "-not") => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some("(") => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(")") {
                    return Err("missing `)'".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Some(_) => self.primary(),
            None => Err("expected an expression".into()),
        }
    }
    fn primary(&mut self) -> Result<Expr, String> {
        let tok = self.next_arg("")?;
        let pat = |s: &str| Pattern::new(s).map_err(|e| format!("{tok}: {e}"));
        Ok(match tok.as_str() {
            "-true" => Expr::True,
            "-false" => Expr::False,
            "-name" => Expr::Name(pat(&self.next_arg(&tok)?)?, false),
            "-iname" => Expr::Name(pat(&self.next_arg(&tok)?)?, true),
            "-path" | "-wholename" => Expr::Path(pat(&self.next_arg(&tok)?)?, false),
            "-ipath" | "-iwholename" => Expr::Path(pat(&self.next_arg(&tok)?)?, true),
            "-type" => {
                let v = self.next_arg(&tok)?;
                let types: Vec<char> = v.split(',').filter_map(|t| t.chars().next()).collect();
                if types.is_empty() || types.iter().any(|c| !"bcdpflsD".contains(*c)) {
                    return Err(format!("unknown argument to -type: {v}"));
                }
                Expr::Type(types)
            }
            "-size" => {
                let v = self.next_arg(&tok)?;
                let (num, unit) = match v.chars().last() {
                    Some(c) if c.is_ascii_alphabetic() => (&v[..v.len() - 1], c),
                    _ => (v.as_str(), 'b'),
                };
                let unit = match unit {
                    'c' => 1,
                    'w' => 2,
                    'b' => 512,
                    'k' => 1024,
                    'M' => 1 << 20,
                    'G' => 1 << 30,
                    _ => return Err(format!("invalid -size unit in {v}")),
                };
                Expr::Size(
                    Cmp::parse(num).ok_or_else(|| format!("invalid argument `{v}' to -size"))?,
                    unit,
                )
            }
            "-mtime" | "-mmin" => {
                let v = self.next_arg(&tok)?;
                let unit = if tok == "-mtime" { 86400 } else { 60 };
                Expr::Mtime(
                    Cmp::parse(&v).ok_or_else(|| format!("invalid argument `{v}' to {tok}"))?,
                    unit,
                )
            }
            "-newer" => {
                let f = self.next_arg(&tok)?;
                let m = std::fs::metadata(&f)
                    .and_then(|m| m.modified())
                    .map_err(|e| format!("{f}: {e}"))?;
                Expr::Newer(m)
            }
            "-empty" => Expr::Empty,
            "-print" => Expr::Print(b'\n'),
            "-print0" => Expr::Print(0),
            "-delete" => {
                self.opts.depth_first = true;
                Expr::Delete
            }
            "-prune" => Expr::Prune,
            "-quit" => Expr::Quit,
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                let mut argv = Vec::new();
                let batch = loop {
                    let a = self
                        .args
                        .get(self.pos)
                        .cloned()
                        .ok_or_else(|| format!("missing argument to `{tok}'"))?;
                    self.pos += 1;
                    if a == ";" {
                        break false;
                    }
                    if a == "+" && argv.last().is_some_and(|l: &String| l == "{}") {
                        break true;
                    }
                    argv.push(a);
                };
                if argv.is_empty() {
                    return Err(format!("missing argument to `{tok}'"));
                }
                Expr::Exec {
                    argv,
                    batch,
                    in_dir: tok.ends_with("dir"),
                    pending: Vec::new(),
                }
            }
            "-maxdepth" | "-mindepth" => {
                let v = self.next_arg(&tok)?;
                let n: usize = v
                    .parse()
                    .map_err(|_| format!("invalid argument `{v}' to {tok}"))?;
                if tok == "-maxdepth" {
                    self.opts.maxdepth = Some(n);
                } else {
                    self.opts.mindepth = n;
                }
                Expr::True
            }
            "-depth" | "-d" => {
                self.opts.depth_first = true;
                Expr::True
            }
            "-xdev" | "-mount" | "-noleaf" | "-ignore_readdir_race" => Expr::True,
            "-follow" => {
                self.opts.follow = true;
                Expr::True
            }
            _ => return Err(format!("unknown predicate `{tok}'")),
        })
    }
}

struct Entry<'a> {
    path: &'a Path,
    meta: &'a std::fs::Metadata,
    depth: usize,
}

struct Finder<W: Write> {
    out: W,
    now: SystemTime,
    error: bool,
    quit: bool,
    opts: Opts,
}

impl<W: Write> Finder<W> {
    fn eval(&mut self, e: &mut Expr, en: &Entry<'_>, prune: &mut bool) -> bool {
        let name = || {
            en.path
                .file_name()
                .map_or_else(|| en.path.as_os_str().to_os_string(), |n| n.to_os_string())
        };
        match e {
            Expr::True => true,
            Expr::False => false,
            Expr::Name(p, icase) => p.matches_with(
                &name().to_string_lossy(),
                MatchOptions {
                    case_sensitive: !*icase,
                    require_literal_separator: false,
                    require_literal_leading_dot: false,
                },
            ),
            Expr::Path(p, icase) => p.matches_with(
                &en.path.to_string_lossy(),
                MatchOptions {
                    case_sensitive: !*icase,
                    require_literal_separator: false,
                    require_literal_leading_dot: false,
                },
            ),
            Expr::Type(types) => {
                let ft = en.meta.file_type();
                types.iter().any(|t| match t {
                    'f' => ft.is_file(),
                    'd' => ft.is_dir(),
                    'l' => ft.is_symlink(),
                    'b' => ft.is_block_device(),
                    'c' => ft.is_char_device(),
                    'p' => ft.is_fifo(),
                    's' => ft.is_socket(),
                    _ => false,
                })
            }
            Expr::Size(cmp, unit) => {
                let units = en.meta.len().div_ceil(*unit);
                cmp.test(units as i64)
            }
            Expr::Mtime(cmp, unit) => {
                let mtime = en.meta.mtime();
                let now = self
                    .now
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                cmp.test((now - mtime).div_euclid(*unit))
            }
            Expr::Newer(t) => en.meta.modified().is_ok_and(|m| m > *t),
            Expr::Empty => {
                if en.meta.is_dir() {
                    std::fs::read_dir(en.path).is_ok_and(|mut d| d.next().is_none())
                } else {
                    en.meta.is_file() && en.meta.len() == 0
                }
            }
            Expr::Print(term) => {
                let r = self
                    .out
                    .write_all(en.path.as_os_str().as_bytes())
                    .and_then(|()| self.out.write_all(&[*term]));
                if r.is_err() {
                    self.quit = true;
                    self.error = true;
                }
                true
            }
            Expr::Delete => {
                let r = if en.meta.is_dir() {
                    std::fs::remove_dir(en.path)
                } else {
                    std::fs::remove_file(en.path)
                };
                match r {
                    Ok(()) => true,
                    Err(err) => {
                        eprintln!("find: cannot delete '{}': {err}", en.path.display());
                        self.error = true;
                        false
                    }
                }
            }
            Expr::Prune => {
                *prune = true;
                true
            }
            Expr::Quit => {
                self.quit = true;
                true
            }
            Expr::Exec {
                argv,
                batch,
                in_dir,
                pending,
            } => {
                let path = if *in_dir {
                    let n = name();
                    let mut p = PathBuf::from("./");
                    p.push(n);
                    p
                } else {
                    en.path.to_path_buf()
                };
                let dir = if *in_dir {
                    en.path.parent().map(Path::to_path_buf)
                } else {
                    None
                };
                if *batch {
                    pending.push(path);
                    if pending.len() >= 1000 {
                        let list = std::mem::take(pending);
                        let _ = self.flush_out();
                        if !run_exec(argv, &list, None) {
                            self.error = true;
                        }
                    }
                    true
                } else {
                    let _ = self.flush_out();
                    run_exec(argv, &[path], dir.as_deref())
                }
            }
            Expr::Not(inner) => !self.eval(inner, en, prune),
            Expr::And(a, b) => self.eval(a, en, prune) && !self.quit && self.eval(b, en, prune),
            Expr::Or(a, b) => self.eval(a, en, prune) || (!self.quit && self.eval(b, en, prune)),
        }
    }

    fn flush_out(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn walk(&mut self, e: &mut Expr, path: &Path, depth: usize) {
        if self.quit {
            return;
        }
        let follow = self.opts.follow || (depth == 0 && self.opts.follow_args);
        let meta = if follow {
            std::fs::metadata(path).or_else(|_| std::fs::symlink_metadata(path))
        } else {
            std::fs::symlink_metadata(path)
        };
        let meta = match meta {
            Ok(m) => m,
            Err(err) => {
                eprintln!("find: '{}': {}", path.display(), strip_os(&err));
                self.error = true;
                return;
            }
        };
        let in_range = depth >= self.opts.mindepth;
        let mut prune = false;
        let entry = Entry {
            path,
            meta: &meta,
            depth,
        };
        if in_range && !self.opts.depth_first {
            self.eval(e, &entry, &mut prune);
        }
        let descend =
            meta.is_dir() && !prune && self.opts.maxdepth.is_none_or(|m| depth < m) && !self.quit;
        if descend {
            match std::fs::read_dir(path) {
                Ok(rd) => {
                    let mut children: Vec<PathBuf> =
                        rd.filter_map(Result::ok).map(|d| d.path()).collect();
                    children.sort();
                    for c in children {
                        self.walk(e, &c, entry.depth + 1);
                        if self.quit {
                            break;
                        }
                    }
                }
                Err(err) => {
                    eprintln!("find: '{}': {}", path.display(), strip_os(&err));
                    self.error = true;
                }
            }
        }
        if in_range && self.opts.depth_first && !self.quit {
            self.eval(e, &entry, &mut prune);
        }
    }

    fn finish(&mut self, e: &mut Expr) {
        match e {
            Expr::Exec {
                argv,
                batch: true,
                pending,
                ..
            } if !pending.is_empty() => {
                let list = std::mem::take(pending);
                let _ = self.flush_out();
                if !run_exec(argv, &list, None) {
                    self.error = true;
                }
            }
            Expr::Not(a) => self.finish(a),
            Expr::And(a, b) | Expr::Or(a, b) => {
                self.finish(a);
                self.finish(b);
            }
            _ => {}
        }
    }
}

fn strip_os(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Runs an -exec command: the system's program from PATH, else the bundled
/// applet of that name (so `-exec` works in a container without tools).
fn run_exec(argv: &[String], paths: &[PathBuf], dir: Option<&Path>) -> bool {
    let mut args: Vec<OsString> = Vec::new();
    let single = paths.len() == 1;
    for a in &argv[1..] {
        if a == "{}" {
            args.extend(paths.iter().map(|p| p.as_os_str().to_os_string()));
        } else if a.contains("{}") && single {
            let p = paths[0].to_string_lossy();
            args.push(a.replace("{}", &p).into());
        } else {
            args.push(a.into());
        }
    }
    let prog = &argv[0];
    let status = super::selfexe::run_program(prog.as_ref(), &args, dir);
    match status {
        Ok(s) => s.success(),
        Err(e) => {
            eprintln!("find: '{prog}': {}", strip_os(&e));
            false
        }
    }
}

/// Entry point of the `find` applet.
pub fn main(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if args.first().is_some_and(|a| a == "--help") {
        print!("{USAGE}");
        return 0;
    }
    let mut opts = Opts {
        follow: false,
        follow_args: false,
        maxdepth: None,
        mindepth: 0,
        depth_first: false,
    };
    let mut i = 0;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "-L" => opts.follow = true,
            "-H" => opts.follow_args = true,
            "-P" => {
                opts.follow = false;
                opts.follow_args = false;
            }
            _ => break,
        }
        i += 1;
    }
    let start = i;
    while let Some(a) = args.get(i) {
        if (a.starts_with('-') && a.len() > 1) || a == "!" || a == "(" {
            break;
        }
        i += 1;
    }
    let mut paths: Vec<PathBuf> = args[start..i].iter().map(PathBuf::from).collect();
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let now = SystemTime::now();
    let mut parser = Parser {
        args: args[i..].to_vec(),
        pos: 0,
        opts,
        now,
    };
    let expr = if parser.args.is_empty() {
        Ok(Expr::True)
    } else {
        parser.or().and_then(|e| match parser.peek() {
            None => Ok(e),
            Some(t) => Err(format!("unexpected `{t}'")),
        })
    };
    let mut expr = match expr {
        Ok(e) => e,
        Err(e) => {
            eprintln!("find: {e}");
            return 1;
        }
    };
    if !expr.has_action() {
        expr = Expr::And(Box::new(expr), Box::new(Expr::Print(b'\n')));
    }
    if expr.has_delete() {
        parser.opts.depth_first = true;
    }
    let stdout = io::stdout();
    let mut f = Finder {
        out: io::BufWriter::new(stdout.lock()),
        now: parser.now,
        error: false,
        quit: false,
        opts: parser.opts,
    };
    for p in &paths {
        f.walk(&mut expr, p, 0);
        if f.quit {
            break;
        }
    }
    f.finish(&mut expr);
    if f.out.flush().is_err() {
        return 1;
    }
    i32::from(f.error)
}

/// Runs `argv` (program + args): the system's program from PATH, else the
/// bundled applet of that name. Returns the exit status (126/127 on failure
/// to start, with a message).
fn run_program(argv: &[OsString]) -> i32 {
    let prog = &argv[0];
    let status = super::selfexe::run_program(prog, &argv[1..], None);
    match status {
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
        }
        Err(e) => {
            eprintln!("xargs: {}: {}", prog.to_string_lossy(), strip_os(&e));
            if e.kind() == io::ErrorKind::NotFound {
                127
            } else {
                126
            }
        }
    }
}

const XARGS_USAGE: &str = "\
Usage: xargs [-0] [-d DELIM] [-n MAX-ARGS] [-I REPLACE] [-r] [-t] [COMMAND [ARG...]]
Build and run command lines from standard input (default command: echo).
";

/// Entry point of the `xargs` applet (a small one: -0 -d -n -I -r -t).
pub fn xargs_main(args: Vec<OsString>) -> i32 {
    use std::io::Read;
    let mut it = args.into_iter().skip(1).peekable();
    let (mut zero, mut delim, mut max, mut replace, mut no_empty, mut trace) = (
        false,
        None::<u8>,
        None::<usize>,
        None::<String>,
        false,
        false,
    );
    while let Some(a) = it.peek().map(|a| a.to_string_lossy().into_owned()) {
        if !a.starts_with('-') || a == "-" {
            break;
        }
        it.next();
        let mut val = |inline: &str| -> Option<String> {
            if inline.is_empty() {
                it.next().map(|v| v.to_string_lossy().into_owned())
            } else {
                Some(inline.to_string())
            }
        };
        match a.as_str() {
            "--" => break,
            "--help" => {
                print!("{XARGS_USAGE}");
                return 0;
            }
            "-0" | "--null" => zero = true,
            "-r" | "--no-run-if-empty" => no_empty = true,
            "-t" | "--verbose" => trace = true,
            s if s.starts_with("-d") => {
                let d = val(&s[2..]).unwrap_or_default();
                delim = Some(match d.as_str() {
                    "\\n" => b'\n',
                    "\\t" => b'\t',
                    _ => d.bytes().next().unwrap_or(b'\n'),
                });
            }
            s if s.starts_with("-n") => match val(&s[2..]).and_then(|v| v.parse().ok()) {
                Some(n) if n > 0 => max = Some(n),
                _ => {
                    eprintln!("xargs: invalid number for -n");
                    return 1;
                }
            },
            s if s.starts_with("-I") => {
                replace = val(&s[2..]);
                max = Some(1);
            }
            _ => {
                eprintln!("xargs: invalid option -- '{a}'");
                eprint!("{XARGS_USAGE}");
                return 1;
            }
        }
    }
    let mut cmd: Vec<OsString> = it.collect();
    if cmd.is_empty() {
        cmd.push("echo".into());
    }
    let mut input = Vec::new();
    if let Err(e) = io::stdin().read_to_end(&mut input) {
        eprintln!("xargs: {e}");
        return 1;
    }
    let items: Vec<OsString> = if zero || delim.is_some() {
        let d = if zero { 0 } else { delim.unwrap_or(b'\n') };
        input
            .split(|b| *b == d)
            .filter(|s| !s.is_empty())
            .map(|s| OsString::from(std::ffi::OsStr::from_bytes(s)))
            .collect()
    } else if replace.is_some() {
        input
            .split(|b| *b == b'\n')
            .filter(|s| !s.is_empty())
            .map(|s| OsString::from(std::ffi::OsStr::from_bytes(s)))
            .collect()
    } else {
        input
            .split(|b| b.is_ascii_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| OsString::from(std::ffi::OsStr::from_bytes(s)))
            .collect()
    };
    if items.is_empty() && (no_empty || replace.is_some()) {
        return 0;
    }
    let chunk = max.unwrap_or(5000).max(1);
    let mut worst = 0;
    let batches: Vec<&[OsString]> = if items.is_empty() {
        vec![&[]]
    } else {
        items.chunks(chunk).collect()
    };
    for batch in batches {
        let argv: Vec<OsString> = match &replace {
            Some(r) => {
                let item = batch[0].to_string_lossy();
                cmd.iter()
                    .map(|a| a.to_string_lossy().replace(r.as_str(), &item).into())
                    .collect()
            }
            None => cmd.iter().chain(batch.iter()).cloned().collect(),
        };
        if trace {
            let line: Vec<String> = argv
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            eprintln!("{}", line.join(" "));
        }
        let code = run_program(&argv);
        match code {
            0 => {}
            126 | 127 => return code,
            255 => return 124,
            c if c > 128 => return 125,
            _ => worst = 123,
        }
    }
    worst
}
