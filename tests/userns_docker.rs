//! Issue 5, user namespaces: a Docker daemon with `--userns-remap=default`
//! (scripts/fixtures.sh runtime `docker-userns`, a third dockerd whose
//! containers live under `<data-root>/<uid>.<gid>/containers`). cdbg finds
//! its containers by name (running and stopped), `id` inside shows the
//! container's view like `docker exec`, the command runs in the target's
//! user namespace (same uid_map) and what it creates belongs to the
//! remapped uid on the host. With CI=true a missing runtime fails the test.

mod common;

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;

const RT: &str = "docker-userns";

/// The userns-remapped daemon's docker CLI.
fn docker(args: &[&str]) -> Output {
    Command::new(common::fixtures_sh())
        .arg("docker-userns-cli")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "cdbgt-c2-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

/// A container of the userns-remapped daemon, removed on drop.
struct Ctr {
    name: String,
    pid: i32,
}

impl Ctr {
    /// The standard busybox fixture (root inside).
    fn fixture() -> Ctr {
        let name = unique("bb");
        let o = Command::new(common::fixtures_sh())
            .args(["start", RT, "bb", &name])
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(o.status.success(), "fixtures.sh start {RT} bb {name}");
        let pid = stdout(&o).trim().parse().expect("init pid");
        Ctr { name, pid }
    }

    /// `docker run -d EXTRA... cdbgt-bb:local` (the image is there once a
    /// fixture has been started).
    fn run(extra: &[&str]) -> Ctr {
        let name = unique("run");
        let mut args = vec!["run", "-d", "--name", &name, "--label", "cdbg-test=1"];
        args.extend_from_slice(extra);
        args.push("cdbgt-bb:local");
        let o = docker(&args);
        assert!(o.status.success(), "docker run {extra:?}: {}", stderr(&o));
        let mut c = Ctr { name, pid: 0 };
        assert!(wait_until(Duration::from_secs(10), || {
            let o = docker(&["inspect", "-f", "{{.State.Pid}}", &c.name]);
            c.pid = stdout(&o).trim().parse().unwrap_or(0);
            c.pid > 0
                && std::fs::read_to_string(format!("/proc/{}/comm", c.pid))
                    .is_ok_and(|s| s.trim() == "sleep")
        }));
        c
    }

    fn cdbg(&self, args: &[&str]) -> Output {
        Command::new(cdbg())
            .arg(&self.name)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn exec(&self, args: &[&str]) -> String {
        let mut a = vec!["exec", self.name.as_str()];
        a.extend_from_slice(args);
        let o = docker(&a);
        assert!(o.status.success(), "docker exec {args:?}: {}", stderr(&o));
        stdout(&o)
    }

    /// The host uid that uid 0 of the container maps to.
    fn uid_base(&self) -> u32 {
        let map = std::fs::read_to_string(format!("/proc/{}/uid_map", self.pid)).unwrap();
        let f: Vec<u32> = map.split_whitespace().map(|x| x.parse().unwrap()).collect();
        assert_eq!(f[0], 0, "{map}");
        f[1]
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.name]);
    }
}

