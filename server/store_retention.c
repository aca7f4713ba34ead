/*
 * store_retention.c — the store's side of retention (retention.c decides
 * when): finding uploads past an age, marking an upload's dump files purged,
 * and measuring what stored dumps take.
 *
 * A purged file keeps its row (hash, size, name: the report still says what
 * was analyzed); only rows not purged keep a blob alive, so a blob shared
 * with a newer upload (same content) stays until that one goes too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

int dt_store_retention_uploads(dt_store *s, int64_t before, int unpurged_only, int64_t *seqs, int max)
{
    const char *sql = unpurged_only
        ? "SELECT u.seq FROM uploads u WHERE u.created_at < ? AND u.status IN ('done', 'failed')"
          " AND EXISTS (SELECT 1 FROM files f WHERE f.upload_seq = u.seq AND f.purged_at IS NULL)"
          " ORDER BY u.created_at, u.seq LIMIT ?"
        : "SELECT seq FROM uploads WHERE created_at < ? ORDER BY created_at, seq LIMIT ?";
    dt_stmt *st = dt_sql_prepare(s, sql, NULL);
    int n = 0;
    if (!st)
        return 0;
    dt_stmt_bind_int64(st, 1, before);
    dt_stmt_bind_int64(st, 2, max);
    while (n < max && dt_stmt_step(st) == DT_DB_ROW)
        seqs[n++] = dt_stmt_int64(st, 0);
    dt_stmt_finalize(st);
    return n;
}

int64_t dt_store_dump_bytes(dt_store *s)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT COALESCE(SUM(size), 0) FROM (SELECT sha256, MAX(size) AS size"
                                         " FROM files WHERE purged_at IS NULL GROUP BY sha256) AS b", NULL);
    int64_t total = -1;
    if (st && dt_stmt_step(st) == DT_DB_ROW)
        total = dt_stmt_int64(st, 0);
    dt_stmt_finalize(st);
    return total;
}

int dt_store_upload_by_seq(dt_store *s, int64_t seq, char id[33], int64_t *created_at)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT id, created_at FROM uploads WHERE seq = ?", NULL);
    int found = 0;
    if (st) {
        dt_stmt_bind_int64(st, 1, seq);
        if (dt_stmt_step(st) == DT_DB_ROW) {
            found = 1;
            dt_sql_column_copy(st, 0, id, 33);
            *created_at = dt_stmt_int64(st, 1);
        }
    }
    dt_stmt_finalize(st);
    return found;
}

void dt_store_purge_free(dt_purge_result *r)
{
    for (size_t i = 0; i < r->norphans; i++)
        free(r->orphans[i]);
    free(r->orphans);
    r->orphans = NULL;
    r->norphans = 0;
}

typedef struct {
    int64_t seq, now;
    const char *reason;
    dt_purge_result *out;
    char shas[DT_MAX_UPLOAD_FILES * 4][65];
    size_t nsha;
} purge_ctx;

static dt_status purge_body(dt_store *s, void *ctx, dt_error *err)
{
    purge_ctx *c = ctx;
    dt_purge_result *out = c->out;
    c->nsha = 0; /* the body may run again (dt_sql_txn) */
    out->bytes = 0;
    out->files = 0;
    if (!dt_store_upload_by_seq(s, c->seq, out->upload_id, &out->created_at))
        return dt_error_set(err, DT_ERR_NOT_FOUND, "no upload %lld", (long long)c->seq);
    dt_stmt *st = dt_sql_prepare(s, "SELECT sha256, size FROM files WHERE upload_seq = ? AND purged_at IS NULL"
                                         " LIMIT 12", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->seq);
    while (c->nsha < sizeof c->shas / sizeof c->shas[0] && dt_stmt_step(st) == DT_DB_ROW) {
        dt_sql_column_copy(st, 0, c->shas[c->nsha++], 65);
        out->bytes += dt_stmt_int64(st, 1);
    }
    dt_stmt_finalize(st);
    /* Checked again inside the transaction: a reanalysis queued since the
     * candidates were listed needs the files. */
    st = dt_sql_prepare(s, "UPDATE files SET purged_at = ?1, purge_reason = ?2 WHERE upload_seq = ?3"
                           " AND purged_at IS NULL"
                           " AND (SELECT status FROM uploads WHERE seq = ?3) IN ('done', 'failed')", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->now);
    dt_sql_bind_text(st, 2, c->reason);
    dt_stmt_bind_int64(st, 3, c->seq);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    if (rc != DT_DB_DONE)
        return dt_sql_fail(s, err, "cannot purge files");
    out->files = dt_db_changes(s->db);
    if (out->files == 0)
        out->bytes = 0;
    return DT_OK;
}

dt_status dt_store_upload_purge_files(dt_store *s, int64_t seq, int64_t now, const char *reason,
                                      dt_purge_result *out, dt_error *err)
{
    memset(out, 0, sizeof *out);
    purge_ctx c = { .seq = seq, .now = now, .reason = reason, .out = out };
    dt_status rc = dt_sql_txn(s, purge_body, &c, err);
    if (rc != DT_OK)
        return rc;
    out->orphans = calloc(c.nsha ? c.nsha : 1, sizeof *out->orphans);
    for (size_t i = 0; out->orphans && i < c.nsha; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup |= strcmp(c.shas[i], c.shas[j]) == 0;
        if (!dup && !dt_store_blob_referenced(s, c.shas[i]))
            out->orphans[out->norphans++] = strdup(c.shas[i]);
    }
    return DT_OK;
}
