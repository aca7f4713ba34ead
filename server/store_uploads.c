/*
 * store_uploads.c — uploads, their files and reports in the store: creation
 * (with reuse of an identical pair's analysis), the API objects, listing with
 * filters and cursor pagination, deletion and reanalysis.
 *
 * The cursor is the upload's sequence number: lists run newest first and a
 * cursor means "older than this", so pages stay stable while uploads arrive.
 */
#include "store_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_upgrade.h"
#include "secrets.h"

static void pair_key(const dt_upload_new *u, char *out, size_t len)
{
    /* Roles in a fixed order so that the same pair gives the same key. */
    static const char *order[] = { "user", "kernel", "archive" };
    size_t off = 0;
    out[0] = 0;
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < u->nfiles; i++)
            if (strcmp(u->files[i].role, order[r]) == 0 && off < len)
                off += (size_t)snprintf(out + off, len - off, "%s:%s;", order[r], u->files[i].sha256);
}

static dt_status insert_files(dt_store *s, int64_t seq, const dt_file_rec *files, int n, dt_error *err)
{
    for (int i = 0; i < n; i++) {
        dt_stmt *st = dt_sql_prepare(s, "INSERT INTO files(upload_seq, role, sha256, size, kind, name)"
                                             " VALUES (?,?,?,?,?,?)", err);
        if (!st)
            return DT_ERR_IO;
        dt_stmt_bind_int64(st, 1, seq);
        dt_sql_bind_text(st, 2, files[i].role);
        dt_sql_bind_text(st, 3, files[i].sha256);
        dt_stmt_bind_int64(st, 4, (int64_t)files[i].size);
        dt_sql_bind_text(st, 5, files[i].kind);
        dt_sql_bind_text(st, 6, files[i].name[0] ? files[i].name : NULL);
        int rc = dt_stmt_step(st);
        dt_stmt_finalize(st);
        if (rc != DT_DB_DONE)
            return dt_sql_fail(s, err, "cannot record file");
    }
    return DT_OK;
}

typedef struct {
    dt_upload_new *u;
    const char *key;
    uint64_t bytes;
} upload_create_ctx;

