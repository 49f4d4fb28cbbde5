#!/usr/bin/env bash
# Real-runtime fixture containers for cdbg's tests.
#
#   scripts/fixtures.sh start RUNTIME KIND NAME   start a fresh container NAME (an
#                                                 existing one of that name is
#                                                 replaced); prints ONE line on
#                                                 stdout: the host PID of the
#                                                 container's init
#   scripts/fixtures.sh stop RUNTIME NAME         remove it (idempotent)
#   scripts/fixtures.sh check RUNTIME             exit 0 when RUNTIME is usable
#   scripts/fixtures.sh gc [all]                  remove stopped cdbgt-*/cdbg-test=1
#                                                 leftovers of every runtime
#                                                 (with "all", running ones too)
#
# RUNTIME: docker docker2 docker-userns podman podman-rootless ctr k8s runc lxc nspawn
# KIND:    bb (busybox image, init = sleep; lxc: busybox init) | scratch (one
#          static /pause program; nspawn adds an empty /usr, which it requires)
#
# Naming and layout (what the tests can rely on):
#   docker, docker2, podman, podman-rootless: container name NAME, images
#     cdbgt-bb:local / cdbgt-scratch:local (podman: localhost/...), label cdbg-test=1.
#     docker2's client: docker -H unix:///run/cdbg-docker2/docker.sock
#     (data root /var/lib/cdbg-docker2, exec root /run/cdbg-docker2/exec).
#     docker-userns: a third dockerd with --userns-remap=default (user dockremap,
#     /etc/subuid and /etc/subgid ranges); client
#     docker -H unix:///run/cdbg-docker-userns/docker.sock; data root
#     /var/lib/cdbg-docker-userns (containers under <root>/<uid>.<gid>/containers);
#     run its CLI with `scripts/fixtures.sh docker-userns-cli ARGS...`.
#   podman-rootless: user cdbgrl, XDG_RUNTIME_DIR=/run/user/<uid>; run its CLI
#     with `scripts/fixtures.sh podman-rootless-cli ARGS...`.
#   ctr: namespace "default", container ID NAME, label cdbg-test=1; containerd
#     socket /run/cdbg-containerd/containerd.sock (state in /run/containerd).
#   k8s: namespace k8s.io; pod NAME in Kubernetes namespace "default" with one
#     app container "app"; sandbox (pause, scratch image) ID = sha256("NAME/sandbox"),
#     app ID = sha256("NAME/app"); cgroups /kubepods/besteffort/pod<uid>/<id>;
#     CRI annotations io.kubernetes.cri.*; app joins the sandbox's net, ipc, uts ns.
#     The printed PID is the APP container's init.
#   runc: container ID NAME, bundle /run/cdbgt/bundles/NAME (config.json; root.path
#     = /var/lib/cdbgt/rootfs/runc-NAME), state /run/runc.
#   lxc: container NAME in /var/lib/lxc (bb: busybox template, init = busybox
#     init; scratch: hand-written config, lxc.init.cmd /pause), no network, unconfined.
#   nspawn: machine NAME, rootfs /var/lib/cdbgt/nspawn/NAME, init = sleep or pause;
#     supervisor PID in /run/cdbgt/nspawn/NAME/pid.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
close_extra_fds

LONG_SLEEP=999999999
FIX_DIR=/run/cdbgt
# Root filesystems live on disk, not in /run (tmpfs: may be small or noexec).
FIX_DATA=/var/lib/cdbgt
TARS="$CDBG_CACHE_DIR"

fail() { printf 'fixtures.sh: %s\n' "$*" >&2; exit 1; }

