//! `grep`: print lines that match patterns (regex crate).
//!
//! Written here because no maintained crate offers a small grep library with
//! GNU's command line; the matching itself is the regex crate's. Supports
//! -E -F -G -i -v -n -c -l -L -r -R -o -q -s -w -x -h -H -e -f and the GNU
//! exit codes (0 a line matched, 1 none, 2 an error).

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use regex::bytes::{Regex, RegexBuilder};

const USAGE: &str = "\
Usage: grep [OPTION]... PATTERNS [FILE]...
Search for PATTERNS in each FILE (or standard input).
  -E, --extended-regexp     PATTERNS are extended regular expressions
  -F, --fixed-strings       PATTERNS are strings
  -G, --basic-regexp        PATTERNS are basic regular expressions (default)
  -e, --regexp=PATTERNS     use PATTERNS for matching
  -f, --file=FILE           take PATTERNS from FILE
  -i, --ignore-case         ignore case distinctions
  -w, --word-regexp         match only whole words
  -x, --line-regexp         match only whole lines
  -v, --invert-match        select non-matching lines
  -c, --count               print only a count of selected lines per FILE
  -l, --files-with-matches  print only names of FILEs with selected lines
  -L, --files-without-match print only names of FILEs with no selected lines
  -n, --line-number         print line number with output lines
  -o, --only-matching       show only the matching parts of lines
  -q, --quiet, --silent     suppress all normal output
  -s, --no-messages         suppress error messages
  -r, --recursive           search directories recursively
  -R, --dereference-recursive  likewise, following all symlinks
  -H, --with-filename       print the file name for each match
  -h, --no-filename         suppress the file name prefix on output
      --color[=WHEN]        accepted and ignored
Exit status is 0 if any line is selected, 1 otherwise, 2 if an error occurred.
";

#[derive(Default, Clone, Copy, PartialEq)]
enum Syntax {
    #[default]
    Basic,
    Extended,
    Fixed,
}

#[derive(Default)]
struct Opts {
    syntax: Syntax,
    patterns: Vec<String>,
    pattern_given: bool,
    icase: bool,
    word: bool,
    line: bool,
    invert: bool,
    count: bool,
    files_with: bool,
    files_without: bool,
    number: bool,
    only: bool,
    quiet: bool,
    no_messages: bool,
    recursive: bool,
    deref: bool,
    with_name: Option<bool>,
    files: Vec<PathBuf>,
}

/// `egrep`: `grep -E`.
pub fn egrep_main(mut args: Vec<OsString>) -> i32 {
    args.insert(1.min(args.len()), "-E".into());
    main(args)
}

/// `fgrep`: `grep -F`.
pub fn fgrep_main(mut args: Vec<OsString>) -> i32 {
    args.insert(1.min(args.len()), "-F".into());
    main(args)
}

/// Entry point of the `grep` applet.
pub fn main(args: Vec<OsString>) -> i32 {
    let opts = match parse(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("grep: {e}");
            eprintln!("Usage: grep [OPTION]... PATTERNS [FILE]...");
            return 2;
        }
    };
    let re = match build_regex(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("grep: {e}");
            return 2;
        }
    };
    let mut g = Grep {
        stdout: io::BufWriter::new(io::stdout().lock()),
        re,
        matched: false,
        error: false,
        with_name: false,
        opts,
    };
    let files = std::mem::take(&mut g.opts.files);
    let files = if files.is_empty() {
        if g.opts.recursive {
            vec![PathBuf::from(".")]
        } else {
            vec![PathBuf::from("-")]
        }
    } else {
        files
    };
    g.with_name = g
        .opts
        .with_name
        .unwrap_or(files.len() > 1 || g.opts.recursive);
    let strip_dot = g.opts.recursive && g.opts.files.is_empty();
    for f in &files {
        if let Err(e) = g.path(f, true, strip_dot) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return 2;
            }
            g.error = true;
            if !g.opts.no_messages {
                eprintln!("grep: {}: {}", f.display(), strip_os_error(&e));
            }
        }
        if g.matched && g.opts.quiet {
            return 0;
        }
    }
    if g.stdout.flush().is_err() {
        return 2;
    }
    if g.error && !(g.opts.quiet && g.matched) {
        2
    } else if g.matched {
        0
    } else {
        1
    }
}

