/*
 * api_snapshots.c — owns POST /api/dumps/{id}/snapshots (docs/api.md):
 * `procdump -ma -n 3 -s 5` writes its dumps seconds apart, and the first
 * may be uploaded before the others exist; later ones join the upload here
 * and the upload is analysed again as a series once they are in.
 *
 * Who: staff, or the uploader token that sent the upload — not a view-key
 * holder (the key is read-only), who gets 403; anyone else gets 404 as for
 * every upload they may not see.  Checked before the body is taken, and
 * again after it.  The parts are those of POST /api/dumps (upload.h): user
 * dumps and kernel dumps, roles from the content; no archive.  Limits: the
 * upload holds at most DT_UNPACK_MAX_USERS user dumps and no more kernel
 * dumps than user dumps; an upload that came as an archive takes none (its
 * dumps live in the archive); while the upload is being analysed the
 * request is refused with 409 and Retry-After, so that two analyses of one
 * upload never race to store their reports — checked by the store in the
 * transaction that adds the files (store_snapshots.h), not before it.
 */
#include "api_snapshots.h"

#include <stdio.h>
#include <string.h>

#include "archive_unpack.h"
#include "blob.h"
#include "secrets.h"
#include "store_snapshots.h"

bool dt_api_snapshots_path(const char *url)
{
    if (strncmp(url, "/api/dumps/", 11) != 0)
        return false;
    size_t n = strcspn(url + 11, "/");
    return n > 0 && strcmp(url + 11 + n, "/snapshots") == 0;
}

static bool owns(const dt_request *r, const dt_upload_ref *u)
{
    return r->who.role == DT_ROLE_STAFF || (r->who.role == DT_ROLE_UPLOADER && u->owner_token_id == r->who.token_id);
}

/* The refusal for a caller who is not staff or the owner. */
static enum MHD_Result refuse(dt_request *r, const dt_upload_ref *u, bool found)
{
    const char *key = dt_http_arg(r, "key");
    if (found && key && dt_secret_equal(key, u->view_key))
        return dt_http_error(r, 403, "forbidden", "adding snapshots needs the uploader's token or staff");
    if (r->who.role == DT_ROLE_ANONYMOUS && !key)
        return dt_http_error(r, 401, "unauthorized", "a token is needed to add snapshots");
    return dt_http_error(r, 404, "not_found", "no such upload");
}

bool dt_api_snapshots_admit(dt_request *r)
{
    /* Bad or throttled credentials: the upload admission answers those. */
    if (r->who.bad_credentials || r->retry_after)
        return true;
    dt_store *st = dt_http_store(r);
    if (!st)
        return true; /* the admission reports the store */
    char id[40];
    const char *p = r->url + 11;
    size_t n = strcspn(p, "/");
    if (n >= sizeof id) {
        dt_http_error(r, 404, "not_found", "no such upload");
        return false;
    }
    memcpy(id, p, n);
    id[n] = '\0';
    dt_upload_ref u;
    bool found = dt_store_upload_find(st, id, &u) == 1;
    if (found && owns(r, &u))
        return true;
    refuse(r, &u, found);
    return false;
}

/* User and kernel files of the upload object (dt_store_upload_json). */
static void count_files(const cJSON *upload, int *users, int *kernels, bool *archive)
{
    *users = *kernels = 0;
    *archive = false;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(upload, "files")) {
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "role"));
        if (!role)
            continue;
        *users += strcmp(role, "user") == 0;
        *kernels += strcmp(role, "kernel") == 0;
        *archive |= strcmp(role, "archive") == 0;
    }
}

/* Removes the blobs of a refused request that no upload references (the
 * blob lock is held). */
static void drop_blobs(dt_request *r, dt_store *st, const dt_upload_new *nu)
{
    dt_blob_store *bs = dt_blob_store_open(&r->srv->cfg, NULL);
    for (int i = 0; bs && i < nu->nfiles; i++)
        if (!dt_store_blob_referenced(st, nu->files[i].sha256))
            bs->ops->remove(bs, nu->files[i].sha256, NULL);
    dt_blob_store_free(bs);
}