# locked NAME FUNC ARGS...: run one of this script's functions under an
# exclusive lock (tests start fixtures in parallel; daemon start-up and image
# imports must not race). flock -o: the lock fd is NOT inherited by FUNC, so a
# daemon it starts (dockerd, podman's pause process) cannot hold the lock forever.
locked() {
  local name="$1"; shift
  mkdir -p "$CDBG_RUN_DIR"
  flock -o -w 300 "$CDBG_RUN_DIR/$name.lock" "${BASH_SOURCE[0]}" __call "$@" \
    || fail "$* failed (or timed out waiting for lock $name)"
}

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------- helpers
# nspid_is_init PID: PID is PID 1 of a pid namespace below ours.
nspid_is_init() {
  local l
  l="$(grep '^NSpid:' "/proc/$1/status" 2>/dev/null)" || return 1
  set -- $l
  [ $# -ge 3 ] && [ "${!#}" = 1 ]
}

# wait_init PID_CMD COMM [COMM...]: poll (max 30 s) until `eval PID_CMD` prints
# a live PID whose comm is one of COMM and that is PID 1 of its own pid
# namespace; then print it.
wait_init() {
  local cmd="$1"; shift
  local deadline=$(($(date +%s) + 30)) pid comm c last=""
  while :; do
    pid="$(eval "$cmd" 2>/dev/null | head -1 | tr -d '[:space:]')" || pid=""
    if [ -n "$pid" ] && [ "$pid" != 0 ] && pid_alive "$pid"; then
      comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
      last="pid $pid comm '$comm'"
      for c in "$@"; do
        if [ "$comm" = "$c" ] && nspid_is_init "$pid"; then echo "$pid"; return 0; fi
      done
    fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timeout after 30 s waiting for init (${last:-no pid}; want comm $*)" >&2; return 1; }
    sleep 0.1
  done
}

# descendant_init PID: the first descendant of PID that is PID 1 of a pid ns.
descendant_init() {
  local root="$1" p
  local -A kids=()
  local queue=("$root")
  while read -r p pp; do kids[$pp]+="$p "; done < <(ps -e -o pid=,ppid=)
  while [ ${#queue[@]} -gt 0 ]; do
    p="${queue[0]}"; queue=("${queue[@]:1}")
    if [ "$p" != "$root" ] && nspid_is_init "$p"; then echo "$p"; return 0; fi
    # shellcheck disable=SC2206
    queue+=(${kids[$p]:-})
  done
  return 1
}

tarball() {
  case "$1" in
    bb) echo "$TARS/busybox.tar" ;;
    scratch) echo "$TARS/scratch.tar" ;;
    *) fail "unknown KIND '$1' (bb or scratch)" ;;
  esac
}
image() { case "$1" in bb) echo "$CDBG_IMG_BB" ;; scratch) echo "$CDBG_IMG_SCRATCH" ;; *) fail "unknown KIND '$1'" ;; esac; }
init_comm() { case "$1" in bb) echo sleep ;; scratch) echo pause ;; esac; }

need_setup() {
  [ -e "$TARS/busybox.tar" ] && [ -e "$TARS/scratch.tar" ] \
    || fail "fixture tarballs missing in $TARS: run scripts/setup-runtimes.sh first"
}

# ---------------------------------------------------------------- docker / docker2
D2_ROOT=/var/lib/cdbg-docker2
D2_RUN=/run/cdbg-docker2
D2_BRIDGE=cdbg-br2
D2_LOG="$CDBG_LOG_DIR/dockerd2.log"

dk() { "$CDBG_DOCKER" "$@"; }
dk2() { "$CDBG_DOCKER" -H "$CDBG_DOCKER2_HOST" "$@"; }

# extra_dockerd NAME HOST ROOT RUN BRIDGE CIDR LOG [DOCKERD-ARGS...]: start a
# further dockerd with its own data root, exec root, socket and bridge (a
# second daemon with --bridge none would delete docker0), unless it answers.
extra_dockerd() {
  local name="$1" host="$2" root="$3" run="$4" br="$5" cidr="$6" log="$7"
  shift 7
  mkdir -p "$root" "$run/exec" "$CDBG_LOG_DIR"
  stale_pidfile "$run/docker.pid" dockerd
  stale_pidfile "$run/exec/containerd/containerd.pid" containerd
  if ! pidfile_alive "$run/docker.pid"; then
    if ! ip link show "$br" >/dev/null 2>&1; then
      ip link add "$br" type bridge
      ip addr add "$cidr" dev "$br"
    fi
    ip link set "$br" up
    echo "starting $name (log $log)" >&2
    setsid dockerd "$@" --data-root "$root" --exec-root "$run/exec" --pidfile "$run/docker.pid" \
      --host "$host" --bridge "$br" \
      --iptables=false --ip-forward=false --ip-masq=false \
      >>"$log" 2>&1 </dev/null &
  fi
  wait_for 60 timeout 10 "$CDBG_DOCKER" -H "$host" info \
    || { tail -n 20 "$log" >&2; fail "$name not ready after 60 s (log $log)"; }
}

