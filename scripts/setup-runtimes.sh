#!/usr/bin/env bash
# Install and start every container runtime the tests use, and build the
# fixture images. Idempotent; fast (a few seconds) when everything is there.
#
#   scripts/setup-runtimes.sh              everything below, in order
#   scripts/setup-runtimes.sh --toolchain  only packages + Rust (what a build needs)
#   scripts/setup-runtimes.sh --runtimes   only daemons, users, images, stale clean-up
#
# Env: CDBG_CI_CLEAN=1 also removes *running* cdbgt-* / cdbg-test=1 containers
# (CI does this; on a shared dev machine only stopped leftovers are removed so
# that other people's running fixtures survive).
# Needs root. Logs of the daemons: /var/log/cdbg-ci/.
set -euo pipefail
exec </dev/null
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
close_extra_fds
export NEEDRESTART_SUSPEND=1 NEEDRESTART_MODE=l

[ "$(id -u)" = 0 ] || die "must run as root"
mkdir -p "$CDBG_LOG_DIR" "$CDBG_CACHE_DIR" "$CDBG_RUN_DIR" /etc/cdbg-ci

# ---------------------------------------------------------------- packages
ensure_packages() {
  local missing=() p sysd
  for p in docker.io busybox-static podman runc containerd jq tmux uidmap iproute2 \
           util-linux procps gcc libc6-dev binutils iptables git ca-certificates strace time; do
    pkg_installed "$p" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}" || die "apt-get install ${missing[*]} failed"
  fi
  if ! pkg_installed lxc; then
    apt_install --no-install-recommends lxc || die "apt-get install lxc failed"
  fi
  # systemd-container must match the installed systemd exactly (no upgrade of systemd).
  sysd="$(dpkg-query -W -f='${Version}' systemd 2>/dev/null || true)"
  if [ -n "$sysd" ] && [ "$(dpkg-query -W -f='${Version}' systemd-container 2>/dev/null || true)" != "$sysd" ]; then
    apt_install --no-install-recommends "systemd-container=$sysd" \
      || warn "systemd-container=$sysd not installable: nspawn fixtures will fail"
  elif [ -z "$sysd" ] && ! pkg_installed systemd-container; then
    apt_install --no-install-recommends systemd-container || warn "systemd-container not installable"
  fi
  log "packages: ok"
}

# ---------------------------------------------------------------- rust
# The machines come with one rustup toolchain (cargo, rustc, rustfmt, clippy);
# no other toolchain can be downloaded, so a missing piece is reported, and a
# missing musl target only makes the build fall back to the glibc target.
ensure_rust() {
  command -v cargo >/dev/null 2>&1 && command -v rustc >/dev/null 2>&1 \
    || die "cargo/rustc not found (looked in PATH=$PATH); install Rust with rustup"
  local c
  for c in rustfmt cargo-clippy; do
    command -v "$c" >/dev/null 2>&1 || {
      warn "$c missing: rustup component add ${c#cargo-}"
      timeout 300 rustup component add "${c#cargo-}" >&2 || die "cannot install the Rust component ${c#cargo-}"
    }
  done
  if [ "$(cdbg_target)" != x86_64-unknown-linux-musl ]; then
    log "rustup target add x86_64-unknown-linux-musl"
    timeout 300 rustup target add x86_64-unknown-linux-musl >&2 \
      || warn "musl target unavailable: building for x86_64-unknown-linux-gnu (+crt-static)"
  fi
  log "rust: $(rustc --version), target $(cdbg_target)"
}

# ---------------------------------------------------------------- daemons
docker_ok() { timeout 10 "$CDBG_DOCKER" info >/dev/null 2>&1; }

start_dockerd() {
  stale_pidfile /var/run/docker.pid dockerd
  stale_pidfile /var/run/docker/containerd/containerd.pid containerd
  if docker_ok; then log "dockerd: already running"; return 0; fi
  if pidfile_alive /var/run/docker.pid; then
    log "dockerd: running but not answering yet; waiting"
    wait_for 60 docker_ok && { log "dockerd: ready"; return 0; }
    die "dockerd (pid $(cat /var/run/docker.pid)) does not answer; see $CDBG_LOG_DIR/dockerd.log"
  fi
  log "dockerd: starting (log $CDBG_LOG_DIR/dockerd.log)"
  setsid dockerd >>"$CDBG_LOG_DIR/dockerd.log" 2>&1 </dev/null &
  if ! wait_for 60 docker_ok; then
    tail -n 30 "$CDBG_LOG_DIR/dockerd.log" >&2 || true
    die "dockerd did not become ready within 60 s"
  fi
  log "dockerd: ready"
}

