/*
 * api_dumps.c — owns the /api/dumps resource: finishing an upload (202),
 * listing, one upload, its report, one thread, file downloads, reanalysis,
 * deletion (later snapshots: api_snapshots.c).
 *
 * Who may see an upload: staff; the uploader token that sent it; anyone who
 * holds its view key (?key=…, read-only).  Others get 404, so ids of other
 * people's uploads cannot be probed.  Changing an upload is for staff only.
 * A wrong view key counts as a failed credential guess (ratelimit.h).
 * `reused_from` names an earlier upload only to a caller who may see that
 * upload too: to anyone else it would reveal that someone else sent the
 * same dump, and that upload's id.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_snapshots.h"
#include "blob.h"
#include "blob_gc.h"
#include "http.h"
#include "ratelimit.h"
#include "report_names.h"
#include "retention.h"
#include "secrets.h"

enum MHD_Result dt_api_upload_finish(dt_request *r)
{
    if (!r->upload)
        return dt_http_error(r, 400, "bad_request", "no upload body");
    dt_upload_new u;
    memset(&u, 0, sizeof u);
    int blob_lock = -1;
    if (dt_upload_finish(r->upload, &u, &blob_lock) != DT_OK) {
        const dt_refusal *why = dt_upload_refusal(r->upload);
        pthread_mutex_lock(&r->srv->mu);
        r->srv->uploads_rejected++;
        pthread_mutex_unlock(&r->srv->mu);
        return dt_http_error(r, why->http, why->code, "%s", why->err.message);
    }
    u.owner_token_id = r->who.role == DT_ROLE_ANONYMOUS ? 0 : r->who.token_id;
    dt_store *st = dt_http_store(r);
    dt_error err = { 0 };
    dt_status created = st ? dt_store_upload_create(st, &u, &err) : DT_ERR_IO;
    dt_blob_unlock(blob_lock);
    if (created != DT_OK)
        return dt_http_error(r, 500, "internal", "cannot record the upload: %s", err.message);
    /* Who queued it, for the per-client queue share and fair leasing.
     * Best effort: without it the job only escapes the share count. */
    if (!u.reused)
        dt_store_job_set_submitter(st, u.id, r->client_key, NULL);
    uint64_t bytes = 0;
    for (int i = 0; i < u.nfiles; i++)
        bytes += u.files[i].size;
    pthread_mutex_lock(&r->srv->mu);
    r->srv->uploads_accepted++;
    r->srv->upload_bytes_accepted += bytes;
    pthread_mutex_unlock(&r->srv->mu);
    if (!u.reused)
        dt_server_notify_job(r->srv);
    char url[256];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", u.id);
    cJSON_AddStringToObject(o, "status", u.reused ? "done" : "queued");
    snprintf(url, sizeof url, "/api/dumps/%s?key=%s", u.id, u.view_key);
    cJSON_AddStringToObject(o, "status_url", url);
    snprintf(url, sizeof url, "/triage/%s?key=%s", u.id, u.view_key);
    cJSON_AddStringToObject(o, "view_url", url);
    cJSON_AddBoolToObject(o, "reused", u.reused);
    cJSON *files = cJSON_AddArrayToObject(o, "files");
    for (int i = 0; i < u.nfiles; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "role", u.files[i].role);
        cJSON_AddStringToObject(f, "sha256", u.files[i].sha256);
        cJSON_AddNumberToObject(f, "size", (double)u.files[i].size);
        cJSON_AddStringToObject(f, "kind", u.files[i].kind);
        cJSON_AddItemToArray(files, f);
    }
    return dt_http_json(r, 202, o);
}

/* Whether the caller may see the upload without a view key. */
static bool owns(const dt_request *r, const dt_upload_ref *u)
{
    if (r->who.role == DT_ROLE_STAFF)
        return true;
    return r->who.role == DT_ROLE_UPLOADER && u->owner_token_id == r->who.token_id;
}

static bool can_view(dt_request *r, const dt_upload_ref *u)
{
    if (owns(r, u))
        return true;
    const char *key = dt_http_arg(r, "key");
    return key && dt_secret_equal(key, u->view_key);
}

/* Clears reused_from in one upload object unless the caller may see the
 * earlier upload by token (a view key opens only its own upload). */
static void hide_foreign_reuse(dt_request *r, dt_store *st, cJSON *upload)
{
    cJSON *from = cJSON_GetObjectItemCaseSensitive(upload, "reused_from");
    if (!cJSON_IsString(from))
        return;
    dt_upload_ref earlier;
    if (dt_store_upload_find(st, from->valuestring, &earlier) && owns(r, &earlier))
        return;
    cJSON_ReplaceItemViaPointer(upload, from, cJSON_CreateNull());
}