static dt_status upload_create_body(dt_store *s, void *ctx, dt_error *err)
{
    upload_create_ctx *c = ctx;
    int64_t reuse_report = 0;
    char reuse_id[33] = "";
    dt_stmt *st = dt_sql_prepare(s, "SELECT report_id, id FROM uploads WHERE pair_key = ? AND status = 'done'"
                                         " AND report_id IS NOT NULL ORDER BY seq DESC LIMIT 1", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, c->key);
    if (dt_stmt_step(st) == DT_DB_ROW) {
        reuse_report = dt_stmt_int64(st, 0);
        dt_sql_column_copy(st, 1, reuse_id, sizeof reuse_id);
    }
    dt_stmt_finalize(st);
    c->u->reused = reuse_report != 0;

    int64_t now = dt_now();
    st = dt_sql_prepare(s, "INSERT INTO uploads(id, view_key, owner_token_id, status, created_at, updated_at, note,"
                           " case_id, customer, pair_key, report_id, reused_from, bytes)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING seq", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, c->u->id);
    dt_sql_bind_text(st, 2, c->u->view_key);
    if (c->u->owner_token_id > 0)
        dt_stmt_bind_int64(st, 3, c->u->owner_token_id);
    else
        dt_stmt_bind_null(st, 3);
    dt_sql_bind_text(st, 4, c->u->reused ? "done" : "queued");
    dt_stmt_bind_int64(st, 5, now);
    dt_stmt_bind_int64(st, 6, now);
    dt_sql_bind_text(st, 7, c->u->note);
    dt_sql_bind_text(st, 8, c->u->case_id);
    dt_sql_bind_text(st, 9, c->u->customer);
    dt_sql_bind_text(st, 10, c->key);
    if (c->u->reused)
        dt_stmt_bind_int64(st, 11, reuse_report);
    else
        dt_stmt_bind_null(st, 11);
    dt_sql_bind_text(st, 12, c->u->reused ? reuse_id : NULL);
    dt_stmt_bind_int64(st, 13, (int64_t)c->bytes);
    int64_t seq = 0;
    if (dt_sql_insert_id(s, st, &seq, err, "cannot record upload") != DT_OK)
        return DT_ERR_IO;
    int rc;
    if (insert_files(s, seq, c->u->files, c->u->nfiles, err) != DT_OK)
        return dt_sql_fail(s, err, "cannot record upload");
    if (c->u->reused) {
        /* An archive identical to an analyzed one: list the dumps found in
         * it then, so this upload's files can be downloaded too. */
        st = dt_sql_prepare(s, "INSERT INTO files(upload_seq, role, sha256, size, kind, name, purged_at, purge_reason)"
                               " SELECT ?1, role, sha256, size, kind, name, purged_at, purge_reason FROM files"
                               " WHERE upload_seq = (SELECT seq FROM uploads WHERE id = ?2)"
                               " AND role IN ('user', 'kernel')"
                               " AND role NOT IN (SELECT role FROM files WHERE upload_seq = ?1)", err);
        if (!st)
            return DT_ERR_IO;
        dt_stmt_bind_int64(st, 1, seq);
        dt_sql_bind_text(st, 2, reuse_id);
        rc = dt_stmt_step(st);
        dt_stmt_finalize(st);
        if (rc != DT_DB_DONE)
            return dt_sql_fail(s, err, "cannot record upload");
    }
    if (!c->u->reused) {
        st = dt_sql_prepare(s, "INSERT INTO jobs(upload_seq, state, created_at) VALUES (?, 'queued', ?)", err);
        if (!st)
            return DT_ERR_IO;
        dt_stmt_bind_int64(st, 1, seq);
        dt_stmt_bind_int64(st, 2, now);
        rc = dt_stmt_step(st);
        dt_stmt_finalize(st);
        if (rc != DT_DB_DONE)
            return dt_sql_fail(s, err, "cannot queue job");
    }
    return DT_OK;
}

/* Fills in the ids; the body of dt_store_upload_create, for callers whose
 * own transaction records more with the upload (store_tus.c). */
dt_status dt_store_upload_create_in_txn(dt_store *s, dt_upload_new *u, dt_error *err)
{
    if (dt_random_hex(u->id, sizeof u->id, 12) != 0 || dt_random_hex(u->view_key, sizeof u->view_key, 24) != 0)
        return dt_error_set(err, DT_ERR_IO, "no randomness");
    char key[512];
    pair_key(u, key, sizeof key);
    uint64_t bytes = 0;
    for (int i = 0; i < u->nfiles; i++)
        bytes += u->files[i].size;
    upload_create_ctx c = { u, key, bytes };
    return upload_create_body(s, &c, err);
}

static dt_status upload_create_txn(dt_store *s, void *ctx, dt_error *err)
{
    return dt_store_upload_create_in_txn(s, ctx, err);
}

dt_status dt_store_upload_create(dt_store *s, dt_upload_new *u, dt_error *err)
{
    return dt_sql_txn(s, upload_create_txn, u, err);
}

int dt_store_upload_find(dt_store *s, const char *id, dt_upload_ref *out)
{
    if (!id || strlen(id) > 32)
        return 0;
    dt_stmt *st = dt_sql_prepare(s, "SELECT seq, id, view_key, owner_token_id, status, report_id"
                                         " FROM uploads WHERE id = ?", NULL);
    int found = 0;
    if (st) {
        dt_sql_bind_text(st, 1, id);
        if (dt_stmt_step(st) == DT_DB_ROW) {
            found = 1;
            out->seq = dt_stmt_int64(st, 0);
            dt_sql_column_copy(st, 1, out->id, sizeof out->id);
            dt_sql_column_copy(st, 2, out->view_key, sizeof out->view_key);
            out->owner_token_id = dt_stmt_int64(st, 3);
            dt_sql_column_copy(st, 4, out->status, sizeof out->status);
            out->report_id = dt_stmt_int64(st, 5);
        }
    }
    dt_stmt_finalize(st);
    return found;
}

