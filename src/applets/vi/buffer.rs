//! The text: lines of characters, loaded from and saved to bytes exactly.
//!
//! Lines are `Rc<Vec<char>>` so that an undo snapshot is a cheap copy of
//! pointers and an edit copies only the line it touches (`Rc::make_mut`).
//! Bytes that are not valid UTF-8 become private-use characters (see
//! [`super::keys::escape_byte`]) and are written back unchanged.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::rc::Rc;

use super::keys::{escape_byte, unescape_byte};

/// One line of text, without its newline.
pub type Line = Rc<Vec<char>>;

/// A position: line index and character index (both from 0). A column equal
/// to the line's length stands for its end (the newline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub fn new(line: usize, col: usize) -> Pos {
        Pos { line, col }
    }
}

/// The lines of a file and how its end looked.
#[derive(Clone)]
pub struct Text {
    /// Never empty: an empty file is one empty line.
    pub lines: Vec<Line>,
    /// The file ended with a newline.
    pub eol: bool,
    /// The file was empty or new: a final newline is added once it has text.
    pub fresh: bool,
}

impl Default for Text {
    fn default() -> Self {
        Text {
            lines: vec![Rc::new(Vec::new())],
            eol: false,
            fresh: true,
        }
    }
}

fn decode(bytes: &[u8]) -> Vec<char> {
    let mut v = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        v.extend(chunk.valid().chars());
        v.extend(chunk.invalid().iter().map(|&b| escape_byte(b)));
    }
    v
}

impl Text {
    /// Splits file content into lines.
    pub fn from_bytes(bytes: &[u8]) -> Text {
        if bytes.is_empty() {
            return Text::default();
        }
        let eol = bytes.ends_with(b"\n");
        let body = if eol {
            &bytes[..bytes.len() - 1]
        } else {
            bytes
        };
        let lines = body
            .split(|&b| b == b'\n')
            .map(|l| Rc::new(decode(l)))
            .collect();
        Text {
            lines,
            eol,
            fresh: false,
        }
    }

    /// The file content: exactly the bytes read when nothing was changed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.is_blank() && !self.eol {
            return out;
        }
        let mut tmp = [0u8; 4];
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            for &c in l.iter() {
                match unescape_byte(c) {
                    Some(b) => out.push(b),
                    None => out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes()),
                }
            }
        }
        if self.eol || self.fresh {
            out.push(b'\n');
        }
        out
    }

    /// One empty line.
    pub fn is_blank(&self) -> bool {
        self.lines.len() == 1 && self.lines[0].is_empty()
    }
}

/// Writes `bytes` into `path` in place: the same inode (so mode, owner, ACLs
/// and bind mounts stay), overwritten, truncated to the new length and
/// synced. A missing file is created with mode 0666 & ~umask. Never replaces
/// the file by a rename: config files in containers are often bind mounts.
pub fn write_in_place(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o666)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for s in [
            &b""[..],
            b"\n",
            b"a",
            b"a\n",
            b"a\n\nb",
            b"a\r\nb\r\n",
            b"\xff\xfe x \xc3\n",
            "é€ 😀\tx\n".as_bytes(),
        ] {
            assert_eq!(Text::from_bytes(s).to_bytes(), s, "{s:?}");
        }
        let mut t = Text::from_bytes(b"");
        Rc::make_mut(&mut t.lines[0]).push('x');
        assert_eq!(t.to_bytes(), b"x\n");
    }
}
