//! How characters look on the screen: tabs, control characters, raw bytes,
//! double-width and zero-width characters.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::keys::unescape_byte;

/// What a character shows as.
enum Look {
    /// `n` blanks (a tab).
    Blanks(usize),
    /// ASCII text such as `^M` or `<ff>`, one cell per byte.
    Ascii(String),
    /// The character itself, `w` cells wide (0 for combining marks).
    Plain(char, usize),
}

fn look(c: char, vcol: usize, ts: usize) -> Look {
    if c == '\t' {
        return Look::Blanks(ts - vcol % ts);
    }
    if let Some(b) = unescape_byte(c) {
        return Look::Ascii(format!("<{b:02x}>"));
    }
    if (c as u32) < 0x20 {
        return Look::Ascii(format!("^{}", ((c as u8) + 0x40) as char));
    }
    if c == '\x7f' {
        return Look::Ascii("^?".into());
    }
    if c.is_control() {
        return Look::Ascii(format!("<{:x}>", c as u32));
    }
    Look::Plain(c, c.width().unwrap_or(1))
}

/// Cells the character takes when it starts at display column `vcol`.
pub fn char_width(c: char, vcol: usize, ts: usize) -> usize {
    match look(c, vcol, ts) {
        Look::Blanks(n) => n,
        Look::Ascii(s) => s.len(),
        Look::Plain(_, w) => w,
    }
}

/// Appends the part of `line` between display columns `left` and
/// `left + width` to `out`; characters cut by either edge become blanks.
/// `sel` (character indices, end exclusive) is shown in reverse video.
pub fn render_line(
    out: &mut String,
    line: &[char],
    left: usize,
    width: usize,
    ts: usize,
    sel: Option<(usize, usize)>,
) {
    let right = left + width;
    let mut v = 0;
    let mut rev = false;
    if line.is_empty() && sel.is_some() && left == 0 && width > 0 {
        out.push_str("\x1b[7m \x1b[27m");
    }
    for (i, &c) in line.iter().enumerate() {
        let want = sel.is_some_and(|(a, b)| a <= i && i < b);
        if want != rev && v + 1 > left && v < right {
            out.push_str(if want { "\x1b[7m" } else { "\x1b[27m" });
            rev = want;
        }
        let lk = look(c, v, ts);
        let w = match &lk {
            Look::Blanks(n) => *n,
            Look::Ascii(s) => s.len(),
            Look::Plain(_, w) => *w,
        };
        if v >= right {
            break;
        }
        if w == 0 {
            if v > left {
                if let Look::Plain(ch, _) = lk {
                    out.push(ch);
                }
            }
            continue;
        }
        if v + w <= left {
            v += w;
            continue;
        }
        let from = v.max(left);
        let to = (v + w).min(right);
        match lk {
            Look::Plain(ch, _) if from == v && to == v + w => out.push(ch),
            Look::Ascii(s) => {
                out.push_str("\x1b[36m");
                out.push_str(&s[from - v..to - v]);
                out.push_str("\x1b[39m");
            }
            _ => {
                for _ in from..to {
                    out.push(' ');
                }
            }
        }
        v += w;
    }
    if rev {
        out.push_str("\x1b[27m");
    }
}

/// Display width of a string.
pub fn str_width(s: &str) -> usize {
    s.width()
}

/// The longest prefix of `s` at most `w` cells wide.
pub fn head(s: &str, w: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw > w {
            break;
        }
        used += cw;
        out.push(c);
    }
    out
}

/// The longest suffix of `s` at most `w` cells wide.
pub fn tail(s: &str, w: usize) -> String {
    let mut v: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let cw = c.width().unwrap_or(0);
        if used + cw > w {
            break;
        }
        used += cw;
        v.push(c);
    }
    v.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_cuts() {
        assert_eq!(char_width('\t', 3, 8), 5);
        assert_eq!(char_width('日', 0, 8), 2);
        assert_eq!(char_width('\r', 0, 8), 2);
        let line: Vec<char> = "a\tb日c".chars().collect();
        let mut s = String::new();
        render_line(&mut s, &line, 0, 80, 8, None);
        assert_eq!(s, "a       b日c");
        let mut s = String::new();
        render_line(&mut s, &line, 10, 2, 8, None);
        assert_eq!(s, " c");
        assert_eq!(head("héllo", 2), "hé");
        assert_eq!(tail("héllo", 2), "lo");
    }
}