docker2_up() {
  if timeout 10 "$CDBG_DOCKER" -H "$CDBG_DOCKER2_HOST" info >/dev/null 2>&1; then return 0; fi
  extra_dockerd "second dockerd" "$CDBG_DOCKER2_HOST" "$D2_ROOT" "$D2_RUN" "$D2_BRIDGE" \
    172.31.250.1/24 "$D2_LOG"
}

# The userns-remapped daemon: same recipe as docker2, plus --userns-remap.
D3_ROOT=/var/lib/cdbg-docker-userns
D3_RUN=/run/cdbg-docker-userns
D3_BRIDGE=cdbg-br3
D3_LOG="$CDBG_LOG_DIR/dockerd-userns.log"
D3_USER=dockremap

dk3() { "$CDBG_DOCKER" -H "$CDBG_DOCKER_USERNS_HOST" "$@"; }

# subid_add USER: give USER 65536 subordinate uids and gids after the highest
# range in use, unless it has some (dockerd would try usermod -v itself; doing
# it here makes the outcome the same on every machine).
subid_add() {
  local f start
  for f in /etc/subuid /etc/subgid; do
    touch "$f"
    grep -q "^$1:" "$f" && continue
    start="$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")"
    echo "$1:$start:65536" >>"$f"
    echo "added $1:$start:65536 to $f" >&2
  done
}

docker_userns_up() {
  if timeout 10 "$CDBG_DOCKER" -H "$CDBG_DOCKER_USERNS_HOST" info >/dev/null 2>&1; then return 0; fi
  command -v dockerd >/dev/null || fail "dockerd is not installed (run scripts/setup-runtimes.sh)"
  if ! id "$D3_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /bin/false "$D3_USER" || fail "useradd $D3_USER failed"
  fi
  subid_add "$D3_USER"
  extra_dockerd "userns-remap dockerd" "$CDBG_DOCKER_USERNS_HOST" "$D3_ROOT" "$D3_RUN" \
    "$D3_BRIDGE" 172.31.251.1/24 "$D3_LOG" --userns-remap=default
}

# docker_images CLI...: import the fixture images if missing.
docker_images() {
  local kind img
  for kind in bb scratch; do
    img="$(image "$kind")"
    "$@" image inspect "$img" >/dev/null 2>&1 && continue
    need_setup
    if [ "$kind" = bb ]; then
      "$@" import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c "CMD [\"/bin/sleep\",\"$LONG_SLEEP\"]" -c 'LABEL cdbg-test=1' - "$img" <"$(tarball bb)" >/dev/null
    else
      "$@" import -c 'CMD ["/pause"]' -c 'LABEL cdbg-test=1' - "$img" <"$(tarball scratch)" >/dev/null
    fi
  done
}

docker_like_start() { # CLI-FUNC KIND NAME [extra run args...]
  local cli="$1" kind="$2" name="$3"; shift 3
  case "$cli" in
    pm|pmrl) "$cli" rm -f -t 0 "$name" >/dev/null 2>&1 || true ;;
    *) "$cli" rm -f "$name" >/dev/null 2>&1 || true ;;
  esac
  "$cli" run -d --name "$name" --label cdbg-test=1 --hostname "$name" "$@" "$(image "$kind")" >/dev/null \
    || fail "$cli run $name failed"
  wait_init "$cli inspect -f '{{.State.Pid}}' '$name'" "$(init_comm "$kind")"
}

