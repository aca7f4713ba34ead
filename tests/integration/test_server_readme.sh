#!/usr/bin/env bash
# The README's curl examples work as written: the block between the
# readme-examples markers runs against a real server, with every command
# required to succeed and no reply carrying an error.
source "$(dirname "$0")/server_lib.sh"
README="${DT_SOURCE_DIR:-$(dirname "$0")/../..}/README.md"
start_server "$WORK/data"
cd "$WORK"
gunzip -c "$DT_TEST_DATA/paired/hello_block.dmp.gz" >app.dmp
cp "$DT_TEST_DATA/paired/hello_block.Kernel.dmp" app.Kernel.dmp
zip -q case.zip app.dmp app.Kernel.dmp
sed -n '/<!-- readme-examples: begin -->/,/<!-- readme-examples: end -->/p' "$README" \
  | sed '1,2d;$d' | sed '$d' >examples.sh
check "README has the examples block" true "$( (( $(wc -l <examples.sh) > 10 )) && echo true || echo false)"
if DT_URL="$URL" TOKEN="$ADMIN" timeout 120 bash -euo pipefail examples.sh >out.txt 2>err.txt; then ok; else
  bad "README examples failed: $(tail -5 err.txt)"; fi
cat out.txt
check "no error replies" 0 "$(grep -c '"error":{' out.txt || true)"
check "the upload was analyzed" 1 "$(grep -c '"status": "done"' out.txt || true)"
check "a token was created" 1 "$(grep -c '"role":"uploader"' out.txt || true)"
check "metrics answered" 1 "$(grep -c '^dt_queue_depth' out.txt || true)"
stop_server
finish
