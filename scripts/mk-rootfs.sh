#!/usr/bin/env bash
# Build a fixture root filesystem.
#
#   scripts/mk-rootfs.sh busybox DIR   busybox-static with every applet linked,
#                                      /etc/passwd (root, app=1000, nobody),
#                                      /etc/group (tty=5, ...), /usr present
#   scripts/mk-rootfs.sh scratch DIR   one static program /pause and nothing else
#                                      (sleeps in pause(), exits 0 on SIGTERM)
#
# DIR is created (it must not exist or be empty). Needs busybox-static resp. gcc
# + libc6-dev (scripts/setup-runtimes.sh installs them).
set -euo pipefail

usage() { echo "usage: $0 busybox|scratch DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
kind="$1" dir="$2"

find_static_busybox() {
  local b
  for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! readelf -lW "$b" 2>/dev/null | grep -q 'INTERP'; then
      echo "$b"; return 0
    fi
  done
  # readelf may be missing: trust the package.
  if dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null | grep -q '^installed$'; then
    command -v busybox; return 0
  fi
  return 1
}

build_pause() {
  local out="$1" tmp
  tmp="$(mktemp -d)"
  cat >"$tmp/pause.c" <<'C'
/* cdbg fixture: the only program of the "scratch" image. */
#include <signal.h>
#include <unistd.h>
static void on_term(int sig) { (void)sig; _exit(0); }
int main(void) {
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    for (;;) pause();
}
C
  gcc -static -Os -s -o "$out" "$tmp/pause.c"
  rm -rf "$tmp"
}

mkdir -p "$dir"
if [ -n "$(ls -A "$dir")" ]; then echo "$0: $dir is not empty" >&2; exit 1; fi

case "$kind" in
  busybox)
    bb="$(find_static_busybox)" || { echo "$0: no static busybox (apt-get install busybox-static)" >&2; exit 1; }
    mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,home/app,var/tmp,run}
    chmod 1777 "$dir/tmp" "$dir/var/tmp"
    chmod 700 "$dir/root"
    cp "$bb" "$dir/bin/busybox"
    # --list-full gives each applet's canonical path (bin/ls, usr/bin/wc, sbin/init ...).
    "$bb" --list-full | while read -r p; do
      [ "$p" = bin/busybox ] && continue
      mkdir -p "$dir/$(dirname "$p")"
      ln -sf /bin/busybox "$dir/$p"
    done
    cat >"$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
    cat >"$dir/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
users:x:100:app
app:x:1000:
nogroup:x:65534:
G
    printf 'root:*:19000:0:99999:7:::\napp:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$dir/etc/shadow"
    chmod 640 "$dir/etc/shadow"
    printf 'ID=cdbg-busybox\nNAME="cdbg busybox fixture"\n' >"$dir/etc/os-release"
    chown 1000:1000 "$dir/home/app"
    ;;
  scratch)
    build_pause "$dir/pause"
    ;;
  *) usage ;;
esac
