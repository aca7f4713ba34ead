#!/usr/bin/env bash
# Acceptance (issue #9, operations): no Docker engine runs here, so this test
# proves the image recipe by other means:
#  1. docker/Dockerfile uses only FROM/WORKDIR/COPY/RUN/USER/VOLUME/HEALTHCHECK/
#     EXPOSE/ENTRYPOINT, every RUN is exactly one of the project's scripts
#     (scripts/bootstrap.sh, scripts/build.sh) and every COPY source exists;
#  2. those RUN steps are executed here as the image would (bootstrap --runtime,
#     build.sh --install into a staging root), and the staged server, started
#     with the ENTRYPOINT's flags and only the staged web/migrations, answers
#     the HEALTHCHECK's URL with 200;
#  3. the flags in ENTRYPOINT, the DT_* variables in compose.yaml and the flags
#     in the systemd unit all exist in `dumptriage serve --help`, and the
#     healthcheck path is documented there too.
source "$(dirname "$0")/server_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DF="$SRC/docker/Dockerfile"
HELP=$("$DT_BIN" serve --help 2>&1 || true)

# Joins continuation lines; one instruction per output line.
instructions() { sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$DF" | grep -Ev '^[[:space:]]*(#|$)'; }

allowed='^(FROM|WORKDIR|COPY|RUN|USER|VOLUME|HEALTHCHECK|EXPOSE|ENTRYPOINT)$'
run_steps=()
while read -r kw rest; do
  if [[ ! $kw =~ $allowed ]]; then bad "Dockerfile: instruction $kw not allowed"; continue; fi
  ok
  case $kw in
    RUN)
      # One script, its arguments, and nothing a shell would interpret.
      if [[ $rest =~ [\;\&\|\`\$\>\<] ]]; then bad "RUN with shell syntax: $rest"; continue; fi
      script=${rest%% *}
      case $script in
        scripts/bootstrap.sh|scripts/build.sh|*/bootstrap.sh) ok; run_steps+=("$rest") ;;
        *) bad "RUN runs something other than the project's scripts: $rest" ;;
      esac ;;
    COPY)
      [[ $rest == --from=* || $rest == *--from=* ]] && continue
      read -r -a words <<<"$rest"
      for ((i = 0; i < ${#words[@]} - 1; i++)); do
        [[ ${words[i]} == --* || ${words[i]} == . ]] && continue
        if [[ -e $SRC/${words[i]} ]]; then ok; else bad "COPY source missing: ${words[i]}"; fi
      done ;;
  esac
done < <(instructions)
check "Dockerfile has two stages" 2 "$(instructions | grep -c '^FROM debian:12')"
check "Dockerfile runs as a non-root user" 1 "$(instructions | grep -Ec '^USER [1-9][0-9]*')"
check "Dockerfile declares the data volume" 1 "$(instructions | grep -c '^VOLUME /var/lib/dumptriage')"
grep -q 'bootstrap.sh --runtime' <<<"${run_steps[*]}" && ok || bad "runtime stage not bootstrapped by bootstrap.sh --runtime"
grep -q 'build.sh --install' <<<"${run_steps[*]}" && ok || bad "no build.sh --install step"

# ENTRYPOINT flags must be serve flags.
entry=$(instructions | sed -n 's/^ENTRYPOINT //p' | jq -r '.[]')
check "ENTRYPOINT runs serve" serve "$(sed -n 2p <<<"$entry")"
for flag in $(grep -E '^--' <<<"$entry"); do
  if grep -qE -- "^ *$flag( |$)" <<<"$HELP"; then ok; else bad "ENTRYPOINT flag $flag not in serve --help"; fi
done
data_dir=$(grep -A1 -- '^--data-dir$' <<<"$entry" | tail -1)
listen=$(grep -A1 -- '^--listen$' <<<"$entry" | tail -1)
check "data dir is the volume" /var/lib/dumptriage "$data_dir"

# HEALTHCHECK URL: same port as --listen, a path the server documents.
hc_url=$(instructions | sed -n 's/^HEALTHCHECK .*CMD //p' | jq -r '.[] | select(startswith("http"))')
hc_port=$(sed -E 's#http://[^:/]+:([0-9]+)/.*#\1#' <<<"$hc_url")
hc_path=$(sed -E 's#http://[^/]+(/.*)#\1#' <<<"$hc_url")
check "healthcheck port = listen port" "${listen##*:}" "$hc_port"
check "EXPOSE = listen port" "${listen##*:}" "$(instructions | sed -n 's/^EXPOSE //p')"
if grep -q -- "$hc_path" <<<"$HELP"; then ok; else
  bad "healthcheck path $hc_path is not documented in serve --help (server-side: add it to the help text)"
fi

# compose.yaml: DT_* variables are serve flags; the volume matches.
while read -r var; do
  flag=--$(tr 'A-Z_' 'a-z-' <<<"${var#DT_}")
  if grep -qE -- "^ *$flag( |$)" <<<"$HELP"; then ok; else bad "compose.yaml: $var is no serve flag ($flag)"; fi
done < <(grep -oE '^\s+DT_[A-Z_]+:' "$SRC/docker/compose.yaml" | tr -d ' :')
grep -q 'dtdata:/var/lib/dumptriage' "$SRC/docker/compose.yaml" && ok || bad "compose volume target"

# systemd unit: ExecStart flags.
exec_line=$(sed -n 's/^ExecStart=//p' "$SRC/docker/dumptriage.service")
for flag in $(grep -oE -- '--[a-z-]+' <<<"$exec_line"); do
  if grep -qE -- "^ *$flag( |$)" <<<"$HELP"; then ok; else bad "systemd ExecStart flag $flag not in serve --help"; fi
done

# 2. Execute the image's steps here: bootstrap (a no-op when all is
# installed) and the install into a staging root from the tested build.
STAGE="$WORK/stage"
for step in "${run_steps[@]}"; do
  read -r -a argv <<<"$step"
  case "${argv[0]}" in
    */bootstrap.sh|scripts/bootstrap.sh)
      if "$SRC/scripts/bootstrap.sh" "${argv[@]:1}"; then ok; else bad "bootstrap ${argv[*]:1} failed"; fi ;;
    scripts/build.sh)
      if [[ ${argv[1]} == --install ]]; then
        if "$SRC/scripts/build.sh" --install "$(dirname "$DT_BIN")" "$STAGE"; then ok; else bad "build.sh --install failed"; fi
      fi ;;  # the compile step is what ./test itself just ran through build.sh
  esac
done
check "staged binary" yes "$([[ -x $STAGE/usr/bin/dumptriage ]] && echo yes)"
check "staged web pages" yes "$([[ -f $STAGE/usr/share/dumptriage/web/index.html ]] && echo yes)"
check "staged migrations" yes "$(compgen -G "$STAGE/usr/share/dumptriage/migrations/*.sql" >/dev/null && echo yes)"
check "staged data dir" yes "$([[ -d $STAGE/var/lib/dumptriage ]] && echo yes)"
# Runtime packages named by bootstrap --runtime are real and installed here.
runtime_pkgs=$(sed -n '/== "--runtime" ]]/,/^fi/p' "$SRC/scripts/bootstrap.sh" | sed -n '/pkgs=(/,/)/p' \
  | tr -d '()' | sed 's/pkgs=//' | tr -s ' \n' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$')
check "runtime package list found" yes "$([[ $(wc -w <<<"$runtime_pkgs") -ge 5 ]] && echo yes)"
for p in $runtime_pkgs; do
  check "runtime package $p installed" installed "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)"
done

# The staged server with the ENTRYPOINT's flags (port and data dir moved to
# this test's) and only the staged web/migrations, probed like HEALTHCHECK.
DT_BIN="$STAGE/usr/bin/dumptriage" start_server "$STAGE/var/lib/dumptriage" \
  --web-dir "$STAGE/usr/share/dumptriage/web" --migrations-dir "$STAGE/usr/share/dumptriage/migrations"
check "healthcheck answers 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL$hc_path")"
check "web page served from the staged tree" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/")"
check "data dir holds the database" yes "$([[ -f $STAGE/var/lib/dumptriage/dumptriage.sqlite ]] && echo yes)"
stop_server
finish
