#!/usr/bin/env bash
# Regenerates build/link-order.txt: the functions the cdbg client executes,
# which the release link (rust-lld, .cargo/config.toml) places together at
# the start of .text. The kernel maps 64 KiB of a binary around every page
# fault ("fault-around"), so with the default layout the few hundred
# functions a session runs, scattered over 6 MB of text, made ~4 MB of it
# resident; grouped, a few hundred KiB are.
#
# Not part of CI. Run it (as root, ~5 minutes) after changing dependencies
# or the Rust version or the release profile: the names carry hashes of the
# crate graph, the profile and the compiler. Names that no longer exist are ignored by the linker (the
# layout then slowly degrades; scripts/bench.sh shows the relay peak RSS).
#
# How: the release build as shipped (stripped) with lld's link map
# (target/release-link.map, .cargo/config.toml); a demo container; three
# client runs single-stepped through ptrace (scripts/trace-rips.c): a batch
# command by PID, a PTY command by PID, and a PTY command by name; the
# executed addresses mapped to function names through the link map
# (scripts/symbolize-rips.py). The next build relinks with the new order
# (build.rs).
set -euo pipefail
exec </dev/null
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
cd "$here/.."
[ "$(id -u)" = 0 ] || die "must run as root"
for t in cc readelf script python3; do
  command -v "$t" >/dev/null || die "needs $t"
done

T="$(cdbg_target)"
[ "$T" = x86_64-unknown-linux-musl ] || die "the ordered link is set up for the musl target only"
log "release build"
cargo build --release --target "$T"
bin="$PWD/target/$T/release/cdbg"
map="$PWD/target/release-link.map"
[ -s "$map" ] || die "no link map $map (see .cargo/config.toml)"
work="$(mktemp -d /tmp/cdbg-link-order.XXXXXX)"
demo=""
cleanup() {
  [ -n "$demo" ] && kill "$demo" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -o "$work/trace-rips" scripts/trace-rips.c

# The executable segment's address range.
read -r vaddr memsz < <(readelf -lW "$bin" | awk '$1 == "LOAD" && $8 == "E" { print $3, $6 }')
[ -n "$vaddr" ] || die "no executable segment in $bin"
lo="$(printf '%x' "$((vaddr))")"
hi="$(printf '%x' "$((vaddr + memsz))")"

mkfifo "$work/hold"
"$bin" demo --hold <"$work/hold" >"$work/pid" 2>/dev/null &
demo=$!
exec 3>"$work/hold"
for _ in $(seq 100); do [ -s "$work/pid" ] && break; sleep 0.1; done
pid="$(cat "$work/pid")"
name="$("$bin" ls | awk -v p="$pid" '$4 == p { print $3 }')"
[ -n "$pid" ] && [ -n "$name" ] || die "the demo container did not start"

trace() { # OUT ARG...: single-step `cdbg ARG...` under a PTY
  local out="$1"; shift
  log "tracing cdbg $*"
  script -qec "$(printf '%q ' "$work/trace-rips" "$lo" "$hi" "$out" "$bin" "$@")" /dev/null >/dev/null
}
trace "$work/batch" --pid "$pid" echo hi
trace "$work/pty" -t --pid "$pid" cat /proc/1/comm
trace "$work/name" -t "$name" true

mkdir -p build
python3 scripts/symbolize-rips.py "$map" "$work/batch" "$work/pty" "$work/name" >build/link-order.txt
log "build/link-order.txt: $(wc -l <build/link-order.txt) functions"
