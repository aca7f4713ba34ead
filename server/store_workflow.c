/*
 * store_workflow.c — the SQL of the support workflow (migration
 * 006_workflow.sql): an upload's triage state, assignee, ticket and comment
 * thread, the workflow members of list items, and a signature's uploads
 * counted per day.  An upload without a workflow row is in state "new".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_internal.h"

static cJSON *iso(int64_t t)
{
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return cJSON_CreateString(buf);
}

bool dt_workflow_state_valid(const char *state)
{
    static const char *states[] = { "new", "investigating", "waiting_for_customer", "resolved" };
    for (size_t i = 0; state && i < sizeof states / sizeof states[0]; i++)
        if (strcmp(state, states[i]) == 0)
            return true;
    return false;
}

/* {"token_id","name"} of a token id column, or null. */
static cJSON *who_json(dt_stmt *st, int id_col, int name_col)
{
    if (dt_stmt_is_null(st, id_col))
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "token_id", (double)dt_stmt_int64(st, id_col));
    cJSON_AddItemToObject(o, "name", dt_sql_column_json(st, name_col));
    return o;
}

cJSON *dt_store_workflow_get(dt_store *s, int64_t seq, dt_error *err)
{
    cJSON *o = cJSON_CreateObject();
    dt_stmt *st = dt_sql_prepare(s, "SELECT w.state, w.assignee, w.ticket, w.updated_at, w.updated_by, t.name"
                                         " FROM workflow w LEFT JOIN tokens t ON t.id = w.updated_by WHERE w.upload_seq = ?1", err);
    if (!st) {
        cJSON_Delete(o);
        return NULL;
    }
    dt_stmt_bind_int64(st, 1, seq);
    if (dt_stmt_step(st) == DT_DB_ROW) {
        cJSON_AddItemToObject(o, "state", dt_sql_column_json(st, 0));
        cJSON_AddItemToObject(o, "assignee", dt_sql_column_json(st, 1));
        cJSON_AddItemToObject(o, "ticket", dt_sql_column_json(st, 2));
        cJSON_AddItemToObject(o, "updated_at", iso(dt_stmt_int64(st, 3)));
        cJSON_AddItemToObject(o, "updated_by", who_json(st, 4, 5));
    } else {
        cJSON_AddStringToObject(o, "state", "new");
        cJSON_AddNullToObject(o, "assignee");
        cJSON_AddNullToObject(o, "ticket");
        cJSON_AddNullToObject(o, "updated_at");
        cJSON_AddNullToObject(o, "updated_by");
    }
    dt_stmt_finalize(st);
    cJSON *list = cJSON_AddArrayToObject(o, "comments");
    st = dt_sql_prepare(s, "SELECT c.id, c.text, c.created_at, c.author_id, t.name FROM comments c"
                           " LEFT JOIN tokens t ON t.id = c.author_id WHERE c.upload_seq = ?1 ORDER BY c.id LIMIT 1000", err);
    if (!st) {
        cJSON_Delete(o);
        return NULL;
    }
    dt_stmt_bind_int64(st, 1, seq);
    while (dt_stmt_step(st) == DT_DB_ROW) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "id", (double)dt_stmt_int64(st, 0));
        cJSON_AddItemToObject(c, "text", dt_sql_column_json(st, 1));
        cJSON_AddItemToObject(c, "created_at", iso(dt_stmt_int64(st, 2)));
        cJSON_AddItemToObject(c, "author", who_json(st, 3, 4));
        cJSON_AddItemToArray(list, c);
    }
    dt_stmt_finalize(st);
    return o;
}

typedef struct {
    const dt_workflow_change *ch;
    int64_t seq, by;
} set_ctx;

static dt_status set_body(dt_store *s, void *p, dt_error *err)
{
    const set_ctx *c = p;
    dt_stmt *st = dt_sql_prepare(s, "INSERT INTO workflow(upload_seq, state, assignee, ticket, updated_at, updated_by)"
                                         " VALUES (?1, COALESCE(?2, 'new'), ?3, ?4, ?5, ?6)"
                                         " ON CONFLICT(upload_seq) DO UPDATE SET"
                                         "  state = COALESCE(?2, workflow.state),"
                                         "  assignee = CASE WHEN ?7 <> 0 THEN ?3 ELSE workflow.assignee END,"
                                         "  ticket = CASE WHEN ?8 <> 0 THEN ?4 ELSE workflow.ticket END,"
                                         "  updated_at = ?5, updated_by = ?6", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->seq);
    dt_sql_bind_text(st, 2, c->ch->state);
    dt_sql_bind_text(st, 3, c->ch->assignee && *c->ch->assignee ? c->ch->assignee : NULL);
    dt_sql_bind_text(st, 4, c->ch->ticket && *c->ch->ticket ? c->ch->ticket : NULL);
    dt_stmt_bind_int64(st, 5, (int64_t)time(NULL));
    if (c->by > 0)
        dt_stmt_bind_int64(st, 6, c->by);
    else
        dt_stmt_bind_null(st, 6);
    dt_stmt_bind_int64(st, 7, c->ch->set_assignee);
    dt_stmt_bind_int64(st, 8, c->ch->set_ticket);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    return rc == DT_DB_DONE ? DT_OK : dt_sql_fail(s, err, "cannot store the workflow");
}