# ---------------------------------------------------------------- podman
RL_UID() { id -u "$CDBG_RL_USER"; }
pm() { podman "$@"; }
pmrl() {
  local uid home
  uid="$(id -u "$CDBG_RL_USER")" || fail "rootless user $CDBG_RL_USER missing: run scripts/setup-runtimes.sh"
  home="$(getent passwd "$CDBG_RL_USER" | cut -d: -f6)"
  mkdir -p "/run/user/$uid"; chown "$uid:$uid" "/run/user/$uid"; chmod 700 "/run/user/$uid"
  (cd / && setpriv --reuid="$uid" --regid="$(id -g "$CDBG_RL_USER")" --init-groups \
    env -i HOME="$home" USER="$CDBG_RL_USER" LOGNAME="$CDBG_RL_USER" \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin XDG_RUNTIME_DIR="/run/user/$uid" \
    podman "$@")
}

podman_ulimits() {
  local n; n="$(ulimit -Hn)"; [ "$n" = unlimited ] && n=1048576
  echo "--ulimit=nofile=$n:$n --ulimit=nproc=32768:32768"
}

# ---------------------------------------------------------------- containerd (ctr, k8s)
ctr_ok() { [ -S "$CONTAINERD_ADDRESS" ] && timeout 10 ctr --connect-timeout 3s version >/dev/null 2>&1; }
ctr_rm() { # NS ID
  local ns="$1" id="$2"
  if ctr -n "$ns" tasks ls -q 2>/dev/null | grep -qx "$id"; then
    ctr -n "$ns" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    for _ in $(seq 50); do
      ctr -n "$ns" tasks ls 2>/dev/null | awk -v id="$id" '$1==id {print $3}' | grep -q RUNNING || break
      sleep 0.1
    done
    ctr -n "$ns" tasks rm -f "$id" >/dev/null 2>&1 || true
  fi
  if ctr -n "$ns" containers ls -q 2>/dev/null | grep -qx "$id"; then
    ctr -n "$ns" containers rm "$id" >/dev/null 2>&1 \
      || { ctr -n "$ns" snapshots rm "$id" >/dev/null 2>&1 || true; ctr -n "$ns" containers rm "$id" >/dev/null 2>&1 || true; }
  fi
}
ctr_pid() { ctr -n "$1" tasks ls 2>/dev/null | awk -v id="$2" '$1==id && $3=="RUNNING" {print $2}'; }
ctr_ref() { echo "docker.io/library/$(image "$1")"; }

ctr_images() { # NS
  local kind
  for kind in bb scratch; do
    ctr -n "$1" images ls -q 2>/dev/null | grep -qx "$(ctr_ref "$kind")" && continue
    dk image inspect "$(image "$kind")" >/dev/null 2>&1 || docker_images dk
    dk save "$(image "$kind")" | ctr -n "$1" images import - >/dev/null
  done
}

hexid() { printf '%s' "$1" | sha256sum | cut -c1-64; }
poduid() { local h; h="$(hexid "$1/pod")"; echo "${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"; }

k8s_start() { # KIND NAME
  local kind="$1" name="$2" sid cid uid spid cg
  sid="$(hexid "$name/sandbox")"; cid="$(hexid "$name/app")"; uid="$(poduid "$name")"
  locked images-ctr-k8s ctr_images k8s.io
  k8s_stop "$name"
  cg="/kubepods/besteffort/pod$uid"
  # ctr copies --label values into the OCI annotations too, so only cdbg-test=1
  # is added beside what containerd's CRI plugin itself writes.
  local common=(--label cdbg-test=1
    --annotation "io.kubernetes.cri.sandbox-id=$sid"
    --annotation "io.kubernetes.cri.sandbox-name=$name"
    --annotation "io.kubernetes.cri.sandbox-namespace=default"
    --annotation "io.kubernetes.cri.sandbox-uid=$uid")
  ctr -n k8s.io run -d --null-io "${common[@]}" \
    --annotation io.kubernetes.cri.container-type=sandbox \
    --annotation "io.kubernetes.cri.sandbox-log-directory=/var/log/pods/default_${name}_$uid" \
    --cgroup "$cg/$sid" "$(ctr_ref scratch)" "$sid" >/dev/null \
    || fail "ctr run of the k8s sandbox for $name failed"
  spid="$(wait_init "ctr_pid k8s.io $sid" pause)" || fail "k8s sandbox of $name did not start"
  ctr -n k8s.io run -d --null-io "${common[@]}" \
    --annotation io.kubernetes.cri.container-type=container \
    --annotation io.kubernetes.cri.container-name=app \
    --annotation "io.kubernetes.cri.image-name=$(ctr_ref "$kind")" \
    --with-ns "network:/proc/$spid/ns/net" --with-ns "ipc:/proc/$spid/ns/ipc" \
    --with-ns "uts:/proc/$spid/ns/uts" \
    --cgroup "$cg/$cid" "$(ctr_ref "$kind")" "$cid" >/dev/null \
    || fail "ctr run of the k8s app container for $name failed"
  wait_init "ctr_pid k8s.io $cid" "$(init_comm "$kind")"
}
k8s_stop() { ctr_rm k8s.io "$(hexid "$1/app")"; ctr_rm k8s.io "$(hexid "$1/sandbox")"; }

