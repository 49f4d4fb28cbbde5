//! Decoding terminal input bytes into keys: UTF-8 characters, control
//! characters and the usual xterm/VT escape sequences (CSI and SS3).

/// One key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character, including control characters (Esc is `'\x1b'`).
    Char(char),
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Delete,
    Insert,
    /// An escape sequence we do not handle (ignored by the editor).
    Unknown,
}

/// The Esc key.
pub const ESC: Key = Key::Char('\x1b');

/// Maps a byte that is not valid UTF-8 to a private-use character, so that
/// any file (and any input) round-trips byte for byte; see [`unescape_byte`].
pub fn escape_byte(b: u8) -> char {
    char::from_u32(0x10_FF00 + b as u32).unwrap_or('\u{FFFD}')
}

/// The raw byte a character made by [`escape_byte`] stands for.
pub fn unescape_byte(c: char) -> Option<u8> {
    let v = c as u32;
    (0x10_FF00..=0x10_FFFF)
        .contains(&v)
        .then(|| (v - 0x10_FF00) as u8)
}

/// Accumulates input bytes and yields keys.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

enum Parse {
    Key(Key, usize),
    Incomplete,
}

impl Decoder {
    /// Adds bytes read from the terminal.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// True when bytes wait that may be the start of a longer sequence (a
    /// lone Esc): the caller should wait briefly and then call
    /// [`Decoder::next`] with `flush` set.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The next complete key. With `flush`, an incomplete sequence is taken
    /// as it is (a lone Esc is the Esc key).
    pub fn next(&mut self, flush: bool) -> Option<Key> {
        if self.buf.is_empty() {
            return None;
        }
        match parse(&self.buf) {
            Parse::Key(k, n) => {
                self.buf.drain(..n);
                Some(k)
            }
            Parse::Incomplete if flush => {
                let b = self.buf.remove(0);
                Some(if b == 0x1b {
                    ESC
                } else {
                    Key::Char(escape_byte(b))
                })
            }
            Parse::Incomplete => None,
        }
    }
}

fn parse(b: &[u8]) -> Parse {
    let b0 = b[0];
    if b0 == 0x1b {
        return parse_esc(b);
    }
    if b0 < 0x80 {
        return Parse::Key(Key::Char(b0 as char), 1);
    }
    let need = match b0 {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Parse::Key(Key::Char(escape_byte(b0)), 1),
    };
    let avail = b.len().min(need);
    match std::str::from_utf8(&b[..avail]) {
        Ok(s) if avail == need => {
            Parse::Key(Key::Char(s.chars().next().unwrap_or('\u{FFFD}')), need)
        }
        Err(e) if e.error_len().is_some() => Parse::Key(Key::Char(escape_byte(b0)), 1),
        _ => Parse::Incomplete,
    }
}

/// The cursor and Home/End keys by the final byte of their CSI (`Esc [ A`)
/// or SS3 (`Esc O A`) sequence.
fn cursor_key(fin: u8) -> Option<Key> {
    Some(match fin {
        b'A' => Key::Up,
        b'B' => Key::Down,
        b'C' => Key::Right,
        b'D' => Key::Left,
        b'H' => Key::Home,
        b'F' => Key::End,
        _ => return None,
    })
}

fn parse_esc(b: &[u8]) -> Parse {
    if b.len() < 2 {
        return Parse::Incomplete;
    }
    match b[1] {
        b'[' => {
            // CSI: parameters/intermediates 0x20..=0x3f, final 0x40..=0x7e.
            let mut i = 2;
            while i < b.len() && (0x20..=0x3f).contains(&b[i]) {
                i += 1;
            }
            if i >= b.len() {
                return Parse::Incomplete;
            }
            let fin = b[i];
            if !(0x40..=0x7e).contains(&fin) {
                return Parse::Key(ESC, 1);
            }
            let params = std::str::from_utf8(&b[2..i]).unwrap_or("");
            let first: u32 = params
                .split(';')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let key = match fin {
                b'~' => match first {
                    1 | 7 => Key::Home,
                    2 => Key::Insert,
                    3 => Key::Delete,
                    4 | 8 => Key::End,
                    5 => Key::PageUp,
                    6 => Key::PageDown,
                    _ => Key::Unknown,
                },
                _ => cursor_key(fin).unwrap_or(Key::Unknown),
            };
            Parse::Key(key, i + 1)
        }
        b'O' => {
            if b.len() < 3 {
                return Parse::Incomplete;
            }
            let key = match cursor_key(b[2]) {
                Some(k) => k,
                None if (b'P'..=b'S').contains(&b[2]) => Key::Unknown,
                // Not SS3 after all: Esc typed quickly before `O` (open line).
                None => return Parse::Key(ESC, 1),
            };
            Parse::Key(key, 3)
        }
        // Esc followed by anything else: the Esc key, then that key.
        _ => Parse::Key(ESC, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<Key> {
        let mut d = Decoder::default();
        d.feed(bytes);
        let mut v = Vec::new();
        while let Some(k) = d.next(true) {
            v.push(k);
        }
        v
    }

    #[test]
    fn decodes() {
        assert_eq!(
            all(b"a\x1b[A\x1bOB\x1b[3~\x1b[1;5C\x1bx"),
            vec![
                Key::Char('a'),
                Key::Up,
                Key::Down,
                Key::Delete,
                Key::Right,
                ESC,
                Key::Char('x')
            ]
        );
        assert_eq!(all(b"\x1bOx"), vec![ESC, Key::Char('O'), Key::Char('x')]);
        assert_eq!(all("é€".as_bytes()), vec![Key::Char('é'), Key::Char('€')]);
        assert_eq!(all(b"\xff"), vec![Key::Char(escape_byte(0xff))]);
        let mut d = Decoder::default();
        d.feed(b"\x1b");
        assert_eq!(d.next(false), None);
        assert_eq!(d.next(true), Some(ESC));
        d.feed(&"€".as_bytes()[..2]);
        assert_eq!(d.next(false), None);
        d.feed(&"€".as_bytes()[2..]);
        assert_eq!(d.next(false), Some(Key::Char('€')));
    }
}
