/*
 * api_snapshots.h — POST /api/dumps/{id}/snapshots: later dumps of the same
 * hang added to an existing upload, which is then analysed again as a
 * series (docs/api.md).
 */
#ifndef DT_SERVER_API_SNAPSHOTS_H
#define DT_SERVER_API_SNAPSHOTS_H

#include <stdbool.h>

#include "http.h"

/* True if url is /api/dumps/{id}/snapshots. */
bool dt_api_snapshots_path(const char *url);

/* Before the body: false (a refusal queued) when the caller may not add
 * snapshots to that upload, so no byte of the body is stored.  True lets
 * the ordinary upload admission (http.c) take over. */
bool dt_api_snapshots_admit(dt_request *r);

/* After the body (r->upload): records the snapshots and queues the series
 * analysis; u is the upload, already found and visible to the caller. */
enum MHD_Result dt_api_snapshots(dt_request *r, const dt_upload_ref *u);

#endif
