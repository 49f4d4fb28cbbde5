#!/usr/bin/env bash
# The single command that runs every check and test of cdbg (README, CI):
#   installs/starts the runtimes (scripts/setup-runtimes.sh; the daemon and
#   image part runs in the background while compiling), then cargo fmt --check,
#   clippy -D warnings, the static release build (scripts/build-release.sh) and
#   cargo test (dev profile; the integration tests that use tests/common run
#   the shipped release binary through CDBG_BIN).
# Run as root. Extra arguments are passed to the test binaries (after --).
set -euo pipefail
exec </dev/null
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
close_extra_fds
root="$(cd "$here/.." && pwd)"
cd "$root"
[ "$(id -u)" = 0 ] || die "run as root (the tests enter namespaces and start containers)"

step() { log "== $*"; "$@"; }

# Toolchain first (a build needs gcc and Rust), then the runtimes in the background.
step "$here/setup-runtimes.sh" --toolchain
mkdir -p "$CDBG_LOG_DIR"
setup_log="$CDBG_LOG_DIR/setup-runtimes.log"
log "== setup-runtimes.sh --runtimes in the background (log $setup_log)"
"$here/setup-runtimes.sh" --runtimes >"$setup_log" 2>&1 &
setup_pid=$!
# Never leave the background setup running if we stop early.
trap 'kill "$setup_pid" 2>/dev/null || true' EXIT

step cargo fmt --check
step cargo clippy --all-targets -- -D warnings
step "$here/build-release.sh"

log "== waiting for setup-runtimes.sh --runtimes"
if ! wait "$setup_pid"; then
  cat "$setup_log" >&2
  die "setup-runtimes.sh --runtimes failed (log above)"
fi
trap - EXIT
sed 's/^/  | /' "$setup_log" >&2

T="$(cdbg_target)"
# What the tests can rely on.
export CDBG_BIN="$root/target/cdbg"
export CDBG_FIXTURES="$root/scripts/fixtures.sh"
export CDBG_ROOTFS_CACHE="$CDBG_CACHE_DIR"
# The release profile is fat-LTO (size first): linking every test binary that
# way would take far longer than the tests, so tests build in the dev
# profile; tests/common::cdbg() runs the release binary (CDBG_BIN).
step cargo test --no-fail-fast -- --test-threads=2 "$@"
log "all tests passed"
