#!/usr/bin/env bash
# Benchmark (not a test) of container discovery on a busy host.
#
#   scripts/bench-ls.sh [CONTAINERS [PROCESSES]]     defaults: 1000 20000
#
# Creates a synthetic load: CONTAINERS fake runc containers (state.json under
# /run/runc/cdbgb-NNNN, each with its own cgroup /cdbgb/cdbgb-NNNN holding an
# init and one child) plus host processes in 50 other cgroups, PROCESSES in
# total; then measures medians of
#   cdbg ls                      (and `docker ps` for comparison when dockerd runs)
#   cdbg NAME echo   vs   cdbg --pid PID echo
# and prints the figures. When the CLI does not have `ls` yet, the library
# calls (cdbg::target::list/resolve) are timed instead, through an ignored
# test of tests/discover.rs. Everything is removed on exit.
#
# Env: CDBG=path/to/cdbg (default: the release build if present, else debug),
#      RUNS (default 21),
#      BENCH_PROFILE=release times the library in a release test build,
#      BENCH_HOLD=1 keeps the load up (for profiling) until the file it names
#      on stderr is removed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
N="${1:-1000}"
P="${2:-20000}"
RUNS="${RUNS:-21}"
[ "$(id -u)" = 0 ] || { echo "bench-ls.sh: must run as root" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench-ls.sh: needs python3" >&2; exit 1; }

tdir=x86_64-unknown-linux-gnu
if [ -z "${CDBG:-}" ]; then
  if [ -x "$root/target/$tdir/release/cdbg" ]; then CDBG="$root/target/$tdir/release/cdbg"
  else CDBG="$root/target/$tdir/debug/cdbg"; fi
fi

CG=/sys/fs/cgroup
hier=()
for h in unified systemd freezer pids; do [ -d "$CG/$h" ] && hier+=("$CG/$h"); done
[ -f "$CG/cgroup.controllers" ] && hier=("$CG")   # pure cgroup v2
work="$(mktemp -d /tmp/cdbg-bench.XXXXXX)"
holder=""

cleanup() {
  set +e
  if [ -n "$holder" ]; then kill -TERM -- "-$holder" 2>/dev/null; sleep 0.5; kill -KILL -- "-$holder" 2>/dev/null; fi
  sleep 0.5
  rm -rf /run/runc/cdbgb-*
  for h in "${hier[@]}"; do
    for top in cdbgb cdbgb-host; do
      [ -d "$h/$top" ] || continue
      find "$h/$top" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
      rmdir "$h/$top" 2>/dev/null
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "creating $N containers and $P processes ..." >&2
t0=$(date +%s)
# The load generator: one process group (the holder) so cleanup kills all.
setsid python3 - "$N" "$P" "$work" "${hier[@]}" <<'PY' &
import os, sys, json, time
n, total, work, hier = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
BB = "/bin/busybox" if os.path.exists("/bin/busybox") else None
def sleeper():
    if BB:
        os.execv(BB, ["sleep", "100000000"])
    os.execvp("sleep", ["sleep", "100000000"])
def enter(rel):
    for h in hier:
        d = os.path.join(h, rel.strip("/"))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write("0")
def start_of(pid):
    s = open(f"/proc/{pid}/stat").read()
    return int(s[s.rindex(")") + 2:].split()[19])
count = 0
for i in range(n):
    cid = f"cdbgb-{i:04d}"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        enter(f"/cdbgb/{cid}")
        if os.fork() == 0:
            sleeper()
        os.write(w, b"x"); os.close(w)
        sleeper()
    os.close(w); os.read(r, 1); os.close(r)
    count += 2
    d = f"/run/runc/{cid}"
    os.makedirs(d, exist_ok=True)
    st = {"id": cid, "init_process_pid": pid, "init_process_start": start_of(pid),
          "created": "2026-12-06T00:00:00Z",
          "config": {"rootfs": f"/srv/bench/{cid}/rootfs",
                     "cgroups": {"path": f"/cdbgb/{cid}"},
                     "labels": [f"bundle=/srv/bench/{cid}"]}}
    with open(d + "/state.json", "w") as f:
        json.dump(st, f)
    if i == n // 2:
        open(work + "/name", "w").write(cid + " " + str(pid) + "\n")
k = 0
while count < total:
    pid = os.fork()
    if pid == 0:
        enter(f"/cdbgb-host/s{k % 50}")
        sleeper()
    k += 1
    count += 1
open(work + "/ready", "w").write("1")
while True:
    time.sleep(3600)
PY
holder=$!
while [ ! -f "$work/ready" ]; do
  kill -0 "$holder" 2>/dev/null || { echo "bench-ls.sh: load generator died" >&2; exit 1; }
  sleep 0.5
done
read -r NAME PID < "$work/name"
echo "load ready in $(( $(date +%s) - t0 )) s: $(ls /proc | grep -c '^[0-9]') processes on the host; target $NAME (pid $PID)" >&2

if [ -n "${BENCH_HOLD:-}" ]; then
  echo "holding the load; rm $work/ready to clean up" >&2
  while [ -f "$work/ready" ]; do sleep 1; done
  exit 0
fi

# median_ms CMD...: run RUNS times, print the median wall time in ms.
median_ms() {
  local i a b xs=()
  for ((i = 0; i < RUNS; i++)); do
    a=$(date +%s%N); "$@" >/dev/null 2>&1 </dev/null || true; b=$(date +%s%N)
    xs+=($(( (b - a) / 1000 )))
  done
  printf '%s\n' "${xs[@]}" | sort -n | awk '{v[NR]=$1} END {printf "%.1f", v[int((NR+1)/2)]/1000}'
}

if "$CDBG" ls 2>/dev/null | head -1 | grep -q RUNTIME; then
  rows=$("$CDBG" ls | wc -l)
  echo "cdbg ls: $rows lines; binary $CDBG"
  echo "median cdbg ls:              $(median_ms "$CDBG" ls) ms"
  echo "median cdbg ls --json:       $(median_ms "$CDBG" ls --json) ms"
  if "$CDBG" --pid "$PID" echo ok 2>/dev/null | grep -q ok; then
    echo "median cdbg $NAME echo:  $(median_ms "$CDBG" "$NAME" echo hi) ms"
    echo "median cdbg --pid $PID echo: $(median_ms "$CDBG" --pid "$PID" echo hi) ms"
  else
    echo "cdbg --pid PID echo does not work with this binary: skipped the NAME vs --pid figures"
  fi
else
  prof=()
  [ "${BENCH_PROFILE:-debug}" = release ] && prof=(--release)
  echo "this cdbg has no 'ls' yet: timing the library (${BENCH_PROFILE:-debug} test build) instead"
  (cd "$root" && CDBG_BENCH_NAME="$NAME" CDBG_BENCH_PID="$PID" CDBG_BENCH_RUNS="$RUNS" \
     cargo test -q "${prof[@]}" --test discover bench_library -- --ignored --nocapture 2>&1 | grep -E '^(median|list)') \
    | tee "$work/lib.txt"
  if "$CDBG" --pid "$PID" echo ok </dev/null 2>/dev/null | grep -q ok; then
    pid_ms=$(median_ms "$CDBG" --pid "$PID" echo hi)
    echo "median cdbg --pid $PID echo: $pid_ms ms ($CDBG)"
    name_ms=$(awk '/resolve NAME/ {print $4}' "$work/lib.txt")
    awk -v n="$name_ms" -v p="$pid_ms" 'BEGIN {printf "name resolution adds %.1f ms = %.1f%% to cdbg --pid PID echo\n", n, 100 * n / p}'
  fi
fi
if command -v docker >/dev/null && timeout 5 docker info >/dev/null 2>&1; then
  echo "median docker ps:            $(median_ms docker ps) ms  ($(docker ps -q | wc -l) containers)"
fi
