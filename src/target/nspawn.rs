//! systemd-nspawn: the payload cgroup `machine-<name>.scope/payload`,
//! machined's `/run/systemd/machines/<name>` where present, and the
//! supervisor's command line (`-M NAME`, `-D DIR`, `-i IMAGE`).

use super::{Container, Record, Runtime, Want};

/// Parses a machined state file (`KEY=VALUE` lines).
pub(crate) fn parse_machine(name: &str, s: &str) -> Option<Record> {
    let mut r = Record::new(Container {
        id: name.to_string(),
        name: Some(name.to_string()),
        ..Container::blank(Runtime::Nspawn)
    });
    let mut class_ok = true;
    for l in s.lines() {
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        match k {
            "LEADER" => r.rec_pid = v.parse().ok(),
            "ROOT" => r.c.image = Some(v.to_string()),
            "CLASS" => class_ok = v == "container",
            "SCOPE" => r.cgroup_hints.push(format!("/machine.slice/{v}/payload")),
            _ => {}
        }
    }
    r.claims_running = r.rec_pid.is_some();
    class_ok.then_some(r)
}

/// Reads every machine registered with machined.
pub(crate) fn scan(want: Want, out: &mut Vec<Record>) {
    let Ok(rd) = std::fs::read_dir("/run/systemd/machines") else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("unit:") || name.starts_with("timestamp") || !want.id(&name) {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(e.path()) {
            if let Some(mut r) = parse_machine(&name, &s) {
                r.source = Some(e.path().display().to_string());
                out.push(r);
            }
        }
    }
}

/// Name and directory/image from an nspawn supervisor's argv.
pub(crate) fn parse_argv(argv: &[String]) -> (Option<String>, Option<String>) {
    let mut name = None;
    let mut dir = None;
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut val = || inline.clone().or_else(|| it.next().cloned());
        match flag {
            "-M" | "--machine" => name = val(),
            "-D" | "--directory" | "-i" | "--image" => dir = val(),
            _ if flag.starts_with("-M") && flag.len() > 2 => name = Some(flag[2..].to_string()),
            _ if flag.starts_with("-D") && flag.len() > 2 => dir = Some(flag[2..].to_string()),
            _ => {}
        }
        if !a.starts_with('-') {
            break; // the command to run inside starts here
        }
    }
    (name, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv() {
        let v = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            parse_argv(&v(
                "systemd-nspawn --register=no -M box -D /srv/box /bin/sleep 100"
            )),
            (Some("box".into()), Some("/srv/box".into()))
        );
        assert_eq!(
            parse_argv(&v("systemd-nspawn --machine=b2 --directory=/x")),
            (Some("b2".into()), Some("/x".into()))
        );
    }

    #[test]
    fn machine_file() {
        let s = "NAME=box\nSCOPE=machine-box.scope\nSERVICE=systemd-nspawn\nROOT=/srv/box\nLEADER=4242\nCLASS=container\n";
        let r = parse_machine("box", s).unwrap();
        assert_eq!(r.rec_pid, Some(4242));
        assert_eq!(r.c.image.as_deref(), Some("/srv/box"));
        assert_eq!(
            r.cgroup_hints,
            vec!["/machine.slice/machine-box.scope/payload"]
        );
        assert!(parse_machine("vm", "CLASS=vm\nLEADER=1\n").is_none());
    }
}
