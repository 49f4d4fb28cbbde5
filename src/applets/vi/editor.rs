//! The editor state machine: modes, commands, undo, registers, search and
//! the ex command line. It knows nothing of the terminal: it takes keys and
//! renders a frame into a string, so it is unit-tested without a PTY.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::buffer::{write_in_place, Line, Pos, Text};
use super::keys::{Key, ESC};
use super::screen;

const UNDO_LEVELS: usize = 1000;
/// Line pointers kept by all undo snapshots together (8 bytes each): bounds
/// memory on huge files, where each snapshot holds every line.
const UNDO_LINES: usize = 4_000_000;

const fn ctrl(c: char) -> char {
    ((c as u8) & 0x1f) as char
}

/// The editing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Insert,
    /// Typing a command line that started with ':', '/' or '?'.
    Cmd(char),
    /// Visual selection from `anchor` to the cursor; true: whole lines.
    Visual(bool),
}

/// How an operator treats the text a motion covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exclusive,
    Inclusive,
    Linewise,
}

/// A motion key with its argument (`f x`, `g g`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MotionKey {
    key: Key,
    arg: Option<Key>,
}

#[derive(Debug, Clone, Copy)]
enum Parsed {
    Move(Option<usize>, MotionKey),
    /// An operator on `count` whole lines (`dd`) or over a motion.
    Op(Option<usize>, char, Option<MotionKey>),
    Cmd(Option<usize>, Key, Option<Key>),
}

struct Snapshot {
    lines: Vec<Line>,
    cur: Pos,
    id: u64,
}

/// The unnamed register.
#[derive(Clone, Default)]
struct Register {
    /// Lines joined by '\n'.
    text: Vec<char>,
    linewise: bool,
}

/// The whole editor.
pub struct Editor {
    pub text: Text,
    pub cur: Pos,
    pub mode: Mode,
    pub filename: Option<PathBuf>,
    pub top: usize,
    pub left: usize,
    pub cmdline: String,
    /// A message for the status line, and whether it is an error.
    pub msg: Option<(String, bool)>,
    pub number: bool,
    pub tabstop: usize,
    pub quit: bool,
    /// Set when the whole screen must be cleared and redrawn.
    pub redraw: bool,
    /// Ctrl-Z was typed: the caller should suspend (job control).
    pub suspend: bool,
    /// Text rows of the last rendered frame (for paging).
    pub rows: usize,
    /// The other end of the visual selection.
    anchor: Pos,
    /// The rows of the last frame sent, and the screen size it was for.
    prev: Vec<String>,
    prev_size: (usize, usize),
    want_col: usize,
    is_new: bool,
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
    open: Option<Snapshot>,
    id: u64,
    next_id: u64,
    saved_id: u64,
    reg: Register,
    pending: Vec<Key>,
    last_search: Option<(Vec<char>, bool)>,
    last_find: Option<(char, char)>,
    rec: Vec<Key>,
    rec_insert: bool,
    replaying: bool,
    last_change: Vec<Key>,
}

impl Default for Editor {
    fn default() -> Self {
        Self::new()
    }
}

