/*
 * series_inputs.h — the files of an upload that holds several user dumps (a
 * series, docs/api.md), laid out for `dumptriage analyze --series`.
 *
 * Kernel dumps pair with user dumps by the analyzer's rule (analysis/series.h
 * dt_series_pair): by the uploaded file names (X.dmp and X.Kernel.dmp), the
 * rest in upload order.  The pairs are decided here, from the names the
 * client gave, and handed to the analyzer as symbolic links named
 * K.dmp / K.Kernel.dmp in a directory of the job's own, so the analyzer
 * pairs them the same way whatever the blobs are called.
 */
#ifndef DT_SERVER_SERIES_INPUTS_H
#define DT_SERVER_SERIES_INPUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "archive_unpack.h"
#include "store.h"

typedef struct {
    char dir[1200];                          /* DATA/tmp/series-JOB-ATTEMPT, "" when none */
    char links[DT_MAX_UPLOAD_FILES][1300];   /* the paths handed to the analyzer */
    char names[DT_MAX_UPLOAD_FILES][256];    /* links[i]'s file as uploaded (else the link's own name):
                                                what the stored report says (report_names.h) */
    int nlinks;
    char temps[DT_MAX_UPLOAD_FILES][1200];   /* inflated .dmp.gz to unlink */
    int ntemps;
    uint64_t insize;                         /* bytes the analyzer maps */
} dt_series_inputs;

/* Number of user dumps among the job's files. */
int dt_series_user_count(const dt_file_rec *files, int nfiles);

/* Inflates what needs it (dt_unpack_input) and links every dump.  On
 * failure everything made so far is removed; *cancelled as dt_unpack_input. */
dt_status dt_series_inputs_prepare(const char *data_dir, long long job_id, int attempt, const dt_file_rec *files,
                                   int nfiles, const dt_unpack_limits *limits, dt_series_inputs *out,
                                   bool *cancelled, dt_error *err);

/* Removes the links, the directory and the inflated copies; idempotent. */
void dt_series_inputs_cleanup(dt_series_inputs *in);

#endif