int dt_store_upload_find_by_key(dt_store *s, const char *key, dt_upload_ref *out)
{
    if (!key || strlen(key) != 48)
        return 0;
    dt_stmt *st = dt_sql_prepare(s, "SELECT id FROM uploads WHERE view_key = ?", NULL);
    char id[33] = "";
    if (st) {
        dt_sql_bind_text(st, 1, key);
        if (dt_stmt_step(st) == DT_DB_ROW)
            dt_sql_column_copy(st, 0, id, sizeof id);
    }
    dt_stmt_finalize(st);
    return id[0] ? dt_store_upload_find(s, id, out) : 0;
}

static cJSON *iso_time(int64_t t)
{
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return cJSON_CreateString(buf);
}

static cJSON *file_row_json(dt_stmt *st, int c)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddItemToObject(f, "role", dt_sql_column_json(st, c));
    cJSON_AddItemToObject(f, "sha256", dt_sql_column_json(st, c + 1));
    cJSON_AddNumberToObject(f, "size", (double)dt_stmt_int64(st, c + 2));
    cJSON_AddItemToObject(f, "kind", dt_sql_column_json(st, c + 3));
    cJSON_AddItemToObject(f, "name", dt_sql_column_json(st, c + 4));
    cJSON_AddBoolToObject(f, "purged", (int)dt_stmt_int64(st, c + 5));
    return f;
}

#define FILE_COLUMNS "role, sha256, size, kind, name, purged_at IS NOT NULL"
#define FILE_ORDER "CASE role WHEN 'user' THEN 0 WHEN 'kernel' THEN 1 ELSE 2 END, id"

static cJSON *files_json(dt_store *s, int64_t seq)
{
    cJSON *arr = cJSON_CreateArray();
    dt_stmt *st = dt_sql_prepare(s, "SELECT " FILE_COLUMNS " FROM files WHERE upload_seq = ?"
                                         " ORDER BY " FILE_ORDER, NULL);
    if (!st)
        return arr;
    dt_stmt_bind_int64(st, 1, seq);
    while (dt_stmt_step(st) == DT_DB_ROW)
        cJSON_AddItemToArray(arr, file_row_json(st, 0));
    dt_stmt_finalize(st);
    return arr;
}

/* The columns upload_row_json reads, in its order; FROM uploads u LEFT JOIN
 * reports r. */
#define UPLOAD_COLUMNS \
    "u.id, u.view_key, u.status, u.error, u.created_at, u.note, u.case_id, u.customer, u.reused_from," \
    " r.id, r.process, r.pid, r.bugcheck, r.verdict, r.signature, r.thread_count"

/* The API object of one upload from a row of UPLOAD_COLUMNS; takes files
 * (an array the caller may still fill: a list page reads the files of all
 * its uploads in one query). */