fn strip_os_error(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn parse(args: Vec<OsString>) -> Result<Option<Opts>, String> {
    let mut o = Opts::default();
    let mut rest = Vec::new();
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut i = 0;
    let mut only_operands = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_operands || a == "-" || !a.starts_with('-') {
            rest.push(a.clone());
            continue;
        }
        if a == "--" {
            only_operands = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let mut take = |what: &str| -> Result<String, String> {
                if let Some(v) = &value {
                    return Ok(v.clone());
                }
                let v = args
                    .get(i)
                    .cloned()
                    .ok_or_else(|| format!("option '--{what}' requires an argument"))?;
                i += 1;
                Ok(v)
            };
            match name {
                "help" => return Ok(None),
                "extended-regexp" => o.syntax = Syntax::Extended,
                "fixed-strings" => o.syntax = Syntax::Fixed,
                "basic-regexp" => o.syntax = Syntax::Basic,
                "regexp" => {
                    o.patterns.push(take("regexp")?);
                    o.pattern_given = true;
                }
                "file" => {
                    let f = take("file")?;
                    read_pattern_file(&f, &mut o.patterns)?;
                    o.pattern_given = true;
                }
                "ignore-case" => o.icase = true,
                "no-ignore-case" => o.icase = false,
                "word-regexp" => o.word = true,
                "line-regexp" => o.line = true,
                "invert-match" => o.invert = true,
                "count" => o.count = true,
                "files-with-matches" => o.files_with = true,
                "files-without-match" => o.files_without = true,
                "line-number" => o.number = true,
                "only-matching" => o.only = true,
                "quiet" | "silent" => o.quiet = true,
                "no-messages" => o.no_messages = true,
                "recursive" => o.recursive = true,
                "dereference-recursive" => {
                    o.recursive = true;
                    o.deref = true;
                }
                "with-filename" => o.with_name = Some(true),
                "no-filename" => o.with_name = Some(false),
                "color" | "colour" => {}
                _ => return Err(format!("unrecognized option '--{name}'")),
            }
            continue;
        }
        let flags: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while j < flags.len() {
            let c = flags[j];
            j += 1;
            let mut value = || -> Result<String, String> {
                let v: String = flags[j..].iter().collect();
                j = flags.len();
                if !v.is_empty() {
                    return Ok(v);
                }
                let v = args
                    .get(i)
                    .cloned()
                    .ok_or_else(|| format!("option requires an argument -- '{c}'"))?;
                i += 1;
                Ok(v)
            };
            match c {
                'E' => o.syntax = Syntax::Extended,
                'F' => o.syntax = Syntax::Fixed,
                'G' => o.syntax = Syntax::Basic,
                'e' => {
                    o.patterns.push(value()?);
                    o.pattern_given = true;
                }
                'f' => {
                    let f = value()?;
                    read_pattern_file(&f, &mut o.patterns)?;
                    o.pattern_given = true;
                }
                'i' | 'y' => o.icase = true,
                'w' => o.word = true,
                'x' => o.line = true,
                'v' => o.invert = true,
                'c' => o.count = true,
                'l' => o.files_with = true,
                'L' => o.files_without = true,
                'n' => o.number = true,
                'o' => o.only = true,
                'q' => o.quiet = true,
                's' => o.no_messages = true,
                'r' => o.recursive = true,
                'R' => {
                    o.recursive = true;
                    o.deref = true;
                }
                'H' => o.with_name = Some(true),
                'h' => o.with_name = Some(false),
                _ => return Err(format!("invalid option -- '{c}'")),
            }
        }
    }
    let mut rest = rest.into_iter();
    if !o.pattern_given {
        let p = rest.next().ok_or("no pattern given")?;
        o.patterns.extend(p.split('\n').map(str::to_string));
    } else {
        o.patterns = o
            .patterns
            .iter()
            .flat_map(|p| p.split('\n').map(str::to_string).collect::<Vec<_>>())
            .collect();
    }
    o.files = rest.map(PathBuf::from).collect();
    Ok(Some(o))
}

fn read_pattern_file(f: &str, out: &mut Vec<String>) -> Result<(), String> {
    let text = if f == "-" {
        let mut s = String::new();
        io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("-: {e}"))?;
        s
    } else {
        std::fs::read_to_string(f).map_err(|e| format!("{f}: {}", strip_os_error(&e)))?
    };
    out.extend(text.lines().map(str::to_string));
    Ok(())
}

/// Translates a POSIX basic regular expression to the regex crate's syntax:
/// `\( \) \{ \} \| \+ \?` become operators, bare `( ) { } | + ?` literals.
fn bre_to_ere(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 8);
    let mut chars = p.chars().peekable();
    let mut in_bracket = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if in_bracket {
            out.push(c);
            if c == ']' {
                in_bracket = false;
            }
            continue;
        }
        match c {
            '\\' => match chars.next() {
                Some(n @ ('(' | ')' | '{' | '}' | '|' | '+' | '?')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push_str("\\\\"),
            },
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            '*' if at_start => out.push_str("\\*"),
            '[' => {
                in_bracket = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            _ => out.push(c),
        }
        at_start = c == '^' && out.len() == 1;
    }
    out
}