fn class(c: char, big: bool) -> u8 {
    if c.is_whitespace() {
        0
    } else if big || c.is_alphanumeric() || c == '_' {
        1
    } else {
        2
    }
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

impl Editor {
    /// An empty, unnamed buffer.
    pub fn new() -> Editor {
        Editor {
            text: Text::default(),
            cur: Pos::default(),
            mode: Mode::Normal,
            filename: None,
            top: 0,
            left: 0,
            cmdline: String::new(),
            msg: None,
            number: false,
            tabstop: 8,
            quit: false,
            redraw: true,
            suspend: false,
            rows: 23,
            anchor: Pos::default(),
            prev: Vec::new(),
            prev_size: (0, 0),
            want_col: 0,
            is_new: true,
            undo: Vec::new(),
            redo: Vec::new(),
            open: None,
            id: 0,
            next_id: 1,
            saved_id: 0,
            reg: Register::default(),
            pending: Vec::new(),
            last_search: None,
            last_find: None,
            rec: Vec::new(),
            rec_insert: false,
            replaying: false,
            last_change: Vec::new(),
        }
    }

    /// Loads `path` (a missing file is a new, empty buffer named `path`).
    pub fn open(&mut self, path: &Path) -> std::io::Result<()> {
        match std::fs::read(path) {
            Ok(bytes) => {
                self.text = Text::from_bytes(&bytes);
                self.is_new = false;
                self.info(format!(
                    "\"{}\" {}L, {}B",
                    path.display(),
                    self.text.lines.len(),
                    bytes.len()
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.text = Text::default();
                self.is_new = true;
                self.info(format!("\"{}\" [New]", path.display()));
            }
            Err(e) => return Err(e),
        }
        self.filename = Some(path.to_path_buf());
        self.cur = Pos::default();
        self.top = 0;
        self.left = 0;
        self.undo.clear();
        self.redo.clear();
        self.open = None;
        self.saved_id = self.id;
        Ok(())
    }

    /// True when the buffer differs from what was last read or written.
    pub fn modified(&self) -> bool {
        self.id != self.saved_id
    }

    fn info(&mut self, s: String) {
        self.msg = Some((s, false));
    }

    fn error(&mut self, s: String) {
        self.msg = Some((s, true));
    }

    fn name(&self) -> String {
        match &self.filename {
            Some(p) => p.display().to_string(),
            None => "[No Name]".into(),
        }
    }

    // ----- text access -------------------------------------------------

    fn last(&self) -> usize {
        self.text.lines.len() - 1
    }

    fn line(&self, l: usize) -> &[char] {
        &self.text.lines[l]
    }

    fn len(&self, l: usize) -> usize {
        self.text.lines[l].len()
    }

    fn line_mut(&mut self, l: usize) -> &mut Vec<char> {
        Rc::make_mut(&mut self.text.lines[l])
    }

    fn first_nonblank(&self, l: usize) -> usize {
        let line = self.line(l);
        line.iter()
            .position(|c| !c.is_whitespace())
            .unwrap_or(line.len().saturating_sub(1))
    }

    /// Display column where the character at `col` starts.
    pub fn vcol(&self, l: usize, col: usize) -> usize {
        let mut v = 0;
        for &c in self.line(l).iter().take(col) {
            v += screen::char_width(c, v, self.tabstop);
        }
        v
    }

    /// The character index displayed at display column `want` (or the last).
    fn col_for_vcol(&self, l: usize, want: usize) -> usize {
        let line = self.line(l);
        let mut v = 0;
        for (i, &c) in line.iter().enumerate() {
            let w = screen::char_width(c, v, self.tabstop);
            if v + w > want {
                return i;
            }
            v += w;
        }
        line.len()
    }

    fn clamp(&mut self) {
        self.cur.line = self.cur.line.min(self.last());
        let len = self.len(self.cur.line);
        let max = if self.mode == Mode::Insert {
            len
        } else {
            len.saturating_sub(1)
        };
        self.cur.col = self.cur.col.min(max);
    }

    fn set_want(&mut self) {
        self.want_col = self.vcol(self.cur.line, self.cur.col);
    }

    /// Inserts `text` (pieces separated by '\n') at `p`; returns the
    /// position just after it.
    fn insert_text(&mut self, p: Pos, text: &[char]) -> Pos {
        let pieces: Vec<&[char]> = text.split(|&c| c == '\n').collect();
        let col = p.col.min(self.len(p.line));
        if pieces.len() == 1 {
            let line = self.line_mut(p.line);
            line.splice(col..col, pieces[0].iter().copied());
            return Pos::new(p.line, col + pieces[0].len());
        }
        let tail: Vec<char> = self.line_mut(p.line).split_off(col);
        self.line_mut(p.line).extend_from_slice(pieces[0]);
        let mut new: Vec<Line> = pieces[1..].iter().map(|s| Rc::new(s.to_vec())).collect();
        let last_len = pieces[pieces.len() - 1].len();
        Rc::make_mut(new.last_mut().expect("pieces")).extend(tail);
        let n = new.len();
        self.text.lines.splice(p.line + 1..p.line + 1, new);
        Pos::new(p.line + n, last_len)
    }

    /// Deletes from `s` up to (not including) `e`; returns the text.
    fn delete_range(&mut self, s: Pos, e: Pos) -> Vec<char> {
        let e = Pos::new(e.line, e.col.min(self.len(e.line)));
        let s = Pos::new(s.line, s.col.min(self.len(s.line)));
        if s >= e {
            return Vec::new();
        }
        if s.line == e.line {
            return self.line_mut(s.line).drain(s.col..e.col).collect();
        }
        let mut out: Vec<char> = self.line_mut(s.line).split_off(s.col);
        for l in s.line + 1..e.line {
            out.push('\n');
            out.extend_from_slice(self.line(l));
        }
        out.push('\n');
        let tail: Vec<char> = self.line(e.line)[e.col..].to_vec();
        out.extend_from_slice(&self.line(e.line)[..e.col]);
        self.line_mut(s.line).extend(tail);
        self.text.lines.drain(s.line + 1..=e.line);
        out
    }

    fn delete_lines(&mut self, l1: usize, l2: usize) -> Vec<char> {
        let removed: Vec<Line> = self.text.lines.drain(l1..=l2).collect();
        if self.text.lines.is_empty() {
            // No lines left: saved as an empty file, like vim's empty buffer.
            self.text.lines.push(Rc::new(Vec::new()));
            self.text.eol = false;
            self.text.fresh = true;
        }
        let mut out = Vec::new();
        for (i, l) in removed.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.extend_from_slice(l);
        }
        out
    }

    fn lines_text(&self, l1: usize, l2: usize) -> Vec<char> {
        let mut out = Vec::new();
        for l in l1..=l2 {
            if l > l1 {
                out.push('\n');
            }
            out.extend_from_slice(self.line(l));
        }
        out
    }

    fn range_text(&self, s: Pos, e: Pos) -> Vec<char> {
        let mut out = Vec::new();
        let mut p = s;
        while p < e {
            if p.col < self.len(p.line) {
                out.push(self.line(p.line)[p.col]);
                p.col += 1;
            } else if p.line < self.last() {
                out.push('\n');
                p = Pos::new(p.line + 1, 0);
            } else {
                break;
            }
        }
        out
    }

    // ----- undo ----------------------------------------------------------

    fn begin(&mut self) {
        if self.open.is_none() {
            self.open = Some(Snapshot {
                lines: self.text.lines.clone(),
                cur: self.cur,
                id: self.id,
            });
        }
    }

    fn commit(&mut self) {
        if let Some(s) = self.open.take() {
            let same = s.lines.len() == self.text.lines.len()
                && s.lines
                    .iter()
                    .zip(&self.text.lines)
                    .all(|(a, b)| Rc::ptr_eq(a, b));
            if !same {
                self.undo.push(s);
                let mut kept: usize = self.undo.iter().map(|s| s.lines.len()).sum();
                while self.undo.len() > 1 && (self.undo.len() > UNDO_LEVELS || kept > UNDO_LINES) {
                    kept -= self.undo.remove(0).lines.len();
                }
                self.redo.clear();
                self.id = self.next_id;
                self.next_id += 1;
            }
        }
    }

    fn undo_redo(&mut self, redo: bool, count: usize) {
        for _ in 0..count {
            let s = if redo {
                self.redo.pop()
            } else {
                self.undo.pop()
            };
            let Some(s) = s else {
                self.info(if redo {
                    "Already at newest change".into()
                } else {
                    "Already at oldest change".into()
                });
                break;
            };
            let cur = Snapshot {
                lines: std::mem::replace(&mut self.text.lines, s.lines),
                cur: self.cur,
                id: self.id,
            };
            self.cur = s.cur;
            self.id = s.id;
            if redo {
                self.undo.push(cur);
            } else {
                self.redo.push(cur);
            }
        }
        self.clamp();
        self.set_want();
    }

    // ----- keys ----------------------------------------------------------

    /// Handles one key.
    pub fn key(&mut self, k: Key) {
        if !self.replaying {
            self.msg = None;
        }
        match self.mode {
            Mode::Normal => self.normal_key(k),
            Mode::Insert => {
                if self.rec_insert && !self.replaying {
                    self.rec.push(k);
                }
                self.insert_key(k);
            }
            Mode::Cmd(c) => self.cmd_key(c, k),
            Mode::Visual(lw) => self.visual_key(lw, k),
        }
    }

    fn normal_key(&mut self, k: Key) {
        if k == Key::Unknown {
            self.pending.clear();
            return;
        }
        if self.pending.is_empty() && !self.replaying {
            self.rec.clear();
        }
        self.pending.push(k);
        if !self.replaying {
            self.rec.push(k);
        }
        let parsed = match parse(&self.pending) {
            Ok(Some(p)) => p,
            Ok(None) => return,
            Err(()) => {
                self.pending.clear();
                return;
            }
        };
        self.pending.clear();
        let change = self.exec(parsed);
        if self.mode == Mode::Insert {
            self.rec_insert = change && !self.replaying;
        } else {
            self.commit();
            self.clamp();
            if change && !self.replaying {
                self.last_change = std::mem::take(&mut self.rec);
            }
        }
    }

    fn insert_key(&mut self, k: Key) {
        let p = self.cur;
        match k {
            Key::Char('\x1b') | Key::Char('\x03') => {
                self.mode = Mode::Normal;
                if self.cur.col > 0 {
                    self.cur.col -= 1;
                }
                self.commit();
                self.clamp();
                self.set_want();
                if self.rec_insert {
                    self.rec_insert = false;
                    self.last_change = std::mem::take(&mut self.rec);
                }
                return;
            }
            Key::Char('\r') | Key::Char('\n') => {
                self.cur = self.insert_text(p, &['\n']);
            }
            Key::Char('\x7f') | Key::Char('\x08') => {
                if p.col > 0 {
                    self.line_mut(p.line).remove(p.col - 1);
                    self.cur.col -= 1;
                } else if p.line > 0 {
                    let col = self.len(p.line - 1);
                    self.delete_range(Pos::new(p.line - 1, col), p);
                    self.cur = Pos::new(p.line - 1, col);
                }
            }
            Key::Char('\x17') => {
                // Ctrl-W: the word before the cursor.
                let line = self.line(p.line);
                let mut c = p.col;
                while c > 0 && line[c - 1].is_whitespace() {
                    c -= 1;
                }
                if c > 0 {
                    let cl = class(line[c - 1], false);
                    while c > 0 && class(line[c - 1], false) == cl {
                        c -= 1;
                    }
                }
                self.delete_range(Pos::new(p.line, c), p);
                self.cur.col = c;
            }
            Key::Char('\x15') => {
                self.delete_range(Pos::new(p.line, 0), p);
                self.cur.col = 0;
            }
            Key::Char(c) if c == '\t' || !c.is_control() => {
                self.line_mut(p.line).insert(p.col, c);
                self.cur.col += 1;
            }
            Key::Delete => {
                let e = if p.col < self.len(p.line) {
                    Pos::new(p.line, p.col + 1)
                } else {
                    Pos::new(p.line + 1, 0)
                };
                if e.line <= self.last() {
                    self.delete_range(p, e);
                }
            }
            Key::Left => self.cur.col = p.col.saturating_sub(1),
            Key::Right => self.cur.col = (p.col + 1).min(self.len(p.line)),
            Key::Up | Key::Down | Key::PageUp | Key::PageDown => {
                let n = if matches!(k, Key::PageUp | Key::PageDown) {
                    self.rows.max(3) - 2
                } else {
                    1
                };
                self.cur.line = if matches!(k, Key::Up | Key::PageUp) {
                    p.line.saturating_sub(n)
                } else {
                    (p.line + n).min(self.last())
                };
                self.cur.col = self.col_for_vcol(self.cur.line, self.want_col);
                return;
            }
            Key::Home => self.cur.col = 0,
            Key::End => self.cur.col = self.len(p.line),
            _ => {}
        }
        self.clamp();
        self.set_want();
    }

    fn cmd_key(&mut self, c: char, k: Key) {
        match k {
            Key::Char('\x1b') | Key::Char('\x03') => {
                self.mode = Mode::Normal;
            }
            Key::Char('\r') | Key::Char('\n') => {
                self.mode = Mode::Normal;
                let line = std::mem::take(&mut self.cmdline);
                if c == ':' {
                    self.ex(&line);
                } else {
                    let pat: Vec<char> = line.chars().collect();
                    let fwd = c == '/';
                    let Some(pat) = self.pattern_or_last(pat) else {
                        return;
                    };
                    self.last_search = Some((pat, fwd));
                    if let Some(p) = self.search(false) {
                        self.cur = p;
                        self.set_want();
                    }
                }
                self.commit();
                self.clamp();
            }
            Key::Char('\x7f') | Key::Char('\x08') if self.cmdline.pop().is_none() => {
                self.mode = Mode::Normal;
            }
            Key::Char('\x7f') | Key::Char('\x08') => {}
            Key::Char('\x15') => self.cmdline.clear(),
            Key::Char(ch) if ch == '\t' || !ch.is_control() => self.cmdline.push(ch),
            _ => {}
        }
    }

    // ----- normal-mode commands -----------------------------------------

    /// Runs a parsed normal-mode command; returns true if it is a change
    /// (to be repeated by `.`).
    fn exec(&mut self, p: Parsed) -> bool {
        match p {
            Parsed::Move(count, m) => {
                if let Some((to, _)) = self.motion(m, count, false) {
                    self.cur = to;
                    let vertical =
                        matches!(m.key, Key::Char('j') | Key::Char('k') | Key::Up | Key::Down)
                            || m.key == Key::Char(ctrl('n'))
                            || m.key == Key::Char(ctrl('p'));
                    if vertical {
                        self.cur.col = self.col_for_vcol(to.line, self.want_col);
                        self.clamp();
                    } else {
                        self.clamp();
                        if matches!(m.key, Key::Char('$') | Key::End) {
                            self.want_col = usize::MAX;
                        } else {
                            self.set_want();
                        }
                    }
                }
                false
            }
            Parsed::Op(count, op, m) => self.operator(op, count, m),
            Parsed::Cmd(count, k, arg) => self.command(count, k, arg),
        }
    }

    fn command(&mut self, count: Option<usize>, k: Key, arg: Option<Key>) -> bool {
        let n = count.unwrap_or(1);
        let m = |c: char| {
            Some(MotionKey {
                key: Key::Char(c),
                arg: None,
            })
        };
        let Key::Char(c) = k else {
            match k {
                Key::Delete => return self.operator('d', count, m('l')),
                Key::Insert => return self.command(count, Key::Char('i'), None),
                Key::PageDown => return self.command(count, Key::Char(ctrl('f')), None),
                Key::PageUp => return self.command(count, Key::Char(ctrl('b')), None),
                _ => return false,
            }
        };
        match c {
            'x' => {
                if self.len(self.cur.line) == 0 {
                    return false;
                }
                self.operator('d', count, m('l'))
            }
            'X' => self.operator('d', count, m('h')),
            'D' => self.operator('d', count, m('$')),
            'C' => self.operator('c', count, m('$')),
            's' => {
                if self.len(self.cur.line) == 0 {
                    self.begin();
                    self.mode = Mode::Insert;
                    return true;
                }
                self.operator('c', count, m('l'))
            }
            'S' => self.operator('c', count, None),
            'Y' => self.operator('y', count, None),
            'p' | 'P' => {
                self.put(c == 'p', n);
                true
            }
            'J' => self.join(n.max(2)),
            'r' => {
                let Some(Key::Char(ch)) = arg else {
                    return false;
                };
                if ch == '\x1b' {
                    return false;
                }
                self.replace_chars(ch, n)
            }
            '~' => {
                let l = self.cur.line;
                let len = self.len(l);
                if len == 0 {
                    return false;
                }
                self.begin();
                let s = self.cur.col;
                let e = (s + n).min(len);
                for ch in &mut self.line_mut(l)[s..e] {
                    let t: Vec<char> = if ch.is_lowercase() {
                        ch.to_uppercase().collect()
                    } else {
                        ch.to_lowercase().collect()
                    };
                    if t.len() == 1 {
                        *ch = t[0];
                    }
                }
                self.cur.col = e;
                self.set_want();
                true
            }
            'i' | 'a' | 'A' | 'I' | 'o' | 'O' => {
                self.begin();
                let l = self.cur.line;
                match c {
                    'a' if self.len(l) > 0 => self.cur.col += 1,
                    'A' => self.cur.col = self.len(l),
                    'I' => self.cur.col = self.first_nonblank(l).min(self.len(l)),
                    'o' => {
                        self.text.lines.insert(l + 1, Rc::new(Vec::new()));
                        self.cur = Pos::new(l + 1, 0);
                    }
                    'O' => {
                        self.text.lines.insert(l, Rc::new(Vec::new()));
                        self.cur = Pos::new(l, 0);
                    }
                    _ => {}
                }
                self.mode = Mode::Insert;
                true
            }
            'u' => {
                self.undo_redo(false, n);
                false
            }
            '\x12' => {
                self.undo_redo(true, n);
                false
            }
            '.' => {
                if self.last_change.is_empty() || self.replaying {
                    return false;
                }
                let mut keys = self.last_change.clone();
                if let Some(cnt) = count {
                    let skip = keys
                        .iter()
                        .take_while(|k| matches!(k, Key::Char('0'..='9')))
                        .count();
                    let mut pre: Vec<Key> = cnt.to_string().chars().map(Key::Char).collect();
                    pre.extend_from_slice(&keys[skip..]);
                    keys = pre;
                }
                self.replaying = true;
                for key in keys.clone() {
                    self.key(key);
                }
                if self.mode == Mode::Insert {
                    self.key(ESC);
                }
                self.replaying = false;
                if count.is_some() {
                    self.last_change = keys;
                }
                false
            }
            'v' | 'V' => {
                self.anchor = self.cur;
                self.mode = Mode::Visual(c == 'V');
                false
            }
            ':' | '/' | '?' => {
                self.mode = Mode::Cmd(c);
                self.cmdline.clear();
                false
            }
            '*' | '#' => {
                let line = self.line(self.cur.line);
                let mut s = self.cur.col.min(line.len());
                while s < line.len() && class(line[s], false) != 1 {
                    s += 1;
                }
                let mut e = s;
                while e < line.len() && class(line[e], false) == 1 {
                    e += 1;
                }
                while s > 0 && class(line[s - 1], false) == 1 {
                    s -= 1;
                }
                if s == e {
                    self.error("E348: No string under cursor".into());
                    return false;
                }
                self.last_search = Some((line[s..e].to_vec(), c == '*'));
                if let Some(p) = self.search(false) {
                    self.cur = p;
                    self.set_want();
                }
                false
            }
            'Z' => {
                match arg {
                    Some(Key::Char('Z')) => self.ex("x"),
                    Some(Key::Char('Q')) => self.ex("q!"),
                    _ => {}
                }
                false
            }
            '\x06' | '\x02' | '\x04' | '\x15' | '\x05' | '\x19' => {
                self.scroll(c, count);
                false
            }
            '\x0c' => {
                self.redraw = true;
                false
            }
            '\x07' => {
                self.file_info();
                false
            }
            '\x03' => {
                self.info("Type  :q!  and press <Enter> to quit without saving".into());
                false
            }
            '\x1a' => {
                self.suspend = true;
                false
            }
            _ => false,
        }
    }

    fn file_info(&mut self) {
        let n = self.text.lines.len();
        let pct = (self.cur.line + 1) * 100 / n;
        self.info(format!(
            "\"{}\"{} {} lines --{}%--",
            self.name(),
            if self.modified() { " [Modified]" } else { "" },
            n,
            pct
        ));
    }

    fn scroll(&mut self, c: char, count: Option<usize>) {
        let rows = self.rows.max(1);
        let last = self.last();
        let page = rows.saturating_sub(2).max(1);
        let half = count.unwrap_or((rows / 2).max(1));
        let n = count.unwrap_or(1);
        match c {
            '\x06' => {
                self.top = (self.top + page * n).min(last);
                self.cur.line = self.cur.line.max(self.top);
            }
            '\x02' => {
                self.top = self.top.saturating_sub(page * n);
                self.cur.line = self.cur.line.min(self.top + rows - 1).min(last);
            }
            '\x04' => {
                self.top = (self.top + half).min(last);
                self.cur.line = (self.cur.line + half).min(last);
            }
            '\x15' => {
                self.top = self.top.saturating_sub(half);
                self.cur.line = self.cur.line.saturating_sub(half);
            }
            '\x05' => {
                self.top = (self.top + n).min(last);
                self.cur.line = self.cur.line.max(self.top);
            }
            _ => {
                self.top = self.top.saturating_sub(n);
                self.cur.line = self.cur.line.min(self.top + rows - 1).min(last);
            }
        }
        self.cur.col = self.first_nonblank(self.cur.line);
        self.clamp();
        self.set_want();
    }

    fn put(&mut self, after: bool, n: usize) {
        if self.reg.text.is_empty() && !self.reg.linewise {
            self.error("E353: Nothing in register \"".into());
            return;
        }
        self.begin();
        let mut text = Vec::new();
        for i in 0..n {
            if i > 0 && self.reg.linewise {
                text.push('\n');
            }
            text.extend_from_slice(&self.reg.text);
        }
        if self.reg.linewise {
            let at = if after {
                self.cur.line + 1
            } else {
                self.cur.line
            };
            let new: Vec<Line> = text
                .split(|&c| c == '\n')
                .map(|s| Rc::new(s.to_vec()))
                .collect();
            self.text.lines.splice(at..at, new);
            self.cur = Pos::new(at, self.first_nonblank(at));
        } else {
            let l = self.cur.line;
            let col = if after && self.len(l) > 0 {
                self.cur.col + 1
            } else {
                self.cur.col
            };
            let start = Pos::new(l, col);
            let end = self.insert_text(start, &text);
            self.cur = if end.line == l {
                Pos::new(l, end.col.saturating_sub(1))
            } else {
                start
            };
        }
        self.clamp();
        self.set_want();
    }

    fn join(&mut self, n: usize) -> bool {
        let l = self.cur.line;
        if l >= self.last() {
            return false;
        }
        self.begin();
        for _ in 1..n {
            if l >= self.last() {
                break;
            }
            let next = self.text.lines.remove(l + 1);
            let trimmed: Vec<char> = next
                .iter()
                .copied()
                .skip_while(|c| c.is_whitespace())
                .collect();
            let cur = self.line_mut(l);
            let col = cur.len();
            let space = !trimmed.is_empty()
                && trimmed[0] != ')'
                && !cur.is_empty()
                && !cur.last().is_some_and(|c| c.is_whitespace());
            if space {
                cur.push(' ');
            }
            cur.extend(trimmed);
            self.cur.col = col;
        }
        self.set_want();
        true
    }

    fn replace_chars(&mut self, ch: char, n: usize) -> bool {
        let p = self.cur;
        if p.col + n > self.len(p.line) {
            return false;
        }
        self.begin();
        if ch == '\r' || ch == '\n' {
            self.delete_range(p, Pos::new(p.line, p.col + n));
            self.cur = self.insert_text(p, &['\n']);
        } else {
            for c in &mut self.line_mut(p.line)[p.col..p.col + n] {
                *c = ch;
            }
            self.cur.col = p.col + n - 1;
        }
        self.set_want();
        true
    }

    fn operator(&mut self, op: char, count: Option<usize>, m: Option<MotionKey>) -> bool {
        let n = count.unwrap_or(1);
        let start = self.cur;
        let (s, e, linewise) = match m {
            None => {
                let l2 = start.line + n - 1;
                if l2 > self.last() && n > 1 && op != 'd' {
                    return false;
                }
                (
                    Pos::new(start.line, 0),
                    Pos::new(l2.min(self.last()), 0),
                    true,
                )
            }
            Some(MotionKey {
                key: Key::Char(ia @ ('i' | 'a')),
                arg: Some(Key::Char(obj)),
            }) => match self.text_object(ia == 'a', obj) {
                Some(r) => r,
                None => return false,
            },
            Some(mk) => {
                let word = matches!(mk.key, Key::Char('w') | Key::Char('W'));
                let big = mk.key == Key::Char('W');
                let on_word = start.col < self.len(start.line)
                    && !self.line(start.line)[start.col].is_whitespace();
                let (to, kind) = if op == 'c' && word && on_word {
                    // cw on a word changes to its end, like ce.
                    let mut p = start;
                    for i in 0..n {
                        let l = self.line(p.line);
                        let at_end = p.col + 1 >= l.len()
                            || class(l[p.col + 1], big) != class(l[p.col], big);
                        if i > 0 || !at_end {
                            p = self.word_end(p, big);
                        }
                    }
                    (p, Kind::Inclusive)
                } else {
                    match self.motion(mk, count, true) {
                        Some(r) => r,
                        None => return false,
                    }
                };
                if kind == Kind::Linewise {
                    let (a, b) = (start.line.min(to.line), start.line.max(to.line));
                    (Pos::new(a, 0), Pos::new(b, 0), true)
                } else {
                    let (s, mut e) = if to < start { (to, start) } else { (start, to) };
                    let mut linewise = false;
                    if kind == Kind::Inclusive {
                        e.col = (e.col + 1).min(self.len(e.line));
                    } else if e.col == 0 && e.line > s.line {
                        // An exclusive motion ending in column 1 ends at the
                        // previous line's end, or takes whole lines when it
                        // starts in the indent (vim's exclusive-linewise).
                        e.line -= 1;
                        e.col = self.len(e.line);
                        linewise = self.in_indent(s);
                    }
                    // A multi-line delete that would leave a blank line
                    // deletes whole lines (as vi does).
                    if op == 'd'
                        && e.line > s.line
                        && self.in_indent(s)
                        && self.line(e.line)[e.col..].iter().all(|c| c.is_whitespace())
                    {
                        linewise = true;
                    }
                    if linewise {
                        (Pos::new(s.line, 0), Pos::new(e.line, 0), true)
                    } else {
                        (s, e, false)
                    }
                }
            }
        };
        self.apply_op(op, s, e, linewise)
    }

    /// Applies operator `op` to the text from `s` to `e` (exclusive), or to
    /// lines `s.line..=e.line` when `linewise`. Returns true for a change.
    fn apply_op(&mut self, op: char, s: Pos, e: Pos, linewise: bool) -> bool {
        if linewise {
            let (l1, l2) = (s.line, e.line);
            match op {
                'y' => {
                    self.reg = Register {
                        text: self.lines_text(l1, l2),
                        linewise: true,
                    };
                    self.cur.line = l1;
                    if l2 > l1 {
                        self.info(format!("{} lines yanked", l2 - l1 + 1));
                    }
                    false
                }
                'd' => {
                    self.begin();
                    let text = self.delete_lines(l1, l2);
                    self.reg = Register {
                        text,
                        linewise: true,
                    };
                    self.cur.line = l1.min(self.last());
                    self.cur.col = self.first_nonblank(self.cur.line);
                    self.set_want();
                    true
                }
                'c' => {
                    self.begin();
                    let text = self.lines_text(l1, l2);
                    self.reg = Register {
                        text,
                        linewise: true,
                    };
                    self.text.lines.drain(l1 + 1..=l2);
                    self.text.lines[l1] = Rc::new(Vec::new());
                    self.cur = Pos::new(l1, 0);
                    self.mode = Mode::Insert;
                    true
                }
                '>' | '<' => {
                    self.begin();
                    for l in l1..=l2 {
                        let line = self.line_mut(l);
                        if op == '>' {
                            if !line.is_empty() {
                                line.insert(0, '\t');
                            }
                        } else if line.first() == Some(&'\t') {
                            line.remove(0);
                        } else {
                            let k = line.iter().take(8).take_while(|&&c| c == ' ').count();
                            line.drain(..k);
                        }
                    }
                    self.cur = Pos::new(l1, self.first_nonblank(l1));
                    self.set_want();
                    true
                }
                _ => false,
            }
        } else {
            match op {
                'y' => {
                    self.reg = Register {
                        text: self.range_text(s, e),
                        linewise: false,
                    };
                    self.cur = s;
                    self.set_want();
                    false
                }
                'd' | 'c' => {
                    if s == e && op == 'd' {
                        return false;
                    }
                    self.begin();
                    let text = self.delete_range(s, e);
                    if !text.is_empty() {
                        self.reg = Register {
                            text,
                            linewise: false,
                        };
                    }
                    self.cur = s;
                    if op == 'c' {
                        self.mode = Mode::Insert;
                    }
                    self.set_want();
                    true
                }
                '>' | '<' => {
                    let lines = e.line - s.line + 1;
                    self.cur = s;
                    self.operator(op, Some(lines), None)
                }
                _ => false,
            }
        }
    }

    // ----- visual mode -------------------------------------------------------

    /// The selection ordered: (start, end), both inclusive.
    fn selection(&self) -> (Pos, Pos) {
        if self.anchor <= self.cur {
            (self.anchor, self.cur)
        } else {
            (self.cur, self.anchor)
        }
    }

    /// The selected character indices of line `l` (end exclusive).
    fn selection_cols(&self, l: usize) -> Option<(usize, usize)> {
        let Mode::Visual(lw) = self.mode else {
            return None;
        };
        let (s, e) = self.selection();
        if l < s.line || l > e.line {
            return None;
        }
        if lw {
            return Some((0, usize::MAX));
        }
        let from = if l == s.line { s.col } else { 0 };
        let to = if l == e.line { e.col + 1 } else { usize::MAX };
        Some((from, to))
    }

    fn visual_key(&mut self, lw: bool, k: Key) {
        self.pending.push(k);
        let mut i = 0;
        parse_count(&self.pending, &mut i);
        let Some(&key) = self.pending.get(i) else {
            return;
        };
        let c = match key {
            Key::Char(c) => c,
            _ => '\0',
        };
        match c {
            '\x1b' | '\x03' => self.mode = Mode::Normal,
            'v' | 'V' => {
                self.mode = if (c == 'V') == lw {
                    Mode::Normal
                } else {
                    Mode::Visual(c == 'V')
                };
            }
            'o' | 'O' => {
                std::mem::swap(&mut self.anchor, &mut self.cur);
                self.set_want();
            }
            'r' => {
                let Some(&Key::Char(ch)) = self.pending.get(i + 1) else {
                    return;
                };
                if ch != '\x1b' && ch != '\r' {
                    self.visual_map(lw, |_| ch);
                }
                self.mode = Mode::Normal;
            }
            '~' | 'u' | 'U' => {
                self.visual_map(lw, |x| {
                    let t: Vec<char> = if c == 'U' || (c == '~' && x.is_lowercase()) {
                        x.to_uppercase().collect()
                    } else {
                        x.to_lowercase().collect()
                    };
                    if t.len() == 1 {
                        t[0]
                    } else {
                        x
                    }
                });
                self.mode = Mode::Normal;
            }
            'd' | 'x' | 'X' | 'D' | 'y' | 'Y' | 'c' | 's' | 'S' | 'C' | 'R' | '>' | '<' | 'J' => {
                let (s, e) = self.selection();
                let (op, linewise) = match c {
                    'x' => ('d', lw),
                    's' => ('c', lw),
                    'X' | 'D' => ('d', true),
                    'Y' => ('y', true),
                    'S' | 'C' | 'R' => ('c', true),
                    '>' | '<' => (c, true),
                    _ => (c, lw),
                };
                self.mode = Mode::Normal;
                self.cur = s;
                if op == 'J' {
                    self.join((e.line - s.line + 1).max(2));
                } else if op == '>' || op == '<' {
                    let lines = e.line - s.line + 1;
                    self.operator(op, Some(lines), None);
                } else if linewise {
                    self.apply_op(op, Pos::new(s.line, 0), Pos::new(e.line, 0), true);
                } else {
                    let end = Pos::new(e.line, (e.col + 1).min(self.len(e.line)));
                    self.apply_op(op, s, end, false);
                }
            }
            _ => match parse(&self.pending) {
                Ok(Some(p @ Parsed::Move(..))) => {
                    self.exec(p);
                }
                Ok(None) => return,
                _ => {}
            },
        }
        self.pending.clear();
        if self.mode == Mode::Normal {
            self.commit();
            self.clamp();
        }
    }

    /// Maps every selected character through `f` (r, ~, u, U).
    fn visual_map(&mut self, lw: bool, f: impl Fn(char) -> char) {
        let (s, e) = self.selection();
        self.begin();
        for l in s.line..=e.line {
            let len = self.len(l);
            let (a, b) = if lw {
                (0, len)
            } else {
                (
                    if l == s.line { s.col } else { 0 },
                    if l == e.line {
                        (e.col + 1).min(len)
                    } else {
                        len
                    },
                )
            };
            if a < b {
                for ch in &mut self.line_mut(l)[a..b] {
                    *ch = f(*ch);
                }
            }
        }
        self.cur = if lw {
            Pos::new(s.line, self.cur.col)
        } else {
            s
        };
    }

    // ----- text objects ------------------------------------------------------

    fn char_at(&self, p: Pos) -> Option<char> {
        self.line(p.line).get(p.col).copied()
    }

    /// The range of a text object (`iw aw iW aW i" a" i' a' i` a` i( a( ib
    /// i{ iB i[ i<` ...) at the cursor: (start, exclusive end, linewise).
    fn text_object(&self, around: bool, obj: char) -> Option<(Pos, Pos, bool)> {
        let l = self.cur.line;
        let line = self.line(l);
        let len = line.len();
        match obj {
            'w' | 'W' => {
                if len == 0 {
                    return None;
                }
                let big = obj == 'W';
                let c = self.cur.col.min(len - 1);
                let cls = class(line[c], big);
                let (mut s, mut e) = (c, c + 1);
                while s > 0 && class(line[s - 1], big) == cls {
                    s -= 1;
                }
                while e < len && class(line[e], big) == cls {
                    e += 1;
                }
                if around {
                    if cls != 0 {
                        (s, e) = with_blanks(line, s, e);
                    } else if e < len {
                        let cls2 = class(line[e], big);
                        while e < len && class(line[e], big) == cls2 {
                            e += 1;
                        }
                    }
                }
                Some((Pos::new(l, s), Pos::new(l, e), false))
            }
            '"' | '\'' | '`' => {
                let q: Vec<usize> = (0..len)
                    .filter(|&i| line[i] == obj && (i == 0 || line[i - 1] != '\\'))
                    .collect();
                let col = self.cur.col;
                let (a, b) = q
                    .chunks_exact(2)
                    .map(|p| (p[0], p[1]))
                    .find(|&(_, b)| col <= b)?;
                if !around {
                    return Some((Pos::new(l, a + 1), Pos::new(l, b), false));
                }
                let (s, e) = with_blanks(line, a, b + 1);
                Some((Pos::new(l, s), Pos::new(l, e), false))
            }
            _ => {
                let (open, close) = match obj {
                    '(' | ')' | 'b' => ('(', ')'),
                    '{' | '}' | 'B' => ('{', '}'),
                    '[' | ']' => ('[', ']'),
                    '<' | '>' => ('<', '>'),
                    _ => return None,
                };
                // Not inside a block: the next one on this line (as vim 9).
                let o = self.find_open(open, close).or_else(|| {
                    let c = line.iter().skip(self.cur.col).position(|&ch| ch == open)?;
                    Some(Pos::new(l, self.cur.col + c))
                })?;
                let c = self.find_close(o, open, close)?;
                if around {
                    return Some((o, Pos::new(c.line, c.col + 1), false));
                }
                // A block whose brackets sit on their own lines: the lines
                // between, whole.
                if o.col + 1 == self.len(o.line) && self.in_indent(c) && c.line > o.line + 1 {
                    return Some((Pos::new(o.line + 1, 0), Pos::new(c.line - 1, 0), true));
                }
                Some((Pos::new(o.line, o.col + 1), c, false))
            }
        }
    }

    fn find_open(&self, open: char, close: char) -> Option<Pos> {
        if self.char_at(self.cur) == Some(open) {
            return Some(self.cur);
        }
        self.scan_bracket(self.cur, false, close, open)
    }

    fn find_close(&self, from: Pos, open: char, close: char) -> Option<Pos> {
        self.scan_bracket(from, true, open, close)
    }

    /// Walks from `from` (not included) forward or backward to the first
    /// `want` that no `nest` seen on the way leaves unmatched.
    fn scan_bracket(&self, from: Pos, forward: bool, nest: char, want: char) -> Option<Pos> {
        let mut p = from;
        let mut depth = 0;
        loop {
            p = if forward {
                self.next_pos(p)?
            } else {
                self.prev_pos(p)?
            };
            match self.char_at(p) {
                Some(c) if c == nest => depth += 1,
                Some(c) if c == want => {
                    if depth == 0 {
                        return Some(p);
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
    }

    // ----- motions ---------------------------------------------------------

    fn cls_at(&self, p: Pos, big: bool) -> u8 {
        match self.line(p.line).get(p.col) {
            Some(&c) => class(c, big),
            None => 0,
        }
    }

    fn next_pos(&self, p: Pos) -> Option<Pos> {
        if p.col < self.len(p.line) {
            Some(Pos::new(p.line, p.col + 1))
        } else if p.line < self.last() {
            Some(Pos::new(p.line + 1, 0))
        } else {
            None
        }
    }

    fn prev_pos(&self, p: Pos) -> Option<Pos> {
        if p.col > 0 {
            Some(Pos::new(p.line, p.col - 1))
        } else if p.line > 0 {
            Some(Pos::new(p.line - 1, self.len(p.line - 1)))
        } else {
            None
        }
    }

    /// Moves one character forward like vim's inc_cursor: 0 within the
    /// line, 2 onto the end of the line, 1 onto the next line, -1 at the end
    /// of the text.
    fn inc(&self, p: &mut Pos) -> i8 {
        let len = self.len(p.line);
        if p.col < len {
            p.col += 1;
            if p.col < len {
                0
            } else {
                2
            }
        } else if p.line < self.last() {
            *p = Pos::new(p.line + 1, 0);
            1
        } else {
            -1
        }
    }

    /// `count` words forward. With `eol` (under an operator) the last word
    /// stops at the end of its line instead of going on to the next line.
    fn word_fwd(&self, start: Pos, count: usize, big: bool, eol: bool) -> Pos {
        let mut p = start;
        for k in (0..count).rev() {
            let stop = eol && k == 0;
            let sclass = self.cls_at(p, big);
            let last_line = p.line == self.last();
            let i = self.inc(&mut p);
            if i == -1 || (i >= 1 && last_line) || (i >= 1 && stop) {
                return p;
            }
            if sclass != 0 {
                while self.cls_at(p, big) == sclass {
                    let i = self.inc(&mut p);
                    if i == -1 || (i >= 1 && stop) {
                        return p;
                    }
                }
            }
            while self.cls_at(p, big) == 0 {
                if p.col == 0 && self.len(p.line) == 0 {
                    break;
                }
                let i = self.inc(&mut p);
                if i == -1 || (i >= 1 && stop) {
                    return p;
                }
            }
        }
        p
    }

    /// True when only blanks precede `p` on its line (vim's inindent).
    fn in_indent(&self, p: Pos) -> bool {
        self.line(p.line)[..p.col.min(self.len(p.line))]
            .iter()
            .all(|c| c.is_whitespace())
    }

    fn word_end(&self, start: Pos, big: bool) -> Pos {
        let Some(mut p) = self.next_pos(start) else {
            return start;
        };
        while self.cls_at(p, big) == 0 {
            match self.next_pos(p) {
                Some(q) => p = q,
                None => return start,
            }
        }
        let cls = self.cls_at(p, big);
        while p.col + 1 < self.len(p.line) && self.cls_at(Pos::new(p.line, p.col + 1), big) == cls {
            p.col += 1;
        }
        p
    }

    fn word_back(&self, start: Pos, big: bool) -> Pos {
        let Some(mut p) = self.prev_pos(start) else {
            return start;
        };
        loop {
            if self.cls_at(p, big) != 0 {
                break;
            }
            if self.len(p.line) == 0 {
                return p;
            }
            match self.prev_pos(p) {
                Some(q) => p = q,
                None => return p,
            }
        }
        let cls = self.cls_at(p, big);
        while p.col > 0 && self.cls_at(Pos::new(p.line, p.col - 1), big) == cls {
            p.col -= 1;
        }
        p
    }

    fn find_char(&self, cmd: char, ch: char, n: usize) -> Option<(Pos, Kind)> {
        let line = self.line(self.cur.line);
        let mut col = self.cur.col;
        for _ in 0..n {
            match cmd {
                'f' | 't' => {
                    let from = col + 1;
                    let off = line.get(from..)?.iter().position(|&c| c == ch)?;
                    col = from + off;
                }
                _ => {
                    col = line[..col.min(line.len())].iter().rposition(|&c| c == ch)?;
                }
            }
        }
        Some(match cmd {
            'f' => (Pos::new(self.cur.line, col), Kind::Inclusive),
            't' => (Pos::new(self.cur.line, col - 1), Kind::Inclusive),
            'F' => (Pos::new(self.cur.line, col), Kind::Exclusive),
            _ => (Pos::new(self.cur.line, col + 1), Kind::Exclusive),
        })
    }

    /// Where a motion goes from the cursor, and how operators treat it.
    fn motion(&mut self, m: MotionKey, count: Option<usize>, op: bool) -> Option<(Pos, Kind)> {
        let n = count.unwrap_or(1).max(1);
        let p = self.cur;
        let last = self.last();
        let len = self.len(p.line);
        let line_to = |l: usize, s: &Self| Some((Pos::new(l, s.first_nonblank(l)), Kind::Linewise));
        let c = match m.key {
            Key::Char(c) => c,
            Key::Left => 'h',
            Key::Right => 'l',
            Key::Up => 'k',
            Key::Down => 'j',
            Key::Home => '0',
            Key::End => '$',
            _ => return None,
        };
        match c {
            'h' | '\x08' | '\x7f' => {
                if p.col == 0 {
                    return None;
                }
                Some((Pos::new(p.line, p.col.saturating_sub(n)), Kind::Exclusive))
            }
            'l' | ' ' => {
                let max = if op { len } else { len.saturating_sub(1) };
                if p.col >= max {
                    return None;
                }
                Some((Pos::new(p.line, (p.col + n).min(max)), Kind::Exclusive))
            }
            '0' => Some((Pos::new(p.line, 0), Kind::Exclusive)),
            '^' => Some((
                Pos::new(p.line, self.first_nonblank(p.line)),
                Kind::Exclusive,
            )),
            '$' => {
                let l = (p.line + n - 1).min(last);
                Some((Pos::new(l, self.len(l).saturating_sub(1)), Kind::Inclusive))
            }
            '|' => Some((Pos::new(p.line, (n - 1).min(len)), Kind::Exclusive)),
            'j' | '\x0e' => {
                if p.line >= last {
                    return None;
                }
                let l = (p.line + n).min(last);
                Some((Pos::new(l, p.col), Kind::Linewise))
            }
            'k' | '\x10' => {
                if p.line == 0 {
                    return None;
                }
                Some((Pos::new(p.line.saturating_sub(n), p.col), Kind::Linewise))
            }
            '\r' | '+' => {
                if p.line >= last {
                    return None;
                }
                line_to((p.line + n).min(last), self)
            }
            '-' => {
                if p.line == 0 {
                    return None;
                }
                line_to(p.line.saturating_sub(n), self)
            }
            '_' => line_to((p.line + n - 1).min(last), self),
            'G' => line_to(count.map(|c| c - 1).unwrap_or(last).min(last), self),
            'g' => match m.arg {
                Some(Key::Char('g')) => line_to(count.map(|c| c - 1).unwrap_or(0).min(last), self),
                _ => None,
            },
            'H' => line_to((self.top + n - 1).min(last), self),
            'L' => {
                let bottom = (self.top + self.rows.max(1) - 1).min(last);
                line_to(bottom.saturating_sub(n - 1).max(self.top.min(last)), self)
            }
            'M' => {
                let bottom = (self.top + self.rows.max(1) - 1).min(last);
                line_to((self.top + bottom) / 2, self)
            }
            'w' | 'W' => {
                let q = self.word_fwd(p, n, c == 'W', op);
                Some((q, Kind::Exclusive))
            }
            '%' if count.is_none() => {
                // The bracket under or after the cursor on this line, and its match.
                let line = self.line(p.line);
                let off = line[p.col.min(len)..]
                    .iter()
                    .position(|c| "(){}[]".contains(*c))?;
                let at = Pos::new(p.line, p.col + off);
                let (open, close, fwd) = match line[at.col] {
                    '(' => ('(', ')', true),
                    ')' => ('(', ')', false),
                    '{' => ('{', '}', true),
                    '}' => ('{', '}', false),
                    '[' => ('[', ']', true),
                    _ => ('[', ']', false),
                };
                let to = if fwd {
                    self.find_close(at, open, close)?
                } else {
                    let save = self.cur;
                    self.cur = at;
                    let r = self.find_open(open, close);
                    self.cur = save;
                    r?
                };
                Some((to, Kind::Inclusive))
            }
            '%' => {
                // N%: to N percent of the file.
                let l = (count.unwrap_or(100).min(100) * (last + 1)).div_ceil(100);
                line_to(l.saturating_sub(1), self)
            }
            '{' | '}' => {
                // Paragraphs end at empty lines (vim's findpar).
                let fwd = c == '}';
                let mut curr = p.line;
                for i in 0..n {
                    let mut did_skip = false;
                    let mut first = true;
                    loop {
                        if self.len(curr) != 0 {
                            did_skip = true;
                        }
                        if !first && did_skip && self.len(curr) == 0 {
                            break;
                        }
                        let at_edge = if fwd { curr >= last } else { curr == 0 };
                        if at_edge {
                            if i + 1 < n {
                                return None;
                            }
                            break;
                        }
                        curr = if fwd { curr + 1 } else { curr - 1 };
                        first = false;
                    }
                }
                if fwd && curr == last && self.len(curr) > 0 {
                    Some((Pos::new(curr, self.len(curr) - 1), Kind::Inclusive))
                } else {
                    Some((Pos::new(curr, 0), Kind::Exclusive))
                }
            }
            'b' | 'B' => {
                let mut q = p;
                for _ in 0..n {
                    q = self.word_back(q, c == 'B');
                }
                (q != p).then_some((q, Kind::Exclusive))
            }
            'e' | 'E' => {
                let mut q = p;
                for _ in 0..n {
                    q = self.word_end(q, c == 'E');
                }
                (q != p).then_some((q, Kind::Inclusive))
            }
            'f' | 'F' | 't' | 'T' => {
                let Some(Key::Char(ch)) = m.arg else {
                    return None;
                };
                if ch == '\x1b' {
                    return None;
                }
                self.last_find = Some((c, ch));
                self.find_char(c, ch, n)
            }
            ';' | ',' => {
                let (cmd, ch) = self.last_find?;
                let cmd = if c == ',' {
                    match cmd {
                        'f' => 'F',
                        'F' => 'f',
                        't' => 'T',
                        _ => 't',
                    }
                } else {
                    cmd
                };
                // Skip the character right next to the cursor for t/T.
                let save = self.cur;
                if cmd == 't' {
                    self.cur.col += 1;
                } else if cmd == 'T' {
                    self.cur.col = self.cur.col.saturating_sub(1);
                }
                let r = self.find_char(cmd, ch, n);
                self.cur = save;
                r
            }
            'n' | 'N' => {
                let mut q = None;
                let save = self.cur;
                for _ in 0..n {
                    q = self.search(c == 'N');
                    match q {
                        Some(pos) => self.cur = pos,
                        None => break,
                    }
                }
                self.cur = save;
                q.map(|q| (q, Kind::Exclusive))
            }
            _ => None,
        }
    }

    // ----- search ----------------------------------------------------------

    /// Searches for the last pattern from the cursor (reversed for `N`).
    /// Literal text; a leading `^` and a trailing `$` anchor it.
    /// `pat`, or the last search pattern when `pat` is empty (E35 when
    /// there is none).
    fn pattern_or_last(&mut self, pat: Vec<char>) -> Option<Vec<char>> {
        if !pat.is_empty() {
            return Some(pat);
        }
        let last = self.last_search.as_ref().map(|(p, _)| p.clone());
        if last.is_none() {
            self.error("E35: No previous regular expression".into());
        }
        last
    }

    fn search(&mut self, reverse: bool) -> Option<Pos> {
        let Some((pat, fwd)) = self.last_search.clone() else {
            self.error("E35: No previous regular expression".into());
            return None;
        };
        let fwd = fwd != reverse;
        let mut needle: &[char] = &pat;
        let start_anchor = needle.first() == Some(&'^');
        if start_anchor {
            needle = &needle[1..];
        }
        let end_anchor = needle.last() == Some(&'$') && !needle.ends_with(&['\\', '$']);
        if end_anchor {
            needle = &needle[..needle.len() - 1];
        }
        let needle: Vec<char> = {
            // `\x` stands for a literal x.
            let mut v = Vec::new();
            let mut it = needle.iter();
            while let Some(&c) = it.next() {
                if c == '\\' {
                    if let Some(&d) = it.next() {
                        v.push(d);
                        continue;
                    }
                }
                v.push(c);
            }
            v
        };
        let matches = |line: &[char], col: usize| -> bool {
            if start_anchor && col != 0 {
                return false;
            }
            if col + needle.len() > line.len() {
                return false;
            }
            if end_anchor && col + needle.len() != line.len() {
                return false;
            }
            line[col..col + needle.len()] == needle[..]
        };
        let n = self.text.lines.len();
        let from = self.cur;
        for k in 0..=n {
            let l = if fwd {
                (from.line + k) % n
            } else {
                (from.line + n * 2 - k) % n
            };
            let line = self.line(l);
            let len = line.len();
            let cols: Vec<usize> = if k == 0 {
                if fwd {
                    (from.col + 1..=len).collect()
                } else {
                    (0..from.col.min(len + 1)).collect()
                }
            } else if k == n {
                if fwd {
                    (0..=from.col.min(len)).collect()
                } else {
                    (from.col..=len).collect()
                }
            } else {
                (0..=len).collect()
            };
            let found = if fwd {
                cols.into_iter().find(|&c| matches(line, c))
            } else {
                cols.into_iter().rev().find(|&c| matches(line, c))
            };
            if let Some(c) = found {
                let wrapped = if fwd {
                    from.line + k >= n
                } else {
                    k > from.line
                };
                if wrapped {
                    self.error(if fwd {
                        "search hit BOTTOM, continuing at TOP".into()
                    } else {
                        "search hit TOP, continuing at BOTTOM".into()
                    });
                }
                return Some(Pos::new(l, c.min(len.saturating_sub(1))));
            }
        }
        let s: String = pat.iter().collect();
        self.error(format!("E486: Pattern not found: {s}"));
        None
    }

    // ----- ex commands -----------------------------------------------------

    fn parse_addr(&self, s: &str) -> Option<usize> {
        let s = s.trim();
        let last = self.last();
        let (base, rest) = if let Some(r) = s.strip_prefix('$') {
            (last as i64, r)
        } else if let Some(r) = s.strip_prefix('.') {
            (self.cur.line as i64, r)
        } else if s.starts_with(['+', '-']) {
            (self.cur.line as i64, s)
        } else {
            let d: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
            if d.is_empty() {
                return None;
            }
            (d.parse::<i64>().ok()?.max(1) - 1, &s[d.len()..])
        };
        let rest = rest.trim();
        let off = if rest.is_empty() {
            0
        } else if rest == "+" {
            1
        } else if rest == "-" {
            -1
        } else {
            rest.parse::<i64>().ok()?
        };
        Some((base + off).clamp(0, last as i64) as usize)
    }

    /// Runs an ex command line (without the ':').
    pub fn ex(&mut self, line: &str) {
        let cmd = line.trim().trim_start_matches(':').trim();
        if cmd.is_empty() {
            return;
        }
        if let Some(l) = self.parse_addr(cmd) {
            self.cur = Pos::new(l, self.first_nonblank(l));
            self.clamp();
            self.set_want();
            return;
        }
        // [range]s/pat/rep/[g]
        let (range, body) = match cmd.find(['s']) {
            Some(i) if i > 0 && cmd[..i].chars().all(|c| "%$.,+-0123456789".contains(c)) => {
                (Some(&cmd[..i]), &cmd[i..])
            }
            _ => (None, cmd),
        };
        let name: String = body
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let rest = &body[name.len()..];
        let bang = rest.starts_with('!');
        let arg = rest.trim_start_matches('!').trim();
        if range.is_some() && name != "s" {
            self.error(format!("E492: Not an editor command: {cmd}"));
            return;
        }
        match name.as_str() {
            "w" | "write" => {
                self.write(arg, bang);
            }
            "wq" | "x" | "xit" | "exit" => {
                let need = name == "wq" || self.modified() || !arg.is_empty();
                if !need || self.write(arg, bang) {
                    self.quit = true;
                }
            }
            "q" | "quit" | "qa" | "qall" | "quitall" => {
                if self.modified() && !bang {
                    self.error("E37: No write since last change (add ! to override)".into());
                } else {
                    self.quit = true;
                }
            }
            "e" | "edit" => {
                if self.modified() && !bang {
                    self.error("E37: No write since last change (add ! to override)".into());
                    return;
                }
                let path = if arg.is_empty() {
                    match &self.filename {
                        Some(p) => p.clone(),
                        None => {
                            self.error("E32: No file name".into());
                            return;
                        }
                    }
                } else {
                    PathBuf::from(arg)
                };
                let id = self.next_id;
                self.next_id += 1;
                self.id = id;
                if let Err(e) = self.open(&path) {
                    self.error(format!("\"{}\" {e}", path.display()));
                }
            }
            "set" | "se" => self.set(arg),
            "s" | "substitute" => self.substitute(range.unwrap_or("."), rest),
            _ => self.error(format!("E492: Not an editor command: {cmd}")),
        }
    }

    fn set(&mut self, arg: &str) {
        for opt in arg.split_whitespace() {
            match opt {
                "nu" | "number" => self.number = true,
                "nonu" | "nonumber" => self.number = false,
                _ => {
                    if let Some(v) = opt
                        .strip_prefix("ts=")
                        .or_else(|| opt.strip_prefix("tabstop="))
                    {
                        match v.parse::<usize>() {
                            Ok(n) if (1..=64).contains(&n) => self.tabstop = n,
                            _ => self.error(format!("E521: Number required after =: {opt}")),
                        }
                    } else {
                        self.error(format!("E518: Unknown option: {opt}"));
                    }
                }
            }
        }
    }

    fn substitute(&mut self, range: &str, rest: &str) {
        let (l1, l2) = if range == "%" {
            (0, self.last())
        } else if let Some((a, b)) = range.split_once(',') {
            match (self.parse_addr(a), self.parse_addr(b)) {
                (Some(a), Some(b)) => (a.min(b), a.max(b)),
                _ => {
                    self.error("E16: Invalid range".into());
                    return;
                }
            }
        } else {
            match self.parse_addr(range) {
                Some(a) => (a, a),
                None => {
                    self.error("E16: Invalid range".into());
                    return;
                }
            }
        };
        let mut it = rest.chars();
        let Some(sep) = it.next().filter(|c| !c.is_alphanumeric() && *c != ' ') else {
            self.error("E492: usage: :[range]s/text/replacement/[g]".into());
            return;
        };
        let parts: Vec<&str> = it.as_str().splitn(3, sep).collect();
        let pat: Vec<char> = parts[0].chars().collect();
        let rep: Vec<char> = parts.get(1).copied().unwrap_or("").chars().collect();
        let global = parts.get(2).is_some_and(|f| f.contains('g'));
        let Some(pat) = self.pattern_or_last(pat) else {
            return;
        };
        self.last_search = Some((pat.clone(), true));
        self.begin();
        let mut count = 0;
        let mut last_line = None;
        for l in l1..=l2 {
            let line = self.line(l);
            if pat.len() > line.len() || !line.windows(pat.len()).any(|w| w == &pat[..]) {
                continue;
            }
            let mut out = Vec::with_capacity(line.len());
            let mut i = 0;
            let mut done = false;
            while i < line.len() {
                if !done && line[i..].starts_with(&pat) {
                    out.extend_from_slice(&rep);
                    i += pat.len();
                    count += 1;
                    done = !global;
                } else {
                    out.push(line[i]);
                    i += 1;
                }
            }
            self.text.lines[l] = Rc::new(out);
            last_line = Some(l);
        }
        match last_line {
            Some(l) => {
                self.cur = Pos::new(l, self.first_nonblank(l));
                self.clamp();
                self.set_want();
                if count > 1 {
                    self.info(format!("{count} substitutions"));
                }
            }
            None => {
                let s: String = pat.iter().collect();
                self.error(format!("E486: Pattern not found: {s}"));
            }
        }
    }

    /// Writes the buffer (`arg`: another file name, `bang`: overwrite it).
    /// Returns true on success.
    fn write(&mut self, arg: &str, bang: bool) -> bool {
        let path = if arg.is_empty() {
            match &self.filename {
                Some(p) => p.clone(),
                None => {
                    self.error("E32: No file name".into());
                    return false;
                }
            }
        } else {
            PathBuf::from(arg)
        };
        let other = self.filename.as_deref() != Some(path.as_path());
        let exists = path.exists();
        if other && exists && !bang {
            self.error("E13: File exists (add ! to override)".into());
            return false;
        }
        let bytes = self.text.to_bytes();
        if let Err(e) = write_in_place(&path, &bytes) {
            self.error(format!(
                "\"{}\" E212: Can't open file for writing: {e}",
                path.display()
            ));
            return false;
        }
        if self.filename.is_none() || !other {
            self.filename = Some(path.clone());
            self.saved_id = self.id;
            self.is_new = false;
        }
        self.info(format!(
            "\"{}\"{} {}L, {}B written",
            path.display(),
            if exists { "" } else { " [New]" },
            self.text.lines.len(),
            bytes.len()
        ));
        true
    }

    // ----- rendering -------------------------------------------------------

    /// Renders a whole frame for a `rows`×`cols` terminal.
    pub fn render(&mut self, rows: usize, cols: usize) -> String {
        let rows = rows.max(1);
        let cols = cols.max(1);
        let text_rows = if rows > 1 { rows - 1 } else { 1 };
        self.rows = text_rows;
        let nlines = self.text.lines.len();
        let numw = if self.number {
            (digits(nlines).max(3) + 1).min(cols.saturating_sub(1))
        } else {
            0
        };
        let width = cols - numw;
        // Scroll so the cursor is visible.
        self.top = self.top.min(self.last());
        if self.cur.line < self.top {
            self.top = self.cur.line;
        }
        if self.cur.line >= self.top + text_rows {
            self.top = self.cur.line + 1 - text_rows;
        }
        let vcol = self.vcol(self.cur.line, self.cur.col);
        let cw = self
            .line(self.cur.line)
            .get(self.cur.col)
            .map(|&c| screen::char_width(c, vcol, self.tabstop).max(1))
            .unwrap_or(1);
        if vcol < self.left {
            self.left = vcol;
        }
        if vcol + cw > self.left + width {
            self.left = (vcol + cw).saturating_sub(width).min(vcol);
        }
        // Each screen row as text with attributes; only rows that differ
        // from the previous frame are sent (cheap over slow links).
        let mut frame: Vec<String> = Vec::with_capacity(rows);
        for r in 0..text_rows {
            let mut row = String::new();
            let l = self.top + r;
            if l < nlines {
                if numw > 0 {
                    row.push_str(&format!("\x1b[33m{:>w$} \x1b[0m", l + 1, w = numw - 1));
                }
                let sel = self.selection_cols(l);
                screen::render_line(&mut row, self.line(l), self.left, width, self.tabstop, sel);
            } else {
                row.push_str("\x1b[34m~\x1b[0m");
            }
            frame.push(row);
        }
        let show_status = rows > 1 || matches!(self.mode, Mode::Cmd(_)) || self.msg.is_some();
        let avail = cols.saturating_sub(1).max(1);
        let mut cursor = (
            (self.cur.line - self.top + 1).min(text_rows),
            numw + vcol.saturating_sub(self.left).min(width.saturating_sub(1)) + 1,
        );
        if show_status {
            let mut row = String::new();
            if let Mode::Cmd(c) = self.mode {
                let s: String = std::iter::once(c)
                    .chain(self.cmdline.chars())
                    .map(printable)
                    .collect();
                let shown = screen::tail(&s, avail);
                cursor = (rows, screen::str_width(&shown) + 1);
                row.push_str(&shown);
            } else {
                row = self.status_row(vcol, avail);
            }
            if rows > 1 {
                frame.push(row);
            } else {
                frame[0] = row;
            }
        }
        let mut out = String::with_capacity(rows * (cols + 8));
        out.push_str("\x1b[?25l");
        if std::mem::take(&mut self.redraw) || self.prev_size != (rows, cols) {
            out.push_str("\x1b[0m\x1b[2J");
            self.prev.clear();
        }
        self.prev_size = (rows, cols);
        for (r, row) in frame.iter().enumerate() {
            if self.prev.get(r) != Some(row) {
                // Clear first: an erase after a full row could hit its
                // last cell on terminals that keep the cursor there.
                out.push_str(&format!("\x1b[{};1H\x1b[2K", r + 1));
                out.push_str(row);
            }
        }
        self.prev = frame;
        out.push_str(&format!("\x1b[{};{}H\x1b[?25h", cursor.0, cursor.1));
        out
    }

    /// The status line: a message, or mode, file name and modified flag;
    /// the ruler on the right when it fits.
    fn status_row(&self, vcol: usize, avail: usize) -> String {
        let (ruler, pos) = self.ruler(vcol);
        let (left, err) = match &self.msg {
            Some((m, e)) => (m.chars().map(printable).collect(), *e),
            None => {
                let mut s = String::new();
                match self.mode {
                    Mode::Insert => s.push_str("-- INSERT -- "),
                    Mode::Visual(false) => s.push_str("-- VISUAL -- "),
                    Mode::Visual(true) => s.push_str("-- VISUAL LINE -- "),
                    _ => {}
                }
                s.push('"');
                s.extend(self.name().chars().map(printable));
                s.push('"');
                if self.modified() {
                    s.push_str(" [+]");
                } else if self.is_new && self.filename.is_some() {
                    s.push_str(" [New]");
                }
                (s, false)
            }
        };
        // Drop the percentage, then the ruler, before cutting the name.
        let lw0 = screen::str_width(&left);
        let ruler = [ruler, pos, String::new()]
            .into_iter()
            .find(|r| r.is_empty() || lw0 + 1 + screen::str_width(r) <= avail)
            .unwrap_or_default();
        let rw = screen::str_width(&ruler);
        let left_room = if rw > 0 { avail - rw - 1 } else { avail };
        let left = screen::head(&left, left_room);
        let lw = screen::str_width(&left);
        let mut row = String::new();
        if err {
            row.push_str("\x1b[7m");
        }
        row.push_str(&left);
        if err {
            row.push_str("\x1b[0m");
        }
        if rw > 0 && lw + rw < avail {
            row.push_str(&" ".repeat(avail - rw - lw));
            row.push_str(&ruler);
        }
        row
    }

    /// The ruler ("line,col   pct") and its position part alone.
    fn ruler(&self, vcol: usize) -> (String, String) {
        let l = self.cur.line;
        let pos = if self.len(l) == 0 {
            format!("{},0-1", l + 1)
        } else if vcol != self.cur.col {
            format!("{},{}-{}", l + 1, self.cur.col + 1, vcol + 1)
        } else {
            format!("{},{}", l + 1, self.cur.col + 1)
        };
        let n = self.text.lines.len();
        let pct = if n <= self.rows {
            "All".to_string()
        } else if self.top == 0 {
            "Top".to_string()
        } else if self.top + self.rows >= n {
            "Bot".to_string()
        } else {
            format!("{}%", self.top * 100 / (n - self.rows))
        };
        (format!("{pos:<13} {pct}"), pos)
    }
}

/// Control characters (from file names, messages, typed text) must not
/// reach the terminal raw.
fn printable(c: char) -> char {
    if c.is_control() {
        '?'
    } else {
        c
    }
}

/// Reads a count: digits not starting with 0.
fn parse_count(keys: &[Key], i: &mut usize) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(Key::Char(c)) = keys.get(*i) {
        match c.to_digit(10) {
            Some(d) if d > 0 || n.is_some() => {
                n = Some(
                    n.unwrap_or(0)
                        .saturating_mul(10)
                        .saturating_add(d as usize)
                        .min(1 << 30),
                );
                *i += 1;
            }
            _ => break,
        }
    }
    n
}

/// How many extra keys a motion takes, or None if `k` is not a motion.
fn motion_arity(k: Key) -> Option<usize> {
    match k {
        Key::Up | Key::Down | Key::Left | Key::Right | Key::Home | Key::End => Some(0),
        Key::Char(c) => match c {
            'h' | 'j' | 'k' | 'l' | '0' | '$' | '^' | 'w' | 'b' | 'e' | 'W' | 'B' | 'E' | 'G'
            | 'H' | 'M' | 'L' | ' ' | '\x08' | '\x7f' | '\r' | '+' | '-' | '_' | '|' | 'n'
            | 'N' | ';' | ',' | '\x0e' | '\x10' | '{' | '}' | '%' => Some(0),
            'f' | 'F' | 't' | 'T' | 'g' => Some(1),
            _ => None,
        },
        _ => None,
    }
}

fn mul(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(1).saturating_mul(b.unwrap_or(1)).min(1 << 30)),
    }
}

/// Parses the keys of a normal-mode command: Ok(None) when more keys are
/// needed, Err when they make no command.
fn parse(keys: &[Key]) -> Result<Option<Parsed>, ()> {
    let mut i = 0;
    let c1 = parse_count(keys, &mut i);
    let Some(&k) = keys.get(i) else {
        return Ok(None);
    };
    i += 1;
    let motion_at = |i: usize, m: Key| -> Result<Option<MotionKey>, ()> {
        match motion_arity(m) {
            Some(0) => Ok(Some(MotionKey { key: m, arg: None })),
            Some(_) => match keys.get(i) {
                None => Ok(None),
                Some(&a) => {
                    if m == Key::Char('g') && a != Key::Char('g') {
                        return Err(());
                    }
                    Ok(Some(MotionKey {
                        key: m,
                        arg: Some(a),
                    }))
                }
            },
            None => Err(()),
        }
    };
    if let Key::Char(op @ ('d' | 'c' | 'y' | '>' | '<')) = k {
        let c2 = parse_count(keys, &mut i);
        let Some(&m) = keys.get(i) else {
            return Ok(None);
        };
        let count = mul(c1, c2);
        if m == Key::Char(op) {
            return Ok(Some(Parsed::Op(count, op, None)));
        }
        if let Key::Char('i' | 'a') = m {
            return Ok(keys.get(i + 1).map(|&a| {
                Parsed::Op(
                    count,
                    op,
                    Some(MotionKey {
                        key: m,
                        arg: Some(a),
                    }),
                )
            }));
        }
        return Ok(motion_at(i + 1, m)?.map(|mk| Parsed::Op(count, op, Some(mk))));
    }
    if motion_arity(k).is_some() {
        return Ok(motion_at(i, k)?.map(|mk| Parsed::Move(c1, mk)));
    }
    if let Key::Char('r' | 'Z') = k {
        return Ok(keys.get(i).map(|&a| Parsed::Cmd(c1, k, Some(a))));
    }
    Ok(Some(Parsed::Cmd(c1, k, None)))
}

/// An "a" text object's extent `[s, e)` on `line` with its blanks, as vi
/// takes them: the ones after it, or, when there are none, the ones before.
fn with_blanks(line: &[char], s: usize, e: usize) -> (usize, usize) {
    let mut e2 = e;
    while e2 < line.len() && line[e2].is_whitespace() {
        e2 += 1;
    }
    if e2 > e {
        return (s, e2);
    }
    let mut s = s;
    while s > 0 && line[s - 1].is_whitespace() {
        s -= 1;
    }
    (s, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed(text: &str) -> Editor {
        let mut e = Editor::new();
        e.text = Text::from_bytes(text.as_bytes());
        e
    }

    fn keys(e: &mut Editor, s: &str) {
        for c in s.chars() {
            e.key(Key::Char(c));
        }
    }

    fn text(e: &Editor) -> String {
        String::from_utf8(e.text.to_bytes()).unwrap()
    }

    /// Types each step's keys and checks the whole text after it.
    fn steps(e: &mut Editor, steps: &[(&str, &str)]) {
        for (k, want) in steps {
            keys(e, k);
            assert_eq!(text(e), *want, "after keys {k:?}");
        }
    }

    #[test]
    fn editing() {
        let mut e = ed("one two three\nfour five\nsix\n");
        steps(
            &mut e,
            &[
                ("wcwTWO\x1b", "one TWO three\nfour five\nsix\n"),
                (
                    "jonew line\x1b",
                    "one TWO three\nfour five\nnew line\nsix\n",
                ),
                ("ggdd", "four five\nnew line\nsix\n"),
                ("u", "one TWO three\nfour five\nnew line\nsix\n"),
                ("uu", "one two three\nfour five\nsix\n"),
                ("\x12", "one TWO three\nfour five\nsix\n"),
            ],
        );
        assert!(e.modified());
        keys(&mut e, "u");
        assert!(!e.modified());
    }

    #[test]
    fn words_and_ops() {
        let mut e = ed("foo.bar baz\n  qux\n");
        steps(
            &mut e,
            &[
                ("dw", ".bar baz\n  qux\n"),
                ("wwdw", ".bar \n  qux\n"),
                ("0D", "\n  qux\n"),
                ("J", "qux\n"),
                ("yyPp", "qux\nqux\nqux\n"),
                ("xu", "qux\nqux\nqux\n"),
                ("ggrQ$ix\x1b", "Quxx\nqux\nqux\n"),
                ("j0d$", "Quxx\n\nqux\n"),
                ("G0cwab\x1bk.", "Quxx\nab\nab\n"),
                ("gg0x..", "x\nab\nab\n"),
                ("GAzz\x1bk.", "x\nabzz\nabzz\n"),
                ("ggIa\x1b3x", "\nabzz\nabzz\n"),
                ("j02.", "\nzz\nabzz\n"),
            ],
        );
    }

    #[test]
    fn a_objects_take_their_blanks() {
        let mut e = ed("one two three\nf(a, \"b c\", d)\n");
        steps(
            &mut e,
            &[
                ("wdaw", "one three\nf(a, \"b c\", d)\n"),
                ("jfbda\"", "one three\nf(a,, d)\n"),
                ("u$hdaw", "one three\nf(a, \"b c\",)\n"),
            ],
        );
    }

    #[test]
    fn visual_objects_and_vi_rules() {
        let mut e = ed("f(a, \"b c\", d)\nline two\n\nthree {\n  x\n}\n");
        steps(
            &mut e,
            &[
                (
                    "fbci\"X\x1b",
                    "f(a, \"X\", d)\nline two\n\nthree {\n  x\n}\n",
                ),
                ("di(", "f()\nline two\n\nthree {\n  x\n}\n"),
                ("2G0wviwU", "f()\nline TWO\n\nthree {\n  x\n}\n"),
                ("4Gdi{", "f()\nline TWO\n\nthree {\n}\n"),
                ("u1GVjd", "\nthree {\n  x\n}\n"),
            ],
        );
        // dw on an empty line deletes the line (exclusive-linewise rule).
        steps(
            &mut e,
            &[
                ("ggdw", "three {\n  x\n}\n"),
                ("d}", ""),
                ("u", "three {\n  x\n}\n"),
            ],
        );
    }

    #[test]
    fn search_and_ex() {
        let mut e = ed("a=1\nport=80\nb=2\nport=81\n");
        keys(&mut e, "/port\r");
        assert_eq!(e.cur, Pos::new(1, 0));
        keys(&mut e, "n");
        assert_eq!(e.cur, Pos::new(3, 0));
        keys(&mut e, "n");
        assert_eq!(e.cur, Pos::new(1, 0));
        keys(&mut e, "N");
        assert_eq!(e.cur, Pos::new(3, 0));
        keys(&mut e, "/^b\r");
        assert_eq!(e.cur, Pos::new(2, 0));
        keys(&mut e, ":1\r");
        assert_eq!(e.cur, Pos::new(0, 0));
        keys(&mut e, ":%s/port/p/g\r");
        assert_eq!(text(&e), "a=1\np=80\nb=2\np=81\n");
        keys(&mut e, ":q\r");
        assert!(!e.quit);
        assert!(e.msg.as_ref().unwrap().0.starts_with("E37"));
        keys(&mut e, ":q!\r");
        assert!(e.quit);
    }

    /// Random keys on awkward text never panic and keep the invariants.
    #[test]
    fn random_keys_do_not_panic() {
        let alphabet: Vec<Key> = "hjklwbeWBE0^$GgfFtT;,xXDCsSYpPJr~iaAIoOu.dcy<>nN/?*#vVUo{}()\"%\r\x1b\x7f\x08\x17\x15\x06\x02\x04\x05\x19\x12 123 a\t日é"
            .chars()
            .map(Key::Char)
            .chain([
                Key::Up,
                Key::Down,
                Key::Left,
                Key::Right,
                Key::Home,
                Key::End,
                Key::PageUp,
                Key::PageDown,
                Key::Delete,
                Key::Insert,
                Key::Char(crate::applets::vi::keys::escape_byte(0xff)),
            ])
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..40 {
            let mut e = ed("a\tb 日本 c\n\n  x.y(z)\n\u{301}e\u{301}\n\x7f\n");
            if round % 2 == 0 {
                e.text = Text::default();
            }
            for i in 0..3000 {
                let k = alphabet[(rnd() % alphabet.len() as u64) as usize];
                e.key(k);
                assert!(!e.text.lines.is_empty());
                assert!(e.cur.line < e.text.lines.len());
                if e.mode == Mode::Insert {
                    assert!(e.cur.col <= e.len(e.cur.line));
                } else {
                    assert!(e.cur.col <= e.len(e.cur.line).saturating_sub(1));
                }
                if i % 97 == 0 {
                    let _ = e.render((rnd() % 30) as usize, (rnd() % 100) as usize);
                }
            }
        }
    }

    #[test]
    fn render_small_and_wide() {
        let mut e = ed("tab\there 日本語 long line that goes past the edge\n");
        for (r, c) in [(1, 1), (2, 3), (24, 80), (3, 10)] {
            let _ = e.render(r, c);
            keys(&mut e, "$");
            let _ = e.render(r, c);
            keys(&mut e, "0");
        }
        keys(&mut e, "$");
        let f = e.render(5, 20);
        assert!(e.left > 0);
        assert!(f.contains("1,"));
    }
}
