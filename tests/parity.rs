//! docker exec parity (issue 5): for `--user 1000`, `--cap-drop ALL`,
//! `--read-only` and `--security-opt no-new-privileges` containers, `id` and
//! the Cap*/NoNewPrivs/Seccomp lines of /proc/self/status inside a cdbg
//! session match the same inside `docker exec`.
//!
//! image `cdbgt-bb:local`; with CI=true a missing runtime fails.

use std::process::Command;

const IMAGE: &str = "cdbgt-bb:local";
const PROBE: &str = r#"id; grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status"#;

fn docker_ready() -> bool {
    let ok = Command::new("docker")
        .args(["image", "inspect", IMAGE])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but docker or the image {IMAGE} is missing"
        );
        eprintln!("skip: docker or {IMAGE} not available");
    }
    ok
}

struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn parity(opts: &[&str]) {
    if !docker_ready() {
        return;
    }
    let tag: String = opts
        .concat()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let c = Container(format!(
        "cdbgt-confine-parity-{}-{}",
        std::process::id(),
        tag.to_lowercase()
    ));
    stdout(
        Command::new("docker")
            .args(["run", "-d", "--name", &c.0])
            .args(opts)
            .args([IMAGE, "sleep", "300"]),
    );
    let pid = stdout(Command::new("docker").args(["inspect", "-f", "{{.State.Pid}}", &c.0]));
    let want = stdout(Command::new("docker").args(["exec", &c.0, "sh", "-c", PROBE]));
    let got = stdout(
        Command::new(env!("CARGO_BIN_EXE_cdbg"))
            .args(["--pid", pid.trim(), "sh", "-c", PROBE])
            .env_remove("CDBG_CONFIG"),
    );
    assert_eq!(got, want, "docker run {opts:?}");
}

#[test]

fn parity_user_1000() {
    parity(&["--user", "1000"]);
}

#[test]

fn parity_cap_drop_all() {
    parity(&["--cap-drop", "ALL"]);
}

#[test]

fn parity_read_only() {
    parity(&["--read-only"]);
}

#[test]

fn parity_no_new_privileges() {
    parity(&["--security-opt", "no-new-privileges"]);
}
