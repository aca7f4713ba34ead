/*
 * series.h — several dumps of one hang (`procdump -ma -n 3 -s 5`): which
 * threads did not move, which spin, which progress (docs/report.md,
 * "series").
 *
 * dt_analyze_series runs the ordinary analysis (dt_analyze) on one snapshot
 * at a time, keeps only per-thread summaries of each (report/series_report.h)
 * and the newest snapshot's report, and compares the summaries: so N
 * snapshots cost N analyses plus a comparison, and memory holds one report
 * at a time.
 */
#ifndef DT_ANALYSIS_SERIES_H
#define DT_ANALYSIS_SERIES_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/error.h"

/* The most snapshots one series takes. */
#define DT_SERIES_MAX 64

typedef struct {
    /* Dump files in any order, user dumps and kernel dumps mixed: each is
     * routed by content.  A kernel dump pairs with the user dump whose name
     * it extends (procdump's "X.dmp" and "X.Kernel.dmp", gzip or not), the
     * rest in the order given.  Strings are borrowed. */
    const char *const *paths;
    size_t npaths;
    /* Kernel dumps named as such (--kernel), paired the same way. */
    const char *const *kernel_paths;
    size_t nkernel_paths;
    const char *const *symbol_paths;
    size_t nsymbol_paths;
    const char *rules_path;
    /* Compare snapshots of different processes, and pair user and kernel
     * dumps of different processes. */
    bool allow_mismatch;
} dt_series_request;

/* Pairs kernel dumps with user dumps: a kernel dump goes with the user dump
 * whose file name it extends (X.dmp and X.Kernel.dmp, ".gz" and case
 * ignored), the kernel dumps left over with the user dumps left over in the
 * order given.  names are file names or paths.  kernel_of_user[u] is the
 * index of user u's kernel dump or -1.  Fails (DT_ERR_ARG) when a kernel
 * dump is left without a user dump. */
dt_status dt_series_pair(const char *const *user_names, size_t nusers, const char *const *kernel_names,
                         size_t nkernels, int *kernel_of_user, dt_error *err);

/* On DT_OK *report is the newest usable snapshot's report document with a
 * "series" member (caller frees).  Fails with a one-line reason when no
 * snapshot is usable, a kernel dump pairs with no user dump, or (without
 * allow_mismatch) the snapshots are not all of one process. */
dt_status dt_analyze_series(const dt_series_request *req, cJSON **report, dt_error *err);

#endif
