# shellcheck shell=bash
# Shared helpers for cdbg's scripts (sourced, never executed).
#
# Environment normalisation: CI runs us with no stdin, no TERM/HOME, as root.

export HOME="${HOME:-/root}"
case ":${PATH:-}:" in
  *":$HOME/.cargo/bin:"*) ;;
  *) export PATH="$HOME/.cargo/bin:${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}" ;;
esac
case ":$PATH:" in *":/usr/sbin:"*) ;; *) export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" ;; esac
export DEBIAN_FRONTEND=noninteractive
# crates.io hiccups must not fail a run.
export CARGO_NET_RETRY="${CARGO_NET_RETRY:-10}"

# Where things live.
CDBG_LOG_DIR=/var/log/cdbg-ci
CDBG_CACHE_DIR=/var/cache/cdbg-ci
CDBG_RUN_DIR=/run/cdbg-ci
# The standalone containerd used for ctr and the Kubernetes-style fixtures.
# Its state/root are containerd's defaults (/run/containerd, /var/lib/containerd,
# the layout cdbg must discover) but its socket is NOT the default one: dockerd
# adopts a containerd listening on /run/containerd/containerd.sock, and we want
# dockerd to keep its own managed containerd (/run/docker/containerd/...).
export CONTAINERD_ADDRESS=/run/cdbg-containerd/containerd.sock
# The second Docker daemon.
CDBG_DOCKER2_HOST=unix:///run/cdbg-docker2/docker.sock
# The third, userns-remapped Docker daemon (--userns-remap=default).
CDBG_DOCKER_USERNS_HOST=unix:///run/cdbg-docker-userns/docker.sock
# Rootless podman user.
CDBG_RL_USER=cdbgrl
# Fixture image names.
CDBG_IMG_BB=cdbgt-bb:local
CDBG_IMG_SCRATCH=cdbgt-scratch:local

# The docker CLI that matches the packaged daemon (a newer CLI may shadow it in
# /usr/local/bin; it would work too, but keep one known client).
if [ -x /usr/bin/docker ]; then CDBG_DOCKER=/usr/bin/docker; else CDBG_DOCKER=docker; fi

: "${CDBG_T0:=$(date +%s)}"
export CDBG_T0

# close_extra_fds: close every inherited fd above 2 (except bash's own 255), so
# that no daemon started from here keeps a caller's pipe (a CI harness waiting
# for EOF, a test's pipe) or a lock open. Call it from a script, after sourcing.
close_extra_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd="${fd##*/}"
    case "$fd" in 0|1|2|255|'*') continue ;; esac
    eval "exec $fd>&-" 2>/dev/null || true
  done
}

# log MSG...: timestamped progress line on stderr ("[ci +12s] msg").
log() { printf '[ci +%ss] %s\n' "$(($(date +%s) - CDBG_T0))" "$*" >&2; }
warn() { printf '[ci +%ss] WARNING: %s\n' "$(($(date +%s) - CDBG_T0))" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# cdbg_target: the Rust target triple to build and test: musl when its
# standard library is installed, else the glibc target (static via
# +crt-static, see .cargo/config.toml).
cdbg_target() {
  local sysroot
  sysroot="$(rustc --print sysroot 2>/dev/null || true)"
  if [ -n "$sysroot" ] && [ -d "$sysroot/lib/rustlib/x86_64-unknown-linux-musl/lib" ]; then
    echo x86_64-unknown-linux-musl
  else
    echo x86_64-unknown-linux-gnu
  fi
}

# retry N CMD...: run CMD up to N times, 3 s apart.
retry() {
  local n="$1" i=1; shift
  until "$@"; do
    if [ "$i" -ge "$n" ]; then return 1; fi
    warn "attempt $i/$n failed: $*; retrying"
    i=$((i + 1)); sleep 3
  done
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
  local st
  st="$(sed -E 's/^.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ "$st" != Z ] && [ "$st" != X ]
}

# unfreeze PID: a test that froze a daemon (SIGSTOP) and died leaves it stopped.
unfreeze() {
  local st
  pid_alive "$1" || return 0
  st="$(sed -E 's/^.*\) (.).*/\1/' "/proc/$1/stat")"
  if [ "$st" = T ]; then warn "pid $1 ($(cat /proc/"$1"/comm)) was stopped: SIGCONT"; kill -CONT "$1" || true; fi
}

# stale_pidfile FILE COMM: remove FILE unless it names a live process called COMM.
stale_pidfile() {
  local f="$1" comm="$2" pid
  [ -e "$f" ] || return 0
  pid="$(cat "$f" 2>/dev/null || true)"
  if pid_alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then
    unfreeze "$pid"; return 0
  fi
  warn "removing stale pidfile $f (pid '${pid}' gone)"
  rm -f "$f"
}

# pidfile_alive FILE: FILE names a live process.
pidfile_alive() { [ -s "$1" ] && pid_alive "$(cat "$1" 2>/dev/null)"; }

# apt_install PKG...: install packages with retries, waiting for the dpkg lock.
CDBG_APT_UPDATED=0
apt_install() {
  if [ "$CDBG_APT_UPDATED" = 0 ]; then
    log "apt-get update"
    retry 5 apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 update -q >&2 || return 1
    CDBG_APT_UPDATED=1
  fi
  log "apt-get install $*"
  retry 3 apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 install -y -q "$@" >&2
}

# pkg_installed PKG: the Debian package is installed.
pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}
