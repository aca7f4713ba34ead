#!/usr/bin/env bash
# Installs, from Debian packages, whatever the build, the server and the tests
# need and this machine lacks. Silent and fast (one dpkg query) when all is
# present; works as root or through sudo. Usage: scripts/bootstrap.sh [--tests|--runtime]
set -euo pipefail

# Build and run: compiler, CMake, and the libraries the design card names.
pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libsqlite3-dev
      libcjson-dev check libarchive-dev zlib1g-dev libssl-dev
      libcurl4-openssl-dev curl ca-certificates libpq-dev libxml2-dev)
# Tests add: clang + libFuzzer runtime (fuzz targets, sanitizers), llvm
# (llvm-pdbutil / llvm-readobj as oracles), the sqlite3 shell, python3 (a
# loopback symbol server), Chromium + Node for the browser tests, and wrk
# (the read-API benchmark smoke run); jq reads JSON in the shell tests;
# strace shows the server's fsync order (test_server_durability.sh);
# haproxy fronts two API servers in test_ops_scale_proxy.sh; python3-yaml
# reads docker/compose.scale.yaml in test_ops_scale_compose.sh; postgresql
# (initdb, pg_ctl, psql, pg_trgm) is the store the *_pg tests start for themselves;
# ceph-mon, ceph-osd and radosgw make the one-host, in-memory Ceph cluster
# whose S3 gateway the object-store tests start for themselves (s3_lib.sh).
# --runtime: only what the built server needs to run (the image's last stage).
if [[ "${1:-}" == "--runtime" ]]; then
  pkgs=(libmicrohttpd12 libsqlite3-0 libcjson1 libarchive13 zlib1g libssl3
        libcurl4 curl ca-certificates sqlite3 libpq5 libxml2)
fi
if [[ "${1:-}" == "--tests" ]]; then
  pkgs+=(clang libclang-rt-dev llvm sqlite3 python3 gzip zip gcab
         chromium time procps wrk jq strace haproxy python3-yaml postgresql
         ceph-mon ceph-osd radosgw ceph-common)
fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done
# Node may come from elsewhere (it ships its own npm); only its absence counts.
if [[ "${1:-}" == "--tests" ]] && ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