# ---------------------------------------------------------------- runc
runc_start() { # KIND NAME
  local kind="$1" name="$2" b="$FIX_DIR/bundles/$2" r="$FIX_DATA/rootfs/runc-$2" args
  need_setup
  runc_stop "$name"
  mkdir -p "$b" "$r"
  tar -C "$r" -xf "$(tarball "$kind")"
  if [ "$kind" = bb ]; then args="[\"/bin/sleep\",\"$LONG_SLEEP\"]"; else args='["/pause"]'; fi
  (cd "$b" && runc spec)
  jq --argjson a "$args" --arg h "$name" --arg r "$r" \
    '.process.terminal=false | .process.args=$a | .hostname=$h | .root.path=$r | .root.readonly=false
     | .annotations={"cdbg-test":"1"}' "$b/config.json" >"$b/config.json.new"
  mv "$b/config.json.new" "$b/config.json"
  (cd "$b" && runc run -d "$name" </dev/null >>"$CDBG_LOG_DIR/runc-$name.log" 2>&1) \
    || { tail -5 "$CDBG_LOG_DIR/runc-$name.log" >&2; fail "runc run $name failed"; }
  wait_init "runc state '$name' | jq -r .pid" "$(init_comm "$kind")"
}
runc_stop() {
  local pid
  if runc state "$1" >/dev/null 2>&1; then
    pid="$(runc state "$1" 2>/dev/null | jq -r '.pid // 0')"
    runc kill "$1" KILL >/dev/null 2>&1 || true
    runc delete -f "$1" >/dev/null 2>&1 || true
    for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
  fi
  rm -rf "${FIX_DIR:?}/bundles/$1" "${FIX_DATA:?}/rootfs/runc-$1"
}

# ---------------------------------------------------------------- lxc
lxc_start() { # KIND NAME
  local kind="$1" name="$2" conf want=init
  lxc_stop "$name"
  mkdir -p "$FIX_DIR"
  if [ "$kind" = bb ]; then
    # The busybox template (offline): busybox init, host /lib and /usr/lib bound read-only.
    conf="$FIX_DIR/lxc-$name.conf"
    printf 'lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n' >"$conf"
    lxc-create -n "$name" -t busybox -f "$conf" </dev/null >>"$CDBG_LOG_DIR/lxc-$name.log" 2>&1 \
      || { tail -5 "$CDBG_LOG_DIR/lxc-$name.log" >&2; fail "lxc-create $name failed"; }
  else
    # No template makes a scratch container: write the container by hand.
    need_setup
    local d="/var/lib/lxc/$name"
    mkdir -p "$d/rootfs"
    tar -C "$d/rootfs" -xf "$(tarball scratch)"
    cat >"$d/config" <<CONF
# cdbg scratch fixture (written by scripts/fixtures.sh)
lxc.uts.name = $name
lxc.rootfs.path = dir:$d/rootfs
lxc.init.cmd = /pause
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.autodev = 1
lxc.tty.max = 0
lxc.pty.max = 1
lxc.cap.drop = sys_module mac_admin mac_override sys_time
CONF
    want=pause
  fi
  lxc-start -n "$name" -d -L "$CDBG_LOG_DIR/lxc-$name.console" -o "$CDBG_LOG_DIR/lxc-$name.log" \
    </dev/null >>"$CDBG_LOG_DIR/lxc-$name.log" 2>&1 \
    || { tail -5 "$CDBG_LOG_DIR/lxc-$name.log" >&2; fail "lxc-start $name failed"; }
  wait_init "lxc-info -n '$name' -p -H" "$want"
}
lxc_stop() {
  if lxc-info -n "$1" >/dev/null 2>&1; then
    lxc-stop -n "$1" -k >/dev/null 2>&1 || true
    lxc-destroy -n "$1" -f >/dev/null 2>&1 || lxc-destroy -n "$1" >/dev/null 2>&1 || true
  fi
  rm -f "$FIX_DIR/lxc-$1.conf"
}

