/*
 * api_workflow.c — owns the support workflow endpoints (docs/api.md,
 * "Workflow"): an upload's triage state, assignee and ticket
 * (GET/PATCH /api/dumps/{id}/workflow), its comment thread
 * (POST /api/dumps/{id}/comments), and one hang signature's uploads per day
 * (GET /api/signatures/detail?signature=…).
 *
 * The workflow is the support team's internal record: staff only.  A view
 * key or an uploader token that may see the upload gets 403 (the upload
 * exists for them), anyone else the 404 api_dumps.c already gave.  The
 * signature detail follows /api/signatures: uploaders count their own
 * uploads, staff all.  A bucket whose uploads all moved to another
 * signature (re-analysis after symbols arrived: store_signatures.h) answers
 * 307 to the bucket they are in now, with a body that says merged_into.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "store_signatures.h"

#define MAX_SHORT 200   /* assignee, ticket */
#define MAX_COMMENT 8192

/* A string member of the body: *out is NULL when absent; false when present
 * but neither a string nor null, or too long. */
static bool member(cJSON *root, const char *name, const char **out, int *present, size_t max)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    *out = NULL;
    if (present)
        *present = v != NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > max)
        return false;
    *out = v->valuestring;
    return true;
}

static bool has_control(const char *s, bool newlines_ok)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && !(newlines_ok && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f)
            return true;
    }
    return false;
}

static enum MHD_Result reply_workflow(dt_request *r, dt_store *st, const dt_upload_ref *u, unsigned status)
{
    dt_error err = { 0 };
    cJSON *o = dt_store_workflow_get(st, u->seq, &err);
    if (!o)
        return dt_http_error(r, 500, "internal", "%s", err.message);
    cJSON_AddStringToObject(o, "id", u->id);
    return dt_http_json(r, status, o);
}

static enum MHD_Result patch(dt_request *r, dt_store *st, const dt_upload_ref *u)
{
    cJSON *root = r->body ? cJSON_Parse(r->body) : NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request", "send {\"state\":…, \"assignee\":…, \"ticket\":…}");
    }
    dt_workflow_change ch = { 0 };
    int has_state = 0;
    if (!member(root, "state", &ch.state, &has_state, 40) || (has_state && !dt_workflow_state_valid(ch.state))) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request",
                             "state is one of new, investigating, waiting_for_customer, resolved");
    }
    if (!member(root, "assignee", &ch.assignee, &ch.set_assignee, MAX_SHORT)
        || !member(root, "ticket", &ch.ticket, &ch.set_ticket, MAX_SHORT) || has_control(ch.assignee, false)
        || has_control(ch.ticket, false)) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request", "assignee and ticket are strings of at most %d bytes, one line",
                             MAX_SHORT);
    }
    if (!has_state && !ch.set_assignee && !ch.set_ticket) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request", "nothing to change");
    }
    dt_error err = { 0 };
    dt_status s = dt_store_workflow_set(st, u->seq, &ch, r->who.token_id, &err);
    cJSON_Delete(root);
    if (s != DT_OK)
        return dt_http_error(r, 500, "internal", "%s", err.message);
    return reply_workflow(r, st, u, 200);
}

static enum MHD_Result comment(dt_request *r, dt_store *st, const dt_upload_ref *u)
{
    cJSON *root = r->body ? cJSON_Parse(r->body) : NULL;
    const char *text = NULL;
    if (!cJSON_IsObject(root) || !member(root, "text", &text, NULL, MAX_COMMENT) || !text) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request", "send {\"text\":\"…\"} (at most %d bytes)", MAX_COMMENT);
    }
    const char *p = text;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    if (!*p || has_control(text, true)) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request", "a comment needs text (no control characters)");
    }
    int64_t id = 0;
    dt_error err = { 0 };
    dt_status s = dt_store_comment_add(st, u->seq, r->who.token_id, text, &id, &err);
    cJSON_Delete(root);
    if (s != DT_OK)
        return dt_http_error(r, 500, "internal", "%s", err.message);
    return reply_workflow(r, st, u, 201);
}

enum MHD_Result dt_api_workflow(dt_request *r, const dt_upload_ref *u, const char *sub)
{
    if (r->who.role != DT_ROLE_STAFF)
        return dt_http_error(r, 403, "forbidden", "the workflow is for staff");
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (strcmp(sub, "/workflow") == 0) {
        if (get)
            return reply_workflow(r, st, u, 200);
        if (strcmp(r->method, "PATCH") == 0 || strcmp(r->method, "PUT") == 0)
            return patch(r, st, u);
        return dt_http_error(r, 405, "method_not_allowed", "use GET or PATCH");
    }
    if (strcmp(sub, "/comments") == 0) {
        if (get)
            return reply_workflow(r, st, u, 200);
        if (strcmp(r->method, "POST") == 0)
            return comment(r, st, u);
        return dt_http_error(r, 405, "method_not_allowed", "use GET or POST");
    }
    return dt_http_error(r, 404, "not_found", "no such endpoint");
}

enum MHD_Result dt_api_signature_detail(dt_request *r)
{
    if (r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "signatures need a token");
    const char *sig = dt_http_arg(r, "signature");
    if (!sig || !*sig || strlen(sig) > 4096)
        return dt_http_error(r, 400, "bad_request", "name the signature: ?signature=…");
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    dt_error err = { 0 };
    int64_t owner = r->who.role == DT_ROLE_STAFF ? -1 : r->who.token_id;
    cJSON *o = dt_store_signature_detail(st, sig, owner, &err);
    if (!o)
        return dt_http_error(r, 500, "internal", "%s", err.message);
    if (dt_store_signature_merges(st, sig, owner, o, &err) != DT_OK) {
        cJSON_Delete(o);
        return dt_http_error(r, 500, "internal", "%s", err.message);
    }
    const char *into = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "merged_into"));
    if (!into)
        return dt_http_json(r, 200, o);
    /* Temporary, not permanent: a new dump analysed without symbols can
     * bring the old signature back. */
    char *loc = malloc(strlen(into) * 3 + 64);
    if (!loc) {
        cJSON_Delete(o);
        return dt_http_error(r, 500, "internal", "out of memory");
    }
    char *p = loc + sprintf(loc, "/api/signatures/detail?signature=");
    for (const unsigned char *c = (const unsigned char *)into; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("-._~", *c))
            *p++ = (char)*c;
        else
            p += sprintf(p, "%%%02X", *c);
    }
    *p = '\0';
    r->location = loc;
    enum MHD_Result ok = dt_http_json(r, 307, o); /* consumes o (and `into` with it) */
    r->location = NULL;
    free(loc);
    return ok;
}
