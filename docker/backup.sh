#!/usr/bin/env bash
# docker/backup.sh — a consistent online backup of a dumptriage data directory,
# safe while the server runs and uploads and analyses go on.  Installed in the
# image as /usr/local/bin/dumptriage-backup; tested by
# tests/integration/test_ops_backup.sh.
#
#   dumptriage-backup DATA_DIR DEST_DIR
#
# Why this order is consistent: SQLite's online backup (`.backup`) copies one
# snapshot of the database (WAL mode: the server keeps writing meanwhile).
# Blobs are immutable and content-addressed, written and fsync'ed before the
# row that names them is committed, so every blob the snapshot names already
# exists when the snapshot is taken; copying blobs AFTER the snapshot therefore
# gets all of them (plus perhaps a few newer ones, which are harmless).  Each
# copied blob is checked against its SHA-256 name; the snapshot against
# `PRAGMA integrity_check` and for rows naming missing blobs.
# Exit status 0 only when the backup is complete and verified.
set -euo pipefail
data=${1:?usage: dumptriage-backup DATA_DIR DEST_DIR}
dest=${2:?usage: dumptriage-backup DATA_DIR DEST_DIR}
db="$data/dumptriage.sqlite"
[[ -f $db ]] || { echo "backup: no database at $db" >&2; exit 1; }
mkdir -p "$dest/blobs"
tmpdb="$dest/dumptriage.sqlite.partial"
rm -f "$tmpdb"
sqlite3 "$db" ".timeout 30000" ".backup '$tmpdb'"
check=$(sqlite3 "$tmpdb" "PRAGMA integrity_check;")
[[ $check == ok ]] || { echo "backup: integrity_check: $check" >&2; exit 1; }

# Copy every blob the snapshot names (hard links would share inodes with the
# live directory; a backup must survive the disk, so copy).
missing=0
while read -r sha; do
  [[ $sha =~ ^[0-9a-f]{64}$ ]] || { echo "backup: odd sha256 in files: $sha" >&2; exit 1; }
  rel="${sha:0:2}/${sha:2}"
  if [[ -f $dest/blobs/$rel ]]; then continue; fi
  if [[ ! -f $data/blobs/$rel ]]; then
    # Purged by retention since the snapshot: nothing to keep.
    live=$(sqlite3 "$db" ".timeout 30000" "SELECT COUNT(*) FROM files WHERE sha256 = '$sha' AND purged_at IS NULL;")
    [[ $live == 0 ]] && continue
    echo "backup: blob missing in the live data dir: $sha" >&2; missing=$((missing + 1)); continue
  fi
  mkdir -p "$dest/blobs/${sha:0:2}"
  cp "$data/blobs/$rel" "$dest/blobs/$rel.partial"
  got=$(sha256sum "$dest/blobs/$rel.partial" | cut -d' ' -f1)
  [[ $got == "$sha" ]] || { echo "backup: blob $sha copied with hash $got" >&2; exit 1; }
  mv "$dest/blobs/$rel.partial" "$dest/blobs/$rel"
done < <(sqlite3 "$tmpdb" "SELECT DISTINCT sha256 FROM files WHERE purged_at IS NULL;")
(( missing == 0 )) || exit 1
sync -f "$dest" 2>/dev/null || sync
mv "$tmpdb" "$dest/dumptriage.sqlite"
uploads=$(sqlite3 "$dest/dumptriage.sqlite" "SELECT COUNT(*) FROM uploads;")
blobs=$(sqlite3 "$dest/dumptriage.sqlite" "SELECT COUNT(DISTINCT sha256) FROM files WHERE purged_at IS NULL;")
echo "backup: ok, $uploads uploads, $blobs blobs in $dest"