static cJSON *upload_json(dt_request *r, dt_store *st, int64_t seq)
{
    cJSON *o = dt_store_upload_json(st, seq);
    if (o)
        hide_foreign_reuse(r, st, o);
    return o;
}

static enum MHD_Result list(dt_request *r)
{
    if (r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "listing uploads needs a token");
    dt_upload_filter f = { 0 };
    f.status = dt_http_arg(r, "status");
    f.q = dt_http_arg(r, "q");
    f.signature = dt_http_arg(r, "signature");
    f.process = dt_http_arg(r, "process");
    const char *c = dt_http_arg(r, "cursor");
    f.cursor = c ? strtoll(c, NULL, 10) : 0;
    const char *l = dt_http_arg(r, "limit");
    f.limit = l ? atoi(l) : 50;
    f.owner_token_id = r->who.role == DT_ROLE_STAFF ? -1 : r->who.token_id;
    if (f.status && !*f.status) f.status = NULL;
    if (f.q && !*f.q) f.q = NULL;
    if (f.signature && !*f.signature) f.signature = NULL;
    if (f.process && !*f.process) f.process = NULL;
    /* The workflow is staff's: only they filter by it and see it. */
    bool staff = r->who.role == DT_ROLE_STAFF;
    f.triage_state = staff ? dt_http_arg(r, "state") : NULL;
    f.assignee = staff ? dt_http_arg(r, "assignee") : NULL;
    if (f.triage_state && !*f.triage_state) f.triage_state = NULL;
    if (f.assignee && !*f.assignee) f.assignee = NULL;
    dt_store *st = dt_http_store(r);
    cJSON *page = st ? dt_store_upload_list(st, &f) : NULL;
    cJSON *item, *items = cJSON_GetObjectItemCaseSensitive(page, "items");
    cJSON_ArrayForEach(item, items)
        hide_foreign_reuse(r, st, item);
    if (staff && st)
        dt_store_workflow_attach(st, items);
    return dt_http_json(r, 200, page);
}

static enum MHD_Result send_file(dt_request *r, const dt_upload_ref *u, const char *role)
{
    dt_file_rec f;
    if (strcmp(role, "user") != 0 && strcmp(role, "kernel") != 0 && strcmp(role, "archive") != 0)
        return dt_http_error(r, 404, "not_found", "files are user, kernel or archive");
    if (!dt_store_file_get(dt_http_store(r), u->seq, role, &f))
        return dt_http_error(r, 404, "not_found", "this upload has no %s file", role);
    if (f.purged)
        return dt_http_error(r, 410, "gone", "the %s file was deleted by the retention policy; the report is kept", role);
    /* Through the blob store's interface (blob.h), not a path: an object
     * store would hand back a descriptor on a fetched copy the same way. */
    dt_blob_store *bs = dt_blob_store_open(&r->srv->cfg, NULL);
    if (!bs)
        return dt_http_error(r, 500, "internal", "out of memory");
    dt_error berr = { 0 };
    int fd = bs->ops->open_read(bs, f.sha256, &berr);
    dt_blob_store_free(bs);
    if (fd < 0 && berr.code == DT_ERR_ARG)
        return dt_http_error(r, 500, "internal", "bad blob name");
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return dt_http_error(r, 410, "gone", "the file is no longer stored");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    char disp[400];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"",
             f.name[0] ? f.name : strcmp(role, "kernel") == 0 ? "kernel.dmp" : strcmp(role, "user") == 0 ? "user.dmp"
                                                                                                         : "upload.bin");
    MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
    MHD_add_response_header(resp, "Content-Disposition", disp);
    MHD_add_response_header(resp, "X-Content-SHA256", f.sha256);
    dt_http_set_bytes(r, (int64_t)st.st_size);
    return dt_http_reply(r, 200, resp);
}

static enum MHD_Result thread(dt_request *r, const dt_upload_ref *u, const char *tid_text)
{
    char *end;
    long long tid = strtoll(tid_text, &end, 0);
    if (end == tid_text || *end)
        return dt_http_error(r, 400, "bad_request", "thread id must be a number");
    if (!u->report_id)
        return dt_http_error(r, 404, "not_found", "no report yet");
    char *text = dt_store_report_text(dt_http_store(r), u->report_id);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "thread_id", (double)tid);
    int found = 0;
    static const char *sides[] = { "user", "kernel", "triage" };
    for (int i = 0; i < 3; i++) {
        cJSON *side = cJSON_GetObjectItemCaseSensitive(root, sides[i]);
        cJSON *threads = cJSON_GetObjectItemCaseSensitive(side, "threads");
        cJSON *t, *match = NULL;
        cJSON *tlist = cJSON_IsArray(threads) ? threads : NULL;
        cJSON_ArrayForEach(t, tlist) {
            cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "thread_id");
            if (cJSON_IsNumber(id) && (long long)id->valuedouble == tid) {
                match = t;
                break;
            }
        }
        if (match) {
            cJSON_AddItemToObject(o, sides[i], cJSON_Duplicate(match, 1));
            found = 1;
        } else {
            cJSON_AddNullToObject(o, sides[i]);
        }
    }
    cJSON *row = dt_store_thread_row(dt_http_store(r), u->report_id, tid);
    if (row) {
        found = 1;
        cJSON_AddItemToObject(o, "summary", row);
    } else {
        cJSON_AddNullToObject(o, "summary");
    }
    cJSON_Delete(root);
    if (!found) {
        cJSON_Delete(o);
        return dt_http_error(r, 404, "not_found", "no thread %lld in this report", tid);
    }
    return dt_http_json(r, 200, o);
}

