//! The command's environment: the target's own (/proc/PID/environ), then
//! the user's `-e`/`--env-file` values, then TERM for a PTY and a default
//! PATH when none is set. Nothing of the caller's environment gets in
//! unless the user names it.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The PATH used when the target has none (docker's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An ordered environment with unique keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Env(pub Vec<(OsString, OsString)>);

impl Env {
    /// Parses a NUL-separated environ block.
    pub fn from_environ(block: &[u8]) -> Env {
        let mut env = Env::default();
        for item in block.split(|&b| b == 0).filter(|s| !s.is_empty()) {
            if let Some(eq) = item.iter().position(|&b| b == b'=') {
                env.set(
                    OsStr::from_bytes(&item[..eq]),
                    OsStr::from_bytes(&item[eq + 1..]),
                );
            }
        }
        env
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&OsStr> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_os_str())
    }

    /// Sets `key`, replacing an earlier value in place.
    pub fn set(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) {
        let (key, val) = (key.as_ref(), val.as_ref().to_owned());
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = val,
            None => self.0.push((key.to_owned(), val)),
        }
    }

    /// Removes `key`.
    pub fn unset(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    /// Applies one docker-style `-e` item: `KEY=VAL` sets, `KEY` takes the
    /// caller's value (and unsets it when the caller has none).
    pub fn apply_item(
        &mut self,
        item: &str,
        caller: impl Fn(&str) -> Option<OsString>,
    ) -> Result<(), String> {
        match item.split_once('=') {
            Some(("", _)) => Err(format!("invalid environment variable {item:?}")),
            Some((k, v)) => {
                self.set(k, v);
                Ok(())
            }
            None if item.is_empty() => Err("empty environment variable name".into()),
            None => {
                match caller(item) {
                    Some(v) => self.set(item, v),
                    None => self.unset(item),
                }
                Ok(())
            }
        }
    }

    /// Applies an env file (docker's format: `KEY=VAL` or `KEY` lines,
    /// `#` comments and blank lines ignored, no quoting).
    pub fn apply_file(
        &mut self,
        text: &str,
        caller: impl Fn(&str) -> Option<OsString>,
    ) -> Result<(), String> {
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.apply_item(line, &caller)?;
        }
        Ok(())
    }

    /// `KEY=VAL` strings for execve.
    pub fn to_vec(&self) -> Vec<OsString> {
        self.0
            .iter()
            .map(|(k, v)| {
                let mut s = k.clone().into_vec();
                s.push(b'=');
                s.extend_from_slice(v.as_bytes());
                OsString::from_vec(s)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environ_and_items() {
        let mut e = Env::from_environ(b"PATH=/bin\0A=1\0B=x=y\0\0");
        assert_eq!(e.get("B").unwrap(), "x=y");
        e.apply_item("A=2", |_| None).unwrap();
        e.apply_item("C", |k| (k == "C").then(|| "from-caller".into()))
            .unwrap();
        e.apply_item("PATH", |_| None).unwrap();
        assert_eq!(e.to_vec(), vec!["A=2", "B=x=y", "C=from-caller"]);
        assert!(e.apply_item("=x", |_| None).is_err());
    }

    #[test]
    fn env_file() {
        let mut e = Env::default();
        e.apply_file("# c\n\nX=1\n  Y=two words\n", |_| None)
            .unwrap();
        assert_eq!(e.to_vec(), vec!["X=1", "Y=two words"]);
    }
}
