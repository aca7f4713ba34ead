# s3_lib.sh — a real, private S3-compatible object store for one test
# (sourced): a throw-away single-host Ceph cluster (one monitor, one OSD
# keeping its objects in memory, no manager) with a radosgw in front of it,
# all from Debian's packages (ceph-mon ceph-osd radosgw ceph-common), every
# file, socket, log and pid under one temp directory, every daemon on a
# free loopback port, stopped and removed at s3_stop.  A fake S3 server
# would only test our idea of S3; radosgw is what real deployments run.
# Runs as root as well as as a user (Ceph daemons do not drop privileges
# unless told to).  Exits 77 (skip) when the Ceph binaries are not
# installed.
#
# s3_start — sets S3_DIR, S3_ENDPOINT (http://127.0.0.1:PORT, path-style),
# S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY and S3_BUCKET (created, empty);
# s3_curl ARGS… runs curl signed with SigV4 for that user (see below);
# s3_stop stops every daemon and removes S3_DIR.

for _s3_bin in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl python3; do
  if ! command -v "$_s3_bin" >/dev/null; then
    echo "SKIP: $_s3_bin not installed (apt install ceph-mon ceph-osd radosgw ceph-common curl)" >&2
    exit 77
  fi
done
unset _s3_bin
S3_DIR=""
S3_ENDPOINT=""
S3_REGION=us-east-1
S3_ACCESS_KEY=""
S3_SECRET_KEY=""
S3_BUCKET=""

# Two ports chosen by the kernel, then released: a small race with other
# tests, but nothing else on this host is told to use them.
_s3_free_ports() {
  python3 -c 'import socket
a = [socket.socket() for _ in range(2)]
for s in a: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in a))'
}

_s3_random() { # LEN CHARSET (tr syntax)
  local s
  s=$(LC_ALL=C tr -dc "$2" </dev/urandom 2>/dev/null | head -c "$1") || true
  echo "$s"
}

