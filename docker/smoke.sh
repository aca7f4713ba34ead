#!/usr/bin/env bash
# docker/smoke.sh — builds the image and checks it the way an operator would
# use it, where a Docker engine runs (CI has none: there
# tests/integration/test_ops_dockerfile.sh checks the recipe instead).
#   1. build from a clean clone of HEAD (so no build tree or data enters the
#      context), 2. run it with the hardening of compose.yaml (read-only root,
#      tmpfs /tmp, no capabilities, no-new-privileges) and wait for "healthy",
#   3. upload the paired case and a user-only dump with curl and check their
#      verdicts, 4. `docker stop` (SIGTERM to the server, which is PID 1 in
#      the container) must drain and exit 0, 5. start again: the uploads are
#      still there, 6. the backup command inside the container.
# Usage: docker/smoke.sh [IMAGE_TAG]   (uses host networking and port 8080)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-dumptriage:smoke}
token=smoke-admin-token-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
work=$(mktemp -d)
name=dt-smoke-$$
vol=dt-smoke-$$
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; docker volume rm "$vol" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

git clone -q "$here" "$work/src"
(cd "$work/src" && DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build --network=host -q -f docker/Dockerfile -t "$tag" . >/dev/null)
echo "smoke: built $tag ($(docker image inspect "$tag" --format '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}'))"

run() {
  docker run -d --name "$name" --network=host -e DT_ADMIN_TOKEN="$token" -e DT_WORKERS=2 \
    --read-only --tmpfs /tmp --security-opt no-new-privileges:true --cap-drop ALL --stop-timeout 40 \
    --health-interval=2s -v "$vol:/var/lib/dumptriage" "$tag" >/dev/null
  for _ in $(seq 1 60); do
    [[ $(docker inspect "$name" --format '{{.State.Health.Status}}') == healthy ]] && return
    sleep 1
  done
  docker logs "$name" | tail -5
  fail "not healthy after 60 s"
}
api() { curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:8080$1"; }
wait_done() {
  local s=""
  for _ in $(seq 1 120); do
    s=$(api "/api/dumps/$1" | jq -r .status)
    [[ $s == done || $s == failed ]] && break
    sleep 1
  done
  echo "$s"
}

run
echo "smoke: healthy; running as $(docker exec "$name" id -u), read-only root"
data=$here/tests/data
paired=$(curl -sf -F "user=@$data/paired/hello_block.dmp.gz" -F "kernel=@$data/paired/hello_block.Kernel.dmp" \
  http://127.0.0.1:8080/api/dumps | jq -r .id)
single=$(curl -sf -F "user=@$data/wine/multi_hang.dmp.gz" http://127.0.0.1:8080/api/dumps | jq -r .id)
[[ $(wait_done "$paired") == done ]] || fail "paired case not analyzed"
[[ $(wait_done "$single") == done ]] || fail "multi_hang not analyzed"
v=$(api "/api/dumps/$paired" | jq -r .summary.verdict)
[[ $v == "blocked 3 min in a synchronous read"* ]] || fail "paired verdict: $v"
v=$(api "/api/dumps/$single" | jq -r .summary.verdict)
[[ $v == deadlocked* ]] || fail "multi_hang verdict: $v"
echo "smoke: both uploads analyzed with the expected verdicts"

docker stop "$name" >/dev/null
[[ $(docker inspect "$name" --format '{{.State.ExitCode}}') == 0 ]] || fail "exit code after docker stop"
docker logs "$name" 2>&1 | grep -q 'SIGTERM: draining' || fail "no drain on SIGTERM"
docker start "$name" >/dev/null
for _ in $(seq 1 30); do api /healthz >/dev/null 2>&1 && break; sleep 1; done
n=$(api "/api/dumps" | jq '.items | length')
[[ $n == 2 ]] || fail "after restart: $n uploads"
echo "smoke: docker stop drained and exited 0; after start both uploads are there"

docker exec "$name" dumptriage-backup /var/lib/dumptriage /tmp/backup | tail -1
echo "smoke: ok"