enum MHD_Result dt_api_snapshots(dt_request *r, const dt_upload_ref *u)
{
    if (strcmp(r->method, "POST") != 0)
        return dt_http_error(r, 405, "method_not_allowed", "use POST");
    if (!owns(r, u))
        return refuse(r, u, true);
    if (!r->upload)
        return dt_http_error(r, 400, "bad_request", "no snapshot in the body (send parts named user and kernel)");
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    dt_upload_new nu;
    memset(&nu, 0, sizeof nu);
    int lock = -1;
    if (dt_upload_finish(r->upload, &nu, &lock) != DT_OK) {
        const dt_refusal *why = dt_upload_refusal(r->upload);
        return dt_http_error(r, why->http, why->code, "%s", why->err.message);
    }
    /* From here the new blobs are committed and the blob lock is held:
     * every refusal drops the blobs nothing else references. */
    cJSON *before = dt_store_upload_json(st, u->seq);
    int users, kernels, new_users = 0, new_kernels = 0;
    bool archive;
    count_files(before, &users, &kernels, &archive);
    cJSON_Delete(before);
    for (int i = 0; i < nu.nfiles; i++) {
        new_users += strcmp(nu.files[i].role, "user") == 0;
        new_kernels += strcmp(nu.files[i].role, "kernel") == 0;
    }
    unsigned http = 0;
    const char *code = NULL;
    char why[300] = "";
    if (new_users + new_kernels < nu.nfiles) {
        http = 400, code = "bad_request";
        snprintf(why, sizeof why, "snapshots are dump files (a user dump, maybe with its kernel dump), not an archive");
    } else if (new_users == 0) {
        http = 400, code = "bad_request";
        snprintf(why, sizeof why, "a snapshot needs its user dump (MDMP)");
    } else if (archive) {
        http = 409, code = "conflict";
        snprintf(why, sizeof why, "this upload came as an archive: upload the whole series as one archive instead");
    } else if (users + new_users > DT_UNPACK_MAX_USERS) {
        http = 400, code = "bad_request";
        snprintf(why, sizeof why, "the upload would hold %d user dumps: a series takes at most %d", users + new_users,
                 DT_UNPACK_MAX_USERS);
    } else if (kernels + new_kernels > users + new_users) {
        http = 400, code = "bad_request";
        snprintf(why, sizeof why, "the upload would hold %d kernel dumps for %d user dumps: each kernel dump needs "
                 "its user dump", kernels + new_kernels, users + new_users);
    }
    /* The status is checked by the store in the transaction that adds the
     * files (u was read before the body, and an analysis may start at any
     * time): a separate read here would leave a window between the two. */
    dt_error err = { 0 };
    dt_snapshots_outcome outcome = DT_SNAPSHOTS_ADDED;
    if (!http && dt_store_snapshots_add(st, u->seq, nu.files, nu.nfiles, DT_UNPACK_MAX_USERS, &outcome, &err) != DT_OK) {
        http = 500, code = "internal";
        snprintf(why, sizeof why, "cannot record the snapshots: %s", err.message);
    } else if (!http && outcome == DT_SNAPSHOTS_ANALYZING) {
        http = 409, code = "conflict";
        snprintf(why, sizeof why, "the upload is being analysed; send the snapshot again when it is done");
        r->retry_after = 5;
    } else if (!http && outcome == DT_SNAPSHOTS_FULL) {
        /* A concurrent request filled the series first. */
        http = 409, code = "conflict";
        snprintf(why, sizeof why, "the series is full (%d user dumps)", DT_UNPACK_MAX_USERS);
    }
    if (http) {
        drop_blobs(r, st, &nu);
        dt_blob_unlock(lock);
        return dt_http_error(r, http, code, "%s", why);
    }
    dt_blob_unlock(lock);
    cJSON *after = dt_store_upload_json(st, u->seq);
    dt_store_job_set_submitter(st, u->id, r->client_key, NULL);
    uint64_t bytes = 0;
    for (int i = 0; i < nu.nfiles; i++)
        bytes += nu.files[i].size;
    pthread_mutex_lock(&r->srv->mu);
    r->srv->uploads_accepted++;
    r->srv->upload_bytes_accepted += bytes;
    pthread_mutex_unlock(&r->srv->mu);
    dt_server_notify_job(r->srv);
    return dt_http_json(r, 202, after);
}