dt_status dt_store_workflow_set(dt_store *s, int64_t seq, const dt_workflow_change *ch, int64_t by, dt_error *err)
{
    if (ch->state && !dt_workflow_state_valid(ch->state))
        return dt_error_set(err, DT_ERR_ARG, "unknown triage state");
    set_ctx c = { ch, seq, by };
    return dt_sql_txn(s, set_body, &c, err);
}

typedef struct {
    int64_t seq, by, id;
    const char *text;
} comment_ctx;

static dt_status comment_body(dt_store *s, void *p, dt_error *err)
{
    comment_ctx *c = p;
    dt_stmt *st = dt_sql_prepare(s, "INSERT INTO comments(upload_seq, author_id, text, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->seq);
    if (c->by > 0)
        dt_stmt_bind_int64(st, 2, c->by);
    else
        dt_stmt_bind_null(st, 2);
    dt_sql_bind_text(st, 3, c->text);
    dt_stmt_bind_int64(st, 4, (int64_t)time(NULL));
    return dt_sql_insert_id(s, st, &c->id, err, "cannot store the comment");
}

dt_status dt_store_comment_add(dt_store *s, int64_t seq, int64_t by, const char *text, int64_t *id, dt_error *err)
{
    comment_ctx c = { seq, by, 0, text };
    dt_status rc = dt_sql_txn(s, comment_body, &c, err);
    if (rc == DT_OK && id)
        *id = c.id;
    return rc;
}

void dt_store_workflow_attach(dt_store *s, cJSON *items)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT COALESCE(w.state, 'new'), w.assignee, w.ticket,"
                                         " (SELECT COUNT(*) FROM comments c WHERE c.upload_seq = u.seq)"
                                         " FROM uploads u LEFT JOIN workflow w ON w.upload_seq = u.seq WHERE u.id = ?1", NULL);
    if (!st)
        return;
    cJSON *item;
    cJSON_ArrayForEach(item, items) {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        if (!cJSON_IsString(id))
            continue;
        dt_stmt_reset(st);
        dt_sql_bind_text(st, 1, id->valuestring);
        if (dt_stmt_step(st) != DT_DB_ROW)
            continue;
        cJSON *w = cJSON_CreateObject();
        cJSON_AddItemToObject(w, "state", dt_sql_column_json(st, 0));
        cJSON_AddItemToObject(w, "assignee", dt_sql_column_json(st, 1));
        cJSON_AddItemToObject(w, "ticket", dt_sql_column_json(st, 2));
        cJSON_AddNumberToObject(w, "comments", (double)dt_stmt_int64(st, 3));
        cJSON_AddItemToObject(item, "workflow", w);
    }
    dt_stmt_finalize(st);
}

cJSON *dt_store_signature_detail(dt_store *s, const char *signature, int64_t owner_token_id, dt_error *err)
{
    /* The day in UTC, YYYY-MM-DD, in each engine's words. */
    dt_stmt *st = dt_sql_prepare(s, DT_STORE_PG(s)
                                     ? "SELECT to_char(to_timestamp(u.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
                                       " COUNT(*), MIN(u.created_at), MAX(u.created_at)"
                                       " FROM uploads u JOIN reports r ON r.id = u.report_id"
                                       " WHERE r.signature = ?1 AND (?2 < 0 OR u.owner_token_id = ?2)"
                                       " GROUP BY 1 ORDER BY 1 LIMIT 3660"
                                     : "SELECT date(u.created_at, 'unixepoch'), COUNT(*), MIN(u.created_at), MAX(u.created_at)"
                                         " FROM uploads u JOIN reports r ON r.id = u.report_id"
                                         " WHERE r.signature = ?1 AND (?2 < 0 OR u.owner_token_id = ?2)"
                                         " GROUP BY 1 ORDER BY 1 LIMIT 3660", err);
    if (!st)
        return NULL;
    dt_sql_bind_text(st, 1, signature);
    dt_stmt_bind_int64(st, 2, owner_token_id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "signature", signature);
    cJSON *days = cJSON_CreateArray();
    int64_t total = 0, first = 0, last = 0;
    while (dt_stmt_step(st) == DT_DB_ROW) {
        int64_t n = dt_stmt_int64(st, 1);
        int64_t lo = dt_stmt_int64(st, 2), hi = dt_stmt_int64(st, 3);
        if (!total || lo < first)
            first = lo;
        if (hi > last)
            last = hi;
        total += n;
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToObject(d, "day", dt_sql_column_json(st, 0));
        cJSON_AddNumberToObject(d, "count", (double)n);
        cJSON_AddItemToArray(days, d);
    }
    dt_stmt_finalize(st);
    cJSON_AddNumberToObject(o, "count", (double)total);
    cJSON_AddItemToObject(o, "first_seen", total ? iso(first) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "last_seen", total ? iso(last) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "days", days);
    return o;
}
