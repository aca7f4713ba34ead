/*
 * tus.h — resumable uploads, tus 1.0 (core, creation, creation-with-upload,
 * creation-defer-length, termination, expiration, checksum) under
 * /api/uploads, plus gzip-member chunks (docs/api.md "Resumable uploads").
 *
 * A resource is a file DATA/tus/<id> and a row (store_tus.h).  A PATCH
 * appends at the row's offset; its bytes are fsync'ed before the new offset
 * is written to the store, and only then acknowledged, so HEAD after a
 * kill -9 returns an offset whose bytes are on disk.  When every file of a
 * case upload is complete they become blobs and one normal upload (hashed,
 * deduplicated, queued) in one transaction.
 */
#ifndef DT_SERVER_TUS_H
#define DT_SERVER_TUS_H

#include <stdbool.h>

#include "http.h"

/* The in-memory side shared by requests: which uploads a PATCH is writing
 * (a second one gets 423) and the running SHA-256 of each, so a file is
 * hashed once as it arrives (after a restart the prefix is hashed again);
 * and the expiry sweeper thread, which dt_tus_registry_free stops. */
typedef struct dt_tus_registry dt_tus_registry;
dt_tus_registry *dt_tus_registry_new(void);
void dt_tus_registry_free(dt_tus_registry *reg);

/* First call of a POST or PATCH under /api/uploads: checks the headers,
 * creates the resource (POST) and prepares to receive the body.  May reply
 * at once (a refusal). */
enum MHD_Result dt_tus_begin(dt_request *r);
/* Body bytes of that request. */
void dt_tus_feed(dt_request *r, const char *data, size_t len);
/* Every method once the body is complete; rest is the path after
 * "/api/uploads". */
enum MHD_Result dt_api_tus(dt_request *r, const char *rest);
/* The request ended (ok: normally).  A PATCH cut off mid-body keeps what
 * arrived whole (raw bytes; complete gzip members) as its new offset. */
void dt_tus_end(dt_request *r, bool ok);

/* Start-up: creates DATA/tus, removes files no unfinished row names, cuts
 * files back to their durable offset, finishes what a crash interrupted,
 * removes expired uploads.  Returns how many files were removed. */
int dt_tus_recover(dt_server *srv, dt_store *st);
/* Removes expired resumable uploads (rows and files); returns how many.
 * Also run every dt_tus_sweep_interval(--tus-expiry) seconds by a thread
 * the registry owns, started by the first tus request. */
int dt_tus_expire(dt_server *srv, dt_store *st);
unsigned dt_tus_sweep_interval(unsigned expiry);

#endif
