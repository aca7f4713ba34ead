/*
 * blob_gc.c — see blob_gc.h.  The lock is taken once per batch: the checks
 * are indexed lookups, so a batch of a retention sweep holds it briefly.
 */
#include "blob_gc.h"

#include <stdlib.h>

#include "blob.h"

size_t dt_blob_gc(const char *data_dir, dt_store *st, char *const *shas, size_t n)
{
    if (n == 0 || !st)
        return 0;
    dt_blob_store *bs = dt_blob_store_at(data_dir, NULL);
    int lk = bs ? dt_blob_lock(data_dir) : -1;
    if (lk < 0) {
        dt_blob_store_free(bs);
        return 0;
    }
    size_t removed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!shas[i] || dt_store_blob_referenced(st, shas[i]))
            continue;
        if (bs->ops->remove(bs, shas[i], NULL) == DT_OK)
            removed++;
    }
    dt_blob_unlock(lk);
    dt_blob_store_free(bs);
    return removed;
}

dt_status dt_blob_gc_delete_upload(const char *data_dir, dt_store *st, int64_t seq, size_t *removed, dt_error *err)
{
    char **orphans = NULL;
    size_t n = 0;
    dt_status rc = dt_store_upload_delete(st, seq, &orphans, &n, err);
    if (rc != DT_OK)
        return rc;
    size_t gone = dt_blob_gc(data_dir, st, orphans, n);
    for (size_t i = 0; i < n; i++)
        free(orphans[i]);
    free(orphans);
    if (removed)
        *removed = gone;
    return DT_OK;
}
