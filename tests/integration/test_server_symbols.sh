#!/usr/bin/env bash
# Acceptance for symbols as a service: a Wine hang dump uploaded without
# symbols shows multi_hang.exe frames as module+offset; staff then upload the
# PDBs (raw bodies, multipart, or one zip), the reply says how many reports
# were queued, and the re-analysis names multi_hang.exe!df_lock_second with
# symbols from the server's own store.  Uploaders get 403, text files 415,
# over-limit bodies 413, and GET /api/symbols lists what is stored.
source "$(dirname "$0")/server_lib.sh"

BIN="$DT_TEST_DATA/wine/bin/clang"
DUMP="$DT_TEST_DATA/wine/multi_hang.dmp.gz"
# The analyzer must not find the PDBs next to anything else it is given.
unset DUMPTRIAGE_SYMBOL_PATH _NT_SYMBOL_PATH || true
export DUMPTRIAGE_SYMBOL_OFFLINE=1

upload_dump() { # → upload id
  curl -s "${AUTH[@]}" -F "file=@$DUMP" "$URL/api/dumps" | jq -r .id
}

main_module() { # ID → symbol_source of multi_hang.exe
  curl -s "${AUTH[@]}" "$URL/api/dumps/$1/report" \
    | jq -r '.user.modules[] | select(.filename == "multi_hang.exe") | .symbol_source'
}

has_frame() { # ID FUNCTION → count of frames naming it
  curl -s "${AUTH[@]}" "$URL/api/dumps/$1/report" \
    | jq --arg f "$2" '[.. | objects | select(has("function") and .module == "multi_hang.exe" and .function == $f)] | length'
}

wait_requeued_done() { # ID: waits for the re-analysis to finish
  wait_done "$1" 120
}

run_case() { # how (raw|multipart|zip)
  local how=$1
  local data="$WORK/data-$how"
  start_server "$data" --max-request-size 64M --max-part-size 64M
  local up
  up=$(curl -s "${AUTH[@]}" -X POST -H 'Content-Type: application/json' \
        -d '{"role":"uploader","name":"customer"}' "$URL/api/tokens" | jq -r .token)

  local id
  id=$(upload_dump)
  check "$how: dump analyzed" done "$(wait_done "$id" 120)"
  check "$how: no symbols at first" missing_symbols "$(main_module "$id")"
  check "$how: no df_lock_second frame at first" 0 "$(has_frame "$id" df_lock_second)"
  local mo
  mo=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$id/report" \
        | jq '[.. | objects | select(.module == "multi_hang.exe" and (.module_offset // null) != null and (.function // null) == null)] | length')
  if (( mo > 0 )); then ok; else bad "$how: multi_hang.exe frames as module+offset (got $mo)"; fi

  # Refusals: uploader 403, anonymous 401, text 415, over the limit 413.
  check "$how: uploader refused" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $up" \
        --data-binary "@$BIN/multi_hang.pdb" "$URL/api/symbols?name=multi_hang.pdb")"
  check "$how: uploader cannot list" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $up" "$URL/api/symbols")"
  check "$how: anonymous refused" 401 "$(curl -s -o /dev/null -w '%{http_code}' \
        --data-binary "@$BIN/multi_hang.pdb" "$URL/api/symbols?name=multi_hang.pdb")"
  echo "just some text, not symbols" >"$WORK/notes.txt"
  local code
  code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' "${AUTH[@]}" --data-binary "@$WORK/notes.txt" "$URL/api/symbols?name=notes.txt")
  check "$how: text file refused" 415 "$code"
  check "$how: text file error code" unsupported_media_type "$(jq -r .error.code "$WORK/out.json")"
  head -c $((65 * 1024 * 1024)) /dev/zero >"$WORK/big.bin"
  check "$how: over the size limit" 413 "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" \
        --data-binary "@$WORK/big.bin" "$URL/api/symbols?name=big.pdb")"
  check "$how: a PDB without a name" 400 "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" \
        --data-binary "@$BIN/multi_hang.pdb" "$URL/api/symbols")"

  local reply
  case $how in
    raw)
      reply=$(curl -s -w '\n%{http_code}' "${AUTH[@]}" --data-binary "@$BIN/multi_hang.pdb" \
              "$URL/api/symbols?name=../../etc/multi_hang.pdb")
      check "raw: 201" 201 "$(tail -1 <<<"$reply")"
      check "raw: 1 report queued" 1 "$(head -1 <<<"$reply" | jq .reports_queued)"
      check "raw: a path as name is only a basename" "multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1/multi_hang.pdb" \
            "$(head -1 <<<"$reply" | jq -r '.stored[0].path')"
      check "raw: nothing written outside the store" 0 "$(find "$WORK" -path '*etc*' | wc -l)"
      reply=$(curl -s "${AUTH[@]}" --data-binary "@$BIN/dfpipe.pdb" "$URL/api/symbols?name=dfpipe.pdb")
      check "raw: dfpipe stored" dfpipe.pdb "$(jq -r '.stored[0].name' <<<"$reply")"
      # The other kinds: a PE image (by code id), a Breakpad .sym (named by
      # its MODULE line, whatever the request says), a gzip-compressed PDB.
      reply=$(curl -s "${AUTH[@]}" --data-binary "@$BIN/dfpipe.dll" "$URL/api/symbols?name=dfpipe.dll")
      check "raw: PE kind" pe "$(jq -r '.stored[0].kind' <<<"$reply")"
      check "raw: PE filed by code id" "dfpipe.dll/$(python3 -c '