# The userns-remapped dockerd (--userns-remap=default, user dockremap with
# /etc/subuid and /etc/subgid ranges, its own data/exec root, socket and
# bridge): started by fixtures.sh, which the tests also call on demand.
start_docker_userns() {
  if "$here/fixtures.sh" check docker-userns; then
    log "dockerd (userns-remap): ready ($CDBG_DOCKER_USERNS_HOST)"
  else
    tail -n 30 "$CDBG_LOG_DIR/dockerd-userns.log" >&2 || true
    die "the userns-remap dockerd did not start; see $CDBG_LOG_DIR/dockerd-userns.log"
  fi
}

ctr_ok() { [ -S "$CONTAINERD_ADDRESS" ] && timeout 10 ctr --connect-timeout 3s version >/dev/null 2>&1; }

start_containerd() {
  local conf=/etc/cdbg-ci/containerd.toml pidf="$CDBG_RUN_DIR/containerd.pid"
  mkdir -p "$(dirname "$CONTAINERD_ADDRESS")"
  cat >"$conf.new" <<TOML
# Written by cdbg scripts/setup-runtimes.sh: a standalone containerd for ctr and
# the Kubernetes-style fixtures, on its own socket (dockerd keeps its own).
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CONTAINERD_ADDRESS"
[ttrpc]
  address = "$CONTAINERD_ADDRESS.ttrpc"
TOML
  mv "$conf.new" "$conf"
  stale_pidfile "$pidf" containerd
  if ctr_ok; then log "containerd: already running"; return 0; fi
  if pidfile_alive "$pidf"; then
    wait_for 30 ctr_ok && { log "containerd: ready"; return 0; }
    die "containerd (pid $(cat "$pidf")) does not answer; see $CDBG_LOG_DIR/containerd.log"
  fi
  rm -f "$CONTAINERD_ADDRESS" "$CONTAINERD_ADDRESS.ttrpc"
  log "containerd: starting (socket $CONTAINERD_ADDRESS, log $CDBG_LOG_DIR/containerd.log)"
  setsid containerd --config "$conf" >>"$CDBG_LOG_DIR/containerd.log" 2>&1 </dev/null &
  echo $! >"$pidf"
  if ! wait_for 60 ctr_ok; then
    tail -n 30 "$CDBG_LOG_DIR/containerd.log" >&2 || true
    die "containerd did not become ready within 60 s"
  fi
  log "containerd: ready"
}

# ---------------------------------------------------------------- podman config
configure_podman() {
  local nofile conf=/etc/containers/containers.conf rl_home uid
  nofile="$(ulimit -Hn)"; [ "$nofile" = unlimited ] && nofile=1048576
  # crun refuses hybrid cgroups here; no systemd as PID 1; no journald.
  local body="# cdbg-ci: written by scripts/setup-runtimes.sh
[containers]
default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=32768:32768\"]
[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
"
  mkdir -p /etc/containers
  if [ ! -e "$conf" ] || head -1 "$conf" | grep -q '^# cdbg-ci'; then
    printf '%s' "$body" >"$conf"
  else
    warn "$conf exists and is not ours: podman fixtures pass their flags explicitly"
  fi
  # Rootless user: subuid/subgid, runtime dir, its own config (vfs storage).
  if ! id "$CDBG_RL_USER" >/dev/null 2>&1; then
    log "creating rootless user $CDBG_RL_USER"
    useradd -m -s /bin/sh "$CDBG_RL_USER"
  fi
  uid="$(id -u "$CDBG_RL_USER")"
  rl_home="$(getent passwd "$CDBG_RL_USER" | cut -d: -f6)"
  for f in /etc/subuid /etc/subgid; do
    touch "$f"
    if ! grep -q "^$CDBG_RL_USER:" "$f"; then
      local start
      start="$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")"
      echo "$CDBG_RL_USER:$start:65536" >>"$f"
      log "added $CDBG_RL_USER:$start:65536 to $f"
    fi
  done
  mkdir -p "/run/user/$uid"; chown "$uid:$uid" "/run/user/$uid"; chmod 700 "/run/user/$uid"
  mkdir -p "$rl_home/.config/containers"
  printf '%s' "$body" >"$rl_home/.config/containers/containers.conf"
  printf '# cdbg-ci\n[storage]\ndriver = "vfs"\n' >"$rl_home/.config/containers/storage.conf"
  chown -R "$uid:$uid" "$rl_home/.config"
  # After a kill -9 of everything, rootless podman refuses to run ("invalid
  # internal status ... could not find any running process") until migrated.
  if ! timeout 60 "$here/fixtures.sh" podman-rootless-cli info >/dev/null 2>&1; then
    warn "rootless podman not usable: podman system migrate"
    timeout 60 "$here/fixtures.sh" podman-rootless-cli system migrate >&2 || true
    timeout 60 "$here/fixtures.sh" podman-rootless-cli info >/dev/null \
      || die "rootless podman still not usable after podman system migrate"
  fi
  if ! timeout 60 podman info >/dev/null 2>&1; then
    warn "rootful podman not usable: podman system migrate"
    timeout 60 podman system migrate >&2 || true
    timeout 60 podman info >/dev/null || die "rootful podman still not usable after podman system migrate"
  fi
}

