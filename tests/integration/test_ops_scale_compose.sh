#!/usr/bin/env bash
# Acceptance (issue #20, operations): docker/compose.scale.yaml checked
# without a Docker engine (none runs here; test_ops_scale_proxy.sh runs its
# haproxy.cfg for real):
#  - PostgreSQL, two API servers with --workers 0 behind the proxy, three
#    workers, all dumptriage containers on one blob volume at DT_BLOB_DIR;
#  - every DT_* variable is a flag of the command its container runs
#    (serve --help / worker --help), entrypoint flags too;
#  - DT_DATABASE points at the postgres service with its user and database;
#  - the proxy's image installs Debian's haproxy, its environment names the
#    API services, and haproxy -c accepts the configuration with it;
#  - health checks use documented paths on the image's port.
source "$(dirname "$0")/server_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
C="$SRC/docker/compose.scale.yaml"
python3 -c 'import yaml' 2>/dev/null || { echo "python3-yaml missing (scripts/bootstrap.sh --tests)"; exit 77; }
SERVE_HELP=$("$DT_BIN" serve --help 2>&1 || true)
WORKER_HELP=$("$DT_BIN" worker --help 2>&1 || true)
echo "$SERVE_HELP" >"$WORK/serve.help"
echo "$WORKER_HELP" >"$WORK/worker.help"

# The compose file as JSON (merge keys and anchors resolved).
python3 - "$C" >"$WORK/compose.json" <<'EOF'
import json, sys, yaml
print(json.dumps(yaml.safe_load(open(sys.argv[1]))))
EOF
[[ -s $WORK/compose.json ]] && ok || { bad "compose.scale.yaml does not parse"; finish; exit 1; }
q() { jq -r "$1" "$WORK/compose.json"; }

check "services" "api1 api2 postgres proxy worker1 worker2 worker3" "$(q '.services | keys | join(" ")')"
check "postgres image is PostgreSQL on Debian 12" yes "$([[ $(q .services.postgres.image) == postgres:*bookworm ]] && echo yes)"
for s in api1 api2; do
  check "$s: --workers 0" 0 "$(q ".services.$s.environment.DT_WORKERS")"
  check "$s: image" dumptriage:latest "$(q ".services.$s.image")"
  check "$s: health check on /readyz" http://127.0.0.1:8080/readyz "$(q ".services.$s.healthcheck.test[-1]")"
done
for s in worker1 worker2 worker3; do
  check "$s runs worker" worker "$(q ".services.$s.entrypoint[1]")"
  check "$s: image" dumptriage:latest "$(q ".services.$s.image")"
  # The image's HEALTHCHECK probes :8080/healthz: the worker must listen there.
  check "$s: listener on the image's health port" 0.0.0.0:8080 "$(q ".services.$s.environment.DT_METRICS_LISTEN")"
done

# One blob volume, mounted where DT_BLOB_DIR says, in every dumptriage container.
for s in api1 api2 worker1 worker2 worker3; do
  dir=$(q ".services.$s.environment.DT_BLOB_DIR")
  check "$s: blob volume at DT_BLOB_DIR" "blobs:$dir" "$(q ".services.$s.volumes[0]")"
done
check "blob volume declared" true "$(q '.volumes | has("blobs")')"

# Every DT_* variable is a flag of the container's command.
flag_of() { echo "--$(tr 'A-Z_' 'a-z-' <<<"${1#DT_}")"; }
for s in api1 api2 worker1 worker2 worker3; do
  help="$WORK/serve.help"
  [[ $s == worker* ]] && help="$WORK/worker.help"
  for var in $(q ".services.$s.environment | keys[]"); do
    flag=$(flag_of "$var")
    if grep -qE -- "^ *$flag( |$)" "$help"; then ok; else bad "$s: $var is no flag ($flag) of $(basename "$help" .help)"; fi
  done
done
for flag in $(q '.services.worker1.entrypoint[]' | grep -E '^--'); do
  if grep -qE -- "^ *$flag( |$)" "$WORK/worker.help"; then ok; else bad "worker entrypoint flag $flag not in worker --help"; fi
done
grep -q '/readyz' "$WORK/serve.help" && ok || bad "/readyz not documented in serve --help"

# DT_DATABASE names the postgres service, its user and database.
db=$(q .services.api1.environment.DT_DATABASE)
re='^postgresql://([^:]+):[^@]+@([^:/]+):5432/(.+)$'
if [[ $db =~ $re ]]; then
  check "database user" "$(q .services.postgres.environment.POSTGRES_USER)" "${BASH_REMATCH[1]}"
  check "database host is the service" postgres "${BASH_REMATCH[2]}"
  check "database name" "$(q .services.postgres.environment.POSTGRES_DB)" "${BASH_REMATCH[3]}"
else
  bad "DT_DATABASE is no postgresql:// URL: $db"
fi
check "workers use the same database" "$db" "$(q .services.worker1.environment.DT_DATABASE)"
check "API servers wait for PostgreSQL" service_healthy "$(q .services.api1.depends_on.postgres.condition)"

# The proxy: Debian's haproxy, configured for the two API services.
PF="$SRC/$(q .services.proxy.build.dockerfile)"
[[ -f $PF ]] && ok || bad "proxy Dockerfile missing: $PF"
grep -qE '^FROM debian:12' "$PF" && ok || bad "proxy image not Debian 12"
grep -qE 'apt-get install .*haproxy' "$PF" && ok || bad "proxy image does not install Debian's haproxy"
for src in $(sed -n 's/^COPY \([^ ]*\) .*/\1/p' "$PF"); do
  [[ -e $SRC/$src ]] && ok || bad "proxy COPY source missing: $src"
done
check "proxy talks to api1" api1:8080 "$(q .services.proxy.environment.DT_API1)"
check "proxy talks to api2" api2:8080 "$(q .services.proxy.environment.DT_API2)"
for v in DT_PROXY_BIND DT_API1 DT_API2; do
  grep -q "\${$v}" "$SRC/docker/haproxy.cfg" && ok || bad "haproxy.cfg does not use $v"
done
if command -v haproxy >/dev/null; then
  out=$(env DT_PROXY_BIND="$(q .services.proxy.environment.DT_PROXY_BIND)" DT_API1="$(q .services.proxy.environment.DT_API1)" \
    DT_API2="$(q .services.proxy.environment.DT_API2)" haproxy -c -f "$SRC/docker/haproxy.cfg" 2>&1) \
    && ok || bad "haproxy -c with the compose environment: $out"
fi
grep -q 'httpchk GET /readyz' "$SRC/docker/haproxy.cfg" && ok || bad "haproxy does not check /readyz"

# The API servers' proxy settings are accepted (and a bad network is refused).
net=$(q .services.api1.environment.DT_TRUST_PROXY_NET)
check "a bad --trust-proxy-net is a usage error" 2 "$("$DT_BIN" serve --trust-proxy-net 10.0.0.0/33 >/dev/null 2>&1; echo $?)"
DT_TRUST_PROXY=1 DT_TRUST_PROXY_NET=$net start_server "$WORK/data" --workers 0
check "serve with the compose's proxy settings: ready" ready "$(curl -s "$URL/readyz" | jq -r .status)"
stop_server

# With the compose plugin present, compose itself must accept the file.
if docker compose version >/dev/null 2>&1; then
  DT_ADMIN_TOKEN=x DT_PG_PASSWORD=y docker compose -f "$C" config -q && ok || bad "docker compose config refused the file"
fi
finish