# ---------------------------------------------------------------- systemd-nspawn
nspawn_start() { # KIND NAME
  local kind="$1" name="$2" d="$FIX_DIR/nspawn/$2" r="$FIX_DATA/nspawn/$2" pid cmd
  need_setup
  nspawn_stop "$name"
  mkdir -p "$d" "$r"
  tar -C "$r" -xf "$(tarball "$kind")"
  if [ "$kind" = bb ]; then cmd=(/bin/sleep "$LONG_SLEEP")
  else cmd=(/pause); mkdir -p "$r/usr"; fi  # nspawn refuses a tree without /usr
  setsid systemd-nspawn --register=no --keep-unit --console=pipe -q -M "$name" -D "$r" \
    "${cmd[@]}" </dev/null >>"$CDBG_LOG_DIR/nspawn-$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$d/pid"
  wait_init "descendant_init $pid" "$(init_comm "$kind")" \
    || { tail -5 "$CDBG_LOG_DIR/nspawn-$name.log" >&2; fail "systemd-nspawn $name did not start"; }
}
nspawn_stop() {
  local d="$FIX_DIR/nspawn/$1" pid
  if [ -s "$d/pid" ]; then
    pid="$(cat "$d/pid")"
    if pid_alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd-nspawn ]; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
      pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 20); do pid_alive "$pid" || break; sleep 0.1; done
    fi
  fi
  rm -rf "${FIX_DIR:?}/nspawn/$1" "${FIX_DATA:?}/nspawn/$1"
}

# ---------------------------------------------------------------- dispatch
cmd_check() {
  case "$1" in
    docker) timeout 10 "$CDBG_DOCKER" info >/dev/null 2>&1 ;;
    docker2) command -v dockerd >/dev/null && locked docker2 docker2_up ;;
    docker-userns) command -v dockerd >/dev/null && locked docker-userns docker_userns_up ;;
    podman) command -v podman >/dev/null && timeout 30 podman info >/dev/null 2>&1 ;;
    podman-rootless) id "$CDBG_RL_USER" >/dev/null 2>&1 && timeout 30 "${BASH_SOURCE[0]}" podman-rootless-cli info >/dev/null 2>&1 ;;
    ctr|k8s) ctr_ok ;;
    runc) command -v runc >/dev/null && command -v jq >/dev/null ;;
    lxc) command -v lxc-create >/dev/null && [ -e /usr/share/lxc/templates/lxc-busybox ] ;;
    nspawn) command -v systemd-nspawn >/dev/null ;;
    *) fail "unknown RUNTIME '$1'" ;;
  esac
}