static cJSON *upload_row_json_at(dt_stmt *st, int b, cJSON *files)
{
    cJSON *o = cJSON_CreateObject();
    const char *id = (const char *)dt_stmt_text(st, b + 0);
    const char *key = (const char *)dt_stmt_text(st, b + 1);
    char url[256];
    cJSON_AddStringToObject(o, "id", id ? id : "");
    cJSON_AddItemToObject(o, "status", dt_sql_column_json(st, b + 2));
    cJSON_AddItemToObject(o, "error", dt_sql_column_json(st, b + 3));
    cJSON_AddItemToObject(o, "created_at", iso_time(dt_stmt_int64(st, b + 4)));
    cJSON_AddItemToObject(o, "note", dt_sql_column_json(st, b + 5));
    cJSON_AddItemToObject(o, "case_id", dt_sql_column_json(st, b + 6));
    cJSON_AddItemToObject(o, "customer", dt_sql_column_json(st, b + 7));
    cJSON_AddBoolToObject(o, "reused", !dt_stmt_is_null(st, b + 8));
    cJSON_AddItemToObject(o, "reused_from", dt_sql_column_json(st, b + 8));
    cJSON_AddItemToObject(o, "files", files);
    cJSON *sum = cJSON_AddObjectToObject(o, "summary");
    int has_report = !dt_stmt_is_null(st, b + 9);
    cJSON_AddItemToObject(sum, "process", dt_sql_column_json(st, b + 10));
    if (!dt_stmt_is_null(st, b + 11))
        cJSON_AddNumberToObject(sum, "pid", (double)dt_stmt_int64(st, b + 11));
    else
        cJSON_AddNullToObject(sum, "pid");
    cJSON_AddItemToObject(sum, "bugcheck", dt_sql_column_json(st, b + 12));
    cJSON_AddItemToObject(sum, "verdict", dt_sql_column_json(st, b + 13));
    cJSON_AddItemToObject(sum, "signature", dt_sql_column_json(st, b + 14));
    if (!dt_stmt_is_null(st, b + 15))
        cJSON_AddNumberToObject(sum, "thread_count", (int)dt_stmt_int64(st, b + 15));
    else
        cJSON_AddNullToObject(sum, "thread_count");
    if (has_report) {
        snprintf(url, sizeof url, "/api/dumps/%s/report", id);
        cJSON_AddStringToObject(o, "report_url", url);
    } else {
        cJSON_AddNullToObject(o, "report_url");
    }
    snprintf(url, sizeof url, "/triage/%s?key=%s", id, key ? key : "");
    cJSON_AddStringToObject(o, "view_url", url);
    return o;
}

/* Fills files[i] with the file objects of upload seqs[i], for n uploads
 * (at most 200, a page), with one statement: IN (?,?,…), one parameter per
 * upload, which both engines read alike. */
static void attach_files(dt_store *s, const int64_t *seqs, cJSON **files, int n)
{
    char sql[1024 + 2 * 200];
    size_t off = (size_t)snprintf(sql, sizeof sql, "SELECT upload_seq, " FILE_COLUMNS " FROM files WHERE upload_seq IN (");
    for (int i = 0; i < n && i < 200; i++)
        off += (size_t)snprintf(sql + off, sizeof sql - off, "%s?", i ? "," : "");
    snprintf(sql + off, sizeof sql - off, ") ORDER BY upload_seq, " FILE_ORDER);
    dt_stmt *st = dt_sql_prepare(s, sql, NULL);
    if (!st)
        return;
    for (int i = 0; i < n && i < 200; i++)
        dt_stmt_bind_int64(st, i + 1, seqs[i]);
    int at = 0;
    while (dt_stmt_step(st) == DT_DB_ROW) {
        int64_t seq = dt_stmt_int64(st, 0);
        if (seqs[at] != seq)
            for (at = 0; at < n && seqs[at] != seq; at++)
                ;
        if (at == n) {
            at = 0;
            continue;
        }
        cJSON_AddItemToArray(files[at], file_row_json(st, 1));
    }
    dt_stmt_finalize(st);
}

cJSON *dt_store_upload_json(dt_store *s, int64_t seq)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT " UPLOAD_COLUMNS
                                         " FROM uploads u LEFT JOIN reports r ON r.id = u.report_id WHERE u.seq = ?",
                                      NULL);
    if (!st)
        return NULL;
    dt_stmt_bind_int64(st, 1, seq);
    cJSON *o = NULL;
    if (dt_stmt_step(st) == DT_DB_ROW)
        o = upload_row_json_at(st, 0, files_json(s, seq));
    dt_stmt_finalize(st);
    return o;
}

