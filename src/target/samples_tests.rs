//! Parser tests on real runtime state captured from live containers
//! (tests/samples/, see its README) plus synthetic cgroup files for
//! layouts the capture host cannot produce (tests/samples/cgroup/).

use super::cgroup;
use super::scan::{Index, Target};
use super::*;

fn sample(p: &str) -> Vec<u8> {
    let f = format!("{}/tests/samples/{p}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&f).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn text(p: &str) -> String {
    String::from_utf8(sample(p)).unwrap().trim().to_string()
}

fn argv(p: &str) -> Vec<String> {
    text(p).lines().map(String::from).collect()
}

const SYN_ID: &str = "4a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

#[test]
fn docker_config_v2() {
    let id = text("docker/ID");
    let r = docker::parse(
        &sample("docker/config.v2.json"),
        Some(&sample("docker/hostconfig.json")),
    )
    .unwrap();
    assert_eq!(r.c.runtime, Runtime::Docker);
    assert_eq!(r.c.id, id);
    assert_eq!(r.c.name.as_deref(), Some("cdbgt-sample-docker"));
    assert_eq!(r.c.image.as_deref(), Some("cdbgt-bb:local"));
    assert_eq!(r.c.command.as_deref(), Some("/bin/sleep 999999999"));
    assert_eq!(r.rec_pid, Some(text("docker/init.pid").parse().unwrap()));
    assert!(r.claims_running);
    assert!(r.cgroup_hints.is_empty(), "no --cgroup-parent");
    // its cgroup maps back to it
    let file = text("docker/proc-cgroup");
    let ix = Index::new(std::slice::from_ref(&r));
    assert_eq!(
        ix.classify(&file),
        Some(Target::Rec(0, format!("/docker/{id}")))
    );
    // the scratch image's config too
    let s = docker::parse(&sample("docker-scratch/config.v2.json"), None).unwrap();
    assert!(s.c.image.unwrap().contains("scratch"));
}

#[test]
fn docker_second_daemon() {
    let a = argv("docker2/dockerd-cmdline.txt");
    assert_eq!(
        docker::data_root_from_argv(&a).as_deref(),
        Some("/var/lib/cdbg-docker2")
    );
    assert_eq!(
        docker::data_root_from_argv(&argv("docker/dockerd-cmdline.txt")),
        None
    );
    let r = docker::parse(&sample("docker2/config.v2.json"), None).unwrap();
    assert_eq!(r.c.id, text("docker2/ID"));
    // without its record the cgroup still says "docker <id>"
    let h = cgroup::classify(cgroup::main_path(&text("docker2/proc-cgroup")).unwrap()).unwrap();
    assert_eq!((h.runtime, h.key), (Runtime::Docker, r.c.id));
}

#[test]
fn podman_rootful() {
    let id = text("podman/ID");
    let recs = podman::parse_containers_json(&sample("podman/containers.json"));
    assert_eq!(recs.len(), 1);
    let mut r = recs[0].clone();
    assert_eq!(r.c.id, id);
    assert_eq!(r.c.runtime, Runtime::Podman);
    assert_eq!(r.c.name.as_deref(), Some("cdbgt-sample-podman"));
    assert_eq!(r.c.image.as_deref(), Some("localhost/cdbgt-bb:local"));
    let spec = oci::Spec::parse(&sample("podman/oci-config.json")).unwrap();
    spec.fill(&mut r.c);
    assert!(oci::cri(&spec).is_none(), "podman is not CRI-O");
    assert_eq!(r.c.command.as_deref(), Some("/bin/sleep 999999999"));
    assert_eq!(r.c.user.as_deref(), Some("0:0"));
    assert_eq!(r.c.workdir.as_deref(), Some("/"));
    assert_eq!(
        spec.cgroup().unwrap(),
        format!("/libpod_parent/libpod-{id}")
    );
    let ix = Index::new(std::slice::from_ref(&r));
    assert_eq!(
        ix.classify(&text("podman/proc-cgroup")),
        Some(Target::Rec(0, format!("/libpod_parent/libpod-{id}")))
    );
    // conmon is not the container
    assert!(text("podman/conmon-cmdline.txt").contains(&id));
}

#[test]
fn podman_rootless() {
    let id = text("podman-rootless/ID");
    let recs = podman::parse_containers_json(&sample("podman-rootless/containers.json"));
    assert_eq!(recs[0].c.id, id);
    assert_eq!(recs[0].c.name.as_deref(), Some("cdbgt-sample-podman-rl"));
    // on cgroup v1 the container has no cgroup of its own: nothing maps it,
    // the pidfile (verified through conmon) has to.
    let ix = Index::new(&recs);
    assert_eq!(ix.classify(&text("podman-rootless/proc-cgroup")), None);
    let conmon = argv("podman-rootless/conmon-cmdline.txt");
    assert!(conmon.iter().any(|a| a == &id));
    assert!(conmon.iter().any(
        |a| a.ends_with(&format!("vfs-containers/{id}/userdata/pidfile"))
            && a.starts_with(&format!(
                "/run/user/{}/containers",
                text("podman-rootless/UID")
            ))
    ));
    let uid_map = text("podman-rootless/proc-uid_map");
    assert!(
        uid_map.split_whitespace().nth(1) == Some("1001"),
        "{uid_map}"
    );
}

#[test]
fn containerd_task() {
    let id = text("ctr/ID");
    let r = oci::containerd_task(
        "default",
        &id,
        &sample("ctr/oci-config.json"),
        Some(&text("ctr/init.pid")),
    );
    assert_eq!(r.c.runtime, Runtime::Containerd);
    assert_eq!(r.c.namespace.as_deref(), Some("default"));
    assert_eq!(r.c.display_name(), format!("default/{id}"));
    assert_eq!(r.rec_pid, Some(text("ctr/init.pid").parse().unwrap()));
    assert_eq!(r.cgroup_hints, vec![format!("/default/{id}")]);
    let ix = Index::new(std::slice::from_ref(&r));
    assert_eq!(
        ix.classify(&text("ctr/proc-cgroup")),
        Some(Target::Rec(0, format!("/default/{id}")))
    );
    // containerd's own runc state for the task
    let rs = runc::parse_state(&sample("ctr/runc-state.json")).unwrap();
    assert_eq!(rs.c.id, id);
    assert_eq!(rs.rec_pid, r.rec_pid);
}

#[test]
fn kubernetes_cri_annotations() {
    let app_id = text("k8s/app/ID");
    let sb_id = text("k8s/sandbox/ID");
    let app = oci::containerd_task("k8s.io", &app_id, &sample("k8s/app/oci-config.json"), None);
    let sb = oci::containerd_task(
        "k8s.io",
        &sb_id,
        &sample("k8s/sandbox/oci-config.json"),
        None,
    );
    assert_eq!(app.c.runtime, Runtime::Kubernetes);
    assert!(!app.c.sandbox && sb.c.sandbox);
    assert_eq!(app.c.name.as_deref(), Some("app"));
    assert_eq!(app.c.pod.as_deref(), Some("cdbgt-sample-pod"));
    assert_eq!(app.c.namespace.as_deref(), Some("default"));
    assert_eq!(
        app.c.image.as_deref(),
        Some("docker.io/library/cdbgt-bb:local")
    );
    assert_eq!(app.sandbox_id.as_deref(), Some(sb_id.as_str()));
    assert_eq!(app.c.display_name(), "default/cdbgt-sample-pod/app");
    assert_eq!(sb.c.display_name(), "default/cdbgt-sample-pod");
    let recs = vec![sb, app];
    let ix = Index::new(&recs);
    match ix.classify(&text("k8s/app/proc-cgroup")) {
        Some(Target::Rec(1, p)) => assert!(p.ends_with(&app_id) && p.starts_with("/kubepods/")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ix.classify(&text("k8s/sandbox/proc-cgroup")),
        Some(Target::Rec(0, _))
    ));
}

#[test]
fn runc_state() {
    let id = text("runc/ID");
    let r = runc::parse_state(&sample("runc/state.json")).unwrap();
    assert_eq!(r.c.runtime, Runtime::Runc);
    assert_eq!(r.c.id, id);
    assert!(r.rec_pid.is_some() && r.rec_start.is_some());
    assert_eq!(
        r.spec_path.as_deref(),
        Some(std::path::Path::new(&format!(
            "/run/cdbgt/bundles/{id}/config.json"
        )))
    );
    let ix = Index::new(std::slice::from_ref(&r));
    assert_eq!(
        ix.classify(&text("runc/proc-cgroup")),
        Some(Target::Rec(0, format!("/{id}")))
    );
    // Docker's runc state has the cgroup path recorded.
    let d = runc::parse_state(&sample("docker/runc-state.json")).unwrap();
    assert_eq!(d.c.id, text("docker/ID"));
}

#[test]
fn lxc_config_and_cgroup() {
    let s = text("lxc/config");
    let r = lxc::parse_config("cdbgt-sample-lxc", &s);
    assert_eq!(
        r.c.image.as_deref(),
        Some("/var/lib/lxc/cdbgt-sample-lxc/rootfs")
    );
    let h = cgroup::classify(cgroup::main_path(&text("lxc/proc-cgroup")).unwrap()).unwrap();
    assert_eq!(
        (h.runtime, h.key.as_str()),
        (Runtime::Lxc, "cdbgt-sample-lxc")
    );
    // the monitor is not the container
    assert_eq!(
        Index::new(&[]).classify(&text("lxc/monitor/proc-cgroup")),
        None
    );
}

#[test]
fn nspawn_keep_unit() {
    let h = Index::new(&[]).classify(&text("nspawn/proc-cgroup"));
    match h {
        Some(Target::Hit(h)) => {
            assert_eq!(h.runtime, Runtime::Nspawn);
            assert!(h.key.starts_with(cgroup::NSPAWN_PAYLOAD));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        Index::new(&[]).classify(&text("nspawn/supervisor/proc-cgroup")),
        None
    );
    let (name, dir) = nspawn::parse_argv(&argv("nspawn/supervisor/proc-cmdline.txt"));
    assert_eq!(name.as_deref(), Some("cdbgt-sample-nspawn"));
    assert_eq!(
        dir.as_deref(),
        Some("/run/cdbgt/nspawn/cdbgt-sample-nspawn/rootfs")
    );
}

#[test]
fn host_is_no_container() {
    assert_eq!(Index::new(&[]).classify(&text("host/proc-cgroup")), None);
}

#[test]
fn synthetic_cgroup_layouts() {
    let want = [
        ("docker-systemd", Runtime::Docker, format!("/system.slice/docker-{SYN_ID}.scope")),
        ("docker-v2-systemd", Runtime::Docker, format!("/system.slice/docker-{SYN_ID}.scope")),
        ("podman-systemd", Runtime::Podman, format!("/machine.slice/libpod-{SYN_ID}.scope")),
        (
            "podman-rootless-v2",
            Runtime::Podman,
            format!("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{SYN_ID}.scope"),
        ),
        (
            "k8s-containerd-systemd",
            Runtime::Kubernetes,
            format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0baf27f3_a021_43a2_ce4b_912599064700.slice/cri-containerd-{SYN_ID}.scope"),
        ),
        (
            "crio-systemd",
            Runtime::CriO,
            format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3f2a_11.slice/crio-{SYN_ID}.scope"),
        ),
    ];
    for (f, rt, cg) in want {
        let file = text(&format!("cgroup/{f}"));
        match Index::new(&[]).classify(&file) {
            Some(Target::Hit(h)) => {
                assert_eq!(
                    (h.runtime, h.key.as_str(), &h.cgroup),
                    (rt, SYN_ID, &cg),
                    "{f}"
                )
            }
            other => panic!("{f}: {other:?}"),
        }
    }
    assert_eq!(
        Index::new(&[]).classify(&text("cgroup/crio-conmon")),
        None,
        "conmon is never the container"
    );
    match Index::new(&[]).classify(&text("cgroup/nspawn-machined")) {
        Some(Target::Hit(h)) => {
            assert_eq!((h.runtime, h.key.as_str()), (Runtime::Nspawn, "my-box"))
        }
        other => panic!("{other:?}"),
    }
    // a CRI-O record from containers/storage matches its crio-<id> scope
    let mut r = Record::new(Container {
        id: SYN_ID.into(),
        ..Container::blank(Runtime::CriO)
    });
    r.id_in_cgroup = true;
    assert!(matches!(
        Index::new(std::slice::from_ref(&r)).classify(&text("cgroup/crio-systemd")),
        Some(Target::Rec(0, _))
    ));
}