/// The same uid/gid/groups as `docker exec`, the target's uid_map, and the
/// remapped owner on the host for what the command creates.
fn check_views(c: &Ctr, want_uid: u32) {
    let base = c.uid_base();
    assert!(base >= 100000, "uid 0 maps to {base}: not remapped?");
    let want = c.exec(&["id"]);
    let o = c.cdbg(&["id"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), want, "{}", stderr(&o));
    assert!(want.starts_with(&format!("uid={want_uid}(")), "{want}");
    // The command is in the target's user namespace.
    let o = c.cdbg(&["cat", "/proc/self/uid_map"]);
    let target_map = std::fs::read_to_string(format!("/proc/{}/uid_map", c.pid)).unwrap();
    assert_eq!(stdout(&o), target_map, "{}", stderr(&o));
    let o = c.cdbg(&["cat", "/proc/self/gid_map"]);
    let target_map = std::fs::read_to_string(format!("/proc/{}/gid_map", c.pid)).unwrap();
    assert_eq!(stdout(&o), target_map, "{}", stderr(&o));
    // Files it creates (writable layer and /tmp) belong to the remapped uid
    // on the host and to want_uid inside.
    let tag = format!("c2-{}", c.pid);
    let o = c.cdbg(&[
        "sh",
        "-c",
        &format!("echo x >/tmp/{tag} && mkdir -p /home/app && echo y >/home/app/{tag}"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for p in [format!("tmp/{tag}"), format!("home/app/{tag}")] {
        let host = std::fs::metadata(format!("/proc/{}/root/{p}", c.pid)).unwrap();
        assert_eq!(host.uid(), base + want_uid, "{p}");
        let inside = c.exec(&["stat", "-c", "%u", &format!("/{p}")]);
        assert_eq!(inside.trim(), want_uid.to_string(), "{p}");
    }
    // A running command is the remapped uid on the host.
    let secs = 70000 + c.pid % 5000;
    let tag = format!("sleep {secs}");
    let mut child = Command::new(cdbg())
        .arg(&c.name)
        .args(["sleep", &secs.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut pids = vec![];
    let seen = wait_until(Duration::from_secs(10), || {
        pids = pids_matching(&tag);
        !pids.is_empty()
    });
    let host_uid = pids
        .first()
        .and_then(|p| std::fs::metadata(format!("/proc/{p}")).ok())
        .map(|m| m.uid());
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen, "the sleep did not start");
    assert_eq!(host_uid, Some(base + want_uid));
}

#[test]
fn userns_remap_root_container() {
    if !common::runtime_usable(RT) {
        return;
    }
    let c = Ctr::fixture();
    // Docker keeps this daemon's containers under <root>/<uid>.<gid>/.
    let id = docker(&["inspect", "-f", "{{.Id}}", &c.name]);
    let dir = format!(
        "/var/lib/cdbg-docker-userns/{0}.{0}/containers/{1}",
        c.uid_base(),
        stdout(&id).trim()
    );
    assert!(std::path::Path::new(&dir).is_dir(), "{dir}");
    check_views(&c, 0);
}

#[test]
fn userns_remap_user_1000() {
    if !common::runtime_usable(RT) {
        return;
    }
    // The fixture imports the image; the --user container is the one tested.
    let _img = Ctr::fixture();
    let c = Ctr::run(&["--user", "1000"]);
    check_views(&c, 1000);
    // -u root gets the container's root, still remapped on the host.
    let o = Command::new(cdbg())
        .args(["-u", "0", &c.name, "id", "-u"])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "0\n", "{}", stderr(&o));
}

/// A stopped container of the remapped daemon is found by name (through
/// the daemon's --data-root and its <uid>.<gid> directory) and reported
/// as stopped, in one line, instead of "no container matches".
#[test]
fn userns_remap_stopped_container_is_found() {
    if !common::runtime_usable(RT) {
        return;
    }
    let c = Ctr::fixture();
    let o = docker(&["stop", "-t", "0", &c.name]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = c.cdbg(&["id"]);
    assert_eq!(o.status.code(), Some(125));
    let e = stderr(&o);
    assert!(e.contains("is not running") && e.contains(&c.name), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    let o = Command::new(cdbg()).args(["ls", "-a"]).output().unwrap();
    let line = stdout(&o)
        .lines()
        .find(|l| l.contains(&c.name))
        .map(String::from);
    assert!(
        line.as_deref().is_some_and(|l| l.contains("stopped")),
        "{}",
        stdout(&o)
    );
}

/// A remapped daemon's root is reached twice when another Docker-looking
/// cgroup has no record: through a container's mountinfo
/// (`<root>/<uid>.<gid>`) and through the daemon's `--data-root <root>`.
/// Every container is still one entry (it was "matches 2 containers").
#[test]
fn userns_remap_container_is_listed_once() {
    if !common::runtime_usable(RT) {
        return;
    }
    let c = Ctr::fixture();
    let id = stdout(&docker(&["inspect", "-f", "{{.Id}}", &c.name]))
        .trim()
        .to_string();
    // A process in /docker/<id of no container>: its mountinfo names no
    // data root, so every running dockerd's --data-root is read too.
    // (cdbg walks the v2 hierarchy: /sys/fs/cgroup/unified on hybrid hosts.)
    let Some(base) = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .iter()
        .map(std::path::Path::new)
        .find(|b| b.join("cgroup.procs").exists())
    else {
        require(false, "a writable cgroup hierarchy");
        return;
    };
    let fake = format!("{:0>64}", format!("c2{}", std::process::id()));
    let dir = base.join("docker").join(&fake);
    std::fs::create_dir_all(&dir).unwrap();
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(dir.join("cgroup.procs"), sleeper.id().to_string()).unwrap();
    let listed = Command::new(cdbg())
        .args(["ls", "--json"])
        .output()
        .unwrap();
    let by_name = c.cdbg(&["true"]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let _ = wait_until(Duration::from_secs(5), || std::fs::remove_dir(&dir).is_ok());
    let json: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("ls --json");
    let n = json["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["id"].as_str() == Some(id.as_str()))
        .count();
    assert_eq!(n, 1, "{}", stdout(&listed));
    assert!(by_name.status.success(), "{}", stderr(&by_name));
}
