/*
 * symsrv.h — fetching symbol files (PDB, PE, Breakpad .sym) from symbol
 * servers in the symsrv layout, through a local cache in the same layout.
 *
 *   URL/name/ID/name       the file           (PDB: ID = GUID+age, PE: ID = timestamp+size)
 *   URL/name/ID/name_      the same, CAB-compressed (last character replaced by '_')
 *   URL/name/ID/file.ptr   "PATH:<where>" redirect, or "MSG:<why not>"
 *
 * A symbol server is slow, flaky or hostile as often as not, so every
 * request has a connect timeout, a total timeout and a size limit; a server
 * that timed out once, or that has used up its time budget for this
 * analysis (slow answers add up over many modules), is skipped for the rest
 * of the analysis; misses are
 * remembered in the cache (negative entries with an expiry); and the number
 * of downloads running at once against one cache is bounded across
 * processes (flock'ed slots), so a slow server cannot occupy every worker.
 * Names and ids come from dumps: they are validated before they become
 * paths or URLs.
 */
#ifndef DT_SYMBOLS_SYMSRV_H
#define DT_SYMBOLS_SYMSRV_H

#include <stdint.h>

#include "symbols/symbol_path.h"
#include "base/error.h"

typedef struct {
    long connect_timeout_ms;  /* default 5000 */
    long timeout_ms;          /* one request, whole transfer, default 20000 */
    long server_budget_ms;    /* all requests to one server in one analysis,
                                 default 2 × timeout_ms; past it the server is skipped */
    uint64_t max_bytes;       /* default 2 GiB */
    unsigned max_concurrent;  /* downloads at once per cache, default 4 */
    long negative_ttl_s;      /* how long a miss is remembered, default 1 day */
    int offline;              /* caches only, no network */
} dt_symsrv_options;

typedef struct dt_symsrv dt_symsrv;

/* opt may be NULL (defaults).  Free with dt_symsrv_free. */
dt_symsrv *dt_symsrv_new(const dt_symsrv_options *opt);
void dt_symsrv_free(dt_symsrv *s);

/* True when name and id are safe to use as path components and URL parts. */
int dt_symsrv_valid_key(const char *name, const char *id);

/*
 * Finds name/id/name through one symbol path element: its downstream caches
 * first, then (for a URL) the server.  On DT_OK *path is a malloc'd path of a
 * local file.  DT_ERR_NOT_FOUND: the server does not have it (remembered).
 * Other codes: the server failed (timeout, HTTP error, too large, corrupt);
 * err says how, fit for a per-module warning.
 */
dt_status dt_symsrv_get(dt_symsrv *s, const dt_sympath_element *e, const char *name, const char *id, char **path,
                        dt_error *err);
/* The same for a file named differently from its directory: Breakpad
 * .sym files on Mozilla/Chromium-style servers live at
 * URL/app.pdb/ID/app.sym (and are cached at CACHE/app.pdb/ID/app.sym). */
dt_status dt_symsrv_get_file(dt_symsrv *s, const dt_sympath_element *e, const char *name, const char *id,
                             const char *file, char **path, dt_error *err);

/* The same over a whole path, in order: local stores (symstore layout, then
 * flat), then servers.  Failures of individual servers are appended to
 * *failures (may be NULL) as "url: reason" lines; DT_ERR_NOT_FOUND when no
 * element has the file. */
dt_status dt_symsrv_find(dt_symsrv *s, const dt_sympath *p, const char *name, const char *id, char **path,
                         char *failures, size_t failures_size);

#endif
