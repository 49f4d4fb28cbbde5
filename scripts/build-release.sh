#!/usr/bin/env bash
# Build the release binary for the preferred target (musl when installed, else
# glibc +crt-static), check that it is fully static (no PT_INTERP, no
# DT_NEEDED), print its size and copy it to target/cdbg.
set -euo pipefail
exec </dev/null
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
cd "$here/.."

if ! command -v readelf >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "readelf missing (apt-get install binutils)"
  apt_install binutils || die "cannot install binutils"
fi

T="$(cdbg_target)"
log "cargo build --release --target $T"
cargo build --release --target "$T"
bin="target/$T/release/cdbg"
[ -x "$bin" ] || die "$bin was not built"

if readelf -lW "$bin" | grep -q 'INTERP'; then
  readelf -lW "$bin" | grep -A1 INTERP >&2
  die "$bin is not static: it has a PT_INTERP program header"
fi
if readelf -dW "$bin" | grep -q '(NEEDED)'; then
  readelf -dW "$bin" | grep '(NEEDED)' >&2
  die "$bin is not static: it needs shared libraries"
fi
size="$(stat -c %s "$bin")"
log "static binary OK: $bin, $size bytes ($(awk -v s="$size" 'BEGIN{printf "%.2f", s/1048576}') MiB)"
cp "$bin" target/cdbg.new
mv -f target/cdbg.new target/cdbg
log "copied to target/cdbg"