import struct,sys
d=open(sys.argv[1],"rb").read(); o=struct.unpack_from("<I",d,0x3c)[0]
print("%08X%X" % (struct.unpack_from("<I",d,o+8)[0], struct.unpack_from("<I",d,o+24+56)[0]))' "$BIN/dfpipe.dll")/dfpipe.dll" \
            "$(jq -r '.stored[0].path' <<<"$reply")"
      reply=$(curl -s "${AUTH[@]}" --data-binary "@$DT_TEST_DATA/symbols/breakpad__test_app.sym" "$URL/api/symbols?name=x.sym")
      check "raw: Breakpad filed by MODULE" "test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym" \
            "$(jq -r '.stored[0].path' <<<"$reply")"
      gzip -c "$DT_TEST_DATA/symbols/lldb__sigsegv.pdb" >"$WORK/sigsegv.pdb.gz"
      reply=$(curl -s "${AUTH[@]}" --data-binary "@$WORK/sigsegv.pdb.gz" "$URL/api/symbols?name=sigsegv.pdb.gz")
      check "raw: a gzip-compressed PDB" "sigsegv.pdb pdb" "$(jq -r '.stored[0] | "\(.name) \(.kind)"' <<<"$reply")"
      ;;
    multipart)
      reply=$(curl -s -w '\n%{http_code}' "${AUTH[@]}" -F "file=@$BIN/multi_hang.pdb" -F "file2=@$BIN/dfpipe.pdb" \
              "$URL/api/symbols")
      check "multipart: 201" 201 "$(tail -1 <<<"$reply")"
      check "multipart: 1 report queued" 1 "$(head -1 <<<"$reply" | jq .reports_queued)"
      check "multipart: two stored" 2 "$(head -1 <<<"$reply" | jq '.stored | length')"
      check "multipart: nothing skipped" 0 "$(head -1 <<<"$reply" | jq '.skipped | length')"
      ;;
    zip)
      rm -f "$WORK/syms.zip"
      (cd "$BIN" && zip -q "$WORK/syms.zip" multi_hang.pdb dfpipe.pdb)
      cp "$WORK/notes.txt" "$WORK/readme.txt"; (cd "$WORK" && zip -q syms.zip readme.txt)
      reply=$(curl -s -w '\n%{http_code}' "${AUTH[@]}" -F "archive=@$WORK/syms.zip" "$URL/api/symbols")
      check "zip: 201" 201 "$(tail -1 <<<"$reply")"
      check "zip: 1 report queued" 1 "$(head -1 <<<"$reply" | jq .reports_queued)"
      check "zip: two stored" "dfpipe.pdb multi_hang.pdb" "$(head -1 <<<"$reply" | jq -r '[.stored[].name] | sort | join(" ")')"
      check "zip: the text entry skipped" readme.txt "$(head -1 <<<"$reply" | jq -r '.skipped[0].name')"
      # Hostile archives: a PDB-looking entry that unpacks 1000:1, and more
      # entries than --max-archive-entries (64), are refused with 413.
      { printf 'Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0'; head -c $((60 * 1024 * 1024)) /dev/zero; } >"$WORK/bomb.pdb"
      rm -f "$WORK/bomb.zip"; (cd "$WORK" && zip -q -9 bomb.zip bomb.pdb)
      check "zip: a bomb refused" 413 "$(curl -s -o "$WORK/out.json" -w '%{http_code}' "${AUTH[@]}" \
            --data-binary "@$WORK/bomb.zip" "$URL/api/symbols")"
      check "zip: a bomb's error code" too_large "$(jq -r .error.code "$WORK/out.json")"
      mkdir -p "$WORK/many"; for i in $(seq 1 70); do echo "$i" >"$WORK/many/f$i.txt"; done
      rm -f "$WORK/many.zip"; (cd "$WORK/many" && zip -q ../many.zip ./*.txt)
      check "zip: too many entries" 413 "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" \
            --data-binary "@$WORK/many.zip" "$URL/api/symbols")"
      check "zip: nothing left in tmp" 0 "$(find "$data/tmp" -type f | wc -l)"
      ;;
  esac

  check "$how: re-analysis done" done "$(wait_requeued_done "$id")"
  local src
  src=$(main_module "$id")
  check "$how: symbols from the server's store" "pdb:<data>/symbols/multi_hang.pdb/" "${src%%FCBC*}"
  local n
  n=$(has_frame "$id" df_lock_second)
  if (( n > 0 )); then ok; else bad "$how: no multi_hang.exe!df_lock_second frame after re-analysis"; fi

  local list
  list=$(curl -s "${AUTH[@]}" "$URL/api/symbols")
  check "$how: list names both" "dfpipe.pdb multi_hang.pdb" \
        "$(jq -r '[.items[] | select(.kind == "pdb" and .name != "sigsegv.pdb") | .name] | sort | join(" ")' <<<"$list")"
  check "$how: list gives the PDB id" FCBC69126EFD93014C4C44205044422E1 \
        "$(jq -r '.items[] | select(.name == "multi_hang.pdb") | .id' <<<"$list")"
  check "$how: list says by which token" number "$(jq -r '.items[0].uploaded_by.token_id | type' <<<"$list")"
  check "$how: list gives sizes" "$(stat -c %s "$BIN/multi_hang.pdb")" \
        "$(jq -r '.items[] | select(.name == "multi_hang.pdb") | .size' <<<"$list")"
  check "$how: stored in symstore layout" 1 \
        "$(test -f "$data/symbols/multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1/multi_hang.pdb" && echo 1 || echo 0)"
  # A second upload of the same PDB queues nothing: no report lacks it now.
  reply=$(curl -s "${AUTH[@]}" --data-binary "@$BIN/multi_hang.pdb" "$URL/api/symbols?name=multi_hang.pdb")
  check "$how: nothing left to re-symbolicate" 0 "$(jq .reports_queued <<<"$reply")"
  check "$how: still one row per file" "$(jq '.items | length' <<<"$list")" "$(curl -s "${AUTH[@]}" "$URL/api/symbols" | jq '.items | length')"
  stop_server
  if grep -q 'Sanitizer' "$SERVER_LOG"; then bad "$how: sanitizer report in the server log"; grep -A20 Sanitizer "$SERVER_LOG" >&2; else ok; fi
}

run_case raw
run_case multipart
run_case zip

echo "$CHECKS checks, $FAILS failures"
(( FAILS == 0 ))
