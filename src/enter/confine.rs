//! Confinement of the command: capabilities, no_new_privs, LSM label and
//! seccomp filters as the target has them (what `docker exec` gives), or
//! more when the user asks (`--privileged`, `--cap-add`, `--rescue`).
//!
//! [`plan`] runs on the host before entering (it reads the target's seccomp
//! filters with ptrace); the plan crosses into the container as JSON;
//! [`apply`] runs in the process that execs the command, immediately before
//! execve.

use std::os::fd::BorrowedFd;
use std::time::Duration;

use rustix::process::{Gid, Uid};
use rustix::thread::{self as th, CapabilitySet, CapabilitySets};
use serde::{Deserialize, Serialize};

use super::caps::{self, CapSets, CAP_SYS_ADMIN};
use super::lsm::{self, LsmLabel};
use super::procinfo::ProcInfo;
use super::seccomp::{self, Filter};
use super::user::Creds;

/// What the user asked for on the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfineOpts {
    /// `--privileged`: cdbg's full capability set, no seccomp, no LSM label.
    pub privileged: bool,
    /// `--cap-add` names (docker spelling, `ALL` allowed).
    pub cap_add: Vec<String>,
    /// `--cap-drop` names.
    pub cap_drop: Vec<String>,
    /// false for `--seccomp=unconfined`.
    pub seccomp: bool,
    /// `--no-cgroup`: do not join the target's cgroups.
    pub no_cgroup: bool,
    /// `--rescue`: privileged, no seccomp, no cgroup join.
    pub rescue: bool,
}

/// The confinement to apply, computed on the host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfinePlan {
    /// Keep cdbg's own capabilities (privileged / rescue); `caps` unused.
    pub privileged: bool,
    /// Target capability sets (in the target's user namespace), after
    /// `--cap-add`/`--cap-drop`.
    pub caps: CapSets,
    /// Capabilities added by `--cap-add`: for a non-root command they are
    /// also raised in the inheritable and ambient sets so they survive execve.
    pub added: u64,
    /// Set no_new_privs.
    pub no_new_privs: bool,
    /// Seccomp filters, oldest first.
    pub seccomp: Vec<Filter>,
    /// LSM label for the command's execve.
    pub lsm: Option<LsmLabel>,
    /// Join the target's cgroups.
    pub join_cgroups: bool,
    /// oom_score_adj for the command: [`OOM_SCORE_ADJ`], set by the enter
    /// stage when it joined a memory cgroup with a limit.
    #[serde(default)]
    pub oom_score_adj: Option<i32>,
    /// Things the user should know (printed by the CLI with `-v`, say).
    pub notes: Vec<String>,
}

/// Compute docker's capability list arithmetic: `--cap-add ALL` = all but
/// the drops; `--cap-drop ALL` = only the adds; otherwise (base − drop) + add.
fn tweak(base: u64, add: &[String], drop: &[String]) -> Result<(u64, u64), String> {
    let is_all = |v: &[String]| {
        v.iter()
            .flat_map(|s| s.split(','))
            .any(|s| matches!(s.trim().to_ascii_uppercase().as_str(), "ALL" | "CAP_ALL"))
    };
    let a = caps::parse_caps(add)?;
    let d = caps::parse_caps(drop)?;
    let all = caps::all_mask();
    Ok(if is_all(add) {
        (all & !d, all & !d & !base)
    } else if is_all(drop) {
        (a, a)
    } else {
        ((base & !d) | a, a & !base)
    })
}

/// The command's oom_score_adj when it joins a memory cgroup with a limit:
/// should that cgroup run out of memory, the kernel's OOM killer picks the
/// debugging command (and what it starts) before any of the container's
/// own processes. Raising needs no privilege (lowering it again would need
/// CAP_SYS_RESOURCE).
pub const OOM_SCORE_ADJ: i32 = 1000;