_s3_fail() {
  echo "s3_lib: $*" >&2
  local f
  for f in "$S3_DIR"/log/*.log; do
    if [[ -s $f ]]; then echo "--- $f (tail)" >&2; tail -n 20 "$f" >&2; fi
  done
  s3_stop
  exit 1
}

_s3_ceph() { timeout 30 ceph -c "$S3_DIR/ceph.conf" "$@"; }

s3_start() {
  S3_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dt-s3.XXXXXX")
  local d=$S3_DIR fsid mon_port rgw_port osd_uuid osd_id i
  mkdir -p "$d/run" "$d/log" "$d/mon/a" "$d/osd/0" "$d/rgw"
  fsid=$(cat /proc/sys/kernel/random/uuid)
  read -r mon_port rgw_port < <(_s3_free_ports)
  # memstore: the OSD keeps objects in RAM (1 GiB at most), nothing to
  # format, nothing left on disk.  Size 1 pools on the one OSD; only
  # msgr v2, only loopback.  No mon data avail limits: the monitor would
  # shut itself down below 5% free disk, which is not this test's business.
  # paxos propose interval 1 s -> 0.05 s: radosgw creates its six pools one
  # map change at a time, 2 s each at the default.  The OSD's --mkfs runs
  # with --no-mon-config: its key does not exist in the monitor yet.
  cat >"$d/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
auth allow insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
run dir = $d/run
admin socket = $d/run/\$name.asok
pid file = $d/run/\$name.pid
log file = $d/log/\$name.log
crash dir = $d/crash
keyring = $d/admin.keyring
log to stderr = false
err to stderr = false
mon data = $d/mon/\$id
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 0
mon data avail crit = 0
paxos propose interval = 0.05
mon allow pool delete = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
[osd]
osd data = $d/osd/\$id
keyring = $d/osd/\$id/keyring
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw.a]
keyring = $d/rgw.keyring
rgw data = $d/rgw
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
EOF
  ceph-authtool --create-keyring "$d/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null \
    && ceph-authtool --create-keyring "$d/admin.keyring" --gen-key -n client.admin \
      --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null \
    && ceph-authtool "$d/mon.keyring" --import-keyring "$d/admin.keyring" >/dev/null \
    && monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$d/monmap" >/dev/null \
    || _s3_fail "keyrings/monmap failed"
  ceph-mon -c "$d/ceph.conf" -i a --mkfs --monmap "$d/monmap" --keyring "$d/mon.keyring" \
    || _s3_fail "ceph-mon --mkfs failed"
  ceph-mon -c "$d/ceph.conf" -i a || _s3_fail "ceph-mon failed to start"
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(_s3_ceph osd new "$osd_uuid") || _s3_fail "ceph osd new failed"
  [[ $osd_id == 0 ]] || _s3_fail "unexpected osd id '$osd_id'"
  ceph-osd -c "$d/ceph.conf" -i 0 --mkfs --mkkey --no-mon-config --osd-uuid "$osd_uuid" >"$d/log/osd-mkfs.out" 2>&1 \
    || _s3_fail "ceph-osd --mkfs failed"
  _s3_ceph auth add osd.0 osd 'allow *' mon 'allow profile osd' mgr 'allow profile osd' \
    -i "$d/osd/0/keyring" >"$d/log/osd-auth.out" 2>&1 || _s3_fail "ceph auth add osd.0 failed: $(cat "$d/log/osd-auth.out")"
  ceph-osd -c "$d/ceph.conf" -i 0 || _s3_fail "ceph-osd failed to start"
  for ((i = 0; i < 600; i++)); do
    _s3_ceph osd dump 2>/dev/null | grep -q '^osd\.0 up' && break
    sleep 0.1
  done
  [[ $i -lt 600 ]] || _s3_fail "osd.0 not up"
  _s3_ceph auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' \
    -o "$d/rgw.keyring" >/dev/null 2>&1 || _s3_fail "rgw key failed"
  radosgw -c "$d/ceph.conf" -n client.rgw.a || _s3_fail "radosgw failed to start"
  S3_ENDPOINT=http://127.0.0.1:$rgw_port
  for ((i = 0; i < 600; i++)); do
    curl -s -o /dev/null "$S3_ENDPOINT/" && break
    sleep 0.1
  done
  [[ $i -lt 600 ]] || _s3_fail "radosgw not answering on $S3_ENDPOINT"
  S3_ACCESS_KEY=$(_s3_random 20 A-Z0-9)
  S3_SECRET_KEY=$(_s3_random 40 a-zA-Z0-9)
  timeout 60 radosgw-admin -c "$d/ceph.conf" -n client.admin user create --uid=dt --display-name=dt \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >"$d/user.json" 2>"$d/log/user-create.err" \
    || _s3_fail "radosgw-admin user create failed"
  S3_BUCKET=dt-test
  local code
  code=$(s3_curl -s -o "$d/log/mkbucket.out" -w '%{http_code}' -X PUT "$S3_ENDPOINT/$S3_BUCKET") \
    || _s3_fail "bucket create: curl failed"
  [[ $code == 200 ]] || _s3_fail "bucket create: HTTP $code $(cat "$d/log/mkbucket.out")"
}

# curl 7.88 signs the request but sends no x-amz-content-sha256, which
# radosgw requires for SigV4 (SignatureDoesNotMatch without it); when the
# header is given, curl signs it and uses its value as the payload hash.
# S3_CONTENT_SHA256 (the body's SHA-256 hex) makes radosgw check the body;
# unset, the body is sent as UNSIGNED-PAYLOAD.
s3_curl() {
  curl --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    -H "x-amz-content-sha256: ${S3_CONTENT_SHA256:-UNSIGNED-PAYLOAD}" "$@"
}

s3_stop() {
  if [[ -z $S3_DIR || ! -d $S3_DIR ]]; then return 0; fi
  local f pid pids=() i alive
  for f in "$S3_DIR"/run/*.pid; do
    if [[ -f $f ]]; then
      pid=$(cat "$f")
      if [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null; then pids+=("$pid"); fi
    fi
  done
  # SIGKILL at once: everything they hold is in S3_DIR or in memory and is
  # thrown away; a polite SIGTERM costs about 2 s per daemon.
  for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    if [[ $alive -eq 0 ]]; then break; fi
    sleep 0.1
  done
  rm -rf "$S3_DIR"
  S3_DIR=""
}
