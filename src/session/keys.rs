//! Detach keys (docker's syntax) and the ssh-style `~.` escape, as a small
//! state machine over the bytes the user types, plus the config file that
//! can turn them on.
//!
//! Syntax: a comma-separated list of keys, each `ctrl-<x>` (x a letter, `@`,
//! `[`, `\`, `]`, `^` or `_`) or one plain character: `ctrl-p,ctrl-q`.
//! A prefix of the sequence is held back; if the rest does not follow within
//! [`HOLD`], the held bytes are sent on (so Ctrl-P still reaches the shell).

use std::time::{Duration, Instant};

/// How long a held prefix waits for the rest of the sequence.
pub const HOLD: Duration = Duration::from_millis(400);

/// Parses docker's detach-keys syntax into the byte sequence.
pub fn parse(spec: &str) -> Result<Vec<u8>, String> {
    let bad = |k: &str| format!("invalid detach key {k:?} (use e.g. ctrl-p,ctrl-q)");
    let mut out = Vec::new();
    for key in spec.split(',') {
        let key = key.trim();
        if let Some(x) = key.strip_prefix("ctrl-") {
            let mut cs = x.chars();
            let (Some(c), None) = (cs.next(), cs.next()) else {
                return Err(bad(key));
            };
            let b = match c {
                'a'..='z' => c as u8 - b'a' + 1,
                'A'..='Z' => c as u8 - b'A' + 1,
                '@' => 0,
                '[' => 27,
                '\\' => 28,
                ']' => 29,
                '^' => 30,
                '_' => 31,
                _ => return Err(bad(key)),
            };
            out.push(b);
        } else {
            let mut cs = key.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) if c.is_ascii_graphic() => out.push(c as u8),
                _ => return Err(bad(key)),
            }
        }
    }
    if out.is_empty() {
        return Err(bad(spec));
    }
    Ok(out)
}

/// The detach keys from the config files (`$XDG_CONFIG_HOME/cdbg/config.toml`,
/// else `~/.config/cdbg/config.toml`, then `/etc/cdbg/config.toml`): the
/// value of a top-level `detach-keys = "..."` line.
pub fn from_config() -> Option<String> {
    let mut files = Vec::new();
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        files.push(std::path::PathBuf::from(x).join("cdbg/config.toml"));
    } else if let Some(h) = std::env::var_os("HOME").filter(|x| !x.is_empty()) {
        files.push(std::path::PathBuf::from(h).join(".config/cdbg/config.toml"));
    }
    files.push("/etc/cdbg/config.toml".into());
    files
        .iter()
        .find_map(|f| config_value(&std::fs::read_to_string(f).ok()?, "detach-keys"))
}

/// The string value of a top-level `key = "value"` in a TOML text. Written by
/// hand: cdbg reads one string key, which does not justify a TOML parser.
pub fn config_value(text: &str, key: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            break; // tables follow; our key is top-level
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim().trim_matches('"') != key {
            continue;
        }
        let v = v.trim();
        let q = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let rest = &v[1..];
        let end = rest.find(q)?;
        let raw = &rest[..end];
        return Some(if q == '"' {
            raw.replace("\\\\", "\\")
        } else {
            raw.to_string()
        });
    }
    None
}

/// What the user's keystrokes mean.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// The detach keys: leave the session running and end the client.
    Detach,
    /// `~.` at the start of a line: end the client (the session runs on).
    Quit,
}

/// Filters the user's input for the detach keys and `~.`.
pub struct Escapes {
    keys: Vec<u8>,
    tilde: bool,
    /// Bytes held back (a prefix of the keys, or a `~` at a line start).
    held: Vec<u8>,
    since: Option<Instant>,
    line_start: bool,
}

impl Escapes {
    /// `keys`: the detach sequence (empty: none); `tilde`: the `~.` escape.
    pub fn new(keys: Vec<u8>, tilde: bool) -> Escapes {
        Escapes {
            keys,
            tilde,
            held: Vec::new(),
            since: None,
            line_start: true,
        }
    }