enum MHD_Result dt_api_dumps(dt_request *r, const char *rest)
{
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (!*rest || strcmp(rest, "/") == 0)
        return get ? list(r) : dt_http_error(r, 405, "method_not_allowed", "use GET or POST");
    rest++;
    char id[40];
    size_t n = strcspn(rest, "/");
    if (n == 0 || n >= sizeof id)
        return dt_http_error(r, 404, "not_found", "no such upload");
    memcpy(id, rest, n);
    id[n] = 0;
    const char *sub = rest + n; /* "" or "/report" … */
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    dt_upload_ref u;
    if (!dt_store_upload_find(st, id, &u) || !can_view(r, &u)) {
        if (r->who.role == DT_ROLE_ANONYMOUS && !dt_http_arg(r, "key"))
            return dt_http_error(r, 401, "unauthorized", "a token or the upload's view key is needed");
        if (dt_http_arg(r, "key"))
            dt_http_auth_failed(r, DT_AUTH_VIEW_KEY);
        return dt_http_error(r, 404, "not_found", "no such upload");
    }
    if (!*sub) {
        if (get)
            return dt_http_json(r, 200, upload_json(r, st, u.seq));
        if (strcmp(r->method, "DELETE") == 0) {
            if (r->who.role != DT_ROLE_STAFF)
                return dt_http_error(r, 403, "forbidden", "only staff may delete uploads");
            size_t removed = 0;
            dt_error err = { 0 };
            if (dt_blob_gc_delete_upload(r->srv->cfg.data_dir, st, u.seq, &removed, &err) != DT_OK)
                return dt_http_error(r, 500, "internal", "%s", err.message);
            dt_retention_log_deletion("upload", "staff", u.id, -1, -1, removed, -1);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", u.id);
            cJSON_AddBoolToObject(o, "deleted", 1);
            return dt_http_json(r, 200, o);
        }
        return dt_http_error(r, 405, "method_not_allowed", "use GET or DELETE");
    }
    if (strcmp(sub, "/workflow") == 0 || strcmp(sub, "/comments") == 0)
        return dt_api_workflow(r, &u, sub);
    if (strcmp(sub, "/snapshots") == 0)
        return dt_api_snapshots(r, &u);
    if (strcmp(sub, "/reanalyze") == 0) {
        if (strcmp(r->method, "POST") != 0)
            return dt_http_error(r, 405, "method_not_allowed", "use POST");
        if (r->who.role != DT_ROLE_STAFF)
            return dt_http_error(r, 403, "forbidden", "only staff may reanalyze uploads");
        static const char *roles[] = { "user", "kernel", "archive" };
        for (int i = 0; i < 3; i++) {
            dt_file_rec f;
            if (dt_store_file_get(st, u.seq, roles[i], &f) && f.purged)
                return dt_http_error(r, 410, "gone", "the dump files were deleted by the retention policy");
        }
        dt_error err = { 0 };
        if (dt_store_upload_reanalyze(st, u.seq, &err) != DT_OK)
            return dt_http_error(r, 500, "internal", "%s", err.message);
        dt_server_notify_job(r->srv);
        return dt_http_json(r, 202, upload_json(r, st, u.seq));
    }
    if (!get)
        return dt_http_error(r, 405, "method_not_allowed", "use GET");
    if (strcmp(sub, "/report") == 0) {
        if (!u.report_id)
            return dt_http_error(r, 404, "not_found", "the upload has no report (status %s)", u.status);
        char *text = dt_store_report_text(st, u.report_id);
        if (!text)
            return dt_http_error(r, 404, "not_found", "the report is gone");
        int64_t first = dt_store_upload_reused_seq(st, u.seq);
        if (first)
            text = dt_report_names_for_reuse(st, first, u.seq, text);
        return dt_http_text(r, 200, "application/json", text);
    }
    if (strncmp(sub, "/threads/", 9) == 0)
        return thread(r, &u, sub + 9);
    if (strncmp(sub, "/files/", 7) == 0)
        return send_file(r, &u, sub + 7);
    return dt_http_error(r, 404, "not_found", "no such endpoint");
}