/// Build the plan on the host, before entering. Reads the target's seccomp
/// filters (a ptrace stop of a few microseconds) unless seccomp is off.
/// `oom_score_adj` is left to the enter stage, which sees the memory limit
/// when it joins the cgroups.
pub fn plan(info: &ProcInfo, opts: &ConfineOpts) -> Result<ConfinePlan, String> {
    let privileged = opts.privileged || opts.rescue;
    let join_cgroups = !(opts.no_cgroup || opts.rescue);
    let mut p = ConfinePlan {
        privileged,
        join_cgroups,
        ..Default::default()
    };
    if privileged {
        if !opts.cap_add.is_empty() || !opts.cap_drop.is_empty() {
            p.notes
                .push("--cap-add/--cap-drop ignored with --privileged/--rescue".into());
        }
        return Ok(p);
    }
    let t = CapSets {
        bounding: info.status.cap_bnd,
        permitted: info.status.cap_prm,
        effective: info.status.cap_eff,
        inheritable: info.status.cap_inh,
        ambient: info.status.cap_amb,
    };
    let (bnd, added) = tweak(t.bounding, &opts.cap_add, &opts.cap_drop)?;
    let removed = t.bounding & !bnd;
    let mut c = t;
    c.drop_caps(removed);
    c.bounding = bnd;
    c.permitted |= added;
    c.effective |= added;
    c.normalize();
    p.caps = c;
    p.added = added;
    p.no_new_privs = info.status.no_new_privs;
    p.lsm = info.lsm.clone();
    if opts.seccomp {
        match info.status.seccomp_mode {
            0 => {}
            2 => {
                // A frozen target cannot stop for ptrace.
                if let Some(why) = super::cgroup::frozen(&info.cgroups) {
                    return Err(format!(
                        "{why}: cannot read its seccomp filters \
                         (use --seccomp=unconfined or --rescue)"
                    ));
                }
                let f = seccomp::fetch_filters(info.pid, Duration::from_secs(1))?;
                if let Some(n) = info.status.seccomp_filters {
                    if n as usize != f.len() {
                        return Err(format!(
                            "pid {}: read {} seccomp filters but the kernel reports {n}",
                            info.pid,
                            f.len()
                        ));
                    }
                }
                if f.is_empty() {
                    return Err(format!(
                        "pid {}: runs under seccomp but no filter could be read",
                        info.pid
                    ));
                }
                if f.iter().any(Filter::uses_user_notif) {
                    p.notes.push(
                        "the target's seccomp filter defers some syscalls to a supervisor \
                         (SECCOMP_RET_USER_NOTIF); in cdbg's copy they fail with ENOSYS"
                            .into(),
                    );
                }
                p.seccomp = f;
            }
            m => {
                return Err(format!(
                    "pid {}: runs in seccomp mode {m} (strict), which cannot be copied; \
                     use --seccomp=unconfined",
                    info.pid
                ))
            }
        }
    }
    Ok(p)
}

/// Writes /proc/self/oom_score_adj (through `procfs` when given); the file
/// must be on procfs.
fn set_oom_score_adj(adj: i32, procfs: Option<BorrowedFd<'_>>) -> Result<(), String> {
    use rustix::fs::{Mode, OFlags};
    use std::io::Write;
    let flags = OFlags::WRONLY | OFlags::CLOEXEC;
    let fd = match procfs {
        Some(d) => rustix::fs::openat(d, "self/oom_score_adj", flags, Mode::empty()),
        None => rustix::fs::open("/proc/self/oom_score_adj", flags, Mode::empty()),
    }
    .map_err(|e| format!("open oom_score_adj: {e}"))?;
    match rustix::fs::fstatfs(&fd) {
        Ok(s) if s.f_type == rustix::fs::PROC_SUPER_MAGIC => {}
        _ => return Err("oom_score_adj is not on procfs".into()),
    }
    std::fs::File::from(fd)
        .write_all(adj.to_string().as_bytes())
        .map_err(|e| format!("write oom_score_adj: {e}"))
}

fn set(mask: u64) -> CapabilitySet {
    CapabilitySet::from_bits_retain(mask)
}

/// Highest capability number the running kernel knows (via the bounding
/// set probe, so no /proc is needed inside the container).
fn last_cap() -> u32 {
    (0..64)
        .take_while(|i| th::capability_is_in_bounding_set(set(1u64 << i)).is_ok())
        .last()
        .unwrap_or(40)
}

