//! `vi`: a small full-screen editor, enough to change a config file inside a
//! container that has no editor.
//!
//! Normal, insert and command-line modes with the everyday vi commands (see
//! [`USAGE`]). Long lines scroll horizontally; UTF-8, tabs, control
//! characters and invalid bytes are shown and saved back unchanged. Files are
//! written in place (same inode: mode, owner and bind mounts stay) and
//! synced. Search is literal text with optional `^`/`$` anchors (no regular
//! expressions).

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use super::term::{self, RawScreen, Wake};
use super::Entry;

mod buffer;
mod editor;
mod keys;
mod screen;

use editor::Editor;
use keys::Decoder;

/// The applets this module provides.
pub const VI_APPLETS: &[Entry] = &[
    ("vi", main, "edit a text file (full-screen, vi keys)"),
    ("vim", main, "edit a text file (alias of vi)"),
];

/// `vi --help`.
pub const USAGE: &str = "\
Usage: vi [+LINE | +/TEXT | +] [FILE]

A small vi. The file is saved in place (same inode, mode and owner).

Normal mode:
  h j k l, arrows   move            0 ^ $  line start / first non-blank / end
  w b e  W B E      word motions    G gg NG  last / first / N-th line
  f F t T x, ; ,    find character  H M L  top / middle / bottom of screen
  Ctrl-F Ctrl-B     page down / up  Ctrl-D Ctrl-U  half page
  i a I A o O       insert          r x X J ~  replace, delete, join, case
  { }  %            paragraphs, matching bracket (N% goes to N percent)
  d c y > < + motion  delete / change / yank / shift, e.g. dw cw d$ 3dd yy cc
  text objects      iw aw iW aW i\" a\" i' a' i( a( i{ a{ i[ a[ i< a<  (ciw, da\")
  v V               visual (characters / lines), then d x y c r J > < ~ u U o
  D C s S Y         d$ c$ cl cc yy  p P  put after / before
  u Ctrl-R          undo / redo     .  repeat the last change
  /TEXT ?TEXT n N   search (literal; ^ and $ anchor)   * #  word under cursor
  ZZ  save and quit                 ZQ  quit without saving   Ctrl-Z  suspend
Command line:
  :w [FILE]  :w! FILE  :wq  :x  :q  :q!  :e!  :N (go to line N)  :$
  :[%|N,M]s/TEXT/REPLACEMENT/[g]    :set nu|nonu|ts=N
Insert mode: Esc leaves; Backspace, Ctrl-W, Ctrl-U, arrows, Delete.
";

enum Start {
    Line(usize),
    Last,
    Search(String),
}

/// Entry point: `vi [+CMD] [FILE]`.
pub fn main(argv: Vec<OsString>) -> i32 {
    let mut file: Option<PathBuf> = None;
    let mut start: Option<Start> = None;
    let mut only_files = false;
    for a in argv.iter().skip(1) {
        let s = a.to_string_lossy();
        if !only_files {
            match s.as_ref() {
                "-h" | "--help" => {
                    print!("{USAGE}");
                    return 0;
                }
                "--" => {
                    only_files = true;
                    continue;
                }
                "+" => {
                    start = Some(Start::Last);
                    continue;
                }
                _ => {}
            }
            if let Some(rest) = s.strip_prefix('+') {
                start = Some(match rest.strip_prefix('/') {
                    Some(pat) => Start::Search(pat.to_string()),
                    None => match rest.parse::<usize>() {
                        Ok(n) => Start::Line(n),
                        Err(_) => {
                            eprintln!("vi: unsupported startup command: {s}");
                            return 2;
                        }
                    },
                });
                continue;
            }
            if s.starts_with('-') && s.len() > 1 {
                eprintln!("vi: unknown option: {s}\n{USAGE}");
                return 2;
            }
        }
        if file.is_some() {
            eprintln!("vi: only one file at a time");
            return 2;
        }
        file = Some(PathBuf::from(a));
    }

    let mut ed = Editor::new();
    if let Some(path) = &file {
        if path.is_dir() {
            eprintln!("vi: {}: is a directory", path.display());
            return 1;
        }
        if let Err(e) = ed.open(path) {
            eprintln!("vi: {}: {e}", path.display());
            return 1;
        }
    }
    match start {
        Some(Start::Line(n)) => ed.ex(&n.max(1).to_string()),
        Some(Start::Last) => ed.ex("$"),
        Some(Start::Search(p)) => {
            for c in std::iter::once('/')
                .chain(p.chars())
                .chain(std::iter::once('\r'))
            {
                ed.key(keys::Key::Char(c));
            }
        }
        None => {}
    }

    let mut screen = match RawScreen::enter() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vi: cannot use the terminal: {e}");
            return 1;
        }
    };
    let code = run(&mut screen, &mut ed);
    drop(screen);
    code
}

/// The main loop: render, wait, decode keys, until the editor quits.
fn run(screen: &mut RawScreen, ed: &mut Editor) -> i32 {
    let mut dec = Decoder::default();
    let mut buf = [0u8; 4096];
    let stdin = io::stdin();
    let mut stdout = io::stdout();
    loop {
        while let Some(k) = dec.next(false) {
            ed.key(k);
            if ed.quit {
                return 0;
            }
            if std::mem::take(&mut ed.suspend) {
                if screen.suspend().is_err() {
                    return 1;
                }
                ed.redraw = true;
            }
        }
        let (rows, cols) = term::size();
        let frame = ed.render(rows as usize, cols as usize);
        if stdout
            .write_all(frame.as_bytes())
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return 1;
        }
        // A lone Esc may start a sequence: give the rest 50 ms to arrive.
        let timeout = dec.pending().then(|| Duration::from_millis(50));
        match screen.wait(timeout) {
            Ok(Wake::Input) => match rustix::io::read(&stdin, &mut buf) {
                Ok(0) => return 1,
                Ok(n) => dec.feed(&buf[..n]),
                Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::AGAIN) => {}
                Err(_) => return 1,
            },
            Ok(Wake::Timeout) => {
                if let Some(k) = dec.next(true) {
                    ed.key(k);
                    if ed.quit {
                        return 0;
                    }
                }
            }
            Ok(Wake::Resize) => ed.redraw = true,
            Ok(Wake::Terminate(sig)) => return 128 + sig,
            Err(_) => return 1,
        }
    }
}
