/*
 * store_snapshots.h — later snapshots of a hang added to an existing upload
 * (POST /api/dumps/{id}/snapshots, docs/api.md): their file rows and the
 * upload's new analysis, as a series, in one transaction.
 *
 * Apart from store_uploads.c because it is its own operation on the files
 * and jobs tables with its own rules (a cap on user dumps, the reuse key
 * grown with the new files so an upload of the whole series elsewhere is
 * recognised, one queued job at most).
 */
#ifndef DT_SERVER_STORE_SNAPSHOTS_H
#define DT_SERVER_STORE_SNAPSHOTS_H

#include <stdint.h>

#include "store.h"

typedef enum {
    DT_SNAPSHOTS_ADDED,      /* the files are in, the upload is queued */
    DT_SNAPSHOTS_ANALYZING,  /* an analysis holds the upload: nothing changed */
    DT_SNAPSHOTS_FULL,       /* a cap would be passed: nothing changed */
} dt_snapshots_outcome;

/* In one transaction: unless the upload is being analysed, records
 * files[0..n) (roles user or kernel, blobs already committed) as files of
 * upload seq — all or none: at most max_users files of each role —, and
 * queues the upload's analysis unless one is queued already.  The status
 * check is the transaction's first write, so no analysis can start between
 * it and the insert.  A refusal is DT_OK with *outcome saying why;
 * DT_ERR_ARG for a role other than user/kernel. */
dt_status dt_store_snapshots_add(dt_store *s, int64_t seq, const dt_file_rec *files, int n, int max_users,
                                 dt_snapshots_outcome *outcome, dt_error *err);

#endif