fn current_bounding(last: u32) -> u64 {
    (0..=last)
        .filter(|i| th::capability_is_in_bounding_set(set(1u64 << i)).unwrap_or(false))
        .fold(0, |m, i| m | (1u64 << i))
}

/// Apply the plan and credentials to the calling thread. Call it in the
/// single-threaded process that execs the command, as the LAST thing
/// before execve: the seccomp filter is installed at the end and may
/// forbid anything but execve. Order: oom_score_adj, bounding set, LSM
/// exec label, keep-caps, setgroups, setgid, setuid, capset, ambient set,
/// no_new_privs, seccomp.
pub fn apply(
    plan: &ConfinePlan,
    creds: &Creds,
    procfs: Option<BorrowedFd<'_>>,
) -> Result<(), String> {
    let err = |what: &str, e: rustix::io::Errno| format!("cannot {what}: {e}");
    // 0. oom_score_adj, while we are root and dumpable rules do not bite.
    // Best effort: a container without a /proc keeps the inherited value.
    if let Some(adj) = plan.oom_score_adj {
        let _ = set_oom_score_adj(adj, procfs);
    }
    let last = last_cap();
    let cur = th::capabilities(None).map_err(|e| err("read own capabilities", e))?;
    let own_bnd = current_bounding(last);
    let non_root = creds.uid != 0;

    let mut c = if plan.privileged {
        CapSets {
            bounding: own_bnd,
            permitted: cur.permitted.bits(),
            effective: cur.permitted.bits(),
            inheritable: 0,
            ambient: 0,
        }
    } else {
        let mut c = plan.caps;
        if non_root && plan.added != 0 {
            c.inheritable |= plan.added;
            c.ambient |= plan.added;
        }
        c
    };
    // We can only keep what we have.
    c.bounding &= own_bnd;
    c.permitted &= cur.permitted.bits();
    c.inheritable &= cur.permitted.bits() | cur.inheritable.bits();
    c.normalize();

    // 1. Bounding set (needs CAP_SETPCAP, which we still have).
    for i in 0..=last {
        let bit = 1u64 << i;
        if own_bnd & bit != 0 && c.bounding & bit == 0 {
            th::remove_capability_from_bounding_set(set(bit)).map_err(|e| {
                err(
                    &format!("drop {} from the bounding set", caps::cap_names(bit)[0]),
                    e,
                )
            })?;
        }
    }
    // 2. LSM label for the execve, written while we are still root (as
    // runc does: the label file and the LSM's checks are happiest then).
    if let (Some(l), false) = (&plan.lsm, plan.privileged) {
        lsm::apply_exec_label(l, procfs)?;
    }
    // 3. Identity, keeping the permitted set across setuid.
    th::set_keep_capabilities(true).map_err(|e| err("set keep-caps", e))?;
    let gids: Vec<Gid> = creds.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    if let Err(e) = th::set_thread_groups(&gids) {
        // A user namespace with setgroups "deny": fine if nothing changes.
        let now = rustix::process::getgroups().unwrap_or_default();
        if e != rustix::io::Errno::PERM || now != gids {
            return Err(format!("cannot set groups {:?}: {e}", creds.groups));
        }
    }
    let gid = Gid::from_raw(creds.gid);
    th::set_thread_res_gid(gid, gid, gid).map_err(|e| err(&format!("set gid {}", creds.gid), e))?;
    let uid = Uid::from_raw(creds.uid);
    th::set_thread_res_uid(uid, uid, uid).map_err(|e| err(&format!("set uid {}", creds.uid), e))?;

    // 4. Capability sets. Installing a seccomp filter without
    // no_new_privs needs CAP_SYS_ADMIN: keep it effective until execve,
    // which recomputes the sets (a non-root command loses it, a root one
    // keeps only what the bounding set allows, as the target).
    let admin = 1u64 << CAP_SYS_ADMIN;
    let need_admin = !plan.seccomp.is_empty() && !plan.no_new_privs;
    if need_admin && cur.permitted.bits() & admin == 0 {
        return Err(
            "cannot install the seccomp filter: cdbg lacks CAP_SYS_ADMIN \
                    (use --seccomp=unconfined)"
                .into(),
        );
    }
    let extra = if need_admin { admin } else { 0 };
    th::set_capabilities(
        None,
        CapabilitySets {
            effective: set(c.effective | extra),
            permitted: set(c.permitted | extra),
            inheritable: set(c.inheritable),
        },
    )
    .map_err(|e| err("set capabilities", e))?;
    th::clear_ambient_capability_set().map_err(|e| err("clear the ambient set", e))?;
    for i in 0..=last {
        let bit = 1u64 << i;
        if c.ambient & bit != 0 {
            th::configure_capability_in_ambient_set(set(bit), true)
                .map_err(|e| err(&format!("raise ambient {}", caps::cap_names(bit)[0]), e))?;
        }
    }
    th::set_keep_capabilities(false).map_err(|e| err("clear keep-caps", e))?;

    // 5. no_new_privs, then seccomp last.
    if plan.no_new_privs && !plan.privileged {
        th::set_no_new_privs(true).map_err(|e| err("set no_new_privs", e))?;
    }
    if !plan.privileged && !plan.seccomp.is_empty() {
        seccomp::install(&plan.seccomp)
            .map_err(|e| format!("cannot install the seccomp filter: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enter::procinfo::Status;
    use crate::enter::seccomp::tests::deny;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    const DOCKER: u64 = 0xa80425fb;

    fn docker_root() -> ProcInfo {
        ProcInfo {
            pid: 1,
            status: Status {
                cap_bnd: DOCKER,
                cap_prm: DOCKER,
                cap_eff: DOCKER,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn opts() -> ConfineOpts {
        ConfineOpts {
            seccomp: true,
            ..Default::default()
        }
    }

    #[test]
    fn tweak_like_docker() {
        let net_admin = 1u64 << 12;
        assert_eq!(tweak(DOCKER, &[], &[]).unwrap(), (DOCKER, 0));
        assert_eq!(
            tweak(DOCKER, &s(&["NET_ADMIN"]), &[]).unwrap(),
            (DOCKER | net_admin, net_admin)
        );
        assert_eq!(tweak(DOCKER, &s(&["CHOWN"]), &[]).unwrap(), (DOCKER, 0));
        assert_eq!(
            tweak(DOCKER, &s(&["cap_net_admin"]), &s(&["ALL"])).unwrap(),
            (net_admin, net_admin)
        );
        let (all, _) = tweak(DOCKER, &s(&["ALL"]), &s(&["NET_ADMIN"])).unwrap();
        assert_eq!(all, caps::all_mask() & !net_admin);
        assert_eq!(
            tweak(DOCKER, &[], &s(&["CHOWN,KILL"])).unwrap().0,
            DOCKER & !0b100001
        );
        assert!(tweak(DOCKER, &s(&["BOGUS"]), &[])
            .unwrap_err()
            .contains("BOGUS"));
    }

    #[test]
    fn plan_defaults_to_target() {
        let mut info = docker_root();
        info.status.cap_amb = 1; // not in inheritable: normalized away
        info.status.no_new_privs = true;
        info.lsm = Some(LsmLabel::AppArmor("docker-default".into()));
        let p = plan(&info, &opts()).unwrap();
        assert_eq!(p.caps.bounding, DOCKER);
        assert_eq!(p.caps.effective, DOCKER);
        assert_eq!(p.caps.ambient, 0);
        assert!(p.no_new_privs && p.join_cgroups && !p.privileged);
        assert_eq!(p.lsm, info.lsm);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ConfinePlan>(&json).unwrap(), p);
    }

    /// `--privileged` and `--rescue` request no LSM label; the default
    /// plan carries the target's.
    #[test]
    fn plan_lsm_label_only_when_confined() {
        let mut info = docker_root();
        info.lsm = Some(LsmLabel::SELinux("system_u:system_r:container_t:s0".into()));
        assert_eq!(plan(&info, &opts()).unwrap().lsm, info.lsm);
        for o in [
            ConfineOpts {
                privileged: true,
                ..opts()
            },
            ConfineOpts {
                rescue: true,
                ..opts()
            },
        ] {
            let p = plan(&info, &o).unwrap();
            assert_eq!(p.lsm, None, "{o:?}");
        }
    }

    #[test]
    fn plan_cap_drop_all_and_rescue() {
        let o = ConfineOpts {
            cap_drop: s(&["ALL"]),
            ..opts()
        };
        let p = plan(&docker_root(), &o).unwrap();
        assert_eq!(p.caps, CapSets::default());
        let o = ConfineOpts {
            rescue: true,
            ..opts()
        };
        let p = plan(&docker_root(), &o).unwrap();
        assert!(p.privileged && !p.join_cgroups && p.seccomp.is_empty());
        let o = ConfineOpts {
            no_cgroup: true,
            ..opts()
        };
        assert!(!plan(&docker_root(), &o).unwrap().join_cgroups);
        let mut strict = docker_root();
        strict.status.seccomp_mode = 1;
        assert!(plan(&strict, &opts()).unwrap_err().contains("strict"));
        // seccomp=unconfined skips reading filters even in mode 2 (pid 1
        // is not ours to ptrace here).
        strict.status.seccomp_mode = 2;
        assert!(plan(&strict, &opts_unconfined())
            .unwrap()
            .seccomp
            .is_empty());
    }

    /// A paused (frozen) target: the plan refuses to ptrace it instead of
    /// hanging, and says why; --seccomp=unconfined and --rescue work.
    #[test]
    fn plan_refuses_a_frozen_target() {
        let freezer = "/sys/fs/cgroup/freezer";
        if !std::path::Path::new(freezer).join("cgroup.procs").exists() {
            eprintln!("skip: no v1 freezer here");
            return;
        }
        let dir = format!("{freezer}/cdbgt-confine-frz-{}", std::process::id());
        std::fs::create_dir(&dir).unwrap();
        let mut child = crate::sys::confine::spawn_with_filters(
            std::process::Command::new("/bin/sleep").arg("30"),
            vec![deny(libc::SYS_uname as u32, 1)
                .into_iter()
                .map(Into::into)
                .collect()],
        )
        .unwrap();
        std::fs::write(format!("{dir}/cgroup.procs"), child.id().to_string()).unwrap();
        std::fs::write(format!("{dir}/freezer.state"), "FROZEN").unwrap();
        let info = ProcInfo::read(child.id() as i32).unwrap();
        let t = std::time::Instant::now();
        let r = plan(&info, &opts());
        let took = t.elapsed();
        let unconfined = plan(&info, &opts_unconfined());
        let rescue = plan(
            &info,
            &ConfineOpts {
                rescue: true,
                ..opts()
            },
        );
        std::fs::write(format!("{dir}/freezer.state"), "THAWED").unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = std::fs::remove_dir(&dir);
        let e = r.unwrap_err();
        assert!(
            e.contains("freezer:/cdbgt-confine-frz") && e.contains("freez"),
            "{e}"
        );
        assert!(took < std::time::Duration::from_millis(500), "{took:?}");
        assert!(unconfined.unwrap().seccomp.is_empty());
        assert!(rescue.unwrap().privileged);
    }

    fn opts_unconfined() -> ConfineOpts {
        ConfineOpts::default()
    }

    /// Run `case` of [`apply_child`] in a fresh process (the test binary)
    /// and return what the exec'd shell printed.
    fn run_case(case: &str) -> String {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "enter::confine::tests::apply_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CDBGT_APPLY_CASE", case)
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(s.contains("STATUS-BEGIN"), "{case}: {s}");
        s
    }

    fn line<'a>(out: &'a str, key: &str) -> &'a str {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}:")))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {key} in {out}"))
    }

    /// Runs in a child process: apply a plan, exec a shell that prints its
    /// status and tries uname (blocked by the test filter).
    #[test]
    fn apply_child() {
        use std::os::unix::process::CommandExt;
        let Ok(case) = std::env::var("CDBGT_APPLY_CASE") else {
            return;
        };
        let filter = Filter {
            flags: 0,
            prog: deny(libc::SYS_uname as u32, libc::EPERM as u32),
        };
        let user = Creds {
            uid: 1000,
            gid: 1000,
            groups: vec![1000, 10],
            name: None,
            home: "/".into(),
            shell: None,
        };
        let root = Creds {
            groups: vec![0],
            ..Default::default()
        };
        let base = ConfinePlan {
            caps: CapSets {
                bounding: DOCKER,
                permitted: DOCKER,
                effective: DOCKER,
                ..Default::default()
            },
            seccomp: vec![filter],
            ..Default::default()
        };
        let (p, c) = match case.as_str() {
            // docker run --user 1000 --security-opt no-new-privileges
            "user_nnp" => (
                ConfinePlan {
                    caps: CapSets {
                        bounding: DOCKER,
                        ..Default::default()
                    },
                    no_new_privs: true,
                    ..base
                },
                user,
            ),
            // docker run (root, default caps, default seccomp, no NNP)
            "root" => (base, root),
            // --cap-add NET_ADMIN for a non-root user
            "user_add" => (
                ConfinePlan {
                    caps: CapSets {
                        bounding: DOCKER | 1 << 12,
                        permitted: 1 << 12,
                        effective: 1 << 12,
                        ..Default::default()
                    },
                    added: 1 << 12,
                    seccomp: vec![],
                    ..base
                },
                user,
            ),
            "privileged" => (
                ConfinePlan {
                    privileged: true,
                    ..base
                },
                root,
            ),
            _ => panic!("unknown case"),
        };
        // Through JSON, as across the process boundary.
        let p: ConfinePlan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        println!("STATUS-BEGIN");
        if let Err(e) = apply(&p, &c, None) {
            println!("APPLY-ERROR {e}");
            return;
        }
        let e = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg("grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' /proc/self/status; uname -s || echo UNAME_BLOCKED")
            .exec();
        println!("EXEC-ERROR {e}");
    }

    #[test]
    fn apply_user_with_no_new_privs() {
        let out = run_case("user_nnp");
        assert_eq!(line(&out, "Uid"), "1000\t1000\t1000\t1000");
        assert_eq!(line(&out, "Gid"), "1000\t1000\t1000\t1000");
        assert_eq!(line(&out, "Groups"), "10 1000");
        assert_eq!(line(&out, "CapBnd"), "00000000a80425fb");
        for k in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            assert_eq!(line(&out, k), "0000000000000000", "{k}");
        }
        assert_eq!(line(&out, "NoNewPrivs"), "1");
        assert_eq!(line(&out, "Seccomp"), "2");
        assert_eq!(line(&out, "Seccomp_filters"), "1");
        assert!(out.contains("UNAME_BLOCKED"), "{out}");
    }

    #[test]
    fn apply_root_without_no_new_privs() {
        let out = run_case("root");
        assert_eq!(line(&out, "Uid"), "0\t0\t0\t0");
        assert_eq!(line(&out, "Groups"), "0");
        for k in ["CapBnd", "CapPrm", "CapEff"] {
            assert_eq!(line(&out, k), "00000000a80425fb", "{k}");
        }
        assert_eq!(line(&out, "CapInh"), "0000000000000000");
        assert_eq!(line(&out, "NoNewPrivs"), "0");
        assert_eq!(line(&out, "Seccomp"), "2");
        // CAP_SYS_ADMIN kept for installing the filter is gone after exec.
        assert!(out.contains("UNAME_BLOCKED"), "{out}");
    }

    #[test]
    fn apply_cap_add_for_a_user() {
        let out = run_case("user_add");
        assert_eq!(line(&out, "CapEff"), "0000000000001000");
        assert_eq!(line(&out, "CapAmb"), "0000000000001000");
        assert_eq!(line(&out, "CapBnd"), "00000000a80435fb");
        assert_eq!(line(&out, "Seccomp"), "0");
        assert!(!out.contains("UNAME_BLOCKED"), "{out}");
    }

    #[test]
    fn apply_privileged() {
        let out = run_case("privileged");
        let own = crate::enter::procinfo::ProcInfo::read(std::process::id() as i32).unwrap();
        assert_eq!(line(&out, "CapBnd"), format!("{:016x}", own.status.cap_bnd));
        assert_eq!(line(&out, "CapEff"), format!("{:016x}", own.status.cap_bnd));
        assert_eq!(line(&out, "Seccomp"), "0");
    }
}