cmd_start() {
  local rt="$1" kind="$2" name="$3"
  [ -n "$name" ] || fail "empty NAME"
  case "$kind" in bb|scratch) ;; *) fail "unknown KIND '$kind' (bb or scratch)" ;; esac
  mkdir -p "$CDBG_LOG_DIR" "$FIX_DIR"
  case "$rt" in
    docker)
      timeout 10 "$CDBG_DOCKER" info >/dev/null 2>&1 || fail "docker is not usable (run scripts/setup-runtimes.sh)"
      locked images-docker docker_images dk
      docker_like_start dk "$kind" "$name" ;;
    docker2)
      locked docker2 docker2_up; locked images-docker2 docker_images dk2
      docker_like_start dk2 "$kind" "$name" ;;
    docker-userns)
      locked docker-userns docker_userns_up; locked images-docker-userns docker_images dk3
      docker_like_start dk3 "$kind" "$name" ;;
    podman)
      locked images-podman docker_images pm
      # shellcheck disable=SC2046
      docker_like_start pm "$kind" "$name" --runtime runc $(podman_ulimits) ;;
    podman-rootless)
      locked images-podman-rootless docker_images pmrl
      # shellcheck disable=SC2046
      docker_like_start pmrl "$kind" "$name" --runtime runc --network none $(podman_ulimits) ;;
    ctr)
      ctr_ok || fail "containerd is not usable at $CONTAINERD_ADDRESS (run scripts/setup-runtimes.sh)"
      locked images-ctr-default ctr_images default
      ctr_rm default "$name"
      ctr -n default run -d --null-io --label cdbg-test=1 "$(ctr_ref "$kind")" "$name" >/dev/null \
        || fail "ctr run $name failed"
      wait_init "ctr_pid default '$name'" "$(init_comm "$kind")" ;;
    k8s)
      ctr_ok || fail "containerd is not usable at $CONTAINERD_ADDRESS (run scripts/setup-runtimes.sh)"
      k8s_start "$kind" "$name" ;;
    runc) runc_start "$kind" "$name" ;;
    lxc) lxc_start "$kind" "$name" ;;
    nspawn) nspawn_start "$kind" "$name" ;;
    *) fail "unknown RUNTIME '$rt'" ;;
  esac
}

cmd_stop() {
  local rt="$1" name="$2"
  case "$rt" in
    docker) dk rm -f "$name" >/dev/null 2>&1 || true ;;
    docker2) if timeout 10 "$CDBG_DOCKER" -H "$CDBG_DOCKER2_HOST" info >/dev/null 2>&1; then dk2 rm -f "$name" >/dev/null 2>&1 || true; fi ;;
    docker-userns) if timeout 10 "$CDBG_DOCKER" -H "$CDBG_DOCKER_USERNS_HOST" info >/dev/null 2>&1; then dk3 rm -f "$name" >/dev/null 2>&1 || true; fi ;;
    podman) pm rm -f -t 0 "$name" >/dev/null 2>&1 || true ;;
    podman-rootless) pmrl rm -f -t 0 "$name" >/dev/null 2>&1 || true ;;
    ctr) ctr_ok && ctr_rm default "$name" ;;
    k8s) ctr_ok && k8s_stop "$name" ;;
    runc) runc_stop "$name" ;;
    lxc) lxc_stop "$name" ;;
    nspawn) nspawn_stop "$name" ;;
    *) fail "unknown RUNTIME '$rt'" ;;
  esac
  return 0
}