    /// When the held bytes must be sent on, if any are held.
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|t| t + HOLD)
    }

    /// Called when the deadline passed: the held bytes to send.
    pub fn expire(&mut self, now: Instant) -> Vec<u8> {
        match self.deadline() {
            Some(d) if now >= d => self.release(),
            _ => Vec::new(),
        }
    }

    fn release(&mut self) -> Vec<u8> {
        self.since = None;
        let out = std::mem::take(&mut self.held);
        self.note(&out);
        out
    }

    fn note(&mut self, sent: &[u8]) {
        if let Some(&b) = sent.last() {
            self.line_start = b == b'\r' || b == b'\n';
        }
    }

    /// Feeds typed bytes; appends what to send to `out`, and returns an
    /// action when one was typed (the bytes after it are dropped).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Option<Action> {
        for &b in input {
            let holding_tilde = self.tilde && self.held == b"~";
            if holding_tilde {
                if b == b'.' {
                    self.held.clear();
                    self.since = None;
                    return Some(Action::Quit);
                }
                self.held.clear();
                self.since = None;
                out.push(b'~');
                self.line_start = false;
                if b == b'~' {
                    continue; // "~~" sends one "~"
                }
            }
            if !self.keys.is_empty() {
                let n = self.held.len();
                if n < self.keys.len() && self.keys[n] == b {
                    self.held.push(b);
                    self.since.get_or_insert_with(Instant::now);
                    if self.held.len() == self.keys.len() {
                        self.held.clear();
                        self.since = None;
                        return Some(Action::Detach);
                    }
                    continue;
                }
                if n > 0 {
                    // A partial sequence that did not continue: send it on,
                    // then look at this byte afresh.
                    let h = self.release();
                    out.extend_from_slice(&h);
                    if self.keys[0] == b {
                        self.held.push(b);
                        self.since = Some(Instant::now());
                        if self.keys.len() == 1 {
                            self.held.clear();
                            self.since = None;
                            return Some(Action::Detach);
                        }
                        continue;
                    }
                }
            }
            if self.tilde && self.line_start && b == b'~' {
                self.held.push(b);
                self.since = Some(Instant::now());
                continue;
            }
            out.push(b);
            self.line_start = b == b'\r' || b == b'\n';
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_syntax() {
        assert_eq!(parse("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(
            parse("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_").unwrap(),
            vec![0, 27, 28, 29, 30, 31]
        );
        assert_eq!(parse("a,ctrl-a").unwrap(), vec![b'a', 1]);
        assert!(parse("ctrl-1").is_err());
        assert!(parse("ab").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn config_line() {
        let t = "# c\ndetach-keys = \"ctrl-a,d\"\n[other]\ndetach-keys = \"x\"\n";
        assert_eq!(config_value(t, "detach-keys").as_deref(), Some("ctrl-a,d"));
        assert_eq!(config_value("x = 1", "detach-keys"), None);
    }

    #[test]
    fn detach_sequence_and_hold() {
        let mut e = Escapes::new(vec![16, 17], true);
        let mut out = Vec::new();
        assert_eq!(e.feed(b"ls\r", &mut out), None);
        assert_eq!(out, b"ls\r");
        out.clear();
        assert_eq!(e.feed(&[16], &mut out), None);
        assert!(out.is_empty() && e.deadline().is_some());
        assert_eq!(e.feed(&[17], &mut out), Some(Action::Detach));
        // A prefix followed by something else is sent on at once.
        assert_eq!(e.feed(&[16, b'x'], &mut out), None);
        assert_eq!(out, vec![16, b'x']);
        out.clear();
        // A lone prefix is sent on after the hold time.
        e.feed(&[16], &mut out);
        assert!(out.is_empty());
        let later = Instant::now() + HOLD + Duration::from_millis(1);
        assert_eq!(e.expire(later), vec![16]);
        assert_eq!(e.deadline(), None);
        // Repeated prefix: the first is sent, the second held.
        e.feed(&[16, 16], &mut out);
        assert_eq!(out, vec![16]);
        assert_eq!(e.feed(&[17], &mut out), Some(Action::Detach));
    }

    #[test]
    fn tilde_escape() {
        let mut e = Escapes::new(vec![], true);
        let mut out = Vec::new();
        assert_eq!(e.feed(b"a~.", &mut out), None);
        assert_eq!(out, b"a~.");
        out.clear();
        assert_eq!(e.feed(b"\r~~", &mut out), None);
        assert_eq!(out, b"\r~");
        out.clear();
        assert_eq!(e.feed(b"\r~.", &mut out), Some(Action::Quit));
        assert_eq!(out, b"\r");
        let mut e = Escapes::new(vec![], false);
        out.clear();
        assert_eq!(e.feed(b"~.", &mut out), None);
        assert_eq!(out, b"~.");
    }
}
