/*
 * blob_gc.h — removing blobs that no row references any more.
 *
 * Every path that unlinks a blob because its last reference went away
 * (staff delete, retention, the start-up orphan sweep) goes through here,
 * so the reference check and the removal (the blob store's remove) happen
 * under the blob lock (blob.h) and cannot interleave with an upload that is
 * placing the same content.
 */
#ifndef DT_SERVER_BLOB_GC_H
#define DT_SERVER_BLOB_GC_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Unlinks each of shas[0..n) that no live file row references, re-checked
 * under the blob lock.  Returns how many were unlinked.  With the lock file
 * unavailable nothing is unlinked (keeping a blob is always safe). */
size_t dt_blob_gc(const char *data_dir, dt_store *st, char *const *shas, size_t n);
/* Deletes an upload (dt_store_upload_delete) and then the blobs it alone
 * used; *removed (may be NULL) gets how many were unlinked. */
dt_status dt_blob_gc_delete_upload(const char *data_dir, dt_store *st, int64_t seq, size_t *removed, dt_error *err);

#endif
