#!/usr/bin/env bash
# Capture real runtime state files into tests/samples/<runtime>/ for the
# discovery parsers' unit tests. Starts one busybox fixture per runtime (via
# scripts/fixtures.sh), copies what each runtime leaves on disk and in /proc,
# and removes the fixtures. Run as root after scripts/setup-runtimes.sh.
#
#   scripts/capture-samples.sh [OUTDIR]     (default: tests/samples)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
out="${1:-$here/../tests/samples}"
F="$here/fixtures.sh"
N=cdbgt-sample

cp_to() { # SRC DST: copy one file (no symlink following surprises), warn when missing
  if [ -e "$1" ]; then mkdir -p "$(dirname "$2")"; cat "$1" >"$2"; else warn "missing $1"; fi
}
proc_of() { # PID DIR: cgroup, status, uid_map, mountinfo-free basics
  mkdir -p "$2"
  cat "/proc/$1/cgroup" >"$2/proc-cgroup"
  cat "/proc/$1/uid_map" >"$2/proc-uid_map"
  tr '\0' '\n' <"/proc/$1/cmdline" >"$2/proc-cmdline.txt"
}
cmdline_of() { tr '\0' '\n' <"/proc/$1/cmdline"; }

rm -rf "$out"; mkdir -p "$out"

# docker
pid="$("$F" start docker bb "$N-docker")"
id="$("$CDBG_DOCKER" inspect -f '{{.Id}}' "$N-docker")"
d="$out/docker"; proc_of "$pid" "$d"
cp_to "/var/lib/docker/containers/$id/config.v2.json" "$d/config.v2.json"
cp_to "/var/lib/docker/containers/$id/hostconfig.json" "$d/hostconfig.json"
cp_to "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/$id/config.json" "$d/oci-config.json"
cp_to "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/$id/init.pid" "$d/init.pid"
cp_to "/run/docker/runtime-runc/moby/$id/state.json" "$d/runc-state.json"
echo "$id" >"$d/ID"
cmdline_of "$(cat /var/run/docker.pid)" >"$d/dockerd-cmdline.txt"
"$F" stop docker "$N-docker"

# docker scratch (no shell, Config.Cmd /pause)
pid="$("$F" start docker scratch "$N-docker-scratch")"
id="$("$CDBG_DOCKER" inspect -f '{{.Id}}' "$N-docker-scratch")"
d="$out/docker-scratch"; proc_of "$pid" "$d"
cp_to "/var/lib/docker/containers/$id/config.v2.json" "$d/config.v2.json"
"$F" stop docker "$N-docker-scratch"

# second docker daemon
pid="$("$F" start docker2 bb "$N-docker2")"
id="$("$CDBG_DOCKER" -H "$CDBG_DOCKER2_HOST" inspect -f '{{.Id}}' "$N-docker2")"
d="$out/docker2"; proc_of "$pid" "$d"
cp_to "/var/lib/cdbg-docker2/containers/$id/config.v2.json" "$d/config.v2.json"
cp_to "/run/cdbg-docker2/exec/runtime-runc/moby/$id/state.json" "$d/runc-state.json"
echo "$id" >"$d/ID"
cmdline_of "$(cat /run/cdbg-docker2/docker.pid)" >"$d/dockerd-cmdline.txt"
"$F" stop docker2 "$N-docker2"

# podman rootful
pid="$("$F" start podman bb "$N-podman")"
id="$(podman inspect -f '{{.Id}}' "$N-podman")"
d="$out/podman"; proc_of "$pid" "$d"
cp_to /var/lib/containers/storage/overlay-containers/containers.json "$d/containers.json"
cp_to "/var/lib/containers/storage/overlay-containers/$id/userdata/config.json" "$d/oci-config.json"
cp_to "/run/containers/storage/overlay-containers/$id/userdata/pidfile" "$d/pidfile"
cp_to "/run/containers/storage/overlay-containers/$id/userdata/conmon.pid" "$d/conmon.pid"
cmdline_of "$(cat "/run/containers/storage/overlay-containers/$id/userdata/conmon.pid")" >"$d/conmon-cmdline.txt" || true
echo "$id" >"$d/ID"
"$F" stop podman "$N-podman"

# podman rootless
pid="$("$F" start podman-rootless bb "$N-podman-rl")"
id="$("$F" podman-rootless-cli inspect -f '{{.Id}}' "$N-podman-rl")"
uid="$(id -u "$CDBG_RL_USER")"; home="$(getent passwd "$CDBG_RL_USER" | cut -d: -f6)"
d="$out/podman-rootless"; proc_of "$pid" "$d"
cp_to "$home/.local/share/containers/storage/vfs-containers/containers.json" "$d/containers.json"
cp_to "$home/.local/share/containers/storage/vfs-containers/$id/userdata/config.json" "$d/oci-config.json"
cp_to "/run/user/$uid/containers/vfs-containers/$id/userdata/pidfile" "$d/pidfile"
conmon="$(cat "/run/user/$uid/containers/vfs-containers/$id/userdata/conmon.pid" 2>/dev/null || true)"
[ -n "$conmon" ] && cmdline_of "$conmon" >"$d/conmon-cmdline.txt"
echo "$id" >"$d/ID"; echo "$uid" >"$d/UID"
"$F" stop podman-rootless "$N-podman-rl"