/* s between two `edge` characters, each character of `special` in it
 * preceded by `esc`: the quoting of a LIKE pattern ('%', escape '\\') and of
 * an FTS5 phrase ('"', a quote doubled) alike. */
static char *quoted(const char *s, char edge, const char *special, char esc)
{
    size_t n = strlen(s);
    char *p = malloc(2 * n + 3);
    if (!p)
        return NULL;
    size_t j = 0;
    p[j++] = edge;
    for (size_t i = 0; i < n; i++) {
        if (strchr(special, s[i]))
            p[j++] = esc;
        p[j++] = s[i];
    }
    p[j++] = edge;
    p[j] = 0;
    return p;
}

/* LIKE pattern matching s anywhere, with %, _ and \ escaped. */
static char *like_pattern(const char *s)
{
    return quoted(s, '%', "%_\\", '\\');
}

/* An FTS5 phrase matching s literally. */
static char *fts_phrase(const char *s)
{
    return quoted(s, '"', "\"", '"');
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

cJSON *dt_store_upload_list(dt_store *s, const dt_upload_filter *f)
{
    /* Two statements per page whatever its size: the uploads with their
     * report summaries, then the files of all of them.  The page's seqs are
     * chosen by an inner query, so that a search matching thousands of rows
     * sorts only their seqs, not whole rows. */
    char sql[2048] = "SELECT u.seq, " UPLOAD_COLUMNS " FROM uploads u LEFT JOIN reports r ON r.id = u.report_id"
                     " WHERE u.seq IN (SELECT u.seq FROM uploads u LEFT JOIN reports r ON r.id = u.report_id WHERE 1 = 1";
    size_t off = strlen(sql);
    int limit = f->limit < 1 ? 50 : f->limit > 200 ? 200 : f->limit;
#define ADD(clause) off += (size_t)snprintf(sql + off, sizeof sql - off, "%s", clause)
    if (f->cursor > 0) ADD(" AND u.seq < ?1");
    if (f->status) ADD(" AND u.status = ?2");
    if (f->signature) ADD(" AND r.signature = ?3");
    /* PostgreSQL's LIKE tells case apart, SQLite's (ASCII) does not: ILIKE
     * there answers the same question. */
    const bool pg = DT_STORE_PG(s);
    if (f->process) ADD(pg ? " AND r.process ILIKE ?4 ESCAPE '\\'" : " AND r.process LIKE ?4 ESCAPE '\\'");
    if (f->owner_token_id >= 0) ADD(" AND u.owner_token_id = ?5");
    if (f->triage_state) ADD(" AND COALESCE((SELECT w.state FROM workflow w WHERE w.upload_seq = u.seq), 'new') = ?9");
    if (f->assignee)
        ADD(pg ? " AND u.seq IN (SELECT w.upload_seq FROM workflow w WHERE lower(w.assignee) = lower(?10))"
               : " AND u.seq IN (SELECT w.upload_seq FROM workflow w WHERE w.assignee = ?10 COLLATE NOCASE)");
    /* Text search: the trigram indexes of migration 004 answer substrings of
     * three characters or more; a shorter q scans with LIKE, as it must.
     * PostgreSQL's migration 004 puts pg_trgm GIN indexes on the same
     * columns, which serve ILIKE '%q%' itself: one statement for every q. */
    int indexed = f->q && utf8_chars(f->q) >= 3 && !pg;
    if (f->q && indexed)
        ADD(" AND (u.id = ?6"
            " OR u.seq IN (SELECT rowid FROM upload_search WHERE upload_search MATCH ?7)"
            " OR u.report_id IN (SELECT rowid FROM report_search WHERE report_search MATCH ?7)"
            " OR u.seq IN (SELECT upload_seq FROM files WHERE sha256 = lower(?6)"
            "   OR id IN (SELECT rowid FROM file_search WHERE file_search MATCH ?7)))");
    else if (f->q && pg)
        ADD(" AND (u.id = ?6 OR u.note ILIKE ?7 ESCAPE '\\' OR u.case_id ILIKE ?7 ESCAPE '\\'"
            " OR u.customer ILIKE ?7 ESCAPE '\\' OR r.search_text ILIKE ?7 ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM files x WHERE x.upload_seq = u.seq AND (x.sha256 = lower(?6) OR x.name ILIKE ?7 ESCAPE '\\')))");
    else if (f->q)
        ADD(" AND (u.id = ?6 OR u.note LIKE ?7 ESCAPE '\\' OR u.case_id LIKE ?7 ESCAPE '\\'"
            " OR u.customer LIKE ?7 ESCAPE '\\' OR r.search_text LIKE ?7 ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM files x WHERE x.upload_seq = u.seq AND (x.sha256 = lower(?6) OR x.name LIKE ?7 ESCAPE '\\')))");
    ADD(" ORDER BY u.seq DESC LIMIT ?8) ORDER BY u.seq DESC");
#undef ADD
    cJSON *out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    dt_stmt *st = dt_sql_prepare(s, sql, NULL);
    if (!st) {
        cJSON_AddNullToObject(out, "next_cursor");
        return out;
    }
    char *proc = f->process ? like_pattern(f->process) : NULL;
    char *q = !f->q ? NULL : indexed ? fts_phrase(f->q) : like_pattern(f->q);
    if (f->cursor > 0) dt_stmt_bind_int64(st, 1, f->cursor);
    if (f->status) dt_sql_bind_text(st, 2, f->status);
    if (f->signature) dt_sql_bind_text(st, 3, f->signature);
    if (f->process) dt_sql_bind_text(st, 4, proc);
    if (f->owner_token_id >= 0) dt_stmt_bind_int64(st, 5, f->owner_token_id);
    if (f->triage_state) dt_sql_bind_text(st, 9, f->triage_state);
    if (f->assignee) dt_sql_bind_text(st, 10, f->assignee);
    if (f->q) {
        dt_sql_bind_text(st, 6, f->q);
        dt_sql_bind_text(st, 7, q);
    }
    dt_stmt_bind_int64(st, 8, limit + 1);
    int count = 0;
    int64_t last = 0, more = 0;
    int64_t seqs[200];
    cJSON *files[200];
    while (dt_stmt_step(st) == DT_DB_ROW) {
        if (count == limit) {
            more = 1;
            break;
        }
        seqs[count] = last = dt_stmt_int64(st, 0);
        files[count] = cJSON_CreateArray();
        cJSON_AddItemToArray(items, upload_row_json_at(st, 1, files[count]));
        count++;
    }
    dt_stmt_finalize(st);
    free(proc);
    free(q);
    if (count > 0)
        attach_files(s, seqs, files, count);
    if (more) {
        char c[32];
        snprintf(c, sizeof c, "%lld", (long long)last);
        cJSON_AddStringToObject(out, "next_cursor", c);
    } else {
        cJSON_AddNullToObject(out, "next_cursor");
    }
    return out;
}

char *dt_store_report_text(dt_store *s, int64_t report_id)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT json FROM reports WHERE id = ?", NULL);
    char *text = NULL;
    if (st) {
        dt_stmt_bind_int64(st, 1, report_id);
        if (dt_stmt_step(st) == DT_DB_ROW) {
            const char *t = dt_stmt_text(st, 0);
            text = t ? strdup((const char *)t) : NULL;
        }
    }
    dt_stmt_finalize(st);
    /* Reports stored by an older analyzer are read in today's schema. */
    char *upgraded = dt_report_upgrade_text(text);
    if (upgraded) {
        free(text);
        text = upgraded;
    }
    return text;
}