# ---------------------------------------------------------------- images
# The cache key covers the rootfs recipe and the busybox binary.
rootfs_key() {
  { cat "$here/mk-rootfs.sh"; cat "$(command -v busybox)" 2>/dev/null; gcc --version 2>/dev/null | head -1; } \
    | sha256sum | cut -c1-16
}

build_tarballs() {
  local kind tmp
  for kind in busybox scratch; do
    if [ -s "$CDBG_CACHE_DIR/$kind-$KEY.tar" ]; then continue; fi
    log "building $kind rootfs"
    tmp="$(mktemp -d "$CDBG_CACHE_DIR/build.XXXXXX")"
    "$here/mk-rootfs.sh" "$kind" "$tmp/rootfs"
    tar --numeric-owner -C "$tmp/rootfs" -cf "$tmp/out.tar" .
    mv "$tmp/out.tar" "$CDBG_CACHE_DIR/$kind-$KEY.tar"
    rm -rf "$tmp"
  done
  # Stable names for the fixtures and the tests.
  ln -sfn "busybox-$KEY.tar" "$CDBG_CACHE_DIR/busybox.tar"
  ln -sfn "scratch-$KEY.tar" "$CDBG_CACHE_DIR/scratch.tar"
  # Remove tarballs of older keys.
  find "$CDBG_CACHE_DIR" -maxdepth 1 -name '*-*.tar' ! -name "*-$KEY.tar" -delete
}

BB_CHANGES=(-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
            -c 'CMD ["/bin/sleep","999999999"]')
SC_CHANGES=(-c 'CMD ["/pause"]')

# import_into CLI... : import both images with CLI (docker, podman, rootless podman)
import_into() {
  local what="$1"; shift
  local img tar changes cur
  for img in "$CDBG_IMG_BB" "$CDBG_IMG_SCRATCH"; do
    if [ "$img" = "$CDBG_IMG_BB" ]; then tar=busybox; changes=("${BB_CHANGES[@]}")
    else tar=scratch; changes=("${SC_CHANGES[@]}"); fi
    cur="$("$@" image inspect -f '{{index .Config.Labels "cdbg.key"}}' "$img" 2>/dev/null || true)"
    if [ "$cur" = "$KEY" ]; then continue; fi
    log "$what: importing $img"
    "$@" import "${changes[@]}" -c "LABEL cdbg.key=$KEY" -c 'LABEL cdbg-test=1' \
      - "$img" <"$CDBG_CACHE_DIR/$tar.tar" >/dev/null
  done
}

import_ctr() {
  local ns img stamp
  for ns in default k8s.io; do
    stamp="$CDBG_RUN_DIR/ctr-images-$ns-$KEY"
    if [ -e "$stamp" ] && ctr -n "$ns" images ls -q | grep -q "cdbgt-scratch:local"; then continue; fi
    for img in "$CDBG_IMG_BB" "$CDBG_IMG_SCRATCH"; do
      log "ctr/$ns: importing $img"
      "$CDBG_DOCKER" save "$img" | ctr -n "$ns" images import - >/dev/null
    done
    touch "$stamp"
  done
}

# ---------------------------------------------------------------- stale containers
clean_stale() {
  if [ "${CDBG_CI_CLEAN:-0}" = 1 ]; then
    log "removing every leftover test container (CDBG_CI_CLEAN=1)"
    "$here/fixtures.sh" gc all || warn "cleaning stale containers reported errors"
  else
    # A shared dev machine: other people's fixtures may be running right now.
    log "not removing leftover containers (set CDBG_CI_CLEAN=1, or run scripts/fixtures.sh gc [all])"
  fi
}

# ---------------------------------------------------------------- main
phase="${1:-all}"
case "$phase" in all|--toolchain|--runtimes) ;; *) die "usage: $0 [--toolchain|--runtimes]" ;; esac
log "setup-runtimes ${phase#--}: start"
if [ "$phase" != --runtimes ]; then
  ensure_packages
  ensure_rust
fi
[ "$phase" = --toolchain ] && { log "setup-runtimes toolchain: done"; exit 0; }
KEY="$(rootfs_key)"
build_tarballs
start_dockerd
start_docker_userns
start_containerd
configure_podman
import_into docker "$CDBG_DOCKER"
import_into docker-userns "$here/fixtures.sh" docker-userns-cli
import_into podman podman
import_into podman-rootless "$here/fixtures.sh" podman-rootless-cli
import_ctr
clean_stale
log "setup-runtimes ${phase#--}: done"