# containerd (ctr)
pid="$("$F" start ctr bb "$N-ctr")"
d="$out/ctr"; proc_of "$pid" "$d"
cp_to "/run/containerd/io.containerd.runtime.v2.task/default/$N-ctr/config.json" "$d/oci-config.json"
cp_to "/run/containerd/io.containerd.runtime.v2.task/default/$N-ctr/init.pid" "$d/init.pid"
cp_to "/run/containerd/runc/default/$N-ctr/state.json" "$d/runc-state.json"
echo "$N-ctr" >"$d/ID"
"$F" stop ctr "$N-ctr"

# Kubernetes-style pod (namespace k8s.io)
pid="$("$F" start k8s bb "$N-pod")"
sid="$(printf '%s' "$N-pod/sandbox" | sha256sum | cut -c1-64)"
cid="$(printf '%s' "$N-pod/app" | sha256sum | cut -c1-64)"
d="$out/k8s"; proc_of "$pid" "$d/app"
cp_to "/run/containerd/io.containerd.runtime.v2.task/k8s.io/$cid/config.json" "$d/app/oci-config.json"
cp_to "/run/containerd/io.containerd.runtime.v2.task/k8s.io/$sid/config.json" "$d/sandbox/oci-config.json"
proc_of "$(cat "/run/containerd/io.containerd.runtime.v2.task/k8s.io/$sid/init.pid")" "$d/sandbox"
echo "$cid" >"$d/app/ID"; echo "$sid" >"$d/sandbox/ID"
"$F" stop k8s "$N-pod"

# runc alone
pid="$("$F" start runc bb "$N-runc")"
d="$out/runc"; proc_of "$pid" "$d"
cp_to "/run/runc/$N-runc/state.json" "$d/state.json"
echo "$N-runc" >"$d/ID"
"$F" stop runc "$N-runc"

# LXC
pid="$("$F" start lxc bb "$N-lxc")"
d="$out/lxc"; proc_of "$pid" "$d"
cp_to "/var/lib/lxc/$N-lxc/config" "$d/config"
ppid="$(awk '{print $4}' "/proc/$pid/stat")"
mkdir -p "$d/monitor"; cat "/proc/$ppid/cgroup" >"$d/monitor/proc-cgroup"; cmdline_of "$ppid" >"$d/monitor/proc-cmdline.txt"
"$F" stop lxc "$N-lxc"

# systemd-nspawn
pid="$("$F" start nspawn bb "$N-nspawn")"
d="$out/nspawn"; proc_of "$pid" "$d"
sup="$(cat "/run/cdbgt/nspawn/$N-nspawn/pid")"
mkdir -p "$d/supervisor"; cat "/proc/$sup/cgroup" >"$d/supervisor/proc-cgroup"; cmdline_of "$sup" >"$d/supervisor/proc-cmdline.txt"
"$F" stop nspawn "$N-nspawn"

# The host's own view, for comparison.
mkdir -p "$out/host"; cat /proc/self/cgroup >"$out/host/proc-cgroup"
cat >"$out/README.md" <<MD
# Real runtime samples

Captured by \`scripts/capture-samples.sh\` on $(date -u +%Y-%m-%d) from live containers
(Debian 12, kernel $(uname -r), hybrid cgroups v1+v2, PID 1 not systemd).
Each directory holds what one runtime leaves on disk for a busybox container
(\`sleep\` as init) plus \`proc-cgroup\`, \`proc-uid_map\` and \`proc-cmdline.txt\`
(NUL replaced by newline) of the container's init as seen from the host; \`ID\`
is the container ID. Files are copied verbatim.

- docker/: config.v2.json, hostconfig.json, OCI bundle config.json (oci-config.json)
  and init.pid from /run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/ID/,
  runc state.json from /run/docker/runtime-runc/moby/ID/, dockerd's cmdline.
- docker-scratch/: config.v2.json of the scratch image (Cmd /pause, no shell).
- docker2/: a second dockerd (--data-root /var/lib/cdbg-docker2, --exec-root
  /run/cdbg-docker2/exec): its cmdline, config.v2.json, runc state.json.
- podman/: rootful, overlay-containers/containers.json, userdata/config.json, pidfile,
  conmon.pid and conmon's cmdline.
- podman-rootless/: user cdbgrl (UID), vfs-containers/containers.json, config.json,
  pidfile (from /run/user/UID/containers/...), conmon's cmdline; uid_map shows the userns.
- ctr/: containerd namespace "default", task dir config.json + init.pid, runc state.json
  (/run/containerd/runc/default/ID/).
- k8s/: namespace k8s.io, a pod made with ctr like the CRI does (app/ and sandbox/):
  config.json with io.kubernetes.cri.* annotations, kubepods cgroup paths.
- runc/: /run/runc/ID/state.json.
- lxc/: /var/lib/lxc/NAME/config; monitor/ is the lxc monitor process (parent of init).
- nspawn/: supervisor/ is the systemd-nspawn process (started with --register=no --keep-unit).
- host/: /proc/self/cgroup of the capturing shell (not in a container).
MD
log "samples written to $out"
find "$out" -type f | sort | xargs ls -la | awk '{print $5, $9}' >&2