cJSON *dt_store_thread_row(dt_store *s, int64_t report_id, int64_t thread_id)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT name, state, verdict, stuck, top_frame FROM threads"
                                         " WHERE report_id = ? AND thread_id = ?", NULL);
    cJSON *o = NULL;
    if (st) {
        dt_stmt_bind_int64(st, 1, report_id);
        dt_stmt_bind_int64(st, 2, thread_id);
        if (dt_stmt_step(st) == DT_DB_ROW) {
            o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "thread_id", (double)thread_id);
            cJSON_AddItemToObject(o, "name", dt_sql_column_json(st, 0));
            cJSON_AddItemToObject(o, "state", dt_sql_column_json(st, 1));
            cJSON_AddItemToObject(o, "verdict", dt_sql_column_json(st, 2));
            if (dt_stmt_is_null(st, 3))
                cJSON_AddNullToObject(o, "stuck");
            else
                cJSON_AddBoolToObject(o, "stuck", (int)dt_stmt_int64(st, 3));
            cJSON_AddItemToObject(o, "top_frame", dt_sql_column_json(st, 4));
        }
    }
    dt_stmt_finalize(st);
    return o;
}

int64_t dt_store_upload_reused_seq(dt_store *s, int64_t seq)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT o.seq FROM uploads u JOIN uploads o ON o.id = u.reused_from"
                                         " WHERE u.seq = ?", NULL);
    int64_t first = 0;
    if (st) {
        dt_stmt_bind_int64(st, 1, seq);
        if (dt_stmt_step(st) == DT_DB_ROW)
            first = dt_stmt_int64(st, 0);
    }
    dt_stmt_finalize(st);
    return first;
}