fn build_regex(o: &Opts) -> Result<Regex, String> {
    let parts: Vec<String> = o
        .patterns
        .iter()
        .map(|p| {
            let p = match o.syntax {
                Syntax::Fixed => regex::escape(p),
                Syntax::Basic => bre_to_ere(p),
                Syntax::Extended => p.clone(),
            };
            if o.line {
                format!("^(?:{p})$")
            } else if o.word {
                format!(r"(?:^|\b)(?:{p})(?:\b|$)")
            } else {
                format!("(?:{p})")
            }
        })
        .collect();
    RegexBuilder::new(&parts.join("|"))
        .case_insensitive(o.icase)
        .multi_line(false)
        .unicode(false)
        .build()
        .map_err(|e| e.to_string())
}

struct Grep<W: Write> {
    stdout: W,
    re: Regex,
    opts: Opts,
    matched: bool,
    error: bool,
    with_name: bool,
}

impl<W: Write> Grep<W> {
    fn path(&mut self, p: &Path, top: bool, strip_dot: bool) -> io::Result<()> {
        if p == Path::new("-") {
            let stdin = io::stdin();
            return self.file(stdin.lock(), "(standard input)");
        }
        let meta = if top || self.opts.deref {
            std::fs::metadata(p)?
        } else {
            std::fs::symlink_metadata(p)?
        };
        let name = if strip_dot {
            p.strip_prefix(".")
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        } else {
            p.to_string_lossy().into_owned()
        };
        if meta.is_dir() {
            if !self.opts.recursive {
                if !self.opts.no_messages {
                    eprintln!("grep: {}: Is a directory", p.display());
                }
                return Ok(());
            }
            let mut entries: Vec<_> = std::fs::read_dir(p)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect();
            entries.sort();
            for e in entries {
                if let Err(err) = self.path(&e, false, strip_dot) {
                    if err.kind() == io::ErrorKind::BrokenPipe {
                        return Err(err);
                    }
                    self.error = true;
                    if !self.opts.no_messages {
                        eprintln!("grep: {}: {}", e.display(), strip_os_error(&err));
                    }
                }
                if self.matched && self.opts.quiet {
                    return Ok(());
                }
            }
            return Ok(());
        }
        if !top && !meta.is_file() {
            return Ok(()); // devices, fifos, sockets and symlinks met while recursing
        }
        let f = std::fs::File::open(p)?;
        self.file(BufReader::with_capacity(64 * 1024, f), &name)
    }

    fn file<R: BufRead>(&mut self, mut r: R, name: &str) -> io::Result<()> {
        let (invert, quiet, count_only, only) = (
            self.opts.invert,
            self.opts.quiet,
            self.opts.count,
            self.opts.only,
        );
        let mut count = 0u64;
        let mut lineno = 0u64;
        let mut buf = Vec::with_capacity(256);
        let names_only = self.opts.files_with || self.opts.files_without;
        loop {
            buf.clear();
            if r.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            lineno += 1;
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let hit = self.re.is_match(line) != invert;
            if !hit {
                continue;
            }
            count += 1;
            self.matched = true;
            if quiet || names_only {
                break;
            }
            if count_only {
                continue;
            }
            if only {
                if invert {
                    continue;
                }
                let matches: Vec<(usize, usize)> = self
                    .re
                    .find_iter(line)
                    .filter(|m| !m.as_bytes().is_empty())
                    .map(|m| (m.start(), m.end()))
                    .collect();
                for (s, e) in matches {
                    self.prefix(name, lineno)?;
                    self.stdout.write_all(&line[s..e])?;
                    self.stdout.write_all(b"\n")?;
                }
            } else {
                self.prefix(name, lineno)?;
                self.stdout.write_all(line)?;
                self.stdout.write_all(b"\n")?;
            }
        }
        let o = &self.opts;
        if o.quiet {
            return Ok(());
        }
        if o.files_with && count > 0 || o.files_without && count == 0 {
            writeln!(self.stdout, "{name}")?;
        } else if o.count && !names_only {
            if self.with_name {
                write!(self.stdout, "{name}:")?;
            }
            writeln!(self.stdout, "{count}")?;
        }
        Ok(())
    }

    fn prefix(&mut self, name: &str, lineno: u64) -> io::Result<()> {
        if self.with_name {
            write!(self.stdout, "{name}:")?;
        }
        if self.opts.number {
            write!(self.stdout, "{lineno}:")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bre_translation() {
        assert_eq!(bre_to_ere(r"a\(b\)c"), "a(b)c");
        assert_eq!(bre_to_ere("a+b?"), r"a\+b\?");
        assert_eq!(bre_to_ere(r"x\{2\}"), "x{2}");
        assert_eq!(bre_to_ere("[]a]"), r"[\]a]");
        assert_eq!(bre_to_ere("*a"), r"\*a");
    }
}
