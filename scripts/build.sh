#!/usr/bin/env bash
# scripts/build.sh — the one way this project is built: `./run`, `./test` and
# docker/Dockerfile all call it, so whatever CI proves about the build is what
# the image gets.  Quiet on success; on failure prints the last compiler
# messages (progress lines dropped) and exits 1.
#
#   scripts/build.sh BUILD_DIR [cmake -D args…]   configure + build (log: BUILD_DIR/build.log)
#   scripts/build.sh --install BUILD_DIR DESTDIR   stage the server for a package or image:
#       DESTDIR/usr/bin/dumptriage (the analyzer; `dumptriage serve` execs its
#       sibling) and DESTDIR/usr/bin/dumptriage-server (the server, which runs
#       its sibling dumptriage per analysis, and its helper dumptriage-unpack
#       for archives, .dmp.gz and symbol files) — they must stay side by side —,
#       DESTDIR/usr/share/dumptriage/{web,migrations},
#       DESTDIR/var/lib/dumptriage (the data directory, empty)
# Parallelism: DT_BUILD_JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --install ]]; then
  build=${2:?usage: scripts/build.sh --install BUILD_DIR DESTDIR}
  dest=${3:?usage: scripts/build.sh --install BUILD_DIR DESTDIR}
  for bin in dumptriage dumptriage-server dumptriage-unpack; do
    [[ -x $build/$bin ]] || { echo "build.sh: $build/$bin not built" >&2; exit 1; }
  done
  install -d "$dest/usr/bin" "$dest/usr/share/dumptriage" "$dest/var/lib/dumptriage"
  install -m 0755 "$build/dumptriage" "$build/dumptriage-server" "$build/dumptriage-unpack" "$dest/usr/bin/"
  rm -rf "$dest/usr/share/dumptriage/web" "$dest/usr/share/dumptriage/migrations"
  cp -R web "$dest/usr/share/dumptriage/web"
  cp -R migrations "$dest/usr/share/dumptriage/migrations"
  chmod -R a+rX,go-w "$dest/usr/share/dumptriage"
  exit 0
fi

build=${1:?usage: scripts/build.sh BUILD_DIR [cmake args…]}
shift
jobs=${DT_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
mkdir -p "$build"
if ! cmake -S . -B "$build" "$@" >"$build/configure.log" 2>&1; then
  tail -40 "$build/configure.log"
  echo "build.sh: cmake configure failed ($build)" >&2
  exit 1
fi
if ! cmake --build "$build" -j"$jobs" >"$build/build.log" 2>&1; then
  grep -Ev '^\[ *[0-9]+%\]' "$build/build.log" | tail -40
  echo "build.sh: build failed ($build)" >&2
  exit 1
fi