int dt_store_file_get(dt_store *s, int64_t seq, const char *role, dt_file_rec *out)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT role, sha256, size, kind, name, purged_at IS NOT NULL FROM files"
                                         " WHERE upload_seq = ? AND role = ? ORDER BY id LIMIT 1", NULL);
    int found = 0;
    if (st) {
        dt_stmt_bind_int64(st, 1, seq);
        dt_sql_bind_text(st, 2, role);
        if (dt_stmt_step(st) == DT_DB_ROW) {
            found = 1;
            dt_sql_column_copy(st, 0, out->role, sizeof out->role);
            dt_sql_column_copy(st, 1, out->sha256, sizeof out->sha256);
            out->size = (uint64_t)dt_stmt_int64(st, 2);
            dt_sql_column_copy(st, 3, out->kind, sizeof out->kind);
            dt_sql_column_copy(st, 4, out->name, sizeof out->name);
            out->purged = (int)dt_stmt_int64(st, 5);
        }
    }
    dt_stmt_finalize(st);
    return found;
}

int dt_store_blob_referenced(dt_store *s, const char *sha256)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT 1 FROM files WHERE sha256 = ? AND purged_at IS NULL LIMIT 1", NULL);
    int found = 1; /* on error, keep the blob */
    if (st) {
        dt_sql_bind_text(st, 1, sha256);
        found = dt_stmt_step(st) == DT_DB_ROW;
    }
    dt_stmt_finalize(st);
    return found;
}

typedef struct {
    int64_t seq;
    char shas[DT_MAX_UPLOAD_FILES * 4][65];
    size_t nsha;
} upload_delete_ctx;