# gc [all]: remove leftovers (cdbgt-* names or label cdbg-test=1). With "all"
# (CI, where every earlier process was killed) every one of them; without it
# only exited/dead/stopped ones. Never run "all" on a machine where someone
# else's tests are running.
cmd_gc() {
  local all="${1:-0}" id st name ns cli
  [ "$all" = all ] && all=1
  for cli in dk dk2 dk3 pm pmrl; do
    case "$cli" in
      dk) timeout 10 "$CDBG_DOCKER" info >/dev/null 2>&1 || continue ;;
      dk2) timeout 5 "$CDBG_DOCKER" -H "$CDBG_DOCKER2_HOST" info >/dev/null 2>&1 || continue ;;
      dk3) timeout 5 "$CDBG_DOCKER" -H "$CDBG_DOCKER_USERNS_HOST" info >/dev/null 2>&1 || continue ;;
      pm) command -v podman >/dev/null || continue ;;
      pmrl) id "$CDBG_RL_USER" >/dev/null 2>&1 || continue ;;
    esac
    # docker's {{.State}} is one word ("running"); podman 4.3's is the human
    # status ("Up 2 minutes ago", "Exited (0) ...", "Created"): use its first word.
    { "$cli" ps -a --filter label=cdbg-test=1 --format '{{.ID}} {{.Names}} {{.State}}' 2>/dev/null
      "$cli" ps -a --filter name=cdbgt- --format '{{.ID}} {{.Names}} {{.State}}' 2>/dev/null; } \
      | sort -u | while read -r id name st _; do
        [ -n "$id" ] || continue
        st="$(printf '%s' "$st" | tr '[:upper:]' '[:lower:]')"
        case "$st" in
          exited|dead|stopped) ;;
          *) [ "$all" = 1 ] || continue ;;
        esac
        echo "gc: $cli rm $name ($st)" >&2
        case "$cli" in pm|pmrl) "$cli" rm -f -t 0 "$id" >/dev/null 2>&1 || true ;;
          *) "$cli" rm -f "$id" >/dev/null 2>&1 || true ;; esac
      done
  done
  if ctr_ok; then
    for ns in default k8s.io; do
      ctr -n "$ns" containers ls -q 2>/dev/null | while read -r id; do
        [ -n "$id" ] || continue
        case "$id" in cdbgt-*) ;; *)
          ctr -n "$ns" containers info "$id" 2>/dev/null | jq -e '.Labels["cdbg-test"]=="1"' >/dev/null || continue ;;
        esac
        st="$(ctr -n "$ns" tasks ls 2>/dev/null | awk -v id="$id" '$1==id {print $3}')"
        if [ "$all" = 1 ] || [ "$st" = STOPPED ]; then
          echo "gc: ctr -n $ns rm $id (${st:-no task})" >&2; ctr_rm "$ns" "$id"
        fi
      done
    done
  fi
  if command -v runc >/dev/null; then
    runc list -f json 2>/dev/null | jq -r '.[]? | "\(.id) \(.status)"' | while read -r id st; do
      case "$id" in cdbgt-*) ;; *) continue ;; esac
      if [ "$all" = 1 ] || [ "$st" = stopped ]; then echo "gc: runc rm $id ($st)" >&2; runc_stop "$id"; fi
    done
  fi
  if command -v lxc-ls >/dev/null; then
    lxc-ls -1 2>/dev/null | while read -r name; do
      case "$name" in cdbgt-*) ;; *) continue ;; esac
      st="$(lxc-info -n "$name" -s -H 2>/dev/null || true)"
      if [ "$all" = 1 ]; then echo "gc: lxc rm $name ($st)" >&2; lxc_stop "$name"; fi
    done
  fi
  for d in "$FIX_DIR"/nspawn/*/; do
    [ -d "$d" ] || continue
    name="$(basename "$d")"
    if [ "$all" = 1 ] || { [ -s "$d/pid" ] && ! pidfile_alive "$d/pid"; }; then echo "gc: nspawn rm $name" >&2; nspawn_stop "$name"; fi
  done
  if [ "$all" = 1 ]; then
    # Root filesystems whose container state is gone (e.g. /run was cleared).
    for d in "$FIX_DATA"/nspawn/*/; do
      [ -d "$d" ] && [ ! -d "$FIX_DIR/nspawn/$(basename "$d")" ] && rm -rf "$d"
    done
    for d in "$FIX_DATA"/rootfs/runc-*/; do
      [ -d "$d" ] || continue
      name="$(basename "$d")"; name="${name#runc-}"
      runc state "$name" >/dev/null 2>&1 || rm -rf "$d"
    done
  fi
  return 0
}

[ $# -ge 1 ] || usage
[ "$(id -u)" = 0 ] || fail "must run as root"
sub="$1"; shift
case "$sub" in
  start) [ $# -eq 3 ] || usage; cmd_start "$@" </dev/null ;;
  stop) [ $# -eq 2 ] || usage; cmd_stop "$@" </dev/null ;;
  check) [ $# -eq 1 ] || usage; cmd_check "$1" </dev/null ;;
  gc) cmd_gc "${1:-0}" </dev/null ;;
  podman-rootless-cli) pmrl "$@" ;;
  docker-userns-cli) dk3 "$@" ;;
  __call) "$@" </dev/null ;;  # internal: see locked()
  -h|--help|help) usage ;;
  *) usage ;;
esac