static dt_status upload_delete_body(dt_store *s, void *ctx, dt_error *err)
{
    upload_delete_ctx *c = ctx;
    int64_t report_id = 0;
    c->nsha = 0; /* the body may run again (dt_sql_txn) */
    dt_stmt *st = dt_sql_prepare(s, "SELECT sha256 FROM files WHERE upload_seq = ? LIMIT 12", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->seq);
    while (dt_stmt_step(st) == DT_DB_ROW && c->nsha < 12)
        dt_sql_column_copy(st, 0, c->shas[c->nsha++], 65);
    dt_stmt_finalize(st);
    st = dt_sql_prepare(s, "SELECT report_id FROM uploads WHERE seq = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->seq);
    if (dt_stmt_step(st) == DT_DB_ROW)
        report_id = dt_stmt_int64(st, 0);
    dt_stmt_finalize(st);
    st = dt_sql_prepare(s, "DELETE FROM uploads WHERE seq = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->seq);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    if (rc != DT_DB_DONE)
        return dt_sql_fail(s, err, "cannot delete upload");
    if (report_id) {
        st = dt_sql_prepare(s, "DELETE FROM reports WHERE id = ?1 AND NOT EXISTS"
                               " (SELECT 1 FROM uploads WHERE report_id = ?1)", err);
        if (!st)
            return DT_ERR_IO;
        dt_stmt_bind_int64(st, 1, report_id);
        dt_stmt_step(st);
        dt_stmt_finalize(st);
    }
    return DT_OK;
}

dt_status dt_store_upload_delete(dt_store *s, int64_t seq, char ***orphans, size_t *norphans, dt_error *err)
{
    *orphans = NULL;
    *norphans = 0;
    upload_delete_ctx c = { .seq = seq };
    dt_status rc = dt_sql_txn(s, upload_delete_body, &c, err);
    if (rc != DT_OK)
        return rc;
    char **list = calloc(c.nsha ? c.nsha : 1, sizeof *list);
    for (size_t i = 0; list && i < c.nsha; i++)
        if (!dt_store_blob_referenced(s, c.shas[i]))
            list[(*norphans)++] = strdup(c.shas[i]);
    *orphans = list;
    return DT_OK;
}

static dt_status upload_reanalyze_body(dt_store *s, void *ctx, dt_error *err)
{
    int64_t seq = *(const int64_t *)ctx;
    dt_stmt *st = dt_sql_prepare(s, "SELECT 1 FROM jobs WHERE upload_seq = ? AND state IN ('queued','leased')", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, seq);
    bool busy = dt_stmt_step(st) == DT_DB_ROW;
    dt_stmt_finalize(st);
    if (busy)
        return DT_OK; /* already queued or running: nothing to add */
    st = dt_sql_prepare(s, "UPDATE uploads SET status = 'queued', error = NULL, reused_from = NULL,"
                           " updated_at = ?2 WHERE seq = ?1", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, seq);
    dt_stmt_bind_int64(st, 2, dt_now());
    dt_stmt_step(st);
    dt_stmt_finalize(st);
    st = dt_sql_prepare(s, "INSERT INTO jobs(upload_seq, state, created_at) VALUES (?, 'queued', ?)", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, seq);
    dt_stmt_bind_int64(st, 2, dt_now());
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    return rc == DT_DB_DONE ? DT_OK : dt_sql_fail(s, err, "cannot requeue");
}

dt_status dt_store_upload_reanalyze(dt_store *s, int64_t seq, dt_error *err)
{
    return dt_sql_txn(s, upload_reanalyze_body, &seq, err);
}

cJSON *dt_store_signatures(dt_store *s, int64_t owner_token_id)
{
    cJSON *out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    dt_stmt *st = dt_sql_prepare(s,
        "SELECT r.signature, COUNT(*), MIN(u.created_at), MAX(u.created_at)"
        " FROM uploads u JOIN reports r ON r.id = u.report_id"
        " WHERE r.signature IS NOT NULL AND r.signature <> '' AND (?1 < 0 OR u.owner_token_id = ?1)"
        " GROUP BY r.signature ORDER BY COUNT(*) DESC, MAX(u.created_at) DESC, r.signature LIMIT 1000", NULL);
    if (!st)
        return out;
    dt_stmt_bind_int64(st, 1, owner_token_id);
    while (dt_stmt_step(st) == DT_DB_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "signature", dt_sql_column_json(st, 0));
        cJSON_AddNumberToObject(o, "count", (int)dt_stmt_int64(st, 1));
        cJSON_AddItemToObject(o, "first_seen", iso_time(dt_stmt_int64(st, 2)));
        cJSON_AddItemToObject(o, "last_seen", iso_time(dt_stmt_int64(st, 3)));
        cJSON_AddItemToArray(items, o);
    }
    dt_stmt_finalize(st);
    return out;
}
